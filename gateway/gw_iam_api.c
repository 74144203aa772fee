/* gw_iam_api.c — the IAM Query API on the gateway's own endpoint, so that `aws iam
 * --endpoint-url` and the SDKs' IAM clients manage users, keys, groups, inline policies and
 * customer-managed policies (one version each, attached to users and groups).
 *
 * A call is POST / with a form body (Action=...&Version=2010-05-08&...) signed with SigV4 for the
 * service "iam": the credential scope's service is what tells it from an S3 request
 * (gw_iam_api_is_call). IAM clients sign the SHA-256 of the body without sending it, so the
 * body (at most S3_IAM_FORM_MAX_BODY bytes) is read before the signature can be checked; the
 * access key must exist, be active and not locked (gw_lockout.h) before a byte of it is taken.
 * The root user may call, or once it is split the administrator whose role the action belongs to
 * (gw_roles.h); any other user as its identity policies (its own and its groups') allow, as IAM
 * authorises: the action iam:<Action> on the resource AWS names for it (the user's ARN
 * arn:aws:iam::<account>:user/<path><name>, the caller's own when a key or GetUser call names no
 * user, the group's ARN, a managed policy's ARN ...:policy<path><name> ("*" for ListPolicies),
 * or for ListUsers and ListGroups ...:user<PathPrefix> and ...:group<PathPrefix>), an explicit Deny
 * winning and nothing allowed by default; the reserved
 * administrators' users and keys stay out of reach whatever a policy says. Answers are IAM's XML
 * (namespace IAM_NS, the request id in ResponseMetadata), errors IAM's <ErrorResponse>. Actions
 * not built here answer 501 NotImplemented, never a false success.
 */
#include "gateway/gw_handlers.h"
#include "gateway/gw_authz.h"
#include "gateway/gw_body.h"
#include "gateway/gw_iam.h"
#include "gateway/gw_quota.h"
#include "gateway/gw_replica.h"
#include "gateway/gw_roles.h"
#include "gateway/s3/iam_arn.h"
#include "gateway/s3/iam_form.h"
#include "gateway/s3/sigv4.h"
#include "gateway/s3/xml.h"
#include "common/log.h"
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define IAM_NS      "https://iam.amazonaws.com/doc/2010-05-08/"
#define IAM_ACCOUNT "000000000000" /* GW_AUTHZ_ACCOUNT: every user's account */
#define MAX_ITEMS   1000

typedef struct {
    s3_iam_form_t form;
    h2o_iovec_t action;
} call_t;

/* ---------------------------------------------------------------- answers */

static void iam_error(gw_ctx_t *ctx, int status, const char *code, const char *message)
{
    s3_xml_writer_t w;
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_xml_declaration(&w);
    s3_xml_raw(&w, H2O_STRLIT("<ErrorResponse xmlns=\"" IAM_NS "\">"));
    s3_xml_open(&w, "Error");
    s3_xml_element_str(&w, "Type", status >= 500 ? "Receiver" : "Sender");
    s3_xml_element_str(&w, "Code", code);
    s3_xml_element_str(&w, "Message", message);
    s3_xml_close(&w, "Error");
    s3_xml_element_str(&w, "RequestId", ctx->request_id);
    s3_xml_close(&w, "ErrorResponse");
    ctx->status = status;
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "text/xml";
}

/* Same, with a message formatted from the request's pool. */
static void iam_errorf(gw_ctx_t *ctx, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void iam_errorf(gw_ctx_t *ctx, int status, const char *code, const char *fmt, ...)
{
    char *msg = h2o_mem_alloc_pool(&ctx->req->pool, 512);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, 512, fmt, ap);
    va_end(ap);
    iam_error(ctx, status, code, msg);
}

/* The IAM error of a gw_iam.h code; what names the entity comes from the caller. */
static void iam_store_error(gw_ctx_t *ctx, int ret, const char *what, const char *name)
{
    switch (ret) {
    case -ENOENT:
        iam_errorf(ctx, 404, "NoSuchEntity", "The %s with name %s cannot be found.", what, name);
        break;
    case -EEXIST:
        iam_errorf(ctx, 409, "EntityAlreadyExists", "%s with name %s already exists.", what, name);
        break;
    case -ENOTEMPTY:
        iam_errorf(ctx, 409, "DeleteConflict", "Cannot delete entity, must remove referenced objects first (%s %s).",
                   what, name);
        break;
    case -E2BIG:
        iam_errorf(ctx, 409, "LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: %d", GW_IAM_KEYS_PER_USER);
        break;
    case -EINVAL:
        iam_errorf(ctx, 400, "ValidationError", "The specified value for %s is invalid.", what);
        break;
    default:
        iam_error(ctx, 503, "ServiceUnavailable", "Too few drives answered; try again.");
        break;
    }
}

static void open_response(gw_ctx_t *ctx, s3_xml_writer_t *w, h2o_iovec_t action, int with_result)
{
    char tag[96];
    s3_xml_writer_init(w, &ctx->req->pool);
    s3_xml_declaration(w);
    snprintf(tag, sizeof(tag), "<%.*sResponse xmlns=\"" IAM_NS "\">", (int)action.len, action.base);
    s3_xml_raw(w, tag, strlen(tag));
    if (with_result) {
        snprintf(tag, sizeof(tag), "<%.*sResult>", (int)action.len, action.base);
        s3_xml_raw(w, tag, strlen(tag));
    }
}

static void close_response(gw_ctx_t *ctx, s3_xml_writer_t *w, h2o_iovec_t action, int with_result)
{
    char tag[96];
    if (with_result) {
        snprintf(tag, sizeof(tag), "</%.*sResult>", (int)action.len, action.base);
        s3_xml_raw(w, tag, strlen(tag));
    }
    s3_xml_open(w, "ResponseMetadata");
    s3_xml_element_str(w, "RequestId", ctx->request_id);
    s3_xml_close(w, "ResponseMetadata");
    snprintf(tag, sizeof(tag), "</%.*sResponse>", (int)action.len, action.base);
    s3_xml_raw(w, tag, strlen(tag));
    ctx->status = 200;
    ctx->resp_body = s3_xml_writer_result(w);
    ctx->content_type = "text/xml";
}

/* A call that answers nothing but its metadata. */
static void answer_empty(gw_ctx_t *ctx, const call_t *c)
{
    s3_xml_writer_t w;
    open_response(ctx, &w, c->action, 0);
    close_response(ctx, &w, c->action, 0);
}

static void write_entity(s3_xml_writer_t *w, const char *tag, const gw_iam_entity_t *e, int user)
{
    char arn[160 + GW_IAM_PATH_MAX];
    const char *path = e->path[0] != '\0' ? e->path : "/";
    s3_xml_open(w, tag);
    s3_xml_element_str(w, "Path", path);
    s3_xml_element_str(w, user ? "UserName" : "GroupName", e->name);
    s3_xml_element_str(w, user ? "UserId" : "GroupId", e->id);
    /* IAM's ARN carries the path: arn:aws:iam::<account>:user/a/b/name */
    snprintf(arn, sizeof(arn), "arn:aws:iam::" IAM_ACCOUNT ":%s%s%s", user ? "user" : "group", path, e->name);
    s3_xml_element_str(w, "Arn", arn);
    s3_xml_element_time(w, "CreateDate", e->created_ns);
    s3_xml_close(w, tag);
}

