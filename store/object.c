/* object.c — object version records on a drive, and the shard files they own.
 *
 * A record is the commit point of a write on this drive (store.h): shards are durable before
 * store_object_put is called, and a version's shard files are deleted only after the record
 * that names them is durably gone. A crash in between leaves orphan files, never a record
 * whose data is missing.
 *
 * The null version (all-zero vid) is the one version unversioned buckets keep. It lives in the
 * key's null slot (meta.h): one RocksDB key per object key, replaced in place, so an overwrite
 * leaves no tombstone for later reads and listings to walk past. Replacing is still two steps,
 * because the new version may fail to reach a write quorum on the other drives of its set, and
 * then the old one must still be whole: store_object_put writes the slot with the new version
 * in front of the ones it replaces (readers take the newest), and store_object_prune, called by
 * the gateway once the quorum acknowledged, writes it again with the older ones dropped, then
 * deletes their shard files; store_object_takeback removes a version whose write failed. The
 * reads and writes of one slot must not interleave on this drive, so puts, prunes, takebacks
 * and deletes of one key take one of STORE_KEY_LOCKS mutexes chosen by a hash of bucket and key.
 *
 * Concurrent writers of one key are ordered by (modification time, version id) on every drive
 * (the design's rule; the first part's data id and the size break a tie of two writes in the
 * same nanosecond, so that every drive picks the same one), kept in the records of the slot and
 * compared under the lock. A put older than the newest null version already stored is absorbed
 * — the slot is not written and its shard files are deleted, as if it had been written and
 * replaced at once — and reported as STORE_ESTALE: the drive does not hold that version, so it
 * must not count towards its quorum. A slot holds at most META_SLOT_MAX versions: one that
 * would be pushed out is the oldest of several writes none of which was acknowledged yet.
 *
 * Free space (store.h): a put asks the drive for room for its record (half the reserve must stay
 * free), before it reads or locks anything; deletes and prunes only need a database that takes
 * writes, and ask the drive to flush when it is short, so that the deleted records leave the WAL.
 *
 * A data id belongs to one record: deleting or replacing a version deletes the shard files of
 * every part it references (shard index from the record), except those a kept version shares.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include "store/store_internal.h"

static const uint8_t null_vid[META_ID_LEN];

static int is_null_vid(const uint8_t *vid)
{
    return memcmp(vid, null_vid, META_ID_LEN) == 0;
}

static uint64_t key_hash(meta_bytes_t bucket, meta_bytes_t key)
{
    return XXH3_64bits_withSeed(key.base, key.len, XXH3_64bits(bucket.base, bucket.len));
}

static pthread_mutex_t *key_lock(store_drive_t *d, meta_bytes_t bucket, meta_bytes_t key)
{
    return &d->key_locks[key_hash(bucket, key) % STORE_KEY_LOCKS];
}

/* Takes the key's lock for a write of its slot or head other than a put's: the slot cache's
 * entry of the key goes first (slot_cache.c). */
static void lock_for_write(store_drive_t *d, pthread_mutex_t *lock, meta_bytes_t bucket, meta_bytes_t key)
{
    pthread_mutex_lock(lock);
    store_slot_cache_forget(d, key_hash(bucket, key));
}

/* ---------------------------------------------------------------- versioned records */

/* One version found by a scan: its key and a private copy of its record. */
typedef struct {
    meta_key_t key;
    int64_t mtime_ns;
    uint8_t *val;
    size_t vlen;
} found_version_t;

typedef struct {
    const uint8_t *vid; /* only versions with this vid; NULL: any */
    int all;            /* collect every match instead of stopping at the first */
    found_version_t *found;
    size_t count, cap;
} version_scan_t;

static int version_scan_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    version_scan_t *s = arg;
    found_version_t *f;
    uint8_t vid[META_ID_LEN];
    int64_t mtime;

    /* Every key under the versions prefix is a version of this object key (meta.h's escaping
     * keeps longer keys out); one that does not parse is skipped, not trusted, and so is the
     * null slot, which null_slot_read reads. */
    if (klen > sizeof(s->found[0].key.buf) || meta_key_parse_object(key, klen, NULL, NULL, NULL, &mtime, vid) != 0 ||
        mtime == META_NULL_SLOT_MTIME)
        return 0;
    if (s->vid != NULL && memcmp(vid, s->vid, META_ID_LEN) != 0)
        return 0;
    if (s->count == s->cap) {
        size_t cap = s->cap == 0 ? 2 : 2 * s->cap;
        found_version_t *n = realloc(s->found, cap * sizeof(*n));
        if (n == NULL)
            return -ENOMEM;
        s->found = n;
        s->cap = cap;
    }
    f = &s->found[s->count];
    if ((f->val = malloc(vlen > 0 ? vlen : 1)) == NULL)
        return -ENOMEM;
    memcpy(f->key.buf, key, klen);
    f->key.len = klen;
    f->mtime_ns = mtime;
    memcpy(f->val, val, vlen);
    f->vlen = vlen;
    s->count++;
    return s->all ? 0 : 1;
}

static void version_scan_dispose(version_scan_t *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->found[i].val);
    free(s->found);
}

/* The version whose record key is the one its vid gives: a version id begins with its complemented
 * modification time (gw_version_id_new), which is the record key's time. 1 with it in s, 0 when
 * there is no such record. Why: a scan of the key's versions for one vid walks every newer version
 * and every tombstone of one deleted before it, so deleting 99 of a key's 100 versions newest
 * first cost 5,000 steps per drive (issue 19's versioned case). */
static int find_version_exact(store_drive_t *d, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid,
                              version_scan_t *s)
{
    meta_key_t k;
    void *val;
    size_t vlen;
    int ret;

    if (meta_key_object(bucket, key, (int64_t)~yc_get_be64(vid), vid, &k) != 0 ||
        meta_db_get(d->db, k.buf, k.len, &val, &vlen) != 0)
        return 0; /* the scan decides, errors included */
    ret = version_scan_cb(s, k.buf, k.len, val, vlen);
    free(val);
    return ret < 0 ? ret : s->count > 0;
}

/* Finds the versioned records of bucket/key whose vid is vid (NULL: any), newest first; unless
 * all is set the scan stops at the first, so vid NULL finds the newest. */
static int find_versions(store_drive_t *d, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid, int all,
                         version_scan_t *s)
{
    meta_key_t prefix;
    int ret;

    memset(s, 0, sizeof(*s));
    if ((ret = meta_key_object_versions(bucket, key, &prefix)) != 0)
        return store_meta_err(ret);
    s->vid = vid;
    s->all = all;
    /* a vid names one record key: a version written with another time than its id's (none is)
     * would be found by the scan below */
    if (vid != NULL && (ret = find_version_exact(d, bucket, key, vid, s)) != 0)
        return ret < 0 ? ret : 0;
    ret = meta_db_scan(d->db, prefix.buf, prefix.len, NULL, 0, version_scan_cb, s);
    if (ret == -ENOMEM)
        return ret;
    return store_meta_err(ret);
}

/* ---------------------------------------------------------------- shard files */

static int references_data(const meta_object_t *r, const uint8_t data_id[META_ID_LEN])
{
    meta_part_ref_t p;

    if (r == NULL || (r->flags & (META_OBJ_DELETE_MARKER | META_OBJ_INLINE)))
        return 0;
    for (uint32_t i = 0; i < r->part_count; i++) {
        if (meta_object_part(r, i, &p) == 0 && memcmp(p.data_id, data_id, META_ID_LEN) == 0)
            return 1;
    }
    return 0;
}

/* Deletes this drive's shard files of record r but those that one of the n records in keep
 * still uses. Best effort: a file that cannot be removed is an orphan, which costs space, not
 * data. */
