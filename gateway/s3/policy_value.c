/* policy_value.c — the values of the policy language: the policy's arena, the condition key table,
 * patterns (wildcards and policy variables), numbers, dates, CIDR blocks, booleans, and a
 * request's values of a key. It uses nothing of policy.c or policy_eval.c, which both use it.
 *
 * A pattern is a token array: literal runs, '*', '?' and variables, matched by its shape. One
 * literal, or a literal and a final '*' (the common bucket ARN, a slash and a star): one
 * comparison. Wildcards without variables: the literal segments between the stars, the first and
 * last anchored and each middle one found at its leftmost place (memmem), which is linear. With
 * variables: the classic glob walk with one remembered star (back to the last '*' on a mismatch,
 * enough for '*' and '?' alone) over a cursor that reads a variable's value as literal bytes, so
 * that a '*' in a substituted user name never acts as a wildcard.
 *
 * Dates follow the W3C profile of ISO 8601 that IAM documents (YYYY, YYYY-MM, YYYY-MM-DD, then
 * Thh:mm, Thh:mm:ss or Thh:mm:ss.s with Z or +hh:mm / -hh:mm), or epoch seconds; they become
 * milliseconds since the epoch by the civil-date arithmetic below, never through the C library's
 * time zone. Numbers are decimals (-12, 3.5) parsed by hand so that no locale can change them.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/policy_internal.h"

/* ---- the arena */

struct pol_chunk {
    pol_chunk_t *next;
    char data[];
};

#define POL_CHUNK_MIN 4096

void *pol_alloc(s3_policy_t *p, size_t size)
{
    size = (size + 7) & ~(size_t)7;
    if (size > (size_t)(p->end - p->cur)) {
        size_t room = size > POL_CHUNK_MIN ? size : POL_CHUNK_MIN;
        pol_chunk_t *c = calloc(1, sizeof(*c) + room);
        if (c == NULL)
            return NULL;
        c->next = p->chunks;
        p->chunks = c;
        p->cur = c->data;
        p->end = c->data + room;
    }
    void *r = p->cur;
    p->cur += size;
    return r;
}

