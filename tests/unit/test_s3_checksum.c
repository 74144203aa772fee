/* test_s3_checksum.c — known answers for every S3 checksum, incremental feeding, base64 and hex,
 * CRC combination and the checksums of multipart objects (full-object and composite). */
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
    yc_hex(d, n, hex);
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
        size_t n = yc_base64_encode(in, len, b64), m = 0;
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
    yc_base64_encode((const uint8_t *)"\xcb\xf4\x39\x26", 4, b64);
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
    yc_hex(out, 4, hex);
    CHECK(strcmp(hex, "cbf43926") == 0);
    CHECK_EQ_INT(s3_checksum_from_hex(iov("cbf4392"), out, 4), S3_CHECKSUM_EINVAL);
    CHECK_EQ_INT(s3_checksum_from_hex(iov("cbf4392g"), out, 4), S3_CHECKSUM_EINVAL);
}

/* deterministic bytes, different at every offset */
static void fill(uint8_t *p, size_t len, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

static const s3_checksum_alg_t crcs[] = {S3_CHECKSUM_CRC32, S3_CHECKSUM_CRC32C, S3_CHECKSUM_CRC64NVME};

TEST(test_crc64nvme_check_value_and_empty)
{
    uint8_t d[S3_CHECKSUM_MAX_SIZE];
    char b64[S3_CHECKSUM_MAX_BASE64];
    size_t n;

    /* the published check value of CRC-64/NVME, and S3's value for an empty body */
    CHECK_EQ_INT(s3_checksum_compute(S3_CHECKSUM_CRC64NVME, "123456789", 9, d, &n), 0);
    CHECK_EQ_INT(n, 8);
    CHECK(memcmp(d, "\xae\x8b\x14\x86\x0a\x79\x98\x88", 8) == 0);
    CHECK_EQ_INT(s3_checksum_compute(S3_CHECKSUM_CRC64NVME, "", 0, d, &n), 0);
    yc_base64_encode(d, n, b64);
    CHECK(strcmp(b64, "AAAAAAAAAAA=") == 0);
}

TEST(test_combine_equals_crc_of_concatenation)
{
    size_t len = 70001;
    uint8_t *data = malloc(len);
    CHECK(data != NULL);
    fill(data, len, 7);
    static const size_t splits[] = {0, 1, 2, 3, 7, 8, 9, 1000, 4096, 65536, 69999, 70000, 70001};
    for (size_t a = 0; a < sizeof(crcs) / sizeof(crcs[0]); a++) {
        for (size_t i = 0; i < sizeof(splits) / sizeof(splits[0]); i++) {
            uint8_t ca[S3_CHECKSUM_MAX_SIZE], cb[S3_CHECKSUM_MAX_SIZE], whole[S3_CHECKSUM_MAX_SIZE],
                out[S3_CHECKSUM_MAX_SIZE];
            size_t n, at = splits[i];
            if (s3_checksum_compute(crcs[a], data, at, ca, &n) != 0 ||
                s3_checksum_compute(crcs[a], data + at, len - at, cb, &n) != 0 ||
                s3_checksum_compute(crcs[a], data, len, whole, &n) != 0 ||
                s3_checksum_combine(crcs[a], ca, cb, len - at, out) != 0 || memcmp(out, whole, n) != 0) {
                fprintf(stderr, "  %s split at %zu\n", s3_checksum_alg_name(crcs[a]), at);
                free(data);
                CHECK(0);
            }
        }
    }
    free(data);
}

TEST(test_combine_long_second_part_of_zeros)
{
    /* a length whose bits reach far up the power table: 3 MiB + 5 zero bytes after "abc" */
    size_t zeros = (3u << 20) + 5;
    uint8_t *data = calloc(1, 3 + zeros);
    CHECK(data != NULL);
    memcpy(data, "abc", 3);
    for (size_t a = 0; a < sizeof(crcs) / sizeof(crcs[0]); a++) {
        uint8_t ca[S3_CHECKSUM_MAX_SIZE], cb[S3_CHECKSUM_MAX_SIZE], whole[S3_CHECKSUM_MAX_SIZE],
            out[S3_CHECKSUM_MAX_SIZE];
        size_t n;
        int ok = s3_checksum_compute(crcs[a], data, 3, ca, &n) == 0 &&
                 s3_checksum_compute(crcs[a], data + 3, zeros, cb, &n) == 0 &&
                 s3_checksum_compute(crcs[a], data, 3 + zeros, whole, &n) == 0 &&
                 s3_checksum_combine(crcs[a], ca, cb, zeros, out) == 0 && memcmp(out, whole, n) == 0;
        if (!ok) {
            free(data);
            CHECK(0);
        }
    }
    free(data);
}

TEST(test_combine_rejects_when_not_a_crc)
{
    uint8_t a[32] = {0}, b[32] = {0}, out[32];
    CHECK_EQ_INT(s3_checksum_combine(S3_CHECKSUM_SHA256, a, b, 1, out), S3_CHECKSUM_EINVAL);
    CHECK_EQ_INT(s3_checksum_combine(S3_CHECKSUM_SHA1, a, b, 1, out), S3_CHECKSUM_EINVAL);
    CHECK_EQ_INT(s3_checksum_combine(S3_CHECKSUM_MD5, a, b, 1, out), S3_CHECKSUM_EINVAL);
}

/* Splits data into parts of the given sizes and feeds their checksums to a multipart checksum. */
static int multipart_of(s3_checksum_alg_t alg, s3_checksum_type_t type, const uint8_t *data, const size_t *sizes,
                        size_t nparts, char out[S3_CHECKSUM_MAX_WIRE])
{
    s3_checksum_multipart_t m;
    size_t off = 0, n, len;
    int ret;

    if ((ret = s3_checksum_multipart_init(&m, alg, type)) != 0)
        return ret;
    for (size_t i = 0; i < nparts && ret == 0; i++) {
        uint8_t d[S3_CHECKSUM_MAX_SIZE];
        if ((ret = s3_checksum_compute(alg, data + off, sizes[i], d, &n)) == 0)
            ret = s3_checksum_multipart_add(&m, d, n, sizes[i]);
        off += sizes[i];
    }
    if (ret == 0)
        ret = s3_checksum_multipart_final(&m, out, &len);
    s3_checksum_multipart_dispose(&m);
    return ret != 0 ? ret : (strlen(out) == len ? 0 : -99);
}

TEST(test_multipart_full_object_equals_crc_of_whole)
{
    static const size_t sizes[] = {5000, 1, 0, 12345, 777};
    size_t len = 5000 + 1 + 12345 + 777;
    uint8_t *data = malloc(len);
    CHECK(data != NULL);
    fill(data, len, 3);
    for (size_t a = 0; a < sizeof(crcs) / sizeof(crcs[0]); a++) {
        char got[S3_CHECKSUM_MAX_WIRE], want[S3_CHECKSUM_MAX_BASE64];
        uint8_t d[S3_CHECKSUM_MAX_SIZE];
        size_t n;
        int ok = multipart_of(crcs[a], S3_CHECKSUM_TYPE_FULL_OBJECT, data, sizes, 5, got) == 0 &&
                 s3_checksum_compute(crcs[a], data, len, d, &n) == 0;
        yc_base64_encode(d, n, want);
        if (!ok || strcmp(got, want) != 0) {
            fprintf(stderr, "  %s: %s != %s\n", s3_checksum_alg_name(crcs[a]), got, want);
            free(data);
            CHECK(0);
        }
    }
    free(data);
}

TEST(test_multipart_composite_is_checksum_of_part_checksums)
{
    static const size_t sizes[] = {100, 200, 50};
    static const s3_checksum_alg_t algs[] = {S3_CHECKSUM_CRC32, S3_CHECKSUM_CRC32C, S3_CHECKSUM_SHA1,
                                             S3_CHECKSUM_SHA256};
    uint8_t data[350];
    fill(data, sizeof(data), 11);
    for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
        uint8_t cat[3 * S3_CHECKSUM_MAX_SIZE], d[S3_CHECKSUM_MAX_SIZE];
        char got[S3_CHECKSUM_MAX_WIRE], want[S3_CHECKSUM_MAX_WIRE];
        size_t n = 0, catlen = 0, off = 0;
        for (int i = 0; i < 3; i++) {
            CHECK_EQ_INT(s3_checksum_compute(algs[a], data + off, sizes[i], cat + catlen, &n), 0);
            catlen += n;
            off += sizes[i];
        }
        CHECK_EQ_INT(s3_checksum_compute(algs[a], cat, catlen, d, &n), 0);
        n = yc_base64_encode(d, n, want);
        strcpy(want + n, "-3");
        CHECK_EQ_INT(multipart_of(algs[a], S3_CHECKSUM_TYPE_COMPOSITE, data, sizes, 3, got), 0);
        CHECK(strcmp(got, want) == 0);
    }
}

