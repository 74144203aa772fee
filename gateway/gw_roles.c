/* gw_roles.c — the three administrator roles and the key lockout at the gate (gw_roles.h).
 *
 * What each role may do is written down in three tables: admin API paths, IAM actions, and the
 * S3 actions a role holds over every bucket. An admin path not in the table is the system
 * administrator's (the cluster's), so that a call added later is never open to the other two
 * before someone decides otherwise.
 */
#include "gateway/gw_roles.h"
#include "gateway/gw_admin_internal.h"
#include "gateway/gw_iam.h"
#include "gateway/gw_lockout.h"
#include "common/clock.h"
#include "common/log.h"
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SYS GW_ROLE_SYSTEM
#define SEC GW_ROLE_SECURITY
#define AUD GW_ROLE_AUDIT
#define ALL (SYS | SEC | AUD)

static const struct {
    gw_role_t role;
    const char *user;
} role_users[] = {
    {GW_ROLE_SYSTEM, GW_ROLES_SYSTEM_USER},
    {GW_ROLE_SECURITY, GW_ROLES_SECURITY_USER},
    {GW_ROLE_AUDIT, GW_ROLES_AUDIT_USER},
};
#define NROLES (sizeof(role_users) / sizeof(role_users[0]))

/* Admin API paths by prefix (the first that matches wins; method NULL: any). A whole prefix
 * matches a path segment ("/_admin/v1/users", not "/_admin/v1/usersx"); the others any path that
 * begins with them, so that "/_admin/v1/audit-log" or "/_admin/v1/kms-keys" are placed however
 * they come to be named. */
static const struct {
    const char *method, *prefix;
    int whole;
    unsigned roles;
} admin_table[] = {
    {"POST", "/_admin/v1/roles/init", 1, GW_ROLE_ROOT},
    {"GET", "/_admin/v1/roles", 1, ALL},
    {NULL, "/_admin/v1/lockouts", 0, SEC},
    {NULL, "/_admin/v1/audit", 0, AUD},
    {NULL, "/_admin/v1/access-log", 0, AUD},
    {NULL, "/_admin/v1/kms", 0, SEC},
    {NULL, "/_admin/v1/keys", 0, SEC},
    {NULL, "/_admin/v1/encryption", 0, SEC},
    {NULL, "/_admin/v1/sse", 0, SEC},
    {"GET", "/_admin/v1/users", 1, SYS | SEC},
};

/* IAM actions: the others (unknown ones) are nobody's. */
static const struct {
    const char *action;
    unsigned roles;
} iam_table[] = {
    {"CreateUser", SYS},           {"DeleteUser", SYS},
    {"CreateAccessKey", SYS},      {"DeleteAccessKey", SYS},
    {"CreateGroup", SYS},          {"DeleteGroup", SYS},
    {"AddUserToGroup", SYS},       {"RemoveUserFromGroup", SYS},
    {"GetUser", SYS | SEC},        {"ListUsers", SYS | SEC},
    {"ListAccessKeys", SYS | SEC}, {"GetGroup", SYS | SEC},
    {"ListGroups", SYS | SEC},     {"ListGroupsForUser", SYS | SEC},
    {"UpdateAccessKey", SEC},      {"PutUserPolicy", SEC},
    {"GetUserPolicy", SEC},        {"DeleteUserPolicy", SEC},
    {"ListUserPolicies", SEC},     {"PutGroupPolicy", SEC},
    {"GetGroupPolicy", SEC},       {"DeleteGroupPolicy", SEC},
    {"ListGroupPolicies", SEC},    {"UpdateUser", SYS},
    {"UpdateGroup", SYS},
};

/* Managed policies are policies: every call on them is the security administrator's. */
static const char *const iam_managed_policy_actions[] = {
    "CreatePolicy",
    "GetPolicy",
    "GetPolicyVersion",
    "ListPolicies",
    "ListPolicyVersions",
    "DeletePolicy",
    "AttachUserPolicy",
    "DetachUserPolicy",
    "ListAttachedUserPolicies",
    "AttachGroupPolicy",
    "DetachGroupPolicy",
    "ListAttachedGroupPolicies",
    NULL,
};

