/* gw_admit.c — admission control (see gw_admit.h for the rules).
 *
 * State, all under one mutex:
 *
 *   - a hash table of the keys that hold or wait for a slot (class and key bytes); an entry
 *     lives while it holds or waits, spare entries are kept on a short free list;
 *   - per key, a FIFO of its waiting tickets;
 *   - per class, a ring of the keys that wait and may take a slot now (under their per-key
 *     limit): a freed slot goes to the ring's first key, which moves to the ring's end if it
 *     still waits. That is deficit round robin with every request costing one quantum;
 *   - per class, the waiting tickets in arrival order: a class has one deadline, so this is
 *     deadline order too, and expiry looks at the front only;
 *   - the keys by number of waiters (a list per count, as an O(1) LFU keeps them), so that the
 *     longest-waiting key — the one that loses a place when the queue is full — is found at once.
 *
 * The adaptive bound (gw_admit.h) lives under the same lock: a window's waits for a worker,
 * whether the bound kept a request out in it, and the decision at its end, taken by whichever call
 * comes first after the window is over (an observe, a leave, an enter, the loops' expiry timer).
 *
 * Wakes are collected under the lock (function, argument, result) and called after it is
 * released, at most WAKE_BATCH at a time, so the ticket is never touched after the unlock.
 */
#include "gateway/gw_admit.h"
#include "common/clock.h"
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define KEY_BUCKETS   4096 /* power of two; chains grow past it, which costs little */
#define SPARE_KEYS    256
#define WAKE_BATCH    64
#define DEFAULT_SLOTS 4096

enum { T_IDLE = 0, T_QUEUED, T_ADMITTED, T_CANCELLED };

typedef struct gw_admit_key admit_key_t;

struct gw_admit_key {
    admit_key_t *hnext;         /* hash chain */
    admit_key_t *rprev, *rnext; /* in its class's ring (in_ring) */
    admit_key_t *cprev, *cnext; /* in the list of keys with as many waiters */
    gw_admit_ticket_t *qh, *qt; /* waiting tickets, oldest first */
    size_t inflight, nwait;
    uint64_t hash;
    gw_admit_class_t cls;
    int in_ring;
    uint8_t len;
    char bytes[GW_ADMIT_KEY_MAX];
};

typedef struct {
    gw_admit_wake_fn fn;
    void *arg;
    int result;
} wake_t;

typedef struct {
    wake_t w[WAKE_BATCH];
    size_t n;
} wakes_t;

struct gw_admit {
    gw_admit_config_t cfg;
    pthread_mutex_t mutex;
    admit_key_t *buckets[KEY_BUCKETS];
    admit_key_t *spare;
    size_t nspare;
    admit_key_t *ring[GW_ADMIT__CLASSES];                             /* first key of each ring (circular) */
    gw_admit_ticket_t *dh[GW_ADMIT__CLASSES], *dt[GW_ADMIT__CLASSES]; /* deadline order */
    admit_key_t **by_count; /* by_count[n]: keys with n waiters (n >= 1), queue_max + 1 heads */
    size_t longest;         /* highest n with by_count[n] non-empty; 0: nobody waits */
    gw_admit_stats_t st;
    /* the adaptive bound's (st.limit, st.delay_ns, st.limit_cuts are its outputs) */
    double bound;      /* the bound, fractional so that small steps add up */
    int64_t win_start; /* when the window began */
    int64_t win_sum;   /* its waits for a worker, summed */
    size_t win_samples;
    size_t win_stale;  /* waits it did not count (jobs handed over before the last cut) */
    int win_bound_hit; /* the bound kept a request out in the window */
    int64_t cut_ns;    /* when the bound was last cut: waits of jobs handed over before are old */
    /* the door's, outside the lock */
    _Atomic int64_t client_shed_ns; /* when a client request was last shed */
    atomic_uint_fast64_t door_shed, door_closed, door_accept;
};

const int64_t gw_admit_wait_bounds_ns[GW_ADMIT_WAIT_BUCKETS - 1] = {
    0,        100000,   250000,   500000,    1000000,   2500000,    5000000,
    10000000, 25000000, 50000000, 100000000, 250000000, 1000000000,
};

