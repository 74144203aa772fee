/* server.c — the yc-store daemon: the drives of one disk node behind the network transport.
 *
 * Threads: one h2o event loop per core, each with its own SO_REUSEPORT listener (the kernel
 * spreads connections, no lock on the accept path; common/server.h). A loop only parses the
 * request line into a job and hands it to the worker pool; the worker authenticates the request
 * (its body hash and HMAC are CPU work proportional to a block, so they are kept off the loop
 * too), runs the drive call, and the job comes back through the loop's multithread queue to be
 * answered. h2o 2.2.5 has the whole body buffered before the handler runs, so a worker reads
 * req->entity while the loop leaves the request alone until the job is back.
 *
 * Shard writers live in a table keyed by a random 128-bit token, bound to the drive, data id
 * and index they were created for. A writer is used by one worker at a time (busy flag); each
 * append carries a sequence number so that a resent append is answered from memory instead of
 * being appended twice. A reaper thread aborts writers left idle (a gateway that died
 * mid-write) so that their temp files and descriptors do not pile up.
 *
 * Replay cache: a signature is accepted once. Accepted dates lie within ±5 minutes, so a
 * signature only has to be remembered while its date is inside the window: signatures are
 * kept in 12 generations, one per minute of their x-yc-date (the slot minute % 12 is recycled
 * only once the minute it held can no longer be accepted). A generation is an open-addressing
 * set of 64-bit fingerprints (the first 8 bytes of the HMAC, uniformly random to anyone
 * without the secret). Memory follows the request rate and is capped: past the cap requests
 * are refused with 503 rather than admitted unchecked.
 */
#include "store/server.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "common/server.h"
#include "common/clock.h"
#include "common/log.h"
#include "store/client_internal.h"
#include "store/store_internal.h"
#include "store/store.h"

#define WRITER_BUCKETS       1024
#define WRITERS_MAX          65536
#define WRITER_IDLE_DEFAULT  120000
#define KEEPALIVE_DEFAULT    30000
#define REPLAY_GENERATIONS   12
#define REPLAY_GEN_SLOTS_MAX (1u << 22) /* 4M slots (32 MiB) per minute of dates, 2M signatures */

typedef struct {
    char name[STORE_NET_DRIVE_NAME_MAX + 1];
    store_drive_t *drive;
    store_identity_t *identity;
    int misplace_logged; /* a refused placement is logged once, not at every probe (atomic) */
} served_drive_t;

typedef struct srv_writer srv_writer_t;
struct srv_writer {
    srv_writer_t *next;
    uint8_t token[16];
    served_drive_t *drive;
    uint8_t data_id[META_ID_LEN];
    uint32_t index;
    store_shard_writer_t *w;
    uint64_t last_seq;
    int last_ret;
    int busy;
    int64_t used_ns;
};

typedef struct {
    int64_t minute; /* minute of the dates held, -1 when empty */
    uint64_t *slots;
    size_t cap, count;
} replay_gen_t;

struct store_server {
    served_drive_t *drives;
    size_t ndrives;
    uint8_t *secret;
    size_t secret_len;
    yc_pool_t *pool;
    yc_server_t *http; /* the h2o configuration, loops and listeners */
    size_t nloops;
    uint32_t writer_idle_ms;

    pthread_mutex_t writers_mutex;
    srv_writer_t *writers[WRITER_BUCKETS];
    size_t nwriters;

    pthread_mutex_t replay_mutex;
    replay_gen_t replay[REPLAY_GENERATIONS];

    pthread_rwlock_t submit_lock; /* held shared while a loop submits, exclusively to stop */
    int refusing;                 /* stopped: requests are answered 503 on the loop */

    store_gc_t *gc; /* the orphan collector started with the server */

    pthread_t reaper;
    int reaper_started;
    pthread_mutex_t reaper_mutex;
    pthread_cond_t reaper_cond;
    int stopping;
};

