/* gw_request.h — one S3 (or admin) request as its handlers see it: the per-request context, the
 * services a request may use, and the ways to answer it.
 *
 * The gateway's files depend on each other in one direction (tests/check-layers.sh checks that
 * no circle forms between them):
 *
 *   gw_server.c (start-up)  ->  gw_s3.c (the router)  ->  the handlers  ->  this module
 *
 * The server fills a gw_env_t and hands every request to the router (gw_s3.h); the router makes
 * the context (gw_ctx_start), authenticates and routes; a handler works with the context only and
 * never with the server. Nothing here knows the router or a handler.
 *
 * Threads: a request is parsed and authenticated on its loop, which never blocks; its blocking
 * part runs as a job on a worker pool (gw_dispatch), and the answer is sent back on the loop
 * (common/pool.h).
 *
 * A request's memory is its pool (h2o's per-request memory, req->pool): the context and the
 * handlers' state come from it and go with it when h2o disposes the request, after the last byte
 * of the answer was handed over or the client went away. h2o keeps an HTTP/1 connection quiet
 * (no reads, no timers) from the end of the request body until the response starts, so while a
 * job runs nothing on the loop touches the request: the worker may allocate from req->pool and
 * add response headers. Only what must outlive the pool is allocated apart: a GET stream that
 * reads ahead (a read may be in flight when the client leaves), and buffers too large to keep
 * until the request ends (gw_get_object.c, gw_multipart.c say which).
 *
 * Besides its memory the context holds a place among the requests in flight (admission control)
 * and a hold on the connection (the progress watchdog, common/listen.h): a gw_hold_t. gw_respond
 * gives them back once the answer is handed to h2o; a handler that keeps sending from memory of
 * its own gives them back when that memory goes (gw_ctx_free_at_dispose, gw_ctx_free_later).
 */
#ifndef YC_GW_REQUEST_H
#define YC_GW_REQUEST_H
#include <h2o.h>
#include <stdatomic.h>
#include <stdint.h>
#include "common/pool.h"
#include "gateway/gw_cluster.h"
#include "gateway/gw_config.h"
#include "gateway/s3/error.h"
#include "gateway/s3/query.h"
#include "gateway/s3/sigv4.h"

/* What every request of the gateway may use; filled by the server at start-up (gw_server.c),
 * read-only afterwards but for the counters. */
typedef struct gw_env {
    const gw_config_t *cfg;
    gw_cluster_t *cluster;
    yc_pool_t *pool;      /* request workers: every handler's blocking part */
    yc_pool_t *read_pool; /* workers for work that only reads (GET, HEAD, LIST) */
    struct gw_iam *iam;
    struct gw_healer *healer;
    const h2o_iovec_t *domains; /* virtual-host endpoint domains, lowercase */
    size_t ndomains;
    atomic_size_t inflight;            /* requests admitted whose holds are not given back yet */
    atomic_uint_fast64_t next_request; /* request ids: a counter ... */
    uint64_t request_salt;             /* ... xor a random salt, so that ids do not repeat across restarts */
} gw_env_t;

typedef struct gw_ctx gw_ctx_t;
/* A handler's blocking part: runs on a worker, fills the response fields of ctx. */
typedef void (*gw_work_fn)(gw_ctx_t *ctx);

/* The S3 operation of a request, decided by the router (gw_s3.c) before authentication; it names
 * the request in the access log and selects the rows of the refusal table (gw_refuse.h). */
