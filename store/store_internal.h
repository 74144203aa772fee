/* store_internal.h — what the drive engine's files share: the drive handle and its helpers, and
 * the common helpers (clocks, byte order, hex) they all use. */
#ifndef YC_STORE_INTERNAL_H
#define YC_STORE_INTERNAL_H
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include "common/bytes.h"
#include "common/clock.h"
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/uio.h>
#include "store/store.h"

/* Puts of one object key are serialized by one of these mutexes, chosen by a hash of
 * bucket and key: enough stripes that unrelated keys rarely wait on each other. */
#define STORE_KEY_LOCKS 256

/* The null slots settled last (slot_cache.c): entries per drive (a multiple of STORE_KEY_LOCKS,
 * so that each entry is under one key lock), their values' bytes at most, and the largest value
 * kept (a record carrying an inline shard of an object up to 16 KiB in a 4+2 set). */
#define STORE_SLOT_CACHE           32768
#define STORE_SLOT_CACHE_BYTES     ((uint64_t)8 << 20)
#define STORE_SLOT_CACHE_VALUE_MAX 8192
typedef struct store_slot_entry store_slot_entry_t;

/* A key range counted by compact.c: its first bytes. */
#define STORE_RANGE_MAX (1 + META_NS_MAX + 1 + 2)
#define STORE_RANGES    64
typedef struct {
    uint8_t prefix[STORE_RANGE_MAX];
    size_t len;
    uint64_t garbage;               /* deletes and replaced values since its last compaction */
    int64_t noted_ns, compacted_ns; /* monotonic: the last count, the last compaction */
} store_range_t;

struct store_drive {
    char *path;
    meta_db_t *db;
    meta_group_t *group; /* the group commit of db's record writes (meta_group.c) */
    uint64_t tmp_seq;    /* makes temp file names unique among concurrent writers (atomic) */
    pthread_mutex_t key_locks[STORE_KEY_LOCKS];
    /* slot_cache.c: entry i under key_locks[i % STORE_KEY_LOCKS]; the counters atomic */
    store_slot_entry_t *slot_cache[STORE_SLOT_CACHE];
    uint64_t slot_cache_bytes, slot_cache_hits;
    uint32_t slot_cache_epoch;
    /* Free space (drive.c), every field atomic: the last statvfs, the reserve it gave, the bytes
     * admitted since, and when the space was looked at, the database reopened and flushed. */
    uint64_t reserve_setting;
    uint64_t space_free, space_reserve, space_written;
    int64_t space_checked_ns, reopen_tried_ns, flush_tried_ns;
    pthread_mutex_t reopen_lock; /* one reopen at a time; the writers that come meanwhile wait for it */
    /* Deletes per range and the compactions they call for (compact.c), under compact_lock. */
    pthread_mutex_t compact_lock;
    pthread_cond_t compact_cond; /* a range is due, a compaction ended, or the drive closes */
    store_range_t ranges[STORE_RANGES];
    uint64_t compactions;
    int compact_started, compact_stop;
    pthread_t compact_thread;
    /* The idle settle (compact.c), on the compaction thread only: the memtable entries it last
     * saw, since when, and whether this state was settled already. */
    uint64_t settle_entries;
    int64_t settle_seen_ns;
    int settle_done;
    uint64_t settles; /* settles that compacted, under compact_lock */
};

/* The slot cache (slot_cache.c), every call but _invalidate under the key lock of hash's key.
 * _take: 1 when the entry of the slot key was there and current, handing over its value
 * (malloc'd, caller frees) and the head flags it left; the entry goes either way. _forget drops
 * what the entry of hash holds. _fill keeps val (taking its buffer, *val left empty) and the head
 * flags as the key's entry, or nothing when over the budget. _invalidate turns every entry into
 * a miss (a write that did not take the key's lock). */
int store_slot_cache_take(store_drive_t *d, uint64_t hash, const meta_key_t *key, void **val, size_t *vlen,
                          uint32_t *head_flags);
void store_slot_cache_forget(store_drive_t *d, uint64_t hash);
void store_slot_cache_fill(store_drive_t *d, uint64_t hash, const meta_key_t *key, meta_buf_t *val,
                           uint32_t head_flags);
void store_slot_cache_invalidate(store_drive_t *d);
void store_slot_cache_dispose(store_drive_t *d);

/* Counts `garbage` deletes or in-place replacements of keys in the range of key (compact.c); a
 * range that accumulated many, or some and then stayed idle, is compacted on the drive's
 * background thread. */