enum {
    OP_BAD,
    OP_PING,
    OP_SHARD_CREATE,
    OP_SHARD_APPEND,
    OP_SHARD_COMMIT,
    OP_SHARD_ABORT,
    OP_SHARD_READ,
    OP_SHARD_STAT,
    OP_SHARD_DELETE,
    OP_SHARD_VERIFY,
    OP_OBJECT_PUT,
    OP_OBJECT_PRUNE,
    OP_OBJECT_GET,
    OP_OBJECT_DELETE,
    OP_RECORD_PUT,
    OP_RECORD_GET,
    OP_RECORD_DELETE,
    OP_RECORD_SCAN,
    OP_LOCK_ACQUIRE,
    OP_LOCK_RELEASE,
    OP_IDENTITY,
};

/* One request on its way through a worker. */
typedef struct {
    yc_job_t job; /* first: the pool and the queue link jobs through it */
    store_server_t *srv;
    h2o_req_t *req;
    int op;
    int route_err; /* set when the target names no drive or no operation */
    served_drive_t *drive;
    uint8_t data_id[META_ID_LEN];
    uint32_t index;
    /* query parameters */
    uint8_t token[16];
    int has_token, has_seq, has_off, has_len;
    uint64_t seq, off, len;
    /* the answer */
    int code;
    uint8_t *body; /* malloc'd; freed with the request's pool */
    size_t body_len;
    const char *auth_failure; /* why authentication failed, for the log */
    int64_t started_ns;
} srv_job_t;

/* ---------------------------------------------------------------- replay cache */

/* 1 when fp was already accepted for this date's minute, 0 when it is recorded now, -1 when
 * the cache is full or out of memory. */
static int replay_check_insert(store_server_t *s, int64_t date, uint64_t fp)
{
    int64_t minute = date / 60;
    replay_gen_t *g = &s->replay[(size_t)(minute % REPLAY_GENERATIONS)];
    int ret = -1;

    fp |= 1; /* 0 marks an empty slot */
    pthread_mutex_lock(&s->replay_mutex);
    if (g->minute != minute) {
        /* the minute this slot held is outside the window by now (see the file comment) */
        free(g->slots);
        *g = (replay_gen_t){.minute = minute};
    }
    if (g->cap == 0 || (g->count + 1) * 2 > g->cap) {
        size_t ncap = g->cap == 0 ? 1024 : g->cap * 2;
        uint64_t *ns;
        if (ncap > REPLAY_GEN_SLOTS_MAX || (ns = calloc(ncap, sizeof(*ns))) == NULL)
            goto done;
        for (size_t i = 0; i < g->cap; i++) {
            if (g->slots[i] == 0)
                continue;
            size_t j = (size_t)(g->slots[i] >> 7) & (ncap - 1);
            while (ns[j] != 0)
                j = (j + 1) & (ncap - 1);
            ns[j] = g->slots[i];
        }
        free(g->slots);
        g->slots = ns;
        g->cap = ncap;
    }
    size_t j = (size_t)(fp >> 7) & (g->cap - 1);
    while (g->slots[j] != 0) {
        if (g->slots[j] == fp) {
            ret = 1;
            goto done;
        }
        j = (j + 1) & (g->cap - 1);
    }
    g->slots[j] = fp;
    g->count++;
    ret = 0;
done:
    pthread_mutex_unlock(&s->replay_mutex);
    return ret;
}

/* ---------------------------------------------------------------- writer table */

static size_t token_bucket(const uint8_t token[16])
{
    return ((size_t)token[0] | (size_t)token[1] << 8) & (WRITER_BUCKETS - 1);
}

static srv_writer_t **writer_find(store_server_t *s, const uint8_t token[16])
{
    srv_writer_t **p = &s->writers[token_bucket(token)];
    while (*p != NULL && CRYPTO_memcmp((*p)->token, token, 16) != 0)
        p = &(*p)->next;
    return p;
}

static int writer_matches(const srv_writer_t *w, const srv_job_t *j)
{
    return w->drive == j->drive && w->index == j->index && memcmp(w->data_id, j->data_id, META_ID_LEN) == 0;
}

static int writer_add(store_server_t *s, srv_writer_t *w)
{
    int ret = 0;
    pthread_mutex_lock(&s->writers_mutex);
    if (s->nwriters >= WRITERS_MAX) {
        ret = STORE_EIO;
    } else {
        size_t b = token_bucket(w->token);
        w->next = s->writers[b];
        s->writers[b] = w;
        s->nwriters++;
    }
    pthread_mutex_unlock(&s->writers_mutex);
    return ret;
}

