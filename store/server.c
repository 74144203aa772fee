/* server.c — the yc-store daemon: the drives of one disk node behind the network transport.
 * This file starts and stops it and carries a request from its loop to a worker and back;
 * authentication is server_auth.c, the shard writers server_writers.c, the operations
 * server_ops.c (server_internal.h lists what they share).
 *
 * Threads: one h2o event loop per core, each with its own SO_REUSEPORT listener (the kernel
 * spreads connections, no lock on the accept path; common/server.h). A loop only parses the
 * request line into a job and hands it to the worker pool; the worker authenticates the request
 * (its body hash and HMAC are CPU work proportional to a block, so they are kept off the loop
 * too), runs the drive call, and the job comes back through the loop's multithread queue to be
 * answered. h2o 2.2.5 has the whole body buffered before the handler runs, so a worker reads
 * req->entity while the loop leaves the request alone until the job is back.
 */
#include "store/server_internal.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/clock.h"
#include "common/log.h"
#include "store/store_internal.h"

#define WRITER_IDLE_DEFAULT 120000
#define KEEPALIVE_DEFAULT   30000

/* ---------------------------------------------------------------- a request's job */

static void job_run(yc_job_t *job)
{
    store_srv_job_t *j = (store_srv_job_t *)job;
    const char *why = NULL;

    if ((j->code = store_server_authenticate(j->srv, j->req, &why)) != 0) {
        j->auth_failure = why;
        return;
    }
    if (j->route_err != 0) {
        j->code = j->route_err;
        return;
    }
    if ((j->code = store_server_run_op(j->srv, j)) != 0) {
        free(j->body);
        j->body = NULL;
        j->body_len = 0;
    }
}

/* ---------------------------------------------------------------- answers (loop) */

static int status_of(int code)
{
    switch (code) {
    case 0:
        return 200;
    case STORE_ENOENT:
        return 404;
    case STORE_EINVAL:
        return 400;
    case STORE_EAUTH:
        return 401;
    case STORE_EBITROT:
    case STORE_ECORRUPT:
        return 422;
    case STORE_ENOSPC:
        return 507;
    case STORE_ESTALE:
        return 409;
    case STORE_EBUSY:
        return 423;
    case -ENOMEM:
        return 503;
    default:
        return 500;
    }
}

static void free_linked(void *p)
{
    free(*(void **)p);
}

static void respond(h2o_req_t *req, int code, uint8_t *body, size_t len)
{
    static h2o_generator_t generator = {NULL, NULL};
    h2o_iovec_t buf = h2o_iovec_init(body, len);

    if (body != NULL) {
        /* the body is sent from this memory, so it lives as long as the request */
        void **holder = h2o_mem_alloc_shared(&req->pool, sizeof(*holder), free_linked);
        *holder = body;
    }
    req->res.status = status_of(code);
    req->res.reason = code == 0 ? "OK" : "Error";
    if (code != 0) {
        char v[16];
        int n = snprintf(v, sizeof(v), "%d", code);
        h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-yc-error"), 0, NULL,
                              h2o_strdup(&req->pool, v, (size_t)n).base, (size_t)n);
    }
    req->res.content_length = len;
    h2o_start_response(req, &generator);
    h2o_send(req, &buf, len > 0 ? 1 : 0, H2O_SEND_STATE_FINAL);
}

static void job_done(yc_job_t *job)
{
    store_srv_job_t *j = (store_srv_job_t *)job;
    int64_t us = (yc_mono_ns() - j->started_ns) / 1000;

    if (j->auth_failure != NULL) {
        /* the peer's address finds a misconfigured node; the secret and signature never appear */
        struct sockaddr_storage ss;
        char addr[INET6_ADDRSTRLEN] = "-";
        socklen_t len = j->req->conn->callbacks->get_peername(j->req->conn, (struct sockaddr *)&ss);
        if (len > 0 && ss.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof(addr));
        else if (len > 0 && ss.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof(addr));
        yc_log(YC_LOG_WARN, "event=auth_rejected peer=%s reason=%s", addr, j->auth_failure);
    } else if (j->code != 0 && j->code != STORE_ENOENT && j->code != STORE_EAUTH)
        yc_log(YC_LOG_WARN, "event=request_failed method=%.*s op=%d drive=%s err=%s us=%lld",
               (int)j->req->input.method.len, j->req->input.method.base, j->op, j->drive != NULL ? j->drive->name : "-",
               yc_errname(j->code), (long long)us);
    respond(j->req, j->code, j->body, j->body_len);
}

/* ---------------------------------------------------------------- routing (loop) */

static int method_is(h2o_req_t *req, const char *m)
{
    return h2o_memis(req->input.method.base, req->input.method.len, m, strlen(m));
}

