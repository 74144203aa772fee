/* form.c — the streaming multipart/form-data parser (see form.h).
 *
 * One state machine over the bytes: the preamble and every part's content are scanned for the
 * delimiter CRLF "--" boundary (the body's first delimiter may lack the CRLF: the parser starts as
 * if it had just seen one); after a delimiter come "--" (the end) or optional blanks and CRLF; then
 * a part's header block, read whole into a bounded buffer up to its empty line. Fields go into one
 * buffer of max_field_bytes allocated up front, so that the slices handed out never move.
 */
#include "gateway/s3/form.h"
#include <stdlib.h>
#include <string.h>

enum state {
    ST_PREAMBLE,
    ST_AFTER_DELIM,
    ST_AFTER_DASH,
    ST_PADDING,
    ST_PADDING_LF,
    ST_HEADERS,
    ST_CONTENT,
    ST_EPILOGUE
};
enum part_kind { PART_FIELD, PART_FILE, PART_IGNORED };

struct s3_form {
    s3_form_limits_t limits;
    s3_form_file_cb on_file;
    void *arg;
    char delim[S3_FORM_BOUNDARY_MAX + 4]; /* CRLF "--" boundary */
    size_t delim_len, matched;            /* bytes of delim matched so far */
    enum state state;
    enum part_kind kind;
    int error, file_seen, file_done;
    uint64_t file_size;
    size_t pre_bytes; /* header blocks, names and values of the fields so far */
    /* fields */
    char *store;
    size_t store_len;
    s3_form_field_t *fields;
    size_t nfields;
    /* the header block being read */
    char headers[S3_FORM_HEADERS_MAX];
    size_t headers_len;
    /* what the file part's headers said */
    char file_meta[1024 + S3_FORM_HEADERS_MAX];
    h2o_iovec_t file_name, file_type;
};

static int is_bchar(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c != 0 && strchr("'()+_,-./:=? ", c) != NULL);
}

static int lower_is(const char *s, size_t len, const char *lit)
{
    return h2o_lcstris(s, len, lit, strlen(lit));
}

