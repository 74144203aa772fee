/* test_gw_sse_block.c — the stored format of encrypted objects: blocks sealed and opened under
 * both suites, and every kind of tampering (a flipped bit, a block moved to another index, a
 * block of another object, another object size) refused; data keys wrapped and unwrapped. */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include "tests/unit/unit.h"
#include "gateway/gw_sse_block.h"

static const gw_sse_suite_t suites[] = {GW_SSE_AES_GCM, GW_SSE_SM4_HMAC, GW_SSE_SM4_GCM};
#define N_SUITES (sizeof(suites) / sizeof(suites[0]))

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

TEST(test_sse_stored_size_adds_one_tag_per_block)
{
    CHECK_EQ_INT(gw_sse_stored_size(GW_SSE_AES_GCM, 0), 0);
    CHECK_EQ_INT(gw_sse_stored_size(GW_SSE_AES_GCM, 1), 17);
    CHECK_EQ_INT(gw_sse_stored_size(GW_SSE_AES_GCM, GW_SSE_BLOCK), GW_SSE_BLOCK + 16);
    CHECK_EQ_INT(gw_sse_stored_size(GW_SSE_SM4_HMAC, GW_SSE_BLOCK + 1), GW_SSE_BLOCK + 1 + 64);
}

TEST(test_sse_block_round_trips_when_untouched)
{
    static uint8_t plain[GW_SSE_BLOCK], sealed[GW_SSE_BLOCK + GW_SSE_TAG_MAX], back[GW_SSE_BLOCK];
    uint8_t key[32];
    fill(key, 32, 1);
    fill(plain, sizeof(plain), 2);
    for (size_t s = 0; s < N_SUITES; s++) {
        gw_sse_block_key_t *k;
        CHECK_EQ_INT(gw_sse_block_key_new(suites[s], key, 3 * GW_SSE_BLOCK - 5, &k), 0);
        CHECK_EQ_INT(gw_sse_block_seal(k, 2, plain, GW_SSE_BLOCK - 5, sealed), 0);
        CHECK(memcmp(sealed, plain, 64) != 0); /* encrypted, not copied */
        CHECK_EQ_INT(gw_sse_block_open(k, 2, sealed, GW_SSE_BLOCK - 5, back), 0);
        CHECK(memcmp(back, plain, GW_SSE_BLOCK - 5) == 0);
        gw_sse_block_key_free(k);
    }
}

TEST(test_sse_block_opens_in_place)
{
    /* a GET opens each block where the decoded stripe holds it: out == in, for every suite and
     * for lengths that end inside the ciphers' batches */
    static uint8_t plain[GW_SSE_BLOCK], sealed[GW_SSE_BLOCK + GW_SSE_TAG_MAX];
    static const size_t lens[] = {GW_SSE_BLOCK, GW_SSE_BLOCK - 5, 1000, 1};
    uint8_t key[32];
    fill(key, 32, 4);
    fill(plain, sizeof(plain), 5);
    for (size_t s = 0; s < N_SUITES; s++) {
        for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
            gw_sse_block_key_t *k;
            CHECK_EQ_INT(gw_sse_block_key_new(suites[s], key, 2 * GW_SSE_BLOCK, &k), 0);
            CHECK_EQ_INT(gw_sse_block_seal(k, 1, plain, lens[l], sealed), 0);
            CHECK_EQ_INT(gw_sse_block_open(k, 1, sealed, lens[l], sealed), 0);
            CHECK(memcmp(sealed, plain, lens[l]) == 0);
            gw_sse_block_key_free(k);
        }
    }
}

TEST(test_sse_block_open_fails_when_any_bit_flipped)
{
    static uint8_t plain[1000], sealed[1000 + GW_SSE_TAG_MAX], back[1000];
    uint8_t key[32];
    fill(key, 32, 3);
    fill(plain, sizeof(plain), 4);
    for (size_t s = 0; s < N_SUITES; s++) {
        gw_sse_block_key_t *k;
        size_t stored = 1000 + gw_sse_tag_len(suites[s]);
        CHECK_EQ_INT(gw_sse_block_key_new(suites[s], key, 1000, &k), 0);
        CHECK_EQ_INT(gw_sse_block_seal(k, 0, plain, 1000, sealed), 0);
        /* a bit in the ciphertext, one in the tag, at both ends */
        const size_t at[] = {0, 999, 1000, stored - 1};
        for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
            sealed[at[i]] ^= 0x10;
            memset(back, 0xee, sizeof(back));
            CHECK_EQ_INT(gw_sse_block_open(k, 0, sealed, 1000, back), -EBADMSG);
            CHECK(memcmp(back, plain, 16) != 0); /* nothing of the plaintext came out */
            sealed[at[i]] ^= 0x10;
        }
        CHECK_EQ_INT(gw_sse_block_open(k, 0, sealed, 1000, back), 0);
        gw_sse_block_key_free(k);
    }
}