void pol_arena_free(s3_policy_t *p)
{
    pol_chunk_t *c = p->chunks;
    while (c != NULL) {
        pol_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    p->chunks = NULL;
    p->cur = p->end = NULL;
}

/* ---- condition keys */

static const struct {
    const char *name;
    int flags;
} keys[S3_POLICY_KEY__COUNT] = {
#define KEY_ROW_(id, name, flags) [S3_POLICY_KEY_##id] = {name, flags},
    S3_POLICY_KEYS(KEY_ROW_)
#undef KEY_ROW_
};

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int same_icase(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
            return 0;
    return 1;
}

int pol_key_lookup(h2o_iovec_t name, uint16_t *key, h2o_iovec_t *tag)
{
    for (size_t k = 0; k < S3_POLICY_KEY__COUNT; k++) {
        size_t n = strlen(keys[k].name);
        if (keys[k].flags & S3_POLICY_KEY_TAG) {
            /* "name/<tag>": the family's name in any case, a non-empty tag kept as written */
            if (name.len > n + 1 && name.base[n] == '/' && same_icase(name.base, keys[k].name, n)) {
                *key = (uint16_t)k;
                *tag = h2o_iovec_init(name.base + n + 1, name.len - n - 1);
                return 0;
            }
        } else if (name.len == n && same_icase(name.base, keys[k].name, n)) {
            *key = (uint16_t)k;
            *tag = h2o_iovec_init(NULL, 0);
            return 0;
        }
    }
    return -1;
}

/* ---- error messages */

void pol_error(s3_policy_error_t *err, const char *what, h2o_iovec_t text, const char *after)
{
    /* the client's text goes into an XML answer: controls become '?', and a long one is cut at a
     * character boundary (jansson has checked that it is UTF-8) */
    size_t cap = sizeof(err->message) - 1, n = 0, start, max, i;
    for (const char *s = what; *s != '\0' && n < cap; s++)
        err->message[n++] = *s;
    start = n;
    max = n + 120 < cap ? n + 120 : cap;
    for (i = 0; i < text.len && n < max; i++) {
        unsigned char c = (unsigned char)text.base[i];
        err->message[n++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (i < text.len) {
        size_t lead = n;
        while (lead > start && ((unsigned char)err->message[lead - 1] & 0xc0) == 0x80)
            lead--;
        if (lead > start && ((unsigned char)err->message[lead - 1] & 0x80) != 0) {
            unsigned char c = (unsigned char)err->message[lead - 1];
            size_t want = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            if (n - (lead - 1) < want)
                n = lead - 1;
        }
    }
    for (const char *s = after; s != NULL && *s != '\0' && n < cap; s++)
        err->message[n++] = *s;
    err->message[n] = '\0';
}

/* ---- patterns */

/* Parses the inside of "${...}" (a key, maybe ", 'default'") into tok. */
static int parse_variable(h2o_iovec_t in, pol_tok_t *tok)
{
    size_t i = 0, name_end;
    h2o_iovec_t tag;
    uint16_t key;

    while (i < in.len && in.base[i] != ',' && in.base[i] != ' ')
        i++;
    name_end = i;
    if (pol_key_lookup(h2o_iovec_init(in.base, name_end), &key, &tag) != 0)
        return -1;
    tok->kind = POL_TOK_VAR;
    tok->key = key;
    tok->tag = tag;
    while (i < in.len && in.base[i] == ' ')
        i++;
    if (i == in.len)
        return 0;
    if (in.base[i++] != ',')
        return -1;
    while (i < in.len && in.base[i] == ' ')
        i++;
    if (i == in.len || in.base[i] != '\'')
        return -1;
    size_t start = ++i;
    while (i < in.len && in.base[i] != '\'')
        i++;
    if (i == in.len)
        return -1;
    tok->has_default = 1;
    tok->text = in.base + start;
    tok->len = (uint32_t)(i - start);
    for (i++; i < in.len && in.base[i] == ' '; i++)
        ;
    return i == in.len ? 0 : -1;
}

/* The literal tokens [from, to) laid end to end in the arena. */
static int join_literals(s3_policy_t *p, const pol_tok_t *toks, uint32_t from, uint32_t to, h2o_iovec_t *out)
{
    size_t n = 0;
    for (uint32_t i = from; i < to; i++)
        n += toks[i].len;
    char *buf = pol_alloc(p, n + 1);
    if (buf == NULL)
        return -2;
    n = 0;
    for (uint32_t i = from; i < to; i++) {
        memcpy(buf + n, toks[i].text, toks[i].len);
        n += toks[i].len;
    }
    *out = h2o_iovec_init(buf, n);
    return 0;
}

/* The segments of a GLOB pattern (literals and '?', no variable) between its stars. */
static int build_segments(s3_policy_t *p, pol_pattern_t *pat)
{
    uint32_t nsegs = 0, t = 0;
    pol_seg_t *segs;

    for (uint32_t i = 0; i < pat->ntoks; i++)
        nsegs += pat->toks[i].kind != POL_TOK_STAR && (i == 0 || pat->toks[i - 1].kind == POL_TOK_STAR);
    if ((segs = pol_alloc(p, (nsegs ? nsegs : 1) * sizeof(*segs))) == NULL)
        return -2;
    pat->lead_star = pat->toks[0].kind == POL_TOK_STAR;
    pat->trail_star = pat->toks[pat->ntoks - 1].kind == POL_TOK_STAR;
    for (uint32_t k = 0; k < nsegs; k++) {
        uint32_t from, len = 0, has_q = 0;
        while (pat->toks[t].kind == POL_TOK_STAR)
            t++;
        for (from = t; t < pat->ntoks && pat->toks[t].kind != POL_TOK_STAR; t++) {
            len += pat->toks[t].kind == POL_TOK_QMARK ? 1 : pat->toks[t].len;
            has_q |= pat->toks[t].kind == POL_TOK_QMARK;
        }
        char *text = pol_alloc(p, len + 1);
        uint8_t *q = has_q ? pol_alloc(p, len + 1) : NULL;
        if (text == NULL || (has_q && q == NULL))
            return -2;
        len = 0;
        for (uint32_t i = from; i < t; i++) {
            if (pat->toks[i].kind == POL_TOK_QMARK) {
                text[len] = '?';
                q[len++] = 1;
            } else {
                memcpy(text + len, pat->toks[i].text, pat->toks[i].len);
                len += pat->toks[i].len;
            }
        }
        segs[k] = (pol_seg_t){text, q, len};
    }
    pat->segs = segs;
    pat->nsegs = nsegs;
    return 0;
}

int pol_pattern_compile(s3_policy_t *p, h2o_iovec_t text, int wild, int vars, pol_pattern_t *out,
                        s3_policy_error_t *err)
{
    /* every byte can be a token at most; the array is trimmed into the arena afterwards */
    pol_tok_t *toks = malloc((text.len + 1) * sizeof(*toks));
    char *copy = pol_alloc(p, text.len + 1);
    uint32_t n = 0, nvars = 0, nstars = 0, nq = 0;
    size_t i = 0, lit = 0;
    int ret = -2;

    if (toks == NULL || copy == NULL)
        goto fail;
    memcpy(copy, text.base, text.len);
#define FLUSH_LITERAL_(upto)                                                                                           \
    do {                                                                                                               \
        if ((upto) > lit)                                                                                              \
            toks[n++] = (pol_tok_t){.kind = POL_TOK_LIT, .text = copy + lit, .len = (uint32_t)((upto)-lit)};           \
    } while (0)
    while (i < text.len) {
        char c = copy[i];
        if (vars && c == '$' && i + 1 < text.len && copy[i + 1] == '{') {
            const char *close = memchr(copy + i + 2, '}', text.len - i - 2);
            if (close == NULL) { /* no variable can start here: plain text */
                i++;
                continue;
            }
            size_t end = (size_t)(close - copy);
            h2o_iovec_t inner = h2o_iovec_init(copy + i + 2, end - i - 2);
            FLUSH_LITERAL_(i);
            if (inner.len == 1 && (inner.base[0] == '*' || inner.base[0] == '?' || inner.base[0] == '$')) {
                toks[n++] = (pol_tok_t){.kind = POL_TOK_LIT, .text = inner.base, .len = 1};
            } else {
                pol_tok_t v = {0};
                if (parse_variable(inner, &v) != 0) {
                    pol_error(err, "Invalid policy variable: ", h2o_iovec_init(copy + i, end + 1 - i), NULL);
                    ret = -1;
                    goto fail;
                }
                if (nvars == POL_MAX_VARS) {
                    pol_error(err, "Too many policy variables in one value: ", text, NULL);
                    ret = -1;
                    goto fail;
                }
                v.slot = (uint8_t)nvars++;
                toks[n++] = v;
            }
            i = lit = end + 1;
        } else if (wild && (c == '*' || c == '?')) {
            FLUSH_LITERAL_(i);
            if (c == '?') {
                toks[n++] = (pol_tok_t){.kind = POL_TOK_QMARK};
                nq++;
            } else if (n == 0 || toks[n - 1].kind != POL_TOK_STAR) { /* "**" is "*" */
                toks[n++] = (pol_tok_t){.kind = POL_TOK_STAR};
                nstars++;
            }
            i = lit = i + 1;
        } else {
            i++;
        }
    }
    FLUSH_LITERAL_(text.len);
#undef FLUSH_LITERAL_

    pol_tok_t *kept = pol_alloc(p, (n ? n : 1) * sizeof(*kept));
    if (kept == NULL)
        goto fail;
    memcpy(kept, toks, n * sizeof(*kept));
    *out = (pol_pattern_t){.toks = kept, .ntoks = n};
    if (nvars > 0) {
        out->shape = POL_SHAPE_VARS;
    } else if (nstars == 0 && nq == 0) {
        out->shape = POL_SHAPE_EXACT;
        if ((ret = join_literals(p, kept, 0, n, &out->lit)) != 0)
            goto fail;
    } else if (nstars == 1 && nq == 0 && kept[n - 1].kind == POL_TOK_STAR) {
        out->shape = POL_SHAPE_PREFIX;
        if ((ret = join_literals(p, kept, 0, n - 1, &out->lit)) != 0)
            goto fail;
    } else {
        out->shape = POL_SHAPE_GLOB;
        if ((ret = build_segments(p, out)) != 0)
            goto fail;
    }
    free(toks);
    return 0;

fail:
    free(toks);
    return ret;
}

int pol_pattern_is_fixed(const pol_pattern_t *pat)
{
    return pat->shape == POL_SHAPE_EXACT;
}

typedef struct {
    uint32_t t, off;
} cursor_t;

typedef struct {
    const pol_pattern_t *pat;
    const h2o_iovec_t *vals; /* the variables' values, by slot */
} walk_t;

static h2o_iovec_t text_of(const walk_t *w, uint32_t t)
{
    const pol_tok_t *tk = &w->pat->toks[t];
    return tk->kind == POL_TOK_VAR ? w->vals[tk->slot] : h2o_iovec_init(tk->text, tk->len);
}

/* Moves the cursor past exhausted literal and variable tokens. */
static void settle(const walk_t *w, cursor_t *c)
{
    while (c->t < w->pat->ntoks) {
        uint8_t kind = w->pat->toks[c->t].kind;
        if ((kind != POL_TOK_LIT && kind != POL_TOK_VAR) || c->off < text_of(w, c->t).len)
            return;
        c->t++;
        c->off = 0;
    }
}

static int glob(const walk_t *w, const char *s, size_t n, int icase)
{
    const pol_tok_t *toks = w->pat->toks;
    uint32_t ntoks = w->pat->ntoks;
    cursor_t pc = {0, 0}, star = {0, 0};
    size_t si = 0, star_si = 0;
    int have_star = 0;

    settle(w, &pc);
    while (si < n) {
        if (pc.t < ntoks) {
            uint8_t kind = toks[pc.t].kind;
            if (kind == POL_TOK_STAR) {
                star = (cursor_t){pc.t + 1, 0};
                settle(w, &star);
                pc = star;
                star_si = si;
                have_star = 1;
                continue;
            }
            if (kind == POL_TOK_QMARK) {
                pc = (cursor_t){pc.t + 1, 0};
                settle(w, &pc);
                si++;
                continue;
            }
            unsigned char a = (unsigned char)text_of(w, pc.t).base[pc.off], b = (unsigned char)s[si];
            if (a == b || (icase && lower(a) == lower(b))) {
                pc.off++;
                settle(w, &pc);
                si++;
                continue;
            }
        }
        if (!have_star)
            return 0;
        /* let the last star take one more byte and try again from just after it */
        si = ++star_si;
        pc = star;
    }
    while (pc.t < ntoks && toks[pc.t].kind == POL_TOK_STAR) {
        pc = (cursor_t){pc.t + 1, 0};
        settle(w, &pc);
    }
    return pc.t == ntoks;
}

static int segment_at(const pol_seg_t *g, const char *s, int icase)
{
    for (uint32_t i = 0; i < g->len; i++) {
        unsigned char a = (unsigned char)g->text[i], b = (unsigned char)s[i];
        if (a != b && !(g->q != NULL && g->q[i]) && !(icase && lower(a) == lower(b)))
            return 0;
    }
    return 1;
}

/* Where the segment first matches in s[0..n), or NULL. */
static const char *segment_find(const pol_seg_t *g, const char *s, size_t n, int icase)
{
    if (g->len > n)
        return NULL;
    if (g->q == NULL && !icase)
        return memmem(s, n, g->text, g->len);
    for (size_t i = 0; i + g->len <= n; i++)
        if (segment_at(g, s + i, icase))
            return s + i;
    return NULL;
}

/* A GLOB pattern against s: the first segment at the start unless a star leads, the last at the
 * end unless a star trails, every other one at its leftmost place after the one before it (taking
 * the leftmost never loses a match that a later place would give). */
static int segments_match(const pol_pattern_t *pat, const char *s, size_t n, int icase)
{
    const pol_seg_t *segs = pat->segs;
    uint32_t k = pat->nsegs, i = 0, last = pat->trail_star ? k : k - 1;
    size_t pos = 0;

    if (!pat->lead_star) {
        if (segs[0].len > n || !segment_at(&segs[0], s, icase))
            return 0;
        pos = segs[0].len;
        i = 1;
        if (k == 1 && !pat->trail_star)
            return pos == n;
    }
    for (; i < last; i++) {
        const char *at = segment_find(&segs[i], s + pos, n - pos, icase);
        if (at == NULL)
            return 0;
        pos = (size_t)(at - s) + segs[i].len;
    }
    if (pat->trail_star)
        return 1;
    return segs[k - 1].len <= n - pos && segment_at(&segs[k - 1], s + n - segs[k - 1].len, icase);
}

int pol_pattern_match(const pol_pattern_t *pat, h2o_iovec_t s, int icase, const s3_policy_request_t *req)
{
    switch (pat->shape) {
    case POL_SHAPE_EXACT:
        return s.len == pat->lit.len &&
               (icase ? same_icase(s.base, pat->lit.base, s.len) : memcmp(s.base, pat->lit.base, s.len) == 0);
    case POL_SHAPE_PREFIX:
        return s.len >= pat->lit.len && (icase ? same_icase(s.base, pat->lit.base, pat->lit.len)
                                               : memcmp(s.base, pat->lit.base, pat->lit.len) == 0);
    case POL_SHAPE_GLOB:
        return segments_match(pat, s.base, s.len, icase);
    default: {
        /* each variable resolved once, into slots that stay put during the walk */
        pol_values_t slots[POL_MAX_VARS];
        h2o_iovec_t vals[POL_MAX_VARS];
        for (uint32_t t = 0; t < pat->ntoks; t++) {
            const pol_tok_t *tk = &pat->toks[t];
            if (tk->kind != POL_TOK_VAR)
                continue;
            pol_values_t *v = &slots[tk->slot];
            pol_request_values(req, tk->key, tk->tag, v);
            if (v->n > 0)
                vals[tk->slot] = v->v[0];
            else if (tk->has_default)
                vals[tk->slot] = h2o_iovec_init(tk->text, tk->len);
            else
                return 0; /* a variable the request cannot fill matches nothing */
        }
        walk_t w = {pat, vals};
        return glob(&w, s.base, s.len, icase);
    }
    }
}

/* ---- numbers, dates, booleans */

int pol_number_parse(h2o_iovec_t text, double *out)
{
    size_t i = 0, digits = 0;
    double v = 0, scale = 1;
    int neg = 0;

    if (i < text.len && text.base[i] == '-') {
        neg = 1;
        i++;
    }
    for (; i < text.len && text.base[i] >= '0' && text.base[i] <= '9'; i++, digits++)
        v = v * 10 + (text.base[i] - '0');
    if (digits == 0)
        return -1;
    if (i < text.len && text.base[i] == '.') {
        size_t frac = 0;
        for (i++; i < text.len && text.base[i] >= '0' && text.base[i] <= '9'; i++, frac++) {
            scale /= 10;
            v += (text.base[i] - '0') * scale;
        }
        if (frac == 0)
            return -1;
    }
    if (i != text.len)
        return -1;
    *out = neg ? -v : v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Exactly n digits at text[*i]. */
static int fixed_digits(h2o_iovec_t text, size_t *i, int n, int *out)
{
    int v = 0;
    if (text.len - *i < (size_t)n)
        return -1;
    for (int k = 0; k < n; k++) {
        char c = text.base[*i + k];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)n;
    *out = v;
    return 0;
}

static int expect_char(h2o_iovec_t text, size_t *i, char c)
{
    if (*i >= text.len || text.base[*i] != c)
        return -1;
    (*i)++;
    return 0;
}

int pol_date_parse(h2o_iovec_t text, int64_t *ms)
{
    int year, month = 1, day = 1, hour = 0, minute = 0, second = 0, tz_h = 0, tz_m = 0, tz_sign = 0;
    int64_t frac_ms = 0;
    size_t i = 0;

    /* epoch seconds: digits only (a leading '-' for dates before 1970) */
    if (text.len > 0 && text.len <= 13 && (text.len != 4 || text.base[0] == '-')) {
        size_t k = text.base[0] == '-';
        int64_t v = 0;
        for (; k < text.len && text.base[k] >= '0' && text.base[k] <= '9'; k++)
            v = v * 10 + (text.base[k] - '0');
        if (k == text.len && k > (size_t)(text.base[0] == '-')) {
            *ms = (text.base[0] == '-' ? -v : v) * 1000;
            return 0;
        }
    }
    if (fixed_digits(text, &i, 4, &year) != 0)
        return -1;
    if (i < text.len && (expect_char(text, &i, '-') != 0 || fixed_digits(text, &i, 2, &month) != 0))
        return -1;
    if (i < text.len && (expect_char(text, &i, '-') != 0 || fixed_digits(text, &i, 2, &day) != 0))
        return -1;
    if (i < text.len) {
        if (expect_char(text, &i, 'T') != 0 || fixed_digits(text, &i, 2, &hour) != 0 ||
            expect_char(text, &i, ':') != 0 || fixed_digits(text, &i, 2, &minute) != 0)
            return -1;
        if (i < text.len && text.base[i] == ':') {
            i++;
            if (fixed_digits(text, &i, 2, &second) != 0)
                return -1;
            if (i < text.len && text.base[i] == '.') {
                size_t digits = 0;
                int64_t scale = 100;
                for (i++; i < text.len && text.base[i] >= '0' && text.base[i] <= '9'; i++, digits++, scale /= 10)
                    frac_ms += (text.base[i] - '0') * scale; /* beyond milliseconds, scale is 0 */
                if (digits == 0)
                    return -1;
            }
        }
        /* the time zone is required once there is a time */
        if (i < text.len && text.base[i] == 'Z') {
            i++;
        } else if (i < text.len && (text.base[i] == '+' || text.base[i] == '-')) {
            tz_sign = text.base[i++] == '+' ? 1 : -1;
            if (fixed_digits(text, &i, 2, &tz_h) != 0 || expect_char(text, &i, ':') != 0 ||
                fixed_digits(text, &i, 2, &tz_m) != 0 || tz_h > 23 || tz_m > 59)
                return -1;
        } else {
            return -1;
        }
        if (i != text.len)
            return -1;
    }
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (month < 1 || month > 12 || day < 1 || day > mdays[month - 1] + (month == 2 && leap) || hour > 23 ||
        minute > 59 || second > 59)
        return -1;
    int64_t secs = days_from_civil(year, (unsigned)month, (unsigned)day) * 86400 + hour * 3600 + minute * 60 + second;
    secs -= (int64_t)tz_sign * (tz_h * 3600 + tz_m * 60);
    *ms = secs * 1000 + frac_ms;
    return 0;
}

int pol_bool_parse(h2o_iovec_t text, int *out)
{
    if (text.len == 4 && same_icase(text.base, "true", 4)) {
        *out = 1;
        return 0;
    }
    if (text.len == 5 && same_icase(text.base, "false", 5)) {
        *out = 0;
        return 0;
    }
    return -1;
}

/* ---- addresses */

/* Dotted-quad IPv4 by inet_pton's rules (four octets of at most 255, no leading zeros), without
 * the copy and the call: request addresses are read on every evaluation. */
static int parse_ipv4(const char *s, size_t len, uint8_t addr[4])
{
    size_t i = 0;
    for (int octet = 0; octet < 4; octet++) {
        unsigned v = 0, digits = 0;
        if (octet > 0 && (i >= len || s[i++] != '.'))
            return -1;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
            if (digits > 0 && v == 0)
                return -1; /* a leading zero */
            v = v * 10 + (unsigned)(s[i] - '0');
            if (v > 255)
                return -1;
        }
        if (digits == 0)
            return -1;
        addr[octet] = (uint8_t)v;
    }
    return i == len ? 0 : -1;
}

static int parse_address(const char *s, size_t len, pol_cidr_t *out)
{
    char buf[INET6_ADDRSTRLEN + 1];
    memset(out, 0, sizeof(*out));
    if (memchr(s, ':', len) == NULL) {
        if (parse_ipv4(s, len, out->addr) != 0)
            return -1;
        out->family = 4;
        out->prefix = 32;
        return 0;
    }
    if (len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = 6;
        out->prefix = 128;
        return 0;
    }
    return -1;
}

int pol_cidr_parse(h2o_iovec_t text, pol_cidr_t *out)
{
    const char *slash = memchr(text.base, '/', text.len);
    size_t alen = slash ? (size_t)(slash - text.base) : text.len;
    int bits = 0;

    if (parse_address(text.base, alen, out) != 0)
        return -1;
    if (slash != NULL) {
        size_t i = alen + 1, digits = text.len - i;
        if (digits == 0 || digits > 3)
            return -1;
        for (; i < text.len; i++) {
            if (text.base[i] < '0' || text.base[i] > '9')
                return -1;
            bits = bits * 10 + (text.base[i] - '0');
        }
        if (bits > out->prefix)
            return -1;
        out->prefix = (uint8_t)bits;
    }
    /* host bits under the prefix are ignored, as a CIDR block means */
    for (int b = out->prefix; b < (out->family == 4 ? 32 : 128); b++)
        out->addr[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
    return 0;
}

int pol_ip_parse(h2o_iovec_t text, pol_cidr_t *out)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (parse_address(text.base, text.len, out) != 0)
        return -1;
    if (out->family == 6 && memcmp(out->addr, mapped, 12) == 0) { /* ::ffff:a.b.c.d is a.b.c.d */
        memmove(out->addr, out->addr + 12, 4);
        memset(out->addr + 4, 0, 12);
        out->family = 4;
        out->prefix = 32;
    }
    return 0;
}

int pol_cidr_contains(const pol_cidr_t *block, const pol_cidr_t *ip)
{
    if (block->family != ip->family)
        return 0;
    int full = block->prefix / 8, rest = block->prefix % 8;
    if (memcmp(block->addr, ip->addr, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    uint8_t mask = (uint8_t)(0xff00u >> rest);
    return (block->addr[full] & mask) == (ip->addr[full] & mask);
}

int pol_base64_valid(h2o_iovec_t text)
{
    size_t pad = 0;
    if (text.len == 0 || text.len % 4 != 0)
        return 0;
    for (size_t i = 0; i < text.len; i++) {
        char c = text.base[i];
        if (c == '=') {
            pad++;
        } else if (pad > 0 || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                c == '+' || c == '/')) {
            return 0;
        }
    }
    return pad <= 2;
}

/* ---- a request's values */

static void set_one(pol_values_t *out, h2o_iovec_t v)
{
    if (v.len == 0)
        return;
    out->one = v;
    out->v = &out->one;
    out->n = 1;
}

void pol_request_values(const s3_policy_request_t *req, uint16_t key, h2o_iovec_t tag, pol_values_t *out)
{
    out->v = NULL;
    out->n = 0;
    if (req == NULL || key >= S3_POLICY_KEY__COUNT)
        return; /* no request has another service's keys (an identity policy's iam:..., ec2:...) */
    const s3_policy_principal_t *who = &req->principal;
    int anonymous = who->type == S3_POLICY_ANONYMOUS;
    switch (key) {
    case S3_POLICY_KEY_AWS_USERNAME:
        if (who->type == S3_POLICY_USER)
            set_one(out, who->username);
        return;
    case S3_POLICY_KEY_AWS_USERID:
        set_one(out, anonymous ? h2o_iovec_init(H2O_STRLIT("anonymous")) : who->userid);
        return;
    case S3_POLICY_KEY_AWS_PRINCIPAL_ARN:
        if (!anonymous)
            set_one(out, who->arn);
        return;
    case S3_POLICY_KEY_AWS_PRINCIPAL_ACCOUNT:
        if (!anonymous)
            set_one(out, who->account);
        return;
    case S3_POLICY_KEY_AWS_PRINCIPAL_TYPE:
        set_one(out, anonymous                     ? h2o_iovec_init(H2O_STRLIT("Anonymous"))
                     : who->type == S3_POLICY_USER ? h2o_iovec_init(H2O_STRLIT("User"))
                                                   : h2o_iovec_init(H2O_STRLIT("Account")));
        return;
    case S3_POLICY_KEY_AWS_CURRENT_TIME:
    case S3_POLICY_KEY_AWS_EPOCH_TIME: {
        if (req->now_ns == 0)
            return;
        int64_t secs = req->now_ns / 1000000000;
        int len;
        if (key == S3_POLICY_KEY_AWS_EPOCH_TIME) {
            len = snprintf(out->buf, sizeof(out->buf), "%lld", (long long)secs);
        } else {
            int64_t y, days = secs / 86400, rem = secs % 86400;
            unsigned m, d;
            if (rem < 0) {
                rem += 86400;
                days--;
            }
            civil_from_days(days, &y, &m, &d);
            len = snprintf(out->buf, sizeof(out->buf), "%04lld-%02u-%02uT%02u:%02u:%02uZ", (long long)y, m, d,
                           (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60));
        }
        if (len > 0 && (size_t)len < sizeof(out->buf))
            set_one(out, h2o_iovec_init(out->buf, (size_t)len));
        return;
    }
    default:
        for (size_t i = 0; i < req->nvalues; i++) {
            const s3_policy_value_t *v = &req->values[i];
            if (v->key != key)
                continue;
            if ((keys[key].flags & S3_POLICY_KEY_TAG) &&
                (v->tag.len != tag.len || (tag.len && memcmp(v->tag.base, tag.base, tag.len) != 0)))
                continue;
            out->v = v->values;
            out->n = v->values != NULL ? v->nvalues : 0;
            return;
        }
    }
}
