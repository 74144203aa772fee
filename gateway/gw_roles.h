/* gw_roles.h — three-role administration (三员分立) and the key lockout at the gate.
 *
 * Roles. A deployment starts with the root keys of its configuration, which may do everything.
 * The split (POST /_admin/v1/roles/init, `yc-admin roles init`) creates three IAM users with an
 * access key each, and from then on the root keys are refused everywhere:
 *
 *   yc-system-admin    the system administrator: users, access keys and groups (not their
 *                      policies), buckets (any bucket: list, delete), the cluster (status, info,
 *                      heal, metadata, stats, decommission, configuration)
 *   yc-security-admin  the security administrator: identity policies of users and groups,
 *                      enabling and disabling keys, key lockouts, encryption keys and settings,
 *                      bucket policies, ACLs, public-access blocks and default encryption on any
 *                      bucket
 *   yc-audit-admin     the audit administrator: reads and verifies the audit trail and the access
 *                      logs, and changes nothing
 *
 * No role does another's work, and none can erase another: the three users, their keys, their
 * policies and group memberships are reserved — no IAM or admin call creates, changes, disables
 * or deletes them (the split alone makes them), for any caller. A role is known by the user name
 * of the signing key; those names cannot be made any other way, so the IAM table (gw_iam.h) is
 * the only record and every gateway sees the split once its table is reloaded (a few seconds).
 * The split is done when all three users exist; a split interrupted half-way leaves the root keys
 * good only for running it again, which completes it. Before the split nothing changes: root may
 * do everything, other users nothing on the admin API.
 *
 * Every refusal is 403 AccessDenied (S3's XML on the admin API and S3 calls, IAM's on the IAM
 * endpoint) with a message naming the role that may do it and the caller's, and is noted
 * (gw_roles_note_refusal).
 *
 * Lockout. Requests signed with a locked key (gw_lockout.h) are answered 403 AccessDenied,
 * "locked for N more seconds", before their signature is checked. Not 503 SlowDown: a lock is a
 * decision about the credentials, not the server's load, and SDKs retry 503 on their own, which
 * would only spend the lock's time hammering the server and hide the cause from the operator;
 * 403 is what stops a client and tells a person. Locks and their ends are logged. The three
 * administrators' keys are not counted: their secrets are 40 random characters, beyond guessing,
 * and a lock on them would let anyone who knows a key id (another role included) shut an
 * administrator out. The root keys, whose secret an operator chose, are counted.
 */
#ifndef YC_GW_ROLES_H
#define YC_GW_ROLES_H
#include "gateway/gw_request.h"
#include "gateway/s3/policy.h"

#define GW_ROLES_SYSTEM_USER   "yc-system-admin"
#define GW_ROLES_SECURITY_USER "yc-security-admin"
#define GW_ROLES_AUDIT_USER    "yc-audit-admin"

/* Roles as bits, so that one operation may name several that may do it. */
typedef enum {
    GW_ROLE_SYSTEM = 1,
    GW_ROLE_SECURITY = 2,
    GW_ROLE_AUDIT = 4,
    GW_ROLE_ROOT = 8, /* the configuration's root keys: the split only, once roles exist */
} gw_role_t;

/* How far the split went. */
typedef enum { GW_ROLES_NOT_SPLIT = 0, GW_ROLES_PARTIAL, GW_ROLES_SPLIT } gw_roles_state_t;

/* "the system administrator", ...; "" for 0. */
const char *gw_roles_name(gw_role_t role);
/* The role of a reserved user name, 0 for any other. */
gw_role_t gw_roles_of_user(h2o_iovec_t user);
/* The role of the request's caller: root, a role user, or 0. */
gw_role_t gw_roles_caller(const gw_ctx_t *ctx);
/* From the IAM table in memory; safe on the event loop. */
gw_roles_state_t gw_roles_state(gw_ctx_t *ctx);

/* The roles that may make an admin API call (method and path without the query); GW_ROLE_ROOT
 * alone for the split. */
unsigned gw_roles_admin_needs(h2o_iovec_t method, h2o_iovec_t path);
/* The roles that may call an IAM action; 0 for none. */
unsigned gw_roles_iam_needs(h2o_iovec_t action);

/* After authentication, on the router: 0 when the caller may go on; else the request was
 * answered (403 AccessDenied naming the roles). Admin API calls by role; S3 calls refused to the
 * root keys once split. */
int gw_roles_gate(gw_ctx_t *ctx);
/* The same for an IAM action, and for its target: 0, or -1 with *message (from the request's pool)
 * for IAM's AccessDenied. target_user and target_key are the call's UserName and AccessKeyId
 * parameters ({NULL, 0} when absent). A caller that is no administrator gets -1 with *message NULL
 * (its identity policies decide) unless the call would change a reserved user or key, or the roles
 * are split and the call is more than looking after its own user (its keys, GetUser, reading its
 * policies and groups): administering others is then the roles' work, whatever a policy says. */
int gw_roles_iam_check(gw_ctx_t *ctx, h2o_iovec_t action, h2o_iovec_t target_user, h2o_iovec_t target_key,
                       const char **message);
/* 1 when a user of this name, or an access key of such a user (or the root key), is reserved:
 * no call may create, change or remove it. */
int gw_roles_reserved_user(h2o_iovec_t user);
int gw_roles_reserved_key(gw_ctx_t *ctx, h2o_iovec_t access_key);
/* 1 when the caller's role holds action over every bucket, as an owner would. */
int gw_roles_bucket_power(const gw_ctx_t *ctx, s3_policy_action_t action);
/* The message of an administrator refused action on a bucket (noted), naming the role that holds
 * it; NULL when the caller is no administrator. */
const char *gw_roles_bucket_refusal(gw_ctx_t *ctx, s3_policy_action_t action);
/* 1 when the caller's role sees every bucket in ListBuckets. */
int gw_roles_sees_all_buckets(const gw_ctx_t *ctx);

/* The one place where the roles' and the lockout's events are written (role_refused,
 * role_created, roles_split, key_locked, key_unlocked, key_locked_refused): a log line
 * "request_id=... event=<event> <fields>", fields formatted from fmt as key=value pairs. The
 * audit trail takes its records from here. */
void gw_roles_note(gw_ctx_t *ctx, int level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Notes a refusal of an administrator's operation (gw_roles_note, event role_refused): the
 * caller, its role, the role the operation needs (the access log has the request's answer). */
void gw_roles_note_refusal(gw_ctx_t *ctx, unsigned caller, unsigned needed, const char *what);

/* The admin API's role and lockout calls: GET /_admin/v1/roles, POST /_admin/v1/roles/init,
 * GET /_admin/v1/lockouts, DELETE /_admin/v1/lockouts/<access-key>. 1 when path is one of them
 * (then the request is being answered), else 0. */
int gw_roles_admin(gw_ctx_t *ctx, h2o_iovec_t path);

/* ---- the key lockout at the gate (no-ops when env->lockout is NULL) */

/* Before checking a signature of access_key: 0, or the message of a refusal (from the pool) when
 * the key is locked. */
const char *gw_roles_locked(gw_ctx_t *ctx, h2o_iovec_t access_key);
/* After checking it: a bad signature counts (and may lock the key), a good one clears the count. */
void gw_roles_signature_checked(gw_ctx_t *ctx, h2o_iovec_t access_key, int good);

#endif
