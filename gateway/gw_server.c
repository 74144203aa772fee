/* gw_server.c — process start-up, the event loops, admission control and the response path.
 *
 * Each loop thread owns an h2o context and its own SO_REUSEPORT listener, so the kernel spreads
 * connections over the loops and no lock sits on the accept path. Admission control counts the
 * requests in flight: past max_inflight a request is answered 503 SlowDown at once, on the loop,
 * before it costs a worker or any memory beyond its headers, so the requests already admitted
 * keep their latency and a peak cannot exhaust memory.
 */
#include "gateway/gw_server.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_heal.h"
#include "gateway/gw_iam.h"
#include "gateway/gw_listen.h"
#include "gateway/gw_log.h"
#include "gateway/gw_object.h"
#include <openssl/crypto.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    gw_server_t *srv;
    pthread_t tid;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    gw_loop_t loop;
    h2o_socket_t *listener;
    int fd;
} loop_thread_t;

struct gw_server {
    gw_config_t cfg;
    h2o_globalconf_t globalconf;
    gw_cluster_t *cluster;
    gw_pool_t *pool, *read_pool;
    gw_iam_t *iam;
    gw_healer_t *healer;
    store_gc_t *gc;
    loop_thread_t *loops;
    atomic_size_t inflight;
    atomic_uint_fast64_t next_request;
    uint64_t request_salt;
    char **drive_paths;
    volatile sig_atomic_t stopping;
};

const gw_config_t *gw_server_config(const gw_server_t *s)
{
    return &s->cfg;
}

gw_pool_t *gw_server_read_pool(gw_server_t *s)
{
    return s->read_pool;
}

gw_iam_t *gw_server_iam(gw_server_t *s)
{
    return s->iam;
}

gw_healer_t *gw_server_healer(gw_server_t *s)
{
    return s->healer;
}

/* ---------------------------------------------------------------- responses */

void gw_ctx_free(gw_ctx_t *ctx)
{
    free(ctx->body_owned);
    OPENSSL_cleanse(&ctx->sigv4, sizeof(ctx->sigv4));
    atomic_fetch_sub(&ctx->srv->inflight, 1);
    free(ctx);
}

void gw_add_header(gw_ctx_t *ctx, const char *name, const char *value, size_t len)
{
    h2o_req_t *req = ctx->req;
    /* h2o keeps pointers to both name and value: copy them, callers pass stack buffers */
    h2o_iovec_t n = h2o_strdup(&req->pool, name, strlen(name)), v = h2o_strdup(&req->pool, value, len);
    h2o_add_header_by_str(&req->pool, &req->res.headers, n.base, n.len, 1, NULL, v.base, v.len);
}

void gw_add_header_str(gw_ctx_t *ctx, const char *name, const char *value)
{
    gw_add_header(ctx, name, value, strlen(value));
}

h2o_iovec_t gw_header(const gw_ctx_t *ctx, const char *name)
{
    ssize_t i = h2o_find_header_by_str(&ctx->req->headers, name, strlen(name), -1);
    if (i < 0)
        return h2o_iovec_init(NULL, 0);
    return ctx->req->headers.entries[i].value;
}

void gw_set_error(gw_ctx_t *ctx, s3_error_t err, const char *message)
{
    ctx->error = err;
    ctx->error_message = message;
}

static int is_head(const gw_ctx_t *ctx)
{
    return h2o_memis(ctx->req->input.method.base, ctx->req->input.method.len, H2O_STRLIT("HEAD"));
}

const char *gw_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 416:
        return "Requested Range Not Satisfiable";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    default:
        return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
    }
}

static void send_body(gw_ctx_t *ctx, int status, const char *content_type, h2o_iovec_t body)
{
    static h2o_generator_t generator = {NULL, NULL};
    h2o_req_t *req = ctx->req;

    req->res.status = status;
    req->res.reason = gw_reason(status);
    if (content_type != NULL)
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type, strlen(content_type));
    if (req->res.content_length == SIZE_MAX)
        req->res.content_length = status == 304 ? SIZE_MAX : body.len;
    h2o_start_response(req, &generator);
    if (is_head(ctx) || body.len == 0)
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    else
        h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
}

