/* gw_metrics.h — the gateway's metrics: what the request path counts as it goes, and what the
 * cluster shows when /metrics is read, rendered in Prometheus' text format (common/metrics.h).
 *
 * Counted by events (any thread, lock-free, a few atomic adds each):
 *   yc_requests_total{operation,code}            answers, by S3 operation and HTTP status
 *   yc_request_duration_seconds{operation}       time from the request's first byte to its end
 *   yc_request_received_bytes_total{operation}   body bytes taken, yc_request_sent_bytes_total{operation}
 *   yc_requests_shed_total{reason}               answered 503 SlowDown by admission control
 *   yc_admission_wait_seconds                    time admitted requests waited in the queue
 *   yc_body_read_before_auth_bytes               per request: body bytes read before it was authenticated
 *   yc_drive_request_duration_seconds{drive}     fan-out calls to a drive, timed by its lane (and
 *                                                gw_metrics_drive_request), yc_drive_request_errors_total{drive}
 * Read when rendered (gw_metrics_render):
 *   yc_requests_inflight, yc_requests_queued, yc_client_connections   from the sampler below
 *   yc_admission_limit, yc_admission_delay_microseconds, yc_admission_limit_cuts_total
 *                                                     the adaptive in-flight bound (gw_admit.h)
 *   yc_drive_up{drive}, yc_drive_state{drive,state}   gw_health.h's view of every drive
 *   yc_drive_io_errors_total{drive}                   I/O errors the object engine counted
 *   yc_set_drives_ok{set}, yc_set_write_quorum{set}, yc_set_writable{set}
 *   yc_heal_queue, yc_heal_noted_total, yc_heal_repaired_total, yc_heal_failed_total,
 *   yc_heal_full_running, yc_heal_full_scanned        gw_heal.h's status
 *   yc_drive_free_bytes{drive}, yc_drive_reserve_bytes{drive}, and the RocksDB figures of every
 *   local drive: yc_rocksdb_estimated_keys, yc_rocksdb_sst_bytes, yc_rocksdb_live_sst_bytes,
 *   yc_rocksdb_memtable_bytes, yc_rocksdb_pending_compaction_bytes, yc_rocksdb_running_compactions,
 *   yc_rocksdb_running_flushes, yc_rocksdb_background_errors_total, yc_rocksdb_write_stopped,
 *   yc_rocksdb_read_only, yc_rocksdb_synced_writes_total, yc_rocksdb_synced_records_total (all {drive})
 *   yc_access_log_dropped_total                       lines the access log could not write
 *   yc_audit_records_dropped_total                    request records the audit trail's full queue dropped
 *   yc_lifecycle_actions_total{action}, yc_lifecycle_scanned_total, yc_lifecycle_passes_total,
 *   yc_lifecycle_lease_busy_total, yc_lifecycle_errors_total   gw_lifecycle.h's counters
 * docs/operations.md lists them with their meaning.
 *
 * Label values are fixed when the metrics are made: operations (the names given), a list of
 * status codes the gateway answers with "other" last, the drives' specs, set numbers. So no
 * update allocates or looks a string up, and a client cannot grow the number of series.
 */
#ifndef YC_GW_METRICS_H
#define YC_GW_METRICS_H
#include <stddef.h>
#include <stdint.h>
#include "gateway/gw_access_log.h"
#include "gateway/gw_cluster.h"

typedef struct gw_metrics gw_metrics_t;

/* What admission control and the connection layer hold right now; read at each render. */
typedef struct {
    int64_t inflight;    /* requests admitted and not finished */
    int64_t queued;      /* requests waiting for admission */
    int64_t connections; /* open client connections */
    int64_t limit;       /* admission's bound on requests in flight now */
    int64_t delay_ns;    /* the adaptive bound's last measure: mean wait for a worker */
    int64_t limit_cuts;  /* times the adaptive bound was cut */
} gw_metrics_gauges_t;
typedef void (*gw_metrics_sample_fn)(void *arg, gw_metrics_gauges_t *out);

/* What the lifecycle worker did since start (gw_lifecycle.h's counters), read at each render
 * through a function the server gives: the metrics are below the worker, which uses the request
 * module that counts into them. */
