/* gw_acl.c — canonical ids, the names behind them, and ACL grants in authorization (see gw_acl.h).
 * Below gw_authz.c, which asks gw_acl_allows. */
#include "gateway/gw_acl.h"
#include "gateway/gw_acl_internal.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_iam.h"
#include "gateway/gw_object.h"
#include "gateway/s3/version_id.h"
#include <openssl/hmac.h>
#include <string.h>

/* Fixed: the ids must be the same on every gateway and across restarts. */
static const char id_key[] = "yuncang canonical user id v1";

#define MEMO_SLOTS    8
#define MEMO_NAME_MAX 64 /* GW_IAM_NAME_MAX: longer names are computed each time */

/* The ids of the last names each thread asked for. An HMAC costs microseconds (OpenSSL 3 looks
 * the algorithm up on every one-shot call), a listing asks once per entry and an evaluation once
 * per request, for a handful of names: a memo of a pure function, per thread so it takes no lock. */
typedef struct {
    size_t len;
    char name[MEMO_NAME_MAX];
    uint8_t id[S3_ACL_ID_LEN];
} memo_t;
static __thread memo_t memo[MEMO_SLOTS];
static __thread unsigned memo_next;

void gw_acl_canonical_id(h2o_iovec_t name, uint8_t out[S3_ACL_ID_LEN])
{
    uint8_t msg[5 + 256];
    size_t n = name.len < 256 ? name.len : 256; /* names are at most GW_IAM_NAME_MAX */
    unsigned int len = S3_ACL_ID_LEN;

    for (size_t i = 0; i < MEMO_SLOTS; i++) {
        if (memo[i].len == name.len && name.len > 0 && memcmp(memo[i].name, name.base, name.len) == 0) {
            memcpy(out, memo[i].id, S3_ACL_ID_LEN);
            return;
        }
    }
    memcpy(msg, "user/", 5);
    memcpy(msg + 5, name.base, n);
    HMAC(EVP_sha256(), id_key, sizeof(id_key) - 1, msg, 5 + n, out, &len);
    if (name.len > 0 && name.len <= MEMO_NAME_MAX) {
        memo_t *m = &memo[memo_next++ % MEMO_SLOTS];
        m->len = name.len;
        memcpy(m->name, name.base, name.len);
        memcpy(m->id, out, S3_ACL_ID_LEN);
    }
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
h2o_iovec_t gw_acl_name_of(void *arg, const uint8_t id[S3_ACL_ID_LEN])
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
int gw_acl_grantees_exist(gw_ctx_t *ctx, const s3_acl_t *acl)
{
    for (size_t i = 0; i < acl->ngrants; i++)
        if (acl->grants[i].grantee == S3_ACL_USER && gw_acl_name_of(ctx, acl->grants[i].id).base == NULL)
            return 0;
    return 1;
}

/* The ACL of rec: its attribute, or private to the record's owner. */
int gw_acl_of_record(const meta_object_t *rec, s3_acl_t *out)
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

/* The ACL of the version of key the request names. 0; 1 when there is no such key (or its newest
 * version is a delete marker); -1 otherwise (no grant). */
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
    ret = gw_object_lookup(ctx->cluster, (meta_bytes_t){ns, nslen}, gw_mb(key), version.base != NULL ? vid : NULL, &o);
    if (ret != 0)
        return ret == GW_ENOENT ? 1 : -1;
    const meta_object_t *rec = gw_object_record(o);
    ret = (rec->flags & META_OBJ_DELETE_MARKER) ? 1 : gw_acl_of_record(rec, out);
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
    int found = object_acl(ctx, b, key, acl);
    if (found == 1 && perm == S3_ACL_READ)
        /* a read of a missing key: whoever may list the bucket learns it is missing (404), anyone
         * else gets 403, as S3 answers */
        return a->acl != NULL && s3_acl_permits(a->acl, who, S3_ACL_READ, a->pab.ignore_public_acls);
    return found == 0 && s3_acl_permits(acl, who, (s3_acl_perm_t)perm, a->pab.ignore_public_acls);
}
