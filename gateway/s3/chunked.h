/* chunked.h — decoding of aws-chunked request bodies (Content-Encoding: aws-chunked).
 *
 * Three framings, chosen by x-amz-content-sha256 (see sigv4.h, s3_payload_mode_t):
 *   STREAMING-AWS4-HMAC-SHA256-PAYLOAD          "<hex>;chunk-signature=<64 hex>\r\n<data>\r\n" ...,
 *                                               "0;chunk-signature=<sig>\r\n\r\n"
 *   STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER  the same, the zero chunk followed by trailer lines and
 *                                               "x-amz-trailer-signature:<64 hex>\r\n\r\n"
 *   STREAMING-UNSIGNED-PAYLOAD-TRAILER          "<hex>\r\n<data>\r\n" ..., "0\r\n", trailer lines, "\r\n"
 * Every chunk signature chains on the previous one, starting from the request's seed signature, so
 * chunks cannot be dropped, reordered or replaced. A trailer line carries the x-amz-checksum-* named
 * by the x-amz-trailer header; the decoder computes that checksum over the decoded payload and
 * compares.
 *
 * The decoder is an incremental state machine: bytes may be fed in any split, decoded payload bytes
 * go to a callback as slices of the input (no copy). A chunk's bytes reach the callback before its
 * signature can be checked, so nothing decoded is authenticated until s3_chunked_finish() returns 0:
 * the caller must not commit an object before that.
 */
#ifndef YC_S3_CHUNKED_H
#define YC_S3_CHUNKED_H
#include <stddef.h>
#include <stdint.h>
#include <h2o.h>
#include "gateway/s3/checksum.h"
#include "gateway/s3/sigv4.h"

/* Error codes, distinct from the S3_AUTH_* ones; the comment names the S3 error to answer. */
enum {
    S3_CHUNKED_OK = 0,
    S3_CHUNKED_MALFORMED = -20,          /* InvalidRequest: bad framing, over-long line, unexpected trailer */
    S3_CHUNKED_INCOMPLETE = -21,         /* IncompleteBody: body ended early or shorter than decoded length */
    S3_CHUNKED_SIGNATURE_MISMATCH = -22, /* SignatureDoesNotMatch: a chunk or trailer signature is wrong */
    S3_CHUNKED_BAD_DIGEST = -23,         /* BadDigest: trailing checksum differs from the payload */
    S3_CHUNKED_NOMEM = -24,              /* InternalError */
    S3_CHUNKED_ABORTED = -25,            /* the data callback returned non-zero */
};

#define S3_CHUNKED_MAX_CHUNK (64u << 20) /* largest chunk size accepted, bytes */
#define S3_CHUNKED_MAX_LINE  512         /* longest chunk-size or trailer line, bytes with CRLF */

/* Receives decoded bytes (borrowed until return); non-zero stops decoding with S3_CHUNKED_ABORTED. */
typedef int (*s3_chunked_data_cb)(void *arg, const uint8_t *data, size_t len);

typedef struct {
    s3_payload_mode_t mode;     /* one of the three STREAMING_* modes */
    const s3_sigv4_ctx_t *sig;  /* from s3_sigv4_verify(); required for the signed modes, copied */
    int64_t decoded_length;     /* x-amz-decoded-content-length, or -1 when absent */
    h2o_iovec_t trailer;        /* x-amz-trailer header value, e.g. "x-amz-checksum-crc32"; empty if none */
    s3_chunked_data_cb on_data; /* may be NULL to only validate */
    void *cb_arg;
} s3_chunked_config_t;

typedef struct s3_chunked s3_chunked_t;

/* Creates a decoder. Returns 0, S3_CHUNKED_MALFORMED for an unusable configuration (not a streaming
 * mode, signed mode without ctx, x-amz-trailer not a supported checksum or given without a trailer
 * mode), or S3_CHUNKED_NOMEM. The caller frees it with s3_chunked_free(). */
int s3_chunked_new(const s3_chunked_config_t *cfg, s3_chunked_t **out);

/* Feeds the next len bytes of the body. Returns 0 when all were consumed, or a negative code; an
 * error is final and every later call returns it again. */
int s3_chunked_feed(s3_chunked_t *c, const uint8_t *data, size_t len);

/* Declares the end of the body. Returns 0 only when the final chunk, the trailers, every signature,
 * the decoded length and the trailing checksum were all present and right. */
int s3_chunked_finish(s3_chunked_t *c);

/* Decoded payload bytes so far. */
uint64_t s3_chunked_decoded_length(const s3_chunked_t *c);

/* The trailing checksum's algorithm (S3_CHECKSUM_NONE when no trailer was declared) and, after a
 * successful finish, its base64 value to store with the object (NUL-terminated, owned by c). */
s3_checksum_alg_t s3_chunked_trailer_alg(const s3_chunked_t *c);
const char *s3_chunked_trailer_value(const s3_chunked_t *c);

/* Frees the decoder and wipes the key material it held; NULL is fine. */
void s3_chunked_free(s3_chunked_t *c);

/* x-amz-decoded-content-length: 1..19 decimal digits, nothing else (no sign, no blanks), into
 * *out. 0, or -1 when v is not such a length. */
int s3_chunked_decoded_length_parse(h2o_iovec_t v, uint64_t *out);

#endif
