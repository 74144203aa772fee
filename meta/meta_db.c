/* meta_db.c — one RocksDB per drive, behind a small put/get/delete/batch/scan API.
 *
 * Durability: every write uses a write option with sync set, so the WAL is fsynced before the
 * call returns; a 0 return means the record survives a crash or a power cut. RocksDB joins
 * concurrent synced writers into one WAL append and one fsync (group commit), so many threads
 * writing small records at once share the cost of a flush. That only works if writers reach
 * RocksDB concurrently: this file takes no lock of its own on the read or write path, and the
 * options objects shared by all threads are read-only after open.
 *
 * Memory: a process runs one instance per drive (6 to 16 is normal), so per-instance memory is
 * kept small and the read cache is shared:
 *   - one LRU block cache for every instance in the process (created by the first open, freed
 *     by the last close); index and filter blocks live in it too, so the total stays bounded
 *     by its capacity however many SST files the drives accumulate;
 *   - 16 MiB memtables, at most 3 per instance (one filling, two flushing), so a slow flush
 *     does not stall writers while the worst case stays under 50 MiB per drive;
 *   - two background jobs per instance (one flush, one compaction): with many drives the
 *     process still has enough compaction threads without oversubscribing the cores;
 *   - a bounded number of open table files, since 16 instances share one fd limit.
 * Records are small and read by whole key (gets of one version or one bucket), so SSTs carry
 * full-key bloom filters; scans walk adjacent keys and profit from LZ4 blocks and the
 * shared prefixes RocksDB already delta-encodes within a block.
 *
 * A full drive. Debian's RocksDB keeps its assertions, and a RocksDB whose writes failed is
 * fragile: its own info log aborts the process at the next line after a failed append, and the
 * C API has no DB::Resume. So (meta_rocksdb.cc has the C++ details):
 *   - the info log goes through a logger that drops lines it cannot write, preallocation is off
 *     (fallocated WAL/SST blocks would eat the drive's free-space reserve unseen), and RocksDB's
 *     own recovery is off;
 *   - after the first write error, or a background error reported by the listener, the handle
 *     is failed: every later write returns that error (META_ENOSPC when the drive is full,
 *     META_EIO otherwise) without calling RocksDB; reads go on, RocksDB serves them from a
 *     stopped database;
 *   - meta_db_reopen closes the handle and opens it again, which is RocksDB's full recovery
 *     (the WAL is replayed, memtables flushed). The caller (store/) decides when: once the
 *     drive has room again. The swap happens under a rwlock: reads and writes hold it shared
 *     for the length of their call (writers must stay concurrent for group commit), the reopen
 *     exclusively. The lock prefers writers, so a reopen is not starved by a stream of reads,
 *     and its wait is bounded, so a reader that calls back into the database (a scan callback
 *     doing a get) delays a reopen instead of deadlocking with it;
 *   - an open that fails for lack of space falls back to a read-only open, so a drive that
 *     filled up still serves its records after a restart; its writes fail with META_ENOSPC
 *     until a reopen succeeds. Only lack of space falls back: an open refused because another
 *     process holds the database must stay refused.
 */
#include "meta/meta.h"
#include "meta/meta_internal.h"
#include "common/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#include <rocksdb/c.h>

#define META_DB_CACHE_BYTES        ((size_t)256 << 20)
#define META_DB_WRITE_BUFFER       ((size_t)16 << 20)
#define META_DB_WRITE_BUFFERS      3
#define META_DB_BACKGROUND_JOBS    2
#define META_DB_MAX_OPEN_FILES     512
#define META_DB_BLOOM_BITS_PER_KEY 10.0
#define META_DB_BLOCK_BYTES        ((size_t)16 << 10)
#define META_DB_MEMTABLE_BLOOM     0.02
/* Longest wait of a reopen for the calls in progress to finish; it tries again later. */
#define META_DB_REOPEN_WAIT_NS (200 * 1000000L)

struct meta_db {
    pthread_rwlock_t lock; /* shared by every call, exclusive for meta_db_reopen's swap */
    rocksdb_t *rdb;        /* NULL only after a reopen that could not open at all */
    char *dir;
    int read_only;                          /* rdb was opened read-only (a full drive at open) */
    atomic_int write_error;                 /* 0, or what every write returns until a reopen succeeds */
    atomic_uint_fast64_t background_errors; /* reported by RocksDB's listener since open, across reopens */
    rocksdb_cache_t *cache;                 /* the shared cache, for the options of a reopen */
    rocksdb_writeoptions_t *wopts;          /* sync = 1; shared by all writers, never modified after open */
    rocksdb_readoptions_t *ropts;           /* point reads; shared, never modified after open */
    rocksdb_readoptions_t *ropts_cached;    /* the same from memory only (meta_db_get_cached) */
    atomic_int heads;                       /* meta_db_set_heads */
    /* meta_db_bucket_epoch: random at open, moved by every write of a bucket record once it is
     * applied and before its caller learns so, and by a reopen (its WAL replay may apply again a
     * write whose sync had failed). */
    atomic_uint_fast64_t bucket_epoch;
    /* synced RocksDB writes since open and the records they held (meta_db_stats): the group
     * commit's batching, seen from the database */
    atomic_uint_fast64_t synced_writes, synced_records;
};

struct meta_batch {
    rocksdb_writebatch_t *wb;
    int buckets; /* holds a put or delete of a bucket record ('B') */
};

/* Process-wide state, the one exception to "no global mutable state": the block cache that
 * all drives share. Guarded by shared_cache_lock, touched only by open and close. */
static pthread_mutex_t shared_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static rocksdb_cache_t *shared_cache;
static unsigned shared_cache_users;

