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
 * A request comes from the project's HTTP layer (common/http.h) head first: the router runs when
 * its headers are in, and nothing of its body has been asked for yet. The context sees it as a
 * gw_req_t: the layer's request plus what the handlers use — a memory pool (&ctx->req->pool), the
 * header fields in h2o's vocabulary (ctx->req->headers), the parts of the request line
 * (ctx->req->input) and, for the small bodies the router reads whole before a handler runs (XML
 * documents, gw_body.h), ctx->req->entity. The request's memory is that pool: the context and the
 * handlers' state come from it and go with it once the answer is handed to the layer. While a job
 * runs nothing on the loop touches the context, so the worker may allocate from the pool and add
 * response headers. Bodies of objects and parts are not read whole: they stream from the socket
 * into the erasure write (gw_body.h), and GET answers stream back (gw_get_object.c); both hold
 * buffers of their own, a few stripes at most.
 *
 * Besides its memory the context holds a place among the requests in flight (admission control),
 * a gw_hold_t. gw_respond gives it back once the answer is handed to the layer; a handler that
 * keeps sending from memory of its own gives it back when that memory goes (gw_ctx_free_later),
 * and ends the request itself (gw_req_finish).
 */
#ifndef YC_GW_REQUEST_H
#define YC_GW_REQUEST_H
#include "common/bytes.h"
#include <h2o.h>
#include <stdatomic.h>
#include <stdint.h>
#include "common/http.h"
#include "common/pool.h"
#include "gateway/gw_cluster.h"
#include "gateway/gw_config.h"
#include "gateway/s3/error.h"
#include "gateway/s3/query.h"
#include "gateway/s3/sigv4.h"

/* What every request of the gateway may use; filled by the server at start-up (gw_server.c),
 * read-only afterwards but for the counters. */
struct gw_req;

typedef struct gw_env {
    const gw_config_t *cfg;
    gw_cluster_t *cluster;
    yc_pool_t *pool;      /* request workers: every handler's blocking part */
    yc_pool_t *read_pool; /* workers for work that only reads (GET, HEAD, LIST) */
    struct gw_iam *iam;
    struct gw_healer *healer;
    const h2o_iovec_t *domains; /* virtual-host endpoint domains, lowercase */
    size_t ndomains;
    struct gw_admit *admit;            /* admission control (gw_admit.h); NULL: every request admitted */
    struct gw_metrics *metrics;        /* NULL: nothing counted (tests) */
    struct gw_access_log *access_log;  /* NULL: no access log */
    struct gw_lockout *lockout;        /* keys locked after bad signatures (gw_lockout.h); NULL: none */
    struct gw_sse_keys *sse_keys;      /* master keys of server-side encryption (gw_sse.h) */
    atomic_size_t inflight;            /* requests admitted whose holds are not given back yet */
    atomic_uint_fast64_t next_request; /* request ids: a counter ... */
    uint64_t request_salt;             /* ... xor a random salt, so that ids do not repeat across restarts */
    /* Counters of the request intake (the admin API's stats; metrics later). */
    atomic_uint_fast64_t body_before_auth;    /* body bytes read of requests not (yet) authenticated */
    atomic_uint_fast64_t body_bytes_in;       /* body bytes read, all requests */
    atomic_uint_fast64_t bytes_out;           /* response bytes handed to the layer (bodies) */
    atomic_uint_fast64_t refused_before_body; /* requests answered with their body unread */
    atomic_size_t get_stripes_held;           /* decoded stripes GET streams keep between reads (gw_get_object.c) */
    /* The HTTP layer's counters summed over the loops (connections, accepted, refused...). */
    void (*http_stats)(void *arg, yc_http_stats_t *out);
    void *http_stats_arg;
    struct gw_audit *audit;                   /* the audit trail (gw_audit.h); NULL: none */
    struct gw_bucket_logging *bucket_logging; /* server access logging (gw_bucket_logging.h); NULL: off */
    /* Called on the loop as each request ends, after its access line (server access logging's
     * gw_bucket_logging_note: a hook, so that the request module does not depend on it); NULL: none. */
    void (*request_ended)(void *arg, const struct gw_req *r, int64_t duration_ns);
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
    GW_OP_GET_OBJECT_ATTRIBUTES,
    GW_OP_PUT_OBJECT,
    GW_OP_COPY_OBJECT,
    GW_OP_DELETE_OBJECT,
    GW_OP_CREATE_MULTIPART_UPLOAD,
    GW_OP_UPLOAD_PART,
    GW_OP_UPLOAD_PART_COPY,
    GW_OP_COMPLETE_MULTIPART_UPLOAD,
    GW_OP_ABORT_MULTIPART_UPLOAD,
    GW_OP_LIST_PARTS,
    GW_OP_PUT_OBJECT_TAGGING,
    GW_OP_GET_OBJECT_TAGGING,
    GW_OP_DELETE_OBJECT_TAGGING,
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
    GW_OP_GET_BUCKET_ACL,
    GW_OP_PUT_BUCKET_ACL,
    GW_OP_GET_OBJECT_ACL,
    GW_OP_PUT_OBJECT_ACL,
    GW_OP_PUT_OBJECT_RETENTION,
    GW_OP_GET_OBJECT_RETENTION,
    GW_OP_PUT_OBJECT_LEGAL_HOLD,
    GW_OP_GET_OBJECT_LEGAL_HOLD,
    GW_OP_PUT_BUCKET_LOGGING,
    GW_OP_GET_BUCKET_LOGGING,
    GW_OP_CORS_PREFLIGHT,
    GW_OP_PUT_BUCKET_ENCRYPTION,
    GW_OP_GET_BUCKET_ENCRYPTION,
    GW_OP_DELETE_BUCKET_ENCRYPTION,
    GW_OP_IAM, /* a call of the IAM Query API (gw_iam_api.c) */
    GW_OP_ADMIN,
    GW_OP__COUNT
} gw_op_t;

