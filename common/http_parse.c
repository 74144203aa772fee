/* http_parse.c — HTTP/1.1 request heads (picohttpparser, then our own checks of what it lets
 * through) and request bodies (Content-Length, and a strict chunked decoder of our own), on byte
 * buffers alone; see http_internal.h for why each rule is as strict as it is. */
#include "common/bytes.h"
#include "common/http_internal.h"
#include <errno.h>
#include <string.h>
#include <strings.h>

/* picohttpparser, as exported by libh2o-evloop (its header is not installed) */
struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len, const char **path,
                      size_t *path_len, int *minor_version, struct phr_header *headers, size_t *num_headers,
                      size_t last_len);

#define MAX_CHUNK_LINE 4096 /* a chunk-size line with its extensions */

/* RFC 9110 tchar */
static int is_tchar(unsigned char c)
{
    static const char extra[] = "!#$%&'*+-.^_`|~";
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr(extra, c) != NULL);
}

/* field-vchar, SP or HTAB: what a field value or a quoted string may hold */
static int is_field_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int is_blank(unsigned char c)
{
    return c == ' ' || c == '\t';
}

const char *yc_http_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 307:
        return "Temporary Redirect";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 416:
        return "Range Not Satisfiable";
    case 417:
        return "Expectation Failed";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    case 507:
        return "Insufficient Storage";
    default:
        return "Unknown";
    }
}

int yc_http_header_check(const yc_http_header_t *h)
{
    if (h->name.len == 0)
        return -EINVAL;
    for (size_t i = 0; i < h->name.len; i++)
        if (!is_tchar((unsigned char)h->name.base[i]))
            return -EINVAL;
    for (size_t i = 0; i < h->value.len; i++) {
        unsigned char c = (unsigned char)h->value.base[i];
        if (c == '\r' || c == '\n' || c == 0)
            return -EINVAL;
    }
    return 0;
}

/* ---------------------------------------------------------------- heads */

static int refuse(yc_http1_head_t *out, int status)
{
    out->head_len = 0;
    out->status = status;
    return -EBADMSG;
}

static int name_is(const yc_http_header_t *h, const char *lower)
{
    size_t n = strlen(lower);
    return h->name.len == n && memcmp(h->name.base, lower, n) == 0;
}

/* 1 when the first line is "method SP target SP HTTP/d.d" of a major version other than 1 */
static int other_major_version(const char *buf, size_t len)
{
    size_t eol = 0, spaces = 0, last_sp = 0;

    while (eol < len && buf[eol] != '\r' && buf[eol] != '\n') {
        if (buf[eol] == ' ') {
            spaces++;
            last_sp = eol;
        }
        eol++;
    }
    if (spaces < 2 || eol - last_sp - 1 != 8)
        return 0;
    const char *v = buf + last_sp + 1;
    return memcmp(v, "HTTP/", 5) == 0 && v[5] >= '0' && v[5] <= '9' && v[6] == '.' && v[7] >= '0' && v[7] <= '9' &&
           v[5] != '1';
}

/* Content-Length = 1*DIGIT, fitting in 63 bits (no sign, no list, no blank inside) */
static int parse_length(h2o_iovec_t v, uint64_t *out)
{
    uint64_t n;

    if (yc_decimal_u64(v.base, v.len, &n) != 0 || n > (uint64_t)INT64_MAX)
        return -EINVAL;
    *out = n;
    return 0;
}

/* Walks a comma-separated list of tokens: fn(token) for each element, trimmed; an empty element
 * or one that is no token is refused. */
static int each_token(h2o_iovec_t v, int (*fn)(h2o_iovec_t tok, void *arg), void *arg)
{
    size_t i = 0;

    for (;;) {
        while (i < v.len && is_blank((unsigned char)v.base[i]))
            i++;
        size_t start = i;
        while (i < v.len && is_tchar((unsigned char)v.base[i]))
            i++;
        h2o_iovec_t tok = h2o_iovec_init(v.base + start, i - start);
        while (i < v.len && is_blank((unsigned char)v.base[i]))
            i++;
        if (tok.len == 0 || (i < v.len && v.base[i] != ','))
            return -EINVAL;
        int ret = fn(tok, arg);
        if (ret != 0)
            return ret;
        if (i == v.len)
            return 0;
        i++; /* the comma */
    }
}

