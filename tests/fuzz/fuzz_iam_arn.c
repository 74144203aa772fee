/* fuzz_iam_arn.c — managed policies' ARNs (PolicyArn) on arbitrary bytes.
 *
 * A parse either fails or yields a path that begins and ends with '/' and a name, both inside the
 * ARN, the name after the path, neither holding a byte outside '!'..'~'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/iam_arn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    s3_iam_policy_arn_t a;

    memcpy(copy, data, size);
    if (s3_iam_policy_arn_parse(h2o_iovec_init(copy, size), h2o_iovec_init("000000000000", 12), &a) == S3_IAM_ARN_OK) {
        if (a.path.len == 0 || a.path.base[0] != '/' || a.path.base[a.path.len - 1] != '/' || a.name.len == 0 ||
            a.name.len > 128 || a.path.base < copy || a.name.base != a.path.base + a.path.len ||
            a.name.base + a.name.len != copy + size)
            abort();
        for (size_t i = 0; i < a.path.len + a.name.len; i++)
            if ((unsigned char)a.path.base[i] < 0x21 || (unsigned char)a.path.base[i] > 0x7e)
                abort();
    }
    free(copy);
    return 0;
}
