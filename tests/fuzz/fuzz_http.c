/* fuzz_http.c — the HTTP/1.1 request stream parsers (common/http_internal.h) driven as a
 * connection drives them: heads, bodies (Content-Length or chunked) and the next pipelined
 * request, over hostile bytes split at fuzzed points.
 *
 * Byte 0 seeds the split sizes, byte 1 picks the limits; the rest is what a client sends. Every
 * call gets exactly the buffered bytes in a heap block of that size, so that a read past them
 * is caught. Checks:
 *   - the stream read in pieces gives the same transcript (heads, body bytes, ends, refusals)
 *     as read at once: parsing never depends on where packets end;
 *   - every head accepted has unambiguous framing, checked on its raw bytes apart from the
 *     parser: CRLF line ends only, no obs-fold, at most one Content-Length (all digits, the
 *     value given) and never with Transfer-Encoding, chunked only as the one coding of an
 *     HTTP/1.1 request, one Host for HTTP/1.1, names lowercase tokens, values without CR, LF,
 *     NUL or surrounding blanks, within the limits;
 *   - the same bytes as a body, framed correctly (chunk sizes, extensions and trailers from the
 *     input), decode to exactly themselves, at any split.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "common/http_internal.h"

typedef struct {
    char *p;
    size_t len, cap;
} str_t;

static void add(str_t *s, const void *p, size_t n)
{
    if (s->len + n > s->cap) {
        s->cap = (s->len + n) * 2 + 64;
        s->p = realloc(s->p, s->cap);
    }
    memcpy(s->p + s->len, p, n);
    s->len += n;
}

static void adds(str_t *s, const char *p)
{
    add(s, p, strlen(p));
}

static int is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int iv_is(h2o_iovec_t v, const char *s)
{
    return v.len == strlen(s) && memcmp(v.base, s, v.len) == 0;
}

/* The framing rules, checked on an accepted head apart from the parser. */
static void check_head(const char *raw, const yc_http1_head_t *h, const yc_http_header_t *hd,
                       const yc_http1_limits_t *lim)
{
    unsigned lengths = 0, tes = 0, hosts = 0;

    if (h->head_len > lim->max_head_bytes || h->num_headers > lim->max_headers || h->method.len == 0 ||
        h->target.len == 0)
        __builtin_trap();
    for (size_t i = 0; i < h->head_len; i++) {
        if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
            __builtin_trap(); /* a bare LF */
        if (raw[i] == '\r' && (i + 1 >= h->head_len || raw[i + 1] != '\n'))
            __builtin_trap(); /* a bare CR */
        if (raw[i] == '\n' && i + 1 < h->head_len && (raw[i + 1] == ' ' || raw[i + 1] == '\t'))
            __builtin_trap(); /* obs-fold */
    }
    for (size_t i = 0; i < h->method.len; i++)
        if (!is_tchar((unsigned char)h->method.base[i]))
            __builtin_trap();
    for (size_t i = 0; i < h->num_headers; i++) {
        const yc_http_header_t *x = &hd[i];
        if (x->name.len == 0)
            __builtin_trap();
        for (size_t j = 0; j < x->name.len; j++)
            if (!is_tchar((unsigned char)x->name.base[j]) || (x->name.base[j] >= 'A' && x->name.base[j] <= 'Z'))
                __builtin_trap();
        for (size_t j = 0; j < x->value.len; j++)
            if (x->value.base[j] == '\r' || x->value.base[j] == '\n' || x->value.base[j] == 0)
                __builtin_trap();
        if (x->value.len > 0 && (x->value.base[0] == ' ' || x->value.base[0] == '\t' ||
                                 x->value.base[x->value.len - 1] == ' ' || x->value.base[x->value.len - 1] == '\t'))
            __builtin_trap();
        if (iv_is(x->name, "content-length")) {
            uint64_t v = 0;
            lengths++;
            if (x->value.len == 0)
                __builtin_trap();
            for (size_t j = 0; j < x->value.len; j++) {
                if (x->value.base[j] < '0' || x->value.base[j] > '9')
                    __builtin_trap();
                v = v * 10 + (uint64_t)(x->value.base[j] - '0');
            }
            if (!h->chunked && v != h->content_length)
                __builtin_trap();
        } else if (iv_is(x->name, "transfer-encoding")) {
            tes++;
            if (x->value.len != 7 || strncasecmp(x->value.base, "chunked", 7) != 0)
                __builtin_trap(); /* one header, "chunked" alone */
        } else if (iv_is(x->name, "host")) {
            hosts++;
        }
    }
    if (lengths > 1 || (lengths > 0 && tes > 0) || tes > 1 || (tes == 1) != h->chunked)
        __builtin_trap();
    if (h->chunked && (h->minor_version != 1 || h->content_length != YC_HTTP_LENGTH_UNKNOWN))
        __builtin_trap();
    if (!h->chunked && lengths == 0 && h->content_length != 0)
        __builtin_trap();
    if (hosts > 1 || (h->minor_version == 1 && hosts != 1))
        __builtin_trap();
}

/* Reads stream as a connection would, fed in pieces (all at once when seed is 0), into a
 * transcript of what it saw. */
