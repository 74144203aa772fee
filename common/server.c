/* server.c — h2o configuration, loop threads and listeners of a server (see server.h). */
#include "common/server.h"
#include <errno.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct {
    yc_server_t *srv;
    pthread_t tid;
    h2o_context_t ctx; /* a request's conn->ctx: its loop thread is found from it */
    h2o_accept_ctx_t accept_ctx;
    yc_loop_t loop;
    h2o_socket_t *listener;
    int fd;
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

static void *loop_main(void *arg)
{
    loop_thread_t *lt = arg;
    yc_server_t *s = lt->srv;

    if (s->cfg.on_loop != NULL) {
        h2o_loop_t *loop = h2o_evloop_create();
        yc_loop_init(&lt->loop, loop);
        if (s->cfg.on_loop(s->cfg.arg, loop, &lt->loop, lt->fd, (size_t)(lt - s->loops)) != 0)
            return NULL;
        while (!atomic_load(&s->stopping))
            h2o_evloop_run(loop, INT32_MAX);
        return NULL;
    }
    h2o_context_init(&lt->ctx, h2o_evloop_create(), &s->globalconf);
    yc_loop_init(&lt->loop, lt->ctx.loop);
    lt->accept_ctx.ctx = &lt->ctx;
    lt->accept_ctx.hosts = s->globalconf.hosts;
    lt->listener = yc_listen_start(lt->ctx.loop, lt->fd, &lt->accept_ctx);
    while (!atomic_load(&s->stopping))
        h2o_evloop_run(lt->ctx.loop, INT32_MAX);
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
