/* gw_cond_write.c — conditional writes and deletes under the key's namespace lock (see
 * gw_cond_write.h).
 *
 * The lock's name is "cond/" + the bucket's namespace (its incarnation) + "/" + the key: a
 * re-created bucket's keys are other names, and every gateway derives the same name and set.
 */
#include "gateway/gw_cond_write.h"
#include "common/bytes.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_origin.h"
#include "gateway/s3/cond.h"
#include <string.h>

static void set_condition_error(gw_ctx_t *ctx, s3_error_t err, const char *condition)
{
    gw_set_error(ctx, err, NULL);
    if (err == S3_ERR_PRECONDITION_FAILED && condition != NULL)
        gw_set_error_field(ctx, "Condition", h2o_iovec_init(condition, strlen(condition)));
}

int gw_cond_write_parse(gw_ctx_t *ctx, gw_cond_write_t *cw)
{
    int ret;

    memset(cw, 0, sizeof(*cw));
    cw->key = ctx->key;
    cw->if_match = gw_header(ctx, "if-match");
    cw->if_none_match = gw_header(ctx, "if-none-match");
    cw->active = cw->if_match.base != NULL || cw->if_none_match.base != NULL;
    if (!cw->active)
        return 0;
    /* as if no object existed: only a malformed condition can fail here */
    if ((ret = s3_cond_check_write(h2o_iovec_init(NULL, 0), cw->if_none_match, 0, h2o_iovec_init(NULL, 0))) != 0) {
        gw_set_error(ctx, s3_error_from_ret(ret), NULL);
        gw_set_error_field(ctx, "Header", h2o_iovec_init(H2O_STRLIT("if-none-match")));
        return -1;
    }
    if (cw->if_match.base != NULL && cw->if_none_match.base != NULL) {
        /* S3 takes one condition per write; both at once is a combination it does not serve */
        gw_set_error(ctx, S3_ERR_NOT_IMPLEMENTED, NULL);
        gw_set_error_field(ctx, "Header", h2o_iovec_init(H2O_STRLIT("if-none-match")));
        return -1;
    }
    return 0;
}

static int invalid_argument(gw_ctx_t *ctx, const char *name, h2o_iovec_t value)
{
    gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, NULL);
    gw_set_error_field(ctx, "ArgumentName", h2o_iovec_init(name, strlen(name)));
    gw_set_error_field(ctx, "ArgumentValue", value);
    return -1;
}

int gw_cond_delete_parse(gw_ctx_t *ctx, gw_cond_write_t *cw)
{
    memset(cw, 0, sizeof(*cw));
    cw->is_delete = 1;
    cw->key = ctx->key;
    cw->if_match = gw_header(ctx, "if-match");
    cw->if_mtime = gw_header(ctx, "x-amz-if-match-last-modified-time");
    cw->if_size = gw_header(ctx, "x-amz-if-match-size");
    cw->active = cw->if_match.base != NULL || cw->if_mtime.base != NULL || cw->if_size.base != NULL;
    if (cw->if_mtime.base != NULL && s3_http_date_parse(cw->if_mtime, &cw->mtime_ns) != 0)
        return invalid_argument(ctx, "x-amz-if-match-last-modified-time", cw->if_mtime);
    if (cw->if_size.base != NULL && yc_decimal_u64(cw->if_size.base, cw->if_size.len, &cw->size) != 0)
        return invalid_argument(ctx, "x-amz-if-match-size", cw->if_size);
    return 0;
}

void gw_cond_delete_object(const s3_xml_delete_object_t *o, gw_cond_write_t *cw)
{
    memset(cw, 0, sizeof(*cw));
    cw->is_delete = 1;
    cw->key = o->key;
    cw->if_match = o->etag;
    /* the header forms' presence is what check_delete tests: a non-NULL base marks each */
    if (o->has_mtime) {
        cw->if_mtime = h2o_iovec_init(H2O_STRLIT("LastModifiedTime"));
        cw->mtime_ns = o->mtime_ns;
    }
    if (o->has_size) {
        cw->if_size = h2o_iovec_init(H2O_STRLIT("Size"));
        cw->size = o->size;
    }
    cw->active = o->etag.base != NULL || o->has_mtime || o->has_size;
}

