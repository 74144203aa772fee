/* http2.c — HTTP/2 connections on libnghttp2: each stream is a yc_http_req_t with the API of
 * http.h, and nghttp2's flow control is the back-pressure.
 *
 * A connection comes here from http.c once it is known to speak HTTP/2: ALPN "h2" after a TLS
 * handshake, or (h2_prior_knowledge) a cleartext connection opening with the preface. nghttp2
 * parses frames, keeps HPACK and stream states and checks HTTP messaging (pseudo-headers,
 * forbidden connection headers, Content-Length against the DATA received); this file maps its
 * callbacks onto requests and drives its input and output:
 *
 *   - input: h2o's reader fills the socket's input buffer; all of it goes through
 *     nghttp2_session_mem_recv at once. Frame callbacks make streams (on_begin_headers), gather
 *     their heads (bounded: max_head_bytes counted as HPACK does, name + value + 32, and
 *     max_headers; past either the stream is answered 431), hand the request to the app when the
 *     head is complete, and append DATA to the stream's body buffer.
 *   - back-pressure: automatic WINDOW_UPDATEs are off. The connection's window is given back as
 *     soon as DATA arrives (so one stalled stream cannot starve the others), a stream's only as
 *     the app reads: a chunk handed to the app is consumed (nghttp2_session_consume_stream) at
 *     the app's next read. A stream thus buffers at most its window (h2_stream_window_bytes), a
 *     connection at most that times the streams it has; a client sending past a window is a
 *     FLOW_CONTROL_ERROR for nghttp2.
 *   - output: the app's writes wait in the stream (borrowed, as in HTTP/1.1) until nghttp2's data
 *     provider copies them into DATA frames; with nothing to copy it defers, and a write resumes
 *     it. Frames are serialised with nghttp2_session_mem_send into one output buffer, at most
 *     OUT_BATCH_BYTES at a time and one socket write in flight; a write's callback runs once the
 *     socket took the frames holding its last byte. The peer's windows thus bound what a slow
 *     reader costs: the app's buffer plus one batch.
 *
 * Limits and timers: SETTINGS_MAX_CONCURRENT_STREAMS is h2_max_concurrent_streams (nghttp2
 * refuses streams past it); requests the app still holds after their stream was reset count
 * too: past twice that many records a new stream is refused (REFUSED_STREAM), so resetting
 * streams cannot pile up work (and nghttp2 rate-limits resets itself). head_timeout_ms bounds a
 * connection's start (preface to first request) and each stream's head; body_timeout_ms a body
 * the app waits for (the read fails with -ETIMEDOUT); send_timeout_ms a socket write the client
 * takes nothing of (the connection closes) and a stream whose window stays shut while the app
 * waits to write (the stream is reset, the write fails with -ETIMEDOUT); keepalive_timeout_ms a
 * connection without streams (GOAWAY, then close). A response ended before the request's body
 * was read is followed by RST_STREAM(NO_ERROR), the HTTP/2 way of saying "stop sending".
 *
 * Ownership as in http.c: a stream record lives until nghttp2 closed the stream (or the
 * connection went) and the app finished the request; a connection record until its socket is
 * closed and its streams are gone. Loop entries hold in_callback; frees happen at their ends
 * or in deferred runs, never inside an app's call or an nghttp2 callback.
 */
#include "common/http_internal.h"
#include <errno.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>

#define OUT_BATCH_BYTES (64 * 1024) /* serialised frames per socket write */
#define ERROR_PAGE_CAP  2048
#define CONN_WINDOW_CAP (16u << 20) /* connection receive window: at most this */

typedef struct h2conn h2conn_t;

typedef struct {
    yc_http_req_t req;
    h2conn_t *conn;
    int32_t id;
    h2o_linklist_t link; /* conn->streams */
    h2o_mem_pool_t pool;
    h2o_timeout_entry_t read_timer; /* the head, then body waits */
    h2o_timeout_entry_t send_timer; /* a write waiting for the client's window */
    h2o_timeout_entry_t defer;
    /* the head as it comes */
    yc_http_header_t *headers;
    size_t num_headers, cap_headers, head_bytes;
    h2o_iovec_t method, path, authority;
    unsigned too_large : 1, head_done : 1, has_host : 1;
    /* the body */
    h2o_buffer_t *body; /* DATA received and not yet given to the app */
    char *chunk;        /* the piece the app holds (read_chunk_bytes), a copy: see body_pump */
    size_t held;        /* its length: the stream's window gets it back at the app's next read */
    size_t counted;     /* the body's capacity and the chunk as counted in input_bytes */
    yc_http_body_cb body_cb;
    void *body_arg;
    int body_error;
    unsigned body_done : 1, body_timed_out : 1, sent_100 : 1;
    /* the response */
    int status;
    uint64_t resp_length, resp_written;
    nghttp2_nv *nva;
    size_t nvlen;
    h2o_iovec_t pend[YC_HTTP_MAX_WRITE_BUFS + 1]; /* what the provider copies next */
    size_t npend, pend_i, pend_off;
    yc_http_write_cb write_cb;
    void *write_arg;
    unsigned submitted : 1, resp_no_body : 1, finished : 1, write_due : 1, app_holds : 1, closed : 1;
    int close_code;
} h2stream_t;

