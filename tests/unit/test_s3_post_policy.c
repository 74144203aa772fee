/* test_s3_post_policy.c — the POST policy: parsing, each condition, extra fields, expiration,
 * the two form signatures and ${filename}. */
#include "unit.h"
#include "common/bytes.h"
#include "gateway/s3/post_policy.h"
#include "gateway/s3/sigv4.h"
#include <openssl/hmac.h>
#include <stdlib.h>

static h2o_iovec_t b64(const char *json, char *buf)
{
    size_t n = yc_base64_encode((const uint8_t *)json, strlen(json), buf);
    return h2o_iovec_init(buf, n);
}

#define F(n, v)                                                                                                        \
    {                                                                                                                  \
        h2o_iovec_init(H2O_STRLIT(n)), h2o_iovec_init(H2O_STRLIT(v))                                                   \
    }
#define BUCKET h2o_iovec_init(H2O_STRLIT("photos"))
#define NOW    1700000000 /* 2023-11-14T22:13:20Z */

static int check(const char *json, const s3_form_field_t *fields, size_t n, const char *key, char *msg)
{
    char buf[4096];
    s3_post_policy_t *p;
    int ret = s3_post_policy_parse(b64(json, buf), &p, msg);
    if (ret != 0)
        return ret;
    ret = s3_post_policy_check(p, NOW, fields, n, BUCKET, h2o_iovec_init(key, strlen(key)), msg);
    s3_post_policy_free(p);
    return ret;
}

TEST(test_post_policy_conditions_met)
{
    char msg[S3_POST_MESSAGE_MAX];
    s3_form_field_t fields[] = {F("key", "u/a.jpg"), F("Content-Type", "image/jpeg"), F("x-amz-meta-tag", "v"),
                                F("policy", "..."),  F("x-amz-signature", "..."),     F("x-ignore-x", "1")};
    const char *json = "{\"expiration\": \"2023-12-01T12:00:00.000Z\", \"conditions\": [{\"bucket\": \"photos\"},"
                       "[\"starts-with\", \"$key\", \"u/\"], [\"EQ\", \"$content-type\", \"image/jpeg\"],"
                       "{\"X-Amz-Meta-Tag\": \"v\"}, [\"content-length-range\", 1, \"1048576\"]]}";
    CHECK_EQ_INT(check(json, fields, 6, "u/a.jpg", msg), 0);

    char buf[4096];
    s3_post_policy_t *p;
    uint64_t lo, hi;
    CHECK_EQ_INT(s3_post_policy_parse(b64(json, buf), &p, msg), 0);
    s3_post_policy_length_range(p, &lo, &hi);
    CHECK(lo == 1 && hi == 1048576);
    s3_post_policy_free(p);
}

TEST(test_post_policy_condition_failures_name_the_condition)
{
    char msg[S3_POST_MESSAGE_MAX];
    s3_form_field_t fields[] = {F("key", "x/a.jpg")};
    CHECK_EQ_INT(check("{\"expiration\": \"2023-12-01T12:00:00Z\", \"conditions\": [{\"bucket\": \"photos\"},"
                       "[\"starts-with\", \"$key\", \"u/\"]]}",
                       fields, 1, "x/a.jpg", msg),
                 S3_POST_CONDITION_FAILED);
    CHECK(strcmp(msg, "Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$key\", \"u/\"]") ==
          0);
    /* a condition on a field the form lacks */
    CHECK_EQ_INT(check("{\"expiration\": \"2023-12-01T12:00:00Z\", \"conditions\": [{\"bucket\": \"photos\"},"
                       "{\"key\": \"x/a.jpg\"}, [\"eq\", \"$x-amz-meta-a\", \"\"]]}",
                       fields, 1, "x/a.jpg", msg),
                 S3_POST_CONDITION_FAILED);
    /* ["starts-with", "$field", ""] allows the field to be absent; a non-empty prefix does not */
    CHECK_EQ_INT(check("{\"expiration\": \"2023-12-01T12:00:00Z\", \"conditions\": [{\"bucket\": \"photos\"},"
                       "{\"key\": \"x/a.jpg\"}, [\"starts-with\", \"$x-amz-meta-a\", \"\"]]}",
                       fields, 1, "x/a.jpg", msg),
                 0);
    CHECK_EQ_INT(check("{\"expiration\": \"2023-12-01T12:00:00Z\", \"conditions\": [{\"bucket\": \"photos\"},"
                       "{\"key\": \"x/a.jpg\"}, [\"starts-with\", \"$x-amz-meta-a\", \"b\"]]}",
                       fields, 1, "x/a.jpg", msg),
                 S3_POST_CONDITION_FAILED);
    /* the bucket is the request's */
    CHECK_EQ_INT(check("{\"expiration\": \"2023-12-01T12:00:00Z\", \"conditions\": [{\"bucket\": \"other\"},"
                       "{\"key\": \"x/a.jpg\"}]}",
                       fields, 1, "x/a.jpg", msg),
                 S3_POST_CONDITION_FAILED);
}

