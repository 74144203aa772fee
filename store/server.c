/* server.c — the yc-store daemon: the drives of one disk node behind the network transport.
 * This file starts and stops it, runs its loops, and carries a request from its loop to a worker
 * and back; authentication is server_auth.c, the streamed shard operations server_stream.c, the
 * shard writers server_writers.c, the other operations server_ops.c (server_internal.h lists
 * what they share).
 *
 * Threads: one event loop per core, each with its own SO_REUSEPORT listener (the kernel spreads
 * connections, no lock on the accept path) and its own HTTP/1.1 server of common/http.h, which
 * hands a request over as soon as its head is in and lets us pull the body with back-pressure.
 *
 * A request, on its loop: the head is routed (target and query into a job) and authenticated
 * (server_auth.c: the HMAC covers the declared body hash, so the head alone decides), and a
 * refused one is answered 401 at once without a byte of its body read. Then:
 *   - shard appends and shard reads stream (server_stream.c): the block goes to the shard file a
 *     buffer at a time, the range comes from it a buffer at a time, two buffers per request;
 *   - every other operation has a small body (records, locks, identity: at most small_body_max,
 *     413 past it), read whole into memory; a worker checks its SHA-256 against the signed one
 *     and only then runs the drive call; the job comes back through the loop's queue to be
 *     answered.
 * Nothing that blocks runs on a loop: drive calls, hashing of bodies and file I/O are the
 * workers'. The HTTP layer's timers bound each phase (config): a head that does not arrive, a
 * body that stops moving while we wait for it, an answer the client stops taking, an idle
 * keep-alive connection; a transfer that moves, however slowly, is never cut.
 */
#include "store/server_internal.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/clock.h"
#include "common/listen.h"
#include "common/log.h"
#include "store/store_internal.h"

#define WRITER_IDLE_DEFAULT   120000
#define KEEPALIVE_DEFAULT     30000
#define HEAD_TIMEOUT_DEFAULT  10000
#define BODY_TIMEOUT_DEFAULT  30000
#define SEND_TIMEOUT_DEFAULT  30000
#define SMALL_BODY_DEFAULT    (8u * 1024 * 1024)
#define STREAM_BUFFER_DEFAULT (256u * 1024)
#define STREAM_BUFFER_MIN     (4u * 1024)

/* ---------------------------------------------------------------- a small request's job */

static void job_run(yc_job_t *job)
{
    store_srv_job_t *j = (store_srv_job_t *)job;
    void *h = store_body_hash_new();

    /* the operation runs only on the body that was signed (server_auth.c) */
    if (h == NULL) {
        j->code = -ENOMEM;
    } else {
        store_body_hash_update(h, j->in, j->in_len);
        if (!store_body_hash_matches(h, j->body_sha256)) {
            atomic_fetch_add(&j->srv->stats.body_mismatch, 1);
            j->auth_failure = "body_hash";
            j->code = STORE_EAUTH;
        } else if ((j->code = store_server_run_op(j->srv, j)) != 0) {
            free(j->body);
            j->body = NULL;
            j->body_len = 0;
        }
    }
    /* the answer's tag here, off the loop: a scan page is up to a MiB */
    store_server_seal(j, j->code, j->body, j->body_len);
}

static void log_auth_failure(const yc_http_req_t *req, const char *why)
{
    /* the peer's address finds a misconfigured node; the secret and signature never appear */
    char addr[INET6_ADDRSTRLEN] = "-";
    if (req->peer != NULL && req->peer->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)req->peer)->sin_addr, addr, sizeof(addr));
    else if (req->peer != NULL && req->peer->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)req->peer)->sin6_addr, addr, sizeof(addr));
    yc_log(YC_LOG_WARN, "event=auth_rejected peer=%s reason=%s", addr, why);
}

static void job_done(yc_job_t *job)
{
    store_srv_job_t *j = (store_srv_job_t *)job;

    free(j->in);
    j->in = NULL;
    if (j->auth_failure != NULL)
        log_auth_failure(j->req, j->auth_failure);
    else
        store_server_log_failure(j, j->code);
    store_server_send(j->req, j->code, j->body, j->body_len);
    j->body = NULL;
}

