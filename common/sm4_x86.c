/* sm4_x86.c — SM4-CTR on x86-64, 32 blocks at a time, the S-box computed by the AES unit.
 *
 * Why the AES unit can compute SM4's S-box. Both S-boxes are an inversion in a field of 256
 * elements between two affine maps over GF(2)^8 (bit 0 is a byte's least significant bit):
 *
 *   SM4:  S(x)   = A·I(A·x + C) + C,  I = inversion modulo f(t) = t^8+t^7+t^6+t^5+t^4+t^2+1 (0x1f5),
 *         A the circulant matrix whose row i is 0xa7 rotated left by i bits, C = 0xd3;
 *   AES:  Saes(y) = B·J(y) + 0x63,    J = inversion modulo g(t) = t^8+t^4+t^3+t+1 (0x11b),
 *         B the circulant matrix of x ^ x<<<1 ^ x<<<2 ^ x<<<3 ^ x<<<4.
 *
 * All fields of 256 elements are isomorphic, and an isomorphism is GF(2)-linear: pick a root b
 * of f in the AES field (f has eight there; b = 0x23 is the first), and let T map t^i to b^i
 * (the columns of T are 1, b, b^2, ..., b^7 computed modulo g). Then T(u·v) = T(u)·T(v), so
 * I(z) = T^-1·J(T·z), and J(y) = B^-1·(Saes(y) + 0x63). Substituting:
 *
 *   S(x) = M2·Saes(M1·x + c1) + c2   with  M1 = T·A,  c1 = T·C,
 *                                          M2 = A·T^-1·B^-1,  c2 = M2·0x63 + C.
 *
 * With b = 0x23 the columns of T are 01 23 69 34 86 fa 67 fd, those of M1 8c 30 85 9f dc 2e c5
 * 08 (c1 = 0x3e) and those of M2 b8 ca 3e 67 e0 50 9d c0 (c2 = 0x6c). The equation was checked
 * for all 256 inputs against the standard's S-box when the tables were made, and every run of
 * tests/unit/test_sm4.c checks it again against OpenSSL.
 *
 * An affine map of a byte is the XOR of the images of its two nibbles, so each is two 16-entry
 * tables (the constant folded into the low one) and two PSHUFB lookups: 32 bytes at once. Saes
 * is AESENCLAST with a zero round key, on both 128-bit lanes at once with VAES (path "vaes-avx2")
 * or on each with AES-NI (path "aesni-avx2", for CPUs without VAES: Zen 1 and 2, Hygon, Intel
 * before Ice Lake). AESENCLAST also applies ShiftRows, which moves bytes between the words, so
 * a PSHUFB with the inverse permutation first puts each byte where ShiftRows returns it. Then L,
 * on little-endian words: L(x) = x ^ x<<<24 ^ (x ^ x<<<8 ^ x<<<16)<<<2, byte rotations by PSHUFB.
 *
 * The blocks are transposed: register Xi holds word i of 8 blocks, so a round is the same
 * instructions for all of them, and four such groups (32 blocks) are in flight to hide the
 * latencies. The CTR counters are made directly in that form (the 128-bit counter's words are
 * the blocks' words); only the output is transposed back. No table is indexed by secret data.
 */
#if defined(__x86_64__)
#include "common/sm4_internal.h"
#include <immintrin.h>
#include <string.h>

/* what both paths share needs AVX2 only, so that it inlines into each */
#define X86_INLINE static inline __attribute__((always_inline, target("avx2")))

typedef struct {
    __m256i m0f, pre_lo, pre_hi, post_lo, post_hi, inv_shift_rows, rol8, rol16, rol24, bswap;
} consts_t;

#define REPEAT2(...) __VA_ARGS__, __VA_ARGS__

