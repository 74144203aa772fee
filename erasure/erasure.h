/* erasure.h — Reed-Solomon k+m on ISA-L, stripe geometry and per-block bitrot checksums.
 *
 * An object is cut into stripes of `stripe_size` data bytes (the last stripe may be short).
 * Each stripe is split into k data blocks of equal length (the stripe's shard block size,
 * ceil(stripe_len / k), zero padded) and encoded into m parity blocks of the same length.
 * Shard i of an object is the concatenation of block i of every stripe, so all k+m shards
 * of an object have the same length, ec_shard_size(). Every block carries an xxh3-64
 * checksum so a reader detects bitrot before it trusts a block.
 */
#ifndef YC_ERASURE_H
#define YC_ERASURE_H
#include <stddef.h>
#include <stdint.h>
#include "common/errors.h"

#define EC_MAX_SHARDS          16
#define EC_DEFAULT_STRIPE_SIZE (1024 * 1024)
/* Upper bound on stripe_size: a reader holds k+m blocks of a stripe in memory, so a corrupt or
 * hostile geometry must not make it allocate gigabytes. */
#define EC_MAX_STRIPE_SIZE (256u * 1024 * 1024)

/* Errors: the erasure block of common/errors.h. EC_EINVAL: geometry out of range (m >= 1,
 * 2 <= k+m <= 16, 1 <= stripe_size <= EC_MAX_STRIPE_SIZE) or bad arguments; EC_ETOOFEW: fewer
 * than k shards available, the stripe cannot be decoded; EC_ENOMEM. */
enum { EC_OK = 0 };

/* The geometry of one object: a plain value, stored in the object's record. */
typedef struct {
    uint32_t k, m;        /* data and parity shards */
    uint32_t stripe_size; /* data bytes per full stripe */
} ec_geometry_t;

/* Encoding tables for one (k, m); built once per geometry, shared, never freed (process-wide cache). */
typedef struct ec_codec ec_codec_t;

/* Returns 0 when k, m and stripe_size make a valid geometry. */
int ec_geometry_check(const ec_geometry_t *g);
/* The geometry functions below return 0 for a geometry ec_geometry_check rejects. */

/* Number of stripes of an object of `size` bytes; 0 for an empty object. */
uint64_t ec_stripe_count(const ec_geometry_t *g, uint64_t size);
/* Data bytes held by stripe `stripe` (stripe_size, or less for the last one; 0 past the end). */
uint32_t ec_stripe_len(const ec_geometry_t *g, uint64_t size, uint64_t stripe);
/* Length of each of the k+m blocks of stripe `stripe`: ceil(stripe_len / k); 0 past the end. */
uint32_t ec_block_len(const ec_geometry_t *g, uint64_t size, uint64_t stripe);
/* Total length of one shard of the object (sum of its block lengths, checksums excluded). */
uint64_t ec_shard_size(const ec_geometry_t *g, uint64_t size);
/* Offset in shard coordinates of stripe `stripe`'s block; ec_shard_size() for stripe >= count. */
uint64_t ec_shard_offset(const ec_geometry_t *g, uint64_t size, uint64_t stripe);

/* Gets the shared codec for (k, m), building its tables on first use; thread-safe. */
int ec_codec_get(uint32_t k, uint32_t m, const ec_codec_t **out);

/* Encodes one stripe: data[0..k-1] are input blocks of block_len bytes, parity[0..m-1] are written. */
int ec_encode(const ec_codec_t *c, size_t block_len, const uint8_t *const *data, uint8_t *const *parity);

/* Splits `len` bytes of stripe data into k blocks of block_len (copies, zero-pads the tail).
 * Requires len <= k * block_len. A caller that wants to avoid the copy may point data[i] of
 * ec_encode straight into the stripe for every block that lies wholly inside it. */
void ec_split(const ec_codec_t *c, const uint8_t *src, size_t len, size_t block_len, uint8_t *const *blocks);

/* Rebuilds lost blocks of one stripe. shards[0..k+m-1] point to block_len buffers;
 * present[i] != 0 marks the blocks that hold valid data. Every block with present[i] == 0 is
 * rebuilt in place, except that a block the caller does not need may be passed as NULL (a read
 * that lost a data block need not rebuild the parity it did not fetch): NULL blocks are neither
 * read nor written. Fails with EC_ETOOFEW when fewer than k are present, EC_EINVAL when a present
 * block is NULL. Thread-safe; each calling thread keeps the decode tables of its last few loss
 * patterns (about 17 KiB, freed when the thread exits). */
int ec_reconstruct(const ec_codec_t *c, size_t block_len, uint8_t *const *shards, const uint8_t *present);

/* xxh3-64 of a block: the per-block bitrot checksum stored beside every shard block. */
uint64_t ec_block_checksum(const void *block, size_t len);

uint32_t ec_codec_k(const ec_codec_t *c);
uint32_t ec_codec_m(const ec_codec_t *c);

#endif