void gw_admit_config_defaults(gw_admit_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_inflight = DEFAULT_SLOTS;
    /* a quarter: four tenants at their limit fill the gateway, one alone leaves room for others */
    cfg->max_inflight_per_key = DEFAULT_SLOTS / 4;
    cfg->queue_max = DEFAULT_SLOTS;
    /* longer than an admitted small request takes, far shorter than an SDK's timeout: a wait
     * past it is better spent in the client's backoff than holding a connection here */
    cfg->queue_deadline_ns = 100 * 1000 * 1000;
    cfg->background_max = DEFAULT_SLOTS / 16;
    cfg->background_deadline_ns = 1000LL * 1000 * 1000;
    cfg->retry_after_s = 1;
    /* a few times what an iteration of an unloaded loop takes (well under a millisecond), so
     * that shedding starts before the loop's lag dominates a small request's latency */
    cfg->door_lag_ns = 5 * 1000 * 1000;
    cfg->door_connections = 256;
    /* a quarter of the background deadline: a heal that waited out one spell of shedding still
     * gets its slot before its deadline; under sustained shedding it never does */
    cfg->background_yield_ns = 250LL * 1000 * 1000;
    cfg->adaptive_min = 8;
}

void gw_admit_config_from(const gw_config_t *gw, gw_admit_config_t *out)
{
    gw_admit_config_defaults(out);
    out->max_inflight = gw->max_inflight;
    out->max_inflight_per_key = gw->max_inflight_per_key;
    out->queue_max = gw->queue_max;
    out->queue_deadline_ns = (int64_t)gw->queue_deadline_ms * 1000 * 1000;
    out->background_max = gw->max_inflight / 16 > 0 ? gw->max_inflight / 16 : 1;
    out->door_lag_ns = (int64_t)gw->shed_lag_ms * 1000 * 1000;
    out->door_connections = gw->shed_connections;
    out->adaptive_delay_ns = (int64_t)gw->adaptive_delay_us * 1000;
    out->adaptive_min = gw->adaptive_min;
}

int gw_admit_new(const gw_admit_config_t *cfg, gw_admit_t **out)
{
    gw_admit_t *a;

    if (cfg->max_inflight == 0 || cfg->max_inflight_per_key == 0)
        return -EINVAL;
    if ((a = calloc(1, sizeof(*a))) == NULL)
        return -ENOMEM;
    a->cfg = *cfg;
    if (a->cfg.now_ns == NULL)
        a->cfg.now_ns = yc_mono_ns;
    if (a->cfg.background_max == 0)
        a->cfg.background_max = 1;
    if ((a->by_count = calloc(a->cfg.queue_max + 1, sizeof(*a->by_count))) == NULL) {
        free(a);
        return -ENOMEM;
    }
    if (a->cfg.adaptive_min == 0)
        a->cfg.adaptive_min = 1;
    if (a->cfg.adaptive_min > a->cfg.max_inflight)
        a->cfg.adaptive_min = a->cfg.max_inflight;
    /* the ceiling at first: a gateway that was never slow has no reason to keep anyone out */
    a->bound = (double)a->cfg.max_inflight;
    a->st.limit = a->cfg.max_inflight;
    a->win_start = a->cfg.now_ns();
    a->cut_ns = INT64_MIN;
    pthread_mutex_init(&a->mutex, NULL);
    atomic_init(&a->client_shed_ns, INT64_MIN / 2);
    *out = a;
    return 0;
}

void gw_admit_free(gw_admit_t *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < KEY_BUCKETS; i++) {
        while (a->buckets[i] != NULL) {
            admit_key_t *k = a->buckets[i];
            a->buckets[i] = k->hnext;
            free(k);
        }
    }
    while (a->spare != NULL) {
        admit_key_t *k = a->spare;
        a->spare = k->hnext;
        free(k);
    }
    pthread_mutex_destroy(&a->mutex);
    free(a->by_count);
    free(a);
}

void gw_admit_ticket_init(gw_admit_ticket_t *t, gw_admit_wake_fn wake, void *wake_arg)
{
    memset(t, 0, sizeof(*t));
    t->wake = wake;
    t->wake_arg = wake_arg;
}

