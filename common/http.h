/* http.h — the project's own HTTP server layer (HTTP/1.1 and HTTP/2, cleartext or TLS): requests
 * are handed over head first, bodies are pulled by the app with back-pressure, responses are
 * pushed chunk by chunk with completion.
 *
 * Why our own. h2o 2.2.5's handler API reads a whole request body before the handler runs, so a
 * refused 1 GiB PUT is read (and spilled to disk) before its 403, and memory or disk per request
 * grows with the body. This layer keeps what h2o does well — its event loop, sockets, timers,
 * memory pools and picohttpparser — and owns the HTTP/1.1 connection itself.
 *
 * Connection states (one connection, strictly one request at a time; pipelined requests wait in
 * the buffer or the kernel until the previous response is finished):
 *
 *   HEAD ──head complete──▶ REQUEST (the app has the request) ──response finished──┐
 *    ▲  └─bad head: 400/431/501/505, or head timeout: 408 ─▶ LINGER ◀─ close ──────┤
 *    │                                                                            │
 *    ├──────── bytes of the next request already buffered ◀── body fully read ◀───┤
 *   IDLE ◀───── nothing buffered (input buffer released) ◀────────────────────────┤
 *    └─ keep-alive timeout: closed                 DRAIN ◀── body left unread ────┘
 *                                  (at most drain_max_bytes read and dropped, else LINGER)
 *
 * LINGER shuts our write side once the answer is out and reads and drops what the client still
 * sends, for at most linger_timeout_ms and linger_max_bytes, before closing: closing with unread
 * bytes would make the kernel send a reset that can destroy the answer before the client reads
 * it (the 403 to a refused upload).
 *
 * Back-pressure and memory. The layer reads the socket itself (h2o's reader would read until the
 * kernel has nothing left) and only when it needs bytes: while parsing a head, when the app asked
 * for body, while draining or lingering. A read takes at most read_chunk_bytes. A body chunk
 * handed to the app stays in the connection's input buffer, untouched, until the app asks for
 * the next one; meanwhile nothing is read, the kernel's receive window fills and the client's
 * sends block. So a request holds at most max_head_bytes + read_chunk_bytes of input, whatever
 * the body size; the app decides how much more it holds (e.g. a few stripes). Responses go the
 * same way round: the app writes the next buffer only when the previous one was taken by the
 * socket (its callback), so a slow reader holds at most what the app gave plus the kernel's send
 * buffer. An idle keep-alive connection holds no buffer at all (the input buffer goes back to
 * h2o's allocator, the request pool is cleared): its h2o socket and the connection record, under
 * 1 KiB of the process's memory (984 bytes measured over 3000 connections; the kernel's socket
 * memory comes on top).
 *
 * Timers, one per phase: the whole head must arrive within head_timeout_ms of the connection or
 * of the first byte of a request (slowloris: 408 and close; a connection that sent nothing is
 * just closed); a body the app waits for must move
 * within body_timeout_ms (the app's read fails with -ETIMEDOUT, the connection closes after the
 * answer, 408 if the app sends none); a write the client takes nothing of for send_timeout_ms
 * closes the connection (checked against the kernel's acknowledged-bytes counter, so a slow but
 * moving reader is not cut); an idle keep-alive connection closes after keepalive_timeout_ms.
 *
 * Limits the layer answers itself, always closing the connection after: malformed request line
 * or header, obs-fold, a bare LF line end, Content-Length and Transfer-Encoding together, a bad
 * or repeated Content-Length, a request without Host (HTTP/1.1) → 400; request line + headers
 * larger than max_head_bytes, or more than max_headers → 431; a Transfer-Encoding other than
 * chunked → 501; an HTTP major version other than 1 → 505 (an Expect other than 100-continue is
 * ignored, as S3 does). Malformed chunked framing inside a body fails the app's body read (-EBADMSG). Past
 * max_connections, a new connection is accepted and closed at once rather than left in the
 * backlog: with one SO_REUSEPORT listener per loop the kernel keeps hashing new connections to a
 * full loop's backlog, where they would wait for a timeout, while a connection closed at once is
 * retried by the client and most likely lands on another loop (and on no loop of a full process
 * it fails fast, which is what load shedding wants).
 *
 * Threading. Everything runs on the server's event loop thread: on_request and every callback
 * are called there, and the app must call every function below from there only. Work done on
 * other threads comes back to the loop first (common/pool.h's job queues).
 *
 * Protocols. A request is a yc_http_req_t whatever protocol carried it: its fields and the
 * functions below are protocol-free, and each call goes through the request's protocol table
 * (http_internal.h): HTTP/1.1 (http.c) or HTTP/2 (http2.c), over cleartext or TLS (http_tls.c).
 *
 * TLS (tls_cert_file, tls_key_file): OpenSSL through h2o's socket layer, TLS 1.2 and 1.3 only,
 * ALPN offering h2 then http/1.1. h2o runs the handshake and decrypts into the connection's input
 * buffer, so the HTTP code is the same as on cleartext; the one difference is that a TLS read
 * takes what the kernel holds rather than read_chunk_bytes (back-pressure is unchanged: nothing is
 * read while the app holds a chunk). Driving OpenSSL ourselves through memory BIOs would bound
 * reads exactly, at the cost of our own record I/O, write queue and shutdown. One SSL_CTX per
 * certificate/key pair and process, shared by every server naming them: session tickets sealed by
 * one loop's context then open on all loops. The handshake must end within head_timeout_ms; a
 * failed or timed-out one closes the connection and counts in tls_failures.
 *
 * HTTP/2 (libnghttp2): chosen by ALPN, or on cleartext by prior knowledge (h2_prior_knowledge).
 * Each stream is a request with version 0x200. Back-pressure is HTTP/2 flow control: a stream's
 * window is given back only as the app reads (a stream buffers at most h2_stream_window_bytes),
 * the connection's as data arrives. Responses wait in the app's buffers until the client's windows
 * let them go. SETTINGS advertise h2_max_concurrent_streams, the stream window, max_head_bytes as
 * the header list size and no push; a header block over max_head_bytes or max_headers is answered
 * 431; the same timers apply per connection and per stream (http2.c tells how).
 *
 * The process must ignore SIGPIPE (writes to a closed connection would kill it otherwise).
 *
 * Part of common/ (libcommon.a, prefix yc_): small helpers every library may use and that use
 * none of them. It has one public header per concern (log, pool, listen, server, clock, id,
 * bytes, errors, cli, http) rather than one for the folder, because its parts are independent.
 */
