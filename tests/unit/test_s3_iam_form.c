/* test_s3_iam_form.c — the form-encoded bodies of IAM Query API calls. */
#include "tests/unit/unit.h"
#include "gateway/s3/iam_form.h"

#define IOV(s) h2o_iovec_init((s), strlen(s))

static h2o_mem_pool_t pool;

static int iov_eq(h2o_iovec_t v, const char *s)
{
    return v.base != NULL && v.len == strlen(s) && memcmp(v.base, s, v.len) == 0;
}

TEST(test_iam_form_parse_splits_and_decodes)
{
    s3_iam_form_t f;
    CHECK_EQ_INT(s3_iam_form_parse(&pool, IOV("Action=CreateUser&Version=2010-05-08&UserName=a%40b"), &f), 0);
    CHECK_EQ_INT(f.count, 3);
    CHECK(iov_eq(s3_iam_form_get(&f, "Action"), "CreateUser"));
    CHECK(iov_eq(s3_iam_form_get(&f, "Version"), "2010-05-08"));
    CHECK(iov_eq(s3_iam_form_get(&f, "UserName"), "a@b"));
}

TEST(test_iam_form_parse_reads_plus_as_space)
{
    s3_iam_form_t f;
    CHECK_EQ_INT(s3_iam_form_parse(&pool, IOV("PolicyDocument=%7B+%22a%22%3A+1%2B2%7D"), &f), 0);
    CHECK(iov_eq(s3_iam_form_get(&f, "PolicyDocument"), "{ \"a\": 1+2}"));
}

TEST(test_iam_form_parse_keeps_nul_and_skips_empty_pieces)
{
    s3_iam_form_t f;
    CHECK_EQ_INT(s3_iam_form_parse(&pool, IOV("&&a=x%00y&&flag&"), &f), 0);
    CHECK_EQ_INT(f.count, 2);
    h2o_iovec_t v = s3_iam_form_get(&f, "a");
    CHECK_EQ_INT(v.len, 3);
    CHECK(memcmp(v.base, "x\0y", 3) == 0);
    CHECK(iov_eq(s3_iam_form_get(&f, "flag"), ""));
    CHECK(s3_iam_form_get(&f, "absent").base == NULL);
}

TEST(test_iam_form_parse_first_duplicate_wins)
{
    s3_iam_form_t f;
    CHECK_EQ_INT(s3_iam_form_parse(&pool, IOV("a=1&a=2"), &f), 0);
    CHECK(iov_eq(s3_iam_form_get(&f, "a"), "1"));
}

TEST(test_iam_form_parse_when_bad_escape_fails)
{
    s3_iam_form_t f;
    CHECK_EQ_INT(s3_iam_form_parse(&pool, IOV("a=%4"), &f), S3_IAM_FORM_MALFORMED);
    CHECK_EQ_INT(s3_iam_form_parse(&pool, IOV("a=%zz"), &f), S3_IAM_FORM_MALFORMED);
    CHECK_EQ_INT(s3_iam_form_parse(&pool, IOV("%=1"), &f), S3_IAM_FORM_MALFORMED);
}

TEST(test_iam_form_parse_when_too_many_params_fails)
{
    char body[S3_IAM_FORM_MAX_PARAMS * 4 + 8];
    size_t n = 0;
    s3_iam_form_t f;
    for (int i = 0; i <= S3_IAM_FORM_MAX_PARAMS; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "a=%d&", i % 10);
    CHECK_EQ_INT(s3_iam_form_parse(&pool, h2o_iovec_init(body, n), &f), S3_IAM_FORM_TOO_MANY);
    CHECK_EQ_INT(s3_iam_form_parse(&pool, h2o_iovec_init(body, n - 4), &f), 0);
    CHECK_EQ_INT(f.count, S3_IAM_FORM_MAX_PARAMS);
}

TEST(test_iam_form_parse_empty_body_gives_no_params)
{
    s3_iam_form_t f;
    CHECK_EQ_INT(s3_iam_form_parse(&pool, IOV(""), &f), 0);
    CHECK_EQ_INT(f.count, 0);
    CHECK(s3_iam_form_get(&f, "Action").base == NULL);
}

int main(void)
{
    h2o_mem_init_pool(&pool);
    RUN(test_iam_form_parse_splits_and_decodes);
    RUN(test_iam_form_parse_reads_plus_as_space);
    RUN(test_iam_form_parse_keeps_nul_and_skips_empty_pieces);
    RUN(test_iam_form_parse_first_duplicate_wins);
    RUN(test_iam_form_parse_when_bad_escape_fails);
    RUN(test_iam_form_parse_when_too_many_params_fails);
    RUN(test_iam_form_parse_empty_body_gives_no_params);
    h2o_mem_clear_pool(&pool);
    return unit_done();
}
