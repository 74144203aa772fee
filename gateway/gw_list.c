/* gw_list.c — ListObjects (v1), ListObjectsV2 and ListObjectVersions over the merged lister.
 *
 * One loop serves v1 and v2: walk visible keys from the start position, skip what the marker
 * already returned, stop at the end of the prefix, fold keys that contain the delimiter after
 * the prefix into a common prefix and seek past it. One entry past max-keys is looked at to
 * tell IsTruncated. Continuation tokens are the base64 of the last key or prefix returned.
 *
 * ListObjectVersions walks the same way over a versions lister (every version of each key,
 * newest first); max-keys counts versions, delete markers and common prefixes alike, and a page
 * can end inside a key: the next one resumes there from key-marker and version-id-marker (the
 * versions of key-marker after that version, then the keys after it).
 */
#include "gateway/gw_acl.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_lister.h"
#include "gateway/gw_object.h"
#include "gateway/s3/version_id.h"
#include "gateway/s3/xml.h"
#include "common/bigbuf.h"
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

enum { LIST_V1, LIST_V2, LIST_VERSIONS };

typedef struct {
    int kind;
    h2o_iovec_t prefix, delimiter, marker, start_after, token;
    h2o_iovec_t vid_marker; /* ListObjectVersions' version-id-marker, NULL base when absent */
    uint8_t vid_marker_bin[S3_VERSION_ID_LEN];
    uint32_t max_keys;
    int url, fetch_owner;
} list_params_t;

static h2o_iovec_t enc(gw_ctx_t *ctx, const list_params_t *p, h2o_iovec_t v)
{
    return p->url ? s3_url_encode_key(&ctx->req->pool, v) : v;
}

static int has_prefix(const char *key, size_t len, h2o_iovec_t prefix)
{
    return len >= prefix.len && memcmp(key, prefix.base, prefix.len) == 0;
}

static int cmp_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);
    return r != 0 ? r : (alen > blen) - (alen < blen);
}

static h2o_iovec_t b64(h2o_mem_pool_t *pool, h2o_iovec_t v)
{
    char *out = h2o_mem_alloc_pool(pool, YC_BASE64_LEN(v.len) + 1);
    size_t n = yc_base64_encode((const uint8_t *)v.base, v.len, out);
    return h2o_iovec_init(out, n);
}

static int unb64(h2o_mem_pool_t *pool, h2o_iovec_t v, h2o_iovec_t *out)
{
    size_t n;

    if (v.len == 0 || v.len > YC_BASE64_LEN(META_KEY_MAX))
        return -1;
    char *buf = h2o_mem_alloc_pool(pool, v.len);
    if (yc_base64_decode(v.base, v.len, (uint8_t *)buf, v.len, &n) != 0)
        return -1;
    *out = h2o_iovec_init(buf, n);
    return 0;
}

static void write_owner(s3_xml_writer_t *w, const char *owner)
{
    gw_acl_write_owner(w, "Owner", h2o_iovec_init(owner, strlen(owner)));
}

static void write_entry(gw_ctx_t *ctx, s3_xml_writer_t *w, const list_params_t *p, const gw_list_entry_t *e)
{
    char etag[80];
    int is_marker = (e->flags & META_OBJ_DELETE_MARKER) != 0;

    s3_xml_open(w, p->kind == LIST_VERSIONS ? (is_marker ? "DeleteMarker" : "Version") : "Contents");
    s3_xml_element(w, "Key", enc(ctx, p, h2o_iovec_init(e->key, e->key_len)));
    if (p->kind == LIST_VERSIONS) {
        char vid[S3_VERSION_ID_TEXT_MAX];
        s3_version_id_format(e->vid, vid);
        s3_xml_element_str(w, "VersionId", vid);
        s3_xml_element_bool(w, "IsLatest", e->is_latest);
    }
    s3_xml_element_time(w, "LastModified", e->last_modified_ns != 0 ? e->last_modified_ns : e->mtime_ns);
    if (!is_marker) {
        snprintf(etag, sizeof(etag), "\"%s\"", e->etag);
        s3_xml_element_str(w, "ETag", etag);
        s3_xml_element_uint(w, "Size", e->size);
    }
    if (p->kind != LIST_V2 || p->fetch_owner)
        write_owner(w, e->owner);
    if (!is_marker)
        s3_xml_element_str(w, "StorageClass", "STANDARD");
    s3_xml_close(w, p->kind == LIST_VERSIONS ? (is_marker ? "DeleteMarker" : "Version") : "Contents");
}

