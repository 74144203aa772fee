/* test_ghash — GHASH and SM4-GCM: GHASH on every path against a bit-by-bit reference and, through
 * OpenSSL's AES-GCM (whose tag is E_K(J0) ^ GHASH under H = E_K(0)), against an independent
 * implementation on random inputs; SM4-GCM against RFC 8998's vector (A.1) and an empty-message
 * vector, every path against the portable one, and any flipped bit of aad, ciphertext or tag
 * refused with nothing decrypted; AES-256-GCM's VAES path against OpenSSL's on random inputs (every
 * GHASH path under it), in place, and any flipped bit refused with nothing decrypted. */
#include "common/aes_gcm.h"
#include "common/ghash_internal.h"
#include "common/sm4_gcm.h"
#include "tests/unit/unit.h"
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdlib.h>

static const char *const ghash_paths[] = {"c", "pclmul", "vpclmul-avx2", "arm64-pmull"};
static const char *const sm4_paths[] = {"c", "vaes-avx2", "aesni-avx2", "arm64-neon", "arm64-sm4e"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The path the automatic choice takes on this CPU. */
static const char *best_ghash(void)
{
#if defined(__x86_64__)
    if (yc_ghash_vpclmul_supported())
        return "vpclmul-avx2";
    if (yc_ghash_pclmul_supported())
        return "pclmul";
#endif
#if defined(__aarch64__)
    if (yc_ghash_pmull_supported())
        return "arm64-pmull";
#endif
    return "c";
}

static void unhex(const char *hex, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static void random_bytes(uint8_t *p, size_t n)
{
    if (n > 0 && RAND_bytes(p, (int)n) != 1)
        abort();
}

static size_t random_below(size_t n)
{
    uint32_t r;
    random_bytes((uint8_t *)&r, sizeof(r));
    return r % n;
}

/* The reference: one multiply per block with the bit-by-bit multiply. */
static void ghash_reference(const uint8_t h[16], uint8_t x[16], const uint8_t *in, size_t n)
{
    for (size_t b = 0; b < n; b += 16) {
        uint8_t t[16];
        for (int i = 0; i < 16; i++)
            t[i] = x[i] ^ in[b + i];
        yc_ghash_mul_c(t, h, x);
    }
}

TEST(test_ghash_mul_has_identity_and_commutes)
{
    uint8_t one[16] = {0x80}, a[16], b[16], ab[16], ba[16], out[16];
    random_bytes(a, 16);
    random_bytes(b, 16);
    yc_ghash_mul_c(a, one, out); /* 0x80 in byte 0 is the polynomial 1 in GCM's bit order */
    CHECK(memcmp(out, a, 16) == 0);
    yc_ghash_mul_c(a, b, ab);
    yc_ghash_mul_c(b, a, ba);
    CHECK(memcmp(ab, ba, 16) == 0);
}

TEST(test_ghash_matches_reference_on_every_path)
{
    static uint8_t data[16 * 40];
    for (size_t p = 0; p < COUNT(ghash_paths); p++) {
        if (yc_ghash_use_impl(ghash_paths[p]) != 0)
            continue; /* not on this CPU */
        for (int round = 0; round < 200; round++) {
            uint8_t h[16], x0[16], want[16], got[16];
            size_t blocks = random_below(41); /* 0 .. 40: short groups, full groups of 8, both */
            random_bytes(h, 16);
            random_bytes(x0, 16);
            random_bytes(data, blocks * 16);
            yc_ghash_key k;
            yc_ghash_init(&k, h);
            memcpy(want, x0, 16);
            ghash_reference(h, want, data, blocks * 16);
            memcpy(got, x0, 16);
            yc_ghash_update(&k, got, data, blocks * 16);
            CHECK(memcmp(want, got, 16) == 0);
        }
    }
    CHECK_EQ_INT(yc_ghash_use_impl(best_ghash()), 0);
}

/* AES-128-GCM by OpenSSL with a 12-byte nonce: ciphertext into c, tag into tag. 0 on success. */
static int openssl_aes_gcm(const uint8_t key[16], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                           const uint8_t *p, size_t n, uint8_t *c, uint8_t tag[16])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, ok;
    ok = ctx != NULL && EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, key, nonce) == 1 &&
         (aad_len == 0 || EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aad_len) == 1) &&
         (n == 0 || EVP_EncryptUpdate(ctx, c, &len, p, (int)n) == 1) && EVP_EncryptFinal_ex(ctx, c + n, &len) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

static int aes_block(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, ok;
    ok = ctx != NULL && EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, key, NULL) == 1 &&
         EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 && EVP_EncryptUpdate(ctx, out, &len, in, 16) == 1 && len == 16;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