struct h2conn {
    yc_http_server_t *srv;
    h2o_socket_t *sock; /* NULL once closed */
    nghttp2_session *ng;
    h2o_linklist_t link;    /* srv->h2conns */
    h2o_linklist_t streams; /* every stream record alive */
    size_t live;            /* of them */
    h2o_timeout_entry_t idle_timer, write_timer, defer;
    h2o_buffer_t *out; /* frames being written */
    uint64_t acked_mark;
    unsigned in_callback;
    unsigned writing : 1, failing : 1;
    struct sockaddr_storage peer;
};

static const yc_http_proto_t h2_proto;
static void conn_flush(h2conn_t *c);
static void conn_close(h2conn_t *c, int code);

static h2stream_t *stream_of(const yc_http_req_t *req)
{
    return H2O_STRUCT_FROM_MEMBER(h2stream_t, req, req);
}

/* ---------------------------------------------------------------- small helpers */

static void arm(h2o_loop_t *loop, h2o_timeout_entry_t *e, h2o_timeout_t *t)
{
    if (h2o_timeout_is_linked(e))
        h2o_timeout_unlink(e);
    h2o_timeout_link(loop, t, e);
}

static void disarm(h2o_timeout_entry_t *e)
{
    if (h2o_timeout_is_linked(e))
        h2o_timeout_unlink(e);
}

static void conn_defer(h2conn_t *c)
{
    if (c->sock != NULL && !h2o_timeout_is_linked(&c->defer))
        h2o_timeout_link(c->srv->loop, &c->srv->zero_timeout, &c->defer);
}

static void stream_defer(h2stream_t *s)
{
    if (!h2o_timeout_is_linked(&s->defer))
        h2o_timeout_link(s->conn->srv->loop, &s->conn->srv->zero_timeout, &s->defer);
}

static int iv_is(h2o_iovec_t v, const char *s)
{
    return v.len == strlen(s) && memcmp(v.base, s, v.len) == 0;
}

/* Counts what the stream's body buffer holds now in the server's input_bytes. */
static void account_body(h2stream_t *s)
{
    size_t now = s->body != NULL && s->body->bytes != NULL ? s->body->capacity : 0;
    if (s->chunk != NULL)
        now += s->conn->srv->cfg.read_chunk_bytes;
    atomic_size_t *stat = &s->conn->srv->stat_input_bytes;

    if (now > s->counted)
        atomic_fetch_add(stat, now - s->counted);
    else
        atomic_fetch_sub(stat, s->counted - now);
    s->counted = now;
}

/* ---------------------------------------------------------------- freeing */

static void stream_maybe_free(h2stream_t *s)
{
    h2conn_t *c = s->conn;

    if (!s->closed || s->app_holds || h2o_timeout_is_linked(&s->defer))
        return;
    disarm(&s->read_timer);
    disarm(&s->send_timer);
    h2o_buffer_dispose(&s->body);
    free(s->chunk);
    s->chunk = NULL;
    account_body(s);
    h2o_mem_clear_pool(&s->pool);
    h2o_linklist_unlink(&s->link);
    free(s);
    if (--c->live == 0 && c->sock != NULL && !c->failing)
        arm(c->srv->loop, &c->idle_timer, &c->srv->keepalive_timeout);
}

static void conn_maybe_free(h2conn_t *c)
{
    if (c->sock != NULL || c->live > 0 || c->in_callback > 0 || h2o_timeout_is_linked(&c->defer))
        return;
    disarm(&c->idle_timer);
    disarm(&c->write_timer);
    h2o_buffer_dispose(&c->out);
    h2o_linklist_unlink(&c->link);
    free(c);
}

/* Closes the socket and ends the session: every stream is closed, what the app waits for gets
 * code (later, from the stream's deferred run). */
static void conn_close(h2conn_t *c, int code)
{
    h2o_linklist_t *node;

    if (c->sock == NULL)
        return;
    disarm(&c->idle_timer);
    disarm(&c->write_timer);
    disarm(&c->defer);
    yc_http_conn_closed(c->srv);
    h2o_socket_close(c->sock);
    c->sock = NULL;
    c->writing = 0;
    nghttp2_session_del(c->ng); /* calls no callback: the streams are closed here */
    c->ng = NULL;
    for (node = c->streams.next; node != &c->streams; node = node->next) {
        h2stream_t *s = H2O_STRUCT_FROM_MEMBER(h2stream_t, link, node);
        disarm(&s->read_timer); /* their ends come from the deferred run now */
        disarm(&s->send_timer);
        if (!s->closed) {
            s->closed = 1;
            s->close_code = code != 0 ? code : -EPIPE;
        }
        stream_defer(s);
    }
}

/* ---------------------------------------------------------------- output */

static void on_write_timeout(h2o_timeout_entry_t *e)
{
    h2conn_t *c = H2O_STRUCT_FROM_MEMBER(h2conn_t, write_timer, e);
    uint64_t acked = yc_http_bytes_acked(c->sock);

    if (acked != c->acked_mark) { /* slow but moving */
        c->acked_mark = acked;
        arm(c->srv->loop, &c->write_timer, &c->srv->send_timeout);
        return;
    }
    c->in_callback++;
    conn_close(c, -ETIMEDOUT);
    c->in_callback--;
    conn_maybe_free(c);
}