typedef struct {
    h2o_iovec_t key;
    int is_prefix;
    gw_list_entry_t entry;
} item_t;

/* A page's items: up to 1,000 entries of over a KiB each. From the request's pool they were a
 * fresh mapping per page (over glibc's mmap threshold), whose page faults and zeroing cost more
 * than the page's RocksDB reads, and more still when the kernel backed the mapping with a huge
 * page; the reused buffers of common/bigbuf are mapped already. Given back when the pool is. */
static void items_dispose(void *holder)
{
    yc_bigbuf_free(*(void **)holder);
}

static item_t *items_alloc(h2o_mem_pool_t *pool, size_t n)
{
    void **holder = h2o_mem_alloc_shared(pool, sizeof(*holder), items_dispose);
    *holder = yc_bigbuf_alloc(sizeof(item_t) * n);
    return *holder;
}

/* The common prefix key folds into (its length), 0 when it has no delimiter after the prefix. */
static size_t folded_len(const list_params_t *p, const char *key, size_t len)
{
    if (p->delimiter.len == 0)
        return 0;
    for (const char *s = key + p->prefix.len, *end = key + len; s + p->delimiter.len <= end; s++)
        if (memcmp(s, p->delimiter.base, p->delimiter.len) == 0)
            return (size_t)(s - key) + p->delimiter.len;
    return 0;
}

static void seek_past_prefix(gw_lister_t *l, h2o_iovec_t prefix)
{
    char seek[META_KEY_MAX + 1];
    memcpy(seek, prefix.base, prefix.len);
    seek[prefix.len] = (char)0xff; /* sorts after every key under the prefix: 0xff is never in UTF-8 */
    gw_lister_seek(l, (meta_bytes_t){seek, prefix.len + 1});
}

/* The entries, then the common prefixes, of a page: S3 lists them apart, each in its order. */
static void write_items(gw_ctx_t *ctx, s3_xml_writer_t *w, const list_params_t *p, const item_t *items, size_t nitems)
{
    for (size_t i = 0; i < nitems; i++)
        if (!items[i].is_prefix)
            write_entry(ctx, w, p, &items[i].entry);
    for (size_t i = 0; i < nitems; i++) {
        if (items[i].is_prefix) {
            s3_xml_open(w, "CommonPrefixes");
            s3_xml_element(w, "Prefix", enc(ctx, p, items[i].key));
            s3_xml_close(w, "CommonPrefixes");
        }
    }
}

