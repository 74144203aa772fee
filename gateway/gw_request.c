/* gw_request.c — the per-request context: its making and admission, headers, errors, the
 * response path, the hand-over to workers, and the access log (design in gw_request.h).
 *
 * Admission control (gw_admit.h) is asked once the caller is known (gw_ctx_admit, from the
 * router right after authentication): a request that gets no slot waits in its key's queue or is
 * answered 503 SlowDown at once, on the loop, before it costs a worker or any memory beyond its
 * headers, so the requests already admitted keep their latency and a peak cannot exhaust memory.
 * A request that waits is woken through its loop's job queue (the wake runs on whichever thread
 * freed a slot); it cannot go away while it waits — nothing else of it runs, and the HTTP layer
 * leaves a request to the app until the app finishes it — so a wait always ends by its wake,
 * within queue_deadline_ms.
 *
 * The access log has one line per request, written when the request is finished: after the
 * last byte of its answer was handed to the layer or the client went away, so that its status
 * and byte counts are final whatever became of the context.
 *
 * The request (gw_req_t) is one malloc'd record with its own pool rather than memory of the
 * layer's request: the layer clears that once the answer is out, which for an answer handed over
 * whole (yc_http_send) is not known to the gateway, and the handlers take &ctx->req->pool as an
 * h2o pool of the request's own. gw_req_finish (or gw_respond) frees it after the hand-over.
 */
#include "gateway/gw_request.h"
#include "common/clock.h"
#include "common/log.h"
#include "gateway/gw_access_log.h"
#include "gateway/gw_admit.h"
#include "gateway/gw_audit.h"
#include "gateway/gw_error.h"
#include "gateway/gw_health.h"
#include "gateway/gw_metrics.h"
#include <errno.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

/* ---------------------------------------------------------------- operations */

