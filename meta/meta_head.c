/* meta_head.c — the head of each object key, and the reads that stand on it.
 *
 * A key's records on a drive are its null slot and its versions, newest first. Which of them is
 * the key's newest (by modification time and version id) is what a GET without a version id and
 * a listing of current objects need; finding it by a scan costs a walk past whatever lies in
 * front (tombstones of deleted versions) and, for a listing, past every older version and every
 * deleted key (a marker over the versions it hides): a page of keys of 10 versions cost 3.4x a
 * page of plain keys, a page behind 100,000 delete markers 31-40x. So each object key with
 * records has a head (meta.h): a small record naming its newest one (the slot, or a version's
 * time and id) and whether it is a delete marker, kept in the live range ('H') or the dead range
 * ('h') by that flag. The drive engine writes a head in the same atomic batch as the record
 * change that moves it, under its per-key lock (store/object.c), so a head never disagrees with
 * the records, crash or not.
 *
 * A head that names a version carries a copy of its record (the drive engine rewrites it with the
 * record's every change: a PUT, an attribute update), so what the readers below need is in the
 * head itself; a head that names the null slot does not (an unversioned overwrite would have to
 * rewrite it every time), and the slot is read beside it.
 *
 * - The newest-only scan of one key (a GET's lookup) reads the head: one point read (two when the
 *   slot is the newest), whatever the key's history.
 * - The live scan walks the live range: one step per live key, and a key topped by a marker has
 *   no live head, so a prefix of 100,000 deleted keys costs nothing to pass. Where dead keys lie between two live ones
 * (a second iterator over the dead range says so, one seek per such gap) the walk gives a skip note whose key is the
 * last dead key's newest record, as the record walk did, so that the quorum merge decides the same (meta_scan_live.c,
 * gateway/gw_lister.c). The iterators and point reads of a walk read one snapshot, so a head and the record it names
 * are always of the same moment.
 */
#include "meta/meta.h"
#include "meta/meta_internal.h"
#include "common/bytes.h"
#include <rocksdb/c.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define HEAD_MAGIC   0xB7
#define HEAD_VERSION 1
#define SUFFIX       (8 + META_ID_LEN) /* be64(~mtime) vid after an object key's 0x00 0x01 */

void meta_head_encode(const meta_head_t *h, uint8_t out[META_HEAD_LEN])
{
    out[0] = HEAD_MAGIC;
    out[1] = HEAD_VERSION;
    out[2] = (uint8_t)h->flags;
    yc_put_le64(out + 3, (uint64_t)h->mtime_ns);
    memcpy(out + 11, h->vid, META_ID_LEN);
    yc_put_le64(out + 11 + META_ID_LEN, XXH3_64bits(out, 11 + META_ID_LEN));
}

int meta_head_decode(const void *buf, size_t len, meta_head_t *out)
{
    const uint8_t *p = buf;

    if (len < META_HEAD_LEN || p[0] != HEAD_MAGIC || p[1] != HEAD_VERSION ||
        yc_get_le64(p + 11 + META_ID_LEN) != XXH3_64bits(p, 11 + META_ID_LEN) ||
        (p[2] & ~(META_HEAD_SLOT | META_HEAD_MARKER)) != 0)
        return META_ECORRUPT;
    out->flags = p[2];
    out->mtime_ns = (int64_t)yc_get_le64(p + 3);
    memcpy(out->vid, p + 11, META_ID_LEN);
    out->record = (meta_bytes_t){(const char *)p + META_HEAD_LEN, len - META_HEAD_LEN};
    return 0;
}

/* 1 when p is one object key's versions prefix: 'O' ns 0x00 esc(key) 0x00 0x01, nothing after. */
static int one_key_prefix(const uint8_t *p, size_t plen)
{
    size_t i = 1;

    if (plen < 4 || p[0] != 'O' || p[plen - 2] != 0x00 || p[plen - 1] != 0x01)
        return 0;
    while (i < plen && p[i] != 0x00) /* the namespace */
        i++;
    for (i++; i + 1 < plen; i++) {
        if (p[i] != 0x00)
            continue;
        if (p[i + 1] != 0xFF) /* an unescaped 0x00 ends the key */
            return i == plen - 2;
        i++;
    }
    return 0;
}

/* The record key a head names: the versions prefix okey (plen bytes, through 0x00 0x01) with the
 * slot's suffix (all zero) or the version's. */