static void delete_record_shards(store_drive_t *d, const meta_object_t *r, const meta_object_t *const *keep, size_t n)
{
    meta_part_ref_t p;
    int shared;

    if (r->flags & (META_OBJ_DELETE_MARKER | META_OBJ_INLINE))
        return;
    for (uint32_t i = 0; i < r->part_count; i++) {
        if (meta_object_part(r, i, &p) != 0)
            continue;
        shared = 0;
        for (size_t j = 0; j < n && !shared; j++)
            shared = references_data(keep[j], p.data_id);
        if (!shared)
            store_shard_delete(d, p.data_id, r->shard_index);
    }
}

/* Same, from a stored record's bytes; an undecodable record's files cannot be named. */
static void delete_raw_record_shards(store_drive_t *d, const found_version_t *f)
{
    meta_object_t r;

    if (meta_object_decode(f->val, f->vlen, &r) == 0)
        delete_record_shards(d, &r, NULL, 0);
}

/* ---------------------------------------------------------------- the null slot */

/* The order of concurrent writers: > 0 when a was written after b, 0 for the same write. */
static int version_cmp(const meta_object_t *a, const meta_object_t *b)
{
    uint8_t da[META_ID_LEN] = {0}, db[META_ID_LEN] = {0};
    meta_part_ref_t p;
    int c;

    if (a->mtime_ns != b->mtime_ns)
        return a->mtime_ns > b->mtime_ns ? 1 : -1;
    if ((c = memcmp(a->vid, b->vid, META_ID_LEN)) != 0)
        return c;
    if (a->part_count > 0 && meta_object_part(a, 0, &p) == 0)
        memcpy(da, p.data_id, META_ID_LEN);
    if (b->part_count > 0 && meta_object_part(b, 0, &p) == 0)
        memcpy(db, p.data_id, META_ID_LEN);
    if ((c = memcmp(da, db, META_ID_LEN)) != 0)
        return c;
    if (a->size != b->size)
        return a->size > b->size ? 1 : -1;
    if (a->flags != b->flags)
        return a->flags > b->flags ? 1 : -1;
    return 0;
}

/* A null slot as read from the drive: its value and its records, decoded in place. */
typedef struct {
    meta_key_t key;
    void *val; /* from meta_db_get; NULL when the key has no null version here */
    size_t vlen;
    meta_bytes_t raw[META_SLOT_MAX];
    meta_object_t rec[META_SLOT_MAX];
    size_t n;
} null_slot_t;

static void null_slot_dispose(null_slot_t *s)
{
    free(s->val);
    s->val = NULL;
    s->n = 0;
}

/* Decodes the records of s->val in place. A record that does not decode is left out: the
 * healer rewrites it, and the next write of the slot drops it. */
static void null_slot_decode(null_slot_t *s)
{
    meta_bytes_t rec;
    size_t pos = 0;

    while (s->n < META_SLOT_MAX && meta_slot_next(s->val, s->vlen, &pos, &rec) == 1) {
        if (meta_object_decode(rec.base, rec.len, &s->rec[s->n]) == 0)
            s->raw[s->n++] = rec;
    }
}

/* Reads the null slot of bucket/key (null_slot_decode). */
static int null_slot_read(store_drive_t *d, meta_bytes_t bucket, meta_bytes_t key, null_slot_t *s)
{
    int ret;

    s->val = NULL;
    s->vlen = 0;
    s->n = 0;
    if ((ret = meta_key_object_null(bucket, key, &s->key)) != 0)
        return store_meta_err(ret);
    ret = meta_db_get(d->db, s->key.buf, s->key.len, &s->val, &s->vlen);
    if (ret == META_ENOENT) {
        s->val = NULL;
        return 0;
    }
    if (ret != 0)
        return store_meta_err(ret);
    null_slot_decode(s);
    return 0;
}

/* Writes the slot with the n records raw (newest first), or deletes it when n is 0, in one batch
 * with the nextra writes of extra (the key's head; borrowed until it returns); replaced: the slot
 * held a value before; detached (n > 0, nextra 0 only): queued in the group commit, not waited
 * for. */
static int null_slot_write(store_drive_t *d, const meta_key_t *key, const meta_bytes_t *raw, size_t n, int replaced,
                           int detached, const meta_op_t *extra, size_t nextra)
{
    meta_op_t ops[1 + 3];
    meta_buf_t val = {0};
    int ret;

    meta_pending_t p;

    for (size_t i = 0; i < nextra && i < 3; i++)
        ops[1 + i] = extra[i];
    if (n == 0) {
        ops[0] = (meta_op_t){.key = key->buf, .klen = key->len, .is_delete = 1};
        meta_group_write(d->group, &p, NULL, ops, 1 + nextra);
        if ((ret = meta_group_wait(&p)) == 0)
            store_compact_note(d, key->buf, key->len, 1);
        return store_meta_err(ret);
    }
    if ((ret = meta_slot_encode(raw, n, &val)) == 0 && detached) {
        ret = meta_group_put_detached(d->group, key->buf, key->len, val.base, val.len);
    } else if (ret == 0) {
        ops[0] = (meta_op_t){.key = key->buf, .klen = key->len, .val = val.base, .vlen = val.len};
        meta_group_write(d->group, &p, NULL, ops, 1 + nextra);
        ret = meta_group_wait(&p);
    }
    meta_buf_dispose(&val);
    if (ret == 0 && replaced)
        store_compact_note(d, key->buf, key->len, 1); /* the old value stays until a compaction */
    return store_meta_err(ret);
}

/* Deletes the shard files of the records of s not in keep[] (by index), but those a kept
 * record (or extra, may be NULL) shares. */
static void delete_dropped_shards(store_drive_t *d, const null_slot_t *s, const uint8_t *kept,
                                  const meta_object_t *extra)
{
    const meta_object_t *keep[META_SLOT_MAX + 1];
    size_t n = 0;

    for (size_t i = 0; i < s->n; i++)
        if (kept[i])
            keep[n++] = &s->rec[i];
    if (extra != NULL)
        keep[n++] = extra;
    for (size_t i = 0; i < s->n; i++)
        if (!kept[i])
            delete_record_shards(d, &s->rec[i], keep, n);
}

/* ---------------------------------------------------------------- heads
 *
 * Every change of a key's records that can change which one is its newest writes the key's head
 * (meta.h) in the same atomic batch, under the key's lock: the head is read, the new one
 * decided, and the batch carries the record change and the head's put (and the delete of its
 * old key when it moves between the live and the dead range). Most changes decide from the
 * head alone (a put compares itself with it); removing the newest record makes the next one
 * the newest, found by the null slot and the first remaining version (a scan from the front of
 * the key's versions, as a delete already costs). */

/* A head as decided: h.record (a version's record bytes) points into the caller's memory or into
 * own; force: written even when its header is as stored (the version's record changed). */
typedef struct {
    int present, force;
    meta_head_t h;
    uint8_t *own;
} head_state_t;

static void head_state_dispose(head_state_t *s)
{
    free(s->own);
    s->own = NULL;
}

/* The head writes of one change: the old keys' deletes and the new head's put, at most. */
typedef struct {
    meta_key_t keys[3];
    uint8_t *val; /* the new head's value, malloc'd */
    meta_op_t ops[3];
    size_t n;
} head_change_t;

static void head_change_dispose(head_change_t *c)
{
    free(c->val);
    c->val = NULL;
}

static int head_dead(const meta_head_t *h)
{
    return (h->flags & META_HEAD_MARKER) != 0;
}

static void head_of_slot(const meta_object_t *first, head_state_t *out)
{
    out->present = 1;
    out->h = (meta_head_t){.flags = META_HEAD_SLOT | ((first->flags & META_OBJ_DELETE_MARKER) ? META_HEAD_MARKER : 0)};
}

