/* gw_server.c — process start-up, the event loops, admission control and the response path.
 *
 * Each loop thread owns an h2o context and its own SO_REUSEPORT listener, so the kernel spreads
 * connections over the loops and no lock sits on the accept path (common/server.h); the
 * gateway's loops watch their connections' progress (common/listen.h). Admission control counts the
 * requests in flight: past max_inflight a request is answered 503 SlowDown at once, on the loop,
 * before it costs a worker or any memory beyond its headers, so the requests already admitted
 * keep their latency and a peak cannot exhaust memory.
 */
#include "gateway/gw_server.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_heal.h"
#include "gateway/gw_iam.h"
#include "common/server.h"
#include "common/log.h"
#include "gateway/gw_object.h"
#include <openssl/crypto.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

struct gw_server {
    gw_config_t cfg;
    gw_cluster_t *cluster;
    yc_pool_t *pool, *read_pool;
    gw_iam_t *iam;
    gw_healer_t *healer;
    store_gc_t *gc;
    yc_server_t *http;    /* the h2o configuration, loops and listeners */
    h2o_iovec_t *domains; /* virtual-host endpoint domains, lowercase */
    size_t ndomains;
    atomic_size_t inflight;
    atomic_uint_fast64_t next_request;
    uint64_t request_salt;
    char **drive_paths;
};

const gw_config_t *gw_server_config(const gw_server_t *s)
{
    return &s->cfg;
}

yc_pool_t *gw_server_read_pool(gw_server_t *s)
{
    return s->read_pool;
}

const h2o_iovec_t *gw_server_domains(const gw_server_t *s, size_t *n)
{
    *n = s->ndomains;
    return s->domains;
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
    yc_listen_conn_release(ctx->conn);
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

void gw_set_error_field(gw_ctx_t *ctx, const char *name, h2o_iovec_t value)
{
    if (ctx->nerror_fields < sizeof(ctx->error_fields) / sizeof(ctx->error_fields[0]))
        ctx->error_fields[ctx->nerror_fields++] = (s3_error_field_t){name, value};
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
    s3_error_field_t fields[2 + sizeof(ctx->error_fields) / sizeof(ctx->error_fields[0])];
    size_t nfields = 0;

    for (size_t i = 0; i < ctx->nerror_fields; i++)
        fields[nfields++] = ctx->error_fields[i];
    if (ctx->error == S3_ERR_NO_SUCH_KEY && ctx->key.len > 0)
        fields[nfields++] = (s3_error_field_t){"Key", ctx->key};
    if ((ctx->error == S3_ERR_NO_SUCH_BUCKET || ctx->error == S3_ERR_BUCKET_NOT_EMPTY) && ctx->bucket.len > 0)
        fields[nfields++] = (s3_error_field_t){"BucketName", ctx->bucket};
    if (info->status == 304) {
        req->res.content_length = SIZE_MAX;
        send_body(ctx, 304, NULL, h2o_iovec_init(NULL, 0));
        return;
    }
    ctx->access->error = ctx->error;
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

static void job_run(yc_job_t *job)
{
    gw_ctx_t *ctx = (gw_ctx_t *)job;
    ctx->work(ctx);
}

static void job_done(yc_job_t *job)
{
    gw_ctx_t *ctx = (gw_ctx_t *)job;
    if (ctx->send != NULL)
        ctx->send(ctx);
    else
        gw_respond(ctx);
}

static void dispatch(gw_ctx_t *ctx, gw_work_fn work, yc_pool_t *pool)
{
    ctx->work = work;
    ctx->job.run = job_run;
    ctx->job.done = job_done;
    ctx->job.loop = yc_server_loop_of(ctx->req);
    yc_pool_submit(pool, &ctx->job);
}

void gw_dispatch(gw_ctx_t *ctx, gw_work_fn work)
{
    dispatch(ctx, work, ctx->srv->pool);
}

void gw_dispatch_read(gw_ctx_t *ctx, gw_work_fn work)
{
    dispatch(ctx, work, ctx->srv->read_pool);
}

/* ---------------------------------------------------------------- access log */

static void next_request_id(gw_server_t *srv, char out[17])
{
    uint64_t n = atomic_fetch_add(&srv->next_request, 1);
    snprintf(out, 17, "%016llX", (unsigned long long)(n ^ srv->request_salt));
}

/* "address:port" of the client, "[v6]:port" for IPv6; "-" when unknown. */
static void format_client(h2o_conn_t *conn, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    char host[NI_MAXHOST];
    socklen_t len = conn->callbacks->get_peername(conn, (struct sockaddr *)&ss);

    if (len == 0 || h2o_socket_getnumerichost((struct sockaddr *)&ss, len, host) == SIZE_MAX) {
        snprintf(out, cap, "-");
        return;
    }
    int32_t port = h2o_socket_getport((struct sockaddr *)&ss);
    snprintf(out, cap, ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, (int)port);
}

/* Writes the access-log line of a request; runs when h2o disposes the request, after the last
 * byte was handed over or the client went away, whether or not the gw_ctx_t is still alive. */
static void on_access_dispose(void *p)
{
    gw_access_t *a = p;
    h2o_req_t *req = a->req;
    char client[NI_MAXHOST + 16], bucket[300], key[4 * 1024 + 16], ak[160];
    struct timeval now;

    gettimeofday(&now, NULL);
    double ms = (double)(now.tv_sec - req->timestamps.request_begin_at.tv_sec) * 1000.0 +
                (double)(now.tv_usec - req->timestamps.request_begin_at.tv_usec) / 1000.0;
    format_client(req->conn, client, sizeof(client));
    yc_log_value(bucket, sizeof(bucket), a->bucket.len > 0 ? a->bucket.base : NULL, a->bucket.len);
    yc_log_value(key, sizeof(key), a->key.len > 0 ? a->key.base : NULL, a->key.len);
    yc_log_value(ak, sizeof(ak), a->access_key.base, a->access_key.len);
    yc_log(YC_LOG_INFO,
           "event=request request_id=%s access_key=%s client=%s op=%s bucket=%s key=%s status=%d bytes_out=%zu "
           "bytes_in=%zu duration_ms=%.3f%s%s",
           a->request_id, ak, client, gw_op_name(a->op), bucket, key, req->res.status, req->bytes_sent,
           req->entity.base != NULL ? req->entity.len : 0, ms < 0 ? 0.0 : ms, a->error != S3_OK ? " error=" : "",
           a->error != S3_OK ? s3_error_info(a->error)->code : "");
}

/* ---------------------------------------------------------------- request entry */

static int on_request(void *arg, h2o_req_t *req)
{
    gw_server_t *srv = arg;
    gw_ctx_t *ctx;

    if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
        h2o_send_error_generic(req, 503, "Service Unavailable", "out of memory", 0);
        return 0;
    }
    ctx->req = req;
    ctx->srv = srv;
    ctx->cluster = srv->cluster;
    ctx->iam = srv->iam;
    ctx->started_ns = yc_now_ns();
    next_request_id(srv, ctx->request_id);
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-amz-request-id"), 0, NULL,
                          h2o_strdup(&req->pool, ctx->request_id, 16).base, 16);
    ctx->access = h2o_mem_alloc_shared(&req->pool, sizeof(*ctx->access), on_access_dispose);
    memset(ctx->access, 0, sizeof(*ctx->access));
    ctx->access->req = req;
    memcpy(ctx->access->request_id, ctx->request_id, sizeof(ctx->request_id));
    ctx->conn = yc_listen_conn_hold(req->conn);

    if (atomic_fetch_add(&srv->inflight, 1) >= srv->cfg.max_inflight) {
        gw_fail(ctx, S3_ERR_SLOW_DOWN, NULL);
        return 0;
    }
    gw_handle_request(ctx);
    return 0;
}

