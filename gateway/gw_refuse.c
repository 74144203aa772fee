/* gw_refuse.c — the table of request headers whose meaning the gateway does not implement, and
 * the checks of values echoed into response headers (see gw_refuse.h).
 *
 * Errors follow AWS: NotImplemented (501) carries a <Header> element naming the header;
 * InvalidArgument (400) carries <ArgumentName> and <ArgumentValue>; InvalidStorageClass carries
 * <StorageClassRequested>. A header that changes nothing here (x-amz-request-payer: requester, on a
 * bucket that is not Requester Pays) is accepted, as AWS accepts it. ACL headers are the ACL
 * module's (gw_acl.h).
 */
#include "gateway/gw_refuse.h"
#include <string.h>

#define OP(x)           ((op_set_t)1 << (x))
#define OBJECT_WRITES   (OP(GW_OP_PUT_OBJECT) | OP(GW_OP_COPY_OBJECT) | OP(GW_OP_CREATE_MULTIPART_UPLOAD))
#define OBJECT_READS    (OP(GW_OP_GET_OBJECT) | OP(GW_OP_HEAD_OBJECT) | OP(GW_OP_GET_OBJECT_ATTRIBUTES))
#define PART_UPLOADS    (OP(GW_OP_UPLOAD_PART) | OP(GW_OP_UPLOAD_PART_COPY))
#define COPIES          (OP(GW_OP_COPY_OBJECT) | OP(GW_OP_UPLOAD_PART_COPY))
#define ALL_OPERATIONS  (~(OP(GW_OP_NONE) | OP(GW_OP_ADMIN) | OP(GW_OP_IAM)))
#define MSG_SSE_UNKNOWN "The encryption method specified is not supported"
#define MSG_SSE_HERE    "x-amz-server-side-encryption header is not supported for this operation."
/* the sources of copies are decrypted with their keys (x-amz-copy-source-server-side-encryption-
 * customer-*) by gw_sse.h: no row refuses them */

/* a row's operations are the bits of an op_set_t: more operations than a uint64_t has bits */
typedef unsigned __int128 op_set_t;
_Static_assert(GW_OP__COUNT <= 128, "too many operations for a row's bit set");

typedef struct {
    s3_error_t err;      /* S3_OK: the value is accepted */
    const char *message; /* NULL: the code's default */
} verdict_t;

typedef verdict_t (*judge_fn)(h2o_iovec_t value);

typedef struct {
    const char *name; /* lowercase; ending in '*': a prefix of header names */
    op_set_t ops;     /* the operations the row applies to */
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

static verdict_t judge_lock_enabled(h2o_iovec_t v)
{
    if (h2o_lcstris(v.base, v.len, H2O_STRLIT("false")))
        return ACCEPT;
    if (h2o_lcstris(v.base, v.len, H2O_STRLIT("true")))
        return ACCEPT; /* Object Lock: gw_bucket.c */
    return (verdict_t){S3_ERR_INVALID_ARGUMENT, NULL};
}

static verdict_t judge_sse(h2o_iovec_t v)
{
    static const char *const methods[] = {"AES256", "SM4", "aws:kms", "aws:kms:dsse", NULL};
    if (value_in(v, methods))
        return NOT_IMPLEMENTED; /* not encrypted by this operation: never store as if it were */
    return (verdict_t){S3_ERR_INVALID_ARGUMENT, MSG_SSE_UNKNOWN};
}

/* object writes encrypt with AES256, SM4 and aws:kms (gw_sse.h) */
static verdict_t judge_sse_put(h2o_iovec_t v)
{
    if (value_is(v, "AES256") || value_is(v, "SM4") || value_is(v, "aws:kms"))
        return ACCEPT;
    return judge_sse(v);
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

/* The table. Each row is one feature not implemented (or implemented for some values only). */
static const rule_t rules[] = {
    /* conditional writes where they are not implemented (PutObject, CopyObject,
     * CompleteMultipartUpload and DeleteObject honour theirs: gw_cond_write.h): never write as if
     * the condition held. CreateMultipartUpload's If-Match / If-None-Match are not refused: S3
     * writes nothing there and reads them only at Complete, so they are ignored, as S3 does */
    {"x-amz-if-match-initiated-time", OP(GW_OP_ABORT_MULTIPART_UPLOAD), NULL},
    {"x-amz-write-offset-bytes", OP(GW_OP_PUT_OBJECT), NULL},
    /* server-side encryption where it is not implemented: the bytes would be stored in plaintext
     * (object writes, reads and parts: gw_sse.h) */
    {"x-amz-server-side-encryption", OBJECT_WRITES, judge_sse_put},
    {"x-amz-server-side-encryption", OBJECT_READS | PART_UPLOADS, judge_sse_elsewhere},
    {"x-amz-server-side-encryption-context", OBJECT_WRITES, NULL},
    {"x-amz-server-side-encryption-bucket-key-enabled", OBJECT_WRITES, NULL},
    {"x-amz-server-side-encryption-customer-*", OP(GW_OP_GET_OBJECT_ATTRIBUTES), NULL},
    /* storage classes */
    {"x-amz-storage-class", OBJECT_WRITES, judge_storage_class},
    /* object lock: the x-amz-object-lock-* headers of writes are gw_object_lock.c's */
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

int gw_refuse_check_field(gw_ctx_t *ctx, h2o_iovec_t name, h2o_iovec_t value)
{
    h2o_iovec_t as = name;
    if (value_is(name, "acl"))
        as = h2o_iovec_init(H2O_STRLIT("x-amz-acl"));
    else if (value_is(name, "tagging"))
        as = h2o_iovec_init(H2O_STRLIT("x-amz-tagging"));
    /* a form's encryption fields are judged as PutObject's headers (gw_post_object.c) */
    for (size_t r = 0; r < sizeof(rules) / sizeof(rules[0]); r++) {
        if ((rules[r].ops & OP(GW_OP_PUT_OBJECT)) == 0 || !name_matches(rules[r].name, as))
            continue;
        verdict_t v = rules[r].judge != NULL ? rules[r].judge(value) : NOT_IMPLEMENTED;
        if (v.err != S3_OK) {
            refuse_header(ctx, v, name, value);
            return -1;
        }
    }
    if (is_echoed_header(name) && gw_refuse_has_control(value)) {
        refuse_argument(ctx, "Header values must not contain control characters", name, h2o_iovec_init(NULL, 0));
        return -1;
    }
    return 0;
}

int gw_refuse_check(gw_ctx_t *ctx)
{
    const h2o_headers_t *headers = &ctx->req->headers;
    op_set_t op = OP(ctx->op);

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