TEST(test_post_policy_extra_fields_and_expiry)
{
    char msg[S3_POST_MESSAGE_MAX];
    s3_form_field_t fields[] = {F("key", "k"), F("acl", "private"), F("success_action_status", "201")};
    CHECK_EQ_INT(check("{\"expiration\": \"2023-12-01T12:00:00Z\", \"conditions\": [{\"bucket\": \"photos\"},"
                       "{\"key\": \"k\"}]}",
                       fields, 3, "k", msg),
                 S3_POST_EXTRA_FIELDS);
    CHECK(strcmp(msg, "Invalid according to Policy: Extra input fields: acl, success_action_status") == 0);
    CHECK_EQ_INT(check("{\"expiration\": \"2023-11-14T22:13:19Z\", \"conditions\": [{\"bucket\": \"photos\"},"
                       "{\"key\": \"k\"}]}",
                       fields, 1, "k", msg),
                 S3_POST_EXPIRED);
    CHECK(strcmp(msg, "Invalid according to Policy: Policy expired.") == 0);
}

TEST(test_post_policy_invalid_documents)
{
    static const char *const bad[] = {
        "not json",
        "[]",
        "{\"conditions\": []}",
        "{\"expiration\": \"2023-12-01 12:00:00\", \"conditions\": []}",
        "{\"expiration\": \"2023-12-01T12:00:00Z\"}",
        "{\"expiration\": \"2023-12-01T12:00:00Z\", \"conditions\": [{}]}",
        "{\"expiration\": \"2023-12-01T12:00:00Z\", \"conditions\": [{\"a\": \"1\", \"b\": \"2\"}]}",
        "{\"expiration\": \"2023-12-01T12:00:00Z\", \"conditions\": [[\"content-length-range\", 5]]}",
        "{\"expiration\": \"2023-12-01T12:00:00Z\", \"conditions\": [[\"content-length-range\", -1, 5]]}",
        "{\"expiration\": \"2023-12-01T12:00:00Z\", \"conditions\": [[\"content-length-range\", 6, 5]]}",
        "{\"expiration\": \"2023-12-01T12:00:00Z\", \"conditions\": [[\"matches\", \"$key\", \"a\"]]}",
        "{\"expiration\": \"2023-12-01T12:00:00Z\", \"conditions\": [[\"eq\", \"key\", \"a\"]]}",
        "{\"expiration\": \"2023-12-01T12:00:00Z\", \"conditions\": [[\"eq\", \"$key\", 1]]}",
    };
    char msg[S3_POST_MESSAGE_MAX], buf[4096];
    s3_post_policy_t *p;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int ret = s3_post_policy_parse(b64(bad[i], buf), &p, msg);
        if (ret != S3_POST_INVALID_POLICY)
            fprintf(stderr, "  document %zu: %d\n", i, ret);
        CHECK_EQ_INT(ret, S3_POST_INVALID_POLICY);
        CHECK(strncmp(msg, "Invalid Policy: ", 16) == 0);
    }
    CHECK_EQ_INT(s3_post_policy_parse(h2o_iovec_init(H2O_STRLIT("!!!")), &p, msg), S3_POST_INVALID_POLICY);
}

TEST(test_post_policy_base64_with_line_breaks)
{
    char msg[S3_POST_MESSAGE_MAX], buf[4096], broken[4200];
    s3_post_policy_t *p;
    h2o_iovec_t v = b64("{\"expiration\": \"2023-12-01T12:00:00Z\", \"conditions\": []}", buf);
    size_t n = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (i > 0 && i % 20 == 0)
            broken[n++] = '\n';
        broken[n++] = v.base[i];
    }
    CHECK_EQ_INT(s3_post_policy_parse(h2o_iovec_init(broken, n), &p, msg), 0);
    s3_post_policy_free(p);
}