static void ghash_padded(const yc_ghash_key *k, uint8_t x[16], const uint8_t *p, size_t n)
{
    uint8_t last[16] = {0};
    yc_ghash_update(k, x, p, n & ~(size_t)15);
    memcpy(last, p + (n & ~(size_t)15), n & 15);
    if (n & 15)
        yc_ghash_update(k, x, last, 16);
}

TEST(test_ghash_gives_openssl_aes_gcm_tags_on_every_path)
{
    static uint8_t aad[300], plain[2000], cipher[2000 + 16];
    for (size_t p = 0; p < COUNT(ghash_paths); p++) {
        if (yc_ghash_use_impl(ghash_paths[p]) != 0)
            continue;
        for (int round = 0; round < 100; round++) {
            uint8_t key[16], nonce[12], h[16] = {0}, j0[16], mask[16], want[16], x[16] = {0}, lens[16] = {0};
            size_t aad_len = random_below(sizeof(aad) + 1), n = random_below(sizeof(plain) + 1);
            random_bytes(key, 16);
            random_bytes(nonce, 12);
            random_bytes(aad, aad_len);
            random_bytes(plain, n);
            CHECK_EQ_INT(openssl_aes_gcm(key, nonce, aad, aad_len, plain, n, cipher, want), 0);
            CHECK_EQ_INT(aes_block(key, h, h), 0);
            memcpy(j0, nonce, 12);
            memcpy(j0 + 12, "\0\0\0\1", 4);
            CHECK_EQ_INT(aes_block(key, j0, mask), 0);
            yc_ghash_key k;
            yc_ghash_init(&k, h);
            ghash_padded(&k, x, aad, aad_len);
            ghash_padded(&k, x, cipher, n);
            for (int i = 0; i < 8; i++) {
                lens[7 - i] = (uint8_t)((uint64_t)aad_len * 8 >> (8 * i));
                lens[15 - i] = (uint8_t)((uint64_t)n * 8 >> (8 * i));
            }
            yc_ghash_update(&k, x, lens, 16);
            for (int i = 0; i < 16; i++)
                x[i] ^= mask[i];
            CHECK(memcmp(x, want, 16) == 0);
        }
    }
    CHECK_EQ_INT(yc_ghash_use_impl(best_ghash()), 0);
}

TEST(test_sm4_gcm_matches_rfc8998_vector)
{
    uint8_t key[16], nonce[12], aad[20], plain[64], want[64], want_tag[16], out[64], tag[16], back[64];
    unhex("0123456789ABCDEFFEDCBA9876543210", key, 16);
    unhex("00001234567800000000ABCD", nonce, 12);
    unhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2", aad, 20);
    unhex("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
          "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA",
          plain, 64);
    unhex("17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735"
          "D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D",
          want, 64);
    unhex("83DE3541E4C2B58177E065A9BF7B62EC", want_tag, 16);
    for (size_t p = 0; p < COUNT(ghash_paths); p++) {
        if (yc_ghash_use_impl(ghash_paths[p]) != 0)
            continue;
        yc_sm4_gcm_key k;
        yc_sm4_gcm_init(&k, key);
        yc_sm4_gcm_seal(&k, nonce, aad, sizeof(aad), plain, sizeof(plain), out, tag);
        CHECK(memcmp(out, want, 64) == 0);
        CHECK(memcmp(tag, want_tag, 16) == 0);
        CHECK_EQ_INT(yc_sm4_gcm_open(&k, nonce, aad, sizeof(aad), want, sizeof(want), want_tag, back), 0);
        CHECK(memcmp(back, plain, 64) == 0);
    }
    CHECK_EQ_INT(yc_ghash_use_impl(best_ghash()), 0);
}

TEST(test_sm4_gcm_matches_empty_message_vector)
{
    uint8_t key[16], nonce[12], want_tag[16], tag[16];
    unhex("bedcfb5a011ebc84600fcb296c15af0d", key, 16);
    unhex("438a547a94ea88dce46c6c85", nonce, 12);
    unhex("a486a45596cb92cf529de2038583707d", want_tag, 16);
    yc_sm4_gcm_key k;
    yc_sm4_gcm_init(&k, key);
    yc_sm4_gcm_seal(&k, nonce, NULL, 0, NULL, 0, NULL, tag);
    CHECK(memcmp(tag, want_tag, 16) == 0);
}

