/* ghash_internal.h — the paths of ghash.c, one per instruction set, for ghash.c's table only. */
#ifndef YC_COMMON_GHASH_INTERNAL_H
#define YC_COMMON_GHASH_INTERNAL_H
#include "common/ghash.h"

typedef void (*yc_ghash_fn)(const yc_ghash_key *k, uint8_t x[16], const uint8_t *in, size_t nblocks);

/* ghash.c: bit by bit, constant time. */
void yc_ghash_blocks_c(const yc_ghash_key *k, uint8_t x[16], const uint8_t *in, size_t nblocks);
/* ghash.c: a·b in GCM's bit order (the reference the other paths are built and tested on). */
void yc_ghash_mul_c(const uint8_t a[16], const uint8_t b[16], uint8_t out[16]);

#if defined(__x86_64__)
/* ghash_x86.c: PCLMULQDQ, eight blocks per reduction. */
int yc_ghash_pclmul_supported(void);
void yc_ghash_blocks_pclmul(const yc_ghash_key *k, uint8_t x[16], const uint8_t *in, size_t nblocks);
/* ghash_x86.c: VPCLMULQDQ on AVX2 registers, two blocks per multiply. */
int yc_ghash_vpclmul_supported(void);
void yc_ghash_blocks_vpclmul(const yc_ghash_key *k, uint8_t x[16], const uint8_t *in, size_t nblocks);
#endif

#if defined(__aarch64__)
/* ghash_arm64.c: PMULL, eight blocks per reduction. */
int yc_ghash_pmull_supported(void);
void yc_ghash_blocks_pmull(const yc_ghash_key *k, uint8_t x[16], const uint8_t *in, size_t nblocks);
#endif

#endif