static int parse_u64(const char *p, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 19)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    *out = v;
    return 0;
}

static int parse_query(store_srv_job_t *j, const char *q, size_t len)
{
    while (len > 0) {
        const char *amp = memchr(q, '&', len);
        size_t plen = amp != NULL ? (size_t)(amp - q) : len;
        const char *eq = memchr(q, '=', plen);
        if (eq == NULL)
            return -1;
        size_t klen = (size_t)(eq - q), vlen = plen - klen - 1;
        const char *v = eq + 1;
        if (klen == 1 && q[0] == 'w') {
            if (vlen != STORE_NET_TOKEN_HEX || yc_unhex(v, 16, j->token) != 0)
                return -1;
            j->has_token = 1;
        } else if (klen == 1 && q[0] == 's') {
            if (parse_u64(v, vlen, &j->seq) != 0)
                return -1;
            j->has_seq = 1;
        } else if (klen == 3 && memcmp(q, "off", 3) == 0) {
            if (parse_u64(v, vlen, &j->off) != 0)
                return -1;
            j->has_off = 1;
        } else if (klen == 3 && memcmp(q, "len", 3) == 0) {
            if (parse_u64(v, vlen, &j->len) != 0)
                return -1;
            j->has_len = 1;
        }
        if (amp == NULL)
            break;
        len -= plen + 1;
        q = amp + 1;
    }
    return 0;
}

/* Splits the next '/'-separated segment off *p. */
static int next_segment(const char **p, const char *end, h2o_iovec_t *seg)
{
    if (*p >= end)
        return 0;
    const char *slash = memchr(*p, '/', (size_t)(end - *p));
    const char *stop = slash != NULL ? slash : end;
    *seg = h2o_iovec_init(*p, (size_t)(stop - *p));
    *p = slash != NULL ? slash + 1 : end;
    return 1;
}

static int seg_is(h2o_iovec_t seg, const char *s)
{
    return h2o_memis(seg.base, seg.len, s, strlen(s));
}

/* Fills j->op and its arguments from the target; j->route_err when it names nothing. */
static void route(store_server_t *s, store_srv_job_t *j)
{
    h2o_req_t *req = j->req;
    size_t plen = req->input.query_at != SIZE_MAX ? req->input.query_at : req->input.path.len;
    const char *p = req->input.path.base, *end = p + plen;
    h2o_iovec_t seg, a = {NULL, 0}, b = {NULL, 0}, c = {NULL, 0}, d = {NULL, 0};
    uint64_t index;

    j->route_err = STORE_EINVAL;
    if (plen < 4 || memcmp(p, "/v1/", 4) != 0)
        return;
    p += 4;
    if (!next_segment(&p, end, &seg))
        return;
    for (size_t i = 0; i < s->ndrives; i++)
        if (seg_is(seg, s->drives[i].name))
            j->drive = &s->drives[i];
    if (j->drive == NULL) {
        j->route_err = STORE_ENOENT;
        return;
    }
    next_segment(&p, end, &a);
    next_segment(&p, end, &b);
    next_segment(&p, end, &c);
    next_segment(&p, end, &d);
    if (p < end)
        return;
    if (req->input.query_at != SIZE_MAX && parse_query(j, req->input.path.base + req->input.query_at + 1,
                                                       req->input.path.len - req->input.query_at - 1) != 0)
        return;

    if (seg_is(a, "ping") && b.base == NULL && method_is(req, "GET")) {
        j->op = STORE_OP_PING;
    } else if (seg_is(a, "shards") && c.base != NULL) {
        if (b.len != 2 * META_ID_LEN || yc_unhex(b.base, META_ID_LEN, j->data_id) != 0 ||
            parse_u64(c.base, c.len, &index) != 0 || index > UINT32_MAX)
            return;
        j->index = (uint32_t)index;
        if (d.base == NULL)
            j->op = method_is(req, "GET")      ? STORE_OP_SHARD_READ
                    : method_is(req, "DELETE") ? STORE_OP_SHARD_DELETE
                                               : STORE_OP_BAD;
        else if (seg_is(d, "stat") && method_is(req, "GET"))
            j->op = STORE_OP_SHARD_STAT;
        else if (method_is(req, "POST"))
            j->op = seg_is(d, "create")   ? STORE_OP_SHARD_CREATE
                    : seg_is(d, "append") ? STORE_OP_SHARD_APPEND
                    : seg_is(d, "commit") ? STORE_OP_SHARD_COMMIT
                    : seg_is(d, "abort")  ? STORE_OP_SHARD_ABORT
                    : seg_is(d, "verify") ? STORE_OP_SHARD_VERIFY
                                          : STORE_OP_BAD;
    } else if (seg_is(a, "identity") && b.base == NULL) {
        j->op = method_is(req, "POST") ? STORE_OP_IDENTITY : STORE_OP_BAD;
    } else if (c.base == NULL && method_is(req, "POST")) {
        if (seg_is(a, "objects"))
            j->op = seg_is(b, "put")        ? STORE_OP_OBJECT_PUT
                    : seg_is(b, "prune")    ? STORE_OP_OBJECT_PRUNE
                    : seg_is(b, "takeback") ? STORE_OP_OBJECT_TAKEBACK
                    : seg_is(b, "get")      ? STORE_OP_OBJECT_GET
                    : seg_is(b, "delete")   ? STORE_OP_OBJECT_DELETE
                                            : STORE_OP_BAD;
        else if (seg_is(a, "records"))
            j->op = seg_is(b, "put")      ? STORE_OP_RECORD_PUT
                    : seg_is(b, "get")    ? STORE_OP_RECORD_GET
                    : seg_is(b, "delete") ? STORE_OP_RECORD_DELETE
                    : seg_is(b, "scan")   ? STORE_OP_RECORD_SCAN
                                          : STORE_OP_BAD;
        else if (seg_is(a, "locks"))
            j->op = seg_is(b, "acquire")   ? STORE_OP_LOCK_ACQUIRE
                    : seg_is(b, "release") ? STORE_OP_LOCK_RELEASE
                                           : STORE_OP_BAD;
    }
    if (j->op != STORE_OP_BAD)
        j->route_err = 0;
}

