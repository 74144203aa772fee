/* ghash.h — GHASH, the universal hash of GCM (NIST SP 800-38D, section 6.4), for GCM over a
 * block cipher OpenSSL does not pair with it here (SM4-GCM, sm4_gcm.h).
 *
 * GHASH_H(X1 .. Xn) = (((X1·H) ^ X2)·H ^ ... ^ Xn)·H in GF(2^128) modulo x^128 + x^7 + x^2 + x + 1,
 * with GCM's bit order (the first bit of a block is the coefficient of x^0). The x86-64 path
 * multiplies with PCLMULQDQ and folds eight blocks per reduction with the precomputed powers
 * H..H^8, sixteen with VPCLMULQDQ and H..H^16 (ghash_x86.c); the portable C path multiplies bit by bit with masks, no
 * table indexed by secret data, and is for CPUs without a carry-less multiply; arm64 multiplies with PMULL
 * (ghash_arm64.c). Every path gives the same bytes
 * (tests/unit/test_ghash.c checks them against a bit-by-bit reference and, through OpenSSL's
 * AES-GCM tags, against an independent GHASH).
 *
 * Part of common/ (libcommon.a, prefix yc_). A key is read-only after yc_ghash_init and may be
 * shared between threads; it holds H, a secret: wipe it when done.
 */
#ifndef YC_COMMON_GHASH_H
#define YC_COMMON_GHASH_H
#include <stddef.h>
#include <stdint.h>

/* H and its powers, in the form the paths use. A value: copy it, keep it on the stack. */
typedef struct {
    uint8_t h[16];                    /* H as given (GCM byte order), for the C path */
    _Alignas(16) uint64_t pow[16][2]; /* H^(i+1), byte-reversed as a 128-bit integer (lo, hi) */
} yc_ghash_key;

/* Prepares the key of hash subkey h (GCM's H = E_K(0^128)). */
void yc_ghash_init(yc_ghash_key *k, const uint8_t h[16]);
/* Folds n bytes of in (n a multiple of 16) into the running value x (16 bytes, GCM byte order;
 * zero at the start of a message): x = (x ^ block)·H for each 16-byte block in turn. */
void yc_ghash_update(const yc_ghash_key *k, uint8_t x[16], const uint8_t *in, size_t n);
/* yc_ghash_update of n bytes of any length, the last block padded with zeros (GCM's AAD and
 * ciphertext). */
void yc_ghash_update_padded(const yc_ghash_key *k, uint8_t x[16], const uint8_t *in, size_t n);

/* Which path yc_ghash_update runs: "vpclmul-avx2", "pclmul", "arm64-pmull" or "c". */
const char *yc_ghash_impl(void);
/* For tests and benchmarks: makes yc_ghash_update run the path named for every thread from now
 * on. 0, or -ENOTSUP when this CPU cannot run it or the name is unknown. */
int yc_ghash_use_impl(const char *name);

#endif
