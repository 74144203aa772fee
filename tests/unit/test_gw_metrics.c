/* test_gw_metrics — the gateway's metrics and health answers over a real cluster of local drives
 * (real RocksDB, drives made offline by putting a file where a drive's folder should be):
 * requests counted by operation and status, drives' states and sets' quorum, RocksDB figures of
 * local drives, the sampled gauges, the healer's counts, and /health/ready's rule and body. */
#include "gateway/gw_heal.h"
#include "gateway/gw_metrics.h"
#include "gateway/gw_ready.h"
#include "gateway/gw_request.h"
#include "meta/meta.h"
#include "store/store.h"
#include "tests/unit/unit.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

static const char *op_names[GW_OP__COUNT];

typedef struct {
    char root[64];
    char paths[6][96];
    gw_cluster_t *c;
} fixture_t;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

/* A 4+2 cluster under a fresh folder whose first `offline` drives are files, not folders. */
static int fixture_open(fixture_t *f, int offline)
{
    const char *specs[6];

    snprintf(f->root, sizeof(f->root), "/tmp/yc-test-gwmetrics-XXXXXX");
    if (mkdtemp(f->root) == NULL)
        return -1;
    for (int i = 0; i < 6; i++) {
        snprintf(f->paths[i], sizeof(f->paths[i]), "%s/drive%d", f->root, i + 1);
        specs[i] = f->paths[i];
        if (i < offline)
            close(open(f->paths[i], O_CREAT | O_WRONLY, 0600));
    }
    gw_cluster_config_t cfg = {.drive_specs = specs,
                               .ndrives = 6,
                               .k = 4,
                               .m = 2,
                               .stripe_size = 1 << 20,
                               .inline_max = 128 * 1024,
                               .lane_threads = 1};
    return gw_cluster_open(&cfg, &f->c);
}

