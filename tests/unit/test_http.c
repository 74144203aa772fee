/* test_http — the HTTP/1.1 layer (common/http.h) over real loopback sockets, served by a real
 * event loop on its own thread, and its parsers (common/http_internal.h) on byte buffers.
 *
 * One loop thread runs for the whole program: each test starts a server on it with the
 * configuration it needs (short timeouts, few connections), talks to it with plain blocking
 * sockets from the main thread, and frees it. The app below routes on the path:
 *
 *   /count   reads the whole body, answers "<bytes> <md5>"; a failed read is recorded and the
 *            request finished without an answer (the layer answers)
 *   /echo    the body back, streamed (chunked) as it is read
 *   /refuse  403 at once, the body never asked for
 *   /hold    nothing: the request waits for the test to tell the app what to do
 *   /big     a response of ?size bytes written 256 KiB at a time, the outcome recorded
 *   other    "<method> <target>\n"
 */
#include "common/http.h"
#include "common/http_internal.h"
#include "common/listen.h"
#include "tests/unit/unit.h"
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024 * 1024)

/* ---------------------------------------------------------------- the loop thread */

static h2o_loop_t *loop;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static void (*cmd_fn)(void *);
static void *cmd_arg;
static int cmd_done, loop_ready;

static void *loop_main(void *arg)
{
    pthread_mutex_lock(&mu);
    loop = h2o_evloop_create();
    loop_ready = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (;;) {
        h2o_evloop_run(loop, 2);
        pthread_mutex_lock(&mu);
        if (cmd_fn != NULL) {
            void (*fn)(void *) = cmd_fn;
            cmd_fn = NULL;
            pthread_mutex_unlock(&mu);
            fn(cmd_arg);
            pthread_mutex_lock(&mu);
            cmd_done = 1;
            pthread_cond_broadcast(&cv);
        }
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

/* Runs fn(arg) on the loop thread and waits for it. */
static void on_loop(void (*fn)(void *), void *arg)
{
    pthread_mutex_lock(&mu);
    cmd_fn = fn;
    cmd_arg = arg;
    cmd_done = 0;
    while (!cmd_done)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------- the app (loop thread) */

static atomic_int body_status;  /* the last failed body read of /count, 0 while none */
static atomic_llong big_result; /* /big: 0 in progress, 1 done, or the failed write's code */
static yc_http_req_t *held;     /* the /hold request; loop thread only */
static char big_chunk[256 * 1024];

typedef struct {
    uint64_t bytes, left;
    EVP_MD_CTX *md5;
    int started;
} app_state_t;

static int is(h2o_iovec_t v, const char *s)
{
    return v.len == strlen(s) && memcmp(v.base, s, v.len) == 0;
}

static void count_next(yc_http_req_t *req, void *arg, h2o_iovec_t data, int status)
{
    app_state_t *st = req->app;
    unsigned char md[16];
    unsigned len = 0;
    char out[96];

    if (status < 0) {
        EVP_MD_CTX_free(st->md5);
        atomic_store(&body_status, status);
        yc_http_finish(req);
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

static void count_start(yc_http_req_t *req)
{
    app_state_t *st = h2o_mem_alloc_pool(req->pool, sizeof(*st));
    memset(st, 0, sizeof(*st));
    st->md5 = EVP_MD_CTX_new();
    EVP_DigestInit_ex(st->md5, EVP_md5(), NULL);
    req->app = st;
    yc_http_body_read(req, count_next, NULL);
}

static void echo_next(yc_http_req_t *req, void *arg, h2o_iovec_t data, int status);

static void echo_written(yc_http_req_t *req, void *arg, int status)
{
    if (status != 0 || arg != NULL)
        yc_http_finish(req);
    else
        yc_http_body_read(req, echo_next, NULL);
}

static void echo_next(yc_http_req_t *req, void *arg, h2o_iovec_t data, int status)
{
    app_state_t *st = req->app;

    if (status < 0) {
        atomic_store(&body_status, status);
        yc_http_finish(req);
        return;
    }
    if (!st->started) {
        yc_http_respond(req, 200, NULL, NULL, 0, YC_HTTP_LENGTH_UNKNOWN);
        st->started = 1;
    }
    void *last = status == YC_HTTP_BODY_END ? req : NULL;
    if (data.len == 0) {
        echo_written(req, last, 0);
        return;
    }
    yc_http_write(req, &data, 1, echo_written, last);
}

static void big_next(yc_http_req_t *req, void *arg, int status)
{
    app_state_t *st = req->app;

    if (status != 0 || st->left == 0) {
        atomic_store(&big_result, status != 0 ? status : 1);
        yc_http_finish(req);
        return;
    }
    size_t n = st->left < sizeof(big_chunk) ? (size_t)st->left : sizeof(big_chunk);
    h2o_iovec_t b = h2o_iovec_init(big_chunk, n);
    st->left -= n;
    yc_http_write(req, &b, 1, big_next, NULL);
}

static atomic_int held_chunk_ok; /* /keep-chunk: 1 when the chunk held was intact after the close */

typedef struct {
    h2o_iovec_t chunk; /* held, never copied */
    uint64_t left;
} keep_t;

static void keep_written(yc_http_req_t *req, void *arg, int status)
{
    keep_t *k = req->app;
    if (status == 0 && k->left > 0) {
        size_t n = k->left < sizeof(big_chunk) ? (size_t)k->left : sizeof(big_chunk);
        h2o_iovec_t b = h2o_iovec_init(big_chunk, n);
        k->left -= n;
        yc_http_write(req, &b, 1, keep_written, NULL);
        return;
    }
    /* the connection went (send timeout) while the app held the chunk: it must still be there */
    int ok = status == -ETIMEDOUT && !yc_http_req_alive(req) && k->chunk.len > 0;
    for (size_t i = 0; ok && i < k->chunk.len; i++)
        ok = k->chunk.base[i] == 'Q';
    atomic_store(&held_chunk_ok, ok ? 1 : -1);
    yc_http_finish(req);
}

static void keep_chunk(yc_http_req_t *req, void *arg, h2o_iovec_t data, int status)
{
    keep_t *k = req->app;
    k->chunk = data;
    k->left = 256 * MIB;
    yc_http_respond(req, 200, NULL, NULL, 0, k->left);
    keep_written(req, NULL, 0);
}

static atomic_int dropped_calls; /* callbacks of body reads that finish dropped: must stay 0 */

static void dropped_read(yc_http_req_t *req, void *arg, h2o_iovec_t data, int status)
{
    atomic_fetch_add(&dropped_calls, 1);
}

static void on_request(yc_http_req_t *req)
{
    int body_method = is(req->method, "PUT") || is(req->method, "POST");

    if (is(req->path, "/keep-chunk")) { /* holds the first body chunk while answering at length */
        keep_t *k = h2o_mem_alloc_pool(req->pool, sizeof(*k));
        memset(k, 0, sizeof(*k));
        req->app = k;
        yc_http_body_read(req, keep_chunk, NULL);
    } else if (is(req->path, "/split")) { /* what would split the response is refused */
        yc_http_header_t bad[] = {{h2o_iovec_init(H2O_STRLIT("x-a")), h2o_iovec_init(H2O_STRLIT("v\r\nx-b: w"))},
                                  {h2o_iovec_init(H2O_STRLIT("x a")), h2o_iovec_init(H2O_STRLIT("v"))}};
        int r1 = yc_http_respond(req, 200, NULL, &bad[0], 1, 0);
        int r2 = yc_http_respond(req, 200, NULL, &bad[1], 1, 0);
        int r3 = yc_http_respond(req, 200, "OK\r\nx-c: w", NULL, 0, 0);
        char msg[64];
        int len = snprintf(msg, sizeof(msg), "%d %d %d\n", r1, r2, r3);
        yc_http_send(req, 200, NULL, NULL, 0, h2o_iovec_init(msg, (size_t)len));
    } else if (is(req->path, "/ask-then-answer")) { /* asks for body, then answers at once */
        yc_http_body_read(req, dropped_read, NULL);
        yc_http_send(req, 200, NULL, NULL, 0, h2o_iovec_init(H2O_STRLIT("early\n")));
    } else if (is(req->path, "/buffered")) { /* whether the whole body came with the head */
        h2o_iovec_t says =
            yc_http_body_buffered(req) ? h2o_iovec_init(H2O_STRLIT("whole\n")) : h2o_iovec_init(H2O_STRLIT("more\n"));
        yc_http_send(req, 200, NULL, NULL, 0, says);
    } else if (is(req->path, "/refuse")) {
        yc_http_send(req, 403, NULL, NULL, 0, h2o_iovec_init(H2O_STRLIT("refused\n")));
    } else if (is(req->path, "/hold")) {
        held = req;
    } else if (body_method && is(req->path, "/count")) {
        count_start(req);
    } else if (body_method && is(req->path, "/echo")) {
        app_state_t *st = h2o_mem_alloc_pool(req->pool, sizeof(*st));
        memset(st, 0, sizeof(*st));
        req->app = st;
        yc_http_body_read(req, echo_next, NULL);
    } else if (is(req->path, "/big")) {
        app_state_t *st = h2o_mem_alloc_pool(req->pool, sizeof(*st));
        memset(st, 0, sizeof(*st));
        st->left = strtoull(req->query.len > 5 ? req->query.base + 5 : "0", NULL, 10); /* size=N */
        req->app = st;
        yc_http_respond(req, 200, NULL, NULL, 0, st->left);
        big_next(req, NULL, 0);
    } else {
        size_t len = req->method.len + 1 + req->target.len + 1;
        char *msg = h2o_mem_alloc_pool(req->pool, len);
        memcpy(msg, req->method.base, req->method.len);
        msg[req->method.len] = ' ';
        memcpy(msg + req->method.len + 1, req->target.base, req->target.len);
        msg[len - 1] = '\n';
        yc_http_header_t h = {h2o_iovec_init(H2O_STRLIT("x-version")),
                              h2o_iovec_init(req->version == 0x101 ? "1.1" : "1.0", 3)};
        yc_http_send(req, 200, NULL, &h, 1, h2o_iovec_init(msg, len));
    }
}

static void release_held_count(void *arg)
{
    if (held != NULL)
        count_start(held);
    held = NULL;
}

/* ---------------------------------------------------------------- the server of a test */

static yc_http_server_t *srv;
static int port;
static yc_http_config_t next_cfg;
static int configured;

static void do_start(void *arg)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    int fd = yc_listen_open("127.0.0.1", 0);

    getsockname(fd, (struct sockaddr *)&sin, &len);
    port = ntohs(sin.sin_port);
    if (yc_http_server_new(loop, &next_cfg, &srv) != 0 || yc_http_server_listen(srv, fd) != 0)
        abort();
}

/* A configuration with the defaults and our app; tests change what they need before start. */
static yc_http_config_t *config(void)
{
    yc_http_config_init(&next_cfg);
    next_cfg.on_request = on_request;
    next_cfg.server_name = "test";
    configured = 1;
    return &next_cfg;
}

static void start(void)
{
    if (!configured)
        config();
    configured = 0;
    atomic_store(&body_status, 0);
    atomic_store(&big_result, 0);
    held = NULL;
    on_loop(do_start, NULL);
}

static int free_ret;
static void do_stop(void *arg)
{
    free_ret = yc_http_server_free(srv);
}

/* Frees the test's server (retrying while the app still finishes a request): 0 or -EBUSY. */
static int stop(void)
{
    for (int i = 0; i < 200; i++) {
        on_loop(do_stop, NULL);
        if (free_ret == 0)
            return 0;
        sleep_ms(10);
    }
    return free_ret;
}

static yc_http_stats_t stats(void)
{
    yc_http_stats_t s;
    yc_http_server_stats(srv, &s);
    return s;
}

/* The number of open connections once it reached n, or after a second. */
static size_t connections_reach(size_t n)
{
    for (int i = 0; i < 100 && stats().connections != n; i++)
        sleep_ms(10);
    return stats().connections;
}

/* ---------------------------------------------------------------- a blocking client */

typedef struct {
    int fd;
    size_t len;
    char buf[256 * 1024];
} client_t;

typedef struct {
    int status;
    int close;   /* connection: close */
    int chunked; /* the body came chunked */
    long long length;
    char head[4096];
    size_t body_len;
    char body[2 * MIB];
} resp_t;

static client_t *cl_open(void)
{
    client_t *c = calloc(1, sizeof(*c));
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {3, 0};
    int one = 1;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
        abort();
    return c;
}

static void cl_close(client_t *c)
{
    if (c != NULL) {
        close(c->fd);
        free(c);
    }
}

static int cl_send(client_t *c, const void *p, size_t n)
{
    const char *s = p;
    while (n > 0) {
        ssize_t w = send(c->fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static int cl_sends(client_t *c, const char *s)
{
    return cl_send(c, s, strlen(s));
}

/* Reads more into the buffer: bytes, 0 at EOF, -1 on a timeout or an error (a reset). */
static ssize_t cl_fill(client_t *c)
{
    if (c->len == sizeof(c->buf))
        return -1;
    ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
    if (r > 0)
        c->len += (size_t)r;
    return r < 0 ? -1 : r;
}

static void cl_take(client_t *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
}

/* Waits for the end of the stream: 1 at EOF (or a reset), 0 when bytes came instead, -1 on a
 * timeout. */
static int cl_eof(client_t *c)
{
    if (c->len > 0)
        return 0;
    ssize_t r = recv(c->fd, c->buf, sizeof(c->buf), 0);
    if (r > 0) {
        c->len = (size_t)r;
        return 0;
    }
    return r == 0 || errno == ECONNRESET ? 1 : -1;
}

static const char *find(const char *hay, size_t n, const char *needle)
{
    return memmem(hay, n, needle, strlen(needle));
}

/* Reads one response (a 100 Continue is one too), with no body for a HEAD. 0, or -1 when the
 * stream ended first. */
static int cl_response_to(client_t *c, resp_t *r, int head)
{
    const char *end;

    memset(r, 0, offsetof(resp_t, body));
    r->length = -1;
    while ((end = find(c->buf, c->len, "\r\n\r\n")) == NULL)
        if (cl_fill(c) <= 0)
            return -1;
    size_t head_len = (size_t)(end - c->buf) + 4;
    if (head_len >= sizeof(r->head))
        return -1;
    memcpy(r->head, c->buf, head_len);
    r->head[head_len] = 0;
    cl_take(c, head_len);
    for (char *p = r->head; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    r->status = atoi(r->head + 9);
    const char *cl = strstr(r->head, "\r\ncontent-length: ");
    if (cl != NULL)
        r->length = atoll(cl + 18);
    r->chunked = strstr(r->head, "\r\ntransfer-encoding: chunked\r\n") != NULL;
    r->close = strstr(r->head, "\r\nconnection: close\r\n") != NULL;
    if (head || r->status / 100 == 1 || r->status == 204 || r->status == 304)
        return 0;
    if (r->length >= 0) {
        if ((size_t)r->length > sizeof(r->body))
            return -1;
        while (c->len < (size_t)r->length)
            if (cl_fill(c) <= 0)
                return -1;
        memcpy(r->body, c->buf, (size_t)r->length);
        r->body_len = (size_t)r->length;
        cl_take(c, (size_t)r->length);
    } else if (r->chunked) {
        for (;;) {
            while ((end = find(c->buf, c->len, "\r\n")) == NULL)
                if (cl_fill(c) <= 0)
                    return -1;
            size_t n = strtoul(c->buf, NULL, 16);
            cl_take(c, (size_t)(end - c->buf) + 2);
            while (c->len < n + 2)
                if (cl_fill(c) <= 0)
                    return -1;
            if (r->body_len + n > sizeof(r->body))
                return -1;
            memcpy(r->body + r->body_len, c->buf, n);
            r->body_len += n;
            cl_take(c, n + 2);
            if (n == 0)
                break;
        }
    } else {
        while (cl_fill(c) > 0)
            ;
        memcpy(r->body, c->buf, c->len < sizeof(r->body) ? c->len : sizeof(r->body));
        r->body_len = c->len;
        c->len = 0;
    }
    return 0;
}

static int cl_response(client_t *c, resp_t *r)
{
    return cl_response_to(c, r, 0);
}

static int body_is(const resp_t *r, const char *s)
{
    return r->body_len == strlen(s) && memcmp(r->body, s, r->body_len) == 0;
}

static void md5_hex(const void *p, size_t n, char *out)
{
    unsigned char md[16];
    unsigned len = 0;
    EVP_Digest(p, n, md, &len, EVP_md5(), NULL);
    for (unsigned i = 0; i < len; i++)
        sprintf(out + 2 * i, "%02x", md[i]);
}

static resp_t resp; /* large: one for the whole program */

/* ---------------------------------------------------------------- requests and bodies */

TEST(test_get_is_answered_with_length_date_and_the_request_line)
{
    start();
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "GET /a/b?x=1&y HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK_EQ_INT(resp.status, 200);
    CHECK(body_is(&resp, "GET /a/b?x=1&y\n"));
    CHECK(strstr(resp.head, "\r\ndate: ") != NULL && strstr(resp.head, " gmt\r\n") != NULL);
    CHECK(strstr(resp.head, "\r\nserver: test\r\n") != NULL);
    CHECK(strstr(resp.head, "\r\nx-version: 1.1\r\n") != NULL);
    CHECK(!resp.close);
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_put_with_content_length_streams_the_body_to_the_app)
{
    static char body[1 * MIB + 12345];
    char expect[64], md[33];

    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (char)(i * 7 + i / 1000);
    md5_hex(body, sizeof(body), md);
    snprintf(expect, sizeof(expect), "%zu %s", sizeof(body), md);
    start();
    client_t *c = cl_open();
    char head[128];
    snprintf(head, sizeof(head), "PUT /count HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\n\r\n", sizeof(body));
    CHECK_EQ_INT(cl_sends(c, head), 0);
    CHECK_EQ_INT(cl_send(c, body, sizeof(body)), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK_EQ_INT(resp.status, 200);
    CHECK(body_is(&resp, expect));
    /* and the connection serves the next request */
    CHECK_EQ_INT(cl_sends(c, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "GET /next\n"));
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_chunked_upload_with_extensions_and_trailers_is_decoded)
{
    start();
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "PUT /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "5;name=value;flag ; q=\"a \\\"b\\\" c\"\r\nhello\r\n"
                             "1\r\n \r\n"
                             "000005\r\nworld\r\n"
                             "0;last=1\r\nx-amz-checksum-crc32: AAAAAA==\r\nx-other:  v  \r\n\r\n"
                             "GET /after HTTP/1.1\r\nHost: h\r\n\r\n"),
                 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK_EQ_INT(resp.status, 200);
    CHECK(resp.chunked);
    CHECK(body_is(&resp, "hello world"));
    /* the trailers ended the body exactly: the next request is read as one */
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "GET /after\n"));
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_malformed_chunk_fails_the_read_and_closes)
{
    static const char *bad[] = {
        "5\nhello\r\n0\r\n\r\n",        /* a bare LF ends the size line */
        "5;a\nb\r\nhello\r\n0\r\n\r\n", /* a bare LF inside an extension */
        "5 x\r\nhello\r\n0\r\n\r\n",    /* no ';' before the extension */
        "5\r\nhelloXX0\r\n\r\n",        /* no CRLF after the data */
        "0x5\r\nhello\r\n0\r\n\r\n",    /* not hex */
        "0\r\nx y: z\r\n\r\n",          /* a trailer name that is no token */
        "fffffffffffffffff\r\n",        /* more than 64 bits */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        start();
        client_t *c = cl_open();
        CHECK_EQ_INT(cl_sends(c, "PUT /count HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"), 0);
        CHECK_EQ_INT(cl_sends(c, bad[i]), 0);
        CHECK_EQ_INT(cl_response(c, &resp), 0);
        if (resp.status != 400)
            fprintf(stderr, "  case %zu: %d\n", i, resp.status);
        CHECK_EQ_INT(resp.status, 400);
        CHECK(resp.close);
        CHECK_EQ_INT(atomic_load(&body_status), -EBADMSG);
        CHECK_EQ_INT(cl_eof(c), 1);
        cl_close(c);
        CHECK_EQ_INT(stop(), 0);
    }
}

TEST(test_pipelined_requests_are_answered_in_order)
{
    start();
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
                             "PUT /count HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
                             "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n"),
                 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "GET /1\n"));
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "3 900150983cd24fb0d6963f7d28e17f72"));
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "GET /3\n"));
    CHECK_EQ_INT(stats().requests, 3);
    CHECK_EQ_INT(stats().accepted, 1);
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_keep_alive_serves_requests_one_after_another)
{
    start();
    client_t *c = cl_open();
    for (int i = 0; i < 5; i++) {
        char req[64], want[32];
        snprintf(req, sizeof(req), "GET /%d HTTP/1.1\r\nHost: h\r\n\r\n", i);
        snprintf(want, sizeof(want), "GET /%d\n", i);
        CHECK_EQ_INT(cl_sends(c, req), 0);
        CHECK_EQ_INT(cl_response(c, &resp), 0);
        CHECK(body_is(&resp, want));
        CHECK(!resp.close);
    }
    CHECK_EQ_INT(stats().accepted, 1);
    CHECK_EQ_INT(stats().connections, 1);
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_connection_close_is_honoured_both_ways)
{
    start();
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
                             "GET /never HTTP/1.1\r\nHost: h\r\n\r\n"),
                 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "GET /x\n"));
    CHECK(resp.close);
    CHECK_EQ_INT(cl_eof(c), 1); /* the request after a close is not served */
    cl_close(c);
    CHECK_EQ_INT(stats().requests, 1);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_http10_keeps_the_connection_only_on_request)
{
    start();
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "GET /a HTTP/1.0\r\n\r\n"), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "GET /a\n"));
    CHECK(strstr(resp.head, "\r\nx-version: 1.0\r\n") != NULL);
    CHECK(resp.close);
    CHECK_EQ_INT(cl_eof(c), 1);
    cl_close(c);

    c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(strstr(resp.head, "\r\nconnection: keep-alive\r\n") != NULL);
    CHECK_EQ_INT(cl_sends(c, "GET /c HTTP/1.0\r\n\r\n"), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "GET /c\n"));
    /* a response of unknown length to HTTP/1.0 ends with the connection */
    CHECK_EQ_INT(cl_eof(c), 1);
    cl_close(c);

    c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "PUT /echo HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 4\r\n\r\nabcd"), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(resp.close && !resp.chunked && resp.length < 0);
    CHECK(body_is(&resp, "abcd"));
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_half_closed_client_still_gets_its_answers)
{
    start();
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "GET /one HTTP/1.1\r\nHost: h\r\n\r\n"
                             "PUT /count HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"),
                 0);
    shutdown(c->fd, SHUT_WR);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "GET /one\n"));
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "3 900150983cd24fb0d6963f7d28e17f72"));
    CHECK_EQ_INT(cl_eof(c), 1);
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_head_gets_headers_without_a_body)
{
    start();
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "HEAD /big?size=100000 HTTP/1.1\r\nHost: h\r\n\r\n"
                             "GET /after HTTP/1.1\r\nHost: h\r\n\r\n"),
                 0);
    CHECK_EQ_INT(cl_response_to(c, &resp, 1), 0);
    CHECK_EQ_INT(resp.status, 200);
    CHECK(strstr(resp.head, "\r\ncontent-length: 100000\r\n") != NULL);
    /* no body came: what follows the head is the next response */
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "GET /after\n"));
    CHECK_EQ_INT(atomic_load(&big_result), 1);
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

