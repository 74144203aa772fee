/* gw_acl_write.c — the ACL a request asks for: on a new object (PutObject, CopyObject,
 * CreateMultipartUpload) and a new bucket (see gw_acl.h). Above gw_authz.c, below gw_bucket.c. */
#include "gateway/gw_acl.h"
#include "gateway/gw_acl_internal.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_bucket_config.h"
#include <string.h>

static const char *const grant_headers[S3_ACL__PERMS] = {"x-amz-grant-read", "x-amz-grant-write",
                                                         "x-amz-grant-read-acp", "x-amz-grant-write-acp",
                                                         "x-amz-grant-full-control"};

/* ---------------------------------------------------------------- the request's ACL */

int gw_acl_has_grant_headers(gw_ctx_t *ctx)
{
    for (int i = 0; i < S3_ACL__PERMS; i++)
        if (gw_header(ctx, grant_headers[i]).base != NULL)
            return 1;
    return 0;
}

int gw_acl_is_owner_canned(h2o_iovec_t canned)
{
    return h2o_memis(canned.base, canned.len, H2O_STRLIT("private")) ||
           h2o_memis(canned.base, canned.len, H2O_STRLIT("bucket-owner-full-control"));
}

/* Refuses an x-amz-acl value that names no canned ACL (InvalidArgument naming the header, as S3
 * answers it) or one this server cannot give (aws-exec-read, 501). 0 when it is one. */
int gw_acl_check_canned(gw_ctx_t *ctx, h2o_iovec_t canned)
{
    static const uint8_t nobody[S3_ACL_ID_LEN];
    s3_acl_t *probe = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*probe));
    int ret = s3_acl_canned(canned, nobody, nobody, 0, probe);
    if (ret == 0)
        return 0;
    gw_set_error(ctx, s3_error_from_ret(ret), NULL);
    if (ret == -S3_ERR_INVALID_ARGUMENT) {
        gw_set_error_field(ctx, "ArgumentName", h2o_iovec_init(H2O_STRLIT("x-amz-acl")));
        gw_set_error_field(ctx, "ArgumentValue", canned);
    } else {
        gw_set_error_field(ctx, "Header", h2o_iovec_init(H2O_STRLIT("x-amz-acl")));
    }
    return -1;
}

/* The ACL that ctx's headers ask for (owner: the resource's owner). 0 with *asked set (0: the
 * request names no ACL), or the S3 error set and -1. */
int gw_acl_from_request(gw_ctx_t *ctx, const uint8_t *owner, const uint8_t *bucket_owner, int on_bucket, s3_acl_t *out,
                        int *asked)
{
    h2o_iovec_t canned = gw_header(ctx, "x-amz-acl");
    int grants = gw_acl_has_grant_headers(ctx), ret;

    *asked = canned.base != NULL || grants;
    if (canned.base != NULL && grants) {
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Specifying both Canned ACLs and Header Grants is not allowed");
        return -1;
    }
    if (canned.base != NULL && gw_acl_check_canned(ctx, canned) != 0)
        return -1;
    if (canned.base != NULL)
        ret = s3_acl_canned(canned, owner, bucket_owner, on_bucket, out);
    else if (grants) {
        h2o_iovec_t values[S3_ACL__PERMS];
        for (int i = 0; i < S3_ACL__PERMS; i++)
            values[i] = gw_header(ctx, grant_headers[i]);
        ret = s3_acl_from_headers(values, owner, out);
    } else {
        s3_acl_canned(h2o_iovec_init(H2O_STRLIT("private")), owner, bucket_owner, on_bucket, out);
        return 0;
    }
    if (ret != 0) {
        gw_set_error(ctx, s3_error_from_ret(ret), NULL);
        return -1;
    }
    if (!gw_acl_grantees_exist(ctx, out)) {
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Invalid id");
        return -1;
    }
    return 0;
}

