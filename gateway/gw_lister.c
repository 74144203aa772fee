/* gw_lister.c — k-way merge of per-drive record scans (see gw_lister.h).
 *
 * A key's records on a drive come newest first: its null slot, then its versions. The lister
 * shows one version per key, the newest held by k drives. Each drive's scan gives a key's null
 * slot and newest version only (store_client_record_scan_newest) and seeks past the rest of the
 * key inside the drive, in the same scan: listing current objects then costs the same whether a
 * key has 1 or 1,000 versions, and whether old versions were deleted, because their records and
 * tombstones lie behind a seek that RocksDB makes through its index, not by stepping over them.
 * As for a GET (gw_object_read.c), that is the full answer when the key's records resolve and
 * none is newer than the chosen version; otherwise (a write in flight, or one that failed) the
 * key is looked up as a GET does. A daemon that predates the newest scan gives every record: a
 * cursor then takes at most KEY_RECORDS records of one key and seeks past it with a new scan.
 *
 * A lister opened for versions takes every record of a key instead (ListObjectVersions must show
 * them all): the records of one key from every drive are gathered, sorted newest first and grouped
 * by identity, and each identity held by k drives is shown. That costs a key's versions, which is
 * what that call returns; ListObjects (v1, v2) keep the seek. */
#include "gateway/gw_lister.h"
#include "gateway/gw_object.h"
#include "gateway/gw_origin.h"
#include "common/bigbuf.h"
#include <stdlib.h>
#include <string.h>

#define BATCH 256

static const uint8_t zero_vid[META_ID_LEN];

static int vid_is_null(const uint8_t *vid)
{
    return memcmp(vid, zero_vid, META_ID_LEN) == 0;
}
/* records of one key a cursor takes before it seeks past the key: the null slot and the newest
 * versions (gw_object_internal.h's GW_LOOKUP_VERSIONS, the same bound a GET reads) */
#define KEY_RECORDS 4
/* a batch ends at BATCH records or later, by the rest of the last null slot read */
#define BATCH_CAP (BATCH + META_SLOT_MAX)

typedef struct {
    gw_list_entry_t e;
    gw_version_t id; /* what gw_quorum_resolve compares */
    int note;        /* a skip note: the drive left out keys up to and including e.key */
} rec_t;

typedef struct {
    store_client_t *drive;
    uint32_t index; /* of the drive in the cluster */
    rec_t *recs;
    size_t n, pos;
    meta_key_t seek; /* the next batch starts at the first record >= seek */
    int skip_equal;  /* ... skipping a record equal to seek, which was already taken */
    int last_batch;  /* the drive had nothing past the records in recs */
    int skipped;     /* the batch ended at a key's KEY_RECORDS: the drive may hold more past seek */
    size_t run;      /* records of the key of seek taken so far */
    int all;         /* every record of a key (a versions listing), no seek past it */
    int live;        /* keys topped by a marker left out on the drive (gw_lister_open_live) */
    int failed;
    /* the last skip note taken: the drive may hold a marker on top of any key after its previous
     * record up to this one (see gather_next_key) */
    gw_list_entry_t skip;
    int has_skip;
} cursor_t;

struct gw_lister {
    gw_cluster_t *c;
    char bucket[META_NS_MAX + 1];
    size_t bucket_len;
    meta_key_t prefix;
    cursor_t *cursors;
    size_t ncursors;
    uint32_t k;
    rec_t *group; /* the records of one key from every drive */
    size_t group_cap;
    gw_version_t *ids; /* ... their identities, for gw_quorum_resolve */
    size_t ids_cap;
    gw_list_entry_t *shown; /* ... and the versions shown */
    size_t shown_cap;
    int maybe_marker; /* a drive of the key's set left it out: it may have a marker on top there */
    uint8_t *gave;    /* per cursor: it gave a record of the key being gathered */
};

