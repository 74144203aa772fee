/* gw_get_object.c — GetObject and HeadObject.
 *
 * GET streams: the lookup job resolves the version and reads the first unit; afterwards one unit
 * is being written to the socket (yc_http_write) while the next is read by a worker (two buffers
 * per request), so disk and network overlap. The next unit is read only once a buffer is free: a
 * reader that takes nothing holds the stream still, and the HTTP layer closes it after
 * send_timeout.
 *
 * A unit is a whole stripe when the stream gets two stripe buffers from the budget all GET
 * streams share (GET_STRIPES_HELD_MAX): each stripe is then read and decoded once, straight into
 * the buffer, and its data sent from there with no copy (one write job and one send per stripe).
 * Past the budget (hundreds of streams at once) a unit is a GET_CHUNK read by gw_object_read: with
 * every drive answering, a chunk that is a data shard's block (256 KiB of a 4+2 object with 1 MiB
 * stripes) is that one shard read straight into the chunk, no decode, no copy. Only a stripe that
 * had to be decoded (a drive gone, a damaged block) or a block the chunk cuts is kept by the
 * object, and let go whenever the stream finds itself ahead of its reader (a read done while a
 * write is pending), so a stalled reader holds its two chunks and nothing else.
 * An encrypted object streams whole stripes the same way, each sealed block opened in place in the
 * stripe buffer (gw_sse_read_stripe) and sent from there as a few pieces; past the budget, or with
 * stripes too large, it streams in chunks (GET_SSE_CHUNKs while two stripes of the budget are
 * free), keeping its decoded stripe from one chunk to the next.
 * Either way the memory of all streams together stays bounded whatever the objects' sizes.
 *
 * Memory. A body under GET_STREAM_MIN is read by the lookup job into the request's pool and
 * handed to the layer whole (gw_respond). A longer body moves the stream into an allocation of
 * its own with two buffers from common/bigbuf.h (reused, not mapped afresh for every request); it
 * takes the context's hold along (gw_ctx_free_later) and ends the request itself (gw_req_finish)
 * once its last write is out, or the connection broke and no read is in flight any more.
 */
#include "gateway/gw_object_lock.h"
#include "gateway/gw_checksums.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_origin.h"
#include "gateway/gw_lifecycle.h"
#include "common/bigbuf.h"
#include "common/log.h"
#include "gateway/gw_object.h"
#include "gateway/gw_sse.h"
#include "gateway/gw_tagging.h"
#include "gateway/s3/cond.h"
#include "gateway/s3/names.h"
#include "gateway/s3/range.h"
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/* Small enough that 200 stalled readers hold 100 MiB, large enough that a write and a read job
 * per chunk cost little beside its bytes. */
#define GET_CHUNK (256 * 1024)
/* A body of this size or more is a stream even when it fits one chunk: it is sent from a reused
 * buffer (a decoded stripe, as it is, when the budget below lets it), where a one-piece answer
 * would be read into the request's pool and copied again by the layer, both fresh mappings. */
#define GET_STREAM_MIN (128 * 1024)
/* an encrypted stream's unit when the stripe budget lets it (two of them, counted as two stripes):
 * sixteen sealed blocks, opened in one read job and sent in one write */
#define GET_SSE_CHUNK (1024 * 1024)
/* Decoded stripes (1.5 MiB each with 1 MiB stripes, EC 4+2) kept by all GET streams together
 * between their reads: a stream whose reader keeps up re-decodes nothing while it holds one, and
 * hundreds of streams starting at once cannot hold hundreds. */
#define GET_STRIPES_HELD_MAX 32
/* A stream of whole stripes takes two stripe buffers from the budget above; a stripe buffer
 * longer than this (a stripe size far above the default) streams in chunks instead. */
#define GET_STRIPE_BUFFER_MAX (8 * 1024 * 1024)

/* ---------------------------------------------------------------- GetObject / HeadObject */

