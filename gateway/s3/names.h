/* names.h — what S3 accepts as a bucket name, an object key and user metadata.
 *
 * Bucket names follow the rules of general purpose buckets: 3..63 bytes of a-z 0-9 '.' '-',
 * first and last a letter or digit, no "..", ".-" or "-.", not an IPv4 address in dotted form, none of the
 * reserved prefixes (xn--, sthree-, amzn-s3-demo-) or suffixes (-s3alias, --ol-s3, .mrap, --x-s3,
 * --table-s3). Keys are 1..1024 bytes of valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
 * User metadata is limited to 2 KiB, counted as S3 does: the bytes of every name (without its
 * "x-amz-meta-" prefix) plus the bytes of every value.
 */
#ifndef YC_S3_NAMES_H
#define YC_S3_NAMES_H
#include <stddef.h>
#include <h2o.h>
#include "gateway/s3/error.h"

#define S3_KEY_MAX_LEN     1024
#define S3_META_MAX_SIZE   2048
#define S3_META_PREFIX     "x-amz-meta-"
#define S3_META_PREFIX_LEN 11

/* Returns 0 or -S3_ERR_INVALID_BUCKET_NAME. */
int s3_bucket_name_validate(h2o_iovec_t name);

/* Returns 0, -S3_ERR_KEY_TOO_LONG_ERROR (over 1024 bytes) or -S3_ERR_INVALID_ARGUMENT (empty or
 * not valid UTF-8). */
int s3_key_validate(h2o_iovec_t key);

/* 1 when header_name starts with "x-amz-meta-" (case-insensitive), else 0. */
int s3_meta_is_user(h2o_iovec_t header_name);

/* Adds what one x-amz-meta-* header counts towards the limit to *total and returns 0, or
 * -S3_ERR_METADATA_TOO_LARGE once *total exceeds S3_META_MAX_SIZE. header_name is the full
 * header name, prefix included. */
int s3_meta_account(size_t *total, h2o_iovec_t header_name, h2o_iovec_t value);

#endif