/* raw: r's encoded bytes (borrowed for as long as out is used). */
static void head_of_version(const meta_object_t *r, meta_bytes_t raw, head_state_t *out)
{
    out->present = 1;
    out->h =
        (meta_head_t){.flags = (r->flags & META_OBJ_DELETE_MARKER) ? META_HEAD_MARKER : 0, .mtime_ns = r->mtime_ns};
    memcpy(out->h.vid, r->vid, META_ID_LEN);
    out->h.record = raw;
}

/* > 0 when version (mtime a, vid va) is newer than (b, vb): the order of a key's versions. */
static int newer_than(int64_t a, const uint8_t *va, int64_t b, const uint8_t *vb)
{
    if (a != b)
        return a > b ? 1 : -1;
    return memcmp(va, vb, META_ID_LEN);
}

/* The key's head: present 0 when it has none; *ok 0 for a head that does not decode (its keys
 * are then deleted and the head recomputed from the records). */
static int head_read(store_drive_t *d, const meta_key_t *prefix, head_state_t *out, int *ok)
{
    int ret = meta_db_head_get(d->db, prefix->buf, prefix->len, &out->h);

    out->present = ret == 0;
    *ok = ret != META_ECORRUPT;
    if (ret == META_ENOENT || ret == META_ECORRUPT)
        return 0;
    return ret == 0 ? 0 : store_meta_err(ret);
}

/* The writes that take the head from old to new into c (none when it stays); old_ok 0: old did
 * not decode, both its keys go. */
static int head_change(const meta_key_t *prefix, const head_state_t *old, int old_ok, const head_state_t *nh,
                       head_change_t *c)
{
    int moved = old->present && (!nh->present || head_dead(&old->h) != head_dead(&nh->h));

    c->n = 0;
    c->val = NULL;
    for (int dead = 0; !old_ok && dead < 2; dead++) {
        meta_key_head_of(prefix->buf, prefix->len, dead, &c->keys[c->n]);
        c->ops[c->n] = (meta_op_t){.key = c->keys[c->n].buf, .klen = c->keys[c->n].len, .is_delete = 1};
        c->n++;
    }
    if (!old_ok) {
        moved = 1; /* the put below is written whatever the old bytes were */
    } else if (moved) {
        meta_key_head_of(prefix->buf, prefix->len, head_dead(&old->h), &c->keys[c->n]);
        c->ops[c->n] = (meta_op_t){.key = c->keys[c->n].buf, .klen = c->keys[c->n].len, .is_delete = 1};
        c->n++;
    }
    if (nh->present && (moved || nh->force || !old->present || old->h.flags != nh->h.flags ||
                        old->h.mtime_ns != nh->h.mtime_ns || memcmp(old->h.vid, nh->h.vid, META_ID_LEN) != 0)) {
        size_t vlen = META_HEAD_LEN + nh->h.record.len;
        if ((c->val = malloc(vlen)) == NULL)
            return -ENOMEM;
        meta_key_head_of(prefix->buf, prefix->len, head_dead(&nh->h), &c->keys[c->n]);
        meta_head_encode(&nh->h, c->val);
        if (nh->h.record.len > 0)
            memcpy(c->val + META_HEAD_LEN, nh->h.record.base, nh->h.record.len);
        c->ops[c->n] = (meta_op_t){.key = c->keys[c->n].buf, .klen = c->keys[c->n].len, .val = c->val, .vlen = vlen};
        c->n++;
    }
    return 0;
}

/* The newest version of a key (not the slot) but those whose vid is gone, decoded in a copy. */
typedef struct {
    const uint8_t *gone;
    uint8_t *val;
    size_t vlen;
    meta_object_t rec;
    int found;
} newest_version_t;

static int newest_version_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    newest_version_t *s = arg;
    uint8_t vid[META_ID_LEN];
    int64_t mtime;

    if (meta_key_parse_object(key, klen, NULL, NULL, NULL, &mtime, vid) != 0 || mtime == META_NULL_SLOT_MTIME ||
        (s->gone != NULL && memcmp(vid, s->gone, META_ID_LEN) == 0))
        return 0;
    if ((s->val = malloc(vlen > 0 ? vlen : 1)) == NULL)
        return -ENOMEM;
    memcpy(s->val, val, vlen);
    s->vlen = vlen;
    if (meta_object_decode(s->val, vlen, &s->rec) != 0) {
        free(s->val); /* a damaged record: the healer's; the next one decides */
        s->val = NULL;
        return 0;
    }
    s->found = 1;
    return 1;
}

/* The head a key has from its records: the slot's first record after the change (slot_first,
 * NULL: none) against the newest version but those of vid gone (NULL: none goes). */
static int head_compute(store_drive_t *d, const meta_key_t *prefix, const meta_object_t *slot_first,
                        const uint8_t *gone, head_state_t *out)
{
    newest_version_t s = {.gone = gone};
    int ret = meta_db_scan(d->db, prefix->buf, prefix->len, NULL, 0, newest_version_cb, &s);

    if (ret != 0) {
        free(s.val);
        return ret == -ENOMEM ? ret : store_meta_err(ret);
    }
    head_state_dispose(out);
    out->present = 0;
    if (s.found &&
        (slot_first == NULL || newer_than(s.rec.mtime_ns, s.rec.vid, slot_first->mtime_ns, slot_first->vid) > 0)) {
        head_of_version(&s.rec, (meta_bytes_t){(const char *)s.val, s.vlen}, out);
        out->own = s.val; /* the head's record copy comes from it */
        return 0;
    }
    if (slot_first != NULL)
        head_of_slot(slot_first, out);
    free(s.val);
    return 0;
}

/* The key's head after its slot's first record became slot_first (NULL: the slot went), the
 * versions staying as they are; grew: slot_first is newer than every record the slot held (a
 * put), else it is one of them or nothing (a removal). old_ok: old was read and decoded. */
static int head_after_slot_change(store_drive_t *d, const meta_key_t *prefix, const head_state_t *old, int old_ok,
                                  const meta_object_t *slot_first, int grew, head_state_t *out)
{
    if (old_ok && old->present && !(old->h.flags & META_HEAD_SLOT)) {
        /* a version is the newest: only a newer null version takes its place */
        *out = *old;
        if (grew && newer_than(slot_first->mtime_ns, slot_first->vid, old->h.mtime_ns, old->h.vid) > 0)
            head_of_slot(slot_first, out);
        return 0;
    }
    if (old_ok && grew) {
        /* the slot was the newest, or the key had no record: a newer first record still is */
        head_of_slot(slot_first, out);
        return 0;
    }
    return head_compute(d, prefix, slot_first, NULL, out);
}

/* The key's head after version r (not the null version, encoded in raw) was added. */
static int head_after_version_put(store_drive_t *d, const meta_object_t *r, meta_bytes_t raw, const meta_key_t *prefix,
                                  const head_state_t *old, int old_ok, head_state_t *out)
{
    null_slot_t slot = {0};
    int ret = 0, c;

    if (old_ok && !old->present) {
        head_of_version(r, raw, out); /* the key's first record here */
        return 0;
    }
    if (old_ok && !(old->h.flags & META_HEAD_SLOT)) {
        *out = *old;
        if ((c = newer_than(r->mtime_ns, r->vid, old->h.mtime_ns, old->h.vid)) >= 0)
            head_of_version(r, raw, out);
        out->force = c == 0; /* the newest written again (a retry, a heal): its copy too */
        return 0;
    }
    /* the slot is the newest (its record has the time), or the head is damaged */
    if ((ret = null_slot_read(d, r->bucket, r->key, &slot)) != 0)
        return ret;
    const meta_object_t *first = slot.n > 0 ? &slot.rec[0] : NULL;
    if (old_ok && first != NULL)
        head_of_slot(first, out);
    else if ((ret = head_compute(d, prefix, first, NULL, out)) != 0)
        goto out;
    if (!out->present ||
        ((out->h.flags & META_HEAD_SLOT) ? newer_than(r->mtime_ns, r->vid, first->mtime_ns, first->vid) > 0
                                         : newer_than(r->mtime_ns, r->vid, out->h.mtime_ns, out->h.vid) >= 0)) {
        head_state_dispose(out);
        head_of_version(r, raw, out);
    }

out:
    null_slot_dispose(&slot);
    return ret;
}

