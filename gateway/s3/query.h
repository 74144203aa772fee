/* query.h — the request's query string and path: percent-decoding, parameter lookup,
 * sub-resource tests, the S3 list parameters with their validation, and the URL encoding of keys
 * in encoding-type=url responses.
 *
 * Decoding follows S3's reading of a URI: %XX becomes the byte XX, '+' stays '+' (S3 signs and
 * routes on RFC 3986 rules, where '+' is not a space), and a '%' not followed by two hex digits is
 * an error (InvalidURI). Decoded strings may hold any byte, NUL included: they are pointer+length.
 */
#ifndef YC_S3_QUERY_H
#define YC_S3_QUERY_H
#include <stddef.h>
#include <stdint.h>
#include <h2o.h>
#include "gateway/s3/error.h"

#define S3_QUERY_MAX_PARAMS 100   /* more parameters than this → InvalidArgument */
#define S3_LIST_MAX_KEYS    1000  /* max-keys, max-uploads, max-parts are clamped to this */
#define S3_PART_NUMBER_MAX  10000 /* partNumber is 1..10000 */

typedef struct {
    h2o_iovec_t name;  /* decoded */
    h2o_iovec_t value; /* decoded; {"", 0} when absent */
    int has_value;     /* 1 when the parameter had '=' ("uploadId=" has an empty value, "uploads" none) */
} s3_query_param_t;

typedef struct {
    s3_query_param_t *params; /* in request order; allocated from the pool given to s3_query_parse */
    size_t count;
} s3_query_t;

/* Splits raw (the part after '?', without it; may be empty) at '&' and decodes names and values
 * into memory from pool. Empty pieces ("a&&b") are skipped. Returns 0, -S3_ERR_INVALID_URI on a
 * bad escape, -S3_ERR_INVALID_ARGUMENT when there are more than S3_QUERY_MAX_PARAMS. */
int s3_query_parse(h2o_mem_pool_t *pool, h2o_iovec_t raw, s3_query_t *out);

/* The first parameter called name (NUL-terminated, compared exactly), or NULL. */
const s3_query_param_t *s3_query_find(const s3_query_t *q, const char *name);

/* 1 when a parameter called name is present, with or without a value (sub-resources such as
 * "uploads", "delete", "versioning", "uploadId"), else 0. */
int s3_query_has(const s3_query_t *q, const char *name);

/* The value of name; {NULL, 0} when absent (so .base tells absent from empty). */
h2o_iovec_t s3_query_get(const s3_query_t *q, const char *name);

/* Percent-decodes src into memory from pool ('+' kept). Returns 0 or -S3_ERR_INVALID_URI. The
 * result is NUL-terminated for convenience; its len excludes the NUL. */
int s3_percent_decode(h2o_mem_pool_t *pool, h2o_iovec_t src, h2o_iovec_t *out);

/* Encodes a key (or prefix, delimiter, marker) for an encoding-type=url response the way S3 does:
 * A-Za-z0-9 - _ . ~ and '/' stay, every other byte (' ' too) becomes %XX (upper-case hex), which
 * decoders with and without '+'-as-space read alike. Result in memory from pool, NUL-terminated. */
h2o_iovec_t s3_url_encode_key(h2o_mem_pool_t *pool, h2o_iovec_t src);

/* Parses a count parameter (max-keys, max-uploads, max-parts): a decimal integer 0..2^31-1,
 * clamped to limit. value.base NULL (absent) gives def. Returns 0 or -S3_ERR_INVALID_ARGUMENT. */
int s3_parse_list_limit(h2o_iovec_t value, uint32_t def, uint32_t limit, uint32_t *out);

/* Parses part-number-marker: a decimal integer 0..2^31-1; absent gives 0. Returns 0 or
 * -S3_ERR_INVALID_ARGUMENT. */
int s3_parse_part_number_marker(h2o_iovec_t value, uint32_t *out);

/* Parses partNumber: a decimal integer 1..S3_PART_NUMBER_MAX. Returns 0 or
 * -S3_ERR_INVALID_ARGUMENT (absent included: the caller tests presence first). */
int s3_parse_part_number(h2o_iovec_t value, uint32_t *out);

/* Parses encoding-type: absent → *url 0; "url" → *url 1; anything else → -S3_ERR_INVALID_ARGUMENT. */
int s3_parse_encoding_type(h2o_iovec_t value, int *url);

#endif