static void send_error(gw_ctx_t *ctx)
{
    const s3_error_info_t *info = s3_error_info(ctx->error);
    h2o_req_t *req = ctx->req;
    h2o_iovec_t xml, msg = ctx->error_message ? h2o_iovec_init(ctx->error_message, strlen(ctx->error_message))
                                              : h2o_iovec_init(NULL, 0);
    h2o_iovec_t resource =
        req->input.query_at == SIZE_MAX ? req->input.path : h2o_iovec_init(req->input.path.base, req->input.query_at);
    s3_error_field_t fields[2];
    size_t nfields = 0;

    if (ctx->error == S3_ERR_NO_SUCH_KEY && ctx->key.len > 0)
        fields[nfields++] = (s3_error_field_t){"Key", ctx->key};
    if ((ctx->error == S3_ERR_NO_SUCH_BUCKET || ctx->error == S3_ERR_BUCKET_NOT_EMPTY) && ctx->bucket.len > 0)
        fields[nfields++] = (s3_error_field_t){"BucketName", ctx->bucket};
    if (info->status == 304) {
        req->res.content_length = SIZE_MAX;
        send_body(ctx, 304, NULL, h2o_iovec_init(NULL, 0));
        return;
    }
    s3_error_xml(&req->pool, ctx->error, msg, resource, h2o_iovec_init(ctx->request_id, strlen(ctx->request_id)),
                 h2o_iovec_init(NULL, 0), fields, nfields, &xml);
    if (info->status == 503)
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("retry-after"), 0, NULL, H2O_STRLIT("1"));
    req->res.content_length = SIZE_MAX;
    send_body(ctx, info->status, "application/xml", xml);
}

void gw_respond(gw_ctx_t *ctx)
{
    if (!ctx->client_gone) {
        if (ctx->error != S3_OK)
            send_error(ctx);
        else
            send_body(ctx, ctx->status ? ctx->status : 200, ctx->content_type, ctx->resp_body);
    }
    gw_ctx_free(ctx);
}

void gw_fail(gw_ctx_t *ctx, s3_error_t err, const char *message)
{
    gw_set_error(ctx, err, message);
    gw_respond(ctx);
}

static void job_run(gw_job_t *job)
{
    gw_ctx_t *ctx = (gw_ctx_t *)job;
    ctx->work(ctx);
}

static void job_done(gw_job_t *job)
{
    gw_ctx_t *ctx = (gw_ctx_t *)job;
    if (ctx->send != NULL)
        ctx->send(ctx);
    else
        gw_respond(ctx);
}

static void dispatch(gw_ctx_t *ctx, gw_work_fn work, gw_pool_t *pool)
{
    loop_thread_t *lt = H2O_STRUCT_FROM_MEMBER(loop_thread_t, ctx, ctx->req->conn->ctx);
    ctx->work = work;
    ctx->job.run = job_run;
    ctx->job.done = job_done;
    ctx->job.loop = &lt->loop;
    gw_pool_submit(pool, &ctx->job);
}

void gw_dispatch(gw_ctx_t *ctx, gw_work_fn work)
{
    dispatch(ctx, work, ctx->srv->pool);
}

void gw_dispatch_read(gw_ctx_t *ctx, gw_work_fn work)
{
    dispatch(ctx, work, ctx->srv->read_pool);
}

/* ---------------------------------------------------------------- request entry */

typedef struct {
    h2o_handler_t super;
    gw_server_t *srv;
} root_handler_t;

static int on_request(h2o_handler_t *self, h2o_req_t *req)
{
    gw_server_t *srv = ((root_handler_t *)self)->srv;
    gw_ctx_t *ctx;

    if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
        h2o_send_error_generic(req, 503, "Service Unavailable", "out of memory", 0);
        return 0;
    }
    ctx->req = req;
    ctx->srv = srv;
    ctx->cluster = srv->cluster;
    ctx->iam = srv->iam;
    ctx->started_ns = gw_now_ns();
    uint64_t n = atomic_fetch_add(&srv->next_request, 1);
    snprintf(ctx->request_id, sizeof(ctx->request_id), "%016llX", (unsigned long long)(n ^ srv->request_salt));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-amz-request-id"), 0, NULL,
                          h2o_strdup(&req->pool, ctx->request_id, 16).base, 16);

    if (atomic_fetch_add(&srv->inflight, 1) >= srv->cfg.max_inflight) {
        gw_fail(ctx, S3_ERR_SLOW_DOWN, NULL);
        return 0;
    }
    gw_handle_request(ctx);
    return 0;
}

/* ---------------------------------------------------------------- loops */

/* Everything of h2o that a loop owns is made on the loop's own thread: sockets take their
 * buffers from the creating thread's __thread allocator, and two loops reading into buffers
 * from one (the main thread's) would corrupt it. */