/* RFC 3986 percent-encoding of a policy document, as IAM returns them. */
static h2o_iovec_t url_encode(h2o_mem_pool_t *pool, h2o_iovec_t in)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = h2o_mem_alloc_pool(pool, in.len * 3 + 1), *o = out;
    for (size_t i = 0; i < in.len; i++) {
        unsigned char c = (unsigned char)in.base[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return h2o_iovec_init(out, (size_t)(o - out));
}

/* ---------------------------------------------------------------- parameters */

/* A required name parameter as a C string from the pool; NULL with the ValidationError set. */
static const char *param_name(gw_ctx_t *ctx, const call_t *c, const char *param, const char *member, size_t max)
{
    h2o_iovec_t v = s3_iam_form_get(&c->form, param);
    if (v.base == NULL) {
        iam_errorf(ctx, 400, "ValidationError",
                   "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be "
                   "null",
                   member);
        return NULL;
    }
    int ok = max == GW_IAM_POLICY_NAME_MAX ? gw_iam_policy_name_valid(v) : gw_iam_name_valid(v);
    if (!ok) {
        iam_errorf(ctx, 400, "ValidationError",
                   "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length "
                   "between 1 and %zu and satisfy the pattern [\\w+=,.@-]+",
                   member, max);
        return NULL;
    }
    /* names are case-insensitive: an existing user or group is named as it was created, which
     * is the spelling its records are keyed by */
    gw_iam_entity_t e;
    char *name = h2o_strdup(&ctx->req->pool, v.base, v.len).base;
    if (strcmp(param, "UserName") == 0 && gw_iam_user_get(ctx->iam, name, &e) == 0)
        return h2o_strdup(&ctx->req->pool, e.name, strlen(e.name)).base;
    if (strcmp(param, "GroupName") == 0 && gw_iam_group_get(ctx->iam, name, &e) == 0)
        return h2o_strdup(&ctx->req->pool, e.name, strlen(e.name)).base;
    return name;
}

/* An optional path parameter (Path, NewPath, PathPrefix); *out NULL when absent. -1 with the
 * ValidationError set when it is not one IAM takes. */
static int param_path(gw_ctx_t *ctx, const call_t *c, const char *param, const char *member, int prefix,
                      const char **out)
{
    h2o_iovec_t v = s3_iam_form_get(&c->form, param);
    *out = NULL;
    if (v.base == NULL)
        return 0;
    if (!gw_iam_path_valid(v, prefix)) {
        iam_errorf(ctx, 400, "ValidationError",
                   "1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length "
                   "between 1 and 512 and satisfy the pattern %s",
                   member, prefix ? "\\u002F[\\u0021-\\u007F]*" : "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)");
        return -1;
    }
    *out = h2o_strdup(&ctx->req->pool, v.base, v.len).base;
    return 0;
}

/* UserName, or the caller's own name when absent (as IAM does for keys and GetUser). */
static const char *user_or_caller(gw_ctx_t *ctx, const call_t *c)
{
    if (s3_iam_form_get(&c->form, "UserName").base != NULL)
        return param_name(ctx, c, "UserName", "userName", GW_IAM_NAME_MAX);
    if (ctx->is_root) {
        iam_error(ctx, 400, "ValidationError",
                  "UserName is required: the root user's access key is set in the gateway's configuration");
        return NULL;
    }
    return h2o_strdup(&ctx->req->pool, ctx->user.base, ctx->user.len).base;
}

/* MaxItems (1..1000, default 100) and Marker (the name after which to go on). */
static int paging(gw_ctx_t *ctx, const call_t *c, size_t *max_items, h2o_iovec_t *marker)
{
    h2o_iovec_t v = s3_iam_form_get(&c->form, "MaxItems");
    *max_items = 100;
    *marker = s3_iam_form_get(&c->form, "Marker");
    if (v.base != NULL) {
        size_t n = 0;
        for (size_t i = 0; i < v.len; i++) {
            if (v.base[i] < '0' || v.base[i] > '9' || n > MAX_ITEMS) {
                n = 0;
                break;
            }
            n = n * 10 + (size_t)(v.base[i] - '0');
        }
        if (n < 1 || n > MAX_ITEMS) {
            iam_error(ctx, 400, "ValidationError",
                      "1 validation error detected: Value at 'maxItems' failed to satisfy constraint: Member must have "
                      "value between 1 and 1000");
            return -1;
        }
        *max_items = n;
    }
    return 0;
}

/* Collects entities (users or groups) after a marker, up to a page. */
typedef struct {
    gw_iam_entity_t *items;
    size_t n, max;
    int truncated;
    h2o_iovec_t marker;
    const char *path_prefix; /* ListUsers' PathPrefix, or NULL */
} page_t;

static void page_add(void *arg, const gw_iam_entity_t *e)
{
    page_t *p = arg;
    /* entities come in case-insensitive name order (gw_iam.h), the order markers follow */
    if (p->marker.base != NULL && p->marker.len > 0 && strncasecmp(e->name, p->marker.base, p->marker.len) <= 0 &&
        !(strlen(e->name) > p->marker.len && strncasecmp(e->name, p->marker.base, p->marker.len) == 0))
        return; /* at or before the marker */
    if (p->path_prefix != NULL && strncmp(e->path, p->path_prefix, strlen(p->path_prefix)) != 0)
        return;
    if (p->n == p->max) {
        p->truncated = 1;
        return;
    }
    p->items[p->n++] = *e;
}

static void write_page(s3_xml_writer_t *w, const char *list, const page_t *p, int users)
{
    s3_xml_open(w, list);
    for (size_t i = 0; i < p->n; i++)
        write_entity(w, "member", &p->items[i], users);
    s3_xml_close(w, list);
    s3_xml_element_bool(w, "IsTruncated", p->truncated);
    if (p->truncated && p->n > 0)
        s3_xml_element_str(w, "Marker", p->items[p->n - 1].name);
}

static int page_init(gw_ctx_t *ctx, const call_t *c, page_t *p)
{
    memset(p, 0, sizeof(*p));
    if (paging(ctx, c, &p->max, &p->marker) != 0)
        return -1;
    p->items = h2o_mem_alloc_pool(&ctx->req->pool, p->max * sizeof(*p->items));
    return 0;
}

/* ---------------------------------------------------------------- users */

static void create_user(gw_ctx_t *ctx, const call_t *c)
{
    const char *name = param_name(ctx, c, "UserName", "userName", GW_IAM_NAME_MAX);
    gw_iam_entity_t u;
    s3_xml_writer_t w;
    int ret;
    if (name == NULL)
        return;
    const char *path;
    if (param_path(ctx, c, "Path", "path", 0, &path) != 0)
        return;
    if ((ret = gw_iam_user_create_at(ctx->iam, name, path, &u)) != 0) {
        iam_store_error(ctx, ret, "User", name);
        return;
    }
    yc_log(YC_LOG_INFO, "request_id=%s event=iam_user_created user=%s", ctx->request_id, name);
    open_response(ctx, &w, c->action, 1);
    write_entity(&w, "User", &u, 1);
    close_response(ctx, &w, c->action, 1);
}

static void get_user(gw_ctx_t *ctx, const call_t *c)
{
    gw_iam_entity_t u;
    s3_xml_writer_t w;
    int ret;
    if (s3_iam_form_get(&c->form, "UserName").base == NULL && ctx->is_root) {
        /* the account itself, as IAM answers its root user */
        open_response(ctx, &w, c->action, 1);
        s3_xml_open(&w, "User");
        s3_xml_element_str(&w, "UserId", IAM_ACCOUNT);
        s3_xml_element_str(&w, "Arn", "arn:aws:iam::" IAM_ACCOUNT ":root");
        s3_xml_element_time(&w, "CreateDate", 0);
        s3_xml_close(&w, "User");
        close_response(ctx, &w, c->action, 1);
        return;
    }
    const char *name = user_or_caller(ctx, c);
    if (name == NULL)
        return;
    if ((ret = gw_iam_user_get(ctx->iam, name, &u)) != 0) {
        iam_store_error(ctx, ret, "user", name);
        return;
    }
    open_response(ctx, &w, c->action, 1);
    write_entity(&w, "User", &u, 1);
    close_response(ctx, &w, c->action, 1);
}

static void delete_user(gw_ctx_t *ctx, const call_t *c)
{
    const char *name = param_name(ctx, c, "UserName", "userName", GW_IAM_NAME_MAX);
    int ret;
    if (name == NULL)
        return;
    if ((ret = gw_iam_user_delete(ctx->iam, name)) != 0) {
        iam_store_error(ctx, ret, "user", name);
        return;
    }
    yc_log(YC_LOG_INFO, "request_id=%s event=iam_user_deleted user=%s", ctx->request_id, name);
    answer_empty(ctx, c);
}

static void list_users(gw_ctx_t *ctx, const call_t *c)
{
    page_t p;
    s3_xml_writer_t w;
    if (page_init(ctx, c, &p) != 0 || param_path(ctx, c, "PathPrefix", "pathPrefix", 1, &p.path_prefix) != 0)
        return;
    gw_iam_users(ctx->iam, page_add, &p);
    open_response(ctx, &w, c->action, 1);
    write_page(&w, "Users", &p, 1);
    close_response(ctx, &w, c->action, 1);
}

typedef struct {
    const char *user;
    size_t n;
} owned_t;

static int count_owned(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    owned_t *o = arg;
    meta_bucket_t b;
    if (meta_bucket_decode(val, vlen, &b) == 0 && b.owner.len == strlen(o->user) &&
        memcmp(b.owner.base, o->user, b.owner.len) == 0)
        o->n++;
    return 0;
}

/* How many buckets user (its name as kept) owns, from the bucket records. Blocking. */
static int buckets_owned(gw_ctx_t *ctx, const char *user, size_t *n)
{
    meta_key_t prefix;
    owned_t o = {user, 0};
    int ret;
    meta_key_bucket((meta_bytes_t){"", 0}, &prefix);
    if ((ret = gw_replica_scan(ctx->cluster, &prefix, count_owned, &o)) == 0)
        *n = o.n;
    return ret;
}

/* A renamed user's quota (kept by name, gw_quota.h) moves with it; logged when it cannot. */
static void move_user_quota(gw_ctx_t *ctx, const char *from, const char *to)
{
    uint64_t bytes = 0;
    int ret = gw_quota_user_get(ctx->cluster, from, &bytes);
    if (ret == 0 && bytes > 0 && (ret = gw_quota_user_set(ctx->cluster, to, bytes)) == 0)
        ret = gw_quota_user_set(ctx->cluster, from, 0);
    if (ret != 0)
        yc_log(YC_LOG_WARN, "request_id=%s event=iam_user_quota_not_moved user=%s new_name=%s err=%s", ctx->request_id,
               from, to, yc_errname(ret));
}

static void update_user(gw_ctx_t *ctx, const call_t *c)
{
    const char *name = param_name(ctx, c, "UserName", "userName", GW_IAM_NAME_MAX), *new_name = NULL, *new_path;
    int ret;
    if (name == NULL || param_path(ctx, c, "NewPath", "newPath", 0, &new_path) != 0)
        return;
    if (s3_iam_form_get(&c->form, "NewUserName").base != NULL) {
        h2o_iovec_t v = s3_iam_form_get(&c->form, "NewUserName");
        if (!gw_iam_name_valid(v)) {
            iam_error(ctx, 400, "ValidationError",
                      "1 validation error detected: Value at 'newUserName' failed to satisfy constraint: Member must "
                      "have length between 1 and 64 and satisfy the pattern [\\w+=,.@-]+");
            return;
        }
        new_name = h2o_strdup(&ctx->req->pool, v.base, v.len).base;
    }
    gw_iam_entity_t e;
    size_t owned = 0;
    int renaming = new_name != NULL && gw_iam_user_get(ctx->iam, name, &e) == 0 && strcmp(new_name, e.name) != 0;
    if (renaming) {
        /* buckets, their objects and the user's canonical id are keyed by its name: a rename would
         * leave them behind, so it is refused while the user owns a bucket, never half done */
        if ((ret = buckets_owned(ctx, e.name, &owned)) != 0) {
            iam_store_error(ctx, ret, "user", name);
            return;
        }
        if (owned > 0) {
            iam_errorf(ctx, 501, "NotImplemented",
                       "Renaming user %s is not implemented while it owns buckets (%zu): their ownership is kept by "
                       "the user's name.",
                       name, owned);
            return;
        }
    }
    if ((ret = gw_iam_user_update(ctx->iam, name, new_name, new_path)) != 0) {
        if (ret == -EEXIST)
            iam_store_error(ctx, ret, "User", new_name);
        else
            iam_store_error(ctx, ret, "user", name);
        return;
    }
    if (renaming)
        move_user_quota(ctx, e.name, new_name);
    yc_log(YC_LOG_INFO, "request_id=%s event=iam_user_updated user=%s new_name=%s new_path=%s", ctx->request_id, name,
           new_name != NULL ? new_name : "-", new_path != NULL ? new_path : "-");
    answer_empty(ctx, c);
}

/* ---------------------------------------------------------------- access keys */

static void create_access_key(gw_ctx_t *ctx, const call_t *c)
{
    const char *user = user_or_caller(ctx, c);
    gw_identity_t id;
    s3_xml_writer_t w;
    int ret;
    if (user == NULL)
        return;
    if ((ret = gw_iam_key_create(ctx->iam, user, &id)) != 0) {
        iam_store_error(ctx, ret, "user", user);
        return;
    }
    yc_log(YC_LOG_INFO, "request_id=%s event=iam_key_created user=%s access_key=%s", ctx->request_id, user,
           id.access_key);
    open_response(ctx, &w, c->action, 1);
    s3_xml_open(&w, "AccessKey");
    s3_xml_element_str(&w, "UserName", id.user);
    s3_xml_element_str(&w, "AccessKeyId", id.access_key);
    s3_xml_element_str(&w, "Status", "Active");
    s3_xml_element_str(&w, "SecretAccessKey", id.secret_key);
    s3_xml_element_time(&w, "CreateDate", id.created_ns);
    s3_xml_close(&w, "AccessKey");
    close_response(ctx, &w, c->action, 1);
    OPENSSL_cleanse(&id, sizeof(id));
}

static const char *access_key_param(gw_ctx_t *ctx, const call_t *c)
{
    h2o_iovec_t v = s3_iam_form_get(&c->form, "AccessKeyId");
    if (v.base == NULL || v.len < 3 || v.len > META_ACCESS_KEY_MAX || memchr(v.base, 0, v.len) != NULL) {
        iam_error(ctx, 400, "ValidationError",
                  "1 validation error detected: Value at 'accessKeyId' failed to satisfy constraint: Member must have "
                  "length between 16 and 128");
        return NULL;
    }
    return h2o_strdup(&ctx->req->pool, v.base, v.len).base;
}

static void delete_access_key(gw_ctx_t *ctx, const call_t *c)
{
    const char *ak = access_key_param(ctx, c), *user = ak != NULL ? user_or_caller(ctx, c) : NULL;
    int ret;
    if (user == NULL)
        return;
    if ((ret = gw_iam_key_delete(ctx->iam, user, ak)) != 0) {
        if (ret == -ENOENT)
            iam_errorf(ctx, 404, "NoSuchEntity", "The Access Key with id %s cannot be found.", ak);
        else
            iam_store_error(ctx, ret, "access key", ak);
        return;
    }
    yc_log(YC_LOG_INFO, "request_id=%s event=iam_key_deleted user=%s access_key=%s", ctx->request_id, user, ak);
    answer_empty(ctx, c);
}

static void update_access_key(gw_ctx_t *ctx, const call_t *c)
{
    const char *ak = access_key_param(ctx, c), *user = ak != NULL ? user_or_caller(ctx, c) : NULL;
    h2o_iovec_t status = s3_iam_form_get(&c->form, "Status");
    int ret, disabled;
    if (user == NULL)
        return;
    if (h2o_memis(status.base, status.len, H2O_STRLIT("Active")))
        disabled = 0;
    else if (h2o_memis(status.base, status.len, H2O_STRLIT("Inactive")))
        disabled = 1;
    else {
        iam_error(ctx, 400, "ValidationError",
                  "1 validation error detected: Value at 'status' failed to satisfy constraint: Member must satisfy "
                  "enum value set: [Active, Inactive]");
        return;
    }
    if ((ret = gw_iam_key_set_disabled(ctx->iam, user, ak, disabled)) != 0) {
        if (ret == -ENOENT)
            iam_errorf(ctx, 404, "NoSuchEntity", "The Access Key with id %s cannot be found.", ak);
        else
            iam_store_error(ctx, ret, "access key", ak);
        return;
    }
    yc_log(YC_LOG_INFO, "request_id=%s event=iam_key_updated user=%s access_key=%s status=%s", ctx->request_id, user,
           ak, disabled ? "Inactive" : "Active");
    answer_empty(ctx, c);
}

static void add_key_meta(void *arg, const gw_identity_t *id)
{
    s3_xml_writer_t *w = arg;
    s3_xml_open(w, "member");
    s3_xml_element_str(w, "UserName", id->user);
    s3_xml_element_str(w, "AccessKeyId", id->access_key);
    s3_xml_element_str(w, "Status", id->disabled ? "Inactive" : "Active");
    s3_xml_element_time(w, "CreateDate", id->created_ns);
    s3_xml_close(w, "member");
}

static void list_access_keys(gw_ctx_t *ctx, const call_t *c)
{
    const char *user = user_or_caller(ctx, c);
    gw_iam_entity_t u;
    s3_xml_writer_t w;
    int ret;
    if (user == NULL)
        return;
    if ((ret = gw_iam_user_get(ctx->iam, user, &u)) != 0) {
        iam_store_error(ctx, ret, "user", user);
        return;
    }
    open_response(ctx, &w, c->action, 1);
    s3_xml_open(&w, "AccessKeyMetadata");
    gw_iam_keys(ctx->iam, user, add_key_meta, &w);
    s3_xml_close(&w, "AccessKeyMetadata");
    s3_xml_element_bool(&w, "IsTruncated", 0);
    close_response(ctx, &w, c->action, 1);
}

/* ---------------------------------------------------------------- inline policies */

static void policy_owner(gw_ctx_t *ctx, const call_t *c, gw_iam_policy_kind_t kind, const char **owner)
{
    *owner = kind == GW_IAM_USER_POLICY ? param_name(ctx, c, "UserName", "userName", GW_IAM_NAME_MAX)
                                        : param_name(ctx, c, "GroupName", "groupName", GW_IAM_NAME_MAX);
}

static void put_policy(gw_ctx_t *ctx, const call_t *c, gw_iam_policy_kind_t kind)
{
    const char *owner, *name;
    h2o_iovec_t doc;
    s3_policy_error_t err;
    int ret;

    policy_owner(ctx, c, kind, &owner);
    if (owner == NULL || (name = param_name(ctx, c, "PolicyName", "policyName", GW_IAM_POLICY_NAME_MAX)) == NULL)
        return;
    if ((doc = s3_iam_form_get(&c->form, "PolicyDocument")).base == NULL) {
        iam_error(ctx, 400, "ValidationError",
                  "1 validation error detected: Value null at 'policyDocument' failed to satisfy constraint: Member "
                  "must not be null");
        return;
    }
    if ((ret = gw_iam_policy_put(ctx->iam, kind, owner, name, doc, &err)) != 0) {
        if (ret == -EINVAL)
            iam_error(ctx, 400, "MalformedPolicyDocument", err.message[0] ? err.message : "The policy is malformed.");
        else
            iam_store_error(ctx, ret, kind == GW_IAM_USER_POLICY ? "user" : "group", owner);
        return;
    }
    yc_log(YC_LOG_INFO, "request_id=%s event=iam_policy_put owner=%s policy=%s", ctx->request_id, owner, name);
    answer_empty(ctx, c);
}

static void get_policy(gw_ctx_t *ctx, const call_t *c, gw_iam_policy_kind_t kind)
{
    const char *owner, *name;
    h2o_iovec_t text;
    s3_xml_writer_t w;
    int ret;

    policy_owner(ctx, c, kind, &owner);
    if (owner == NULL || (name = param_name(ctx, c, "PolicyName", "policyName", GW_IAM_POLICY_NAME_MAX)) == NULL)
        return;
    if ((ret = gw_iam_policy_get(ctx->iam, kind, owner, name, &ctx->req->pool, &text)) != 0) {
        if (ret == -ENOENT)
            iam_errorf(ctx, 404, "NoSuchEntity", "The %s policy with name %s cannot be found.",
                       kind == GW_IAM_USER_POLICY ? "user" : "group", name);
        else
            iam_store_error(ctx, ret, "policy", name);
        return;
    }
    open_response(ctx, &w, c->action, 1);
    s3_xml_element_str(&w, kind == GW_IAM_USER_POLICY ? "UserName" : "GroupName", owner);
    s3_xml_element_str(&w, "PolicyName", name);
    s3_xml_element(&w, "PolicyDocument", url_encode(&ctx->req->pool, text));
    close_response(ctx, &w, c->action, 1);
}

static void delete_policy(gw_ctx_t *ctx, const call_t *c, gw_iam_policy_kind_t kind)
{
    const char *owner, *name;
    int ret;

    policy_owner(ctx, c, kind, &owner);
    if (owner == NULL || (name = param_name(ctx, c, "PolicyName", "policyName", GW_IAM_POLICY_NAME_MAX)) == NULL)
        return;
    if ((ret = gw_iam_policy_delete(ctx->iam, kind, owner, name)) != 0) {
        if (ret == -ENOENT)
            iam_errorf(ctx, 404, "NoSuchEntity", "The %s policy with name %s cannot be found.",
                       kind == GW_IAM_USER_POLICY ? "user" : "group", name);
        else
            iam_store_error(ctx, ret, "policy", name);
        return;
    }
    yc_log(YC_LOG_INFO, "request_id=%s event=iam_policy_deleted owner=%s policy=%s", ctx->request_id, owner, name);
    answer_empty(ctx, c);
}

static void add_policy_name(void *arg, const char *name)
{
    s3_xml_element_str(arg, "member", name);
}

static void list_policies(gw_ctx_t *ctx, const call_t *c, gw_iam_policy_kind_t kind)
{
    const char *owner;
    gw_iam_entity_t e;
    s3_xml_writer_t w;
    int ret;

    policy_owner(ctx, c, kind, &owner);
    if (owner == NULL)
        return;
    ret = kind == GW_IAM_USER_POLICY ? gw_iam_user_get(ctx->iam, owner, &e) : gw_iam_group_get(ctx->iam, owner, &e);
    if (ret != 0) {
        iam_store_error(ctx, ret, kind == GW_IAM_USER_POLICY ? "user" : "group", owner);
        return;
    }
    open_response(ctx, &w, c->action, 1);
    s3_xml_open(&w, "PolicyNames");
    gw_iam_policies(ctx->iam, kind, owner, add_policy_name, &w);
    s3_xml_close(&w, "PolicyNames");
    s3_xml_element_bool(&w, "IsTruncated", 0);
    close_response(ctx, &w, c->action, 1);
}

/* ---------------------------------------------------------------- groups */

static void create_group(gw_ctx_t *ctx, const call_t *c)
{
    const char *name = param_name(ctx, c, "GroupName", "groupName", GW_IAM_NAME_MAX);
    gw_iam_entity_t g;
    s3_xml_writer_t w;
    int ret;
    const char *path;
    if (name == NULL || param_path(ctx, c, "Path", "path", 0, &path) != 0)
        return;
    if ((ret = gw_iam_group_create_at(ctx->iam, name, path, &g)) != 0) {
        iam_store_error(ctx, ret, "Group", name);
        return;
    }
    yc_log(YC_LOG_INFO, "request_id=%s event=iam_group_created group=%s", ctx->request_id, name);
    open_response(ctx, &w, c->action, 1);
    write_entity(&w, "Group", &g, 0);
    close_response(ctx, &w, c->action, 1);
}

static void get_group(gw_ctx_t *ctx, const call_t *c)
{
    const char *name = param_name(ctx, c, "GroupName", "groupName", GW_IAM_NAME_MAX);
    gw_iam_entity_t g;
    page_t p;
    s3_xml_writer_t w;
    int ret;
    if (name == NULL || page_init(ctx, c, &p) != 0)
        return;
    if ((ret = gw_iam_group_get(ctx->iam, name, &g)) != 0) {
        iam_store_error(ctx, ret, "group", name);
        return;
    }
    gw_iam_members_of(ctx->iam, name, page_add, &p);
    open_response(ctx, &w, c->action, 1);
    write_entity(&w, "Group", &g, 0);
    write_page(&w, "Users", &p, 1);
    close_response(ctx, &w, c->action, 1);
}

static void delete_group(gw_ctx_t *ctx, const call_t *c)
{
    const char *name = param_name(ctx, c, "GroupName", "groupName", GW_IAM_NAME_MAX);
    int ret;
    if (name == NULL)
        return;
    if ((ret = gw_iam_group_delete(ctx->iam, name)) != 0) {
        iam_store_error(ctx, ret, "group", name);
        return;
    }
    yc_log(YC_LOG_INFO, "request_id=%s event=iam_group_deleted group=%s", ctx->request_id, name);
    answer_empty(ctx, c);
}

static void list_groups(gw_ctx_t *ctx, const call_t *c)
{
    page_t p;
    s3_xml_writer_t w;
    if (page_init(ctx, c, &p) != 0 || param_path(ctx, c, "PathPrefix", "pathPrefix", 1, &p.path_prefix) != 0)
        return;
    gw_iam_groups(ctx->iam, page_add, &p);
    open_response(ctx, &w, c->action, 1);
    write_page(&w, "Groups", &p, 0);
    close_response(ctx, &w, c->action, 1);
}

static void update_group(gw_ctx_t *ctx, const call_t *c)
{
    const char *name = param_name(ctx, c, "GroupName", "groupName", GW_IAM_NAME_MAX), *new_name = NULL, *new_path;
    int ret;
    if (name == NULL || param_path(ctx, c, "NewPath", "newPath", 0, &new_path) != 0)
        return;
    if (s3_iam_form_get(&c->form, "NewGroupName").base != NULL) {
        h2o_iovec_t v = s3_iam_form_get(&c->form, "NewGroupName");
        if (!gw_iam_name_valid(v)) {
            iam_error(ctx, 400, "ValidationError",
                      "1 validation error detected: Value at 'newGroupName' failed to satisfy constraint: Member must "
                      "have length between 1 and 64 and satisfy the pattern [\\w+=,.@-]+");
            return;
        }
        new_name = h2o_strdup(&ctx->req->pool, v.base, v.len).base;
    }
    if ((ret = gw_iam_group_update(ctx->iam, name, new_name, new_path)) != 0) {
        if (ret == -EEXIST)
            iam_store_error(ctx, ret, "Group", new_name);
        else
            iam_store_error(ctx, ret, "group", name);
        return;
    }
    yc_log(YC_LOG_INFO, "request_id=%s event=iam_group_updated group=%s new_name=%s new_path=%s", ctx->request_id, name,
           new_name != NULL ? new_name : "-", new_path != NULL ? new_path : "-");
    answer_empty(ctx, c);
}

static void membership(gw_ctx_t *ctx, const call_t *c, int add)
{
    const char *group = param_name(ctx, c, "GroupName", "groupName", GW_IAM_NAME_MAX), *user;
    gw_iam_entity_t e;
    int ret;
    if (group == NULL || (user = param_name(ctx, c, "UserName", "userName", GW_IAM_NAME_MAX)) == NULL)
        return;
    ret = add ? gw_iam_member_add(ctx->iam, group, user) : gw_iam_member_remove(ctx->iam, group, user);
    if (ret != 0) {
        if (ret == -ENOENT && gw_iam_group_get(ctx->iam, group, &e) != 0)
            iam_store_error(ctx, ret, "group", group);
        else if (ret == -ENOENT && gw_iam_user_get(ctx->iam, user, &e) != 0)
            iam_store_error(ctx, ret, "user", user);
        else if (ret == -ENOENT)
            iam_errorf(ctx, 404, "NoSuchEntity", "User %s is not in group %s.", user, group);
        else
            iam_store_error(ctx, ret, "group", group);
        return;
    }
    yc_log(YC_LOG_INFO, "request_id=%s event=%s group=%s user=%s", ctx->request_id,
           add ? "iam_member_added" : "iam_member_removed", group, user);
    answer_empty(ctx, c);
}

static void list_groups_for_user(gw_ctx_t *ctx, const call_t *c)
{
    const char *user = param_name(ctx, c, "UserName", "userName", GW_IAM_NAME_MAX);
    gw_iam_entity_t u;
    page_t p;
    s3_xml_writer_t w;
    int ret;
    if (user == NULL || page_init(ctx, c, &p) != 0)
        return;
    if ((ret = gw_iam_user_get(ctx->iam, user, &u)) != 0) {
        iam_store_error(ctx, ret, "user", user);
        return;
    }
    gw_iam_groups_of(ctx->iam, user, page_add, &p);
    open_response(ctx, &w, c->action, 1);
    write_page(&w, "Groups", &p, 0);
    close_response(ctx, &w, c->action, 1);
}

/* ---------------------------------------------------------------- dispatch */

static void add_user_to_group(gw_ctx_t *ctx, const call_t *c)
{
    membership(ctx, c, 1);
}
static void remove_user_from_group(gw_ctx_t *ctx, const call_t *c)
{
    membership(ctx, c, 0);
}
static void put_user_policy(gw_ctx_t *ctx, const call_t *c)
{
    put_policy(ctx, c, GW_IAM_USER_POLICY);
}
static void get_user_policy(gw_ctx_t *ctx, const call_t *c)
{
    get_policy(ctx, c, GW_IAM_USER_POLICY);
}
static void delete_user_policy(gw_ctx_t *ctx, const call_t *c)
{
    delete_policy(ctx, c, GW_IAM_USER_POLICY);
}
static void list_user_policies(gw_ctx_t *ctx, const call_t *c)
{
    list_policies(ctx, c, GW_IAM_USER_POLICY);
}
static void put_group_policy(gw_ctx_t *ctx, const call_t *c)
{
    put_policy(ctx, c, GW_IAM_GROUP_POLICY);
}
static void get_group_policy(gw_ctx_t *ctx, const call_t *c)
{
    get_policy(ctx, c, GW_IAM_GROUP_POLICY);
}
static void delete_group_policy(gw_ctx_t *ctx, const call_t *c)
{
    delete_policy(ctx, c, GW_IAM_GROUP_POLICY);
}
static void list_group_policies(gw_ctx_t *ctx, const call_t *c)
{
    list_policies(ctx, c, GW_IAM_GROUP_POLICY);
}

/* ---------------------------------------------------------------- managed policies */

static h2o_iovec_t iam_arn(gw_ctx_t *ctx, const char *kind, h2o_iovec_t path, h2o_iovec_t name);

#define AWS_POLICY_ARN_PREFIX "arn:aws:iam::aws:policy"

static h2o_iovec_t policy_arn(gw_ctx_t *ctx, const gw_iam_managed_t *m)
{
    if (m->aws) /* AWS's own: in the account "aws" */
        return h2o_concat(&ctx->req->pool, h2o_iovec_init(H2O_STRLIT(AWS_POLICY_ARN_PREFIX)),
                          h2o_iovec_init(m->path, strlen(m->path)), h2o_iovec_init(m->name, strlen(m->name)));
    return iam_arn(ctx, "policy", h2o_iovec_init(m->path, strlen(m->path)), h2o_iovec_init(m->name, strlen(m->name)));
}

static void write_managed(gw_ctx_t *ctx, s3_xml_writer_t *w, const char *tag, const gw_iam_managed_t *m, int full)
{
    s3_xml_open(w, tag);
    s3_xml_element_str(w, "PolicyName", m->name);
    s3_xml_element_str(w, "PolicyId", m->id);
    s3_xml_element(w, "Arn", policy_arn(ctx, m));
    s3_xml_element_str(w, "Path", m->path);
    s3_xml_element_str(w, "DefaultVersionId", "v1");
    s3_xml_element_uint(w, "AttachmentCount", m->attachments);
    s3_xml_element_uint(w, "PermissionsBoundaryUsageCount", 0);
    s3_xml_element_bool(w, "IsAttachable", 1);
    if (full && m->description[0] != '\0')
        s3_xml_element_str(w, "Description", m->description);
    s3_xml_element_time(w, "CreateDate", m->created_ns);
    s3_xml_element_time(w, "UpdateDate", m->created_ns);
    s3_xml_close(w, tag);
}

/* The managed policy PolicyArn names into *out; -1 with IAM's error set when the ARN is missing or
 * malformed (400) or names no policy here (404: another account's, another path, none). */
static int param_policy(gw_ctx_t *ctx, const call_t *c, gw_iam_managed_t *out)
{
    h2o_iovec_t arn = s3_iam_form_get(&c->form, "PolicyArn");
    s3_iam_policy_arn_t a;
    int ret;

    if (arn.base == NULL) {
        iam_error(ctx, 400, "ValidationError",
                  "1 validation error detected: Value null at 'policyArn' failed to satisfy constraint: Member must "
                  "not be null");
        return -1;
    }
    if ((ret = s3_iam_policy_arn_parse(arn, h2o_iovec_init(H2O_STRLIT(IAM_ACCOUNT)), &a)) == S3_IAM_ARN_INVALID) {
        iam_errorf(ctx, 400, "InvalidInput", "ARN %.*s is not valid.", (int)(arn.len < 256 ? arn.len : 256), arn.base);
        return -1;
    }
    if (ret == S3_IAM_ARN_OK) {
        /* AWS's own are known by the key "aws:" name (gw_iam.h) */
        h2o_iovec_t key =
            h2o_concat(&ctx->req->pool, h2o_iovec_init(a.aws ? GW_IAM_AWS_POLICY_PREFIX : "", a.aws ? 4 : 0), a.name);
        if (gw_iam_managed_get(ctx->iam, key.base, NULL, out, NULL) == 0 && out->aws == a.aws &&
            h2o_memis(a.path.base, a.path.len, out->path, strlen(out->path)))
            return 0;
    }
    iam_errorf(ctx, 404, "NoSuchEntity", "Policy %.*s was not found.", (int)(arn.len < 256 ? arn.len : 256), arn.base);
    return -1;
}

static void create_managed(gw_ctx_t *ctx, const call_t *c)
{
    const char *name = param_name(ctx, c, "PolicyName", "policyName", GW_IAM_POLICY_NAME_MAX), *path, *description;
    h2o_iovec_t doc = s3_iam_form_get(&c->form, "PolicyDocument"), d = s3_iam_form_get(&c->form, "Description");
    s3_policy_error_t err;
    gw_iam_managed_t m;
    s3_xml_writer_t w;
    int ret;

    if (name == NULL || param_path(ctx, c, "Path", "path", 0, &path) != 0)
        return;
    if (doc.base == NULL) {
        iam_error(ctx, 400, "ValidationError",
                  "1 validation error detected: Value null at 'policyDocument' failed to satisfy constraint: Member "
                  "must not be null");
        return;
    }
    if (d.base != NULL && (d.len > GW_IAM_DESCRIPTION_MAX || memchr(d.base, 0, d.len) != NULL)) {
        iam_error(ctx, 400, "ValidationError",
                  "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have "
                  "length less than or equal to 1000");
        return;
    }
    description = d.base != NULL ? h2o_strdup(&ctx->req->pool, d.base, d.len).base : NULL;
    if ((ret = gw_iam_managed_create(ctx->iam, name, path, description, doc, &err, &m)) != 0) {
        if (ret == -EINVAL)
            iam_error(ctx, 400, "MalformedPolicyDocument", err.message[0] ? err.message : "The policy is malformed.");
        else if (ret == -EEXIST)
            iam_errorf(ctx, 409, "EntityAlreadyExists",
                       "A policy called %s already exists. Duplicate names are not "
                       "allowed.",
                       name);
        else
            iam_store_error(ctx, ret, "policy", name);
        return;
    }
    yc_log(YC_LOG_INFO, "request_id=%s event=iam_managed_policy_created policy=%s", ctx->request_id, name);
    open_response(ctx, &w, c->action, 1);
    write_managed(ctx, &w, "Policy", &m, 1);
    close_response(ctx, &w, c->action, 1);
}

static void get_managed(gw_ctx_t *ctx, const call_t *c)
{
    gw_iam_managed_t m;
    s3_xml_writer_t w;
    if (param_policy(ctx, c, &m) != 0)
        return;
    open_response(ctx, &w, c->action, 1);
    write_managed(ctx, &w, "Policy", &m, 1);
    close_response(ctx, &w, c->action, 1);
}

static void write_version(s3_xml_writer_t *w, const char *tag, const gw_iam_managed_t *m, const h2o_iovec_t *doc)
{
    s3_xml_open(w, tag);
    if (doc != NULL)
        s3_xml_element(w, "Document", *doc);
    s3_xml_element_str(w, "VersionId", "v1");
    s3_xml_element_bool(w, "IsDefaultVersion", 1);
    s3_xml_element_time(w, "CreateDate", m->created_ns);
    s3_xml_close(w, tag);
}

static void get_managed_version(gw_ctx_t *ctx, const call_t *c)
{
    h2o_iovec_t version = s3_iam_form_get(&c->form, "VersionId"), text;
    gw_iam_managed_t m;
    s3_xml_writer_t w;
    if (param_policy(ctx, c, &m) != 0)
        return;
    if (version.base == NULL) {
        iam_error(ctx, 400, "ValidationError",
                  "1 validation error detected: Value null at 'versionId' failed to satisfy constraint: Member must "
                  "not be null");
        return;
    }
    /* one version per policy here (CreatePolicyVersion is not built) */
    if (!h2o_memis(version.base, version.len, H2O_STRLIT("v1")) ||
        gw_iam_managed_get(ctx->iam, m.key, &ctx->req->pool, &m, &text) != 0) {
        iam_errorf(ctx, 404, "NoSuchEntity", "Policy %s version %.*s does not exist or is not attachable.", m.name,
                   (int)(version.len < 64 ? version.len : 64), version.base);
        return;
    }
    h2o_iovec_t doc = url_encode(&ctx->req->pool, text);
    open_response(ctx, &w, c->action, 1);
    write_version(&w, "PolicyVersion", &m, &doc);
    close_response(ctx, &w, c->action, 1);
}

static void list_managed_versions(gw_ctx_t *ctx, const call_t *c)
{
    gw_iam_managed_t m;
    s3_xml_writer_t w;
    if (param_policy(ctx, c, &m) != 0)
        return;
    open_response(ctx, &w, c->action, 1);
    s3_xml_open(&w, "Versions");
    write_version(&w, "member", &m, NULL);
    s3_xml_close(&w, "Versions");
    s3_xml_element_bool(&w, "IsTruncated", 0);
    close_response(ctx, &w, c->action, 1);
}

static void delete_managed(gw_ctx_t *ctx, const call_t *c)
{
    gw_iam_managed_t m;
    int ret;
    if (param_policy(ctx, c, &m) != 0)
        return;
    if ((ret = gw_iam_managed_delete(ctx->iam, m.key)) != 0) {
        if (ret == -ENOTEMPTY)
            iam_error(ctx, 409, "DeleteConflict", "Cannot delete a policy attached to entities.");
        else if (ret == -EPERM)
            iam_errorf(ctx, 403, "AccessDenied", "AWS managed policy %s cannot be deleted.", m.name);
        else
            iam_store_error(ctx, ret, "policy", m.name);
        return;
    }
    yc_log(YC_LOG_INFO, "request_id=%s event=iam_managed_policy_deleted policy=%s", ctx->request_id, m.name);
    answer_empty(ctx, c);
}

/* Collects managed policies for a listing: after a marker, under a path, attached only, a page. */
typedef struct {
    gw_iam_managed_t *items;
    size_t n, max;
    int truncated, only_attached;
    int scope; /* 0 all, 1 AWS's own, 2 local (the account's) */
    h2o_iovec_t marker;
    const char *path_prefix;
} managed_page_t;

static void managed_page_add(void *arg, const gw_iam_managed_t *m)
{
    managed_page_t *p = arg;
    if ((p->scope == 1 && !m->aws) || (p->scope == 2 && m->aws) || (p->only_attached && m->attachments == 0) ||
        (p->path_prefix != NULL && strncmp(m->path, p->path_prefix, strlen(p->path_prefix)) != 0))
        return;
    /* policies come in case-insensitive name order, the order markers follow */
    if (p->marker.base != NULL && p->marker.len > 0 && strncasecmp(m->name, p->marker.base, p->marker.len) <= 0 &&
        !(strlen(m->name) > p->marker.len && strncasecmp(m->name, p->marker.base, p->marker.len) == 0))
        return;
    if (p->n == p->max) {
        p->truncated = 1;
        return;
    }
    p->items[p->n++] = *m;
}

static int managed_page_init(gw_ctx_t *ctx, const call_t *c, managed_page_t *p)
{
    memset(p, 0, sizeof(*p));
    if (paging(ctx, c, &p->max, &p->marker) != 0 || param_path(ctx, c, "PathPrefix", "pathPrefix", 1, &p->path_prefix))
        return -1;
    p->items = h2o_mem_alloc_pool(&ctx->req->pool, p->max * sizeof(*p->items));
    return 0;
}

static void list_managed(gw_ctx_t *ctx, const call_t *c)
{
    h2o_iovec_t scope = s3_iam_form_get(&c->form, "Scope"), only = s3_iam_form_get(&c->form, "OnlyAttached");
    managed_page_t p;
    s3_xml_writer_t w;

    if (managed_page_init(ctx, c, &p) != 0)
        return;
    if (scope.base != NULL && !h2o_memis(scope.base, scope.len, H2O_STRLIT("All")) &&
        !h2o_memis(scope.base, scope.len, H2O_STRLIT("AWS")) &&
        !h2o_memis(scope.base, scope.len, H2O_STRLIT("Local"))) {
        iam_error(ctx, 400, "ValidationError",
                  "1 validation error detected: Value at 'scope' failed to satisfy constraint: Member must satisfy "
                  "enum value set: [All, AWS, Local]");
        return;
    }
    p.scope = scope.base == NULL                                      ? 0
              : h2o_memis(scope.base, scope.len, H2O_STRLIT("AWS"))   ? 1
              : h2o_memis(scope.base, scope.len, H2O_STRLIT("Local")) ? 2
                                                                      : 0;
    p.only_attached = only.base != NULL && h2o_lcstris(only.base, only.len, H2O_STRLIT("true"));
    gw_iam_managed_list(ctx->iam, managed_page_add, &p);
    open_response(ctx, &w, c->action, 1);
    s3_xml_open(&w, "Policies");
    for (size_t i = 0; i < p.n; i++)
        write_managed(ctx, &w, "member", &p.items[i], 0);
    s3_xml_close(&w, "Policies");
    s3_xml_element_bool(&w, "IsTruncated", p.truncated);
    if (p.truncated && p.n > 0)
        s3_xml_element_str(&w, "Marker", p.items[p.n - 1].name);
    close_response(ctx, &w, c->action, 1);
}

static void attachment(gw_ctx_t *ctx, const call_t *c, gw_iam_policy_kind_t kind, int attach)
{
    const char *owner;
    gw_iam_managed_t m;
    int ret;

    policy_owner(ctx, c, kind, &owner);
    if (owner == NULL || param_policy(ctx, c, &m) != 0)
        return;
    if ((ret = gw_iam_attach(ctx->iam, kind, owner, m.key, attach)) != 0) {
        gw_iam_entity_t e;
        int exists = kind == GW_IAM_USER_POLICY ? gw_iam_user_get(ctx->iam, owner, &e) == 0
                                                : gw_iam_group_get(ctx->iam, owner, &e) == 0;
        if (ret == -ENOENT && exists)
            iam_errorf(ctx, 404, "NoSuchEntity", "Policy %s was not attached.", m.name);
        else
            iam_store_error(ctx, ret, kind == GW_IAM_USER_POLICY ? "user" : "group", owner);
        return;
    }
    yc_log(YC_LOG_INFO, "request_id=%s event=iam_managed_policy_%s owner=%s policy=%s", ctx->request_id,
           attach ? "attached" : "detached", owner, m.name);
    answer_empty(ctx, c);
}

static void add_attached(void *arg, const gw_iam_managed_t *m)
{
    managed_page_t *p = arg;
    managed_page_add(p, m);
}

static void list_attached(gw_ctx_t *ctx, const call_t *c, gw_iam_policy_kind_t kind)
{
    const char *owner;
    gw_iam_entity_t e;
    managed_page_t p;
    s3_xml_writer_t w;
    int ret;

    policy_owner(ctx, c, kind, &owner);
    if (owner == NULL || managed_page_init(ctx, c, &p) != 0)
        return;
    ret = kind == GW_IAM_USER_POLICY ? gw_iam_user_get(ctx->iam, owner, &e) : gw_iam_group_get(ctx->iam, owner, &e);
    if (ret != 0) {
        iam_store_error(ctx, ret, kind == GW_IAM_USER_POLICY ? "user" : "group", owner);
        return;
    }
    gw_iam_attached(ctx->iam, kind, e.name, add_attached, &p);
    open_response(ctx, &w, c->action, 1);
    s3_xml_open(&w, "AttachedPolicies");
    for (size_t i = 0; i < p.n; i++) {
        s3_xml_open(&w, "member");
        s3_xml_element_str(&w, "PolicyName", p.items[i].name);
        s3_xml_element(&w, "PolicyArn", policy_arn(ctx, &p.items[i]));
        s3_xml_close(&w, "member");
    }
    s3_xml_close(&w, "AttachedPolicies");
    s3_xml_element_bool(&w, "IsTruncated", p.truncated);
    if (p.truncated && p.n > 0)
        s3_xml_element_str(&w, "Marker", p.items[p.n - 1].name);
    close_response(ctx, &w, c->action, 1);
}

static void attach_user_policy(gw_ctx_t *ctx, const call_t *c)
{
    attachment(ctx, c, GW_IAM_USER_POLICY, 1);
}
static void detach_user_policy(gw_ctx_t *ctx, const call_t *c)
{
    attachment(ctx, c, GW_IAM_USER_POLICY, 0);
}
static void list_attached_user_policies(gw_ctx_t *ctx, const call_t *c)
{
    list_attached(ctx, c, GW_IAM_USER_POLICY);
}
static void attach_group_policy(gw_ctx_t *ctx, const call_t *c)
{
    attachment(ctx, c, GW_IAM_GROUP_POLICY, 1);
}
static void detach_group_policy(gw_ctx_t *ctx, const call_t *c)
{
    attachment(ctx, c, GW_IAM_GROUP_POLICY, 0);
}
static void list_attached_group_policies(gw_ctx_t *ctx, const call_t *c)
{
    list_attached(ctx, c, GW_IAM_GROUP_POLICY);
}

/* What an action's identity policies are checked against (AWS's resource of each action): a user's
 * ARN (named by UserName; RES_USER_OR_CALLER: the caller's own without it), a group's, or the
 * users' or groups' path a list call covers (arn:aws:iam::<account>:user/ with PathPrefix after). */
typedef enum {
    RES_USER,
    RES_USER_OR_CALLER,
    RES_USER_LIST,
    RES_GROUP,
    RES_GROUP_LIST,
    RES_POLICY, /* the managed policy's ARN (PolicyArn; CreatePolicy: the one it makes) */
    RES_ANY,    /* "*": ListPolicies */
} resource_kind_t;

static const struct {
    const char *name;
    void (*fn)(gw_ctx_t *ctx, const call_t *c);
    s3_policy_action_t action;
    resource_kind_t resource;
} actions[] = {
    {"CreateUser", create_user, S3_POLICY_ACTION_IAM_CREATE_USER, RES_USER},
    {"GetUser", get_user, S3_POLICY_ACTION_IAM_GET_USER, RES_USER_OR_CALLER},
    {"DeleteUser", delete_user, S3_POLICY_ACTION_IAM_DELETE_USER, RES_USER},
    {"ListUsers", list_users, S3_POLICY_ACTION_IAM_LIST_USERS, RES_USER_LIST},
    {"UpdateUser", update_user, S3_POLICY_ACTION_IAM_UPDATE_USER, RES_USER},
    {"CreateAccessKey", create_access_key, S3_POLICY_ACTION_IAM_CREATE_ACCESS_KEY, RES_USER_OR_CALLER},
    {"DeleteAccessKey", delete_access_key, S3_POLICY_ACTION_IAM_DELETE_ACCESS_KEY, RES_USER_OR_CALLER},
    {"UpdateAccessKey", update_access_key, S3_POLICY_ACTION_IAM_UPDATE_ACCESS_KEY, RES_USER_OR_CALLER},
    {"ListAccessKeys", list_access_keys, S3_POLICY_ACTION_IAM_LIST_ACCESS_KEYS, RES_USER_OR_CALLER},
    {"PutUserPolicy", put_user_policy, S3_POLICY_ACTION_IAM_PUT_USER_POLICY, RES_USER},
    {"GetUserPolicy", get_user_policy, S3_POLICY_ACTION_IAM_GET_USER_POLICY, RES_USER},
    {"DeleteUserPolicy", delete_user_policy, S3_POLICY_ACTION_IAM_DELETE_USER_POLICY, RES_USER},
    {"ListUserPolicies", list_user_policies, S3_POLICY_ACTION_IAM_LIST_USER_POLICIES, RES_USER},
    {"CreateGroup", create_group, S3_POLICY_ACTION_IAM_CREATE_GROUP, RES_GROUP},
    {"GetGroup", get_group, S3_POLICY_ACTION_IAM_GET_GROUP, RES_GROUP},
    {"DeleteGroup", delete_group, S3_POLICY_ACTION_IAM_DELETE_GROUP, RES_GROUP},
    {"ListGroups", list_groups, S3_POLICY_ACTION_IAM_LIST_GROUPS, RES_GROUP_LIST},
    {"UpdateGroup", update_group, S3_POLICY_ACTION_IAM_UPDATE_GROUP, RES_GROUP},
    {"AddUserToGroup", add_user_to_group, S3_POLICY_ACTION_IAM_ADD_USER_TO_GROUP, RES_GROUP},
    {"RemoveUserFromGroup", remove_user_from_group, S3_POLICY_ACTION_IAM_REMOVE_USER_FROM_GROUP, RES_GROUP},
    {"ListGroupsForUser", list_groups_for_user, S3_POLICY_ACTION_IAM_LIST_GROUPS_FOR_USER, RES_USER},
    {"PutGroupPolicy", put_group_policy, S3_POLICY_ACTION_IAM_PUT_GROUP_POLICY, RES_GROUP},
    {"GetGroupPolicy", get_group_policy, S3_POLICY_ACTION_IAM_GET_GROUP_POLICY, RES_GROUP},
    {"DeleteGroupPolicy", delete_group_policy, S3_POLICY_ACTION_IAM_DELETE_GROUP_POLICY, RES_GROUP},
    {"ListGroupPolicies", list_group_policies, S3_POLICY_ACTION_IAM_LIST_GROUP_POLICIES, RES_GROUP},
    {"CreatePolicy", create_managed, S3_POLICY_ACTION_IAM_CREATE_POLICY, RES_POLICY},
    {"GetPolicy", get_managed, S3_POLICY_ACTION_IAM_GET_POLICY, RES_POLICY},
    {"GetPolicyVersion", get_managed_version, S3_POLICY_ACTION_IAM_GET_POLICY_VERSION, RES_POLICY},
    {"ListPolicyVersions", list_managed_versions, S3_POLICY_ACTION_IAM_LIST_POLICY_VERSIONS, RES_POLICY},
    {"DeletePolicy", delete_managed, S3_POLICY_ACTION_IAM_DELETE_POLICY, RES_POLICY},
    {"ListPolicies", list_managed, S3_POLICY_ACTION_IAM_LIST_POLICIES, RES_ANY},
    {"AttachUserPolicy", attach_user_policy, S3_POLICY_ACTION_IAM_ATTACH_USER_POLICY, RES_USER},
    {"DetachUserPolicy", detach_user_policy, S3_POLICY_ACTION_IAM_DETACH_USER_POLICY, RES_USER},
    {"ListAttachedUserPolicies", list_attached_user_policies, S3_POLICY_ACTION_IAM_LIST_ATTACHED_USER_POLICIES,
     RES_USER},
    {"AttachGroupPolicy", attach_group_policy, S3_POLICY_ACTION_IAM_ATTACH_GROUP_POLICY, RES_GROUP},
    {"DetachGroupPolicy", detach_group_policy, S3_POLICY_ACTION_IAM_DETACH_GROUP_POLICY, RES_GROUP},
    {"ListAttachedGroupPolicies", list_attached_group_policies, S3_POLICY_ACTION_IAM_LIST_ATTACHED_GROUP_POLICIES,
     RES_GROUP},
};

static void call_work(gw_ctx_t *ctx)
{
    const call_t *c = ctx->handler_state;
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
        if (h2o_memis(c->action.base, c->action.len, actions[i].name, strlen(actions[i].name))) {
            actions[i].fn(ctx, c);
            return;
        }
    }
}

