/* yc-bench.c — the project's S3 load generator.
 *
 *     yc-bench --endpoint 127.0.0.1:9000 --bucket bench --op get --size 4k --keys 5000 \
 *              --connections 64 --duration 10 --warmup 2 --verify
 *
 * Credentials come from YC_ROOT_USER / YC_ROOT_PASSWORD (or AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY, or --access-key / --secret-key). Only loopback endpoints are accepted.
 *
 * Design
 *  - T worker threads (default 1, so that on a small machine the server keeps the other cores),
 *    each with its own epoll set and an equal share of the N keep-alive HTTP/1.1 connections. A
 *    connection carries one request at a time, as S3 SDKs do, so N is the concurrency the server
 *    sees. Sockets are level-triggered for reading; writability is watched only while a send
 *    would block, so a small request costs one sendmsg and one or two reads.
 *  - Every request is signed with SigV4 header auth by s3_sigv4_sign, the signer that shares its
 *    canonicalisation with the gateway's verifier: host, x-amz-content-sha256 and x-amz-date are
 *    signed. PUT bodies go as UNSIGNED-PAYLOAD unless --sha256 asks for the real hash, which is
 *    computed once per key and cached (bodies are deterministic, see below).
 *  - Object content is a function of (key index, size): a 32-byte tag naming both, then a window
 *    of one shared pseudo-random pattern of prime length (about 1 MiB, stored twice so any window
 *    up to its length is contiguous) starting at an offset derived injectively from the index.
 *    PUT bodies are therefore sent straight from the shared pattern with sendmsg: no per-request or
 *    per-connection copy of the object exists, whatever its size. GET bodies are checked byte-exact
 *    while they stream through a 256 KiB per-connection buffer: a wrong object fails the tag, and
 *    since the pattern length is prime no power-of-two block or stripe size is a multiple of it, so
 *    a misplaced, stale or corrupted block fails the comparison.
 *  - A response is framed by Content-Length, chunked encoding or connection close; 1xx heads are
 *    skipped. A response that arrives before the request body is fully sent (an early 403 or 503)
 *    is counted and the connection is reopened, since the body can no longer be framed.
 *  - Timing: the window runs from the end of the warm-up to the deadline (or, with --requests or
 *    --op fill, to the last completion). Connections issue until the deadline, then finish what
 *    is in flight (each request is bounded by --timeout). Rates count the share of each
 *    successful request that overlaps the window, pro rata to its duration, so that requests
 *    lasting seconds (64 MiB) straddling either edge neither inflate nor deflate short runs.
 *    Latency and error counts cover the requests started inside the window. Latency runs from the
 *    first byte sent to the last byte received; successful responses go into log-linear buckets
 *    (64 per power of two, under 1.6 % error); failures are counted by HTTP status, with 503
 *    SlowDown, network errors, timeouts and verification failures also on their own.
 *  - Open loop (--rate R): requests start at R per second whatever the answers do, each on an idle
 *    connection of the pool (thousands of connections for an overload test); an arrival that finds
 *    none idle is not sent and counted as missed, so a server that slows down shows as misses
 *    rather than as a generator that politely waits. Latency still runs from the first byte sent.
 *    Answers 503 get a latency histogram of their own (how fast the server sheds).
 *  - Output: one line of key=value on stdout; --markdown adds a table row (and --markdown-header
 *    the table's head). The exit status is 0 for a clean run, 3 when any request failed, 1 or 2
 *    when the run could not start.
 */
#include "common/bytes.h"
#include "common/clock.h"
#include "gateway/s3/sigv4.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define PATTERN_LEN    1048573u /* prime, just under 1 MiB */
#define TAG_LEN        32u
#define REQ_HEAD_MAX   4096
#define RBUF_LEN       (256u * 1024)
#define RESP_HEAD_MAX  (64u * 1024)
#define MAX_IOV        8
#define HIST_SUB_BITS  6
#define HIST_SUB       (1u << HIST_SUB_BITS)
#define HIST_BUCKETS   ((64u - HIST_SUB_BITS) * HIST_SUB + HIST_SUB)
#define NS_PER_S       1000000000LL
#define NS_PER_MS      1000000LL
#define SCAN_PERIOD_NS (10 * NS_PER_MS)
#define BACKOFF_NS     (20 * NS_PER_MS)
#define MAX_OBJECT     (1ull << 40) /* the tag spells the size in 10 hex digits */
#define SHA_CACHE_MAX  (1u << 20)   /* keys whose payload hash is cached */
#define EMPTY_SHA256   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef enum { OP_PUT, OP_GET, OP_MIXED, OP_FILL, OP_LIST, OP_DELETE } bench_op_t;

/* The run's configuration: set by main before any thread starts, read-only afterwards. */
static struct {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char host[300]; /* Host header value, as given to --endpoint */
    const char *access_key, *secret_key, *region;
    const char *bucket, *prefix, *label;
    char sse_header[64];     /* --sse: the header every PUT carries ("" without) */
    const char *list_prefix; /* list: the page's prefix= (NULL: the whole bucket) */
    bench_op_t op;
    unsigned get_percent; /* mixed: share of GETs */
    double rate;          /* open loop: requests per second over all threads; 0: closed loop */
    uint64_t size, keys, requests;
    unsigned conns, threads;
    double duration, warmup, timeout;
    int verify, sign_body, sequential, markdown, markdown_header, create_bucket;
} cfg = {
    .region = "us-east-1",
    .bucket = "yc-bench",
    .prefix = "obj-",
    .op = OP_GET,
    .get_percent = 50,
    .size = 4096,
    .keys = 1000,
    .conns = 16,
    .threads = 1,
    .duration = 10,
    .timeout = 30,
    .sequential = -1,
};

/* The shared object pattern: built once by main, read-only afterwards. */
static uint8_t *pattern;
static uint64_t prefix_hash;

/* Times of the run (ns, CLOCK_MONOTONIC), set before the threads start; the counters are shared. */
static struct {
    int64_t measure_from, stop_at, hard_stop;
    atomic_uint_fast64_t issued;   /* measured requests started, with --requests */
    atomic_uint_fast64_t next_key; /* sequential key order and --op fill */
    atomic_int stop;
} run;

static volatile sig_atomic_t interrupted;

typedef struct {
    uint64_t hist[HIST_BUCKETS];
    uint64_t shed_hist[HIST_BUCKETS]; /* latency of 503 answers */
    uint64_t shed, shed_max;
    uint64_t offered, missed; /* open loop: arrivals, and those that found no idle connection */
    uint64_t status[600];
    uint64_t ok, ok_get, ok_put, lat_sum, lat_max;
    uint64_t neterr, timeouts, verify_fail, reconnects, early, unfinished;
    uint64_t answered;         /* responses of any status, warm-up included: the server's whole work */
    int64_t last_done;         /* last completion of a successful request, measured or not */
    double win_ops, win_bytes; /* successful work inside the measuring window, pro rata */
    char first_error[96];
    int first_failed_status;
    char first_failed_body[160]; /* the start of the first non-2xx response body, for the report */
} stats_t;

typedef enum { CONN_CLOSED, CONN_CONNECTING, CONN_BUSY, CONN_BACKOFF, CONN_STOPPED, CONN_IDLE } conn_state_t;
typedef enum { FRAME_LENGTH, FRAME_CHUNKED, FRAME_CLOSE } frame_t;
typedef enum { CHUNK_SIZE, CHUNK_EXT, CHUNK_DATA, CHUNK_DATA_END, CHUNK_TRAILER } chunk_state_t;

typedef struct worker worker_t;