X86_INLINE void consts_init(consts_t *c)
{
    c->m0f = _mm256_set1_epi8(0x0f);
    /* M1·n ^ c1 and M1·(n << 4) for each nibble n */
    c->pre_lo = _mm256_setr_epi8(REPEAT2(0x3e, (char)0xb2, 0x0e, (char)0x82, (char)0xbb, 0x37, (char)0x8b, 0x07,
                                         (char)0xa1, 0x2d, (char)0x91, 0x1d, 0x24, (char)0xa8, 0x14, (char)0x98));
    c->pre_hi = _mm256_setr_epi8(REPEAT2(0x00, (char)0xdc, 0x2e, (char)0xf2, (char)0xc5, 0x19, (char)0xeb, 0x37, 0x08,
                                         (char)0xd4, 0x26, (char)0xfa, (char)0xcd, 0x11, (char)0xe3, 0x3f));
    /* M2·n ^ c2 and M2·(n << 4) */
    c->post_lo = _mm256_setr_epi8(REPEAT2(0x6c, (char)0xd4, (char)0xa6, 0x1e, 0x52, (char)0xea, (char)0x98, 0x20, 0x0b,
                                          (char)0xb3, (char)0xc1, 0x79, 0x35, (char)0x8d, (char)0xff, 0x47));
    c->post_hi = _mm256_setr_epi8(REPEAT2(0x00, (char)0xe0, 0x50, (char)0xb0, (char)0x9d, 0x7d, (char)0xcd, 0x2d,
                                          (char)0xc0, 0x20, (char)0x90, 0x70, 0x5d, (char)0xbd, 0x0d, (char)0xed));
    c->inv_shift_rows = _mm256_setr_epi8(REPEAT2(0, 13, 10, 7, 4, 1, 14, 11, 8, 5, 2, 15, 12, 9, 6, 3));
    c->rol8 = _mm256_setr_epi8(REPEAT2(3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14));
    c->rol16 = _mm256_setr_epi8(REPEAT2(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
    c->rol24 = _mm256_setr_epi8(REPEAT2(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12));
    c->bswap = _mm256_setr_epi8(REPEAT2(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12));
}

/* Blocks e = 0..7 of one group: the output words (x3, x2, x1, x0) of block e are element e of
 * each register. Transposes them back into 8 big-endian blocks and XORs them over in. */
X86_INLINE void xor_out(const consts_t *c, __m256i x3, __m256i x2, __m256i x1, __m256i x0, const uint8_t *in,
                        uint8_t *out)
{
    __m256i t0 = _mm256_unpacklo_epi32(x3, x2), t1 = _mm256_unpacklo_epi32(x1, x0);
    __m256i t2 = _mm256_unpackhi_epi32(x3, x2), t3 = _mm256_unpackhi_epi32(x1, x0);
    __m256i b04 = _mm256_shuffle_epi8(_mm256_unpacklo_epi64(t0, t1), c->bswap);
    __m256i b15 = _mm256_shuffle_epi8(_mm256_unpackhi_epi64(t0, t1), c->bswap);
    __m256i b26 = _mm256_shuffle_epi8(_mm256_unpacklo_epi64(t2, t3), c->bswap);
    __m256i b37 = _mm256_shuffle_epi8(_mm256_unpackhi_epi64(t2, t3), c->bswap);
    __m256i ks[4] = {_mm256_permute2x128_si256(b04, b15, 0x20), _mm256_permute2x128_si256(b26, b37, 0x20),
                     _mm256_permute2x128_si256(b04, b15, 0x31), _mm256_permute2x128_si256(b26, b37, 0x31)};
    for (int i = 0; i < 4; i++) {
        __m256i d = _mm256_loadu_si256((const __m256i *)(in + 32 * i));
        _mm256_storeu_si256((__m256i *)(out + 32 * i), _mm256_xor_si256(d, ks[i]));
    }
}

/* Groups of 8 blocks in flight: a round's chain of dependent instructions is long (the AES
 * instruction alone takes several cycles), so with fewer groups the CPU waits; with four, the
 * 16 registers hold the state and the constants come from memory operands. */
#ifndef SM4_GROUPS
#define SM4_GROUPS 4
#endif
#define SM4_BATCH (SM4_GROUPS * 8 * 16)

static inline uint64_t load_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* AESENCLAST on each 128-bit half, for CPUs with AES-NI but not VAES (Zen 1 and 2, Hygon, Intel
 * before Ice Lake). */
static inline __attribute__((always_inline, target("avx2,aes"))) __m256i aesenclast_halves(__m256i x)
{
    __m128i zero = _mm_setzero_si128();
    __m128i lo = _mm_aesenclast_si128(_mm256_castsi256_si128(x), zero);
    __m128i hi = _mm_aesenclast_si128(_mm256_extracti128_si256(x, 1), zero);
    return _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
}

#define SM4_X86_ATTR          __attribute__((target("avx2,aes,vaes")))
#define SM4_X86_NAME(n)       n##_vaes_avx2 /* defines yc_sm4_ctr_vaes_avx2 */
#define SM4_X86_AESENCLAST(x) _mm256_aesenclast_epi128((x), _mm256_setzero_si256())
#include "common/sm4_x86_batch_internal.h"

#define SM4_X86_ATTR          __attribute__((target("avx2,aes")))
#define SM4_X86_NAME(n)       n##_aesni_avx2 /* defines yc_sm4_ctr_aesni_avx2 */
#define SM4_X86_AESENCLAST(x) aesenclast_halves(x)
#include "common/sm4_x86_batch_internal.h"

int yc_sm4_vaes_avx2_supported(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("aes") && __builtin_cpu_supports("vaes");
}

int yc_sm4_aesni_avx2_supported(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("aes");
}
#endif
