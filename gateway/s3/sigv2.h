/* sigv2.h — AWS Signature Version 2 (HMAC-SHA1), for the clients that still send it: presigned
 * URLs from s3cmd signurl and from boto3 without signature_version="s3v4", and old tools'
 * "Authorization: AWS access-key:signature" headers.
 *
 * String to sign: method, Content-MD5, Content-Type, Date (the Expires value for presigned
 * URLs; empty when x-amz-date is sent), the x-amz-* headers (lowercase, sorted, "name:value"
 * lines, repeated names joined by ','), then the resource: the path as sent (preceded by "/bucket"
 * when the bucket was named by the Host header, virtual-host style), plus the
 * sub-resources S3 signs (acl, uploadId, partNumber, response-*, ...) sorted by name, with
 * decoded values. The signature is base64(HMAC-SHA1(secret, string to sign)).
 */
#ifndef YC_S3_SIGV2_H
#define YC_S3_SIGV2_H
#include <stdint.h>
#include <h2o.h>
#include "gateway/s3/sigv4.h"

#define S3_SIGV2_MAX_SKEW 900 /* seconds between the Date header and the server's clock */

typedef enum { S3_SIGV2_NONE = 0, S3_SIGV2_HEADER, S3_SIGV2_PRESIGNED } s3_sigv2_kind_t;

typedef struct {
    s3_sigv2_kind_t kind;
    h2o_iovec_t access_key;
    uint8_t signature[20];
    int64_t expires; /* presigned: Unix seconds after which the URL is refused */
    /* virtual-host style: the bucket named by the Host header, set by the caller before verifying
     * (the resource signed is then "/bucket" followed by the path); {NULL, 0} for path style */
    h2o_iovec_t host_bucket;
    /* presigned: the longest validity left that is accepted (seconds from now), set by the caller
     * before verifying; 0: no limit. SigV2 URLs carry an absolute time, so a URL made to live for
     * years is refused by how far its Expires lies ahead, as SigV4 caps X-Amz-Expires. */
    int64_t max_lifetime;
} s3_sigv2_t;

/* Reads a SigV2 header or presigned query into out (kind NONE when the request carries neither).
 * Returns 0 or S3_AUTH_MALFORMED. Decoded values come from pool. */
int s3_sigv2_parse(const s3_request_t *req, h2o_mem_pool_t *pool, s3_sigv2_t *out);

/* Verifies a parsed request against secret at time now: presigned expiry (S3_AUTH_EXPIRED, and
 * S3_AUTH_EXPIRES_TOO_LATE past max_lifetime),
 * header Date skew (S3_AUTH_SKEWED), then the signature in constant time
 * (S3_AUTH_SIGNATURE_MISMATCH). */
int s3_sigv2_verify(const s3_request_t *req, const s3_sigv2_t *auth, h2o_iovec_t secret, int64_t now,
                    h2o_mem_pool_t *pool);

/* Builds the string to sign (exposed for tests and SignatureDoesNotMatch diagnostics). */
int s3_sigv2_string_to_sign(const s3_request_t *req, const s3_sigv2_t *auth, h2o_mem_pool_t *pool, h2o_iovec_t *out);

#endif
