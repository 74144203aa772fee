/* test_s3_query.c — query parsing, percent-coding and list parameters. */
#include "tests/unit/unit.h"
#include "gateway/s3/query.h"

#define IOV(s) h2o_iovec_init((s), strlen(s))
#define NONE   h2o_iovec_init(NULL, 0)

static h2o_mem_pool_t pool;

static int iov_eq(h2o_iovec_t v, const char *s)
{
    return v.base != NULL && v.len == strlen(s) && memcmp(v.base, s, v.len) == 0;
}

TEST(test_query_parse_splits_and_decodes)
{
    s3_query_t q;
    CHECK_EQ_INT(s3_query_parse(&pool, IOV("prefix=a%2Fb%20c&max-keys=10&list-type=2"), &q), 0);
    CHECK_EQ_INT(q.count, 3);
    CHECK(iov_eq(q.params[0].name, "prefix"));
    CHECK(iov_eq(q.params[0].value, "a/b c"));
    CHECK(iov_eq(s3_query_get(&q, "max-keys"), "10"));
    CHECK(iov_eq(s3_query_get(&q, "list-type"), "2"));
}

TEST(test_query_parse_keeps_plus)
{
    s3_query_t q;
    CHECK_EQ_INT(s3_query_parse(&pool, IOV("prefix=a+b"), &q), 0);
    CHECK(iov_eq(s3_query_get(&q, "prefix"), "a+b"));
}

TEST(test_query_parse_subresource_without_value)
{
    s3_query_t q;
    CHECK_EQ_INT(s3_query_parse(&pool, IOV("uploads&uploadId=&versioning"), &q), 0);
    CHECK_EQ_INT(q.count, 3);
    CHECK(s3_query_has(&q, "uploads"));
    CHECK(s3_query_has(&q, "versioning"));
    CHECK(s3_query_has(&q, "uploadId"));
    CHECK(!s3_query_has(&q, "delete"));
    CHECK(!s3_query_has(&q, "upload"));
    CHECK_EQ_INT(s3_query_find(&q, "uploads")->has_value, 0);
    CHECK_EQ_INT(s3_query_find(&q, "uploadId")->has_value, 1);
    /* present but empty differs from absent */
    CHECK(s3_query_get(&q, "uploadId").base != NULL);
    CHECK_EQ_INT(s3_query_get(&q, "uploadId").len, 0);
    CHECK(s3_query_get(&q, "delete").base == NULL);
}

TEST(test_query_parse_skips_empty_pieces)
{
    s3_query_t q;
    CHECK_EQ_INT(s3_query_parse(&pool, IOV("&&a=1&&b&"), &q), 0);
    CHECK_EQ_INT(q.count, 2);
    CHECK(iov_eq(q.params[1].name, "b"));
}

TEST(test_query_parse_empty_string_gives_no_params)
{
    s3_query_t q;
    CHECK_EQ_INT(s3_query_parse(&pool, IOV(""), &q), 0);
    CHECK_EQ_INT(q.count, 0);
    CHECK(!s3_query_has(&q, "x"));
    CHECK_EQ_INT(s3_query_parse(&pool, NONE, &q), 0);
    CHECK_EQ_INT(q.count, 0);
}

TEST(test_query_parse_value_may_hold_equals)
{
    s3_query_t q;
    CHECK_EQ_INT(s3_query_parse(&pool, IOV("X-Amz-Signature=ab=cd&k%3D=v"), &q), 0);
    CHECK(iov_eq(s3_query_get(&q, "X-Amz-Signature"), "ab=cd"));
    CHECK(iov_eq(s3_query_get(&q, "k="), "v"));
}

TEST(test_query_parse_first_duplicate_wins)
{
    s3_query_t q;
    CHECK_EQ_INT(s3_query_parse(&pool, IOV("a=1&a=2"), &q), 0);
    CHECK(iov_eq(s3_query_get(&q, "a"), "1"));
}

TEST(test_query_parse_when_bad_escape_fails)
{
    s3_query_t q;
    CHECK_EQ_INT(s3_query_parse(&pool, IOV("a=%zz"), &q), -S3_ERR_INVALID_URI);
    CHECK_EQ_INT(s3_query_parse(&pool, IOV("a=%4"), &q), -S3_ERR_INVALID_URI);
    CHECK_EQ_INT(s3_query_parse(&pool, IOV("a%=1"), &q), -S3_ERR_INVALID_URI);
    CHECK_EQ_INT(s3_query_parse(&pool, IOV("a=1%"), &q), -S3_ERR_INVALID_URI);
}

TEST(test_query_parse_when_too_many_params_fails)
{
    char buf[1024];
    size_t n = 0;
    s3_query_t q;
    for (int i = 0; i <= S3_QUERY_MAX_PARAMS; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "a%d&", i);
    CHECK_EQ_INT(s3_query_parse(&pool, h2o_iovec_init(buf, n), &q), -S3_ERR_INVALID_ARGUMENT);
}

