/* client.c — the store_client_ calls: each forwards to its client's transport (client_local.c
 * or client_net.c) through the table in client_internal.h. Keeping the dispatch in one place
 * means a transport only implements operations, never argument conventions.
 *
 * The fence lives here too, for the same reason: a fenced client fails every data call before
 * the transport sees it, whatever the transport.
 */
#include "store/client_internal.h"
#include <errno.h>

void store_client_free(store_client_t *c)
{
    if (c != NULL)
        c->ops->free(c);
}

const char *store_client_name(const store_client_t *c)
{
    return c->name;
}

int store_client_ping(store_client_t *c)
{
    return c->ops->ping(c);
}

int store_client_link_problem(store_client_t *c, char *buf, size_t len)
{
    return c->ops->link_problem != NULL ? c->ops->link_problem(c, buf, len) : 0;
}

void store_client_fence(store_client_t *c, int code)
{
    __atomic_store_n(&c->fence, code, __ATOMIC_RELAXED);
}

int store_client_fenced(const store_client_t *c)
{
    return __atomic_load_n(&c->fence, __ATOMIC_RELAXED);
}

int store_client_identity(store_client_t *c, const store_identity_info_t *placement, store_identity_info_t *out)
{
    if (c->ops->identity == NULL)
        return STORE_EINVAL;
    return c->ops->identity(c, placement, out);
}

int store_client_shard_create(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index,
                              store_client_writer_t **out)
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->shard_create(c, data_id, index, out);
}

int store_client_shard_append(store_client_writer_t *w, const void *block, size_t len)
{
    int fenced = store_client_fenced(w->client);
    if (fenced != 0)
        return fenced;
    return w->client->ops->shard_append(w, block, len);
}

int store_client_shard_commit(store_client_writer_t *w)
{
    int fenced = store_client_fenced(w->client);
    if (fenced != 0) {
        w->client->ops->shard_abort(w); /* commit frees w in every case */
        return fenced;
    }
    return w->client->ops->shard_commit(w);
}

void store_client_shard_abort(store_client_writer_t *w)
{
    if (w != NULL)
        w->client->ops->shard_abort(w);
}

int store_client_shard_read(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t off,
                            size_t len, void *buf)
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->shard_read(c, data_id, index, off, len, buf);
}

int store_client_shard_stat(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t *size)
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->shard_stat(c, data_id, index, size);
}

int store_client_shard_delete(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index)
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->shard_delete(c, data_id, index);
}

int store_client_shard_verify(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index)
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->shard_verify(c, data_id, index);
}

int store_client_object_put(store_client_t *c, const meta_object_t *r)
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->object_put(c, r);
}

int store_client_object_prune_light(store_client_t *c, const meta_object_t *keep)
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->object_prune_light == NULL ? -EAGAIN : c->ops->object_prune_light(c, keep);
}

int store_client_object_put_begin(store_client_t *c, const meta_object_t *r, meta_waiter_t *w, store_put_t **out)
{
    int fenced = store_client_fenced(c);
    *out = NULL;
    if (fenced != 0)
        return fenced;
    if (c->ops->object_put_begin == NULL)
        return c->ops->object_put(c, r);
    return c->ops->object_put_begin(c, r, w, out);
}

int store_client_object_put_end(store_client_t *c, store_put_t *p)
{
    return c->ops->object_put_end(c, p);
}

int store_client_object_put_wait(store_client_t *c, store_put_t *p)
{
    return c->ops->object_put_wait(c, p);
}

int store_client_object_put_end_settled(store_client_t *c, store_put_t *p, int *pruned)
{
    return c->ops->object_put_end_settled(c, p, pruned);
}

int store_client_object_prune(store_client_t *c, const meta_object_t *keep)
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->object_prune(c, keep);
}

int store_client_object_takeback(store_client_t *c, const meta_object_t *r)
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->object_takeback(c, r);
}

int store_client_object_update(store_client_t *c, const meta_object_t *r)
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->object_update(c, r);
}

int store_client_object_get(store_client_t *c, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid,
                            meta_buf_t *raw, meta_object_t *out)
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->object_get(c, bucket, key, vid, raw, out);
}

int store_client_object_delete(store_client_t *c, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid)
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->object_delete(c, bucket, key, vid);
}

int store_client_record_put(store_client_t *c, const meta_key_t *key, const void *val, size_t vlen)
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->record_put(c, key, val, vlen);
}

int store_client_record_get(store_client_t *c, const meta_key_t *key, void **val, size_t *vlen)
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->record_get(c, key, val, vlen);
}

enum { BATCH_GET, BATCH_PUT, BATCH_PRUNE, BATCH_SHARD, BATCH_APPEND };