#ifndef YC_COMMON_HTTP_H
#define YC_COMMON_HTTP_H
#include <h2o.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct yc_http_server yc_http_server_t;
typedef struct yc_http_req yc_http_req_t;
typedef struct yc_http_proto yc_http_proto_t;

/* A header field: the name lowercased, the value as sent without surrounding blanks. Both point
 * into memory of the request's pool: valid until the request is finished. */
typedef struct {
    h2o_iovec_t name;
    h2o_iovec_t value;
} yc_http_header_t;

#define YC_HTTP_LENGTH_UNKNOWN UINT64_MAX /* a body whose length is not known in advance */

struct yc_http_req {
    h2o_iovec_t method; /* as sent (methods are case-sensitive): "GET", "PUT", ... */
    h2o_iovec_t target; /* the raw request-target: path and query as sent */
    h2o_iovec_t path;   /* target up to the first '?' */
    h2o_iovec_t query;  /* after the first '?', without it; len 0 when there is none */
    int version;        /* 0x100 HTTP/1.0, 0x101 HTTP/1.1, 0x200 HTTP/2 */
    const yc_http_header_t *headers;
    size_t num_headers;
    /* Body framing. Content-Length, or YC_HTTP_LENGTH_UNKNOWN with chunked set; 0 when the
     * request has no body. The body as read through yc_http_body_read is the decoded one
     * (chunked framing and trailers removed); content encodings (aws-chunked) are the app's. */
    uint64_t content_length;
    unsigned chunked : 1;
    unsigned expect_continue : 1; /* Expect: 100-continue (HTTP/1.1) */
    unsigned is_head : 1;         /* HEAD: responses carry headers only */
    unsigned secure : 1;          /* it came over TLS */
    const struct sockaddr *peer;  /* the client's address (peer_len bytes) */
    socklen_t peer_len;
    h2o_mem_pool_t *pool; /* request-lifetime memory, cleared when the request is finished */
    void *app;            /* the app's own pointer, NULL at first */
    void *arg;            /* the server configuration's arg */
    const yc_http_proto_t *proto;
};

