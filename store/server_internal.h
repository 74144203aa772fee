/* server_internal.h — what the files of the yc-store daemon share (the design is in server.c):
 *
 *   server.c          start-up and shut-down, the loops, routing, a request's job and its answer
 *   server_answer.c   answers (status, x-yc-error) and handing work to the workers
 *   server_auth.c     authentication of a request from its head, the body's hash, the replay cache
 *   server_route.c    a request's target into its operation and arguments
 *   server_stream.c   the streamed operations: shard appends in, shard reads out
 *   server_writers.c  the table of open shard writers, and the reaper of idle ones
 *   server_ops.c      the operations with small bodies, run on the workers
 *
 * server.c uses the others; server_stream.c uses the answers and the writer table, server_ops.c
 * the writer table.
 */
#ifndef YC_STORE_SERVER_INTERNAL_H
#define YC_STORE_SERVER_INTERNAL_H
#include <h2o.h>
#include <pthread.h>
#include <stdint.h>
#include "common/pool.h"
#include "common/http.h"
#include <stdatomic.h>
#include "store/client_internal.h"
#include "store/server.h"
#include "store/store.h"

/* One drive of the node, as the wire names it. */
typedef struct {
    char name[STORE_NET_DRIVE_NAME_MAX + 1];
    uint8_t drive_id[STORE_ID_LEN]; /* what a request must be bound to (x-yc-drive-id) */
    store_drive_t *drive;
    store_identity_t *identity;
    int misplace_logged; /* a refused placement is logged once, not at every probe (atomic) */
} store_served_drive_t;

/* ---- replay cache (server_auth.c) ---- */

#define STORE_REPLAY_GENERATIONS 12

typedef struct {
    int64_t minute; /* minute of the dates held, -1 when empty */
    uint64_t *slots;
    size_t cap, count;
} store_replay_gen_t;

typedef struct {
    pthread_mutex_t mutex;
    store_replay_gen_t gens[STORE_REPLAY_GENERATIONS];
} store_replay_t;

/* ---- shard writers (server_writers.c) ---- */

#define STORE_WRITER_BUCKETS 1024

/* An open shard writer under its token, bound to the drive, data id and index it was created for. */
typedef struct store_srv_writer store_srv_writer_t;
struct store_srv_writer {
    store_srv_writer_t *next;
    uint8_t token[16];
    store_served_drive_t *drive;
    uint8_t data_id[META_ID_LEN];
    uint32_t index;
    store_shard_writer_t *w;
    uint64_t last_seq; /* the last append applied, and its result: a resend is answered from these */
    int last_ret;
    int busy;        /* a worker is using it (under the table's mutex) */
    int64_t used_ns; /* when a call last let go of it (monotonic) */
};

typedef struct {
    pthread_mutex_t mutex;
    store_srv_writer_t *buckets[STORE_WRITER_BUCKETS];
    size_t count;
    uint32_t idle_ms; /* a writer unused for this long is aborted by the reaper */
    pthread_t reaper;
    int reaper_started;
    pthread_mutex_t reaper_mutex;
    pthread_cond_t reaper_cond;
    int stopping;
} store_writers_t;

/* ---- the daemon ---- */

/* One event loop: its thread, listener, HTTP server (common/http.h) and queue of finished jobs. */
typedef struct {
    store_server_t *srv;
    pthread_t tid;
    int fd;             /* its listening socket until its server owns it */
    h2o_loop_t *evloop; /* made on the loop's thread, like everything of h2o it owns */
    yc_loop_t loop;
    yc_http_server_t *http;
} store_loop_t;

/* Counters of the daemon (GET /stats), readable from any thread. */
typedef struct {
    atomic_uint_fast64_t requests;           /* requests whose head was read */
    atomic_uint_fast64_t auth_refused;       /* refused by authentication, from the head */
    atomic_uint_fast64_t refused_body;       /* body bytes taken in for requests refused by it: 0 */
    atomic_uint_fast64_t body_mismatch;      /* bodies whose SHA-256 was not the one signed */
    atomic_uint_fast64_t rolled_back;        /* shard writes dropped because of it */
    atomic_uint_fast64_t streamed_in;        /* shard bytes written as they arrived */
    atomic_uint_fast64_t streamed_out;       /* shard bytes sent as they were read */
    atomic_uint_fast64_t stream_buffers_max; /* most bytes of stream buffers held by one request */
    atomic_uint_fast64_t wrong_drive;        /* signed for another drive (or unbound where binding is due) */
} store_server_stats_t;

