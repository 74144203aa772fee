/* sigv4.h — AWS Signature Version 4 for S3, server side (verify) and client side (sign).
 *
 * A request is authenticated in two steps. s3_auth_parse() reads the Authorization header or the
 * presigned query (X-Amz-*) into an s3_auth_t without any secret; the gateway then looks up the
 * secret of auth.access_key and calls s3_sigv4_verify(), which checks the clock, rebuilds the
 * canonical request, derives the signing key and compares signatures in constant time. For
 * aws-chunked bodies the verifier hands back an s3_sigv4_ctx_t that seeds the chunk signature chain
 * (see chunked.h).
 *
 * Canonicalisation follows S3, not the generic AWS rules: the path is decoded then re-encoded once
 * (no normalisation, no double encoding), the query is decoded, re-encoded and sorted by encoded
 * name then value, signed header values are trimmed with inner runs of spaces collapsed and
 * repeated headers joined with ','. The signer uses the same code, so what we sign we accept.
 */
#ifndef YC_S3_SIGV4_H
#define YC_S3_SIGV4_H
#include <stddef.h>
#include <stdint.h>
#include <h2o.h>

/* Error codes; the comment names the S3 error the gateway answers with. */
enum {
    S3_AUTH_OK = 0,
    S3_AUTH_MALFORMED = -1,          /* AuthorizationHeaderMalformed / AuthorizationQueryParametersError (400) */
    S3_AUTH_SIGNATURE_MISMATCH = -2, /* SignatureDoesNotMatch (403) */
    S3_AUTH_SKEWED = -3,             /* RequestTimeTooSkewed (403) */
    S3_AUTH_EXPIRED = -4,            /* AccessDenied "Request has expired" (403) */
    S3_AUTH_NOT_YET_VALID = -5,      /* AccessDenied "Request is not valid yet" (403) */
    S3_AUTH_UNSUPPORTED = -6,        /* InvalidRequest "Please use AWS4-HMAC-SHA256" (SigV2, other schemes, session
                                        tokens) (400) */
    S3_AUTH_MISSING_DATE = -7,       /* AccessDenied "AWS authentication requires a valid Date or x-amz-date header" */
    S3_AUTH_MISSING_CONTENT_SHA256 = -8, /* InvalidRequest "Missing required header: x-amz-content-sha256" (400) */
    S3_AUTH_BAD_CONTENT_SHA256 = -9,     /* InvalidArgument "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, ..." */
    S3_AUTH_MULTIPLE = -10,              /* InvalidArgument "Only one auth mechanism allowed" (400) */
    S3_AUTH_NOMEM = -11,                 /* InternalError */
    S3_AUTH_EXPIRES_TOO_LATE = -12,      /* AuthorizationQueryParametersError: a presigned URL valid for longer
                                            than allowed (X-Amz-Expires past a week; 403) */
    S3_AUTH_EXPIRES_NEGATIVE = -13,      /* AuthorizationQueryParametersError "X-Amz-Expires must be
                                            non-negative" (403) */
};

/* Limits on what a client may send; longer values are S3_AUTH_MALFORMED. */
#define S3_SIGV4_MAX_ACCESS_KEY     128
#define S3_SIGV4_MAX_REGION         64
#define S3_SIGV4_MAX_SIGNED_HEADERS 4096   /* bytes of the "a;b;c" list */
#define S3_SIGV4_MAX_SKEW           900    /* seconds, header auth */
#define S3_SIGV4_MAX_EXPIRES        604800 /* seconds, presigned (7 days) */

/* The request as the gateway sees it. All fields are borrowed. Header names are lowercase (as h2o
 * delivers them); the list must contain a "host" entry — HTTP/2 carries :authority instead, which
 * the gateway adds as "host" (h2o's req->authority). */
typedef struct {
    h2o_iovec_t method;
    h2o_iovec_t path;  /* raw, percent-encoded, without the query */
    h2o_iovec_t query; /* raw, without the '?'; empty when none */
    const h2o_header_t *headers;
    size_t num_headers;
} s3_request_t;