static void list_work(gw_ctx_t *ctx)
{
    list_params_t *p = ctx->handler_state;
    h2o_mem_pool_t *pool = &ctx->req->pool;
    gw_lister_t *l = NULL;
    gw_list_entry_t e;
    h2o_iovec_t after = p->kind == LIST_V2 ? (p->token.base ? p->token : p->start_after) : p->marker;
    item_t *items = NULL;
    size_t nitems = 0;
    int truncated = 0, ret;

    if (gw_bucket_authorize(ctx) != 0)
        return;
    if (p->max_keys > 0) {
        if ((items = items_alloc(pool, p->max_keys)) == NULL) {
            gw_set_store_error(ctx, GW_ENOMEM);
            return;
        }
        h2o_iovec_t start = p->prefix;
        if (after.base != NULL && cmp_bytes(after.base, after.len, start.base, start.len) > 0)
            start = after;
        if ((ret = gw_lister_open_live(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(start), &l)) != 0) {
            gw_set_store_error(ctx, ret);
            return;
        }
        while ((ret = gw_lister_next(l, &e)) == 1) {
            if (!has_prefix(e.key, e.key_len, p->prefix)) {
                if (cmp_bytes(e.key, e.key_len, p->prefix.base, p->prefix.len) > 0)
                    break; /* past every key with the prefix */
                continue;
            }
            if (after.base != NULL && cmp_bytes(e.key, e.key_len, after.base, after.len) <= 0)
                continue;
            if (e.flags & META_OBJ_DELETE_MARKER)
                continue;
            item_t it = {.key = h2o_iovec_init(e.key, e.key_len)};
            size_t fold = folded_len(p, e.key, e.key_len);
            if (fold > 0) {
                it.is_prefix = 1;
                it.key = h2o_iovec_init(e.key, fold);
            }
            if (it.is_prefix && after.base != NULL && cmp_bytes(it.key.base, it.key.len, after.base, after.len) <= 0) {
                seek_past_prefix(l, it.key); /* the marker is inside this common prefix: returned already */
                continue;
            }
            if (nitems == p->max_keys) {
                truncated = 1;
                break;
            }
            it.key = h2o_strdup(pool, it.key.base, it.key.len);
            it.entry = e;
            items[nitems++] = it;
            if (it.is_prefix)
                seek_past_prefix(l, it.key);
        }
        gw_lister_free(l);
        if (ret < 0) {
            gw_set_store_error(ctx, ret);
            return;
        }
    }

    s3_xml_writer_t w;
    s3_xml_writer_init(&w, pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "ListBucketResult");
    s3_xml_element(&w, "Name", ctx->bucket);
    /* v1 sends Prefix as given even under encoding-type=url (SDKs decode it in v2 only) */
    s3_xml_element(&w, "Prefix", p->kind == LIST_V1 ? p->prefix : enc(ctx, p, p->prefix));
    if (p->kind == LIST_V1)
        s3_xml_element(&w, "Marker", enc(ctx, p, p->marker.base ? p->marker : h2o_iovec_init("", 0)));
    if (p->kind == LIST_V2) {
        s3_xml_element_uint(&w, "KeyCount", nitems);
        h2o_iovec_t token = s3_query_get(&ctx->query, "continuation-token");
        if (token.base != NULL)
            s3_xml_element(&w, "ContinuationToken", token);
        if (p->start_after.base != NULL)
            s3_xml_element(&w, "StartAfter", enc(ctx, p, p->start_after));
    }
    s3_xml_element_uint(&w, "MaxKeys", p->max_keys);
    if (p->delimiter.len > 0)
        s3_xml_element(&w, "Delimiter", enc(ctx, p, p->delimiter));
    if (p->url)
        s3_xml_element_str(&w, "EncodingType", "url");
    s3_xml_element_bool(&w, "IsTruncated", truncated);
    if (truncated && nitems > 0) {
        h2o_iovec_t last = items[nitems - 1].key;
        if (p->kind == LIST_V2)
            s3_xml_element(&w, "NextContinuationToken", b64(pool, last));
        else if (p->kind == LIST_V1 && p->delimiter.len > 0)
            s3_xml_element(&w, "NextMarker", enc(ctx, p, last));
    }
    write_items(ctx, &w, p, items, nitems);
    s3_xml_close(&w, "ListBucketResult");
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
}

static void write_versions_result(gw_ctx_t *ctx, const list_params_t *p, const item_t *items, size_t nitems,
                                  int truncated)
{
    h2o_mem_pool_t *pool = &ctx->req->pool;
    s3_xml_writer_t w;

    s3_xml_writer_init(&w, pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "ListVersionsResult");
    s3_xml_element(&w, "Name", ctx->bucket);
    s3_xml_element(&w, "Prefix", enc(ctx, p, p->prefix));
    s3_xml_element(&w, "KeyMarker", enc(ctx, p, p->marker.base ? p->marker : h2o_iovec_init("", 0)));
    s3_xml_element(&w, "VersionIdMarker", p->vid_marker.base ? p->vid_marker : h2o_iovec_init("", 0));
    if (truncated && nitems > 0) {
        const item_t *last = &items[nitems - 1];
        s3_xml_element(&w, "NextKeyMarker", enc(ctx, p, last->key));
        if (!last->is_prefix) {
            char vid[S3_VERSION_ID_TEXT_MAX];
            s3_version_id_format(last->entry.vid, vid);
            s3_xml_element_str(&w, "NextVersionIdMarker", vid);
        }
    }
    s3_xml_element_uint(&w, "MaxKeys", p->max_keys);
    if (p->delimiter.len > 0)
        s3_xml_element(&w, "Delimiter", enc(ctx, p, p->delimiter));
    if (p->url)
        s3_xml_element_str(&w, "EncodingType", "url");
    s3_xml_element_bool(&w, "IsTruncated", truncated);
    /* versions and delete markers in listing order, as S3 interleaves them */
    write_items(ctx, &w, p, items, nitems);
    s3_xml_close(&w, "ListVersionsResult");
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
}

