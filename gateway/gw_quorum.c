/* gw_quorum.c — the quorum rules (see gw_quorum.h). No I/O, no locks, no allocation: every
 * function reads its arrays and returns. */
#include "gateway/gw_quorum.h"
#include "gateway/gw_object.h"
#include "store/store.h"
#include <string.h>

uint32_t gw_quorum_write(uint32_t k, uint32_t m)
{
    /* k when k > m (already a majority); k+1 when k == m; a majority when k < m, where k drives
     * are fewer than half and two disjoint groups of them could both accept a write */
    uint32_t majority = (k + m) / 2 + 1;
    return k > majority ? k : majority;
}

uint32_t gw_quorum_read(uint32_t k, uint32_t m)
{
    return k + m - gw_quorum_write(k, m) + 1;
}

size_t gw_quorum_majority(size_t n)
{
    return n / 2 + 1;
}

int gw_quorum_error(const int *results, size_t n, size_t quorum)
{
    size_t full = 0;

    for (size_t i = 0; i < n; i++)
        full += results[i] == STORE_ENOSPC;
    return n >= quorum && full > n - quorum ? GW_ENOSPC : GW_EQUORUM;
}

int gw_quorum_write_result(const int *results, size_t n, size_t quorum)
{
    size_t ok = 0;

    for (size_t i = 0; i < n; i++)
        ok += results[i] == 0;
    return ok >= quorum ? 0 : gw_quorum_error(results, n, quorum);
}

int gw_quorum_commit(const int *results, size_t n, size_t quorum, int *prune, int *heal)
{
    size_t ok = 0, stale = 0;

    for (size_t i = 0; i < n; i++) {
        ok += results[i] == 0;
        stale += results[i] == STORE_ESTALE;
    }
    *prune = *heal = 0;
    if (ok + stale < quorum)
        return gw_quorum_error(results, n, quorum);
    *prune = ok >= quorum;
    *heal = ok + stale < n;
    return 0;
}

int gw_quorum_newest(const int *results, const void *const *vals, const size_t *lens, size_t n, size_t quorum,
                     gw_quorum_newer_fn newer, size_t *chosen)
{
    size_t found = 0, absent = 0, best = SIZE_MAX;

    for (size_t i = 0; i < n; i++) {
        if (results[i] == 0) {
            found++;
            if (best == SIZE_MAX || (newer != NULL && newer(vals[i], lens[i], vals[best], lens[best])))
                best = i;
        } else if (results[i] == STORE_ENOENT) {
            absent++;
        }
    }
    if (found >= quorum) {
        *chosen = best;
        return 0;
    }
    return found + absent >= quorum ? GW_ENOENT : GW_EQUORUM;
}

void gw_version_of(const meta_object_t *r, uint32_t drive, gw_version_t *out)
{
    meta_part_ref_t part;

    out->mtime_ns = r->mtime_ns;
    memcpy(out->vid, r->vid, META_ID_LEN);
    if (r->part_count > 0 && meta_object_part(r, 0, &part) == 0)
        memcpy(out->data_id, part.data_id, META_ID_LEN);
    else
        memset(out->data_id, 0, META_ID_LEN);
    out->size = r->size;
    out->part_count = r->part_count;
    out->flags = r->flags;
    out->drive = drive;
}

int gw_version_same(const gw_version_t *a, const gw_version_t *b)
{
    return a->mtime_ns == b->mtime_ns && memcmp(a->vid, b->vid, META_ID_LEN) == 0 &&
           memcmp(a->data_id, b->data_id, META_ID_LEN) == 0 && a->flags == b->flags && a->size == b->size &&
           a->part_count == b->part_count;
}

int gw_version_newer(const gw_version_t *a, const gw_version_t *b)
{
    if (a->mtime_ns != b->mtime_ns)
        return a->mtime_ns > b->mtime_ns;
    return memcmp(a->vid, b->vid, META_ID_LEN) > 0;
}