typedef struct {
    unsigned chunked, other;
} codings_t;

static int on_coding(h2o_iovec_t tok, void *arg)
{
    codings_t *c = arg;
    if (tok.len == 7 && strncasecmp(tok.base, "chunked", 7) == 0)
        c->chunked++;
    else
        c->other++;
    return 0;
}

typedef struct {
    unsigned close, keep_alive;
} connection_t;

static int on_connection_option(h2o_iovec_t tok, void *arg)
{
    connection_t *c = arg;
    if (tok.len == 5 && strncasecmp(tok.base, "close", 5) == 0)
        c->close = 1;
    else if (tok.len == 10 && strncasecmp(tok.base, "keep-alive", 10) == 0)
        c->keep_alive = 1;
    return 0;
}

int yc_http1_parse_head(char *buf, size_t len, size_t last_len, const yc_http1_limits_t *lim, yc_http_header_t *headers,
                        yc_http1_head_t *out)
{
    size_t n = len < lim->max_head_bytes ? len : lim->max_head_bytes;
    size_t max = lim->max_headers, nh = max;
    struct phr_header ph[max > 0 ? max : 1];
    const char *method, *target;
    size_t method_len, target_len;
    int minor = -1, r;

    memset(out, 0, sizeof(*out));
    /* Parsed only once an empty line ends the head within the limit, so that what a head gets
     * depends on its bytes alone, never on where the packets ended (picohttpparser's own quick
     * check of a partial head leaves some errors for later and meets others early); the search
     * looks at the new bytes only, so a client sending a byte at a time costs no more. */
    const char *p = buf + (last_len > 2 ? last_len - 2 : 0), *end = buf + n;
    int ended = 0;
    while (!ended && p < end) {
        const char *lf = memchr(p, '\n', (size_t)(end - p));
        if (lf == NULL)
            break;
        ended = (lf + 1 < end && lf[1] == '\n') || (lf + 2 < end && lf[1] == '\r' && lf[2] == '\n');
        p = lf + 1;
    }
    if (!ended)
        return n >= lim->max_head_bytes ? refuse(out, 431) : 0;
    r = phr_parse_request(buf, n, &method, &method_len, &target, &target_len, &minor, ph, &nh, 0);
    if (r == -2) /* the head ended and still wants more: its request line is cut short */
        return refuse(out, 400);
    if (r < 0) {
        if (minor >= 0 && nh == max)
            return refuse(out, 431);
        return refuse(out, other_major_version(buf, n) ? 505 : 400);
    }
    /* picohttpparser takes a bare LF for a line end; a proxy in front may not */
    for (int i = 0; i < r; i++)
        if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
            return refuse(out, 400);
    for (size_t i = 0; i < method_len; i++)
        if (!is_tchar((unsigned char)method[i]))
            return refuse(out, 400);
    if (method_len == 0 || target_len == 0)
        return refuse(out, 400);

    out->head_len = (size_t)r;
    out->method = h2o_iovec_init(method, method_len);
    out->target = h2o_iovec_init(target, target_len);
    out->minor_version = minor >= 1 ? 1 : 0;
    out->num_headers = nh;

    unsigned lengths = 0, hosts = 0, te = 0, expect_continue = 0;
    codings_t codings = {0, 0};
    connection_t conn = {0, 0};
    uint64_t length = 0;
    for (size_t i = 0; i < nh; i++) {
        if (ph[i].name == NULL || ph[i].name_len == 0) /* obs-fold: a line starting with a blank */
            return refuse(out, 400);
        char *name = buf + (ph[i].name - buf);
        for (size_t j = 0; j < ph[i].name_len; j++)
            if (name[j] >= 'A' && name[j] <= 'Z')
                name[j] = (char)(name[j] - 'A' + 'a');
        size_t vlen = ph[i].value_len;
        while (vlen > 0 && is_blank((unsigned char)ph[i].value[vlen - 1]))
            vlen--;
        yc_http_header_t *h = &headers[i];
        h->name = h2o_iovec_init(name, ph[i].name_len);
        h->value = h2o_iovec_init(ph[i].value, vlen);

        if (name_is(h, "content-length")) {
            if (++lengths > 1 || parse_length(h->value, &length) != 0)
                return refuse(out, 400);
        } else if (name_is(h, "transfer-encoding")) {
            te++;
            if (each_token(h->value, on_coding, &codings) != 0)
                return refuse(out, 400);
        } else if (name_is(h, "host")) {
            hosts++;
        } else if (name_is(h, "connection")) {
            if (each_token(h->value, on_connection_option, &conn) != 0)
                return refuse(out, 400);
        } else if (name_is(h, "expect")) {
            /* other expectations (empty, "200", ...) are ignored, not refused with 417: S3
             * serves such requests and clients send them */
            if (h->value.len == 12 && strncasecmp(h->value.base, "100-continue", 12) == 0)
                expect_continue = 1;
        }
    }
    if (hosts > 1 || (out->minor_version == 1 && hosts == 0))
        return refuse(out, 400);
    if (te > 0) {
        /* HTTP/1.0 has no chunked; with a length, two framings: either could be believed */
        if (lengths > 0 || out->minor_version == 0 || codings.chunked > 1)
            return refuse(out, 400);
        if (codings.other > 0)
            return refuse(out, 501);
        out->chunked = 1;
        out->content_length = YC_HTTP_LENGTH_UNKNOWN;
    } else {
        out->content_length = length;
    }
    /* an HTTP/1.0 client cannot expect 100-continue (RFC 9110 10.1.1: ignore it) */
    if (out->minor_version == 1)
        out->expect_continue = expect_continue;
    out->keep_alive = !conn.close && (out->minor_version == 1 || conn.keep_alive);
    return 0;
}

