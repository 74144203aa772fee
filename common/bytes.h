/* bytes.h — bytes as text and integers as bytes: hex and base64, little- and big-endian.
 *
 * Hex is lowercase when written. Read back, it is either case where a client or a peer may
 * spell it (yc_unhex), and lowercase only where every id has one spelling (yc_unhex_lower:
 * upload ids, identity files). Base64 is the standard alphabet with padding, read strictly: no
 * whitespace, padding only at the end, no bits under the padding, so that each value has one
 * spelling. Integers in records and on the wire are little-endian; big-endian is for keys, whose
 * bytes must sort as the numbers do.
 *
 * Part of common/ (libcommon.a, prefix yc_): small helpers every library may use and that use
 * none of them. It has one public header per concern (log, pool, listen, server, clock, id,
 * bytes, errors, cli) rather than one for the folder, because its parts are independent.
 */
#ifndef YC_COMMON_BYTES_H
#define YC_COMMON_BYTES_H
#include <stddef.h>
#include <stdint.h>

/* Writes the 2*len lowercase hex digits of in and a NUL into out (2*len + 1 bytes). */
void yc_hex(const uint8_t *in, size_t len, char *out);
/* The value of one hex digit of either case, or -1. */
int yc_hex_digit(char c);
/* Decodes the 2*len hex digits (either case) at in into the len bytes of out; -1 on a character
 * that is no hex digit (out then holds garbage). */
int yc_unhex(const char *in, size_t len, uint8_t *out);
/* Same, lowercase digits only. */
int yc_unhex_lower(const char *in, size_t len, uint8_t *out);

/* Length of the base64 of n bytes, without the NUL. */
#define YC_BASE64_LEN(n) (4 * (((size_t)(n) + 2) / 3))
/* Writes the base64 of in and a NUL into out (YC_BASE64_LEN(len) + 1 bytes); returns the length
 * without the NUL. */
size_t yc_base64_encode(const uint8_t *in, size_t len, char *out);
/* Decodes strict base64 (above) of len characters into out (cap bytes): 0 with the length in
 * *out_len, -1 when it is not base64 or does not fit. */
int yc_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len);

static inline void yc_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline void yc_put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline uint32_t yc_get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t yc_get_le64(const uint8_t *p)
{
    return (uint64_t)yc_get_le32(p) | (uint64_t)yc_get_le32(p + 4) << 32;
}

static inline void yc_put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline void yc_put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline uint32_t yc_get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline uint64_t yc_get_be64(const uint8_t *p)
{
    return (uint64_t)yc_get_be32(p) << 32 | (uint64_t)yc_get_be32(p + 4);
}

/* A decimal written as 1 to 19 ASCII digits and nothing else (no sign, blank or other byte): the
 * form of lengths, counts and offsets in headers, queries, documents and the store protocol.
 * Nineteen digits always fit in 64 bits. 0 with *out, or -EINVAL. */
int yc_decimal_u64(const char *s, size_t len, uint64_t *out);

#endif
