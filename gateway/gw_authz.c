/* gw_authz.c — the evaluator's call for every request on a bucket, and the cache of bucket
 * access configurations (see gw_authz.h). */
#include "gateway/gw_authz.h"
#include "gateway/gw_roles.h"
#include "gateway/gw_acl.h"
#include "common/clock.h"
#include "common/log.h"
#include "gateway/gw_bucket_config.h"
#include "gateway/gw_iam.h"
#include "gateway/gw_object.h"
#include "gateway/gw_tagging.h"
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <xxhash.h>

#define CACHE_SLOTS  1024
#define CACHE_TTL_NS (2LL * 1000 * 1000 * 1000)
#define MAX_VALUES   32

/* A cached configuration: the public part first, then what owns its memory. */
typedef struct {
    gw_bucket_access_t access;
    atomic_size_t refs;
    char name[META_BUCKET_MAX + 1];
    int64_t expires_ns;
    s3_policy_t *policy;
    h2o_mem_pool_t pool; /* the CORS rules, the bucket ACL */
    s3_cors_config_t cors;
} entry_t;

/* Process-wide, like the bucket-record cache (gw_bucket.c): one per gateway process. */
static entry_t *cache[CACHE_SLOTS];
static pthread_mutex_t cache_mutex = PTHREAD_MUTEX_INITIALIZER;

static size_t slot_of(h2o_iovec_t name)
{
    return XXH3_64bits(name.base, name.len) % CACHE_SLOTS;
}

