/* gw_upload.c — the records of multipart uploads: ids, the upload record, the upload's lock, the
 * view of its parts, the part records, and the end of an upload (design in gw_upload.h).
 *
 * One concern: everything here reads or writes the 'U' and 'P' records of one upload on the
 * drives of its set, by the set-record rule (written on every drive, acknowledged by a write
 * quorum, visible on a read quorum). What the S3 operations make of them — XML, digests,
 * checksums, the object record of Complete — is in the handlers (gw_multipart.c,
 * gw_multipart_list.c).
 */
#include "gateway/gw_upload.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_replica.h"
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- the upload record */

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

int gw_upload_create(gw_set_t *set, const meta_upload_t *u)
{
    meta_buf_t buf = {0};
    meta_key_t key;
    int ret;

    meta_key_upload(u->bucket, u->key, u->upload_id, &key);
    if ((ret = meta_upload_encode(u, &buf)) == 0)
        ret = set_put(set, &key, buf.base, buf.len);
    meta_buf_dispose(&buf);
    return ret;
}

/* Reads the upload record of (ns, key, id): 0 with *u, GW_ENOENT when a read quorum answered
 * without it, GW_EQUORUM when too few answered. */
static int upload_load_at(gw_cluster_t *c, h2o_iovec_t ns, h2o_iovec_t obj_key, const uint8_t id[META_ID_LEN],
                          gw_upload_t *u)
{
    uint8_t dist[16];
    meta_key_t key;
    set_get_t g = {0};
    size_t found = 0, answered = 0;

    memset(u, 0, sizeof(*u));
    memcpy(u->upload_id, id, META_ID_LEN);
    u->set = gw_cluster_place(c, gw_mb(ns), gw_mb(obj_key), dist);
    meta_key_upload(gw_mb(ns), gw_mb(obj_key), u->upload_id, &key);
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
    return answered < gw_set_read_quorum(u->set) ? GW_EQUORUM : GW_ENOENT;
}

int gw_upload_load(gw_ctx_t *ctx, gw_upload_t *u)
{
    uint8_t id[META_ID_LEN];
    int ret;

    memset(u, 0, sizeof(*u));
    if (gw_upload_id_parse(s3_query_get(&ctx->query, "uploadId"), id) != 0) {
        gw_set_error(ctx, S3_ERR_NO_SUCH_UPLOAD, NULL);
        return -1;
    }
    if ((ret = upload_load_at(ctx->cluster, ctx->bucket_ns, ctx->key, id, u)) == 0)
        return 0;
    if (ret == GW_ENOENT)
        gw_set_error(ctx, S3_ERR_NO_SUCH_UPLOAD, NULL);
    else
        gw_set_store_error(ctx, ret);
    return -1;
}

void gw_upload_dispose(gw_upload_t *u)
{
    free(u->raw);
    u->raw = NULL;
}

/* Takes the lock of upload id of (ns, key) on its set: 0 or gw_lock_set's error. */
static int upload_lock_at(gw_cluster_t *c, h2o_iovec_t ns, h2o_iovec_t key, const uint8_t id[META_ID_LEN],
                          gw_lock_t *lock)
{
    char name[16 + 2 * META_ID_LEN];
    uint8_t dist[16];

    memcpy(name, "upload/", 7);
    gw_upload_id_format(id, name + 7);
    gw_set_t *set = gw_cluster_place(c, gw_mb(ns), gw_mb(key), dist);
    return gw_lock_set(set, (meta_bytes_t){name, 7 + 2 * META_ID_LEN}, GW_LOCK_WAIT_NS, lock);
}

int gw_upload_lock(gw_ctx_t *ctx, gw_lock_t *lock)
{
    uint8_t id[META_ID_LEN];
    int ret;

    if (gw_upload_id_parse(s3_query_get(&ctx->query, "uploadId"), id) != 0) {
        gw_set_error(ctx, S3_ERR_NO_SUCH_UPLOAD, NULL);
        return -1;
    }
    if ((ret = upload_lock_at(ctx->cluster, ctx->bucket_ns, ctx->key, id, lock)) != 0) {
        gw_set_store_error(ctx, ret);
        return -1;
    }
    return 0;
}

typedef struct {
    gw_parts_scan_t *ps;
    size_t slot;
} parts_collect_t;

static int collect_part(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    parts_collect_t *pc = arg;
    gw_parts_scan_t *ps = pc->ps;
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
    gw_parts_scan_t *ps = arg;
    store_client_t *d = ps->set->drives[slot]->client;
    parts_collect_t pc = {ps, slot};
    ps->results[slot] = d == NULL ? STORE_EIO : store_client_record_scan(d, ps->prefix, NULL, 0, collect_part, &pc);
}