uint32_t gw_admit_retry_after(const gw_admit_t *a)
{
    return a->cfg.retry_after_s;
}

/* ---------------------------------------------------------------- keys */

static admit_key_t *key_find(gw_admit_t *a, gw_admit_class_t cls, const char *bytes, size_t len, uint64_t hash)
{
    for (admit_key_t *k = a->buckets[hash & (KEY_BUCKETS - 1)]; k != NULL; k = k->hnext)
        if (k->hash == hash && k->cls == cls && k->len == len && memcmp(k->bytes, bytes, len) == 0)
            return k;
    return NULL;
}

/* The entry of (cls, key), made when absent; NULL when out of memory. */
static admit_key_t *key_get(gw_admit_t *a, gw_admit_class_t cls, const char *bytes, size_t len)
{
    if (len > GW_ADMIT_KEY_MAX)
        len = GW_ADMIT_KEY_MAX;
    uint64_t hash = XXH3_64bits_withSeed(bytes, len, (uint64_t)cls);
    admit_key_t *k = key_find(a, cls, bytes, len, hash);
    if (k != NULL)
        return k;
    if (a->spare != NULL) {
        k = a->spare;
        a->spare = k->hnext;
        a->nspare--;
    } else if ((k = malloc(sizeof(*k))) == NULL) {
        return NULL;
    }
    memset(k, 0, offsetof(admit_key_t, bytes));
    k->hash = hash;
    k->cls = cls;
    k->len = (uint8_t)len;
    memcpy(k->bytes, bytes, len);
    k->hnext = a->buckets[hash & (KEY_BUCKETS - 1)];
    a->buckets[hash & (KEY_BUCKETS - 1)] = k;
    a->st.keys++;
    return k;
}

/* Drops k from the table once it neither holds nor waits. */
static void key_put(gw_admit_t *a, admit_key_t *k)
{
    if (k->inflight > 0 || k->nwait > 0)
        return;
    admit_key_t **p = &a->buckets[k->hash & (KEY_BUCKETS - 1)];
    while (*p != k)
        p = &(*p)->hnext;
    *p = k->hnext;
    a->st.keys--;
    if (a->nspare < SPARE_KEYS) {
        k->hnext = a->spare;
        a->spare = k;
        a->nspare++;
    } else {
        free(k);
    }
}

static size_t key_limit(const gw_admit_t *a, const admit_key_t *k)
{
    return a->cfg.max_inflight_per_key;
}

/* ---------------------------------------------------------------- rings */

static void ring_append(gw_admit_t *a, admit_key_t *k)
{
    admit_key_t **head = &a->ring[k->cls];
    if (*head == NULL) {
        k->rprev = k->rnext = k;
        *head = k;
    } else {
        k->rnext = *head;
        k->rprev = (*head)->rprev;
        (*head)->rprev->rnext = k;
        (*head)->rprev = k;
    }
    k->in_ring = 1;
}

static void ring_remove(gw_admit_t *a, admit_key_t *k)
{
    admit_key_t **head = &a->ring[k->cls];
    if (k->rnext == k) {
        *head = NULL;
    } else {
        k->rprev->rnext = k->rnext;
        k->rnext->rprev = k->rprev;
        if (*head == k)
            *head = k->rnext;
    }
    k->rprev = k->rnext = NULL;
    k->in_ring = 0;
}

/* Puts k in or out of its ring as its waiters and slots say. */
static void ring_update(gw_admit_t *a, admit_key_t *k)
{
    int eligible = k->nwait > 0 && k->inflight < key_limit(a, k);
    if (eligible && !k->in_ring)
        ring_append(a, k);
    else if (!eligible && k->in_ring)
        ring_remove(a, k);
}

/* ---------------------------------------------------------------- counts of waiters */

static void count_unlink(gw_admit_t *a, admit_key_t *k)
{
    if (k->nwait == 0)
        return;
    if (k->cprev != NULL)
        k->cprev->cnext = k->cnext;
    else
        a->by_count[k->nwait] = k->cnext;
    if (k->cnext != NULL)
        k->cnext->cprev = k->cprev;
    k->cprev = k->cnext = NULL;
}

