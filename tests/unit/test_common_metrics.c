/* test_common_metrics — common/metrics.h: series indexes, exact totals under concurrent updates,
 * histogram buckets (inclusive bounds, cumulative rendering, exact decimal sums), the text format
 * line by line, escaping of awkward label values, and the names and shapes refused.
 * That the output parses with Prometheus' own parser is tests/integration/test_metrics.py. */
#include "common/metrics.h"
#include "common/pool.h"
#include "tests/unit/unit.h"
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

static const char *const ops[] = {"GetObject", "PutObject", "other"};
static const char *const codes[] = {"200", "404", "other"};

/* Renders r and says whether the text contains line (a whole line, newline added here). */
static int has_line(yc_metrics_t *r, const char *line)
{
    char *text, want[512];
    size_t len;
    int found;

    if (yc_metrics_render(r, &text, &len) != 0)
        return 0;
    snprintf(want, sizeof(want), "\n%s\n", line);
    /* the first line has no newline before it: look at "\n" + text */
    char *whole = malloc(len + 2);
    whole[0] = '\n';
    memcpy(whole + 1, text, len + 1);
    found = strstr(whole, want) != NULL;
    if (!found)
        fprintf(stderr, "  no line [%s] in:\n%s", line, text);
    free(whole);
    free(text);
    return found;
}

TEST(test_metrics_series_index_when_labels_combine)
{
    yc_metrics_t *r;
    yc_metric_t *c;
    yc_metrics_label_t labels[] = {{"op", ops, 3}, {"code", codes, 3}};

    CHECK_EQ_INT(yc_metrics_new(&r), 0);
    CHECK_EQ_INT(yc_metrics_counter(r, "yc_requests_total", "Requests.", labels, 2, &c), 0);
    CHECK_EQ_INT(yc_metrics_nseries(c), 9);
    CHECK_EQ_INT(yc_metrics_series(c, (size_t[]){0, 0}, 2), 0);
    CHECK_EQ_INT(yc_metrics_series(c, (size_t[]){1, 1}, 2), 4);
    CHECK_EQ_INT(yc_metrics_series(c, (size_t[]){2, 0}, 2), 6);
    /* out of range: the label's last value ("other") */
    CHECK_EQ_INT(yc_metrics_series(c, (size_t[]){99, 1}, 2), 7);
    yc_metrics_add(c, yc_metrics_series(c, (size_t[]){1, 1}, 2), 3);
    CHECK(has_line(r, "yc_requests_total{op=\"PutObject\",code=\"404\"} 3"));
    CHECK(has_line(r, "yc_requests_total{op=\"GetObject\",code=\"200\"} 0"));
    yc_metrics_free(r);
}

typedef struct {
    yc_metric_t *counter, *hist, *gauge;
    size_t n;
} worker_arg_t;

static void *worker(void *p)
{
    worker_arg_t *a = p;
    for (size_t i = 0; i < a->n; i++) {
        yc_metrics_add(a->counter, i % 3, 1);
        yc_metrics_observe(a->hist, 0, i % 4); /* 0..3 */
        yc_metrics_gauge_add(a->gauge, 0, 1);
        yc_metrics_gauge_add(a->gauge, 0, -1);
    }
    return NULL;
}