/* A start for a database's bucket epoch that no other open of this process draws (in practice):
 * a cache keyed by (database, epoch) then cannot take a database opened again for the old one. */
static uint64_t random_epoch(void)
{
    uint64_t r;
    if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
        r = (uint64_t)yc_mono_ns() * 0x9E3779B97F4A7C15ull;
    return r;
}

static rocksdb_cache_t *shared_cache_acquire(void)
{
    rocksdb_cache_t *c;

    pthread_mutex_lock(&shared_cache_lock);
    if (shared_cache == NULL)
        shared_cache = rocksdb_cache_create_lru(META_DB_CACHE_BYTES);
    if ((c = shared_cache) != NULL)
        shared_cache_users++;
    pthread_mutex_unlock(&shared_cache_lock);
    return c;
}

static void shared_cache_release(void)
{
    pthread_mutex_lock(&shared_cache_lock);
    /* Every instance holds its own reference through its table factory, so dropping ours
     * when the last instance closes frees the cache without pulling it from under anyone. */
    if (shared_cache_users > 0 && --shared_cache_users == 0) {
        rocksdb_cache_destroy(shared_cache);
        shared_cache = NULL;
    }
    pthread_mutex_unlock(&shared_cache_lock);
}

/* Maps a RocksDB status message to our codes and frees it. A full drive shows as an IO error
 * with the NoSpace subcode ("No space left on device"), or EDQUOT's text for a quota. */
static int status_to_code(char *err)
{
    int ret = META_EIO;

    if (strncmp(err, "Corruption", 10) == 0)
        ret = META_ECORRUPT;
    else if (strncmp(err, "Invalid argument", 16) == 0 && strstr(err, "does not exist") != NULL)
        ret = META_ENOENT;
    else if (strstr(err, "No space left") != NULL || strstr(err, "Disk quota exceeded") != NULL)
        ret = META_ENOSPC;
    rocksdb_free(err);
    return ret;
}

/* Fails the handle with code unless it already failed (the first cause is the one kept). */
static void fail_writes(meta_db_t *db, int code)
{
    int expected = 0;
    atomic_compare_exchange_strong(&db->write_error, &expected, code == META_ENOSPC ? META_ENOSPC : META_EIO);
}

/* RocksDB's listener, on a background thread: nothing but the flag. */
static void on_background_error(void *arg, int no_space)
{
    meta_db_t *db = arg;
    atomic_fetch_add(&db->background_errors, 1);
    fail_writes(db, no_space ? META_ENOSPC : META_EIO);
}

static rocksdb_options_t *make_options(meta_db_t *db, int create)
{
    rocksdb_cache_t *cache = db->cache;
    rocksdb_options_t *opts;
    rocksdb_block_based_table_options_t *table;
    char log_path[4096];

    if ((opts = rocksdb_options_create()) == NULL)
        return NULL;
    if ((table = rocksdb_block_based_options_create()) == NULL) {
        rocksdb_options_destroy(opts);
        return NULL;
    }
    rocksdb_block_based_options_set_block_cache(table, cache);
    /* 16 KiB data blocks, not RocksDB's 4 KiB: a record carries a small object's shard inline, so
     * a 4 KiB block holds two or three, and a listing page changed block (a block cache lookup,
     * a new block iterator) every few keys. That lookup grows costlier as the cache fills with
     * the blocks of files a burst of overwrites compacted away (issue 19); with 16 KiB blocks a
     * scan makes a quarter of them. A point read ends in the block's hash index either way. */
    rocksdb_block_based_options_set_block_size(table, META_DB_BLOCK_BYTES);
    /* the table options take ownership of the filter policy */
    rocksdb_block_based_options_set_filter_policy(table,
                                                  rocksdb_filterpolicy_create_bloom_full(META_DB_BLOOM_BITS_PER_KEY));
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(table, 1);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks_with_high_priority(table, 1);
    rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(table, 1);
    rocksdb_block_based_options_set_format_version(table, 5);
    /* A point read ends in a data block: a hash index over its keys answers there without the
     * binary search over the block's restart points. */
    rocksdb_block_based_options_set_data_block_index_type(
        table, rocksdb_block_based_table_data_block_index_type_binary_search_and_hash);
    rocksdb_options_set_block_based_table_factory(opts, table);
    rocksdb_block_based_options_destroy(table);
    /* Index and filter blocks pinned at every level, not only level 0: a record compacted to the
     * last level costs a read what a freshly flushed one does (issue 19), with no cache lookup
     * for them. They stay charged to the shared cache. */
    if (meta_rocksdb_pin_metadata(opts) != 0) {
        rocksdb_options_destroy(opts);
        return NULL;
    }
    /* A whole-key bloom filter over each memtable: a point read of a key the memtable does not
     * hold (most reads, once records are flushed) skips the skiplist search, which costs tens of
     * key comparisons in a memtable of a few thousand entries. 2 % of the write buffer. */
    rocksdb_options_set_memtable_prefix_bloom_size_ratio(opts, META_DB_MEMTABLE_BLOOM);
    rocksdb_options_set_memtable_whole_key_filtering(opts, 1);

    rocksdb_options_set_create_if_missing(opts, create ? 1 : 0);
    rocksdb_options_set_write_buffer_size(opts, META_DB_WRITE_BUFFER);
    rocksdb_options_set_max_write_buffer_number(opts, META_DB_WRITE_BUFFERS);
    rocksdb_options_set_max_background_jobs(opts, META_DB_BACKGROUND_JOBS);
    rocksdb_options_set_max_open_files(opts, META_DB_MAX_OPEN_FILES);
    rocksdb_options_set_level_compaction_dynamic_level_bytes(opts, 1);
    rocksdb_options_set_compression(opts, rocksdb_lz4_compression);
    /* The WAL of one group commit is fsynced while the previous group fills the memtable. */
    rocksdb_options_set_enable_pipelined_write(opts, 1);
    /* Spread SST writeback over time instead of one large fsync at the end of a flush. */
    rocksdb_options_set_bytes_per_sync(opts, (uint64_t)1 << 20);
    /* the info log, preallocation, recovery and the error listener: see meta_rocksdb.cc */
    if (snprintf(log_path, sizeof(log_path), "%s/LOG", db->dir) >= (int)sizeof(log_path) ||
        meta_rocksdb_configure(opts, log_path, on_background_error, db) != 0) {
        rocksdb_options_destroy(opts);
        return NULL;
    }
    return opts;
}

