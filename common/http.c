/* http.c — HTTP/1.1 connections on an h2o event loop: the state machine, back-pressure, timers
 * and limits described in http.h, over the byte-buffer parsers of http_parse.c.
 *
 * Ownership. A connection record (conn_t) carries the request it serves (one at a time). It is
 * freed once its socket is closed, the app gave its request back (yc_http_finish), no socket
 * write is in flight, no deferred callback is due and no callback of ours is running on it
 * (in_callback): every entry from the loop (readable socket, write done, timers, deferred work)
 * holds in_callback and ends with conn_maybe_free. A call from the app never frees anything; a
 * callback it asked for always runs later, from the loop, never inside the call. A socket that
 * is closed while the app holds the request leaves it valid: its pending callbacks run with an
 * error (-EPIPE, or the reason) and the app still finishes it.
 *
 * Reading. Sockets are set to h2o's "don't read" mode: readiness is reported and we read(2) at
 * most read_chunk_bytes into the socket's input buffer, and only in the states that want bytes.
 * A body chunk given to the app is the front of that buffer; it is dropped (h2o_buffer_consume)
 * when the app asks for the next one, and nothing is read before that. If the socket closes
 * while the app still holds such a chunk, the buffer is taken off the socket (held) so that the
 * bytes stay valid until the app lets go.
 */
#include "common/http_internal.h"
#include <errno.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define HEAD_READ_RESERVE 4096 /* a head is read into h2o's small recycled buffers first */
#define LINGER_READ_BYTES 16384
#define ACCEPT_BATCH      32  /* connections accepted per readiness of the listener */
#define ACCEPT_PAUSE_MS   100 /* out of descriptors: the listener rests this long */
#define MIN_CONNECTIONS   16
#define ERROR_PAGE_CAP    2048
#define CHUNK_LINE_CAP    24

typedef enum {
    S_TLS,      /* the TLS handshake (within head_timeout_ms) */
    S_HEAD,     /* reading a request head */
    S_IDLE,     /* between requests, nothing buffered */
    S_REQUEST,  /* the app has the request (or its last write is on its way) */
    S_DRAIN,    /* dropping an unread body to keep the connection */
    S_REFUSING, /* sending the layer's own answer; closing after */
    S_LINGER,   /* answer sent, write side shut: dropping input before the close */
    S_CLOSED,
} conn_state_t;

typedef struct conn conn_t;
typedef void (*send_done_fn)(conn_t *c, int status);

struct conn {
    yc_http_req_t req;
    yc_http_server_t *srv;
    h2o_socket_t *sock;  /* NULL once closed */
    h2o_linklist_t link; /* srv->conns */
    h2o_timeout_entry_t read_timer, write_timer, defer;
    conn_state_t state;
    h2o_mem_pool_t pool;
    size_t head_last_len; /* buffered bytes when the head was last parsed */
    size_t input_counted; /* input buffer capacity counted in the server's stats */
    yc_http1_body_t body;
    /* body reads */
    yc_http_body_cb body_cb;
    void *body_arg;
    size_t held_used;   /* input bytes behind the chunk the app holds: dropped at its next read */
    h2o_buffer_t *held; /* the input buffer taken off a closed socket while the app held a chunk */
    int body_error;     /* once the body failed, what every later read gets */
    uint64_t drained;
    /* the response */
    int status;            /* 0 until started */
    uint64_t resp_length;  /* declared body length, or YC_HTTP_LENGTH_UNKNOWN */
    uint64_t resp_written; /* body bytes the app wrote */
    h2o_iovec_t resp_head; /* status line and headers not sent yet */
    yc_http_write_cb write_cb;
    void *write_arg;
    char chunk_line[CHUNK_LINE_CAP];
    /* socket writes: at most one in flight and one waiting behind it (a 100 Continue, then the
     * app's write or finish) */
    send_done_fn send_done;
    send_done_fn waiting_done;
    h2o_iovec_t *waiting_bufs;
    size_t waiting_n;
    send_done_fn failed[4]; /* sends the socket will never complete: told from the deferred run */
    unsigned nfailed;
    int close_code;
    uint64_t acked_mark; /* the kernel's acknowledged bytes when the send timer was last armed */
    unsigned in_callback;
    unsigned app_holds : 1;  /* from on_request to yc_http_finish */
    unsigned finished : 1;   /* yc_http_finish called; the last write may still be on its way */
    unsigned keep_alive : 1; /* another request may follow this one */
    unsigned eof : 1;        /* the client ended its side */
    unsigned sent_100 : 1;
    unsigned writing : 1; /* a socket write in flight */
    unsigned resp_chunked : 1, resp_no_body : 1, resp_close_delimited : 1;
    unsigned broken : 1; /* the socket closed while the app held the request */
    unsigned body_timed_out : 1;
    unsigned served : 1; /* a request was read: no HTTP/2 preface may come any more */
    struct sockaddr_storage peer;
};

static const yc_http_proto_t http1_proto;
static void on_readable(h2o_socket_t *sock, const char *err);
static void process_head(conn_t *c);
static void body_pump(conn_t *c);
static void conn_linger(conn_t *c);

static conn_t *conn_of(const yc_http_req_t *req)
{
    return H2O_STRUCT_FROM_MEMBER(conn_t, req, req);
}

/* ---------------------------------------------------------------- configuration */

void yc_http_config_init(yc_http_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_head_bytes = 16 * 1024;
    cfg->max_headers = 100;
    cfg->head_timeout_ms = 10000;
    cfg->body_timeout_ms = 30000;
    cfg->send_timeout_ms = 30000;
    cfg->keepalive_timeout_ms = 60000;
    cfg->linger_timeout_ms = 2000;
    cfg->linger_max_bytes = 4 << 20;
    cfg->drain_max_bytes = 64 * 1024;
    cfg->read_chunk_bytes = 64 * 1024;
    cfg->max_connections = yc_http_connection_budget(1024, 1);
    cfg->http2 = 1;
    cfg->h2_max_concurrent_streams = 100;
    cfg->h2_stream_window_bytes = 64 * 1024;
}

int yc_http_raise_nofile(uint64_t *limit)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -errno;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl = want; /* else (a container's ceiling): the limit stays as it was */
    }
    *limit = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
    return 0;
}

size_t yc_http_connection_budget(size_t reserve, size_t nservers)
{
    struct rlimit rl;
    uint64_t soft = 1024, budget;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        soft = rl.rlim_cur == RLIM_INFINITY ? (1u << 20) : (uint64_t)rl.rlim_cur;
    budget = soft > reserve ? (soft - reserve) / (nservers > 0 ? nservers : 1) : 0;
    return budget < MIN_CONNECTIONS ? MIN_CONNECTIONS : (size_t)budget;
}

/* ---------------------------------------------------------------- small helpers */

