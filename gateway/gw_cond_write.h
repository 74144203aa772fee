/* gw_cond_write.h — conditional writes and deletes: If-None-Match: * and If-Match on PutObject
 * and CompleteMultipartUpload, If-Match (and x-amz-if-match-last-modified-time / -size) on
 * DeleteObject, and the same three as elements of each <Object> of DeleteObjects.
 *
 * The condition must hold at the moment the write becomes visible, whichever gateway another
 * writer uses: the check (the key's visible version, read with quorum) and the commit of the
 * record run under a namespace lock on the key's erasure set (gw_lock.h), named after the
 * bucket's incarnation and the key. Only conditional requests take it: a plain PUT neither
 * waits for it nor is ordered by it, as in S3, where an unconditional write is last-writer-wins.
 * A lock that stays held by another conditional request for GW_COND_LOCK_WAIT_NS answers 409
 * ConditionalRequestConflict, as S3 answers a concurrent conditional operation.
 *
 * Order of a conditional PUT: headers checked before the body is read (a malformed condition
 * is refused at once), data written (invisible), then lock → check → commit → release. A failed
 * check removes the data it wrote.
 */
#ifndef YC_GW_COND_WRITE_H
#define YC_GW_COND_WRITE_H
#include "gateway/gw_lock.h"
#include "gateway/gw_request.h"
#include "gateway/s3/xml.h"

#define GW_COND_LOCK_WAIT_NS (3LL * 1000 * 1000 * 1000)

typedef struct {
    h2o_iovec_t if_match, if_none_match; /* base NULL: absent */
    h2o_iovec_t if_mtime, if_size;       /* DeleteObject's x-amz-if-match-* (base NULL: absent) */
    int64_t mtime_ns;                    /* parsed if_mtime */
    uint64_t size;                       /* parsed if_size */
    h2o_iovec_t key;                     /* the key judged: ctx->key, or one key of DeleteObjects */
    int active;                          /* some condition was sent: the lock is needed */
    int is_delete;                       /* DeleteObject's rules (see gw_cond_write_check) */
    int locked;
    gw_lock_t lock;
} gw_cond_write_t;

/* Reads the conditions of a PutObject or CompleteMultipartUpload. 0 (cw->active tells whether
 * any was sent), or the S3 error set (501 NotImplemented for an If-None-Match other than "*")
 * and -1. Call before the body is read. */
int gw_cond_write_parse(gw_ctx_t *ctx, gw_cond_write_t *cw);
/* Same for DeleteObject: If-Match, x-amz-if-match-last-modified-time (an HTTP date),
 * x-amz-if-match-size (decimal); a malformed value is 400 InvalidArgument. */
int gw_cond_delete_parse(gw_ctx_t *ctx, gw_cond_write_t *cw);

/* DeleteObjects: the <ETag>, <LastModifiedTime> and <Size> of one <Object> as DeleteObject's
 * If-Match, x-amz-if-match-last-modified-time and x-amz-if-match-size on its key. */
void gw_cond_delete_object(const s3_xml_delete_object_t *o, gw_cond_write_t *cw);

/* When cw->active: takes the key's lock on ctx->bucket_ns/cw->key and evaluates the conditions
 * against the visible version. 0: the caller commits, then calls gw_cond_write_done. Else the
 * S3 error is set (412 PreconditionFailed, 404 NoSuchKey for If-Match without an object, 409
 * ConditionalRequestConflict, 503 when the drives could not say), the lock is released and -1
 * returned; for a delete whose conditions allow it but that finds no object, 1 (nothing to do;
 * the lock is released). Does nothing and returns 0 when no condition was sent. */
int gw_cond_write_check(gw_ctx_t *ctx, gw_cond_write_t *cw);
/* Releases the lock if held. */
void gw_cond_write_done(gw_cond_write_t *cw);

#endif
