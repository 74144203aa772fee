/* net_conn.c — the network transport's connections to a yc-store daemon, and the signed
 * HTTP/1.1 exchange of one call (the wire format is described in client_net.c).
 *
 * Connections: blocking I/O with poll() timeouts (the callers are worker threads), a LIFO of
 * idle keep-alive connections per daemon under one mutex. An idle connection is checked
 * before reuse (a peek sees the daemon's FIN after a restart) and dropped when older than the
 * daemon's keep-alive time. A request that fails on a reused connection before any answer
 * byte arrived is sent once more on a fresh connection when that cannot apply it twice.
 *
 * Each call is signed here (store_net_sign, with a fresh nonce per attempt), and its answer's
 * head is parsed here: status, content-length, x-yc-error. What the bytes of a call mean is
 * client_net.c's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "common/bytes.h"
#include "common/log.h"
#include "store/net_conn_internal.h"
#include "store/store_internal.h"
#include "store/tls_internal.h"

#define NET_CONNECT_MS_DEFAULT 2000
#define NET_IO_MS_DEFAULT      30000
#define NET_FENCE_CHECK_MS     100 /* how soon a waiting call sees its client fenced */
#define NET_POOL_DEFAULT       16
#define NET_POOL_TLS_DEFAULT   128                 /* see store_net_conn_open */
#define NET_IDLE_MAX_NS        (15LL * 1000000000) /* below the daemon's 30 s keep-alive */
#define NET_HEAD_MAX           4096                /* longest answer head we accept */
#define NET_FORGED_LOG_PER_S   10
#define NET_TLS_COALESCE       16384 /* a request this short goes out as one TLS record */

/* ---------------------------------------------------------------- signing */

void store_net_body_hash(const void *const *bufs, const size_t *lens, size_t n, char out[65])
{
    uint8_t digest[32];
    unsigned int dlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        memset(digest, 0, sizeof(digest)); /* cannot sign: the daemon will refuse the request */
    } else {
        for (size_t i = 0; i < n; i++)
            if (lens[i] > 0)
                EVP_DigestUpdate(ctx, bufs[i], lens[i]);
        EVP_DigestFinal_ex(ctx, digest, &dlen);
    }
    EVP_MD_CTX_free(ctx);
    yc_hex(digest, sizeof(digest), out);
}

void store_net_sign(const store_net_key_t *secret, const char *method, size_t method_len, const char *path,
                    size_t path_len, const char *date, size_t date_len, const char *nonce, size_t nonce_len,
                    const char body_sha256_hex[64], const char *drive_id_hex, char out[STORE_NET_SIG_HEX + 1])
{
    /* Streamed into the MAC so that no length of the (hostile, on the daemon) target can
     * overflow a buffer here. The drive's id goes last: a request bound to one drive does not
     * verify on any other, whatever its name (drive names repeat across nodes). */
    const void *parts[] = {method, "\n", path, "\n", date, "\n", nonce, "\n", body_sha256_hex, "\n", drive_id_hex};
    const size_t lens[] = {method_len, 1, path_len, 1, date_len, 1, nonce_len, 1, 64, 1, STORE_NET_DRIVE_ID_HEX};
    uint8_t mac[32];

    if (store_net_key_hmac(secret, parts, lens, drive_id_hex != NULL ? 11 : 9, mac) != 0)
        RAND_bytes(mac, 32); /* a signature nobody can match, rather than a predictable one */
    yc_hex(mac, 32, out);
}

/* ---------------------------------------------------------------- connections */

/* A connection: its socket, and its TLS session when internode TLS is on. */
typedef struct {
    int fd;
    SSL *ssl;
} net_link_t;

typedef struct {
    net_link_t link;
    int64_t since_ns;
} idle_conn_t;