typedef struct {
    yc_job_t job;
    gw_req_t *req;
    yc_pool_t *read_pool;
    gw_hold_t hold; /* the context's hold, given back with the stream (reading ahead only) */
    char request_id[17];
    gw_object_t *obj;       /* the version read; kept only by a stream that reads ahead */
    uint64_t next_off, end; /* the next byte to read, one past the last to send */
    uint8_t *buf[2];        /* yc_bigbuf's when reading ahead, else buf[0] is in the pool */
    const uint8_t *data[2]; /* the bytes to send: in buf, at the offset the stripe starts at */
    size_t len[2];
    /* an encrypted stream of whole stripes sends its opened blocks from where they lie in buf */
    h2o_iovec_t vecs[2][YC_HTTP_MAX_WRITE_BUFS];
    size_t nvecs[2]; /* 0: send data, len */
    /* whole stripes: each read decodes one stripe into a buffer of buf_len bytes that is sent
     * from as it is (no copy, no stripe decoded twice); the two buffers are two of the
     * GET_STRIPES_HELD_MAX the streams hold together */
    int stripes;
    size_t buf_len;
    int ahead;    /* the body is longer than a chunk: the stream reads ahead */
    int sending;  /* buffer index being written, -1: none */
    int ready;    /* buffer index read and waiting to be sent, -1: none */
    int reading;  /* a read job is in flight */
    int read_idx; /* the buffer it fills: fixed at submission, as `sending` changes meanwhile */
    int read_error;
    int broken; /* the connection failed or a read did: nothing more is sent */
    /* the reader keeps up with the drives: a read keeps its decoded stripe for the next one.
     * Set and cleared on the loop, read by the read job (a stale value costs a decode or keeps
     * a stripe a little longer, nothing else) */
    int keep_stripe;
    size_t chunk;     /* bytes a chunk read takes: GET_CHUNK, or GET_SSE_CHUNK */
    int sse_reserved; /* an encrypted stream holding two stripes of the budget for its chunks */
    int holds_stripe; /* counted in env->get_stripes_held */
    gw_env_t *env;
    gw_sse_reader_t *sse; /* an encrypted object's decrypting reads (chunks, never whole stripes); else NULL */
} stream_t;

/* Lets go of the decoded stripe the version keeps. Whoever runs the stream's read. */
static void stream_trim(stream_t *s)
{
    gw_object_trim(s->obj);
    if (s->holds_stripe) {
        atomic_fetch_sub(&s->env->get_stripes_held, 1);
        s->holds_stripe = 0;
    }
}

static void stream_read_next(stream_t *s);

/* Ends the request once nothing is in flight any more. */
static void stream_maybe_end(stream_t *s)
{
    if (s->reading || s->sending >= 0)
        return;
    if (!s->broken && (s->ready >= 0 || s->next_off < s->end))
        return;
    gw_req_finish(s->req); /* short of its length after a failure: the layer closes the connection */
    stream_trim(s);
    if (s->stripes || s->sse_reserved)
        atomic_fetch_sub(&s->env->get_stripes_held, 2);
    gw_object_free(s->obj);
    gw_sse_reader_free(s->sse);
    yc_bigbuf_free(s->buf[0]);
    yc_bigbuf_free(s->buf[1]);
    gw_hold_release(&s->hold);
    free(s);
}

static int stream_send(stream_t *s, int idx);

static void stream_send_ready(stream_t *s)
{
    if (stream_send(s, s->ready) != 0)
        stream_maybe_end(s);
}

static void on_written(yc_http_req_t *http, void *arg, int status)
{
    stream_t *s = arg;

    s->sending = -1;
    if (status == 0 && s->reading)
        __atomic_store_n(&s->keep_stripe, 1, __ATOMIC_RELAXED); /* taken before the next was read */
    if (status != 0)
        s->broken = 1;
    else if (s->ready >= 0)
        return stream_send_ready(s);
    stream_maybe_end(s);
}

static int stream_send(stream_t *s, int idx)
{
    h2o_iovec_t one = h2o_iovec_init(s->data[idx], s->len[idx]);
    size_t n = s->nvecs[idx];

    s->sending = idx;
    s->ready = -1;
    if (s->next_off < s->end && !s->reading)
        stream_read_next(s);
    if (yc_http_write(s->req->http, n > 0 ? s->vecs[idx] : &one, n > 0 ? n : 1, on_written, s) != 0) {
        s->sending = -1;
        s->broken = 1;
        return -1;
    }
    s->req->bytes_out += s->len[idx];
    atomic_fetch_add(&s->req->env->bytes_out, s->len[idx]);
    return 0;
}

/* len bytes of the object at off, decrypted when it is encrypted. */
static int read_plain(stream_t *s, uint64_t off, size_t len, void *buf)
{
    return s->sse != NULL ? gw_sse_read(s->sse, s->obj, off, len, buf) : gw_object_read(s->obj, off, len, buf);
}