void gw_upload_parts_dispose(gw_parts_scan_t *ps)
{
    for (int s = 0; s < 16; s++) {
        for (size_t i = 0; i < ps->n[s]; i++)
            free(ps->bufs[s][i]);
        free(ps->bufs[s]);
        free(ps->recs[s]);
    }
}

/* The visible parts of u into views: their number, or a negative code. */
static int upload_load_parts_at(gw_upload_t *u, gw_parts_scan_t *ps, gw_part_view_t *views)
{
    meta_key_t prefix;

    memset(ps, 0, sizeof(*ps));
    meta_key_parts(u->upload_id, &prefix);
    ps->set = u->set;
    ps->prefix = &prefix;
    gw_set_fanout_reads(u->set, parts_scan_task, ps);
    ps->prefix = NULL; /* it lived on this stack frame */
    return gw_quorum_parts(ps->recs, ps->n, ps->results, gw_set_width(u->set), (uint32_t)gw_set_read_quorum(u->set),
                           GW_MAX_PARTS, views);
}

int gw_upload_load_parts(gw_ctx_t *ctx, gw_upload_t *u, gw_parts_scan_t *ps, gw_part_view_t *views)
{
    int visible = upload_load_parts_at(u, ps, views);
    if (visible < 0)
        gw_set_store_error(ctx, visible);
    return visible < 0 ? -1 : visible;
}

/* ---------------------------------------------------------------- part records */

typedef struct {
    gw_set_t *set;
    const meta_part_t *rec;
    const gw_data_t *data;
    int results[16];
    meta_key_t key;
    void *prev[16]; /* each drive's record of the number before the put (an earlier upload of it) */
    size_t prev_len[16];
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
    if (store_client_record_get(d, &pp->key, &pp->prev[slot], &pp->prev_len[slot]) != 0)
        pp->prev[slot] = NULL;
    pp->results[slot] = meta_part_encode(&r, &buf);
    if (pp->results[slot] == 0)
        pp->results[slot] = store_client_record_put(d, &pp->key, buf.base, buf.len);
    meta_buf_dispose(&buf);
}

/* The upload of the number the new one replaced, on a drive that took the new one: its shard
 * goes only now that the new part has its quorum (a failed re-upload must leave the earlier one
 * whole). */
static void part_replaced_task(void *arg, size_t slot)
{
    part_put_t *pp = arg;
    meta_part_t prev;

    if (pp->results[slot] == 0 && pp->prev[slot] != NULL &&
        meta_part_decode(pp->prev[slot], pp->prev_len[slot], &prev) == 0 &&
        memcmp(prev.data_id, pp->rec->data_id, META_ID_LEN) != 0)
        store_client_shard_delete(pp->set->drives[slot]->client, prev.data_id, prev.shard_index);
}

typedef struct {
    gw_set_t *set;
    const meta_part_t *rec;
    meta_key_t key;
    void *const *prev; /* per slot, the record to put back in its place; NULL: none known */
    const size_t *prev_len;
    uint8_t *removed;
} part_takeback_t;

static void part_takeback_task(void *arg, size_t slot)
{
    part_takeback_t *pt = arg;
    store_client_t *d = pt->set->drives[slot]->client;
    void *val = NULL;
    size_t len;
    meta_part_t held;
    int ret = d == NULL ? STORE_EIO : store_client_record_get(d, &pt->key, &val, &len);

    /* another upload of the number, or none: not this one's to remove */
    if (ret == 0 && meta_part_decode(val, len, &held) == 0 && memcmp(held.data_id, pt->rec->data_id, META_ID_LEN) == 0)
        pt->removed[slot] = (pt->prev != NULL && pt->prev[slot] != NULL
                                 ? store_client_record_put(d, &pt->key, pt->prev[slot], pt->prev_len[slot])
                                 : store_client_record_delete(d, &pt->key)) == 0;
    free(val);
}

static void takeback_part(gw_upload_t *u, const meta_part_t *rec, void *const *prev, const size_t *prev_len,
                          uint8_t removed[16])
{
    part_takeback_t pt = {.set = u->set, .rec = rec, .prev = prev, .prev_len = prev_len, .removed = removed};
    memset(removed, 0, 16);
    meta_key_part(u->upload_id, rec->number, &pt.key);
    gw_set_fanout(u->set, part_takeback_task, &pt);
}

