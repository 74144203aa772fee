/* gw_get_object.c — GetObject and HeadObject.
 *
 * GET streams: the lookup job resolves the version and reads the first chunk; afterwards one
 * chunk is being sent by h2o while the next is read by a worker (two buffers per request), so
 * memory per GET is bounded by 2 * GET_CHUNK whatever the object size, and disk and network
 * overlap.
 *
 * Memory. The stream's state starts in the request's pool. A body that fits one chunk is read
 * by the lookup job into the pool and sent in one piece: nothing outlives the pool, and the
 * request counts in flight until h2o disposes it, as its bytes are held until then
 * (gw_ctx_free_at_dispose). A longer body reads ahead, and a read may be in flight when the
 * client leaves and h2o disposes the request: the stream then moves into a reference-counted
 * allocation (h2o_mem_alloc_shared) that the pool holds, and each read in flight too; it takes
 * the context's holds along (gw_ctx_free_later) and gives them back, with its two chunks
 * (malloc'd: the pool may be gone while a read fills one), when the last reference goes. h2o
 * stops the stream's generator when it disposes a request whose answer is unfinished — the only
 * time a read can be in flight — which is how the stream learns that the request is gone.
 */
#include "gateway/gw_checksums.h"
#include "gateway/gw_handlers.h"
#include "common/log.h"
#include "gateway/gw_object.h"
#include "gateway/s3/cond.h"
#include "gateway/s3/names.h"
#include "gateway/s3/range.h"
#include <stdlib.h>
#include <string.h>

#define GET_CHUNK (2 * 1024 * 1024)

/* ---------------------------------------------------------------- GetObject / HeadObject */

typedef struct {
    h2o_generator_t gen; /* first: h2o hands it back to proceed */
    yc_job_t job;
    h2o_req_t *req; /* NULL once h2o disposed the request */
    yc_pool_t *read_pool;
    gw_hold_t hold; /* the context's holds, given back with the stream (reading ahead only) */
    char request_id[17];
    gw_object_t *obj;       /* the version read; kept only by a stream that reads ahead */
    uint64_t next_off, end; /* the next byte to read, one past the last to send */
    uint8_t *buf[2];        /* malloc'd when reading ahead, else buf[0] is in the pool */
    size_t len[2];
    int ahead;    /* the body is longer than a chunk: the stream reads ahead */
    int sending;  /* buffer index h2o is sending, -1: none */
    int ready;    /* buffer index read and waiting to be sent, -1: none */
    int reading;  /* a read job is in flight (it holds a reference) */
    int read_idx; /* the buffer it fills: fixed at submission, as `sending` changes meanwhile */
    int read_error;
} stream_t;

/* The last reference to a stream that reads ahead went: the pool's, or a read's that finished
 * after the request was disposed. */
static void stream_dispose(void *p)
{
    stream_t *s = p;
    gw_object_free(s->obj);
    free(s->buf[0]);
    free(s->buf[1]);
    gw_hold_release(&s->hold);
}

static void stream_read_next(stream_t *s);

static void stream_send(stream_t *s, int idx)
{
    h2o_iovec_t vec = h2o_iovec_init(s->buf[idx], s->len[idx]);
    int final = s->next_off >= s->end && !s->reading;
    s->sending = idx;
    s->ready = -1;
    if (!final && !s->reading)
        stream_read_next(s);
    h2o_send(s->req, &vec, 1, final ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS);
}

static void read_job_run(yc_job_t *job)
{
    stream_t *s = H2O_STRUCT_FROM_MEMBER(stream_t, job, job);
    int idx = s->read_idx;
    size_t n = s->end - s->next_off < GET_CHUNK ? (size_t)(s->end - s->next_off) : GET_CHUNK;
    if (gw_object_read(s->obj, s->next_off, n, s->buf[idx]) != 0) {
        s->read_error = 1;
        return;
    }
    s->len[idx] = n;
    s->next_off += n;
}