static void record_key(const uint8_t *okey, size_t plen, const meta_head_t *h, meta_key_t *out)
{
    memcpy(out->buf, okey, plen);
    out->buf[0] = 'O';
    if (h->flags & META_HEAD_SLOT) {
        memset(out->buf + plen, 0, SUFFIX);
    } else {
        yc_put_be64(out->buf + plen, ~(uint64_t)h->mtime_ns);
        memcpy(out->buf + plen + 8, h->vid, META_ID_LEN);
    }
    out->len = plen + SUFFIX;
}

/* A point read under rdb, pinned in RocksDB's block (no copy): *val is valid until
 * rocksdb_pinnableslice_destroy(*ps); META_ENOENT when absent. */
static int get(rocksdb_t *rdb, const rocksdb_readoptions_t *ropts, const uint8_t *key, size_t klen,
               rocksdb_pinnableslice_t **ps, const char **val, size_t *vlen)
{
    char *err = NULL;

    *ps = rocksdb_get_pinned(rdb, ropts, (const char *)key, klen, &err);
    if (err != NULL)
        return meta_db_status_code(err);
    if (*ps == NULL)
        return META_ENOENT;
    *val = rocksdb_pinnableslice_value(*ps, vlen);
    return 0;
}

/* The key's head; with keep set its record copy stays valid until rocksdb_pinnableslice_destroy
 * (*keep) (NULL when there is no head), else out->record is left empty. */
static int head_get(rocksdb_t *rdb, const rocksdb_readoptions_t *ropts, const uint8_t *okey, size_t plen,
                    meta_head_t *out, rocksdb_pinnableslice_t **keep)
{
    rocksdb_pinnableslice_t *ps = NULL;
    meta_key_t hk;
    const char *val = NULL;
    size_t vlen = 0;
    int ret;

    meta_key_head_of(okey, plen, 0, &hk);
    if ((ret = get(rdb, ropts, hk.buf, hk.len, &ps, &val, &vlen)) == META_ENOENT) {
        meta_key_head_of(okey, plen, 1, &hk);
        ret = get(rdb, ropts, hk.buf, hk.len, &ps, &val, &vlen);
    }
    if (ret == 0) {
        ret = meta_head_decode(val, vlen, out);
        if (keep != NULL && ret == 0) {
            *keep = ps;
            return 0;
        }
        out->record = (meta_bytes_t){NULL, 0};
        rocksdb_pinnableslice_destroy(ps);
    }
    return ret;
}

int meta_db_head_get(meta_db_t *db, const uint8_t *okey, size_t plen, meta_head_t *out)
{
    rocksdb_readoptions_t *ropts;
    rocksdb_t *rdb;
    int ret;

    if (plen > META_ENCODED_KEY_MAX - SUFFIX)
        return META_ERANGE;
    if ((ropts = rocksdb_readoptions_create()) == NULL)
        return META_ENOMEM;
    if ((rdb = meta_db_handle_acquire(db)) == NULL) {
        rocksdb_readoptions_destroy(ropts);
        return META_EIO;
    }
    ret = head_get(rdb, ropts, okey, plen, out, NULL);
    meta_db_handle_release(db);
    rocksdb_readoptions_destroy(ropts);
    return ret;
}

int meta_head_scan_one(meta_db_t *db, const void *prefix, size_t plen, meta_internal_scan_cb cb, void *arg)
{
    rocksdb_readoptions_t *ropts = NULL;
    const rocksdb_snapshot_t *snap = NULL;
    rocksdb_pinnableslice_t *ps = NULL, *hps = NULL;
    rocksdb_t *rdb;
    meta_head_t h;
    meta_key_t rk;
    const char *val = NULL;
    size_t vlen = 0;
    int ret;

    if (plen > META_ENCODED_KEY_MAX - SUFFIX || !one_key_prefix(prefix, plen))
        return 1;
    if ((ropts = rocksdb_readoptions_create()) == NULL)
        return META_ENOMEM;
    if ((rdb = meta_db_handle_acquire(db)) == NULL) {
        rocksdb_readoptions_destroy(ropts);
        return META_EIO;
    }
    /* the head and its record of one moment: a delete between the two reads cannot split them */
    snap = rocksdb_create_snapshot(rdb);
    rocksdb_readoptions_set_snapshot(ropts, snap);
    ret = head_get(rdb, ropts, prefix, plen, &h, &hps);
    if (ret == META_ENOENT) {
        ret = 0; /* no record of the key here */
        goto out;
    }
    if (ret != 0) {
        ret = ret == META_ECORRUPT ? 1 : ret; /* a damaged head: the records still say */
        goto out;
    }
    record_key(prefix, plen, &h, &rk);
    if (h.record.len > 0) { /* the version's record, carried by its head */
        val = h.record.base;
        vlen = h.record.len;
    } else if ((ret = get(rdb, ropts, rk.buf, rk.len, &ps, &val, &vlen)) != 0) {
        ret = ret == META_ENOENT ? 1 : ret; /* cannot happen with heads kept; scan, do not trust */
        goto out;
    }
    ret = cb(arg, rk.buf, rk.len, (const uint8_t *)val, vlen);
    if (ret > 0)
        ret = 0;

out:
    if (ps != NULL)
        rocksdb_pinnableslice_destroy(ps);
    if (hps != NULL)
        rocksdb_pinnableslice_destroy(hps);
    rocksdb_release_snapshot(rdb, snap);
    meta_db_handle_release(db);
    rocksdb_readoptions_destroy(ropts);
    return ret;
}

