/* gw_authz.h — authorization of requests on a bucket: the one place where a request is allowed
 * or denied, by the policy evaluator (gateway/s3/policy.h), and the bucket access configuration
 * it reads (bucket policy, public-access block, CORS rules), cached per gateway.
 *
 * Every request on a bucket asks gw_authz_check once, with the S3 action of its operation
 * (s3:GetObject, s3:ListBucket, ...), the resource ARN (the bucket, or bucket/key) and the
 * condition keys the request has (aws:SourceIp, aws:SecureTransport, aws:CurrentTime,
 * aws:UserAgent, aws:Referer, aws:username, aws:userid, s3:prefix, s3:delimiter, s3:max-keys,
 * s3:VersionId, s3:x-amz-acl, s3:x-amz-copy-source, s3:x-amz-metadata-directive,
 * s3:x-amz-server-side-encryption, s3:x-amz-storage-class, s3:x-amz-content-sha256,
 * s3:signatureversion, s3:authType, s3:object-lock-*, and the tag keys of gw_tagging.h:
 * s3:ExistingObjectTag/<key>, s3:RequestObjectTag/<key>, s3:RequestObjectTagKeys). The evaluator
 * decides as S3 does: an explicit Deny wins, then the bucket owner, then an Allow of the bucket
 * policy or of an ACL grant (gw_acl_allows, asked only when no statement allowed or denied), else
 * the implicit deny; anonymous requests are allowed only where the policy or an ACL grants them.
 *
 * Identities: every user of a deployment belongs to one account, GW_AUTHZ_ACCOUNT. A user is
 * the principal arn:aws:iam::<account>:user/<path><name> (aws:username its name, aws:userid its
 * unique id "AIDA..." (gw_iam.h), {"CanonicalUser": id} its canonical id, gw_acl.h), the root user
 * the account itself (arn:aws:iam::<account>:root). The bucket owner is the user
 * who created it; the root user has the owner's rights on every bucket. A user needs an allow of
 * its identity policies for the actions on no bucket of its own: s3:ListAllMyBuckets and
 * s3:CreateBucket (gw_authz_service_check, gw_authz_create_bucket_check), as in S3. A user's identity
 * policies (its inline policies and its groups', gw_iam.h) are weighed with the bucket policy
 * and the ACL: any of them may allow, and an explicit Deny in any of them wins, for the bucket's
 * owner too. Object tags (s3:ExistingObjectTag/<key>) are looked up for a bucket policy that
 * names them, not for an identity policy.
 *
 * Public access block: a bucket that never had one behaves as S3's new buckets do, with all four
 * settings on (BlockPublicPolicy refuses a public policy, RestrictPublicBuckets keeps a public
 * policy from serving anyone outside the account). ACLs are not implemented (every bucket is
 * ACLs (gw_acl.h) count only where Object Ownership enables them; IgnorePublicAcls drops their
 * public grants from decisions and BlockPublicAcls refuses requests that set them.
 *
 * Cache: the parsed policy, public-access block and CORS rules of a bucket incarnation are kept
 * CACHE_TTL (2 s, the bucket record's) per gateway. A change through this gateway is seen at
 * once (gw_authz_forget); through another gateway after at most that long, a window the
 * documentation states. Entries are reference-counted: a request holds the one it read until its
 * pool goes, so a change never frees a policy that a request is evaluating.
 */
#ifndef YC_GW_AUTHZ_H
#define YC_GW_AUTHZ_H
#include "gateway/gw_request.h"
#include "gateway/s3/acl.h"
#include "gateway/s3/bucket_access.h"
#include "gateway/s3/cors.h"
#include "gateway/s3/policy.h"
#include "gateway/s3/sse_config.h"

#define GW_AUTHZ_ACCOUNT "000000000000" /* the account of every user of a deployment */

/* What authorization knows about one bucket incarnation (immutable once loaded; borrowed for the
 * request that got it). */
typedef struct {
    uint64_t incarnation;
    const s3_policy_t *policy;    /* NULL: no bucket policy */
    s3_public_access_block_t pab; /* in force (the default when none was set) */
    int pab_state;                /* gw_conf_state_t of the public-access block */
    const s3_cors_config_t *cors; /* NULL: no CORS configuration */
    s3_ownership_t ownership;     /* Object Ownership in force (BucketOwnerEnforced when never set) */
    const s3_acl_t *acl;          /* the bucket ACL; NULL: private to the owner */
    s3_sse_config_t sse;          /* default encryption (gw_sse.h); alg 0: none */
} gw_bucket_access_t;

