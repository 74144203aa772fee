/* iam_arn.c — managed policies' ARNs (see iam_arn.h). */
#include "gateway/s3/iam_arn.h"
#include <string.h>

static int starts(h2o_iovec_t v, size_t at, const char *s, size_t n)
{
    return v.len >= at + n && memcmp(v.base + at, s, n) == 0;
}

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '=' ||
           c == ',' || c == '.' || c == '@' || c == '_' || c == '-';
}

int s3_iam_policy_arn_parse(h2o_iovec_t arn, h2o_iovec_t account, s3_iam_policy_arn_t *out)
{
    static const char iam[] = "arn:aws:iam::", policy[] = ":policy";
    size_t at = sizeof(iam) - 1, slash = 0;
    int aws;

    if (arn.base == NULL || arn.len < 20 || arn.len > S3_IAM_ARN_MAX || !starts(arn, 0, "arn:", 4) ||
        memchr(arn.base, 0, arn.len) != NULL)
        return S3_IAM_ARN_INVALID;
    if (!starts(arn, 0, iam, at))
        return S3_IAM_ARN_NONE;
    /* the account: AWS's, or the deployment's */
    if ((aws = starts(arn, at, "aws", 3) && starts(arn, at + 3, policy, sizeof(policy) - 1)) != 0)
        at += 3;
    else if (account.len > 0 && starts(arn, at, account.base, account.len))
        at += account.len;
    else
        return S3_IAM_ARN_NONE;
    if (!starts(arn, at, policy, sizeof(policy) - 1))
        return S3_IAM_ARN_NONE;
    at += sizeof(policy) - 1;
    if (at >= arn.len || arn.base[at] != '/')
        return S3_IAM_ARN_NONE;
    for (size_t i = at; i < arn.len; i++) {
        unsigned char c = (unsigned char)arn.base[i];
        if (c < 0x21 || c > 0x7e) /* a path's characters (and a name's, a subset) */
            return S3_IAM_ARN_NONE;
        if (c == '/')
            slash = i;
    }
    size_t name_len = arn.len - slash - 1;
    if (name_len == 0 || name_len > 128)
        return S3_IAM_ARN_NONE;
    for (size_t i = slash + 1; i < arn.len; i++)
        if (!name_char(arn.base[i]))
            return S3_IAM_ARN_NONE;
    out->aws = aws;
    out->path = h2o_iovec_init(arn.base + at, slash + 1 - at);
    out->name = h2o_iovec_init(arn.base + slash + 1, name_len);
    return S3_IAM_ARN_OK;
}
