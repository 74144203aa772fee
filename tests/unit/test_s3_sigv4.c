/* test_s3_sigv4.c — SigV4 parsing, canonicalisation, verification and signing, checked against the
 * worked examples published in the Amazon S3 API reference ("Examples of how to calculate Signature
 * Version 4", the chunked upload example and the presigned URL example), then against tampering,
 * clock and malformed-input cases.
 */
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/sigv4.h"
#include "gateway/s3/checksum.h"
#include "tests/unit/unit.h"

#define SECRET     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define ACCESS_KEY "AKIAIOSFODNN7EXAMPLE"
#define EMPTY_SHA  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define T_20130524 1369353600 /* 2013-05-24T00:00:00Z */
#define CRED       "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"

/* A request under construction: up to 16 headers given as "name", "value" pairs. */
typedef struct {
    s3_request_t req;
    h2o_iovec_t names[16];
    h2o_header_t headers[16];
} test_req_t;

static void req_init(test_req_t *t, const char *method, const char *path, const char *query, const char **kv)
{
    size_t n = 0;

    memset(t, 0, sizeof(*t));
    for (; kv != NULL && kv[2 * n] != NULL; n++) {
        t->names[n] = h2o_iovec_init(kv[2 * n], strlen(kv[2 * n]));
        t->headers[n].name = &t->names[n];
        t->headers[n].value = h2o_iovec_init(kv[2 * n + 1], strlen(kv[2 * n + 1]));
    }
    t->req.method = h2o_iovec_init(method, strlen(method));
    t->req.path = h2o_iovec_init(path, strlen(path));
    t->req.query = h2o_iovec_init(query, strlen(query));
    t->req.headers = t->headers;
    t->req.num_headers = n;
}

static h2o_iovec_t iov(const char *s)
{
    return h2o_iovec_init(s, strlen(s));
}

/* Parses and verifies t at now; returns the first non-zero code. */
static int check(test_req_t *t, int64_t now)
{
    h2o_mem_pool_t pool;
    s3_auth_t auth;
    int ret;

    h2o_mem_init_pool(&pool);
    if ((ret = s3_auth_parse(&t->req, &pool, &auth)) == 0)
        ret = s3_sigv4_verify(&t->req, &auth, iov(SECRET), now, NULL);
    h2o_mem_clear_pool(&pool);
    return ret;
}

/* ---- the published examples ---- */

static const char *get_object_headers[] = {"host",
                                           "examplebucket.s3.amazonaws.com",
                                           "range",
                                           "bytes=0-9",
                                           "x-amz-content-sha256",
                                           EMPTY_SHA,
                                           "x-amz-date",
                                           "20130524T000000Z",
                                           "authorization",
                                           "AWS4-HMAC-SHA256 " CRED
                                           ",SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
                                           "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
                                           NULL};

TEST(test_verify_get_object_example_accepted)
{
    test_req_t t;
    req_init(&t, "GET", "/test.txt", "", get_object_headers);
    CHECK_EQ_INT(check(&t, T_20130524), 0);
}

TEST(test_canonical_request_get_object_example_matches)
{
    test_req_t t;
    h2o_mem_pool_t pool;
    h2o_iovec_t out;
    const char *expected = "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
                           "x-amz-content-sha256:" EMPTY_SHA "\nx-amz-date:20130524T000000Z\n\n"
                           "host;range;x-amz-content-sha256;x-amz-date\n" EMPTY_SHA;
    req_init(&t, "GET", "/test.txt", "", get_object_headers);
    h2o_mem_init_pool(&pool);
    int ret = s3_sigv4_canonical_request(&t.req, iov("host;range;x-amz-content-sha256;x-amz-date"), iov(EMPTY_SHA), 0,
                                         &pool, &out);
    int same = ret == 0 && out.len == strlen(expected) && memcmp(out.base, expected, out.len) == 0;
    h2o_mem_clear_pool(&pool);
    CHECK(same);
}

static const char *put_object_headers[] = {
    "host",
    "examplebucket.s3.amazonaws.com",
    "date",
    "Fri, 24 May 2013 00:00:00 GMT",
    "x-amz-date",
    "20130524T000000Z",
    "x-amz-storage-class",
    "REDUCED_REDUNDANCY",
    "x-amz-content-sha256",
    "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
    "authorization",
    "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
    "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
    NULL};

TEST(test_verify_put_object_example_accepted)
{
    test_req_t t;
    req_init(&t, "PUT", "/test%24file.text", "", put_object_headers);
    CHECK_EQ_INT(check(&t, T_20130524), 0);
}

TEST(test_verify_put_object_unencoded_dollar_accepted)
{
    /* a client may leave '$' raw in the path; the canonical URI encodes it all the same */
    test_req_t t;
    req_init(&t, "PUT", "/test$file.text", "", put_object_headers);
    CHECK_EQ_INT(check(&t, T_20130524), 0);
}

TEST(test_parse_put_object_example_reads_payload_hash)
{
    test_req_t t;
    h2o_mem_pool_t pool;
    s3_auth_t auth;
    uint8_t expected[32];
    req_init(&t, "PUT", "/test%24file.text", "", put_object_headers);
    h2o_mem_init_pool(&pool);
    int ret = s3_auth_parse(&t.req, &pool, &auth);
    h2o_mem_clear_pool(&pool);
    CHECK_EQ_INT(ret, 0);
    CHECK_EQ_INT(auth.kind, S3_AUTH_KIND_HEADER);
    CHECK_EQ_INT(auth.payload_mode, S3_PAYLOAD_SHA256);
    CHECK(s3_checksum_from_hex(iov("44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"), expected, 32) ==
          0);
    CHECK(memcmp(auth.payload_sha256, expected, 32) == 0);
    CHECK(auth.access_key.len == strlen(ACCESS_KEY) &&
          memcmp(auth.access_key.base, ACCESS_KEY, auth.access_key.len) == 0);
    CHECK(strcmp(auth.date, "20130524") == 0);
    CHECK(auth.region.len == 9 && memcmp(auth.region.base, "us-east-1", 9) == 0);
    CHECK(strcmp(auth.timestamp, "20130524T000000Z") == 0);
    CHECK_EQ_INT(auth.request_time, T_20130524);
}

