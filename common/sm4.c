/* sm4.c — SM4 (GB/T 32907-2016): key schedule, one block, CTR, and the choice of a fast path.
 *
 * SM4 is a 32-round unbalanced Feistel network on four 32-bit big-endian words: each round
 * replaces X0 by X0 ^ T(X1 ^ X2 ^ X3 ^ rk), where T applies the 8-bit S-box to each byte and then
 * the linear map L(B) = B ^ B<<<2 ^ B<<<10 ^ B<<<18 ^ B<<<24. The output is the last four words in
 * reverse order; decryption is the same with the round keys reversed. The key schedule is the
 * same network with the constants FK and CK and L'(B) = B ^ B<<<13 ^ B<<<23.
 *
 * The portable path here computes T with one table of 256 words (L is linear and commutes with
 * rotation, so T(x) is four lookups of the same table, rotated). CTR has faster paths on CPUs
 * with AES instructions (sm4_x86.c, sm4_arm64.c); the choice is made once, at the first call,
 * and kept in one atomic pointer (the only mutable state, changed afterwards only by tests
 * through yc_sm4_use_impl).
 */
#include "common/sm4.h"
#include "common/sm4_internal.h"
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

/* The S-box as printed in the standard, in its rows of 16. */
/* clang-format off */
const uint8_t yc_sm4_sbox[256] __attribute__((aligned(16))) = {
    0xd6, 0x90, 0xe9, 0xfe, 0xcc, 0xe1, 0x3d, 0xb7, 0x16, 0xb6, 0x14, 0xc2, 0x28, 0xfb, 0x2c, 0x05,
    0x2b, 0x67, 0x9a, 0x76, 0x2a, 0xbe, 0x04, 0xc3, 0xaa, 0x44, 0x13, 0x26, 0x49, 0x86, 0x06, 0x99,
    0x9c, 0x42, 0x50, 0xf4, 0x91, 0xef, 0x98, 0x7a, 0x33, 0x54, 0x0b, 0x43, 0xed, 0xcf, 0xac, 0x62,
    0xe4, 0xb3, 0x1c, 0xa9, 0xc9, 0x08, 0xe8, 0x95, 0x80, 0xdf, 0x94, 0xfa, 0x75, 0x8f, 0x3f, 0xa6,
    0x47, 0x07, 0xa7, 0xfc, 0xf3, 0x73, 0x17, 0xba, 0x83, 0x59, 0x3c, 0x19, 0xe6, 0x85, 0x4f, 0xa8,
    0x68, 0x6b, 0x81, 0xb2, 0x71, 0x64, 0xda, 0x8b, 0xf8, 0xeb, 0x0f, 0x4b, 0x70, 0x56, 0x9d, 0x35,
    0x1e, 0x24, 0x0e, 0x5e, 0x63, 0x58, 0xd1, 0xa2, 0x25, 0x22, 0x7c, 0x3b, 0x01, 0x21, 0x78, 0x87,
    0xd4, 0x00, 0x46, 0x57, 0x9f, 0xd3, 0x27, 0x52, 0x4c, 0x36, 0x02, 0xe7, 0xa0, 0xc4, 0xc8, 0x9e,
    0xea, 0xbf, 0x8a, 0xd2, 0x40, 0xc7, 0x38, 0xb5, 0xa3, 0xf7, 0xf2, 0xce, 0xf9, 0x61, 0x15, 0xa1,
    0xe0, 0xae, 0x5d, 0xa4, 0x9b, 0x34, 0x1a, 0x55, 0xad, 0x93, 0x32, 0x30, 0xf5, 0x8c, 0xb1, 0xe3,
    0x1d, 0xf6, 0xe2, 0x2e, 0x82, 0x66, 0xca, 0x60, 0xc0, 0x29, 0x23, 0xab, 0x0d, 0x53, 0x4e, 0x6f,
    0xd5, 0xdb, 0x37, 0x45, 0xde, 0xfd, 0x8e, 0x2f, 0x03, 0xff, 0x6a, 0x72, 0x6d, 0x6c, 0x5b, 0x51,
    0x8d, 0x1b, 0xaf, 0x92, 0xbb, 0xdd, 0xbc, 0x7f, 0x11, 0xd9, 0x5c, 0x41, 0x1f, 0x10, 0x5a, 0xd8,
    0x0a, 0xc1, 0x31, 0x88, 0xa5, 0xcd, 0x7b, 0xbd, 0x2d, 0x74, 0xd0, 0x12, 0xb8, 0xe5, 0xb4, 0xb0,
    0x89, 0x69, 0x97, 0x4a, 0x0c, 0x96, 0x77, 0x7e, 0x65, 0xb9, 0xf1, 0x09, 0xc5, 0x6e, 0xc6, 0x84,
    0x18, 0xf0, 0x7d, 0xec, 0x3a, 0xdc, 0x4d, 0x20, 0x79, 0xee, 0x5f, 0x3e, 0xd7, 0xcb, 0x39, 0x48,
};
/* clang-format on */

