/* post_policy.h — the policy and the signature of a browser form upload (POST Object).
 *
 * The form's `policy` field is base64 of a JSON document: an `expiration` (ISO 8601, UTC) and a
 * list of `conditions`, each {"field": "value"} (an exact match), ["eq", "$field", "value"],
 * ["starts-with", "$field", "prefix"] or ["content-length-range", min, max]. Field names and
 * the operators compare case-insensitively, values exactly. Every form field but the signature's
 * own (policy, x-amz-signature, signature, AWSAccessKeyId), the file and those named x-ignore-*
 * must be named by a condition, the bucket included; a condition on a field the form lacks fails.
 *
 * The signature is over the policy field as sent: SigV4 (x-amz-algorithm AWS4-HMAC-SHA256,
 * x-amz-credential, x-amz-date; x-amz-signature is the hex HMAC-SHA256 of the policy under the
 * credential's signing key) or SigV2 (AWSAccessKeyId; signature is the base64 HMAC-SHA1 of the
 * policy under the secret key). The gateway looks the key up; this module computes and compares.
 */
#ifndef YC_S3_POST_POLICY_H
#define YC_S3_POST_POLICY_H
#include <stddef.h>
#include <stdint.h>
#include <h2o.h>
#include "gateway/s3/form.h"

enum {
    S3_POST_OK = 0,
    S3_POST_INVALID_POLICY = -70,       /* InvalidPolicyDocument (400), message set */
    S3_POST_EXPIRED = -71,              /* AccessDenied "Invalid according to Policy: Policy expired." */
    S3_POST_CONDITION_FAILED = -72,     /* AccessDenied "Invalid according to Policy: Policy Condition failed: ..." */
    S3_POST_EXTRA_FIELDS = -73,         /* AccessDenied "Invalid according to Policy: Extra input fields: ..." */
    S3_POST_NOMEM = -74,                /* InternalError */
    S3_POST_MALFORMED_CREDENTIAL = -75, /* InvalidArgument: x-amz-credential is not key/date/region/s3/aws4_request */
};

#define S3_POST_MESSAGE_MAX 512 /* a message buffer that always suffices (long values are cut) */

typedef struct s3_post_policy s3_post_policy_t;

/* Decodes and parses the policy field (base64, blanks and line breaks ignored). 0, or
 * S3_POST_INVALID_POLICY with msg set (S3_POST_MESSAGE_MAX bytes), or S3_POST_NOMEM. */
int s3_post_policy_parse(h2o_iovec_t b64, s3_post_policy_t **out, char *msg);
void s3_post_policy_free(s3_post_policy_t *p);

/* Checks the policy at time now (Unix seconds) against the form's fields, the bucket of the
 * request and the key (${filename} already replaced). 0, or S3_POST_EXPIRED,
 * S3_POST_CONDITION_FAILED or S3_POST_EXTRA_FIELDS with the message AWS gives in msg. */
int s3_post_policy_check(const s3_post_policy_t *p, int64_t now, const s3_form_field_t *fields, size_t nfields,
                         h2o_iovec_t bucket, h2o_iovec_t key, char *msg);

/* The content-length-range of the policy: 0 and UINT64_MAX when it has none. */
void s3_post_policy_length_range(const s3_post_policy_t *p, uint64_t *min, uint64_t *max);

/* Splits x-amz-credential "<key>/<yyyymmdd>/<region>/s3/aws4_request" (slices of cred). 0 or
 * S3_POST_MALFORMED_CREDENTIAL. */
int s3_post_credential_parse(h2o_iovec_t cred, h2o_iovec_t *access_key, h2o_iovec_t *date, h2o_iovec_t *region);

/* 0 when sig (hex) is the SigV4 signature of policy under secret for the credential's date and
 * region; non-zero otherwise. Constant time in the signature. */
int s3_post_verify_sigv4(h2o_iovec_t policy, h2o_iovec_t secret, h2o_iovec_t date, h2o_iovec_t region, h2o_iovec_t sig);
/* Same for SigV2: sig is base64 of HMAC-SHA1(secret, policy). */
int s3_post_verify_sigv2(h2o_iovec_t policy, h2o_iovec_t secret, h2o_iovec_t sig);

/* Replaces every ${filename} in key by filename, into pool. */
h2o_iovec_t s3_post_key_substitute(h2o_mem_pool_t *pool, h2o_iovec_t key, h2o_iovec_t filename);

#endif