/* Marks the job's writer busy and returns it; NULL with *err when there is none (or it is
 * in use, which only a confused client causes). */
static srv_writer_t *writer_acquire(store_server_t *s, const srv_job_t *j, int *err)
{
    srv_writer_t *w;
    pthread_mutex_lock(&s->writers_mutex);
    w = *writer_find(s, j->token);
    if (w == NULL || !writer_matches(w, j)) {
        *err = STORE_ENOENT;
        w = NULL;
    } else if (w->busy) {
        *err = STORE_EIO;
        w = NULL;
    } else {
        w->busy = 1;
    }
    pthread_mutex_unlock(&s->writers_mutex);
    return w;
}

static void writer_release(store_server_t *s, srv_writer_t *w)
{
    pthread_mutex_lock(&s->writers_mutex);
    w->busy = 0;
    w->used_ns = yc_mono_ns();
    pthread_mutex_unlock(&s->writers_mutex);
}

/* Takes the job's writer out of the table for commit or abort. */
static srv_writer_t *writer_take(store_server_t *s, const srv_job_t *j, int *err)
{
    srv_writer_t **p, *w;
    pthread_mutex_lock(&s->writers_mutex);
    p = writer_find(s, j->token);
    w = *p;
    if (w == NULL || !writer_matches(w, j)) {
        *err = STORE_ENOENT;
        w = NULL;
    } else if (w->busy) {
        *err = STORE_EIO;
        w = NULL;
    } else {
        *p = w->next;
        s->nwriters--;
    }
    pthread_mutex_unlock(&s->writers_mutex);
    return w;
}

static void *reaper_main(void *arg)
{
    store_server_t *s = arg;

    pthread_mutex_lock(&s->reaper_mutex);
    while (!s->stopping) {
        struct timespec until;
        yc_deadline(CLOCK_REALTIME, 1000000000, &until);
        pthread_cond_timedwait(&s->reaper_cond, &s->reaper_mutex, &until);
        pthread_mutex_unlock(&s->reaper_mutex);

        srv_writer_t *idle = NULL;
        int64_t now = yc_mono_ns(), limit = (int64_t)s->writer_idle_ms * 1000000;
        pthread_mutex_lock(&s->writers_mutex);
        for (size_t b = 0; b < WRITER_BUCKETS; b++) {
            for (srv_writer_t **p = &s->writers[b]; *p != NULL;) {
                srv_writer_t *w = *p;
                if (!w->busy && now - w->used_ns > limit) {
                    *p = w->next;
                    s->nwriters--;
                    w->next = idle;
                    idle = w;
                } else {
                    p = &w->next;
                }
            }
        }
        pthread_mutex_unlock(&s->writers_mutex);
        /* aborting unlinks a temp file: done outside the table's lock */
        while (idle != NULL) {
            srv_writer_t *w = idle;
            idle = w->next;
            yc_log(YC_LOG_WARN, "event=writer_expired drive=%s index=%u", w->drive->name, w->index);
            store_shard_abort(w->w);
            free(w);
        }
        pthread_mutex_lock(&s->reaper_mutex);
    }
    pthread_mutex_unlock(&s->reaper_mutex);
    return NULL;
}

/* ---------------------------------------------------------------- authentication */

static h2o_iovec_t header_of(h2o_req_t *req, const char *name, size_t len)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, len, -1);
    return i < 0 ? h2o_iovec_init(NULL, 0) : req->headers.entries[i].value;
}

static int is_hex(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return 0;
    return 1;
}

/* 0 when the request is signed with the cluster secret, fresh and new; STORE_EAUTH, or
 * STORE_EIO when the replay cache cannot take it. */