/* sm4_t_table[b] = L(S(b) << 24): the contribution of the top byte to T; a byte in another
 * position contributes the same word rotated right by 8 per position. */
/* clang-format off */
static const uint32_t sm4_t_table[256] = {
    0x8ed55b5b, 0xd0924242, 0x4deaa7a7, 0x06fdfbfb, 0xfccf3333, 0x65e28787, 0xc93df4f4, 0x6bb5dede,
    0x4e165858, 0x6eb4dada, 0x44145050, 0xcac10b0b, 0x8828a0a0, 0x17f8efef, 0x9c2cb0b0, 0x11051414,
    0x872bacac, 0xfb669d9d, 0xf2986a6a, 0xae77d9d9, 0x822aa8a8, 0x46bcfafa, 0x14041010, 0xcfc00f0f,
    0x02a8aaaa, 0x54451111, 0x5f134c4c, 0xbe269898, 0x6d482525, 0x9e841a1a, 0x1e061818, 0xfd9b6666,
    0xec9e7272, 0x4a430909, 0x10514141, 0x24f7d3d3, 0xd5934646, 0x53ecbfbf, 0xf89a6262, 0x927be9e9,
    0xff33cccc, 0x04555151, 0x270b2c2c, 0x4f420d0d, 0x59eeb7b7, 0xf3cc3f3f, 0x1caeb2b2, 0xea638989,
    0x74e79393, 0x7fb1cece, 0x6c1c7070, 0x0daba6a6, 0xedca2727, 0x28082020, 0x48eba3a3, 0xc1975656,
    0x80820202, 0xa3dc7f7f, 0xc4965252, 0x12f9ebeb, 0xa174d5d5, 0xb38d3e3e, 0xc33ffcfc, 0x3ea49a9a,
    0x5b461d1d, 0x1b071c1c, 0x3ba59e9e, 0x0cfff3f3, 0x3ff0cfcf, 0xbf72cdcd, 0x4b175c5c, 0x52b8eaea,
    0x8f810e0e, 0x3d586565, 0xcc3cf0f0, 0x7d196464, 0x7ee59b9b, 0x91871616, 0x734e3d3d, 0x08aaa2a2,
    0xc869a1a1, 0xc76aadad, 0x85830606, 0x7ab0caca, 0xb570c5c5, 0xf4659191, 0xb2d96b6b, 0xa7892e2e,
    0x18fbe3e3, 0x47e8afaf, 0x330f3c3c, 0x674a2d2d, 0xb071c1c1, 0x0e575959, 0xe99f7676, 0xe135d4d4,
    0x661e7878, 0xb4249090, 0x360e3838, 0x265f7979, 0xef628d8d, 0x38596161, 0x95d24747, 0x2aa08a8a,
    0xb1259494, 0xaa228888, 0x8c7df1f1, 0xd73becec, 0x05010404, 0xa5218484, 0x9879e1e1, 0x9b851e1e,
    0x84d75353, 0x00000000, 0x5e471919, 0x0b565d5d, 0xe39d7e7e, 0x9fd04f4f, 0xbb279c9c, 0x1a534949,
    0x7c4d3131, 0xee36d8d8, 0x0a020808, 0x7be49f9f, 0x20a28282, 0xd4c71313, 0xe8cb2323, 0xe69c7a7a,
    0x42e9abab, 0x43bdfefe, 0xa2882a2a, 0x9ad14b4b, 0x40410101, 0xdbc41f1f, 0xd838e0e0, 0x61b7d6d6,
    0x2fa18e8e, 0x2bf4dfdf, 0x3af1cbcb, 0xf6cd3b3b, 0x1dfae7e7, 0xe5608585, 0x41155454, 0x25a38686,
    0x60e38383, 0x16acbaba, 0x295c7575, 0x34a69292, 0xf7996e6e, 0xe434d0d0, 0x721a6868, 0x01545555,
    0x19afb6b6, 0xdf914e4e, 0xfa32c8c8, 0xf030c0c0, 0x21f6d7d7, 0xbc8e3232, 0x75b3c6c6, 0x6fe08f8f,
    0x691d7474, 0x2ef5dbdb, 0x6ae18b8b, 0x962eb8b8, 0x8a800a0a, 0xfe679999, 0xe2c92b2b, 0xe0618181,
    0xc0c30303, 0x8d29a4a4, 0xaf238c8c, 0x07a9aeae, 0x390d3434, 0x1f524d4d, 0x764f3939, 0xd36ebdbd,
    0x81d65757, 0xb7d86f6f, 0xeb37dcdc, 0x51441515, 0xa6dd7b7b, 0x09fef7f7, 0xb68c3a3a, 0x932fbcbc,
    0x0f030c0c, 0x03fcffff, 0xc26ba9a9, 0xba73c9c9, 0xd96cb5b5, 0xdc6db1b1, 0x375a6d6d, 0x15504545,
    0xb98f3636, 0x771b6c6c, 0x13adbebe, 0xda904a4a, 0x57b9eeee, 0xa9de7777, 0x4cbef2f2, 0x837efdfd,
    0x55114444, 0xbdda6767, 0x2c5d7171, 0x45400505, 0x631f7c7c, 0x50104040, 0x325b6969, 0xb8db6363,
    0x220a2828, 0xc5c20707, 0xf531c4c4, 0xa88a2222, 0x31a79696, 0xf9ce3737, 0x977aeded, 0x49bff6f6,
    0x992db4b4, 0xa475d1d1, 0x90d34343, 0x5a124848, 0x58bae2e2, 0x71e69797, 0x64b6d2d2, 0x70b2c2c2,
    0xad8b2626, 0xcd68a5a5, 0xcb955e5e, 0x624b2929, 0x3c0c3030, 0xce945a5a, 0xab76dddd, 0x867ff9f9,
    0xf1649595, 0x5dbbe6e6, 0x35f2c7c7, 0x2d092424, 0xd1c61717, 0xd66fb9b9, 0xdec51b1b, 0x94861212,
    0x78186060, 0x30f3c3c3, 0x897cf5f5, 0x5cefb3b3, 0xd23ae8e8, 0xacdf7373, 0x794c3535, 0xa0208080,
    0x9d78e5e5, 0x56edbbbb, 0x235e7d7d, 0xc63ef8f8, 0x8bd45f5f, 0xe7c82f2f, 0xdd39e4e4, 0x68492121,
};
/* clang-format on */

