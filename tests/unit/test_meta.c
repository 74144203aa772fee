/* test_meta.c — unit tests of meta/: key order through a real RocksDB, record codecs against
 * corruption, and the database wrapper (batches, scans, persistence, concurrent writers, and a
 * drive that fills up: on a small tmpfs, skipped when it cannot be mounted).
 * Every database lives in a fresh directory under one mkdtemp directory, removed at the end. */
#include "meta/meta.h"
#include "tests/unit/unit.h"
#include "tests/unit/unit_fs.h"

#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

static char tmp_root[64];
static unsigned db_counter;

static meta_bytes_t B(const char *s)
{
    meta_bytes_t b = {s, strlen(s)};
    return b;
}

static meta_bytes_t BN(const void *p, size_t n)
{
    meta_bytes_t b = {p, n};
    return b;
}

static int bytes_eq(meta_bytes_t a, meta_bytes_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.base, b.base, a.len) == 0);
}

/* A fresh directory path for one database. */
static void db_path(char *out, size_t n)
{
    snprintf(out, n, "%s/db%u", tmp_root, db_counter++);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* ---- tricky object keys ---- */

typedef struct {
    char buf[META_KEY_MAX];
    size_t len;
} raw_key_t;

#define MAX_KEYS 64
static raw_key_t keys[MAX_KEYS];
static size_t nkeys;

static void add_key(const void *p, size_t n)
{
    memcpy(keys[nkeys].buf, p, n);
    keys[nkeys].len = n;
    nkeys++;
}

#define ADD(lit) add_key(lit, sizeof(lit) - 1)

static void build_keys(void)
{
    char big[META_KEY_MAX];

    nkeys = 0;
    ADD("");
    ADD("a");
    ADD("a/");
    ADD("a/b");
    ADD("a/b/c");
    ADD("a\0");
    ADD("a\0b");
    ADD("a\0\0");
    ADD("a\0\x01");
    ADD("a\x01");
    ADD("a\xff");
    ADD("a\xff\xff");
    ADD("a\xff\0");
    ADD("ab");
    ADD("a b");
    ADD("A");
    ADD("b");
    ADD("\0");
    ADD("\0\0");
    ADD("\0\xff");
    ADD("\x01");
    ADD("\xff");
    ADD("\xff\xff");
    ADD("\xe4\xb8\xad\xe6\x96\x87/\xe9\x94\xae"); /* 中文/键 */
    ADD("\xe4\xb8\xad\xe6\x96\x87");              /* 中文 */
    ADD("\xc3\xa9t\xc3\xa9");                     /* été */
    ADD("\xf0\x9f\x98\x80 smile");                /* U+1F600 */
    ADD("photos/2024/01/img.jpg");
    ADD("photos/2024/01/img.jpg/");
    ADD("photos/2024/1");
    memset(big, 'z', sizeof(big));
    add_key(big, sizeof(big));
    big[sizeof(big) - 1] = 0;
    add_key(big, sizeof(big));
    memset(big, 0, sizeof(big));
    add_key(big, sizeof(big));
    memset(big, 0xff, sizeof(big));
    add_key(big, sizeof(big));
    memset(big, 'a', sizeof(big));
    add_key(big, sizeof(big) - 1);
}

/* memcmp order of raw keys: the order S3 lists in. */
static int raw_cmp(const void *pa, const void *pb)
{
    const raw_key_t *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n > 0 ? memcmp(a->buf, b->buf, n) : 0;

    return c != 0 ? c : (a->len > b->len) - (a->len < b->len);
}

typedef struct {
    raw_key_t got[MAX_KEYS * 4];
    int64_t mtime[MAX_KEYS * 4];
    size_t n;
    int bad;
} collect_t;

static int collect_objects(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    collect_t *c = arg;
    meta_bytes_t b, k;

    if (c->n == MAX_KEYS * 4 ||
        meta_key_parse_object(key, klen, &b, c->got[c->n].buf, &k, &c->mtime[c->n], NULL) != 0) {
        c->bad = 1;
        return 1;
    }
    c->got[c->n].len = k.len;
    c->n++;
    return 0;
}

static const uint8_t vid_zero[META_ID_LEN];

static meta_db_t *open_fresh(void)
{
    char path[128];
    meta_db_t *db = NULL;

    db_path(path, sizeof(path));
    return meta_db_open(path, 1, &db) == 0 ? db : NULL;
}

/* Writes every tricky key into bucket "bk" (plus neighbours "b" and "bkk" that must not show). */
static int put_keys(meta_db_t *db)
{
    meta_key_t k;
    meta_batch_t *b = meta_batch_new();
    int ret = -1;

    if (b == NULL)
        return -1;
    for (size_t i = 0; i < nkeys; i++) {
        if (meta_key_object(B("bk"), BN(keys[i].buf, keys[i].len), 1000, vid_zero, &k) != 0)
            goto out;
        meta_batch_put(b, k.buf, k.len, "v", 1);
        if (meta_key_object(B("b"), BN(keys[i].buf, keys[i].len), 1000, vid_zero, &k) != 0 ||
            (meta_batch_put(b, k.buf, k.len, "x", 1), 0) ||
            meta_key_object(B("bkk"), BN(keys[i].buf, keys[i].len), 1000, vid_zero, &k) != 0)
            goto out;
        meta_batch_put(b, k.buf, k.len, "x", 1);
    }
    ret = meta_db_write(db, b);
out:
    meta_batch_free(b);
    return ret;
}

/* ---- keys through RocksDB ---- */

TEST(test_key_order_matches_memcmp_when_scanned)
{
    static collect_t c;
    static raw_key_t ref[MAX_KEYS];
    meta_db_t *db;
    meta_key_t prefix;
    int ret;

    build_keys();
    CHECK((db = open_fresh()) != NULL);
    CHECK_EQ_INT(put_keys(db), 0);
    CHECK_EQ_INT(meta_key_bucket_objects(B("bk"), &prefix), 0);
    memset(&c, 0, sizeof(c));
    ret = meta_db_scan(db, prefix.buf, prefix.len, NULL, 0, collect_objects, &c);
    meta_db_close(db);
    CHECK_EQ_INT(ret, 0);
    CHECK(!c.bad);
    memcpy(ref, keys, sizeof(keys[0]) * nkeys);
    qsort(ref, nkeys, sizeof(ref[0]), raw_cmp);
    CHECK_EQ_INT(c.n, nkeys);
    for (size_t i = 0; i < nkeys; i++)
        CHECK(raw_cmp(&c.got[i], &ref[i]) == 0);
}

TEST(test_key_seek_lands_on_first_key_at_or_after_prefix)
{
    static collect_t c;
    static raw_key_t ref[MAX_KEYS];
    meta_db_t *db;
    meta_key_t prefix, seek;
    int ok = 1;

    build_keys();
    memcpy(ref, keys, sizeof(keys[0]) * nkeys);
    qsort(ref, nkeys, sizeof(ref[0]), raw_cmp);
    CHECK((db = open_fresh()) != NULL);
    CHECK_EQ_INT(put_keys(db), 0);
    CHECK_EQ_INT(meta_key_bucket_objects(B("bk"), &prefix), 0);
    /* Every tricky key, and a few that are not stored, used as a prefix: the scan from the
     * seek key must return exactly the reference keys >= that prefix, in order. */
    for (size_t s = 0; s < nkeys + 4; s++) {
        raw_key_t p;
        size_t first = 0;
        int ret;

        if (s < nkeys)
            p = keys[s];
        else {
            static const char *extra[] = {"a\0a", "photos/", "\xe4", "c"};
            p.len = s - nkeys == 0 ? 3 : strlen(extra[s - nkeys]);
            memcpy(p.buf, extra[s - nkeys], p.len);
        }
        while (first < nkeys && raw_cmp(&ref[first], &p) < 0)
            first++;
        CHECK_EQ_INT(meta_key_object_seek(B("bk"), BN(p.buf, p.len), &seek), 0);
        memset(&c, 0, sizeof(c));
        ret = meta_db_scan(db, prefix.buf, prefix.len, seek.buf, seek.len, collect_objects, &c);
        if (ret != 0 || c.bad || c.n != nkeys - first) {
            ok = 0;
            break;
        }
        for (size_t i = 0; i < c.n; i++)
            ok &= raw_cmp(&c.got[i], &ref[first + i]) == 0;
    }
    meta_db_close(db);
    CHECK(ok);
}

TEST(test_key_versions_come_newest_first_when_scanned)
{
    static collect_t c;
    static const int64_t times[] = {5, 1000000000000000000LL, 0, 7, INT64_MAX, 6, 1};
    meta_db_t *db;
    meta_key_t k, prefix;
    uint8_t vid[META_ID_LEN];
    int ret;

    CHECK((db = open_fresh()) != NULL);
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        memset(vid, (int)i + 1, sizeof(vid));
        CHECK_EQ_INT(meta_key_object(B("bk"), BN("k\0", 2), times[i], vid, &k), 0);
        CHECK_EQ_INT(meta_db_put(db, k.buf, k.len, "v", 1), 0);
    }
    /* neighbours: a key this one is a prefix of, and one that is a prefix of it */
    CHECK_EQ_INT(meta_key_object(B("bk"), BN("k\0\0", 3), 3, vid_zero, &k), 0);
    CHECK_EQ_INT(meta_db_put(db, k.buf, k.len, "v", 1), 0);
    CHECK_EQ_INT(meta_key_object(B("bk"), B("k"), 3, vid_zero, &k), 0);
    CHECK_EQ_INT(meta_db_put(db, k.buf, k.len, "v", 1), 0);
    CHECK_EQ_INT(meta_key_object_versions(B("bk"), BN("k\0", 2), &prefix), 0);
    memset(&c, 0, sizeof(c));
    ret = meta_db_scan(db, prefix.buf, prefix.len, NULL, 0, collect_objects, &c);
    meta_db_close(db);
    CHECK_EQ_INT(ret, 0);
    CHECK_EQ_INT(c.n, 7);
    CHECK_EQ_INT(c.mtime[0], INT64_MAX);
    for (size_t i = 1; i < c.n; i++)
        CHECK(c.mtime[i - 1] > c.mtime[i]);
    CHECK_EQ_INT(c.mtime[6], 0);
}

/* The newest-only scan gives each key's null slot and newest version, whatever lies behind: older
 * versions, tombstones of deleted versions right after the newest (more than a step may pass
 * over), and a run of deleted keys right after a null slot; the tombstones of the deleted
 * versions are not stepped over one by one. */
TEST(test_scan_newest_gives_slot_and_newest_version_when_tombstones_follow)
{
    meta_db_t *db = open_fresh();
    meta_batch_t *puts = meta_batch_new(), *dels = meta_batch_new();
    uint8_t vid[META_ID_LEN] = {1};
    meta_key_t k, prefix;
    meta_perf_t perf;
    char name[8];
    collect_t c = {0};

    CHECK(db != NULL && puts != NULL && dels != NULL);
    /* "a": a slot, a newest version (time 500), 100 deleted older ones and 3 live older ones */
    CHECK_EQ_INT(meta_key_object_null(B("nw"), B("a"), &k), 0);
    meta_batch_put(puts, k.buf, k.len, "s", 1);
    for (int i = 0; i < 104; i++) {
        vid[1] = (uint8_t)i;
        CHECK_EQ_INT(meta_key_object(B("nw"), B("a"), i == 0 ? 500 : 400 - i, vid, &k), 0);
        meta_batch_put(puts, k.buf, k.len, "v", 1);
        if (i > 0 && i <= 100)
            meta_batch_delete(dels, k.buf, k.len);
    }
    /* "b0".."b9": deleted keys (slots), then "c": a slot and two versions */
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "b%d", i);
        CHECK_EQ_INT(meta_key_object_null(B("nw"), B(name), &k), 0);
        meta_batch_put(puts, k.buf, k.len, "s", 1);
        meta_batch_delete(dels, k.buf, k.len);
    }
    CHECK_EQ_INT(meta_key_object_null(B("nw"), B("c"), &k), 0);
    meta_batch_put(puts, k.buf, k.len, "s", 1);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(meta_key_object(B("nw"), B("c"), 300 - i, vid, &k), 0);
        meta_batch_put(puts, k.buf, k.len, "v", 1);
    }
    CHECK_EQ_INT(meta_db_write(db, puts), 0);
    CHECK_EQ_INT(meta_db_write(db, dels), 0);
    CHECK_EQ_INT(meta_key_bucket_objects(B("nw"), &prefix), 0);

    meta_perf_start();
    CHECK_EQ_INT(meta_db_scan_newest(db, prefix.buf, prefix.len, NULL, 0, collect_objects, &c), 0);
    meta_perf_stop(&perf);
    CHECK(!c.bad);
    CHECK_EQ_INT(c.n, 4);
    CHECK(c.got[0].len == 1 && c.got[0].buf[0] == 'a' && c.mtime[0] == META_NULL_SLOT_MTIME);
    CHECK(c.got[1].len == 1 && c.got[1].buf[0] == 'a' && c.mtime[1] == 500);
    CHECK(c.got[2].len == 1 && c.got[2].buf[0] == 'c' && c.mtime[2] == META_NULL_SLOT_MTIME);
    CHECK(c.got[3].len == 1 && c.got[3].buf[0] == 'c' && c.mtime[3] == 300);
    fprintf(stderr, "  newest-only scan: %llu tombstones stepped over (100 deleted versions, 10 deleted keys)\n",
            (unsigned long long)perf.deletes_skipped);
    CHECK(perf.deletes_skipped < 100);

    /* from a seek that is a version's key: past its object key */
    c.n = 0;
    vid[1] = 0;
    CHECK_EQ_INT(meta_key_object(B("nw"), B("a"), 500, vid, &k), 0);
    CHECK_EQ_INT(meta_db_scan_newest(db, prefix.buf, prefix.len, k.buf, k.len, collect_objects, &c), 0);
    CHECK_EQ_INT(c.n, 2);
    CHECK(c.got[0].buf[0] == 'c' && c.mtime[0] == META_NULL_SLOT_MTIME);
    /* the plain scan gives every live record: a's slot and 4 versions, c's slot and 2 */
    c.n = 0;
    CHECK_EQ_INT(meta_db_scan(db, prefix.buf, prefix.len, NULL, 0, collect_objects, &c), 0);
    CHECK_EQ_INT(c.n, 8);
    meta_batch_free(puts);
    meta_batch_free(dels);
    meta_db_close(db);
}

/* ---- the live scan (meta_db_scan_live) ---- */

/* One object record of bucket "lv" under its key: the null slot when mtime < 0 (the record then
 * has time -mtime), else a version; a delete marker when marker is set. */
