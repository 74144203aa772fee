/* gw_object_lock.c — Object Lock in the gateway (see gw_object_lock.h for where each piece of
 * state lives and gateway/s3/objectlock.h for the rules).
 *
 * Every decision is taken from the version's record as looked up with quorum, so a version is
 * protected whatever became of the bucket's configuration. Changes of a version's retention or
 * legal hold run under the key's lock (gw_attrs_change): two changes cannot interleave, and the
 * rule "never shortened" is checked against the state the change replaces.
 */
#include "gateway/gw_object_lock.h"
#include "gateway/gw_attrs.h"
#include "gateway/gw_bucket_record.h"
#include "gateway/gw_bucket_config.h"
#include "gateway/gw_handlers.h"
#include "gateway/s3/policy.h"
#include "common/bytes.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MSG_NO_LOCK_WRITE "Bucket is missing ObjectLockConfiguration"
#define MSG_MISSING_MD5                                                                                                \
    "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters"
#define MSG_MISSING_PART_MD5                                                                                           \
    "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Part requests with Object Lock parameters"
#define MSG_SUSPEND "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed."

#define CACHE_SLOTS  256
#define CACHE_TTL_NS (2LL * 1000000000LL)

/* ---------------------------------------------------------------- encodings */

void gw_lock_retention_encode(const s3_retention_t *r, uint8_t out[GW_LOCK_RETENTION_LEN])
{
    out[0] = r->mode == S3_LOCK_COMPLIANCE ? 2 : 1;
    yc_put_be64(out + 1, (uint64_t)r->retain_until_ns);
}

int gw_lock_retention_decode(meta_bytes_t v, s3_retention_t *out)
{
    const uint8_t *p = (const uint8_t *)v.base;
    if (v.len != GW_LOCK_RETENTION_LEN || (p[0] != 1 && p[0] != 2))
        return -1;
    int64_t until = (int64_t)yc_get_be64(p + 1);
    if (until <= 0)
        return -1;
    out->mode = p[0] == 2 ? S3_LOCK_COMPLIANCE : S3_LOCK_GOVERNANCE;
    out->retain_until_ns = until;
    return 0;
}

int gw_lock_hold_decode(meta_bytes_t v, s3_legal_hold_t *out)
{
    const uint8_t *p = (const uint8_t *)v.base;
    if (v.len != GW_LOCK_HOLD_LEN || p[0] > 1)
        return -1;
    *out = p[0] == 1 ? S3_LEGAL_HOLD_ON : S3_LEGAL_HOLD_OFF;
    return 0;
}

int gw_object_lock_state(const meta_object_t *rec, s3_lock_state_t *out)
{
    meta_bytes_t v;
    int ret;

    memset(out, 0, sizeof(*out));
    if (rec->attrs.len == 0)
        return 0;
    if ((ret = meta_attr_get(rec->attrs, META_ATTR_RETENTION, &v)) < 0 ||
        (ret == 1 && gw_lock_retention_decode(v, &out->retention) != 0))
        return -1;
    if ((ret = meta_attr_get(rec->attrs, META_ATTR_LEGAL_HOLD, &v)) < 0 ||
        (ret == 1 && gw_lock_hold_decode(v, &out->legal_hold) != 0))
        return -1;
    return 0;
}

int gw_object_lock_may_delete(const meta_object_t *rec, int bypass_governance, int64_t now)
{
    s3_lock_state_t st;
    if (rec->flags & META_OBJ_DELETE_MARKER)
        return 1;
    if (gw_object_lock_state(rec, &st) != 0)
        return 0;
    return s3_objectlock_check_remove(&st, now, bypass_governance, bypass_governance, NULL) == 0;
}

/* ---------------------------------------------------------------- the bucket's configuration */

typedef struct {
    char name[META_BUCKET_MAX + 1];
    uint64_t incarnation;
    int64_t expires_ns;
    int enabled;
    s3_objectlock_config_t cfg;
} cache_entry_t;

/* Process-wide, like the bucket-record cache: one per gateway process. */
static cache_entry_t cache[CACHE_SLOTS];
static pthread_mutex_t cache_mutex = PTHREAD_MUTEX_INITIALIZER;

static size_t slot_of(h2o_iovec_t name)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < name.len; i++)
        h = (h ^ (uint8_t)name.base[i]) * 1099511628211ULL;
    return (size_t)(h % CACHE_SLOTS);
}

