/* gw_s3.c — every request's way in: addressing, query, the operation, SigV4 authentication, the
 * refusal table, then the handler of one S3 operation (or the admin API).
 *
 * Addressing: a Host of <bucket>.<domain>, for a domain of the `domains` setting, names the bucket
 * (virtual-host style) and the whole path is the key; a Host that is such a domain, an IP literal
 * or absent leaves both to the path (/bucket/key). Any other Host is refused (400) before
 * anything is routed: read path-style, `PUT /key` to bucket.example.com would create a bucket
 * named key.
 *
 * The operation is decided before authentication, from the method, the shape of the path and the
 * query: a browser form upload (which carries no Authorization header: it is signed in its fields)
 * goes to its handler, which authenticates it from them, and the access log names every
 * request's operation. Errors of routing (unknown method,
 * unsupported sub-resource) are still answered after authentication, as S3 does.
 *
 * Everything here runs on the event loop and is cheap: parsing, one in-memory identity lookup,
 * and HMAC of the canonical request. It runs as soon as the request's head is in, before any of
 * its body is read: a refused request is answered at once and its body never taken (gw_body.h).
 * An authenticated request then gets its body read whole (documents, at most GW_BODY_WHOLE_MAX)
 * before its handler runs, except PutObject and UploadPart, whose handlers stream it from the
 * worker once their own checks passed. Hashing a body and decoding aws-chunked framing are
 * proportional to the body, so they happen on the worker (gw_body_prepare, gw_object_ops.c).
 */
#include "gateway/gw_s3.h"
#include "gateway/gw_acl.h"
#include "gateway/gw_body.h"
#include "gateway/gw_console.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_bucket_logging.h"
#include "gateway/gw_iam.h"
#include "gateway/gw_metrics.h"
#include "gateway/gw_object_lock.h"
#include "gateway/gw_refuse.h"
#include "gateway/gw_roles.h"
#include "gateway/gw_tagging.h"
#include "gateway/s3/host.h"
#include "gateway/s3/names.h"
#include "gateway/s3/sigv2.h"
#include "gateway/s3/sigv4.h"
#include <openssl/crypto.h>
#include <string.h>
#include <time.h>

#define ADMIN_PREFIX "/_admin/"

static int query_has(const gw_ctx_t *ctx, const char *name)
{
    return s3_query_has(&ctx->query, name);
}

static int method_is(const gw_ctx_t *ctx, const char *m)
{
    return h2o_memis(ctx->method.base, ctx->method.len, m, strlen(m));
}

/* ---------------------------------------------------------------- operations */