static void put_live_record(meta_batch_t *b, const char *key, int64_t mtime, uint8_t vid_byte, int marker)
{
    meta_object_t o = {0};
    meta_buf_t rec = {0};
    meta_key_t k;

    o.bucket = B("lv");
    o.key = B(key);
    memset(o.vid, mtime < 0 ? 0 : vid_byte, sizeof(o.vid));
    o.mtime_ns = mtime < 0 ? -mtime : mtime;
    o.flags = marker ? META_OBJ_DELETE_MARKER : 0;
    o.etag = B("d41d8cd98f00b204e9800998ecf8427e");
    if (mtime < 0)
        meta_key_object_null(B("lv"), B(key), &k);
    else
        meta_key_object(B("lv"), B(key), mtime, o.vid, &k);
    if (meta_object_encode(&o, &rec) == 0)
        meta_batch_put(b, k.buf, k.len, rec.base, rec.len);
    meta_buf_dispose(&rec);
}

typedef struct {
    char key[META_SCAN_NOTE_EVERY * 3][16]; /* object key, "!" before it for a note */
    int64_t mtime[META_SCAN_NOTE_EVERY * 3];
    size_t n, stop_at;
    meta_key_t last;
    int bad;
} live_seen_t;

static int collect_live(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    live_seen_t *c = arg;
    char buf[META_KEY_MAX];
    meta_bytes_t k;

    if (c->n == sizeof(c->key) / sizeof(c->key[0]) ||
        meta_key_parse_object(key, klen, NULL, buf, &k, &c->mtime[c->n], NULL) != 0 || k.len > 12) {
        c->bad = 1;
        return 1;
    }
    snprintf(c->key[c->n], sizeof(c->key[0]), "%s%.*s", vlen == 0 ? "!" : "", (int)k.len, k.base);
    memcpy(c->last.buf, key, klen);
    c->last.len = klen;
    return ++c->n == c->stop_at ? 1 : 0;
}

/* Keys topped by a marker are left out, decided over the null slot and the newest version by
 * time: a marker over a version, a marker alone, a marker slot over an older version, a marker
 * slot alone; a skip note (the last key left out, empty value) comes before the next record and at
 * the end. A newer live version over a marker slot comes with the slot; a live slot comes as the
 * newest scan gives it, with the marker version over it. */
TEST(test_scan_live_leaves_out_marker_topped_keys_with_notes)
{
    static live_seen_t c;
    meta_db_t *db = open_fresh();
    meta_batch_t *b = meta_batch_new();
    meta_key_t prefix;

    CHECK(db != NULL && b != NULL);
    put_live_record(b, "a", 100, 1, 0);
    put_live_record(b, "a", 90, 2, 0);
    put_live_record(b, "b", 200, 3, 1);
    put_live_record(b, "b", 100, 4, 0);
    put_live_record(b, "c", 200, 5, 1);
    put_live_record(b, "c", 150, 6, 0);
    put_live_record(b, "c", 100, 7, 0);
    put_live_record(b, "d", 200, 8, 1);
    put_live_record(b, "e", -50, 0, 0);
    put_live_record(b, "e", 300, 9, 1);
    put_live_record(b, "f", -400, 0, 1);
    put_live_record(b, "f", 100, 10, 0);
    put_live_record(b, "g", -100, 0, 1);
    put_live_record(b, "g", 500, 11, 0);
    put_live_record(b, "h", -100, 0, 1);
    CHECK_EQ_INT(meta_db_write(db, b), 0);
    CHECK_EQ_INT(meta_key_bucket_objects(B("lv"), &prefix), 0);

    memset(&c, 0, sizeof(c));
    CHECK_EQ_INT(meta_db_scan_live(db, prefix.buf, prefix.len, NULL, 0, collect_live, &c), 0);
    CHECK(!c.bad);
    static const char *want[] = {"a", "!d", "e", "e", "!f", "g", "g", "!h"};
    static const int64_t want_mtime[] = {
        100, 200, META_NULL_SLOT_MTIME, 300, 100, META_NULL_SLOT_MTIME, 500, META_NULL_SLOT_MTIME};
    CHECK_EQ_INT(c.n, 8);
    for (size_t i = 0; i < c.n && i < 8; i++) {
        CHECK(strcmp(c.key[i], want[i]) == 0);
        CHECK(c.mtime[i] == want_mtime[i]);
    }
    /* the newest scan over the same drive gives every key, markers included */
    collect_t all = {0};
    CHECK_EQ_INT(meta_db_scan_newest(db, prefix.buf, prefix.len, NULL, 0, collect_objects, &all), 0);
    CHECK_EQ_INT(all.n, 11);

    /* a scan stopped at the note goes on after it, past the keys the note covered */
    memset(&c, 0, sizeof(c));
    c.stop_at = 2;
    CHECK_EQ_INT(meta_db_scan_live(db, prefix.buf, prefix.len, NULL, 0, collect_live, &c), 0);
    CHECK(c.n == 2 && strcmp(c.key[1], "!d") == 0);
    meta_key_t from = c.last;
    memset(&c, 0, sizeof(c));
    CHECK_EQ_INT(meta_db_scan_live(db, prefix.buf, prefix.len, from.buf, from.len, collect_live, &c), 0);
    CHECK(c.n == 6 && strcmp(c.key[0], "e") == 0 && strcmp(c.key[5], "!h") == 0);
    meta_batch_free(b);
    meta_db_close(db);
}

/* A run of deleted keys (a marker over one version each) gets a note every META_SCAN_NOTE_EVERY
 * keys and one at its end, and is walked with steps: no seek per key; past a key of 10 versions
 * steps too, past one of 40 a seek. */
TEST(test_scan_live_notes_long_runs_and_steps_over_deleted_keys)
{
    static live_seen_t c;
    size_t nkeys_deleted = 2 * META_SCAN_NOTE_EVERY + 10;
    meta_db_t *db = open_fresh();
    meta_batch_t *b = meta_batch_new();
    meta_key_t prefix;
    meta_perf_t perf;
    char name[16];

    CHECK(db != NULL && b != NULL);
    for (size_t i = 0; i < nkeys_deleted; i++) {
        snprintf(name, sizeof(name), "dm-%05zu", i);
        put_live_record(b, name, 200, 1, 1);
        put_live_record(b, name, 100, 2, 0);
    }
    put_live_record(b, "live", 100, 3, 0);
    for (int i = 0; i < 10; i++) /* a key of 10 versions: steps; one of 40: steps, then one seek */
        put_live_record(b, "v10", 100 + i, (uint8_t)i, 0);
    for (int i = 0; i < 40; i++)
        put_live_record(b, "v40", 100 + i, (uint8_t)i, 0);
    CHECK_EQ_INT(meta_db_write(db, b), 0);
    CHECK_EQ_INT(meta_key_bucket_objects(B("lv"), &prefix), 0);

    memset(&c, 0, sizeof(c));
    meta_perf_start();
    CHECK_EQ_INT(meta_db_scan_live(db, prefix.buf, prefix.len, NULL, 0, collect_live, &c), 0);
    meta_perf_stop(&perf);
    CHECK(!c.bad);
    CHECK_EQ_INT(c.n, 6);
    CHECK(strcmp(c.key[0], "!dm-01023") == 0);
    CHECK(strcmp(c.key[1], "!dm-02047") == 0);
    snprintf(name, sizeof(name), "!dm-%05zu", nkeys_deleted - 1);
    CHECK(strcmp(c.key[2], name) == 0);
    CHECK(strcmp(c.key[3], "live") == 0);
    CHECK(strcmp(c.key[4], "v10") == 0 && c.mtime[4] == 109);
    CHECK(strcmp(c.key[5], "v40") == 0 && c.mtime[5] == 139);
    fprintf(stderr, "  live scan over %zu deleted keys and keys of 10 and 40 versions: %llu seeks, %llu steps\n",
            nkeys_deleted, (unsigned long long)perf.seeks, (unsigned long long)perf.nexts);
    CHECK(perf.seeks < 10);
    meta_batch_free(b);
    meta_db_close(db);
}

TEST(test_key_same_mtime_versions_ordered_by_vid)
{
    meta_key_t a, b;
    uint8_t v1[META_ID_LEN] = {1}, v2[META_ID_LEN] = {2};

    CHECK_EQ_INT(meta_key_object(B("bk"), B("k"), 10, v1, &a), 0);
    CHECK_EQ_INT(meta_key_object(B("bk"), B("k"), 10, v2, &b), 0);
    CHECK(a.len == b.len && memcmp(a.buf, b.buf, a.len) < 0);
}

TEST(test_key_parts_sort_by_number)
{
    meta_key_t a, b, p;
    uint8_t up[META_ID_LEN] = {9};

    CHECK_EQ_INT(meta_key_part(up, 2, &a), 0);
    CHECK_EQ_INT(meta_key_part(up, 256, &b), 0);
    CHECK_EQ_INT(meta_key_parts(up, &p), 0);
    CHECK(a.len == b.len && memcmp(a.buf, b.buf, a.len) < 0);
    CHECK(p.len < a.len && memcmp(a.buf, p.buf, p.len) == 0);
}

TEST(test_key_parse_returns_fields_when_object_key)
{
    meta_key_t k;
    meta_bytes_t bucket, key;
    char buf[META_KEY_MAX];
    uint8_t vid[META_ID_LEN], got[META_ID_LEN];
    int64_t mtime;

    for (size_t i = 0; i < sizeof(vid); i++)
        vid[i] = (uint8_t)(0xF0 + i);
    CHECK_EQ_INT(meta_key_object(B("bucket-1"), BN("x\0\xff\0y", 5), 123456789, vid, &k), 0);
    CHECK_EQ_INT(meta_key_parse_object(k.buf, k.len, &bucket, buf, &key, &mtime, got), 0);
    CHECK(bytes_eq(bucket, B("bucket-1")));
    CHECK(bytes_eq(key, BN("x\0\xff\0y", 5)));
    CHECK_EQ_INT(mtime, 123456789);
    CHECK(memcmp(got, vid, sizeof(vid)) == 0);
    CHECK_EQ_INT(meta_key_parse_object(k.buf, k.len, NULL, NULL, NULL, NULL, NULL), 0);
}

TEST(test_key_parse_returns_upload_id_when_upload_key)
{
    meta_key_t k;
    meta_bytes_t bucket, key;
    char buf[META_KEY_MAX];
    uint8_t up[META_ID_LEN] = {1, 2, 3, 0, 0xff}, got[META_ID_LEN];

    CHECK_EQ_INT(meta_key_upload(B("bk"), B("\xff"), up, &k), 0);
    CHECK_EQ_INT(meta_key_parse_object(k.buf, k.len, &bucket, buf, &key, NULL, got), 0);
    CHECK(bytes_eq(bucket, B("bk")) && bytes_eq(key, B("\xff")));
    CHECK(memcmp(got, up, sizeof(up)) == 0);
}

TEST(test_key_parse_rejects_when_malformed)
{
    meta_key_t k;
    uint8_t bad[META_ENCODED_KEY_MAX + 8];
    char buf[META_KEY_MAX];

    CHECK_EQ_INT(meta_key_object(B("bk"), B("ab"), 1, vid_zero, &k), 0);
    /* every truncation */
    for (size_t n = 0; n < k.len; n++)
        CHECK_EQ_INT(meta_key_parse_object(k.buf, n, NULL, buf, NULL, NULL, NULL), META_ECORRUPT);
    /* trailing byte */
    memcpy(bad, k.buf, k.len);
    bad[k.len] = 0;
    CHECK_EQ_INT(meta_key_parse_object(bad, k.len + 1, NULL, buf, NULL, NULL, NULL), META_ECORRUPT);
    /* wrong tag, bad escape, negative time */
    memcpy(bad, k.buf, k.len);
    bad[0] = 'B';
    CHECK_EQ_INT(meta_key_parse_object(bad, k.len, NULL, buf, NULL, NULL, NULL), META_ECORRUPT);
    CHECK_EQ_INT(meta_key_object(B("bk"), BN("a\0b", 3), 1, vid_zero, &k), 0);
    memcpy(bad, k.buf, k.len);
    bad[6] = 0x02; /* 'O' b k 0 a 0 [FF] */
    CHECK_EQ_INT(meta_key_parse_object(bad, k.len, NULL, buf, NULL, NULL, NULL), META_ECORRUPT);
    memcpy(bad, k.buf, k.len);
    bad[k.len - META_ID_LEN - 8] = 0x7F; /* ~mtime with the top bit clear: a negative time */
    CHECK_EQ_INT(meta_key_parse_object(bad, k.len, NULL, buf, NULL, NULL, NULL), META_ECORRUPT);
    /* a bucket of 64 bytes */
    memset(bad, 'b', sizeof(bad));
    bad[0] = 'O';
    bad[65] = 0;
    bad[66] = 0;
    bad[67] = 1;
    CHECK_EQ_INT(meta_key_parse_object(bad, 68 + 8 + META_ID_LEN, NULL, buf, NULL, NULL, NULL), META_ECORRUPT);
    /* an unescaped key of 1025 bytes */
    memset(bad, 'k', sizeof(bad));
    bad[0] = 'O';
    bad[3] = 0;
    bad[3 + 1 + 1025] = 0;
    bad[3 + 1 + 1025 + 1] = 1;
    CHECK_EQ_INT(meta_key_parse_object(bad, 3 + 1025 + 3 + 8 + META_ID_LEN, NULL, buf, NULL, NULL, NULL),
                 META_ECORRUPT);
}

TEST(test_key_rejects_when_field_too_long)
{
    static char big[META_KEY_MAX + 1];
    meta_key_t k;

    memset(big, 0, sizeof(big));
    CHECK_EQ_INT(meta_key_object(B("bk"), BN(big, META_KEY_MAX + 1), 1, vid_zero, &k), META_ERANGE);
    CHECK_EQ_INT(meta_key_object_versions(B("bk"), BN(big, META_KEY_MAX + 1), &k), META_ERANGE);
    CHECK_EQ_INT(meta_key_object_seek(B("bk"), BN(big, META_KEY_MAX + 1), &k), META_ERANGE);
    CHECK_EQ_INT(meta_key_upload(B("bk"), BN(big, META_KEY_MAX + 1), vid_zero, &k), META_ERANGE);
    memset(big, 'b', sizeof(big));
    CHECK_EQ_INT(meta_key_bucket(BN(big, META_BUCKET_MAX + 1), &k), META_ERANGE);
    CHECK_EQ_INT(meta_key_bucket_objects(BN(big, META_NS_MAX + 1), &k), META_ERANGE);
    CHECK_EQ_INT(meta_key_bucket_uploads(BN(big, META_NS_MAX + 1), &k), META_ERANGE);
    CHECK_EQ_INT(meta_key_config(BN(big, META_BUCKET_MAX + 1), B("policy"), &k), META_ERANGE);
    CHECK_EQ_INT(meta_key_user(BN(big, META_ACCESS_KEY_MAX + 1), &k), META_ERANGE);
    CHECK_EQ_INT(meta_key_bucket(BN("a\0b", 3), &k), META_ERANGE);
    CHECK_EQ_INT(meta_key_object(B("bk"), B("k"), -1, vid_zero, &k), META_ERANGE);
}

