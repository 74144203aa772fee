/* gw_tagging_ops.c — PutObjectTagging, GetObjectTagging, DeleteObjectTagging (gw_tagging.h). */
#include "gateway/gw_attrs.h"
#include "gateway/gw_body.h"
#include "gateway/gw_checksums.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_tagging.h"
#include "gateway/s3/checksum.h"
#include <string.h>

/* What an edit of gw_attrs_change answers besides 0 (positive: never a gateway code). */
enum { EDIT_DELETE_MARKER = 1, EDIT_CORRUPT = 2 };

typedef struct {
    h2o_iovec_t stored; /* the new tags (len 0: none) */
    uint8_t marker_vid[META_ID_LEN];
} edit_t;

static int edit_tags(void *arg, const meta_object_t *rec, meta_buf_t *attrs)
{
    edit_t *e = arg;
    meta_bytes_t value = {e->stored.base, e->stored.len};

    if (rec->flags & META_OBJ_DELETE_MARKER) {
        memcpy(e->marker_vid, rec->vid, META_ID_LEN);
        return EDIT_DELETE_MARKER;
    }
    return meta_attr_put(rec->attrs, META_ATTR_TAGS, value.len > 0 ? &value : NULL, attrs) != 0 ? EDIT_CORRUPT : 0;
}

/* A delete marker has no tags to read or change: 405, as S3 answers, naming the marker. */
static void refuse_marker(gw_ctx_t *ctx, uint32_t versioning, const uint8_t vid[META_ID_LEN], int given)
{
    meta_object_t shown = {.flags = META_OBJ_DELETE_MARKER};
    memcpy(shown.vid, vid, META_ID_LEN);
    gw_version_headers(ctx, versioning, &shown);
    if (given)
        gw_add_header_str(ctx, "allow", "DELETE");
    gw_set_error(ctx, S3_ERR_METHOD_NOT_ALLOWED, NULL);
}

/* Gives the version the request names the tags stored and answers status. */
static void change_tags(gw_ctx_t *ctx, const uint8_t *vid, h2o_iovec_t stored, int status)
{
    uint8_t changed[META_ID_LEN];
    edit_t e = {.stored = stored};
    uint32_t versioning = gw_bucket_versioning(ctx);
    int ret = gw_attrs_change(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key), vid, edit_tags, &e, changed);

    switch (ret) {
    case 0: {
        meta_object_t shown = {0};
        memcpy(shown.vid, changed, META_ID_LEN);
        gw_version_headers(ctx, versioning, &shown);
        ctx->status = status;
        return;
    }
    case EDIT_DELETE_MARKER:
        refuse_marker(ctx, versioning, e.marker_vid, vid != NULL);
        return;
    case EDIT_CORRUPT:
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        return;
    case GW_ENOENT:
        gw_set_error(ctx, vid != NULL ? S3_ERR_NO_SUCH_VERSION : S3_ERR_NO_SUCH_KEY, NULL);
        return;
    default:
        gw_set_store_error(ctx, ret);
        return;
    }
}

static void put_tagging_work(gw_ctx_t *ctx)
{
    uint8_t vid[META_ID_LEN];
    s3_error_detail_t why = {0};
    h2o_iovec_t stored = {NULL, 0};
    s3_tagset_t set;
    int given, ret;

    /* the body first: the policy may weigh the tags it sends (s3:RequestObjectTag) */
    if (gw_version_id_query(ctx, vid, &given) != 0 || gw_body_prepare(ctx) != 0 || gw_bucket_authorize(ctx) != 0 ||
        gw_checksum_body_verify(ctx, 1) != 0) /* PutObjectTagging requires one */
        return;
    if ((ret = s3_tagging_parse_xml(&ctx->req->pool, ctx->body, S3_TAGS_OBJECT, &set, &why)) != 0) {
        gw_tagging_set_detail(ctx, ret, &why);
        return;
    }
    if (set.count > 0 && gw_tagging_encode(ctx, &set, &stored) != 0)
        return;
    change_tags(ctx, given ? vid : NULL, stored, 200);
}

static void delete_tagging_work(gw_ctx_t *ctx)
{
    uint8_t vid[META_ID_LEN];
    int given;

    if (gw_version_id_query(ctx, vid, &given) != 0 || gw_bucket_authorize(ctx) != 0)
        return;
    change_tags(ctx, given ? vid : NULL, h2o_iovec_init(NULL, 0), 204);
}

static void get_tagging_work(gw_ctx_t *ctx)
{
    uint8_t vid[META_ID_LEN];
    gw_object_t *o = NULL;
    s3_xml_writer_t w;
    s3_tagset_t set;
    int given, ret;

    if (gw_version_id_query(ctx, vid, &given) != 0 || gw_bucket_authorize(ctx) != 0)
        return;
    uint32_t versioning = gw_bucket_versioning(ctx);
    if ((ret = gw_object_lookup(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key), given ? vid : NULL, &o)) != 0) {
        if (ret == GW_ENOENT)
            gw_set_error(ctx, given ? S3_ERR_NO_SUCH_VERSION : S3_ERR_NO_SUCH_KEY, NULL);
        else
            gw_set_store_error(ctx, ret);
        return;
    }
    const meta_object_t *r = gw_object_record(o);
    if (r->flags & META_OBJ_DELETE_MARKER) {
        refuse_marker(ctx, versioning, r->vid, given);
        goto done;
    }
    /* the answer outlives the record: the tags are written into the pool's XML before it goes */
    if (gw_tagging_of(&ctx->req->pool, r, &set) != 0) {
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        goto done;
    }
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_tagging_write_xml(&w, &set);
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
    gw_version_headers(ctx, versioning, r);
done:
    gw_object_free(o);
}

void gw_put_object_tagging(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, put_tagging_work);
}

void gw_get_object_tagging(gw_ctx_t *ctx)
{
    gw_dispatch_read(ctx, get_tagging_work);
}

void gw_delete_object_tagging(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, delete_tagging_work);
}