/* ---------------------------------------------------------------- the way in */

int gw_iam_api_is_call(const gw_ctx_t *ctx)
{
    h2o_iovec_t auth = gw_header(ctx, "authorization");
    static const char scope[] = "/iam/aws4_request";
    if (auth.base == NULL || ctx->host_bucket.base != NULL)
        return 0;
    /* the credential scope ends in the service: the one sign an SDK gives of the API it calls */
    for (size_t i = 0; i + sizeof(scope) - 1 <= auth.len; i++)
        if (memcmp(auth.base + i, scope, sizeof(scope) - 1) == 0)
            return 1;
    return 0;
}

/* The row of action in actions[], or -1 for an action not served here. */
static int action_row(h2o_iovec_t action)
{
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
        if (h2o_memis(action.base, action.len, actions[i].name, strlen(actions[i].name)))
            return (int)i;
    return -1;
}

static int known_action(h2o_iovec_t action)
{
    return action_row(action) >= 0;
}

/* ---------------------------------------------------------------- identity policies */

/* arn:aws:iam::<account>:<kind><path><name>, path "/" when NULL or empty. */
static h2o_iovec_t iam_arn(gw_ctx_t *ctx, const char *kind, h2o_iovec_t path, h2o_iovec_t name)
{
    if (path.base == NULL || path.len == 0)
        path = h2o_iovec_init(H2O_STRLIT("/"));
    return h2o_concat(&ctx->req->pool, h2o_iovec_init(H2O_STRLIT("arn:aws:iam::" IAM_ACCOUNT ":")),
                      h2o_iovec_init(kind, strlen(kind)), path, name);
}

