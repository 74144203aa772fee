/* metrics_bench — what sharding buys common/metrics.h: THREADS threads add to one series, once
 * to a sharded counter and once to a gauge (one cell, as a counter without shards would be),
 * and the time per add is printed for each.
 *
 *   bin/metrics_bench [THREADS] [ADDS_PER_THREAD]     (defaults 4, 5000000)
 */
#include "common/clock.h"
#include "common/metrics.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    yc_metric_t *m;
    int gauge;
    long n;
} arg_t;

static void *run(void *p)
{
    arg_t *a = p;
    for (long i = 0; i < a->n; i++) {
        if (a->gauge)
            yc_metrics_gauge_add(a->m, 0, 1);
        else
            yc_metrics_add(a->m, 0, 1);
    }
    return NULL;
}

static double measure(yc_metric_t *m, int gauge, int threads, long n)
{
    pthread_t t[256];
    arg_t a = {m, gauge, n};
    int64_t start = yc_mono_ns();

    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, run, &a);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    return (double)(yc_mono_ns() - start) / ((double)n * threads);
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    long n = argc > 2 ? atol(argv[2]) : 5000000;
    yc_metrics_t *r;
    yc_metric_t *c, *g;

    if (threads < 1 || threads > 256 || n < 1 || yc_metrics_new(&r) != 0 ||
        yc_metrics_counter(r, "c_total", "sharded", NULL, 0, &c) != 0 ||
        yc_metrics_gauge(r, "g", "one cell", NULL, 0, &g) != 0) {
        fprintf(stderr, "usage: metrics_bench [THREADS 1..256] [ADDS_PER_THREAD]\n");
        return 2;
    }
    printf("threads=%d adds_per_thread=%ld\n", threads, n);
    printf("one cell:   %.2f ns/add (wall time over all threads)\n", measure(g, 1, threads, n));
    printf("sharded:    %.2f ns/add\n", measure(c, 0, threads, n));
    yc_metrics_free(r);
    return 0;
}
