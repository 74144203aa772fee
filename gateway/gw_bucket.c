/* gw_bucket.c — bucket operations and the bucket-record cache.
 *
 * Bucket records are cluster-wide replicas (gw_replica.h). Every object request must know its
 * bucket's owner, and reading a majority of drives for each 4 KiB GET would cost more than the
 * GET, so records found are cached for CACHE_TTL_NS. A bucket deleted through this gateway
 * leaves the cache at once; through another gateway it may be seen for up to the TTL (stated
 * in docs/architecture.md).
 */
#include "gateway/gw_body.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_lister.h"
#include "gateway/gw_log.h"
#include "gateway/gw_object.h"
#include "gateway/gw_replica.h"
#include "gateway/s3/names.h"
#include "gateway/s3/xml.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define CACHE_SLOTS  1024
#define CACHE_TTL_NS (2LL * 1000 * 1000 * 1000)

typedef struct {
    char name[META_BUCKET_MAX + 1];
    char owner[META_ACCESS_KEY_MAX + 1];
    int64_t created_ns;
    int64_t expires_ns; /* 0: empty slot */
} cache_entry_t;

/* Process-wide, like the EC tables: one cache per gateway process. */
static cache_entry_t cache[CACHE_SLOTS];
static pthread_mutex_t cache_mutex = PTHREAD_MUTEX_INITIALIZER;

static size_t slot_of(h2o_iovec_t name)
{
    return XXH3_64bits(name.base, name.len) % CACHE_SLOTS;
}

static int cache_get(h2o_iovec_t name, cache_entry_t *out)
{
    int found = 0;
    cache_entry_t *e = &cache[slot_of(name)];
    pthread_mutex_lock(&cache_mutex);
    if (e->expires_ns > gw_now_ns() && strlen(e->name) == name.len && memcmp(e->name, name.base, name.len) == 0) {
        *out = *e;
        found = 1;
    }
    pthread_mutex_unlock(&cache_mutex);
    return found;
}

static void cache_put(const cache_entry_t *entry)
{
    h2o_iovec_t name = h2o_iovec_init(entry->name, strlen(entry->name));
    pthread_mutex_lock(&cache_mutex);
    cache[slot_of(name)] = *entry;
    cache[slot_of(name)].expires_ns = gw_now_ns() + CACHE_TTL_NS;
    pthread_mutex_unlock(&cache_mutex);
}

void gw_bucket_cache_forget(h2o_iovec_t name)
{
    cache_entry_t *e = &cache[slot_of(name)];
    pthread_mutex_lock(&cache_mutex);
    if (strlen(e->name) == name.len && memcmp(e->name, name.base, name.len) == 0)
        e->expires_ns = 0;
    pthread_mutex_unlock(&cache_mutex);
}

/* Reads the bucket record (cache first). 0, GW_ENOENT or GW_EQUORUM. */
static int bucket_get(gw_ctx_t *ctx, h2o_iovec_t name, cache_entry_t *out)
{
    meta_key_t key;
    meta_bucket_t b;
    void *val = NULL;
    size_t len;
    int ret;

    if (name.len > META_BUCKET_MAX)
        return GW_ENOENT;
    if (cache_get(name, out))
        return 0;
    if ((ret = meta_key_bucket(gw_mb(name), &key)) != 0)
        return GW_ENOENT;
    if ((ret = gw_replica_get(ctx->cluster, &key, &val, &len)) != 0)
        return ret;
    if (meta_bucket_decode(val, len, &b) != 0) {
        free(val);
        return GW_EIO;
    }
    memset(out, 0, sizeof(*out));
    memcpy(out->name, name.base, name.len);
    memcpy(out->owner, b.owner.base, b.owner.len < META_ACCESS_KEY_MAX ? b.owner.len : META_ACCESS_KEY_MAX);
    out->created_ns = b.created_ns;
    free(val);
    cache_put(out);
    return 0;
}

static int owns(const gw_ctx_t *ctx, const cache_entry_t *b)
{
    return ctx->is_root || (strlen(b->owner) == ctx->user.len && memcmp(b->owner, ctx->user.base, ctx->user.len) == 0);
}

