/* object.c — object version records on a drive, and the shard files they own.
 *
 * A record is the commit point of a write on this drive (store.h): shards are durable before
 * store_object_put is called, and a version's shard files are deleted only after the record
 * that names them is durably gone. A crash in between leaves orphan files, never a record
 * whose data is missing.
 *
 * The null version (all-zero vid) is the one version unversioned buckets keep. Its key carries
 * the modification time, so a new null version has a different key from the one it replaces.
 * Replacing is two steps, because the new version may still fail to reach a write quorum on
 * the other drives of its set, and then the old one must still be whole: store_object_put
 * adds the new record beside the old (readers take the newest), and store_object_prune,
 * called by the gateway once the quorum acknowledged, deletes the older null versions and
 * their shard files. The scans and writes of one key must not interleave on this drive, so
 * puts, prunes and deletes of one key take one of STORE_KEY_LOCKS mutexes chosen by a hash of
 * bucket and key.
 *
 * Concurrent writers of one key are ordered by modification time on every drive (the design's
 * rule), so drives that saw two null-version puts in different orders keep the same one: a put
 * older than the null version already stored is absorbed — the record is not written and its
 * shard files are deleted, as if it had been written and replaced at once — and reported as
 * STORE_ESTALE: the drive does not hold that version, so it must not count towards its quorum.
 *
 * Free space (store.h): a put asks the drive for room for its record (half the reserve must stay
 * free), before it scans or locks anything; deletes and prunes only need a database that takes
 * writes, and ask the drive to flush when it is short, so that the deleted records leave the WAL.
 *
 * A data id belongs to one record: deleting or replacing a version deletes the shard files of
 * every part it references (shard index from the record), except those the new record shares.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include "store/store_internal.h"

static const uint8_t null_vid[META_ID_LEN];

static pthread_mutex_t *key_lock(store_drive_t *d, meta_bytes_t bucket, meta_bytes_t key)
{
    uint64_t h = XXH3_64bits_withSeed(key.base, key.len, XXH3_64bits(bucket.base, bucket.len));
    return &d->key_locks[h % STORE_KEY_LOCKS];
}

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
     * keeps longer keys out); one that does not parse is skipped, not trusted. */
    if (klen > sizeof(s->found[0].key.buf) || meta_key_parse_object(key, klen, NULL, NULL, NULL, &mtime, vid) != 0)
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

/* Finds the versions of bucket/key whose vid is vid (NULL: any), newest first; unless all is
 * set the scan stops at the first, so vid NULL finds the newest version. */
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
    ret = meta_db_scan(d->db, prefix.buf, prefix.len, NULL, 0, version_scan_cb, s);
    if (ret == -ENOMEM)
        return ret;
    return store_meta_err(ret);
}

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

/* Deletes this drive's shard files of record r, but those that keep (if any) still uses.
 * Best effort: a file that cannot be removed is an orphan, which costs space, not data. */
static void delete_record_shards(store_drive_t *d, const meta_object_t *r, const meta_object_t *keep)
{
    meta_part_ref_t p;

    if (r->flags & (META_OBJ_DELETE_MARKER | META_OBJ_INLINE))
        return;
    for (uint32_t i = 0; i < r->part_count; i++) {
        if (meta_object_part(r, i, &p) == 0 && !references_data(keep, p.data_id))
            store_shard_delete(d, p.data_id, r->shard_index);
    }
}

/* Same, from a stored record's bytes; an undecodable record's files cannot be named. */
static void delete_raw_record_shards(store_drive_t *d, const found_version_t *f, const meta_object_t *keep)
{
    meta_object_t r;

    if (meta_object_decode(f->val, f->vlen, &r) == 0)
        delete_record_shards(d, &r, keep);
}

/* Deletes r's shard files that none of the stored versions in s refers to: r lost to a newer
 * stored version, but that version may share data with it (a retried write). */