static const char *const op_names[GW_OP__COUNT] = {
    [GW_OP_NONE] = "-",
    [GW_OP_LIST_BUCKETS] = "ListBuckets",
    [GW_OP_CREATE_BUCKET] = "CreateBucket",
    [GW_OP_HEAD_BUCKET] = "HeadBucket",
    [GW_OP_DELETE_BUCKET] = "DeleteBucket",
    [GW_OP_GET_BUCKET_LOCATION] = "GetBucketLocation",
    [GW_OP_GET_BUCKET_VERSIONING] = "GetBucketVersioning",
    [GW_OP_PUT_BUCKET_VERSIONING] = "PutBucketVersioning",
    [GW_OP_LIST_OBJECTS] = "ListObjects",
    [GW_OP_LIST_OBJECTS_V2] = "ListObjectsV2",
    [GW_OP_LIST_OBJECT_VERSIONS] = "ListObjectVersions",
    [GW_OP_LIST_MULTIPART_UPLOADS] = "ListMultipartUploads",
    [GW_OP_DELETE_OBJECTS] = "DeleteObjects",
    [GW_OP_POST_OBJECT] = "PostObject",
    [GW_OP_GET_OBJECT] = "GetObject",
    [GW_OP_HEAD_OBJECT] = "HeadObject",
    [GW_OP_GET_OBJECT_ATTRIBUTES] = "GetObjectAttributes",
    [GW_OP_PUT_OBJECT] = "PutObject",
    [GW_OP_COPY_OBJECT] = "CopyObject",
    [GW_OP_DELETE_OBJECT] = "DeleteObject",
    [GW_OP_CREATE_MULTIPART_UPLOAD] = "CreateMultipartUpload",
    [GW_OP_UPLOAD_PART] = "UploadPart",
    [GW_OP_UPLOAD_PART_COPY] = "UploadPartCopy",
    [GW_OP_COMPLETE_MULTIPART_UPLOAD] = "CompleteMultipartUpload",
    [GW_OP_ABORT_MULTIPART_UPLOAD] = "AbortMultipartUpload",
    [GW_OP_LIST_PARTS] = "ListParts",
    [GW_OP_PUT_OBJECT_TAGGING] = "PutObjectTagging",
    [GW_OP_GET_OBJECT_TAGGING] = "GetObjectTagging",
    [GW_OP_DELETE_OBJECT_TAGGING] = "DeleteObjectTagging",
    [GW_OP_PUT_BUCKET_POLICY] = "PutBucketPolicy",
    [GW_OP_GET_BUCKET_POLICY] = "GetBucketPolicy",
    [GW_OP_DELETE_BUCKET_POLICY] = "DeleteBucketPolicy",
    [GW_OP_GET_BUCKET_POLICY_STATUS] = "GetBucketPolicyStatus",
    [GW_OP_PUT_BUCKET_CORS] = "PutBucketCors",
    [GW_OP_GET_BUCKET_CORS] = "GetBucketCors",
    [GW_OP_DELETE_BUCKET_CORS] = "DeleteBucketCors",
    [GW_OP_PUT_BUCKET_TAGGING] = "PutBucketTagging",
    [GW_OP_GET_BUCKET_TAGGING] = "GetBucketTagging",
    [GW_OP_DELETE_BUCKET_TAGGING] = "DeleteBucketTagging",
    [GW_OP_PUT_BUCKET_OWNERSHIP_CONTROLS] = "PutBucketOwnershipControls",
    [GW_OP_GET_BUCKET_OWNERSHIP_CONTROLS] = "GetBucketOwnershipControls",
    [GW_OP_DELETE_BUCKET_OWNERSHIP_CONTROLS] = "DeleteBucketOwnershipControls",
    [GW_OP_PUT_PUBLIC_ACCESS_BLOCK] = "PutPublicAccessBlock",
    [GW_OP_GET_PUBLIC_ACCESS_BLOCK] = "GetPublicAccessBlock",
    [GW_OP_DELETE_PUBLIC_ACCESS_BLOCK] = "DeletePublicAccessBlock",
    [GW_OP_PUT_BUCKET_LIFECYCLE] = "PutBucketLifecycleConfiguration",
    [GW_OP_GET_BUCKET_LIFECYCLE] = "GetBucketLifecycleConfiguration",
    [GW_OP_DELETE_BUCKET_LIFECYCLE] = "DeleteBucketLifecycle",
    [GW_OP_PUT_OBJECT_LOCK_CONFIGURATION] = "PutObjectLockConfiguration",
    [GW_OP_GET_OBJECT_LOCK_CONFIGURATION] = "GetObjectLockConfiguration",
    [GW_OP_PUT_BUCKET_ENCRYPTION] = "PutBucketEncryption",
    [GW_OP_GET_BUCKET_ENCRYPTION] = "GetBucketEncryption",
    [GW_OP_DELETE_BUCKET_ENCRYPTION] = "DeleteBucketEncryption",
    [GW_OP_GET_BUCKET_ACL] = "GetBucketAcl",
    [GW_OP_PUT_BUCKET_ACL] = "PutBucketAcl",
    [GW_OP_GET_OBJECT_ACL] = "GetObjectAcl",
    [GW_OP_PUT_OBJECT_ACL] = "PutObjectAcl",
    [GW_OP_PUT_OBJECT_RETENTION] = "PutObjectRetention",
    [GW_OP_GET_OBJECT_RETENTION] = "GetObjectRetention",
    [GW_OP_PUT_OBJECT_LEGAL_HOLD] = "PutObjectLegalHold",
    [GW_OP_GET_OBJECT_LEGAL_HOLD] = "GetObjectLegalHold",
    [GW_OP_PUT_BUCKET_LOGGING] = "PutBucketLogging",
    [GW_OP_GET_BUCKET_LOGGING] = "GetBucketLogging",
    [GW_OP_CORS_PREFLIGHT] = "PreflightRequest",
    [GW_OP_ADMIN] = "Admin",
    [GW_OP_IAM] = "IAM",
};

const char *gw_op_name(gw_op_t op)
{
    return (unsigned)op < GW_OP__COUNT && op_names[op] != NULL ? op_names[op] : "-";
}

/* ---------------------------------------------------------------- access log */

