/* gw_checksums.c — x-amz-checksum-* for PutObject, the multipart operations and GET/HEAD
 * (see gw_checksums.h). Error codes and messages are S3's. */
#include "gateway/gw_checksums.h"
#include "gateway/gw_handlers.h"
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CHECKSUM_HEADER_PREFIX "x-amz-checksum-"

/* Sets an error whose message is formatted into the request's pool (it outlives the worker). */
static void set_error_fmt(gw_ctx_t *ctx, s3_error_t err, const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(buf))
        n = (int)sizeof(buf) - 1;
    gw_set_error(ctx, err, h2o_strdup(&ctx->req->pool, buf, (size_t)n).base);
}

/* "crc32", "sha256", ...: S3 names algorithms in lowercase inside its messages */
static const char *lower_name(s3_checksum_alg_t alg, char out[16])
{
    const char *name =
        alg == S3_CHECKSUM_NONE || s3_checksum_alg_name(alg) == NULL ? "null" : s3_checksum_alg_name(alg);
    size_t n = strlen(name) < 15 ? strlen(name) : 15;

    for (size_t i = 0; i < n; i++)
        out[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    out[n] = '\0';
    return out;
}

static s3_checksum_alg_t alg_of(meta_bytes_t name)
{
    s3_checksum_alg_t alg;
    return name.len > 0 && s3_checksum_alg_from_name(gw_iov(name), &alg) == 0 ? alg : S3_CHECKSUM_NONE;
}

static s3_checksum_type_t type_of(uint32_t meta_type)
{
    switch (meta_type) {
    case META_CHECKSUM_FULL_OBJECT:
        return S3_CHECKSUM_TYPE_FULL_OBJECT;
    case META_CHECKSUM_COMPOSITE:
        return S3_CHECKSUM_TYPE_COMPOSITE;
    default:
        return S3_CHECKSUM_TYPE_NONE;
    }
}

static uint32_t meta_type_of(s3_checksum_type_t type)
{
    return type == S3_CHECKSUM_TYPE_FULL_OBJECT ? META_CHECKSUM_FULL_OBJECT
           : type == S3_CHECKSUM_TYPE_COMPOSITE ? META_CHECKSUM_COMPOSITE
                                                : META_CHECKSUM_NONE;
}

static void mismatch_error(gw_ctx_t *ctx, s3_checksum_alg_t expected, s3_checksum_alg_t actual)
{
    char e[16], a[16];
    set_error_fmt(ctx, S3_ERR_INVALID_REQUEST,
                  "Checksum Type mismatch occurred, expected checksum Type: %s, actual checksum Type: %s",
                  lower_name(expected, e), lower_name(actual, a));
}

static void bad_digest(gw_ctx_t *ctx, s3_checksum_alg_t alg)
{
    set_error_fmt(ctx, S3_ERR_BAD_DIGEST, "The %s you specified did not match the calculated checksum.",
                  s3_checksum_alg_name(alg));
}

/* The x-amz-checksum-* headers that name a setting rather than carry a body's checksum. */
static int is_setting_header(h2o_iovec_t name)
{
    return h2o_lcstris(name.base, name.len, H2O_STRLIT("x-amz-checksum-mode")) ||
           h2o_lcstris(name.base, name.len, H2O_STRLIT("x-amz-checksum-algorithm")) ||
           h2o_lcstris(name.base, name.len, H2O_STRLIT("x-amz-checksum-type"));
}

/* The one checksum header of the request, if any: *alg NONE when there is none. Several, or one
 * of an algorithm not served here, is an error; so is a value that is not base64 of the
 * algorithm's digest size. */
static int find_checksum_header(gw_ctx_t *ctx, s3_checksum_alg_t *alg, h2o_iovec_t *value)
{
    const h2o_headers_t *headers = &ctx->req->headers;
    size_t prefix = sizeof(CHECKSUM_HEADER_PREFIX) - 1;
    int found = 0;

    *alg = S3_CHECKSUM_NONE;
    *value = h2o_iovec_init(NULL, 0);
    for (size_t i = 0; i < headers->size; i++) {
        h2o_iovec_t name = *headers->entries[i].name;
        s3_checksum_alg_t a;
        if (name.len <= prefix || strncasecmp(name.base, CHECKSUM_HEADER_PREFIX, prefix) != 0 ||
            is_setting_header(name))
            continue;
        if (s3_checksum_alg_from_header(name, &a) != 0) {
            gw_set_error(ctx, S3_ERR_INVALID_REQUEST,
                         "The algorithm type you specified in x-amz-checksum- header is invalid.");
            return -1;
        }
        if (found++ > 0) {
            gw_set_error(ctx, S3_ERR_INVALID_REQUEST,
                         "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.");
            return -1;
        }
        *alg = a;
        *value = headers->entries[i].value;
    }
    if (*alg != S3_CHECKSUM_NONE) {
        uint8_t digest[S3_CHECKSUM_MAX_SIZE];
        size_t n;
        if (s3_checksum_from_base64(*value, digest, sizeof(digest), &n) != 0 || n != s3_checksum_size(*alg)) {
            set_error_fmt(ctx, S3_ERR_INVALID_REQUEST, "Value for %s header is invalid.",
                          s3_checksum_header_name(*alg));
            return -1;
        }
    }
    return 0;
}

/* What the client sent for the body: a header, or a trailer already verified by the decoder. */
static int read_sent(gw_ctx_t *ctx, gw_checksum_t *c)
{
    s3_checksum_alg_t alg;
    h2o_iovec_t value;

    h2o_iovec_t trailer = gw_header(ctx, "x-amz-trailer");
    /* a streamed body's trailer comes after the data pass (gw_body_end): its decoder checks it */
    int streamed_trailer = trailer.base != NULL && (ctx->auth.payload_mode == S3_PAYLOAD_STREAMING_SIGNED_TRAILER ||
                                                    ctx->auth.payload_mode == S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER);

    if (find_checksum_header(ctx, &alg, &value) != 0)
        return -1;
    if (ctx->trailer_checksum_algo.base != NULL || streamed_trailer) {
        if (alg != S3_CHECKSUM_NONE) {
            gw_set_error(ctx, S3_ERR_INVALID_REQUEST,
                         "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.");
            return -1;
        }
        if (ctx->trailer_checksum_algo.base != NULL ? s3_checksum_alg_from_name(ctx->trailer_checksum_algo, &alg) != 0
                                                    : s3_checksum_alg_from_header(trailer, &alg) != 0) {
            gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
            return -1;
        }
        c->from_trailer = 1;
        value = ctx->trailer_checksum_value;
    } else if (alg == S3_CHECKSUM_NONE && gw_header(ctx, "x-amz-trailer").base != NULL) {
        /* a trailer is only read from a streaming trailer payload: any other would go unchecked */
        gw_set_error(ctx, S3_ERR_INVALID_REQUEST,
                     "The value specified in the x-amz-trailer header is not supported for this payload.");
        return -1;
    } else if (alg == S3_CHECKSUM_NONE && gw_header(ctx, "x-amz-sdk-checksum-algorithm").base != NULL) {
        gw_set_error(ctx, S3_ERR_INVALID_REQUEST,
                     "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or "
                     "x-amz-trailer headers were found.");
        return -1;
    }
    c->sent = alg;
    c->sent_value = value;
    return 0;
}

/* Starts the data pass's checksum of c->alg, unless a trailer already gave the value. */
static int start_running(gw_ctx_t *ctx, gw_checksum_t *c)
{
    if (c->alg == S3_CHECKSUM_NONE || (c->from_trailer && c->sent == c->alg))
        return 0;
    if (s3_checksum_init(&c->running, c->alg) != 0) {
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        return -1;
    }
    c->running_active = 1;
    return 0;
}

int gw_checksum_begin(gw_ctx_t *ctx, gw_checksum_t *c)
{
    memset(c, 0, sizeof(*c));
    if (read_sent(ctx, c) != 0)
        return -1;
    c->alg = c->sent;
    return start_running(ctx, c);
}

int gw_checksum_begin_part(gw_ctx_t *ctx, const meta_upload_t *upload, int copy, gw_checksum_t *c)
{
    s3_checksum_alg_t want = alg_of(upload->checksum_algo);

    memset(c, 0, sizeof(*c));
    /* an UploadPartCopy carries no body: its bytes get the upload's checksum, computed here */
    if (!copy && read_sent(ctx, c) != 0)
        return -1;
    if (want == S3_CHECKSUM_NONE) {
        c->alg = c->sent;
    } else if (c->sent == S3_CHECKSUM_NONE) {
        /* a composite checksum is made of the client's part checksums: a part must bring one */
        if (!copy && upload->checksum_type == META_CHECKSUM_COMPOSITE) {
            mismatch_error(ctx, want, S3_CHECKSUM_NONE);
            return -1;
        }
        c->alg = want;
    } else if (c->sent != want) {
        mismatch_error(ctx, want, c->sent);
        return -1;
    } else {
        c->alg = want;
    }
    return start_running(ctx, c);
}

void gw_checksum_observe(void *arg, const void *data, size_t len)
{
    gw_checksum_t *c = arg;
    if (c->running_active)
        s3_checksum_update(&c->running, data, len);
}

int gw_checksum_finish(gw_ctx_t *ctx, gw_checksum_t *c)
{
    uint8_t digest[S3_CHECKSUM_MAX_SIZE];
    size_t n;

    if (c->alg == S3_CHECKSUM_NONE)
        return 0;
    if (!c->running_active) {
        /* verified by the aws-chunked decoder, which wrote it in canonical base64 (a streamed
         * body's trailer is there once gw_body_end returned) */
        h2o_iovec_t v =
            c->from_trailer && ctx->trailer_checksum_value.base != NULL ? ctx->trailer_checksum_value : c->sent_value;
        if (v.base == NULL || v.len >= sizeof(c->value)) {
            gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
            return -1;
        }
        memcpy(c->value, v.base, v.len);
        c->value[v.len] = '\0';
        return 0;
    }
    c->running_active = 0;
    int ret = s3_checksum_final(&c->running, digest, &n);
    s3_checksum_dispose(&c->running);
    if (ret != 0) {
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        return -1;
    }
    yc_base64_encode(digest, n, c->value);
    if (c->sent != S3_CHECKSUM_NONE && !c->from_trailer && s3_checksum_compare_base64(digest, n, c->sent_value) != 0) {
        bad_digest(ctx, c->alg);
        return -1;
    }
    return 0;
}

void gw_checksum_dispose(gw_checksum_t *c)
{
    if (c->running_active)
        s3_checksum_dispose(&c->running);
    c->running_active = 0;
}

void gw_checksum_object_record(const gw_checksum_t *c, meta_object_t *r)
{
    r->part_checksums = (meta_bytes_t){NULL, 0};
    if (c->alg == S3_CHECKSUM_NONE) {
        r->checksum_algo = r->checksum_value = (meta_bytes_t){NULL, 0};
        r->checksum_type = META_CHECKSUM_NONE;
        return;
    }
    const char *name = s3_checksum_alg_name(c->alg);
    r->checksum_algo = (meta_bytes_t){name, strlen(name)};
    r->checksum_value = (meta_bytes_t){c->value, strlen(c->value)};
    r->checksum_type = META_CHECKSUM_FULL_OBJECT; /* a single PUT's checksum is of all its bytes */
}

void gw_checksum_part_record(const gw_checksum_t *c, meta_part_t *p)
{
    if (c->alg == S3_CHECKSUM_NONE) {
        p->checksum_algo = p->checksum_value = (meta_bytes_t){NULL, 0};
        return;
    }
    const char *name = s3_checksum_alg_name(c->alg);
    p->checksum_algo = (meta_bytes_t){name, strlen(name)};
    p->checksum_value = (meta_bytes_t){c->value, strlen(c->value)};
}

void gw_checksum_echo(gw_ctx_t *ctx, const gw_checksum_t *c, int with_type)
{
    if (c->sent == S3_CHECKSUM_NONE)
        return;
    gw_add_header_str(ctx, s3_checksum_header_name(c->sent), c->value);
    if (with_type)
        gw_add_header_str(ctx, "x-amz-checksum-type", "FULL_OBJECT");
}

/* ---------------------------------------------------------------- uploads */

int gw_checksum_upload_settings(gw_ctx_t *ctx, meta_upload_t *u)
{
    h2o_iovec_t algo = gw_header(ctx, "x-amz-checksum-algorithm"), type = gw_header(ctx, "x-amz-checksum-type");
    s3_checksum_alg_t alg;
    s3_checksum_type_t t;
    char lower[16];

    u->checksum_algo = (meta_bytes_t){NULL, 0};
    u->checksum_type = META_CHECKSUM_NONE;
    if (algo.base == NULL) {
        if (type.base != NULL) {
            gw_set_error(ctx, S3_ERR_INVALID_REQUEST,
                         "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.");
            return -1;
        }
        return 0;
    }
    if (s3_checksum_alg_from_name(algo, &alg) != 0) {
        gw_set_error(ctx, S3_ERR_INVALID_REQUEST,
                     "Checksum algorithm provided is unsupported. Please try again with any of the valid types: "
                     "[CRC32, CRC32C, CRC64NVME, SHA1, SHA256]");
        return -1;
    }
    if (type.base == NULL) {
        t = s3_checksum_type_default(alg);
    } else if (s3_checksum_type_from_name(type, &t) != 0) {
        gw_set_error(ctx, S3_ERR_INVALID_REQUEST, "Value for x-amz-checksum-type header is invalid.");
        return -1;
    } else if (!s3_checksum_type_allowed(alg, t)) {
        set_error_fmt(ctx, S3_ERR_INVALID_REQUEST,
                      "The %s checksum type cannot be used with the %s checksum algorithm.", s3_checksum_type_name(t),
                      lower_name(alg, lower));
        return -1;
    }
    const char *name = s3_checksum_alg_name(alg);
    u->checksum_algo = (meta_bytes_t){name, strlen(name)};
    u->checksum_type = meta_type_of(t);
    return 0;
}

void gw_checksum_upload_headers(gw_ctx_t *ctx, const meta_upload_t *u)
{
    const char *type = s3_checksum_type_name(type_of(u->checksum_type));

    if (u->checksum_algo.len == 0 || type == NULL)
        return;
    gw_add_header(ctx, "x-amz-checksum-algorithm", u->checksum_algo.base, u->checksum_algo.len);
    gw_add_header_str(ctx, "x-amz-checksum-type", type);
}

void gw_checksum_upload_xml(s3_xml_writer_t *w, const meta_upload_t *u)
{
    const char *type = s3_checksum_type_name(type_of(u->checksum_type));

    if (u->checksum_algo.len == 0 || type == NULL)
        return;
    s3_xml_element(w, "ChecksumAlgorithm", gw_iov(u->checksum_algo));
    s3_xml_element_str(w, "ChecksumType", type);
}

/* <ChecksumCRC32>value</ChecksumCRC32> for alg */
static void checksum_element(s3_xml_writer_t *w, s3_checksum_alg_t alg, h2o_iovec_t value)
{
    char tag[32];

    snprintf(tag, sizeof(tag), "Checksum%s", s3_checksum_alg_name(alg));
    s3_xml_element(w, tag, value);
}

void gw_checksum_part_xml(s3_xml_writer_t *w, const meta_part_t *p)
{
    s3_checksum_alg_t alg = alg_of(p->checksum_algo);

    if (alg != S3_CHECKSUM_NONE && p->checksum_value.len > 0)
        checksum_element(w, alg, gw_iov(p->checksum_value));
}

/* ---------------------------------------------------------------- CompleteMultipartUpload */

int gw_checksum_complete_begin(gw_ctx_t *ctx, const meta_upload_t *u, gw_checksum_complete_t *cc)
{
    h2o_iovec_t type = gw_header(ctx, "x-amz-checksum-type");
    s3_checksum_type_t t;

    memset(cc, 0, sizeof(*cc));
    cc->alg = alg_of(u->checksum_algo);
    cc->type = type_of(u->checksum_type);
    if (type.base != NULL) {
        if (s3_checksum_type_from_name(type, &t) != 0) {
            gw_set_error(ctx, S3_ERR_INVALID_REQUEST, "Value for x-amz-checksum-type header is invalid.");
            return -1;
        }
        if (t != cc->type) {
            set_error_fmt(ctx, S3_ERR_BAD_DIGEST,
                          "The upload was created using the %s checksum mode. The complete request specified the "
                          "%s mode.",
                          cc->type == S3_CHECKSUM_TYPE_NONE ? "null" : s3_checksum_type_name(cc->type),
                          s3_checksum_type_name(t));
            return -1;
        }
    }
    if (cc->alg == S3_CHECKSUM_NONE)
        return 0;
    if (cc->type == S3_CHECKSUM_TYPE_NONE || s3_checksum_multipart_init(&cc->sum, cc->alg, cc->type) != 0) {
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL); /* the upload record holds what Create accepted */
        return -1;
    }
    return 0;
}

