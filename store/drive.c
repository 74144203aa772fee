/* drive.c — a drive's free space, its paths and the drive engine's error mapping (opening and
 * closing: open.c).
 *
 * Layout (see store.h): db/, shards/00 .. shards/ff, tmp/. All 256 shard directories are made
 * when the drive is created (open.c), so the write path never calls mkdir and never races
 * another writer creating the same directory.
 *
 * Free space: statvfs is cheap but not free, and writes come by the thousand, so the free bytes
 * are read again only when 10 ms passed or this drive admitted an eighth of its reserve since
 * the last look (other drives on the same filesystem are seen at the next look). In between the
 * estimate is the last value minus what this drive admitted. f_bavail, not f_bfree: the blocks
 * a filesystem keeps for root are not ours to plan with even when we run as root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include "store/store_internal.h"

#define SPACE_REFRESH_NS   (10 * 1000000LL)
#define SPACE_REFRESH_MIN  ((uint64_t)1 << 20)
#define RESERVE_AUTO_MIN   ((uint64_t)256 << 20)
#define REOPEN_INTERVAL_NS (1000 * 1000000LL)
#define REOPEN_MIN_FREE    ((uint64_t)1 << 20)
#define FLUSH_INTERVAL_NS  (1000 * 1000000LL)
#define FLUSH_MIN_BYTES    ((uint64_t)1 << 20)

int store_errno(int err)
{
    switch (err) {
    case ENOENT:
        return STORE_ENOENT;
    case ENOSPC:
    case EDQUOT:
        return STORE_ENOSPC;
    case ENOMEM:
        return -ENOMEM;
    case EINVAL:
    case ENAMETOOLONG:
        return STORE_EINVAL;
    default:
        /* Small errno values collide with the STORE_ codes, so the rest is reported as EIO. */
        return STORE_EIO;
    }
}

int store_meta_err(int err)
{
    switch (err) {
    case META_OK:
        return STORE_OK;
    case META_ENOENT:
        return STORE_ENOENT;
    case META_ECORRUPT:
        return STORE_ECORRUPT;
    case META_ENOMEM:
        return -ENOMEM;
    case META_ERANGE:
        return STORE_EINVAL;
    case META_ENOSPC:
        return STORE_ENOSPC;
    default:
        return STORE_EIO;
    }
}

int store_fsync_dir(const char *path)
{
    const store_sys_t *sys = store_sys();
    int fd, ret = 0;

    if ((fd = sys->open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)) < 0)
        return store_errno(errno);
    if (sys->fsync(fd) != 0)
        ret = store_errno(errno);
    sys->close(fd);
    return ret;
}

/* ---------------------------------------------------------------- free space */

static uint64_t reserve_for(uint64_t setting, uint64_t fs_bytes)
{
    uint64_t r;

    if (setting != STORE_RESERVE_AUTO)
        return setting;
    r = fs_bytes / 100 > RESERVE_AUTO_MIN ? fs_bytes / 100 : RESERVE_AUTO_MIN;
    return r < fs_bytes / 4 ? r : fs_bytes / 4;
}