TEST(test_sse_block_open_fails_when_moved_resized_or_from_another_object)
{
    static uint8_t plain[512], sealed[512 + GW_SSE_TAG_MAX], back[512];
    uint8_t key[32], other_key[32];
    fill(key, 32, 5);
    fill(other_key, 32, 6);
    fill(plain, sizeof(plain), 7);
    for (size_t s = 0; s < N_SUITES; s++) {
        gw_sse_block_key_t *k, *resized, *other;
        CHECK_EQ_INT(gw_sse_block_key_new(suites[s], key, 5 * GW_SSE_BLOCK, &k), 0);
        CHECK_EQ_INT(gw_sse_block_key_new(suites[s], key, 4 * GW_SSE_BLOCK, &resized), 0);
        CHECK_EQ_INT(gw_sse_block_key_new(suites[s], other_key, 5 * GW_SSE_BLOCK, &other), 0);
        CHECK_EQ_INT(gw_sse_block_seal(k, 3, plain, 512, sealed), 0);
        CHECK_EQ_INT(gw_sse_block_open(k, 4, sealed, 512, back), -EBADMSG);
        CHECK_EQ_INT(gw_sse_block_open(resized, 3, sealed, 512, back), -EBADMSG);
        CHECK_EQ_INT(gw_sse_block_open(other, 3, sealed, 512, back), -EBADMSG);
        CHECK_EQ_INT(gw_sse_block_open(k, 3, sealed, 512, back), 0);
        gw_sse_block_key_free(k);
        gw_sse_block_key_free(resized);
        gw_sse_block_key_free(other);
    }
}

/* The SM4 path against the GB/T 32907 example: key = plaintext = 0123456789abcdeffedcba9876543210,
 * one block encrypts to 681edf34d206965e86b3e94f536e4246. CTR with a zero counter block turns
 * zeros into the encryption of that block, so the vector checks the cipher under the mode. */
TEST(test_sse_block_of_unknown_size_opens_only_as_such)
{
    static uint8_t plain[1000], sealed[1000 + GW_SSE_TAG_MAX], back[1000];
    uint8_t key[32];
    fill(key, 32, 9);
    fill(plain, sizeof(plain), 10);
    for (size_t s = 0; s < N_SUITES; s++) {
        gw_sse_block_key_t *open_size, *sized;
        CHECK_EQ_INT(gw_sse_block_key_new(suites[s], key, UINT64_MAX, &open_size), 0);
        CHECK_EQ_INT(gw_sse_block_key_new(suites[s], key, 1000, &sized), 0);
        CHECK_EQ_INT(gw_sse_block_seal(open_size, 0, plain, 1000, sealed), 0);
        CHECK_EQ_INT(gw_sse_block_open(open_size, 0, sealed, 1000, back), 0);
        CHECK(memcmp(back, plain, 1000) == 0);
        /* a block sealed before the size was known is no block of an object of any size */
        CHECK_EQ_INT(gw_sse_block_open(sized, 0, sealed, 1000, back), -EBADMSG);
        CHECK_EQ_INT(gw_sse_block_seal(sized, 0, plain, 1000, sealed), 0);
        CHECK_EQ_INT(gw_sse_block_open(open_size, 0, sealed, 1000, back), -EBADMSG);
        gw_sse_block_key_free(open_size);
        gw_sse_block_key_free(sized);
    }
}

TEST(test_sse_sm4_ctr_matches_the_standard_vector)
{
    static const uint8_t key[16] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                                    0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
    static const uint8_t want[16] = {0x68, 0x1e, 0xdf, 0x34, 0xd2, 0x06, 0x96, 0x5e,
                                     0x86, 0xb3, 0xe9, 0x4f, 0x53, 0x6e, 0x42, 0x46};
    uint8_t zeros[16] = {0}, out[16];
    gw_sse_sm4_ctr(key, key, zeros, out, 16);
    CHECK(memcmp(out, want, 16) == 0);
}

