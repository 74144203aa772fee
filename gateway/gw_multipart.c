/* gw_multipart.c — multipart uploads.
 *
 * An upload is a 'U' record on every drive of its object's set (placement by bucket/key, like
 * the object it becomes). Each part is erasure-coded like an object, with a data id of its
 * own, into the same set and shard distribution, and recorded by a 'P' record on every drive
 * that holds one of its shards. Complete checks the client's list against the part records,
 * writes one object record that references the parts' data ids, and drops the upload and part
 * records: no byte is copied. Parts left out of the list are deleted.
 *
 * A set record (upload or part) is visible when at least gw_set_read_quorum drives hold it:
 * such a read set always meets the write quorum that acknowledged it.
 *
 * Concurrency. Complete, Abort and the swap of a part's record must not interleave: a Complete
 * that read the parts while an Abort (or a second Complete, or a new upload of a part it lists)
 * deleted them would acknowledge an object that can never be read. Each of them therefore
 * holds the upload's namespace lock (gw_lock.h, "upload/<id>" on the set's drives) while it
 * checks that the upload still exists and changes its records: the upload record is deleted
 * under the lock, so whoever comes second finds no upload (NoSuchUpload) and touches nothing.
 * Part data is written before the lock is taken, and the parts a finished upload releases are
 * deleted after it is given back: no byte moves while the lock is held, only records.
 */
#include "gateway/gw_body.h"
#include "gateway/gw_checksums.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_lock.h"
#include "common/log.h"
#include "gateway/gw_object.h"
#include "gateway/gw_replica.h"
#include "gateway/s3/checksum.h"
#include "gateway/s3/range.h"
#include "gateway/s3/xml.h"
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define MIN_PART_SIZE (5 * 1024 * 1024)
#define MAX_PARTS     10000

/* ---------------------------------------------------------------- upload ids */

static void format_upload_id(const uint8_t id[META_ID_LEN], char out[2 * META_ID_LEN + 1])
{
    yc_hex(id, META_ID_LEN, out);
}

/* Upload ids are written lowercase: one spelling each. */
static int parse_upload_id(h2o_iovec_t s, uint8_t id[META_ID_LEN])
{
    return s.len == 2 * META_ID_LEN && yc_unhex_lower(s.base, META_ID_LEN, id) == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- reading set records */

typedef struct {
    gw_set_t *set;
    const meta_key_t *key;
    void *vals[16];
    size_t lens[16];
    int results[16];
} set_get_t;

static void set_get_task(void *arg, size_t slot)
{
    set_get_t *g = arg;
    store_client_t *d = g->set->drives[slot]->client;
    g->results[slot] = d == NULL ? STORE_EIO : store_client_record_get(d, g->key, &g->vals[slot], &g->lens[slot]);
}

typedef struct {
    gw_set_t *set;
    const meta_key_t *key;
    const void *val;
    size_t len;
    int results[16];
} set_put_t;

static void set_put_task(void *arg, size_t slot)
{
    set_put_t *p = arg;
    store_client_t *d = p->set->drives[slot]->client;
    p->results[slot] = d == NULL ? STORE_EIO : store_client_record_put(d, p->key, p->val, p->len);
}

/* Writes a record on every drive of the set; 0 once a write quorum acknowledged. */
static int set_put(gw_set_t *set, const meta_key_t *key, const void *val, size_t len)
{
    set_put_t p = {set, key, val, len, {0}};
    uint32_t ok = 0;
    gw_set_fanout(set, set_put_task, &p);
    for (uint32_t s = 0; s < gw_set_width(set); s++)
        ok += p.results[s] == 0;
    return ok >= gw_set_write_quorum(set) ? 0 : gw_quorum_error(p.results, gw_set_width(set), gw_set_write_quorum(set));
}

/* The upload of ctx's uploadId: 0 with *raw (caller frees) and *out, or an S3 error set. */
typedef struct {
    gw_set_t *set;
    uint8_t upload_id[META_ID_LEN];
    void *raw;
    meta_upload_t rec;
} upload_t;

static int load_upload(gw_ctx_t *ctx, upload_t *u)
{
    uint8_t dist[16];
    meta_key_t key;
    set_get_t g = {0};
    size_t found = 0, answered = 0;

    memset(u, 0, sizeof(*u));
    if (parse_upload_id(s3_query_get(&ctx->query, "uploadId"), u->upload_id) != 0) {
        gw_set_error(ctx, S3_ERR_NO_SUCH_UPLOAD, NULL);
        return -1;
    }
    u->set = gw_cluster_place(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key), dist);
    meta_key_upload(gw_mb(ctx->bucket_ns), gw_mb(ctx->key), u->upload_id, &key);
    g.set = u->set;
    g.key = &key;
    gw_set_fanout_reads(u->set, set_get_task, &g);
    for (uint32_t s = 0; s < gw_set_width(u->set); s++) {
        if (g.results[s] == 0 || g.results[s] == STORE_ENOENT)
            answered++;
        if (g.results[s] == 0 && u->raw == NULL && meta_upload_decode(g.vals[s], g.lens[s], &u->rec) == 0) {
            u->raw = g.vals[s];
            g.vals[s] = NULL;
        }
        found += g.results[s] == 0;
        free(g.vals[s]);
    }
    if (found >= gw_set_read_quorum(u->set) && u->raw != NULL)
        return 0;
    free(u->raw);
    u->raw = NULL;
    if (answered < gw_set_read_quorum(u->set))
        gw_set_store_error(ctx, GW_EQUORUM);
    else
        gw_set_error(ctx, S3_ERR_NO_SUCH_UPLOAD, NULL);
    return -1;
}