int meta_db_scan_newest(meta_db_t *db, const void *prefix, size_t plen, const void *seek, size_t slen, meta_scan_cb cb,
                        void *arg)
{
    int ret;

    /* one key's newest records: its head names them, two point reads instead of an iterator */
    if (seek == NULL && meta_db_heads(db) && (ret = meta_head_scan_one(db, prefix, plen, cb, arg)) != 1)
        return ret;
    return meta_db_scan_newest_mode(db, prefix, plen, seek, slen, 0, cb, arg);
}

/* An iterator over one range [lo, hi) of the snapshot. */
typedef struct {
    rocksdb_readoptions_t *ropts;
    rocksdb_iterator_t *it;
    meta_key_t lo, hi;
} range_iter_t;

static int range_open(rocksdb_t *rdb, const rocksdb_snapshot_t *snap, range_iter_t *r, const uint8_t *prefix,
                      size_t plen, uint8_t tag)
{
    memcpy(r->lo.buf, prefix, plen);
    r->lo.buf[0] = tag;
    r->lo.len = plen;
    r->hi = r->lo;
    r->hi.buf[plen - 1]++; /* a bucket's prefix ends in 0x00: its successor */
    if ((r->ropts = rocksdb_readoptions_create()) == NULL)
        return META_ENOMEM;
    rocksdb_readoptions_set_snapshot(r->ropts, snap);
    rocksdb_readoptions_set_iterate_upper_bound(r->ropts, (const char *)r->hi.buf, r->hi.len);
    if ((r->it = rocksdb_create_iterator(rdb, r->ropts)) == NULL)
        return META_ENOMEM;
    return 0;
}

static void range_close(range_iter_t *r)
{
    if (r->it != NULL)
        rocksdb_iter_destroy(r->it);
    if (r->ropts != NULL)
        rocksdb_readoptions_destroy(r->ropts);
}

/* The iterator's head key and value, or 0 when it is past its range. */
static int range_at(range_iter_t *r, const uint8_t **k, size_t *klen, const uint8_t **v, size_t *vlen)
{
    if (!rocksdb_iter_valid(r->it))
        return 0;
    *k = (const uint8_t *)rocksdb_iter_key(r->it, klen);
    if (v != NULL)
        *v = (const uint8_t *)rocksdb_iter_value(r->it, vlen);
    return *klen >= r->lo.len && memcmp(*k, r->lo.buf, r->lo.len) == 0;
}

/* Head keys of the two ranges compared without their tags. */
static int tail_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = (alen < blen ? alen : blen) - 1;
    int c = memcmp(a + 1, b + 1, n);
    return c != 0 ? c : (alen > blen) - (alen < blen);
}

/* The note for the dead keys in front of upto (a live head key; NULL: the end of the range): the
 * record key of the last of them, then the dead iterator moved past them. */
static int note_dead(range_iter_t *dead, const uint8_t *upto, size_t ulen, meta_internal_scan_cb cb, void *arg)
{
    const uint8_t *k, *v;
    size_t klen, vlen;
    meta_key_t seek, rk;
    meta_head_t h;

    if (upto != NULL) {
        memcpy(seek.buf, upto, ulen);
        seek.buf[0] = dead->lo.buf[0];
        seek.len = ulen;
    } else {
        seek = dead->hi;
    }
    rocksdb_iter_seek_for_prev(dead->it, (const char *)seek.buf, seek.len);
    if (range_at(dead, &k, &klen, &v, &vlen) && klen + SUFFIX <= sizeof(rk.buf) && meta_head_decode(v, vlen, &h) == 0) {
        record_key(k, klen, &h, &rk);
        int ret = cb(arg, rk.buf, rk.len, (const uint8_t *)"", 0);
        if (ret != 0)
            return ret;
    }
    if (upto != NULL)
        rocksdb_iter_seek(dead->it, (const char *)seek.buf, seek.len);
    return 0;
}