static const char *skip_ows(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* One parameter value at *p (token or quoted-string), copied unescaped into out (cap bytes).
 * Returns its length, or -1 when malformed or too long. */
static long param_value(const char **pp, const char *end, char *out, size_t cap)
{
    const char *p = *pp;
    size_t n = 0;

    if (p < end && *p == '"') {
        for (p++; p < end && *p != '"'; p++) {
            if (*p == '\\' && p + 1 < end)
                p++;
            if (n == cap)
                return -1;
            out[n++] = *p;
        }
        if (p == end)
            return -1;
        p++;
    } else {
        for (; p < end && *p != ';' && *p != ' ' && *p != '\t'; p++) {
            if (n == cap)
                return -1;
            out[n++] = *p;
        }
    }
    *pp = p;
    return (long)n;
}

int s3_form_boundary(h2o_iovec_t ct, h2o_iovec_t *out)
{
    const char *p = ct.base, *end = ct.base + ct.len;
    static const char type[] = "multipart/form-data";

    if (ct.len < sizeof(type) - 1 || !h2o_lcstris(p, sizeof(type) - 1, type, sizeof(type) - 1))
        return S3_FORM_BAD_CONTENT_TYPE;
    p += sizeof(type) - 1;
    while (p < end) {
        p = skip_ows(p, end);
        if (p == end)
            break;
        if (*p != ';')
            return S3_FORM_BAD_CONTENT_TYPE;
        p = skip_ows(p + 1, end);
        const char *name = p;
        while (p < end && *p != '=' && *p != ';')
            p++;
        if (p == end || *p != '=')
            return S3_FORM_BAD_CONTENT_TYPE;
        size_t name_len = (size_t)(p - name);
        while (name_len > 0 && (name[name_len - 1] == ' ' || name[name_len - 1] == '\t'))
            name_len--;
        p = skip_ows(p + 1, end);
        const char *value = p;
        size_t value_len;
        if (p < end && *p == '"') {
            value = ++p;
            while (p < end && *p != '"')
                p++;
            if (p == end)
                return S3_FORM_BAD_CONTENT_TYPE;
            value_len = (size_t)(p - value);
            p++;
        } else {
            while (p < end && *p != ';' && *p != ' ' && *p != '\t')
                p++;
            value_len = (size_t)(p - value);
        }
        if (lower_is(name, name_len, "boundary")) {
            if (value_len == 0 || value_len > S3_FORM_BOUNDARY_MAX || value[value_len - 1] == ' ')
                return S3_FORM_BAD_CONTENT_TYPE;
            for (size_t i = 0; i < value_len; i++)
                if (!is_bchar(value[i]))
                    return S3_FORM_BAD_CONTENT_TYPE;
            *out = h2o_iovec_init(value, value_len);
            return 0;
        }
    }
    return S3_FORM_BAD_CONTENT_TYPE;
}

int s3_form_new(h2o_iovec_t boundary, const s3_form_limits_t *limits, s3_form_file_cb on_file, void *arg,
                s3_form_t **out)
{
    s3_form_t *f;

    if (boundary.len == 0 || boundary.len > S3_FORM_BOUNDARY_MAX)
        return S3_FORM_BAD_CONTENT_TYPE;
    for (size_t i = 0; i < boundary.len; i++)
        if (!is_bchar(boundary.base[i]))
            return S3_FORM_BAD_CONTENT_TYPE;
    if ((f = calloc(1, sizeof(*f))) == NULL)
        return S3_FORM_NOMEM;
    f->limits = *limits;
    f->on_file = on_file;
    f->arg = arg;
    memcpy(f->delim, "\r\n--", 4);
    memcpy(f->delim + 4, boundary.base, boundary.len);
    f->delim_len = boundary.len + 4;
    f->matched = 2; /* the first delimiter may open the body: take it as preceded by CRLF */
    f->state = ST_PREAMBLE;
    if ((f->store = malloc(limits->max_field_bytes + 1)) == NULL ||
        (f->fields = calloc(limits->max_fields + 1, sizeof(*f->fields))) == NULL) {
        s3_form_free(f);
        return S3_FORM_NOMEM;
    }
    *out = f;
    return 0;
}

void s3_form_free(s3_form_t *f)
{
    if (f == NULL)
        return;
    free(f->store);
    free(f->fields);
    free(f);
}

/* Content bytes of the current part. */
static int content(s3_form_t *f, const char *data, size_t len)
{
    if (len == 0)
        return 0;
    switch (f->state == ST_PREAMBLE ? PART_IGNORED : f->kind) {
    case PART_FIELD:
        if (f->pre_bytes + len > f->limits.max_field_bytes)
            return S3_FORM_TOO_LARGE;
        f->pre_bytes += len;
        memcpy(f->store + f->store_len, data, len);
        f->store_len += len;
        f->fields[f->nfields].value.len += len;
        return 0;
    case PART_FILE:
        f->file_size += len;
        return f->on_file(f->arg, (const uint8_t *)data, len) != 0 ? S3_FORM_ABORTED : 0;
    default:
        return 0;
    }
}

/* The delimiter closed the current part. */
static int part_end(s3_form_t *f)
{
    if (f->state == ST_PREAMBLE)
        return 0;
    if (f->kind == PART_FIELD) {
        f->nfields++;
    } else if (f->kind == PART_FILE) {
        f->file_done = 1;
        if (f->on_file(f->arg, NULL, 0) != 0)
            return S3_FORM_ABORTED;
    }
    return 0;
}

/* The Content-Disposition of a part: form-data, its name and filename. The name goes to the
 * field store (a field) or is only compared (the file and what follows it). */
static int parse_disposition(s3_form_t *f, const char *p, const char *end)
{
    char name[256], filename[1024];
    long name_len = -1, filename_len = -1;

    p = skip_ows(p, end);
    const char *type = p;
    while (p < end && *p != ';' && *p != ' ' && *p != '\t')
        p++;
    if (!lower_is(type, (size_t)(p - type), "form-data"))
        return S3_FORM_MALFORMED;
    for (;;) {
        p = skip_ows(p, end);
        if (p == end)
            break;
        if (*p != ';')
            return S3_FORM_MALFORMED;
        p = skip_ows(p + 1, end);
        const char *pn = p;
        while (p < end && *p != '=' && *p != ' ' && *p != '\t' && *p != ';')
            p++;
        size_t pn_len = (size_t)(p - pn);
        p = skip_ows(p, end);
        if (p == end || *p != '=')
            return S3_FORM_MALFORMED;
        p = skip_ows(p + 1, end);
        if (lower_is(pn, pn_len, "name")) {
            if ((name_len = param_value(&p, end, name, sizeof(name))) < 0)
                return S3_FORM_MALFORMED;
        } else if (lower_is(pn, pn_len, "filename")) {
            if ((filename_len = param_value(&p, end, filename, sizeof(filename))) < 0)
                return S3_FORM_MALFORMED;
        } else {
            char skip[S3_FORM_HEADERS_MAX];
            if (param_value(&p, end, skip, sizeof(skip)) < 0)
                return S3_FORM_MALFORMED;
        }
    }
    if (name_len <= 0)
        return S3_FORM_MALFORMED;
    if (f->file_seen) {
        f->kind = PART_IGNORED; /* S3 ignores what follows the file */
    } else if (lower_is(name, (size_t)name_len, "file")) {
        f->kind = PART_FILE;
        f->file_seen = 1;
        if (filename_len >= 0) {
            memcpy(f->file_meta, filename, (size_t)filename_len);
            f->file_name = h2o_iovec_init(f->file_meta, (size_t)filename_len);
        }
    } else {
        if (f->nfields == f->limits.max_fields || f->pre_bytes + (size_t)name_len > f->limits.max_field_bytes)
            return S3_FORM_TOO_LARGE;
        f->pre_bytes += (size_t)name_len;
        f->kind = PART_FIELD;
        memcpy(f->store + f->store_len, name, (size_t)name_len);
        f->fields[f->nfields].name = h2o_iovec_init(f->store + f->store_len, (size_t)name_len);
        f->store_len += (size_t)name_len;
        f->fields[f->nfields].value = h2o_iovec_init(f->store + f->store_len, 0);
    }
    return 0;
}

/* The header block of a part (CRLF-terminated lines, the empty line included). */
static int parse_headers(s3_form_t *f)
{
    const char *p = f->headers, *end = f->headers + f->headers_len - 2; /* the empty line's CRLF */
    const char *type = NULL;
    size_t type_len = 0;
    int have_disposition = 0, ret;

    if (!f->file_seen) {
        if (f->pre_bytes + f->headers_len > f->limits.max_field_bytes)
            return S3_FORM_TOO_LARGE;
        f->pre_bytes += f->headers_len;
    }
    while (p < end) {
        const char *eol = p;
        while (eol + 1 < end + 2 && !(eol[0] == '\r' && eol[1] == '\n'))
            eol++;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon == NULL || colon == p)
            return S3_FORM_MALFORMED;
        size_t name_len = (size_t)(colon - p);
        const char *v = skip_ows(colon + 1, eol), *vend = eol;
        while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
            vend--;
        if (lower_is(p, name_len, "content-disposition")) {
            if (have_disposition)
                return S3_FORM_MALFORMED;
            have_disposition = 1;
            if ((ret = parse_disposition(f, v, vend)) != 0)
                return ret;
        } else if (lower_is(p, name_len, "content-type")) {
            type = v;
            type_len = (size_t)(vend - v);
        }
        p = eol + 2;
    }
    if (!have_disposition)
        return S3_FORM_MALFORMED;
    if (f->kind == PART_FILE && type != NULL) {
        /* the file name took at most 1024 bytes of file_meta; the type fits behind it */
        memcpy(f->file_meta + 1024, type, type_len);
        f->file_type = h2o_iovec_init(f->file_meta + 1024, type_len);
    }
    return 0;
}

