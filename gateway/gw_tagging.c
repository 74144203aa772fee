/* gw_tagging.c — object tags: their stored form in a record, the tags of a new object, the tag
 * count of GET and HEAD, the tag condition keys of policies (gw_tagging.h). Nothing here reaches
 * the bucket layer: authorization (gw_authz.c) calls in. The tagging calls are in gw_tagging_ops.c. */
#include "gateway/gw_tagging.h"
#include "gateway/gw_handlers.h"
#include "gateway/s3/version_id.h"
#include <string.h>

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

void gw_tagging_set_detail(gw_ctx_t *ctx, int ret, const s3_error_detail_t *why)
{
    s3_error_t err = why->err != S3_OK ? why->err : s3_error_from_ret(ret);
    const char *message = NULL;
    if (why->err != S3_OK && why->message.base != NULL)
        message = h2o_strdup(&ctx->req->pool, why->message.base, why->message.len).base;
    gw_set_error(ctx, err, message);
    for (size_t i = 0; why->err != S3_OK && i < why->nfields; i++)
        gw_set_error_field(ctx, why->fields[i].name, why->fields[i].value);
}

int gw_tagging_encode(gw_ctx_t *ctx, s3_tagset_t *set, h2o_iovec_t *stored)
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
            gw_tagging_set_detail(ctx, ret, &why);
            return -1;
        }
        if (gw_tagging_encode(ctx, &set, &stored) != 0)
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
    case S3_POLICY_ACTION_GET_OBJECT_ACL:
    case S3_POLICY_ACTION_GET_OBJECT_VERSION_ACL:
    case S3_POLICY_ACTION_PUT_OBJECT_ACL:
    case S3_POLICY_ACTION_PUT_OBJECT_VERSION_ACL:
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
        if (s3_version_id_parse(text, vid) != 0)
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
    memset(&sent, 0, sizeof(sent));
    /* parsing them again (the handler parses too) costs little, but only a policy that reads them needs it */
    if (s3_policy_uses_key(policy, S3_POLICY_KEY_S3_REQUEST_OBJECT_TAG) ||
        s3_policy_uses_key(policy, S3_POLICY_KEY_S3_REQUEST_OBJECT_TAG_KEYS))
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
