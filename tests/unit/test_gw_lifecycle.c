/* test_gw_lifecycle.c — the lifecycle worker's pass over a bucket on six real drives in this
 * process: due objects go and the others stay, a bucket whose lease another gateway holds is left
 * alone until the lease is released or runs out (a dead holder), a pass resumes from the bucket's
 * progress marker and removes it when done, and a lease renewal notices when the name changed
 * hands. */
#include "gateway/gw_bucket_config.h"
#include "gateway/gw_bucket_record.h"
#include "gateway/gw_lifecycle.h"
#include "gateway/gw_lock.h"
#include "gateway/gw_object.h"
#include "tests/unit/unit.h"
#include <ftw.h>
#include <stdlib.h>
#include <unistd.h>

#define NDRIVES 6
#define IOV(s)  h2o_iovec_init((s), strlen(s))
#define MB(s)   ((meta_bytes_t){(s), strlen(s)})
#define DAY_NS  (86400LL * 1000000000LL)
#define BUCKET  "lcb"
#define INC     0x1234ULL

typedef struct {
    char root[64];
    char paths[NDRIVES][96];
    gw_cluster_t *c;
    char ns[META_NS_MAX + 1];
    size_t ns_len;
} cluster_t;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* Six drives, and the bucket BUCKET (never versioned) with rules: every key under "tmp/" or "z"
 * expires after 1 day. */
static int cluster_open(cluster_t *t)
{
    const char *specs[NDRIVES];
    char root[64] = "/tmp/yc-lc-test-XXXXXX";

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
    if (gw_cluster_open(&cfg, &t->c) != 0)
        return -1;
    int64_t now = yc_now_ns();
    meta_bucket_t b = {.name = MB(BUCKET),
                       .owner = MB("root"),
                       .location = MB(""),
                       .created_ns = now,
                       .incarnation = INC,
                       .state = META_BUCKET_ACTIVE,
                       .updated_ns = now};
    t->ns_len = meta_bucket_ns(b.name, INC, t->ns);
    const char *rules = "<LifecycleConfiguration><Rule><ID>tmp</ID><Filter><Prefix>tmp/</Prefix></Filter>"
                        "<Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>"
                        "<Rule><ID>z</ID><Filter><Prefix>z</Prefix></Filter><Status>Enabled</Status>"
                        "<Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>";
    if (gw_bucket_record_write(t->c, &b) != 0 ||
        gw_conf_write(t->c, IOV(BUCKET), INC, GW_CONF_LIFECYCLE, IOV((char *)rules)) != 0)
        return -1;
    return 0;
}

