/* acl.h — access control lists as S3 has them: an owner and up to S3_ACL_MAX_GRANTS grants, each
 * giving one permission (READ, WRITE, READ_ACP, WRITE_ACP, FULL_CONTROL) to a canonical user or
 * to one of S3's groups (AllUsers, AuthenticatedUsers, LogDelivery).
 *
 * Three ways in, each a parser of client bytes (fuzzed: tests/fuzz/fuzz_acl.c):
 * - a canned ACL (x-amz-acl): private, public-read, public-read-write, authenticated-read,
 *   bucket-owner-read, bucket-owner-full-control, log-delivery-write; aws-exec-read names a
 *   grantee this server does not have (501); another value is 400 InvalidArgument;
 * - grant headers (x-amz-grant-read, -write, -read-acp, -write-acp, -full-control), each a comma
 *   separated list of id="<canonical id>" or uri="<group URI>"; emailAddress="..." is 400
 *   UnresolvableGrantByEmailAddress (there are no e-mail addresses here), anything else about
 *   their shape 400 InvalidArgument;
 * - the AccessControlPolicy document (PutBucketAcl, PutObjectAcl): Owner/ID, then
 *   AccessControlList/Grant with a Grantee (ID, URI or EmailAddress) and a Permission; any other
 *   shape is 400 MalformedACLError.
 *
 * Stored form (a bucket configuration record, the object's META_ATTR_ACL attribute): byte 1 (the
 * format), the owner's id (32 bytes), the grant count (one byte, at most S3_ACL_MAX_GRANTS), then
 * per grant its grantee type byte, its permission byte and, for a canonical user, the id (32
 * bytes). s3_acl_decode refuses anything else, including trailing bytes.
 */
#ifndef YC_S3_ACL_H
#define YC_S3_ACL_H
#include <stddef.h>
#include <stdint.h>
#include <h2o.h>
#include "gateway/s3/error.h"
#include "gateway/s3/xml.h"

#define S3_ACL_MAX_GRANTS    100
#define S3_ACL_ID_LEN        32 /* bytes of a canonical id; its text is 64 lowercase hex digits */
#define S3_ACL_ID_TEXT       64
#define S3_ACL_ENCODED_MAX   (2 + S3_ACL_ID_LEN + S3_ACL_MAX_GRANTS * (2 + S3_ACL_ID_LEN))
#define S3_ACL_MAX_BODY      (64 * 1024)
#define S3_ACL_URI_ALL_USERS "http://acs.amazonaws.com/groups/global/AllUsers"
#define S3_ACL_URI_AUTH      "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
#define S3_ACL_URI_LOG       "http://acs.amazonaws.com/groups/s3/LogDelivery"

typedef enum {
    S3_ACL_READ = 0,
    S3_ACL_WRITE,
    S3_ACL_READ_ACP,
    S3_ACL_WRITE_ACP,
    S3_ACL_FULL_CONTROL,
    S3_ACL__PERMS
} s3_acl_perm_t;

typedef enum {
    S3_ACL_USER = 0, /* a canonical user (id) */
    S3_ACL_ALL_USERS,
    S3_ACL_AUTHENTICATED_USERS,
    S3_ACL_LOG_DELIVERY,
    S3_ACL__GRANTEES
} s3_acl_grantee_t;

typedef struct {
    uint8_t grantee; /* s3_acl_grantee_t */
    uint8_t perm;    /* s3_acl_perm_t */
    uint8_t id[S3_ACL_ID_LEN];
} s3_acl_grant_t;

typedef struct {
    uint8_t owner[S3_ACL_ID_LEN];
    size_t ngrants;
    s3_acl_grant_t grants[S3_ACL_MAX_GRANTS];
} s3_acl_t;

/* The caller a decision is about: its canonical id (NULL: anonymous). */
typedef struct {
    const uint8_t *id;
} s3_acl_who_t;

/* Parses 64 hex digits (either case) into id; 0 or -1. */
int s3_acl_id_parse(h2o_iovec_t text, uint8_t id[S3_ACL_ID_LEN]);
/* Writes id as 64 lowercase hex digits and a NUL. */
void s3_acl_id_format(const uint8_t id[S3_ACL_ID_LEN], char out[S3_ACL_ID_TEXT + 1]);

/* The ACL of canned ACL name for a resource owned by owner; bucket_owner is the bucket's owner
 * (the bucket-owner-* ACLs grant it; on a bucket they are private). 0, -S3_ERR_INVALID_ARGUMENT
 * for an unknown name, -S3_ERR_NOT_IMPLEMENTED for aws-exec-read. */
int s3_acl_canned(h2o_iovec_t name, const uint8_t owner[S3_ACL_ID_LEN], const uint8_t bucket_owner[S3_ACL_ID_LEN],
                  int on_bucket, s3_acl_t *out);

/* The ACL of the five grant header values (indexed by s3_acl_perm_t; a NULL base is absent):
 * out->owner set to owner, the grants in header order. 0, -S3_ERR_INVALID_ARGUMENT,
 * -S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL_ADDRESS. */
int s3_acl_from_headers(const h2o_iovec_t values[S3_ACL__PERMS], const uint8_t owner[S3_ACL_ID_LEN], s3_acl_t *out);

/* Parses an AccessControlPolicy document (memory from pool). 0, -S3_ERR_MALFORMED_ACL_ERROR,
 * -S3_ERR_UNRESOLVABLE_GRANT_BY_EMAIL_ADDRESS. */
int s3_acl_parse_xml(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_acl_t *out);

/* Display name of a canonical id, for the document; {NULL, 0} leaves DisplayName out. */
typedef h2o_iovec_t (*s3_acl_name_fn)(void *arg, const uint8_t id[S3_ACL_ID_LEN]);
/* Writes the AccessControlPolicy document of acl (GetBucketAcl, GetObjectAcl). */
void s3_acl_write_xml(s3_xml_writer_t *w, const s3_acl_t *acl, s3_acl_name_fn name, void *arg);

/* The stored form (see above) into buf (S3_ACL_ENCODED_MAX bytes); returns its length. */
size_t s3_acl_encode(const s3_acl_t *acl, uint8_t *buf);
/* Reads the stored form; 0 or -1 for bytes that are not one. */
int s3_acl_decode(const uint8_t *data, size_t len, s3_acl_t *out);

/* 1 when acl grants anything to AllUsers or AuthenticatedUsers (S3's "public" ACL). */
int s3_acl_is_public(const s3_acl_t *acl);

/* 1 when acl grants nothing to anyone but its owner (what S3 lets a bucket keep when it switches to
 * BucketOwnerEnforced: the private and bucket-owner-full-control ACLs). */
int s3_acl_is_owner_only(const s3_acl_t *acl);

/* 1 when acl gives who permission perm (a FULL_CONTROL grant gives all): a grant to its id, to
 * AllUsers, or (who is signed in) to AuthenticatedUsers. With ignore_public the two groups'
 * grants count for nothing (IgnorePublicAcls). */
int s3_acl_permits(const s3_acl_t *acl, s3_acl_who_t who, s3_acl_perm_t perm, int ignore_public);

#endif