/* ---------------------------------------------------------------- 100-continue and early answers */

TEST(test_expect_continue_gets_100_when_the_app_reads)
{
    start();
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "PUT /count HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK_EQ_INT(resp.status, 100);
    CHECK_EQ_INT(cl_sends(c, "abc"), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK_EQ_INT(resp.status, 200);
    CHECK(body_is(&resp, "3 900150983cd24fb0d6963f7d28e17f72"));
    CHECK(!resp.close);
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_expect_other_than_continue_is_ignored)
{
    static const char *const expects[] = {"Expect: 200\r\n", "Expect:\r\n", "Expect: 200-ok\r\n"};
    char req[160];
    start();
    for (size_t i = 0; i < sizeof(expects) / sizeof(expects[0]); i++) {
        snprintf(req, sizeof(req), "PUT /count HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n%s\r\nabc", expects[i]);
        client_t *c = cl_open();
        CHECK_EQ_INT(cl_sends(c, req), 0);
        CHECK_EQ_INT(cl_response(c, &resp), 0);
        CHECK_EQ_INT(resp.status, 200); /* no 100 first, no 417 */
        CHECK(body_is(&resp, "3 900150983cd24fb0d6963f7d28e17f72"));
        cl_close(c);
    }
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_expect_continue_refused_gets_no_100_and_closes)
{
    start();
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "PUT /refuse HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"),
                 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK_EQ_INT(resp.status, 403);
    CHECK(resp.close);
    CHECK_EQ_INT(cl_eof(c), 1);
    cl_close(c);

    /* a client that sends the body anyway: dropped while lingering, never read as a request */
    static const char inner[] = "GET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n";
    char head[160];
    snprintf(head, sizeof(head),
             "PUT /refuse HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\nExpect: 100-continue\r\n\r\n", strlen(inner));
    c = cl_open();
    CHECK_EQ_INT(cl_sends(c, head), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK_EQ_INT(resp.status, 403);
    CHECK_EQ_INT(cl_sends(c, inner), 0);
    CHECK_EQ_INT(cl_eof(c), 1);
    cl_close(c);
    sleep_ms(50);
    CHECK_EQ_INT(stats().requests, 2);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_early_answer_drains_a_small_unread_body)
{
    static const char inner[] = "GET /inside HTTP/1.1\r\nHost: h\r\n\r\n";
    char head[128];
    snprintf(head, sizeof(head), "PUT /refuse HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\n\r\n", strlen(inner));
    start();
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, head), 0);
    CHECK_EQ_INT(cl_sends(c, inner), 0);
    CHECK_EQ_INT(cl_sends(c, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK_EQ_INT(resp.status, 403);
    CHECK(!resp.close);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "GET /next\n")); /* the body was dropped, not read as a request */
    CHECK_EQ_INT(stats().requests, 2);
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