static void on_written(h2o_socket_t *sock, const char *err)
{
    h2conn_t *c = sock->data;
    h2o_linklist_t *node;

    c->in_callback++;
    c->writing = 0;
    disarm(&c->write_timer);
    if (err != NULL) {
        conn_close(c, -EPIPE);
    } else {
        h2o_buffer_consume(&c->out, c->out->size);
        /* the frames holding the last bytes of these writes are on their way: the app's turn */
        for (node = c->streams.next; node != &c->streams; node = node->next) {
            h2stream_t *s = H2O_STRUCT_FROM_MEMBER(h2stream_t, link, node);
            if (s->write_due) {
                yc_http_write_cb cb = s->write_cb;
                s->write_due = 0;
                s->write_cb = NULL;
                disarm(&s->send_timer);
                if (cb != NULL)
                    cb(&s->req, s->write_arg, 0);
            }
        }
        conn_flush(c);
    }
    c->in_callback--;
    conn_maybe_free(c);
}

/* Serialises what nghttp2 has to send into one batch and writes it; closes a session that has
 * nothing more to say or hear (after GOAWAY, or a failed input). */
static void conn_flush(h2conn_t *c)
{
    if (c->sock == NULL || c->writing)
        return;
    while (c->out->size < OUT_BATCH_BYTES) {
        const uint8_t *p;
        ssize_t n = nghttp2_session_mem_send(c->ng, &p);
        if (n < 0) {
            conn_close(c, -EPROTO);
            return;
        }
        if (n == 0)
            break;
        h2o_iovec_t room = h2o_buffer_reserve(&c->out, (size_t)n);
        if (room.base == NULL) {
            conn_close(c, -ENOMEM);
            return;
        }
        memcpy(room.base, p, (size_t)n);
        c->out->size += (size_t)n;
    }
    if (c->out->size > 0) {
        h2o_iovec_t buf = h2o_iovec_init(c->out->bytes, c->out->size);
        c->writing = 1;
        c->acked_mark = yc_http_bytes_acked(c->sock);
        arm(c->srv->loop, &c->write_timer, &c->srv->send_timeout);
        h2o_socket_write(c->sock, &buf, 1, on_written);
        return;
    }
    if (c->failing || (!nghttp2_session_want_read(c->ng) && !nghttp2_session_want_write(c->ng)))
        conn_close(c, 0);
}

static void on_conn_defer(h2o_timeout_entry_t *e)
{
    h2conn_t *c = H2O_STRUCT_FROM_MEMBER(h2conn_t, defer, e);

    c->in_callback++;
    conn_flush(c);
    c->in_callback--;
    conn_maybe_free(c);
}

/* nghttp2's data provider: copies the app's pending bytes into a DATA frame, or defers. */
static ssize_t provide_data(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t length, uint32_t *flags,
                            nghttp2_data_source *source, void *user)
{
    h2stream_t *s = source->ptr;
    size_t n = 0;

    while (n < length && s->pend_i < s->npend) {
        h2o_iovec_t *b = &s->pend[s->pend_i];
        size_t take = b->len - s->pend_off < length - n ? b->len - s->pend_off : length - n;
        memcpy(buf + n, b->base + s->pend_off, take);
        n += take;
        if ((s->pend_off += take) == b->len) {
            s->pend_i++;
            s->pend_off = 0;
        }
    }
    if (s->pend_i == s->npend) {
        s->npend = s->pend_i = 0;
        if (s->write_cb != NULL)
            s->write_due = 1;
        if (s->finished)
            *flags |= NGHTTP2_DATA_FLAG_EOF;
    }
    if (n > 0 && s->write_cb != NULL)
        arm(s->conn->srv->loop, &s->send_timer, &s->conn->srv->send_timeout);
    if (n == 0 && !(*flags & NGHTTP2_DATA_FLAG_EOF))
        return NGHTTP2_ERR_DEFERRED;
    return (ssize_t)n;
}

/* ---------------------------------------------------------------- responses */

