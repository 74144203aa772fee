/* gw_versioning.c — bucket versioning: the versioning state of a bucket and the version ids of
 * objects.
 *
 * A bucket's state is the `versioning` field of its record (meta_bucket_t: 0 never enabled,
 * 1 Enabled, 2 Suspended), written under the bucket's cluster lock like its other changes, so a
 * state change cannot undo a deletion's mark (or the reverse). A bucket never returns to 0.
 * Gateways read it through their bucket cache (2 s): a change made through one gateway is seen
 * by the others within that time, which AWS documents too (a change "may take a while to
 * propagate"); writes made meanwhile follow the old state.
 *
 * Version ids are 16 bytes: the complemented modification time (big-endian), so that their text
 * sorts newest first as listings show versions, then 8 random bytes, unique across gateways
 * without coordination. The text is 32 hex digits; the null version's id is "null".
 */
#include "gateway/gw_body.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_bucket_record.h"
#include "gateway/gw_lock.h"
#include "gateway/gw_object_lock.h"
#include "gateway/s3/version_id.h"
#include "gateway/s3/xml.h"
#include "common/bytes.h"
#include "common/id.h"
#include <stdlib.h>
#include <string.h>

static const uint8_t null_vid[META_ID_LEN];

void gw_version_id_new(int64_t mtime_ns, uint8_t vid[META_ID_LEN])
{
    uint8_t rnd[YC_ID_LEN];

    yc_put_be64(vid, ~(uint64_t)mtime_ns);
    yc_random_id(rnd);
    memcpy(vid + 8, rnd, META_ID_LEN - 8);
    if (memcmp(vid, null_vid, META_ID_LEN) == 0) /* never the null version's */
        vid[META_ID_LEN - 1] = 1;
}

_Static_assert(META_ID_LEN == S3_VERSION_ID_LEN, "a version id is a record's vid");
_Static_assert(GW_VERSION_ID_MAX == S3_VERSION_ID_TEXT_MAX, "one text length");

int gw_version_add_delete_marker(gw_cluster_t *c, meta_bytes_t ns, meta_bytes_t key, meta_bytes_t owner,
                                 uint32_t versioning, meta_object_t *out)
{
    uint8_t dist[16];
    gw_set_t *set = gw_cluster_place(c, ns, key, dist);
    meta_object_t *r = out;

    memset(r, 0, sizeof(*r));
    r->bucket = ns;
    r->key = key;
    r->mtime_ns = yc_now_ns();
    if (versioning == 1)
        gw_version_id_new(r->mtime_ns, r->vid);
    r->flags = META_OBJ_DELETE_MARKER;
    r->etag = r->content_type = r->content_encoding = r->content_disposition = (meta_bytes_t){"", 0};
    r->content_language = r->cache_control = r->expires = r->user_meta = (meta_bytes_t){"", 0};
    r->checksum_algo = r->checksum_value = r->part_checksums = r->parts = r->inline_data = (meta_bytes_t){"", 0};
    r->owner = owner;
    r->ec_k = set->k;
    r->ec_m = set->m;
    r->stripe_size = c->stripe_size;
    memcpy(r->distribution, dist, 16);
    return gw_object_commit(c, set, r, NULL);
}

void gw_version_id_format(const uint8_t vid[META_ID_LEN], char out[GW_VERSION_ID_MAX])
{
    s3_version_id_format(vid, out);
}

int gw_version_id_parse(h2o_iovec_t text, uint8_t vid[META_ID_LEN])
{
    return s3_version_id_parse(text, vid);
}

int gw_version_id_query(gw_ctx_t *ctx, uint8_t vid[META_ID_LEN], int *given)
{
    h2o_iovec_t v = s3_query_get(&ctx->query, "versionId");

    *given = 0;
    memset(vid, 0, META_ID_LEN);
    if (v.base == NULL)
        return 0;
    if (v.len == 0) {
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Version id cannot be the empty string");
        return -1;
    }
    if (gw_version_id_parse(v, vid) != 0) {
        /* AWS answers an id it never made with 400 InvalidArgument "Invalid version id specified" */
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Invalid version id specified");
        return -1;
    }
    *given = 1;
    return 0;
}

