/* metrics.c — metric families as dense arrays of atomic cells, and their text rendering
 * (design in metrics.h).
 *
 * Cells of one family: a counter's series has one cell, a histogram's nbounds + 2 (a count per
 * bucket, the +Inf bucket, the sum), a gauge's one. Counters and histograms repeat the whole run
 * once per shard, each shard starting on its own cache line so that two threads on two shards
 * never write the same line.
 */
#include "common/metrics.h"
#include "common/utf8.h"
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_LINE     64
#define CELLS_PER_LINE (CACHE_LINE / sizeof(uint64_t))

enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM };

struct yc_metric {
    yc_metric_t *next; /* registration order */
    int kind;
    char *name, *help;
    yc_metrics_label_t labels[YC_METRICS_LABELS_MAX];
    size_t nlabels;
    size_t nseries;
    size_t ncells;       /* cells per series */
    size_t nshards;      /* 1 for a gauge */
    size_t shard_stride; /* cells per shard: nseries * ncells rounded up to whole cache lines */
    uint64_t bounds[YC_METRICS_BUCKETS_MAX];
    size_t nbounds;
    unsigned unit_exp;
    _Atomic uint64_t *cells; /* nshards * shard_stride, cache-line aligned */
};

struct yc_metrics {
    yc_metric_t *first, *last;
};

int yc_metrics_new(yc_metrics_t **out)
{
    if ((*out = calloc(1, sizeof(**out))) == NULL)
        return -ENOMEM;
    return 0;
}

void yc_metrics_free(yc_metrics_t *r)
{
    if (r == NULL)
        return;
    for (yc_metric_t *m = r->first, *next; m != NULL; m = next) {
        next = m->next;
        free(m->cells);
        free(m->name);
        free(m->help);
        free(m);
    }
    free(r);
}

/* ---------------------------------------------------------------- families */

