/* gw_multipart.c — the multipart operations that change an upload: CreateMultipartUpload,
 * UploadPart and UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload.
 *
 * The records they read and change, and the lock that orders Complete, Abort and the record swap
 * of UploadPart, are gw_upload.h's; here is what S3 makes of them. UploadPart writes the part's
 * data first (erasure-coded like an object, hashed in the same pass) and only then takes the
 * upload's lock to swap the part's record. Complete checks the client's list against the part
 * records, writes one object record that references the parts' data ids (no byte is copied),
 * ends the upload under its lock, then deletes the parts the list left out. The listings
 * (ListParts, ListMultipartUploads) only read, and are in gw_multipart_list.c.
 *
 * Memory: what a handler keeps is in the request's pool, but for the view of all part numbers
 * (GW_MAX_PARTS + 1 entries, 1.4 MB) and Complete's keep list: malloc'd and freed when the worker
 * is done, since the pool would hold them until the answer has gone.
 */
#include "gateway/gw_quota.h"
#include "gateway/gw_lifecycle.h"
#include "gateway/gw_object_lock.h"
#include "gateway/gw_body.h"
#include "gateway/gw_checksums.h"
#include "gateway/gw_cleanup.h"
#include "gateway/gw_cond_write.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_origin.h"
#include "gateway/gw_sse.h"
#include "gateway/gw_tagging.h"
#include "gateway/gw_upload.h"
#include "common/log.h"
#include "gateway/s3/checksum.h"
#include "gateway/s3/range.h"
#include "gateway/s3/xml.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define MIN_PART_SIZE (5 * 1024 * 1024)

/* ---------------------------------------------------------------- CreateMultipartUpload */

static void create_work(gw_ctx_t *ctx)
{
    uint8_t dist[16];
    gw_set_t *set;
    meta_upload_t u = {0};
    int64_t now = yc_now_ns();

    if (gw_bucket_authorize(ctx) != 0)
        return;
    set = gw_cluster_place(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key), dist);
    /* time first so that ids sort by initiation in listings */
    for (int i = 0; i < 8; i++)
        u.upload_id[i] = (uint8_t)((uint64_t)now >> (56 - 8 * i));
    uint8_t rnd[META_ID_LEN];
    yc_random_id(rnd);
    memcpy(u.upload_id + 8, rnd, 8);
    u.bucket = gw_mb(ctx->bucket_ns);
    u.key = gw_mb(ctx->key);
    u.initiated_ns = now;
    u.owner = gw_mb(ctx->user);
    meta_buf_t kv = {0};
    meta_object_t attrs = {0};
    if (gw_object_attributes(ctx, &kv, &attrs) != 0) {
        meta_buf_dispose(&kv);
        return;
    }
    u.content_type = attrs.content_type;
    u.content_encoding = attrs.content_encoding;
    u.content_disposition = attrs.content_disposition;
    u.content_language = attrs.content_language;
    u.cache_control = attrs.cache_control;
    u.expires = attrs.expires;
    u.user_meta = attrs.user_meta;
    u.owner = attrs.owner;
    /* the ACL (gw_object_attributes), the tags and the lock the object gets at Complete */
    meta_buf_t lock_attrs = {0}, sse_attrs = {0};
    gw_sse_request_t sse;
    if (gw_tagging_new_object(ctx, NULL, &attrs.attrs) != 0 ||
        gw_object_lock_new_version(ctx, 0, &attrs, &lock_attrs) != 0 || gw_checksum_upload_settings(ctx, &u) != 0 ||
        gw_sse_parse_write(ctx, &sse) != 0) {
        meta_buf_dispose(&lock_attrs);
        meta_buf_dispose(&kv);
        return;
    }
    u.attrs = attrs.attrs;
    /* an encrypted upload keeps its data key (wrapped) or SSE-C check; the object gets it at Complete */
    if (sse.kind != GW_SSE_NONE) {
        if (gw_sse_upload_attrs(ctx, &sse, attrs.attrs, &sse_attrs) != 0) {
            if (ctx->error == S3_OK) /* else the key service's answer (an unknown key id) */
                gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
            meta_buf_dispose(&lock_attrs);
            meta_buf_dispose(&kv);
            return;
        }
        u.attrs = (meta_bytes_t){(const char *)sse_attrs.base, sse_attrs.len};
    }
    u.ec_k = set->k;
    u.ec_m = set->m;
    u.stripe_size = ctx->cluster->stripe_size;
    memcpy(u.distribution, dist, 16);

    int ret = gw_upload_create(set, &u);
    meta_buf_dispose(&lock_attrs);
    meta_buf_dispose(&kv);
    if (ret != 0) {
        meta_buf_dispose(&sse_attrs);
        gw_set_store_error(ctx, ret);
        return;
    }
    gw_sse_headers(ctx, u.attrs, &sse);
    meta_buf_dispose(&sse_attrs);
    char id[2 * META_ID_LEN + 1];
    gw_upload_id_format(u.upload_id, id);
    s3_xml_writer_t w;
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "InitiateMultipartUploadResult");
    s3_xml_element(&w, "Bucket", ctx->bucket);
    s3_xml_element(&w, "Key", ctx->key);
    s3_xml_element_str(&w, "UploadId", id);
    s3_xml_close(&w, "InitiateMultipartUploadResult");
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
    gw_checksum_upload_headers(ctx, &u);
}

