/* sm4_internal.h — the CTR paths of sm4.c, one per instruction set, for sm4.c's table only.
 *
 * Each path XORs n bytes with the key stream of the 128-bit big-endian counter iv and the round
 * keys rk (yc_sm4_key's), and gives the same bytes as every other; each _supported() says
 * whether this CPU (and kernel) can run it.
 */
#ifndef YC_COMMON_SM4_INTERNAL_H
#define YC_COMMON_SM4_INTERNAL_H
#include <stddef.h>
#include <stdint.h>

/* sm4.c: the S-box as printed in the standard (16-byte aligned, for NEON table loads). */
extern const uint8_t yc_sm4_sbox[256];

typedef void (*yc_sm4_ctr_fn)(const uint32_t rk[32], const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t n);

/* sm4.c: one block at a time, table S-box. */
void yc_sm4_ctr_c(const uint32_t rk[32], const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t n);

#if defined(__x86_64__)
/* sm4_x86.c: 32 blocks at a time in AVX2 registers, the S-box through VAES, or through AES-NI on
 * each 128-bit half. */
int yc_sm4_vaes_avx2_supported(void);
void yc_sm4_ctr_vaes_avx2(const uint32_t rk[32], const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t n);
int yc_sm4_aesni_avx2_supported(void);
void yc_sm4_ctr_aesni_avx2(const uint32_t rk[32], const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t n);
#endif

#if defined(__aarch64__)
/* sm4_arm64.c: the ARMv8.2 SM4E instruction, and NEON table lookups. */
int yc_sm4_arm64_sm4e_supported(void);
void yc_sm4_ctr_arm64_sm4e(const uint32_t rk[32], const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t n);
int yc_sm4_arm64_neon_supported(void);
void yc_sm4_ctr_arm64_neon(const uint32_t rk[32], const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t n);
#endif

#endif
