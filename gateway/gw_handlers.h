/* gw_handlers.h — the S3 operations and the admin API, each entered on the event loop with a
 * parsed, authenticated request; each hands its blocking part to a worker with gw_dispatch.
 * The router (gw_s3.c) calls them; they use the request module (gw_request.h), never the server.
 */
#ifndef YC_GW_HANDLERS_H
#define YC_GW_HANDLERS_H
#include "common/bytes.h"
#include "gateway/gw_object.h"
#include "gateway/gw_request.h"
#include "meta/meta.h"

/* Buckets (gw_bucket.c). */
void gw_list_buckets(gw_ctx_t *ctx);
void gw_create_bucket(gw_ctx_t *ctx);
void gw_head_bucket(gw_ctx_t *ctx);
void gw_delete_bucket(gw_ctx_t *ctx);
void gw_get_bucket_location(gw_ctx_t *ctx);
void gw_get_bucket_versioning(gw_ctx_t *ctx);
void gw_put_bucket_versioning(gw_ctx_t *ctx);

/* Worker side: checks that ctx->bucket exists and that the caller may perform ctx's operation on
 * it (the policy evaluator, gw_authz.h: the operation's S3 action on the bucket or on ctx->key),
 * adds the bucket's CORS headers to the response, and sets ctx->bucket_ns / bucket_incarnation,
 * which every object call must use instead of the name; sets the S3 error and returns non-zero
 * when not. DeleteObjects is checked key by key (gw_bucket_authorize_key), not here. */
int gw_bucket_authorize(gw_ctx_t *ctx);
/* After gw_bucket_authorize: may the caller perform action on key of ctx->bucket? 0, or the S3
 * error set and non-zero. */
int gw_bucket_authorize_key(gw_ctx_t *ctx, int action, h2o_iovec_t key);
/* Same for an object of another bucket (a copy source: s3:GetObject on name/key, or
 * s3:GetObjectVersion when a version is named): its namespace into *ns (ctx's pool). */
int gw_bucket_authorize_name(gw_ctx_t *ctx, h2o_iovec_t name, h2o_iovec_t key, int version, h2o_iovec_t *ns,
                             uint64_t *incarnation);
/* Worker side, without authorization (CORS preflights): the incarnation of bucket name. 0, or
 * GW_ENOENT and the other gateway codes. */
int gw_bucket_lookup(gw_ctx_t *ctx, h2o_iovec_t name, uint64_t *incarnation);
/* The versioning state of ctx->bucket (meta_bucket_t.versioning: 0 never enabled, 1 enabled, 2
 * suspended), from the bucket cache (2 s); 0 when it cannot be read. After gw_bucket_authorize. */
uint32_t gw_bucket_versioning(gw_ctx_t *ctx);
/* After a write made an object visible in ctx->bucket_ns: 0 when the bucket is still the one
 * authorized and not being deleted (waiting while a deletion decides); otherwise the S3 error
 * is set and the write must not be acknowledged: GW_ENOENT when that incarnation is gone
 * (NoSuchBucket, or OperationAborted when the name was created again), so what the write left
 * may be discarded; another negative code when it could not be decided (503). Never cached:
 * this is what keeps acknowledged writes out of deleted buckets (gw_bucket.c). */
int gw_bucket_confirm(gw_ctx_t *ctx);
/* Forgets cached bucket records (after a delete). */
void gw_bucket_cache_forget(h2o_iovec_t name);

/* Objects (gw_object_ops.c; GET and HEAD in gw_get_object.c). */
void gw_put_object(gw_ctx_t *ctx);
void gw_get_object(gw_ctx_t *ctx);            /* GET and HEAD */
void gw_get_object_attributes(gw_ctx_t *ctx); /* gw_object_attrs.c */
void gw_delete_object(gw_ctx_t *ctx);
void gw_delete_objects(gw_ctx_t *ctx);
void gw_copy_object(gw_ctx_t *ctx);

