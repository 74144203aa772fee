/* gw_quorum.h — the quorum rules of the data path, as pure functions over plain arrays.
 *
 * Everything here decides from what drives answered; nothing reaches a drive, takes a lock or
 * allocates, so each rule is tested on its own (tests/unit/test_gw_quorum.c) and the callers
 * (the object engine, cluster records, the lister, multipart, locks) only gather answers and act.
 * Per-drive results are 0 or a STORE_ code; decisions are 0 or a GW_ code (gw_object.h).
 *
 * The sizes. A set of k+m drives acknowledges a write once its write quorum made it durable:
 * k drives, k+1 when k == m and a majority when k < m, so that two disjoint groups of drives can
 * never both accept a write (and every write quorum holds enough shards to decode). Its
 * read quorum, width - write quorum + 1, is the smallest number of drives that meets every write
 * quorum: that many holders prove a set record (upload, part) was acknowledged. Records kept on
 * every drive of the cluster (buckets, users) and namespace locks need a majority of their drives.
 *
 * Versions. Every drive returns the few versions of a key it holds (a new one may sit beside the
 * one it replaces until the prune). Versions are grouped by identity (modification time, version
 * id, data id of the first part, and flags, size, part count); the visible version is the newest
 * group held by at least k drives — fewer could not be decoded, and a write that failed its
 * quorum stays invisible. Newest means (modification time, version id), the order every drive
 * applies to concurrent writers. A delete marker is a version like any other: the caller turns a
 * visible marker into "no such key". When no group reaches k, the key is absent only if no group
 * could reach k even with every silent drive holding it; otherwise the drives that did not answer
 * may hold what was acknowledged, and the answer is "retry" (GW_EQUORUM, 503).
 */
#ifndef YC_GW_QUORUM_H
#define YC_GW_QUORUM_H
#include <stddef.h>
#include <stdint.h>
#include "meta/meta.h"

/* ---------------------------------------------------------------- sizes */

/* Drives of a k+m set that must make a write durable: k when k > m, else a majority (k+1 when
 * k == m). */
uint32_t gw_quorum_write(uint32_t k, uint32_t m);
/* Holders that prove a set record exists: k+m - gw_quorum_write(k, m) + 1. */
uint32_t gw_quorum_read(uint32_t k, uint32_t m);
/* A majority of n drives: cluster-wide records and namespace locks. */
size_t gw_quorum_majority(size_t n);

/* ---------------------------------------------------------------- writes */

/* The error of a write that reached fewer than quorum of its n drives (results: 0 or a STORE_
 * code per drive): GW_ENOSPC when more drives refused for lack of space (STORE_ENOSPC) than the
 * write could spare (n - quorum), so that retrying cannot help until space is freed;
 * GW_EQUORUM otherwise (drives down or slow: the write may succeed later). */
int gw_quorum_error(const int *results, size_t n, size_t quorum);

/* The answer to a write sent to n drives: 0 when at least quorum of them succeeded (result 0),
 * else gw_quorum_error. */
int gw_quorum_write_result(const int *results, size_t n, size_t quorum);

/* The answer to an object record written to the n drives of its set, and what follows it. A
 * drive that already holds a newer version of the key absorbs the write (STORE_ESTALE): for the
 * client the write happened and was overwritten at once (last writer wins), so it counts toward
 * the quorum, but that drive does not hold it. Returns 0 or gw_quorum_error; on 0, *prune is set
 * when the new version is durable on a quorum by itself (older null versions may go: only then
 * can no failure bring them back as the newest), *heal when some drive neither holds it nor
 * absorbed it (the key goes to the healer). */
int gw_quorum_commit(const int *results, size_t n, size_t quorum, int *prune, int *heal);

/* ---------------------------------------------------------------- reads */

/* Of two answers for one record, is a the newer? (a written after b) */
typedef int (*gw_quorum_newer_fn)(const void *a, size_t alen, const void *b, size_t blen);

