/* aes_gcm.c — AES-256-GCM with VAES (design in aes_gcm.h).
 *
 * The counter blocks J0 + 1, J0 + 2, ... are nonce || 32-bit big-endian counter, incremented
 * modulo 2^32 (GCM's inc32). They are kept with the counter word byte-swapped, so one 32-bit
 * vector add makes the next ones and wraps exactly as inc32 does; a PSHUFB swaps it back before
 * the first round. Sixteen blocks (eight 256-bit registers) go through the fourteen rounds
 * together: VAESENC takes about four cycles and the CPU can start two a cycle, so fewer
 * registers would leave it waiting. The round keys are loaded from the key as memory operands
 * (the registers hold the blocks).
 *
 * GHASH runs as a second pass over the ciphertext of the call (ghash.h): the blocks sealed here
 * are 64 KiB, in the core's L2 cache when read again. Opening hashes first and decrypts only once
 * the tag matched.
 */
#include "common/aes_gcm.h"
#include <errno.h>
#include <string.h>

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

#if defined(__x86_64__)
#include <immintrin.h>

#define AES_NI   __attribute__((target("aes,sse4.1")))
#define AES_VAES __attribute__((target("avx2,aes,vaes")))
#define BATCH    256 /* bytes: sixteen blocks */

int yc_aes256_gcm_available(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("aes") && __builtin_cpu_supports("vaes") &&
           __builtin_cpu_supports("vpclmulqdq") && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
}

/* FIPS 197's key expansion, four words at a time: w[i] = w[i-8] ^ (w[i-1] transformed), where t
 * carries the transformed word in every lane (AESKEYGENASSIST then a broadcast). */
static inline __attribute__((always_inline)) AES_NI __m128i expand_step(__m128i prev, __m128i t)
{
    prev = _mm_xor_si128(prev, _mm_slli_si128(prev, 4));
    prev = _mm_xor_si128(prev, _mm_slli_si128(prev, 4));
    prev = _mm_xor_si128(prev, _mm_slli_si128(prev, 4));
    return _mm_xor_si128(prev, t);
}

/* rk[i] and rk[i+1] from the two before them; rcon is an immediate, hence the macro */
#define EXPAND_PAIR(rk, i, rcon)                                                                                       \
    do {                                                                                                               \
        rk[i] = expand_step(rk[i - 2], _mm_shuffle_epi32(_mm_aeskeygenassist_si128(rk[i - 1], rcon), 0xff));           \
        rk[i + 1] = expand_step(rk[i - 1], _mm_shuffle_epi32(_mm_aeskeygenassist_si128(rk[i], 0), 0xaa));              \
    } while (0)

static AES_NI void expand_key(const uint8_t key[32], __m128i rk[15])
{
    rk[0] = _mm_loadu_si128((const __m128i *)key);
    rk[1] = _mm_loadu_si128((const __m128i *)(key + 16));
    EXPAND_PAIR(rk, 2, 0x01);
    EXPAND_PAIR(rk, 4, 0x02);
    EXPAND_PAIR(rk, 6, 0x04);
    EXPAND_PAIR(rk, 8, 0x08);
    EXPAND_PAIR(rk, 10, 0x10);
    EXPAND_PAIR(rk, 12, 0x20);
    rk[14] = expand_step(rk[12], _mm_shuffle_epi32(_mm_aeskeygenassist_si128(rk[13], 0x40), 0xff)); /* the last */
}

/* One block with AES-NI: H and the tag's mask. */
static AES_NI void encrypt_block(const yc_aes256_gcm_key *k, const uint8_t in[16], uint8_t out[16])
{
    __m128i x = _mm_xor_si128(_mm_loadu_si128((const __m128i *)in), _mm_loadu_si128((const __m128i *)k->rk[0]));
    for (int r = 1; r < 14; r++)
        x = _mm_aesenc_si128(x, _mm_loadu_si128((const __m128i *)k->rk[r]));
    _mm_storeu_si128((__m128i *)out, _mm_aesenclast_si128(x, _mm_loadu_si128((const __m128i *)k->rk[14])));
}

int yc_aes256_gcm_init(yc_aes256_gcm_key *k, const uint8_t key[32])
{
    __m128i rk[15];
    uint8_t h[16] = {0};

    if (!yc_aes256_gcm_available())
        return -ENOTSUP;
    expand_key(key, rk);
    for (int r = 0; r < 15; r++) {
        _mm_storeu_si128((__m128i *)k->rk[r], rk[r]);
        _mm_storeu_si128((__m128i *)(k->rk[r] + 16), rk[r]);
    }
    explicit_bzero(rk, sizeof(rk));
    encrypt_block(k, h, h);
    yc_ghash_init(&k->ghash, h);
    explicit_bzero(h, sizeof(h));
    return 0;
}

/* BATCH bytes of in XORed with the key stream of the sixteen counters from *ctr (counter word
 * byte-swapped, see the top), into out; *ctr advances by sixteen. */
