/* geometry.c — where every byte of an object sits in its stripes and shards.
 *
 * An object of `size` bytes is cut into stripes of `stripe_size` data bytes; only the last stripe
 * may be short, and an empty object has no stripe at all. A stripe of `len` bytes is split into k
 * data blocks of ceil(len / k) bytes, the last one zero padded, plus m parity blocks of the same
 * length. Shard i of the object is block i of stripe 0, then block i of stripe 1, and so on, so
 * every full stripe occupies the same span in every shard:
 *
 *     stripe s starts at s * ceil(stripe_size / k) in shard coordinates
 *
 * and a reader finds any block with a multiplication, without reading an index. The functions
 * are pure arithmetic on a value; each one first checks the geometry so that a corrupt record
 * yields zeros rather than a division by zero.
 */
#include "erasure/erasure.h"

#include <string.h>

#include "erasure/erasure_internal.h"

/* Returns 0 when k, m and stripe_size make a valid geometry. */
int ec_geometry_check(const ec_geometry_t *g)
{
    if (g == NULL || !ec_km_valid(g->k, g->m) || g->stripe_size == 0 || g->stripe_size > EC_MAX_STRIPE_SIZE)
        return EC_EINVAL;
    return EC_OK;
}

/* Number of stripes of an object of `size` bytes; 0 for an empty object (or a bad geometry). */
uint64_t ec_stripe_count(const ec_geometry_t *g, uint64_t size)
{
    if (ec_geometry_check(g) != 0)
        return 0;
    /* written without size + stripe_size - 1, which would wrap for sizes near UINT64_MAX */
    return size / g->stripe_size + (size % g->stripe_size != 0);
}

/* Data bytes of stripe `stripe`: stripe_size, less for the last one, 0 past the end. */
uint32_t ec_stripe_len(const ec_geometry_t *g, uint64_t size, uint64_t stripe)
{
    uint64_t count = ec_stripe_count(g, size);

    if (stripe >= count)
        return 0;
    if (stripe + 1 < count)
        return g->stripe_size;
    return (uint32_t)(size - stripe * g->stripe_size);
}

/* ceil(len / k) in 64 bits, since len + k - 1 can exceed 32 bits for a 4 GiB stripe. */
static uint32_t block_len_of(uint32_t len, uint32_t k)
{
    return (uint32_t)(((uint64_t)len + k - 1) / k);
}

/* Length of each of the k+m blocks of stripe `stripe`: ceil(stripe_len / k); 0 past the end. */
uint32_t ec_block_len(const ec_geometry_t *g, uint64_t size, uint64_t stripe)
{
    uint32_t len = ec_stripe_len(g, size, stripe);

    return len == 0 ? 0 : block_len_of(len, g->k);
}

/* Total length of one shard: the full stripes' blocks plus the last stripe's block. */
uint64_t ec_shard_size(const ec_geometry_t *g, uint64_t size)
{
    uint64_t count = ec_stripe_count(g, size);

    if (count == 0)
        return 0;
    return (count - 1) * block_len_of(g->stripe_size, g->k) + ec_block_len(g, size, count - 1);
}

/* Shard offset of stripe `stripe`'s block; for stripe >= the stripe count, the shard size, so that
 * offset(s + 1) - offset(s) is always block s's length. */
uint64_t ec_shard_offset(const ec_geometry_t *g, uint64_t size, uint64_t stripe)
{
    uint64_t count = ec_stripe_count(g, size);

    if (stripe >= count)
        return ec_shard_size(g, size);
    return stripe * block_len_of(g->stripe_size, g->k);
}

/* Splits `len` bytes of stripe data into k blocks of block_len: copies, then zero-pads the tail so
 * that parity never depends on stale buffer contents. The caller guarantees len <= k * block_len;
 * bytes past that are not copied. */
void ec_split(const ec_codec_t *c, const uint8_t *src, size_t len, size_t block_len, uint8_t *const *blocks)
{
    size_t off = 0;

    for (uint32_t i = 0; i < c->k; i++) {
        size_t n = off < len ? len - off : 0;

        if (n > block_len)
            n = block_len;
        if (n > 0)
            memcpy(blocks[i], src + off, n);
        if (n < block_len)
            memset(blocks[i] + n, 0, block_len - n);
        off += n;
    }
}
