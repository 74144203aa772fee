/* test_sm4 — SM4 against the standard and against OpenSSL: the GB/T 32907-2016 examples (one
 * block, and one block encrypted 1,000,000 times), decryption undoing encryption, and CTR equal
 * to OpenSSL's EVP_sm4_ctr on random keys, counters, lengths and alignments, across the 2^32,
 * 2^64 and 2^128 counter boundaries, on every path this CPU can run (each one forced in turn). */
#include "common/sm4.h"
#include "tests/unit/unit.h"
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdlib.h>

static const char *const all_paths[] = {"c", "vaes-avx2", "aesni-avx2", "arm64-neon", "arm64-sm4e"};
#define N_PATHS (sizeof(all_paths) / sizeof(all_paths[0]))

static void unhex16(const char *hex, uint8_t out[16])
{
    for (int i = 0; i < 16; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        out[i] = (uint8_t)v;
    }
}

static void random_bytes(uint8_t *p, size_t n)
{
    if (RAND_bytes(p, (int)n) != 1)
        abort();
}

static size_t random_below(size_t n)
{
    uint32_t r;
    random_bytes((uint8_t *)&r, sizeof(r));
    return r % n;
}

/* OpenSSL's SM4-CTR of n bytes; 0 on success. */
static int openssl_ctr(const uint8_t key[16], const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t n)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0, ok;

    ok = ctx != NULL && EVP_EncryptInit_ex(ctx, EVP_sm4_ctr(), NULL, key, iv) == 1 &&
         EVP_EncryptUpdate(ctx, out, &len, in, (int)n) == 1 && EVP_EncryptFinal_ex(ctx, out + len, &fin) == 1 &&
         (size_t)(len + fin) == n;
    EVP_CIPHER_CTX_free(ctx);
    return ok ? 0 : -1;
}

TEST(test_encrypt_block_matches_standard_example)
{
    uint8_t key[16], expected[16], out[16], back[16];
    yc_sm4_key k;

    unhex16("0123456789abcdeffedcba9876543210", key);
    unhex16("681edf34d206965e86b3e94f536e4246", expected);
    yc_sm4_set_key(&k, key);
    yc_sm4_encrypt_block(&k, key, out); /* the example's plaintext is its key */
    CHECK(memcmp(out, expected, 16) == 0);
    yc_sm4_decrypt_block(&k, out, back);
    CHECK(memcmp(back, key, 16) == 0);
}

TEST(test_encrypt_block_matches_standard_million_iterations)
{
    uint8_t key[16], expected[16], block[16];
    yc_sm4_key k;

    unhex16("0123456789abcdeffedcba9876543210", key);
    unhex16("595298c7c6fd271f0402f804c33d3f66", expected);
    yc_sm4_set_key(&k, key);
    memcpy(block, key, 16);
    for (int i = 0; i < 1000000; i++)
        yc_sm4_encrypt_block(&k, block, block); /* in place, as the header allows */
    CHECK(memcmp(block, expected, 16) == 0);
    for (int i = 0; i < 1000000; i++)
        yc_sm4_decrypt_block(&k, block, block);
    CHECK(memcmp(block, key, 16) == 0);
}

TEST(test_decrypt_undoes_encrypt_on_random_blocks)
{
    for (int i = 0; i < 1000; i++) {
        uint8_t key[16], in[16], enc[16], dec[16];
        yc_sm4_key k;
        random_bytes(key, 16);
        random_bytes(in, 16);
        yc_sm4_set_key(&k, key);
        yc_sm4_encrypt_block(&k, in, enc);
        CHECK(memcmp(enc, in, 16) != 0);
        yc_sm4_decrypt_block(&k, enc, dec);
        CHECK(memcmp(dec, in, 16) == 0);
    }
}

TEST(test_encrypt_block_matches_openssl_ecb)
{
    for (int i = 0; i < 200; i++) {
        uint8_t key[16], in[16], ours[16], theirs[32];
        int len = 0;
        yc_sm4_key k;
        random_bytes(key, 16);
        random_bytes(in, 16);
        yc_sm4_set_key(&k, key);
        yc_sm4_encrypt_block(&k, in, ours);
        EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        CHECK(ctx != NULL);
        int ok = EVP_EncryptInit_ex(ctx, EVP_sm4_ecb(), NULL, key, NULL) == 1 && EVP_CIPHER_CTX_set_padding(ctx, 0) &&
                 EVP_EncryptUpdate(ctx, theirs, &len, in, 16) == 1;
        EVP_CIPHER_CTX_free(ctx);
        CHECK(ok && len == 16);
        CHECK(memcmp(ours, theirs, 16) == 0);
    }
}

/* One CTR case: n bytes at offsets that make the buffers unaligned, compared with OpenSSL, then
 * the same in place. Prints the case when it fails. */