/* The next stripe's bytes into buffer idx (allocated here on first use): sent from there as they are. */
static int read_stripe(stream_t *s, int idx)
{
    if (s->buf[idx] == NULL && (s->buf[idx] = yc_bigbuf_alloc(s->buf_len)) == NULL)
        return GW_ENOMEM;
    if (s->sse != NULL)
        return gw_sse_read_stripe(s->sse, s->obj, s->next_off, s->end, s->buf[idx], s->vecs[idx],
                                  YC_HTTP_MAX_WRITE_BUFS, &s->nvecs[idx], &s->len[idx]);
    return gw_object_read_stripe(s->obj, s->next_off, (size_t)(s->end - s->next_off), s->buf[idx], &s->data[idx],
                                 &s->len[idx]);
}

static void read_job_run(yc_job_t *job)
{
    stream_t *s = H2O_STRUCT_FROM_MEMBER(stream_t, job, job);
    int idx = s->read_idx;

    if (s->stripes) {
        if (read_stripe(s, idx) != 0) {
            s->read_error = 1;
            return;
        }
        s->next_off += s->len[idx];
        return;
    }
    size_t n = s->end - s->next_off < s->chunk ? (size_t)(s->end - s->next_off) : s->chunk;
    if (s->buf[idx] == NULL && (s->buf[idx] = yc_bigbuf_alloc(s->chunk)) == NULL) {
        s->read_error = 1;
        return;
    }
    if (read_plain(s, s->next_off, n, s->buf[idx]) != 0) {
        s->read_error = 1;
        return;
    }
    s->data[idx] = s->buf[idx];
    s->len[idx] = n;
    s->next_off += n;
    /* a stream behind its reader lets go of the stripe here, not when the loop gets to it: with
     * hundreds of streams the loop may take a while, and each stripe is 1.5 MiB */
    if (!__atomic_load_n(&s->keep_stripe, __ATOMIC_RELAXED)) {
        stream_trim(s);
    } else if (!s->holds_stripe) {
        if (atomic_fetch_add(&s->env->get_stripes_held, 1) < GET_STRIPES_HELD_MAX) {
            s->holds_stripe = 1;
        } else {
            atomic_fetch_sub(&s->env->get_stripes_held, 1);
            gw_object_trim(s->obj);
        }
    }
}

static void read_job_done(yc_job_t *job)
{
    stream_t *s = H2O_STRUCT_FROM_MEMBER(stream_t, job, job);
    int idx = s->read_idx;

    s->reading = 0;
    if (s->read_error && !s->broken) {
        /* headers are gone already: all we can do is cut the answer short */
        yc_log(YC_LOG_ERROR, "request_id=%s event=get_read_failed", s->request_id);
        s->broken = 1;
    }
    if (s->broken) {
        stream_maybe_end(s);
        return;
    }
    if (s->sending < 0) {
        if (stream_send(s, idx) != 0)
            stream_maybe_end(s);
        return;
    }
    /* ahead of the reader: keep the chunk, let go of the decoded stripe (not an encrypted stream's:
     * its next chunk is most likely in the same stripe) */
    s->ready = idx;
    if (s->sse == NULL) {
        __atomic_store_n(&s->keep_stripe, 0, __ATOMIC_RELAXED);
        stream_trim(s);
    }
}

static void stream_read_next(stream_t *s)
{
    s->reading = 1;
    s->read_idx = s->sending == 0 ? 1 : 0;
    s->job.run = read_job_run;
    s->job.done = read_job_done;
    yc_pool_submit(s->read_pool, &s->job);
}

/* The response-* parameters S3 honours, and the header each one sets. */
static const struct {
    const char *param, *header;
} overrides[] = {{"response-content-type", "content-type"},
                 {"response-content-language", "content-language"},
                 {"response-expires", "expires"},
                 {"response-cache-control", "cache-control"},
                 {"response-content-disposition", "content-disposition"},
                 {"response-content-encoding", "content-encoding"}};

/* S3 honours response-* overrides only for signed requests: an anonymous one is refused (400
 * InvalidRequest) rather than answered without them. 0, or the error set and -1. */
static int check_anonymous_overrides(gw_ctx_t *ctx)
{
    if (ctx->access_key.base != NULL)
        return 0;
    for (size_t i = 0; i < sizeof(overrides) / sizeof(overrides[0]); i++) {
        if (s3_query_get(&ctx->query, overrides[i].param).base != NULL) {
            gw_set_error(ctx, S3_ERR_INVALID_REQUEST,
                         "Request specific response headers cannot be used for anonymous GET requests.");
            return -1;
        }
    }
    return 0;
}