/* Everything a server (one per event loop) is told; yc_http_config_init gives the defaults. */
typedef struct {
    size_t max_head_bytes;         /* request line + headers; more is 431. Default 16 KiB */
    size_t max_headers;            /* header fields; more is 431. Default 100, at most 1000 */
    uint64_t head_timeout_ms;      /* for the whole head of a request. Default 10 s */
    uint64_t body_timeout_ms;      /* without a body byte while the app waits. Default 30 s */
    uint64_t send_timeout_ms;      /* without the client taking a byte. Default 30 s */
    uint64_t keepalive_timeout_ms; /* idle between requests. Default 60 s */
    uint64_t linger_timeout_ms;    /* reading and dropping before a close. Default 2 s */
    size_t linger_max_bytes;       /* dropped at most before a close. Default 4 MiB */
    size_t drain_max_bytes;        /* unread body dropped to keep the connection. Default 64 KiB */
    size_t read_chunk_bytes;       /* read from the socket at once. Default 64 KiB */
    size_t max_connections;        /* open at once; past it closed at accept. Default from the fd limit */
    const char *server_name;       /* the Server header; NULL sends none */
    /* Called on the loop once a request's head is in (nothing of its body read yet but what came
     * in the same packets). The app owns req until it calls yc_http_finish (or yc_http_send). */
    void (*on_request)(yc_http_req_t *req);
    /* The answer to a request the layer refuses itself: may change *status (S3 answers a timed
     * out request 400 RequestTimeout) and *content_type, writes the body into buf (cap bytes)
     * and returns its length. NULL: empty bodies with the status as is. */
    size_t (*error_page)(void *arg, int *status, const char **content_type, char *buf, size_t cap);
    void *arg; /* given to error_page, and as req->arg */
    /* TLS: both set, every connection is TLS 1.2 or 1.3 with this certificate chain (PEM, the
     * server's certificate first) and private key (PEM); both NULL, cleartext. The files are read
     * by yc_http_server_new (one SSL_CTX per distinct pair in the process, shared by its servers). */
    const char *tls_cert_file;
    const char *tls_key_file;
    /* Mutual TLS (with tls_cert_file): a PEM bundle of the only CAs trusted for client
     * certificates; a connection without a certificate signed by one of them ends in the
     * handshake, before any request. NULL: no client certificate is asked for. */
    const char *tls_client_ca_file;
    /* Called on the loop when a TLS handshake fails or times out (peer may be NULL), for a log
     * line the app rate-limits; NULL: only counted in tls_failures. */
    void (*on_tls_failure)(void *arg, const struct sockaddr *peer);
    /* HTTP/2: offered by ALPN on TLS when set (default 1); with h2_prior_knowledge (default 0) a
     * cleartext connection that opens with the HTTP/2 preface is served as HTTP/2 too. */
    int http2;
    int h2_prior_knowledge;
    size_t h2_max_concurrent_streams; /* SETTINGS_MAX_CONCURRENT_STREAMS. Default 100 */
    size_t h2_stream_window_bytes;    /* request body a stream may send ahead of the app. Default 64 KiB */
} yc_http_config_t;