/* IAM actions a user may make on its own user once the roles are split, when its identity
 * policies allow them: looking after its own keys and reading what it is. */
static const char *const iam_self_service[] = {
    "CreateAccessKey",  "DeleteAccessKey",   "UpdateAccessKey", "ListAccessKeys",           "GetUser",
    "ListUserPolicies", "ListGroupsForUser", "GetUserPolicy",   "ListAttachedUserPolicies", NULL,
};

/* IAM actions that change the user named by UserName, or the key named by AccessKeyId. */
static const char *const iam_changes_target[] = {
    "CreateUser",
    "DeleteUser",
    "CreateAccessKey",
    "DeleteAccessKey",
    "UpdateAccessKey",
    "PutUserPolicy",
    "DeleteUserPolicy",
    "AddUserToGroup",
    "RemoveUserFromGroup",
    "UpdateUser",
    "AttachUserPolicy",
    "DetachUserPolicy",
    NULL,
};

const char *gw_roles_name(gw_role_t role)
{
    switch (role) {
    case GW_ROLE_SYSTEM:
        return "the system administrator";
    case GW_ROLE_SECURITY:
        return "the security administrator";
    case GW_ROLE_AUDIT:
        return "the audit administrator";
    case GW_ROLE_ROOT:
        return "the root user";
    default:
        return "";
    }
}

gw_role_t gw_roles_of_user(h2o_iovec_t user)
{
    for (size_t i = 0; i < NROLES; i++)
        if (h2o_memis(user.base, user.len, role_users[i].user, strlen(role_users[i].user)))
            return role_users[i].role;
    return 0;
}

gw_role_t gw_roles_caller(const gw_ctx_t *ctx)
{
    if (ctx->access_key.base == NULL)
        return 0;
    if (ctx->is_root)
        return GW_ROLE_ROOT;
    return gw_roles_of_user(ctx->user);
}

gw_roles_state_t gw_roles_state(gw_ctx_t *ctx)
{
    gw_iam_entity_t e;
    size_t n = 0;
    for (size_t i = 0; i < NROLES; i++)
        n += gw_iam_user_get(ctx->iam, role_users[i].user, &e) == 0;
    return n == 0 ? GW_ROLES_NOT_SPLIT : n == NROLES ? GW_ROLES_SPLIT : GW_ROLES_PARTIAL;
}

static int has_prefix(h2o_iovec_t path, const char *prefix, int whole)
{
    size_t n = strlen(prefix);
    return path.len >= n && memcmp(path.base, prefix, n) == 0 && (!whole || path.len == n || path.base[n] == '/');
}

unsigned gw_roles_admin_needs(h2o_iovec_t method, h2o_iovec_t path)
{
    for (size_t i = 0; i < sizeof(admin_table) / sizeof(admin_table[0]); i++) {
        if (admin_table[i].method != NULL &&
            !h2o_memis(method.base, method.len, admin_table[i].method, strlen(admin_table[i].method)))
            continue;
        if (has_prefix(path, admin_table[i].prefix, admin_table[i].whole))
            return admin_table[i].roles;
    }
    return SYS;
}

unsigned gw_roles_iam_needs(h2o_iovec_t action)
{
    for (size_t i = 0; i < sizeof(iam_table) / sizeof(iam_table[0]); i++)
        if (h2o_memis(action.base, action.len, iam_table[i].action, strlen(iam_table[i].action)))
            return iam_table[i].roles;
    for (const char *const *a = iam_managed_policy_actions; *a != NULL; a++)
        if (h2o_memis(action.base, action.len, *a, strlen(*a)))
            return SEC;
    return 0;
}

