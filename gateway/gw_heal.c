/* gw_heal.c — the background healer and the full heal (see gw_heal.h).
 *
 * The queue is a bounded ring of (bucket, key) under one mutex, with a small hash set of what
 * it holds so that a key reported by a thousand reads is healed once. The healer thread drains
 * it; a key whose drives did not all answer goes back to the queue and is retried after a
 * pause, so a drive that comes back after an outage gets what it missed. A full heal runs in
 * a thread of its own and walks the buckets with the lister, healing WALKERS objects at once.
 *
 * A heal that fails (the object cannot be rebuilt: too few good shards) must not be retried in
 * a loop — reads of the broken object, and the heal's own reads, keep noting it. Such a key goes
 * into a small table of failures with a backoff that doubles from 1 s to an hour; while it waits,
 * notes of it are dropped at dequeue. The failure is logged once, when it first happens.
 *
 * With admission control set (gw_healer_set_admit), every key is healed inside a slot of the
 * background class, taken with a blocking wait: client requests go first, and a heal that gets no
 * slot in time is retried after a pause rather than counted as failed.
 *
 * A full heal may be given a rate (shard bytes a second): after each object it rebuilt it sleeps
 * until the bytes given back so far fit the rate since the walk began. A drive's share of an
 * object is its shard, ceil(size / k) bytes (a little less than what the drive writes: block
 * checksums and the last stripe's padding are left out), so the bound holds for what matters, the
 * data moved. The background healer of noted keys has no bound: it heals a few keys at a time.
 *
 * The healer thread also runs the sweeps of dead bucket namespaces (gw_sweep.h) that
 * DeleteBucket asks for, a little later, so that writers racing the deletion are done first.
 */
#include "gateway/gw_heal.h"
#include "gateway/gw_bucket_record.h"
#include "gateway/gw_lister.h"
#include "gateway/gw_lock.h"
#include "common/log.h"
#include "gateway/gw_object.h"
#include "gateway/gw_replica.h"
#include "gateway/gw_sweep.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#define QUEUE_SIZE       8192
#define RETRY_PAUSE_MS   1000
#define FAILED_SLOTS     1024 /* power of two */
#define BACKOFF_FIRST_NS (1000LL * 1000 * 1000)
#define BACKOFF_MAX_NS   (3600LL * 1000 * 1000 * 1000)
#define SWEEPS_MAX       64
#define SWEEP_DELAY_NS   (5LL * 1000 * 1000 * 1000)
#define WALKERS          4 /* objects a full heal rebuilds at once */

typedef struct {
    char bucket[META_NS_MAX + 1];
    char key[META_KEY_MAX];
    uint16_t key_len;
    uint64_t hash;
} item_t;

typedef struct {
    uint64_t hash; /* 0: free */
    uint32_t failures;
    int64_t next_ns; /* no heal of the key before this time */
} failure_t;

typedef struct {
    char ns[META_NS_MAX + 1];
    int64_t due_ns;
} sweep_t;

struct gw_healer {
    gw_cluster_t *c;
    failure_t *failed;
    sweep_t sweeps[SWEEPS_MAX];
    size_t nsweeps;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    item_t *ring;
    size_t head, count;
    uint64_t *present; /* open-addressing set of queued item hashes (0 = empty) */
    int stopping;
    pthread_t thread;
    pthread_t full_thread;
    int full_running, full_joinable;
    gw_heal_status_t st;
    gw_admit_t *admit; /* NULL: heals take no slot */
};

static uint64_t item_hash(meta_bytes_t bucket, meta_bytes_t key)
{
    uint64_t h = XXH3_64bits_withSeed(key.base, key.len, XXH3_64bits(bucket.base, bucket.len));
    return h == 0 ? 1 : h;
}

/* The set has twice the ring's slots, so it never fills up. Called with the mutex held. */
static int set_insert(gw_healer_t *h, uint64_t hash)
{
    size_t mask = 2 * QUEUE_SIZE - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        if (h->present[i] == hash)
            return 0;
        if (h->present[i] == 0) {
            h->present[i] = hash;
            return 1;
        }
    }
}