TEST(test_key_fits_when_every_field_at_maximum)
{
    static char bucket[META_NS_MAX], key[META_KEY_MAX];
    meta_key_t k;
    char buf[META_KEY_MAX];
    meta_bytes_t got;

    memset(bucket, 'b', sizeof(bucket));
    memset(key, 0, sizeof(key));
    CHECK_EQ_INT(meta_key_object(BN(bucket, sizeof(bucket)), BN(key, sizeof(key)), INT64_MAX, vid_zero, &k), 0);
    CHECK_EQ_INT(k.len, META_ENCODED_KEY_MAX);
    CHECK_EQ_INT(meta_key_parse_object(k.buf, k.len, NULL, buf, &got, NULL, NULL), 0);
    CHECK(bytes_eq(got, BN(key, sizeof(key))));
}

/* ---- records ---- */

/* An object record with every field set to something distinct. */
static void sample_object(meta_object_t *o, meta_buf_t *kv, meta_buf_t *parts)
{
    meta_part_ref_t p;

    memset(o, 0, sizeof(*o));
    *kv = (meta_buf_t){0};
    *parts = (meta_buf_t){0};
    meta_kv_append(kv, B("color"), B("blue"));
    meta_kv_append(kv, B("empty"), B(""));
    for (uint32_t i = 0; i < 3; i++) {
        p.number = i + 1;
        p.size = ((uint64_t)5 << 30) + i;
        memset(p.data_id, (int)(0x10 + i), sizeof(p.data_id));
        memset(p.etag, (int)(0x20 + i), sizeof(p.etag));
        meta_parts_append(parts, &p);
    }
    o->bucket = B("photos");
    o->key = BN("2024/\0img\xff.jpg", 14);
    memset(o->vid, 0xA5, sizeof(o->vid));
    o->mtime_ns = 1700000000123456789LL;
    o->flags = META_OBJ_INLINE;
    o->size = ((uint64_t)5 << 40) + 3;
    o->etag = B("d41d8cd98f00b204e9800998ecf8427e-3");
    o->content_type = B("image/jpeg");
    o->content_encoding = B("gzip");
    o->content_disposition = B("attachment; filename=\"a.jpg\"");
    o->content_language = B("zh-CN");
    o->cache_control = B("max-age=60");
    o->expires = B("Thu, 01 Dec 1994 16:00:00 GMT");
    o->user_meta = BN(kv->base, kv->len);
    o->checksum_algo = B("CRC32C");
    o->checksum_value = B("yZRlqg==-3");
    o->checksum_type = META_CHECKSUM_COMPOSITE;
    o->part_checksums = BN("\x01\x02\x03\x04\x11\x12\x13\x14\x21\x22\x23\x24", 12);
    o->owner = B("AKIAEXAMPLE");
    o->ec_k = 4;
    o->ec_m = 2;
    o->stripe_size = 1 << 20;
    o->shard_index = 5;
    for (int i = 0; i < 16; i++)
        o->distribution[i] = (uint8_t)(15 - i);
    o->parts = BN(parts->base, parts->len);
    o->part_count = 3;
    o->inline_data = BN("\0\1\2shard", 8);
}

static void sample_upload(meta_upload_t *u)
{
    memset(u, 0, sizeof(*u));
    u->bucket = B("bk");
    u->key = B("big/file.iso");
    memset(u->upload_id, 0x3C, sizeof(u->upload_id));
    u->initiated_ns = 1700000000000000001LL;
    u->owner = B("owner");
    u->content_type = B("application/octet-stream");
    u->content_encoding = B("br");
    u->content_disposition = B("inline");
    u->content_language = B("en");
    u->cache_control = B("no-cache");
    u->expires = B("never");
    u->user_meta = BN("\1\0\0\0k\1\0\0\0v", 10);
    u->checksum_algo = B("SHA256");
    u->checksum_type = META_CHECKSUM_COMPOSITE;
    u->ec_k = 8;
    u->ec_m = 4;
    u->stripe_size = 4 << 20;
    for (int i = 0; i < 16; i++)
        u->distribution[i] = (uint8_t)(i * 3);
    u->attrs = BN("\1\3\0\0\0abc", 8);
}

static void sample_part(meta_part_t *p)
{
    memset(p, 0, sizeof(*p));
    memset(p->upload_id, 0x77, sizeof(p->upload_id));
    p->number = 10000;
    p->size = 5 << 20;
    p->mtime_ns = -42; /* part times are not keys: any value round-trips */
    memset(p->etag, 0xEE, sizeof(p->etag));
    memset(p->data_id, 0xDD, sizeof(p->data_id));
    p->shard_index = 15;
    p->checksum_algo = B("CRC32");
    p->checksum_value = B("base64==");
}