/* S3's name of op ("PutObject", ...); "-" for GW_OP_NONE. */
const char *gw_op_name(gw_op_t op);

/* What a context holds beyond its memory: its place with admission control (malloc'd apart from
 * the request's pool: a slot may outlive the pool, and the wake of a waiting request must find
 * it whatever became of the request). adm NULL: nothing (never admitted, or given back). */
typedef struct {
    gw_env_t *env;
    struct gw_admission *adm;
} gw_hold_t;

/* Gives back what h holds and empties it; nothing for an empty one. Loop thread. */
void gw_hold_release(gw_hold_t *h);

/* What the access log says about a request, written when the request is finished (gw_req_finish),
 * which may be before or after the context is freed: the router copies what it learns into it
 * as it goes. */
typedef struct {
    char request_id[17];
    gw_op_t op;
    h2o_iovec_t bucket, key; /* decoded, borrowed from the request's pool */
    h2o_iovec_t access_key;  /* the authenticated caller's access key id; {NULL,0} otherwise */
    s3_error_t error;        /* the S3 error answered, S3_OK for none */
    h2o_iovec_t detail;      /* what an admin action did, for the audit trail; {NULL,0}: nothing more */
    gw_hold_t hold;          /* given back once the line is written (gw_ctx_free_at_dispose) */
} gw_access_t;

/* One HTTP request as the gateway holds it (see the top of this file). Loop thread, but for the
 * pool and the response headers while a job of the request runs. */
typedef struct gw_req {
    h2o_mem_pool_t pool;   /* the request's memory, freed once it is finished */
    h2o_headers_t headers; /* the request's header fields (names lowercase, tokens resolved) */
    struct {
        h2o_iovec_t method;
        h2o_iovec_t authority; /* the Host header; empty without */
        h2o_iovec_t path;      /* the request-target as sent, query included */
        size_t query_at;       /* the index of '?' in path, SIZE_MAX when there is none */
    } input;
    h2o_iovec_t entity;  /* a body read whole (gw_body_read_whole); {NULL,0} otherwise */
    yc_http_req_t *http; /* the layer's request; NULL once finished */
    /* the client's address and transport, copied on the loop when the request starts: workers
     * read these, never the layer's request, which belongs to the loop */
    struct sockaddr_storage peer;
    socklen_t peer_len; /* 0: unknown */
    unsigned secure;    /* it came over TLS */
    yc_loop_t *loop;    /* the loop's job queue: workers' jobs come back to it */
    gw_env_t *env;
    H2O_VECTOR(yc_http_header_t) res_headers;
    uint64_t res_content_length;  /* set for a HEAD or a streamed answer; UINT64_MAX: the body's */
    int res_status;               /* the status answered (0 before) */
    uint64_t bytes_in, bytes_out; /* body bytes read and sent */
    int authenticated;            /* the caller is known: body bytes read from now on are its */
    int64_t started_ns;
    gw_access_t access;
} gw_req_t;