static int authenticate(store_server_t *s, h2o_req_t *req, const char **why)
{
    h2o_iovec_t date = header_of(req, H2O_STRLIT("x-yc-date"));
    h2o_iovec_t nonce = header_of(req, H2O_STRLIT("x-yc-nonce"));
    h2o_iovec_t sig = header_of(req, H2O_STRLIT("x-yc-signature"));
    char body_hash[65], expect[STORE_NET_SIG_HEX + 1];
    int64_t d = 0;
    uint8_t fp_raw[8];

    if (date.len == 0 || date.len > 12 || nonce.len != STORE_NET_NONCE_HEX || sig.len != STORE_NET_SIG_HEX ||
        !is_hex(nonce.base, nonce.len)) {
        *why = "missing_headers";
        return STORE_EAUTH;
    }
    for (size_t i = 0; i < date.len; i++) {
        if (date.base[i] < '0' || date.base[i] > '9') {
            *why = "bad_date";
            return STORE_EAUTH;
        }
        d = d * 10 + (date.base[i] - '0');
    }
    int64_t now = (int64_t)time(NULL);
    if (d < now - STORE_NET_SKEW_SECONDS || d > now + STORE_NET_SKEW_SECONDS) {
        *why = "clock_skew";
        return STORE_EAUTH;
    }
    const void *body = req->entity.base != NULL ? req->entity.base : "";
    size_t body_len = req->entity.base != NULL ? req->entity.len : 0;
    store_net_body_hash(&body, &body_len, 1, body_hash);
    store_net_sign(s->secret, s->secret_len, req->input.method.base, req->input.method.len, req->input.path.base,
                   req->input.path.len, date.base, date.len, nonce.base, nonce.len, body_hash, expect);
    if (CRYPTO_memcmp(expect, sig.base, STORE_NET_SIG_HEX) != 0) {
        *why = "bad_signature";
        return STORE_EAUTH;
    }
    /* the signature matched, so it is valid hex */
    yc_unhex(sig.base, sizeof(fp_raw), fp_raw);
    switch (replay_check_insert(s, d, yc_get_le64(fp_raw))) {
    case 0:
        return 0;
    case 1:
        *why = "replay";
        return STORE_EAUTH;
    default:
        *why = "replay_cache_full";
        return STORE_EIO;
    }
}

/* ---------------------------------------------------------------- operations (workers) */

static int answer_bytes(srv_job_t *j, const void *p, size_t len)
{
    if ((j->body = malloc(len > 0 ? len : 1)) == NULL)
        return -ENOMEM;
    memcpy(j->body, p, len);
    j->body_len = len;
    return 0;
}

static h2o_iovec_t entity(const srv_job_t *j)
{
    return j->req->entity.base != NULL ? j->req->entity : h2o_iovec_init("", 0);
}

static int op_shard_create(store_server_t *s, srv_job_t *j)
{
    srv_writer_t *w = calloc(1, sizeof(*w));
    char hex[STORE_NET_TOKEN_HEX + 1];
    int ret;

    if (w == NULL)
        return -ENOMEM;
    if (RAND_bytes(w->token, sizeof(w->token)) != 1) {
        free(w);
        return STORE_EIO;
    }
    if ((ret = store_shard_create(j->drive->drive, j->data_id, j->index, &w->w)) != 0) {
        free(w);
        return ret;
    }
    w->drive = j->drive;
    memcpy(w->data_id, j->data_id, META_ID_LEN);
    w->index = j->index;
    w->used_ns = yc_mono_ns();
    yc_hex(w->token, sizeof(w->token), hex);
    if ((ret = answer_bytes(j, hex, STORE_NET_TOKEN_HEX)) != 0 || (ret = writer_add(s, w)) != 0) {
        store_shard_abort(w->w);
        free(w);
        return ret;
    }
    return 0;
}

static int op_shard_append(store_server_t *s, srv_job_t *j)
{
    h2o_iovec_t block = entity(j);
    srv_writer_t *w;
    int ret;

    if (!j->has_token || !j->has_seq)
        return STORE_EINVAL;
    if ((w = writer_acquire(s, j, &ret)) == NULL)
        return ret;
    if (j->seq == w->last_seq) {
        ret = w->last_ret; /* a resend whose first answer was lost */
    } else if (j->seq == w->last_seq + 1) {
        ret = store_shard_append(w->w, block.base, block.len);
        w->last_seq = j->seq;
        w->last_ret = ret;
    } else {
        ret = STORE_EINVAL;
    }
    writer_release(s, w);
    return ret;
}

static int op_shard_end(store_server_t *s, srv_job_t *j, int commit)
{
    srv_writer_t *w;
    int ret;

    if (!j->has_token)
        return STORE_EINVAL;
    if ((w = writer_take(s, j, &ret)) == NULL)
        return commit || ret != STORE_ENOENT ? ret : 0; /* aborting what is gone is done */
    if (commit) {
        ret = store_shard_commit(w->w);
    } else {
        store_shard_abort(w->w);
        ret = 0;
    }
    free(w);
    return ret;
}