/* A record read answered on the loop when RocksDB has it in memory (the common case: the
 * records a gateway reads are few and hot): the hand-off to a worker and back through the loop's
 * queue cost more than the read (two thread wake-ups and a pipe write per call). The body (a key)
 * is hashed and the answer tagged here, a few microseconds for so short a body. 1 when answered;
 * 0 when a worker must do it (not in memory, or the body is not the one signed: the worker
 * refuses it as usual). */
static int answer_on_loop(store_srv_job_t *j)
{
    void *h;
    int code;

    if (j->op != STORE_OP_RECORD_GET || (h = store_body_hash_new()) == NULL)
        return 0;
    store_body_hash_update(h, j->in, j->in_len);
    if (!store_body_hash_matches(h, j->body_sha256))
        return 0;
    /* as a submit: once the daemon stopped, its drives may be closing */
    pthread_rwlock_rdlock(&j->srv->submit_lock);
    code = j->srv->refusing ? -EAGAIN : store_server_record_get_cached(j);
    pthread_rwlock_unlock(&j->srv->submit_lock);
    if (code == -EAGAIN)
        return 0;
    j->code = code;
    job_done(&j->job);
    return 1;
}

static void run_job(store_srv_job_t *j)
{
    if (answer_on_loop(j))
        return;
    j->job.run = job_run;
    j->job.done = job_done;
    j->job.loop = &j->lt->loop;
    if (store_server_submit(j->srv, &j->job) != 0) {
        free(j->in);
        j->in = NULL;
        store_server_send(j->req, -ENOMEM, NULL, 0);
    }
}

/* The small body arrives piece by piece into j->in, sized from Content-Length. */
static void small_body_read(yc_http_req_t *req, void *arg, h2o_iovec_t data, int status)
{
    store_srv_job_t *j = arg;

    if (!j->authenticated) /* never: a tripwire for the order of things */
        atomic_fetch_add(&j->srv->stats.refused_body, data.len);
    if (status < 0) {
        free(j->in);
        j->in = NULL;
        yc_http_finish(req); /* the layer answers (408 after a timeout) and closes */
        return;
    }
    if (data.len > req->content_length - j->in_len) { /* the layer keeps to Content-Length */
        free(j->in);
        j->in = NULL;
        store_server_send(req, STORE_EINVAL, NULL, 0);
        return;
    }
    memcpy(j->in + j->in_len, data.base, data.len);
    j->in_len += data.len;
    if (status == YC_HTTP_BODY_END)
        run_job(j);
    else
        yc_http_body_read(req, small_body_read, j);
}

/* A connection that did not complete the TLS handshake (no certificate, one of another CA, a
 * cleartext client): one line a second at most, since a scanner or a misconfigured gateway
 * retries without end; tls_failures in /stats counts them all. */
static void on_tls_failure(void *arg, const struct sockaddr *peer)
{
    store_loop_t *lt = arg;
    int64_t now = yc_mono_ns(), last = atomic_load(&lt->srv->tls_refused_logged_ns);
    char addr[INET6_ADDRSTRLEN] = "-";

    if (now - last < 1000000000 || !atomic_compare_exchange_strong(&lt->srv->tls_refused_logged_ns, &last, now))
        return;
    if (peer != NULL && peer->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, addr, sizeof(addr));
    else if (peer != NULL && peer->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, addr, sizeof(addr));
    yc_log(YC_LOG_WARN,
           "event=tls_refused peer=%s reason=\"no TLS handshake with a certificate of the cluster CA (a gateway "
           "without internode TLS, or with a certificate of another CA)\"",
           addr);
}