/* Takes the upload's lock (see the top of this file) on its object's set. 0, or an error set. */
static int lock_upload(gw_ctx_t *ctx, gw_lock_t *lock)
{
    char name[16 + 2 * META_ID_LEN];
    uint8_t id[META_ID_LEN], dist[16];
    int ret;

    if (parse_upload_id(s3_query_get(&ctx->query, "uploadId"), id) != 0) {
        gw_set_error(ctx, S3_ERR_NO_SUCH_UPLOAD, NULL);
        return -1;
    }
    memcpy(name, "upload/", 7);
    format_upload_id(id, name + 7);
    gw_set_t *set = gw_cluster_place(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key), dist);
    if ((ret = gw_lock_set(set, (meta_bytes_t){name, 7 + 2 * META_ID_LEN}, GW_LOCK_WAIT_NS, lock)) != 0) {
        gw_set_store_error(ctx, ret);
        return -1;
    }
    return 0;
}

/* The visible record of each part number: the one held by a read quorum of the set's drives. */
typedef gw_part_view_t part_view_t;

typedef struct {
    uint8_t *raw[16]; /* per slot: concatenated part records */
    meta_part_t *recs[16];
    size_t n[16], cap[16];
    int results[16];
    gw_set_t *set;
    const meta_key_t *prefix;
    /* the buffers recs point into, per slot */
    void **bufs[16];
} parts_scan_t;

typedef struct {
    parts_scan_t *ps;
    size_t slot;
} parts_collect_t;

static int collect_part(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    parts_collect_t *pc = arg;
    parts_scan_t *ps = pc->ps;
    size_t s = pc->slot;
    if (ps->n[s] == ps->cap[s]) {
        size_t cap = ps->cap[s] ? ps->cap[s] * 2 : 16;
        meta_part_t *recs = realloc(ps->recs[s], cap * sizeof(*recs));
        void **bufs = realloc(ps->bufs[s], cap * sizeof(*bufs));
        if (recs != NULL)
            ps->recs[s] = recs;
        if (bufs != NULL)
            ps->bufs[s] = bufs;
        if (recs == NULL || bufs == NULL)
            return -1;
        ps->cap[s] = cap;
    }
    void *copy = malloc(vlen);
    if (copy == NULL)
        return -1;
    memcpy(copy, val, vlen);
    if (meta_part_decode(copy, vlen, &ps->recs[s][ps->n[s]]) != 0) {
        free(copy);
        return 0;
    }
    ps->bufs[s][ps->n[s]++] = copy;
    return 0;
}

static void parts_scan_task(void *arg, size_t slot)
{
    parts_scan_t *ps = arg;
    store_client_t *d = ps->set->drives[slot]->client;
    parts_collect_t pc = {ps, slot};
    ps->results[slot] = d == NULL ? STORE_EIO : store_client_record_scan(d, ps->prefix, NULL, 0, collect_part, &pc);
}

static void parts_scan_dispose(parts_scan_t *ps)
{
    for (int s = 0; s < 16; s++) {
        for (size_t i = 0; i < ps->n[s]; i++)
            free(ps->bufs[s][i]);
        free(ps->bufs[s]);
        free(ps->recs[s]);
    }
}

/* Fills views[number] for every visible part (views has MAX_PARTS + 1 entries). Returns the
 * number of visible parts, or -1 with an error set. ps must be disposed by the caller. */
static int load_parts(gw_ctx_t *ctx, upload_t *u, parts_scan_t *ps, part_view_t *views)
{
    meta_key_t prefix;

    memset(ps, 0, sizeof(*ps));
    meta_key_parts(u->upload_id, &prefix);
    ps->set = u->set;
    ps->prefix = &prefix;
    gw_set_fanout_reads(u->set, parts_scan_task, ps);
    ps->prefix = NULL; /* it lived on this stack frame */
    int visible = gw_quorum_parts(ps->recs, ps->n, ps->results, gw_set_width(u->set),
                                  (uint32_t)gw_set_read_quorum(u->set), MAX_PARTS, views);
    if (visible < 0)
        gw_set_store_error(ctx, visible);
    return visible < 0 ? -1 : visible;
}

/* ---------------------------------------------------------------- CreateMultipartUpload */