static void sample_user(meta_user_t *u)
{
    u->access_key = B("AKIAIOSFODNN7EXAMPLE");
    u->secret_key = B("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    u->user = B("alice");
    u->flags = META_USER_ROOT | META_USER_DISABLED;
    u->created_ns = 1600000000000000000LL;
}

static void sample_bucket(meta_bucket_t *b)
{
    b->name = B("my-bucket");
    b->owner = B("AKIAIOSFODNN7EXAMPLE");
    b->location = B("cn-north-1");
    b->created_ns = 1650000000000000000LL;
    b->versioning = 2;
    b->incarnation = 0x0123456789abcdefULL;
    b->state = META_BUCKET_DELETING;
    b->state_ns = 1650000000000000123LL;
    b->updated_ns = 1650000000000000456LL;
}

TEST(test_record_round_trips_when_bucket)
{
    meta_bucket_t in, out;
    meta_buf_t buf = {0};

    sample_bucket(&in);
    CHECK_EQ_INT(meta_bucket_encode(&in, &buf), 0);
    CHECK_EQ_INT(meta_bucket_decode(buf.base, buf.len, &out), 0);
    CHECK(bytes_eq(in.name, out.name) && bytes_eq(in.owner, out.owner) && bytes_eq(in.location, out.location));
    CHECK(in.created_ns == out.created_ns && in.versioning == out.versioning);
    CHECK(in.incarnation == out.incarnation && in.state == out.state);
    CHECK(in.state_ns == out.state_ns && in.updated_ns == out.updated_ns);
    CHECK(out.name.base >= (const char *)buf.base && out.name.base < (const char *)buf.base + buf.len);
    meta_buf_dispose(&buf);
}

TEST(test_record_refused_when_bucket_has_no_incarnation_or_unknown_state)
{
    meta_bucket_t b;
    meta_buf_t buf = {0};

    sample_bucket(&b);
    b.incarnation = 0;
    CHECK_EQ_INT(meta_bucket_encode(&b, &buf), META_ERANGE);
    sample_bucket(&b);
    b.state = META_BUCKET_DELETING + 1;
    CHECK_EQ_INT(meta_bucket_encode(&b, &buf), META_ERANGE);
    CHECK(buf.len == 0);
    meta_buf_dispose(&buf);
}

TEST(test_record_round_trips_when_config)
{
    meta_config_t in = {.incarnation = 42,
                        .state = META_CONFIG_SET,
                        .updated_ns = 1650000000000000789LL,
                        .document = B("{\"Version\":\"2012-10-17\"}")},
                  out;
    meta_buf_t buf = {0};

    CHECK_EQ_INT(meta_config_encode(&in, &buf), 0);
    CHECK_EQ_INT(meta_config_decode(buf.base, buf.len, &out), 0);
    CHECK(out.incarnation == 42 && out.state == META_CONFIG_SET && out.updated_ns == in.updated_ns);
    CHECK(bytes_eq(in.document, out.document));
    /* a bucket record is not a config record: the magic tells them apart */
    CHECK_EQ_INT(meta_bucket_decode(buf.base, buf.len, &(meta_bucket_t){0}), META_ECORRUPT);
    meta_buf_dispose(&buf);
}

TEST(test_record_refused_when_config_removed_with_document_or_no_incarnation)
{
    meta_config_t c = {.incarnation = 7, .state = META_CONFIG_REMOVED, .updated_ns = 1, .document = B("x")};
    meta_buf_t buf = {0};

    CHECK_EQ_INT(meta_config_encode(&c, &buf), META_ERANGE);
    c.document = B("");
    c.incarnation = 0;
    CHECK_EQ_INT(meta_config_encode(&c, &buf), META_ERANGE);
    c.incarnation = 7;
    c.state = META_CONFIG_REMOVED + 1;
    CHECK_EQ_INT(meta_config_encode(&c, &buf), META_ERANGE);
    CHECK(buf.len == 0);
    c.state = META_CONFIG_REMOVED;
    CHECK_EQ_INT(meta_config_encode(&c, &buf), 0);
    meta_buf_dispose(&buf);
}

TEST(test_bucket_ns_names_incarnation_when_formatted)
{
    char ns[META_NS_MAX + 1];
    char name[META_BUCKET_MAX];
    size_t n = meta_bucket_ns(B("photos"), 0x00000000000000abULL, ns);

    CHECK(n == 23 && strcmp(ns, "photos:00000000000000ab") == 0);
    /* the longest name still fits, and the namespace is a valid key head */
    memset(name, 'a', sizeof(name));
    n = meta_bucket_ns((meta_bytes_t){name, sizeof(name)}, UINT64_MAX, ns);
    CHECK(n == META_NS_MAX && strcmp(ns + META_BUCKET_MAX, ":ffffffffffffffff") == 0);
    meta_key_t k;
    CHECK_EQ_INT(meta_key_object((meta_bytes_t){ns, n}, B("k"), 1, (const uint8_t *)"0123456789abcdef", &k), 0);
    meta_bytes_t bucket;
    char key_buf[META_KEY_MAX];
    meta_bytes_t key;
    CHECK_EQ_INT(meta_key_parse_object(k.buf, k.len, &bucket, key_buf, &key, NULL, NULL), 0);
    CHECK(bytes_eq(bucket, (meta_bytes_t){ns, n}) && bytes_eq(key, B("k")));
}

TEST(test_key_refused_when_namespace_too_long)
{
    char ns[META_NS_MAX + 2];
    meta_key_t k;

    memset(ns, 'n', sizeof(ns));
    CHECK_EQ_INT(
        meta_key_object((meta_bytes_t){ns, META_NS_MAX + 1}, B("k"), 1, (const uint8_t *)"0123456789abcdef", &k),
        META_ERANGE);
    CHECK_EQ_INT(meta_key_bucket_objects((meta_bytes_t){ns, META_NS_MAX}, &k), 0);
    /* bucket records and configs still take bucket names only */
    CHECK_EQ_INT(meta_key_bucket((meta_bytes_t){ns, META_BUCKET_MAX + 1}, &k), META_ERANGE);
    CHECK_EQ_INT(meta_key_config((meta_bytes_t){ns, META_BUCKET_MAX + 1}, B("cors"), &k), META_ERANGE);
}

TEST(test_key_lock_sorts_apart_when_encoded)
{
    meta_key_t lock, obj;
    char long_name[META_LOCK_NAME_MAX + 1];

    CHECK_EQ_INT(meta_key_lock(B("upload/00ff"), &lock), 0);
    CHECK(lock.len == 12 && lock.buf[0] == 'L' && memcmp(lock.buf + 1, "upload/00ff", 11) == 0);
    CHECK_EQ_INT(meta_key_bucket_objects(B("upload"), &obj), 0);
    CHECK(obj.buf[0] != lock.buf[0]);
    memset(long_name, 'x', sizeof(long_name));
    CHECK_EQ_INT(meta_key_lock((meta_bytes_t){long_name, sizeof(long_name)}, &lock), META_ERANGE);
}

TEST(test_key_null_slot_sorts_first_when_encoded)
{
    static const uint8_t vid[16] = {9};
    meta_key_t slot, newest, versions, layout;
    char key_buf[META_KEY_MAX];
    meta_bytes_t bucket, key;
    uint8_t got_vid[16];
    int64_t mtime;

    CHECK_EQ_INT(meta_key_object_null(B("bk"), B("k"), &slot), 0);
    CHECK_EQ_INT(meta_key_object(B("bk"), B("k"), INT64_MAX, vid, &newest), 0);
    CHECK_EQ_INT(meta_key_object_versions(B("bk"), B("k"), &versions), 0);
    CHECK(slot.len == newest.len && memcmp(slot.buf, versions.buf, versions.len) == 0);
    CHECK(memcmp(slot.buf, newest.buf, slot.len) < 0); /* before the newest possible version */
    CHECK_EQ_INT(meta_key_parse_object(slot.buf, slot.len, &bucket, key_buf, &key, &mtime, got_vid), 0);
    CHECK(bytes_eq(key, B("k")) && mtime == META_NULL_SLOT_MTIME && got_vid[0] == 0);
    /* a zero time with a non-zero vid is no slot and no valid version */
    slot.buf[slot.len - 1] = 1;
    CHECK_EQ_INT(meta_key_parse_object(slot.buf, slot.len, NULL, NULL, NULL, &mtime, NULL), META_ECORRUPT);
    CHECK_EQ_INT(meta_key_layout(&layout), 0);
    CHECK(layout.buf[0] == 'V');
}

TEST(test_slot_walks_records_when_one_or_several)
{
    meta_object_t a, b;
    meta_buf_t kv, parts, ra = {0}, rb = {0}, slot = {0};
    meta_bytes_t recs[META_SLOT_MAX + 1], r;
    size_t pos = 0;

    sample_object(&a, &kv, &parts);
    b = a;
    b.mtime_ns = a.mtime_ns + 1;
    CHECK_EQ_INT(meta_object_encode(&a, &ra), 0);
    CHECK_EQ_INT(meta_object_encode(&b, &rb), 0);
    recs[0] = (meta_bytes_t){(const char *)rb.base, rb.len};
    recs[1] = (meta_bytes_t){(const char *)ra.base, ra.len};
    /* one record is stored as itself */
    CHECK_EQ_INT(meta_slot_encode(recs, 1, &slot), 0);
    CHECK(slot.len == rb.len && memcmp(slot.base, rb.base, rb.len) == 0);
    CHECK_EQ_INT(meta_slot_next(slot.base, slot.len, &pos, &r), 1);
    CHECK(r.base == (const char *)slot.base && r.len == slot.len);
    CHECK_EQ_INT(meta_slot_next(slot.base, slot.len, &pos, &r), 0);
    /* two: in order, each decodable */
    slot.len = 0;
    pos = 0;
    CHECK_EQ_INT(meta_slot_encode(recs, 2, &slot), 0);
    CHECK_EQ_INT(meta_slot_next(slot.base, slot.len, &pos, &r), 1);
    CHECK(r.len == rb.len && memcmp(r.base, rb.base, rb.len) == 0);
    CHECK_EQ_INT(meta_slot_next(slot.base, slot.len, &pos, &r), 1);
    CHECK(r.len == ra.len && memcmp(r.base, ra.base, ra.len) == 0);
    CHECK_EQ_INT(meta_slot_next(slot.base, slot.len, &pos, &r), 0);
    /* a damaged framing is refused before anything is handed out */
    slot.base[3] ^= 1;
    pos = 0;
    CHECK_EQ_INT(meta_slot_next(slot.base, slot.len, &pos, &r), META_ECORRUPT);
    CHECK_EQ_INT(meta_slot_encode(recs, 0, &slot), META_ERANGE);
    for (int i = 0; i <= META_SLOT_MAX; i++)
        recs[i] = recs[0];
    CHECK_EQ_INT(meta_slot_encode(recs, META_SLOT_MAX + 1, &slot), META_ERANGE);
    CHECK_EQ_INT(meta_record_format(ra.base, ra.len), META_RECORD_FORMAT);
    meta_buf_dispose(&ra);
    meta_buf_dispose(&rb);
    meta_buf_dispose(&slot);
    meta_buf_dispose(&kv);
    meta_buf_dispose(&parts);
}

TEST(test_record_round_trips_when_object)
{
    meta_object_t in, out;
    meta_buf_t buf = {0}, kv, parts;
    meta_part_ref_t p;
    meta_bytes_t n, v;
    size_t pos = 0;
    int ret;

    sample_object(&in, &kv, &parts);
    ret = meta_object_encode(&in, &buf);
    if (ret == 0)
        ret = meta_object_decode(buf.base, buf.len, &out);
    CHECK_EQ_INT(ret, 0);
    CHECK(bytes_eq(in.bucket, out.bucket) && bytes_eq(in.key, out.key) && memcmp(in.vid, out.vid, 16) == 0);
    CHECK(in.mtime_ns == out.mtime_ns && in.flags == out.flags && in.size == out.size);
    CHECK(bytes_eq(in.etag, out.etag) && bytes_eq(in.content_type, out.content_type));
    CHECK(bytes_eq(in.content_encoding, out.content_encoding));
    CHECK(bytes_eq(in.content_disposition, out.content_disposition));
    CHECK(bytes_eq(in.content_language, out.content_language) && bytes_eq(in.cache_control, out.cache_control));
    CHECK(bytes_eq(in.expires, out.expires) && bytes_eq(in.user_meta, out.user_meta));
    CHECK(bytes_eq(in.checksum_algo, out.checksum_algo) && bytes_eq(in.checksum_value, out.checksum_value));
    CHECK(in.checksum_type == out.checksum_type && bytes_eq(in.part_checksums, out.part_checksums));
    CHECK(bytes_eq(in.owner, out.owner) && in.ec_k == out.ec_k && in.ec_m == out.ec_m);
    CHECK(in.stripe_size == out.stripe_size && in.shard_index == out.shard_index);
    CHECK(memcmp(in.distribution, out.distribution, 16) == 0);
    CHECK(bytes_eq(in.parts, out.parts) && in.part_count == out.part_count);
    CHECK(bytes_eq(in.inline_data, out.inline_data));
    /* the nested encodings read back too */
    CHECK_EQ_INT(meta_kv_next(out.user_meta, &pos, &n, &v), 1);
    CHECK(bytes_eq(n, B("color")) && bytes_eq(v, B("blue")));
    CHECK_EQ_INT(meta_kv_next(out.user_meta, &pos, &n, &v), 1);
    CHECK(bytes_eq(n, B("empty")) && v.len == 0);
    CHECK_EQ_INT(meta_kv_next(out.user_meta, &pos, &n, &v), 0);
    CHECK_EQ_INT(meta_object_part(&out, 2, &p), 0);
    CHECK(p.number == 3 && p.size == ((uint64_t)5 << 30) + 2 && p.data_id[0] == 0x12 && p.etag[15] == 0x22);
    CHECK_EQ_INT(meta_object_part(&out, 3, &p), META_ENOENT);
    CHECK_EQ_INT(meta_object_part_checksum(&out, 1, &v), 0);
    CHECK(bytes_eq(v, BN("\x11\x12\x13\x14", 4)));
    CHECK(v.base >= (const char *)buf.base && v.base < (const char *)buf.base + buf.len);
    CHECK_EQ_INT(meta_object_part_checksum(&out, 3, &v), META_ENOENT);
    out.part_checksums = BN("", 0);
    CHECK_EQ_INT(meta_object_part_checksum(&out, 0, &v), META_ENOENT);
    meta_buf_dispose(&kv);
    meta_buf_dispose(&parts);
    meta_buf_dispose(&buf);
}

TEST(test_record_round_trips_when_delete_marker)
{
    meta_object_t in, out;
    meta_buf_t buf = {0};

    memset(&in, 0, sizeof(in));
    in.bucket = B("bk");
    in.key = B("gone");
    in.mtime_ns = 9;
    in.flags = META_OBJ_DELETE_MARKER;
    CHECK_EQ_INT(meta_object_encode(&in, &buf), 0);
    CHECK_EQ_INT(meta_object_decode(buf.base, buf.len, &out), 0);
    CHECK(out.flags == META_OBJ_DELETE_MARKER && out.part_count == 0 && out.ec_k == 0 && bytes_eq(out.key, in.key));
    meta_buf_dispose(&buf);
}

/* A format 2 object record (before attribute sets) as the previous build wrote it: the current
 * encoding of a record without attributes, less its attrs_ns and empty attrs, version byte 2. */
static void reseal(uint8_t *buf, size_t len);

static size_t as_format2(const meta_buf_t *cur, uint8_t *out, size_t cap)
{
    size_t len = cur->len - 12; /* u64 attrs_ns + u32 length of the empty set */
    if (len > cap)
        return 0;
    memcpy(out, cur->base, len - 8);
    out[1] = 2;
    reseal(out, len);
    return len;
}

TEST(test_record_format2_object_decodes_without_attrs_and_comes_back_as_format3)
{
    meta_object_t in, out, again;
    meta_buf_t buf = {0}, kv, parts, re = {0};
    uint8_t old[2048];
    size_t len;

    sample_object(&in, &kv, &parts);
    in.attrs_ns = 0;
    in.attrs = BN("", 0);
    CHECK_EQ_INT(meta_object_encode(&in, &buf), 0);
    len = as_format2(&buf, old, sizeof(old));
    CHECK(len > 0);
    CHECK_EQ_INT(meta_record_format(old, len), 2);
    CHECK(meta_record_format_readable(old, len));
    CHECK_EQ_INT(meta_object_decode(old, len, &out), 0);
    CHECK(bytes_eq(out.etag, in.etag) && bytes_eq(out.inline_data, in.inline_data) && out.part_count == in.part_count);
    CHECK(out.attrs_ns == 0 && out.attrs.len == 0);
    /* written back, it is the current format, byte for byte the record encoded today */
    CHECK_EQ_INT(meta_object_encode(&out, &re), 0);
    CHECK_EQ_INT(meta_record_format(re.base, re.len), META_RECORD_FORMAT);
    CHECK(re.len == buf.len && memcmp(re.base, buf.base, buf.len) == 0);
    CHECK_EQ_INT(meta_object_decode(re.base, re.len, &again), 0);
    /* a format 3 record cut back to the format 2 length under version byte 3 is refused */
    old[1] = 3;
    reseal(old, len);
    CHECK_EQ_INT(meta_object_decode(old, len, &out), META_ECORRUPT);
    meta_buf_dispose(&kv);
    meta_buf_dispose(&parts);
    meta_buf_dispose(&buf);
    meta_buf_dispose(&re);
}

TEST(test_record_round_trips_when_object_has_attrs)
{
    meta_object_t in, out;
    meta_buf_t buf = {0}, kv, parts, set = {0}, set2 = {0};
    meta_bytes_t v, tags = B("k=v"), hold = B("ON");

    sample_object(&in, &kv, &parts);
    CHECK_EQ_INT(meta_attr_put(BN("", 0), META_ATTR_LEGAL_HOLD, &hold, &set), 0);
    CHECK_EQ_INT(meta_attr_put(BN((const char *)set.base, set.len), META_ATTR_TAGS, &tags, &set2), 0);
    in.attrs = BN((const char *)set2.base, set2.len);
    in.attrs_ns = 1234567;
    CHECK_EQ_INT(meta_object_encode(&in, &buf), 0);
    CHECK_EQ_INT(meta_object_decode(buf.base, buf.len, &out), 0);
    CHECK(out.attrs_ns == 1234567 && bytes_eq(out.attrs, in.attrs));
    CHECK_EQ_INT(meta_attr_get(out.attrs, META_ATTR_TAGS, &v), 1);
    CHECK(bytes_eq(v, tags));
    CHECK_EQ_INT(meta_attr_get(out.attrs, META_ATTR_LEGAL_HOLD, &v), 1);
    CHECK(bytes_eq(v, hold));
    CHECK_EQ_INT(meta_attr_get(out.attrs, META_ATTR_ACL, &v), 0);
    /* a negative stamp or a set out of order is refused both ways */
    in.attrs_ns = -1;
    buf.len = 0;
    CHECK_EQ_INT(meta_object_encode(&in, &buf), META_ERANGE);
    in.attrs_ns = 1;
    in.attrs = BN("\x03\x00\x00\x00\x00\x01\x00\x00\x00\x00", 10); /* 3 then 1 */
    CHECK_EQ_INT(meta_object_encode(&in, &buf), META_ERANGE);
    in.attrs = BN("\x00\x00\x00\x00\x00", 5); /* id 0 */
    CHECK_EQ_INT(meta_object_encode(&in, &buf), META_ERANGE);
    in.attrs = BN("\x01\x09\x00\x00\x00"
                  "ab",
                  7); /* length past the end */
    CHECK_EQ_INT(meta_object_encode(&in, &buf), META_ERANGE);
    meta_buf_dispose(&kv);
    meta_buf_dispose(&parts);
    meta_buf_dispose(&buf);
    meta_buf_dispose(&set);
    meta_buf_dispose(&set2);
}

TEST(test_attr_put_replaces_inserts_in_order_and_removes)
{
    meta_buf_t a = {0}, b = {0}, c = {0}, d = {0};
    meta_bytes_t v, one = B("1"), two = B("22"), three = B("333");
    size_t pos = 0;
    uint32_t id;

    CHECK_EQ_INT(meta_attr_put(BN("", 0), META_ATTR_ACL, &three, &a), 0);
    CHECK_EQ_INT(meta_attr_put(BN((const char *)a.base, a.len), META_ATTR_TAGS, &one, &b), 0);
    /* replace TAGS */
    CHECK_EQ_INT(meta_attr_put(BN((const char *)b.base, b.len), META_ATTR_TAGS, &two, &c), 0);
    CHECK_EQ_INT(meta_attr_next(BN((const char *)c.base, c.len), &pos, &id, &v), 1);
    CHECK(id == META_ATTR_TAGS && bytes_eq(v, two));
    CHECK_EQ_INT(meta_attr_next(BN((const char *)c.base, c.len), &pos, &id, &v), 1);
    CHECK(id == META_ATTR_ACL && bytes_eq(v, three));
    CHECK_EQ_INT(meta_attr_next(BN((const char *)c.base, c.len), &pos, &id, &v), 0);
    /* remove TAGS: only ACL is left; removing what is absent changes nothing */
    CHECK_EQ_INT(meta_attr_put(BN((const char *)c.base, c.len), META_ATTR_TAGS, NULL, &d), 0);
    CHECK(d.len == a.len && memcmp(d.base, a.base, a.len) == 0);
    d.len = 0;
    CHECK_EQ_INT(meta_attr_put(BN((const char *)a.base, a.len), META_ATTR_TAGS, NULL, &d), 0);
    CHECK(d.len == a.len && memcmp(d.base, a.base, a.len) == 0);
    CHECK_EQ_INT(meta_attr_put(BN((const char *)a.base, a.len), 0, &one, &d), META_ERANGE);
    CHECK_EQ_INT(meta_attr_put(BN((const char *)a.base, a.len), 256, &one, &d), META_ERANGE);
    CHECK_EQ_INT(meta_attr_put(BN("\x01\x09", 2), META_ATTR_TAGS, &one, &d), META_ECORRUPT);
    meta_buf_dispose(&a);
    meta_buf_dispose(&b);
    meta_buf_dispose(&c);
    meta_buf_dispose(&d);
}

TEST(test_record_round_trips_when_upload)
{
    meta_upload_t in, out;
    meta_buf_t buf = {0};

    sample_upload(&in);
    CHECK_EQ_INT(meta_upload_encode(&in, &buf), 0);
    CHECK_EQ_INT(meta_upload_decode(buf.base, buf.len, &out), 0);
    CHECK(bytes_eq(in.bucket, out.bucket) && bytes_eq(in.key, out.key) && memcmp(in.upload_id, out.upload_id, 16) == 0);
    CHECK(in.initiated_ns == out.initiated_ns && bytes_eq(in.owner, out.owner));
    CHECK(bytes_eq(in.content_type, out.content_type) && bytes_eq(in.content_encoding, out.content_encoding));
    CHECK(bytes_eq(in.content_disposition, out.content_disposition));
    CHECK(bytes_eq(in.content_language, out.content_language) && bytes_eq(in.cache_control, out.cache_control));
    CHECK(bytes_eq(in.expires, out.expires) && bytes_eq(in.user_meta, out.user_meta));
    CHECK(bytes_eq(in.checksum_algo, out.checksum_algo) && in.checksum_type == out.checksum_type);
    CHECK(in.ec_k == out.ec_k && in.ec_m == out.ec_m && in.stripe_size == out.stripe_size);
    CHECK(memcmp(in.distribution, out.distribution, 16) == 0);
    CHECK(bytes_eq(in.attrs, out.attrs));
    meta_buf_dispose(&buf);
}

TEST(test_record_round_trips_when_part)
{
    meta_part_t in, out;
    meta_buf_t buf = {0};

    sample_part(&in);
    CHECK_EQ_INT(meta_part_encode(&in, &buf), 0);
    CHECK_EQ_INT(meta_part_decode(buf.base, buf.len, &out), 0);
    CHECK(memcmp(in.upload_id, out.upload_id, 16) == 0 && in.number == out.number && in.size == out.size);
    CHECK(in.mtime_ns == out.mtime_ns && memcmp(in.etag, out.etag, 16) == 0);
    CHECK(memcmp(in.data_id, out.data_id, 16) == 0 && in.shard_index == out.shard_index);
    CHECK(bytes_eq(in.checksum_algo, out.checksum_algo) && bytes_eq(in.checksum_value, out.checksum_value));
    meta_buf_dispose(&buf);
}

TEST(test_key_iam_round_trips_and_sorts_before_access_keys)
{
    meta_key_t k, ak;
    char kind;
    meta_bytes_t name, member;

    CHECK_EQ_INT(meta_key_iam('p', B("alice"), B("readonly"), &k), 0);
    CHECK_EQ_INT(meta_key_parse_iam(k.buf, k.len, &kind, &name, &member), 0);
    CHECK(kind == 'p' && name.len == 5 && memcmp(name.base, "alice", 5) == 0);
    CHECK(member.base != NULL && member.len == 8 && memcmp(member.base, "readonly", 8) == 0);
    CHECK_EQ_INT(meta_key_iam('u', B("alice"), (meta_bytes_t){NULL, 0}, &k), 0);
    CHECK_EQ_INT(meta_key_parse_iam(k.buf, k.len, &kind, &name, &member), 0);
    CHECK(kind == 'u' && name.len == 5 && member.base == NULL);
    /* under the access keys' prefix, before any of them */
    CHECK_EQ_INT(meta_key_user(B("A"), &ak), 0);
    CHECK(k.buf[0] == ak.buf[0] && memcmp(k.buf, ak.buf, 2) < 0);
    CHECK_EQ_INT(meta_key_parse_iam(ak.buf, ak.len, &kind, &name, &member), META_ECORRUPT);
}

TEST(test_key_iam_when_name_holds_nul_fails)
{
    meta_key_t k;
    char big[META_IAM_NAME_MAX + 1];
    memset(big, 'a', sizeof(big));
    CHECK_EQ_INT(meta_key_iam('u', BN("a\0b", 3), (meta_bytes_t){NULL, 0}, &k), META_ERANGE);
    CHECK_EQ_INT(meta_key_iam('m', B("a"), BN("a\0b", 3), &k), META_ERANGE);
    CHECK_EQ_INT(meta_key_iam('u', BN(big, sizeof(big)), (meta_bytes_t){NULL, 0}, &k), META_ERANGE);
    CHECK_EQ_INT(meta_key_iam(0, B("a"), (meta_bytes_t){NULL, 0}, &k), META_ERANGE);
}

TEST(test_record_round_trips_when_user)
{
    meta_user_t in, out;
    meta_buf_t buf = {0};

    sample_user(&in);
    CHECK_EQ_INT(meta_user_encode(&in, &buf), 0);
    CHECK_EQ_INT(meta_user_decode(buf.base, buf.len, &out), 0);
    CHECK(bytes_eq(in.access_key, out.access_key) && bytes_eq(in.secret_key, out.secret_key));
    CHECK(bytes_eq(in.user, out.user) && in.flags == out.flags && in.created_ns == out.created_ns);
    meta_buf_dispose(&buf);
}

/* Encodes one sample of each record type; decode_any tries the matching decoder. */
enum { REC_BUCKET, REC_OBJECT, REC_UPLOAD, REC_PART, REC_USER, REC_TYPES };

static int encode_sample(int type, meta_buf_t *out)
{
    meta_buf_t kv, parts;
    meta_bucket_t b;
    meta_object_t o;
    meta_upload_t u;
    meta_part_t p;
    meta_user_t us;
    int ret;

    switch (type) {
    case REC_BUCKET:
        sample_bucket(&b);
        return meta_bucket_encode(&b, out);
    case REC_OBJECT:
        sample_object(&o, &kv, &parts);
        ret = meta_object_encode(&o, out);
        meta_buf_dispose(&kv);
        meta_buf_dispose(&parts);
        return ret;
    case REC_UPLOAD:
        sample_upload(&u);
        return meta_upload_encode(&u, out);
    case REC_PART:
        sample_part(&p);
        return meta_part_encode(&p, out);
    default:
        sample_user(&us);
        return meta_user_encode(&us, out);
    }
}

static int decode_any(int type, const void *buf, size_t len)
{
    meta_bucket_t b;
    meta_object_t o;
    meta_upload_t u;
    meta_part_t p;
    meta_user_t us;

    switch (type) {
    case REC_BUCKET:
        return meta_bucket_decode(buf, len, &b);
    case REC_OBJECT:
        return meta_object_decode(buf, len, &o);
    case REC_UPLOAD:
        return meta_upload_decode(buf, len, &u);
    case REC_PART:
        return meta_part_decode(buf, len, &p);
    default:
        return meta_user_decode(buf, len, &us);
    }
}

/* Rewrites the trailing checksum so that only the structural checks can catch a change. */
static void reseal(uint8_t *buf, size_t len)
{
    uint64_t h = XXH3_64bits(buf, len - 8);

    for (int i = 0; i < 8; i++)
        buf[len - 8 + i] = (uint8_t)(h >> (8 * i));
}

TEST(test_record_detects_every_single_byte_corruption)
{
    for (int t = 0; t < REC_TYPES; t++) {
        meta_buf_t buf = {0};
        uint8_t *copy;
        size_t missed = 0;

        CHECK_EQ_INT(encode_sample(t, &buf), 0);
        CHECK((copy = malloc(buf.len)) != NULL);
        for (size_t i = 0; i < buf.len; i++) {
            for (int x = 1; x < 256; x++) {
                memcpy(copy, buf.base, buf.len);
                copy[i] ^= (uint8_t)x;
                if (decode_any(t, copy, buf.len) != META_ECORRUPT)
                    missed++;
            }
        }
        free(copy);
        meta_buf_dispose(&buf);
        CHECK_EQ_INT(missed, 0);
    }
}

TEST(test_record_detects_every_truncation)
{
    for (int t = 0; t < REC_TYPES; t++) {
        meta_buf_t buf = {0};
        uint8_t *copy;
        size_t missed = 0;

        CHECK_EQ_INT(encode_sample(t, &buf), 0);
        for (size_t n = 0; n < buf.len; n++) {
            /* a fresh allocation of exactly n bytes lets ASan catch any read past len */
            CHECK((copy = malloc(n ? n : 1)) != NULL);
            memcpy(copy, buf.base, n);
            if (decode_any(t, copy, n) != META_ECORRUPT)
                missed++;
            /* and a truncated body under a valid checksum is still refused */
            if (n >= 10) {
                reseal(copy, n);
                if (decode_any(t, copy, n) != META_ECORRUPT)
                    missed++;
            }
            free(copy);
        }
        meta_buf_dispose(&buf);
        CHECK_EQ_INT(missed, 0);
    }
}

TEST(test_record_rejects_when_trailing_bytes_under_valid_checksum)
{
    for (int t = 0; t < REC_TYPES; t++) {
        meta_buf_t buf = {0};
        uint8_t *copy;
        int ret;

        CHECK_EQ_INT(encode_sample(t, &buf), 0);
        CHECK((copy = malloc(buf.len + 1)) != NULL);
        memcpy(copy, buf.base, buf.len - 8);
        copy[buf.len - 8] = 0;
        reseal(copy, buf.len + 1);
        ret = decode_any(t, copy, buf.len + 1);
        free(copy);
        meta_buf_dispose(&buf);
        CHECK_EQ_INT(ret, META_ECORRUPT);
    }
}

TEST(test_record_rejects_when_magic_or_version_wrong)
{
    meta_buf_t buf = {0};
    meta_bucket_t b;
    uint8_t copy[512];

    for (int t = 0; t < REC_TYPES; t++) {
        buf.len = 0;
        CHECK_EQ_INT(encode_sample(t, &buf), 0);
        for (int d = 0; d < REC_TYPES; d++)
            if (d != t)
                CHECK_EQ_INT(decode_any(d, buf.base, buf.len), META_ECORRUPT);
    }
    buf.len = 0;
    CHECK_EQ_INT(encode_sample(REC_BUCKET, &buf), 0);
    CHECK(buf.len <= sizeof(copy));
    memcpy(copy, buf.base, buf.len);
    copy[1] = META_RECORD_FORMAT + 1; /* a future format version */
    reseal(copy, buf.len);
    CHECK_EQ_INT(meta_bucket_decode(copy, buf.len, &b), META_ECORRUPT);
    copy[1] = 1; /* the layout before checksum types and part checksums */
    reseal(copy, buf.len);
    CHECK_EQ_INT(meta_bucket_decode(copy, buf.len, &b), META_ECORRUPT);
    meta_buf_dispose(&buf);
}

/* Patches one field of a valid object encoding to break a rule, reseals the checksum so only
 * the structural checks stand in the way, and expects the decoder to refuse it. */
TEST(test_record_rejects_when_object_fields_inconsistent)
{
    meta_object_t o;
    meta_buf_t kv, parts, buf = {0};
    size_t off_shard, off_count;
    uint8_t *copy;
    int r1, r2, r3;

    sample_object(&o, &kv, &parts);
    CHECK_EQ_INT(meta_object_encode(&o, &buf), 0);
    /* shard_index sits before the distribution, part_count after it; parts (132 bytes + len),
     * inline data (8 bytes + len), attrs_ns and the empty attribute set close the record */
    off_count = buf.len - 8 - (8 + 4) - (4 + 8) - (4 + 3 * 44) - 4;
    off_shard = off_count - 16 - 4;
    CHECK(buf.base[off_shard] == 5 && buf.base[off_count] == 3);
    CHECK((copy = malloc(buf.len)) != NULL);
    memcpy(copy, buf.base, buf.len);
    copy[off_shard] = 6; /* shard_index == k+m */
    reseal(copy, buf.len);
    r1 = meta_object_decode(copy, buf.len, &o);
    memcpy(copy, buf.base, buf.len);
    copy[off_count] = 2; /* part_count disagrees with the parts blob */
    reseal(copy, buf.len);
    r2 = meta_object_decode(copy, buf.len, &o);
    memcpy(copy, buf.base, buf.len);
    copy[off_count + 4 + 1] = 0x10; /* parts length runs past the record */
    reseal(copy, buf.len);
    r3 = meta_object_decode(copy, buf.len, &o);
    free(copy);
    meta_buf_dispose(&kv);
    meta_buf_dispose(&parts);
    meta_buf_dispose(&buf);
    CHECK_EQ_INT(r1, META_ECORRUPT);
    CHECK_EQ_INT(r2, META_ECORRUPT);
    CHECK_EQ_INT(r3, META_ECORRUPT);
}

/* Finds needle in buf; the offset of its first byte, or (size_t)-1. */
static size_t find_bytes(const meta_buf_t *buf, const char *needle, size_t n)
{
    for (size_t i = 0; i + n <= buf->len; i++)
        if (memcmp(buf->base + i, needle, n) == 0)
            return i;
    return (size_t)-1;
}

/* The checksum fields of an object record: the type right after the value, then the part
 * checksums' length and bytes. Each patched (and resealed) to break a rule is refused. */
TEST(test_record_rejects_when_checksum_fields_inconsistent)
{
    meta_object_t o;
    meta_upload_t u;
    meta_part_t p;
    meta_buf_t kv, parts, buf = {0};
    size_t off_type;
    uint8_t *copy;
    int r[5];

    sample_object(&o, &kv, &parts);
    CHECK_EQ_INT(meta_object_encode(&o, &buf), 0);
    off_type = find_bytes(&buf, "yZRlqg==-3", 10);
    CHECK(off_type != (size_t)-1);
    off_type += 10;
    CHECK(buf.base[off_type] == META_CHECKSUM_COMPOSITE && buf.base[off_type + 4] == 12);
    CHECK((copy = malloc(buf.len)) != NULL);
    memcpy(copy, buf.base, buf.len);
    copy[off_type] = 3; /* no such type */
    reseal(copy, buf.len);
    r[0] = meta_object_decode(copy, buf.len, &o);
    memcpy(copy, buf.base, buf.len);
    copy[off_type] = META_CHECKSUM_NONE; /* an algorithm without a type */
    reseal(copy, buf.len);
    r[1] = meta_object_decode(copy, buf.len, &o);
    meta_buf_dispose(&buf);
    meta_buf_dispose(&kv);
    meta_buf_dispose(&parts);
    free(copy);

    /* part checksums that do not split evenly over the parts: 13 bytes for 3 parts */
    sample_object(&o, &kv, &parts);
    o.part_checksums = BN("\1\2\3\4\5\6\7\10\11\12\13\14\15", 13);
    o.checksum_type = META_CHECKSUM_COMPOSITE;
    buf.len = 0;
    r[2] = meta_object_encode(&o, &buf); /* the encoder refuses it */
    meta_buf_dispose(&kv);
    meta_buf_dispose(&parts);

    /* a part checksum value without its algorithm, and an upload type without an algorithm */
    sample_part(&p);
    p.checksum_algo = BN("", 0);
    r[3] = meta_part_encode(&p, &buf);
    sample_upload(&u);
    u.checksum_algo = BN("", 0);
    r[4] = meta_upload_encode(&u, &buf);
    meta_buf_dispose(&buf);
    CHECK_EQ_INT(r[0], META_ECORRUPT);
    CHECK_EQ_INT(r[1], META_ECORRUPT);
    CHECK_EQ_INT(r[2], META_ERANGE);
    CHECK_EQ_INT(r[3], META_ERANGE);
    CHECK_EQ_INT(r[4], META_ERANGE);
}

TEST(test_record_encode_rejects_when_field_out_of_range)
{
    static char big[META_KEY_MAX + 1];
    meta_object_t o;
    meta_bucket_t b;
    meta_part_t p;
    meta_user_t u;
    meta_upload_t up;
    meta_buf_t kv, parts, buf = {0};

    memset(big, 'x', sizeof(big));
    CHECK_EQ_INT(meta_kv_append(&buf, B("pre"), B("existing")), 0);
    sample_bucket(&b);
    b.name = BN(big, META_BUCKET_MAX + 1);
    CHECK_EQ_INT(meta_bucket_encode(&b, &buf), META_ERANGE);
    sample_bucket(&b);
    b.versioning = 3;
    CHECK_EQ_INT(meta_bucket_encode(&b, &buf), META_ERANGE);
    sample_upload(&up);
    up.key = BN(big, META_KEY_MAX + 1);
    CHECK_EQ_INT(meta_upload_encode(&up, &buf), META_ERANGE);
    sample_part(&p);
    p.number = 0;
    CHECK_EQ_INT(meta_part_encode(&p, &buf), META_ERANGE);
    sample_part(&p);
    p.checksum_value = BN("", 0); /* an algorithm without a value */
    CHECK_EQ_INT(meta_part_encode(&p, &buf), META_ERANGE);
    sample_upload(&up);
    up.checksum_type = 3;
    CHECK_EQ_INT(meta_upload_encode(&up, &buf), META_ERANGE);
    sample_upload(&up);
    up.checksum_type = META_CHECKSUM_NONE; /* an algorithm without a type */
    CHECK_EQ_INT(meta_upload_encode(&up, &buf), META_ERANGE);
    sample_user(&u);
    u.access_key = BN(big, META_ACCESS_KEY_MAX + 1);
    CHECK_EQ_INT(meta_user_encode(&u, &buf), META_ERANGE);

    for (int c = 0; c < 14; c++) {
        int ret;

        sample_object(&o, &kv, &parts);
        switch (c) {
        case 0:
            o.key = BN(big, META_KEY_MAX + 1);
            break;
        case 1:
            o.bucket = BN(big, META_NS_MAX + 1); /* objects name a namespace, not a bucket */
            break;
        case 2:
            o.shard_index = 6; /* == k+m */
            break;
        case 3:
            o.ec_k = 15; /* k+m > 16 */
            break;
        case 4:
            o.part_count = 4; /* the parts blob holds 3 */
            break;
        case 5:
            o.flags = 0; /* inline bytes without the inline flag */
            break;
        case 6:
            o.user_meta.len--; /* a torn pair */
            break;
        case 7:
            o.checksum_type = 3; /* no such type */
            break;
        case 8:
            o.checksum_type = META_CHECKSUM_NONE; /* an algorithm without a type */
            break;
        case 9:
            o.checksum_algo = BN("", 0); /* a type without an algorithm */
            break;
        case 10:
            o.part_checksums.len = 11; /* 3 parts do not share 11 bytes */
            break;
        case 11:
            o.part_count = 0; /* part checksums without parts */
            o.parts.len = 0;
            break;
        case 12: { /* one part checksum over META_CHECKSUM_MAX bytes */
            static char wide[3 * (META_CHECKSUM_MAX + 1)];
            o.part_checksums = BN(wide, sizeof(wide));
            break;
        }
        default:
            o.mtime_ns = -1; /* could not be keyed */
            break;
        }
        ret = meta_object_encode(&o, &buf);
        meta_buf_dispose(&kv);
        meta_buf_dispose(&parts);
        CHECK_EQ_INT(ret, META_ERANGE);
    }
    /* nothing was appended by the refused encodes */
    CHECK_EQ_INT(buf.len, 4 + 3 + 4 + 8);
    meta_buf_dispose(&buf);
}

TEST(test_record_encoders_append_when_buffer_not_empty)
{
    meta_buf_t buf = {0};
    meta_bucket_t b;
    meta_user_t u;
    size_t first;

    sample_bucket(&b);
    sample_user(&u);
    CHECK_EQ_INT(meta_bucket_encode(&b, &buf), 0);
    first = buf.len;
    CHECK_EQ_INT(meta_user_encode(&u, &buf), 0);
    CHECK_EQ_INT(meta_bucket_decode(buf.base, first, &b), 0);
    CHECK_EQ_INT(meta_user_decode(buf.base + first, buf.len - first, &u), 0);
    CHECK(bytes_eq(u.user, B("alice")));
    meta_buf_dispose(&buf);
}

TEST(test_kv_next_rejects_when_truncated)
{
    meta_buf_t kv = {0};
    meta_bytes_t n, v;
    size_t pos, missed = 0;

    CHECK_EQ_INT(meta_kv_append(&kv, B("name"), B("value")), 0);
    for (size_t len = 1; len < kv.len; len++) {
        pos = 0;
        if (meta_kv_next(BN(kv.base, len), &pos, &n, &v) != META_ECORRUPT || pos != 0)
            missed++;
    }
    pos = 0;
    if (meta_kv_next(BN(kv.base, 0), &pos, &n, &v) != 0)
        missed++;
    pos = kv.len + 1;
    if (meta_kv_next(BN(kv.base, kv.len), &pos, &n, &v) != META_ECORRUPT)
        missed++;
    meta_buf_dispose(&kv);
    CHECK_EQ_INT(missed, 0);
}

/* ---- the database ---- */

TEST(test_db_get_returns_copy_when_present)
{
    meta_db_t *db;
    void *val = NULL;
    size_t vlen = 0;

    CHECK((db = open_fresh()) != NULL);
    CHECK_EQ_INT(meta_db_put(db, "k", 1, "value", 5), 0);
    CHECK_EQ_INT(meta_db_get(db, "k", 1, &val, &vlen), 0);
    CHECK(vlen == 5 && memcmp(val, "value", 5) == 0);
    free(val);
    CHECK_EQ_INT(meta_db_put(db, "e", 1, "", 0), 0);
    CHECK_EQ_INT(meta_db_get(db, "e", 1, &val, &vlen), 0);
    CHECK(val != NULL && vlen == 0);
    free(val);
    CHECK_EQ_INT(meta_db_get(db, "nope", 4, &val, &vlen), META_ENOENT);
    CHECK(val == NULL);
    CHECK_EQ_INT(meta_db_delete(db, "k", 1), 0);
    CHECK_EQ_INT(meta_db_get(db, "k", 1, &val, &vlen), META_ENOENT);
    CHECK_EQ_INT(meta_db_delete(db, "k", 1), 0);
    meta_db_close(db);
}

TEST(test_db_open_fails_when_missing_and_not_create)
{
    char path[128];
    meta_db_t *db = (meta_db_t *)1;

    db_path(path, sizeof(path));
    CHECK_EQ_INT(meta_db_open(path, 0, &db), META_ENOENT);
    CHECK(db == NULL);
}

TEST(test_db_batch_applies_puts_and_deletes_together)
{
    meta_db_t *db;
    meta_batch_t *b;
    void *val;
    size_t vlen;
    int ret;

    CHECK((db = open_fresh()) != NULL);
    CHECK_EQ_INT(meta_db_put(db, "old", 3, "1", 1), 0);
    CHECK((b = meta_batch_new()) != NULL);
    meta_batch_put(b, "x", 1, "2", 1);
    meta_batch_put(b, "y", 1, "3", 1);
    meta_batch_delete(b, "old", 3);
    meta_batch_put(b, "x", 1, "4", 1); /* later entries of a batch win */
    ret = meta_db_write(db, b);
    meta_batch_free(b);
    CHECK_EQ_INT(ret, 0);
    CHECK_EQ_INT(meta_db_get(db, "old", 3, &val, &vlen), META_ENOENT);
    CHECK_EQ_INT(meta_db_get(db, "x", 1, &val, &vlen), 0);
    CHECK(vlen == 1 && ((char *)val)[0] == '4');
    free(val);
    CHECK_EQ_INT(meta_db_get(db, "y", 1, &val, &vlen), 0);
    free(val);
    meta_db_close(db);
}

/* The gateway's bucket confirm takes an earlier read again while the epoch stays: every way of
 * writing a bucket record must move it, and writes of other records must not (or the confirm
 * would read on every PUT again). */
TEST(test_db_bucket_epoch_moves_only_when_bucket_record_written)
{
    meta_db_t *db, *other;
    meta_batch_t *b;
    uint64_t e;

    CHECK((db = open_fresh()) != NULL);
    CHECK((other = open_fresh()) != NULL);
    CHECK(meta_db_bucket_epoch(db) != meta_db_bucket_epoch(other)); /* random at open */
    e = meta_db_bucket_epoch(db);
    CHECK_EQ_INT(meta_db_put(db, "Oobject", 7, "1", 1), 0);
    CHECK_EQ_INT(meta_db_delete(db, "Oobject", 7), 0);
    CHECK((b = meta_batch_new()) != NULL);
    meta_batch_put(b, "Oa", 2, "2", 1);
    meta_batch_delete(b, "Ob", 2);
    CHECK_EQ_INT(meta_db_write(db, b), 0);
    meta_batch_free(b);
    CHECK(meta_db_bucket_epoch(db) == e);
    CHECK_EQ_INT(meta_db_put(db, "Bbucket", 7, "1", 1), 0);
    CHECK(meta_db_bucket_epoch(db) != e);
    e = meta_db_bucket_epoch(db);
    CHECK_EQ_INT(meta_db_delete(db, "Bbucket", 7), 0);
    CHECK(meta_db_bucket_epoch(db) != e);
    e = meta_db_bucket_epoch(db);
    CHECK((b = meta_batch_new()) != NULL);
    meta_batch_put(b, "Oa", 2, "3", 1);
    meta_batch_delete(b, "Bbucket", 7); /* one bucket record among others */
    CHECK_EQ_INT(meta_db_write(db, b), 0);
    meta_batch_free(b);
    CHECK(meta_db_bucket_epoch(db) != e);
    meta_db_close(other);
    meta_db_close(db);
}

TEST(test_db_data_persists_when_reopened)
{
    char path[128];
    meta_db_t *db;
    meta_key_t k;
    meta_buf_t rec = {0};
    meta_bucket_t b, got;
    void *val;
    size_t vlen;
    int ret;

    db_path(path, sizeof(path));
    CHECK_EQ_INT(meta_db_open(path, 1, &db), 0);
    sample_bucket(&b);
    CHECK_EQ_INT(meta_key_bucket(b.name, &k), 0);
    CHECK_EQ_INT(meta_bucket_encode(&b, &rec), 0);
    CHECK_EQ_INT(meta_db_put(db, k.buf, k.len, rec.base, rec.len), 0);
    meta_buf_dispose(&rec);
    meta_db_close(db);
    CHECK_EQ_INT(meta_db_open(path, 0, &db), 0);
    ret = meta_db_get(db, k.buf, k.len, &val, &vlen);
    meta_db_close(db);
    CHECK_EQ_INT(ret, 0);
    ret = meta_bucket_decode(val, vlen, &got);
    if (ret == 0)
        ret = bytes_eq(got.name, b.name) && got.versioning == 2 ? 0 : -1;
    free(val);
    CHECK_EQ_INT(ret, 0);
}

typedef struct {
    size_t n, stop_after;
    int ret;
} count_t;

static int count_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    count_t *c = arg;

    c->n++;
    return c->n == c->stop_after ? c->ret : 0;
}