/* GET /stats: the daemon's counters and its HTTP servers', one "name value" line each. */
static void answer_stats(store_srv_job_t *j)
{
    store_server_t *s = j->srv;
    store_server_stats_t *st = &s->stats;
    yc_http_stats_t h = {0}, one;
    char *out = malloc(1024);
    int n;

    if (out == NULL) {
        store_server_send(j->req, -ENOMEM, NULL, 0);
        return;
    }
    for (size_t i = 0; i < s->nloops; i++) {
        if (s->loops[i].http == NULL)
            continue;
        yc_http_server_stats(s->loops[i].http, &one);
        h.connections += one.connections;
        h.input_bytes += one.input_bytes;
        h.accepted += one.accepted;
        h.refused += one.refused;
        h.layer_errors += one.layer_errors;
        h.tls_handshakes += one.tls_handshakes;
        h.tls_failures += one.tls_failures;
    }
    n = snprintf(out, 1024,
                 "requests %llu\nauth_refused %llu\nrefused_body_bytes %llu\nbody_hash_mismatch %llu\n"
                 "shard_writes_rolled_back %llu\nstreamed_in_bytes %llu\nstreamed_out_bytes %llu\n"
                 "stream_buffer_bytes_max %llu\nconnections %zu\ninput_buffer_bytes %zu\nconnections_accepted %llu\n"
                 "connections_refused %llu\nhttp_errors %llu\nwrong_drive %llu\ntls_handshakes %llu\n"
                 "tls_failures %llu\n",
                 (unsigned long long)atomic_load(&st->requests), (unsigned long long)atomic_load(&st->auth_refused),
                 (unsigned long long)atomic_load(&st->refused_body),
                 (unsigned long long)atomic_load(&st->body_mismatch), (unsigned long long)atomic_load(&st->rolled_back),
                 (unsigned long long)atomic_load(&st->streamed_in), (unsigned long long)atomic_load(&st->streamed_out),
                 (unsigned long long)atomic_load(&st->stream_buffers_max), h.connections, h.input_bytes,
                 (unsigned long long)h.accepted, (unsigned long long)h.refused, (unsigned long long)h.layer_errors,
                 (unsigned long long)atomic_load(&st->wrong_drive), (unsigned long long)h.tls_handshakes,
                 (unsigned long long)h.tls_failures);
    store_server_send(j->req, 0, (uint8_t *)out, (size_t)n);
}

static void on_request(yc_http_req_t *req)
{
    store_loop_t *lt = req->arg;
    store_server_t *s = lt->srv;
    /* the job lives in the request's pool: it is done with before the request is given back */
    store_srv_job_t *j = h2o_mem_alloc_pool(req->pool, sizeof(*j));
    const char *why = NULL;
    int ret;

    memset(j, 0, sizeof(*j));
    j->srv = s;
    j->lt = lt;
    j->req = req;
    j->started_ns = yc_mono_ns();
    req->app = j;
    atomic_fetch_add(&s->stats.requests, 1);
    store_server_note_signature(j, req);
    if (__atomic_load_n(&s->refusing, __ATOMIC_RELAXED)) {
        store_server_send(req, -ENOMEM, NULL, 0);
        return;
    }
    /* from the head alone, before any of the body is asked for */
    if ((ret = store_server_authenticate(s, req, j, &why)) != 0) {
        atomic_fetch_add(&s->stats.auth_refused, 1);
        log_auth_failure(req, why);
        store_server_send(req, ret, NULL, 0);
        return;
    }
    store_server_route(s->drives, s->ndrives, j);
    if (j->route_err != 0) {
        store_server_send(req, j->route_err, NULL, 0);
        return;
    }
    /* signed for this drive, or one of the few calls taken unbound: else nothing of it is read */
    if ((ret = store_server_check_drive(j, &why)) != 0) {
        atomic_fetch_add(&s->stats.auth_refused, 1);
        atomic_fetch_add(&s->stats.wrong_drive, 1);
        log_auth_failure(req, why);
        store_server_send(req, ret, NULL, 0);
        return;
    }
    j->authenticated = 1;
    if (req->chunked) { /* the wire format always gives Content-Length */
        store_server_send(req, STORE_EINVAL, NULL, 0);
        return;
    }
    if (j->op == STORE_OP_STATS) {
        answer_stats(j);
    } else if (j->op == STORE_OP_SHARD_APPEND) {
        store_stream_append(j);
    } else if (j->op == STORE_OP_SHARD_READ) {
        store_stream_read(j);
    } else if (req->content_length == 0) {
        run_job(j);
    } else if (req->content_length > s->small_body_max) {
        store_server_send(req, -EMSGSIZE, NULL, 0);
    } else if ((j->in = malloc((size_t)req->content_length)) == NULL) {
        store_server_send(req, -ENOMEM, NULL, 0);
    } else {
        yc_http_body_read(req, small_body_read, j);
    }
}

/* ---------------------------------------------------------------- loops */

