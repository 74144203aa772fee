/* server_ops.c — the operations of the yc-store daemon with small bodies, run on the workers:
 * each reads its arguments from the job (target and query, parsed by server.c) and the request
 * body (read whole, its hash already checked), calls the drive engine (store.h), and leaves the
 * answer's bytes in the job. Shard appends and reads stream instead (server_stream.c). The wire format of every
 * operation is described in client_net.c; shard writers live in the writer table
 * (server_writers.c).
 */
#include "store/server_internal.h"
#include <errno.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include "common/bytes.h"
#include "common/clock.h"
#include "common/log.h"

/* ---------------------------------------------------------------- shards */

static int answer_bytes(store_srv_job_t *j, const void *p, size_t len)
{
    if ((j->body = malloc(len > 0 ? len : 1)) == NULL)
        return -ENOMEM;
    memcpy(j->body, p, len);
    j->body_len = len;
    return 0;
}

/* The small body, read whole and checked against its signed hash before the operation runs. */
static h2o_iovec_t entity(const store_srv_job_t *j)
{
    return j->in != NULL ? h2o_iovec_init(j->in, j->in_len) : h2o_iovec_init("", 0);
}

static int op_shard_create(store_server_t *s, store_srv_job_t *j)
{
    store_srv_writer_t *w = calloc(1, sizeof(*w));
    char hex[STORE_NET_TOKEN_HEX + 1];
    int ret;

    if (w == NULL)
        return -ENOMEM;
    if (RAND_bytes(w->token, sizeof(w->token)) != 1) {
        free(w);
        return STORE_EIO;
    }
    if ((ret = store_shard_create(j->drive->drive, j->data_id, j->index, &w->w)) != 0) {
        free(w);
        return ret;
    }
    w->drive = j->drive;
    memcpy(w->data_id, j->data_id, META_ID_LEN);
    w->index = j->index;
    w->used_ns = yc_mono_ns();
    yc_hex(w->token, sizeof(w->token), hex);
    if ((ret = answer_bytes(j, hex, STORE_NET_TOKEN_HEX)) != 0 || (ret = store_writer_add(&s->writers, w)) != 0) {
        store_shard_abort(w->w);
        free(w);
        return ret;
    }
    return 0;
}

static int op_shard_end(store_server_t *s, store_srv_job_t *j, int commit)
{
    store_srv_writer_t *w;
    int ret;

    if (!j->has_token)
        return STORE_EINVAL;
    if ((w = store_writer_take(&s->writers, j, &ret)) == NULL)
        return commit || ret != STORE_ENOENT ? ret : 0; /* aborting what is gone is done */
    if (commit) {
        ret = store_shard_commit(w->w);
    } else {
        store_shard_abort(w->w);
        ret = 0;
    }
    free(w);
    return ret;
}

static int op_shard_stat(store_srv_job_t *j)
{
    uint8_t raw[8];
    uint64_t size;
    int ret = store_shard_stat(j->drive->drive, j->data_id, j->index, &size);
    if (ret != 0)
        return ret;
    yc_put_le64(raw, size);
    return answer_bytes(j, raw, sizeof(raw));
}

/* ---------------------------------------------------------------- objects and records */

/* Reads lp(x) at *pos of body; STORE_EINVAL when it does not fit. */
static int take_lp(h2o_iovec_t body, size_t *pos, size_t max, meta_bytes_t *out)
{
    uint32_t len;
    if (body.len - *pos < 4 || (len = yc_get_le32((const uint8_t *)body.base + *pos)) > body.len - *pos - 4 ||
        len > max)
        return STORE_EINVAL;
    out->base = body.base + *pos + 4;
    out->len = len;
    *pos += 4 + len;
    return 0;
}

static int take_key(h2o_iovec_t body, size_t *pos, meta_key_t *key)
{
    meta_bytes_t b;
    int ret;
    if ((ret = take_lp(body, pos, META_ENCODED_KEY_MAX, &b)) != 0)
        return ret;
    memcpy(key->buf, b.base, b.len);
    key->len = b.len;
    return 0;
}

