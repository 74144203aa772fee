/* gw_acl.c — canonical ids, the ACL calls, the ACL of new objects and buckets, and ACL grants in
 * authorization (see gw_acl.h). */
#include "gateway/gw_acl.h"
#include "gateway/gw_attrs.h"
#include "gateway/gw_bucket_config.h"
#include "gateway/gw_body.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_iam.h"
#include "gateway/s3/version_id.h"
#include <openssl/hmac.h>
#include <string.h>

/* Fixed: the ids must be the same on every gateway and across restarts. */
static const char id_key[] = "yuncang canonical user id v1";

static const char *const grant_headers[S3_ACL__PERMS] = {"x-amz-grant-read", "x-amz-grant-write",
                                                         "x-amz-grant-read-acp", "x-amz-grant-write-acp",
                                                         "x-amz-grant-full-control"};

void gw_acl_canonical_id(h2o_iovec_t name, uint8_t out[S3_ACL_ID_LEN])
{
    uint8_t msg[5 + 256];
    size_t n = name.len < 256 ? name.len : 256;
    unsigned int len = S3_ACL_ID_LEN;
    memcpy(msg, "user/", 5);
    memcpy(msg + 5, name.base, n);
    HMAC(EVP_sha256(), id_key, sizeof(id_key) - 1, msg, 5 + n, out, &len);
}

h2o_iovec_t gw_acl_canonical_text(gw_ctx_t *ctx, h2o_iovec_t name)
{
    uint8_t id[S3_ACL_ID_LEN];
    char *text = h2o_mem_alloc_pool(&ctx->req->pool, S3_ACL_ID_TEXT + 1);
    gw_acl_canonical_id(name, id);
    s3_acl_id_format(id, text);
    return h2o_iovec_init(text, S3_ACL_ID_TEXT);
}

void gw_acl_write_owner(s3_xml_writer_t *w, const char *tag, h2o_iovec_t name)
{
    uint8_t id[S3_ACL_ID_LEN];
    char text[S3_ACL_ID_TEXT + 1];
    gw_acl_canonical_id(name, id);
    s3_acl_id_format(id, text);
    s3_xml_open(w, tag);
    s3_xml_element_str(w, "ID", text);
    s3_xml_element(w, "DisplayName", name);
    s3_xml_close(w, tag);
}

/* ---------------------------------------------------------------- names of ids */

typedef struct {
    const uint8_t *id;
    char name[GW_IAM_NAME_MAX + 1];
    int found;
} find_name_t;

static void match_user(void *arg, const gw_identity_t *who)
{
    find_name_t *f = arg;
    uint8_t id[S3_ACL_ID_LEN];
    if (f->found)
        return;
    gw_acl_canonical_id(h2o_iovec_init(who->user, strlen(who->user)), id);
    if (memcmp(id, f->id, S3_ACL_ID_LEN) == 0) {
        memcpy(f->name, who->user, sizeof(f->name));
        f->found = 1;
    }
}

/* The user whose id it is; {NULL, 0} for none. Walks the users: only the ACL calls ask. */
static h2o_iovec_t name_of(void *arg, const uint8_t id[S3_ACL_ID_LEN])
{
    gw_ctx_t *ctx = arg;
    find_name_t f = {.id = id};
    uint8_t root[S3_ACL_ID_LEN];
    gw_acl_canonical_id(h2o_iovec_init(H2O_STRLIT("root")), root);
    if (memcmp(root, id, S3_ACL_ID_LEN) == 0)
        return h2o_iovec_init(H2O_STRLIT("root"));
    gw_iam_foreach(ctx->iam, match_user, &f);
    return f.found ? h2o_strdup(&ctx->req->pool, f.name, strlen(f.name)) : h2o_iovec_init(NULL, 0);
}

/* 1 when every user grantee of acl is a user here (S3 refuses an unknown id: InvalidArgument). */
static int grantees_exist(gw_ctx_t *ctx, const s3_acl_t *acl)
{
    for (size_t i = 0; i < acl->ngrants; i++)
        if (acl->grants[i].grantee == S3_ACL_USER && name_of(ctx, acl->grants[i].id).base == NULL)
            return 0;
    return 1;
}

/* ---------------------------------------------------------------- the request's ACL */

static int has_grant_headers(gw_ctx_t *ctx)
{
    for (int i = 0; i < S3_ACL__PERMS; i++)
        if (gw_header(ctx, grant_headers[i]).base != NULL)
            return 1;
    return 0;
}