/* The handler of each operation (POST Object's is entered before authentication: gw_post_object). */
static void (*const op_handlers[GW_OP__COUNT])(gw_ctx_t *ctx) = {
    [GW_OP_LIST_BUCKETS] = gw_list_buckets,
    [GW_OP_CREATE_BUCKET] = gw_create_bucket,
    [GW_OP_HEAD_BUCKET] = gw_head_bucket,
    [GW_OP_DELETE_BUCKET] = gw_delete_bucket,
    [GW_OP_GET_BUCKET_LOCATION] = gw_get_bucket_location,
    [GW_OP_GET_BUCKET_VERSIONING] = gw_get_bucket_versioning,
    [GW_OP_PUT_BUCKET_VERSIONING] = gw_put_bucket_versioning,
    [GW_OP_LIST_OBJECTS] = gw_list_objects,
    [GW_OP_LIST_OBJECTS_V2] = gw_list_objects,
    [GW_OP_LIST_OBJECT_VERSIONS] = gw_list_object_versions,
    [GW_OP_LIST_MULTIPART_UPLOADS] = gw_list_multipart_uploads,
    [GW_OP_DELETE_OBJECTS] = gw_delete_objects,
    [GW_OP_GET_OBJECT] = gw_get_object,
    [GW_OP_HEAD_OBJECT] = gw_get_object,
    [GW_OP_GET_OBJECT_ATTRIBUTES] = gw_get_object_attributes,
    [GW_OP_PUT_OBJECT] = gw_put_object,
    [GW_OP_COPY_OBJECT] = gw_copy_object,
    [GW_OP_DELETE_OBJECT] = gw_delete_object,
    [GW_OP_CREATE_MULTIPART_UPLOAD] = gw_create_multipart,
    [GW_OP_UPLOAD_PART] = gw_upload_part,
    [GW_OP_UPLOAD_PART_COPY] = gw_upload_part,
    [GW_OP_COMPLETE_MULTIPART_UPLOAD] = gw_complete_multipart,
    [GW_OP_ABORT_MULTIPART_UPLOAD] = gw_abort_multipart,
    [GW_OP_LIST_PARTS] = gw_list_parts,
    [GW_OP_PUT_OBJECT_TAGGING] = gw_put_object_tagging,
    [GW_OP_GET_OBJECT_TAGGING] = gw_get_object_tagging,
    [GW_OP_DELETE_OBJECT_TAGGING] = gw_delete_object_tagging,
    [GW_OP_PUT_BUCKET_POLICY] = gw_bucket_config_op,
    [GW_OP_GET_BUCKET_POLICY] = gw_bucket_config_op,
    [GW_OP_DELETE_BUCKET_POLICY] = gw_bucket_config_op,
    [GW_OP_GET_BUCKET_POLICY_STATUS] = gw_bucket_config_op,
    [GW_OP_PUT_BUCKET_CORS] = gw_bucket_config_op,
    [GW_OP_GET_BUCKET_CORS] = gw_bucket_config_op,
    [GW_OP_DELETE_BUCKET_CORS] = gw_bucket_config_op,
    [GW_OP_PUT_BUCKET_TAGGING] = gw_bucket_config_op,
    [GW_OP_GET_BUCKET_TAGGING] = gw_bucket_config_op,
    [GW_OP_DELETE_BUCKET_TAGGING] = gw_bucket_config_op,
    [GW_OP_PUT_BUCKET_OWNERSHIP_CONTROLS] = gw_bucket_config_op,
    [GW_OP_GET_BUCKET_OWNERSHIP_CONTROLS] = gw_bucket_config_op,
    [GW_OP_DELETE_BUCKET_OWNERSHIP_CONTROLS] = gw_bucket_config_op,
    [GW_OP_PUT_PUBLIC_ACCESS_BLOCK] = gw_bucket_config_op,
    [GW_OP_GET_PUBLIC_ACCESS_BLOCK] = gw_bucket_config_op,
    [GW_OP_DELETE_PUBLIC_ACCESS_BLOCK] = gw_bucket_config_op,
    [GW_OP_PUT_BUCKET_LIFECYCLE] = gw_bucket_config_op,
    [GW_OP_GET_BUCKET_LIFECYCLE] = gw_bucket_config_op,
    [GW_OP_DELETE_BUCKET_LIFECYCLE] = gw_bucket_config_op,
    [GW_OP_PUT_OBJECT_LOCK_CONFIGURATION] = gw_bucket_config_op,
    [GW_OP_GET_OBJECT_LOCK_CONFIGURATION] = gw_bucket_config_op,
    [GW_OP_PUT_BUCKET_ENCRYPTION] = gw_bucket_config_op,
    [GW_OP_GET_BUCKET_ENCRYPTION] = gw_bucket_config_op,
    [GW_OP_DELETE_BUCKET_ENCRYPTION] = gw_bucket_config_op,
    [GW_OP_GET_BUCKET_ACL] = gw_acl_op,
    [GW_OP_PUT_BUCKET_ACL] = gw_acl_op,
    [GW_OP_GET_OBJECT_ACL] = gw_acl_op,
    [GW_OP_PUT_OBJECT_ACL] = gw_acl_op,
    [GW_OP_PUT_OBJECT_RETENTION] = gw_put_object_retention,
    [GW_OP_GET_OBJECT_RETENTION] = gw_get_object_retention,
    [GW_OP_PUT_OBJECT_LEGAL_HOLD] = gw_put_object_legal_hold,
    [GW_OP_GET_OBJECT_LEGAL_HOLD] = gw_get_object_legal_hold,
    [GW_OP_PUT_BUCKET_LOGGING] = gw_bucket_logging_op,
    [GW_OP_GET_BUCKET_LOGGING] = gw_bucket_logging_op,
    [GW_OP_CORS_PREFLIGHT] = gw_cors_preflight,
    [GW_OP_ADMIN] = gw_admin,
};

/* Sub-resources we do not serve yet answer NotImplemented rather than acting as a plain
 * object or bucket request, which could destroy data (PUT ?acl must not overwrite an object).
 * Those marked BUCKET are served on a bucket (the configurations, gw_bucket_config_ops.c),
 * those marked OBJECT on an object (retention, legal hold, attributes), some on both (ACLs,
 * tagging); elsewhere they are refused. */