TEST(test_db_scan_stays_in_prefix_when_prefix_ends_in_ff)
{
    meta_db_t *db;
    count_t c = {0};
    static const char *ks[] = {"a\xff", "a\xff\x00", "a\xff\xff", "a\xff\xff\xff", "b", "a\xfe", "\xff\xff"};

    CHECK((db = open_fresh()) != NULL);
    for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++)
        CHECK_EQ_INT(meta_db_put(db, ks[i], i == 1 ? 3 : strlen(ks[i]), "", 0), 0);
    CHECK_EQ_INT(meta_db_scan(db, "a\xff", 2, NULL, 0, count_cb, &c), 0);
    CHECK_EQ_INT(c.n, 4);
    c.n = 0;
    CHECK_EQ_INT(meta_db_scan(db, "\xff", 1, NULL, 0, count_cb, &c), 0);
    CHECK_EQ_INT(c.n, 1);
    c.n = 0;
    CHECK_EQ_INT(meta_db_scan(db, NULL, 0, NULL, 0, count_cb, &c), 0); /* empty prefix: everything */
    CHECK_EQ_INT(c.n, 7);
    c.n = 0;
    CHECK_EQ_INT(meta_db_scan(db, "a\xff", 2, "a\xff\xff", 3, count_cb, &c), 0); /* seek inside */
    CHECK_EQ_INT(c.n, 2);
    c.n = 0;
    CHECK_EQ_INT(meta_db_scan(db, "a\xff", 2, "a", 1, count_cb, &c), 0); /* seek before the prefix */
    CHECK_EQ_INT(c.n, 4);
    meta_db_close(db);
}

