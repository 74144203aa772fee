/* fuzz_version_id.c — version id text (?versionId=, version-id-marker, a copy source's versionId).
 *
 * Whatever parses must format back to exactly the bytes given (the text is canonical: one text
 * per id), and the null version is parsed only from "null".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/version_id.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t vid[S3_VERSION_ID_LEN], again[S3_VERSION_ID_LEN];
    char text[S3_VERSION_ID_TEXT_MAX];

    /* a copy keeps the text out of the fuzzer's buffer, so reads past it are caught */
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    if (s3_version_id_parse(h2o_iovec_init(buf, size), vid) == 0) {
        size_t n = s3_version_id_format(vid, text);
        if (n != size || memcmp(text, buf, size) != 0 || strlen(text) != n)
            abort();
        if (s3_version_id_is_null(vid) != (size == 4 && memcmp(buf, "null", 4) == 0))
            abort();
        if (s3_version_id_parse(h2o_iovec_init(text, n), again) != 0 || memcmp(vid, again, sizeof(vid)) != 0)
            abort();
    }
    free(buf);
    return 0;
}
