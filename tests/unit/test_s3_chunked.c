/* test_s3_chunked.c — aws-chunked decoding: the published S3 chunked upload example, bodies built
 * with the chunk signer, every byte split, tampering, bounds and trailing checksums.
 */
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/chunked.h"
#include "tests/unit/unit.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define SEED   "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"

/* The signing context of the S3 chunked upload example (seed signature above). */
static s3_sigv4_ctx_t example_ctx(void)
{
    s3_sigv4_ctx_t ctx;
    memset(&ctx, 0, sizeof(ctx));
    s3_sigv4_signing_key(h2o_iovec_init(H2O_STRLIT(SECRET)), h2o_iovec_init(H2O_STRLIT("20130524")),
                         h2o_iovec_init(H2O_STRLIT("us-east-1")), h2o_iovec_init(H2O_STRLIT("s3")), ctx.signing_key);
    strcpy(ctx.seed_signature, SEED);
    strcpy(ctx.timestamp, "20130524T000000Z");
    strcpy(ctx.scope, "20130524/us-east-1/s3/aws4_request");
    ctx.scope_len = strlen(ctx.scope);
    return ctx;
}

/* A growable byte buffer for bodies and decoded output. */
typedef struct {
    uint8_t *base;
    size_t len, cap;
} buf_t;

static void buf_add(buf_t *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->base = realloc(b->base, b->cap);
    }
    memcpy(b->base + b->len, p, n);
    b->len += n;
}

