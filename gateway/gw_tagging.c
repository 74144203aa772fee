/* gw_tagging.c — object tags (see gw_tagging.h). */
#include "gateway/gw_tagging.h"
#include "gateway/gw_attrs.h"
#include "gateway/gw_body.h"
#include "gateway/gw_checksums.h"
#include "gateway/gw_handlers.h"
#include "gateway/s3/checksum.h"
#include <openssl/evp.h>
#include <string.h>

#define MSG_MISSING_MD5 "Missing required header for this request: Content-Md5."

/* What an edit of gw_attrs_change answers besides 0 (positive: never a gateway code). */
enum { EDIT_DELETE_MARKER = 1, EDIT_CORRUPT = 2 };

/* ---------------------------------------------------------------- the stored form */

int gw_tagging_of(h2o_mem_pool_t *pool, const meta_object_t *rec, s3_tagset_t *out)
{
    meta_bytes_t v;
    int ret = meta_attr_get(rec->attrs, META_ATTR_TAGS, &v);

    memset(out, 0, sizeof(*out));
    if (ret < 0)
        return -S3_ERR_INTERNAL_ERROR;
    if (ret == 0)
        return 0;
    return s3_tagging_decode(pool, h2o_iovec_init(v.base, v.len), out);
}

/* Replaces *attrs with the set that has the tags stored (none: len 0), in ctx's pool. */
static int put_tags_attr(gw_ctx_t *ctx, meta_bytes_t *attrs, h2o_iovec_t stored)
{
    meta_bytes_t value = {stored.base, stored.len};
    meta_buf_t out = {0};

    if (stored.len == 0 && attrs->len == 0)
        return 0; /* nothing to remove from an empty set */
    if (meta_attr_put(*attrs, META_ATTR_TAGS, stored.len > 0 ? &value : NULL, &out) != 0) {
        meta_buf_dispose(&out);
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        return -1;
    }
    h2o_iovec_t copy = h2o_strdup(&ctx->req->pool, (const char *)out.base, out.len);
    meta_buf_dispose(&out);
    *attrs = (meta_bytes_t){copy.base, copy.len};
    return 0;
}

/* Sets the S3 error of a parser's refusal, with its message and fields. */
static void set_detail(gw_ctx_t *ctx, int ret, const s3_error_detail_t *why)
{
    s3_error_t err = why->err != S3_OK ? why->err : s3_error_from_ret(ret);
    const char *message = NULL;
    if (why->err != S3_OK && why->message.base != NULL)
        message = h2o_strdup(&ctx->req->pool, why->message.base, why->message.len).base;
    gw_set_error(ctx, err, message);
    for (size_t i = 0; why->err != S3_OK && i < why->nfields; i++)
        gw_set_error_field(ctx, why->fields[i].name, why->fields[i].value);
}

