/* test_s3_sigv2 — Signature Version 2, against the examples of the S3 documentation. */
#include "gateway/s3/sigv2.h"
#include "tests/unit/unit.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

typedef struct {
    h2o_iovec_t names[8];
    h2o_header_t headers[8];
    size_t n;
} headers_t;

static void add(headers_t *h, const char *name, const char *value)
{
    h->names[h->n] = h2o_iovec_init(name, strlen(name));
    h->headers[h->n] = (h2o_header_t){&h->names[h->n], NULL, h2o_iovec_init(value, strlen(value))};
    h->n++;
}

static s3_request_t request(const char *method, const char *path, const char *query, headers_t *h)
{
    return (s3_request_t){h2o_iovec_init(method, strlen(method)), h2o_iovec_init(path, strlen(path)),
                          h2o_iovec_init(query, strlen(query)), h->headers, h->n};
}

/* 2007-03-27 19:36:42 UTC, the time of the documentation's examples */
#define EXAMPLE_TIME 1175024202

TEST(test_sigv2_header_example_verifies)
{
    h2o_mem_pool_t pool;
    headers_t h = {0};
    s3_sigv2_t auth;
    h2o_mem_init_pool(&pool);
    add(&h, "date", "Tue, 27 Mar 2007 19:36:42 +0000");
    add(&h, "authorization", "AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=");
    s3_request_t req = request("GET", "/johnsmith/photos/puppy.jpg", "", &h);
    CHECK_EQ_INT(s3_sigv2_parse(&req, &pool, &auth), 0);
    CHECK_EQ_INT(auth.kind, S3_SIGV2_HEADER);
    CHECK(auth.access_key.len == 20 && memcmp(auth.access_key.base, "AKIAIOSFODNN7EXAMPLE", 20) == 0);
    CHECK_EQ_INT(s3_sigv2_verify(&req, &auth, h2o_iovec_init(H2O_STRLIT(SECRET)), EXAMPLE_TIME, &pool), 0);
    h2o_mem_clear_pool(&pool);
}

/* The documentation's example is a virtual-hosted request (Host: johnsmith.s3.amazonaws.com,
 * GET /photos/puppy.jpg): its resource is signed as /johnsmith/photos/puppy.jpg. */
TEST(test_sigv2_virtual_host_request_signs_bucket_before_path)
{
    h2o_mem_pool_t pool;
    headers_t h = {0};
    s3_sigv2_t auth;
    h2o_iovec_t sts;
    h2o_mem_init_pool(&pool);
    add(&h, "date", "Tue, 27 Mar 2007 19:36:42 +0000");
    add(&h, "authorization", "AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=");
    s3_request_t req = request("GET", "/photos/puppy.jpg", "", &h);
    CHECK_EQ_INT(s3_sigv2_parse(&req, &pool, &auth), 0);
    CHECK_EQ_INT(s3_sigv2_verify(&req, &auth, h2o_iovec_init(H2O_STRLIT(SECRET)), EXAMPLE_TIME, &pool),
                 S3_AUTH_SIGNATURE_MISMATCH);
    auth.host_bucket = h2o_iovec_init(H2O_STRLIT("johnsmith"));
    CHECK_EQ_INT(s3_sigv2_verify(&req, &auth, h2o_iovec_init(H2O_STRLIT(SECRET)), EXAMPLE_TIME, &pool), 0);
    /* the bucket itself: "/" becomes "/johnsmith/" */
    req = request("GET", "/", "acl", &h);
    CHECK_EQ_INT(s3_sigv2_string_to_sign(&req, &auth, &pool, &sts), 0);
    CHECK(sts.len > 15 && memcmp(sts.base + sts.len - 15, "/johnsmith/?acl", 15) == 0);
    h2o_mem_clear_pool(&pool);
}