static void buf_adds(buf_t *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

static int collect(void *arg, const uint8_t *data, size_t len)
{
    buf_add(arg, data, len);
    return 0;
}

/* Builds a signed aws-chunked body of payload cut into chunks of chunk bytes. With trailer set,
 * appends the trailer line(s) and the trailer signature (signed trailer mode). */
static void build_signed(buf_t *body, const s3_sigv4_ctx_t *ctx, const uint8_t *payload, size_t len, size_t chunk,
                         const char *trailer_line)
{
    char prev[65], sig[65], line[200];
    uint8_t hash[32];
    size_t off = 0, n;

    strcpy(prev, ctx->seed_signature);
    for (;;) {
        size_t this_len = len - off < chunk ? len - off : chunk;
        s3_checksum_compute(S3_CHECKSUM_SHA256, payload + off, this_len, hash, &n);
        s3_sigv4_chunk_signature(ctx, prev, hash, sig);
        snprintf(line, sizeof(line), "%zx;chunk-signature=%s\r\n", this_len, sig);
        buf_adds(body, line);
        strcpy(prev, sig);
        if (this_len == 0)
            break;
        buf_add(body, payload + off, this_len);
        buf_adds(body, "\r\n");
        off += this_len;
    }
    if (trailer_line != NULL) {
        char canon[200];
        snprintf(canon, sizeof(canon), "%s\n", trailer_line);
        s3_checksum_compute(S3_CHECKSUM_SHA256, canon, strlen(canon), hash, &n);
        s3_sigv4_trailer_signature(ctx, prev, hash, sig);
        snprintf(line, sizeof(line), "%s\r\nx-amz-trailer-signature:%s\r\n", trailer_line, sig);
        buf_adds(body, line);
    }
    buf_adds(body, "\r\n");
}

/* Builds an unsigned-with-trailer body. */
static void build_unsigned(buf_t *body, const uint8_t *payload, size_t len, size_t chunk, const char *trailer_line)
{
    char line[200];
    for (size_t off = 0; off < len; off += chunk) {
        size_t this_len = len - off < chunk ? len - off : chunk;
        snprintf(line, sizeof(line), "%zx\r\n", this_len);
        buf_adds(body, line);
        buf_add(body, payload + off, this_len);
        buf_adds(body, "\r\n");
    }
    buf_adds(body, "0\r\n");
    if (trailer_line != NULL) {
        buf_adds(body, trailer_line);
        buf_adds(body, "\r\n");
    }
    buf_adds(body, "\r\n");
}

/* Decodes body fed in pieces cut at the given offsets (sorted, may be empty). Returns the first error
 * or the result of finish; the decoded bytes land in out when it is not NULL. */
static int decode_split(const s3_chunked_config_t *cfg0, const buf_t *body, const size_t *cuts, size_t ncuts,
                        buf_t *out)
{
    s3_chunked_config_t cfg = *cfg0;
    s3_chunked_t *c;
    size_t from = 0;
    int ret;

    if (out != NULL) {
        cfg.on_data = collect;
        cfg.cb_arg = out;
    }
    if ((ret = s3_chunked_new(&cfg, &c)) != 0)
        return ret;
    for (size_t i = 0; i <= ncuts && ret == 0; i++) {
        size_t to = i < ncuts ? cuts[i] : body->len;
        ret = s3_chunked_feed(c, body->base + from, to - from);
        from = to;
    }
    if (ret == 0)
        ret = s3_chunked_finish(c);
    s3_chunked_free(c);
    return ret;
}

static int decode(const s3_chunked_config_t *cfg, const buf_t *body, buf_t *out)
{
    return decode_split(cfg, body, NULL, 0, out);
}

static s3_chunked_config_t signed_cfg(const s3_sigv4_ctx_t *ctx, int64_t decoded_length)
{
    s3_chunked_config_t cfg = {S3_PAYLOAD_STREAMING_SIGNED, ctx, decoded_length, {NULL, 0}, NULL, NULL};
    return cfg;
}

/* ---- the published example ---- */

static void example_body(buf_t *body)
{
    uint8_t *a = malloc(65536);
    memset(a, 'a', 65536);
    buf_adds(body, "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n");
    buf_add(body, a, 65536);
    buf_adds(body, "\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n");
    buf_add(body, a, 1024);
    buf_adds(body, "\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n");
    free(a);
}

TEST(test_decode_example_body_accepted)
{
    s3_sigv4_ctx_t ctx = example_ctx();
    s3_chunked_config_t cfg = signed_cfg(&ctx, 66560);
    buf_t body = {0}, out = {0};
    example_body(&body);
    int ret = decode(&cfg, &body, &out);
    int all_a = out.len == 66560;
    for (size_t i = 0; all_a && i < out.len; i++)
        all_a = out.base[i] == 'a';
    size_t body_len = body.len;
    free(body.base);
    free(out.base);
    CHECK_EQ_INT(body_len, 66824); /* the example's Content-Length */
    CHECK_EQ_INT(ret, 0);
    CHECK(all_a);
}

TEST(test_decode_example_body_byte_by_byte_accepted)
{
    s3_sigv4_ctx_t ctx = example_ctx();
    s3_chunked_config_t cfg = signed_cfg(&ctx, 66560);
    buf_t body = {0};
    s3_chunked_t *c;
    int ret;
    example_body(&body);
    CHECK_EQ_INT(s3_chunked_new(&cfg, &c), 0);
    for (size_t i = 0; i < body.len && (ret = s3_chunked_feed(c, body.base + i, 1)) == 0; i++)
        ;
    ret = s3_chunked_finish(c);
    uint64_t decoded = s3_chunked_decoded_length(c);
    s3_chunked_free(c);
    free(body.base);
    CHECK_EQ_INT(ret, 0);
    CHECK_EQ_INT(decoded, 66560);
}

TEST(test_decode_example_body_tampered_byte_rejected)
{
    s3_sigv4_ctx_t ctx = example_ctx();
    s3_chunked_config_t cfg = signed_cfg(&ctx, 66560);
    buf_t body = {0};
    example_body(&body);
    body.base[5000] = 'b';
    int ret = decode(&cfg, &body, NULL);
    free(body.base);
    CHECK_EQ_INT(ret, S3_CHUNKED_SIGNATURE_MISMATCH);
}

TEST(test_decode_example_body_wrong_seed_rejected)
{
    s3_sigv4_ctx_t ctx = example_ctx();
    ctx.seed_signature[0] = '5';
    s3_chunked_config_t cfg = signed_cfg(&ctx, 66560);
    buf_t body = {0};
    example_body(&body);
    int ret = decode(&cfg, &body, NULL);
    free(body.base);
    CHECK_EQ_INT(ret, S3_CHUNKED_SIGNATURE_MISMATCH);
}

/* ---- splits ---- */

static const uint8_t small_payload[] = "The quick brown fox jumps over the lazy dog, twice: the quick brown fox.";

TEST(test_decode_signed_every_split_accepted)
{
    s3_sigv4_ctx_t ctx = example_ctx();
    s3_chunked_config_t cfg = signed_cfg(&ctx, sizeof(small_payload) - 1);
    buf_t body = {0};
    build_signed(&body, &ctx, small_payload, sizeof(small_payload) - 1, 17, NULL);
    int bad = 0;
    for (size_t a = 0; a <= body.len && !bad; a++) {
        for (size_t b = a; b <= body.len && !bad; b += 7) {
            size_t cuts[2] = {a, b};
            buf_t out = {0};
            if (decode_split(&cfg, &body, cuts, 2, &out) != 0 || out.len != sizeof(small_payload) - 1 ||
                memcmp(out.base, small_payload, out.len) != 0) {
                fprintf(stderr, "  split %zu,%zu failed\n", a, b);
                bad = 1;
            }
            free(out.base);
        }
    }
    free(body.base);
    CHECK(!bad);
}

TEST(test_decode_unsigned_trailer_every_split_accepted)
{
    s3_chunked_config_t cfg = {S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER,
                               NULL,
                               sizeof(small_payload) - 1,
                               h2o_iovec_init(H2O_STRLIT("x-amz-checksum-crc32c")),
                               NULL,
                               NULL};
    uint8_t digest[S3_CHECKSUM_MAX_SIZE];
    char b64[S3_CHECKSUM_MAX_BASE64], line[100];
    size_t n;
    buf_t body = {0};
    s3_checksum_compute(S3_CHECKSUM_CRC32C, small_payload, sizeof(small_payload) - 1, digest, &n);
    yc_base64_encode(digest, n, b64);
    snprintf(line, sizeof(line), "x-amz-checksum-crc32c:%s", b64);
    build_unsigned(&body, small_payload, sizeof(small_payload) - 1, 10, line);
    int bad = 0;
    for (size_t a = 0; a <= body.len && !bad; a++) {
        for (size_t b = a; b <= body.len && !bad; b += 5) {
            size_t cuts[2] = {a, b};
            buf_t out = {0};
            if (decode_split(&cfg, &body, cuts, 2, &out) != 0 || out.len != sizeof(small_payload) - 1 ||
                memcmp(out.base, small_payload, out.len) != 0) {
                fprintf(stderr, "  split %zu,%zu failed\n", a, b);
                bad = 1;
            }
            free(out.base);
        }
    }
    free(body.base);
    CHECK(!bad);
}

TEST(test_decode_signed_truncated_at_every_offset_incomplete)
{
    s3_sigv4_ctx_t ctx = example_ctx();
    s3_chunked_config_t cfg = signed_cfg(&ctx, -1);
    buf_t body = {0};
    build_signed(&body, &ctx, small_payload, sizeof(small_payload) - 1, 20, NULL);
    int bad = 0;
    for (size_t cut = 0; cut < body.len && !bad; cut++) {
        buf_t part = {body.base, cut, cut};
        if (decode(&cfg, &part, NULL) != S3_CHUNKED_INCOMPLETE) {
            fprintf(stderr, "  truncation at %zu not reported\n", cut);
            bad = 1;
        }
    }
    free(body.base);
    CHECK(!bad);
}

/* ---- signed chunks: tampering ---- */

TEST(test_decode_signed_reordered_chunks_rejected)
{
    s3_sigv4_ctx_t ctx = example_ctx();
    s3_chunked_config_t cfg = signed_cfg(&ctx, -1);
    buf_t body = {0}, swapped = {0};
    /* two equal-sized chunks: swapping them keeps the framing but breaks the chain */
    build_signed(&body, &ctx, (const uint8_t *)"AAAABBBB", 8, 4, NULL);
    size_t first_len = strlen("4;chunk-signature=") + 64 + 2 + 4 + 2;
    buf_add(&swapped, body.base + first_len, first_len);
    buf_add(&swapped, body.base, first_len);
    buf_add(&swapped, body.base + 2 * first_len, body.len - 2 * first_len);
    int ret = decode(&cfg, &swapped, NULL);
    free(body.base);
    free(swapped.base);
    CHECK_EQ_INT(ret, S3_CHUNKED_SIGNATURE_MISMATCH);
}

TEST(test_decode_signed_dropped_final_chunk_incomplete)
{
    s3_sigv4_ctx_t ctx = example_ctx();
    s3_chunked_config_t cfg = signed_cfg(&ctx, -1);
    buf_t body = {0};
    build_signed(&body, &ctx, small_payload, 30, 30, NULL);
    body.len = strlen("1e;chunk-signature=") + 64 + 2 + 30 + 2;
    int ret = decode(&cfg, &body, NULL);
    free(body.base);
    CHECK_EQ_INT(ret, S3_CHUNKED_INCOMPLETE);
}

TEST(test_decode_signed_final_chunk_bad_signature_rejected)
{
    s3_sigv4_ctx_t ctx = example_ctx();
    s3_chunked_config_t cfg = signed_cfg(&ctx, -1);
    buf_t body = {0};
    build_signed(&body, &ctx, small_payload, 30, 30, NULL);
    body.base[body.len - 5] ^= 1; /* inside the last signature's hex */
    int ret = decode(&cfg, &body, NULL);
    free(body.base);
    CHECK(ret == S3_CHUNKED_SIGNATURE_MISMATCH || ret == S3_CHUNKED_MALFORMED);
}

TEST(test_decode_signed_missing_signature_rejected)
{
    s3_sigv4_ctx_t ctx = example_ctx();
    s3_chunked_config_t cfg = signed_cfg(&ctx, -1);
    buf_t body = {0};
    buf_adds(&body, "4\r\nabcd\r\n0\r\n\r\n");
    int ret = decode(&cfg, &body, NULL);
    free(body.base);
    CHECK_EQ_INT(ret, S3_CHUNKED_MALFORMED);
}

TEST(test_decode_signed_short_signature_rejected)
{
    s3_sigv4_ctx_t ctx = example_ctx();
    s3_chunked_config_t cfg = signed_cfg(&ctx, -1);
    buf_t body = {0};
    buf_adds(&body, "4;chunk-signature=abcd\r\nabcd\r\n");
    int ret = decode(&cfg, &body, NULL);
    free(body.base);
    CHECK_EQ_INT(ret, S3_CHUNKED_MALFORMED);
}

TEST(test_decode_signed_trailing_garbage_rejected)
{
    s3_sigv4_ctx_t ctx = example_ctx();
    s3_chunked_config_t cfg = signed_cfg(&ctx, -1);
    buf_t body = {0};
    build_signed(&body, &ctx, small_payload, 30, 30, NULL);
    buf_adds(&body, "x");
    int ret = decode(&cfg, &body, NULL);
    free(body.base);
    CHECK_EQ_INT(ret, S3_CHUNKED_MALFORMED);
}

/* ---- framing and bounds ---- */

static int decode_unsigned_text(const char *text, int64_t decoded_length)
{
    s3_chunked_config_t cfg = {S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER, NULL, decoded_length, {NULL, 0}, NULL, NULL};
    buf_t body = {(uint8_t *)text, strlen(text), strlen(text)};
    return decode(&cfg, &body, NULL);
}

TEST(test_decode_unsigned_without_trailer_accepted)
{
    CHECK_EQ_INT(decode_unsigned_text("3\r\nabc\r\n0\r\n\r\n", 3), 0);
    CHECK_EQ_INT(decode_unsigned_text("0\r\n\r\n", 0), 0);
    CHECK_EQ_INT(decode_unsigned_text("00003\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n", 13), 0);
}

TEST(test_decode_bad_framing_rejected)
{
    const char *bad[] = {
        "3\nabc\r\n0\r\n\r\n",                   /* bare LF */
        "3\r\nabcd\r\n0\r\n\r\n",                /* data longer than size */
        "3\r\nab\r\n0\r\n\r\n",                  /* data shorter than size */
        "3\r\nabc\n0\r\n\r\n",                   /* data not closed by CRLF */
        "\r\nabc\r\n0\r\n\r\n",                  /* empty size */
        "g\r\nabc\r\n0\r\n\r\n",                 /* not hex */
        "3 \r\nabc\r\n0\r\n\r\n",                /* junk after the size */
        "-3\r\nabc\r\n0\r\n\r\n",                /* sign */
        "3;ext=1\r\nabc\r\n0\r\n\r\n",           /* extension in unsigned mode */
        "3\r\nabc\r\n0\r\nfoo:bar\r\n\r\n",      /* trailer not declared */
        "3\r\nabc\r\n0\r\n\r\nx",                /* bytes after the end */
        "3\r\r\nabc\r\n0\r\n\r\n",               /* stray CR */
        "00000000000000003\r\nabc\r\n0\r\n\r\n", /* 17 hex digits */
        "ffffffffffffffff\r\nabc\r\n",           /* far above the cap */
        "4000001\r\n",                           /* just above the cap */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (decode_unsigned_text(bad[i], -1) != S3_CHUNKED_MALFORMED) {
            fprintf(stderr, "  accepted case %zu\n", i);
            CHECK(0);
        }
    }
}

TEST(test_decode_size_line_too_long_rejected)
{
    char text[600];
    memset(text, '0', sizeof(text));
    text[sizeof(text) - 1] = '\0';
    CHECK_EQ_INT(decode_unsigned_text(text, -1), S3_CHUNKED_MALFORMED);
}

TEST(test_decode_trailer_line_too_long_rejected)
{
    s3_chunked_config_t cfg = {S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER,
                               NULL,
                               -1,
                               h2o_iovec_init(H2O_STRLIT("x-amz-checksum-crc32")),
                               NULL,
                               NULL};
    buf_t body = {0};
    buf_adds(&body, "0\r\nx-amz-checksum-crc32:");
    for (int i = 0; i < 600; i++)
        buf_adds(&body, "A");
    int ret = decode(&cfg, &body, NULL);
    free(body.base);
    CHECK_EQ_INT(ret, S3_CHUNKED_MALFORMED);
}

TEST(test_decode_decoded_length_mismatch_rejected)
{
    CHECK_EQ_INT(decode_unsigned_text("3\r\nabc\r\n0\r\n\r\n", 4), S3_CHUNKED_INCOMPLETE);
    CHECK_EQ_INT(decode_unsigned_text("3\r\nabc\r\n0\r\n\r\n", 2), S3_CHUNKED_MALFORMED);
    CHECK_EQ_INT(decode_unsigned_text("3\r\nabc\r\n0\r\n\r\n", 0), S3_CHUNKED_MALFORMED);
}

TEST(test_decode_empty_body_incomplete)
{
    CHECK_EQ_INT(decode_unsigned_text("", -1), S3_CHUNKED_INCOMPLETE);
    CHECK_EQ_INT(decode_unsigned_text("0\r\n", -1), S3_CHUNKED_INCOMPLETE);
}

static int abort_cb(void *arg, const uint8_t *data, size_t len)
{
    (void)arg;
    (void)data;
    (void)len;
    return 1;
}

TEST(test_decode_callback_abort_sticks)
{
    s3_chunked_config_t cfg = {S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER, NULL, -1, {NULL, 0}, abort_cb, NULL};
    s3_chunked_t *c;
    CHECK_EQ_INT(s3_chunked_new(&cfg, &c), 0);
    int r1 = s3_chunked_feed(c, (const uint8_t *)"3\r\nabc", 6);
    int r2 = s3_chunked_feed(c, (const uint8_t *)"\r\n0\r\n\r\n", 7);
    int r3 = s3_chunked_finish(c);
    s3_chunked_free(c);
    CHECK_EQ_INT(r1, S3_CHUNKED_ABORTED);
    CHECK_EQ_INT(r2, S3_CHUNKED_ABORTED);
    CHECK_EQ_INT(r3, S3_CHUNKED_ABORTED);
}

TEST(test_new_bad_config_rejected)
{
    s3_sigv4_ctx_t ctx = example_ctx();
    s3_chunked_t *c;
    s3_chunked_config_t cfg = {S3_PAYLOAD_UNSIGNED, NULL, -1, {NULL, 0}, NULL, NULL};
    CHECK_EQ_INT(s3_chunked_new(&cfg, &c), S3_CHUNKED_MALFORMED);
    cfg.mode = S3_PAYLOAD_STREAMING_SIGNED; /* no signing context */
    CHECK_EQ_INT(s3_chunked_new(&cfg, &c), S3_CHUNKED_MALFORMED);
    cfg.sig = &ctx;
    cfg.trailer = h2o_iovec_init(H2O_STRLIT("x-amz-checksum-crc32")); /* trailer without a trailer mode */
    CHECK_EQ_INT(s3_chunked_new(&cfg, &c), S3_CHUNKED_MALFORMED);
    cfg.mode = S3_PAYLOAD_STREAMING_SIGNED_TRAILER;
    cfg.trailer = h2o_iovec_init(H2O_STRLIT("x-amz-checksum-md5"));
    CHECK_EQ_INT(s3_chunked_new(&cfg, &c), S3_CHUNKED_MALFORMED);
    cfg.trailer = h2o_iovec_init(H2O_STRLIT(" x-amz-checksum-sha256 "));
    CHECK_EQ_INT(s3_chunked_new(&cfg, &c), 0);
    CHECK_EQ_INT(s3_chunked_trailer_alg(c), S3_CHECKSUM_SHA256);
    s3_chunked_free(c);
}

/* ---- trailing checksums ---- */

static int decode_unsigned_with_trailer(const char *declared, const char *trailer_line, char *value_out)
{
    s3_chunked_config_t cfg = {S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER,      NULL, sizeof(small_payload) - 1,
                               h2o_iovec_init(declared, strlen(declared)), NULL, NULL};
    buf_t body = {0};
    s3_chunked_t *c;
    int ret;
    build_unsigned(&body, small_payload, sizeof(small_payload) - 1, 16, trailer_line);
    if ((ret = s3_chunked_new(&cfg, &c)) == 0) {
        if ((ret = s3_chunked_feed(c, body.base, body.len)) == 0)
            ret = s3_chunked_finish(c);
        if (ret == 0 && value_out != NULL)
            strcpy(value_out, s3_chunked_trailer_value(c));
        s3_chunked_free(c);
    }
    free(body.base);
    return ret;
}

static void trailer_for(s3_checksum_alg_t alg, const uint8_t *data, size_t len, char *line, size_t size)
{
    uint8_t digest[S3_CHECKSUM_MAX_SIZE];
    char b64[S3_CHECKSUM_MAX_BASE64];
    size_t n;
    s3_checksum_compute(alg, data, len, digest, &n);
    yc_base64_encode(digest, n, b64);
    snprintf(line, size, "%s:%s", s3_checksum_header_name(alg), b64);
}

TEST(test_trailer_every_algorithm_accepted)
{
    s3_checksum_alg_t algs[] = {S3_CHECKSUM_CRC32, S3_CHECKSUM_CRC32C, S3_CHECKSUM_CRC64NVME, S3_CHECKSUM_SHA1,
                                S3_CHECKSUM_SHA256};
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        char line[128], value[S3_CHECKSUM_MAX_BASE64];
        trailer_for(algs[i], small_payload, sizeof(small_payload) - 1, line, sizeof(line));
        CHECK_EQ_INT(decode_unsigned_with_trailer(s3_checksum_header_name(algs[i]), line, value), 0);
        CHECK(strcmp(value, strchr(line, ':') + 1) == 0);
    }
}