static int take_lock(gw_ctx_t *ctx, gw_cond_write_t *cw)
{
    char name[META_LOCK_NAME_MAX];
    size_t n = 0;
    uint8_t dist[16];
    int ret;

    if (5 + ctx->bucket_ns.len + 1 + cw->key.len > sizeof(name)) {
        gw_set_error(ctx, S3_ERR_KEY_TOO_LONG_ERROR, NULL);
        return -1;
    }
    memcpy(name, "cond/", 5);
    n = 5;
    memcpy(name + n, ctx->bucket_ns.base, ctx->bucket_ns.len);
    n += ctx->bucket_ns.len;
    name[n++] = '/';
    memcpy(name + n, cw->key.base, cw->key.len);
    n += cw->key.len;
    gw_set_t *set = gw_cluster_place(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(cw->key), dist);
    if ((ret = gw_lock_set(set, (meta_bytes_t){name, n}, GW_COND_LOCK_WAIT_NS, &cw->lock)) != 0) {
        if (ret == GW_EBUSY)
            gw_set_error(ctx, S3_ERR_CONDITIONAL_REQUEST_CONFLICT, NULL);
        else
            gw_set_store_error(ctx, ret);
        return -1;
    }
    cw->locked = 1;
    return 0;
}

/* A delete's conditions against the current version (exists 0: none, or a delete marker). */
static int check_delete(gw_ctx_t *ctx, gw_cond_write_t *cw, int exists, const meta_object_t *r)
{
    if (!exists) {
        /* If-Match names an object, so its absence is NoSuchKey; the other two only compare
         * attributes, and without an object there is nothing to delete (204) */
        if (cw->if_match.base != NULL) {
            gw_set_error(ctx, S3_ERR_NO_SUCH_KEY, NULL);
            return -1;
        }
        return 1;
    }
    if (cw->if_match.base != NULL && !s3_etag_list_match(cw->if_match, gw_iov(r->etag), 0)) {
        set_condition_error(ctx, S3_ERR_PRECONDITION_FAILED, "If-Match");
        return -1;
    }
    /* Last-Modified carries whole seconds: the comparison is at that granularity */
    if (cw->if_mtime.base != NULL && cw->mtime_ns / 1000000000 != gw_last_modified_ns(r) / 1000000000) {
        set_condition_error(ctx, S3_ERR_PRECONDITION_FAILED, "x-amz-if-match-last-modified-time");
        return -1;
    }
    if (cw->if_size.base != NULL && cw->size != r->size) {
        set_condition_error(ctx, S3_ERR_PRECONDITION_FAILED, "x-amz-if-match-size");
        return -1;
    }
    return 0;
}

int gw_cond_write_check(gw_ctx_t *ctx, gw_cond_write_t *cw)
{
    gw_object_t *o = NULL;
    const meta_object_t *r = NULL;
    int ret, exists;

    if (!cw->active)
        return 0;
    if (take_lock(ctx, cw) != 0)
        return -1;
    ret = gw_object_lookup(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(cw->key), NULL, &o);
    if (ret != 0 && ret != GW_ENOENT) {
        gw_set_store_error(ctx, ret); /* the drives could not say: never guess that it is absent */
        ret = -1;
        goto out;
    }
    if (ret == 0)
        r = gw_object_record(o);
    exists = r != NULL && !(r->flags & META_OBJ_DELETE_MARKER);
    if (cw->is_delete) {
        ret = check_delete(ctx, cw, exists, r);
    } else if ((ret = s3_cond_check_write(cw->if_match, cw->if_none_match, exists,
                                          exists ? gw_iov(r->etag) : h2o_iovec_init(NULL, 0))) != 0) {
        set_condition_error(ctx, s3_error_from_ret(ret), cw->if_match.base != NULL ? "If-Match" : "If-None-Match");
        ret = -1;
    }
out:
    if (o != NULL)
        gw_object_free(o);
    if (ret != 0)
        gw_cond_write_done(cw);
    return ret;
}

void gw_cond_write_done(gw_cond_write_t *cw)
{
    if (cw->locked)
        gw_lock_release(&cw->lock);
    cw->locked = 0;
}
