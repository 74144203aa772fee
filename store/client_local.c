/* client_local.c — the in-process transport: every call goes straight to the drive engine.
 *
 * Nothing is added on the way: no copy, no lock (the drive handle is thread-safe itself), so
 * the embedded default pays only one indirect call for having a transport at all. The one
 * allocation is the writer wrapper, which carries the transport table to the append calls.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include "store/client_internal.h"

typedef struct {
    store_client_t base;
    store_drive_t *drive; /* borrowed */
} local_client_t;

typedef struct {
    store_client_writer_t base;
    store_shard_writer_t *w;
} local_writer_t;

static store_drive_t *drive_of(store_client_t *c)
{
    return ((local_client_t *)c)->drive;
}

static void local_free(store_client_t *c)
{
    free(c);
}

static int local_ping(store_client_t *c)
{
    return drive_of(c) != NULL ? 0 : STORE_EIO;
}

static int local_shard_create(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index,
                              store_client_writer_t **out)
{
    local_writer_t *lw = calloc(1, sizeof(*lw));
    int ret;

    if (lw == NULL)
        return -ENOMEM;
    if ((ret = store_shard_create(drive_of(c), data_id, index, &lw->w)) != 0) {
        free(lw);
        return ret;
    }
    lw->base.client = c;
    *out = &lw->base;
    return 0;
}

static int local_shard_append(store_client_writer_t *w, const void *block, size_t len)
{
    return store_shard_append(((local_writer_t *)w)->w, block, len);
}

static int local_shard_commit(store_client_writer_t *w)
{
    int ret = store_shard_commit(((local_writer_t *)w)->w);
    free(w);
    return ret;
}

static void local_shard_abort(store_client_writer_t *w)
{
    store_shard_abort(((local_writer_t *)w)->w);
    free(w);
}

static int local_shard_read(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t off,
                            size_t len, void *buf)
{
    return store_shard_read(drive_of(c), data_id, index, off, len, buf);
}

static int local_shard_stat(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t *size)
{
    return store_shard_stat(drive_of(c), data_id, index, size);
}

static int local_shard_delete(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index)
{
    return store_shard_delete(drive_of(c), data_id, index);
}

static int local_shard_verify(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index)
{
    return store_shard_verify(drive_of(c), data_id, index);
}

static int local_object_put(store_client_t *c, const meta_object_t *r)
{
    return store_object_put(drive_of(c), r);
}

static int local_object_put_begin(store_client_t *c, const meta_object_t *r, meta_waiter_t *w, store_put_t **out)
{
    return store_object_put_begin(drive_of(c), r, w, out);
}

static int local_object_put_end(store_client_t *c, store_put_t *p)
{
    return store_object_put_end(p);
}

static int local_object_put_wait(store_client_t *c, store_put_t *p)
{
    return store_object_put_wait(p);
}

static int local_object_put_end_settled(store_client_t *c, store_put_t *p, int *pruned)
{
    return store_object_put_end_settled(p, pruned);
}

static int local_object_prune_light(store_client_t *c, const meta_object_t *keep)
{
    return store_object_prune_light(drive_of(c), keep);
}

static int local_object_prune(store_client_t *c, const meta_object_t *keep)
{
    return store_object_prune(drive_of(c), keep);
}

static int local_object_takeback(store_client_t *c, const meta_object_t *r)
{
    return store_object_takeback(drive_of(c), r);
}

static int local_object_update(store_client_t *c, const meta_object_t *r)
{
    return store_object_update(drive_of(c), r);
}

static int local_object_get(store_client_t *c, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid,
                            meta_buf_t *raw, meta_object_t *out)
{
    return store_object_get(drive_of(c), bucket, key, vid, raw, out);
}

static int local_object_delete(store_client_t *c, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid)
{
    return store_object_delete(drive_of(c), bucket, key, vid);
}

static int local_record_put(store_client_t *c, const meta_key_t *key, const void *val, size_t vlen)
{
    return store_record_put(drive_of(c), key, val, vlen);
}

static int local_record_get(store_client_t *c, const meta_key_t *key, void **val, size_t *vlen)
{
    return store_record_get(drive_of(c), key, val, vlen);
}

static int local_record_delete(store_client_t *c, const meta_key_t *key)
{
    return store_record_delete(drive_of(c), key);
}

static int local_record_scan(store_client_t *c, const meta_key_t *prefix, const meta_key_t *seek, size_t limit,
                             int newest, meta_scan_cb cb, void *arg)
{
    if (newest == 2)
        return store_record_scan_live(drive_of(c), prefix, seek, limit, cb, arg);
    if (newest)
        return store_record_scan_newest(drive_of(c), prefix, seek, limit, cb, arg);
    return store_record_scan(drive_of(c), prefix, seek, limit, cb, arg);
}

static int local_lock_acquire(store_client_t *c, meta_bytes_t name, const uint8_t owner[META_ID_LEN], int64_t lease_ns)
{
    return store_lock_acquire(drive_of(c), name, owner, lease_ns);
}

static int local_lock_release(store_client_t *c, meta_bytes_t name, const uint8_t owner[META_ID_LEN])
{
    return store_lock_release(drive_of(c), name, owner);
}

static const store_client_ops_t local_ops = {
    .free = local_free,
    .ping = local_ping,
    .shard_create = local_shard_create,
    .shard_append = local_shard_append,
    .shard_commit = local_shard_commit,
    .shard_abort = local_shard_abort,
    .shard_read = local_shard_read,
    .shard_stat = local_shard_stat,
    .shard_delete = local_shard_delete,
    .shard_verify = local_shard_verify,
    .object_put = local_object_put,
    .object_prune = local_object_prune,
    .object_put_begin = local_object_put_begin,
    .object_put_end = local_object_put_end,
    .object_put_wait = local_object_put_wait,
    .object_put_end_settled = local_object_put_end_settled,
    .object_prune_light = local_object_prune_light,
    .object_takeback = local_object_takeback,
    .object_update = local_object_update,
    .object_get = local_object_get,
    .object_delete = local_object_delete,
    .record_put = local_record_put,
    .record_get = local_record_get,
    .record_delete = local_record_delete,
    .record_scan = local_record_scan,
    .lock_acquire = local_lock_acquire,
    .lock_release = local_lock_release,
};

int store_client_local(store_drive_t *d, store_client_t **out)
{
    local_client_t *c;

    if (d == NULL)
        return STORE_EINVAL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return -ENOMEM;
    c->base.ops = &local_ops;
    c->drive = d;
    snprintf(c->base.name, sizeof(c->base.name), "local:%s", store_drive_path(d));
    *out = &c->base;
    return 0;
}