struct store_net_conn {
    uint8_t *secret;
    size_t secret_len;
    store_net_key_t *sign_key;   /* the cluster secret's, for requests */
    store_net_key_t *answer_key; /* the answers' (net_mac.c) */
    uint32_t connect_ms, io_ms;
    size_t pool_size;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char host_header[300];
    pthread_mutex_t mutex;
    idle_conn_t *idle; /* LIFO: the most recently used connection is the likeliest alive */
    size_t nidle;
    uint8_t nonce_prefix[8];
    atomic_uint_fast64_t nonce_seq;
    const int *fence;            /* the owning client's fence (store_net_conn_watch); NULL: none */
    atomic_uint_fast64_t forged; /* answers whose tag did not check */
    int64_t forged_window_ns;    /* the second the log lines of refusals are counted in (mutex) */
    unsigned forged_logged;
    const store_tls_t *tls; /* NULL: cleartext */
    char host[256];         /* as dialled: what the daemon's certificate must name */
    store_tls_resume_t resume;
    char link_problem[256]; /* why the last new connection failed at the TLS level; "" (mutex) */
    int64_t link_problem_ns;
};

/* ---------------------------------------------------------------- sockets */

/* What wait_fd answers when the time ran out or the client was fenced while waiting: the daemon
 * is silent, which store_net_call must tell from a closed connection (it is STORE_EIO outside). */
#define NET_WAITED_OUT (-ETIMEDOUT)

/* Waits until fd is ready for ev; 0 ready, NET_WAITED_OUT on timeout or as soon as the client is
 * fenced (a daemon the prober found gone: a partition keeps a kept-alive connection silent, not
 * closed, and must not hold a call for the whole io timeout; polls in slices for that), STORE_EIO
 * on error. */
static int wait_fd(const store_net_conn_t *c, int fd, short ev, uint32_t ms)
{
    struct pollfd p = {.fd = fd, .events = ev};
    int64_t deadline = yc_mono_ns() + (int64_t)ms * 1000000;

    for (;;) {
        if (c->fence != NULL && __atomic_load_n(c->fence, __ATOMIC_RELAXED) != 0)
            return NET_WAITED_OUT;
        int64_t left = (deadline - yc_mono_ns()) / 1000000;
        if (left > NET_FENCE_CHECK_MS)
            left = NET_FENCE_CHECK_MS;
        int n = poll(&p, 1, left > 0 ? (int)left : 0);
        if (n > 0)
            return 0;
        if (n == 0 && yc_mono_ns() >= deadline)
            return NET_WAITED_OUT;
        if (n < 0 && errno != EINTR)
            return STORE_EIO;
    }
}

static void link_close(net_link_t *l)
{
    /* no close_notify: the daemon ends the connection on FIN alike, and a write here could block */
    SSL_free(l->ssl);
    l->ssl = NULL;
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
}

/* Remembers why a connection failed at the TLS level, for the health prober and one log line
 * (at most one a second per daemon: a mistaken config fails every call). */
static void note_link_problem(store_net_conn_t *c, const char *what)
{
    int64_t now = yc_mono_ns();
    int log_it;

    pthread_mutex_lock(&c->mutex);
    snprintf(c->link_problem, sizeof(c->link_problem), "%s", what);
    log_it = now - c->link_problem_ns >= 1000000000;
    if (log_it)
        c->link_problem_ns = now;
    pthread_mutex_unlock(&c->mutex);
    if (log_it)
        yc_log(YC_LOG_ERROR, "event=internode_tls_failed daemon=%s reason=\"%s\"", c->host_header, what);
}

static void clear_link_problem(store_net_conn_t *c)
{
    if (__atomic_load_n(&c->link_problem[0], __ATOMIC_RELAXED) == '\0')
        return;
    pthread_mutex_lock(&c->mutex);
    c->link_problem[0] = '\0';
    pthread_mutex_unlock(&c->mutex);
}

/* The TLS handshake on a connected socket, within the connect timeout: 0, or STORE_EUNREACHABLE
 * (nothing was sent) with the cause noted. */
