/* server_internal.h — what the files of the yc-store daemon share (the design is in server.c):
 *
 *   server.c          start-up and shut-down, routing, a request's job and its answer
 *   server_auth.c     authentication of a request, and the replay cache behind it
 *   server_writers.c  the table of open shard writers, and the reaper of idle ones
 *   server_ops.c      the operations, run on the workers
 *
 * server.c uses the other three; server_ops.c uses the writer table; nothing else crosses.
 */
#ifndef YC_STORE_SERVER_INTERNAL_H
#define YC_STORE_SERVER_INTERNAL_H
#include <h2o.h>
#include <pthread.h>
#include <stdint.h>
#include "common/pool.h"
#include "common/server.h"
#include "store/client_internal.h"
#include "store/server.h"
#include "store/store.h"

/* One drive of the node, as the wire names it. */
typedef struct {
    char name[STORE_NET_DRIVE_NAME_MAX + 1];
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

struct store_server {
    store_served_drive_t *drives;
    size_t ndrives;
    uint8_t *secret;
    size_t secret_len;
    yc_pool_t *pool;
    yc_server_t *http; /* the h2o configuration, loops and listeners */
    size_t nloops;
    store_writers_t writers;
    store_replay_t replay;
    pthread_rwlock_t submit_lock; /* held shared while a loop submits, exclusively to stop */
    int refusing;                 /* stopped: requests are answered 503 on the loop */
    store_gc_t *gc;               /* the orphan collector started with the server */
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
    STORE_OP_OBJECT_GET,
    STORE_OP_OBJECT_DELETE,
    STORE_OP_RECORD_PUT,
    STORE_OP_RECORD_GET,
    STORE_OP_RECORD_DELETE,
    STORE_OP_RECORD_SCAN,
    STORE_OP_LOCK_ACQUIRE,
    STORE_OP_LOCK_RELEASE,
    STORE_OP_IDENTITY,
};

/* One request on its way through a worker; it lives in the request's pool. */
typedef struct {
    yc_job_t job; /* first: the pool and the queue link jobs through it */
    store_server_t *srv;
    h2o_req_t *req;
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
/* 0 when req is signed with the cluster secret, fresh and new (its signature is remembered
 * then); STORE_EAUTH with *why (a log word) when not, or STORE_EIO when the replay cache cannot
 * take it. Worker side: hashes the body. */
int store_server_authenticate(store_server_t *s, h2o_req_t *req, const char **why);

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
/* Takes the job's writer out of the table for commit or abort; NULL with *err as acquire. */
store_srv_writer_t *store_writer_take(store_writers_t *t, const store_srv_job_t *j, int *err);

/* ---- server_ops.c ---- */

/* Runs the job's operation on its drive: 0 with the answer in j->body (malloc'd, or NULL), or
 * the code to answer. Worker side. */
int store_server_run_op(store_server_t *s, store_srv_job_t *j);

#endif
