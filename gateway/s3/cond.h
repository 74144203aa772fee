/* cond.h — conditional requests: HTTP dates, ETag lists and the S3 precedence rules.
 *
 * GET and HEAD (RFC 9110 §13.2.2, as S3 applies it):
 *   1. If-Match present: false → 412 PreconditionFailed; true → If-Unmodified-Since is ignored.
 *   2. else If-Unmodified-Since (valid date): modified after it → 412.
 *   3. If-None-Match present: a match → 304 NotModified; no match → If-Modified-Since is ignored.
 *   4. else If-Modified-Since (valid date): not modified since → 304.
 * CopyObject and UploadPartCopy apply the same rules to the x-amz-copy-source-if-* headers of
 * the source, answering 412 where a GET would answer 304.
 * Dates compare at second granularity (Last-Modified carries whole seconds); a date that does
 * not parse is ignored, as S3 does. If-Match compares strongly (a W/ tag never matches);
 * If-None-Match compares weakly (W/"x" matches "x"). "*" matches any existing object. Tags may be
 * quoted or not, as S3 accepts both.
 */
#ifndef YC_S3_COND_H
#define YC_S3_COND_H
#include <stdint.h>
#include <h2o.h>
#include "gateway/s3/error.h"

#define S3_HTTP_DATE_LEN 29 /* "Sun, 06 Nov 1994 08:49:37 GMT" */

/* Parses an HTTP date in IMF-fixdate, RFC 850 or asctime form into nanoseconds since the epoch
 * (UTC). Returns 0 or -S3_ERR_INVALID_ARGUMENT. */
int s3_http_date_parse(h2o_iovec_t v, int64_t *out_ns);

/* Formats ns (truncated to seconds) as an IMF-fixdate into buf, which must hold
 * S3_HTTP_DATE_LEN + 1 bytes (NUL-terminated); returns S3_HTTP_DATE_LEN. */
size_t s3_http_date_format(int64_t ns, char *buf);

/* 1 when the If-Match / If-None-Match value list matches etag (the object's ETag, quoted or
 * not), else 0. weak selects weak comparison (If-None-Match). An unparsable list matches nothing. */
int s3_etag_list_match(h2o_iovec_t list, h2o_iovec_t etag, int weak);

/* Conditional headers of one request; base NULL means the header is absent. */
typedef struct {
    h2o_iovec_t if_match;
    h2o_iovec_t if_none_match;
    h2o_iovec_t if_modified_since;
    h2o_iovec_t if_unmodified_since;
} s3_cond_t;

/* Evaluates GET/HEAD conditions against an existing object. Returns 0 (serve it),
 * -S3_ERR_PRECONDITION_FAILED (412) or -S3_ERR_NOT_MODIFIED (304). */
int s3_cond_check_read(const s3_cond_t *c, h2o_iovec_t etag, int64_t mtime_ns);

/* Evaluates the x-amz-copy-source-if-* headers against the copy source. Returns 0 or
 * -S3_ERR_PRECONDITION_FAILED. */
int s3_cond_check_copy_source(const s3_cond_t *c, h2o_iovec_t etag, int64_t mtime_ns);

/* Evaluates If-Match / If-None-Match of a write (PutObject, CompleteMultipartUpload, CopyObject
 * destination). exists tells whether the key has a current object, etag is its ETag. If-None-Match
 * must be "*" (else -S3_ERR_NOT_IMPLEMENTED) and fails with 412 when the object exists; If-Match
 * fails with -S3_ERR_NO_SUCH_KEY when there is no object and 412 when the ETag differs. Returns 0
 * when the write may proceed. */
int s3_cond_check_write(h2o_iovec_t if_match, h2o_iovec_t if_none_match, int exists, h2o_iovec_t etag);

#endif
