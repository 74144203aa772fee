/* test_s3_copy_source.c — x-amz-copy-source (gateway/s3/copy_source.h) and
 * x-amz-decoded-content-length (gateway/s3/chunked.h). */
#include "tests/unit/unit.h"
#include "gateway/s3/chunked.h"
#include "gateway/s3/copy_source.h"

#define IOV(s) h2o_iovec_init((s), strlen(s))

static int iov_eq(h2o_iovec_t v, const char *s)
{
    return v.len == strlen(s) && memcmp(v.base, s, v.len) == 0;
}

static int parse(const char *src, h2o_iovec_t *bucket, h2o_iovec_t *key, uint8_t *vid, int *given)
{
    static h2o_mem_pool_t pool;
    static int ready;
    if (!ready) {
        h2o_mem_init_pool(&pool);
        ready = 1;
    }
    return s3_copy_source_parse(&pool, IOV(src), bucket, key, vid, given);
}

TEST(test_copy_source_splits_and_decodes)
{
    h2o_iovec_t b, k;
    uint8_t vid[S3_VERSION_ID_LEN];
    int given = -1;
    CHECK_EQ_INT(parse("/src/photos/2026/cat%20one.jpg", &b, &k, vid, &given), 0);
    CHECK(iov_eq(b, "src") && iov_eq(k, "photos/2026/cat one.jpg") && given == 0);
    CHECK_EQ_INT(parse("src/a%2Fb", &b, &k, vid, &given), 0); /* the leading '/' is optional */
    CHECK(iov_eq(b, "src") && iov_eq(k, "a/b"));
}

TEST(test_copy_source_version_id)
{
    h2o_iovec_t b, k;
    uint8_t vid[S3_VERSION_ID_LEN];
    int given = 0;
    CHECK_EQ_INT(parse("src/k?versionId=null", &b, &k, vid, &given), 0);
    CHECK(given == 1 && iov_eq(k, "k"));
    CHECK_EQ_INT(parse("src/k?versionId=", &b, &k, vid, &given), S3_COPY_SOURCE_BAD_VERSION);
    CHECK_EQ_INT(parse("src/k?versionId=not-an-id", &b, &k, vid, &given), S3_COPY_SOURCE_BAD_VERSION);
    CHECK_EQ_INT(parse("src/k?partNumber=1", &b, &k, vid, &given), S3_COPY_SOURCE_BAD_KEY);
}

TEST(test_copy_source_refuses_what_names_no_object)
{
    h2o_iovec_t b, k;
    uint8_t vid[S3_VERSION_ID_LEN];
    int given;
    CHECK_EQ_INT(parse("", &b, &k, vid, &given), S3_COPY_SOURCE_BAD_KEY);
    CHECK_EQ_INT(parse("/src", &b, &k, vid, &given), S3_COPY_SOURCE_BAD_KEY);
    CHECK_EQ_INT(parse("src/", &b, &k, vid, &given), S3_COPY_SOURCE_BAD_KEY);
    CHECK_EQ_INT(parse("//k", &b, &k, vid, &given), S3_COPY_SOURCE_BAD_KEY);
    CHECK_EQ_INT(parse("src/%FF", &b, &k, vid, &given), S3_COPY_SOURCE_BAD_KEY); /* not UTF-8 */
    CHECK_EQ_INT(parse("src/%zz", &b, &k, vid, &given), S3_COPY_SOURCE_BAD_KEY);
}

TEST(test_decoded_length_is_digits_only)
{
    uint64_t v = 7;
    CHECK_EQ_INT(s3_chunked_decoded_length_parse(IOV("5242880"), &v), 0);
    CHECK_EQ_INT(v, 5242880);
    CHECK_EQ_INT(s3_chunked_decoded_length_parse(IOV("0"), &v), 0);
    CHECK_EQ_INT(v, 0);
    CHECK_EQ_INT(s3_chunked_decoded_length_parse(IOV("9999999999999999999"), &v), 0);
    CHECK(v == 9999999999999999999ULL);
    CHECK_EQ_INT(s3_chunked_decoded_length_parse(IOV("10000000000000000000"), &v), -1);
    CHECK_EQ_INT(s3_chunked_decoded_length_parse(IOV(""), &v), -1);
    CHECK_EQ_INT(s3_chunked_decoded_length_parse(IOV("-1"), &v), -1);
    CHECK_EQ_INT(s3_chunked_decoded_length_parse(IOV(" 12"), &v), -1);
    CHECK_EQ_INT(s3_chunked_decoded_length_parse(IOV("12a"), &v), -1);
    CHECK_EQ_INT(s3_chunked_decoded_length_parse(h2o_iovec_init(NULL, 0), &v), -1);
}

int main(void)
{
    RUN(test_copy_source_splits_and_decodes);
    RUN(test_copy_source_version_id);
    RUN(test_copy_source_refuses_what_names_no_object);
    RUN(test_decoded_length_is_digits_only);
    return unit_done();
}