/* Counters of a server, readable from any thread. */
typedef struct {
    size_t connections;          /* open now */
    size_t lingering;            /* of those, answered and closing: dropping what the client sends */
    size_t input_bytes;          /* input buffers (and HTTP/2 stream bodies) held now (capacity) */
    uint64_t accepted;           /* connections accepted and served */
    uint64_t refused;            /* connections closed at accept: max_connections reached */
    uint64_t requests;           /* requests handed to the app */
    uint64_t layer_errors;       /* requests refused by the layer itself (400, 408, 431, 501, 505) */
    uint64_t tls_handshakes;     /* TLS handshakes completed */
    uint64_t tls_failures;       /* TLS handshakes failed or timed out: the connection closed */
    uint64_t h2_connections;     /* connections served as HTTP/2 */
    uint64_t h2_refused_streams; /* streams refused: too many held by the app at once */
} yc_http_stats_t;

/* Fills cfg with the defaults above; max_connections from yc_http_connection_budget(1024, 1). */
void yc_http_config_init(yc_http_config_t *cfg);

/* Raises the soft RLIMIT_NOFILE to the hard limit (call once at start, before threads open
 * files) and gives the soft limit now in effect. 0, or -errno when it could not be read. */
int yc_http_raise_nofile(uint64_t *limit);

/* Connections each of nservers servers may hold: the soft fd limit less reserve descriptors
 * kept for files, drives and RocksDB, shared out; at least 16. */
size_t yc_http_connection_budget(size_t reserve, size_t nservers);

/* Makes a server on loop (*cfg is copied; on_request is required). Call on the loop's thread.
 * 0, -EINVAL for a bad configuration, -ENOMEM; with TLS, -ENOENT (a file cannot be read) or
 * -EPROTO (the certificate or key is not usable, or they do not match). */
int yc_http_server_new(h2o_loop_t *loop, const yc_http_config_t *cfg, yc_http_server_t **out);

/* Accepts connections on fd (a listening, non-blocking socket, e.g. yc_listen_open's; the server
 * closes it when freed). 0 or -EBUSY when the server already listens. */
int yc_http_server_listen(yc_http_server_t *srv, int fd);

/* Serves a socket accepted by someone else (created on this loop); counted against
 * max_connections like the others. 0, or -EMFILE when full (the socket is closed). */
int yc_http_server_adopt(yc_http_server_t *srv, h2o_socket_t *sock);

/* Closes the listener and every connection and frees the server: 0, or -EBUSY (nothing done)
 * while the app still holds a request — finish them first. Loop thread only. */
int yc_http_server_free(yc_http_server_t *srv);

/* The server's counters (any thread). */
void yc_http_server_stats(yc_http_server_t *srv, yc_http_stats_t *out);

/* Closes up to max HTTP/1.1 connections idle between requests (nothing buffered, no request
 * held), or that never sent a byte, for min_idle_ms or longer, oldest first, for a server that
 * must make room: HTTP lets a server close an idle keep-alive connection at any time (a request
 * crossing the close is retried by the client; one idle a while is unlikely to be sending).
 * Returns how many it closed. Loop thread only. */
size_t yc_http_server_close_idle(yc_http_server_t *srv, size_t max, uint64_t min_idle_ms);

/* ---- requests: every function below is for the loop's thread, and for a request the app holds */

/* The value of the first header field called name (lowercase), or NULL. */
const h2o_iovec_t *yc_http_header(const yc_http_req_t *req, const char *name);

/* The status given to a body callback along with its data. */
enum {
    YC_HTTP_BODY_MORE = 0, /* more body follows */
    YC_HTTP_BODY_END = 1,  /* data is the last of the body (possibly empty) */
    /* or a negative code: -ETIMEDOUT (nothing for body_timeout_ms), -EBADMSG (malformed chunked
     * framing), -ECONNRESET (the client closed or reset before the end), -EPIPE (the connection
     * is gone), -ENOMEM */
};