static void *loop_main(void *arg)
{
    store_loop_t *lt = arg;
    store_server_t *s = lt->srv;
    yc_http_config_t cfg = s->http_cfg;
    int ret;

    /* everything of h2o a loop owns is made on its own thread (common/server.h says why) */
    lt->evloop = h2o_evloop_create();
    yc_loop_init(&lt->loop, lt->evloop);
    cfg.arg = lt;
    if ((ret = yc_http_server_new(lt->evloop, &cfg, &lt->http)) == 0 &&
        (ret = yc_http_server_listen(lt->http, lt->fd)) == 0)
        lt->fd = -1; /* the server's now */
    pthread_mutex_lock(&s->ready_mutex);
    s->ready++;
    if (ret != 0)
        s->ready_failed = ret;
    pthread_cond_broadcast(&s->ready_cond);
    pthread_mutex_unlock(&s->ready_mutex);
    if (ret != 0)
        return NULL;
    for (;;) /* until the process exits: a stopped daemon answers 503 meanwhile */
        h2o_evloop_run(lt->evloop, INT32_MAX);
    return NULL;
}

/* Opens a listener per loop and starts the loops, returning once each serves. */
static int start_loops(store_server_t *s, const char *host, uint16_t port)
{
    int ret = 0;

    if ((s->loops = calloc(s->nloops, sizeof(*s->loops))) == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < s->nloops; i++)
        s->loops[i].fd = -1;
    for (size_t i = 0; i < s->nloops; i++) {
        s->loops[i].srv = s;
        if ((s->loops[i].fd = yc_listen_open(host, port)) < 0)
            return s->loops[i].fd;
    }
    for (; s->started < s->nloops; s->started++)
        if (pthread_create(&s->loops[s->started].tid, NULL, loop_main, &s->loops[s->started]) != 0) {
            ret = -EAGAIN;
            break;
        }
    pthread_mutex_lock(&s->ready_mutex);
    while (s->ready < s->started)
        pthread_cond_wait(&s->ready_cond, &s->ready_mutex);
    if (ret == 0)
        ret = s->ready_failed;
    pthread_mutex_unlock(&s->ready_mutex);
    return ret;
}

/* ---------------------------------------------------------------- start-up */

/* A drive engine's code in words, for the one line a failed start prints. */
static const char *code_text(int code)
{
    switch (code) {
    case STORE_ENOENT:
        return "its layout is missing";
    case STORE_ENOSPC:
        return "the disk is full";
    case STORE_ECORRUPT:
        return "its database is damaged";
    case STORE_EFORMAT:
        return "its metadata format is not this build's";
    case STORE_EINVAL:
        return "the path is too long";
    case -ENOMEM:
        return "out of memory";
    default:
        return "an I/O error (see the kernel log)";
    }
}

/* Prepares and opens every drive: identity first (it makes the folder, refuses a foreign,
 * unwritable or wrongly keyed one, and locks it), then the engine. Nothing is logged here: on
 * failure why names the drive, its path and the cause, for the one line the caller prints. */
static int open_drives(store_server_t *s, const store_server_config_t *cfg, char *why, size_t whylen)
{
    struct stat *seen;
    int ret = 0;

    if ((s->drives = calloc(cfg->ndrives, sizeof(*s->drives))) == NULL ||
        (seen = calloc(cfg->ndrives, sizeof(*seen))) == NULL) {
        store_set_why(why, whylen, "out of memory");
        return -ENOMEM;
    }
    for (size_t i = 0; i < cfg->ndrives; i++) {
        const char *name = cfg->drive_names[i], *dir = cfg->drive_dirs[i];
        char reason[512];
        if (!store_net_drive_name_ok(name, strlen(name))) {
            store_set_why(why, whylen, "drive '%s': a drive name is 1 to 64 of A-Z a-z 0-9 . _ -", name);
            ret = STORE_EINVAL;
            goto done;
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(s->drives[k].name, name) == 0) {
                store_set_why(why, whylen, "drive %s: named twice", name);
                ret = STORE_EINVAL;
                goto done;
            }
        }
        snprintf(s->drives[i].name, sizeof(s->drives[i].name), "%s", name);
        /* the lock would refuse the same folder given twice, but blame another process */
        if (stat(dir, &seen[i]) == 0) {
            for (size_t k = 0; k < i; k++) {
                if (seen[k].st_dev == seen[i].st_dev && seen[k].st_ino == seen[i].st_ino) {
                    store_set_why(why, whylen, "drive %s: %s: the same folder as drive %s", name, dir,
                                  s->drives[k].name);
                    ret = STORE_EINVAL;
                    goto done;
                }
            }
        }
        if ((ret = store_identity_open(dir, s->secret, s->secret_len, &s->drives[i].identity, reason,
                                       sizeof(reason))) != 0) {
            store_set_why(why, whylen, "drive %s: %s: %s", name, dir, reason);
            goto done;
        }
        s->ndrives = i + 1;
        store_identity_info_t info;
        store_identity_get(s->drives[i].identity, &info);
        memcpy(s->drives[i].drive_id, info.drive_id, STORE_ID_LEN); /* fixed for the drive's life */
        stat(dir, &seen[i]);                                        /* made just now when it was missing */
        if ((ret = store_drive_open(dir, 1, &s->drives[i].drive)) != 0) {
            store_set_why(why, whylen, "drive %s: %s: cannot open: %s (%s)", name, dir, code_text(ret),
                          yc_strerror(ret));
            goto done;
        }
        store_drive_set_reserve(s->drives[i].drive, cfg->drive_reserve);
    }