/* yc_http_body_buffered: 1 only when the whole body is already in the layer's buffer, so that
 * taking it reads nothing more from the socket. */
TEST(test_body_buffered_only_when_whole_body_came_with_head)
{
    static const char with_body[] = "PUT /buffered HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
    static const char empty[] = "PUT /buffered HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n";
    static const char head_only[] = "PUT /buffered HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n";
    static const char chunked[] = "PUT /buffered HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "5\r\nhello\r\n0\r\n\r\n";
    start();
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, with_body), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "whole\n"));
    CHECK_EQ_INT(cl_sends(c, empty), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "whole\n"));
    /* a chunked body's framing is not parsed ahead: it never counts as there */
    CHECK_EQ_INT(cl_sends(c, chunked), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "more\n"));
    /* the head alone: the body is still to come */
    CHECK_EQ_INT(cl_sends(c, head_only), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "more\n"));
    CHECK_EQ_INT(cl_sends(c, "hello"), 0); /* drained, and the connection goes on */
    CHECK_EQ_INT(cl_sends(c, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "GET /next\n"));
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_early_answer_to_a_large_body_closes_at_once)
{
    static char chunk[MIB];
    start();
    client_t *c = cl_open();
    memset(chunk, 'G', sizeof(chunk));
    int64_t t0 = now_ms();
    CHECK_EQ_INT(cl_sends(c, "PUT /refuse HTTP/1.1\r\nHost: h\r\nContent-Length: 1073741824\r\n\r\n"), 0);
    CHECK_EQ_INT(cl_send(c, chunk, sizeof(chunk)), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK_EQ_INT(resp.status, 403);
    CHECK(resp.close);
    CHECK_EQ_INT(cl_eof(c), 1);
    CHECK(now_ms() - t0 < 1500);
    CHECK_EQ_INT(stats().requests, 1);
    CHECK_EQ_INT(stats().layer_errors, 0);
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_response_headers_that_would_split_it_are_refused)
{
    char want[64];
    snprintf(want, sizeof(want), "%d %d %d\n", -EINVAL, -EINVAL, -EINVAL);
    start();
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "GET /split HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, want));
    CHECK(strstr(resp.head, "x-b") == NULL && strstr(resp.head, "x-c") == NULL);
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_finish_drops_a_pending_body_read)
{
    config()->body_timeout_ms = 300;
    start();
    atomic_store(&dropped_calls, 0);
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "PUT /ask-then-answer HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n"), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "early\n"));
    CHECK(!resp.close);
    sleep_ms(100);
    CHECK_EQ_INT(cl_sends(c, "abcGET /then HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "GET /then\n"));
    sleep_ms(400); /* past the body timeout: nothing may fire for the dropped read */
    CHECK_EQ_INT(atomic_load(&dropped_calls), 0);
    CHECK_EQ_INT(stats().connections, 1);
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_client_gone_mid_body_fails_the_read)
{
    static char part[100 * 1024];
    start();
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "PUT /count HTTP/1.1\r\nHost: h\r\nContent-Length: 1048576\r\n\r\n"), 0);
    CHECK_EQ_INT(cl_send(c, part, sizeof(part)), 0);
    cl_close(c);
    int64_t t0 = now_ms();
    while (atomic_load(&body_status) == 0 && now_ms() - t0 < 2000)
        sleep_ms(5);
    CHECK_EQ_INT(atomic_load(&body_status), -ECONNRESET);
    CHECK_EQ_INT(connections_reach(0), 0);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_a_chunk_the_app_holds_outlives_the_connection)
{
    static char body[4096];
    config()->send_timeout_ms = 300;
    start();
    atomic_store(&held_chunk_ok, 0);
    memset(body, 'Q', sizeof(body));
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "PUT /keep-chunk HTTP/1.1\r\nHost: h\r\nContent-Length: 4096\r\n\r\n"), 0);
    CHECK_EQ_INT(cl_send(c, body, sizeof(body)), 0);
    /* the client reads nothing: the send timeout closes the connection under the app's chunk */
    int64_t t0 = now_ms();
    while (atomic_load(&held_chunk_ok) == 0 && now_ms() - t0 < 3000)
        sleep_ms(10);
    CHECK_EQ_INT(atomic_load(&held_chunk_ok), 1);
    CHECK_EQ_INT(stats().connections, 0);
    CHECK_EQ_INT(stats().input_bytes, 0);
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