static void next_request_id(gw_env_t *env, char out[17])
{
    static const char hex[] = "0123456789ABCDEF";
    uint64_t n = atomic_fetch_add(&env->next_request, 1) ^ env->request_salt;

    /* by hand: once per request, and snprintf cost as much as the rest of the context's start */
    for (int i = 15; i >= 0; i--, n >>= 4)
        out[i] = hex[n & 15];
    out[16] = '\0';
}

void gw_request_next_id(gw_env_t *env, char out[17])
{
    next_request_id(env, out);
}

/* "address:port" of the client, "[v6]:port" for IPv6; "-" when unknown. */
static void format_client(const gw_req_t *r, char *out, size_t cap)
{
    char host[NI_MAXHOST];

    if (r->peer_len == 0 || h2o_socket_getnumerichost((struct sockaddr *)&r->peer, r->peer_len, host) == SIZE_MAX) {
        snprintf(out, cap, "-");
        return;
    }
    int32_t port = h2o_socket_getport((struct sockaddr *)&r->peer);
    size_t hlen = strlen(host), n = 0;
    char digits[12];
    size_t nd = 0;
    /* by hand, as the line's numbers: once per request (host is at most NI_MAXHOST, out has room) */
    if (cap < hlen + 2 + 1 + sizeof(digits) + 1) {
        snprintf(out, cap, "-");
        return;
    }
    if (r->peer.ss_family == AF_INET6)
        out[n++] = '[';
    memcpy(out + n, host, hlen);
    n += hlen;
    if (r->peer.ss_family == AF_INET6)
        out[n++] = ']';
    out[n++] = ':';
    uint32_t p = port > 0 ? (uint32_t)port : 0;
    do {
        digits[nd++] = (char)('0' + p % 10);
        p /= 10;
    } while (p > 0);
    while (nd > 0)
        out[n++] = digits[--nd];
    out[n] = '\0';
}

static h2o_iovec_t iov_or_null(h2o_iovec_t v)
{
    return v.len > 0 ? v : h2o_iovec_init(NULL, 0);
}

/* Queues the audit record of a finished request: an admin API or IAM call as an admin action,
 * with what it did (the IAM call's action, else the admin API's method and path). */
static void audit_request(gw_req_t *r, const gw_access_entry_t *e)
{
    gw_access_t *a = &r->access;
    int admin = a->op == GW_OP_ADMIN || a->op == GW_OP_IAM;
    h2o_iovec_t detail = a->detail;
    char buf[512];

    if (r->env->audit == NULL)
        return;
    if (admin && detail.base == NULL) {
        int n = snprintf(buf, sizeof(buf), "%.*s %.*s", (int)(r->input.method.len < 16 ? r->input.method.len : 16),
                         r->input.method.base, (int)(r->input.path.len < 400 ? r->input.path.len : 400),
                         r->input.path.base);
        detail = h2o_iovec_init(buf, n > 0 && (size_t)n < sizeof(buf) ? (size_t)n : 0);
    }
    gw_audit_request(r->env->audit, e, admin, detail);
}

/* Writes the access-log line of a request as it is finished, and counts it in the metrics. */
static void write_access_line(gw_req_t *r)
{
    gw_access_t *a = &r->access;
    gw_env_t *env = r->env;
    char client[NI_MAXHOST + 16];
    int64_t duration = yc_now_ns() - r->started_ns;
    const h2o_iovec_t *agent = r->http != NULL ? yc_http_header(r->http, "user-agent") : NULL;

    if (duration < 0)
        duration = 0;
    gw_metrics_request_done(env->metrics, a->op, r->res_status, r->bytes_in, r->bytes_out, duration);
    void (*ended)(void *, const gw_req_t *, int64_t) = __atomic_load_n(&env->request_ended, __ATOMIC_ACQUIRE);
    if (ended != NULL)
        ended(env->bucket_logging, r, duration);
    if (env->access_log == NULL && env->audit == NULL)
        return;
    format_client(r, client, sizeof(client));
    gw_access_entry_t e = {
        .time_ns = yc_now_ns(),
        .request_id = h2o_iovec_init(a->request_id, strlen(a->request_id)),
        .access_key = iov_or_null(a->access_key),
        .client = strcmp(client, "-") != 0 ? h2o_iovec_init(client, strlen(client)) : h2o_iovec_init(NULL, 0),
        .operation = a->op != GW_OP_NONE ? gw_op_name(a->op) : NULL,
        .bucket = iov_or_null(a->bucket),
        .key = iov_or_null(a->key),
        .status = r->res_status,
        .error_code = a->error != S3_OK ? s3_error_info(a->error)->code : NULL,
        .bytes_in = r->bytes_in,
        .bytes_out = r->bytes_out,
        .duration_ns = duration,
        .user_agent = agent != NULL ? *agent : h2o_iovec_init(NULL, 0),
    };
    gw_access_log_write(env->access_log, &e);
    audit_request(r, &e);
}