static const uint32_t sm4_fk[4] = {0xa3b1bac6, 0x56aa3350, 0x677d9197, 0xb27022dc};

static inline uint32_t rotl32(uint32_t x, unsigned n)
{
    return (x << n) | (x >> (32 - n));
}

static inline uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline uint32_t sbox_word(uint32_t x)
{
    return (uint32_t)yc_sm4_sbox[x >> 24] << 24 | (uint32_t)yc_sm4_sbox[(x >> 16) & 0xff] << 16 |
           (uint32_t)yc_sm4_sbox[(x >> 8) & 0xff] << 8 | yc_sm4_sbox[x & 0xff];
}

static inline uint32_t round_t(uint32_t x)
{
    return sm4_t_table[x >> 24] ^ rotl32(sm4_t_table[(x >> 16) & 0xff], 24) ^ rotl32(sm4_t_table[(x >> 8) & 0xff], 16) ^
           rotl32(sm4_t_table[x & 0xff], 8);
}

void yc_sm4_set_key(yc_sm4_key *k, const uint8_t key[16])
{
    uint32_t x[4];

    for (int i = 0; i < 4; i++)
        x[i] = load_be32(key + 4 * i) ^ sm4_fk[i];
    for (int i = 0; i < 32; i++) {
        /* CK[i] byte j is (4i + j) * 7 mod 256 */
        uint32_t ck = 0;
        for (unsigned j = 0; j < 4; j++)
            ck = ck << 8 | (uint8_t)((4 * i + j) * 7);
        uint32_t b = sbox_word(x[(i + 1) & 3] ^ x[(i + 2) & 3] ^ x[(i + 3) & 3] ^ ck);
        x[i & 3] ^= b ^ rotl32(b, 13) ^ rotl32(b, 23);
        k->rk[i] = x[i & 3];
    }
    explicit_bzero(x, sizeof(x)); /* the last four round keys */
}