/* The ARN of the user (or group) called name as IAM shows it: an existing one's spelling and path
 * (path, when given, replacing its own), else the name as given at path (NULL: "/"). */
static h2o_iovec_t entity_arn(gw_ctx_t *ctx, int user, h2o_iovec_t name, h2o_iovec_t path)
{
    gw_iam_entity_t e;
    if (name.len > 0 && name.len <= GW_IAM_NAME_MAX && memchr(name.base, 0, name.len) == NULL) {
        char *cname = h2o_strdup(&ctx->req->pool, name.base, name.len).base;
        if ((user ? gw_iam_user_get(ctx->iam, cname, &e) : gw_iam_group_get(ctx->iam, cname, &e)) == 0)
            return iam_arn(ctx, user ? "user" : "group",
                           path.base != NULL ? path : h2o_strdup(&ctx->req->pool, e.path, strlen(e.path)),
                           h2o_strdup(&ctx->req->pool, e.name, strlen(e.name)));
    }
    return iam_arn(ctx, user ? "user" : "group", path, name);
}

/* The ARN an UpdateUser or UpdateGroup makes of the entity whose ARN is old: its new name (or the
 * old one) at its new path (or the old one). */
static h2o_iovec_t updated_arn(gw_ctx_t *ctx, int user, h2o_iovec_t old, h2o_iovec_t new_name, h2o_iovec_t new_path)
{
    size_t pre =
        user ? sizeof("arn:aws:iam::" IAM_ACCOUNT ":user") - 1 : sizeof("arn:aws:iam::" IAM_ACCOUNT ":group") - 1;
    const char *slash = old.base + old.len;
    while (slash > old.base + pre && slash[-1] != '/')
        slash--;
    h2o_iovec_t path = h2o_iovec_init(old.base + pre, (size_t)(slash - old.base) - pre),
                name = h2o_iovec_init(slash, (size_t)(old.base + old.len - slash));
    return iam_arn(ctx, user ? "user" : "group", new_path.base != NULL ? new_path : path,
                   new_name.base != NULL ? new_name : name);
}