static void stat_add(atomic_size_t *s, size_t now, size_t *counted)
{
    if (now > *counted)
        atomic_fetch_add(s, now - *counted);
    else
        atomic_fetch_sub(s, *counted - now);
    *counted = now;
}

/* Counts what the connection's input buffers hold now. */
static void account_input(conn_t *c)
{
    size_t cap = 0;
    if (c->sock != NULL && c->sock->input->bytes != NULL)
        cap += c->sock->input->capacity;
    if (c->held != NULL)
        cap += c->held->capacity;
    stat_add(&c->srv->stat_input_bytes, cap, &c->input_counted);
}

/* Gives an empty input buffer back to h2o's allocator: an idle connection holds none. (h2o 2.2.5
 * already frees a buffer consumed to its end; this covers one that was emptied otherwise.) */
static void release_input(conn_t *c)
{
    if (c->sock != NULL && c->sock->input->size == 0 && c->sock->input->bytes != NULL) {
        h2o_buffer_dispose(&c->sock->input);
        h2o_buffer_init(&c->sock->input, &h2o_socket_buffer_prototype);
    }
    account_input(c);
}

static void arm(conn_t *c, h2o_timeout_entry_t *e, h2o_timeout_t *t)
{
    if (h2o_timeout_is_linked(e))
        h2o_timeout_unlink(e);
    h2o_timeout_link(c->srv->loop, t, e);
}

static void disarm(h2o_timeout_entry_t *e)
{
    if (h2o_timeout_is_linked(e))
        h2o_timeout_unlink(e);
}

static void defer(conn_t *c)
{
    if (!h2o_timeout_is_linked(&c->defer))
        h2o_timeout_link(c->srv->loop, &c->srv->zero_timeout, &c->defer);
}

/* Reads at most read_chunk_bytes (having reserved `reserve`) into the input buffer: bytes read,
 * 0 at the end of the stream, -EAGAIN, or -errno. */
static ssize_t conn_read(conn_t *c, size_t reserve)
{
    h2o_iovec_t space;
    ssize_t r;

    if (c->sock->ssl != NULL) {
        /* h2o's reader read and decrypted into the input buffer before calling us (the end of
         * the stream comes as an error instead); a partial record gives nothing new */
        r = c->sock->bytes_read > 0 ? (ssize_t)c->sock->bytes_read : -EAGAIN;
        c->sock->bytes_read = 0;
        account_input(c);
        return r;
    }
    space = h2o_buffer_reserve(&c->sock->input, reserve);
    if (space.base == NULL)
        return -ENOMEM;
    if (space.len > c->srv->cfg.read_chunk_bytes)
        space.len = c->srv->cfg.read_chunk_bytes;
    while ((r = read(h2o_socket_get_fd(c->sock), space.base, space.len)) < 0 && errno == EINTR)
        ;
    if (r < 0) {
        r = errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
    } else if (r == 0) {
        c->eof = 1;
    } else {
        c->sock->input->size += (size_t)r;
    }
    account_input(c);
    return r;
}

/* ---------------------------------------------------------------- freeing */

static void conn_maybe_free(conn_t *c)
{
    if (c->sock != NULL || c->app_holds || c->in_callback > 0 || c->writing || c->nfailed > 0 ||
        h2o_timeout_is_linked(&c->defer) || c->finished)
        return;
    if (c->held != NULL)
        h2o_buffer_dispose(&c->held);
    account_input(c);
    h2o_mem_clear_pool(&c->pool);
    h2o_linklist_unlink(&c->link);
    free(c);
}

/* A send the socket will never complete: its done runs from the deferred run. */
static void send_failed(conn_t *c, send_done_fn done)
{
    if (c->nfailed < sizeof(c->failed) / sizeof(c->failed[0]))
        c->failed[c->nfailed++] = done;
    defer(c);
}

/* Runs the done functions of failed sends, in order. */
static void run_failed(conn_t *c)
{
    while (c->nfailed > 0) {
        send_done_fn done = c->failed[0];
        memmove(c->failed, c->failed + 1, sizeof(c->failed[0]) * --c->nfailed);
        done(c, c->close_code);
    }
}

/* Closes the socket. What the app waits for (a body read, a write) gets code, later. */
static void conn_close(conn_t *c, int code)
{
    if (c->sock == NULL)
        return;
    disarm(&c->read_timer);
    disarm(&c->write_timer);
    if (c->held_used > 0) {
        /* the app holds a chunk of the input buffer: keep the buffer, give the socket a new one */
        c->held = c->sock->input;
        h2o_buffer_init(&c->sock->input, &h2o_socket_buffer_prototype);
    }
    /* counted first: the client may see the end of the stream before we return */
    if (c->state == S_LINGER)
        atomic_fetch_sub(&c->srv->stat_lingering, 1);
    yc_http_conn_closed(c->srv);
    h2o_socket_close(c->sock);
    c->sock = NULL;
    c->state = S_CLOSED;
    account_input(c);
    c->close_code = code != 0 ? code : -EPIPE;
    if (c->writing) {
        c->writing = 0;
        send_failed(c, c->send_done);
        c->send_done = NULL;
    }
    if (c->waiting_done != NULL) {
        send_failed(c, c->waiting_done);
        c->waiting_done = NULL;
    }
    if (c->app_holds)
        c->broken = 1;
    if (c->body_cb != NULL)
        defer(c);
}

/* ---------------------------------------------------------------- writing */

static void on_written(h2o_socket_t *sock, const char *err);

static void start_write(conn_t *c, h2o_iovec_t *bufs, size_t n, send_done_fn done)
{
    c->writing = 1;
    c->send_done = done;
    c->acked_mark = yc_http_bytes_acked(c->sock);
    arm(c, &c->write_timer, &c->srv->send_timeout);
    h2o_socket_write(c->sock, bufs, n, on_written);
}

/* Sends bufs (borrowed until done runs, later, with 0 or a negative code). */
static void conn_send(conn_t *c, h2o_iovec_t *bufs, size_t n, send_done_fn done)
{
    if (c->sock == NULL) {
        send_failed(c, done);
    } else if (c->writing) {
        c->waiting_bufs = h2o_mem_alloc_pool(&c->pool, sizeof(*bufs) * (n > 0 ? n : 1));
        memcpy(c->waiting_bufs, bufs, sizeof(*bufs) * n);
        c->waiting_n = n;
        c->waiting_done = done;
    } else {
        start_write(c, bufs, n, done);
    }
}

