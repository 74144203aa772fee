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
    uint8_t *val; /* malloc'd; handed to the taker */
    size_t vlen, klen;
    uint8_t key[]; /* the slot's key */
};

static void entry_free(store_drive_t *d, store_slot_entry_t *e)
{
    __atomic_sub_fetch(&d->slot_cache_bytes, e->vlen, __ATOMIC_RELAXED);
    free(e->val);
    free(e);
}

int store_slot_cache_take(store_drive_t *d, uint64_t hash, const meta_key_t *key, void **val, size_t *vlen,
                          uint32_t *head_flags)
{
    store_slot_entry_t **at = &d->slot_cache[hash % STORE_SLOT_CACHE], *e = *at;

    if (e == NULL || e->hash != hash || e->klen != key->len || memcmp(e->key, key->buf, key->len) != 0)
        return 0; /* another key's entry stays */
    *at = NULL;
    if (e->epoch != __atomic_load_n(&d->slot_cache_epoch, __ATOMIC_ACQUIRE)) {
        entry_free(d, e);
        return 0;
    }
    __atomic_sub_fetch(&d->slot_cache_bytes, e->vlen, __ATOMIC_RELAXED);
    *val = e->val;
    *vlen = e->vlen;
    *head_flags = e->head_flags;
    free(e);
    __atomic_add_fetch(&d->slot_cache_hits, 1, __ATOMIC_RELAXED);
    return 1;
}

void store_slot_cache_forget(store_drive_t *d, uint64_t hash)
{
    store_slot_entry_t **at = &d->slot_cache[hash % STORE_SLOT_CACHE];

    /* another key's entry in the same place goes too: cheaper than comparing keys, and harmless */
    if (*at != NULL) {
        entry_free(d, *at);
        *at = NULL;
    }
}

void store_slot_cache_fill(store_drive_t *d, uint64_t hash, const meta_key_t *key, meta_buf_t *val, uint32_t head_flags)
{
    store_slot_entry_t **at = &d->slot_cache[hash % STORE_SLOT_CACHE], *e;

    store_slot_cache_forget(d, hash);
    if (val->len > STORE_SLOT_CACHE_VALUE_MAX ||
        __atomic_add_fetch(&d->slot_cache_bytes, val->len, __ATOMIC_RELAXED) > STORE_SLOT_CACHE_BYTES) {
        if (val->len <= STORE_SLOT_CACHE_VALUE_MAX)
            __atomic_sub_fetch(&d->slot_cache_bytes, val->len, __ATOMIC_RELAXED);
        return;
    }
    if ((e = malloc(sizeof(*e) + key->len)) == NULL) {
        __atomic_sub_fetch(&d->slot_cache_bytes, val->len, __ATOMIC_RELAXED);
        return;
    }
    /* the epoch read before the entry is published: a move after it makes the entry a miss */
    e->epoch = __atomic_load_n(&d->slot_cache_epoch, __ATOMIC_ACQUIRE);
    e->hash = hash;
    e->head_flags = head_flags;
    e->val = val->base; /* taken from the caller, who keeps an empty buffer */
    e->vlen = val->len;
    e->klen = key->len;
    memcpy(e->key, key->buf, key->len);
    *val = (meta_buf_t){0};
    *at = e;
}

void store_slot_cache_invalidate(store_drive_t *d)
{
    __atomic_add_fetch(&d->slot_cache_epoch, 1, __ATOMIC_ACQ_REL);
}

void store_slot_cache_dispose(store_drive_t *d)
{
    for (size_t i = 0; i < STORE_SLOT_CACHE; i++) {
        if (d->slot_cache[i] != NULL)
            entry_free(d, d->slot_cache[i]);
        d->slot_cache[i] = NULL;
    }
}