/* The resources the call's identity policies must allow it on (AWS's resource of each action):
 * one, or two for a rename or move (UpdateUser: the user and the user it becomes). */
static size_t call_resources(gw_ctx_t *ctx, const call_t *c, int row, h2o_iovec_t out[2])
{
    h2o_iovec_t user = s3_iam_form_get(&c->form, "UserName"), none = {NULL, 0};
    switch (actions[row].resource) {
    case RES_USER_OR_CALLER:
        if (user.base == NULL)
            user = ctx->user;
        /* fall through */
    case RES_USER:
        if (actions[row].action == S3_POLICY_ACTION_IAM_CREATE_USER) {
            h2o_iovec_t path = s3_iam_form_get(&c->form, "Path");
            out[0] = iam_arn(ctx, "user", gw_iam_path_valid(path, 0) ? path : none, user);
            return 1;
        }
        out[0] = entity_arn(ctx, 1, user, none);
        if (actions[row].action == S3_POLICY_ACTION_IAM_UPDATE_USER) {
            h2o_iovec_t new_name = s3_iam_form_get(&c->form, "NewUserName"),
                        new_path = s3_iam_form_get(&c->form, "NewPath");
            if (new_name.base == NULL && new_path.base == NULL)
                return 1;
            out[1] = updated_arn(ctx, 1, out[0], new_name, gw_iam_path_valid(new_path, 0) ? new_path : none);
            return 2;
        }
        return 1;
    case RES_GROUP: {
        h2o_iovec_t group = s3_iam_form_get(&c->form, "GroupName");
        if (actions[row].action == S3_POLICY_ACTION_IAM_CREATE_GROUP) {
            h2o_iovec_t path = s3_iam_form_get(&c->form, "Path");
            out[0] = iam_arn(ctx, "group", gw_iam_path_valid(path, 0) ? path : none, group);
            return 1;
        }
        out[0] = entity_arn(ctx, 0, group, none);
        if (actions[row].action == S3_POLICY_ACTION_IAM_UPDATE_GROUP) {
            h2o_iovec_t new_name = s3_iam_form_get(&c->form, "NewGroupName"),
                        new_path = s3_iam_form_get(&c->form, "NewPath");
            if (new_name.base == NULL && new_path.base == NULL)
                return 1;
            out[1] = updated_arn(ctx, 0, out[0], new_name, gw_iam_path_valid(new_path, 0) ? new_path : none);
            return 2;
        }
        return 1;
    }
    case RES_POLICY:
        if (actions[row].action == S3_POLICY_ACTION_IAM_CREATE_POLICY) {
            h2o_iovec_t path = s3_iam_form_get(&c->form, "Path");
            out[0] = iam_arn(ctx, "policy", gw_iam_path_valid(path, 0) ? path : none,
                             s3_iam_form_get(&c->form, "PolicyName"));
        } else {
            h2o_iovec_t arn = s3_iam_form_get(&c->form, "PolicyArn");
            out[0] = arn.base != NULL ? arn : h2o_iovec_init(H2O_STRLIT("*"));
        }
        return 1;
    case RES_ANY:
        out[0] = h2o_iovec_init(H2O_STRLIT("*"));
        return 1;
    case RES_USER_LIST:
    case RES_GROUP_LIST: {
        h2o_iovec_t prefix = s3_iam_form_get(&c->form, "PathPrefix");
        out[0] = iam_arn(ctx, actions[row].resource == RES_USER_LIST ? "user" : "group",
                         gw_iam_path_valid(prefix, 1) ? prefix : none, h2o_iovec_init("", 0));
        return 1;
    }
    }
    return 0;
}