/* Scans content (or the preamble) for the delimiter; *p advances. 1 when the delimiter was found. */
static int scan(s3_form_t *f, const char **pp, const char *end, int *ret)
{
    const char *p = *pp;

    while (p < end) {
        if (f->matched == 0) {
            const char *cr = memchr(p, '\r', (size_t)(end - p));
            const char *stop = cr != NULL ? cr : end;
            if ((*ret = content(f, p, (size_t)(stop - p))) != 0)
                return 0;
            p = stop;
            if (cr == NULL)
                break;
            f->matched = 1;
            p++;
            continue;
        }
        if (*p == f->delim[f->matched]) {
            p++;
            if (++f->matched == f->delim_len) {
                f->matched = 0;
                *pp = p;
                return 1;
            }
            continue;
        }
        /* not the delimiter: what was held back is content, and this byte starts over */
        size_t held = f->matched;
        f->matched = 0;
        if ((*ret = content(f, f->delim, held)) != 0)
            return 0;
    }
    *pp = p;
    return 0;
}

int s3_form_feed(s3_form_t *f, const uint8_t *data, size_t len, size_t *consumed)
{
    const char *p = (const char *)data, *end = p + len;
    int ret = 0;

    *consumed = 0;
    if (f->error != 0)
        return f->error;
    while (p < end && ret == 0) {
        switch (f->state) {
        case ST_PREAMBLE:
        case ST_CONTENT:
            if (scan(f, &p, end, &ret) && (ret = part_end(f)) == 0)
                f->state = ST_AFTER_DELIM;
            break;
        case ST_AFTER_DELIM:
            if (*p == '-') {
                f->state = ST_AFTER_DASH;
            } else if (*p == ' ' || *p == '\t') {
                f->state = ST_PADDING;
            } else if (*p == '\r') {
                f->state = ST_PADDING_LF;
            } else {
                ret = S3_FORM_MALFORMED;
                break;
            }
            p++;
            break;
        case ST_AFTER_DASH:
            if (*p++ != '-')
                ret = S3_FORM_MALFORMED;
            else
                f->state = ST_EPILOGUE;
            break;
        case ST_PADDING:
            if (*p == '\r')
                f->state = ST_PADDING_LF;
            else if (*p != ' ' && *p != '\t')
                ret = S3_FORM_MALFORMED;
            p++;
            break;
        case ST_PADDING_LF:
            if (*p++ != '\n') {
                ret = S3_FORM_MALFORMED;
                break;
            }
            f->state = ST_HEADERS;
            f->headers_len = 0;
            break;
        case ST_HEADERS: {
            if (f->headers_len == sizeof(f->headers)) {
                ret = f->file_seen ? S3_FORM_MALFORMED : S3_FORM_TOO_LARGE;
                break;
            }
            f->headers[f->headers_len++] = *p++;
            size_t n = f->headers_len;
            int done = (n == 2 && memcmp(f->headers, "\r\n", 2) == 0) ||
                       (n >= 4 && memcmp(f->headers + n - 4, "\r\n\r\n", 4) == 0);
            if (!done)
                break;
            if (n == 2) {
                ret = S3_FORM_MALFORMED; /* a part without headers has no name */
                break;
            }
            if ((ret = parse_headers(f)) != 0)
                break;
            f->state = ST_CONTENT;
            if (f->kind == PART_FILE) {
                *consumed = (size_t)(p - (const char *)data);
                return S3_FORM_FILE;
            }
            break;
        }
        case ST_EPILOGUE:
            p = end;
            break;
        }
    }
    if (ret < 0) {
        f->error = ret;
        return ret;
    }
    *consumed = (size_t)(p - (const char *)data);
    return 0;
}

int s3_form_finish(s3_form_t *f)
{
    if (f->error != 0)
        return f->error;
    return f->state == ST_EPILOGUE ? 0 : S3_FORM_INCOMPLETE;
}

const s3_form_field_t *s3_form_fields(const s3_form_t *f, size_t *count)
{
    *count = f->nfields;
    return f->fields;
}

h2o_iovec_t s3_form_field(const s3_form_t *f, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < f->nfields; i++)
        if (f->fields[i].name.len == n && h2o_lcstris(f->fields[i].name.base, n, name, n))
            return f->fields[i].value;
    return h2o_iovec_init(NULL, 0);
}

int s3_form_has_file(const s3_form_t *f)
{
    return f->file_seen;
}

h2o_iovec_t s3_form_file_name(const s3_form_t *f)
{
    return f->file_name;
}

h2o_iovec_t s3_form_file_type(const s3_form_t *f)
{
    return f->file_type;
}

uint64_t s3_form_file_size(const s3_form_t *f)
{
    return f->file_size;
}
