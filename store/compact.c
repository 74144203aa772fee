/* compact.c — deletes compacted away: the drive engine counts the deletes it issues per key
 * range and compacts a range that accumulated many.
 *
 * A RocksDB delete writes a tombstone; the record it deletes and the tombstone itself stay until
 * a compaction reaches the last level, and until then every scan of the range (a lookup, a
 * listing) steps over them. A record replaced in place (a null slot) leaves its old value behind
 * the same way, in the memtable and in older SST files. RocksDB compacts by size, not by
 * garbage, so a drive that stops writing keeps it forever: after a burst of overwrites an idle
 * server never recovered (issue 19). So every delete and every in-place replacement is counted
 * against its range, and a range is compacted to the last level (meta_db_compact_range, which
 * flushes the memtables first when they overlap it) by one background thread per drive, started
 * at the first count: at once when it reached COMPACT_GARBAGE (but not more often than every
 * COMPACT_INTERVAL_NS while it stays busy), and when it holds COMPACT_IDLE_MIN and saw nothing
 * for COMPACT_IDLE_NS, so that an idle drive ends with its garbage gone.
 *
 * A range is the key's first bytes: for objects and uploads the namespace and the first two
 * bytes of the key (a bucket is not compacted whole for deletes under one prefix; a hot prefix
 * is), for the other records the tag and two bytes. The counters are a small table indexed by
 * a hash of the range; a range that lands on a slot another range holds with more deletes is
 * not counted (lossy, like any heavy-hitter counter: a range with many deletes keeps its slot,
 * and the one that lost is counted again once the slot is free). Compactions run one at a time,
 * so a drive never spends more than one compaction's I/O on this.
 *
 * The same thread settles a drive that turned idle: once its memtables stayed unchanged for
 * SETTLE_IDLE_NS it flushes them and merges level 0 into the levels below (meta_db_settle), so
 * that reads of an idle drive find every record in one sorted run with pinned index and filter
 * blocks, whatever wrote it (a burst of overwrites, a WAL replayed at open: the drive does not
 * flush at open, and the delete counts above start at zero after a restart). A settle rewrites
 * at most SETTLE_MAX_REWRITE bytes of the levels below, runs once per idle period, and only with
 * room to spare beyond the drive's free-space reserve.
 */
#include <errno.h>
#include <string.h>
#include <xxhash.h>
#include "store/store_internal.h"

#define COMPACT_GARBAGE     1024
#define COMPACT_INTERVAL_NS (2LL * 1000000000)
#define COMPACT_IDLE_MIN    64
#define COMPACT_IDLE_NS     (2LL * 1000000000)
#define COMPACT_TICK_NS     (1000LL * 1000000)
#define SETTLE_IDLE_NS      (10LL * 1000000000)
#define SETTLE_MAX_REWRITE  ((uint64_t)64 << 20)

/* Length of the range prefix of key: the tag, the namespace and its 0x00 for objects, heads and
 * uploads, then two bytes. */
static size_t range_len(const uint8_t *key, size_t klen)
{
    size_t n = 1;

    if (klen > 0 && (key[0] == 'O' || key[0] == 'U' || key[0] == 'H' || key[0] == 'h')) {
        const uint8_t *sep = memchr(key + 1, 0x00, klen - 1);
        n = sep != NULL ? (size_t)(sep - key) + 1 : klen;
    }
    n += 2;
    if (n > klen)
        n = klen;
    return n > STORE_RANGE_MAX ? STORE_RANGE_MAX : n;
}

/* A range whose compaction is due now, or NULL (d->compact_lock held); *wait_ns: how long
 * until the next one is due as a busy range (at most COMPACT_TICK_NS). */
static store_range_t *due_range(store_drive_t *d, int64_t now, int64_t *wait_ns)
{
    *wait_ns = COMPACT_TICK_NS;
    for (size_t i = 0; i < STORE_RANGES; i++) {
        store_range_t *r = &d->ranges[i];
        if (r->garbage >= COMPACT_GARBAGE && now - r->compacted_ns >= COMPACT_INTERVAL_NS)
            return r;
        if (r->garbage >= COMPACT_IDLE_MIN && now - r->noted_ns >= COMPACT_IDLE_NS)
            return r;
        if (r->garbage >= COMPACT_GARBAGE && r->compacted_ns + COMPACT_INTERVAL_NS - now < *wait_ns)
            *wait_ns = r->compacted_ns + COMPACT_INTERVAL_NS - now;
    }
    return NULL;
}

static struct timespec deadline_in(int64_t ns)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ns / 1000000000;
    t.tv_nsec += ns % 1000000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    return t;
}

/* Settles the drive when its memtables have not changed for SETTLE_IDLE_NS (see the top); called
 * on the compaction thread without compact_lock. */
