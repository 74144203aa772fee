/* gw_sse_block.c — sealing and opening the blocks of an encrypted object (design in
 * gw_sse_block.h), and wrapping data keys under a key-encryption key.
 */
#include "gateway/gw_sse_block.h"
#include "common/aes_gcm.h"
#include "common/sm4.h"
#include "common/sm4_gcm.h"
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

/* The associated data of a block: a label, the block index and the object's plaintext size. */
#define AAD_LEN 24

struct gw_sse_block_key {
    gw_sse_suite_t suite;
    uint64_t plain_size;
    uint8_t nonce_prefix[4];    /* AES-GCM */
    uint8_t sm4_key[16];        /* SM4-CTR + HMAC-SM3 */
    yc_sm4_gcm_key sm4_gcm;     /* SM4-GCM, expanded once */
    EVP_CIPHER_CTX *gcm;        /* AES-GCM, keyed once, where aes_gcm is NULL */
    yc_aes256_gcm_key *aes_gcm; /* AES-GCM through VAES, where the CPU has it: about 1.3x OpenSSL 3.0's here */
    EVP_MAC_CTX *mac;           /* HMAC-SM3, keyed once */
};

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void block_aad(const gw_sse_block_key_t *k, uint64_t index, uint8_t aad[AAD_LEN])
{
    memcpy(aad, "yc-sse-1", 8);
    put_be64(aad + 8, index);
    put_be64(aad + 16, k->plain_size);
}

/* HMAC-SM3 (or HMAC-SHA-256) of label under key: a derived key of 32 bytes. */
static int derive(const EVP_MD *md, const uint8_t *key, size_t key_len, const char *label, uint8_t out[32])
{
    unsigned int len = 0;
    if (HMAC(md, key, (int)key_len, (const uint8_t *)label, strlen(label), out, &len) == NULL || len != 32)
        return -ENOMEM;
    return 0;
}

