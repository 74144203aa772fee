/* query.c — query string parsing, percent-coding and the list parameters (see query.h).
 *
 * Numbers are parsed by hand rather than with strtoul: the input is pointer+length (not
 * NUL-terminated), and S3 refuses signs, spaces and anything but decimal digits.
 */
#include "gateway/s3/checksum.h"
#include <string.h>
#include "gateway/s3/query.h"

/* Decodes src into dst (which has room for src.len bytes); returns the decoded length or -1. */
static ssize_t decode_into(char *dst, const char *src, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (src[i] != '%') {
            dst[o++] = src[i];
            continue;
        }
        if (len - i < 3)
            return -1;
        int hi = yc_hex_digit(src[i + 1]), lo = yc_hex_digit(src[i + 2]);
        if (hi < 0 || lo < 0)
            return -1;
        dst[o++] = (char)(hi << 4 | lo);
        i += 2;
    }
    return (ssize_t)o;
}

int s3_percent_decode(h2o_mem_pool_t *pool, h2o_iovec_t src, h2o_iovec_t *out)
{
    char *p = h2o_mem_alloc_pool(pool, src.len + 1);
    ssize_t n = decode_into(p, src.base, src.len);
    if (n < 0)
        return -S3_ERR_INVALID_URI;
    p[n] = '\0';
    *out = h2o_iovec_init(p, (size_t)n);
    return 0;
}

int s3_query_parse(h2o_mem_pool_t *pool, h2o_iovec_t raw, s3_query_t *out)
{
    size_t count = 0, pos;
    int ret;

    out->params = NULL;
    out->count = 0;
    /* count the pieces first so the array is allocated once */
    for (pos = 0; pos < raw.len;) {
        const char *amp = memchr(raw.base + pos, '&', raw.len - pos);
        size_t end = amp != NULL ? (size_t)(amp - raw.base) : raw.len;
        if (end > pos)
            count++;
        pos = end + 1;
    }
    if (count == 0)
        return 0;
    if (count > S3_QUERY_MAX_PARAMS)
        return -S3_ERR_INVALID_ARGUMENT;
    s3_query_param_t *params = h2o_mem_alloc_pool(pool, count * sizeof(*params));
    size_t n = 0;
    for (pos = 0; pos < raw.len;) {
        const char *amp = memchr(raw.base + pos, '&', raw.len - pos);
        size_t end = amp != NULL ? (size_t)(amp - raw.base) : raw.len;
        if (end > pos) {
            h2o_iovec_t piece = h2o_iovec_init(raw.base + pos, end - pos);
            const char *eq = memchr(piece.base, '=', piece.len);
            size_t name_len = eq != NULL ? (size_t)(eq - piece.base) : piece.len;
            s3_query_param_t *p = &params[n];
            if ((ret = s3_percent_decode(pool, h2o_iovec_init(piece.base, name_len), &p->name)) != 0)
                goto fail;
            p->has_value = eq != NULL;
            if (eq != NULL) {
                h2o_iovec_t v = h2o_iovec_init(eq + 1, piece.len - name_len - 1);
                if ((ret = s3_percent_decode(pool, v, &p->value)) != 0)
                    goto fail;
            } else {
                p->value = h2o_iovec_init("", 0);
            }
            n++;
        }
        pos = end + 1;
    }
    out->params = params;
    out->count = n;
    return 0;

fail:
    return ret;
}

const s3_query_param_t *s3_query_find(const s3_query_t *q, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < q->count; i++)
        if (h2o_memis(q->params[i].name.base, q->params[i].name.len, name, len))
            return &q->params[i];
    return NULL;
}

int s3_query_has(const s3_query_t *q, const char *name)
{
    return s3_query_find(q, name) != NULL;
}

h2o_iovec_t s3_query_get(const s3_query_t *q, const char *name)
{
    const s3_query_param_t *p = s3_query_find(q, name);
    return p != NULL ? p->value : h2o_iovec_init(NULL, 0);
}

static int key_byte_kept(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~' || c == '/';
}

h2o_iovec_t s3_url_encode_key(h2o_mem_pool_t *pool, h2o_iovec_t src)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len = 0;
    for (size_t i = 0; i < src.len; i++)
        len += key_byte_kept((unsigned char)src.base[i]) ? 1 : 3;
    char *p = h2o_mem_alloc_pool(pool, len + 1), *o = p;
    for (size_t i = 0; i < src.len; i++) {
        unsigned char c = (unsigned char)src.base[i];
        if (key_byte_kept(c)) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 0xf];
        }
    }
    *o = '\0';
    return h2o_iovec_init(p, len);
}

/* A decimal integer 0..INT32_MAX, digits only: S3 speaks of "integer range" for these values. */
static int parse_int31(h2o_iovec_t v, uint32_t *out)
{
    uint64_t n = 0;
    if (v.base == NULL || v.len == 0)
        return -1;
    for (size_t i = 0; i < v.len; i++) {
        if (v.base[i] < '0' || v.base[i] > '9')
            return -1;
        n = n * 10 + (uint64_t)(v.base[i] - '0');
        if (n > INT32_MAX)
            return -1;
    }
    *out = (uint32_t)n;
    return 0;
}

int s3_parse_list_limit(h2o_iovec_t value, uint32_t def, uint32_t limit, uint32_t *out)
{
    uint32_t n;
    if (value.base == NULL) {
        *out = def;
        return 0;
    }
    if (parse_int31(value, &n) != 0)
        return -S3_ERR_INVALID_ARGUMENT;
    *out = n > limit ? limit : n;
    return 0;
}

int s3_parse_part_number_marker(h2o_iovec_t value, uint32_t *out)
{
    if (value.base == NULL) {
        *out = 0;
        return 0;
    }
    return parse_int31(value, out) == 0 ? 0 : -S3_ERR_INVALID_ARGUMENT;
}

int s3_parse_part_number(h2o_iovec_t value, uint32_t *out)
{
    uint32_t n;
    if (parse_int31(value, &n) != 0 || n < 1 || n > S3_PART_NUMBER_MAX)
        return -S3_ERR_INVALID_ARGUMENT;
    *out = n;
    return 0;
}

int s3_parse_encoding_type(h2o_iovec_t value, int *url)
{
    if (value.base == NULL) {
        *url = 0;
        return 0;
    }
    if (h2o_memis(value.base, value.len, "url", 3)) {
        *url = 1;
        return 0;
    }
    return -S3_ERR_INVALID_ARGUMENT;
}