static int is_dropped_header(h2o_iovec_t name)
{
    /* the layer's own, and HTTP/1.1 connection headers HTTP/2 forbids */
    static const char *const names[] = {"content-length", "transfer-encoding", "connection", "date",
                                        "keep-alive",     "proxy-connection",  "upgrade",    "te"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (name.len == strlen(names[i]) && strncasecmp(name.base, names[i], name.len) == 0)
            return 1;
    return 0;
}

static void nv_add(h2stream_t *s, const char *name, size_t nlen, const char *value, size_t vlen)
{
    nghttp2_nv *nv = &s->nva[s->nvlen++];
    nv->name = (uint8_t *)name;
    nv->namelen = nlen;
    nv->value = (uint8_t *)value;
    nv->valuelen = vlen;
    nv->flags = NGHTTP2_NV_FLAG_NONE; /* nghttp2 copies them */
}

/* Builds the response head into the stream's pool (names lowercased: HTTP/2 requires it). */
static void make_head(h2stream_t *s, int status, const yc_http_header_t *headers, size_t n, const char *content_type,
                      uint64_t length)
{
    yc_http_server_t *srv = s->conn->srv;
    char *num = h2o_mem_alloc_pool(&s->pool, 32);
    const char *date = yc_http_date(srv);

    s->nva = h2o_mem_alloc_pool(&s->pool, sizeof(*s->nva) * (n + 5));
    s->nvlen = 0;
    snprintf(num, 32, "%03d", status);
    nv_add(s, ":status", 7, num, 3);
    nv_add(s, "date", 4, date, strlen(date));
    if (srv->cfg.server_name != NULL)
        nv_add(s, "server", 6, srv->cfg.server_name, strlen(srv->cfg.server_name));
    if (content_type != NULL)
        nv_add(s, "content-type", 12, content_type, strlen(content_type));
    for (size_t i = 0; i < n; i++) {
        if (is_dropped_header(headers[i].name))
            continue;
        char *name = h2o_mem_alloc_pool(&s->pool, headers[i].name.len + 1);
        for (size_t j = 0; j < headers[i].name.len; j++)
            name[j] = (char)h2o_tolower(headers[i].name.base[j]);
        nv_add(s, name, headers[i].name.len, headers[i].value.base, headers[i].value.len);
    }
    if (length != YC_HTTP_LENGTH_UNKNOWN && status != 204 && status != 304) {
        char *len = h2o_mem_alloc_pool(&s->pool, 24);
        int l = snprintf(len, 24, "%llu", (unsigned long long)length);
        nv_add(s, "content-length", 14, len, (size_t)l);
    }
}

/* Hands the head to nghttp2: with a data provider unless no body follows. */
static int submit(h2stream_t *s, int with_body)
{
    nghttp2_data_provider prd = {.source = {.ptr = s}, .read_callback = provide_data};
    int ret = nghttp2_submit_response(s->conn->ng, s->id, s->nva, s->nvlen, with_body ? &prd : NULL);
    s->submitted = 1;
    return ret;
}

static int h2_respond(yc_http_req_t *req, int status, const char *reason, const yc_http_header_t *headers, size_t n,
                      uint64_t content_length)
{
    h2stream_t *s = stream_of(req);

    if (s->finished)
        return -EINVAL;
    if (s->status != 0)
        return -EALREADY;
    if (status < 200 || status > 599)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (yc_http_header_check(&headers[i]) != 0)
            return -EINVAL;
    s->status = status;
    s->resp_no_body = req->is_head || status == 204 || status == 304;
    s->resp_length = content_length;
    make_head(s, status, headers, n, NULL, content_length);
    return 0;
}

static int h2_write(yc_http_req_t *req, const h2o_iovec_t *bufs, size_t n, yc_http_write_cb cb, void *arg)
{
    h2stream_t *s = stream_of(req);
    uint64_t total = 0;

    if (s->status == 0 || s->finished || n > YC_HTTP_MAX_WRITE_BUFS || cb == NULL)
        return -EINVAL;
    if (s->write_cb != NULL)
        return -EBUSY;
    if (s->closed)
        return -EPIPE;
    for (size_t i = 0; i < n; i++)
        total += bufs[i].len;
    if (!s->resp_no_body && s->resp_length != YC_HTTP_LENGTH_UNKNOWN &&
        (total > s->resp_length || s->resp_written + total > s->resp_length))
        return -EINVAL;
    s->write_cb = cb;
    s->write_arg = arg;
    s->resp_written += total;
    if (s->resp_no_body || total == 0) {
        s->write_due = 1; /* nothing to wait for: the callback comes from the deferred run */
        stream_defer(s);
        return 0;
    }
    s->npend = s->pend_i = s->pend_off = 0;
    for (size_t i = 0; i < n; i++)
        if (bufs[i].len > 0)
            s->pend[s->npend++] = bufs[i];
    int ret = s->submitted ? nghttp2_session_resume_data(s->conn->ng, s->id) : submit(s, 1);
    if (ret != 0 && ret != NGHTTP2_ERR_INVALID_ARGUMENT) {
        s->write_cb = NULL;
        s->npend = 0;
        return -EPIPE;
    }
    arm(s->conn->srv->loop, &s->send_timer, &s->conn->srv->send_timeout);
    conn_defer(s->conn);
    return 0;
}

static int h2_finish(yc_http_req_t *req, h2o_iovec_t last)
{
    h2stream_t *s = stream_of(req);
    yc_http_server_t *srv = s->conn->srv;

    if (s->finished)
        return -EINVAL;
    if (s->write_cb != NULL)
        return -EBUSY;
    if (s->status == 0) {
        /* the app gave up without an answer: the layer answers */
        int status = s->body_timed_out ? 408 : s->body_error == -EBADMSG ? 400 : 500;
        const char *type = NULL;
        char *page = h2o_mem_alloc_pool(&s->pool, ERROR_PAGE_CAP);
        size_t len = 0;
        if (srv->cfg.error_page != NULL)
            len = srv->cfg.error_page(srv->cfg.arg, &status, &type, page, ERROR_PAGE_CAP);
        if (len > ERROR_PAGE_CAP)
            len = ERROR_PAGE_CAP;
        s->status = status;
        s->resp_no_body = req->is_head;
        s->resp_length = len;
        make_head(s, status, NULL, 0, type, len);
        last = h2o_iovec_init(page, len);
    }
    if (!s->resp_no_body && s->resp_length != YC_HTTP_LENGTH_UNKNOWN && s->resp_written + last.len > s->resp_length)
        return -EINVAL;
    s->finished = 1;
    s->app_holds = 0;
    s->body_cb = NULL; /* a pending read is dropped */
    disarm(&s->read_timer);
    if (s->resp_no_body)
        last.len = 0;
    s->resp_written += last.len;
    if (!s->closed) {
        nghttp2_session *ng = s->conn->ng;
        if (!s->resp_no_body && s->resp_length != YC_HTTP_LENGTH_UNKNOWN && s->resp_written < s->resp_length) {
            /* shorter than announced: the client must see a cut answer, not a short one */
            if (!s->submitted && last.len == 0)
                nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
            else
                s->close_code = 1; /* reset once the bytes given are out (provide_data's EOF) */
        }
        s->npend = s->pend_i = s->pend_off = 0;
        if (last.len > 0)
            s->pend[s->npend++] = last;
        if (!s->submitted)
            submit(s, s->npend > 0);
        else
            nghttp2_session_resume_data(ng, s->id);
        conn_defer(s->conn);
    }
    stream_defer(s); /* frees a stream already closed */
    return 0;
}

static int h2_alive(const yc_http_req_t *req)
{
    return !stream_of(req)->closed;
}

/* ---------------------------------------------------------------- request bodies */

static void h2_send_continue(yc_http_req_t *req)
{
    h2stream_t *s = stream_of(req);
    static const nghttp2_nv nv = {(uint8_t *)":status", (uint8_t *)"100", 7, 3, NGHTTP2_NV_FLAG_NONE};

    if (!req->expect_continue || s->sent_100 || s->status != 0 || s->finished || s->body_done || s->closed)
        return;
    s->sent_100 = 1;
    nghttp2_submit_headers(s->conn->ng, NGHTTP2_FLAG_NONE, s->id, NULL, &nv, 1, NULL);
    conn_defer(s->conn);
}

/* Gives back the window of the chunk the app held. */
static void release_held(h2stream_t *s)
{
    if (s->held == 0)
        return;
    if (!s->closed) {
        nghttp2_session_consume_stream(s->conn->ng, s->id, s->held);
        conn_defer(s->conn);
    }
    s->held = 0;
}

static int h2_body_read(yc_http_req_t *req, yc_http_body_cb cb, void *arg)
{
    h2stream_t *s = stream_of(req);

    if (s->finished || cb == NULL)
        return -EINVAL;
    if (s->body_cb != NULL)
        return -EBUSY;
    release_held(s);
    s->body_cb = cb;
    s->body_arg = arg;
    h2_send_continue(req);
    stream_defer(s);
    return 0;
}

/* Gives the app the next piece of body, the end or the error if there is one; else waits. */
static void body_pump(h2stream_t *s)
{
    h2o_iovec_t data = h2o_iovec_init(NULL, 0);
    int status;

    if (s->body_cb == NULL)
        return;
    if (s->body_error != 0) {
        status = s->body_error;
    } else if (s->body->size > 0) {
        /* The app gets a copy. Frames keep arriving while it holds its piece (the stream's window
         * is given back only at its next read), and making room for them in the body buffer may
         * move its bytes to the front or reallocate it: a piece that pointed into it was then
         * overwritten or freed under the app (an HTTP/2 upload stored with a few bytes changed). */
        size_t max = s->conn->srv->cfg.read_chunk_bytes;
        size_t n = s->body->size < max ? s->body->size : max;
        if (s->chunk == NULL && (s->chunk = malloc(max)) == NULL) {
            status = s->body_error = -ENOMEM;
        } else {
            memcpy(s->chunk, s->body->bytes, n);
            h2o_buffer_consume(&s->body, n);
            account_body(s);
            data = h2o_iovec_init(s->chunk, n);
            s->held = n;
            status = s->body_done && s->body->size == 0 ? YC_HTTP_BODY_END : YC_HTTP_BODY_MORE;
        }
    } else if (s->body_done) {
        status = YC_HTTP_BODY_END;
    } else if (s->closed) {
        status = s->body_error = s->close_code < 0 ? s->close_code : -ECONNRESET;
    } else {
        if (!h2o_timeout_is_linked(&s->read_timer))
            arm(s->conn->srv->loop, &s->read_timer, &s->conn->srv->body_timeout);
        return;
    }
    yc_http_body_cb cb = s->body_cb;
    s->body_cb = NULL;
    disarm(&s->read_timer);
    cb(&s->req, s->body_arg, data, status);
}

static void on_stream_defer(h2o_timeout_entry_t *e)
{
    h2stream_t *s = H2O_STRUCT_FROM_MEMBER(h2stream_t, defer, e);
    h2conn_t *c = s->conn;

    c->in_callback++;
    body_pump(s);
    if (s->write_cb != NULL && (s->write_due || s->closed)) {
        /* a write with nothing to send, or one the stream's end will never send */
        yc_http_write_cb cb = s->write_cb;
        int status = s->write_due ? 0 : s->close_code == -ETIMEDOUT ? -ETIMEDOUT : -EPIPE;
        s->write_cb = NULL;
        s->write_due = 0;
        disarm(&s->send_timer);
        cb(&s->req, s->write_arg, status);
    }
    stream_maybe_free(s);
    c->in_callback--;
    conn_maybe_free(c);
}

static void on_stream_read_timeout(h2o_timeout_entry_t *e)
{
    h2stream_t *s = H2O_STRUCT_FROM_MEMBER(h2stream_t, read_timer, e);
    h2conn_t *c = s->conn;

    c->in_callback++;
    if (!s->head_done) {
        /* a head that does not come in time (slowloris on a stream): the whole connection goes,
         * since a header block left open blocks every other stream */
        nghttp2_session_terminate_session(c->ng, NGHTTP2_PROTOCOL_ERROR);
        c->failing = 1;
        h2o_socket_read_stop(c->sock);
        conn_flush(c);
    } else {
        s->body_error = -ETIMEDOUT;
        s->body_timed_out = 1;
        body_pump(s);
    }
    c->in_callback--;
    conn_maybe_free(c);
}

/* The client's window stayed shut for send_timeout_ms while the app waited to write. */
static void on_stream_send_timeout(h2o_timeout_entry_t *e)
{
    h2stream_t *s = H2O_STRUCT_FROM_MEMBER(h2stream_t, send_timer, e);
    h2conn_t *c = s->conn;

    c->in_callback++;
    if (!s->closed && s->write_cb != NULL) {
        nghttp2_submit_rst_stream(c->ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
        s->close_code = -ETIMEDOUT;
        conn_flush(c);
    }
    c->in_callback--;
    conn_maybe_free(c);
}

/* ---------------------------------------------------------------- nghttp2's callbacks */

static h2stream_t *stream_get(h2conn_t *c, int32_t id)
{
    return nghttp2_session_get_stream_user_data(c->ng, id);
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
    h2conn_t *c = user;
    yc_http_server_t *srv = c->srv;
    h2stream_t *s;

    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    if (c->live >= 2 * srv->cfg.h2_max_concurrent_streams || (s = calloc(1, sizeof(*s))) == NULL) {
        /* requests the app still holds after their streams were reset count here too */
        atomic_fetch_add(&srv->stat_h2_refused_streams, 1);
        nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, frame->hd.stream_id, NGHTTP2_REFUSED_STREAM);
        return 0;
    }
    s->conn = c;
    s->id = frame->hd.stream_id;
    h2o_mem_init_pool(&s->pool);
    h2o_buffer_init(&s->body, &h2o_socket_buffer_prototype);
    s->read_timer.cb = on_stream_read_timeout;
    s->send_timer.cb = on_stream_send_timeout;
    s->defer.cb = on_stream_defer;
    h2o_linklist_insert(&c->streams, &s->link);
    c->live++;
    disarm(&c->idle_timer);
    arm(srv->loop, &s->read_timer, &srv->head_timeout);
    nghttp2_session_set_stream_user_data(ng, s->id, s);
    return 0;
}

static h2o_iovec_t pool_copy(h2o_mem_pool_t *pool, const uint8_t *p, size_t len)
{
    char *copy = h2o_mem_alloc_pool(pool, len + 1);
    memcpy(copy, p, len);
    copy[len] = 0;
    return h2o_iovec_init(copy, len);
}

/* A new entry at the end of the stream's header list (grown in its pool). */
static yc_http_header_t *header_add(h2stream_t *s)
{
    if (s->num_headers == s->cap_headers) {
        size_t cap = s->cap_headers == 0 ? 16 : s->cap_headers * 2;
        yc_http_header_t *h = h2o_mem_alloc_pool(&s->pool, sizeof(*h) * cap);
        if (s->num_headers > 0)
            memcpy(h, s->headers, sizeof(*h) * s->num_headers);
        s->headers = h;
        s->cap_headers = cap;
    }
    return &s->headers[s->num_headers++];
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *user)
{
    h2conn_t *c = user;
    h2stream_t *s = stream_get(c, frame->hd.stream_id);

    if (s == NULL || s->head_done || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0; /* trailers: bounded by nghttp2 (field size, CONTINUATION count), not kept */
    s->head_bytes += namelen + valuelen + 32;
    if (s->too_large || s->head_bytes > c->srv->cfg.max_head_bytes) {
        s->too_large = 1;
        return 0;
    }
    if (namelen > 0 && name[0] == ':') {
        h2o_iovec_t v = pool_copy(&s->pool, value, valuelen);
        if (namelen == 7 && memcmp(name, ":method", 7) == 0)
            s->method = v;
        else if (namelen == 5 && memcmp(name, ":path", 5) == 0)
            s->path = v;
        else if (namelen == 10 && memcmp(name, ":authority", 10) == 0)
            s->authority = v;
        return 0;
    }
    if (s->num_headers >= c->srv->cfg.max_headers) {
        s->too_large = 1;
        return 0;
    }
    yc_http_header_t *h = header_add(s);
    h->name = pool_copy(&s->pool, name, namelen); /* lowercase: nghttp2 refuses others */
    h->value = pool_copy(&s->pool, value, valuelen);
    if (iv_is(h->name, "host"))
        s->has_host = 1;
    return 0;
}

/* The layer's own answer to a request it refuses (431, 400); the app never sees it. */
static void refuse(h2stream_t *s, int status)
{
    yc_http_server_t *srv = s->conn->srv;
    const char *type = NULL;
    char *page = h2o_mem_alloc_pool(&s->pool, ERROR_PAGE_CAP);
    size_t len = 0;

    atomic_fetch_add(&srv->stat_layer_errors, 1);
    if (srv->cfg.error_page != NULL)
        len = srv->cfg.error_page(srv->cfg.arg, &status, &type, page, ERROR_PAGE_CAP);
    if (len > ERROR_PAGE_CAP)
        len = ERROR_PAGE_CAP;
    s->status = status;
    s->resp_length = len;
    s->finished = 1;
    make_head(s, status, NULL, 0, type, len);
    s->req.is_head = s->method.len == 4 && memcmp(s->method.base, "HEAD", 4) == 0;
    if (len > 0 && !s->req.is_head)
        s->pend[s->npend++] = h2o_iovec_init(page, len);
    submit(s, s->npend > 0);
}

static void start_request(h2stream_t *s, int end_stream)
{
    h2conn_t *c = s->conn;
    yc_http_server_t *srv = c->srv;
    yc_http_req_t *req = &s->req;
    const h2o_iovec_t *v;

    disarm(&s->read_timer);
    s->head_done = 1;
    s->body_done = end_stream;
    if (s->too_large) {
        refuse(s, 431);
        return;
    }
    if (s->method.len == 0 || s->path.len == 0) { /* CONNECT (no :path) is not served */
        refuse(s, s->method.len == 0 ? 400 : 501);
        return;
    }
    if (!s->has_host && s->authority.len > 0) {
        yc_http_header_t *h = header_add(s);
        h->name = h2o_iovec_init(H2O_STRLIT("host"));
        h->value = s->authority;
    }
    req->method = s->method;
    req->target = s->path;
    char *q = memchr(s->path.base, '?', s->path.len);
    req->path = h2o_iovec_init(s->path.base, q != NULL ? (size_t)(q - s->path.base) : s->path.len);
    if (q != NULL)
        req->query = h2o_iovec_init(q + 1, s->path.len - req->path.len - 1);
    req->version = 0x200;
    req->headers = s->headers;
    req->num_headers = s->num_headers;
    if (end_stream) {
        req->content_length = 0;
    } else if ((v = yc_http_header(req, "content-length")) != NULL) {
        uint64_t n = 0; /* nghttp2 checked it is a number and will check the DATA against it */
        for (size_t i = 0; i < v->len && v->base[i] >= '0' && v->base[i] <= '9'; i++)
            n = n * 10 + (uint64_t)(v->base[i] - '0');
        req->content_length = n;
    } else {
        /* framed by DATA frames, length unknown: reads as a chunked HTTP/1.1 body would */
        req->content_length = YC_HTTP_LENGTH_UNKNOWN;
        req->chunked = 1;
    }
    /* other expectations are ignored, as on HTTP/1.1 (http_parse.c) */
    if ((v = yc_http_header(req, "expect")) != NULL && v->len == 12 && strncasecmp(v->base, "100-continue", 12) == 0)
        req->expect_continue = !end_stream;
    req->is_head = iv_is(s->method, "HEAD");
    req->secure = c->sock != NULL && c->sock->ssl != NULL;
    req->peer = (const struct sockaddr *)&c->peer;
    req->peer_len =
        (socklen_t)(c->peer.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    req->pool = &s->pool;
    req->arg = srv->cfg.arg;
    req->proto = &h2_proto;
    s->app_holds = 1;
    atomic_fetch_add(&srv->stat_requests, 1);
    srv->cfg.on_request(req);
}

static int on_frame_recv(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
    h2conn_t *c = user;
    h2stream_t *s;

    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
        return 0;
    if ((s = stream_get(c, frame->hd.stream_id)) == NULL)
        return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && !s->head_done) {
        start_request(s, (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0);
        return 0;
    }
    if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) {
        s->body_done = 1;
        stream_defer(s);
    }
    return 0;
}

static int on_data_chunk(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *user)
{
    h2conn_t *c = user;
    h2stream_t *s = stream_get(c, id);

    /* the connection's window back at once: only the stream's holds back (see above) */
    nghttp2_session_consume_connection(ng, len);
    if (s == NULL || s->finished) {
        nghttp2_session_consume_stream(ng, id, len); /* nobody will read it */
        return 0;
    }
    h2o_iovec_t room = h2o_buffer_reserve(&s->body, len);
    if (room.base == NULL)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    memcpy(room.base, data, len);
    s->body->size += len;
    account_body(s);
    if (s->body_cb != NULL)
        stream_defer(s);
    return 0;
}

static int on_frame_send(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
    h2conn_t *c = user;
    h2stream_t *s;

    if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM) || (s = stream_get(c, frame->hd.stream_id)) == NULL)
        return 0;
    if (s->close_code == 1) /* a response shorter than announced */
        nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
    else if (!s->body_done) /* answered before the body was read: the client may stop sending */
        nghttp2_submit_rst_stream(ng, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_NO_ERROR);
    return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t error_code, void *user)
{
    h2conn_t *c = user;
    h2stream_t *s = stream_get(c, id);

    if (s == NULL)
        return 0;
    s->closed = 1;
    if (s->close_code >= 0)
        s->close_code = s->body_done && error_code == NGHTTP2_NO_ERROR ? -EPIPE : -ECONNRESET;
    stream_defer(s);
    return 0;
}