static int valid_name(const char *s, int colon_ok)
{
    if (s == NULL || *s == '\0')
        return 0;
    for (const char *p = s; *p != '\0'; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':') ||
                 (p != s && c >= '0' && c <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

static int add_family(yc_metrics_t *r, int kind, const char *name, const char *help, const yc_metrics_label_t *labels,
                      size_t nlabels, const uint64_t *bounds, size_t nbounds, unsigned unit_exp, yc_metric_t **out)
{
    yc_metric_t *m;
    size_t nseries = 1;

    if (!valid_name(name, 1) || nlabels > YC_METRICS_LABELS_MAX || (nlabels > 0 && labels == NULL) ||
        nbounds > YC_METRICS_BUCKETS_MAX || unit_exp > 18)
        return -EINVAL;
    for (yc_metric_t *o = r->first; o != NULL; o = o->next)
        if (strcmp(o->name, name) == 0)
            return -EINVAL;
    for (size_t i = 0; i < nlabels; i++) {
        if (!valid_name(labels[i].name, 0) || strncmp(labels[i].name, "__", 2) == 0 || labels[i].nvalues == 0 ||
            labels[i].values == NULL || (kind == KIND_HISTOGRAM && strcmp(labels[i].name, "le") == 0))
            return -EINVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(labels[i].name, labels[j].name) == 0)
                return -EINVAL;
        if (labels[i].nvalues > SIZE_MAX / 64 / nseries)
            return -EINVAL;
        nseries *= labels[i].nvalues;
    }
    for (size_t i = 1; i < nbounds; i++)
        if (bounds[i] <= bounds[i - 1])
            return -EINVAL;
    if (kind == KIND_HISTOGRAM && nbounds == 0)
        return -EINVAL;

    if ((m = calloc(1, sizeof(*m))) == NULL)
        return -ENOMEM;
    m->kind = kind;
    m->nlabels = nlabels;
    if (nlabels > 0)
        memcpy(m->labels, labels, nlabels * sizeof(*labels));
    m->nseries = nseries;
    m->ncells = kind == KIND_HISTOGRAM ? nbounds + 2 : 1;
    m->nshards = kind == KIND_GAUGE ? 1 : YC_METRICS_SHARDS;
    m->shard_stride = (nseries * m->ncells + CELLS_PER_LINE - 1) / CELLS_PER_LINE * CELLS_PER_LINE;
    if (nbounds > 0)
        memcpy(m->bounds, bounds, nbounds * sizeof(*bounds));
    m->nbounds = nbounds;
    m->unit_exp = unit_exp;
    m->name = strdup(name);
    m->help = strdup(help != NULL ? help : "");
    m->cells = aligned_alloc(CACHE_LINE, m->nshards * m->shard_stride * sizeof(*m->cells));
    if (m->name == NULL || m->help == NULL || m->cells == NULL) {
        free(m->cells);
        free(m->name);
        free(m->help);
        free(m);
        return -ENOMEM;
    }
    for (size_t i = 0; i < m->nshards * m->shard_stride; i++)
        atomic_init(&m->cells[i], 0);
    if (r->last != NULL)
        r->last->next = m;
    else
        r->first = m;
    r->last = m;
    *out = m;
    return 0;
}

int yc_metrics_counter(yc_metrics_t *r, const char *name, const char *help, const yc_metrics_label_t *labels,
                       size_t nlabels, yc_metric_t **out)
{
    return add_family(r, KIND_COUNTER, name, help, labels, nlabels, NULL, 0, 0, out);
}

int yc_metrics_gauge(yc_metrics_t *r, const char *name, const char *help, const yc_metrics_label_t *labels,
                     size_t nlabels, yc_metric_t **out)
{
    return add_family(r, KIND_GAUGE, name, help, labels, nlabels, NULL, 0, 0, out);
}

int yc_metrics_histogram(yc_metrics_t *r, const char *name, const char *help, const yc_metrics_label_t *labels,
                         size_t nlabels, const uint64_t *bounds, size_t nbounds, unsigned unit_exp, yc_metric_t **out)
{
    return add_family(r, KIND_HISTOGRAM, name, help, labels, nlabels, bounds, nbounds, unit_exp, out);
}

size_t yc_metrics_series(const yc_metric_t *m, const size_t *idx, size_t nidx)
{
    size_t s = 0;

    for (size_t i = 0; i < m->nlabels; i++) {
        size_t v = i < nidx ? idx[i] : 0;
        if (v >= m->labels[i].nvalues)
            v = m->labels[i].nvalues - 1;
        s = s * m->labels[i].nvalues + v;
    }
    return s;
}

size_t yc_metrics_nseries(const yc_metric_t *m)
{
    return m->nseries;
}

/* ---------------------------------------------------------------- updates */

/* The shard of the calling thread: a hash of the address of a thread-local byte, which differs
 * between threads and stays put for a thread's life — no shared counter to hand shards out. */
static inline size_t my_shard(void)
{
    static _Thread_local unsigned char anchor;
    uint64_t a = (uint64_t)(uintptr_t)&anchor;
    a ^= a >> 21;
    a *= 0x9E3779B97F4A7C15ULL;
    return (size_t)(a >> 59) % YC_METRICS_SHARDS;
}

static inline _Atomic uint64_t *cell(yc_metric_t *m, size_t shard, size_t series, size_t i)
{
    return &m->cells[shard * m->shard_stride + series * m->ncells + i];
}

void yc_metrics_add(yc_metric_t *m, size_t series, uint64_t n)
{
    if (m == NULL || m->kind != KIND_COUNTER || series >= m->nseries)
        return;
    atomic_fetch_add_explicit(cell(m, my_shard(), series, 0), n, memory_order_relaxed);
}

void yc_metrics_counter_set(yc_metric_t *m, size_t series, uint64_t total)
{
    if (m == NULL || m->kind != KIND_COUNTER || series >= m->nseries)
        return;
    atomic_store_explicit(cell(m, 0, series, 0), total, memory_order_relaxed);
    for (size_t s = 1; s < m->nshards; s++)
        atomic_store_explicit(cell(m, s, series, 0), 0, memory_order_relaxed);
}

void yc_metrics_set(yc_metric_t *m, size_t series, int64_t v)
{
    if (m == NULL || m->kind != KIND_GAUGE || series >= m->nseries)
        return;
    atomic_store_explicit(cell(m, 0, series, 0), (uint64_t)v, memory_order_relaxed);
}

void yc_metrics_gauge_add(yc_metric_t *m, size_t series, int64_t delta)
{
    if (m == NULL || m->kind != KIND_GAUGE || series >= m->nseries)
        return;
    /* two's complement: adding the unsigned image of a negative delta subtracts */
    atomic_fetch_add_explicit(cell(m, 0, series, 0), (uint64_t)delta, memory_order_relaxed);
}

void yc_metrics_observe(yc_metric_t *m, size_t series, uint64_t v)
{
    size_t b = 0;

    if (m == NULL || m->kind != KIND_HISTOGRAM || series >= m->nseries)
        return;
    while (b < m->nbounds && v > m->bounds[b])
        b++;
    size_t shard = my_shard();
    atomic_fetch_add_explicit(cell(m, shard, series, b), 1, memory_order_relaxed);
    atomic_fetch_add_explicit(cell(m, shard, series, m->nbounds + 1), v, memory_order_relaxed);
}

/* ---------------------------------------------------------------- reading back */

static uint64_t sum_cell(const yc_metric_t *m, size_t series, size_t i)
{
    uint64_t total = 0;
    for (size_t s = 0; s < m->nshards; s++)
        total += atomic_load_explicit(cell((yc_metric_t *)m, s, series, i), memory_order_relaxed);
    return total;
}

uint64_t yc_metrics_counter_value(const yc_metric_t *m, size_t series)
{
    return m != NULL && m->kind == KIND_COUNTER && series < m->nseries ? sum_cell(m, series, 0) : 0;
}

int64_t yc_metrics_gauge_value(const yc_metric_t *m, size_t series)
{
    return m != NULL && m->kind == KIND_GAUGE && series < m->nseries ? (int64_t)sum_cell(m, series, 0) : 0;
}

void yc_metrics_histogram_value(const yc_metric_t *m, size_t series, uint64_t *counts, uint64_t *sum)
{
    *sum = 0;
    if (m == NULL || m->kind != KIND_HISTOGRAM || series >= m->nseries)
        return;
    for (size_t b = 0; b <= m->nbounds; b++)
        counts[b] = sum_cell(m, series, b);
    *sum = sum_cell(m, series, m->nbounds + 1);
}

/* ---------------------------------------------------------------- rendering */

typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} text_t;