static void add_object_headers(gw_ctx_t *ctx, const meta_object_t *r)
{
    char date[S3_HTTP_DATE_LEN + 1], etag[80];
    const meta_bytes_t stored[] = {r->content_type,  r->content_language,    r->expires,
                                   r->cache_control, r->content_disposition, r->content_encoding};

    s3_http_date_format(gw_last_modified_ns(r), date);
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
    gw_object_lock_headers(ctx, r);
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
            *off += gw_sse_part_plain_size(r, p.size); /* an encrypted part stores more */
    }
    *size = gw_sse_part_plain_size(r, p.size);
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

/* Two stripe buffers from the GET streams' budget: 0 when it has none left. */
static int reserve_stripes(gw_env_t *env)
{
    if (atomic_fetch_add(&env->get_stripes_held, 2) + 2 <= GET_STRIPES_HELD_MAX)
        return 1;
    atomic_fetch_sub(&env->get_stripes_held, 2);
    return 0;
}

/* Gives back what get_object_prepare took when no stream is made of it. */
static void release_prepared(gw_env_t *env, stream_t *s)
{
    if (s->stripes || s->sse_reserved)
        atomic_fetch_sub(&env->get_stripes_held, 2);
    s->stripes = 0;
    s->sse_reserved = 0;
    yc_bigbuf_free(s->buf[0]);
    s->buf[0] = NULL;
}