TEST(test_multipart_composite_known_answer)
{
    /* two parts "a" and "b": CRC32 e8b7be43 and 71beeff9, CRC32 of those 8 bytes is 0x6d6b3ad9 */
    static const size_t sizes[] = {1, 1};
    char got[S3_CHECKSUM_MAX_WIRE];
    uint8_t cat[8] = {0xe8, 0xb7, 0xbe, 0x43, 0x71, 0xbe, 0xef, 0xf9}, d[S3_CHECKSUM_MAX_SIZE];
    char want[S3_CHECKSUM_MAX_WIRE];
    size_t n;
    CHECK_EQ_INT(s3_checksum_compute(S3_CHECKSUM_CRC32, cat, 8, d, &n), 0);
    n = yc_base64_encode(d, 4, want);
    strcpy(want + n, "-2");
    CHECK_EQ_INT(multipart_of(S3_CHECKSUM_CRC32, S3_CHECKSUM_TYPE_COMPOSITE, (const uint8_t *)"ab", sizes, 2, got), 0);
    CHECK(strcmp(got, want) == 0);
}

TEST(test_multipart_type_rules)
{
    s3_checksum_multipart_t m;
    s3_checksum_type_t t;
    uint8_t d[32] = {0};

    CHECK(s3_checksum_type_allowed(S3_CHECKSUM_CRC32, S3_CHECKSUM_TYPE_FULL_OBJECT));
    CHECK(s3_checksum_type_allowed(S3_CHECKSUM_CRC32C, S3_CHECKSUM_TYPE_COMPOSITE));
    CHECK(s3_checksum_type_allowed(S3_CHECKSUM_CRC64NVME, S3_CHECKSUM_TYPE_FULL_OBJECT));
    CHECK(!s3_checksum_type_allowed(S3_CHECKSUM_CRC64NVME, S3_CHECKSUM_TYPE_COMPOSITE));
    CHECK(!s3_checksum_type_allowed(S3_CHECKSUM_SHA256, S3_CHECKSUM_TYPE_FULL_OBJECT));
    CHECK(!s3_checksum_type_allowed(S3_CHECKSUM_SHA1, S3_CHECKSUM_TYPE_FULL_OBJECT));
    CHECK(!s3_checksum_type_allowed(S3_CHECKSUM_MD5, S3_CHECKSUM_TYPE_COMPOSITE));
    CHECK_EQ_INT(s3_checksum_type_default(S3_CHECKSUM_CRC64NVME), S3_CHECKSUM_TYPE_FULL_OBJECT);
    CHECK_EQ_INT(s3_checksum_type_default(S3_CHECKSUM_CRC32), S3_CHECKSUM_TYPE_COMPOSITE);
    CHECK_EQ_INT(s3_checksum_type_default(S3_CHECKSUM_SHA256), S3_CHECKSUM_TYPE_COMPOSITE);
    CHECK_EQ_INT(s3_checksum_multipart_init(&m, S3_CHECKSUM_SHA256, S3_CHECKSUM_TYPE_FULL_OBJECT), S3_CHECKSUM_EINVAL);
    CHECK_EQ_INT(s3_checksum_multipart_init(&m, S3_CHECKSUM_CRC64NVME, S3_CHECKSUM_TYPE_COMPOSITE), S3_CHECKSUM_EINVAL);
    CHECK_EQ_INT(s3_checksum_multipart_init(&m, S3_CHECKSUM_CRC32, S3_CHECKSUM_TYPE_COMPOSITE), 0);
    CHECK_EQ_INT(s3_checksum_multipart_add(&m, d, 8, 1), S3_CHECKSUM_EINVAL); /* not a CRC32's size */
    s3_checksum_multipart_dispose(&m);
    CHECK(strcmp(s3_checksum_type_name(S3_CHECKSUM_TYPE_FULL_OBJECT), "FULL_OBJECT") == 0);
    CHECK(strcmp(s3_checksum_type_name(S3_CHECKSUM_TYPE_COMPOSITE), "COMPOSITE") == 0);
    CHECK(s3_checksum_type_name(S3_CHECKSUM_TYPE_NONE) == NULL);
    CHECK_EQ_INT(s3_checksum_type_from_name(iov("COMPOSITE"), &t), 0);
    CHECK_EQ_INT(t, S3_CHECKSUM_TYPE_COMPOSITE);
    CHECK_EQ_INT(s3_checksum_type_from_name(iov("FULL_OBJECT"), &t), 0);
    CHECK_EQ_INT(t, S3_CHECKSUM_TYPE_FULL_OBJECT);
    CHECK_EQ_INT(s3_checksum_type_from_name(iov("composite"), &t), S3_CHECKSUM_EINVAL);
    CHECK_EQ_INT(s3_checksum_type_from_name(iov(""), &t), S3_CHECKSUM_EINVAL);
}