/* "the system administrator", "the system or the security administrator", "nobody". */
static void roles_text(unsigned roles, char *buf, size_t cap)
{
    static const char *const short_names[] = {"system", "security", "audit"};
    size_t len = 0, n = 0, count = 0;

    buf[0] = '\0';
    if (roles == GW_ROLE_ROOT) {
        snprintf(buf, cap, "the root user, before the split");
        return;
    }
    for (size_t i = 0; i < 3; i++)
        count += (roles >> i) & 1;
    if (count == 0) {
        snprintf(buf, cap, "no administrator");
        return;
    }
    for (size_t i = 0; i < 3 && len < cap; i++) {
        if (!((roles >> i) & 1))
            continue;
        n++;
        len += (size_t)snprintf(buf + len, cap - len, "%s%s",
                                n == 1       ? "the "
                                : n == count ? " or the "
                                             : ", the ",
                                short_names[i]);
    }
    if (len < cap)
        snprintf(buf + len, cap - len, " administrator");
}

/* The message of a refusal: what, whose work it is, and who asked. */
static const char *refusal_message(gw_ctx_t *ctx, unsigned caller, unsigned needed, const char *what)
{
    char roles[96];
    size_t cap = 512;
    char *msg = h2o_mem_alloc_pool(&ctx->req->pool, cap);

    roles_text(needed, roles, sizeof(roles));
    if (caller == GW_ROLE_ROOT && needed == 0)
        snprintf(msg, cap,
                 "Access Denied: the root keys were split into the three administrator roles and serve nothing "
                 "else (%s)",
                 what);
    else if (caller == GW_ROLE_ROOT)
        snprintf(msg, cap,
                 "Access Denied: %s is %s's work; the root keys were split into the three administrator roles "
                 "and serve nothing else",
                 what, roles);
    else if (caller != 0)
        snprintf(msg, cap, "Access Denied: %s is %s's work, and the caller (%.*s) is %s", what, roles,
                 (int)ctx->user.len, ctx->user.base, gw_roles_name(caller));
    else
        snprintf(msg, cap, "Access Denied: %s is %s's work", what, roles);
    return msg;
}

void gw_roles_note(gw_ctx_t *ctx, int level, const char *event, const char *fmt, ...)
{
    char fields[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fields, sizeof(fields), fmt, ap);
    va_end(ap);
    yc_log(level, "request_id=%s event=%s %s", ctx->request_id, event, fields);
    /* the same words go into the request's audit record (gw_audit.h), which the audit
     * administrator verifies and no other role can change */
    if (ctx->access != NULL) {
        size_t cap = strlen(event) + strlen(fields) + 8;
        char *d = h2o_mem_alloc_pool(&ctx->req->pool, cap);
        int n = snprintf(d, cap, "event=%s %s", event, fields);
        ctx->access->detail = h2o_iovec_init(d, n > 0 && (size_t)n < cap ? (size_t)n : 0);
    }
}

void gw_roles_note_refusal(gw_ctx_t *ctx, unsigned caller, unsigned needed, const char *what)
{
    char roles[96];
    roles_text(needed, roles, sizeof(roles));
    gw_roles_note(ctx, YC_LOG_WARN, "role_refused",
                  "access_key=%.*s user=%.*s caller_role=\"%s\" needs=\"%s\" operation=\"%s\"",
                  (int)ctx->access_key.len, ctx->access_key.base, (int)ctx->user.len, ctx->user.base,
                  caller == 0 ? "none" : gw_roles_name(caller), roles, what);
}

/* The operation's name for messages: the admin call's method and path, or the S3 operation. */
static const char *admin_what(gw_ctx_t *ctx)
{
    gw_req_t *req = ctx->req;
    size_t path_len = req->input.query_at == SIZE_MAX ? req->input.path.len : req->input.query_at;
    size_t cap = ctx->method.len + path_len + 2;
    char *w = h2o_mem_alloc_pool(&req->pool, cap);
    snprintf(w, cap, "%.*s %.*s", (int)ctx->method.len, ctx->method.base, (int)path_len, req->input.path.base);
    return w;
}

static int refuse(gw_ctx_t *ctx, unsigned caller, unsigned needed, const char *what)
{
    gw_roles_note_refusal(ctx, caller, needed, what);
    gw_fail(ctx, S3_ERR_ACCESS_DENIED, refusal_message(ctx, caller, needed, what));
    return -1;
}