/* Resolves the version, sets the headers and reads the first chunk (or stripe) into s. */
static void get_object_prepare(gw_ctx_t *ctx, stream_t *s)
{
    const meta_object_t *r;
    s3_range_t range;
    uint32_t part_number;
    int ret;

    uint8_t vid[META_ID_LEN];
    uint32_t versioning;
    int given;

    gw_sse_request_t sse;
    if (gw_version_id_query(ctx, vid, &given) != 0 || parse_get_part_number(ctx, &part_number) != 0 ||
        check_anonymous_overrides(ctx) != 0 || gw_bucket_authorize(ctx) != 0 ||
        gw_sse_parse_customer(ctx, "x-amz-", &sse) != 0)
        return;
    versioning = gw_bucket_versioning(ctx);
    /* a bucket never versioned holds only null versions: vid stays the null vid, and the lookup
     * reads each drive's null slot with one point read */
    if ((ret = gw_object_lookup_read(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key),
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
        if (given) /* as S3 does: the one method a marker answers is DELETE */
            gw_add_header_str(ctx, "allow", "DELETE");
        gw_set_error(ctx, given ? S3_ERR_METHOD_NOT_ALLOWED : S3_ERR_NO_SUCH_KEY, NULL);
        return;
    }
    ret = gw_sse_reader_open(ctx, r, &sse, &s->sse);
    OPENSSL_cleanse(sse.customer_key, sizeof(sse.customer_key)); /* the MD5 is echoed below */
    if (ret != 0)
        return;
    /* an encrypted stream reads a stripe in several chunks (its blocks cross stripes): it keeps
     * the decoded stripe while the budget lets it, else each chunk would decode it again */
    s->keep_stripe = s->sse != NULL;
    s3_cond_t cond = {gw_header(ctx, "if-match"), gw_header(ctx, "if-none-match"), gw_header(ctx, "if-modified-since"),
                      gw_header(ctx, "if-unmodified-since")};
    if ((ret = s3_cond_check_read(&cond, gw_iov(r->etag), gw_last_modified_ns(r))) != 0) {
        if (-ret == S3_ERR_NOT_MODIFIED) {
            char etag[80], date[S3_HTTP_DATE_LEN + 1];
            snprintf(etag, sizeof(etag), "\"%.*s\"", (int)r->etag.len, r->etag.base);
            gw_add_header_str(ctx, "etag", etag);
            s3_http_date_format(gw_last_modified_ns(r), date);
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
    gw_sse_headers(ctx, r->attrs, &sse);
    gw_version_headers(ctx, versioning, r);
    gw_tagging_count_header(ctx, r);
    if (!given) /* the current version: when a rule will expire it */
        gw_lifecycle_expiration_header(ctx, r);
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
    ctx->req->res_content_length = s->end - s->next_off;
    if (h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("HEAD")) || s->end == s->next_off)
        return;
    size_t first = s->end - s->next_off < GET_CHUNK ? (size_t)(s->end - s->next_off) : GET_CHUNK;
    s->ahead = s->end - s->next_off > first || first >= GET_STREAM_MIN;
    s->chunk = GET_CHUNK;
    if (s->ahead &&
        (s->buf_len = s->sse != NULL ? gw_sse_stripe_buffer_len(s->obj) : gw_object_stripe_buffer_len(s->obj)) > 0 &&
        s->buf_len <= GET_STRIPE_BUFFER_MAX && reserve_stripes(ctx->env)) {
        s->stripes = 1;
        if ((ret = read_stripe(s, 0)) == GW_ENOMEM)
            gw_set_error(ctx, S3_ERR_SLOW_DOWN, NULL);
        else if (ret != 0)
            gw_set_store_error(ctx, ret == GW_EIO ? GW_EQUORUM : ret);
        if (ret != 0)
            return;
        s->next_off += s->len[0];
        return;
    }
    if (s->ahead && s->sse != NULL && reserve_stripes(ctx->env)) {
        s->sse_reserved = 1;
        s->chunk = GET_SSE_CHUNK;
    }
    if (!s->ahead) {
        /* sent in one piece, copied by the layer */
        s->buf[0] = h2o_mem_alloc_pool(&ctx->req->pool, first);
    } else if ((s->buf[0] = yc_bigbuf_alloc(s->chunk)) == NULL) {
        gw_set_error(ctx, S3_ERR_SLOW_DOWN, NULL);
        return;
    }
    if ((ret = read_plain(s, s->next_off, first, s->buf[0])) != 0) {
        gw_set_store_error(ctx, ret == GW_EIO ? GW_EQUORUM : ret);
        return;
    }
    s->data[0] = s->buf[0];
    s->len[0] = first;
    s->next_off += first;
}

static void get_object_work(gw_ctx_t *ctx)
{
    stream_t *s = ctx->handler_state;

    get_object_prepare(ctx, s);
    /* only a stream that reads ahead needs the version past this job */
    if (ctx->error != S3_OK || !s->ahead) {
        if (ctx->error != S3_OK && s->ahead)
            release_prepared(ctx->env, s);
        gw_object_free(s->obj);
        s->obj = NULL;
        gw_sse_reader_free(s->sse);
        s->sse = NULL;
    } else if (!s->stripes) {
        /* the stream's next read may wait behind many in the read pool: hold no stripe meanwhile */
        gw_object_trim(s->obj);
    }
}

static void get_object_send(gw_ctx_t *ctx)
{
    stream_t *s = ctx->handler_state;
    gw_req_t *req = ctx->req;

    if (ctx->error != S3_OK || s->len[0] == 0 || !s->ahead) {
        if (s->ahead)
            release_prepared(ctx->env, s);
        if (ctx->error != S3_OK)
            req->res_content_length = UINT64_MAX;
        else /* a HEAD, an empty body or one chunk from the pool */
            ctx->resp_body = h2o_iovec_init(s->buf[0], s->len[0]);
        gw_respond(ctx);
        return;
    }
    stream_t *ls = malloc(sizeof(*ls));
    if (ls == NULL) {
        release_prepared(ctx->env, s);
        gw_object_free(s->obj);
        gw_sse_reader_free(s->sse);
        gw_fail(ctx, S3_ERR_SLOW_DOWN, NULL);
        return;
    }
    *ls = *s;
    ls->req = req;
    ls->read_pool = ctx->env->read_pool;
    ls->env = ctx->env;
    ls->job.loop = req->loop;
    memcpy(ls->request_id, ctx->request_id, sizeof(ls->request_id));
    ls->sending = -1;
    ls->ready = -1;
    int status = ctx->status ? ctx->status : 200;
    gw_ctx_free_later(ctx, &ls->hold);
    if (gw_req_respond(req, status, ls->end - (ls->next_off - ls->len[0])) != 0 || stream_send(ls, 0) != 0)
        ls->broken = 1;
    stream_maybe_end(ls);
}

void gw_get_object(gw_ctx_t *ctx)
{
    stream_t *s = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*s));

    memset(s, 0, sizeof(*s));
    ctx->handler_state = s;
    ctx->send = get_object_send;
    gw_dispatch_read(ctx, get_object_work);
}
