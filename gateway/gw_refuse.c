/* gw_refuse.c — the table of request headers whose meaning the gateway does not implement, and
 * the checks of values echoed into response headers (see gw_refuse.h).
 *
 * Errors follow AWS: NotImplemented (501) carries a <Header> element naming the header;
 * InvalidArgument (400) carries <ArgumentName> and <ArgumentValue>; InvalidStorageClass carries
 * <StorageClassRequested>. A header that changes nothing here (x-amz-request-payer: requester, on a
 * bucket that is not Requester Pays; x-amz-acl: private, what every object already is) is
 * accepted, as AWS accepts it.
 */
#include "gateway/gw_refuse.h"
#include <string.h>

#define OP(x)           (UINT64_C(1) << (x))
#define OBJECT_WRITES   (OP(GW_OP_PUT_OBJECT) | OP(GW_OP_COPY_OBJECT) | OP(GW_OP_CREATE_MULTIPART_UPLOAD))
#define OBJECT_READS    (OP(GW_OP_GET_OBJECT) | OP(GW_OP_HEAD_OBJECT))
#define PART_UPLOADS    (OP(GW_OP_UPLOAD_PART) | OP(GW_OP_UPLOAD_PART_COPY))
#define COPIES          (OP(GW_OP_COPY_OBJECT) | OP(GW_OP_UPLOAD_PART_COPY))
#define ALL_OPERATIONS  (~(OP(GW_OP_NONE) | OP(GW_OP_ADMIN)))
#define MSG_NO_LOCK     "Bucket is missing ObjectLockConfiguration"
#define MSG_SSE_UNKNOWN "The encryption method specified is not supported"
#define MSG_SSE_HERE    "x-amz-server-side-encryption header is not supported for this operation."

/* a row's operations are the bits of a uint64_t */
_Static_assert(GW_OP__COUNT <= 64, "too many operations for a row's bit set");

typedef struct {
    s3_error_t err;      /* S3_OK: the value is accepted */
    const char *message; /* NULL: the code's default */
} verdict_t;

typedef verdict_t (*judge_fn)(h2o_iovec_t value);

typedef struct {
    const char *name; /* lowercase; ending in '*': a prefix of header names */
    uint64_t ops;     /* the operations the row applies to */
    judge_fn judge;   /* NULL: refused (NotImplemented) whatever the value */
} rule_t;

static const verdict_t ACCEPT = {S3_OK, NULL};
static const verdict_t NOT_IMPLEMENTED = {S3_ERR_NOT_IMPLEMENTED, NULL};

static int value_is(h2o_iovec_t v, const char *s)
{
    return h2o_memis(v.base, v.len, s, strlen(s));
}

static int value_in(h2o_iovec_t v, const char *const *list)
{
    for (; *list != NULL; list++)
        if (value_is(v, *list))
            return 1;
    return 0;
}

/* Canned ACLs: private and bucket-owner-full-control are what every object and bucket already
 * is (only the bucket owner has access); the others would grant access we do not model. */
static verdict_t judge_acl(h2o_iovec_t v)
{
    static const char *const same[] = {"private", "bucket-owner-full-control", NULL};
    static const char *const others[] = {"public-read",
                                         "public-read-write",
                                         "authenticated-read",
                                         "aws-exec-read",
                                         "bucket-owner-read",
                                         "log-delivery-write",
                                         NULL};
    if (value_in(v, same))
        return ACCEPT;
    if (value_in(v, others))
        return NOT_IMPLEMENTED;
    return (verdict_t){S3_ERR_INVALID_ARGUMENT, NULL};
}

/* Object ownership: BucketOwnerEnforced (ACLs disabled, the bucket owner owns every object) is
 * the model the gateway implements; the two ACL-based settings are not. */
static verdict_t judge_ownership(h2o_iovec_t v)
{
    static const char *const acl_based[] = {"ObjectWriter", "BucketOwnerPreferred", NULL};
    if (value_is(v, "BucketOwnerEnforced"))
        return ACCEPT;
    if (value_in(v, acl_based))
        return NOT_IMPLEMENTED;
    return (verdict_t){S3_ERR_INVALID_ARGUMENT, NULL};
}

