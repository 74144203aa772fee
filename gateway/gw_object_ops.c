/* gw_object_ops.c — PutObject, DeleteObject, DeleteObjects, CopyObject, and what they share
 * with the multipart handlers: the attributes of a new object and copy sources. GetObject and
 * HeadObject stream, and are in gw_get_object.c.
 */
#include "gateway/s3/copy_source.h"
#include "gateway/gw_quota.h"
#include "gateway/gw_acl.h"
#include "gateway/gw_object_lock.h"
#include "gateway/gw_batch.h"
#include "gateway/gw_body.h"
#include "gateway/gw_checksums.h"
#include "gateway/gw_cond_write.h"
#include "gateway/gw_error.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_origin.h"
#include "gateway/gw_lifecycle.h"
#include "gateway/gw_sse.h"
#include "gateway/s3/policy.h"
#include "gateway/gw_object.h"
#include "gateway/gw_tagging.h"
#include "gateway/s3/checksum.h"
#include "gateway/s3/cond.h"
#include "gateway/s3/names.h"
#include "gateway/s3/version_id.h"
#include "gateway/s3/xml.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- shared helpers */

int gw_parse_version_id(gw_ctx_t *ctx)
{
    h2o_iovec_t v = s3_query_get(&ctx->query, "versionId");
    if (v.base != NULL && !h2o_memis(v.base, v.len, H2O_STRLIT("null"))) {
        gw_set_error(ctx, S3_ERR_NO_SUCH_VERSION, NULL);
        return -1;
    }
    return 0;
}

/* Stored headers, user metadata and checksum of a new object, taken from the request. */
typedef struct {
    meta_buf_t user_meta;
    meta_object_t rec;
    char etag[40];        /* rec.etag points here */
    gw_sse_request_t sse; /* the encryption asked for (kind NONE: none) */
} new_object_t;

static meta_bytes_t header_of(const h2o_headers_t *headers, const char *name)
{
    ssize_t i = h2o_find_header_by_str(headers, name, strlen(name), -1);
    return i < 0 ? (meta_bytes_t){NULL, 0} : gw_mb(headers->entries[i].value);
}

/* The attributes of a new object from header fields (the request's, or a form's fields). */
static int attributes_from(gw_ctx_t *ctx, const h2o_headers_t *headers, meta_buf_t *user_meta, meta_object_t *rec)
{
    size_t meta_total = 0;
    int ret;

    rec->content_type = header_of(headers, "content-type");
    if (rec->content_type.base == NULL)
        rec->content_type = (meta_bytes_t){"binary/octet-stream", 19};
    rec->content_encoding = header_of(headers, "content-encoding");
    rec->content_disposition = header_of(headers, "content-disposition");
    rec->content_language = header_of(headers, "content-language");
    rec->cache_control = header_of(headers, "cache-control");
    rec->expires = header_of(headers, "expires");
    /* aws-chunked is transport framing, not how the object is encoded: S3 drops it */
    if (rec->content_encoding.base != NULL &&
        h2o_memis(rec->content_encoding.base, rec->content_encoding.len, H2O_STRLIT("aws-chunked")))
        rec->content_encoding = (meta_bytes_t){NULL, 0};
    for (size_t i = 0; i < headers->size; i++) {
        const h2o_header_t *h = &headers->entries[i];
        if (!s3_meta_is_user(*h->name))
            continue;
        if ((ret = s3_meta_account(&meta_total, *h->name, h->value)) != 0) {
            gw_set_error(ctx, s3_error_from_ret(ret), NULL);
            return -1;
        }
        meta_bytes_t name = {h->name->base + 11, h->name->len - 11};
        if (meta_kv_append(user_meta, name, gw_mb(h->value)) != 0) {
            gw_set_error(ctx, S3_ERR_METADATA_TOO_LARGE, NULL);
            return -1;
        }
    }
    rec->user_meta = (meta_bytes_t){(const char *)user_meta->base, user_meta->len};
    rec->owner = gw_mb(ctx->user);
    return gw_acl_object_attrs(ctx, rec);
}

int gw_object_attributes(gw_ctx_t *ctx, meta_buf_t *user_meta, meta_object_t *rec)
{
    return attributes_from(ctx, &ctx->req->headers, user_meta, rec);
}

static int collect_attributes(gw_ctx_t *ctx, new_object_t *n)
{
    memset(n, 0, sizeof(*n));
    return gw_object_attributes(ctx, &n->user_meta, &n->rec);
}

/* Hashes the body during the data pass: SHA-256 for a signed payload, the x-amz-checksum-*. */
typedef struct {
    int want_sha256;
    EVP_MD_CTX *sha256;
    gw_checksum_t *checksum; /* NULL: none (CopyObject) */
} observer_t;

static void observe(void *arg, const void *data, size_t len)
{
    observer_t *o = arg;
    if (o->want_sha256)
        EVP_DigestUpdate(o->sha256, data, len);
    if (o->checksum != NULL)
        gw_checksum_observe(o->checksum, data, len);
}

