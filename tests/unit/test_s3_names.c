/* test_s3_names.c — bucket names, keys, user metadata size. */
#include "tests/unit/unit.h"
#include "gateway/s3/names.h"
#include "common/utf8.h"

#define IOV(s) h2o_iovec_init((s), strlen(s))

TEST(test_bucket_name_accepts_valid)
{
    const char *good[] = {"abc",
                          "my-bucket",
                          "my.bucket.name",
                          "a1b2c3",
                          "123",
                          "1.2.3",
                          "1.2.3.4.5",
                          "a-b--c",
                          "xn-abc",
                          "abc-s3aliasx",
                          "012345678901234567890123456789012345678901234567890123456789012"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK_EQ_INT(s3_bucket_name_validate(IOV(good[i])), 0);
}

TEST(test_bucket_name_rejects_bad_length)
{
    CHECK_EQ_INT(s3_bucket_name_validate(IOV("ab")), -S3_ERR_INVALID_BUCKET_NAME);
    CHECK_EQ_INT(s3_bucket_name_validate(IOV("")), -S3_ERR_INVALID_BUCKET_NAME);
    CHECK_EQ_INT(s3_bucket_name_validate(h2o_iovec_init(NULL, 0)), -S3_ERR_INVALID_BUCKET_NAME);
    CHECK_EQ_INT(s3_bucket_name_validate(IOV("0123456789012345678901234567890123456789012345678901234567890123")),
                 -S3_ERR_INVALID_BUCKET_NAME);
}

TEST(test_bucket_name_rejects_bad_characters)
{
    const char *bad[] = {"MyBucket", "my_bucket", "my bucket", "my/bucket", "bücket",
                         "-abc",     "abc-",      ".abc",      "abc.",      "a..b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(s3_bucket_name_validate(IOV(bad[i])), -S3_ERR_INVALID_BUCKET_NAME);
    CHECK_EQ_INT(s3_bucket_name_validate(h2o_iovec_init("ab\0c", 4)), -S3_ERR_INVALID_BUCKET_NAME);
}

TEST(test_bucket_name_rejects_ip_address)
{
    CHECK_EQ_INT(s3_bucket_name_validate(IOV("192.168.5.4")), -S3_ERR_INVALID_BUCKET_NAME);
    CHECK_EQ_INT(s3_bucket_name_validate(IOV("1.1.1.1")), -S3_ERR_INVALID_BUCKET_NAME);
    CHECK_EQ_INT(s3_bucket_name_validate(IOV("192.168.5.4a")), 0);
    CHECK_EQ_INT(s3_bucket_name_validate(IOV("1924.168.5.4")), 0);
}

TEST(test_bucket_name_rejects_dash_next_to_dot)
{
    const char *bad[] = {"foo-.bar", "foo.-bar", "a.-.b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(s3_bucket_name_validate(IOV(bad[i])), -S3_ERR_INVALID_BUCKET_NAME);
    CHECK_EQ_INT(s3_bucket_name_validate(IOV("foo-bar.baz-1")), 0);
}

TEST(test_bucket_name_rejects_reserved_prefixes_and_suffixes)
{
    const char *bad[] = {"xn--abc",    "sthree-abc", "amzn-s3-demo-bucket", "abc-s3alias",
                         "abc--ol-s3", "abc.mrap",   "abc--x-s3",           "abc--table-s3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(s3_bucket_name_validate(IOV(bad[i])), -S3_ERR_INVALID_BUCKET_NAME);
}

TEST(test_key_accepts_utf8_up_to_1024_bytes)
{
    char key[1025];
    memset(key, 'k', 1024);
    key[1024] = '\0';
    CHECK_EQ_INT(s3_key_validate(IOV(key)), 0);
    CHECK_EQ_INT(s3_key_validate(IOV("a")), 0);
    CHECK_EQ_INT(s3_key_validate(IOV("dir/\xe4\xba\x91\xe4\xbb\x93 \xf0\x9f\x98\x80.txt")), 0);
    CHECK_EQ_INT(s3_key_validate(h2o_iovec_init("a\0b", 3)), 0);
}

TEST(test_key_rejects_too_long)
{
    char key[1026];
    memset(key, 'k', 1025);
    key[1025] = '\0';
    CHECK_EQ_INT(s3_key_validate(IOV(key)), -S3_ERR_KEY_TOO_LONG_ERROR);
}

TEST(test_key_rejects_empty)
{
    CHECK_EQ_INT(s3_key_validate(IOV("")), -S3_ERR_INVALID_ARGUMENT);
}

TEST(test_key_rejects_invalid_utf8)
{
    const char *bad[] = {"\xff",
                         "a\x80",
                         "\xc3",
                         "\xc0\xaf",
                         "\xe0\x80\xaf",
                         "\xed\xa0\x80",
                         "\xf4\x90\x80\x80",
                         "\xf8\x88\x80\x80\x80",
                         "\xe4\xba"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(s3_key_validate(IOV(bad[i])), -S3_ERR_INVALID_ARGUMENT);
}

TEST(test_utf8_valid_edges)
{
    CHECK(yc_utf8_valid((const unsigned char *)"", 0));
    CHECK(yc_utf8_valid((const unsigned char *)"\x7f", 1));
    CHECK(yc_utf8_valid((const unsigned char *)"\xc2\x80", 2));
    CHECK(yc_utf8_valid((const unsigned char *)"\xef\xbf\xbf", 3));
    CHECK(yc_utf8_valid((const unsigned char *)"\xf4\x8f\xbf\xbf", 4));
    CHECK(!yc_utf8_valid((const unsigned char *)"\xc1\xbf", 2));
}

TEST(test_meta_is_user_case_insensitive)
{
    CHECK(s3_meta_is_user(IOV("x-amz-meta-color")));
    CHECK(s3_meta_is_user(IOV("X-Amz-Meta-Color")));
    CHECK(!s3_meta_is_user(IOV("x-amz-metadata-directive")));
    CHECK(!s3_meta_is_user(IOV("x-amz-met")));
}

TEST(test_meta_account_counts_names_without_prefix)
{
    size_t total = 0;
    CHECK_EQ_INT(s3_meta_account(&total, IOV("x-amz-meta-color"), IOV("blue")), 0);
    CHECK_EQ_INT(total, 9);
}

TEST(test_meta_account_allows_exactly_2048)
{
    static char value[2048];
    size_t total = 0;
    memset(value, 'v', sizeof(value));
    CHECK_EQ_INT(s3_meta_account(&total, IOV("x-amz-meta-k"), h2o_iovec_init(value, 2047)), 0);
    CHECK_EQ_INT(total, 2048);
    CHECK_EQ_INT(s3_meta_account(&total, IOV("x-amz-meta-"), h2o_iovec_init(value, 0)), 0);
    CHECK_EQ_INT(s3_meta_account(&total, IOV("x-amz-meta-a"), h2o_iovec_init(value, 0)), -S3_ERR_METADATA_TOO_LARGE);
}

int main(void)
{
    RUN(test_bucket_name_accepts_valid);
    RUN(test_bucket_name_rejects_bad_length);
    RUN(test_bucket_name_rejects_bad_characters);
    RUN(test_bucket_name_rejects_ip_address);
    RUN(test_bucket_name_rejects_dash_next_to_dot);
    RUN(test_bucket_name_rejects_reserved_prefixes_and_suffixes);
    RUN(test_key_accepts_utf8_up_to_1024_bytes);
    RUN(test_key_rejects_too_long);
    RUN(test_key_rejects_empty);
    RUN(test_key_rejects_invalid_utf8);
    RUN(test_utf8_valid_edges);
    RUN(test_meta_is_user_case_insensitive);
    RUN(test_meta_account_counts_names_without_prefix);
    RUN(test_meta_account_allows_exactly_2048);
    return unit_done();
}
