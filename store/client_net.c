/* client_net.c — the network transport: a drive served by a yc-store daemon.
 *
 * Wire format (HTTP/1.1, one request per operation, keep-alive):
 *
 *   METHOD /v1/<drive>/<operation> HTTP/1.1
 *   host: <host>:<port>
 *   content-length: <n>                       always present, 0 included
 *   x-yc-date: <Unix seconds>
 *   x-yc-nonce: <32 hex digits, unique per request>
 *   x-yc-signature: hex HMAC-SHA256(cluster secret,
 *                       METHOD "\n" target "\n" date "\n" nonce "\n" hex SHA-256(body))
 *
 * target is the request target as sent, query included. The daemon refuses (401) a date more
 * than 5 minutes from its clock, a signature that does not match (compared in constant time)
 * and a signature it has already accepted within the window (replay). The nonce is what makes
 * every legitimate request's signature unique: without it two identical reads sent within the
 * same second (two GETs of one object) would look like a replay of each other.
 *
 * Answers always carry content-length. 200 carries the result; any other status carries
 * x-yc-error: <negative code> (common/errors.h: a STORE_ code or -errno, one value each across
 * the whole error space, and both ends are the same build), which the client returns as is
 * (401: STORE_EAUTH).
 *
 * Operations (<id>: 32 hex digits of the data id; <i>: decimal shard index; integers in bodies
 * are little-endian; lp(x) is a u32 length followed by the bytes; keys are binary and so only
 * ever travel in bodies, never in the target):
 *
 *   GET    ping                                     -> empty (the drive is served)
 *   POST   shards/<id>/<i>/create                   -> writer token, 32 hex digits
 *   POST   shards/<id>/<i>/append?w=<token>&s=<seq> body: one block -> empty
 *   POST   shards/<id>/<i>/commit?w=<token>         -> empty
 *   POST   shards/<id>/<i>/abort?w=<token>          -> empty
 *   GET    shards/<id>/<i>?off=<u64>&len=<u64>      -> exactly len bytes, checksums verified
 *   GET    shards/<id>/<i>/stat                     -> u64 data length
 *   DELETE shards/<id>/<i>                          -> empty
 *   POST   shards/<id>/<i>/verify                   -> empty
 *   POST   objects/put | objects/prune              body: an encoded meta_object record
 *   POST   objects/get | objects/delete             body: lp(bucket) lp(key) u8 has_vid [vid]
 *                                                   -> get: the raw record
 *   POST   records/put                              body: lp(key) value (the rest of the body)
 *   POST   records/get | records/delete             body: the key -> get: the value
 *   POST   records/scan                             body: lp(prefix) u8 seek_mode lp(seek) u64 limit
 *                                                   -> u8 more, then lp(key) lp(value) per record
 *   POST   locks/acquire                            body: lp(name) owner[16] u64 lease_ns
 *                                                   -> empty, or 423 with STORE_EBUSY
 *   POST   locks/release                            body: lp(name) owner[16] -> empty
 *   POST   identity                                 body: empty, or a placement (identity text with
 *                                                   cluster_id, set, slot) -> the drive's identity text
 *
 * Shard writes stream: the daemon keeps the writer under a random token and each append goes
 * out as soon as the caller has the block. seq numbers appends from 1; the daemon answers a
 * repeat of the last seq with the result it gave, without appending again, so an append whose
 * answer was lost can be resent safely. Scans come in pages (STORE_NET_SCAN_PAGE records or
 * about STORE_NET_SCAN_BYTES): seek_mode 0 starts at the prefix, 1 at the first key >= seek,
 * 2 at the first key > seek, which is how the next page continues after the last key seen;
 * `more` says the page was cut.
 *
 * Connections: blocking I/O with poll() timeouts (the callers are worker threads), a LIFO of
 * idle keep-alive connections per client under one mutex. An idle connection is checked
 * before reuse (a peek sees the daemon's FIN after a restart) and dropped when older than the
 * daemon's keep-alive time. A request that fails on a reused connection before any answer
 * byte arrived is sent once more on a fresh connection when that cannot apply it twice.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
#include "store/client_internal.h"
#include "store/store_internal.h"

#define NET_CONNECT_MS_DEFAULT 2000
#define NET_IO_MS_DEFAULT      30000
#define NET_POOL_DEFAULT       16
#define NET_IDLE_MAX_NS        (15LL * 1000000000) /* below the daemon's 30 s keep-alive */
#define NET_HEAD_MAX           4096                /* longest answer head we accept */
#define NET_TARGET_MAX         256
#define NET_SHARD_PATH_MAX     (16 + STORE_NET_DRIVE_NAME_MAX + 2 * META_ID_LEN + 12) /* /v1/<d>/shards/<id>/<i> */

