/* version_id.c — version id text (see version_id.h). */
#include "gateway/s3/version_id.h"
#include <string.h>

static int hex_digit(char c)
{
    /* lowercase only: the text is what the server wrote, and ids compare as text in markers */
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int s3_version_id_is_null(const uint8_t vid[S3_VERSION_ID_LEN])
{
    for (size_t i = 0; i < S3_VERSION_ID_LEN; i++)
        if (vid[i] != 0)
            return 0;
    return 1;
}

int s3_version_id_parse(h2o_iovec_t text, uint8_t vid[S3_VERSION_ID_LEN])
{
    if (text.len == 4 && memcmp(text.base, "null", 4) == 0) {
        memset(vid, 0, S3_VERSION_ID_LEN);
        return 0;
    }
    if (text.len != 2 * S3_VERSION_ID_LEN)
        return -1;
    for (size_t i = 0; i < S3_VERSION_ID_LEN; i++) {
        int hi = hex_digit(text.base[2 * i]), lo = hex_digit(text.base[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        vid[i] = (uint8_t)(hi << 4 | lo);
    }
    return s3_version_id_is_null(vid) ? -1 : 0;
}

size_t s3_version_id_format(const uint8_t vid[S3_VERSION_ID_LEN], char out[S3_VERSION_ID_TEXT_MAX])
{
    static const char digits[] = "0123456789abcdef";

    if (s3_version_id_is_null(vid)) {
        memcpy(out, "null", 5);
        return 4;
    }
    for (size_t i = 0; i < S3_VERSION_ID_LEN; i++) {
        out[2 * i] = digits[vid[i] >> 4];
        out[2 * i + 1] = digits[vid[i] & 15];
    }
    out[2 * S3_VERSION_ID_LEN] = '\0';
    return 2 * S3_VERSION_ID_LEN;
}