static void count_link(gw_admit_t *a, admit_key_t *k)
{
    if (k->nwait == 0)
        return;
    k->cprev = NULL;
    k->cnext = a->by_count[k->nwait];
    if (k->cnext != NULL)
        k->cnext->cprev = k;
    a->by_count[k->nwait] = k;
    if (k->nwait > a->longest)
        a->longest = k->nwait;
}

/* Changes k's number of waiters by delta (+1 or -1), keeping the lists by count. */
static void count_move(gw_admit_t *a, admit_key_t *k, int delta)
{
    count_unlink(a, k);
    k->nwait = delta > 0 ? k->nwait + 1 : k->nwait - 1;
    count_link(a, k);
    while (a->longest > 0 && a->by_count[a->longest] == NULL)
        a->longest--;
}

/* ---------------------------------------------------------------- the adaptive bound */

/* How long a client request may wait for a slot: queue_deadline, or the adaptive bound's delay
 * while that bound is below the ceiling (waiting longer would cost what the bound saves). */
static int64_t client_wait_ns(const gw_admit_t *a)
{
    int64_t d = a->cfg.queue_deadline_ns;
    if (a->cfg.adaptive_delay_ns > 0 && a->st.limit < a->cfg.max_inflight && a->cfg.adaptive_delay_ns < d)
        d = a->cfg.adaptive_delay_ns;
    return d;
}

/* A client request may take a slot as far as the bound goes; notes it when the bound says no
 * (background work kept out does not make the bound grow: it yields to clients anyway). */
static int under_bound(gw_admit_t *a)
{
    if (a->st.inflight < a->st.limit)
        return 1;
    a->win_bound_hit = 1;
    return 0;
}

static void bound_grow(gw_admit_t *a)
{
    a->bound += a->bound / 16 > 1 ? a->bound / 16 : 1;
}

/* Ends the window if it is over and counts: cuts, grows or holds the bound (gw_admit.h). */
static void bound_window(gw_admit_t *a, int64_t now)
{
    if (a->cfg.adaptive_delay_ns <= 0 || now - a->win_start < GW_ADMIT_WINDOW_NS)
        return;
    int64_t target = a->cfg.adaptive_delay_ns;
    double ceiling = (double)a->cfg.max_inflight, lowest = (double)a->cfg.adaptive_min;

    if (a->win_samples >= GW_ADMIT_WINDOW_SAMPLES) {
        int64_t mean = a->win_sum / (int64_t)a->win_samples;
        a->st.delay_ns = mean;
        if (mean > target) {
            double f = (double)target / (double)mean;
            /* from what is in flight: a bound far above it (the ceiling at first) cut by half
             * would still admit everything */
            if ((double)a->st.inflight < a->bound)
                a->bound = (double)a->st.inflight;
            a->bound *= f < 0.5 ? 0.5 : f;
            a->cut_ns = now;
            a->st.limit_cuts++;
        } else if (mean < target / 2 && a->win_bound_hit) {
            bound_grow(a);
        }
    } else if (a->win_samples > 0) {
        return; /* too few to tell: the window goes on */
    } else if (a->win_bound_hit && a->win_stale == 0) {
        /* requests were kept out and no job waited for a worker in a whole window: nothing says
         * the pools queue (the requests are on the loops), so it may grow; jobs of before the
         * last cut still being taken up say the pools are not through with it */
        a->st.delay_ns = 0;
        bound_grow(a);
    }
    a->bound = a->bound < lowest ? lowest : a->bound > ceiling ? ceiling : a->bound;
    a->st.limit = (size_t)a->bound;
    a->win_start = now;
    a->win_sum = 0;
    a->win_samples = 0;
    a->win_stale = 0;
    a->win_bound_hit = 0;
}

/* ---------------------------------------------------------------- waiting tickets */

static void wait_push(gw_admit_t *a, admit_key_t *k, gw_admit_ticket_t *t, int64_t now)
{
    gw_admit_class_t c = k->cls;

    t->key = k;
    t->state = T_QUEUED;
    t->enqueued_ns = now;
    t->deadline_ns = now + (c == GW_ADMIT_CLIENT ? client_wait_ns(a) : a->cfg.background_deadline_ns);
    t->next = NULL;
    t->prev = k->qt;
    if (k->qt != NULL)
        k->qt->next = t;
    else
        k->qh = t;
    k->qt = t;
    t->dnext = NULL;
    t->dprev = a->dt[c];
    if (a->dt[c] != NULL)
        a->dt[c]->dnext = t;
    else
        a->dh[c] = t;
    a->dt[c] = t;
    count_move(a, k, +1);
    a->st.queued++;
    ring_update(a, k);
}