typedef struct {
    worker_t *worker;
    int fd;
    conn_state_t state;
    int want_out; /* EPOLLOUT is in the interest set */
    int64_t deadline, retry_at;
    /* the request in flight */
    int is_put, measured;
    uint64_t index;
    int64_t started;
    char head[REQ_HEAD_MAX];
    size_t head_len, head_sent;
    uint64_t body_sent;
    char tag[TAG_LEN + 1];
    /* its response */
    uint8_t *rbuf;
    size_t rlen;
    int head_done, status, keep_alive;
    frame_t frame;
    chunk_state_t chunk_state;
    size_t trailer_line;
    uint64_t remaining; /* FRAME_LENGTH: body left; FRAME_CHUNKED: left in the current chunk */
    uint64_t body_got;
    int body_bad;
    int capture;        /* this is the worker's first failed response: keep the start of its body */
    unsigned idle_next; /* open loop: next in the worker's stack of idle connections (index + 1) */
} conn_t;

struct worker {
    int epfd;
    conn_t *conns;
    unsigned nconns, active;
    uint64_t rng;
    int64_t last_scan;
    char amz_date[17];
    int64_t amz_date_sec;
    uint8_t (*sha)[32];
    uint8_t *sha_valid;
    unsigned idle_top;    /* open loop: stack of idle connections (index + 1; 0 empty) */
    int64_t next_arrival; /* open loop: when the next request is due */
    int64_t interval;     /* open loop: ns between this worker's arrivals */
    stats_t stats;
    pthread_t thread;
};

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rng_next(worker_t *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}

/* ---- object content ---- */

static int pattern_build(void)
{
    uint64_t seed = 0x79756e63616e67ull, v;

    if ((pattern = malloc(2 * (size_t)PATTERN_LEN + 8)) == NULL)
        return -1;
    for (size_t i = 0; i < PATTERN_LEN; i += 8) {
        v = splitmix64(&seed);
        memcpy(pattern + i, &v, 8);
    }
    memcpy(pattern + PATTERN_LEN, pattern, PATTERN_LEN);
    for (const char *p = cfg.prefix; *p != '\0'; p++)
        prefix_hash = (prefix_hash ^ (uint8_t)*p) * 0x100000001b3ull;
    prefix_hash %= PATTERN_LEN;
    return 0;
}

/* Position in the pattern of object offset off (off >= TAG_LEN). 7919 and PATTERN_LEN are
 * coprime, so indexes below PATTERN_LEN start at distinct positions. */
static size_t pattern_pos(uint64_t index, uint64_t off)
{
    uint64_t start = ((index % PATTERN_LEN) * 7919u + prefix_hash) % PATTERN_LEN;
    return (size_t)((start + off - TAG_LEN) % PATTERN_LEN);
}

static void object_tag(uint64_t index, uint64_t size, char tag[TAG_LEN + 1])
{
    snprintf(tag, TAG_LEN + 1, "ycb %016" PRIx64 " %010" PRIx64 "\n", index, size);
}

/* Points iov at the object's bytes from off up to limit bytes; returns the number used. */
static int object_iov(const char *tag, uint64_t index, uint64_t size, uint64_t off, uint64_t limit, struct iovec *iov,
                      int max)
{
    uint64_t end = size - off > limit ? off + limit : size;
    int n = 0;

    if (off < TAG_LEN && off < end && n < max) {
        size_t len = (size_t)((end < TAG_LEN ? end : TAG_LEN) - off);
        iov[n++] = (struct iovec){(void *)(tag + off), len};
        off += len;
    }
    while (off < end && n < max) {
        size_t pos = pattern_pos(index, off);
        size_t len = end - off > PATTERN_LEN ? PATTERN_LEN : (size_t)(end - off);
        iov[n++] = (struct iovec){pattern + pos, len};
        off += len;
    }
    return n;
}

/* Compares len received bytes at object offset off with what the object holds; 0 when equal. */
static int object_check(const char *tag, uint64_t index, uint64_t size, uint64_t off, const uint8_t *data, size_t len)
{
    struct iovec iov[MAX_IOV];

    if (off > size || len > size - off)
        return -1;
    while (len > 0) {
        int n = object_iov(tag, index, size, off, len, iov, MAX_IOV);
        for (int i = 0; i < n; i++) {
            if (memcmp(iov[i].iov_base, data, iov[i].iov_len) != 0)
                return -1;
            data += iov[i].iov_len;
            off += iov[i].iov_len;
            len -= iov[i].iov_len;
        }
    }
    return 0;
}

/* Writes the lowercase hex SHA-256 of object index into out (65 bytes), cached per worker. */
static int object_sha256(worker_t *w, uint64_t index, const char *tag, char out[65])
{
    uint8_t md[32], *cached = NULL;
    struct iovec iov[MAX_IOV];
    EVP_MD_CTX *ctx;
    int ret = -1;

    if (w->sha != NULL && w->sha_valid[index]) {
        cached = w->sha[index];
        goto hexify;
    }
    if ((ctx = EVP_MD_CTX_new()) == NULL)
        return -1;
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto done;
    for (uint64_t off = 0; off < cfg.size;) {
        int n = object_iov(tag, index, cfg.size, off, UINT64_MAX, iov, MAX_IOV);
        for (int i = 0; i < n; i++) {
            if (EVP_DigestUpdate(ctx, iov[i].iov_base, iov[i].iov_len) != 1)
                goto done;
            off += iov[i].iov_len;
        }
    }
    if (EVP_DigestFinal_ex(ctx, md, NULL) != 1)
        goto done;
    cached = md;
    if (w->sha != NULL) {
        memcpy(w->sha[index], md, 32);
        w->sha_valid[index] = 1;
    }
    ret = 0;
done:
    EVP_MD_CTX_free(ctx);
    if (ret != 0)
        return ret;
hexify:
    yc_hex(cached, 32, out);
    return 0;
}

/* ---- requests ---- */

static h2o_iovec_t iov_str(const char *s)
{
    return h2o_iovec_init(s, strlen(s));
}

/* Signs and formats one request head into out (cap bytes); returns its length or -1.
 * content_length < 0 sends none; extra is appended unsigned (e.g. "connection: close\r\n"). */
static int request_head_query(char *out, size_t cap, const char *method, const char *path, const char *query,
                              const char *payload_hash, int64_t content_length, const char *amz_date, int64_t wall,
                              const char *extra);

static int request_head(char *out, size_t cap, const char *method, const char *path, const char *payload_hash,
                        int64_t content_length, const char *amz_date, int64_t wall, const char *extra)
{
    return request_head_query(out, cap, method, path, "", payload_hash, content_length, amz_date, wall, extra);
}

/* Same, with a query string (signed, and sent after "?" when not empty). */
static int request_head_query(char *out, size_t cap, const char *method, const char *path, const char *query,
                              const char *payload_hash, int64_t content_length, const char *amz_date, int64_t wall,
                              const char *extra)
{
    static h2o_iovec_t name_host = {"host", 4}, name_sha = {"x-amz-content-sha256", 20}, name_date = {"x-amz-date", 10};
    h2o_header_t headers[3] = {
        {&name_host, NULL, iov_str(cfg.host)},
        {&name_sha, NULL, iov_str(payload_hash)},
        {&name_date, NULL, h2o_iovec_init(amz_date, 16)},
    };
    s3_request_t req = {iov_str(method), iov_str(path), iov_str(query), headers, 3};
    char authz[1200], length[40] = "";
    int n;

    if (s3_sigv4_sign(&req, iov_str(payload_hash), iov_str(cfg.access_key), iov_str(cfg.secret_key),
                      iov_str(cfg.region), wall, authz, sizeof(authz), NULL) != 0)
        return -1;
    if (content_length >= 0)
        snprintf(length, sizeof(length), "content-length: %" PRId64 "\r\n", content_length);
    n = snprintf(out, cap,
                 "%s %s%s%s HTTP/1.1\r\nhost: %s\r\nx-amz-content-sha256: %s\r\nx-amz-date: %.16s\r\n"
                 "authorization: %s\r\n%s%s\r\n",
                 method, path, query[0] != '\0' ? "?" : "", query, cfg.host, payload_hash, amz_date, authz, length,
                 extra);
    return n > 0 && (size_t)n < cap ? n : -1;
}

/* ---- response parsing ---- */

typedef struct {
    int status, keep_alive, chunked, has_length;
    uint64_t content_length;
} resp_head_t;