/* ---------------------------------------------------------------- the request and its context */

/* h2o carves a pool allocation below a quarter of its 4 KiB chunk out of the chunk (chunks are
 * recycled per thread); anything larger is a malloc of its own. The context must stay below. */
_Static_assert(sizeof(gw_ctx_t) < (4096 - 2 * sizeof(void *)) / 4, "gw_ctx_t outgrew h2o's pool chunk");

/* The request's view for the handlers: header fields as h2o headers (tokens resolved, so that
 * h2o_find_header works), and the parts of the request line. */
static gw_req_t *req_new(gw_env_t *env, yc_loop_t *loop, yc_http_req_t *http)
{
    gw_req_t *r = malloc(sizeof(*r));

    if (r == NULL)
        return NULL;
    memset(r, 0, sizeof(*r));
    h2o_mem_init_pool(&r->pool);
    r->http = http;
    r->loop = loop;
    r->env = env;
    r->started_ns = yc_now_ns();
    if (http->peer != NULL && http->peer_len <= sizeof(r->peer)) {
        memcpy(&r->peer, http->peer, http->peer_len);
        r->peer_len = http->peer_len;
    }
    r->secure = http->secure;
    r->res_content_length = UINT64_MAX;
    r->input.method = http->method;
    r->input.path = http->target;
    r->input.query_at = http->query.base != NULL || http->path.len < http->target.len ? http->path.len : SIZE_MAX;
    r->input.authority = h2o_iovec_init("", 0);
    h2o_vector_reserve(&r->pool, &r->headers, http->num_headers);
    for (size_t i = 0; i < http->num_headers; i++) {
        const yc_http_header_t *h = &http->headers[i];
        h2o_add_header_by_str(&r->pool, &r->headers, h->name.base, h->name.len, 1, NULL, h->value.base, h->value.len);
        if (r->input.authority.len == 0 && h2o_memis(h->name.base, h->name.len, H2O_STRLIT("host")))
            r->input.authority = h->value;
    }
    return r;
}

int gw_ctx_start(gw_env_t *env, yc_loop_t *loop, yc_http_req_t *http, gw_ctx_t **out)
{
    gw_req_t *r = req_new(env, loop, http);

    if (r == NULL) {
        yc_http_send(http, 503, NULL, NULL, 0, h2o_iovec_init(NULL, 0));
        return -ENOMEM;
    }
    /* h2o's pool allocation never fails: it aborts the process, as any of h2o's own would */
    gw_ctx_t *ctx = h2o_mem_alloc_pool(&r->pool, sizeof(*ctx));
    memset(ctx, 0, sizeof(*ctx));
    ctx->req = r;
    ctx->env = env;
    ctx->cluster = env->cluster;
    ctx->iam = env->iam;
    ctx->started_ns = r->started_ns;
    next_request_id(env, ctx->request_id);
    gw_add_header(ctx, "x-amz-request-id", ctx->request_id, 16);
    /* S3 sends an opaque second id on every answer, which SDKs log as the HostId */
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256((const uint8_t *)ctx->request_id, 16, digest);
    size_t id2_len = yc_base64_encode(digest, sizeof(digest), ctx->host_id);
    gw_add_header(ctx, "x-amz-id-2", ctx->host_id, id2_len);
    ctx->access = &r->access;
    memcpy(ctx->access->request_id, ctx->request_id, sizeof(ctx->request_id));
    ctx->hold.env = env;
    *out = ctx;
    return 0;
}