static EVP_MAC_CTX *hmac_sm3_new(const uint8_t key[32])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SM3", 0), OSSL_PARAM_END};

    EVP_MAC_free(mac); /* the context keeps its own reference */
    if (ctx != NULL && EVP_MAC_init(ctx, key, 32, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

/* HMAC-SM3 under ctx's key of a || b into tag (32 bytes). */
static int hmac_sm3(EVP_MAC_CTX *ctx, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t tag[32])
{
    size_t len = 0;
    /* a NULL key restarts with the key the context was made with */
    if (EVP_MAC_init(ctx, NULL, 0, NULL) != 1 || EVP_MAC_update(ctx, a, alen) != 1 ||
        EVP_MAC_update(ctx, b, blen) != 1 || EVP_MAC_final(ctx, tag, &len, 32) != 1 || len != 32)
        return -ENOMEM;
    return 0;
}

void gw_sse_sm4_ctr(const uint8_t key[16], const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t n)
{
    yc_sm4_key ks;

    /* the key schedule is 32 word operations: cheaper than keeping one per object key */
    yc_sm4_set_key(&ks, key);
    yc_sm4_ctr(&ks, iv, in, out, n);
    OPENSSL_cleanse(&ks, sizeof(ks));
}

size_t gw_sse_tag_len(gw_sse_suite_t suite)
{
    return suite == GW_SSE_AES_GCM || suite == GW_SSE_SM4_GCM ? 16 : suite == GW_SSE_SM4_HMAC ? 32 : 0;
}

uint64_t gw_sse_stored_size(gw_sse_suite_t suite, uint64_t plain_size)
{
    uint64_t blocks = plain_size / GW_SSE_BLOCK + (plain_size % GW_SSE_BLOCK != 0);
    return plain_size + blocks * gw_sse_tag_len(suite);
}

int gw_sse_block_key_new(gw_sse_suite_t suite, const uint8_t data_key[GW_SSE_KEY_LEN], uint64_t plain_size,
                         gw_sse_block_key_t **out)
{
    gw_sse_block_key_t *k = calloc(1, sizeof(*k));
    uint8_t derived[32];
    int ret = -ENOMEM;

    if (k == NULL)
        return -ENOMEM;
    k->suite = suite;
    k->plain_size = plain_size;
    switch (suite) {
    case GW_SSE_SM4_GCM:
        if (derive(EVP_sm3(), data_key, GW_SSE_KEY_LEN, "yc-sse sm4-gcm key", derived) != 0)
            goto fail;
        yc_sm4_gcm_init(&k->sm4_gcm, derived);
        if (derive(EVP_sm3(), data_key, GW_SSE_KEY_LEN, "yc-sse sm4-gcm nonce", derived) != 0)
            goto fail;
        memcpy(k->nonce_prefix, derived, 4);
        break;
    case GW_SSE_AES_GCM:
        if (derive(EVP_sha256(), data_key, GW_SSE_KEY_LEN, "yc-sse aes-gcm nonce", derived) != 0)
            goto fail;
        memcpy(k->nonce_prefix, derived, 4);
        if (yc_aes256_gcm_available()) {
            if ((k->aes_gcm = malloc(sizeof(*k->aes_gcm))) == NULL || yc_aes256_gcm_init(k->aes_gcm, data_key) != 0)
                goto fail;
            break;
        }
        if ((k->gcm = EVP_CIPHER_CTX_new()) == NULL ||
            EVP_CipherInit_ex(k->gcm, EVP_aes_256_gcm(), NULL, data_key, NULL, -1) != 1)
            goto fail;
        break;
    case GW_SSE_SM4_HMAC:
        if (derive(EVP_sm3(), data_key, GW_SSE_KEY_LEN, "yc-sse sm4-ctr key", derived) != 0)
            goto fail;
        memcpy(k->sm4_key, derived, 16);
        if (derive(EVP_sm3(), data_key, GW_SSE_KEY_LEN, "yc-sse hmac-sm3 key", derived) != 0 ||
            (k->mac = hmac_sm3_new(derived)) == NULL)
            goto fail;
        break;
    default:
        ret = -EINVAL;
        goto fail;
    }
    OPENSSL_cleanse(derived, sizeof(derived));
    *out = k;
    return 0;

fail:
    OPENSSL_cleanse(derived, sizeof(derived));
    gw_sse_block_key_free(k);
    return ret;
}

void gw_sse_block_key_free(gw_sse_block_key_t *k)
{
    if (k == NULL)
        return;
    EVP_CIPHER_CTX_free(k->gcm);
    EVP_MAC_CTX_free(k->mac);
    if (k->aes_gcm != NULL)
        OPENSSL_cleanse(k->aes_gcm, sizeof(*k->aes_gcm));
    free(k->aes_gcm);
    OPENSSL_cleanse(k, sizeof(*k));
    free(k);
}

static void block_nonce(const gw_sse_block_key_t *k, uint64_t index, uint8_t nonce[12])
{
    memcpy(nonce, k->nonce_prefix, 4);
    put_be64(nonce + 4, index);
}

/* AES-GCM of one block: enc 1 seals (tag written after out), 0 opens (tag read after in). */
static int gcm_block(gw_sse_block_key_t *k, int enc, uint64_t index, const uint8_t *in, size_t n, uint8_t *out)
{
    uint8_t nonce[12], aad[AAD_LEN];
    int len = 0;

    block_nonce(k, index, nonce);
    block_aad(k, index, aad);
    if (k->aes_gcm != NULL) {
        if (!enc) /* checked before a byte is decrypted */
            return yc_aes256_gcm_open(k->aes_gcm, nonce, aad, AAD_LEN, in, n, in + n, out) == 0 ? 0 : -EBADMSG;
        yc_aes256_gcm_seal(k->aes_gcm, nonce, aad, AAD_LEN, in, n, out, out + n);
        return 0;
    }
    if (EVP_CipherInit_ex(k->gcm, NULL, NULL, NULL, nonce, enc) != 1 ||
        EVP_CipherUpdate(k->gcm, NULL, &len, aad, AAD_LEN) != 1)
        return -ENOMEM;
    if (!enc && EVP_CIPHER_CTX_ctrl(k->gcm, EVP_CTRL_GCM_SET_TAG, 16, (void *)(in + n)) != 1)
        return -ENOMEM;
    if (n > 0 && EVP_CipherUpdate(k->gcm, out, &len, in, (int)n) != 1)
        return -ENOMEM;
    if (EVP_CipherFinal_ex(k->gcm, out + n, &len) != 1) {
        OPENSSL_cleanse(out, n); /* GCM decrypted before it checked: no byte of a bad block leaves */
        return enc ? -ENOMEM : -EBADMSG;
    }
    if (enc && EVP_CIPHER_CTX_ctrl(k->gcm, EVP_CTRL_GCM_GET_TAG, 16, out + n) != 1)
        return -ENOMEM;
    return 0;
}

static void sm4_iv(uint64_t index, uint8_t iv[16])
{
    put_be64(iv, index);
    memset(iv + 8, 0, 8); /* a block's 4096 counters stay in the low half */
}

int gw_sse_block_seal(gw_sse_block_key_t *k, uint64_t index, const uint8_t *in, size_t n, uint8_t *out)
{
    uint8_t iv[16], aad[AAD_LEN];

    if (n > GW_SSE_BLOCK)
        return -EINVAL;
    if (k->suite == GW_SSE_AES_GCM)
        return gcm_block(k, 1, index, in, n, out);
    if (k->suite == GW_SSE_SM4_GCM) {
        uint8_t nonce[12];
        block_nonce(k, index, nonce);
        block_aad(k, index, aad);
        yc_sm4_gcm_seal(&k->sm4_gcm, nonce, aad, AAD_LEN, in, n, out, out + n);
        return 0;
    }
    sm4_iv(index, iv);
    gw_sse_sm4_ctr(k->sm4_key, iv, in, out, n);
    block_aad(k, index, aad);
    return hmac_sm3(k->mac, aad, AAD_LEN, out, n, out + n);
}

int gw_sse_block_open(gw_sse_block_key_t *k, uint64_t index, const uint8_t *in, size_t n, uint8_t *out)
{
    uint8_t iv[16], aad[AAD_LEN], tag[32];
    int ret;

    if (n > GW_SSE_BLOCK)
        return -EINVAL;
    if (k->suite == GW_SSE_AES_GCM)
        return gcm_block(k, 0, index, in, n, out);
    block_aad(k, index, aad);
    if (k->suite == GW_SSE_SM4_GCM) {
        uint8_t nonce[12];
        block_nonce(k, index, nonce);
        return yc_sm4_gcm_open(&k->sm4_gcm, nonce, aad, AAD_LEN, in, n, in + n, out); /* checked before decrypted */
    }
    if ((ret = hmac_sm3(k->mac, aad, AAD_LEN, in, n, tag)) != 0)
        return ret;
    if (CRYPTO_memcmp(tag, in + n, 32) != 0) /* checked before a byte is decrypted */
        return -EBADMSG;
    sm4_iv(index, iv);
    gw_sse_sm4_ctr(k->sm4_key, iv, in, out, n);
    return 0;
}

/* ---------------------------------------------------------------- wrapping data keys */

/* Wrapped: nonce (16 bytes: 12 used by GCM), the sealed key, the tag (32 bytes: 16 used by GCM). */
static int wrap_gcm(int enc, const uint8_t kek[32], uint8_t *nonce, const uint8_t *in, uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, ret = -ENOMEM;

    if (ctx == NULL)
        return -ENOMEM;
    if (EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, kek, nonce, enc) != 1 ||
        EVP_CipherUpdate(ctx, NULL, &len, (const uint8_t *)"yc-sse-key", 10) != 1 ||
        (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1) ||
        EVP_CipherUpdate(ctx, out, &len, in, GW_SSE_KEY_LEN) != 1)
        goto done;
    if (EVP_CipherFinal_ex(ctx, out + len, &len) != 1) {
        ret = enc ? -ENOMEM : -EBADMSG;
        goto done;
    }
    ret = enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1 ? -ENOMEM : 0;
done:
    EVP_CIPHER_CTX_free(ctx);
    return ret;
}

/* SM4-CTR then HMAC-SM3 over nonce and ciphertext, with keys derived from kek. */
static int wrap_sm4(int enc, const uint8_t kek[32], const uint8_t nonce[16], const uint8_t *in, uint8_t *out,
                    uint8_t *tag)
{
    uint8_t enc_key[32], mac_key[32], want[32];
    EVP_MAC_CTX *mac = NULL;
    int ret = -ENOMEM;

    if (derive(EVP_sm3(), kek, 32, "yc-sse wrap sm4-ctr key", enc_key) != 0 ||
        derive(EVP_sm3(), kek, 32, "yc-sse wrap hmac-sm3 key", mac_key) != 0 || (mac = hmac_sm3_new(mac_key)) == NULL)
        goto done;
    if (enc) {
        gw_sse_sm4_ctr(enc_key, nonce, in, out, GW_SSE_KEY_LEN);
        ret = hmac_sm3(mac, nonce, 16, out, GW_SSE_KEY_LEN, tag);
    } else if ((ret = hmac_sm3(mac, nonce, 16, in, GW_SSE_KEY_LEN, want)) == 0) {
        if (CRYPTO_memcmp(want, tag, 32) != 0)
            ret = -EBADMSG;
        else
            gw_sse_sm4_ctr(enc_key, nonce, in, out, GW_SSE_KEY_LEN);
    }
done:
    EVP_MAC_CTX_free(mac);
    OPENSSL_cleanse(enc_key, sizeof(enc_key));
    OPENSSL_cleanse(mac_key, sizeof(mac_key));
    return ret;
}

int gw_sse_key_wrap(gw_sse_suite_t suite, const uint8_t kek[32], const uint8_t key[GW_SSE_KEY_LEN],
                    uint8_t out[GW_SSE_WRAPPED_LEN])
{
    memset(out, 0, GW_SSE_WRAPPED_LEN);
    if (RAND_bytes(out, 16) != 1)
        return -ENOMEM;
    if (suite == GW_SSE_AES_GCM)
        return wrap_gcm(1, kek, out, key, out + 16, out + 16 + GW_SSE_KEY_LEN);
    if (suite == GW_SSE_SM4_HMAC || suite == GW_SSE_SM4_GCM)
        return wrap_sm4(1, kek, out, key, out + 16, out + 16 + GW_SSE_KEY_LEN);
    return -EINVAL;
}

int gw_sse_key_unwrap(gw_sse_suite_t suite, const uint8_t kek[32], const uint8_t in[GW_SSE_WRAPPED_LEN],
                      uint8_t key[GW_SSE_KEY_LEN])
{
    uint8_t nonce[16], tag[GW_SSE_TAG_MAX];

    memcpy(nonce, in, 16);
    memcpy(tag, in + 16 + GW_SSE_KEY_LEN, sizeof(tag));
    if (suite == GW_SSE_AES_GCM)
        return wrap_gcm(0, kek, nonce, in + 16, key, tag);
    if (suite == GW_SSE_SM4_HMAC || suite == GW_SSE_SM4_GCM)
        return wrap_sm4(0, kek, nonce, in + 16, key, tag);
    return -EINVAL;
}