static void set_remove(gw_healer_t *h, uint64_t hash)
{
    size_t mask = 2 * QUEUE_SIZE - 1, i = hash & mask;
    while (h->present[i] != hash) {
        if (h->present[i] == 0)
            return;
        i = (i + 1) & mask;
    }
    /* backward-shift deletion keeps every probe chain unbroken */
    for (size_t j = (i + 1) & mask; h->present[j] != 0; j = (j + 1) & mask) {
        size_t home = h->present[j] & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            h->present[i] = h->present[j];
            i = j;
        }
    }
    h->present[i] = 0;
}

/* The failure entry of hash, or NULL; with create, a new or recycled entry. Mutex held. The
 * table is small and lossy on purpose: when it is full the oldest-due entry is reused. */
static failure_t *failure_slot(gw_healer_t *h, uint64_t hash, int create)
{
    failure_t *victim = NULL;
    for (size_t n = 0, i = hash & (FAILED_SLOTS - 1); n < 8; n++, i = (i + 1) & (FAILED_SLOTS - 1)) {
        failure_t *f = &h->failed[i];
        if (f->hash == hash)
            return f;
        if (victim == NULL || f->hash == 0 || (victim->hash != 0 && f->next_ns < victim->next_ns))
            victim = f;
    }
    if (!create)
        return NULL;
    memset(victim, 0, sizeof(*victim));
    victim->hash = hash;
    return victim;
}

static void enqueue(gw_healer_t *h, meta_bytes_t bucket, meta_bytes_t key)
{
    if (bucket.len > META_NS_MAX || key.len > META_KEY_MAX)
        return;
    uint64_t hash = item_hash(bucket, key);
    pthread_mutex_lock(&h->mutex);
    if (h->count < QUEUE_SIZE && set_insert(h, hash)) {
        item_t *it = &h->ring[(h->head + h->count) % QUEUE_SIZE];
        memcpy(it->bucket, bucket.base, bucket.len);
        it->bucket[bucket.len] = '\0';
        memcpy(it->key, key.base, key.len);
        it->key_len = (uint16_t)key.len;
        it->hash = hash;
        h->count++;
        h->st.queued = h->count;
        pthread_cond_signal(&h->cond);
    }
    pthread_mutex_unlock(&h->mutex);
}

void gw_heal_note(gw_healer_t *h, meta_bytes_t bucket, meta_bytes_t key)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mutex);
    h->st.noted++;
    pthread_mutex_unlock(&h->mutex);
    enqueue(h, bucket, key);
}

/* The cluster's repair sink (gw_cluster.h): how the object engine reaches the queue. */
static void note_repair(void *arg, meta_bytes_t bucket, meta_bytes_t key)
{
    gw_heal_note(arg, bucket, key);
}

/* A drive's share of object o: its shard's bytes (0 for data kept inline in the record). */
static uint64_t shard_bytes(const gw_object_t *o)
{
    const meta_object_t *r = gw_object_record(o);
    return r->ec_k > 0 ? (r->size + r->ec_k - 1) / r->ec_k : 0;
}

