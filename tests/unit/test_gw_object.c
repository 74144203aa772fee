/* test_gw_object.c — the object engine over real drives in this process (no sockets): a lookup's
 * allocations, reading back what was written whatever the records' size and however the drives
 * are scanned, a lookup of one version, the keys the engine reports for healing through the
 * cluster's repair sink, pointers into the decoded stripe (gw_object_peek) and a data pass that
 * skips its MD5 when its source asks.
 *
 * Allocations are counted by interposing malloc, calloc and realloc for this binary and counting
 * the calls of the testing thread (with drives in the process, a lookup reads every drive on the
 * calling thread). RocksDB allocates while it scans too, so the engine's own share is the count
 * of a lookup less the count of the same scans made directly on the drives. Under a sanitizer,
 * which brings its own allocator, the count is skipped.
 */
#include "gateway/gw_object.h"
#include "gateway/gw_attrs.h"
#include "gateway/gw_lister.h"
#include "common/bytes.h"
#include "tests/unit/unit.h"
#include "tests/unit/unit_fs.h"
#include <ftw.h>
#include <openssl/evp.h>

#if defined(__SANITIZE_ADDRESS__)
#define COUNTING 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNTING 0
#endif
#endif
#ifndef COUNTING
#define COUNTING 1
#endif

static __thread int counting;
static __thread size_t allocations;

#if COUNTING
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);

void *malloc(size_t size)
{
    allocations += counting;
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    allocations += counting;
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    allocations += counting;
    return __libc_realloc(p, size);
}
#endif

#define NDRIVES 6

typedef struct {
    char root[64];
    char paths[NDRIVES][96];
    gw_cluster_t *c;
} cluster_t;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* Six drives in a new temp directory, one set of 4+2. */
static int cluster_open(cluster_t *t)
{
    const char *specs[NDRIVES];
    char root[64] = "/tmp/yc-object-test-XXXXXX";

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

/* Puts size bytes of body as version vid (NULL: the null version) of bucket/key, as PutObject does. */
static int put_version(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid, const uint8_t *body,
                       uint64_t size)
{
    uint8_t dist[16];
    gw_data_t data;
    meta_buf_t parts = {0};
    int ret;

    gw_set_t *set = gw_cluster_place(c, bucket, key, dist);
    if ((ret = gw_data_write(c, set, dist, gw_source_memory(body), size, 1, NULL, NULL, &data)) != 0)
        return ret;
    meta_part_ref_t part = {.number = 1, .size = size};
    memcpy(part.data_id, data.data_id, META_ID_LEN);
    memcpy(part.etag, data.md5, 16);
    meta_parts_append(&parts, &part);
    meta_object_t r = {.bucket = bucket,
                       .key = key,
                       .mtime_ns = yc_now_ns(),
                       .flags = data.is_inline ? META_OBJ_INLINE : 0,
                       .size = size,
                       .etag = {"0123456789abcdef0123456789abcdef", 32},
                       .ec_k = set->k,
                       .ec_m = set->m,
                       .stripe_size = c->stripe_size,
                       .parts = {(const char *)parts.base, parts.len},
                       .part_count = 1};
    memcpy(r.distribution, dist, 16);
    if (vid != NULL)
        memcpy(r.vid, vid, META_ID_LEN);
    ret = gw_object_commit(c, set, &r, &data);
    meta_buf_dispose(&parts);
    gw_data_dispose(&data);
    return ret;
}

static int put_object(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *body, uint64_t size)
{
    return put_version(c, bucket, key, NULL, body, size);
}

static uint8_t *pattern(size_t size, unsigned seed)
{
    uint8_t *b = malloc(size);
    for (size_t i = 0; b != NULL && i < size; i++)
        b[i] = (uint8_t)(i * 31 + seed + (i >> 10));
    return b;
}

/* Looks the key up and checks that it reads back as body. */
static int reads_back(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *body, size_t size)
{
    gw_object_t *o;
    uint8_t *back = malloc(size > 0 ? size : 1);
    int ret = gw_object_lookup(c, bucket, key, NULL, &o);

    if (ret == 0) {
        ret = gw_object_record(o)->size != size           ? -1
              : gw_object_read(o, 0, size, back) != 0     ? -2
              : size > 0 && memcmp(back, body, size) != 0 ? -3
                                                          : 0;
        gw_object_free(o);
    }
    free(back);
    return ret;
}

static int ignore_record(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    return 0;
}

/* The allocations of reading every version record of a key from every drive of its set directly,
 * as the lookup does, without keeping anything. */
static size_t scan_allocations(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t key)
{
    uint8_t dist[16];
    meta_key_t prefix;
    gw_set_t *set = gw_cluster_place(c, bucket, key, dist);

    meta_key_object_versions(bucket, key, &prefix);
    allocations = 0;
    counting = 1;
    for (uint32_t s = 0; s < gw_set_width(set); s++)
        store_client_record_scan_newest(set->drives[s]->client, &prefix, NULL, 0, ignore_record, NULL);
    counting = 0;
    return allocations;
}

/* A 4 KiB GET's lookup: the object rides inline in its six records (4+2). Reading them and
 * decoding the object takes one allocation of the engine's own (the looked-up object, with the
 * records' bytes and the decoded data in it), not one per record per drive. */
TEST(test_lookup_allocates_once_when_object_is_small)
{
    meta_bytes_t bucket = {"alloc:0000000000000001", 22}, key = {"small-object", 12};
    uint8_t *body;
    cluster_t t;
    gw_object_t *o;

    if (!COUNTING)
        UNIT_SKIP("a sanitizer owns the allocator");
    CHECK((body = pattern(4096, 7)) != NULL);
    CHECK_EQ_INT(cluster_open(&t), 0);
    CHECK_EQ_INT(put_object(t.c, bucket, key, body, 4096), 0);
    /* warm RocksDB's caches and the thread's EC tables: the counts below are of a steady state */
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(gw_object_lookup(t.c, bucket, key, NULL, &o), 0);
        gw_object_free(o);
        scan_allocations(t.c, bucket, key);
    }
    size_t scans = scan_allocations(t.c, bucket, key);
    allocations = 0;
    counting = 1;
    int ret = gw_object_lookup(t.c, bucket, key, NULL, &o);
    counting = 0;
    size_t lookup = allocations;
    CHECK_EQ_INT(ret, 0);
    gw_object_free(o);
    fprintf(stderr, "  lookup of a 4 KiB object: %zu allocations, the drives' scans alone %zu\n", lookup, scans);
    CHECK(lookup >= scans);
    CHECK_EQ_INT(lookup - scans, 1);
    CHECK_EQ_INT(reads_back(t.c, bucket, key, body, 4096), 0);
    free(body);
    cluster_close(&t);
}