static void fixture_close(fixture_t *f)
{
    gw_cluster_close(f->c);
    nftw(f->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int new_metrics(gw_cluster_t *c, gw_metrics_sample_fn sample, void *arg, gw_metrics_t **out)
{
    for (int i = 0; i < GW_OP__COUNT; i++)
        op_names[i] = gw_op_name((gw_op_t)i);
    gw_metrics_config_t cfg = {
        .op_names = op_names, .nops = GW_OP__COUNT, .cluster = c, .sample = sample, .sample_arg = arg};
    return gw_metrics_new(&cfg, out);
}

/* Renders m and says whether the text holds line as a whole line. */
static int has_line(gw_metrics_t *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int has_line(gw_metrics_t *m, const char *fmt, ...)
{
    char want[1024], *text;
    size_t len;
    va_list ap;

    want[0] = '\n';
    va_start(ap, fmt);
    vsnprintf(want + 1, sizeof(want) - 2, fmt, ap);
    va_end(ap);
    strcat(want, "\n");
    if (gw_metrics_render(m, &text, &len) != 0)
        return 0;
    int found = strstr(text, want) != NULL;
    if (!found)
        fprintf(stderr, "  no line [%.*s]\n", (int)strlen(want) - 2, want + 1);
    free(text);
    return found;
}

/* The value of the sample whose name and labels are prefix ("name{labels}"), -1 when absent. */
static double sample_value(gw_metrics_t *m, const char *prefix)
{
    char want[1024], *text;
    size_t len;
    double v = -1;

    snprintf(want, sizeof(want), "\n%s ", prefix);
    if (gw_metrics_render(m, &text, &len) != 0)
        return -1;
    const char *at = strstr(text, want);
    if (at != NULL)
        v = strtod(at + strlen(want), NULL);
    free(text);
    return v;
}

TEST(test_metrics_requests_counted_by_operation_and_code)
{
    fixture_t f;
    gw_metrics_t *m;

    CHECK_EQ_INT(fixture_open(&f, 0), 0);
    CHECK_EQ_INT(new_metrics(f.c, NULL, NULL, &m), 0);
    gw_metrics_request_done(m, GW_OP_PUT_OBJECT, 200, 5000, 0, 2 * 1000000);
    gw_metrics_request_done(m, GW_OP_PUT_OBJECT, 200, 3000, 0, 40 * 1000000);
    gw_metrics_request_done(m, GW_OP_GET_OBJECT, 404, 0, 250, 300000);
    gw_metrics_request_done(m, GW_OP_GET_OBJECT, 418, 0, 0, 0); /* not a status of ours: "other" */
    gw_metrics_request_done(m, GW_OP_NONE, 503, 0, 0, 1000);
    gw_metrics_shed(m, GW_SHED_INFLIGHT);
    gw_metrics_body_before_auth(m, 65536);
    gw_metrics_body_before_auth(m, 65537);
    CHECK(has_line(m, "yc_requests_total{operation=\"PutObject\",code=\"200\"} 2"));
    CHECK(has_line(m, "yc_requests_total{operation=\"GetObject\",code=\"404\"} 1"));
    CHECK(has_line(m, "yc_requests_total{operation=\"GetObject\",code=\"other\"} 1"));
    CHECK(has_line(m, "yc_requests_total{operation=\"-\",code=\"503\"} 1"));
    CHECK(has_line(m, "yc_request_duration_seconds_bucket{operation=\"PutObject\",le=\"0.0025\"} 1"));
    CHECK(has_line(m, "yc_request_duration_seconds_bucket{operation=\"PutObject\",le=\"0.05\"} 2"));
    CHECK(has_line(m, "yc_request_duration_seconds_sum{operation=\"PutObject\"} 0.042"));
    CHECK(has_line(m, "yc_request_duration_seconds_count{operation=\"GetObject\"} 2"));
    CHECK(has_line(m, "yc_request_received_bytes_total{operation=\"PutObject\"} 8000"));
    CHECK(has_line(m, "yc_request_sent_bytes_total{operation=\"GetObject\"} 250"));
    CHECK(has_line(m, "yc_requests_shed_total{reason=\"inflight\"} 1"));
    CHECK(has_line(m, "yc_requests_shed_total{reason=\"queue_deadline\"} 0"));
    /* the 64 KiB bound of issue 11: one request within it, one past it */
    CHECK(has_line(m, "yc_body_read_before_auth_bytes_bucket{le=\"65536\"} 1"));
    CHECK(has_line(m, "yc_body_read_before_auth_bytes_bucket{le=\"262144\"} 2"));
    gw_metrics_free(m);
    fixture_close(&f);
}

TEST(test_metrics_drive_states_and_set_quorum_when_drives_offline)
{
    fixture_t f;
    gw_metrics_t *m;

    CHECK_EQ_INT(fixture_open(&f, 2), 0);
    CHECK_EQ_INT(new_metrics(f.c, NULL, NULL, &m), 0);
    CHECK(has_line(m, "yc_drive_up{drive=\"%s\"} 0", f.paths[0]));
    CHECK(has_line(m, "yc_drive_up{drive=\"%s\"} 1", f.paths[5]));
    CHECK(has_line(m, "yc_drive_state{drive=\"%s\",state=\"offline\"} 1", f.paths[1]));
    CHECK(has_line(m, "yc_drive_state{drive=\"%s\",state=\"ok\"} 0", f.paths[1]));
    CHECK(has_line(m, "yc_drive_state{drive=\"%s\",state=\"ok\"} 1", f.paths[2]));
    CHECK(has_line(m, "yc_set_drives_ok{set=\"0\"} 4"));
    CHECK(has_line(m, "yc_set_write_quorum{set=\"0\"} 4"));
    CHECK(has_line(m, "yc_set_writable{set=\"0\"} 1"));
    gw_metrics_drive_request(m, 3, 700000, 0);
    gw_metrics_drive_request(m, 3, 20000000000LL, 1); /* past every bound */
    CHECK(has_line(m, "yc_drive_request_duration_seconds_bucket{drive=\"%s\",le=\"0.001\"} 1", f.paths[3]));
    CHECK(has_line(m, "yc_drive_request_duration_seconds_bucket{drive=\"%s\",le=\"10\"} 1", f.paths[3]));
    CHECK(has_line(m, "yc_drive_request_duration_seconds_count{drive=\"%s\"} 2", f.paths[3]));
    CHECK(has_line(m, "yc_drive_request_errors_total{drive=\"%s\"} 1", f.paths[3]));
    gw_metrics_free(m);
    fixture_close(&f);
}

static void noop_task(void *arg, size_t i)
{
}

/* The drives' lanes time every fan-out into the drive's series, with no call from the caller. */
TEST(test_metrics_drive_latency_from_set_fanout)
{
    fixture_t f;
    gw_metrics_t *m;

    CHECK_EQ_INT(fixture_open(&f, 0), 0);
    CHECK_EQ_INT(new_metrics(f.c, NULL, NULL, &m), 0);
    gw_set_fanout(&f.c->sets[0], noop_task, NULL);
    gw_set_fanout(&f.c->sets[0], noop_task, NULL);
    for (int i = 0; i < 6; i++)
        CHECK(has_line(m, "yc_drive_request_duration_seconds_count{drive=\"%s\"} 2", f.paths[i]));
    gw_metrics_free(m);
    gw_set_fanout(&f.c->sets[0], noop_task, NULL); /* no longer timed: nothing touches the freed metrics */
    fixture_close(&f);
}

static json_t *ready_json(gw_cluster_t *c, int *status)
{
    char *body;
    size_t len;
    json_error_t err;

    *status = gw_ready_answer(c, &body, &len);
    json_t *j = body != NULL ? json_loadb(body, len, 0, &err) : NULL;
    free(body);
    return j;
}

TEST(test_ready_when_every_set_has_write_quorum)
{
    fixture_t f;
    int status;

    CHECK_EQ_INT(fixture_open(&f, 2), 0);
    json_t *j = ready_json(f.c, &status);
    CHECK(j != NULL);
    CHECK_EQ_INT(status, 200);
    CHECK(strcmp(json_string_value(json_object_get(j, "status")), "ready") == 0);
    json_t *set = json_array_get(json_object_get(j, "sets"), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(set, "ok")), 4);
    CHECK_EQ_INT(json_integer_value(json_object_get(set, "write_quorum")), 4);
    CHECK(json_is_true(json_object_get(set, "writable")));
    json_t *down = json_object_get(j, "drives_not_ok");
    CHECK_EQ_INT(json_array_size(down), 2);
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(down, 0), "state")), "offline") == 0);
    json_decref(j);
    fixture_close(&f);
}