static const char *lifecycle_headers[] = {"host",
                                          "examplebucket.s3.amazonaws.com",
                                          "x-amz-date",
                                          "20130524T000000Z",
                                          "x-amz-content-sha256",
                                          EMPTY_SHA,
                                          "authorization",
                                          "AWS4-HMAC-SHA256 " CRED
                                          ",SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
                                          "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
                                          NULL};

TEST(test_verify_get_lifecycle_example_accepted)
{
    test_req_t t;
    req_init(&t, "GET", "/", "lifecycle", lifecycle_headers);
    CHECK_EQ_INT(check(&t, T_20130524), 0);
}

TEST(test_verify_get_lifecycle_with_equals_accepted)
{
    test_req_t t;
    req_init(&t, "GET", "/", "lifecycle=", lifecycle_headers);
    CHECK_EQ_INT(check(&t, T_20130524), 0);
}

static const char *list_headers[] = {"host",
                                     "examplebucket.s3.amazonaws.com",
                                     "x-amz-date",
                                     "20130524T000000Z",
                                     "x-amz-content-sha256",
                                     EMPTY_SHA,
                                     "authorization",
                                     "AWS4-HMAC-SHA256 " CRED ", SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
                                     "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
                                     NULL};

TEST(test_verify_list_objects_example_accepted)
{
    test_req_t t;
    req_init(&t, "GET", "/", "max-keys=2&prefix=J", list_headers);
    CHECK_EQ_INT(check(&t, T_20130524), 0);
}

TEST(test_verify_list_objects_unsorted_query_accepted)
{
    test_req_t t;
    req_init(&t, "GET", "/", "prefix=J&max-keys=2", list_headers);
    CHECK_EQ_INT(check(&t, T_20130524), 0);
}

static const char *chunked_headers[] = {
    "host",
    "s3.amazonaws.com",
    "x-amz-date",
    "20130524T000000Z",
    "x-amz-storage-class",
    "REDUCED_REDUNDANCY",
    "x-amz-content-sha256",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "content-encoding",
    "aws-chunked",
    "x-amz-decoded-content-length",
    "66560",
    "content-length",
    "66824",
    "authorization",
    "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
    "x-amz-decoded-content-length;x-amz-storage-class,"
    "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
    NULL};

TEST(test_verify_chunked_seed_example_fills_ctx)
{
    test_req_t t;
    h2o_mem_pool_t pool;
    s3_auth_t auth;
    s3_sigv4_ctx_t ctx;
    req_init(&t, "PUT", "/examplebucket/chunkObject.txt", "", chunked_headers);
    h2o_mem_init_pool(&pool);
    int ret = s3_auth_parse(&t.req, &pool, &auth);
    if (ret == 0)
        ret = s3_sigv4_verify(&t.req, &auth, iov(SECRET), T_20130524 + 60, &ctx);
    h2o_mem_clear_pool(&pool);
    CHECK_EQ_INT(ret, 0);
    CHECK_EQ_INT(auth.payload_mode, S3_PAYLOAD_STREAMING_SIGNED);
    CHECK(strcmp(ctx.seed_signature, "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9") == 0);
    CHECK(strcmp(ctx.scope, "20130524/us-east-1/s3/aws4_request") == 0);
    CHECK_EQ_INT(ctx.scope_len, strlen("20130524/us-east-1/s3/aws4_request"));
    CHECK(strcmp(ctx.timestamp, "20130524T000000Z") == 0);
}

