/* gw_upload.h — the records of multipart uploads, which the multipart handlers (gw_multipart.c,
 * gw_multipart_list.c) read and change.
 *
 * An upload is a 'U' record on every drive of its object's set (placement by bucket/key, like
 * the object it becomes). Each part is erasure-coded like an object, with a data id of its
 * own, into the same set and shard distribution, and recorded by a 'P' record on every drive
 * that holds one of its shards. A set record (upload or part) is visible when at least
 * gw_set_read_quorum drives hold it: such a read set always meets the write quorum that
 * acknowledged it.
 *
 * Concurrency. Complete, Abort and the swap of a part's record must not interleave: a Complete
 * that read the parts while an Abort (or a second Complete, or a new upload of a part it lists)
 * deleted them would acknowledge an object that can never be read. Each of them therefore
 * holds the upload's namespace lock (gw_upload_lock: gw_lock.h, "upload/<id>" on the set's
 * drives) while it checks that the upload still exists and changes its records: the upload
 * record is deleted under the lock (gw_upload_end), so whoever comes second finds no upload
 * (NoSuchUpload) and touches nothing. Part data is written before the lock is taken, and the
 * parts a finished upload releases are deleted after it is given back (gw_upload_release_parts):
 * no byte moves while the lock is held, only records.
 *
 * Functions taking a context run on a request worker and set the S3 error on it when they fail.
 */
#ifndef YC_GW_UPLOAD_H
#define YC_GW_UPLOAD_H
#include "gateway/gw_lock.h"
#include "gateway/gw_object.h"
#include "gateway/gw_request.h"
#include "meta/meta.h"
#include "common/bytes.h"

#define GW_MAX_PARTS       10000        /* part numbers run from 1 to this */
#define GW_MAX_OBJECT_SIZE (5ULL << 40) /* S3's largest object: 5 TiB */

/* Upload ids travel as 32 lowercase hex digits: one spelling each. (Inline: the uploadId parser
 * is fuzzed on its own, tests/fuzz/fuzz_upload_id.c.) */
static inline void gw_upload_id_format(const uint8_t id[META_ID_LEN], char out[2 * META_ID_LEN + 1])
{
    yc_hex(id, META_ID_LEN, out);
}
/* 0 with id, or -1 when s is not the spelling of an upload id. */
static inline int gw_upload_id_parse(h2o_iovec_t s, uint8_t id[META_ID_LEN])
{
    return s.len == 2 * META_ID_LEN && yc_unhex_lower(s.base, META_ID_LEN, id) == 0 ? 0 : -1;
}

/* Writes the record of a new upload (u complete, its key among them) on every drive of set:
 * 0 once a write quorum acknowledged, else GW_EQUORUM / GW_ENOSPC (gw_quorum_error). */
int gw_upload_create(gw_set_t *set, const meta_upload_t *u);

/* The upload of ctx's uploadId, as a read quorum of its set holds it. */
typedef struct {
    gw_set_t *set;
    uint8_t upload_id[META_ID_LEN];
    void *raw; /* the record's bytes, which rec points into (gw_upload_dispose frees them) */
    meta_upload_t rec;
} gw_upload_t;

/* Reads the upload named by ctx's uploadId in ctx->bucket_ns / ctx->key: 0 with *u, or
 * NoSuchUpload (or the store's error) set on ctx. */
int gw_upload_load(gw_ctx_t *ctx, gw_upload_t *u);
/* Frees what gw_upload_load kept; safe on a zeroed or failed one. */
void gw_upload_dispose(gw_upload_t *u);

/* Takes the lock of ctx's upload (see above) on its object's set, waiting up to GW_LOCK_WAIT_NS:
 * 0 with *lock to release with gw_lock_release, or the error set on ctx. */
int gw_upload_lock(gw_ctx_t *ctx, gw_lock_t *lock);

/* The part records of an upload as each drive of its set returned them. */
typedef struct {
    meta_part_t *recs[16]; /* per slot: the decoded records, pointing into bufs */
    size_t n[16], cap[16];
    int results[16];
    gw_set_t *set;
    const meta_key_t *prefix;
    void **bufs[16]; /* per slot: the records' bytes */
} gw_parts_scan_t;

/* Reads every part record of u from its set and fills views[number] (views has GW_MAX_PARTS + 1
 * entries) for every part a read quorum holds (gw_quorum_parts). Returns the number of visible
 * parts, or -1 with the error set on ctx. ps must be disposed by the caller either way. */
int gw_upload_load_parts(gw_ctx_t *ctx, gw_upload_t *u, gw_parts_scan_t *ps, gw_part_view_t *views);
void gw_upload_parts_dispose(gw_parts_scan_t *ps);

/* Records part rec (every field but shard_index filled) of u's upload on every drive that
 * committed a shard of data, replacing an earlier upload of the same number. Call with the
 * upload's lock held. 0 once a write quorum acknowledged; the replaced upload's shard is then
 * deleted on the drives that took the new record. Else GW_EQUORUM / GW_ENOSPC (gw_quorum_error)
 * and the new record is taken back where it landed, the earlier upload's record put back in its
 * place (its shard was left alone, so the earlier part stays whole): taken_back[slot] is set
 * where that happened, the only drives where the new part's shard is known to be named by no
 * record (as gw_upload_takeback_part's removed). */
int gw_upload_put_part(gw_upload_t *u, const meta_part_t *rec, const gw_data_t *data, uint8_t taken_back[16]);
/* Takes back a part upload that failed its quorum: on every drive whose record of the part
 * number is exactly rec (its data id), the record goes. Call with the upload's lock held, which
 * every writer of the upload's part records holds, so no newer upload of the number is touched.
 * removed[slot] is set where the record was there and is gone: only there is the part's shard
 * known to be named by no record (elsewhere a record whose WAL sync failed may come back with
 * the database's reopen). */
void gw_upload_takeback_part(gw_upload_t *u, const meta_part_t *rec, uint8_t removed[16]);

/* Deletes the upload record: the step that ends an upload. Called with the upload's lock held;
 * once a write quorum deleted it, no Complete, Abort or part upload can find it again. 0 or
 * GW_EQUORUM. */
int gw_upload_end(gw_ctx_t *ctx, gw_upload_t *u);

/* Drops the part records of an ended upload and the shards of parts the object does not keep
 * (keep[number] set: kept; keep NULL: none). Every number with views[n].holders or
 * views[n].rec.number set is dropped. After the upload's lock was released: nobody else can
 * reach these parts any more. */
void gw_upload_release_parts(gw_upload_t *u, gw_part_view_t *views, const uint8_t *keep);

/* AbortMultipartUpload of upload id of (ns, key) — the namespace of the bucket's incarnation —
 * without a request: under the upload's lock the upload record goes, then its parts' records
 * and shards. For the handler and for lifecycle rules (AbortIncompleteMultipartUpload). 0,
 * GW_ENOENT when there is no such upload, or the lock's or the drives' error. Blocking. */
int gw_upload_abort(gw_cluster_t *c, h2o_iovec_t ns, h2o_iovec_t key, const uint8_t id[META_ID_LEN]);

#endif
