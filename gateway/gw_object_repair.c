/* gw_object_repair.c — the repair side of the object engine: make every drive of a looked-up
 * object's set hold its version whole.
 *
 * gw_quorum_heal_plan says which drives lack the version (they get it) and which did not answer
 * (try later); the drives that hold it have their shards verified, and a shard that is missing
 * or fails its checksums counts as lacking. Shards are rebuilt by reading the object back
 * (decoding from the healthy drives), re-encoding each stripe and appending only the missing
 * shards' blocks; the record is written last, so a drive never holds a record without its data.
 */
#include "gateway/gw_object_internal.h"
#include "erasure/erasure.h"
#include "common/clock.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
    gw_object_t *o;
    uint8_t need[16];    /* the drive gets the version: record, and shards unless inline */
    uint8_t pending[16]; /* the drive could not be reached: try again later */
} heal_t;

/* Checks the shards of one drive that holds the version (the plan settled the others). */
static void heal_check_task(void *arg, size_t slot)
{
    heal_t *h = arg;
    gw_object_t *o = h->o;
    const meta_object_t *r = gw_object_record(o);
    store_client_t *d = o->set->drives[slot]->client;
    meta_part_ref_t part;

    if (h->need[slot] || h->pending[slot])
        return;
    if (d == NULL) {
        h->pending[slot] = 1;
        return;
    }
    if (r->flags & (META_OBJ_INLINE | META_OBJ_DELETE_MARKER))
        return;
    uint32_t shard = gw_shard_of_slot(r->distribution, gw_set_width(o->set), (uint32_t)slot);
    for (uint32_t p = 0; p < r->part_count && !h->need[slot]; p++) {
        if (meta_object_part(r, p, &part) != 0)
            continue;
        int ret = store_client_shard_verify(d, part.data_id, shard);
        if (ret == STORE_EUNREACHABLE || ret == STORE_EIO) {
            h->pending[slot] = 1;
            return;
        }
        h->need[slot] = ret != 0;
    }
}

/* Rewrites the needed shards of one part: decode each stripe, re-encode, append the blocks. */
static int heal_part(gw_object_t *o, const heal_t *h, const meta_part_ref_t *part, uint64_t part_start)
{
    const meta_object_t *r = gw_object_record(o);
    uint32_t width = r->ec_k + r->ec_m, k = r->ec_k;
    ec_geometry_t g = {r->ec_k, r->ec_m, r->stripe_size};
    store_client_writer_t *writers[16] = {0};
    const ec_codec_t *codec;
    uint8_t *data = NULL, *blocks = NULL;
    int ret = 0;

    if (ec_codec_get(k, r->ec_m, &codec) != 0)
        return GW_EIO;
    size_t max_block = ec_block_len(&g, part->size, 0);
    if ((data = malloc(g.stripe_size)) == NULL ||
        (blocks = malloc((size_t)width * (max_block ? max_block : 1))) == NULL) {
        ret = GW_ENOMEM;
        goto out;
    }
    for (uint32_t slot = 0; slot < width; slot++) {
        if (h->need[slot] &&
            store_client_shard_create(o->set->drives[slot]->client, part->data_id,
                                      gw_shard_of_slot(r->distribution, width, slot), &writers[slot]) != 0)
            writers[slot] = NULL;
    }
    for (uint64_t s = 0; s < ec_stripe_count(&g, part->size); s++) {
        size_t len = ec_stripe_len(&g, part->size, s), block = ec_block_len(&g, part->size, s);
        uint8_t *b[16];
        if ((ret = gw_object_read(o, part_start + s * g.stripe_size, len, data)) != 0)
            goto out;
        for (uint32_t i = 0; i < width; i++)
            b[i] = blocks + (size_t)i * block;
        ec_split(codec, data, len, block, b);
        ec_encode(codec, block, (const uint8_t *const *)b, b + k);
        for (uint32_t i = 0; i < width; i++) {
            uint32_t slot = r->distribution[i];
            if (writers[slot] != NULL && store_client_shard_append(writers[slot], b[i], block) != 0) {
                store_client_shard_abort(writers[slot]);
                writers[slot] = NULL;
            }
        }
    }
    for (uint32_t slot = 0; slot < width; slot++) {
        if (writers[slot] != NULL) {
            if (store_client_shard_commit(writers[slot]) != 0)
                ret = GW_EIO;
            writers[slot] = NULL;
        } else if (h->need[slot]) {
            ret = GW_EIO;
        }
    }
out:
    for (uint32_t slot = 0; slot < width; slot++)
        if (writers[slot] != NULL)
            store_client_shard_abort(writers[slot]);
    free(data);
    free(blocks);
    return ret;
}

/* Drives that hold the version with attributes older than the chosen record's (a change that
 * missed them) get the chosen ones. Rare, so one drive after the other. */
static void heal_attrs(gw_object_t *o, uint32_t *repaired)
{
    const meta_object_t *r = gw_object_record(o);
    meta_object_t rec = *r;

    rec.inline_data = (meta_bytes_t){0}; /* the drive keeps its own shard */
    for (uint32_t slot = 0; slot < gw_set_width(o->set); slot++) {
        store_client_t *d = o->set->drives[slot]->client;
        if (!o->agree[slot] || d == NULL || o->recs[slot]->attrs_ns >= r->attrs_ns)
            continue;
        if (store_client_object_update(d, &rec) == 0)
            (*repaired)++;
    }
}