void gw_create_multipart(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, create_work);
}

/* ---------------------------------------------------------------- UploadPart / UploadPartCopy */

/* What the data pass of a part feeds besides the MD5: the payload hash, the part's checksum. */
typedef struct {
    EVP_MD_CTX *sha256; /* NULL: no payload hash to check */
    gw_checksum_t *checksum;
} part_observer_t;

static void observe_part(void *arg, const void *data, size_t len)
{
    part_observer_t *o = arg;
    if (o->sha256 != NULL)
        EVP_DigestUpdate(o->sha256, data, len);
    gw_checksum_observe(o->checksum, data, len);
}

/* A part upload that failed its quorum (gw_upload_put_part took its record back from the drives
 * that held exactly it): there its shard file goes, on the cleanup queue (gw_cleanup.h).
 * Elsewhere the file stays (a drive that did not answer; a record whose WAL sync failed, which
 * the reopen brings back): Complete, Abort or the lifecycle's abort of the upload removes the
 * records, the orphan collector the files no record names. */
static void part_takeback(gw_ctx_t *ctx, gw_upload_t *u, const gw_data_t *data, const uint8_t taken_back[16])
{
    static const uint8_t no_record[16];
    uint8_t files[16];
    meta_object_t where = {.bucket = gw_mb(ctx->bucket_ns), .key = gw_mb(ctx->key)};

    if (data->is_inline)
        return;
    for (uint32_t slot = 0; slot < 16; slot++)
        files[slot] = data->committed[slot] && taken_back[slot];
    memcpy(where.distribution, data->distribution, 16);
    gw_cleanup_queue(__atomic_load_n(&ctx->cluster->cleanup, __ATOMIC_ACQUIRE), u->set, &where, data->data_id,
                     no_record, files);
}