static void create_work(gw_ctx_t *ctx)
{
    uint8_t dist[16];
    meta_buf_t buf = {0};
    meta_key_t key;
    gw_set_t *set;
    meta_upload_t u = {0};
    int64_t now = yc_now_ns();

    if (gw_bucket_authorize(ctx) != 0)
        return;
    set = gw_cluster_place(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key), dist);
    /* time first so that ids sort by initiation in listings */
    for (int i = 0; i < 8; i++)
        u.upload_id[i] = (uint8_t)((uint64_t)now >> (56 - 8 * i));
    uint8_t rnd[META_ID_LEN];
    yc_random_id(rnd);
    memcpy(u.upload_id + 8, rnd, 8);
    u.bucket = gw_mb(ctx->bucket_ns);
    u.key = gw_mb(ctx->key);
    u.initiated_ns = now;
    u.owner = gw_mb(ctx->user);
    meta_buf_t kv = {0};
    meta_object_t attrs = {0};
    if (gw_object_attributes(ctx, &kv, &attrs) != 0) {
        meta_buf_dispose(&kv);
        return;
    }
    u.content_type = attrs.content_type;
    u.content_encoding = attrs.content_encoding;
    u.content_disposition = attrs.content_disposition;
    u.content_language = attrs.content_language;
    u.cache_control = attrs.cache_control;
    u.expires = attrs.expires;
    u.user_meta = attrs.user_meta;
    if (gw_checksum_upload_settings(ctx, &u) != 0) {
        meta_buf_dispose(&kv);
        return;
    }
    u.ec_k = set->k;
    u.ec_m = set->m;
    u.stripe_size = ctx->cluster->stripe_size;
    memcpy(u.distribution, dist, 16);

    meta_key_upload(u.bucket, u.key, u.upload_id, &key);
    int ret = meta_upload_encode(&u, &buf);
    if (ret == 0)
        ret = set_put(set, &key, buf.base, buf.len);
    meta_buf_dispose(&buf);
    meta_buf_dispose(&kv);
    if (ret != 0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    char id[2 * META_ID_LEN + 1];
    format_upload_id(u.upload_id, id);
    s3_xml_writer_t w;
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "InitiateMultipartUploadResult");
    s3_xml_element(&w, "Bucket", ctx->bucket);
    s3_xml_element(&w, "Key", ctx->key);
    s3_xml_element_str(&w, "UploadId", id);
    s3_xml_close(&w, "InitiateMultipartUploadResult");
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
    gw_checksum_upload_headers(ctx, &u);
}

void gw_create_multipart(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, create_work);
}

/* ---------------------------------------------------------------- UploadPart / UploadPartCopy */

typedef struct {
    gw_set_t *set;
    meta_part_t *rec;
    const gw_data_t *data;
    int results[16];
    meta_key_t key;
} part_put_t;

static void part_put_task(void *arg, size_t slot)
{
    part_put_t *pp = arg;
    store_client_t *d = pp->set->drives[slot]->client;
    meta_buf_t buf = {0};
    meta_part_t r = *pp->rec;

    if (d == NULL || !pp->data->committed[slot]) {
        pp->results[slot] = d != NULL && pp->data->slot_err[slot] != 0 ? pp->data->slot_err[slot] : STORE_EIO;
        return;
    }
    for (uint32_t i = 0; i < gw_set_width(pp->set); i++)
        if (pp->data->distribution[i] == slot)
            r.shard_index = i;
    /* a part uploaded again replaces the earlier one: its shard goes once the new record is in */
    void *old = NULL;
    size_t old_len;
    meta_part_t prev;
    int had_prev =
        store_client_record_get(d, &pp->key, &old, &old_len) == 0 && meta_part_decode(old, old_len, &prev) == 0;
    pp->results[slot] = meta_part_encode(&r, &buf);
    if (pp->results[slot] == 0)
        pp->results[slot] = store_client_record_put(d, &pp->key, buf.base, buf.len);
    if (pp->results[slot] == 0 && had_prev && memcmp(prev.data_id, r.data_id, META_ID_LEN) != 0)
        store_client_shard_delete(d, prev.data_id, prev.shard_index);
    free(old);
    meta_buf_dispose(&buf);
}

/* What the data pass of a part feeds besides the MD5: the payload hash, the part's checksum. */
typedef struct {
    EVP_MD_CTX *sha256; /* NULL: no payload hash to check */
    gw_checksum_t *checksum;
} part_observer_t;

static void observe_part(void *arg, const void *data, size_t len)
{
    part_observer_t *o = arg;
    if (o->sha256 != NULL)
        EVP_DigestUpdate(o->sha256, data, len);
    gw_checksum_observe(o->checksum, data, len);
}