/* The bucket a request is checked against. */
typedef struct {
    h2o_iovec_t name;
    uint64_t incarnation;
    h2o_iovec_t owner; /* the owning user's name */
} gw_authz_bucket_t;

/* Worker side: the access configuration of bucket b, cached; held by ctx's request until its pool
 * goes. 0, or a gateway error code (GW_EQUORUM, GW_EIO) with nothing set on ctx. */
int gw_authz_access(gw_ctx_t *ctx, h2o_iovec_t name, uint64_t incarnation, const gw_bucket_access_t **out);

/* Worker side: may ctx's caller perform action on bucket b (key.base NULL) or on its object key?
 * 0 when allowed; otherwise the S3 error (AccessDenied, or 503 when the configuration could not be
 * read) is set on ctx and non-zero returned. With cors set, the CORS headers of the bucket's
 * rules are added to the response first (gw_cors_headers), whatever the decision. */
int gw_authz_check(gw_ctx_t *ctx, const gw_authz_bucket_t *b, s3_policy_action_t action, h2o_iovec_t key, int cors);
/* For an action on no bucket (s3:ListAllMyBuckets), as S3 decides it for an IAM user: allowed
 * only when one of the user's identity policies allows it (resource "arn:aws:s3:::*") and none
 * denies it. Root is allowed, anonymous refused, and the system and security administrators hold
 * ListAllMyBuckets by their role. 0, or AccessDenied set on ctx and -1 returned. Non-blocking. */
int gw_authz_service_check(gw_ctx_t *ctx, s3_policy_action_t action);
/* CreateBucket of bucket: s3:CreateBucket on arn:aws:s3:::<bucket> must be allowed by the caller's
 * identity policies (no bucket policy exists yet to grant it), and with
 * x-amz-bucket-object-lock-enabled: true s3:PutBucketObjectLockConfiguration and
 * s3:PutBucketVersioning too, as S3 asks. Root is allowed. 0, or AccessDenied set and -1. */
int gw_authz_create_bucket_check(gw_ctx_t *ctx, h2o_iovec_t bucket);

/* For an action on no bucket and no owner's rights (the IAM API's, on an IAM ARN): the decision
 * of the caller's identity policies alone, with the request's condition keys: S3_POLICY_ALLOW when
 * one allows and none denies, else S3_POLICY_DENY, why (may be NULL) telling an explicit deny
 * (S3_POLICY_BY_IDENTITY) from the implicit one. Non-blocking (memory only). */
s3_policy_decision_t gw_authz_identity_decide(gw_ctx_t *ctx, s3_policy_action_t action, h2o_iovec_t resource,
                                              s3_policy_reason_t *why);

/* The S3 action of ctx's operation on its own bucket; -1 for an operation that names none (the
 * service-level calls, the admin API, a preflight). */
int gw_authz_action_of(const gw_ctx_t *ctx, s3_policy_action_t *out);

/* Adds to ctx's response the CORS headers (Access-Control-*, Vary) that a's rules give an
 * actual request carrying Origin; nothing without Origin, rules or a match. */
void gw_cors_headers(gw_ctx_t *ctx, const gw_bucket_access_t *a);

/* The evaluator's principal for ctx's caller; ARN memory from ctx's pool. */
void gw_authz_principal(gw_ctx_t *ctx, s3_policy_principal_t *out);

/* Checks a user principal named in a bucket policy (s3_policy_options_t.principal_exists): 0 when
 * it is a user of this deployment's account. arg: the gw_iam_t. */
int gw_authz_principal_exists(void *arg, h2o_iovec_t arn);

/* Forgets the cached configuration of bucket (after this gateway changed it). */
void gw_authz_forget(h2o_iovec_t name);

/* Reads the public-access block from its stored form; the default (all on) for NONE, all off
 * for REMOVED. */
void gw_pab_from_state(int state, h2o_iovec_t doc, s3_public_access_block_t *out);

#endif
