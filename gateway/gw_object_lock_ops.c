/* gw_object_lock_ops.c — Put/GetObjectRetention and Put/GetObjectLegalHold (?retention and
 * ?legal-hold of an object, with an optional versionId).
 *
 * All four answer 400 InvalidRequest "Bucket is missing Object Lock Configuration" on a bucket
 * without Object Lock, as S3 does. The Puts need Content-MD5 or a checksum of their body; they
 * change the version's attribute set under the key's lock (gw_attrs_change), deciding against the
 * state they replace: a retention in force is extended by anyone who may set it, shortened,
 * removed or changed in mode only in GOVERNANCE with the bypass (x-amz-bypass-governance-retention
 * and s3:BypassGovernanceRetention), never in COMPLIANCE. A delete marker has no lock: named by
 * its version id it answers 405 MethodNotAllowed; as the newest version of a key, 404 NoSuchKey.
 * A version without a retention (or without a hold) answers the Get with 404
 * NoSuchObjectLockConfiguration.
 */
#include "gateway/gw_attrs.h"
#include "gateway/gw_body.h"
#include "gateway/gw_checksums.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_object_lock.h"
#include "gateway/s3/checksum.h"
#include "gateway/s3/policy.h"
#include <string.h>

#define MSG_NO_LOCK_CONF "Bucket is missing Object Lock Configuration"

/* What an edit refuses (positive: gw_attrs_change passes it back beside its own negative codes). */
enum { EDIT_MARKER = 1, EDIT_LOCKED = 2, EDIT_CORRUPT = 3 };

typedef struct {
    s3_retention_t retention; /* PutObjectRetention: the new one (mode NONE: removal) */
    s3_legal_hold_t hold;     /* PutObjectLegalHold: the new one */
    int bypass;               /* asked for and permitted */
    int64_t now;
} edit_t;

static void set_detail(gw_ctx_t *ctx, const s3_error_detail_t *why)
{
    const char *message = NULL;
    if (why->message.base != NULL)
        message = h2o_strdup(&ctx->req->pool, why->message.base, why->message.len).base;
    gw_set_error(ctx, why->err, message);
    for (size_t i = 0; i < why->nfields; i++)
        gw_set_error_field(ctx, why->fields[i].name, why->fields[i].value);
}

/* Authorizes, reads the version id and checks the bucket has Object Lock. */
static int begin(gw_ctx_t *ctx, uint8_t vid[META_ID_LEN], int *given)
{
    s3_objectlock_config_t cfg;
    int enabled;

    if (gw_version_id_query(ctx, vid, given) != 0 || gw_bucket_authorize(ctx) != 0 ||
        gw_object_lock_bucket(ctx, &enabled, &cfg) != 0)
        return -1;
    if (!enabled) {
        gw_set_error(ctx, S3_ERR_INVALID_REQUEST, MSG_NO_LOCK_CONF);
        return -1;
    }
    return 0;
}

/* Reads the body and checks Content-MD5 / x-amz-checksum-*, one of which must be there. */
static int read_body(gw_ctx_t *ctx)
{
    if (gw_body_prepare(ctx) != 0)
        return -1;
    return gw_checksum_body_verify(ctx, 1);
}

/* 1 when the request asks for the governance bypass and its user may have it. */
static int bypass_granted(gw_ctx_t *ctx)
{
    if (!s3_objectlock_bypass_requested(gw_header(ctx, "x-amz-bypass-governance-retention")))
        return 0;
    int ok = gw_bucket_authorize_key(ctx, S3_POLICY_ACTION_BYPASS_GOVERNANCE_RETENTION, ctx->key) == 0;
    gw_set_error(ctx, S3_OK, NULL); /* no bypass is an answer, not this request's error */
    return ok;
}

/* Answers what gw_attrs_change or a lookup returned. */
static void set_result(gw_ctx_t *ctx, int ret, int given)
{
    switch (ret) {
    case 0:
        return;
    case EDIT_MARKER:
        if (given) {
            gw_add_header_str(ctx, "allow", "DELETE");
            gw_set_error(ctx, S3_ERR_METHOD_NOT_ALLOWED, NULL);
        } else {
            gw_set_error(ctx, S3_ERR_NO_SUCH_KEY, NULL);
        }
        return;
    case EDIT_LOCKED:
        gw_set_store_error(ctx, GW_ELOCKED);
        return;
    case EDIT_CORRUPT:
        gw_set_store_error(ctx, GW_EIO);
        return;
    case GW_ENOENT:
        gw_set_error(ctx, given ? S3_ERR_NO_SUCH_VERSION : S3_ERR_NO_SUCH_KEY, NULL);
        return;
    default:
        gw_set_store_error(ctx, ret);
    }
}

/* ---------------------------------------------------------------- retention */

