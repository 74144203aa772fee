/* meta_internal.h — what the files of meta/ share: the C++ side of the RocksDB setup
 * (meta_rocksdb.cc). The key and record codecs take their byte-order helpers from
 * common/bytes.h: keys are big-endian (so bytewise order is numeric order), record fields
 * little-endian. */
#ifndef YC_META_INTERNAL_H
#define YC_META_INTERNAL_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rocksdb_options_t;

/* Called on a RocksDB background thread when a background error stops the database; no_space
 * says whether the cause is a full drive. Must not call into RocksDB. */
typedef void (*meta_rocksdb_error_fn)(void *arg, int no_space);

/* Makes opts safe on a drive that can fill up (see meta_rocksdb.cc): RocksDB's info log goes to
 * log_path through a logger that drops what it cannot write, preallocation is off, and on_error
 * (may be NULL) hears of every background error, after which RocksDB stays stopped (no automatic
 * recovery). 0 or -ENOMEM. */
int meta_rocksdb_configure(struct rocksdb_options_t *opts, const char *log_path, meta_rocksdb_error_fn on_error,
                           void *arg);

/* meta_db_scan_newest, or with live set one that steps a few times past a key's newest version
 * before it seeks to the next key (a deleted key, a marker over a version, or a key of a few
 * versions costs steps, not a seek); meta_scan_live.c's scan stands on it. */
struct meta_db;
typedef int (*meta_internal_scan_cb)(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen);
int meta_db_scan_newest_mode(struct meta_db *db, const void *prefix, size_t plen, const void *seek, size_t slen,
                             int live, meta_internal_scan_cb cb, void *arg);
/* Keeps the index and filter blocks of every SST file pinned while its table is open (they stay
 * charged to the block cache), not only level 0's: a point read or a seek then finds them without
 * a cache lookup whatever level its record lives in (see meta_db.c). 0, or -EINVAL when opts
 * carry no block-based table factory. */
int meta_rocksdb_pin_metadata(struct rocksdb_options_t *opts);

/* The open RocksDB handle, with the database's shared lock held until meta_db_handle_release;
 * NULL (nothing held) when there is none. */
struct rocksdb_t;
struct rocksdb_t *meta_db_handle_acquire(struct meta_db *db);
void meta_db_handle_release(struct meta_db *db);
/* A RocksDB error string (freed here) as a META_ code. */
int meta_db_status_code(char *err);

/* meta_head.c: the newest-only scan of one object key (prefix: its versions prefix) from its head:
 * 1 when it cannot answer from the head (not such a prefix, no readable head: the caller scans),
 * else the scan's result. */
int meta_head_scan_one(struct meta_db *db, const void *prefix, size_t plen, meta_internal_scan_cb cb, void *arg);
/* meta_head.c: meta_db_scan_live's walk over the live heads from the object key whose versions
 * prefix is start (slen bytes), under prefix (a bucket's objects prefix): each live key's newest
 * record, and skip notes (the record key of the last dead key) where dead keys lie between.
 * *stopped is set when cb stopped it. */
int meta_head_scan_live(struct meta_db *db, const void *prefix, size_t plen, const void *start, size_t slen,
                        meta_internal_scan_cb cb, void *arg, int *stopped);

#ifdef __cplusplus
}
#endif

#endif
