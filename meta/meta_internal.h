/* meta_internal.h — byte-order helpers shared by the key and record codecs of meta/.
 * Keys are big-endian (so bytewise order is numeric order); record fields are little-endian. */
#ifndef YC_META_INTERNAL_H
#define YC_META_INTERNAL_H
#include <stdint.h>

static inline void meta_put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline void meta_put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline uint64_t meta_get_be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static inline void meta_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline void meta_put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline uint32_t meta_get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t meta_get_le64(const uint8_t *p)
{
    return (uint64_t)meta_get_le32(p) | (uint64_t)meta_get_le32(p + 4) << 32;
}

#endif
