/* sse_config.h — a bucket's default encryption: the ServerSideEncryptionConfiguration document
 * of PutBucketEncryption and GetBucketEncryption, and its stored form.
 *
 * The document holds exactly one Rule (S3 takes one) whose ApplyServerSideEncryptionByDefault
 * names SSEAlgorithm (AES256, aws:kms, aws:kms:dsse, or SM4, this server's national algorithm)
 * and, for aws:kms only, KMSMasterKeyID; the Rule may say BucketKeyEnabled (an xs:boolean). Any
 * other element, a missing or repeated one, or an unknown algorithm is 400 MalformedXML, as S3
 * answers; a KMSMasterKeyID beside another algorithm is 400 InvalidArgument.
 *
 * Stored form (one configuration record): "<algorithm>\n<0|1 bucket key>\n<KMS key id>".
 */
#ifndef YC_S3_SSE_CONFIG_H
#define YC_S3_SSE_CONFIG_H
#include <h2o.h>
#include "gateway/s3/error.h"
#include "gateway/s3/xml.h"

#define S3_SSE_CONFIG_MAX_BODY (16 * 1024)
#define S3_SSE_CONFIG_MAX_NODE 32
#define S3_SSE_KMS_KEY_ID_MAX  2048

typedef enum { S3_SSE_AES256 = 1, S3_SSE_KMS, S3_SSE_KMS_DSSE, S3_SSE_SM4 } s3_sse_alg_t;

typedef struct {
    s3_sse_alg_t alg;
    h2o_iovec_t kms_key_id; /* {NULL, 0}: none */
    int bucket_key;         /* BucketKeyEnabled */
} s3_sse_config_t;

/* The algorithm's name as S3 writes it ("AES256", "aws:kms", "aws:kms:dsse", "SM4"). */
const char *s3_sse_alg_name(s3_sse_alg_t alg);
/* Looks a name up (exact): 0 or -1. */
int s3_sse_alg_from_name(h2o_iovec_t name, s3_sse_alg_t *out);

/* Parses a ServerSideEncryptionConfiguration document; strings point into pool. 0, or
 * -S3_ERR_MALFORMED_XML / -S3_ERR_INVALID_ARGUMENT with why filled (may be NULL). */
int s3_sse_config_parse(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_sse_config_t *out, s3_error_detail_t *why);
/* Writes the document of c (GetBucketEncryption). */
void s3_sse_config_write_xml(s3_xml_writer_t *w, const s3_sse_config_t *c);

/* The stored form of c, from pool. */
h2o_iovec_t s3_sse_config_encode(h2o_mem_pool_t *pool, const s3_sse_config_t *c);
/* Reads a stored form (strings borrow it): 0, or -1 for bytes that are not one. */
int s3_sse_config_decode(h2o_iovec_t stored, s3_sse_config_t *out);

#endif