/* Checks everything computed in the data pass; sets the error and returns non-zero on a mismatch. */
static int verify_digests(gw_ctx_t *ctx, observer_t *ob, const uint8_t md5[16])
{
    h2o_iovec_t content_md5 = gw_header(ctx, "content-md5");
    int bad = 0;

    if (ob->want_sha256) {
        uint8_t digest[32];
        EVP_DigestFinal_ex(ob->sha256, digest, NULL);
        EVP_MD_CTX_free(ob->sha256);
        ob->sha256 = NULL;
        if (CRYPTO_memcmp(digest, ctx->auth.payload_sha256, 32) != 0) {
            gw_set_error(ctx, S3_ERR_X_AMZ_CONTENT_SHA256_MISMATCH, NULL);
            bad = 1;
        }
    }
    if (!bad && ob->checksum != NULL && gw_checksum_finish(ctx, ob->checksum) != 0)
        bad = 1;
    if (!bad && content_md5.base != NULL && s3_checksum_compare_base64(md5, 16, content_md5) != 0) {
        gw_set_error(ctx, S3_ERR_BAD_DIGEST, NULL);
        bad = 1;
    }
    return bad;
}

/* Writes size bytes from src as a new version of ctx->bucket/ctx->key with n's attributes.
 * Used by PutObject (checksum: the body's, begun; cond: its conditions), POST Object (checksum:
 * the form's; min_size: the policy's least content length) and CopyObject (checksum NULL). Sets the
 * response's ETag. */
static int store_new_object(gw_ctx_t *ctx, new_object_t *n, gw_source_t src, uint64_t size, int sha256_pending,
                            gw_checksum_t *checksum, uint64_t min_size, gw_cond_write_t *cond)
{
    observer_t ob = {.want_sha256 = sha256_pending, .checksum = checksum};
    gw_data_t data;
    char *etag = n->etag;
    int ret;

    /* before the first byte of the body is pulled: a write over quota reads nothing (a form's
     * file, whose size comes at its end, is checked again below with it) */
    int size_known = size != GW_SIZE_UNKNOWN;
    if (gw_quota_check(ctx, size_known ? size : 0) != 0)
        return -1;
    if (sha256_pending &&
        ((ob.sha256 = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(ob.sha256, EVP_sha256(), NULL) != 1)) {
        EVP_MD_CTX_free(ob.sha256);
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        return -1;
    }

    uint8_t dist[16], plain_md5[16], etag_md5[16];
    gw_set_t *set = gw_cluster_place(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key), dist);
    /* an encrypted object: the data pass stores what the writer seals, the writer sees the plaintext */
    gw_sse_writer_t *sw = NULL;
    if (n->sse.kind != GW_SSE_NONE) {
        size_t unit = size <= ctx->cluster->inline_max ? (size_t)size : ctx->cluster->stripe_size;
        if (gw_sse_writer_new(ctx, &n->sse, src, size, unit, observe, &ob, &sw) != 0) {
            EVP_MD_CTX_free(ob.sha256);
            if (ctx->error == S3_OK) /* else the key service's answer (an unknown key id) */
                gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
            return -1;
        }
        src = gw_sse_writer_source(sw);
    }
    ret = gw_data_write(ctx->cluster, set, dist, src, sw != NULL ? gw_sse_writer_stored_size(sw) : size, 1,
                        sw != NULL ? NULL : observe, &ob, &data);
    if (ret != 0) {
        EVP_MD_CTX_free(ob.sha256);
        gw_sse_writer_free(sw);
        /* else the body's own error is the answer, or the source's (a form's file that did not
         * end at its planned size) */
        if (!gw_body_failed(ctx) && ctx->error == S3_OK)
            gw_set_store_error(ctx, ret);
        return -1;
    }
    memcpy(plain_md5, data.md5, 16);
    memcpy(etag_md5, data.md5, 16);
    if (sw != NULL)
        gw_sse_writer_digests(sw, data.md5, plain_md5, etag_md5);
    /* the rest of a streamed body (aws-chunked: the last signatures, the trailer) before the digests */
    if (gw_body_end(ctx) != 0 || verify_digests(ctx, &ob, plain_md5) != 0) {
        EVP_MD_CTX_free(ob.sha256);
        gw_sse_writer_free(sw);
        gw_data_remove(ctx->cluster, &data);
        gw_data_dispose(&data);
        return -1;
    }
    uint64_t stored = data.size;
    size = sw != NULL ? gw_sse_writer_plain_size(sw) : data.size; /* a form's file: known now */
    meta_buf_t sse_attrs = {0};
    ret = sw != NULL ? gw_sse_writer_attrs(sw, n->rec.attrs, &sse_attrs) : 0;
    gw_sse_writer_free(sw);
    if (ret != 0 || size < min_size) {
        if (ret != 0)
            gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        else
            gw_set_error(ctx, S3_ERR_ENTITY_TOO_SMALL, "Your proposed upload is smaller than the minimum allowed size");
        meta_buf_dispose(&sse_attrs);
        gw_data_remove(ctx->cluster, &data);
        gw_data_dispose(&data);
        return -1;
    }
    if (!size_known && gw_quota_check(ctx, size) != 0) { /* nothing visible yet: its shards go */
        gw_data_remove(ctx->cluster, &data);
        gw_data_dispose(&data);
        return -1;
    }

    /* a condition is judged only now, under the key's lock, just before the record is written */
    if (cond != NULL && gw_cond_write_check(ctx, cond) != 0) {
        meta_buf_dispose(&sse_attrs);
        gw_data_remove(ctx->cluster, &data);
        gw_data_dispose(&data);
        return -1;
    }

    yc_hex(etag_md5, 16, etag);
    meta_buf_t parts = {0};
    meta_part_ref_t part = {.number = 1, .size = stored}; /* what the engine stored: more when encrypted */
    memcpy(part.data_id, data.data_id, META_ID_LEN);
    memcpy(part.etag, etag_md5, 16);
    meta_parts_append(&parts, &part);

    meta_object_t *r = &n->rec;
    uint32_t versioning = gw_bucket_versioning(ctx);
    r->bucket = gw_mb(ctx->bucket_ns);
    r->key = gw_mb(ctx->key);
    r->mtime_ns = yc_now_ns();
    /* Enabled: a new version beside the others; never versioned or Suspended: the null version,
     * which replaces the previous null version only (the drive's null slot) */
    if (versioning == 1)
        gw_version_id_new(r->mtime_ns, r->vid);
    r->flags = data.is_inline ? META_OBJ_INLINE : 0;
    r->size = size;
    r->etag = (meta_bytes_t){etag, 32};
    if (checksum != NULL)
        gw_checksum_object_record(checksum, r);
    r->ec_k = set->k;
    r->ec_m = set->m;
    r->stripe_size = ctx->cluster->stripe_size;
    memcpy(r->distribution, dist, 16);
    r->parts = (meta_bytes_t){(const char *)parts.base, parts.len};
    r->part_count = 1;
    if (n->sse.kind != GW_SSE_NONE)
        r->attrs = (meta_bytes_t){(const char *)sse_attrs.base, sse_attrs.len};
    ret = gw_object_commit(ctx->cluster, set, r, &data);
    if (cond != NULL)
        gw_cond_write_done(cond);
    meta_buf_dispose(&parts);
    if (ret != 0) {
        /* The shards are not removed here: a drive whose record write failed may still hold the
         * record (a WAL append whose sync failed is replayed when the database reopens; a network
         * answer that was lost), and a record must never name deleted shards. The commit queued
         * the write's cleanup (gw_cleanup.h), which deletes them drive by drive once the record
         * is gone there. */
        meta_buf_dispose(&sse_attrs);
        gw_data_dispose(&data);
        gw_set_store_error(ctx, ret);
        return -1;
    }
    gw_data_dispose(&data);
    /* visible now: acknowledge it only if its bucket was not deleted meanwhile; a write into an
     * incarnation that is gone is taken back at once (the namespace's sweep would get it too) */
    if ((ret = gw_bucket_confirm(ctx)) != 0) {
        meta_buf_dispose(&sse_attrs);
        if (ret == GW_ENOENT)
            gw_object_discard(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key));
        return -1;
    }
    gw_usage_note_write(gw_mb(ctx->bucket_ns), r->size);
    char quoted[48];
    snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
    gw_add_header_str(ctx, "etag", quoted);
    gw_version_header_written(ctx, r);
    gw_lifecycle_expiration_header(ctx, r);
    gw_sse_headers(ctx, r->attrs, &n->sse);
    meta_buf_dispose(&sse_attrs);
    if (checksum != NULL)
        gw_checksum_echo(ctx, checksum, 1);
    return 0;
}