/* ---------------------------------------------------------------- admission */

typedef struct gw_admission gw_admission_t;

struct gw_admission {
    yc_job_t job; /* the wake's way back to the request's loop */
    gw_admit_ticket_t ticket;
    gw_env_t *env;
    gw_ctx_t *ctx; /* the request while it waits for its wake */
    void (*next)(gw_ctx_t *ctx);
    int held;   /* a slot is held: gw_admit_leave when given back */
    int result; /* of the wake */
    int64_t enter_ns;
};

static gw_shed_reason_t shed_reason(gw_admit_shed_t why)
{
    switch (why) {
    case GW_ADMIT_SHED_DEADLINE:
        return GW_SHED_DEADLINE;
    case GW_ADMIT_SHED_PUSHED_OUT:
        return GW_SHED_KEY; /* its key waited longest: a shorter-waiting key took the place */
    default:
        return GW_SHED_QUEUE_FULL;
    }
}

static void admitted(gw_admission_t *adm)
{
    adm->held = 1;
    atomic_fetch_add(&adm->env->inflight, 1);
    gw_metrics_admission_wait(adm->env->metrics, yc_mono_ns() - adm->enter_ns);
}

static void shed(gw_ctx_t *ctx, gw_admit_shed_t why)
{
    gw_metrics_shed(ctx->env->metrics, shed_reason(why));
    gw_fail(ctx, S3_ERR_SLOW_DOWN, NULL); /* the hold (not holding a slot) goes with the context */
}

/* Back on the request's loop with the news of its wait. */
static void admit_woken(yc_job_t *job)
{
    gw_admission_t *adm = (gw_admission_t *)job;
    gw_ctx_t *ctx = adm->ctx;

    adm->ctx = NULL;
    if (adm->result != 0) {
        shed(ctx, adm->ticket.shed);
        return;
    }
    admitted(adm);
    adm->next(ctx);
}

/* On whichever thread freed a slot or found the deadline passed: only passes the news on. */
static void admit_wake(void *arg, int result)
{
    gw_admission_t *adm = arg;
    adm->result = result;
    h2o_multithread_send_message(&adm->job.loop->receiver, &adm->job.super);
}

void gw_ctx_admit(gw_ctx_t *ctx, void (*next)(gw_ctx_t *ctx))
{
    gw_env_t *env = ctx->env;
    gw_admission_t *adm;

    if (env->admit == NULL) {
        next(ctx);
        return;
    }
    if ((adm = calloc(1, sizeof(*adm))) == NULL) {
        gw_fail(ctx, S3_ERR_SLOW_DOWN, NULL);
        return;
    }
    adm->env = env;
    adm->ctx = ctx;
    adm->next = next;
    adm->job.loop = ctx->req->loop;
    adm->job.done = admit_woken;
    adm->enter_ns = yc_mono_ns();
    gw_admit_ticket_init(&adm->ticket, admit_wake, adm);
    ctx->hold.adm = adm;
    const char *key = ctx->access_key.base != NULL ? ctx->access_key.base : "";
    switch (gw_admit_enter(env->admit, &adm->ticket, GW_ADMIT_CLIENT, key, ctx->access_key.len)) {
    case GW_ADMIT_OK:
        adm->ctx = NULL;
        admitted(adm);
        next(ctx);
        return;
    case GW_ADMIT_QUEUED:
        return; /* admit_woken goes on */
    default:
        adm->ctx = NULL;
        shed(ctx, adm->ticket.shed);
        return;
    }
}

void gw_hold_release(gw_hold_t *h)
{
    gw_admission_t *adm = h->adm;

    if (adm == NULL)
        return;
    *h = (gw_hold_t){NULL, NULL};
    if (adm->held) {
        atomic_fetch_sub(&adm->env->inflight, 1);
        gw_admit_leave(adm->env->admit, &adm->ticket);
    }
    free(adm);
}

