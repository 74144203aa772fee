/* gw_object_lock.h — Object Lock (WORM) in the gateway: which buckets have it, the lock a new
 * version gets, the lock of a stored version, the decision whether a version may go, and the
 * calls Put/GetObjectRetention and Put/GetObjectLegalHold.
 *
 * Where things live:
 *   - A bucket has Object Lock when it holds an object-lock configuration record
 *     (gw_bucket_config.h, GW_CONF_OBJECT_LOCK): written by CreateBucket with
 *     x-amz-bucket-object-lock-enabled: true, or by PutObjectLockConfiguration on a bucket whose
 *     versioning is Enabled. It is never removed, and such a bucket's versioning never leaves
 *     Enabled, so only buckets with versioning Enabled are ever looked up (gw_object_lock_bucket).
 *   - A version's retention is its attribute META_ATTR_RETENTION, 9 bytes: the mode (1
 *     GOVERNANCE, 2 COMPLIANCE), then the retain-until date in nanoseconds since the epoch, a
 *     big-endian int64 (> 0). Its legal hold is META_ATTR_LEGAL_HOLD, 1 byte: 0 OFF, 1 ON. Any
 *     other bytes do not decode; a version whose lock does not decode is treated as locked, so a
 *     damaged record can never be deleted by mistake.
 * The rules are gateway/s3/objectlock.h's; enforcement is by the record, not by the bucket's
 * configuration: a version that carries a retention or a hold is protected wherever it is.
 */
#ifndef YC_GW_OBJECT_LOCK_H
#define YC_GW_OBJECT_LOCK_H
#include "gateway/gw_lock.h"
#include "gateway/gw_request.h"
#include "gateway/s3/objectlock.h"
#include "meta/meta.h"

#define GW_LOCK_RETENTION_LEN 9
#define GW_LOCK_HOLD_LEN      1

/* Encodes r (mode not NONE) as a META_ATTR_RETENTION value. */
void gw_lock_retention_encode(const s3_retention_t *r, uint8_t out[GW_LOCK_RETENTION_LEN]);
/* Decodes a META_ATTR_RETENTION value: 0, or -1 for bytes that are not one. */
int gw_lock_retention_decode(meta_bytes_t v, s3_retention_t *out);
/* Decodes a META_ATTR_LEGAL_HOLD value (ON or OFF): 0, or -1. */
int gw_lock_hold_decode(meta_bytes_t v, s3_legal_hold_t *out);
/* The lock of rec (retention mode NONE, hold UNSET when it has none): 0, or -1 when an attribute
 * does not decode. */
int gw_object_lock_state(const meta_object_t *rec, s3_lock_state_t *out);

/* 1 when version rec may be deleted for good as of now (ns): no legal hold, and no retention in
 * force, or a GOVERNANCE one while bypass_governance (the request asks for the bypass and its
 * user holds s3:BypassGovernanceRetention). 0 when it may not, and for a lock that does not
 * decode. Delete markers carry no lock. Pure: for every path that deletes versions (lifecycle). */
int gw_object_lock_may_delete(const meta_object_t *rec, int bypass_governance, int64_t now);

/* After gw_bucket_authorize: whether ctx->bucket has Object Lock (*enabled) and its default
 * retention (*cfg, mode NONE without one). From a per-process cache (2 s, like the bucket
 * record's). 0, or sets the S3 error and returns non-zero. Blocking. */
int gw_object_lock_bucket(gw_ctx_t *ctx, int *enabled, s3_objectlock_config_t *cfg);
/* Forgets the cached answer for bucket (after its configuration changed here). */
void gw_object_lock_forget(h2o_iovec_t bucket);

/* The lock of a new version (PutObject, CopyObject, CreateMultipartUpload): reads the
 * x-amz-object-lock-* headers, else the bucket's default retention, and makes rec->attrs the set
 * rec->attrs had plus them, built in buf (the caller disposes buf after the write). with_body: the
 * request carries the object's bytes, so a lock needs Content-MD5 or a checksum, as S3 requires.
 * 0, or sets the S3 error and returns non-zero. After gw_bucket_authorize; blocking. */
int gw_object_lock_new_version(gw_ctx_t *ctx, int with_body, meta_object_t *rec, meta_buf_t *buf);

/* UploadPart with a body into upload u: when the object will get a retention or a legal hold
 * (asked at CreateMultipartUpload, or the bucket's default retention then), S3 requires the part's
 * Content-MD5 or an x-amz-checksum-* as for PutObject. 0, or sets the S3 error and returns -1. */
int gw_object_lock_check_part(gw_ctx_t *ctx, const meta_upload_t *u);

/* Before a version is deleted for good on behalf of ctx (DeleteObject and DeleteObjects with a
 * version id): 0 when rec may go; GW_ELOCKED when its lock forbids it (the governance bypass is
 * taken from the request's x-amz-bypass-governance-retention and the user's permission on key).
 * Sets no error. Blocking (the permission may read the bucket policy). */
int gw_object_lock_check_delete(gw_ctx_t *ctx, const meta_object_t *rec, h2o_iovec_t key);

/* Around the lookup, check and removal of a version (DeleteObject(s) with a version id): in a
 * bucket with Object Lock, holds the key's attribute lock (gw_attrs_lock) so that a retention or
 * legal hold set meanwhile cannot be missed by the check. 0 (g to be released with
 * gw_object_lock_unguard), or a gateway code. Blocking. */
typedef struct {
    gw_lock_t lock;
    int held;
} gw_object_lock_guard_t;
int gw_object_lock_guard(gw_ctx_t *ctx, h2o_iovec_t key, gw_object_lock_guard_t *g);
void gw_object_lock_unguard(gw_object_lock_guard_t *g);

/* Adds x-amz-object-lock-mode, -retain-until-date and -legal-hold for rec (GET, HEAD). */
void gw_object_lock_headers(gw_ctx_t *ctx, const meta_object_t *rec);

/* PutObjectLockConfiguration turning Object Lock on: takes the bucket's cluster lock (the one
 * PutBucketVersioning holds) and reads the versioning state from the drives into *versioning, so
 * that a suspension cannot slip between the check and the write. 0 with *lock held
 * (gw_lock_release), or the error set and non-zero. Blocking. */
int gw_object_lock_versioning_locked(gw_ctx_t *ctx, gw_lock_t *lock, uint32_t *versioning);

/* PutBucketVersioning, under the bucket's lock: 0 when the change to status (1 Enabled, 2 Suspended) is allowed; a
 * bucket with Object Lock cannot be suspended (409 InvalidBucketState set, non-zero). */
int gw_object_lock_check_versioning(gw_ctx_t *ctx, uint32_t status);

/* The handlers: ?retention and ?legal-hold of an object, GET and PUT. */
void gw_put_object_retention(gw_ctx_t *ctx);
void gw_get_object_retention(gw_ctx_t *ctx);
void gw_put_object_legal_hold(gw_ctx_t *ctx);
void gw_get_object_legal_hold(gw_ctx_t *ctx);

#endif