TEST(test_multipart_stops_at_10000_parts)
{
    s3_checksum_multipart_t m;
    char out[S3_CHECKSUM_MAX_WIRE];
    uint8_t d[32] = {0};
    size_t n;

    CHECK_EQ_INT(s3_checksum_multipart_init(&m, S3_CHECKSUM_SHA256, S3_CHECKSUM_TYPE_COMPOSITE), 0);
    for (int i = 0; i < 10000; i++)
        CHECK_EQ_INT(s3_checksum_multipart_add(&m, d, 32, 1), 0);
    CHECK_EQ_INT(s3_checksum_multipart_add(&m, d, 32, 1), S3_CHECKSUM_EINVAL);
    CHECK_EQ_INT(s3_checksum_multipart_final(&m, out, &n), 0);
    s3_checksum_multipart_dispose(&m);
    CHECK_EQ_INT(n, 44 + 6);
    CHECK(strcmp(out + 44, "-10000") == 0);
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
    RUN(test_crc64nvme_check_value_and_empty);
    RUN(test_combine_equals_crc_of_concatenation);
    RUN(test_combine_long_second_part_of_zeros);
    RUN(test_combine_rejects_when_not_a_crc);
    RUN(test_multipart_full_object_equals_crc_of_whole);
    RUN(test_multipart_composite_is_checksum_of_part_checksums);
    RUN(test_multipart_composite_known_answer);
    RUN(test_multipart_type_rules);
    RUN(test_multipart_stops_at_10000_parts);
    return unit_done();
}
