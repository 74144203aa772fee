/* gw_object.c — erasure-coded PUT and GET over the drives of one set.
 *
 * Write: for each stripe of the body, MD5 (and the caller's observer) see the bytes, ec_split
 * cuts them into k blocks (full stripes point straight into the body; only the short last
 * stripe is copied to be padded), ec_encode adds m parity blocks, and block i is appended to
 * the shard file of shard i on slot distribution[i]. Appends go to the page cache; the
 * expensive part, fdatasync + rename, runs in parallel on the drives' lanes at commit.
 *
 * Read: the records of the set's drives are grouped by version identity (mtime, vid, data id
 * of the first part); the newest group held by at least k drives is the visible version. Each
 * stripe is read from the data shards of drives in that group; a failed or damaged block is
 * replaced by parity blocks and the stripe rebuilt with ec_reconstruct.
 */
#include "gateway/gw_object.h"
#include "erasure/erasure.h"
#include "gateway/gw_heal.h"
#include "gateway/gw_log.h"
#include <errno.h>
#include <stdatomic.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void gw_random_id(uint8_t id[META_ID_LEN])
{
    if (RAND_bytes(id, META_ID_LEN) != 1) {
        /* OpenSSL's DRBG failing means the process cannot be trusted to make ids: fall back to
         * time and address bits, still unique enough for a data id, and say so */
        int64_t t = gw_now_ns();
        memcpy(id, &t, 8);
        uintptr_t p = (uintptr_t)id;
        memcpy(id + 8, &p, sizeof(p) < 8 ? sizeof(p) : 8);
        gw_log(GW_LOG_ERROR, "event=rand_bytes_failed");
    }
}

int64_t gw_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The slot of the set that holds shard i / the shard a slot holds. */
static uint32_t shard_of_slot(const uint8_t distribution[16], uint32_t width, uint32_t slot)
{
    for (uint32_t i = 0; i < width; i++)
        if (distribution[i] == slot)
            return i;
    return 0;
}

/* ---------------------------------------------------------------- write */

typedef struct {
    gw_set_t *set;
    const uint8_t *distribution;
    const uint8_t *data_id;
    store_client_writer_t *writers[16];
    int results[16];
} shard_write_t;

static void create_task(void *arg, size_t slot)
{
    shard_write_t *w = arg;
    store_client_t *d = w->set->drives[slot]->client;
    uint32_t shard = shard_of_slot(w->distribution, gw_set_width(w->set), (uint32_t)slot);
    w->results[slot] = d == NULL ? STORE_EIO : store_client_shard_create(d, w->data_id, shard, &w->writers[slot]);
}

static void commit_task(void *arg, size_t slot)
{
    shard_write_t *w = arg;
    if (w->writers[slot] == NULL)
        return;
    w->results[slot] = store_client_shard_commit(w->writers[slot]);
    w->writers[slot] = NULL;
}

static int write_inline(gw_cluster_t *c, gw_set_t *set, const uint8_t *body, uint64_t size, gw_data_t *out)
{
    const ec_codec_t *codec;
    uint32_t width = gw_set_width(set);
    ec_geometry_t g = {set->k, set->m, c->stripe_size};
    int ret;

    if ((ret = ec_codec_get(set->k, set->m, &codec)) != 0)
        return GW_EINVAL;
    /* one short stripe: size <= inline_max < stripe_size */
    size_t block = size == 0 ? 0 : ec_block_len(&g, size, 0);
    out->inline_len = block;
    if ((out->inline_buf = calloc(width, block > 0 ? block : 1)) == NULL)
        return GW_ENOMEM;
    if (block > 0) {
        uint8_t *blocks[16];
        for (uint32_t i = 0; i < width; i++)
            blocks[i] = out->inline_buf + (size_t)i * block;
        ec_split(codec, body, (size_t)size, block, blocks);
        ec_encode(codec, block, (const uint8_t *const *)blocks, blocks + set->k);
    }
    out->is_inline = 1;
    for (uint32_t i = 0; i < width; i++) {
        out->committed[i] = set->drives[i]->client != NULL;
        out->slot_err[i] = out->committed[i] ? 0 : STORE_EIO;
    }
    return 0;
}