TEST(test_not_ready_when_a_set_lacks_write_quorum)
{
    fixture_t f;
    gw_metrics_t *m;
    int status;

    CHECK_EQ_INT(fixture_open(&f, 3), 0);
    json_t *j = ready_json(f.c, &status);
    CHECK(j != NULL);
    CHECK_EQ_INT(status, 503);
    CHECK(strcmp(json_string_value(json_object_get(j, "status")), "not_ready") == 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(json_object_get(j, "sets"), 0), "ok")), 3);
    CHECK_EQ_INT(json_array_size(json_object_get(j, "drives_not_ok")), 3);
    json_decref(j);
    CHECK_EQ_INT(new_metrics(f.c, NULL, NULL, &m), 0);
    CHECK(has_line(m, "yc_set_writable{set=\"0\"} 0"));
    gw_metrics_free(m);
    fixture_close(&f);
    /* the rule on its own: 4+2 needs 4, 2+2 needs 3, 1+2 needs 2 */
    CHECK(!gw_ready_set_writable(3, 4, 2) && gw_ready_set_writable(4, 4, 2));
    CHECK(!gw_ready_set_writable(2, 2, 2) && gw_ready_set_writable(3, 2, 2));
    CHECK(!gw_ready_set_writable(1, 1, 2) && gw_ready_set_writable(2, 1, 2));
    const char *live;
    size_t len;
    CHECK_EQ_INT(gw_live_answer(&live, &len), 200);
    CHECK(len == strlen(live) && strstr(live, "\"live\"") != NULL);
}

