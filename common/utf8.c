/* utf8.c — strict UTF-8 decoding (utf8.h). */
#include "common/utf8.h"

size_t yc_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    uint32_t v, min;
    size_t len;

    if (c < 0x80) {
        if (cp != NULL)
            *cp = c;
        return 1;
    }
    /* 0xc0, 0xc1 only start overlong forms and 0xf5.. only values past U+10FFFF: refused by the
     * checks below as well, but cheaper here */
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, v = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, v = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, v = c & 0x07, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    if (cp != NULL)
        *cp = v;
    return len;
}

int yc_utf8_valid(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t len = yc_utf8_seq(s + i, n - i, NULL);
        if (len == 0)
            return 0;
        i += len;
    }
    return 1;
}