static void entry_release(entry_t *e)
{
    if (e == NULL || atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    s3_policy_free(e->policy);
    h2o_mem_clear_pool(&e->pool);
    free(e);
}

static int entry_is(const entry_t *e, h2o_iovec_t name, uint64_t incarnation)
{
    return e != NULL && e->access.incarnation == incarnation && strlen(e->name) == name.len &&
           memcmp(e->name, name.base, name.len) == 0;
}

void gw_authz_forget(h2o_iovec_t name)
{
    size_t slot = slot_of(name);
    entry_t *gone = NULL;
    pthread_mutex_lock(&cache_mutex);
    if (cache[slot] != NULL && strlen(cache[slot]->name) == name.len &&
        memcmp(cache[slot]->name, name.base, name.len) == 0) {
        gone = cache[slot];
        cache[slot] = NULL;
    }
    pthread_mutex_unlock(&cache_mutex);
    entry_release(gone);
}

void gw_pab_from_state(int state, h2o_iovec_t doc, s3_public_access_block_t *out)
{
    if (state == GW_CONF_NONE) {
        *out = (s3_public_access_block_t){1, 1, 1, 1}; /* S3's new buckets */
        return;
    }
    *out = (s3_public_access_block_t){0, 0, 0, 0};
    if (state == GW_CONF_SET && doc.len == 4) {
        out->block_public_acls = doc.base[0] == '1';
        out->ignore_public_acls = doc.base[1] == '1';
        out->block_public_policy = doc.base[2] == '1';
        out->restrict_public_buckets = doc.base[3] == '1';
    }
}

/* Reads Object Ownership and the bucket ACL into e (a stored document that does not decode counts
 * as absent, as a policy does). */
static int load_acl_settings(gw_ctx_t *ctx, h2o_iovec_t name, uint64_t incarnation, entry_t *e)
{
    gw_conf_state_t state;
    h2o_iovec_t doc;
    void *raw = NULL;
    int ret;

    e->access.ownership = S3_OWNERSHIP_BUCKET_OWNER_ENFORCED;
    if ((ret = gw_conf_read(ctx->cluster, name, incarnation, GW_CONF_OWNERSHIP, &raw, &state, &doc)) != 0)
        return ret;
    if (state == GW_CONF_SET)
        s3_ownership_from_name(doc, &e->access.ownership);
    else if (state == GW_CONF_REMOVED)
        e->access.ownership = S3_OWNERSHIP_OBJECT_WRITER; /* S3's bucket without ownership controls */
    free(raw);
    raw = NULL;
    if ((ret = gw_conf_read(ctx->cluster, name, incarnation, GW_CONF_ACL, &raw, &state, &doc)) != 0)
        return ret;
    if (state == GW_CONF_SET) {
        s3_acl_t *acl = h2o_mem_alloc_pool(&e->pool, sizeof(*acl));
        if (s3_acl_decode((const uint8_t *)doc.base, doc.len, acl) == 0)
            e->access.acl = acl;
    }
    free(raw);
    return 0;
}

/* Reads and parses the three documents authorization needs. A stored document that no longer
 * parses (it was accepted when written) is logged and counts as absent rather than locking the
 * bucket: only the owner could reach it then, which is what "no policy" gives too. */
static int entry_load(gw_ctx_t *ctx, h2o_iovec_t name, uint64_t incarnation, entry_t **out)
{
    entry_t *e = calloc(1, sizeof(*e));
    gw_conf_state_t state;
    h2o_iovec_t doc;
    void *raw = NULL;
    int ret;

    if (e == NULL)
        return GW_ENOMEM;
    h2o_mem_init_pool(&e->pool);
    atomic_init(&e->refs, 1);
    memcpy(e->name, name.base, name.len);
    e->access.incarnation = incarnation;

    if ((ret = gw_conf_read(ctx->cluster, name, incarnation, GW_CONF_POLICY, &raw, &state, &doc)) != 0)
        goto fail;
    if (state == GW_CONF_SET) {
        s3_policy_options_t opt = {.kind = S3_POLICY_BUCKET, .bucket = name};
        s3_policy_error_t perr = {{0}};
        if (s3_policy_parse(doc, &opt, &e->policy, &perr) != 0) {
            yc_log(YC_LOG_WARN, "request_id=%s event=stored_policy_unreadable bucket=%.*s", ctx->request_id,
                   (int)name.len, name.base);
            e->policy = NULL;
        }
    }
    free(raw);
    raw = NULL;
    e->access.policy = e->policy;

    if ((ret = gw_conf_read(ctx->cluster, name, incarnation, GW_CONF_PUBLIC_ACCESS_BLOCK, &raw, &state, &doc)) != 0)
        goto fail;
    gw_pab_from_state(state, doc, &e->access.pab);
    e->access.pab_state = state;
    free(raw);
    raw = NULL;

    if ((ret = gw_conf_read(ctx->cluster, name, incarnation, GW_CONF_CORS, &raw, &state, &doc)) != 0)
        goto fail;
    if (state == GW_CONF_SET) {
        /* the rules keep pointers into the document: it moves into the entry's pool */
        h2o_iovec_t copy = h2o_strdup(&e->pool, doc.base, doc.len);
        if (s3_cors_parse(&e->pool, copy, &e->cors, NULL) == 0)
            e->access.cors = &e->cors;
    }
    free(raw);
    raw = NULL;
    if ((ret = load_acl_settings(ctx, name, incarnation, e)) != 0)
        goto fail;
    /* the default encryption rides along: every object write of the bucket needs it */
    if ((ret = gw_conf_read(ctx->cluster, name, incarnation, GW_CONF_ENCRYPTION, &raw, &state, &doc)) != 0)
        goto fail;
    if (state == GW_CONF_SET && s3_sse_config_decode(h2o_strdup(&e->pool, doc.base, doc.len), &e->access.sse) != 0)
        memset(&e->access.sse, 0, sizeof(e->access.sse));
    free(raw);
    raw = NULL;
    *out = e;
    return 0;

fail:
    free(raw);
    entry_release(e);
    return ret;
}

static void release_at_dispose(void *p)
{
    entry_release(*(entry_t **)p);
}

int gw_authz_access(gw_ctx_t *ctx, h2o_iovec_t name, uint64_t incarnation, const gw_bucket_access_t **out)
{
    size_t slot = slot_of(name);
    entry_t *e = NULL, *old = NULL;
    int ret;

    if (name.len > META_BUCKET_MAX)
        return GW_EINVAL;
    pthread_mutex_lock(&cache_mutex);
    if (entry_is(cache[slot], name, incarnation) && cache[slot]->expires_ns > yc_now_ns()) {
        e = cache[slot];
        atomic_fetch_add(&e->refs, 1);
    }
    pthread_mutex_unlock(&cache_mutex);
    if (e == NULL) {
        if ((ret = entry_load(ctx, name, incarnation, &e)) != 0)
            return ret;
        e->expires_ns = yc_now_ns() + CACHE_TTL_NS;
        atomic_fetch_add(&e->refs, 1); /* the cache's */
        pthread_mutex_lock(&cache_mutex);
        old = cache[slot];
        cache[slot] = e;
        pthread_mutex_unlock(&cache_mutex);
        entry_release(old);
    }
    /* the request's reference goes with its pool */
    entry_t **hold = h2o_mem_alloc_shared(&ctx->req->pool, sizeof(*hold), release_at_dispose);
    *hold = e;
    *out = &e->access;
    return 0;
}

/* ---------------------------------------------------------------- principal */

void gw_authz_principal(gw_ctx_t *ctx, s3_policy_principal_t *out)
{
    h2o_mem_pool_t *pool = &ctx->req->pool;
    static const char account[] = GW_AUTHZ_ACCOUNT;

    memset(out, 0, sizeof(*out));
    if (ctx->access_key.base == NULL) {
        out->type = S3_POLICY_ANONYMOUS;
        return;
    }
    out->account = h2o_iovec_init(account, sizeof(account) - 1);
    if (ctx->is_root) {
        out->type = S3_POLICY_ACCOUNT;
        out->arn = h2o_concat(pool, h2o_iovec_init(H2O_STRLIT("arn:aws:iam::")), out->account,
                              h2o_iovec_init(H2O_STRLIT(":root")));
        out->userid = out->account;
        out->canonical_id = gw_acl_canonical_text(ctx, ctx->user);
        return;
    }
    out->type = S3_POLICY_USER;
    /* the user's ARN carries its IAM path, as IAM shows it: arn:aws:iam::<account>:user/a/b/name */
    gw_iam_entity_t e;
    h2o_iovec_t path = h2o_iovec_init(H2O_STRLIT("/"));
    /* aws:userid is the user's unique id (AIDA...), kept for its life: a user deleted and made again
     * under the same name is another id, so a condition on it does not carry over */
    out->userid = ctx->user;
    if (ctx->iam != NULL && ctx->user.len <= GW_IAM_NAME_MAX) {
        char name[GW_IAM_NAME_MAX + 1];
        memcpy(name, ctx->user.base, ctx->user.len);
        name[ctx->user.len] = '\0';
        if (gw_iam_user_get(ctx->iam, name, &e) == 0) {
            if (e.path[0] == '/')
                path = h2o_strdup(pool, e.path, strlen(e.path));
            out->userid = h2o_strdup(pool, e.id, strlen(e.id));
        }
    }
    out->arn = h2o_concat(pool, h2o_iovec_init(H2O_STRLIT("arn:aws:iam::")), out->account,
                          h2o_iovec_init(H2O_STRLIT(":user")), path, ctx->user);
    out->username = ctx->user;
    out->canonical_id = gw_acl_canonical_text(ctx, ctx->user);
}

typedef struct {
    h2o_iovec_t name;
    int found;
} find_user_t;

static void find_user(void *arg, const gw_identity_t *id)
{
    find_user_t *f = arg;
    if (!id->disabled && strlen(id->user) == f->name.len && memcmp(id->user, f->name.base, f->name.len) == 0)
        f->found = 1;
}

int gw_authz_principal_exists(void *arg, h2o_iovec_t arn)
{
    static const char prefix[] = "arn:aws:iam::" GW_AUTHZ_ACCOUNT ":user/";
    size_t n = sizeof(prefix) - 1;
    if (arn.len <= n || memcmp(arn.base, prefix, n) != 0)
        return -1; /* no other account exists here */
    /* user/a/b/name: the name is what follows the path's last '/' */
    size_t start = n;
    for (size_t i = n; i < arn.len; i++)
        if (arn.base[i] == '/')
            start = i + 1;
    find_user_t f = {h2o_iovec_init(arn.base + start, arn.len - start), 0};
    gw_iam_foreach(arg, find_user, &f);
    return f.found ? 0 : -1;
}

/* ---------------------------------------------------------------- the request's keys */

typedef struct {
    s3_policy_value_t v[MAX_VALUES];
    h2o_iovec_t vals[MAX_VALUES];
    size_t n;
} values_t;

static void add_value(values_t *vs, s3_policy_key_t key, h2o_iovec_t value)
{
    if (value.base == NULL || vs->n == MAX_VALUES)
        return;
    vs->vals[vs->n] = value;
    vs->v[vs->n] = (s3_policy_value_t){.key = key, .values = &vs->vals[vs->n], .nvalues = 1};
    vs->n++;
}

static void add_header(values_t *vs, gw_ctx_t *ctx, s3_policy_key_t key, const char *header)
{
    add_value(vs, key, gw_header(ctx, header));
}

static int is_list_action(s3_policy_action_t a)
{
    return a == S3_POLICY_ACTION_LIST_BUCKET || a == S3_POLICY_ACTION_LIST_BUCKET_VERSIONS ||
           a == S3_POLICY_ACTION_LIST_BUCKET_MULTIPART_UPLOADS;
}

static h2o_iovec_t source_ip(gw_ctx_t *ctx)
{
    const gw_req_t *r = ctx->req;
    char host[NI_MAXHOST];
    size_t n;
    if (r->peer_len == 0 || (n = h2o_socket_getnumerichost((struct sockaddr *)&r->peer, r->peer_len, host)) == SIZE_MAX)
        return h2o_iovec_init(NULL, 0);
    return h2o_strdup(&ctx->req->pool, host, n);
}

static int is_https(const gw_req_t *req)
{
    return req->secure;
}

static void request_values(gw_ctx_t *ctx, s3_policy_action_t action, values_t *vs)
{
    vs->n = 0;
    add_value(vs, S3_POLICY_KEY_AWS_SOURCE_IP, source_ip(ctx));
    add_value(vs, S3_POLICY_KEY_AWS_SECURE_TRANSPORT,
              is_https(ctx->req) ? h2o_iovec_init(H2O_STRLIT("true")) : h2o_iovec_init(H2O_STRLIT("false")));
    add_header(vs, ctx, S3_POLICY_KEY_AWS_USER_AGENT, "user-agent");
    add_header(vs, ctx, S3_POLICY_KEY_AWS_REFERER, "referer");
    if (is_list_action(action)) {
        if (s3_query_has(&ctx->query, "prefix"))
            add_value(vs, S3_POLICY_KEY_S3_PREFIX, s3_query_get(&ctx->query, "prefix"));
        if (s3_query_has(&ctx->query, "delimiter"))
            add_value(vs, S3_POLICY_KEY_S3_DELIMITER, s3_query_get(&ctx->query, "delimiter"));
        if (s3_query_has(&ctx->query, "max-keys"))
            add_value(vs, S3_POLICY_KEY_S3_MAX_KEYS, s3_query_get(&ctx->query, "max-keys"));
    }
    if (s3_query_has(&ctx->query, "versionId"))
        add_value(vs, S3_POLICY_KEY_S3_VERSION_ID, s3_query_get(&ctx->query, "versionId"));
    add_header(vs, ctx, S3_POLICY_KEY_S3_X_AMZ_ACL, "x-amz-acl");
    add_header(vs, ctx, S3_POLICY_KEY_S3_X_AMZ_GRANT_FULL_CONTROL, "x-amz-grant-full-control");
    add_header(vs, ctx, S3_POLICY_KEY_S3_X_AMZ_GRANT_READ, "x-amz-grant-read");
    add_header(vs, ctx, S3_POLICY_KEY_S3_X_AMZ_GRANT_READ_ACP, "x-amz-grant-read-acp");
    add_header(vs, ctx, S3_POLICY_KEY_S3_X_AMZ_GRANT_WRITE, "x-amz-grant-write");
    add_header(vs, ctx, S3_POLICY_KEY_S3_X_AMZ_GRANT_WRITE_ACP, "x-amz-grant-write-acp");
    add_header(vs, ctx, S3_POLICY_KEY_S3_X_AMZ_COPY_SOURCE, "x-amz-copy-source");
    add_header(vs, ctx, S3_POLICY_KEY_S3_X_AMZ_METADATA_DIRECTIVE, "x-amz-metadata-directive");
    add_header(vs, ctx, S3_POLICY_KEY_S3_X_AMZ_SERVER_SIDE_ENCRYPTION, "x-amz-server-side-encryption");
    add_header(vs, ctx, S3_POLICY_KEY_S3_X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID,
               "x-amz-server-side-encryption-aws-kms-key-id");
    add_header(vs, ctx, S3_POLICY_KEY_S3_X_AMZ_SERVER_SIDE_ENCRYPTION_CUSTOMER_ALGORITHM,
               "x-amz-server-side-encryption-customer-algorithm");
    add_header(vs, ctx, S3_POLICY_KEY_S3_X_AMZ_STORAGE_CLASS, "x-amz-storage-class");
    add_header(vs, ctx, S3_POLICY_KEY_S3_X_AMZ_CONTENT_SHA256, "x-amz-content-sha256");
    add_header(vs, ctx, S3_POLICY_KEY_S3_OBJECT_LOCK_MODE, "x-amz-object-lock-mode");
    add_header(vs, ctx, S3_POLICY_KEY_S3_OBJECT_LOCK_RETAIN_UNTIL_DATE, "x-amz-object-lock-retain-until-date");
    add_header(vs, ctx, S3_POLICY_KEY_S3_OBJECT_LOCK_LEGAL_HOLD, "x-amz-object-lock-legal-hold");
    if (ctx->access_key.base != NULL) {
        int v4 = ctx->auth.kind != S3_AUTH_KIND_NONE;
        add_value(vs, S3_POLICY_KEY_S3_SIGNATURE_VERSION,
                  v4 ? h2o_iovec_init(H2O_STRLIT("AWS4-HMAC-SHA256")) : h2o_iovec_init(H2O_STRLIT("AWS")));
        add_value(vs, S3_POLICY_KEY_S3_AUTH_TYPE,
                  ctx->auth.kind == S3_AUTH_KIND_HEADER ? h2o_iovec_init(H2O_STRLIT("REST-HEADER"))
                                                        : h2o_iovec_init(H2O_STRLIT("REST-QUERY-STRING")));
    }
}

/* Adds the tag condition keys (gw_tagging.h) to req's values: the object's tags cost a lookup,
 * so they are read only for a policy that names them. */
static void add_tag_values(gw_ctx_t *ctx, const s3_policy_t *policy, const gw_authz_bucket_t *b,
                           s3_policy_action_t action, h2o_iovec_t key, s3_policy_request_t *req)
{
    s3_policy_value_t *tags, *all;
    size_t ntags;

    gw_tagging_policy_values(ctx, policy, action, b->name, b->incarnation, key, &tags, &ntags);
    if (ntags == 0)
        return;
    all = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*all) * (req->nvalues + ntags));
    memcpy(all, req->values, sizeof(*all) * req->nvalues);
    memcpy(all + req->nvalues, tags, sizeof(*all) * ntags);
    req->values = all;
    req->nvalues += ntags;
}