TEST(test_metrics_rocksdb_figures_of_local_drives)
{
    fixture_t f;
    gw_metrics_t *m;
    char key[32];

    CHECK_EQ_INT(fixture_open(&f, 1), 0);
    char series[512];
    meta_db_t *db = store_drive_db(f.c->drives[4].local);
    CHECK(db != NULL);
    /* a drive holds records of its own from its start (its layout): the 300 come on top */
    CHECK_EQ_INT(new_metrics(f.c, NULL, NULL, &m), 0);
    snprintf(series, sizeof(series), "yc_rocksdb_estimated_keys{drive=\"%s\"}", f.paths[4]);
    double base = sample_value(m, series);
    CHECK(base >= 0);
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof(key), "test-%04d", i);
        CHECK_EQ_INT(meta_db_put(db, key, strlen(key), "v", 1), 0);
    }
    CHECK(sample_value(m, series) == base + 300);
    CHECK(has_line(m, "yc_rocksdb_background_errors_total{drive=\"%s\"} 0", f.paths[4]));
    CHECK(has_line(m, "yc_rocksdb_write_stopped{drive=\"%s\"} 0", f.paths[4]));
    /* the offline drive is listed, at 0 */
    CHECK(has_line(m, "yc_rocksdb_estimated_keys{drive=\"%s\"} 0", f.paths[0]));
    char *text;
    size_t len;
    CHECK_EQ_INT(gw_metrics_render(m, &text, &len), 0);
    CHECK(strstr(text, "yc_drive_free_bytes{drive=\"") != NULL &&
          strstr(text, "yc_drive_free_bytes{drive=\"x") == NULL);
    free(text);
    gw_metrics_free(m);
    fixture_close(&f);
}

static void sample(void *arg, gw_metrics_gauges_t *out)
{
    out->inflight = *(int *)arg;
    out->queued = 3;
    out->connections = 1000;
}

TEST(test_metrics_sampled_gauges_and_healer_counts)
{
    fixture_t f;
    gw_metrics_t *m;
    gw_healer_t *healer;
    int inflight = 7;

    CHECK_EQ_INT(fixture_open(&f, 0), 0);
    CHECK_EQ_INT(gw_healer_start(f.c, &healer), 0);
    CHECK_EQ_INT(new_metrics(f.c, sample, &inflight, &m), 0);
    CHECK(has_line(m, "yc_requests_inflight 7"));
    inflight = 9;
    CHECK(has_line(m, "yc_requests_inflight 9"));
    CHECK(has_line(m, "yc_requests_queued 3"));
    CHECK(has_line(m, "yc_client_connections 1000"));
    CHECK(has_line(m, "yc_heal_noted_total 0"));
    gw_heal_note(healer, (meta_bytes_t){"bk", 2}, (meta_bytes_t){"k", 1});
    CHECK(has_line(m, "yc_heal_noted_total 1"));
    CHECK(has_line(m, "yc_heal_full_running 0"));
    gw_metrics_free(m);
    gw_healer_stop(healer);
    fixture_close(&f);
}

TEST(test_metrics_without_cluster_has_request_families_only)
{
    gw_metrics_t *m;
    char *text;
    size_t len;
    gw_metrics_config_t none = {0};

    CHECK_EQ_INT(gw_metrics_new(&none, &m), -EINVAL);
    CHECK_EQ_INT(new_metrics(NULL, NULL, NULL, &m), 0);
    gw_metrics_request_done(m, 1000, 200, 0, 0, 0); /* an op past the names: the last one */
    CHECK(has_line(m, "yc_requests_total{operation=\"Admin\",code=\"200\"} 1"));
    CHECK_EQ_INT(gw_metrics_render(m, &text, &len), 0);
    CHECK(strstr(text, "yc_drive_up") == NULL && strstr(text, "yc_rocksdb") == NULL);
    free(text);
    gw_metrics_free(m);
    gw_metrics_request_done(NULL, 0, 200, 0, 0, 0); /* NULL: nothing */
}

int main(void)
{
    RUN(test_metrics_requests_counted_by_operation_and_code);
    RUN(test_metrics_drive_states_and_set_quorum_when_drives_offline);
    RUN(test_metrics_drive_latency_from_set_fanout);
    RUN(test_ready_when_every_set_has_write_quorum);
    RUN(test_not_ready_when_a_set_lacks_write_quorum);
    RUN(test_metrics_rocksdb_figures_of_local_drives);
    RUN(test_metrics_sampled_gauges_and_healer_counts);
    RUN(test_metrics_without_cluster_has_request_families_only);
    return unit_done();
}