/* The checksum value a Complete request lists for a part under alg; base NULL when absent. */
static h2o_iovec_t listed_checksum(const s3_xml_part_t *p, s3_checksum_alg_t alg)
{
    switch (alg) {
    case S3_CHECKSUM_CRC32:
        return p->checksum_crc32;
    case S3_CHECKSUM_CRC32C:
        return p->checksum_crc32c;
    case S3_CHECKSUM_CRC64NVME:
        return p->checksum_crc64nvme;
    case S3_CHECKSUM_SHA1:
        return p->checksum_sha1;
    case S3_CHECKSUM_SHA256:
        return p->checksum_sha256;
    default:
        return h2o_iovec_init(NULL, 0);
    }
}

/* Decodes a stored part checksum of alg; non-zero when it is not one. */
static int stored_digest(const meta_part_t *p, s3_checksum_alg_t alg, uint8_t digest[S3_CHECKSUM_MAX_SIZE])
{
    size_t n;
    return alg_of(p->checksum_algo) != alg ||
           s3_checksum_from_base64(gw_iov(p->checksum_value), digest, S3_CHECKSUM_MAX_SIZE, &n) != 0 ||
           n != s3_checksum_size(alg);
}

int gw_checksum_complete_part(gw_ctx_t *ctx, gw_checksum_complete_t *cc, const s3_xml_part_t *listed,
                              const meta_part_t *stored)
{
    static const s3_checksum_alg_t algs[] = {S3_CHECKSUM_CRC32, S3_CHECKSUM_CRC32C, S3_CHECKSUM_CRC64NVME,
                                             S3_CHECKSUM_SHA1, S3_CHECKSUM_SHA256};
    uint8_t digest[S3_CHECKSUM_MAX_SIZE];
    char lower[16];

    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        h2o_iovec_t v = listed_checksum(listed, algs[i]);
        if (v.base == NULL)
            continue;
        /* without an upload algorithm a part may still carry a checksum: compare when it has this one */
        if (cc->alg == S3_CHECKSUM_NONE && alg_of(stored->checksum_algo) != algs[i])
            continue;
        if (stored_digest(stored, algs[i], digest) != 0 ||
            s3_checksum_compare_base64(digest, s3_checksum_size(algs[i]), v) != 0) {
            gw_set_error(ctx, S3_ERR_INVALID_PART, NULL);
            return -1;
        }
    }
    if (cc->alg == S3_CHECKSUM_NONE)
        return 0;
    if (cc->type == S3_CHECKSUM_TYPE_COMPOSITE && listed_checksum(listed, cc->alg).base == NULL) {
        set_error_fmt(ctx, S3_ERR_INVALID_REQUEST,
                      "The upload was created using a %s checksum. The complete request must include the checksum "
                      "for each part. It was missing for part %u in the request.",
                      lower_name(cc->alg, lower), listed->part_number);
        return -1;
    }
    if (stored_digest(stored, cc->alg, digest) != 0) {
        /* every part of an upload with an algorithm was given that checksum when it was stored */
        gw_set_error(ctx, S3_ERR_INVALID_PART, NULL);
        return -1;
    }
    size_t n = s3_checksum_size(cc->alg);
    if (s3_checksum_multipart_add(&cc->sum, digest, n, stored->size) != 0) {
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        return -1;
    }
    meta_buf_t *b = &cc->part_checksums;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64 * n;
        uint8_t *p = realloc(b->base, cap);
        if (p == NULL) {
            gw_set_error(ctx, S3_ERR_SLOW_DOWN, NULL);
            return -1;
        }
        b->base = p;
        b->cap = cap;
    }
    memcpy(b->base + b->len, digest, n);
    b->len += n;
    return 0;
}

