/* utf8.h — the one strict UTF-8 decoder (RFC 3629): no overlong forms, no UTF-16 surrogates,
 * nothing past U+10FFFF. Key names, tags, log lines, metric labels and access-log fields all
 * judge client bytes with it, so a byte string is UTF-8 to every one of them or to none.
 *
 * Part of common/ (libcommon.a, prefix yc_).
 */
#ifndef YC_COMMON_UTF8_H
#define YC_COMMON_UTF8_H
#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the well-formed sequence that starts s[0..n) (n >= 1), its code point in *cp
 * when cp is not NULL; 0 when the bytes there are not UTF-8 (a lone continuation byte, a lead
 * byte without its continuations, an overlong form, a surrogate, a value past U+10FFFF). */
size_t yc_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp);

/* 1 when s[0..n) is all well-formed UTF-8 (the empty string is), else 0. */
int yc_utf8_valid(const unsigned char *s, size_t n);

#endif
