/* gw_lifecycle.h — carrying out buckets' lifecycle rules: the background worker, and the
 * x-amz-expiration header of the objects a rule will expire.
 *
 * The rules themselves (the document, its checks, when an action falls due) are
 * gateway/s3/lifecycle.h; this module finds what falls due and does it through the paths the
 * S3 calls use: a version is removed as DeleteObject with a version id removes it
 * (gw_object_remove), a current version is expired with the delete marker DeleteObject adds
 * (gw_version_add_delete_marker) and an upload is aborted as AbortMultipartUpload aborts it
 * (gw_upload_abort).
 *
 * The worker: one thread per gateway. Every interval it reads the bucket records; for each
 * bucket with a lifecycle configuration it
 *   - takes the bucket's lease, a namespace lock on every drive of the cluster
 *     ("lifecycle/<bucket>", gw_lock.h) held for lease_ns and renewed while it works: one gateway
 *     at a time works a bucket, and a gateway that dies loses the bucket when its lease runs out.
 *     A bucket whose lease another gateway holds is left to it (lease_busy);
 *   - reads the bucket's progress marker (a configuration record of kind lifecycle-progress: the
 *     last key a pass finished), so that a pass cut short by a crash or a restart goes on from
 *     there instead of starting over; a finished pass removes it;
 *   - walks every version of every key (gw_lister_open_versions), decides with
 *     s3_lifecycle_evaluate and, for each action due, looks the version up again and acts only
 *     if it is still the version it saw (a client may have changed the key since);
 *   - walks the bucket's multipart uploads and aborts those due.
 * Each action first takes a background slot of admission control (gw_admit.h: after every
 * waiting client request, a sixteenth of the slots at most) and keeps under `rate` actions a
 * second, so rules never crowd out client traffic; an action that gets no slot is left for the
 * next pass.
 *
 * Object Lock: nothing that removes data (a version, a delete marker, the null version a
 * suspended bucket's marker replaces) is done unless gw_lifecycle_may_delete(record) says so.
 *
 * Object tags: rules with Tag filters match against the version's tags (read from its record)
 * through s3_lifecycle_tags_match, in the worker and for the x-amz-expiration header alike.
 *
 * A day is day_ns long (86400 s; tests scale it down): Days count in those days and due times
 * round up to multiples of it, as S3 rounds to midnight UTC.
 */
#ifndef YC_GW_LIFECYCLE_H
#define YC_GW_LIFECYCLE_H
#include <stdint.h>
#include "gateway/gw_cluster.h"
#include "gateway/gw_request.h"

struct gw_admit;
typedef struct gw_lifecycle gw_lifecycle_t;

typedef struct {
    int64_t day_ns;      /* the length of a lifecycle day; 0: 86400 s */
    int64_t interval_ns; /* time between the starts of two passes over the buckets */
    int64_t lease_ns;    /* a bucket's lease; renewed while its pass runs */
    uint32_t rate;       /* actions a second at most; 0: no cap */
} gw_lifecycle_config_t;

/* What the worker did since start. */
typedef struct {
    uint64_t passes;             /* passes over a bucket finished */
    uint64_t scanned;            /* versions and uploads looked at */
    uint64_t expired;            /* current versions removed (bucket never versioned) */
    uint64_t markers_added;      /* current versions expired under a delete marker */
    uint64_t markers_removed;    /* expired object delete markers removed */
    uint64_t noncurrent_removed; /* noncurrent versions removed */
    uint64_t uploads_aborted;    /* incomplete multipart uploads aborted */
    uint64_t held;               /* actions gw_lifecycle_may_delete refused */
    uint64_t deferred;           /* actions left for the next pass: no background slot */
    uint64_t lease_busy;         /* bucket passes left to the gateway holding the lease */
    uint64_t errors;             /* failed reads, lookups or actions */
} gw_lifecycle_stats_t;

/* Makes the worker over cluster c (admit may be NULL: no admission control); nothing runs until
 * gw_lifecycle_start. 0 or -ENOMEM. */
int gw_lifecycle_new(gw_cluster_t *c, const gw_lifecycle_config_t *cfg, struct gw_admit *admit, gw_lifecycle_t **out);
/* Starts its thread; the first pass begins at once. 0 or -EAGAIN. */
int gw_lifecycle_start(gw_lifecycle_t *lc);
/* Stops the thread (a pass in progress stops between two keys, its lease released) and frees lc.
 * NULL: nothing. */
void gw_lifecycle_free(gw_lifecycle_t *lc);
/* A copy of the counters. lc NULL: zeros. */
void gw_lifecycle_stats(gw_lifecycle_t *lc, gw_lifecycle_stats_t *out);

/* One pass over bucket `name` now, on the calling thread, as the worker makes it: 0 (done, or
 * nothing to do), GW_EBUSY when another gateway holds the bucket's lease, or the drives' error.
 * Blocking. For tests and the worker. */
int gw_lifecycle_run_bucket(gw_lifecycle_t *lc, meta_bytes_t name);

/* Whether lifecycle rules may remove the version or delete marker rec. The one place Object Lock
 * (retention, legal hold) is asked; this build has no Object Lock on objects, so always 1. */
int gw_lifecycle_may_delete(const meta_object_t *rec);

/* Adds x-amz-expiration to ctx's answer when an enabled rule of its bucket will expire rec, the
 * current version of ctx->key (not a delete marker), S3's format: expiry-date="<due, a midnight
 * UTC>", rule-id="<rule>". Reads the bucket's lifecycle configuration through a cache of 2 s.
 * On a worker (a cache miss reads the drives). */
void gw_lifecycle_expiration_header(gw_ctx_t *ctx, const meta_object_t *rec);

/* Forgets the cached lifecycle configuration of bucket (after a Put or Delete of it), so this
 * gateway's next answer sees the change. */
void gw_lifecycle_forget(h2o_iovec_t bucket);

#endif