static int header_has_token(const char *v, size_t len, const char *token)
{
    size_t tl = strlen(token);

    for (size_t i = 0; i + tl <= len; i++)
        if (strncasecmp(v + i, token, tl) == 0)
            return 1;
    return 0;
}

/* Parses a response head of len bytes (ending with the blank line). Returns 0 or -1 when malformed. */
static int parse_resp_head(const char *p, size_t len, resp_head_t *out)
{
    const char *end = p + len, *line;
    int minor;

    memset(out, 0, sizeof(*out));
    if (len < 12 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ')
        return -1;
    minor = p[7] - '0';
    for (int i = 9; i < 12; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        out->status = out->status * 10 + (p[i] - '0');
    }
    out->keep_alive = minor == 1;
    if ((line = memchr(p, '\n', len)) == NULL)
        return -1;
    for (line++; line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line)), *colon, *v;
        size_t vlen;

        if (eol == NULL)
            return -1;
        if (eol == line || (eol == line + 1 && line[0] == '\r'))
            break;
        if ((colon = memchr(line, ':', (size_t)(eol - line))) == NULL)
            return -1;
        for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
            ;
        vlen = (size_t)(eol - v);
        while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        size_t nlen = (size_t)(colon - line);
        if (nlen == 14 && strncasecmp(line, "content-length", 14) == 0) {
            uint64_t cl = 0;
            if (vlen == 0 || vlen > 18)
                return -1;
            for (size_t i = 0; i < vlen; i++) {
                if (v[i] < '0' || v[i] > '9')
                    return -1;
                cl = cl * 10 + (uint64_t)(v[i] - '0');
            }
            if (out->has_length && cl != out->content_length)
                return -1;
            out->content_length = cl;
            out->has_length = 1;
        } else if (nlen == 17 && strncasecmp(line, "transfer-encoding", 17) == 0) {
            out->chunked = header_has_token(v, vlen, "chunked");
        } else if (nlen == 10 && strncasecmp(line, "connection", 10) == 0) {
            if (header_has_token(v, vlen, "close"))
                out->keep_alive = 0;
            else if (header_has_token(v, vlen, "keep-alive"))
                out->keep_alive = 1;
        }
        line = eol + 1;
    }
    return 0;
}

