/* test_gw_bucket_config.c — bucket configuration records over six real drives in this process:
 * the newest state wins, a removal is a state, another incarnation's record is no configuration,
 * a drive that missed a write is outvoted, and the sweep of a dead incarnation removes its
 * records and only its. */
#include "gateway/gw_bucket_config.h"
#include "gateway/gw_object.h"
#include "tests/unit/unit.h"
#include <ftw.h>
#include <stdlib.h>

#define NDRIVES 6
#define IOV(s)  h2o_iovec_init((s), strlen(s))

typedef struct {
    char root[64];
    char paths[NDRIVES][96];
    gw_cluster_t *c;
} cluster_t;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int cluster_open(cluster_t *t)
{
    const char *specs[NDRIVES];
    char root[64] = "/tmp/yc-bconf-test-XXXXXX";

    if (mkdtemp(root) == NULL)
        return -1;
    memcpy(t->root, root, sizeof(root));
    for (int i = 0; i < NDRIVES; i++) {
        snprintf(t->paths[i], sizeof(t->paths[i]), "%s/drive%d", root, i + 1);
        specs[i] = t->paths[i];
    }
    gw_cluster_config_t cfg = {.drive_specs = specs,
                               .ndrives = NDRIVES,
                               .k = 4,
                               .m = 2,
                               .stripe_size = 1 << 20,
                               .inline_max = 128 * 1024,
                               .lane_threads = 2,
                               .drive_reserve = 0};
    return gw_cluster_open(&cfg, &t->c);
}

static void cluster_close(cluster_t *t)
{
    gw_cluster_close(t->c);
    nftw(t->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Reads kind; returns the state and copies a set document into buf (NUL-terminated). */
static int read_state(gw_cluster_t *c, const char *bucket, uint64_t inc, gw_conf_kind_t kind, char *buf, size_t cap)
{
    gw_conf_state_t state;
    h2o_iovec_t doc;
    void *raw;
    if (gw_conf_read(c, IOV((char *)bucket), inc, kind, &raw, &state, &doc) != 0)
        return -1;
    buf[0] = '\0';
    if (state == GW_CONF_SET)
        snprintf(buf, cap, "%.*s", (int)doc.len, doc.base);
    free(raw);
    return (int)state;
}

TEST(test_conf_newest_state_wins_and_removal_is_a_state)
{
    cluster_t t;
    char buf[64];

    CHECK_EQ_INT(cluster_open(&t), 0);
    CHECK_EQ_INT(read_state(t.c, "bk", 7, GW_CONF_POLICY, buf, sizeof(buf)), GW_CONF_NONE);
    CHECK_EQ_INT(gw_conf_write(t.c, IOV("bk"), 7, GW_CONF_POLICY, IOV("first")), 0);
    CHECK_EQ_INT(gw_conf_write(t.c, IOV("bk"), 7, GW_CONF_POLICY, IOV("second")), 0);
    CHECK_EQ_INT(read_state(t.c, "bk", 7, GW_CONF_POLICY, buf, sizeof(buf)), GW_CONF_SET);
    CHECK(strcmp(buf, "second") == 0);
    /* kinds are apart */
    CHECK_EQ_INT(read_state(t.c, "bk", 7, GW_CONF_CORS, buf, sizeof(buf)), GW_CONF_NONE);
    CHECK_EQ_INT(gw_conf_write(t.c, IOV("bk"), 7, GW_CONF_POLICY, h2o_iovec_init(NULL, 0)), 0);
    CHECK_EQ_INT(read_state(t.c, "bk", 7, GW_CONF_POLICY, buf, sizeof(buf)), GW_CONF_REMOVED);
    cluster_close(&t);
}

TEST(test_conf_of_another_incarnation_is_none)
{
    cluster_t t;
    char buf[64];

    CHECK_EQ_INT(cluster_open(&t), 0);
    CHECK_EQ_INT(gw_conf_write(t.c, IOV("bk"), 1, GW_CONF_TAGGING, IOV("old bucket's")), 0);
    CHECK_EQ_INT(read_state(t.c, "bk", 2, GW_CONF_TAGGING, buf, sizeof(buf)), GW_CONF_NONE);
    CHECK_EQ_INT(read_state(t.c, "bk", 1, GW_CONF_TAGGING, buf, sizeof(buf)), GW_CONF_SET);
    cluster_close(&t);
}

TEST(test_conf_drive_that_missed_a_removal_is_outvoted)
{
    cluster_t t;
    char buf[64];
    meta_key_t key;
    void *val;
    size_t len;

    CHECK_EQ_INT(cluster_open(&t), 0);
    CHECK_EQ_INT(gw_conf_write(t.c, IOV("bk"), 3, GW_CONF_CORS, IOV("rules")), 0);
    /* keep drive 0's copy of the document, remove it everywhere, then put the old copy back */
    CHECK_EQ_INT(meta_key_config((meta_bytes_t){"bk", 2}, (meta_bytes_t){"cors", 4}, &key), 0);
    CHECK_EQ_INT(store_client_record_get(t.c->drives[0].client, &key, &val, &len), 0);
    CHECK_EQ_INT(gw_conf_write(t.c, IOV("bk"), 3, GW_CONF_CORS, h2o_iovec_init(NULL, 0)), 0);
    CHECK_EQ_INT(store_client_record_put(t.c->drives[0].client, &key, val, len), 0);
    free(val);
    CHECK_EQ_INT(read_state(t.c, "bk", 3, GW_CONF_CORS, buf, sizeof(buf)), GW_CONF_REMOVED);
    cluster_close(&t);
}

TEST(test_conf_sweep_removes_the_dead_incarnation_only)
{
    cluster_t t;
    char buf[64];
    size_t removed = 0;

    CHECK_EQ_INT(cluster_open(&t), 0);
    CHECK_EQ_INT(gw_conf_write(t.c, IOV("bk"), 1, GW_CONF_POLICY, IOV("dead")), 0);
    CHECK_EQ_INT(gw_conf_write(t.c, IOV("bk"), 1, GW_CONF_CORS, IOV("dead too")), 0);
    CHECK_EQ_INT(gw_conf_write(t.c, IOV("bk"), 2, GW_CONF_TAGGING, IOV("alive")), 0);
    for (size_t i = 0; i < NDRIVES; i++)
        CHECK_EQ_INT(gw_conf_sweep_drive(t.c->drives[i].client, (meta_bytes_t){"bk", 2}, 1, &removed), 0);
    CHECK_EQ_INT((int)removed, 2 * NDRIVES);
    CHECK_EQ_INT(read_state(t.c, "bk", 1, GW_CONF_POLICY, buf, sizeof(buf)), GW_CONF_NONE);
    CHECK_EQ_INT(read_state(t.c, "bk", 2, GW_CONF_TAGGING, buf, sizeof(buf)), GW_CONF_SET);
    CHECK(strcmp(buf, "alive") == 0);
    cluster_close(&t);
}

int main(void)
{
    RUN(test_conf_newest_state_wins_and_removal_is_a_state);
    RUN(test_conf_of_another_incarnation_is_none);
    RUN(test_conf_drive_that_missed_a_removal_is_outvoted);
    RUN(test_conf_sweep_removes_the_dead_incarnation_only);
    return unit_done();
}