/* Records larger than the object's own arena (a 100 KiB object: six records of 25 KiB) go to
 * further chunks and decode as well; so do objects in shard files, and an empty one. */
TEST(test_lookup_reads_back_when_records_outgrow_the_first_chunk)
{
    meta_bytes_t bucket = {"grow:0000000000000002", 21};
    size_t sizes[] = {0, 1, 4096, 100 * 1024, 128 * 1024, 128 * 1024 + 1, 3 * 1024 * 1024 + 17};
    cluster_t t;

    CHECK_EQ_INT(cluster_open(&t), 0);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char name[32];
        uint8_t *body = pattern(sizes[i] > 0 ? sizes[i] : 1, (unsigned)i);
        meta_bytes_t key = {name, (size_t)snprintf(name, sizeof(name), "object-%zu", sizes[i])};
        CHECK(body != NULL);
        CHECK_EQ_INT(put_object(t.c, bucket, key, body, sizes[i]), 0);
        CHECK_EQ_INT(reads_back(t.c, bucket, key, body, sizes[i]), 0);
        free(body);
    }
    cluster_close(&t);
}

/* With remote drives the scans run at once on the drives' lanes and share the arena under its
 * lock; local drives are made to fan out the same way here. */
TEST(test_lookup_reads_back_when_scans_run_in_parallel)
{
    meta_bytes_t bucket = {"lanes:0000000000000003", 22};
    size_t sizes[] = {4096, 100 * 1024, 1024 * 1024};
    cluster_t t;

    CHECK_EQ_INT(cluster_open(&t), 0);
    for (size_t s = 0; s < t.c->nsets; s++)
        t.c->sets[s].inline_reads = 0;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char name[32];
        uint8_t *body = pattern(sizes[i], (unsigned)i + 11);
        meta_bytes_t key = {name, (size_t)snprintf(name, sizeof(name), "parallel-%zu", sizes[i])};
        CHECK(body != NULL);
        CHECK_EQ_INT(put_object(t.c, bucket, key, body, sizes[i]), 0);
        for (int round = 0; round < 20; round++)
            CHECK_EQ_INT(reads_back(t.c, bucket, key, body, sizes[i]), 0);
        free(body);
    }
    cluster_close(&t);
}

/* With a version id the lookup resolves that version only (the others are skipped by their keys
 * before they are copied); without one, the newest. */
TEST(test_lookup_finds_the_asked_version_when_a_vid_is_given)
{
    meta_bytes_t bucket = {"vers:0000000000000006", 21}, key = {"versioned", 9};
    uint8_t vid_a[META_ID_LEN] = {0xa}, vid_b[META_ID_LEN] = {0xb}, vid_c[META_ID_LEN] = {0xc};
    uint8_t *a = pattern(4096, 1), *b = pattern(300 * 1024, 2), back[4096];
    cluster_t t;
    gw_object_t *o;

    CHECK(a != NULL && b != NULL);
    CHECK_EQ_INT(cluster_open(&t), 0);
    CHECK_EQ_INT(put_version(t.c, bucket, key, vid_a, a, 4096), 0);
    CHECK_EQ_INT(put_version(t.c, bucket, key, vid_b, b, 300 * 1024), 0);
    CHECK_EQ_INT(reads_back(t.c, bucket, key, b, 300 * 1024), 0);
    CHECK_EQ_INT(gw_object_lookup(t.c, bucket, key, vid_a, &o), 0);
    CHECK(memcmp(gw_object_record(o)->vid, vid_a, META_ID_LEN) == 0);
    CHECK_EQ_INT(gw_object_read(o, 0, sizeof(back), back), 0);
    CHECK(memcmp(back, a, sizeof(back)) == 0);
    gw_object_free(o);
    CHECK_EQ_INT(gw_object_lookup(t.c, bucket, key, vid_c, &o), GW_ENOENT);
    free(a);
    free(b);
    cluster_close(&t);
}

/* Writes n delete markers of bucket/key, with times 1 .. n ns (older than any real write) and
 * vids from `first` up, on every drive of the cluster in one batch each, then deletes them all
 * in one batch each: the key then has n deleted old versions, whose tombstones lie behind its
 * newest version on every drive until a compaction drops them. */
static int put_and_delete_old_versions(cluster_t *t, meta_bytes_t bucket, meta_bytes_t key, uint32_t n)
{
    int ret = 0;

    for (size_t d = 0; d < t->c->ndrives && ret == 0; d++) {
        meta_db_t *db = store_drive_db(t->c->drives[d].local);
        meta_batch_t *puts = meta_batch_new(), *dels = meta_batch_new();
        for (uint32_t i = 0; i < n && ret == 0; i++) {
            meta_object_t r = {.bucket = bucket, .key = key, .mtime_ns = 1 + i, .flags = META_OBJ_DELETE_MARKER};
            meta_buf_t val = {0};
            meta_key_t k;
            r.vid[0] = 0xd0;
            r.vid[12] = (uint8_t)(i >> 24), r.vid[13] = (uint8_t)(i >> 16), r.vid[14] = (uint8_t)(i >> 8);
            r.vid[15] = (uint8_t)i;
            if ((ret = meta_key_object(bucket, key, r.mtime_ns, r.vid, &k)) == 0 &&
                (ret = meta_object_encode(&r, &val)) == 0) {
                meta_batch_put(puts, k.buf, k.len, val.base, val.len);
                meta_batch_delete(dels, k.buf, k.len);
            }
            meta_buf_dispose(&val);
        }
        if (ret == 0 && (ret = meta_db_write(db, puts)) == 0)
            ret = meta_db_write(db, dels);
        meta_batch_free(puts);
        meta_batch_free(dels);
    }
    return ret;
}

/* The RocksDB work of a lookup of bucket/key (vid as gw_object_lookup takes it) on this thread
 * (the drives are in the process: their reads run on it), into *perf; the lookup's result. */