int meta_head_scan_live(meta_db_t *db, const void *prefix, size_t plen, const void *start, size_t slen,
                        meta_internal_scan_cb cb, void *arg, int *stopped)
{
    range_iter_t live = {0}, dead = {0};
    const rocksdb_snapshot_t *snap = NULL;
    rocksdb_readoptions_t *ropts = NULL;
    rocksdb_t *rdb;
    meta_key_t seek;
    char *err = NULL;
    int ret;

    *stopped = 0;
    if (plen < 2 || plen > META_ENCODED_KEY_MAX || slen > META_ENCODED_KEY_MAX || slen < plen)
        return META_ERANGE;
    if ((rdb = meta_db_handle_acquire(db)) == NULL)
        return META_EIO;
    snap = rocksdb_create_snapshot(rdb);
    if ((ropts = rocksdb_readoptions_create()) == NULL ||
        (ret = range_open(rdb, snap, &live, prefix, plen, 'H')) != 0 ||
        (ret = range_open(rdb, snap, &dead, prefix, plen, 'h')) != 0) {
        ret = META_ENOMEM;
        goto out;
    }
    rocksdb_readoptions_set_snapshot(ropts, snap);
    meta_key_head_of(start, slen, 0, &seek);
    rocksdb_iter_seek(live.it, (const char *)seek.buf, seek.len);
    seek.buf[0] = 'h';
    rocksdb_iter_seek(dead.it, (const char *)seek.buf, seek.len);

    for (ret = 0; ret == 0; rocksdb_iter_next(live.it)) {
        const uint8_t *k, *v, *dk;
        size_t klen, vlen, dklen;
        rocksdb_pinnableslice_t *ps = NULL;
        meta_head_t h;
        meta_key_t rk;
        const char *val = NULL;
        size_t len = 0;

        if (!range_at(&live, &k, &klen, &v, &vlen))
            break;
        if (range_at(&dead, &dk, &dklen, NULL, NULL) && tail_cmp(dk, dklen, k, klen) < 0 &&
            (ret = note_dead(&dead, k, klen, cb, arg)) != 0)
            break;
        if (klen + SUFFIX > sizeof(rk.buf))
            continue;
        if (meta_head_decode(v, vlen, &h) != 0) {
            /* a damaged head, or one a later build wrote: a skip note in its place, so that the
             * listing looks the key up as a GET does, from its records, instead of counting this
             * drive out of it (with two drives down, one damaged head would hide the key) */
            h = (meta_head_t){.flags = META_HEAD_SLOT};
            record_key(k, klen, &h, &rk);
            ret = cb(arg, rk.buf, rk.len, (const uint8_t *)"", 0);
            continue;
        }
        record_key(k, klen, &h, &rk);
        if (h.record.len > 0) { /* the version's record, carried by its head: no read */
            ret = cb(arg, rk.buf, rk.len, (const uint8_t *)h.record.base, h.record.len);
            continue;
        }
        if ((ret = get(rdb, ropts, rk.buf, rk.len, &ps, &val, &len)) == META_ENOENT) {
            ret = 0; /* a head always names a record of the same snapshot; never trust one that does not */
            continue;
        }
        if (ret == 0) {
            ret = cb(arg, rk.buf, rk.len, (const uint8_t *)val, len);
            rocksdb_pinnableslice_destroy(ps);
        }
    }
    if (ret == 0) {
        rocksdb_iter_get_error(live.it, &err);
        if (err == NULL)
            rocksdb_iter_get_error(dead.it, &err);
        if (err != NULL)
            ret = meta_db_status_code(err);
    }
    /* the end of the range: the dead keys after the last live one get their note */
    if (ret == 0) {
        const uint8_t *dk;
        size_t dklen;
        if (range_at(&dead, &dk, &dklen, NULL, NULL))
            ret = note_dead(&dead, NULL, 0, cb, arg);
    }
    if (ret > 0) {
        *stopped = 1;
        ret = 0;
    }

out:
    range_close(&live);
    range_close(&dead);
    if (ropts != NULL)
        rocksdb_readoptions_destroy(ropts);
    rocksdb_release_snapshot(rdb, snap);
    meta_db_handle_release(db);
    return ret;
}
