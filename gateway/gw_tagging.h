/* gw_tagging.h — object tags: PutObjectTagging, GetObjectTagging and DeleteObjectTagging (with
 * versionId), the tags a new object is given (x-amz-tagging on PutObject and
 * CreateMultipartUpload, x-amz-tagging-directive on CopyObject), x-amz-tagging-count on GET and
 * HEAD, and the tag condition keys of bucket policies.
 *
 * Stored form: a version's tags are its attribute META_ATTR_TAGS (meta.h), whose value is the
 * stored tag set of gateway/s3/tagging.h (pairs sorted by key, each u32 length + bytes; decoding
 * refuses anything else). A version without tags has no such attribute: an empty set is never
 * stored. Tags of a version change under its key's lock (gw_attrs_change); tags of a new object
 * are in its record from the write (PutObject, CopyObject) or from its upload's record
 * (CreateMultipartUpload keeps them in meta_upload_t.attrs, Complete gives them to the object).
 *
 * Policies: s3:ExistingObjectTag/<key> is the object's tags for the calls that act on an existing
 * object (GetObject*, the tagging calls, DeleteObject*), read with a quorum lookup only when the
 * bucket policy names that key; s3:RequestObjectTag/<key> and s3:RequestObjectTagKeys are the
 * tags a PutObject, CopyObject or CreateMultipartUpload sends in x-amz-tagging, or a
 * PutObjectTagging sends in its body.
 */
#ifndef YC_GW_TAGGING_H
#define YC_GW_TAGGING_H
#include "gateway/gw_request.h"
#include "gateway/s3/policy.h"
#include "gateway/s3/tagging.h"
#include "meta/meta.h"

/* The tags of an object record, in key order: keys and values borrowed from rec->attrs, the
 * array from pool. 0 (count 0 for a version without tags), or -S3_ERR_INTERNAL_ERROR when the
 * stored bytes are not a tag set. Lifecycle Tag filters read objects' tags with this. */
int gw_tagging_of(h2o_mem_pool_t *pool, const meta_object_t *rec, s3_tagset_t *out);

/* Worker side, for a new object: sets the tags attribute of *attrs to what the request gives
 * (x-amz-tagging; for a copy, src's tags unless x-amz-tagging-directive is REPLACE), replacing
 * *attrs with a set from ctx's pool. src: the copy source's record, NULL for PutObject and
 * CreateMultipartUpload. 0, or the S3 error set (InvalidArgument, InvalidTag, BadRequest) and
 * non-zero. */
int gw_tagging_new_object(gw_ctx_t *ctx, const meta_object_t *src, meta_bytes_t *attrs);

/* Adds x-amz-tagging-count to a GET or HEAD answer when rec has tags. */
void gw_tagging_count_header(gw_ctx_t *ctx, const meta_object_t *rec);

/* Worker side: the tag condition keys of a request for action on key of the bucket (name,
 * incarnation) whose policy is policy, as evaluator values in ctx's pool (*n 0 when none apply).
 * The object's tags are looked up only when policy names s3:ExistingObjectTag. */
void gw_tagging_policy_values(gw_ctx_t *ctx, const s3_policy_t *policy, s3_policy_action_t action, h2o_iovec_t bucket,
                              uint64_t incarnation, h2o_iovec_t key, s3_policy_value_t **out, size_t *n);

/* Sets the S3 error of a tag parser's refusal (s3_tagging_parse_*), with its message and fields. */
void gw_tagging_set_detail(gw_ctx_t *ctx, int ret, const s3_error_detail_t *why);
/* Sorts set and encodes it into its stored form in ctx's pool; the S3 error set and non-zero on
 * failure. */
int gw_tagging_encode(gw_ctx_t *ctx, s3_tagset_t *set, h2o_iovec_t *stored);

/* The three tagging calls (gw_tagging_ops.c: handlers, entered on the loop with the body read
 * whole). */
void gw_put_object_tagging(gw_ctx_t *ctx);
void gw_get_object_tagging(gw_ctx_t *ctx);
void gw_delete_object_tagging(gw_ctx_t *ctx);

#endif