/* what: 0 put, 1 prune, 2 take back, 3 update */
static int op_object_record(store_srv_job_t *j, int what)
{
    h2o_iovec_t body = entity(j);
    meta_object_t r;
    int ret = meta_object_decode(body.base, body.len, &r);

    if (ret != 0)
        return ret == META_ECORRUPT ? STORE_EINVAL : STORE_EIO;
    return what == 1   ? store_object_prune(j->drive->drive, &r)
           : what == 2 ? store_object_takeback(j->drive->drive, &r)
           : what == 3 ? store_object_update(j->drive->drive, &r)
                       : store_object_put(j->drive->drive, &r);
}

static int op_object_ref(store_srv_job_t *j, int get)
{
    h2o_iovec_t body = entity(j);
    meta_bytes_t bucket, key;
    const uint8_t *vid = NULL;
    size_t pos = 0;
    int ret;

    if ((ret = take_lp(body, &pos, META_NS_MAX, &bucket)) != 0 || (ret = take_lp(body, &pos, META_KEY_MAX, &key)) != 0)
        return ret;
    if (body.len - pos < 1 || (body.base[pos] == 1 && body.len - pos != 1 + META_ID_LEN) ||
        (body.base[pos] == 0 && body.len - pos != 1) || (uint8_t)body.base[pos] > 1)
        return STORE_EINVAL;
    if (body.base[pos] == 1)
        vid = (const uint8_t *)body.base + pos + 1;
    if (!get)
        return store_object_delete(j->drive->drive, bucket, key, vid);

    meta_buf_t raw = {0};
    meta_object_t r;
    if ((ret = store_object_get(j->drive->drive, bucket, key, vid, &raw, &r)) != 0)
        return ret;
    /* the record's bytes become the answer as they are */
    j->body = raw.base;
    j->body_len = raw.len;
    return 0;
}

static int op_record_put(store_srv_job_t *j)
{
    h2o_iovec_t body = entity(j);
    meta_key_t key;
    size_t pos = 0;
    int ret = take_key(body, &pos, &key);
    if (ret != 0)
        return ret;
    return store_record_put(j->drive->drive, &key, body.base + pos, body.len - pos);
}

/* The request's entity as a record key: 0, or STORE_EINVAL when it is too long for one. */
static int entity_key(store_srv_job_t *j, meta_key_t *key)
{
    h2o_iovec_t body = entity(j);

    if (body.len > META_ENCODED_KEY_MAX)
        return STORE_EINVAL;
    memcpy(key->buf, body.base, body.len);
    key->len = body.len;
    return 0;
}

int store_server_record_get_cached(store_srv_job_t *j)
{
    meta_key_t key;
    void *val;
    size_t vlen;
    int ret;

    if ((ret = entity_key(j, &key)) != 0 || (ret = store_record_get_cached(j->drive->drive, &key, &val, &vlen)) != 0)
        return ret;
    j->body = val;
    j->body_len = vlen;
    return 0;
}

static int op_record_key(store_srv_job_t *j, int get)
{
    meta_key_t key;
    void *val;
    size_t vlen;
    int ret;

    if ((ret = entity_key(j, &key)) != 0)
        return ret;
    if (!get)
        return store_record_delete(j->drive->drive, &key);
    if ((ret = store_record_get(j->drive->drive, &key, &val, &vlen)) != 0)
        return ret;
    j->body = val;
    j->body_len = vlen;
    return 0;
}

typedef struct {
    meta_buf_t out;
    const meta_key_t *after; /* a key to skip: the last one of the previous page */
    size_t count, limit;
    int more, err;
} scan_page_t;