int gw_object_heal(gw_object_t *o, uint32_t *repaired, uint32_t *pending)
{
    const meta_object_t *r = gw_object_record(o);
    uint32_t width = gw_set_width(o->set);
    heal_t h = {.o = o};
    uint8_t *inline_buf = NULL;
    size_t inline_len = 0;
    int ret = 0, any = 0;

    *repaired = *pending = 0;
    heal_attrs(o, repaired);
    gw_quorum_heal_plan(o->found, o->agree, width, h.need, h.pending);
    gw_set_fanout(o->set, heal_check_task, &h);
    for (uint32_t slot = 0; slot < width; slot++) {
        *pending += h.pending[slot];
        any |= h.need[slot];
    }
    if (!any)
        return 0;

    if (r->flags & META_OBJ_INLINE) {
        const ec_codec_t *codec;
        ec_geometry_t g = {r->ec_k, r->ec_m, r->stripe_size};
        uint64_t size = gw_record_data_size(r);
        inline_len = size == 0 ? 0 : ec_block_len(&g, size, 0);
        if (ec_codec_get(r->ec_k, r->ec_m, &codec) != 0 ||
            (inline_buf = calloc(width, inline_len ? inline_len : 1)) == NULL)
            return GW_ENOMEM;
        if (inline_len > 0) {
            uint8_t *b[16];
            for (uint32_t i = 0; i < width; i++)
                b[i] = inline_buf + (size_t)i * inline_len;
            ec_split(codec, o->inline_data, size, inline_len, b);
            ec_encode(codec, inline_len, (const uint8_t *const *)b, b + r->ec_k);
        }
    } else if (!(r->flags & META_OBJ_DELETE_MARKER)) {
        uint64_t start = 0;
        meta_part_ref_t part;
        for (uint32_t p = 0; p < r->part_count && ret == 0; p++) {
            if ((ret = meta_object_part(r, p, &part)) != 0)
                break;
            ret = heal_part(o, &h, &part, start);
            start += part.size;
        }
        if (ret != 0)
            goto out;
    }
    for (uint32_t slot = 0; slot < width; slot++) {
        if (!h.need[slot])
            continue;
        meta_object_t rec = *r;
        store_client_t *d = o->set->drives[slot]->client;
        rec.shard_index = gw_shard_of_slot(r->distribution, width, slot);
        if (r->flags & META_OBJ_INLINE) {
            rec.inline_data.base = (const char *)inline_buf + (size_t)rec.shard_index * inline_len;
            rec.inline_data.len = inline_len;
        }
        int put = store_client_object_put(d, &rec);
        if (put == STORE_ESTALE)
            continue; /* a newer version arrived meanwhile: nothing left to repair here */
        if (put == 0 && store_client_object_prune(d, &rec) == 0)
            (*repaired)++;
        else
            ret = GW_EIO;
    }
out:
    free(inline_buf);
    return ret;
}

/* ---------------------------------------------------------------- failed writes left behind */

typedef struct {
    gw_set_t *set;
    meta_bytes_t bucket, key;
    int results[16];
    meta_buf_t raw[16];
    meta_object_t rec[16];
    uint8_t drop[16];
    uint32_t dropped;
} collect_t;

static void collect_read_task(void *arg, size_t slot)
{
    collect_t *cl = arg;
    store_client_t *d = cl->set->drives[slot]->client;
    cl->results[slot] =
        d == NULL ? STORE_EIO : store_client_object_get(d, cl->bucket, cl->key, NULL, &cl->raw[slot], &cl->rec[slot]);
    if (cl->results[slot] == STORE_ENOENT)
        cl->results[slot] = 0; /* answered: holds nothing of the key */
    else if (cl->results[slot] == 0)
        cl->results[slot] = 1; /* answered with a record */
}

static void collect_drop_task(void *arg, size_t slot)
{
    collect_t *cl = arg;
    if (cl->drop[slot] && store_client_object_takeback(cl->set->drives[slot]->client, &cl->rec[slot]) == 0)
        __atomic_add_fetch(&cl->dropped, 1, __ATOMIC_RELAXED);
}

int gw_object_collect(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t key, int64_t age_ns, uint32_t *dropped)
{
    uint8_t dist[16];
    collect_t cl = {.bucket = bucket, .key = key};
    uint32_t width, any = 0;
    gw_version_t v[16];
    int64_t now = yc_now_ns();

    *dropped = 0;
    cl.set = gw_cluster_place(c, bucket, key, dist);
    width = gw_set_width(cl.set);
    gw_set_fanout_reads(cl.set, collect_read_task, &cl);
    for (uint32_t s = 0; s < width; s++) {
        if (cl.results[s] < 0)
            goto out; /* a silent drive may hold the rest of what looks like garbage */
        if (cl.results[s] == 1)
            gw_version_of(&cl.rec[s], s, &v[s]);
    }
    for (uint32_t s = 0; s < width; s++) {
        uint32_t holders = 0;
        if (cl.results[s] != 1 || now - cl.rec[s].mtime_ns < age_ns)
            continue;
        for (uint32_t t = 0; t < width; t++)
            holders += cl.results[t] == 1 && gw_version_same(&v[s], &v[t]);
        cl.drop[s] = holders < cl.set->k;
        any |= cl.drop[s];
    }
    if (any) {
        gw_set_fanout(cl.set, collect_drop_task, &cl);
        *dropped = cl.dropped;
    }
out:
    for (uint32_t s = 0; s < width; s++)
        meta_buf_dispose(&cl.raw[s]);
    return 0;
}
