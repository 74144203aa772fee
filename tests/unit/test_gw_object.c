/* test_gw_object.c — the gateway's data-path rules that need no drives: how a write that missed
 * its quorum is answered. */
#include "gateway/gw_object.h"
#include "tests/unit/unit.h"

/* EC 4+2: six drives, a write quorum of four, so two refusals can be spared. */
TEST(test_quorum_error_is_enospc_when_full_drives_exceed_what_quorum_spares)
{
    int two_full[6] = {0, 0, 0, STORE_EIO, STORE_ENOSPC, STORE_ENOSPC};
    int three_full[6] = {0, 0, 0, STORE_ENOSPC, STORE_ENOSPC, STORE_ENOSPC};
    int all_full[6] = {STORE_ENOSPC, STORE_ENOSPC, STORE_ENOSPC, STORE_ENOSPC, STORE_ENOSPC, STORE_ENOSPC};
    int down[6] = {0, 0, 0, STORE_EUNREACHABLE, STORE_EIO, STORE_EUNREACHABLE};

    /* two full and one down: space alone would not have stopped the write, it may work later */
    CHECK_EQ_INT(gw_quorum_error(two_full, 6, 4), GW_EQUORUM);
    CHECK_EQ_INT(gw_quorum_error(three_full, 6, 4), GW_ENOSPC);
    CHECK_EQ_INT(gw_quorum_error(all_full, 6, 4), GW_ENOSPC);
    CHECK_EQ_INT(gw_quorum_error(down, 6, 4), GW_EQUORUM);
}

/* Cluster records (buckets, users) need a majority: of six drives four, so three full are too many. */
TEST(test_quorum_error_for_majority_writes)
{
    int three_full[6] = {0, 0, 0, STORE_ENOSPC, STORE_ENOSPC, STORE_ENOSPC};
    int two_full[6] = {0, 0, STORE_EIO, STORE_EIO, STORE_ENOSPC, STORE_ENOSPC};

    CHECK_EQ_INT(gw_quorum_error(three_full, 6, 4), GW_ENOSPC);
    CHECK_EQ_INT(gw_quorum_error(two_full, 6, 4), GW_EQUORUM);
    /* k = m = 2: a write quorum of three of four drives, one refusal spared */
    CHECK_EQ_INT(gw_quorum_error(two_full + 2, 4, 3), GW_ENOSPC);
}

int main(void)
{
    RUN(test_quorum_error_is_enospc_when_full_drives_exceed_what_quorum_spares);
    RUN(test_quorum_error_for_majority_writes);
    return unit_done();
}
