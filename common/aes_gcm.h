/* aes_gcm.h — AES-256-GCM (NIST SP 800-38D) with 96-bit nonces and 128-bit tags, fast on x86-64
 * CPUs with VAES, VPCLMULQDQ and AVX2 (AMD Zen 3 and later, Intel Ice Lake and later).
 *
 * Why beside OpenSSL's: the OpenSSL this builds against (3.0) has AES-GCM paths for 128-bit AES-NI
 * and for AVX-512, none for VAES on 256-bit registers, so on a CPU without AVX-512 it runs about
 * 3.5 GB/s a core, and decrypting is then a third of what an encrypted GET costs the gateway.
 * Here the counter blocks go through VAES two to a register, sixteen in flight (aes_gcm.c), and
 * the tag through ghash.h's VPCLMULQDQ path. Everywhere else yc_aes256_gcm_available() is 0 and
 * the caller uses OpenSSL; both give the same bytes (tests/unit/test_ghash.c checks this one
 * against OpenSSL's on random keys, nonces, associated data and lengths).
 *
 * Part of common/ (libcommon.a, prefix yc_). A key is read-only after yc_aes256_gcm_init and may be
 * shared between threads; it holds the round keys and H: wipe it when done.
 */
#ifndef YC_COMMON_AES_GCM_H
#define YC_COMMON_AES_GCM_H
#include "common/ghash.h"
#include <stddef.h>
#include <stdint.h>

#define YC_AES_GCM_NONCE 12
#define YC_AES_GCM_TAG   16

typedef struct {
    uint8_t rk[15][32]; /* the round keys, each twice: one per 128-bit lane (read unaligned) */
    yc_ghash_key ghash;
} yc_aes256_gcm_key;

/* 1 when this CPU runs the fast path (and the functions below work), else 0. */
int yc_aes256_gcm_available(void);
/* Expands a 256-bit key (round keys and GHASH's H). -ENOTSUP where not available. */
int yc_aes256_gcm_init(yc_aes256_gcm_key *k, const uint8_t key[32]);
/* Encrypts n bytes of in into out (in == out allowed) and writes the tag over aad and the
 * ciphertext. A nonce must never seal twice under one key. n below 2^32 blocks of 16 bytes. */
void yc_aes256_gcm_seal(const yc_aes256_gcm_key *k, const uint8_t nonce[YC_AES_GCM_NONCE], const uint8_t *aad,
                        size_t aad_len, const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[YC_AES_GCM_TAG]);
/* Checks tag over aad and the n bytes of ciphertext in, then decrypts them into out (in == out
 * allowed). 0, or -EBADMSG with out untouched. */
int yc_aes256_gcm_open(const yc_aes256_gcm_key *k, const uint8_t nonce[YC_AES_GCM_NONCE], const uint8_t *aad,
                       size_t aad_len, const uint8_t *in, size_t n, const uint8_t tag[YC_AES_GCM_TAG], uint8_t *out);

#endif