struct gw_ctx {
    yc_job_t job;
    gw_req_t *req;
    gw_env_t *env;
    gw_cluster_t *cluster; /* env->cluster and env->iam, for short */
    struct gw_iam *iam;
    char request_id[17];
    char host_id[YC_BASE64_LEN(32) + 1]; /* x-amz-id-2 and an error's HostId: a digest of the request id */
    int64_t started_ns;
    gw_access_t *access; /* the access-log record (in the request) */
    gw_hold_t hold;      /* the place in flight, while ctx holds it */
    /* the parsed request */
    h2o_iovec_t method;
    gw_op_t op;
    s3_error_t route_error;  /* for GW_OP_NONE: the answer once the caller is authenticated */
    h2o_iovec_t bucket, key; /* decoded; empty when absent */
    h2o_iovec_t host_bucket; /* virtual-host style: the bucket named by the Host header (raw) */
    h2o_iovec_t bucket_ns;   /* the namespace of the bucket's incarnation (set by gw_bucket_authorize) */
    uint64_t bucket_incarnation;
    h2o_iovec_t bucket_owner; /* the bucket owner's user name (set by gw_bucket_authorize) */
    s3_query_t query;
    h2o_iovec_t access_key; /* authenticated caller; base NULL for anonymous */
    h2o_iovec_t user;       /* the caller's user name: owner of what it creates */
    int is_root;
    s3_auth_t auth;
    s3_sigv4_ctx_t sigv4; /* seeds aws-chunked signature checks; wiped by gw_ctx_free */
    h2o_iovec_t body;     /* the payload once gw_body_prepare ran (aws-chunked framing removed) */
    void *body_owned;     /* malloc'd decoded body, freed with the context */
    void *body_stream;    /* a streamed body (gw_body.h), disposed with the context */
    void (*body_stream_free)(void *stream);
    h2o_iovec_t trailer_checksum_algo, trailer_checksum_value; /* from an aws-chunked trailer */
    /* the response */
    int status;
    s3_error_t error;
    const char *error_message;        /* NULL: the code's default */
    int error_status;                 /* 0: the code's status; else what S3 sends for this case */
    s3_error_field_t error_fields[2]; /* extra elements of the error document (Header, ArgumentName...) */
    size_t nerror_fields;
    h2o_iovec_t resp_body;
    const char *content_type;
    void *handler_state;
    gw_work_fn work;
    void (*send)(gw_ctx_t *ctx); /* on the loop once work returned; NULL: gw_respond */
    int64_t dispatched_ns;       /* when work was handed to the read pool (admission measures the wait); 0 */
};

/* Makes the gateway's request of http and its context (request id, x-amz-request-id, access-log
 * record). 0 with *out; non-zero when the request was answered already (no memory): the caller
 * leaves it. Loop thread. Nothing is admitted yet: the router asks once the caller is known. */
int gw_ctx_start(gw_env_t *env, yc_loop_t *loop, yc_http_req_t *http, gw_ctx_t **out);
/* Admission control for an authenticated request (gw_admit.h), keyed by ctx->access_key (the
 * anonymous callers together): next(ctx) runs on the loop once a slot is held (at once, or after
 * a wait in the queue), or the request is answered 503 SlowDown with Retry-After (shed at once,
 * or its wait ran past the deadline). The slot goes back with the context's holds. */
void gw_ctx_admit(gw_ctx_t *ctx, void (*next)(gw_ctx_t *ctx));
/* Frees a context whose response has been started: wipes its secrets, frees its decoded body
 * and gives back its holds. Its memory goes with the request's pool. Once per request, on the
 * loop; gw_respond and gw_fail call it. */
void gw_ctx_free(gw_ctx_t *ctx);
/* Same, but the holds move to *out instead of being given back, for state that outlives the
 * request's pool and gives them back itself (gw_hold_release). */
void gw_ctx_free_later(gw_ctx_t *ctx, gw_hold_t *out);
/* Same, the holds given back when the request is finished (gw_req_finish): for an answer sent
 * from the request's pool, so that it counts in flight while its bytes are held. */
void gw_ctx_free_at_dispose(gw_ctx_t *ctx);

/* For a handler that streams its answer itself (GET): starts the response with the status and
 * the headers added so far, content_length bytes of body to follow (yc_http_write on
 * req->http). 0 or the layer's error. */
int gw_req_respond(gw_req_t *req, int status, uint64_t content_length);
/* Ends a request: the rest of its response, its access-log line, its memory. Once, on the loop,
 * after the context was freed; req must not be touched afterwards. */
void gw_req_finish(gw_req_t *req);
/* The answer the layer sends for a request it ends itself (a yc_http_config_t.error_page; arg is
 * the gw_env_t): S3's RequestTimeout for a body that stopped arriving, an XML error otherwise. */
size_t gw_request_error_page(void *arg, int *status, const char **content_type, char *buf, size_t cap);

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
/* The next request id (16 hex digits and a NUL), for answers made without a context. */
void gw_request_next_id(gw_env_t *env, char out[17]);
/* The HTTP reason phrase of a status. */
const char *gw_reason(int status);

/* The request as its signature covers it: method, path, raw query and headers (the headers' array
 * is the request's own, so take it after any change to the headers). */
s3_request_t gw_signed_request(gw_ctx_t *ctx);

#endif