static int lookup_perf(cluster_t *t, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid, meta_perf_t *perf,
                       meta_object_t *rec)
{
    gw_object_t *o;

    meta_perf_start();
    int ret = gw_object_lookup(t->c, bucket, key, vid, &o);
    meta_perf_stop(perf);
    if (ret == 0) {
        *rec = *gw_object_record(o);
        rec->bucket = rec->key = rec->etag = rec->owner = (meta_bytes_t){NULL, 0}; /* borrowed from o */
        gw_object_free(o);
    }
    return ret;
}

/* A key with 1,000 deleted old versions: the GET of its newest version steps over none of their
 * tombstones, a listing of current objects over a few per drive, not 1,000 (RocksDB's own
 * counters), and both read the newest. A plain scan of the key, as lookups and listings made
 * before, steps over every one of them. */
TEST(test_lookup_and_listing_skip_no_tombstone_when_old_versions_were_deleted)
{
    meta_bytes_t bucket = {"tomb:0000000000000008", 21}, key = {"hot", 3}, next = {"hot2", 4};
    uint8_t vid[META_ID_LEN] = {0x7e}, *body = pattern(4096, 9), dist[16];
    meta_perf_t perf;
    meta_object_t rec;
    meta_key_t prefix;
    gw_lister_t *l;
    gw_list_entry_t e;
    cluster_t t;

    CHECK(body != NULL);
    CHECK_EQ_INT(cluster_open(&t), 0);
    CHECK_EQ_INT(put_and_delete_old_versions(&t, bucket, key, 1000), 0);
    CHECK_EQ_INT(put_version(t.c, bucket, key, vid, body, 4096), 0);
    CHECK_EQ_INT(put_version(t.c, bucket, next, vid, body, 4096), 0);

    /* the tombstones are there: a plain scan of the key on one drive of its set walks them */
    gw_set_t *set = gw_cluster_place(t.c, bucket, key, dist);
    meta_key_object_versions(bucket, key, &prefix);
    meta_perf_start();
    CHECK_EQ_INT(store_client_record_scan(set->drives[0]->client, &prefix, NULL, 0, ignore_record, NULL), 0);
    meta_perf_stop(&perf);
    fprintf(stderr, "  plain scan of the key on one drive: %llu tombstones stepped over\n",
            (unsigned long long)perf.deletes_skipped);
    CHECK(perf.deletes_skipped >= 1000);

    CHECK_EQ_INT(lookup_perf(&t, bucket, key, NULL, &perf, &rec), 0);
    fprintf(stderr, "  GET of the newest: %llu tombstones, %llu seeks, %llu nexts over six drives\n",
            (unsigned long long)perf.deletes_skipped, (unsigned long long)perf.seeks, (unsigned long long)perf.nexts);
    CHECK(memcmp(rec.vid, vid, META_ID_LEN) == 0);
    CHECK_EQ_INT(perf.deletes_skipped, 0);
    CHECK_EQ_INT(reads_back(t.c, bucket, key, body, 4096), 0);

    CHECK_EQ_INT(gw_lister_open(t.c, bucket, (meta_bytes_t){"", 0}, &l), 0);
    meta_perf_start();
    CHECK_EQ_INT(gw_lister_next(l, &e), 1);
    CHECK(e.key_len == 3 && memcmp(e.key, "hot", 3) == 0 && memcmp(e.vid, vid, META_ID_LEN) == 0);
    CHECK_EQ_INT(gw_lister_next(l, &e), 1);
    CHECK(e.key_len == 4 && memcmp(e.key, "hot2", 4) == 0);
    CHECK_EQ_INT(gw_lister_next(l, &e), 0);
    meta_perf_stop(&perf);
    gw_lister_free(l);
    fprintf(stderr, "  listing: %llu tombstones stepped over\n", (unsigned long long)perf.deletes_skipped);
    /* a drive's scan tries one step past the newest version, which gives up after a few
     * tombstones (then it seeks): a bound per drive that does not grow with the versions */
    CHECK(perf.deletes_skipped <= NDRIVES * 8);
    free(body);
    cluster_close(&t);
}

/* A version looked up by its id (as DeleteObject with a version id does) behind 1,000 newer
 * versions that were deleted: each drive reads the record key the id gives (an id begins with its
 * complemented time), no iterator, no tombstone stepped over; an id no drive holds is absent. */
TEST(test_lookup_by_vid_reads_its_key_when_newer_versions_were_deleted)
{
    meta_bytes_t bucket = {"byid:0000000000000009", 21}, key = {"pruned", 6};
    meta_object_t r = {.bucket = bucket, .key = key, .mtime_ns = 0, .flags = META_OBJ_DELETE_MARKER}, rec;
    meta_buf_t val = {0};
    meta_perf_t perf;
    meta_key_t k;
    cluster_t t;
    int ret = 0;

    CHECK_EQ_INT(cluster_open(&t), 0);
    /* older than the deleted ones (times 1 .. 1000): its key lies behind their tombstones */
    yc_put_be64(r.vid, ~(uint64_t)0);
    r.vid[15] = 0x42;
    CHECK_EQ_INT(meta_key_object(bucket, key, r.mtime_ns, r.vid, &k), 0);
    CHECK_EQ_INT(meta_object_encode(&r, &val), 0);
    for (size_t d = 0; d < t.c->ndrives && ret == 0; d++)
        ret = meta_db_put(store_drive_db(t.c->drives[d].local), k.buf, k.len, val.base, val.len);
    meta_buf_dispose(&val);
    CHECK_EQ_INT(ret, 0);
    CHECK_EQ_INT(put_and_delete_old_versions(&t, bucket, key, 1000), 0);

    CHECK_EQ_INT(lookup_perf(&t, bucket, key, r.vid, &perf, &rec), 0);
    fprintf(stderr, "  lookup by version id: %llu tombstones, %llu seeks, %llu nexts, %llu gets over six drives\n",
            (unsigned long long)perf.deletes_skipped, (unsigned long long)perf.seeks, (unsigned long long)perf.nexts,
            (unsigned long long)perf.gets);
    CHECK(memcmp(rec.vid, r.vid, META_ID_LEN) == 0 && (rec.flags & META_OBJ_DELETE_MARKER));
    CHECK_EQ_INT(perf.deletes_skipped, 0);
    CHECK_EQ_INT(perf.seeks, 0);
    CHECK_EQ_INT(perf.nexts, 0);
    r.vid[15] = 0x43;
    CHECK_EQ_INT(lookup_perf(&t, bucket, key, r.vid, &perf, &rec), GW_ENOENT);
    cluster_close(&t);
}

