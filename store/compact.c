/* compact.c — deletes compacted away: the drive engine counts the deletes it issues per key
 * range and compacts a range that accumulated many.
 *
 * A RocksDB delete writes a tombstone; the record it deletes and the tombstone itself stay until
 * a compaction reaches the last level, and until then every scan of the range (a lookup, a
 * listing) steps over them. RocksDB compacts by size, not by tombstones, so a drive that stops
 * writing keeps them forever: after a burst of deletes an idle server never recovered (issue 19).
 * So every delete is counted against its range, and a range that reached COMPACT_DELETES is
 * compacted to the last level (meta_db_compact_range, which flushes the memtables first when
 * they overlap it), on one background thread per drive, started at its first compaction.
 *
 * A range is the key's first bytes: for objects and uploads the namespace and the first two
 * bytes of the key (a bucket is not compacted whole for deletes under one prefix; a hot prefix
 * is), for the other records the tag and two bytes. The counters are a small table indexed by
 * a hash of the range; a range that lands on a slot another range holds with more deletes is
 * not counted (lossy, like any heavy-hitter counter: a range with many deletes keeps its slot,
 * and the one that lost is counted again once the slot is free). Compactions queue (at most
 * COMPACT_QUEUE ranges; a range already queued is not added twice) and run one at a time, so a
 * drive never spends more than one compaction's I/O on this.
 */
#include <errno.h>
#include <string.h>
#include <xxhash.h>
#include "store/store_internal.h"

#define COMPACT_DELETES 1024

/* Length of the range prefix of key: the tag, the namespace and its 0x00 for objects and
 * uploads, then two bytes. */
static size_t range_len(const uint8_t *key, size_t klen)
{
    size_t n = 1;

    if (klen > 0 && (key[0] == 'O' || key[0] == 'U')) {
        const uint8_t *sep = memchr(key + 1, 0x00, klen - 1);
        n = sep != NULL ? (size_t)(sep - key) + 1 : klen;
    }
    n += 2;
    if (n > klen)
        n = klen;
    return n > STORE_RANGE_MAX ? STORE_RANGE_MAX : n;
}

static void *compact_main(void *arg)
{
    store_drive_t *d = arg;
    store_range_t r;

    pthread_mutex_lock(&d->compact_lock);
    for (;;) {
        while (d->compact_queued == 0 && !d->compact_stop)
            pthread_cond_wait(&d->compact_cond, &d->compact_lock);
        if (d->compact_stop)
            break;
        r = d->compact_queue[0];
        memmove(&d->compact_queue[0], &d->compact_queue[1], (d->compact_queued - 1) * sizeof(r));
        d->compact_queued--;
        pthread_mutex_unlock(&d->compact_lock);

        uint8_t end[STORE_RANGE_MAX];
        size_t elen = r.len;
        memcpy(end, r.prefix, r.len);
        while (elen > 0 && end[elen - 1] == 0xFF) /* the prefix's successor */
            elen--;
        if (elen > 0)
            end[elen - 1]++;
        meta_db_compact_range(d->db, r.prefix, r.len, elen > 0 ? end : NULL, elen);

        pthread_mutex_lock(&d->compact_lock);
        d->compactions++;
        pthread_cond_broadcast(&d->compact_cond);
    }
    pthread_mutex_unlock(&d->compact_lock);
    return NULL;
}

/* Queues r for compaction (d->compact_lock held). */
static void compact_queue(store_drive_t *d, const store_range_t *r)
{
    for (size_t i = 0; i < d->compact_queued; i++)
        if (d->compact_queue[i].len == r->len && memcmp(d->compact_queue[i].prefix, r->prefix, r->len) == 0)
            return;
    if (d->compact_queued == STORE_COMPACT_QUEUE)
        return; /* the counter starts again: the range comes back if deletes go on */
    if (!d->compact_started) {
        if (pthread_create(&d->compact_thread, NULL, compact_main, d) != 0)
            return;
        d->compact_started = 1;
    }
    d->compact_queue[d->compact_queued++] = *r;
    pthread_cond_broadcast(&d->compact_cond);
}

void store_compact_note(store_drive_t *d, const uint8_t *key, size_t klen, size_t deletes)
{
    size_t len = range_len(key, klen);
    store_range_t *slot = &d->ranges[XXH3_64bits(key, len) % STORE_RANGES];

    if (deletes == 0 || len == 0)
        return;
    pthread_mutex_lock(&d->compact_lock);
    if (slot->len != len || memcmp(slot->prefix, key, len) != 0) {
        if (slot->deletes > deletes) {
            slot->deletes -= deletes; /* the holder fades as others pass: a slot is not kept forever */
            pthread_mutex_unlock(&d->compact_lock);
            return;
        }
        memcpy(slot->prefix, key, len);
        slot->len = len;
        slot->deletes = 0;
    }
    slot->deletes += deletes;
    if (slot->deletes >= COMPACT_DELETES) {
        compact_queue(d, slot);
        slot->deletes = 0;
    }
    pthread_mutex_unlock(&d->compact_lock);
}

uint64_t store_drive_compactions(store_drive_t *d, uint64_t after, int64_t wait_ns)
{
    struct timespec until;
    uint64_t n;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ns / 1000000000;
    until.tv_nsec += wait_ns % 1000000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&d->compact_lock);
    while (d->compactions <= after && wait_ns > 0 &&
           pthread_cond_timedwait(&d->compact_cond, &d->compact_lock, &until) != ETIMEDOUT)
        ;
    n = d->compactions;
    pthread_mutex_unlock(&d->compact_lock);
    return n;
}

void store_compact_init(store_drive_t *d)
{
    pthread_mutex_init(&d->compact_lock, NULL);
    pthread_cond_init(&d->compact_cond, NULL);
}

void store_compact_stop(store_drive_t *d)
{
    pthread_mutex_lock(&d->compact_lock);
    d->compact_stop = 1;
    pthread_cond_broadcast(&d->compact_cond);
    pthread_mutex_unlock(&d->compact_lock);
    if (d->compact_started)
        pthread_join(d->compact_thread, NULL); /* a compaction in progress finishes first */
    pthread_cond_destroy(&d->compact_cond);
    pthread_mutex_destroy(&d->compact_lock);
}