/* ---------------------------------------------------------------- shared wire pieces */

int store_net_drive_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > STORE_NET_DRIVE_NAME_MAX)
        return 0;
    if (len <= 2 && name[0] == '.' && (len == 1 || name[1] == '.'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

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

void store_net_sign(const uint8_t *secret, size_t secret_len, const char *method, size_t method_len, const char *path,
                    size_t path_len, const char *date, size_t date_len, const char *nonce, size_t nonce_len,
                    const char body_sha256_hex[64], char out[STORE_NET_SIG_HEX + 1])
{
    const void *parts[] = {method, "\n", path, "\n", date, "\n", nonce, "\n", body_sha256_hex};
    const size_t lens[] = {method_len, 1, path_len, 1, date_len, 1, nonce_len, 1, 64};
    uint8_t mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;

    /* Streamed into the MAC so that no length of the (hostile, on the daemon) target can
     * overflow a buffer here. */
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = hmac != NULL ? EVP_MAC_CTX_new(hmac) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0), OSSL_PARAM_construct_end()};
    if (ctx != NULL && EVP_MAC_init(ctx, secret, secret_len, params) == 1) {
        for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
            EVP_MAC_update(ctx, parts[i], lens[i]);
        if (EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) != 1)
            mac_len = 0;
    }
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(hmac);
    if (mac_len != 32) {
        /* a signature nobody can match, rather than a predictable one */
        RAND_bytes(mac, 32);
    }
    yc_hex(mac, 32, out);
}

/* ---------------------------------------------------------------- client state */

typedef struct {
    int fd;
    int64_t since_ns;
} idle_conn_t;

typedef struct {
    store_client_t base;
    char *drive;
    uint8_t *secret;
    size_t secret_len;
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
} net_client_t;

typedef struct {
    store_client_writer_t base;
    char token[STORE_NET_TOKEN_HEX + 1];
    char shard_path[NET_SHARD_PATH_MAX];
    uint64_t seq;
} net_writer_t;

/* One request and its answer. */
typedef struct {
    const char *method;
    char target[NET_TARGET_MAX];
    const void *body[2];
    size_t body_len[2];
    int idempotent; /* may be sent twice without changing the outcome */
    void *dst;      /* when set, a 200 answer must be exactly dst_len bytes, read into dst */
    size_t dst_len;
    /* answer */
    int status;
    int code;
    uint8_t *resp; /* malloc'd answer body when dst is NULL */
    size_t resp_len;
} net_call_t;

/* ---------------------------------------------------------------- sockets */

/* Waits until fd is ready for ev; 0 ready, STORE_EIO on timeout or error. */
static int wait_fd(int fd, short ev, uint32_t ms)
{
    struct pollfd p = {.fd = fd, .events = ev};
    int64_t deadline = yc_mono_ns() + (int64_t)ms * 1000000;

    for (;;) {
        int64_t left = (deadline - yc_mono_ns()) / 1000000;
        int n = poll(&p, 1, left > 0 ? (int)left : 0);
        if (n > 0)
            return 0;
        if (n == 0)
            return STORE_EIO;
        if (errno != EINTR)
            return STORE_EIO;
    }
}

static int conn_open(net_client_t *c)
{
    int fd, one = 1, err = 0;
    socklen_t elen = sizeof(err);

    fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return errno == ENOMEM || errno == ENOBUFS ? -ENOMEM : STORE_EUNREACHABLE;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&c->addr, c->addrlen) != 0) {
        if (errno != EINPROGRESS)
            goto fail;
        if (wait_fd(fd, POLLOUT, c->connect_ms) != 0)
            goto fail;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0)
            goto fail;
    }
    return fd;

fail:
    close(fd);
    return STORE_EUNREACHABLE;
}

