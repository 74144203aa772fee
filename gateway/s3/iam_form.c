/* iam_form.c — application/x-www-form-urlencoded bodies of IAM Query API calls (see iam_form.h). */
#include "gateway/s3/iam_form.h"
#include <string.h>
#include "common/bytes.h"

/* Decodes in into memory from pool; the output is never longer than the input. */
static int decode(h2o_mem_pool_t *pool, const char *in, size_t len, h2o_iovec_t *out)
{
    char *o = h2o_mem_alloc_pool(pool, len + 1), *start = o;

    for (size_t i = 0; i < len; i++) {
        if (in[i] == '+') {
            *o++ = ' ';
        } else if (in[i] == '%') {
            int hi, lo;
            if (len - i < 3 || (hi = yc_hex_digit(in[i + 1])) < 0 || (lo = yc_hex_digit(in[i + 2])) < 0)
                return S3_IAM_FORM_MALFORMED;
            *o++ = (char)(hi << 4 | lo);
            i += 2;
        } else {
            *o++ = in[i];
        }
    }
    *o = '\0';
    *out = h2o_iovec_init(start, (size_t)(o - start));
    return 0;
}

int s3_iam_form_parse(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_iam_form_t *out)
{
    size_t n = 0, pos = 0;
    int ret;

    out->params = NULL;
    out->count = 0;
    /* count the pieces first so that the array is allocated once */
    for (size_t i = 0; i <= body.len; i++) {
        if (i == body.len || body.base[i] == '&') {
            n += i > pos;
            pos = i + 1;
        }
    }
    if (n > S3_IAM_FORM_MAX_PARAMS)
        return S3_IAM_FORM_TOO_MANY;
    if (n == 0)
        return 0;
    out->params = h2o_mem_alloc_pool(pool, n * sizeof(*out->params));
    pos = 0;
    for (size_t i = 0; i <= body.len; i++) {
        if (i < body.len && body.base[i] != '&')
            continue;
        if (i > pos) {
            const char *piece = body.base + pos, *eq = memchr(piece, '=', i - pos);
            size_t name_len = eq != NULL ? (size_t)(eq - piece) : i - pos;
            s3_iam_param_t *p = &out->params[out->count];
            if ((ret = decode(pool, piece, name_len, &p->name)) != 0)
                return ret;
            if (eq != NULL) {
                if ((ret = decode(pool, eq + 1, i - pos - name_len - 1, &p->value)) != 0)
                    return ret;
            } else {
                p->value = h2o_iovec_init("", 0);
            }
            out->count++;
        }
        pos = i + 1;
    }
    return 0;
}

h2o_iovec_t s3_iam_form_get(const s3_iam_form_t *form, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < form->count; i++)
        if (form->params[i].name.len == len && memcmp(form->params[i].name.base, name, len) == 0)
            return form->params[i].value;
    return h2o_iovec_init(NULL, 0);
}
