/* lock.c — namespace locks: one drive's share of a lock the gateway takes on a quorum of drives.
 *
 * Operations that must not race (CompleteMultipartUpload against AbortMultipartUpload, two
 * creations of one bucket) take a lock on a quorum of drives; two quorums meet in at least one
 * drive, and that drive grants the lock to one owner only. Here is that drive's part.
 *
 * A lock is a record 'L' name -> owner (16 random bytes of the holder) and the wall-clock time
 * its lease ends. It is written with a synced WAL like every record, so a drive that restarts
 * still knows who holds what: a restart cannot hand out a second grant while the first holder
 * works. A holder that dies stops renewing, and once the lease has run out on this drive's clock
 * the next owner takes the lock over. The lease is judged by the drive's clock alone (the
 * gateway only says how long), so clock differences between gateways do not matter.
 *
 * Value: owner[16] | be64 lease end (ns since the epoch) | xxh3-64 of the 24 bytes before it.
 * A value that does not check out (torn, bit-rotted) is treated as no lock: refusing forever
 * would wedge the name, and the quorum still protects the holder on the other drives.
 *
 * Acquire and release read, decide and write under one of the drive's key mutexes (chosen by
 * the name), so two owners asking the same drive at once are ordered.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>
#include "store/store_internal.h"

#define LOCK_VALUE_LEN (META_ID_LEN + 8 + 8)

static pthread_mutex_t *name_mutex(store_drive_t *d, meta_bytes_t name)
{
    /* a different seed from the object key locks: the same stripe is fine, only the spread matters */
    return &d->key_locks[XXH3_64bits_withSeed(name.base, name.len, 0x6c6f636bULL) % STORE_KEY_LOCKS];
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static void encode(const uint8_t owner[META_ID_LEN], int64_t until_ns, uint8_t out[LOCK_VALUE_LEN])
{
    memcpy(out, owner, META_ID_LEN);
    put_be64(out + META_ID_LEN, (uint64_t)until_ns);
    put_be64(out + META_ID_LEN + 8, XXH3_64bits(out, META_ID_LEN + 8));
}

/* The current holder of the lock: 1 with owner/until filled, 0 when nobody holds it (no record,
 * or a record that does not check out), negative on a read error. */
static int current_holder(store_drive_t *d, const meta_key_t *key, uint8_t owner[META_ID_LEN], int64_t *until_ns)
{
    void *val = NULL;
    size_t vlen = 0;
    int ret = store_meta_err(meta_db_get(d->db, key->buf, key->len, &val, &vlen));

    if (ret == STORE_ENOENT)
        return 0;
    if (ret != 0)
        return ret;
    const uint8_t *v = val;
    ret = 0;
    if (vlen == LOCK_VALUE_LEN && get_be64(v + META_ID_LEN + 8) == XXH3_64bits(v, META_ID_LEN + 8)) {
        memcpy(owner, v, META_ID_LEN);
        *until_ns = (int64_t)get_be64(v + META_ID_LEN);
        ret = 1;
    }
    free(val);
    return ret;
}

int store_lock_acquire(store_drive_t *d, meta_bytes_t name, const uint8_t owner[META_ID_LEN], int64_t lease_ns)
{
    pthread_mutex_t *mutex = name_mutex(d, name);
    uint8_t holder[META_ID_LEN], val[LOCK_VALUE_LEN];
    int64_t until = 0, now;
    meta_key_t key;
    int ret;

    if (lease_ns <= 0 || meta_key_lock(name, &key) != 0)
        return STORE_EINVAL;
    pthread_mutex_lock(mutex);
    now = yc_now_ns();
    if ((ret = current_holder(d, &key, holder, &until)) < 0)
        goto done;
    if (ret == 1 && until > now && memcmp(holder, owner, META_ID_LEN) != 0) {
        ret = STORE_EBUSY;
        goto done;
    }
    encode(owner, now + lease_ns, val);
    ret = store_meta_err(meta_db_put(d->db, key.buf, key.len, val, sizeof(val)));
done:
    pthread_mutex_unlock(mutex);
    return ret;
}

int store_lock_release(store_drive_t *d, meta_bytes_t name, const uint8_t owner[META_ID_LEN])
{
    pthread_mutex_t *mutex = name_mutex(d, name);
    uint8_t holder[META_ID_LEN];
    int64_t until = 0;
    meta_key_t key;
    int ret;

    if (meta_key_lock(name, &key) != 0)
        return STORE_EINVAL;
    pthread_mutex_lock(mutex);
    ret = current_holder(d, &key, holder, &until);
    /* only the holder's release counts: a late release must not free a lock taken over since */
    if (ret == 1 && memcmp(holder, owner, META_ID_LEN) == 0) {
        if ((ret = store_meta_err(meta_db_delete(d->db, key.buf, key.len))) == 0)
            store_compact_note(d, key.buf, key.len, 1);
    } else if (ret >= 0)
        ret = 0;
    pthread_mutex_unlock(mutex);
    return ret;
}
