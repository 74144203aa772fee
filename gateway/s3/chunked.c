/* chunked.c — aws-chunked body decoder.
 *
 * States, in body order:
 *   SIZE     a chunk-size line, collected into line[] up to its LF
 *   DATA     size bytes of payload, handed to the callback straight from the input
 *   DATA_CR, DATA_LF  the CRLF closing a chunk's data; the chunk signature is checked here
 *   TRAILER  lines after the zero-size chunk, up to an empty line
 *   DONE     nothing more may come
 * Lines are bounded (S3_CHUNKED_MAX_LINE) and must end in CRLF; chunk sizes are hex, at most 16
 * digits and S3_CHUNKED_MAX_CHUNK. The first error sticks. Signatures are compared as bytes in
 * constant time.
 */
#include "gateway/s3/chunked.h"
#include "common/bytes.h"
#include "gateway/s3/checksum.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

enum { ST_SIZE, ST_DATA, ST_DATA_CR, ST_DATA_LF, ST_TRAILER, ST_DONE };

#define SIG_PREFIX       ";chunk-signature="
#define TRAILER_SIG_NAME "x-amz-trailer-signature"

struct s3_chunked {
    s3_chunked_config_t cfg;
    s3_sigv4_ctx_t sig;
    int signed_chunks, trailers_allowed;
    int state, error;
    uint64_t chunk_left, decoded;
    char line[S3_CHUNKED_MAX_LINE];
    size_t line_len;
    char prev_sig[65];     /* the signature the next chunk chains on */
    uint8_t chunk_sig[32]; /* the signature sent with the current chunk */
    EVP_MD_CTX *chunk_hash;
    /* trailers */
    s3_checksum_alg_t trailer_alg;
    s3_checksum_t checksum;
    int have_checksum, have_trailer_sig;
    char checksum_value[S3_CHECKSUM_MAX_BASE64];
    h2o_iovec_t sent_checksum; /* points into sent_checksum_buf */
    char sent_checksum_buf[S3_CHUNKED_MAX_LINE];
    uint8_t trailer_sig[32];
    EVP_MD_CTX *trailer_hash; /* over the canonical trailer lines, signed trailer mode */
};