static int op_shard_read(srv_job_t *j)
{
    int ret;
    if (!j->has_off || !j->has_len || j->len > STORE_NET_MAX_BODY)
        return STORE_EINVAL;
    if ((j->body = malloc(j->len > 0 ? j->len : 1)) == NULL)
        return -ENOMEM;
    if ((ret = store_shard_read(j->drive->drive, j->data_id, j->index, j->off, j->len, j->body)) != 0)
        return ret;
    j->body_len = j->len;
    return 0;
}

static int op_shard_stat(srv_job_t *j)
{
    uint8_t raw[8];
    uint64_t size;
    int ret = store_shard_stat(j->drive->drive, j->data_id, j->index, &size);
    if (ret != 0)
        return ret;
    yc_put_le64(raw, size);
    return answer_bytes(j, raw, sizeof(raw));
}

/* Reads lp(x) at *pos of body; STORE_EINVAL when it does not fit. */
static int take_lp(h2o_iovec_t body, size_t *pos, size_t max, meta_bytes_t *out)
{
    uint32_t len;
    if (body.len - *pos < 4 || (len = yc_get_le32((const uint8_t *)body.base + *pos)) > body.len - *pos - 4 ||
        len > max)
        return STORE_EINVAL;
    out->base = body.base + *pos + 4;
    out->len = len;
    *pos += 4 + len;
    return 0;
}

static int take_key(h2o_iovec_t body, size_t *pos, meta_key_t *key)
{
    meta_bytes_t b;
    int ret;
    if ((ret = take_lp(body, pos, META_ENCODED_KEY_MAX, &b)) != 0)
        return ret;
    memcpy(key->buf, b.base, b.len);
    key->len = b.len;
    return 0;
}

static int op_object_record(srv_job_t *j, int prune)
{
    h2o_iovec_t body = entity(j);
    meta_object_t r;
    int ret = meta_object_decode(body.base, body.len, &r);

    if (ret != 0)
        return ret == META_ECORRUPT ? STORE_EINVAL : STORE_EIO;
    return prune ? store_object_prune(j->drive->drive, &r) : store_object_put(j->drive->drive, &r);
}

static int op_object_ref(srv_job_t *j, int get)
{
    h2o_iovec_t body = entity(j);
    meta_bytes_t bucket, key;
    const uint8_t *vid = NULL;
    size_t pos = 0;
    int ret;

    if ((ret = take_lp(body, &pos, META_NS_MAX, &bucket)) != 0 || (ret = take_lp(body, &pos, META_KEY_MAX, &key)) != 0)
        return ret;
    if (body.len - pos < 1 || (body.base[pos] == 1 && body.len - pos != 1 + META_ID_LEN) ||
        (body.base[pos] == 0 && body.len - pos != 1) || (uint8_t)body.base[pos] > 1)
        return STORE_EINVAL;
    if (body.base[pos] == 1)
        vid = (const uint8_t *)body.base + pos + 1;
    if (!get)
        return store_object_delete(j->drive->drive, bucket, key, vid);

    meta_buf_t raw = {0};
    meta_object_t r;
    if ((ret = store_object_get(j->drive->drive, bucket, key, vid, &raw, &r)) != 0)
        return ret;
    /* the record's bytes become the answer as they are */
    j->body = raw.base;
    j->body_len = raw.len;
    return 0;
}

static int op_record_put(srv_job_t *j)
{
    h2o_iovec_t body = entity(j);
    meta_key_t key;
    size_t pos = 0;
    int ret = take_key(body, &pos, &key);
    if (ret != 0)
        return ret;
    return store_record_put(j->drive->drive, &key, body.base + pos, body.len - pos);
}

static int op_record_key(srv_job_t *j, int get)
{
    h2o_iovec_t body = entity(j);
    meta_key_t key;
    void *val;
    size_t vlen;
    int ret;

    if (body.len > META_ENCODED_KEY_MAX)
        return STORE_EINVAL;
    memcpy(key.buf, body.base, body.len);
    key.len = body.len;
    if (!get)
        return store_record_delete(j->drive->drive, &key);
    if ((ret = store_record_get(j->drive->drive, &key, &val, &vlen)) != 0)
        return ret;
    j->body = val;
    j->body_len = vlen;
    return 0;
}