void gw_ctx_free_later(gw_ctx_t *ctx, gw_hold_t *out)
{
    /* the pool's memory is reused by the next request without being cleared: no key stays in it */
    free(ctx->body_owned);
    ctx->body_owned = NULL;
    if (ctx->body_stream != NULL)
        ctx->body_stream_free(ctx->body_stream);
    ctx->body_stream = NULL;
    OPENSSL_cleanse(&ctx->sigv4, sizeof(ctx->sigv4));
    *out = ctx->hold;
    ctx->hold = (gw_hold_t){NULL, NULL};
}

void gw_ctx_free(gw_ctx_t *ctx)
{
    gw_hold_t hold;
    gw_ctx_free_later(ctx, &hold);
    gw_hold_release(&hold);
}

void gw_ctx_free_at_dispose(gw_ctx_t *ctx)
{
    gw_ctx_free_later(ctx, &ctx->access->hold);
}

int gw_req_respond(gw_req_t *r, int status, uint64_t content_length)
{
    r->res_status = status;
    return yc_http_respond(r->http, status, gw_reason(status), r->res_headers.entries, r->res_headers.size,
                           content_length);
}

void gw_req_finish(gw_req_t *r)
{
    write_access_line(r);
    gw_hold_release(&r->access.hold);
    /* a write still pending would make the layer refuse: the caller finishes after its callback */
    yc_http_finish(r->http);
    r->http = NULL;
    h2o_mem_clear_pool(&r->pool);
    free(r);
}

/* ---------------------------------------------------------------- headers and errors */

void gw_add_header(gw_ctx_t *ctx, const char *name, const char *value, size_t len)
{
    gw_req_t *req = ctx->req;
    /* callers pass stack buffers: copy both */
    h2o_vector_reserve(&req->pool, &req->res_headers, req->res_headers.size + 1);
    req->res_headers.entries[req->res_headers.size++] =
        (yc_http_header_t){h2o_strdup(&req->pool, name, strlen(name)), h2o_strdup(&req->pool, value, len)};
}

void gw_add_header_str(gw_ctx_t *ctx, const char *name, const char *value)
{
    gw_add_header(ctx, name, value, strlen(value));
}

h2o_iovec_t gw_header(const gw_ctx_t *ctx, const char *name)
{
    ssize_t i = h2o_find_header_by_str(&ctx->req->headers, name, strlen(name), -1);
    if (i < 0)
        return h2o_iovec_init(NULL, 0);
    return ctx->req->headers.entries[i].value;
}

void gw_set_error(gw_ctx_t *ctx, s3_error_t err, const char *message)
{
    ctx->error = err;
    ctx->error_message = message;
}

void gw_set_error_field(gw_ctx_t *ctx, const char *name, h2o_iovec_t value)
{
    if (ctx->nerror_fields < sizeof(ctx->error_fields) / sizeof(ctx->error_fields[0]))
        ctx->error_fields[ctx->nerror_fields++] = (s3_error_field_t){name, value};
}

void gw_set_store_error(gw_ctx_t *ctx, int ret)
{
    const char *message;
    s3_error_t err;

    gw_error_lookup(ret, &err, &message);
    gw_set_error(ctx, err, message);
    if (err == S3_ERR_SERVICE_UNAVAILABLE)
        gw_health_log_unavailable(ctx->cluster->health, ctx->request_id); /* which drives, and why */
    else if (err == S3_ERR_INTERNAL_ERROR)
        yc_log(YC_LOG_ERROR, "request_id=%s event=internal_error err=%s detail=\"%s\"", ctx->request_id,
               yc_errname(ret), yc_strerror(ret));
}

/* ---------------------------------------------------------------- responses */

const char *gw_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 416:
        return "Requested Range Not Satisfiable";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
    }
}