static int unsupported_subresource(const gw_ctx_t *ctx, int on_bucket)
{
    enum { BUCKET = 1, OBJECT = 2 };
    static const struct {
        const char *name;
        int served; /* where it is served: 0 nowhere, BUCKET, OBJECT or both */
    } names[] = {{"acl", BUCKET | OBJECT},
                 {"policy", BUCKET},
                 {"cors", BUCKET},
                 {"lifecycle", BUCKET},
                 {"tagging", BUCKET | OBJECT},
                 {"website", 0},
                 {"logging", BUCKET},
                 {"replication", 0},
                 {"encryption", BUCKET},
                 {"object-lock", BUCKET},
                 {"retention", OBJECT},
                 {"legal-hold", OBJECT},
                 {"notification", 0},
                 {"accelerate", 0},
                 {"requestPayment", 0},
                 {"torrent", 0},
                 {"restore", 0},
                 {"select", 0},
                 {"analytics", 0},
                 {"metrics", 0},
                 {"inventory", 0},
                 {"intelligent-tiering", 0},
                 {"ownershipControls", BUCKET},
                 {"publicAccessBlock", BUCKET},
                 {"policyStatus", BUCKET},
                 {"attributes", OBJECT}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (!(names[i].served & (on_bucket ? BUCKET : OBJECT)) && query_has(ctx, names[i].name))
            return 1;
    return 0;
}

/* The bucket configuration calls: sub-resource, then the operation of GET, PUT and DELETE. */
static gw_op_t classify_bucket_config(const gw_ctx_t *ctx, int *named)
{
    static const struct {
        const char *name;
        gw_op_t get, put, del;
    } configs[] = {
        {"policyStatus", GW_OP_GET_BUCKET_POLICY_STATUS, GW_OP_NONE, GW_OP_NONE},
        {"policy", GW_OP_GET_BUCKET_POLICY, GW_OP_PUT_BUCKET_POLICY, GW_OP_DELETE_BUCKET_POLICY},
        {"cors", GW_OP_GET_BUCKET_CORS, GW_OP_PUT_BUCKET_CORS, GW_OP_DELETE_BUCKET_CORS},
        {"tagging", GW_OP_GET_BUCKET_TAGGING, GW_OP_PUT_BUCKET_TAGGING, GW_OP_DELETE_BUCKET_TAGGING},
        {"ownershipControls", GW_OP_GET_BUCKET_OWNERSHIP_CONTROLS, GW_OP_PUT_BUCKET_OWNERSHIP_CONTROLS,
         GW_OP_DELETE_BUCKET_OWNERSHIP_CONTROLS},
        {"publicAccessBlock", GW_OP_GET_PUBLIC_ACCESS_BLOCK, GW_OP_PUT_PUBLIC_ACCESS_BLOCK,
         GW_OP_DELETE_PUBLIC_ACCESS_BLOCK},
        {"lifecycle", GW_OP_GET_BUCKET_LIFECYCLE, GW_OP_PUT_BUCKET_LIFECYCLE, GW_OP_DELETE_BUCKET_LIFECYCLE},
        {"object-lock", GW_OP_GET_OBJECT_LOCK_CONFIGURATION, GW_OP_PUT_OBJECT_LOCK_CONFIGURATION, GW_OP_NONE},
        {"acl", GW_OP_GET_BUCKET_ACL, GW_OP_PUT_BUCKET_ACL, GW_OP_NONE},
        {"encryption", GW_OP_GET_BUCKET_ENCRYPTION, GW_OP_PUT_BUCKET_ENCRYPTION, GW_OP_DELETE_BUCKET_ENCRYPTION},
        {"logging", GW_OP_GET_BUCKET_LOGGING, GW_OP_PUT_BUCKET_LOGGING, GW_OP_NONE},
    };
    for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
        if (!query_has(ctx, configs[i].name))
            continue;
        *named = 1; /* another method must not fall through to the bucket itself (DELETE ?policyStatus) */
        return method_is(ctx, "GET")      ? configs[i].get
               : method_is(ctx, "PUT")    ? configs[i].put
               : method_is(ctx, "DELETE") ? configs[i].del
                                          : GW_OP_NONE;
    }
    return GW_OP_NONE;
}

/* A browser form upload: POST to the bucket with a multipart/form-data body. It carries its
 * signature in the form, not in an Authorization header. */
static int is_post_object(const gw_ctx_t *ctx)
{
    h2o_iovec_t type = gw_header(ctx, "content-type");
    return method_is(ctx, "POST") && !query_has(ctx, "delete") && !query_has(ctx, "uploads") && type.base != NULL &&
           type.len >= 19 && h2o_lcstris(type.base, 19, H2O_STRLIT("multipart/form-data"));
}

static gw_op_t classify_service(const gw_ctx_t *ctx, s3_error_t *err)
{
    if (method_is(ctx, "GET"))
        return GW_OP_LIST_BUCKETS;
    *err = S3_ERR_METHOD_NOT_ALLOWED;
    return GW_OP_NONE;
}

