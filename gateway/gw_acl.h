/* gw_acl.h — canonical user ids and access control lists: Get/PutBucketAcl, Get/PutObjectAcl,
 * the ACL a new object or bucket gets from its request, and the ACL's part of authorization.
 *
 * Canonical ids: a user's is HMAC-SHA256 of "user/<name>" under a fixed key of this server's
 * (the root user is the user "root"), shown as 64 hex digits. Derived, not stored, so every
 * existing user has one without a migration, and every gateway computes the same; the display
 * name is the user's name. Owners are still kept by name in bucket and object records.
 *
 * Where ACLs live: a bucket's as its GW_CONF_ACL configuration record (absent: private to the
 * bucket owner), an object version's as its META_ATTR_ACL attribute (absent: private to the
 * record's owner), both in s3_acl's stored form.
 *
 * Object Ownership decides whether ACLs count: BucketOwnerEnforced (a new bucket's) disables them —
 * ACL-setting requests other than the private and bucket-owner-full-control canned ACLs are 400
 * AccessControlListNotSupported and grants are not consulted; ObjectWriter and
 * BucketOwnerPreferred enable them (under BucketOwnerPreferred an object written with
 * bucket-owner-full-control is owned by the bucket owner, else by its writer). A bucket whose
 * ownership controls were deleted behaves as ObjectWriter, as S3's do; so does a bucket created
 * without x-amz-object-ownership on a gateway with new_bucket_acls set (S3's buckets before April
 * 2023), which also gets an all-off public-access block. With ACLs on, the bucket owner reaches
 * the ACL of an object another user owns only through that object's grants.
 *
 * Authorization (gw_acl_allows) is asked only when the policy evaluator found no Allow and no
 * Deny, so requests of the bucket owner without a policy keep their fast path. Mapping as S3
 * documents it: bucket READ = ListBucket(Versions, MultipartUploads), bucket WRITE = put and
 * delete objects, READ_ACP / WRITE_ACP = Get/PutBucketAcl; object READ = GetObject(Version),
 * object READ_ACP / WRITE_ACP = Get/PutObjectAcl. Under IgnorePublicAcls, grants to AllUsers and
 * AuthenticatedUsers count for nothing; under BlockPublicAcls, a request setting such a grant is
 * 403 AccessDenied.
 */
#ifndef YC_GW_ACL_H
#define YC_GW_ACL_H
#include "gateway/gw_authz.h"
#include "gateway/s3/acl.h"
#include "meta/meta.h"

/* The canonical id of user `name`. */
void gw_acl_canonical_id(h2o_iovec_t name, uint8_t out[S3_ACL_ID_LEN]);
/* The same as 64 hex digits in ctx's pool. */
h2o_iovec_t gw_acl_canonical_text(gw_ctx_t *ctx, h2o_iovec_t name);

/* Writes <tag><ID>canonical id</ID><DisplayName>name</DisplayName></tag> for user `name` (an Owner,
 * an Initiator). */
void gw_acl_write_owner(s3_xml_writer_t *w, const char *tag, h2o_iovec_t name);

/* Get/PutBucketAcl and Get/PutObjectAcl (with versionId): the handlers. */
void gw_acl_op(gw_ctx_t *ctx);

/* Worker side, for PutObject, CopyObject and CreateMultipartUpload after authorization: reads the
 * request's x-amz-acl / x-amz-grant-* and the bucket's ownership setting, sets rec->owner (the
 * object's owner) and adds the ACL to rec->attrs (memory from ctx's pool). 0, or the S3 error is
 * set on ctx and -1 returned. */
int gw_acl_object_attrs(gw_ctx_t *ctx, meta_object_t *rec);

/* Worker side, for CreateBucket before the bucket is made: checks x-amz-acl / x-amz-grant-* and
 * x-amz-object-ownership; 0, or the S3 error set on ctx and -1 returned. */
int gw_acl_bucket_check(gw_ctx_t *ctx);
/* Worker side, after CreateBucket made incarnation: stores the ownership setting and ACL the
 * request asked for. 0, or the S3 error set on ctx and -1 returned. */
int gw_acl_bucket_created(gw_ctx_t *ctx, uint64_t incarnation);

/* Worker side, from gw_authz_check: 1 when an ACL grant of bucket b (or of its object key, the
 * version named by versionId) gives ctx's caller what action needs; 0 otherwise. */
int gw_acl_allows(gw_ctx_t *ctx, const gw_authz_bucket_t *b, const gw_bucket_access_t *a, s3_policy_action_t action,
                  h2o_iovec_t key);

#endif