/* What a head change leaves for a compaction: a delete's tombstone, a replaced value. */
static void head_note(store_drive_t *d, const head_change_t *c, int old_present)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->ops[i].is_delete || old_present)
            store_compact_note(d, c->ops[i].key, c->ops[i].klen, 1);
}

static void batch_op(meta_batch_t *b, const meta_op_t *op)
{
    if (op->is_delete)
        meta_batch_delete(b, op->key, op->klen);
    else
        meta_batch_put(b, op->key, op->klen, op->val, op->vlen);
}

/* The ops of a record change (op) followed by those of its head change hc (may be NULL). */
static size_t with_head(meta_op_t *ops, meta_op_t op, const head_change_t *hc)
{
    size_t n = 0;

    ops[n++] = op;
    for (size_t i = 0; hc != NULL && i < hc->n; i++)
        ops[n++] = hc->ops[i];
    return n;
}

/* A record write queued in the drive's group commit, from store_object_put_begin to _end. */
struct store_put {
    store_drive_t *d;
    const meta_object_t *r;
    pthread_mutex_t *lock; /* the key's, held until _end; NULL for a versioned put */
    uint64_t hash;         /* of bucket and key: the lock's and the slot cache's */
    int cached;            /* the slot and its head came from the slot cache (cached_head: its flags) */
    uint32_t cached_head;
    int64_t settled_head; /* the head flags a null put leaves when its head names the slot, else -1 */
    meta_buf_t val;       /* r encoded */
    meta_key_t key;       /* r's version key (versioned) */
    meta_buf_t slot_val;  /* the null slot's new value */
    null_slot_t slot;     /* as read before */
    uint8_t kept[META_SLOT_MAX];
    meta_waiter_t *waiter; /* NULL: waited for alone */
    meta_key_t prefix;     /* r's versions prefix: its head's */
    head_change_t head;    /* the head's writes, in the batch of the record's */
    int head_replaced;     /* the head had a value before */
    meta_op_t ops[1 + 3];
    meta_pending_t pending;
    int waited, result; /* the batch's outcome, once waited for */
};

static void put_free(store_put_t *p)
{
    head_change_dispose(&p->head);
    if (p->lock != NULL)
        pthread_mutex_unlock(p->lock);
    null_slot_dispose(&p->slot);
    meta_buf_dispose(&p->slot_val);
    meta_buf_dispose(&p->val);
    free(p);
}

/* Queues the record's put and its head's writes as one entry. */
static void queue_put(store_put_t *p, const void *key, size_t klen, const void *val, size_t vlen)
{
    size_t n = with_head(p->ops, (meta_op_t){.key = key, .klen = klen, .val = val, .vlen = vlen}, &p->head);
    meta_group_write(p->d->group, &p->pending, p->waiter, p->ops, n);
}

/* Decides the head after p's record is in (under the key's lock) into p->head. */
static int put_head(store_put_t *p, int null_version)
{
    head_state_t old = {0}, nh = {0};
    int ok, ret;

    if ((ret = meta_key_object_versions(p->r->bucket, p->r->key, &p->prefix)) != 0)
        return store_meta_err(ret);
    if (p->cached) {
        /* the head the settle of this slot left (slot_cache.c): it names the slot */
        old.present = ok = 1;
        old.h = (meta_head_t){.flags = p->cached_head};
    } else if ((ret = head_read(p->d, &p->prefix, &old, &ok)) != 0) {
        return ret;
    }
    ret = null_version ? head_after_slot_change(p->d, &p->prefix, &old, ok, p->r, 1, &nh)
                       : head_after_version_put(p->d, p->r, (meta_bytes_t){(const char *)p->val.base, p->val.len},
                                                &p->prefix, &old, ok, &nh);
    if (ret == 0)
        ret = head_change(&p->prefix, &old, ok, &nh, &p->head);
    p->settled_head = -1;
    if (ret == 0 && null_version && nh.present && (nh.h.flags & META_HEAD_SLOT))
        p->settled_head = nh.h.flags;
    head_state_dispose(&nh);
    p->head_replaced = old.present || !ok;
    return ret;
}

/* Queues a null version in front of the ones it replaces. Called with the key's lock held;
 * 0 when queued, else the outcome (STORE_ESTALE: absorbed, nothing queued). */
static int put_null_version(store_put_t *p)
{
    store_drive_t *d = p->d;
    const meta_object_t *r = p->r;
    null_slot_t *s = &p->slot;
    meta_bytes_t raw[META_SLOT_MAX];
    size_t n = 0;
    int ret;

    /* the slot as the last settle of the key left it, else as read (slot_cache.c) */
    if ((ret = meta_key_object_null(r->bucket, r->key, &s->key)) != 0)
        return store_meta_err(ret);
    if (store_slot_cache_take(d, p->hash, &s->key, &s->val, &s->vlen, &p->cached_head)) {
        p->cached = 1;
        null_slot_decode(s);
    } else if ((ret = null_slot_read(d, r->bucket, r->key, s)) != 0) {
        return ret;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (version_cmp(&s->rec[i], r) > 0) {
            /* absorbed: its files go, but those a stored version shares (a retried write) */
            const meta_object_t *keep[META_SLOT_MAX];
            for (size_t j = 0; j < s->n; j++)
                keep[j] = &s->rec[j];
            delete_record_shards(d, r, keep, s->n);
            return STORE_ESTALE;
        }
    }
    raw[n++] = (meta_bytes_t){(const char *)p->val.base, p->val.len};
    /* the same write again (a retry, a heal) replaces its copy; older ones wait for the prune */
    for (size_t i = 0; i < s->n && n < META_SLOT_MAX; i++) {
        if (version_cmp(&s->rec[i], r) == 0)
            continue;
        raw[n++] = s->raw[i];
        p->kept[i] = 1;
    }
    if ((ret = meta_slot_encode(raw, n, &p->slot_val)) != 0)
        return store_meta_err(ret);
    if ((ret = put_head(p, 1)) != 0)
        return ret;
    queue_put(p, s->key.buf, s->key.len, p->slot_val.base, p->slot_val.len);
    return 0;
}

int store_object_put_begin(store_drive_t *d, const meta_object_t *r, meta_waiter_t *w, store_put_t **out)
{
    store_put_t *p;
    int ret;

    *out = NULL;
    if ((p = calloc(1, sizeof(*p))) == NULL)
        return -ENOMEM;
    p->d = d;
    p->r = r;
    p->waiter = w;
    if ((ret = meta_key_object(r->bucket, r->key, r->mtime_ns, r->vid, &p->key)) != 0 ||
        (ret = meta_object_encode(r, &p->val)) != 0) {
        ret = store_meta_err(ret);
        goto fail;
    }
    if ((ret = store_space_admit(d, STORE_ADMIT_RECORD, p->key.len + p->val.len)) != 0)
        goto fail;
    /* A versioned put adds a key no other put writes, but may move the key's head, which every
     * write of the key reads and writes: under the key's lock too. */
    p->hash = key_hash(r->bucket, r->key);
    p->lock = &d->key_locks[p->hash % STORE_KEY_LOCKS];
    pthread_mutex_lock(p->lock);
    if (!is_null_vid(r->vid)) {
        store_slot_cache_forget(d, p->hash); /* it may move the head */
        if ((ret = put_head(p, 0)) != 0)
            goto fail;
        queue_put(p, p->key.buf, p->key.len, p->val.base, p->val.len);
        *out = p;
        return 0;
    }
    if ((ret = put_null_version(p)) != 0)
        goto fail;
    *out = p;
    return 0;

fail:
    put_free(p);
    return ret;
}

