/* gw_server.h — the gateway process: configuration, event loops, the worker pool, and the
 * per-request context every S3 and admin handler works with.
 *
 * Threads: `loops` event-loop threads share the listening port through SO_REUSEPORT; each runs
 * h2o and never blocks. A request is parsed and authenticated on its loop, then its blocking
 * part runs as a job on the worker pool, and the answer is sent back on the loop (common/pool.h).
 *
 * A request's memory: h2o keeps an HTTP/1 connection quiet (no reads, no timers) from the end
 * of the request body until the response starts, so while a job runs nothing on the loop touches
 * the request: the worker may allocate from req->pool and add response headers. Streaming
 * responses (GET) never let a worker touch the request: their buffers are the job's own.
 */
#ifndef YC_GW_SERVER_H
#define YC_GW_SERVER_H
#include <h2o.h>
#include <stdint.h>
#include "gateway/gw_cluster.h"
#include "gateway/gw_config.h"
#include "common/pool.h"
#include "gateway/s3/error.h"
#include "gateway/s3/query.h"
#include "gateway/s3/sigv4.h"

typedef struct gw_server gw_server_t;

/* Opens the drives and starts the loops and workers; returns once the listener is bound. */
int gw_server_start(const gw_config_t *cfg, gw_server_t **out);
/* Blocks until SIGINT/SIGTERM, then stops. */
void gw_server_wait(gw_server_t *s);
void gw_server_free(gw_server_t *s);

/* ---- per-request context ---- */

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
    GW_OP_ADMIN,
    GW_OP__COUNT
} gw_op_t;

/* S3's name of op ("PutObject", ...); "-" for GW_OP_NONE. */
const char *gw_op_name(gw_op_t op);

/* What the access log says about a request. It lives in the request's memory pool and is written
 * when h2o disposes the request (response done, or the client gone), which may be before or after
 * the gw_ctx_t is freed: the router copies what it learns into it as it goes. */
typedef struct {
    h2o_req_t *req;
    char request_id[17];
    gw_op_t op;
    h2o_iovec_t bucket, key; /* decoded, borrowed from the request's pool */
    h2o_iovec_t access_key;  /* the authenticated caller's access key id; {NULL,0} otherwise */
    s3_error_t error;        /* the S3 error answered, S3_OK for none */
} gw_access_t;

struct gw_ctx {
    yc_job_t job;
    h2o_req_t *req;
    gw_server_t *srv;
    gw_cluster_t *cluster;
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
    s3_sigv4_ctx_t sigv4; /* seeds aws-chunked signature checks */
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
    int client_gone;
};

/* Sends the prepared response (status/body, or the error document) and frees the context. */
void gw_respond(gw_ctx_t *ctx);
/* Answers with an S3 error right away (on the loop) and frees the context. */
void gw_fail(gw_ctx_t *ctx, s3_error_t err, const char *message);
/* Marks ctx as failed with err (from a worker). */
void gw_set_error(gw_ctx_t *ctx, s3_error_t err, const char *message);
/* Adds an element to the error document of ctx (name a literal; value borrowed for the request);
 * at most two, further ones are dropped. */
void gw_set_error_field(gw_ctx_t *ctx, const char *name, h2o_iovec_t value);
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
/* Frees a context whose response has been started (or whose client is gone). */
void gw_ctx_free(gw_ctx_t *ctx);

/* The configuration the server runs with. */
const gw_config_t *gw_server_config(const gw_server_t *s);
/* The read pool (for handlers that submit read jobs of their own). */
yc_pool_t *gw_server_read_pool(gw_server_t *s);
/* The endpoint domains of virtual-host addressing (lowercase), and their number. */
const h2o_iovec_t *gw_server_domains(const gw_server_t *s, size_t *n);
/* The identity table (admin API). */
struct gw_iam *gw_server_iam(gw_server_t *s);
/* The healer (admin API). */
struct gw_healer *gw_server_healer(gw_server_t *s);

#endif
