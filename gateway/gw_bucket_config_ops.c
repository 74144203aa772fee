/* gw_bucket_config_ops.c — the bucket configuration calls: Put/Get/DeleteBucketPolicy and
 * GetBucketPolicyStatus, Put/Get/DeleteBucketCors, Put/Get/DeleteBucketTagging,
 * Put/Get/DeleteBucketOwnershipControls, Put/Get/DeletePublicAccessBlock,
 * Put/Get/DeleteBucketLifecycleConfiguration (carried out by gw_lifecycle.h),
 * Put/GetObjectLockConfiguration, Put/Get/DeleteBucketEncryption (applied by gw_sse.h); and the CORS
 * preflight (OPTIONS).
 *
 * Every call is authorized like any request on the bucket (gw_bucket_authorize: the owner, or a
 * grant of the bucket policy for the call's S3 action), then reads or writes one configuration
 * record (gw_bucket_config.h). Documents are checked by the parsers of gateway/s3 before anything
 * is written, and kept in the form their Get answers from: a policy and CORS rules as the client
 * sent them, lifecycle rules and the Object Lock configuration as written back (with the rule IDs
 * S3 would have generated), tags in their stored form, ownership by name, the public-access block
 * as four flags ("1010": BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy,
 * RestrictPublicBuckets).
 *
 * Integrity: a Content-MD5 or x-amz-checksum-* header, when sent, must match the body (BadDigest);
 * PutBucketCors, PutBucketTagging, PutBucketLifecycleConfiguration and PutObjectLockConfiguration
 * require one of them, as S3 does (400 InvalidRequest "Missing required header for this request:
 * Content-Md5.").
 *
 * Defaults of a bucket that never had the setting, as S3 gives its new buckets: ownership
 * BucketOwnerEnforced, every public-access block setting on. Removing one (Delete...) makes its
 * Get answer S3's NotFound error.
 *
 * Object Lock: a bucket has it when it was created with x-amz-bucket-object-lock-enabled: true
 * (gw_object_lock.c writes its record then), or once PutObjectLockConfiguration is accepted on a
 * bucket whose versioning is Enabled, as S3 now allows; on any other bucket it answers 409
 * InvalidBucketState. GetObjectLockConfiguration of a bucket without it answers
 * ObjectLockConfigurationNotFoundError. The configuration cannot be removed.
 */
#include "gateway/gw_authz.h"
#include "gateway/gw_body.h"
#include "gateway/gw_bucket_config.h"
#include "gateway/gw_checksums.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_object_lock.h"
#include "gateway/gw_lifecycle.h"
#include "gateway/s3/acl.h"
#include "gateway/s3/bucket_access.h"
#include "gateway/s3/checksum.h"
#include "gateway/s3/cors.h"
#include "gateway/s3/lifecycle.h"
#include "gateway/s3/objectlock.h"
#include "gateway/s3/policy.h"
#include "gateway/s3/sse_config.h"
#include "gateway/s3/tagging.h"
#include "gateway/s3/xml.h"
#include <stdlib.h>
#include <string.h>

#define MSG_LOCK_VERSIONING "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration"

/* ---------------------------------------------------------------- helpers */

/* Sets the error a document parser decided (code, message, extra elements). */
static void set_detail(gw_ctx_t *ctx, int ret, const s3_error_detail_t *why)
{
    s3_error_t err = why != NULL && why->err != S3_OK ? why->err : s3_error_from_ret(ret);
    const char *message = NULL;
    if (why != NULL && why->err != S3_OK && why->message.base != NULL)
        message = h2o_strdup(&ctx->req->pool, why->message.base, why->message.len).base;
    gw_set_error(ctx, err, message);
    for (size_t i = 0; why != NULL && why->err != S3_OK && i < why->nfields; i++)
        gw_set_error_field(ctx, why->fields[i].name, why->fields[i].value);
}

/* Authorizes ctx and, for a write, reads its body and checks its integrity. */
static int begin(gw_ctx_t *ctx, int with_body, int md5_required)
{
    if (gw_bucket_authorize(ctx) != 0)
        return -1;
    if (!with_body)
        return 0;
    if (gw_body_prepare(ctx) != 0)
        return -1;
    return gw_checksum_body_verify(ctx, md5_required);
}

