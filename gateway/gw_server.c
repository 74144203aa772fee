/* gw_server.c — the gateway process: configuration, drives, worker pools, the healer and the
 * orphan collector, identities, and the event loops with their listeners.
 *
 * Each loop thread owns its own SO_REUSEPORT listener, so the kernel spreads connections over
 * the loops and no lock sits on the accept path (common/server.h); with share_port the loops of
 * other gateway processes on the same port join that spread. Each loop serves it with an HTTP
 * server of the project's own layer (common/http.h): requests come head first, bodies are pulled
 * with back-pressure, and the layer's timers and limits (head, body, send and keep-alive
 * timeouts, head size, header count, connections) are the gateway's settings. Every request goes
 * to the router (gw_s3.h) with the services it may use (gw_env_t, gw_request.h): this file knows
 * the router's entry point and nothing of the handlers, which know nothing of this file.
 *
 * Besides the S3 port, status_listen (when set) is served by an HTTP server of its own on every
 * loop: /metrics, /health/live and /health/ready. They are valid bucket names on the S3 port, so
 * they live apart, and they pass neither S3 authentication nor admission control: monitoring
 * must answer while the gateway sheds load. Every loop also runs a timer that lets admission
 * control shed the waiters whose deadline passed (a quiet gateway has no enter or leave to do it).
 *
 * Admission's door (gw_admit.h) is wired here, where requests and connections first appear: the
 * S3 listener accepts through common/listen.h's door, which asks gw_admit_door_accept with the
 * loop's lag (common/server.h) and its connections before anything is made for a connection, and
 * every request is shown to gw_admit_door as soon as its head is in, before the router sees it.
 * Both first ask the loop's connection budget (gw_admit_budget_*), which limits the connections
 * a loop that stays behind serves. What the door sheds is answered by gw_shed.h on the loop.
 */
#include "gateway/gw_server.h"
#include "common/listen.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/server.h"
#include "gateway/gw_access_log.h"
#include "gateway/gw_audit.h"
#include "gateway/gw_bucket_logging.h"
#include <openssl/crypto.h>
#include "gateway/gw_admit.h"
#include "gateway/gw_heal.h"
#include "gateway/gw_cleanup.h"
#include "gateway/gw_lifecycle.h"
#include "gateway/gw_iam.h"
#include "gateway/gw_lockout.h"
#include "gateway/gw_metrics.h"
#include "gateway/gw_object.h"
#include "gateway/gw_ready.h"
#include "gateway/gw_request.h"
#include "gateway/gw_s3.h"
#include "gateway/gw_shed.h"
#include "gateway/gw_sse.h"
#include <ctype.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct gw_server {
    gw_config_t cfg;
    gw_env_t env; /* what requests see of this server */
    gw_cluster_t *cluster;
    yc_pool_t *pool, *read_pool;
    gw_iam_t *iam;
    gw_healer_t *healer;
    gw_lifecycle_t *lifecycle;
    store_gc_t *gc;
    yc_server_t *http;          /* the loops and listeners */
    yc_http_server_t **servers; /* the HTTP server of each loop (NULL until the loop made it) */
    size_t nservers;
    yc_http_config_t http_cfg;
    gw_admit_t *admit;
    gw_metrics_t *metrics;
    gw_access_log_t *access_log;
    gw_lockout_t *lockout;
    gw_audit_t *audit;
    gw_bucket_logging_t *bucket_logging;
    int *status_fds; /* status_listen's socket of each loop; NULL when not served */
    yc_http_config_t status_cfg;
    h2o_iovec_t *domains; /* virtual-host endpoint domains, lowercase */
    size_t ndomains;
    char **drive_paths;
    gw_sse_keys_t *sse_keys;
};

/* ---------------------------------------------------------------- start-up */

/* How often each loop lets admission control shed the waiters past their deadline: a wait is
 * lengthened by at most this much on a gateway with no other request coming or going. */
#define ADMIT_EXPIRE_MS 5

/* What a loop's HTTP servers hand their requests with. */
typedef struct {
    gw_server_t *srv;
    yc_loop_t *jobs;
    h2o_timeout_t expire_timeout;
    h2o_timeout_entry_t expire_entry;
    h2o_loop_t *loop;
    yc_http_server_t *http; /* the loop's S3 server */
    uint32_t rnd;           /* the door's draws (xorshift32; this loop's thread only) */
    uint64_t iter_stamp;    /* h2o_now of the iteration the requests below came in */
    size_t iter_requests;   /* requests the door saw in that iteration */
    int64_t shed_lag;       /* the lag the door last shed a request at ... */
    uint64_t shed_at_ms;    /* ... and when (h2o_now) */
    /* the connections the loop keeps while it is behind (gw_admit.h) */
    gw_admit_budget_t budget;
} loop_arg_t;

/* How long a loop that shed a request counts as shedding for new connections: accepts come in
 * iterations of their own, between the long ones that serve requests, and would otherwise find
 * the loop's lag short. */