static void delete_unshared_shards(store_drive_t *d, const meta_object_t *r, const version_scan_t *s)
{
    meta_part_ref_t p;
    meta_object_t old;
    int shared;

    if (r->flags & (META_OBJ_DELETE_MARKER | META_OBJ_INLINE))
        return;
    for (uint32_t i = 0; i < r->part_count; i++) {
        if (meta_object_part(r, i, &p) != 0)
            continue;
        shared = 0;
        for (size_t j = 0; j < s->count && !shared; j++)
            shared =
                meta_object_decode(s->found[j].val, s->found[j].vlen, &old) == 0 && references_data(&old, p.data_id);
        if (!shared)
            store_shard_delete(d, p.data_id, r->shard_index);
    }
}

/* Writes a null version beside the older ones (store_object_prune removes them later). Called
 * with the key's lock held. */
static int put_null_version(store_drive_t *d, const meta_object_t *r, const meta_key_t *key, const meta_buf_t *val)
{
    version_scan_t s;
    int ret, newer_stored = 0;

    if ((ret = find_versions(d, r->bucket, r->key, null_vid, 1, &s)) != 0)
        goto fail;
    for (size_t i = 0; i < s.count; i++) {
        if (s.found[i].mtime_ns > r->mtime_ns)
            newer_stored = 1;
    }
    if (newer_stored) {
        delete_unshared_shards(d, r, &s);
        ret = STORE_ESTALE;
        goto fail;
    }
    ret = store_meta_err(meta_db_put(d->db, key->buf, key->len, val->base, val->len));

fail:
    version_scan_dispose(&s);
    return ret;
}

int store_object_prune(store_drive_t *d, const meta_object_t *keep)
{
    pthread_mutex_t *lock = key_lock(d, keep->bucket, keep->key);
    meta_batch_t *batch = NULL;
    version_scan_t s;
    size_t older = 0;
    int ret;

    if (memcmp(keep->vid, null_vid, META_ID_LEN) != 0)
        return 0;
    if ((ret = store_space_admit(d, STORE_ADMIT_DELETE, 0)) != 0)
        return ret;
    pthread_mutex_lock(lock);
    if ((ret = find_versions(d, keep->bucket, keep->key, null_vid, 1, &s)) != 0)
        goto fail;
    if ((batch = meta_batch_new()) == NULL) {
        ret = -ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < s.count; i++) {
        if (s.found[i].mtime_ns < keep->mtime_ns) {
            meta_batch_delete(batch, s.found[i].key.buf, s.found[i].key.len);
            older++;
        }
    }
    if (older > 0 && (ret = store_meta_err(meta_db_write(d->db, batch))) != 0)
        goto fail;
    /* The old records are durably gone: their files can go (under the lock, so that a put of
     * the same key cannot start referring to them again meanwhile). */
    for (size_t i = 0; i < s.count; i++)
        if (s.found[i].mtime_ns < keep->mtime_ns)
            delete_raw_record_shards(d, &s.found[i], keep);
    if (older > 0)
        store_space_deleted(d);
    ret = 0;

fail:
    pthread_mutex_unlock(lock);
    if (batch != NULL)
        meta_batch_free(batch);
    version_scan_dispose(&s);
    return ret;
}

int store_object_put(store_drive_t *d, const meta_object_t *r)
{
    meta_buf_t val = {0};
    meta_key_t key;
    pthread_mutex_t *lock;
    int ret;

    if ((ret = meta_key_object(r->bucket, r->key, r->mtime_ns, r->vid, &key)) != 0 ||
        (ret = meta_object_encode(r, &val)) != 0) {
        ret = store_meta_err(ret);
        goto fail;
    }
    if ((ret = store_space_admit(d, STORE_ADMIT_RECORD, key.len + val.len)) != 0)
        goto fail;
    if (memcmp(r->vid, null_vid, META_ID_LEN) != 0) {
        /* A versioned put adds a key no other put writes: nothing to replace, no lock. */
        ret = store_meta_err(meta_db_put(d->db, key.buf, key.len, val.base, val.len));
        goto fail;
    }
    lock = key_lock(d, r->bucket, r->key);
    pthread_mutex_lock(lock);
    ret = put_null_version(d, r, &key, &val);
    pthread_mutex_unlock(lock);

fail:
    meta_buf_dispose(&val);
    return ret;
}