done:
    free(seen);
    return ret;
}

/* The listening port must be nobody's: the listeners share it with SO_REUSEPORT, which would
 * also let a second yc-store (same user) bind it silently and take half the connections. A
 * socket without SO_REUSEPORT cannot bind a port anyone listens on, so it tells. */
static int check_listen(const char *host, uint16_t port, char *why, size_t whylen)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd, one = 1, ret = 0;

    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        store_set_why(why, whylen, "listen %s:%u: not an IPv4 address", host, port);
        return STORE_EINVAL;
    }
    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        ret = errno;
        store_set_why(why, whylen, "listen %s:%u: %s", host, port, strerror(ret));
        return STORE_EIO;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)); /* TIME_WAIT is no owner */
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        ret = errno;
        store_set_why(why, whylen, "listen %s:%u: %s%s", host, port, strerror(ret),
                      ret == EADDRINUSE      ? " (another process listens on this port: another yc-store?)"
                      : ret == EADDRNOTAVAIL ? " (not an address of this host)"
                      : ret == EACCES        ? " (ports below 1024 need privileges)"
                                             : "");
    }
    close(fd);
    return ret == 0 ? 0 : STORE_EIO;
}

static void log_drives(store_server_t *s, const store_server_config_t *cfg)
{
    for (size_t i = 0; i < s->ndrives; i++) {
        store_identity_info_t info;
        char id[2 * STORE_ID_LEN + 1], placed[48] = "no";
        store_identity_get(s->drives[i].identity, &info);
        yc_hex(info.drive_id, STORE_ID_LEN, id);
        if (info.placed)
            snprintf(placed, sizeof(placed), "set%u/slot%u", info.set, info.slot);
        uint64_t free_bytes = 0, reserve = 0;
        store_drive_space(s->drives[i].drive, &free_bytes, &reserve);
        yc_log(YC_LOG_INFO,
               "event=drive_opened drive=%s dir=%s drive_id=%s placed=%s free=%llu reserve=%llu read_only=%d",
               s->drives[i].name, cfg->drive_dirs[i], id, placed, (unsigned long long)free_bytes,
               (unsigned long long)reserve, meta_db_read_only(store_drive_db(s->drives[i].drive)));
    }
}

static void on_gc_report(void *arg, const char *drive, size_t removed, int ret)
{
    yc_log(ret == 0 ? YC_LOG_INFO : YC_LOG_WARN, "event=orphans_collected drive=%s removed=%zu err=%s", drive, removed,
           yc_errname(ret));
}

/* Shard files a crashed writer left without a record are collected in the background. */
static void start_orphan_collector(store_server_t *s, uint64_t grace_s)
{
    store_drive_t **drives = calloc(s->ndrives, sizeof(*drives));
    if (drives == NULL)
        return;
    for (size_t i = 0; i < s->ndrives; i++)
        drives[i] = s->drives[i].drive;
    if (store_gc_start(drives, s->ndrives, (int64_t)grace_s * 1000000000, on_gc_report, NULL, &s->gc) != 0)
        s->gc = NULL;
    free(drives);
}