/* Heals one key: 0 done, 1 some drive unreachable (retry later), negative error. */
static int heal_key(gw_healer_t *h, meta_bytes_t bucket, meta_bytes_t key)
{
    gw_object_t *o;
    uint32_t repaired = 0, pending = 0, dropped = 0;
    /* first what a write that failed its quorum left where its cleanup did not reach: it would
     * keep those drives from taking the visible version back (a newer null version absorbs it) */
    gw_object_collect(h->c, bucket, key, GW_FAILED_WRITE_AGE_NS, &dropped);
    if (dropped > 0)
        yc_log(YC_LOG_INFO, "event=failed_write_collected bucket=%.*s key=%.*s drives=%u", (int)bucket.len, bucket.base,
               (int)key.len, key.base, dropped);
    int ret = gw_object_lookup(h->c, bucket, key, NULL, &o);
    if (ret == GW_ENOENT)
        return 0; /* deleted meanwhile, or never visible: nothing to heal */
    if (ret != 0)
        return ret == GW_EQUORUM ? 1 : ret;
    ret = gw_object_heal(o, &repaired, &pending);
    uint64_t rebuilt = repaired * shard_bytes(o);
    gw_object_free(o);
    pthread_mutex_lock(&h->mutex);
    h->st.repaired += repaired;
    if (h->full_running)
        h->st.rebuilt_bytes += rebuilt;
    uint64_t hash = item_hash(bucket, key);
    failure_t *f = failure_slot(h, hash, ret != 0);
    if (ret != 0) {
        h->st.failed++;
        f->failures++;
        int64_t backoff = BACKOFF_FIRST_NS << (f->failures < 20 ? f->failures - 1 : 20);
        f->next_ns = yc_now_ns() + (backoff < BACKOFF_MAX_NS ? backoff : BACKOFF_MAX_NS);
        if (f->failures == 1)
            yc_log(YC_LOG_ERROR, "event=heal_failed bucket=%.*s key=%.*s err=%s next_try_s=%lld", (int)bucket.len,
                   bucket.base, (int)key.len, key.base, yc_errname(ret), (long long)(backoff / 1000000000));
    } else if (f != NULL) {
        f->hash = 0; /* healed after all */
    }
    pthread_mutex_unlock(&h->mutex);
    if (repaired > 0)
        yc_log(YC_LOG_INFO, "event=healed bucket=%.*s key=%.*s drives=%u", (int)bucket.len, bucket.base, (int)key.len,
               key.base, repaired);
    return ret != 0 ? ret : pending > 0 ? 1 : 0;
}

void gw_healer_set_admit(gw_healer_t *h, gw_admit_t *a)
{
    pthread_mutex_lock(&h->mutex);
    h->admit = a;
    pthread_mutex_unlock(&h->mutex);
}

/* heal_key inside a slot of admission control's background class; GW_ESLOWDOWN when none came in
 * time (the gateway is busy with clients: try the key again later). */
static int heal_key_admitted(gw_healer_t *h, meta_bytes_t bucket, meta_bytes_t key)
{
    gw_admit_ticket_t t;
    int ret;

    pthread_mutex_lock(&h->mutex);
    gw_admit_t *a = h->admit;
    pthread_mutex_unlock(&h->mutex);
    if (a != NULL && gw_admit_wait(a, &t, GW_ADMIT_BACKGROUND, "heal", 4) != 0) {
        pthread_mutex_lock(&h->mutex);
        h->st.deferred++;
        pthread_mutex_unlock(&h->mutex);
        return GW_ESLOWDOWN;
    }
    ret = heal_key(h, bucket, key);
    if (a != NULL)
        gw_admit_leave(a, &t);
    return ret;
}

/* Runs the sweeps that are due; returns the time the next one is due (0: none). Mutex held;
 * released while a sweep runs. */
static int64_t run_due_sweeps(gw_healer_t *h)
{
    int64_t next = 0;
    for (size_t i = 0; i < h->nsweeps;) {
        if (h->sweeps[i].due_ns > yc_now_ns()) {
            if (next == 0 || h->sweeps[i].due_ns < next)
                next = h->sweeps[i].due_ns;
            i++;
            continue;
        }
        sweep_t sw = h->sweeps[i];
        h->sweeps[i] = h->sweeps[--h->nsweeps];
        pthread_mutex_unlock(&h->mutex);
        size_t removed = 0;
        int ret = gw_sweep_ns(h->c, (meta_bytes_t){sw.ns, strlen(sw.ns)}, &removed);
        yc_log(ret == 0 ? YC_LOG_INFO : YC_LOG_WARN, "event=namespace_swept ns=%s records=%zu err=%s", sw.ns, removed,
               yc_errname(ret));
        pthread_mutex_lock(&h->mutex);
        i = 0; /* the list may have changed meanwhile */
    }
    return next;
}