int s3_chunked_new(const s3_chunked_config_t *cfg, s3_chunked_t **out)
{
    s3_chunked_t *c;
    h2o_iovec_t trailer = cfg->trailer;

    *out = NULL;
    while (trailer.len > 0 && (trailer.base[0] == ' ' || trailer.base[0] == '\t')) {
        trailer.base++;
        trailer.len--;
    }
    while (trailer.len > 0 && (trailer.base[trailer.len - 1] == ' ' || trailer.base[trailer.len - 1] == '\t'))
        trailer.len--;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return S3_CHUNKED_NOMEM;
    c->cfg = *cfg;
    c->cfg.trailer = h2o_iovec_init(NULL, 0); /* borrowed memory is not kept */
    switch (cfg->mode) {
    case S3_PAYLOAD_STREAMING_SIGNED:
        c->signed_chunks = 1;
        break;
    case S3_PAYLOAD_STREAMING_SIGNED_TRAILER:
        c->signed_chunks = 1;
        c->trailers_allowed = 1;
        break;
    case S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER:
        c->trailers_allowed = 1;
        break;
    default:
        goto malformed;
    }
    if (c->signed_chunks) {
        if (cfg->sig == NULL)
            goto malformed;
        c->sig = *cfg->sig;
        memcpy(c->prev_sig, c->sig.seed_signature, sizeof(c->prev_sig));
        if ((c->chunk_hash = EVP_MD_CTX_new()) == NULL)
            goto nomem;
    }
    if (trailer.len > 0) {
        if (!c->trailers_allowed || s3_checksum_alg_from_header(trailer, &c->trailer_alg) != 0)
            goto malformed;
        if (s3_checksum_init(&c->checksum, c->trailer_alg) != 0)
            goto nomem;
    }
    if (c->signed_chunks && c->trailers_allowed) {
        if ((c->trailer_hash = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(c->trailer_hash, EVP_sha256(), NULL) != 1)
            goto nomem;
    }
    c->state = ST_SIZE;
    *out = c;
    return 0;

malformed:
    s3_chunked_free(c);
    return S3_CHUNKED_MALFORMED;
nomem:
    s3_chunked_free(c);
    return S3_CHUNKED_NOMEM;
}

void s3_chunked_free(s3_chunked_t *c)
{
    if (c == NULL)
        return;
    EVP_MD_CTX_free(c->chunk_hash);
    EVP_MD_CTX_free(c->trailer_hash);
    s3_checksum_dispose(&c->checksum);
    OPENSSL_cleanse(c, sizeof(*c));
    free(c);
}

uint64_t s3_chunked_decoded_length(const s3_chunked_t *c)
{
    return c->decoded;
}

s3_checksum_alg_t s3_chunked_trailer_alg(const s3_chunked_t *c)
{
    return c->trailer_alg;
}

const char *s3_chunked_trailer_value(const s3_chunked_t *c)
{
    return c->state == ST_DONE && c->error == 0 && c->trailer_alg != S3_CHECKSUM_NONE ? c->checksum_value : NULL;
}

/* Checks the current chunk's signature over the data hashed so far and moves the chain on. */
static int verify_chunk(s3_chunked_t *c)
{
    uint8_t hash[32], expected[32];
    char hex[65];
    unsigned int n = 0;

    if (EVP_DigestFinal_ex(c->chunk_hash, hash, &n) != 1 || n != 32)
        return S3_CHUNKED_NOMEM;
    if (s3_sigv4_chunk_signature(&c->sig, c->prev_sig, hash, hex) != 0)
        return S3_CHUNKED_NOMEM;
    if (s3_checksum_from_hex(h2o_iovec_init(hex, 64), expected, 32) != 0)
        return S3_CHUNKED_NOMEM;
    if (CRYPTO_memcmp(expected, c->chunk_sig, 32) != 0)
        return S3_CHUNKED_SIGNATURE_MISMATCH;
    memcpy(c->prev_sig, hex, sizeof(hex));
    return 0;
}

/* Parses a complete chunk-size line (without its CRLF). */
static int parse_size_line(s3_chunked_t *c, const char *p, size_t len)
{
    uint64_t size = 0;
    size_t i = 0;
    int d;

    for (; i < len && (d = yc_hex_digit(p[i])) >= 0; i++) {
        if (i >= 16)
            return S3_CHUNKED_MALFORMED;
        size = size << 4 | (uint64_t)d;
        if (size > S3_CHUNKED_MAX_CHUNK)
            return S3_CHUNKED_MALFORMED;
    }
    if (i == 0)
        return S3_CHUNKED_MALFORMED;
    if (c->signed_chunks) {
        size_t pl = strlen(SIG_PREFIX);
        if (len - i != pl + 64 || memcmp(p + i, SIG_PREFIX, pl) != 0 ||
            s3_checksum_from_hex(h2o_iovec_init((char *)p + i + pl, 64), c->chunk_sig, 32) != 0)
            return S3_CHUNKED_MALFORMED;
        if (EVP_DigestInit_ex(c->chunk_hash, EVP_sha256(), NULL) != 1)
            return S3_CHUNKED_NOMEM;
    } else if (i != len) {
        return S3_CHUNKED_MALFORMED;
    }
    if (size == 0) {
        int ret;
        if (c->signed_chunks && (ret = verify_chunk(c)) != 0)
            return ret;
        c->state = ST_TRAILER;
        return 0;
    }
    if (c->cfg.decoded_length >= 0 && size > (uint64_t)c->cfg.decoded_length - c->decoded)
        return S3_CHUNKED_MALFORMED; /* more payload than announced */
    c->chunk_left = size;
    c->state = ST_DATA;
    return 0;
}

/* Handles one trailer line (without its CRLF); an empty line ends the body. */
static int parse_trailer_line(s3_chunked_t *c, const char *p, size_t len)
{
    const char *colon;
    h2o_iovec_t name, value;

    if (len == 0)
        return 1; /* the end: checked by finish_trailers */
    if (!c->trailers_allowed || c->have_trailer_sig || (colon = memchr(p, ':', len)) == NULL)
        return S3_CHUNKED_MALFORMED;
    name = h2o_iovec_init((char *)p, (size_t)(colon - p));
    value = h2o_iovec_init((char *)colon + 1, len - name.len - 1);
    while (value.len > 0 && (value.base[0] == ' ' || value.base[0] == '\t')) {
        value.base++;
        value.len--;
    }
    while (value.len > 0 && (value.base[value.len - 1] == ' ' || value.base[value.len - 1] == '\t'))
        value.len--;

    if (c->signed_chunks && name.len == strlen(TRAILER_SIG_NAME) &&
        strncasecmp(name.base, TRAILER_SIG_NAME, name.len) == 0) {
        if (value.len != 64 || s3_checksum_from_hex(value, c->trailer_sig, 32) != 0)
            return S3_CHUNKED_MALFORMED;
        c->have_trailer_sig = 1;
        return 0;
    }
    s3_checksum_alg_t alg;
    if (c->have_checksum || c->trailer_alg == S3_CHECKSUM_NONE || s3_checksum_alg_from_header(name, &alg) != 0 ||
        alg != c->trailer_alg)
        return S3_CHUNKED_MALFORMED;
    memcpy(c->sent_checksum_buf, value.base, value.len);
    c->sent_checksum = h2o_iovec_init(c->sent_checksum_buf, value.len);
    c->have_checksum = 1;
    if (c->trailer_hash != NULL) {
        /* the signed form of a trailer: lowercase name, ':', trimmed value, LF */
        const char *lname = s3_checksum_header_name(alg);
        if (EVP_DigestUpdate(c->trailer_hash, lname, strlen(lname)) != 1 ||
            EVP_DigestUpdate(c->trailer_hash, ":", 1) != 1 ||
            (value.len > 0 && EVP_DigestUpdate(c->trailer_hash, value.base, value.len) != 1) ||
            EVP_DigestUpdate(c->trailer_hash, "\n", 1) != 1)
            return S3_CHUNKED_NOMEM;
    }
    return 0;
}

/* After the empty line: trailer signature, then the checksum. */
static int finish_trailers(s3_chunked_t *c)
{
    if (c->trailer_hash != NULL) {
        uint8_t hash[32], expected[32];
        char hex[65];
        unsigned int n = 0;
        if (!c->have_trailer_sig)
            return S3_CHUNKED_MALFORMED;
        if (EVP_DigestFinal_ex(c->trailer_hash, hash, &n) != 1 ||
            s3_sigv4_trailer_signature(&c->sig, c->prev_sig, hash, hex) != 0 ||
            s3_checksum_from_hex(h2o_iovec_init(hex, 64), expected, 32) != 0)
            return S3_CHUNKED_NOMEM;
        if (CRYPTO_memcmp(expected, c->trailer_sig, 32) != 0)
            return S3_CHUNKED_SIGNATURE_MISMATCH;
    }
    if (c->trailer_alg != S3_CHECKSUM_NONE) {
        uint8_t digest[S3_CHECKSUM_MAX_SIZE];
        size_t n;
        int ret;
        if (!c->have_checksum)
            return S3_CHUNKED_MALFORMED;
        if (s3_checksum_final(&c->checksum, digest, &n) != 0)
            return S3_CHUNKED_NOMEM;
        yc_base64_encode(digest, n, c->checksum_value);
        if ((ret = s3_checksum_compare_base64(digest, n, c->sent_checksum)) != 0)
            return ret == S3_CHECKSUM_MISMATCH ? S3_CHUNKED_BAD_DIGEST : S3_CHUNKED_MALFORMED;
    }
    return 0;
}

/* Collects line bytes; returns the number consumed, and sets *complete when the LF arrived. */
static int take_line(s3_chunked_t *c, const uint8_t *p, size_t len, size_t limit, size_t *used, int *complete)
{
    const uint8_t *lf = memchr(p, '\n', len);
    size_t n = lf != NULL ? (size_t)(lf - p) + 1 : len;

    if (c->line_len + n > limit)
        return S3_CHUNKED_MALFORMED;
    memcpy(c->line + c->line_len, p, n);
    c->line_len += n;
    *used = n;
    *complete = lf != NULL;
    if (*complete) {
        /* CRLF only, and no stray CR inside */
        if (c->line_len < 2 || c->line[c->line_len - 2] != '\r' || memchr(c->line, '\r', c->line_len - 2) != NULL)
            return S3_CHUNKED_MALFORMED;
    }
    return 0;
}

static int feed(s3_chunked_t *c, const uint8_t *p, size_t len)
{
    int ret, complete;
    size_t used;

    while (len > 0) {
        switch (c->state) {
        case ST_SIZE:
        case ST_TRAILER: {
            size_t limit = c->state == ST_SIZE ? 16 + strlen(SIG_PREFIX) + 64 + 2 : S3_CHUNKED_MAX_LINE;
            if ((ret = take_line(c, p, len, limit, &used, &complete)) != 0)
                return ret;
            p += used;
            len -= used;
            if (!complete)
                break;
            size_t line_len = c->line_len - 2;
            c->line_len = 0;
            if (c->state == ST_SIZE) {
                if ((ret = parse_size_line(c, c->line, line_len)) != 0)
                    return ret;
            } else {
                if ((ret = parse_trailer_line(c, c->line, line_len)) < 0)
                    return ret;
                if (ret == 1) {
                    if ((ret = finish_trailers(c)) != 0)
                        return ret;
                    c->state = ST_DONE;
                }
            }
            break;
        }
        case ST_DATA: {
            size_t n = len < c->chunk_left ? len : (size_t)c->chunk_left;
            if (c->signed_chunks && EVP_DigestUpdate(c->chunk_hash, p, n) != 1)
                return S3_CHUNKED_NOMEM;
            if (c->trailer_alg != S3_CHECKSUM_NONE && s3_checksum_update(&c->checksum, p, n) != 0)
                return S3_CHUNKED_NOMEM;
            if (c->cfg.on_data != NULL && c->cfg.on_data(c->cfg.cb_arg, p, n) != 0)
                return S3_CHUNKED_ABORTED;
            c->decoded += n;
            c->chunk_left -= n;
            p += n;
            len -= n;
            if (c->chunk_left == 0)
                c->state = ST_DATA_CR;
            break;
        }
        case ST_DATA_CR:
            if (*p != '\r')
                return S3_CHUNKED_MALFORMED;
            p++;
            len--;
            c->state = ST_DATA_LF;
            break;
        case ST_DATA_LF:
            if (*p != '\n')
                return S3_CHUNKED_MALFORMED;
            p++;
            len--;
            if (c->signed_chunks && (ret = verify_chunk(c)) != 0)
                return ret;
            c->state = ST_SIZE;
            break;
        default: /* ST_DONE: nothing may follow the end */
            return S3_CHUNKED_MALFORMED;
        }
    }
    return 0;
}

int s3_chunked_feed(s3_chunked_t *c, const uint8_t *data, size_t len)
{
    if (c->error == 0)
        c->error = feed(c, data, len);
    return c->error;
}

int s3_chunked_finish(s3_chunked_t *c)
{
    if (c->error != 0)
        return c->error;
    if (c->state != ST_DONE)
        return c->error = S3_CHUNKED_INCOMPLETE;
    if (c->cfg.decoded_length >= 0 && c->decoded != (uint64_t)c->cfg.decoded_length)
        return c->error = S3_CHUNKED_INCOMPLETE;
    return 0;
}

int s3_chunked_decoded_length_parse(h2o_iovec_t v, uint64_t *out)
{
    return v.base != NULL && yc_decimal_u64(v.base, v.len, out) == 0 ? 0 : -1;
}