static int is_owner_canned(h2o_iovec_t canned)
{
    return h2o_memis(canned.base, canned.len, H2O_STRLIT("private")) ||
           h2o_memis(canned.base, canned.len, H2O_STRLIT("bucket-owner-full-control"));
}

/* Refuses an x-amz-acl value that names no canned ACL (InvalidArgument naming the header, as S3
 * answers it) or one this server cannot give (aws-exec-read, 501). 0 when it is one. */
static int check_canned(gw_ctx_t *ctx, h2o_iovec_t canned)
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
static int acl_from_request(gw_ctx_t *ctx, const uint8_t *owner, const uint8_t *bucket_owner, int on_bucket,
                            s3_acl_t *out, int *asked)
{
    h2o_iovec_t canned = gw_header(ctx, "x-amz-acl");
    int grants = has_grant_headers(ctx), ret;

    *asked = canned.base != NULL || grants;
    if (canned.base != NULL && grants) {
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Specifying both Canned ACLs and Header Grants is not allowed");
        return -1;
    }
    if (canned.base != NULL && check_canned(ctx, canned) != 0)
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
    if (!grantees_exist(ctx, out)) {
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Invalid id");
        return -1;
    }
    return 0;
}

/* BlockPublicAcls: a request that would make a public ACL is refused. */
static int check_block_public(gw_ctx_t *ctx, const gw_bucket_access_t *a, const s3_acl_t *acl)
{
    if (a->pab.block_public_acls && s3_acl_is_public(acl)) {
        gw_set_error(ctx, S3_ERR_ACCESS_DENIED, NULL);
        return -1;
    }
    return 0;
}

static int bucket_access(gw_ctx_t *ctx, uint64_t incarnation, const gw_bucket_access_t **a)
{
    int ret = gw_authz_access(ctx, ctx->bucket, incarnation, a);
    if (ret != 0)
        gw_set_store_error(ctx, ret);
    return ret != 0 ? -1 : 0;
}

static h2o_iovec_t encoded(gw_ctx_t *ctx, const s3_acl_t *acl)
{
    uint8_t *buf = h2o_mem_alloc_pool(&ctx->req->pool, S3_ACL_ENCODED_MAX);
    return h2o_iovec_init(buf, s3_acl_encode(acl, buf));
}

/* rec->attrs with META_ATTR_ACL set to acl, in ctx's pool. */
static int set_attr(gw_ctx_t *ctx, meta_object_t *rec, const s3_acl_t *acl)
{
    h2o_iovec_t v = encoded(ctx, acl);
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

    if (bucket_access(ctx, ctx->bucket_incarnation, &a) != 0)
        return -1;
    h2o_iovec_t canned = gw_header(ctx, "x-amz-acl");
    if (a->ownership == S3_OWNERSHIP_BUCKET_OWNER_ENFORCED) {
        /* ACLs off: the bucket owner owns the object, and only the ACLs that say so are taken */
        if (canned.base != NULL && check_canned(ctx, canned) != 0)
            return -1;
        if (has_grant_headers(ctx) || (canned.base != NULL && !is_owner_canned(canned))) {
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
    if (acl_from_request(ctx, writer, bucket_owner, 0, acl, &asked) != 0 || check_block_public(ctx, a, acl) != 0)
        return -1;
    rec->owner = gw_mb(owner);
    /* an object of the bucket owner with no ACL asked for is private: nothing to store */
    if (!asked && h2o_memis(owner.base, owner.len, ctx->bucket_owner.base, ctx->bucket_owner.len))
        return 0;
    return set_attr(ctx, rec, acl);
}

/* ---------------------------------------------------------------- buckets */

static int ownership_of_request(gw_ctx_t *ctx, s3_ownership_t *out)
{
    h2o_iovec_t v = gw_header(ctx, "x-amz-object-ownership");
    *out = S3_OWNERSHIP_BUCKET_OWNER_ENFORCED;
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
    if (acl_from_request(ctx, owner, owner, 1, acl, &asked) != 0)
        return -1;
    h2o_iovec_t canned = gw_header(ctx, "x-amz-acl");
    if (o == S3_OWNERSHIP_BUCKET_OWNER_ENFORCED && asked && (canned.base == NULL || !is_owner_canned(canned))) {
        gw_set_error(ctx, S3_ERR_INVALID_BUCKET_ACL_WITH_OBJECT_OWNERSHIP,
                     "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
        return -1;
    }
    /* a new bucket's public-access block is all on: a public ACL would be blocked */
    if (s3_acl_is_public(acl)) {
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
    }
    gw_acl_canonical_id(ctx->user, owner);
    if (ret == 0 && o != S3_OWNERSHIP_BUCKET_OWNER_ENFORCED) {
        if (acl_from_request(ctx, owner, owner, 1, acl, &asked) != 0)
            return -1;
        if (asked)
            ret = gw_conf_write(ctx->cluster, ctx->bucket, incarnation, GW_CONF_ACL, encoded(ctx, acl));
    }
    if (ret != 0) {
        gw_set_store_error(ctx, ret);
        return -1;
    }
    gw_authz_forget(ctx->bucket);
    return 0;
}

/* ---------------------------------------------------------------- the ACL calls */

static void answer_acl(gw_ctx_t *ctx, const s3_acl_t *acl)
{
    s3_xml_writer_t w;
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_acl_write_xml(&w, acl, name_of, ctx);
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
        if (canned.base != NULL && check_canned(ctx, canned) != 0)
            return -1;
        if (canned.base != NULL && !has_grant_headers(ctx) && is_owner_canned(canned))
            return 1;
        gw_set_error(ctx, S3_ERR_ACCESS_CONTROL_LIST_NOT_SUPPORTED, NULL);
        return -1;
    }
    if (gw_body_prepare(ctx) != 0 || acl_from_request(ctx, owner, bucket_owner, on_bucket, acl, &asked) != 0)
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
            gw_set_error(ctx, s3_error_from_ret(ret), NULL);
            return -1;
        }
        if (memcmp(acl->owner, owner, S3_ACL_ID_LEN) != 0) {
            gw_set_error(ctx, S3_ERR_ACCESS_DENIED, NULL); /* the owner cannot be changed */
            return -1;
        }
        if (!grantees_exist(ctx, acl)) {
            gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Invalid id");
            return -1;
        }
    }
    return check_block_public(ctx, a, acl);
}