typedef struct {
    meta_buf_t out;
    const meta_key_t *after; /* a key to skip: the last one of the previous page */
    size_t count, limit;
    int more, err;
} scan_page_t;

static int page_append(scan_page_t *p, const void *data, size_t len)
{
    if (p->out.len + len > p->out.cap) {
        size_t ncap = p->out.cap ? p->out.cap * 2 : 4096;
        while (ncap < p->out.len + len)
            ncap *= 2;
        uint8_t *nb = realloc(p->out.base, ncap);
        if (nb == NULL)
            return -ENOMEM;
        p->out.base = nb;
        p->out.cap = ncap;
    }
    memcpy(p->out.base + p->out.len, data, len);
    p->out.len += len;
    return 0;
}

static int page_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    scan_page_t *p = arg;
    uint8_t lp[4];

    if (p->after != NULL && klen == p->after->len && memcmp(key, p->after->buf, klen) == 0)
        return 0;
    p->after = NULL; /* keys only grow: once past it, nothing else can equal it */
    if (p->count == STORE_NET_SCAN_PAGE || p->out.len >= STORE_NET_SCAN_BYTES) {
        p->more = 1;
        return 1;
    }
    if (klen > UINT32_MAX || vlen > UINT32_MAX) {
        p->err = STORE_ECORRUPT;
        return p->err;
    }
    yc_put_le32(lp, (uint32_t)klen);
    if (page_append(p, lp, 4) != 0 || page_append(p, key, klen) != 0)
        goto nomem;
    yc_put_le32(lp, (uint32_t)vlen);
    if (page_append(p, lp, 4) != 0 || page_append(p, val, vlen) != 0)
        goto nomem;
    p->count++;
    return p->limit != 0 && p->count == p->limit ? 1 : 0;

nomem:
    p->err = -ENOMEM;
    return p->err;
}

static int op_record_scan(srv_job_t *j)
{
    h2o_iovec_t body = entity(j);
    meta_key_t prefix, seek;
    scan_page_t page = {.out = {0}};
    size_t pos = 0;
    uint8_t mode;
    int ret;

    if ((ret = take_key(body, &pos, &prefix)) != 0)
        return ret;
    if (body.len - pos < 1 || (mode = (uint8_t)body.base[pos++]) > 2 || (ret = take_key(body, &pos, &seek)) != 0 ||
        body.len - pos != 8)
        return STORE_EINVAL;
    page.limit = (size_t)yc_get_le64((const uint8_t *)body.base + pos);
    if (mode == 2)
        page.after = &seek;
    if ((ret = page_append(&page, "", 1)) != 0) /* room for the `more` byte */
        goto fail;
    ret = store_record_scan(j->drive->drive, &prefix, mode != 0 ? &seek : NULL, 0, page_cb, &page);
    if (page.err != 0)
        ret = page.err;
    if (ret != 0)
        goto fail;
    page.out.base[0] = (uint8_t)page.more;
    j->body = page.out.base;
    j->body_len = page.out.len;
    return 0;

fail:
    meta_buf_dispose(&page.out);
    return ret;
}

/* lp(name) owner[16] [le64 lease_ns]: the lease only for an acquire. */
static int op_lock(srv_job_t *j, int acquire)
{
    h2o_iovec_t body = entity(j);
    meta_bytes_t name;
    size_t pos = 0;
    int ret;

    if ((ret = take_lp(body, &pos, META_LOCK_NAME_MAX, &name)) != 0)
        return ret;
    if (body.len - pos != META_ID_LEN + (acquire ? 8u : 0u))
        return STORE_EINVAL;
    const uint8_t *owner = (const uint8_t *)body.base + pos;
    if (!acquire)
        return store_lock_release(j->drive->drive, name, owner);
    uint64_t lease = yc_get_le64(owner + META_ID_LEN);
    if (lease == 0 || lease > (uint64_t)INT64_MAX)
        return STORE_EINVAL;
    return store_lock_acquire(j->drive->drive, name, owner, (int64_t)lease);
}

/* ---------------------------------------------------------------- drive identity (workers) */