TEST(test_chunk_signature_example_chain_matches)
{
    test_req_t t;
    h2o_mem_pool_t pool;
    s3_auth_t auth;
    s3_sigv4_ctx_t ctx;
    uint8_t hash[32];
    char sig1[65], sig2[65], sig3[65];
    char *data = malloc(65536);
    CHECK(data != NULL);
    memset(data, 'a', 65536);
    req_init(&t, "PUT", "/examplebucket/chunkObject.txt", "", chunked_headers);
    h2o_mem_init_pool(&pool);
    int ret = s3_auth_parse(&t.req, &pool, &auth);
    if (ret == 0)
        ret = s3_sigv4_verify(&t.req, &auth, iov(SECRET), T_20130524, &ctx);
    h2o_mem_clear_pool(&pool);
    size_t n;
    s3_checksum_compute(S3_CHECKSUM_SHA256, data, 65536, hash, &n);
    s3_sigv4_chunk_signature(&ctx, ctx.seed_signature, hash, sig1);
    s3_checksum_compute(S3_CHECKSUM_SHA256, data, 1024, hash, &n);
    s3_sigv4_chunk_signature(&ctx, sig1, hash, sig2);
    s3_checksum_compute(S3_CHECKSUM_SHA256, "", 0, hash, &n);
    s3_sigv4_chunk_signature(&ctx, sig2, hash, sig3);
    free(data);
    CHECK_EQ_INT(ret, 0);
    CHECK(strcmp(sig1, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648") == 0);
    CHECK(strcmp(sig2, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497") == 0);
    CHECK(strcmp(sig3, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9") == 0);
}

#define PRESIGNED_QUERY                                                                                                \
    "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2F"            \
    "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
#define PRESIGNED_SIG "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
static const char *presigned_headers[] = {"host", "examplebucket.s3.amazonaws.com", NULL};

TEST(test_verify_presigned_example_accepted)
{
    test_req_t t;
    req_init(&t, "GET", "/test.txt", PRESIGNED_QUERY PRESIGNED_SIG, presigned_headers);
    CHECK_EQ_INT(check(&t, T_20130524 + 3600), 0);
}

TEST(test_parse_presigned_example_decodes_credential)
{
    test_req_t t;
    h2o_mem_pool_t pool;
    s3_auth_t auth;
    req_init(&t, "GET", "/test.txt", PRESIGNED_QUERY PRESIGNED_SIG, presigned_headers);
    h2o_mem_init_pool(&pool);
    int ret = s3_auth_parse(&t.req, &pool, &auth);
    int key_ok = auth.access_key.len == strlen(ACCESS_KEY) && memcmp(auth.access_key.base, ACCESS_KEY, 20) == 0;
    h2o_mem_clear_pool(&pool);
    CHECK_EQ_INT(ret, 0);
    CHECK_EQ_INT(auth.kind, S3_AUTH_KIND_PRESIGNED);
    CHECK(key_ok);
    CHECK_EQ_INT(auth.expires, 86400);
    CHECK_EQ_INT(auth.payload_mode, S3_PAYLOAD_UNSIGNED);
}

TEST(test_verify_presigned_signature_first_accepted)
{
    test_req_t t;
    req_init(&t, "GET", "/test.txt",
             "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404&" PRESIGNED_QUERY,
             presigned_headers);
    CHECK_EQ_INT(check(&t, T_20130524 + 3600), 0);
}

TEST(test_verify_presigned_expired_rejected)
{
    test_req_t t;
    req_init(&t, "GET", "/test.txt", PRESIGNED_QUERY PRESIGNED_SIG, presigned_headers);
    CHECK_EQ_INT(check(&t, T_20130524 + 86400), 0);
    CHECK_EQ_INT(check(&t, T_20130524 + 86401), S3_AUTH_EXPIRED);
}

TEST(test_verify_presigned_not_yet_valid_rejected)
{
    test_req_t t;
    req_init(&t, "GET", "/test.txt", PRESIGNED_QUERY PRESIGNED_SIG, presigned_headers);
    CHECK_EQ_INT(check(&t, T_20130524 - 900), 0);
    CHECK_EQ_INT(check(&t, T_20130524 - 901), S3_AUTH_NOT_YET_VALID);
}

TEST(test_verify_presigned_tampered_path_rejected)
{
    test_req_t t;
    req_init(&t, "GET", "/test.txu", PRESIGNED_QUERY PRESIGNED_SIG, presigned_headers);
    CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_SIGNATURE_MISMATCH);
}

TEST(test_verify_presigned_extra_parameter_rejected)
{
    test_req_t t;
    req_init(&t, "GET", "/test.txt", PRESIGNED_QUERY PRESIGNED_SIG "&response-content-type=text%2Fhtml",
             presigned_headers);
    CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_SIGNATURE_MISMATCH);
}

TEST(test_verify_presigned_tampered_expires_rejected)
{
    test_req_t t;
    req_init(&t, "GET", "/test.txt",
             "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2F"
             "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86401&X-Amz-SignedHeaders=host" PRESIGNED_SIG,
             presigned_headers);
    CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_SIGNATURE_MISMATCH);
}

TEST(test_parse_presigned_expires_out_of_range_rejected)
{
    const char *bad[] = {"", "-", "1e3", "--1", "9999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char q[512];
        test_req_t t;
        snprintf(
            q, sizeof(q),
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%%2F20130524%%2Fus-east-1%%2F"
            "s3%%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=%s&X-Amz-SignedHeaders=host" PRESIGNED_SIG,
            bad[i]);
        req_init(&t, "GET", "/test.txt", q, presigned_headers);
        CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_MALFORMED);
    }
}

TEST(test_parse_presigned_expires_past_a_week_is_too_late)
{
    const char *late[] = {"604801", "609901", "9999999", "-1", "-1000"};
    for (size_t i = 0; i < sizeof(late) / sizeof(late[0]); i++) {
        char q[512];
        test_req_t t;
        snprintf(
            q, sizeof(q),
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%%2F20130524%%2Fus-east-1%%2F"
            "s3%%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=%s&X-Amz-SignedHeaders=host" PRESIGNED_SIG,
            late[i]);
        req_init(&t, "GET", "/test.txt", q, presigned_headers);
        CHECK_EQ_INT(check(&t, T_20130524), late[i][0] == '-' ? S3_AUTH_EXPIRES_NEGATIVE : S3_AUTH_EXPIRES_TOO_LATE);
    }
}

TEST(test_presigned_expires_zero_is_expired_at_once)
{
    char q[512];
    test_req_t t;
    h2o_mem_pool_t pool;
    s3_auth_t auth;
    snprintf(q, sizeof(q),
             "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%%2F20130524%%2Fus-east-1%%2F"
             "s3%%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=0&X-Amz-SignedHeaders=host" PRESIGNED_SIG);
    req_init(&t, "GET", "/test.txt", q, presigned_headers);
    h2o_mem_init_pool(&pool);
    CHECK_EQ_INT(s3_auth_parse(&t.req, &pool, &auth), 0);
    CHECK_EQ_INT(s3_sigv4_check_time(&auth, T_20130524), S3_AUTH_EXPIRED);
    h2o_mem_clear_pool(&pool);
}

TEST(test_parse_presigned_missing_parameter_rejected)
{
    test_req_t t;
    req_init(&t, "GET", "/test.txt",
             "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2F"
             "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host" PRESIGNED_SIG,
             presigned_headers);
    CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_MALFORMED);
}

TEST(test_parse_presigned_duplicate_parameter_rejected)
{
    test_req_t t;
    req_init(&t, "GET", "/test.txt", PRESIGNED_QUERY PRESIGNED_SIG "&X-Amz-Date=20130524T000000Z", presigned_headers);
    CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_MALFORMED);
}

TEST(test_parse_presigned_security_token_unsupported)
{
    test_req_t t;
    req_init(&t, "GET", "/test.txt", PRESIGNED_QUERY PRESIGNED_SIG "&X-Amz-Security-Token=abc", presigned_headers);
    CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_UNSUPPORTED);
}