int gw_object_store_from(gw_ctx_t *ctx, const h2o_headers_t *fields, gw_source_t src, uint64_t size, uint64_t min_size,
                         char etag[33])
{
    meta_buf_t lock_attrs = {0};
    gw_checksum_t checksum = {0};
    new_object_t n;
    int ret = -1;

    memset(&n, 0, sizeof(n));
    /* an encrypted file of unknown size has its size bound at commit (gw_sse.h, format 2) */
    if (gw_sse_parse_write(ctx, &n.sse) != 0)
        return -1;
    /* a bucket with Object Lock gives the object its default retention, as to any new version */
    if (attributes_from(ctx, fields, &n.user_meta, &n.rec) == 0 &&
        gw_tagging_new_object(ctx, NULL, &n.rec.attrs) == 0 &&
        gw_object_lock_new_version(ctx, 0, &n.rec, &lock_attrs) == 0 && gw_checksum_begin(ctx, &checksum) == 0 &&
        (ret = store_new_object(ctx, &n, src, size, 0, &checksum, min_size, NULL)) == 0)
        memcpy(etag, n.etag, 33);
    OPENSSL_cleanse(&n.sse, sizeof(n.sse));
    gw_checksum_dispose(&checksum);
    meta_buf_dispose(&lock_attrs);
    meta_buf_dispose(&n.user_meta);
    return ret;
}

/* ---------------------------------------------------------------- PutObject */