/* BlockPublicAcls: a request that would make a public ACL is refused. */
int gw_acl_check_block_public(gw_ctx_t *ctx, const gw_bucket_access_t *a, const s3_acl_t *acl)
{
    if (a->pab.block_public_acls && s3_acl_is_public(acl)) {
        gw_set_error(ctx, S3_ERR_ACCESS_DENIED, NULL);
        return -1;
    }
    return 0;
}

int gw_acl_bucket_access(gw_ctx_t *ctx, uint64_t incarnation, const gw_bucket_access_t **a)
{
    int ret = gw_authz_access(ctx, ctx->bucket, incarnation, a);
    if (ret != 0)
        gw_set_store_error(ctx, ret);
    return ret != 0 ? -1 : 0;
}

h2o_iovec_t gw_acl_encoded(gw_ctx_t *ctx, const s3_acl_t *acl)
{
    uint8_t *buf = h2o_mem_alloc_pool(&ctx->req->pool, S3_ACL_ENCODED_MAX);
    return h2o_iovec_init(buf, s3_acl_encode(acl, buf));
}

/* rec->attrs with META_ATTR_ACL set to acl, in ctx's pool. */
static int set_attr(gw_ctx_t *ctx, meta_object_t *rec, const s3_acl_t *acl)
{
    h2o_iovec_t v = gw_acl_encoded(ctx, acl);
    meta_bytes_t value = {v.base, v.len};
    meta_buf_t out = {0};
    if (meta_attr_put(rec->attrs, META_ATTR_ACL, &value, &out) != 0) {
        meta_buf_dispose(&out);
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        return -1;
    }
    h2o_iovec_t copy = h2o_strdup(&ctx->req->pool, (const char *)out.base, out.len);
    rec->attrs = (meta_bytes_t){copy.base, copy.len};
    meta_buf_dispose(&out);
    return 0;
}

int gw_acl_object_attrs(gw_ctx_t *ctx, meta_object_t *rec)
{
    const gw_bucket_access_t *a;
    uint8_t writer[S3_ACL_ID_LEN], bucket_owner[S3_ACL_ID_LEN];
    s3_acl_t *acl = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*acl));
    int asked;

    if (gw_acl_bucket_access(ctx, ctx->bucket_incarnation, &a) != 0)
        return -1;
    h2o_iovec_t canned = gw_header(ctx, "x-amz-acl");
    if (a->ownership == S3_OWNERSHIP_BUCKET_OWNER_ENFORCED) {
        /* ACLs off: the bucket owner owns the object, and only the ACLs that say so are taken */
        if (canned.base != NULL && gw_acl_check_canned(ctx, canned) != 0)
            return -1;
        if (gw_acl_has_grant_headers(ctx) || (canned.base != NULL && !gw_acl_is_owner_canned(canned))) {
            gw_set_error(ctx, S3_ERR_ACCESS_CONTROL_LIST_NOT_SUPPORTED, NULL);
            return -1;
        }
        rec->owner = gw_mb(ctx->bucket_owner);
        return 0;
    }
    h2o_iovec_t owner = ctx->user.base != NULL ? ctx->user : ctx->bucket_owner;
    if (a->ownership == S3_OWNERSHIP_BUCKET_OWNER_PREFERRED && canned.base != NULL &&
        h2o_memis(canned.base, canned.len, H2O_STRLIT("bucket-owner-full-control")))
        owner = ctx->bucket_owner;
    gw_acl_canonical_id(owner, writer);
    gw_acl_canonical_id(ctx->bucket_owner, bucket_owner);
    if (gw_acl_from_request(ctx, writer, bucket_owner, 0, acl, &asked) != 0 ||
        gw_acl_check_block_public(ctx, a, acl) != 0)
        return -1;
    rec->owner = gw_mb(owner);
    /* an object of the bucket owner with no ACL asked for is private: nothing to store */
    if (!asked && h2o_memis(owner.base, owner.len, ctx->bucket_owner.base, ctx->bucket_owner.len))
        return 0;
    return set_attr(ctx, rec, acl);
}

/* ---------------------------------------------------------------- buckets */