/* Encodes set (sorted here) into its stored form; the S3 error set and non-zero on failure. */
static int encode_tags(gw_ctx_t *ctx, s3_tagset_t *set, h2o_iovec_t *stored)
{
    int ret;
    s3_tagset_sort(set);
    if ((ret = s3_tagging_encode(&ctx->req->pool, set, stored)) != 0) {
        gw_set_error(ctx, s3_error_from_ret(ret), NULL);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- new objects */

int gw_tagging_new_object(gw_ctx_t *ctx, const meta_object_t *src, meta_bytes_t *attrs)
{
    h2o_iovec_t header = gw_header(ctx, "x-amz-tagging"), stored = {NULL, 0};
    s3_error_detail_t why = {0};
    s3_tagset_t set;
    int ret;

    if (src != NULL) {
        h2o_iovec_t directive = gw_header(ctx, "x-amz-tagging-directive");
        int replace = directive.base != NULL && h2o_memis(directive.base, directive.len, H2O_STRLIT("REPLACE"));
        if (directive.base != NULL && !replace && !h2o_memis(directive.base, directive.len, H2O_STRLIT("COPY"))) {
            gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Unknown tagging directive.");
            return -1;
        }
        if (!replace) { /* COPY, the default: the source's tags, x-amz-tagging ignored as S3 does */
            meta_bytes_t v;
            if ((ret = meta_attr_get(src->attrs, META_ATTR_TAGS, &v)) < 0) {
                gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
                return -1;
            }
            if (ret == 1)
                stored = h2o_iovec_init(v.base, v.len);
            return put_tags_attr(ctx, attrs, stored);
        }
    }
    if (header.base != NULL) {
        if ((ret = s3_tagging_parse_header(&ctx->req->pool, header, &set, &why)) != 0) {
            set_detail(ctx, ret, &why);
            return -1;
        }
        if (encode_tags(ctx, &set, &stored) != 0)
            return -1;
    }
    return put_tags_attr(ctx, attrs, stored);
}

void gw_tagging_count_header(gw_ctx_t *ctx, const meta_object_t *rec)
{
    meta_bytes_t v, name, value;
    size_t pos = 0, count = 0;
    char text[24];

    /* counted without decoding: a record's tag set was checked when it was written */
    if (meta_attr_get(rec->attrs, META_ATTR_TAGS, &v) != 1)
        return;
    while (meta_kv_next(v, &pos, &name, &value) == 1)
        count++;
    if (count == 0)
        return;
    snprintf(text, sizeof(text), "%zu", count);
    gw_add_header_str(ctx, "x-amz-tagging-count", text);
}

/* ---------------------------------------------------------------- policy condition keys */

static int reads_existing_tags(s3_policy_action_t a)
{
    switch (a) {
    case S3_POLICY_ACTION_GET_OBJECT:
    case S3_POLICY_ACTION_GET_OBJECT_VERSION:
    case S3_POLICY_ACTION_GET_OBJECT_TAGGING:
    case S3_POLICY_ACTION_GET_OBJECT_VERSION_TAGGING:
    case S3_POLICY_ACTION_PUT_OBJECT_TAGGING:
    case S3_POLICY_ACTION_PUT_OBJECT_VERSION_TAGGING:
    case S3_POLICY_ACTION_DELETE_OBJECT_TAGGING:
    case S3_POLICY_ACTION_DELETE_OBJECT_VERSION_TAGGING:
    case S3_POLICY_ACTION_DELETE_OBJECT:
    case S3_POLICY_ACTION_DELETE_OBJECT_VERSION:
        return 1;
    default:
        return 0;
    }
}

/* The tags the request sends: x-amz-tagging of a write, the document of PutObjectTagging (read
 * once the body was prepared). A request whose tags do not parse has none here: its handler
 * refuses it after authorization. */
static void request_tags(gw_ctx_t *ctx, s3_policy_action_t a, s3_tagset_t *out)
{
    memset(out, 0, sizeof(*out));
    if (a == S3_POLICY_ACTION_PUT_OBJECT) {
        h2o_iovec_t header = gw_header(ctx, "x-amz-tagging");
        if (header.base != NULL && s3_tagging_parse_header(&ctx->req->pool, header, out, NULL) != 0)
            memset(out, 0, sizeof(*out));
    } else if ((a == S3_POLICY_ACTION_PUT_OBJECT_TAGGING || a == S3_POLICY_ACTION_PUT_OBJECT_VERSION_TAGGING) &&
               ctx->body.base != NULL) {
        if (s3_tagging_parse_xml(&ctx->req->pool, ctx->body, S3_TAGS_OBJECT, out, NULL) != 0)
            memset(out, 0, sizeof(*out));
    }
}

/* The tags of the version the request names (its versionId when key is the request's own, else
 * the newest), copied into ctx's pool; none for a missing key or a delete marker. */
static void existing_tags(gw_ctx_t *ctx, h2o_iovec_t bucket, uint64_t incarnation, h2o_iovec_t key, s3_tagset_t *out)
{
    char ns[META_NS_MAX + 1];
    size_t nslen = meta_bucket_ns((meta_bytes_t){bucket.base, bucket.len}, incarnation, ns);
    uint8_t vid[META_ID_LEN];
    const uint8_t *named = NULL;
    gw_object_t *o;
    meta_bytes_t v;

    memset(out, 0, sizeof(*out));
    h2o_iovec_t text = s3_query_get(&ctx->query, "versionId");
    if (text.base != NULL && h2o_memis(bucket.base, bucket.len, ctx->bucket.base, ctx->bucket.len) &&
        h2o_memis(key.base, key.len, ctx->key.base, ctx->key.len)) {
        if (gw_version_id_parse(text, vid) != 0)
            return; /* the handler refuses the id */
        named = vid;
    }
    if (gw_object_lookup(ctx->cluster, (meta_bytes_t){ns, nslen}, gw_mb(key), named, &o) != 0)
        return;
    const meta_object_t *r = gw_object_record(o);
    if (!(r->flags & META_OBJ_DELETE_MARKER) && meta_attr_get(r->attrs, META_ATTR_TAGS, &v) == 1) {
        h2o_iovec_t copy = h2o_strdup(&ctx->req->pool, v.base, v.len);
        if (s3_tagging_decode(&ctx->req->pool, copy, out) != 0)
            memset(out, 0, sizeof(*out));
    }
    gw_object_free(o);
}

void gw_tagging_policy_values(gw_ctx_t *ctx, const s3_policy_t *policy, s3_policy_action_t action, h2o_iovec_t bucket,
                              uint64_t incarnation, h2o_iovec_t key, s3_policy_value_t **out, size_t *n)
{
    h2o_mem_pool_t *pool = &ctx->req->pool;
    s3_tagset_t sent, have = {0};

    *out = NULL;
    *n = 0;
    request_tags(ctx, action, &sent);
    if (policy != NULL && key.base != NULL && reads_existing_tags(action) &&
        s3_policy_uses_key(policy, S3_POLICY_KEY_S3_EXISTING_OBJECT_TAG))
        existing_tags(ctx, bucket, incarnation, key, &have);
    size_t total = have.count + sent.count + (sent.count > 0);
    if (total == 0)
        return;
    s3_policy_value_t *v = h2o_mem_alloc_pool(pool, sizeof(*v) * total);
    h2o_iovec_t *vals = h2o_mem_alloc_pool(pool, sizeof(*vals) * (have.count + 2 * sent.count));
    size_t k = 0, nv = 0;
    for (size_t i = 0; i < have.count; i++, k++) {
        vals[nv] = have.tags[i].value;
        v[k] = (s3_policy_value_t){S3_POLICY_KEY_S3_EXISTING_OBJECT_TAG, have.tags[i].key, &vals[nv++], 1};
    }
    for (size_t i = 0; i < sent.count; i++, k++) {
        vals[nv] = sent.tags[i].value;
        v[k] = (s3_policy_value_t){S3_POLICY_KEY_S3_REQUEST_OBJECT_TAG, sent.tags[i].key, &vals[nv++], 1};
    }
    if (sent.count > 0) {
        h2o_iovec_t *keys = &vals[nv];
        for (size_t i = 0; i < sent.count; i++)
            keys[i] = sent.tags[i].key;
        v[k++] = (s3_policy_value_t){S3_POLICY_KEY_S3_REQUEST_OBJECT_TAG_KEYS, {NULL, 0}, keys, sent.count};
    }
    *out = v;
    *n = k;
}

/* ---------------------------------------------------------------- the tagging calls */

/* PutObjectTagging must carry Content-MD5 or an x-amz-checksum-*, and each must match. */
static int check_integrity(gw_ctx_t *ctx)
{
    h2o_iovec_t md5 = gw_header(ctx, "content-md5");
    gw_checksum_t c;
    int ret;

    if (md5.base != NULL) {
        uint8_t digest[16];
        EVP_Digest(ctx->body.base, ctx->body.len, digest, NULL, EVP_md5(), NULL);
        if ((ret = s3_checksum_compare_base64(digest, 16, md5)) != 0) {
            gw_set_error(ctx, ret == S3_CHECKSUM_MISMATCH ? S3_ERR_BAD_DIGEST : S3_ERR_INVALID_DIGEST, NULL);
            return -1;
        }
    }
    if (gw_checksum_begin(ctx, &c) != 0)
        return -1;
    gw_checksum_observe(&c, ctx->body.base, ctx->body.len);
    ret = gw_checksum_finish(ctx, &c);
    int sent = c.sent != S3_CHECKSUM_NONE;
    gw_checksum_dispose(&c);
    if (ret != 0)
        return -1;
    if (md5.base == NULL && !sent) {
        gw_set_error(ctx, S3_ERR_INVALID_REQUEST, MSG_MISSING_MD5);
        return -1;
    }
    return 0;
}

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
        check_integrity(ctx) != 0)
        return;
    if ((ret = s3_tagging_parse_xml(&ctx->req->pool, ctx->body, S3_TAGS_OBJECT, &set, &why)) != 0) {
        set_detail(ctx, ret, &why);
        return;
    }
    if (set.count > 0 && encode_tags(ctx, &set, &stored) != 0)
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