/* ---------------------------------------------------------------- input */

static void on_read(h2o_socket_t *sock, const char *err)
{
    h2conn_t *c = sock->data;

    c->in_callback++;
    if (err != NULL) {
        conn_close(c, -ECONNRESET);
    } else if (sock->input->size > 0) {
        ssize_t r = nghttp2_session_mem_recv(c->ng, (const uint8_t *)sock->input->bytes, sock->input->size);
        if (r < 0) {
            /* a protocol error: nghttp2 queued GOAWAY when it could; say it and close */
            c->failing = 1;
            h2o_socket_read_stop(sock);
            h2o_buffer_consume(&sock->input, sock->input->size);
        } else {
            h2o_buffer_consume(&sock->input, (size_t)r);
        }
        conn_flush(c);
    }
    c->in_callback--;
    conn_maybe_free(c);
}

/* Before the first stream: the preface and a request within head_timeout_ms; between streams:
 * keepalive_timeout_ms. Then GOAWAY and close. */
static void on_idle_timeout(h2o_timeout_entry_t *e)
{
    h2conn_t *c = H2O_STRUCT_FROM_MEMBER(h2conn_t, idle_timer, e);

    c->in_callback++;
    nghttp2_session_terminate_session(c->ng, NGHTTP2_NO_ERROR);
    c->failing = 1;
    h2o_socket_read_stop(c->sock);
    conn_flush(c);
    c->in_callback--;
    conn_maybe_free(c);
}