static int link_handshake(store_net_conn_t *c, net_link_t *l)
{
    int64_t deadline = yc_mono_ns() + (int64_t)c->connect_ms * 1000000;
    char why[256];

    if ((l->ssl = store_tls_ssl_new(c->tls, l->fd, c->host, &c->resume)) == NULL)
        return -ENOMEM;
    for (;;) {
        errno = 0;
        int r = SSL_connect(l->ssl), saved = errno;
        if (r == 1)
            return 0;
        int err = SSL_get_error(l->ssl, r);
        int64_t left = (deadline - yc_mono_ns()) / 1000000;
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
            if (left > 0 && wait_fd(c, l->fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, (uint32_t)left) == 0)
                continue;
            ERR_clear_error();
            if (c->fence != NULL && __atomic_load_n(c->fence, __ATOMIC_RELAXED) != 0)
                return STORE_EUNREACHABLE; /* the prober found the daemon gone: nothing to tell */
            /* a cleartext daemon waits for a request head and never answers a ClientHello */
            snprintf(why, sizeof(why), "no TLS handshake within %u ms (is the daemon's internode TLS on? or it hangs)",
                     c->connect_ms);
        } else {
            store_tls_describe_failure(l->ssl, err, saved, why, sizeof(why));
        }
        note_link_problem(c, why);
        return STORE_EUNREACHABLE;
    }
}

static int conn_open(store_net_conn_t *c, net_link_t *l)
{
    int fd, one = 1, err = 0, ret;
    socklen_t elen = sizeof(err);

    l->fd = -1;
    l->ssl = NULL;
    fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return errno == ENOMEM || errno == ENOBUFS ? -ENOMEM : STORE_EUNREACHABLE;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&c->addr, c->addrlen) != 0) {
        if (errno != EINPROGRESS)
            goto fail;
        if (wait_fd(c, fd, POLLOUT, c->connect_ms) != 0)
            goto fail;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0)
            goto fail;
    }
    l->fd = fd;
    if (c->tls != NULL && (ret = link_handshake(c, l)) != 0) {
        link_close(l);
        return ret;
    }
    return 0;

fail:
    close(fd);
    return STORE_EUNREACHABLE;
}

/* An idle connection is usable when the daemon has neither closed it nor sent anything. On TLS,
 * records that are no data (a late session ticket) are taken in by a peek and do not count. */
