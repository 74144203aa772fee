/* fuzz_object_attrs.c — the x-amz-object-attributes header on arbitrary bytes: never a read past
 * the value, and a success only with known attribute bits set. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/object_attrs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy keeps the value out of the fuzzer's buffer, so reads past it are caught */
    char *v = malloc(size ? size : 1);
    unsigned mask = 0;

    memcpy(v, data, size);
    int ret = s3_object_attrs_parse(h2o_iovec_init(v, size), &mask);
    if (ret == 0 && (mask == 0 || (mask & ~0x1fu) != 0))
        abort();
    if (ret != 0 && ret != -S3_ERR_INVALID_ARGUMENT)
        abort();
    free(v);
    return 0;
}