static void list_versions_work(gw_ctx_t *ctx)
{
    list_params_t *p = ctx->handler_state;
    h2o_mem_pool_t *pool = &ctx->req->pool;
    gw_lister_t *l = NULL;
    const gw_list_entry_t *versions;
    size_t nversions, nitems = 0;
    item_t *items = NULL;
    int truncated = 0, marker_seen = 0, ret = 0;
    h2o_iovec_t after = p->marker;

    if (gw_bucket_authorize(ctx) != 0)
        return;
    if (p->max_keys > 0) {
        if ((items = items_alloc(pool, p->max_keys)) == NULL) {
            gw_set_store_error(ctx, GW_ENOMEM);
            return;
        }
        h2o_iovec_t start = p->prefix;
        if (after.base != NULL && cmp_bytes(after.base, after.len, start.base, start.len) > 0)
            start = after; /* the key-marker itself is listed again only after its version-id-marker */
        if ((ret = gw_lister_open_versions(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(start), &l)) != 0) {
            gw_set_store_error(ctx, ret);
            return;
        }
        while (!truncated && (ret = gw_lister_next_versions(l, &versions, &nversions)) == 1) {
            const gw_list_entry_t *e = &versions[0];
            size_t from = 0;
            if (!has_prefix(e->key, e->key_len, p->prefix)) {
                if (cmp_bytes(e->key, e->key_len, p->prefix.base, p->prefix.len) > 0)
                    break; /* past every key with the prefix */
                continue;
            }
            size_t fold = folded_len(p, e->key, e->key_len);
            if (fold > 0) {
                h2o_iovec_t cp = h2o_iovec_init(e->key, fold);
                if (after.base != NULL && cmp_bytes(cp.base, cp.len, after.base, after.len) <= 0) {
                    seek_past_prefix(l, cp); /* the marker is inside this common prefix: returned already */
                    continue;
                }
                if (nitems == p->max_keys) {
                    truncated = 1;
                    break;
                }
                item_t it = {.key = h2o_strdup(pool, cp.base, cp.len), .is_prefix = 1};
                items[nitems++] = it;
                seek_past_prefix(l, it.key);
                continue;
            }
            if (after.base != NULL) {
                int c = cmp_bytes(e->key, e->key_len, after.base, after.len);
                if (c < 0 || (c == 0 && p->vid_marker.base == NULL))
                    continue;
                if (c == 0) {
                    /* resume inside the key: after the version named by version-id-marker */
                    while (from < nversions && memcmp(versions[from].vid, p->vid_marker_bin, META_ID_LEN) != 0)
                        from++;
                    if (from == nversions)
                        break; /* no such version: refused below */
                    marker_seen = 1;
                    from++;
                }
            }
            h2o_iovec_t key = h2o_strdup(pool, e->key, e->key_len);
            for (size_t i = from; i < nversions; i++) {
                if (nitems == p->max_keys) {
                    truncated = 1;
                    break;
                }
                item_t it = {.key = key, .entry = versions[i]};
                items[nitems++] = it;
            }
        }
        gw_lister_free(l);
        if (ret < 0) {
            gw_set_store_error(ctx, ret);
            return;
        }
    }
    /* a version-id-marker must name a version of key-marker, when that key is one this listing
     * shows (AWS answers the same error for an id it cannot find) */
    if (p->vid_marker.base != NULL && !marker_seen && p->max_keys > 0 &&
        has_prefix(p->marker.base, p->marker.len, p->prefix) && folded_len(p, p->marker.base, p->marker.len) == 0) {
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Invalid version id specified");
        gw_set_error_field(ctx, "ArgumentName", h2o_iovec_init(H2O_STRLIT("version-id-marker")));
        gw_set_error_field(ctx, "ArgumentValue", p->vid_marker);
        return;
    }
    write_versions_result(ctx, p, items, nitems, truncated);
}