/* Takes t out of every list; its key stays in the table (the caller puts it). */
static void wait_remove(gw_admit_t *a, gw_admit_ticket_t *t)
{
    admit_key_t *k = t->key;
    gw_admit_class_t c = k->cls;

    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        k->qh = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    else
        k->qt = t->prev;
    if (t->dprev != NULL)
        t->dprev->dnext = t->dnext;
    else
        a->dh[c] = t->dnext;
    if (t->dnext != NULL)
        t->dnext->dprev = t->dprev;
    else
        a->dt[c] = t->dprev;
    t->prev = t->next = t->dprev = t->dnext = NULL;
    count_move(a, k, -1);
    a->st.queued--;
    ring_update(a, k);
}

static void wake_add(wakes_t *w, gw_admit_ticket_t *t, int result)
{
    w->w[w->n++] = (wake_t){t->wake, t->wake_arg, result};
    /* admitted: the owner gives the slot back with gw_admit_leave; shed: it holds nothing */
    t->state = result == 0 ? T_ADMITTED : T_IDLE;
}

/* Sheds a waiting ticket for reason; its wake goes into w. */
/* Background work may take a slot now: no client request was shed lately. */
static int background_may_run(gw_admit_t *a, int64_t now)
{
    return now - atomic_load_explicit(&a->client_shed_ns, memory_order_relaxed) >= a->cfg.background_yield_ns;
}

static void note_client_shed(gw_admit_t *a, int64_t now)
{
    atomic_store_explicit(&a->client_shed_ns, now, memory_order_relaxed);
}

static void shed_waiting(gw_admit_t *a, gw_admit_ticket_t *t, gw_admit_shed_t reason, wakes_t *w)
{
    admit_key_t *k = t->key;
    if (k->cls == GW_ADMIT_CLIENT)
        note_client_shed(a, a->cfg.now_ns());
    wait_remove(a, t);
    t->shed = reason;
    a->st.shed[reason]++;
    wake_add(w, t, GW_ESLOWDOWN);
    key_put(a, k);
}

static void account_admit(gw_admit_t *a, admit_key_t *k, int64_t waited_ns)
{
    size_t b = 0;

    k->inflight++;
    a->st.inflight++;
    a->st.inflight_class[k->cls]++;
    a->st.admitted[k->cls]++;
    if (waited_ns > 0) {
        a->st.waited++;
        a->st.wait_sum_ns += waited_ns;
        while (b < GW_ADMIT_WAIT_BUCKETS - 1 && waited_ns > gw_admit_wait_bounds_ns[b])
            b++;
    }
    a->st.wait_hist[b]++;
}

/* Hands free slots to waiting tickets (client first, then background within its share) and
 * sheds those past their deadline, until w is full. Returns 1 when w filled up (call again). */
static int dispatch(gw_admit_t *a, int64_t now, wakes_t *w)
{
    for (int c = 0; c < GW_ADMIT__CLASSES; c++) {
        while (a->dh[c] != NULL && a->dh[c]->deadline_ns <= now) {
            if (w->n == WAKE_BATCH)
                return 1;
            shed_waiting(a, a->dh[c], GW_ADMIT_SHED_DEADLINE, w);
        }
    }
    bound_window(a, now);
    while (a->st.inflight < a->st.limit) {
        admit_key_t *k = a->ring[GW_ADMIT_CLIENT];
        if (k == NULL && a->st.inflight_class[GW_ADMIT_BACKGROUND] < a->cfg.background_max &&
            background_may_run(a, now))
            k = a->ring[GW_ADMIT_BACKGROUND];
        if (k == NULL)
            break;
        if (w->n == WAKE_BATCH)
            return 1;
        gw_admit_ticket_t *t = k->qh;
        /* the served key goes to the ring's end (wait_remove re-adds it there if it still waits) */
        ring_remove(a, k);
        wait_remove(a, t);
        account_admit(a, k, now - t->enqueued_ns > 0 ? now - t->enqueued_ns : 1);
        ring_update(a, k);
        wake_add(w, t, 0);
    }
    if (a->ring[GW_ADMIT_CLIENT] != NULL)
        a->win_bound_hit = 1; /* clients wait: the bound keeps them out in this window too */
    return 0;
}