void gw_heal_sweep_later(gw_healer_t *h, meta_bytes_t ns)
{
    if (h == NULL || ns.len > META_NS_MAX)
        return;
    pthread_mutex_lock(&h->mutex);
    if (h->nsweeps < SWEEPS_MAX) { /* else the full heal finds the namespace */
        sweep_t *sw = &h->sweeps[h->nsweeps++];
        memcpy(sw->ns, ns.base, ns.len);
        sw->ns[ns.len] = '\0';
        sw->due_ns = yc_now_ns() + SWEEP_DELAY_NS;
        pthread_cond_signal(&h->cond);
    }
    pthread_mutex_unlock(&h->mutex);
}

static void *healer_main(void *arg)
{
    gw_healer_t *h = arg;
    pthread_mutex_lock(&h->mutex);
    while (!h->stopping) {
        int64_t next_sweep = run_due_sweeps(h);
        if (h->count == 0) {
            if (next_sweep == 0) {
                pthread_cond_wait(&h->cond, &h->mutex);
            } else {
                struct timespec until = {.tv_sec = next_sweep / 1000000000, .tv_nsec = next_sweep % 1000000000};
                pthread_cond_timedwait(&h->cond, &h->mutex, &until); /* the cond uses CLOCK_REALTIME */
            }
            continue;
        }
        item_t it = h->ring[h->head];
        h->head = (h->head + 1) % QUEUE_SIZE;
        h->count--;
        set_remove(h, it.hash);
        h->st.queued = h->count;
        failure_t *f = failure_slot(h, it.hash, 0);
        if (f != NULL && f->next_ns > yc_now_ns())
            continue; /* failed recently: wait for its backoff */
        pthread_mutex_unlock(&h->mutex);

        meta_bytes_t bucket = {it.bucket, strlen(it.bucket)}, key = {it.key, it.key_len};
        int ret = heal_key_admitted(h, bucket, key);
        if (ret > 0 || ret == GW_ESLOWDOWN) {
            /* a drive did not answer, or clients have the gateway: try again after a pause */
            usleep(RETRY_PAUSE_MS * 1000);
            enqueue(h, bucket, key);
        }
        pthread_mutex_lock(&h->mutex);
    }
    pthread_mutex_unlock(&h->mutex);
    return NULL;
}

int gw_healer_start(gw_cluster_t *c, gw_healer_t **out)
{
    gw_healer_t *h = calloc(1, sizeof(*h));
    if (h == NULL || (h->ring = calloc(QUEUE_SIZE, sizeof(item_t))) == NULL ||
        (h->present = calloc(2 * QUEUE_SIZE, sizeof(uint64_t))) == NULL ||
        (h->failed = calloc(FAILED_SLOTS, sizeof(failure_t))) == NULL) {
        if (h != NULL) {
            free(h->ring);
            free(h->present);
        }
        free(h);
        return -ENOMEM;
    }
    h->c = c;
    pthread_mutex_init(&h->mutex, NULL);
    pthread_cond_init(&h->cond, NULL);
    if (pthread_create(&h->thread, NULL, healer_main, h) != 0) {
        free(h->ring);
        free(h->present);
        free(h->failed);
        free(h);
        return -EAGAIN;
    }
    c->healer = h;
    c->repair = (gw_repair_sink_t){note_repair, h};
    *out = h;
    return 0;
}

void gw_healer_stop(gw_healer_t *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mutex);
    h->stopping = 1;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->mutex);
    pthread_join(h->thread, NULL);
    if (h->full_joinable)
        pthread_join(h->full_thread, NULL);
    h->c->healer = NULL;
    h->c->repair = (gw_repair_sink_t){NULL, NULL};
    free(h->ring);
    free(h->present);
    free(h->failed);
    free(h);
}

/* ---------------------------------------------------------------- full heal */

typedef struct {
    char names[1024][META_BUCKET_MAX + 1];
    uint64_t incarnations[1024];
    size_t n;
} buckets_t;

/* Remembers each bucket's name (the record is re-replicated under the bucket's lock later). */
static int collect_bucket(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    buckets_t *b = arg;
    meta_bucket_t rec;
    if (meta_bucket_decode(val, vlen, &rec) != 0 || rec.name.len > META_BUCKET_MAX || b->n == 1024)
        return 0;
    memcpy(b->names[b->n], rec.name.base, rec.name.len);
    b->names[b->n][rec.name.len] = '\0';
    b->incarnations[b->n] = rec.incarnation;
    b->n++;
    return 0;
}

