/* cors.h — a bucket's CORS configuration: the CORSConfiguration document, its checks, and how
 * S3 answers a preflight (OPTIONS) and an actual cross-origin request from it.
 *
 * The document: 1..100 CORSRule, each with at least one AllowedOrigin and one AllowedMethod, any
 * number of AllowedHeader and ExposeHeader, at most one ID and one MaxAgeSeconds (a non-negative
 * integer). Anything else about its shape is MalformedXML (no rule or more than 100 included, as
 * S3 answers them); the document is at most 64 KB. Then, rule by rule, the first fault answers:
 *   - a method other than GET, PUT, POST, DELETE, HEAD (case-sensitive): 400 InvalidRequest
 *     "Found unsupported HTTP method in CORS config. Unsupported method is PATCH";
 *   - an AllowedOrigin with more than one '*': 400 InvalidRequest "AllowedOrigin "x" can not have
 *     more than one wildcard.", and the same for AllowedHeader;
 *   - an ExposeHeader holding '*': 400 InvalidRequest "ExposeHeader "x" contains wildcard. We
 *     currently do not support wildcard for ExposeHeader.";
 *   - an ID over 255 characters: 400 InvalidArgument "ID length should not exceed allowed limit
 *     of 255" (S3's answer for lifecycle rule IDs; no recording of the CORS one exists).
 *
 * Evaluation, as S3 does it: the first rule that matches decides. A rule matches when the Origin
 * matches one of its AllowedOrigin (a '*' stands for any run of characters, the empty one
 * included, and the pattern must cover the whole origin), the method is one of its AllowedMethod,
 * and, for a preflight only, every name in Access-Control-Request-Headers matches one of its
 * AllowedHeader. Header names compare without regard to case; methods exactly; origins without
 * regard to case too (scheme and host are case-insensitive, and browsers send them lowercase).
 * On an actual request the method is Access-Control-Request-Method when the request carries it
 * (S3 was recorded deciding by it), else the request's own.
 *
 * The answer of a match: Access-Control-Allow-Origin is "*" when the matching AllowedOrigin is
 * "*" exactly, else the request's Origin, then with Access-Control-Allow-Credentials: true;
 * Access-Control-Allow-Methods lists the rule's methods as written, joined by ", ";
 * Access-Control-Allow-Headers (preflight only, when headers were requested) the requested names
 * lowercased, in request order; Access-Control-Expose-Headers the rule's ExposeHeader;
 * Access-Control-Max-Age the rule's MaxAgeSeconds; and Vary: Origin,
 * Access-Control-Request-Headers, Access-Control-Request-Method. No match on an actual request
 * sends no CORS header and no Vary: the request is served as if it were not cross-origin.
 *
 * A preflight that cannot be answered: no Origin, 400 BadRequest "Insufficient information.
 * Origin request header needed."; no configuration, 403 AccessForbidden "CORSResponse: CORS is
 * not enabled for this bucket."; no Access-Control-Request-Method, 400 BadRequest "Invalid
 * Access-Control-Request-Method: null"; no rule matching, 403 AccessForbidden with S3's
 * "CORSResponse: This CORS request is not allowed. ..." The 403s carry Method (the method asked
 * for, or OPTIONS) and ResourceType (BUCKET, or OBJECT when rules were evaluated for a key). A
 * preflight to a bucket that does not exist is the caller's: S3 answers it 403 AccessForbidden
 * "CORSResponse: Bucket not found".
 */
#ifndef YC_S3_CORS_H
#define YC_S3_CORS_H
#include <stddef.h>
#include <stdint.h>
#include <h2o.h>
#include "gateway/s3/error.h"
#include "gateway/s3/xml.h"

#define S3_CORS_MAX_RULES 100
#define S3_CORS_MAX_BODY  (64 * 1024)
/* an element takes 4 bytes at least ("<a/>"), so the size alone bounds what a document holds */
#define S3_CORS_MAX_NODE (S3_CORS_MAX_BODY / 4)
#define S3_CORS_ID_MAX   255
#define S3_CORS_VARY     "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"