static void put_object_work(gw_ctx_t *ctx)
{
    gw_checksum_t checksum;
    gw_cond_write_t cond;
    new_object_t n;
    gw_source_t src;
    uint64_t size;
    int sha256_pending;

    /* nothing of the body is read before these checks: the first pull of src reads it */
    if (gw_bucket_authorize(ctx) != 0 || gw_cond_write_parse(ctx, &cond) != 0 ||
        gw_body_source(ctx, 1, &src, &size, &sha256_pending) != 0)
        return;
    meta_buf_t lock_attrs = {0};
    if (collect_attributes(ctx, &n) == 0 && gw_sse_parse_write(ctx, &n.sse) == 0 &&
        gw_tagging_new_object(ctx, NULL, &n.rec.attrs) == 0 &&
        gw_object_lock_new_version(ctx, 1, &n.rec, &lock_attrs) == 0 && gw_checksum_begin(ctx, &checksum) == 0) {
        store_new_object(ctx, &n, src, size, sha256_pending, &checksum, 0, cond.active ? &cond : NULL);
        gw_checksum_dispose(&checksum);
    }
    OPENSSL_cleanse(&n.sse, sizeof(n.sse));
    meta_buf_dispose(&lock_attrs);
    meta_buf_dispose(&n.user_meta);
}

static void put_object_dispatch(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, put_object_work);
}

void gw_put_object(gw_ctx_t *ctx)
{
    h2o_iovec_t md5 = gw_header(ctx, "content-md5");
    uint8_t digest[16];
    size_t len;

    if (md5.base != NULL && (s3_checksum_from_base64(md5, digest, sizeof(digest), &len) != 0 || len != 16)) {
        gw_fail(ctx, S3_ERR_INVALID_DIGEST, NULL);
        return;
    }
    /* a body that came with the head: the worker starts once it is in, with no round trip to this
     * loop for it */
    if (!gw_body_prefetch(ctx, 1, put_object_dispatch))
        put_object_dispatch(ctx);
}

/* ---------------------------------------------------------------- DeleteObject(s) */

/* Writes a delete marker as the newest version of key (the null version's place when
 * suspended), *out its record. */
static int add_delete_marker(gw_ctx_t *ctx, h2o_iovec_t key, uint32_t versioning, meta_object_t *out)
{
    int ret = gw_version_add_delete_marker(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(key), gw_mb(ctx->user),
                                           versioning, out);
    if (ret != 0)
        return ret;
    return gw_bucket_confirm(ctx) != 0 ? GW_ENOENT : 0;
}

/* Deletes key as S3 does: without a version id, the object of a bucket never versioned goes
 * (a missing key is a success) and a versioned bucket gets a delete marker; with one, exactly
 * that version (or marker) goes. *shown gets the record the answer names (the marker added, or
 * the version removed; flags 0 and null vid when nothing was). */
static int delete_key(gw_ctx_t *ctx, h2o_iovec_t key, const uint8_t *vid, uint32_t versioning, meta_object_t *shown,
                      char *vid_text)
{
    gw_object_t *o;
    int ret;

    memset(shown, 0, sizeof(*shown));
    if (vid == NULL && versioning != 0) {
        if ((ret = add_delete_marker(ctx, key, versioning, shown)) == 0)
            gw_version_id_format(shown->vid, vid_text);
        return ret;
    }
    if (vid != NULL)
        gw_version_id_format(vid, vid_text);
    gw_object_lock_guard_t guard;
    if ((ret = gw_object_lock_guard(ctx, key, &guard)) != 0)
        return ret;
    ret = gw_object_lookup(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(key), vid, &o);
    if (ret == GW_ENOENT)
        ret = 0;
    else if (ret == 0) {
        shown->flags = gw_object_record(o)->flags;
        if (vid != NULL)
            memcpy(shown->vid, vid, META_ID_LEN);
        if ((ret = gw_object_lock_check_delete(ctx, gw_object_record(o), key)) == 0)
            ret = gw_object_remove(ctx->cluster, o);
        gw_object_free(o);
    }
    gw_object_lock_unguard(&guard);
    return ret;
}

static void delete_object_work(gw_ctx_t *ctx)
{
    uint8_t vid[META_ID_LEN];
    char vid_text[GW_VERSION_ID_MAX];
    meta_object_t shown;
    gw_cond_write_t cond;
    uint32_t versioning;
    int ret, given;

    if (gw_version_id_query(ctx, vid, &given) != 0 || gw_bucket_authorize(ctx) != 0 ||
        gw_cond_delete_parse(ctx, &cond) != 0)
        return;
    versioning = gw_bucket_versioning(ctx);
    /* conditions are judged on the current version, under the key's lock (gw_cond_write.h) */
    if ((ret = gw_cond_write_check(ctx, &cond)) != 0) {
        if (ret > 0) /* the conditions allow it, and there is nothing to delete */
            ctx->status = 204;
        return;
    }
    ret = delete_key(ctx, ctx->key, given ? vid : NULL, versioning, &shown, vid_text);
    gw_cond_write_done(&cond);
    if (ret != 0) {
        if (ctx->error == S3_OK)
            gw_set_store_error(ctx, ret);
        return;
    }
    gw_usage_note_delete(gw_mb(ctx->bucket_ns));
    if (shown.flags & META_OBJ_DELETE_MARKER)
        gw_add_header_str(ctx, "x-amz-delete-marker", "true");
    if (versioning != 0 || given)
        gw_add_header_str(ctx, "x-amz-version-id", vid_text);
    ctx->status = 204;
}