#define DOOR_SHEDDING_MS 100

/* How long a keep-alive connection must have been idle (or a new one silent) for a cut of the
 * loop's connection budget to close it: one idle for less is likely a client about to send. */
#define DOOR_IDLE_MS 250

/* Requests one iteration must have brought before its age counts as lag, and by how much the age
 * is divided: a burst the loop clears within DOOR_BURST_FACTOR times shed_lag_ms (200 GETs at
 * once, each a few tens of microseconds) is a burst, not a standing queue, and is not shed. */
#define DOOR_BUSY_ITERATION 16
#define DOOR_BURST_FACTOR   4

static uint32_t draw(loop_arg_t *la)
{
    uint32_t x = la->rnd;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return la->rnd = x;
}

static size_t loop_connections(loop_arg_t *la)
{
    yc_http_stats_t st;
    yc_http_server_stats(la->http, &st);
    return st.connections;
}

/* The connections the loop serves, for its budget: those answered and closing are on their way out. */
static size_t loop_serving(loop_arg_t *la)
{
    yc_http_stats_t st;
    yc_http_server_stats(la->http, &st);
    return st.connections - (st.lingering < st.connections ? st.lingering : st.connections);
}

/* How far behind the loop is for the door: its lag (the smoothed length of its iterations), or
 * the age of the iteration running now (over DOOR_BURST_FACTOR) once it brought
 * DOOR_BUSY_ITERATION requests or more. An
 * iteration can serve thousands (pipelined requests, a full poll of ready connections) before the
 * smoothed length hears of it; a long iteration that brought few requests is the scheduler's
 * doing, and one that accepted many connections is a connection burst, which costs little and
 * must not cost its connections (idle ones are held by the tens of thousands). request: a request
 * asks (counted), not a connection. */
static int64_t door_lag(loop_arg_t *la, int request)
{
    uint64_t stamp = h2o_now(la->loop);
    int64_t lag = yc_server_loop_lag_ns(la->jobs);

    if (stamp != la->iter_stamp) {
        la->iter_stamp = stamp;
        la->iter_requests = 0;
    }
    if ((la->iter_requests += request != 0) >= DOOR_BUSY_ITERATION) {
        int64_t age = yc_server_iteration_age_ns(la->jobs) / DOOR_BURST_FACTOR;
        lag = age > lag ? age : lag;
    }
    return lag;
}

static void on_request(yc_http_req_t *req)
{
    loop_arg_t *la = req->arg;
    gw_admit_t *admit = la->srv->admit;
    int64_t lag = door_lag(la, 1);
    size_t conns = loop_serving(la);
    uint64_t cuts = la->budget.cuts;
    size_t budget = gw_admit_budget_update(admit, &la->budget, lag, conns, 1);
    if (la->budget.cuts != cuts && conns > budget) /* at each cut, idle connections make room first */
        conns -= yc_http_server_close_idle(la->http, conns - budget, DOOR_IDLE_MS);
    gw_admit_door_t door = gw_admit_door_budget(admit, &la->budget, conns);
    if (door == GW_ADMIT_DOOR_OPEN)
        door = gw_admit_door(admit, lag, loop_connections(la), draw(la));

    if (door != GW_ADMIT_DOOR_OPEN) {
        la->shed_lag = lag;
        la->shed_at_ms = h2o_now(la->loop);
        gw_shed_request(&la->srv->env, req, gw_admit_retry_after(admit), door == GW_ADMIT_DOOR_CLOSE);
        return;
    }
    gw_s3_serve(&la->srv->env, la->jobs, req);
}

/* 1 when, while the loop limits its connections, the request of a connection just accepted has
 * waited in the backlog longer than shed_lag_ms: served now, it would be served late anyway. */
static int budget_late(loop_arg_t *la, int fd)
{
    gw_admit_t *admit = la->srv->admit;
    if (!gw_admit_budget_cut(admit, &la->budget))
        return 0;
    return yc_listen_pending_age_ns(fd) > (int64_t)la->srv->cfg.shed_lag_ms * 1000000;
}

/* The door at accept: a loop that shed a request within DOOR_SHEDDING_MS, still sheds and holds
 * shed_connections answers a new connection at once and closes it. Only a loop shedding requests
 * does: connections alone, by the tens of thousands, are held (idle ones cost no CPU). */
static size_t refuse_connection(void *arg, int fd, char *buf, size_t cap)
{
    loop_arg_t *la = arg;
    gw_admit_t *admit = la->srv->admit;
    size_t conns = loop_serving(la);

    gw_admit_budget_update(admit, &la->budget, door_lag(la, 0), conns, 0);
    if (gw_admit_door_budget_accept(admit, &la->budget, conns, budget_late(la, fd)) != GW_ADMIT_DOOR_OPEN)
        return gw_shed_accept_answer(&la->srv->env, fd, gw_admit_retry_after(admit), buf, cap);
    if (h2o_now(la->loop) - la->shed_at_ms >= DOOR_SHEDDING_MS)
        return 0;
    int64_t lag = door_lag(la, 0);
    if (la->shed_lag > lag)
        lag = la->shed_lag;
    if (gw_admit_door_accept(admit, lag, loop_connections(la), draw(la)) == GW_ADMIT_DOOR_OPEN)
        return 0;
    return gw_shed_accept_answer(&la->srv->env, fd, gw_admit_retry_after(admit), buf, cap);
}