/* ---------------------------------------------------------------- bodies */

enum {
    C_SIZE_FIRST,     /* the first hex digit of a chunk size */
    C_SIZE,           /* more hex digits, or what follows them */
    C_EXT_BWS,        /* blanks after the size or a value: ';' or CR next */
    C_EXT_NAME_FIRST, /* after ';': blanks, then the first character of a name */
    C_EXT_NAME,       /* in a name */
    C_EXT_AFTER_NAME, /* blanks after a name: '=', ';' or CR next */
    C_EXT_VALUE_FIRST,
    C_EXT_VALUE_TOKEN,
    C_EXT_QUOTED,
    C_EXT_QUOTED_ESCAPE,
    C_LINE_LF, /* the LF of a chunk line's CRLF */
    C_DATA,
    C_DATA_CR,
    C_DATA_LF,
    C_TRAILER_START, /* the start of a trailer field, or the CR of the final CRLF */
    C_TRAILER_NAME,
    C_TRAILER_VALUE,
    C_TRAILER_LF,
    C_END_LF,
    C_DONE,
    C_ERROR,
};

void yc_http1_body_init(yc_http1_body_t *b, const yc_http1_head_t *head, size_t max_trailer_bytes)
{
    memset(b, 0, sizeof(*b));
    b->max_trailer_bytes = max_trailer_bytes;
    if (head->chunked) {
        b->chunked = 1;
        b->state = C_SIZE_FIRST;
    } else {
        b->remaining = head->content_length;
        b->done = b->remaining == 0;
    }
}

