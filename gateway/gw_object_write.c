/* gw_object_write.c — the write side of the object engine: an object's data, its records, the
 * prune of what it replaced, and removal.
 *
 * Data: for each stripe of the body, MD5 (and the caller's observer) see the bytes on the
 * cluster's hash lane (a chain per body: the stripes in order, one at a time) while, on the
 * caller's thread, ec_split cuts them into k blocks (full stripes point straight into the body;
 * only the short last stripe is copied to be padded), ec_encode adds m parity blocks, and block i
 * is appended to the shard file of shard i on slot distribution[i]. A source that can hold
 * several stripes (a streamed body: gw_body.h) keeps each until it is hashed, so the caller's
 * thread goes on to the next stripes while MD5 (0.7 GB/s a core, the costliest pass) runs behind
 * it, and a body takes about its MD5's time rather than the sum, stripe by stripe, of the slower
 * of the two; a source that holds one gets it back only once it is hashed. Appends go to the
 * page cache, whose writeback the drive engine starts as they come; fdatasync + rename run in
 * parallel on the drives' lanes at commit.
 *
 * Records: written on every drive that committed its shard (local drives: queued by this thread
 * in each drive's group commit, one wait for all; network drives: on their lanes); the write is
 * acknowledged once a write quorum holds it (gw_quorum_commit), and only then are older null
 * versions pruned, in the background. Drives that missed the write are reported to the
 * cluster's repair sink.
 */
#include "gateway/gw_object_internal.h"
#include "gateway/gw_cleanup.h"
#include "erasure/erasure.h"
#include "common/log.h"
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- data */

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
    uint32_t shard = gw_shard_of_slot(w->distribution, gw_set_width(w->set), (uint32_t)slot);
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
    /* the whole body is there: any number of stripes stay valid, nothing to give back */
    return (gw_source_t){.next = memory_next, .arg = (void *)base, .next_hold = memory_next, .hold = 4};
}

/* The hash chain of one body: MD5 and the caller's observer see its stripes in order, one after
 * the other, on the cluster's hash lane, while the writer's thread encodes and appends the same
 * stripe and the next ones. A job runs while stripes are queued and ends when none is; the writer
 * submits a new one when it queues a stripe to an idle chain. So a body's hashing never waits for
 * its writes (only for its bytes), and no lane thread is held while the body is still arriving. */
#define HASH_QUEUE 8 /* stripes queued at most: a source's hold is smaller */

typedef struct {
    yc_job_t job;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    EVP_MD_CTX *md5;
    gw_observe_fn observe;
    void *observe_arg;
    const uint8_t *bytes[HASH_QUEUE];
    size_t len[HASH_QUEUE];
    uint64_t queued, hashed; /* stripes given to the chain, and hashed */
    int running;             /* a job is on the lane (or about to be) */
    int started;             /* mu and cv made: the chain must be waited for and torn down */
} hash_chain_t;

