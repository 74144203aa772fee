/* gw_acl_ops.c — Get/PutBucketAcl and Get/PutObjectAcl (see gw_acl.h). */
#include "gateway/gw_acl.h"
#include "gateway/gw_acl_internal.h"
#include "gateway/gw_attrs.h"
#include "gateway/gw_body.h"
#include "gateway/gw_bucket_config.h"
#include "gateway/gw_handlers.h"
#include "gateway/s3/version_id.h"
#include <string.h>

static void answer_acl(gw_ctx_t *ctx, const s3_acl_t *acl)
{
    s3_xml_writer_t w;
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_acl_write_xml(&w, acl, gw_acl_name_of, ctx);
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
}

/* The ACL a Put*Acl request sets: its headers or its AccessControlPolicy body. */
static int acl_to_put(gw_ctx_t *ctx, const gw_bucket_access_t *a, const uint8_t *owner, const uint8_t *bucket_owner,
                      int on_bucket, s3_acl_t *acl)
{
    h2o_iovec_t canned = gw_header(ctx, "x-amz-acl");
    int asked, ret;

    if (a->ownership == S3_OWNERSHIP_BUCKET_OWNER_ENFORCED) {
        /* ACLs off: only the ACL that changes nothing is taken (S3 accepts it to ease migrations) */
        if (canned.base != NULL && gw_acl_check_canned(ctx, canned) != 0)
            return -1;
        if (canned.base != NULL && !gw_acl_has_grant_headers(ctx) && gw_acl_is_owner_canned(canned))
            return 1;
        gw_set_error(ctx, S3_ERR_ACCESS_CONTROL_LIST_NOT_SUPPORTED, NULL);
        return -1;
    }
    if (gw_body_prepare(ctx) != 0 || gw_acl_from_request(ctx, owner, bucket_owner, on_bucket, acl, &asked) != 0)
        return -1;
    if (asked && ctx->body.len > 0) {
        gw_set_error(ctx, S3_ERR_UNEXPECTED_CONTENT, NULL);
        return -1;
    }
    if (!asked) {
        if (ctx->body.len == 0) {
            gw_set_error(ctx, S3_ERR_MISSING_SECURITY_HEADER, "Your request was missing a required header");
            gw_set_error_field(ctx, "MissingHeaderName", h2o_iovec_init(H2O_STRLIT("x-amz-acl")));
            return -1;
        }
        if ((ret = s3_acl_parse_xml(&ctx->req->pool, ctx->body, acl)) != 0) {
            gw_set_error(ctx, s3_error_from_ret(ret), ret == -S3_ERR_INVALID_ARGUMENT ? "Invalid id" : NULL);
            return -1;
        }
        if (memcmp(acl->owner, owner, S3_ACL_ID_LEN) != 0) {
            gw_set_error(ctx, S3_ERR_ACCESS_DENIED, NULL); /* the owner cannot be changed */
            return -1;
        }
        if (!gw_acl_grantees_exist(ctx, acl)) {
            gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Invalid id");
            return -1;
        }
    }
    return gw_acl_check_block_public(ctx, a, acl);
}

static void bucket_acl_work(gw_ctx_t *ctx)
{
    const gw_bucket_access_t *a;
    s3_acl_t *acl = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*acl));
    uint8_t owner[S3_ACL_ID_LEN];
    int ret;

    if (gw_bucket_authorize(ctx) != 0 || gw_acl_bucket_access(ctx, ctx->bucket_incarnation, &a) != 0)
        return;
    gw_acl_canonical_id(ctx->bucket_owner, owner);
    if (ctx->op == GW_OP_GET_BUCKET_ACL) {
        if (a->acl != NULL)
            *acl = *a->acl;
        else
            s3_acl_canned(h2o_iovec_init(H2O_STRLIT("private")), owner, owner, 1, acl);
        answer_acl(ctx, acl);
        return;
    }
    if ((ret = acl_to_put(ctx, a, owner, owner, 1, acl)) != 0)
        return;
    if ((ret = gw_conf_write(ctx->cluster, ctx->bucket, ctx->bucket_incarnation, GW_CONF_ACL,
                             gw_acl_encoded(ctx, acl))) != 0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    gw_authz_forget(ctx->bucket);
}

typedef struct {
    gw_ctx_t *ctx;
    const gw_bucket_access_t *access;
    s3_acl_t *acl;
    int put, ret;
} object_acl_t;

/* With ACLs on, an object another user wrote is that user's: the bucket owner, let in by owning
 * the bucket, reads or changes its ACL only through a grant of the object's ACL (READ_ACP,
 * WRITE_ACP), as S3 has it: a bucket policy cannot give the bucket owner rights on objects it does
 * not own. */