static inline __attribute__((always_inline)) AES_VAES void ctr_batch(const yc_aes256_gcm_key *k, __m256i *ctr,
                                                                     const uint8_t *in, uint8_t *out)
{
    const __m256i swap = _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 14, 13, 12, 0, 1, 2, 3, 4, 5, 6, 7,
                                          8, 9, 10, 11, 15, 14, 13, 12);
    const __m256i two = _mm256_setr_epi32(0, 0, 0, 2, 0, 0, 0, 2);
    const __m256i *rk = (const __m256i *)k->rk;
    __m256i x[8];

    /* unrolled, or the blocks live in memory and one VAESENC waits for the last */
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) {
        x[j] = _mm256_xor_si256(_mm256_shuffle_epi8(*ctr, swap), _mm256_loadu_si256(rk));
        *ctr = _mm256_add_epi32(*ctr, two);
    }
#pragma GCC unroll 13
    for (int r = 1; r < 14; r++) {
        __m256i key = _mm256_loadu_si256(rk + r);
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++)
            x[j] = _mm256_aesenc_epi128(x[j], key);
    }
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) {
        x[j] = _mm256_aesenclast_epi128(x[j], _mm256_loadu_si256(rk + 14));
        _mm256_storeu_si256((__m256i *)(out + 32 * j),
                            _mm256_xor_si256(x[j], _mm256_loadu_si256((const __m256i *)(in + 32 * j))));
    }
}

/* CTR from the counter block nonce || first (big-endian) over n bytes. */
static AES_VAES void ctr_crypt(const yc_aes256_gcm_key *k, const uint8_t nonce[12], uint32_t first, const uint8_t *in,
                               uint8_t *out, size_t n)
{
    uint8_t start[16];

    memcpy(start, nonce, 12);
    memcpy(start + 12, &first, 4); /* the counter word as a little-endian integer: swapped */
    __m128i s = _mm_loadu_si128((const __m128i *)start);
    /* lanes hold counters first and first + 1 */
    __m256i ctr = _mm256_add_epi32(_mm256_broadcastsi128_si256(s), _mm256_setr_epi32(0, 0, 0, 0, 0, 0, 0, 1));

    for (; n >= BATCH; n -= BATCH, in += BATCH, out += BATCH)
        ctr_batch(k, &ctr, in, out);
    if (n > 0) {
        uint8_t buf[BATCH] = {0};
        memcpy(buf, in, n);
        ctr_batch(k, &ctr, buf, buf);
        memcpy(out, buf, n);
        explicit_bzero(buf, sizeof(buf)); /* the rest is key stream */
    }
    _mm256_zeroupper();
}

/* The tag of aad and ciphertext c (n bytes) under nonce. */
static void tag_of(const yc_aes256_gcm_key *k, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                   const uint8_t *c, size_t n, uint8_t tag[16])
{
    uint8_t x[16] = {0}, lens[16], j0[16], mask[16];

    yc_ghash_update_padded(&k->ghash, x, aad, aad_len);
    yc_ghash_update_padded(&k->ghash, x, c, n);
    put_be64(lens, (uint64_t)aad_len * 8);
    put_be64(lens + 8, (uint64_t)n * 8);
    yc_ghash_update(&k->ghash, x, lens, 16);
    memcpy(j0, nonce, 12);
    j0[12] = j0[13] = j0[14] = 0;
    j0[15] = 1;
    encrypt_block(k, j0, mask);
    for (int i = 0; i < 16; i++)
        tag[i] = x[i] ^ mask[i];
}

void yc_aes256_gcm_seal(const yc_aes256_gcm_key *k, const uint8_t nonce[YC_AES_GCM_NONCE], const uint8_t *aad,
                        size_t aad_len, const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[YC_AES_GCM_TAG])
{
    ctr_crypt(k, nonce, 2, in, out, n);
    tag_of(k, nonce, aad, aad_len, out, n, tag);
}

int yc_aes256_gcm_open(const yc_aes256_gcm_key *k, const uint8_t nonce[YC_AES_GCM_NONCE], const uint8_t *aad,
                       size_t aad_len, const uint8_t *in, size_t n, const uint8_t tag[YC_AES_GCM_TAG], uint8_t *out)
{
    uint8_t want[16], diff = 0;

    tag_of(k, nonce, aad, aad_len, in, n, want);
    for (int i = 0; i < 16; i++) /* constant time: how much of a forged tag matched stays unknown */
        diff |= want[i] ^ tag[i];
    if (diff != 0)
        return -EBADMSG;
    ctr_crypt(k, nonce, 2, in, out, n);
    return 0;
}

#else /* no fast path: callers use OpenSSL */

int yc_aes256_gcm_available(void)
{
    return 0;
}

int yc_aes256_gcm_init(yc_aes256_gcm_key *k, const uint8_t key[32])
{
    (void)put_be64;
    memset(k, 0, sizeof(*k));
    return -ENOTSUP;
}

void yc_aes256_gcm_seal(const yc_aes256_gcm_key *k, const uint8_t nonce[YC_AES_GCM_NONCE], const uint8_t *aad,
                        size_t aad_len, const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[YC_AES_GCM_TAG])
{
    memset(out, 0, n);
    memset(tag, 0, YC_AES_GCM_TAG);
}

int yc_aes256_gcm_open(const yc_aes256_gcm_key *k, const uint8_t nonce[YC_AES_GCM_NONCE], const uint8_t *aad,
                       size_t aad_len, const uint8_t *in, size_t n, const uint8_t tag[YC_AES_GCM_TAG], uint8_t *out)
{
    return -EBADMSG;
}
#endif
