/* fuzz_cond.c — HTTP dates, ETag lists and the conditional rules on arbitrary headers.
 *
 * Input is split at NUL bytes into If-Match, If-None-Match, If-Modified-Since,
 * If-Unmodified-Since and the ETag. Any date that parses must format and parse back to the same
 * second; evaluation must return one of its documented codes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/cond.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    h2o_iovec_t f[5] = {{NULL, 0}};
    size_t start = 0, nf = 0;

    memcpy(copy, data, size);
    for (size_t i = 0; i <= size && nf < 5; i++) {
        if (i == size || copy[i] == '\0') {
            f[nf++] = h2o_iovec_init(copy + start, i - start);
            start = i + 1;
        }
    }

    for (size_t i = 0; i < nf; i++) {
        int64_t ns, again;
        char buf[S3_HTTP_DATE_LEN + 1];
        if (s3_http_date_parse(f[i], &ns) == 0 && ns != INT64_MAX && ns != INT64_MIN) {
            if (s3_http_date_format(ns, buf) != S3_HTTP_DATE_LEN)
                abort();
            if (s3_http_date_parse(h2o_iovec_init(buf, S3_HTTP_DATE_LEN), &again) != 0 || again != ns)
                abort();
        }
        (void)s3_etag_list_match(f[i], f[4], 0);
        (void)s3_etag_list_match(f[i], f[4], 1);
    }

    s3_cond_t c = {f[0], f[1], f[2], f[3]};
    int64_t mtime = 0;
    if (size >= 8)
        memcpy(&mtime, data, 8);
    int r = s3_cond_check_read(&c, f[4], mtime);
    if (r != 0 && r != -S3_ERR_PRECONDITION_FAILED && r != -S3_ERR_NOT_MODIFIED)
        abort();
    r = s3_cond_check_copy_source(&c, f[4], mtime);
    if (r != 0 && r != -S3_ERR_PRECONDITION_FAILED)
        abort();
    r = s3_cond_check_write(f[0], f[1], size & 1, f[4]);
    if (r != 0 && r != -S3_ERR_PRECONDITION_FAILED && r != -S3_ERR_NO_SUCH_KEY && r != -S3_ERR_NOT_IMPLEMENTED)
        abort();
    free(copy);
    return 0;
}