/* Returns the length of the head (through the blank line) in p, or 0 when it is not complete. */
static size_t find_head_end(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (p[i] != '\n')
            continue;
        if (p[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && p[i + 1] == '\r' && p[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* ---- statistics ---- */

static unsigned hist_index(uint64_t v)
{
    if (v < HIST_SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= HIST_SUB_BITS */
    return (e - HIST_SUB_BITS + 1) * HIST_SUB + (unsigned)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* The middle of bucket i's range of values. */
static uint64_t hist_value(unsigned i)
{
    if (i < HIST_SUB)
        return i;
    unsigned e = i / HIST_SUB - 1 + HIST_SUB_BITS;
    uint64_t lo = ((uint64_t)(HIST_SUB + i % HIST_SUB)) << (e - HIST_SUB_BITS);
    return lo + (((uint64_t)1 << (e - HIST_SUB_BITS)) >> 1);
}

static uint64_t hist_pct(const uint64_t *hist, uint64_t n, uint64_t max, double p)
{
    uint64_t want = (uint64_t)((double)n * p / 100.0 + 0.999999), seen = 0;

    if (n == 0)
        return 0;
    if (want == 0)
        want = 1;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        if ((seen += hist[i]) >= want) {
            uint64_t v = hist_value(i);
            return v > max ? max : v;
        }
    }
    return max;
}

static uint64_t hist_percentile(const stats_t *s, double p)
{
    return hist_pct(s->hist, s->ok, s->lat_max, p);
}

static void stats_merge(stats_t *into, const stats_t *s)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        into->hist[i] += s->hist[i];
        into->shed_hist[i] += s->shed_hist[i];
    }
    into->shed += s->shed;
    into->shed_max = s->shed_max > into->shed_max ? s->shed_max : into->shed_max;
    into->offered += s->offered;
    into->missed += s->missed;
    for (unsigned i = 0; i < 600; i++)
        into->status[i] += s->status[i];
    into->ok += s->ok;
    into->ok_get += s->ok_get;
    into->ok_put += s->ok_put;
    into->lat_sum += s->lat_sum;
    into->lat_max = s->lat_max > into->lat_max ? s->lat_max : into->lat_max;
    into->neterr += s->neterr;
    into->timeouts += s->timeouts;
    into->verify_fail += s->verify_fail;
    into->reconnects += s->reconnects;
    into->early += s->early;
    into->unfinished += s->unfinished;
    into->answered += s->answered;
    into->last_done = s->last_done > into->last_done ? s->last_done : into->last_done;
    into->win_ops += s->win_ops;
    into->win_bytes += s->win_bytes;
    if (into->first_error[0] == '\0')
        memcpy(into->first_error, s->first_error, sizeof(into->first_error));
    if (into->first_failed_status == 0) {
        into->first_failed_status = s->first_failed_status;
        memcpy(into->first_failed_body, s->first_failed_body, sizeof(into->first_failed_body));
    }
}

/* Counts a network error, keeping the first one's description for the report. */
static void note_error(stats_t *s, const char *why, int err)
{
    if (s->neterr++ == 0)
        snprintf(s->first_error, sizeof(s->first_error), "%s%s%s", why, err ? ": " : "",
                 err ? strerrordesc_np(err) : "");
}

/* ---- connections ---- */

static void conn_start_request(conn_t *c, int64_t now);
static void conn_next(conn_t *c, int64_t now);

static void conn_close(conn_t *c)
{
    if (c->fd >= 0) {
        close(c->fd); /* also drops it from the epoll set */
        c->fd = -1;
    }
    c->want_out = 0;
    c->state = CONN_CLOSED;
}

static void conn_stop(conn_t *c)
{
    conn_close(c);
    c->state = CONN_STOPPED;
    c->worker->active--;
}

static int conn_watch(conn_t *c, int out)
{
    struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};

    if (c->want_out == out)
        return 0;
    c->want_out = out;
    return epoll_ctl(c->worker->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Opens a non-blocking connection; the first request starts once connect completes. */
static void conn_open(conn_t *c, int64_t now)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    int one = 1;

    if ((c->fd = socket(cfg.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        goto fail;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&cfg.addr, cfg.addr_len) != 0 && errno != EINPROGRESS)
        goto fail;
    if (epoll_ctl(c->worker->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        goto fail;
    c->want_out = 1;
    c->state = CONN_CONNECTING;
    c->deadline = now + (int64_t)(cfg.timeout * NS_PER_S);
    return;

fail:
    note_error(&c->worker->stats, "connect", errno);
    conn_close(c);
    c->state = CONN_BACKOFF;
    c->retry_at = now + BACKOFF_NS;
}

/* The request in flight failed without a usable response: count it, reconnect after a pause. */
static void conn_fail(conn_t *c, int64_t now, const char *why, int err)
{
    if (c->measured) {
        if (strcmp(why, "timeout") == 0)
            c->worker->stats.timeouts++;
        else
            note_error(&c->worker->stats, why, err);
    }
    conn_close(c);
    c->state = CONN_BACKOFF;
    c->retry_at = now + BACKOFF_NS;
}

static void conn_complete(conn_t *c, int64_t now)
{
    stats_t *s = &c->worker->stats;
    /* a response that overtook its request body leaves the connection unframed */
    int reopen = !c->keep_alive || c->head_sent < c->head_len || c->body_sent < (c->is_put ? cfg.size : 0);
    int ok = c->status >= 200 && c->status < 300;

    s->answered++;
    c->capture = 0;
    if (ok && !c->is_put && cfg.verify && cfg.op != OP_LIST && cfg.op != OP_DELETE &&
        (c->body_bad || c->body_got != cfg.size)) {
        ok = 0;
        if (c->measured)
            s->verify_fail++;
    }
    if (ok) {
        /* Rates count the part of every successful request that overlaps the window, at the
         * request's own rate: a 64 MiB PUT started in the warm-up and finished inside the window
         * is partly window work, and counting whole requests by start or end would skew short runs. */
        uint64_t bytes = c->is_put ? cfg.size : c->body_got;
        int64_t from = c->started > run.measure_from ? c->started : run.measure_from;
        int64_t to = now < run.stop_at ? now : run.stop_at;
        if (now == c->started)
            s->win_ops += now >= run.measure_from && now <= run.stop_at;
        else if (to > from)
            s->win_ops += (double)(to - from) / (double)(now - c->started);
        if (now > c->started && to > from)
            s->win_bytes += (double)bytes * (double)(to - from) / (double)(now - c->started);
        if (now > s->last_done)
            s->last_done = now;
    }
    if (c->measured) {
        s->status[c->status < 600 ? c->status : 599]++;
        if (c->status == 503) {
            uint64_t lat = (uint64_t)(now - c->started);
            s->shed++;
            s->shed_hist[hist_index(lat)]++;
            s->shed_max = lat > s->shed_max ? lat : s->shed_max;
        }
        if (ok) {
            uint64_t lat = (uint64_t)(now - c->started);
            s->ok++;
            s->hist[hist_index(lat)]++;
            s->lat_sum += lat;
            s->lat_max = lat > s->lat_max ? lat : s->lat_max;
            if (c->is_put)
                s->ok_put++;
            else
                s->ok_get++;
        }
        if (reopen && c->keep_alive)
            s->early++;
    }
    if (reopen) {
        if (c->measured)
            s->reconnects++;
        conn_close(c);
        if (now >= run.stop_at || atomic_load(&run.stop) || interrupted)
            conn_stop(c);
        else
            conn_open(c, now);
        return;
    }
    conn_next(c, now);
}

/* Feeds response body bytes to the verifier. */
static void body_data(conn_t *c, const uint8_t *p, size_t n)
{
    stats_t *s = &c->worker->stats;

    if (c->capture && c->body_got < sizeof(s->first_failed_body) - 1) {
        size_t room = sizeof(s->first_failed_body) - 1 - (size_t)c->body_got;
        memcpy(s->first_failed_body + c->body_got, p, n < room ? n : room);
    }
    if (cfg.verify && !c->is_put && cfg.op != OP_LIST && cfg.op != OP_DELETE && c->status == 200 && !c->body_bad &&
        object_check(c->tag, c->index, cfg.size, c->body_got, p, n) != 0)
        c->body_bad = 1;
    c->body_got += n;
}

/* Consumes body bytes; returns 1 when the response is complete, 0 for more, -1 on a framing error. */
static int body_feed(conn_t *c, const uint8_t *p, size_t n)
{
    if (c->frame == FRAME_CLOSE) {
        body_data(c, p, n);
        return 0;
    }
    if (c->frame == FRAME_LENGTH) {
        size_t take = n < c->remaining ? n : (size_t)c->remaining;
        body_data(c, p, take);
        c->remaining -= take;
        if (take < n)
            return -1; /* bytes beyond the response: nothing was pipelined */
        return c->remaining == 0;
    }
    for (size_t i = 0; i < n;) {
        uint8_t ch = p[i];
        switch (c->chunk_state) {
        case CHUNK_SIZE:
        case CHUNK_EXT:
            i++;
            if (ch == '\n') {
                c->chunk_state = c->remaining == 0 ? CHUNK_TRAILER : CHUNK_DATA;
                c->trailer_line = 0;
            } else if (c->chunk_state == CHUNK_EXT || ch == '\r') {
                ;
            } else if (ch == ';' || ch == ' ' || ch == '\t') {
                c->chunk_state = CHUNK_EXT;
            } else {
                int d = ch >= '0' && ch <= '9'                     ? ch - '0'
                        : (ch | 0x20) >= 'a' && (ch | 0x20) <= 'f' ? (ch | 0x20) - 'a' + 10
                                                                   : -1;
                if (d < 0 || c->remaining >> 59 != 0)
                    return -1;
                c->remaining = c->remaining * 16 + (uint64_t)d;
            }
            break;
        case CHUNK_DATA: {
            size_t take = n - i < c->remaining ? n - i : (size_t)c->remaining;
            body_data(c, p + i, take);
            i += take;
            if ((c->remaining -= take) == 0)
                c->chunk_state = CHUNK_DATA_END;
            break;
        }
        case CHUNK_DATA_END:
            i++;
            if (ch == '\n')
                c->chunk_state = CHUNK_SIZE;
            else if (ch != '\r')
                return -1;
            break;
        case CHUNK_TRAILER:
            i++;
            if (ch == '\n') {
                if (c->trailer_line == 0)
                    return i == n ? 1 : -1;
                c->trailer_line = 0;
            } else if (ch != '\r') {
                c->trailer_line++;
            }
            break;
        }
    }
    return 0;
}

/* Starts the response once its head is in rbuf; returns 1 when it is complete, 0 for more, -1 on error. */
static int conn_head(conn_t *c, size_t head_len)
{
    resp_head_t h;

    if (parse_resp_head((const char *)c->rbuf, head_len, &h) != 0)
        return -1;
    if (h.status >= 100 && h.status < 200) { /* interim: the real head follows */
        memmove(c->rbuf, c->rbuf + head_len, c->rlen - head_len);
        c->rlen -= head_len;
        return 0;
    }
    c->head_done = 1;
    c->status = h.status;
    if (c->measured && (h.status < 200 || h.status >= 300) && c->worker->stats.first_failed_status == 0) {
        c->worker->stats.first_failed_status = h.status;
        c->capture = 1;
    }
    c->keep_alive = h.keep_alive;
    c->body_got = 0;
    c->body_bad = 0;
    if (h.chunked) {
        c->frame = FRAME_CHUNKED;
        c->chunk_state = CHUNK_SIZE;
        c->remaining = 0;
    } else if (h.has_length) {
        c->frame = FRAME_LENGTH;
        c->remaining = h.content_length;
    } else if (h.status == 204 || h.status == 304) {
        c->frame = FRAME_LENGTH;
        c->remaining = 0;
    } else {
        c->frame = FRAME_CLOSE;
        c->keep_alive = 0;
    }
    if (c->frame == FRAME_LENGTH && c->remaining == 0 && c->rlen == head_len)
        return 1;
    return body_feed(c, c->rbuf + head_len, c->rlen - head_len);
}

/* Reads what the socket has; completes the request when its response is in. Returns 1 when the
 * request is over (answered or failed), 0 when more is to come. */
static int conn_recv(conn_t *c, int64_t now)
{
    for (;;) {
        size_t room = c->head_done ? RBUF_LEN : RESP_HEAD_MAX - c->rlen;
        uint8_t *at = c->head_done ? c->rbuf : c->rbuf + c->rlen;
        ssize_t n = read(c->fd, at, room);
        int done;

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return 0;
            conn_fail(c, now, "read", errno);
            return 1;
        }
        if (n == 0) {
            if (c->head_done && c->frame == FRAME_CLOSE)
                conn_complete(c, now);
            else
                conn_fail(c, now, c->head_done ? "closed in the body" : "closed before a response", 0);
            return 1;
        }
        if (c->head_done) {
            done = body_feed(c, at, (size_t)n);
        } else {
            size_t from = c->rlen >= 3 ? c->rlen - 3 : 0, end;
            c->rlen += (size_t)n;
            for (done = 0; !c->head_done && done == 0;) {
                if ((end = find_head_end(c->rbuf + from, c->rlen - from)) == 0) {
                    if (c->rlen == RESP_HEAD_MAX)
                        done = -1;
                    break;
                }
                done = conn_head(c, from + end);
                from = 0;
            }
        }
        if (done < 0) {
            conn_fail(c, now, "malformed response", 0);
            return 1;
        }
        if (done > 0) {
            conn_complete(c, now);
            return 1;
        }
    }
}

/* Sends as much of the request as the socket takes. */
static void conn_send(conn_t *c, int64_t now)
{
    uint64_t body = c->is_put ? cfg.size : 0;
    int err;

    while (c->head_sent < c->head_len || c->body_sent < body) {
        struct iovec iov[MAX_IOV];
        struct msghdr msg = {.msg_iov = iov};
        int n = 0;
        ssize_t sent;

        if (c->head_sent < c->head_len)
            iov[n++] = (struct iovec){c->head + c->head_sent, c->head_len - c->head_sent};
        n += object_iov(c->tag, c->index, body, c->body_sent, UINT64_MAX, iov + n, MAX_IOV - n);
        msg.msg_iovlen = (size_t)n;
        if ((sent = sendmsg(c->fd, &msg, MSG_NOSIGNAL)) < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                if (conn_watch(c, 1) != 0)
                    conn_fail(c, now, "epoll_ctl", errno);
                return;
            }
            /* the server may have answered and closed: let the read side see the response */
            if ((err = errno, conn_recv(c, now)) == 0)
                conn_fail(c, now, "send", err);
            return;
        }
        size_t h = c->head_len - c->head_sent < (size_t)sent ? c->head_len - c->head_sent : (size_t)sent;
        c->head_sent += h;
        c->body_sent += (uint64_t)sent - h;
    }
    if (conn_watch(c, 0) != 0)
        conn_fail(c, now, "epoll_ctl", errno);
}

static void worker_date(worker_t *w, int64_t *wall)
{
    *wall = (int64_t)time(NULL);
    if (*wall != w->amz_date_sec) {
        s3_sigv4_format_time(*wall, w->amz_date);
        w->amz_date_sec = *wall;
    }
}

/* Picks the next operation and key, signs the request and starts sending it, or stops the
 * connection when the run is over. */
static void conn_start_request(conn_t *c, int64_t now)
{
    worker_t *w = c->worker;
    char path[512], sha[65], query[320];
    const char *hash, *method;
    int64_t wall;
    int len;

    if (now >= run.stop_at || atomic_load(&run.stop) || interrupted) {
        conn_stop(c);
        return;
    }
    c->measured = now >= run.measure_from;
    if (cfg.op == OP_FILL || cfg.op == OP_DELETE) {
        if ((c->index = atomic_fetch_add(&run.next_key, 1)) >= cfg.keys) {
            conn_stop(c);
            return;
        }
        c->is_put = cfg.op == OP_FILL;
    } else {
        if (c->measured && cfg.requests > 0 && atomic_fetch_add(&run.issued, 1) >= cfg.requests) {
            atomic_store(&run.stop, 1);
            conn_stop(c);
            return;
        }
        c->is_put = cfg.op == OP_PUT || (cfg.op == OP_MIXED && rng_next(w) % 100 >= cfg.get_percent);
        c->index = cfg.sequential ? atomic_fetch_add(&run.next_key, 1) % cfg.keys : rng_next(w) % cfg.keys;
    }
    object_tag(c->index, cfg.size, c->tag);
    snprintf(path, sizeof(path), "/%s/%s%" PRIu64, cfg.bucket, cfg.prefix, c->index);
    hash = EMPTY_SHA256;
    if (c->is_put) {
        hash = "UNSIGNED-PAYLOAD";
        if (cfg.sign_body) {
            if (object_sha256(w, c->index, c->tag, sha) != 0) {
                conn_fail(c, now, "hashing the body failed", 0);
                return;
            }
            hash = sha;
        }
    }
    worker_date(w, &wall);
    query[0] = '\0';
    if (cfg.op == OP_LIST) { /* one page of ListObjectsV2 from the start of the key space */
        snprintf(path, sizeof(path), "/%s", cfg.bucket);
        /* in canonical (sorted) order; the prefix has only unreserved characters */
        snprintf(query, sizeof(query), "list-type=2&max-keys=1000%s%s", cfg.list_prefix ? "&prefix=" : "",
                 cfg.list_prefix ? cfg.list_prefix : "");
    }
    method = c->is_put ? "PUT" : "GET";
    if (cfg.op == OP_DELETE)
        method = "DELETE";
    len = request_head_query(c->head, sizeof(c->head), method, path, query, hash, c->is_put ? (int64_t)cfg.size : -1,
                             w->amz_date, wall, c->is_put ? cfg.sse_header : "");
    if (len < 0) {
        conn_fail(c, now, "signing the request failed", 0);
        return;
    }
    c->head_len = (size_t)len;
    c->head_sent = 0;
    c->body_sent = 0;
    c->rlen = 0;
    c->head_done = 0;
    c->state = CONN_BUSY;
    c->started = yc_mono_ns(); /* after signing: latency is the server's plus the wire's */
    c->deadline = c->started + (int64_t)(cfg.timeout * NS_PER_S);
    conn_send(c, c->started);
}

/* A connection ready for its next request: closed loop, it starts one; open loop, it waits on the
 * worker's idle stack for the next arrival. */
static void conn_next(conn_t *c, int64_t now)
{
    worker_t *w = c->worker;

    if (cfg.rate <= 0) {
        conn_start_request(c, now);
        return;
    }
    if (now >= run.stop_at || atomic_load(&run.stop) || interrupted) {
        conn_stop(c);
        return;
    }
    c->state = CONN_IDLE;
    c->idle_next = w->idle_top;
    w->idle_top = (unsigned)(c - w->conns) + 1;
}

/* Open loop: starts every request due by now on an idle connection; one that finds none is missed. */
static void worker_arrivals(worker_t *w, int64_t now)
{
    if (cfg.rate <= 0)
        return;
    if (now >= run.stop_at || atomic_load(&run.stop) || interrupted) {
        while (w->idle_top != 0) {
            conn_t *c = &w->conns[w->idle_top - 1];
            w->idle_top = c->idle_next;
            conn_stop(c);
        }
        return;
    }
    /* a generator that fell behind by more than a second gives up those arrivals rather than
     * sending them at once as a burst the run never asked for */
    if (now - w->next_arrival > NS_PER_S) {
        int64_t skipped = (now - w->next_arrival) / w->interval;
        if (w->next_arrival >= run.measure_from) {
            w->stats.offered += (uint64_t)skipped;
            w->stats.missed += (uint64_t)skipped;
        }
        w->next_arrival = now;
    }
    while (w->next_arrival <= now) {
        int measured = w->next_arrival >= run.measure_from;
        w->next_arrival += w->interval;
        if (measured)
            w->stats.offered++;
        if (w->idle_top == 0) {
            if (measured)
                w->stats.missed++;
            continue;
        }
        conn_t *c = &w->conns[w->idle_top - 1];
        w->idle_top = c->idle_next;
        if (c->fd < 0) { /* the server closed it while idle: reconnect, the arrival tries the next one */
            conn_open(c, now);
            w->next_arrival -= w->interval;
            if (measured)
                w->stats.offered--;
            continue;
        }
        conn_start_request(c, now);
    }
}

static void conn_event(conn_t *c, uint32_t events, int64_t now)
{
    if (c->state == CONN_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            note_error(&c->worker->stats, "connect", err);
            conn_close(c);
            c->state = CONN_BACKOFF;
            c->retry_at = now + BACKOFF_NS;
            return;
        }
        if ((events & EPOLLOUT) == 0)
            return;
        if (conn_watch(c, 0) != 0) {
            conn_fail(c, now, "epoll_ctl", errno);
            return;
        }
        conn_next(c, now);
        return;
    }
    if (c->state == CONN_IDLE && c->fd >= 0) {
        /* an idle connection has nothing to read: the server closed it (keep-alive timeout);
         * it stays on the idle stack, closed, and is reopened when an arrival picks it */
        conn_close(c);
        c->state = CONN_IDLE;
        return;
    }
    if (c->state != CONN_BUSY)
        return;
    if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && conn_recv(c, now))
        return;
    if ((events & EPOLLOUT) && c->want_out)
        conn_send(c, now);
}

/* Every few ms: time out stuck requests, reopen connections whose pause is over. */
static void worker_scan(worker_t *w, int64_t now)
{
    for (unsigned i = 0; i < w->nconns; i++) {
        conn_t *c = &w->conns[i];
        if ((c->state == CONN_BUSY || c->state == CONN_CONNECTING) && now > c->deadline) {
            if (c->state == CONN_CONNECTING)
                c->measured = now >= run.measure_from;
            conn_fail(c, now, "timeout", 0);
        }
        if (c->state == CONN_BACKOFF && now >= c->retry_at) {
            if (now >= run.stop_at || atomic_load(&run.stop) || interrupted)
                conn_stop(c);
            else
                conn_open(c, now);
        }
    }
}

static void *worker_run(void *arg)
{
    worker_t *w = arg;
    struct epoll_event events[128];
    int64_t now = yc_mono_ns();

    for (unsigned i = 0; i < w->nconns; i++)
        conn_open(&w->conns[i], now);
    w->next_arrival = now;
    while (w->active > 0) {
        int n = epoll_wait(w->epfd, events, 128, cfg.rate > 0 ? 1 : 5);
        now = yc_mono_ns();
        for (int i = 0; i < n; i++)
            conn_event(events[i].data.ptr, events[i].events, now);
        worker_arrivals(w, now);
        if (now - w->last_scan >= SCAN_PERIOD_NS) {
            w->last_scan = now;
            worker_scan(w, now);
        }
        if (now >= run.hard_stop) { /* every request is bounded by --timeout, so this is a last resort */
            for (unsigned i = 0; i < w->nconns; i++) {
                if (w->conns[i].state == CONN_STOPPED)
                    continue;
                if (w->conns[i].state == CONN_BUSY && w->conns[i].measured)
                    w->stats.unfinished++;
                conn_stop(&w->conns[i]);
            }
        }
    }
    return NULL;
}

/* ---- setup ---- */

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return 0;
}

static int parse_endpoint(const char *arg)
{
    char host[256];
    const char *port, *h = arg;
    size_t hlen;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int ret;

    if (strncmp(h, "http://", 7) == 0)
        h += 7;
    if (snprintf(cfg.host, sizeof(cfg.host), "%s", h) >= (int)sizeof(cfg.host))
        return -1;
    cfg.host[strcspn(cfg.host, "/")] = '\0';
    if (cfg.host[0] == '[') {
        const char *close = strchr(cfg.host, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        hlen = (size_t)(close - cfg.host - 1);
        memcpy(host, cfg.host + 1, hlen);
        port = close + 2;
    } else {
        const char *colon = strrchr(cfg.host, ':');
        if (colon == NULL)
            return -1;
        hlen = (size_t)(colon - cfg.host);
        memcpy(host, cfg.host, hlen < sizeof(host) ? hlen : 0);
        port = colon + 1;
    }
    if (hlen == 0 || hlen >= sizeof(host))
        return -1;
    host[hlen] = '\0';
    if ((ret = getaddrinfo(host, port, &hints, &res)) != 0) {
        fprintf(stderr, "yc-bench: %s: %s\n", arg, gai_strerror(ret));
        return -1;
    }
    ret = -1;
    if (!is_loopback(res->ai_addr)) {
        fprintf(stderr, "yc-bench: %s is not a loopback address; only local servers are benchmarked\n", host);
    } else if (res->ai_addrlen <= sizeof(cfg.addr)) {
        memcpy(&cfg.addr, res->ai_addr, res->ai_addrlen);
        cfg.addr_len = res->ai_addrlen;
        ret = 0;
    }
    freeaddrinfo(res);
    return ret;
}

/* Parses "4096", "4k", "64m", "1g", "64MiB": binary units. */
static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    uint64_t mult = 1;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    switch (*end) {
    case '\0':
        break;
    case 'k':
    case 'K':
        mult = 1ull << 10;
        end++;
        break;
    case 'm':
    case 'M':
        mult = 1ull << 20;
        end++;
        break;
    case 'g':
    case 'G':
        mult = 1ull << 30;
        end++;
        break;
    default:
        return -1;
    }
    if (errno != 0 || (*end != '\0' && strcasecmp(end, "b") != 0 && strcasecmp(end, "ib") != 0) ||
        v > MAX_OBJECT / mult)
        return -1;
    *out = v * mult;
    return 0;
}

static int valid_name(const char *s, int slash_ok)
{
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
              *s == '.' || *s == '_' || *s == '~' || (slash_ok && *s == '/')))
            return 0;
    return 1;
}

