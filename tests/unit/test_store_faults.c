/* test_store_faults.c — the drive engine when a file-system call fails: a read that meets EIO,
 * a write cut short or refused for lack of space, an fdatasync, close, rename or directory fsync
 * that fails at commit, an unlink that fails after a prune, a mkdir that stops the creation of a
 * drive, a statvfs that fails; and RocksDB meeting the same faults in its WAL and SST files.
 * Real temp directories and a real RocksDB; the faults come from the seam of store/sys.c
 * (store_fault.h), and every test checks that its fault did happen.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "store/store.h"
#include "store/store_fault.h"
#include "tests/unit/unit.h"

#define BUCKET "photos"

static meta_bytes_t bytes(const char *s)
{
    return (meta_bytes_t){s, strlen(s)};
}

/* Deterministic bytes for a seed. */
static void fill(uint8_t *buf, size_t len, uint64_t seed)
{
    for (size_t i = 0; i < len; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        buf[i] = (uint8_t)(seed >> 56);
    }
}

static void make_id(uint8_t id[META_ID_LEN], uint64_t seed)
{
    fill(id, META_ID_LEN, seed);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Starts with no fault plan: a test that failed half-way may have left one. */
static int drive_new(char dir[64], store_drive_t **d)
{
    store_fault_clear();
    snprintf(dir, 64, "/tmp/yc-fault-test-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -errno;
    return store_drive_open(dir, 1, d);
}

static void drive_free(char dir[64], store_drive_t *d)
{
    store_fault_clear();
    store_drive_close(d);
    remove_tree(dir);
}

static size_t count_files(const char *dir)
{
    struct dirent *e;
    size_t n = 0;
    DIR *dp = opendir(dir);

    if (dp == NULL)
        return (size_t)-1;
    while ((e = readdir(dp)) != NULL)
        n += e->d_name[0] != '.';
    closedir(dp);
    return n;
}

static size_t count_tmp_files(const char *drive_dir)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/tmp", drive_dir);
    return count_files(path);
}

/* The path part naming the temp files of one drive ("<dir>/tmp/": the drive itself is under /tmp). */
static const char *tmp_of(const char *dir, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/tmp/", dir);
    return buf;
}

/* The path part naming the committed shards of one drive. */
static const char *shards_of(const char *dir, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/shards/", dir);
    return buf;
}

/* Writes len bytes as one shard in blocks of block_len; the first error is returned, and the
 * writer is aborted on it. */
static int write_shard(store_drive_t *d, const uint8_t id[META_ID_LEN], uint32_t index, const uint8_t *data, size_t len,
                       size_t block_len)
{
    store_shard_writer_t *w;
    int ret;

    if ((ret = store_shard_create(d, id, index, &w)) != 0)
        return ret;
    for (size_t off = 0; off < len; off += block_len) {
        size_t n = len - off < block_len ? len - off : block_len;
        if ((ret = store_shard_append(w, data + off, n)) != 0) {
            store_shard_abort(w);
            return ret;
        }
    }
    return store_shard_commit(w);
}

/* 1 when the shard reads back as data. */
static int shard_holds(store_drive_t *d, const uint8_t id[META_ID_LEN], uint32_t index, const uint8_t *data, size_t len)
{
    uint8_t *back = malloc(len);
    int ok = back != NULL && store_shard_read(d, id, index, 0, len, back) == 0 && memcmp(back, data, len) == 0;

    free(back);
    return ok;
}

static void object_init(meta_object_t *r, const char *key, int64_t mtime)
{
    memset(r, 0, sizeof(*r));
    r->bucket = bytes(BUCKET);
    r->key = bytes(key);
    r->mtime_ns = mtime;
    r->etag = bytes("0123456789abcdef0123456789abcdef");
    r->content_type = r->content_encoding = r->content_disposition = bytes("");
    r->content_language = r->cache_control = r->expires = bytes("");
    r->user_meta = r->checksum_algo = r->checksum_value = bytes("");
    r->owner = bytes("AKIAOWNER");
    r->ec_k = 4;
    r->ec_m = 2;
    r->stripe_size = 1 << 20;
    for (int i = 0; i < 16; i++)
        r->distribution[i] = (uint8_t)i;
    r->parts = r->inline_data = bytes("");
}

/* Writes shard 0 of data id_seed (300 bytes) and the record of key naming it; parts keeps the
 * part array alive for r. */
static int put_object_with_shard(store_drive_t *d, const char *key, int64_t mtime, uint64_t id_seed, meta_buf_t *parts,
                                 meta_object_t *r)
{
    uint8_t data[300];
    meta_part_ref_t p = {.number = 1, .size = sizeof(data)};
    int ret;

    object_init(r, key, mtime);
    make_id(p.data_id, id_seed);
    fill(data, sizeof(data), id_seed);
    if ((ret = write_shard(d, p.data_id, 0, data, sizeof(data), 128)) != 0 || (ret = meta_parts_append(parts, &p)) != 0)
        return ret;
    r->size = sizeof(data);
    r->parts = (meta_bytes_t){(const char *)parts->base, parts->len};
    r->part_count = 1;
    return store_object_put(d, r);
}

/* The mtime of the visible version of key, or the error. */
static int64_t visible_mtime(store_drive_t *d, const char *key)
{
    meta_buf_t raw = {0};
    meta_object_t got;
    int ret = store_object_get(d, bytes(BUCKET), bytes(key), NULL, &raw, &got);
    int64_t mtime = ret == 0 ? got.mtime_ns : ret;

    meta_buf_dispose(&raw);
    return mtime;
}

static int record_is(store_drive_t *d, const char *user, const char *value)
{
    meta_key_t key;
    void *val = NULL;
    size_t vlen = 0;
    int ok;

    if (meta_key_user(bytes(user), &key) != 0)
        return 0;
    ok = store_record_get(d, &key, &val, &vlen) == 0 && vlen == strlen(value) && memcmp(val, value, vlen) == 0;
    free(val);
    return ok;
}

static int record_put(store_drive_t *d, const char *user, const char *value)
{
    meta_key_t key;
    int ret = meta_key_user(bytes(user), &key);
    return ret != 0 ? ret : store_record_put(d, &key, value, strlen(value));
}

static int record_absent(store_drive_t *d, const char *user)
{
    meta_key_t key;
    void *val = NULL;
    size_t vlen;

    return meta_key_user(bytes(user), &key) == 0 && store_record_get(d, &key, &val, &vlen) == STORE_ENOENT;
}

/* ---- shard reads ---- */

/* Calls on a shard file: 1 the header, then one pread per block (block and checksum together). */
TEST(test_shard_read_reports_eio_when_nth_pread_fails_and_nothing_else_breaks)
{
    char dir[64], part[128];
    uint8_t id[META_ID_LEN], other[META_ID_LEN], data[400], back[400];
    store_drive_t *d;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(id, 1);
    make_id(other, 2);
    fill(data, sizeof(data), 1);
    CHECK_EQ_INT(write_shard(d, id, 3, data, sizeof(data), 100), 0);
    CHECK_EQ_INT(write_shard(d, other, 3, data, sizeof(data), 100), 0);

    /* the third pread is block 1 */
    CHECK(store_fault_fail_on(STORE_SYS_PREAD, shards_of(dir, part, sizeof(part)), 3, EIO) >= 0);
    CHECK_EQ_INT(store_shard_read(d, id, 3, 0, sizeof(back), back), STORE_EIO);
    CHECK_EQ_INT(store_fault_fired(), 1);
    /* the fault was one read: the shard, its neighbour and the verifier see whole data again */
    CHECK(shard_holds(d, id, 3, data, sizeof(data)));
    CHECK(shard_holds(d, other, 3, data, sizeof(data)));
    CHECK_EQ_INT(store_shard_verify(d, id, 3), 0);
    store_fault_clear();

    /* an EIO on the header is an I/O error, not a corrupt header */
    CHECK(store_fault_fail_on(STORE_SYS_PREAD, shards_of(dir, part, sizeof(part)), 1, EIO) >= 0);
    CHECK_EQ_INT(store_shard_read(d, id, 3, 0, 10, back), STORE_EIO);
    CHECK_EQ_INT(store_fault_fired(), 1);
    store_fault_clear();

    /* reads that return fewer bytes than asked are resumed */
    store_fault_t cut = {.kind = STORE_SYS_PREAD, .path = part, .nth = 1, .times = STORE_FAULT_FOREVER, .short_io = 1};
    CHECK(store_fault_add(&cut) >= 0);
    CHECK(shard_holds(d, id, 3, data, sizeof(data)));
    CHECK(store_fault_fired() >= 5);
    store_fault_clear();
    drive_free(dir, d);
}

/* ---- shard writes ---- */

TEST(test_shard_short_write_is_resumed)
{
    char dir[64], part[128];
    uint8_t id[META_ID_LEN], data[1000];
    store_drive_t *d;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(id, 3);
    fill(data, sizeof(data), 3);
    CHECK(store_fault_short_write(tmp_of(dir, part, sizeof(part)), 2) >= 0);
    CHECK(store_fault_short_write(part, 4) >= 0);
    CHECK_EQ_INT(write_shard(d, id, 0, data, sizeof(data), 256), 0);
    CHECK_EQ_INT(store_fault_fired(), 2);
    store_fault_clear();
    CHECK(shard_holds(d, id, 0, data, sizeof(data)));
    CHECK_EQ_INT(store_shard_verify(d, id, 0), 0);
    drive_free(dir, d);
}

/* The disk fills up in the middle of a block: the write is cut short, and resuming it meets
 * ENOSPC. The shard is refused, its temp file goes, the version already stored stays whole. */
TEST(test_shard_short_write_then_enospc_fails_shard_and_keeps_old_version)
{
    char dir[64], part[128];
    uint8_t id[META_ID_LEN], data[1000];
    meta_buf_t parts = {0};
    meta_object_t v1;
    store_drive_t *d;
    store_shard_writer_t *w;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    CHECK_EQ_INT(put_object_with_shard(d, "k", 1000, 10, &parts, &v1), 0);
    make_id(id, 11);
    fill(data, sizeof(data), 11);
    CHECK(store_fault_short_write(tmp_of(dir, part, sizeof(part)), 2) >= 0);
    CHECK(store_fault_fail_on(STORE_SYS_PWRITE, part, 3, ENOSPC) >= 0);
    CHECK_EQ_INT(store_shard_create(d, id, 0, &w), 0);
    CHECK_EQ_INT(store_shard_append(w, data, 256), 0);
    CHECK_EQ_INT(store_shard_append(w, data + 256, 256), STORE_ENOSPC);
    CHECK_EQ_INT(store_fault_fired(), 2);
    /* the writer stays failed: a later block is refused with the same error */
    CHECK_EQ_INT(store_shard_append(w, data + 512, 256), STORE_ENOSPC);
    CHECK_EQ_INT(store_shard_commit(w), STORE_ENOSPC);
    store_fault_clear();
    CHECK_EQ_INT(count_tmp_files(dir), 0);
    uint64_t size;
    CHECK_EQ_INT(store_shard_stat(d, id, 0, &size), STORE_ENOENT);
    CHECK_EQ_INT(visible_mtime(d, "k"), 1000);
    uint8_t old[300];
    meta_part_ref_t p;
    fill(old, sizeof(old), 10);
    CHECK_EQ_INT(meta_object_part(&v1, 0, &p), 0);
    CHECK(shard_holds(d, p.data_id, 0, old, sizeof(old)));
    meta_buf_dispose(&parts);
    drive_free(dir, d);
}

TEST(test_shard_create_refused_when_open_meets_enospc)
{
    char dir[64], part[128];
    uint8_t id[META_ID_LEN];
    store_drive_t *d;
    store_shard_writer_t *w = NULL;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(id, 4);
    CHECK(store_fault_fail_on(STORE_SYS_OPEN, tmp_of(dir, part, sizeof(part)), 1, ENOSPC) >= 0);
    CHECK_EQ_INT(store_shard_create(d, id, 0, &w), STORE_ENOSPC);
    CHECK_EQ_INT(store_fault_fired(), 1);
    CHECK_EQ_INT(count_tmp_files(dir), 0);
    drive_free(dir, d);
}

/* Commit: fdatasync, close, rename into shards/. A failure of any of them, for any reason,
 * leaves the shard invisible (a shard already under that name keeps its bytes) and no temp
 * file behind. */
TEST(test_shard_commit_failure_never_makes_shard_visible_and_leaves_no_temp_file)
{
    static const struct {
        int kind, err, want;
    } cases[] = {
        {STORE_SYS_FDATASYNC, EIO, STORE_EIO},    {STORE_SYS_FDATASYNC, ENOSPC, STORE_ENOSPC},
        {STORE_SYS_CLOSE, EIO, STORE_EIO},        {STORE_SYS_RENAME, EIO, STORE_EIO},
        {STORE_SYS_RENAME, ENOSPC, STORE_ENOSPC},
    };
    char dir[64], part[128];
    uint8_t id[META_ID_LEN], old[META_ID_LEN], data[500], first[500];
    uint64_t size;
    store_drive_t *d;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(old, 5);
    fill(first, sizeof(first), 5);
    CHECK_EQ_INT(write_shard(d, old, 1, first, sizeof(first), 100), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        /* a new shard */
        make_id(id, 100 + i);
        fill(data, sizeof(data), 100 + i);
        CHECK(store_fault_fail_on(cases[i].kind, tmp_of(dir, part, sizeof(part)), 1, cases[i].err) >= 0);
        CHECK_EQ_INT(write_shard(d, id, 1, data, sizeof(data), 100), cases[i].want);
        CHECK_EQ_INT(store_fault_fired(), 1);
        store_fault_clear();
        CHECK_EQ_INT(store_shard_stat(d, id, 1, &size), STORE_ENOENT);
        CHECK_EQ_INT(count_tmp_files(dir), 0);
        /* a rewrite of a committed shard (healing) */
        CHECK(store_fault_fail_on(cases[i].kind, part, 1, cases[i].err) >= 0);
        CHECK_EQ_INT(write_shard(d, old, 1, data, sizeof(data), 100), cases[i].want);
        CHECK_EQ_INT(store_fault_fired(), 1);
        store_fault_clear();
        CHECK(shard_holds(d, old, 1, first, sizeof(first)));
        CHECK_EQ_INT(count_tmp_files(dir), 0);
    }
    drive_free(dir, d);
}

/* After the rename the shard is in place; a failed fsync of its directory is still reported
 * (the rename may not survive a crash), and the file, which no record names, is an orphan
 * that the collector removes. */
TEST(test_shard_commit_reports_failed_directory_fsync_and_leaves_an_orphan)
{
    char dir[64], part[128];
    uint8_t id[META_ID_LEN], data[300];
    uint64_t size;
    size_t removed = 0;
    store_drive_t *d;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(id, 6);
    fill(data, sizeof(data), 6);
    CHECK(store_fault_fail_on(STORE_SYS_FSYNC, shards_of(dir, part, sizeof(part)), 1, EIO) >= 0);
    CHECK_EQ_INT(write_shard(d, id, 0, data, sizeof(data), 100), STORE_EIO);
    CHECK_EQ_INT(store_fault_fired(), 1);
    store_fault_clear();
    CHECK_EQ_INT(count_tmp_files(dir), 0);
    CHECK_EQ_INT(store_shard_stat(d, id, 0, &size), 0);
    CHECK_EQ_INT(store_drive_gc_orphans(d, 0, NULL, &removed), 0);
    CHECK_EQ_INT(removed, 1);
    CHECK_EQ_INT(store_shard_stat(d, id, 0, &size), STORE_ENOENT);
    drive_free(dir, d);
}

/* ---- deletes ---- */

/* The shards of a replaced version are deleted after its record: when the unlink fails, the
 * new version is unharmed and the old file is an orphan the collector removes later. */
TEST(test_object_prune_unlink_failure_leaves_only_an_orphan)
{
    char dir[64], part[128];
    meta_buf_t parts1 = {0}, parts2 = {0};
    meta_object_t v1, v2;
    meta_part_ref_t p1, p2;
    uint8_t data2[300];
    uint64_t size;
    size_t removed = 0;
    store_drive_t *d;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    CHECK_EQ_INT(put_object_with_shard(d, "k", 1000, 20, &parts1, &v1), 0);
    CHECK_EQ_INT(put_object_with_shard(d, "k", 2000, 21, &parts2, &v2), 0);
    CHECK_EQ_INT(meta_object_part(&v1, 0, &p1), 0);
    CHECK_EQ_INT(meta_object_part(&v2, 0, &p2), 0);
    CHECK(store_fault_fail_from(STORE_SYS_UNLINK, shards_of(dir, part, sizeof(part)), 1, EIO) >= 0);
    CHECK_EQ_INT(store_object_prune(d, &v2), 0);
    CHECK_EQ_INT(store_fault_fired(), 1);
    store_fault_clear();
    CHECK_EQ_INT(visible_mtime(d, "k"), 2000);
    CHECK_EQ_INT(store_shard_stat(d, p1.data_id, 0, &size), 0); /* the orphan */
    CHECK_EQ_INT(store_drive_gc_orphans(d, 0, NULL, &removed), 0);
    CHECK_EQ_INT(removed, 1);
    CHECK_EQ_INT(store_shard_stat(d, p1.data_id, 0, &size), STORE_ENOENT);
    fill(data2, sizeof(data2), 21);
    CHECK(shard_holds(d, p2.data_id, 0, data2, sizeof(data2)));
    meta_buf_dispose(&parts1);
    meta_buf_dispose(&parts2);
    drive_free(dir, d);
}

/* ---- the drive ---- */

/* Creating a drive makes 259 directories; one that fails stops the open with its error, and the
 * next open finishes the layout. */
TEST(test_drive_create_stopped_by_mkdir_failure_completes_at_next_open)
{
    char dir[64], path[512];
    store_drive_t *d = NULL;
    struct stat st;

    store_fault_clear();
    snprintf(dir, sizeof(dir), "/tmp/yc-fault-test-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    CHECK(store_fault_fail(STORE_SYS_MKDIR, 100, ENOSPC) >= 0);
    CHECK_EQ_INT(store_drive_open(dir, 1, &d), STORE_ENOSPC);
    CHECK_EQ_INT(store_fault_fired(), 1);
    store_fault_clear();
    snprintf(path, sizeof(path), "%s/shards/ff", dir);
    CHECK(stat(path, &st) != 0);
    CHECK_EQ_INT(store_drive_open(dir, 1, &d), 0);
    for (unsigned i = 0; i < 256; i++) {
        snprintf(path, sizeof(path), "%s/shards/%02x", dir, i);
        CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
    }
    drive_free(dir, d);
}

/* A drive whose filesystem cannot be looked at keeps admitting writes on its last numbers. */
TEST(test_space_keeps_last_numbers_when_statvfs_fails)
{
    char dir[64];
    uint8_t id[META_ID_LEN], data[300];
    store_drive_t *d;
    int watch;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    make_id(id, 7);
    fill(data, sizeof(data), 7);
    CHECK_EQ_INT(write_shard(d, id, 0, data, sizeof(data), 100), 0);
    CHECK((watch = store_fault_fail_from(STORE_SYS_STATVFS, NULL, 1, EIO)) >= 0);
    usleep(20 * 1000); /* past the estimate's 10 ms: the next admission looks again */
    make_id(id, 8);
    CHECK_EQ_INT(write_shard(d, id, 0, data, sizeof(data), 100), 0);
    CHECK(store_fault_fired() >= 1);
    store_fault_clear();
    CHECK(shard_holds(d, id, 0, data, sizeof(data)));
    drive_free(dir, d);
}

/* ---- RocksDB ---- */

/* A WAL sync that fails: the write is reported failed, what was there stays readable, the
 * database takes no write (none reaches RocksDB) until it is reopened, and after the reopen,
 * and after a restart, every acknowledged record is there. */
TEST(test_rocksdb_wal_sync_failure_fails_write_and_refuses_writes_until_reopened)
{
    char dir[64];
    meta_buf_t parts = {0};
    meta_object_t v1;
    store_drive_t *d;
    meta_db_t *db;
    int wal_writes;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    db = store_drive_db(d);
    CHECK_EQ_INT(record_put(d, "AKIA1", "one"), 0);
    CHECK_EQ_INT(put_object_with_shard(d, "k", 1000, 30, &parts, &v1), 0);

    CHECK((wal_writes = store_fault_watch(STORE_SYS_PWRITE, ".log")) >= 0);
    CHECK(store_fault_fail_on(STORE_SYS_FDATASYNC, ".log", 1, EIO) >= 0);
    CHECK_EQ_INT(record_put(d, "AKIA2", "two"), STORE_EIO);
    CHECK_EQ_INT(store_fault_fired(), 1);
    CHECK_EQ_INT(meta_db_write_error(db), META_EIO);
    CHECK(record_is(d, "AKIA1", "one"));
    CHECK_EQ_INT(visible_mtime(d, "k"), 1000);
    /* refused without reaching RocksDB: no WAL append happens */
    unsigned appends = store_fault_seen(wal_writes);
    CHECK_EQ_INT(meta_db_put(db, "x", 1, "y", 1), META_EIO);
    CHECK_EQ_INT(store_fault_seen(wal_writes), appends);
    store_fault_clear();

    CHECK_EQ_INT(meta_db_reopen(db), 0);
    CHECK_EQ_INT(meta_db_write_error(db), 0);
    CHECK_EQ_INT(record_put(d, "AKIA3", "three"), 0);
    CHECK(record_is(d, "AKIA1", "one") && record_is(d, "AKIA3", "three"));
    /* AKIA2 is not checked either way: its bytes reached the WAL before the sync failed, and
     * the reopen replays them, so the write reported failed is there now (its fate is unknown,
     * as after a crash before the sync). */
    CHECK_EQ_INT(visible_mtime(d, "k"), 1000);
    store_drive_close(d);
    CHECK_EQ_INT(store_drive_open(dir, 0, &d), 0);
    CHECK(record_is(d, "AKIA1", "one") && record_is(d, "AKIA3", "three"));
    CHECK_EQ_INT(visible_mtime(d, "k"), 1000);
    meta_buf_dispose(&parts);
    drive_free(dir, d);
}

/* The drive reopens a failed database by itself when the next write comes. */
TEST(test_rocksdb_failed_handle_reopened_by_next_write)
{
    char dir[64];
    meta_buf_t parts = {0};
    meta_object_t v1, v2;
    store_drive_t *d;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    CHECK_EQ_INT(put_object_with_shard(d, "k", 1000, 40, &parts, &v1), 0);
    CHECK(store_fault_fail_on(STORE_SYS_FDATASYNC, ".log", 1, EIO) >= 0);
    v2 = v1;
    v2.mtime_ns = 2000;
    CHECK_EQ_INT(store_object_put(d, &v2), STORE_EIO);
    CHECK_EQ_INT(store_fault_fired(), 1);
    CHECK_EQ_INT(visible_mtime(d, "k"), 1000);
    store_fault_clear();
    CHECK(meta_db_write_error(store_drive_db(d)) != 0);
    CHECK_EQ_INT(record_put(d, "AKIA1", "one"), 0);
    CHECK_EQ_INT(meta_db_write_error(store_drive_db(d)), 0);
    CHECK(record_is(d, "AKIA1", "one"));
    meta_buf_dispose(&parts);
    drive_free(dir, d);
}

/* A WAL append torn by a full disk: the record is lost, never half-applied; the reopen replays
 * the WAL up to the tear. */
TEST(test_rocksdb_torn_wal_append_loses_only_the_failed_record)
{
    char dir[64];
    store_drive_t *d;
    meta_db_t *db;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    db = store_drive_db(d);
    CHECK_EQ_INT(record_put(d, "AKIA1", "one"), 0);
    store_fault_t torn = {.kind = STORE_SYS_PWRITE, .path = ".log", .nth = 1, .times = 1, .err = ENOSPC, .short_io = 1};
    CHECK(store_fault_add(&torn) >= 0);
    CHECK_EQ_INT(record_put(d, "AKIA2", "two"), STORE_ENOSPC);
    CHECK_EQ_INT(store_fault_fired(), 1);
    CHECK_EQ_INT(meta_db_write_error(db), META_ENOSPC);
    store_fault_clear();
    CHECK_EQ_INT(meta_db_reopen(db), 0);
    CHECK(record_is(d, "AKIA1", "one"));
    CHECK(record_absent(d, "AKIA2"));
    CHECK_EQ_INT(record_put(d, "AKIA3", "three"), 0);
    store_drive_close(d);
    CHECK_EQ_INT(store_drive_open(dir, 0, &d), 0);
    CHECK(record_is(d, "AKIA1", "one") && record_is(d, "AKIA3", "three"));
    CHECK(record_absent(d, "AKIA2"));
    drive_free(dir, d);
}

/* An SST write that fails during a flush (a background thread): the listener fails the handle
 * at once, reads go on, and the reopen brings every record back from the WAL. */
TEST(test_rocksdb_sst_write_failure_stops_writes_until_reopened)
{
    char dir[64], user[32];
    store_drive_t *d;
    meta_db_t *db;
    int waited = 0;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    db = store_drive_db(d);
    for (int i = 0; i < 50; i++) {
        snprintf(user, sizeof(user), "AKIA%d", i);
        CHECK_EQ_INT(record_put(d, user, user), 0);
    }
    CHECK(store_fault_fail_from(STORE_SYS_PWRITE, ".sst", 1, EIO) >= 0);
    CHECK_EQ_INT(meta_db_flush(db), 0);
    while (meta_db_write_error(db) == 0 && waited++ < 500)
        usleep(10 * 1000);
    CHECK_EQ_INT(meta_db_write_error(db), META_EIO);
    CHECK(store_fault_fired() >= 1);
    CHECK(record_is(d, "AKIA7", "AKIA7"));
    store_fault_clear();
    CHECK_EQ_INT(meta_db_reopen(db), 0);
    CHECK_EQ_INT(record_put(d, "AKIA50", "AKIA50"), 0);
    store_drive_close(d);
    CHECK_EQ_INT(store_drive_open(dir, 0, &d), 0);
    for (int i = 0; i <= 50; i++) {
        snprintf(user, sizeof(user), "AKIA%d", i);
        CHECK(record_is(d, user, user));
    }
    drive_free(dir, d);
}

/* A reopen that cannot write its new files for lack of space (here the temp files of CURRENT
 * and OPTIONS) opens the database read-only: reads are served, writes wait for the next
 * reopen, which works once there is room. */
TEST(test_rocksdb_reopen_without_room_for_new_files_opens_read_only)
{
    char dir[64];
    store_drive_t *d;
    meta_db_t *db;

    CHECK_EQ_INT(drive_new(dir, &d), 0);
    db = store_drive_db(d);
    CHECK_EQ_INT(record_put(d, "AKIA1", "one"), 0);
    CHECK(store_fault_fail_on(STORE_SYS_FDATASYNC, ".log", 1, EIO) >= 0);
    CHECK_EQ_INT(record_put(d, "AKIA2", "two"), STORE_EIO);
    CHECK(store_fault_fail_from(STORE_SYS_OPEN, ".dbtmp", 1, ENOSPC) >= 0);
    CHECK_EQ_INT(meta_db_reopen(db), META_ENOSPC);
    CHECK(store_fault_fired() >= 2);
    CHECK_EQ_INT(meta_db_read_only(db), 1);
    CHECK(record_is(d, "AKIA1", "one"));
    CHECK_EQ_INT(meta_db_put(db, "x", 1, "y", 1), META_ENOSPC);
    store_fault_clear();
    CHECK_EQ_INT(meta_db_reopen(db), 0);
    CHECK_EQ_INT(meta_db_read_only(db), 0);
    CHECK_EQ_INT(record_put(d, "AKIA3", "three"), 0);
    CHECK(record_is(d, "AKIA1", "one") && record_is(d, "AKIA3", "three"));
    drive_free(dir, d);
}

int main(void)
{
    RUN(test_shard_read_reports_eio_when_nth_pread_fails_and_nothing_else_breaks);
    RUN(test_shard_short_write_is_resumed);
    RUN(test_shard_short_write_then_enospc_fails_shard_and_keeps_old_version);
    RUN(test_shard_create_refused_when_open_meets_enospc);
    RUN(test_shard_commit_failure_never_makes_shard_visible_and_leaves_no_temp_file);
    RUN(test_shard_commit_reports_failed_directory_fsync_and_leaves_an_orphan);
    RUN(test_object_prune_unlink_failure_leaves_only_an_orphan);
    RUN(test_drive_create_stopped_by_mkdir_failure_completes_at_next_open);
    RUN(test_space_keeps_last_numbers_when_statvfs_fails);
    RUN(test_rocksdb_wal_sync_failure_fails_write_and_refuses_writes_until_reopened);
    RUN(test_rocksdb_failed_handle_reopened_by_next_write);
    RUN(test_rocksdb_torn_wal_append_loses_only_the_failed_record);
    RUN(test_rocksdb_sst_write_failure_stops_writes_until_reopened);
    RUN(test_rocksdb_reopen_without_room_for_new_files_opens_read_only);
    return unit_done();
}
