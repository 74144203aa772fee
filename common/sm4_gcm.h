/* sm4_gcm.h — SM4-GCM: GCM (NIST SP 800-38D) over the SM4 block cipher, the authenticated mode of
 * GB/T 36624-2018 and RFC 8998, with 96-bit nonces and 128-bit tags.
 *
 * H = E_K(0^128), J0 = nonce || 0^31 || 1, the ciphertext is SM4-CTR from J0 + 1 (yc_sm4_ctr: its
 * 128-bit counter equals GCM's 32-bit increment for messages under 2^36 - 32 bytes, the GCM limit),
 * and the tag is E_K(J0) ^ GHASH_H(A || 0* || C || 0* || [len(A)]64 || [len(C)]64) (ghash.h).
 * Opening checks the tag before a byte is decrypted. tests/unit/test_ghash.c checks it against
 * RFC 8998's vector and the fast paths against the portable ones.
 *
 * Part of common/ (libcommon.a, prefix yc_). A key is read-only after yc_sm4_gcm_init and may be
 * shared between threads; it holds the round keys and H: wipe it when done.
 */
#ifndef YC_COMMON_SM4_GCM_H
#define YC_COMMON_SM4_GCM_H
#include "common/ghash.h"
#include "common/sm4.h"

#define YC_SM4_GCM_NONCE 12
#define YC_SM4_GCM_TAG   16

typedef struct {
    yc_sm4_key sm4;
    yc_ghash_key ghash;
} yc_sm4_gcm_key;

/* Expands a 128-bit key (round keys and GHASH's H). */
void yc_sm4_gcm_init(yc_sm4_gcm_key *k, const uint8_t key[16]);
/* Encrypts n bytes of in into out (in == out allowed) and writes the tag over aad and the
 * ciphertext. A nonce must never seal twice under one key. */
void yc_sm4_gcm_seal(const yc_sm4_gcm_key *k, const uint8_t nonce[YC_SM4_GCM_NONCE], const uint8_t *aad, size_t aad_len,
                     const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[YC_SM4_GCM_TAG]);
/* Checks tag over aad and the n bytes of ciphertext in, then decrypts them into out (in == out
 * allowed). 0, or -EBADMSG with out untouched. */
int yc_sm4_gcm_open(const yc_sm4_gcm_key *k, const uint8_t nonce[YC_SM4_GCM_NONCE], const uint8_t *aad, size_t aad_len,
                    const uint8_t *in, size_t n, const uint8_t tag[YC_SM4_GCM_TAG], uint8_t *out);

#endif