/* A user (no administrator) calls: its identity policies (its own and its groups') must allow the
 * action on every resource of the call, and none deny it. 0, or -1 with IAM's AccessDenied set,
 * worded as IAM's. */
static int authorize_user(gw_ctx_t *ctx, const call_t *c, int row)
{
    h2o_iovec_t res[2];
    size_t n = call_resources(ctx, c, row, res);
    for (size_t i = 0; i < n; i++) {
        s3_policy_reason_t why;
        if (gw_authz_identity_decide(ctx, actions[row].action, res[i], &why) == S3_POLICY_ALLOW)
            continue;
        s3_policy_principal_t who;
        gw_authz_principal(ctx, &who);
        if (why.source == S3_POLICY_BY_IDENTITY)
            iam_errorf(ctx, 403, "AccessDenied",
                       "User: %.*s is not authorized to perform: iam:%s on resource: %.*s with an explicit deny in an "
                       "identity-based policy",
                       (int)who.arn.len, who.arn.base, actions[row].name, (int)res[i].len, res[i].base);
        else
            iam_errorf(ctx, 403, "AccessDenied",
                       "User: %.*s is not authorized to perform: iam:%s on resource: %.*s because no identity-based "
                       "policy allows the iam:%s action",
                       (int)who.arn.len, who.arn.base, actions[row].name, (int)res[i].len, res[i].base,
                       actions[row].name);
        yc_log(YC_LOG_INFO, "request_id=%s event=iam_denied user=%.*s action=iam:%s resource=%.*s explicit=%d",
               ctx->request_id, (int)ctx->user.len, ctx->user.base, actions[row].name, (int)res[i].len, res[i].base,
               why.source == S3_POLICY_BY_IDENTITY);
        return -1;
    }
    return 0;
}