void gw_delete_object(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, delete_object_work);
}

/* DeleteObjects: its keys are deleted concurrently (gw_batch.h), each exactly as the DeleteObject
 * of that key would be (authorization, conditions, Object Lock, versions and markers, under the
 * key's own locks), and answered in the order the request names them. The entries that name one
 * key more than once form a chain worked in request order by one runner, so that the second
 * delete of a key sees the first one's outcome as it would one after the other. */
typedef struct {
    s3_error_t err; /* S3_OK: deleted */
    const char *message;
    uint32_t flags; /* of the record the answer names (a marker added or removed) */
    char vid_text[GW_VERSION_ID_MAX];
    s3_error_t request_err; /* an error of the whole request met on this key (the bucket gone) */
    const char *request_message;
} delete_result_t;

typedef struct {
    gw_ctx_t *ctx;
    const s3_xml_delete_t *del;
    uint32_t versioning;
    size_t *heads;     /* the first entry of each distinct key */
    size_t *next_same; /* the next entry naming the same key; SIZE_MAX: none */
    delete_result_t *results;
    gw_batch_ctx_t *runners; /* one context per runner, made when it takes its first key */
    uint8_t *runner_ready;
} delete_batch_t;

/* One entry of the request, on a runner's copy of the context. Every error message set on this
 * path is a literal or from the error table: r keeps the pointers past the copy's pool. */
static void delete_entry(gw_ctx_t *ctx, const s3_xml_delete_object_t *o, uint32_t versioning, delete_result_t *r)
{
    uint8_t vid[META_ID_LEN];
    int ret;

    r->err = S3_OK;
    r->message = NULL;
    if (s3_key_validate(o->key) != 0)
        r->err = S3_ERR_INVALID_ARGUMENT;
    else if (o->version_id.base != NULL && gw_version_id_parse(o->version_id, vid) != 0)
        r->err = S3_ERR_NO_SUCH_VERSION;
    else if (gw_bucket_authorize_key(ctx, S3_POLICY_ACTION_DELETE_OBJECT, o->key) != 0) {
        r->err = ctx->error; /* this key's answer, not the request's */
        r->message = ctx->error_message;
        gw_set_error(ctx, S3_OK, NULL);
    } else {
        /* <ETag>: a conditional delete of this key, as If-Match on DeleteObject */
        gw_cond_write_t cond;
        meta_object_t shown = {0};
        gw_cond_delete_object(o, &cond);
        if ((ret = gw_cond_write_check(ctx, &cond)) < 0) {
            r->err = ctx->error;
            r->message = ctx->error_message;
            gw_set_error(ctx, S3_OK, NULL);
        } else if (ret == 0 && (ret = delete_key(ctx, o->key, o->version_id.base != NULL ? vid : NULL, versioning,
                                                 &shown, r->vid_text)) != 0) {
            gw_error_lookup(ret, &r->err, &r->message); /* the answer a DeleteObject would get */
        }
        r->flags = shown.flags;
        gw_cond_write_done(&cond);
    }
    /* what is left on the context concerns the whole request (gw_bucket_confirm: the bucket is gone) */
    r->request_err = ctx->error;
    r->request_message = ctx->error_message;
    gw_set_error(ctx, S3_OK, NULL);
}

static void delete_batch_item(void *arg, size_t runner, size_t head)
{
    delete_batch_t *b = arg;
    gw_batch_ctx_t *c = &b->runners[runner];

    if (!b->runner_ready[runner]) {
        gw_batch_ctx_init(c, b->ctx);
        b->runner_ready[runner] = 1;
    }
    for (size_t i = b->heads[head]; i != SIZE_MAX; i = b->next_same[i])
        delete_entry(&c->ctx, &b->del->objects[i], b->versioning, &b->results[i]);
}

static void delete_batch_done(void *arg, size_t runner)
{
    delete_batch_t *b = arg;
    if (b->runner_ready[runner])
        gw_batch_ctx_dispose(&b->runners[runner]);
}

/* Chains the entries that name the same key (heads: the first of each key, in request order);
 * *nheads their count. */