/* In a bucket never versioned the GET names the null version: each drive answers with one point
 * read, no iterator (no seek, no step), however often the key was overwritten. */
/* A delete marker on the drives whose bit is set in `on` (drive d of the cluster: bit d), newer
 * than anything written before. */
static int put_marker(cluster_t *t, meta_bytes_t bucket, meta_bytes_t key, unsigned on)
{
    meta_object_t r = {.bucket = bucket, .key = key, .mtime_ns = yc_now_ns(), .flags = META_OBJ_DELETE_MARKER};
    meta_buf_t val = {0};
    meta_key_t k;
    int ret;

    r.vid[0] = 0xde;
    r.vid[1] = (uint8_t)on;
    if ((ret = meta_key_object(bucket, key, r.mtime_ns, r.vid, &k)) != 0 || (ret = meta_object_encode(&r, &val)) != 0)
        return ret;
    /* through the drive engine, as a write that reached only these drives: record and head */
    for (size_t d = 0; d < t->c->ndrives && ret == 0; d++)
        if (on & (1u << d))
            ret = store_record_put(t->c->drives[d].local, &k, val.base, val.len);
    meta_buf_dispose(&val);
    return ret;
}

/* Keys whose drives disagree about a marker on top (the drives leave a marker-topped key out of a
 * listing's scan): a listing shows exactly the keys a GET finds, by the quorum rule (4 of 6) —
 * markers on 1 or 2 drives leave the version current, on 4, 5 or 6 drives hide it — across a run
 * of 300 keys deleted everywhere that every drive leaves out. */
TEST(test_listing_follows_the_quorum_when_drives_disagree_about_a_marker)
{
    static const struct {
        const char *key;
        unsigned marker_on; /* drives holding a marker over the key's version */
        int listed;
    } cases[] = {{"a", 0, 1},    {"b", 0x01, 1}, {"c", 0x3e, 0}, {"d", 0x0f, 0},
                 {"e", 0x03, 1}, {"f", 0x3f, 0}, {"z", 0x20, 1}};
    meta_bytes_t bucket = {"disagree:000000000000000a", 25};
    uint8_t vid[META_ID_LEN] = {0x11}, *body = pattern(100, 3);
    char name[16];
    gw_lister_t *l;
    gw_list_entry_t e;
    cluster_t t;
    int ret;

    CHECK(body != NULL);
    CHECK_EQ_INT(cluster_open(&t), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        meta_bytes_t key = {cases[i].key, 1};
        vid[1] = (uint8_t)i;
        CHECK_EQ_INT(put_version(t.c, bucket, key, vid, body, 100), 0);
        if (cases[i].marker_on != 0)
            CHECK_EQ_INT(put_marker(&t, bucket, key, cases[i].marker_on), 0);
    }
    for (int i = 0; i < 300; i++) { /* "m000" .. "m299": deleted on every drive */
        snprintf(name, sizeof(name), "m%03d", i);
        meta_bytes_t key = {name, 4};
        vid[1] = 0x80;
        CHECK_EQ_INT(put_version(t.c, bucket, key, vid, body, 100), 0);
        CHECK_EQ_INT(put_marker(&t, bucket, key, 0x3f), 0);
    }

    /* what a GET finds (a visible marker comes back as a version: ListObjects leaves it out too) */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gw_object_t *o;
        int found = 0;
        if (gw_object_lookup(t.c, bucket, (meta_bytes_t){cases[i].key, 1}, NULL, &o) == 0) {
            found = (gw_object_record(o)->flags & META_OBJ_DELETE_MARKER) == 0;
            gw_object_free(o);
        }
        if (found != cases[i].listed)
            fprintf(stderr, "  key %s: a GET finds %d\n", cases[i].key, found);
        CHECK_EQ_INT(found, cases[i].listed);
    }
    CHECK_EQ_INT(gw_lister_open_live(t.c, bucket, (meta_bytes_t){"", 0}, &l), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (!cases[i].listed)
            continue;
        while ((ret = gw_lister_next(l, &e)) == 1 && (e.flags & META_OBJ_DELETE_MARKER) != 0)
            ;
        CHECK_EQ_INT(ret, 1);
        CHECK(e.key_len == 1 && e.key[0] == cases[i].key[0] && e.vid[1] == (uint8_t)i && e.size == 100);
    }
    while ((ret = gw_lister_next(l, &e)) == 1 && (e.flags & META_OBJ_DELETE_MARKER) != 0)
        ;
    CHECK_EQ_INT(ret, 0);
    gw_lister_free(l);
    free(body);
    cluster_close(&t);
}

TEST(test_lookup_of_null_version_is_one_point_read_per_drive_when_overwritten)
{
    meta_bytes_t bucket = {"point:0000000000000009", 22}, key = {"hot", 3};
    const uint8_t null_vid[META_ID_LEN] = {0};
    uint8_t *body = pattern(4096, 10);
    meta_perf_t perf;
    meta_object_t rec;
    cluster_t t;

    CHECK(body != NULL);
    CHECK_EQ_INT(cluster_open(&t), 0);
    for (int i = 0; i < 20; i++)
        CHECK_EQ_INT(put_object(t.c, bucket, key, body, 4096), 0);
    CHECK_EQ_INT(lookup_perf(&t, bucket, key, null_vid, &perf, &rec), 0);
    fprintf(stderr, "  GET of the null version: %llu memtable gets, %llu seeks, %llu nexts, %llu hidden entries\n",
            (unsigned long long)perf.gets, (unsigned long long)perf.seeks, (unsigned long long)perf.nexts,
            (unsigned long long)perf.keys_skipped);
    CHECK(perf.gets >= NDRIVES);
    CHECK_EQ_INT(perf.seeks, 0);
    CHECK_EQ_INT(perf.nexts, 0);
    CHECK_EQ_INT(perf.keys_skipped, 0);
    CHECK_EQ_INT(reads_back(t.c, bucket, key, body, 4096), 0);
    free(body);
    cluster_close(&t);
}

/* An edit that sets the TAGS attribute to the text in arg, or refuses with 42 when arg is NULL. */
static int set_tags(void *arg, const meta_object_t *rec, meta_buf_t *attrs)
{
    if (arg == NULL)
        return 42;
    meta_bytes_t v = {arg, strlen(arg)};
    return meta_attr_put(rec->attrs, META_ATTR_TAGS, &v, attrs);
}