typedef enum {
    GW_OP_NONE = 0, /* not routed (yet): malformed URI, unknown method, unsupported sub-resource */
    GW_OP_LIST_BUCKETS,
    GW_OP_CREATE_BUCKET,
    GW_OP_HEAD_BUCKET,
    GW_OP_DELETE_BUCKET,
    GW_OP_GET_BUCKET_LOCATION,
    GW_OP_GET_BUCKET_VERSIONING,
    GW_OP_PUT_BUCKET_VERSIONING,
    GW_OP_LIST_OBJECTS,
    GW_OP_LIST_OBJECTS_V2,
    GW_OP_LIST_OBJECT_VERSIONS,
    GW_OP_LIST_MULTIPART_UPLOADS,
    GW_OP_DELETE_OBJECTS,
    GW_OP_POST_OBJECT,
    GW_OP_GET_OBJECT,
    GW_OP_HEAD_OBJECT,
    GW_OP_PUT_OBJECT,
    GW_OP_COPY_OBJECT,
    GW_OP_DELETE_OBJECT,
    GW_OP_CREATE_MULTIPART_UPLOAD,
    GW_OP_UPLOAD_PART,
    GW_OP_UPLOAD_PART_COPY,
    GW_OP_COMPLETE_MULTIPART_UPLOAD,
    GW_OP_ABORT_MULTIPART_UPLOAD,
    GW_OP_LIST_PARTS,
    GW_OP_PUT_BUCKET_POLICY,
    GW_OP_GET_BUCKET_POLICY,
    GW_OP_DELETE_BUCKET_POLICY,
    GW_OP_GET_BUCKET_POLICY_STATUS,
    GW_OP_PUT_BUCKET_CORS,
    GW_OP_GET_BUCKET_CORS,
    GW_OP_DELETE_BUCKET_CORS,
    GW_OP_PUT_BUCKET_TAGGING,
    GW_OP_GET_BUCKET_TAGGING,
    GW_OP_DELETE_BUCKET_TAGGING,
    GW_OP_PUT_BUCKET_OWNERSHIP_CONTROLS,
    GW_OP_GET_BUCKET_OWNERSHIP_CONTROLS,
    GW_OP_DELETE_BUCKET_OWNERSHIP_CONTROLS,
    GW_OP_PUT_PUBLIC_ACCESS_BLOCK,
    GW_OP_GET_PUBLIC_ACCESS_BLOCK,
    GW_OP_DELETE_PUBLIC_ACCESS_BLOCK,
    GW_OP_PUT_BUCKET_LIFECYCLE,
    GW_OP_GET_BUCKET_LIFECYCLE,
    GW_OP_DELETE_BUCKET_LIFECYCLE,
    GW_OP_PUT_OBJECT_LOCK_CONFIGURATION,
    GW_OP_GET_OBJECT_LOCK_CONFIGURATION,
    GW_OP_CORS_PREFLIGHT,
    GW_OP_ADMIN,
    GW_OP__COUNT
} gw_op_t;

/* S3's name of op ("PutObject", ...); "-" for GW_OP_NONE. */
const char *gw_op_name(gw_op_t op);

/* What a context holds beyond its memory: a place among env's requests in flight and a hold on
 * the connection (NULL when it is not watched). env NULL: nothing (given back already). */
typedef struct {
    gw_env_t *env;
    struct yc_conn *conn;
} gw_hold_t;

/* Gives back what h holds and empties it; nothing for an empty one. Loop thread. */
void gw_hold_release(gw_hold_t *h);

/* What the access log says about a request. It is the request's one disposal hook (an
 * h2o_mem_alloc_shared entry of its pool): written when h2o disposes the request (response done,
 * or the client gone), which may be before or after the context is freed: the router copies what
 * it learns into it as it goes. */
typedef struct {
    h2o_req_t *req;
    char request_id[17];
    gw_op_t op;
    h2o_iovec_t bucket, key; /* decoded, borrowed from the request's pool */
    h2o_iovec_t access_key;  /* the authenticated caller's access key id; {NULL,0} otherwise */
    s3_error_t error;        /* the S3 error answered, S3_OK for none */
    gw_hold_t hold;          /* given back once the line is written (gw_ctx_free_at_dispose) */
} gw_access_t;

