/* store_internal.h — what the drive engine's files share: the drive handle and its helpers. */
#ifndef YC_STORE_INTERNAL_H
#define YC_STORE_INTERNAL_H
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include "store/store.h"

/* Puts of one object key are serialized by one of these mutexes, chosen by a hash of
 * bucket and key: enough stripes that unrelated keys rarely wait on each other. */
#define STORE_KEY_LOCKS 256

struct store_drive {
    char *path;
    meta_db_t *db;
    uint64_t tmp_seq; /* makes temp file names unique among concurrent writers (atomic) */
    pthread_mutex_t key_locks[STORE_KEY_LOCKS];
};

/* Paths of a shard: its final name under shards/XX/, the XX directory, and a fresh temp name.
 * Each buffer holds PATH_MAX bytes; returns STORE_EINVAL when the drive path is too long. */
int store_shard_path(const store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index, char *path);
int store_shard_dir_path(const store_drive_t *d, const uint8_t data_id[META_ID_LEN], char *path);
int store_shard_tmp_path(store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index, char *path);

/* Maps a negative errno to the drive's codes (ENOENT, ENOSPC; EIO for the rest but EINVAL/ENOMEM). */
int store_errno(int err);
/* Maps a META_ code to the drive's codes. */
int store_meta_err(int err);
/* fsyncs a directory so that entries created, renamed or removed in it are durable. */
int store_fsync_dir(const char *path);

#endif