static void upload_part_work(gw_ctx_t *ctx)
{
    int copy = gw_header(ctx, "x-amz-copy-source").base != NULL;
    upload_t u;
    uint32_t number;
    gw_data_t data;
    gw_object_t *src = NULL;
    EVP_MD_CTX *sha = NULL;
    gw_checksum_t checksum = {0};
    part_observer_t ob = {NULL, &checksum};
    int ret, sha256_pending = 0;

    if (s3_parse_part_number(s3_query_get(&ctx->query, "partNumber"), &number) != 0) {
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Part number must be an integer between 1 and 10000, inclusive");
        return;
    }
    if (gw_bucket_authorize(ctx) != 0 || load_upload(ctx, &u) != 0)
        return;
    if (copy) {
        h2o_iovec_t sb, sk, range_hdr = gw_header(ctx, "x-amz-copy-source-range");
        s3_range_t range = {0};
        if ((range_hdr.base != NULL && (ret = s3_copy_range_parse(range_hdr, &range)) != 0)) {
            gw_set_error(ctx, s3_error_from_ret(ret), S3_COPY_RANGE_SYNTAX_MESSAGE);
            goto done;
        }
        if (gw_parse_copy_source(ctx, &sb, &sk) != 0 || gw_open_copy_source(ctx, sb, sk, &src) != 0)
            goto done;
        uint64_t size = gw_object_record(src)->size, off = 0, n = size;
        if (range_hdr.base != NULL) {
            if ((ret = s3_copy_range_check(&range, size)) != 0) {
                gw_set_error(ctx, s3_error_from_ret(ret), NULL);
                goto done;
            }
            off = range.first;
            n = range.last - range.first + 1;
        }
        if (gw_checksum_begin_part(ctx, &u.rec, 1, &checksum) != 0)
            goto done;
        ret = gw_copy_data(ctx, src, off, n, u.set, u.rec.distribution, gw_checksum_observe, &checksum, &data);
    } else {
        if (gw_body_payload(ctx, 1, &sha256_pending) != 0 || gw_checksum_begin_part(ctx, &u.rec, 0, &checksum) != 0)
            goto done;
        if (sha256_pending) {
            sha = EVP_MD_CTX_new();
            EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
        }
        ob.sha256 = sha;
        ret = gw_data_write(ctx->cluster, u.set, u.rec.distribution, gw_source_memory(ctx->body.base), ctx->body.len, 0,
                            observe_part, &ob, &data);
    }
    if (ret != 0) {
        gw_set_store_error(ctx, ret);
        goto done;
    }
    h2o_iovec_t md5 = gw_header(ctx, "content-md5");
    if (sha != NULL) {
        uint8_t digest[32];
        EVP_DigestFinal_ex(sha, digest, NULL);
        if (CRYPTO_memcmp(digest, ctx->auth.payload_sha256, 32) != 0) {
            gw_set_error(ctx, S3_ERR_X_AMZ_CONTENT_SHA256_MISMATCH, NULL);
            goto drop;
        }
    }
    if (gw_checksum_finish(ctx, &checksum) != 0)
        goto drop;
    if (!copy && md5.base != NULL && s3_checksum_compare_base64(data.md5, 16, md5) != 0) {
        gw_set_error(ctx, S3_ERR_BAD_DIGEST, NULL);
        goto drop;
    }
    meta_part_t rec = {.number = number, .size = data.size, .mtime_ns = yc_now_ns()};
    gw_checksum_part_record(&checksum, &rec);
    memcpy(rec.upload_id, u.upload_id, META_ID_LEN);
    memcpy(rec.etag, data.md5, 16);
    memcpy(rec.data_id, data.data_id, META_ID_LEN);
    part_put_t pp = {.set = u.set, .rec = &rec, .data = &data};
    meta_key_part(u.upload_id, number, &pp.key);
    /* The record swap (and the deletion of the part it replaces) under the upload's lock: a
     * Complete that is using the old part must not lose it, an ended upload takes no part. */
    gw_lock_t lock;
    upload_t again;
    if (lock_upload(ctx, &lock) != 0)
        goto drop;
    if (load_upload(ctx, &again) != 0) {
        gw_lock_release(&lock);
        goto drop;
    }
    free(again.raw);
    gw_set_fanout(u.set, part_put_task, &pp);
    gw_lock_release(&lock);
    uint32_t ok = 0;
    for (uint32_t s = 0; s < gw_set_width(u.set); s++)
        ok += pp.results[s] == 0;
    if (ok < gw_set_write_quorum(u.set)) {
        /* the shards stay (a part record may still surface on a drive whose write failed, as
         * for objects in gw_object_ops.c); the orphan collector takes them if none does */
        gw_set_store_error(ctx, gw_quorum_error(pp.results, gw_set_width(u.set), gw_set_write_quorum(u.set)));
        gw_data_dispose(&data);
        goto done;
    }
    char etag[40];
    snprintf(etag, sizeof(etag), "\"");
    yc_hex(data.md5, 16, etag + 1);
    strcat(etag, "\"");
    if (copy) {
        s3_xml_writer_t w;
        s3_xml_writer_init(&w, &ctx->req->pool);
        s3_xml_declaration(&w);
        s3_xml_open_root(&w, "CopyPartResult");
        s3_xml_element_time(&w, "LastModified", rec.mtime_ns);
        s3_xml_element_str(&w, "ETag", etag);
        gw_checksum_part_xml(&w, &rec);
        s3_xml_close(&w, "CopyPartResult");
        ctx->resp_body = s3_xml_writer_result(&w);
        ctx->content_type = "application/xml";
    } else {
        gw_add_header_str(ctx, "etag", etag);
        gw_checksum_echo(ctx, &checksum, 0);
    }
    gw_data_dispose(&data);
    goto done;

drop:
    gw_data_remove(ctx->cluster, &data);
    gw_data_dispose(&data);
done:
    gw_checksum_dispose(&checksum);
    EVP_MD_CTX_free(sha);
    gw_object_free(src);
    free(u.raw);
}

void gw_upload_part(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, upload_part_work);
}

/* ---------------------------------------------------------------- CompleteMultipartUpload */

/* Strips the quotes an ETag may carry. */
static h2o_iovec_t unquote(h2o_iovec_t v)
{
    if (v.len >= 2 && v.base[0] == '"' && v.base[v.len - 1] == '"')
        return h2o_iovec_init(v.base + 1, v.len - 2);
    return v;
}

typedef struct {
    gw_set_t *set;
    const uint8_t *upload_id;
    part_view_t *views;
    const uint8_t *keep;         /* keep[number]: referenced by the completed object */
    const uint8_t *distribution; /* the upload's: slot -> shard index */
} cleanup_t;