int gw_bucket_authorize(gw_ctx_t *ctx)
{
    cache_entry_t b;
    int ret = bucket_get(ctx, ctx->bucket, &b);
    if (ret == GW_ENOENT) {
        gw_set_error(ctx, S3_ERR_NO_SUCH_BUCKET, NULL);
        return -1;
    }
    if (ret != 0) {
        gw_set_store_error(ctx, ret);
        return -1;
    }
    if (!owns(ctx, &b)) {
        gw_set_error(ctx, S3_ERR_ACCESS_DENIED, NULL);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- ListBuckets */

typedef struct {
    gw_ctx_t *ctx;
    s3_xml_writer_t *w;
} list_buckets_t;

static int list_one(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    list_buckets_t *lb = arg;
    meta_bucket_t b;
    if (meta_bucket_decode(val, vlen, &b) != 0)
        return 0;
    if (!lb->ctx->is_root &&
        !(b.owner.len == lb->ctx->user.len && memcmp(b.owner.base, lb->ctx->user.base, b.owner.len) == 0))
        return 0;
    s3_xml_open(lb->w, "Bucket");
    s3_xml_element(lb->w, "Name", gw_iov(b.name));
    s3_xml_element_time(lb->w, "CreationDate", b.created_ns);
    s3_xml_close(lb->w, "Bucket");
    return 0;
}

static void list_buckets_work(gw_ctx_t *ctx)
{
    s3_xml_writer_t w;
    meta_key_t prefix;
    list_buckets_t lb = {ctx, &w};
    int ret;

    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "ListAllMyBucketsResult");
    s3_xml_open(&w, "Owner");
    s3_xml_element(&w, "ID", ctx->user);
    s3_xml_element(&w, "DisplayName", ctx->user);
    s3_xml_close(&w, "Owner");
    s3_xml_open(&w, "Buckets");
    meta_key_bucket((meta_bytes_t){"", 0}, &prefix);
    if ((ret = gw_replica_scan(ctx->cluster, &prefix, list_one, &lb)) != 0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    s3_xml_close(&w, "Buckets");
    s3_xml_close(&w, "ListAllMyBucketsResult");
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
}

void gw_list_buckets(gw_ctx_t *ctx)
{
    gw_dispatch_read(ctx, list_buckets_work);
}

/* ---------------------------------------------------------------- CreateBucket */

static void set_location(gw_ctx_t *ctx)
{
    char loc[META_BUCKET_MAX + 2];
    snprintf(loc, sizeof(loc), "/%.*s", (int)ctx->bucket.len, ctx->bucket.base);
    gw_add_header_str(ctx, "location", loc);
}

static void create_bucket_work(gw_ctx_t *ctx)
{
    const gw_config_t *cfg = gw_server_config(ctx->srv);
    h2o_iovec_t location = h2o_iovec_init("", 0);
    cache_entry_t existing;
    meta_buf_t buf = {0};
    meta_key_t key;
    int ret;

    if (gw_body_prepare(ctx) != 0)
        return;
    if (ctx->body.len > 0) {
        s3_xml_create_bucket_t cb;
        if ((ret = s3_xml_parse_create_bucket(&ctx->req->pool, ctx->body, &cb)) != 0) {
            gw_set_error(ctx, s3_error_from_ret(ret), NULL);
            return;
        }
        if (cb.location_constraint.base != NULL)
            location = cb.location_constraint;
    }
    if (location.len > 0 && !h2o_memis(location.base, location.len, cfg->region, strlen(cfg->region))) {
        gw_set_error(ctx, S3_ERR_INVALID_LOCATION_CONSTRAINT, "The specified location-constraint is not valid");
        return;
    }
    ret = bucket_get(ctx, ctx->bucket, &existing);
    if (ret == 0) {
        /* S3 answers 200 to an owner re-creating its bucket in us-east-1 (and 409 elsewhere) */
        if (owns(ctx, &existing) && strcmp(cfg->region, "us-east-1") == 0) {
            set_location(ctx);
            return;
        }
        gw_set_error(ctx, owns(ctx, &existing) ? S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU : S3_ERR_BUCKET_ALREADY_EXISTS,
                     NULL);
        return;
    }
    if (ret != GW_ENOENT) {
        gw_set_store_error(ctx, ret);
        return;
    }
    meta_bucket_t b = {
        .name = gw_mb(ctx->bucket), .owner = gw_mb(ctx->user), .location = gw_mb(location), .created_ns = gw_now_ns()};
    if ((ret = meta_key_bucket(b.name, &key)) != 0 || (ret = meta_bucket_encode(&b, &buf)) != 0) {
        gw_set_store_error(ctx, ret);
        goto done;
    }
    if ((ret = gw_replica_put(ctx->cluster, &key, buf.base, buf.len)) != 0) {
        gw_set_store_error(ctx, ret);
        goto done;
    }
    set_location(ctx);
done:
    meta_buf_dispose(&buf);
}

void gw_create_bucket(gw_ctx_t *ctx)
{
    int ret;
    if ((ret = s3_bucket_name_validate(ctx->bucket)) != 0) {
        gw_fail(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    gw_dispatch(ctx, create_bucket_work);
}

/* ---------------------------------------------------------------- HeadBucket, location, versioning */

static void head_bucket_work(gw_ctx_t *ctx)
{
    const gw_config_t *cfg = gw_server_config(ctx->srv);
    if (gw_bucket_authorize(ctx) == 0)
        gw_add_header_str(ctx, "x-amz-bucket-region", cfg->region);
}

void gw_head_bucket(gw_ctx_t *ctx)
{
    gw_dispatch_read(ctx, head_bucket_work);
}

static void location_work(gw_ctx_t *ctx)
{
    const gw_config_t *cfg = gw_server_config(ctx->srv);
    s3_xml_writer_t w;
    if (gw_bucket_authorize(ctx) != 0)
        return;
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "LocationConstraint");
    /* S3 answers an empty constraint for us-east-1, the region whose name is implied */
    if (strcmp(cfg->region, "us-east-1") != 0)
        s3_xml_text(&w, h2o_iovec_init(cfg->region, strlen(cfg->region)));
    s3_xml_close(&w, "LocationConstraint");
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
}

void gw_get_bucket_location(gw_ctx_t *ctx)
{
    gw_dispatch_read(ctx, location_work);
}

static void versioning_work(gw_ctx_t *ctx)
{
    s3_xml_writer_t w;
    if (gw_bucket_authorize(ctx) != 0)
        return;
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "VersioningConfiguration");
    s3_xml_close(&w, "VersioningConfiguration");
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
}

void gw_get_bucket_versioning(gw_ctx_t *ctx)
{
    gw_dispatch_read(ctx, versioning_work);
}

void gw_put_bucket_versioning(gw_ctx_t *ctx)
{
    gw_fail(ctx, S3_ERR_NOT_IMPLEMENTED, "Bucket versioning is not available yet");
}

/* ---------------------------------------------------------------- DeleteBucket */

static void delete_bucket_work(gw_ctx_t *ctx)
{
    gw_lister_t *l;
    gw_list_entry_t e;
    meta_key_t key;
    int ret;

    if (gw_bucket_authorize(ctx) != 0)
        return;
    if ((ret = gw_lister_open(ctx->cluster, gw_mb(ctx->bucket), (meta_bytes_t){"", 0}, &l)) != 0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    ret = gw_lister_next(l, &e);
    gw_lister_free(l);
    if (ret < 0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    if (ret == 1) {
        gw_set_error(ctx, S3_ERR_BUCKET_NOT_EMPTY, NULL);
        return;
    }
    meta_key_bucket(gw_mb(ctx->bucket), &key);
    if ((ret = gw_replica_delete(ctx->cluster, &key)) != 0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    gw_bucket_cache_forget(ctx->bucket);
    ctx->status = 204;
}

void gw_delete_bucket(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, delete_bucket_work);
}