struct store_server {
    store_served_drive_t *drives;
    size_t ndrives;
    uint8_t *secret;
    size_t secret_len;
    store_net_key_t *sign_key;      /* the cluster secret's, to check request signatures */
    store_net_key_t *answer_key;    /* the key every answer's tag comes from (net_mac.c) */
    uint8_t answer_nonce_prefix[8]; /* random per start; with the counter, every answer's nonce */
    atomic_uint_fast64_t answer_nonce_seq;
    yc_pool_t *pool;
    store_loop_t *loops;
    size_t nloops, started;
    yc_http_config_t http_cfg; /* every loop's server gets a copy, its loop as arg */
    size_t small_body_max;     /* the largest body read whole (records, locks, identity) */
    size_t stream_buffer;      /* the size of each of a streamed request's two buffers */
    pthread_mutex_t ready_mutex;
    pthread_cond_t ready_cond;
    size_t ready; /* loops that serve, or failed to (ready_failed) */
    int ready_failed;
    store_server_stats_t stats;
    store_writers_t writers;
    store_replay_t replay;
    pthread_rwlock_t submit_lock; /* held shared while a loop submits, exclusively to stop */
    int refusing;                 /* stopped: requests are answered 503 on the loop */
    store_gc_t *gc;               /* the orphan collector started with the server */

    /* internode TLS: certificate, key and cluster CA (NULL: cleartext); the last log line of a
     * refused handshake */
    char *tls_files[3];
    atomic_int_fast64_t tls_refused_logged_ns;
};

/* The operation a request's target names. */
enum {
    STORE_OP_BAD,
    STORE_OP_PING,
    STORE_OP_SHARD_CREATE,
    STORE_OP_SHARD_APPEND,
    STORE_OP_SHARD_COMMIT,
    STORE_OP_SHARD_ABORT,
    STORE_OP_SHARD_READ,
    STORE_OP_SHARD_STAT,
    STORE_OP_SHARD_DELETE,
    STORE_OP_SHARD_VERIFY,
    STORE_OP_OBJECT_PUT,
    STORE_OP_OBJECT_PRUNE,
    STORE_OP_OBJECT_TAKEBACK,
    STORE_OP_OBJECT_UPDATE,
    STORE_OP_OBJECT_GET,
    STORE_OP_OBJECT_DELETE,
    STORE_OP_RECORD_PUT,
    STORE_OP_RECORD_GET,
    STORE_OP_RECORD_DELETE,
    STORE_OP_RECORD_SCAN,
    STORE_OP_LOCK_ACQUIRE,
    STORE_OP_LOCK_RELEASE,
    STORE_OP_IDENTITY,
    STORE_OP_STATS,
};

typedef struct store_srv_stream store_srv_stream_t;

/* One request on its way through a worker; it lives in the request's pool. */
typedef struct {
    yc_job_t job; /* first: the pool and the queue link jobs through it */
    store_server_t *srv;
    store_loop_t *lt;
    yc_http_req_t *req;              /* loop side only: workers use the fields below */
    char body_sha256[65];            /* the body's hash as signed (x-yc-content-sha256) */
    char req_sig[STORE_NET_SIG_HEX]; /* x-yc-signature as received (the answer's tag is bound to it) */
    size_t req_sig_len;
    int bound; /* x-yc-drive-id came (and was signed): bound_id is the drive the request is for */
    uint8_t bound_id[STORE_ID_LEN];
    /* the answer's tag, when a worker computed it (store_server_seal) */
    int sealed;
    uint8_t answer_nonce[STORE_NET_ANSWER_NONCE_LEN];
    uint8_t tag[STORE_NET_TAG_LEN];
    char nonce_hex[2 * STORE_NET_ANSWER_NONCE_LEN + 1];
    uint8_t *in; /* a small body read whole (malloc'd), in_len bytes */
    size_t in_len;
    int authenticated; /* its head passed: only then is any of its body read */
    int op;
    int route_err; /* set when the target names no drive or no operation */
    store_served_drive_t *drive;
    uint8_t data_id[META_ID_LEN];
    uint32_t index;
    /* query parameters */
    uint8_t token[16];
    int has_token, has_seq, has_off, has_len;
    uint64_t seq, off, len;
    /* the answer */
    int code;
    uint8_t *body; /* malloc'd; freed with the request's pool once answered */
    size_t body_len;
    const char *auth_failure; /* why authentication failed, for the log */
    int64_t started_ns;
} store_srv_job_t;

/* ---- server_auth.c ---- */

void store_replay_init(store_replay_t *r);
void store_replay_dispose(store_replay_t *r);
/* Keeps req's x-yc-signature in j (at most 64 bytes): every answer's tag is bound to it, a
 * refusal's included. Call first. */