static void text_reserve(text_t *t, size_t more)
{
    if (t->oom || t->len + more + 1 <= t->cap)
        return;
    size_t cap = t->cap > 0 ? t->cap : 4096;
    while (cap < t->len + more + 1)
        cap *= 2;
    char *p = realloc(t->p, cap);
    if (p == NULL) {
        t->oom = 1;
        return;
    }
    t->p = p;
    t->cap = cap;
}

static void text_put(text_t *t, const char *s, size_t n)
{
    text_reserve(t, n);
    if (t->oom)
        return;
    memcpy(t->p + t->len, s, n);
    t->len += n;
    t->p[t->len] = '\0';
}

static void text_str(text_t *t, const char *s)
{
    text_put(t, s, strlen(s));
}

static void text_u64(text_t *t, uint64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    text_put(t, buf, (size_t)n);
}

static void text_i64(text_t *t, int64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%lld", (long long)v);
    text_put(t, buf, (size_t)n);
}

/* v / 10^exp as an exact decimal, trailing zeros of the fraction dropped: 500000 at 9 is 0.0005. */
static void text_decimal(text_t *t, uint64_t v, unsigned exp)
{
    uint64_t scale = 1;
    char frac[24];

    for (unsigned i = 0; i < exp; i++)
        scale *= 10;
    text_u64(t, v / scale);
    if (exp == 0 || v % scale == 0)
        return;
    int n = snprintf(frac, sizeof(frac), ".%0*llu", (int)exp, (unsigned long long)(v % scale));
    while (n > 1 && frac[n - 1] == '0')
        n--;
    text_put(t, frac, (size_t)n);
}

/* A label value or help text: \ and newline escaped (and " in a label value), control
 * characters and bytes that are not UTF-8 replaced by U+FFFD, so the line stays one line of
 * valid UTF-8 whatever the value holds. */