/* ---------------------------------------------------------------- decisions */

static int owns(const gw_ctx_t *ctx, const gw_authz_bucket_t *b)
{
    if (ctx->access_key.base == NULL)
        return 0;
    return ctx->is_root || h2o_memis(b->owner.base, b->owner.len, ctx->user.base, ctx->user.len);
}

/* 1 when key has no current object (none, or a delete marker) in b. */
static int object_missing(gw_ctx_t *ctx, const gw_authz_bucket_t *b, h2o_iovec_t key)
{
    char ns[META_NS_MAX + 1];
    size_t nslen = meta_bucket_ns((meta_bytes_t){b->name.base, b->name.len}, b->incarnation, ns);
    gw_object_t *o = NULL;
    int ret = gw_object_lookup(ctx->cluster, (meta_bytes_t){ns, nslen}, (meta_bytes_t){key.base, key.len}, NULL, &o);
    if (ret == GW_ENOENT)
        return 1;
    int missing = ret == 0 && (gw_object_record(o)->flags & META_OBJ_DELETE_MARKER) != 0;
    gw_object_free(o);
    return missing;
}

/* 1 when the caller may list b (s3:ListBucket by the bucket policy or a bucket ACL grant). */
static int may_list(gw_ctx_t *ctx, const gw_authz_bucket_t *b, const gw_bucket_access_t *a, s3_policy_sources_t src,
                    values_t *vs, char *arn)
{
    s3_policy_request_t req = {.action = S3_POLICY_ACTION_LIST_BUCKET, .now_ns = yc_now_ns()};
    s3_policy_reason_t why;

    if (s3_policy_resource_arn(b->name, h2o_iovec_init(NULL, 0), arn, S3_POLICY_ARN_MAX, &req.resource) != 0)
        return 0;
    gw_authz_principal(ctx, &req.principal);
    request_values(ctx, req.action, vs);
    req.values = vs->v;
    req.nvalues = vs->n;
    src.acl_allows = 0;
    if (s3_policy_decide(&src, &req, &why) == S3_POLICY_ALLOW)
        return 1;
    if (why.source != S3_POLICY_BY_IMPLICIT_DENY || !gw_acl_allows(ctx, b, a, req.action, h2o_iovec_init(NULL, 0)))
        return 0;
    src.acl_allows = 1;
    return s3_policy_decide(&src, &req, &why) == S3_POLICY_ALLOW;
}