int gw_roles_gate(gw_ctx_t *ctx)
{
    unsigned caller = gw_roles_caller(ctx);
    int admin = ctx->op == GW_OP_ADMIN;

    if (!admin) {
        /* S3: the root keys retire with the split; the role users are users like others */
        if (caller == GW_ROLE_ROOT && gw_roles_state(ctx) != GW_ROLES_NOT_SPLIT)
            return refuse(ctx, caller, 0, gw_op_name(ctx->op));
        return 0;
    }
    gw_req_t *req = ctx->req;
    size_t path_len = req->input.query_at == SIZE_MAX ? req->input.path.len : req->input.query_at;
    unsigned needed = gw_roles_admin_needs(ctx->method, h2o_iovec_init(req->input.path.base, path_len));
    if (caller == GW_ROLE_ROOT) {
        gw_roles_state_t st = gw_roles_state(ctx);
        if (st == GW_ROLES_NOT_SPLIT || (st == GW_ROLES_PARTIAL && needed == GW_ROLE_ROOT))
            return 0;
        return refuse(ctx, caller, needed == GW_ROLE_ROOT ? 0 : needed, admin_what(ctx));
    }
    if (caller == 0) {
        gw_fail(ctx, S3_ERR_ACCESS_DENIED, NULL); /* not an administrator: nothing to name */
        return -1;
    }
    if ((needed & caller) == 0)
        return refuse(ctx, caller, needed, admin_what(ctx));
    return 0;
}

int gw_roles_reserved_user(h2o_iovec_t user)
{
    /* IAM user names are case-insensitive (gw_iam.h): "YC-AUDIT-ADMIN" names the same user */
    for (size_t i = 0; i < NROLES; i++)
        if (h2o_lcstris(user.base, user.len, role_users[i].user, strlen(role_users[i].user)))
            return 1;
    return 0;
}

/* 1 when access_key is one of the three administrators' (not root's). */
static int administrator_key(gw_ctx_t *ctx, h2o_iovec_t access_key)
{
    gw_identity_t id;
    if (gw_iam_lookup(ctx->iam, access_key, &id) != 0)
        return 0;
    OPENSSL_cleanse(id.secret_key, sizeof(id.secret_key));
    return !id.is_root && gw_roles_reserved_user(h2o_iovec_init(id.user, strlen(id.user)));
}

int gw_roles_reserved_key(gw_ctx_t *ctx, h2o_iovec_t access_key)
{
    gw_identity_t id;
    if (access_key.base == NULL || gw_iam_lookup(ctx->iam, access_key, &id) != 0)
        return 0;
    OPENSSL_cleanse(id.secret_key, sizeof(id.secret_key));
    return id.is_root || gw_roles_reserved_user(h2o_iovec_init(id.user, strlen(id.user)));
}

int gw_roles_iam_check(gw_ctx_t *ctx, h2o_iovec_t action, h2o_iovec_t target_user, h2o_iovec_t target_key,
                       const char **message)
{
    unsigned caller = gw_roles_caller(ctx), needed = gw_roles_iam_needs(action);
    char *what = h2o_mem_alloc_pool(&ctx->req->pool, action.len + 5);
    snprintf(what, action.len + 5, "iam:%.*s", (int)action.len, action.base);

    *message = NULL;
    if (caller == GW_ROLE_ROOT) {
        if (gw_roles_state(ctx) != GW_ROLES_NOT_SPLIT)
            goto refused;
    } else if (caller != 0 && (needed & caller) == 0) {
        goto refused;
    }
    for (const char *const *a = iam_changes_target; *a != NULL; a++) {
        if (!h2o_memis(action.base, action.len, *a, strlen(*a)))
            continue;
        /* UpdateAccessKey and the key calls name the caller's own user when UserName is absent */
        h2o_iovec_t user = target_user.base != NULL ? target_user : ctx->user;
        if (gw_roles_reserved_user(user) || gw_roles_reserved_key(ctx, target_key)) {
            size_t cap = 256;
            char *msg = h2o_mem_alloc_pool(&ctx->req->pool, cap);
            snprintf(msg, cap,
                     "Access Denied: the administrators' users and keys are reserved: no one may change them with "
                     "%s (the split alone makes them)",
                     what);
            gw_roles_note_refusal(ctx, caller, 0, what);
            *message = msg;
            return -1;
        }
        break;
    }
    if (caller == 0 && gw_roles_state(ctx) != GW_ROLES_NOT_SPLIT) {
        /* once split, administering users, keys, groups and policies is the roles' work: a policy
         * may let a user look after its own keys, never do an administrator's work through it (the
         * system administrator holds the keys it makes and puts users in groups, so a policy that
         * reached further would let it write policies, the security administrator's work) */
        int self = target_user.base == NULL || (target_user.len == ctx->user.len &&
                                                strncasecmp(target_user.base, ctx->user.base, ctx->user.len) == 0);
        const char *const *a = iam_self_service;
        while (*a != NULL && !h2o_memis(action.base, action.len, *a, strlen(*a)))
            a++;
        if (*a == NULL || !self) {
            if (*a != NULL) {
                size_t cap = action.len + 32;
                what = h2o_mem_alloc_pool(&ctx->req->pool, cap);
                snprintf(what, cap, "iam:%.*s on another user", (int)action.len, action.base);
            }
            goto refused;
        }
    }
    /* not an administrator: its identity policies decide (gw_iam_api.c), the reserved users and
     * keys staying out of their reach whatever they allow */
    return caller == 0 ? -1 : 0;

refused:
    gw_roles_note_refusal(ctx, caller, needed, what);
    *message = refusal_message(ctx, caller, needed, what);
    return -1;
}