/* What the audit trail says the call did: its action and the names it acts on. */
static h2o_iovec_t iam_detail(gw_ctx_t *ctx, const call_t *c)
{
    static const char *const names[] = {"UserName", "GroupName",   "PolicyName", "AccessKeyId",
                                        "Status",   "NewUserName", "NewPath",    "PolicyArn"};
    size_t cap = 64 + sizeof(names) / sizeof(names[0]) * 160, n;
    char *out = h2o_mem_alloc_pool(&ctx->req->pool, cap);

    n = (size_t)snprintf(out, cap, "iam:%.*s", (int)c->action.len, c->action.base);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        h2o_iovec_t v = s3_iam_form_get(&c->form, names[i]);
        if (v.base != NULL && n < cap)
            n += (size_t)snprintf(out + n, cap - n, " %s=%.*s", names[i], (int)(v.len < 128 ? v.len : 128), v.base);
    }
    return h2o_iovec_init(out, n < cap ? n : cap - 1);
}

/* The body is in: check the signature over it, the caller, then run the action on a worker. */
static void after_body(gw_ctx_t *ctx)
{
    s3_auth_t *auth = &ctx->auth;
    h2o_iovec_t body = ctx->req->entity;
    s3_request_t sreq = gw_signed_request(ctx);
    gw_identity_t id;
    call_t *c = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*c));
    char *hex = h2o_mem_alloc_pool(&ctx->req->pool, 65);
    int ret;

    uint8_t sent_sha256[32];
    memcpy(sent_sha256, auth->payload_sha256, 32); /* what x-amz-content-sha256 said, when sent */
    SHA256((const unsigned char *)(body.base != NULL ? body.base : ""), body.len, auth->payload_sha256);
    if (auth->payload_hash.base == NULL) {
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", auth->payload_sha256[i]);
        auth->payload_hash = h2o_iovec_init(hex, 64);
    } else if (auth->payload_mode == S3_PAYLOAD_SHA256 ? CRYPTO_memcmp(sent_sha256, auth->payload_sha256, 32) != 0
                                                       : auth->payload_mode != S3_PAYLOAD_UNSIGNED) {
        /* x-amz-content-sha256 was sent: it must be the body's (or UNSIGNED-PAYLOAD) */
        iam_error(ctx, 400, "IncompleteSignature", "The x-amz-content-sha256 header does not match the body.");
        gw_respond(ctx);
        return;
    }
    if (gw_iam_lookup(ctx->iam, auth->access_key, &id) != 0 || id.disabled) {
        iam_error(ctx, 403, "InvalidClientTokenId", "The security token included in the request is invalid.");
        gw_respond(ctx);
        return;
    }
    ret = s3_sigv4_verify(&sreq, auth, h2o_iovec_init(id.secret_key, strlen(id.secret_key)), time(NULL), NULL);
    OPENSSL_cleanse(id.secret_key, sizeof(id.secret_key));
    if (ret == 0 || ret == S3_AUTH_SIGNATURE_MISMATCH)
        gw_roles_signature_checked(ctx, auth->access_key, ret == 0);
    if (ret != 0) {
        if (ret == S3_AUTH_SKEWED)
            iam_error(ctx, 403, "RequestExpired", "Request has expired.");
        else
            iam_error(ctx, 403, "SignatureDoesNotMatch",
                      "The request signature we calculated does not match the signature you provided.");
        gw_respond(ctx);
        return;
    }
    ctx->access_key = h2o_strdup(&ctx->req->pool, auth->access_key.base, auth->access_key.len);
    ctx->user = h2o_strdup(&ctx->req->pool, id.user, strlen(id.user));
    ctx->is_root = id.is_root;
    ctx->access->access_key = ctx->access_key;
    ctx->req->authenticated = 1;

    if ((ret = s3_iam_form_parse(&ctx->req->pool, body, &c->form)) != 0) {
        iam_error(ctx, 400, "MalformedQueryString", "The request body is not a well-formed form.");
        gw_respond(ctx);
        return;
    }
    c->action = s3_iam_form_get(&c->form, "Action");
    if (c->action.base == NULL || c->action.len == 0 || c->action.len > 64) {
        iam_error(ctx, 400, "MissingAction", "The request must contain the parameter Action.");
        gw_respond(ctx);
        return;
    }
    ctx->access->detail = iam_detail(ctx, c);
    const char *refusal;
    int row = action_row(c->action);
    /* anyone asking for an action not built here is told so (501 below) */
    if (row >= 0 && gw_roles_iam_check(ctx, c->action, s3_iam_form_get(&c->form, "UserName"),
                                       s3_iam_form_get(&c->form, "AccessKeyId"), &refusal) != 0) {
        /* the administrators' roles (gw_roles.h), or the reserved users out of reach; else a user
         * that is no administrator, whose identity policies decide */
        if (refusal != NULL || authorize_user(ctx, c, row) != 0) {
            if (refusal != NULL)
                iam_error(ctx, 403, "AccessDenied", refusal);
            gw_respond(ctx);
            return;
        }
    }
    if (!known_action(c->action)) {
        iam_errorf(ctx, 501, "NotImplemented", "The action %.*s is not implemented by this server.", (int)c->action.len,
                   c->action.base);
        gw_respond(ctx);
        return;
    }
    ctx->handler_state = c;
    gw_dispatch(ctx, call_work);
}