/* ---------------------------------------------------------------- back-pressure */

/* Sends from buf until the socket stays full for quiet_ms; the bytes sent. */
static size_t send_until_blocked(client_t *c, const char *buf, size_t len, size_t max, int quiet_ms)
{
    size_t sent = 0;
    int flags = fcntl(c->fd, F_GETFL);

    fcntl(c->fd, F_SETFL, flags | O_NONBLOCK);
    while (sent < max) {
        ssize_t w = send(c->fd, buf, len < max - sent ? len : max - sent, MSG_NOSIGNAL);
        if (w > 0) {
            sent += (size_t)w;
            continue;
        }
        struct pollfd p = {c->fd, POLLOUT, 0};
        if (poll(&p, 1, quiet_ms) == 0)
            break;
    }
    fcntl(c->fd, F_SETFL, flags);
    return sent;
}

TEST(test_back_pressure_stops_reading_while_the_app_does_not_ask)
{
    static char chunk[MIB];
    const size_t total = 64 * MIB;
    char head[128], expect[80], md[33];
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char digest[16];
    unsigned dlen;

    memset(chunk, 'z', sizeof(chunk));
    EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
    for (size_t i = 0; i < total / sizeof(chunk); i++)
        EVP_DigestUpdate(ctx, chunk, sizeof(chunk));
    EVP_DigestFinal_ex(ctx, digest, &dlen);
    EVP_MD_CTX_free(ctx);
    for (unsigned i = 0; i < 16; i++)
        sprintf(md + 2 * i, "%02x", digest[i]);
    snprintf(expect, sizeof(expect), "%zu %s", total, md);

    start();
    client_t *c = cl_open();
    snprintf(head, sizeof(head), "PUT /hold HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\n\r\n", total);
    CHECK_EQ_INT(cl_sends(c, head), 0);
    size_t sent = send_until_blocked(c, chunk, sizeof(chunk), total, 300);
    yc_http_stats_t s = stats();
    fprintf(stderr, "  back-pressure: the client could send %zu KiB of %zu MiB; the server buffers %zu KiB\n",
            sent / 1024, total / MIB, s.input_bytes / 1024);
    /* the kernel's buffers take some MiB; the layer holds at most a read's worth */
    CHECK(sent < total / 4);
    CHECK(s.input_bytes <= 64 * 1024 + 16 * 1024);
    /* the app asks: the rest flows */
    on_loop(release_held_count, NULL);
    CHECK_EQ_INT(cl_send(c, chunk, sizeof(chunk) - sent % sizeof(chunk)), 0);
    for (size_t left = total - sent - (sizeof(chunk) - sent % sizeof(chunk)); left > 0; left -= sizeof(chunk))
        CHECK_EQ_INT(cl_send(c, chunk, sizeof(chunk)), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK_EQ_INT(resp.status, 200);
    CHECK(body_is(&resp, expect));
    CHECK(stats().input_bytes <= 64 * 1024 + 16 * 1024);
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_echo_of_a_large_body_streams_both_ways)
{
    static char body[2 * MIB - 100];
    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (char)(i % 251);
    start();
    client_t *c = cl_open();
    char head[128];
    snprintf(head, sizeof(head), "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\n\r\n", sizeof(body));
    CHECK_EQ_INT(cl_sends(c, head), 0);
    CHECK_EQ_INT(cl_send(c, body, sizeof(body)), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(resp.chunked);
    CHECK_EQ_INT(resp.body_len, sizeof(body));
    CHECK(memcmp(resp.body, body, sizeof(body)) == 0);
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

/* ---------------------------------------------------------------- the layer's own refusals */

static int answer_of(const char *request, resp_t *r)
{
    client_t *c = cl_open();
    int ret = cl_send(c, request, strlen(request)) == 0 && cl_response(c, r) == 0 ? r->status : -1;
    if (ret > 0 && (!r->close || cl_eof(c) != 1))
        ret = -2; /* a refusal must close */
    cl_close(c);
    return ret;
}

TEST(test_layer_refusals_answer_the_right_status_and_close)
{
    static const struct {
        const char *request;
        int status;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc", 400},
        {"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", 400},
        {"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 12a\r\n\r\n", 400},
        {"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400},
        {"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc", 400},
        {"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400},
        {"PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
        {"PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400},
        {"PUT / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\n\r\n", 400},                          /* no Host */
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},    /* two */
        {"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400}, /* obs-fold */
        {"GET / HTTP/1.1\nHost: h\n\n", 400},                     /* bare LF */
        {"GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", 400},         /* one bare LF */
        {"GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", 400},
        {"GET\r\n\r\n", 400},
        {"PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        {"PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
        {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505},
        {"GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505},
        {"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
    };
    start();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = answer_of(cases[i].request, &resp);
        if (got != cases[i].status)
            fprintf(stderr, "  case %zu: got %d, want %d\n", i, got, cases[i].status);
        CHECK_EQ_INT(got, cases[i].status);
    }
    CHECK_EQ_INT(stats().requests, 0);
    CHECK_EQ_INT(stats().layer_errors, sizeof(cases) / sizeof(cases[0]));
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_431_for_a_head_over_16k_and_for_too_many_headers)
{
    static char req[20000];
    start();
    /* 16 KiB exactly is served */
    int n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: h\r\nX: ");
    size_t fill = 16 * 1024 - (size_t)n - 4;
    memset(req + n, 'a', fill);
    memcpy(req + n + fill, "\r\n\r\n", 5);
    CHECK_EQ_INT(strlen(req), 16 * 1024);
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, req), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK_EQ_INT(resp.status, 200);
    cl_close(c);
    /* 17 KiB is not */
    memset(req + n, 'a', 17 * 1024);
    memcpy(req + n + 17 * 1024, "\r\n\r\n", 5);
    CHECK_EQ_INT(answer_of(req, &resp), 431);
    /* a head that never ends is cut at the limit, not read on */
    c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "GET / HTTP/1.1\r\nHost: h\r\nX: "), 0);
    memset(req, 'b', sizeof(req));
    CHECK_EQ_INT(cl_send(c, req, 17 * 1024), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK_EQ_INT(resp.status, 431);
    cl_close(c);
    /* 100 headers are served, 101 are not */
    n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 1; i < 100; i++)
        n += snprintf(req + n, sizeof(req) - (size_t)n, "X-%d: v\r\n", i);
    snprintf(req + n, sizeof(req) - (size_t)n, "\r\n");
    c = cl_open();
    CHECK_EQ_INT(cl_sends(c, req), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK_EQ_INT(resp.status, 200);
    cl_close(c);
    snprintf(req + n, sizeof(req) - (size_t)n, "X-100: v\r\n\r\n");
    CHECK_EQ_INT(answer_of(req, &resp), 431);
    CHECK_EQ_INT(stop(), 0);
}

/* ---------------------------------------------------------------- timers and limits */

TEST(test_head_timeout_answers_408_to_a_slowloris_and_closes)
{
    config()->head_timeout_ms = 300;
    start();
    client_t *c = cl_open();
    int64_t t0 = now_ms();
    const char *drip = "GET / HTTP/1.1\r\nHost: h\r\nX-Slow: ";
    size_t i = 0;
    /* a byte every 50 ms: the connection moves, but the head does not arrive in time */
    while (now_ms() - t0 < 600 && i < strlen(drip)) {
        if (cl_send(c, drip + i++, 1) != 0)
            break;
        sleep_ms(50);
    }
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK_EQ_INT(resp.status, 408);
    CHECK_EQ_INT(cl_eof(c), 1);
    int64_t took = now_ms() - t0;
    CHECK(took >= 250 && took < 1000);
    cl_close(c);
    /* a connection that sends nothing is closed without an answer */
    c = cl_open();
    t0 = now_ms();
    CHECK_EQ_INT(cl_eof(c), 1);
    CHECK(now_ms() - t0 < 1000);
    cl_close(c);
    CHECK_EQ_INT(connections_reach(0), 0);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_body_timeout_fails_the_read_and_answers_408)
{
    config()->body_timeout_ms = 300;
    start();
    client_t *c = cl_open();
    int64_t t0 = now_ms();
    CHECK_EQ_INT(cl_sends(c, "PUT /count HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n0123456789"), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK_EQ_INT(resp.status, 408);
    CHECK(resp.close);
    CHECK_EQ_INT(atomic_load(&body_status), -ETIMEDOUT);
    CHECK_EQ_INT(cl_eof(c), 1);
    int64_t took = now_ms() - t0;
    CHECK(took >= 250 && took < 1000);
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_a_steady_slow_body_is_not_cut)
{
    config()->body_timeout_ms = 300;
    start();
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "PUT /count HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n"), 0);
    for (int i = 0; i < 10; i++) { /* 1 s in all, a byte every 100 ms */
        CHECK_EQ_INT(cl_send(c, "x", 1), 0);
        sleep_ms(100);
    }
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK_EQ_INT(resp.status, 200);
    CHECK(body_is(&resp, "10 336311a016184326ddbdd61edd4eeb52"));
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_send_timeout_closes_a_reader_that_takes_nothing)
{
    config()->send_timeout_ms = 300;
    start();
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "GET /big?size=268435456 HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
    int64_t t0 = now_ms();
    while (atomic_load(&big_result) == 0 && now_ms() - t0 < 3000)
        sleep_ms(10);
    CHECK_EQ_INT(atomic_load(&big_result), -ETIMEDOUT);
    CHECK(now_ms() - t0 < 2000);
    CHECK_EQ_INT(stats().connections, 0);
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_send_timeout_spares_a_slow_reader)
{
    static char sink[128 * 1024];
    config()->send_timeout_ms = 300;
    start();
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "GET /big?size=268435456 HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
    int64_t t0 = now_ms();
    while (now_ms() - t0 < 1500) { /* takes 128 KiB every 100 ms: slow, but moving */
        CHECK(recv(c->fd, sink, sizeof(sink), MSG_WAITALL) > 0);
        sleep_ms(100);
    }
    CHECK_EQ_INT(atomic_load(&big_result), 0);
    CHECK_EQ_INT(stats().connections, 1);
    cl_close(c); /* the write fails now, and the app finishes */
    while (atomic_load(&big_result) == 0 && now_ms() - t0 < 5000)
        sleep_ms(10);
    CHECK(atomic_load(&big_result) < 0);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_keepalive_timeout_closes_an_idle_connection)
{
    config()->keepalive_timeout_ms = 300;
    start();
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    int64_t t0 = now_ms();
    CHECK_EQ_INT(cl_eof(c), 1);
    int64_t took = now_ms() - t0;
    CHECK(took >= 250 && took < 1000);
    cl_close(c);
    CHECK_EQ_INT(stats().connections, 0);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_max_connections_closes_the_one_too_many)
{
    config()->max_connections = 3;
    start();
    client_t *c[4];
    for (int i = 0; i < 3; i++)
        c[i] = cl_open();
    while (stats().connections < 3)
        sleep_ms(5);
    c[3] = cl_open();
    int64_t t0 = now_ms();
    CHECK_EQ_INT(cl_eof(c[3]), 1);
    CHECK(now_ms() - t0 < 500);
    CHECK_EQ_INT(stats().refused, 1);
    /* the three are served */
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(cl_sends(c[i], "GET /ok HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
        CHECK_EQ_INT(cl_response(c[i], &resp), 0);
        CHECK_EQ_INT(resp.status, 200);
    }
    /* one goes: room for a new one */
    cl_close(c[0]);
    cl_close(c[3]);
    while (stats().connections > 2)
        sleep_ms(5);
    c[0] = cl_open();
    CHECK_EQ_INT(cl_sends(c[0], "GET /ok HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
    CHECK_EQ_INT(cl_response(c[0], &resp), 0);
    CHECK_EQ_INT(resp.status, 200);
    for (int i = 0; i < 3; i++)
        cl_close(c[i]);
    CHECK_EQ_INT(stop(), 0);
}

static long rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

/* One connection that uploaded a small body (read through the body path, whose reads reserve
 * read_chunk_bytes) and now idles; its fd, or -1. */
static int idle_connection(void)
{
    static const char body[1024] = {0};
    client_t *c = cl_open();
    int fd = -1;
    if (cl_sends(c, "PUT /count HTTP/1.1\r\nHost: h\r\nContent-Length: 1024\r\nExpect: 100-continue\r\n\r\n") == 0 &&
        cl_response(c, &resp) == 0 && resp.status == 100 && cl_send(c, body, sizeof(body)) == 0 &&
        cl_response(c, &resp) == 0 && resp.status == 200) {
        fd = c->fd;
        c->fd = -1;
    }
    cl_close(c);
    return fd;
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

TEST(test_idle_connections_cost_less_than_20k_each)
{
    enum { WARM = 100, N = 3000 };
    static int fds[WARM + N];
    start();
    for (int i = 0; i < WARM; i++)
        CHECK((fds[i] = idle_connection()) >= 0);
    sleep_ms(50);
    long before = rss_bytes();
    for (int i = WARM; i < WARM + N; i++)
        CHECK((fds[i] = idle_connection()) >= 0);
    sleep_ms(50);
    long after = rss_bytes();
    yc_http_stats_t s = stats();
    long per = (after - before) / N;
    fprintf(stderr, "  idle connections: %d more cost %ld KiB of RSS, %ld bytes each; input buffers held: %zu\n", N,
            (after - before) / 1024, per, s.input_bytes);
    CHECK_EQ_INT(s.connections, WARM + N);
    CHECK_EQ_INT(s.input_bytes, 0); /* idle: no input buffer kept */
#ifndef UNDER_ASAN
    CHECK(per <= 20 * 1024);
#endif
    for (int i = 0; i < WARM + N; i++)
        close(fds[i]);
    while (stats().connections > 0)
        sleep_ms(5);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_server_free_waits_for_the_app)
{
    start();
    client_t *c = cl_open();
    CHECK_EQ_INT(cl_sends(c, "PUT /hold HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"), 0);
    while (stats().requests < 1)
        sleep_ms(5);
    on_loop(do_stop, NULL);
    CHECK_EQ_INT(free_ret, -EBUSY);
    on_loop(release_held_count, NULL);
    CHECK_EQ_INT(cl_response(c, &resp), 0);
    CHECK(body_is(&resp, "3 900150983cd24fb0d6963f7d28e17f72"));
    cl_close(c);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_tls_files_are_checked_when_the_server_is_made)
{
    char dir[] = "/tmp/yc-http-tls-XXXXXX", junk[64], missing[64];
    yc_http_server_t *s = NULL;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(junk, sizeof(junk), "%s/junk.pem", dir);
    snprintf(missing, sizeof(missing), "%s/missing.pem", dir);
    FILE *f = fopen(junk, "w");
    fputs("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n", f);
    fclose(f);
    yc_http_config_t *cfg = config();
    configured = 0;
    cfg->tls_cert_file = junk; /* a key file is required with it */
    CHECK_EQ_INT(yc_http_server_new(loop, cfg, &s), -EINVAL);
    cfg->tls_key_file = missing;
    CHECK_EQ_INT(yc_http_server_new(loop, cfg, &s), -ENOENT);
    cfg->tls_key_file = junk;
    CHECK_EQ_INT(yc_http_server_new(loop, cfg, &s), -EPROTO);
    CHECK(s == NULL);
    unlink(junk);
    rmdir(dir);
}

/* ---- a small HTTP/2 client (nghttp2's client session over a blocking socket, prior knowledge) */

typedef struct {
    client_t *c;
    nghttp2_session *ng;
    int reset_code; /* RST_STREAM received, -1 while none */
    int status;     /* :status of the response */
    int ended;
    char body[256];
    size_t body_len;
} h2cl_t;

static int h2cl_on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                          const uint8_t *value, size_t valuelen, uint8_t flags, void *user)
{
    h2cl_t *h = user;
    if (namelen == 7 && memcmp(name, ":status", 7) == 0)
        h->status = atoi((const char *)value);
    return 0;
}

static int h2cl_on_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *user)
{
    h2cl_t *h = user;
    size_t n = len < sizeof(h->body) - h->body_len ? len : sizeof(h->body) - h->body_len;
    memcpy(h->body + h->body_len, data, n);
    h->body_len += n;
    return 0;
}

static int h2cl_on_close(nghttp2_session *ng, int32_t id, uint32_t code, void *user)
{
    h2cl_t *h = user;
    h->ended = 1;
    h->reset_code = (int)code;
    return 0;
}

static void h2cl_flush(h2cl_t *h)
{
    const uint8_t *p;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(h->ng, &p)) > 0)
        cl_send(h->c, p, (size_t)n);
}

/* Reads and handles what the server sent until the stream ended or a second went by. */
static void h2cl_until_ended(h2cl_t *h)
{
    char buf[16384];
    for (int64_t deadline = now_ms() + 1000; !h->ended && now_ms() < deadline;) {
        struct pollfd pfd = {h->c->fd, POLLIN, 0};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        ssize_t r = recv(h->c->fd, buf, sizeof(buf), 0);
        if (r <= 0)
            break;
        nghttp2_session_mem_recv(h->ng, (const uint8_t *)buf, (size_t)r);
        h2cl_flush(h);
    }
}

static h2cl_t *h2cl_open(void)
{
    h2cl_t *h = calloc(1, sizeof(*h));
    nghttp2_session_callbacks *cbs;

    h->c = cl_open();
    h->reset_code = -1;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(cbs, h2cl_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, h2cl_on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, h2cl_on_close);
    nghttp2_session_client_new(&h->ng, cbs, h);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(h->ng, NGHTTP2_FLAG_NONE, NULL, 0);
    return h;
}

static void h2cl_close(h2cl_t *h)
{
    nghttp2_session_del(h->ng);
    cl_close(h->c);
    free(h);
}

static int32_t h2cl_request(h2cl_t *h, const char *method, const char *path, int end_stream)
{
    nghttp2_nv nva[] = {
        {(uint8_t *)":method", (uint8_t *)method, 7, strlen(method), 0},
        {(uint8_t *)":path", (uint8_t *)path, 5, strlen(path), 0},
        {(uint8_t *)":scheme", (uint8_t *)"http", 7, 4, 0},
        {(uint8_t *)":authority", (uint8_t *)"h", 10, 1, 0},
    };
    int32_t id =
        nghttp2_submit_headers(h->ng, end_stream ? NGHTTP2_FLAG_END_STREAM : NGHTTP2_FLAG_NONE, -1, NULL, nva, 4, NULL);
    h2cl_flush(h);
    return id;
}

TEST(test_h2_prior_knowledge_gets_the_same_requests)
{
    config()->h2_prior_knowledge = 1;
    start();
    h2cl_t *h = h2cl_open();
    h2cl_request(h, "GET", "/q?a=1", 1);
    h2cl_until_ended(h);
    CHECK_EQ_INT(h->status, 200);
    CHECK(h->body_len == 11 && memcmp(h->body, "GET /q?a=1\n", 11) == 0);
    CHECK_EQ_INT(h->reset_code, 0);
    CHECK(stats().h2_connections == 1);
    h2cl_close(h);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_h2_reset_stream_fails_the_apps_read_and_the_server_waits_for_it)
{
    config()->h2_prior_knowledge = 1;
    start();
    h2cl_t *h = h2cl_open();
    int32_t id = h2cl_request(h, "PUT", "/hold", 0);
    while (stats().requests < 1)
        sleep_ms(5);
    on_loop(do_stop, NULL);
    CHECK_EQ_INT(free_ret, -EBUSY); /* the app holds an HTTP/2 request */
    nghttp2_submit_rst_stream(h->ng, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
    h2cl_flush(h);
    sleep_ms(50);
    on_loop(release_held_count, NULL); /* the app reads the body now: the stream is gone */
    for (int i = 0; i < 100 && atomic_load(&body_status) == 0; i++)
        sleep_ms(10);
    CHECK_EQ_INT(atomic_load(&body_status), -ECONNRESET);
    h2cl_close(h);
    CHECK_EQ_INT(stop(), 0);
}

TEST(test_raise_nofile_and_connection_budget)
{
    uint64_t limit = 0;
    struct rlimit rl;
    CHECK_EQ_INT(yc_http_raise_nofile(&limit), 0);
    CHECK_EQ_INT(getrlimit(RLIMIT_NOFILE, &rl), 0);
    CHECK(rl.rlim_cur == rl.rlim_max || rl.rlim_cur == limit);
    CHECK_EQ_INT(limit, rl.rlim_cur);
    CHECK_EQ_INT(yc_http_connection_budget(1024, 2), (rl.rlim_cur - 1024) / 2);
    CHECK_EQ_INT(yc_http_connection_budget(rl.rlim_cur + 5, 1), 16);
}

/* ---------------------------------------------------------------- the parsers on buffers */

static int parse(const char *s, yc_http1_head_t *head)
{
    static char buf[32768];
    static yc_http_header_t headers[100];
    yc_http1_limits_t lim = {16384, 100};
    size_t n = strlen(s);
    memcpy(buf, s, n);
    return yc_http1_parse_head(buf, n, 0, &lim, headers, head);
}

TEST(test_parse_head_framing)
{
    yc_http1_head_t h;
    CHECK_EQ_INT(parse("PUT /k HTTP/1.1\r\nHost: h\r\nContent-Length: 0042\r\n\r\n", &h), 0);
    CHECK_EQ_INT(h.content_length, 42);
    CHECK(!h.chunked && h.keep_alive && !h.expect_continue);
    CHECK_EQ_INT(parse("PUT /k HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n"
                       "Expect: 100-Continue\r\nConnection: keep-alive, Close\r\n\r\n",
                       &h),
                 0);
    CHECK(h.chunked && h.content_length == YC_HTTP_LENGTH_UNKNOWN && h.expect_continue && !h.keep_alive);
    CHECK_EQ_INT(parse("GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n", &h), 0);
    CHECK(!h.expect_continue && !h.keep_alive && h.content_length == 0);
    CHECK_EQ_INT(parse("GET / HTTP/1.9\r\nHost: h\r\n\r\n", &h), 0);
    CHECK_EQ_INT(h.minor_version, 1);
    CHECK_EQ_INT(parse("GET / HTTP/1.1\r\nHost: h\r\n", &h), 0);
    CHECK_EQ_INT(h.head_len, 0); /* incomplete */
    CHECK_EQ_INT(parse("GET / HTTP/1.1\r\nHost: h\r\nX-Name:   spaced value \t\r\n\r\n", &h), 0);
}

/* Decodes s fed in pieces of `step` bytes as a connection does (kept bytes stay in front). */
static int decode_in_steps(const char *s, size_t step, char *out, size_t *out_len, size_t *rest)
{
    yc_http1_head_t head = {.chunked = 1, .content_length = YC_HTTP_LENGTH_UNKNOWN};
    yc_http1_body_t b;
    char buf[4096];
    size_t have = 0, fed = 0, total = strlen(s);
    int r = 0;

    yc_http1_body_init(&b, &head, 1024);
    *out_len = 0;
    while (r == 0) {
        size_t n = total - fed < step ? total - fed : step;
        if (n == 0)
            return -EAGAIN;
        memcpy(buf + have, s + fed, n);
        have += n;
        fed += n;
        size_t len, used;
        if ((r = yc_http1_body_decode(&b, buf, have, &len, &used)) < 0)
            return r;
        memcpy(out + *out_len, buf, len);
        *out_len += len;
        memmove(buf, buf + used, have - used);
        have -= used;
    }
    *rest = have + (total - fed);
    return 0;
}

TEST(test_chunked_decoder_gives_the_same_body_at_any_split)
{
    const char *body = "4;a=b\r\nWiki\r\n5 ;  x = \"q\\\"\" ;y\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
                       "0\r\nT: 1\r\nU:\r\n\r\nNEXT";
    char out[64];
    size_t len, rest;
    for (size_t step = 1; step <= strlen(body); step++) {
        CHECK_EQ_INT(decode_in_steps(body, step, out, &len, &rest), 0);
        CHECK_EQ_INT(len, 23);
        CHECK(memcmp(out, "Wikipedia in\r\n\r\nchunks.", 23) == 0);
        CHECK_EQ_INT(rest, 4); /* "NEXT" is the next request's */
    }
}

TEST(test_chunked_decoder_bounds_lines_and_trailers)
{
    static char s[8192];
    char out[64];
    size_t len, rest;
    /* a chunk line of 5000 bytes of extensions */
    int n = snprintf(s, sizeof(s), "1;");
    memset(s + n, 'a', 5000);
    snprintf(s + n + 5000, sizeof(s) - (size_t)n - 5000, "\r\nx\r\n0\r\n\r\n");
    CHECK_EQ_INT(decode_in_steps(s, 7, out, &len, &rest), -EBADMSG);
    /* trailers over the bound (1024 here) */
    n = snprintf(s, sizeof(s), "0\r\nT: ");
    memset(s + n, 'v', 1100);
    snprintf(s + n + 1100, sizeof(s) - (size_t)n - 1100, "\r\n\r\n");
    CHECK_EQ_INT(decode_in_steps(s, 64, out, &len, &rest), -EBADMSG);
    /* the largest size that fits, and one more digit */
    CHECK_EQ_INT(decode_in_steps("fffffffffffffffff\r\n", 3, out, &len, &rest), -EBADMSG);
    CHECK_EQ_INT(decode_in_steps("ffffffffffffffff\r\n", 3, out, &len, &rest), -EAGAIN);
}

int main(void)
{
    pthread_t tid;
    uint64_t nofile;

    signal(SIGPIPE, SIG_IGN);
    yc_http_raise_nofile(&nofile);
    /* the loop thread lives until the process exits: h2o keeps per-thread allocator caches */
    pthread_create(&tid, NULL, loop_main, NULL);
    pthread_mutex_lock(&mu);
    while (!loop_ready)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);

    RUN(test_get_is_answered_with_length_date_and_the_request_line);
    RUN(test_put_with_content_length_streams_the_body_to_the_app);
    RUN(test_chunked_upload_with_extensions_and_trailers_is_decoded);
    RUN(test_malformed_chunk_fails_the_read_and_closes);
    RUN(test_pipelined_requests_are_answered_in_order);
    RUN(test_keep_alive_serves_requests_one_after_another);
    RUN(test_connection_close_is_honoured_both_ways);
    RUN(test_http10_keeps_the_connection_only_on_request);
    RUN(test_half_closed_client_still_gets_its_answers);
    RUN(test_head_gets_headers_without_a_body);
    RUN(test_expect_continue_gets_100_when_the_app_reads);
    RUN(test_expect_other_than_continue_is_ignored);
    RUN(test_expect_continue_refused_gets_no_100_and_closes);
    RUN(test_early_answer_drains_a_small_unread_body);
    RUN(test_body_buffered_only_when_whole_body_came_with_head);
    RUN(test_early_answer_to_a_large_body_closes_at_once);
    RUN(test_finish_drops_a_pending_body_read);
    RUN(test_response_headers_that_would_split_it_are_refused);
    RUN(test_client_gone_mid_body_fails_the_read);
    RUN(test_a_chunk_the_app_holds_outlives_the_connection);
    RUN(test_back_pressure_stops_reading_while_the_app_does_not_ask);
    RUN(test_echo_of_a_large_body_streams_both_ways);
    RUN(test_layer_refusals_answer_the_right_status_and_close);
    RUN(test_431_for_a_head_over_16k_and_for_too_many_headers);
    RUN(test_head_timeout_answers_408_to_a_slowloris_and_closes);
    RUN(test_body_timeout_fails_the_read_and_answers_408);
    RUN(test_a_steady_slow_body_is_not_cut);
    RUN(test_send_timeout_closes_a_reader_that_takes_nothing);
    RUN(test_send_timeout_spares_a_slow_reader);
    RUN(test_keepalive_timeout_closes_an_idle_connection);
    RUN(test_max_connections_closes_the_one_too_many);
    RUN(test_idle_connections_cost_less_than_20k_each);
    RUN(test_server_free_waits_for_the_app);
    RUN(test_tls_files_are_checked_when_the_server_is_made);
    RUN(test_h2_prior_knowledge_gets_the_same_requests);
    RUN(test_h2_reset_stream_fails_the_apps_read_and_the_server_waits_for_it);
    RUN(test_raise_nofile_and_connection_budget);
    RUN(test_parse_head_framing);
    RUN(test_chunked_decoder_gives_the_same_body_at_any_split);
    RUN(test_chunked_decoder_bounds_lines_and_trailers);
    return unit_done();
}