int store_object_put_wait(store_put_t *p)
{
    if (!p->waited) {
        p->result = store_meta_err(meta_group_wait(&p->pending));
        p->waited = 1;
    }
    return p->result;
}

/* The prune of an acknowledged null version, straight from what its put wrote: under the key's
 * lock, still held since _begin, the slot is exactly the new version and the kept older ones, so
 * the settled slot is the new record alone (a settled slot is the plain record), with no read.
 * Light only (store_object_prune_light's rule: every dropped version without files), queued and
 * not waited for; -EAGAIN when one has files. */
static int put_settle(store_put_t *p)
{
    store_drive_t *d = p->d;
    size_t older = 0;
    int ret;

    for (size_t i = 0; i < p->slot.n; i++) {
        if (!p->kept[i])
            continue;
        if (!(p->slot.rec[i].flags & (META_OBJ_DELETE_MARKER | META_OBJ_INLINE)))
            return -EAGAIN;
        older++;
    }
    if (older == 0) /* nothing older: the slot is settled */
        return 0;
    if ((ret = store_space_admit(d, STORE_ADMIT_DELETE, 0)) != 0)
        return ret;
    if ((ret = meta_group_put_detached(d->group, p->slot.key.buf, p->slot.key.len, p->val.base, p->val.len)) != 0)
        return store_meta_err(ret);
    store_compact_note(d, p->slot.key.buf, p->slot.key.len, 1); /* the old value stays until a compaction */
    return 0;
}

static int put_finish(store_put_t *p, int settle, int *pruned)
{
    int ret = store_object_put_wait(p);

    if (ret == 0)
        head_note(p->d, &p->head, p->head_replaced);
    if (ret == 0 && p->lock != NULL) {
        if (p->slot.val != NULL)
            store_compact_note(p->d, p->slot.key.buf, p->slot.key.len, 1); /* the old value stays until a compaction */
        delete_dropped_shards(p->d, &p->slot, p->kept, p->r);
        if (settle) {
            int settled = put_settle(p);
            *pruned = settled != -EAGAIN; /* failed: the next write of the key prunes it */
            /* the slot is now p->val alone and its head names it: the next put needs no read */
            if (settled == 0 && p->settled_head >= 0)
                store_slot_cache_fill(p->d, p->hash, &p->slot.key, &p->val, (uint32_t)p->settled_head);
        }
    } else if (settle) {
        *pruned = 1; /* a versioned put replaces nothing; a failed one is not acknowledged */
    }
    put_free(p);
    return ret;
}

int store_object_put_end(store_put_t *p)
{
    return put_finish(p, 0, NULL);
}

int store_object_put_end_settled(store_put_t *p, int *pruned)
{
    *pruned = 0;
    return put_finish(p, 1, pruned);
}

int store_object_put(store_drive_t *d, const meta_object_t *r)
{
    store_put_t *p;
    int ret = store_object_put_begin(d, r, NULL, &p);
    return p != NULL ? store_object_put_end(p) : ret;
}

static size_t first_kept(const uint8_t *kept, size_t n)
{
    size_t i = 0;
    while (i < n && !kept[i])
        i++;
    return i;
}

/* The head writes for a slot whose first record is replaced by an older one of it, first (NULL:
 * the slot goes), into hc. Under the key's lock. */
static int slot_head_change(store_drive_t *d, meta_bytes_t bucket, meta_bytes_t key, const meta_object_t *first,
                            head_change_t *hc)
{
    head_state_t old = {0}, nh = {0};
    meta_key_t prefix;
    int ok, ret;

    if ((ret = meta_key_object_versions(bucket, key, &prefix)) != 0)
        return store_meta_err(ret);
    if ((ret = head_read(d, &prefix, &old, &ok)) != 0)
        return ret;
    if ((ret = head_after_slot_change(d, &prefix, &old, ok, first, 0, &nh)) == 0)
        ret = head_change(&prefix, &old, ok, &nh, hc);
    head_state_dispose(&nh);
    return ret;
}

/* The head writes for the removal of the versions of vid (not the null version), into hc.
 * Under the key's lock. */
static int version_head_change(store_drive_t *d, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid,
                               head_change_t *hc)
{
    head_state_t old = {0}, nh = {0};
    null_slot_t slot = {0};
    meta_key_t prefix;
    int ok, ret;

    hc->n = 0;
    hc->val = NULL;
    if ((ret = meta_key_object_versions(bucket, key, &prefix)) != 0)
        return store_meta_err(ret);
    if ((ret = head_read(d, &prefix, &old, &ok)) != 0)
        return ret;
    if (ok && old.present && ((old.h.flags & META_HEAD_SLOT) || memcmp(old.h.vid, vid, META_ID_LEN) != 0))
        return 0; /* not the newest: the head stays */
    if ((ret = null_slot_read(d, bucket, key, &slot)) == 0 &&
        (ret = head_compute(d, &prefix, slot.n > 0 ? &slot.rec[0] : NULL, vid, &nh)) == 0)
        ret = head_change(&prefix, &old, ok, &nh, hc);
    head_state_dispose(&nh);
    null_slot_dispose(&slot);
    return ret;
}

/* light: only when every version dropped has no shard files and one is kept, queued in the group
 * commit without waiting for it; else -EAGAIN. */
static int prune(store_drive_t *d, const meta_object_t *keep, int light)
{
    pthread_mutex_t *lock = key_lock(d, keep->bucket, keep->key);
    head_change_t hc = {0};
    meta_bytes_t raw[META_SLOT_MAX];
    uint8_t kept[META_SLOT_MAX] = {0};
    null_slot_t s = {0};
    size_t n = 0;
    int ret;

    if (!is_null_vid(keep->vid))
        return 0;
    if ((ret = store_space_admit(d, STORE_ADMIT_DELETE, 0)) != 0)
        return ret;
    lock_for_write(d, lock, keep->bucket, keep->key);
    if ((ret = null_slot_read(d, keep->bucket, keep->key, &s)) != 0)
        goto out;
    for (size_t i = 0; i < s.n; i++) {
        if (version_cmp(&s.rec[i], keep) >= 0) {
            raw[n++] = s.raw[i];
            kept[i] = 1;
        }
    }
    if (n == s.n) /* nothing older: the slot is settled */
        goto out;
    /* A light prune is not waited for, and the key's lock goes before it is applied. Its loss in
     * a crash leaves an older version beside the newer, which readers ignore and the next write
     * or delete of the key drops: nothing wrong, as long as no file was deleted on its word, so
     * it drops only versions without files. A write of the key that reads the slot before the
     * prune is applied is queued after it, in the same drive's queue, so it is applied after it
     * too: it keeps the older version once more (harmless, as above), and never loses its own. */
    for (size_t i = 0; light && i < s.n; i++) {
        if (n == 0 || !kept[0] || (!kept[i] && !(s.rec[i].flags & (META_OBJ_DELETE_MARKER | META_OBJ_INLINE)))) {
            ret = -EAGAIN;
            goto out;
        }
    }
    /* the slot's first record kept (always, but when keep is newer than all it holds): the
     * key's newest is as it was, and its head stays */
    if (!kept[0] &&
        (ret = slot_head_change(d, keep->bucket, keep->key, n > 0 ? &s.rec[first_kept(kept, s.n)] : NULL, &hc)) != 0)
        goto out;
    if ((ret = null_slot_write(d, &s.key, raw, n, s.val != NULL, light, hc.ops, hc.n)) != 0)
        goto out;
    head_note(d, &hc, 1);
    /* The old records are durably gone: their files can go (under the lock, so that a put of
     * the same key cannot start referring to them again meanwhile). */
    delete_dropped_shards(d, &s, kept, keep);
    if (n == 0)
        store_space_deleted(d);

out:
    pthread_mutex_unlock(lock);
    head_change_dispose(&hc);
    null_slot_dispose(&s);
    return ret;
}