static gw_op_t classify_bucket(const gw_ctx_t *ctx, s3_error_t *err)
{
    gw_op_t config;
    if (unsupported_subresource(ctx, 1)) {
        *err = S3_ERR_NOT_IMPLEMENTED;
        return GW_OP_NONE;
    }
    if (method_is(ctx, "OPTIONS"))
        return GW_OP_CORS_PREFLIGHT;
    int named = 0;
    if ((config = classify_bucket_config(ctx, &named)) != GW_OP_NONE)
        return config;
    if (named) {
        *err = S3_ERR_METHOD_NOT_ALLOWED;
        return GW_OP_NONE;
    }
    if (method_is(ctx, "GET")) {
        if (query_has(ctx, "location"))
            return GW_OP_GET_BUCKET_LOCATION;
        if (query_has(ctx, "versioning"))
            return GW_OP_GET_BUCKET_VERSIONING;
        if (query_has(ctx, "uploads"))
            return GW_OP_LIST_MULTIPART_UPLOADS;
        if (query_has(ctx, "versions"))
            return GW_OP_LIST_OBJECT_VERSIONS;
        h2o_iovec_t list_type = s3_query_get(&ctx->query, "list-type");
        return h2o_memis(list_type.base, list_type.len, H2O_STRLIT("2")) ? GW_OP_LIST_OBJECTS_V2 : GW_OP_LIST_OBJECTS;
    }
    if (method_is(ctx, "HEAD"))
        return GW_OP_HEAD_BUCKET;
    if (method_is(ctx, "PUT"))
        return query_has(ctx, "versioning") ? GW_OP_PUT_BUCKET_VERSIONING : GW_OP_CREATE_BUCKET;
    if (method_is(ctx, "DELETE"))
        return GW_OP_DELETE_BUCKET;
    if (method_is(ctx, "POST") && query_has(ctx, "delete"))
        return GW_OP_DELETE_OBJECTS;
    if (is_post_object(ctx))
        return GW_OP_POST_OBJECT;
    *err = S3_ERR_METHOD_NOT_ALLOWED;
    return GW_OP_NONE;
}

/* GET and PUT ?acl on an object; another method must not act on the object itself. */
static gw_op_t classify_object_acl(const gw_ctx_t *ctx, s3_error_t *err)
{
    if (method_is(ctx, "GET"))
        return GW_OP_GET_OBJECT_ACL;
    if (method_is(ctx, "PUT"))
        return GW_OP_PUT_OBJECT_ACL;
    *err = S3_ERR_METHOD_NOT_ALLOWED;
    return GW_OP_NONE;
}

/* ?retention and ?legal-hold of an object: GET and PUT; another method is not allowed. */
static gw_op_t classify_object_lock(const gw_ctx_t *ctx, s3_error_t *err)
{
    int retention = query_has(ctx, "retention"), hold = query_has(ctx, "legal-hold");
    if (!retention && !hold)
        return GW_OP_NONE;
    if (method_is(ctx, "GET"))
        return retention ? GW_OP_GET_OBJECT_RETENTION : GW_OP_GET_OBJECT_LEGAL_HOLD;
    if (method_is(ctx, "PUT"))
        return retention ? GW_OP_PUT_OBJECT_RETENTION : GW_OP_PUT_OBJECT_LEGAL_HOLD;
    *err = S3_ERR_METHOD_NOT_ALLOWED;
    return GW_OP_NONE;
}

/* ?tagging on an object: the object's tags (GET, PUT, DELETE; another method is refused). */
static gw_op_t classify_object_tagging(const gw_ctx_t *ctx, s3_error_t *err)
{
    gw_op_t op = method_is(ctx, "GET")      ? GW_OP_GET_OBJECT_TAGGING
                 : method_is(ctx, "PUT")    ? GW_OP_PUT_OBJECT_TAGGING
                 : method_is(ctx, "DELETE") ? GW_OP_DELETE_OBJECT_TAGGING
                                            : GW_OP_NONE;
    if (op == GW_OP_NONE)
        *err = S3_ERR_METHOD_NOT_ALLOWED;
    return op;
}

static gw_op_t classify_object(const gw_ctx_t *ctx, s3_error_t *err)
{
    gw_op_t lock;
    int has_upload = query_has(ctx, "uploadId");
    int copy = gw_header(ctx, "x-amz-copy-source").base != NULL;

    if (unsupported_subresource(ctx, 0)) {
        *err = S3_ERR_NOT_IMPLEMENTED;
        return GW_OP_NONE;
    }
    if (method_is(ctx, "OPTIONS"))
        return GW_OP_CORS_PREFLIGHT;
    if (query_has(ctx, "attributes")) { /* GetObjectAttributes; no other method has the sub-resource */
        if (method_is(ctx, "GET") && !has_upload)
            return GW_OP_GET_OBJECT_ATTRIBUTES;
        *err = S3_ERR_NOT_IMPLEMENTED;
        return GW_OP_NONE;
    }
    if (query_has(ctx, "acl"))
        return classify_object_acl(ctx, err);
    if ((lock = classify_object_lock(ctx, err)) != GW_OP_NONE || *err != S3_OK)
        return lock;
    if (query_has(ctx, "tagging"))
        return classify_object_tagging(ctx, err);
    if (method_is(ctx, "GET"))
        return has_upload ? GW_OP_LIST_PARTS : GW_OP_GET_OBJECT;
    if (method_is(ctx, "HEAD"))
        return GW_OP_HEAD_OBJECT;
    if (method_is(ctx, "PUT")) {
        if (has_upload || query_has(ctx, "partNumber"))
            return copy ? GW_OP_UPLOAD_PART_COPY : GW_OP_UPLOAD_PART;
        return copy ? GW_OP_COPY_OBJECT : GW_OP_PUT_OBJECT;
    }
    if (method_is(ctx, "POST")) {
        if (query_has(ctx, "uploads"))
            return GW_OP_CREATE_MULTIPART_UPLOAD;
        if (has_upload)
            return GW_OP_COMPLETE_MULTIPART_UPLOAD;
    } else if (method_is(ctx, "DELETE")) {
        return has_upload ? GW_OP_ABORT_MULTIPART_UPLOAD : GW_OP_DELETE_OBJECT;
    }
    *err = S3_ERR_METHOD_NOT_ALLOWED;
    return GW_OP_NONE;
}

