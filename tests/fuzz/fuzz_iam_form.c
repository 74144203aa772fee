/* fuzz_iam_form.c — the form-encoded bodies of IAM Query API calls on arbitrary bytes.
 *
 * A parse either fails or yields at most S3_IAM_FORM_MAX_PARAMS parameters, none longer than the
 * body, each found again by its name.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/iam_form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h2o_mem_pool_t pool;
    s3_iam_form_t f;
    char *copy = malloc(size ? size : 1);

    memcpy(copy, data, size);
    h2o_mem_init_pool(&pool);
    if (s3_iam_form_parse(&pool, h2o_iovec_init(copy, size), &f) == 0) {
        if (f.count > S3_IAM_FORM_MAX_PARAMS)
            abort();
        for (size_t i = 0; i < f.count; i++) {
            if (f.params[i].name.len > size || f.params[i].value.len > size)
                abort();
            if (memchr(f.params[i].name.base, 0, f.params[i].name.len) == NULL &&
                s3_iam_form_get(&f, f.params[i].name.base).base == NULL)
                abort();
        }
    }
    h2o_mem_clear_pool(&pool);
    free(copy);
    return 0;
}