static void read_job_done(yc_job_t *job)
{
    stream_t *s = H2O_STRUCT_FROM_MEMBER(stream_t, job, job);
    int idx = s->read_idx;

    s->reading = 0;
    if (s->req == NULL) {
        /* nothing to send to */
    } else if (s->read_error) {
        /* headers are gone already: all we can do is cut the connection short */
        yc_log(YC_LOG_ERROR, "request_id=%s event=get_read_failed", s->request_id);
        h2o_send(s->req, NULL, 0, H2O_SEND_STATE_ERROR);
    } else if (s->sending < 0) {
        stream_send(s, idx);
    } else {
        s->ready = idx;
    }
    h2o_mem_release_shared(s); /* the read's reference: the last one when the request is gone */
}

static void stream_read_next(stream_t *s)
{
    h2o_mem_addref_shared(s); /* the stream outlives the request while a read is in flight */
    s->reading = 1;
    s->read_idx = s->sending == 0 ? 1 : 0;
    s->job.run = read_job_run;
    s->job.done = read_job_done;
    yc_pool_submit(s->read_pool, &s->job);
}

static void on_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    stream_t *s = (stream_t *)gen;
    s->sending = -1;
    if (s->ready >= 0)
        stream_send(s, s->ready);
}

/* h2o disposes the request before the last chunk went (the client left): the pool lets go of
 * the stream next, and a read in flight finds no request to send to. */
static void on_stop(h2o_generator_t *gen, h2o_req_t *req)
{
    stream_t *s = (stream_t *)gen;
    s->req = NULL;
}

static void add_object_headers(gw_ctx_t *ctx, const meta_object_t *r)
{
    char date[S3_HTTP_DATE_LEN + 1], etag[80];
    static const struct {
        const char *param, *header;
    } overrides[] = {{"response-content-type", "content-type"},
                     {"response-content-language", "content-language"},
                     {"response-expires", "expires"},
                     {"response-cache-control", "cache-control"},
                     {"response-content-disposition", "content-disposition"},
                     {"response-content-encoding", "content-encoding"}};
    const meta_bytes_t stored[] = {r->content_type,  r->content_language,    r->expires,
                                   r->cache_control, r->content_disposition, r->content_encoding};

    s3_http_date_format(r->mtime_ns, date);
    gw_add_header_str(ctx, "last-modified", date);
    snprintf(etag, sizeof(etag), "\"%.*s\"", (int)r->etag.len, r->etag.base);
    gw_add_header_str(ctx, "etag", etag);
    gw_add_header_str(ctx, "accept-ranges", "bytes");
    for (size_t i = 0; i < sizeof(overrides) / sizeof(overrides[0]); i++) {
        h2o_iovec_t o = s3_query_get(&ctx->query, overrides[i].param);
        if (o.base != NULL)
            gw_add_header(ctx, overrides[i].header, o.base, o.len);
        else if (stored[i].base != NULL && stored[i].len > 0)
            gw_add_header(ctx, overrides[i].header, stored[i].base, stored[i].len);
    }
    size_t pos = 0;
    meta_bytes_t name, value;
    while (meta_kv_next(r->user_meta, &pos, &name, &value) == 1) {
        char hname[256];
        if (name.len > sizeof(hname) - 12)
            continue;
        int n = snprintf(hname, sizeof(hname), "x-amz-meta-%.*s", (int)name.len, name.base);
        (void)n;
        gw_add_header(ctx, hname, value.base, value.len);
    }
}

/* ?partNumber= of GET/HEAD: 0 when absent. Malformed, or given with a Range, is refused as S3 does
 * before the object is looked up. */
static int parse_get_part_number(gw_ctx_t *ctx, uint32_t *out)
{
    h2o_iovec_t v = s3_query_get(&ctx->query, "partNumber");

    *out = 0;
    if (v.base == NULL)
        return 0;
    if (s3_parse_part_number(v, out) != 0) {
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Part number must be an integer between 1 and 10000, inclusive");
        return -1;
    }
    if (gw_header(ctx, "range").base != NULL) {
        gw_set_error(ctx, S3_ERR_INVALID_REQUEST, "Cannot specify both Range header and partNumber query parameter");
        return -1;
    }
    return 0;
}

/* The bytes of part number (1-based) of r: the sum of the earlier parts' sizes, and its size. An
 * object from a single PUT is its own part 1. Non-zero (InvalidPartNumber set) past the last part. */
