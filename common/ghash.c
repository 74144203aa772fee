/* ghash.c — GHASH (design in ghash.h): the portable path, the key's powers and the choice of path.
 *
 * The portable multiply is SP 800-38D's algorithm 1 on two 64-bit halves: for each bit of a, in
 * GCM's order, add V when the bit is set, then V = V·x, which in GCM's reflected bit order is a
 * right shift with R = 0xe1 || 0^120 folded in when a bit falls off. Masks instead of branches:
 * its time does not depend on H or the data.
 */
#include "common/ghash_internal.h"
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

static uint64_t load_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void store_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

void yc_ghash_mul_c(const uint8_t a[16], const uint8_t b[16], uint8_t out[16])
{
    uint64_t xh = load_be64(a), xl = load_be64(a + 8), vh = load_be64(b), vl = load_be64(b + 8), zh = 0, zl = 0;

    for (int i = 0; i < 128; i++) {
        uint64_t bit = (i < 64 ? xh >> (63 - i) : xl >> (127 - i)) & 1, m = 0 - bit;
        zh ^= vh & m;
        zl ^= vl & m;
        uint64_t carry = 0 - (vl & 1);
        vl = vl >> 1 | vh << 63;
        vh = vh >> 1 ^ (UINT64_C(0xe100000000000000) & carry);
    }
    store_be64(out, zh);
    store_be64(out + 8, zl);
}

void yc_ghash_blocks_c(const yc_ghash_key *k, uint8_t x[16], const uint8_t *in, size_t nblocks)
{
    uint8_t t[16];

    for (size_t b = 0; b < nblocks; b++, in += 16) {
        for (int i = 0; i < 16; i++)
            t[i] = x[i] ^ in[i];
        yc_ghash_mul_c(t, k->h, x);
    }
}

void yc_ghash_init(yc_ghash_key *k, const uint8_t h[16])
{
    uint8_t p[16];

    memcpy(k->h, h, 16);
    memcpy(p, h, 16);
    for (int i = 0; i < 16; i++) {
        if (i > 0)
            yc_ghash_mul_c(p, h, p);
        k->pow[i][0] = load_be64(p + 8); /* the byte-reversed block as a little-endian integer */
        k->pow[i][1] = load_be64(p);
    }
    memset(p, 0, sizeof(p));
}

typedef struct {
    const char *name;
    int (*supported)(void);
    yc_ghash_fn blocks;
} ghash_impl_t;

static int always(void)
{
    return 1;
}

/* Fastest first: the automatic choice is the first the CPU can run. */
static const ghash_impl_t ghash_impls[] = {
#if defined(__x86_64__)
    {"vpclmul-avx2", yc_ghash_vpclmul_supported, yc_ghash_blocks_vpclmul},
    {"pclmul", yc_ghash_pclmul_supported, yc_ghash_blocks_pclmul},
#endif
#if defined(__aarch64__)
    {"arm64-pmull", yc_ghash_pmull_supported, yc_ghash_blocks_pmull},
#endif
    {"c", always, yc_ghash_blocks_c},
};

static _Atomic(const ghash_impl_t *) ghash_current;

static const ghash_impl_t *current_impl(void)
{
    const ghash_impl_t *impl = atomic_load_explicit(&ghash_current, memory_order_relaxed);
    if (impl == NULL) { /* two threads may both choose: they choose the same */
        size_t i = 0;
        while (!ghash_impls[i].supported())
            i++; /* the last one always is */
        impl = &ghash_impls[i];
        atomic_store_explicit(&ghash_current, impl, memory_order_relaxed);
    }
    return impl;
}

void yc_ghash_update(const yc_ghash_key *k, uint8_t x[16], const uint8_t *in, size_t n)
{
    current_impl()->blocks(k, x, in, n / 16);
}

const char *yc_ghash_impl(void)
{
    return current_impl()->name;
}

int yc_ghash_use_impl(const char *name)
{
    for (size_t i = 0; i < sizeof(ghash_impls) / sizeof(ghash_impls[0]); i++) {
        if (strcmp(ghash_impls[i].name, name) == 0) {
            if (!ghash_impls[i].supported())
                return -ENOTSUP;
            atomic_store_explicit(&ghash_current, &ghash_impls[i], memory_order_relaxed);
            return 0;
        }
    }
    return -ENOTSUP;
}

void yc_ghash_update_padded(const yc_ghash_key *k, uint8_t x[16], const uint8_t *in, size_t n)
{
    size_t whole = n & ~(size_t)15;

    yc_ghash_update(k, x, in, whole);
    if (n > whole) {
        uint8_t last[16] = {0};
        memcpy(last, in + whole, n - whole);
        yc_ghash_update(k, x, last, 16);
    }
}
