/* sm4_gcm.c — SM4-GCM (design in sm4_gcm.h). */
#include "common/sm4_gcm.h"
#include <errno.h>
#include <string.h>

void yc_sm4_gcm_init(yc_sm4_gcm_key *k, const uint8_t key[16])
{
    uint8_t h[16] = {0};

    yc_sm4_set_key(&k->sm4, key);
    yc_sm4_encrypt_block(&k->sm4, h, h);
    yc_ghash_init(&k->ghash, h);
    explicit_bzero(h, sizeof(h));
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* The tag of aad and ciphertext c (n bytes) under nonce. */
static void tag_of(const yc_sm4_gcm_key *k, const uint8_t j0[16], const uint8_t *aad, size_t aad_len, const uint8_t *c,
                   size_t n, uint8_t tag[16])
{
    uint8_t x[16] = {0}, lens[16], mask[16];

    yc_ghash_update_padded(&k->ghash, x, aad, aad_len);
    yc_ghash_update_padded(&k->ghash, x, c, n);
    put_be64(lens, (uint64_t)aad_len * 8);
    put_be64(lens + 8, (uint64_t)n * 8);
    yc_ghash_update(&k->ghash, x, lens, 16);
    yc_sm4_encrypt_block(&k->sm4, j0, mask);
    for (int i = 0; i < 16; i++)
        tag[i] = x[i] ^ mask[i];
}

static void counter_blocks(const uint8_t nonce[12], uint8_t j0[16], uint8_t first[16])
{
    memcpy(j0, nonce, 12);
    j0[12] = j0[13] = j0[14] = 0;
    j0[15] = 1;
    memcpy(first, j0, 16);
    first[15] = 2;
}

void yc_sm4_gcm_seal(const yc_sm4_gcm_key *k, const uint8_t nonce[YC_SM4_GCM_NONCE], const uint8_t *aad, size_t aad_len,
                     const uint8_t *in, size_t n, uint8_t *out, uint8_t tag[YC_SM4_GCM_TAG])
{
    uint8_t j0[16], ctr[16];

    counter_blocks(nonce, j0, ctr);
    yc_sm4_ctr(&k->sm4, ctr, in, out, n);
    tag_of(k, j0, aad, aad_len, out, n, tag);
}

int yc_sm4_gcm_open(const yc_sm4_gcm_key *k, const uint8_t nonce[YC_SM4_GCM_NONCE], const uint8_t *aad, size_t aad_len,
                    const uint8_t *in, size_t n, const uint8_t tag[YC_SM4_GCM_TAG], uint8_t *out)
{
    uint8_t j0[16], ctr[16], want[16], diff = 0;

    counter_blocks(nonce, j0, ctr);
    tag_of(k, j0, aad, aad_len, in, n, want);
    for (int i = 0; i < 16; i++) /* constant time: how much of a forged tag matched stays unknown */
        diff |= want[i] ^ tag[i];
    if (diff != 0)
        return -EBADMSG;
    yc_sm4_ctr(&k->sm4, ctr, in, out, n);
    return 0;
}