static int locate_part(gw_ctx_t *ctx, const meta_object_t *r, uint32_t number, uint64_t *off, uint64_t *size)
{
    meta_part_ref_t p;

    *off = 0;
    if (number > r->part_count) {
        gw_set_error(ctx, S3_ERR_INVALID_PART_NUMBER, NULL);
        return -1;
    }
    for (uint32_t i = 0; i < number; i++) {
        if (meta_object_part(r, i, &p) != 0) {
            gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
            return -1;
        }
        if (i + 1 < number)
            *off += p.size;
    }
    *size = p.size;
    if (*off > r->size || *size > r->size - *off) {
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL); /* a record whose parts do not add up */
        return -1;
    }
    return 0;
}

/* A multipart object's ETag ends in "-N"; a single PUT's (or a copy's) is a plain MD5. */
static int is_multipart(const meta_object_t *r)
{
    return memchr(r->etag.base, '-', r->etag.len) != NULL;
}

/* Resolves the version, sets the headers and reads the first chunk into s. */
static void get_object_prepare(gw_ctx_t *ctx, stream_t *s)
{
    const meta_object_t *r;
    s3_range_t range;
    uint32_t part_number;
    int ret;

    uint8_t vid[META_ID_LEN];
    uint32_t versioning;
    int given;

    if (gw_version_id_query(ctx, vid, &given) != 0 || parse_get_part_number(ctx, &part_number) != 0 ||
        gw_bucket_authorize(ctx) != 0)
        return;
    versioning = gw_bucket_versioning(ctx);
    /* a bucket never versioned holds only null versions: vid stays the null vid, and the lookup
     * reads each drive's null slot with one point read */
    if ((ret = gw_object_lookup(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key),
                                given || versioning == 0 ? vid : NULL, &s->obj)) != 0) {
        if (ret == GW_ENOENT && given)
            gw_set_error(ctx, S3_ERR_NO_SUCH_VERSION, NULL);
        else
            gw_set_store_error(ctx, ret);
        return;
    }
    r = gw_object_record(s->obj);
    if (r->flags & META_OBJ_DELETE_MARKER) {
        /* the newest version is a marker: no such key; a marker named by its id: not an object */
        gw_version_headers(ctx, versioning, r);
        gw_set_error(ctx, given ? S3_ERR_METHOD_NOT_ALLOWED : S3_ERR_NO_SUCH_KEY, NULL);
        return;
    }
    s3_cond_t cond = {gw_header(ctx, "if-match"), gw_header(ctx, "if-none-match"), gw_header(ctx, "if-modified-since"),
                      gw_header(ctx, "if-unmodified-since")};
    if ((ret = s3_cond_check_read(&cond, gw_iov(r->etag), r->mtime_ns)) != 0) {
        if (-ret == S3_ERR_NOT_MODIFIED) {
            char etag[80], date[S3_HTTP_DATE_LEN + 1];
            snprintf(etag, sizeof(etag), "\"%.*s\"", (int)r->etag.len, r->etag.base);
            gw_add_header_str(ctx, "etag", etag);
            s3_http_date_format(r->mtime_ns, date);
            gw_add_header_str(ctx, "last-modified", date);
        }
        gw_set_error(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    if (part_number > 0) {
        /* a part is a range S3 names for the client: 206 and Content-Range, the object's ETag */
        uint64_t off, size;
        if (locate_part(ctx, r, part_number, &off, &size) != 0)
            return;
        memset(&range, 0, sizeof(range));
        range.partial = size > 0; /* an empty part has no range to name: a plain empty answer */
        range.first = off;
        range.last = off + size - 1;
    } else if ((ret = s3_range_parse(gw_header(ctx, "range"), r->size, &range)) != 0) {
        char cr[64];
        s3_range_content_range(&range, r->size, 1, cr);
        gw_add_header_str(ctx, "content-range", cr);
        gw_set_error(ctx, S3_ERR_INVALID_RANGE, NULL);
        return;
    }
    add_object_headers(ctx, r);
    gw_version_headers(ctx, versioning, r);
    if (part_number > 0 && is_multipart(r)) {
        char count[16];
        snprintf(count, sizeof(count), "%u", r->part_count);
        gw_add_header_str(ctx, "x-amz-mp-parts-count", count);
    }
    /* a stored checksum describes the whole object or one part, never a range of bytes */
    if (part_number > 0 || !range.partial)
        gw_checksum_object_headers(ctx, r, part_number);
    s->next_off = range.partial ? range.first : 0;
    if (range.partial)
        s->end = range.last + 1;
    else
        s->end = part_number > 0 ? 0 : r->size; /* an empty part, or the whole object */
    if (range.partial) {
        char cr[64];
        s3_range_content_range(&range, r->size, 0, cr);
        gw_add_header_str(ctx, "content-range", cr);
        ctx->status = 206;
    }
    ctx->req->res.content_length = s->end - s->next_off;
    if (h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("HEAD")) || s->end == s->next_off)
        return;
    size_t first = s->end - s->next_off < GET_CHUNK ? (size_t)(s->end - s->next_off) : GET_CHUNK;
    s->ahead = s->end - s->next_off > first;
    if (!s->ahead) {
        /* sent in one piece: the pool holds it exactly as long as h2o sends from it */
        s->buf[0] = h2o_mem_alloc_pool(&ctx->req->pool, first);
    } else if ((s->buf[0] = malloc(GET_CHUNK)) == NULL || (s->buf[1] = malloc(GET_CHUNK)) == NULL) {
        gw_set_error(ctx, S3_ERR_SLOW_DOWN, NULL);
        return;
    }
    if ((ret = gw_object_read(s->obj, s->next_off, first, s->buf[0])) != 0) {
        gw_set_store_error(ctx, ret == GW_EIO ? GW_EQUORUM : ret);
        return;
    }
    s->len[0] = first;
    s->next_off += first;
}