TEST(test_parse_presigned_with_authorization_rejected)
{
    const char *h[] = {"host", "examplebucket.s3.amazonaws.com", "authorization", get_object_headers[9], NULL};
    test_req_t t;
    req_init(&t, "GET", "/test.txt", PRESIGNED_QUERY PRESIGNED_SIG, h);
    CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_MULTIPLE);
}

/* ---- header auth: tampering ---- */

TEST(test_verify_tampered_signature_rejected)
{
    const char *h[11];
    memcpy(h, get_object_headers, sizeof(h));
    h[9] = "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
           "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb42";
    test_req_t t;
    req_init(&t, "GET", "/test.txt", "", h);
    CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_SIGNATURE_MISMATCH);
}

TEST(test_verify_uppercase_signature_hex_accepted)
{
    const char *h[11];
    memcpy(h, get_object_headers, sizeof(h));
    h[9] = "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
           "Signature=F0E8BDB87C964420E857BD35B5D6ED310BD44F0170ABA48DD91039C6036BDB41";
    test_req_t t;
    req_init(&t, "GET", "/test.txt", "", h);
    CHECK_EQ_INT(check(&t, T_20130524), 0);
}

TEST(test_verify_tampered_signed_header_rejected)
{
    const char *h[11];
    memcpy(h, get_object_headers, sizeof(h));
    h[3] = "bytes=0-10";
    test_req_t t;
    req_init(&t, "GET", "/test.txt", "", h);
    CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_SIGNATURE_MISMATCH);
}

TEST(test_verify_unsigned_header_added_accepted)
{
    const char *h[13];
    memcpy(h, get_object_headers, sizeof(get_object_headers));
    h[10] = "user-agent";
    h[11] = "curl";
    h[12] = NULL;
    test_req_t t;
    req_init(&t, "GET", "/test.txt", "", h);
    CHECK_EQ_INT(check(&t, T_20130524), 0);
}

TEST(test_verify_header_value_spaces_collapsed)
{
    const char *h[11];
    memcpy(h, get_object_headers, sizeof(h));
    h[1] = "  examplebucket.s3.amazonaws.com ";
    test_req_t t;
    req_init(&t, "GET", "/test.txt", "", h);
    CHECK_EQ_INT(check(&t, T_20130524), 0);
}

TEST(test_verify_tampered_method_rejected)
{
    test_req_t t;
    req_init(&t, "HEAD", "/test.txt", "", get_object_headers);
    CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_SIGNATURE_MISMATCH);
}

TEST(test_verify_tampered_query_rejected)
{
    test_req_t t;
    req_init(&t, "GET", "/", "max-keys=3&prefix=J", list_headers);
    CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_SIGNATURE_MISMATCH);
}

TEST(test_verify_tampered_payload_hash_rejected)
{
    const char *h[13];
    memcpy(h, put_object_headers, sizeof(h));
    h[9] = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b073";
    test_req_t t;
    req_init(&t, "PUT", "/test%24file.text", "", h);
    CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_SIGNATURE_MISMATCH);
}

TEST(test_verify_wrong_secret_rejected)
{
    test_req_t t;
    h2o_mem_pool_t pool;
    s3_auth_t auth;
    req_init(&t, "GET", "/test.txt", "", get_object_headers);
    h2o_mem_init_pool(&pool);
    int ret = s3_auth_parse(&t.req, &pool, &auth);
    if (ret == 0)
        ret = s3_sigv4_verify(&t.req, &auth, iov("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ"), T_20130524, NULL);
    h2o_mem_clear_pool(&pool);
    CHECK_EQ_INT(ret, S3_AUTH_SIGNATURE_MISMATCH);
}

/* ---- header auth: clock ---- */

TEST(test_verify_skew_window_edges)
{
    test_req_t t;
    req_init(&t, "GET", "/test.txt", "", get_object_headers);
    CHECK_EQ_INT(check(&t, T_20130524 + 900), 0);
    CHECK_EQ_INT(check(&t, T_20130524 - 900), 0);
    CHECK_EQ_INT(check(&t, T_20130524 + 901), S3_AUTH_SKEWED);
    CHECK_EQ_INT(check(&t, T_20130524 - 901), S3_AUTH_SKEWED);
}

TEST(test_parse_missing_date_rejected)
{
    const char *h[] = {"host",
                       "examplebucket.s3.amazonaws.com",
                       "x-amz-content-sha256",
                       EMPTY_SHA,
                       "authorization",
                       get_object_headers[9],
                       NULL};
    test_req_t t;
    req_init(&t, "GET", "/test.txt", "", h);
    CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_MISSING_DATE);
}

TEST(test_parse_bad_date_rejected)
{
    const char *bad[] = {"20130524T000000",
                         "20130524 000000Z",
                         "20130230T000000Z",
                         "20131324T000000Z",
                         "2013052aT000000Z",
                         "20130524T250000Z",
                         "x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *h[11];
        memcpy(h, get_object_headers, sizeof(h));
        h[7] = bad[i];
        test_req_t t;
        req_init(&t, "GET", "/test.txt", "", h);
        CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_MISSING_DATE);
    }
}

TEST(test_parse_scope_date_mismatch_rejected)
{
    const char *h[11];
    memcpy(h, get_object_headers, sizeof(h));
    h[7] = "20130525T000000Z";
    test_req_t t;
    req_init(&t, "GET", "/test.txt", "", h);
    CHECK_EQ_INT(check(&t, T_20130524 + 86400), S3_AUTH_MALFORMED);
}