static verdict_t judge_lock_enabled(h2o_iovec_t v)
{
    if (h2o_lcstris(v.base, v.len, H2O_STRLIT("false")))
        return ACCEPT;
    if (h2o_lcstris(v.base, v.len, H2O_STRLIT("true")))
        return NOT_IMPLEMENTED;
    return (verdict_t){S3_ERR_INVALID_ARGUMENT, NULL};
}

static verdict_t judge_sse(h2o_iovec_t v)
{
    static const char *const methods[] = {"AES256", "aws:kms", "aws:kms:dsse", NULL};
    if (value_in(v, methods))
        return NOT_IMPLEMENTED; /* nothing is encrypted at rest: never store as if it were */
    return (verdict_t){S3_ERR_INVALID_ARGUMENT, MSG_SSE_UNKNOWN};
}

static verdict_t judge_sse_elsewhere(h2o_iovec_t v)
{
    return (verdict_t){S3_ERR_INVALID_ARGUMENT, MSG_SSE_HERE};
}

static verdict_t judge_storage_class(h2o_iovec_t v)
{
    static const char *const others[] = {
        "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE",
        "OUTPOSTS",           "GLACIER_IR",  "SNOW",       "EXPRESS_ONEZONE",     NULL};
    if (value_is(v, "STANDARD"))
        return ACCEPT;
    if (value_in(v, others))
        return NOT_IMPLEMENTED;
    return (verdict_t){S3_ERR_INVALID_STORAGE_CLASS, NULL};
}

/* No bucket has an Object Lock configuration (object lock is not implemented). */
static verdict_t judge_no_lock_configuration(h2o_iovec_t v)
{
    return (verdict_t){S3_ERR_INVALID_REQUEST, MSG_NO_LOCK};
}

/* The table. Each row is one feature not implemented (or implemented for some values only). */
static const rule_t rules[] = {
    /* conditional writes and deletes: never overwrite or delete as if the condition held */
    {"if-match", OBJECT_WRITES | OP(GW_OP_COMPLETE_MULTIPART_UPLOAD) | OP(GW_OP_DELETE_OBJECT), NULL},
    {"if-none-match", OBJECT_WRITES | OP(GW_OP_COMPLETE_MULTIPART_UPLOAD), NULL},
    {"x-amz-if-match-last-modified-time", OP(GW_OP_DELETE_OBJECT), NULL},
    {"x-amz-if-match-size", OP(GW_OP_DELETE_OBJECT), NULL},
    {"x-amz-if-match-initiated-time", OP(GW_OP_ABORT_MULTIPART_UPLOAD), NULL},
    {"x-amz-write-offset-bytes", OP(GW_OP_PUT_OBJECT), NULL},
    /* ACLs and ownership */
    {"x-amz-acl", OBJECT_WRITES | OP(GW_OP_CREATE_BUCKET), judge_acl},
    {"x-amz-grant-*", OBJECT_WRITES | OP(GW_OP_CREATE_BUCKET), NULL},
    {"x-amz-object-ownership", OP(GW_OP_CREATE_BUCKET), judge_ownership},
    /* server-side encryption: the bytes would be stored in plaintext */
    {"x-amz-server-side-encryption", OBJECT_WRITES, judge_sse},
    {"x-amz-server-side-encryption", OBJECT_READS | PART_UPLOADS, judge_sse_elsewhere},
    {"x-amz-server-side-encryption-aws-kms-key-id", OBJECT_WRITES, NULL},
    {"x-amz-server-side-encryption-context", OBJECT_WRITES, NULL},
    {"x-amz-server-side-encryption-bucket-key-enabled", OBJECT_WRITES, NULL},
    {"x-amz-server-side-encryption-customer-*",
     OBJECT_WRITES | OBJECT_READS | PART_UPLOADS | OP(GW_OP_COMPLETE_MULTIPART_UPLOAD), NULL},
    {"x-amz-copy-source-server-side-encryption-customer-*", COPIES, NULL},
    /* storage classes */
    {"x-amz-storage-class", OBJECT_WRITES, judge_storage_class},
    /* object lock */
    {"x-amz-object-lock-mode", OBJECT_WRITES, judge_no_lock_configuration},
    {"x-amz-object-lock-retain-until-date", OBJECT_WRITES, judge_no_lock_configuration},
    {"x-amz-object-lock-legal-hold", OBJECT_WRITES, judge_no_lock_configuration},
    {"x-amz-bucket-object-lock-enabled", OP(GW_OP_CREATE_BUCKET), judge_lock_enabled},
    /* static website hosting */
    {"x-amz-website-redirect-location", OBJECT_WRITES, NULL},
    /* account ids: none exist yet, so no owner can be checked */
    {"x-amz-expected-bucket-owner", ALL_OPERATIONS, NULL},
    {"x-amz-source-expected-bucket-owner", COPIES, NULL},
};