static int entry_is(const cache_entry_t *e, h2o_iovec_t name)
{
    return strlen(e->name) == name.len && memcmp(e->name, name.base, name.len) == 0;
}

void gw_object_lock_forget(h2o_iovec_t bucket)
{
    if (bucket.len > META_BUCKET_MAX)
        return;
    pthread_mutex_lock(&cache_mutex);
    cache_entry_t *e = &cache[slot_of(bucket)];
    if (entry_is(e, bucket))
        e->name[0] = '\0';
    pthread_mutex_unlock(&cache_mutex);
}

int gw_object_lock_bucket(gw_ctx_t *ctx, int *enabled, s3_objectlock_config_t *cfg)
{
    cache_entry_t *e, fresh = {0};
    gw_conf_state_t state;
    h2o_iovec_t doc;
    void *raw;
    int hit = 0, ret;

    *enabled = 0;
    memset(cfg, 0, sizeof(*cfg));
    /* a bucket with Object Lock is always Enabled: the others need no read */
    if (gw_bucket_versioning(ctx) != 1 || ctx->bucket.len > META_BUCKET_MAX)
        return 0;
    pthread_mutex_lock(&cache_mutex);
    e = &cache[slot_of(ctx->bucket)];
    if (entry_is(e, ctx->bucket) && e->incarnation == ctx->bucket_incarnation && e->expires_ns > yc_now_ns()) {
        *enabled = e->enabled;
        *cfg = e->cfg;
        hit = 1;
    }
    pthread_mutex_unlock(&cache_mutex);
    if (hit)
        return 0;
    if ((ret = gw_conf_read(ctx->cluster, ctx->bucket, ctx->bucket_incarnation, GW_CONF_OBJECT_LOCK, &raw, &state,
                            &doc)) != 0) {
        gw_set_store_error(ctx, ret);
        return -1;
    }
    if (state == GW_CONF_SET) {
        s3_error_detail_t why = {0};
        fresh.enabled = 1;
        /* the stored document is the one written back after its checks: it parses */
        if (s3_objectlock_parse_config(&ctx->req->pool, h2o_strdup(&ctx->req->pool, doc.base, doc.len), &fresh.cfg,
                                       &why) != 0) {
            free(raw);
            gw_set_store_error(ctx, GW_EIO);
            return -1;
        }
    }
    free(raw);
    memcpy(fresh.name, ctx->bucket.base, ctx->bucket.len);
    fresh.incarnation = ctx->bucket_incarnation;
    fresh.expires_ns = yc_now_ns() + CACHE_TTL_NS;
    pthread_mutex_lock(&cache_mutex);
    cache[slot_of(ctx->bucket)] = fresh;
    pthread_mutex_unlock(&cache_mutex);
    *enabled = fresh.enabled;
    *cfg = fresh.cfg;
    return 0;
}

int gw_object_lock_versioning_locked(gw_ctx_t *ctx, gw_lock_t *lock, uint32_t *versioning)
{
    char lock_name[META_BUCKET_MAX + 8];
    meta_bucket_t b;
    void *raw = NULL;
    int ret;

    if ((ret = gw_lock_cluster(ctx->cluster, gw_bucket_lock_name(gw_mb(ctx->bucket), lock_name), GW_LOCK_WAIT_NS,
                               lock)) != 0) {
        gw_set_store_error(ctx, ret);
        return -1;
    }
    if ((ret = gw_bucket_record_read(ctx->cluster, gw_mb(ctx->bucket), &raw, &b)) != 0 ||
        b.incarnation != ctx->bucket_incarnation) {
        gw_set_store_error(ctx, ret != 0 ? ret : GW_ENOENT);
        if (ret == GW_ENOENT || ret == 0)
            gw_set_error(ctx, S3_ERR_NO_SUCH_BUCKET, NULL);
        free(raw);
        gw_lock_release(lock);
        return -1;
    }
    *versioning = b.versioning;
    free(raw);
    return 0;
}

