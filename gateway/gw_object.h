/* gw_object.h — the erasure-coded data path: write an object's shards and records with
 * quorum, find the visible version of a key, read any range back with reconstruction.
 *
 * Every function here blocks (it fans out to the drives' lanes and waits): call it from a
 * request worker, never from an event loop.
 *
 * PUT is two steps so that the caller can check digests between them: gw_data_write() reads
 * the body once, hashing it (MD5 and whatever the observer wants) while it cuts stripes,
 * encodes them and appends the blocks to a new shard file on every drive of the set, then
 * commits the files. Nothing is visible yet. gw_object_commit() then writes the record on
 * every drive that holds a shard and answers once a write quorum made it durable; older null
 * versions are pruned only after that, so a failed or concurrent write never hides the old
 * object. Small objects (size <= inline_max) skip the files: their shards ride in the records.
 *
 * The engine is one module in three files, one per concern: gw_object_write.c (data, records,
 * prune, removal), gw_object_read.c (lookup, read, decode) and gw_object_repair.c (heal); what
 * they share is gw_object_internal.h. One header serves all three: callers use them together (a
 * copy looks up, reads and writes; the healer looks up and heals) over the same types. Which
 * drives count and which version wins is decided in gw_quorum.h. Damage and missed writes are
 * reported to the cluster's repair sink (gw_cluster.h), so the engine depends on no healer.
 */
#ifndef YC_GW_OBJECT_H
#define YC_GW_OBJECT_H
#include <stddef.h>
#include <stdint.h>
#include "common/clock.h"
#include "common/errors.h"
#include "common/id.h"
#include "gateway/gw_cluster.h"
#include "gateway/gw_quorum.h"

/* Errors: the gateway block of common/errors.h, answered as gateway/gw_error.h says:
 *   GW_ENOENT   no visible version
 *   GW_EQUORUM  too few drives answered or agreed: the request may succeed later (503)
 *   GW_EIO      data or a record could not be read back even with parity (500)
 *   GW_ENOMEM, GW_EINVAL
 *   GW_EBUSY    a namespace lock stayed held by someone else (gw_lock.h)
 *   GW_ENOSPC   too many drives full for a write quorum: nothing succeeds until space is freed (507)
 * The data path's users also take the clocks and random ids of common/ from here. */
enum { GW_OK = 0 };

/* Called with the body's bytes in order, during the single pass over them. */
typedef void (*gw_observe_fn)(void *arg, const void *data, size_t len);

typedef struct {
    gw_set_t *set;
    uint8_t distribution[16];
    uint8_t data_id[META_ID_LEN];
    uint64_t size;
    uint8_t md5[16];
    int is_inline;
    uint8_t *inline_buf; /* width * inline_len bytes: shard i at i * inline_len (inline only) */
    size_t inline_len;
    uint8_t committed[16]; /* per set slot: the shard is durable there (always 1 when inline) */
    uint32_t ncommitted;
    int slot_err[16]; /* per set slot: why its shard is not there (a STORE_ code), 0 when committed */
} gw_data_t;

/* Where the bytes of a write come from: next(arg, off, len) returns a pointer to len bytes at
 * off (called in order, one stripe at a time; the pointer is used before the next call), or
 * NULL when they cannot be read. A request body returns pointers into itself (no copy). */
typedef struct {
    const uint8_t *(*next)(void *arg, uint64_t off, size_t len);
    void *arg;
    /* A source whose size is known only at its end (a form upload's file; gw_data_write's size
     * GW_SIZE_UNKNOWN): up to max bytes at off in *got, fewer only at the end, 0 past it; NULL
     * on failure. NULL for a source of known size. */
    const uint8_t *(*next_upto)(void *arg, uint64_t off, size_t max, size_t *got);
    /* A source that can keep several stripes valid at once (NULL: only the last one): like next,
     * but the bytes stay valid until release(arg) gives them back, oldest first, and up to hold
     * stripes may be held. The data pass then hashes a stripe while it writes the next ones. */
    const uint8_t *(*next_hold)(void *arg, uint64_t off, size_t len);
    void (*release)(void *arg); /* NULL: nothing to give back */
    unsigned hold;
    /* Set by a source whose bytes gw_data_write need not MD5 (an encrypted object's: its ETag and
     * Content-MD5 are its plaintext's, hashed by the encrypting source): out->md5 is left zero. */
    int skip_md5;
} gw_source_t;

#define GW_SIZE_UNKNOWN UINT64_MAX

/* A source over bytes in memory. */
gw_source_t gw_source_memory(const void *base);

/* Encodes and writes size bytes from src to the set as new shard files (or inline shards); with
 * size GW_SIZE_UNKNOWN, what src.next_upto gives until its end (out->size then says how much).
 * Returns GW_EQUORUM or GW_ENOSPC (gw_quorum_error) when fewer than a write quorum of drives
 * committed their shard, GW_EIO when the source failed. allow_inline lets objects up to
 * inline_max ride in their records (multipart parts must be files: a completed object refers
 * to them by data id). observe sees the bytes in order, one call at a time, but maybe on another
 * thread than the caller's (the cluster's hash lane). */
int gw_data_write(gw_cluster_t *c, gw_set_t *set, const uint8_t distribution[16], gw_source_t src, uint64_t size,
                  int allow_inline, gw_observe_fn observe, void *observe_arg, gw_data_t *out);