/* Request headers whose values are stored and later echoed into response headers. */
static int is_echoed_header(h2o_iovec_t name)
{
    static const char *const stored[] = {"content-type",
                                         "content-encoding",
                                         "content-disposition",
                                         "content-language",
                                         "cache-control",
                                         "expires",
                                         NULL};
    return value_in(name, stored) || (name.len > 11 && memcmp(name.base, "x-amz-meta-", 11) == 0);
}

static int name_matches(const char *rule, h2o_iovec_t name)
{
    size_t n = strlen(rule);
    if (rule[n - 1] == '*')
        return name.len >= n - 1 && memcmp(name.base, rule, n - 1) == 0;
    return name.len == n && memcmp(name.base, rule, n) == 0;
}

int gw_refuse_has_control(h2o_iovec_t value)
{
    for (size_t i = 0; i < value.len; i++) {
        unsigned char c = (unsigned char)value.base[i];
        if (c < 0x20 || c == 0x7f)
            return 1;
    }
    return 0;
}

static void refuse_argument(gw_ctx_t *ctx, const char *message, h2o_iovec_t name, h2o_iovec_t value)
{
    gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, message);
    gw_set_error_field(ctx, "ArgumentName", name);
    if (value.base != NULL && !gw_refuse_has_control(value))
        gw_set_error_field(ctx, "ArgumentValue", value);
}

/* Sets ctx's error from a row's verdict on header name: value. */
static void refuse_header(gw_ctx_t *ctx, verdict_t v, h2o_iovec_t name, h2o_iovec_t value)
{
    switch (v.err) {
    case S3_ERR_NOT_IMPLEMENTED:
        gw_set_error(ctx, v.err, v.message);
        gw_set_error_field(ctx, "Header", name);
        break;
    case S3_ERR_INVALID_ARGUMENT:
        refuse_argument(ctx, v.message, name, value);
        break;
    case S3_ERR_INVALID_STORAGE_CLASS:
        gw_set_error(ctx, v.err, v.message);
        gw_set_error_field(ctx, "StorageClassRequested", value);
        break;
    default:
        gw_set_error(ctx, v.err, v.message);
        break;
    }
}

/* The presigned overrides of GetObject and HeadObject become response headers as they are. */
static int check_response_overrides(gw_ctx_t *ctx)
{
    for (size_t i = 0; i < ctx->query.count; i++) {
        const s3_query_param_t *p = &ctx->query.params[i];
        if (p->name.len > 9 && memcmp(p->name.base, "response-", 9) == 0 && gw_refuse_has_control(p->value)) {
            refuse_argument(ctx, "Header values in response-* overrides must not contain control characters", p->name,
                            h2o_iovec_init(NULL, 0));
            return -1;
        }
    }
    return 0;
}

int gw_refuse_check(gw_ctx_t *ctx)
{
    const h2o_headers_t *headers = &ctx->req->headers;
    uint64_t op = OP(ctx->op);

    for (size_t i = 0; i < headers->size; i++) {
        h2o_iovec_t name = *headers->entries[i].name, value = headers->entries[i].value;
        for (size_t r = 0; r < sizeof(rules) / sizeof(rules[0]); r++) {
            if ((rules[r].ops & op) == 0 || !name_matches(rules[r].name, name))
                continue;
            verdict_t v = rules[r].judge != NULL ? rules[r].judge(value) : NOT_IMPLEMENTED;
            if (v.err != S3_OK) {
                refuse_header(ctx, v, name, value);
                return -1;
            }
        }
        /* a stored header comes back on every GET: it must not be able to end the headers there */
        if ((op & OBJECT_WRITES) != 0 && is_echoed_header(name) && gw_refuse_has_control(value)) {
            refuse_argument(ctx, "Header values must not contain control characters", name, h2o_iovec_init(NULL, 0));
            return -1;
        }
    }
    if ((op & OBJECT_READS) != 0)
        return check_response_overrides(ctx);
    return 0;
}