TEST(test_sse_key_wrap_opens_only_under_its_kek)
{
    uint8_t kek[32], other[32], key[32], wrapped[GW_SSE_WRAPPED_LEN], wrapped2[GW_SSE_WRAPPED_LEN], back[32];
    fill(kek, 32, 8);
    fill(other, 32, 9);
    fill(key, 32, 10);
    for (size_t s = 0; s < N_SUITES; s++) {
        CHECK_EQ_INT(gw_sse_key_wrap(suites[s], kek, key, wrapped), 0);
        CHECK_EQ_INT(gw_sse_key_wrap(suites[s], kek, key, wrapped2), 0);
        CHECK(memcmp(wrapped, wrapped2, GW_SSE_WRAPPED_LEN) != 0); /* a fresh nonce each time */
        CHECK_EQ_INT(gw_sse_key_unwrap(suites[s], kek, wrapped, back), 0);
        CHECK(memcmp(back, key, 32) == 0);
        CHECK_EQ_INT(gw_sse_key_unwrap(suites[s], other, wrapped, back), -EBADMSG);
        wrapped[20] ^= 1;
        CHECK_EQ_INT(gw_sse_key_unwrap(suites[s], kek, wrapped, back), -EBADMSG);
    }
}

static void be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* The format, spelled out here independently: nonce = HMAC-SHA-256(data key, label)[0..4) ||
 * index (8 bytes), aad = "yc-sse-1" || index || object size, both big-endian. */
static void aes_block_params(const uint8_t key[32], uint64_t index, uint64_t size, uint8_t nonce[12], uint8_t aad[24])
{
    uint8_t mac[32];
    unsigned int len = 0;
    static const char label[] = "yc-sse aes-gcm nonce";
    HMAC(EVP_sha256(), key, 32, (const uint8_t *)label, sizeof(label) - 1, mac, &len);
    memcpy(nonce, mac, 4);
    be64(nonce + 4, index);
    memcpy(aad, "yc-sse-1", 8);
    be64(aad + 8, index);
    be64(aad + 16, size);
}

TEST(test_sse_aes_block_is_openssl_aes_gcm_both_ways)
{
    static uint8_t plain[GW_SSE_BLOCK], sealed[GW_SSE_BLOCK + 16], theirs[GW_SSE_BLOCK + 16], back[GW_SSE_BLOCK];
    uint8_t key[32], nonce[12], aad[24];
    uint64_t size = 5 * (uint64_t)GW_SSE_BLOCK + 77;
    fill(key, 32, 9);
    for (uint64_t index = 0; index < 6; index++) {
        size_t n = index == 5 ? 77 : GW_SSE_BLOCK;
        gw_sse_block_key_t *k;
        EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        int len = 0;
        fill(plain, n, (unsigned)index + 3);
        aes_block_params(key, index, size, nonce, aad);
        CHECK(ctx != NULL && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
              EVP_EncryptUpdate(ctx, NULL, &len, aad, 24) == 1 &&
              EVP_EncryptUpdate(ctx, theirs, &len, plain, (int)n) == 1 &&
              EVP_EncryptFinal_ex(ctx, theirs + n, &len) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, theirs + n) == 1);
        EVP_CIPHER_CTX_free(ctx);
        CHECK_EQ_INT(gw_sse_block_key_new(GW_SSE_AES_GCM, key, size, &k), 0);
        CHECK_EQ_INT(gw_sse_block_seal(k, index, plain, n, sealed), 0);
        CHECK(memcmp(sealed, theirs, n + 16) == 0); /* sealed as OpenSSL seals */
        memset(back, 0, n);
        CHECK_EQ_INT(gw_sse_block_open(k, index, theirs, n, back), 0); /* and opens what it sealed */
        CHECK(memcmp(back, plain, n) == 0);
        gw_sse_block_key_free(k);
    }
}

int main(void)
{
    RUN(test_sse_stored_size_adds_one_tag_per_block);
    RUN(test_sse_block_round_trips_when_untouched);
    RUN(test_sse_block_opens_in_place);
    RUN(test_sse_block_open_fails_when_any_bit_flipped);
    RUN(test_sse_block_open_fails_when_moved_resized_or_from_another_object);
    RUN(test_sse_block_of_unknown_size_opens_only_as_such);
    RUN(test_sse_sm4_ctr_matches_the_standard_vector);
    RUN(test_sse_key_wrap_opens_only_under_its_kek);
    RUN(test_sse_aes_block_is_openssl_aes_gcm_both_ways);
    return unit_done();
}