static void run_wakes(wakes_t *w)
{
    for (size_t i = 0; i < w->n; i++)
        w->w[i].fn(w->w[i].arg, w->w[i].result);
    w->n = 0;
}

/* dispatch under the lock, wakes outside it, as long as there is more to do. */
static void dispatch_all(gw_admit_t *a, wakes_t *w)
{
    int more;
    do {
        pthread_mutex_lock(&a->mutex);
        more = dispatch(a, a->cfg.now_ns(), w);
        pthread_mutex_unlock(&a->mutex);
        run_wakes(w);
    } while (more);
}

/* ---------------------------------------------------------------- the calls */

int gw_admit_enter(gw_admit_t *a, gw_admit_ticket_t *t, gw_admit_class_t cls, const char *key, size_t key_len)
{
    wakes_t w;
    int ret, more;

    w.n = 0;
    if ((unsigned)cls >= GW_ADMIT__CLASSES)
        return GW_EINVAL;
    pthread_mutex_lock(&a->mutex);
    int64_t now = a->cfg.now_ns();
    admit_key_t *k = key_get(a, cls, key != NULL ? key : "", key != NULL ? key_len : 0);
    if (k == NULL) {
        ret = GW_ENOMEM;
    } else if (k->inflight < key_limit(a, k) && k->nwait == 0 &&
               (cls == GW_ADMIT_CLIENT
                    ? under_bound(a)
                    : a->st.inflight < a->st.limit && a->st.inflight_class[cls] < a->cfg.background_max &&
                          background_may_run(a, now))) {
        account_admit(a, k, 0);
        t->key = k;
        t->state = T_ADMITTED;
        ret = GW_ADMIT_OK;
    } else if (a->st.queued < a->cfg.queue_max) {
        if (cls == GW_ADMIT_BACKGROUND && !background_may_run(a, now))
            a->st.background_yields++;
        wait_push(a, k, t, now);
        ret = GW_ADMIT_QUEUED;
    } else if (a->longest > k->nwait + 1) {
        /* full: the newest waiter of the longest-waiting key makes room for a shorter one's */
        admit_key_t *victim = a->by_count[a->longest];
        shed_waiting(a, victim->qt, GW_ADMIT_SHED_PUSHED_OUT, &w);
        wait_push(a, k, t, now);
        ret = GW_ADMIT_QUEUED;
    } else {
        t->shed = GW_ADMIT_SHED_QUEUE_FULL;
        a->st.shed[GW_ADMIT_SHED_QUEUE_FULL]++;
        if (cls == GW_ADMIT_CLIENT)
            note_client_shed(a, now);
        key_put(a, k);
        ret = GW_ESLOWDOWN;
    }
    more = dispatch(a, now, &w);
    pthread_mutex_unlock(&a->mutex);
    run_wakes(&w);
    if (more)
        dispatch_all(a, &w);
    return ret;
}

void gw_admit_leave(gw_admit_t *a, gw_admit_ticket_t *t)
{
    wakes_t w;
    int more;

    w.n = 0;
    pthread_mutex_lock(&a->mutex);
    if (t->state == T_ADMITTED) {
        admit_key_t *k = t->key;
        k->inflight--;
        a->st.inflight--;
        a->st.inflight_class[k->cls]--;
        ring_update(a, k);
        key_put(a, k);
        t->state = T_IDLE;
        t->key = NULL;
    }
    more = dispatch(a, a->cfg.now_ns(), &w);
    pthread_mutex_unlock(&a->mutex);
    run_wakes(&w);
    if (more)
        dispatch_all(a, &w);
}

