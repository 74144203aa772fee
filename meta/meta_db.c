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
 */
#include "meta/meta.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>

#define META_DB_CACHE_BYTES        ((size_t)256 << 20)
#define META_DB_WRITE_BUFFER       ((size_t)16 << 20)
#define META_DB_WRITE_BUFFERS      3
#define META_DB_BACKGROUND_JOBS    2
#define META_DB_MAX_OPEN_FILES     512
#define META_DB_BLOOM_BITS_PER_KEY 10.0

struct meta_db {
    rocksdb_t *rdb;
    rocksdb_writeoptions_t *wopts; /* sync = 1; shared by all writers, never modified after open */
    rocksdb_readoptions_t *ropts;  /* point reads; shared, never modified after open */
};

struct meta_batch {
    rocksdb_writebatch_t *wb;
};

/* Process-wide state, the one exception to "no global mutable state": the block cache that
 * all drives share. Guarded by shared_cache_lock, touched only by open and close. */
static pthread_mutex_t shared_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static rocksdb_cache_t *shared_cache;
static unsigned shared_cache_users;

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

/* Maps a RocksDB status message to our codes and frees it. */
static int status_to_code(char *err)
{
    int ret = META_EIO;

    if (strncmp(err, "Corruption", 10) == 0)
        ret = META_ECORRUPT;
    else if (strncmp(err, "Invalid argument", 16) == 0 && strstr(err, "does not exist") != NULL)
        ret = META_ENOENT;
    rocksdb_free(err);
    return ret;
}

static rocksdb_options_t *make_options(rocksdb_cache_t *cache, int create)
{
    rocksdb_options_t *opts;
    rocksdb_block_based_table_options_t *table;

    if ((opts = rocksdb_options_create()) == NULL)
        return NULL;
    if ((table = rocksdb_block_based_options_create()) == NULL) {
        rocksdb_options_destroy(opts);
        return NULL;
    }
    rocksdb_block_based_options_set_block_cache(table, cache);
    /* the table options take ownership of the filter policy */
    rocksdb_block_based_options_set_filter_policy(table,
                                                  rocksdb_filterpolicy_create_bloom_full(META_DB_BLOOM_BITS_PER_KEY));
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(table, 1);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks_with_high_priority(table, 1);
    rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(table, 1);
    rocksdb_block_based_options_set_format_version(table, 5);
    rocksdb_options_set_block_based_table_factory(opts, table);
    rocksdb_block_based_options_destroy(table);

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
    rocksdb_options_set_keep_log_file_num(opts, 4);
    rocksdb_options_set_max_log_file_size(opts, (size_t)8 << 20);
    return opts;
}

/* Opens one drive's database; see the top of this file for the options and why. */
int meta_db_open(const char *dir, int create, meta_db_t **out)
{
    meta_db_t *db;
    rocksdb_cache_t *cache = NULL;
    rocksdb_options_t *opts = NULL;
    char *err = NULL;
    int ret;

    *out = NULL;
    if ((db = calloc(1, sizeof(*db))) == NULL)
        return META_ENOMEM;
    if ((cache = shared_cache_acquire()) == NULL || (opts = make_options(cache, create)) == NULL ||
        (db->wopts = rocksdb_writeoptions_create()) == NULL || (db->ropts = rocksdb_readoptions_create()) == NULL) {
        ret = META_ENOMEM;
        goto fail;
    }
    rocksdb_writeoptions_set_sync(db->wopts, 1);
    db->rdb = rocksdb_open(opts, dir, &err);
    if (err != NULL) {
        ret = status_to_code(err);
        goto fail;
    }
    /* The DB copied what it needs from opts, including a reference to the cache. */
    rocksdb_options_destroy(opts);
    *out = db;
    return 0;

fail:
    if (opts != NULL)
        rocksdb_options_destroy(opts);
    if (db->ropts != NULL)
        rocksdb_readoptions_destroy(db->ropts);
    if (db->wopts != NULL)
        rocksdb_writeoptions_destroy(db->wopts);
    if (cache != NULL)
        shared_cache_release();
    free(db);
    return ret;
}

