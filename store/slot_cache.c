/* slot_cache.c — the null slots this drive engine settled last, kept so that the next put of the
 * same key reads neither its slot nor its head from RocksDB.
 *
 * Why: an unversioned overwrite reads the key's null slot and its head under the key's lock
 * before it queues the new slot (object.c), two RocksDB point reads per drive and PUT, 12 for a
 * 4+2 set, most of them in SST files (a hot key's slot leaves the memtable at every flush, its
 * head is written once). The put that settled the slot knows both exactly: under the key's lock,
 * held from its read to its settle, the slot becomes its own record alone and the head names the
 * slot. So the settle leaves them here, and the next put of the key, under the same lock, takes
 * them instead of reading.
 *
 * Why it is exact: an entry is only touched under the key lock of its key. STORE_SLOT_CACHE is a
 * multiple of STORE_KEY_LOCKS and both index by the same hash, so every key that can land in
 * entry i locks stripe i % STORE_KEY_LOCKS. Every writer of a key's slot or head in object.c holds
 * that lock and drops the key's entry first (store_slot_cache_take / _forget); only a settle
 * fills one, with the value it queued and the head its batch left. An entry therefore always
 * holds what the database holds once the writes already queued for the key are applied, and a
 * later write of the key is queued behind them. A settle whose batch fails leaves the slot with
 * the new version in front of the acknowledged older ones; the entry's value (the new version
 * alone) is then what the failed prune would have written, which the next put may write as
 * well. Writers that do not take the key's lock (the sweep of a dead namespace deleting object
 * records as plain records, a reopen replaying the WAL) move the drive's epoch, which turns every
 * entry filled before into a miss.
 *
 * The settle itself is owed, not written, while the entry stands (owed): the next put of the key
 * takes the entry and writes its new version in front of the settled one, which drops the older
 * versions the settle would have dropped, so a hot key's record is written twice per put (with
 * the next put, then in front of it) instead of three times. An owed settle is written when its
 * entry goes without a put taking it: another writer of the key drops it (written and waited
 * for before that writer reads: entry_settle), a key sharing the entry takes its place, the
 * drive turns idle (store_slot_cache_settle) or closes. Lost in a crash, or dropped by a moved
 * epoch, it leaves what a lost settle always left: older inline versions behind the acknowledged
 * one, which readers ignore and the key's next settled write drops (object.c).
 *
 * Memory: at most STORE_SLOT_CACHE_BYTES of values per drive (an entry that would pass it is not
 * kept), values only of small inline records (STORE_SLOT_CACHE_VALUE_MAX).
 */
#include <stdlib.h>
#include <string.h>
#include "store/store_internal.h"

struct store_slot_entry {
    uint64_t hash;
    uint32_t epoch;
    uint32_t head_flags;
    int owed;     /* the settle was not written: val is the slot's value once it is */
    uint8_t *val; /* malloc'd; handed to the taker */
    size_t vlen, klen;
    uint8_t key[]; /* the slot's key */
};

static int entry_owes(store_drive_t *d, const store_slot_entry_t *e)
{
    return e->owed && d->group != NULL && e->epoch == __atomic_load_n(&d->slot_cache_epoch, __ATOMIC_ACQUIRE);
}

/* Writes e's owed settle, unless an epoch moved since it was filled (the key may be gone): waited
 * for when the key's own writer goes on to read and write the slot (its write may bypass the
 * group commit, e.g. a record put, and must not be overtaken by the settle), else queued as every
 * settle was before the cache (the lock held is another key's, or the drive closes). A failed
 * one is lost as in a crash. Its replaced value is not counted for the range compactions
 * (compact.c, which calls this file): the puts of the key counted theirs. */
static void entry_settle(store_drive_t *d, store_slot_entry_t *e, int wait)
{
    meta_pending_t p;

    if (entry_owes(d, e) && !wait) {
        (void)meta_group_put_detached(d->group, e->key, e->klen, e->val, e->vlen);
    } else if (entry_owes(d, e)) {
        meta_group_put(d->group, &p, e->key, e->klen, e->val, e->vlen);
        (void)meta_group_wait(&p);
    }
    e->owed = 0;
}

static void entry_free(store_drive_t *d, store_slot_entry_t *e, int wait)
{
    entry_settle(d, e, wait);
    __atomic_sub_fetch(&d->slot_cache_bytes, e->vlen, __ATOMIC_RELAXED);
    free(e->val);
    free(e);
}