static void hash_run(yc_job_t *job)
{
    hash_chain_t *h = (hash_chain_t *)job;

    pthread_mutex_lock(&h->mu);
    while (h->hashed < h->queued) {
        unsigned i = (unsigned)(h->hashed % HASH_QUEUE);
        const uint8_t *bytes = h->bytes[i];
        size_t len = h->len[i];
        pthread_mutex_unlock(&h->mu);
        if (h->md5 != NULL)
            EVP_DigestUpdate(h->md5, bytes, len);
        if (h->observe != NULL)
            h->observe(h->observe_arg, bytes, len);
        pthread_mutex_lock(&h->mu);
        h->hashed++;
        pthread_cond_signal(&h->cv);
    }
    h->running = 0;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static void hash_queue(gw_cluster_t *c, hash_chain_t *h, const uint8_t *bytes, size_t len)
{
    pthread_mutex_lock(&h->mu);
    if (h->md5 == NULL && h->observe == NULL) { /* nothing to hash: counted, no hand-off */
        h->queued++;
        h->hashed++;
        pthread_mutex_unlock(&h->mu);
        return;
    }
    unsigned i = (unsigned)(h->queued % HASH_QUEUE);
    h->bytes[i] = bytes;
    h->len[i] = len;
    h->queued++;
    int start = !h->running;
    h->running = 1;
    pthread_mutex_unlock(&h->mu);
    if (start) {
        h->job = (yc_job_t){.run = hash_run};
        yc_lane_submit(c->hash_lane, &h->job);
    }
}

/* Waits until the chain hashed n stripes; n = UINT64_MAX: until its job ended (nothing of the
 * chain runs once this returns). */
static void hash_wait(hash_chain_t *h, uint64_t n)
{
    pthread_mutex_lock(&h->mu);
    if (n == UINT64_MAX)
        while (h->running)
            pthread_cond_wait(&h->cv, &h->mu);
    else
        while (h->hashed < n)
            pthread_cond_wait(&h->cv, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

/* Encodes one stripe (len bytes; block bytes a shard) and appends its blocks to the shards. */
static void stripe_encode_append(shard_write_t *w, const ec_codec_t *codec, const uint8_t *bytes, size_t len,
                                 size_t block, uint8_t *pad, uint8_t *parity)
{
    gw_set_t *set = w->set;
    uint32_t k = set->k, width = gw_set_width(set);
    const uint8_t *data[16];
    uint8_t *par[16];

    if (len == block * k) {
        for (uint32_t i = 0; i < k; i++)
            data[i] = bytes + (size_t)i * block;
    } else {
        uint8_t *blocks[16] = {NULL};
        for (uint32_t i = 0; i < k; i++)
            blocks[i] = pad + (size_t)i * block;
        ec_split(codec, bytes, len, block, blocks);
        for (uint32_t i = 0; i < k; i++)
            data[i] = blocks[i];
    }
    for (uint32_t i = 0; i < set->m; i++)
        par[i] = parity + (size_t)i * block;
    ec_encode(codec, block, data, par);
    /* the blocks go out to every drive at once (network drives: one round trip per stripe, not
     * one per shard; local ones are appended in turn) */
    store_batch_call_t calls[16];
    uint32_t slots[16], n = 0;
    for (uint32_t i = 0; i < width; i++) {
        uint32_t slot = w->distribution[i];
        if (w->writers[slot] == NULL)
            continue;
        calls[n] =
            (store_batch_call_t){.writer = w->writers[slot], .block = i < k ? data[i] : par[i - k], .len = block};
        slots[n++] = slot;
    }
    store_client_shard_append_batch(calls, n);
    for (uint32_t j = 0; j < n; j++) {
        uint32_t slot = slots[j];
        if ((w->results[slot] = calls[j].ret) != 0) {
            store_client_shard_abort(w->writers[slot]);
            w->writers[slot] = NULL;
            yc_log(YC_LOG_WARN, "event=shard_append_failed drive=%s err=%s", set->drives[slot]->path,
                   yc_errname(w->results[slot]));
        }
    }
}

int gw_data_write(gw_cluster_t *c, gw_set_t *set, const uint8_t distribution[16], gw_source_t src, uint64_t size,
                  int allow_inline, gw_observe_fn observe, void *observe_arg, gw_data_t *out)
{
    uint32_t width = gw_set_width(set), k = set->k;
    ec_geometry_t g = {set->k, set->m, c->stripe_size};
    shard_write_t w = {.set = set, .distribution = distribution};
    hash_chain_t h = {.observe = observe, .observe_arg = observe_arg};
    const ec_codec_t *codec;
    uint8_t *pad = NULL, *parity = NULL;
    EVP_MD_CTX *md5 = NULL;
    int ret = GW_ENOMEM;

    memset(out, 0, sizeof(*out));
    out->set = set;
    memcpy(out->distribution, distribution, 16);
    out->size = size;
    yc_random_id(out->data_id);
    w.data_id = out->data_id;
    if (ec_codec_get(set->k, set->m, &codec) != 0)
        return GW_EINVAL;

    /* hash first for inline objects (tiny); large ones are hashed stripe by stripe below */
    if ((md5 = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(md5, EVP_md5(), NULL) != 1)
        goto fail;
    /* a size known at the end: a first stripe shorter than a stripe is the whole object, which
     * may be inline; else the stripes are taken as they come and the last short one ends it */
    const uint8_t *first = NULL;
    size_t first_len = 0;
    int unknown = size == GW_SIZE_UNKNOWN;
    if (unknown) {
        if ((first = src.next_upto(src.arg, 0, g.stripe_size, &first_len)) == NULL) {
            ret = GW_EIO;
            goto fail;
        }
        if (first_len < g.stripe_size) {
            unknown = 0;
            size = out->size = first_len;
        }
    }
    if (allow_inline && size <= c->inline_max) {
        const uint8_t *body = first != NULL ? first
                              : size > 0    ? src.next(src.arg, 0, (size_t)size)
                                            : (const uint8_t *)"";
        if (body == NULL) {
            ret = GW_EIO;
            goto fail;
        }
        if (!src.skip_md5) {
            EVP_DigestUpdate(md5, body, (size_t)size);
            EVP_DigestFinal_ex(md5, out->md5, NULL);
        }
        if (observe != NULL)
            observe(observe_arg, body, (size_t)size);
        EVP_MD_CTX_free(md5);
        if ((ret = write_inline(c, set, body, size, out)) != 0)
            return ret;
        for (uint32_t i = 0; i < width; i++)
            out->ncommitted += out->committed[i];
        return gw_quorum_write_result(out->slot_err, width, gw_set_write_quorum(set));
    }

    size_t max_block = ec_block_len(&g, unknown ? g.stripe_size : size, 0);
    if ((pad = malloc((size_t)k * max_block)) == NULL || (parity = malloc((size_t)set->m * max_block)) == NULL)
        goto fail;
    gw_set_fanout(set, create_task, &w);

    /* Stripes held: taken from the source and not given back yet. A source that holds one (or a
     * form's file, whose size comes at its end) gives the last back itself at its next pull: its
     * stripe must be hashed before that. One that holds more keeps a stripe until it is hashed,
     * so this thread encodes and appends the next ones meanwhile. */
    unsigned hold = first == NULL && src.next_hold != NULL && src.hold > 1 ? src.hold : 1;
    if (hold > HASH_QUEUE)
        hold = HASH_QUEUE;
    uint64_t held_from = 0; /* the oldest stripe held */
    h.md5 = src.skip_md5 ? NULL : md5;
    pthread_mutex_init(&h.mu, NULL);
    pthread_cond_init(&h.cv, NULL);
    h.started = 1;
    uint64_t nstripes = unknown ? UINT64_MAX : ec_stripe_count(&g, size), total = 0;
    for (uint64_t s = 0; s < nstripes; s++) {
        size_t len, block;
        const uint8_t *src_bytes;
        if (s - held_from >= hold) {
            hash_wait(&h, held_from + 1);
            if (hold > 1 && src.release != NULL)
                src.release(src.arg);
            held_from++;
        }
        if (s == 0 && first != NULL) {
            src_bytes = first; /* taken above */
            len = first_len;
        } else if (unknown) {
            src_bytes = src.next_upto(src.arg, s * g.stripe_size, g.stripe_size, &len);
        } else {
            len = ec_stripe_len(&g, size, s);
            src_bytes =
                hold > 1 ? src.next_hold(src.arg, s * g.stripe_size, len) : src.next(src.arg, s * g.stripe_size, len);
        }
        if (src_bytes == NULL) {
            ret = GW_EIO;
            goto fail;
        }
        if (unknown && len == 0)
            break; /* the end came at a stripe's boundary */
        /* a short stripe is the last: its blocks are as if the size had been known */
        block = ec_block_len(&g, unknown ? s * g.stripe_size + len : size, s);
        total += len;
        if (unknown && len < g.stripe_size)
            nstripes = s + 1;
        /* MD5 is the costliest pass over the bytes and depends on nothing else of the stripe:
         * it runs on the hash lane while this thread encodes and appends */
        hash_queue(c, &h, src_bytes, len);
        stripe_encode_append(&w, codec, src_bytes, len, block, pad, parity);
    }
    hash_wait(&h, UINT64_MAX);
    if (hold > 1 && src.release != NULL)
        for (; held_from < h.queued; held_from++)
            src.release(src.arg);
    if (!src.skip_md5)
        EVP_DigestFinal_ex(md5, out->md5, NULL);
    out->size = total;
    gw_set_fanout(set, commit_task, &w);
    for (uint32_t slot = 0; slot < width; slot++) {
        out->committed[slot] = w.results[slot] == 0;
        out->slot_err[slot] = w.results[slot];
        out->ncommitted += out->committed[slot];
    }
    /* A slot's result is its first failure: create, an append or the commit. */
    ret = gw_quorum_write_result(w.results, width, gw_set_write_quorum(set));
    if (ret != 0)
        gw_data_remove(c, out);

fail:
    if (h.started) {
        hash_wait(&h, UINT64_MAX); /* its job reads the stripes and this frame */
        pthread_mutex_destroy(&h.mu);
        pthread_cond_destroy(&h.cv);
    }
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
    uint8_t again[16]; /* the drive did not answer: its file goes on the cleanup queue */
} data_remove_t;

static void remove_task(void *arg, size_t slot)
{
    data_remove_t *r = arg;
    gw_data_t *d = r->data;
    store_client_t *drive = d->set->drives[slot]->client;
    int ret = STORE_EIO;
    if (drive != NULL && !d->is_inline)
        ret = store_client_shard_delete(drive, d->data_id,
                                        gw_shard_of_slot(d->distribution, gw_set_width(d->set), (uint32_t)slot));
    r->again[slot] = d->committed[slot] && ret != 0 && ret != STORE_ENOENT;
}

void gw_data_remove(gw_cluster_t *c, gw_data_t *d)
{
    static const uint8_t no_record[16];
    data_remove_t r = {d};
    if (d->is_inline)
        return;
    gw_set_fanout(d->set, remove_task, &r);
    /* no record names these files (none was written): only where a drive did not answer */
    meta_object_t where = {.key = {"", 0}, .bucket = {"", 0}};
    memcpy(where.distribution, d->distribution, 16);
    gw_cleanup_queue(__atomic_load_n(&c->cleanup, __ATOMIC_ACQUIRE), d->set, &where, d->data_id, no_record, r.again);
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
    meta_object_t recs[16]; /* each drive's record, while its write is begun or sent */
} commit_t;

/* The record slot gets, into *r; 0, or why the slot gets none. */
static int record_for_slot(commit_t *cm, size_t slot, meta_object_t *r)
{
    store_client_t *d = cm->set->drives[slot]->client;

    if (d == NULL || (cm->data != NULL && !cm->data->committed[slot])) {
        /* a drive that refused the shard for lack of space counts as full for the record too */
        return d != NULL && cm->data->slot_err[slot] != 0 ? cm->data->slot_err[slot] : STORE_EIO;
    }
    *r = *cm->rec;
    r->shard_index = gw_shard_of_slot(r->distribution, gw_set_width(cm->set), (uint32_t)slot);
    if (cm->data != NULL && cm->data->is_inline) {
        r->inline_data.base = (const char *)cm->data->inline_buf + (size_t)r->shard_index * cm->data->inline_len;
        r->inline_data.len = cm->data->inline_len;
    }
    return 0;
}

/* Local drives: this thread queues the record in every drive's group commit, in slot order
 * (the order every writer takes the drives' key locks in), then waits for them all. The syncs
 * of the drives overlap as they would on their lanes, and concurrent writers share them, with
 * no thread hand-off per drive. The writes are left begun (the keys' locks held) in pending[],
 * so that once the quorum is judged record_put_end can prune from what each one wrote. */
static void record_put_queued(commit_t *cm, store_put_t **pending)
{
    uint32_t width = gw_set_width(cm->set);
    meta_waiter_t waiter;

    meta_waiter_init(&waiter);
    for (uint32_t slot = 0; slot < width; slot++)
        if ((cm->results[slot] = record_for_slot(cm, slot, &cm->recs[slot])) == 0)
            cm->results[slot] =
                store_client_object_put_begin(cm->set->drives[slot]->client, &cm->recs[slot], &waiter, &pending[slot]);
    meta_waiter_wait(&waiter); /* one wake for all drives */
    for (uint32_t slot = 0; slot < width; slot++)
        if (pending[slot] != NULL)
            cm->results[slot] = store_client_object_put_wait(cm->set->drives[slot]->client, pending[slot]);
}

/* Network drives: every drive's record request goes out before any answer is awaited
 * (store_client_object_put_batch), so the round trips overlap on this thread with no hand-off
 * to the drives' lanes and back. */
static void record_put_sent(commit_t *cm)
{
    uint32_t width = gw_set_width(cm->set), n = 0, slots[16];
    store_batch_call_t calls[16];

    for (uint32_t slot = 0; slot < width; slot++) {
        if ((cm->results[slot] = record_for_slot(cm, slot, &cm->recs[slot])) != 0)
            continue;
        calls[n] = (store_batch_call_t){.client = cm->set->drives[slot]->client, .rec = &cm->recs[slot]};
        slots[n++] = slot;
    }
    store_client_object_put_batch(calls, n);
    for (uint32_t i = 0; i < n; i++)
        cm->results[slots[i]] = calls[i].ret;
}

/* Ends the writes record_put_queued left begun; settle (the write is acknowledged and prunes):
 * each drive queues the prune of what its write replaced at once, when that has no shard files,
 * and pruned[slot] says which did (the rest go through prune_later). */
static void record_put_end(commit_t *cm, store_put_t **pending, int settle, int *pruned)
{
    for (uint32_t slot = 0; slot < gw_set_width(cm->set); slot++) {
        store_client_t *d = cm->set->drives[slot]->client;
        if (pending[slot] == NULL)
            continue;
        if (settle)
            store_client_object_put_end_settled(d, pending[slot], &pruned[slot]);
        else
            store_client_object_put_end(d, pending[slot]);
        pending[slot] = NULL;
    }
}

/* Pruning the versions a write replaced happens after the write is acknowledged, without the
 * client waiting for it: every drive gets a job holding its own reference to one copy of the
 * record; the last job to finish frees it. A prune that never runs (crash) leaves an older
 * version beside the newer one, which readers ignore and the next write or delete removes. */
typedef struct prune_batch prune_batch_t;

typedef struct {
    yc_job_t job;
    prune_batch_t *batch;
    store_client_t *client;
} prune_job_t;

struct prune_batch {
    atomic_int refs;
    uint32_t n; /* jobs[0..n): the drives to prune */
    meta_buf_t raw;
    meta_object_t rec;
    prune_job_t jobs[16];
};

static void prune_run(yc_job_t *job)
{
    prune_job_t *pj = (prune_job_t *)job;
    prune_batch_t *b = pj->batch;
    store_client_object_prune(pj->client, &b->rec);
    if (atomic_fetch_sub(&b->refs, 1) == 1) {
        meta_buf_dispose(&b->raw);
        free(b);
    }
}

/* Network drives: one job prunes every drive of the batch, its requests all sent before any
 * answer is awaited (store_client_object_prune_batch), rather than a job on each drive's lane. */
static void prune_run_sent(yc_job_t *job)
{
    prune_batch_t *b = ((prune_job_t *)job)->batch;
    store_batch_call_t calls[16];

    for (uint32_t i = 0; i < b->n; i++)
        calls[i] = (store_batch_call_t){.client = b->jobs[i].client, .rec = &b->rec};
    store_client_object_prune_batch(calls, b->n);
    meta_buf_dispose(&b->raw);
    free(b);
}

static void prune_later(gw_set_t *set, const meta_object_t *rec, const int *in_results, int light_tried)
{
    uint32_t width = gw_set_width(set), n = 0;
    int results[16];

    /* A local drive prunes versions without files at once, on this thread: a read and a write
     * queued in the drive's group commit, not waited for, cost less than a job on the drive's
     * lane; what it leaves (-EAGAIN: versions with files, whose deletion must wait for the
     * synced write) goes there. light_tried: the puts' ends did that already (record_put_end). */
    for (uint32_t slot = 0; slot < width; slot++) {
        results[slot] = in_results[slot];
        if (results[slot] == 0 && !light_tried && set->inline_reads && set->drives[slot]->client != NULL &&
            store_client_object_prune_light(set->drives[slot]->client, rec) != -EAGAIN)
            results[slot] = 1; /* done (or failed: the next write of the key prunes it) */
    }
    for (uint32_t slot = 0; slot < width; slot++)
        n += results[slot] == 0 && set->drives[slot]->client != NULL;
    if (n == 0)
        return;
    prune_batch_t *b = calloc(1, sizeof(*b));
    /* the copy is the encoded record decoded again: it owns every byte it points to */
    if (b == NULL || meta_object_encode(rec, &b->raw) != 0 ||
        meta_object_decode(b->raw.base, b->raw.len, &b->rec) != 0) {
        if (b != NULL)
            meta_buf_dispose(&b->raw);
        free(b);
        return;
    }
    atomic_init(&b->refs, (int)n);
    b->n = n;
    yc_lane_t *first = NULL;
    for (uint32_t slot = 0, i = 0; slot < width; slot++) {
        if (results[slot] != 0 || set->drives[slot]->client == NULL)
            continue;
        b->jobs[i] = (prune_job_t){.job = {.run = set->inline_reads ? prune_run : prune_run_sent},
                                   .batch = b,
                                   .client = set->drives[slot]->client};
        if (set->inline_reads)
            yc_lane_submit(set->drives[slot]->lane, &b->jobs[i].job);
        else if (first == NULL)
            first = set->drives[slot]->lane;
        i++;
    }
    if (first != NULL)
        yc_lane_submit(first, &b->jobs[0].job);
}

/* Takes a write that failed its quorum back from the drives it may have reached: their record of
 * exactly this version goes (store_client_object_takeback: a version key names its write, and
 * the null slot drops only this version, so no other version is touched). A drive out of reach keeps the record,
 * invisible (fewer than k hold it), until the cleanup queue or the healer's rule (gw_object_collect) removes it.
 * Without this, such leftovers plus drives that are down could look like a newer acknowledged write to a reader, which
 * must then answer 503 rather than risk a stale read (gw_quorum_resolve). What the take-back could not reach, and the
 * write's shard files (each deleted only once its drive answered for the record: a record must never name deleted
 * shards), go to the cleanup queue (gw_cleanup.h), which tries again with a backoff. */
typedef struct {
    gw_set_t *set;
    const meta_object_t *rec;
    const int *results;
    uint8_t again[16]; /* the record may still be there: for the cleanup queue (gw_cleanup.h) */
} rollback_t;

static void rollback_task(void *arg, size_t slot)
{
    rollback_t *rb = arg;
    store_client_t *d = rb->set->drives[slot]->client;
    int ret = STORE_EIO;
    if (rb->results[slot] == STORE_ESTALE || rb->results[slot] == STORE_EUNREACHABLE)
        return; /* an absorbed write stored nothing; an unreachable drive was sent nothing */
    if (d != NULL)
        ret = store_client_object_takeback(d, rb->rec);
    rb->again[slot] = ret != 0 && ret != STORE_ENOENT;
}

/* Queues what the take-back could not remove yet, and the shard files of the write. */
static void rollback_later(gw_cluster_t *c, rollback_t *rb, const gw_data_t *data)
{
    gw_cleanup_t *cl = __atomic_load_n(&c->cleanup, __ATOMIC_ACQUIRE);
    int files = data != NULL && !data->is_inline;
    gw_cleanup_queue(cl, rb->set, rb->rec, files ? data->data_id : NULL, rb->again, files ? data->committed : NULL);
}

int gw_object_commit(gw_cluster_t *c, gw_set_t *set, const meta_object_t *rec, const gw_data_t *data)
{
    commit_t cm; /* not zeroed whole: recs[] (16 records, 6 KiB) is written slot by slot before use */
    store_put_t *pending[16] = {NULL};
    int pruned[16] = {0}, rest[16];
    uint32_t width = gw_set_width(set);
    int prune, heal, ret;

    cm.set = set;
    cm.rec = rec;
    cm.data = data;
    memset(cm.results, 0, sizeof(cm.results));
    if (set->inline_reads)
        record_put_queued(&cm, pending); /* every drive is local */
    else
        record_put_sent(&cm);
    for (uint32_t slot = 0; slot < width; slot++)
        if (cm.results[slot] != 0 && cm.results[slot] != STORE_ESTALE && set->drives[slot]->client != NULL)
            yc_log(YC_LOG_WARN, "event=record_write_failed drive=%s err=%s", set->drives[slot]->path,
                   yc_errname(cm.results[slot]));
    /* Drives that hold a newer version absorbed this one (STORE_ESTALE): acknowledged, but no
     * reason to prune anything there (gw_quorum_commit). */
    ret = gw_quorum_commit(cm.results, width, gw_set_write_quorum(set), &prune, &heal);
    /* the keys' locks go here: the take-back below takes them again */
    record_put_end(&cm, pending, ret == 0 && prune, pruned);
    if (ret != 0) {
        rollback_t rb = {.set = set, .rec = rec, .results = cm.results};
        gw_set_fanout(set, rollback_task, &rb);
        rollback_later(c, &rb, data);
        return ret;
    }
    if (heal)
        gw_object_report(c, rec->bucket, rec->key); /* the drives that missed it get it later */
    if (prune) {
        for (uint32_t slot = 0; slot < width; slot++)
            rest[slot] = pruned[slot] ? 1 : cm.results[slot]; /* 1: done by the put's end */
        prune_later(set, rec, rest, set->inline_reads);       /* what is left has files: the lanes */
    }
    return 0;
}

/* ---------------------------------------------------------------- removal */

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
    if (rm->results[slot] == STORE_ENOENT)
        rm->results[slot] = 0; /* already gone there: as good as deleted */
}

int gw_object_remove(gw_cluster_t *c, const gw_object_t *o)
{
    remove_t rm = {.o = o};
    gw_set_fanout(o->set, object_remove_task, &rm);
    /* Deletes are admitted on a full drive; one whose database stopped on a full disk and
     * cannot reopen yet refuses them too, and that is no reason to retry at once. */
    return gw_quorum_write_result(rm.results, gw_set_width(o->set), gw_set_write_quorum(o->set));
}

typedef struct {
    const gw_object_t *o;
    meta_object_t rec;
    int results[16];
} update_t;

static void object_update_task(void *arg, size_t slot)
{
    update_t *up = arg;
    store_client_t *d = up->o->set->drives[slot]->client;
    /* a drive without the version gets it, new attributes and all, from the healer */
    if (!up->o->agree[slot])
        up->results[slot] = STORE_ENOENT;
    else
        up->results[slot] = d == NULL ? STORE_EIO : store_client_object_update(d, &up->rec);
}

int gw_object_update(gw_cluster_t *c, const gw_object_t *o, meta_bytes_t attrs, int64_t attrs_ns)
{
    update_t up = {.o = o, .rec = *gw_object_record(o)};
    uint32_t width = gw_set_width(o->set), gone = 0, done = 0;

    up.rec.attrs = attrs;
    up.rec.attrs_ns = attrs_ns;
    /* shard index and inline bytes are each drive's own: the store keeps what it holds */
    up.rec.inline_data = (meta_bytes_t){0};
    gw_set_fanout(o->set, object_update_task, &up);
    for (uint32_t s = 0; s < width; s++) {
        done += up.results[s] == 0;
        gone += up.results[s] == STORE_ENOENT && o->agree[s];
    }
    if (done == 0 && gone > 0)
        return GW_ENOENT; /* deleted since the lookup */
    if (done < width) {
        const meta_object_t *r = gw_object_record(o);
        gw_object_report(c, r->bucket, r->key); /* the drives that missed the change get it later */
    }
    for (uint32_t s = 0; s < width; s++)
        if (up.results[s] == STORE_ENOENT)
            up.results[s] = STORE_EIO; /* not holding it: counts as not written */
    return gw_quorum_write_result(up.results, width, gw_set_write_quorum(o->set));
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
