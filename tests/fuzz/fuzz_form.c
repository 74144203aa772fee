/* fuzz_form.c — the multipart/form-data parser over hostile bodies split at fuzzed offsets.
 *
 * Byte 0 picks the boundary's length (1..8 bytes of "b0123456") and the limits, byte 1 seeds the
 * split sizes; the rest is the body, copied to an exact-size heap buffer and fed in pieces,
 * resuming after the stop at the file. Checked: no feed emits more than its bytes plus
 * S3_FORM_HOLD_MAX of file, and the file's bytes come out the same in any split (a second pass
 * feeds the body whole and compares).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/form.h"

typedef struct {
    uint8_t *buf;
    size_t len, cap, in_feed;
    int ends;
} sink_t;

static int on_file(void *arg, const uint8_t *data, size_t len)
{
    sink_t *s = arg;
    if (data == NULL) {
        s->ends++;
        return 0;
    }
    if (s->len + len > s->cap)
        __builtin_trap(); /* the file is a sub-range of the body: never longer */
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    s->in_feed += len;
    return 0;
}

static int run(const uint8_t *body, size_t len, unsigned seed, int whole, const s3_form_limits_t *lim,
               h2o_iovec_t boundary, sink_t *s)
{
    s3_form_t *f;
    size_t off = 0;
    int ret;

    if ((ret = s3_form_new(boundary, lim, on_file, s, &f)) != 0)
        return ret;
    while (off < len) {
        seed = seed * 1103515245u + 12345u;
        size_t n = whole ? len - off : 1 + (seed >> 16) % 61, used;
        if (n > len - off)
            n = len - off;
        s->in_feed = 0;
        ret = s3_form_feed(f, body + off, n, &used);
        if (s->in_feed > n + S3_FORM_HOLD_MAX || used > n)
            __builtin_trap();
        if (ret < 0)
            break;
        off += used;
        ret = 0;
    }
    if (ret == 0)
        ret = s3_form_finish(f);
    size_t count;
    const s3_form_field_t *fields = s3_form_fields(f, &count);
    for (size_t i = 0; i < count; i++)
        if (fields[i].name.len == 0 || fields[i].name.len + fields[i].value.len > lim->max_field_bytes)
            __builtin_trap();
    s3_form_free(f);
    return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    s3_form_limits_t lim = {.max_fields = 1 + (data[0] >> 4), .max_field_bytes = 64u << (data[0] >> 6)};
    h2o_iovec_t boundary = h2o_iovec_init("b0123456", 1 + (data[0] & 7));
    unsigned seed = data[1];
    size_t len = size - 2;
    uint8_t *body = malloc(len ? len : 1);
    memcpy(body, data + 2, len);

    sink_t a = {.buf = malloc(len + S3_FORM_HOLD_MAX + 1), .cap = len + S3_FORM_HOLD_MAX};
    sink_t b = {.buf = malloc(len + S3_FORM_HOLD_MAX + 1), .cap = len + S3_FORM_HOLD_MAX};
    int ra = run(body, len, seed, 0, &lim, boundary, &a);
    int rb = run(body, len, seed, 1, &lim, boundary, &b);
    if (ra != rb || (ra == 0 && (a.len != b.len || memcmp(a.buf, b.buf, a.len) != 0 || a.ends != b.ends)))
        __builtin_trap();
    free(a.buf);
    free(b.buf);
    free(body);
    return 0;
}