static void get_object_work(gw_ctx_t *ctx)
{
    stream_t *s = ctx->handler_state;

    get_object_prepare(ctx, s);
    /* only a stream that reads ahead needs the version past this job */
    if (ctx->error != S3_OK || !s->ahead) {
        gw_object_free(s->obj);
        s->obj = NULL;
    }
}

static void get_object_send(gw_ctx_t *ctx)
{
    static h2o_generator_t generator = {NULL, NULL};
    stream_t *s = ctx->handler_state;
    h2o_req_t *req = ctx->req;

    if (ctx->error != S3_OK || s->len[0] == 0) {
        if (s->ahead) {
            free(s->buf[0]);
            free(s->buf[1]);
        }
        if (ctx->error != S3_OK) {
            req->res.content_length = SIZE_MAX;
            gw_respond(ctx);
            return;
        }
        /* a HEAD or an empty body: status and headers only */
        req->res.status = ctx->status ? ctx->status : 200;
        req->res.reason = gw_reason(req->res.status);
        h2o_start_response(req, &generator);
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        gw_ctx_free(ctx);
        return;
    }
    req->res.status = ctx->status ? ctx->status : 200;
    req->res.reason = gw_reason(req->res.status);
    if (!s->ahead) {
        /* one piece from the pool: the request counts in flight until h2o is done with it */
        h2o_iovec_t body = h2o_iovec_init(s->buf[0], s->len[0]);
        h2o_start_response(req, &generator);
        h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
        gw_ctx_free_at_dispose(ctx);
        return;
    }
    stream_t *ls = h2o_mem_alloc_shared(&req->pool, sizeof(*ls), stream_dispose);
    *ls = *s;
    ls->req = req;
    ls->read_pool = ctx->env->read_pool;
    ls->job.loop = ctx->job.loop;
    memcpy(ls->request_id, ctx->request_id, sizeof(ls->request_id));
    ls->sending = -1;
    ls->ready = -1;
    ls->gen.proceed = on_proceed;
    ls->gen.stop = on_stop;
    gw_ctx_free_later(ctx, &ls->hold);
    h2o_start_response(req, &ls->gen);
    stream_send(ls, 0);
}

void gw_get_object(gw_ctx_t *ctx)
{
    stream_t *s = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*s));

    memset(s, 0, sizeof(*s));
    ctx->handler_state = s;
    ctx->send = get_object_send;
    gw_dispatch_read(ctx, get_object_work);
}
