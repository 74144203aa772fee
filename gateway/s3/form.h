/* form.h — a streaming multipart/form-data parser for browser form uploads (POST Object).
 *
 * The body is "--boundary" CRLF, part headers, CRLF, content, then CRLF "--boundary" and either
 * CRLF and the next part or "--" and the end (RFC 2046 §5.1, RFC 7578). Bytes may be fed in any
 * split. The parts before the one named "file" are fields: their names and values are kept, within
 * limits (count and total bytes, headers included), because the policy and the signature come in
 * them. When the file part's headers are in, s3_form_feed() stops (S3_FORM_FILE) so that the caller
 * can authenticate and check the policy before a byte of the file is taken; fed again, it passes
 * the file's bytes to a callback as slices of the input (no copy, nothing buffered but the few
 * bytes of a delimiter split between two feeds), then reads the rest of the body and ignores the
 * parts after the file, as S3 does.
 *
 * A delimiter is CRLF "--" boundary: the boundary's characters (RFC 2046 bchars) never include CR,
 * so a partial match that fails can only restart at the byte that broke it, and the bytes it held
 * back are the delimiter's own first bytes.
 */
#ifndef YC_S3_FORM_H
#define YC_S3_FORM_H
#include <stddef.h>
#include <stdint.h>
#include <h2o.h>

enum {
    S3_FORM_OK = 0,
    S3_FORM_FILE = 1,               /* s3_form_feed: stopped after the file part's headers */
    S3_FORM_MALFORMED = -60,        /* MalformedPOSTRequest: not multipart/form-data as sent */
    S3_FORM_TOO_LARGE = -61,        /* MaxPostPreDataLengthExceededError: fields before the file over the limits */
    S3_FORM_INCOMPLETE = -62,       /* IncompleteBody / MalformedPOSTRequest: the body ended inside the form */
    S3_FORM_NOMEM = -63,            /* InternalError */
    S3_FORM_ABORTED = -64,          /* a callback returned non-zero */
    S3_FORM_BAD_CONTENT_TYPE = -65, /* the Content-Type is not multipart/form-data with a usable boundary */
};

#define S3_FORM_BOUNDARY_MAX 70                         /* RFC 2046 */
#define S3_FORM_HOLD_MAX     (S3_FORM_BOUNDARY_MAX + 4) /* file bytes a feed may emit beyond those it was given */
#define S3_FORM_HEADERS_MAX  8192                       /* one part's header block */

typedef struct {
    size_t max_fields;      /* fields before the file */
    size_t max_field_bytes; /* their names, values and header blocks together */
} s3_form_limits_t;

typedef struct {
    h2o_iovec_t name; /* as sent (compare case-insensitively) */
    h2o_iovec_t value;
} s3_form_field_t;

/* File bytes, borrowed until return; non-zero stops the parser with S3_FORM_ABORTED. data NULL and
 * len 0: the file part ended. */
typedef int (*s3_form_file_cb)(void *arg, const uint8_t *data, size_t len);

typedef struct s3_form s3_form_t;

/* The boundary of a Content-Type "multipart/form-data; boundary=..." (quoted or not), a slice of
 * content_type. 0 or S3_FORM_BAD_CONTENT_TYPE. */
int s3_form_boundary(h2o_iovec_t content_type, h2o_iovec_t *out);

/* A parser for a body with boundary (copied). 0, S3_FORM_BAD_CONTENT_TYPE or S3_FORM_NOMEM. */
int s3_form_new(h2o_iovec_t boundary, const s3_form_limits_t *limits, s3_form_file_cb on_file, void *arg,
                s3_form_t **out);
void s3_form_free(s3_form_t *f);

/* Feeds len bytes; *consumed gets how many were taken. S3_FORM_FILE when the file part's headers
 * were just read (the rest is not consumed), 0 when every byte was taken, or a negative code, which
 * is final. At most len + S3_FORM_HOLD_MAX file bytes go to the callback in one call. */
int s3_form_feed(s3_form_t *f, const uint8_t *data, size_t len, size_t *consumed);

/* The end of the body: 0 when the closing delimiter came (the file or not), else S3_FORM_INCOMPLETE
 * or the parser's error. */
int s3_form_finish(s3_form_t *f);

/* The fields before the file, in order (borrowed from f). */
const s3_form_field_t *s3_form_fields(const s3_form_t *f, size_t *count);
/* The value of the first field called name (ASCII case-insensitive); base NULL when absent. */
h2o_iovec_t s3_form_field(const s3_form_t *f, const char *name);
/* 1 once the file part's headers were read; its filename parameter and Content-Type (base NULL
 * when absent). */
int s3_form_has_file(const s3_form_t *f);
h2o_iovec_t s3_form_file_name(const s3_form_t *f);
h2o_iovec_t s3_form_file_type(const s3_form_t *f);
/* File bytes passed to the callback so far. */
uint64_t s3_form_file_size(const s3_form_t *f);

#endif