/* Deletes the shard files a gw_data_write left (after a failed digest check or commit). */
void gw_data_remove(gw_cluster_t *c, gw_data_t *d);
void gw_data_dispose(gw_data_t *d);

/* Writes rec (every field but shard_index and inline_data filled by the caller) on every drive
 * of data->set that committed its shard; with data NULL (delete markers, multipart completion)
 * on every drive of set. Returns 0 once a write quorum acknowledged, else GW_EQUORUM or
 * GW_ENOSPC (gw_quorum_error). */
int gw_object_commit(gw_cluster_t *c, gw_set_t *set, const meta_object_t *rec, const gw_data_t *data);

/* The visible version of a key (vid NULL: newest; the null vid: the null version, one point read
 * per drive), resolved across the set (gw_quorum_resolve):
 * GW_ENOENT when the key has none, GW_EQUORUM when the drives that did not answer might hold it.
 * A visible delete marker is returned like any version. The records read are kept in the object
 * itself (its arena: no allocation per record; a small object costs one allocation in all). */
typedef struct gw_object gw_object_t;
int gw_object_lookup(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid, gw_object_t **out);
/* gw_object_lookup for a read that only answers a client (GET, HEAD): with network drives, the
 * null slot is asked of a read quorum first (k drives, the data shards' in 4+2) and of the rest
 * only when their answer does not stand on its own, so the object's holders may be fewer than
 * every drive that holds it: not for a lookup whose holders are then written (updates, deletes,
 * heals). */
int gw_object_lookup_read(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid,
                          gw_object_t **out);
/* The record agreed on by the drives (borrowed from o). */
const meta_object_t *gw_object_record(const gw_object_t *o);
/* Reads len bytes at off of the object's data, verifying every block and rebuilding lost or
 * damaged ones from parity; damage is reported for healing. */
int gw_object_read(gw_object_t *o, uint64_t off, size_t len, void *buf);
/* Points *out at the len bytes at off in the decoded stripe the object keeps (decoded and verified
 * as gw_object_read does; valid until o's next read or trim) when they lie in one stripe: a
 * reader that transforms them (decryption) reads them without a copy. 1 when they cross a stripe
 * (read them with gw_object_read), else gw_object_read's codes. */
int gw_object_peek(gw_object_t *o, uint64_t off, size_t len, const uint8_t **out);
/* Bytes of a buffer for gw_object_read_stripe: the k+m blocks of the object's largest stripe (0
 * for an inline object, which needs none). */
size_t gw_object_stripe_buffer_len(const gw_object_t *o);
/* Decodes the stripe that holds byte off into buf (gw_object_stripe_buffer_len bytes) and points
 * *data at off's byte there, *len at the bytes from off to the stripe's end (at most max): a
 * stream sends them from buf as they are, each stripe read and decoded once, nothing copied.
 * Verified and rebuilt as gw_object_read; buf is not used by an inline object. */
int gw_object_read_stripe(gw_object_t *o, uint64_t off, size_t max, uint8_t *buf, const uint8_t **data, size_t *len);
void gw_object_free(gw_object_t *o);
/* Lets go of the decoded stripe gw_object_read keeps for the next read of the same stripe: for a
 * caller that will not read again soon (a stream ahead of a slow client), memory over speed. */
void gw_object_trim(gw_object_t *o);

/* Deletes every version record of (bucket, key) that equals the given one on every drive of its
 * set, then the shard files. GW_EQUORUM when fewer than a write quorum answered. */
int gw_object_remove(gw_cluster_t *c, const gw_object_t *o);

/* Gives version o (as looked up) the attribute set attrs, stamped attrs_ns (newer than the
 * record's), on every drive of its set that holds it. 0 once a write quorum of drives holds the
 * new set; GW_ENOENT when most drives no longer hold the version (deleted meanwhile);
 * GW_EQUORUM or GW_ENOSPC when too few answered (the drives that took it keep it: a retry
 * finishes the change). Callers serialize changes of one version (gw_attrs.h). */
int gw_object_update(gw_cluster_t *c, const gw_object_t *o, meta_bytes_t attrs, int64_t attrs_ns);

/* Deletes every null version of (bucket, key) from every drive of its set, with their shards:
 * what a write left in the namespace of a bucket incarnation that is gone (best effort). */
void gw_object_discard(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t key);

/* Makes every drive of o's set hold o's version whole: a drive without the record, or whose
 * shard of a part is missing or fails its checksums, gets the shard rebuilt from the others
 * (read, decode, re-encode) and the record written. *repaired counts the drives repaired,
 * *pending the drives that could not be reached (try again later). Blocking. */
int gw_object_heal(gw_object_t *o, uint32_t *repaired, uint32_t *pending);

/* A failed write is garbage once it is older than this (the heal's rule, gw_object_collect): above
 * a record write's deadline (the internode I/O timeout, 30 s) plus the gateways' clock skew (20 s at
 * most), so that no write still in flight, which may yet be acknowledged, is taken for one. */
#define GW_FAILED_WRITE_AGE_NS (60 * 1000000000LL)

/* Takes back the newest record of (bucket, key) from the drives of its set that hold it when fewer
 * than k drives do, every drive answered and it is older than age_ns: a write that failed its quorum
 * (an acknowledged one is on a write quorum of drives) and whose cleanup did not reach a drive.
 * Its shard files go with the orphan collector. *dropped counts the records removed. Blocking. */
int gw_object_collect(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t key, int64_t age_ns, uint32_t *dropped);

#endif
