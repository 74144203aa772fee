/* range.h — the Range header of GET/HEAD and the x-amz-copy-source-range header of UploadPartCopy.
 *
 * GET follows S3, which follows RFC 9110 for a single range: "bytes=first-last",
 * "bytes=first-" and "bytes=-suffix"; last is clipped to size-1, a suffix longer than the object
 * selects all of it. A header S3 does not honour — syntactically invalid, another unit, several
 * ranges, last < first — is ignored and the whole object is served (200). A range that selects
 * no byte (first >= size, suffix 0, any range of an empty object) is unsatisfiable: 416
 * InvalidRange, with a Content-Range of "bytes *" followed by "/size".
 *
 * Copy ranges are stricter: only "bytes=first-last", checked twice — the syntax before the
 * source is looked up, then against the source's size without clipping.
 */
#ifndef YC_S3_RANGE_H
#define YC_S3_RANGE_H
#include <stdint.h>
#include <h2o.h>
#include "gateway/s3/error.h"

/* Messages S3 gives with the two InvalidArgument answers of a copy range. */
#define S3_COPY_RANGE_SYNTAX_MESSAGE                                                                                   \
    "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based "  \
    "offsets of the first and last bytes to copy"

typedef struct {
    int partial;    /* 1: serve first..last with 206; 0: serve the whole object with 200 */
    uint64_t first; /* inclusive; when partial is 0, 0 */
    uint64_t last;  /* inclusive; when partial is 0, size-1 (or 0 for an empty object) */
} s3_range_t;

/* Resolves a Range header against an object of size bytes. header.base NULL means no header.
 * Returns 0 with *out filled, or -S3_ERR_INVALID_RANGE when unsatisfiable. */
int s3_range_parse(h2o_iovec_t header, uint64_t size, s3_range_t *out);

/* Checks the syntax of x-amz-copy-source-range: exactly "bytes=first-last" with first <= last.
 * Returns 0 with out->partial = 1, or -S3_ERR_INVALID_ARGUMENT (S3_COPY_RANGE_SYNTAX_MESSAGE). */
int s3_copy_range_parse(h2o_iovec_t header, s3_range_t *out);

/* Checks a parsed copy range against the source's size: last must be < size. Returns 0, or
 * -S3_ERR_INVALID_RANGE (416) for a range past the source's end. */
int s3_copy_range_check(const s3_range_t *r, uint64_t size);

/* Writes the Content-Range value into buf (64 bytes at least, NUL-terminated) and returns its length:
 * "bytes first-last/size" for a partial range, or "bytes *" followed by "/size" when unsatisfiable
 * is set (the 416 answer). */
size_t s3_range_content_range(const s3_range_t *r, uint64_t size, int unsatisfiable, char *buf);

#endif