int gw_object_lock_check_versioning(gw_ctx_t *ctx, uint32_t status)
{
    gw_conf_state_t state;
    h2o_iovec_t doc;
    void *raw;
    int ret;

    if (status == 1)
        return 0;
    /* from the drives, not the cache: a configuration set a moment ago through another gateway */
    if ((ret = gw_conf_read(ctx->cluster, ctx->bucket, ctx->bucket_incarnation, GW_CONF_OBJECT_LOCK, &raw, &state,
                            &doc)) != 0) {
        gw_set_store_error(ctx, ret);
        return -1;
    }
    free(raw);
    if (state == GW_CONF_SET) {
        gw_set_error(ctx, S3_ERR_INVALID_BUCKET_STATE, MSG_SUSPEND);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- a new version's lock */

/* 1 when the request sends Content-MD5 or a checksum of its body (in a header or a trailer). */
static int has_integrity_header(const gw_ctx_t *ctx)
{
    const h2o_headers_t *hs = &ctx->req->headers;
    for (size_t i = 0; i < hs->size; i++) {
        h2o_iovec_t n = *hs->entries[i].name, v = hs->entries[i].value;
        if (h2o_memis(n.base, n.len, H2O_STRLIT("content-md5")) ||
            (n.len > 15 && memcmp(n.base, "x-amz-checksum-", 15) == 0 &&
             !h2o_memis(n.base, n.len, H2O_STRLIT("x-amz-checksum-type"))) ||
            (h2o_memis(n.base, n.len, H2O_STRLIT("x-amz-trailer")) && v.len > 15 &&
             h2o_lcstris(v.base, 15, H2O_STRLIT("x-amz-checksum-"))))
            return 1;
    }
    return 0;
}

int gw_object_lock_check_part(gw_ctx_t *ctx, const meta_upload_t *u)
{
    meta_bytes_t v;
    /* the upload holds the lock its object gets, so a part of it is a write with lock parameters */
    if (u->attrs.len == 0 || has_integrity_header(ctx) ||
        (meta_attr_get(u->attrs, META_ATTR_RETENTION, &v) != 1 &&
         meta_attr_get(u->attrs, META_ATTR_LEGAL_HOLD, &v) != 1))
        return 0;
    gw_set_error(ctx, S3_ERR_INVALID_REQUEST, MSG_MISSING_PART_MD5);
    return -1;
}

static void set_detail(gw_ctx_t *ctx, const s3_error_detail_t *why)
{
    const char *message = NULL;
    if (why->message.base != NULL)
        message = h2o_strdup(&ctx->req->pool, why->message.base, why->message.len).base;
    gw_set_error(ctx, why->err, message);
    for (size_t i = 0; i < why->nfields; i++)
        gw_set_error_field(ctx, why->fields[i].name, why->fields[i].value);
}

int gw_object_lock_new_version(gw_ctx_t *ctx, int with_body, meta_object_t *rec, meta_buf_t *buf)
{
    s3_objectlock_headers_t h = {gw_header(ctx, "x-amz-object-lock-mode"),
                                 gw_header(ctx, "x-amz-object-lock-retain-until-date"),
                                 gw_header(ctx, "x-amz-object-lock-legal-hold")};
    s3_error_detail_t why = {0};
    s3_objectlock_config_t cfg;
    s3_retention_t r;
    s3_legal_hold_t hold;
    int enabled, asked = h.mode.base != NULL || h.retain_until_date.base != NULL || h.legal_hold.base != NULL;
    int64_t now = yc_now_ns();

    if (s3_objectlock_parse_headers(&h, now, &r, &hold, &why) != 0) {
        set_detail(ctx, &why);
        return -1;
    }
    if (gw_object_lock_bucket(ctx, &enabled, &cfg) != 0)
        return -1;
    if (!enabled) {
        if (!asked)
            return 0;
        gw_set_error(ctx, S3_ERR_INVALID_REQUEST, MSG_NO_LOCK_WRITE);
        return -1;
    }
    if (r.mode == S3_LOCK_NONE)
        s3_objectlock_default_retention(&cfg, now, &r);
    if (r.mode == S3_LOCK_NONE && hold == S3_LEGAL_HOLD_UNSET)
        return 0;
    if (with_body && !has_integrity_header(ctx)) {
        gw_set_error(ctx, S3_ERR_INVALID_REQUEST, MSG_MISSING_MD5);
        return -1;
    }
    uint8_t rv[GW_LOCK_RETENTION_LEN], hv = hold == S3_LEGAL_HOLD_ON ? 1 : 0;
    meta_bytes_t rmv = {(const char *)rv, sizeof(rv)}, hmv = {(const char *)&hv, 1};
    meta_buf_t tmp = {0};
    int ret;
    if (r.mode != S3_LOCK_NONE)
        gw_lock_retention_encode(&r, rv);
    if (r.mode != S3_LOCK_NONE && hold != S3_LEGAL_HOLD_UNSET) {
        /* meta_attr_put writes a whole set: the retention into a scratch set, then the hold */
        ret = meta_attr_put(rec->attrs, META_ATTR_RETENTION, &rmv, &tmp);
        if (ret == 0)
            ret = meta_attr_put((meta_bytes_t){(const char *)tmp.base, tmp.len}, META_ATTR_LEGAL_HOLD, &hmv, buf);
    } else if (r.mode != S3_LOCK_NONE) {
        ret = meta_attr_put(rec->attrs, META_ATTR_RETENTION, &rmv, buf);
    } else {
        ret = meta_attr_put(rec->attrs, META_ATTR_LEGAL_HOLD, &hmv, buf);
    }
    meta_buf_dispose(&tmp);
    if (ret != 0) {
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        return -1;
    }
    rec->attrs = (meta_bytes_t){(const char *)buf->base, buf->len};
    return 0;
}

/* ---------------------------------------------------------------- deletion */

/* 1 when ctx's caller may perform action on key. A refusal answers a question of the lock (may
 * the retention be bypassed, shown), not the request: the request's error stays as it was. */
static int may(gw_ctx_t *ctx, s3_policy_action_t action, h2o_iovec_t key)
{
    s3_error_t saved = ctx->error;
    const char *saved_message = ctx->error_message;
    int ok = gw_bucket_authorize_key(ctx, action, key) == 0;
    gw_set_error(ctx, saved, saved_message);
    return ok;
}

/* 1 when the request asks for the governance bypass and its user may have it on key. */
static int bypass_granted(gw_ctx_t *ctx, h2o_iovec_t key)
{
    return s3_objectlock_bypass_requested(gw_header(ctx, "x-amz-bypass-governance-retention")) &&
           may(ctx, S3_POLICY_ACTION_BYPASS_GOVERNANCE_RETENTION, key);
}

int gw_object_lock_check_delete(gw_ctx_t *ctx, const meta_object_t *rec, h2o_iovec_t key)
{
    int64_t now = yc_now_ns();
    if (gw_object_lock_may_delete(rec, 0, now))
        return 0;
    return gw_object_lock_may_delete(rec, bypass_granted(ctx, key), now) ? 0 : GW_ELOCKED;
}

int gw_object_lock_guard(gw_ctx_t *ctx, h2o_iovec_t key, gw_object_lock_guard_t *g)
{
    s3_objectlock_config_t cfg;
    int enabled, ret;

    g->held = 0;
    if (gw_object_lock_bucket(ctx, &enabled, &cfg) != 0) {
        gw_set_error(ctx, S3_OK, NULL); /* the caller answers the code */
        return GW_EQUORUM;
    }
    if (!enabled)
        return 0;
    if ((ret = gw_attrs_lock(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(key), &g->lock)) != 0)
        return ret;
    g->held = 1;
    return 0;
}

void gw_object_lock_unguard(gw_object_lock_guard_t *g)
{
    if (g->held)
        gw_lock_release(&g->lock);
    g->held = 0;
}

/* ---------------------------------------------------------------- GET / HEAD */

void gw_object_lock_headers(gw_ctx_t *ctx, const meta_object_t *rec)
{
    s3_lock_state_t st;
    if (rec->attrs.len == 0 || gw_object_lock_state(rec, &st) != 0)
        return;
    /* as S3: each is shown only to a caller allowed to read it */
    if (st.retention.mode != S3_LOCK_NONE && !may(ctx, S3_POLICY_ACTION_GET_OBJECT_RETENTION, ctx->key))
        st.retention.mode = S3_LOCK_NONE;
    if (st.legal_hold != S3_LEGAL_HOLD_UNSET && !may(ctx, S3_POLICY_ACTION_GET_OBJECT_LEGAL_HOLD, ctx->key))
        st.legal_hold = S3_LEGAL_HOLD_UNSET;
    if (st.retention.mode != S3_LOCK_NONE) {
        char date[S3_XML_TIME_LEN + 8];
        gw_add_header_str(ctx, "x-amz-object-lock-mode", s3_lock_mode_name(st.retention.mode));
        size_t n = s3_xml_format_time(st.retention.retain_until_ns, date);
        gw_add_header(ctx, "x-amz-object-lock-retain-until-date", date, n);
    }
    if (st.legal_hold != S3_LEGAL_HOLD_UNSET)
        gw_add_header_str(ctx, "x-amz-object-lock-legal-hold", st.legal_hold == S3_LEGAL_HOLD_ON ? "ON" : "OFF");
}