TEST(test_sm4_gcm_fast_paths_match_portable_ones)
{
    static uint8_t plain[70000], want[70000], got[70000];
    uint8_t key[16], nonce[12], aad[24], want_tag[16], tag[16];
    for (int round = 0; round < 6; round++) {
        size_t n = round == 0 ? sizeof(plain) : random_below(sizeof(plain) + 1);
        random_bytes(key, 16);
        random_bytes(nonce, 12);
        random_bytes(aad, sizeof(aad));
        random_bytes(plain, n);
        yc_sm4_gcm_key k;
        yc_sm4_gcm_init(&k, key);
        CHECK_EQ_INT(yc_sm4_use_impl("c"), 0);
        CHECK_EQ_INT(yc_ghash_use_impl("c"), 0);
        yc_sm4_gcm_seal(&k, nonce, aad, sizeof(aad), plain, n, want, want_tag);
        for (size_t s = 0; s < COUNT(sm4_paths); s++) {
            if (yc_sm4_use_impl(sm4_paths[s]) != 0)
                continue;
            for (size_t g = 0; g < COUNT(ghash_paths); g++) {
                if (yc_ghash_use_impl(ghash_paths[g]) != 0)
                    continue;
                memcpy(got, plain, n); /* in place, as the gateway seals */
                yc_sm4_gcm_seal(&k, nonce, aad, sizeof(aad), got, n, got, tag);
                CHECK(memcmp(got, want, n) == 0);
                CHECK(memcmp(tag, want_tag, 16) == 0);
                CHECK_EQ_INT(yc_sm4_gcm_open(&k, nonce, aad, sizeof(aad), got, n, tag, got), 0);
                CHECK(memcmp(got, plain, n) == 0);
            }
        }
    }
    CHECK_EQ_INT(yc_sm4_use_impl(yc_sm4_impl_best()), 0);
    CHECK_EQ_INT(yc_ghash_use_impl(best_ghash()), 0);
}

TEST(test_sm4_gcm_open_refuses_any_flipped_bit)
{
    uint8_t key[16], nonce[12], aad[24], plain[100], sealed[100], tag[16], out[100];
    random_bytes(key, 16);
    random_bytes(nonce, 12);
    random_bytes(aad, sizeof(aad));
    random_bytes(plain, sizeof(plain));
    yc_sm4_gcm_key k;
    yc_sm4_gcm_init(&k, key);
    yc_sm4_gcm_seal(&k, nonce, aad, sizeof(aad), plain, sizeof(plain), sealed, tag);
    for (size_t bit = 0; bit < 8 * (sizeof(aad) + sizeof(sealed) + sizeof(tag) + sizeof(nonce)); bit += 3) {
        size_t byte = bit / 8;
        uint8_t *at = byte < sizeof(aad)                       ? aad + byte
                      : (byte -= sizeof(aad)) < sizeof(sealed) ? sealed + byte
                      : (byte -= sizeof(sealed)) < sizeof(tag) ? tag + byte
                                                               : nonce + (byte - sizeof(tag));
        *at ^= (uint8_t)(1u << (bit % 8));
        memset(out, 0xee, sizeof(out));
        CHECK_EQ_INT(yc_sm4_gcm_open(&k, nonce, aad, sizeof(aad), sealed, sizeof(sealed), tag, out), -EBADMSG);
        CHECK(out[0] == 0xee && out[99] == 0xee); /* nothing decrypted */
        *at ^= (uint8_t)(1u << (bit % 8));
    }
    CHECK_EQ_INT(yc_sm4_gcm_open(&k, nonce, aad, sizeof(aad), sealed, sizeof(sealed), tag, out), 0);
    CHECK(memcmp(out, plain, sizeof(plain)) == 0);
}

/* AES-256-GCM by OpenSSL with a 12-byte nonce: ciphertext into c, tag into tag. 0 on success. */
static int openssl_aes256_gcm(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                              const uint8_t *p, size_t n, uint8_t *c, uint8_t tag[16])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, ok;
    ok = ctx != NULL && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
         (aad_len == 0 || EVP_EncryptUpdate(ctx, NULL, &len, aad, (int)aad_len) == 1) &&
         (n == 0 || EVP_EncryptUpdate(ctx, c, &len, p, (int)n) == 1) && EVP_EncryptFinal_ex(ctx, c + n, &len) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

