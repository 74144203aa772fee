/* test_s3_checksum.c — known answers for every S3 checksum, incremental feeding, base64 and hex. */
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/checksum.h"
#include "tests/unit/unit.h"

static h2o_iovec_t iov(const char *s)
{
    return h2o_iovec_init(s, strlen(s));
}

/* hex of the digest of s under alg */
static void digest_hex(s3_checksum_alg_t alg, const char *s, char *hex)
{
    uint8_t d[S3_CHECKSUM_MAX_SIZE];
    size_t n = 0;
    if (s3_checksum_compute(alg, s, strlen(s), d, &n) != 0)
        n = 0;
    s3_checksum_to_hex(d, n, hex);
}

TEST(test_checksum_known_answers_123456789)
{
    static const struct {
        s3_checksum_alg_t alg;
        const char *hex;
    } cases[] = {
        {S3_CHECKSUM_CRC32, "cbf43926"},
        {S3_CHECKSUM_CRC32C, "e3069283"},
        {S3_CHECKSUM_CRC64NVME, "ae8b14860a799888"},
        {S3_CHECKSUM_SHA1, "f7c3bc1d808e04732adf679965ccc34ca7ae3441"},
        {S3_CHECKSUM_SHA256, "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225"},
        {S3_CHECKSUM_MD5, "25f9e794323b453885f5181f1b624d0b"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char hex[2 * S3_CHECKSUM_MAX_SIZE + 1];
        digest_hex(cases[i].alg, "123456789", hex);
        if (strcmp(hex, cases[i].hex) != 0) {
            fprintf(stderr, "  %s: got %s\n", s3_checksum_alg_name(cases[i].alg), hex);
            CHECK(0);
        }
    }
}

TEST(test_checksum_empty_input_known_answers)
{
    char hex[2 * S3_CHECKSUM_MAX_SIZE + 1];
    digest_hex(S3_CHECKSUM_CRC32, "", hex);
    CHECK(strcmp(hex, "00000000") == 0);
    digest_hex(S3_CHECKSUM_CRC32C, "", hex);
    CHECK(strcmp(hex, "00000000") == 0);
    digest_hex(S3_CHECKSUM_SHA256, "", hex);
    CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0);
}

TEST(test_checksum_incremental_equals_one_shot)
{
    size_t len = 100000;
    uint8_t *data = malloc(len);
    CHECK(data != NULL);
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(i * 131 + (i >> 7));
    int bad = 0;
    for (s3_checksum_alg_t alg = S3_CHECKSUM_CRC32; alg <= S3_CHECKSUM_MD5 && !bad; alg++) {
        uint8_t a[S3_CHECKSUM_MAX_SIZE], b[S3_CHECKSUM_MAX_SIZE];
        size_t na, nb, off = 0, step = 1;
        s3_checksum_t c;
        s3_checksum_compute(alg, data, len, a, &na);
        if (s3_checksum_init(&c, alg) != 0) {
            bad = 1;
            break;
        }
        while (off < len) { /* pieces of growing, odd sizes */
            size_t n = len - off < step ? len - off : step;
            s3_checksum_update(&c, data + off, n);
            off += n;
            step = step * 3 + 1;
        }
        s3_checksum_final(&c, b, &nb);
        s3_checksum_dispose(&c);
        bad = na != nb || memcmp(a, b, na) != 0;
        if (bad)
            fprintf(stderr, "  %s differs\n", s3_checksum_alg_name(alg));
    }
    free(data);
    CHECK(!bad);
}

TEST(test_checksum_sizes)
{
    CHECK_EQ_INT(s3_checksum_size(S3_CHECKSUM_CRC32), 4);
    CHECK_EQ_INT(s3_checksum_size(S3_CHECKSUM_CRC32C), 4);
    CHECK_EQ_INT(s3_checksum_size(S3_CHECKSUM_CRC64NVME), 8);
    CHECK_EQ_INT(s3_checksum_size(S3_CHECKSUM_SHA1), 20);
    CHECK_EQ_INT(s3_checksum_size(S3_CHECKSUM_SHA256), 32);
    CHECK_EQ_INT(s3_checksum_size(S3_CHECKSUM_MD5), 16);
    CHECK_EQ_INT(s3_checksum_size(S3_CHECKSUM_NONE), 0);
}

TEST(test_checksum_init_unknown_rejected)
{
    s3_checksum_t c;
    CHECK_EQ_INT(s3_checksum_init(&c, S3_CHECKSUM_NONE), S3_CHECKSUM_EINVAL);
    CHECK_EQ_INT(s3_checksum_init(&c, (s3_checksum_alg_t)99), S3_CHECKSUM_EINVAL);
}

