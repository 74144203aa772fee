/* metrics_dump — prints what the observability modules produce, for tests that read it with
 * other parsers (tests/integration/test_metrics.py: Prometheus' own text parser, Python's json):
 *
 *   metrics_dump registry        a registry of every kind with awkward label values and known counts
 *   metrics_dump gateway DIR     gw_metrics over a 4+2 cluster of local drives under DIR whose
 *                                names are awkward (quote, backslash, newline, bytes not UTF-8),
 *                                the first of them offline, after a few recorded requests
 *   metrics_dump ready DIR       the same cluster's /health/ready answer: "STATUS\nBODY"
 *   metrics_dump access FILE     access-log lines with hostile fields, written to FILE
 */
#include "common/metrics.h"
#include "gateway/gw_access_log.h"
#include "gateway/gw_metrics.h"
#include "gateway/gw_ready.h"
#include "gateway/gw_request.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int dump_registry(void)
{
    static const char *const awkward[] = {"plain", "q\"uote", "back\\slash", "new\nline", "bad\xff", "\xe4\xba\x91"};
    static const char *const codes[] = {"200", "503"};
    static const uint64_t bounds[] = {500000, 1000000, 2500000000ULL};
    yc_metrics_label_t labels[] = {{"drive", awkward, 6}, {"code", codes, 2}};
    yc_metrics_t *r;
    yc_metric_t *c, *g, *h;
    char *text;
    size_t len;

    if (yc_metrics_new(&r) != 0 ||
        yc_metrics_counter(r, "t_requests_total", "Requests \\ with\nhelp.", labels, 2, &c) ||
        yc_metrics_gauge(r, "t_temperature", "A gauge.", labels, 1, &g) ||
        yc_metrics_histogram(r, "t_latency_seconds", "Latency.", labels, 1, bounds, 3, 9, &h))
        return 1;
    for (size_t d = 0; d < 6; d++) {
        yc_metrics_add(c, yc_metrics_series(c, (size_t[]){d, 1}, 2), d + 1);
        yc_metrics_set(g, d, -(int64_t)d);
        for (size_t i = 0; i <= d; i++)
            yc_metrics_observe(h, d, 400000 * (i + 1)); /* 0.4 ms, 0.8 ms, 1.2 ms ... */
    }
    if (yc_metrics_render(r, &text, &len) != 0)
        return 1;
    fwrite(text, 1, len, stdout);
    free(text);
    yc_metrics_free(r);
    return 0;
}

static const char *const drive_names[6] = {"off", "d\"quote", "d\\back", "d\nnewline", "d\xff\xfe", "d\xe4\xba\x91"};

static int open_cluster(const char *dir, gw_cluster_t **out)
{
    static char paths[6][512];
    const char *specs[6];

    for (int i = 0; i < 6; i++) {
        snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, drive_names[i]);
        specs[i] = paths[i];
    }
    close(open(paths[0], O_CREAT | O_WRONLY, 0600)); /* a file where a drive should be: offline */
    gw_cluster_config_t cfg = {.drive_specs = specs,
                               .ndrives = 6,
                               .k = 4,
                               .m = 2,
                               .stripe_size = 1 << 20,
                               .inline_max = 1 << 17,
                               .lane_threads = 1};
    return gw_cluster_open(&cfg, out);
}

static void sample(void *arg, gw_metrics_gauges_t *out)
{
    out->inflight = 5;
    out->queued = 2;
    out->connections = 40;
}

static int dump_gateway(const char *dir)
{
    static const char *ops[GW_OP__COUNT];
    gw_cluster_t *c;
    gw_metrics_t *m;
    char *text;
    size_t len;

    for (int i = 0; i < GW_OP__COUNT; i++)
        ops[i] = gw_op_name((gw_op_t)i);
    if (open_cluster(dir, &c) != 0)
        return 1;
    gw_metrics_config_t cfg = {.op_names = ops, .nops = GW_OP__COUNT, .cluster = c, .sample = sample};
    if (gw_metrics_new(&cfg, &m) != 0)
        return 1;
    gw_metrics_request_done(m, GW_OP_PUT_OBJECT, 200, 1048576, 0, 12000000);
    gw_metrics_request_done(m, GW_OP_PUT_OBJECT, 403, 0, 243, 300000);
    gw_metrics_request_done(m, GW_OP_GET_OBJECT, 200, 0, 4096, 800000);
    gw_metrics_shed(m, GW_SHED_QUEUE_FULL);
    gw_metrics_body_before_auth(m, 0);
    gw_metrics_body_before_auth(m, 65536);
    gw_metrics_admission_wait(m, 150000);
    gw_metrics_drive_request(m, 2, 900000, 0);
    if (gw_metrics_render(m, &text, &len) != 0)
        return 1;
    fwrite(text, 1, len, stdout);
    free(text);
    gw_metrics_free(m);
    gw_cluster_close(c);
    return 0;
}

static int dump_ready(const char *dir)
{
    gw_cluster_t *c;
    char *body;
    size_t len;

    if (open_cluster(dir, &c) != 0)
        return 1;
    int status = gw_ready_answer(c, &body, &len);
    printf("%d\n%.*s\n", status, (int)len, body != NULL ? body : "");
    free(body);
    gw_cluster_close(c);
    return 0;
}

static int dump_access(const char *path)
{
    static const char key[] = "photos/\"x\"\\y\n\r\t\x01\x7f/\xe4\xba\x91/\xff\xc0\xaf\xed\xa0\x80/\xf0\x9f\x98\x80";
    gw_access_log_t *log;

    if (gw_access_log_open(path, &log) != 0)
        return 1;
    for (int i = 0; i < 100; i++) {
        gw_access_entry_t e = {
            .time_ns = 1796604222123456789LL + (int64_t)i * 1000000,
            .request_id = h2o_iovec_init(H2O_STRLIT("17F3A0C2D4E5B6A7")),
            .access_key = i % 2 ? h2o_iovec_init(H2O_STRLIT("AKIA\"forged\"")) : h2o_iovec_init(NULL, 0),
            .client = h2o_iovec_init(H2O_STRLIT("[::1]:53122")),
            .operation = i % 3 ? "PutObject" : NULL,
            .bucket = h2o_iovec_init(H2O_STRLIT("bucket")),
            .key = h2o_iovec_init(key, sizeof(key) - 1 - (size_t)(i % 7)), /* cut inside sequences too */
            .status = i % 2 ? 200 : 403,
            .error_code = i % 2 ? NULL : "AccessDenied",
            .bytes_in = (uint64_t)i * 1000,
            .bytes_out = 243,
            .duration_ns = (int64_t)i * 1234567,
            .user_agent = h2o_iovec_init(H2O_STRLIT("curl/7.88.1 \x1b[1m\"}")),
        };
        gw_access_log_write(log, &e);
    }
    gw_access_log_close(log);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "registry") == 0)
        return dump_registry();
    if (argc == 3 && strcmp(argv[1], "gateway") == 0)
        return dump_gateway(argv[2]);
    if (argc == 3 && strcmp(argv[1], "ready") == 0)
        return dump_ready(argv[2]);
    if (argc == 3 && strcmp(argv[1], "access") == 0)
        return dump_access(argv[2]);
    fprintf(stderr, "usage: metrics_dump registry | gateway DIR | ready DIR | access FILE\n");
    return 2;
}
