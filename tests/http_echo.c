/* http_echo — a small server on common/http.h for tests with real clients (curl, Python's
 * http.client). It prints "listening PORT" once it accepts connections and serves until killed:
 *
 *   PUT|POST /echo    the body back, streamed as it comes (chunked response, one write per piece
 *                     read: a client that does not read slows the upload down)
 *   PUT|POST /count   reads the whole body, answers "<bytes> <md5 hex>"
 *   any /refuse       403 at once, the body never asked for (no 100 Continue)
 *   anything else     "<method> <target>\n", and for HEAD its headers only
 *
 *   PUT|POST /slow    like /count, resting --slow-ms between the pieces it reads (back-pressure)
 *   GET /stats        the server's counters, "name value" lines
 *   GET /big?n=N      N bytes of a repeating pattern, written 64 KiB at a time
 *
 * Options: --port N (0: any free port), --max-connections N, the timeouts in milliseconds
 * --head-timeout, --body-timeout, --send-timeout, --keepalive-timeout; TLS with --tls-cert FILE
 * and --tls-key FILE (HTTP/2 offered by ALPN unless --http2 0), --h2c 1 (HTTP/2 with prior
 * knowledge on cleartext), --max-streams N, --stream-window N, --slow-ms N.
 */
#include "common/http.h"
#include "common/listen.h"
#include <openssl/evp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    uint64_t bytes;
    EVP_MD_CTX *md5;
    int started;
} body_state_t;

static void echo_next(yc_http_req_t *req, void *arg, h2o_iovec_t data, int status);
static yc_http_server_t *server;
static h2o_loop_t *loop;
static uint64_t slow_ms = 50;

static void echo_written(yc_http_req_t *req, void *arg, int status)
{
    if (status != 0 || (uintptr_t)arg == 1) { /* 1: that was the last piece */
        yc_http_finish(req);
        return;
    }
    yc_http_body_read(req, echo_next, NULL);
}

static void echo_next(yc_http_req_t *req, void *arg, h2o_iovec_t data, int status)
{
    body_state_t *st = req->app;

    if (status < 0) {
        if (!st->started) {
            static const char msg[] = "bad body\n";
            yc_http_send(req, 400, NULL, NULL, 0, h2o_iovec_init(msg, sizeof(msg) - 1));
        } else {
            yc_http_finish(req); /* the connection closes: the client sees a cut answer */
        }
        return;
    }
    if (!st->started) {
        yc_http_header_t ct = {h2o_iovec_init(H2O_STRLIT("content-type")),
                               h2o_iovec_init(H2O_STRLIT("application/octet-stream"))};
        yc_http_respond(req, 200, NULL, &ct, 1, YC_HTTP_LENGTH_UNKNOWN);
        st->started = 1;
    }
    int last = status == YC_HTTP_BODY_END;
    if (data.len == 0) {
        if (last)
            yc_http_finish(req);
        else
            yc_http_body_read(req, echo_next, NULL);
        return;
    }
    yc_http_write(req, &data, 1, echo_written, (void *)(uintptr_t)last);
}

static void count_next(yc_http_req_t *req, void *arg, h2o_iovec_t data, int status)
{
    body_state_t *st = req->app;
    char out[96];
    unsigned char md[16];
    unsigned len = 0;

    if (status < 0) {
        EVP_MD_CTX_free(st->md5);
        yc_http_finish(req); /* the layer answers: 408 after a timeout, 400 after bad framing */
        return;
    }
    st->bytes += data.len;
    EVP_DigestUpdate(st->md5, data.base, data.len);
    if (status != YC_HTTP_BODY_END) {
        yc_http_body_read(req, count_next, NULL);
        return;
    }
    EVP_DigestFinal_ex(st->md5, md, &len);
    EVP_MD_CTX_free(st->md5);
    int n = snprintf(out, sizeof(out), "%llu ", (unsigned long long)st->bytes);
    for (unsigned i = 0; i < len; i++)
        n += snprintf(out + n, sizeof(out) - (size_t)n, "%02x", md[i]);
    yc_http_send(req, 200, NULL, NULL, 0, h2o_iovec_init(out, (size_t)n));
}