TEST(test_post_signatures)
{
    h2o_iovec_t policy = h2o_iovec_init(H2O_STRLIT("eyJleHBpcmF0aW9uIjoiMjAzMC0wMS0wMVQwMDowMDowMFoifQ=="));
    h2o_iovec_t secret = h2o_iovec_init(H2O_STRLIT("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
    h2o_iovec_t date = h2o_iovec_init(H2O_STRLIT("20150830")), region = h2o_iovec_init(H2O_STRLIT("us-east-1"));
    uint8_t key[32], mac[32];
    unsigned len;
    char hex[65], b64sig[64];

    CHECK_EQ_INT(s3_sigv4_signing_key(secret, date, region, h2o_iovec_init(H2O_STRLIT("s3")), key), 0);
    HMAC(EVP_sha256(), key, 32, (const uint8_t *)policy.base, policy.len, mac, &len);
    yc_hex(mac, 32, hex);
    CHECK_EQ_INT(s3_post_verify_sigv4(policy, secret, date, region, h2o_iovec_init(hex, 64)), 0);
    hex[0] = hex[0] == '0' ? '1' : '0';
    CHECK(s3_post_verify_sigv4(policy, secret, date, region, h2o_iovec_init(hex, 64)) != 0);
    CHECK(s3_post_verify_sigv4(policy, secret, date, region, h2o_iovec_init(hex, 63)) != 0);

    HMAC(EVP_sha1(), secret.base, (int)secret.len, (const uint8_t *)policy.base, policy.len, mac, &len);
    size_t n = yc_base64_encode(mac, 20, b64sig);
    CHECK_EQ_INT(s3_post_verify_sigv2(policy, secret, h2o_iovec_init(b64sig, n)), 0);
    CHECK(s3_post_verify_sigv2(policy, h2o_iovec_init(H2O_STRLIT("other")), h2o_iovec_init(b64sig, n)) != 0);
}

TEST(test_post_credential_and_filename)
{
    h2o_iovec_t ak, date, region;
    CHECK_EQ_INT(s3_post_credential_parse(h2o_iovec_init(H2O_STRLIT("AKID/20150830/eu-west-1/s3/aws4_request")), &ak,
                                          &date, &region),
                 0);
    CHECK(ak.len == 4 && date.len == 8 && region.len == 9);
    CHECK(s3_post_credential_parse(h2o_iovec_init(H2O_STRLIT("AKID/2015083/eu/s3/aws4_request")), &ak, &date,
                                   &region) != 0);
    CHECK(s3_post_credential_parse(h2o_iovec_init(H2O_STRLIT("AKID/20150830/eu/iam/aws4_request")), &ak, &date,
                                   &region) != 0);
    CHECK(s3_post_credential_parse(h2o_iovec_init(H2O_STRLIT("AKID/20150830/eu/s3/aws4_request/x")), &ak, &date,
                                   &region) != 0);

    h2o_mem_pool_t pool;
    h2o_mem_init_pool(&pool);
    h2o_iovec_t k = s3_post_key_substitute(&pool, h2o_iovec_init(H2O_STRLIT("a/${filename}/${filename}.bak")),
                                           h2o_iovec_init(H2O_STRLIT("x.txt")));
    CHECK(k.len == 17 && memcmp(k.base, "a/x.txt/x.txt.bak", 17) == 0);
    k = s3_post_key_substitute(&pool, h2o_iovec_init(H2O_STRLIT("plain")), h2o_iovec_init(H2O_STRLIT("x")));
    CHECK(k.len == 5);
    h2o_mem_clear_pool(&pool);
}

int main(void)
{
    RUN(test_post_policy_conditions_met);
    RUN(test_post_policy_condition_failures_name_the_condition);
    RUN(test_post_policy_extra_fields_and_expiry);
    RUN(test_post_policy_invalid_documents);
    RUN(test_post_policy_base64_with_line_breaks);
    RUN(test_post_signatures);
    RUN(test_post_credential_and_filename);
    return unit_done();
}