/* The roles that hold action over every bucket. */
static unsigned bucket_roles(s3_policy_action_t action)
{
    switch (action) {
    case S3_POLICY_ACTION_DELETE_BUCKET:
    case S3_POLICY_ACTION_LIST_BUCKET:
    case S3_POLICY_ACTION_GET_BUCKET_LOCATION:
        return SYS;
    case S3_POLICY_ACTION_PUT_BUCKET_POLICY:
    case S3_POLICY_ACTION_GET_BUCKET_POLICY:
    case S3_POLICY_ACTION_DELETE_BUCKET_POLICY:
    case S3_POLICY_ACTION_GET_BUCKET_POLICY_STATUS:
    case S3_POLICY_ACTION_PUT_BUCKET_PUBLIC_ACCESS_BLOCK:
    case S3_POLICY_ACTION_GET_BUCKET_PUBLIC_ACCESS_BLOCK:
    case S3_POLICY_ACTION_PUT_BUCKET_ACL:
    case S3_POLICY_ACTION_GET_BUCKET_ACL:
    case S3_POLICY_ACTION_PUT_ENCRYPTION_CONFIGURATION:
    case S3_POLICY_ACTION_GET_ENCRYPTION_CONFIGURATION:
        return SEC;
    default:
        return 0;
    }
}

int gw_roles_bucket_power(const gw_ctx_t *ctx, s3_policy_action_t action)
{
    return (gw_roles_caller(ctx) & bucket_roles(action) & ALL) != 0;
}

const char *gw_roles_bucket_refusal(gw_ctx_t *ctx, s3_policy_action_t action)
{
    unsigned caller = gw_roles_caller(ctx), needed = bucket_roles(action);
    if ((caller & ALL) == 0)
        return NULL;
    char *what = h2o_mem_alloc_pool(&ctx->req->pool, 64);
    snprintf(what, 64, "s3:%s on another's bucket", s3_policy_action_name(action));
    gw_roles_note_refusal(ctx, caller, needed, what);
    return refusal_message(ctx, caller, needed, what);
}

int gw_roles_sees_all_buckets(const gw_ctx_t *ctx)
{
    return (gw_roles_caller(ctx) & (SYS | SEC)) != 0;
}

/* ---------------------------------------------------------------- the admin calls */

static void count_key(void *arg, const gw_identity_t *id)
{
    (*(size_t *)arg)++;
}

