/* gw_acl_internal.h — what the three parts of the ACL module share: gw_acl.c (ids, names,
 * decisions; below gw_authz.c), gw_acl_write.c (the ACL a request asks for; below gw_bucket.c)
 * and gw_acl_ops.c (the ACL calls). Three files because each sits at another layer of the
 * gateway's call order (tests/check-layers.sh). */
#ifndef YC_GW_ACL_INTERNAL_H
#define YC_GW_ACL_INTERNAL_H
#include "gateway/gw_acl.h"

/* The user name of canonical id (arg: the gw_ctx_t); {NULL, 0} when it is nobody's. Walks the
 * users: only the ACL calls ask. */
h2o_iovec_t gw_acl_name_of(void *arg, const uint8_t id[S3_ACL_ID_LEN]);
/* 1 when every user grantee of acl is a user here (S3 refuses an unknown id: InvalidArgument). */
int gw_acl_grantees_exist(gw_ctx_t *ctx, const s3_acl_t *acl);
/* The ACL of rec: its attribute, or private to the record's owner. 0 or -1 (does not decode). */
int gw_acl_of_record(const meta_object_t *rec, s3_acl_t *out);

/* 1 when ctx carries an x-amz-grant-* header. */
int gw_acl_has_grant_headers(gw_ctx_t *ctx);
/* 1 for the canned ACLs that only say the owner has everything (private,
 * bucket-owner-full-control): taken while ACLs are off. */
int gw_acl_is_owner_canned(h2o_iovec_t canned);
/* 0 when canned names a canned ACL; else the S3 error (InvalidArgument naming the header, 501
 * for aws-exec-read) is set on ctx and -1 returned. */
int gw_acl_check_canned(gw_ctx_t *ctx, h2o_iovec_t canned);
/* The ACL that ctx's headers ask for (owner: the resource's owner): 0 with *asked set (0: the
 * request names none, *out is then private), or the S3 error set and -1. */
int gw_acl_from_request(gw_ctx_t *ctx, const uint8_t *owner, const uint8_t *bucket_owner, int on_bucket, s3_acl_t *out,
                        int *asked);
/* BlockPublicAcls: 0, or AccessDenied set and -1 when acl is public and a blocks it. */
int gw_acl_check_block_public(gw_ctx_t *ctx, const gw_bucket_access_t *a, const s3_acl_t *acl);
/* gw_authz_access for ctx's bucket; the error set on ctx and -1 on failure. */
int gw_acl_bucket_access(gw_ctx_t *ctx, uint64_t incarnation, const gw_bucket_access_t **a);
/* acl's stored form, in ctx's pool. */
h2o_iovec_t gw_acl_encoded(gw_ctx_t *ctx, const s3_acl_t *acl);

#endif
