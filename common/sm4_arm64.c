/* sm4_arm64.c — SM4-CTR on arm64, 8 blocks at a time, two ways.
 *
 * arm64-sm4e: the ARMv8.2 SM4 extension (HWCAP_SM4: Kunpeng 920, recent Cortex and Neoverse
 * cores; qemu's "max" CPU) does four rounds of one block in one SM4E instruction, the block's
 * words X0..X3 as lanes 0..3 of a register, the round keys as lanes of another; eight blocks are
 * in flight to hide the instruction's latency.
 *
 * arm64-neon: any arm64 CPU. The blocks are transposed (a register holds one word of 4 blocks,
 * two registers per word make 8 blocks), the S-box is four TBL/TBX lookups of 64 bytes each
 * into the 256-byte table held in 16 registers, and L is shifts with insert. No AES instruction
 * is needed and no table is indexed through memory.
 *
 * Both make the counter blocks directly as 32-bit words (the 128-bit big-endian counter's words
 * are the block's words), so only the output is byte-swapped.
 */
#if defined(__aarch64__)
#include "common/sm4_internal.h"
#include <arm_neon.h>
#include <asm/hwcap.h>
#include <string.h>
#include <sys/auxv.h>

#define SM4E_TARGET __attribute__((target("arch=armv8.2-a+sm4")))

static inline uint64_t load_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* The words of counters (hi, lo) + 0..n-1, word-major: w[i][j] is word i of block j. */
static inline void counter_words(uint64_t hi, uint64_t lo, unsigned n, uint32_t w[4][8])
{
    for (unsigned j = 0; j < n; j++) {
        uint64_t l = lo + j, h = hi + (l < lo);
        w[0][j] = (uint32_t)(h >> 32);
        w[1][j] = (uint32_t)h;
        w[2][j] = (uint32_t)(l >> 32);
        w[3][j] = (uint32_t)l;
    }
}

/* Runs batch(rk, hi, lo, in, out) over whole batches of 128 bytes, then once over a zero-padded
 * copy of the tail. */
static void ctr_loop(void (*batch)(const uint32_t *, uint64_t, uint64_t, const uint8_t *, uint8_t *),
                     const uint32_t rk[32], const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t n)
{
    uint64_t hi = load_be64(iv), lo = load_be64(iv + 8);

    for (; n >= 128; n -= 128, in += 128, out += 128) {
        batch(rk, hi, lo, in, out);
        lo += 8;
        hi += lo < 8; /* the low half wrapped */
    }
    if (n > 0) {
        uint8_t buf[128] = {0};
        memcpy(buf, in, n);
        batch(rk, hi, lo, buf, buf);
        memcpy(out, buf, n);
        explicit_bzero(buf, sizeof(buf)); /* the rest is key stream */
    }
}

int yc_sm4_arm64_sm4e_supported(void)
{
    return (getauxval(AT_HWCAP) & HWCAP_SM4) != 0;
}

static void SM4E_TARGET batch_sm4e(const uint32_t *rk, uint64_t hi, uint64_t lo, const uint8_t *in, uint8_t *out)
{
    uint32_t w[4][8];
    uint32x4_t x[8];

    counter_words(hi, lo, 8, w);
    for (int j = 0; j < 8; j++)
        x[j] = (uint32x4_t){w[0][j], w[1][j], w[2][j], w[3][j]};
    for (int i = 0; i < 32; i += 4) {
        uint32x4_t k = vld1q_u32(rk + i);
        for (int j = 0; j < 8; j++)
            x[j] = vsm4eq_u32(x[j], k);
    }
    for (int j = 0; j < 8; j++) {
        /* lanes X32..X35 -> the block X35 X34 X33 X32, each word big-endian */
        uint32x4_t r = vrev64q_u32(x[j]);
        uint8x16_t b = vrev32q_u8(vreinterpretq_u8_u32(vextq_u32(r, r, 2)));
        vst1q_u8(out + 16 * j, veorq_u8(vld1q_u8(in + 16 * j), b));
    }
}