/* With ACLs on, a bucket ACL the owner wrote without a WRITE (or FULL_CONTROL) grant to itself takes
 * its object writes away, as S3's does (the owner keeps READ_ACP and WRITE_ACP whatever the ACL). */
static int owner_may_write(gw_ctx_t *ctx, const gw_bucket_access_t *a)
{
    uint8_t id[S3_ACL_ID_LEN];

    if (a->ownership == S3_OWNERSHIP_BUCKET_OWNER_ENFORCED || a->acl == NULL)
        return 1;
    gw_acl_canonical_id(ctx->user, id);
    s3_acl_who_t who = {id};
    return s3_acl_permits(a->acl, who, S3_ACL_WRITE, 0);
}

/* The decision with the caller's identity policies, made while the identity table holds them:
 * both with and without an ACL grant, so that the ACL (which may cost a read) is asked after. */
typedef struct {
    s3_policy_sources_t src;
    const s3_policy_request_t *req;
    s3_policy_decision_t without_acl, with_acl;
    s3_policy_source_t why;
} decide_t;

static void decide_with(void *arg, const s3_policy_t *const *policies, size_t n)
{
    decide_t *d = arg;
    s3_policy_reason_t why;

    d->src.identity = policies;
    d->src.nidentity = n;
    d->without_acl = s3_policy_decide(&d->src, d->req, &why);
    d->why = why.source;
    if (d->without_acl != S3_POLICY_ALLOW && why.source == S3_POLICY_BY_IMPLICIT_DENY) {
        d->src.acl_allows = 1;
        d->with_acl = s3_policy_decide(&d->src, d->req, &why);
    }
}