static int tags_are(const meta_object_t *r, const char *want)
{
    meta_bytes_t v;
    return meta_attr_get(r->attrs, META_ATTR_TAGS, &v) == 1 && v.len == strlen(want) &&
           memcmp(v.base, want, v.len) == 0;
}

/* A change of attributes reaches the version on every drive, keeps its data (inline or in shard
 * files), wins over a drive that missed it, and the healer brings that drive up. */
TEST(test_attrs_change_is_seen_by_lookups_and_healed_where_missed)
{
    meta_bytes_t bucket = {"attr:0000000000000007", 21}, small = {"small", 5}, big = {"big", 3};
    uint8_t *a = pattern(4096, 7), *b = pattern(300 * 1024, 8), vid[META_ID_LEN] = {1}, dist[16];
    uint32_t repaired, pending;
    cluster_t t;
    gw_object_t *o;

    CHECK(a != NULL && b != NULL);
    CHECK_EQ_INT(cluster_open(&t), 0);
    CHECK_EQ_INT(put_object(t.c, bucket, small, a, 4096), 0);
    CHECK_EQ_INT(put_object(t.c, bucket, big, b, 300 * 1024), 0);
    CHECK_EQ_INT(gw_attrs_change(t.c, bucket, small, NULL, set_tags, "one", vid), 0);
    CHECK(memcmp(vid, (uint8_t[META_ID_LEN]){0}, META_ID_LEN) == 0); /* the null version */
    CHECK_EQ_INT(gw_attrs_change(t.c, bucket, big, NULL, set_tags, "one", NULL), 0);
    CHECK_EQ_INT(gw_object_lookup(t.c, bucket, small, NULL, &o), 0);
    CHECK(tags_are(gw_object_record(o), "one") && gw_object_record(o)->attrs_ns > 0);
    gw_object_free(o);
    CHECK_EQ_INT(reads_back(t.c, bucket, small, a, 4096), 0);
    CHECK_EQ_INT(reads_back(t.c, bucket, big, b, 300 * 1024), 0);
    /* an edit that refuses changes nothing */
    CHECK_EQ_INT(gw_attrs_change(t.c, bucket, big, NULL, set_tags, NULL, NULL), 42);
    CHECK_EQ_INT(gw_object_lookup(t.c, bucket, big, NULL, &o), 0);
    CHECK(tags_are(gw_object_record(o), "one"));
    gw_object_free(o);
    /* drive 0 of the set misses the next change: lookups still see the new tags */
    gw_set_t *set = gw_cluster_place(t.c, bucket, big, dist);
    store_client_t *gone = set->drives[0]->client;
    set->drives[0]->client = NULL;
    CHECK_EQ_INT(gw_attrs_change(t.c, bucket, big, NULL, set_tags, "two", NULL), 0);
    set->drives[0]->client = gone;
    CHECK_EQ_INT(gw_object_lookup(t.c, bucket, big, NULL, &o), 0);
    CHECK(tags_are(gw_object_record(o), "two"));
    meta_buf_t raw = {0};
    meta_object_t held;
    const uint8_t null_vid[META_ID_LEN] = {0};
    CHECK_EQ_INT(store_client_object_get(gone, bucket, big, null_vid, &raw, &held), 0);
    CHECK(tags_are(&held, "one")); /* drive 0 still holds the old set */
    meta_buf_dispose(&raw);
    CHECK_EQ_INT(gw_object_heal(o, &repaired, &pending), 0);
    CHECK(repaired >= 1);
    gw_object_free(o);
    raw = (meta_buf_t){0};
    CHECK_EQ_INT(store_client_object_get(gone, bucket, big, null_vid, &raw, &held), 0);
    CHECK(tags_are(&held, "two"));
    meta_buf_dispose(&raw);
    CHECK_EQ_INT(reads_back(t.c, bucket, big, b, 300 * 1024), 0);
    /* no such key */
    CHECK_EQ_INT(gw_attrs_change(t.c, bucket, (meta_bytes_t){"none", 4}, NULL, set_tags, "x", NULL), GW_ENOENT);
    free(a);
    free(b);
    cluster_close(&t);
}

typedef struct {
    int notes;
    char key[64];
} sink_t;

static void sink_note(void *arg, meta_bytes_t bucket, meta_bytes_t key)
{
    sink_t *s = arg;
    s->notes++;
    snprintf(s->key, sizeof(s->key), "%.*s", (int)key.len, key.base);
}

/* A write that reached its quorum but not every drive is acknowledged and its key goes to
 * whatever the cluster's repair sink is (here a counter: no healer is running). */
TEST(test_commit_reports_key_when_a_drive_missed_the_write)
{
    meta_bytes_t bucket = {"sink:0000000000000004", 21}, key = {"missed", 6};
    uint8_t dist[16], *body = pattern(4096, 3);
    sink_t sink = {0};
    cluster_t t;

    CHECK(body != NULL);
    CHECK_EQ_INT(cluster_open(&t), 0);
    t.c->repair = (gw_repair_sink_t){sink_note, &sink};
    CHECK_EQ_INT(put_object(t.c, bucket, key, body, 4096), 0);
    CHECK_EQ_INT(sink.notes, 0); /* every drive took it */
    gw_set_t *set = gw_cluster_place(t.c, bucket, key, dist);
    store_client_t *gone = set->drives[5]->client;
    set->drives[5]->client = NULL; /* as a drive that cannot open */
    CHECK_EQ_INT(put_object(t.c, bucket, key, body, 4096), 0);
    set->drives[5]->client = gone;
    CHECK_EQ_INT(sink.notes, 1);
    CHECK(strcmp(sink.key, "missed") == 0);
    free(body);
    cluster_close(&t);
}