static void format_size(uint64_t v, char *out, size_t cap)
{
    if (v >= (1ull << 30) && v % (1ull << 30) == 0)
        snprintf(out, cap, "%" PRIu64 " GiB", v >> 30);
    else if (v >= (1ull << 20) && v % (1ull << 20) == 0)
        snprintf(out, cap, "%" PRIu64 " MiB", v >> 20);
    else if (v >= 1024 && v % 1024 == 0)
        snprintf(out, cap, "%" PRIu64 " KiB", v >> 10);
    else
        snprintf(out, cap, "%" PRIu64 " B", v);
}

/* Sends one request on a blocking connection with "connection: close" and reads the response until
 * the server closes. Returns the status, or -1; the start of the body goes to body (NUL-terminated). */
static int simple_request(const char *method, const char *path, char *body, size_t body_cap)
{
    char head[REQ_HEAD_MAX], amz_date[17], buf[16384];
    struct timeval tv = {10, 0};
    size_t got = 0, head_len;
    resp_head_t h;
    int64_t wall = (int64_t)time(NULL);
    int fd, len, status = -1;
    ssize_t n;

    s3_sigv4_format_time(wall, amz_date);
    if ((len = request_head(head, sizeof(head), method, path, EMPTY_SHA256, 0, amz_date, wall,
                            "connection: close\r\n")) < 0)
        return -1;
    if ((fd = socket(cfg.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&cfg.addr, cfg.addr_len) != 0 ||
        send(fd, head, (size_t)len, MSG_NOSIGNAL) != len)
        goto done;
    while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
        got += (size_t)n;
    if ((head_len = find_head_end((const uint8_t *)buf, got)) == 0 || parse_resp_head(buf, head_len, &h) != 0)
        goto done;
    status = h.status;
    snprintf(body, body_cap, "%.*s", (int)(got - head_len), buf + head_len);
done:
    close(fd);
    return status;
}

static int create_bucket(void)
{
    char path[300], body[2048];
    int status;

    snprintf(path, sizeof(path), "/%s", cfg.bucket);
    status = simple_request("PUT", path, body, sizeof(body));
    if (status == 200 || (status == 409 && strstr(body, "BucketAlreadyOwnedByYou") != NULL))
        return 0;
    fprintf(stderr, "yc-bench: creating bucket %s: status %d %s\n", cfg.bucket, status, body);
    return -1;
}

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: yc-bench --endpoint HOST:PORT [options]\n"
               "  --endpoint HOST:PORT   loopback S3 endpoint (path-style)\n"
               "  --bucket NAME          bucket (default yc-bench); --create-bucket creates it first\n"
               "  --op put|get|mixed|fill|list|delete  fill PUTs every key of the key space once, delete\n"
               "                         DELETEs every key once; list GETs one ListObjectsV2 page of up\n"
               "                         to 1000 keys (default get)\n"
               "  --list-prefix STR      list: pages of the keys under STR ([A-Za-z0-9._~-]) only\n"
               "  --get-percent P        mixed: share of GETs in percent (default 50)\n"
               "  --size N[k|m|g]        object size, binary units (default 4k)\n"
               "  --keys N               key space: objects PREFIX0 .. PREFIX<N-1> (default 1000)\n"
               "  --prefix STR           key prefix (default obj-)\n"
               "  --sequential | --random  key order (default: sequential for put, random otherwise)\n"
               "  --connections N        concurrent keep-alive connections (default 16)\n"
               "  --threads N            generator threads (default 1)\n"
               "  --duration S           measured seconds (default 10; 0 = until --requests)\n"
               "  --requests N           stop after N measured requests\n"
               "  --rate R               open loop: start R requests/s on idle connections (missed when none)\n"
               "  --warmup S             seconds of unmeasured load first (default 0)\n"
               "  --timeout S            per-request timeout (default 30)\n"
               "  --verify               check every GET body byte-exact\n"
               "  --sha256               sign PUT bodies with their SHA-256 instead of UNSIGNED-PAYLOAD\n"
               "  --access-key K --secret-key S --region R   (default: YC_ROOT_USER/YC_ROOT_PASSWORD, us-east-1)\n"
               "  --label STR            row label; --markdown prints a table row, --markdown-header its head too\n"
               "  --sse AES256|SM4       PUTs ask for server-side encryption (x-amz-server-side-encryption)\n");
}