/* An idle connection is usable when the daemon has neither closed it nor sent anything. */
static int conn_alive(int fd)
{
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* A connection: an idle one when one is alive (*reused set), else a new one. */
static int conn_get(net_client_t *c, int *reused)
{
    int64_t now = yc_mono_ns();

    pthread_mutex_lock(&c->mutex);
    while (c->nidle > 0) {
        idle_conn_t ic = c->idle[--c->nidle];
        pthread_mutex_unlock(&c->mutex);
        if (now - ic.since_ns < NET_IDLE_MAX_NS && conn_alive(ic.fd)) {
            *reused = 1;
            return ic.fd;
        }
        close(ic.fd);
        pthread_mutex_lock(&c->mutex);
    }
    pthread_mutex_unlock(&c->mutex);
    *reused = 0;
    return conn_open(c);
}

static void conn_put(net_client_t *c, int fd)
{
    pthread_mutex_lock(&c->mutex);
    if (c->nidle < c->pool_size) {
        c->idle[c->nidle++] = (idle_conn_t){.fd = fd, .since_ns = yc_mono_ns()};
        fd = -1;
    }
    pthread_mutex_unlock(&c->mutex);
    if (fd >= 0)
        close(fd);
}

static int send_all(net_client_t *c, int fd, struct iovec *iov, int cnt)
{
    while (cnt > 0) {
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
        ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd, POLLOUT, c->io_ms) == 0)
                continue;
            return STORE_EIO;
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

/* Reads up to len bytes; the count, 0 at EOF, STORE_EIO on error or timeout. */
static ssize_t recv_some(net_client_t *c, int fd, void *buf, size_t len)
{
    for (;;) {
        ssize_t n = recv(fd, buf, len, 0);
        if (n >= 0)
            return n;
        if (errno == EINTR)
            continue;
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait_fd(fd, POLLIN, c->io_ms) == 0)
            continue;
        return STORE_EIO;
    }
}

static int recv_exact(net_client_t *c, int fd, uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = recv_some(c, fd, buf, len);
        if (n <= 0)
            return STORE_EIO;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---------------------------------------------------------------- answers */

typedef struct {
    int status;
    int code;
    int has_length;
    uint64_t length;
    int close;
} answer_head_t;

static int parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 19)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

/* Parses "HTTP/1.x SSS reason\r\n" and the header lines of head[0..len) (without the blank
 * line). Only what the client needs is kept; anything it cannot read is a malformed answer. */
static int parse_head(const char *head, size_t len, answer_head_t *out)
{
    const char *p = head, *end = head + len;
    const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
    uint64_t v;

    memset(out, 0, sizeof(*out));
    if (eol == NULL)
        eol = end;
    if (eol - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' || parse_u64(p + 9, 3, &v) != 0)
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
            if (parse_u64(val, vlen, &out->length) != 0)
                return STORE_EIO;
            out->has_length = 1;
        } else if (nlen == 10 && strncasecmp(p, "x-yc-error", 10) == 0) {
            if (vlen < 2 || val[0] != '-' || parse_u64(val + 1, vlen - 1, &v) != 0 || v > 4096)
                return STORE_EIO;
            out->code = -(int)v;
        } else if (nlen == 10 && strncasecmp(p, "connection", 10) == 0) {
            out->close = vlen == 5 && strncasecmp(val, "close", 5) == 0;
        } else if (nlen == 17 && strncasecmp(p, "transfer-encoding", 17) == 0) {
            return STORE_EIO; /* the daemon always sends content-length */
        }
    }
    return out->has_length ? 0 : STORE_EIO;
}

/* Sends call on fd and reads the answer. *answered is set once an answer byte arrived (from
 * then on the request was certainly received), *keep when fd may be reused. */