static void space_refresh(store_drive_t *d, int64_t now)
{
    uint64_t setting = __atomic_load_n(&d->reserve_setting, __ATOMIC_RELAXED);
    struct statvfs st;

    /* A drive that cannot be looked at keeps its last numbers: its writes will tell. */
    if (store_sys()->statvfs(d->path, &st) == 0) {
        __atomic_store_n(&d->space_free, (uint64_t)st.f_bavail * st.f_frsize, __ATOMIC_RELAXED);
        __atomic_store_n(&d->space_reserve, reserve_for(setting, (uint64_t)st.f_blocks * st.f_frsize),
                         __ATOMIC_RELAXED);
        /* Bytes admitted between the statvfs and this store are forgotten: a few blocks at most,
         * which the next look sees. */
        __atomic_store_n(&d->space_written, 0, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&d->space_checked_ns, now, __ATOMIC_RELAXED);
}

/* The free bytes now, as estimated (fresh: from a statvfs now); *reserve gets the reserve in
 * effect. */
static uint64_t space_estimate(store_drive_t *d, uint64_t *reserve, int fresh)
{
    int64_t now = yc_mono_ns();
    uint64_t written = __atomic_load_n(&d->space_written, __ATOMIC_RELAXED);
    uint64_t r = __atomic_load_n(&d->space_reserve, __ATOMIC_RELAXED), free;
    int64_t checked = __atomic_load_n(&d->space_checked_ns, __ATOMIC_RELAXED);

    if (fresh || checked == 0 || now - checked >= SPACE_REFRESH_NS ||
        written >= (r / 8 > SPACE_REFRESH_MIN ? r / 8 : SPACE_REFRESH_MIN)) {
        space_refresh(d, now);
        written = __atomic_load_n(&d->space_written, __ATOMIC_RELAXED);
        r = __atomic_load_n(&d->space_reserve, __ATOMIC_RELAXED);
    }
    free = __atomic_load_n(&d->space_free, __ATOMIC_RELAXED);
    *reserve = r;
    return free > written ? free - written : 0;
}

/* 1 for the one caller that finds interval passed since *last (and moves *last to now). */
static int due(int64_t *last, int64_t interval)
{
    int64_t now = yc_mono_ns(), prev = __atomic_load_n(last, __ATOMIC_RELAXED);

    if (prev != 0 && now - prev < interval)
        return 0;
    return __atomic_compare_exchange_n(last, &prev, now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* A delete only adds a tombstone: the records it deletes stay in the WAL until their memtable is
 * flushed, which happens when it fills, and on a full drive nothing fills it. So a drive short
 * of space (within twice its reserve) flushes by itself, when records were deleted or a write
 * was refused. A flush writes what is still live in the memtables to an SST before the WAL
 * goes, so it is only worth it, and only safe, once that is little: a flush that runs out of
 * space stops the database (and the deletes with it) until it is reopened. RocksDB counts the
 * entries and the deletes of its memtables; taking each delete to cancel one put, the live
 * share of the puts is (entries - 2 deletes) / (entries - deletes), and the bytes they hold
 * that share of the memtables' size. Deletes of records flushed long ago cancel nothing here,
 * so the estimate can be low; the half of the reserve that records leave alone absorbs that. */
static void maybe_flush(store_drive_t *d, uint64_t free, uint64_t reserve)
{
    meta_memtable_stats_t m;
    uint64_t puts, live;
    int64_t last = __atomic_load_n(&d->flush_tried_ns, __ATOMIC_RELAXED);

    /* Short: within twice the reserve (a write was refused, or about to be). With room to
     * spare there is no hurry, and every flush adds a small SST for compactions to merge. */
    if (free >= 2 * reserve || (last != 0 && yc_mono_ns() - last < FLUSH_INTERVAL_NS) ||
        meta_db_memtable_stats(d->db, &m) != 0 || m.bytes < FLUSH_MIN_BYTES || m.deletes == 0 || m.entries <= m.deletes)
        return;
    puts = m.entries - m.deletes;
    live = puts > m.deletes ? (uint64_t)((double)m.bytes * (double)(puts - m.deletes) / (double)puts) : 0;
    if (live > free / 8 || !due(&d->flush_tried_ns, FLUSH_INTERVAL_NS))
        return;
    meta_db_flush(d->db);
}

int store_space_admit(store_drive_t *d, int kind, uint64_t bytes)
{
    uint64_t reserve, free, floor;
    int err;

    for (int fresh = 0;; fresh = 1) {
        free = space_estimate(d, &reserve, fresh);
        floor = kind == STORE_ADMIT_DATA ? reserve : kind == STORE_ADMIT_RECORD ? reserve / 2 : 0;
        err = meta_db_write_error(d->db);
        /* A refusal is worth a fresh look: the estimate may be 10 ms old, and deletes here or
         * on another drive of the filesystem may have made room since. */
        if (fresh || (err == 0 && free >= floor && bytes <= free - floor))
            break;
    }
    if (err != 0) {
        /* The database stopped taking writes: it failed one, or opened read-only on a full
         * drive. Reopening it is RocksDB's whole recovery, and needs little room (the WAL is
         * replayed, not flushed): it is tried once a MiB is free, so that deletes can go
         * through again even on a drive filled past its reserve by someone else, and not more
         * than once a second (an open replays the WAL). Writers that come while it runs wait
         * for it rather than fail. */
        if (free < REOPEN_MIN_FREE)
            return store_meta_err(err);
        pthread_mutex_lock(&d->reopen_lock);
        if ((err = meta_db_write_error(d->db)) != 0 && due(&d->reopen_tried_ns, REOPEN_INTERVAL_NS)) {
            err = meta_db_reopen(d->db);
            store_slot_cache_invalidate(d); /* the WAL's replay may apply writes that had failed */
        }
        pthread_mutex_unlock(&d->reopen_lock);
        if (err != 0)
            return store_meta_err(err);
    }
    if (free < floor || bytes > free - floor) {
        maybe_flush(d, free, reserve);
        return STORE_ENOSPC;
    }
    __atomic_add_fetch(&d->space_written, bytes, __ATOMIC_RELAXED);
    return 0;
}

void store_space_stale(store_drive_t *d)
{
    __atomic_store_n(&d->space_checked_ns, 0, __ATOMIC_RELAXED);
}

void store_space_deleted(store_drive_t *d)
{
    uint64_t reserve, free;

    free = space_estimate(d, &reserve, 1);
    maybe_flush(d, free, reserve);
}

void store_drive_set_reserve(store_drive_t *d, uint64_t bytes)
{
    __atomic_store_n(&d->reserve_setting, bytes, __ATOMIC_RELAXED);
    store_space_stale(d);
}

int store_drive_space(store_drive_t *d, uint64_t *free_bytes, uint64_t *reserve)
{
    *free_bytes = space_estimate(d, reserve, 1);
    return 0;
}

/* ---------------------------------------------------------------- paths */

int store_shard_path(const store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index, char *path)
{
    char hex[2 * META_ID_LEN + 1];
    int n;

    yc_hex(data_id, META_ID_LEN, hex);
    n = snprintf(path, PATH_MAX, "%s/shards/%.2s/%s.%u", d->path, hex, hex, index);
    return n < 0 || n >= PATH_MAX ? STORE_EINVAL : 0;
}

int store_shard_dir_path(const store_drive_t *d, const uint8_t data_id[META_ID_LEN], char *path)
{
    char hex[3];
    int n;

    yc_hex(data_id, 1, hex);
    n = snprintf(path, PATH_MAX, "%s/shards/%s", d->path, hex);
    return n < 0 || n >= PATH_MAX ? STORE_EINVAL : 0;
}

int store_shard_tmp_path(store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index, char *path)
{
    char hex[2 * META_ID_LEN + 1];
    uint64_t seq = __atomic_fetch_add(&d->tmp_seq, 1, __ATOMIC_RELAXED);
    int n;

    /* The sequence number keeps two writers of the same shard (a PUT and a heal) apart. */
    yc_hex(data_id, META_ID_LEN, hex);
    n = snprintf(path, PATH_MAX, "%s/tmp/%s.%u.%llu", d->path, hex, index, (unsigned long long)seq);
    return n < 0 || n >= PATH_MAX ? STORE_EINVAL : 0;
}