/* Closes the database; pending writes were already durable when their calls returned. */
void meta_db_close(meta_db_t *db)
{
    if (db == NULL)
        return;
    rocksdb_close(db->rdb);
    rocksdb_readoptions_destroy(db->ropts);
    rocksdb_writeoptions_destroy(db->wopts);
    free(db);
    shared_cache_release();
}

/* Returns an empty batch, or NULL when memory is exhausted. */
meta_batch_t *meta_batch_new(void)
{
    meta_batch_t *b;

    if ((b = malloc(sizeof(*b))) == NULL)
        return NULL;
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
}

/* Queues a delete; the key is copied into the batch. */
void meta_batch_delete(meta_batch_t *b, const void *key, size_t klen)
{
    rocksdb_writebatch_delete(b->wb, key, klen);
}

/* Applies the whole batch atomically; returns after the WAL is synced. The batch stays owned
 * by the caller and is not cleared. */
int meta_db_write(meta_db_t *db, meta_batch_t *b)
{
    char *err = NULL;

    rocksdb_write(db->rdb, db->wopts, b->wb, &err);
    return err != NULL ? status_to_code(err) : 0;
}

/* Writes one record durably. */
int meta_db_put(meta_db_t *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    char *err = NULL;

    rocksdb_put(db->rdb, db->wopts, key, klen, val, vlen, &err);
    return err != NULL ? status_to_code(err) : 0;
}

/* Deletes one record durably; deleting an absent key succeeds. */
int meta_db_delete(meta_db_t *db, const void *key, size_t klen)
{
    char *err = NULL;

    rocksdb_delete(db->rdb, db->wopts, key, klen, &err);
    return err != NULL ? status_to_code(err) : 0;
}

/* Point read; *val is malloc'd (never NULL on success, even for an empty value). */
int meta_db_get(meta_db_t *db, const void *key, size_t klen, void **val, size_t *vlen)
{
    rocksdb_pinnableslice_t *ps;
    const char *p;
    size_t n = 0;
    char *err = NULL;
    void *copy;

    *val = NULL;
    *vlen = 0;
    ps = rocksdb_get_pinned(db->rdb, db->ropts, key, klen, &err);
    if (err != NULL)
        return status_to_code(err);
    if (ps == NULL)
        return META_ENOENT;
    /* Copy out of the pinned block so the caller owns plain malloc'd memory; one extra byte
     * keeps an empty value distinct from NULL. */
    p = rocksdb_pinnableslice_value(ps, &n);
    if ((copy = malloc(n + 1)) == NULL) {
        rocksdb_pinnableslice_destroy(ps);
        return META_ENOMEM;
    }
    if (n > 0)
        memcpy(copy, p, n);
    rocksdb_pinnableslice_destroy(ps);
    *val = copy;
    *vlen = n;
    return 0;
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

/* Ordered scan of one prefix from max(prefix, seek); see meta.h for the callback contract. */
int meta_db_scan(meta_db_t *db, const void *prefix, size_t plen, const void *seek, size_t slen, meta_scan_cb cb,
                 void *arg)
{
    rocksdb_readoptions_t *ropts;
    rocksdb_iterator_t *it = NULL;
    uint8_t *upper = NULL;
    size_t ulen = 0;
    char *err = NULL;
    int ret = 0;

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
    if ((it = rocksdb_create_iterator(db->rdb, ropts)) == NULL) {
        ret = META_ENOMEM;
        goto fail;
    }
    /* Start at max(prefix, seek): a seek before the prefix would only walk foreign keys. */
    if (seek != NULL && bytes_cmp(seek, slen, prefix, plen) > 0)
        rocksdb_iter_seek(it, seek, slen);
    else if (plen > 0)
        rocksdb_iter_seek(it, prefix, plen);
    else
        rocksdb_iter_seek_to_first(it);

    for (; rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
        size_t klen, vlen;
        const char *k = rocksdb_iter_key(it, &klen);
        const char *v = rocksdb_iter_value(it, &vlen);

        if (klen < plen || (plen > 0 && memcmp(k, prefix, plen) != 0))
            break;
        if ((ret = cb(arg, (const uint8_t *)k, klen, (const uint8_t *)v, vlen)) != 0)
            break;
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
    rocksdb_readoptions_destroy(ropts);
    free(upper);
    return ret;
}