void store_compact_note(store_drive_t *d, const uint8_t *key, size_t klen, size_t garbage);
void store_compact_init(store_drive_t *d);
/* Starts the drive's compaction thread (once the database is open), which also settles the drive
 * when it turns idle: memtables flushed and level 0 merged down (compact.c). */
void store_compact_start(store_drive_t *d);
/* Stops the compaction thread, after the compaction in progress; the drive is closing. */
void store_compact_stop(store_drive_t *d);

/* Paths of a shard: its final name under shards/XX/, the XX directory, and a fresh temp name.
 * Each buffer holds PATH_MAX bytes; returns STORE_EINVAL when the drive path is too long. */
int store_shard_path(const store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index, char *path);
int store_shard_dir_path(const store_drive_t *d, const uint8_t data_id[META_ID_LEN], char *path);
int store_shard_tmp_path(store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index, char *path);

/* What a write is, for the free-space check: new shard data must leave the whole reserve free,
 * a record half of it, a delete nothing (see store.h). */
enum { STORE_ADMIT_DATA, STORE_ADMIT_RECORD, STORE_ADMIT_DELETE };
/* Admits a write of about `bytes` on d: 0, STORE_ENOSPC when it would cut into the reserve, or
 * the error of a database that takes no writes (after trying to reopen it). Counts the bytes
 * against the free space until the next statvfs. */
int store_space_admit(store_drive_t *d, int kind, uint64_t bytes);
/* A write met ENOSPC, or files were deleted: the next admission looks at the disk again. */
void store_space_stale(store_drive_t *d);
/* Records were deleted: when the drive is short of space and the memtables hold mostly deleted
 * records, they are flushed (at most once a second), so that the WAL files holding them go. */
void store_space_deleted(store_drive_t *d);

/* Layout 1 kept each null version under its own time-stamped key (meta.h). Adds to batch the
 * put of bucket/key's null slot holding what it holds now and the n old records (their bytes),
 * ordered and capped as puts would leave them; the caller deletes the old keys in the same
 * batch. Damaged old records are left out. For the migration at open (layout.c), before any
 * other thread uses the drive. */
int store_object_adopt(store_drive_t *d, meta_bytes_t bucket, meta_bytes_t key, const meta_bytes_t *old, size_t n,
                       meta_batch_t *batch);
/* Brings the drive's metadata to META_LAYOUT_VERSION (layout.c): STORE_EFORMAT for a layout it
 * cannot read, STORE_ENOSPC when it must migrate but the database is read-only. */
int store_layout_open(store_drive_t *d);

/* Maps a negative errno to the drive's codes (ENOENT, ENOSPC; EIO for the rest but EINVAL/ENOMEM). */
int store_errno(int err);
/* Maps a META_ code to the drive's codes. */
int store_meta_err(int err);
/* fsyncs a directory so that entries created, renamed or removed in it are durable. */
int store_fsync_dir(const char *path);

/* Writes a start-up failure's reason into why (whylen bytes; nothing when why is NULL): the one
 * line a daemon prints when a drive or its port cannot be used. */
void store_set_why(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The seam between the drive engine and the file system (sys.c). Every file-system call of
 * shard.c, drive.c and gc.c goes through this table: `const store_sys_t *sys = store_sys();`
 * then `sys->fdatasync(fd)`. In production it holds the C library's own functions, so a call
 * costs one pointer load and an indirect call, and takes no lock; a test may swap in a table
 * whose calls fail on purpose (store_fault.h). The entries behave as the functions they name. */
typedef struct {
    int (*open)(const char *path, int flags, mode_t mode);
    int (*close)(int fd);
    ssize_t (*preadv)(int fd, const struct iovec *iov, int cnt, off_t off);
    ssize_t (*pwritev)(int fd, const struct iovec *iov, int cnt, off_t off);
    int (*fsync)(int fd);
    int (*fdatasync)(int fd);
    int (*fstat)(int fd, struct stat *st);
    int (*stat)(const char *path, struct stat *st);
    int (*rename)(const char *from, const char *to);
    int (*unlink)(const char *path);
    int (*unlinkat)(int dirfd, const char *name, int flags);
    int (*mkdir)(const char *path, mode_t mode);
    DIR *(*opendir)(const char *path);
    struct dirent *(*readdir)(DIR *dp);
    int (*closedir)(DIR *dp);
    int (*statvfs)(const char *path, struct statvfs *st);
} store_sys_t;

/* The table in use. The one global mutable hook of store/, for tests: it points at the real
 * calls unless store_fault_add() installed the checking ones. Read it through store_sys(). */
extern const store_sys_t *store_sys_active;

static inline const store_sys_t *store_sys(void)
{
    return __atomic_load_n(&store_sys_active, __ATOMIC_ACQUIRE);
}

#endif