/* data: borrowed until the next yc_http_body_read or yc_http_finish of this request. */
typedef void (*yc_http_body_cb)(yc_http_req_t *req, void *arg, h2o_iovec_t data, int status);

/* Asks for the next piece of the body: cb runs once, later on the loop (never inside this
 * call), with the bytes that are there (at most read_chunk_bytes, at least one unless the body
 * ended or failed). Nothing is read from the socket between a callback and the next call: that
 * is the back-pressure. Sends the 100 Continue first when the client expects it. After the end
 * or an error, further calls give the same status again. 0, or -EBUSY when a read is already
 * pending. A pending read is dropped (its callback not called) by yc_http_finish. */
int yc_http_body_read(yc_http_req_t *req, yc_http_body_cb cb, void *arg);

/* 1 when the whole rest of the body is already in the layer's buffer (it came with the head):
 * reading it takes nothing more from the socket and sends no 100 Continue. 0 otherwise, or when
 * the protocol does not tell. */
int yc_http_body_buffered(const yc_http_req_t *req);

/* Sends "100 Continue" when the client expects it and no response was started; nothing
 * otherwise. A final response sent without it means the body is never wanted: the connection is
 * closed after the response (what the client sent anyway is dropped while lingering). */
void yc_http_continue(yc_http_req_t *req);

/* Starts the response: status (200..599), reason (NULL: the standard one), the app's headers
 * (Content-Length, Transfer-Encoding, Connection and Date are the layer's and dropped, except
 * that "connection: close" asks for the connection to be closed after), and the body length or
 * YC_HTTP_LENGTH_UNKNOWN (chunked; close-delimited for HTTP/1.0). Nothing is sent until the
 * first yc_http_write or yc_http_finish. HEAD, 204 and 304 have no body. 0, -EINVAL (bad status,
 * a CR, LF or NUL in a header, a name that is no token), -EALREADY when already started. */
int yc_http_respond(yc_http_req_t *req, int status, const char *reason, const yc_http_header_t *headers, size_t n,
                    uint64_t content_length);

/* 0 when the socket took the bytes, or a negative code (-EPIPE, -ETIMEDOUT). */
typedef void (*yc_http_write_cb)(yc_http_req_t *req, void *arg, int status);

#define YC_HTTP_MAX_WRITE_BUFS 16

/* Writes n buffers of body (borrowed until cb runs); cb runs once, later, when the socket took
 * them. One write at a time: the next only after the callback. 0; -EBUSY (a write is pending),
 * -EINVAL (not started, more than YC_HTTP_MAX_WRITE_BUFS, more bytes than the length given),
 * -EPIPE (the connection is gone): on a failure cb is not called. */
int yc_http_write(yc_http_req_t *req, const h2o_iovec_t *bufs, size_t n, yc_http_write_cb cb, void *arg);

/* Ends the response (sends what is left: headers, the last chunk) and gives the request back:
 * req must not be touched after it. A response never started is answered by the layer (408
 * after a body timeout, 400 after malformed framing, 500 otherwise) and the connection closed;
 * one shorter than its Content-Length closes the connection. 0, or -EBUSY while a write is
 * pending (nothing happened: finish after its callback). */
int yc_http_finish(yc_http_req_t *req);

/* A whole small response: yc_http_respond with body.len, the body copied, yc_http_finish. The
 * request is finished whatever the result: 0, or -EINVAL when the headers were refused (the
 * layer answered 500 instead). */
int yc_http_send(yc_http_req_t *req, int status, const char *reason, const yc_http_header_t *headers, size_t n,
                 h2o_iovec_t body);

/* 1 while the request's connection is open, 0 once it broke (calls then fail with -EPIPE): for
 * an app that wants to stop work nobody will receive. */
int yc_http_req_alive(const yc_http_req_t *req);

#endif