TEST(test_trailer_checksum_mismatch_bad_digest)
{
    char line[128];
    trailer_for(S3_CHECKSUM_CRC32, small_payload, sizeof(small_payload) - 2, line, sizeof(line));
    CHECK_EQ_INT(decode_unsigned_with_trailer("x-amz-checksum-crc32", line, NULL), S3_CHUNKED_BAD_DIGEST);
}

TEST(test_trailer_invalid_base64_malformed)
{
    CHECK_EQ_INT(decode_unsigned_with_trailer("x-amz-checksum-crc32", "x-amz-checksum-crc32:AAAA", NULL),
                 S3_CHUNKED_MALFORMED);
    CHECK_EQ_INT(decode_unsigned_with_trailer("x-amz-checksum-crc32", "x-amz-checksum-crc32:!!!!!!==", NULL),
                 S3_CHUNKED_MALFORMED);
}

TEST(test_trailer_missing_malformed)
{
    CHECK_EQ_INT(decode_unsigned_with_trailer("x-amz-checksum-crc32", NULL, NULL), S3_CHUNKED_MALFORMED);
}

TEST(test_trailer_other_name_malformed)
{
    char line[128];
    trailer_for(S3_CHECKSUM_CRC32C, small_payload, sizeof(small_payload) - 1, line, sizeof(line));
    CHECK_EQ_INT(decode_unsigned_with_trailer("x-amz-checksum-crc32", line, NULL), S3_CHUNKED_MALFORMED);
}

