/* gw_object_internal.h — what the object engine's files share (gw_object.h is its interface):
 * the looked-up object, the mapping of shards to slots, and the report of keys to heal.
 *
 * A lookup keeps every record it reads in the object's arena: a bump allocator whose first
 * chunk lies inside the object, so that the records of a small object (and its decoded bytes)
 * cost no allocation beyond the object itself; larger ones add chunks of doubling size, which
 * never move, so records decode in place and stay valid until gw_object_free.
 */
#ifndef YC_GW_OBJECT_INTERNAL_H
#define YC_GW_OBJECT_INTERNAL_H
#include "gateway/gw_object.h"
#include <pthread.h>

/* Versions of a key read from each drive: a drive may hold a new version beside the one it
 * replaces until the prune, and both must count, or a key being overwritten would vanish for
 * readers while the new version has reached only some drives. */
#define GW_LOOKUP_VERSIONS 4

/* The arena's first chunk. A 4 KiB object of a 4+2 set takes six records of 1 KiB of shard and
 * a few hundred bytes of key and headers each, plus its decoded stripe (6 KiB): about 14 KiB with
 * short keys and no metadata, so 24 KiB leaves room for long keys and user metadata. Larger
 * objects add chunks. */
#define GW_OBJECT_ARENA (24 * 1024)

typedef struct gw_arena_chunk gw_arena_chunk_t;

struct gw_object {
    gw_cluster_t *cluster;
    gw_set_t *set;
    meta_object_t versions[16][GW_LOOKUP_VERSIONS]; /* per slot: the versions its drive returned, decoded */
    uint32_t nv[16];
    int found[16];                 /* per slot: 0 when the drive answered (with or without versions), else the error */
    uint8_t agree[16];             /* per slot: holds the chosen version */
    const meta_object_t *recs[16]; /* per slot: its record of the chosen version (when agree) */
    int chosen;                    /* slot whose record is returned */
    const uint8_t *inline_data;    /* decoded bytes of an inline object (in the arena) */
    /* one stripe of a read: k+m blocks; after decoding, the first k hold its data in order */
    uint8_t *stripe;
    size_t stripe_block;
    uint64_t cached_part, cached_stripe; /* the stripe decoded in `stripe` (UINT64_MAX: none) */
    uint32_t cached_blocks;              /* its data blocks held in `stripe` (bit b: block b) */
    uint32_t bad_shards;                 /* shards a read of this version found failed (bit i: shard i) */
    /* the arena; shared by the scans of all drives, under lock when they run at once */
    int shared;
    pthread_mutex_t lock;
    gw_arena_chunk_t *chunks; /* chunks beyond the first, newest first */
    size_t used;              /* bytes of first taken */
    _Alignas(16) uint8_t first[GW_OBJECT_ARENA];
};

/* The shard a set slot holds under a distribution (distribution[i]: the slot of shard i). */
static inline uint32_t gw_shard_of_slot(const uint8_t distribution[16], uint32_t width, uint32_t slot)
{
    for (uint32_t i = 0; i < width; i++)
        if (distribution[i] == slot)
            return i;
    return 0;
}

/* Bytes of data stored for a record: its parts' sizes together. rec->size is what clients see,
 * and an encrypted object stores more (each block's tag: gw_sse_block.h); a record without part
 * references (an older format) stores its size. */
static inline uint64_t gw_record_data_size(const meta_object_t *r)
{
    uint64_t total = 0;
    meta_part_ref_t part;
    if (r->part_count == 0)
        return r->size;
    for (uint32_t p = 0; p < r->part_count; p++) {
        if (meta_object_part(r, p, &part) != 0)
            return r->size;
        total += part.size;
    }
    return total;
}

/* Reports a key some drive of its set lacks or holds damaged to the cluster's repair sink. */
static inline void gw_object_report(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t key)
{
    if (c->repair.note != NULL)
        c->repair.note(c->repair.arg, bucket, key);
}

#endif