static void run(const uint8_t *stream, size_t len, unsigned seed, const yc_http1_limits_t *lim, str_t *out)
{
    yc_http_header_t *headers = calloc(lim->max_headers, sizeof(*headers));
    char *pending = malloc(len > 0 ? len : 1); /* bytes fed and not consumed */
    size_t have = 0, fed = 0, last_len = 0;
    int in_body = 0, keep_alive = 1;
    yc_http1_body_t body;
    char line[160];

    for (;;) {
        /* the parsers get exactly the buffered bytes in a block of that size */
        char *buf = malloc(have > 0 ? have : 1);
        memcpy(buf, pending, have);
        size_t consumed = 0;
        int need_more = 0, stop = 0;
        if (!in_body) {
            yc_http1_head_t h;
            if (have == 0) {
                need_more = 1;
            } else if (yc_http1_parse_head(buf, have, last_len, lim, headers, &h) != 0) {
                snprintf(line, sizeof(line), "refused %d\n", h.status);
                adds(out, line);
                stop = 1;
            } else if (h.head_len == 0) {
                last_len = have;
                need_more = 1;
            } else {
                check_head(pending, &h, headers, lim);
                snprintf(line, sizeof(line), "head %d %llu %d %d %d %zu ", h.minor_version,
                         (unsigned long long)h.content_length, h.chunked, h.keep_alive, h.expect_continue,
                         h.num_headers);
                adds(out, line);
                add(out, h.method.base, h.method.len);
                adds(out, " ");
                add(out, h.target.base, h.target.len);
                for (size_t i = 0; i < h.num_headers; i++) {
                    adds(out, "\n ");
                    add(out, headers[i].name.base, headers[i].name.len);
                    adds(out, ":");
                    add(out, headers[i].value.base, headers[i].value.len);
                }
                adds(out, "\nbody ");
                consumed = h.head_len;
                last_len = 0;
                keep_alive = h.keep_alive;
                yc_http1_body_init(&body, &h, lim->max_head_bytes);
                in_body = 1;
            }
        } else {
            size_t data_len, used;
            int r = yc_http1_body_decode(&body, buf, have, &data_len, &used);
            if (r < 0) {
                adds(out, "\nbad body\n");
                stop = 1;
            } else {
                if (data_len > used || used > have)
                    __builtin_trap();
                add(out, buf, data_len);
                consumed = used;
                if (r == 1) {
                    adds(out, "\nend\n");
                    in_body = 0;
                    stop = !keep_alive; /* the connection closes after this request */
                } else if (used == have) {
                    need_more = 1;
                }
            }
        }
        free(buf);
        memmove(pending, pending + consumed, have - consumed);
        have -= consumed;
        if (stop)
            break;
        if (need_more) {
            if (fed == len) {
                adds(out, in_body ? "\ncut in body\n" : have > 0 ? "cut in head\n" : "eof\n");
                break;
            }
            size_t n = len - fed;
            if (seed != 0) {
                seed = seed * 1103515245u + 12345u;
                size_t piece = 1 + (seed >> 16) % 61;
                n = piece < n ? piece : n;
            }
            memcpy(pending + have, stream + fed, n);
            have += n;
            fed += n;
        }
    }
    free(pending);
    free(headers);
}

/* The bytes as the body of a correctly framed chunked request: must come back as they are. */
static void round_trip(const uint8_t *data, size_t len, unsigned seed, const yc_http1_limits_t *lim)
{
    str_t req = {0}, got = {0}, want = {0};
    char line[64];
    unsigned s = seed | 1;

    adds(&req, "PUT /k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (size_t off = 0; off < len;) {
        s = s * 1103515245u + 12345u;
        size_t n = 1 + (s >> 16) % 97;
        n = n < len - off ? n : len - off;
        snprintf(line, sizeof(line), (s & 0x100) ? "%zX" : "%zx", n);
        adds(&req, line);
        if (s & 0x200)
            adds(&req, " ; ext=\"q\\\"x\" ;e2");
        adds(&req, "\r\n");
        add(&req, data + off, n);
        adds(&req, "\r\n");
        off += n;
    }
    adds(&req, (s & 0x400) ? "0;last\r\nx-amz-checksum-crc32: AAAAAA==\r\n\r\n" : "0\r\n\r\n");
    adds(&req, "GET /next HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");

    adds(&want, "head 1 18446744073709551615 1 1 0 2 PUT /k\n host:h\n transfer-encoding:chunked\nbody ");
    add(&want, data, len);
    adds(&want, "\nend\nhead 1 0 0 0 0 2 GET /next\n host:h\n connection:close\nbody \nend\n");
    run((const uint8_t *)req.p, req.len, seed, lim, &got);
    if (got.len != want.len || memcmp(got.p, want.p, got.len) != 0)
        __builtin_trap();
    free(req.p);
    free(got.p);
    free(want.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t head_limits[] = {16384, 1024, 256, 64};
    if (size < 2)
        return 0;
    unsigned seed = data[0] | 0x100u;
    yc_http1_limits_t lim = {head_limits[data[1] & 3], (size_t)1 + (data[1] >> 2) % 100};
    const uint8_t *stream = data + 2;
    size_t len = size - 2;

    str_t whole = {0}, pieces = {0};
    run(stream, len, 0, &lim, &whole);
    run(stream, len, seed, &lim, &pieces);
    if (whole.len != pieces.len || memcmp(whole.p, pieces.p, whole.len) != 0)
        __builtin_trap();
    free(whole.p);
    free(pieces.p);

    yc_http1_limits_t roomy = {16384, 100};
    round_trip(stream, len, seed, &roomy);
    return 0;
}
