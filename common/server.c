/* server.c — h2o configuration, loop threads and listeners of a server (see server.h). */
#include "common/server.h"
#include <errno.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/time.h>
#include <unistd.h>

/* The loops' lag. h2o stamps every iteration with the wall clock in milliseconds (h2o_now) right
 * after its poll returns; every event served in the iteration was ready at that moment, so at the
 * iteration's end "now less the stamp" is how long its last event waited behind the others. The
 * lengths of the iterations, smoothed, are how long an event that becomes ready now will wait:
 * that is the lag. Smoothed, because one iteration stretched by the scheduler (another process
 * took the core) is noise, not load; a loop that stays behind moves the average within a few
 * iterations. The stamp is truncated to the millisecond: a lag reads up to 1 ms long.
 *
 * What it leaves out, on purpose: the time the loop's thread waits for a core before its poll
 * returns. A timer's lateness would count it, and was tried: on a machine whose cores other
 * processes keep busy it reads several milliseconds with no request in sight, and shedding our
 * requests frees none of their CPU. The lag is what this loop's own work makes events wait. */
#define LAG_SHIFT 3 /* the smoothed length moves 1/8 of the way to each iteration's length */

typedef struct {
    yc_server_t *srv;
    pthread_t tid;
    h2o_context_t ctx; /* a request's conn->ctx: its loop thread is found from it */
    h2o_accept_ctx_t accept_ctx;
    yc_loop_t loop;
    h2o_socket_t *listener;
    int fd;
    h2o_loop_t *h2o_loop;
    _Atomic int64_t lag_ns; /* iterations' length, smoothed (written by the loop's thread only) */
} loop_thread_t;

typedef struct {
    h2o_handler_t super;
    yc_server_t *srv;
} root_handler_t;

struct yc_server {
    yc_server_config_t cfg;
    h2o_globalconf_t globalconf;
    loop_thread_t *loops;
    size_t nloops, started;
    atomic_int stopping;
};

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    yc_server_t *s = ((root_handler_t *)self)->srv;
    return s->cfg.on_request(s->cfg.arg, req);
}

int yc_server_new(const yc_server_config_t *cfg, yc_server_t **out)
{
    yc_server_t *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return -ENOMEM;
    s->cfg = *cfg;
    h2o_config_init(&s->globalconf);
    s->globalconf.max_request_entity_size = cfg->max_request_entity_size;
    s->globalconf.http1.req_timeout = cfg->req_timeout_ms;
    /* HTTP/1.1 only: h2o's HTTP/2 would let a client reset a stream, and so free the request,
     * while a worker still uses it (HTTP/2 comes with the project's own HTTP layer) */
    s->globalconf.http1.upgrade_to_http2 = 0;
    s->globalconf.server_name = h2o_iovec_init(cfg->name, strlen(cfg->name));
    h2o_hostconf_t *host = h2o_config_register_host(&s->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(host, "/", 0);
    root_handler_t *handler = (root_handler_t *)h2o_create_handler(pathconf, sizeof(*handler));
    handler->super.on_req = on_req;
    handler->srv = s;
    *out = s;
    return 0;
}

int yc_server_listen(yc_server_t *s, const char *host, uint16_t port, size_t nloops)
{
    int ret;

    /* port 0: each listener its own */
    if (port != 0 && !s->cfg.share_port && (ret = yc_listen_check_free(host, port)) != 0)
        return ret;
    if ((s->loops = calloc(nloops, sizeof(*s->loops))) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < nloops; i++)
        s->loops[i].fd = -1;
    s->nloops = nloops;
    for (size_t i = 0; i < nloops; i++)
        if ((s->loops[i].fd = yc_listen_open(host, port)) < 0)
            return s->loops[i].fd;
    return 0;
}

static int64_t wall_ns(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL); /* the clock h2o stamps iterations with */
    return (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
}

/* Since the running iteration's poll returned (0 when the stamp is ahead, the clock stepped). */
static int64_t iteration_age_ns(h2o_loop_t *loop)
{
    int64_t age = wall_ns() - (int64_t)h2o_now(loop) * 1000000;
    return age > 0 ? age : 0;
}

/* Runs the loop until the server stops, smoothing the iterations' lengths into lt->lag_ns. */
static void run_loop(loop_thread_t *lt, h2o_loop_t *loop)
{
    yc_server_t *s = lt->srv;

    lt->h2o_loop = loop;
    while (!atomic_load(&s->stopping)) {
        h2o_evloop_run(loop, INT32_MAX);
        int64_t len = iteration_age_ns(loop), lag = atomic_load_explicit(&lt->lag_ns, memory_order_relaxed);
        if (len > 60LL * 1000000000)
            len = 60LL * 1000000000; /* a stepped clock is no iteration */
        atomic_store_explicit(&lt->lag_ns, lag + ((len - lag) >> LAG_SHIFT), memory_order_relaxed);
    }
}

static void *loop_main(void *arg)
{
    loop_thread_t *lt = arg;
    yc_server_t *s = lt->srv;

    if (s->cfg.on_loop != NULL) {
        h2o_loop_t *loop = h2o_evloop_create();
        lt->h2o_loop = loop;
        yc_loop_init(&lt->loop, loop);
        if (s->cfg.on_loop(s->cfg.arg, loop, &lt->loop, lt->fd, (size_t)(lt - s->loops)) != 0)
            return NULL;
        run_loop(lt, loop);
        return NULL;
    }
    h2o_context_init(&lt->ctx, h2o_evloop_create(), &s->globalconf);
    yc_loop_init(&lt->loop, lt->ctx.loop);
    lt->accept_ctx.ctx = &lt->ctx;
    lt->accept_ctx.hosts = s->globalconf.hosts;
    lt->listener = yc_listen_start(lt->ctx.loop, lt->fd, &lt->accept_ctx);
    run_loop(lt, lt->ctx.loop);
    return NULL;
}

int yc_server_start(yc_server_t *s)
{
    for (; s->started < s->nloops; s->started++) {
        s->loops[s->started].srv = s;
        if (pthread_create(&s->loops[s->started].tid, NULL, loop_main, &s->loops[s->started]) != 0)
            return -EAGAIN;
    }
    return 0;
}

size_t yc_server_started(const yc_server_t *s)
{
    return s->started;
}

yc_loop_t *yc_server_loop_of(h2o_req_t *req)
{
    loop_thread_t *lt = H2O_STRUCT_FROM_MEMBER(loop_thread_t, ctx, req->conn->ctx);
    return &lt->loop;
}

int64_t yc_server_iteration_age_ns(yc_loop_t *jobs)
{
    loop_thread_t *lt = H2O_STRUCT_FROM_MEMBER(loop_thread_t, loop, jobs);
    return lt->h2o_loop != NULL ? iteration_age_ns(lt->h2o_loop) : 0;
}

int64_t yc_server_loop_lag_ns(yc_loop_t *jobs)
{
    loop_thread_t *lt = H2O_STRUCT_FROM_MEMBER(loop_thread_t, loop, jobs);
    return atomic_load_explicit(&lt->lag_ns, memory_order_relaxed);
}

void yc_server_stop(yc_server_t *s)
{
    if (s != NULL)
        atomic_store(&s->stopping, 1);
}

void yc_server_free(yc_server_t *s)
{
    if (s == NULL || s->started > 0)
        return;
    for (size_t i = 0; i < s->nloops; i++)
        if (s->loops[i].fd >= 0)
            close(s->loops[i].fd);
    free(s->loops);
    h2o_config_dispose(&s->globalconf);
    free(s);
}