/* Opens db->rdb: read-write, or read-only when the drive is too full for a read-write open
 * (which writes a new MANIFEST, WAL and OPTIONS file). Called with db->lock held exclusively,
 * or before anyone else sees db. */
static int open_handle(meta_db_t *db, int create)
{
    rocksdb_options_t *opts;
    char *err = NULL;
    int ret;

    if ((opts = make_options(db, create)) == NULL)
        return META_ENOMEM;
    db->rdb = rocksdb_open(opts, db->dir, &err);
    if (err == NULL) {
        db->read_only = 0;
        atomic_store(&db->write_error, 0);
        ret = 0;
        goto done;
    }
    db->rdb = NULL;
    if ((ret = status_to_code(err)) != META_ENOSPC)
        goto done;
    err = NULL;
    db->rdb = rocksdb_open_for_read_only(opts, db->dir, 0, &err);
    if (err != NULL) {
        rocksdb_free(err);
        db->rdb = NULL;
        goto done; /* the lack of space is the reason to give */
    }
    db->read_only = 1;
    atomic_store(&db->write_error, META_ENOSPC);
    ret = 0;

done:
    /* The DB copied what it needs from opts, including references to the cache and the logger. */
    rocksdb_options_destroy(opts);
    return ret;
}

/* Opens one drive's database; see the top of this file for the options and why. */
int meta_db_open(const char *dir, int create, meta_db_t **out)
{
    pthread_rwlockattr_t attr;
    meta_db_t *db;
    int ret, have_lock = 0;

    *out = NULL;
    if ((db = calloc(1, sizeof(*db))) == NULL)
        return META_ENOMEM;
    atomic_init(&db->write_error, 0);
    atomic_init(&db->synced_writes, 0);
    atomic_init(&db->synced_records, 0);
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    ret = pthread_rwlock_init(&db->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (ret != 0) {
        ret = META_ENOMEM;
        goto fail;
    }
    have_lock = 1;
    if ((db->dir = strdup(dir)) == NULL || (db->cache = shared_cache_acquire()) == NULL ||
        (db->wopts = rocksdb_writeoptions_create()) == NULL || (db->ropts = rocksdb_readoptions_create()) == NULL ||
        (db->ropts_cached = rocksdb_readoptions_create()) == NULL) {
        ret = META_ENOMEM;
        goto fail;
    }
    rocksdb_writeoptions_set_sync(db->wopts, 1);
    rocksdb_readoptions_set_read_tier(db->ropts_cached, 1); /* kBlockCacheTier: no file is read */
    atomic_init(&db->bucket_epoch, random_epoch());
    /* The directory first, so that the info log can be opened in it before RocksDB makes it. */
    if (create && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        ret = errno == ENOSPC || errno == EDQUOT ? META_ENOSPC : META_EIO;
        goto fail;
    }
    if ((ret = open_handle(db, create)) != 0)
        goto fail;
    *out = db;
    return 0;

fail:
    if (db->ropts_cached != NULL)
        rocksdb_readoptions_destroy(db->ropts_cached);
    if (db->ropts != NULL)
        rocksdb_readoptions_destroy(db->ropts);
    if (db->wopts != NULL)
        rocksdb_writeoptions_destroy(db->wopts);
    if (db->cache != NULL)
        shared_cache_release();
    if (have_lock)
        pthread_rwlock_destroy(&db->lock);
    free(db->dir);
    free(db);
    return ret;
}

/* Closes the database; pending writes were already durable when their calls returned. */
void meta_db_close(meta_db_t *db)
{
    if (db == NULL)
        return;
    if (db->rdb != NULL)
        rocksdb_close(db->rdb);
    rocksdb_readoptions_destroy(db->ropts);
    rocksdb_readoptions_destroy(db->ropts_cached);
    rocksdb_writeoptions_destroy(db->wopts);
    pthread_rwlock_destroy(&db->lock);
    free(db->dir);
    free(db);
    shared_cache_release();
}

static int write_begin(meta_db_t *db);
static int write_end(meta_db_t *db, char *err);
static int bytes_cmp(const void *a, size_t alen, const void *b, size_t blen);

int meta_db_write_error(meta_db_t *db)
{
    return atomic_load(&db->write_error);
}

int meta_db_read_only(meta_db_t *db)
{
    int ro;

    pthread_rwlock_rdlock(&db->lock);
    ro = db->read_only || db->rdb == NULL;
    pthread_rwlock_unlock(&db->lock);
    return ro;
}

/* A write of a bucket record is applied (or failed): moved before the writer is answered, so that
 * a reader who then sees the old epoch knows the write had not returned when it looked. */
static int is_bucket_key(const void *key, size_t klen)
{
    return klen > 0 && ((const uint8_t *)key)[0] == 'B';
}

static void bucket_written(meta_db_t *db)
{
    atomic_fetch_add(&db->bucket_epoch, 1);
}

uint64_t meta_db_bucket_epoch(meta_db_t *db)
{
    return atomic_load(&db->bucket_epoch);
}

/* Closes a failed handle and opens the database again; see the top of this file. */
int meta_db_reopen(meta_db_t *db)
{
    struct timespec deadline;
    int ret;

    if (atomic_load(&db->write_error) == 0)
        return 0;
    yc_deadline(CLOCK_REALTIME, META_DB_REOPEN_WAIT_NS, &deadline);
    if (pthread_rwlock_timedwrlock(&db->lock, &deadline) != 0)
        return atomic_load(&db->write_error); /* calls in progress: the next attempt swaps */
    if (atomic_load(&db->write_error) == 0) {
        ret = 0; /* another caller reopened it while this one waited */
        goto done;
    }
    if (db->rdb != NULL)
        rocksdb_close(db->rdb);
    db->rdb = NULL;
    if ((ret = open_handle(db, 0)) != 0) {
        db->read_only = 0;
        atomic_store(&db->write_error, ret == META_ENOSPC ? META_ENOSPC : META_EIO);
        goto done;
    }
    ret = atomic_load(&db->write_error); /* META_ENOSPC when it could only open read-only */
    bucket_written(db);                  /* the replay may have applied a write that failed */

done:
    pthread_rwlock_unlock(&db->lock);
    return ret;
}

/* Starts a flush of the memtables without waiting for it. */
int meta_db_flush(meta_db_t *db)
{
    rocksdb_flushoptions_t *fo;
    char *err = NULL;
    int ret;

    if ((fo = rocksdb_flushoptions_create()) == NULL)
        return META_ENOMEM;
    rocksdb_flushoptions_set_wait(fo, 0);
    if ((ret = write_begin(db)) == 0) {
        rocksdb_flush(db->rdb, fo, &err);
        ret = write_end(db, err);
    }
    rocksdb_flushoptions_destroy(fo);
    return ret;
}

/* What the memtables (active and immutable) hold, from RocksDB's properties. */
int meta_db_memtable_stats(meta_db_t *db, meta_memtable_stats_t *out)
{
    uint64_t active_entries, imm_entries, active_deletes, imm_deletes;
    int ret = META_EIO;

    memset(out, 0, sizeof(*out));
    pthread_rwlock_rdlock(&db->lock);
    if (db->rdb != NULL && rocksdb_property_int(db->rdb, "rocksdb.cur-size-all-mem-tables", &out->bytes) == 0 &&
        rocksdb_property_int(db->rdb, "rocksdb.num-entries-active-mem-table", &active_entries) == 0 &&
        rocksdb_property_int(db->rdb, "rocksdb.num-entries-imm-mem-tables", &imm_entries) == 0 &&
        rocksdb_property_int(db->rdb, "rocksdb.num-deletes-active-mem-table", &active_deletes) == 0 &&
        rocksdb_property_int(db->rdb, "rocksdb.num-deletes-imm-mem-tables", &imm_deletes) == 0) {
        out->entries = active_entries + imm_entries;
        out->deletes = active_deletes + imm_deletes;
        ret = 0;
    }
    pthread_rwlock_unlock(&db->lock);
    return ret;
}

int meta_db_property_int(meta_db_t *db, const char *name, uint64_t *out)
{
    int ret = META_EIO;

    *out = 0;
    pthread_rwlock_rdlock(&db->lock);
    if (db->rdb != NULL && rocksdb_property_int(db->rdb, name, out) == 0)
        ret = 0;
    pthread_rwlock_unlock(&db->lock);
    return ret;
}

/* Compacts [start, end) down to the last level, flushing the memtables first when they overlap
 * it (RocksDB's CompactRange does): every tombstone of the range and what it deleted is dropped,
 * so scans of the range no longer walk them. Blocks for as long as the compaction takes. */
int meta_db_compact_range(meta_db_t *db, const void *start, size_t slen, const void *end, size_t elen)
{
    rocksdb_compactoptions_t *co;
    int ret;

    if ((co = rocksdb_compactoptions_create()) == NULL)
        return META_ENOMEM;
    /* kForce: the last level too, where the tombstones of deleted records finally go */
    rocksdb_compactoptions_set_bottommost_level_compaction(co, 2);
    if ((ret = write_begin(db)) == 0) {
        rocksdb_compact_range_opt(db->rdb, co, start, slen, end, elen);
        write_end(db, NULL);
    }
    rocksdb_compactoptions_destroy(co);
    return ret;
}

/* The key span [*lo, *hi] of the level-0 files (copied into lo and hi, malloc'd) and the bytes of
 * the files of the other levels that overlap it. 0 when level 0 is empty, 1 when a span was
 * found, META_ENOMEM. */
static int level0_span(rocksdb_t *rdb, char **lo, size_t *lolen, char **hi, size_t *hilen, uint64_t *below)
{
    const rocksdb_livefiles_t *lf = rocksdb_livefiles(rdb);
    const char *s, *l, *a = NULL, *b = NULL;
    size_t slen, llen, alen = 0, blen = 0;
    int n, found = 0, ret;

    *lo = *hi = NULL;
    *below = 0;
    if (lf == NULL)
        return META_ENOMEM;
    n = rocksdb_livefiles_count(lf);
    for (int i = 0; i < n; i++) {
        if (rocksdb_livefiles_level(lf, i) != 0)
            continue;
        s = rocksdb_livefiles_smallestkey(lf, i, &slen);
        l = rocksdb_livefiles_largestkey(lf, i, &llen);
        if (!found || bytes_cmp(s, slen, a, alen) < 0) {
            a = s;
            alen = slen;
        }
        if (!found || bytes_cmp(l, llen, b, blen) > 0) {
            b = l;
            blen = llen;
        }
        found = 1;
    }
    for (int i = 0; found && i < n; i++) {
        if (rocksdb_livefiles_level(lf, i) == 0)
            continue;
        s = rocksdb_livefiles_smallestkey(lf, i, &slen);
        l = rocksdb_livefiles_largestkey(lf, i, &llen);
        if (bytes_cmp(l, llen, a, alen) >= 0 && bytes_cmp(s, slen, b, blen) <= 0)
            *below += rocksdb_livefiles_size(lf, i);
    }
    ret = found;
    if (found && ((*lo = malloc(alen + 1)) == NULL || (*hi = malloc(blen + 1)) == NULL)) {
        free(*lo);
        *lo = NULL;
        ret = META_ENOMEM;
    } else if (found) {
        memcpy(*lo, a, alen);
        memcpy(*hi, b, blen);
        *lolen = alen;
        *hilen = blen;
    }
    rocksdb_livefiles_destroy(lf);
    return ret;
}

int meta_db_level0_files(meta_db_t *db, uint64_t *out)
{
    char *v = NULL;
    int ret = META_EIO;

    *out = 0;
    pthread_rwlock_rdlock(&db->lock);
    if (db->rdb != NULL && (v = rocksdb_property_value(db->rdb, "rocksdb.num-files-at-level0")) != NULL) {
        *out = strtoull(v, NULL, 10);
        rocksdb_free(v);
        ret = 0;
    }
    pthread_rwlock_unlock(&db->lock);
    return ret;
}

uint64_t meta_db_cache_pinned_bytes(meta_db_t *db)
{
    return db->cache != NULL ? (uint64_t)rocksdb_cache_get_pinned_usage(db->cache) : 0;
}

int meta_db_settle(meta_db_t *db, uint64_t max_rewrite, int *compacted)
{
    rocksdb_flushoptions_t *fo;
    rocksdb_compactoptions_t *co = NULL;
    char *err = NULL, *lo = NULL, *hi = NULL;
    size_t lolen = 0, hilen = 0;
    uint64_t below = 0;
    int ret;

    if (compacted != NULL)
        *compacted = 0;
    if ((fo = rocksdb_flushoptions_create()) == NULL || (co = rocksdb_compactoptions_create()) == NULL) {
        ret = META_ENOMEM;
        goto done;
    }
    rocksdb_flushoptions_set_wait(fo, 1);
    if ((ret = write_begin(db)) != 0)
        goto done;
    rocksdb_flush(db->rdb, fo, &err);
    if (err == NULL && (ret = level0_span(db->rdb, &lo, &lolen, &hi, &hilen, &below)) == 1) {
        ret = 0;
        if (below <= max_rewrite) {
            /* the default bottommost rule: level 0 merges into the files below it, the last
             * level is not rewritten on its own */
            rocksdb_compact_range_opt(db->rdb, co, lo, lolen, hi, hilen);
            if (compacted != NULL)
                *compacted = 1;
        }
    }
    if (err != NULL)
        ret = write_end(db, err);
    else
        write_end(db, NULL);

done:
    free(lo);
    free(hi);
    if (co != NULL)
        rocksdb_compactoptions_destroy(co);
    if (fo != NULL)
        rocksdb_flushoptions_destroy(fo);
    return ret;
}

/* "# deletions=N" of RocksDB's aggregated table properties: the tombstones in SST files. */
static uint64_t sst_deletions(rocksdb_t *rdb)
{
    char *props = rocksdb_property_value(rdb, "rocksdb.aggregated-table-properties");
    const char *p;
    uint64_t n = 0;

    if (props == NULL)
        return 0;
    if ((p = strstr(props, "# deletions=")) != NULL)
        n = strtoull(p + strlen("# deletions="), NULL, 10);
    rocksdb_free(props);
    return n;
}

int meta_db_sizes(meta_db_t *db, meta_db_sizes_t *out)
{
    meta_memtable_stats_t m;
    int ret = META_EIO;

    memset(out, 0, sizeof(*out));
    if ((ret = meta_db_memtable_stats(db, &m)) != 0)
        return ret;
    out->memtable_bytes = m.bytes;
    out->tombstones = m.deletes;
    ret = META_EIO;
    pthread_rwlock_rdlock(&db->lock);
    if (db->rdb != NULL && rocksdb_property_int(db->rdb, "rocksdb.total-sst-files-size", &out->sst_bytes) == 0 &&
        rocksdb_property_int(db->rdb, "rocksdb.estimate-live-data-size", &out->live_bytes) == 0 &&
        rocksdb_property_int(db->rdb, "rocksdb.estimate-num-keys", &out->keys) == 0) {
        out->tombstones += sst_deletions(db->rdb);
        ret = 0;
    }
    pthread_rwlock_unlock(&db->lock);
    return ret;
}

int meta_db_stats(meta_db_t *db, meta_db_stats_t *out)
{
    int ret = 0;

    memset(out, 0, sizeof(*out));
    /* each property on its own: one RocksDB does not know must not hide the others */
    if (meta_db_property_int(db, "rocksdb.estimate-num-keys", &out->estimate_keys) != 0 ||
        meta_db_property_int(db, "rocksdb.total-sst-files-size", &out->sst_bytes) != 0 ||
        meta_db_property_int(db, "rocksdb.live-sst-files-size", &out->live_sst_bytes) != 0 ||
        meta_db_property_int(db, "rocksdb.cur-size-all-mem-tables", &out->memtable_bytes) != 0 ||
        meta_db_property_int(db, "rocksdb.estimate-pending-compaction-bytes", &out->pending_compaction_bytes) != 0 ||
        meta_db_property_int(db, "rocksdb.num-running-compactions", &out->running_compactions) != 0 ||
        meta_db_property_int(db, "rocksdb.num-running-flushes", &out->running_flushes) != 0)
        ret = META_EIO;
    out->background_errors = atomic_load(&db->background_errors);
    out->synced_writes = atomic_load(&db->synced_writes);
    out->synced_records = atomic_load(&db->synced_records);
    out->write_error = meta_db_write_error(db);
    out->read_only = meta_db_read_only(db);
    return ret;
}

/* Every call holds db->lock shared. A write first checks that the handle takes writes; the
 * first error it meets fails the handle for every writer after it. */
static int write_begin(meta_db_t *db)
{
    int ret;

    pthread_rwlock_rdlock(&db->lock);
    if ((ret = atomic_load(&db->write_error)) == 0 && (db->rdb == NULL || db->read_only))
        ret = META_EIO; /* never: a read-only or missing handle always has its error set */
    if (ret != 0)
        pthread_rwlock_unlock(&db->lock);
    return ret;
}

static int write_end(meta_db_t *db, char *err)
{
    int ret = 0;

    if (err != NULL) {
        ret = status_to_code(err);
        fail_writes(db, ret);
    }
    pthread_rwlock_unlock(&db->lock);
    return ret;
}

/* Returns an empty batch, or NULL when memory is exhausted. */
meta_batch_t *meta_batch_new(void)
{
    meta_batch_t *b;

    if ((b = malloc(sizeof(*b))) == NULL)
        return NULL;
    b->buckets = 0;
    if ((b->wb = rocksdb_writebatch_create()) == NULL) {
        free(b);
        return NULL;
    }
    return b;
}

/* Frees a batch whether or not it was written. */
void meta_batch_free(meta_batch_t *b)
{
    if (b == NULL)
        return;
    rocksdb_writebatch_destroy(b->wb);
    free(b);
}

/* Queues a put; key and value are copied into the batch. */
void meta_batch_put(meta_batch_t *b, const void *key, size_t klen, const void *val, size_t vlen)
{
    rocksdb_writebatch_put(b->wb, key, klen, val, vlen);
    b->buckets |= is_bucket_key(key, klen);
}

/* Queues a delete; the key is copied into the batch. */
void meta_batch_delete(meta_batch_t *b, const void *key, size_t klen)
{
    rocksdb_writebatch_delete(b->wb, key, klen);
    b->buckets |= is_bucket_key(key, klen);
}

/* Applies the whole batch atomically; returns after the WAL is synced. The batch stays owned
 * by the caller and is not cleared. */
int meta_db_write(meta_db_t *db, meta_batch_t *b)
{
    char *err = NULL;
    int ret;

    if ((ret = write_begin(db)) != 0)
        return ret;
    rocksdb_write(db->rdb, db->wopts, b->wb, &err);
    atomic_fetch_add_explicit(&db->synced_writes, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&db->synced_records, (uint64_t)rocksdb_writebatch_count(b->wb), memory_order_relaxed);
    if (b->buckets)
        bucket_written(db);
    return write_end(db, err);
}

/* Writes one record durably. */
int meta_db_put(meta_db_t *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    char *err = NULL;
    int ret;

    if ((ret = write_begin(db)) != 0)
        return ret;
    rocksdb_put(db->rdb, db->wopts, key, klen, val, vlen, &err);
    atomic_fetch_add_explicit(&db->synced_writes, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&db->synced_records, 1, memory_order_relaxed);
    if (is_bucket_key(key, klen))
        bucket_written(db);
    return write_end(db, err);
}

/* Deletes one record durably; deleting an absent key succeeds. */
int meta_db_delete(meta_db_t *db, const void *key, size_t klen)
{
    char *err = NULL;
    int ret;

    if ((ret = write_begin(db)) != 0)
        return ret;
    rocksdb_delete(db->rdb, db->wopts, key, klen, &err);
    atomic_fetch_add_explicit(&db->synced_writes, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&db->synced_records, 1, memory_order_relaxed);
    if (is_bucket_key(key, klen))
        bucket_written(db);
    return write_end(db, err);
}

/* A point read with ropts; cached: from memory only, -EAGAIN rather than any wait. */
static int get_with(meta_db_t *db, int cached, const void *key, size_t klen, void **val, size_t *vlen)
{
    rocksdb_pinnableslice_t *ps;
    const char *p;
    size_t n = 0;
    char *err = NULL;
    void *copy;
    int ret;

    *val = NULL;
    *vlen = 0;
    if (!cached)
        pthread_rwlock_rdlock(&db->lock);
    else if (pthread_rwlock_tryrdlock(&db->lock) != 0)
        return -EAGAIN; /* a reopen holds it: not a wait for a loop */
    if (db->rdb == NULL) {
        ret = META_EIO;
        goto done;
    }
    ps = rocksdb_get_pinned(db->rdb, cached ? db->ropts_cached : db->ropts, key, klen, &err);
    if (err != NULL) {
        /* Status::Incomplete: the answer is in a block that is not in the cache */
        if (cached && strncmp(err, "Result incomplete", 17) == 0) {
            rocksdb_free(err);
            ret = -EAGAIN;
        } else {
            ret = status_to_code(err);
        }
        goto done;
    }
    if (ps == NULL) {
        ret = META_ENOENT;
        goto done;
    }
    /* Copy out of the pinned block so the caller owns plain malloc'd memory; one extra byte
     * keeps an empty value distinct from NULL. */
    p = rocksdb_pinnableslice_value(ps, &n);
    if ((copy = malloc(n + 1)) == NULL) {
        rocksdb_pinnableslice_destroy(ps);
        ret = META_ENOMEM;
        goto done;
    }
    if (n > 0)
        memcpy(copy, p, n);
    rocksdb_pinnableslice_destroy(ps);
    *val = copy;
    *vlen = n;
    ret = 0;

done:
    pthread_rwlock_unlock(&db->lock);
    return ret;
}

/* Point read; *val is malloc'd (never NULL on success, even for an empty value). */
int meta_db_get(meta_db_t *db, const void *key, size_t klen, void **val, size_t *vlen)
{
    return get_with(db, 0, key, klen, val, vlen);
}

int meta_db_get_cached(meta_db_t *db, const void *key, size_t klen, void **val, size_t *vlen)
{
    return get_with(db, 1, key, klen, val, vlen);
}

/* Computes the smallest key greater than every key starting with prefix: the prefix with its
 * last non-0xFF byte incremented and the rest dropped. Returns 0 when none exists (empty or all
 * 0xFF), in which case the scan relies on its prefix check alone. */
static size_t prefix_successor(const uint8_t *prefix, size_t plen, uint8_t *out)
{
    while (plen > 0 && prefix[plen - 1] == 0xFF)
        plen--;
    if (plen == 0)
        return 0;
    memcpy(out, prefix, plen);
    out[plen - 1]++;
    return plen;
}

/* memcmp order over byte strings of different lengths; a proper prefix sorts first. */
static int bytes_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n > 0 ? memcmp(a, b, n) : 0;

    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Entries (tombstones, hidden values) a step of a newest-only scan may pass over before RocksDB
 * gives up on it (Status::Incomplete) and the scan seeks instead. */
#define NEWEST_STEP_SKIPS 4

/* Steps a live scan (meta_db_scan_live) takes past a key's newest version before it seeks to
 * the next key: RocksDB's own iterator steps over hidden entries 8 times before it seeks. */
#define NEWEST_LIVE_STEPS 12

/* 1 when the iterator stopped because a step passed over more than its limit of entries. */
static int step_gave_up(rocksdb_iterator_t *it)
{
    char *err = NULL;
    int r;

    rocksdb_iter_get_error(it, &err);
    r = err != NULL && strstr(err, "incomplete") != NULL; /* "Result incomplete: ..." */
    if (err != NULL)
        rocksdb_free(err);
    return r;
}

/* Ordered scan of one prefix from max(prefix, seek); newest: see meta_db_scan_newest.
 *
 * Past an object version the older versions and the tombstones of deleted ones lie between the
 * cursor and the next object key. A seek jumps over them through RocksDB's index, but costs
 * several times a step, and most keys have one version, the next entry being the next key. So
 * a newest-only scan steps first, with RocksDB told to give up a step that passes over more than
 * NEWEST_STEP_SKIPS entries; it seeks when a step gave up or landed on an older version of the
 * same key. A seek that gives up too (a run of tombstones right after it: deleted keys) sends
 * the rest of the scan to an iterator without the limit, from where the cursor was headed. */
static int scan(meta_db_t *db, const void *prefix, size_t plen, const void *seek, size_t slen, int newest,
                meta_scan_cb cb, void *arg)
{
    rocksdb_readoptions_t *ropts, *unlimited = NULL;
    rocksdb_iterator_t *it = NULL;
    meta_key_t past, resume; /* resume: where the cursor was headed, when a limited move gave up */
    int resume_after = 0;    /* ... past resume itself (a step from it) */
    int limited = 0;         /* the steps give up past NEWEST_STEP_SKIPS entries (until a fallback) */
    uint8_t *upper = NULL;
    size_t ulen = 0;
    char *err = NULL;
    int ret = 0, locked = 0;

    if ((ropts = rocksdb_readoptions_create()) == NULL)
        return META_ENOMEM;
    if (plen > 0) {
        if ((upper = malloc(plen)) == NULL) {
            ret = META_ENOMEM;
            goto fail;
        }
        /* An upper bound lets RocksDB stop at the end of the prefix instead of stepping over
         * tombstones past it; the readoptions borrow `upper` until the iterator is gone. */
        if ((ulen = prefix_successor(prefix, plen, upper)) > 0)
            rocksdb_readoptions_set_iterate_upper_bound(ropts, (const char *)upper, ulen);
    }
    /* Start at max(prefix, seek): a seek before the prefix would only walk foreign keys. */
    if (newest && seek != NULL && meta_key_version_successor(seek, slen, &past)) {
        seek = past.buf;
        slen = past.len;
    }
    if (seek == NULL || bytes_cmp(seek, slen, prefix, plen) <= 0) {
        seek = plen > 0 ? prefix : NULL;
        slen = plen;
    }
    if ((limited = newest && slen <= sizeof(resume.buf))) {
        rocksdb_readoptions_set_max_skippable_internal_keys(ropts, NEWEST_STEP_SKIPS);
        memcpy(resume.buf, seek, slen);
        resume.len = slen;
    }
    /* The iterator reads the handle until it is destroyed: the shared lock is held that long. */
    pthread_rwlock_rdlock(&db->lock);
    locked = 1;
    if (db->rdb == NULL) {
        ret = META_EIO;
        goto fail;
    }
    if ((it = rocksdb_create_iterator(db->rdb, ropts)) == NULL) {
        ret = META_ENOMEM;
        goto fail;
    }
    if (seek != NULL)
        rocksdb_iter_seek(it, seek, slen);
    else
        rocksdb_iter_seek_to_first(it);

    for (;;) {
        size_t klen, vlen;

        if (!rocksdb_iter_valid(it)) {
            if (!limited || !step_gave_up(it))
                break;
            /* a run of tombstones: go on without the limit from where the cursor was headed */
            rocksdb_iter_destroy(it);
            it = NULL;
            limited = 0;
            if ((unlimited = rocksdb_readoptions_create()) == NULL) {
                ret = META_ENOMEM;
                goto fail;
            }
            if (ulen > 0)
                rocksdb_readoptions_set_iterate_upper_bound(unlimited, (const char *)upper, ulen);
            if ((it = rocksdb_create_iterator(db->rdb, unlimited)) == NULL) {
                ret = META_ENOMEM;
                goto fail;
            }
            rocksdb_iter_seek(it, (const char *)resume.buf, resume.len);
            if (resume_after && rocksdb_iter_valid(it)) {
                const char *k = rocksdb_iter_key(it, &klen);
                if (klen == resume.len && memcmp(k, resume.buf, klen) == 0)
                    rocksdb_iter_next(it);
            }
            continue;
        }
        const char *k = rocksdb_iter_key(it, &klen);
        const char *v = rocksdb_iter_value(it, &vlen);

        if (klen < plen || (plen > 0 && memcmp(k, prefix, plen) != 0))
            break;
        if ((ret = cb(arg, (const uint8_t *)k, klen, (const uint8_t *)v, vlen)) != 0)
            break;
        if (!newest) {
            rocksdb_iter_next(it);
        } else if (meta_key_version_successor((const uint8_t *)k, klen, &past)) {
            if (!limited) {
                rocksdb_iter_seek(it, (const char *)past.buf, past.len);
                continue;
            }
            resume = past;
            resume_after = 0;
            rocksdb_iter_next(it);
            /* on an older version of the same key: seek past the key, or (a live scan) step on a
             * few times first: a deleted key (a marker over a version) or one of a few versions
             * reaches the next key at a few steps' cost, less than a seek's */
            for (int steps = 1; rocksdb_iter_valid(it); steps++) {
                k = rocksdb_iter_key(it, &klen);
                if (bytes_cmp(k, klen, past.buf, past.len) >= 0)
                    break;
                if (steps >= (newest == 2 ? NEWEST_LIVE_STEPS : 1)) {
                    rocksdb_iter_seek(it, (const char *)past.buf, past.len);
                    break;
                }
                rocksdb_iter_next(it);
            }
        } else {
            /* after a null slot the next entry is the key's newest version or the next key */
            if (limited && klen <= sizeof(resume.buf)) {
                memcpy(resume.buf, k, klen);
                resume.len = klen;
                resume_after = 1;
            }
            rocksdb_iter_next(it);
        }
    }
    if (ret > 0)
        ret = 0;
    if (ret == 0) {
        rocksdb_iter_get_error(it, &err);
        if (err != NULL)
            ret = status_to_code(err);
    }

fail:
    if (it != NULL)
        rocksdb_iter_destroy(it);
    if (locked)
        pthread_rwlock_unlock(&db->lock);
    rocksdb_readoptions_destroy(ropts);
    if (unlimited != NULL)
        rocksdb_readoptions_destroy(unlimited);
    free(upper);
    return ret;
}

void meta_db_set_heads(meta_db_t *db, int on)
{
    atomic_store(&db->heads, on);
}

int meta_db_heads(meta_db_t *db)
{
    return atomic_load(&db->heads);
}

rocksdb_t *meta_db_handle_acquire(meta_db_t *db)
{
    pthread_rwlock_rdlock(&db->lock);
    if (db->rdb == NULL)
        pthread_rwlock_unlock(&db->lock);
    return db->rdb;
}

void meta_db_handle_release(meta_db_t *db)
{
    pthread_rwlock_unlock(&db->lock);
}

int meta_db_status_code(char *err)
{
    return status_to_code(err);
}

int meta_db_scan(meta_db_t *db, const void *prefix, size_t plen, const void *seek, size_t slen, meta_scan_cb cb,
                 void *arg)
{
    return scan(db, prefix, plen, seek, slen, 0, cb, arg);
}

int meta_db_scan_newest_mode(meta_db_t *db, const void *prefix, size_t plen, const void *seek, size_t slen, int live,
                             meta_scan_cb cb, void *arg)
{
    return scan(db, prefix, plen, seek, slen, live ? 2 : 1, cb, arg);
}

void meta_perf_start(void)
{
    /* counting is RocksDB's default level: this keeps it, and starts the counters at zero */
    rocksdb_set_perf_level(rocksdb_enable_count);
    rocksdb_perfcontext_t *pc = rocksdb_perfcontext_create();
    rocksdb_perfcontext_reset(pc);
    rocksdb_perfcontext_destroy(pc);
}

void meta_perf_stop(meta_perf_t *out)
{
    rocksdb_perfcontext_t *pc = rocksdb_perfcontext_create();

    out->gets = rocksdb_perfcontext_metric(pc, rocksdb_get_from_memtable_count);
    out->seeks = rocksdb_perfcontext_metric(pc, rocksdb_seek_on_memtable_count);
    out->nexts = rocksdb_perfcontext_metric(pc, rocksdb_next_on_memtable_count);
    out->deletes_skipped = rocksdb_perfcontext_metric(pc, rocksdb_internal_delete_skipped_count);
    out->keys_skipped = rocksdb_perfcontext_metric(pc, rocksdb_internal_key_skipped_count);
    out->cache_hits = rocksdb_perfcontext_metric(pc, rocksdb_block_cache_hit_count);
    out->memtable_bloom_misses = rocksdb_perfcontext_metric(pc, rocksdb_bloom_memtable_miss_count);
    rocksdb_perfcontext_destroy(pc);
}