static void on_written(h2o_socket_t *sock, const char *err)
{
    conn_t *c = sock->data;

    c->in_callback++;
    if (err != NULL) {
        conn_close(c, -EPIPE);
    } else {
        send_done_fn done = c->send_done;
        c->writing = 0;
        c->send_done = NULL;
        disarm(&c->write_timer);
        if (c->waiting_done != NULL) {
            send_done_fn next = c->waiting_done;
            c->waiting_done = NULL;
            start_write(c, c->waiting_bufs, c->waiting_n, next);
        }
        done(c, 0);
    }
    c->in_callback--;
    conn_maybe_free(c);
}

/* A write the client takes nothing of for send_timeout_ms ends the connection; one it takes
 * slowly goes on. */
static void on_write_timeout(h2o_timeout_entry_t *e)
{
    conn_t *c = H2O_STRUCT_FROM_MEMBER(conn_t, write_timer, e);
    uint64_t acked = yc_http_bytes_acked(c->sock);

    if (acked != c->acked_mark) {
        c->acked_mark = acked;
        arm(c, &c->write_timer, &c->srv->send_timeout);
        return;
    }
    c->in_callback++;
    conn_close(c, -ETIMEDOUT);
    c->in_callback--;
    conn_maybe_free(c);
}

/* ---------------------------------------------------------------- response heads */

typedef struct {
    char *p, *end;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (n > (size_t)(o->end - o->p))
        n = (size_t)(o->end - o->p); /* cannot happen: the room was counted first */
    memcpy(o->p, s, n);
    o->p += n;
}

static void puts_(out_t *o, const char *s)
{
    put(o, s, strlen(s));
}