TEST(test_parse_http_date_header_used_without_x_amz_date)
{
    const char *h[] = {"host",
                       "examplebucket.s3.amazonaws.com",
                       "date",
                       "Fri, 24 May 2013 00:10:00 GMT",
                       "x-amz-content-sha256",
                       EMPTY_SHA,
                       "authorization",
                       get_object_headers[9],
                       NULL};
    test_req_t t;
    h2o_mem_pool_t pool;
    s3_auth_t auth;
    req_init(&t, "GET", "/test.txt", "", h);
    h2o_mem_init_pool(&pool);
    int ret = s3_auth_parse(&t.req, &pool, &auth);
    h2o_mem_clear_pool(&pool);
    CHECK_EQ_INT(ret, 0);
    CHECK_EQ_INT(auth.request_time, T_20130524 + 600);
    CHECK(strcmp(auth.timestamp, "20130524T001000Z") == 0);
}

/* ---- header auth: malformed ---- */

static int parse_authz(const char *authz)
{
    const char *h[] = {"host",
                       "examplebucket.s3.amazonaws.com",
                       "x-amz-content-sha256",
                       EMPTY_SHA,
                       "x-amz-date",
                       "20130524T000000Z",
                       "authorization",
                       authz,
                       NULL};
    test_req_t t;
    h2o_mem_pool_t pool;
    s3_auth_t auth;
    req_init(&t, "GET", "/test.txt", "", h);
    h2o_mem_init_pool(&pool);
    int ret = s3_auth_parse(&t.req, &pool, &auth);
    h2o_mem_clear_pool(&pool);
    return ret;
}

#define GOOD_SIG "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"

TEST(test_parse_authorization_malformed_rejected)
{
    const char *bad[] = {
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 ",
        "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host;x-amz-content-sha256",
        "AWS4-HMAC-SHA256 " CRED "," GOOD_SIG,
        "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-content-sha256," GOOD_SIG,
        "AWS4-HMAC-SHA256 " CRED "," CRED ",SignedHeaders=host;x-amz-content-sha256," GOOD_SIG,
        "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host;x-amz-content-sha256," GOOD_SIG ",Foo=bar",
        "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host;x-amz-content-sha256," GOOD_SIG ",",
        "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host;x-amz-content-sha256,Signature=f0e8",
        "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host;x-amz-content-sha256,Signature="
        "g0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
        "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=x-amz-content-sha256;x-amz-date," GOOD_SIG,
        "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host;;x-amz-content-sha256," GOOD_SIG,
        "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host;x-amz-content-sha256;," GOOD_SIG,
        "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=Host;x-amz-content-sha256," GOOD_SIG,
        "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=," GOOD_SIG,
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request/x,"
        "SignedHeaders=host;x-amz-content-sha256," GOOD_SIG,
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/ec2/aws4_request,"
        "SignedHeaders=host;x-amz-content-sha256," GOOD_SIG,
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/2013052/us-east-1/s3/aws4_request,"
        "SignedHeaders=host;x-amz-content-sha256," GOOD_SIG,
        "AWS4-HMAC-SHA256 "
        "Credential=/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256," GOOD_SIG,
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524//s3/aws4_request,"
        "SignedHeaders=host;x-amz-content-sha256," GOOD_SIG,
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws5_request,"
        "SignedHeaders=host;x-amz-content-sha256," GOOD_SIG,
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE,SignedHeaders=host;x-amz-content-sha256," GOOD_SIG,
        "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host," GOOD_SIG, /* x-amz-content-sha256 unsigned */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse_authz(bad[i]) != S3_AUTH_MALFORMED) {
            fprintf(stderr, "  accepted: %s\n", bad[i]);
            CHECK(0);
        }
    }
}

TEST(test_parse_authorization_spaces_after_commas_accepted)
{
    CHECK_EQ_INT(parse_authz("AWS4-HMAC-SHA256   " CRED ",  SignedHeaders=host;x-amz-content-sha256, " GOOD_SIG), 0);
}

TEST(test_parse_sigv2_unsupported)
{
    CHECK_EQ_INT(parse_authz("AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg="), S3_AUTH_UNSUPPORTED);
    CHECK_EQ_INT(parse_authz("Bearer abc"), S3_AUTH_UNSUPPORTED);
}

TEST(test_parse_sigv2_presigned_unsupported)
{
    test_req_t t;
    req_init(&t, "GET", "/test.txt", "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1141889120&Signature=vjbyPxybd",
             presigned_headers);
    CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_UNSUPPORTED);
}

TEST(test_parse_anonymous_is_kind_none)
{
    test_req_t t;
    h2o_mem_pool_t pool;
    s3_auth_t auth;
    req_init(&t, "GET", "/test.txt", "prefix=a&x-id=GetObject", presigned_headers);
    h2o_mem_init_pool(&pool);
    int ret = s3_auth_parse(&t.req, &pool, &auth);
    h2o_mem_clear_pool(&pool);
    CHECK_EQ_INT(ret, 0);
    CHECK_EQ_INT(auth.kind, S3_AUTH_KIND_NONE);
}

TEST(test_parse_empty_authorization_is_kind_none)
{
    const char *h[] = {"host", "examplebucket.s3.amazonaws.com", "authorization", " ", NULL};
    test_req_t t;
    h2o_mem_pool_t pool;
    s3_auth_t auth;
    req_init(&t, "GET", "/test.txt", "", h);
    h2o_mem_init_pool(&pool);
    int ret = s3_auth_parse(&t.req, &pool, &auth);
    h2o_mem_clear_pool(&pool);
    CHECK_EQ_INT(ret, 0);
    CHECK_EQ_INT(auth.kind, S3_AUTH_KIND_NONE);
}

TEST(test_parse_missing_content_sha256_rejected)
{
    const char *h[] = {"host",
                       "examplebucket.s3.amazonaws.com",
                       "x-amz-date",
                       "20130524T000000Z",
                       "authorization",
                       get_object_headers[9],
                       NULL};
    test_req_t t;
    req_init(&t, "GET", "/test.txt", "", h);
    CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_MISSING_CONTENT_SHA256);
}