static int conn_alive(net_link_t *l)
{
    char b;
    ssize_t n = recv(l->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return l->ssl == NULL || !SSL_has_pending(l->ssl); /* nothing read ahead either */
    if (n <= 0 || l->ssl == NULL)
        return 0;
    int r = SSL_peek(l->ssl, &b, 1);
    int err = r > 0 ? SSL_ERROR_NONE : SSL_get_error(l->ssl, r);
    ERR_clear_error();
    if (err != SSL_ERROR_WANT_READ)
        return 0;
    n = recv(l->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* A connection: an idle one when one is alive (*reused set), else a new one. */
static int conn_get(store_net_conn_t *c, net_link_t *l, int *reused)
{
    int64_t now = yc_mono_ns();
    int ret;

    pthread_mutex_lock(&c->mutex);
    while (c->nidle > 0) {
        idle_conn_t ic = c->idle[--c->nidle];
        pthread_mutex_unlock(&c->mutex);
        if (now - ic.since_ns < NET_IDLE_MAX_NS && conn_alive(&ic.link)) {
            *reused = 1;
            *l = ic.link;
            return 0;
        }
        link_close(&ic.link);
        pthread_mutex_lock(&c->mutex);
    }
    pthread_mutex_unlock(&c->mutex);
    *reused = 0;
    if ((ret = conn_open(c, l)) == 0 && c->tls != NULL)
        clear_link_problem(c);
    return ret;
}

static void conn_put(store_net_conn_t *c, net_link_t *l)
{
    pthread_mutex_lock(&c->mutex);
    if (c->nidle < c->pool_size) {
        c->idle[c->nidle++] = (idle_conn_t){.link = *l, .since_ns = yc_mono_ns()};
        l->fd = -1;
        l->ssl = NULL;
    }
    pthread_mutex_unlock(&c->mutex);
    link_close(l);
}

/* An SSL call that could not finish: waits for what it wants. 0 to try again, or the failure. */
static int tls_wait(store_net_conn_t *c, net_link_t *l, int r)
{
    int err = SSL_get_error(l->ssl, r);

    if (err == SSL_ERROR_WANT_READ)
        return wait_fd(c, l->fd, POLLIN, c->io_ms);
    if (err == SSL_ERROR_WANT_WRITE)
        return wait_fd(c, l->fd, POLLOUT, c->io_ms);
    if (err == SSL_ERROR_SSL) {
        unsigned long e = ERR_peek_last_error();
        /* TLS 1.3: a daemon that refuses our certificate says so after our handshake ended, as
         * an alert in place of the first answer */
        if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) != SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            char why[256];
            store_tls_describe_failure(l->ssl, err, 0, why, sizeof(why));
            note_link_problem(c, why);
        }
    }
    ERR_clear_error();
    return STORE_EIO;
}

static int tls_write_all(store_net_conn_t *c, net_link_t *l, const void *buf, size_t len)
{
    while (len > 0) {
        int chunk = len > (1u << 30) ? (1 << 30) : (int)len;
        int r = SSL_write(l->ssl, buf, chunk);
        if (r > 0) {
            buf = (const char *)buf + r;
            len -= (size_t)r;
            continue;
        }
        int w = tls_wait(c, l, r);
        if (w != 0)
            return w;
    }
    return 0;
}

/* TLS: a short request goes out as one record (one packet, as on cleartext); a long one a piece
 * at a time, the body never copied. */
static int tls_send_all(store_net_conn_t *c, net_link_t *l, struct iovec *iov, int cnt)
{
    size_t total = 0;
    int ret;

    for (int i = 0; i < cnt; i++)
        total += iov[i].iov_len;
    if (total <= NET_TLS_COALESCE) {
        char buf[NET_TLS_COALESCE];
        size_t off = 0;
        for (int i = 0; i < cnt; i++) {
            memcpy(buf + off, iov[i].iov_base, iov[i].iov_len);
            off += iov[i].iov_len;
        }
        return tls_write_all(c, l, buf, off);
    }
    for (int i = 0; i < cnt; i++)
        if ((ret = tls_write_all(c, l, iov[i].iov_base, iov[i].iov_len)) != 0)
            return ret;
    return 0;
}

static int send_all(store_net_conn_t *c, net_link_t *l, struct iovec *iov, int cnt)
{
    int fd = l->fd;

    if (l->ssl != NULL)
        return tls_send_all(c, l, iov, cnt);
    while (cnt > 0) {
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
        ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return STORE_EIO;
            int w = wait_fd(c, fd, POLLOUT, c->io_ms);
            if (w != 0)
                return w;
            continue;
        }
        while (cnt > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            cnt--;
        }
        if (cnt > 0) {
            iov->iov_base = (char *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return 0;
}

/* Reads up to len bytes; the count, 0 at EOF, STORE_EIO on error, NET_WAITED_OUT on timeout. */
static ssize_t recv_some(store_net_conn_t *c, net_link_t *l, void *buf, size_t len)
{
    if (l->ssl != NULL) {
        int want = len > (1u << 30) ? (1 << 30) : (int)len;
        for (;;) {
            int r = SSL_read(l->ssl, buf, want);
            if (r > 0)
                return r;
            if (SSL_get_error(l->ssl, r) == SSL_ERROR_ZERO_RETURN)
                return 0;
            int w = tls_wait(c, l, r);
            if (w != 0)
                return w;
        }
    }
    for (;;) {
        ssize_t n = recv(l->fd, buf, len, 0);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return STORE_EIO;
        int w = wait_fd(c, l->fd, POLLIN, c->io_ms);
        if (w != 0)
            return w;
    }
}

static int recv_exact(store_net_conn_t *c, net_link_t *l, uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = recv_some(c, l, buf, len);
        if (n <= 0)
            return n < 0 ? (int)n : STORE_EIO;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---------------------------------------------------------------- the exchange */

typedef store_net_answer_head_t answer_head_t;

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

/* Only what the client needs is kept; anything it cannot read is a malformed answer. */
int store_net_parse_head(const char *head, size_t len, answer_head_t *out)
{
    const char *p = head, *end = head + len;
    const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
    uint64_t v;

    memset(out, 0, sizeof(*out));
    if (eol == NULL)
        eol = end;
    if (eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' || yc_decimal_u64(p + 9, 3, &v) != 0)
        return STORE_EIO;
    out->status = (int)v;
    if (p[7] == '0')
        out->close = 1; /* an HTTP/1.0 answer closes unless told otherwise; we never ask */
    for (p = eol + 2; p < end; p = eol + 2) {
        if ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL)
            eol = end;
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (colon == NULL)
            return STORE_EIO;
        size_t nlen = (size_t)(colon - p), vlen = (size_t)(eol - colon - 1);
        const char *val = colon + 1;
        trim(&val, &vlen);
        if (nlen == 14 && strncasecmp(p, "content-length", 14) == 0) {
            if (yc_decimal_u64(val, vlen, &out->length) != 0)
                return STORE_EIO;
            out->has_length = 1;
        } else if (nlen == 10 && strncasecmp(p, "x-yc-error", 10) == 0) {
            if (vlen < 2 || val[0] != '-' || yc_decimal_u64(val + 1, vlen - 1, &v) != 0 || v > 4096)
                return STORE_EIO;
            out->code = -(int)v;
        } else if (nlen == 17 && strncasecmp(p, "x-yc-answer-nonce", 17) == 0) {
            if (vlen != 2 * STORE_NET_ANSWER_NONCE_LEN || yc_unhex(val, STORE_NET_ANSWER_NONCE_LEN, out->nonce) != 0)
                return STORE_EIO;
            out->has_nonce = 1;
        } else if (nlen == 10 && strncasecmp(p, "connection", 10) == 0) {
            out->close = vlen == 5 && strncasecmp(val, "close", 5) == 0;
        } else if (nlen == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
            return STORE_EIO; /* the daemon always sends content-length */
        }
    }
    return out->has_length ? 0 : STORE_EIO;
}

/* At most NET_FORGED_LOG_PER_S lines a second per daemon: every refusal is seen while they are
 * few, and someone altering the traffic cannot flood the log. */
static int forged_log_ok(store_net_conn_t *c)
{
    int64_t now = yc_mono_ns();
    int ok;

    pthread_mutex_lock(&c->mutex);
    if (now - c->forged_window_ns >= 1000000000) {
        c->forged_window_ns = now;
        c->forged_logged = 0;
    }
    ok = c->forged_logged++ < NET_FORGED_LOG_PER_S;
    pthread_mutex_unlock(&c->mutex);
    return ok;
}

/* Signs call and sends it on fd, head and body in one sendmsg when the socket takes it all;
 * sig gets the request's signature, which its answer's tag is bound to. */
static int send_request(store_net_conn_t *c, net_link_t *l, store_net_call_t *call, char sig[STORE_NET_SIG_HEX + 1])
{
    char req[1024], body_hash[65], date[24];
    char nonce[STORE_NET_NONCE_HEX + 1];
    uint8_t nonce_raw[16];
    struct iovec iov[3];
    size_t body_len = call->body_len[0] + call->body_len[1];
    int n, cnt = 1;

    /* a fresh nonce per attempt: a resent request must not look like a replay */
    memcpy(nonce_raw, c->nonce_prefix, 8);
    yc_put_le64(nonce_raw + 8, atomic_fetch_add(&c->nonce_seq, 1));
    yc_hex(nonce_raw, sizeof(nonce_raw), nonce);
    snprintf(date, sizeof(date), "%lld", (long long)time(NULL));
    store_net_body_hash(call->body, call->body_len, 2, body_hash);
    store_net_sign(c->sign_key, call->method, strlen(call->method), call->target, strlen(call->target), date,
                   strlen(date), nonce, strlen(nonce), body_hash, call->drive_id_hex, sig);
    n = snprintf(req, sizeof(req),
                 "%s %s HTTP/1.1\r\nhost: %s\r\ncontent-length: %zu\r\nx-yc-date: %s\r\nx-yc-nonce: %s\r\n"
                 "x-yc-content-sha256: %s\r\nx-yc-signature: %s\r\n%s%s%s\r\n",
                 call->method, call->target, c->host_header, body_len, date, nonce, body_hash, sig,
                 call->drive_id_hex != NULL ? "x-yc-drive-id: " : "",
                 call->drive_id_hex != NULL ? call->drive_id_hex : "", call->drive_id_hex != NULL ? "\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof(req))
        return STORE_EINVAL;
    iov[0] = (struct iovec){.iov_base = req, .iov_len = (size_t)n};
    for (int i = 0; i < 2; i++)
        if (call->body_len[i] > 0)
            iov[cnt++] = (struct iovec){.iov_base = (void *)call->body[i], .iov_len = call->body_len[i]};
    return send_all(c, l, iov, cnt);
}

/* Reads the answer to the request signed sig on l. *answered is set once an answer byte arrived
 * (from then on the request was certainly received), *keep when l may be reused. */
static int read_answer(store_net_conn_t *c, net_link_t *l, store_net_call_t *call, const char *sig, int *answered,
                       int *keep)
{
    char head[NET_HEAD_MAX + 1];
    size_t have = 0, head_len = 0;
    answer_head_t ah;
    int ret;

    /* the head, then whatever of the body came with it */
    for (;;) {
        ssize_t got = recv_some(c, l, head + have, NET_HEAD_MAX - have);
        if (got <= 0)
            return got < 0 ? (int)got : STORE_EIO;
        *answered = 1;
        have += (size_t)got;
        head[have] = '\0';
        const char *blank = memmem(head, have, "\r\n\r\n", 4);
        if (blank != NULL) {
            head_len = (size_t)(blank - head);
            break;
        }
        if (have == NET_HEAD_MAX)
            return STORE_EIO;
    }
    if ((ret = store_net_parse_head(head, head_len, &ah)) != 0)
        return ret;
    /* every answer of the daemon ends with its tag: one without cannot be believed */
    size_t extra = have - head_len - 4;
    if (!ah.has_nonce || ah.length < STORE_NET_TAG_LEN || ah.length > STORE_NET_MAX_BODY + STORE_NET_TAG_LEN ||
        extra > ah.length)
        return STORE_EIO;
    size_t plen = (size_t)ah.length - STORE_NET_TAG_LEN;
    const uint8_t *early = (const uint8_t *)head + head_len + 4;

    uint8_t *dst, tag[STORE_NET_TAG_LEN], expect[STORE_NET_TAG_LEN];
    if (ah.status == 200 && call->dst != NULL) {
        if (plen != call->dst_len)
            return STORE_EIO;
        dst = call->dst;
    } else {
        if ((dst = malloc(plen > 0 ? plen : 1)) == NULL)
            return -ENOMEM;
        call->resp = dst;
        call->resp_len = plen;
    }
    /* what came with the head may run into the tag (a short answer) */
    size_t early_payload = extra < plen ? extra : plen;
    memcpy(dst, early, early_payload);
    memcpy(tag, early + early_payload, extra - early_payload);
    if ((ret = recv_exact(c, l, dst + early_payload, plen - early_payload)) != 0 ||
        (ret = recv_exact(c, l, tag + (extra - early_payload), STORE_NET_TAG_LEN - (extra - early_payload))) != 0)
        return ret;
    /* Checked before anything of the answer is used: a forged or replayed answer is a failed
     * call (a failed drive read, for a shard: the caller decodes from the other drives). */
    if (store_net_answer_tag(c->answer_key, sig, STORE_NET_SIG_HEX, ah.nonce, ah.status, ah.code, dst, plen, expect) !=
            0 ||
        CRYPTO_memcmp(expect, tag, STORE_NET_TAG_LEN) != 0) {
        if (ah.status == 401) {
            /* a daemon with another cluster secret cannot tag for us: its refusal is taken as a
             * refusal, code dropped (the call fails either way; nothing of it is believed) */
            call->status = 401;
            call->code = 0;
            *keep = 0;
            return 0;
        }
        uint64_t n = atomic_fetch_add(&c->forged, 1) + 1;
        if (forged_log_ok(c))
            yc_log(YC_LOG_WARN, "event=answer_forged daemon=%s target=%s status=%d refused=%llu", c->host_header,
                   call->target, ah.status, (unsigned long long)n);
        return STORE_EIO;
    }
    call->status = ah.status;
    call->code = ah.code;
    *keep = !ah.close;
    return 0;
}

/* Sends call on l and reads the answer (send_request, read_answer). */
static int exchange(store_net_conn_t *c, net_link_t *l, store_net_call_t *call, int *answered, int *keep)
{
    char sig[STORE_NET_SIG_HEX + 1];
    int ret = send_request(c, l, call, sig);
    return ret != 0 ? ret : read_answer(c, l, call, sig, answered, keep);
}

/* A new connection the daemon closed before answering: a daemon with internode TLS does this to
 * cleartext (its handshake fails on our request line), and, over TLS 1.3, to a client certificate
 * it refuses (our side of the handshake ended before the daemon checked it), so say which. */
static void note_unanswered(store_net_conn_t *c, int reused, int answered, int ret)
{
    if (reused || answered || ret != STORE_EIO)
        return;
    if (c->tls == NULL)
        note_link_problem(c, "the daemon closed a new connection without answering: a daemon with internode TLS "
                             "does so to cleartext (set internode_tls_cert, _key and _ca on this gateway?)");
    else
        note_link_problem(c, "the daemon refused this gateway's certificate (it ended a new connection after the "
                             "TLS handshake, unanswered): is it signed by the cluster CA?");
}

void store_net_call_reset(store_net_call_t *call)
{
    free(call->resp);
    call->resp = NULL;
    call->resp_len = 0;
    call->status = 0;
    call->code = 0;
}

/* A call whose answer checked: l back to the pool (or closed), the answer as a code. */
static int call_result(store_net_conn_t *c, net_link_t *l, store_net_call_t *call, int keep)
{
    clear_link_problem(c);
    if (keep)
        conn_put(c, l);
    else
        link_close(l);
    if (call->status == 200)
        return 0;
    if (call->code < 0)
        return call->code;
    return call->status == 401 || call->status == 403 ? STORE_EAUTH : STORE_EIO;
}

int store_net_call(store_net_conn_t *c, store_net_call_t *call)
{
    for (int attempt = 0;; attempt++) {
        int reused = 0, answered = 0, keep = 0, ret;
        net_link_t l;

        if ((ret = conn_get(c, &l, &reused)) != 0)
            return ret;
        store_net_call_reset(call);
        ret = exchange(c, &l, call, &answered, &keep);
        if (ret == 0)
            return call_result(c, &l, call, keep);
        link_close(&l);
        note_unanswered(c, reused, answered, ret);
        store_net_call_reset(call);
        /* A kept-alive connection the daemon closed meanwhile (restart, its idle timeout) fails
         * before any answer: the request was not handled, or handling it twice is harmless. A
         * daemon that stayed silent is not tried again: a second try would only wait again. */
        if (ret == STORE_EIO && attempt == 0 && reused && !answered && call->idempotent)
            continue;
        return ret == NET_WAITED_OUT ? STORE_EIO : ret;
    }
}

void store_net_call_start(store_net_conn_t *c, store_net_call_t *call)
{
    int reused = 0;
    net_link_t l;

    store_net_call_reset(call);
    call->pending = 0;
    if (conn_get(c, &l, &reused) != 0)
        return; /* _finish makes the whole call, and fails as it would have */
    if (send_request(c, &l, call, call->sig) != 0) {
        link_close(&l);
        return;
    }
    call->pending = 1;
    call->fd = l.fd;
    call->ssl = l.ssl;
    call->reused = reused;
}

int store_net_call_finish(store_net_conn_t *c, store_net_call_t *call)
{
    int answered = 0, keep = 0, ret;
    net_link_t l;

    if (!call->pending)
        return store_net_call(c, call);
    call->pending = 0;
    l = (net_link_t){.fd = call->fd, .ssl = call->ssl};
    call->ssl = NULL;
    if ((ret = read_answer(c, &l, call, call->sig, &answered, &keep)) == 0)
        return call_result(c, &l, call, keep);
    link_close(&l);
    note_unanswered(c, call->reused, answered, ret);
    store_net_call_reset(call);
    /* as store_net_call: a kept-alive connection closed under the request is tried afresh */
    if (ret == STORE_EIO && call->reused && !answered && call->idempotent)
        return store_net_call(c, call);
    return ret == NET_WAITED_OUT ? STORE_EIO : ret;
}

/* ---------------------------------------------------------------- the pool */

int store_net_conn_open(const store_remote_config_t *cfg, store_net_conn_t **out)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    char port[8];
    store_net_conn_t *c;
    int ret;

    if ((c = calloc(1, sizeof(*c))) == NULL)
        return -ENOMEM;
    pthread_mutex_init(&c->mutex, NULL);
    store_tls_resume_init(&c->resume);
    c->tls = cfg->tls;
    snprintf(c->host, sizeof(c->host), "%s", cfg->host);
    c->secret_len = cfg->secret_len != 0 ? cfg->secret_len : strlen(cfg->secret);
    c->connect_ms = cfg->connect_timeout_ms != 0 ? cfg->connect_timeout_ms : NET_CONNECT_MS_DEFAULT;
    c->io_ms = cfg->io_timeout_ms != 0 ? cfg->io_timeout_ms : NET_IO_MS_DEFAULT;
    /* Over TLS a connection closed for want of room in the pool costs a handshake when the load
     * comes back (measured: 64 clients' 4 KiB PUTs made about one per PUT with 16 kept), where a
     * cleartext one costs a connect; an idle TLS connection holds a few KiB (buffers released). */
    c->pool_size = cfg->pool_size != 0 ? cfg->pool_size : cfg->tls != NULL ? NET_POOL_TLS_DEFAULT : NET_POOL_DEFAULT;
    if ((c->secret = malloc(c->secret_len + 1)) == NULL || (c->idle = calloc(c->pool_size, sizeof(*c->idle))) == NULL) {
        ret = -ENOMEM;
        goto fail;
    }
    memcpy(c->secret, cfg->secret, c->secret_len);
    if ((ret = store_net_key_new(c->secret, c->secret_len, &c->sign_key)) != 0 ||
        (ret = store_net_answer_key_new(c->secret, c->secret_len, &c->answer_key)) != 0)
        goto fail;
    if (RAND_bytes(c->nonce_prefix, sizeof(c->nonce_prefix)) != 1) {
        ret = STORE_EIO;
        goto fail;
    }
    snprintf(port, sizeof(port), "%u", cfg->port);
    if (getaddrinfo(cfg->host, port, &hints, &ai) != 0 || ai == NULL || ai->ai_addrlen > sizeof(c->addr)) {
        ret = STORE_EUNREACHABLE;
        goto fail;
    }
    memcpy(&c->addr, ai->ai_addr, ai->ai_addrlen);
    c->addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    if (strchr(cfg->host, ':') != NULL)
        snprintf(c->host_header, sizeof(c->host_header), "[%s]:%u", cfg->host, cfg->port);
    else
        snprintf(c->host_header, sizeof(c->host_header), "%s:%u", cfg->host, cfg->port);
    *out = c;
    return 0;

fail:
    if (ai != NULL)
        freeaddrinfo(ai);
    store_net_conn_close(c);
    return ret;
}

void store_net_conn_close(store_net_conn_t *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nidle; i++)
        link_close(&c->idle[i].link);
    free(c->idle);
    if (c->secret != NULL)
        OPENSSL_cleanse(c->secret, c->secret_len);
    store_net_key_free(c->sign_key);
    store_net_key_free(c->answer_key);
    free(c->secret);
    store_tls_resume_dispose(&c->resume);
    pthread_mutex_destroy(&c->mutex);
    free(c);
}

void store_net_conn_watch(store_net_conn_t *c, const int *fence)
{
    c->fence = fence;
}

const char *store_net_conn_host(const store_net_conn_t *c)
{
    return c->host_header;
}

uint64_t store_net_conn_forged(const store_net_conn_t *c)
{
    return atomic_load(&c->forged);
}

int store_net_conn_link_problem(store_net_conn_t *c, char *buf, size_t len)
{
    int has;

    pthread_mutex_lock(&c->mutex);
    has = c->link_problem[0] != '\0';
    if (has)
        snprintf(buf, len, "%s", c->link_problem);
    pthread_mutex_unlock(&c->mutex);
    return has;
}