static void upload_part_work(gw_ctx_t *ctx)
{
    int copy = gw_header(ctx, "x-amz-copy-source").base != NULL;
    gw_upload_t u;
    uint32_t number;
    gw_data_t data;
    gw_object_t *src = NULL;
    EVP_MD_CTX *sha = NULL;
    gw_checksum_t checksum = {0};
    part_observer_t ob = {NULL, &checksum};
    int ret, sha256_pending = 0;

    if (s3_parse_part_number(s3_query_get(&ctx->query, "partNumber"), &number) != 0) {
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Part number must be an integer between 1 and 10000, inclusive");
        return;
    }
    gw_sse_request_t sse;
    gw_sse_writer_t *sw = NULL;
    uint64_t plain_size = 0;
    uint8_t plain_md5[16];
    if (gw_bucket_authorize(ctx) != 0 || gw_upload_load(ctx, &u) != 0)
        return;
    if (gw_sse_parse_customer(ctx, "x-amz-", &sse) != 0)
        goto done;
    if (!copy && gw_object_lock_check_part(ctx, &u.rec) != 0)
        goto done;
    if (copy) {
        h2o_iovec_t sb, sk, range_hdr = gw_header(ctx, "x-amz-copy-source-range");
        s3_range_t range = {0};
        if ((range_hdr.base != NULL && (ret = s3_copy_range_parse(range_hdr, &range)) != 0)) {
            gw_set_error(ctx, s3_error_from_ret(ret), S3_COPY_RANGE_SYNTAX_MESSAGE);
            goto done;
        }
        uint8_t svid[META_ID_LEN];
        int svid_given;
        if (gw_parse_copy_source(ctx, &sb, &sk, svid, &svid_given) != 0 ||
            gw_open_copy_source(ctx, sb, sk, svid_given ? svid : NULL, &src) != 0)
            goto done;
        uint64_t size = gw_object_record(src)->size, off = 0, n = size;
        if (range_hdr.base != NULL) {
            if ((ret = s3_copy_range_check(&range, size)) != 0) {
                gw_set_error(ctx, s3_error_from_ret(ret), NULL);
                goto done;
            }
            off = range.first;
            n = range.last - range.first + 1;
        }
        if (gw_copy_size_check(ctx, n) != 0)
            goto done;
        if (gw_checksum_begin_part(ctx, &u.rec, 1, &checksum) != 0)
            goto done;
        gw_sse_part_t seal = {u.rec.attrs, number, &sse};
        plain_size = n;
        ret = gw_copy_data(ctx, src, off, n, u.set, u.rec.distribution, gw_checksum_observe, &checksum, &seal, &data);
    } else {
        gw_source_t body;
        uint64_t size;
        /* nothing of the body is read before the checks above: the first pull reads it */
        if (gw_body_source(ctx, 0, &body, &size, &sha256_pending) != 0 ||
            gw_checksum_begin_part(ctx, &u.rec, 0, &checksum) != 0)
            goto done;
        if (sha256_pending) {
            sha = EVP_MD_CTX_new();
            EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
        }
        ob.sha256 = sha;
        plain_size = size;
        /* an encrypted upload's part: the data pass stores what the writer seals of the body */
        if (gw_sse_part_writer_new(ctx, u.rec.attrs, number, &sse, body, size, ctx->cluster->stripe_size, observe_part,
                                   &ob, &sw) != 0)
            goto done;
        ret = gw_data_write(ctx->cluster, u.set, u.rec.distribution, sw != NULL ? gw_sse_writer_source(sw) : body,
                            sw != NULL ? gw_sse_writer_stored_size(sw) : size, 0, sw != NULL ? NULL : observe_part, &ob,
                            &data);
        memcpy(plain_md5, data.md5, 16);
        if (ret == 0 && sw != NULL) /* data.md5 becomes the part's ETag digest */
            gw_sse_writer_digests(sw, data.md5, plain_md5, data.md5);
    }
    if (ret != 0) {
        /* else the body's own error is the answer, or the copy source's (gw_copy_data) */
        if (!gw_body_failed(ctx) && ctx->error == S3_OK)
            gw_set_store_error(ctx, ret);
        goto done;
    }
    /* the rest of a streamed body (aws-chunked: the last signatures, the trailer) before the digests */
    if (gw_body_end(ctx) != 0)
        goto drop;
    h2o_iovec_t md5 = gw_header(ctx, "content-md5");
    if (sha != NULL) {
        uint8_t digest[32];
        EVP_DigestFinal_ex(sha, digest, NULL);
        if (CRYPTO_memcmp(digest, ctx->auth.payload_sha256, 32) != 0) {
            gw_set_error(ctx, S3_ERR_X_AMZ_CONTENT_SHA256_MISMATCH, NULL);
            goto drop;
        }
    }
    if (gw_checksum_finish(ctx, &checksum) != 0)
        goto drop;
    if (!copy && md5.base != NULL && s3_checksum_compare_base64(plain_md5, 16, md5) != 0) {
        gw_set_error(ctx, S3_ERR_BAD_DIGEST, NULL);
        goto drop;
    }
    /* the part's plaintext size: Complete adds what encryption stores beside it (gw_sse.h) */
    meta_part_t rec = {.number = number, .size = plain_size, .mtime_ns = yc_now_ns()};
    gw_checksum_part_record(&checksum, &rec);
    memcpy(rec.upload_id, u.upload_id, META_ID_LEN);
    memcpy(rec.etag, data.md5, 16);
    memcpy(rec.data_id, data.data_id, META_ID_LEN);
    /* The record swap (and the deletion of the part it replaces) under the upload's lock: a
     * Complete that is using the old part must not lose it, an ended upload takes no part. */
    gw_lock_t lock;
    gw_upload_t again;
    if (gw_upload_lock(ctx, &lock) != 0)
        goto drop;
    if (gw_upload_load(ctx, &again) != 0) {
        gw_lock_release(&lock);
        goto drop;
    }
    gw_upload_dispose(&again);
    uint8_t taken_back[16];
    ret = gw_upload_put_part(&u, &rec, &data, taken_back); /* under the lock: no other upload of the number races it */
    if (ret != 0)
        part_takeback(ctx, &u, &data, taken_back);
    gw_lock_release(&lock);
    if (ret != 0) {
        /* part_takeback queued the shards of the drives whose record it removed; the others may
         * still name theirs (and a record never names deleted shards) */
        gw_set_store_error(ctx, ret);
        gw_data_dispose(&data);
        goto done;
    }
    char etag[40];
    snprintf(etag, sizeof(etag), "\"");
    yc_hex(data.md5, 16, etag + 1);
    strcat(etag, "\"");
    if (copy) {
        s3_xml_writer_t w;
        s3_xml_writer_init(&w, &ctx->req->pool);
        s3_xml_declaration(&w);
        s3_xml_open_root(&w, "CopyPartResult");
        s3_xml_element_time(&w, "LastModified", rec.mtime_ns);
        s3_xml_element_str(&w, "ETag", etag);
        gw_checksum_part_xml(&w, &rec);
        s3_xml_close(&w, "CopyPartResult");
        ctx->resp_body = s3_xml_writer_result(&w);
        ctx->content_type = "application/xml";
    } else {
        gw_add_header_str(ctx, "etag", etag);
        gw_checksum_echo(ctx, &checksum, 0);
    }
    gw_sse_headers(ctx, u.rec.attrs, &sse);
    gw_data_dispose(&data);
    goto done;

drop:
    gw_data_remove(ctx->cluster, &data);
    gw_data_dispose(&data);
done:
    gw_sse_writer_free(sw);
    OPENSSL_cleanse(&sse, sizeof(sse));
    gw_checksum_dispose(&checksum);
    EVP_MD_CTX_free(sha);
    gw_object_free(src);
    gw_upload_dispose(&u);
}