TEST(test_metrics_totals_exact_when_threads_update_at_once)
{
    enum { THREADS = 8, N = 100000 };
    yc_metrics_t *r;
    yc_metrics_label_t op = {"op", ops, 3};
    const uint64_t bounds[] = {1, 2};
    worker_arg_t a = {.n = N};
    pthread_t t[THREADS];
    uint64_t counts[3], sum;

    CHECK_EQ_INT(yc_metrics_new(&r), 0);
    CHECK_EQ_INT(yc_metrics_counter(r, "c_total", "c", &op, 1, &a.counter), 0);
    CHECK_EQ_INT(yc_metrics_histogram(r, "h", "h", NULL, 0, bounds, 2, 0, &a.hist), 0);
    CHECK_EQ_INT(yc_metrics_gauge(r, "g", "g", NULL, 0, &a.gauge), 0);
    for (int i = 0; i < THREADS; i++)
        CHECK_EQ_INT(pthread_create(&t[i], NULL, worker, &a), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    uint64_t total = 0;
    for (size_t s = 0; s < 3; s++)
        total += yc_metrics_counter_value(a.counter, s);
    CHECK_EQ_INT(total, (uint64_t)THREADS * N);
    CHECK_EQ_INT(yc_metrics_counter_value(a.counter, 0), (uint64_t)THREADS * ((N + 2) / 3));
    yc_metrics_histogram_value(a.hist, 0, counts, &sum);
    /* i % 4 over N: a quarter each of 0, 1, 2, 3; le=1 takes 0 and 1, le=2 takes 2, +Inf takes 3 */
    CHECK_EQ_INT(counts[0], (uint64_t)THREADS * N / 2);
    CHECK_EQ_INT(counts[1], (uint64_t)THREADS * N / 4);
    CHECK_EQ_INT(counts[2], (uint64_t)THREADS * N / 4);
    CHECK_EQ_INT(sum, (uint64_t)THREADS * (N / 4) * 6);
    CHECK_EQ_INT(yc_metrics_gauge_value(a.gauge, 0), 0);
    yc_metrics_free(r);
}

TEST(test_metrics_histogram_renders_cumulative_buckets_with_exact_decimals)
{
    yc_metrics_t *r;
    yc_metric_t *h;
    yc_metrics_label_t op = {"op", ops, 3};
    /* 0.5 ms, 1 ms, 2.5 s in nanoseconds, shown in seconds */
    const uint64_t bounds[] = {500000, 1000000, 2500000000ULL};

    CHECK_EQ_INT(yc_metrics_new(&r), 0);
    CHECK_EQ_INT(yc_metrics_histogram(r, "yc_latency_seconds", "Latency.", &op, 1, bounds, 3, 9, &h), 0);
    yc_metrics_observe(h, 1, 500000);     /* on the bound: counts in le=0.0005 */
    yc_metrics_observe(h, 1, 500001);     /* just above: le=0.001 */
    yc_metrics_observe(h, 1, 3000000000); /* above every bound: +Inf only */
    yc_metrics_observe(h, 1, 1000000000); /* le=2.5 */
    CHECK(has_line(r, "# HELP yc_latency_seconds Latency."));
    CHECK(has_line(r, "# TYPE yc_latency_seconds histogram"));
    CHECK(has_line(r, "yc_latency_seconds_bucket{op=\"PutObject\",le=\"0.0005\"} 1"));
    CHECK(has_line(r, "yc_latency_seconds_bucket{op=\"PutObject\",le=\"0.001\"} 2"));
    CHECK(has_line(r, "yc_latency_seconds_bucket{op=\"PutObject\",le=\"2.5\"} 3"));
    CHECK(has_line(r, "yc_latency_seconds_bucket{op=\"PutObject\",le=\"+Inf\"} 4"));
    CHECK(has_line(r, "yc_latency_seconds_sum{op=\"PutObject\"} 4.001000001"));
    CHECK(has_line(r, "yc_latency_seconds_count{op=\"PutObject\"} 4"));
    CHECK(has_line(r, "yc_latency_seconds_bucket{op=\"GetObject\",le=\"+Inf\"} 0"));
    CHECK(has_line(r, "yc_latency_seconds_sum{op=\"GetObject\"} 0"));
    yc_metrics_free(r);
}

TEST(test_metrics_render_plain_families_in_order)
{
    yc_metrics_t *r;
    yc_metric_t *c, *g;
    char *text;
    size_t len;

    CHECK_EQ_INT(yc_metrics_new(&r), 0);
    CHECK_EQ_INT(yc_metrics_counter(r, "yc_bytes_in_total", "Bytes received.", NULL, 0, &c), 0);
    CHECK_EQ_INT(yc_metrics_gauge(r, "yc_inflight", "Requests in flight.", NULL, 0, &g), 0);
    yc_metrics_add(c, 0, 5);
    yc_metrics_counter_set(c, 0, 1ULL << 40); /* a total kept elsewhere replaces what was added */
    yc_metrics_set(g, 0, 7);
    yc_metrics_gauge_add(g, 0, -9);
    CHECK_EQ_INT(yc_metrics_render(r, &text, &len), 0);
    const char *want = "# HELP yc_bytes_in_total Bytes received.\n"
                       "# TYPE yc_bytes_in_total counter\n"
                       "yc_bytes_in_total 1099511627776\n"
                       "# HELP yc_inflight Requests in flight.\n"
                       "# TYPE yc_inflight gauge\n"
                       "yc_inflight -2\n";
    if (strcmp(text, want) != 0)
        fprintf(stderr, "  got:\n%s", text);
    CHECK(strcmp(text, want) == 0);
    CHECK_EQ_INT(len, strlen(want));
    free(text);
    yc_metrics_free(r);
}

TEST(test_metrics_label_values_escaped_when_awkward)
{
    static const char *const awkward[] = {
        "a\"b",         /* quote */
        "back\\slash",  /* backslash */
        "two\nlines",   /* newline */
        "bad\xff\xfe",  /* not UTF-8 */
        "tab\there",    /* a control character */
        "\xe4\xba\x91", /* 云: valid UTF-8 stays */
        "\xed\xa0\x80", /* a surrogate encoded: not UTF-8 */
        "\xc0\xaf",     /* overlong '/' */
    };
    yc_metrics_t *r;
    yc_metric_t *g;
    yc_metrics_label_t l = {"drive", awkward, sizeof(awkward) / sizeof(awkward[0])};

    CHECK_EQ_INT(yc_metrics_new(&r), 0);
    CHECK_EQ_INT(yc_metrics_gauge(r, "yc_x", "Help with \\ and\nnewline.", &l, 1, &g), 0);
    CHECK(has_line(r, "# HELP yc_x Help with \\\\ and\\nnewline."));
    CHECK(has_line(r, "yc_x{drive=\"a\\\"b\"} 0"));
    CHECK(has_line(r, "yc_x{drive=\"back\\\\slash\"} 0"));
    CHECK(has_line(r, "yc_x{drive=\"two\\nlines\"} 0"));
    CHECK(has_line(r, "yc_x{drive=\"bad\xef\xbf\xbd\xef\xbf\xbd\"} 0"));
    CHECK(has_line(r, "yc_x{drive=\"tab\xef\xbf\xbdhere\"} 0"));
    CHECK(has_line(r, "yc_x{drive=\"\xe4\xba\x91\"} 0"));
    CHECK(has_line(r, "yc_x{drive=\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"} 0"));
    CHECK(has_line(r, "yc_x{drive=\"\xef\xbf\xbd\xef\xbf\xbd\"} 0"));
    yc_metrics_free(r);
}

TEST(test_metrics_refuses_bad_names_and_shapes)
{
    static const char *const one[] = {"x"};
    yc_metrics_t *r;
    yc_metric_t *m;
    const uint64_t up[] = {1, 2}, down[] = {2, 1};
    yc_metrics_label_t bad_name = {"2op", one, 1}, reserved = {"__op", one, 1}, le = {"le", one, 1},
                       none = {"op", one, 0}, ok = {"op", one, 1};
    yc_metrics_label_t twice[] = {{"op", one, 1}, {"op", one, 1}};

    CHECK_EQ_INT(yc_metrics_new(&r), 0);
    CHECK_EQ_INT(yc_metrics_counter(r, "", "h", NULL, 0, &m), -EINVAL);
    CHECK_EQ_INT(yc_metrics_counter(r, "9lives", "h", NULL, 0, &m), -EINVAL);
    CHECK_EQ_INT(yc_metrics_counter(r, "with-dash", "h", NULL, 0, &m), -EINVAL);
    CHECK_EQ_INT(yc_metrics_counter(r, "ok:name_total", "h", NULL, 0, &m), 0);
    CHECK_EQ_INT(yc_metrics_gauge(r, "ok:name_total", "h", NULL, 0, &m), -EINVAL); /* repeated */
    CHECK_EQ_INT(yc_metrics_counter(r, "a_total", "h", &bad_name, 1, &m), -EINVAL);
    CHECK_EQ_INT(yc_metrics_counter(r, "b_total", "h", &reserved, 1, &m), -EINVAL);
    CHECK_EQ_INT(yc_metrics_counter(r, "c_total", "h", &none, 1, &m), -EINVAL);
    CHECK_EQ_INT(yc_metrics_counter(r, "d_total", "h", twice, 2, &m), -EINVAL);
    CHECK_EQ_INT(yc_metrics_histogram(r, "e", "h", &le, 1, up, 2, 0, &m), -EINVAL);
    CHECK_EQ_INT(yc_metrics_histogram(r, "f", "h", &ok, 1, down, 2, 0, &m), -EINVAL);
    CHECK_EQ_INT(yc_metrics_histogram(r, "g", "h", &ok, 1, up, 0, 0, &m), -EINVAL);
    CHECK_EQ_INT(yc_metrics_histogram(r, "h", "h", &ok, 1, up, 2, 19, &m), -EINVAL);
    CHECK_EQ_INT(yc_metrics_histogram(r, "i", "h", &ok, 1, up, 2, 0, &m), 0);
    /* updates of the wrong kind or series are ignored, not written somewhere else */
    yc_metrics_add(m, 0, 5);
    yc_metrics_observe(m, 1, 5);
    uint64_t counts[3] = {9, 9, 9}, sum;
    yc_metrics_histogram_value(m, 0, counts, &sum);
    CHECK_EQ_INT(counts[0] + counts[1] + counts[2], 0);
    yc_metrics_free(r);
}

static void sleepy_task(void *arg, size_t i)
{
    usleep(3000);
}

/* Drive lanes time the fan-out tasks they run (what a caller waited for each drive), into the
 * lane's own series; a lane run on the caller (NULL) and a lane no longer timed count nothing. */
TEST(test_metrics_lane_times_fanout_tasks)
{
    static const char *const drives[] = {"d1", "d2"};
    const uint64_t bounds[] = {1000000, 1000000000}; /* 1 ms, 1 s */
    yc_metrics_label_t l = {"drive", drives, 2};
    yc_metrics_t *r;
    yc_metric_t *h;
    yc_lane_t *lanes[3] = {NULL, NULL, NULL};
    uint64_t counts[3], sum;

    CHECK_EQ_INT(yc_metrics_new(&r), 0);
    CHECK_EQ_INT(yc_metrics_histogram(r, "d_seconds", "d", &l, 1, bounds, 2, 9, &h), 0);
    CHECK_EQ_INT(yc_lane_new(1, &lanes[0]), 0);
    CHECK_EQ_INT(yc_lane_new(1, &lanes[1]), 0);
    yc_lane_time(lanes[0], h, 0);
    yc_lane_time(lanes[1], h, 1);
    yc_fanout_run(lanes, 3, sleepy_task, NULL);
    yc_fanout_run(lanes, 2, sleepy_task, NULL);
    for (size_t d = 0; d < 2; d++) {
        yc_metrics_histogram_value(h, d, counts, &sum);
        CHECK_EQ_INT(counts[0], 0); /* none under 1 ms: each slept 3 */
        CHECK_EQ_INT(counts[1], 2);
        CHECK(sum >= 6000000 && sum < 2000000000);
    }
    yc_lane_time(lanes[0], NULL, 0);
    yc_fanout_run(lanes, 2, sleepy_task, NULL);
    yc_metrics_histogram_value(h, 0, counts, &sum);
    CHECK_EQ_INT(counts[1], 2);
    yc_metrics_histogram_value(h, 1, counts, &sum);
    CHECK_EQ_INT(counts[1], 3);
    yc_lane_free(lanes[0]);
    yc_lane_free(lanes[1]);
    yc_metrics_free(r);
}

int main(void)
{
    RUN(test_metrics_series_index_when_labels_combine);
    RUN(test_metrics_totals_exact_when_threads_update_at_once);
    RUN(test_metrics_histogram_renders_cumulative_buckets_with_exact_decimals);
    RUN(test_metrics_render_plain_families_in_order);
    RUN(test_metrics_label_values_escaped_when_awkward);
    RUN(test_metrics_refuses_bad_names_and_shapes);
    RUN(test_metrics_lane_times_fanout_tasks);
    return unit_done();
}
