/* gw_object_attrs.c — GetObjectAttributes: what S3 tells about an object without its data.
 *
 * GET /bucket/key?attributes with x-amz-object-attributes naming any of ETag, Checksum,
 * ObjectParts, StorageClass and ObjectSize; only those are answered. The record the lookup
 * resolves (quorum, as GET) holds all of them: the ETag without quotes (as S3 writes it in this
 * document), the object's checksum and its type, every part's number, size and kept checksum.
 * ObjectParts is for multipart objects only (a single PUT has no parts to show), paged with
 * x-amz-max-parts (default and most 1000) and x-amz-part-number-marker as ListParts is.
 * Permissions: s3:GetObjectAttributes and s3:GetObject (the Version forms for a versionId), as S3
 * documents.
 */
#include "gateway/gw_handlers.h"
#include "gateway/gw_origin.h"
#include "gateway/gw_sse.h"
#include "gateway/s3/checksum.h"
#include "gateway/s3/cond.h"
#include "gateway/s3/object_attrs.h"
#include "gateway/s3/policy.h"
#include "gateway/s3/query.h"
#include "gateway/s3/xml.h"
#include <string.h>

#define MSG_NO_ATTRIBUTES                                                                                              \
    "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty"
#define MSG_BAD_ATTRIBUTE "Invalid attribute name specified."

/* Every x-amz-object-attributes header of the request, into *mask; sets the error when none or a
 * bad one was sent. */
static int read_attributes(gw_ctx_t *ctx, unsigned *mask)
{
    gw_req_t *req = ctx->req;
    int seen = 0;

    *mask = 0;
    for (size_t i = 0; i < req->headers.size; i++) {
        h2o_header_t *h = &req->headers.entries[i];
        if (!h2o_memis(h->name->base, h->name->len, H2O_STRLIT("x-amz-object-attributes")))
            continue;
        seen = 1;
        if (h->value.len == 0)
            break;
        if (s3_object_attrs_parse(h->value, mask) != 0) {
            gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, MSG_BAD_ATTRIBUTE);
            gw_set_error_field(ctx, "ArgumentName", h2o_iovec_init(H2O_STRLIT("x-amz-object-attributes")));
            gw_set_error_field(ctx, "ArgumentValue", h->value);
            return -1;
        }
    }
    if (!seen || *mask == 0) {
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, MSG_NO_ATTRIBUTES);
        gw_set_error_field(ctx, "ArgumentName", h2o_iovec_init(H2O_STRLIT("x-amz-object-attributes")));
        gw_set_error_field(ctx, "ArgumentValue", h2o_iovec_init(H2O_STRLIT("")));
        return -1;
    }
    return 0;
}

static int is_multipart(const meta_object_t *r)
{
    return memchr(r->etag.base, '-', r->etag.len) != NULL;
}

static s3_checksum_alg_t alg_of(const meta_object_t *r)
{
    s3_checksum_alg_t alg;
    return r->checksum_algo.len > 0 && s3_checksum_alg_from_name(gw_iov(r->checksum_algo), &alg) == 0
               ? alg
               : S3_CHECKSUM_NONE;
}

static void checksum_element(s3_xml_writer_t *w, s3_checksum_alg_t alg, h2o_iovec_t value)
{
    char tag[32];
    snprintf(tag, sizeof(tag), "Checksum%s", s3_checksum_alg_name(alg));
    s3_xml_element(w, tag, value);
}

static void checksum_xml(s3_xml_writer_t *w, const meta_object_t *r)
{
    s3_checksum_alg_t alg = alg_of(r);
    const char *type = s3_checksum_type_name(
        r->checksum_type == META_CHECKSUM_COMPOSITE ? S3_CHECKSUM_TYPE_COMPOSITE : S3_CHECKSUM_TYPE_FULL_OBJECT);
    if (alg == S3_CHECKSUM_NONE || r->checksum_value.len == 0)
        return; /* S3 leaves the element out for an object stored without a checksum */
    s3_xml_open(w, "Checksum");
    checksum_element(w, alg, gw_iov(r->checksum_value));
    if (type != NULL)
        s3_xml_element_str(w, "ChecksumType", type);
    s3_xml_close(w, "Checksum");
}