static int edit_retention(void *arg, const meta_object_t *rec, meta_buf_t *attrs)
{
    edit_t *e = arg;
    s3_lock_state_t st;
    uint8_t v[GW_LOCK_RETENTION_LEN];
    meta_bytes_t mv = {(const char *)v, sizeof(v)};

    if (rec->flags & META_OBJ_DELETE_MARKER)
        return EDIT_MARKER;
    if (gw_object_lock_state(rec, &st) != 0)
        return EDIT_CORRUPT;
    if (s3_objectlock_check_retention_change(&st.retention, &e->retention, e->now, e->bypass, e->bypass, NULL) != 0)
        return EDIT_LOCKED;
    if (e->retention.mode != S3_LOCK_NONE)
        gw_lock_retention_encode(&e->retention, v);
    if (meta_attr_put(rec->attrs, META_ATTR_RETENTION, e->retention.mode != S3_LOCK_NONE ? &mv : NULL, attrs) != 0)
        return EDIT_CORRUPT;
    return 0;
}

static void put_retention_work(gw_ctx_t *ctx)
{
    s3_error_detail_t why = {0};
    uint8_t vid[META_ID_LEN];
    edit_t e = {0};
    int given, ret;

    if (begin(ctx, vid, &given) != 0 || read_body(ctx) != 0)
        return;
    e.now = yc_now_ns();
    if (s3_objectlock_parse_retention(&ctx->req->pool, ctx->body, e.now, &e.retention, &why) != 0) {
        set_detail(ctx, &why);
        return;
    }
    e.bypass = bypass_granted(ctx);
    ret = gw_attrs_change(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key), given ? vid : NULL, edit_retention, &e,
                          NULL);
    set_result(ctx, ret, given);
}

void gw_put_object_retention(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, put_retention_work);
}

/* Looks the version up and decodes its lock; 0, or the error set. */
static int read_state(gw_ctx_t *ctx, s3_lock_state_t *st)
{
    uint8_t vid[META_ID_LEN];
    gw_object_t *o;
    int given, ret;

    if (begin(ctx, vid, &given) != 0)
        return -1;
    if ((ret = gw_object_lookup(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key), given ? vid : NULL, &o)) != 0) {
        set_result(ctx, ret, given);
        return -1;
    }
    const meta_object_t *r = gw_object_record(o);
    ret = r->flags & META_OBJ_DELETE_MARKER ? EDIT_MARKER : gw_object_lock_state(r, st) != 0 ? EDIT_CORRUPT : 0;
    gw_object_free(o);
    set_result(ctx, ret, given);
    return ret != 0 ? -1 : 0;
}

static void get_retention_work(gw_ctx_t *ctx)
{
    s3_lock_state_t st;
    s3_xml_writer_t w;

    if (read_state(ctx, &st) != 0)
        return;
    if (st.retention.mode == S3_LOCK_NONE) {
        gw_set_error(ctx, S3_ERR_NO_SUCH_OBJECT_LOCK_CONFIGURATION, NULL);
        return;
    }
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_objectlock_write_retention(&w, &st.retention);
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
}

void gw_get_object_retention(gw_ctx_t *ctx)
{
    gw_dispatch_read(ctx, get_retention_work);
}

/* ---------------------------------------------------------------- legal hold */

static int edit_hold(void *arg, const meta_object_t *rec, meta_buf_t *attrs)
{
    edit_t *e = arg;
    uint8_t v = e->hold == S3_LEGAL_HOLD_ON ? 1 : 0;
    meta_bytes_t mv = {(const char *)&v, 1};

    if (rec->flags & META_OBJ_DELETE_MARKER)
        return EDIT_MARKER;
    return meta_attr_put(rec->attrs, META_ATTR_LEGAL_HOLD, &mv, attrs) != 0 ? EDIT_CORRUPT : 0;
}

static void put_hold_work(gw_ctx_t *ctx)
{
    s3_error_detail_t why = {0};
    uint8_t vid[META_ID_LEN];
    edit_t e = {0};
    int given;

    if (begin(ctx, vid, &given) != 0 || read_body(ctx) != 0)
        return;
    if (s3_objectlock_parse_legal_hold(&ctx->req->pool, ctx->body, &e.hold, &why) != 0) {
        set_detail(ctx, &why);
        return;
    }
    set_result(
        ctx,
        gw_attrs_change(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key), given ? vid : NULL, edit_hold, &e, NULL),
        given);
}

void gw_put_object_legal_hold(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, put_hold_work);
}

static void get_hold_work(gw_ctx_t *ctx)
{
    s3_lock_state_t st;
    s3_xml_writer_t w;

    if (read_state(ctx, &st) != 0)
        return;
    if (st.legal_hold == S3_LEGAL_HOLD_UNSET) {
        gw_set_error(ctx, S3_ERR_NO_SUCH_OBJECT_LOCK_CONFIGURATION, NULL);
        return;
    }
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_objectlock_write_legal_hold(&w, st.legal_hold);
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
}

void gw_get_object_legal_hold(gw_ctx_t *ctx)
{
    gw_dispatch_read(ctx, get_hold_work);
}
