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
 * Layout 3 adds a head per object key (meta.h, meta/meta_head.c): a layout 2 drive (or a layout
 * 1 drive once migrated) gets them here, in one pass over the object records, each key's head
 * decided from its null slot and newest version as the drive engine would have written it, and
 * the layout record last. The pass first drops whatever heads the drive holds (a pass cut short
 * and then a build without heads writing the records), so it always ends with exactly the heads
 * the records say. Until the record says 3 the drive's reads do not use heads.
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

/* ---------------------------------------------------------------- heads (layout 3) */

#define HEADS_BATCH 1024

typedef struct {
    meta_key_t keys[HEADS_BATCH];
    size_t n;
} head_keys_t;

static int collect_head_key(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    head_keys_t *h = arg;

    if (klen > sizeof(h->keys[0].buf))
        return 0;
    memcpy(h->keys[h->n].buf, key, klen);
    h->keys[h->n].len = klen;
    return ++h->n == HEADS_BATCH ? 1 : 0;
}

/* Deletes every head of one range ('H' or 'h'). */
static int drop_heads(store_drive_t *d, uint8_t tag)
{
    head_keys_t *h = calloc(1, sizeof(*h));
    int ret;

    if (h == NULL)
        return -ENOMEM;
    for (;;) {
        h->n = 0;
        if ((ret = store_meta_err(meta_db_scan(d->db, &tag, 1, NULL, 0, collect_head_key, h))) != 0 || h->n == 0)
            break;
        meta_batch_t *batch = meta_batch_new();
        if (batch == NULL) {
            ret = -ENOMEM;
            break;
        }
        for (size_t i = 0; i < h->n; i++)
            meta_batch_delete(batch, h->keys[i].buf, h->keys[i].len);
        ret = store_meta_err(meta_db_write(d->db, batch));
        meta_batch_free(batch);
        if (ret != 0)
            break;
    }
    free(h);
    return ret;
}

typedef struct {
    meta_batch_t *batch;
    size_t queued;
    meta_key_t prefix; /* the object key being gathered (versions prefix); len 0: none */
    int has_slot, has_version;
    meta_head_t slot, version; /* the slot's first record, the newest version */
    uint8_t *vrec;             /* the newest version's record, copied (the head carries it) */
    size_t vrec_cap;
    int64_t slot_mtime;
    uint8_t slot_vid[META_ID_LEN];
    int ret;
    size_t keys;
    meta_db_t *d_db;
} heads_build_t;

static int flush_heads(store_drive_t *d, heads_build_t *b)
{
    int ret = 0;

    if (b->queued > 0)
        ret = store_meta_err(meta_db_write(d->db, b->batch));
    meta_batch_free(b->batch);
    b->batch = NULL;
    b->queued = 0;
    return ret;
}

/* The head of the key gathered so far into the batch. */
static void settle_key(heads_build_t *b)
{
    const meta_head_t *h = NULL;
    meta_key_t key;

    if (b->prefix.len == 0)
        return;
    if (b->has_version &&
        (!b->has_slot || b->version.mtime_ns > b->slot_mtime ||
         (b->version.mtime_ns == b->slot_mtime && memcmp(b->version.vid, b->slot_vid, META_ID_LEN) > 0)))
        h = &b->version;
    else if (b->has_slot)
        h = &b->slot;
    if (h != NULL) {
        uint8_t val[META_HEAD_LEN + 1];
        meta_key_head_of(b->prefix.buf, b->prefix.len, (h->flags & META_HEAD_MARKER) != 0, &key);
        meta_head_encode(h, val);
        if (h->record.len > 0) {
            /* the batch copies what it is given: header and record as two parts of one value */
            memcpy(b->vrec, val, META_HEAD_LEN); /* vrec keeps META_HEAD_LEN bytes in front */
            meta_batch_put(b->batch, key.buf, key.len, b->vrec, META_HEAD_LEN + h->record.len);
        } else {
            meta_batch_put(b->batch, key.buf, key.len, val, META_HEAD_LEN);
        }
        b->queued++;
        b->keys++;
    }
    b->prefix.len = 0;
    b->has_slot = b->has_version = 0;
}