TEST(test_checksum_names_map_both_ways)
{
    s3_checksum_alg_t alg;
    CHECK_EQ_INT(s3_checksum_alg_from_header(iov("x-amz-checksum-crc32c"), &alg), 0);
    CHECK_EQ_INT(alg, S3_CHECKSUM_CRC32C);
    CHECK_EQ_INT(s3_checksum_alg_from_header(iov("X-Amz-Checksum-SHA256"), &alg), 0);
    CHECK_EQ_INT(alg, S3_CHECKSUM_SHA256);
    CHECK_EQ_INT(s3_checksum_alg_from_header(iov("x-amz-checksum-crc"), &alg), S3_CHECKSUM_EINVAL);
    CHECK_EQ_INT(s3_checksum_alg_from_header(iov("x-amz-checksum-md5"), &alg), S3_CHECKSUM_EINVAL);
    CHECK_EQ_INT(s3_checksum_alg_from_name(iov("crc64nvme"), &alg), 0);
    CHECK_EQ_INT(alg, S3_CHECKSUM_CRC64NVME);
    CHECK_EQ_INT(s3_checksum_alg_from_name(iov("MD5"), &alg), S3_CHECKSUM_EINVAL);
    CHECK(strcmp(s3_checksum_header_name(S3_CHECKSUM_SHA1), "x-amz-checksum-sha1") == 0);
    CHECK(s3_checksum_header_name(S3_CHECKSUM_MD5) == NULL);
    CHECK(strcmp(s3_checksum_alg_name(S3_CHECKSUM_CRC32), "CRC32") == 0);
}

TEST(test_base64_round_trip_all_lengths)
{
    uint8_t in[40], back[40];
    char b64[64];
    for (size_t len = 0; len <= sizeof(in); len++) {
        for (size_t i = 0; i < len; i++)
            in[i] = (uint8_t)(len * 7 + i * 29);
        size_t n = s3_checksum_to_base64(in, len, b64), m = 0;
        CHECK_EQ_INT(n, 4 * ((len + 2) / 3));
        CHECK_EQ_INT(s3_checksum_from_base64(h2o_iovec_init(b64, n), back, sizeof(back), &m), 0);
        CHECK_EQ_INT(m, len);
        CHECK(memcmp(in, back, len) == 0);
    }
}

TEST(test_base64_known_answer)
{
    char b64[16];
    /* the S3 docs' Content-MD5 style: base64 of the big-endian CRC32 of "123456789" */
    s3_checksum_to_base64((const uint8_t *)"\xcb\xf4\x39\x26", 4, b64);
    CHECK(strcmp(b64, "y/Q5Jg==") == 0);
}

TEST(test_base64_invalid_rejected)
{
    const char *bad[] = {
        "y/Q5Jg=", "y/Q5J===", "y/Q5Jh==", "y/Q=5Jg=", "y/Q5 g==", "y/Q5Jg==AAAA=", "====", "y-Q5Jg=="};
    uint8_t out[32];
    size_t n;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (s3_checksum_from_base64(iov(bad[i]), out, sizeof(out), &n) != S3_CHECKSUM_EINVAL) {
            fprintf(stderr, "  accepted %s\n", bad[i]);
            CHECK(0);
        }
    }
    CHECK_EQ_INT(s3_checksum_from_base64(iov("AAAAAAAA"), out, 5, &n), S3_CHECKSUM_EINVAL); /* too long */
}

TEST(test_compare_base64_results)
{
    const uint8_t crc[4] = {0xcb, 0xf4, 0x39, 0x26};
    CHECK_EQ_INT(s3_checksum_compare_base64(crc, 4, iov("y/Q5Jg==")), 0);
    CHECK_EQ_INT(s3_checksum_compare_base64(crc, 4, iov("y/Q5Jw==")), S3_CHECKSUM_MISMATCH);
    CHECK_EQ_INT(s3_checksum_compare_base64(crc, 4, iov("y/Q5")), S3_CHECKSUM_EINVAL);
    CHECK_EQ_INT(s3_checksum_compare_base64(crc, 4, iov("")), S3_CHECKSUM_EINVAL);
}

TEST(test_hex_round_trip_and_invalid)
{
    uint8_t out[4];
    char hex[9];
    CHECK_EQ_INT(s3_checksum_from_hex(iov("CbF43926"), out, 4), 0);
    s3_checksum_to_hex(out, 4, hex);
    CHECK(strcmp(hex, "cbf43926") == 0);
    CHECK_EQ_INT(s3_checksum_from_hex(iov("cbf4392"), out, 4), S3_CHECKSUM_EINVAL);
    CHECK_EQ_INT(s3_checksum_from_hex(iov("cbf4392g"), out, 4), S3_CHECKSUM_EINVAL);
}

int main(void)
{
    RUN(test_checksum_known_answers_123456789);
    RUN(test_checksum_empty_input_known_answers);
    RUN(test_checksum_incremental_equals_one_shot);
    RUN(test_checksum_sizes);
    RUN(test_checksum_init_unknown_rejected);
    RUN(test_checksum_names_map_both_ways);
    RUN(test_base64_round_trip_all_lengths);
    RUN(test_base64_known_answer);
    RUN(test_base64_invalid_rejected);
    RUN(test_compare_base64_results);
    RUN(test_hex_round_trip_and_invalid);
    return unit_done();
}