/* POST identity: the body is empty (just read) or a placement (cluster id, set, slot) that is
 * recorded when the drive has none. The answer is the drive's identity either way: the gateway
 * compares it with what it expects, so a refused placement is not an error here. */
static int op_identity(srv_job_t *j)
{
    h2o_iovec_t body = entity(j);
    store_identity_info_t want, info;
    char text[STORE_IDENTITY_TEXT_MAX];
    size_t len = 0;
    int ret;

    if (body.len > 0) {
        if (store_identity_decode(body.base, body.len, &want) != 0 || !want.placed)
            return STORE_EINVAL;
        ret = store_identity_place(j->drive->identity, want.cluster_id, want.set, want.slot, &info);
        if (ret == STORE_EIDENTITY && !__atomic_exchange_n(&j->drive->misplace_logged, 1, __ATOMIC_RELAXED)) {
            yc_log(YC_LOG_WARN,
                   "event=placement_refused drive=%s placed_set=%u placed_slot=%u asked_set=%u asked_slot=%u "
                   "same_cluster=%s",
                   j->drive->name, info.set, info.slot, want.set, want.slot,
                   memcmp(info.cluster_id, want.cluster_id, STORE_ID_LEN) == 0 ? "yes" : "no");
        } else if (ret != 0 && ret != STORE_EIDENTITY) {
            return ret;
        }
    } else {
        store_identity_get(j->drive->identity, &info);
    }
    if ((ret = store_identity_encode(&info, text, sizeof(text), &len)) != 0)
        return ret;
    return answer_bytes(j, text, len);
}

static int run_op(store_server_t *s, srv_job_t *j)
{
    switch (j->op) {
    case OP_PING:
        return 0;
    case OP_SHARD_CREATE:
        return op_shard_create(s, j);
    case OP_SHARD_APPEND:
        return op_shard_append(s, j);
    case OP_SHARD_COMMIT:
        return op_shard_end(s, j, 1);
    case OP_SHARD_ABORT:
        return op_shard_end(s, j, 0);
    case OP_SHARD_READ:
        return op_shard_read(j);
    case OP_SHARD_STAT:
        return op_shard_stat(j);
    case OP_SHARD_DELETE:
        return store_shard_delete(j->drive->drive, j->data_id, j->index);
    case OP_SHARD_VERIFY:
        return store_shard_verify(j->drive->drive, j->data_id, j->index);
    case OP_OBJECT_PUT:
        return op_object_record(j, 0);
    case OP_OBJECT_PRUNE:
        return op_object_record(j, 1);
    case OP_OBJECT_GET:
        return op_object_ref(j, 1);
    case OP_OBJECT_DELETE:
        return op_object_ref(j, 0);
    case OP_RECORD_PUT:
        return op_record_put(j);
    case OP_RECORD_GET:
        return op_record_key(j, 1);
    case OP_RECORD_DELETE:
        return op_record_key(j, 0);
    case OP_RECORD_SCAN:
        return op_record_scan(j);
    case OP_LOCK_ACQUIRE:
        return op_lock(j, 1);
    case OP_LOCK_RELEASE:
        return op_lock(j, 0);
    case OP_IDENTITY:
        return op_identity(j);
    default:
        return STORE_EINVAL;
    }
}

