/* gw_multipart_list.c — the multipart operations that only read: ListParts (the visible parts of
 * one upload, gw_upload_load_parts) and ListMultipartUploads (the upload records of a bucket,
 * scanned set by set: an upload lives in its object's set, and each set lists what a read quorum
 * of its drives holds). Both run on the read pool. ListParts's view of all part numbers (1.4 MB)
 * is malloc'd and freed when the worker is done, as in gw_multipart.c.
 */
#include "gateway/gw_acl.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_checksums.h"
#include "gateway/gw_replica.h"
#include "gateway/gw_upload.h"
#include "gateway/s3/xml.h"
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- ListParts */

static void owner_xml(s3_xml_writer_t *w, const char *tag, meta_bytes_t owner)
{
    gw_acl_write_owner(w, tag, gw_iov(owner));
}

static void list_parts_work(gw_ctx_t *ctx)
{
    gw_part_view_t *views;
    gw_parts_scan_t ps;
    gw_upload_t u;
    uint32_t max_parts, marker;
    int ret;

    if ((ret = s3_parse_list_limit(s3_query_get(&ctx->query, "max-parts"), 1000, 1000, &max_parts)) != 0 ||
        (ret = s3_parse_part_number_marker(s3_query_get(&ctx->query, "part-number-marker"), &marker)) != 0) {
        gw_set_error(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    if (gw_bucket_authorize(ctx) != 0 || gw_upload_load(ctx, &u) != 0)
        return;
    if ((views = malloc(sizeof(*views) * (GW_MAX_PARTS + 1))) == NULL) {
        gw_set_error(ctx, S3_ERR_SLOW_DOWN, NULL);
        gw_upload_dispose(&u);
        return;
    }
    if (gw_upload_load_parts(ctx, &u, &ps, views) < 0)
        goto done;
    char id[2 * META_ID_LEN + 1];
    gw_upload_id_format(u.upload_id, id);
    s3_xml_writer_t w;
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "ListPartsResult");
    s3_xml_element(&w, "Bucket", ctx->bucket);
    s3_xml_element(&w, "Key", ctx->key);
    s3_xml_element_str(&w, "UploadId", id);
    owner_xml(&w, "Initiator", u.rec.owner);
    owner_xml(&w, "Owner", u.rec.owner);
    s3_xml_element_str(&w, "StorageClass", "STANDARD");
    gw_checksum_upload_xml(&w, &u.rec);
    s3_xml_element_uint(&w, "PartNumberMarker", marker);
    uint32_t listed = 0, last = 0;
    int truncated = 0;
    h2o_iovec_t body_start = s3_xml_writer_result(&w);
    (void)body_start;
    /* parts go after the header fields; collect them first to know NextPartNumberMarker */
    s3_xml_writer_t parts;
    s3_xml_writer_init(&parts, &ctx->req->pool);
    for (uint32_t n = marker + 1; n <= GW_MAX_PARTS; n++) {
        if (views[n].holders == 0)
            continue;
        if (listed == max_parts) {
            truncated = 1;
            break;
        }
        char etag[40];
        etag[0] = '"';
        yc_hex(views[n].rec.etag, 16, etag + 1);
        etag[33] = '"';
        etag[34] = '\0';
        s3_xml_open(&parts, "Part");
        s3_xml_element_uint(&parts, "PartNumber", n);
        s3_xml_element_time(&parts, "LastModified", views[n].rec.mtime_ns);
        s3_xml_element_str(&parts, "ETag", etag);
        s3_xml_element_uint(&parts, "Size", views[n].rec.size);
        gw_checksum_part_xml(&parts, &views[n].rec);
        s3_xml_close(&parts, "Part");
        listed++;
        last = n;
    }
    s3_xml_element_uint(&w, "NextPartNumberMarker", last);
    s3_xml_element_uint(&w, "MaxParts", max_parts);
    s3_xml_element_bool(&w, "IsTruncated", truncated);
    h2o_iovec_t p = s3_xml_writer_result(&parts);
    s3_xml_raw(&w, p.base, p.len);
    s3_xml_close(&w, "ListPartsResult");
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
done:
    gw_upload_parts_dispose(&ps);
    free(views);
    gw_upload_dispose(&u);
}

void gw_list_parts(gw_ctx_t *ctx)
{
    gw_dispatch_read(ctx, list_parts_work);
}

/* ---------------------------------------------------------------- ListMultipartUploads */

typedef struct {
    gw_ctx_t *ctx;
    s3_xml_writer_t *w, *prefixes;
    h2o_iovec_t prefix, delimiter, key_marker;
    char last_prefix[META_KEY_MAX + 1];
    size_t last_prefix_len;
    uint8_t id_marker[META_ID_LEN];
    int has_id_marker;
    uint32_t max, listed;
    int truncated;
    char next_key[META_KEY_MAX + 1];
    size_t next_key_len;
    char next_id[2 * META_ID_LEN + 1];
} uploads_list_t;

static int upload_one(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    uploads_list_t *ul = arg;
    meta_upload_t u;
    if (meta_upload_decode(val, vlen, &u) != 0)
        return 0;
    if (u.key.len < ul->prefix.len || memcmp(u.key.base, ul->prefix.base, ul->prefix.len) != 0)
        return 0;
    if (ul->key_marker.len > 0) {
        size_t n = u.key.len < ul->key_marker.len ? u.key.len : ul->key_marker.len;
        int c = memcmp(u.key.base, ul->key_marker.base, n);
        if (c == 0)
            c = (u.key.len > ul->key_marker.len) - (u.key.len < ul->key_marker.len);
        if (c < 0 || (c == 0 && (!ul->has_id_marker || memcmp(u.upload_id, ul->id_marker, META_ID_LEN) <= 0)))
            return 0;
    }
    if (ul->delimiter.len > 0) {
        const char *from = u.key.base + ul->prefix.len, *end = u.key.base + u.key.len;
        const char *hit = NULL;
        for (const char *p = from; p + ul->delimiter.len <= end && hit == NULL; p++)
            if (memcmp(p, ul->delimiter.base, ul->delimiter.len) == 0)
                hit = p;
        if (hit != NULL) {
            size_t plen = (size_t)(hit - u.key.base) + ul->delimiter.len;
            if (plen == ul->last_prefix_len && memcmp(ul->last_prefix, u.key.base, plen) == 0)
                return 0; /* uploads of one common prefix come together: it is listed once */
            if (ul->listed == ul->max) {
                ul->truncated = 1;
                return 1;
            }
            memcpy(ul->last_prefix, u.key.base, plen);
            ul->last_prefix_len = plen;
            s3_xml_open(ul->prefixes, "CommonPrefixes");
            s3_xml_element(ul->prefixes, "Prefix", h2o_iovec_init(u.key.base, plen));
            s3_xml_close(ul->prefixes, "CommonPrefixes");
            ul->listed++;
            return 0;
        }
    }
    if (ul->listed == ul->max) {
        ul->truncated = 1;
        return 1;
    }
    char id[2 * META_ID_LEN + 1];
    gw_upload_id_format(u.upload_id, id);
    s3_xml_open(ul->w, "Upload");
    s3_xml_element(ul->w, "Key", gw_iov(u.key));
    s3_xml_element_str(ul->w, "UploadId", id);
    owner_xml(ul->w, "Initiator", u.owner);
    owner_xml(ul->w, "Owner", u.owner);
    s3_xml_element_str(ul->w, "StorageClass", "STANDARD");
    s3_xml_element_time(ul->w, "Initiated", u.initiated_ns);
    s3_xml_close(ul->w, "Upload");
    ul->listed++;
    memcpy(ul->next_key, u.key.base, u.key.len);
    ul->next_key_len = u.key.len;
    memcpy(ul->next_id, id, sizeof(id));
    return 0;
}

static void list_uploads_work(gw_ctx_t *ctx)
{
    s3_xml_writer_t w, uploads, prefixes;
    meta_key_t prefix;
    uploads_list_t ul = {.ctx = ctx, .w = &uploads, .prefixes = &prefixes};
    int ret;

    if ((ret = s3_parse_list_limit(s3_query_get(&ctx->query, "max-uploads"), 1000, 1000, &ul.max)) != 0) {
        gw_set_error(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    if (gw_bucket_authorize(ctx) != 0)
        return;
    ul.prefix = s3_query_get(&ctx->query, "prefix");
    if (ul.prefix.base == NULL)
        ul.prefix = h2o_iovec_init("", 0);
    ul.delimiter = s3_query_get(&ctx->query, "delimiter");
    if (ul.delimiter.base == NULL)
        ul.delimiter = h2o_iovec_init("", 0);
    ul.key_marker = s3_query_get(&ctx->query, "key-marker");
    if (ul.key_marker.base == NULL)
        ul.key_marker = h2o_iovec_init("", 0);
    ul.has_id_marker = gw_upload_id_parse(s3_query_get(&ctx->query, "upload-id-marker"), ul.id_marker) == 0;
    s3_xml_writer_init(&uploads, &ctx->req->pool);
    s3_xml_writer_init(&prefixes, &ctx->req->pool);
    meta_key_bucket_uploads(gw_mb(ctx->bucket_ns), &prefix);
    /* uploads live in their object's set: scan each set, listing what a read quorum holds */
    for (size_t s = 0; s < ctx->cluster->nsets && !ul.truncated; s++) {
        gw_set_t *set = &ctx->cluster->sets[s];
        if ((ret = gw_set_scan(set, gw_set_read_quorum(set), &prefix, upload_one, &ul)) != 0) {
            gw_set_store_error(ctx, ret);
            return;
        }
    }
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "ListMultipartUploadsResult");
    s3_xml_element(&w, "Bucket", ctx->bucket);
    s3_xml_element(&w, "KeyMarker", ul.key_marker);
    s3_xml_element(&w, "UploadIdMarker",
                   s3_query_get(&ctx->query, "upload-id-marker").base ? s3_query_get(&ctx->query, "upload-id-marker")
                                                                      : h2o_iovec_init("", 0));
    if (ul.truncated) {
        s3_xml_element(&w, "NextKeyMarker", h2o_iovec_init(ul.next_key, ul.next_key_len));
        s3_xml_element_str(&w, "NextUploadIdMarker", ul.next_id);
    }
    if (ul.prefix.len > 0)
        s3_xml_element(&w, "Prefix", ul.prefix);
    if (ul.delimiter.len > 0)
        s3_xml_element(&w, "Delimiter", ul.delimiter);
    s3_xml_element_uint(&w, "MaxUploads", ul.max);
    s3_xml_element_bool(&w, "IsTruncated", ul.truncated);
    h2o_iovec_t body = s3_xml_writer_result(&uploads);
    s3_xml_raw(&w, body.base, body.len);
    body = s3_xml_writer_result(&prefixes);
    s3_xml_raw(&w, body.base, body.len);
    s3_xml_close(&w, "ListMultipartUploadsResult");
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
}

void gw_list_multipart_uploads(gw_ctx_t *ctx)
{
    gw_dispatch_read(ctx, list_uploads_work);
}
