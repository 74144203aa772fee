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
 * holds H..H^8 byte-reversed (ghash.c).
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

X86 void yc_ghash_blocks_pclmul(const yc_ghash_key *k, uint8_t x[16], const uint8_t *in, size_t nblocks)
{
    const __m128i bswap = _mm_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    __m128i y = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)x), bswap);

    while (nblocks > 0) {
        size_t m = nblocks < 8 ? nblocks : 8;
        __m128i lo = _mm_setzero_si128(), mid = lo, hi = lo;
        for (size_t j = 0; j < m; j++) {
            __m128i b = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in + 16 * j)), bswap);
            if (j == 0)
                b = _mm_xor_si128(b, y);
            mul_acc(b, _mm_load_si128((const __m128i *)k->pow[m - 1 - j]), &lo, &mid, &hi);
        }
        y = reduce(lo, mid, hi);
        in += 16 * m;
        nblocks -= m;
    }
    _mm_storeu_si128((__m128i *)x, _mm_shuffle_epi8(y, bswap));
}
#endif