TEST(test_db_scan_stops_when_callback_says_so)
{
    meta_db_t *db;
    count_t c = {0, 2, 1};

    CHECK((db = open_fresh()) != NULL);
    CHECK_EQ_INT(meta_db_put(db, "p1", 2, "", 0), 0);
    CHECK_EQ_INT(meta_db_put(db, "p2", 2, "", 0), 0);
    CHECK_EQ_INT(meta_db_put(db, "p3", 2, "", 0), 0);
    CHECK_EQ_INT(meta_db_scan(db, "p", 1, NULL, 0, count_cb, &c), 0);
    CHECK_EQ_INT(c.n, 2);
    c = (count_t){0, 1, -77};
    CHECK_EQ_INT(meta_db_scan(db, "p", 1, NULL, 0, count_cb, &c), -77);
    CHECK_EQ_INT(c.n, 1);
    meta_db_close(db);
}

#define WRITERS           8
#define WRITES_PER_THREAD 100

typedef struct {
    meta_db_t *db;
    int id, failed;
} writer_arg_t;

static void *writer_main(void *p)
{
    writer_arg_t *w = p;
    char key[32];

    for (int i = 0; i < WRITES_PER_THREAD; i++) {
        int n = snprintf(key, sizeof(key), "w%02d-%04d", w->id, i);
        if (meta_db_put(w->db, key, (size_t)n, key, (size_t)n) != 0)
            w->failed = 1;
    }
    return NULL;
}