/* ---------------------------------------------------------------- addressing */

/* Reads the bucket of a virtual-host request into ctx->host_bucket (NULL base: path style);
 * non-zero when the Host names no endpoint of ours. */
static int resolve_host(gw_ctx_t *ctx)
{
    size_t ndomains = ctx->env->ndomains;
    const h2o_iovec_t *domains = ctx->env->domains;
    char name[S3_HOST_NAME_MAX + 1];
    h2o_iovec_t bucket;

    ctx->host_bucket = h2o_iovec_init(NULL, 0);
    switch (s3_host_parse(ctx->req->input.authority, domains, ndomains, name, &bucket)) {
    case S3_HOST_PATH_STYLE:
        return 0;
    case S3_HOST_VIRTUAL:
        ctx->host_bucket = h2o_strdup(&ctx->req->pool, bucket.base, bucket.len);
        return 0;
    default:
        return -1;
    }
}

/* Answers a request whose Host names no endpoint of ours: reading it path-style could land it on
 * the wrong resource (PUT /key would create a bucket called key). */
static void refuse_host(gw_ctx_t *ctx)
{
    h2o_iovec_t host = ctx->req->input.authority;
    int printable = !gw_refuse_has_control(host) && host.len <= 255;
    size_t cap = 400 + host.len;
    char *msg = h2o_mem_alloc_pool(&ctx->req->pool, cap);

    snprintf(msg, cap,
             "The Host header '%.*s' names no endpoint of this server: address the bucket in the path of a request "
             "to a configured domain or an IP address, or add the domain to the `domains` setting for "
             "virtual-host-style requests",
             printable ? (int)host.len : 1, printable ? host.base : "?");
    gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, msg);
    gw_set_error_field(ctx, "ArgumentName", h2o_iovec_init(H2O_STRLIT("Host")));
    if (printable)
        gw_set_error_field(ctx, "ArgumentValue", host);
    gw_respond(ctx);
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
    case S3_AUTH_EXPIRES_NEGATIVE: /* answered 403 by the caller, as the next */
        *message = "X-Amz-Expires must be non-negative";
        return S3_ERR_AUTHORIZATION_QUERY_PARAMETERS_ERROR;
    case S3_AUTH_EXPIRES_TOO_LATE: /* answered 403 by the caller, not the code's 400 */
        *message = "Expires must be at most presign_max_expires seconds from now (a week unless configured lower)";
        return S3_ERR_AUTHORIZATION_QUERY_PARAMETERS_ERROR;
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
    ctx->access->access_key = ctx->access_key;
}

/* Signature version 2 (s3cmd signurl, older tools): no payload hash, the body is taken as is. */
static int authenticate_v2(gw_ctx_t *ctx, const s3_request_t *sreq, s3_sigv2_t *v2)
{
    gw_identity_t id;
    const char *message;
    int ret;

    if (gw_iam_lookup(ctx->iam, v2->access_key, &id) != 0 || id.disabled) {
        gw_fail(ctx, S3_ERR_INVALID_ACCESS_KEY_ID, NULL);
        return -1;
    }
    if ((message = gw_roles_locked(ctx, v2->access_key)) != NULL) {
        OPENSSL_cleanse(id.secret_key, sizeof(id.secret_key));
        gw_fail(ctx, S3_ERR_ACCESS_DENIED, message);
        return -1;
    }
    v2->max_lifetime = (int64_t)ctx->env->cfg->presign_max_expires;
    ret = s3_sigv2_verify(sreq, v2, h2o_iovec_init(id.secret_key, strlen(id.secret_key)), time(NULL), &ctx->req->pool);
    OPENSSL_cleanse(id.secret_key, sizeof(id.secret_key));
    if (ret == 0 || ret == S3_AUTH_SIGNATURE_MISMATCH)
        gw_roles_signature_checked(ctx, v2->access_key, ret == 0);
    if (ret != 0) {
        s3_error_t err = auth_error(ret, &message);
        if (ret == S3_AUTH_EXPIRES_TOO_LATE)
            ctx->error_status = 403;
        gw_fail(ctx, err, message);
        return -1;
    }
    ctx->auth.payload_mode = S3_PAYLOAD_UNSIGNED;
    set_identity(ctx, v2->access_key, &id);
    return 0;
}

