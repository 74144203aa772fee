/* iam_form.h — the body of an IAM Query API call: application/x-www-form-urlencoded parameters
 * (Action=CreateUser&Version=2010-05-08&UserName=...), as the AWS SDKs and the AWS CLI send them.
 *
 * Decoding follows the HTML form rules the SDKs encode with (Python's urlencode): '+' is a space,
 * %XX the byte XX, and a '%' not followed by two hex digits makes the body malformed. Names and
 * values may hold any byte once decoded, NUL included: they are pointer+length.
 */
#ifndef YC_S3_IAM_FORM_H
#define YC_S3_IAM_FORM_H
#include <stddef.h>
#include <h2o.h>

#define S3_IAM_FORM_MAX_PARAMS 256    /* more parameters than this → S3_IAM_FORM_TOO_MANY */
#define S3_IAM_FORM_MAX_BODY   131072 /* bytes of a body the gateway reads (a policy is at most 10 KiB) */

enum {
    S3_IAM_FORM_OK = 0,
    S3_IAM_FORM_MALFORMED = -1, /* a bad %-escape */
    S3_IAM_FORM_TOO_MANY = -2,  /* over S3_IAM_FORM_MAX_PARAMS parameters */
};

typedef struct {
    h2o_iovec_t name;  /* decoded */
    h2o_iovec_t value; /* decoded; {"", 0} without '=' */
} s3_iam_param_t;

typedef struct {
    s3_iam_param_t *params; /* in body order; memory from the pool given to s3_iam_form_parse */
    size_t count;
} s3_iam_form_t;

/* Splits body at '&' and decodes each "name=value" into memory from pool. Empty pieces are skipped.
 * Returns 0 or an S3_IAM_FORM_* code. */
int s3_iam_form_parse(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_iam_form_t *out);

/* The value of the first parameter called name (NUL-terminated, compared exactly); base NULL
 * when absent. */
h2o_iovec_t s3_iam_form_get(const s3_iam_form_t *form, const char *name);

#endif
