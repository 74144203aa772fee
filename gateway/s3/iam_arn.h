/* iam_arn.h — the ARN of an IAM managed policy as a call names it (PolicyArn):
 * arn:aws:iam::<account>:policy<path><name>, the account being the deployment's own or "aws" (AWS's
 * own managed policies, arn:aws:iam::aws:policy/<name>).
 *
 * Two ways to fail, as IAM tells them apart: a value that is no ARN (InvalidInput), and an ARN that
 * names no policy of the deployment (another account's, another service's, a name or path IAM
 * would not make: NoSuchEntity).
 */
#ifndef YC_S3_IAM_ARN_H
#define YC_S3_IAM_ARN_H
#include <h2o.h>

#define S3_IAM_ARN_MAX 2048 /* IAM's limit on an ARN parameter */

enum {
    S3_IAM_ARN_OK = 0,
    S3_IAM_ARN_INVALID = -1, /* not an ARN (20..2048 bytes beginning "arn:", no NUL) */
    S3_IAM_ARN_NONE = -2,    /* an ARN, but of no managed policy of account or of AWS */
};

typedef struct {
    int aws;          /* 1: arn:aws:iam::aws:policy/..., one of AWS's own */
    h2o_iovec_t path; /* "/" or "/a/b/", borrowed from the ARN */
    h2o_iovec_t name; /* 1..128 of [A-Za-z0-9+=,.@_-], borrowed from the ARN */
} s3_iam_policy_arn_t;

/* Reads arn as the ARN of a managed policy of account (its digits) or of AWS. Returns an
 * S3_IAM_ARN_* code; *out is set on S3_IAM_ARN_OK only. */
int s3_iam_policy_arn_parse(h2o_iovec_t arn, h2o_iovec_t account, s3_iam_policy_arn_t *out);

#endif