static void delete_batch_chain(h2o_mem_pool_t *pool, const s3_xml_delete_t *del, delete_batch_t *b, size_t *nheads)
{
    size_t cap = 16;
    while (cap < 2 * del->count)
        cap *= 2;
    size_t *table = h2o_mem_alloc_pool(pool, cap * sizeof(*table)); /* entry index + 1 of a key's last entry */
    size_t *tail = h2o_mem_alloc_pool(pool, del->count * sizeof(*tail));
    memset(table, 0, cap * sizeof(*table));
    *nheads = 0;
    for (size_t i = 0; i < del->count; i++) {
        h2o_iovec_t key = del->objects[i].key;
        uint64_t h = 1469598103934665603ULL; /* FNV-1a */
        for (size_t j = 0; j < key.len; j++)
            h = (h ^ (uint8_t)key.base[j]) * 1099511628211ULL;
        size_t slot = (size_t)h & (cap - 1);
        b->next_same[i] = SIZE_MAX;
        for (;; slot = (slot + 1) & (cap - 1)) {
            if (table[slot] == 0) { /* a key not seen before */
                table[slot] = i + 1;
                tail[i] = i;
                b->heads[(*nheads)++] = i;
                break;
            }
            size_t first = table[slot] - 1;
            h2o_iovec_t k = del->objects[first].key;
            if (h2o_memis(k.base, k.len, key.base, key.len)) {
                b->next_same[tail[first]] = i;
                tail[first] = i;
                break;
            }
        }
    }
}

