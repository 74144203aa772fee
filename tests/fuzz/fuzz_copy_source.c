/* fuzz_copy_source.c — the x-amz-copy-source header (gateway/s3/copy_source.c) on arbitrary bytes.
 *
 * What parses must name a non-empty bucket and a valid key (names.h) that lie inside the decoded
 * text, a version id only when "?versionId=" was given (and then one that formats back to the
 * text after it), and must parse the same way a second time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/copy_source.h"
#include "gateway/s3/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1); /* its own size: a read past the header is caught */
    memcpy(buf, data, size);
    h2o_mem_pool_t pool;
    h2o_iovec_t bucket, key, bucket2, key2;
    uint8_t vid[S3_VERSION_ID_LEN], vid2[S3_VERSION_ID_LEN];
    int given = -1, given2 = -1;

    h2o_mem_init_pool(&pool);
    int ret = s3_copy_source_parse(&pool, h2o_iovec_init(buf, size), &bucket, &key, vid, &given);
    if (ret != 0 && ret != S3_COPY_SOURCE_BAD_KEY && ret != S3_COPY_SOURCE_BAD_VERSION)
        abort();
    const char *q = memchr(buf, '?', size);
    if (ret == 0) {
        if (bucket.len == 0 || memchr(bucket.base, '/', bucket.len) != NULL || s3_key_validate(key) != 0)
            abort();
        if (given != (q != NULL))
            abort();
        if (given) {
            char text[S3_VERSION_ID_TEXT_MAX];
            size_t n = s3_version_id_format(vid, text);
            const char *v = q + 1 + strlen("versionId=");
            if (n != (size_t)(buf + size - v) || memcmp(text, v, n) != 0)
                abort();
        }
        if (s3_copy_source_parse(&pool, h2o_iovec_init(buf, size), &bucket2, &key2, vid2, &given2) != 0 ||
            !h2o_memis(bucket.base, bucket.len, bucket2.base, bucket2.len) ||
            !h2o_memis(key.base, key.len, key2.base, key2.len) || given2 != given ||
            (given && memcmp(vid, vid2, sizeof(vid)) != 0))
            abort();
    } else if (ret == S3_COPY_SOURCE_BAD_VERSION && q == NULL) {
        abort(); /* no version id, no version error */
    }
    h2o_mem_clear_pool(&pool);
    free(buf);
    return 0;
}