static int on_request(void *arg, h2o_req_t *req)
{
    store_server_t *s = arg;
    /* the job lives in the request's pool: it is done with before h2o disposes the request
     * (h2o's pool allocation aborts the process rather than fail, as h2o's own do) */
    store_srv_job_t *j = h2o_mem_alloc_pool(&req->pool, sizeof(*j));

    memset(j, 0, sizeof(*j));
    j->srv = s;
    j->req = req;
    j->started_ns = yc_mono_ns();
    route(s, j);
    j->job.run = job_run;
    j->job.done = job_done;
    j->job.loop = yc_server_loop_of(req);
    /* once stopped, the pool may be gone: nothing is submitted to it any more */
    pthread_rwlock_rdlock(&s->submit_lock);
    int refusing = s->refusing;
    if (!refusing)
        yc_pool_submit(s->pool, &j->job);
    pthread_rwlock_unlock(&s->submit_lock);
    if (refusing)
        respond(req, -ENOMEM, NULL, 0);
    return 0;
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
        stat(dir, &seen[i]); /* made just now when it was missing */
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
    /* the port before the drives: a second daemon started by mistake must not touch them */
    if ((ret = check_listen(cfg->listen_host, cfg->listen_port, why, whylen)) != 0)
        goto fail;
    if ((ret = open_drives(s, cfg, why, whylen)) != 0)
        goto fail;

    s->nloops = cfg->loops != 0 ? cfg->loops : (size_t)sysconf(_SC_NPROCESSORS_ONLN);
    if (s->nloops == 0 || s->nloops > 256)
        s->nloops = 1;
    yc_server_config_t http = {.name = "yc-store",
                               .max_request_entity_size = STORE_NET_MAX_BODY + 64 * 1024,
                               .req_timeout_ms = cfg->keepalive_ms != 0 ? cfg->keepalive_ms : KEEPALIVE_DEFAULT,
                               .on_request = on_request,
                               .arg = s};
    if ((ret = yc_server_new(&http, &s->http)) != 0)
        goto fail;
    if ((ret = yc_server_listen(s->http, cfg->listen_host, cfg->listen_port, s->nloops)) != 0) {
        store_set_why(why, whylen, "listen %s:%u: %s", cfg->listen_host, cfg->listen_port, strerror(-ret));
        goto fail;
    }
    if ((ret = store_writers_start_reaper(&s->writers)) != 0)
        goto fail;
    log_drives(s, cfg);
    start_orphan_collector(s, cfg->orphan_grace_s != 0 ? cfg->orphan_grace_s : 3600);

    if ((ret = yc_server_start(s->http)) != 0)
        goto fail;
    yc_log(YC_LOG_INFO, "event=started listen=%s:%u drives=%zu loops=%zu", cfg->listen_host, cfg->listen_port,
           s->ndrives, s->nloops);
    *out = s;
    return 0;

fail:
    /* a loop already running may touch the server: then it is left to the exit that follows */
    if (s->http == NULL || yc_server_started(s->http) == 0)
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
    if (s->secret != NULL)
        OPENSSL_cleanse(s->secret, s->secret_len);
    free(s->secret);
    free(s->drives);
    yc_server_free(s->http); /* left to the exit when its loops run */
    free(s);
}