static int is(h2o_iovec_t v, const char *s)
{
    return v.len == strlen(s) && memcmp(v.base, s, v.len) == 0;
}

/* /slow: a timer between the reads, so that the client must wait for the window */
typedef struct {
    h2o_timeout_entry_t timer;
    h2o_timeout_t timeout;
    yc_http_req_t *req;
} slow_t;

static void slow_next(yc_http_req_t *req, void *arg, h2o_iovec_t data, int status);

static void slow_resume(h2o_timeout_entry_t *e)
{
    slow_t *sl = H2O_STRUCT_FROM_MEMBER(slow_t, timer, e);
    yc_http_body_read(sl->req, slow_next, sl);
}

static void slow_next(yc_http_req_t *req, void *arg, h2o_iovec_t data, int status)
{
    slow_t *sl = arg;
    if (status == YC_HTTP_BODY_MORE && data.len > 0) {
        body_state_t *st = req->app;
        st->bytes += data.len;
        EVP_DigestUpdate(st->md5, data.base, data.len);
        h2o_timeout_link(loop, &sl->timeout, &sl->timer);
        return;
    }
    h2o_timeout_dispose(loop, &sl->timeout);
    count_next(req, NULL, data, status);
}

typedef struct {
    uint64_t left;
    char block[65536];
} big_t;

static void big_more(yc_http_req_t *req, void *arg, int status)
{
    big_t *b = arg;
    if (status != 0 || b->left == 0) {
        yc_http_finish(req);
        return;
    }
    h2o_iovec_t buf = h2o_iovec_init(b->block, b->left < sizeof(b->block) ? b->left : sizeof(b->block));
    b->left -= buf.len;
    yc_http_write(req, &buf, 1, big_more, b);
}

static void send_stats(yc_http_req_t *req)
{
    yc_http_stats_t st;
    char out[512];
    yc_http_server_stats(server, &st);
    int n = snprintf(out, sizeof(out),
                     "connections %zu\ninput_bytes %zu\naccepted %" PRIu64 "\nrequests %" PRIu64
                     "\nlayer_errors %" PRIu64 "\ntls_handshakes %" PRIu64 "\ntls_failures %" PRIu64
                     "\nh2_connections %" PRIu64 "\nh2_refused_streams %" PRIu64 "\nversion %x\n",
                     st.connections, st.input_bytes, st.accepted, st.requests, st.layer_errors, st.tls_handshakes,
                     st.tls_failures, st.h2_connections, st.h2_refused_streams, (unsigned)req->version);
    yc_http_send(req, 200, NULL, NULL, 0, h2o_iovec_init(out, (size_t)n));
}

static void on_request(yc_http_req_t *req)
{
    int body_method = is(req->method, "PUT") || is(req->method, "POST");

    if (is(req->path, "/refuse")) {
        static const char msg[] = "refused\n";
        yc_http_send(req, 403, NULL, NULL, 0, h2o_iovec_init(msg, sizeof(msg) - 1));
    } else if (is(req->path, "/stats")) {
        send_stats(req);
    } else if (is(req->path, "/big") && req->query.len > 2 && memcmp(req->query.base, "n=", 2) == 0) {
        big_t *b = h2o_mem_alloc_pool(req->pool, sizeof(*b));
        b->left = strtoull(req->query.base + 2, NULL, 10);
        for (size_t i = 0; i < sizeof(b->block); i++)
            b->block[i] = (char)('a' + i % 26);
        yc_http_respond(req, 200, NULL, NULL, 0, b->left);
        big_more(req, b, 0);
    } else if (body_method && is(req->path, "/slow")) {
        body_state_t *st = h2o_mem_alloc_pool(req->pool, sizeof(*st));
        slow_t *sl = h2o_mem_alloc_pool(req->pool, sizeof(*sl));
        memset(st, 0, sizeof(*st));
        memset(sl, 0, sizeof(*sl));
        req->app = st;
        st->md5 = EVP_MD_CTX_new();
        EVP_DigestInit_ex(st->md5, EVP_md5(), NULL);
        sl->req = req;
        sl->timer.cb = slow_resume;
        h2o_timeout_init(loop, &sl->timeout, slow_ms);
        yc_http_body_read(req, slow_next, sl);
    } else if (body_method && (is(req->path, "/echo") || is(req->path, "/count"))) {
        body_state_t *st = h2o_mem_alloc_pool(req->pool, sizeof(*st));
        memset(st, 0, sizeof(*st));
        req->app = st;
        if (is(req->path, "/echo")) {
            yc_http_body_read(req, echo_next, NULL);
        } else {
            st->md5 = EVP_MD_CTX_new();
            EVP_DigestInit_ex(st->md5, EVP_md5(), NULL);
            yc_http_body_read(req, count_next, NULL);
        }
    } else {
        size_t len = req->method.len + 1 + req->target.len + 1;
        char *msg = h2o_mem_alloc_pool(req->pool, len);
        memcpy(msg, req->method.base, req->method.len);
        msg[req->method.len] = ' ';
        memcpy(msg + req->method.len + 1, req->target.base, req->target.len);
        msg[len - 1] = '\n';
        yc_http_send(req, 200, NULL, NULL, 0, h2o_iovec_init(msg, len));
    }
}