/* A read that meets a missing shard rebuilds the data from parity and reports the key. */
TEST(test_read_reports_key_when_a_shard_is_missing)
{
    meta_bytes_t bucket = {"sink:0000000000000005", 21}, key = {"damaged", 7};
    size_t size = 512 * 1024; /* in shard files */
    uint8_t *body = pattern(size, 5);
    sink_t sink = {0};
    cluster_t t;
    gw_object_t *o;

    CHECK(body != NULL);
    CHECK_EQ_INT(cluster_open(&t), 0);
    t.c->repair = (gw_repair_sink_t){sink_note, &sink};
    CHECK_EQ_INT(put_object(t.c, bucket, key, body, size), 0);
    CHECK_EQ_INT(gw_object_lookup(t.c, bucket, key, NULL, &o), 0);
    const meta_object_t *r = gw_object_record(o);
    meta_part_ref_t part;
    CHECK_EQ_INT(meta_object_part(r, 0, &part), 0);
    gw_set_t *set = &t.c->sets[0];
    /* shard 0 is data: the read needs it */
    CHECK_EQ_INT(store_client_shard_delete(set->drives[r->distribution[0]]->client, part.data_id, 0), 0);
    gw_object_free(o);
    CHECK_EQ_INT(reads_back(t.c, bucket, key, body, size), 0);
    CHECK(sink.notes >= 1);
    CHECK(strcmp(sink.key, "damaged") == 0);
    free(body);
    cluster_close(&t);
}

/* A source that knows its end only when it reaches it, handing out at most max bytes a pull, as a
 * form upload's file does. */
typedef struct {
    const uint8_t *body;
    size_t size, pulls;
} upto_t;

static const uint8_t *upto_next(void *arg, uint64_t off, size_t max, size_t *got)
{
    upto_t *u = arg;
    u->pulls++;
    *got = off >= u->size ? 0 : u->size - off < max ? u->size - (size_t)off : max;
    return u->body + (off < u->size ? off : u->size);
}

TEST(test_data_write_of_unknown_size_reads_back_at_every_boundary)
{
    static const size_t sizes[] = {0,       100,           128 * 1024,   128 * 1024 + 1, (1 << 20) - 1,
                                   1 << 20, (1 << 20) + 1, (5 << 19) + 3};
    cluster_t t;
    CHECK_EQ_INT(cluster_open(&t), 0);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        size_t size = sizes[i];
        uint8_t *body = pattern(size > 0 ? size : 1, (unsigned)i);
        upto_t u = {body, size, 0};
        char name[32];
        snprintf(name, sizeof(name), "unknown-%zu", size);
        meta_bytes_t bucket = {"b", 1}, key = {name, strlen(name)};
        uint8_t dist[16];
        gw_data_t data, known;
        gw_set_t *set = gw_cluster_place(t.c, bucket, key, dist);
        gw_source_t src = {.next = NULL, .arg = &u, .next_upto = upto_next};
        CHECK_EQ_INT(gw_data_write(t.c, set, dist, src, GW_SIZE_UNKNOWN, 1, NULL, NULL, &data), 0);
        CHECK_EQ_INT(data.size, size);
        CHECK_EQ_INT(data.is_inline, size <= 128 * 1024);
        /* the layout and digest are those of a write whose size was known */
        CHECK_EQ_INT(gw_data_write(t.c, set, dist, gw_source_memory(body), size, 1, NULL, NULL, &known), 0);
        CHECK(memcmp(data.md5, known.md5, 16) == 0);
        gw_data_remove(t.c, &known);
        gw_data_dispose(&known);
        meta_buf_t parts = {0};
        meta_part_ref_t part = {.number = 1, .size = size};
        memcpy(part.data_id, data.data_id, META_ID_LEN);
        meta_parts_append(&parts, &part);
        meta_object_t r = {.bucket = bucket,
                           .key = key,
                           .mtime_ns = yc_now_ns(),
                           .flags = data.is_inline ? META_OBJ_INLINE : 0,
                           .size = data.size,
                           .etag = {"0123456789abcdef0123456789abcdef", 32},
                           .ec_k = set->k,
                           .ec_m = set->m,
                           .stripe_size = t.c->stripe_size,
                           .parts = {(const char *)parts.base, parts.len},
                           .part_count = 1};
        memcpy(r.distribution, dist, 16);
        CHECK_EQ_INT(gw_object_commit(t.c, set, &r, &data), 0);
        meta_buf_dispose(&parts);
        gw_data_dispose(&data);
        CHECK_EQ_INT(reads_back(t.c, bucket, key, body, size), 0);
        free(body);
    }
    cluster_close(&t);
}

/* A source that holds up to `hold` stripes, each in its own buffer, as the streamed body does; a
 * stripe given back is overwritten at once, so a hash that read it after that would be wrong. The
 * observer is slow, so the hashing falls behind the writer. */
typedef struct {
    const uint8_t *body;
    uint8_t *buf[3];
    size_t buf_len[3];
    unsigned held, max_held, taken, released, hold;
    size_t observed;
    int out_of_order;
} held_t;

static const uint8_t *held_next(void *arg, uint64_t off, size_t len)
{
    held_t *h = arg;
    if (h->held >= h->hold || off != (uint64_t)h->taken * (1 << 20))
        h->out_of_order = 1;
    uint8_t *b = h->buf[h->taken % 3];
    memcpy(b, h->body + off, len);
    h->buf_len[h->taken % 3] = len;
    h->taken++;
    if (++h->held > h->max_held)
        h->max_held = h->held;
    return b;
}

static void held_release(void *arg)
{
    held_t *h = arg;
    unsigned i = h->released % 3;
    memset(h->buf[i], 0xee, h->buf_len[i]); /* gone: any later read of it sees this */
    h->released++;
    h->held--;
}

static void slow_observe(void *arg, const void *data, size_t len)
{
    held_t *h = arg;
    h->observed += len;
    usleep(3000);
}

TEST(test_data_write_hashes_held_stripes_before_giving_them_back)
{
    size_t size = 6 * (1 << 20) + 777;
    uint8_t *body = pattern(size, 9);
    held_t h = {.body = body, .hold = 3};
    meta_bytes_t bucket = {"b", 1}, key = {"held", 4};
    uint8_t dist[16];
    gw_data_t data, known;
    cluster_t t;

    CHECK(body != NULL);
    for (int i = 0; i < 3; i++)
        CHECK((h.buf[i] = malloc(1 << 20)) != NULL);
    CHECK_EQ_INT(cluster_open(&t), 0);
    gw_set_t *set = gw_cluster_place(t.c, bucket, key, dist);
    gw_source_t src = {.arg = &h, .next_hold = held_next, .release = held_release, .hold = 3};
    CHECK_EQ_INT(gw_data_write(t.c, set, dist, src, size, 1, slow_observe, &h, &data), 0);
    CHECK_EQ_INT(h.out_of_order, 0);
    CHECK_EQ_INT(h.taken, 7);
    CHECK_EQ_INT(h.released, 7); /* every stripe given back, the last ones once hashed */
    CHECK_EQ_INT(h.observed, size);
    CHECK_EQ_INT(h.max_held, 3); /* the writer went on while the hash was behind */
    /* the digest of the bytes, not of a buffer given back and overwritten */
    CHECK_EQ_INT(gw_data_write(t.c, set, dist, gw_source_memory(body), size, 1, NULL, NULL, &known), 0);
    CHECK(memcmp(data.md5, known.md5, 16) == 0);
    gw_data_remove(t.c, &known);
    gw_data_dispose(&known);
    gw_data_remove(t.c, &data);
    gw_data_dispose(&data);
    for (int i = 0; i < 3; i++)
        free(h.buf[i]);
    free(body);
    cluster_close(&t);
}

