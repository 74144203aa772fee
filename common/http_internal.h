/* http_internal.h — the parts of the HTTP layer below its public API: the protocol table every
 * request points to, and the HTTP/1.1 parsers, which work on byte buffers alone (no socket, no
 * loop) so that the fuzz target drives them exactly as a connection does.
 *
 * A connection keeps its unread input in one buffer and calls, in turn:
 *   - yc_http1_parse_head on the bytes at its front until a head is complete or refused, then
 *     drops the head's bytes (after copying what the request keeps);
 *   - yc_http1_body_decode on the bytes at its front while the app wants body, dropping `used`
 *     bytes once the app is done with the data it got, until the body ended;
 * and starts over with the next head on whatever follows.
 *
 * Strictness is deliberate: a message whose framing two parsers could read differently (the
 * root of request smuggling through a proxy) is refused, not guessed. So a line ends with CRLF
 * only (picohttpparser accepts a bare LF: the head is checked after it), obs-fold is refused,
 * Content-Length is one run of digits given once, Transfer-Encoding is exactly "chunked" and
 * never with Content-Length. The chunked decoder is our own rather than phr_decode_chunked,
 * which accepts a bare LF as a line end, any byte in a chunk extension and trailers of any size:
 * ours takes CRLF only, checks extensions and trailer fields against RFC 9112's grammar (no
 * control characters, a token before any "=") and bounds chunk lines and trailers.
 */
#ifndef YC_COMMON_HTTP_INTERNAL_H
#define YC_COMMON_HTTP_INTERNAL_H
#include "common/http.h"
#include <openssl/ssl.h>
#include <stdatomic.h>
#include <time.h>

/* ---- the server, shared by the protocols' files (http.c, http_tls.c, http2.c, http_req.c) */
struct yc_http_server {
    yc_http_config_t cfg;
    h2o_loop_t *loop;
    h2o_socket_t *listener;
    h2o_timeout_t head_timeout, body_timeout, send_timeout, keepalive_timeout, linger_timeout, zero_timeout,
        accept_pause;
    h2o_timeout_entry_t accept_resume;
    h2o_linklist_t conns;      /* every HTTP/1.1 (or handshaking) record alive, open or held by the app */
    h2o_linklist_t h2conns;    /* every HTTP/2 connection record alive */
    size_t open;               /* connections with a socket, of both kinds */
    yc_http_header_t *scratch; /* max_headers entries for parsing a head */
    SSL_CTX *ssl_ctx;          /* NULL: cleartext */
    time_t date_sec;
    char date[40];
    atomic_size_t stat_connections, stat_input_bytes;
    atomic_size_t stat_lingering; /* HTTP/1.1 connections answered and closing (LINGER) */
    atomic_uint_fast64_t stat_accepted, stat_refused, stat_requests, stat_layer_errors, stat_tls_handshakes,
        stat_tls_failures, stat_h2_connections, stat_h2_refused_streams;
};

/* The Date header's value for now (cached per second). */
const char *yc_http_date(yc_http_server_t *srv);

/* Called when a connection of either kind loses its socket: the server's open count. */
void yc_http_conn_closed(yc_http_server_t *srv);

/* ---- TLS (http_tls.c) */

/* The SSL_CTX for a certificate chain and key file pair: TLS 1.2 and 1.3 only, ALPN offering h2
 * (when http2) and http/1.1; with client_ca_file, a client certificate signed by one of its CAs is
 * required. Made once per distinct set of files and process and shared (SSL_CTX is thread-safe
 * once set up); every get is paired with a put. 0, -ENOENT, -EPROTO, -ENOMEM. */
int yc_http_tls_ctx_get(const char *cert_file, const char *key_file, const char *client_ca_file, int http2,
                        SSL_CTX **out);
void yc_http_tls_ctx_put(SSL_CTX *ctx);

/* 1 when the handshake done on sock selected HTTP/2 by ALPN. */
int yc_http_tls_selected_h2(h2o_socket_t *sock);
/* The kernel's count of bytes the peer acknowledged on sock (0 when unknown): the send timeout
 * of both protocols checks that a slow reader still takes something. */
uint64_t yc_http_bytes_acked(h2o_socket_t *sock);

/* ---- HTTP/2 (http2.c) */

#define YC_HTTP2_PREFACE     "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define YC_HTTP2_PREFACE_LEN 24

/* Serves sock (open, counted in srv->open, its input buffer holding what was read so far) as an
 * HTTP/2 connection from now on; peer is the client's address. On failure the socket is closed
 * (and uncounted). 0 or -ENOMEM. */