static void job_run(yc_job_t *job)
{
    srv_job_t *j = (srv_job_t *)job;
    const char *why = NULL;

    if ((j->code = authenticate(j->srv, j->req, &why)) != 0) {
        j->auth_failure = why;
        return;
    }
    if (j->route_err != 0) {
        j->code = j->route_err;
        return;
    }
    if ((j->code = run_op(j->srv, j)) != 0) {
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
    srv_job_t *j = (srv_job_t *)job;
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
    free(j);
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

static int parse_query(srv_job_t *j, const char *q, size_t len)
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
static void route(store_server_t *s, srv_job_t *j)
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
        j->op = OP_PING;
    } else if (seg_is(a, "shards") && c.base != NULL) {
        if (b.len != 2 * META_ID_LEN || yc_unhex(b.base, META_ID_LEN, j->data_id) != 0 ||
            parse_u64(c.base, c.len, &index) != 0 || index > UINT32_MAX)
            return;
        j->index = (uint32_t)index;
        if (d.base == NULL)
            j->op = method_is(req, "GET") ? OP_SHARD_READ : method_is(req, "DELETE") ? OP_SHARD_DELETE : OP_BAD;
        else if (seg_is(d, "stat") && method_is(req, "GET"))
            j->op = OP_SHARD_STAT;
        else if (method_is(req, "POST"))
            j->op = seg_is(d, "create")   ? OP_SHARD_CREATE
                    : seg_is(d, "append") ? OP_SHARD_APPEND
                    : seg_is(d, "commit") ? OP_SHARD_COMMIT
                    : seg_is(d, "abort")  ? OP_SHARD_ABORT
                    : seg_is(d, "verify") ? OP_SHARD_VERIFY
                                          : OP_BAD;
    } else if (seg_is(a, "identity") && b.base == NULL) {
        j->op = method_is(req, "POST") ? OP_IDENTITY : OP_BAD;
    } else if (c.base == NULL && method_is(req, "POST")) {
        if (seg_is(a, "objects"))
            j->op = seg_is(b, "put")      ? OP_OBJECT_PUT
                    : seg_is(b, "prune")  ? OP_OBJECT_PRUNE
                    : seg_is(b, "get")    ? OP_OBJECT_GET
                    : seg_is(b, "delete") ? OP_OBJECT_DELETE
                                          : OP_BAD;
        else if (seg_is(a, "records"))
            j->op = seg_is(b, "put")      ? OP_RECORD_PUT
                    : seg_is(b, "get")    ? OP_RECORD_GET
                    : seg_is(b, "delete") ? OP_RECORD_DELETE
                    : seg_is(b, "scan")   ? OP_RECORD_SCAN
                                          : OP_BAD;
        else if (seg_is(a, "locks"))
            j->op = seg_is(b, "acquire") ? OP_LOCK_ACQUIRE : seg_is(b, "release") ? OP_LOCK_RELEASE : OP_BAD;
    }
    if (j->op != OP_BAD)
        j->route_err = 0;
}

static int on_request(void *arg, h2o_req_t *req)
{
    store_server_t *s = arg;
    srv_job_t *j = calloc(1, sizeof(*j));

    if (j == NULL) {
        respond(req, -ENOMEM, NULL, 0);
        return 0;
    }
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
    if (refusing) {
        free(j);
        respond(req, -ENOMEM, NULL, 0);
    }
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
    pthread_mutex_init(&s->writers_mutex, NULL);
    pthread_mutex_init(&s->replay_mutex, NULL);
    pthread_mutex_init(&s->reaper_mutex, NULL);
    pthread_cond_init(&s->reaper_cond, NULL);
    pthread_rwlock_init(&s->submit_lock, NULL);
    for (size_t i = 0; i < REPLAY_GENERATIONS; i++)
        s->replay[i].minute = -1;
    s->pool = cfg->pool;
    s->writer_idle_ms = cfg->writer_idle_ms != 0 ? cfg->writer_idle_ms : WRITER_IDLE_DEFAULT;
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
    if (pthread_create(&s->reaper, NULL, reaper_main, s) != 0) {
        ret = -EAGAIN;
        goto fail;
    }
    s->reaper_started = 1;
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
    if (s->reaper_started) {
        pthread_mutex_lock(&s->reaper_mutex);
        s->stopping = 1;
        pthread_cond_signal(&s->reaper_cond);
        pthread_mutex_unlock(&s->reaper_mutex);
        pthread_join(s->reaper, NULL);
    }
    for (size_t b = 0; b < WRITER_BUCKETS; b++) {
        while (s->writers[b] != NULL) {
            srv_writer_t *w = s->writers[b];
            s->writers[b] = w->next;
            store_shard_abort(w->w);
            free(w);
        }
    }
    for (size_t i = 0; i < s->ndrives; i++) {
        store_drive_close(s->drives[i].drive);
        store_identity_close(s->drives[i].identity); /* after the engine: the lock covers it */
    }
    for (size_t i = 0; i < REPLAY_GENERATIONS; i++)
        free(s->replay[i].slots);
    if (s->secret != NULL)
        OPENSSL_cleanse(s->secret, s->secret_len);
    free(s->secret);
    free(s->drives);
    yc_server_free(s->http); /* left to the exit when its loops run */
    free(s);
}