static int ctr_case_matches(const char *path, const uint8_t key[16], const uint8_t iv[16], size_t n)
{
    size_t in_off = random_below(32), out_off = random_below(32);
    uint8_t *in = malloc(n + 32), *ours = malloc(n + 32), *theirs = malloc(n + 32);
    yc_sm4_key k;
    int ok = 0;

    if (in == NULL || ours == NULL || theirs == NULL)
        goto done;
    random_bytes(in + in_off, n);
    yc_sm4_set_key(&k, key);
    yc_sm4_ctr(&k, iv, in + in_off, ours + out_off, n);
    if (openssl_ctr(key, iv, in + in_off, theirs, n) != 0 || memcmp(ours + out_off, theirs, n) != 0)
        goto done;
    yc_sm4_ctr(&k, iv, in + in_off, in + in_off, n);
    ok = memcmp(in + in_off, theirs, n) == 0;
done:
    if (!ok) {
        fprintf(stderr, "  path %s, n %zu, offsets %zu/%zu, iv ", path, n, in_off, out_off);
        for (int i = 0; i < 16; i++)
            fprintf(stderr, "%02x", iv[i]);
        fprintf(stderr, "\n");
    }
    free(in);
    free(ours);
    free(theirs);
    return ok;
}

/* Sets the counter's low `bits` bits to all ones minus a few blocks, so that the stream crosses
 * 2^bits within its first 64 blocks. */
static void iv_near_wrap(uint8_t iv[16], int bits)
{
    random_bytes(iv, 16);
    memset(iv + 16 - bits / 8, 0xff, (size_t)bits / 8);
    iv[15] = (uint8_t)(0xff - random_below(64));
}

TEST(test_ctr_matches_openssl_on_every_path)
{
    int ran = 0;

    for (size_t p = 0; p < N_PATHS; p++) {
        if (yc_sm4_use_impl(all_paths[p]) != 0) {
            printf("  sm4 path %s: this CPU cannot run it, not tested here\n", all_paths[p]);
            continue;
        }
        CHECK(strcmp(yc_sm4_impl(), all_paths[p]) == 0);
        ran++;
        for (int i = 0; i < 300; i++) {
            uint8_t key[16], iv[16];
            size_t n = i < 20 ? (size_t)i : i < 40 ? 256 * (size_t)(i - 19) + random_below(3) - 1 : random_below(10001);
            random_bytes(key, 16);
            random_bytes(iv, 16);
            CHECK(ctr_case_matches(all_paths[p], key, iv, n));
        }
        static const int wraps[] = {32, 64, 128};
        for (int w = 0; w < 3; w++) {
            for (int i = 0; i < 20; i++) {
                uint8_t key[16], iv[16];
                random_bytes(key, 16);
                iv_near_wrap(iv, wraps[w]);
                CHECK(ctr_case_matches(all_paths[p], key, iv, 1 + random_below(3000)));
            }
        }
    }
    CHECK(ran >= 1);
    CHECK_EQ_INT(yc_sm4_use_impl(yc_sm4_impl_best()), 0);
}

TEST(test_ctr_in_whole_block_pieces_continues_the_stream)
{
    uint8_t key[16], iv[16], in[4096], whole[4096], pieces[4096];
    yc_sm4_key k;

    random_bytes(key, 16);
    iv_near_wrap(iv, 64);
    random_bytes(in, sizeof(in));
    yc_sm4_set_key(&k, key);
    yc_sm4_ctr(&k, iv, in, whole, sizeof(in));
    size_t done = 0;
    uint8_t ctr[16];
    memcpy(ctr, iv, 16);
    while (done < sizeof(in)) {
        size_t n = 16 * (1 + random_below(40));
        if (n > sizeof(in) - done)
            n = sizeof(in) - done;
        yc_sm4_ctr(&k, ctr, in + done, pieces + done, n);
        done += n;
        for (size_t b = 0; b < n / 16; b++)
            for (int i = 15; i >= 0 && ++ctr[i] == 0; i--)
                ;
    }
    CHECK(memcmp(whole, pieces, sizeof(in)) == 0);
}

TEST(test_automatic_choice_is_a_fast_path_when_the_cpu_has_one)
{
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("aes"))
        CHECK(strcmp(yc_sm4_impl_best(), "c") != 0);
    if (__builtin_cpu_supports("vaes"))
        CHECK(strcmp(yc_sm4_impl_best(), "vaes-avx2") == 0);
#elif defined(__aarch64__)
    CHECK(strncmp(yc_sm4_impl_best(), "arm64-", 6) == 0); /* NEON is part of every arm64 Linux CPU */
#endif
}

TEST(test_use_impl_refuses_unknown_path)
{
    CHECK_EQ_INT(yc_sm4_use_impl("rot13"), -ENOTSUP);
    CHECK(strcmp(yc_sm4_impl(), yc_sm4_impl_best()) == 0);
}

int main(void)
{
    printf("  sm4 path chosen on this CPU: %s\n", yc_sm4_impl_best());
    RUN(test_encrypt_block_matches_standard_example);
    RUN(test_encrypt_block_matches_standard_million_iterations);
    RUN(test_decrypt_undoes_encrypt_on_random_blocks);
    RUN(test_encrypt_block_matches_openssl_ecb);
    RUN(test_ctr_matches_openssl_on_every_path);
    RUN(test_ctr_in_whole_block_pieces_continues_the_stream);
    RUN(test_automatic_choice_is_a_fast_path_when_the_cpu_has_one);
    RUN(test_use_impl_refuses_unknown_path);
    return unit_done();
}