/* Hands the whole answer to the layer, ends the context and then the request. */
static void send_body(gw_ctx_t *ctx, int status, const char *content_type, h2o_iovec_t body)
{
    gw_req_t *r = ctx->req;
    uint64_t length = r->res_content_length != UINT64_MAX ? r->res_content_length : body.len;

    if (content_type != NULL)
        gw_add_header_str(ctx, "content-type", content_type);
    r->res_status = status;
    if (status >= 300 && r->bytes_in == 0 && r->http->content_length != 0)
        atomic_fetch_add(&r->env->refused_before_body, 1); /* answered with its body never taken */
    if (r->http->is_head || status == 304 || length != body.len) {
        /* a HEAD tells the length of what a GET would send */
        yc_http_respond(r->http, status, gw_reason(status), r->res_headers.entries, r->res_headers.size,
                        status == 304 ? YC_HTTP_LENGTH_UNKNOWN : length);
        r->res_content_length = UINT64_MAX;
        gw_ctx_free(ctx);
        gw_req_finish(r);
        return;
    }
    /* the line is written first: the send finishes the layer's request, client address and all */
    r->bytes_out += body.len;
    write_access_line(r);
    if (yc_http_send(r->http, status, gw_reason(status), r->res_headers.entries, r->res_headers.size, body) != 0)
        yc_log(YC_LOG_ERROR, "request_id=%s event=response_refused status=%d", ctx->request_id, status);
    atomic_fetch_add(&r->env->bytes_out, body.len);
    r->http = NULL;
    gw_ctx_free(ctx);
    gw_hold_release(&r->access.hold);
    h2o_mem_clear_pool(&r->pool);
    free(r);
}

static void send_error(gw_ctx_t *ctx)
{
    const s3_error_info_t *info = s3_error_info(ctx->error);
    gw_req_t *req = ctx->req;
    h2o_iovec_t xml, msg = ctx->error_message ? h2o_iovec_init(ctx->error_message, strlen(ctx->error_message))
                                              : h2o_iovec_init(NULL, 0);
    h2o_iovec_t resource =
        req->input.query_at == SIZE_MAX ? req->input.path : h2o_iovec_init(req->input.path.base, req->input.query_at);
    s3_error_field_t fields[2 + sizeof(ctx->error_fields) / sizeof(ctx->error_fields[0])];
    size_t nfields = 0;

    for (size_t i = 0; i < ctx->nerror_fields; i++)
        fields[nfields++] = ctx->error_fields[i];
    if (ctx->error == S3_ERR_NO_SUCH_KEY && ctx->key.len > 0)
        fields[nfields++] = (s3_error_field_t){"Key", ctx->key};
    if ((ctx->error == S3_ERR_NO_SUCH_BUCKET || ctx->error == S3_ERR_BUCKET_NOT_EMPTY) && ctx->bucket.len > 0)
        fields[nfields++] = (s3_error_field_t){"BucketName", ctx->bucket};
    if (info->status == 304) {
        req->res_content_length = UINT64_MAX;
        send_body(ctx, 304, NULL, h2o_iovec_init(NULL, 0));
        return;
    }
    ctx->access->error = ctx->error;
    int status = ctx->error_status ? ctx->error_status : info->status;
    s3_error_xml(&req->pool, ctx->error, msg, resource, h2o_iovec_init(ctx->request_id, strlen(ctx->request_id)),
                 h2o_iovec_init(ctx->host_id, strlen(ctx->host_id)), fields, nfields, &xml);
    if (info->status == 503) {
        /* the Retry-After every SDK honours when it retries a SlowDown */
        char after[16];
        snprintf(after, sizeof(after), "%u", ctx->env->admit != NULL ? gw_admit_retry_after(ctx->env->admit) : 1u);
        gw_add_header_str(ctx, "retry-after", after);
    }
    /* a body that did not match its digest may not have been framed as declared either (a
     * Content-Length shorter than what was sent): what follows it is no request to serve, and a
     * retried request must start on a clean connection */
    if (ctx->error == S3_ERR_BAD_DIGEST)
        gw_add_header_str(ctx, "connection", "close");
    req->res_content_length = UINT64_MAX;
    send_body(ctx, status, "application/xml", xml);
}

void gw_respond(gw_ctx_t *ctx)
{
    /* both free the context and the request, whose pool holds the context: nothing after */
    if (ctx->error != S3_OK)
        send_error(ctx);
    else
        send_body(ctx, ctx->status ? ctx->status : 200, ctx->content_type, ctx->resp_body);
}