int store_object_prune(store_drive_t *d, const meta_object_t *keep)
{
    return prune(d, keep, 0);
}

int store_object_prune_light(store_drive_t *d, const meta_object_t *keep)
{
    return prune(d, keep, 1);
}

int store_object_takeback(store_drive_t *d, const meta_object_t *r)
{
    pthread_mutex_t *lock = key_lock(d, r->bucket, r->key);
    head_change_t hc = {0};
    meta_bytes_t raw[META_SLOT_MAX];
    null_slot_t s = {0};
    meta_key_t key;
    size_t n = 0;
    int ret;

    if ((ret = store_space_admit(d, STORE_ADMIT_DELETE, 0)) != 0)
        return ret;
    lock_for_write(d, lock, r->bucket, r->key);
    if (!is_null_vid(r->vid)) {
        /* a version key names exactly one write */
        meta_batch_t *batch;
        if ((ret = meta_key_object(r->bucket, r->key, r->mtime_ns, r->vid, &key)) != 0) {
            ret = store_meta_err(ret);
            goto out;
        }
        if ((ret = version_head_change(d, r->bucket, r->key, r->vid, &hc)) != 0)
            goto out;
        if ((batch = meta_batch_new()) == NULL) {
            ret = -ENOMEM;
            goto out;
        }
        meta_batch_delete(batch, key.buf, key.len);
        for (size_t i = 0; i < hc.n; i++)
            batch_op(batch, &hc.ops[i]);
        ret = store_meta_err(meta_db_write(d->db, batch));
        meta_batch_free(batch);
        if (ret == 0) {
            store_compact_note(d, key.buf, key.len, 1);
            head_note(d, &hc, 1);
            store_space_deleted(d);
        }
        goto out;
    }
    if ((ret = null_slot_read(d, r->bucket, r->key, &s)) != 0)
        goto out;
    uint8_t kept[META_SLOT_MAX] = {0};
    for (size_t i = 0; i < s.n; i++)
        if (version_cmp(&s.rec[i], r) != 0) {
            raw[n++] = s.raw[i];
            kept[i] = 1;
        }
    if (n == s.n) {
        ret = STORE_ENOENT;
        goto out;
    }
    if (!kept[0] &&
        (ret = slot_head_change(d, r->bucket, r->key, n > 0 ? &s.rec[first_kept(kept, s.n)] : NULL, &hc)) != 0)
        goto out;
    /* Its shard files stay for the orphan collector: a drive whose answer was lost may still
     * hold the record elsewhere (gw_object_commit), and a record must never name deleted files. */
    if ((ret = null_slot_write(d, &s.key, raw, n, s.val != NULL, 0, hc.ops, hc.n)) == 0)
        head_note(d, &hc, 1);

out:
    pthread_mutex_unlock(lock);
    head_change_dispose(&hc);
    null_slot_dispose(&s);
    return ret;
}

/* Writes version record `have` (its key `key`) again as raw, and the copy its key's head carries
 * when the head names it, in one batch. Under the key's lock. */
static int update_version(store_drive_t *d, const meta_key_t *key, const meta_object_t *have, meta_bytes_t raw)
{
    head_state_t old = {0}, nh = {0};
    head_change_t hc = {0};
    meta_batch_t *batch;
    meta_key_t prefix;
    int ok, ret;

    memcpy(prefix.buf, key->buf, key->len - 8 - META_ID_LEN);
    prefix.len = key->len - 8 - META_ID_LEN;
    if ((ret = head_read(d, &prefix, &old, &ok)) != 0)
        return ret;
    if (ok && old.present && !(old.h.flags & META_HEAD_SLOT) && old.h.mtime_ns == have->mtime_ns &&
        memcmp(old.h.vid, have->vid, META_ID_LEN) == 0) {
        nh = old;
        nh.h.record = raw;
        nh.force = 1;
        if ((ret = head_change(&prefix, &old, ok, &nh, &hc)) != 0)
            goto out;
    }
    if ((batch = meta_batch_new()) == NULL) {
        ret = -ENOMEM;
        goto out;
    }
    meta_batch_put(batch, key->buf, key->len, raw.base, raw.len);
    for (size_t i = 0; i < hc.n; i++)
        batch_op(batch, &hc.ops[i]);
    ret = store_meta_err(meta_db_write(d->db, batch));
    meta_batch_free(batch);
    if (ret == 0)
        head_note(d, &hc, 1);

out:
    head_state_dispose(&nh);
    head_change_dispose(&hc);
    return ret;
}

/* Re-encodes stored record `have` with the attributes of r into out; 1 when nothing is to change
 * (the stored attributes are as new or newer). */
static int with_attrs(const meta_object_t *have, const meta_object_t *r, meta_buf_t *out)
{
    meta_object_t n = *have;

    if (have->attrs_ns >= r->attrs_ns)
        return 1;
    n.attrs_ns = r->attrs_ns;
    n.attrs = r->attrs;
    return store_meta_err(meta_object_encode(&n, out));
}

int store_object_update(store_drive_t *d, const meta_object_t *r)
{
    pthread_mutex_t *lock = key_lock(d, r->bucket, r->key);
    meta_bytes_t raw[META_SLOT_MAX];
    meta_buf_t val = {0};
    null_slot_t s = {0};
    meta_object_t have;
    meta_key_t key;
    void *old = NULL;
    size_t olen, i;
    int ret;

    if ((ret = meta_key_object(r->bucket, r->key, r->mtime_ns, r->vid, &key)) != 0)
        return store_meta_err(ret);
    if ((ret = store_space_admit(d, STORE_ADMIT_RECORD, key.len + r->attrs.len)) != 0)
        return ret;
    /* Under the key's lock for versioned keys too: a delete of the version takes it, and the
     * update must not write back a record the delete just removed. */
    lock_for_write(d, lock, r->bucket, r->key);
    if (!is_null_vid(r->vid)) {
        if ((ret = meta_db_get(d->db, key.buf, key.len, &old, &olen)) != 0) {
            ret = ret == META_ENOENT ? STORE_ENOENT : store_meta_err(ret);
            goto out;
        }
        if (meta_object_decode(old, olen, &have) != 0) {
            ret = STORE_EIO; /* the healer rewrites it whole */
            goto out;
        }
        if ((ret = with_attrs(&have, r, &val)) == 0)
            ret = update_version(d, &key, &have, (meta_bytes_t){(const char *)val.base, val.len});
        goto out;
    }
    if ((ret = null_slot_read(d, r->bucket, r->key, &s)) != 0)
        goto out;
    for (i = 0; i < s.n && version_cmp(&s.rec[i], r) != 0; i++)
        ;
    if (i == s.n) {
        ret = STORE_ENOENT;
        goto out;
    }
    if ((ret = with_attrs(&s.rec[i], r, &val)) != 0)
        goto out;
    memcpy(raw, s.raw, s.n * sizeof(raw[0]));
    raw[i] = (meta_bytes_t){(const char *)val.base, val.len};
    ret = null_slot_write(d, &s.key, raw, s.n, 1, 0, NULL, 0); /* attributes: the head stays */

out:
    pthread_mutex_unlock(lock);
    if (ret == 1)
        ret = 0;
    free(old);
    meta_buf_dispose(&val);
    null_slot_dispose(&s);
    return ret;
}