static void parts_xml(s3_xml_writer_t *w, const meta_object_t *r, uint32_t max_parts, uint32_t marker)
{
    s3_checksum_alg_t alg = alg_of(r);
    uint32_t shown = 0, last = 0;
    int truncated = 0;

    s3_xml_open(w, "ObjectParts");
    s3_xml_element_uint(w, "PartsCount", r->part_count);
    s3_xml_element_uint(w, "PartNumberMarker", marker);
    s3_xml_element_uint(w, "MaxParts", max_parts);
    for (uint32_t i = 0; i < r->part_count; i++) {
        meta_part_ref_t p;
        meta_bytes_t digest;
        if (meta_object_part(r, i, &p) != 0 || p.number <= marker)
            continue;
        if (shown == max_parts) {
            truncated = 1;
            break;
        }
        s3_xml_open(w, "Part");
        s3_xml_element_uint(w, "PartNumber", p.number);
        s3_xml_element_uint(w, "Size", gw_sse_part_plain_size(r, p.size)); /* an encrypted part stores more */
        if (alg != S3_CHECKSUM_NONE && meta_object_part_checksum(r, i, &digest) == 0 &&
            digest.len == s3_checksum_size(alg)) {
            char b64[S3_CHECKSUM_MAX_BASE64];
            size_t n = yc_base64_encode((const uint8_t *)digest.base, digest.len, b64);
            checksum_element(w, alg, h2o_iovec_init(b64, n));
        }
        s3_xml_close(w, "Part");
        shown++;
        last = p.number;
    }
    s3_xml_element_bool(w, "IsTruncated", truncated);
    if (truncated)
        s3_xml_element_uint(w, "NextPartNumberMarker", last);
    s3_xml_close(w, "ObjectParts");
}

static void get_object_attributes_work(gw_ctx_t *ctx)
{
    uint8_t vid[META_ID_LEN];
    uint32_t versioning, max_parts, marker;
    gw_object_t *o = NULL;
    unsigned mask;
    int ret, given;

    if (read_attributes(ctx, &mask) != 0)
        return;
    if ((ret = s3_parse_list_limit(gw_header(ctx, "x-amz-max-parts"), 1000, 1000, &max_parts)) != 0 ||
        (ret = s3_parse_part_number_marker(gw_header(ctx, "x-amz-part-number-marker"), &marker)) != 0) {
        gw_set_error(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    if (gw_version_id_query(ctx, vid, &given) != 0 || gw_bucket_authorize(ctx) != 0 ||
        gw_bucket_authorize_key(ctx, given ? S3_POLICY_ACTION_GET_OBJECT_VERSION : S3_POLICY_ACTION_GET_OBJECT,
                                ctx->key) != 0)
        return;
    versioning = gw_bucket_versioning(ctx);
    if ((ret = gw_object_lookup(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key),
                                given || versioning == 0 ? vid : NULL, &o)) != 0) {
        if (ret == GW_ENOENT && given)
            gw_set_error(ctx, S3_ERR_NO_SUCH_VERSION, NULL);
        else
            gw_set_store_error(ctx, ret);
        return;
    }
    const meta_object_t *r = gw_object_record(o);
    gw_version_headers(ctx, versioning, r);
    if (r->flags & META_OBJ_DELETE_MARKER) {
        /* as GET: the newest version a marker is no such key; a marker named by id is no object */
        if (given)
            gw_add_header_str(ctx, "allow", "DELETE");
        gw_set_error(ctx, given ? S3_ERR_METHOD_NOT_ALLOWED : S3_ERR_NO_SUCH_KEY, NULL);
        gw_object_free(o);
        return;
    }
    char date[S3_HTTP_DATE_LEN + 1];
    s3_http_date_format(gw_last_modified_ns(r), date);
    gw_add_header_str(ctx, "last-modified", date);

    s3_xml_writer_t w;
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "GetObjectAttributesResponse");
    if (mask & S3_ATTR_ETAG)
        s3_xml_element(&w, "ETag", gw_iov(r->etag));
    if (mask & S3_ATTR_CHECKSUM)
        checksum_xml(&w, r);
    if ((mask & S3_ATTR_OBJECT_PARTS) && is_multipart(r))
        parts_xml(&w, r, max_parts, marker);
    if (mask & S3_ATTR_STORAGE_CLASS)
        s3_xml_element_str(&w, "StorageClass", "STANDARD");
    if (mask & S3_ATTR_OBJECT_SIZE)
        s3_xml_element_uint(&w, "ObjectSize", r->size);
    s3_xml_close(&w, "GetObjectAttributesResponse");
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
    gw_object_free(o);
}

void gw_get_object_attributes(gw_ctx_t *ctx)
{
    gw_dispatch_read(ctx, get_object_attributes_work);
}