TEST(test_percent_decode_handles_nul_and_case)
{
    h2o_iovec_t out;
    CHECK_EQ_INT(s3_percent_decode(&pool, IOV("%41%2f%2F%00x"), &out), 0);
    CHECK_EQ_INT(out.len, 5);
    CHECK(memcmp(out.base, "A//\0x", 5) == 0);
}

TEST(test_url_encode_key_like_s3)
{
    CHECK(iov_eq(s3_url_encode_key(&pool, IOV("dir/a b+c~d_e-f.g")), "dir/a%20b%2Bc~d_e-f.g"));
    CHECK(iov_eq(s3_url_encode_key(&pool, IOV("%&=?#")), "%25%26%3D%3F%23"));
    CHECK(iov_eq(s3_url_encode_key(&pool, IOV("\x01\n\xc3\xa9")), "%01%0A%C3%A9"));
    CHECK(iov_eq(s3_url_encode_key(&pool, IOV("")), ""));
}

TEST(test_list_limit_parses_and_clamps)
{
    uint32_t n = 7;
    CHECK_EQ_INT(s3_parse_list_limit(NONE, 1000, 1000, &n), 0);
    CHECK_EQ_INT(n, 1000);
    CHECK_EQ_INT(s3_parse_list_limit(IOV("0"), 1000, 1000, &n), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(s3_parse_list_limit(IOV("250"), 1000, 1000, &n), 0);
    CHECK_EQ_INT(n, 250);
    CHECK_EQ_INT(s3_parse_list_limit(IOV("5000"), 1000, 1000, &n), 0);
    CHECK_EQ_INT(n, 1000);
    CHECK_EQ_INT(s3_parse_list_limit(IOV("2147483647"), 1000, 1000, &n), 0);
    CHECK_EQ_INT(n, 1000);
}

TEST(test_list_limit_when_invalid_fails)
{
    uint32_t n;
    const char *bad[] = {"", "-1", "+5", "1.5", "abc", " 5", "5 ", "2147483648", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(s3_parse_list_limit(IOV(bad[i]), 1000, 1000, &n), -S3_ERR_INVALID_ARGUMENT);
}

TEST(test_part_number_marker_parses)
{
    uint32_t n = 9;
    CHECK_EQ_INT(s3_parse_part_number_marker(NONE, &n), 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(s3_parse_part_number_marker(IOV("42"), &n), 0);
    CHECK_EQ_INT(n, 42);
    CHECK_EQ_INT(s3_parse_part_number_marker(IOV("x"), &n), -S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(s3_parse_part_number_marker(IOV("-1"), &n), -S3_ERR_INVALID_ARGUMENT);
}

TEST(test_part_number_accepts_1_to_10000)
{
    uint32_t n;
    CHECK_EQ_INT(s3_parse_part_number(IOV("1"), &n), 0);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(s3_parse_part_number(IOV("10000"), &n), 0);
    CHECK_EQ_INT(n, 10000);
    CHECK_EQ_INT(s3_parse_part_number(IOV("0"), &n), -S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(s3_parse_part_number(IOV("10001"), &n), -S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(s3_parse_part_number(IOV(""), &n), -S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(s3_parse_part_number(NONE, &n), -S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(s3_parse_part_number(IOV("1a"), &n), -S3_ERR_INVALID_ARGUMENT);
}

TEST(test_encoding_type_accepts_only_url)
{
    int url = 5;
    CHECK_EQ_INT(s3_parse_encoding_type(NONE, &url), 0);
    CHECK_EQ_INT(url, 0);
    CHECK_EQ_INT(s3_parse_encoding_type(IOV("url"), &url), 0);
    CHECK_EQ_INT(url, 1);
    CHECK_EQ_INT(s3_parse_encoding_type(IOV("URL"), &url), -S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(s3_parse_encoding_type(IOV(""), &url), -S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(s3_parse_encoding_type(IOV("base64"), &url), -S3_ERR_INVALID_ARGUMENT);
}

int main(void)
{
    h2o_mem_init_pool(&pool);
    RUN(test_query_parse_splits_and_decodes);
    RUN(test_query_parse_keeps_plus);
    RUN(test_query_parse_subresource_without_value);
    RUN(test_query_parse_skips_empty_pieces);
    RUN(test_query_parse_empty_string_gives_no_params);
    RUN(test_query_parse_value_may_hold_equals);
    RUN(test_query_parse_first_duplicate_wins);
    RUN(test_query_parse_when_bad_escape_fails);
    RUN(test_query_parse_when_too_many_params_fails);
    RUN(test_percent_decode_handles_nul_and_case);
    RUN(test_url_encode_key_like_s3);
    RUN(test_list_limit_parses_and_clamps);
    RUN(test_list_limit_when_invalid_fails);
    RUN(test_part_number_marker_parses);
    RUN(test_part_number_accepts_1_to_10000);
    RUN(test_encoding_type_accepts_only_url);
    h2o_mem_clear_pool(&pool);
    return unit_done();
}