int gw_upload_put_part(gw_upload_t *u, const meta_part_t *rec, const gw_data_t *data, uint8_t taken_back[16])
{
    part_put_t pp = {.set = u->set, .rec = rec, .data = data};
    uint32_t ok = 0;
    int ret;

    memset(taken_back, 0, 16);
    meta_key_part(u->upload_id, rec->number, &pp.key);
    gw_set_fanout(u->set, part_put_task, &pp);
    for (uint32_t s = 0; s < gw_set_width(u->set); s++)
        ok += pp.results[s] == 0;
    if (ok >= gw_set_write_quorum(u->set)) {
        gw_set_fanout(u->set, part_replaced_task, &pp);
        ret = 0;
    } else {
        takeback_part(u, rec, pp.prev, pp.prev_len, taken_back);
        ret = gw_quorum_error(pp.results, gw_set_width(u->set), gw_set_write_quorum(u->set));
    }
    for (uint32_t s = 0; s < 16; s++)
        free(pp.prev[s]);
    return ret;
}

void gw_upload_takeback_part(gw_upload_t *u, const meta_part_t *rec, uint8_t removed[16])
{
    takeback_part(u, rec, NULL, NULL, removed);
}

/* ---------------------------------------------------------------- the end of an upload */

typedef struct {
    gw_set_t *set;
    const uint8_t *upload_id;
    gw_part_view_t *views;
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
    for (uint32_t n = 1; n <= GW_MAX_PARTS; n++) {
        gw_part_view_t *v = &c->views[n];
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

/* Deletes the upload record of u under (ns, key): 0 or GW_EQUORUM. */
static int upload_end_at(h2o_iovec_t ns, h2o_iovec_t obj_key, gw_upload_t *u)
{
    meta_key_t key;
    set_delete_t rd = {u->set, &key, {0}};
    uint32_t ok = 0;

    meta_key_upload(gw_mb(ns), gw_mb(obj_key), u->upload_id, &key);
    gw_set_fanout(u->set, record_delete_task, &rd);
    for (uint32_t s = 0; s < gw_set_width(u->set); s++)
        ok += rd.results[s] == 0 || rd.results[s] == STORE_ENOENT;
    return ok >= gw_set_write_quorum(u->set) ? 0 : GW_EQUORUM;
}

int gw_upload_end(gw_ctx_t *ctx, gw_upload_t *u)
{
    return upload_end_at(ctx->bucket_ns, ctx->key, u);
}

void gw_upload_release_parts(gw_upload_t *u, gw_part_view_t *views, const uint8_t *keep)
{
    cleanup_t c = {u->set, u->upload_id, views, keep, u->rec.distribution};
    gw_set_fanout(u->set, cleanup_task, &c);
}

/* ---------------------------------------------------------------- aborting an upload */

int gw_upload_abort(gw_cluster_t *c, h2o_iovec_t ns, h2o_iovec_t key, const uint8_t id[META_ID_LEN])
{
    gw_part_view_t *views = NULL;
    gw_parts_scan_t ps;
    gw_upload_t u;
    gw_lock_t lock;
    int ret, have_ps = 0;

    memset(&u, 0, sizeof(u));
    if ((ret = upload_lock_at(c, ns, key, id, &lock)) != 0)
        return ret;
    if ((ret = upload_load_at(c, ns, key, id, &u)) != 0)
        goto unlock;
    /* 1.4 MB: malloc'd, not on a worker's stack */
    if ((views = malloc(sizeof(*views) * (GW_MAX_PARTS + 1))) == NULL) {
        ret = GW_ENOMEM;
        goto unlock;
    }
    have_ps = 1;
    if ((ret = upload_load_parts_at(&u, &ps, views)) < 0 || (ret = upload_end_at(ns, key, &u)) != 0)
        goto unlock;
    gw_lock_release(&lock);
    /* parts below the read quorum are dropped too: mark every part seen */
    for (uint32_t s = 0; s < gw_set_width(u.set); s++)
        for (size_t i = 0; i < ps.n[s]; i++)
            if (ps.recs[s][i].number >= 1 && ps.recs[s][i].number <= GW_MAX_PARTS)
                views[ps.recs[s][i].number].rec.number = ps.recs[s][i].number;
    gw_upload_release_parts(&u, views, NULL);
    goto done;

unlock:
    gw_lock_release(&lock);
done:
    if (have_ps)
        gw_upload_parts_dispose(&ps);
    free(views);
    gw_upload_dispose(&u);
    return ret;
}