void gw_upload_part(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, upload_part_work);
}

/* ---------------------------------------------------------------- CompleteMultipartUpload */

/* Strips the quotes an ETag may carry. */
static h2o_iovec_t unquote(h2o_iovec_t v)
{
    if (v.len >= 2 && v.base[0] == '"' && v.base[v.len - 1] == '"')
        return h2o_iovec_init(v.base + 1, v.len - 2);
    return v;
}

/* The CompleteMultipartUploadResult of an object with ETag etag (unquoted). */
static void complete_result(gw_ctx_t *ctx, const char *etag, const gw_checksum_complete_t *checksum)
{
    s3_xml_writer_t w;
    char quoted[56];
    snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "CompleteMultipartUploadResult");
    h2o_iovec_t loc = h2o_concat(&ctx->req->pool, h2o_iovec_init(H2O_STRLIT("/")), ctx->bucket,
                                 h2o_iovec_init(H2O_STRLIT("/")), ctx->key);
    s3_xml_element(&w, "Location", loc);
    s3_xml_element(&w, "Bucket", ctx->bucket);
    s3_xml_element(&w, "Key", ctx->key);
    s3_xml_element_str(&w, "ETag", quoted);
    if (checksum != NULL)
        gw_checksum_complete_xml(&w, checksum);
    s3_xml_close(&w, "CompleteMultipartUploadResult");
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
}

/* A Complete of an upload that is gone: S3 answers a retried Complete (the same part list, after
 * the first one succeeded) with the object's result again, so that a client whose first answer
 * was lost is not told its upload does not exist. The key's current object must have been made
 * by this upload (META_ATTR_UPLOAD_ID) and have the ETag the list gives; else NoSuchUpload stands.
 * Returns 1 when answered. */
static int complete_again(gw_ctx_t *ctx, const s3_xml_complete_t *list)
{
    uint8_t id[META_ID_LEN], digest[16], bin[16];
    char etag[48];
    gw_object_t *o = NULL;
    uint8_t origin[META_ID_LEN];
    int answered = 0;

    if (gw_upload_id_parse(s3_query_get(&ctx->query, "uploadId"), id) != 0 ||
        gw_object_lookup(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key), NULL, &o) != 0)
        return 0;
    const meta_object_t *r = gw_object_record(o);
    if ((r->flags & META_OBJ_DELETE_MARKER) != 0 || gw_origin_get(r, origin, NULL) != 1 ||
        memcmp(origin, id, META_ID_LEN) != 0)
        goto done;
    EVP_MD_CTX *md5 = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md5, EVP_md5(), NULL);
    for (size_t i = 0; i < list->count; i++) {
        h2o_iovec_t given = unquote(list->parts[i].etag);
        if (given.len != 32 || yc_unhex(given.base, 16, bin) != 0)
            break;
        EVP_DigestUpdate(md5, bin, 16);
    }
    EVP_DigestFinal_ex(md5, digest, NULL);
    EVP_MD_CTX_free(md5);
    yc_hex(digest, 16, etag);
    snprintf(etag + 32, sizeof(etag) - 32, "-%zu", list->count);
    if (!h2o_memis(r->etag.base, r->etag.len, etag, strlen(etag)))
        goto done;
    ctx->error = S3_OK;
    ctx->error_message = NULL;
    gw_version_header_written(ctx, r);
    gw_sse_headers(ctx, r->attrs, NULL);
    complete_result(ctx, etag, NULL);
    answered = 1;
