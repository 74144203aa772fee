/* fuzz_decoded_length.c — x-amz-decoded-content-length (gateway/s3/chunked.c), the length an
 * aws-chunked body promises and the gateway sizes its buffers by.
 *
 * Accepted exactly when the text is 1..19 decimal digits, with the value those digits spell
 * (compared with strtoull on a NUL-terminated copy).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/chunked.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1), text[32];
    memcpy(buf, data, size);
    uint64_t v = 0;
    int digits = size >= 1 && size <= 19;
    for (size_t i = 0; digits && i < size; i++)
        digits = buf[i] >= '0' && buf[i] <= '9';
    int ret = s3_chunked_decoded_length_parse(h2o_iovec_init(buf, size), &v);
    if ((ret == 0) != digits)
        abort();
    if (ret == 0) {
        memcpy(text, buf, size);
        text[size] = '\0';
        if (strtoull(text, NULL, 10) != v)
            abort();
    }
    free(buf);
    return 0;
}
