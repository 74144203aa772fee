/* server_route.c — the yc-store daemon's routing: a request's method, path and query (client
 * bytes, checked before anything else reads them) into the operation and its arguments in the
 * job. The targets are listed in client_net.c. tests/fuzz/fuzz_store_head.c drives it.
 */
#include "store/server_internal.h"
#include <string.h>
#include "common/bytes.h"

static int method_is(const yc_http_req_t *req, const char *m)
{
    return h2o_memis(req->method.base, req->method.len, m, strlen(m));
}

static int parse_query(store_srv_job_t *j, const char *q, size_t len)
{
    while (len > 0) {
        const char *amp = memchr(q, '&', len);
        size_t plen = amp != NULL ? (size_t)(amp - q) : len;
        const char *eq = memchr(q, '=', plen);
        if (eq == NULL)
            return -1;
        size_t klen = (size_t)(eq - q), vlen = plen - klen - 1;
        const char *v = eq + 1;
        if (klen == 1 && q[0] == 'w') {
            if (vlen != STORE_NET_TOKEN_HEX || yc_unhex(v, 16, j->token) != 0)
                return -1;
            j->has_token = 1;
        } else if (klen == 1 && q[0] == 's') {
            if (yc_decimal_u64(v, vlen, &j->seq) != 0)
                return -1;
            j->has_seq = 1;
        } else if (klen == 3 && memcmp(q, "off", 3) == 0) {
            if (yc_decimal_u64(v, vlen, &j->off) != 0)
                return -1;
            j->has_off = 1;
        } else if (klen == 3 && memcmp(q, "len", 3) == 0) {
            if (yc_decimal_u64(v, vlen, &j->len) != 0)
                return -1;
            j->has_len = 1;
        }
        if (amp == NULL)
            break;
        len -= plen + 1;
        q = amp + 1;
    }
    return 0;
}

/* Splits the next '/'-separated segment off *p. */
static int next_segment(const char **p, const char *end, h2o_iovec_t *seg)
{
    if (*p >= end)
        return 0;
    const char *slash = memchr(*p, '/', (size_t)(end - *p));
    const char *stop = slash != NULL ? slash : end;
    *seg = h2o_iovec_init(*p, (size_t)(stop - *p));
    *p = slash != NULL ? slash + 1 : end;
    return 1;
}

static int seg_is(h2o_iovec_t seg, const char *s)
{
    return h2o_memis(seg.base, seg.len, s, strlen(s));
}

void store_server_route(store_served_drive_t *drives, size_t ndrives, store_srv_job_t *j)
{
    const yc_http_req_t *req = j->req;
    size_t plen = req->path.len;
    const char *p = req->path.base, *end = p + plen;
    h2o_iovec_t seg, a = {NULL, 0}, b = {NULL, 0}, c = {NULL, 0}, d = {NULL, 0};
    uint64_t index;

    j->route_err = STORE_EINVAL;
    if (h2o_memis(p, plen, H2O_STRLIT("/stats")) && method_is(req, "GET")) {
        j->op = STORE_OP_STATS;
        j->route_err = 0;
        return;
    }
    if (plen < 4 || memcmp(p, "/v1/", 4) != 0)
        return;
    p += 4;
    if (!next_segment(&p, end, &seg))
        return;
    for (size_t i = 0; i < ndrives; i++)
        if (seg_is(seg, drives[i].name))
            j->drive = &drives[i];
    if (j->drive == NULL) {
        j->route_err = STORE_ENOENT;
        return;
    }
    next_segment(&p, end, &a);
    next_segment(&p, end, &b);
    next_segment(&p, end, &c);
    next_segment(&p, end, &d);
    if (p < end)
        return;
    if (req->query.len > 0 && parse_query(j, req->query.base, req->query.len) != 0)
        return;

    if (seg_is(a, "ping") && b.base == NULL && method_is(req, "GET")) {
        j->op = STORE_OP_PING;
    } else if (seg_is(a, "shards") && c.base != NULL) {
        if (b.len != 2 * META_ID_LEN || yc_unhex(b.base, META_ID_LEN, j->data_id) != 0 ||
            yc_decimal_u64(c.base, c.len, &index) != 0 || index > UINT32_MAX)
            return;
        j->index = (uint32_t)index;
        if (d.base == NULL)
            j->op = method_is(req, "GET")      ? STORE_OP_SHARD_READ
                    : method_is(req, "DELETE") ? STORE_OP_SHARD_DELETE
                                               : STORE_OP_BAD;
        else if (seg_is(d, "stat") && method_is(req, "GET"))
            j->op = STORE_OP_SHARD_STAT;
        else if (method_is(req, "POST"))
            j->op = seg_is(d, "create")   ? STORE_OP_SHARD_CREATE
                    : seg_is(d, "append") ? STORE_OP_SHARD_APPEND
                    : seg_is(d, "commit") ? STORE_OP_SHARD_COMMIT
                    : seg_is(d, "abort")  ? STORE_OP_SHARD_ABORT
                    : seg_is(d, "verify") ? STORE_OP_SHARD_VERIFY
                                          : STORE_OP_BAD;
    } else if (seg_is(a, "identity") && b.base == NULL) {
        j->op = method_is(req, "POST") ? STORE_OP_IDENTITY : STORE_OP_BAD;
    } else if (c.base == NULL && method_is(req, "POST")) {
        if (seg_is(a, "objects"))
            j->op = seg_is(b, "put")        ? STORE_OP_OBJECT_PUT
                    : seg_is(b, "prune")    ? STORE_OP_OBJECT_PRUNE
                    : seg_is(b, "takeback") ? STORE_OP_OBJECT_TAKEBACK
                    : seg_is(b, "update")   ? STORE_OP_OBJECT_UPDATE
                    : seg_is(b, "get")      ? STORE_OP_OBJECT_GET
                    : seg_is(b, "delete")   ? STORE_OP_OBJECT_DELETE
                                            : STORE_OP_BAD;
        else if (seg_is(a, "records"))
            j->op = seg_is(b, "put")      ? STORE_OP_RECORD_PUT
                    : seg_is(b, "get")    ? STORE_OP_RECORD_GET
                    : seg_is(b, "delete") ? STORE_OP_RECORD_DELETE
                    : seg_is(b, "scan")   ? STORE_OP_RECORD_SCAN
                                          : STORE_OP_BAD;
        else if (seg_is(a, "locks"))
            j->op = seg_is(b, "acquire")   ? STORE_OP_LOCK_ACQUIRE
                    : seg_is(b, "release") ? STORE_OP_LOCK_RELEASE
                                           : STORE_OP_BAD;
    }
    if (j->op != STORE_OP_BAD)
        j->route_err = 0;
}
