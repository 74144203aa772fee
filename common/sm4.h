/* sm4.h — the SM4 block cipher (GB/T 32907-2016) and its CTR mode, fast.
 *
 * One key schedule, one block in each direction, and CTR over any length. CTR is what the
 * object encryption streams through, so it is the part that has fast paths: several blocks at
 * once with the S-box computed by the CPU's AES instructions (see sm4_x86.c, sm4_arm64.c). The
 * path is chosen once, at the first call, from what the CPU reports; every path gives the same
 * bytes (tests/unit/test_sm4.c checks each against OpenSSL). A key holds no pointer and no
 * secret-dependent table lookups happen on the fast paths; the portable C path uses a table
 * and is for CPUs without them.
 *
 * Part of common/ (libcommon.a, prefix yc_). Thread-safe: a key is read-only after
 * yc_sm4_set_key and may be shared between threads.
 */
#ifndef YC_COMMON_SM4_H
#define YC_COMMON_SM4_H
#include <stddef.h>
#include <stdint.h>

/* The 32 round keys of one key. A value: copy it, keep it on the stack, wipe it when done. */
typedef struct {
    uint32_t rk[32];
} yc_sm4_key;

/* Expands a 128-bit key into its round keys. */
void yc_sm4_set_key(yc_sm4_key *k, const uint8_t key[16]);
/* Encrypts or decrypts one 16-byte block; in and out may be the same buffer. */
void yc_sm4_encrypt_block(const yc_sm4_key *k, const uint8_t in[16], uint8_t out[16]);
void yc_sm4_decrypt_block(const yc_sm4_key *k, const uint8_t in[16], uint8_t out[16]);
/* CTR mode with a 128-bit big-endian counter block, as OpenSSL's EVP_sm4_ctr: XORs n bytes of in
 * with the key stream of counters iv, iv + 1, ... (carrying over all 128 bits) into out. in and
 * out may be the same buffer. A stream split into several calls continues with the counter
 * advanced by the blocks done, so each call but the last must cover whole blocks. */
void yc_sm4_ctr(const yc_sm4_key *k, const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t n);
/* Which path yc_sm4_ctr runs: "vaes-avx2", "aesni-avx2", "arm64-sm4e", "arm64-neon" or "c". */
const char *yc_sm4_impl(void);

/* For tests and benchmarks: makes yc_sm4_ctr run the path named (one of yc_sm4_impl's names) for
 * every thread from now on. 0, or -ENOTSUP when this CPU cannot run it or the name is unknown.
 * yc_sm4_impl_best() is the name the automatic choice takes. */
int yc_sm4_use_impl(const char *name);
const char *yc_sm4_impl_best(void);

#endif