void yc_sm4_ctr_arm64_sm4e(const uint32_t rk[32], const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t n)
{
    ctr_loop(batch_sm4e, rk, iv, in, out, n);
}

int yc_sm4_arm64_neon_supported(void)
{
    return (getauxval(AT_HWCAP) & HWCAP_ASIMD) != 0;
}

typedef struct {
    uint8x16x4_t t[4]; /* the S-box in four 64-byte quarters */
} neon_sbox_t;

#define ROL32(x, n) vsriq_n_u32(vshlq_n_u32((x), (n)), (x), 32 - (n))

/* T(x) = L(S(x)) on the 4 words of x. */
static inline uint32x4_t neon_round_t(const neon_sbox_t *s, uint32x4_t x)
{
    uint8x16_t b = vreinterpretq_u8_u32(x), q = vdupq_n_u8(64);
    /* TBX leaves a lane whose index is past its 64 bytes alone; the subtraction wraps the
     * indices of earlier quarters past it */
    uint8x16_t y = vqtbl4q_u8(s->t[0], b);
    b = vsubq_u8(b, q);
    y = vqtbx4q_u8(y, s->t[1], b);
    b = vsubq_u8(b, q);
    y = vqtbx4q_u8(y, s->t[2], b);
    b = vsubq_u8(b, q);
    y = vqtbx4q_u8(y, s->t[3], b);
    x = vreinterpretq_u32_u8(y);
    uint32x4_t t = veorq_u32(veorq_u32(x, ROL32(x, 8)), vreinterpretq_u32_u16(vrev32q_u16(vreinterpretq_u16_u32(x))));
    return veorq_u32(veorq_u32(x, ROL32(x, 24)), ROL32(t, 2));
}

static void batch_neon(const uint32_t *rk, uint64_t hi, uint64_t lo, const uint8_t *in, uint8_t *out)
{
    neon_sbox_t s;
    uint32_t w[4][8];
    uint32x4_t a[4], b[4];

    for (int i = 0; i < 4; i++)
        s.t[i] = vld1q_u8_x4(yc_sm4_sbox + 64 * i);
    counter_words(hi, lo, 8, w);
    for (int i = 0; i < 4; i++) {
        a[i] = vld1q_u32(w[i]);
        b[i] = vld1q_u32(w[i] + 4);
    }
    for (int i = 0; i < 32; i++) {
        uint32x4_t k = vdupq_n_u32(rk[i]);
        int n0 = i & 3, n1 = (i + 1) & 3, n2 = (i + 2) & 3, n3 = (i + 3) & 3;
        a[n0] = veorq_u32(a[n0], neon_round_t(&s, veorq_u32(veorq_u32(a[n1], a[n2]), veorq_u32(a[n3], k))));
        b[n0] = veorq_u32(b[n0], neon_round_t(&s, veorq_u32(veorq_u32(b[n1], b[n2]), veorq_u32(b[n3], k))));
    }
    /* word i of block j is lane j of a[i] (b[i] for blocks 4..7); the output is X35 X34 X33 X32 */
    uint32x4x4_t o;
    for (int h = 0; h < 2; h++) {
        const uint32x4_t *x = h ? b : a;
        for (int i = 0; i < 4; i++)
            o.val[i] = vreinterpretq_u32_u8(vrev32q_u8(vreinterpretq_u8_u32(x[3 - i])));
        uint8_t ks[64];
        vst4q_u32((uint32_t *)ks, o);
        for (int i = 0; i < 4; i++) {
            const uint8_t *src = in + 64 * h + 16 * i;
            vst1q_u8(out + 64 * h + 16 * i, veorq_u8(vld1q_u8(src), vld1q_u8(ks + 16 * i)));
        }
    }
}

void yc_sm4_ctr_arm64_neon(const uint32_t rk[32], const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t n)
{
    ctr_loop(batch_neon, rk, iv, in, out, n);
}
#endif