TEST(test_trailer_value_spaces_trimmed)
{
    char line[128], spaced[140];
    trailer_for(S3_CHECKSUM_CRC32, small_payload, sizeof(small_payload) - 1, line, sizeof(line));
    snprintf(spaced, sizeof(spaced), "x-amz-checksum-crc32: %s", strchr(line, ':') + 1);
    CHECK_EQ_INT(decode_unsigned_with_trailer("x-amz-checksum-crc32", spaced, NULL), 0);
}

TEST(test_signed_trailer_accepted)
{
    s3_sigv4_ctx_t ctx = example_ctx();
    s3_chunked_config_t cfg = {S3_PAYLOAD_STREAMING_SIGNED_TRAILER,
                               &ctx,
                               sizeof(small_payload) - 1,
                               h2o_iovec_init(H2O_STRLIT("x-amz-checksum-crc32c")),
                               NULL,
                               NULL};
    char line[128];
    buf_t body = {0}, out = {0};
    trailer_for(S3_CHECKSUM_CRC32C, small_payload, sizeof(small_payload) - 1, line, sizeof(line));
    build_signed(&body, &ctx, small_payload, sizeof(small_payload) - 1, 25, line);
    int ret = decode(&cfg, &body, &out);
    int same = out.len == sizeof(small_payload) - 1 && memcmp(out.base, small_payload, out.len) == 0;
    free(body.base);
    free(out.base);
    CHECK_EQ_INT(ret, 0);
    CHECK(same);
}

