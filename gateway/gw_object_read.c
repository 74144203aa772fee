/* gw_object_read.c — the read side of the object engine: find the visible version of a key and
 * read any range of it back.
 *
 * Lookup: every drive of the set returns the versions of the key it holds (a bounded few: the
 * null slot's, then the newest versioned ones); their records are copied into the object's arena
 * (gw_object_internal.h) and decoded there, in place.
 * gw_quorum_resolve picks the visible version (the newest held by at least k drives) and says
 * whether a key without one is absent or out of reach; the drives that hold it are noted.
 * A lookup of the newest version asks each drive first for its null slot and its newest version
 * only (store_client_record_scan_newest), so that it costs the same whether the key has 1 or
 * 1,000 versions and whether old ones were deleted (their tombstones lie behind it). That answer
 * is the full one when it resolves and no drive returned anything newer than the chosen version:
 * a drive holding a newer version would have returned it (its newest, or its slot's). Otherwise
 * (a write in flight or failed, or no version reached k) the drives are asked again for their
 * few newest versions.
 *
 * Read: the code is systematic (a data shard's block is a piece of the stripe's bytes as they
 * are), so a read takes only the data blocks its bytes lie in, each from its shard's drive, which
 * verifies the block's checksum: a 256 KiB read of a 4+2 object with 1 MiB stripes is one shard
 * read, with no parity and no decode. A block read whole lands where the caller wants it; a block
 * the read cuts is kept in the object's stripe cache for the next read of the stripe. When a data
 * block is out of reach (its drive gone, the block damaged) the stripe is read from the data
 * shards of drives that hold the version; a failed or damaged block is replaced by parity blocks
 * and the stripe rebuilt with ec_reconstruct, in the stripe buffer itself (its first k blocks are
 * then the data, in order). The damage is reported to the cluster's repair sink. An inline object
 * is decoded once, at lookup, into the arena.
 */
#include "gateway/gw_object_internal.h"
#include "erasure/erasure.h"
#include "common/bigbuf.h"
#include "common/bytes.h"
#include "common/log.h"
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- arena */

struct gw_arena_chunk {
    gw_arena_chunk_t *next;
    size_t cap, used;
    _Alignas(16) uint8_t bytes[];
};

/* len bytes (16-aligned) that live until gw_object_free; NULL when memory is out. */
static void *arena_alloc(gw_object_t *o, size_t len)
{
    gw_arena_chunk_t *ch;
    void *p = NULL;

    len = (len + 15) & ~(size_t)15;
    if (o->shared)
        pthread_mutex_lock(&o->lock);
    if (len <= sizeof(o->first) - o->used) {
        p = o->first + o->used;
        o->used += len;
    } else if ((ch = o->chunks) != NULL && len <= ch->cap - ch->used) {
        p = ch->bytes + ch->used;
        ch->used += len;
    } else {
        /* doubling chunks: a lookup of any size makes a few allocations, not one per record */
        size_t cap = 2 * (ch != NULL ? ch->cap : sizeof(o->first));
        if (cap < len)
            cap = len;
        if ((ch = malloc(sizeof(*ch) + cap)) != NULL) {
            ch->next = o->chunks;
            ch->cap = cap;
            ch->used = len;
            o->chunks = ch;
            p = ch->bytes;
        }
    }
    if (o->shared)
        pthread_mutex_unlock(&o->lock);
    return p;
}

/* ---------------------------------------------------------------- lookup */

typedef struct {
    gw_object_t *o;
    meta_key_t prefix;
    meta_key_t slot; /* the null slot's key, when only the null version is asked for */
    const uint8_t *vid;
    int newest; /* each drive's null slot and newest version only (the first try of vid NULL) */
} lookup_t;

typedef struct {
    gw_object_t *o;
    size_t slot;
    const uint8_t *vid;
    int newest; /* stop after the first version (not a null slot): the newest-only lookup */
} version_collect_t;