/* GET /_admin/v1/roles: the split's state and who holds each role (no secrets). */
static void roles_work(gw_ctx_t *ctx)
{
    json_t *roles = json_array();
    gw_iam_entity_t e;
    gw_roles_state_t st = gw_roles_state(ctx);

    for (size_t i = 0; i < NROLES; i++) {
        size_t nkeys = 0;
        int exists = gw_iam_user_get(ctx->iam, role_users[i].user, &e) == 0;
        if (exists)
            gw_iam_keys(ctx->iam, role_users[i].user, count_key, &nkeys);
        json_array_append_new(roles,
                              json_pack("{s:s, s:s, s:b, s:I}", "role", gw_roles_name(role_users[i].role) + 4, "user",
                                        role_users[i].user, "exists", exists, "keys", (json_int_t)nkeys));
    }
    gw_admin_respond_json(ctx, json_pack("{s:s, s:o}", "state",
                                         st == GW_ROLES_SPLIT     ? "split"
                                         : st == GW_ROLES_PARTIAL ? "partial"
                                                                  : "not_split",
                                         "roles", roles));
}

/* POST /_admin/v1/roles/init: makes the role users that are missing and a key for each that has
 * none; the secrets are in this answer and nowhere else. */
static void init_work(gw_ctx_t *ctx)
{
    json_t *made = json_array();
    gw_iam_entity_t e;
    int ret = 0;

    if (gw_roles_state(ctx) == GW_ROLES_SPLIT) {
        json_decref(made);
        gw_set_error(ctx, S3_ERR_INVALID_REQUEST, "The administrator roles exist already");
        return;
    }
    for (size_t i = 0; i < NROLES && ret == 0; i++) {
        size_t nkeys = 0;
        gw_identity_t id;
        const char *user = role_users[i].user;
        if (gw_iam_user_get(ctx->iam, user, &e) != 0 && (ret = gw_iam_user_create(ctx->iam, user, &e)) != 0 &&
            ret != -EEXIST)
            break;
        ret = 0;
        gw_iam_keys(ctx->iam, user, count_key, &nkeys);
        if (nkeys > 0)
            continue; /* made by an earlier, interrupted split */
        if ((ret = gw_iam_key_create(ctx->iam, user, &id)) != 0)
            break;
        json_array_append_new(made, json_pack("{s:s, s:s, s:s, s:s}", "role", gw_roles_name(role_users[i].role) + 4,
                                              "user", user, "accessKey", id.access_key, "secretKey", id.secret_key));
        OPENSSL_cleanse(id.secret_key, sizeof(id.secret_key));
        gw_roles_note(ctx, YC_LOG_INFO, "role_created", "role=\"%s\" user=%s access_key=%s",
                      gw_roles_name(role_users[i].role), user, id.access_key);
    }
    if (ret != 0) {
        json_decref(made);
        gw_set_store_error(ctx, ret);
        return;
    }
    gw_roles_note(ctx, YC_LOG_WARN, "roles_split", "access_key=%.*s state=%s", (int)ctx->access_key.len,
                  ctx->access_key.base, gw_roles_state(ctx) == GW_ROLES_SPLIT ? "split" : "partial");
    gw_admin_respond_json(ctx, json_pack("{s:s, s:o}", "state",
                                         gw_roles_state(ctx) == GW_ROLES_SPLIT ? "split" : "partial", "roles", made));
}

static void add_lockout(void *arg, const gw_lockout_entry_t *e)
{
    json_array_append_new(arg, json_pack("{s:s, s:I, s:I}", "accessKey", e->access_key, "remainingSeconds",
                                         (json_int_t)((e->remaining_ns + 999999999) / 1000000000), "failures",
                                         (json_int_t)e->failures));
}

static void lockouts_list(gw_ctx_t *ctx)
{
    json_t *keys = json_array();
    if (ctx->env->lockout != NULL)
        gw_lockout_foreach(ctx->env->lockout, yc_mono_ns(), add_lockout, keys);
    gw_admin_respond_json(ctx, json_pack("{s:o}", "locked", keys));
}

static void lockout_unlock(gw_ctx_t *ctx, h2o_iovec_t ak)
{
    if (ctx->env->lockout == NULL || gw_lockout_unlock(ctx->env->lockout, ak, yc_mono_ns()) != 0) {
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "That access key is not locked");
        return;
    }
    gw_roles_note(ctx, YC_LOG_WARN, "key_unlocked", "access_key=%.*s reason=admin by=%.*s", (int)ak.len, ak.base,
                  (int)ctx->user.len, ctx->user.base);
    ctx->status = 204;
}