TEST(test_aes_gcm_matches_openssl_on_random_inputs)
{
    /* lengths around the 256-byte batch and a whole 64 KiB block, and random ones */
    static const size_t fixed[] = {0, 1, 15, 16, 17, 31, 32, 255, 256, 257, 511, 512, 4096, 65536, 65536 + 100};
    static uint8_t aad[64], plain[65536 + 100], want[65536 + 100 + 16], out[65536 + 100], back[65536 + 100];
    if (!yc_aes256_gcm_available()) {
        yc_aes256_gcm_key k;
        CHECK_EQ_INT(yc_aes256_gcm_init(&k, plain), -ENOTSUP);
        return;
    }
    for (size_t p = 0; p < COUNT(ghash_paths); p++) {
        if (yc_ghash_use_impl(ghash_paths[p]) != 0)
            continue;
        for (size_t round = 0; round < COUNT(fixed) + 40; round++) {
            uint8_t key[32], nonce[12], want_tag[16], tag[16];
            size_t n = round < COUNT(fixed) ? fixed[round] : random_below(3000);
            size_t aad_len = random_below(sizeof(aad) + 1);
            yc_aes256_gcm_key k;
            random_bytes(key, 32);
            random_bytes(nonce, 12);
            if (round % 7 == 0)
                memset(nonce + 8, 0xff, 4); /* the counter word runs into its top bits */
            random_bytes(aad, aad_len);
            random_bytes(plain, n);
            CHECK_EQ_INT(openssl_aes256_gcm(key, nonce, aad, aad_len, plain, n, want, want_tag), 0);
            CHECK_EQ_INT(yc_aes256_gcm_init(&k, key), 0);
            yc_aes256_gcm_seal(&k, nonce, aad, aad_len, plain, n, out, tag);
            CHECK(memcmp(out, want, n) == 0);
            CHECK(memcmp(tag, want_tag, 16) == 0);
            memset(back, 0, n);
            CHECK_EQ_INT(yc_aes256_gcm_open(&k, nonce, aad, aad_len, out, n, tag, back), 0);
            CHECK(memcmp(back, plain, n) == 0);
            /* in place both ways */
            memcpy(back, plain, n);
            yc_aes256_gcm_seal(&k, nonce, aad, aad_len, back, n, back, tag);
            CHECK(memcmp(back, want, n) == 0);
            CHECK_EQ_INT(yc_aes256_gcm_open(&k, nonce, aad, aad_len, back, n, tag, back), 0);
            CHECK(memcmp(back, plain, n) == 0);
        }
    }
    CHECK_EQ_INT(yc_ghash_use_impl(best_ghash()), 0);
}

TEST(test_aes_gcm_open_refuses_any_flipped_bit)
{
    uint8_t key[32], nonce[12], aad[24], plain[300], sealed[300], tag[16], out[300];
    yc_aes256_gcm_key k;
    if (!yc_aes256_gcm_available())
        return; /* no fast path on this CPU: the caller uses OpenSSL */
    random_bytes(key, 32);
    random_bytes(nonce, 12);
    random_bytes(aad, sizeof(aad));
    random_bytes(plain, sizeof(plain));
    CHECK_EQ_INT(yc_aes256_gcm_init(&k, key), 0);
    yc_aes256_gcm_seal(&k, nonce, aad, sizeof(aad), plain, sizeof(plain), sealed, tag);
    for (size_t bit = 0; bit < 8 * (sizeof(aad) + sizeof(sealed) + sizeof(tag) + sizeof(nonce)); bit += 5) {
        size_t byte = bit / 8;
        uint8_t *at = byte < sizeof(aad)                       ? aad + byte
                      : (byte -= sizeof(aad)) < sizeof(sealed) ? sealed + byte
                      : (byte -= sizeof(sealed)) < sizeof(tag) ? tag + byte
                                                               : nonce + (byte - sizeof(tag));
        *at ^= (uint8_t)(1u << (bit % 8));
        memset(out, 0xee, sizeof(out));
        CHECK_EQ_INT(yc_aes256_gcm_open(&k, nonce, aad, sizeof(aad), sealed, sizeof(sealed), tag, out), -EBADMSG);
        CHECK(out[0] == 0xee && out[299] == 0xee); /* nothing decrypted */
        *at ^= (uint8_t)(1u << (bit % 8));
    }
    CHECK_EQ_INT(yc_aes256_gcm_open(&k, nonce, aad, sizeof(aad), sealed, sizeof(sealed), tag, out), 0);
    CHECK(memcmp(out, plain, sizeof(plain)) == 0);
}

TEST(test_ghash_automatic_choice_is_the_fastest_the_cpu_has)
{
    CHECK(strcmp(yc_ghash_impl(), best_ghash()) == 0);
    CHECK_EQ_INT(yc_ghash_use_impl("no-such-path"), -ENOTSUP);
}

int main(void)
{
    RUN(test_ghash_automatic_choice_is_the_fastest_the_cpu_has); /* first: before a test forces a path */
    RUN(test_ghash_mul_has_identity_and_commutes);
    RUN(test_ghash_matches_reference_on_every_path);
    RUN(test_ghash_gives_openssl_aes_gcm_tags_on_every_path);
    RUN(test_sm4_gcm_matches_rfc8998_vector);
    RUN(test_sm4_gcm_matches_empty_message_vector);
    RUN(test_sm4_gcm_fast_paths_match_portable_ones);
    RUN(test_sm4_gcm_open_refuses_any_flipped_bit);
    RUN(test_aes_gcm_matches_openssl_on_random_inputs);
    RUN(test_aes_gcm_open_refuses_any_flipped_bit);
    return unit_done();
}