TEST(test_parse_bad_content_sha256_rejected)
{
    const char *bad[] = {"UNSIGNED", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
                         "z3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *h[11];
        memcpy(h, get_object_headers, sizeof(h));
        h[5] = bad[i];
        test_req_t t;
        req_init(&t, "GET", "/test.txt", "", h);
        CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_BAD_CONTENT_SHA256);
    }
}

TEST(test_parse_content_sha256_modes_recognised)
{
    static const struct {
        const char *value;
        int mode;
    } cases[] = {
        {"UNSIGNED-PAYLOAD", S3_PAYLOAD_UNSIGNED},
        {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", S3_PAYLOAD_STREAMING_SIGNED},
        {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", S3_PAYLOAD_STREAMING_SIGNED_TRAILER},
        {"STREAMING-UNSIGNED-PAYLOAD-TRAILER", S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER},
        {EMPTY_SHA, S3_PAYLOAD_SHA256},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *h[11];
        memcpy(h, get_object_headers, sizeof(h));
        h[5] = cases[i].value;
        test_req_t t;
        h2o_mem_pool_t pool;
        s3_auth_t auth;
        req_init(&t, "GET", "/test.txt", "", h);
        h2o_mem_init_pool(&pool);
        int ret = s3_auth_parse(&t.req, &pool, &auth);
        h2o_mem_clear_pool(&pool);
        CHECK_EQ_INT(ret, 0);
        CHECK_EQ_INT(auth.payload_mode, cases[i].mode);
    }
}

TEST(test_parse_repeated_authorization_rejected)
{
    const char *h[] = {"host",
                       "examplebucket.s3.amazonaws.com",
                       "x-amz-content-sha256",
                       EMPTY_SHA,
                       "x-amz-date",
                       "20130524T000000Z",
                       "authorization",
                       get_object_headers[9],
                       "authorization",
                       get_object_headers[9],
                       NULL};
    test_req_t t;
    req_init(&t, "GET", "/test.txt", "", h);
    CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_MALFORMED);
}

TEST(test_parse_security_token_header_unsupported)
{
    const char *h[13];
    memcpy(h, get_object_headers, sizeof(get_object_headers));
    h[10] = "x-amz-security-token";
    h[11] = "abc";
    h[12] = NULL;
    test_req_t t;
    req_init(&t, "GET", "/test.txt", "", h);
    CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_UNSUPPORTED);
}

/* ---- canonicalisation details, through the signer ---- */

/* Signs a request with the given path, query and extra header, then verifies it with a different
 * raw spelling (path2, query2): returns the verification code. */
static int sign_then_verify(const char *path, const char *query, const char *path2, const char *query2)
{
    char authz[1024];
    const char *h[] = {"host",       "localhost:9000",   "x-amz-content-sha256", EMPTY_SHA,
                       "x-amz-date", "20130524T000000Z", "authorization",        authz,
                       NULL};
    test_req_t t;
    int ret;

    req_init(&t, "GET", path, query, h);
    t.req.num_headers = 3; /* sign without the authorization header */
    if ((ret = s3_sigv4_sign(&t.req, iov(EMPTY_SHA), iov(ACCESS_KEY), iov(SECRET), iov("us-east-1"), T_20130524, authz,
                             sizeof(authz), NULL)) != 0)
        return ret;
    req_init(&t, "GET", path2, query2, h);
    return check(&t, T_20130524);
}

TEST(test_sign_get_object_example_matches)
{
    const char *h[] = {"host",
                       "examplebucket.s3.amazonaws.com",
                       "range",
                       "bytes=0-9",
                       "x-amz-content-sha256",
                       EMPTY_SHA,
                       "x-amz-date",
                       "20130524T000000Z",
                       NULL};
    test_req_t t;
    char out[1024];
    req_init(&t, "GET", "/test.txt", "", h);
    CHECK_EQ_INT(s3_sigv4_sign(&t.req, iov(EMPTY_SHA), iov(ACCESS_KEY), iov(SECRET), iov("us-east-1"), T_20130524, out,
                               sizeof(out), NULL),
                 0);
    CHECK(strcmp(out, get_object_headers[9]) == 0);
}

TEST(test_sign_output_too_small_rejected)
{
    const char *h[] = {"host", "examplebucket.s3.amazonaws.com", "x-amz-date", "20130524T000000Z", NULL};
    test_req_t t;
    char out[64];
    req_init(&t, "GET", "/test.txt", "", h);
    CHECK_EQ_INT(s3_sigv4_sign(&t.req, iov(EMPTY_SHA), iov(ACCESS_KEY), iov(SECRET), iov("us-east-1"), T_20130524, out,
                               sizeof(out), NULL),
                 S3_AUTH_MALFORMED);
}

TEST(test_sign_without_host_rejected)
{
    const char *h[] = {"x-amz-date", "20130524T000000Z", NULL};
    test_req_t t;
    char out[1024];
    req_init(&t, "GET", "/test.txt", "", h);
    CHECK_EQ_INT(s3_sigv4_sign(&t.req, iov(EMPTY_SHA), iov(ACCESS_KEY), iov(SECRET), iov("us-east-1"), T_20130524, out,
                               sizeof(out), NULL),
                 S3_AUTH_MALFORMED);
}

TEST(test_canonical_path_encoding_variants_equivalent)
{
    /* unreserved characters may arrive encoded or not; everything else is encoded once */
    CHECK_EQ_INT(sign_then_verify("/b/a%7Eb", "", "/b/a~b", ""), 0);
    CHECK_EQ_INT(sign_then_verify("/b/a b", "", "/b/a%20b", ""), 0);
    CHECK_EQ_INT(sign_then_verify("/b/%E4%B8%AD", "", "/b/%e4%b8%ad", ""), 0);
    CHECK_EQ_INT(sign_then_verify("/b/a+b", "", "/b/a%2Bb", ""), 0);
}