static void serve_connection(void *arg, h2o_socket_t *sock)
{
    loop_arg_t *la = arg;
    yc_http_server_adopt(la->http, sock); /* past max_connections it is closed there */
}

static size_t error_page(void *arg, int *status, const char **content_type, char *buf, size_t cap)
{
    loop_arg_t *la = arg;
    return gw_request_error_page(&la->srv->env, status, content_type, buf, cap);
}

static void on_admit_expire(h2o_timeout_entry_t *e)
{
    loop_arg_t *la = H2O_STRUCT_FROM_MEMBER(loop_arg_t, expire_entry, e);
    gw_admit_expire(la->srv->admit);
    h2o_timeout_link(la->loop, &la->expire_timeout, &la->expire_entry);
}

/* ---------------------------------------------------------------- the status port */

/* /metrics is rendered on a read worker: it reads drives' space and RocksDB's properties. */
typedef struct {
    yc_job_t job;
    yc_http_req_t *req;
    gw_metrics_t *metrics;
    char *body;
    size_t len;
    int ret;
} metrics_job_t;

static void metrics_render(yc_job_t *job)
{
    metrics_job_t *mj = (metrics_job_t *)job;
    mj->ret = gw_metrics_render(mj->metrics, &mj->body, &mj->len);
}

static void status_send(yc_http_req_t *req, int status, const char *content_type, const char *body, size_t len)
{
    yc_http_header_t h[2] = {
        {h2o_iovec_init(H2O_STRLIT("content-type")), h2o_iovec_init(content_type, strlen(content_type))},
        {h2o_iovec_init(H2O_STRLIT("cache-control")), h2o_iovec_init(H2O_STRLIT("no-store"))}};
    yc_http_send(req, status, NULL, h, 2, h2o_iovec_init(body, len));
}

static void metrics_done(yc_job_t *job)
{
    metrics_job_t *mj = (metrics_job_t *)job;
    if (mj->ret == 0)
        status_send(mj->req, 200, YC_METRICS_CONTENT_TYPE, mj->body, mj->len);
    else
        status_send(mj->req, 500, "text/plain; charset=utf-8", H2O_STRLIT("out of memory\n"));
    free(mj->body);
    free(mj);
}

