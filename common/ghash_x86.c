/* ghash_x86.c — GHASH with PCLMULQDQ, eight blocks per reduction.
 *
 * Blocks are byte-reversed on load, so that a block's bit j (as a 128-bit integer) is the
 * coefficient of x^(127-j): the polynomial reflected. The carry-less product of two reflected
 * 128-bit values is their product reflected in 255 bits; one shift left makes it 256 bits, whose
 * upper half holds the coefficients 0..127 and lower half 128..255, both reflected.
 *
 * Reduction modulo g = x^128 + x^7 + x^2 + x + 1: with the lower half L (coefficients 128..255)
 * and x^128 = 1 + x + x^2 + x^7, the result is U + L·(1 + x + x^2 + x^7). Multiplying by x^s is a
 * right shift by s in reflected form; the bits that fall off the bottom are coefficients 128 and
 * up again, folded once more: their "1" term lands in the top 64 bits (L's low word shifted left
 * by 63, 62 and 57, XORed into L's high word), and shifting that corrected L right by 1, 2 and 7
 * as a whole brings their other terms, which stay below x^14. So: L' = L with the fold, result =
 * U ^ L' ^ L'>>1 ^ L'>>2 ^ L'>>7.
 *
 * Aggregation: (Y ^ X1)·H^8 ^ X2·H^7 ^ ... ^ X8·H is the same as eight steps of Y = (Y ^ Xi)·H,
 * and the products are summed before the one shift and reduction (both are linear). The key
 * holds H..H^16 byte-reversed (ghash.c). With VPCLMULQDQ (path "vpclmul-avx2") each 256-bit
 * multiply takes two blocks and two powers at once, and the two lanes' sums are added before the
 * reduction: half the multiply instructions for the same blocks, and sixteen blocks per reduction.
 */
#if defined(__x86_64__)
#include "common/ghash_internal.h"
#include <immintrin.h>

#define X86        __attribute__((target("pclmul,ssse3,sse4.1")))
#define X86_INLINE static inline __attribute__((always_inline, target("pclmul,ssse3,sse4.1")))

int yc_ghash_pclmul_supported(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("ssse3") && __builtin_cpu_supports("sse4.1");
}

/* lo, mid, hi += a·b (the three parts of a 128x128 carry-less product) */
X86_INLINE void mul_acc(__m128i a, __m128i b, __m128i *lo, __m128i *mid, __m128i *hi)
{
    *lo = _mm_xor_si128(*lo, _mm_clmulepi64_si128(a, b, 0x00));
    *hi = _mm_xor_si128(*hi, _mm_clmulepi64_si128(a, b, 0x11));
    *mid = _mm_xor_si128(*mid, _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x01), _mm_clmulepi64_si128(a, b, 0x10)));
}

/* The 255-bit sum of products (lo, mid, hi) reduced modulo g: the reflected result. */
X86_INLINE __m128i reduce(__m128i lo, __m128i mid, __m128i hi)
{
    lo = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
    hi = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
    /* [hi:lo] <<= 1 across the four 64-bit words */
    __m128i clo = _mm_srli_epi64(lo, 63), chi = _mm_srli_epi64(hi, 63);
    lo = _mm_or_si128(_mm_slli_epi64(lo, 1), _mm_slli_si128(clo, 8));
    hi = _mm_or_si128(_mm_or_si128(_mm_slli_epi64(hi, 1), _mm_slli_si128(chi, 8)), _mm_srli_si128(clo, 8));
    /* fold what x, x^2 and x^7 push past x^127 (lo's low word) into lo's high word */
    __m128i f = _mm_xor_si128(_mm_xor_si128(_mm_slli_epi64(lo, 63), _mm_slli_epi64(lo, 62)), _mm_slli_epi64(lo, 57));
    lo = _mm_xor_si128(lo, _mm_slli_si128(f, 8));
    /* lo ^ lo>>1 ^ lo>>2 ^ lo>>7, as 128-bit shifts: word shifts plus the bits crossing words */
    __m128i r = _mm_xor_si128(_mm_xor_si128(_mm_srli_epi64(lo, 1), _mm_srli_epi64(lo, 2)), _mm_srli_epi64(lo, 7));
    __m128i c = _mm_xor_si128(_mm_xor_si128(_mm_slli_epi64(lo, 63), _mm_slli_epi64(lo, 62)), _mm_slli_epi64(lo, 57));
    r = _mm_xor_si128(r, _mm_srli_si128(c, 8));
    return _mm_xor_si128(_mm_xor_si128(hi, lo), r);
}