/* ---------------------------------------------------------------- connections */

static nghttp2_session_callbacks *callbacks_make(void)
{
    nghttp2_session_callbacks *cbs;

    if (nghttp2_session_callbacks_new(&cbs) != 0)
        return NULL;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    return cbs;
}

int yc_http2_accept(yc_http_server_t *srv, h2o_socket_t *sock, const struct sockaddr_storage *peer)
{
    nghttp2_session_callbacks *cbs = callbacks_make();
    nghttp2_option *opt = NULL;
    h2conn_t *c = calloc(1, sizeof(*c));
    const yc_http_config_t *cfg = &srv->cfg;
    int ret = -ENOMEM;

    if (c == NULL || cbs == NULL || nghttp2_option_new(&opt) != 0)
        goto fail;
    nghttp2_option_set_no_auto_window_update(opt, 1);
    if (nghttp2_session_server_new2(&c->ng, cbs, c, opt) != 0)
        goto fail;
    nghttp2_option_del(opt);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, (uint32_t)cfg->h2_max_concurrent_streams},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, (uint32_t)cfg->h2_stream_window_bytes},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)cfg->max_head_bytes},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    };
    uint64_t window = (uint64_t)cfg->h2_stream_window_bytes * cfg->h2_max_concurrent_streams;
    if (window > CONN_WINDOW_CAP)
        window = CONN_WINDOW_CAP;
    if (window < 65535)
        window = 65535;
    if (nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, settings, sizeof(settings) / sizeof(settings[0])) != 0 ||
        nghttp2_session_set_local_window_size(c->ng, NGHTTP2_FLAG_NONE, 0, (int32_t)window) != 0) {
        nghttp2_session_del(c->ng);
        free(c);
        yc_http_conn_closed(srv);
        h2o_socket_close(sock);
        return -ENOMEM;
    }
    c->srv = srv;
    c->sock = sock;
    c->peer = *peer;
    sock->data = c;
    h2o_linklist_init_anchor(&c->streams);
    h2o_buffer_init(&c->out, &h2o_socket_buffer_prototype);
    c->idle_timer.cb = on_idle_timeout;
    c->write_timer.cb = on_write_timeout;
    c->defer.cb = on_conn_defer;
    h2o_linklist_insert(&srv->h2conns, &c->link);
    atomic_fetch_add(&srv->stat_h2_connections, 1);
    arm(srv->loop, &c->idle_timer, &srv->head_timeout);
    /* HTTP/2 needs no read bounded by us: the windows bound what a client may send */
    h2o_socket_dont_read(sock, 0);
    c->in_callback++;
    if (sock->input->size > 0)
        on_read(sock, NULL); /* the preface (and more) already read */
    else
        conn_flush(c); /* our SETTINGS */
    if (c->sock != NULL)
        h2o_socket_read_start(sock, on_read);
    c->in_callback--;
    conn_maybe_free(c);
    return 0;