static int collect_version(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    version_collect_t *vc = arg;
    gw_object_t *o = vc->o;
    uint32_t n = o->nv[vc->slot];
    meta_object_t *r = &o->versions[vc->slot][n];
    uint8_t vid[META_ID_LEN];
    void *copy;

    meta_bytes_t rec;
    size_t pos = 0;

    if (n == GW_LOOKUP_VERSIONS)
        return 1;
    /* another version than the one asked for: skipped by its key, before it costs a copy */
    if (vc->vid != NULL &&
        (meta_key_parse_object(key, klen, NULL, NULL, NULL, NULL, vid) != 0 || memcmp(vid, vc->vid, META_ID_LEN) != 0))
        return 0;
    if ((copy = arena_alloc(o, vlen)) == NULL)
        return -1;
    memcpy(copy, val, vlen);
    /* A null slot may hold a new null version and those it replaces until the prune: each
     * counts. A damaged record is the healer's business (its bytes stay in the arena until the
     * free). */
    while (n < GW_LOOKUP_VERSIONS && meta_slot_next(copy, vlen, &pos, &rec) == 1) {
        r = &o->versions[vc->slot][n];
        if (meta_object_decode(rec.base, rec.len, r) != 0 ||
            (vc->vid != NULL && memcmp(r->vid, vc->vid, META_ID_LEN) != 0))
            continue;
        o->nv[vc->slot] = ++n;
    }
    /* the newest version is all a newest-only lookup needs: no seek past it */
    meta_key_t past;
    return vc->newest && meta_key_version_successor(key, klen, &past) ? 1 : 0;
}

static void lookup_task(void *arg, size_t slot)
{
    lookup_t *l = arg;
    store_client_t *d = l->o->set->drives[slot]->client;
    version_collect_t vc = {l->o, slot, l->vid, l->newest};
    void *val;
    size_t vlen;
    int ret;

    if (d == NULL) {
        l->o->found[slot] = STORE_EIO;
    } else if (l->slot.len > 0) {
        /* the null version lives in one key: a point read, which RocksDB's bloom filters and
         * the memtable answer without an iterator stepping over anything */
        ret = store_client_record_get(d, &l->slot, &val, &vlen);
        if (ret == 0) {
            collect_version(&vc, l->slot.buf, l->slot.len, val, vlen);
            free(val);
        }
        l->o->found[slot] = ret == STORE_ENOENT ? 0 : ret;
    } else if (l->newest) {
        l->o->found[slot] = store_client_record_scan_newest(d, &l->prefix, NULL, 0, collect_version, &vc);
    } else {
        l->o->found[slot] = store_client_record_scan(d, &l->prefix, NULL, 0, collect_version, &vc);
    }
}

/* lookup_task of a point read (l->slot) on every drive of a set of network drives: the requests
 * all go out before any answer is awaited (store_client_record_get_batch), so the round trips
 * overlap on this thread instead of each costing a drive's lane two thread hand-offs. */
static void lookup_point_batch(lookup_t *l, const uint8_t *ask)
{
    gw_object_t *o = l->o;
    uint32_t width = gw_set_width(o->set), n = 0;
    store_batch_call_t calls[16];
    uint32_t slots[16];

    for (uint32_t slot = 0; slot < width; slot++) {
        store_client_t *d = o->set->drives[slot]->client;
        if (ask != NULL && !ask[slot])
            continue;
        if (d == NULL) {
            o->found[slot] = STORE_EIO;
            continue;
        }
        calls[n] = (store_batch_call_t){.client = d, .key = &l->slot};
        slots[n++] = slot;
    }
    store_client_record_get_batch(calls, n);
    for (uint32_t i = 0; i < n; i++) {
        version_collect_t vc = {o, slots[i], l->vid, l->newest};
        if (calls[i].ret == 0) {
            collect_version(&vc, l->slot.buf, l->slot.len, calls[i].val, calls[i].vlen);
            free(calls[i].val);
        }
        o->found[slots[i]] = calls[i].ret == STORE_ENOENT ? 0 : calls[i].ret;
    }
}

static void lookup_fanout(lookup_t *l)
{
    if (l->slot.len > 0 && !l->o->set->inline_reads)
        lookup_point_batch(l, NULL);
    else
        gw_set_fanout_reads(l->o->set, lookup_task, l);
}

/* Gathers what the drives of the lookup returned into ids / of and resolves it; *versioned is
 * set when a drive returned a version that is not a null version. */
static int resolve_lookup(gw_object_t *o, gw_version_t *ids, const meta_object_t **of, size_t *n, size_t *chosen,
                          int *versioned)
{
    static const uint8_t null_vid[META_ID_LEN];
    uint32_t width = gw_set_width(o->set), silent = 0;

    *n = 0;
    *versioned = 0;
    for (uint32_t s = 0; s < width; s++) {
        silent += o->found[s] != 0;
        /* a drive whose scan failed midway still returned records it holds: they count */
        for (uint32_t v = 0; v < o->nv[s]; v++) {
            of[*n] = &o->versions[s][v];
            gw_version_of(of[*n], s, &ids[*n]);
            *versioned |= memcmp(of[*n]->vid, null_vid, META_ID_LEN) != 0;
            (*n)++;
        }
    }
    return gw_quorum_resolve(ids, *n, o->set->k, silent, chosen);
}