int gw_checksum_complete_finish(gw_ctx_t *ctx, gw_checksum_complete_t *cc, meta_object_t *r)
{
    s3_checksum_alg_t sent;
    h2o_iovec_t value;

    r->checksum_algo = r->checksum_value = r->part_checksums = (meta_bytes_t){NULL, 0};
    r->checksum_type = META_CHECKSUM_NONE;
    if (find_checksum_header(ctx, &sent, &value) != 0)
        return -1;
    if (sent != S3_CHECKSUM_NONE && sent != cc->alg) {
        mismatch_error(ctx, cc->alg, sent);
        return -1;
    }
    if (cc->alg == S3_CHECKSUM_NONE)
        return 0;
    if (s3_checksum_multipart_final(&cc->sum, cc->value, &cc->value_len) != 0) {
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        return -1;
    }
    if (sent != S3_CHECKSUM_NONE) {
        /* a composite value is compared without its "-N": the base64 is what was checked */
        const char *dash = memchr(cc->value, '-', cc->value_len);
        size_t b64_len = dash != NULL ? (size_t)(dash - cc->value) : cc->value_len;
        if (!h2o_memis(value.base, value.len, cc->value, b64_len)) {
            bad_digest(ctx, cc->alg);
            return -1;
        }
    }
    const char *name = s3_checksum_alg_name(cc->alg);
    r->checksum_algo = (meta_bytes_t){name, strlen(name)};
    r->checksum_value = (meta_bytes_t){cc->value, cc->value_len};
    r->checksum_type = meta_type_of(cc->type);
    r->part_checksums = (meta_bytes_t){(const char *)cc->part_checksums.base, cc->part_checksums.len};
    return 0;
}