TEST(test_db_keeps_every_write_when_many_threads_write)
{
    meta_db_t *db;
    pthread_t th[WRITERS];
    writer_arg_t args[WRITERS];
    count_t c = {0};
    int failed = 0;

    CHECK((db = open_fresh()) != NULL);
    for (int i = 0; i < WRITERS; i++) {
        args[i] = (writer_arg_t){db, i, 0};
        CHECK_EQ_INT(pthread_create(&th[i], NULL, writer_main, &args[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(th[i], NULL);
        failed |= args[i].failed;
    }
    CHECK_EQ_INT(meta_db_scan(db, "w", 1, NULL, 0, count_cb, &c), 0);
    meta_db_close(db);
    CHECK_EQ_INT(failed, 0);
    CHECK_EQ_INT(c.n, WRITERS * WRITES_PER_THREAD);
}

/* ---- group commit ---- */

typedef struct {
    meta_group_t *g;
    int id, failed;
} group_writer_t;

static void *group_writer_main(void *arg)
{
    group_writer_t *w = arg;
    char key[32];
    for (int i = 0; i < WRITES_PER_THREAD; i++) {
        meta_pending_t p;
        int n = snprintf(key, sizeof(key), "g%02d-%05d", w->id, i);
        meta_group_put(w->g, &p, key, (size_t)n, key, (size_t)n);
        w->failed |= meta_group_wait(&p) != 0;
    }
    return NULL;
}

TEST(test_group_keeps_every_write_and_shares_syncs_when_many_threads_write)
{
    char path[128];
    meta_db_t *db;
    meta_group_t *g;
    pthread_t th[WRITERS];
    group_writer_t args[WRITERS];
    count_t c = {0};
    uint64_t batches = 0, writes = 0;
    int failed = 0;

    db_path(path, sizeof(path));
    CHECK_EQ_INT(meta_db_open(path, 1, &db), 0);
    CHECK_EQ_INT(meta_group_start(db, &g), 0);
    for (int i = 0; i < WRITERS; i++) {
        args[i] = (group_writer_t){g, i, 0};
        CHECK_EQ_INT(pthread_create(&th[i], NULL, group_writer_main, &args[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(th[i], NULL);
        failed |= args[i].failed;
    }
    meta_group_counts(g, &batches, &writes);
    meta_group_stop(g);
    meta_db_close(db);
    CHECK_EQ_INT(failed, 0);
    CHECK_EQ_INT(writes, WRITERS * WRITES_PER_THREAD);
    /* writers that queue while a batch is being synced share the next one */
    CHECK(batches > 0 && batches < writes);
    /* acknowledged means durable: all of them are there after a reopen */
    CHECK_EQ_INT(meta_db_open(path, 0, &db), 0);
    CHECK_EQ_INT(meta_db_scan(db, "g", 1, NULL, 0, count_cb, &c), 0);
    meta_db_close(db);
    CHECK_EQ_INT(c.n, WRITERS * WRITES_PER_THREAD);
}

TEST(test_group_applies_detached_put_before_a_later_write_of_the_queue)
{
    meta_db_t *db;
    meta_group_t *g;
    meta_pending_t p;
    void *val = NULL;
    size_t vlen = 0;
    char key[4] = "dk1";

    CHECK((db = open_fresh()) != NULL);
    CHECK_EQ_INT(meta_group_start(db, &g), 0);
    CHECK_EQ_INT(meta_group_put_detached(g, key, 3, "old", 3), 0);
    key[2] = '2'; /* the group holds its own copy */
    meta_group_put(g, &p, "dk1", 3, "new", 3);
    CHECK_EQ_INT(meta_group_wait(&p), 0);
    /* queued in this order, applied in this order: the waited write wins */
    CHECK_EQ_INT(meta_db_get(db, "dk1", 3, &val, &vlen), 0);
    CHECK(vlen == 3 && memcmp(val, "new", 3) == 0);
    free(val);
    CHECK_EQ_INT(meta_group_put_detached(g, "dk3", 3, "v", 1), 0);
    meta_group_stop(g); /* writes what is queued before it ends */
    CHECK_EQ_INT(meta_db_get(db, "dk3", 3, &val, &vlen), 0);
    free(val);
    CHECK_EQ_INT(meta_db_get(db, "dk2", 3, &val, &vlen), META_ENOENT);
    meta_db_close(db);
}

TEST(test_group_waiter_returns_when_every_joined_write_is_applied)
{
    meta_db_t *db[3];
    meta_group_t *g[3];
    meta_pending_t p[3];
    meta_waiter_t w;
    void *val;
    size_t vlen;

    for (int i = 0; i < 3; i++) {
        CHECK((db[i] = open_fresh()) != NULL);
        CHECK_EQ_INT(meta_group_start(db[i], &g[i]), 0);
    }
    meta_waiter_init(&w);
    for (int i = 0; i < 3; i++)
        meta_group_put_joined(g[i], &p[i], &w, "jk", 2, "v", 1);
    meta_waiter_wait(&w);
    /* each write is done and applied before the one wake, without waiting on its own */
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(p[i].done, 1);
        CHECK_EQ_INT(meta_db_get(db[i], "jk", 2, &val, &vlen), 0);
        free(val);
        CHECK_EQ_INT(meta_group_wait(&p[i]), 0);
    }
    for (int i = 0; i < 3; i++) {
        meta_group_stop(g[i]);
        meta_db_close(db[i]);
    }
}

typedef struct {
    meta_group_t **g;
    meta_db_t **db;
    int id, failed;
} joined_writer_t;

static void *joined_writer_main(void *arg)
{
    joined_writer_t *w = arg;
    char key[32];
    for (int i = 0; i < WRITES_PER_THREAD / 4; i++) {
        meta_pending_t p[3];
        meta_waiter_t waiter;
        int n = snprintf(key, sizeof(key), "j%02d-%05d", w->id, i);
        meta_waiter_init(&waiter);
        for (int d = 0; d < 3; d++)
            meta_group_put_joined(w->g[d], &p[d], &waiter, key, (size_t)n, key, (size_t)n);
        meta_waiter_wait(&waiter);
        for (int d = 0; d < 3; d++) {
            void *val = NULL;
            size_t vlen = 0;
            /* woken only once every database applied it */
            w->failed |= meta_db_get(w->db[d], key, (size_t)n, &val, &vlen) != 0;
            free(val);
            w->failed |= meta_group_wait(&p[d]) != 0;
        }
    }
    return NULL;
}

/* Many threads, each waiting for writes joined over several groups at once (the waiters' wakes
 * come from several committers, in any order): every wait ends, and only after its writes. */
TEST(test_group_waiters_wake_after_their_writes_when_many_threads_join)
{
    meta_db_t *db[3];
    meta_group_t *g[3];
    pthread_t th[WRITERS];
    joined_writer_t args[WRITERS];
    int failed = 0;

    for (int d = 0; d < 3; d++) {
        CHECK((db[d] = open_fresh()) != NULL);
        CHECK_EQ_INT(meta_group_start(db[d], &g[d]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        args[i] = (joined_writer_t){g, db, i, 0};
        CHECK_EQ_INT(pthread_create(&th[i], NULL, joined_writer_main, &args[i]), 0);
    }
    for (int i = 0; i < WRITERS; i++) {
        pthread_join(th[i], NULL);
        failed |= args[i].failed;
    }
    for (int d = 0; d < 3; d++) {
        meta_group_stop(g[d]);
        meta_db_close(db[d]);
    }
    CHECK_EQ_INT(failed, 0);
}

/* A batch the database refuses fails every write in it, and none of them is applied. */
TEST(test_group_fails_every_write_when_database_refuses)
{
    char dir[64], why[160], path[128];
    meta_db_t *db = NULL;
    meta_group_t *g;
    meta_pending_t p[4];
    char big[4000];
    void *val;
    size_t vlen;

    if (unit_tmpfs_mount(dir, "8m", why, sizeof(why)) != 0)
        UNIT_SKIP(why);
    snprintf(path, sizeof(path), "%s/db", dir);
    CHECK_EQ_INT(meta_db_open(path, 1, &db), 0);
    CHECK_EQ_INT(meta_group_start(db, &g), 0);
    unit_fill(dir, 0);
    memset(big, 'x', sizeof(big));
    int first = 0;
    for (int i = 0; i < 200 && first == 0; i++) {
        char key[16];
        int n = snprintf(key, sizeof(key), "f%05d", i);
        meta_group_put(g, &p[0], key, (size_t)n, big, sizeof(big));
        first = meta_group_wait(&p[0]);
    }
    CHECK_EQ_INT(first, META_ENOSPC);
    for (int i = 0; i < 4; i++)
        meta_group_put(g, &p[i], i % 2 ? "odd" : "even", i % 2 ? 3 : 4, "v", 1);
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(meta_group_wait(&p[i]), META_ENOSPC);
    CHECK_EQ_INT(meta_db_get(db, "odd", 3, &val, &vlen), META_ENOENT);
    meta_group_stop(g);
    meta_db_close(db);
    unit_unfill(dir);
    unit_tmpfs_umount(dir);
}

TEST(test_db_instances_are_independent_when_several_open)
{
    meta_db_t *dbs[6];
    void *val;
    size_t vlen;
    int ret = 0;

    for (int i = 0; i < 6; i++) {
        CHECK((dbs[i] = open_fresh()) != NULL);
        CHECK_EQ_INT(meta_db_put(dbs[i], "k", 1, &i, sizeof(i)), 0);
    }
    for (int i = 0; i < 6 && ret == 0; i++) {
        if ((ret = meta_db_get(dbs[i], "k", 1, &val, &vlen)) == 0) {
            ret = vlen == sizeof(i) && memcmp(val, &i, sizeof(i)) == 0 ? 0 : -1;
            free(val);
        }
    }
    /* close out of order: the shared cache must outlive every instance still open */
    meta_db_close(dbs[0]);
    meta_db_close(dbs[3]);
    if (ret == 0 && (ret = meta_db_get(dbs[5], "k", 1, &val, &vlen)) == 0)
        free(val);
    for (int i = 1; i < 6; i++)
        if (i != 3)
            meta_db_close(dbs[i]);
    CHECK_EQ_INT(ret, 0);
}

/* ---- a full drive ---- */

static int put_value(meta_db_t *db, int i, size_t len)
{
    char key[32], val[4096];

    snprintf(key, sizeof(key), "key-%06d", i);
    memset(val, 'a' + i % 26, len < sizeof(val) ? len : sizeof(val));
    return meta_db_put(db, key, strlen(key), val, len < sizeof(val) ? len : sizeof(val));
}

static int has_value(meta_db_t *db, int i)
{
    char key[32];
    void *val = NULL;
    size_t vlen = 0;
    int ret;

    snprintf(key, sizeof(key), "key-%06d", i);
    ret = meta_db_get(db, key, strlen(key), &val, &vlen);
    ret = ret == 0 && vlen > 0 && ((char *)val)[0] == 'a' + i % 26 ? 1 : ret;
    free(val);
    return ret;
}

/* RocksDB's own info log used to abort the process on the line after a failed write: this test
 * died with SIGABRT at the second write below. Now the first failure fails the handle, the
 * writes after it never reach RocksDB, reads go on, and a reopen once space is back restores
 * writes with everything acknowledged before. */
TEST(test_db_refuses_writes_after_write_error_and_reopen_restores_them)
{
    char dir[64], why[160], path[128];
    meta_db_t *db = NULL;
    int ok = 0;

    if (unit_tmpfs_mount(dir, "8m", why, sizeof(why)) != 0)
        UNIT_SKIP(why);
    snprintf(path, sizeof(path), "%s/db", dir);
    CHECK_EQ_INT(meta_db_open(path, 1, &db), 0);
    for (int i = 0; i < 100; i++)
        ok += put_value(db, i, 1000) == 0;
    CHECK_EQ_INT(ok, 100);
    CHECK_EQ_INT(meta_db_write_error(db), 0);
    unit_fill(dir, 0);
    /* the WAL append meets ENOSPC: the handle fails and says why */
    int first = 0;
    for (int i = 100; i < 200 && first == 0; i++)
        first = put_value(db, i, 4000);
    CHECK_EQ_INT(first, META_ENOSPC);
    CHECK_EQ_INT(meta_db_write_error(db), META_ENOSPC);
    /* later writes, deletes included, are refused without RocksDB, even with space back */
    CHECK_EQ_INT(put_value(db, 500, 10), META_ENOSPC);
    CHECK_EQ_INT(meta_db_delete(db, "key-000001", 10), META_ENOSPC);
    unit_unfill(dir);
    CHECK_EQ_INT(put_value(db, 501, 10), META_ENOSPC);
    /* reads go on from the failed handle */
    for (int i = 0; i < 100; i++)
        CHECK_EQ_INT(has_value(db, i), 1);
    /* reopened with space back: writes again, nothing acknowledged lost; the replayed WAL may
     * hold what failed, so the bucket epoch moves */
    uint64_t epoch = meta_db_bucket_epoch(db);
    CHECK_EQ_INT(meta_db_reopen(db), 0);
    CHECK(meta_db_bucket_epoch(db) != epoch);
    CHECK_EQ_INT(meta_db_write_error(db), 0);
    CHECK_EQ_INT(meta_db_read_only(db), 0);
    CHECK_EQ_INT(put_value(db, 502, 10), 0);
    CHECK_EQ_INT(meta_db_delete(db, "key-000001", 10), 0);
    CHECK_EQ_INT(has_value(db, 1), META_ENOENT);
    for (int i = 2; i < 100; i++)
        CHECK_EQ_INT(has_value(db, i), 1);
    CHECK_EQ_INT(has_value(db, 502), 1);
    meta_db_close(db);
    unit_tmpfs_umount(dir);
}

/* A drive that filled up must come up after a restart: a read-write open needs room (a new
 * MANIFEST, WAL and OPTIONS file), so the open falls back to read-only, serves every record,
 * refuses writes, and becomes writable by a reopen once space is back. */
TEST(test_db_opens_read_only_when_drive_full_and_reopens_writable)
{
    char dir[64], why[160], path[128];
    meta_db_t *db = NULL;
    void *val = NULL;
    size_t vlen;
    int ok = 0;

    if (unit_tmpfs_mount(dir, "8m", why, sizeof(why)) != 0)
        UNIT_SKIP(why);
    snprintf(path, sizeof(path), "%s/db", dir);
    CHECK_EQ_INT(meta_db_open(path, 1, &db), 0);
    for (int i = 0; i < 200; i++)
        ok += put_value(db, i, 1000) == 0;
    CHECK_EQ_INT(ok, 200);
    meta_db_close(db);
    db = NULL;
    unit_fill(dir, 0);
    CHECK_EQ_INT(unit_free_bytes(dir), 0);
    CHECK_EQ_INT(meta_db_open(path, 0, &db), 0);
    CHECK(db != NULL);
    CHECK_EQ_INT(meta_db_read_only(db), 1);
    CHECK_EQ_INT(meta_db_write_error(db), META_ENOSPC);
    for (int i = 0; i < 200; i++)
        CHECK_EQ_INT(has_value(db, i), 1);
    CHECK_EQ_INT(meta_db_get(db, "nope", 4, &val, &vlen), META_ENOENT);
    CHECK_EQ_INT(put_value(db, 300, 10), META_ENOSPC);
    /* still full: the reopen falls back to read-only again */
    CHECK_EQ_INT(meta_db_reopen(db), META_ENOSPC);
    CHECK_EQ_INT(meta_db_read_only(db), 1);
    CHECK_EQ_INT(has_value(db, 7), 1);
    unit_unfill(dir);
    CHECK_EQ_INT(meta_db_reopen(db), 0);
    CHECK_EQ_INT(meta_db_read_only(db), 0);
    CHECK_EQ_INT(put_value(db, 300, 10), 0);
    for (int i = 0; i < 200; i++)
        CHECK_EQ_INT(has_value(db, i), 1);
    meta_db_close(db);
    unit_tmpfs_umount(dir);
}

/* Records deleted on a full drive give their space back only when their memtable is flushed
 * (the WAL holding them goes then): meta_db_flush is how a drive asks for it. */
TEST(test_db_flush_gives_back_space_of_deleted_records)
{
    char dir[64], why[160], path[128], key[32];
    meta_db_t *db = NULL;
    meta_memtable_stats_t m;
    uint64_t before, after = 0;

    if (unit_tmpfs_mount(dir, "16m", why, sizeof(why)) != 0)
        UNIT_SKIP(why);
    snprintf(path, sizeof(path), "%s/db", dir);
    CHECK_EQ_INT(meta_db_open(path, 1, &db), 0);
    for (int i = 0; i < 1000; i++)
        CHECK_EQ_INT(put_value(db, i, 4000), 0);
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof(key), "key-%06d", i);
        CHECK_EQ_INT(meta_db_delete(db, key, strlen(key)), 0);
    }
    CHECK_EQ_INT(meta_db_memtable_stats(db, &m), 0);
    CHECK(m.entries == 2000 && m.deletes == 1000 && m.bytes >= 4000000);
    before = unit_free_bytes(dir);
    CHECK_EQ_INT(meta_db_flush(db), 0);
    for (int i = 0; i < 200 && (after = unit_free_bytes(dir)) < before + 3000000; i++)
        usleep(10000);
    CHECK(after >= before + 3000000); /* the WAL of about 4 MB went */
    CHECK_EQ_INT(has_value(db, 5), META_ENOENT);
    meta_db_close(db);
    unit_tmpfs_umount(dir);
}

/* The figures a gateway's /metrics shows of a drive's database: keys counted from the memtable
 * on, SST bytes once a flush wrote them, no background error, and an unknown property refused. */
TEST(test_db_stats_count_keys_and_sst_bytes_when_flushed)
{
    meta_db_t *db = open_fresh();
    meta_db_stats_t st;
    uint64_t v;

    CHECK(db != NULL);
    for (int i = 0; i < 500; i++)
        CHECK_EQ_INT(put_value(db, i, 1000), 0);
    CHECK_EQ_INT(meta_db_stats(db, &st), 0);
    CHECK_EQ_INT(st.estimate_keys, 500);
    CHECK_EQ_INT(st.sst_bytes, 0);
    CHECK(st.memtable_bytes >= 500 * 1000);
    CHECK_EQ_INT(st.background_errors, 0);
    CHECK_EQ_INT(st.write_error, 0);
    CHECK_EQ_INT(st.read_only, 0);
    CHECK_EQ_INT(meta_db_flush(db), 0);
    for (int i = 0; i < 500 && (meta_db_stats(db, &st) != 0 || st.sst_bytes == 0); i++)
        usleep(10000);
    CHECK(st.sst_bytes > 0 && st.live_sst_bytes > 0);
    CHECK_EQ_INT(st.estimate_keys, 500);
    CHECK_EQ_INT(meta_db_property_int(db, "rocksdb.estimate-num-keys", &v), 0);
    CHECK_EQ_INT(v, 500);
    CHECK_EQ_INT(meta_db_property_int(db, "rocksdb.no-such-property", &v), META_EIO);
    meta_db_close(db);
}

/* An idle database settles: an SST file in level 0 that overwrites the 500 keys of the level
 * below and a memtable of 100 more are merged into the levels below, the overwritten values
 * dropped (RocksDB then counts 600 keys, not 1,100), every value still read. */
TEST(test_db_settle_flushes_and_merges_level0_when_idle)
{
    meta_db_t *db = open_fresh();
    meta_memtable_stats_t m;
    uint64_t level0 = 0, keys = 0;
    int compacted = 0;

    CHECK(db != NULL);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 500; i++)
            CHECK_EQ_INT(put_value(db, i, 1000), 0);
        /* the first moves level 0 down (nothing below to rewrite), the second only flushes */
        CHECK_EQ_INT(meta_db_settle(db, 0, &compacted), 0);
        CHECK_EQ_INT(compacted, round == 0);
    }
    CHECK_EQ_INT(meta_db_level0_files(db, &level0), 0);
    CHECK_EQ_INT(level0, 1);
    for (int i = 500; i < 600; i++)
        CHECK_EQ_INT(put_value(db, i, 1000), 0);
    CHECK_EQ_INT(meta_db_settle(db, (uint64_t)64 << 20, &compacted), 0);
    CHECK_EQ_INT(compacted, 1);
    CHECK_EQ_INT(meta_db_level0_files(db, &level0), 0);
    CHECK_EQ_INT(level0, 0);
    CHECK_EQ_INT(meta_db_memtable_stats(db, &m), 0);
    CHECK_EQ_INT(m.entries, 0);
    CHECK_EQ_INT(meta_db_property_int(db, "rocksdb.estimate-num-keys", &keys), 0);
    CHECK_EQ_INT(keys, 600);
    for (int i = 0; i < 600; i++)
        CHECK_EQ_INT(has_value(db, i), 1);
    meta_db_close(db);
}

/* A settle whose level-0 span overlaps more bytes below than it may rewrite only flushes. */
TEST(test_db_settle_only_flushes_when_rewrite_would_exceed_limit)
{
    meta_db_t *db = open_fresh();
    uint64_t level0 = 0;
    int compacted = 1;

    CHECK(db != NULL);
    for (int i = 0; i < 500; i++)
        CHECK_EQ_INT(put_value(db, i, 1000), 0);
    CHECK_EQ_INT(meta_db_settle(db, (uint64_t)64 << 20, &compacted), 0);
    CHECK_EQ_INT(compacted, 1); /* level 0 moved down: the files below now hold the 500 keys */
    for (int i = 0; i < 500; i++)
        CHECK_EQ_INT(put_value(db, i, 1000), 0);
    CHECK_EQ_INT(meta_db_settle(db, 1000, &compacted), 0);
    CHECK_EQ_INT(compacted, 0);
    CHECK_EQ_INT(meta_db_level0_files(db, &level0), 0);
    CHECK_EQ_INT(level0, 1);
    for (int i = 0; i < 500; i++)
        CHECK_EQ_INT(has_value(db, i), 1);
    meta_db_close(db);
}

/* A record in a table written in the last level is read with the index and filter blocks that
 * table holds pinned: one block cache lookup, for the data block (without the pinning only level
 * 0's tables held theirs, and a read looked the others' up in the cache: 3 lookups). A read of a
 * key that the memtable does not hold is answered by the memtable's bloom filter. */
TEST(test_db_point_read_of_settled_record_uses_pinned_index_and_memtable_bloom)
{
    meta_db_t *db = open_fresh();
    meta_perf_t perf;
    uint64_t level0 = 0;

    CHECK(db != NULL);
    /* twice: the first settle moves level 0's file down as it is (its table, opened as level 0's,
     * keeps its pinned blocks), the second merges and writes a new table in the last level */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 500; i++)
            CHECK_EQ_INT(put_value(db, i, 1000), 0);
        CHECK_EQ_INT(meta_db_settle(db, (uint64_t)64 << 20, NULL), 0);
    }
    CHECK_EQ_INT(meta_db_level0_files(db, &level0), 0);
    CHECK_EQ_INT(level0, 0);
    CHECK_EQ_INT(put_value(db, 999, 10), 0); /* the memtable is not empty */
    CHECK_EQ_INT(has_value(db, 7), 1);       /* warm: the data block is in the cache */
    meta_perf_start();
    CHECK_EQ_INT(has_value(db, 7), 1);
    meta_perf_stop(&perf);
    CHECK_EQ_INT(perf.cache_hits, 1); /* the data block; 3 with index and filter looked up too */
    CHECK_EQ_INT(perf.memtable_bloom_misses, 1);
    CHECK(meta_db_cache_pinned_bytes(db) > 0);
    meta_db_close(db);
}

/* A read from memory answers what the memtable or the block cache holds, and -EAGAIN, never a
 * wait for the disk, for a record whose block is only in a file; once a plain read brought the
 * block in, it answers that too. */
TEST(test_db_cached_read_answers_from_memory_only)
{
    char path[128];
    meta_db_t *db = NULL;
    void *val = NULL;
    size_t vlen = 0;

    db_path(path, sizeof(path));
    CHECK_EQ_INT(meta_db_open(path, 1, &db), 0);
    CHECK_EQ_INT(meta_db_put(db, "cached-key", 10, "value-1", 7), 0);
    CHECK_EQ_INT(meta_db_get_cached(db, "cached-key", 10, &val, &vlen), 0); /* the memtable */
    CHECK(vlen == 7 && memcmp(val, "value-1", 7) == 0);
    free(val);
    /* now only in a table file (settled: flushed and compacted, waited for), reopened so that
     * nothing of it is in memory: its data block not read yet */
    CHECK_EQ_INT(meta_db_settle(db, (uint64_t)64 << 20, NULL), 0);
    meta_db_close(db);
    CHECK_EQ_INT(meta_db_open(path, 0, &db), 0);
    CHECK_EQ_INT(meta_db_get_cached(db, "cached-key", 10, &val, &vlen), -EAGAIN);
    CHECK(val == NULL);
    CHECK_EQ_INT(meta_db_get(db, "cached-key", 10, &val, &vlen), 0);
    free(val);
    CHECK_EQ_INT(meta_db_get_cached(db, "cached-key", 10, &val, &vlen), 0); /* the block cache */
    CHECK(vlen == 7 && memcmp(val, "value-1", 7) == 0);
    free(val);
    meta_db_close(db);
}

/* A head round-trips; every other byte string (a flipped bit, a short one, unknown flags) is
 * META_ECORRUPT, never a head; its keys are the versions prefix under the live and dead tags. */
TEST(test_head_round_trip_and_corruption_detected)
{
    meta_head_t h = {.flags = META_HEAD_MARKER, .mtime_ns = 1234567890123LL}, got;
    uint8_t buf[META_HEAD_LEN];
    meta_key_t prefix, live, dead, via;
    meta_bytes_t bucket = {"heads:0000000000000001", 22}, key = {"a\0b", 3};

    h.vid[0] = 0x9c;
    h.vid[15] = 0x01;
    meta_head_encode(&h, buf);
    CHECK_EQ_INT(meta_head_decode(buf, sizeof(buf), &got), 0);
    CHECK_EQ_INT(got.flags, META_HEAD_MARKER);
    CHECK(got.mtime_ns == h.mtime_ns && memcmp(got.vid, h.vid, META_ID_LEN) == 0);
    for (size_t i = 0; i < sizeof(buf); i++) {
        buf[i] ^= 0x10;
        CHECK_EQ_INT(meta_head_decode(buf, sizeof(buf), &got), META_ECORRUPT);
        buf[i] ^= 0x10;
    }
    CHECK_EQ_INT(meta_head_decode(buf, sizeof(buf) - 1, &got), META_ECORRUPT);
    h.flags = 0x80;
    meta_head_encode(&h, buf);
    CHECK_EQ_INT(meta_head_decode(buf, sizeof(buf), &got), META_ECORRUPT);

    CHECK_EQ_INT(meta_key_object_versions(bucket, key, &prefix), 0);
    CHECK_EQ_INT(meta_key_head(bucket, key, 0, &live), 0);
    CHECK_EQ_INT(meta_key_head(bucket, key, 1, &dead), 0);
    CHECK(live.len == prefix.len && live.buf[0] == 'H' && memcmp(live.buf + 1, prefix.buf + 1, prefix.len - 1) == 0);
    CHECK(dead.len == prefix.len && dead.buf[0] == 'h' && memcmp(dead.buf + 1, prefix.buf + 1, prefix.len - 1) == 0);
    meta_key_head_of(prefix.buf, prefix.len, 1, &via);
    CHECK(via.len == dead.len && memcmp(via.buf, dead.buf, dead.len) == 0);
}

int main(void)
{
    snprintf(tmp_root, sizeof(tmp_root), "/tmp/yc-test-meta-XXXXXX");
    if (mkdtemp(tmp_root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_key_order_matches_memcmp_when_scanned);
    RUN(test_key_seek_lands_on_first_key_at_or_after_prefix);
    RUN(test_key_versions_come_newest_first_when_scanned);
    RUN(test_key_same_mtime_versions_ordered_by_vid);
    RUN(test_scan_newest_gives_slot_and_newest_version_when_tombstones_follow);
    RUN(test_scan_live_leaves_out_marker_topped_keys_with_notes);
    RUN(test_scan_live_notes_long_runs_and_steps_over_deleted_keys);
    RUN(test_key_parts_sort_by_number);
    RUN(test_key_parse_returns_fields_when_object_key);
    RUN(test_key_parse_returns_upload_id_when_upload_key);
    RUN(test_key_parse_rejects_when_malformed);
    RUN(test_key_rejects_when_field_too_long);
    RUN(test_key_fits_when_every_field_at_maximum);
    RUN(test_record_round_trips_when_bucket);
    RUN(test_record_refused_when_bucket_has_no_incarnation_or_unknown_state);
    RUN(test_record_round_trips_when_config);
    RUN(test_record_refused_when_config_removed_with_document_or_no_incarnation);
    RUN(test_bucket_ns_names_incarnation_when_formatted);
    RUN(test_key_refused_when_namespace_too_long);
    RUN(test_key_lock_sorts_apart_when_encoded);
    RUN(test_key_null_slot_sorts_first_when_encoded);
    RUN(test_slot_walks_records_when_one_or_several);
    RUN(test_record_round_trips_when_object);
    RUN(test_record_round_trips_when_delete_marker);
    RUN(test_record_round_trips_when_upload);
    RUN(test_record_format2_object_decodes_without_attrs_and_comes_back_as_format3);
    RUN(test_record_round_trips_when_object_has_attrs);
    RUN(test_attr_put_replaces_inserts_in_order_and_removes);
    RUN(test_record_round_trips_when_part);
    RUN(test_key_iam_round_trips_and_sorts_before_access_keys);
    RUN(test_key_iam_when_name_holds_nul_fails);
    RUN(test_record_round_trips_when_user);
    RUN(test_record_detects_every_single_byte_corruption);
    RUN(test_record_detects_every_truncation);
    RUN(test_record_rejects_when_trailing_bytes_under_valid_checksum);
    RUN(test_record_rejects_when_magic_or_version_wrong);
    RUN(test_record_rejects_when_object_fields_inconsistent);
    RUN(test_record_rejects_when_checksum_fields_inconsistent);
    RUN(test_record_encode_rejects_when_field_out_of_range);
    RUN(test_record_encoders_append_when_buffer_not_empty);
    RUN(test_kv_next_rejects_when_truncated);
    RUN(test_db_get_returns_copy_when_present);
    RUN(test_db_open_fails_when_missing_and_not_create);
    RUN(test_db_batch_applies_puts_and_deletes_together);
    RUN(test_db_bucket_epoch_moves_only_when_bucket_record_written);
    RUN(test_db_data_persists_when_reopened);
    RUN(test_db_scan_stays_in_prefix_when_prefix_ends_in_ff);
    RUN(test_db_scan_stops_when_callback_says_so);
    RUN(test_db_keeps_every_write_when_many_threads_write);
    RUN(test_group_keeps_every_write_and_shares_syncs_when_many_threads_write);
    RUN(test_group_applies_detached_put_before_a_later_write_of_the_queue);
    RUN(test_group_waiter_returns_when_every_joined_write_is_applied);
    RUN(test_group_waiters_wake_after_their_writes_when_many_threads_join);
    RUN(test_group_fails_every_write_when_database_refuses);
    RUN(test_db_instances_are_independent_when_several_open);
    RUN(test_db_stats_count_keys_and_sst_bytes_when_flushed);
    RUN(test_db_refuses_writes_after_write_error_and_reopen_restores_them);
    RUN(test_db_opens_read_only_when_drive_full_and_reopens_writable);
    RUN(test_db_flush_gives_back_space_of_deleted_records);
    RUN(test_db_settle_flushes_and_merges_level0_when_idle);
    RUN(test_db_settle_only_flushes_when_rewrite_would_exceed_limit);
    RUN(test_db_point_read_of_settled_record_uses_pinned_index_and_memtable_bloom);
    RUN(test_db_cached_read_answers_from_memory_only);
    RUN(test_head_round_trip_and_corruption_detected);
    nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return unit_done();
}