static int page_append(scan_page_t *p, const void *data, size_t len)
{
    if (p->out.len + len > p->out.cap) {
        size_t ncap = p->out.cap ? p->out.cap * 2 : 4096;
        while (ncap < p->out.len + len)
            ncap *= 2;
        uint8_t *nb = realloc(p->out.base, ncap);
        if (nb == NULL)
            return -ENOMEM;
        p->out.base = nb;
        p->out.cap = ncap;
    }
    memcpy(p->out.base + p->out.len, data, len);
    p->out.len += len;
    return 0;
}

static int page_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    scan_page_t *p = arg;
    uint8_t lp[4];

    if (p->after != NULL && klen == p->after->len && memcmp(key, p->after->buf, klen) == 0)
        return 0;
    p->after = NULL; /* keys only grow: once past it, nothing else can equal it */
    if (p->count == STORE_NET_SCAN_PAGE || p->out.len >= STORE_NET_SCAN_BYTES) {
        p->more = 1;
        return 1;
    }
    if (klen > UINT32_MAX || vlen > UINT32_MAX) {
        p->err = STORE_ECORRUPT;
        return p->err;
    }
    yc_put_le32(lp, (uint32_t)klen);
    if (page_append(p, lp, 4) != 0 || page_append(p, key, klen) != 0)
        goto nomem;
    yc_put_le32(lp, (uint32_t)vlen);
    if (page_append(p, lp, 4) != 0 || page_append(p, val, vlen) != 0)
        goto nomem;
    p->count++;
    return p->limit != 0 && p->count == p->limit ? 1 : 0;

nomem:
    p->err = -ENOMEM;
    return p->err;
}

static int op_record_scan(store_srv_job_t *j)
{
    h2o_iovec_t body = entity(j);
    meta_key_t prefix, seek;
    scan_page_t page = {.out = {0}};
    size_t pos = 0;
    uint8_t mode, newest;
    int ret;

    if ((ret = take_key(body, &pos, &prefix)) != 0)
        return ret;
    /* mode: 0 from the prefix, 1 from seek, 2 after seek; bit 4: each object key's newest only;
     * bit 8: live keys only, with skip notes (not with bit 4) */
    if (body.len - pos < 1 || ((mode = (uint8_t)body.base[pos++]) & ~15) != 0 || (mode & 3) > 2 || (mode & 12) == 12 ||
        (ret = take_key(body, &pos, &seek)) != 0 || body.len - pos != 8)
        return STORE_EINVAL;
    newest = mode & 8 ? 2 : mode & 4 ? 1 : 0;
    mode &= 3;
    page.limit = (size_t)yc_get_le64((const uint8_t *)body.base + pos);
    if (mode == 2)
        page.after = &seek;
    if ((ret = page_append(&page, "", 1)) != 0) /* room for the `more` byte */
        goto fail;
    const meta_key_t *from = mode != 0 ? &seek : NULL;
    ret = newest == 2 ? store_record_scan_live(j->drive->drive, &prefix, from, 0, page_cb, &page)
          : newest    ? store_record_scan_newest(j->drive->drive, &prefix, from, 0, page_cb, &page)
                      : store_record_scan(j->drive->drive, &prefix, from, 0, page_cb, &page);
    if (page.err != 0)
        ret = page.err;
    if (ret != 0)
        goto fail;
    page.out.base[0] = (uint8_t)page.more;
    j->body = page.out.base;
    j->body_len = page.out.len;
    return 0;

fail:
    meta_buf_dispose(&page.out);
    return ret;
}

/* ---------------------------------------------------------------- locks */

/* lp(name) owner[16] [le64 lease_ns]: the lease only for an acquire. */
static int op_lock(store_srv_job_t *j, int acquire)
{
    h2o_iovec_t body = entity(j);
    meta_bytes_t name;
    size_t pos = 0;
    int ret;

    if ((ret = take_lp(body, &pos, META_LOCK_NAME_MAX, &name)) != 0)
        return ret;
    if (body.len - pos != META_ID_LEN + (acquire ? 8u : 0u))
        return STORE_EINVAL;
    const uint8_t *owner = (const uint8_t *)body.base + pos;
    if (!acquire)
        return store_lock_release(j->drive->drive, name, owner);
    uint64_t lease = yc_get_le64(owner + META_ID_LEN);
    if (lease == 0 || lease > (uint64_t)INT64_MAX)
        return STORE_EINVAL;
    return store_lock_acquire(j->drive->drive, name, owner, (int64_t)lease);
}

