/* gw_s3.c — every request's way in: path-style addressing, query, SigV4 authentication, then
 * the route to one S3 operation (or the admin API).
 *
 * Everything here runs on the event loop and is cheap: parsing, one in-memory identity lookup,
 * and HMAC of the canonical request. Hashing a body and decoding aws-chunked framing are
 * proportional to the body, so they happen on the worker (gw_body_prepare, gw_object_ops.c).
 */
#include "gateway/gw_handlers.h"
#include "gateway/gw_iam.h"
#include "gateway/gw_log.h"
#include "gateway/gw_object.h"
#include "gateway/s3/names.h"
#include "gateway/s3/sigv2.h"
#include "gateway/s3/sigv4.h"
#include <openssl/crypto.h>
#include <string.h>
#include <time.h>

#define ADMIN_PREFIX "/_admin/"

void gw_hex(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

void gw_set_store_error(gw_ctx_t *ctx, int ret)
{
    switch (ret) {
    case GW_ENOENT:
        gw_set_error(ctx, S3_ERR_NO_SUCH_KEY, NULL);
        break;
    case GW_EQUORUM:
        gw_set_error(ctx, S3_ERR_SERVICE_UNAVAILABLE, "Not enough drives answered; try again");
        break;
    case GW_ENOSPC:
        gw_set_error(ctx, S3_ERR_STORAGE_FULL, NULL);
        break;
    default:
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        gw_log(GW_LOG_ERROR, "request_id=%s event=internal_error err=%d", ctx->request_id, ret);
        break;
    }
}

static int query_has(const gw_ctx_t *ctx, const char *name)
{
    return s3_query_has(&ctx->query, name);
}

static int method_is(const gw_ctx_t *ctx, const char *m)
{
    return h2o_memis(ctx->method.base, ctx->method.len, m, strlen(m));
}

/* Sub-resources we do not serve yet answer NotImplemented rather than acting as a plain
 * object or bucket request, which could destroy data (PUT ?acl must not overwrite an object). */
static int unsupported_subresource(const gw_ctx_t *ctx)
{
    static const char *const names[] = {"acl",
                                        "policy",
                                        "cors",
                                        "lifecycle",
                                        "tagging",
                                        "website",
                                        "logging",
                                        "replication",
                                        "encryption",
                                        "object-lock",
                                        "retention",
                                        "legal-hold",
                                        "notification",
                                        "accelerate",
                                        "requestPayment",
                                        "torrent",
                                        "restore",
                                        "select",
                                        "analytics",
                                        "metrics",
                                        "inventory",
                                        "intelligent-tiering",
                                        "ownershipControls",
                                        "publicAccessBlock",
                                        "policyStatus",
                                        "attributes"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (query_has(ctx, names[i]))
            return 1;
    return 0;
}

static void route_service(gw_ctx_t *ctx)
{
    if (method_is(ctx, "GET"))
        gw_list_buckets(ctx);
    else
        gw_fail(ctx, S3_ERR_METHOD_NOT_ALLOWED, NULL);
}

static void route_bucket(gw_ctx_t *ctx)
{
    if (unsupported_subresource(ctx)) {
        gw_fail(ctx, S3_ERR_NOT_IMPLEMENTED, NULL);
        return;
    }
    if (method_is(ctx, "GET")) {
        if (query_has(ctx, "location"))
            gw_get_bucket_location(ctx);
        else if (query_has(ctx, "versioning"))
            gw_get_bucket_versioning(ctx);
        else if (query_has(ctx, "uploads"))
            gw_list_multipart_uploads(ctx);
        else if (query_has(ctx, "versions"))
            gw_list_object_versions(ctx);
        else
            gw_list_objects(ctx);
    } else if (method_is(ctx, "HEAD")) {
        gw_head_bucket(ctx);
    } else if (method_is(ctx, "PUT")) {
        if (query_has(ctx, "versioning"))
            gw_put_bucket_versioning(ctx);
        else
            gw_create_bucket(ctx);
    } else if (method_is(ctx, "DELETE")) {
        gw_delete_bucket(ctx);
    } else if (method_is(ctx, "POST") && query_has(ctx, "delete")) {
        gw_delete_objects(ctx);
    } else {
        gw_fail(ctx, S3_ERR_METHOD_NOT_ALLOWED, NULL);
    }
}

static void route_object(gw_ctx_t *ctx)
{
    if (unsupported_subresource(ctx)) {
        gw_fail(ctx, S3_ERR_NOT_IMPLEMENTED, NULL);
        return;
    }
    int has_upload = query_has(ctx, "uploadId");
    if (method_is(ctx, "GET")) {
        if (has_upload)
            gw_list_parts(ctx);
        else
            gw_get_object(ctx);
    } else if (method_is(ctx, "HEAD")) {
        gw_get_object(ctx);
    } else if (method_is(ctx, "PUT")) {
        if (has_upload || query_has(ctx, "partNumber"))
            gw_upload_part(ctx);
        else if (gw_header(ctx, "x-amz-copy-source").base != NULL)
            gw_copy_object(ctx);
        else
            gw_put_object(ctx);
    } else if (method_is(ctx, "POST")) {
        if (query_has(ctx, "uploads"))
            gw_create_multipart(ctx);
        else if (has_upload)
            gw_complete_multipart(ctx);
        else
            gw_fail(ctx, S3_ERR_METHOD_NOT_ALLOWED, NULL);
    } else if (method_is(ctx, "DELETE")) {
        if (has_upload)
            gw_abort_multipart(ctx);
        else
            gw_delete_object(ctx);
    } else {
        gw_fail(ctx, S3_ERR_METHOD_NOT_ALLOWED, NULL);
    }
}

static s3_error_t auth_error(int ret, const char **message)
{
    *message = NULL;
    *message = NULL;
    switch (ret) {
    case S3_AUTH_MALFORMED:
        return S3_ERR_AUTHORIZATION_HEADER_MALFORMED;
    case S3_AUTH_SIGNATURE_MISMATCH:
        return S3_ERR_SIGNATURE_DOES_NOT_MATCH;
    case S3_AUTH_SKEWED:
        return S3_ERR_REQUEST_TIME_TOO_SKEWED;
    case S3_AUTH_EXPIRED:
        *message = "Request has expired";
        return S3_ERR_ACCESS_DENIED;
    case S3_AUTH_NOT_YET_VALID:
        *message = "Request is not valid yet";
        return S3_ERR_ACCESS_DENIED;
    case S3_AUTH_UNSUPPORTED:
        *message = "Please use AWS4-HMAC-SHA256.";
        return S3_ERR_INVALID_REQUEST;
    case S3_AUTH_MISSING_DATE:
        *message = "AWS authentication requires a valid Date or x-amz-date header";
        return S3_ERR_ACCESS_DENIED;
    case S3_AUTH_MISSING_CONTENT_SHA256:
        *message = "Missing required header for this request: x-amz-content-sha256";
        return S3_ERR_INVALID_REQUEST;
    case S3_AUTH_BAD_CONTENT_SHA256:
        *message = "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid "
                   "sha256 value.";
        return S3_ERR_INVALID_ARGUMENT;
    case S3_AUTH_MULTIPLE:
        *message = "Only one auth mechanism allowed";
        return S3_ERR_INVALID_ARGUMENT;
    default:
        return S3_ERR_INTERNAL_ERROR;
    }
}

/* Marks ctx as coming from id. */
static void set_identity(gw_ctx_t *ctx, h2o_iovec_t access_key, const gw_identity_t *id)
{
    ctx->access_key = h2o_strdup(&ctx->req->pool, access_key.base, access_key.len);
    ctx->user = h2o_strdup(&ctx->req->pool, id->user, strlen(id->user));
    ctx->is_root = id->is_root;
}

/* Signature version 2 (s3cmd signurl, older tools): no payload hash, the body is taken as is. */
static int authenticate_v2(gw_ctx_t *ctx, const s3_request_t *sreq, const s3_sigv2_t *v2)
{
    gw_identity_t id;
    const char *message;
    int ret;

    if (gw_iam_lookup(ctx->iam, v2->access_key, &id) != 0 || id.disabled) {
        gw_fail(ctx, S3_ERR_INVALID_ACCESS_KEY_ID, NULL);
        return -1;
    }
    ret = s3_sigv2_verify(sreq, v2, h2o_iovec_init(id.secret_key, strlen(id.secret_key)), time(NULL), &ctx->req->pool);
    OPENSSL_cleanse(id.secret_key, sizeof(id.secret_key));
    if (ret != 0) {
        s3_error_t err = auth_error(ret, &message);
        gw_fail(ctx, err, message);
        return -1;
    }
    ctx->auth.payload_mode = S3_PAYLOAD_UNSIGNED;
    set_identity(ctx, v2->access_key, &id);
    return 0;
}

/* Authenticates the request; on failure answers it and returns non-zero. */
static int authenticate(gw_ctx_t *ctx)
{
    h2o_req_t *req = ctx->req;
    s3_auth_t *auth = &ctx->auth;
    gw_identity_t id;
    const char *message;
    int ret;

    /* h2o consumes Content-Length into the entity; clients may have signed it */
    if (h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_LENGTH, -1) < 0 && req->entity.base != NULL) {
        char *len = h2o_mem_alloc_pool(&req->pool, 24);
        int n = snprintf(len, 24, "%zu", req->entity.len);
        h2o_add_header(&req->pool, &req->headers, H2O_TOKEN_CONTENT_LENGTH, NULL, len, (size_t)n);
    }
    if (h2o_find_header(&req->headers, H2O_TOKEN_HOST, -1) < 0)
        h2o_add_header(&req->pool, &req->headers, H2O_TOKEN_HOST, NULL, req->input.authority.base,
                       req->input.authority.len);
    size_t path_len = req->input.query_at == SIZE_MAX ? req->input.path.len : req->input.query_at;
    s3_request_t sreq = {
        .method = req->input.method,
        .path = h2o_iovec_init(req->input.path.base, path_len),
        .query = path_len < req->input.path.len
                     ? h2o_iovec_init(req->input.path.base + path_len + 1, req->input.path.len - path_len - 1)
                     : h2o_iovec_init("", 0),
        .headers = req->headers.entries,
        .num_headers = req->headers.size,
    };
    s3_sigv2_t v2;
    if ((ret = s3_sigv2_parse(&sreq, &req->pool, &v2)) != 0) {
        gw_fail(ctx, S3_ERR_ACCESS_DENIED, "Malformed AWS signature version 2 authentication");
        return -1;
    }
    if (v2.kind != S3_SIGV2_NONE)
        return authenticate_v2(ctx, &sreq, &v2);
    if ((ret = s3_auth_parse(&sreq, &req->pool, auth)) != 0) {
        s3_error_t err = auth_error(ret, &message);
        if (err == S3_ERR_AUTHORIZATION_HEADER_MALFORMED && s3_query_has(&ctx->query, "X-Amz-Algorithm"))
            err = S3_ERR_AUTHORIZATION_QUERY_PARAMETERS_ERROR;
        gw_fail(ctx, err, message);
        return -1;
    }
    if (auth->kind == S3_AUTH_KIND_NONE) {
        gw_fail(ctx, S3_ERR_ACCESS_DENIED, "Anonymous access is not allowed");
        return -1;
    }
    if (gw_iam_lookup(ctx->iam, auth->access_key, &id) != 0 || id.disabled) {
        gw_fail(ctx, S3_ERR_INVALID_ACCESS_KEY_ID, NULL);
        return -1;
    }
    ret = s3_sigv4_verify(&sreq, auth, h2o_iovec_init(id.secret_key, strlen(id.secret_key)), time(NULL), &ctx->sigv4);
    OPENSSL_cleanse(id.secret_key, sizeof(id.secret_key));
    if (ret != 0) {
        s3_error_t err = auth_error(ret, &message); /* sets message: call it before reading it */
        gw_fail(ctx, err, message);
        return -1;
    }
    set_identity(ctx, auth->access_key, &id);
    return 0;
}

void gw_handle_request(gw_ctx_t *ctx)
{
    h2o_req_t *req = ctx->req;
    size_t path_len = req->input.query_at == SIZE_MAX ? req->input.path.len : req->input.query_at;
    h2o_iovec_t path = h2o_iovec_init(req->input.path.base, path_len);
    int ret;

    ctx->method = req->input.method;
    if (path.len == 0 || path.base[0] != '/') {
        gw_fail(ctx, S3_ERR_INVALID_URI, NULL);
        return;
    }
    h2o_iovec_t raw_query = path_len < req->input.path.len ? h2o_iovec_init(req->input.path.base + path_len + 1,
                                                                            req->input.path.len - path_len - 1)
                                                           : h2o_iovec_init("", 0);
    if ((ret = s3_query_parse(&req->pool, raw_query, &ctx->query)) != 0) {
        gw_fail(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    if (authenticate(ctx) != 0)
        return;

    if (path.len >= sizeof(ADMIN_PREFIX) - 1 && memcmp(path.base, ADMIN_PREFIX, sizeof(ADMIN_PREFIX) - 1) == 0) {
        if (!ctx->is_root)
            gw_fail(ctx, S3_ERR_ACCESS_DENIED, NULL);
        else
            gw_admin(ctx);
        return;
    }

    /* path-style: /bucket/key */
    const char *slash = memchr(path.base + 1, '/', path.len - 1);
    h2o_iovec_t raw_bucket = h2o_iovec_init(path.base + 1, (slash ? slash : path.base + path.len) - (path.base + 1));
    h2o_iovec_t raw_key = slash ? h2o_iovec_init(slash + 1, path.base + path.len - (slash + 1)) : h2o_iovec_init("", 0);
    if ((ret = s3_percent_decode(&req->pool, raw_bucket, &ctx->bucket)) != 0 ||
        (ret = s3_percent_decode(&req->pool, raw_key, &ctx->key)) != 0) {
        gw_fail(ctx, S3_ERR_INVALID_URI, NULL);
        return;
    }
    if (ctx->bucket.len == 0) {
        route_service(ctx);
        return;
    }
    if (ctx->key.len == 0) {
        route_bucket(ctx);
        return;
    }
    if ((ret = s3_key_validate(ctx->key)) != 0) {
        gw_fail(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    route_object(ctx);
}