static void on_status_request(yc_http_req_t *req)
{
    loop_arg_t *la = req->arg;
    gw_server_t *srv = la->srv;
    const char *json = "application/json";

    if (!h2o_memis(req->method.base, req->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD"))) {
        status_send(req, 405, "text/plain; charset=utf-8", H2O_STRLIT("GET or HEAD only\n"));
        return;
    }
    if (h2o_memis(req->path.base, req->path.len, H2O_STRLIT("/metrics"))) {
        metrics_job_t *mj = calloc(1, sizeof(*mj));
        if (mj == NULL) {
            status_send(req, 503, "text/plain; charset=utf-8", H2O_STRLIT("out of memory\n"));
            return;
        }
        mj->req = req;
        mj->metrics = srv->metrics;
        mj->job.run = metrics_render;
        mj->job.done = metrics_done;
        mj->job.loop = la->jobs;
        yc_pool_submit(srv->read_pool, &mj->job);
        return;
    }
    if (h2o_memis(req->path.base, req->path.len, H2O_STRLIT("/health/live"))) {
        const char *body;
        size_t len;
        int status = gw_live_answer(&body, &len);
        status_send(req, status, json, body, len);
        return;
    }
    if (h2o_memis(req->path.base, req->path.len, H2O_STRLIT("/health/ready"))) {
        char *body = NULL;
        size_t len = 0;
        int status = gw_ready_answer(srv->cluster, &body, &len);
        if (body != NULL)
            status_send(req, status, json, body, len);
        else
            status_send(req, status, json, H2O_STRLIT("{\"status\":\"not_ready\"}"));
        free(body);
        return;
    }
    status_send(req, 404, "text/plain; charset=utf-8",
                H2O_STRLIT("not found: /metrics, /health/live, /health/ready\n"));
}

/* On each loop's thread: its HTTP server on its listener, the status server on its own, and the
 * admission timer. */
static int on_loop(void *arg, h2o_loop_t *loop, yc_loop_t *jobs, int fd, size_t index)
{
    gw_server_t *srv = arg;
    loop_arg_t *la = calloc(1, sizeof(*la));
    yc_http_config_t cfg = srv->http_cfg;
    yc_http_server_t *http, *status;
    int ret;

    if (la == NULL)
        return -ENOMEM;
    la->srv = srv;
    la->jobs = jobs;
    la->loop = loop;
    la->rnd = (uint32_t)(srv->env.request_salt >> 32) ^ (uint32_t)(index * 2654435761u);
    if (la->rnd == 0)
        la->rnd = 1; /* xorshift stays at 0 */
    cfg.arg = la;
    if ((ret = yc_http_server_new(loop, &cfg, &http)) != 0) {
        yc_log(YC_LOG_ERROR, "event=loop_failed loop=%zu err=%s", index, yc_errname(ret));
        return ret;
    }
    la->http = http;
    gw_admit_budget_init(srv->admit, &la->budget);
    yc_listen_door_t door = {.refuse = refuse_connection, .serve = serve_connection, .arg = la};
    if (yc_listen_door_start(loop, fd, &door) == NULL) {
        yc_log(YC_LOG_ERROR, "event=loop_failed loop=%zu err=%s", index, yc_errname(-ENOMEM));
        return -ENOMEM;
    }
    if (srv->status_fds != NULL) {
        yc_http_config_t scfg = srv->status_cfg;
        scfg.arg = la;
        if ((ret = yc_http_server_new(loop, &scfg, &status)) != 0 ||
            (ret = yc_http_server_listen(status, srv->status_fds[index])) != 0) {
            yc_log(YC_LOG_ERROR, "event=loop_failed loop=%zu listener=status err=%s", index, yc_errname(ret));
            return ret;
        }
    }
    h2o_timeout_init(loop, &la->expire_timeout, ADMIT_EXPIRE_MS);
    la->expire_entry.cb = on_admit_expire;
    h2o_timeout_link(loop, &la->expire_timeout, &la->expire_entry);
    __atomic_store_n(&srv->servers[index], http, __ATOMIC_RELEASE);
    return 0;
}

/* The HTTP layer's counters summed over the loops (any thread). */
static void http_stats(void *arg, yc_http_stats_t *out)
{
    gw_server_t *srv = arg;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < srv->nservers; i++) {
        yc_http_server_t *http = __atomic_load_n(&srv->servers[i], __ATOMIC_ACQUIRE);
        yc_http_stats_t st;
        if (http == NULL)
            continue;
        yc_http_server_stats(http, &st);
        out->connections += st.connections;
        out->input_bytes += st.input_bytes;
        out->accepted += st.accepted;
        out->refused += st.refused;
        out->requests += st.requests;
        out->layer_errors += st.layer_errors;
    }
}

/* The lifecycle worker's counters for /metrics (gw_metrics_lifecycle_fn). */
static void lifecycle_counts(void *arg, gw_metrics_lifecycle_t *out)
{
    gw_server_t *srv = arg;
    gw_lifecycle_stats_t st;

    gw_lifecycle_stats(srv->lifecycle, &st);
    out->actions[GW_LC_EXPIRE] = st.expired;
    out->actions[GW_LC_ADD_DELETE_MARKER] = st.markers_added;
    out->actions[GW_LC_REMOVE_DELETE_MARKER] = st.markers_removed;
    out->actions[GW_LC_REMOVE_NONCURRENT] = st.noncurrent_removed;
    out->actions[GW_LC_ABORT_UPLOAD] = st.uploads_aborted;
    out->actions[GW_LC_HELD] = st.held;
    out->actions[GW_LC_DEFERRED] = st.deferred;
    out->scanned = st.scanned;
    out->passes = st.passes;
    out->lease_busy = st.lease_busy;
    out->errors = st.errors;
}

/* The gauges /metrics shows of admission control and the connection layer. */
static void sample_gauges(void *arg, gw_metrics_gauges_t *out)
{
    gw_server_t *srv = arg;
    gw_admit_stats_t st;
    yc_http_stats_t hs;

    memset(out, 0, sizeof(*out));
    if (srv->admit != NULL) {
        gw_admit_stats(srv->admit, &st);
        out->inflight = (int64_t)st.inflight;
        out->queued = (int64_t)st.queued;
        out->limit = (int64_t)st.limit;
        out->delay_ns = st.delay_ns;
        out->limit_cuts = (int64_t)st.limit_cuts;
    }
    http_stats(srv, &hs);
    out->connections = (int64_t)hs.connections;
}

static const char *op_label[GW_OP__COUNT];

static int make_dirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(buf, 0700);
            *p = '/';
        }
    }
    return mkdir(buf, 0700) == 0 || errno == EEXIST ? 0 : -errno;
}

/* Lowercase copies of the domains of virtual-host addressing: the configured list, or localhost
 * and this machine's host name. */
/* The request module's hook as a request ends: its server access log line. */
static void note_request(void *arg, const gw_req_t *r, int64_t duration_ns)
{
    gw_bucket_logging_note(arg, r, duration_ns);
}

/* The ports are asked first, before any thread starts: a start that fails with threads already
 * at work (the prober, the IAM reload, the healer) exits under them, racing the libraries' exit
 * cleanup. yc_server_listen and the status listener ask again when they bind (a port can be
 * taken in between). 0 or -EADDRINUSE (-errno), logged. */
