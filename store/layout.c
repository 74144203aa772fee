/* layout.c — the drive's metadata layout version, and the migration from layout 1.
 *
 * Every drive this build opens holds a layout record ('V' "layout", meta.h) naming the layout
 * of its keys. Layout 1, the one before the record existed, kept every null version under a
 * key of its own (modification time, zero vid), so an overwrite left a tombstone in front of
 * the key's newest record; layout 2 keeps them in one null slot per key. A drive without the
 * record is a layout 1 drive (or a new one: then there is nothing to move): its old null
 * versions are moved into their slots here, at open, before anything else uses the drive, and
 * only then is the record written. Why a migration rather than a reader of both layouts: the
 * old keys are what makes reads slow, so a reader that kept them would keep the problem, and
 * every read, write and listing would have to know two layouts forever; the migration costs
 * one pass over the object records, once.
 *
 * Crash safety: each batch moves whole keys (the slot's put and the old keys' deletes are one
 * atomic RocksDB write), a slot merges with what it already holds, and the layout record comes
 * last, so a migration cut short starts again at the next open and ends in the same state.
 *
 * A drive this build cannot read is refused whole (STORE_EFORMAT), never half-read: a layout
 * record of another version, or object records of another record format (format 1 records
 * predate every deployment; a newer release's are unknown).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "store/store_internal.h"

#define MIGRATE_BATCH 256

typedef struct {
    meta_key_t key;
    char *copy;       /* malloc'd */
    meta_bytes_t val; /* copy and its length */
} old_record_t;

typedef struct {
    old_record_t recs[MIGRATE_BATCH];
    size_t n;
    meta_key_t seek;
    int has_seek;
    int bad_format;
} migrate_scan_t;

static int migrate_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    static const uint8_t null_vid[META_ID_LEN];
    migrate_scan_t *m = arg;
    uint8_t vid[META_ID_LEN];
    int64_t mtime;
    old_record_t *o;

    if (m->has_seek && klen == m->seek.len && memcmp(key, m->seek.buf, klen) == 0)
        return 0;
    if (klen > sizeof(m->seek.buf))
        return 0;
    memcpy(m->seek.buf, key, klen);
    m->seek.len = klen;
    m->has_seek = 1;
    if (!meta_record_format_readable(val, vlen)) {
        m->bad_format = 1;
        return 1;
    }
    if (meta_key_parse_object(key, klen, NULL, NULL, NULL, &mtime, vid) != 0 || mtime == META_NULL_SLOT_MTIME ||
        memcmp(vid, null_vid, META_ID_LEN) != 0)
        return 0; /* a versioned record, a slot, or not an object key: nothing to move */
    o = &m->recs[m->n];
    if ((o->copy = malloc(vlen)) == NULL)
        return -ENOMEM;
    m->n++;
    memcpy(o->copy, val, vlen);
    memcpy(o->key.buf, key, klen);
    o->key.len = klen;
    o->val = (meta_bytes_t){o->copy, vlen};
    return m->n == MIGRATE_BATCH ? 1 : 0;
}

/* Length of the part of an old version key shared by every version of its object key. */
static size_t versions_prefix_len(const meta_key_t *k)
{
    return k->len - 8 - META_ID_LEN;
}

/* Moves the old null versions of one scan batch into their slots, one atomic write. */
static int migrate_batch(store_drive_t *d, migrate_scan_t *m)
{
    meta_batch_t *batch = meta_batch_new();
    meta_bytes_t vals[MIGRATE_BATCH];
    int ret = 0;

    if (batch == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < m->n && ret == 0;) {
        size_t j = i, plen = versions_prefix_len(&m->recs[i].key);
        char key_buf[META_KEY_MAX];
        meta_bytes_t bucket, key;

        while (j < m->n && versions_prefix_len(&m->recs[j].key) == plen &&
               memcmp(m->recs[j].key.buf, m->recs[i].key.buf, plen) == 0) {
            vals[j - i] = m->recs[j].val;
            meta_batch_delete(batch, m->recs[j].key.buf, m->recs[j].key.len);
            j++;
        }
        if (meta_key_parse_object(m->recs[i].key.buf, m->recs[i].key.len, &bucket, key_buf, &key, NULL, NULL) == 0)
            ret = store_object_adopt(d, bucket, key, vals, j - i, batch);
        i = j;
    }
    if (ret == 0 && (ret = store_meta_err(meta_db_write(d->db, batch))) == 0)
        for (size_t i = 0; i < m->n; i++)
            store_compact_note(d, m->recs[i].key.buf, m->recs[i].key.len, 1);
    meta_batch_free(batch);
    return ret;
}

static void migrate_scan_reset(migrate_scan_t *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->recs[i].copy);
    m->n = 0;
}

/* Moves every old null version into its slot; *moved counts them. */
static int migrate_v1(store_drive_t *d, size_t *moved)
{
    static const uint8_t objects[1] = {'O'};
    migrate_scan_t *m = calloc(1, sizeof(*m));
    int ret;

    if (m == NULL)
        return -ENOMEM;
    *moved = 0;
    for (;;) {
        ret = meta_db_scan(d->db, objects, sizeof(objects), m->has_seek ? m->seek.buf : NULL,
                           m->has_seek ? m->seek.len : 0, migrate_cb, m);
        if (ret == 0 && m->bad_format)
            ret = STORE_EFORMAT;
        else if (ret != 0 && ret != -ENOMEM)
            ret = store_meta_err(ret);
        if (ret != 0 || m->n == 0)
            break;
        if (meta_db_read_only(d->db)) {
            ret = STORE_ENOSPC; /* it must be moved, and this drive takes no write now */
            break;
        }
        if ((ret = migrate_batch(d, m)) != 0)
            break;
        *moved += m->n;
        migrate_scan_reset(m);
    }
    migrate_scan_reset(m);
    free(m);
    return ret;
}

int store_layout_open(store_drive_t *d)
{
    uint8_t version[4];
    meta_key_t key;
    void *val = NULL;
    size_t vlen = 0, moved;
    int ret;

    meta_key_layout(&key);
    ret = meta_db_get(d->db, key.buf, key.len, &val, &vlen);
    if (ret == 0) {
        int ok = vlen == sizeof(version) && yc_get_le32(val) == META_LAYOUT_VERSION;
        free(val);
        return ok ? 0 : STORE_EFORMAT;
    }
    if (ret != META_ENOENT)
        return store_meta_err(ret);
    if ((ret = migrate_v1(d, &moved)) != 0)
        return ret;
    if (meta_db_read_only(d->db))
        return 0; /* nothing to move; the record is written at a later open */
    yc_put_le32(version, META_LAYOUT_VERSION);
    return store_meta_err(meta_db_put(d->db, key.buf, key.len, version, sizeof(version)));
}