int gw_quorum_resolve(const gw_version_t *v, size_t n, uint32_t k, uint32_t silent, size_t *chosen)
{
    size_t best = SIZE_MAX, most = 0;

    /* A handful of versions (at most a few per drive of one set): counting each against all is
     * cheaper than sorting them. Versions not newer than the best so far need no count. */
    for (size_t i = 0; i < n; i++) {
        if (best != SIZE_MAX && !gw_version_newer(&v[i], &v[best]))
            continue;
        size_t holders = 0;
        for (size_t j = 0; j < n; j++)
            holders += gw_version_same(&v[i], &v[j]);
        if (holders >= k)
            best = i;
    }
    /* A version newer than the best that the silent drives could bring to k may be an
     * acknowledged write whose holders are partly out of reach: answering the older one would be
     * a stale read, so the answer is "retry". Only versions newer than the best matter. */
    for (size_t i = 0; i < n && silent > 0; i++) {
        if (best != SIZE_MAX && !gw_version_newer(&v[i], &v[best]))
            continue;
        size_t holders = 0;
        for (size_t j = 0; j < n; j++)
            holders += gw_version_same(&v[i], &v[j]);
        if (holders > most)
            most = holders;
    }
    if (best != SIZE_MAX && most + silent < k) {
        *chosen = best;
        return 0;
    }
    if (best != SIZE_MAX || most + silent >= k)
        return GW_EQUORUM;
    return GW_ENOENT;
}

void gw_quorum_holders(const gw_version_t *v, size_t n, size_t chosen, size_t *held, size_t ndrives)
{
    for (size_t d = 0; d < ndrives; d++)
        held[d] = SIZE_MAX;
    for (size_t i = 0; i < n; i++)
        if (v[i].drive < ndrives && held[v[i].drive] == SIZE_MAX && gw_version_same(&v[i], &v[chosen]))
            held[v[i].drive] = i;
}

uint32_t gw_quorum_heal_plan(const int *found, const uint8_t *agree, uint32_t width, uint8_t *need, uint8_t *pending)
{
    uint32_t todo = 0;

    for (uint32_t s = 0; s < width; s++) {
        pending[s] = found[s] != 0;
        need[s] = !pending[s] && !agree[s];
        todo += pending[s] + need[s];
    }
    return todo;
}

/* Of two records of one part number, is a the later upload? Ties of the clock are broken by the
 * data id, so that every reader picks the same one. */
static int part_newer(const meta_part_t *a, const meta_part_t *b)
{
    if (a->mtime_ns != b->mtime_ns)
        return a->mtime_ns > b->mtime_ns;
    return memcmp(a->data_id, b->data_id, META_ID_LEN) > 0;
}

int gw_quorum_parts(meta_part_t *const *recs, const size_t *n, const int *results, uint32_t width, uint32_t read_quorum,
                    uint32_t max_parts, gw_part_view_t *views)
{
    uint32_t answered = 0;
    int visible = 0;

    for (uint32_t s = 0; s < width; s++)
        answered += results[s] == 0;
    if (answered < read_quorum)
        return GW_EQUORUM;
    memset(views, 0, sizeof(*views) * ((size_t)max_parts + 1));
    /* Records a drive returned before its scan failed are still records it holds: they count. */
    for (uint32_t s = 0; s < width; s++) {
        for (size_t i = 0; i < n[s]; i++) {
            const meta_part_t *p = &recs[s][i];
            if (p->number == 0 || p->number > max_parts)
                continue;
            gw_part_view_t *v = &views[p->number];
            if (v->holders > 0 && memcmp(v->rec.data_id, p->data_id, META_ID_LEN) != 0) {
                if (!part_newer(p, &v->rec))
                    continue; /* an older upload of the same number */
                v->holders = 0;
                memset(v->slots, 0, sizeof(v->slots));
            }
            if (v->holders == 0)
                v->rec = *p;
            if (!v->slots[s]) {
                v->slots[s] = 1;
                v->holders++;
            }
        }
    }
    for (uint32_t num = 1; num <= max_parts; num++) {
        if (views[num].holders > 0 && views[num].holders < read_quorum)
            views[num].holders = 0; /* not acknowledged (yet): invisible */
        visible += views[num].holders > 0;
    }
    return visible;
}