static void start_list(gw_ctx_t *ctx, int kind)
{
    list_params_t *p = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*p));
    int ret;

    memset(p, 0, sizeof(*p));
    p->kind = kind;
    p->prefix = s3_query_get(&ctx->query, "prefix");
    if (p->prefix.base == NULL)
        p->prefix = h2o_iovec_init("", 0);
    p->delimiter = s3_query_get(&ctx->query, "delimiter");
    if (p->delimiter.base == NULL)
        p->delimiter = h2o_iovec_init("", 0);
    p->marker = s3_query_get(&ctx->query, kind == LIST_VERSIONS ? "key-marker" : "marker");
    if (p->marker.base != NULL && p->marker.len == 0)
        p->marker.base = NULL;
    p->start_after = s3_query_get(&ctx->query, "start-after");
    if (p->start_after.base != NULL && p->start_after.len == 0)
        p->start_after.base = NULL;
    h2o_iovec_t fo = s3_query_get(&ctx->query, "fetch-owner");
    p->fetch_owner = fo.base != NULL && h2o_memis(fo.base, fo.len, H2O_STRLIT("true"));
    if ((ret = s3_parse_list_limit(s3_query_get(&ctx->query, "max-keys"), 1000, 1000, &p->max_keys)) != 0 ||
        (ret = s3_parse_encoding_type(s3_query_get(&ctx->query, "encoding-type"), &p->url)) != 0) {
        gw_fail(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    if (kind == LIST_V2) {
        h2o_iovec_t token = s3_query_get(&ctx->query, "continuation-token");
        /* an empty token starts at the beginning, as S3 does, and is echoed back empty */
        if (token.base != NULL && token.len > 0 && unb64(&ctx->req->pool, token, &p->token) != 0) {
            gw_fail(ctx, S3_ERR_INVALID_ARGUMENT, "The continuation token provided is incorrect");
            return;
        }
    }
    if (kind == LIST_VERSIONS) {
        p->vid_marker = s3_query_get(&ctx->query, "version-id-marker");
        if (p->vid_marker.base != NULL && p->vid_marker.len == 0)
            p->vid_marker.base = NULL;
        if (p->vid_marker.base != NULL) {
            const char *why = NULL;
            if (p->marker.base == NULL)
                why = "A version-id marker cannot be specified without a key marker.";
            else if (s3_version_id_parse(p->vid_marker, p->vid_marker_bin) != 0)
                why = "Invalid version id specified";
            if (why != NULL) {
                gw_set_error_field(ctx, "ArgumentName", h2o_iovec_init(H2O_STRLIT("version-id-marker")));
                gw_set_error_field(ctx, "ArgumentValue", p->vid_marker);
                gw_fail(ctx, S3_ERR_INVALID_ARGUMENT, why);
                return;
            }
        }
    }
    ctx->handler_state = p;
    gw_dispatch_read(ctx, kind == LIST_VERSIONS ? list_versions_work : list_work);
}

void gw_list_objects(gw_ctx_t *ctx)
{
    h2o_iovec_t lt = s3_query_get(&ctx->query, "list-type");
    if (lt.base != NULL && !h2o_memis(lt.base, lt.len, H2O_STRLIT("2"))) {
        gw_fail(ctx, S3_ERR_INVALID_ARGUMENT, "Invalid list-type");
        return;
    }
    start_list(ctx, lt.base != NULL ? LIST_V2 : LIST_V1);
}

void gw_list_object_versions(gw_ctx_t *ctx)
{
    start_list(ctx, LIST_VERSIONS);
}