int yc_http2_accept(yc_http_server_t *srv, h2o_socket_t *sock, const struct sockaddr_storage *peer);

/* 1 while the app holds a request of one of srv's HTTP/2 connections. */
int yc_http2_server_busy(yc_http_server_t *srv);

/* Closes and frees every HTTP/2 connection of srv (none of whose requests the app holds). */
void yc_http2_server_close_all(yc_http_server_t *srv);

/* ---- the protocol table: what yc_http_body_read & co. do for a request of that protocol */
struct yc_http_proto {
    const char *name;
    int (*body_read)(yc_http_req_t *req, yc_http_body_cb cb, void *arg);
    void (*send_continue)(yc_http_req_t *req);
    int (*respond)(yc_http_req_t *req, int status, const char *reason, const yc_http_header_t *headers, size_t n,
                   uint64_t content_length);
    int (*write)(yc_http_req_t *req, const h2o_iovec_t *bufs, size_t n, yc_http_write_cb cb, void *arg);
    /* ends the response with last (the layer's copy, may be empty) as its final body bytes */
    int (*finish)(yc_http_req_t *req, h2o_iovec_t last);
    int (*alive)(const yc_http_req_t *req);
    int (*body_buffered)(const yc_http_req_t *req); /* may be NULL: never */
};

/* The standard reason phrase of a status ("OK"), "Unknown" for others. */
const char *yc_http_reason(int status);

/* 0 when an app's response header may be sent: the name a token, the value without CR, LF or
 * NUL; -EINVAL otherwise. */
int yc_http_header_check(const yc_http_header_t *h);

/* ---- HTTP/1.1 request heads */

typedef struct {
    size_t max_head_bytes;
    size_t max_headers;
} yc_http1_limits_t;

#define YC_HTTP1_MAX_HEADERS_CAP 1000 /* the most max_headers may be */

typedef struct {
    size_t head_len; /* bytes of the head, final CRLF included; 0 while incomplete */
    int status;      /* when refused: the status to answer (400, 431, 501, 505) */
    h2o_iovec_t method, target;
    int minor_version; /* 0 or 1 (a higher 1.x is served as 1.1) */
    size_t num_headers;
    uint64_t content_length; /* YC_HTTP_LENGTH_UNKNOWN when chunked */
    unsigned chunked : 1;
    unsigned keep_alive : 1;      /* what the client asked: 1.1 without close, 1.0 with keep-alive */
    unsigned expect_continue : 1; /* HTTP/1.1 only */
} yc_http1_head_t;

/* Parses the request head at the front of buf[0..len) (writable: header names are lowercased in
 * place). last_len is len at the previous call on the same bytes (0 at first), to skip the
 * search already done. headers must hold lim->max_headers entries; they and the head's fields
 * point into buf. Returns 0 with out->head_len set (0: more bytes needed), or -EBADMSG with
 * out->status when the request is refused. */
int yc_http1_parse_head(char *buf, size_t len, size_t last_len, const yc_http1_limits_t *lim, yc_http_header_t *headers,
                        yc_http1_head_t *out);

/* ---- HTTP/1.1 request bodies */

typedef struct {
    uint64_t remaining;   /* Content-Length: bytes left; chunked: bytes left in this chunk */
    uint64_t decoded;     /* body bytes given out so far */
    size_t line_len;      /* bytes of the current chunk line or trailer field so far */
    size_t trailer_bytes; /* bytes of the trailer section so far */
    size_t max_trailer_bytes;
    unsigned char chunked, state, done;
} yc_http1_body_t;

/* Prepares b for a request's body (from its parsed head); max_trailer_bytes bounds the trailer
 * section of a chunked body. */
void yc_http1_body_init(yc_http1_body_t *b, const yc_http1_head_t *head, size_t max_trailer_bytes);

/* Decodes body bytes at the front of buf[0..len): the body's data is moved to buf[0..*data_len)
 * (chunk framing taken out in place) and *used is how many bytes of buf were consumed, data
 * included; bytes from *used on belong to what follows the body (the next request). Returns 1
 * when the body ended within them, 0 when more is to come, -EBADMSG on malformed framing (then
 * nothing more may be decoded). Data before a framing error is given out first and the error at
 * the next call, so that what comes out never depends on where the bytes were cut. */
int yc_http1_body_decode(yc_http1_body_t *b, char *buf, size_t len, size_t *data_len, size_t *used);

#endif