TEST(test_canonical_path_not_normalised)
{
    CHECK_EQ_INT(sign_then_verify("/b//a/./c/../d", "", "/b//a/./c/../d", ""), 0);
    CHECK_EQ_INT(sign_then_verify("/b//a", "", "/b/a", ""), S3_AUTH_SIGNATURE_MISMATCH);
    CHECK_EQ_INT(sign_then_verify("/b/a/../c", "", "/b/c", ""), S3_AUTH_SIGNATURE_MISMATCH);
}

TEST(test_canonical_path_encoded_slash_distinct)
{
    CHECK_EQ_INT(sign_then_verify("/b/a%2Fc", "", "/b/a/c", ""), S3_AUTH_SIGNATURE_MISMATCH);
    CHECK_EQ_INT(sign_then_verify("/b/a%2Fc", "", "/b/a%2fc", ""), 0);
}

TEST(test_canonical_path_bad_escape_literal)
{
    CHECK_EQ_INT(sign_then_verify("/b/100%", "", "/b/100%25", ""), 0);
    CHECK_EQ_INT(sign_then_verify("/b/%zz", "", "/b/%25zz", ""), 0);
}

TEST(test_canonical_query_encoding_variants_equivalent)
{
    CHECK_EQ_INT(sign_then_verify("/b", "prefix=a b", "/b", "prefix=a%20b"), 0);
    CHECK_EQ_INT(sign_then_verify("/b", "prefix=a+b", "/b", "prefix=a%20b"), 0);
    CHECK_EQ_INT(sign_then_verify("/b", "prefix=a%2Bb", "/b", "prefix=a%2bb"), 0);
    CHECK_EQ_INT(sign_then_verify("/b", "prefix=a/b", "/b", "prefix=a%2Fb"), 0);
    CHECK_EQ_INT(sign_then_verify("/b", "uploads", "/b", "uploads="), 0);
    CHECK_EQ_INT(sign_then_verify("/b", "a=1&&b=2&", "/b", "b=2&a=1"), 0);
}

TEST(test_canonical_query_duplicate_names_sorted_by_value)
{
    CHECK_EQ_INT(sign_then_verify("/b", "a=2&a=1", "/b", "a=1&a=2"), 0);
    CHECK_EQ_INT(sign_then_verify("/b", "a=2&a=1", "/b", "a=1&a=3"), S3_AUTH_SIGNATURE_MISMATCH);
}

TEST(test_canonical_repeated_header_values_joined)
{
    test_req_t t;
    h2o_mem_pool_t pool;
    h2o_iovec_t out;
    const char *h[] = {"host", "h", "x-amz-meta-a", "1", "x-amz-meta-a", " 2   3 ", NULL};
    const char *expected = "GET\n/\n\nhost:h\nx-amz-meta-a:1,2 3\n\nhost;x-amz-meta-a\nUNSIGNED-PAYLOAD";
    req_init(&t, "GET", "", "", h);
    h2o_mem_init_pool(&pool);
    int ret = s3_sigv4_canonical_request(&t.req, iov("host;x-amz-meta-a"), iov("UNSIGNED-PAYLOAD"), 0, &pool, &out);
    int same = ret == 0 && out.len == strlen(expected) && memcmp(out.base, expected, out.len) == 0;
    h2o_mem_clear_pool(&pool);
    CHECK(same);
}

TEST(test_signing_key_example_matches)
{
    uint8_t key[32];
    char hex[65];
    /* the signing key of the AWS SigV4 general example, whose secret has a '+' where S3's has a '/' */
    CHECK_EQ_INT(s3_sigv4_signing_key(iov("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), iov("20150830"),
                                      iov("us-east-1"), iov("iam"), key),
                 0);
    yc_hex(key, 32, hex);
    CHECK(strcmp(hex, "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9") == 0);
}

TEST(test_time_format_parse_round_trip)
{
    int64_t times[] = {0, T_20130524, 951782400 /* 2000-02-29 */, 4107542399 /* 2100-02-28T23:59:59 */};
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        char s[17];
        int64_t back;
        s3_sigv4_format_time(times[i], s);
        CHECK_EQ_INT(s3_sigv4_parse_time(iov(s), &back), 0);
        CHECK_EQ_INT(back, times[i]);
    }
    int64_t t;
    CHECK_EQ_INT(s3_sigv4_parse_time(iov("21000229T000000Z"), &t), S3_AUTH_MALFORMED);
    CHECK_EQ_INT(s3_sigv4_parse_time(iov("20000229T000000Z"), &t), 0);
}

/* IAM clients sign for the service "iam" and send no x-amz-content-sha256: the verifier takes the
 * body's hash from the caller. IAM_BODY_SHA stands for the hash of the body the caller read. */
#define IAM_BODY_SHA "6e0e2ab8e1b0d2d7c4b5d44a3eb6ac77d8e07bd84e9edd0ddc1c4ce8fb4e6b55"
TEST(test_iam_scope_signed_without_payload_header_verifies_with_body_hash)
{
    const char *h[] = {"host", "iam.example", "x-amz-date", "20130524T000000Z", NULL};
    test_req_t t;
    char out[1024];
    h2o_mem_pool_t pool;
    s3_auth_t auth;

    req_init(&t, "POST", "/", "", h);
    CHECK_EQ_INT(s3_sigv4_sign_service(&t.req, iov(IAM_BODY_SHA), iov(ACCESS_KEY), iov(SECRET), iov("us-east-1"),
                                       iov("iam"), T_20130524, out, sizeof(out), NULL),
                 0);
    CHECK(strstr(out, "/us-east-1/iam/aws4_request") != NULL);
    const char *h2[] = {"host", "iam.example", "x-amz-date", "20130524T000000Z", "authorization", out, NULL};
    req_init(&t, "POST", "/", "", h2);
    h2o_mem_init_pool(&pool);
    CHECK_EQ_INT(s3_auth_parse(&t.req, &pool, &auth), 0);
    CHECK(s3_auth_is_iam(&auth));
    CHECK(auth.payload_mode == S3_PAYLOAD_SHA256 && auth.payload_hash.base == NULL);
    auth.payload_hash = iov(IAM_BODY_SHA);
    CHECK_EQ_INT(s3_sigv4_verify(&t.req, &auth, iov(SECRET), T_20130524, NULL), 0);
    auth.payload_hash = iov(EMPTY_SHA); /* another body */
    CHECK_EQ_INT(s3_sigv4_verify(&t.req, &auth, iov(SECRET), T_20130524, NULL), S3_AUTH_SIGNATURE_MISMATCH);
    h2o_mem_clear_pool(&pool);
}