static int check_ports(const gw_config_t *cfg)
{
    char host[256];
    uint16_t port;
    int ret;

    if (!cfg->share_port && (ret = yc_listen_check_free(cfg->listen_host, cfg->listen_port)) != 0) {
        yc_log(YC_LOG_ERROR, "event=listen_failed listen=%s:%u err=%s share_port=0", cfg->listen_host, cfg->listen_port,
               yc_errname(ret));
        return ret;
    }
    if (cfg->status_listen == NULL || gw_config_split_hostport(cfg->status_listen, host, sizeof(host), &port) != 0 ||
        port == 0)
        return 0; /* a malformed one is refused where it is opened */
    if ((ret = yc_listen_check_free(host[0] != '\0' ? host : "0.0.0.0", port)) != 0)
        yc_log(YC_LOG_ERROR, "event=status_listen_failed status_listen=%s err=%s", cfg->status_listen, yc_errname(ret));
    return ret;
}

/* Opens the audit trail when audit_dir is set; the key is read once and kept only by the trail. A
 * server asked for an audit trail does not start without it: requests would go unrecorded. */
static int open_audit(const gw_config_t *cfg, gw_audit_t **out)
{
    uint8_t key[GW_AUDIT_KEY_MAX];
    size_t key_len = 0;
    int ret;

    *out = NULL;
    if (cfg->audit_dir == NULL)
        return 0;
    if ((ret = gw_audit_key_load(cfg->audit_key_file, cfg->audit_key_env, key, &key_len)) != 0) {
        yc_log(YC_LOG_ERROR,
               "event=audit_key_failed err=%s detail=\"the audit key must be %d to %d bytes, from "
               "audit_key_file or audit_key_env\"",
               yc_errname(ret), GW_AUDIT_KEY_MIN, GW_AUDIT_KEY_MAX);
        return ret;
    }
    gw_audit_options_t opt = {.dir = cfg->audit_dir,
                              .key = key,
                              .key_len = key_len,
                              .checkpoint_records = cfg->audit_checkpoint_records,
                              .checkpoint_ms = cfg->audit_checkpoint_ms,
                              .rotate_bytes = cfg->audit_rotate_bytes,
                              .rotate_seconds = cfg->audit_rotate_seconds,
                              .retain_seconds = cfg->audit_retain_days * 86400,
                              .queue_max = cfg->audit_queue};
    ret = gw_audit_open(&opt, out);
    OPENSSL_cleanse(key, sizeof(key));
    if (ret != 0)
        yc_log(YC_LOG_ERROR, "event=audit_open_failed dir=%s err=%s", cfg->audit_dir, yc_errname(ret));
    return ret;
}

