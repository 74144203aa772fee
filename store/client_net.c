/* client_net.c — the network transport: a drive served by a yc-store daemon.
 *
 * Wire format (HTTP/1.1, one request per operation, keep-alive):
 *
 *   METHOD /v1/<drive>/<operation> HTTP/1.1
 *   host: <host>:<port>
 *   content-length: <n>                       always present, 0 included
 *   x-yc-date: <Unix seconds>
 *   x-yc-nonce: <32 hex digits, unique per request>
 *   x-yc-content-sha256: <hex SHA-256 of the body, 64 digits>
 *   x-yc-drive-id: <32 hex digits: the target drive's id>   (absent only for the unbound calls)
 *   x-yc-signature: hex HMAC-SHA256(cluster secret,
 *                       METHOD "\n" target "\n" date "\n" nonce "\n" x-yc-content-sha256
 *                       ["\n" x-yc-drive-id])
 *
 * target is the request target as sent, query included. The daemon refuses (401) a date more
 * than 5 minutes from its clock, a signature that does not match (compared in constant time)
 * and a signature it has already accepted within the window (replay), all from the head, before
 * it reads any of the body; the body is then taken only if its SHA-256 is the one declared, and
 * whatever it was written to is dropped otherwise (server_auth.c argues why that is as sound as
 * hashing the body first). The nonce is what makes
 * every legitimate request's signature unique: without it two identical reads sent within the
 * same second (two GETs of one object) would look like a replay of each other.
 *
 * Binding. Every call is signed for the drive's id (random per drive, store/identity.c), which
 * the client learns from the drive's identity answer; a daemon refuses a call signed for another
 * drive with 401 and x-yc-error STORE_EIDENTITY (then the client reads the id again and resends
 * once: the drive was replaced under its name), and refuses unbound calls (401, STORE_EAUTH) but
 * for GET ping, an empty POST identity and GET /stats, which change nothing. So a call captured on
 * its way to one node cannot be replayed on another, whose drives may bear the same names.
 *
 * Answers always carry content-length and x-yc-answer-nonce (32 hex digits, unique per answer).
 * 200 carries the result; any other status carries x-yc-error: <negative code>
 * (common/errors.h: a STORE_ code or -errno, one value each across the whole error space, and
 * both ends are the same build), which the client returns as is. Every answer's body ends with
 * a 16-byte tag (net_mac.c): Poly1305 under a key derived from the cluster secret, the request's
 * signature and the answer nonce, over status, code, the payload's length and the payload. The
 * client checks it before it believes any of the answer; one that does not check is STORE_EIO
 * (an untagged or foreign 401 is STORE_EAUTH: a daemon with another secret cannot tag for us).
 * The results below are the payload, the tag left out.
 *
 * Operations (<id>: 32 hex digits of the data id; <i>: decimal shard index; integers in bodies
 * are little-endian; lp(x) is a u32 length followed by the bytes; keys are binary and so only
 * ever travel in bodies, never in the target):
 *
 *   GET    ping                                     -> empty (the drive is served)
 *   POST   shards/<id>/<i>/create                   -> writer token, 32 hex digits
 *   POST   shards/<id>/<i>/append?w=<token>&s=<seq> body: one block -> empty
 *   POST   shards/<id>/<i>/commit?w=<token>         -> empty
 *   POST   shards/<id>/<i>/abort?w=<token>          -> empty
 *   GET    shards/<id>/<i>?off=<u64>&len=<u64>      -> exactly len bytes, checksums verified, streamed:
 *                                                   the tag follows the last piece
 *   GET    shards/<id>/<i>/stat                     -> u64 data length
 *   DELETE shards/<id>/<i>                          -> empty
 *   POST   shards/<id>/<i>/verify                   -> empty
 *   POST   objects/put | prune | takeback | update  body: an encoded meta_object record
 *   POST   objects/get | objects/delete             body: lp(bucket) lp(key) u8 has_vid [vid]
 *                                                   -> get: the raw record
 *   POST   records/put                              body: lp(key) value (the rest of the body)
 *   POST   records/get | records/delete             body: the key -> get: the value
 *   POST   records/scan                             body: lp(prefix) u8 seek_mode lp(seek) u64 limit
 *                                                   -> u8 more, then lp(key) lp(value) per record
 *                                                   (a skip note of a live scan: an empty value)
 *   POST   locks/acquire                            body: lp(name) owner[16] u64 lease_ns
 *                                                   -> empty, or 423 with STORE_EBUSY
 *   POST   locks/release                            body: lp(name) owner[16] -> empty
 *   POST   identity                                 body: empty, or a placement (identity text with
 *                                                   cluster_id, set, slot) -> the drive's identity text
 *
 * and, not for a drive: GET /stats -> the daemon's counters as text, one "name value" line each.
 *
 * Bodies: a shard append's block streams to the disk as it arrives (at most STORE_NET_MAX_BODY);
 * every other body is read whole, at most the daemon's --max-small-body (413 past it). Bodies
 * always come with content-length, never chunked.
 *
 * Shard writes stream: the daemon keeps the writer under a random token and each append goes
 * out as soon as the caller has the block. seq numbers appends from 1; the daemon answers a
 * repeat of the last seq with the result it gave, without appending again, so an append whose
 * answer was lost can be resent safely. Scans come in pages (STORE_NET_SCAN_PAGE records or
 * about STORE_NET_SCAN_BYTES): seek_mode 0 starts at the prefix, 1 at the first key >= seek,
 * 2 at the first key > seek, which is how the next page continues after the last key seen;
 * `more` says the page was cut.
 *
 * This file is the operations' wire encoding; the connections, the signing and the exchange of
 * one call are net_conn.c's.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/net_conn_internal.h"
#include "store/store_internal.h"

#define NET_SHARD_PATH_MAX (16 + STORE_NET_DRIVE_NAME_MAX + 2 * META_ID_LEN + 12) /* /v1/<d>/shards/<id>/<i> */