/* One record of a drive's scan (a null slot may hold several) into the cursor's batch. */
static void collect_record(cursor_t *cur, const rec_t *head, meta_bytes_t raw)
{
    rec_t *rec = &cur->recs[cur->n];
    meta_object_t r;

    if (meta_object_decode(raw.base, raw.len, &r) != 0)
        return; /* a damaged record is the healer's business; the other drives still count */
    *rec = *head;
    rec->e.size = r.size;
    rec->e.flags = r.flags;
    rec->e.mtime_ns = r.mtime_ns;
    rec->e.last_modified_ns = gw_last_modified_ns(&r);
    size_t elen = r.etag.len < sizeof(rec->e.etag) - 1 ? r.etag.len : sizeof(rec->e.etag) - 1;
    memcpy(rec->e.etag, r.etag.base, elen);
    size_t olen = r.owner.len < sizeof(rec->e.owner) - 1 ? r.owner.len : sizeof(rec->e.owner) - 1;
    memcpy(rec->e.owner, r.owner.base, olen);
    memcpy(rec->e.vid, r.vid, META_ID_LEN);
    gw_version_of(&r, cur->index, &rec->id);
    cur->n++;
}

static int collect(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    cursor_t *cur = arg;
    meta_bytes_t kb, raw;
    size_t pos = 0;
    rec_t head;

    if (cur->skip_equal && klen == cur->seek.len && memcmp(key, cur->seek.buf, klen) == 0)
        return 0;
    if (klen > sizeof(cur->seek.buf) || klen < 8 + META_ID_LEN)
        return 0;
    if (vlen == 0) {
        /* a skip note (store_client_record_scan_live): the batch goes on after it */
        memset(&head, 0, sizeof(head));
        if (meta_key_parse_object(key, klen, NULL, head.e.key, &kb, NULL, NULL) != 0)
            return 0;
        head.e.key_len = kb.len;
        if (kb.base != head.e.key)
            memmove(head.e.key, kb.base, kb.len);
        head.note = 1;
        cur->recs[cur->n++] = head;
        memcpy(cur->seek.buf, key, klen);
        cur->seek.len = klen;
        cur->skip_equal = 1;
        cur->run = 0;
        return cur->n >= BATCH ? 1 : 0;
    }
    /* the key's records so far: those of the previous record's object key (its prefix, without
     * the time and vid of a version) */
    size_t plen = klen - 8 - META_ID_LEN;
    if (cur->seek.len == klen && cur->skip_equal && memcmp(cur->seek.buf, key, plen) == 0)
        cur->run++;
    else
        cur->run = 1;
    if (!cur->all && cur->run > KEY_RECORDS && plen >= 2) {
        /* the rest of this key's versions are not needed: go on at its successor (its
         * terminator 0x00 0x01 made 0x00 0x02), which no record of this key reaches */
        memcpy(cur->seek.buf, key, plen);
        cur->seek.buf[plen - 1]++;
        cur->seek.len = plen;
        cur->skip_equal = 0;
        cur->skipped = 1;
        cur->run = 0;
        return 1;
    }
    memcpy(cur->seek.buf, key, klen);
    cur->seek.len = klen;
    cur->skip_equal = 1;

    memset(&head, 0, sizeof(head));
    if (meta_key_parse_object(key, klen, NULL, head.e.key, &kb, &head.e.mtime_ns, head.e.vid) != 0)
        return 0;
    head.e.key_len = kb.len;
    if (kb.base != head.e.key)
        memmove(head.e.key, kb.base, kb.len);
    while (cur->n < BATCH_CAP && meta_slot_next(val, vlen, &pos, &raw) == 1)
        collect_record(cur, &head, raw);
    return cur->n >= BATCH ? 1 : 0;
}

static void fill(gw_lister_t *l, cursor_t *cur)
{
    cur->n = cur->pos = 0;
    if (cur->failed || cur->last_batch)
        return;
    meta_key_t seek = cur->seek;
    cur->skipped = 0;
    if ((cur->all    ? store_client_record_scan(cur->drive, &l->prefix, &seek, 0, collect, cur)
         : cur->live ? store_client_record_scan_live(cur->drive, &l->prefix, &seek, 0, collect, cur)
                     : store_client_record_scan_newest(cur->drive, &l->prefix, &seek, 0, collect, cur)) != 0) {
        cur->failed = 1;
        return;
    }
    cur->last_batch = cur->n < BATCH && !cur->skipped;
}

typedef struct {
    gw_lister_t *l;
} fill_all_t;