/* One byte of chunk framing (anything but chunk data); 0, or -EBADMSG. */
static int chunk_framing_byte(yc_http1_body_t *b, unsigned char c)
{
    int v;

    if (b->state < C_DATA && ++b->line_len > MAX_CHUNK_LINE)
        return -EBADMSG;
    if (b->state >= C_TRAILER_START && b->state <= C_TRAILER_LF && ++b->trailer_bytes > b->max_trailer_bytes)
        return -EBADMSG;
    switch (b->state) {
    case C_SIZE_FIRST:
    case C_SIZE:
        if ((v = yc_hex_digit(c)) >= 0) {
            if (b->remaining > (UINT64_MAX >> 4))
                return -EBADMSG;
            b->remaining = b->remaining << 4 | (uint64_t)v;
            b->state = C_SIZE;
            return 0;
        }
        if (b->state == C_SIZE_FIRST)
            return -EBADMSG;
        __attribute__((fallthrough)); /* the size ended: what may follow it */
    case C_EXT_BWS:
        if (is_blank(c))
            b->state = C_EXT_BWS;
        else if (c == ';')
            b->state = C_EXT_NAME_FIRST;
        else if (c == '\r')
            b->state = C_LINE_LF;
        else
            return -EBADMSG;
        return 0;
    case C_EXT_NAME_FIRST:
        if (is_blank(c))
            return 0;
        if (!is_tchar(c))
            return -EBADMSG;
        b->state = C_EXT_NAME;
        return 0;
    case C_EXT_NAME:
        if (is_tchar(c))
            return 0;
        __attribute__((fallthrough)); /* the name ended: what may follow it */
    case C_EXT_AFTER_NAME:
        if (is_blank(c))
            b->state = C_EXT_AFTER_NAME;
        else if (c == '=')
            b->state = C_EXT_VALUE_FIRST;
        else if (c == ';')
            b->state = C_EXT_NAME_FIRST;
        else if (c == '\r')
            b->state = C_LINE_LF;
        else
            return -EBADMSG;
        return 0;
    case C_EXT_VALUE_FIRST:
        if (is_blank(c))
            return 0;
        if (c == '"')
            b->state = C_EXT_QUOTED;
        else if (is_tchar(c))
            b->state = C_EXT_VALUE_TOKEN;
        else
            return -EBADMSG;
        return 0;
    case C_EXT_VALUE_TOKEN:
        if (is_tchar(c))
            return 0;
        b->state = C_EXT_BWS;
        return chunk_framing_byte(b, c);
    case C_EXT_QUOTED:
        if (c == '"')
            b->state = C_EXT_BWS;
        else if (c == '\\')
            b->state = C_EXT_QUOTED_ESCAPE;
        else if (!is_field_char(c))
            return -EBADMSG;
        return 0;
    case C_EXT_QUOTED_ESCAPE:
        if (!is_field_char(c))
            return -EBADMSG;
        b->state = C_EXT_QUOTED;
        return 0;
    case C_LINE_LF:
        if (c != '\n')
            return -EBADMSG;
        b->line_len = 0;
        b->state = b->remaining > 0 ? C_DATA : C_TRAILER_START;
        return 0;
    case C_DATA_CR:
        if (c != '\r')
            return -EBADMSG;
        b->state = C_DATA_LF;
        return 0;
    case C_DATA_LF:
        if (c != '\n')
            return -EBADMSG;
        b->state = C_SIZE_FIRST;
        return 0;
    case C_TRAILER_START:
        if (c == '\r') {
            b->state = C_END_LF;
            return 0;
        }
        if (!is_tchar(c))
            return -EBADMSG;
        b->state = C_TRAILER_NAME;
        return 0;
    case C_TRAILER_NAME:
        if (c == ':')
            b->state = C_TRAILER_VALUE;
        else if (!is_tchar(c))
            return -EBADMSG;
        return 0;
    case C_TRAILER_VALUE:
        if (c == '\r')
            b->state = C_TRAILER_LF;
        else if (!is_field_char(c))
            return -EBADMSG;
        return 0;
    case C_TRAILER_LF:
        if (c != '\n')
            return -EBADMSG;
        b->state = C_TRAILER_START;
        return 0;
    case C_END_LF:
        if (c != '\n')
            return -EBADMSG;
        b->state = C_DONE;
        return 0;
    default:
        return -EBADMSG;
    }
}

int yc_http1_body_decode(yc_http1_body_t *b, char *buf, size_t len, size_t *data_len, size_t *used)
{
    size_t src = 0, dst = 0;

    *data_len = *used = 0;
    if (b->done)
        return 1;
    if (!b->chunked) {
        size_t n = len < b->remaining ? len : (size_t)b->remaining;
        b->remaining -= n;
        b->decoded += n;
        b->done = b->remaining == 0;
        *data_len = *used = n;
        return b->done;
    }
    if (b->state == C_ERROR)
        return -EBADMSG;
    while (src < len && b->state != C_DONE) {
        if (b->state == C_DATA) {
            size_t n = len - src < b->remaining ? len - src : (size_t)b->remaining;
            if (dst != src)
                memmove(buf + dst, buf + src, n);
            src += n;
            dst += n;
            b->remaining -= n;
            if (b->remaining == 0)
                b->state = C_DATA_CR;
            continue;
        }
        if (chunk_framing_byte(b, (unsigned char)buf[src++]) != 0) {
            b->state = C_ERROR;
            if (dst == 0)
                return -EBADMSG;
            break; /* the data before the bad byte first, as it would have come in another packet */
        }
    }
    b->done = b->state == C_DONE;
    b->decoded += dst;
    *data_len = dst;
    *used = src;
    return b->done;
}
