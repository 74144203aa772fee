/* test_s3_iam_arn.c — managed policies' ARNs: the deployment's and AWS's, what is no ARN
 * (InvalidInput) and what is an ARN of no policy here (NoSuchEntity). */
#include "gateway/s3/iam_arn.h"
#include "tests/unit/unit.h"

#define ACCOUNT h2o_iovec_init(H2O_STRLIT("000000000000"))

static int parse(const char *arn, s3_iam_policy_arn_t *out)
{
    return s3_iam_policy_arn_parse(h2o_iovec_init(arn, strlen(arn)), ACCOUNT, out);
}

static int is(h2o_iovec_t v, const char *s)
{
    return v.len == strlen(s) && memcmp(v.base, s, v.len) == 0;
}

TEST(test_iam_arn_of_the_account_with_path)
{
    s3_iam_policy_arn_t a;
    CHECK_EQ_INT(parse("arn:aws:iam::000000000000:policy/team/ops/read-only", &a), S3_IAM_ARN_OK);
    CHECK(!a.aws && is(a.path, "/team/ops/") && is(a.name, "read-only"));
    CHECK_EQ_INT(parse("arn:aws:iam::000000000000:policy/p", &a), S3_IAM_ARN_OK);
    CHECK(is(a.path, "/") && is(a.name, "p"));
}

TEST(test_iam_arn_of_aws)
{
    s3_iam_policy_arn_t a;
    CHECK_EQ_INT(parse("arn:aws:iam::aws:policy/AmazonS3FullAccess", &a), S3_IAM_ARN_OK);
    CHECK(a.aws && is(a.path, "/") && is(a.name, "AmazonS3FullAccess"));
}

TEST(test_iam_arn_not_an_arn_is_invalid)
{
    s3_iam_policy_arn_t a;
    CHECK_EQ_INT(parse("policy/AmazonS3FullAccess", &a), S3_IAM_ARN_INVALID);
    CHECK_EQ_INT(parse("arn:aws:iam::0:p", &a), S3_IAM_ARN_INVALID); /* shorter than 20 */
    CHECK_EQ_INT(s3_iam_policy_arn_parse(h2o_iovec_init("arn:aws:iam::aws:policy/a\0b", 27), ACCOUNT, &a),
                 S3_IAM_ARN_INVALID);
}

TEST(test_iam_arn_of_no_policy_here)
{
    s3_iam_policy_arn_t a;
    CHECK_EQ_INT(parse("arn:aws:iam::123456789012:policy/p", &a), S3_IAM_ARN_NONE); /* another account */
    CHECK_EQ_INT(parse("arn:aws:iam::000000000000:user/p", &a), S3_IAM_ARN_NONE);
    CHECK_EQ_INT(parse("arn:aws:s3:::000000000000:policy/p", &a), S3_IAM_ARN_NONE);
    CHECK_EQ_INT(parse("arn:aws:iam::000000000000:policy", &a), S3_IAM_ARN_NONE);
    CHECK_EQ_INT(parse("arn:aws:iam::000000000000:policy/", &a), S3_IAM_ARN_NONE);
    CHECK_EQ_INT(parse("arn:aws:iam::000000000000:policy/a b", &a), S3_IAM_ARN_NONE);
    CHECK_EQ_INT(parse("arn:aws:iam::000000000000:policy/bad:name", &a), S3_IAM_ARN_NONE);
    CHECK_EQ_INT(parse("arn:aws:iam::000000000000:policyx/p", &a), S3_IAM_ARN_NONE);
    CHECK_EQ_INT(parse("arn:aws:iam::aws:policyAmazonS3FullAccess", &a), S3_IAM_ARN_NONE);
}

int main(void)
{
    RUN(test_iam_arn_of_the_account_with_path);
    RUN(test_iam_arn_of_aws);
    RUN(test_iam_arn_not_an_arn_is_invalid);
    RUN(test_iam_arn_of_no_policy_here);
    return unit_done();
}