void gw_checksum_complete_xml(s3_xml_writer_t *w, const gw_checksum_complete_t *cc)
{
    if (cc->alg == S3_CHECKSUM_NONE || cc->value_len == 0)
        return;
    checksum_element(w, cc->alg, h2o_iovec_init(cc->value, cc->value_len));
    s3_xml_element_str(w, "ChecksumType", s3_checksum_type_name(cc->type));
}

void gw_checksum_complete_dispose(gw_checksum_complete_t *cc)
{
    s3_checksum_multipart_dispose(&cc->sum);
    meta_buf_dispose(&cc->part_checksums);
}

/* ---------------------------------------------------------------- GET / HEAD */

void gw_checksum_object_headers(gw_ctx_t *ctx, const meta_object_t *r, uint32_t part_number)
{
    h2o_iovec_t mode = gw_header(ctx, "x-amz-checksum-mode"), value = gw_iov(r->checksum_value);
    s3_checksum_alg_t alg = alg_of(r->checksum_algo);
    const char *type = s3_checksum_type_name(type_of(r->checksum_type));
    char b64[S3_CHECKSUM_MAX_BASE64];
    meta_bytes_t digest;

    if (mode.base == NULL || mode.len != 7 || strncasecmp(mode.base, "ENABLED", 7) != 0 || alg == S3_CHECKSUM_NONE)
        return;
    if (part_number > 0) {
        if (meta_object_part_checksum(r, part_number - 1, &digest) == 0 && digest.len == s3_checksum_size(alg)) {
            value = h2o_iovec_init(b64, yc_base64_encode((const uint8_t *)digest.base, digest.len, b64));
        } else if (r->part_count != 1 || r->part_checksums.len != 0) {
            return; /* no checksum of that part was kept */
        }
        /* else a single PUT's only part is the whole object: its checksum is the object's */
    }
    gw_add_header(ctx, s3_checksum_header_name(alg), value.base, value.len);
    if (type != NULL)
        gw_add_header_str(ctx, "x-amz-checksum-type", type);
}

int gw_checksum_body_verify(gw_ctx_t *ctx, int required)
{
    h2o_iovec_t md5 = gw_header(ctx, "content-md5");
    gw_checksum_t c;
    int ret;

    if (md5.base != NULL) {
        uint8_t digest[16];
        EVP_Digest(ctx->body.base, ctx->body.len, digest, NULL, EVP_md5(), NULL);
        if ((ret = s3_checksum_compare_base64(digest, 16, md5)) != 0) {
            gw_set_error(ctx, ret == S3_CHECKSUM_MISMATCH ? S3_ERR_BAD_DIGEST : S3_ERR_INVALID_DIGEST, NULL);
            return -1;
        }
    }
    if (gw_checksum_begin(ctx, &c) != 0)
        return -1;
    gw_checksum_observe(&c, ctx->body.base, ctx->body.len);
    ret = gw_checksum_finish(ctx, &c);
    int sent = c.sent != S3_CHECKSUM_NONE;
    gw_checksum_dispose(&c);
    if (ret != 0)
        return -1;
    if (required && md5.base == NULL && !sent) {
        gw_set_error(ctx, S3_ERR_INVALID_REQUEST, "Missing required header for this request: Content-Md5.");
        return -1;
    }
    return 0;
}