static int owner_may_use_acp(gw_ctx_t *ctx, const object_acl_t *e, const s3_acl_t *current)
{
    uint8_t me[S3_ACL_ID_LEN];

    if (ctx->is_root || e->access->ownership == S3_OWNERSHIP_BUCKET_OWNER_ENFORCED ||
        !h2o_memis(ctx->user.base, ctx->user.len, ctx->bucket_owner.base, ctx->bucket_owner.len))
        return 1;
    gw_acl_canonical_id(ctx->user, me);
    if (memcmp(me, current->owner, S3_ACL_ID_LEN) == 0)
        return 1;
    s3_acl_who_t who = {me};
    return s3_acl_permits(current, who, e->put ? S3_ACL_WRITE_ACP : S3_ACL_READ_ACP, e->access->pab.ignore_public_acls);
}

static int edit_object_acl(void *arg, const meta_object_t *rec, meta_buf_t *attrs)
{
    object_acl_t *e = arg;
    gw_ctx_t *ctx = e->ctx;
    uint8_t owner[S3_ACL_ID_LEN], bucket_owner[S3_ACL_ID_LEN];
    s3_acl_t *current = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*current));

    if (rec->flags & META_OBJ_DELETE_MARKER)
        return e->ret = 1;
    if (gw_acl_of_record(rec, current) != 0) {
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        return e->ret = -1;
    }
    if (!owner_may_use_acp(ctx, e, current)) {
        gw_set_error(ctx, S3_ERR_ACCESS_DENIED, NULL);
        return e->ret = -1;
    }
    if (!e->put) {
        *e->acl = *current;
        return e->ret = 2; /* nothing to write */
    }
    memcpy(owner, current->owner, S3_ACL_ID_LEN);
    gw_acl_canonical_id(ctx->bucket_owner, bucket_owner);
    int ret = acl_to_put(ctx, e->access, owner, bucket_owner, 0, e->acl);
    if (ret != 0)
        return e->ret = ret < 0 ? -1 : 2; /* 1: ownership enforced, the ACL asked changes nothing */
    h2o_iovec_t v = gw_acl_encoded(ctx, e->acl);
    meta_bytes_t value = {v.base, v.len};
    if (meta_attr_put(rec->attrs, META_ATTR_ACL, &value, attrs) != 0) {
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        return e->ret = -1;
    }
    return 0;
}

/* GetObjectAcl reads: no lock, the version's ACL as the drives agree on it now. Returns what
 * gw_attrs_change would (the edit's value, or the lookup's error). */
static int read_object_acl(gw_ctx_t *ctx, const uint8_t *vid, object_acl_t *e)
{
    gw_object_t *o = NULL;
    int ret = gw_object_lookup(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key), vid, &o);
    if (ret != 0)
        return ret;
    ret = edit_object_acl(e, gw_object_record(o), NULL);
    gw_object_free(o);
    return ret;
}

static void object_acl_work(gw_ctx_t *ctx)
{
    object_acl_t e = {.ctx = ctx, .put = ctx->op == GW_OP_PUT_OBJECT_ACL};
    h2o_iovec_t version = s3_query_get(&ctx->query, "versionId");
    uint8_t vid[S3_VERSION_ID_LEN], changed[META_ID_LEN];
    int ret;

    e.acl = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*e.acl));
    if (gw_bucket_authorize(ctx) != 0 || gw_acl_bucket_access(ctx, ctx->bucket_incarnation, &e.access) != 0)
        return;
    if (version.base != NULL && s3_version_id_parse(version, vid) != 0) {
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Invalid version id specified");
        return;
    }
    const uint8_t *which = version.base != NULL ? vid : NULL;
    ret = e.put ? gw_attrs_change(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key), which, edit_object_acl, &e,
                                  changed)
                : read_object_acl(ctx, which, &e);
    if (ret == GW_ENOENT || e.ret == 1) {
        if (version.base != NULL && e.ret == 1)
            gw_set_error(ctx, S3_ERR_METHOD_NOT_ALLOWED, NULL);
        else
            gw_set_error(ctx, version.base != NULL ? S3_ERR_NO_SUCH_VERSION : S3_ERR_NO_SUCH_KEY, NULL);
        return;
    }
    if (e.ret < 0)
        return; /* the error is set */
    if (ret != 0 && e.ret != 2) {
        gw_set_store_error(ctx, ret);
        return;
    }
    if (version.base != NULL)
        gw_add_header(ctx, "x-amz-version-id", version.base, version.len);
    if (!e.put)
        answer_acl(ctx, e.acl);
}

void gw_acl_op(gw_ctx_t *ctx)
{
    switch (ctx->op) {
    case GW_OP_GET_BUCKET_ACL:
        gw_dispatch_read(ctx, bucket_acl_work);
        break;
    case GW_OP_PUT_BUCKET_ACL:
        gw_dispatch(ctx, bucket_acl_work);
        break;
    case GW_OP_GET_OBJECT_ACL:
        gw_dispatch_read(ctx, object_acl_work);
        break;
    default:
        gw_dispatch(ctx, object_acl_work);
        break;
    }
}
