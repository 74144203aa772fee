/* fuzz_range.c — Range and x-amz-copy-source-range on arbitrary headers and object sizes.
 *
 * The first 8 bytes are the object size; the rest is the header. A partial range must lie inside
 * the object; a copy range that passes both checks must too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t objsize = 0;
    s3_range_t r;
    char buf[64];

    if (size < 8)
        return 0;
    memcpy(&objsize, data, 8);
    if (data[0] & 1)
        objsize %= 4096; /* small sizes reach the clipping and suffix edges more often */
    /* a copy keeps the header out of the fuzzer's buffer, so reads past it are caught */
    size_t n = size - 8;
    char *hdr = malloc(n ? n : 1);
    memcpy(hdr, data + 8, n);
    h2o_iovec_t v = h2o_iovec_init(hdr, n);

    int ret = s3_range_parse(v, objsize, &r);
    if (ret == 0 && r.partial) {
        if (objsize == 0 || r.first > r.last || r.last >= objsize)
            abort();
        s3_range_content_range(&r, objsize, 0, buf);
    } else if (ret == -S3_ERR_INVALID_RANGE) {
        s3_range_content_range(&r, objsize, 1, buf);
    } else if (ret != 0) {
        abort();
    }

    if (s3_copy_range_parse(v, &r) == 0) {
        if (r.first > r.last)
            abort();
        if (s3_copy_range_check(&r, objsize) == 0 && r.last >= objsize)
            abort();
    }
    free(hdr);
    return 0;
}
