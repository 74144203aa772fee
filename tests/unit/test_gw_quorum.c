/* test_gw_quorum.c — the quorum core without drives or sockets: placement (gw_cluster_place), the
 * quorum sizes and write decisions, version resolution across drives, what goes to healing, the
 * newest state of cluster records and the part view of multipart uploads (gw_quorum.h).
 *
 * Drives are described by what they answered: a result code per drive, the versions each one
 * returned. Only the placement tests open a cluster (over temporary directories), to check what
 * an opened cluster places with.
 */
#include "gateway/gw_object.h"
#include "tests/unit/unit.h"
#include <ftw.h>
#include <stdlib.h>

/* The on-disk contract: "yuncang" in ASCII. */
#define SEED 0x79756e63616e67ULL

/* ---------------------------------------------------------------- helpers */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* Opens a cluster of ndrives local drives (k+m sets) under root, made by the caller. */
static int open_cluster(const char *root, size_t ndrives, uint32_t k, uint32_t m, gw_cluster_t **out)
{
    char paths[16][96];
    const char *specs[16];

    for (size_t i = 0; i < ndrives; i++) {
        snprintf(paths[i], sizeof(paths[i]), "%s/drive%zu", root, i + 1);
        specs[i] = paths[i];
    }
    gw_cluster_config_t cfg = {.drive_specs = specs,
                               .ndrives = ndrives,
                               .k = k,
                               .m = m,
                               .stripe_size = 1 << 20,
                               .inline_max = 128 * 1024,
                               .lane_threads = 1};
    return gw_cluster_open(&cfg, out);
}

/* A cluster of nsets sets of k+m with no drives behind it: placement reads nothing else. */
typedef struct {
    gw_set_t sets[4];
    gw_cluster_t c;
} layout_t;

static void layout_init(layout_t *l, size_t nsets, uint32_t k, uint32_t m)
{
    memset(l, 0, sizeof(*l));
    for (size_t s = 0; s < nsets; s++)
        l->sets[s] = (gw_set_t){.index = (uint32_t)s, .k = k, .m = m};
    l->c.sets = l->sets;
    l->c.nsets = nsets;
    l->c.placement_seed = SEED;
}

static meta_bytes_t mb(const char *s)
{
    return (meta_bytes_t){s, strlen(s)};
}

/* A version as a drive returns it: written at mtime, null version unless vid_byte, data id byte. */
static gw_version_t version(uint32_t drive, int64_t mtime, uint8_t vid_byte, uint8_t data_byte, uint32_t flags)
{
    gw_version_t v;
    memset(&v, 0, sizeof(v));
    v.mtime_ns = mtime;
    v.vid[0] = vid_byte;
    if (!(flags & META_OBJ_DELETE_MARKER)) {
        v.data_id[0] = data_byte;
        v.size = 4096;
        v.part_count = 1;
    }
    v.flags = flags;
    v.drive = drive;
    return v;
}

/* Results of n drives: the first ok succeed, the rest fail with err. */
static void results_of(int *results, size_t n, size_t ok, int err)
{
    for (size_t i = 0; i < n; i++)
        results[i] = i < ok ? 0 : err;
}

/* ---------------------------------------------------------------- placement */

/* An opened cluster places with the fixed seed: placement is part of what is on disk, so it must
 * not depend on the process, the run or the machine. */