/* Drops the upload's records on one drive and the shards of parts not kept. */
static void cleanup_task(void *arg, size_t slot)
{
    cleanup_t *c = arg;
    store_client_t *d = c->set->drives[slot]->client;
    meta_key_t key;
    uint32_t shard_index = 0;
    if (d == NULL)
        return;
    for (uint32_t i = 0; i < gw_set_width(c->set); i++)
        if (c->distribution[i] == slot)
            shard_index = i;
    for (uint32_t n = 1; n <= MAX_PARTS; n++) {
        part_view_t *v = &c->views[n];
        if (v->holders == 0 && v->rec.number == 0)
            continue;
        meta_key_part(c->upload_id, n, &key);
        store_client_record_delete(d, &key);
        if ((c->keep == NULL || !c->keep[n]) && v->slots[slot])
            store_client_shard_delete(d, v->rec.data_id, shard_index);
    }
}

typedef struct {
    gw_set_t *set;
    const meta_key_t *key;
    int results[16];
} set_delete_t;

static void record_delete_task(void *arg, size_t slot)
{
    set_delete_t *r = arg;
    store_client_t *d = r->set->drives[slot]->client;
    r->results[slot] = d == NULL ? STORE_EIO : store_client_record_delete(d, r->key);
}

/* Deletes the upload record: the step that ends an upload. Called with the upload's lock held;
 * once a write quorum deleted it, no Complete, Abort or part upload can find it again. */
static int end_upload(gw_ctx_t *ctx, upload_t *u)
{
    meta_key_t key;
    set_delete_t rd = {u->set, &key, {0}};
    uint32_t ok = 0;

    meta_key_upload(gw_mb(ctx->bucket_ns), gw_mb(ctx->key), u->upload_id, &key);
    gw_set_fanout(u->set, record_delete_task, &rd);
    for (uint32_t s = 0; s < gw_set_width(u->set); s++)
        ok += rd.results[s] == 0 || rd.results[s] == STORE_ENOENT;
    return ok >= gw_set_write_quorum(u->set) ? 0 : GW_EQUORUM;
}

/* Drops the part records of an ended upload and the shards of parts the object does not keep
 * (keep NULL: none). After the upload's lock was released: nobody else can reach these parts. */
static void release_parts(upload_t *u, part_view_t *views, const uint8_t *keep)
{
    cleanup_t c = {u->set, u->upload_id, views, keep, u->rec.distribution};
    gw_set_fanout(u->set, cleanup_task, &c);
}

