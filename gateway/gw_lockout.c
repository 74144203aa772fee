/* gw_lockout.c — the counters behind gw_lockout.h: a chained hash table of the keys that have a
 * count or a lock, under one mutex. An entry lives while its window or its lock lasts; entries
 * past both are dropped when the table needs room, or when their key is next seen. */
#include "gateway/gw_lockout.h"
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define NBUCKETS 1024

typedef struct entry {
    struct entry *next;
    size_t len;
    char key[GW_LOCKOUT_KEY_MAX + 1];
    uint32_t failures;       /* in the current window */
    uint32_t locked_by;      /* failures that made the lock */
    int64_t window_start_ns; /* the first failure of the window */
    int64_t locked_until_ns; /* 0: not locked */
} entry_t;

struct gw_lockout {
    gw_lockout_config_t cfg;
    pthread_mutex_t mutex;
    atomic_size_t n; /* entries: read without the mutex to skip it when there are none */
    entry_t *buckets[NBUCKETS];
};

static size_t hash_key(h2o_iovec_t ak)
{
    size_t h = 14695981039346656037ULL; /* FNV-1a */
    for (size_t i = 0; i < ak.len; i++)
        h = (h ^ (unsigned char)ak.base[i]) * 1099511628211ULL;
    return h % NBUCKETS;
}

int gw_lockout_new(const gw_lockout_config_t *cfg, gw_lockout_t **out)
{
    gw_lockout_t *l = calloc(1, sizeof(*l));
    if (l == NULL)
        return -ENOMEM;
    l->cfg = *cfg;
    pthread_mutex_init(&l->mutex, NULL);
    *out = l;
    return 0;
}

void gw_lockout_free(gw_lockout_t *l)
{
    if (l == NULL)
        return;
    for (size_t b = 0; b < NBUCKETS; b++) {
        entry_t *e = l->buckets[b];
        while (e != NULL) {
            entry_t *next = e->next;
            free(e);
            e = next;
        }
    }
    pthread_mutex_destroy(&l->mutex);
    free(l);
}

/* An entry that neither counts nor locks any more. */
static int stale(const gw_lockout_t *l, const entry_t *e, int64_t now_ns)
{
    return e->locked_until_ns == 0 && (e->failures == 0 || now_ns - e->window_start_ns >= l->cfg.window_ns);
}

static entry_t **find(gw_lockout_t *l, h2o_iovec_t ak)
{
    entry_t **p = &l->buckets[hash_key(ak)];
    while (*p != NULL && !((*p)->len == ak.len && memcmp((*p)->key, ak.base, ak.len) == 0))
        p = &(*p)->next;
    return p;
}

static void drop(gw_lockout_t *l, entry_t **p)
{
    entry_t *e = *p;
    *p = e->next;
    free(e);
    atomic_fetch_sub(&l->n, 1);
}

/* Drops every stale entry: the table is full. */
static void sweep(gw_lockout_t *l, int64_t now_ns)
{
    for (size_t b = 0; b < NBUCKETS; b++) {
        entry_t **p = &l->buckets[b];
        while (*p != NULL) {
            if (stale(l, *p, now_ns))
                drop(l, p);
            else
                p = &(*p)->next;
        }
    }
}

/* Ends a lock whose time is over; 1 when it did. */
static int expire(entry_t *e, int64_t now_ns)
{
    if (e->locked_until_ns == 0 || now_ns < e->locked_until_ns)
        return 0;
    e->locked_until_ns = 0;
    e->failures = 0;
    return 1;
}

int64_t gw_lockout_check(gw_lockout_t *l, h2o_iovec_t ak, int64_t now_ns, gw_lockout_event_t *event)
{
    int64_t left = 0;

    if (event != NULL)
        *event = GW_LOCKOUT_NONE;
    if (atomic_load(&l->n) == 0)
        return 0;
    pthread_mutex_lock(&l->mutex);
    entry_t **p = find(l, ak);
    if (*p != NULL) {
        if (expire(*p, now_ns)) {
            if (event != NULL)
                *event = GW_LOCKOUT_EXPIRED;
            drop(l, p);
        } else if ((*p)->locked_until_ns != 0) {
            left = (*p)->locked_until_ns - now_ns;
        }
    }
    pthread_mutex_unlock(&l->mutex);
    return left;
}

gw_lockout_event_t gw_lockout_fail(gw_lockout_t *l, h2o_iovec_t ak, int64_t now_ns)
{
    gw_lockout_event_t ev = GW_LOCKOUT_NONE;

    if (l->cfg.failures == 0 || ak.len == 0 || ak.len > GW_LOCKOUT_KEY_MAX)
        return GW_LOCKOUT_NONE;
    pthread_mutex_lock(&l->mutex);
    entry_t **p = find(l, ak), *e = *p;
    if (e == NULL) {
        if (atomic_load(&l->n) >= GW_LOCKOUT_MAX_KEYS)
            sweep(l, now_ns);
        if (atomic_load(&l->n) >= GW_LOCKOUT_MAX_KEYS || (e = calloc(1, sizeof(*e))) == NULL)
            goto done; /* a table full of live counts: this key goes uncounted rather than evict a lock */
        memcpy(e->key, ak.base, ak.len);
        e->len = ak.len;
        e->next = l->buckets[hash_key(ak)];
        l->buckets[hash_key(ak)] = e;
        atomic_fetch_add(&l->n, 1);
    }
    expire(e, now_ns);
    if (e->locked_until_ns != 0)
        goto done; /* not counted: a lock is not extended by the requests it refuses */
    if (e->failures == 0 || now_ns - e->window_start_ns >= l->cfg.window_ns) {
        e->failures = 0;
        e->window_start_ns = now_ns;
    }
    if (++e->failures >= l->cfg.failures) {
        e->locked_until_ns = now_ns + l->cfg.lock_ns;
        if (e->locked_until_ns == 0)
            e->locked_until_ns = 1;
        e->locked_by = e->failures;
        e->failures = 0;
        ev = GW_LOCKOUT_LOCKED;
    }
done:
    pthread_mutex_unlock(&l->mutex);
    return ev;
}

void gw_lockout_succeed(gw_lockout_t *l, h2o_iovec_t ak)
{
    if (atomic_load(&l->n) == 0)
        return;
    pthread_mutex_lock(&l->mutex);
    entry_t **p = find(l, ak);
    if (*p != NULL && (*p)->locked_until_ns == 0)
        drop(l, p);
    pthread_mutex_unlock(&l->mutex);
}

int gw_lockout_unlock(gw_lockout_t *l, h2o_iovec_t ak, int64_t now_ns)
{
    int ret = -ENOENT;

    pthread_mutex_lock(&l->mutex);
    entry_t **p = find(l, ak);
    if (*p != NULL) {
        if ((*p)->locked_until_ns != 0 && now_ns < (*p)->locked_until_ns)
            ret = 0;
        drop(l, p);
    }
    pthread_mutex_unlock(&l->mutex);
    return ret;
}

void gw_lockout_foreach(gw_lockout_t *l, int64_t now_ns, void (*fn)(void *arg, const gw_lockout_entry_t *e), void *arg)
{
    pthread_mutex_lock(&l->mutex);
    for (size_t b = 0; b < NBUCKETS; b++) {
        for (entry_t *e = l->buckets[b]; e != NULL; e = e->next) {
            if (e->locked_until_ns == 0 || now_ns >= e->locked_until_ns)
                continue;
            gw_lockout_entry_t out = {e->key, e->locked_until_ns - now_ns, e->locked_by};
            fn(arg, &out);
        }
    }
    pthread_mutex_unlock(&l->mutex);
}