static void bucket_acl_work(gw_ctx_t *ctx)
{
    const gw_bucket_access_t *a;
    s3_acl_t *acl = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*acl));
    uint8_t owner[S3_ACL_ID_LEN];
    int ret;

    if (gw_bucket_authorize(ctx) != 0 || bucket_access(ctx, ctx->bucket_incarnation, &a) != 0)
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
    if ((ret = gw_conf_write(ctx->cluster, ctx->bucket, ctx->bucket_incarnation, GW_CONF_ACL, encoded(ctx, acl))) !=
        0) {
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

/* The ACL of rec: its attribute, or private to the record's owner. */
static int acl_of_record(const meta_object_t *rec, s3_acl_t *out)
{
    meta_bytes_t v;
    uint8_t owner[S3_ACL_ID_LEN];
    int ret = meta_attr_get(rec->attrs, META_ATTR_ACL, &v);
    if (ret == 1)
        return s3_acl_decode((const uint8_t *)v.base, v.len, out);
    if (ret != 0)
        return -1;
    gw_acl_canonical_id(h2o_iovec_init(rec->owner.base, rec->owner.len), owner);
    return s3_acl_canned(h2o_iovec_init(H2O_STRLIT("private")), owner, owner, 0, out);
}

static int edit_object_acl(void *arg, const meta_object_t *rec, meta_buf_t *attrs)
{
    object_acl_t *e = arg;
    gw_ctx_t *ctx = e->ctx;
    uint8_t owner[S3_ACL_ID_LEN], bucket_owner[S3_ACL_ID_LEN];
    s3_acl_t *current = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*current));

    if (rec->flags & META_OBJ_DELETE_MARKER)
        return e->ret = 1;
    if (acl_of_record(rec, current) != 0) {
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
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
    h2o_iovec_t v = encoded(ctx, e->acl);
    meta_bytes_t value = {v.base, v.len};
    if (meta_attr_put(rec->attrs, META_ATTR_ACL, &value, attrs) != 0) {
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        return e->ret = -1;
    }
    return 0;
}

