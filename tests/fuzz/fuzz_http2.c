/* fuzz_http2.c — the HTTP/2 connection code (common/http2.c) fed hostile frames: nghttp2 parses
 * them and calls our callbacks, which make streams, gather heads, hand requests to an app, buffer
 * DATA against the windows and answer; the connection is then cut mid-way, as a client can.
 *
 * One event loop and one server (HTTP/2 by prior knowledge, small limits) live for the whole run.
 * Each input is a connection: one end of a socketpair adopted by the server, the other written
 * with the HTTP/2 preface, an empty SETTINGS frame and then the input, and shut. The loop runs
 * until the connection is gone (the shut ends it), draining what the server answers. Checks:
 * nothing crashes or leaks (ASan), every request the app got is given back (the app finishes
 * each, whatever its reads and writes report), and no connection is left open.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "common/http.h"
#include "common/http_internal.h"

static h2o_loop_t *loop;
static yc_http_server_t *srv;
static size_t held; /* requests the app has and has not finished */

typedef struct {
    uint64_t bytes;
    int answered;
} app_t;

static void written(yc_http_req_t *req, void *arg, int status)
{
    held--;
    yc_http_finish(req);
}

static void body(yc_http_req_t *req, void *arg, h2o_iovec_t data, int status)
{
    app_t *a = req->app;

    if (status == YC_HTTP_BODY_MORE) {
        a->bytes += data.len;
        if (yc_http_body_read(req, body, NULL) != 0)
            abort(); /* a read right after the callback must be taken */
        return;
    }
    if (status < 0) {
        held--;
        yc_http_finish(req); /* the layer answers (or nobody is left to answer) */
        return;
    }
    a->bytes += data.len;
    static char out[32];
    int n = snprintf(out, sizeof(out), "%llu", (unsigned long long)a->bytes);
    yc_http_respond(req, 200, NULL, NULL, 0, YC_HTTP_LENGTH_UNKNOWN);
    h2o_iovec_t b = h2o_iovec_init(out, (size_t)n);
    if (yc_http_write(req, &b, 1, written, NULL) != 0) {
        held--;
        yc_http_finish(req);
    }
}

static void on_request(yc_http_req_t *req)
{
    held++;
    if (req->content_length == 0) {
        yc_http_header_t h = {h2o_iovec_init(H2O_STRLIT("X-Echo")), req->path};
        held--;
        yc_http_send(req, 200, NULL, &h, 1, req->target);
        return;
    }
    app_t *a = h2o_mem_alloc_pool(req->pool, sizeof(*a));
    memset(a, 0, sizeof(*a));
    req->app = a;
    yc_http_body_read(req, body, NULL);
}

static void setup(void)
{
    yc_http_config_t cfg;

    loop = h2o_evloop_create();
    yc_http_config_init(&cfg);
    cfg.on_request = on_request;
    cfg.h2_prior_knowledge = 1;
    cfg.h2_max_concurrent_streams = 4;
    cfg.h2_stream_window_bytes = 1024;
    cfg.max_head_bytes = 1024;
    cfg.max_headers = 16;
    cfg.read_chunk_bytes = 1024;
    cfg.head_timeout_ms = cfg.body_timeout_ms = cfg.send_timeout_ms = cfg.keepalive_timeout_ms = 1000;
    if (yc_http_server_new(loop, &cfg, &srv) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char start[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\4\0\0\0\0\0";
    int sv[2];
    char sink[65536];
    yc_http_stats_t st;

    if (loop == NULL)
        setup();
    if (size > 60000)
        return 0; /* what one socketpair buffers: the writes below never block */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
        abort();
    if (yc_http_server_adopt(srv, h2o_evloop_socket_create(loop, sv[0], 0)) != 0)
        abort();
    if (write(sv[1], start, sizeof(start) - 1) != (ssize_t)(sizeof(start) - 1) ||
        (size > 0 && write(sv[1], data, size) != (ssize_t)size))
        abort();
    shutdown(sv[1], SHUT_WR);
    for (int i = 0; i < 10000; i++) {
        h2o_evloop_run(loop, 1);
        while (read(sv[1], sink, sizeof(sink)) > 0)
            ;
        yc_http_server_stats(srv, &st);
        if (st.connections == 0 && held == 0)
            break;
    }
    close(sv[1]);
    yc_http_server_stats(srv, &st);
    if (st.connections != 0 || held != 0) {
        fprintf(stderr, "left: %zu connections, %zu requests\n", st.connections, held);
        abort();
    }
    /* the records' deferred frees */
    for (int i = 0; i < 4; i++)
        h2o_evloop_run(loop, 0);
    return 0;
}