done:
    gw_object_free(o);
    return answered;
}

static void complete_work(gw_ctx_t *ctx)
{
    s3_xml_complete_t list = {0};
    gw_part_view_t *views = NULL;
    gw_parts_scan_t ps;
    gw_upload_t u;
    uint8_t *keep = NULL;
    meta_buf_t parts = {0}, attrs = {0};
    gw_checksum_complete_t checksum = {0};
    gw_cond_write_t cond;
    gw_lock_t lock;
    int ret, have_ps = 0, locked = 0, ended = 0;

    memset(&u, 0, sizeof(u));
    if (gw_bucket_authorize(ctx) != 0 || gw_cond_write_parse(ctx, &cond) != 0 || gw_body_prepare(ctx) != 0)
        return;
    if ((ret = s3_xml_parse_complete(&ctx->req->pool, ctx->body, &list)) != 0) {
        gw_set_error(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    if ((ret = s3_xml_complete_check_order(&list)) != 0) {
        gw_set_error(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    if (gw_upload_lock(ctx, &lock) != 0)
        return;
    locked = 1;
    if (gw_upload_load(ctx, &u) != 0) {
        if (ctx->error == S3_ERR_NO_SUCH_UPLOAD)
            complete_again(ctx, &list);
        goto done;
    }
    if ((views = malloc(sizeof(*views) * (GW_MAX_PARTS + 1))) == NULL || (keep = calloc(GW_MAX_PARTS + 1, 1)) == NULL) {
        gw_set_error(ctx, S3_ERR_SLOW_DOWN, NULL);
        goto done;
    }
    have_ps = 1;
    if (gw_upload_load_parts(ctx, &u, &ps, views) < 0 || gw_checksum_complete_begin(ctx, &u.rec, &checksum) != 0)
        goto done;

    EVP_MD_CTX *md5 = EVP_MD_CTX_new();
    uint64_t total = 0;
    EVP_DigestInit_ex(md5, EVP_md5(), NULL);
    for (size_t i = 0; i < list.count; i++) {
        uint32_t n = list.parts[i].part_number;
        gw_part_view_t *v = &views[n];
        char hex[33];
        if (v->holders == 0) {
            gw_set_error(ctx, S3_ERR_INVALID_PART, NULL);
            break;
        }
        yc_hex(v->rec.etag, 16, hex);
        h2o_iovec_t given = unquote(list.parts[i].etag);
        if (!h2o_memis(given.base, given.len, hex, 32)) {
            gw_set_error(ctx, S3_ERR_INVALID_PART, NULL);
            break;
        }
        if (gw_checksum_complete_part(ctx, &checksum, &list.parts[i], &v->rec) != 0)
            break;
        if (i + 1 < list.count && v->rec.size < MIN_PART_SIZE) {
            gw_set_error(ctx, S3_ERR_ENTITY_TOO_SMALL, NULL);
            break;
        }
        meta_part_ref_t ref = {.number = n, .size = gw_sse_part_stored_size(u.rec.attrs, v->rec.size)};
        memcpy(ref.data_id, v->rec.data_id, META_ID_LEN);
        memcpy(ref.etag, v->rec.etag, 16);
        meta_parts_append(&parts, &ref);
        EVP_DigestUpdate(md5, v->rec.etag, 16);
        total += v->rec.size;
        keep[n] = 1;
    }
    uint8_t digest[16];
    EVP_DigestFinal_ex(md5, digest, NULL);
    EVP_MD_CTX_free(md5);
    if (ctx->error == S3_OK && total > GW_MAX_OBJECT_SIZE)
        gw_set_error(ctx, S3_ERR_ENTITY_TOO_LARGE, NULL); /* S3's 5 TiB, whatever the parts */
    if (ctx->error != S3_OK || gw_quota_check(ctx, total) != 0)
        goto done;

    char etag[48];
    yc_hex(digest, 16, etag);
    snprintf(etag + 32, sizeof(etag) - 32, "-%zu", list.count);
    meta_object_t r = {.bucket = gw_mb(ctx->bucket_ns),
                       .key = gw_mb(ctx->key),
                       .mtime_ns = yc_now_ns(),
                       .size = total,
                       .etag = {etag, strlen(etag)},
                       .content_type = u.rec.content_type,
                       .content_encoding = u.rec.content_encoding,
                       .content_disposition = u.rec.content_disposition,
                       .content_language = u.rec.content_language,
                       .cache_control = u.rec.cache_control,
                       .expires = u.rec.expires,
                       .user_meta = u.rec.user_meta,
                       .owner = u.rec.owner,
                       .attrs = u.rec.attrs, /* what CreateMultipartUpload asked for the object */
                       .ec_k = u.rec.ec_k,
                       .ec_m = u.rec.ec_m,
                       .stripe_size = u.rec.stripe_size,
                       .parts = {(const char *)parts.base, parts.len},
                       .part_count = (uint32_t)list.count};
    memcpy(r.distribution, u.rec.distribution, 16);
    /* the attributes CreateMultipartUpload gave the upload (its tags), and the upload's id, which
     * a retried Complete is recognised by, with its initiation time: S3's Last-Modified of the
     * object (the mtime stays the Complete's: versions are ordered by it) */
    if (gw_origin_put(u.rec.attrs, u.upload_id, u.rec.initiated_ns, &attrs) != 0) {
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        goto done;
    }
    r.attrs = (meta_bytes_t){(const char *)attrs.base, attrs.len};
    /* the completed object is a new version when versioning is enabled, else the null version */
    uint32_t versioning = gw_bucket_versioning(ctx);
    if (versioning == 1)
        gw_version_id_new(r.mtime_ns, r.vid);
    if (gw_checksum_complete_finish(ctx, &checksum, &r) != 0)
        goto done;
    /* If-None-Match / If-Match: judged under the key's lock (taken inside the upload's), just
     * before the record; a failed condition leaves the upload as it was */
    if (gw_cond_write_check(ctx, &cond) != 0)
        goto done;
    ret = gw_object_commit(ctx->cluster, u.set, &r, NULL);
    gw_cond_write_done(&cond);
    if (ret != 0) {
        gw_set_store_error(ctx, ret);
        goto done;
    }
    /* The object is durable: end the upload while still holding the lock (a racing Abort then
     * finds nothing to abort), then let go and free the parts it does not use. */
    if ((ret = gw_upload_end(ctx, &u)) != 0)
        yc_log(YC_LOG_WARN, "request_id=%s event=upload_end_failed err=%s", ctx->request_id, yc_errname(ret));
    ended = ret == 0;
    gw_lock_release(&lock);
    locked = 0;
    if (ended)
        gw_upload_release_parts(&u, views, keep);
    if ((ret = gw_bucket_confirm(ctx)) != 0) {
        if (ret == GW_ENOENT)
            gw_object_discard(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key));
        goto done;
    }

    gw_usage_note_write(gw_mb(ctx->bucket_ns), total);
    gw_version_header_written(ctx, &r);
    gw_lifecycle_expiration_header(ctx, &r); /* as PutObject's answer: S3 sends it here too */
    gw_sse_headers(ctx, r.attrs, NULL);
    complete_result(ctx, etag, &checksum);

done:
    if (locked)
        gw_lock_release(&lock);
    gw_checksum_complete_dispose(&checksum);
    if (have_ps)
        gw_upload_parts_dispose(&ps);
    meta_buf_dispose(&parts);
    meta_buf_dispose(&attrs);
    free(views);
    free(keep);
    gw_upload_dispose(&u);
}

void gw_complete_multipart(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, complete_work);
}

/* ---------------------------------------------------------------- AbortMultipartUpload */

static void abort_work(gw_ctx_t *ctx)
{
    uint8_t id[META_ID_LEN];
    int ret = GW_ENOENT;

    if (gw_bucket_authorize(ctx) != 0)
        return;
    if (gw_upload_id_parse(s3_query_get(&ctx->query, "uploadId"), id) == 0)
        ret = gw_upload_abort(ctx->cluster, ctx->bucket_ns, ctx->key, id);
    if (ret == GW_ENOENT)
        gw_set_error(ctx, S3_ERR_NO_SUCH_UPLOAD, NULL);
    else if (ret != 0)
        gw_set_store_error(ctx, ret);
    else
        ctx->status = 204;
}

void gw_abort_multipart(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, abort_work);
}
