/* copy_source.c — the x-amz-copy-source header (copy_source.h). */
#include "gateway/s3/copy_source.h"
#include "gateway/s3/names.h"
#include "gateway/s3/query.h"
#include <string.h>

#define VERSION_ID_EQ "versionId="

int s3_copy_source_parse(h2o_mem_pool_t *pool, h2o_iovec_t src, h2o_iovec_t *bucket, h2o_iovec_t *key,
                         uint8_t vid[S3_VERSION_ID_LEN], int *vid_given)
{
    const char *q = src.base != NULL ? memchr(src.base, '?', src.len) : NULL;
    h2o_iovec_t decoded;

    *vid_given = 0;
    if (q != NULL) {
        h2o_iovec_t v = h2o_iovec_init(q + 1, (size_t)(src.base + src.len - (q + 1)));
        if (v.len < sizeof(VERSION_ID_EQ) - 1 || memcmp(v.base, VERSION_ID_EQ, sizeof(VERSION_ID_EQ) - 1) != 0)
            return S3_COPY_SOURCE_BAD_KEY;
        v.base += sizeof(VERSION_ID_EQ) - 1;
        v.len -= sizeof(VERSION_ID_EQ) - 1;
        /* AWS: 400 InvalidArgument for an id it never made */
        if (v.len == 0 || s3_version_id_parse(v, vid) != 0)
            return S3_COPY_SOURCE_BAD_VERSION;
        *vid_given = 1;
        src.len = (size_t)(q - src.base);
    }
    if (src.base == NULL || s3_percent_decode(pool, src, &decoded) != 0)
        return S3_COPY_SOURCE_BAD_KEY;
    if (decoded.len > 0 && decoded.base[0] == '/') {
        decoded.base++;
        decoded.len--;
    }
    const char *slash = memchr(decoded.base, '/', decoded.len);
    if (slash == NULL || slash == decoded.base || slash + 1 == decoded.base + decoded.len)
        return S3_COPY_SOURCE_BAD_KEY;
    *bucket = h2o_iovec_init(decoded.base, (size_t)(slash - decoded.base));
    *key = h2o_iovec_init(slash + 1, (size_t)(decoded.base + decoded.len - (slash + 1)));
    return s3_key_validate(*key) == 0 ? 0 : S3_COPY_SOURCE_BAD_KEY;
}