fail:
    if (opt != NULL)
        nghttp2_option_del(opt);
    if (cbs != NULL)
        nghttp2_session_callbacks_del(cbs);
    free(c);
    yc_http_conn_closed(srv);
    h2o_socket_close(sock);
    return ret;
}

int yc_http2_server_busy(yc_http_server_t *srv)
{
    for (h2o_linklist_t *n = srv->h2conns.next; n != &srv->h2conns; n = n->next) {
        h2conn_t *c = H2O_STRUCT_FROM_MEMBER(h2conn_t, link, n);
        for (h2o_linklist_t *m = c->streams.next; m != &c->streams; m = m->next)
            if (H2O_STRUCT_FROM_MEMBER(h2stream_t, link, m)->app_holds)
                return 1;
    }
    return 0;
}

void yc_http2_server_close_all(yc_http_server_t *srv)
{
    while (!h2o_linklist_is_empty(&srv->h2conns)) {
        h2conn_t *c = H2O_STRUCT_FROM_MEMBER(h2conn_t, link, srv->h2conns.next);
        c->in_callback++;
        conn_close(c, -EPIPE);
        while (!h2o_linklist_is_empty(&c->streams)) {
            h2stream_t *s = H2O_STRUCT_FROM_MEMBER(h2stream_t, link, c->streams.next);
            disarm(&s->defer);
            s->body_cb = NULL;
            s->write_cb = NULL;
            stream_maybe_free(s);
        }
        c->in_callback--;
        conn_maybe_free(c);
    }
}

static const yc_http_proto_t h2_proto = {
    .name = "h2",
    .body_read = h2_body_read,
    .send_continue = h2_send_continue,
    .respond = h2_respond,
    .write = h2_write,
    .finish = h2_finish,
    .alive = h2_alive,
};