typedef enum {
    S3_AUTH_KIND_NONE = 0,  /* anonymous: no Authorization header, no X-Amz-* signature parameters */
    S3_AUTH_KIND_HEADER,    /* Authorization: AWS4-HMAC-SHA256 ... */
    S3_AUTH_KIND_PRESIGNED, /* ?X-Amz-Algorithm=AWS4-HMAC-SHA256&... */
} s3_auth_kind_t;

/* How the body is covered, from x-amz-content-sha256. */
typedef enum {
    S3_PAYLOAD_NONE = 0,                  /* anonymous request, nothing to check */
    S3_PAYLOAD_SHA256,                    /* hex SHA-256 of the body: the gateway compares payload_sha256 */
    S3_PAYLOAD_UNSIGNED,                  /* UNSIGNED-PAYLOAD (always for presigned) */
    S3_PAYLOAD_STREAMING_SIGNED,          /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD */
    S3_PAYLOAD_STREAMING_SIGNED_TRAILER,  /* STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER */
    S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER /* STREAMING-UNSIGNED-PAYLOAD-TRAILER */
} s3_payload_mode_t;

/* What s3_auth_parse() found. Iovecs point into the request or into the pool given to the parser. */
typedef struct {
    s3_auth_kind_t kind;
    h2o_iovec_t access_key;
    char date[9];               /* credential scope date, yyyymmdd */
    h2o_iovec_t region;         /* credential scope region, as sent */
    h2o_iovec_t service;        /* "s3", or "iam" for the IAM Query API (s3_auth_is_iam) */
    h2o_iovec_t signed_headers; /* "host;x-amz-date;...", lowercase names separated by ';' */
    uint8_t signature[32];      /* decoded from the 64 hex digits */
    char timestamp[17];         /* request time, ISO 8601 basic: yyyymmddThhmmssZ */
    int64_t request_time;       /* the same, in Unix seconds */
    int64_t expires;            /* presigned: X-Amz-Expires in seconds; 0 for header auth */
    s3_payload_mode_t payload_mode;
    h2o_iovec_t payload_hash;   /* the string that goes last in the canonical request */
    uint8_t payload_sha256[32]; /* valid when payload_mode == S3_PAYLOAD_SHA256 */
} s3_auth_t;

/* What a verified request leaves behind for aws-chunked verification (chunked.h) and for the
 * client-side chunk signer. Holds key material: keep it on the request, wipe it after. */
typedef struct {
    uint8_t signing_key[32];
    char seed_signature[65]; /* lowercase hex of the request signature, NUL-terminated */
    char timestamp[17];      /* yyyymmddThhmmssZ */
    char scope[96];          /* yyyymmdd/region/s3/aws4_request, NUL-terminated */
    size_t scope_len;
} s3_sigv4_ctx_t;

/* Reads the request's authentication into out without checking it. Returns 0 with out->kind ==
 * S3_AUTH_KIND_NONE for an anonymous request, 0 with HEADER or PRESIGNED when the fields are well
 * formed, or a negative S3_AUTH_* code. Percent-decoded presigned fields are allocated from pool. */
int s3_auth_parse(const s3_request_t *req, h2o_mem_pool_t *pool, s3_auth_t *out);

/* Verifies a parsed HEADER or PRESIGNED request against secret_key at time now (Unix seconds):
 * the clock (skew window, or presigned validity), the presence of "host" among signed headers, and
 * the signature. On success fills out_ctx (may be NULL) for aws-chunked decoding. The body's
 * SHA-256 (S3_PAYLOAD_SHA256) cannot be checked here: the gateway compares it when the body is in. */
int s3_sigv4_verify(const s3_request_t *req, const s3_auth_t *auth, h2o_iovec_t secret_key, int64_t now,
                    s3_sigv4_ctx_t *out_ctx);

/* Checks only the clock for auth (header: |now - time| <= 15 min; presigned: not before time - 15
 * min, not after time + expires). s3_sigv4_verify() calls it; exposed for tests and the gateway. */