static void cluster_close(cluster_t *t)
{
    gw_cluster_close(t->c);
    nftw(t->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Puts a small object at key of the bucket, written at mtime_ns, as PutObject does. */
static int put_at(cluster_t *t, const char *key, int64_t mtime_ns)
{
    meta_bytes_t ns = {t->ns, t->ns_len};
    uint8_t dist[16], body[64];
    meta_buf_t parts = {0};
    gw_data_t data;
    int ret;

    memset(body, 'x', sizeof(body));
    gw_set_t *set = gw_cluster_place(t->c, ns, MB((char *)key), dist);
    if ((ret = gw_data_write(t->c, set, dist, gw_source_memory(body), sizeof(body), 1, NULL, NULL, &data)) != 0)
        return ret;
    meta_part_ref_t part = {.number = 1, .size = sizeof(body)};
    memcpy(part.data_id, data.data_id, META_ID_LEN);
    memcpy(part.etag, data.md5, 16);
    meta_parts_append(&parts, &part);
    meta_object_t r = {.bucket = ns,
                       .key = MB((char *)key),
                       .mtime_ns = mtime_ns,
                       .flags = data.is_inline ? META_OBJ_INLINE : 0,
                       .size = sizeof(body),
                       .etag = {"0123456789abcdef0123456789abcdef", 32},
                       .owner = MB("root"),
                       .ec_k = set->k,
                       .ec_m = set->m,
                       .stripe_size = t->c->stripe_size,
                       .parts = {(const char *)parts.base, parts.len},
                       .part_count = 1};
    memcpy(r.distribution, dist, 16);
    ret = gw_object_commit(t->c, set, &r, &data);
    meta_buf_dispose(&parts);
    gw_data_dispose(&data);
    return ret;
}

static int exists(cluster_t *t, const char *key)
{
    gw_object_t *o;
    int ret = gw_object_lookup(t->c, (meta_bytes_t){t->ns, t->ns_len}, MB((char *)key), NULL, &o);
    if (ret == 0)
        gw_object_free(o);
    return ret == 0 ? 1 : ret == GW_ENOENT ? 0 : -1;
}

static gw_lifecycle_t *worker(cluster_t *t)
{
    gw_lifecycle_config_t cfg = {.day_ns = 0, .interval_ns = DAY_NS, .lease_ns = 0, .rate = 0};
    gw_lifecycle_t *lc = NULL;
    return gw_lifecycle_new(t->c, &cfg, NULL, &lc) == 0 ? lc : NULL;
}

TEST(test_lifecycle_pass_removes_due_objects_only)
{
    cluster_t t;
    gw_lifecycle_stats_t st;

    CHECK_EQ_INT(cluster_open(&t), 0);
    int64_t old = yc_now_ns() - 3 * DAY_NS;
    CHECK_EQ_INT(put_at(&t, "tmp/old", old), 0);
    CHECK_EQ_INT(put_at(&t, "tmp/new", yc_now_ns()), 0); /* due in a day or two */
    CHECK_EQ_INT(put_at(&t, "keep/old", old), 0);        /* no rule covers it */
    gw_lifecycle_t *lc = worker(&t);
    CHECK(lc != NULL);
    CHECK_EQ_INT(gw_lifecycle_run_bucket(lc, MB(BUCKET)), 0);
    CHECK_EQ_INT(exists(&t, "tmp/old"), 0);
    CHECK_EQ_INT(exists(&t, "tmp/new"), 1);
    CHECK_EQ_INT(exists(&t, "keep/old"), 1);
    gw_lifecycle_stats(lc, &st);
    CHECK_EQ_INT(st.expired, 1);
    CHECK_EQ_INT(st.passes, 1);
    CHECK_EQ_INT(st.scanned, 3);
    CHECK_EQ_INT(st.errors, 0);
    /* a bucket without rules, or none at all: nothing to do */
    CHECK_EQ_INT(gw_lifecycle_run_bucket(lc, MB("nosuchbucket")), 0);
    gw_lifecycle_free(lc);
    cluster_close(&t);
}

TEST(test_lifecycle_bucket_leased_elsewhere_is_left_alone)
{
    cluster_t t;
    gw_lifecycle_stats_t st;
    gw_lock_t other;

    CHECK_EQ_INT(cluster_open(&t), 0);
    CHECK_EQ_INT(put_at(&t, "tmp/a", yc_now_ns() - 3 * DAY_NS), 0);
    gw_lifecycle_t *lc = worker(&t);
    /* another gateway works the bucket: its lease is the lock "lifecycle/<bucket>" */
    CHECK_EQ_INT(gw_lock_cluster_lease(t.c, MB("lifecycle/" BUCKET), 0, 60 * 1000000000LL, &other), 0);
    CHECK_EQ_INT(gw_lifecycle_run_bucket(lc, MB(BUCKET)), GW_EBUSY);
    CHECK_EQ_INT(exists(&t, "tmp/a"), 1);
    gw_lifecycle_stats(lc, &st);
    CHECK_EQ_INT(st.lease_busy, 1);
    CHECK_EQ_INT(st.passes, 0);
    /* it finished and let go: this gateway may work the bucket now */
    gw_lock_release(&other);
    CHECK_EQ_INT(gw_lifecycle_run_bucket(lc, MB(BUCKET)), 0);
    CHECK_EQ_INT(exists(&t, "tmp/a"), 0);
    gw_lifecycle_free(lc);
    cluster_close(&t);
}

TEST(test_lifecycle_lease_of_a_dead_holder_is_taken_over)
{
    cluster_t t;
    gw_lock_t dead;

    CHECK_EQ_INT(cluster_open(&t), 0);
    CHECK_EQ_INT(put_at(&t, "tmp/a", yc_now_ns() - 3 * DAY_NS), 0);
    gw_lifecycle_t *lc = worker(&t);
    CHECK_EQ_INT(gw_lock_cluster_lease(t.c, MB("lifecycle/" BUCKET), 0, 1000000000LL, &dead), 0);
    /* its holder dies: nothing releases or renews the lease */
    free(dead.drives);
    free(dead.granted);
    CHECK_EQ_INT(gw_lifecycle_run_bucket(lc, MB(BUCKET)), GW_EBUSY);
    CHECK_EQ_INT(exists(&t, "tmp/a"), 1);
    usleep(1200 * 1000);
    CHECK_EQ_INT(gw_lifecycle_run_bucket(lc, MB(BUCKET)), 0);
    CHECK_EQ_INT(exists(&t, "tmp/a"), 0);
    gw_lifecycle_free(lc);
    cluster_close(&t);
}

TEST(test_lifecycle_pass_resumes_from_progress_marker)
{
    cluster_t t;
    gw_conf_state_t state;
    h2o_iovec_t doc;
    void *raw;

    CHECK_EQ_INT(cluster_open(&t), 0);
    int64_t old = yc_now_ns() - 3 * DAY_NS;
    CHECK_EQ_INT(put_at(&t, "tmp/a", old), 0);
    CHECK_EQ_INT(put_at(&t, "z1", old), 0);
    /* a pass cut short after "tmp/zz" (a crash, a restart): the next one goes on from there */
    CHECK_EQ_INT(gw_conf_write(t.c, IOV(BUCKET), INC, GW_CONF_LIFECYCLE_PROGRESS, IOV("tmp/zz")), 0);
    gw_lifecycle_t *lc = worker(&t);
    CHECK_EQ_INT(gw_lifecycle_run_bucket(lc, MB(BUCKET)), 0);
    CHECK_EQ_INT(exists(&t, "tmp/a"), 1); /* before the marker: done by the pass that was cut */
    CHECK_EQ_INT(exists(&t, "z1"), 0);
    /* finished: the marker is gone and the next pass starts from the first key */
    CHECK_EQ_INT(gw_conf_read(t.c, IOV(BUCKET), INC, GW_CONF_LIFECYCLE_PROGRESS, &raw, &state, &doc), 0);
    CHECK_EQ_INT(state, GW_CONF_REMOVED);
    free(raw);
    CHECK_EQ_INT(gw_lifecycle_run_bucket(lc, MB(BUCKET)), 0);
    CHECK_EQ_INT(exists(&t, "tmp/a"), 0);
    gw_lifecycle_free(lc);
    cluster_close(&t);
}

TEST(test_lock_renew_extends_and_notices_a_takeover)
{
    cluster_t t;
    gw_lock_t a, b;

    CHECK_EQ_INT(cluster_open(&t), 0);
    CHECK_EQ_INT(gw_lock_cluster_lease(t.c, MB("lifecycle/x"), 0, 1000000000LL, &a), 0);
    usleep(600 * 1000);
    CHECK_EQ_INT(gw_lock_renew(&a), 0);
    usleep(600 * 1000); /* past the first lease, within the renewed one */
    CHECK_EQ_INT(gw_lock_cluster_lease(t.c, MB("lifecycle/x"), 0, 1000000000LL, &b), GW_EBUSY);
    usleep(1200 * 1000); /* a stops renewing: b takes the name over */
    CHECK_EQ_INT(gw_lock_cluster_lease(t.c, MB("lifecycle/x"), 0, 60 * 1000000000LL, &b), 0);
    CHECK_EQ_INT(gw_lock_renew(&a), GW_EBUSY);
    gw_lock_release(&a); /* a late release must not free b's lock */
    CHECK_EQ_INT(gw_lock_renew(&b), 0);
    gw_lock_release(&b);
    cluster_close(&t);
}

TEST(test_lifecycle_may_delete_is_true_until_object_lock)
{
    meta_object_t r = {.key = MB("k")};
    CHECK_EQ_INT(gw_lifecycle_may_delete(&r), 1);
}

int main(void)
{
    RUN(test_lifecycle_pass_removes_due_objects_only);
    RUN(test_lifecycle_bucket_leased_elsewhere_is_left_alone);
    RUN(test_lifecycle_lease_of_a_dead_holder_is_taken_over);
    RUN(test_lifecycle_pass_resumes_from_progress_marker);
    RUN(test_lock_renew_extends_and_notices_a_takeover);
    RUN(test_lifecycle_may_delete_is_true_until_object_lock);
    return unit_done();
}