/* Folds the m blocks (1 <= m <= 8) at in into the reflected value y. */
X86_INLINE __m128i fold_blocks(const yc_ghash_key *k, __m128i y, const uint8_t *in, size_t m, __m128i bswap)
{
    __m128i lo = _mm_setzero_si128(), mid = lo, hi = lo;
    for (size_t j = 0; j < m; j++) {
        __m128i b = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in + 16 * j)), bswap);
        if (j == 0)
            b = _mm_xor_si128(b, y);
        mul_acc(b, _mm_load_si128((const __m128i *)k->pow[m - 1 - j]), &lo, &mid, &hi);
    }
    return reduce(lo, mid, hi);
}

X86 void yc_ghash_blocks_pclmul(const yc_ghash_key *k, uint8_t x[16], const uint8_t *in, size_t nblocks)
{
    const __m128i bswap = _mm_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    __m128i y = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)x), bswap);

    while (nblocks > 0) {
        size_t m = nblocks < 8 ? nblocks : 8;
        y = fold_blocks(k, y, in, m, bswap);
        in += 16 * m;
        nblocks -= m;
    }
    _mm_storeu_si128((__m128i *)x, _mm_shuffle_epi8(y, bswap));
}

#define VX86 __attribute__((target("pclmul,ssse3,sse4.1,avx2,vpclmulqdq")))

int yc_ghash_vpclmul_supported(void)
{
    __builtin_cpu_init();
    return yc_ghash_pclmul_supported() && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("vpclmulqdq");
}

/* The sum of the products of the 2m blocks at in (Y XORed into the first) with the powers pw
 * (H^(2m) .. H, two to a register), reduced: Y after 2m blocks. */
static inline __attribute__((always_inline)) VX86 __m128i fold_pairs(const __m256i *pw, int m, __m128i y,
                                                                     const uint8_t *in, __m256i bswap2)
{
    __m256i lo = _mm256_setzero_si256(), mid = lo, hi = lo;
#pragma GCC unroll 8
    for (int i = 0; i < m; i++) {
        __m256i b = _mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)(in + 32 * i)), bswap2);
        if (i == 0)
            b = _mm256_xor_si256(b, _mm256_zextsi128_si256(y));
        lo = _mm256_xor_si256(lo, _mm256_clmulepi64_epi128(b, pw[i], 0x00));
        hi = _mm256_xor_si256(hi, _mm256_clmulepi64_epi128(b, pw[i], 0x11));
        mid = _mm256_xor_si256(
            mid, _mm256_xor_si256(_mm256_clmulepi64_epi128(b, pw[i], 0x01), _mm256_clmulepi64_epi128(b, pw[i], 0x10)));
    }
    return reduce(_mm_xor_si128(_mm256_castsi256_si128(lo), _mm256_extracti128_si256(lo, 1)),
                  _mm_xor_si128(_mm256_castsi256_si128(mid), _mm256_extracti128_si256(mid, 1)),
                  _mm_xor_si128(_mm256_castsi256_si128(hi), _mm256_extracti128_si256(hi, 1)));
}

/* Sixteen blocks per reduction: the reduction and the XOR of Y into the next block are the one
 * chain from each group to the next, so the more blocks it covers the less the CPU waits on it. */
VX86 void yc_ghash_blocks_vpclmul(const yc_ghash_key *k, uint8_t x[16], const uint8_t *in, size_t nblocks)
{
    const __m128i bswap = _mm_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m256i bswap2 = _mm256_broadcastsi128_si256(bswap);
    /* the powers in pairs: blocks 2i and 2i+1 of sixteen take H^(16-2i) and H^(15-2i); the last
     * four pairs are those of eight blocks */
    __m256i pw[8];
    for (int i = 0; i < 8; i++)
        pw[i] = _mm256_set_m128i(_mm_load_si128((const __m128i *)k->pow[14 - 2 * i]),
                                 _mm_load_si128((const __m128i *)k->pow[15 - 2 * i]));
    __m128i y = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)x), bswap);

    for (; nblocks >= 16; nblocks -= 16, in += 256)
        y = fold_pairs(pw, 8, y, in, bswap2);
    if (nblocks >= 8) {
        y = fold_pairs(pw + 4, 4, y, in, bswap2);
        nblocks -= 8;
        in += 128;
    }
    if (nblocks > 0)
        y = fold_blocks(k, y, in, nblocks, bswap);
    _mm_storeu_si128((__m128i *)x, _mm_shuffle_epi8(y, bswap));
}
#endif