TEST(test_sigv2_header_rejects_tampered_path_or_secret_or_skew)
{
    h2o_mem_pool_t pool;
    headers_t h = {0};
    s3_sigv2_t auth;
    h2o_mem_init_pool(&pool);
    add(&h, "date", "Tue, 27 Mar 2007 19:36:42 +0000");
    add(&h, "authorization", "AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=");
    s3_request_t req = request("GET", "/johnsmith/photos/kitten.jpg", "", &h);
    CHECK_EQ_INT(s3_sigv2_parse(&req, &pool, &auth), 0);
    CHECK_EQ_INT(s3_sigv2_verify(&req, &auth, h2o_iovec_init(H2O_STRLIT(SECRET)), EXAMPLE_TIME, &pool),
                 S3_AUTH_SIGNATURE_MISMATCH);
    req = request("GET", "/johnsmith/photos/puppy.jpg", "", &h);
    CHECK_EQ_INT(s3_sigv2_verify(&req, &auth, h2o_iovec_init(H2O_STRLIT("other")), EXAMPLE_TIME, &pool),
                 S3_AUTH_SIGNATURE_MISMATCH);
    CHECK_EQ_INT(s3_sigv2_verify(&req, &auth, h2o_iovec_init(H2O_STRLIT(SECRET)), EXAMPLE_TIME + 901, &pool),
                 S3_AUTH_SKEWED);
    h2o_mem_clear_pool(&pool);
}

TEST(test_sigv2_header_date_before_1970_is_no_date)
{
    h2o_mem_pool_t pool;
    headers_t h = {0};
    s3_sigv2_t auth;
    h2o_mem_init_pool(&pool);
    add(&h, "x-amz-date", "Tue, 07 Jul 1950 21:53:04 GMT");
    add(&h, "authorization", "AWS AKIAIOSFODNN7EXAMPLE:bWq2s1WEIj+Ydj0vQ697zp+IXMU=");
    s3_request_t req = request("GET", "/johnsmith/photos/puppy.jpg", "", &h);
    CHECK_EQ_INT(s3_sigv2_parse(&req, &pool, &auth), 0);
    CHECK_EQ_INT(s3_sigv2_verify(&req, &auth, h2o_iovec_init(H2O_STRLIT(SECRET)), EXAMPLE_TIME, &pool),
                 S3_AUTH_MISSING_DATE);
    h2o_mem_clear_pool(&pool);
}

TEST(test_sigv2_presigned_example_verifies_until_it_expires)
{
    h2o_mem_pool_t pool;
    headers_t h = {0};
    s3_sigv2_t auth;
    h2o_mem_init_pool(&pool);
    s3_request_t req = request(
        "GET", "/johnsmith/photos/puppy.jpg",
        "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D", &h);
    CHECK_EQ_INT(s3_sigv2_parse(&req, &pool, &auth), 0);
    CHECK_EQ_INT(auth.kind, S3_SIGV2_PRESIGNED);
    CHECK_EQ_INT(auth.expires, 1175139620);
    CHECK_EQ_INT(s3_sigv2_verify(&req, &auth, h2o_iovec_init(H2O_STRLIT(SECRET)), 1175139620, &pool), 0);
    CHECK_EQ_INT(s3_sigv2_verify(&req, &auth, h2o_iovec_init(H2O_STRLIT(SECRET)), 1175139621, &pool), S3_AUTH_EXPIRED);
    h2o_mem_clear_pool(&pool);
}

TEST(test_sigv2_presigned_when_expires_too_far_ahead_is_refused)
{
    h2o_mem_pool_t pool;
    headers_t h = {0};
    s3_sigv2_t auth;
    h2o_mem_init_pool(&pool);
    s3_request_t req = request(
        "GET", "/johnsmith/photos/puppy.jpg",
        "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D", &h);
    CHECK_EQ_INT(s3_sigv2_parse(&req, &pool, &auth), 0);
    auth.max_lifetime = 604800;
    /* a week ahead is the most accepted; a second more is refused before the signature is looked at */
    CHECK_EQ_INT(s3_sigv2_verify(&req, &auth, h2o_iovec_init(H2O_STRLIT(SECRET)), 1175139620 - 604800, &pool), 0);
    CHECK_EQ_INT(s3_sigv2_verify(&req, &auth, h2o_iovec_init(H2O_STRLIT(SECRET)), 1175139620 - 604801, &pool),
                 S3_AUTH_EXPIRES_TOO_LATE);
    auth.max_lifetime = 0; /* no limit */
    CHECK_EQ_INT(s3_sigv2_verify(&req, &auth, h2o_iovec_init(H2O_STRLIT(SECRET)), 1, &pool), 0);
    h2o_mem_clear_pool(&pool);
}

