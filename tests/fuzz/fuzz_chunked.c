/* fuzz_chunked.c — the aws-chunked decoder over hostile bodies split at fuzzed offsets.
 *
 * Byte 0 picks the mode, the declared trailer and whether x-amz-decoded-content-length is set;
 * byte 1 seeds the split sizes; the rest is the body, copied to an exact-size heap buffer and fed in
 * pieces. A second pass uses the rest as a payload instead: it is framed and signed correctly, and
 * then decoding it in the same pieces must succeed and give the payload back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/chunked.h"

struct out {
    const uint8_t *expect;
    size_t len, at;
    int bad;
};

static int check_output(void *arg, const uint8_t *data, size_t len)
{
    struct out *o = arg;
    if (o->expect != NULL && (o->at + len > o->len || memcmp(o->expect + o->at, data, len) != 0))
        o->bad = 1;
    o->at += len;
    return 0;
}

static s3_sigv4_ctx_t make_ctx(void)
{
    s3_sigv4_ctx_t ctx;
    memset(&ctx, 0, sizeof(ctx));
    s3_sigv4_signing_key(h2o_iovec_init(H2O_STRLIT("secret")), h2o_iovec_init(H2O_STRLIT("20130524")),
                         h2o_iovec_init(H2O_STRLIT("us-east-1")), h2o_iovec_init(H2O_STRLIT("s3")), ctx.signing_key);
    memset(ctx.seed_signature, 'a', 64);
    memcpy(ctx.timestamp, "20130524T000000Z", 17);
    strcpy(ctx.scope, "20130524/us-east-1/s3/aws4_request");
    ctx.scope_len = strlen(ctx.scope);
    return ctx;
}

/* Feeds body in pieces of pseudo-random sizes from seed; returns feed/finish result. */
static int run(const s3_chunked_config_t *cfg, const uint8_t *body, size_t len, unsigned seed)
{
    s3_chunked_t *c;
    int ret;
    size_t off = 0;

    if ((ret = s3_chunked_new(cfg, &c)) != 0)
        return ret;
    while (off < len && ret == 0) {
        seed = seed * 1103515245u + 12345u;
        size_t n = 1 + (seed >> 16) % 97;
        if (n > len - off)
            n = len - off;
        ret = s3_chunked_feed(c, body + off, n);
        off += n;
    }
    if (ret == 0)
        ret = s3_chunked_finish(c);
    s3_chunked_free(c);
    return ret;
}

static void append(uint8_t **buf, size_t *len, const void *p, size_t n)
{
    *buf = realloc(*buf, *len + n);
    memcpy(*buf + *len, p, n);
    *len += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const s3_payload_mode_t modes[] = {S3_PAYLOAD_STREAMING_SIGNED, S3_PAYLOAD_STREAMING_SIGNED_TRAILER,
                                              S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER};
    static const char *const trailers[] = {"", "x-amz-checksum-crc32", "x-amz-checksum-crc32c",
                                           "x-amz-checksum-sha256"};
    s3_sigv4_ctx_t ctx = make_ctx();

    if (size < 2)
        return 0;
    unsigned flags = data[0], seed = data[1];
    size_t len = size - 2;
    uint8_t *body = malloc(len ? len : 1);
    if (len)
        memcpy(body, data + 2, len);

    /* pass 1: arbitrary bytes as a body */
    struct out o = {NULL, 0, 0, 0};
    s3_chunked_config_t cfg = {modes[flags % 3],
                               &ctx,
                               (flags & 0x20) ? (int64_t)(len / 2) : -1,
                               h2o_iovec_init(trailers[(flags >> 2) & 3], strlen(trailers[(flags >> 2) & 3])),
                               check_output,
                               &o};
    if (cfg.mode == S3_PAYLOAD_STREAMING_SIGNED)
        cfg.trailer = h2o_iovec_init(NULL, 0);
    run(&cfg, body, len, seed);

    /* pass 2: the bytes as a payload, correctly framed and signed: must decode to themselves */
    uint8_t *framed = NULL;
    size_t flen = 0, chunk = 1 + (flags >> 4) * 61;
    char prev[65], sig[65], line[160];
    uint8_t hash[32];
    size_t n;
    s3_checksum_alg_t alg = S3_CHECKSUM_NONE;
    int is_signed = cfg.mode != S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER;
    memcpy(prev, ctx.seed_signature, 65);
    if (cfg.trailer.len > 0)
        s3_checksum_alg_from_header(cfg.trailer, &alg);
    for (size_t off = 0;;) {
        size_t this_len = len - off < chunk ? len - off : chunk;
        if (is_signed) {
            s3_checksum_compute(S3_CHECKSUM_SHA256, body + off, this_len, hash, &n);
            s3_sigv4_chunk_signature(&ctx, prev, hash, sig);
            memcpy(prev, sig, 65);
            snprintf(line, sizeof(line), "%zx;chunk-signature=%s\r\n", this_len, sig);
        } else {
            snprintf(line, sizeof(line), "%zx\r\n", this_len);
        }
        append(&framed, &flen, line, strlen(line));
        if (this_len == 0)
            break;
        append(&framed, &flen, body + off, this_len);
        append(&framed, &flen, "\r\n", 2);
        off += this_len;
    }
    if (alg != S3_CHECKSUM_NONE) {
        uint8_t digest[S3_CHECKSUM_MAX_SIZE];
        char b64[S3_CHECKSUM_MAX_BASE64];
        s3_checksum_compute(alg, body, len, digest, &n);
        yc_base64_encode(digest, n, b64);
        snprintf(line, sizeof(line), "%s:%s", s3_checksum_header_name(alg), b64);
        append(&framed, &flen, line, strlen(line));
        append(&framed, &flen, "\r\n", 2);
        if (cfg.mode == S3_PAYLOAD_STREAMING_SIGNED_TRAILER) {
            char canon[160];
            snprintf(canon, sizeof(canon), "%s\n", line);
            s3_checksum_compute(S3_CHECKSUM_SHA256, canon, strlen(canon), hash, &n);
            s3_sigv4_trailer_signature(&ctx, prev, hash, sig);
            snprintf(line, sizeof(line), "x-amz-trailer-signature:%s\r\n", sig);
            append(&framed, &flen, line, strlen(line));
        }
    } else if (cfg.mode == S3_PAYLOAD_STREAMING_SIGNED_TRAILER) {
        s3_checksum_compute(S3_CHECKSUM_SHA256, "", 0, hash, &n);
        s3_sigv4_trailer_signature(&ctx, prev, hash, sig);
        snprintf(line, sizeof(line), "x-amz-trailer-signature:%s\r\n", sig);
        append(&framed, &flen, line, strlen(line));
    }
    append(&framed, &flen, "\r\n", 2);
    struct out o2 = {body, len, 0, 0};
    cfg.decoded_length = (int64_t)len;
    cfg.cb_arg = &o2;
    if (run(&cfg, framed, flen, seed) != 0 || o2.bad || o2.at != len)
        __builtin_trap();
    free(framed);
    free(body);
    return 0;
}