TEST(test_signed_trailer_every_split_accepted)
{
    s3_sigv4_ctx_t ctx = example_ctx();
    s3_chunked_config_t cfg = {S3_PAYLOAD_STREAMING_SIGNED_TRAILER,
                               &ctx,
                               sizeof(small_payload) - 1,
                               h2o_iovec_init(H2O_STRLIT("x-amz-checksum-sha1")),
                               NULL,
                               NULL};
    char line[128];
    buf_t body = {0};
    trailer_for(S3_CHECKSUM_SHA1, small_payload, sizeof(small_payload) - 1, line, sizeof(line));
    build_signed(&body, &ctx, small_payload, sizeof(small_payload) - 1, 40, line);
    int bad = 0;
    for (size_t a = 0; a <= body.len && !bad; a++) {
        size_t cuts[1] = {a};
        if (decode_split(&cfg, &body, cuts, 1, NULL) != 0) {
            fprintf(stderr, "  split at %zu failed\n", a);
            bad = 1;
        }
    }
    free(body.base);
    CHECK(!bad);
}

TEST(test_signed_trailer_tampered_checksum_rejected)
{
    /* a trailer changed after signing: the trailer signature no longer matches */
    s3_sigv4_ctx_t ctx = example_ctx();
    s3_chunked_config_t cfg = {S3_PAYLOAD_STREAMING_SIGNED_TRAILER,
                               &ctx,
                               sizeof(small_payload) - 1,
                               h2o_iovec_init(H2O_STRLIT("x-amz-checksum-crc32")),
                               NULL,
                               NULL};
    char line[128];
    buf_t body = {0};
    trailer_for(S3_CHECKSUM_CRC32, small_payload, sizeof(small_payload) - 2, line, sizeof(line));
    build_signed(&body, &ctx, small_payload, sizeof(small_payload) - 1, 25, line);
    /* re-sign nothing: swap in the right checksum without the signer's knowledge */
    char right[128];
    trailer_for(S3_CHECKSUM_CRC32, small_payload, sizeof(small_payload) - 1, right, sizeof(right));
    uint8_t *at = memmem(body.base, body.len, line, strlen(line));
    CHECK(at != NULL && strlen(line) == strlen(right));
    memcpy(at, right, strlen(right));
    int ret = decode(&cfg, &body, NULL);
    free(body.base);
    CHECK_EQ_INT(ret, S3_CHUNKED_SIGNATURE_MISMATCH);
}