int gw_authz_check(gw_ctx_t *ctx, const gw_authz_bucket_t *b, s3_policy_action_t action, h2o_iovec_t key, int cors)
{
    const gw_bucket_access_t *a;
    s3_policy_request_t req = {.action = action, .now_ns = yc_now_ns()};
    values_t *vs = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*vs));
    char *arn = h2o_mem_alloc_pool(&ctx->req->pool, S3_POLICY_ARN_MAX);
    int ret;

    if ((ret = gw_authz_access(ctx, b->name, b->incarnation, &a)) != 0) {
        gw_set_store_error(ctx, ret);
        return -1;
    }
    if (cors)
        gw_cors_headers(ctx, a);
    /* an administrator's role holds some actions over every bucket, as its owner would */
    int is_owner = owns(ctx, b) || gw_roles_bucket_power(ctx, action);
    if (is_owner && !ctx->is_root && action == S3_POLICY_ACTION_PUT_OBJECT && !owner_may_write(ctx, a)) {
        gw_set_error(ctx, S3_ERR_ACCESS_DENIED, NULL);
        return -1;
    }
    /* a user (not root, not anonymous) may have identity policies, whose Deny binds an owner too */
    int user = ctx->access_key.base != NULL && !ctx->is_root;
    if (is_owner && a->policy == NULL && !user)
        return 0; /* the common case: nothing but the owner's rights to weigh */
    if (s3_policy_resource_arn(b->name, key, arn, S3_POLICY_ARN_MAX, &req.resource) != 0) {
        gw_set_error(ctx, S3_ERR_ACCESS_DENIED, NULL);
        return -1;
    }
    gw_authz_principal(ctx, &req.principal);
    request_values(ctx, action, vs);
    req.values = vs->v;
    req.nvalues = vs->n;
    add_tag_values(ctx, a->policy, b, action, key, &req);
    decide_t d = {.src = {.bucket = a->policy,
                          .owner_account = h2o_iovec_init(H2O_STRLIT(GW_AUTHZ_ACCOUNT)),
                          .is_owner = is_owner,
                          .restrict_public_buckets = a->pab.restrict_public_buckets},
                  .req = &req,
                  .without_acl = S3_POLICY_DENY,
                  .with_acl = S3_POLICY_DENY};
    if (user)
        gw_iam_with_policies(ctx->iam, ctx->user, decide_with, &d);
    else
        decide_with(&d, NULL, 0);
    if (d.without_acl == S3_POLICY_ALLOW)
        return 0;
    /* nothing allowed it: an ACL grant may, unless a statement denied it explicitly */
    if (d.why == S3_POLICY_BY_IMPLICIT_DENY && d.with_acl == S3_POLICY_ALLOW && gw_acl_allows(ctx, b, a, action, key))
        return 0;
    /* S3 tells a caller who may list the bucket that a key does not exist (404 NoSuchKey) where
     * another caller is told 403, so that listing rights are not needed to learn it twice. The
     * listing right is weighed by the bucket policy and ACLs: the identity policies are only held
     * inside gw_iam_with_policies. */
    if (action == S3_POLICY_ACTION_GET_OBJECT && key.base != NULL && d.why == S3_POLICY_BY_IMPLICIT_DENY &&
        object_missing(ctx, b, key)) {
        s3_policy_sources_t src = d.src;
        src.identity = NULL;
        src.nidentity = 0;
        if (may_list(ctx, b, a, src, vs, arn)) {
            gw_set_error(ctx, S3_ERR_NO_SUCH_KEY, NULL);
            return -1;
        }
    }
    gw_set_error(ctx, S3_ERR_ACCESS_DENIED, gw_roles_bucket_refusal(ctx, action)); /* NULL: S3's words */
    return -1;
}

