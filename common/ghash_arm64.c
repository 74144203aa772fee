/* ghash_arm64.c — GHASH with the ARMv8 PMULL instruction (64x64 carry-less multiply, part of the
 * Crypto extension: Kunpeng 920, Phytium, Cortex-A53 and later), eight blocks per reduction.
 *
 * The same arithmetic as ghash_x86.c (see there): blocks byte-reversed into 128-bit integers (two
 * 64-bit lanes, lane 0 the low half), four partial products summed over eight blocks, one shift
 * left by one and one reduction modulo x^128 + x^7 + x^2 + x + 1 in reflected form.
 */
#if defined(__aarch64__)
#include "common/ghash_internal.h"
#include <arm_neon.h>
#include <asm/hwcap.h>
#include <sys/auxv.h>

#define PMULL_TARGET __attribute__((target("arch=armv8-a+crypto")))
#define PMULL_INLINE static inline __attribute__((always_inline, target("arch=armv8-a+crypto")))

int yc_ghash_pmull_supported(void)
{
    return (getauxval(AT_HWCAP) & HWCAP_PMULL) != 0;
}

/* A block's 16 bytes as the byte-reversed 128-bit integer, and back (the same permutation). */
PMULL_INLINE uint64x2_t reverse_block(uint8x16_t b)
{
    uint8x16_t r = vrev64q_u8(b);
    return vreinterpretq_u64_u8(vextq_u8(r, r, 8));
}

PMULL_INLINE uint64x2_t clmul(uint64x2_t a, int ia, uint64x2_t b, int ib)
{
    poly64_t x = (poly64_t)(ia ? vgetq_lane_u64(a, 1) : vgetq_lane_u64(a, 0));
    poly64_t y = (poly64_t)(ib ? vgetq_lane_u64(b, 1) : vgetq_lane_u64(b, 0));
    return vreinterpretq_u64_p128(vmull_p64(x, y));
}

/* [0, x lane 0] and [x lane 1, 0]: the 64-bit moves across the halves */
PMULL_INLINE uint64x2_t up64(uint64x2_t x)
{
    return vextq_u64(vdupq_n_u64(0), x, 1);
}

PMULL_INLINE uint64x2_t down64(uint64x2_t x)
{
    return vextq_u64(x, vdupq_n_u64(0), 1);
}

PMULL_INLINE uint64x2_t reduce(uint64x2_t lo, uint64x2_t mid, uint64x2_t hi)
{
    lo = veorq_u64(lo, up64(mid));
    hi = veorq_u64(hi, down64(mid));
    uint64x2_t clo = vshrq_n_u64(lo, 63), chi = vshrq_n_u64(hi, 63);
    lo = vorrq_u64(vshlq_n_u64(lo, 1), up64(clo));
    hi = vorrq_u64(vorrq_u64(vshlq_n_u64(hi, 1), up64(chi)), down64(clo));
    uint64x2_t f = veorq_u64(veorq_u64(vshlq_n_u64(lo, 63), vshlq_n_u64(lo, 62)), vshlq_n_u64(lo, 57));
    lo = veorq_u64(lo, up64(f));
    uint64x2_t r = veorq_u64(veorq_u64(vshrq_n_u64(lo, 1), vshrq_n_u64(lo, 2)), vshrq_n_u64(lo, 7));
    uint64x2_t c = veorq_u64(veorq_u64(vshlq_n_u64(lo, 63), vshlq_n_u64(lo, 62)), vshlq_n_u64(lo, 57));
    r = veorq_u64(r, down64(c));
    return veorq_u64(veorq_u64(hi, lo), r);
}

PMULL_TARGET void yc_ghash_blocks_pmull(const yc_ghash_key *k, uint8_t x[16], const uint8_t *in, size_t nblocks)
{
    uint64x2_t y = reverse_block(vld1q_u8(x));

    while (nblocks > 0) {
        size_t m = nblocks < 8 ? nblocks : 8;
        uint64x2_t lo = vdupq_n_u64(0), mid = lo, hi = lo;
        for (size_t j = 0; j < m; j++) {
            uint64x2_t b = reverse_block(vld1q_u8(in + 16 * j)), h = vld1q_u64(k->pow[m - 1 - j]);
            if (j == 0)
                b = veorq_u64(b, y);
            lo = veorq_u64(lo, clmul(b, 0, h, 0));
            hi = veorq_u64(hi, clmul(b, 1, h, 1));
            mid = veorq_u64(mid, veorq_u64(clmul(b, 0, h, 1), clmul(b, 1, h, 0)));
        }
        y = reduce(lo, mid, hi);
        in += 16 * m;
        nblocks -= m;
    }
    vst1q_u8(x, vreinterpretq_u8_u64(reverse_block(vreinterpretq_u8_u64(y))));
}
#endif
