/* gw_server.c — the gateway process: configuration, drives, worker pools, the healer and the
 * orphan collector, identities, and the event loops with their listeners.
 *
 * Each loop thread owns its own SO_REUSEPORT listener, so the kernel spreads connections over
 * the loops and no lock sits on the accept path (common/server.h), and serves it with an HTTP
 * server of the project's own layer (common/http.h): requests come head first, bodies are pulled
 * with back-pressure, and the layer's timers and limits (head, body, send and keep-alive
 * timeouts, head size, header count, connections) are the gateway's settings. Every request goes
 * to the router (gw_s3.h) with the services it may use (gw_env_t, gw_request.h): this file knows
 * the router's entry point and nothing of the handlers, which know nothing of this file.
 */
#include "gateway/gw_server.h"
#include "common/log.h"
#include "common/server.h"
#include "gateway/gw_heal.h"
#include "gateway/gw_iam.h"
#include "gateway/gw_object.h"
#include "gateway/gw_request.h"
#include "gateway/gw_s3.h"
#include <ctype.h>
#include <errno.h>
#include <malloc.h>
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
    store_gc_t *gc;
    yc_server_t *http;          /* the loops and listeners */
    yc_http_server_t **servers; /* the HTTP server of each loop (NULL until the loop made it) */
    size_t nservers;
    yc_http_config_t http_cfg;
    h2o_iovec_t *domains; /* virtual-host endpoint domains, lowercase */
    size_t ndomains;
    char **drive_paths;
};

/* ---------------------------------------------------------------- start-up */

/* What a loop's HTTP server hands its requests with. */
typedef struct {
    gw_server_t *srv;
    yc_loop_t *jobs;
} loop_arg_t;

static void on_request(yc_http_req_t *req)
{
    loop_arg_t *la = req->arg;
    gw_s3_serve(&la->srv->env, la->jobs, req);
}

static size_t error_page(void *arg, int *status, const char **content_type, char *buf, size_t cap)
{
    loop_arg_t *la = arg;
    return gw_request_error_page(&la->srv->env, status, content_type, buf, cap);
}

/* On each loop's thread: its HTTP server on its listener. */
static int on_loop(void *arg, h2o_loop_t *loop, yc_loop_t *jobs, int fd, size_t index)
{
    gw_server_t *srv = arg;
    loop_arg_t *la = malloc(sizeof(*la));
    yc_http_config_t cfg = srv->http_cfg;
    yc_http_server_t *http;
    int ret;

    if (la == NULL)
        return -ENOMEM;
    *la = (loop_arg_t){srv, jobs};
    cfg.arg = la;
    if ((ret = yc_http_server_new(loop, &cfg, &http)) != 0 || (ret = yc_http_server_listen(http, fd)) != 0) {
        yc_log(YC_LOG_ERROR, "event=loop_failed loop=%zu err=%s", index, yc_errname(ret));
        return ret;
    }
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
    uint8_t salt[META_ID_LEN];
    yc_random_id(salt);
    memcpy(&srv->env.request_salt, salt, sizeof(srv->env.request_salt));
    signal(SIGPIPE, SIG_IGN);
    if ((ret = make_dirs(cfg->data_dir)) != 0)
        goto fail;

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
                              .drive_reserve = cfg->drive_reserve};
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
    if ((ret = gw_healer_start(srv->cluster, &srv->healer)) != 0)
        goto fail;
    start_orphan_collector(srv);
    if ((ret = gw_iam_open(srv->cluster, cfg->root_user, cfg->root_password, &srv->iam)) != 0)
        goto fail;
    if ((ret = load_domains(srv, cfg->domains)) != 0)
        goto fail;
    srv->env.cfg = &srv->cfg;
    srv->env.cluster = srv->cluster;
    srv->env.pool = srv->pool;
    srv->env.read_pool = srv->read_pool;
    srv->env.iam = srv->iam;
    srv->env.healer = srv->healer;
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
    srv->env.http_stats = http_stats;
    srv->env.http_stats_arg = srv;
    if ((srv->servers = calloc(cfg->loops, sizeof(*srv->servers))) == NULL) {
        ret = -ENOMEM;
        goto fail;
    }
    srv->nservers = cfg->loops;
    yc_server_config_t loops = {.name = "yuncang", .on_loop = on_loop, .arg = srv};
    if ((ret = yc_server_new(&loops, &srv->http)) != 0 ||
        (ret = yc_server_listen(srv->http, cfg->listen_host, cfg->listen_port, cfg->loops)) != 0 ||
        (ret = yc_server_start(srv->http)) != 0)
        goto fail;
    yc_log(YC_LOG_INFO,
           "event=started listen=%s:%u drives=%zu sets=%zu ec=%u+%u loops=%zu workers=%zu max_connections=%zu "
           "nofile=%llu",
           cfg->listen_host, cfg->listen_port, srv->cluster->ndrives, srv->cluster->nsets, cfg->k, cfg->m, cfg->loops,
           cfg->workers, srv->http_cfg.max_connections, (unsigned long long)nofile);
    *out = srv;
    return 0;

fail:
    yc_log(YC_LOG_ERROR, "event=start_failed err=%s detail=\"%s\"", yc_errname(ret), yc_strerror(ret));
    return ret;
}

static volatile sig_atomic_t got_signal;
static void on_signal(int sig)
{
    got_signal = sig;
}

void gw_server_wait(gw_server_t *s)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    while (!got_signal)
        pause();
    yc_log(YC_LOG_INFO, "event=stopping signal=%d", (int)got_signal);
}

void gw_server_free(gw_server_t *s)
{
    /* The process exits right after: drives are closed so RocksDB flushes cleanly; loops are
     * left to the exit, as h2o offers no way to stop a loop blocked in epoll from outside. */
    if (s == NULL)
        return;
    yc_server_stop(s->http);
    store_gc_stop(s->gc);
    yc_pool_free(s->pool);
    yc_pool_free(s->read_pool);
    gw_cluster_close(s->cluster);
}