int store_object_get(store_drive_t *d, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid, meta_buf_t *raw,
                     meta_object_t *out)
{
    version_scan_t s;
    int ret;

    if ((ret = find_versions(d, bucket, key, vid, 0, &s)) != 0)
        goto fail;
    if (s.count == 0) {
        ret = STORE_ENOENT;
        goto fail;
    }
    if ((ret = meta_object_decode(s.found[0].val, s.found[0].vlen, out)) != 0) {
        ret = store_meta_err(ret);
        goto fail;
    }
    /* The record's bytes pass to the caller, and *out points into them. */
    raw->base = s.found[0].val;
    raw->len = raw->cap = s.found[0].vlen;
    s.found[0].val = NULL;
    ret = 0;

fail:
    version_scan_dispose(&s);
    return ret;
}

int store_object_delete(store_drive_t *d, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid)
{
    pthread_mutex_t *lock = key_lock(d, bucket, key);
    meta_batch_t *batch = NULL;
    version_scan_t s = {0};
    int ret;

    if ((ret = store_space_admit(d, STORE_ADMIT_DELETE, 0)) != 0)
        return ret;
    pthread_mutex_lock(lock);
    /* Deleting the null version deletes every null version of the key: one not pruned yet
     * must not come back as the object once the newest is gone. */
    if ((ret = find_versions(d, bucket, key, vid != NULL ? vid : null_vid, 1, &s)) != 0)
        goto fail;
    if (s.count == 0) {
        ret = STORE_ENOENT;
        goto fail;
    }
    if ((batch = meta_batch_new()) == NULL) {
        ret = -ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < s.count; i++)
        meta_batch_delete(batch, s.found[i].key.buf, s.found[i].key.len);
    if ((ret = store_meta_err(meta_db_write(d->db, batch))) != 0)
        goto fail;
    for (size_t i = 0; i < s.count; i++)
        delete_raw_record_shards(d, &s.found[i], NULL);
    store_space_deleted(d);

fail:
    pthread_mutex_unlock(lock);
    if (batch != NULL)
        meta_batch_free(batch);
    version_scan_dispose(&s);
    return ret;
}

int store_record_put(store_drive_t *d, const meta_key_t *key, const void *val, size_t vlen)
{
    int ret;

    if ((ret = store_space_admit(d, STORE_ADMIT_RECORD, key->len + vlen)) != 0)
        return ret;
    return store_meta_err(meta_db_put(d->db, key->buf, key->len, val, vlen));
}

int store_record_get(store_drive_t *d, const meta_key_t *key, void **val, size_t *vlen)
{
    return store_meta_err(meta_db_get(d->db, key->buf, key->len, val, vlen));
}

int store_record_delete(store_drive_t *d, const meta_key_t *key)
{
    int ret;

    if ((ret = store_space_admit(d, STORE_ADMIT_DELETE, 0)) != 0 ||
        (ret = store_meta_err(meta_db_delete(d->db, key->buf, key->len))) != 0)
        return ret;
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

int store_record_scan(store_drive_t *d, const meta_key_t *prefix, const meta_key_t *seek, size_t limit, meta_scan_cb cb,
                      void *arg)
{
    limited_scan_t s = {.cb = cb, .arg = arg, .limit = limit};
    int ret;

    ret = meta_db_scan(d->db, prefix->buf, prefix->len, seek != NULL ? seek->buf : NULL, seek != NULL ? seek->len : 0,
                       limited_scan_cb, &s);
    if (s.cb_err != 0)
        return s.cb_err;
    return store_meta_err(ret);
}