/* The region of a SigV4 credential scope must be the endpoint's, as S3 requires (a signature made
 * for another region is refused before any key is looked up): AuthorizationHeaderMalformed, or
 * AuthorizationQueryParametersError for a presigned URL, naming the expected region. */
static int check_region(gw_ctx_t *ctx, const s3_auth_t *auth)
{
    const char *expected = ctx->env->cfg->region;
    int presigned = auth->kind == S3_AUTH_KIND_PRESIGNED;
    char *message;

    if (h2o_memis(auth->region.base, auth->region.len, expected, strlen(expected)))
        return 0;
    size_t cap = auth->region.len + strlen(expected) + 96;
    message = h2o_mem_alloc_pool(&ctx->req->pool, cap);
    snprintf(message, cap, "%s the region '%.*s' is wrong; expecting '%s'",
             presigned ? "Error parsing the X-Amz-Credential parameter;" : "The authorization header is malformed;",
             (int)auth->region.len, auth->region.base, expected);
    gw_set_error(ctx, presigned ? S3_ERR_AUTHORIZATION_QUERY_PARAMETERS_ERROR : S3_ERR_AUTHORIZATION_HEADER_MALFORMED,
                 message);
    gw_set_error_field(ctx, "Region", h2o_iovec_init(expected, strlen(expected)));
    gw_respond(ctx);
    return -1;
}

/* A presigned URL valid for longer than allowed: AuthorizationQueryParametersError as S3 words it,
 * answered 403 (S3 answers the code's other cases, a malformed parameter, with 400). */
static void expires_too_late(gw_ctx_t *ctx, uint64_t max)
{
    size_t cap = 160;
    char *message = h2o_mem_alloc_pool(&ctx->req->pool, cap);
    snprintf(message, cap,
             "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less "
             "than %llu seconds",
             (unsigned long long)max);
    ctx->error_status = 403;
    gw_fail(ctx, S3_ERR_AUTHORIZATION_QUERY_PARAMETERS_ERROR, message);
}

/* X-Amz-Expires is at most a week by the protocol (sigv4.c); the presign_max_expires setting may
 * lower it. S3's own words for the week, with the configured number. */
static int check_presign_lifetime(gw_ctx_t *ctx, const s3_auth_t *auth)
{
    uint64_t max = ctx->env->cfg->presign_max_expires;

    if (auth->kind != S3_AUTH_KIND_PRESIGNED || (uint64_t)auth->expires <= max)
        return 0;
    expires_too_late(ctx, max);
    return -1;
}

/* A presigned URL carries the request's x-amz-* headers in its query (SDKs move them there, and
 * SigV2 signs them as headers): S3 takes them as the headers they name, so x-amz-tagging, x-amz-acl
 * or x-amz-meta-* in a presigned PUT's query apply as if sent as headers. A header actually sent
 * wins; the parameters of the signature itself are not headers. */
static void presigned_query_headers(gw_ctx_t *ctx)
{
    static const char *const auth_params[] = {
        "x-amz-algorithm",     "x-amz-credential", "x-amz-date",           "x-amz-expires",
        "x-amz-signedheaders", "x-amz-signature",  "x-amz-security-token", NULL};
    h2o_mem_pool_t *pool = &ctx->req->pool;

    if (!s3_query_has(&ctx->query, "Signature") && !s3_query_has(&ctx->query, "X-Amz-Signature"))
        return;
    for (size_t i = 0; i < ctx->query.count; i++) {
        const s3_query_param_t *p = &ctx->query.params[i];
        if (p->name.len <= 6 || !h2o_lcstris(p->name.base, 6, H2O_STRLIT("x-amz-")))
            continue;
        h2o_iovec_t name = h2o_strdup(pool, p->name.base, p->name.len);
        h2o_strtolower(name.base, name.len);
        int skip = h2o_find_header_by_str(&ctx->req->headers, name.base, name.len, -1) >= 0;
        for (const char *const *a = auth_params; !skip && *a != NULL; a++)
            skip = h2o_memis(name.base, name.len, *a, strlen(*a));
        if (!skip)
            h2o_add_header_by_str(pool, &ctx->req->headers, name.base, name.len, 0, NULL, p->value.base, p->value.len);
    }
}

/* An Authorization header of no scheme S3 knows, or a SigV2 one without key:signature: 400
 * InvalidArgument naming the header, as S3 answers. */