static int exchange(net_client_t *c, int fd, net_call_t *call, int *answered, int *keep)
{
    char head[NET_HEAD_MAX + 1], req[1024], body_hash[65], sig[STORE_NET_SIG_HEX + 1], date[24];
    char nonce[STORE_NET_NONCE_HEX + 1];
    uint8_t nonce_raw[16];
    struct iovec iov[3];
    size_t body_len = call->body_len[0] + call->body_len[1], have = 0, head_len = 0;
    answer_head_t ah;
    int n, ret, cnt = 1;

    /* a fresh nonce per attempt: a resent request must not look like a replay */
    memcpy(nonce_raw, c->nonce_prefix, 8);
    yc_put_le64(nonce_raw + 8, atomic_fetch_add(&c->nonce_seq, 1));
    yc_hex(nonce_raw, sizeof(nonce_raw), nonce);
    snprintf(date, sizeof(date), "%lld", (long long)time(NULL));
    store_net_body_hash(call->body, call->body_len, 2, body_hash);
    store_net_sign(c->secret, c->secret_len, call->method, strlen(call->method), call->target, strlen(call->target),
                   date, strlen(date), nonce, strlen(nonce), body_hash, sig);
    n = snprintf(req, sizeof(req),
                 "%s %s HTTP/1.1\r\nhost: %s\r\ncontent-length: %zu\r\nx-yc-date: %s\r\nx-yc-nonce: %s\r\n"
                 "x-yc-signature: %s\r\n\r\n",
                 call->method, call->target, c->host_header, body_len, date, nonce, sig);
    if (n < 0 || (size_t)n >= sizeof(req))
        return STORE_EINVAL;
    iov[0] = (struct iovec){.iov_base = req, .iov_len = (size_t)n};
    for (int i = 0; i < 2; i++)
        if (call->body_len[i] > 0)
            iov[cnt++] = (struct iovec){.iov_base = (void *)call->body[i], .iov_len = call->body_len[i]};
    if ((ret = send_all(c, fd, iov, cnt)) != 0)
        return ret;

    /* the head, then whatever of the body came with it */
    for (;;) {
        ssize_t got = recv_some(c, fd, head + have, NET_HEAD_MAX - have);
        if (got <= 0)
            return STORE_EIO;
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
    if ((ret = parse_head(head, head_len, &ah)) != 0)
        return ret;
    size_t extra = have - head_len - 4;
    if (extra > ah.length || ah.length > STORE_NET_MAX_BODY)
        return STORE_EIO;
    call->status = ah.status;
    call->code = ah.code;

    uint8_t *dst;
    if (ah.status == 200 && call->dst != NULL) {
        if (ah.length != call->dst_len)
            return STORE_EIO;
        dst = call->dst;
    } else {
        if ((dst = malloc(ah.length > 0 ? ah.length : 1)) == NULL)
            return -ENOMEM;
        call->resp = dst;
        call->resp_len = ah.length;
    }
    memcpy(dst, head + head_len + 4, extra);
    if ((ret = recv_exact(c, fd, dst + extra, ah.length - extra)) != 0)
        return ret;
    *keep = !ah.close;
    return 0;
}

static void call_reset(net_call_t *call)
{
    free(call->resp);
    call->resp = NULL;
    call->resp_len = 0;
    call->status = 0;
    call->code = 0;
}

/* Runs one request. Returns 0 with call->resp (when dst is NULL) on a 200 answer, the
 * daemon's code for any other answer, or the transport's failure. */
static int net_call(net_client_t *c, net_call_t *call)
{
    for (int attempt = 0;; attempt++) {
        int reused = 0, answered = 0, keep = 0, ret;
        int fd = conn_get(c, &reused);

        if (fd < 0)
            return fd;
        call_reset(call);
        ret = exchange(c, fd, call, &answered, &keep);
        if (ret == 0) {
            if (keep)
                conn_put(c, fd);
            else
                close(fd);
            if (call->status == 200)
                return 0;
            if (call->code < 0)
                return call->code;
            return call->status == 401 || call->status == 403 ? STORE_EAUTH : STORE_EIO;
        }
        close(fd);
        call_reset(call);
        /* A kept-alive connection the daemon closed meanwhile (restart, its idle timeout) fails
         * before any answer: the request was not handled, or handling it twice is harmless. */
        if (ret == STORE_EIO && attempt == 0 && reused && !answered && call->idempotent)
            continue;
        return ret;
    }
}

static net_client_t *net_of(store_client_t *c)
{
    return (net_client_t *)c;
}

static void shard_target(net_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index, char *out, size_t cap)
{
    char hex[2 * META_ID_LEN + 1];
    yc_hex(data_id, META_ID_LEN, hex);
    snprintf(out, cap, "/v1/%s/shards/%s/%u", c->drive, hex, index);
}

static void set_target(net_call_t *call, net_client_t *c, const char *op)
{
    snprintf(call->target, sizeof(call->target), "/v1/%s/%s", c->drive, op);
}

/* ---------------------------------------------------------------- operations */

static int net_ping(store_client_t *bc)
{
    net_call_t call = {.method = "GET", .idempotent = 1};
    set_target(&call, net_of(bc), "ping");
    int ret = net_call(net_of(bc), &call);
    call_reset(&call);
    return ret;
}

static int net_shard_create(store_client_t *bc, const uint8_t data_id[META_ID_LEN], uint32_t index,
                            store_client_writer_t **out)
{
    net_client_t *c = net_of(bc);
    net_call_t call = {.method = "POST"};
    net_writer_t *w = calloc(1, sizeof(*w));
    int ret;

    if (w == NULL)
        return -ENOMEM;
    shard_target(c, data_id, index, w->shard_path, sizeof(w->shard_path));
    snprintf(call.target, sizeof(call.target), "%s/create", w->shard_path);
    if ((ret = net_call(c, &call)) != 0)
        goto fail;
    if (call.resp_len != STORE_NET_TOKEN_HEX) {
        ret = STORE_EIO;
        goto fail;
    }
    memcpy(w->token, call.resp, STORE_NET_TOKEN_HEX);
    w->base.client = bc;
    call_reset(&call);
    *out = &w->base;
    return 0;

fail:
    call_reset(&call);
    free(w);
    return ret;
}

static int net_shard_append(store_client_writer_t *bw, const void *block, size_t len)
{
    net_writer_t *w = (net_writer_t *)bw;
    net_call_t call = {.method = "POST", .idempotent = 1, .body = {block}, .body_len = {len}};
    int ret;

    if (len == 0 || len > STORE_NET_MAX_BODY)
        return STORE_EINVAL;
    /* a new seq per call, so the daemon can tell a resend (same seq) from the next block */
    snprintf(call.target, sizeof(call.target), "%s/append?w=%s&s=%llu", w->shard_path, w->token,
             (unsigned long long)++w->seq);
    ret = net_call(net_of(bw->client), &call);
    call_reset(&call);
    return ret;
}

static int writer_end(store_client_writer_t *bw, const char *op)
{
    net_writer_t *w = (net_writer_t *)bw;
    net_call_t call = {.method = "POST", .idempotent = op[0] == 'a'}; /* abort twice is abort */
    snprintf(call.target, sizeof(call.target), "%s/%s?w=%s", w->shard_path, op, w->token);
    int ret = net_call(net_of(bw->client), &call);
    call_reset(&call);
    free(w);
    return ret;
}

static int net_shard_commit(store_client_writer_t *bw)
{
    return writer_end(bw, "commit");
}

static void net_shard_abort(store_client_writer_t *bw)
{
    /* A lost abort is not fatal: the daemon drops idle writers by itself. */
    (void)writer_end(bw, "abort");
}

static int net_shard_read(store_client_t *bc, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t off,
                          size_t len, void *buf)
{
    net_client_t *c = net_of(bc);
    net_call_t call = {.method = "GET", .idempotent = 1, .dst = buf, .dst_len = len};
    char path[NET_SHARD_PATH_MAX];

    if (len > STORE_NET_MAX_BODY)
        return STORE_EINVAL;
    shard_target(c, data_id, index, path, sizeof(path));
    snprintf(call.target, sizeof(call.target), "%s?off=%llu&len=%zu", path, (unsigned long long)off, len);
    int ret = net_call(c, &call);
    call_reset(&call);
    return ret;
}

static int net_shard_stat(store_client_t *bc, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t *size)
{
    net_client_t *c = net_of(bc);
    uint8_t raw[8] = {0};
    net_call_t call = {.method = "GET", .idempotent = 1, .dst = raw, .dst_len = sizeof(raw)};
    char path[NET_SHARD_PATH_MAX];

    shard_target(c, data_id, index, path, sizeof(path));
    snprintf(call.target, sizeof(call.target), "%s/stat", path);
    int ret = net_call(c, &call);
    call_reset(&call);
    if (ret == 0)
        *size = yc_get_le64(raw);
    return ret;
}

static int shard_simple(store_client_t *bc, const char *method, const uint8_t data_id[META_ID_LEN], uint32_t index,
                        const char *suffix, int idempotent)
{
    net_client_t *c = net_of(bc);
    net_call_t call = {.method = method, .idempotent = idempotent};
    char path[NET_SHARD_PATH_MAX];

    shard_target(c, data_id, index, path, sizeof(path));
    snprintf(call.target, sizeof(call.target), "%s%s", path, suffix);
    int ret = net_call(c, &call);
    call_reset(&call);
    return ret;
}

static int net_shard_delete(store_client_t *bc, const uint8_t data_id[META_ID_LEN], uint32_t index)
{
    /* not resent: a second delete would answer ENOENT for a delete that worked */
    return shard_simple(bc, "DELETE", data_id, index, "", 0);
}

static int net_shard_verify(store_client_t *bc, const uint8_t data_id[META_ID_LEN], uint32_t index)
{
    return shard_simple(bc, "POST", data_id, index, "/verify", 1);
}

static int object_record_call(store_client_t *bc, const char *op, const meta_object_t *r)
{
    net_call_t call = {.method = "POST", .idempotent = 1};
    meta_buf_t buf = {0};
    int ret;

    if ((ret = meta_object_encode(r, &buf)) != 0)
        return store_meta_err(ret);
    set_target(&call, net_of(bc), op);
    call.body[0] = buf.base;
    call.body_len[0] = buf.len;
    ret = net_call(net_of(bc), &call);
    call_reset(&call);
    meta_buf_dispose(&buf);
    return ret;
}

static int net_object_put(store_client_t *bc, const meta_object_t *r)
{
    return object_record_call(bc, "objects/put", r);
}

static int net_object_prune(store_client_t *bc, const meta_object_t *keep)
{
    return object_record_call(bc, "objects/prune", keep);
}

/* lp(bucket) lp(key) u8 has_vid [vid] into out; the length, or STORE_EINVAL. */
static int object_ref_encode(meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid, uint8_t *out, size_t cap)
{
    size_t n = 0;
    if (bucket.len > META_NS_MAX || key.len > META_KEY_MAX || 9 + bucket.len + key.len + META_ID_LEN > cap)
        return STORE_EINVAL;
    yc_put_le32(out + n, (uint32_t)bucket.len);
    memcpy(out + n + 4, bucket.base, bucket.len);
    n += 4 + bucket.len;
    yc_put_le32(out + n, (uint32_t)key.len);
    memcpy(out + n + 4, key.base, key.len);
    n += 4 + key.len;
    out[n++] = vid != NULL;
    if (vid != NULL) {
        memcpy(out + n, vid, META_ID_LEN);
        n += META_ID_LEN;
    }
    return (int)n;
}

static int net_object_get(store_client_t *bc, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid,
                          meta_buf_t *raw, meta_object_t *out)
{
    uint8_t body[16 + META_NS_MAX + META_KEY_MAX + META_ID_LEN];
    net_call_t call = {.method = "POST", .idempotent = 1};
    int n = object_ref_encode(bucket, key, vid, body, sizeof(body)), ret;

    if (n < 0)
        return n;
    set_target(&call, net_of(bc), "objects/get");
    call.body[0] = body;
    call.body_len[0] = (size_t)n;
    if ((ret = net_call(net_of(bc), &call)) != 0)
        goto fail;
    if ((ret = meta_object_decode(call.resp, call.resp_len, out)) != 0) {
        ret = store_meta_err(ret);
        goto fail;
    }
    /* *out points into the answer body, which passes to the caller as *raw */
    raw->base = call.resp;
    raw->len = raw->cap = call.resp_len;
    call.resp = NULL;
    return 0;

fail:
    call_reset(&call);
    return ret;
}

static int net_object_delete(store_client_t *bc, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid)
{
    uint8_t body[16 + META_NS_MAX + META_KEY_MAX + META_ID_LEN];
    net_call_t call = {.method = "POST"};
    int n = object_ref_encode(bucket, key, vid, body, sizeof(body));

    if (n < 0)
        return n;
    set_target(&call, net_of(bc), "objects/delete");
    call.body[0] = body;
    call.body_len[0] = (size_t)n;
    int ret = net_call(net_of(bc), &call);
    call_reset(&call);
    return ret;
}

static int net_record_put(store_client_t *bc, const meta_key_t *key, const void *val, size_t vlen)
{
    uint8_t head[4 + META_ENCODED_KEY_MAX];
    net_call_t call = {.method = "POST", .idempotent = 1};

    if (key->len > META_ENCODED_KEY_MAX || vlen > STORE_NET_MAX_BODY - sizeof(head))
        return STORE_EINVAL;
    yc_put_le32(head, (uint32_t)key->len);
    memcpy(head + 4, key->buf, key->len);
    set_target(&call, net_of(bc), "records/put");
    call.body[0] = head;
    call.body_len[0] = 4 + key->len;
    call.body[1] = val; /* the value goes out from the caller's memory */
    call.body_len[1] = vlen;
    int ret = net_call(net_of(bc), &call);
    call_reset(&call);
    return ret;
}

static int net_record_get(store_client_t *bc, const meta_key_t *key, void **val, size_t *vlen)
{
    net_call_t call = {.method = "POST", .idempotent = 1, .body = {key->buf}, .body_len = {key->len}};
    int ret;

    set_target(&call, net_of(bc), "records/get");
    if ((ret = net_call(net_of(bc), &call)) != 0) {
        call_reset(&call);
        return ret;
    }
    *val = call.resp;
    *vlen = call.resp_len;
    return 0;
}

static int net_record_delete(store_client_t *bc, const meta_key_t *key)
{
    net_call_t call = {.method = "POST", .idempotent = 1, .body = {key->buf}, .body_len = {key->len}};
    set_target(&call, net_of(bc), "records/delete");
    int ret = net_call(net_of(bc), &call);
    call_reset(&call);
    return ret;
}

/* Hands one page's records to cb. 1 when the scan is over (cb stopped it, the limit was
 * reached, or the daemon had no more), 0 to fetch the next page after *last. */
static int scan_deliver(const uint8_t *p, size_t len, size_t limit, size_t *seen, meta_scan_cb cb, void *arg,
                        meta_key_t *last, int *cb_ret)
{
    size_t pos = 1;
    int more, got = 0;

    if (len < 1 || p[0] > 1)
        return STORE_EIO;
    more = p[0];
    while (pos < len) {
        uint32_t klen, vlen;
        if (len - pos < 4 || (klen = yc_get_le32(p + pos)) > len - pos - 4 || len - pos - 4 - klen < 4)
            return STORE_EIO;
        const uint8_t *k = p + pos + 4;
        pos += 4 + klen;
        if ((vlen = yc_get_le32(p + pos)) > len - pos - 4)
            return STORE_EIO;
        const uint8_t *v = p + pos + 4;
        pos += 4 + vlen;
        if (klen > META_ENCODED_KEY_MAX)
            return STORE_ECORRUPT;
        int r = cb(arg, k, klen, v, vlen);
        if (r != 0) {
            *cb_ret = r < 0 ? r : 0;
            return 1;
        }
        if (limit != 0 && ++*seen == limit)
            return 1;
        memcpy(last->buf, k, klen);
        last->len = klen;
        got = 1;
    }
    /* a cut page with nothing in it would loop forever */
    return more && got ? 0 : 1;
}

static int net_record_scan(store_client_t *bc, const meta_key_t *prefix, const meta_key_t *seek, size_t limit,
                           meta_scan_cb cb, void *arg)
{
    uint8_t body[4 + META_ENCODED_KEY_MAX + 1 + 4 + META_ENCODED_KEY_MAX + 8];
    meta_key_t last;
    size_t seen = 0;
    int mode = seek != NULL ? 1 : 0, ret;

    if (prefix->len > META_ENCODED_KEY_MAX || (seek != NULL && seek->len > META_ENCODED_KEY_MAX))
        return STORE_EINVAL;
    if (seek != NULL) {
        memcpy(last.buf, seek->buf, seek->len);
        last.len = seek->len;
    } else {
        last.len = 0;
    }
    for (;;) {
        net_call_t call = {.method = "POST", .idempotent = 1};
        size_t n = 0;
        int cb_ret = 0;

        yc_put_le32(body, (uint32_t)prefix->len);
        memcpy(body + 4, prefix->buf, prefix->len);
        n = 4 + prefix->len;
        body[n++] = (uint8_t)mode;
        yc_put_le32(body + n, (uint32_t)last.len);
        memcpy(body + n + 4, last.buf, last.len);
        n += 4 + last.len;
        yc_put_le64(body + n, limit != 0 ? limit - seen : 0);
        n += 8;
        set_target(&call, net_of(bc), "records/scan");
        call.body[0] = body;
        call.body_len[0] = n;
        if ((ret = net_call(net_of(bc), &call)) != 0) {
            call_reset(&call);
            return ret;
        }
        ret = scan_deliver(call.resp, call.resp_len, limit, &seen, cb, arg, &last, &cb_ret);
        call_reset(&call);
        if (ret < 0)
            return ret;
        if (ret == 1)
            return cb_ret;
        mode = 2; /* continue after the last key delivered */
    }
}

/* lp(name) owner[16] [le64 lease]: the body of a lock call. */
static int lock_call(store_client_t *bc, const char *op, meta_bytes_t name, const uint8_t owner[META_ID_LEN],
                     const int64_t *lease_ns)
{
    uint8_t body[4 + META_LOCK_NAME_MAX + META_ID_LEN + 8];
    net_call_t call = {.method = "POST", .idempotent = 1};
    size_t n = 0;

    if (name.len > META_LOCK_NAME_MAX)
        return STORE_EINVAL;
    yc_put_le32(body, (uint32_t)name.len);
    memcpy(body + 4, name.base, name.len);
    n = 4 + name.len;
    memcpy(body + n, owner, META_ID_LEN);
    n += META_ID_LEN;
    if (lease_ns != NULL) {
        yc_put_le64(body + n, (uint64_t)*lease_ns);
        n += 8;
    }
    set_target(&call, net_of(bc), op);
    call.body[0] = body;
    call.body_len[0] = n;
    int ret = net_call(net_of(bc), &call);
    call_reset(&call);
    return ret;
}

static int net_identity(store_client_t *bc, const store_identity_info_t *placement, store_identity_info_t *out)
{
    net_call_t call = {.method = "POST", .idempotent = 1}; /* placing twice alike is placing once */
    char text[STORE_IDENTITY_TEXT_MAX];
    size_t len = 0;
    int ret;

    if (placement != NULL) {
        if ((ret = store_identity_encode(placement, text, sizeof(text), &len)) != 0)
            return ret;
        call.body[0] = text;
        call.body_len[0] = len;
    }
    set_target(&call, net_of(bc), "identity");
    if ((ret = net_call(net_of(bc), &call)) == 0 &&
        store_identity_decode((const char *)call.resp, call.resp_len, out) != 0)
        ret = STORE_EIO;
    call_reset(&call);
    return ret;
}

/* Both are safe to resend: a second acquire by the same owner renews, a second release finds
 * the lock free or held by someone else and changes nothing. */
static int net_lock_acquire(store_client_t *bc, meta_bytes_t name, const uint8_t owner[META_ID_LEN], int64_t lease_ns)
{
    return lock_call(bc, "locks/acquire", name, owner, &lease_ns);
}

static int net_lock_release(store_client_t *bc, meta_bytes_t name, const uint8_t owner[META_ID_LEN])
{
    return lock_call(bc, "locks/release", name, owner, NULL);
}

static void net_free(store_client_t *bc)
{
    net_client_t *c = net_of(bc);
    for (size_t i = 0; i < c->nidle; i++)
        close(c->idle[i].fd);
    free(c->idle);
    free(c->drive);
    if (c->secret != NULL)
        OPENSSL_cleanse(c->secret, c->secret_len);
    free(c->secret);
    pthread_mutex_destroy(&c->mutex);
    free(c);
}

static const store_client_ops_t net_ops = {
    .free = net_free,
    .ping = net_ping,
    .shard_create = net_shard_create,
    .shard_append = net_shard_append,
    .shard_commit = net_shard_commit,
    .shard_abort = net_shard_abort,
    .shard_read = net_shard_read,
    .shard_stat = net_shard_stat,
    .shard_delete = net_shard_delete,
    .shard_verify = net_shard_verify,
    .object_put = net_object_put,
    .object_prune = net_object_prune,
    .object_get = net_object_get,
    .object_delete = net_object_delete,
    .record_put = net_record_put,
    .record_get = net_record_get,
    .record_delete = net_record_delete,
    .record_scan = net_record_scan,
    .lock_acquire = net_lock_acquire,
    .lock_release = net_lock_release,
    .identity = net_identity,
};

int store_client_remote(const store_remote_config_t *cfg, store_client_t **out)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    char port[8];
    net_client_t *c;
    int ret;

    if (cfg->host == NULL || cfg->drive == NULL || cfg->secret == NULL || cfg->port == 0 ||
        !store_net_drive_name_ok(cfg->drive, strlen(cfg->drive)) || strlen(cfg->host) > 255)
        return STORE_EINVAL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return -ENOMEM;
    pthread_mutex_init(&c->mutex, NULL);
    c->base.ops = &net_ops;
    c->secret_len = cfg->secret_len != 0 ? cfg->secret_len : strlen(cfg->secret);
    c->connect_ms = cfg->connect_timeout_ms != 0 ? cfg->connect_timeout_ms : NET_CONNECT_MS_DEFAULT;
    c->io_ms = cfg->io_timeout_ms != 0 ? cfg->io_timeout_ms : NET_IO_MS_DEFAULT;
    c->pool_size = cfg->pool_size != 0 ? cfg->pool_size : NET_POOL_DEFAULT;
    if ((c->drive = strdup(cfg->drive)) == NULL || (c->secret = malloc(c->secret_len + 1)) == NULL ||
        (c->idle = calloc(c->pool_size, sizeof(*c->idle))) == NULL) {
        ret = -ENOMEM;
        goto fail;
    }
    memcpy(c->secret, cfg->secret, c->secret_len);
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
    snprintf(c->base.name, sizeof(c->base.name), "remote:%s/%s", c->host_header, c->drive);
    *out = &c->base;
    return 0;

fail:
    if (ai != NULL)
        freeaddrinfo(ai);
    net_free(&c->base);
    return ret;
}