/* Writes the newest state of a bucket record back to every drive, under the bucket's lock so that
 * a deletion in progress is not undone; the namespace of its incarnation into ns. */
static int rereplicate_bucket(gw_cluster_t *c, meta_bytes_t name, char ns[META_NS_MAX + 1])
{
    char lname[META_BUCKET_MAX + 8];
    meta_bucket_t b;
    gw_lock_t lock;
    void *raw;
    int ret;

    if ((ret = gw_lock_cluster(c, gw_bucket_lock_name(name, lname), GW_LOCK_WAIT_NS, &lock)) != 0)
        return ret;
    if ((ret = gw_bucket_record_read(c, name, &raw, &b)) == 0) {
        ret = gw_bucket_record_write(c, &b);
        meta_bucket_ns(name, b.incarnation, ns);
        free(raw);
    }
    gw_lock_release(&lock);
    return ret;
}

static int copy_user(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    meta_key_t k;
    if (klen <= sizeof(k.buf)) {
        memcpy(k.buf, key, klen);
        k.len = klen;
        gw_replica_put(arg, &k, val, vlen);
    }
    return 0;
}

/* The objects the walk will meet, for its progress and ETA: a listing costs a fraction of a heal
 * (one merged scan, no shard read), so counting first is cheap next to the walk. */
static void count_objects(gw_healer_t *h, const buckets_t *b)
{
    uint64_t total = 0;
    for (size_t i = 0; i < b->n && !h->stopping; i++) {
        char ns[META_NS_MAX + 1];
        size_t n = meta_bucket_ns((meta_bytes_t){b->names[i], strlen(b->names[i])}, b->incarnations[i], ns);
        gw_lister_t *l;
        gw_list_entry_t e;
        if (gw_lister_open(h->c, (meta_bytes_t){ns, n}, (meta_bytes_t){"", 0}, &l) != 0)
            continue;
        while (!h->stopping && gw_lister_next(l, &e) == 1)
            total++;
        gw_lister_free(l);
    }
    pthread_mutex_lock(&h->mutex);
    h->st.total = total;
    h->st.walk_started_ns = yc_now_ns();
    pthread_mutex_unlock(&h->mutex);
}

/* Sleeps while the walk is ahead of its rate: until rebuilt_bytes fit rate x the time since the
 * walk began (in steps of at most 100 ms, so a stop or a new rate is seen soon). */
static void keep_to_rate(gw_healer_t *h)
{
    for (;;) {
        pthread_mutex_lock(&h->mutex);
        uint64_t rate = h->st.rate, done = h->st.rebuilt_bytes;
        int64_t since = h->st.walk_started_ns;
        pthread_mutex_unlock(&h->mutex);
        if (rate == 0 || h->stopping)
            return;
        int64_t due_ns = since + (int64_t)((double)done / (double)rate * 1e9);
        int64_t wait_ns = due_ns - yc_now_ns();
        if (wait_ns <= 0)
            return;
        usleep((useconds_t)((wait_ns < 100000000 ? wait_ns : 100000000) / 1000));
    }
}

/* One bucket's walk, shared by the walkers: each takes the next key from the lister in turn. */
typedef struct {
    gw_healer_t *h;
    meta_bytes_t bucket;
    gw_lister_t *l;
    pthread_mutex_t lock; /* of l */
} walk_t;

static void *walker_main(void *arg)
{
    walk_t *w = arg;
    gw_healer_t *h = w->h;
    char key[META_KEY_MAX];

    for (;;) {
        gw_list_entry_t e;
        size_t len = 0;
        pthread_mutex_lock(&w->lock);
        int more = !h->stopping && gw_lister_next(w->l, &e) == 1;
        if (more)
            memcpy(key, e.key, len = e.key_len);
        pthread_mutex_unlock(&w->lock);
        if (!more)
            return NULL;
        meta_bytes_t k = {key, len};
        int ret;
        /* a walk waits for its slot rather than queueing every key it meets */
        while ((ret = heal_key_admitted(h, w->bucket, k)) == GW_ESLOWDOWN && !h->stopping)
            usleep(RETRY_PAUSE_MS * 1000 / 10);
        if (ret > 0)
            enqueue(h, w->bucket, k); /* unreachable drive: keep trying */
        pthread_mutex_lock(&h->mutex);
        h->st.scanned++;
        pthread_mutex_unlock(&h->mutex);
        keep_to_rate(h);
    }
}