TEST(test_signed_trailer_wrong_checksum_bad_digest)
{
    s3_sigv4_ctx_t ctx = example_ctx();
    s3_chunked_config_t cfg = {S3_PAYLOAD_STREAMING_SIGNED_TRAILER,
                               &ctx,
                               sizeof(small_payload) - 1,
                               h2o_iovec_init(H2O_STRLIT("x-amz-checksum-crc32")),
                               NULL,
                               NULL};
    char line[128];
    buf_t body = {0};
    trailer_for(S3_CHECKSUM_CRC32, small_payload, 3, line, sizeof(line));
    build_signed(&body, &ctx, small_payload, sizeof(small_payload) - 1, 25, line);
    int ret = decode(&cfg, &body, NULL);
    free(body.base);
    CHECK_EQ_INT(ret, S3_CHUNKED_BAD_DIGEST);
}

TEST(test_signed_trailer_missing_signature_rejected)
{
    s3_sigv4_ctx_t ctx = example_ctx();
    s3_chunked_config_t cfg = {
        S3_PAYLOAD_STREAMING_SIGNED_TRAILER, &ctx, 30, h2o_iovec_init(H2O_STRLIT("x-amz-checksum-crc32")), NULL, NULL};
    char line[128];
    buf_t body = {0};
    trailer_for(S3_CHECKSUM_CRC32, small_payload, 30, line, sizeof(line));
    build_signed(&body, &ctx, small_payload, 30, 30, NULL); /* ends "...\r\n\r\n": insert the line only */
    body.len -= 2;
    buf_adds(&body, line);
    buf_adds(&body, "\r\n\r\n");
    int ret = decode(&cfg, &body, NULL);
    free(body.base);
    CHECK_EQ_INT(ret, S3_CHUNKED_MALFORMED);
}