static void refuse_authorization(gw_ctx_t *ctx, const char *message, h2o_iovec_t value)
{
    gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, message);
    gw_set_error_field(ctx, "ArgumentName", h2o_iovec_init(H2O_STRLIT("Authorization")));
    gw_set_error_field(ctx, "ArgumentValue", value);
    gw_respond(ctx);
}

/* Authenticates the request; on failure answers it and returns non-zero. */
static int authenticate(gw_ctx_t *ctx)
{
    gw_req_t *req = ctx->req;
    s3_auth_t *auth = &ctx->auth;
    gw_identity_t id;
    const char *message;
    int ret;

    presigned_query_headers(ctx); /* before sreq takes the headers' array, which this may move */

    s3_request_t sreq = gw_signed_request(ctx);
    s3_sigv2_t v2;
    h2o_iovec_t authz = gw_header(ctx, "authorization");
    if ((ret = s3_sigv2_parse(&sreq, &req->pool, &v2)) != 0) {
        if (authz.base != NULL && memchr(authz.base, ':', authz.len) == NULL) {
            /* "AWS <no key:signature>": S3's words for it */
            refuse_authorization(ctx, "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature", authz);
            return -1;
        }
        gw_fail(ctx, S3_ERR_ACCESS_DENIED, "Malformed AWS signature version 2 authentication");
        return -1;
    }
    if (v2.kind != S3_SIGV2_NONE) {
        v2.host_bucket = ctx->host_bucket;
        return authenticate_v2(ctx, &sreq, &v2);
    }
    if ((ret = s3_auth_parse(&sreq, &req->pool, auth)) != 0) {
        if (ret == S3_AUTH_UNSUPPORTED && authz.len > 0 &&
            !h2o_memis(authz.base, authz.len > 16 ? 16 : authz.len, H2O_STRLIT("AWS4-HMAC-SHA256"))) {
            refuse_authorization(ctx, "Unsupported Authorization Type", authz); /* Bearer, Basic, ... */
            return -1;
        }
        if (ret == S3_AUTH_EXPIRES_TOO_LATE) {
            expires_too_late(ctx, S3_SIGV4_MAX_EXPIRES);
            return -1;
        }
        s3_error_t err = auth_error(ret, &message);
        if (err == S3_ERR_AUTHORIZATION_HEADER_MALFORMED && s3_query_has(&ctx->query, "X-Amz-Algorithm"))
            err = S3_ERR_AUTHORIZATION_QUERY_PARAMETERS_ERROR;
        if (ret == S3_AUTH_EXPIRES_NEGATIVE)
            ctx->error_status = 403;
        gw_fail(ctx, err, message);
        return -1;
    }
    if (auth->kind == S3_AUTH_KIND_NONE)
        return 0; /* anonymous: no identity; the bucket policy decides (gw_authz.h) */
    if (check_region(ctx, auth) != 0 || check_presign_lifetime(ctx, auth) != 0)
        return -1;
    if (gw_iam_lookup(ctx->iam, auth->access_key, &id) != 0 || id.disabled) {
        gw_fail(ctx, S3_ERR_INVALID_ACCESS_KEY_ID, NULL);
        return -1;
    }
    if ((message = gw_roles_locked(ctx, auth->access_key)) != NULL) {
        OPENSSL_cleanse(id.secret_key, sizeof(id.secret_key));
        gw_fail(ctx, S3_ERR_ACCESS_DENIED, message);
        return -1;
    }
    ret = s3_sigv4_verify(&sreq, auth, h2o_iovec_init(id.secret_key, strlen(id.secret_key)), time(NULL), &ctx->sigv4);
    OPENSSL_cleanse(id.secret_key, sizeof(id.secret_key));
    if (ret == 0 || ret == S3_AUTH_SIGNATURE_MISMATCH)
        gw_roles_signature_checked(ctx, auth->access_key, ret == 0);
    if (ret != 0) {
        s3_error_t err = auth_error(ret, &message); /* sets message: call it before reading it */
        gw_fail(ctx, err, message);
        return -1;
    }
    set_identity(ctx, auth->access_key, &id);
    return 0;
}

/* Splits the path into bucket and key after the addressing style: virtual-host style takes the
 * bucket from the Host header and the whole path as the key; path style is /bucket/key. */
static int parse_resource(gw_ctx_t *ctx, h2o_iovec_t path)
{
    h2o_mem_pool_t *pool = &ctx->req->pool;
    h2o_iovec_t raw_bucket, raw_key;

    if (ctx->host_bucket.base != NULL) {
        ctx->bucket = ctx->host_bucket;
        raw_key = h2o_iovec_init(path.base + 1, path.len - 1);
        return s3_percent_decode(pool, raw_key, &ctx->key);
    }
    const char *slash = memchr(path.base + 1, '/', path.len - 1);
    raw_bucket = h2o_iovec_init(path.base + 1, (slash ? slash : path.base + path.len) - (path.base + 1));
    raw_key = slash ? h2o_iovec_init(slash + 1, path.base + path.len - (slash + 1)) : h2o_iovec_init("", 0);
    if (s3_percent_decode(pool, raw_bucket, &ctx->bucket) != 0 || s3_percent_decode(pool, raw_key, &ctx->key) != 0)
        return -1;
    return 0;
}