/* The stored headers, user metadata (checked against S3's 2 KB limit, appended to user_meta,
 * which the caller disposes) and owner of a new object, from the request; shared by PutObject,
 * CopyObject (REPLACE) and CreateMultipartUpload. Sets the S3 error and returns non-zero on
 * bad metadata. */
int gw_object_attributes(gw_ctx_t *ctx, meta_buf_t *user_meta, meta_object_t *rec);

/* PutObject's write for a body that is not the request's (a form upload's file): the attributes
 * from fields (header names, lowercase), tags, ACL, lock, checksums (Content-MD5,
 * x-amz-checksum-*, verified against the data) and encryption from the request's headers, the data from src (size may
 * be GW_SIZE_UNKNOWN, but not for an encrypted object: its seal needs the size first), fewer than min_size bytes
 * refused (EntityTooSmall) before anything is visible; ETag, version and encryption headers added, the hex ETag into
 * etag. 0, or the S3 error set and non-zero (a source that fails with an error of its own keeps it). */
int gw_object_store_from(gw_ctx_t *ctx, const h2o_headers_t *fields, gw_source_t src, uint64_t size, uint64_t min_size,
                         char etag[33]);
/* POST Object: a browser form upload (gw_post_object.c), entered before authentication: the
 * signature and the policy come in the form's fields. */
void gw_post_object(gw_ctx_t *ctx);
/* Refuses (NoSuchVersion set, non-zero) a versionId other than "null", for the calls that serve
 * only the null version. */
int gw_parse_version_id(gw_ctx_t *ctx);

/* ---- versions (gw_versioning.c) ---- */

#define GW_VERSION_ID_MAX 33 /* 32 hex digits, or "null", and a NUL */
/* A new version id for a version written at mtime_ns: the complemented time (so that ids sort
 * newest first, as listings order them) then 8 random bytes (unique across gateways). */
void gw_version_id_new(int64_t mtime_ns, uint8_t vid[META_ID_LEN]);
/* The text of a version id: "null" for the null version, else 32 hex digits. */
void gw_version_id_format(const uint8_t vid[META_ID_LEN], char out[GW_VERSION_ID_MAX]);
/* Parses a version id's text; -1 when it is none this server made. */
int gw_version_id_parse(h2o_iovec_t text, uint8_t vid[META_ID_LEN]);
/* The ?versionId= of the request into vid: 0 with *given 0 when absent, 0 with *given 1 when
 * valid; else sets the S3 error (an id no version can have is NoSuchVersion, as S3 answers,
 * or InvalidArgument when empty) and returns -1. */
int gw_version_id_query(gw_ctx_t *ctx, uint8_t vid[META_ID_LEN], int *given);
/* Adds x-amz-version-id (when the bucket was ever versioned) and, for a delete marker,
 * x-amz-delete-marker: true, as S3 does on GET, HEAD, PUT and DELETE. */
void gw_version_headers(gw_ctx_t *ctx, uint32_t versioning, const meta_object_t *r);
/* Adds x-amz-version-id to the answer of a write (PutObject, CopyObject,
 * CompleteMultipartUpload) that made version r: none for the null version (a bucket never
 * versioned or suspended writes it), as S3 answers those writes. */
void gw_version_header_written(gw_ctx_t *ctx, const meta_object_t *r);
/* Writes a delete marker as the newest version of key in namespace ns (the null version's place
 * when versioning is 2, Suspended; a new version id when 1), owned by owner; *out its record
 * (pointing at key and owner). 0 or gw_object_commit's error. DeleteObject and lifecycle
 * expiration both come here; the caller confirms the bucket if it must. */
int gw_version_add_delete_marker(gw_cluster_t *c, meta_bytes_t ns, meta_bytes_t key, meta_bytes_t owner,
                                 uint32_t versioning, meta_object_t *out);