static void fill_task(void *arg, size_t i)
{
    gw_lister_t *l = ((fill_all_t *)arg)->l;
    fill(l, &l->cursors[i]);
}

static int seek_all(gw_lister_t *l, meta_bytes_t key)
{
    meta_key_t seek;
    fill_all_t f = {l};

    if (meta_key_object_seek((meta_bytes_t){l->bucket, l->bucket_len}, key, &seek) != 0)
        return GW_EINVAL;
    for (size_t i = 0; i < l->ncursors; i++) {
        cursor_t *cur = &l->cursors[i];
        cur->seek = seek;
        cur->skip_equal = 0;
        cur->last_batch = 0;
        cur->run = 0;
        cur->n = cur->pos = 0;
        cur->has_skip = 0;
    }
    /* on every drive at once, even in this process: a listing's first batch may walk a long run
     * of deleted keys on each drive (see meta_db_scan_live), which the drives' lanes share */
    gw_cluster_fanout(l->c, fill_task, &f);
    return 0;
}

/* mode: 0 each key's newest records, 1 every record (versions), 2 live keys only */
static int open_lister(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t start, int mode, gw_lister_t **out)
{
    gw_lister_t *l;
    if (bucket.len > META_NS_MAX)
        return GW_EINVAL;
    if ((l = calloc(1, sizeof(*l))) == NULL)
        return GW_ENOMEM;
    l->c = c;
    memcpy(l->bucket, bucket.base, bucket.len);
    l->bucket_len = bucket.len;
    l->k = c->sets[0].k;
    if (meta_key_bucket_objects(bucket, &l->prefix) != 0)
        goto fail;
    l->ncursors = c->ndrives;
    if ((l->cursors = calloc(l->ncursors, sizeof(*l->cursors))) == NULL || (l->gave = calloc(l->ncursors, 1)) == NULL)
        goto fail;
    for (size_t i = 0; i < l->ncursors; i++) {
        l->cursors[i].drive = c->drives[i].client;
        l->cursors[i].index = (uint32_t)i;
        l->cursors[i].failed = c->drives[i].client == NULL;
        l->cursors[i].all = mode == 1;
        l->cursors[i].live = mode == 2;
        /* over 300 KiB each: reused buffers, not a fresh mapping per listing (gw_list.c's items) */
        if ((l->cursors[i].recs = yc_bigbuf_alloc(BATCH_CAP * sizeof(rec_t))) == NULL)
            goto fail;
    }
    if (seek_all(l, start) != 0)
        goto fail;
    *out = l;
    return 0;
fail:
    gw_lister_free(l);
    return GW_ENOMEM;
}

int gw_lister_open(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t start, gw_lister_t **out)
{
    return open_lister(c, bucket, start, 0, out);
}

int gw_lister_open_versions(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t start, gw_lister_t **out)
{
    return open_lister(c, bucket, start, 1, out);
}

int gw_lister_open_live(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t start, gw_lister_t **out)
{
    return open_lister(c, bucket, start, 2, out);
}

int gw_lister_seek(gw_lister_t *l, meta_bytes_t key)
{
    return seek_all(l, key);
}

void gw_lister_free(gw_lister_t *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; l->cursors != NULL && i < l->ncursors; i++)
        yc_bigbuf_free(l->cursors[i].recs);
    free(l->cursors);
    free(l->group);
    free(l->ids);
    free(l->shown);
    free(l->gave);
    free(l);
}

static int grow(void **buf, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need)
        ncap *= 2;
    void *p = realloc(*buf, ncap * size);
    if (p == NULL)
        return GW_ENOMEM;
    *buf = p;
    *cap = ncap;
    return 0;
}