typedef struct {
    s3_policy_sources_t src;
    const s3_policy_request_t *req;
    s3_policy_decision_t decision;
    s3_policy_reason_t why;
} identity_decide_t;

static void identity_decide_with(void *arg, const s3_policy_t *const *policies, size_t n)
{
    identity_decide_t *d = arg;
    d->src.identity = policies;
    d->src.nidentity = n;
    d->decision = s3_policy_decide(&d->src, d->req, &d->why);
}

s3_policy_decision_t gw_authz_identity_decide(gw_ctx_t *ctx, s3_policy_action_t action, h2o_iovec_t resource,
                                              s3_policy_reason_t *why)
{
    /* no bucket and no owner: only the identity's own policies can allow, and any of them deny */
    s3_policy_request_t req = {.action = action, .now_ns = yc_now_ns(), .resource = resource};
    values_t *vs = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*vs));
    gw_authz_principal(ctx, &req.principal);
    request_values(ctx, action, vs);
    req.values = vs->v;
    req.nvalues = vs->n;
    identity_decide_t d = {.src = {.owner_account = h2o_iovec_init(H2O_STRLIT(GW_AUTHZ_ACCOUNT))},
                           .req = &req,
                           .decision = S3_POLICY_DENY,
                           .why = {.source = S3_POLICY_BY_IMPLICIT_DENY}};
    if (ctx->access_key.base != NULL && !ctx->is_root)
        gw_iam_with_policies(ctx->iam, ctx->user, identity_decide_with, &d);
    if (why != NULL)
        *why = d.why;
    return d.decision;
}

/* The decision of the caller's identity policies on action over resource (root: allowed), AccessDenied
 * set when they do not allow it. */
static int identity_allows(gw_ctx_t *ctx, s3_policy_action_t action, h2o_iovec_t resource)
{
    if (ctx->access_key.base == NULL) {
        gw_set_error(ctx, S3_ERR_ACCESS_DENIED, NULL);
        return -1;
    }
    if (ctx->is_root || gw_authz_identity_decide(ctx, action, resource, NULL) == S3_POLICY_ALLOW)
        return 0;
    gw_set_error(ctx, S3_ERR_ACCESS_DENIED, NULL);
    return -1;
}