static const uint8_t *memory_next(void *arg, uint64_t off, size_t len)
{
    return (const uint8_t *)arg + off;
}

gw_source_t gw_source_memory(const void *base)
{
    return (gw_source_t){memory_next, (void *)base};
}

int gw_data_write(gw_cluster_t *c, gw_set_t *set, const uint8_t distribution[16], gw_source_t src, uint64_t size,
                  int allow_inline, gw_observe_fn observe, void *observe_arg, gw_data_t *out)
{
    uint32_t width = gw_set_width(set), k = set->k;
    ec_geometry_t g = {set->k, set->m, c->stripe_size};
    shard_write_t w = {.set = set, .distribution = distribution};
    const ec_codec_t *codec;
    uint8_t *pad = NULL, *parity = NULL;
    EVP_MD_CTX *md5 = NULL;
    int ret = GW_ENOMEM;

    memset(out, 0, sizeof(*out));
    out->set = set;
    memcpy(out->distribution, distribution, 16);
    out->size = size;
    gw_random_id(out->data_id);
    w.data_id = out->data_id;
    if (ec_codec_get(set->k, set->m, &codec) != 0)
        return GW_EINVAL;

    /* hash first for inline objects (tiny); large ones are hashed stripe by stripe below */
    if ((md5 = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(md5, EVP_md5(), NULL) != 1)
        goto fail;
    if (allow_inline && size <= c->inline_max) {
        const uint8_t *body = size > 0 ? src.next(src.arg, 0, (size_t)size) : (const uint8_t *)"";
        if (body == NULL) {
            ret = GW_EIO;
            goto fail;
        }
        EVP_DigestUpdate(md5, body, (size_t)size);
        if (observe != NULL)
            observe(observe_arg, body, (size_t)size);
        EVP_DigestFinal_ex(md5, out->md5, NULL);
        EVP_MD_CTX_free(md5);
        if ((ret = write_inline(c, set, body, size, out)) != 0)
            return ret;
        for (uint32_t i = 0; i < width; i++)
            out->ncommitted += out->committed[i];
        return out->ncommitted >= gw_set_write_quorum(set)
                   ? 0
                   : gw_quorum_error(out->slot_err, width, gw_set_write_quorum(set));
    }

    size_t max_block = ec_block_len(&g, size, 0);
    if ((pad = malloc((size_t)k * max_block)) == NULL || (parity = malloc((size_t)set->m * max_block)) == NULL)
        goto fail;
    gw_set_fanout(set, create_task, &w);

    uint64_t nstripes = ec_stripe_count(&g, size);
    for (uint64_t s = 0; s < nstripes; s++) {
        size_t len = ec_stripe_len(&g, size, s), block = ec_block_len(&g, size, s);
        const uint8_t *src_bytes = src.next(src.arg, s * g.stripe_size, len);
        if (src_bytes == NULL) {
            ret = GW_EIO;
            goto fail;
        }
        const uint8_t *data[16];
        uint8_t *par[16];

        EVP_DigestUpdate(md5, src_bytes, len);
        if (observe != NULL)
            observe(observe_arg, src_bytes, len);
        if (len == (size_t)block * k) {
            for (uint32_t i = 0; i < k; i++)
                data[i] = src_bytes + (size_t)i * block;
        } else {
            uint8_t *blocks[16];
            for (uint32_t i = 0; i < k; i++)
                blocks[i] = pad + (size_t)i * block;
            ec_split(codec, src_bytes, len, block, blocks);
            for (uint32_t i = 0; i < k; i++)
                data[i] = blocks[i];
        }
        for (uint32_t i = 0; i < set->m; i++)
            par[i] = parity + (size_t)i * block;
        ec_encode(codec, block, data, par);
        for (uint32_t i = 0; i < width; i++) {
            uint32_t slot = distribution[i];
            if (w.writers[slot] == NULL)
                continue;
            const uint8_t *blk = i < k ? data[i] : par[i - k];
            if ((w.results[slot] = store_client_shard_append(w.writers[slot], blk, block)) != 0) {
                store_client_shard_abort(w.writers[slot]);
                w.writers[slot] = NULL;
                gw_log(GW_LOG_WARN, "event=shard_append_failed drive=%s err=%d", set->drives[slot]->path,
                       w.results[slot]);
            }
        }
    }
    EVP_DigestFinal_ex(md5, out->md5, NULL);
    gw_set_fanout(set, commit_task, &w);
    for (uint32_t slot = 0; slot < width; slot++) {
        out->committed[slot] = w.results[slot] == 0;
        out->slot_err[slot] = w.results[slot];
        out->ncommitted += out->committed[slot];
    }
    /* A slot's result is its first failure: create, an append or the commit. */
    ret = out->ncommitted >= gw_set_write_quorum(set) ? 0 : gw_quorum_error(w.results, width, gw_set_write_quorum(set));
    if (ret != 0)
        gw_data_remove(c, out);

fail:
    for (uint32_t slot = 0; slot < width; slot++)
        if (w.writers[slot] != NULL)
            store_client_shard_abort(w.writers[slot]);
    EVP_MD_CTX_free(md5);
    free(pad);
    free(parity);
    return ret;
}

typedef struct {
    gw_data_t *data;
} data_remove_t;

static void remove_task(void *arg, size_t slot)
{
    gw_data_t *d = ((data_remove_t *)arg)->data;
    store_client_t *drive = d->set->drives[slot]->client;
    if (drive != NULL && !d->is_inline)
        store_client_shard_delete(drive, d->data_id,
                                  shard_of_slot(d->distribution, gw_set_width(d->set), (uint32_t)slot));
}

void gw_data_remove(gw_cluster_t *c, gw_data_t *d)
{
    data_remove_t r = {d};
    if (!d->is_inline)
        gw_set_fanout(d->set, remove_task, &r);
}

void gw_data_dispose(gw_data_t *d)
{
    free(d->inline_buf);
    d->inline_buf = NULL;
}

/* ---------------------------------------------------------------- commit */

typedef struct {
    gw_set_t *set;
    const meta_object_t *rec;
    const gw_data_t *data;
    int results[16];
} commit_t;

static void record_put_task(void *arg, size_t slot)
{
    commit_t *cm = arg;
    store_client_t *d = cm->set->drives[slot]->client;
    meta_object_t r = *cm->rec;

    if (d == NULL || (cm->data != NULL && !cm->data->committed[slot])) {
        /* a drive that refused the shard for lack of space counts as full for the record too */
        cm->results[slot] = d != NULL && cm->data->slot_err[slot] != 0 ? cm->data->slot_err[slot] : STORE_EIO;
        return;
    }
    r.shard_index = shard_of_slot(r.distribution, gw_set_width(cm->set), (uint32_t)slot);
    if (cm->data != NULL && cm->data->is_inline) {
        r.inline_data.base = (const char *)cm->data->inline_buf + (size_t)r.shard_index * cm->data->inline_len;
        r.inline_data.len = cm->data->inline_len;
    }
    cm->results[slot] = store_client_object_put(d, &r);
}

/* Pruning the versions a write replaced happens after the write is acknowledged, without the
 * client waiting for it: every drive gets a job holding its own reference to one copy of the
 * record; the last job to finish frees it. A prune that never runs (crash) leaves an older
 * version beside the newer one, which readers ignore and the next write or delete removes. */
typedef struct prune_batch prune_batch_t;

typedef struct {
    gw_job_t job;
    prune_batch_t *batch;
    store_client_t *client;
} prune_job_t;

struct prune_batch {
    atomic_int refs;
    meta_buf_t raw;
    meta_object_t rec;
    prune_job_t jobs[16];
};

static void prune_run(gw_job_t *job)
{
    prune_job_t *pj = (prune_job_t *)job;
    prune_batch_t *b = pj->batch;
    store_client_object_prune(pj->client, &b->rec);
    if (atomic_fetch_sub(&b->refs, 1) == 1) {
        meta_buf_dispose(&b->raw);
        free(b);
    }
}

static void prune_later(gw_set_t *set, const meta_object_t *rec, const int *results)
{
    uint32_t width = gw_set_width(set), n = 0;
    prune_batch_t *b = calloc(1, sizeof(*b));
    /* the copy is the encoded record decoded again: it owns every byte it points to */
    if (b == NULL || meta_object_encode(rec, &b->raw) != 0 ||
        meta_object_decode(b->raw.base, b->raw.len, &b->rec) != 0) {
        if (b != NULL)
            meta_buf_dispose(&b->raw);
        free(b);
        return;
    }
    for (uint32_t slot = 0; slot < width; slot++)
        n += results[slot] == 0 && set->drives[slot]->client != NULL;
    if (n == 0) {
        meta_buf_dispose(&b->raw);
        free(b);
        return;
    }
    atomic_init(&b->refs, (int)n);
    for (uint32_t slot = 0, i = 0; slot < width; slot++) {
        if (results[slot] != 0 || set->drives[slot]->client == NULL)
            continue;
        b->jobs[i] = (prune_job_t){.job = {.run = prune_run}, .batch = b, .client = set->drives[slot]->client};
        gw_lane_submit(set->drives[slot]->lane, &b->jobs[i].job);
        i++;
    }
}

int gw_object_commit(gw_cluster_t *c, gw_set_t *set, const meta_object_t *rec, const gw_data_t *data)
{
    commit_t cm = {.set = set, .rec = rec, .data = data};
    uint32_t ok = 0, stale = 0, width = gw_set_width(set);

    gw_set_fanout(set, record_put_task, &cm);
    for (uint32_t slot = 0; slot < width; slot++) {
        if (cm.results[slot] == 0)
            ok++;
        else if (cm.results[slot] == STORE_ESTALE)
            stale++;
        else if (set->drives[slot]->client != NULL)
            gw_log(GW_LOG_WARN, "event=record_write_failed drive=%s err=%d", set->drives[slot]->path, cm.results[slot]);
    }
    /* Drives that already hold a newer version of the key absorbed this one: for the client the
     * write happened and was overwritten at once (last writer wins), but they do not hold it, so
     * it is no reason to prune anything. */
    if (ok + stale < gw_set_write_quorum(set))
        return gw_quorum_error(cm.results, width, gw_set_write_quorum(set));
    if (ok + stale < width)
        gw_heal_note(c->healer, rec->bucket, rec->key); /* the drives that missed it get it later */
    /* Only now, with the new version durable on a quorum, may older null versions go. */
    if (ok >= gw_set_write_quorum(set))
        prune_later(set, rec, cm.results);
    return 0;
}

/* ---------------------------------------------------------------- lookup and read */

/* Versions of a key read from each drive: a drive may hold a new version beside the one it
 * replaces until the prune, and both must count, or a key being overwritten would vanish for
 * readers while the new version has reached only some drives. */
#define LOOKUP_VERSIONS 4

struct gw_object {
    gw_cluster_t *cluster;
    gw_set_t *set;
    void *vraws[16][LOOKUP_VERSIONS];
    meta_object_t vrecs[16][LOOKUP_VERSIONS];
    uint32_t nv[16];
    meta_object_t recs[16]; /* per slot: its record of the chosen version (when agree) */
    int found[16];          /* per slot: 0 when the drive answered (with or without versions), else the error */
    uint8_t agree[16];      /* per slot: holds the chosen version */
    int chosen;             /* slot whose record is returned */
    uint8_t *inline_data;   /* decoded bytes of an inline object */
    /* scratch for one stripe: k+m blocks */
    uint8_t *stripe;
    size_t stripe_block;
    uint64_t cached_part, cached_stripe; /* stripe held in `stripe` (UINT64_MAX: none) */
    uint8_t *decoded;                    /* k * block of the cached stripe, data order */
};

typedef struct {
    gw_object_t *o;
    meta_bytes_t bucket, key;
    const uint8_t *vid;
} lookup_t;

typedef struct {
    gw_object_t *o;
    size_t slot;
    const uint8_t *vid;
} version_collect_t;

static int collect_version(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    version_collect_t *vc = arg;
    gw_object_t *o = vc->o;
    uint32_t n = o->nv[vc->slot];
    void *copy;

    if (n == LOOKUP_VERSIONS)
        return 1;
    if ((copy = malloc(vlen > 0 ? vlen : 1)) == NULL)
        return -1;
    memcpy(copy, val, vlen);
    if (meta_object_decode(copy, vlen, &o->vrecs[vc->slot][n]) != 0 ||
        (vc->vid != NULL && memcmp(o->vrecs[vc->slot][n].vid, vc->vid, META_ID_LEN) != 0)) {
        free(copy); /* damaged (the healer's business) or another version */
        return 0;
    }
    o->vraws[vc->slot][n] = copy;
    o->nv[vc->slot] = n + 1;
    return 0;
}

static void lookup_task(void *arg, size_t slot)
{
    lookup_t *l = arg;
    store_client_t *d = l->o->set->drives[slot]->client;
    version_collect_t vc = {l->o, slot, l->vid};
    meta_key_t prefix;

    if (d == NULL) {
        l->o->found[slot] = STORE_EIO;
        return;
    }
    if (meta_key_object_versions(l->bucket, l->key, &prefix) != 0) {
        l->o->found[slot] = STORE_EINVAL;
        return;
    }
    l->o->found[slot] = store_client_record_scan(d, &prefix, NULL, 0, collect_version, &vc);
}

static int same_version(const meta_object_t *a, const meta_object_t *b)
{
    if (a->mtime_ns != b->mtime_ns || memcmp(a->vid, b->vid, META_ID_LEN) != 0 || a->flags != b->flags ||
        a->size != b->size || a->part_count != b->part_count)
        return 0;
    if (a->part_count == 0)
        return 1;
    meta_part_ref_t pa, pb;
    if (meta_object_part(a, 0, &pa) != 0 || meta_object_part(b, 0, &pb) != 0)
        return 0;
    return memcmp(pa.data_id, pb.data_id, META_ID_LEN) == 0;
}

static int newer(const meta_object_t *a, const meta_object_t *b)
{
    if (a->mtime_ns != b->mtime_ns)
        return a->mtime_ns > b->mtime_ns;
    return memcmp(a->vid, b->vid, META_ID_LEN) > 0;
}

static int decode_inline(gw_object_t *o);

int gw_object_lookup(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid, gw_object_t **out)
{
    uint8_t dist[16];
    gw_object_t *o = calloc(1, sizeof(*o));
    int ret;

    if (o == NULL)
        return GW_ENOMEM;
    o->cluster = c;
    o->set = gw_cluster_place(c, bucket, key, dist);
    o->chosen = -1;
    o->cached_stripe = UINT64_MAX;
    lookup_t l = {o, bucket, key, vid};
    gw_set_fanout_reads(o->set, lookup_task, &l);

    uint32_t width = gw_set_width(o->set), answered = 0, most = 0;
    const meta_object_t *best = NULL;
    for (uint32_t s = 0; s < width; s++)
        answered += o->found[s] == 0;
    for (uint32_t s = 0; s < width; s++) {
        for (uint32_t v = 0; v < o->nv[s]; v++) {
            const meta_object_t *cand = &o->vrecs[s][v];
            if (best != NULL && !newer(cand, best))
                continue;
            uint32_t count = 0;
            for (uint32_t t = 0; t < width; t++)
                for (uint32_t w = 0; w < o->nv[t]; w++)
                    count += same_version(cand, &o->vrecs[t][w]);
            if (count >= o->set->k)
                best = cand;
            else if (count > most)
                most = count;
        }
    }
    if (best == NULL) {
        /* Absent only if no version could reach k even with every silent drive holding it:
         * otherwise the drives that did not answer may hold what was acknowledged (503). */
        ret = most + (width - answered) >= o->set->k ? GW_EQUORUM : GW_ENOENT;
        goto fail;
    }
    for (uint32_t s = 0; s < width; s++) {
        for (uint32_t v = 0; v < o->nv[s]; v++) {
            if (same_version(&o->vrecs[s][v], best)) {
                o->recs[s] = o->vrecs[s][v];
                o->agree[s] = 1;
                if (o->chosen < 0)
                    o->chosen = (int)s;
            }
        }
    }
    if ((o->recs[o->chosen].flags & META_OBJ_INLINE) && (ret = decode_inline(o)) != 0)
        goto fail;
    *out = o;
    return 0;

fail:
    gw_object_free(o);
    return ret;
}

const meta_object_t *gw_object_record(const gw_object_t *o)
{
    return &o->recs[o->chosen];
}

void gw_object_free(gw_object_t *o)
{
    if (o == NULL)
        return;
    for (int s = 0; s < 16; s++)
        for (uint32_t v = 0; v < o->nv[s]; v++)
            free(o->vraws[s][v]);
    free(o->inline_data);
    free(o->stripe);
    free(o->decoded);
    free(o);
}

static void report_damage(gw_object_t *o, uint32_t slot, int err)
{
    const meta_object_t *r = gw_object_record(o);
    o->set->drives[slot]->errors++;
    gw_heal_note(o->cluster->healer, r->bucket, r->key);
    gw_log(GW_LOG_WARN, "event=heal_needed bucket=%.*s key=%.*s drive=%s err=%d", (int)r->bucket.len, r->bucket.base,
           (int)r->key.len, r->key.base, o->set->drives[slot]->path, err);
}

/* Rebuilds the k data blocks of one stripe in o->decoded (data order). fetch(i, buf) reads
 * shard i's block; shards are tried in order of preference: data first, then parity. */
typedef int (*fetch_fn)(gw_object_t *o, const meta_part_ref_t *part, uint64_t off, size_t block, uint32_t shard,
                        uint8_t *buf);

static int decode_stripe(gw_object_t *o, const meta_part_ref_t *part, uint64_t off, size_t block, fetch_fn fetch)
{
    const meta_object_t *r = gw_object_record(o);
    uint32_t k = r->ec_k, width = r->ec_k + r->ec_m, have = 0;
    uint8_t present[16] = {0};
    uint8_t *shards[16];
    const ec_codec_t *codec;

    if (ec_codec_get(r->ec_k, r->ec_m, &codec) != 0)
        return GW_EIO;
    if (o->stripe_block < block) {
        free(o->stripe);
        free(o->decoded);
        o->stripe = malloc((size_t)width * block);
        o->decoded = malloc((size_t)k * block);
        o->stripe_block = block;
        if (o->stripe == NULL || o->decoded == NULL) {
            o->stripe_block = 0;
            return GW_ENOMEM;
        }
    }
    for (uint32_t i = 0; i < width; i++)
        shards[i] = o->stripe + (size_t)i * block;
    for (uint32_t i = 0; i < width && have < k; i++) {
        uint32_t slot = r->distribution[i];
        if (!o->agree[slot])
            continue;
        int err = fetch(o, part, off, block, i, shards[i]);
        if (err == 0) {
            present[i] = 1;
            have++;
        } else {
            report_damage(o, slot, err);
        }
    }
    if (have < k)
        return GW_EIO;
    int missing_data = 0;
    for (uint32_t i = 0; i < k; i++)
        missing_data |= !present[i];
    if (missing_data && ec_reconstruct(codec, block, shards, present) != 0)
        return GW_EIO;
    memcpy(o->decoded, o->stripe, (size_t)k * block);
    return 0;
}

static int fetch_inline(gw_object_t *o, const meta_part_ref_t *part, uint64_t off, size_t block, uint32_t shard,
                        uint8_t *buf)
{
    const meta_object_t *r = gw_object_record(o);
    for (uint32_t s = 0; s < r->ec_k + r->ec_m; s++) {
        if (o->agree[s] && o->recs[s].shard_index == shard) {
            if (o->recs[s].inline_data.len != block)
                return STORE_ECORRUPT;
            memcpy(buf, o->recs[s].inline_data.base, block);
            return 0;
        }
    }
    return STORE_ENOENT;
}

static int decode_inline(gw_object_t *o)
{
    const meta_object_t *r = gw_object_record(o);
    ec_geometry_t g = {r->ec_k, r->ec_m, r->stripe_size};
    int ret;

    if ((o->inline_data = malloc(r->size > 0 ? r->size : 1)) == NULL)
        return GW_ENOMEM;
    if (r->size == 0)
        return 0;
    size_t block = ec_block_len(&g, r->size, 0);
    if ((ret = decode_stripe(o, NULL, 0, block, fetch_inline)) != 0)
        return ret;
    memcpy(o->inline_data, o->decoded, r->size);
    return 0;
}

static int fetch_shard(gw_object_t *o, const meta_part_ref_t *part, uint64_t off, size_t block, uint32_t shard,
                       uint8_t *buf)
{
    const meta_object_t *r = gw_object_record(o);
    store_client_t *d = o->set->drives[r->distribution[shard]]->client;
    if (d == NULL)
        return STORE_EIO;
    return store_client_shard_read(d, part->data_id, shard, off, block, buf);
}

int gw_object_read(gw_object_t *o, uint64_t off, size_t len, void *buf)
{
    const meta_object_t *r = gw_object_record(o);
    uint8_t *dst = buf;
    uint64_t part_start = 0;
    int ret;

    if (off + len > r->size)
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
            if (o->cached_part != p || o->cached_stripe != stripe) {
                size_t block = ec_block_len(&g, part.size, stripe);
                o->cached_stripe = UINT64_MAX;
                if ((ret = decode_stripe(o, &part, ec_shard_offset(&g, part.size, stripe), block, fetch_shard)) != 0)
                    return ret;
                o->cached_part = p;
                o->cached_stripe = stripe;
            }
            memcpy(dst, o->decoded + within, n);
            dst += n;
            off += n;
            len -= n;
        }
        part_start += part.size;
    }
    return len == 0 ? 0 : GW_EIO;
}