/* ---------------------------------------------------------------- shared wire pieces */

int store_net_drive_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > STORE_NET_DRIVE_NAME_MAX)
        return 0;
    if (len <= 2 && name[0] == '.' && (len == 1 || name[1] == '.'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- client state */

typedef struct {
    store_client_t base;
    char *drive;
    store_net_conn_t *conn; /* the daemon's connections */
    pthread_mutex_t id_mutex;
    char drive_id[STORE_NET_DRIVE_ID_HEX + 1]; /* the drive's id as it last told it; "" until then */
} net_client_t;

typedef struct {
    store_client_writer_t base;
    char token[STORE_NET_TOKEN_HEX + 1];
    char shard_path[NET_SHARD_PATH_MAX];
    uint64_t seq;
} net_writer_t;

static net_client_t *net_of(store_client_t *c)
{
    return (net_client_t *)c;
}

static void shard_target(net_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index, char *out, size_t cap)
{
    char hex[2 * META_ID_LEN + 1];
    yc_hex(data_id, META_ID_LEN, hex);
    snprintf(out, cap, "/v1/%s/shards/%s/%u", c->drive, hex, index);
}

static void set_target(store_net_call_t *call, net_client_t *c, const char *op)
{
    snprintf(call->target, sizeof(call->target), "/v1/%s/%s", c->drive, op);
}

/* ---------------------------------------------------------------- binding to the drive */

/* Asks the drive who it is (an unbound read, the only kind of call the daemon takes unbound
 * besides ping) and keeps its id for the calls that follow. The answer is authenticated like
 * every other (net_mac.c), so the id is the one the daemon serving this name really has. */
static int identity_read(net_client_t *c, store_identity_info_t *out)
{
    store_net_call_t call = {.method = "POST", .idempotent = 1};
    int ret;

    set_target(&call, c, "identity");
    if ((ret = store_net_call(c->conn, &call)) == 0 &&
        (store_identity_decode((const char *)call.resp, call.resp_len, out) != 0 || !out->has_drive_id))
        ret = STORE_EIO;
    store_net_call_reset(&call);
    if (ret == 0) {
        pthread_mutex_lock(&c->id_mutex);
        yc_hex(out->drive_id, STORE_ID_LEN, c->drive_id);
        pthread_mutex_unlock(&c->id_mutex);
    }
    return ret;
}

/* The drive id the next call is bound to, into hex: learnt from the drive first when unknown. */
static int drive_id_of(net_client_t *c, char hex[STORE_NET_DRIVE_ID_HEX + 1])
{
    store_identity_info_t info;

    pthread_mutex_lock(&c->id_mutex);
    memcpy(hex, c->drive_id, sizeof(c->drive_id));
    pthread_mutex_unlock(&c->id_mutex);
    if (hex[0] != '\0')
        return 0;
    int ret = identity_read(c, &info);
    if (ret == 0)
        yc_hex(info.drive_id, STORE_ID_LEN, hex);
    return ret;
}

/* Runs a call bound to the drive (x-yc-drive-id, signed): a daemon refuses it for any drive but
 * this one. A refusal for another drive (STORE_EIDENTITY: a drive put in its place since the id
 * was learnt) comes from the head, before anything was done, so the call is bound to the drive's
 * new id and sent once more; whether that drive may be used is the health prober's to decide
 * (it fences a drive whose placement is wrong). */
static int bound_call(net_client_t *c, store_net_call_t *call)
{
    char hex[STORE_NET_DRIVE_ID_HEX + 1];
    store_identity_info_t info;
    int ret;

    if ((ret = drive_id_of(c, hex)) != 0)
        return ret;
    call->drive_id_hex = hex;
    ret = store_net_call(c->conn, call);
    if (ret == STORE_EIDENTITY && identity_read(c, &info) == 0) {
        yc_hex(info.drive_id, STORE_ID_LEN, hex);
        ret = store_net_call(c->conn, call);
    }
    call->drive_id_hex = NULL;
    return ret;
}

/* A bound call in flight (the batches' split calls): the call, the drive id it is bound to,
 * and what its body was made from. */
typedef struct {
    store_net_call_t call;
    char hex[STORE_NET_DRIVE_ID_HEX + 1];
    int ret; /* a failure before the request could go out */
    meta_buf_t buf;
} net_pending_t;

/* bound_call's first half: the request goes out, its answer is left for bound_finish. */
static void bound_start(net_client_t *c, net_pending_t *p)
{
    if ((p->ret = drive_id_of(c, p->hex)) != 0)
        return;
    p->call.drive_id_hex = p->hex;
    store_net_call_start(c->conn, &p->call);
}

static int bound_finish(net_client_t *c, net_pending_t *p)
{
    store_identity_info_t info;
    int ret;

    if (p->ret != 0)
        return p->ret;
    ret = store_net_call_finish(c->conn, &p->call);
    if (ret == STORE_EIDENTITY && identity_read(c, &info) == 0) { /* as bound_call */
        yc_hex(info.drive_id, STORE_ID_LEN, p->hex);
        ret = store_net_call(c->conn, &p->call);
    }
    p->call.drive_id_hex = NULL;
    return ret;
}

static void pending_free(net_pending_t *p)
{
    store_net_call_reset(&p->call);
    meta_buf_dispose(&p->buf);
    free(p);
}

/* ---------------------------------------------------------------- operations */

static int net_ping(store_client_t *bc)
{
    store_net_call_t call = {.method = "GET", .idempotent = 1};
    set_target(&call, net_of(bc), "ping"); /* unbound: it changes nothing and tells nothing */
    int ret = store_net_call(net_of(bc)->conn, &call);
    store_net_call_reset(&call);
    return ret;
}

static int net_shard_create(store_client_t *bc, const uint8_t data_id[META_ID_LEN], uint32_t index,
                            store_client_writer_t **out)
{
    net_client_t *c = net_of(bc);
    store_net_call_t call = {.method = "POST"};
    net_writer_t *w = calloc(1, sizeof(*w));
    int ret;

    if (w == NULL)
        return -ENOMEM;
    shard_target(c, data_id, index, w->shard_path, sizeof(w->shard_path));
    snprintf(call.target, sizeof(call.target), "%s/create", w->shard_path);
    if ((ret = bound_call(c, &call)) != 0)
        goto fail;
    if (call.resp_len != STORE_NET_TOKEN_HEX) {
        ret = STORE_EIO;
        goto fail;
    }
    memcpy(w->token, call.resp, STORE_NET_TOKEN_HEX);
    w->base.client = bc;
    store_net_call_reset(&call);
    *out = &w->base;
    return 0;

fail:
    store_net_call_reset(&call);
    free(w);
    return ret;
}

static int net_shard_append(store_client_writer_t *bw, const void *block, size_t len)
{
    net_writer_t *w = (net_writer_t *)bw;
    store_net_call_t call = {.method = "POST", .idempotent = 1, .body = {block}, .body_len = {len}};
    int ret;

    if (len == 0 || len > STORE_NET_MAX_BODY)
        return STORE_EINVAL;
    /* a new seq per call, so the daemon can tell a resend (same seq) from the next block */
    snprintf(call.target, sizeof(call.target), "%s/append?w=%s&s=%llu", w->shard_path, w->token,
             (unsigned long long)++w->seq);
    ret = bound_call(net_of(bw->client), &call);
    store_net_call_reset(&call);
    return ret;
}

static void *net_shard_append_send(store_client_writer_t *bw, const void *block, size_t len)
{
    net_writer_t *w = (net_writer_t *)bw;
    net_pending_t *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return NULL;
    p->call = (store_net_call_t){.method = "POST", .idempotent = 1, .body = {block}, .body_len = {len}};
    if (len == 0 || len > STORE_NET_MAX_BODY) {
        p->ret = STORE_EINVAL;
        return p;
    }
    snprintf(p->call.target, sizeof(p->call.target), "%s/append?w=%s&s=%llu", w->shard_path, w->token,
             (unsigned long long)++w->seq); /* as net_shard_append */
    bound_start(net_of(bw->client), p);
    return p;
}

static int net_shard_append_recv(store_client_writer_t *bw, void *pending)
{
    net_pending_t *p = pending;
    int ret = bound_finish(net_of(bw->client), p);
    pending_free(p);
    return ret;
}

static int writer_end(store_client_writer_t *bw, const char *op)
{
    net_writer_t *w = (net_writer_t *)bw;
    store_net_call_t call = {.method = "POST", .idempotent = op[0] == 'a'}; /* abort twice is abort */
    snprintf(call.target, sizeof(call.target), "%s/%s?w=%s", w->shard_path, op, w->token);
    int ret = bound_call(net_of(bw->client), &call);
    store_net_call_reset(&call);
    free(w);
    return ret;
}

static int net_shard_commit(store_client_writer_t *bw)
{
    return writer_end(bw, "commit");
}

static void net_shard_abort(store_client_writer_t *bw)
{
    /* A lost abort is not fatal: the daemon drops idle writers by itself. */
    (void)writer_end(bw, "abort");
}

static int net_shard_read(store_client_t *bc, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t off,
                          size_t len, void *buf)
{
    net_client_t *c = net_of(bc);
    store_net_call_t call = {.method = "GET", .idempotent = 1, .dst = buf, .dst_len = len};
    char path[NET_SHARD_PATH_MAX];

    if (len > STORE_NET_MAX_BODY)
        return STORE_EINVAL;
    shard_target(c, data_id, index, path, sizeof(path));
    snprintf(call.target, sizeof(call.target), "%s?off=%llu&len=%zu", path, (unsigned long long)off, len);
    int ret = bound_call(c, &call);
    store_net_call_reset(&call);
    return ret;
}

static void *net_shard_read_send(store_client_t *bc, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t off,
                                 size_t len, void *buf)
{
    net_client_t *c = net_of(bc);
    char path[NET_SHARD_PATH_MAX];
    net_pending_t *p;

    if ((p = calloc(1, sizeof(*p))) == NULL)
        return NULL;
    p->call = (store_net_call_t){.method = "GET", .idempotent = 1, .dst = buf, .dst_len = len};
    if (len > STORE_NET_MAX_BODY) {
        p->ret = STORE_EINVAL;
        return p;
    }
    shard_target(c, data_id, index, path, sizeof(path));
    snprintf(p->call.target, sizeof(p->call.target), "%s?off=%llu&len=%zu", path, (unsigned long long)off, len);
    bound_start(c, p);
    return p;
}

static int net_shard_read_recv(store_client_t *bc, void *pending)
{
    net_pending_t *p = pending;
    int ret = bound_finish(net_of(bc), p);
    pending_free(p);
    return ret;
}

static int net_shard_stat(store_client_t *bc, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t *size)
{
    net_client_t *c = net_of(bc);
    uint8_t raw[8] = {0};
    store_net_call_t call = {.method = "GET", .idempotent = 1, .dst = raw, .dst_len = sizeof(raw)};
    char path[NET_SHARD_PATH_MAX];

    shard_target(c, data_id, index, path, sizeof(path));
    snprintf(call.target, sizeof(call.target), "%s/stat", path);
    int ret = bound_call(c, &call);
    store_net_call_reset(&call);
    if (ret == 0)
        *size = yc_get_le64(raw);
    return ret;
}

static int shard_simple(store_client_t *bc, const char *method, const uint8_t data_id[META_ID_LEN], uint32_t index,
                        const char *suffix, int idempotent)
{
    net_client_t *c = net_of(bc);
    store_net_call_t call = {.method = method, .idempotent = idempotent};
    char path[NET_SHARD_PATH_MAX];

    shard_target(c, data_id, index, path, sizeof(path));
    snprintf(call.target, sizeof(call.target), "%s%s", path, suffix);
    int ret = bound_call(c, &call);
    store_net_call_reset(&call);
    return ret;
}

static int net_shard_delete(store_client_t *bc, const uint8_t data_id[META_ID_LEN], uint32_t index)
{
    /* not resent: a second delete would answer ENOENT for a delete that worked */
    return shard_simple(bc, "DELETE", data_id, index, "", 0);
}

static int net_shard_verify(store_client_t *bc, const uint8_t data_id[META_ID_LEN], uint32_t index)
{
    return shard_simple(bc, "POST", data_id, index, "/verify", 1);
}

static int object_record_call(store_client_t *bc, const char *op, const meta_object_t *r)
{
    store_net_call_t call = {.method = "POST", .idempotent = 1};
    meta_buf_t buf = {0};
    int ret;

    if ((ret = meta_object_encode(r, &buf)) != 0)
        return store_meta_err(ret);
    set_target(&call, net_of(bc), op);
    call.body[0] = buf.base;
    call.body_len[0] = buf.len;
    ret = bound_call(net_of(bc), &call);
    store_net_call_reset(&call);
    meta_buf_dispose(&buf);
    return ret;
}

static int net_object_put(store_client_t *bc, const meta_object_t *r)
{
    return object_record_call(bc, "objects/put", r);
}

static int net_object_prune(store_client_t *bc, const meta_object_t *keep)
{
    return object_record_call(bc, "objects/prune", keep);
}

static int net_object_takeback(store_client_t *bc, const meta_object_t *r)
{
    return object_record_call(bc, "objects/takeback", r);
}

static int net_object_update(store_client_t *bc, const meta_object_t *r)
{
    return object_record_call(bc, "objects/update", r);
}

/* lp(bucket) lp(key) u8 has_vid [vid] into out; the length, or STORE_EINVAL. */
static int object_ref_encode(meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (bucket.len > META_NS_MAX || key.len > META_KEY_MAX || 9 + bucket.len + key.len + META_ID_LEN > cap)
        return STORE_EINVAL;
    yc_put_le32(out + n, (uint32_t)bucket.len);
    memcpy(out + n + 4, bucket.base, bucket.len);
    n += 4 + bucket.len;
    yc_put_le32(out + n, (uint32_t)key.len);
    memcpy(out + n + 4, key.base, key.len);
    n += 4 + key.len;
    out[n++] = vid != NULL;
    if (vid != NULL) {
        memcpy(out + n, vid, META_ID_LEN);
        n += META_ID_LEN;
    }
    return (int)n;
}

static int net_object_get(store_client_t *bc, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid,
                          meta_buf_t *raw, meta_object_t *out)
{
    uint8_t body[16 + META_NS_MAX + META_KEY_MAX + META_ID_LEN];
    store_net_call_t call = {.method = "POST", .idempotent = 1};
    int n = object_ref_encode(bucket, key, vid, body, sizeof(body)), ret;

    if (n < 0)
        return n;
    set_target(&call, net_of(bc), "objects/get");
    call.body[0] = body;
    call.body_len[0] = (size_t)n;
    if ((ret = bound_call(net_of(bc), &call)) != 0)
        goto fail;
    if ((ret = meta_object_decode(call.resp, call.resp_len, out)) != 0) {
        ret = store_meta_err(ret);
        goto fail;
    }
    /* *out points into the answer body, which passes to the caller as *raw */
    raw->base = call.resp;
    raw->len = raw->cap = call.resp_len;
    call.resp = NULL;
    return 0;

fail:
    store_net_call_reset(&call);
    return ret;
}

static int net_object_delete(store_client_t *bc, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid)
{
    uint8_t body[16 + META_NS_MAX + META_KEY_MAX + META_ID_LEN];
    store_net_call_t call = {.method = "POST"};
    int n = object_ref_encode(bucket, key, vid, body, sizeof(body));

    if (n < 0)
        return n;
    set_target(&call, net_of(bc), "objects/delete");
    call.body[0] = body;
    call.body_len[0] = (size_t)n;
    int ret = bound_call(net_of(bc), &call);
    store_net_call_reset(&call);
    return ret;
}

static int net_record_put(store_client_t *bc, const meta_key_t *key, const void *val, size_t vlen)
{
    uint8_t head[4 + META_ENCODED_KEY_MAX];
    store_net_call_t call = {.method = "POST", .idempotent = 1};

    if (key->len > META_ENCODED_KEY_MAX || vlen > STORE_NET_MAX_BODY - sizeof(head))
        return STORE_EINVAL;
    yc_put_le32(head, (uint32_t)key->len);
    memcpy(head + 4, key->buf, key->len);
    set_target(&call, net_of(bc), "records/put");
    call.body[0] = head;
    call.body_len[0] = 4 + key->len;
    call.body[1] = val; /* the value goes out from the caller's memory */
    call.body_len[1] = vlen;
    int ret = bound_call(net_of(bc), &call);
    store_net_call_reset(&call);
    return ret;
}

static int net_record_get(store_client_t *bc, const meta_key_t *key, void **val, size_t *vlen)
{
    store_net_call_t call = {.method = "POST", .idempotent = 1, .body = {key->buf}, .body_len = {key->len}};
    int ret;

    set_target(&call, net_of(bc), "records/get");
    if ((ret = bound_call(net_of(bc), &call)) != 0) {
        store_net_call_reset(&call);
        return ret;
    }
    *val = call.resp;
    *vlen = call.resp_len;
    return 0;
}

static void *net_record_get_send(store_client_t *bc, const meta_key_t *key)
{
    net_pending_t *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return NULL;
    p->call = (store_net_call_t){.method = "POST", .idempotent = 1, .body = {key->buf}, .body_len = {key->len}};
    set_target(&p->call, net_of(bc), "records/get");
    bound_start(net_of(bc), p);
    return p;
}

static int net_record_get_recv(store_client_t *bc, void *pending, void **val, size_t *vlen)
{
    net_pending_t *p = pending;
    int ret = bound_finish(net_of(bc), p);

    if (ret == 0) {
        *val = p->call.resp;
        *vlen = p->call.resp_len;
        p->call.resp = NULL;
    }
    pending_free(p);
    return ret;
}

/* An object record call (objects/put, objects/prune) put on its way. */
static void *object_record_send(store_client_t *bc, const char *op, const meta_object_t *r)
{
    net_pending_t *p = calloc(1, sizeof(*p));
    int ret;

    if (p == NULL)
        return NULL;
    p->call = (store_net_call_t){.method = "POST", .idempotent = 1};
    if ((ret = meta_object_encode(r, &p->buf)) != 0) {
        p->ret = store_meta_err(ret);
        return p;
    }
    set_target(&p->call, net_of(bc), op);
    p->call.body[0] = p->buf.base;
    p->call.body_len[0] = p->buf.len;
    bound_start(net_of(bc), p);
    return p;
}

static void *net_object_put_send(store_client_t *bc, const meta_object_t *r)
{
    return object_record_send(bc, "objects/put", r);
}

static void *net_object_prune_send(store_client_t *bc, const meta_object_t *keep)
{
    return object_record_send(bc, "objects/prune", keep);
}

static int net_object_put_recv(store_client_t *bc, void *pending)
{
    net_pending_t *p = pending;
    int ret = bound_finish(net_of(bc), p);
    pending_free(p);
    return ret;
}

static int net_record_delete(store_client_t *bc, const meta_key_t *key)
{
    store_net_call_t call = {.method = "POST", .idempotent = 1, .body = {key->buf}, .body_len = {key->len}};
    set_target(&call, net_of(bc), "records/delete");
    int ret = bound_call(net_of(bc), &call);
    store_net_call_reset(&call);
    return ret;
}

int store_net_scan_deliver(const uint8_t *p, size_t len, size_t limit, size_t *seen, meta_scan_cb cb, void *arg,
                           meta_key_t *last, int *cb_ret)
{
    size_t pos = 1;
    int more, got = 0;

    if (len < 1 || p[0] > 1)
        return STORE_EIO;
    more = p[0];
    while (pos < len) {
        uint32_t klen, vlen;
        if (len - pos < 4 || (klen = yc_get_le32(p + pos)) > len - pos - 4 || len - pos - 4 - klen < 4)
            return STORE_EIO;
        const uint8_t *k = p + pos + 4;
        pos += 4 + klen;
        if ((vlen = yc_get_le32(p + pos)) > len - pos - 4)
            return STORE_EIO;
        const uint8_t *v = p + pos + 4;
        pos += 4 + vlen;
        if (klen > META_ENCODED_KEY_MAX)
            return STORE_ECORRUPT;
        int r = cb(arg, k, klen, v, vlen);
        if (r != 0) {
            *cb_ret = r < 0 ? r : 0;
            return 1;
        }
        if (limit != 0 && ++*seen == limit)
            return 1;
        memcpy(last->buf, k, klen);
        last->len = klen;
        got = 1;
    }
    /* a cut page with nothing in it would loop forever */
    return more && got ? 0 : 1;
}

/* The scan's mode byte: 0 from the prefix, 1 from seek, 2 after seek (the next page), plus
 * SCAN_NEWEST for store_record_scan_newest, or SCAN_LIVE for store_record_scan_live. */
#define SCAN_NEWEST 4
#define SCAN_LIVE   8

static int net_record_scan(store_client_t *bc, const meta_key_t *prefix, const meta_key_t *seek, size_t limit,
                           int newest, meta_scan_cb cb, void *arg)
{
    uint8_t body[4 + META_ENCODED_KEY_MAX + 1 + 4 + META_ENCODED_KEY_MAX + 8];
    meta_key_t last;
    size_t seen = 0;
    int mode = seek != NULL ? 1 : 0, ret, first = 1;

    if (prefix->len > META_ENCODED_KEY_MAX || (seek != NULL && seek->len > META_ENCODED_KEY_MAX))
        return STORE_EINVAL;
    if (seek != NULL) {
        memcpy(last.buf, seek->buf, seek->len);
        last.len = seek->len;
    } else {
        last.len = 0;
    }
    for (;;) {
        store_net_call_t call = {.method = "POST", .idempotent = 1};
        size_t n = 0;
        int cb_ret = 0;

        yc_put_le32(body, (uint32_t)prefix->len);
        memcpy(body + 4, prefix->buf, prefix->len);
        n = 4 + prefix->len;
        body[n++] = (uint8_t)(mode | (newest == 2 ? SCAN_LIVE : newest ? SCAN_NEWEST : 0));
        yc_put_le32(body + n, (uint32_t)last.len);
        memcpy(body + n + 4, last.buf, last.len);
        n += 4 + last.len;
        yc_put_le64(body + n, limit != 0 ? limit - seen : 0);
        n += 8;
        set_target(&call, net_of(bc), "records/scan");
        call.body[0] = body;
        call.body_len[0] = n;
        if ((ret = bound_call(net_of(bc), &call)) != 0) {
            store_net_call_reset(&call);
            if (ret == STORE_EINVAL && newest && first) {
                newest--; /* a daemon that predates SCAN_LIVE: the newest scan; SCAN_NEWEST: the plain one */
                continue;
            }
            return ret;
        }
        first = 0;
        ret = store_net_scan_deliver(call.resp, call.resp_len, limit, &seen, cb, arg, &last, &cb_ret);
        store_net_call_reset(&call);
        if (ret < 0)
            return ret;
        if (ret == 1)
            return cb_ret;
        mode = 2; /* continue after the last key delivered */
    }
}

/* lp(name) owner[16] [le64 lease]: the body of a lock call. */
static int lock_call(store_client_t *bc, const char *op, meta_bytes_t name, const uint8_t owner[META_ID_LEN],
                     const int64_t *lease_ns)
{
    uint8_t body[4 + META_LOCK_NAME_MAX + META_ID_LEN + 8];
    store_net_call_t call = {.method = "POST", .idempotent = 1};
    size_t n = 0;

    if (name.len > META_LOCK_NAME_MAX)
        return STORE_EINVAL;
    yc_put_le32(body, (uint32_t)name.len);
    memcpy(body + 4, name.base, name.len);
    n = 4 + name.len;
    memcpy(body + n, owner, META_ID_LEN);
    n += META_ID_LEN;
    if (lease_ns != NULL) {
        yc_put_le64(body + n, (uint64_t)*lease_ns);
        n += 8;
    }
    set_target(&call, net_of(bc), op);
    call.body[0] = body;
    call.body_len[0] = n;
    int ret = bound_call(net_of(bc), &call);
    store_net_call_reset(&call);
    return ret;
}

static int net_identity(store_client_t *bc, const store_identity_info_t *placement, store_identity_info_t *out)
{
    net_client_t *c = net_of(bc);
    store_net_call_t call = {.method = "POST", .idempotent = 1}; /* placing twice alike is placing once */
    char text[STORE_IDENTITY_TEXT_MAX];
    size_t len = 0;
    int ret;

    /* read first (unbound): a placed drive is not placed again, and a fresh one's placement is
     * then bound to the id it just gave, so that it cannot be replayed onto another fresh drive */
    if ((ret = identity_read(c, out)) != 0 || placement == NULL || out->placed)
        return ret;
    if ((ret = store_identity_encode(placement, text, sizeof(text), &len)) != 0)
        return ret;
    call.body[0] = text;
    call.body_len[0] = len;
    set_target(&call, c, "identity");
    if ((ret = bound_call(c, &call)) == 0 && store_identity_decode((const char *)call.resp, call.resp_len, out) != 0)
        ret = STORE_EIO;
    store_net_call_reset(&call);
    return ret;
}

/* Both are safe to resend: a second acquire by the same owner renews, a second release finds
 * the lock free or held by someone else and changes nothing. */
static int net_lock_acquire(store_client_t *bc, meta_bytes_t name, const uint8_t owner[META_ID_LEN], int64_t lease_ns)
{
    return lock_call(bc, "locks/acquire", name, owner, &lease_ns);
}

static int net_lock_release(store_client_t *bc, meta_bytes_t name, const uint8_t owner[META_ID_LEN])
{
    return lock_call(bc, "locks/release", name, owner, NULL);
}

static void net_free(store_client_t *bc)
{
    net_client_t *c = net_of(bc);
    store_net_conn_close(c->conn);
    pthread_mutex_destroy(&c->id_mutex);
    free(c->drive);
    free(c);
}

static int net_link_problem(store_client_t *bc, char *buf, size_t len)
{
    return store_net_conn_link_problem(((net_client_t *)bc)->conn, buf, len);
}

static const store_client_ops_t net_ops = {
    .free = net_free,
    .link_problem = net_link_problem,
    .ping = net_ping,
    .shard_create = net_shard_create,
    .shard_append = net_shard_append,
    .shard_commit = net_shard_commit,
    .shard_abort = net_shard_abort,
    .shard_read = net_shard_read,
    .shard_stat = net_shard_stat,
    .shard_delete = net_shard_delete,
    .shard_verify = net_shard_verify,
    .object_put = net_object_put,
    .object_prune = net_object_prune,
    .object_takeback = net_object_takeback,
    .object_update = net_object_update,
    .object_get = net_object_get,
    .object_delete = net_object_delete,
    .record_put = net_record_put,
    .record_get = net_record_get,
    .record_delete = net_record_delete,
    .record_scan = net_record_scan,
    .lock_acquire = net_lock_acquire,
    .lock_release = net_lock_release,
    .identity = net_identity,
    .record_get_send = net_record_get_send,
    .record_get_recv = net_record_get_recv,
    .object_put_send = net_object_put_send,
    .object_prune_send = net_object_prune_send,
    .shard_read_send = net_shard_read_send,
    .shard_read_recv = net_shard_read_recv,
    .shard_append_send = net_shard_append_send,
    .shard_append_recv = net_shard_append_recv,
    .object_put_recv = net_object_put_recv,
};

int store_client_remote(const store_remote_config_t *cfg, store_client_t **out)
{
    net_client_t *c;
    int ret;

    if (cfg->host == NULL || cfg->drive == NULL || cfg->secret == NULL || cfg->port == 0 ||
        !store_net_drive_name_ok(cfg->drive, strlen(cfg->drive)) || strlen(cfg->host) > 255)
        return STORE_EINVAL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return -ENOMEM;
    c->base.ops = &net_ops;
    pthread_mutex_init(&c->id_mutex, NULL);
    if ((c->drive = strdup(cfg->drive)) == NULL) {
        ret = -ENOMEM;
        goto fail;
    }
    if ((ret = store_net_conn_open(cfg, &c->conn)) != 0)
        goto fail;
    store_net_conn_watch(c->conn, &c->base.fence);
    snprintf(c->base.name, sizeof(c->base.name), "remote:%s/%s", store_net_conn_host(c->conn), c->drive);
    *out = &c->base;
    return 0;

fail:
    net_free(&c->base);
    return ret;
}