/* The 32 rounds on one block with the round keys in the order given (step +1 or -1). */
static void crypt_block(const uint32_t *rk, int step, const uint8_t in[16], uint8_t out[16])
{
    uint32_t x0 = load_be32(in), x1 = load_be32(in + 4), x2 = load_be32(in + 8), x3 = load_be32(in + 12);

    for (int i = 0; i < 32; i += 4, rk += 4 * step) {
        x0 ^= round_t(x1 ^ x2 ^ x3 ^ rk[0]);
        x1 ^= round_t(x2 ^ x3 ^ x0 ^ rk[step]);
        x2 ^= round_t(x3 ^ x0 ^ x1 ^ rk[2 * step]);
        x3 ^= round_t(x0 ^ x1 ^ x2 ^ rk[3 * step]);
    }
    store_be32(out, x3);
    store_be32(out + 4, x2);
    store_be32(out + 8, x1);
    store_be32(out + 12, x0);
}

void yc_sm4_encrypt_block(const yc_sm4_key *k, const uint8_t in[16], uint8_t out[16])
{
    crypt_block(k->rk, 1, in, out);
}

void yc_sm4_decrypt_block(const yc_sm4_key *k, const uint8_t in[16], uint8_t out[16])
{
    crypt_block(k->rk + 31, -1, in, out);
}

void yc_sm4_ctr_c(const uint32_t rk[32], const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t n)
{
    uint8_t ctr[16], ks[16];

    memcpy(ctr, iv, 16);
    while (n > 0) {
        size_t len = n < 16 ? n : 16;
        crypt_block(rk, 1, ctr, ks);
        for (size_t i = 0; i < len; i++)
            out[i] = in[i] ^ ks[i];
        in += len;
        out += len;
        n -= len;
        for (int i = 15; i >= 0 && ++ctr[i] == 0; i--) /* the carry runs through all 128 bits */
            ;
    }
    explicit_bzero(ks, sizeof(ks));
}

typedef struct {
    const char *name;
    int (*supported)(void);
    yc_sm4_ctr_fn ctr;
} sm4_impl_t;

static int always(void)
{
    return 1;
}

/* Fastest first: the automatic choice is the first the CPU can run. */
static const sm4_impl_t sm4_impls[] = {
#if defined(__x86_64__)
    {"vaes-avx2", yc_sm4_vaes_avx2_supported, yc_sm4_ctr_vaes_avx2},
    {"aesni-avx2", yc_sm4_aesni_avx2_supported, yc_sm4_ctr_aesni_avx2},
#endif
#if defined(__aarch64__)
    {"arm64-sm4e", yc_sm4_arm64_sm4e_supported, yc_sm4_ctr_arm64_sm4e},
    {"arm64-neon", yc_sm4_arm64_neon_supported, yc_sm4_ctr_arm64_neon},
#endif
    {"c", always, yc_sm4_ctr_c},
};

static _Atomic(const sm4_impl_t *) sm4_current;

static const sm4_impl_t *best_impl(void)
{
    size_t i = 0;
    while (!sm4_impls[i].supported())
        i++; /* the last one always is */
    return &sm4_impls[i];
}

static const sm4_impl_t *current_impl(void)
{
    const sm4_impl_t *impl = atomic_load_explicit(&sm4_current, memory_order_relaxed);
    if (impl == NULL) { /* two threads may both choose: they choose the same */
        impl = best_impl();
        atomic_store_explicit(&sm4_current, impl, memory_order_relaxed);
    }
    return impl;
}

void yc_sm4_ctr(const yc_sm4_key *k, const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t n)
{
    current_impl()->ctr(k->rk, iv, in, out, n);
}

const char *yc_sm4_impl(void)
{
    return current_impl()->name;
}

const char *yc_sm4_impl_best(void)
{
    return best_impl()->name;
}

int yc_sm4_use_impl(const char *name)
{
    for (size_t i = 0; i < sizeof(sm4_impls) / sizeof(sm4_impls[0]); i++) {
        if (strcmp(sm4_impls[i].name, name) == 0) {
            if (!sm4_impls[i].supported())
                return -ENOTSUP;
            atomic_store_explicit(&sm4_current, &sm4_impls[i], memory_order_relaxed);
            return 0;
        }
    }
    return -ENOTSUP;
}