static int load_domains(gw_server_t *srv, const char *list)
{
    char host[256], fallback[300];
    size_t n;

    if (list == NULL) {
        if (gethostname(host, sizeof(host)) != 0)
            host[0] = '\0';
        host[sizeof(host) - 1] = '\0';
        snprintf(fallback, sizeof(fallback), "localhost %s", host);
        list = fallback;
    }
    n = gw_config_split_drives(list, NULL, 0);
    char **names = calloc(n > 0 ? n : 1, sizeof(*names));
    if ((srv->domains = calloc(n > 0 ? n : 1, sizeof(*srv->domains))) == NULL || names == NULL) {
        free(names);
        return -ENOMEM;
    }
    n = gw_config_split_drives(list, names, n);
    for (size_t i = 0; i < n; i++) {
        for (char *p = names[i]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        /* the same name twice (localhost as the host name) would only cost a comparison */
        srv->domains[srv->ndomains++] = h2o_iovec_init(names[i], strlen(names[i]));
    }
    free(names);
    return 0;
}

static void on_gc_report(void *arg, const char *drive, size_t removed, int ret)
{
    yc_log(ret == 0 ? YC_LOG_INFO : YC_LOG_WARN, "event=orphans_collected drive=%s removed=%zu err=%s", drive, removed,
           yc_errname(ret));
}

/* Shards left without a record by a crash (ours or a writer's) go in the background; remote
 * drives are collected by their yc-store daemons. */
static void start_orphan_collector(gw_server_t *srv)
{
    gw_cluster_t *c = srv->cluster;
    store_drive_t **locals = calloc(c->ndrives, sizeof(*locals));
    size_t n = 0;
    if (locals == NULL)
        return;
    for (size_t i = 0; i < c->ndrives; i++)
        if (c->drives[i].local != NULL)
            locals[n++] = c->drives[i].local;
    if (n > 0 &&
        store_gc_start(locals, n, (int64_t)srv->cfg.orphan_grace * 1000000000, on_gc_report, NULL, &srv->gc) != 0)
        srv->gc = NULL;
    free(locals);
}

int gw_server_start(const gw_config_t *cfg, gw_server_t **out)
{
    gw_server_t *srv = calloc(1, sizeof(*srv));
    char path[4096];
    int ret;

    if (srv == NULL)
        return -ENOMEM;
    srv->cfg = *cfg;
    /* Signals go to gw_server_wait (sigwait), not to whichever thread runs: blocked here, before
     * any thread is made, every thread inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    if ((ret = check_ports(cfg)) != 0)
        goto fail;
    /* refuse to start without the access log asked for: requests would go unrecorded */
    if ((ret = gw_access_log_open(cfg->access_log, &srv->access_log)) != 0) {
        yc_log(YC_LOG_ERROR, "event=access_log_failed target=%s err=%s", cfg->access_log, yc_errname(ret));
        goto fail;
    }
    if ((ret = open_audit(cfg, &srv->audit)) != 0)
        goto fail;
    uint8_t salt[META_ID_LEN];
    yc_random_id(salt);
    memcpy(&srv->env.request_salt, salt, sizeof(srv->env.request_salt));
    signal(SIGPIPE, SIG_IGN);
    if ((ret = make_dirs(cfg->data_dir)) != 0)
        goto fail;
    char sse_err[256];
    if ((ret = gw_sse_keys_load(cfg, &srv->sse_keys, sse_err, sizeof(sse_err))) != 0) {
        yc_log(YC_LOG_ERROR, "event=sse_keys_failed detail=\"%s\"", sse_err);
        goto fail;
    }

    /* before any thread opens a file: connections are budgeted from the open-file limit */
    uint64_t nofile = 0;
    yc_http_raise_nofile(&nofile);
    /* Buffers of a stripe or more (request body rings, GET chunks' decoded stripes) come and go
     * with requests: mapped apart, they go back to the system when freed, so that a peak of
     * them does not stay in the process's memory (glibc would otherwise raise the threshold
     * after the first such free and keep them in its heaps). */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    size_t ndrives = cfg->ndrives;
    if (cfg->drives_list != NULL)
        ndrives = gw_config_split_drives(cfg->drives_list, NULL, 0);
    if ((srv->drive_paths = calloc(ndrives, sizeof(char *))) == NULL) {
        ret = -ENOMEM;
        goto fail;
    }
    if (cfg->drives_list != NULL) {
        gw_config_split_drives(cfg->drives_list, srv->drive_paths, ndrives);
    } else {
        for (size_t i = 0; i < ndrives; i++) {
            snprintf(path, sizeof(path), "%s/drive%zu", cfg->data_dir, i + 1);
            srv->drive_paths[i] = strdup(path);
        }
    }
    gw_cluster_config_t cc = {.drive_specs = (const char *const *)srv->drive_paths,
                              .ndrives = ndrives,
                              .cluster_secret = cfg->cluster_secret,
                              .k = cfg->k,
                              .m = cfg->m,
                              .stripe_size = cfg->stripe_size,
                              .inline_max = cfg->inline_max,
                              .lane_threads = cfg->lane_threads,
                              .drive_reserve = cfg->drive_reserve,
                              .internode_tls_cert = cfg->internode_tls_cert,
                              .internode_tls_key = cfg->internode_tls_key,
                              .internode_tls_ca = cfg->internode_tls_ca};
    if ((ret = gw_cluster_open(&cc, &srv->cluster)) != 0)
        goto fail;
    for (size_t i = 0; i < srv->cluster->ndrives; i++) {
        gw_drive_t *d = &srv->cluster->drives[i];
        uint64_t free_bytes, reserve;
        if (d->local == NULL)
            continue;
        store_drive_space(d->local, &free_bytes, &reserve);
        /* a drive too full to open its database for writing serves reads until space is freed */
        yc_log(meta_db_read_only(store_drive_db(d->local)) ? YC_LOG_WARN : YC_LOG_INFO,
               "event=drive_opened drive=%s free=%llu reserve=%llu read_only=%d", d->path,
               (unsigned long long)free_bytes, (unsigned long long)reserve,
               meta_db_read_only(store_drive_db(d->local)));
    }
    if ((ret = yc_pool_new(cfg->workers, &srv->pool)) != 0 ||
        (ret = yc_pool_new(cfg->read_workers, &srv->read_pool)) != 0)
        goto fail;
    gw_admit_config_t acfg;
    gw_admit_config_from(cfg, &acfg);
    if ((ret = gw_admit_new(&acfg, &srv->admit)) != 0)
        goto fail;
    if ((ret = gw_healer_start(srv->cluster, &srv->healer)) != 0)
        goto fail;
    gw_healer_set_admit(srv->healer, srv->admit); /* heals wait behind client requests */
    gw_cleanup_t *cleanup;                        /* owned through srv->cluster->cleanup */
    if ((ret = gw_cleanup_start(srv->cluster, &cleanup)) != 0)
        goto fail;
    gw_lifecycle_config_t lcfg = {.day_ns = (int64_t)cfg->lifecycle_day_seconds * 1000000000,
                                  .interval_ns = (int64_t)cfg->lifecycle_interval * 1000000000,
                                  .lease_ns = (int64_t)cfg->lifecycle_lease * 1000000000,
                                  .rate = cfg->lifecycle_rate};
    /* lifecycle actions take background slots too: after client requests */
    if ((ret = gw_lifecycle_new(srv->cluster, &lcfg, srv->admit, &srv->lifecycle)) != 0)
        goto fail;
    for (size_t i = 0; i < GW_OP__COUNT; i++)
        op_label[i] = gw_op_name((gw_op_t)i);
    gw_metrics_config_t mcfg = {.op_names = op_label,
                                .nops = GW_OP__COUNT,
                                .cluster = srv->cluster,
                                .access_log = srv->access_log,
                                .audit = srv->audit,
                                .sample = sample_gauges,
                                .sample_arg = srv,
                                .lc = lifecycle_counts,
                                .lc_arg = srv};
    if ((ret = gw_metrics_new(&mcfg, &srv->metrics)) != 0)
        goto fail;
    start_orphan_collector(srv);
    if ((ret = gw_lifecycle_start(srv->lifecycle)) != 0)
        goto fail;
    gw_secret_keys_t *secret_keys = NULL; /* taken by the IAM table */
    char secret_err[256];
    if ((ret = gw_secret_keys_load(cfg, &secret_keys, secret_err, sizeof(secret_err))) != 0) {
        yc_log(YC_LOG_ERROR, "event=secrets_keys_failed detail=\"%s\"", secret_err);
        goto fail;
    }
    if ((ret = gw_iam_open_sealed(srv->cluster, cfg->root_user, cfg->root_password, (uint32_t)cfg->iam_refresh,
                                  secret_keys, &srv->iam)) != 0)
        goto fail;
    if ((ret = load_domains(srv, cfg->domains)) != 0)
        goto fail;
    gw_lockout_config_t lockout_cfg = {.failures = cfg->lockout_failures,
                                       .window_ns = (int64_t)cfg->lockout_window * 1000000000,
                                       .lock_ns = (int64_t)cfg->lockout_seconds * 1000000000};
    if ((ret = gw_lockout_new(&lockout_cfg, &srv->lockout)) != 0)
        goto fail;
    if ((ret = gw_bucket_logging_new(srv->cluster, cfg->logging_interval, &srv->bucket_logging)) != 0)
        goto fail;
    srv->env.cfg = &srv->cfg;
    srv->env.cluster = srv->cluster;
    srv->env.pool = srv->pool;
    srv->env.read_pool = srv->read_pool;
    srv->env.iam = srv->iam;
    srv->env.healer = srv->healer;
    srv->env.admit = srv->admit;
    srv->env.metrics = srv->metrics;
    srv->env.access_log = srv->access_log;
    srv->env.lockout = srv->lockout;
    srv->env.sse_keys = srv->sse_keys;
    srv->env.audit = srv->audit;
    srv->env.bucket_logging = srv->bucket_logging;
    srv->env.request_ended = note_request;
    srv->env.domains = srv->domains;
    srv->env.ndomains = srv->ndomains;

    yc_http_config_init(&srv->http_cfg);
    srv->http_cfg.max_head_bytes = cfg->max_head_bytes;
    srv->http_cfg.max_headers = cfg->max_headers;
    srv->http_cfg.head_timeout_ms = cfg->head_timeout * 1000;
    srv->http_cfg.body_timeout_ms = cfg->body_timeout * 1000;
    srv->http_cfg.send_timeout_ms = cfg->send_timeout * 1000;
    srv->http_cfg.keepalive_timeout_ms = cfg->keepalive_timeout * 1000;
    /* kept for drives' files and RocksDB: 64 descriptors a drive and some */
    srv->http_cfg.max_connections = cfg->max_connections > 0
                                        ? cfg->max_connections
                                        : yc_http_connection_budget(256 + 64 * srv->cluster->ndrives, cfg->loops);
    srv->http_cfg.server_name = "yuncang";
    srv->http_cfg.on_request = on_request;
    srv->http_cfg.error_page = error_page;
    srv->http_cfg.tls_cert_file = cfg->tls_cert;
    srv->http_cfg.tls_key_file = cfg->tls_key;
    srv->http_cfg.http2 = cfg->http2 != 0;
    /* the status port: cleartext, few connections, short timers (a scraper or a balancer) */
    yc_http_config_init(&srv->status_cfg);
    srv->status_cfg.max_connections = 64;
    srv->status_cfg.server_name = "yuncang";
    srv->status_cfg.on_request = on_status_request;
    srv->status_cfg.http2 = 0;
    srv->env.http_stats = http_stats;
    srv->env.http_stats_arg = srv;
    if ((srv->servers = calloc(cfg->loops, sizeof(*srv->servers))) == NULL) {
        ret = -ENOMEM;
        goto fail;
    }
    srv->nservers = cfg->loops;
    if (cfg->status_listen != NULL) {
        char host[256];
        uint16_t port;
        if (gw_config_split_hostport(cfg->status_listen, host, sizeof(host), &port) != 0) {
            ret = -EINVAL;
            goto fail;
        }
        if ((srv->status_fds = calloc(cfg->loops, sizeof(int))) == NULL) {
            ret = -ENOMEM;
            goto fail;
        }
        const char *status_host = host[0] != '\0' ? host : "0.0.0.0";
        if (port != 0 && (ret = yc_listen_check_free(status_host, port)) != 0) {
            yc_log(YC_LOG_ERROR, "event=status_listen_failed status_listen=%s err=%s", cfg->status_listen,
                   yc_errname(ret));
            goto fail;
        }
        for (size_t i = 0; i < cfg->loops; i++)
            if ((srv->status_fds[i] = yc_listen_open(status_host, port)) < 0) {
                ret = srv->status_fds[i];
                yc_log(YC_LOG_ERROR, "event=status_listen_failed status_listen=%s err=%s", cfg->status_listen,
                       yc_errname(ret));
                goto fail;
            }
    }
    yc_server_config_t loops = {.name = "yuncang", .on_loop = on_loop, .arg = srv, .share_port = cfg->share_port != 0};
    /* said once, so that a port shared by mistake shows in the log. Not probed for other
     * listeners: a probe binds the port for a moment without SO_REUSEPORT, and a gateway starting
     * beside this one would meet it and fail. */
    if (cfg->share_port)
        yc_log(YC_LOG_INFO, "event=listen_shared listen=%s:%u", cfg->listen_host, cfg->listen_port);
    if ((ret = yc_server_new(&loops, &srv->http)) != 0 ||
        (ret = yc_server_listen(srv->http, cfg->listen_host, cfg->listen_port, cfg->loops)) != 0 ||
        (ret = yc_server_start(srv->http)) != 0)
        goto fail;
    yc_log(YC_LOG_INFO,
           "event=started listen=%s:%u tls=%d status_listen=%s drives=%zu sets=%zu ec=%u+%u loops=%zu workers=%zu "
           "max_connections=%zu nofile=%llu",
           cfg->listen_host, cfg->listen_port, cfg->tls_cert != NULL, cfg->status_listen ? cfg->status_listen : "off",
           srv->cluster->ndrives, srv->cluster->nsets, cfg->k, cfg->m, cfg->loops, cfg->workers,
           srv->http_cfg.max_connections, (unsigned long long)nofile);
    *out = srv;
    return 0;

fail:
    yc_log(YC_LOG_ERROR, "event=start_failed err=%s detail=\"%s\"", yc_errname(ret), yc_strerror(ret));
    return ret;
}

void gw_server_wait(gw_server_t *s)
{
    sigset_t sigs;
    int sig = 0;

    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    for (;;) {
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            break;
        /* a rotation moved the file away: the writer opens the path anew */
        yc_log(YC_LOG_INFO, "event=access_log_reopen");
        gw_access_log_reopen(s->access_log);
    }
    yc_log(YC_LOG_INFO, "event=stopping signal=%d", sig);
}

void gw_server_free(gw_server_t *s)
{
    /* The process exits right after: drives are closed so RocksDB flushes cleanly; loops are
     * left to the exit, as h2o offers no way to stop a loop blocked in epoll from outside.
     * Order: nothing may use what goes next — the lanes' timing before the cluster, the healer
     * (a heal in progress uses the cluster) before the cluster, the log last (the metrics and
     * the cluster's shutdown may still count or write). */
    if (s == NULL)
        return;
    yc_server_stop(s->http);
    store_gc_stop(s->gc);
    yc_pool_free(s->pool);
    yc_pool_free(s->read_pool);
    /* the loops are not joined: a request they still end finds no metrics and no log rather
     * than freed ones */
    __atomic_store_n(&s->env.metrics, NULL, __ATOMIC_RELEASE);
    __atomic_store_n(&s->env.access_log, NULL, __ATOMIC_RELEASE);
    __atomic_store_n(&s->env.lockout, NULL, __ATOMIC_RELEASE);
    __atomic_store_n(&s->env.audit, NULL, __ATOMIC_RELEASE);
    __atomic_store_n(&s->env.request_ended, NULL, __ATOMIC_RELEASE);
    gw_bucket_logging_free(s->bucket_logging); /* delivers what it holds: before the cluster goes */
    gw_metrics_free(s->metrics);
    gw_lifecycle_free(s->lifecycle); /* a pass in progress uses the cluster and the admission control */
    if (s->cluster != NULL)
        gw_cleanup_stop(s->cluster->cleanup); /* notes keys to the healer: before it stops */
    gw_healer_stop(s->healer);
    gw_cluster_close(s->cluster);
    gw_access_log_close(s->access_log);
    gw_lockout_free(s->lockout);
    gw_sse_keys_free(s->sse_keys);
    gw_audit_close(s->audit);
}