int main(void)
{
    RUN(test_decode_example_body_accepted);
    RUN(test_decode_example_body_byte_by_byte_accepted);
    RUN(test_decode_example_body_tampered_byte_rejected);
    RUN(test_decode_example_body_wrong_seed_rejected);
    RUN(test_decode_signed_every_split_accepted);
    RUN(test_decode_unsigned_trailer_every_split_accepted);
    RUN(test_decode_signed_truncated_at_every_offset_incomplete);
    RUN(test_decode_signed_reordered_chunks_rejected);
    RUN(test_decode_signed_dropped_final_chunk_incomplete);
    RUN(test_decode_signed_final_chunk_bad_signature_rejected);
    RUN(test_decode_signed_missing_signature_rejected);
    RUN(test_decode_signed_short_signature_rejected);
    RUN(test_decode_signed_trailing_garbage_rejected);
    RUN(test_decode_unsigned_without_trailer_accepted);
    RUN(test_decode_bad_framing_rejected);
    RUN(test_decode_size_line_too_long_rejected);
    RUN(test_decode_trailer_line_too_long_rejected);
    RUN(test_decode_decoded_length_mismatch_rejected);
    RUN(test_decode_empty_body_incomplete);
    RUN(test_decode_callback_abort_sticks);
    RUN(test_new_bad_config_rejected);
    RUN(test_trailer_every_algorithm_accepted);
    RUN(test_trailer_checksum_mismatch_bad_digest);
    RUN(test_trailer_invalid_base64_malformed);
    RUN(test_trailer_missing_malformed);
    RUN(test_trailer_other_name_malformed);
    RUN(test_trailer_value_spaces_trimmed);
    RUN(test_signed_trailer_accepted);
    RUN(test_signed_trailer_every_split_accepted);
    RUN(test_signed_trailer_tampered_checksum_rejected);
    RUN(test_signed_trailer_wrong_checksum_bad_digest);
    RUN(test_signed_trailer_missing_signature_rejected);
    return unit_done();
}