struct gw_ctx {
    yc_job_t job;
    h2o_req_t *req;
    gw_env_t *env;
    gw_cluster_t *cluster; /* env->cluster and env->iam, for short */
    struct gw_iam *iam;
    char request_id[17];
    int64_t started_ns;
    gw_access_t *access;  /* the access-log record (request pool) */
    struct yc_conn *conn; /* the watched connection (common/listen.h), held while ctx lives; may be NULL */
    /* the parsed request */
    h2o_iovec_t method;
    gw_op_t op;
    h2o_iovec_t bucket, key; /* decoded; empty when absent */
    h2o_iovec_t host_bucket; /* virtual-host style: the bucket named by the Host header (raw) */
    h2o_iovec_t bucket_ns;   /* the namespace of the bucket's incarnation (set by gw_bucket_authorize) */
    uint64_t bucket_incarnation;
    s3_query_t query;
    h2o_iovec_t access_key; /* authenticated caller; base NULL for anonymous */
    h2o_iovec_t user;       /* the caller's user name: owner of what it creates */
    int is_root;
    s3_auth_t auth;
    s3_sigv4_ctx_t sigv4; /* seeds aws-chunked signature checks; wiped by gw_ctx_free */
    h2o_iovec_t body;     /* the payload once gw_body_prepare ran (aws-chunked framing removed) */
    void *body_owned;     /* malloc'd decoded body, freed with the context */
    h2o_iovec_t trailer_checksum_algo, trailer_checksum_value; /* from an aws-chunked trailer */
    /* the response */
    int status;
    s3_error_t error;
    const char *error_message;        /* NULL: the code's default */
    s3_error_field_t error_fields[2]; /* extra elements of the error document (Header, ArgumentName...) */
    size_t nerror_fields;
    h2o_iovec_t resp_body;
    const char *content_type;
    void *handler_state;
    gw_work_fn work;
    void (*send)(gw_ctx_t *ctx); /* on the loop once work returned; NULL: gw_respond */
};

/* Makes the context of a new request in req's pool (request id, x-amz-request-id, access-log
 * record, hold on the connection) and admits it. 0 with *out; non-zero when the request was
 * answered already (503 SlowDown past max_inflight): the caller leaves it. Loop thread. */
int gw_ctx_start(gw_env_t *env, h2o_req_t *req, gw_ctx_t **out);
/* Frees a context whose response has been started: wipes its secrets, frees its decoded body
 * and gives back its holds. Its memory goes with the request's pool. Once per request, on the
 * loop; gw_respond and gw_fail call it. */
void gw_ctx_free(gw_ctx_t *ctx);
/* Same, but the holds move to *out instead of being given back, for state that outlives the
 * request's pool and gives them back itself (gw_hold_release). */
void gw_ctx_free_later(gw_ctx_t *ctx, gw_hold_t *out);
/* Same, the holds given back when h2o disposes the request: for an answer h2o sends from the
 * request's pool until then, so that it counts in flight while its bytes are held. */
void gw_ctx_free_at_dispose(gw_ctx_t *ctx);

/* Sends the prepared response (status/body, or the error document) and frees the context. */
void gw_respond(gw_ctx_t *ctx);
/* Answers with an S3 error right away (on the loop) and frees the context. */
void gw_fail(gw_ctx_t *ctx, s3_error_t err, const char *message);
/* Marks ctx as failed with err (from a worker). */
void gw_set_error(gw_ctx_t *ctx, s3_error_t err, const char *message);
/* Adds an element to the error document of ctx (name a literal; value borrowed for the request);
 * at most two, further ones are dropped. */
void gw_set_error_field(gw_ctx_t *ctx, const char *name, h2o_iovec_t value);
/* Sets the S3 answer of an error code on ctx (the table of gw_error.h); drives missing are
 * explained in the log (gw_health), internal errors logged with the code's name. */
void gw_set_store_error(gw_ctx_t *ctx, int ret);
/* Runs ctx->work on the worker pool, then ctx->send (or gw_respond) on the loop. */
void gw_dispatch(gw_ctx_t *ctx, gw_work_fn work);
/* Same on the read pool: for work that only reads (GET, HEAD, LIST). */
void gw_dispatch_read(gw_ctx_t *ctx, gw_work_fn work);
/* Adds a response header (name lowercase literal). */
void gw_add_header(gw_ctx_t *ctx, const char *name, const char *value, size_t len);
void gw_add_header_str(gw_ctx_t *ctx, const char *name, const char *value);
/* First request header called name (lowercase), {NULL,0} when absent. */
h2o_iovec_t gw_header(const gw_ctx_t *ctx, const char *name);
/* The HTTP reason phrase of a status. */
const char *gw_reason(int status);

/* The progress watchdog's answer to a request that stopped arriving half-way (a
 * yc_listen_watch_t.stalled_request_response; arg is the gw_env_t): S3's RequestTimeout, with a
 * request id and its access-log line. */
size_t gw_request_stalled_answer(void *arg, const char *client, uint64_t bytes_in, char *out, size_t cap);

#endif
