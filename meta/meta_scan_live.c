/* meta_scan_live.c — the listing's scan: each object key's newest records, keys whose newest
 * record is a delete marker left out (see meta_db_scan_live in meta.h).
 *
 * A bucket where many keys were deleted holds, per key, a marker over the versions it hides. A
 * listing of current objects shows none of them, yet a scan that hands every marker up costs a
 * record copy, a decode and a merge across the set's drives per key and per drive: 100,000
 * deleted keys made a page of a listing a hundred times slower than a page of live keys. This
 * scan decides on the drive, from the key's null slot and newest version (whichever is newer by
 * (modification time, version id) is the key's newest here), and gives nothing for a key topped
 * by a marker.
 *
 * What the drives leave out must not change what the quorum merge decides. So where keys were
 * left out the caller gets a skip note: the key of the last record left out, with an empty value,
 * before the next record and at the end. A reader that merges drives knows from it that this
 * drive may hold a marker on top of any object key in (the previous record given, the note's
 * key], and decides such a key as a lookup of its newest version would (gateway/gw_lister.c).
 *
 * A key whose slot holds a live null version is given as meta_db_scan_newest gives it, slot and
 * newest version (a marker among them included): that mix of an old null version and newer
 * versions is rare, and the merge decides it as before. Only a slot topped by a marker is held
 * back (copied) until the key's newest version, if any, is seen.
 *
 * On a drive that keeps heads (meta_head.c) the walk over the records is only the start: at the
 * first key that has a version or whose slot is topped by a marker (a bucket that was ever
 * versioned; a key whose live slot has versions behind it switches at the next key), the scan
 * goes on over the live heads from that key, where deleted keys and older
 * versions cost nothing. A bucket never versioned has neither, and its records are the cheapest
 * walk there is: one entry per key, no point read.
 */
#include "meta/meta.h"
#include "meta/meta_internal.h"
#include <stdlib.h>
#include <string.h>

#define VERSION_SUFFIX (8 + META_ID_LEN) /* be64(~mtime) vid after an object key's 0x00 0x01 */

typedef struct {
    meta_scan_cb cb;
    void *arg;
    /* heads: the drive keeps heads and the prefix is a bucket's objects: at the first key that
     * has a version or a marker, switch to the walk over the heads from it (switch_at) */
    int heads, switching, versioned;
    meta_key_t seen, switch_at; /* the object key (versions prefix) of the last record */
    int stopped;                /* cb returned non-zero: its value is passed back, nothing more is given */
    /* the run of keys left out since the last record given */
    meta_key_t note;
    size_t run;
    /* the object key whose live slot was given: its version goes up as it is */
    meta_key_t live;
    /* a slot topped by a marker, held until its key's newest version shows */
    meta_key_t held_key;
    uint8_t *held_val;
    size_t held_len, held_cap;
    int held;
    int64_t held_mtime;
    uint8_t held_vid[META_ID_LEN];
} live_t;

/* 1 when key is an object record's key ('O' ... 0x00 0x01 suffix) with *plen the length of its
 * object-key part (through 0x00 0x01) and *slot whether it is the null slot. */
static int object_key(const uint8_t *key, size_t klen, size_t *plen, int *slot)
{
    if (klen < 3 + VERSION_SUFFIX || key[0] != 'O')
        return 0;
    size_t head = klen - VERSION_SUFFIX;
    if (key[head - 2] != 0x00 || key[head - 1] != 0x01)
        return 0;
    *plen = head;
    *slot = (key[head] & 0x80) == 0; /* a version's ~mtime has its top bit set (mtime >= 0) */
    return 1;
}

/* 1 for a bucket's objects prefix, 'O' ns 0x00 (ns without 0x00). */
static int bucket_prefix(const void *prefix, size_t plen)
{
    const uint8_t *p = prefix;
    return plen >= 2 && p[0] == 'O' && p[plen - 1] == 0x00 && memchr(p, 0x00, plen - 1) == NULL;
}

static int same_object(const meta_key_t *a, const uint8_t *key, size_t plen)
{
    return a->len >= plen && memcmp(a->buf, key, plen) == 0 && a->len - plen == VERSION_SUFFIX;
}

/* The newest record of a value (a slot's first, or the record itself): 0 with its marker flag,
 * time and version id; a record that does not decode is not decided here (-1: given as it is). */
static int newest_of(const uint8_t *val, size_t vlen, int *marker, int64_t *mtime, uint8_t vid[META_ID_LEN])
{
    meta_bytes_t raw;
    meta_object_t r;
    size_t pos = 0;

    if (meta_slot_next(val, vlen, &pos, &raw) != 1 || meta_object_decode(raw.base, raw.len, &r) != 0)
        return -1;
    *marker = (r.flags & META_OBJ_DELETE_MARKER) != 0;
    *mtime = r.mtime_ns;
    memcpy(vid, r.vid, META_ID_LEN);
    return 0;
}

static int give(live_t *s, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    int ret = s->cb(s->arg, key, klen, val, vlen);
    if (ret != 0)
        s->stopped = 1;
    return ret;
}

/* The note of the run so far, if any. */
static int give_note(live_t *s)
{
    if (s->run == 0)
        return 0;
    s->run = 0;
    return give(s, s->note.buf, s->note.len, (const uint8_t *)"", 0);
}

