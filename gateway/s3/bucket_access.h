/* bucket_access.h — the two small documents of a bucket's access settings: OwnershipControls
 * (PutBucketOwnershipControls) and PublicAccessBlockConfiguration (PutPublicAccessBlock).
 *
 * OwnershipControls: exactly one Rule holding exactly one ObjectOwnership, one of
 * BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter (case-sensitive); anything else about
 * its shape or value is 400 MalformedXML, as S3 answers it.
 * PublicAccessBlockConfiguration: any of BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy,
 * RestrictPublicBuckets, each at most once, each an xs:boolean; one that is absent is false.
 * Another element, a repeated one or a value that is no boolean is 400 MalformedXML.
 */
#ifndef YC_S3_BUCKET_ACCESS_H
#define YC_S3_BUCKET_ACCESS_H
#include <h2o.h>
#include "gateway/s3/error.h"
#include "gateway/s3/xml.h"

#define S3_BUCKET_ACCESS_MAX_BODY (16 * 1024)
#define S3_BUCKET_ACCESS_MAX_NODE 64

typedef enum {
    S3_OWNERSHIP_BUCKET_OWNER_ENFORCED = 0,
    S3_OWNERSHIP_BUCKET_OWNER_PREFERRED,
    S3_OWNERSHIP_OBJECT_WRITER,
} s3_ownership_t;

typedef struct {
    int block_public_acls, ignore_public_acls, block_public_policy, restrict_public_buckets;
} s3_public_access_block_t;

/* Parses an OwnershipControls document. Returns 0 or -S3_ERR_MALFORMED_XML. */
int s3_ownership_parse(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_ownership_t *out);
/* The setting's name ("BucketOwnerEnforced", ...). */
const char *s3_ownership_name(s3_ownership_t o);
/* Looks a name up (exact); 0 or -S3_ERR_MALFORMED_XML. */
int s3_ownership_from_name(h2o_iovec_t name, s3_ownership_t *out);
/* Writes the OwnershipControls document of o (GetBucketOwnershipControls). */
void s3_ownership_write_xml(s3_xml_writer_t *w, s3_ownership_t o);

/* Parses a PublicAccessBlockConfiguration document. Returns 0 or -S3_ERR_MALFORMED_XML. */
int s3_public_access_block_parse(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_public_access_block_t *out);
/* Writes the PublicAccessBlockConfiguration document of p (GetPublicAccessBlock). */
void s3_public_access_block_write_xml(s3_xml_writer_t *w, const s3_public_access_block_t *p);

#endif