typedef struct {
    const gw_object_t *o;
    int results[16];
} remove_t;

static void object_remove_task(void *arg, size_t slot)
{
    remove_t *rm = arg;
    const gw_object_t *o = rm->o;
    store_client_t *d = o->set->drives[slot]->client;
    const meta_object_t *r = gw_object_record(o);
    rm->results[slot] = d == NULL ? STORE_EIO : store_client_object_delete(d, r->bucket, r->key, r->vid);
}

int gw_object_remove(gw_cluster_t *c, const gw_object_t *o)
{
    remove_t rm = {.o = o};
    uint32_t ok = 0;
    gw_set_fanout(o->set, object_remove_task, &rm);
    for (uint32_t s = 0; s < gw_set_width(o->set); s++)
        ok += rm.results[s] == 0 || rm.results[s] == STORE_ENOENT;
    /* Deletes are admitted on a full drive; one whose database stopped on a full disk and
     * cannot reopen yet refuses them too, and that is no reason to retry at once. */
    return ok >= gw_set_write_quorum(o->set)
               ? 0
               : gw_quorum_error(rm.results, gw_set_width(o->set), gw_set_write_quorum(o->set));
}

typedef struct {
    gw_set_t *set;
    meta_bytes_t bucket, key;
} discard_t;

static void discard_task(void *arg, size_t slot)
{
    discard_t *dc = arg;
    store_client_t *d = dc->set->drives[slot]->client;
    if (d != NULL)
        store_client_object_delete(d, dc->bucket, dc->key, NULL);
}