/* Internode TLS: all three files or none, each readable now, so that a mistake stops the start
 * with its name rather than failing every connection later. The loops' servers load them
 * (common/http.h: one context for them all); the names are copied, the loops keep pointers. */
static int setup_tls(store_server_t *s, const store_server_config_t *cfg, char *why, size_t whylen)
{
    const char *files[3] = {cfg->tls_cert, cfg->tls_key, cfg->tls_ca};
    static const char *const names[3] = {"--tls-cert", "--tls-key", "--tls-ca"};
    size_t given = 0;

    for (size_t i = 0; i < 3; i++)
        given += files[i] != NULL;
    if (given == 0)
        return 0;
    for (size_t i = 0; i < 3; i++) {
        if (files[i] == NULL) {
            store_set_why(why, whylen, "internode TLS needs --tls-cert, --tls-key and --tls-ca together: %s is missing",
                          names[i]);
            return STORE_EINVAL;
        }
        if (access(files[i], R_OK) != 0) {
            store_set_why(why, whylen, "%s %s: %s", names[i], files[i], strerror(errno));
            return STORE_EINVAL;
        }
        if ((s->tls_files[i] = strdup(files[i])) == NULL)
            return -ENOMEM;
    }
    s->http_cfg.tls_cert_file = s->tls_files[0];
    s->http_cfg.tls_key_file = s->tls_files[1];
    s->http_cfg.tls_client_ca_file = s->tls_files[2];
    s->http_cfg.on_tls_failure = on_tls_failure;
    s->http_cfg.http2 = 0; /* the transport speaks HTTP/1.1 only */
    return 0;
}

