/* drive.c — opening a drive: its directory layout, its RocksDB, and the temp-file sweep.
 *
 * Layout (see store.h): db/, shards/00 .. shards/ff, tmp/. All 256 shard directories are made
 * when the drive is created, so the write path never calls mkdir and never races another
 * writer creating the same directory.
 *
 * Order at open matters: the RocksDB is opened first because RocksDB takes an exclusive lock
 * on its directory; only a process holding the drive may sweep tmp/, otherwise it could delete
 * the half-written shards of another process serving the same drive. Everything left in tmp/
 * belongs to a writer that died before committing: no record can refer to it (records are
 * written after the rename out of tmp/), so removing it loses nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store/store_internal.h"

static const char hex_digits[] = "0123456789abcdef";

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
    default:
        return STORE_EIO;
    }
}

int store_fsync_dir(const char *path)
{
    int fd, ret = 0;

    if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return store_errno(errno);
    if (fsync(fd) != 0)
        ret = store_errno(errno);
    close(fd);
    return ret;
}

static void hex_encode(const uint8_t *in, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex_digits[in[i] >> 4];
        out[2 * i + 1] = hex_digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

int store_shard_path(const store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index, char *path)
{
    char hex[2 * META_ID_LEN + 1];
    int n;

    hex_encode(data_id, META_ID_LEN, hex);
    n = snprintf(path, PATH_MAX, "%s/shards/%.2s/%s.%u", d->path, hex, hex, index);
    return n < 0 || n >= PATH_MAX ? STORE_EINVAL : 0;
}

int store_shard_dir_path(const store_drive_t *d, const uint8_t data_id[META_ID_LEN], char *path)
{
    char hex[3];
    int n;

    hex_encode(data_id, 1, hex);
    n = snprintf(path, PATH_MAX, "%s/shards/%s", d->path, hex);
    return n < 0 || n >= PATH_MAX ? STORE_EINVAL : 0;
}

int store_shard_tmp_path(store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index, char *path)
{
    char hex[2 * META_ID_LEN + 1];
    uint64_t seq = __atomic_fetch_add(&d->tmp_seq, 1, __ATOMIC_RELAXED);
    int n;

    /* The sequence number keeps two writers of the same shard (a PUT and a heal) apart. */
    hex_encode(data_id, META_ID_LEN, hex);
    n = snprintf(path, PATH_MAX, "%s/tmp/%s.%u.%llu", d->path, hex, index, (unsigned long long)seq);
    return n < 0 || n >= PATH_MAX ? STORE_EINVAL : 0;
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return store_errno(errno);
    return 0;
}

/* Creates the layout; every step tolerates a previous, interrupted creation. */
static int create_layout(const char *dir)
{
    char path[PATH_MAX];
    int ret;

    if ((ret = make_dir(dir)) != 0)
        return ret;
    snprintf(path, sizeof(path), "%s/shards", dir);
    if ((ret = make_dir(path)) != 0)
        return ret;
    for (unsigned i = 0; i < 256; i++) {
        snprintf(path, sizeof(path), "%s/shards/%02x", dir, i);
        if ((ret = make_dir(path)) != 0)
            return ret;
    }
    snprintf(path, sizeof(path), "%s/shards", dir);
    if ((ret = store_fsync_dir(path)) != 0)
        return ret;
    snprintf(path, sizeof(path), "%s/tmp", dir);
    if ((ret = make_dir(path)) != 0)
        return ret;
    return store_fsync_dir(dir);
}

/* Removes every entry of tmp/ (only files live there). */
static int sweep_tmp(const char *dir)
{
    char path[PATH_MAX];
    struct dirent *e;
    DIR *dp;
    int ret = 0;

    snprintf(path, sizeof(path), "%s/tmp", dir);
    if ((dp = opendir(path)) == NULL)
        return store_errno(errno);
    while ((e = readdir(dp)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(dp), e->d_name, 0) != 0 && errno != ENOENT) {
            ret = store_errno(errno);
            break;
        }
    }
    closedir(dp);
    return ret;
}

int store_drive_open(const char *dir, int create, store_drive_t **out)
{
    char path[PATH_MAX];
    store_drive_t *d = NULL;
    struct stat st;
    int ret;

    /* Room for the longest name below the drive: "/shards/xx/" + 32 hex + "." + index. */
    if (strlen(dir) > PATH_MAX - 64)
        return STORE_EINVAL;
    if (create && (ret = create_layout(dir)) != 0)
        return ret;
    snprintf(path, sizeof(path), "%s/shards", dir);
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return STORE_ENOENT;

    if ((d = calloc(1, sizeof(*d))) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < STORE_KEY_LOCKS; i++)
        pthread_mutex_init(&d->key_locks[i], NULL);
    if ((d->path = strdup(dir)) == NULL) {
        ret = -ENOMEM;
        goto fail;
    }
    snprintf(path, sizeof(path), "%s/db", dir);
    if ((ret = meta_db_open(path, create, &d->db)) != 0) {
        d->db = NULL;
        ret = store_meta_err(ret);
        goto fail;
    }
    if ((ret = sweep_tmp(dir)) != 0)
        goto fail;
    *out = d;
    return 0;

fail:
    store_drive_close(d);
    return ret;
}

/* Closes the drive; the caller has stopped every thread using it. */
void store_drive_close(store_drive_t *d)
{
    if (d == NULL)
        return;
    if (d->db != NULL)
        meta_db_close(d->db);
    for (size_t i = 0; i < STORE_KEY_LOCKS; i++)
        pthread_mutex_destroy(&d->key_locks[i]);
    free(d->path);
    free(d);
}

meta_db_t *store_drive_db(store_drive_t *d)
{
    return d->db;
}

const char *store_drive_path(const store_drive_t *d)
{
    return d->path;
}