/* Reads kind of ctx's bucket; for SET, *doc is copied into ctx's pool. */
static int read_conf(gw_ctx_t *ctx, gw_conf_kind_t kind, gw_conf_state_t *state, h2o_iovec_t *doc)
{
    void *raw;
    int ret = gw_conf_read(ctx->cluster, ctx->bucket, ctx->bucket_incarnation, kind, &raw, state, doc);
    if (ret != 0) {
        gw_set_store_error(ctx, ret);
        return -1;
    }
    if (*state == GW_CONF_SET)
        *doc = h2o_strdup(&ctx->req->pool, doc->base, doc->len);
    free(raw);
    return 0;
}

/* Writes doc as kind of ctx's bucket (base NULL: removes it) and answers status. The cached access
 * configuration is forgotten, so this gateway's next request sees the change. */
static void write_conf(gw_ctx_t *ctx, gw_conf_kind_t kind, h2o_iovec_t doc, int status)
{
    int ret = gw_conf_write(ctx->cluster, ctx->bucket, ctx->bucket_incarnation, kind, doc);
    if (ret != 0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    gw_authz_forget(ctx->bucket);
    if (kind == GW_CONF_LIFECYCLE)
        gw_lifecycle_forget(ctx->bucket);
    ctx->status = status;
}

static void answer_xml(gw_ctx_t *ctx, s3_xml_writer_t *w)
{
    ctx->resp_body = s3_xml_writer_result(w);
    ctx->content_type = "application/xml";
}

/* ---------------------------------------------------------------- policy */

static void put_policy(gw_ctx_t *ctx)
{
    s3_policy_options_t opt = {.kind = S3_POLICY_BUCKET,
                               .bucket = ctx->bucket,
                               .principal_exists = gw_authz_principal_exists,
                               .principal_exists_arg = ctx->iam};
    const gw_bucket_access_t *access;
    s3_policy_error_t perr = {{0}};
    s3_policy_t *policy;
    int ret;

    if (begin(ctx, 1, 0) != 0)
        return;
    if ((ret = s3_policy_parse(ctx->body, &opt, &policy, &perr)) != 0) {
        gw_set_error(ctx, s3_error_from_ret(ret),
                     ret == -S3_ERR_MALFORMED_POLICY ? h2o_strdup(&ctx->req->pool, perr.message, SIZE_MAX).base : NULL);
        return;
    }
    int is_public = s3_policy_is_public(policy);
    s3_policy_free(policy);
    if ((ret = gw_authz_access(ctx, ctx->bucket, ctx->bucket_incarnation, &access)) != 0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    if (is_public && access->pab.block_public_policy) {
        gw_set_error(ctx, S3_ERR_ACCESS_DENIED, NULL); /* S3's answer under BlockPublicPolicy */
        return;
    }
    write_conf(ctx, GW_CONF_POLICY, ctx->body, 204);
}

static void get_policy(gw_ctx_t *ctx)
{
    gw_conf_state_t state;
    h2o_iovec_t doc;

    if (begin(ctx, 0, 0) != 0 || read_conf(ctx, GW_CONF_POLICY, &state, &doc) != 0)
        return;
    if (state != GW_CONF_SET) {
        gw_set_error(ctx, S3_ERR_NO_SUCH_BUCKET_POLICY, NULL);
        gw_set_error_field(ctx, "BucketName", ctx->bucket);
        return;
    }
    ctx->resp_body = doc;
    ctx->content_type = "application/json";
}

static void get_policy_status(gw_ctx_t *ctx)
{
    const gw_bucket_access_t *access;
    s3_xml_writer_t w;
    int ret;

    if (begin(ctx, 0, 0) != 0)
        return;
    if ((ret = gw_authz_access(ctx, ctx->bucket, ctx->bucket_incarnation, &access)) != 0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    if (access->policy == NULL) {
        gw_set_error(ctx, S3_ERR_NO_SUCH_BUCKET_POLICY, NULL);
        gw_set_error_field(ctx, "BucketName", ctx->bucket);
        return;
    }
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "PolicyStatus");
    s3_xml_element_bool(&w, "IsPublic", s3_policy_is_public(access->policy));
    s3_xml_close(&w, "PolicyStatus");
    answer_xml(ctx, &w);
}

/* ---------------------------------------------------------------- CORS */

static void put_cors(gw_ctx_t *ctx)
{
    s3_error_detail_t why = {0};
    s3_cors_config_t cfg;
    int ret;

    if (begin(ctx, 1, 1) != 0)
        return;
    if ((ret = s3_cors_parse(&ctx->req->pool, ctx->body, &cfg, &why)) != 0) {
        set_detail(ctx, ret, &why);
        return;
    }
    write_conf(ctx, GW_CONF_CORS, ctx->body, 200);
}

static void get_cors(gw_ctx_t *ctx)
{
    gw_conf_state_t state;
    s3_cors_config_t cfg;
    s3_xml_writer_t w;
    h2o_iovec_t doc;

    if (begin(ctx, 0, 0) != 0 || read_conf(ctx, GW_CONF_CORS, &state, &doc) != 0)
        return;
    if (state != GW_CONF_SET || s3_cors_parse(&ctx->req->pool, doc, &cfg, NULL) != 0) {
        gw_set_error(ctx, S3_ERR_NO_SUCH_CORS_CONFIGURATION, NULL);
        gw_set_error_field(ctx, "BucketName", ctx->bucket);
        return;
    }
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_cors_write_xml(&w, &cfg);
    answer_xml(ctx, &w);
}

/* ---------------------------------------------------------------- tagging */

static void put_tagging(gw_ctx_t *ctx)
{
    s3_error_detail_t why = {0};
    s3_tagset_t set;
    h2o_iovec_t stored;
    int ret;

    if (begin(ctx, 1, 1) != 0)
        return;
    if ((ret = s3_tagging_parse_xml(&ctx->req->pool, ctx->body, S3_TAGS_BUCKET, &set, &why)) != 0) {
        set_detail(ctx, ret, &why);
        return;
    }
    s3_tagset_sort(&set);
    if ((ret = s3_tagging_encode(&ctx->req->pool, &set, &stored)) != 0) {
        gw_set_error(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    /* an empty TagSet leaves the bucket without tags, as S3 does */
    write_conf(ctx, GW_CONF_TAGGING, set.count > 0 ? stored : h2o_iovec_init(NULL, 0), 204);
}

static void get_tagging(gw_ctx_t *ctx)
{
    gw_conf_state_t state;
    s3_xml_writer_t w;
    s3_tagset_t set;
    h2o_iovec_t doc;

    if (begin(ctx, 0, 0) != 0 || read_conf(ctx, GW_CONF_TAGGING, &state, &doc) != 0)
        return;
    if (state != GW_CONF_SET || s3_tagging_decode(&ctx->req->pool, doc, &set) != 0 || set.count == 0) {
        gw_set_error(ctx, S3_ERR_NO_SUCH_TAG_SET, NULL);
        gw_set_error_field(ctx, "BucketName", ctx->bucket);
        return;
    }
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_tagging_write_xml(&w, &set);
    answer_xml(ctx, &w);
}

/* ---------------------------------------------------------------- ownership controls */

static void put_ownership(gw_ctx_t *ctx)
{
    s3_ownership_t o;
    int ret;

    if (begin(ctx, 1, 0) != 0)
        return;
    if ((ret = s3_ownership_parse(&ctx->req->pool, ctx->body, &o)) != 0) {
        gw_set_error(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    if (o == S3_OWNERSHIP_BUCKET_OWNER_ENFORCED) {
        /* S3 refuses to turn ACLs off while the bucket ACL grants anyone but the owner: the grants
         * would stop counting without a word */
        gw_conf_state_t state;
        h2o_iovec_t doc;
        s3_acl_t *acl = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*acl));
        if (read_conf(ctx, GW_CONF_ACL, &state, &doc) != 0)
            return;
        if (state == GW_CONF_SET && s3_acl_decode((const uint8_t *)doc.base, doc.len, acl) == 0 &&
            !s3_acl_is_owner_only(acl)) {
            gw_set_error(ctx, S3_ERR_INVALID_BUCKET_ACL_WITH_OBJECT_OWNERSHIP,
                         "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
            return;
        }
    }
    const char *name = s3_ownership_name(o);
    write_conf(ctx, GW_CONF_OWNERSHIP, h2o_iovec_init(name, strlen(name)), 200);
}

static void get_ownership(gw_ctx_t *ctx)
{
    gw_conf_state_t state;
    s3_ownership_t o = S3_OWNERSHIP_BUCKET_OWNER_ENFORCED;
    s3_xml_writer_t w;
    h2o_iovec_t doc;

    if (begin(ctx, 0, 0) != 0 || read_conf(ctx, GW_CONF_OWNERSHIP, &state, &doc) != 0)
        return;
    if (state == GW_CONF_REMOVED || (state == GW_CONF_SET && s3_ownership_from_name(doc, &o) != 0)) {
        gw_set_error(ctx, S3_ERR_OWNERSHIP_CONTROLS_NOT_FOUND_ERROR, NULL);
        gw_set_error_field(ctx, "BucketName", ctx->bucket);
        return;
    }
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_ownership_write_xml(&w, o);
    answer_xml(ctx, &w);
}

/* ---------------------------------------------------------------- public-access block */

static void put_public_access_block(gw_ctx_t *ctx)
{
    s3_public_access_block_t p;
    int ret;

    if (begin(ctx, 1, 0) != 0)
        return;
    if ((ret = s3_public_access_block_parse(&ctx->req->pool, ctx->body, &p)) != 0) {
        gw_set_error(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    char *flags = h2o_mem_alloc_pool(&ctx->req->pool, 4);
    flags[0] = p.block_public_acls ? '1' : '0';
    flags[1] = p.ignore_public_acls ? '1' : '0';
    flags[2] = p.block_public_policy ? '1' : '0';
    flags[3] = p.restrict_public_buckets ? '1' : '0';
    write_conf(ctx, GW_CONF_PUBLIC_ACCESS_BLOCK, h2o_iovec_init(flags, 4), 200);
}

static void get_public_access_block(gw_ctx_t *ctx)
{
    gw_conf_state_t state;
    s3_public_access_block_t p;
    s3_xml_writer_t w;
    h2o_iovec_t doc;

    if (begin(ctx, 0, 0) != 0 || read_conf(ctx, GW_CONF_PUBLIC_ACCESS_BLOCK, &state, &doc) != 0)
        return;
    if (state == GW_CONF_REMOVED) {
        gw_set_error(ctx, S3_ERR_NO_SUCH_PUBLIC_ACCESS_BLOCK_CONFIGURATION, NULL);
        gw_set_error_field(ctx, "BucketName", ctx->bucket);
        return;
    }
    gw_pab_from_state(state, doc, &p);
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_public_access_block_write_xml(&w, &p);
    answer_xml(ctx, &w);
}

/* ---------------------------------------------------------------- lifecycle */

static void put_lifecycle(gw_ctx_t *ctx)
{
    s3_error_detail_t why = {0};
    s3_lifecycle_config_t cfg;
    int ret;

    if (begin(ctx, 1, 1) != 0)
        return;
    if ((ret = s3_lifecycle_parse(&ctx->req->pool, ctx->body, &cfg, &why)) != 0) {
        set_detail(ctx, ret, &why);
        return;
    }
    /* kept as Get answers it: rules without an ID get the one S3 would have generated; the
     * lifecycle worker (gw_lifecycle.h) carries them out */
    s3_xml_writer_t w;
    s3_lifecycle_assign_ids(&ctx->req->pool, &cfg);
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_lifecycle_write_xml(&w, &cfg);
    write_conf(ctx, GW_CONF_LIFECYCLE, s3_xml_writer_result(&w), 200);
}

static void get_lifecycle(gw_ctx_t *ctx)
{
    gw_conf_state_t state;
    h2o_iovec_t doc;

    if (begin(ctx, 0, 0) != 0 || read_conf(ctx, GW_CONF_LIFECYCLE, &state, &doc) != 0)
        return;
    if (state != GW_CONF_SET) {
        gw_set_error(ctx, S3_ERR_NO_SUCH_LIFECYCLE_CONFIGURATION, NULL);
        gw_set_error_field(ctx, "BucketName", ctx->bucket);
        return;
    }
    ctx->resp_body = doc;
    ctx->content_type = "application/xml";
}

/* ---------------------------------------------------------------- Object Lock */

static void put_object_lock(gw_ctx_t *ctx)
{
    s3_error_detail_t why = {0};
    s3_objectlock_config_t cfg;
    gw_conf_state_t state;
    s3_xml_writer_t w;
    h2o_iovec_t doc;
    int ret;

    gw_lock_t lock;
    uint32_t versioning;

    if (begin(ctx, 1, 1) != 0 || read_conf(ctx, GW_CONF_OBJECT_LOCK, &state, &doc) != 0)
        return;
    /* S3 now lets Object Lock be turned on for a bucket whose versioning is Enabled */
    if (state != GW_CONF_SET) {
        if (gw_object_lock_versioning_locked(ctx, &lock, &versioning) != 0)
            return;
        if (versioning != 1) {
            gw_set_error(ctx, S3_ERR_INVALID_BUCKET_STATE, MSG_LOCK_VERSIONING);
            gw_lock_release(&lock);
            return;
        }
    }
    if ((ret = s3_objectlock_parse_config(&ctx->req->pool, ctx->body, &cfg, &why)) != 0) {
        set_detail(ctx, ret, &why);
    } else {
        s3_xml_writer_init(&w, &ctx->req->pool);
        s3_objectlock_write_config(&w, &cfg);
        write_conf(ctx, GW_CONF_OBJECT_LOCK, s3_xml_writer_result(&w), 200);
        gw_object_lock_forget(ctx->bucket);
    }
    if (state != GW_CONF_SET)
        gw_lock_release(&lock);
}

static void get_object_lock(gw_ctx_t *ctx)
{
    gw_conf_state_t state;
    h2o_iovec_t doc;

    if (begin(ctx, 0, 0) != 0 || read_conf(ctx, GW_CONF_OBJECT_LOCK, &state, &doc) != 0)
        return;
    if (state != GW_CONF_SET) {
        gw_set_error(ctx, S3_ERR_OBJECT_LOCK_CONFIGURATION_NOT_FOUND_ERROR, NULL);
        gw_set_error_field(ctx, "BucketName", ctx->bucket);
        return;
    }
    ctx->resp_body = doc;
    ctx->content_type = "application/xml";
}

/* ---------------------------------------------------------------- default encryption */

/* PutBucketEncryption: the rule objects written without encryption headers get (gw_sse.h). */
static void put_encryption(gw_ctx_t *ctx)
{
    s3_error_detail_t why = {0};
    s3_sse_config_t c;
    int ret;

    if (begin(ctx, 1, 1) != 0)
        return;
    if ((ret = s3_sse_config_parse(&ctx->req->pool, ctx->body, &c, &why)) != 0) {
        set_detail(ctx, ret, &why);
        return;
    }
    if (c.alg == S3_SSE_KMS_DSSE) {
        /* dual-layer encryption is not built: no bucket may promise it */
        gw_set_error(ctx, S3_ERR_NOT_IMPLEMENTED, "The encryption method specified is not implemented");
        return;
    }
    write_conf(ctx, GW_CONF_ENCRYPTION, s3_sse_config_encode(&ctx->req->pool, &c), 200);
}

static void get_encryption(gw_ctx_t *ctx)
{
    gw_conf_state_t state;
    s3_sse_config_t c;
    s3_xml_writer_t w;
    h2o_iovec_t doc;

    if (begin(ctx, 0, 0) != 0 || read_conf(ctx, GW_CONF_ENCRYPTION, &state, &doc) != 0)
        return;
    if (state != GW_CONF_SET || s3_sse_config_decode(doc, &c) != 0) {
        gw_set_error(ctx, S3_ERR_SERVER_SIDE_ENCRYPTION_CONFIGURATION_NOT_FOUND_ERROR, NULL);
        gw_set_error_field(ctx, "BucketName", ctx->bucket);
        return;
    }
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_sse_config_write_xml(&w, &c);
    answer_xml(ctx, &w);
}

/* ---------------------------------------------------------------- removals and dispatch */

static void remove_conf(gw_ctx_t *ctx, gw_conf_kind_t kind)
{
    if (begin(ctx, 0, 0) == 0)
        write_conf(ctx, kind, h2o_iovec_init(NULL, 0), 204);
}

static void config_work(gw_ctx_t *ctx)
{
    switch (ctx->op) {
    case GW_OP_PUT_BUCKET_POLICY:
        put_policy(ctx);
        break;
    case GW_OP_GET_BUCKET_POLICY:
        get_policy(ctx);
        break;
    case GW_OP_DELETE_BUCKET_POLICY:
        remove_conf(ctx, GW_CONF_POLICY);
        break;
    case GW_OP_GET_BUCKET_POLICY_STATUS:
        get_policy_status(ctx);
        break;
    case GW_OP_PUT_BUCKET_CORS:
        put_cors(ctx);
        break;
    case GW_OP_GET_BUCKET_CORS:
        get_cors(ctx);
        break;
    case GW_OP_DELETE_BUCKET_CORS:
        remove_conf(ctx, GW_CONF_CORS);
        break;
    case GW_OP_PUT_BUCKET_TAGGING:
        put_tagging(ctx);
        break;
    case GW_OP_GET_BUCKET_TAGGING:
        get_tagging(ctx);
        break;
    case GW_OP_DELETE_BUCKET_TAGGING:
        remove_conf(ctx, GW_CONF_TAGGING);
        break;
    case GW_OP_PUT_BUCKET_OWNERSHIP_CONTROLS:
        put_ownership(ctx);
        break;
    case GW_OP_GET_BUCKET_OWNERSHIP_CONTROLS:
        get_ownership(ctx);
        break;
    case GW_OP_DELETE_BUCKET_OWNERSHIP_CONTROLS:
        remove_conf(ctx, GW_CONF_OWNERSHIP);
        break;
    case GW_OP_PUT_PUBLIC_ACCESS_BLOCK:
        put_public_access_block(ctx);
        break;
    case GW_OP_GET_PUBLIC_ACCESS_BLOCK:
        get_public_access_block(ctx);
        break;
    case GW_OP_DELETE_PUBLIC_ACCESS_BLOCK:
        remove_conf(ctx, GW_CONF_PUBLIC_ACCESS_BLOCK);
        break;
    case GW_OP_PUT_BUCKET_LIFECYCLE:
        put_lifecycle(ctx);
        break;
    case GW_OP_GET_BUCKET_LIFECYCLE:
        get_lifecycle(ctx);
        break;
    case GW_OP_DELETE_BUCKET_LIFECYCLE:
        remove_conf(ctx, GW_CONF_LIFECYCLE);
        break;
    case GW_OP_PUT_OBJECT_LOCK_CONFIGURATION:
        put_object_lock(ctx);
        break;
    case GW_OP_GET_OBJECT_LOCK_CONFIGURATION:
        get_object_lock(ctx);
        break;
    case GW_OP_PUT_BUCKET_ENCRYPTION:
        put_encryption(ctx);
        break;
    case GW_OP_GET_BUCKET_ENCRYPTION:
        get_encryption(ctx);
        break;
    case GW_OP_DELETE_BUCKET_ENCRYPTION:
        remove_conf(ctx, GW_CONF_ENCRYPTION);
        break;
    default:
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        break;
    }
}

void gw_bucket_config_op(gw_ctx_t *ctx)
{
    switch (ctx->op) {
    case GW_OP_GET_BUCKET_POLICY:
    case GW_OP_GET_BUCKET_POLICY_STATUS:
    case GW_OP_GET_BUCKET_CORS:
    case GW_OP_GET_BUCKET_TAGGING:
    case GW_OP_GET_BUCKET_OWNERSHIP_CONTROLS:
    case GW_OP_GET_PUBLIC_ACCESS_BLOCK:
    case GW_OP_GET_BUCKET_LIFECYCLE:
    case GW_OP_GET_OBJECT_LOCK_CONFIGURATION:
    case GW_OP_GET_BUCKET_ENCRYPTION:
        gw_dispatch_read(ctx, config_work);
        break;
    default:
        gw_dispatch(ctx, config_work);
        break;
    }
}

/* ---------------------------------------------------------------- CORS preflight */

static void preflight_work(gw_ctx_t *ctx)
{
    s3_cors_request_t creq = {.origin = gw_header(ctx, "origin"),
                              .method = ctx->method,
                              .request_method = gw_header(ctx, "access-control-request-method"),
                              .request_headers = gw_header(ctx, "access-control-request-headers"),
                              .on_object = ctx->key.len > 0};
    const gw_bucket_access_t *access;
    s3_error_detail_t why = {0};
    s3_cors_response_t out;
    uint64_t incarnation;
    int ret;

    if ((ret = gw_bucket_lookup(ctx, ctx->bucket, &incarnation)) == GW_ENOENT) {
        gw_set_error(ctx, S3_ERR_ACCESS_FORBIDDEN, "CORSResponse: Bucket not found");
        return;
    }
    if (ret != 0 || (ret = gw_authz_access(ctx, ctx->bucket, incarnation, &access)) != 0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    if ((ret = s3_cors_preflight(&ctx->req->pool, access->cors, &creq, &out, &why)) != 0) {
        set_detail(ctx, ret, &why);
        return;
    }
#define H(name, field)                                                                                                 \
    if (out.field.base != NULL)                                                                                        \
        gw_add_header(ctx, name, out.field.base, out.field.len);
    H("access-control-allow-origin", allow_origin)
    H("access-control-allow-credentials", allow_credentials)
    H("access-control-allow-methods", allow_methods)
    H("access-control-allow-headers", allow_headers)
    H("access-control-expose-headers", expose_headers)
    H("access-control-max-age", max_age)
    H("vary", vary)
#undef H
}

void gw_cors_preflight(gw_ctx_t *ctx)
{
    gw_dispatch_read(ctx, preflight_work);
}