/* Heals every visible object of bucket with WALKERS threads: one object's heal waits on its drives
 * most of the time (k shard reads, one write and its sync), so several at once keep the disks and
 * both cores busy where one alone left them idle. */
static void walk_bucket(gw_healer_t *h, meta_bytes_t bucket)
{
    walk_t w = {.h = h, .bucket = bucket};
    pthread_t threads[WALKERS];
    size_t started = 0;

    if (gw_lister_open(h->c, bucket, (meta_bytes_t){"", 0}, &w.l) != 0)
        return;
    pthread_mutex_init(&w.lock, NULL);
    while (started < WALKERS && pthread_create(&threads[started], NULL, walker_main, &w) == 0)
        started++;
    if (started == 0)
        walker_main(&w); /* no thread to be had: walk here */
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    pthread_mutex_destroy(&w.lock);
    gw_lister_free(w.l);
}

static void *full_main(void *arg)
{
    gw_healer_t *h = arg;
    buckets_t *b = calloc(1, sizeof(*b));
    meta_key_t prefix;

    yc_log(YC_LOG_INFO, "event=heal_started rate=%llu", (unsigned long long)h->st.rate);
    if (b != NULL) {
        meta_key_bucket((meta_bytes_t){"", 0}, &prefix);
        gw_replica_scan(h->c, &prefix, collect_bucket, b);
        meta_key_user((meta_bytes_t){"", 0}, &prefix);
        gw_replica_scan(h->c, &prefix, copy_user, h->c);
        count_objects(h, b);
        for (size_t i = 0; i < b->n && !h->stopping; i++) {
            char ns[META_NS_MAX + 1];
            if (rereplicate_bucket(h->c, (meta_bytes_t){b->names[i], strlen(b->names[i])}, ns) != 0)
                continue; /* deleted meanwhile, or out of reach: the next heal */
            walk_bucket(h, (meta_bytes_t){ns, strlen(ns)});
        }
        free(b);
        size_t swept;
        if (!h->stopping)
            gw_sweep_dead(h->c, &swept);
    }
    pthread_mutex_lock(&h->mutex);
    h->full_running = 0;
    h->st.running = 0;
    h->st.finished_ns = yc_now_ns();
    yc_log(YC_LOG_INFO, "event=heal_finished scanned=%llu repaired=%llu failed=%llu rebuilt_bytes=%llu",
           (unsigned long long)h->st.scanned, (unsigned long long)h->st.repaired, (unsigned long long)h->st.failed,
           (unsigned long long)h->st.rebuilt_bytes);
    pthread_mutex_unlock(&h->mutex);
    return NULL;
}

void gw_heal_start_full(gw_healer_t *h, uint64_t rate)
{
    pthread_mutex_lock(&h->mutex);
    if (!h->full_running) {
        h->st.rate = rate;
        if (h->full_joinable)
            pthread_join(h->full_thread, NULL); /* finished: its thread only needs reaping */
        h->full_running = 1;
        h->st.running = 1;
        h->st.scanned = 0;
        h->st.total = 0;
        h->st.walk_started_ns = 0;
        h->st.failed = 0;
        h->st.rebuilt_bytes = 0;
        h->st.started_ns = yc_now_ns();
        h->st.finished_ns = 0;
        h->full_joinable = pthread_create(&h->full_thread, NULL, full_main, h) == 0;
        if (!h->full_joinable)
            h->full_running = h->st.running = 0;
    }
    pthread_mutex_unlock(&h->mutex);
}

void gw_heal_status(gw_healer_t *h, gw_heal_status_t *out)
{
    pthread_mutex_lock(&h->mutex);
    *out = h->st;
    pthread_mutex_unlock(&h->mutex);
}