int gw_admit_cancel(gw_admit_t *a, gw_admit_ticket_t *t)
{
    int removed = 0;

    pthread_mutex_lock(&a->mutex);
    if (t->state == T_QUEUED) {
        admit_key_t *k = t->key;
        wait_remove(a, t);
        key_put(a, k);
        t->state = T_CANCELLED;
        t->key = NULL;
        a->st.cancelled++;
        removed = 1;
    }
    pthread_mutex_unlock(&a->mutex);
    return removed;
}

void gw_admit_observe(gw_admit_t *a, int64_t queued_ns, int64_t started_ns)
{
    if (a->cfg.adaptive_delay_ns <= 0)
        return;
    pthread_mutex_lock(&a->mutex);
    if (queued_ns >= a->cut_ns) {
        a->win_sum += started_ns > queued_ns ? started_ns - queued_ns : 0;
        a->win_samples++;
    } else {
        a->win_stale++; /* handed over before the last cut: it measures the old bound */
    }
    bound_window(a, started_ns);
    pthread_mutex_unlock(&a->mutex);
}

void gw_admit_expire(gw_admit_t *a)
{
    wakes_t w;
    w.n = 0;
    dispatch_all(a, &w);
}

void gw_admit_stats(gw_admit_t *a, gw_admit_stats_t *out)
{
    pthread_mutex_lock(&a->mutex);
    *out = a->st;
    pthread_mutex_unlock(&a->mutex);
    out->door_shed = atomic_load(&a->door_shed);
    out->door_closed = atomic_load(&a->door_closed);
    out->door_accept = atomic_load(&a->door_accept);
}

/* ---------------------------------------------------------------- the door */

/* 1 when a loop lagging lag_ns sheds this call: none up to the bound, all but the floor past
 * twice it, and in between a share growing linearly, drawn with rnd. */
static int door_sheds(const gw_admit_t *a, int64_t lag_ns, uint32_t rnd)
{
    int64_t bound = a->cfg.door_lag_ns;
    uint64_t top = UINT32_MAX - (UINT32_MAX >> GW_ADMIT_DOOR_FLOOR_SHIFT);

    if (bound <= 0 || lag_ns <= bound)
        return 0;
    if (lag_ns >= 2 * bound)
        return (uint64_t)rnd < top;
    /* share = top * (lag - bound) / bound, in 32-bit fixed point */
    uint64_t share = (uint64_t)(lag_ns - bound) * top / (uint64_t)bound;
    return (uint64_t)rnd < share;
}

gw_admit_door_t gw_admit_door(gw_admit_t *a, int64_t lag_ns, size_t connections, uint32_t rnd)
{
    if (!door_sheds(a, lag_ns, rnd))
        return GW_ADMIT_DOOR_OPEN;
    note_client_shed(a, a->cfg.now_ns());
    atomic_fetch_add(&a->door_shed, 1);
    if (connections > a->cfg.door_connections) {
        atomic_fetch_add(&a->door_closed, 1);
        return GW_ADMIT_DOOR_CLOSE;
    }
    return GW_ADMIT_DOOR_SHED;
}

gw_admit_door_t gw_admit_door_accept(gw_admit_t *a, int64_t lag_ns, size_t connections, uint32_t rnd)
{
    if (connections < a->cfg.door_connections || !door_sheds(a, lag_ns, rnd))
        return GW_ADMIT_DOOR_OPEN;
    note_client_shed(a, a->cfg.now_ns());
    atomic_fetch_add(&a->door_accept, 1);
    return GW_ADMIT_DOOR_CLOSE;
}

/* ---------------------------------------------------------------- connection-level admission */

void gw_admit_budget_init(const gw_admit_t *a, gw_admit_budget_t *b)
{
    memset(b, 0, sizeof(*b));
    b->budget = a->cfg.max_inflight;
    b->window_ns = a->cfg.now_ns();
}