int s3_sigv4_check_time(const s3_auth_t *auth, int64_t now);

/* Builds the canonical request for req into a string allocated from pool (for SignatureDoesNotMatch
 * error bodies and tests). presigned drops X-Amz-Signature from the query. */
int s3_sigv4_canonical_request(const s3_request_t *req, h2o_iovec_t signed_headers, h2o_iovec_t payload_hash,
                               int presigned, h2o_mem_pool_t *pool, h2o_iovec_t *out);

/* Derives the signing key HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service),
 * "aws4_request"). date is yyyymmdd. Returns 0 or S3_AUTH_NOMEM / S3_AUTH_MALFORMED. */
int s3_sigv4_signing_key(h2o_iovec_t secret_key, h2o_iovec_t date, h2o_iovec_t region, h2o_iovec_t service,
                         uint8_t out[32]);

/* Client side: signs req (whose headers must all be lowercase and include host, x-amz-date equal
 * to the formatted time, and x-amz-content-sha256 equal to payload_hash when sent) with every header
 * of req as a signed header, and writes the Authorization header value, NUL-terminated, into out
 * (out_size bytes; 1024 + the signed header names is always enough). out_ctx (may be NULL) receives
 * the chunk-signing context for aws-chunked uploads. */
int s3_sigv4_sign(const s3_request_t *req, h2o_iovec_t payload_hash, h2o_iovec_t access_key, h2o_iovec_t secret_key,
                  h2o_iovec_t region, int64_t now, char *out, size_t out_size, s3_sigv4_ctx_t *out_ctx);

/* Same for another service's credential scope (yc-admin signs IAM calls for "iam"); at most 16
 * bytes of service name. */
int s3_sigv4_sign_service(const s3_request_t *req, h2o_iovec_t payload_hash, h2o_iovec_t access_key,
                          h2o_iovec_t secret_key, h2o_iovec_t region, h2o_iovec_t service, int64_t now, char *out,
                          size_t out_size, s3_sigv4_ctx_t *out_ctx);

/* Writes the ISO 8601 basic form of Unix time t ("yyyymmddThhmmssZ" + NUL) into out. */
void s3_sigv4_format_time(int64_t t, char out[17]);

/* Parses "yyyymmddThhmmssZ" (exactly 16 bytes) into Unix seconds. Returns 0 or S3_AUTH_MALFORMED. */
int s3_sigv4_parse_time(h2o_iovec_t s, int64_t *out);

/* Signs one aws-chunked chunk: string to sign "AWS4-HMAC-SHA256-PAYLOAD\n<ts>\n<scope>\n<prev>\n
 * <sha256("")>\n<hex sha256(data)>". prev is 64 hex; out gets 64 lowercase hex + NUL. */
int s3_sigv4_chunk_signature(const s3_sigv4_ctx_t *ctx, const char *prev, const uint8_t data_sha256[32], char out[65]);

/* Signs the trailer section: string to sign "AWS4-HMAC-SHA256-TRAILER\n<ts>\n<scope>\n<prev>\n
 * <hex sha256(canonical trailers)>" where the canonical trailers are "name:value\n" lines. */
int s3_sigv4_trailer_signature(const s3_sigv4_ctx_t *ctx, const char *prev, const uint8_t trailers_sha256[32],
                               char out[65]);

/* 1 when auth's credential scope names the service "iam": an IAM Query API call. Such a header-signed
 * request may omit x-amz-content-sha256 (IAM clients do): payload_mode is then S3_PAYLOAD_SHA256 with
 * payload_hash empty, and the caller sets payload_hash and payload_sha256 from the body it read
 * before calling s3_sigv4_verify. Presigned IAM calls are refused (S3_AUTH_MALFORMED). */
int s3_auth_is_iam(const s3_auth_t *auth);

/* Returns 1 when name (lowercase) is in auth's signed header list, else 0. */
int s3_auth_header_is_signed(const s3_auth_t *auth, h2o_iovec_t name);

#endif