int store_slot_cache_take(store_drive_t *d, uint64_t hash, const meta_key_t *key, void **val, size_t *vlen,
                          uint32_t *head_flags, int *owed)
{
    store_slot_entry_t **at = &d->slot_cache[hash % STORE_SLOT_CACHE], *e = *at;

    if (e == NULL || e->hash != hash || e->klen != key->len || memcmp(e->key, key->buf, key->len) != 0)
        return 0; /* another key's entry stays */
    *at = NULL;
    if (e->epoch != __atomic_load_n(&d->slot_cache_epoch, __ATOMIC_ACQUIRE)) {
        entry_free(d, e, 0); /* owes nothing: the epoch moved */
        return 0;
    }
    __atomic_sub_fetch(&d->slot_cache_bytes, e->vlen, __ATOMIC_RELAXED);
    *val = e->val;
    *vlen = e->vlen;
    *head_flags = e->head_flags;
    *owed = e->owed;
    free(e);
    __atomic_add_fetch(&d->slot_cache_hits, 1, __ATOMIC_RELAXED);
    return 1;
}

void store_slot_cache_forget(store_drive_t *d, uint64_t hash)
{
    store_slot_entry_t **at = &d->slot_cache[hash % STORE_SLOT_CACHE];

    /* another key's entry in the same place goes too: cheaper than comparing keys, and harmless */
    if (*at != NULL) {
        entry_free(d, *at, 1);
        *at = NULL;
    }
}

int store_slot_cache_fill(store_drive_t *d, uint64_t hash, const meta_key_t *key, meta_buf_t *val, uint32_t head_flags,
                          int owed)
{
    store_slot_entry_t **at = &d->slot_cache[hash % STORE_SLOT_CACHE], *e;

    if (*at != NULL) { /* a key sharing the entry, or this key's own: its settle is queued */
        entry_free(d, *at, 0);
        *at = NULL;
    }
    if (val->len > STORE_SLOT_CACHE_VALUE_MAX ||
        __atomic_add_fetch(&d->slot_cache_bytes, val->len, __ATOMIC_RELAXED) > STORE_SLOT_CACHE_BYTES) {
        if (val->len <= STORE_SLOT_CACHE_VALUE_MAX)
            __atomic_sub_fetch(&d->slot_cache_bytes, val->len, __ATOMIC_RELAXED);
        return 0;
    }
    if ((e = malloc(sizeof(*e) + key->len)) == NULL) {
        __atomic_sub_fetch(&d->slot_cache_bytes, val->len, __ATOMIC_RELAXED);
        return 0;
    }
    /* the epoch read before the entry is published: a move after it makes the entry a miss */
    e->epoch = __atomic_load_n(&d->slot_cache_epoch, __ATOMIC_ACQUIRE);
    e->hash = hash;
    e->head_flags = head_flags;
    e->owed = owed;
    e->val = val->base; /* taken from the caller, who keeps an empty buffer */
    e->vlen = val->len;
    e->klen = key->len;
    memcpy(e->key, key->buf, key->len);
    *val = (meta_buf_t){0};
    *at = e;
    return 1;
}

size_t store_slot_cache_settle(store_drive_t *d)
{
    meta_pending_t pending[STORE_SLOT_CACHE / STORE_KEY_LOCKS];
    meta_waiter_t waiter;
    size_t owed = 0;

    /* each lock's settles waited for before it is released, as a writer of those keys would
     * (entry_settle), in one batch of the group commit rather than one each */
    for (size_t lock = 0; lock < STORE_KEY_LOCKS; lock++) {
        size_t n = 0;
        meta_waiter_init(&waiter);
        pthread_mutex_lock(&d->key_locks[lock]);
        for (size_t i = lock; i < STORE_SLOT_CACHE; i += STORE_KEY_LOCKS) {
            store_slot_entry_t *e = d->slot_cache[i];
            if (e != NULL && entry_owes(d, e))
                meta_group_put_joined(d->group, &pending[n++], &waiter, e->key, e->klen, e->val, e->vlen);
            if (e != NULL)
                e->owed = 0;
        }
        meta_waiter_wait(&waiter);
        pthread_mutex_unlock(&d->key_locks[lock]);
        owed += n;
    }
    return owed;
}

void store_slot_cache_invalidate(store_drive_t *d)
{
    __atomic_add_fetch(&d->slot_cache_epoch, 1, __ATOMIC_ACQ_REL);
}

void store_slot_cache_dispose(store_drive_t *d)
{
    for (size_t i = 0; i < STORE_SLOT_CACHE; i++) {
        if (d->slot_cache[i] != NULL)
            entry_free(d, d->slot_cache[i], 0); /* the group commit writes what is queued before it stops */
        d->slot_cache[i] = NULL;
    }
}