int main(int argc, char **argv)
{
    yc_http_config_t cfg;
    yc_http_server_t *srv;
    uint64_t nofile;
    int port = 0, fd, ret;

    signal(SIGPIPE, SIG_IGN);
    yc_http_raise_nofile(&nofile);
    yc_http_config_init(&cfg);
    cfg.on_request = on_request;
    cfg.server_name = "http_echo";
    for (int i = 1; i + 1 < argc; i += 2) {
        unsigned long long v = strtoull(argv[i + 1], NULL, 10);
        if (strcmp(argv[i], "--port") == 0)
            port = (int)v;
        else if (strcmp(argv[i], "--max-connections") == 0)
            cfg.max_connections = v;
        else if (strcmp(argv[i], "--head-timeout") == 0)
            cfg.head_timeout_ms = v;
        else if (strcmp(argv[i], "--body-timeout") == 0)
            cfg.body_timeout_ms = v;
        else if (strcmp(argv[i], "--send-timeout") == 0)
            cfg.send_timeout_ms = v;
        else if (strcmp(argv[i], "--keepalive-timeout") == 0)
            cfg.keepalive_timeout_ms = v;
        else if (strcmp(argv[i], "--tls-cert") == 0)
            cfg.tls_cert_file = argv[i + 1];
        else if (strcmp(argv[i], "--tls-key") == 0)
            cfg.tls_key_file = argv[i + 1];
        else if (strcmp(argv[i], "--http2") == 0)
            cfg.http2 = v != 0;
        else if (strcmp(argv[i], "--h2c") == 0)
            cfg.h2_prior_knowledge = v != 0;
        else if (strcmp(argv[i], "--max-streams") == 0)
            cfg.h2_max_concurrent_streams = v;
        else if (strcmp(argv[i], "--stream-window") == 0)
            cfg.h2_stream_window_bytes = v;
        else if (strcmp(argv[i], "--slow-ms") == 0)
            slow_ms = v;
        else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if ((fd = yc_listen_open("127.0.0.1", (uint16_t)port)) < 0) {
        fprintf(stderr, "listen: %s\n", strerror(-fd));
        return 1;
    }
    struct sockaddr_in sin;
    socklen_t slen = sizeof(sin);
    getsockname(fd, (struct sockaddr *)&sin, &slen);
    loop = h2o_evloop_create();
    if ((ret = yc_http_server_new(loop, &cfg, &srv)) != 0 || (ret = yc_http_server_listen(srv, fd)) != 0) {
        fprintf(stderr, "server: %s\n", strerror(-ret));
        return 1;
    }
    server = srv;
    printf("listening %d\n", ntohs(sin.sin_port));
    fflush(stdout);
    for (;;)
        h2o_evloop_run(loop, INT32_MAX);
}