void gw_fail(gw_ctx_t *ctx, s3_error_t err, const char *message)
{
    gw_set_error(ctx, err, message);
    gw_respond(ctx);
}

/* ---------------------------------------------------------------- workers */

static void job_run(yc_job_t *job)
{
    gw_ctx_t *ctx = (gw_ctx_t *)job;
    /* how long a read waited for a worker: what admission's adaptive bound keeps short (a write
     * worker waits on its client's body, so the write pool's queue is the clients' pace too) */
    if (ctx->dispatched_ns != 0 && ctx->env->admit != NULL)
        gw_admit_observe(ctx->env->admit, ctx->dispatched_ns, yc_mono_ns());
    ctx->work(ctx);
}

static void job_done(yc_job_t *job)
{
    gw_ctx_t *ctx = (gw_ctx_t *)job;
    if (ctx->send != NULL)
        ctx->send(ctx);
    else
        gw_respond(ctx);
}

static void dispatch(gw_ctx_t *ctx, gw_work_fn work, yc_pool_t *pool)
{
    ctx->work = work;
    ctx->job.run = job_run;
    ctx->job.done = job_done;
    ctx->job.loop = ctx->req->loop;
    ctx->dispatched_ns = pool == ctx->env->read_pool ? yc_mono_ns() : 0;
    yc_pool_submit(pool, &ctx->job);
}

void gw_dispatch(gw_ctx_t *ctx, gw_work_fn work)
{
    dispatch(ctx, work, ctx->env->pool);
}

void gw_dispatch_read(gw_ctx_t *ctx, gw_work_fn work)
{
    dispatch(ctx, work, ctx->env->read_pool);
}

/* ---------------------------------------------------------------- answers of the layer */

size_t gw_request_error_page(void *arg, int *status, const char **content_type, char *buf, size_t cap)
{
    gw_env_t *env = arg;
    s3_error_t err;
    h2o_mem_pool_t pool;
    h2o_iovec_t xml;
    char id[17];

    /* S3 answers a request whose body stopped arriving 400 RequestTimeout */
    switch (*status) {
    case 408:
        err = S3_ERR_REQUEST_TIMEOUT;
        break;
    case 400:
        err = S3_ERR_BAD_REQUEST;
        break;
    default:
        return 0;
    }
    next_request_id(env, id);
    h2o_mem_init_pool(&pool);
    s3_error_xml(&pool, err, h2o_iovec_init(NULL, 0), h2o_iovec_init(NULL, 0), h2o_iovec_init(id, 16),
                 h2o_iovec_init(NULL, 0), NULL, 0, &xml);
    size_t n = xml.len <= cap ? xml.len : 0;
    memcpy(buf, xml.base, n);
    h2o_mem_clear_pool(&pool);
    *status = s3_error_info(err)->status;
    *content_type = "application/xml";
    gw_metrics_request_done(env->metrics, GW_OP_NONE, *status, 0, 0, 0);
    gw_access_entry_t e = {.time_ns = yc_now_ns(),
                           .request_id = h2o_iovec_init(id, 16),
                           .status = *status,
                           .error_code = s3_error_info(err)->code};
    gw_access_log_write(env->access_log, &e);
    gw_audit_request(env->audit, &e, 0, h2o_iovec_init(NULL, 0));
    return n;
}

s3_request_t gw_signed_request(gw_ctx_t *ctx)
{
    gw_req_t *req = ctx->req;
    size_t path_len = req->input.query_at == SIZE_MAX ? req->input.path.len : req->input.query_at;
    return (s3_request_t){
        .method = req->input.method,
        .path = h2o_iovec_init(req->input.path.base, path_len),
        .query = path_len < req->input.path.len
                     ? h2o_iovec_init(req->input.path.base + path_len + 1, req->input.path.len - path_len - 1)
                     : h2o_iovec_init("", 0),
        .headers = req->headers.entries,
        .num_headers = req->headers.size,
    };
}