int store_server_start(const store_server_config_t *cfg, store_server_t **out, char *why, size_t whylen)
{
    store_server_t *s;
    int ret;

    store_set_why(why, whylen, "cannot start");
    if (cfg->pool == NULL || cfg->ndrives == 0 || cfg->secret == NULL || cfg->listen_host == NULL) {
        store_set_why(why, whylen, "no drives, listen address or cluster secret");
        return STORE_EINVAL;
    }
    if ((s = calloc(1, sizeof(*s))) == NULL)
        return -ENOMEM;
    signal(SIGPIPE, SIG_IGN);
    store_writers_init(&s->writers, cfg->writer_idle_ms != 0 ? cfg->writer_idle_ms : WRITER_IDLE_DEFAULT);
    store_replay_init(&s->replay);
    pthread_rwlock_init(&s->submit_lock, NULL);
    pthread_mutex_init(&s->ready_mutex, NULL);
    pthread_cond_init(&s->ready_cond, NULL);
    s->pool = cfg->pool;
    s->secret_len = cfg->secret_len != 0 ? cfg->secret_len : strlen(cfg->secret);
    if (s->secret_len == 0) {
        store_set_why(why, whylen, "the cluster secret is empty");
        ret = STORE_EINVAL;
        goto fail;
    }
    if ((s->secret = malloc(s->secret_len)) == NULL) {
        ret = -ENOMEM;
        goto fail;
    }
    memcpy(s->secret, cfg->secret, s->secret_len);
    if ((ret = store_net_key_new(s->secret, s->secret_len, &s->sign_key)) != 0 ||
        (ret = store_net_answer_key_new(s->secret, s->secret_len, &s->answer_key)) != 0) {
        store_set_why(why, whylen, "cannot set up the cluster secret's keys (OpenSSL)");
        goto fail;
    }
    if (RAND_bytes(s->answer_nonce_prefix, sizeof(s->answer_nonce_prefix)) != 1) {
        store_set_why(why, whylen, "no random bytes (OpenSSL)");
        ret = STORE_EIO;
        goto fail;
    }
    /* the port before the drives: a second daemon started by mistake must not touch them */
    if ((ret = check_listen(cfg->listen_host, cfg->listen_port, why, whylen)) != 0)
        goto fail;
    if ((ret = open_drives(s, cfg, why, whylen)) != 0)
        goto fail;

    s->nloops = cfg->loops != 0 ? cfg->loops : (size_t)sysconf(_SC_NPROCESSORS_ONLN);
    if (s->nloops == 0 || s->nloops > 256)
        s->nloops = 1;
    s->small_body_max = cfg->small_body_max != 0 ? cfg->small_body_max : SMALL_BODY_DEFAULT;
    s->stream_buffer = cfg->stream_buffer != 0 ? cfg->stream_buffer : STREAM_BUFFER_DEFAULT;
    if (s->stream_buffer < STREAM_BUFFER_MIN)
        s->stream_buffer = STREAM_BUFFER_MIN;
    yc_http_config_init(&s->http_cfg);
    s->http_cfg.server_name = NULL;
    s->http_cfg.on_request = on_request;
    s->http_cfg.head_timeout_ms = cfg->head_timeout_ms != 0 ? cfg->head_timeout_ms : HEAD_TIMEOUT_DEFAULT;
    s->http_cfg.body_timeout_ms = cfg->body_timeout_ms != 0 ? cfg->body_timeout_ms : BODY_TIMEOUT_DEFAULT;
    s->http_cfg.send_timeout_ms = cfg->send_timeout_ms != 0 ? cfg->send_timeout_ms : SEND_TIMEOUT_DEFAULT;
    s->http_cfg.keepalive_timeout_ms = cfg->keepalive_ms != 0 ? cfg->keepalive_ms : KEEPALIVE_DEFAULT;
    /* descriptors kept back for the drives: RocksDB's open files, shard files being written */
    s->http_cfg.max_connections = cfg->max_connections != 0
                                      ? cfg->max_connections
                                      : yc_http_connection_budget(256 + s->ndrives * 1024, s->nloops);
    if ((ret = setup_tls(s, cfg, why, whylen)) != 0)
        goto fail;
    if ((ret = store_writers_start_reaper(&s->writers)) != 0)
        goto fail;
    if ((ret = start_loops(s, cfg->listen_host, cfg->listen_port)) != 0) {
        if (ret == -EPROTO && s->tls_files[0] != NULL)
            store_set_why(why, whylen,
                          "internode TLS: %s, %s, %s: not a PEM certificate chain, its key and a CA "
                          "certificate (or the key is not the certificate's)",
                          s->tls_files[0], s->tls_files[1], s->tls_files[2]);
        else
            store_set_why(why, whylen, "listen %s:%u: %s", cfg->listen_host, cfg->listen_port, strerror(-ret));
        goto fail;
    }
    log_drives(s, cfg);
    start_orphan_collector(s, cfg->orphan_grace_s != 0 ? cfg->orphan_grace_s : 3600);
    yc_log(YC_LOG_INFO, "event=started listen=%s:%u drives=%zu loops=%zu tls=%s", cfg->listen_host, cfg->listen_port,
           s->ndrives, s->nloops, s->tls_files[0] != NULL ? "mutual" : "off");
    *out = s;
    return 0;

fail:
    /* a loop already running may touch the server: then it is left to the exit that follows */
    if (s->started == 0)
        store_server_free(s);
    return ret;
}

void store_server_stop(store_server_t *s)
{
    pthread_rwlock_wrlock(&s->submit_lock);
    s->refusing = 1;
    pthread_rwlock_unlock(&s->submit_lock);
}

void store_server_free(store_server_t *s)
{
    if (s == NULL)
        return;
    store_gc_stop(s->gc);
    store_writers_dispose(&s->writers); /* stops the reaper, aborts the writers left */
    for (size_t i = 0; i < s->ndrives; i++) {
        store_drive_close(s->drives[i].drive);
        store_identity_close(s->drives[i].identity); /* after the engine: the lock covers it */
    }
    store_replay_dispose(&s->replay);
    for (size_t i = 0; i < 3; i++)
        free(s->tls_files[i]);
    store_net_key_free(s->sign_key);
    store_net_key_free(s->answer_key);
    if (s->secret != NULL)
        OPENSSL_cleanse(s->secret, s->secret_len);
    free(s->secret);
    free(s->drives);
    if (s->started == 0) { /* loops that run are left to the exit */
        for (size_t i = 0; s->loops != NULL && i < s->nloops; i++)
            if (s->loops[i].fd >= 0)
                close(s->loops[i].fd);
        free(s->loops);
        pthread_mutex_destroy(&s->ready_mutex);
        pthread_cond_destroy(&s->ready_cond);
        free(s);
    }
}
