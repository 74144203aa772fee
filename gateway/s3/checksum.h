/* checksum.h — the digests S3 asks for: CRC32, CRC32C, CRC64NVME, SHA-1, SHA-256 (x-amz-checksum-*,
 * in headers or aws-chunked trailers) and MD5 (Content-MD5, ETag), computed incrementally over a body
 * fed in any split, with the base64 and hex forms S3 puts on the wire.
 *
 * A multipart object's checksum is made from its parts' checksums in one of two ways (the
 * x-amz-checksum-type of the upload):
 *   FULL_OBJECT  the CRC of the whole object, computed from each part's CRC and size with the CRC
 *                combine rule (CRC32, CRC32C, CRC64NVME); no byte is read twice.
 *   COMPOSITE    the checksum, with the same algorithm, of the parts' binary checksums laid end to
 *                end, shown as base64 followed by "-N" (N parts) (CRC32, CRC32C, SHA1, SHA256).
 */
#ifndef YC_S3_CHECKSUM_H
#define YC_S3_CHECKSUM_H
#include <stddef.h>
#include <stdint.h>
#include <h2o.h>
#include "common/bytes.h"

enum {
    S3_CHECKSUM_OK = 0,
    S3_CHECKSUM_EINVAL = -1,   /* unknown algorithm, or a value that is not base64 of the right length
                                  (InvalidRequest "Value for x-amz-checksum-... header is invalid") */
    S3_CHECKSUM_MISMATCH = -2, /* BadDigest (Content-MD5: InvalidDigest is for EINVAL) */
    S3_CHECKSUM_NOMEM = -3,
};

typedef enum {
    S3_CHECKSUM_NONE = 0,
    S3_CHECKSUM_CRC32,
    S3_CHECKSUM_CRC32C,
    S3_CHECKSUM_CRC64NVME,
    S3_CHECKSUM_SHA1,
    S3_CHECKSUM_SHA256,
    S3_CHECKSUM_MD5,
} s3_checksum_alg_t;

typedef enum {
    S3_CHECKSUM_TYPE_NONE = 0,
    S3_CHECKSUM_TYPE_FULL_OBJECT,
    S3_CHECKSUM_TYPE_COMPOSITE,
} s3_checksum_type_t;

#define S3_CHECKSUM_MAX_SIZE   32    /* bytes of the largest digest (SHA-256) */
#define S3_CHECKSUM_MAX_BASE64 45    /* base64 of the largest digest + NUL */
#define S3_CHECKSUM_MAX_WIRE   51    /* a composite value: base64 + "-10000" + NUL */
#define S3_CHECKSUM_MAX_PARTS  10000 /* parts of a multipart object */

/* A running checksum; a value type, but with an owned digest context for SHA/MD5: pair
 * s3_checksum_init with s3_checksum_dispose. */
typedef struct {
    s3_checksum_alg_t alg;
    uint32_t crc32;
    uint64_t crc64;
    struct evp_md_ctx_st *md;
} s3_checksum_t;

/* Starts a checksum of alg. Returns 0, S3_CHECKSUM_EINVAL for NONE or unknown, S3_CHECKSUM_NOMEM. */
int s3_checksum_init(s3_checksum_t *c, s3_checksum_alg_t alg);

/* Adds len bytes. Returns 0, or S3_CHECKSUM_NOMEM when the digest library fails. */
int s3_checksum_update(s3_checksum_t *c, const void *data, size_t len);

/* Writes the digest (big-endian for CRCs, as S3 encodes them) into out and its size into out_len.
 * The checksum cannot be updated afterwards; dispose it. */
int s3_checksum_final(s3_checksum_t *c, uint8_t out[S3_CHECKSUM_MAX_SIZE], size_t *out_len);

/* Releases what init allocated; safe on a zeroed or already disposed checksum. */
void s3_checksum_dispose(s3_checksum_t *c);

/* One-shot digest of a buffer. */
int s3_checksum_compute(s3_checksum_alg_t alg, const void *data, size_t len, uint8_t out[S3_CHECKSUM_MAX_SIZE],
                        size_t *out_len);

/* Digest size in bytes of alg; 0 for NONE or unknown. */
size_t s3_checksum_size(s3_checksum_alg_t alg);

/* Maps a header name ("x-amz-checksum-crc32c", any case) to its algorithm; MD5 has no such header.
 * Returns 0 or S3_CHECKSUM_EINVAL. */
int s3_checksum_alg_from_header(h2o_iovec_t name, s3_checksum_alg_t *out);

/* Maps an algorithm name as in x-amz-sdk-checksum-algorithm / x-amz-checksum-algorithm ("CRC32",
 * "crc32c", "SHA256", ...) to its algorithm. Returns 0 or S3_CHECKSUM_EINVAL. */