/* Copy sources, shared by CopyObject and UploadPartCopy (gw_object_ops.c). Parses
 * x-amz-copy-source ("[/]bucket/key[?versionId=id]") into bucket, key and, when a versionId is
 * given (*vid_given 1), vid; else sets the S3 error and returns -1. */
int gw_parse_copy_source(gw_ctx_t *ctx, h2o_iovec_t *bucket, h2o_iovec_t *key, uint8_t vid[META_ID_LEN],
                         int *vid_given);
/* Looks up the source (vid NULL: its newest version), authorizes it, checks the
 * x-amz-copy-source-if-* headers and answers x-amz-copy-source-version-id; else sets the S3 error
 * and returns -1. */
int gw_open_copy_source(gw_ctx_t *ctx, h2o_iovec_t bucket, h2o_iovec_t key, const uint8_t *vid, struct gw_object **out);
/* A copy (CopyObject's source, UploadPartCopy's range) of n bytes is refused past
 * max_object_size, S3's 5 GiB for one request: InvalidRequest set, -1. */
int gw_copy_size_check(gw_ctx_t *ctx, uint64_t n);
/* Writes n bytes at off of src as new part data in set (never inline); observe (may be NULL)
 * sees the bytes in order, as in gw_data_write. An encrypted source is decrypted with its key
 * (x-amz-copy-source-server-side-encryption-customer-*); seal (NULL: none) names the encrypted
 * upload part the bytes become, and out->md5 is then the part's ETag digest. GW_EINVAL with the
 * S3 error set when a key is missing or wrong. */
struct gw_sse_part;
int gw_copy_data(gw_ctx_t *ctx, struct gw_object *src, uint64_t off, uint64_t n, gw_set_t *set, const uint8_t dist[16],
                 gw_observe_fn observe, void *observe_arg, const struct gw_sse_part *seal, gw_data_t *out);

/* Listing (gw_list.c). */
void gw_list_objects(gw_ctx_t *ctx); /* v1 and v2 */
void gw_list_object_versions(gw_ctx_t *ctx);

/* Multipart (gw_multipart.c; the two listings in gw_multipart_list.c). */
void gw_create_multipart(gw_ctx_t *ctx);
void gw_upload_part(gw_ctx_t *ctx); /* and UploadPartCopy */
void gw_complete_multipart(gw_ctx_t *ctx);
void gw_abort_multipart(gw_ctx_t *ctx);
void gw_list_parts(gw_ctx_t *ctx);
void gw_list_multipart_uploads(gw_ctx_t *ctx);

/* Bucket configurations (gw_bucket_config_ops.c): policy, CORS, tagging, ownership controls,
 * public-access block, lifecycle, Object Lock; each operation of GW_OP_PUT_BUCKET_POLICY ..
 * GW_OP_GET_OBJECT_LOCK_CONFIGURATION. */
void gw_bucket_config_op(gw_ctx_t *ctx);
/* OPTIONS: a CORS preflight, answered from the bucket's rules without authentication. */
void gw_cors_preflight(gw_ctx_t *ctx);

/* Admin API under /yc-admin/ (gw_admin.c); root only. */
void gw_admin(gw_ctx_t *ctx);

/* IAM Query API (gw_iam_api.c): 1 when ctx is signed for the service "iam", else 0. */
int gw_iam_api_is_call(const gw_ctx_t *ctx);
/* Serves one IAM call, authenticating it itself (its signature covers the body); root only.
 * Loop thread, before any S3 authentication. */
void gw_iam_api(gw_ctx_t *ctx);

/* Conversions between h2o's and meta's pointer+length types. */
static inline meta_bytes_t gw_mb(h2o_iovec_t v)
{
    return (meta_bytes_t){v.base, v.len};
}
static inline h2o_iovec_t gw_iov(meta_bytes_t v)
{
    return h2o_iovec_init(v.base, v.len);
}

#endif