TEST(test_sigv2_string_to_sign_has_sorted_amz_headers_and_subresources)
{
    h2o_mem_pool_t pool;
    headers_t h = {0};
    s3_sigv2_t auth = {.kind = S3_SIGV2_HEADER};
    h2o_iovec_t sts;
    h2o_mem_init_pool(&pool);
    add(&h, "content-type", "text/plain");
    add(&h, "x-amz-meta-b", "2");
    add(&h, "x-amz-date", "Tue, 27 Mar 2007 21:06:08 +0000");
    add(&h, "x-amz-meta-a", " 1 ");
    add(&h, "x-amz-meta-b", "3");
    add(&h, "date", "ignored when x-amz-date is sent");
    s3_request_t req =
        request("PUT", "/bucket/key", "uploadId=abc&partNumber=2&ignored=1&response-content-type=a%2Fb", &h);
    CHECK_EQ_INT(s3_sigv2_string_to_sign(&req, &auth, &pool, &sts), 0);
    const char *expected = "PUT\n\ntext/plain\n\nx-amz-date:Tue, 27 Mar 2007 21:06:08 +0000\nx-amz-meta-a:1\n"
                           "x-amz-meta-b:2,3\n/bucket/key?partNumber=2&response-content-type=a/b&uploadId=abc";
    CHECK(sts.len == strlen(expected) && memcmp(sts.base, expected, sts.len) == 0);
    h2o_mem_clear_pool(&pool);
}

TEST(test_sigv2_bucket_resource_ends_with_slash)
{
    h2o_mem_pool_t pool;
    headers_t h = {0};
    s3_sigv2_t auth = {.kind = S3_SIGV2_HEADER};
    h2o_iovec_t sts;
    h2o_mem_init_pool(&pool);
    add(&h, "date", "Tue, 27 Mar 2007 19:36:42 +0000");
    s3_request_t req = request("GET", "/bucket", "encoding-type=url", &h);
    CHECK_EQ_INT(s3_sigv2_string_to_sign(&req, &auth, &pool, &sts), 0);
    CHECK(sts.len > 8 && memcmp(sts.base + sts.len - 8, "/bucket/", 8) == 0);
    h2o_mem_clear_pool(&pool);
}

TEST(test_sigv2_malformed_or_absent)
{
    static const char *const bad_headers[] = {"AWS nocolon", "AWS :sig", "AWS ak:not*base64", "AWS ak:c2hvcnQ="};
    h2o_mem_pool_t pool;
    s3_sigv2_t auth;
    h2o_mem_init_pool(&pool);
    for (size_t i = 0; i < sizeof(bad_headers) / sizeof(bad_headers[0]); i++) {
        headers_t h = {0};
        add(&h, "authorization", bad_headers[i]);
        s3_request_t req = request("GET", "/b/k", "", &h);
        CHECK_EQ_INT(s3_sigv2_parse(&req, &pool, &auth), S3_AUTH_MALFORMED);
    }
    headers_t none = {0};
    s3_request_t req = request("GET", "/b/k", "AWSAccessKeyId=ak&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D", &none);
    CHECK_EQ_INT(s3_sigv2_parse(&req, &pool, &auth), S3_AUTH_MALFORMED); /* no Expires */
    req = request("GET", "/b/k", "prefix=a", &none);
    CHECK_EQ_INT(s3_sigv2_parse(&req, &pool, &auth), 0);
    CHECK_EQ_INT(auth.kind, S3_SIGV2_NONE);
    headers_t v4 = {0};
    add(&v4, "authorization", "AWS4-HMAC-SHA256 Credential=x");
    req = request("GET", "/b/k", "", &v4);
    CHECK_EQ_INT(s3_sigv2_parse(&req, &pool, &auth), 0);
    CHECK_EQ_INT(auth.kind, S3_SIGV2_NONE);
    h2o_mem_clear_pool(&pool);
}

int main(void)
{
    RUN(test_sigv2_header_example_verifies);
    RUN(test_sigv2_header_rejects_tampered_path_or_secret_or_skew);
    RUN(test_sigv2_header_date_before_1970_is_no_date);
    RUN(test_sigv2_presigned_example_verifies_until_it_expires);
    RUN(test_sigv2_presigned_when_expires_too_far_ahead_is_refused);
    RUN(test_sigv2_virtual_host_request_signs_bucket_before_path);
    RUN(test_sigv2_string_to_sign_has_sorted_amz_headers_and_subresources);
    RUN(test_sigv2_bucket_resource_ends_with_slash);
    RUN(test_sigv2_malformed_or_absent);
    return unit_done();
}