static int leave_out(live_t *s, const uint8_t *key, size_t klen)
{
    memcpy(s->note.buf, key, klen);
    s->note.len = klen;
    if (++s->run >= META_SCAN_NOTE_EVERY)
        return give_note(s);
    return 0;
}

/* A record given: the run's note first. */
static int give_record(live_t *s, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    int ret = give_note(s);
    return ret != 0 ? ret : give(s, key, klen, val, vlen);
}

/* The held slot's key has no version after it: the slot alone decides, and it is a marker. */
static int settle_held(live_t *s)
{
    if (!s->held)
        return 0;
    s->held = 0;
    return leave_out(s, s->held_key.buf, s->held_key.len);
}

static int hold(live_t *s, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen, int64_t mtime,
                const uint8_t *vid)
{
    if (vlen > s->held_cap) {
        uint8_t *p = realloc(s->held_val, vlen);
        if (p == NULL)
            return META_ENOMEM;
        s->held_val = p;
        s->held_cap = vlen;
    }
    memcpy(s->held_val, val, vlen);
    s->held_len = vlen;
    memcpy(s->held_key.buf, key, klen);
    s->held_key.len = klen;
    s->held_mtime = mtime;
    memcpy(s->held_vid, vid, META_ID_LEN);
    s->held = 1;
    return 0;
}

static int live_cb(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    live_t *s = arg;
    size_t plen;
    int slot, marker, ret;
    int64_t mtime;
    uint8_t vid[META_ID_LEN];

    if (klen > sizeof(s->note.buf) || !object_key(key, klen, &plen, &slot)) {
        if ((ret = settle_held(s)) != 0)
            return ret;
        return give_record(s, key, klen, val, vlen);
    }
    int decided = -2; /* newest_of of a slot, once */
    if (s->heads && !(s->seen.len == plen && memcmp(s->seen.buf, key, plen) == 0)) {
        memcpy(s->seen.buf, key, plen);
        s->seen.len = plen;
        if (slot)
            decided = newest_of(val, vlen, &marker, &mtime, vid);
        if (s->versioned || !slot || (decided == 0 && marker)) {
            memcpy(s->switch_at.buf, key, plen);
            s->switch_at.len = plen;
            s->switching = 1;
            return 1;
        }
    }
    if (!slot)
        s->versioned = 1; /* a version behind a slot: the heads from the next key on */
    if (slot) {
        if ((ret = settle_held(s)) != 0)
            return ret;
        s->live.len = 0;
        if (decided == -2)
            decided = newest_of(val, vlen, &marker, &mtime, vid);
        if (decided != 0 || !marker) {
            memcpy(s->live.buf, key, klen);
            s->live.len = klen;
            return give_record(s, key, klen, val, vlen);
        }
        return hold(s, key, klen, val, vlen, mtime, vid);
    }
    /* the key's newest version */
    if (s->held && !same_object(&s->held_key, key, plen) && (ret = settle_held(s)) != 0)
        return ret;
    if (s->live.len > 0 && same_object(&s->live, key, plen)) {
        s->live.len = 0;
        return give_record(s, key, klen, val, vlen);
    }
    s->live.len = 0;
    if (newest_of(val, vlen, &marker, &mtime, vid) != 0) {
        /* undecidable here: whatever was held goes up with it */
        if (s->held && (ret = give_record(s, s->held_key.buf, s->held_key.len, s->held_val, s->held_len)) != 0)
            return ret;
        s->held = 0;
        return give_record(s, key, klen, val, vlen);
    }
    if (s->held) {
        /* a marker in the slot: the version decides only when it is newer */
        s->held = 0;
        int newer = mtime != s->held_mtime ? mtime > s->held_mtime : memcmp(vid, s->held_vid, META_ID_LEN) > 0;
        if (newer && !marker) {
            if ((ret = give_record(s, s->held_key.buf, s->held_key.len, s->held_val, s->held_len)) != 0)
                return ret;
            return give_record(s, key, klen, val, vlen);
        }
        return leave_out(s, key, klen);
    }
    if (marker)
        return leave_out(s, key, klen);
    return give_record(s, key, klen, val, vlen);
}

int meta_db_scan_live(meta_db_t *db, const void *prefix, size_t plen, const void *seek, size_t slen, meta_scan_cb cb,
                      void *arg)
{
    live_t *s;
    int ret;

    if ((s = calloc(1, sizeof(*s))) == NULL) /* three encoded keys, 7 KiB: off the stack */
        return META_ENOMEM;
    s->cb = cb;
    s->arg = arg;
    s->heads = meta_db_heads(db) && bucket_prefix(prefix, plen);
    ret = meta_db_scan_newest_mode(db, prefix, plen, seek, slen, 1, live_cb, s);
    if (ret >= 0 && s->switching && (ret = settle_held(s)) == 0 && !s->stopped && (ret = give_note(s)) == 0 &&
        !s->stopped) {
        /* every key before switch_at was given or noted: the heads go on from it */
        ret = meta_head_scan_live(db, prefix, plen, s->switch_at.buf, s->switch_at.len, cb, arg, &s->stopped);
        s->stopped = 1; /* the heads' walk gave its own notes, to the end */
    }
    /* the end of the range: what is still held or left out gets its note */
    if (ret == 0 && !s->stopped && (ret = settle_held(s)) == 0 && !s->stopped)
        ret = give_note(s);
    if (ret > 0)
        ret = 0;
    free(s->held_val);
    free(s);
    return ret;
}