void gw_version_headers(gw_ctx_t *ctx, uint32_t versioning, const meta_object_t *r)
{
    char text[GW_VERSION_ID_MAX];

    if (r->flags & META_OBJ_DELETE_MARKER)
        gw_add_header_str(ctx, "x-amz-delete-marker", "true");
    if (versioning == 0 && memcmp(r->vid, null_vid, META_ID_LEN) == 0)
        return; /* a bucket never versioned shows no version ids */
    gw_version_id_format(r->vid, text);
    gw_add_header_str(ctx, "x-amz-version-id", text);
}

void gw_version_header_written(gw_ctx_t *ctx, const meta_object_t *r)
{
    char text[GW_VERSION_ID_MAX];

    if (memcmp(r->vid, null_vid, META_ID_LEN) == 0)
        return;
    gw_version_id_format(r->vid, text);
    gw_add_header_str(ctx, "x-amz-version-id", text);
}

/* ---------------------------------------------------------------- Get/PutBucketVersioning */

static void get_versioning_work(gw_ctx_t *ctx)
{
    s3_xml_writer_t w;
    uint32_t state;

    if (gw_bucket_authorize(ctx) != 0)
        return;
    state = gw_bucket_versioning(ctx);
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "VersioningConfiguration");
    if (state != 0)
        s3_xml_element_str(&w, "Status", state == 1 ? "Enabled" : "Suspended");
    s3_xml_close(&w, "VersioningConfiguration");
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
}

void gw_get_bucket_versioning(gw_ctx_t *ctx)
{
    gw_dispatch_read(ctx, get_versioning_work);
}

static void put_versioning_work(gw_ctx_t *ctx)
{
    s3_xml_versioning_t conf;
    char lock_name[META_BUCKET_MAX + 8];
    gw_lock_t lock;
    meta_bucket_t b;
    void *raw = NULL;
    int ret;

    if (gw_bucket_authorize(ctx) != 0 || gw_body_prepare(ctx) != 0)
        return;
    if (s3_xml_parse_versioning(&ctx->req->pool, ctx->body, &conf) != 0) {
        gw_set_error(ctx, S3_ERR_MALFORMED_XML, NULL);
        return;
    }
    if (conf.mfa_delete == S3_MFA_DELETE_ENABLED) {
        gw_set_error(ctx, S3_ERR_NOT_IMPLEMENTED, "MFA delete is not supported");
        return;
    }
    if (conf.status == S3_VERSIONING_UNSET)
        return; /* nothing to change: S3 answers 200 */
    if ((ret = gw_lock_cluster(ctx->cluster, gw_bucket_lock_name(gw_mb(ctx->bucket), lock_name), GW_LOCK_WAIT_NS,
                               &lock)) != 0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    if ((ret = gw_bucket_record_read(ctx->cluster, gw_mb(ctx->bucket), &raw, &b)) != 0 ||
        b.incarnation != ctx->bucket_incarnation) {
        gw_set_store_error(ctx, ret != 0 ? ret : GW_ENOENT);
        if (ret == GW_ENOENT || ret == 0)
            gw_set_error(ctx, S3_ERR_NO_SUCH_BUCKET, NULL);
        goto done;
    }
    /* under the bucket's lock, like PutObjectLockConfiguration's check of versioning */
    if (gw_object_lock_check_versioning(ctx, conf.status == S3_VERSIONING_ENABLED ? 1 : 2) != 0)
        goto done;
    b.versioning = conf.status == S3_VERSIONING_ENABLED ? 1 : 2;
    b.updated_ns = yc_now_ns();
    if ((ret = gw_bucket_record_write(ctx->cluster, &b)) != 0) {
        gw_set_store_error(ctx, ret);
        goto done;
    }
    gw_bucket_cache_forget(ctx->bucket);
done:
    free(raw);
    gw_lock_release(&lock);
}

void gw_put_bucket_versioning(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, put_versioning_work);
}