TEST(test_placement_seed_is_fixed_when_cluster_opens)
{
    char root[64] = "/tmp/yc-quorum-test-XXXXXX";
    gw_cluster_t *c;

    CHECK(mkdtemp(root) != NULL);
    CHECK_EQ_INT(open_cluster(root, 6, 4, 2, &c), 0);
    CHECK(c->placement_seed == SEED);
    gw_cluster_close(c);
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The same key lands in the same set with the same distribution when asked again and when the
 * cluster is closed and opened again over the same drives. */
TEST(test_placement_is_stable_when_cluster_opened_twice)
{
    enum { KEYS = 2000 };
    static uint8_t first[KEYS][17];
    char root[64] = "/tmp/yc-quorum-test-XXXXXX", key[32];
    gw_cluster_t *c;

    CHECK(mkdtemp(root) != NULL);
    for (int round = 0; round < 2; round++) {
        CHECK_EQ_INT(open_cluster(root, 12, 4, 2, &c), 0);
        CHECK_EQ_INT(c->nsets, 2);
        for (int i = 0; i < KEYS; i++) {
            uint8_t dist[16], again[16];
            meta_bytes_t k = {key, (size_t)snprintf(key, sizeof(key), "dir/object-%d", i)};
            gw_set_t *set = gw_cluster_place(c, mb("stable:0000000000000001"), k, dist);
            CHECK(gw_cluster_place(c, mb("stable:0000000000000001"), k, again) == set);
            CHECK(memcmp(dist, again, 16) == 0);
            if (round == 0) {
                first[i][0] = (uint8_t)set->index;
                memcpy(first[i] + 1, dist, 16);
            } else {
                CHECK_EQ_INT(set->index, first[i][0]);
                CHECK(memcmp(dist, first[i] + 1, 16) == 0);
            }
        }
        gw_cluster_close(c);
    }
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Placements recorded once stay what they were in every process and every build: a change of
 * hash, seed or rotation would strand every stored object. */
TEST(test_placement_matches_recorded_values_when_computed_anew)
{
    static const struct {
        const char *key;
        uint32_t set, rotation;
    } recorded[] = {
        {"photos/2026/cat.jpg", 0, 2}, {"a", 2, 0}, {"index.html", 1, 2}, {"logs/app.log", 1, 4}, {"x/y/z", 0, 2},
    };
    layout_t l;

    layout_init(&l, 3, 4, 2);
    for (size_t i = 0; i < sizeof(recorded) / sizeof(recorded[0]); i++) {
        uint8_t dist[16];
        gw_set_t *set = gw_cluster_place(&l.c, mb("media:00000000000000a1"), mb(recorded[i].key), dist);
        CHECK_EQ_INT(set->index, recorded[i].set);
        for (uint32_t s = 0; s < 6; s++)
            CHECK_EQ_INT(dist[s], (s + recorded[i].rotation) % 6);
        for (uint32_t s = 6; s < 16; s++)
            CHECK_EQ_INT(dist[s], 0);
    }
}

/* Over many keys every slot of a set holds parity (the last m shards) about equally often, for
 * every geometry from 2+1 to 12+4, and keys spread evenly over the sets. */
TEST(test_placement_spreads_parity_when_many_keys)
{
    enum { KEYS = 24000 };
    char key[32];
    layout_t l;

    for (uint32_t k = 2; k <= 12; k++) {
        for (uint32_t m = 1; m <= 4 && k + m <= 16; m++) {
            uint32_t width = k + m, parity[16] = {0}, per_set[3] = {0};
            layout_init(&l, 3, k, m);
            for (int i = 0; i < KEYS; i++) {
                uint8_t dist[16], seen[16] = {0};
                meta_bytes_t kb = {key, (size_t)snprintf(key, sizeof(key), "spread/%d.bin", i)};
                gw_set_t *set = gw_cluster_place(&l.c, mb("spread:0000000000000002"), kb, dist);
                per_set[set->index]++;
                for (uint32_t s = 0; s < width; s++) {
                    CHECK(dist[s] < width);
                    CHECK(!seen[dist[s]]); /* a permutation of the slots */
                    seen[dist[s]] = 1;
                }
                for (uint32_t s = k; s < width; s++)
                    parity[dist[s]]++;
            }
            double expect = (double)KEYS * m / width;
            for (uint32_t s = 0; s < width; s++) {
                if (parity[s] < expect * 0.93 || parity[s] > expect * 1.07)
                    fprintf(stderr, "  %u+%u: slot %u holds parity %u times, expected about %.0f\n", k, m, s, parity[s],
                            expect);
                CHECK(parity[s] >= expect * 0.93 && parity[s] <= expect * 1.07);
            }
            for (int s = 0; s < 3; s++)
                CHECK(per_set[s] >= KEYS / 3 * 0.95 && per_set[s] <= KEYS / 3 * 1.05);
        }
    }
}

/* ---------------------------------------------------------------- quorum sizes */

/* k drives acknowledge a write when k > m, k+1 when k == m, a majority when k < m: any two write
 * quorums of a set share a drive, and each holds enough shards to decode, for every geometry. */
TEST(test_write_quorum_is_k_or_a_majority_when_any_geometry)
{
    for (uint32_t k = 1; k <= 15; k++) {
        for (uint32_t m = 1; k + m <= 16; m++) {
            uint32_t q = gw_quorum_write(k, m);
            CHECK_EQ_INT(q, k > m ? k : (k + m) / 2 + 1);
            CHECK(2 * q > k + m);
            CHECK(q >= k);
            CHECK(q <= k + m);
        }
    }
    CHECK_EQ_INT(gw_quorum_write(4, 2), 4);
    CHECK_EQ_INT(gw_quorum_write(12, 4), 12);
    CHECK_EQ_INT(gw_quorum_write(2, 2), 3);
    CHECK_EQ_INT(gw_quorum_write(4, 4), 5);
    CHECK_EQ_INT(gw_quorum_write(2, 3), 3); /* not 2: {0,1} and {2,3} could both accept */
    CHECK_EQ_INT(gw_quorum_write(1, 2), 2);
}

/* A write is acknowledged with exactly its quorum of drives and refused (503) one drive short, for
 * every geometry from 2+1 to 12+4. */
TEST(test_write_quorum_met_when_quorum_drives_succeed_and_unmet_one_short)
{
    int results[16];

    for (uint32_t k = 2; k <= 12; k++) {
        for (uint32_t m = 1; m <= 4 && k + m <= 16; m++) {
            uint32_t width = k + m, q = gw_quorum_write(k, m);
            results_of(results, width, q, STORE_EUNREACHABLE);
            CHECK_EQ_INT(gw_quorum_write_result(results, width, q), 0);
            results_of(results, width, width, 0);
            CHECK_EQ_INT(gw_quorum_write_result(results, width, q), 0);
            results_of(results, width, q - 1, STORE_EIO);
            CHECK_EQ_INT(gw_quorum_write_result(results, width, q), GW_EQUORUM);
            results_of(results, width, 0, STORE_EUNREACHABLE);
            CHECK_EQ_INT(gw_quorum_write_result(results, width, q), GW_EQUORUM);
        }
    }
}

/* k == m: k drives are not enough (2+2 needs 3, 3+3 needs 4, 4+4 needs 5). */
TEST(test_write_quorum_unmet_when_k_equals_m_and_only_k_succeed)
{
    int results[16];

    for (uint32_t k = 1; k <= 8; k++) {
        results_of(results, 2 * k, k, STORE_EUNREACHABLE);
        CHECK_EQ_INT(gw_quorum_write_result(results, 2 * k, gw_quorum_write(k, k)), GW_EQUORUM);
        results_of(results, 2 * k, k + 1, STORE_EUNREACHABLE);
        CHECK_EQ_INT(gw_quorum_write_result(results, 2 * k, gw_quorum_write(k, k)), 0);
    }
}

/* The read quorum is the smallest set of drives that meets every write quorum. */
TEST(test_read_quorum_meets_every_write_quorum_when_any_geometry)
{
    for (uint32_t k = 1; k <= 12; k++) {
        for (uint32_t m = 1; m <= 8 && k + m <= 16; m++) {
            uint32_t r = gw_quorum_read(k, m), w = gw_quorum_write(k, m);
            CHECK(r + w > k + m);      /* meets every write quorum */
            CHECK(r - 1 + w <= k + m); /* one less could miss one */
            CHECK(r >= 1);
        }
    }
    CHECK_EQ_INT(gw_quorum_read(4, 2), 3);
    CHECK_EQ_INT(gw_quorum_read(2, 2), 2);
    CHECK_EQ_INT(gw_quorum_read(12, 4), 5);
}

/* Cluster records and namespace locks take a majority: two majorities always share a drive, and
 * one less than a majority does not have to. */
TEST(test_majority_overlaps_when_any_number_of_drives)
{
    for (size_t n = 1; n <= 64; n++) {
        size_t q = gw_quorum_majority(n);
        CHECK(2 * q > n);
        CHECK(2 * (q - 1) <= n);
    }
    CHECK_EQ_INT(gw_quorum_majority(6), 4);
    CHECK_EQ_INT(gw_quorum_majority(7), 4);
}

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
    /* the same through the decision a write takes */
    CHECK_EQ_INT(gw_quorum_write_result(three_full, 6, 4), GW_ENOSPC);
    CHECK_EQ_INT(gw_quorum_write_result(two_full, 6, 4), GW_EQUORUM);
}

/* Cluster records (buckets, users) need a majority: of six drives four, so three full are too many. */
TEST(test_quorum_error_is_enospc_when_majority_writes_meet_full_drives)
{
    int three_full[6] = {0, 0, 0, STORE_ENOSPC, STORE_ENOSPC, STORE_ENOSPC};
    int two_full[6] = {0, 0, STORE_EIO, STORE_EIO, STORE_ENOSPC, STORE_ENOSPC};

    CHECK_EQ_INT(gw_quorum_error(three_full, 6, 4), GW_ENOSPC);
    CHECK_EQ_INT(gw_quorum_error(two_full, 6, 4), GW_EQUORUM);
    /* k = m = 2: a write quorum of three of four drives, one refusal spared */
    CHECK_EQ_INT(gw_quorum_error(two_full + 2, 4, 3), GW_ENOSPC);
}

/* ---------------------------------------------------------------- object record writes */

/* A drive holding a newer version absorbs an older write (STORE_ESTALE): it counts toward the
 * acknowledgement (last writer wins) but nothing is pruned unless a quorum holds the write itself. */
TEST(test_commit_acknowledged_without_prune_when_drives_absorbed_it)
{
    int absorbed[6] = {STORE_ESTALE, STORE_ESTALE, STORE_ESTALE, STORE_ESTALE, 0, 0};
    int all_absorbed[6] = {STORE_ESTALE, STORE_ESTALE, STORE_ESTALE, STORE_ESTALE, STORE_ESTALE, STORE_ESTALE};
    int prune = -1, heal = -1;

    CHECK_EQ_INT(gw_quorum_commit(absorbed, 6, 4, &prune, &heal), 0);
    CHECK_EQ_INT(prune, 0);
    CHECK_EQ_INT(heal, 0);
    CHECK_EQ_INT(gw_quorum_commit(all_absorbed, 6, 4, &prune, &heal), 0);
    CHECK_EQ_INT(prune, 0);
}

/* Held by a quorum itself: older null versions may go. */
TEST(test_commit_prunes_when_quorum_holds_the_write)
{
    int held[6] = {0, 0, 0, 0, STORE_ESTALE, STORE_ESTALE};
    int prune = -1, heal = -1;

    CHECK_EQ_INT(gw_quorum_commit(held, 6, 4, &prune, &heal), 0);
    CHECK_EQ_INT(prune, 1);
    CHECK_EQ_INT(heal, 0);
}

/* Acknowledged but missed by a drive: the key goes to the healer. Short of the quorum: 503, or
 * 507 when too many drives are full; nothing pruned, nothing queued. */
TEST(test_commit_queues_heal_when_a_drive_missed_it)
{
    int missed[6] = {0, 0, 0, 0, 0, STORE_EUNREACHABLE};
    int short_of_quorum[6] = {0, 0, STORE_ESTALE, STORE_EIO, STORE_EIO, STORE_EIO};
    int full[6] = {0, 0, 0, STORE_ENOSPC, STORE_ENOSPC, STORE_ENOSPC};
    int prune = -1, heal = -1;

    CHECK_EQ_INT(gw_quorum_commit(missed, 6, 4, &prune, &heal), 0);
    CHECK_EQ_INT(prune, 1);
    CHECK_EQ_INT(heal, 1);
    CHECK_EQ_INT(gw_quorum_commit(short_of_quorum, 6, 4, &prune, &heal), GW_EQUORUM);
    CHECK_EQ_INT(prune, 0);
    CHECK_EQ_INT(heal, 0);
    CHECK_EQ_INT(gw_quorum_commit(full, 6, 4, &prune, &heal), GW_ENOSPC);
}

/* ---------------------------------------------------------------- version resolution */

/* A drive that missed the last write still returns the version before it: the newer one, held by
 * k drives, is visible. */
TEST(test_resolve_newest_wins_when_a_drive_is_stale)
{
    /* 4+2: V2 (t=200) on drives 0-4, drive 5 missed it and holds V1 (t=100) */
    gw_version_t v[6];
    size_t chosen;

    for (uint32_t d = 0; d < 5; d++)
        v[d] = version(d, 200, 0, 2, 0);
    v[5] = version(5, 100, 0, 1, 0);
    CHECK_EQ_INT(gw_quorum_resolve(v, 6, 4, 0, &chosen), 0);
    CHECK_EQ_INT(v[chosen].mtime_ns, 200);
}

/* Before the prune, drives hold the new version beside the old one: both count, the newer wins;
 * and while the new one has reached fewer than k drives the old one stays visible. */
TEST(test_resolve_newest_wins_when_drives_still_hold_the_replaced_version)
{
    gw_version_t v[12];
    size_t n = 0, chosen;

    for (uint32_t d = 0; d < 6; d++) {
        v[n++] = version(d, 100, 0, 1, 0);
        if (d < 4)
            v[n++] = version(d, 200, 0, 2, 0);
    }
    CHECK_EQ_INT(gw_quorum_resolve(v, n, 4, 0, &chosen), 0);
    CHECK_EQ_INT(v[chosen].mtime_ns, 200);
    /* in flight: the new version on three drives only */
    n = 0;
    for (uint32_t d = 0; d < 6; d++) {
        v[n++] = version(d, 100, 0, 1, 0);
        if (d < 3)
            v[n++] = version(d, 200, 0, 2, 0);
    }
    CHECK_EQ_INT(gw_quorum_resolve(v, n, 4, 0, &chosen), 0);
    CHECK_EQ_INT(v[chosen].mtime_ns, 100);
}

/* Read after write with drives out of reach: V2 was acknowledged by four drives, two of which do
 * not answer now; the two that do still hold V1 beside it (not pruned yet), and the two that
 * missed V2 hold V1. V1 has four holders, V2 two: answering V1 would be stale, so "retry". With
 * every drive answering, a V2 held by two only is a failed write and V1 is the answer. */
TEST(test_resolve_says_retry_when_silent_drives_could_hold_a_newer_acknowledged_version)
{
    gw_version_t v[12];
    size_t n = 0, chosen;

    for (uint32_t d = 2; d < 6; d++) {
        v[n++] = version(d, 100, 0, 1, 0);
        if (d < 4)
            v[n++] = version(d, 200, 0, 2, 0);
    }
    CHECK_EQ_INT(gw_quorum_resolve(v, n, 4, 2, &chosen), GW_EQUORUM);
    CHECK_EQ_INT(gw_quorum_resolve(v, n, 4, 0, &chosen), 0);
    CHECK_EQ_INT(v[chosen].mtime_ns, 100);
    /* one drive silent: V2's two holders and it cannot make four, V1 is the answer */
    CHECK_EQ_INT(gw_quorum_resolve(v, n, 4, 1, &chosen), 0);
    CHECK_EQ_INT(v[chosen].mtime_ns, 100);
}

/* An older write that came last (a slower clock) was absorbed by the drives holding the newer
 * version (STORE_ESTALE: acknowledged, not stored) and stored only by drives that had missed the
 * newer one: the newer version stays the visible one. */
TEST(test_resolve_newest_wins_when_drives_absorbed_an_older_write)
{
    int commit[6] = {STORE_ESTALE, STORE_ESTALE, STORE_ESTALE, STORE_ESTALE, 0, 0};
    gw_version_t v[6];
    size_t chosen;
    int prune, heal;

    CHECK_EQ_INT(gw_quorum_commit(commit, 6, 4, &prune, &heal), 0); /* the older write is acknowledged */
    for (uint32_t d = 0; d < 4; d++)
        v[d] = version(d, 200, 0, 2, 0); /* the newer write, on the drives that absorbed the older */
    v[4] = version(4, 150, 0, 3, 0);     /* the older write, where the newer one had not arrived */
    v[5] = version(5, 150, 0, 3, 0);
    CHECK_EQ_INT(gw_quorum_resolve(v, 6, 4, 0, &chosen), 0);
    CHECK_EQ_INT(v[chosen].mtime_ns, 200);
    CHECK_EQ_INT(v[chosen].data_id[0], 2);
}

/* A version held by fewer than k drives (a write that failed its quorum) is invisible; with every
 * drive answered and no version held by k, the key is absent. */
TEST(test_resolve_hides_version_when_fewer_than_k_hold_it)
{
    gw_version_t v[6];
    size_t chosen = 99;

    for (uint32_t d = 0; d < 3; d++)
        v[d] = version(d, 300, 0, 3, 0);
    CHECK_EQ_INT(gw_quorum_resolve(v, 3, 4, 0, &chosen), GW_ENOENT);
    CHECK_EQ_INT(chosen, 99);
    CHECK_EQ_INT(gw_quorum_resolve(v, 0, 4, 0, &chosen), GW_ENOENT);
}

/* When the drives that did not answer could hold what was acknowledged (holders + silent >= k),
 * the answer is "retry" (503), not "absent". */
TEST(test_resolve_retries_when_silent_drives_could_make_up_k)
{
    gw_version_t v[6];
    size_t chosen;

    /* 4+2: two drives answered with the version, two were silent, two answered without it */
    v[0] = version(0, 100, 0, 1, 0);
    v[1] = version(1, 100, 0, 1, 0);
    CHECK_EQ_INT(gw_quorum_resolve(v, 2, 4, 2, &chosen), GW_EQUORUM);
    /* one holder and two silent cannot make four: absent */
    CHECK_EQ_INT(gw_quorum_resolve(v, 1, 4, 2, &chosen), GW_ENOENT);
    /* nobody answered with anything, four silent: they might hold it */
    CHECK_EQ_INT(gw_quorum_resolve(v, 0, 4, 4, &chosen), GW_EQUORUM);
    CHECK_EQ_INT(gw_quorum_resolve(v, 0, 4, 3, &chosen), GW_ENOENT);
}

/* Two writes of the same key at the same instant are ordered by version id, on every reader. */
TEST(test_resolve_orders_by_version_id_when_mtimes_are_equal)
{
    gw_version_t v[12];
    size_t n = 0, chosen;

    for (uint32_t d = 0; d < 6; d++) {
        v[n++] = version(d, 100, 7, 1, 0);
        v[n++] = version(d, 100, 9, 2, 0);
    }
    CHECK_EQ_INT(gw_quorum_resolve(v, n, 4, 0, &chosen), 0);
    CHECK_EQ_INT(v[chosen].vid[0], 9);
}

/* Records that agree on time and version id but not on data (two writers of one null version in
 * the same nanosecond) are different versions: neither borrows the other's holders. */
TEST(test_resolve_keeps_versions_apart_when_data_ids_differ)
{
    gw_version_t v[6];
    size_t chosen;

    for (uint32_t d = 0; d < 6; d++)
        v[d] = version(d, 100, 0, d < 3 ? 1 : 2, 0);
    CHECK_EQ_INT(gw_quorum_resolve(v, 6, 4, 0, &chosen), GW_ENOENT);
}

/* A delete marker is a version: a newer one hides the older object. */
TEST(test_resolve_marker_hides_version_when_marker_is_newer)
{
    gw_version_t v[12];
    size_t n = 0, chosen;

    for (uint32_t d = 0; d < 6; d++) {
        v[n++] = version(d, 100, 1, 1, 0);
        v[n++] = version(d, 200, 2, 0, META_OBJ_DELETE_MARKER);
    }
    CHECK_EQ_INT(gw_quorum_resolve(v, n, 4, 0, &chosen), 0);
    CHECK(v[chosen].flags & META_OBJ_DELETE_MARKER);
}

/* An older delete marker does not hide a version written after it. */
TEST(test_resolve_version_shows_when_marker_is_older)
{
    gw_version_t v[12];
    size_t n = 0, chosen;

    for (uint32_t d = 0; d < 6; d++) {
        v[n++] = version(d, 100, 1, 0, META_OBJ_DELETE_MARKER);
        v[n++] = version(d, 200, 2, 5, 0);
    }
    CHECK_EQ_INT(gw_quorum_resolve(v, n, 4, 0, &chosen), 0);
    CHECK_EQ_INT(v[chosen].flags, 0);
    CHECK_EQ_INT(v[chosen].mtime_ns, 200);
    /* a marker written by a failed delete (on three drives) hides nothing */
    n = 0;
    for (uint32_t d = 0; d < 6; d++) {
        v[n++] = version(d, 100, 1, 4, 0);
        if (d < 3)
            v[n++] = version(d, 200, 2, 0, META_OBJ_DELETE_MARKER);
    }
    CHECK_EQ_INT(gw_quorum_resolve(v, n, 4, 0, &chosen), 0);
    CHECK_EQ_INT(v[chosen].flags, 0);
}

/* The identity is read from a decoded record: time, version id, first part's data id, flags,
 * size and part count; the drive it came from is not part of it. */
TEST(test_version_identity_when_taken_from_a_record)
{
    meta_buf_t parts = {0};
    meta_part_ref_t p1 = {.number = 1, .size = 10}, p2 = {.number = 2, .size = 20};
    gw_version_t a, b;

    memset(p1.data_id, 0xa1, META_ID_LEN);
    memset(p2.data_id, 0xb2, META_ID_LEN);
    CHECK_EQ_INT(meta_parts_append(&parts, &p1), 0);
    CHECK_EQ_INT(meta_parts_append(&parts, &p2), 0);
    meta_object_t r = {.mtime_ns = 123, .size = 30, .parts = {(const char *)parts.base, parts.len}, .part_count = 2};
    r.vid[3] = 4;
    gw_version_of(&r, 2, &a);
    gw_version_of(&r, 5, &b);
    meta_buf_dispose(&parts);
    CHECK_EQ_INT(a.mtime_ns, 123);
    CHECK_EQ_INT(a.vid[3], 4);
    CHECK_EQ_INT(a.data_id[0], 0xa1);
    CHECK_EQ_INT(a.size, 30);
    CHECK_EQ_INT(a.part_count, 2);
    CHECK_EQ_INT(a.drive, 2);
    CHECK(gw_version_same(&a, &b));
    b.size = 31;
    CHECK(!gw_version_same(&a, &b));
    /* a delete marker has no parts: a zero data id */
    meta_object_t marker = {.mtime_ns = 5, .flags = META_OBJ_DELETE_MARKER};
    gw_version_of(&marker, 0, &a);
    for (int i = 0; i < META_ID_LEN; i++)
        CHECK_EQ_INT(a.data_id[i], 0);
}

/* The drives holding the chosen version, and which of their versions it is. */
TEST(test_holders_are_the_drives_with_the_chosen_version_when_drives_disagree)
{
    gw_version_t v[8];
    size_t held[6], n = 0, chosen;

    v[n++] = version(0, 200, 0, 2, 0);
    v[n++] = version(0, 100, 0, 1, 0);
    v[n++] = version(1, 200, 0, 2, 0);
    v[n++] = version(2, 100, 0, 1, 0); /* missed the newer write */
    v[n++] = version(3, 200, 0, 2, 0);
    v[n++] = version(5, 200, 0, 2, 0); /* drive 4 did not answer */
    CHECK_EQ_INT(gw_quorum_resolve(v, n, 4, 1, &chosen), 0);
    gw_quorum_holders(v, n, chosen, held, 6);
    CHECK_EQ_INT(held[0], 0);
    CHECK_EQ_INT(held[1], 2);
    CHECK(held[2] == SIZE_MAX);
    CHECK_EQ_INT(held[3], 4);
    CHECK(held[4] == SIZE_MAX);
    CHECK_EQ_INT(held[5], 5);
}

/* ---------------------------------------------------------------- healing */

/* Drives that answered without the chosen version get it. */
TEST(test_heal_plan_needs_drives_when_they_lack_the_version)
{
    int found[6] = {0, 0, 0, 0, 0, 0};
    uint8_t agree[6] = {1, 1, 0, 1, 1, 0}, need[6], pending[6];

    CHECK_EQ_INT(gw_quorum_heal_plan(found, agree, 6, need, pending), 2);
    for (int s = 0; s < 6; s++) {
        CHECK_EQ_INT(need[s], !agree[s]);
        CHECK_EQ_INT(pending[s], 0);
    }
}

/* Drives that did not answer are not written to: they wait for a later try. */
TEST(test_heal_plan_waits_for_drives_when_they_did_not_answer)
{
    int found[6] = {0, STORE_EUNREACHABLE, 0, STORE_EIO, 0, 0};
    uint8_t agree[6] = {1, 0, 1, 0, 1, 0}, need[6], pending[6];

    CHECK_EQ_INT(gw_quorum_heal_plan(found, agree, 6, need, pending), 3);
    CHECK_EQ_INT(pending[1], 1);
    CHECK_EQ_INT(pending[3], 1);
    CHECK_EQ_INT(need[1], 0);
    CHECK_EQ_INT(need[3], 0);
    CHECK_EQ_INT(need[5], 1);
    CHECK_EQ_INT(pending[5], 0);
}

/* Nothing to queue when every drive holds the version. */
TEST(test_heal_plan_is_empty_when_all_agree)
{
    int found[16] = {0};
    uint8_t agree[16], need[16], pending[16];

    memset(agree, 1, sizeof(agree));
    CHECK_EQ_INT(gw_quorum_heal_plan(found, agree, 16, need, pending), 0);
    for (int s = 0; s < 16; s++)
        CHECK(!need[s] && !pending[s]);
}

/* ---------------------------------------------------------------- cluster records */

/* A bucket record replaced in place: each state carries its time; a majority of answers always
 * includes the last acknowledged one. */
static int newer_state(const void *a, size_t alen, const void *b, size_t blen)
{
    return *(const int *)a > *(const int *)b;
}

/* The newest state among a majority's answers wins, whichever drive gave it. */
TEST(test_newest_state_wins_when_majority_answers)
{
    int states[6] = {1, 3, 2, 3, 1, 0};
    const void *vals[6];
    size_t lens[6], chosen = SIZE_MAX;
    int results[6] = {0, 0, 0, 0, STORE_EUNREACHABLE, STORE_EUNREACHABLE};

    for (int i = 0; i < 6; i++) {
        vals[i] = &states[i];
        lens[i] = sizeof(int);
    }
    CHECK_EQ_INT(gw_quorum_newest(results, vals, lens, 6, 4, newer_state, &chosen), 0);
    CHECK_EQ_INT(chosen, 1);
    /* without an order: the first found */
    CHECK_EQ_INT(gw_quorum_newest(results, vals, lens, 6, 4, NULL, &chosen), 0);
    CHECK_EQ_INT(chosen, 0);
}

/* A record a majority does not hold is absent, even while a minority (a drive that was down during
 * the delete) still holds it; without a majority of answers at all: retry. */
TEST(test_newest_is_absent_when_majority_answers_without_it_and_retry_when_silent)
{
    int states[6] = {5, 5, 0, 0, 0, 0};
    const void *vals[6];
    size_t lens[6], chosen = SIZE_MAX;
    int minority[6] = {0, 0, STORE_ENOENT, STORE_ENOENT, STORE_ENOENT, STORE_EIO};
    int silent[6] = {0, 0, STORE_ENOENT, STORE_EUNREACHABLE, STORE_EUNREACHABLE, STORE_EIO};

    for (int i = 0; i < 6; i++) {
        vals[i] = &states[i];
        lens[i] = sizeof(int);
    }
    CHECK_EQ_INT(gw_quorum_newest(minority, vals, lens, 6, 4, newer_state, &chosen), GW_ENOENT);
    CHECK_EQ_INT(gw_quorum_newest(silent, vals, lens, 6, 4, newer_state, &chosen), GW_EQUORUM);
    CHECK(chosen == SIZE_MAX);
}

/* ---------------------------------------------------------------- multipart parts */

#define MAX_PARTS 16

static meta_part_t part(uint32_t number, int64_t mtime, uint8_t data_byte)
{
    meta_part_t p;
    memset(&p, 0, sizeof(p));
    p.number = number;
    p.mtime_ns = mtime;
    p.data_id[0] = data_byte;
    p.size = 5 << 20;
    return p;
}

typedef struct {
    meta_part_t recs[6][4];
    meta_part_t *ptrs[6];
    size_t n[6];
    int results[6];
    gw_part_view_t views[MAX_PARTS + 1];
} parts_t;

static void parts_init(parts_t *p)
{
    memset(p, 0, sizeof(*p));
    for (int s = 0; s < 6; s++)
        p->ptrs[s] = p->recs[s];
}

static void parts_add(parts_t *p, uint32_t slot, meta_part_t rec)
{
    p->recs[slot][p->n[slot]++] = rec;
}

/* 4+2: a part record on a read quorum (three drives) is visible, with the drives that hold it;
 * one on two drives (an upload that failed its quorum) is not. */
TEST(test_parts_visible_when_read_quorum_holds_them)
{
    parts_t p;

    parts_init(&p);
    for (uint32_t s = 0; s < 3; s++)
        parts_add(&p, s, part(1, 100, 1));
    for (uint32_t s = 3; s < 5; s++)
        parts_add(&p, s, part(2, 100, 2));
    CHECK_EQ_INT(gw_quorum_parts(p.ptrs, p.n, p.results, 6, gw_quorum_read(4, 2), MAX_PARTS, p.views), 1);
    CHECK_EQ_INT(p.views[1].holders, 3);
    CHECK(p.views[1].slots[0] && p.views[1].slots[1] && p.views[1].slots[2] && !p.views[1].slots[3]);
    CHECK_EQ_INT(p.views[2].holders, 0);
}

/* A part uploaded again: the later upload wins, and only its holders count; equal clocks are
 * broken by the data id, never by mixing the holders of two uploads. */
TEST(test_parts_newest_upload_wins_when_a_number_is_uploaded_again)
{
    parts_t p;

    parts_init(&p);
    for (uint32_t s = 0; s < 6; s++)
        parts_add(&p, s, part(1, 100, 1));
    for (uint32_t s = 2; s < 6; s++)
        parts_add(&p, s, part(1, 200, 9));
    CHECK_EQ_INT(gw_quorum_parts(p.ptrs, p.n, p.results, 6, 3, MAX_PARTS, p.views), 1);
    CHECK_EQ_INT(p.views[1].rec.data_id[0], 9);
    CHECK_EQ_INT(p.views[1].holders, 4);
    CHECK(!p.views[1].slots[0] && !p.views[1].slots[1] && p.views[1].slots[2]);

    /* same instant, two uploads on two drives each: neither reaches three */
    parts_init(&p);
    parts_add(&p, 0, part(3, 100, 1));
    parts_add(&p, 1, part(3, 100, 1));
    parts_add(&p, 2, part(3, 100, 2));
    parts_add(&p, 3, part(3, 100, 2));
    CHECK_EQ_INT(gw_quorum_parts(p.ptrs, p.n, p.results, 6, 3, MAX_PARTS, p.views), 0);
    CHECK_EQ_INT(p.views[3].holders, 0);
}

/* Too few drives answered the scan: the parts cannot be known (503). */
TEST(test_parts_retry_when_fewer_than_read_quorum_answered)
{
    parts_t p;

    parts_init(&p);
    for (uint32_t s = 0; s < 2; s++)
        parts_add(&p, s, part(1, 100, 1));
    results_of(p.results, 6, 2, STORE_EUNREACHABLE);
    CHECK_EQ_INT(gw_quorum_parts(p.ptrs, p.n, p.results, 6, 3, MAX_PARTS, p.views), GW_EQUORUM);
}

int main(void)
{
    RUN(test_placement_seed_is_fixed_when_cluster_opens);
    RUN(test_placement_is_stable_when_cluster_opened_twice);
    RUN(test_placement_matches_recorded_values_when_computed_anew);
    RUN(test_placement_spreads_parity_when_many_keys);
    RUN(test_write_quorum_is_k_or_a_majority_when_any_geometry);
    RUN(test_write_quorum_met_when_quorum_drives_succeed_and_unmet_one_short);
    RUN(test_write_quorum_unmet_when_k_equals_m_and_only_k_succeed);
    RUN(test_read_quorum_meets_every_write_quorum_when_any_geometry);
    RUN(test_majority_overlaps_when_any_number_of_drives);
    RUN(test_quorum_error_is_enospc_when_full_drives_exceed_what_quorum_spares);
    RUN(test_quorum_error_is_enospc_when_majority_writes_meet_full_drives);
    RUN(test_commit_acknowledged_without_prune_when_drives_absorbed_it);
    RUN(test_commit_prunes_when_quorum_holds_the_write);
    RUN(test_commit_queues_heal_when_a_drive_missed_it);
    RUN(test_resolve_newest_wins_when_a_drive_is_stale);
    RUN(test_resolve_newest_wins_when_drives_still_hold_the_replaced_version);
    RUN(test_resolve_says_retry_when_silent_drives_could_hold_a_newer_acknowledged_version);
    RUN(test_resolve_newest_wins_when_drives_absorbed_an_older_write);
    RUN(test_resolve_hides_version_when_fewer_than_k_hold_it);
    RUN(test_resolve_retries_when_silent_drives_could_make_up_k);
    RUN(test_resolve_orders_by_version_id_when_mtimes_are_equal);
    RUN(test_resolve_keeps_versions_apart_when_data_ids_differ);
    RUN(test_resolve_marker_hides_version_when_marker_is_newer);
    RUN(test_resolve_version_shows_when_marker_is_older);
    RUN(test_version_identity_when_taken_from_a_record);
    RUN(test_holders_are_the_drives_with_the_chosen_version_when_drives_disagree);
    RUN(test_heal_plan_needs_drives_when_they_lack_the_version);
    RUN(test_heal_plan_waits_for_drives_when_they_did_not_answer);
    RUN(test_heal_plan_is_empty_when_all_agree);
    RUN(test_newest_state_wins_when_majority_answers);
    RUN(test_newest_is_absent_when_majority_answers_without_it_and_retry_when_silent);
    RUN(test_parts_visible_when_read_quorum_holds_them);
    RUN(test_parts_newest_upload_wins_when_a_number_is_uploaded_again);
    RUN(test_parts_retry_when_fewer_than_read_quorum_answered);
    return unit_done();
}