int s3_checksum_alg_from_name(h2o_iovec_t name, s3_checksum_alg_t *out);

/* "x-amz-checksum-crc32" and so on; NULL for MD5, NONE or unknown. */
const char *s3_checksum_header_name(s3_checksum_alg_t alg);

/* "CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256", "MD5"; NULL for NONE or unknown. */
const char *s3_checksum_alg_name(s3_checksum_alg_t alg);

/* Decodes a value a client sent in strict base64 (common/bytes.h; writing is yc_base64_encode)
 * into out of out_size bytes. Returns 0 with *out_len set, or S3_CHECKSUM_EINVAL. */
int s3_checksum_from_base64(h2o_iovec_t in, uint8_t *out, size_t out_size, size_t *out_len);

/* Decodes exactly 2 * out_len hex digits (either case) a client sent (writing is yc_hex).
 * Returns 0 or S3_CHECKSUM_EINVAL. */
int s3_checksum_from_hex(h2o_iovec_t in, uint8_t *out, size_t out_len);

/* Compares a digest with the base64 value a client sent. Returns 0 when equal, S3_CHECKSUM_MISMATCH
 * when different, S3_CHECKSUM_EINVAL when b64 is not base64 of a digest of that size. */
int s3_checksum_compare_base64(const uint8_t *digest, size_t len, h2o_iovec_t b64);

/* "FULL_OBJECT" or "COMPOSITE"; NULL for NONE or unknown. */
const char *s3_checksum_type_name(s3_checksum_type_t type);

/* Maps an x-amz-checksum-type value (exactly "FULL_OBJECT" or "COMPOSITE") to its type. Returns 0
 * or S3_CHECKSUM_EINVAL. */
int s3_checksum_type_from_name(h2o_iovec_t name, s3_checksum_type_t *out);

/* Whether a multipart object can carry a checksum of alg made in that way: FULL_OBJECT for the
 * CRCs, COMPOSITE for all but CRC64NVME. */
int s3_checksum_type_allowed(s3_checksum_alg_t alg, s3_checksum_type_t type);

/* The type S3 takes when an upload names only the algorithm: FULL_OBJECT for CRC64NVME,
 * COMPOSITE otherwise; NONE for NONE or unknown. */
s3_checksum_type_t s3_checksum_type_default(s3_checksum_alg_t alg);

/* The CRC of A followed by B, from the CRC of A, the CRC of B and the length of B (digests
 * big-endian, as s3_checksum_final writes them; out may alias either input). For CRC32, CRC32C
 * and CRC64NVME; S3_CHECKSUM_EINVAL for other algorithms. */
int s3_checksum_combine(s3_checksum_alg_t alg, const uint8_t *crc_a, const uint8_t *crc_b, uint64_t len_b,
                        uint8_t *out);

/* The checksum of a multipart object, fed with its parts' checksums in part order. A value type
 * owning a digest context, like s3_checksum_t: pair init with dispose. */
typedef struct {
    s3_checksum_alg_t alg;
    s3_checksum_type_t type;
    uint32_t parts;
    uint8_t full[8];       /* FULL_OBJECT: the CRC of the parts so far (big-endian) */
    s3_checksum_t digests; /* COMPOSITE: the checksum of the part digests so far */
} s3_checksum_multipart_t;

/* Starts the checksum of a multipart object. Returns 0, S3_CHECKSUM_EINVAL when the algorithm
 * cannot make that type (s3_checksum_type_allowed), or S3_CHECKSUM_NOMEM. */
int s3_checksum_multipart_init(s3_checksum_multipart_t *m, s3_checksum_alg_t alg, s3_checksum_type_t type);

/* Adds the next part: its digest (len must be the algorithm's size) and its size in bytes.
 * S3_CHECKSUM_EINVAL for a digest of another size or a part past S3_CHECKSUM_MAX_PARTS. */
int s3_checksum_multipart_add(s3_checksum_multipart_t *m, const uint8_t *digest, size_t len, uint64_t part_size);

/* Writes the object's checksum as S3 shows it, NUL-terminated: base64 of the CRC for FULL_OBJECT,
 * base64 "-" N for COMPOSITE; *out_len is its length. The checksum cannot be added to afterwards. */
int s3_checksum_multipart_final(s3_checksum_multipart_t *m, char out[S3_CHECKSUM_MAX_WIRE], size_t *out_len);

/* Releases what init allocated; safe on a zeroed or already disposed value. */
void s3_checksum_multipart_dispose(s3_checksum_multipart_t *m);

#endif