/* ---------------------------------------------------------------- layout 1 */

int store_object_adopt(store_drive_t *d, meta_bytes_t bucket, meta_bytes_t key, const meta_bytes_t *old, size_t n,
                       meta_batch_t *batch)
{
    meta_object_t rec[META_SLOT_MAX * 2];
    meta_bytes_t raw[META_SLOT_MAX * 2], order[META_SLOT_MAX];
    null_slot_t s;
    size_t count = 0, kept = 0;
    meta_buf_t val = {0};
    int ret;

    if ((ret = null_slot_read(d, bucket, key, &s)) != 0)
        return ret;
    for (size_t i = 0; i < s.n; i++) {
        rec[count] = s.rec[i];
        raw[count++] = s.raw[i];
    }
    /* a layout 1 drive may hold several null versions of a key (a prune that never ran); a
     * damaged one cannot be placed, and the healer rewrites it from the other drives */
    for (size_t i = 0; i < n && count < sizeof(rec) / sizeof(rec[0]); i++)
        if (meta_object_decode(old[i].base, old[i].len, &rec[count]) == 0 && is_null_vid(rec[count].vid))
            raw[count++] = old[i];
    /* newest first, the same write once, at most META_SLOT_MAX: what a sequence of puts leaves */
    while (kept < META_SLOT_MAX) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < count; i++)
            if (best == SIZE_MAX || version_cmp(&rec[i], &rec[best]) > 0)
                best = i;
        if (best == SIZE_MAX)
            break;
        order[kept++] = raw[best];
        /* drop every copy of that write from the candidates */
        meta_object_t chosen = rec[best];
        for (size_t i = 0; i < count;) {
            if (version_cmp(&rec[i], &chosen) == 0) {
                rec[i] = rec[count - 1];
                raw[i] = raw[count - 1];
                count--;
            } else {
                i++;
            }
        }
    }
    if (kept > 0 && (ret = store_meta_err(meta_slot_encode(order, kept, &val))) == 0)
        meta_batch_put(batch, s.key.buf, s.key.len, val.base, val.len);
    meta_buf_dispose(&val);
    null_slot_dispose(&s);
    return ret;
}

/* Gives the caller a copy of rec's bytes and *out decoded in them. */
static int give_record(meta_bytes_t rec, meta_buf_t *raw, meta_object_t *out)
{
    uint8_t *copy = malloc(rec.len);
    int ret;

    if (copy == NULL)
        return -ENOMEM;
    memcpy(copy, rec.base, rec.len);
    if ((ret = meta_object_decode(copy, rec.len, out)) != 0) {
        free(copy);
        return store_meta_err(ret);
    }
    raw->base = copy;
    raw->len = raw->cap = rec.len;
    return 0;
}

int store_object_get(store_drive_t *d, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid, meta_buf_t *raw,
                     meta_object_t *out)
{
    null_slot_t slot = {0};
    version_scan_t s = {0};
    meta_object_t newest;
    int ret;

    if (vid == NULL || is_null_vid(vid)) {
        if ((ret = null_slot_read(d, bucket, key, &slot)) != 0)
            goto fail;
    }
    if (vid == NULL || !is_null_vid(vid)) {
        if ((ret = find_versions(d, bucket, key, vid, 0, &s)) != 0)
            goto fail;
    }
    /* the newest of the slot's first record and the first versioned one */
    if (s.count > 0 && meta_object_decode(s.found[0].val, s.found[0].vlen, &newest) == 0 &&
        (slot.n == 0 || version_cmp(&newest, &slot.rec[0]) > 0)) {
        ret = give_record((meta_bytes_t){(const char *)s.found[0].val, s.found[0].vlen}, raw, out);
    } else if (slot.n > 0) {
        ret = give_record(slot.raw[0], raw, out);
    } else {
        ret = s.count > 0 ? STORE_ECORRUPT : STORE_ENOENT;
    }

fail:
    null_slot_dispose(&slot);
    version_scan_dispose(&s);
    return ret;
}

int store_object_delete(store_drive_t *d, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid)
{
    pthread_mutex_t *lock = key_lock(d, bucket, key);
    meta_batch_t *batch = NULL;
    head_change_t hc = {0};
    version_scan_t s = {0};
    null_slot_t slot = {0};
    uint8_t kept[META_SLOT_MAX] = {0};
    int ret;

    if ((ret = store_space_admit(d, STORE_ADMIT_DELETE, 0)) != 0)
        return ret;
    lock_for_write(d, lock, bucket, key);
    if (vid == NULL || is_null_vid(vid)) {
        /* the null version: every null version of the key goes, so that one not pruned yet
         * cannot come back as the object once the newest is gone */
        if ((ret = null_slot_read(d, bucket, key, &slot)) != 0)
            goto fail;
        if (slot.val == NULL) {
            ret = STORE_ENOENT;
            goto fail;
        }
        if ((ret = slot_head_change(d, bucket, key, NULL, &hc)) != 0 ||
            (ret = null_slot_write(d, &slot.key, NULL, 0, 1, 0, hc.ops, hc.n)) != 0)
            goto fail;
        head_note(d, &hc, 1);
        delete_dropped_shards(d, &slot, kept, NULL);
        store_space_deleted(d);
        goto fail;
    }
    if ((ret = find_versions(d, bucket, key, vid, 1, &s)) != 0)
        goto fail;
    if (s.count == 0) {
        ret = STORE_ENOENT;
        goto fail;
    }
    if ((ret = version_head_change(d, bucket, key, vid, &hc)) != 0)
        goto fail;
    if (s.count == 1) {
        /* through the drive's group commit, as every put: many deletes at once (a DeleteObjects)
         * share one batch and one sync instead of meeting in RocksDB's own write queue, where
         * they spent their CPU switching and spinning; the head's change in the same batch */
        meta_op_t ops[1 + 3];
        meta_pending_t p;
        size_t n =
            with_head(ops, (meta_op_t){.key = s.found[0].key.buf, .klen = s.found[0].key.len, .is_delete = 1}, &hc);
        meta_group_write(d->group, &p, NULL, ops, n);
        if ((ret = store_meta_err(meta_group_wait(&p))) != 0)
            goto fail;
    } else {
        if ((batch = meta_batch_new()) == NULL) {
            ret = -ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < s.count; i++)
            meta_batch_delete(batch, s.found[i].key.buf, s.found[i].key.len);
        for (size_t i = 0; i < hc.n; i++)
            batch_op(batch, &hc.ops[i]);
        if ((ret = store_meta_err(meta_db_write(d->db, batch))) != 0)
            goto fail;
    }
    store_compact_note(d, s.found[0].key.buf, s.found[0].key.len, s.count);
    head_note(d, &hc, 1);
    for (size_t i = 0; i < s.count; i++)
        delete_raw_record_shards(d, &s.found[i]);
    store_space_deleted(d);

fail:
    pthread_mutex_unlock(lock);
    head_change_dispose(&hc);
    if (batch != NULL)
        meta_batch_free(batch);
    null_slot_dispose(&slot);
    version_scan_dispose(&s);
    return ret;
}

/* An object record put as is (a tool or a test placing a record): the key's head is decided
 * again from the records as they will be, and written in the same batch. */