TEST(test_s3_scope_without_payload_header_still_rejected)
{
    const char *h[] = {"host",
                       "examplebucket.s3.amazonaws.com",
                       "x-amz-date",
                       "20130524T000000Z",
                       "authorization",
                       "AWS4-HMAC-SHA256 " CRED ",SignedHeaders=host;x-amz-date," GOOD_SIG,
                       NULL};
    test_req_t t;
    req_init(&t, "GET", "/test.txt", "", h);
    CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_MISSING_CONTENT_SHA256);
}

TEST(test_other_service_scope_rejected)
{
    const char *h[] = {"host",
                       "x",
                       "x-amz-date",
                       "20130524T000000Z",
                       "x-amz-content-sha256",
                       EMPTY_SHA,
                       "authorization",
                       "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/sts/aws4_request,"
                       "SignedHeaders=host;x-amz-content-sha256;x-amz-date," GOOD_SIG,
                       NULL};
    test_req_t t;
    req_init(&t, "GET", "/", "", h);
    CHECK_EQ_INT(check(&t, T_20130524), S3_AUTH_MALFORMED);
}

int main(void)
{
    RUN(test_verify_get_object_example_accepted);
    RUN(test_canonical_request_get_object_example_matches);
    RUN(test_verify_put_object_example_accepted);
    RUN(test_verify_put_object_unencoded_dollar_accepted);
    RUN(test_parse_put_object_example_reads_payload_hash);
    RUN(test_verify_get_lifecycle_example_accepted);
    RUN(test_verify_get_lifecycle_with_equals_accepted);
    RUN(test_verify_list_objects_example_accepted);
    RUN(test_verify_list_objects_unsorted_query_accepted);
    RUN(test_verify_chunked_seed_example_fills_ctx);
    RUN(test_chunk_signature_example_chain_matches);
    RUN(test_verify_presigned_example_accepted);
    RUN(test_parse_presigned_example_decodes_credential);
    RUN(test_verify_presigned_signature_first_accepted);
    RUN(test_verify_presigned_expired_rejected);
    RUN(test_verify_presigned_not_yet_valid_rejected);
    RUN(test_verify_presigned_tampered_path_rejected);
    RUN(test_verify_presigned_extra_parameter_rejected);
    RUN(test_verify_presigned_tampered_expires_rejected);
    RUN(test_parse_presigned_expires_out_of_range_rejected);
    RUN(test_parse_presigned_expires_past_a_week_is_too_late);
    RUN(test_presigned_expires_zero_is_expired_at_once);
    RUN(test_parse_presigned_missing_parameter_rejected);
    RUN(test_parse_presigned_duplicate_parameter_rejected);
    RUN(test_parse_presigned_security_token_unsupported);
    RUN(test_parse_presigned_with_authorization_rejected);
    RUN(test_verify_tampered_signature_rejected);
    RUN(test_verify_uppercase_signature_hex_accepted);
    RUN(test_verify_tampered_signed_header_rejected);
    RUN(test_verify_unsigned_header_added_accepted);
    RUN(test_verify_header_value_spaces_collapsed);
    RUN(test_verify_tampered_method_rejected);
    RUN(test_verify_tampered_query_rejected);
    RUN(test_verify_tampered_payload_hash_rejected);
    RUN(test_verify_wrong_secret_rejected);
    RUN(test_verify_skew_window_edges);
    RUN(test_parse_missing_date_rejected);
    RUN(test_parse_bad_date_rejected);
    RUN(test_parse_scope_date_mismatch_rejected);
    RUN(test_parse_http_date_header_used_without_x_amz_date);
    RUN(test_parse_authorization_malformed_rejected);
    RUN(test_parse_authorization_spaces_after_commas_accepted);
    RUN(test_parse_sigv2_unsupported);
    RUN(test_parse_sigv2_presigned_unsupported);
    RUN(test_parse_anonymous_is_kind_none);
    RUN(test_parse_empty_authorization_is_kind_none);
    RUN(test_parse_missing_content_sha256_rejected);
    RUN(test_parse_bad_content_sha256_rejected);
    RUN(test_parse_content_sha256_modes_recognised);
    RUN(test_parse_repeated_authorization_rejected);
    RUN(test_parse_security_token_header_unsupported);
    RUN(test_sign_get_object_example_matches);
    RUN(test_iam_scope_signed_without_payload_header_verifies_with_body_hash);
    RUN(test_s3_scope_without_payload_header_still_rejected);
    RUN(test_other_service_scope_rejected);
    RUN(test_sign_output_too_small_rejected);
    RUN(test_sign_without_host_rejected);
    RUN(test_canonical_path_encoding_variants_equivalent);
    RUN(test_canonical_path_not_normalised);
    RUN(test_canonical_path_encoded_slash_distinct);
    RUN(test_canonical_path_bad_escape_literal);
    RUN(test_canonical_query_encoding_variants_equivalent);
    RUN(test_canonical_query_duplicate_names_sorted_by_value);
    RUN(test_canonical_repeated_header_values_joined);
    RUN(test_signing_key_example_matches);
    RUN(test_time_format_parse_round_trip);
    return unit_done();
}