size_t gw_admit_budget_update(const gw_admit_t *a, gw_admit_budget_t *b, int64_t lag_ns, size_t connections,
                              int request)
{
    int64_t now = a->cfg.now_ns(), bound = a->cfg.door_lag_ns, span = now - b->window_ns;
    size_t max = a->cfg.max_inflight, min = GW_ADMIT_BUDGET_MIN < max ? GW_ADMIT_BUDGET_MIN : max;

    if (bound <= 0)
        return b->budget;
    if (request && lag_ns > b->lag_max)
        b->lag_max = lag_ns;
    if (span < GW_ADMIT_BUDGET_WINDOW_NS)
        return b->budget;
    int limiting = b->budget < max;
    int overloaded = b->requests >= GW_ADMIT_BUDGET_REQUESTS && b->lag_max > bound / 2;
    b->streak = overloaded ? b->streak + 1 : 0;
    overloaded = b->streak >= GW_ADMIT_BUDGET_STREAK;
    size_t grown = b->budget + b->budget / 8 + 1;
    if (grown > max)
        grown = max;
    if (overloaded || (limiting && b->refused > 0)) {
        /* Little's law: the connections answered within bound at the rate admitted */
        size_t fit = (size_t)((double)b->requests * (double)bound / (double)span);
        if (fit > connections)
            fit = connections; /* a cut must bite: not above what the loop has */
        if (limiting && fit > grown)
            fit = grown;
        b->budget = fit > min ? fit : min;
        b->cuts++;
    } else if (limiting) {
        b->budget = grown;
    }
    b->window_ns = now;
    b->lag_max = 0;
    b->requests = 0;
    b->refused = 0;
    return b->budget;
}

int gw_admit_budget_cut(const gw_admit_t *a, const gw_admit_budget_t *b)
{
    return b->budget < a->cfg.max_inflight;
}

gw_admit_door_t gw_admit_door_budget(gw_admit_t *a, gw_admit_budget_t *b, size_t connections)
{
    if (!gw_admit_budget_cut(a, b) || connections <= b->budget) {
        b->requests++;
        return GW_ADMIT_DOOR_OPEN;
    }
    b->refused++;
    note_client_shed(a, a->cfg.now_ns());
    atomic_fetch_add(&a->door_shed, 1);
    atomic_fetch_add(&a->door_closed, 1);
    return GW_ADMIT_DOOR_CLOSE;
}

gw_admit_door_t gw_admit_door_budget_accept(gw_admit_t *a, gw_admit_budget_t *b, size_t connections, int late)
{
    if (!gw_admit_budget_cut(a, b) || (connections < b->budget && !late))
        return GW_ADMIT_DOOR_OPEN;
    b->refused++;
    note_client_shed(a, a->cfg.now_ns());
    atomic_fetch_add(&a->door_accept, 1);
    return GW_ADMIT_DOOR_CLOSE;
}

/* ---------------------------------------------------------------- blocking wait */

typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int done, result;
} waiter_t;

static void waiter_wake(void *arg, int result)
{
    waiter_t *wt = arg;
    pthread_mutex_lock(&wt->mutex);
    wt->done = 1;
    wt->result = result;
    pthread_cond_signal(&wt->cond);
    pthread_mutex_unlock(&wt->mutex);
}

int gw_admit_wait(gw_admit_t *a, gw_admit_ticket_t *t, gw_admit_class_t cls, const char *key, size_t key_len)
{
    waiter_t wt = {.done = 0, .result = 0};
    pthread_condattr_t attr;
    int ret;

    pthread_mutex_init(&wt.mutex, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&wt.cond, &attr);
    pthread_condattr_destroy(&attr);
    gw_admit_ticket_init(t, waiter_wake, &wt);
    ret = gw_admit_enter(a, t, cls, key, key_len);
    if (ret == GW_ADMIT_QUEUED) {
        /* nobody else may be calling expire (a gateway without loops, a test): wake at the
         * deadline and do it here, so the wait is bounded whatever the others do */
        pthread_mutex_lock(&wt.mutex);
        while (!wt.done) {
            struct timespec until;
            int64_t left = t->deadline_ns - a->cfg.now_ns();
            yc_deadline(CLOCK_MONOTONIC, (left > 0 ? left : 0) + 1000000, &until);
            if (pthread_cond_timedwait(&wt.cond, &wt.mutex, &until) == ETIMEDOUT) {
                pthread_mutex_unlock(&wt.mutex);
                gw_admit_expire(a);
                pthread_mutex_lock(&wt.mutex);
            }
        }
        pthread_mutex_unlock(&wt.mutex);
        ret = wt.result;
    }
    pthread_cond_destroy(&wt.cond);
    pthread_mutex_destroy(&wt.mutex);
    return ret;
}