static void complete_work(gw_ctx_t *ctx)
{
    s3_xml_complete_t list = {0};
    part_view_t *views = NULL;
    parts_scan_t ps;
    upload_t u;
    uint8_t *keep = NULL;
    meta_buf_t parts = {0};
    gw_checksum_complete_t checksum = {0};
    gw_lock_t lock;
    int ret, have_ps = 0, locked = 0, ended = 0;

    memset(&u, 0, sizeof(u));
    if (gw_bucket_authorize(ctx) != 0 || gw_body_prepare(ctx) != 0)
        return;
    if ((ret = s3_xml_parse_complete(&ctx->req->pool, ctx->body, &list)) != 0) {
        gw_set_error(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    if ((ret = s3_xml_complete_check_order(&list)) != 0) {
        gw_set_error(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    if (lock_upload(ctx, &lock) != 0)
        return;
    locked = 1;
    if (load_upload(ctx, &u) != 0)
        goto done;
    if ((views = malloc(sizeof(*views) * (MAX_PARTS + 1))) == NULL || (keep = calloc(MAX_PARTS + 1, 1)) == NULL) {
        gw_set_error(ctx, S3_ERR_SLOW_DOWN, NULL);
        goto done;
    }
    have_ps = 1;
    if (load_parts(ctx, &u, &ps, views) < 0 || gw_checksum_complete_begin(ctx, &u.rec, &checksum) != 0)
        goto done;

    EVP_MD_CTX *md5 = EVP_MD_CTX_new();
    uint64_t total = 0;
    EVP_DigestInit_ex(md5, EVP_md5(), NULL);
    for (size_t i = 0; i < list.count; i++) {
        uint32_t n = list.parts[i].part_number;
        part_view_t *v = &views[n];
        char hex[33];
        if (v->holders == 0) {
            gw_set_error(ctx, S3_ERR_INVALID_PART, NULL);
            break;
        }
        yc_hex(v->rec.etag, 16, hex);
        h2o_iovec_t given = unquote(list.parts[i].etag);
        if (!h2o_memis(given.base, given.len, hex, 32)) {
            gw_set_error(ctx, S3_ERR_INVALID_PART, NULL);
            break;
        }
        if (gw_checksum_complete_part(ctx, &checksum, &list.parts[i], &v->rec) != 0)
            break;
        if (i + 1 < list.count && v->rec.size < MIN_PART_SIZE) {
            gw_set_error(ctx, S3_ERR_ENTITY_TOO_SMALL, NULL);
            break;
        }
        meta_part_ref_t ref = {.number = n, .size = v->rec.size};
        memcpy(ref.data_id, v->rec.data_id, META_ID_LEN);
        memcpy(ref.etag, v->rec.etag, 16);
        meta_parts_append(&parts, &ref);
        EVP_DigestUpdate(md5, v->rec.etag, 16);
        total += v->rec.size;
        keep[n] = 1;
    }
    uint8_t digest[16];
    EVP_DigestFinal_ex(md5, digest, NULL);
    EVP_MD_CTX_free(md5);
    if (ctx->error != S3_OK)
        goto done;

    char etag[48];
    yc_hex(digest, 16, etag);
    snprintf(etag + 32, sizeof(etag) - 32, "-%zu", list.count);
    meta_object_t r = {.bucket = gw_mb(ctx->bucket_ns),
                       .key = gw_mb(ctx->key),
                       .mtime_ns = yc_now_ns(),
                       .size = total,
                       .etag = {etag, strlen(etag)},
                       .content_type = u.rec.content_type,
                       .content_encoding = u.rec.content_encoding,
                       .content_disposition = u.rec.content_disposition,
                       .content_language = u.rec.content_language,
                       .cache_control = u.rec.cache_control,
                       .expires = u.rec.expires,
                       .user_meta = u.rec.user_meta,
                       .owner = u.rec.owner,
                       .ec_k = u.rec.ec_k,
                       .ec_m = u.rec.ec_m,
                       .stripe_size = u.rec.stripe_size,
                       .parts = {(const char *)parts.base, parts.len},
                       .part_count = (uint32_t)list.count};
    memcpy(r.distribution, u.rec.distribution, 16);
    if (gw_checksum_complete_finish(ctx, &checksum, &r) != 0)
        goto done;
    if ((ret = gw_object_commit(ctx->cluster, u.set, &r, NULL)) != 0) {
        gw_set_store_error(ctx, ret);
        goto done;
    }
    /* The object is durable: end the upload while still holding the lock (a racing Abort then
     * finds nothing to abort), then let go and free the parts it does not use. */
    if ((ret = end_upload(ctx, &u)) != 0)
        yc_log(YC_LOG_WARN, "request_id=%s event=upload_end_failed err=%s", ctx->request_id, yc_errname(ret));
    ended = ret == 0;
    gw_lock_release(&lock);
    locked = 0;
    if (ended)
        release_parts(&u, views, keep);
    if ((ret = gw_bucket_confirm(ctx)) != 0) {
        if (ret == GW_ENOENT)
            gw_object_discard(ctx->cluster, gw_mb(ctx->bucket_ns), gw_mb(ctx->key));
        goto done;
    }

    s3_xml_writer_t w;
    char quoted[56];
    snprintf(quoted, sizeof(quoted), "\"%s\"", etag);
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "CompleteMultipartUploadResult");
    h2o_iovec_t loc = h2o_concat(&ctx->req->pool, h2o_iovec_init(H2O_STRLIT("/")), ctx->bucket,
                                 h2o_iovec_init(H2O_STRLIT("/")), ctx->key);
    s3_xml_element(&w, "Location", loc);
    s3_xml_element(&w, "Bucket", ctx->bucket);
    s3_xml_element(&w, "Key", ctx->key);
    s3_xml_element_str(&w, "ETag", quoted);
    gw_checksum_complete_xml(&w, &checksum);
    s3_xml_close(&w, "CompleteMultipartUploadResult");
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";

done:
    if (locked)
        gw_lock_release(&lock);
    gw_checksum_complete_dispose(&checksum);
    if (have_ps)
        parts_scan_dispose(&ps);
    meta_buf_dispose(&parts);
    free(views);
    free(keep);
    free(u.raw);
}

void gw_complete_multipart(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, complete_work);
}

/* ---------------------------------------------------------------- AbortMultipartUpload */

static void abort_work(gw_ctx_t *ctx)
{
    part_view_t *views = NULL;
    parts_scan_t ps;
    upload_t u;
    gw_lock_t lock;
    int ret, have_ps = 0;

    memset(&u, 0, sizeof(u));
    if (gw_bucket_authorize(ctx) != 0 || lock_upload(ctx, &lock) != 0)
        return;
    if (load_upload(ctx, &u) != 0)
        goto unlock;
    if ((views = malloc(sizeof(*views) * (MAX_PARTS + 1))) == NULL) {
        gw_set_error(ctx, S3_ERR_SLOW_DOWN, NULL);
        goto unlock;
    }
    have_ps = 1;
    if (load_parts(ctx, &u, &ps, views) < 0)
        goto unlock;
    if ((ret = end_upload(ctx, &u)) != 0) {
        gw_set_store_error(ctx, ret);
        goto unlock;
    }
    gw_lock_release(&lock);
    /* parts below the read quorum are dropped too: mark every part seen */
    for (uint32_t s = 0; s < gw_set_width(u.set); s++)
        for (size_t i = 0; i < ps.n[s]; i++)
            if (ps.recs[s][i].number >= 1 && ps.recs[s][i].number <= MAX_PARTS)
                views[ps.recs[s][i].number].rec.number = ps.recs[s][i].number;
    release_parts(&u, views, NULL);
    ctx->status = 204;
    goto done;

unlock:
    gw_lock_release(&lock);
done:
    if (have_ps)
        parts_scan_dispose(&ps);
    free(views);
    free(u.raw);
}

void gw_abort_multipart(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, abort_work);
}

/* ---------------------------------------------------------------- ListParts */

static void owner_xml(s3_xml_writer_t *w, const char *tag, meta_bytes_t owner)
{
    s3_xml_open(w, tag);
    s3_xml_element(w, "ID", gw_iov(owner));
    s3_xml_element(w, "DisplayName", gw_iov(owner));
    s3_xml_close(w, tag);
}

static void list_parts_work(gw_ctx_t *ctx)
{
    part_view_t *views;
    parts_scan_t ps;
    upload_t u;
    uint32_t max_parts, marker;
    int ret;

    if ((ret = s3_parse_list_limit(s3_query_get(&ctx->query, "max-parts"), 1000, 1000, &max_parts)) != 0 ||
        (ret = s3_parse_part_number_marker(s3_query_get(&ctx->query, "part-number-marker"), &marker)) != 0) {
        gw_set_error(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    if (gw_bucket_authorize(ctx) != 0 || load_upload(ctx, &u) != 0)
        return;
    if ((views = malloc(sizeof(*views) * (MAX_PARTS + 1))) == NULL) {
        gw_set_error(ctx, S3_ERR_SLOW_DOWN, NULL);
        free(u.raw);
        return;
    }
    if (load_parts(ctx, &u, &ps, views) < 0)
        goto done;
    char id[2 * META_ID_LEN + 1];
    format_upload_id(u.upload_id, id);
    s3_xml_writer_t w;
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "ListPartsResult");
    s3_xml_element(&w, "Bucket", ctx->bucket);
    s3_xml_element(&w, "Key", ctx->key);
    s3_xml_element_str(&w, "UploadId", id);
    owner_xml(&w, "Initiator", u.rec.owner);
    owner_xml(&w, "Owner", u.rec.owner);
    s3_xml_element_str(&w, "StorageClass", "STANDARD");
    gw_checksum_upload_xml(&w, &u.rec);
    s3_xml_element_uint(&w, "PartNumberMarker", marker);
    uint32_t listed = 0, last = 0;
    int truncated = 0;
    h2o_iovec_t body_start = s3_xml_writer_result(&w);
    (void)body_start;
    /* parts go after the header fields; collect them first to know NextPartNumberMarker */
    s3_xml_writer_t parts;
    s3_xml_writer_init(&parts, &ctx->req->pool);
    for (uint32_t n = marker + 1; n <= MAX_PARTS; n++) {
        if (views[n].holders == 0)
            continue;
        if (listed == max_parts) {
            truncated = 1;
            break;
        }
        char etag[40];
        etag[0] = '"';
        yc_hex(views[n].rec.etag, 16, etag + 1);
        etag[33] = '"';
        etag[34] = '\0';
        s3_xml_open(&parts, "Part");
        s3_xml_element_uint(&parts, "PartNumber", n);
        s3_xml_element_time(&parts, "LastModified", views[n].rec.mtime_ns);
        s3_xml_element_str(&parts, "ETag", etag);
        s3_xml_element_uint(&parts, "Size", views[n].rec.size);
        gw_checksum_part_xml(&parts, &views[n].rec);
        s3_xml_close(&parts, "Part");
        listed++;
        last = n;
    }
    s3_xml_element_uint(&w, "NextPartNumberMarker", last);
    s3_xml_element_uint(&w, "MaxParts", max_parts);
    s3_xml_element_bool(&w, "IsTruncated", truncated);
    h2o_iovec_t p = s3_xml_writer_result(&parts);
    s3_xml_raw(&w, p.base, p.len);
    s3_xml_close(&w, "ListPartsResult");
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
done:
    parts_scan_dispose(&ps);
    free(views);
    free(u.raw);
}

void gw_list_parts(gw_ctx_t *ctx)
{
    gw_dispatch_read(ctx, list_parts_work);
}

/* ---------------------------------------------------------------- ListMultipartUploads */

typedef struct {
    gw_ctx_t *ctx;
    s3_xml_writer_t *w, *prefixes;
    h2o_iovec_t prefix, delimiter, key_marker;
    char last_prefix[META_KEY_MAX + 1];
    size_t last_prefix_len;
    uint8_t id_marker[META_ID_LEN];
    int has_id_marker;
    uint32_t max, listed;
    int truncated;
    char next_key[META_KEY_MAX + 1];
    size_t next_key_len;
    char next_id[2 * META_ID_LEN + 1];
} uploads_list_t;

static int upload_one(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    uploads_list_t *ul = arg;
    meta_upload_t u;
    if (meta_upload_decode(val, vlen, &u) != 0)
        return 0;
    if (u.key.len < ul->prefix.len || memcmp(u.key.base, ul->prefix.base, ul->prefix.len) != 0)
        return 0;
    if (ul->key_marker.len > 0) {
        size_t n = u.key.len < ul->key_marker.len ? u.key.len : ul->key_marker.len;
        int c = memcmp(u.key.base, ul->key_marker.base, n);
        if (c == 0)
            c = (u.key.len > ul->key_marker.len) - (u.key.len < ul->key_marker.len);
        if (c < 0 || (c == 0 && (!ul->has_id_marker || memcmp(u.upload_id, ul->id_marker, META_ID_LEN) <= 0)))
            return 0;
    }
    if (ul->delimiter.len > 0) {
        const char *from = u.key.base + ul->prefix.len, *end = u.key.base + u.key.len;
        const char *hit = NULL;
        for (const char *p = from; p + ul->delimiter.len <= end && hit == NULL; p++)
            if (memcmp(p, ul->delimiter.base, ul->delimiter.len) == 0)
                hit = p;
        if (hit != NULL) {
            size_t plen = (size_t)(hit - u.key.base) + ul->delimiter.len;
            if (plen == ul->last_prefix_len && memcmp(ul->last_prefix, u.key.base, plen) == 0)
                return 0; /* uploads of one common prefix come together: it is listed once */
            if (ul->listed == ul->max) {
                ul->truncated = 1;
                return 1;
            }
            memcpy(ul->last_prefix, u.key.base, plen);
            ul->last_prefix_len = plen;
            s3_xml_open(ul->prefixes, "CommonPrefixes");
            s3_xml_element(ul->prefixes, "Prefix", h2o_iovec_init(u.key.base, plen));
            s3_xml_close(ul->prefixes, "CommonPrefixes");
            ul->listed++;
            return 0;
        }
    }
    if (ul->listed == ul->max) {
        ul->truncated = 1;
        return 1;
    }
    char id[2 * META_ID_LEN + 1];
    format_upload_id(u.upload_id, id);
    s3_xml_open(ul->w, "Upload");
    s3_xml_element(ul->w, "Key", gw_iov(u.key));
    s3_xml_element_str(ul->w, "UploadId", id);
    owner_xml(ul->w, "Initiator", u.owner);
    owner_xml(ul->w, "Owner", u.owner);
    s3_xml_element_str(ul->w, "StorageClass", "STANDARD");
    s3_xml_element_time(ul->w, "Initiated", u.initiated_ns);
    s3_xml_close(ul->w, "Upload");
    ul->listed++;
    memcpy(ul->next_key, u.key.base, u.key.len);
    ul->next_key_len = u.key.len;
    memcpy(ul->next_id, id, sizeof(id));
    return 0;
}

static void list_uploads_work(gw_ctx_t *ctx)
{
    s3_xml_writer_t w, uploads, prefixes;
    meta_key_t prefix;
    uploads_list_t ul = {.ctx = ctx, .w = &uploads, .prefixes = &prefixes};
    int ret;

    if ((ret = s3_parse_list_limit(s3_query_get(&ctx->query, "max-uploads"), 1000, 1000, &ul.max)) != 0) {
        gw_set_error(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    if (gw_bucket_authorize(ctx) != 0)
        return;
    ul.prefix = s3_query_get(&ctx->query, "prefix");
    if (ul.prefix.base == NULL)
        ul.prefix = h2o_iovec_init("", 0);
    ul.delimiter = s3_query_get(&ctx->query, "delimiter");
    if (ul.delimiter.base == NULL)
        ul.delimiter = h2o_iovec_init("", 0);
    ul.key_marker = s3_query_get(&ctx->query, "key-marker");
    if (ul.key_marker.base == NULL)
        ul.key_marker = h2o_iovec_init("", 0);
    ul.has_id_marker = parse_upload_id(s3_query_get(&ctx->query, "upload-id-marker"), ul.id_marker) == 0;
    s3_xml_writer_init(&uploads, &ctx->req->pool);
    s3_xml_writer_init(&prefixes, &ctx->req->pool);
    meta_key_bucket_uploads(gw_mb(ctx->bucket_ns), &prefix);
    /* uploads live in their object's set: scan each set, listing what a read quorum holds */
    for (size_t s = 0; s < ctx->cluster->nsets && !ul.truncated; s++) {
        gw_set_t *set = &ctx->cluster->sets[s];
        if ((ret = gw_set_scan(set, gw_set_read_quorum(set), &prefix, upload_one, &ul)) != 0) {
            gw_set_store_error(ctx, ret);
            return;
        }
    }
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "ListMultipartUploadsResult");
    s3_xml_element(&w, "Bucket", ctx->bucket);
    s3_xml_element(&w, "KeyMarker", ul.key_marker);
    s3_xml_element(&w, "UploadIdMarker",
                   s3_query_get(&ctx->query, "upload-id-marker").base ? s3_query_get(&ctx->query, "upload-id-marker")
                                                                      : h2o_iovec_init("", 0));
    if (ul.truncated) {
        s3_xml_element(&w, "NextKeyMarker", h2o_iovec_init(ul.next_key, ul.next_key_len));
        s3_xml_element_str(&w, "NextUploadIdMarker", ul.next_id);
    }
    if (ul.prefix.len > 0)
        s3_xml_element(&w, "Prefix", ul.prefix);
    if (ul.delimiter.len > 0)
        s3_xml_element(&w, "Delimiter", ul.delimiter);
    s3_xml_element_uint(&w, "MaxUploads", ul.max);
    s3_xml_element_bool(&w, "IsTruncated", ul.truncated);
    h2o_iovec_t body = s3_xml_writer_result(&uploads);
    s3_xml_raw(&w, body.base, body.len);
    body = s3_xml_writer_result(&prefixes);
    s3_xml_raw(&w, body.base, body.len);
    s3_xml_close(&w, "ListMultipartUploadsResult");
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
}

void gw_list_multipart_uploads(gw_ctx_t *ctx)
{
    gw_dispatch_read(ctx, list_uploads_work);
}