typedef enum {
    GW_LC_EXPIRE = 0,
    GW_LC_ADD_DELETE_MARKER,
    GW_LC_REMOVE_DELETE_MARKER,
    GW_LC_REMOVE_NONCURRENT,
    GW_LC_ABORT_UPLOAD,
    GW_LC_HELD,     /* kept by Object Lock */
    GW_LC_DEFERRED, /* no background slot: left for the next pass */
    GW_LC__ACTIONS
} gw_metrics_lc_action_t;
typedef struct {
    uint64_t actions[GW_LC__ACTIONS];
    uint64_t scanned, passes, lease_busy, errors;
} gw_metrics_lifecycle_t;
typedef void (*gw_metrics_lifecycle_fn)(void *arg, gw_metrics_lifecycle_t *out);

/* Why a request was shed (503 SlowDown). */
typedef enum {
    GW_SHED_INFLIGHT = 0, /* the gateway's bound of requests in flight */
    GW_SHED_KEY,          /* the access key's share */
    GW_SHED_QUEUE_FULL,   /* no room in the admission queue */
    GW_SHED_DEADLINE,     /* waited in the queue past its deadline */
    GW_SHED_LOOP_LAG,     /* at the door, from its head: its event loop was behind (gw_admit.h) */
    GW_SHED_ACCEPT,       /* a connection answered at accept: its loop was behind and full */
    GW_SHED__COUNT
} gw_shed_reason_t;

typedef struct {
    /* label values of operation, indexed by the op given to gw_metrics_request_done: the server
     * passes gw_op_name(i) for i < GW_OP__COUNT (borrowed: literals). An op past nops counts as
     * the last one. */
    const char *const *op_names;
    size_t nops;
    gw_cluster_t *cluster;       /* drives, sets, health and healer; may be NULL (tests) */
    gw_access_log_t *access_log; /* may be NULL */
    struct gw_audit *audit;      /* the audit trail (gw_audit.h); may be NULL */
    gw_metrics_sample_fn sample; /* may be NULL: those gauges stay 0 */
    void *sample_arg;
    gw_metrics_lifecycle_fn lc; /* NULL: no lifecycle metrics */
    void *lc_arg;
} gw_metrics_config_t;

/* Makes the gateway's metrics; cfg's pointers are borrowed for the metrics' life. Every drive's
 * lane is timed into yc_drive_request_duration_seconds from here on (yc_lane_time): the time a
 * request worker waited for each drive of a fan-out. 0, -ENOMEM or -EINVAL (no operations). */
int gw_metrics_new(const gw_metrics_config_t *cfg, gw_metrics_t **out);
/* Stops the lanes' timing and frees; before the cluster closes, once no request runs. */
void gw_metrics_free(gw_metrics_t *m);

/* A request ended: its answer's status, body bytes in and out, and its duration (first byte of
 * the request to the last of the answer). m may be NULL: nothing. Any thread. */
void gw_metrics_request_done(gw_metrics_t *m, int op, int status, uint64_t bytes_in, uint64_t bytes_out,
                             int64_t duration_ns);
/* A request was shed, before it was admitted (it is counted by gw_metrics_request_done too). */
void gw_metrics_shed(gw_metrics_t *m, gw_shed_reason_t reason);
/* An admitted request waited this long in the admission queue (0 when admitted at once). */
void gw_metrics_admission_wait(gw_metrics_t *m, int64_t ns);
/* A request's authentication was decided (allowed or refused) with this many body bytes read. */
void gw_metrics_body_before_auth(gw_metrics_t *m, uint64_t bytes);
/* A call to drive i (cluster order) took ns, for calls the lanes do not time (reads run inline on
 * a worker, gw_set_fanout_reads); failed when it did not answer or answered an I/O error (not for
 * "no such record"). */
void gw_metrics_drive_request(gw_metrics_t *m, size_t drive, int64_t ns, int failed);

/* Renders every metric (reading the cluster's state first) into *out, malloc'd, NUL-terminated,
 * of *len bytes; its content type is YC_METRICS_CONTENT_TYPE. 0 or -ENOMEM. It reads drives'
 * space and RocksDB's properties: call it from a worker, never on an event loop. */
int gw_metrics_render(gw_metrics_t *m, char **out, size_t *len);

#endif