static void delete_objects_work(gw_ctx_t *ctx)
{
    h2o_mem_pool_t *pool = &ctx->req->pool;
    s3_xml_delete_t del = {0};
    s3_xml_writer_t w;
    delete_batch_t b;
    size_t nheads;
    int ret;

    /* S3 requires Content-MD5 or an x-amz-checksum-* (CRC32 from today's SDKs) on this call */
    if (gw_bucket_authorize(ctx) != 0 || gw_body_prepare(ctx) != 0 || gw_checksum_body_verify(ctx, 1) != 0)
        return;
    if ((ret = s3_xml_parse_delete(pool, ctx->body, &del)) != 0) {
        gw_set_error(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    size_t width = ctx->env->cfg->delete_concurrency;
    memset(&b, 0, sizeof(b));
    b.ctx = ctx;
    b.del = &del;
    b.versioning = gw_bucket_versioning(ctx);
    b.heads = h2o_mem_alloc_pool(pool, del.count * sizeof(*b.heads));
    b.next_same = h2o_mem_alloc_pool(pool, del.count * sizeof(*b.next_same));
    b.results = h2o_mem_alloc_pool(pool, del.count * sizeof(*b.results));
    memset(b.results, 0, del.count * sizeof(*b.results));
    delete_batch_chain(pool, &del, &b, &nheads);
    if (width < 1)
        width = 1;
    if (width > nheads)
        width = nheads;
    b.runners = h2o_mem_alloc_pool(pool, width * sizeof(*b.runners));
    b.runner_ready = h2o_mem_alloc_pool(pool, width);
    memset(b.runner_ready, 0, width);
    if ((ret = gw_batch_run(ctx->env->pool, nheads, width, delete_batch_item, delete_batch_done, &b)) != 0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    for (size_t i = 0; i < del.count; i++) /* the first entry that met one answers the request with it */
        if (b.results[i].request_err != S3_OK) {
            gw_set_error(ctx, b.results[i].request_err, b.results[i].request_message);
            break;
        }
    s3_xml_writer_init(&w, pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "DeleteResult");
    for (size_t i = 0; i < del.count; i++) {
        const s3_xml_delete_object_t *o = &del.objects[i];
        const delete_result_t *r = &b.results[i];
        if (r->err != S3_OK) {
            s3_xml_open(&w, "Error");
            s3_xml_element(&w, "Key", o->key);
            if (o->version_id.base != NULL) /* S3 names the version it refused */
                s3_xml_element(&w, "VersionId", o->version_id);
            s3_xml_element_str(&w, "Code", s3_error_info(r->err)->code);
            s3_xml_element_str(&w, "Message", r->message != NULL ? r->message : s3_error_info(r->err)->message);
            s3_xml_close(&w, "Error");
        } else if (!del.quiet) {
            s3_xml_open(&w, "Deleted");
            s3_xml_element(&w, "Key", o->key);
            if (o->version_id.base != NULL)
                s3_xml_element(&w, "VersionId", o->version_id);
            if (r->flags & META_OBJ_DELETE_MARKER) {
                s3_xml_element_bool(&w, "DeleteMarker", 1);
                if (o->version_id.base == NULL) /* the marker this delete added */
                    s3_xml_element_str(&w, "DeleteMarkerVersionId", r->vid_text);
            }
            s3_xml_close(&w, "Deleted");
        }
    }
    s3_xml_close(&w, "DeleteResult");
    gw_usage_note_delete(gw_mb(ctx->bucket_ns));
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
}

void gw_delete_objects(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, delete_objects_work);
}

/* ---------------------------------------------------------------- CopyObject */

/* Reads the copy source one stripe at a time into a buffer of its own. */
typedef struct {
    gw_object_t *obj;
    uint64_t base; /* first byte of the source range */
    uint8_t *buf;
    size_t cap;
    gw_sse_reader_t *sse; /* an encrypted source's decrypting reads; NULL: stored in plaintext */
} copy_source_t;

static const uint8_t *copy_next(void *arg, uint64_t off, size_t len)
{
    copy_source_t *cs = arg;
    if (len > cs->cap) {
        free(cs->buf);
        if ((cs->buf = malloc(len)) == NULL) {
            cs->cap = 0;
            return NULL;
        }
        cs->cap = len;
    }
    int ret = cs->sse != NULL ? gw_sse_read(cs->sse, cs->obj, cs->base + off, len, cs->buf)
                              : gw_object_read(cs->obj, cs->base + off, len, cs->buf);
    return ret == 0 ? cs->buf : NULL;
}

/* Opens the decrypting view of an encrypted copy source (an SSE-C source's key comes in the
 * x-amz-copy-source-server-side-encryption-customer-* headers). 0, or the S3 error set and -1. */
static int copy_source_sse(gw_ctx_t *ctx, copy_source_t *cs)
{
    gw_sse_request_t req;
    int ret = gw_sse_parse_customer(ctx, "x-amz-copy-source-", &req);
    if (ret == 0)
        ret = gw_sse_reader_open(ctx, gw_object_record(cs->obj), &req, &cs->sse);
    OPENSSL_cleanse(&req, sizeof(req));
    return ret;
}

int gw_parse_copy_source(gw_ctx_t *ctx, h2o_iovec_t *bucket, h2o_iovec_t *key, uint8_t vid[META_ID_LEN], int *vid_given)
{
    int ret = s3_copy_source_parse(&ctx->req->pool, gw_header(ctx, "x-amz-copy-source"), bucket, key, vid, vid_given);
    if (ret != 0)
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT,
                     ret == S3_COPY_SOURCE_BAD_VERSION ? "Invalid version id specified"
                                                       : "Invalid copy source object key");
    return ret != 0 ? -1 : 0;
}

int gw_open_copy_source(gw_ctx_t *ctx, h2o_iovec_t bucket, h2o_iovec_t key, const uint8_t *vid, gw_object_t **out)
{
    h2o_iovec_t ns;
    int ret;

    if (gw_bucket_authorize_name(ctx, bucket, key, vid != NULL, &ns, NULL) != 0)
        return -1;
    if ((ret = gw_object_lookup(ctx->cluster, gw_mb(ns), gw_mb(key), vid, out)) != 0) {
        if (ret == GW_ENOENT)
            gw_set_error(ctx, vid != NULL ? S3_ERR_NO_SUCH_VERSION : S3_ERR_NO_SUCH_KEY, NULL);
        else
            gw_set_store_error(ctx, ret);
        return -1;
    }
    const meta_object_t *r = gw_object_record(*out);
    s3_cond_t cond = {gw_header(ctx, "x-amz-copy-source-if-match"), gw_header(ctx, "x-amz-copy-source-if-none-match"),
                      gw_header(ctx, "x-amz-copy-source-if-modified-since"),
                      gw_header(ctx, "x-amz-copy-source-if-unmodified-since")};
    if ((r->flags & META_OBJ_DELETE_MARKER) != 0) {
        if (vid != NULL) /* what AWS answers for a marker named as a copy source */
            gw_set_error(ctx, S3_ERR_INVALID_REQUEST,
                         "The source of a copy request may not specifically refer to a delete marker by version id.");
        else
            gw_set_error(ctx, S3_ERR_NO_SUCH_KEY, NULL);
        goto fail;
    }
    if ((ret = s3_cond_check_copy_source(&cond, gw_iov(r->etag), gw_last_modified_ns(r))) != 0) {
        gw_set_error(ctx, s3_error_from_ret(ret), NULL);
        goto fail;
    }
    /* which version was copied: named, or one of a versioned source (a never-versioned bucket's
     * null version is shown without an id, as S3 does) */
    if (vid != NULL || !s3_version_id_is_null(r->vid)) {
        char text[GW_VERSION_ID_MAX];
        gw_version_id_format(r->vid, text);
        gw_add_header_str(ctx, "x-amz-copy-source-version-id", text);
    }
    return 0;
fail:
    gw_object_free(*out);
    *out = NULL;
    return -1;
}

/* Copies n bytes at off of src into new part data (UploadPartCopy). */
int gw_copy_size_check(gw_ctx_t *ctx, uint64_t n)
{
    uint64_t max = ctx->env->cfg->max_object_size;
    if (n <= max)
        return 0;
    char *msg = h2o_mem_alloc_pool(&ctx->req->pool, 128);
    snprintf(msg, 128, "The specified copy source is larger than the maximum allowable size for a copy source: %llu",
             (unsigned long long)max);
    gw_set_error(ctx, S3_ERR_INVALID_REQUEST, msg);
    return -1;
}

int gw_copy_data(gw_ctx_t *ctx, gw_object_t *src, uint64_t off, uint64_t n, gw_set_t *set, const uint8_t dist[16],
                 gw_observe_fn observe, void *observe_arg, const gw_sse_part_t *seal, gw_data_t *out)
{
    copy_source_t cs = {.obj = src, .base = off};
    gw_source_t from = {copy_next, &cs};
    gw_sse_writer_t *sw = NULL;
    uint8_t plain_md5[16], etag[16];

    if (copy_source_sse(ctx, &cs) != 0)
        return GW_EINVAL; /* the S3 error is set */
    if (seal != NULL && gw_sse_part_writer_new(ctx, seal->upload_attrs, seal->number, seal->req, from, n,
                                               ctx->cluster->stripe_size, observe, observe_arg, &sw) != 0) {
        gw_sse_reader_free(cs.sse);
        return GW_EINVAL;
    }
    if (sw != NULL)
        from = gw_sse_writer_source(sw);
    int ret = gw_data_write(ctx->cluster, set, dist, from, sw != NULL ? gw_sse_writer_stored_size(sw) : n, 0,
                            sw != NULL ? NULL : observe, observe_arg, out);
    if (ret == 0 && sw != NULL) {
        gw_sse_writer_digests(sw, out->md5, plain_md5, etag);
        memcpy(out->md5, etag, 16);
    }
    gw_sse_writer_free(sw);
    gw_sse_reader_free(cs.sse);
    free(cs.buf);
    return ret;
}

static void copy_object_work(gw_ctx_t *ctx)
{
    h2o_iovec_t src_bucket, src_key, directive = gw_header(ctx, "x-amz-metadata-directive");
    gw_object_t *src = NULL;
    new_object_t n;
    meta_buf_t lock_attrs = {0};
    gw_cond_write_t cond;
    int replace = 0;

    memset(&n, 0, sizeof(n));
    if (directive.base != NULL) {
        if (h2o_memis(directive.base, directive.len, H2O_STRLIT("REPLACE")))
            replace = 1;
        else if (!h2o_memis(directive.base, directive.len, H2O_STRLIT("COPY"))) {
            gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Unknown metadata directive.");
            return;
        }
    }
    uint8_t src_vid[META_ID_LEN];
    int src_vid_given;
    if (gw_bucket_authorize(ctx) != 0 || gw_cond_write_parse(ctx, &cond) != 0 ||
        gw_parse_copy_source(ctx, &src_bucket, &src_key, src_vid, &src_vid_given) != 0 ||
        gw_open_copy_source(ctx, src_bucket, src_key, src_vid_given ? src_vid : NULL, &src) != 0)
        return;
    const meta_object_t *r = gw_object_record(src);
    copy_source_t cs = {.obj = src};
    gw_sse_request_t sse;
    if (gw_copy_size_check(ctx, r->size) != 0 || copy_source_sse(ctx, &cs) != 0 || gw_sse_parse_write(ctx, &sse) != 0)
        goto done;
    if (!replace && sse.kind == GW_SSE_NONE &&
        h2o_memis(src_bucket.base, src_bucket.len, ctx->bucket.base, ctx->bucket.len) &&
        h2o_memis(src_key.base, src_key.len, ctx->key.base, ctx->key.len)) {
        gw_set_error(ctx, S3_ERR_INVALID_REQUEST,
                     "This copy request is illegal because it is trying to copy an object to itself without changing "
                     "the object's metadata, storage class, website redirect location or encryption attributes.");
        goto done;
    }
    if (replace) {
        if (collect_attributes(ctx, &n) != 0)
            goto done;
    } else {
        n.rec.content_type = r->content_type;
        n.rec.content_encoding = r->content_encoding;
        n.rec.content_disposition = r->content_disposition;
        n.rec.content_language = r->content_language;
        n.rec.cache_control = r->cache_control;
        n.rec.expires = r->expires;
        n.rec.user_meta = r->user_meta;
        n.rec.owner = gw_mb(ctx->user);
        if (gw_acl_object_attrs(ctx, &n.rec) != 0)
            goto done;
    }
    if (gw_tagging_new_object(ctx, r, &n.rec.attrs) != 0 ||
        gw_object_lock_new_version(ctx, 0, &n.rec, &lock_attrs) != 0)
        goto done;
    n.sse = sse;
    /* the copy's bytes are not the request's: no payload hash or checksum applies to them */
    ctx->auth.payload_mode = S3_PAYLOAD_UNSIGNED;
    /* If-Match / If-None-Match name the destination, judged under its key's lock as for a PUT */
    if (store_new_object(ctx, &n, (gw_source_t){copy_next, &cs}, r->size, 0, NULL, 0, cond.active ? &cond : NULL) ==
        0) {
        s3_xml_writer_t w;
        char etag[80];
        snprintf(etag, sizeof(etag), "\"%.*s\"", 32, n.rec.etag.base);
        s3_xml_writer_init(&w, &ctx->req->pool);
        s3_xml_declaration(&w);
        s3_xml_open_root(&w, "CopyObjectResult");
        s3_xml_element_time(&w, "LastModified", n.rec.mtime_ns);
        s3_xml_element_str(&w, "ETag", etag);
        s3_xml_close(&w, "CopyObjectResult");
        ctx->resp_body = s3_xml_writer_result(&w);
        ctx->content_type = "application/xml";
    }
done:
    free(cs.buf);
    gw_sse_reader_free(cs.sse);
    OPENSSL_cleanse(&sse, sizeof(sse));
    OPENSSL_cleanse(&n.sse, sizeof(n.sse));
    meta_buf_dispose(&lock_attrs);
    meta_buf_dispose(&n.user_meta);
    gw_object_free(src);
}

void gw_copy_object(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, copy_object_work);
}
