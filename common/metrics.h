/* metrics.h — counters, gauges and histograms, cheap to update from any thread, rendered in the
 * Prometheus text exposition format (version 0.0.4).
 *
 * A registry holds families; a family is one metric name with a fixed list of label names, and
 * each label takes its values from a fixed list given when the family is made (operations, status
 * codes, drives). So the series of a family form a dense array: a series is an index, computed
 * once from the label values' indexes (yc_metrics_series), and an update is an atomic add to a
 * cell — no lookup, no lock, no allocation on the hot path.
 *
 * Contention. Counters and histograms are cut into shards, each a separate run of cache lines; a
 * thread adds to the shard its own thread-local address hashes to, and rendering sums the shards.
 * Measured with bench/metrics_bench.c (4 threads adding to one series on 2 cores, wall time per
 * add): one cell 12-16 ns, sharded 2.4-3.9 ns; one thread alone 3.2 ns and 3.6 ns. Gauges are one
 * cell (a set must overwrite, not add to a shard).
 *
 * Histograms keep integer observations (nanoseconds, bytes) and integer bucket bounds; a
 * family's unit_exp says how many decimal places the rendering moves them (9: nanoseconds shown
 * as seconds), so sums and bounds are exact decimals, never rounded floats. Buckets are counted
 * apart and made cumulative when rendered; _count is the +Inf bucket, so the two always agree.
 *
 * Lifetime: families are made at start-up, before any thread updates or renders; afterwards the
 * registry's shape is fixed and updates and renders may run on any thread at once. A render reads
 * each cell atomically, not the registry as one snapshot (like every Prometheus client).
 *
 * Part of common/ (libcommon.a, prefix yc_): small helpers every library may use and that use
 * none of them. It has one public header per concern (log, pool, listen, server, clock, id,
 * bytes, errors, cli, metrics) rather than one for the folder, because its parts are independent.
 */
#ifndef YC_COMMON_METRICS_H
#define YC_COMMON_METRICS_H
#include <stddef.h>
#include <stdint.h>

typedef struct yc_metrics yc_metrics_t;
typedef struct yc_metric yc_metric_t;

#define YC_METRICS_LABELS_MAX  4  /* label names per family */
#define YC_METRICS_BUCKETS_MAX 32 /* bucket bounds per histogram, +Inf not counted */
#define YC_METRICS_SHARDS      16 /* shards of a counter or histogram */

/* One label of a family: its name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__") and the values
 * it may take, in index order. Both borrowed: they must outlive the registry. Values may hold
 * any bytes; rendering escapes them (\\ \" \n) and replaces bytes that are not UTF-8 by U+FFFD. */
typedef struct {
    const char *name;
    const char *const *values;
    size_t nvalues;
} yc_metrics_label_t;

int yc_metrics_new(yc_metrics_t **out);
/* Frees the registry and its families. */
void yc_metrics_free(yc_metrics_t *r);

/* Make a family in r; its series start at 0. name is [a-zA-Z_:][a-zA-Z0-9_:]* (a counter's ends in
 * _total by convention), help one line of text; both copied. -EINVAL for a bad name, a repeated
 * name, a bad label or no value for a label; -ENOMEM. *out is owned by the registry. */
int yc_metrics_counter(yc_metrics_t *r, const char *name, const char *help, const yc_metrics_label_t *labels,
                       size_t nlabels, yc_metric_t **out);
int yc_metrics_gauge(yc_metrics_t *r, const char *name, const char *help, const yc_metrics_label_t *labels,
                     size_t nlabels, yc_metric_t **out);
/* bounds: nbounds strictly increasing upper bounds (inclusive, as Prometheus' le), in the unit of
 * the observations; rendered divided by 10^unit_exp (unit_exp <= 18). */
int yc_metrics_histogram(yc_metrics_t *r, const char *name, const char *help, const yc_metrics_label_t *labels,
                         size_t nlabels, const uint64_t *bounds, size_t nbounds, unsigned unit_exp, yc_metric_t **out);

/* The series of m with label i taking value idx[i] (nidx must be the family's label count); an
 * index out of range takes the label's last value, so a caller's "other" value goes last. */
size_t yc_metrics_series(const yc_metric_t *m, const size_t *idx, size_t nidx);
/* Number of series of m (the product of its labels' value counts; 1 without labels). */
size_t yc_metrics_nseries(const yc_metric_t *m);

/* Updates; series out of range are ignored. Any thread, lock-free. */
void yc_metrics_add(yc_metric_t *counter, size_t series, uint64_t n);
void yc_metrics_set(yc_metric_t *gauge, size_t series, int64_t v);
void yc_metrics_gauge_add(yc_metric_t *gauge, size_t series, int64_t delta);
void yc_metrics_observe(yc_metric_t *histogram, size_t series, uint64_t v);
/* A counter kept elsewhere and read when rendering (a module's own total): sets the series' total.
 * Not for a family that yc_metrics_add updates too. */
void yc_metrics_counter_set(yc_metric_t *counter, size_t series, uint64_t total);

/* Reads back (tests, admin API): a counter's total, a gauge's value; a histogram's per-bucket
 * counts (not cumulative; nbounds + 1 entries, the last one above every bound) and sum. */
uint64_t yc_metrics_counter_value(const yc_metric_t *counter, size_t series);
int64_t yc_metrics_gauge_value(const yc_metric_t *gauge, size_t series);
void yc_metrics_histogram_value(const yc_metric_t *histogram, size_t series, uint64_t *counts, uint64_t *sum);

/* Renders every family in the text format, in the order they were made: # HELP, # TYPE, then one
 * line per series (per bucket, _sum and _count for a histogram). *out is malloc'd and
 * NUL-terminated (caller frees), *len its length without the NUL. 0 or -ENOMEM. */
int yc_metrics_render(yc_metrics_t *r, char **out, size_t *len);

/* The content type of the rendered text, for a /metrics answer. */
#define YC_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