static void maybe_settle(store_drive_t *d, int64_t now)
{
    meta_memtable_stats_t m;
    uint64_t level0 = 0, free, reserve;
    int compacted = 0;

    if (meta_db_memtable_stats(d->db, &m) != 0 || meta_db_level0_files(d->db, &level0))
        return;
    if (m.entries != d->settle_entries || d->settle_seen_ns == 0) {
        d->settle_entries = m.entries;
        d->settle_seen_ns = now;
        d->settle_done = 0;
        return;
    }
    if (d->settle_done || (m.entries == 0 && level0 == 0) || now - d->settle_seen_ns < SETTLE_IDLE_NS)
        return;
    d->settle_done = 1; /* once per idle period, whatever comes of it */
    if (meta_db_write_error(d->db) != 0 || store_drive_space(d, &free, &reserve) != 0 || free < 2 * reserve ||
        free - 2 * reserve < m.bytes + SETTLE_MAX_REWRITE)
        return;
    if (meta_db_settle(d->db, SETTLE_MAX_REWRITE, &compacted) == 0 && compacted) {
        pthread_mutex_lock(&d->compact_lock);
        d->settles++;
        pthread_mutex_unlock(&d->compact_lock);
    }
    /* the flush emptied the memtables: that is the state now seen, and settled */
    if (meta_db_memtable_stats(d->db, &m) == 0)
        d->settle_entries = m.entries;
}

static void *compact_main(void *arg)
{
    store_drive_t *d = arg;
    uint8_t start[STORE_RANGE_MAX], end[STORE_RANGE_MAX];
    size_t slen, elen;

    pthread_mutex_lock(&d->compact_lock);
    while (!d->compact_stop) {
        int64_t wait_ns;
        store_range_t *r = due_range(d, yc_mono_ns(), &wait_ns);
        if (r == NULL) {
            struct timespec until = deadline_in(wait_ns);
            pthread_cond_timedwait(&d->compact_cond, &d->compact_lock, &until);
            if (!d->compact_stop && due_range(d, yc_mono_ns(), &wait_ns) == NULL) {
                pthread_mutex_unlock(&d->compact_lock);
                maybe_settle(d, yc_mono_ns());
                pthread_mutex_lock(&d->compact_lock);
            }
            continue;
        }
        slen = elen = r->len;
        memcpy(start, r->prefix, r->len);
        memcpy(end, r->prefix, r->len);
        r->garbage = 0;
        r->compacted_ns = yc_mono_ns();
        pthread_mutex_unlock(&d->compact_lock);

        while (elen > 0 && end[elen - 1] == 0xFF) /* the prefix's successor */
            elen--;
        if (elen > 0)
            end[elen - 1]++;
        meta_db_compact_range(d->db, start, slen, elen > 0 ? end : NULL, elen);

        pthread_mutex_lock(&d->compact_lock);
        d->compactions++;
        pthread_cond_broadcast(&d->compact_cond);
    }
    pthread_mutex_unlock(&d->compact_lock);
    return NULL;
}

void store_compact_start(store_drive_t *d)
{
    pthread_mutex_lock(&d->compact_lock);
    if (!d->compact_started && !d->compact_stop && pthread_create(&d->compact_thread, NULL, compact_main, d) == 0)
        d->compact_started = 1;
    pthread_mutex_unlock(&d->compact_lock);
}

void store_compact_note(store_drive_t *d, const uint8_t *key, size_t klen, size_t garbage)
{
    size_t len = range_len(key, klen);
    store_range_t *slot = &d->ranges[XXH3_64bits(key, len) % STORE_RANGES];

    if (garbage == 0 || len == 0)
        return;
    pthread_mutex_lock(&d->compact_lock);
    if (!d->compact_started && !d->compact_stop) {
        /* the drive's first garbage: its compaction thread starts (one per drive that needs it) */
        if (pthread_create(&d->compact_thread, NULL, compact_main, d) == 0)
            d->compact_started = 1;
    }
    if (slot->len != len || memcmp(slot->prefix, key, len) != 0) {
        if (slot->garbage > garbage) {
            slot->garbage -= garbage; /* the holder fades as others pass: a slot is not kept forever */
            pthread_mutex_unlock(&d->compact_lock);
            return;
        }
        memcpy(slot->prefix, key, len);
        slot->len = len;
        slot->garbage = 0;
        slot->compacted_ns = 0;
    }
    slot->garbage += garbage;
    slot->noted_ns = yc_mono_ns();
    /* Woken only when the range is due now: one still in its interval since the last compaction
     * is taken when the thread's timed wait ends there (due_range). Before, every note of a busy
     * range woke the thread for nothing, some thousand times a second under overwrites. */
    if (slot->garbage >= COMPACT_GARBAGE && slot->noted_ns - slot->compacted_ns >= COMPACT_INTERVAL_NS)
        pthread_cond_broadcast(&d->compact_cond);
    pthread_mutex_unlock(&d->compact_lock);
}

uint64_t store_drive_compactions(store_drive_t *d, uint64_t after, int64_t wait_ns)
{
    struct timespec until = deadline_in(wait_ns);
    uint64_t n;

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
    pthread_condattr_t ca;

    pthread_mutex_init(&d->compact_lock, NULL);
    /* timed waits on the monotonic clock: a wall clock step neither stalls nor rushes them */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->compact_cond, &ca);
    pthread_condattr_destroy(&ca);
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