int gw_authz_service_check(gw_ctx_t *ctx, s3_policy_action_t action)
{
    /* the administrators who see every bucket hold ListBuckets by their role (their policies are
     * reserved: no call can give them one) */
    if (action == S3_POLICY_ACTION_LIST_ALL_MY_BUCKETS && ctx->access_key.base != NULL &&
        gw_roles_sees_all_buckets(ctx))
        return 0;
    /* an action on no bucket: resource "*", written as S3's ARN so that "arn:aws:s3:::*" matches too */
    return identity_allows(ctx, action, h2o_iovec_init(H2O_STRLIT("arn:aws:s3:::*")));
}

int gw_authz_create_bucket_check(gw_ctx_t *ctx, h2o_iovec_t bucket)
{
    char *arn = h2o_mem_alloc_pool(&ctx->req->pool, S3_POLICY_ARN_MAX);
    h2o_iovec_t resource;

    if (s3_policy_resource_arn(bucket, h2o_iovec_init(NULL, 0), arn, S3_POLICY_ARN_MAX, &resource) != 0) {
        gw_set_error(ctx, S3_ERR_ACCESS_DENIED, NULL);
        return -1;
    }
    if (identity_allows(ctx, S3_POLICY_ACTION_CREATE_BUCKET, resource) != 0)
        return -1;
    /* S3 asks for the two actions that an Object Lock bucket's creation performs as well */
    h2o_iovec_t lock = gw_header(ctx, "x-amz-bucket-object-lock-enabled");
    if (lock.base != NULL && h2o_lcstris(lock.base, lock.len, H2O_STRLIT("true")) &&
        (identity_allows(ctx, S3_POLICY_ACTION_PUT_BUCKET_OBJECT_LOCK_CONFIGURATION, resource) != 0 ||
         identity_allows(ctx, S3_POLICY_ACTION_PUT_BUCKET_VERSIONING, resource) != 0))
        return -1;
    return 0;
}

/* ---------------------------------------------------------------- operations' actions */

