/* range.c — Range and x-amz-copy-source-range (see range.h for the rules).
 *
 * Digits are accumulated with an overflow check: an offset past UINT64_MAX cannot name a byte of
 * any object, so for a first-byte-pos it is treated as "beyond the end" (unsatisfiable), and for
 * a last-byte-pos as "to the end" (clipped), which is what the values mean.
 */
#include <stdio.h>
#include <inttypes.h>
#include "gateway/s3/range.h"

typedef struct {
    const char *p, *end;
} cursor_t;

/* Parses 1+ decimal digits; *saturated is set when the value exceeds UINT64_MAX. Returns 0 or -1
 * when no digit is there. */
static int parse_digits(cursor_t *c, uint64_t *out, int *saturated)
{
    uint64_t v = 0;
    const char *start = c->p;
    *saturated = 0;
    for (; c->p < c->end && *c->p >= '0' && *c->p <= '9'; c->p++) {
        uint64_t d = (uint64_t)(*c->p - '0');
        if (v > (UINT64_MAX - d) / 10)
            *saturated = 1;
        else
            v = v * 10 + d;
    }
    if (c->p == start)
        return -1;
    *out = *saturated ? UINT64_MAX : v;
    return 0;
}

static void skip_ows(cursor_t *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

/* Consumes "bytes=" (the unit is case-insensitive, RFC 9110 §14.1). */
static int parse_unit(cursor_t *c)
{
    skip_ows(c);
    if (c->end - c->p < 6 || !h2o_lcstris(c->p, 5, "bytes", 5) || c->p[5] != '=')
        return -1;
    c->p += 6;
    return 0;
}

int s3_range_parse(h2o_iovec_t header, uint64_t size, s3_range_t *out)
{
    cursor_t c = {header.base, header.base + header.len};
    uint64_t first = 0, last = UINT64_MAX;
    int sat_first = 0, sat_last = 0, suffix = 0;

    out->partial = 0;
    out->first = 0;
    out->last = size != 0 ? size - 1 : 0;
    if (header.base == NULL || parse_unit(&c) != 0)
        return 0;
    skip_ows(&c);
    if (c.p < c.end && *c.p == '-') {
        c.p++;
        suffix = 1;
        if (parse_digits(&c, &last, &sat_last) != 0)
            return 0;
    } else {
        if (parse_digits(&c, &first, &sat_first) != 0)
            return 0;
        if (c.p >= c.end || *c.p != '-')
            return 0;
        c.p++;
        if (c.p < c.end && *c.p >= '0' && *c.p <= '9') {
            if (parse_digits(&c, &last, &sat_last) != 0)
                return 0;
            if (last < first)
                return 0; /* invalid per RFC 9110: the header is ignored */
        }
    }
    skip_ows(&c);
    if (c.p != c.end)
        return 0; /* trailing bytes or a second range: S3 serves the whole object */

    if (suffix) {
        /* last holds the suffix length here */
        if (last == 0 || size == 0)
            return -S3_ERR_INVALID_RANGE;
        out->first = last >= size ? 0 : size - last;
        out->last = size - 1;
    } else {
        if (sat_first || first >= size)
            return -S3_ERR_INVALID_RANGE;
        out->first = first;
        out->last = last >= size ? size - 1 : last;
    }
    out->partial = 1;
    return 0;
}

int s3_copy_range_parse(h2o_iovec_t header, s3_range_t *out)
{
    cursor_t c = {header.base, header.base + header.len};
    uint64_t first, last;
    int sat_first, sat_last;

    if (header.base == NULL || parse_unit(&c) != 0)
        goto fail;
    if (parse_digits(&c, &first, &sat_first) != 0 || c.p >= c.end || *c.p != '-')
        goto fail;
    c.p++;
    if (parse_digits(&c, &last, &sat_last) != 0 || c.p != c.end)
        goto fail;
    if (sat_first || sat_last || last < first)
        goto fail;
    out->partial = 1;
    out->first = first;
    out->last = last;
    return 0;

fail:
    return -S3_ERR_INVALID_ARGUMENT;
}

int s3_copy_range_check(const s3_range_t *r, uint64_t size)
{
    if (r->first > r->last)
        return -S3_ERR_INVALID_ARGUMENT;
    if (r->last >= size) /* S3 answers a range past the source's end 416 InvalidRange */
        return -S3_ERR_INVALID_RANGE;
    return 0;
}

size_t s3_range_content_range(const s3_range_t *r, uint64_t size, int unsatisfiable, char *buf)
{
    int n;
    if (unsatisfiable)
        n = snprintf(buf, 64, "bytes */%" PRIu64, size);
    else
        n = snprintf(buf, 64, "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, r->first, r->last, size);
    return (size_t)n;
}