/* The first pass of a batch: every call that can go out now does (a fenced client's fails). */
static void batch_send(store_batch_call_t *calls, size_t n, int kind)
{
    for (size_t i = 0; i < n; i++) {
        store_batch_call_t *b = &calls[i];
        const store_client_ops_t *ops = b->client->ops;

        b->pending = NULL;
        b->val = NULL;
        b->vlen = 0;
        if ((b->ret = store_client_fenced(b->client)) != 0)
            continue;
        b->ret = 1; /* not done yet */
        if (kind == BATCH_GET && ops->record_get_send != NULL && ops->record_get_recv != NULL)
            b->pending = ops->record_get_send(b->client, b->key);
        else if (kind == BATCH_PUT && ops->object_put_send != NULL && ops->object_put_recv != NULL)
            b->pending = ops->object_put_send(b->client, b->rec);
        else if (kind == BATCH_PRUNE && ops->object_prune_send != NULL && ops->object_put_recv != NULL)
            b->pending = ops->object_prune_send(b->client, b->rec);
        else if (kind == BATCH_SHARD && ops->shard_read_send != NULL && ops->shard_read_recv != NULL)
            b->pending = ops->shard_read_send(b->client, b->data_id, b->index, b->off, b->len, b->buf);
        else if (kind == BATCH_APPEND && ops->shard_append_send != NULL && ops->shard_append_recv != NULL)
            b->pending = ops->shard_append_send(b->writer, b->block, b->len);
    }
}

void store_client_record_get_batch(store_batch_call_t *calls, size_t n)
{
    batch_send(calls, n, BATCH_GET);
    for (size_t i = 0; i < n; i++) {
        store_batch_call_t *b = &calls[i];
        if (b->ret != 1)
            continue;
        if (b->pending != NULL)
            b->ret = b->client->ops->record_get_recv(b->client, b->pending, &b->val, &b->vlen);
        else
            b->ret = b->client->ops->record_get(b->client, b->key, &b->val, &b->vlen);
        b->pending = NULL;
    }
}

static void record_batch(store_batch_call_t *calls, size_t n, int kind)
{
    batch_send(calls, n, kind);
    for (size_t i = 0; i < n; i++) {
        store_batch_call_t *b = &calls[i];
        if (b->ret != 1)
            continue;
        if (b->pending != NULL)
            b->ret = b->client->ops->object_put_recv(b->client, b->pending);
        else if (kind == BATCH_PUT)
            b->ret = b->client->ops->object_put(b->client, b->rec);
        else
            b->ret = b->client->ops->object_prune(b->client, b->rec);
        b->pending = NULL;
    }
}

void store_client_object_put_batch(store_batch_call_t *calls, size_t n)
{
    record_batch(calls, n, BATCH_PUT);
}

void store_client_object_prune_batch(store_batch_call_t *calls, size_t n)
{
    record_batch(calls, n, BATCH_PRUNE);
}

void store_client_shard_append_batch(store_batch_call_t *calls, size_t n)
{
    for (size_t i = 0; i < n; i++)
        calls[i].client = calls[i].writer->client;
    batch_send(calls, n, BATCH_APPEND);
    for (size_t i = 0; i < n; i++) {
        store_batch_call_t *b = &calls[i];
        if (b->ret != 1)
            continue;
        if (b->pending != NULL)
            b->ret = b->client->ops->shard_append_recv(b->writer, b->pending);
        else
            b->ret = b->client->ops->shard_append(b->writer, b->block, b->len);
        b->pending = NULL;
    }
}

void store_client_shard_read_batch(store_batch_call_t *calls, size_t n)
{
    batch_send(calls, n, BATCH_SHARD);
    for (size_t i = 0; i < n; i++) {
        store_batch_call_t *b = &calls[i];
        if (b->ret != 1)
            continue;
        if (b->pending != NULL)
            b->ret = b->client->ops->shard_read_recv(b->client, b->pending);
        else
            b->ret = b->client->ops->shard_read(b->client, b->data_id, b->index, b->off, b->len, b->buf);
        b->pending = NULL;
    }
}

int store_client_record_delete(store_client_t *c, const meta_key_t *key)
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->record_delete(c, key);
}

int store_client_record_scan(store_client_t *c, const meta_key_t *prefix, const meta_key_t *seek, size_t limit,
                             meta_scan_cb cb, void *arg)
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->record_scan(c, prefix, seek, limit, 0, cb, arg);
}

int store_client_record_scan_newest(store_client_t *c, const meta_key_t *prefix, const meta_key_t *seek, size_t limit,
                                    meta_scan_cb cb, void *arg)
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->record_scan(c, prefix, seek, limit, 1, cb, arg);
}

int store_client_record_scan_live(store_client_t *c, const meta_key_t *prefix, const meta_key_t *seek, size_t limit,
                                  meta_scan_cb cb, void *arg)
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->record_scan(c, prefix, seek, limit, 2, cb, arg);
}

int store_client_lock_acquire(store_client_t *c, meta_bytes_t name, const uint8_t owner[META_ID_LEN], int64_t lease_ns)
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->lock_acquire(c, name, owner, lease_ns);
}

int store_client_lock_release(store_client_t *c, meta_bytes_t name, const uint8_t owner[META_ID_LEN])
{
    int fenced = store_client_fenced(c);
    if (fenced != 0)
        return fenced;
    return c->ops->lock_release(c, name, owner);
}
