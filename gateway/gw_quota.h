/* gw_quota.h — what each bucket holds, and the quotas on buckets and on users (bucket owners).
 *
 * Usage is counted, not kept: a versions listing of the bucket's namespace (gw_lister.h) sums the
 * sizes of every version that is not a delete marker (bytes, the figure quotas limit), the
 * versions, and the latest versions that are objects (objects). It is exact after a restart and
 * never negative, because it is always what the drives hold. Each gateway keeps the count for
 * 10 s and adds the bytes of its own writes to it at once, so its figure is never below what it
 * wrote. A refusal is never made on an old figure: when a write would pass the quota, the
 * bucket is counted again first unless its count is under a second old and no delete went through
 * this gateway since (deletes through other gateways are seen within that second). Concurrent
 * writes each check before any of them counts, so a quota can be passed by what is in flight at
 * once (documented in docs/operations.md).
 * Multipart parts count once completed; CompleteMultipartUpload is checked with the whole size.
 *
 * Quotas are records on every drive (gw_bucket_config.h): a bucket's as its "quota" kind, tied to
 * its incarnation (a bucket created again has none); the users' as one document {"user": bytes}
 * under the reserved name "_users" (no bucket can be named so). Cached 2 s per gateway.
 * Blocking: call on a worker.
 */
#ifndef YC_GW_QUOTA_H
#define YC_GW_QUOTA_H
#include "gateway/gw_cluster.h"
#include "gateway/gw_request.h"

typedef struct {
    uint64_t objects;  /* latest versions that are objects */
    uint64_t versions; /* every version that is not a delete marker */
    uint64_t bytes;    /* their sizes */
} gw_usage_t;

/* Counts what namespace ns holds (a full scan). 0 or the lister's error. */
int gw_usage_scan(gw_cluster_t *c, meta_bytes_t ns, gw_usage_t *out);
/* The gateway's count for ns: counted again when older than 10 s; with refusing (the figure would
 * refuse a write), when older than a second or after a delete through this gateway. */
int gw_usage_get(gw_cluster_t *c, meta_bytes_t ns, int refusing, gw_usage_t *out);
/* After this gateway made bytes visible in ns / deleted from it. */
void gw_usage_note_write(meta_bytes_t ns, uint64_t bytes);
void gw_usage_note_delete(meta_bytes_t ns);

/* A bucket's quota in bytes (0: none). */
int gw_quota_bucket_get(gw_cluster_t *c, meta_bytes_t bucket, uint64_t incarnation, uint64_t *bytes);
/* Sets it (bytes 0: removes it). 0, GW_EQUORUM, GW_ENOSPC. */
int gw_quota_bucket_set(gw_cluster_t *c, meta_bytes_t bucket, uint64_t incarnation, uint64_t bytes);
/* A user's quota over the buckets it owns (0: none). */
int gw_quota_user_get(gw_cluster_t *c, const char *user, uint64_t *bytes);
int gw_quota_user_set(gw_cluster_t *c, const char *user, uint64_t bytes);

/* What the buckets owned by user hold together (their gateway counts, refusing as above). */
int gw_usage_user(gw_cluster_t *c, const char *user, int refusing, gw_usage_t *out);

/* Before a write of adding bytes into ctx's bucket (after gw_bucket_authorize): 0 when neither the
 * bucket's quota nor its owner's would be passed; else QuotaExceeded (403) is set and -1 returned.
 * A usage or quota that cannot be read lets the write through (logged): quotas are no reason to
 * refuse writes while drives are down. */
int gw_quota_check(gw_ctx_t *ctx, uint64_t adding);

#endif