/* Reading stripe by stripe from any offset gives the object's bytes, each read ending at a stripe's
 * end (the last one short), with a data shard gone (rebuilt from parity into the caller's buffer). */
TEST(test_read_stripe_ends_at_stripe_boundaries_when_streaming)
{
    meta_bytes_t bucket = {"sink:0000000000000006", 21}, key = {"striped", 7};
    size_t size = 3 * (1 << 20) + 12345; /* three full stripes and a short one */
    uint8_t *body = pattern(size, 6);
    cluster_t t;
    gw_object_t *o;

    CHECK(body != NULL);
    CHECK_EQ_INT(cluster_open(&t), 0);
    CHECK_EQ_INT(put_object(t.c, bucket, key, body, size), 0);
    CHECK_EQ_INT(gw_object_lookup(t.c, bucket, key, NULL, &o), 0);
    const meta_object_t *r = gw_object_record(o);
    meta_part_ref_t part;
    CHECK_EQ_INT(meta_object_part(r, 0, &part), 0);
    CHECK_EQ_INT(store_client_shard_delete(t.c->sets[0].drives[r->distribution[1]]->client, part.data_id, 1), 0);
    size_t cap = gw_object_stripe_buffer_len(o);
    CHECK_EQ_INT(cap, 6 * (1 << 18)); /* k+m blocks of a quarter stripe */
    uint8_t *buf = malloc(cap);
    CHECK(buf != NULL);
    const uint64_t starts[] = {0, 1000, (1 << 20) - 1};
    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        uint64_t off = starts[i];
        int reads = 0;
        while (off < size) {
            const uint8_t *data;
            size_t len;
            CHECK_EQ_INT(gw_object_read_stripe(o, off, size - off, buf, &data, &len), 0);
            CHECK(len > 0 && data >= buf && data + len <= buf + cap);
            CHECK((off + len) % (1 << 20) == 0 || off + len == size);
            CHECK(memcmp(data, body + off, len) == 0);
            off += len;
            reads++;
        }
        CHECK_EQ_INT(reads, 4);
    }
    const uint8_t *data;
    size_t len;
    CHECK_EQ_INT(gw_object_read_stripe(o, 10, 100, buf, &data, &len), 0); /* max caps the length */
    CHECK_EQ_INT(len, 100);
    CHECK_EQ_INT(gw_object_read_stripe(o, size, 1, buf, &data, &len), GW_EINVAL);
    free(buf);
    gw_object_free(o);
    free(body);
    cluster_close(&t);
}

TEST(test_peek_points_into_the_decoded_stripe_and_refuses_a_crossing)
{
    meta_bytes_t bucket = {"sink:0000000000000007", 21}, key = {"peeked", 6};
    size_t size = 2 * (1 << 20) + 777;
    uint8_t *body = pattern(size, 7);
    cluster_t t;
    gw_object_t *o;
    const uint8_t *p;

    CHECK(body != NULL);
    CHECK_EQ_INT(cluster_open(&t), 0);
    CHECK_EQ_INT(put_object(t.c, bucket, key, body, size), 0);
    CHECK_EQ_INT(gw_object_lookup(t.c, bucket, key, NULL, &o), 0);
    const meta_object_t *r = gw_object_record(o);
    meta_part_ref_t part;
    CHECK_EQ_INT(meta_object_part(r, 0, &part), 0);
    /* a data shard gone: what peek points at was rebuilt from parity */
    CHECK_EQ_INT(store_client_shard_delete(t.c->sets[0].drives[r->distribution[1]]->client, part.data_id, 1), 0);
    CHECK_EQ_INT(gw_object_peek(o, 1000, 65552, &p), 0);
    CHECK(memcmp(p, body + 1000, 65552) == 0);
    CHECK_EQ_INT(gw_object_peek(o, (1 << 20) + 5, (1 << 20) - 5, &p), 0); /* the whole rest of stripe 1 */
    CHECK(memcmp(p, body + (1 << 20) + 5, (1 << 20) - 5) == 0);
    CHECK_EQ_INT(gw_object_peek(o, (1 << 20) - 10, 20, &p), 1); /* crosses into stripe 1 */
    CHECK_EQ_INT(gw_object_peek(o, 2 * (1 << 20), 777, &p), 0); /* the short last stripe */
    CHECK(memcmp(p, body + 2 * (1 << 20), 777) == 0);
    CHECK_EQ_INT(gw_object_peek(o, size - 1, 2, &p), GW_EINVAL);
    gw_object_free(o);
    free(body);
    cluster_close(&t);
}

/* Shard bytes read from the drives of the set so far. */
static uint64_t shard_bytes(gw_cluster_t *c)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < NDRIVES; i++)
        n += __atomic_load_n(&c->sets[0].drives[i]->shard_bytes, __ATOMIC_RELAXED);
    return n;
}

/* With every drive answering a read takes the data blocks its bytes lie in and nothing else (a
 * block it cuts is kept for the next read of the stripe); with a data shard gone the stripe is
 * decoded, and the version's later reads decode at once. */
