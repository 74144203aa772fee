/* gw_bucket_logging.h — server access logging: Put/GetBucketLogging, and the delivery of log
 * objects in S3's server access log format (gateway/s3/logging.h) to each bucket's target bucket.
 *
 * The configuration is a bucket configuration record (GW_CONF_LOGGING, gw_bucket_config.h):
 * "TARGET\nPREFIX", or a removal when logging is turned off. PutBucketLogging checks what S3
 * checks: the target bucket exists (else 400 InvalidTargetBucketForLogging) and has the same
 * owner as the logged bucket (the same error, S3's message). TargetGrants and the
 * PartitionedPrefix key format answer 501 NotImplemented.
 *
 * Delivery: when a request on a bucket ends, its line is formatted on the spot (the event loop's
 * work is a format and a malloc) and queued, unless the bucket is known not to log. A delivery
 * thread takes the queue every logging_interval seconds, reads each bucket's configuration (once
 * per interval; the answer is cached and read again at each delivery, so a change made through
 * another gateway counts here within two intervals, and a PutBucketLogging on this gateway
 * forgets it at once), and writes one object per logged bucket into its target bucket:
 * TargetPrefix + "YYYY-MM-DD-HH-MM-SS-" + 16 random hex digits, content type text/plain, one line
 * per request, as S3 names and writes them. Lines of buckets that do not log are dropped there.
 * The queue holds GW_LOGGING_QUEUE_BYTES of lines; past it lines are dropped and counted
 * (gw_bucket_logging_dropped) — like S3, server access logging is best effort, which the audit
 * trail (gw_audit.h) is not. A delivery that fails (no write quorum) is retried at the next
 * interval, then dropped and counted. A gateway that stops delivers what it holds first.
 */
#ifndef YC_GW_BUCKET_LOGGING_H
#define YC_GW_BUCKET_LOGGING_H
#include "gateway/gw_cluster.h"
#include "gateway/gw_request.h"

typedef struct gw_bucket_logging gw_bucket_logging_t;

#define GW_LOGGING_QUEUE_BYTES (64 * 1024 * 1024)

/* Starts the delivery thread; interval_s between deliveries. 0 or -errno. */
int gw_bucket_logging_new(gw_cluster_t *c, uint64_t interval_s, gw_bucket_logging_t **out);
/* Delivers what is queued, stops the thread, frees. NULL: nothing. */
void gw_bucket_logging_free(gw_bucket_logging_t *bl);

/* Queues the log line of request r as it ends (loop thread); nothing for a request that names no
 * bucket, or a bucket known not to log. NULL bl: nothing. */
void gw_bucket_logging_note(gw_bucket_logging_t *bl, const gw_req_t *r, int64_t duration_ns);
/* Forgets what the cache knows of bucket's configuration (it was just changed). */
void gw_bucket_logging_forget(gw_bucket_logging_t *bl, h2o_iovec_t bucket);
/* Lines dropped (queue full, delivery failed) since start. */
uint64_t gw_bucket_logging_dropped(gw_bucket_logging_t *bl);

/* PutBucketLogging and GetBucketLogging (GW_OP_PUT_BUCKET_LOGGING, GW_OP_GET_BUCKET_LOGGING). */
void gw_bucket_logging_op(gw_ctx_t *ctx);

/* S3's operation name of a request in the log ("REST.GET.OBJECT"); NULL when it has none. */
const char *gw_bucket_logging_operation(gw_op_t op);

#endif