static void text_escaped(text_t *t, const char *s, int quote)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);

    for (size_t i = 0; i < n;) {
        size_t len = yc_utf8_seq(p + i, n - i, NULL);
        if (len == 0 || (len == 1 && (p[i] < 0x20 || p[i] == 0x7F) && p[i] != '\n')) {
            text_str(t, "\xEF\xBF\xBD");
            i++;
        } else if (p[i] == '\\') {
            text_str(t, "\\\\");
            i++;
        } else if (p[i] == '\n') {
            text_str(t, "\\n");
            i++;
        } else if (p[i] == '"' && quote) {
            text_str(t, "\\\"");
            i++;
        } else {
            text_put(t, s + i, len);
            i += len;
        }
    }
}

/* {a="x",b="y"} of series s, with le="..." last when le_bucket is at most nbounds (nbounds: +Inf),
 * nothing at all without labels. */
static void text_labels(text_t *t, const yc_metric_t *m, size_t s, size_t le_bucket)
{
    size_t idx[YC_METRICS_LABELS_MAX], rest = s;
    int any = 0;

    for (size_t i = m->nlabels; i-- > 0;) {
        idx[i] = rest % m->labels[i].nvalues;
        rest /= m->labels[i].nvalues;
    }
    for (size_t i = 0; i < m->nlabels; i++) {
        text_str(t, any ? "," : "{");
        text_str(t, m->labels[i].name);
        text_str(t, "=\"");
        text_escaped(t, m->labels[i].values[idx[i]], 1);
        text_str(t, "\"");
        any = 1;
    }
    if (le_bucket <= m->nbounds) {
        text_str(t, any ? ",le=\"" : "{le=\"");
        if (le_bucket == m->nbounds)
            text_str(t, "+Inf");
        else
            text_decimal(t, m->bounds[le_bucket], m->unit_exp);
        text_str(t, "\"");
        any = 1;
    }
    if (any)
        text_str(t, "}");
}

static void render_family(text_t *t, const yc_metric_t *m)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};

    text_str(t, "# HELP ");
    text_str(t, m->name);
    text_str(t, " ");
    text_escaped(t, m->help, 0);
    text_str(t, "\n# TYPE ");
    text_str(t, m->name);
    text_str(t, " ");
    text_str(t, types[m->kind]);
    text_str(t, "\n");
    for (size_t s = 0; s < m->nseries; s++) {
        if (m->kind != KIND_HISTOGRAM) {
            text_str(t, m->name);
            text_labels(t, m, s, SIZE_MAX);
            text_str(t, " ");
            if (m->kind == KIND_COUNTER)
                text_u64(t, sum_cell(m, s, 0));
            else
                text_i64(t, (int64_t)sum_cell(m, s, 0));
            text_str(t, "\n");
            continue;
        }
        uint64_t cumulative = 0;
        for (size_t b = 0; b <= m->nbounds; b++) {
            cumulative += sum_cell(m, s, b);
            text_str(t, m->name);
            text_str(t, "_bucket");
            text_labels(t, m, s, b);
            text_str(t, " ");
            text_u64(t, cumulative);
            text_str(t, "\n");
        }
        text_str(t, m->name);
        text_str(t, "_sum");
        text_labels(t, m, s, SIZE_MAX);
        text_str(t, " ");
        text_decimal(t, sum_cell(m, s, m->nbounds + 1), m->unit_exp);
        text_str(t, "\n");
        text_str(t, m->name);
        text_str(t, "_count");
        text_labels(t, m, s, SIZE_MAX);
        text_str(t, " ");
        text_u64(t, cumulative);
        text_str(t, "\n");
    }
}

int yc_metrics_render(yc_metrics_t *r, char **out, size_t *len)
{
    text_t t = {0};

    text_reserve(&t, 0);
    for (const yc_metric_t *m = r->first; m != NULL; m = m->next)
        render_family(&t, m);
    if (t.oom || t.p == NULL) {
        free(t.p);
        return -ENOMEM;
    }
    *out = t.p;
    *len = t.len;
    return 0;
}
