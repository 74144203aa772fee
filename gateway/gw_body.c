/* gw_body.c — payload extraction and verification (see gw_body.h). */
#include "gateway/gw_body.h"
#include "gateway/s3/checksum.h"
#include "gateway/s3/chunked.h"
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_sha256(gw_ctx_t *ctx)
{
    uint8_t digest[32];
    SHA256((const unsigned char *)ctx->body.base, ctx->body.len, digest);
    if (CRYPTO_memcmp(digest, ctx->auth.payload_sha256, 32) != 0) {
        gw_set_error(ctx, S3_ERR_X_AMZ_CONTENT_SHA256_MISMATCH, NULL);
        return -1;
    }
    return 0;
}

typedef struct {
    uint8_t *buf;
    size_t len, cap;
} decoded_t;

static int on_decoded(void *arg, const uint8_t *data, size_t len)
{
    decoded_t *d = arg;
    if (d->len + len > d->cap) {
        size_t cap = d->cap ? d->cap : 64 * 1024;
        while (cap < d->len + len)
            cap *= 2;
        uint8_t *buf = realloc(d->buf, cap);
        if (buf == NULL)
            return -1;
        d->buf = buf;
        d->cap = cap;
    }
    memcpy(d->buf + d->len, data, len);
    d->len += len;
    return 0;
}

static s3_error_t chunked_error(int ret)
{
    switch (ret) {
    case S3_CHUNKED_INCOMPLETE:
        return S3_ERR_INCOMPLETE_BODY;
    case S3_CHUNKED_SIGNATURE_MISMATCH:
        return S3_ERR_SIGNATURE_DOES_NOT_MATCH;
    case S3_CHUNKED_BAD_DIGEST:
        return S3_ERR_BAD_DIGEST;
    case S3_CHUNKED_MALFORMED:
        return S3_ERR_INVALID_REQUEST;
    default:
        return S3_ERR_INTERNAL_ERROR;
    }
}

/* Removes aws-chunked framing into a buffer of the request's own, verifying as it goes. */
static int decode_chunked(gw_ctx_t *ctx)
{
    h2o_iovec_t dl = gw_header(ctx, "x-amz-decoded-content-length");
    decoded_t d = {0};
    s3_chunked_t *dec = NULL;
    int64_t decoded_length = -1;
    int ret;

    if (dl.base != NULL) {
        uint64_t v = 0;
        for (size_t i = 0; i < dl.len; i++) {
            if (dl.base[i] < '0' || dl.base[i] > '9' || v > UINT64_MAX / 10 - 10) {
                gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Invalid x-amz-decoded-content-length");
                return -1;
            }
            v = v * 10 + (uint64_t)(dl.base[i] - '0');
        }
        if (dl.len == 0 || v > ctx->env->cfg->max_object_size) {
            gw_set_error(ctx, dl.len == 0 ? S3_ERR_INVALID_ARGUMENT : S3_ERR_ENTITY_TOO_LARGE, NULL);
            return -1;
        }
        decoded_length = (int64_t)v;
        /* the framing is larger than what it carries: never trust a length beyond the entity */
        d.cap = v < ctx->req->entity.len ? (size_t)v : ctx->req->entity.len;
        if (d.cap > 0 && (d.buf = malloc(d.cap)) == NULL) {
            gw_set_error(ctx, S3_ERR_SLOW_DOWN, NULL);
            return -1;
        }
    }
    h2o_iovec_t trailer = gw_header(ctx, "x-amz-trailer");
    s3_chunked_config_t cfg = {.mode = ctx->auth.payload_mode,
                               .sig = &ctx->sigv4,
                               .decoded_length = decoded_length,
                               .trailer = trailer.base ? trailer : h2o_iovec_init("", 0),
                               .on_data = on_decoded,
                               .cb_arg = &d};
    if ((ret = s3_chunked_new(&cfg, &dec)) != 0 ||
        (ret = s3_chunked_feed(dec, (const uint8_t *)ctx->req->entity.base, ctx->req->entity.len)) != 0 ||
        (ret = s3_chunked_finish(dec)) != 0) {
        if (ret == S3_CHUNKED_BAD_DIGEST) {
            /* S3 names the algorithm whose trailer did not match */
            char msg[96];
            int n = snprintf(msg, sizeof(msg), "The %s you specified did not match the calculated checksum.",
                             s3_checksum_alg_name(s3_chunked_trailer_alg(dec)));
            gw_set_error(ctx, S3_ERR_BAD_DIGEST, h2o_strdup(&ctx->req->pool, msg, (size_t)n).base);
        } else {
            gw_set_error(ctx, chunked_error(ret), NULL);
        }
        goto fail;
    }
    s3_checksum_alg_t alg = s3_chunked_trailer_alg(dec);
    if (alg != S3_CHECKSUM_NONE) {
        const char *name = s3_checksum_alg_name(alg), *value = s3_chunked_trailer_value(dec);
        ctx->trailer_checksum_algo = h2o_strdup(&ctx->req->pool, name, strlen(name));
        ctx->trailer_checksum_value = h2o_strdup(&ctx->req->pool, value, strlen(value));
    }
    s3_chunked_free(dec);
    ctx->body_owned = d.buf;
    ctx->body = h2o_iovec_init(d.buf != NULL ? (char *)d.buf : "", d.len);
    return 0;

fail:
    s3_chunked_free(dec);
    free(d.buf);
    return -1;
}

int gw_body_payload(gw_ctx_t *ctx, int defer_sha256, int *sha256_pending)
{
    h2o_iovec_t entity = ctx->req->entity;

    if (sha256_pending != NULL)
        *sha256_pending = 0;
    ctx->body = entity.base != NULL ? entity : h2o_iovec_init("", 0);
    switch (ctx->auth.payload_mode) {
    case S3_PAYLOAD_SHA256:
        if (defer_sha256) {
            *sha256_pending = 1;
            return 0;
        }
        return check_sha256(ctx);
    case S3_PAYLOAD_STREAMING_SIGNED:
    case S3_PAYLOAD_STREAMING_SIGNED_TRAILER:
    case S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER:
        return decode_chunked(ctx);
    default:
        return 0;
    }
}