/* v in decimal: a head is formatted per response, and snprintf cost more than the rest of it. */
static void put_u64(out_t *o, uint64_t v)
{
    char digits[20];
    size_t n = 0;

    do {
        digits[sizeof(digits) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    put(o, digits + sizeof(digits) - n, n);
}

static int is_layer_header(h2o_iovec_t name)
{
    static const char *const names[] = {"content-length", "transfer-encoding", "connection", "date"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (name.len == strlen(names[i]) && strncasecmp(name.base, names[i], name.len) == 0)
            return 1;
    return 0;
}

/* Formats a status line and headers into the request pool. length: the Content-Length to send,
 * or YC_HTTP_LENGTH_UNKNOWN with chunked or nothing; content_type: an extra header, or NULL. */
static h2o_iovec_t format_head(conn_t *c, int status, const char *reason, const yc_http_header_t *headers, size_t n,
                               const char *content_type, uint64_t length, int chunked)
{
    yc_http_server_t *srv = c->srv;
    const char *date = yc_http_date(srv);
    size_t cap = 64 + strlen(reason) + 16 + strlen(date) + 160;
    char num[48];

    if (srv->cfg.server_name != NULL)
        cap += 12 + strlen(srv->cfg.server_name);
    if (content_type != NULL)
        cap += 18 + strlen(content_type);
    for (size_t i = 0; i < n; i++)
        cap += headers[i].name.len + headers[i].value.len + 4;
    char *buf = h2o_mem_alloc_pool(&c->pool, cap);
    out_t o = {buf, buf + cap};

    if (status >= 100 && status <= 999) {
        char line[13] = {'H',
                         'T',
                         'T',
                         'P',
                         '/',
                         '1',
                         '.',
                         '1',
                         ' ',
                         (char)('0' + status / 100),
                         (char)('0' + status / 10 % 10),
                         (char)('0' + status % 10),
                         ' '};
        put(&o, line, sizeof(line));
    } else {
        snprintf(num, sizeof(num), "HTTP/1.1 %03d ", status);
        puts_(&o, num);
    }
    puts_(&o, reason);
    puts_(&o, "\r\ndate: ");
    puts_(&o, date);
    puts_(&o, "\r\n");
    if (srv->cfg.server_name != NULL) {
        puts_(&o, "server: ");
        puts_(&o, srv->cfg.server_name);
        puts_(&o, "\r\n");
    }
    if (content_type != NULL) {
        puts_(&o, "content-type: ");
        puts_(&o, content_type);
        puts_(&o, "\r\n");
    }
    for (size_t i = 0; i < n; i++) {
        if (is_layer_header(headers[i].name))
            continue;
        put(&o, headers[i].name.base, headers[i].name.len);
        puts_(&o, ": ");
        put(&o, headers[i].value.base, headers[i].value.len);
        puts_(&o, "\r\n");
    }
    if (length != YC_HTTP_LENGTH_UNKNOWN) {
        puts_(&o, "content-length: ");
        put_u64(&o, length);
        puts_(&o, "\r\n");
    } else if (chunked) {
        puts_(&o, "transfer-encoding: chunked\r\n");
    }
    if (!c->keep_alive)
        puts_(&o, "connection: close\r\n");
    else if (c->req.version == 0x100)
        puts_(&o, "connection: keep-alive\r\n");
    puts_(&o, "\r\n");
    return h2o_iovec_init(buf, (size_t)(o.p - buf));
}

static int asks_close(const yc_http_header_t *h)
{
    return h->name.len == 10 && strncasecmp(h->name.base, "connection", 10) == 0 && h->value.len == 5 &&
           strncasecmp(h->value.base, "close", 5) == 0;
}

/* Whether the connection can serve another request after this response, as far as is known now. */
static int can_keep_alive(conn_t *c)
{
    if (!c->keep_alive || c->eof || c->broken || c->body_error != 0)
        return 0;
    /* a final answer without 100 Continue: the client may send the body or not; and botocore,
     * having read such an early answer, misreads the next response on the same connection even
     * when the body was empty (it keeps the early status line): close it */
    if (c->req.expect_continue && !c->sent_100)
        return 0;
    if (!c->body.done) {
        if (!c->body.chunked && c->body.remaining > c->srv->cfg.drain_max_bytes)
            return 0;
    }
    return 1;
}

static int h1_respond(yc_http_req_t *req, int status, const char *reason, const yc_http_header_t *headers, size_t n,
                      uint64_t content_length)
{
    conn_t *c = conn_of(req);
    int app_close = 0;

    if (c->finished)
        return -EINVAL;
    if (c->status != 0)
        return -EALREADY;
    if (status < 200 || status > 599)
        return -EINVAL;
    for (const char *r = reason; r != NULL && *r != 0; r++)
        if ((unsigned char)*r < 0x20 && *r != '\t')
            return -EINVAL; /* a CR or LF would end the status line early */
    for (size_t i = 0; i < n; i++) {
        if (yc_http_header_check(&headers[i]) != 0)
            return -EINVAL;
        app_close |= asks_close(&headers[i]);
    }
    c->keep_alive = can_keep_alive(c) && !app_close;
    c->resp_no_body = req->is_head || status == 204 || status == 304;
    c->resp_length = content_length;
    c->resp_chunked = 0;
    c->resp_close_delimited = 0;
    uint64_t length_header = content_length;
    if (status == 204 || status == 304) {
        length_header = YC_HTTP_LENGTH_UNKNOWN;
    } else if (content_length == YC_HTTP_LENGTH_UNKNOWN && !req->is_head) {
        if (req->version >= 0x101) {
            c->resp_chunked = 1;
        } else {
            c->resp_close_delimited = 1;
            c->keep_alive = 0;
        }
    }
    c->status = status;
    c->resp_head = format_head(c, status, reason != NULL ? reason : yc_http_reason(status), headers, n, NULL,
                               length_header, c->resp_chunked);
    return 0;
}

/* ---------------------------------------------------------------- the app's writes and finish */

static void app_write_sent(conn_t *c, int status)
{
    yc_http_write_cb cb = c->write_cb;
    c->write_cb = NULL;
    if (cb != NULL)
        cb(&c->req, c->write_arg, status);
}

static int h1_write(yc_http_req_t *req, const h2o_iovec_t *bufs, size_t n, yc_http_write_cb cb, void *arg)
{
    conn_t *c = conn_of(req);
    h2o_iovec_t iov[YC_HTTP_MAX_WRITE_BUFS + 3];
    size_t k = 0;
    uint64_t total = 0;

    if (c->status == 0 || c->finished || n > YC_HTTP_MAX_WRITE_BUFS || cb == NULL)
        return -EINVAL;
    if (c->write_cb != NULL)
        return -EBUSY;
    if (c->sock == NULL || c->broken)
        return -EPIPE;
    for (size_t i = 0; i < n; i++)
        total += bufs[i].len;
    if (!c->resp_no_body && !c->resp_chunked && !c->resp_close_delimited &&
        (total > c->resp_length || c->resp_written + total > c->resp_length))
        return -EINVAL;
    if (c->resp_head.base != NULL) {
        iov[k++] = c->resp_head;
        c->resp_head = h2o_iovec_init(NULL, 0);
    }
    if (!c->resp_no_body && total > 0) {
        if (c->resp_chunked) {
            int len = snprintf(c->chunk_line, sizeof(c->chunk_line), "%llx\r\n", (unsigned long long)total);
            iov[k++] = h2o_iovec_init(c->chunk_line, (size_t)len);
        }
        for (size_t i = 0; i < n; i++)
            if (bufs[i].len > 0)
                iov[k++] = bufs[i];
        if (c->resp_chunked)
            iov[k++] = h2o_iovec_init(H2O_STRLIT("\r\n"));
    }
    c->resp_written += total;
    c->write_cb = cb;
    c->write_arg = arg;
    conn_send(c, iov, k, app_write_sent);
    return 0;
}

static void next_request(conn_t *c);
static void start_drain(conn_t *c);

static void release_held(conn_t *c)
{
    if (c->held != NULL)
        h2o_buffer_dispose(&c->held);
    else if (c->held_used > 0 && c->sock != NULL)
        h2o_buffer_consume(&c->sock->input, c->held_used);
    c->held_used = 0;
    account_input(c);
}

/* The last write of a response is out (status 0) or failed: on to what comes next. */
static void end_request(conn_t *c, int status)
{
    release_held(c);
    h2o_mem_clear_pool(&c->pool);
    c->finished = 0;
    c->status = 0;
    c->resp_head = h2o_iovec_init(NULL, 0);
    c->write_cb = NULL;
    c->body_cb = NULL;
    if (c->sock == NULL)
        return;
    if (status != 0 || !c->keep_alive || c->body_error != 0 || c->eof)
        conn_linger(c);
    else if (!c->body.done)
        start_drain(c);
    else
        next_request(c);
}

static int h1_finish(yc_http_req_t *req, h2o_iovec_t last)
{
    conn_t *c = conn_of(req);
    h2o_iovec_t iov[5];
    size_t k = 0;

    if (c->finished)
        return -EINVAL;
    if (c->write_cb != NULL)
        return -EBUSY;
    if (c->status == 0) {
        /* the app gave up without an answer: the layer answers, and closes */
        int status = c->body_timed_out ? 408 : c->body_error == -EBADMSG ? 400 : 500;
        const char *type = NULL;
        char *page = h2o_mem_alloc_pool(&c->pool, ERROR_PAGE_CAP);
        size_t len = 0;
        if (c->srv->cfg.error_page != NULL)
            len = c->srv->cfg.error_page(c->srv->cfg.arg, &status, &type, page, ERROR_PAGE_CAP);
        if (len > ERROR_PAGE_CAP)
            len = ERROR_PAGE_CAP;
        c->keep_alive = 0;
        c->status = status;
        c->resp_no_body = req->is_head;
        c->resp_chunked = c->resp_close_delimited = 0;
        c->resp_length = len;
        c->resp_head = format_head(c, status, yc_http_reason(status), NULL, 0, type, len, 0);
        last = h2o_iovec_init(page, len);
    }
    if (!c->resp_no_body && !c->resp_chunked && !c->resp_close_delimited && c->resp_written + last.len > c->resp_length)
        return -EINVAL;
    c->finished = 1;
    c->app_holds = 0;
    if (c->body_cb != NULL) { /* a pending read is dropped: the app is done with the request */
        c->body_cb = NULL;
        disarm(&c->read_timer);
        if (c->sock != NULL)
            h2o_socket_read_stop(c->sock);
    }
    c->resp_written += last.len;
    /* shorter than announced: the client can only tell by the connection's end */
    if (!c->resp_no_body && !c->resp_chunked && !c->resp_close_delimited && c->resp_written < c->resp_length)
        c->keep_alive = 0;
    if (c->resp_head.base != NULL) {
        iov[k++] = c->resp_head;
        c->resp_head = h2o_iovec_init(NULL, 0);
    }
    if (!c->resp_no_body) {
        if (last.len > 0 && c->resp_chunked) {
            int len = snprintf(c->chunk_line, sizeof(c->chunk_line), "%llx\r\n", (unsigned long long)last.len);
            iov[k++] = h2o_iovec_init(c->chunk_line, (size_t)len);
        }
        if (last.len > 0)
            iov[k++] = last;
        if (c->resp_chunked)
            iov[k++] =
                last.len > 0 ? h2o_iovec_init(H2O_STRLIT("\r\n0\r\n\r\n")) : h2o_iovec_init(H2O_STRLIT("0\r\n\r\n"));
    }
    conn_send(c, iov, k, end_request);
    return 0;
}

/* ---------------------------------------------------------------- body reads */

static void continue_sent(conn_t *c, int status)
{
}

static void h1_send_continue(yc_http_req_t *req)
{
    conn_t *c = conn_of(req);
    static h2o_iovec_t line = {"HTTP/1.1 100 Continue\r\n\r\n", 25};

    /* an empty body is done from the start, and still the client waits for the 100 */
    if (!req->expect_continue || c->sent_100 || c->status != 0 || c->finished ||
        (c->body.done && req->content_length != 0) || c->sock == NULL)
        return;
    c->sent_100 = 1;
    conn_send(c, &line, 1, continue_sent);
}

static int h1_body_read(yc_http_req_t *req, yc_http_body_cb cb, void *arg)
{
    conn_t *c = conn_of(req);

    if (c->finished || cb == NULL)
        return -EINVAL;
    if (c->body_cb != NULL)
        return -EBUSY;
    release_held(c);
    c->body_cb = cb;
    c->body_arg = arg;
    h1_send_continue(req);
    defer(c);
    return 0;
}

static int h1_body_buffered(const yc_http_req_t *req)
{
    const conn_t *c = conn_of(req);

    if (c->body.done)
        return 1;
    /* a Content-Length body only: a chunked one's framing would have to be parsed to know */
    return !c->finished && !c->body.chunked && c->body_error == 0 && c->sock != NULL && c->held == NULL &&
           c->held_used == 0 && c->body.remaining <= c->sock->input->size;
}

static void deliver(conn_t *c, h2o_iovec_t data, int status)
{
    yc_http_body_cb cb = c->body_cb;

    c->body_cb = NULL;
    disarm(&c->read_timer);
    if (c->sock != NULL)
        h2o_socket_read_stop(c->sock);
    cb(&c->req, c->body_arg, data, status);
}

/* Gives the app the next piece of body if there is one (or the end, or the error); else reads. */
static void body_pump(conn_t *c)
{
    h2o_iovec_t data = h2o_iovec_init(NULL, 0);
    int status;

    if (c->body_cb == NULL)
        return;
    if (c->body_error != 0) {
        status = c->body_error;
    } else if (c->body.done) {
        status = YC_HTTP_BODY_END;
    } else if (c->sock == NULL) {
        status = c->close_code != 0 ? c->close_code : -EPIPE;
    } else {
        h2o_buffer_t *in = c->sock->input;
        size_t len = 0, used = 0;
        int r = in->size > 0 ? yc_http1_body_decode(&c->body, in->bytes, in->size, &len, &used) : 0;
        if (r < 0) {
            status = c->body_error = -EBADMSG;
        } else if (len > 0 || r == 1) {
            data = h2o_iovec_init(in->bytes, len);
            c->held_used = used;
            status = r == 1 ? YC_HTTP_BODY_END : YC_HTTP_BODY_MORE;
        } else if (c->eof) {
            h2o_buffer_consume(&c->sock->input, used);
            status = c->body_error = -ECONNRESET;
        } else {
            h2o_buffer_consume(&c->sock->input, used); /* chunk framing only */
            if (!h2o_timeout_is_linked(&c->read_timer))
                arm(c, &c->read_timer, &c->srv->body_timeout);
            h2o_socket_read_start(c->sock, on_readable);
            return;
        }
    }
    if (status < 0)
        c->keep_alive = 0;
    deliver(c, data, status);
}

static void body_readable(conn_t *c)
{
    if (c->body_cb == NULL) {
        h2o_socket_read_stop(c->sock);
        return;
    }
    ssize_t r = conn_read(c, c->srv->cfg.read_chunk_bytes);
    if (r == -EAGAIN)
        return;
    if (r < 0) {
        c->body_error = -ECONNRESET;
        conn_close(c, -ECONNRESET);
        return;
    }
    if (r > 0)
        arm(c, &c->read_timer, &c->srv->body_timeout);
    body_pump(c);
}

/* ---------------------------------------------------------------- draining and lingering */

static void drain_pump(conn_t *c)
{
    while (c->sock->input->size > 0) {
        size_t len, used;
        int r = yc_http1_body_decode(&c->body, c->sock->input->bytes, c->sock->input->size, &len, &used);
        if (r < 0) {
            conn_linger(c);
            return;
        }
        h2o_buffer_consume(&c->sock->input, used);
        c->drained += len;
        if (r == 1) {
            next_request(c);
            return;
        }
        if (c->drained > c->srv->cfg.drain_max_bytes) {
            conn_linger(c);
            return;
        }
    }
    if (c->eof) {
        conn_close(c, 0);
        return;
    }
    h2o_socket_read_start(c->sock, on_readable);
}

static void start_drain(conn_t *c)
{
    c->state = S_DRAIN;
    c->drained = 0;
    arm(c, &c->read_timer, &c->srv->body_timeout);
    drain_pump(c);
}

static void drain_readable(conn_t *c)
{
    ssize_t r = conn_read(c, c->srv->cfg.read_chunk_bytes);
    if (r == -EAGAIN)
        return;
    if (r < 0) {
        conn_close(c, 0);
        return;
    }
    if (r > 0)
        arm(c, &c->read_timer, &c->srv->body_timeout);
    drain_pump(c);
}

/* Shuts our side once everything is sent, and drops what the client still sends for a bounded
 * time and amount, so that a close with unread input does not reset the answer away. */
static void conn_linger(conn_t *c)
{
    if (c->sock == NULL)
        return;
    if (c->state != S_LINGER)
        atomic_fetch_add(&c->srv->stat_lingering, 1);
    c->state = S_LINGER;
    c->drained = 0;
    h2o_buffer_consume(&c->sock->input, c->sock->input->size);
    release_input(c);
    if (c->eof) {
        conn_close(c, 0);
        return;
    }
    /* what a TLS client still sends is dropped undecrypted: linger_readable reads the socket */
    h2o_socket_dont_read(c->sock, 1);
    if (c->sock->ssl == NULL)
        shutdown(h2o_socket_get_fd(c->sock), SHUT_WR); /* TLS: close_notify goes first, at the close */
    arm(c, &c->read_timer, &c->srv->linger_timeout);
    h2o_socket_read_start(c->sock, on_readable);
}

static void linger_readable(conn_t *c)
{
    char buf[LINGER_READ_BYTES];
    size_t this_event = 0;
    ssize_t r;

    for (;;) {
        while ((r = read(h2o_socket_get_fd(c->sock), buf, sizeof(buf))) < 0 && errno == EINTR)
            ;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0 || (c->drained += (size_t)r) > c->srv->cfg.linger_max_bytes) {
            conn_close(c, 0);
            return;
        }
        if ((this_event += (size_t)r) >= c->srv->cfg.read_chunk_bytes)
            return; /* the rest at the next readiness: other connections get their turn */
    }
}

/* ---------------------------------------------------------------- heads */

static void refused_sent(conn_t *c, int status)
{
    h2o_mem_clear_pool(&c->pool);
    if (status == 0)
        conn_linger(c);
}

/* Answers a request the layer refuses itself, and closes. */
static void refuse(conn_t *c, int status)
{
    yc_http_server_t *srv = c->srv;
    const char *type = NULL;
    char *page = h2o_mem_alloc_pool(&c->pool, ERROR_PAGE_CAP);
    size_t len = 0;

    atomic_fetch_add(&srv->stat_layer_errors, 1);
    c->state = S_REFUSING;
    c->keep_alive = 0;
    disarm(&c->read_timer);
    h2o_socket_read_stop(c->sock);
    if (srv->cfg.error_page != NULL)
        len = srv->cfg.error_page(srv->cfg.arg, &status, &type, page, ERROR_PAGE_CAP);
    if (len > ERROR_PAGE_CAP)
        len = ERROR_PAGE_CAP;
    h2o_iovec_t iov[2] = {format_head(c, status, yc_http_reason(status), NULL, 0, type, len, 0),
                          h2o_iovec_init(page, len)};
    conn_send(c, iov, len > 0 ? 2 : 1, refused_sent);
}

static void start_request(conn_t *c, const yc_http1_head_t *head)
{
    yc_http_server_t *srv = c->srv;
    yc_http_req_t *req = &c->req;
    h2o_buffer_t *in = c->sock->input;

    /* the head is copied: the input buffer moves as body bytes are read into it */
    char *copy = h2o_mem_alloc_pool(&c->pool, head->head_len);
    memcpy(copy, in->bytes, head->head_len);
#define REBASE(p) (copy + ((p)-in->bytes))
    yc_http_header_t *headers = h2o_mem_alloc_pool(&c->pool, sizeof(*headers) * (head->num_headers + 1));
    for (size_t i = 0; i < head->num_headers; i++) {
        headers[i].name = h2o_iovec_init(REBASE(srv->scratch[i].name.base), srv->scratch[i].name.len);
        headers[i].value = h2o_iovec_init(REBASE(srv->scratch[i].value.base), srv->scratch[i].value.len);
    }
    memset(req, 0, sizeof(*req));
    req->method = h2o_iovec_init(REBASE(head->method.base), head->method.len);
    req->target = h2o_iovec_init(REBASE(head->target.base), head->target.len);
#undef REBASE
    char *q = memchr(req->target.base, '?', req->target.len);
    req->path = h2o_iovec_init(req->target.base, q != NULL ? (size_t)(q - req->target.base) : req->target.len);
    if (q != NULL)
        req->query = h2o_iovec_init(q + 1, req->target.len - req->path.len - 1);
    req->version = head->minor_version == 1 ? 0x101 : 0x100;
    req->headers = headers;
    req->num_headers = head->num_headers;
    req->content_length = head->content_length;
    req->chunked = head->chunked;
    req->expect_continue = head->expect_continue;
    req->is_head = head->method.len == 4 && memcmp(head->method.base, "HEAD", 4) == 0;
    req->secure = c->sock->ssl != NULL;
    req->peer = (const struct sockaddr *)&c->peer;
    req->peer_len =
        (socklen_t)(c->peer.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    req->pool = &c->pool;
    req->arg = srv->cfg.arg;
    req->proto = &http1_proto;

    h2o_buffer_consume(&c->sock->input, head->head_len);
    account_input(c);
    yc_http1_body_init(&c->body, head, srv->cfg.max_head_bytes);
    c->head_last_len = 0;
    c->keep_alive = head->keep_alive;
    c->sent_100 = 0;
    c->body_error = 0;
    c->body_timed_out = 0;
    c->status = 0;
    c->resp_written = 0;
    c->held_used = 0;
    c->state = S_REQUEST;
    c->served = 1;
    c->app_holds = 1;
    disarm(&c->read_timer);
    h2o_socket_read_stop(c->sock);
    atomic_fetch_add(&srv->stat_requests, 1);
    srv->cfg.on_request(req);
}

/* Gives the socket (open, counted, its input as read so far) to the HTTP/2 code; the record
 * goes once the current callback ends. */
static void hand_to_http2(conn_t *c)
{
    h2o_socket_t *sock = c->sock;

    disarm(&c->read_timer);
    disarm(&c->write_timer);
    h2o_socket_read_stop(sock);
    c->sock = NULL;
    c->state = S_CLOSED;
    account_input(c);
    yc_http2_accept(c->srv, sock, &c->peer);
}

/* With h2_prior_knowledge, 1 when the connection opens with the HTTP/2 preface (handed over),
 * -EAGAIN while the bytes so far are a beginning of it, 0 when it is HTTP/1.1. */
static int check_preface(conn_t *c)
{
    h2o_buffer_t *in = c->sock->input;
    size_t n = in->size < YC_HTTP2_PREFACE_LEN ? in->size : YC_HTTP2_PREFACE_LEN;

    if (!c->srv->cfg.h2_prior_knowledge || c->served || c->sock->ssl != NULL ||
        memcmp(in->bytes, YC_HTTP2_PREFACE, n) != 0)
        return 0;
    if (n < YC_HTTP2_PREFACE_LEN)
        return -EAGAIN;
    hand_to_http2(c);
    return 1;
}

static void process_head(conn_t *c)
{
    yc_http_server_t *srv = c->srv;
    yc_http1_limits_t lim = {srv->cfg.max_head_bytes, srv->cfg.max_headers};
    yc_http1_head_t head;
    h2o_buffer_t *in = c->sock->input;
    int pk;

    if (in->size == 0) {
        h2o_socket_read_start(c->sock, on_readable);
        return;
    }
    if ((pk = check_preface(c)) != 0) {
        if (pk == 1)
            return;
        if (c->eof)
            conn_close(c, 0);
        else
            h2o_socket_read_start(c->sock, on_readable);
        return;
    }
    if (yc_http1_parse_head(in->bytes, in->size, c->head_last_len, &lim, srv->scratch, &head) != 0) {
        refuse(c, head.status);
        return;
    }
    if (head.head_len == 0) {
        c->head_last_len = in->size;
        if (c->eof)
            conn_close(c, 0); /* the client gave up half-way: nobody to answer */
        else
            h2o_socket_read_start(c->sock, on_readable);
        return;
    }
    start_request(c, &head);
}

static void head_readable(conn_t *c)
{
    ssize_t r = conn_read(c, HEAD_READ_RESERVE);

    if (r == -EAGAIN)
        return;
    if (r <= 0) {
        conn_close(c, 0);
        return;
    }
    if (c->state == S_IDLE) {
        /* the first byte of the next request: the whole head must follow in head_timeout */
        c->state = S_HEAD;
        arm(c, &c->read_timer, &c->srv->head_timeout);
    }
    process_head(c);
}

/* The response is done and the body read: the next request, buffered or to come. */
static void next_request(conn_t *c)
{
    if (c->sock->input->size > 0) {
        c->state = S_HEAD;
        arm(c, &c->read_timer, &c->srv->head_timeout);
        process_head(c);
    } else if (c->eof) {
        conn_close(c, 0);
    } else {
        c->state = S_IDLE;
        release_input(c);
        arm(c, &c->read_timer, &c->srv->keepalive_timeout);
        h2o_socket_read_start(c->sock, on_readable);
    }
}

/* ---------------------------------------------------------------- loop entries */

static void on_readable(h2o_socket_t *sock, const char *err)
{
    conn_t *c = sock->data;

    c->in_callback++;
    if (err != NULL) {
        conn_close(c, -ECONNRESET);
    } else {
        switch (c->state) {
        case S_HEAD:
        case S_IDLE:
            head_readable(c);
            break;
        case S_REQUEST:
            body_readable(c);
            break;
        case S_DRAIN:
            drain_readable(c);
            break;
        case S_LINGER:
            linger_readable(c);
            break;
        default:
            h2o_socket_read_stop(sock);
            break;
        }
    }
    c->in_callback--;
    conn_maybe_free(c);
}

static void on_read_timeout(h2o_timeout_entry_t *e)
{
    conn_t *c = H2O_STRUCT_FROM_MEMBER(conn_t, read_timer, e);

    c->in_callback++;
    switch (c->state) {
    case S_TLS:
        atomic_fetch_add(&c->srv->stat_tls_failures, 1);
        if (c->srv->cfg.on_tls_failure != NULL)
            c->srv->cfg.on_tls_failure(c->srv->cfg.arg, (const struct sockaddr *)&c->peer);
        conn_close(c, 0);
        break;
    case S_HEAD:
        /* slowloris: a head that does not come in time; an empty connection just goes */
        if (c->sock->input->size > 0)
            refuse(c, 408);
        else
            conn_close(c, 0);
        break;
    case S_REQUEST:
        c->body_error = -ETIMEDOUT;
        c->body_timed_out = 1;
        c->keep_alive = 0;
        body_pump(c);
        break;
    default: /* idle keep-alive, drain, linger */
        conn_close(c, 0);
        break;
    }
    c->in_callback--;
    conn_maybe_free(c);
}

static void on_defer(h2o_timeout_entry_t *e)
{
    conn_t *c = H2O_STRUCT_FROM_MEMBER(conn_t, defer, e);

    c->in_callback++;
    run_failed(c);
    body_pump(c);
    c->in_callback--;
    conn_maybe_free(c);
}

/* ---------------------------------------------------------------- accepting */

/* The TLS handshake ended: HTTP/2 when ALPN chose it, else HTTP/1.1 on whatever was decrypted
 * with the handshake's last flight. A failed handshake closes the connection, counted. */
static void on_handshake(h2o_socket_t *sock, const char *err)
{
    conn_t *c = sock->data;

    c->in_callback++;
    if (err != NULL) {
        atomic_fetch_add(&c->srv->stat_tls_failures, 1);
        if (c->srv->cfg.on_tls_failure != NULL)
            c->srv->cfg.on_tls_failure(c->srv->cfg.arg, (const struct sockaddr *)&c->peer);
        conn_close(c, 0);
    } else {
        atomic_fetch_add(&c->srv->stat_tls_handshakes, 1);
        if (c->srv->cfg.http2 && yc_http_tls_selected_h2(sock)) {
            hand_to_http2(c);
        } else {
            c->state = S_HEAD; /* the head timer runs on from the connection's start */
            c->sock->bytes_read = 0;
            account_input(c);
            process_head(c);
        }
    }
    c->in_callback--;
    conn_maybe_free(c);
}

static int serve(yc_http_server_t *srv, h2o_socket_t *sock)
{
    conn_t *c;
    int one = 1, fd = h2o_socket_get_fd(sock);

    if (srv->open >= srv->cfg.max_connections || (c = calloc(1, sizeof(*c))) == NULL) {
        atomic_fetch_add(&srv->stat_refused, 1);
        h2o_socket_close(sock);
        return -EMFILE;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* cleartext: we read(2) ourselves; TLS: h2o's reader decrypts (http_tls.c says why) */
    h2o_socket_dont_read(sock, srv->ssl_ctx == NULL);
    c->srv = srv;
    c->sock = sock;
    sock->data = c;
    socklen_t len = sizeof(c->peer);
    if (getpeername(fd, (struct sockaddr *)&c->peer, &len) != 0)
        memset(&c->peer, 0, sizeof(c->peer));
    h2o_mem_init_pool(&c->pool);
    c->read_timer.cb = on_read_timeout;
    c->write_timer.cb = on_write_timeout;
    c->defer.cb = on_defer;
    h2o_linklist_insert(&srv->conns, &c->link);
    srv->open++;
    atomic_fetch_add(&srv->stat_connections, 1);
    atomic_fetch_add(&srv->stat_accepted, 1);
    arm(c, &c->read_timer, &srv->head_timeout);
    if (srv->ssl_ctx != NULL) {
        c->state = S_TLS;
        h2o_socket_ssl_handshake(sock, srv->ssl_ctx, NULL, on_handshake);
        return 0;
    }
    c->state = S_HEAD;
    h2o_socket_read_start(sock, on_readable);
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    yc_http_server_t *srv = listener->data;

    if (err != NULL)
        return;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        errno = 0;
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock == NULL) {
            /* out of descriptors: the listener stays readable, so rest rather than spin */
            if (errno == EMFILE || errno == ENFILE) {
                h2o_socket_read_stop(listener);
                h2o_timeout_link(srv->loop, &srv->accept_pause, &srv->accept_resume);
            }
            return;
        }
        serve(srv, sock);
    }
}

static void on_accept_resume(h2o_timeout_entry_t *e)
{
    yc_http_server_t *srv = H2O_STRUCT_FROM_MEMBER(yc_http_server_t, accept_resume, e);
    if (srv->listener != NULL)
        h2o_socket_read_start(srv->listener, on_accept);
}

/* ---------------------------------------------------------------- the server */

int yc_http_server_new(h2o_loop_t *loop, const yc_http_config_t *cfg, yc_http_server_t **out)
{
    yc_http_server_t *srv;

    if (cfg->on_request == NULL || cfg->max_head_bytes < 64 || cfg->max_headers == 0 ||
        cfg->max_headers > YC_HTTP1_MAX_HEADERS_CAP || cfg->read_chunk_bytes < 1024 || cfg->max_connections == 0 ||
        cfg->head_timeout_ms == 0 || cfg->body_timeout_ms == 0 || cfg->send_timeout_ms == 0 ||
        cfg->keepalive_timeout_ms == 0 || cfg->linger_timeout_ms == 0 ||
        (cfg->tls_cert_file == NULL) != (cfg->tls_key_file == NULL) || cfg->h2_max_concurrent_streams > (1u << 20) ||
        cfg->h2_stream_window_bytes > 0x7fffffff)
        return -EINVAL;
    if ((srv = calloc(1, sizeof(*srv))) == NULL)
        return -ENOMEM;
    if ((srv->scratch = calloc(cfg->max_headers, sizeof(*srv->scratch))) == NULL) {
        free(srv);
        return -ENOMEM;
    }
    if (cfg->tls_cert_file != NULL) {
        int ret = yc_http_tls_ctx_get(cfg->tls_cert_file, cfg->tls_key_file, cfg->tls_client_ca_file, cfg->http2,
                                      &srv->ssl_ctx);
        if (ret != 0) {
            free(srv->scratch);
            free(srv);
            return ret;
        }
    }
    srv->cfg = *cfg;
    /* zero: a configuration made before these fields existed */
    if (srv->cfg.h2_max_concurrent_streams == 0)
        srv->cfg.h2_max_concurrent_streams = 100;
    if (srv->cfg.h2_stream_window_bytes == 0)
        srv->cfg.h2_stream_window_bytes = 64 * 1024;
    h2o_linklist_init_anchor(&srv->h2conns);
    srv->loop = loop;
    h2o_linklist_init_anchor(&srv->conns);
    h2o_timeout_init(loop, &srv->head_timeout, cfg->head_timeout_ms);
    h2o_timeout_init(loop, &srv->body_timeout, cfg->body_timeout_ms);
    h2o_timeout_init(loop, &srv->send_timeout, cfg->send_timeout_ms);
    h2o_timeout_init(loop, &srv->keepalive_timeout, cfg->keepalive_timeout_ms);
    h2o_timeout_init(loop, &srv->linger_timeout, cfg->linger_timeout_ms);
    h2o_timeout_init(loop, &srv->zero_timeout, 0);
    h2o_timeout_init(loop, &srv->accept_pause, ACCEPT_PAUSE_MS);
    srv->accept_resume.cb = on_accept_resume;
    *out = srv;
    return 0;
}

int yc_http_server_listen(yc_http_server_t *srv, int fd)
{
    if (srv->listener != NULL)
        return -EBUSY;
    srv->listener = h2o_evloop_socket_create(srv->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    srv->listener->data = srv;
    h2o_socket_read_start(srv->listener, on_accept);
    return 0;
}

int yc_http_server_adopt(yc_http_server_t *srv, h2o_socket_t *sock)
{
    return serve(srv, sock);
}

static void server_dispose(yc_http_server_t *srv)
{
    h2o_timeout_dispose(srv->loop, &srv->head_timeout);
    h2o_timeout_dispose(srv->loop, &srv->body_timeout);
    h2o_timeout_dispose(srv->loop, &srv->send_timeout);
    h2o_timeout_dispose(srv->loop, &srv->keepalive_timeout);
    h2o_timeout_dispose(srv->loop, &srv->linger_timeout);
    h2o_timeout_dispose(srv->loop, &srv->zero_timeout);
    h2o_timeout_dispose(srv->loop, &srv->accept_pause);
    yc_http_tls_ctx_put(srv->ssl_ctx);
    free(srv->scratch);
    free(srv);
}

int yc_http_server_free(yc_http_server_t *srv)
{
    h2o_linklist_t *node, *next;

    if (srv == NULL)
        return 0;
    for (node = srv->conns.next; node != &srv->conns; node = node->next)
        if (H2O_STRUCT_FROM_MEMBER(conn_t, link, node)->app_holds)
            return -EBUSY;
    if (yc_http2_server_busy(srv))
        return -EBUSY;
    disarm(&srv->accept_resume);
    if (srv->listener != NULL) {
        h2o_socket_close(srv->listener);
        srv->listener = NULL;
    }
    /* no request is the app's: what the closes leave to do (ends of the layer's own sends) is
     * done here, not deferred, so that every record goes before the timers it links to */
    for (node = srv->conns.next; node != &srv->conns; node = next) {
        next = node->next;
        conn_t *c = H2O_STRUCT_FROM_MEMBER(conn_t, link, node);
        c->in_callback++;
        conn_close(c, -EPIPE);
        disarm(&c->defer);
        run_failed(c);
        c->body_cb = NULL;
        c->in_callback--;
        conn_maybe_free(c);
    }
    yc_http2_server_close_all(srv);
    server_dispose(srv);
    return 0;
}

void yc_http_server_stats(yc_http_server_t *srv, yc_http_stats_t *out)
{
    out->connections = atomic_load(&srv->stat_connections);
    out->input_bytes = atomic_load(&srv->stat_input_bytes);
    out->lingering = atomic_load(&srv->stat_lingering);
    out->accepted = atomic_load(&srv->stat_accepted);
    out->refused = atomic_load(&srv->stat_refused);
    out->requests = atomic_load(&srv->stat_requests);
    out->layer_errors = atomic_load(&srv->stat_layer_errors);
    out->tls_handshakes = atomic_load(&srv->stat_tls_handshakes);
    out->tls_failures = atomic_load(&srv->stat_tls_failures);
    out->h2_connections = atomic_load(&srv->stat_h2_connections);
    out->h2_refused_streams = atomic_load(&srv->stat_h2_refused_streams);
}

size_t yc_http_server_close_idle(yc_http_server_t *srv, size_t max, uint64_t min_idle_ms)
{
    size_t closed = 0;
    uint64_t now = h2o_now(srv->loop);

    for (h2o_linklist_t *node = srv->conns.next; node != &srv->conns && closed < max;) {
        conn_t *c = H2O_STRUCT_FROM_MEMBER(conn_t, link, node);
        node = node->next; /* the record may go below */
        /* a connection idle for a moment is a client about to send: only those idle a while go */
        int silent = c->state == S_HEAD && !c->served && c->sock->input->size == 0, pending = 0;
        if ((c->state != S_IDLE && !silent) || c->in_callback > 0 || now - c->read_timer.registered_at < min_idle_ms)
            continue;
        /* bytes in the kernel not read yet: a request on its way, not an idle client */
        if (c->sock->ssl != NULL || ioctl(h2o_socket_get_fd(c->sock), SIOCINQ, &pending) != 0 || pending > 0)
            continue;
        conn_close(c, 0);
        conn_maybe_free(c);
        closed++;
    }
    return closed;
}

/* ---------------------------------------------------------------- HTTP/1.1's protocol table */

static int h1_alive(const yc_http_req_t *req)
{
    const conn_t *c = conn_of(req);
    return c->sock != NULL && !c->broken;
}

static const yc_http_proto_t http1_proto = {
    .name = "http/1.1",
    .body_read = h1_body_read,
    .body_buffered = h1_body_buffered,
    .send_continue = h1_send_continue,
    .respond = h1_respond,
    .write = h1_write,
    .finish = h1_finish,
    .alive = h1_alive,
};
