/* test_gw_faults.c — the object engine (six local drives in a temp folder, EC 4+2, no sockets)
 * when drives' file-system calls fail (store_fault.h): shards whose fdatasync fails on too many drives, a
 * drive that fills up in the middle of a stripe, a shard read that meets EIO, a RocksDB WAL
 * sync that fails while the records are written.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gateway/gw_cleanup.h"
#include "gateway/gw_heal.h"
#include "gateway/gw_object.h"
#include "gateway/gw_upload.h"
#include "store/store_fault.h"
#include "tests/unit/unit.h"

/* ---- the embedded engine under file-system faults ---- */

#define BUCKET      "photos"
#define NDRIVES     6
#define STRIPE      (64 * 1024)
#define OBJECT_SIZE (5 * STRIPE + 1000) /* six stripes, the last one short: 6 blocks per shard */

typedef struct {
    char dir[64];
    char *specs[NDRIVES];
    gw_cluster_t *c;
} cluster_t;

static meta_bytes_t bytes(const char *s)
{
    return (meta_bytes_t){s, strlen(s)};
}

static void fill(uint8_t *buf, size_t len, uint64_t seed)
{
    for (size_t i = 0; i < len; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        buf[i] = (uint8_t)(seed >> 56);
    }
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* Six local drives d1..d6 in a new temp folder, in one erasure set of 4+2. */
static int cluster_open(cluster_t *t)
{
    memset(t, 0, sizeof(*t));
    store_fault_clear(); /* a test that failed half-way may have left a plan */
    snprintf(t->dir, sizeof(t->dir), "/tmp/yc-gw-fault-XXXXXX");
    if (mkdtemp(t->dir) == NULL)
        return -errno;
    for (int i = 0; i < NDRIVES; i++) {
        if ((t->specs[i] = malloc(96)) == NULL)
            return -ENOMEM;
        snprintf(t->specs[i], 96, "%s/d%d", t->dir, i + 1);
    }
    gw_cluster_config_t cfg = {.drive_specs = (const char *const *)t->specs,
                               .ndrives = NDRIVES,
                               .k = 4,
                               .m = 2,
                               .stripe_size = STRIPE,
                               .inline_max = 4096,
                               .lane_threads = 2,
                               .drive_reserve = 1 << 20};
    return gw_cluster_open(&cfg, &t->c);
}

static void cluster_close(cluster_t *t)
{
    store_fault_clear();
    gw_cluster_close(t->c);
    nftw(t->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (int i = 0; i < NDRIVES; i++)
        free(t->specs[i]);
}

/* The set of key, and where its shard i lives. */
static gw_set_t *set_of(cluster_t *t, const char *key, uint8_t dist[16])
{
    return gw_cluster_place(t->c, bytes(BUCKET), bytes(key), dist);
}

/* The path part naming a file class of slot's drive: "<drive>/tmp/", "<drive>/shards/", "<drive>/db/". */
static const char *drive_part(gw_set_t *set, uint32_t slot, const char *sub, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s/", set->drives[slot]->path, sub);
    return buf;
}

static int64_t put_mtime_shift; /* added to the clock for the writes of put() */

/* PutObject's data path: the shards (gw_data_write), then the records (gw_object_commit), with
 * the shards removed when the commit fails. *data_id gets the data id of the attempt. */
static int put(cluster_t *t, const char *key, const uint8_t *body, size_t size, uint8_t data_id[META_ID_LEN])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t dist[16];
    char etag[33];
    meta_buf_t parts = {0};
    meta_object_t r;
    gw_data_t data;
    gw_set_t *set = set_of(t, key, dist);
    int ret = gw_data_write(t->c, set, dist, gw_source_memory(body), size, 1, NULL, NULL, &data);

    memcpy(data_id, data.data_id, META_ID_LEN);
    if (ret != 0)
        return ret;
    for (int i = 0; i < 16; i++) {
        etag[2 * i] = hex[data.md5[i] >> 4];
        etag[2 * i + 1] = hex[data.md5[i] & 15];
    }
    etag[32] = '\0';
    meta_part_ref_t part = {.number = 1, .size = size};
    memcpy(part.data_id, data.data_id, META_ID_LEN);
    memcpy(part.etag, data.md5, 16);
    if ((ret = meta_parts_append(&parts, &part)) != 0)
        goto out;
    memset(&r, 0, sizeof(r));
    r.bucket = bytes(BUCKET);
    r.key = bytes(key);
    r.mtime_ns = yc_now_ns() + put_mtime_shift;
    r.flags = data.is_inline ? META_OBJ_INLINE : 0;
    r.size = size;
    r.etag = (meta_bytes_t){etag, 32};
    r.content_type = r.content_encoding = r.content_disposition = bytes("");
    r.content_language = r.cache_control = r.expires = bytes("");
    r.user_meta = r.checksum_algo = r.checksum_value = r.owner = bytes("");
    r.ec_k = set->k;
    r.ec_m = set->m;
    r.stripe_size = t->c->stripe_size;
    memcpy(r.distribution, dist, 16);
    r.parts = (meta_bytes_t){(const char *)parts.base, parts.len};
    r.part_count = 1;
    /* as the handlers do: a failed commit keeps the shards here; its cleanup, when started, removes them */
    ret = gw_object_commit(t->c, set, &r, &data);
out:
    gw_data_dispose(&data);
    meta_buf_dispose(&parts);
    return ret;
}

/* 0 when the visible version of key is size bytes equal to want, else why not (GW_ENOENT when
 * there is none, GW_EINVAL for other bytes). */
static int read_back(cluster_t *t, const char *key, const uint8_t *want, size_t size)
{
    gw_object_t *o;
    uint8_t *buf = malloc(size);
    int ret;

    if (buf == NULL)
        return GW_ENOMEM;
    if ((ret = gw_object_lookup(t->c, bytes(BUCKET), bytes(key), NULL, &o)) == 0) {
        if (gw_object_record(o)->size != size)
            ret = GW_EINVAL;
        else if ((ret = gw_object_read(o, 0, size, buf)) == 0 && memcmp(buf, want, size) != 0)
            ret = GW_EINVAL;
        gw_object_free(o);
    }
    free(buf);
    return ret;
}

/* Shard files of data_id on any drive, and files left in any drive's tmp/. */
static size_t files_of(cluster_t *t, const uint8_t data_id[META_ID_LEN])
{
    size_t n = 0;
    uint64_t size;

    for (int i = 0; i < NDRIVES; i++)
        for (uint32_t shard = 0; shard < NDRIVES; shard++)
            n += store_shard_stat(t->c->drives[i].local, data_id, shard, &size) == 0;
    return n;
}

static size_t tmp_files(cluster_t *t)
{
    char path[160];
    size_t n = 0;

    for (int i = 0; i < NDRIVES; i++) {
        snprintf(path, sizeof(path), "%s/tmp", t->specs[i]);
        DIR *dp = opendir(path);
        struct dirent *e;
        if (dp == NULL)
            return (size_t)-1;
        while ((e = readdir(dp)) != NULL)
            n += e->d_name[0] != '.';
        closedir(dp);
    }
    return n;
}

/* fdatasync of the new shards fails on three of six drives: the write misses its quorum of four,
 * is refused, leaves no file anywhere, and the previous version is what a reader gets. */
TEST(test_faults_shard_fdatasync_failing_on_three_drives_refuses_write_and_keeps_previous)
{
    static uint8_t v1[OBJECT_SIZE], v2[OBJECT_SIZE];
    uint8_t dist[16], id1[META_ID_LEN], id2[META_ID_LEN];
    char part[160];
    cluster_t t;
    gw_set_t *set;

    CHECK_EQ_INT(cluster_open(&t), 0);
    fill(v1, sizeof(v1), 1);
    fill(v2, sizeof(v2), 2);
    /* no previous version: nothing becomes visible */
    set = set_of(&t, "fresh", dist);
    for (uint32_t slot = 0; slot < 3; slot++)
        CHECK(store_fault_fail_on(STORE_SYS_FDATASYNC, drive_part(set, slot, "tmp", part, sizeof(part)), 1, EIO) >= 0);
    CHECK_EQ_INT(put(&t, "fresh", v2, sizeof(v2), id2), GW_EQUORUM);
    CHECK_EQ_INT(store_fault_fired(), 3);
    store_fault_clear();
    CHECK_EQ_INT(read_back(&t, "fresh", v2, sizeof(v2)), GW_ENOENT);
    CHECK_EQ_INT(files_of(&t, id2), 0);

    /* over a previous version: it stays */
    CHECK_EQ_INT(put(&t, "k", v1, sizeof(v1), id1), 0);
    set = set_of(&t, "k", dist);
    for (uint32_t slot = 3; slot < 6; slot++)
        CHECK(store_fault_fail_on(STORE_SYS_FDATASYNC, drive_part(set, slot, "tmp", part, sizeof(part)), 1, EIO) >= 0);
    CHECK_EQ_INT(put(&t, "k", v2, sizeof(v2), id2), GW_EQUORUM);
    CHECK_EQ_INT(store_fault_fired(), 3);
    store_fault_clear();
    CHECK_EQ_INT(read_back(&t, "k", v1, sizeof(v1)), 0);
    CHECK_EQ_INT(files_of(&t, id2), 0);
    CHECK_EQ_INT(files_of(&t, id1), 6);
    CHECK_EQ_INT(tmp_files(&t), 0);
    cluster_close(&t);
}

/* One drive fills up at its third block (in the middle of the write's third stripe): the write
 * still reaches its quorum on the other five and reads back whole; that drive keeps no temp
 * file. With three drives full the write fails as the full-drive error (507), cleanly. */
TEST(test_faults_enospc_in_the_middle_of_a_stripe)
{
    static uint8_t v1[OBJECT_SIZE], v2[OBJECT_SIZE], v3[OBJECT_SIZE];
    uint8_t dist[16], id1[META_ID_LEN], id2[META_ID_LEN], id3[META_ID_LEN];
    char part[160];
    cluster_t t;
    gw_set_t *set;
    uint64_t size;

    CHECK_EQ_INT(cluster_open(&t), 0);
    fill(v1, sizeof(v1), 11);
    fill(v2, sizeof(v2), 12);
    fill(v3, sizeof(v3), 13);
    CHECK_EQ_INT(put(&t, "k", v1, sizeof(v1), id1), 0);
    set = set_of(&t, "k", dist);

    CHECK(store_fault_fail_from(STORE_SYS_PWRITE, drive_part(set, 2, "tmp", part, sizeof(part)), 3, ENOSPC) >= 0);
    CHECK_EQ_INT(put(&t, "k", v2, sizeof(v2), id2), 0);
    CHECK_EQ_INT(store_fault_fired(), 1);
    store_fault_clear();
    CHECK_EQ_INT(read_back(&t, "k", v2, sizeof(v2)), 0);
    CHECK_EQ_INT(files_of(&t, id2), 5);
    for (uint32_t shard = 0; shard < NDRIVES; shard++)
        CHECK(store_shard_stat(set->drives[2]->local, id2, shard, &size) == STORE_ENOENT);
    CHECK_EQ_INT(tmp_files(&t), 0);

    for (uint32_t slot = 0; slot < 3; slot++)
        CHECK(store_fault_fail_from(STORE_SYS_PWRITE, drive_part(set, slot, "tmp", part, sizeof(part)), 3, ENOSPC) >=
              0);
    CHECK_EQ_INT(put(&t, "k", v3, sizeof(v3), id3), GW_ENOSPC);
    CHECK_EQ_INT(store_fault_fired(), 3);
    store_fault_clear();
    CHECK_EQ_INT(read_back(&t, "k", v2, sizeof(v2)), 0);
    CHECK_EQ_INT(files_of(&t, id3), 0);
    CHECK_EQ_INT(tmp_files(&t), 0);
    cluster_close(&t);
}

/* A shard read meets EIO on one drive: the reader rebuilds the stripe from parity, returns the
 * right bytes, and notes the key for the healer. */
TEST(test_faults_eio_on_a_shard_read_is_rebuilt_and_noted_for_healing)
{
    static uint8_t v1[OBJECT_SIZE];
    uint8_t dist[16], id1[META_ID_LEN];
    char part[160];
    cluster_t t;
    gw_set_t *set;
    gw_healer_t *h;
    gw_heal_status_t st;

    CHECK_EQ_INT(cluster_open(&t), 0);
    CHECK_EQ_INT(gw_healer_start(t.c, &h), 0);
    fill(v1, sizeof(v1), 21);
    CHECK_EQ_INT(put(&t, "k", v1, sizeof(v1), id1), 0);
    CHECK_EQ_INT(read_back(&t, "k", v1, sizeof(v1)), 0);
    gw_heal_status(h, &st);
    CHECK_EQ_INT(st.noted, 0); /* a clean write and a clean read note nothing */

    set = set_of(&t, "k", dist);
    /* the drive of data shard 0: every stripe's read starts there */
    CHECK(store_fault_fail_on(STORE_SYS_PREAD, drive_part(set, dist[0], "shards", part, sizeof(part)), 2, EIO) >= 0);
    CHECK_EQ_INT(read_back(&t, "k", v1, sizeof(v1)), 0);
    CHECK_EQ_INT(store_fault_fired(), 1);
    gw_heal_status(h, &st);
    CHECK_EQ_INT(st.noted, 1);
    store_fault_clear();
    gw_healer_stop(h);
    t.c->healer = NULL;
    cluster_close(&t);
}

static void no_wake(void *arg, int result)
{
}

/* With admission control set, the healer heals inside a slot of the background class: while a
 * client request holds the only slot, the key a write left short of a drive waits (its heal is
 * put off, not failed); once the slot is free, the drive gets its shard. */
TEST(test_faults_heal_waits_for_a_background_slot)
{
    static uint8_t v1[OBJECT_SIZE];
    uint8_t dist[16], id1[META_ID_LEN];
    char part[160];
    cluster_t t;
    gw_set_t *set;
    gw_healer_t *h;
    gw_heal_status_t st;
    gw_admit_config_t acfg;
    gw_admit_t *a;
    gw_admit_ticket_t client;
    gw_admit_stats_t ast;

    CHECK_EQ_INT(cluster_open(&t), 0);
    gw_admit_config_defaults(&acfg);
    acfg.max_inflight = 1;
    acfg.background_deadline_ns = 30LL * 1000 * 1000;
    CHECK_EQ_INT(gw_admit_new(&acfg, &a), 0);
    CHECK_EQ_INT(gw_healer_start(t.c, &h), 0);
    gw_healer_set_admit(h, a);
    gw_admit_ticket_init(&client, no_wake, NULL);
    CHECK_EQ_INT(gw_admit_enter(a, &client, GW_ADMIT_CLIENT, "AK", 2), GW_ADMIT_OK);

    fill(v1, sizeof(v1), 41);
    set = set_of(&t, "k", dist);
    CHECK(store_fault_fail_from(STORE_SYS_PWRITE, drive_part(set, 2, "tmp", part, sizeof(part)), 1, ENOSPC) >= 0);
    CHECK_EQ_INT(put(&t, "k", v1, sizeof(v1), id1), 0);
    store_fault_clear();
    CHECK_EQ_INT(files_of(&t, id1), 5);
    usleep(300 * 1000);
    gw_heal_status(h, &st);
    CHECK(st.deferred >= 1);
    CHECK_EQ_INT(st.repaired, 0);
    CHECK_EQ_INT(st.failed, 0);
    CHECK_EQ_INT(files_of(&t, id1), 5);

    gw_admit_leave(a, &client);
    /* the shard file appears before the heal writes the record and counts the repair */
    for (int i = 0; i < 100; i++) {
        gw_heal_status(h, &st);
        if (files_of(&t, id1) == 6 && st.repaired >= 1)
            break;
        usleep(50 * 1000);
    }
    CHECK_EQ_INT(files_of(&t, id1), 6);
    gw_heal_status(h, &st);
    CHECK(st.repaired >= 1);
    gw_admit_stats(a, &ast);
    CHECK(ast.admitted[GW_ADMIT_BACKGROUND] >= 1);
    CHECK(ast.shed[GW_ADMIT_SHED_DEADLINE] >= 1);
    gw_healer_stop(h);
    t.c->healer = NULL;
    cluster_close(&t);
    gw_admit_free(a);
}

/* The records' WAL sync fails on three drives: the write is not acknowledged and the previous
 * version is what readers get while their databases are stopped. They reopen at their next
 * write and take writes again (their WALs still hold the failed write's records, which the
 * reopen replays: the newer write here supersedes them). */
TEST(test_faults_record_wal_sync_failing_on_three_drives_keeps_previous_version)
{
    static uint8_t v1[OBJECT_SIZE], v2[OBJECT_SIZE], v3[OBJECT_SIZE];
    uint8_t dist[16], id1[META_ID_LEN], id2[META_ID_LEN], id3[META_ID_LEN];
    char part[160];
    cluster_t t;
    gw_set_t *set;

    CHECK_EQ_INT(cluster_open(&t), 0);
    fill(v1, sizeof(v1), 31);
    fill(v2, sizeof(v2), 32);
    fill(v3, sizeof(v3), 33);
    CHECK_EQ_INT(put(&t, "k", v1, sizeof(v1), id1), 0);
    set = set_of(&t, "k", dist);
    for (uint32_t slot = 0; slot < 3; slot++)
        CHECK(store_fault_fail_on(STORE_SYS_FDATASYNC, drive_part(set, slot, "db", part, sizeof(part)), 1, EIO) >= 0);
    CHECK_EQ_INT(put(&t, "k", v2, sizeof(v2), id2), GW_EQUORUM);
    CHECK_EQ_INT(store_fault_fired(), 3);
    store_fault_clear();
    CHECK_EQ_INT(read_back(&t, "k", v1, sizeof(v1)), 0);
    /* the failed write was taken back (its record deleted where it may have landed; the delete
     * reopened the failed databases), so reopening them again replays nothing that hides v1 */
    for (uint32_t slot = 0; slot < 3; slot++)
        CHECK_EQ_INT(meta_db_reopen(store_drive_db(set->drives[slot]->local)), 0);
    CHECK_EQ_INT(read_back(&t, "k", v1, sizeof(v1)), 0);

    CHECK_EQ_INT(put(&t, "k", v3, sizeof(v3), id3), 0);
    for (uint32_t slot = 0; slot < 3; slot++)
        CHECK_EQ_INT(meta_db_write_error(store_drive_db(set->drives[slot]->local)), 0);
    CHECK_EQ_INT(read_back(&t, "k", v3, sizeof(v3)), 0);
    cluster_close(&t);
}

/* A record whose WAL sync failed was appended all the same: the reopened database replays it, so
 * a write answered as failed can surface on every drive. What surfaces must be readable: the
 * failed write kept its shards. */
TEST(test_faults_failed_write_that_surfaces_after_reopen_reads_back_whole)
{
    static uint8_t v1[OBJECT_SIZE], v2[OBJECT_SIZE], got[OBJECT_SIZE];
    uint8_t dist[16], id1[META_ID_LEN], id2[META_ID_LEN];
    char part[160];
    cluster_t t;
    gw_set_t *set;
    gw_object_t *o;

    CHECK_EQ_INT(cluster_open(&t), 0);
    fill(v1, sizeof(v1), 41);
    fill(v2, sizeof(v2), 42);
    CHECK_EQ_INT(put(&t, "k", v1, sizeof(v1), id1), 0);
    set = set_of(&t, "k", dist);
    for (uint32_t slot = 0; slot < 3; slot++)
        CHECK(store_fault_fail_on(STORE_SYS_FDATASYNC, drive_part(set, slot, "db", part, sizeof(part)), 1, EIO) >= 0);
    CHECK_EQ_INT(put(&t, "k", v2, sizeof(v2), id2), GW_EQUORUM);
    store_fault_clear();
    for (uint32_t slot = 0; slot < 3; slot++)
        CHECK_EQ_INT(meta_db_reopen(store_drive_db(set->drives[slot]->local)), 0);
    /* whichever version is visible now, every byte of it reads back */
    CHECK_EQ_INT(gw_object_lookup(t.c, bytes(BUCKET), bytes("k"), NULL, &o), 0);
    CHECK_EQ_INT(gw_object_read(o, 0, sizeof(got), got), 0);
    CHECK(memcmp(got, v1, sizeof(got)) == 0 || memcmp(got, v2, sizeof(got)) == 0);
    gw_object_free(o);
    cluster_close(&t);
}

/* Holders of data_id's record among slot's drive: 1 when the newest record of key there names
 * data_id, 0 when another or none. */
static int newest_is(gw_set_t *set, uint32_t slot, const char *key, const uint8_t data_id[META_ID_LEN])
{
    meta_buf_t raw = {0};
    meta_object_t r;
    meta_part_ref_t part;
    int is = 0;

    if (store_object_get(set->drives[slot]->local, bytes(BUCKET), bytes(key), NULL, &raw, &r) == 0)
        is = meta_object_part(&r, 0, &part) == 0 && memcmp(part.data_id, data_id, META_ID_LEN) == 0;
    meta_buf_dispose(&raw);
    return is;
}

/* Drives of the set whose newest record of key names data_id. */
static uint32_t holders(gw_set_t *set, const char *key, const uint8_t data_id[META_ID_LEN])
{
    uint32_t n = 0;
    for (uint32_t slot = 0; slot < gw_set_width(set); slot++)
        n += newest_is(set, slot, key, data_id);
    return n;
}

/* The record's WAL sync fails on three drives: the write misses its quorum, and within seconds no
 * drive holds its record or a shard file of it, while the previous version is whole everywhere,
 * also once the failed databases are reopened (nothing surfaces from their WAL). */
TEST(test_faults_failed_write_is_removed_from_every_drive_within_seconds)
{
    static uint8_t v1[OBJECT_SIZE], v2[OBJECT_SIZE];
    uint8_t dist[16], id1[META_ID_LEN], id2[META_ID_LEN];
    uint64_t counts[GW_CLEANUP__RESULTS], queued;
    char part[160];
    gw_cleanup_t *cl;
    cluster_t t;
    gw_set_t *set;

    CHECK_EQ_INT(cluster_open(&t), 0);
    CHECK_EQ_INT(gw_cleanup_start(t.c, &cl), 0);
    fill(v1, sizeof(v1), 51);
    fill(v2, sizeof(v2), 52);
    CHECK_EQ_INT(put(&t, "k", v1, sizeof(v1), id1), 0);
    set = set_of(&t, "k", dist);
    for (uint32_t slot = 0; slot < 3; slot++)
        CHECK(store_fault_fail_on(STORE_SYS_FDATASYNC, drive_part(set, slot, "db", part, sizeof(part)), 1, EIO) >= 0);
    CHECK_EQ_INT(put(&t, "k", v2, sizeof(v2), id2), GW_EQUORUM);
    store_fault_clear();
    CHECK_EQ_INT(gw_cleanup_idle(cl, 5000000000LL), 1);
    CHECK_EQ_INT(files_of(&t, id2), 0);
    CHECK_EQ_INT(holders(set, "k", id2), 0);
    CHECK_EQ_INT(holders(set, "k", id1), 6);
    CHECK_EQ_INT(files_of(&t, id1), 6);
    for (uint32_t slot = 0; slot < 3; slot++)
        CHECK_EQ_INT(meta_db_reopen(store_drive_db(set->drives[slot]->local)), 0);
    CHECK_EQ_INT(holders(set, "k", id2), 0);
    CHECK_EQ_INT(read_back(&t, "k", v1, sizeof(v1)), 0);
    gw_cleanup_counts(cl, counts, &queued);
    CHECK_EQ_INT((int)counts[GW_CLEANUP_DONE], 1);
    CHECK_EQ_INT((int)queued, 0);
    gw_cleanup_stop(cl);
    cluster_close(&t);
}

/* A drive that refuses the take-back for a while (every WAL sync fails) is tried again with a
 * backoff: once it works again the write is gone from it too, without any later write of the key. */
TEST(test_faults_failed_write_is_removed_from_a_drive_that_recovers_later)
{
    static uint8_t v1[OBJECT_SIZE], v2[OBJECT_SIZE];
    uint8_t dist[16], id1[META_ID_LEN], id2[META_ID_LEN];
    uint64_t counts[GW_CLEANUP__RESULTS], queued;
    char part[160];
    gw_cleanup_t *cl;
    cluster_t t;
    gw_set_t *set;

    CHECK_EQ_INT(cluster_open(&t), 0);
    CHECK_EQ_INT(gw_cleanup_start(t.c, &cl), 0);
    fill(v1, sizeof(v1), 61);
    fill(v2, sizeof(v2), 62);
    CHECK_EQ_INT(put(&t, "k", v1, sizeof(v1), id1), 0);
    set = set_of(&t, "k", dist);
    for (uint32_t slot = 0; slot < 2; slot++)
        CHECK(store_fault_fail_on(STORE_SYS_FDATASYNC, drive_part(set, slot, "db", part, sizeof(part)), 1, EIO) >= 0);
    store_fault_t sick = {.kind = STORE_SYS_FDATASYNC,
                          .path = drive_part(set, 2, "db", part, sizeof(part)),
                          .nth = 1,
                          .times = STORE_FAULT_FOREVER,
                          .err = EIO};
    CHECK(store_fault_add(&sick) >= 0);
    CHECK_EQ_INT(put(&t, "k", v2, sizeof(v2), id2), GW_EQUORUM);
    usleep(600 * 1000); /* the first passes meet the sick drive */
    gw_cleanup_counts(cl, counts, &queued);
    CHECK_EQ_INT((int)queued, 1);
    CHECK(counts[GW_CLEANUP_RETRIED] >= 1);
    store_fault_clear();
    CHECK_EQ_INT(gw_cleanup_idle(cl, 8000000000LL), 1);
    CHECK_EQ_INT(files_of(&t, id2), 0);
    for (uint32_t slot = 0; slot < 3; slot++)
        CHECK_EQ_INT(meta_db_reopen(store_drive_db(set->drives[slot]->local)), 0);
    CHECK_EQ_INT(holders(set, "k", id2), 0);
    CHECK_EQ_INT(holders(set, "k", id1), 6);
    CHECK_EQ_INT(read_back(&t, "k", v1, sizeof(v1)), 0);
    gw_cleanup_counts(cl, counts, &queued);
    CHECK_EQ_INT((int)counts[GW_CLEANUP_DONE], 1);
    gw_cleanup_stop(cl);
    cluster_close(&t);
}

/* The cleanup of a failed write races a newer write of the same key that succeeds right after it:
 * the newer one survives on every drive, record and shards, round after round (the failing drives
 * move, so that the cleanup meets each drive in another state). */
TEST(test_faults_failed_write_cleanup_never_removes_a_newer_write)
{
    static uint8_t bad[OBJECT_SIZE], good[OBJECT_SIZE];
    uint8_t dist[16], id_bad[META_ID_LEN], id_good[META_ID_LEN];
    char part[160];
    gw_cleanup_t *cl;
    cluster_t t;
    gw_set_t *set;

    CHECK_EQ_INT(cluster_open(&t), 0);
    CHECK_EQ_INT(gw_cleanup_start(t.c, &cl), 0);
    set = set_of(&t, "k", dist);
    for (int round = 0; round < 4; round++) {
        fill(bad, sizeof(bad), 700 + (uint64_t)round);
        fill(good, sizeof(good), 800 + (uint64_t)round);
        for (uint32_t slot = 0; slot < 3; slot++)
            CHECK(store_fault_fail_on(STORE_SYS_FDATASYNC,
                                      drive_part(set, (uint32_t)(round + slot) % 6, "db", part, sizeof(part)), 1,
                                      EIO) >= 0);
        CHECK_EQ_INT(put(&t, "k", bad, sizeof(bad), id_bad), GW_EQUORUM);
        store_fault_clear();
        /* the failed databases recover at once (the drive does so itself, once a second at most),
         * so that the newer write reaches all six drives */
        for (uint32_t slot = 0; slot < 3; slot++)
            CHECK_EQ_INT(meta_db_reopen(store_drive_db(set->drives[(uint32_t)(round + slot) % 6]->local)), 0);
        CHECK_EQ_INT(put(&t, "k", good, sizeof(good), id_good), 0); /* while the cleanup runs */
        CHECK_EQ_INT(gw_cleanup_idle(cl, 5000000000LL), 1);
        CHECK_EQ_INT(files_of(&t, id_bad), 0);
        CHECK_EQ_INT(holders(set, "k", id_good), 6);
        CHECK_EQ_INT(files_of(&t, id_good), 6);
        CHECK_EQ_INT(read_back(&t, "k", good, sizeof(good)), 0);
    }
    gw_cleanup_stop(cl);
    cluster_close(&t);
}

/* What a failed write left on fewer than k drives, where no cleanup reached, is taken back by the
 * heal's rule once it is older than the age given, and only then; a version k drives hold never is. */
TEST(test_faults_collect_takes_back_an_old_record_fewer_than_k_drives_hold)
{
    static uint8_t v1[OBJECT_SIZE];
    uint8_t dist[16], id1[META_ID_LEN];
    meta_buf_t raw = {0}, raw2 = {0};
    meta_object_t r, got;
    uint32_t dropped;
    cluster_t t;
    gw_set_t *set;
    int64_t now = yc_now_ns();

    CHECK_EQ_INT(cluster_open(&t), 0);
    fill(v1, sizeof(v1), 91);
    put_mtime_shift = -180 * 1000000000LL;
    CHECK_EQ_INT(put(&t, "k", v1, sizeof(v1), id1), 0);
    put_mtime_shift = 0;
    set = set_of(&t, "k", dist);
    CHECK_EQ_INT(gw_object_collect(t.c, bytes(BUCKET), bytes("k"), GW_FAILED_WRITE_AGE_NS, &dropped), 0);
    CHECK_EQ_INT((int)dropped, 0);
    /* a newer null version, 90 s old, on two drives only: a write that failed its quorum */
    CHECK_EQ_INT(store_object_get(set->drives[0]->local, bytes(BUCKET), bytes("k"), NULL, &raw, &r), 0);
    r.mtime_ns = now - 90 * 1000000000LL;
    for (uint32_t slot = 0; slot < 2; slot++)
        CHECK_EQ_INT(store_object_put(set->drives[slot]->local, &r), 0);
    CHECK_EQ_INT(read_back(&t, "k", v1, sizeof(v1)), 0);
    CHECK_EQ_INT(gw_object_collect(t.c, bytes(BUCKET), bytes("k"), 120 * 1000000000LL, &dropped), 0);
    CHECK_EQ_INT((int)dropped, 0); /* younger than the age asked: it may be a write in flight */
    CHECK_EQ_INT(gw_object_collect(t.c, bytes(BUCKET), bytes("k"), GW_FAILED_WRITE_AGE_NS, &dropped), 0);
    CHECK_EQ_INT((int)dropped, 2);
    for (uint32_t slot = 0; slot < 6; slot++) {
        CHECK_EQ_INT(store_object_get(set->drives[slot]->local, bytes(BUCKET), bytes("k"), NULL, &raw2, &got), 0);
        CHECK(got.mtime_ns < now - 150 * 1000000000LL); /* v1, written three minutes back */
        meta_buf_dispose(&raw2);
    }
    CHECK_EQ_INT(read_back(&t, "k", v1, sizeof(v1)), 0);
    CHECK_EQ_INT(files_of(&t, id1), 6);
    meta_buf_dispose(&raw);
    cluster_close(&t);
}

/* The take-back of a part upload that failed its quorum removes the part record only where it is
 * exactly that upload of the number: a drive holding another upload of it (a newer one) keeps it. */
TEST(test_faults_part_takeback_removes_only_that_upload_of_the_number)
{
    uint8_t dist[16], removed[16];
    meta_part_t mine = {.number = 3, .size = 10, .checksum_algo = bytes(""), .checksum_value = bytes("")};
    meta_part_t other = mine;
    meta_buf_t a = {0}, b = {0};
    meta_key_t key;
    gw_upload_t u = {0};
    cluster_t t;
    void *val;
    size_t len;

    CHECK_EQ_INT(cluster_open(&t), 0);
    u.set = set_of(&t, "mp", dist);
    yc_random_id(u.upload_id);
    memcpy(mine.upload_id, u.upload_id, META_ID_LEN);
    memcpy(other.upload_id, u.upload_id, META_ID_LEN);
    yc_random_id(mine.data_id);
    yc_random_id(other.data_id);
    CHECK_EQ_INT(meta_part_encode(&mine, &a), 0);
    CHECK_EQ_INT(meta_part_encode(&other, &b), 0);
    CHECK_EQ_INT(meta_key_part(u.upload_id, 3, &key), 0);
    /* slots 0-2 took the failed upload, slot 3 holds another upload of the number, 4-5 nothing */
    for (uint32_t slot = 0; slot < 3; slot++)
        CHECK_EQ_INT(store_record_put(u.set->drives[slot]->local, &key, a.base, a.len), 0);
    CHECK_EQ_INT(store_record_put(u.set->drives[3]->local, &key, b.base, b.len), 0);
    gw_upload_takeback_part(&u, &mine, removed);
    for (uint32_t slot = 0; slot < 6; slot++) {
        CHECK_EQ_INT(removed[slot], slot < 3);
        int ret = store_record_get(u.set->drives[slot]->local, &key, &val, &len);
        CHECK_EQ_INT(ret, slot == 3 ? 0 : STORE_ENOENT);
        if (ret == 0) {
            CHECK(len == b.len && memcmp(val, b.base, len) == 0);
            free(val);
        }
    }
    meta_buf_dispose(&a);
    meta_buf_dispose(&b);
    cluster_close(&t);
}

/* One part upload of u: body's shards written (data), then rec with their data id recorded. */
static int upload_part(cluster_t *t, gw_upload_t *u, const uint8_t dist[16], meta_part_t *rec, const uint8_t *body,
                       gw_data_t *data, uint8_t taken_back[16])
{
    int ret = gw_data_write(t->c, u->set, dist, gw_source_memory(body), rec->size, 1, NULL, NULL, data);
    if (ret != 0)
        return ret;
    memcpy(rec->data_id, data->data_id, META_ID_LEN);
    return gw_upload_put_part(u, rec, data, taken_back);
}

/* A part number uploaded again whose records miss their quorum (WAL syncs failing on three
 * drives): the earlier upload of the number stays whole on every drive, its record put back where
 * the new one had landed and its shard files kept; a successful upload of the number after that
 * replaces it. */
TEST(test_faults_failed_reupload_of_a_part_keeps_the_earlier_upload)
{
    static uint8_t v1[OBJECT_SIZE], v2[OBJECT_SIZE];
    uint8_t dist[16], taken_back[16];
    char path[160];
    meta_part_t r1 = {.number = 2, .size = OBJECT_SIZE, .checksum_algo = bytes(""), .checksum_value = bytes("")};
    meta_part_t r2, held;
    meta_key_t key;
    gw_upload_t u = {0};
    gw_data_t d1, d2, d3;
    cluster_t t;
    void *val;
    size_t len;

    CHECK_EQ_INT(cluster_open(&t), 0);
    fill(v1, sizeof(v1), 51);
    fill(v2, sizeof(v2), 52);
    u.set = set_of(&t, "mp", dist);
    yc_random_id(u.upload_id);
    memcpy(r1.upload_id, u.upload_id, META_ID_LEN);
    CHECK_EQ_INT(meta_key_part(u.upload_id, 2, &key), 0);
    CHECK_EQ_INT(upload_part(&t, &u, dist, &r1, v1, &d1, taken_back), 0);

    r2 = r1;
    for (uint32_t slot = 0; slot < 3; slot++)
        CHECK(store_fault_fail_on(STORE_SYS_FDATASYNC, drive_part(u.set, slot, "db", path, sizeof(path)), 1, EIO) >= 0);
    CHECK_EQ_INT(upload_part(&t, &u, dist, &r2, v2, &d2, taken_back), GW_EQUORUM);
    store_fault_clear();
    for (uint32_t slot = 3; slot < 6; slot++)
        CHECK_EQ_INT(taken_back[slot], 1); /* these took the new record: the earlier one is back */
    for (uint32_t slot = 0; slot < 6; slot++) {
        CHECK_EQ_INT(store_record_get(u.set->drives[slot]->local, &key, &val, &len), 0);
        CHECK_EQ_INT(meta_part_decode(val, len, &held), 0);
        CHECK(memcmp(held.data_id, d1.data_id, META_ID_LEN) == 0);
        free(val);
    }
    CHECK_EQ_INT(files_of(&t, d1.data_id), 6);

    /* the number uploaded again, with every drive well: it replaces the earlier upload */
    CHECK_EQ_INT(upload_part(&t, &u, dist, &r2, v2, &d3, taken_back), 0);
    /* the drives that held the earlier upload's record when the new one went in no longer have its
     * shard (the three whose WAL sync failed replayed the failed record at their reopen: theirs
     * was that one's, the earlier shard is the orphan collector's there) */
    for (uint32_t slot = 3; slot < 6; slot++) {
        uint64_t size;
        uint32_t shard = 0;
        while (d1.distribution[shard] != slot)
            shard++;
        CHECK_EQ_INT(store_shard_stat(u.set->drives[slot]->local, d1.data_id, shard, &size), STORE_ENOENT);
    }
    CHECK_EQ_INT(files_of(&t, d3.data_id), 6);
    gw_data_dispose(&d1);
    gw_data_dispose(&d2);
    gw_data_dispose(&d3);
    cluster_close(&t);
}

int main(void)
{
    RUN(test_faults_shard_fdatasync_failing_on_three_drives_refuses_write_and_keeps_previous);
    RUN(test_faults_enospc_in_the_middle_of_a_stripe);
    RUN(test_faults_eio_on_a_shard_read_is_rebuilt_and_noted_for_healing);
    RUN(test_faults_heal_waits_for_a_background_slot);
    RUN(test_faults_record_wal_sync_failing_on_three_drives_keeps_previous_version);
    RUN(test_faults_failed_write_that_surfaces_after_reopen_reads_back_whole);
    RUN(test_faults_failed_write_is_removed_from_every_drive_within_seconds);
    RUN(test_faults_failed_write_is_removed_from_a_drive_that_recovers_later);
    RUN(test_faults_failed_write_cleanup_never_removes_a_newer_write);
    RUN(test_faults_collect_takes_back_an_old_record_fewer_than_k_drives_hold);
    RUN(test_faults_part_takeback_removes_only_that_upload_of_the_number);
    RUN(test_faults_failed_reupload_of_a_part_keeps_the_earlier_upload);
    return unit_done();
}