static int key_cmp(const gw_list_entry_t *a, const gw_list_entry_t *b)
{
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int r = memcmp(a->key, b->key, n);
    return r != 0 ? r : (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

static rec_t *peek(gw_lister_t *l, cursor_t *cur)
{
    if (cur->failed)
        return NULL;
    while (cur->pos == cur->n) {
        if (cur->last_batch)
            return NULL;
        fill(l, cur);
        if (cur->n == 0 && !cur->skipped)
            return NULL;
    }
    return &cur->recs[cur->pos];
}

/* Takes the skip notes at the head of cur, all of them (upto NULL) or those of key upto only;
 * the last one taken stays as cur->skip. */
static void take_notes(gw_lister_t *l, cursor_t *cur, const gw_list_entry_t *upto)
{
    rec_t *r;
    while ((r = peek(l, cur)) != NULL && r->note && (upto == NULL || key_cmp(&r->e, upto) == 0)) {
        cur->skip = r->e;
        cur->has_skip = 1;
        cur->pos++;
    }
}

/* 1 when a drive of key's set that gave no record of key left out a range holding it (a drive
 * that gave a record and then a note of that key counts too: a slot, then a marker on top). Such
 * a drive may hold a delete marker on top of key: the merge of what the others gave cannot say
 * whether that marker is the newest acknowledged version, so the key is looked up as a GET does.
 * Drives of other sets never hold key: their notes say nothing of it. */
static int left_out(gw_lister_t *l, size_t i, const gw_list_entry_t *key)
{
    const cursor_t *cur = &l->cursors[i];
    if (!cur->has_skip)
        return 0;
    int c = key_cmp(key, &cur->skip);
    return c == 0 || (c < 0 && !l->gave[i]);
}

static int skipped_by_set(gw_lister_t *l, const gw_list_entry_t *key)
{
    int any = 0;
    for (size_t i = 0; i < l->ncursors && !any; i++)
        any = left_out(l, i, key);
    if (!any || l->c->nsets <= 1)
        return any;
    uint8_t dist[16];
    gw_set_t *set =
        gw_cluster_place(l->c, (meta_bytes_t){l->bucket, l->bucket_len}, (meta_bytes_t){key->key, key->key_len}, dist);
    if (set == NULL)
        return 1;
    for (uint32_t s = 0; s < gw_set_width(set); s++) {
        size_t i = (size_t)(set->drives[s] - l->c->drives);
        if (i < l->ncursors && left_out(l, i, key))
            return 1;
    }
    return 0;
}

/* The records of the next key (the smallest under every cursor) from every drive into l->group:
 * 1 with *ng set, 0 at the end, negative on error. Both listings merge through it. Skip notes
 * (live scans) come before the records after them and after a key's own records; notes of a key
 * that no drive gave are taken on the way, so a key every drive left out is never seen. */
static int gather_next_key(gw_lister_t *l, size_t *ng)
{
    size_t answered = 0;
    for (size_t i = 0; i < l->ncursors; i++)
        answered += !l->cursors[i].failed;
    if (answered < l->k)
        return GW_EQUORUM;

    rec_t *min = NULL;
    int notes = 0;
    for (size_t i = 0; i < l->ncursors; i++) {
        take_notes(l, &l->cursors[i], NULL);
        notes |= l->cursors[i].has_skip;
        rec_t *r = peek(l, &l->cursors[i]);
        if (r != NULL && (min == NULL || key_cmp(&r->e, &min->e) < 0))
            min = r;
    }
    if (min == NULL)
        return 0;
    gw_list_entry_t key_of = min->e;
    size_t n = 0;
    memset(l->gave, 0, l->ncursors);
    for (size_t i = 0; i < l->ncursors; i++) {
        rec_t *r;
        while ((r = peek(l, &l->cursors[i])) != NULL && !r->note && key_cmp(&r->e, &key_of) == 0) {
            if (grow((void **)&l->group, &l->group_cap, n + 1, sizeof(rec_t)) != 0)
                return GW_ENOMEM;
            l->group[n++] = *r;
            l->cursors[i].pos++;
            l->gave[i] = 1;
        }
        take_notes(l, &l->cursors[i], &key_of);
        notes |= l->cursors[i].has_skip;
    }
    l->maybe_marker = notes && skipped_by_set(l, &key_of);
    *ng = n;
    return 1;
}

/* The key of l->group looked up as a GET does, into *out: 1 when it has a visible version. */
static int lookup_key(gw_lister_t *l, gw_list_entry_t *out)
{
    gw_list_entry_t e = l->group[0].e;
    gw_object_t *o;

    if (gw_object_lookup(l->c, (meta_bytes_t){l->bucket, l->bucket_len}, (meta_bytes_t){e.key, e.key_len}, NULL, &o) !=
        0)
        return 0;
    const meta_object_t *r = gw_object_record(o);
    e.size = r->size;
    e.flags = r->flags;
    e.mtime_ns = r->mtime_ns;
    e.last_modified_ns = gw_last_modified_ns(r);
    memset(e.etag, 0, sizeof(e.etag));
    memcpy(e.etag, r->etag.base, r->etag.len < sizeof(e.etag) - 1 ? r->etag.len : sizeof(e.etag) - 1);
    memset(e.owner, 0, sizeof(e.owner));
    memcpy(e.owner, r->owner.base, r->owner.len < sizeof(e.owner) - 1 ? r->owner.len : sizeof(e.owner) - 1);
    memcpy(e.vid, r->vid, META_ID_LEN);
    gw_object_free(o);
    *out = e;
    return 1;
}

int gw_lister_next(gw_lister_t *l, gw_list_entry_t *out)
{
    size_t ng, best = 0;
    int ret, resolved, versioned;

    while ((ret = gather_next_key(l, &ng)) == 1) {
        if (grow((void **)&l->ids, &l->ids_cap, ng, sizeof(gw_version_t)) != 0)
            return GW_ENOMEM;
        versioned = 0;
        for (size_t i = 0; i < ng; i++) {
            l->ids[i] = l->group[i].id;
            versioned |= !vid_is_null(l->group[i].e.vid);
        }
        /* the rule of a GET; a key without a visible version is skipped, not retried: the
         * listing as a whole needs k drives (gather_next_key). A key some drive of its set left
         * out as topped by a marker is a GET's lookup, as is any key with a marker on some
         * drives and not on others (a newer record than the one chosen). */
        if (l->maybe_marker) {
            if (!lookup_key(l, out))
                continue;
            out->is_latest = 1;
            return 1;
        }
        resolved = gw_quorum_resolve(l->ids, ng, l->k, 0, &best) == 0;
        for (size_t i = 0; resolved && versioned && i < ng; i++)
            resolved = !gw_version_newer(&l->ids[i], &l->ids[best]);
        if (resolved) {
            *out = l->group[best].e;
        } else if (!versioned || !lookup_key(l, out)) {
            continue; /* a write in flight or one that failed: not visible */
        }
        out->is_latest = 1;
        return 1;
    }
    return ret;
}

/* Newest first: (modification time, version id) descending; equal ones by identity, so that
 * copies of one version from several drives lie side by side. */
static int newest_first(const void *pa, const void *pb)
{
    const gw_version_t *a = &((const rec_t *)pa)->id, *b = &((const rec_t *)pb)->id;
    if (gw_version_newer(a, b))
        return -1;
    if (gw_version_newer(b, a))
        return 1;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    if (a->flags != b->flags)
        return a->flags > b->flags ? -1 : 1;
    if (a->part_count != b->part_count)
        return a->part_count > b->part_count ? -1 : 1;
    return memcmp(a->data_id, b->data_id, sizeof(a->data_id));
}

int gw_lister_next_versions(gw_lister_t *l, const gw_list_entry_t **out, size_t *n)
{
    size_t ng;
    int ret;

    while ((ret = gather_next_key(l, &ng)) == 1) {
        size_t nshown = 0;
        qsort(l->group, ng, sizeof(rec_t), newest_first);
        int null_shown = 0;
        for (size_t i = 0; i < ng;) {
            size_t j = i + 1;
            while (j < ng && gw_version_same(&l->group[j].id, &l->group[i].id))
                j++;
            /* copies of one version on k drives: acknowledged (a write in flight or one that
             * failed stays invisible, as for a GET); the null version once, its newest */
            int is_null = vid_is_null(l->group[i].id.vid);
            if (j - i >= l->k && !(is_null && null_shown)) {
                if (grow((void **)&l->shown, &l->shown_cap, nshown + 1, sizeof(gw_list_entry_t)) != 0)
                    return GW_ENOMEM;
                l->shown[nshown] = l->group[i].e;
                l->shown[nshown].is_latest = nshown == 0;
                nshown++;
                null_shown |= is_null;
            }
            i = j;
        }
        if (nshown == 0)
            continue;
        *out = l->shown;
        *n = nshown;
        return 1;
    }
    return ret;
}