/* ---------------------------------------------------------------- drive identity */

/* POST identity: the body is empty (just read) or a placement (cluster id, set, slot) that is
 * recorded when the drive has none. The answer is the drive's identity either way: the gateway
 * compares it with what it expects, so a refused placement is not an error here. */
static int op_identity(store_srv_job_t *j)
{
    h2o_iovec_t body = entity(j);
    store_identity_info_t want, info;
    char text[STORE_IDENTITY_TEXT_MAX];
    size_t len = 0;
    int ret;

    if (body.len > 0) {
        if (store_identity_decode(body.base, body.len, &want) != 0 || !want.placed)
            return STORE_EINVAL;
        ret = store_identity_place(j->drive->identity, want.cluster_id, want.set, want.slot, &info);
        if (ret == STORE_EIDENTITY && !__atomic_exchange_n(&j->drive->misplace_logged, 1, __ATOMIC_RELAXED)) {
            yc_log(YC_LOG_WARN,
                   "event=placement_refused drive=%s placed_set=%u placed_slot=%u asked_set=%u asked_slot=%u "
                   "same_cluster=%s",
                   j->drive->name, info.set, info.slot, want.set, want.slot,
                   memcmp(info.cluster_id, want.cluster_id, STORE_ID_LEN) == 0 ? "yes" : "no");
        } else if (ret != 0 && ret != STORE_EIDENTITY) {
            return ret;
        }
    } else {
        store_identity_get(j->drive->identity, &info);
    }
    if ((ret = store_identity_encode(&info, text, sizeof(text), &len)) != 0)
        return ret;
    return answer_bytes(j, text, len);
}

/* ---------------------------------------------------------------- dispatch */

int store_server_run_op(store_server_t *s, store_srv_job_t *j)
{
    switch (j->op) {
    case STORE_OP_PING:
        return 0;
    case STORE_OP_SHARD_CREATE:
        return op_shard_create(s, j);
    case STORE_OP_SHARD_COMMIT:
        return op_shard_end(s, j, 1);
    case STORE_OP_SHARD_ABORT:
        return op_shard_end(s, j, 0);
    case STORE_OP_SHARD_STAT:
        return op_shard_stat(j);
    case STORE_OP_SHARD_DELETE:
        return store_shard_delete(j->drive->drive, j->data_id, j->index);
    case STORE_OP_SHARD_VERIFY:
        return store_shard_verify(j->drive->drive, j->data_id, j->index);
    case STORE_OP_OBJECT_PUT:
        return op_object_record(j, 0);
    case STORE_OP_OBJECT_PRUNE:
        return op_object_record(j, 1);
    case STORE_OP_OBJECT_TAKEBACK:
        return op_object_record(j, 2);
    case STORE_OP_OBJECT_UPDATE:
        return op_object_record(j, 3);
    case STORE_OP_OBJECT_GET:
        return op_object_ref(j, 1);
    case STORE_OP_OBJECT_DELETE:
        return op_object_ref(j, 0);
    case STORE_OP_RECORD_PUT:
        return op_record_put(j);
    case STORE_OP_RECORD_GET:
        return op_record_key(j, 1);
    case STORE_OP_RECORD_DELETE:
        return op_record_key(j, 0);
    case STORE_OP_RECORD_SCAN:
        return op_record_scan(j);
    case STORE_OP_LOCK_ACQUIRE:
        return op_lock(j, 1);
    case STORE_OP_LOCK_RELEASE:
        return op_lock(j, 0);
    case STORE_OP_IDENTITY:
        return op_identity(j);
    default:
        return STORE_EINVAL;
    }
}