void gw_object_discard(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t key)
{
    uint8_t dist[16];
    discard_t dc = {gw_cluster_place(c, bucket, key, dist), bucket, key};
    gw_set_fanout(dc.set, discard_task, &dc);
}

/* ---------------------------------------------------------------- heal */

typedef struct {
    gw_object_t *o;
    uint8_t need[16];
    int results[16];
} heal_t;

/* Checks one drive: does it hold the version, and are its shards whole? */
static void heal_check_task(void *arg, size_t slot)
{
    heal_t *h = arg;
    gw_object_t *o = h->o;
    const meta_object_t *r = gw_object_record(o);
    store_client_t *d = o->set->drives[slot]->client;
    meta_part_ref_t part;

    if (d == NULL || o->found[slot] != 0) {
        h->results[slot] = STORE_EUNREACHABLE;
        return;
    }
    if (!o->agree[slot]) {
        h->need[slot] = 1;
        return;
    }
    if (r->flags & (META_OBJ_INLINE | META_OBJ_DELETE_MARKER))
        return;
    uint32_t shard = shard_of_slot(r->distribution, gw_set_width(o->set), (uint32_t)slot);
    for (uint32_t p = 0; p < r->part_count && !h->need[slot]; p++) {
        if (meta_object_part(r, p, &part) != 0)
            continue;
        int ret = store_client_shard_verify(d, part.data_id, shard);
        if (ret == STORE_EUNREACHABLE || ret == STORE_EIO) {
            h->results[slot] = ret;
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
                                      shard_of_slot(r->distribution, width, slot), &writers[slot]) != 0)
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

int gw_object_heal(gw_object_t *o, uint32_t *repaired, uint32_t *pending)
{
    const meta_object_t *r = gw_object_record(o);
    uint32_t width = gw_set_width(o->set);
    heal_t h = {.o = o};
    uint8_t *inline_buf = NULL;
    size_t inline_len = 0;
    int ret = 0;

    *repaired = *pending = 0;
    gw_set_fanout(o->set, heal_check_task, &h);
    for (uint32_t slot = 0; slot < width; slot++)
        *pending += h.results[slot] != 0;
    int any = 0;
    for (uint32_t slot = 0; slot < width; slot++)
        any |= h.need[slot];
    if (!any)
        return 0;

    if (r->flags & META_OBJ_INLINE) {
        const ec_codec_t *codec;
        ec_geometry_t g = {r->ec_k, r->ec_m, r->stripe_size};
        inline_len = r->size == 0 ? 0 : ec_block_len(&g, r->size, 0);
        if (ec_codec_get(r->ec_k, r->ec_m, &codec) != 0 ||
            (inline_buf = calloc(width, inline_len ? inline_len : 1)) == NULL)
            return GW_ENOMEM;
        if (inline_len > 0) {
            uint8_t *b[16];
            for (uint32_t i = 0; i < width; i++)
                b[i] = inline_buf + (size_t)i * inline_len;
            ec_split(codec, o->inline_data, r->size, inline_len, b);
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
        rec.shard_index = shard_of_slot(r->distribution, width, slot);
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