/* The handler of the operation, once the body it needs was read. */
static void run_handler(gw_ctx_t *ctx)
{
    op_handlers[ctx->op](ctx);
}

static void after_admission(gw_ctx_t *ctx);

static void handle_request(gw_ctx_t *ctx)
{
    gw_req_t *req = ctx->req;
    size_t path_len = req->input.query_at == SIZE_MAX ? req->input.path.len : req->input.query_at;
    h2o_iovec_t path = h2o_iovec_init(req->input.path.base, path_len);
    s3_error_t route_error = S3_OK;
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
    if (resolve_host(ctx) != 0) {
        refuse_host(ctx);
        return;
    }
    /* the console's files are public and carry no credentials (gw_console.h) */
    if (ctx->host_bucket.base == NULL && gw_console_is_path(path)) {
        gw_console_serve(ctx, path);
        return;
    }

    int admin = ctx->host_bucket.base == NULL && path.len >= sizeof(ADMIN_PREFIX) - 1 &&
                memcmp(path.base, ADMIN_PREFIX, sizeof(ADMIN_PREFIX) - 1) == 0;
    if (admin) {
        ctx->op = GW_OP_ADMIN;
    } else {
        if (parse_resource(ctx, path) != 0) {
            gw_fail(ctx, S3_ERR_INVALID_URI, NULL);
            return;
        }
        ctx->op = ctx->bucket.len == 0 ? classify_service(ctx, &route_error)
                  : ctx->key.len == 0  ? classify_bucket(ctx, &route_error)
                                       : classify_object(ctx, &route_error);
    }
    ctx->route_error = route_error;
    ctx->access->op = ctx->op;
    ctx->access->bucket = ctx->bucket;
    ctx->access->key = ctx->key;

    /* an IAM call is signed over its body: its handler reads it first */
    if (!admin && gw_iam_api_is_call(ctx)) {
        gw_iam_api(ctx);
        return;
    }
    /* a form upload is signed in its fields, not its head: its handler reads them first */
    if (ctx->op == GW_OP_POST_OBJECT) {
        gw_post_object(ctx);
        return;
    }
    /* a preflight carries no credentials: the bucket's CORS rules answer it */
    if (ctx->op == GW_OP_CORS_PREFLIGHT) {
        op_handlers[ctx->op](ctx);
        return;
    }
    /* what the layer gave of the body before the caller was known (nothing is asked for before) */
    gw_metrics_t *metrics = ctx->env->metrics;
    uint64_t before_auth = req->bytes_in;
    if (authenticate(ctx) != 0) {
        gw_metrics_body_before_auth(metrics, before_auth); /* ctx and req are gone */
        return;
    }
    gw_metrics_body_before_auth(metrics, before_auth);
    req->authenticated = 1;
    /* a slot before anything costs a worker or a body buffer; the 503 of a shed request is
     * answered here, on the loop */
    gw_ctx_admit(ctx, after_admission);
}

/* The rest of the way in, for an authenticated request holding a slot. */
static void after_admission(gw_ctx_t *ctx)
{
    int admin = ctx->op == GW_OP_ADMIN;
    int ret;

    if (gw_roles_gate(ctx) != 0)
        return; /* an administrator's role, or the root keys once split (gw_roles.h) */
    if (!admin && ctx->key.len > 0 && (ret = s3_key_validate(ctx->key)) != 0) {
        /* a non-empty key refused for its bytes is no UTF-8: S3 answers that it cannot parse the URI */
        gw_fail(ctx, ret == -S3_ERR_INVALID_ARGUMENT ? S3_ERR_INVALID_URI : s3_error_from_ret(ret), NULL);
        return;
    }
    if (ctx->op == GW_OP_NONE) {
        gw_fail(ctx, ctx->route_error, NULL);
        return;
    }
    if (gw_refuse_check(ctx) != 0) {
        gw_respond(ctx);
        return;
    }
    /* object and part bodies stream from the worker, after the handler's checks (gw_body.h) */
    if (ctx->op == GW_OP_PUT_OBJECT || ctx->op == GW_OP_UPLOAD_PART)
        run_handler(ctx);
    else
        gw_body_read_whole(ctx, run_handler);
}

void gw_s3_serve(gw_env_t *env, yc_loop_t *loop, yc_http_req_t *http)
{
    gw_ctx_t *ctx;

    if (gw_ctx_start(env, loop, http, &ctx) == 0)
        handle_request(ctx);
}