static int build_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    heads_build_t *b = arg;
    size_t plen = klen - 8 - META_ID_LEN;
    meta_object_t r;
    meta_bytes_t raw;
    size_t pos = 0;

    if (klen < 3 + 8 + META_ID_LEN || klen > sizeof(b->prefix.buf) || key[plen - 2] != 0x00 || key[plen - 1] != 0x01)
        return 0; /* not an object record's key */
    if (b->prefix.len != plen || memcmp(b->prefix.buf, key, plen) != 0) {
        settle_key(b);
        memcpy(b->prefix.buf, key, plen);
        b->prefix.len = plen;
    }
    /* the newest record of the value (a slot's first); a damaged one is the healer's */
    if (meta_slot_next(val, vlen, &pos, &raw) != 1 || meta_object_decode(raw.base, raw.len, &r) != 0)
        return 0;
    uint32_t marker = (r.flags & META_OBJ_DELETE_MARKER) ? META_HEAD_MARKER : 0;
    if ((key[plen] & 0x80) == 0) { /* the null slot (a version's ~mtime has its top bit set) */
        b->has_slot = 1;
        b->slot = (meta_head_t){.flags = META_HEAD_SLOT | marker};
        b->slot_mtime = r.mtime_ns;
        memcpy(b->slot_vid, r.vid, META_ID_LEN);
    } else if (!b->has_version) {
        if (META_HEAD_LEN + raw.len > b->vrec_cap) {
            uint8_t *p = realloc(b->vrec, META_HEAD_LEN + raw.len);
            if (p == NULL)
                return -ENOMEM;
            b->vrec = p;
            b->vrec_cap = META_HEAD_LEN + raw.len;
        }
        memcpy(b->vrec + META_HEAD_LEN, raw.base, raw.len);
        b->has_version = 1;
        b->version = (meta_head_t){.flags = marker, .mtime_ns = r.mtime_ns};
        memcpy(b->version.vid, r.vid, META_ID_LEN);
        b->version.record = (meta_bytes_t){(const char *)b->vrec + META_HEAD_LEN, raw.len};
    }
    if (b->queued >= HEADS_BATCH) {
        meta_batch_t *next = meta_batch_new();
        if (next == NULL)
            return -ENOMEM;
        /* written from inside the scan: the iterator reads its own snapshot */
        meta_batch_t *full = b->batch;
        b->batch = next;
        int ret = store_meta_err(meta_db_write(b->d_db, full));
        meta_batch_free(full);
        if (ret != 0) {
            b->ret = ret;
            return -1;
        }
        b->queued = 0;
    }
    return 0;
}

/* Writes the head of every object key of the drive; *built counts them. */
static int build_heads(store_drive_t *d, size_t *built)
{
    static const uint8_t objects[1] = {'O'};
    heads_build_t *b = calloc(1, sizeof(*b));
    int ret;

    *built = 0;
    if (b == NULL)
        return -ENOMEM;
    b->d_db = d->db;
    if ((ret = drop_heads(d, 'H')) != 0 || (ret = drop_heads(d, 'h')) != 0)
        goto out;
    if ((b->batch = meta_batch_new()) == NULL) {
        ret = -ENOMEM;
        goto out;
    }
    /* each key's slot and newest version, past the older ones by a seek */
    ret = meta_db_scan_newest(d->db, objects, sizeof(objects), NULL, 0, build_cb, b);
    if (b->ret != 0)
        ret = b->ret;
    else if (ret != 0)
        ret = ret == -ENOMEM ? ret : store_meta_err(ret);
    if (ret == 0) {
        settle_key(b);
        ret = flush_heads(d, b);
    }
    *built = b->keys;

out:
    if (b->batch != NULL)
        meta_batch_free(b->batch);
    free(b->vrec);
    free(b);
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
        uint32_t have = vlen == sizeof(version) ? yc_get_le32(val) : 0;
        free(val);
        if (have == META_LAYOUT_VERSION) {
            meta_db_set_heads(d->db, 1);
            return 0;
        }
        if (have != META_LAYOUT_SLOTS)
            return STORE_EFORMAT;
    } else if (ret != META_ENOENT) {
        return store_meta_err(ret);
    } else if ((ret = migrate_v1(d, &moved)) != 0) {
        return ret;
    }
    if (meta_db_read_only(d->db))
        return 0; /* heads are built at a later open; until then reads scan the records */
    size_t built;
    if ((ret = build_heads(d, &built)) != 0)
        return ret;
    yc_put_le32(version, META_LAYOUT_VERSION);
    if ((ret = store_meta_err(meta_db_put(d->db, key.buf, key.len, version, sizeof(version)))) == 0)
        meta_db_set_heads(d->db, 1);
    return ret;
}
