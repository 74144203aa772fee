/* sm4_x86_batch_internal.h — the body of an x86 SM4-CTR path, for sm4_x86.c only, which includes
 * it once per way of computing AESENCLAST on a 256-bit register (VAES, or AES-NI on each half):
 * the same code is compiled for each instruction set, because a function may only be inlined
 * into one compiled for the same (or a larger) set. Before including it, define:
 *
 *   SM4_X86_ATTR          the target attribute of the path's functions
 *   SM4_X86_NAME(n)       the path's name for n (n##_vaes_avx2, ...)
 *   SM4_X86_AESENCLAST(x) AESENCLAST of each 128-bit lane of x with a zero round key
 *
 * No include guard: included more than once on purpose.
 */
#define SM4_X86_INLINE static inline __attribute__((always_inline)) SM4_X86_ATTR

/* T(x ^ newest) = L(S(x ^ newest)) on each of the 8 words. */
SM4_X86_INLINE __m256i SM4_X86_NAME(round_t)(const consts_t *c, __m256i x, __m256i newest)
{
    x = _mm256_xor_si256(x, newest);
    __m256i lo = _mm256_and_si256(x, c->m0f);
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), c->m0f);
    x = _mm256_xor_si256(_mm256_shuffle_epi8(c->pre_lo, lo), _mm256_shuffle_epi8(c->pre_hi, hi));
    x = _mm256_shuffle_epi8(x, c->inv_shift_rows);
    x = SM4_X86_AESENCLAST(x);
    lo = _mm256_and_si256(x, c->m0f);
    hi = _mm256_and_si256(_mm256_srli_epi16(x, 4), c->m0f);
    x = _mm256_xor_si256(_mm256_shuffle_epi8(c->post_lo, lo), _mm256_shuffle_epi8(c->post_hi, hi));
    __m256i t =
        _mm256_xor_si256(x, _mm256_xor_si256(_mm256_shuffle_epi8(x, c->rol8), _mm256_shuffle_epi8(x, c->rol16)));
    t = _mm256_or_si256(_mm256_slli_epi32(t, 2), _mm256_srli_epi32(t, 30));
    return _mm256_xor_si256(_mm256_xor_si256(x, _mm256_shuffle_epi8(x, c->rol24)), t); /* t's chain is longest */
}

/* One round on every group: a ^= T(b ^ c ^ d ^ k), d being the word the previous round made, so
 * it joins last and the other XORs are off the chain. */
#undef SM4_ROUND
#define SM4_ROUND(a, b, c, d, key)                                                                                     \
    do {                                                                                                               \
        __m256i k_ = _mm256_set1_epi32((int)(key));                                                                    \
        _Pragma("GCC unroll 8") for (int g = 0; g < SM4_GROUPS; g++) a[g] = _mm256_xor_si256(                          \
            a[g], SM4_X86_NAME(round_t)(c_, _mm256_xor_si256(_mm256_xor_si256(b[g], c[g]), k_), d[g]));                \
    } while (0)

/* SM4_BATCH bytes: the key stream of counters (hi, lo) + 0, 1, ... XORed over in. */
static void SM4_X86_ATTR SM4_X86_NAME(ctr_batch)(const consts_t *c_, const uint32_t *rk, uint64_t hi, uint64_t lo,
                                                 const uint8_t *in, uint8_t *out)
{
    __m256i x0[SM4_GROUPS], x1[SM4_GROUPS], x2[SM4_GROUPS], x3[SM4_GROUPS];

    if ((uint32_t)lo <= UINT32_MAX - (8 * SM4_GROUPS - 1)) {
        /* the usual case: only the lowest word changes within the batch */
        __m256i step = _mm256_set1_epi32(8),
                low = _mm256_add_epi32(_mm256_set1_epi32((int)(uint32_t)lo), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        for (int g = 0; g < SM4_GROUPS; g++) {
            x0[g] = _mm256_set1_epi32((int)(uint32_t)(hi >> 32));
            x1[g] = _mm256_set1_epi32((int)(uint32_t)hi);
            x2[g] = _mm256_set1_epi32((int)(uint32_t)(lo >> 32));
            x3[g] = low;
            low = _mm256_add_epi32(low, step);
        }
    } else {
        uint32_t w[4][8 * SM4_GROUPS] __attribute__((aligned(32)));
        for (unsigned j = 0; j < 8 * SM4_GROUPS; j++) {
            uint64_t l = lo + j, h = hi + (l < lo);
            w[0][j] = (uint32_t)(h >> 32);
            w[1][j] = (uint32_t)h;
            w[2][j] = (uint32_t)(l >> 32);
            w[3][j] = (uint32_t)l;
        }
        for (int g = 0; g < SM4_GROUPS; g++) {
            x0[g] = _mm256_load_si256((const __m256i *)(w[0] + 8 * g));
            x1[g] = _mm256_load_si256((const __m256i *)(w[1] + 8 * g));
            x2[g] = _mm256_load_si256((const __m256i *)(w[2] + 8 * g));
            x3[g] = _mm256_load_si256((const __m256i *)(w[3] + 8 * g));
        }
    }
    for (int i = 0; i < 32; i += 4) {
        SM4_ROUND(x0, x1, x2, x3, rk[i]);
        SM4_ROUND(x1, x2, x3, x0, rk[i + 1]);
        SM4_ROUND(x2, x3, x0, x1, rk[i + 2]);
        SM4_ROUND(x3, x0, x1, x2, rk[i + 3]);
    }
    for (int g = 0; g < SM4_GROUPS; g++)
        xor_out(c_, x3[g], x2[g], x1[g], x0[g], in + 128 * g, out + 128 * g);
}

void SM4_X86_ATTR SM4_X86_NAME(yc_sm4_ctr)(const uint32_t rk[32], const uint8_t iv[16], const uint8_t *in, uint8_t *out,
                                           size_t n)
{
    consts_t c;
    uint64_t hi = load_be64(iv), lo = load_be64(iv + 8);

    consts_init(&c);
    for (; n >= SM4_BATCH; n -= SM4_BATCH, in += SM4_BATCH, out += SM4_BATCH) {
        SM4_X86_NAME(ctr_batch)(&c, rk, hi, lo, in, out);
        lo += SM4_BATCH / 16;
        hi += lo < SM4_BATCH / 16; /* the low half wrapped */
    }
    if (n > 0) {
        uint8_t buf[SM4_BATCH] = {0};
        memcpy(buf, in, n);
        SM4_X86_NAME(ctr_batch)(&c, rk, hi, lo, buf, buf);
        memcpy(out, buf, n);
        explicit_bzero(buf, sizeof(buf)); /* the rest is key stream */
    }
    _mm256_zeroupper();
}
#undef SM4_X86_INLINE
#undef SM4_X86_ATTR
#undef SM4_X86_NAME
#undef SM4_X86_AESENCLAST