static void after_admission(gw_ctx_t *ctx)
{
    gw_body_read_whole(ctx, after_body);
}

void gw_iam_api(gw_ctx_t *ctx)
{
    s3_request_t sreq = gw_signed_request(ctx);
    s3_auth_t *auth = &ctx->auth;
    gw_identity_t id;
    yc_http_req_t *http = ctx->req->http;

    ctx->op = GW_OP_IAM;
    ctx->access->op = ctx->op;
    if (s3_auth_parse(&sreq, &ctx->req->pool, auth) != 0 || auth->kind != S3_AUTH_KIND_HEADER ||
        !s3_auth_is_iam(auth)) {
        iam_error(ctx, 400, "IncompleteSignature", "The request signature does not conform to AWS standards.");
        gw_respond(ctx);
        return;
    }
    if (!h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("POST")) ||
        !h2o_memis(sreq.path.base, sreq.path.len, H2O_STRLIT("/"))) {
        iam_error(ctx, 400, "InvalidAction", "IAM calls are POST / with a form body.");
        gw_respond(ctx);
        return;
    }
    /* the body is read before the signature can be checked: only for a key that exists, and small */
    if (gw_iam_lookup(ctx->iam, auth->access_key, &id) != 0 || id.disabled) {
        iam_error(ctx, 403, "InvalidClientTokenId", "The security token included in the request is invalid.");
        gw_respond(ctx);
        return;
    }
    OPENSSL_cleanse(id.secret_key, sizeof(id.secret_key));
    const char *locked = gw_roles_locked(ctx, auth->access_key);
    if (locked != NULL) {
        iam_error(ctx, 403, "AccessDenied", locked);
        gw_respond(ctx);
        return;
    }
    if (http->content_length == YC_HTTP_LENGTH_UNKNOWN || http->content_length > S3_IAM_FORM_MAX_BODY) {
        iam_error(ctx, 400, "ValidationError", "The request body must have a Content-Length of at most 128 KiB.");
        gw_respond(ctx);
        return;
    }
    gw_ctx_admit(ctx, after_admission);
}
