/* fuzz_key_name.c — object key and bucket name validation (gateway/s3/names.c) on arbitrary bytes.
 *
 * The key check is compared with a decoder written here from RFC 3629 (1..1024 bytes of UTF-8:
 * no overlong forms, no surrogates, nothing past U+10FFFF); a bucket name the check accepts must
 * keep the rules every bucket name keeps (3..63 of a-z 0-9 '.' '-', a letter or digit at both
 * ends, no "..").
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/names.h"
#include "common/utf8.h"

/* 1 when s[0..len) is UTF-8 as RFC 3629 defines it. */
static int utf8_reference(const uint8_t *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t c = s[i], min;
        size_t n;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1, c &= 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, c &= 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, c &= 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if (len - i - 1 < n)
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            c = c << 6 | (s[i + k] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1); /* its own size: a read past the name is caught */
    memcpy(buf, data, size);
    h2o_iovec_t v = h2o_iovec_init(buf, size);

    int ret = s3_key_validate(v);
    int want = size == 0                     ? -S3_ERR_INVALID_ARGUMENT
               : size > S3_KEY_MAX_LEN       ? -S3_ERR_KEY_TOO_LONG_ERROR
               : !utf8_reference(data, size) ? -S3_ERR_INVALID_ARGUMENT
                                             : 0;
    if (ret != want || yc_utf8_valid((const unsigned char *)buf, size) != utf8_reference(data, size))
        abort();

    if (s3_bucket_name_validate(v) == 0) {
        if (size < 3 || size > 63 || memmem(buf, size, "..", 2) != NULL)
            abort();
        for (size_t i = 0; i < size; i++) {
            char c = buf[i];
            int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
            if (!alnum && ((c != '.' && c != '-') || i == 0 || i == size - 1))
                abort();
        }
    }
    free(buf);
    return 0;
}