typedef struct {
    h2o_iovec_t id; /* base NULL when the rule has none */
    h2o_iovec_t *origins;
    size_t n_origins;
    h2o_iovec_t *methods; /* as written, each one of GET PUT POST DELETE HEAD */
    size_t n_methods;
    h2o_iovec_t *allowed_headers;
    size_t n_allowed_headers;
    h2o_iovec_t *expose_headers;
    size_t n_expose_headers;
    int64_t max_age_seconds; /* -1 when absent */
} s3_cors_rule_t;

typedef struct {
    s3_cors_rule_t *rules; /* in document order */
    size_t count;
} s3_cors_config_t;

/* Parses and checks a CORSConfiguration document (PutBucketCors) into memory from pool. Returns
 * 0, -S3_ERR_MALFORMED_XML, -S3_ERR_INVALID_REQUEST or -S3_ERR_INVALID_ARGUMENT, with why
 * filled. */
int s3_cors_parse(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_cors_config_t *out, s3_error_detail_t *why);

/* Writes the CORSConfiguration document of cfg (GetBucketCors), declaration and S3's namespace
 * included; each rule's elements in the order ID, AllowedHeader, AllowedMethod, AllowedOrigin,
 * ExposeHeader, MaxAgeSeconds, values in the order given. What it writes parses back to cfg. */
void s3_cors_write_xml(s3_xml_writer_t *w, const s3_cors_config_t *cfg);

/* The headers of a request that CORS looks at; base NULL when a header is absent. */
typedef struct {
    h2o_iovec_t origin;
    h2o_iovec_t method;          /* the request's method: OPTIONS for a preflight */
    h2o_iovec_t request_method;  /* Access-Control-Request-Method */
    h2o_iovec_t request_headers; /* Access-Control-Request-Headers */
    int on_object;               /* 1 when the URL names a key, 0 when it names the bucket */
} s3_cors_request_t;

/* The CORS headers to add to a response; each base NULL means the header is not sent. */
typedef struct {
    int matched;                   /* 0: no CORS header and no Vary */
    const s3_cors_rule_t *rule;    /* the rule that matched */
    h2o_iovec_t allow_origin;      /* Access-Control-Allow-Origin */
    h2o_iovec_t allow_credentials; /* Access-Control-Allow-Credentials: "true" */
    h2o_iovec_t allow_methods;     /* Access-Control-Allow-Methods */
    h2o_iovec_t allow_headers;     /* Access-Control-Allow-Headers */
    h2o_iovec_t expose_headers;    /* Access-Control-Expose-Headers */
    h2o_iovec_t max_age;           /* Access-Control-Max-Age */
    h2o_iovec_t vary;              /* Vary: S3_CORS_VARY */
} s3_cors_response_t;

/* Answers a preflight (an OPTIONS request) from cfg, NULL when the bucket has no configuration.
 * Returns 0 with out's headers for a 200, or -S3_ERR_BAD_REQUEST or -S3_ERR_ACCESS_FORBIDDEN with
 * why filled and out->matched 0. Values are in memory from pool or borrowed from req and cfg. */
int s3_cors_preflight(h2o_mem_pool_t *pool, const s3_cors_config_t *cfg, const s3_cors_request_t *req,
                      s3_cors_response_t *out, s3_error_detail_t *why);

/* The CORS headers of an actual request's response (any method but a preflight, errors
 * included), from cfg, NULL when the bucket has no configuration. out->matched 0 when nothing
 * is to be added. */
void s3_cors_actual(h2o_mem_pool_t *pool, const s3_cors_config_t *cfg, const s3_cors_request_t *req,
                    s3_cors_response_t *out);

/* 1 when value matches pattern: '*' in pattern (the first one) stands for any run of characters,
 * the rest compares without regard to ASCII case, and the whole of value must be covered. */
int s3_cors_wildcard_match(h2o_iovec_t pattern, h2o_iovec_t value);

#endif