/* What an access key may hold (gw_admin.c's rule): nothing that would break a log line. */
static int valid_key(h2o_iovec_t ak)
{
    if (ak.len == 0 || ak.len > GW_LOCKOUT_KEY_MAX)
        return 0;
    for (size_t i = 0; i < ak.len; i++) {
        char c = ak.base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.' || c == '@' || c == '+' || c == '='))
            return 0;
    }
    return 1;
}

int gw_roles_admin(gw_ctx_t *ctx, h2o_iovec_t path)
{
    static const char lockouts[] = "/_admin/v1/lockouts";
    int get = h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("GET"));

    if (h2o_memis(path.base, path.len, H2O_STRLIT("/_admin/v1/roles")) && get) {
        roles_work(ctx); /* memory only */
        gw_respond(ctx);
        return 1;
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/_admin/v1/roles/init")) &&
        h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("POST"))) {
        gw_dispatch(ctx, init_work);
        return 1;
    }
    if (h2o_memis(path.base, path.len, lockouts, sizeof(lockouts) - 1) && get) {
        lockouts_list(ctx);
        gw_respond(ctx);
        return 1;
    }
    if (path.len > sizeof(lockouts) && memcmp(path.base, lockouts, sizeof(lockouts) - 1) == 0 &&
        path.base[sizeof(lockouts) - 1] == '/' && h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("DELETE"))) {
        h2o_iovec_t ak = h2o_iovec_init(path.base + sizeof(lockouts), path.len - sizeof(lockouts));
        if (!valid_key(ak)) {
            gw_fail(ctx, S3_ERR_INVALID_ARGUMENT, "Access keys are 1..128 characters of [A-Za-z0-9-_.@+=]");
            return 1;
        }
        lockout_unlock(ctx, ak);
        gw_respond(ctx);
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- the lockout at the gate */

const char *gw_roles_locked(gw_ctx_t *ctx, h2o_iovec_t access_key)
{
    gw_lockout_event_t ev;
    gw_lockout_t *l = ctx->env->lockout;

    if (l == NULL)
        return NULL;
    int64_t left = gw_lockout_check(l, access_key, yc_mono_ns(), &ev);
    if (ev == GW_LOCKOUT_EXPIRED)
        gw_roles_note(ctx, YC_LOG_WARN, "key_unlocked", "access_key=%.*s reason=expired", (int)access_key.len,
                      access_key.base);
    if (left <= 0)
        return NULL;
    long long seconds = (long long)((left + 999999999) / 1000000000);
    size_t cap = 200;
    char *msg = h2o_mem_alloc_pool(&ctx->req->pool, cap);
    snprintf(msg, cap,
             "The access key is locked after repeated requests with wrong signatures; it is refused for %lld more "
             "seconds",
             seconds);
    gw_roles_note(ctx, YC_LOG_INFO, "key_locked_refused", "access_key=%.*s remaining_s=%lld", (int)access_key.len,
                  access_key.base, seconds);
    return msg;
}

void gw_roles_signature_checked(gw_ctx_t *ctx, h2o_iovec_t access_key, int good)
{
    gw_lockout_t *l = ctx->env->lockout;
    const gw_config_t *cfg = ctx->env->cfg;

    if (l == NULL)
        return;
    if (good) {
        gw_lockout_succeed(l, access_key);
        return;
    }
    /* the administrators' keys are 40 random characters no one guesses, and a lock on them would
     * let one role shut another out by signing wrongly with its key id: not counted */
    if (administrator_key(ctx, access_key))
        return;
    if (gw_lockout_fail(l, access_key, yc_mono_ns()) == GW_LOCKOUT_LOCKED)
        gw_roles_note(ctx, YC_LOG_WARN, "key_locked", "access_key=%.*s failures=%u window_s=%llu lock_s=%llu",
                      (int)access_key.len, access_key.base, (unsigned)cfg->lockout_failures,
                      (unsigned long long)cfg->lockout_window, (unsigned long long)cfg->lockout_seconds);
}