static void *loop_main(void *arg)
{
    loop_thread_t *lt = arg;

    h2o_context_init(&lt->ctx, h2o_evloop_create(), &lt->srv->globalconf);
    gw_loop_init(&lt->loop, lt->ctx.loop);
    lt->accept_ctx.ctx = &lt->ctx;
    lt->accept_ctx.hosts = lt->srv->globalconf.hosts;
    lt->listener = gw_listen_start(lt->ctx.loop, lt->fd, &lt->accept_ctx);
    while (!lt->srv->stopping)
        h2o_evloop_run(lt->ctx.loop, INT32_MAX);
    return NULL;
}

static int start_loop(gw_server_t *srv, loop_thread_t *lt)
{
    lt->srv = srv;
    return pthread_create(&lt->tid, NULL, loop_main, lt) == 0 ? 0 : -EAGAIN;
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

static void on_gc_report(void *arg, const char *drive, size_t removed, int ret)
{
    gw_log(ret == 0 ? GW_LOG_INFO : GW_LOG_WARN, "event=orphans_collected drive=%s removed=%zu err=%d", drive, removed,
           ret);
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
    gw_random_id(salt);
    memcpy(&srv->request_salt, salt, sizeof(srv->request_salt));
    signal(SIGPIPE, SIG_IGN);
    if ((ret = make_dirs(cfg->data_dir)) != 0)
        goto fail;

    /* request bodies above the threshold go to an unlinked temp file on the data drive */
    snprintf(path, sizeof(path), "%s/.tmp", cfg->data_dir);
    if ((ret = make_dirs(path)) != 0)
        goto fail;
    h2o_socket_buffer_mmap_settings.threshold = cfg->body_spill_bytes;
    snprintf(h2o_socket_buffer_mmap_settings.fn_template, sizeof(h2o_socket_buffer_mmap_settings.fn_template),
             "%s/.tmp/body.XXXXXX", cfg->data_dir);

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
        gw_log(meta_db_read_only(store_drive_db(d->local)) ? GW_LOG_WARN : GW_LOG_INFO,
               "event=drive_opened drive=%s free=%llu reserve=%llu read_only=%d", d->path,
               (unsigned long long)free_bytes, (unsigned long long)reserve,
               meta_db_read_only(store_drive_db(d->local)));
    }
    if ((ret = gw_pool_new(cfg->workers, &srv->pool)) != 0 ||
        (ret = gw_pool_new(cfg->read_workers, &srv->read_pool)) != 0)
        goto fail;
    if ((ret = gw_healer_start(srv->cluster, &srv->healer)) != 0)
        goto fail;
    start_orphan_collector(srv);
    if ((ret = gw_iam_open(srv->cluster, cfg->root_user, cfg->root_password, &srv->iam)) != 0)
        goto fail;

    h2o_config_init(&srv->globalconf);
    srv->globalconf.max_request_entity_size = (size_t)cfg->max_object_size + 64 * 1024 * 1024;
    srv->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("yuncang"));
    h2o_hostconf_t *host = h2o_config_register_host(&srv->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(host, "/", 0);
    root_handler_t *handler = (root_handler_t *)h2o_create_handler(pathconf, sizeof(*handler));
    handler->super.on_req = on_request;
    handler->srv = srv;

    srv->loops = calloc(cfg->loops, sizeof(*srv->loops));
    for (size_t i = 0; i < cfg->loops; i++) {
        if ((srv->loops[i].fd = gw_listen_open(cfg->listen_host, cfg->listen_port)) < 0) {
            ret = srv->loops[i].fd;
            goto fail;
        }
    }
    for (size_t i = 0; i < cfg->loops; i++)
        if ((ret = start_loop(srv, &srv->loops[i])) != 0)
            goto fail;
    gw_log(GW_LOG_INFO, "event=started listen=%s:%u drives=%zu sets=%zu ec=%u+%u loops=%zu workers=%zu",
           cfg->listen_host, cfg->listen_port, srv->cluster->ndrives, srv->cluster->nsets, cfg->k, cfg->m, cfg->loops,
           cfg->workers);
    *out = srv;
    return 0;

fail:
    gw_log(GW_LOG_ERROR, "event=start_failed err=%d", ret);
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
    gw_log(GW_LOG_INFO, "event=stopping signal=%d", (int)got_signal);
}

void gw_server_free(gw_server_t *s)
{
    /* The process exits right after: drives are closed so RocksDB flushes cleanly; loops are
     * left to the exit, as h2o offers no way to stop a loop blocked in epoll from outside. */
    if (s == NULL)
        return;
    s->stopping = 1;
    store_gc_stop(s->gc);
    gw_pool_free(s->pool);
    gw_pool_free(s->read_pool);
    gw_cluster_close(s->cluster);
}
