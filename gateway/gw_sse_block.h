/* gw_sse_block.h — the stored format of an encrypted object: its plaintext cut into blocks of
 * GW_SSE_BLOCK bytes (the last one shorter), each sealed on its own, the seal's tag right after
 * its block's ciphertext. A ranged read opens only the blocks it touches; a block that was
 * changed, moved, swapped with another or taken from another object does not open.
 *
 * Two suites, both keyed by a data key of 32 bytes that belongs to one object alone:
 *   GW_SSE_AES_GCM   AES-256-GCM, key = the data key, nonce = 4 bytes derived from the data key
 *                    followed by the block index (8 bytes big-endian), 16-byte tag.
 *   GW_SSE_SM4_GCM   SM4-GCM (GB/T 36624, RFC 8998; common/sm4_gcm.h): the SM4 key derived from
 *                    the data key with HMAC-SM3, the nonce as AES-GCM's; 16-byte tag. What SM4
 *                    objects are written with.
 *   GW_SSE_SM4_HMAC  SM4-CTR then HMAC-SM3 over the ciphertext (encrypt-then-MAC): the SM4 key
 *                    and the MAC key are derived from the data key with HMAC-SM3, the counter
 *                    block is the block index (8 bytes big-endian) followed by 8 zero bytes, so
 *                    no two blocks share a counter; 32-byte tag. SM4 objects written before
 *                    SM4-GCM: still opened, no longer written.
 * All authenticate, beside the ciphertext, the block index and the object's plaintext size:
 * a block moved to another index, or an object cut short or extended, fails to open.
 * docs/architecture.md ("Server-side encryption") argues the choices.
 */
#ifndef YC_GW_SSE_BLOCK_H
#define YC_GW_SSE_BLOCK_H
#include <stddef.h>
#include <stdint.h>

#define GW_SSE_BLOCK   (64 * 1024) /* plaintext bytes per block */
#define GW_SSE_TAG_MAX 32
#define GW_SSE_KEY_LEN 32 /* bytes of a data key */

typedef enum { GW_SSE_AES_GCM = 1, GW_SSE_SM4_HMAC = 2, GW_SSE_SM4_GCM = 3 } gw_sse_suite_t;

/* Errors: -EINVAL (bad suite or length), -ENOMEM, -EBADMSG (a block that does not open). */

typedef struct gw_sse_block_key gw_sse_block_key_t;

/* Makes the per-object keys of suite from data_key for an object of plain_size bytes; UINT64_MAX:
 * a size not known when the blocks are sealed, which the object's attribute binds instead. */
int gw_sse_block_key_new(gw_sse_suite_t suite, const uint8_t data_key[GW_SSE_KEY_LEN], uint64_t plain_size,
                         gw_sse_block_key_t **out);
void gw_sse_block_key_free(gw_sse_block_key_t *k);

/* Bytes of the tag that follows each block of suite (0 for an unknown suite). */
size_t gw_sse_tag_len(gw_sse_suite_t suite);
/* Bytes stored for plain_size bytes of plaintext under suite. */
uint64_t gw_sse_stored_size(gw_sse_suite_t suite, uint64_t plain_size);

/* Seals block index (n bytes of plaintext, n <= GW_SSE_BLOCK, the length the object's size gives
 * that block) into out: n bytes of ciphertext, then the tag. */
int gw_sse_block_seal(gw_sse_block_key_t *k, uint64_t index, const uint8_t *in, size_t n, uint8_t *out);
/* Opens block index: in holds n bytes of ciphertext and the tag; out gets n bytes of plaintext,
 * written only once the tag checked (out may be in: opened in place). -EBADMSG when it does not. */
int gw_sse_block_open(gw_sse_block_key_t *k, uint64_t index, const uint8_t *in, size_t n, uint8_t *out);

/* Seals a key of GW_SSE_KEY_LEN bytes with a key-encryption key (32 bytes) under suite (both SM4
 * suites wrap as GW_SSE_SM4_HMAC: a wrap is one small message per object), with a fresh random nonce: out gets
 * GW_SSE_WRAPPED_LEN bytes. */
#define GW_SSE_WRAPPED_LEN (16 + GW_SSE_KEY_LEN + GW_SSE_TAG_MAX)
int gw_sse_key_wrap(gw_sse_suite_t suite, const uint8_t kek[32], const uint8_t key[GW_SSE_KEY_LEN],
                    uint8_t out[GW_SSE_WRAPPED_LEN]);
/* Opens a wrapped key; -EBADMSG for another kek or a changed byte. */
int gw_sse_key_unwrap(gw_sse_suite_t suite, const uint8_t kek[32], const uint8_t in[GW_SSE_WRAPPED_LEN],
                      uint8_t key[GW_SSE_KEY_LEN]);

/* SM4-CTR of n bytes (in == out allowed): the one place SM4 is called, through common/sm4.h (its
 * AES-NI/VAES path where the CPU has one, about 10x OpenSSL's EVP_sm4_ctr here). */
void gw_sse_sm4_ctr(const uint8_t key[16], const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t n);

#endif