int gw_authz_action_of(const gw_ctx_t *ctx, s3_policy_action_t *out)
{
    int version = s3_query_has(&ctx->query, "versionId");
    switch (ctx->op) {
#define A(op, action)                                                                                                  \
    case GW_OP_##op:                                                                                                   \
        *out = S3_POLICY_ACTION_##action;                                                                              \
        return 0;
        A(HEAD_BUCKET, LIST_BUCKET)
        A(DELETE_BUCKET, DELETE_BUCKET)
        A(GET_BUCKET_LOCATION, GET_BUCKET_LOCATION)
        A(GET_BUCKET_VERSIONING, GET_BUCKET_VERSIONING)
        A(PUT_BUCKET_VERSIONING, PUT_BUCKET_VERSIONING)
        A(LIST_OBJECTS, LIST_BUCKET)
        A(LIST_OBJECTS_V2, LIST_BUCKET)
        A(LIST_OBJECT_VERSIONS, LIST_BUCKET_VERSIONS)
        A(LIST_MULTIPART_UPLOADS, LIST_BUCKET_MULTIPART_UPLOADS)
        A(DELETE_OBJECTS, DELETE_OBJECT)
        A(PUT_OBJECT, PUT_OBJECT)
        A(POST_OBJECT, PUT_OBJECT)
        A(COPY_OBJECT, PUT_OBJECT)
        A(CREATE_MULTIPART_UPLOAD, PUT_OBJECT)
        A(UPLOAD_PART, PUT_OBJECT)
        A(UPLOAD_PART_COPY, PUT_OBJECT)
        A(COMPLETE_MULTIPART_UPLOAD, PUT_OBJECT)
        A(ABORT_MULTIPART_UPLOAD, ABORT_MULTIPART_UPLOAD)
        A(LIST_PARTS, LIST_MULTIPART_UPLOAD_PARTS)
        A(PUT_BUCKET_POLICY, PUT_BUCKET_POLICY)
        A(GET_BUCKET_POLICY, GET_BUCKET_POLICY)
        A(DELETE_BUCKET_POLICY, DELETE_BUCKET_POLICY)
        A(GET_BUCKET_POLICY_STATUS, GET_BUCKET_POLICY_STATUS)
        A(PUT_BUCKET_CORS, PUT_BUCKET_CORS)
        A(GET_BUCKET_CORS, GET_BUCKET_CORS)
        A(DELETE_BUCKET_CORS, PUT_BUCKET_CORS) /* S3 has no action of its own for the removals */
        A(PUT_BUCKET_TAGGING, PUT_BUCKET_TAGGING)
        A(GET_BUCKET_TAGGING, GET_BUCKET_TAGGING)
        A(DELETE_BUCKET_TAGGING, PUT_BUCKET_TAGGING)
        A(PUT_BUCKET_OWNERSHIP_CONTROLS, PUT_BUCKET_OWNERSHIP_CONTROLS)
        A(GET_BUCKET_OWNERSHIP_CONTROLS, GET_BUCKET_OWNERSHIP_CONTROLS)
        A(DELETE_BUCKET_OWNERSHIP_CONTROLS, PUT_BUCKET_OWNERSHIP_CONTROLS)
        A(PUT_PUBLIC_ACCESS_BLOCK, PUT_BUCKET_PUBLIC_ACCESS_BLOCK)
        A(GET_PUBLIC_ACCESS_BLOCK, GET_BUCKET_PUBLIC_ACCESS_BLOCK)
        A(DELETE_PUBLIC_ACCESS_BLOCK, PUT_BUCKET_PUBLIC_ACCESS_BLOCK)
        A(PUT_BUCKET_LIFECYCLE, PUT_LIFECYCLE_CONFIGURATION)
        A(GET_BUCKET_LIFECYCLE, GET_LIFECYCLE_CONFIGURATION)
        A(DELETE_BUCKET_LIFECYCLE, PUT_LIFECYCLE_CONFIGURATION)
        A(PUT_OBJECT_LOCK_CONFIGURATION, PUT_BUCKET_OBJECT_LOCK_CONFIGURATION)
        A(GET_OBJECT_LOCK_CONFIGURATION, GET_BUCKET_OBJECT_LOCK_CONFIGURATION)
        A(PUT_BUCKET_ENCRYPTION, PUT_ENCRYPTION_CONFIGURATION)
        A(GET_BUCKET_ENCRYPTION, GET_ENCRYPTION_CONFIGURATION)
        A(DELETE_BUCKET_ENCRYPTION, PUT_ENCRYPTION_CONFIGURATION)
        A(GET_BUCKET_ACL, GET_BUCKET_ACL)
        A(PUT_BUCKET_ACL, PUT_BUCKET_ACL)
        A(PUT_OBJECT_RETENTION, PUT_OBJECT_RETENTION)
        A(GET_OBJECT_RETENTION, GET_OBJECT_RETENTION)
        A(PUT_OBJECT_LEGAL_HOLD, PUT_OBJECT_LEGAL_HOLD)
        A(GET_OBJECT_LEGAL_HOLD, GET_OBJECT_LEGAL_HOLD)
        A(PUT_BUCKET_LOGGING, PUT_BUCKET_LOGGING)
        A(GET_BUCKET_LOGGING, GET_BUCKET_LOGGING)
#undef A
    case GW_OP_GET_OBJECT:
    case GW_OP_HEAD_OBJECT:
        *out = version ? S3_POLICY_ACTION_GET_OBJECT_VERSION : S3_POLICY_ACTION_GET_OBJECT;
        return 0;
    case GW_OP_GET_OBJECT_ATTRIBUTES:
        *out = version ? S3_POLICY_ACTION_GET_OBJECT_VERSION_ATTRIBUTES : S3_POLICY_ACTION_GET_OBJECT_ATTRIBUTES;
        return 0;
    case GW_OP_GET_OBJECT_ACL:
        *out = version ? S3_POLICY_ACTION_GET_OBJECT_VERSION_ACL : S3_POLICY_ACTION_GET_OBJECT_ACL;
        return 0;
    case GW_OP_PUT_OBJECT_ACL:
        *out = version ? S3_POLICY_ACTION_PUT_OBJECT_VERSION_ACL : S3_POLICY_ACTION_PUT_OBJECT_ACL;
        return 0;
    case GW_OP_DELETE_OBJECT:
        *out = version ? S3_POLICY_ACTION_DELETE_OBJECT_VERSION : S3_POLICY_ACTION_DELETE_OBJECT;
        return 0;
    case GW_OP_PUT_OBJECT_TAGGING:
        *out = version ? S3_POLICY_ACTION_PUT_OBJECT_VERSION_TAGGING : S3_POLICY_ACTION_PUT_OBJECT_TAGGING;
        return 0;
    case GW_OP_GET_OBJECT_TAGGING:
        *out = version ? S3_POLICY_ACTION_GET_OBJECT_VERSION_TAGGING : S3_POLICY_ACTION_GET_OBJECT_TAGGING;
        return 0;
    case GW_OP_DELETE_OBJECT_TAGGING:
        *out = version ? S3_POLICY_ACTION_DELETE_OBJECT_VERSION_TAGGING : S3_POLICY_ACTION_DELETE_OBJECT_TAGGING;
        return 0;
    default:
        return -1;
    }
}

/* ---------------------------------------------------------------- CORS */

void gw_cors_headers(gw_ctx_t *ctx, const gw_bucket_access_t *a)
{
    s3_cors_request_t creq = {.origin = gw_header(ctx, "origin"),
                              .method = ctx->method,
                              .request_method = gw_header(ctx, "access-control-request-method"),
                              .request_headers = gw_header(ctx, "access-control-request-headers"),
                              .on_object = ctx->key.len > 0};
    s3_cors_response_t out;

    if (creq.origin.base == NULL || a->cors == NULL)
        return;
    s3_cors_actual(&ctx->req->pool, a->cors, &creq, &out);
    if (!out.matched)
        return;
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