/* 1 when a bucket created without x-amz-object-ownership starts as S3's buckets did before April
 * 2023 (the new_bucket_acls setting): ACLs on, no ownership controls, no public-access block. */
static int legacy_defaults(gw_ctx_t *ctx)
{
    return ctx->env->cfg->new_bucket_acls && gw_header(ctx, "x-amz-object-ownership").base == NULL;
}

static int ownership_of_request(gw_ctx_t *ctx, s3_ownership_t *out)
{
    h2o_iovec_t v = gw_header(ctx, "x-amz-object-ownership");
    *out = legacy_defaults(ctx) ? S3_OWNERSHIP_OBJECT_WRITER : S3_OWNERSHIP_BUCKET_OWNER_ENFORCED;
    if (v.base == NULL)
        return 0;
    if (s3_ownership_from_name(v, out) != 0) {
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Invalid x-amz-object-ownership header");
        return -1;
    }
    return 0;
}

int gw_acl_bucket_check(gw_ctx_t *ctx)
{
    s3_ownership_t o;
    s3_acl_t *acl = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*acl));
    uint8_t owner[S3_ACL_ID_LEN];
    int asked;

    if (ownership_of_request(ctx, &o) != 0)
        return -1;
    gw_acl_canonical_id(ctx->user, owner);
    if (gw_acl_from_request(ctx, owner, owner, 1, acl, &asked) != 0)
        return -1;
    h2o_iovec_t canned = gw_header(ctx, "x-amz-acl");
    if (o == S3_OWNERSHIP_BUCKET_OWNER_ENFORCED && asked && (canned.base == NULL || !gw_acl_is_owner_canned(canned))) {
        gw_set_error(ctx, S3_ERR_INVALID_BUCKET_ACL_WITH_OBJECT_OWNERSHIP,
                     "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
        return -1;
    }
    /* a new bucket's public-access block is all on: a public ACL would be blocked */
    if (!legacy_defaults(ctx) && s3_acl_is_public(acl)) {
        gw_set_error(ctx, S3_ERR_ACCESS_DENIED, NULL);
        return -1;
    }
    return 0;
}

int gw_acl_bucket_created(gw_ctx_t *ctx, uint64_t incarnation)
{
    s3_ownership_t o;
    s3_acl_t *acl = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*acl));
    uint8_t owner[S3_ACL_ID_LEN];
    int asked, ret = 0;

    if (ownership_of_request(ctx, &o) != 0)
        return -1;
    if (gw_header(ctx, "x-amz-object-ownership").base != NULL) {
        const char *name = s3_ownership_name(o);
        ret = gw_conf_write(ctx->cluster, ctx->bucket, incarnation, GW_CONF_OWNERSHIP,
                            h2o_iovec_init(name, strlen(name)));
    } else if (legacy_defaults(ctx)) {
        /* ownership controls as DeleteBucketOwnershipControls leaves them (ACLs on, GetBucketOwnership-
         * Controls answers OwnershipControlsNotFoundError) and a public-access block with every setting
         * off, which GetPublicAccessBlock shows */
        ret = gw_conf_write(ctx->cluster, ctx->bucket, incarnation, GW_CONF_OWNERSHIP, h2o_iovec_init(NULL, 0));
        if (ret == 0)
            ret = gw_conf_write(ctx->cluster, ctx->bucket, incarnation, GW_CONF_PUBLIC_ACCESS_BLOCK,
                                h2o_iovec_init(H2O_STRLIT("0000")));
    }
    gw_acl_canonical_id(ctx->user, owner);
    if (ret == 0 && o != S3_OWNERSHIP_BUCKET_OWNER_ENFORCED) {
        if (gw_acl_from_request(ctx, owner, owner, 1, acl, &asked) != 0)
            return -1;
        if (asked)
            ret = gw_conf_write(ctx->cluster, ctx->bucket, incarnation, GW_CONF_ACL, gw_acl_encoded(ctx, acl));
    }
    if (ret != 0) {
        gw_set_store_error(ctx, ret);
        return -1;
    }
    gw_authz_forget(ctx->bucket);
    return 0;
}