/* ---------------------------------------------------------------- stalled requests */

/* The watchdog's answer to a request that stopped arriving half-way: S3's RequestTimeout. */
static size_t stalled_request_response(void *arg, const char *client, uint64_t bytes_in, char *out, size_t cap)
{
    const s3_error_info_t *info = s3_error_info(S3_ERR_REQUEST_TIMEOUT);
    gw_server_t *srv = arg;
    h2o_mem_pool_t pool;
    h2o_iovec_t xml;
    char id[17];
    int n;

    next_request_id(srv, id);
    h2o_mem_init_pool(&pool);
    s3_error_xml(&pool, S3_ERR_REQUEST_TIMEOUT, h2o_iovec_init(NULL, 0), h2o_iovec_init(NULL, 0),
                 h2o_iovec_init(id, 16), h2o_iovec_init(NULL, 0), NULL, 0, &xml);
    n = snprintf(out, cap,
                 "HTTP/1.1 %d %s\r\nServer: yuncang\r\nConnection: close\r\nx-amz-request-id: %s\r\n"
                 "Content-Type: application/xml\r\nContent-Length: %zu\r\n\r\n%.*s",
                 info->status, gw_reason(info->status), id, xml.len, (int)xml.len, xml.base);
    h2o_mem_clear_pool(&pool);
    if (n <= 0 || (size_t)n >= cap)
        return 0;
    /* the request never reached a handler: what is known of it */
    yc_log(YC_LOG_INFO,
           "event=request request_id=%s access_key=- client=%s op=- bucket=- key=- status=%d bytes_out=%zu "
           "bytes_in=%llu error=%s",
           id, client, info->status, xml.len, (unsigned long long)bytes_in, info->code);
    return (size_t)n;
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

    /* h2o times the whole request read (and keep-alive idle time) with one timer: put it out of
     * the way; the loops' progress watchdog closes stalled and idle connections instead */
    yc_listen_watch_t watch = {.progress_timeout_ms = (uint64_t)cfg->progress_timeout * 1000,
                               .stalled_request_response = stalled_request_response,
                               .arg = srv};
    yc_server_config_t http = {.name = "yuncang",
                               .max_request_entity_size = (size_t)cfg->max_object_size + 64 * 1024 * 1024,
                               .req_timeout_ms = UINT64_C(1) << 40,
                               .on_request = on_request,
                               .arg = srv,
                               .watch = &watch};
    if ((ret = yc_server_new(&http, &srv->http)) != 0 ||
        (ret = yc_server_listen(srv->http, cfg->listen_host, cfg->listen_port, cfg->loops)) != 0 ||
        (ret = yc_server_start(srv->http)) != 0)
        goto fail;
    yc_log(YC_LOG_INFO,
           "event=started listen=%s:%u drives=%zu sets=%zu ec=%u+%u loops=%zu workers=%zu progress_timeout=%llu",
           cfg->listen_host, cfg->listen_port, srv->cluster->ndrives, srv->cluster->nsets, cfg->k, cfg->m, cfg->loops,
           cfg->workers, (unsigned long long)cfg->progress_timeout);
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