/* A record kept on n drives, read from each (results[i]: 0 with vals[i]/lens[i], STORE_ENOENT
 * when drive i does not hold it, any other code when it did not answer). 0 when at least quorum
 * drives hold it, with *chosen the index of the newest value by newer (NULL: the first found):
 * a quorum of answers always includes the last acknowledged write. GW_ENOENT when at least
 * quorum drives answered but fewer hold it (absent, or deleted by a quorum), else GW_EQUORUM. */
int gw_quorum_newest(const int *results, const void *const *vals, const size_t *lens, size_t n, size_t quorum,
                     gw_quorum_newer_fn newer, size_t *chosen);

/* The identity of one version of a key as a drive returned it, and which drive that was. */
typedef struct {
    int64_t mtime_ns;
    uint8_t vid[META_ID_LEN];
    uint8_t data_id[META_ID_LEN]; /* of the first part; zero without parts */
    uint64_t size;
    uint32_t part_count;
    uint32_t flags; /* META_OBJ_DELETE_MARKER, META_OBJ_INLINE */
    uint32_t drive; /* not part of the identity: the drive (set slot, or cluster index) that returned it */
} gw_version_t;

/* The identity of a decoded record, returned by drive. */
void gw_version_of(const meta_object_t *r, uint32_t drive, gw_version_t *out);
/* Same identity: the same write. */
int gw_version_same(const gw_version_t *a, const gw_version_t *b);
/* a was written after b: (modification time, version id) is greater. */
int gw_version_newer(const gw_version_t *a, const gw_version_t *b);

/* Resolves the visible version among the n versions the drives returned (each drive lists a
 * version at most once) when silent drives did not answer: 0 with *chosen the index of a version
 * of the newest identity held by at least k drives, unless a newer identity held by h drives has
 * h + silent >= k (the silent drives may complete an acknowledged newer write: answering the
 * older one would be a stale read) — then, as when no identity reaches k but one could with the
 * silent drives, GW_EQUORUM; else GW_ENOENT. */
int gw_quorum_resolve(const gw_version_t *v, size_t n, uint32_t k, uint32_t silent, size_t *chosen);

/* The drives that hold the chosen version v[chosen]: held[d] is the index in v of drive d's copy
 * of it, SIZE_MAX when drive d (< ndrives) returned no such version. */
void gw_quorum_holders(const gw_version_t *v, size_t n, size_t chosen, size_t *held, size_t ndrives);

/* ---------------------------------------------------------------- healing */

/* What healing a key needs on each of the width drives of its set, once its version was chosen:
 * found[s] is 0 when drive s answered the lookup, agree[s] set when it holds the chosen version.
 * need[s] = 1 for a drive that answered without it (it gets the record and its shards),
 * pending[s] = 1 for a drive that did not answer (try again later). Drives that agree need only
 * their shards verified. Returns how many drives need or wait for anything: 0 when all agree. */
uint32_t gw_quorum_heal_plan(const int *found, const uint8_t *agree, uint32_t width, uint8_t *need, uint8_t *pending);

/* ---------------------------------------------------------------- multipart parts */

/* The visible record of one part number of an upload, and the set slots holding it. */
typedef struct {
    meta_part_t rec;
    uint32_t holders; /* 0: no visible record of this number */
    uint8_t slots[16];
} gw_part_view_t;

/* Builds the view of an upload's parts from the part records the width drives of its set
 * returned (recs[s][0 .. n[s]-1] from slot s; results[s] 0 when the drive answered). Of the records
 * of one number, the newest upload of the part wins (modification time, then data id) and counts
 * the drives that hold exactly it; a part held by fewer than read_quorum drives was not acknowledged
 * and stays invisible (holders 0). views has max_parts + 1 entries, indexed by part number;
 * records numbered 0 or above max_parts are ignored. Returns the number of visible parts, or
 * GW_EQUORUM when fewer than read_quorum drives answered. */
int gw_quorum_parts(meta_part_t *const *recs, const size_t *n, const int *results, uint32_t width, uint32_t read_quorum,
                    uint32_t max_parts, gw_part_view_t *views);

#endif