/* Is the answer of a newest-only lookup the full one? (see the top of this file) */
static int newest_answer_holds(int ret, const gw_version_t *ids, size_t n, size_t chosen, int versioned)
{
    if (!versioned) /* null slots only: each drive returned all it holds */
        return 1;
    if (ret != 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (gw_version_newer(&ids[i], &ids[chosen]))
            return 0;
    return 1;
}

static int decode_inline(gw_object_t *o);

/* The drives a read's lookup asks first (gw_object_lookup_read): those of the data shards, as
 * many as the larger of k and what meets every write quorum (width - write quorum + 1). 0 when
 * that is every drive of the set. */
static int quick_subset(const gw_set_t *set, const uint8_t dist[16], uint8_t ask[16])
{
    uint32_t width = gw_set_width(set), q = width - gw_set_write_quorum(set) + 1;

    if (q < set->k)
        q = set->k;
    if (q >= width)
        return 0;
    memset(ask, 0, 16);
    for (uint32_t i = 0; i < q; i++)
        ask[dist[i]] = 1;
    return 1;
}

/* Does the answer of the drives asked first stand for the set's? Every one of them answered and
 * holds the chosen version, none holds anything newer, and the version needs nothing but its
 * records (inline data, or a marker). Then no newer write can be acknowledged: it would be on a
 * write quorum of drives, which meets every group of width - write quorum + 1, so one of those
 * asked would have returned it; and the chosen version is held by k of them, enough to decode. */
static int quick_holds(const gw_object_t *o, int ret, const gw_version_t *ids, const meta_object_t *const *of, size_t n,
                       size_t chosen, const uint8_t ask[16])
{
    size_t held[16];
    uint32_t width = gw_set_width(o->set);

    if (ret != 0 || !(of[chosen]->flags & (META_OBJ_INLINE | META_OBJ_DELETE_MARKER)))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (gw_version_newer(&ids[i], &ids[chosen]))
            return 0;
    gw_quorum_holders(ids, n, chosen, held, width);
    for (uint32_t s = 0; s < width; s++)
        if (ask[s] && (o->found[s] != 0 || held[s] == SIZE_MAX))
            return 0;
    return 1;
}

static int lookup(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid, int quick,
                  gw_object_t **out);

int gw_object_lookup(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid, gw_object_t **out)
{
    return lookup(c, bucket, key, vid, 0, out);
}

int gw_object_lookup_read(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid, gw_object_t **out)
{
    return lookup(c, bucket, key, vid, 1, out);
}

/* Notes which drives hold the chosen version, and whose attributes count. */
static void note_holders(gw_object_t *o, const gw_version_t *ids, const meta_object_t *const *of, size_t n,
                         size_t chosen)
{
    size_t held[16];
    uint32_t width = gw_set_width(o->set);

    memset(o->agree, 0, sizeof(o->agree));
    memset(o->recs, 0, sizeof(o->recs));
    o->chosen = -1;
    gw_quorum_holders(ids, n, chosen, held, width);
    for (uint32_t s = 0; s < width; s++) {
        if (held[s] == SIZE_MAX)
            continue;
        o->agree[s] = 1;
        o->recs[s] = of[held[s]];
        /* the holders agree on the version; of its attributes, the latest change wins */
        if (o->chosen < 0 || o->recs[s]->attrs_ns > o->recs[o->chosen]->attrs_ns)
            o->chosen = (int)s;
    }
}

static int lookup(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid, int quick,
                  gw_object_t **out)
{
    gw_version_t ids[16 * GW_LOOKUP_VERSIONS];
    const meta_object_t *of[16 * GW_LOOKUP_VERSIONS];
    size_t n = 0, chosen = 0;
    uint32_t width;
    uint8_t dist[16];
    gw_object_t *o;
    lookup_t l;
    int ret, versioned;

    if ((o = malloc(sizeof(*o))) == NULL)
        return GW_ENOMEM;
    /* not calloc: only the small per-slot fields need zeros; versions and the arena are filled
     * before they are read */
    o->cluster = c;
    o->set = gw_cluster_place(c, bucket, key, dist);
    width = gw_set_width(o->set);
    memset(o->nv, 0, sizeof(o->nv));
    memset(o->found, 0, sizeof(o->found));
    memset(o->agree, 0, sizeof(o->agree));
    memset(o->recs, 0, sizeof(o->recs));
    o->chosen = -1;
    o->inline_data = NULL;
    o->stripe = NULL;
    o->stripe_block = 0;
    o->cached_part = o->cached_stripe = UINT64_MAX;
    o->cached_blocks = 0;
    o->bad_shards = 0;
    o->shared = !o->set->inline_reads; /* the scans run on the drives' lanes, at once */
    o->chunks = NULL;
    o->used = 0;
    if (o->shared)
        pthread_mutex_init(&o->lock, NULL);

    static const uint8_t null_vid[META_ID_LEN];
    l.o = o;
    l.vid = vid;
    l.slot.len = 0;
    l.newest = vid == NULL;
    if (meta_key_object_versions(bucket, key, &l.prefix) != 0 ||
        (vid != NULL && memcmp(vid, null_vid, META_ID_LEN) == 0 && meta_key_object_null(bucket, key, &l.slot) != 0)) {
        ret = GW_EINVAL;
        goto fail;
    }
    /* A version id begins with its complemented modification time (gw_version_id_new), the time
     * in its record's key: a point read of that key instead of a scan of the key's versions,
     * which walks every newer version and every tombstone of one deleted before it (deleting 99
     * of a key's 100 versions newest first cost 5,000 steps per key and drive). */
    int exact =
        vid != NULL && l.slot.len == 0 && meta_key_object(bucket, key, (int64_t)~yc_get_be64(vid), vid, &l.slot) == 0;
    /* a read of the null slot over network drives asks a read quorum first (quick_holds), the
     * rest only when their answer does not stand */
    uint8_t ask[16];
    int partial = quick && !exact && l.slot.len > 0 && !o->set->inline_reads && quick_subset(o->set, dist, ask);
    if (partial) {
        lookup_point_batch(&l, ask);
        ret = resolve_lookup(o, ids, of, &n, &chosen, &versioned);
        if (!quick_holds(o, ret, ids, of, n, chosen, ask)) {
            for (uint32_t s = 0; s < width; s++)
                ask[s] = !ask[s];
            lookup_point_batch(&l, ask);
            ret = resolve_lookup(o, ids, of, &n, &chosen, &versioned);
            partial = 0;
        }
    } else {
        lookup_fanout(&l);
        ret = resolve_lookup(o, ids, of, &n, &chosen, &versioned);
    }
    if (exact && ret == GW_ENOENT) {
        /* a version written with another time than its id's (none is) would be under the scan */
        l.slot.len = 0;
        memset(o->nv, 0, sizeof(o->nv));
        memset(o->found, 0, sizeof(o->found));
        lookup_fanout(&l);
        ret = resolve_lookup(o, ids, of, &n, &chosen, &versioned);
    }
    if (l.newest && !newest_answer_holds(ret, ids, n, chosen, versioned)) {
        /* the records already copied stay in the arena until the free: a rare path */
        memset(o->nv, 0, sizeof(o->nv));
        memset(o->found, 0, sizeof(o->found));
        l.newest = 0;
        lookup_fanout(&l);
        ret = resolve_lookup(o, ids, of, &n, &chosen, &versioned);
    }
    if (ret != 0)
        goto fail;
    note_holders(o, ids, of, n, chosen);
    if ((o->recs[o->chosen]->flags & META_OBJ_INLINE) && (ret = decode_inline(o)) != 0) {
        if (!partial)
            goto fail;
        /* a damaged inline shard among those asked first: the other drives' records too */
        for (uint32_t s = 0; s < width; s++)
            ask[s] = !ask[s];
        lookup_point_batch(&l, ask);
        if ((ret = resolve_lookup(o, ids, of, &n, &chosen, &versioned)) != 0)
            goto fail;
        note_holders(o, ids, of, n, chosen);
        if ((o->recs[o->chosen]->flags & META_OBJ_INLINE) && (ret = decode_inline(o)) != 0)
            goto fail;
    }
    *out = o;
    return 0;

fail:
    gw_object_free(o);
    return ret;
}

const meta_object_t *gw_object_record(const gw_object_t *o)
{
    return o->recs[o->chosen];
}

void gw_object_trim(gw_object_t *o)
{
    if (o == NULL)
        return;
    yc_bigbuf_free(o->stripe);
    o->stripe = NULL;
    o->stripe_block = 0;
    o->cached_part = o->cached_stripe = UINT64_MAX;
    o->cached_blocks = 0;
}

void gw_object_free(gw_object_t *o)
{
    if (o == NULL)
        return;
    while (o->chunks != NULL) {
        gw_arena_chunk_t *next = o->chunks->next;
        free(o->chunks);
        o->chunks = next;
    }
    if (o->shared)
        pthread_mutex_destroy(&o->lock);
    yc_bigbuf_free(o->stripe);
    free(o);
}

/* ---------------------------------------------------------------- decode */

static void report_damage(gw_object_t *o, uint32_t slot, int err)
{
    const meta_object_t *r = gw_object_record(o);
    o->set->drives[slot]->errors++;
    gw_object_report(o->cluster, r->bucket, r->key);
    yc_log(YC_LOG_WARN, "event=heal_needed bucket=%.*s key=%.*s drive=%s err=%s", (int)r->bucket.len, r->bucket.base,
           (int)r->key.len, r->key.base, o->set->drives[slot]->path, yc_errname(err));
}

/* Counts len shard bytes read from slot's drive (yc_drive_shard_read_bytes_total). */
static void count_read(gw_object_t *o, uint32_t slot, size_t len)
{
    __atomic_fetch_add(&o->set->drives[slot]->shard_bytes, (uint64_t)len, __ATOMIC_RELAXED);
}

/* Rebuilds the k data blocks of one stripe in stripe (width blocks of block bytes), in data
 * order. fetch(i, buf) reads shard i's block; shards are tried in order of preference: data
 * first, then parity. */
typedef int (*fetch_fn)(gw_object_t *o, const meta_part_ref_t *part, uint64_t off, size_t block, uint32_t shard,
                        uint8_t *buf);

static int fetch_shard(gw_object_t *o, const meta_part_ref_t *part, uint64_t off, size_t block, uint32_t shard,
                       uint8_t *buf);

/* Network drives: the reads of the first k shards a stripe would be decoded from go out at once
 * (store_client_shard_read_batch), so that their daemons read, verify and send them in parallel
 * instead of one round trip after the other; decode_stripe goes on one by one only past a shard
 * that failed. Marks in tried the shards asked and in present those read; returns how many. */
static uint32_t fetch_shards_at_once(gw_object_t *o, const meta_part_ref_t *part, uint64_t off, size_t block,
                                     uint32_t reported, uint8_t **shards, uint8_t *tried, uint8_t *present)
{
    const meta_object_t *r = gw_object_record(o);
    uint32_t k = r->ec_k, width = r->ec_k + r->ec_m, n = 0, have = 0, idx[16];
    store_batch_call_t calls[16];

    for (uint32_t i = 0; i < width && n < k; i++) {
        uint32_t slot = r->distribution[i];
        store_client_t *d = o->set->drives[slot]->client;
        if (!o->agree[slot] || d == NULL)
            continue; /* decode_stripe's own pass meets it */
        tried[i] = 1;
        calls[n] = (store_batch_call_t){
            .client = d, .data_id = part->data_id, .index = i, .off = off, .len = block, .buf = shards[i]};
        idx[n++] = i;
    }
    store_client_shard_read_batch(calls, n);
    for (uint32_t j = 0; j < n; j++) {
        if (calls[j].ret == 0) {
            present[idx[j]] = 1;
            have++;
            count_read(o, r->distribution[idx[j]], block);
        } else if (!(reported & (1u << idx[j]))) {
            report_damage(o, r->distribution[idx[j]], calls[j].ret);
        }
    }
    return have;
}

/* reported: shards whose failure on this stripe was reported already (read_data_blocks): read
 * again, as a failure may pass, but not reported twice. */
static int decode_stripe(gw_object_t *o, const meta_part_ref_t *part, uint64_t off, size_t block, fetch_fn fetch,
                         uint32_t reported, uint8_t *stripe)
{
    const meta_object_t *r = gw_object_record(o);
    uint32_t k = r->ec_k, width = r->ec_k + r->ec_m, have = 0;
    uint8_t present[16] = {0};
    uint8_t *shards[16];
    const ec_codec_t *codec;

    if (ec_codec_get(r->ec_k, r->ec_m, &codec) != 0)
        return GW_EIO;
    for (uint32_t i = 0; i < width; i++)
        shards[i] = stripe + (size_t)i * block;
    uint8_t tried[16] = {0};
    if (fetch == fetch_shard && !o->set->inline_reads)
        have = fetch_shards_at_once(o, part, off, block, reported, shards, tried, present);
    for (uint32_t i = 0; i < width && have < k; i++) {
        uint32_t slot = r->distribution[i];
        if (!o->agree[slot] || tried[i])
            continue;
        int err = fetch(o, part, off, block, i, shards[i]);
        if (err == 0) {
            present[i] = 1;
            have++;
        } else if (!(reported & (1u << i))) {
            report_damage(o, slot, err);
        }
    }
    if (have < k)
        return GW_EIO;
    int missing_data = 0;
    for (uint32_t i = 0; i < k; i++)
        missing_data |= !present[i];
    if (!missing_data)
        return 0;
    for (uint32_t i = k; i < width; i++)
        if (!present[i])
            shards[i] = NULL; /* parity the read did not fetch need not be rebuilt */
    return ec_reconstruct(codec, block, shards, present) == 0 ? 0 : GW_EIO;
}

static int fetch_inline(gw_object_t *o, const meta_part_ref_t *part, uint64_t off, size_t block, uint32_t shard,
                        uint8_t *buf)
{
    const meta_object_t *r = gw_object_record(o);
    for (uint32_t s = 0; s < r->ec_k + r->ec_m; s++) {
        if (o->agree[s] && o->recs[s]->shard_index == shard) {
            if (o->recs[s]->inline_data.len != block)
                return STORE_ECORRUPT;
            memcpy(buf, o->recs[s]->inline_data.base, block);
            return 0;
        }
    }
    return STORE_ENOENT;
}

/* Decodes an inline object into the arena: its one short stripe is rebuilt in place there and
 * its first size bytes are the object. */
static int decode_inline(gw_object_t *o)
{
    static const uint8_t empty[1];
    const meta_object_t *r = gw_object_record(o);
    ec_geometry_t g = {r->ec_k, r->ec_m, r->stripe_size};
    uint8_t *stripe;
    int ret;

    uint64_t size = gw_record_data_size(r);
    if (size == 0) {
        o->inline_data = empty;
        return 0;
    }
    size_t block = ec_block_len(&g, size, 0);
    if ((stripe = arena_alloc(o, (size_t)(r->ec_k + r->ec_m) * block)) == NULL)
        return GW_ENOMEM;
    if ((ret = decode_stripe(o, NULL, 0, block, fetch_inline, 0, stripe)) != 0)
        return ret;
    o->inline_data = stripe;
    return 0;
}

/* ---------------------------------------------------------------- read */

static int fetch_shard(gw_object_t *o, const meta_part_ref_t *part, uint64_t off, size_t block, uint32_t shard,
                       uint8_t *buf)
{
    const meta_object_t *r = gw_object_record(o);
    store_client_t *d = o->set->drives[r->distribution[shard]]->client;
    if (d == NULL)
        return STORE_EIO;
    int ret = store_client_shard_read(d, part->data_id, shard, off, block, buf);
    if (ret == 0)
        count_read(o, r->distribution[shard], block);
    return ret;
}

/* Reads the data blocks of one stripe that to names (to[b] set: block b goes there) straight from
 * their data shards. The code is systematic: a data block is the stripe's bytes as they are, and
 * its drive verifies its checksum, so a read within a few blocks needs those shards only, with no
 * parity and no decode. Non-zero when one of them is out of reach (its drive does not hold the
 * version, is gone, or failed a read of this object before) or its read fails (reported for
 * healing here; *reported holds those shards): the caller then decodes the stripe (decode_stripe),
 * which reads around it and rebuilds. */
static int read_data_blocks(gw_object_t *o, const meta_part_ref_t *part, uint64_t off, size_t block,
                            uint8_t *const to[16], uint32_t *reported)
{
    const meta_object_t *r = gw_object_record(o);
    store_batch_call_t calls[16];
    uint32_t n = 0;
    int ret = 0;

    *reported = 0;
    for (uint32_t b = 0; b < r->ec_k; b++) {
        if (to[b] == NULL)
            continue;
        uint32_t slot = r->distribution[b];
        store_client_t *d = o->set->drives[slot]->client;
        if (!o->agree[slot] || d == NULL || (o->bad_shards & (1u << b)))
            return GW_EIO;
        calls[n++] = (store_batch_call_t){
            .client = d, .data_id = part->data_id, .index = b, .off = off, .len = block, .buf = to[b]};
    }
    store_client_shard_read_batch(calls, n); /* network drives: the reads go out at once */
    for (uint32_t j = 0; j < n; j++) {
        if (calls[j].ret == 0) {
            count_read(o, r->distribution[calls[j].index], block);
        } else {
            /* reported here, once: the decode that follows tries it again (an error may pass);
             * this version's later reads decode at once */
            report_damage(o, r->distribution[calls[j].index], calls[j].ret);
            *reported |= 1u << calls[j].index;
            o->bad_shards |= 1u << calls[j].index;
            ret = GW_EIO;
        }
    }
    return ret;
}

/* Makes o->stripe a buffer for the k+m blocks of a stripe of block bytes a shard (kept while large
 * enough; a new one holds nothing). */
static int stripe_buffer(gw_object_t *o, size_t block)
{
    const meta_object_t *r = gw_object_record(o);

    if (o->stripe_block >= block)
        return 0;
    yc_bigbuf_free(o->stripe);
    o->stripe_block = 0;
    o->cached_part = o->cached_stripe = UINT64_MAX;
    o->cached_blocks = 0;
    if ((o->stripe = yc_bigbuf_alloc((size_t)(r->ec_k + r->ec_m) * block)) == NULL)
        return GW_ENOMEM;
    o->stripe_block = block;
    return 0;
}

/* Data bytes [within, within + n) of stripe `stripe` of part p (index p of the record): copied to
 * dst, or, with dst NULL, held in o->stripe at their place in the stripe (gw_object_peek).
 * The data blocks they lie in are read alone while their drives answer: a whole block dst takes
 * straight into dst (no copy; a 256 KiB chunk of a 4+2 object with 1 MiB stripes is one shard's
 * block), a block the range cuts into the stripe cache, where the next read of the stripe finds
 * it. Otherwise the whole stripe is decoded into the cache. */
static int read_in_stripe(gw_object_t *o, uint32_t p, const meta_part_ref_t *part, uint64_t stripe, size_t within,
                          size_t n, uint8_t *dst)
{
    const meta_object_t *r = gw_object_record(o);
    ec_geometry_t g = {r->ec_k, r->ec_m, r->stripe_size};
    size_t block = ec_block_len(&g, part->size, stripe);
    uint64_t off = ec_shard_offset(&g, part->size, stripe);
    uint32_t b0 = (uint32_t)(within / block), b1 = (uint32_t)((within + n - 1) / block);
    uint32_t held = o->cached_part == p && o->cached_stripe == stripe ? o->cached_blocks : 0, direct = 0, cache = 0;
    uint8_t *to[16] = {NULL};
    uint32_t reported = 0;
    int ret;

    for (uint32_t b = b0; b <= b1; b++) {
        if (held & (1u << b))
            continue;
        if (dst != NULL && within <= b * block && (b + 1) * block <= within + n) {
            to[b] = dst + (b * block - within);
            direct |= 1u << b;
        } else {
            cache |= 1u << b;
        }
    }
    if (cache != 0) {
        if ((ret = stripe_buffer(o, block)) != 0)
            return ret;
        if (o->cached_part != p || o->cached_stripe != stripe) {
            o->cached_part = p;
            o->cached_stripe = stripe;
            o->cached_blocks = 0;
        }
        for (uint32_t b = b0; b <= b1; b++)
            if (cache & (1u << b))
                to[b] = o->stripe + b * block;
    }
    if ((direct | cache) != 0 && read_data_blocks(o, part, off, block, to, &reported) != 0) {
        if ((ret = stripe_buffer(o, block)) != 0)
            return ret;
        o->cached_stripe = UINT64_MAX;
        if ((ret = decode_stripe(o, part, off, block, fetch_shard, reported, o->stripe)) != 0)
            return ret;
        o->cached_part = p;
        o->cached_stripe = stripe;
        o->cached_blocks = (uint32_t)((1ull << r->ec_k) - 1);
        if (dst != NULL)
            memcpy(dst, o->stripe + within, n);
        return 0;
    }
    o->cached_blocks |= cache;
    for (uint32_t b = b0; dst != NULL && b <= b1; b++) {
        if (direct & (1u << b))
            continue;
        size_t lo = within > b * block ? within : b * block;
        size_t hi = within + n < (b + 1) * block ? within + n : (b + 1) * block;
        memcpy(dst + (lo - within), o->stripe + lo, hi - lo);
    }
    return 0;
}

int gw_object_read(gw_object_t *o, uint64_t off, size_t len, void *buf)
{
    const meta_object_t *r = gw_object_record(o);
    uint8_t *dst = buf;
    uint64_t part_start = 0;
    int ret;

    if (off + len > gw_record_data_size(r))
        return GW_EINVAL;
    if (r->flags & META_OBJ_INLINE) {
        memcpy(buf, o->inline_data + off, len);
        return 0;
    }
    for (uint32_t p = 0; p < r->part_count && len > 0; p++) {
        meta_part_ref_t part;
        if (meta_object_part(r, p, &part) != 0)
            return GW_EIO;
        if (off >= part_start + part.size) {
            part_start += part.size;
            continue;
        }
        ec_geometry_t g = {r->ec_k, r->ec_m, r->stripe_size};
        while (len > 0 && off < part_start + part.size) {
            uint64_t in_part = off - part_start, stripe = in_part / g.stripe_size;
            size_t within = (size_t)(in_part - stripe * g.stripe_size);
            size_t stripe_len = ec_stripe_len(&g, part.size, stripe);
            size_t n = stripe_len - within < len ? stripe_len - within : len;
            if ((ret = read_in_stripe(o, p, &part, stripe, within, n, dst)) != 0)
                return ret;
            dst += n;
            off += n;
            len -= n;
        }
        part_start += part.size;
    }
    return len == 0 ? 0 : GW_EIO;
}

/* Where data byte off of a striped record r lies: its part (index *p), the stripe of the part,
 * and the byte within that stripe. 0, or GW_EIO when the record's parts do not reach off. */
static int locate_stripe(const meta_object_t *r, uint64_t off, uint32_t *p, meta_part_ref_t *part, uint64_t *stripe,
                         size_t *within)
{
    uint64_t part_start = 0;

    for (*p = 0; *p < r->part_count; (*p)++) {
        if (meta_object_part(r, *p, part) != 0)
            return GW_EIO;
        if (off < part_start + part->size) {
            uint64_t in_part = off - part_start;
            *stripe = in_part / r->stripe_size;
            *within = (size_t)(in_part - *stripe * r->stripe_size);
            return 0;
        }
        part_start += part->size;
    }
    return GW_EIO;
}

int gw_object_peek(gw_object_t *o, uint64_t off, size_t len, const uint8_t **out)
{
    const meta_object_t *r = gw_object_record(o);
    ec_geometry_t g = {r->ec_k, r->ec_m, r->stripe_size};
    meta_part_ref_t part;
    uint64_t stripe;
    size_t within;
    uint32_t p;
    int ret;

    if (len == 0 || off + len > gw_record_data_size(r))
        return GW_EINVAL;
    if (r->flags & META_OBJ_INLINE) {
        *out = o->inline_data + off;
        return 0;
    }
    if ((ret = locate_stripe(r, off, &p, &part, &stripe, &within)) != 0)
        return ret;
    if (len > ec_stripe_len(&g, part.size, stripe) - within)
        return 1;
    /* the blocks the bytes lie in, held in the stripe cache (read alone, or the stripe decoded) */
    if ((ret = read_in_stripe(o, p, &part, stripe, within, len, NULL)) != 0)
        return ret;
    *out = o->stripe + within;
    return 0;
}

size_t gw_object_stripe_buffer_len(const gw_object_t *o)
{
    const meta_object_t *r = gw_object_record(o);
    ec_geometry_t g = {r->ec_k, r->ec_m, r->stripe_size};

    if (r->flags & META_OBJ_INLINE)
        return 0;
    /* a full stripe has the longest blocks: shorter last stripes fit in the same buffer */
    return (size_t)(r->ec_k + r->ec_m) * ec_block_len(&g, r->stripe_size, 0);
}

int gw_object_read_stripe(gw_object_t *o, uint64_t off, size_t max, uint8_t *buf, const uint8_t **data, size_t *len)
{
    const meta_object_t *r = gw_object_record(o);
    ec_geometry_t g = {r->ec_k, r->ec_m, r->stripe_size};
    meta_part_ref_t part;
    uint64_t stripe;
    size_t within;
    uint32_t p;
    int ret;

    uint64_t size = gw_record_data_size(r);
    if (off >= size || max == 0)
        return GW_EINVAL;
    if (r->flags & META_OBJ_INLINE) {
        *data = o->inline_data + off;
        *len = size - off < max ? (size_t)(size - off) : max;
        return 0;
    }
    if ((ret = locate_stripe(r, off, &p, &part, &stripe, &within)) != 0)
        return ret;
    size_t stripe_len = ec_stripe_len(&g, part.size, stripe);
    size_t block = ec_block_len(&g, part.size, stripe);
    uint64_t shard_off = ec_shard_offset(&g, part.size, stripe);
    size_t n = stripe_len - within < max ? stripe_len - within : max;
    uint32_t b0 = (uint32_t)(within / block), b1 = (uint32_t)((within + n - 1) / block);
    uint8_t *to[16] = {NULL};
    uint32_t reported;
    for (uint32_t b = b0; b <= b1; b++)
        to[b] = buf + b * block;
    /* a range's first or last stripe needs only the data blocks it covers, a whole stripe all k:
     * read alone while they answer, else the stripe is decoded */
    if (read_data_blocks(o, &part, shard_off, block, to, &reported) != 0 &&
        (ret = decode_stripe(o, &part, shard_off, block, fetch_shard, reported, buf)) != 0)
        return ret;
    *data = buf + within;
    *len = n;
    return 0;
}