void store_server_note_signature(store_srv_job_t *j, const yc_http_req_t *req);
/* 0 when req's head is signed with the cluster secret over the body hash it declares (and the
 * drive id it names, x-yc-drive-id), fresh and new (its signature is remembered then), with the
 * declared hash in j->body_sha256 and the drive in j->bound_id; STORE_EAUTH with *why (a log
 * word) when not, or STORE_EIO when the replay cache cannot take it. Loop side: reads the head
 * only, never the body. */
int store_server_authenticate(store_server_t *s, const yc_http_req_t *req, store_srv_job_t *j, const char **why);
/* After routing: 0 when the request is bound to the drive it names, or is one of the calls
 * taken unbound (ping, an identity read, stats); STORE_EIDENTITY (answered 401) with *why when
 * it was signed for another drive, STORE_EAUTH when it is unbound and must not be. */
int store_server_check_drive(const store_srv_job_t *j, const char **why);
/* SHA-256 of a body as it streams: _new, _update per piece, _matches at the end (1 when the
 * hex digest is the declared one, compared in constant time; frees the context). */
void *store_body_hash_new(void);
void store_body_hash_update(void *ctx, const void *p, size_t len);
int store_body_hash_matches(void *ctx, const char declared[65]);
void store_body_hash_free(void *ctx);

/* ---- server_writers.c ---- */

void store_writers_init(store_writers_t *t, uint32_t idle_ms);
/* Starts the reaper thread: 0 or -EAGAIN. */
int store_writers_start_reaper(store_writers_t *t);
/* Stops the reaper and aborts every writer left. */
void store_writers_dispose(store_writers_t *t);
/* Enters w under its token: 0, or STORE_EIO when the table is full. */
int store_writer_add(store_writers_t *t, store_srv_writer_t *w);
/* Marks the job's writer (its token, drive, data id and index) busy and returns it; NULL with
 * *err when there is none (STORE_ENOENT) or it is in use (STORE_EIO: only a confused client). */
store_srv_writer_t *store_writer_acquire(store_writers_t *t, const store_srv_job_t *j, int *err);
void store_writer_release(store_writers_t *t, store_srv_writer_t *w);
/* Takes a writer the caller acquired out of the table (to abort it). */
void store_writer_remove(store_writers_t *t, store_srv_writer_t *w);
/* Takes the job's writer out of the table for commit or abort; NULL with *err as acquire. */
store_srv_writer_t *store_writer_take(store_writers_t *t, const store_srv_job_t *j, int *err);

/* ---- server_route.c ---- */

/* Fills j->op and its arguments (drive, data id, index, query parameters) from j->req's method,
 * path and query; j->route_err when they name nothing (STORE_ENOENT: no such drive). */
void store_server_route(store_served_drive_t *drives, size_t ndrives, store_srv_job_t *j);

/* ---- server_ops.c ---- */

/* Runs the job's operation on its drive: 0 with the answer in j->body (malloc'd, or NULL), or
 * the code to answer. Worker side. The streamed operations are not among them. */
int store_server_run_op(store_server_t *s, store_srv_job_t *j);
/* STORE_OP_RECORD_GET from memory only, for the loop (store_record_get_cached): as
 * store_server_run_op, or -EAGAIN when a worker must do it. */
int store_server_record_get_cached(store_srv_job_t *j);

/* ---- server_stream.c (loop side; each gives the request back when done) ---- */

/* POST shards/<id>/<i>/append: the block is written as it arrives. */
void store_stream_append(store_srv_job_t *j);
/* GET shards/<id>/<i>?off&len: the range is sent as it is read. */
void store_stream_read(store_srv_job_t *j);

/* ---- server_answer.c ---- */

/* Answers req with code and, for 200, body (malloc'd and taken: freed once sent; may be NULL),
 * its tag after it (computed here unless store_server_seal did), and gives the request back. */
void store_server_send(yc_http_req_t *req, int code, uint8_t *body, size_t len);
/* A fresh answer nonce: the daemon's random prefix and a counter (cheaper than RAND_bytes per
 * answer, and as unique: the prefix is 64 random bits per start). */
void store_server_answer_nonce(store_server_t *s, uint8_t nonce[STORE_NET_ANSWER_NONCE_LEN]);
/* Computes the tag of the answer (code, body) into j, for store_server_send: a worker does this
 * for a large body so that the loop does not. */
void store_server_seal(store_srv_job_t *j, int code, const uint8_t *body, size_t len);

/* Queues job on the pool unless the daemon stopped: 0, or -ESHUTDOWN (nothing queued). */
int store_server_submit(store_server_t *s, yc_job_t *job);
/* The HTTP status of a code, and the whole answer of one (x-yc-error): the request is given back. */
int store_server_status_of(int code);
void store_server_answer(store_srv_job_t *j, int code);
/* The log line of a failed request. */
void store_server_log_failure(store_srv_job_t *j, int code);

#endif