static int parse_args(int argc, char **argv)
{
    enum {
        O_ENDPOINT = 256,
        O_BUCKET,
        O_CREATE,
        O_OP,
        O_GETPCT,
        O_SIZE,
        O_KEYS,
        O_PREFIX,
        O_SEQ,
        O_RAND,
        O_CONNS,
        O_THREADS,
        O_DURATION,
        O_REQUESTS,
        O_RATE,
        O_WARMUP,
        O_TIMEOUT,
        O_VERIFY,
        O_SHA,
        O_AK,
        O_SK,
        O_REGION,
        O_LABEL,
        O_LIST_PREFIX,
        O_MD,
        O_MDH,
        O_SSE,
        O_HELP
    };
    static const struct option opts[] = {
        {"endpoint", 1, NULL, O_ENDPOINT},
        {"bucket", 1, NULL, O_BUCKET},
        {"create-bucket", 0, NULL, O_CREATE},
        {"op", 1, NULL, O_OP},
        {"get-percent", 1, NULL, O_GETPCT},
        {"size", 1, NULL, O_SIZE},
        {"keys", 1, NULL, O_KEYS},
        {"prefix", 1, NULL, O_PREFIX},
        {"sequential", 0, NULL, O_SEQ},
        {"random", 0, NULL, O_RAND},
        {"connections", 1, NULL, O_CONNS},
        {"threads", 1, NULL, O_THREADS},
        {"duration", 1, NULL, O_DURATION},
        {"requests", 1, NULL, O_REQUESTS},
        {"rate", 1, NULL, O_RATE},
        {"warmup", 1, NULL, O_WARMUP},
        {"timeout", 1, NULL, O_TIMEOUT},
        {"verify", 0, NULL, O_VERIFY},
        {"sha256", 0, NULL, O_SHA},
        {"access-key", 1, NULL, O_AK},
        {"secret-key", 1, NULL, O_SK},
        {"region", 1, NULL, O_REGION},
        {"label", 1, NULL, O_LABEL},
        {"list-prefix", 1, NULL, O_LIST_PREFIX},
        {"markdown", 0, NULL, O_MD},
        {"markdown-header", 0, NULL, O_MDH},
        {"sse", 1, NULL, O_SSE},
        {"help", 0, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    int have_endpoint = 0, o;
    char *end;

    cfg.access_key = getenv("YC_ROOT_USER") ? getenv("YC_ROOT_USER") : getenv("AWS_ACCESS_KEY_ID");
    cfg.secret_key = getenv("YC_ROOT_PASSWORD") ? getenv("YC_ROOT_PASSWORD") : getenv("AWS_SECRET_ACCESS_KEY");
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        errno = 0;
        switch (o) {
        case O_ENDPOINT:
            if (parse_endpoint(optarg) != 0)
                return -1;
            have_endpoint = 1;
            break;
        case O_BUCKET:
            cfg.bucket = optarg;
            break;
        case O_CREATE:
            cfg.create_bucket = 1;
            break;
        case O_OP:
            if (strcmp(optarg, "put") == 0)
                cfg.op = OP_PUT;
            else if (strcmp(optarg, "get") == 0)
                cfg.op = OP_GET;
            else if (strcmp(optarg, "mixed") == 0)
                cfg.op = OP_MIXED;
            else if (strcmp(optarg, "fill") == 0)
                cfg.op = OP_FILL;
            else if (strcmp(optarg, "list") == 0)
                cfg.op = OP_LIST;
            else if (strcmp(optarg, "delete") == 0)
                cfg.op = OP_DELETE;
            else
                return -1;
            break;
        case O_GETPCT:
            if ((cfg.get_percent = (unsigned)strtoul(optarg, &end, 10)) > 100 || *end != '\0')
                return -1;
            break;
        case O_SIZE:
            if (parse_size(optarg, &cfg.size) != 0)
                return -1;
            break;
        case O_KEYS:
            if ((cfg.keys = strtoull(optarg, &end, 10)) == 0 || *end != '\0' || errno != 0)
                return -1;
            break;
        case O_PREFIX:
            cfg.prefix = optarg;
            break;
        case O_SEQ:
        case O_RAND:
            cfg.sequential = o == O_SEQ;
            break;
        case O_CONNS:
            if ((cfg.conns = (unsigned)strtoul(optarg, &end, 10)) == 0 || cfg.conns > 10000 || *end != '\0')
                return -1;
            break;
        case O_THREADS:
            if ((cfg.threads = (unsigned)strtoul(optarg, &end, 10)) == 0 || cfg.threads > 256 || *end != '\0')
                return -1;
            break;
        case O_DURATION:
            if ((cfg.duration = strtod(optarg, &end)) < 0 || *end != '\0')
                return -1;
            break;
        case O_REQUESTS:
            if ((cfg.requests = strtoull(optarg, &end, 10)) == 0 || *end != '\0' || errno != 0)
                return -1;
            break;
        case O_RATE:
            if ((cfg.rate = strtod(optarg, &end)) <= 0 || *end != '\0')
                return -1;
            break;
        case O_WARMUP:
            if ((cfg.warmup = strtod(optarg, &end)) < 0 || *end != '\0')
                return -1;
            break;
        case O_TIMEOUT:
            if ((cfg.timeout = strtod(optarg, &end)) <= 0 || *end != '\0')
                return -1;
            break;
        case O_VERIFY:
            cfg.verify = 1;
            break;
        case O_SHA:
            cfg.sign_body = 1;
            break;
        case O_AK:
            cfg.access_key = optarg;
            break;
        case O_SK:
            cfg.secret_key = optarg;
            break;
        case O_REGION:
            cfg.region = optarg;
            break;
        case O_LABEL:
            cfg.label = optarg;
            break;
        case O_SSE:
            if (strcmp(optarg, "AES256") != 0 && strcmp(optarg, "SM4") != 0) {
                fprintf(stderr, "yc-bench: --sse is AES256 or SM4\n");
                return -1;
            }
            snprintf(cfg.sse_header, sizeof(cfg.sse_header), "x-amz-server-side-encryption: %s\r\n", optarg);
            break;
        case O_LIST_PREFIX:
            if (strlen(optarg) > 200 || !valid_name(optarg, 0))
                return -1;
            cfg.list_prefix = optarg;
            break;
        case O_MDH:
            cfg.markdown_header = 1;
            /* fall through */
        case O_MD:
            cfg.markdown = 1;
            break;
        case O_HELP:
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    if (optind != argc || !have_endpoint) {
        fprintf(stderr, "yc-bench: %s\n", have_endpoint ? "unexpected argument" : "--endpoint is required");
        return -1;
    }
    if (cfg.access_key == NULL || cfg.secret_key == NULL) {
        fprintf(stderr, "yc-bench: no credentials: set YC_ROOT_USER and YC_ROOT_PASSWORD\n");
        return -1;
    }
    if (strlen(cfg.bucket) < 3 || strlen(cfg.bucket) > 63 || !valid_name(cfg.bucket, 0) || strlen(cfg.prefix) > 200 ||
        !valid_name(cfg.prefix, 1)) {
        fprintf(stderr, "yc-bench: bucket and prefix must be short and use only [A-Za-z0-9._~-] (and / in prefix)\n");
        return -1;
    }
    if (cfg.op != OP_FILL && cfg.op != OP_DELETE && cfg.duration == 0 && cfg.requests == 0) {
        fprintf(stderr, "yc-bench: give --duration or --requests: every run must end by itself\n");
        return -1;
    }
    if (cfg.rate > 0 && (cfg.op == OP_FILL || cfg.op == OP_DELETE || cfg.requests > 0 || cfg.duration == 0)) {
        fprintf(stderr, "yc-bench: --rate runs for --duration and does not fill\n");
        return -1;
    }
    if (cfg.sequential < 0)
        cfg.sequential = cfg.op == OP_PUT;
    if (cfg.op == OP_FILL || cfg.op == OP_DELETE)
        cfg.warmup = 0; /* every key must be written (deleted) once, and counted */
    return 0;
}

/* ---- main ---- */

int main(int argc, char **argv)
{
    static const char *op_names[] = {"put", "get", "mixed", "fill", "list", "delete"};
    worker_t *workers;
    stats_t total;
    char size_text[32], label[128];
    int64_t start, window_end;
    double secs, ops_s, mib_s;
    uint64_t errors = 0;

    if (parse_args(argc, argv) != 0) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (pattern_build() != 0)
        return 1;
    if (cfg.create_bucket && create_bucket() != 0)
        return 1;

    if ((workers = calloc(cfg.threads, sizeof(*workers))) == NULL)
        return 1;
    for (unsigned t = 0; t < cfg.threads; t++) {
        worker_t *w = &workers[t];
        w->nconns = w->active = cfg.conns / cfg.threads + (t < cfg.conns % cfg.threads);
        w->rng = 0x9e3779b97f4a7c15ull * (t + 1) ^ (uint64_t)yc_mono_ns();
        w->rng |= 1;
        if (cfg.rate > 0)
            w->interval = (int64_t)((double)NS_PER_S * cfg.threads / cfg.rate);
        if (w->interval < 1 && cfg.rate > 0)
            w->interval = 1;
        if ((w->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 || (w->conns = calloc(w->nconns, sizeof(conn_t))) == NULL)
            return 1;
        if (cfg.sign_body && cfg.keys <= SHA_CACHE_MAX &&
            ((w->sha = calloc(cfg.keys, 32)) == NULL || (w->sha_valid = calloc(cfg.keys, 1)) == NULL))
            return 1;
        for (unsigned i = 0; i < w->nconns; i++) {
            w->conns[i].worker = w;
            w->conns[i].fd = -1;
            if ((w->conns[i].rbuf = malloc(RBUF_LEN)) == NULL)
                return 1;
        }
    }

    start = yc_mono_ns();
    run.measure_from = start + (int64_t)(cfg.warmup * NS_PER_S);
    run.stop_at = cfg.duration > 0 ? run.measure_from + (int64_t)(cfg.duration * NS_PER_S) : INT64_MAX / 2;
    if ((cfg.op == OP_FILL || cfg.op == OP_DELETE) && cfg.duration == 0)
        run.stop_at = INT64_MAX / 2; /* bounded by the key count */
    run.hard_stop = run.stop_at + (int64_t)((cfg.timeout + 1) * NS_PER_S);
    for (unsigned t = 0; t < cfg.threads; t++)
        if (pthread_create(&workers[t].thread, NULL, worker_run, &workers[t]) != 0)
            return 1;
    memset(&total, 0, sizeof(total));
    for (unsigned t = 0; t < cfg.threads; t++) {
        pthread_join(workers[t].thread, NULL);
        stats_merge(&total, &workers[t].stats);
    }

    /* the window ends at the deadline, or earlier when the run did (--requests, fill, interrupt) */
    window_end = total.last_done < run.stop_at ? total.last_done : run.stop_at;
    secs = window_end > run.measure_from ? (double)(window_end - run.measure_from) / NS_PER_S : 0;
    ops_s = secs > 0 ? total.win_ops / secs : 0;
    mib_s = secs > 0 ? total.win_bytes / secs / (1 << 20) : 0;
    for (unsigned i = 0; i < 600; i++)
        if (i < 200 || i >= 300)
            errors += total.status[i];
    errors += total.neterr + total.timeouts + total.verify_fail + total.unfinished;
    format_size(cfg.size, size_text, sizeof(size_text));
    snprintf(label, sizeof(label), "%s", cfg.label ? cfg.label : op_names[cfg.op]);

#define MS(ns) ((double)(ns) / NS_PER_MS)
    printf("op=%s size=%" PRIu64 " conns=%u threads=%u keys=%" PRIu64 " secs=%.2f ops=%" PRIu64 " ops_s=%.1f "
           "mib_s=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f mean_ms=%.3f errors=%" PRIu64
           " slowdown=%" PRIu64 " neterr=%" PRIu64 " timeouts=%" PRIu64 " verify_fail=%" PRIu64 " reconnects=%" PRIu64
           " early=%" PRIu64 " unfinished=%" PRIu64 " answered=%" PRIu64 " verify=%d payload=%s",
           op_names[cfg.op], cfg.size, cfg.conns, cfg.threads, cfg.keys, secs, total.ok, ops_s, mib_s,
           MS(hist_percentile(&total, 50)), MS(hist_percentile(&total, 90)), MS(hist_percentile(&total, 99)),
           MS(hist_percentile(&total, 99.9)), MS(total.lat_max), total.ok ? MS(total.lat_sum / total.ok) : 0.0, errors,
           total.status[503], total.neterr, total.timeouts, total.verify_fail, total.reconnects, total.early,
           total.unfinished, total.answered, cfg.verify, cfg.sign_body ? "sha256" : "unsigned");
    if (cfg.op == OP_MIXED)
        printf(" ok_get=%" PRIu64 " ok_put=%" PRIu64, total.ok_get, total.ok_put);
    if (cfg.rate > 0)
        printf(" rate=%.0f offered=%" PRIu64 " missed=%" PRIu64, cfg.rate, total.offered, total.missed);
    if (total.shed > 0)
        printf(" shed=%" PRIu64 " shed_p50_ms=%.3f shed_p99_ms=%.3f shed_max_ms=%.3f", total.shed,
               MS(hist_pct(total.shed_hist, total.shed, total.shed_max, 50)),
               MS(hist_pct(total.shed_hist, total.shed, total.shed_max, 99)), MS(total.shed_max));
    for (unsigned i = 0; i < 600; i++)
        if (total.status[i] > 0)
            printf(" status_%u=%" PRIu64, i, total.status[i]);
    printf("\n");
    if (total.first_error[0] != '\0')
        fprintf(stderr, "yc-bench: first network error: %s\n", total.first_error);
    if (total.first_failed_status != 0) {
        for (char *p = total.first_failed_body; *p != '\0'; p++)
            *p = *p == '\n' || *p == '\r' ? ' ' : *p;
        fprintf(stderr, "yc-bench: first failed response: status %d %s\n", total.first_failed_status,
                total.first_failed_body);
    }
    if (cfg.markdown_header)
        printf("| test | op | size | conns | ops/s | MiB/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    if (cfg.markdown)
        printf("| %s | %s | %s | %u | %.0f | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f | %" PRIu64 " |\n", label,
               op_names[cfg.op], size_text, cfg.conns, ops_s, mib_s, MS(hist_percentile(&total, 50)),
               MS(hist_percentile(&total, 90)), MS(hist_percentile(&total, 99)), MS(hist_percentile(&total, 99.9)),
               MS(total.lat_max), errors);
#undef MS

    for (unsigned t = 0; t < cfg.threads; t++) {
        for (unsigned i = 0; i < workers[t].nconns; i++)
            free(workers[t].conns[i].rbuf);
        free(workers[t].conns);
        free(workers[t].sha);
        free(workers[t].sha_valid);
        close(workers[t].epfd);
    }
    free(workers);
    free(pattern);
    if (total.ok == 0 && errors == 0)
        return 3; /* nothing was measured: the run says nothing */
    return errors > 0 ? 3 : 0;
}