static int object_record_put(store_drive_t *d, const meta_key_t *okey, const void *val, size_t vlen)
{
    char key_buf[META_KEY_MAX];
    meta_bytes_t bucket, key, rec;
    uint8_t vid[META_ID_LEN];
    head_state_t old = {0}, nh = {0};
    head_change_t hc = {0};
    null_slot_t slot = {0};
    meta_object_t r;
    meta_key_t prefix;
    int64_t mtime;
    size_t pos = 0;
    int ok, ret, decoded;

    if (meta_key_parse_object(okey->buf, okey->len, &bucket, key_buf, &key, &mtime, vid) != 0)
        return store_meta_err(meta_db_put(d->db, okey->buf, okey->len, val, vlen));
    decoded = meta_slot_next(val, vlen, &pos, &rec) == 1 && meta_object_decode(rec.base, rec.len, &r) == 0;
    pthread_mutex_t *lock = key_lock(d, bucket, key);
    lock_for_write(d, lock, bucket, key);
    if ((ret = meta_key_object_versions(bucket, key, &prefix)) != 0) {
        ret = store_meta_err(ret);
        goto out;
    }
    if ((ret = head_read(d, &prefix, &old, &ok)) != 0)
        goto out;
    if (mtime == META_NULL_SLOT_MTIME) {
        ret = head_compute(d, &prefix, decoded ? &r : NULL, NULL, &nh);
    } else if ((ret = null_slot_read(d, bucket, key, &slot)) == 0 &&
               (ret = head_compute(d, &prefix, slot.n > 0 ? &slot.rec[0] : NULL, vid, &nh)) == 0 && decoded) {
        int64_t nm = nh.h.mtime_ns;
        const uint8_t *nv = nh.h.vid;
        if (nh.present && (nh.h.flags & META_HEAD_SLOT)) {
            nm = slot.rec[0].mtime_ns;
            nv = slot.rec[0].vid;
        }
        if (!nh.present || newer_than(r.mtime_ns, r.vid, nm, nv) >= 0) {
            head_state_dispose(&nh);
            head_of_version(&r, rec, &nh);
            nh.force = 1; /* its copy is these bytes, whatever the header says */
        }
    }
    if (ret != 0 || (ret = head_change(&prefix, &old, ok, &nh, &hc)) != 0)
        goto out;
    meta_batch_t *batch = meta_batch_new();
    if (batch == NULL) {
        ret = -ENOMEM;
        goto out;
    }
    meta_batch_put(batch, okey->buf, okey->len, val, vlen);
    for (size_t i = 0; i < hc.n; i++)
        batch_op(batch, &hc.ops[i]);
    ret = store_meta_err(meta_db_write(d->db, batch));
    meta_batch_free(batch);

out:
    pthread_mutex_unlock(lock);
    head_state_dispose(&nh);
    head_change_dispose(&hc);
    null_slot_dispose(&slot);
    return ret;
}

/* A key of the object records or their heads, whose writes without the key's lock turn the slot
 * cache's entries into misses (slot_cache.c). */
static int object_range(const meta_key_t *key)
{
    return key->len > 0 && (key->buf[0] == 'O' || key->buf[0] == 'H' || key->buf[0] == 'h');
}

int store_record_put(store_drive_t *d, const meta_key_t *key, const void *val, size_t vlen)
{
    int ret;

    if ((ret = store_space_admit(d, STORE_ADMIT_RECORD, key->len + vlen)) != 0)
        return ret;
    if (key->len > 0 && key->buf[0] == 'O')
        return object_record_put(d, key, val, vlen);
    ret = store_meta_err(meta_db_put(d->db, key->buf, key->len, val, vlen));
    if (object_range(key))
        store_slot_cache_invalidate(d);
    return ret;
}

int store_record_get(store_drive_t *d, const meta_key_t *key, void **val, size_t *vlen)
{
    return store_meta_err(meta_db_get(d->db, key->buf, key->len, val, vlen));
}

int store_record_get_cached(store_drive_t *d, const meta_key_t *key, void **val, size_t *vlen)
{
    int ret = meta_db_get_cached(d->db, key->buf, key->len, val, vlen);
    return ret == -EAGAIN ? ret : store_meta_err(ret);
}

int store_record_delete(store_drive_t *d, const meta_key_t *key)
{
    int ret;

    if ((ret = store_space_admit(d, STORE_ADMIT_DELETE, 0)) != 0)
        return ret;
    /* An object record deleted as a plain record is one of a dead namespace (gw_sweep.c): its
     * key's head goes with it, in the same batch, so that nothing is left of the namespace. */
    if (key->len > 2 + 8 + META_ID_LEN && key->buf[0] == 'O' && key->buf[key->len - 8 - META_ID_LEN - 2] == 0x00 &&
        key->buf[key->len - 8 - META_ID_LEN - 1] == 0x01) {
        meta_batch_t *batch = meta_batch_new();
        meta_key_t head;
        if (batch == NULL)
            return -ENOMEM;
        meta_batch_delete(batch, key->buf, key->len);
        for (int dead = 0; dead < 2; dead++) {
            meta_key_head_of(key->buf, key->len - 8 - META_ID_LEN, dead, &head);
            meta_batch_delete(batch, head.buf, head.len);
        }
        ret = store_meta_err(meta_db_write(d->db, batch));
        meta_batch_free(batch);
    } else {
        ret = store_meta_err(meta_db_delete(d->db, key->buf, key->len));
    }
    if (object_range(key))
        store_slot_cache_invalidate(d); /* without the key's lock: after the write, whatever its outcome */
    if (ret != 0)
        return ret;
    store_compact_note(d, key->buf, key->len, 1);
    store_space_deleted(d);
    return 0;
}

typedef struct {
    meta_scan_cb cb;
    void *arg;
    size_t limit, seen;
    int cb_err; /* the caller's own error, passed back untranslated */
} limited_scan_t;

static int limited_scan_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    limited_scan_t *s = arg;
    int ret = s->cb(s->arg, key, klen, val, vlen);

    if (ret < 0) {
        s->cb_err = ret;
        return ret;
    }
    if (ret == 0 && s->limit != 0 && ++s->seen == s->limit)
        return 1;
    return ret;
}

static int record_scan(store_drive_t *d, const meta_key_t *prefix, const meta_key_t *seek, size_t limit, int newest,
                       meta_scan_cb cb, void *arg)
{
    limited_scan_t s = {.cb = cb, .arg = arg, .limit = limit};
    const uint8_t *sk = seek != NULL ? seek->buf : NULL;
    size_t slen = seek != NULL ? seek->len : 0;
    int ret;

    ret = newest == 2 ? meta_db_scan_live(d->db, prefix->buf, prefix->len, sk, slen, limited_scan_cb, &s)
          : newest    ? meta_db_scan_newest(d->db, prefix->buf, prefix->len, sk, slen, limited_scan_cb, &s)
                      : meta_db_scan(d->db, prefix->buf, prefix->len, sk, slen, limited_scan_cb, &s);
    if (s.cb_err != 0)
        return s.cb_err;
    return store_meta_err(ret);
}

int store_record_scan(store_drive_t *d, const meta_key_t *prefix, const meta_key_t *seek, size_t limit, meta_scan_cb cb,
                      void *arg)
{
    return record_scan(d, prefix, seek, limit, 0, cb, arg);
}

int store_record_scan_newest(store_drive_t *d, const meta_key_t *prefix, const meta_key_t *seek, size_t limit,
                             meta_scan_cb cb, void *arg)
{
    return record_scan(d, prefix, seek, limit, 1, cb, arg);
}

int store_record_scan_live(store_drive_t *d, const meta_key_t *prefix, const meta_key_t *seek, size_t limit,
                           meta_scan_cb cb, void *arg)
{
    return record_scan(d, prefix, seek, limit, 2, cb, arg);
}