TEST(test_read_takes_only_the_data_blocks_it_lies_in)
{
    meta_bytes_t bucket = {"sink:0000000000000008", 21}, key = {"blocks", 6};
    const size_t block = 1 << 18, size = 2 * (1 << 20) + 777;
    uint8_t *body = pattern(size, 8), *buf = malloc(block);
    cluster_t t;
    gw_object_t *o;
    const uint8_t *p;
    uint64_t was;

    CHECK(body != NULL && buf != NULL);
    CHECK_EQ_INT(cluster_open(&t), 0);
    CHECK_EQ_INT(put_object(t.c, bucket, key, body, size), 0);
    CHECK_EQ_INT(gw_object_lookup(t.c, bucket, key, NULL, &o), 0);
    was = shard_bytes(t.c);
    CHECK_EQ_INT(gw_object_read(o, block, block, buf), 0); /* data block 1: one shard read */
    CHECK(memcmp(buf, body + block, block) == 0);
    CHECK_EQ_INT(shard_bytes(t.c) - was, block);
    was = shard_bytes(t.c);
    CHECK_EQ_INT(gw_object_read(o, 2 * block - 10, 20, buf), 0); /* cuts blocks 1 and 2 */
    CHECK(memcmp(buf, body + 2 * block - 10, 20) == 0);
    CHECK_EQ_INT(shard_bytes(t.c) - was, 2 * block);
    was = shard_bytes(t.c);
    CHECK_EQ_INT(gw_object_read(o, 2 * block + 100, 50, buf), 0); /* block 2, kept */
    CHECK(memcmp(buf, body + 2 * block + 100, 50) == 0);
    CHECK_EQ_INT(gw_object_peek(o, 2 * block + 7, 1000, &p), 0);
    CHECK(memcmp(p, body + 2 * block + 7, 1000) == 0);
    CHECK_EQ_INT(shard_bytes(t.c) - was, 0);
    gw_object_trim(o);
    CHECK_EQ_INT(gw_object_peek(o, 2 * block + 7, 1000, &p), 0); /* trimmed: read again */
    CHECK(memcmp(p, body + 2 * block + 7, 1000) == 0);
    CHECK_EQ_INT(shard_bytes(t.c) - was, block);
    was = shard_bytes(t.c);
    CHECK_EQ_INT(gw_object_read(o, 2 * (1 << 20), 777, buf), 0); /* the short stripe: 4 blocks of 195 */
    CHECK(memcmp(buf, body + 2 * (1 << 20), 777) == 0);
    CHECK_EQ_INT(shard_bytes(t.c) - was, 4 * 195);
    gw_object_free(o);

    /* data shard 2 gone: its stripes are rebuilt from three data blocks and a parity one */
    CHECK_EQ_INT(gw_object_lookup(t.c, bucket, key, NULL, &o), 0);
    const meta_object_t *r = gw_object_record(o);
    meta_part_ref_t part;
    CHECK_EQ_INT(meta_object_part(r, 0, &part), 0);
    CHECK_EQ_INT(store_client_shard_delete(t.c->sets[0].drives[r->distribution[2]]->client, part.data_id, 2), 0);
    was = shard_bytes(t.c);
    CHECK_EQ_INT(gw_object_read(o, 2 * block, block, buf), 0);
    CHECK(memcmp(buf, body + 2 * block, block) == 0);
    CHECK_EQ_INT(shard_bytes(t.c) - was, 4 * block);
    was = shard_bytes(t.c);
    CHECK_EQ_INT(gw_object_read(o, 3 * block, block, buf), 0); /* the decoded stripe is kept */
    CHECK(memcmp(buf, body + 3 * block, block) == 0);
    CHECK_EQ_INT(shard_bytes(t.c) - was, 0);
    CHECK_EQ_INT(gw_object_read(o, (1 << 20) + 2 * block, block, buf), 0); /* next stripe: decoded at once */
    CHECK(memcmp(buf, body + (1 << 20) + 2 * block, block) == 0);
    CHECK_EQ_INT(shard_bytes(t.c) - was, 4 * block);
    gw_object_free(o);
    free(buf);
    free(body);
    cluster_close(&t);
}

TEST(test_data_write_skips_md5_only_when_the_source_asks)
{
    const size_t sizes[] = {3 * (1 << 20) + 99, 1000}; /* in shard files, and inline */
    uint8_t zero[16] = {0};
    cluster_t t;

    CHECK_EQ_INT(cluster_open(&t), 0);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint8_t *body = pattern(sizes[i], 8), want[16], dist[16];
        gw_data_t data;
        CHECK(body != NULL);
        CHECK(EVP_Digest(body, sizes[i], want, NULL, EVP_md5(), NULL) == 1);
        meta_bytes_t bucket = {"sink:0000000000000008", 21}, key = {"md5", 3};
        gw_set_t *set = gw_cluster_place(t.c, bucket, key, dist);
        gw_source_t src = gw_source_memory(body);
        CHECK_EQ_INT(gw_data_write(t.c, set, dist, src, sizes[i], 1, NULL, NULL, &data), 0);
        CHECK(memcmp(data.md5, want, 16) == 0);
        gw_data_remove(t.c, &data);
        gw_data_dispose(&data);
        src.skip_md5 = 1;
        CHECK_EQ_INT(gw_data_write(t.c, set, dist, src, sizes[i], 1, NULL, NULL, &data), 0);
        CHECK(memcmp(data.md5, zero, 16) == 0);
        gw_data_remove(t.c, &data);
        gw_data_dispose(&data);
        free(body);
    }
    cluster_close(&t);
}

int main(void)
{
    RUN(test_lookup_allocates_once_when_object_is_small);
    RUN(test_lookup_reads_back_when_records_outgrow_the_first_chunk);
    RUN(test_lookup_reads_back_when_scans_run_in_parallel);
    RUN(test_lookup_finds_the_asked_version_when_a_vid_is_given);
    RUN(test_lookup_and_listing_skip_no_tombstone_when_old_versions_were_deleted);
    RUN(test_lookup_by_vid_reads_its_key_when_newer_versions_were_deleted);
    RUN(test_listing_follows_the_quorum_when_drives_disagree_about_a_marker);
    RUN(test_lookup_of_null_version_is_one_point_read_per_drive_when_overwritten);
    RUN(test_commit_reports_key_when_a_drive_missed_the_write);
    RUN(test_read_reports_key_when_a_shard_is_missing);
    RUN(test_attrs_change_is_seen_by_lookups_and_healed_where_missed);
    RUN(test_data_write_of_unknown_size_reads_back_at_every_boundary);
    RUN(test_read_stripe_ends_at_stripe_boundaries_when_streaming);
    RUN(test_data_write_hashes_held_stripes_before_giving_them_back);
    RUN(test_peek_points_into_the_decoded_stripe_and_refuses_a_crossing);
    RUN(test_data_write_skips_md5_only_when_the_source_asks);
    RUN(test_read_takes_only_the_data_blocks_it_lies_in);
    return unit_done();
}