static void object_acl_work(gw_ctx_t *ctx)
{
    object_acl_t e = {.ctx = ctx, .put = ctx->op == GW_OP_PUT_OBJECT_ACL};
    h2o_iovec_t version = s3_query_get(&ctx->query, "versionId");
    uint8_t vid[S3_VERSION_ID_LEN], changed[META_ID_LEN];
    int ret;

    e.acl = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*e.acl));
    if (gw_bucket_authorize(ctx) != 0 || bucket_access(ctx, ctx->bucket_incarnation, &e.access) != 0)
        return;
    if (version.base != NULL && s3_version_id_parse(version, vid) != 0) {
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Invalid version id specified");
        return;
    }
    ret = gw_attrs_change(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key), version.base != NULL ? vid : NULL,
                          edit_object_acl, &e, changed);
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

/* ---------------------------------------------------------------- authorization */

/* The permission action needs, on the bucket (*on_object 0) or on the object's ACL. -1: no ACL
 * permission gives it. */
static int permission_of(s3_policy_action_t action, int *on_object)
{
    *on_object = 0;
    switch (action) {
    case S3_POLICY_ACTION_LIST_BUCKET:
    case S3_POLICY_ACTION_LIST_BUCKET_VERSIONS:
    case S3_POLICY_ACTION_LIST_BUCKET_MULTIPART_UPLOADS:
        return S3_ACL_READ;
    case S3_POLICY_ACTION_PUT_OBJECT:
    case S3_POLICY_ACTION_DELETE_OBJECT:
    case S3_POLICY_ACTION_DELETE_OBJECT_VERSION:
    case S3_POLICY_ACTION_ABORT_MULTIPART_UPLOAD:
        return S3_ACL_WRITE;
    case S3_POLICY_ACTION_GET_BUCKET_ACL:
        return S3_ACL_READ_ACP;
    case S3_POLICY_ACTION_PUT_BUCKET_ACL:
        return S3_ACL_WRITE_ACP;
    default:
        break;
    }
    *on_object = 1;
    switch (action) {
    case S3_POLICY_ACTION_GET_OBJECT:
    case S3_POLICY_ACTION_GET_OBJECT_VERSION:
        return S3_ACL_READ;
    case S3_POLICY_ACTION_GET_OBJECT_ACL:
    case S3_POLICY_ACTION_GET_OBJECT_VERSION_ACL:
        return S3_ACL_READ_ACP;
    case S3_POLICY_ACTION_PUT_OBJECT_ACL:
    case S3_POLICY_ACTION_PUT_OBJECT_VERSION_ACL:
        return S3_ACL_WRITE_ACP;
    default:
        return -1;
    }
}

/* The ACL of the version of key the request names. 0, or -1 (no such version: no grant). */
static int object_acl(gw_ctx_t *ctx, const gw_authz_bucket_t *b, h2o_iovec_t key, s3_acl_t *out)
{
    char ns[META_NS_MAX + 1];
    size_t nslen = meta_bucket_ns((meta_bytes_t){b->name.base, b->name.len}, b->incarnation, ns);
    h2o_iovec_t version = s3_query_get(&ctx->query, "versionId");
    uint8_t vid[S3_VERSION_ID_LEN];
    gw_object_t *o = NULL;
    int ret;

    if (version.base != NULL && s3_version_id_parse(version, vid) != 0)
        return -1;
    if (gw_object_lookup(ctx->cluster, (meta_bytes_t){ns, nslen}, gw_mb(key), version.base != NULL ? vid : NULL, &o) !=
        0)
        return -1;
    const meta_object_t *rec = gw_object_record(o);
    ret = (rec->flags & META_OBJ_DELETE_MARKER) ? -1 : acl_of_record(rec, out);
    gw_object_free(o);
    return ret;
}

int gw_acl_allows(gw_ctx_t *ctx, const gw_authz_bucket_t *b, const gw_bucket_access_t *a, s3_policy_action_t action,
                  h2o_iovec_t key)
{
    int on_object, perm = permission_of(action, &on_object);
    uint8_t id[S3_ACL_ID_LEN];
    s3_acl_who_t who = {NULL};
    s3_acl_t *acl;

    if (perm < 0 || a->ownership == S3_OWNERSHIP_BUCKET_OWNER_ENFORCED)
        return 0;
    if (ctx->access_key.base != NULL) {
        gw_acl_canonical_id(ctx->user, id);
        who.id = id;
    }
    if (!on_object)
        return a->acl != NULL && s3_acl_permits(a->acl, who, (s3_acl_perm_t)perm, a->pab.ignore_public_acls);
    if (key.base == NULL)
        return 0;
    acl = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*acl));
    return object_acl(ctx, b, key, acl) == 0 &&
           s3_acl_permits(acl, who, (s3_acl_perm_t)perm, a->pab.ignore_public_acls);
}
