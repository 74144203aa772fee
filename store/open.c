/* open.c — opening and closing a drive: its directory layout, its RocksDB, its metadata layout
 * (layout.c) and the temp-file sweep.
 *
 * Order at open matters: the RocksDB is opened first because RocksDB takes an exclusive lock
 * on its directory; only a process holding the drive may sweep tmp/, otherwise it could delete
 * the half-written shards of another process serving the same drive. Everything left in tmp/
 * belongs to a writer that died before committing: no record can refer to it (records are
 * written after the rename out of tmp/), so removing it loses nothing. A drive whose database
 * could only open read-only (a full disk) holds no RocksDB lock, so it does not sweep: the
 * files wait for the next open. The metadata layout is brought to this build's before anything
 * else reads the drive.
 *
 * Apart from drive.c (space, paths, errors) so that the drive engine's files depend on each other
 * in one direction: this file uses the layout migration, which uses the object records, which
 * use drive.c.
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

static int make_dir(const char *path)
{
    if (store_sys()->mkdir(path, 0700) != 0 && errno != EEXIST)
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
    const store_sys_t *sys = store_sys();
    char path[PATH_MAX];
    struct dirent *e;
    DIR *dp;
    int ret = 0;

    snprintf(path, sizeof(path), "%s/tmp", dir);
    if ((dp = sys->opendir(path)) == NULL)
        return store_errno(errno);
    while ((e = sys->readdir(dp)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (sys->unlinkat(dirfd(dp), e->d_name, 0) != 0 && errno != ENOENT) {
            ret = store_errno(errno);
            break;
        }
    }
    sys->closedir(dp);
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
    if (store_sys()->stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return STORE_ENOENT;

    if ((d = calloc(1, sizeof(*d))) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < STORE_KEY_LOCKS; i++)
        pthread_mutex_init(&d->key_locks[i], NULL);
    pthread_mutex_init(&d->reopen_lock, NULL);
    store_compact_init(d);
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
    if ((ret = meta_group_start(d->db, &d->group)) != 0) {
        ret = store_meta_err(ret);
        goto fail;
    }
    if ((ret = store_layout_open(d)) != 0)
        goto fail;
    if (!meta_db_read_only(d->db) && (ret = sweep_tmp(dir)) != 0)
        goto fail;
    store_compact_start(d);
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
    store_compact_stop(d);
    meta_group_stop(d->group);
    if (d->db != NULL)
        meta_db_close(d->db);
    store_slot_cache_dispose(d);
    for (size_t i = 0; i < STORE_KEY_LOCKS; i++)
        pthread_mutex_destroy(&d->key_locks[i]);
    pthread_mutex_destroy(&d->reopen_lock);
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
