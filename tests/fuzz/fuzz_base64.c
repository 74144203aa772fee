/* fuzz_base64.c — strict base64 decoding (common/bytes.c: Content-MD5, x-amz-checksum-*, SSE-C
 * keys, POST policies) on arbitrary text.
 *
 * Whatever decodes must encode back to exactly the text given (one spelling per value: no
 * whitespace, padding only at the end, no bits under it), fit the length base64 allows, and a
 * buffer one byte short of the decoded length must be refused, never overrun.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/bytes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *in = malloc(size ? size : 1);
    memcpy(in, data, size);
    size_t cap = size / 4 * 3 + 3, n = 0;
    uint8_t *out = malloc(cap);

    if (yc_base64_decode(in, size, out, cap, &n) == 0) {
        char *again = malloc(YC_BASE64_LEN(n) + 1);
        size_t m = yc_base64_encode(out, n, again);
        if (m != size || memcmp(again, in, size) != 0 || YC_BASE64_LEN(n) != size)
            abort();
        free(again);
        if (n > 0) {
            uint8_t *exact = malloc(n - 1 ? n - 1 : 1);
            size_t k;
            if (yc_base64_decode(in, size, exact, n - 1, &k) == 0)
                abort();
            free(exact);
        }
    }
    free(out);
    free(in);
    return 0;
}
