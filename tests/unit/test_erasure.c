/* test_erasure.c — unit tests of the erasure module: geometry, encode, reconstruct, checksum.
 *
 * The round-trip tests lay an object out exactly as a writer would (shard i is block i of every
 * stripe, at ec_shard_offset), then for every loss pattern of up to m shards overwrite the lost
 * shards with garbage, rebuild them stripe by stripe and compare both the rebuilt shards and the
 * object reassembled from the data shards with the original bytes. Data comes from a seeded
 * PRNG so a failure reproduces.
 */
#include "erasure/erasure.h"

#include <pthread.h>
#include <stdlib.h>

#include "tests/unit/unit.h"

#define MIB (1024u * 1024u)

/* splitmix64: tiny, seedable, good enough to make every block distinct */
static uint64_t prng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void prng_fill(uint64_t seed, uint8_t *buf, size_t len)
{
    uint64_t state = seed;

    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = prng_next(&state);
        size_t n = len - i < 8 ? len - i : 8;

        memcpy(buf + i, &v, n);
    }
}

/* An object encoded into k+m shard buffers, each ec_shard_size bytes. */
typedef struct {
    ec_geometry_t g;
    const ec_codec_t *codec;
    uint64_t size, shard_size, stripes;
    uint8_t *object;
    uint8_t *shards[EC_MAX_SHARDS];
} layout_t;

static void layout_free(layout_t *l)
{
    free(l->object);
    for (int i = 0; i < EC_MAX_SHARDS; i++)
        free(l->shards[i]);
    memset(l, 0, sizeof(*l));
}

/* Fills an object of `size` random bytes and encodes it the way a writer does; 0 on success. */
static int layout_encode(layout_t *l, uint32_t k, uint32_t m, uint32_t stripe_size, uint64_t size, uint64_t seed)
{
    uint32_t n = k + m;

    memset(l, 0, sizeof(*l));
    l->g = (ec_geometry_t){.k = k, .m = m, .stripe_size = stripe_size};
    l->size = size;
    if (ec_geometry_check(&l->g) != 0 || ec_codec_get(k, m, &l->codec) != 0)
        return -1;
    l->stripes = ec_stripe_count(&l->g, size);
    l->shard_size = ec_shard_size(&l->g, size);
    /* +1 so that a zero-length object still gets distinct non-NULL buffers */
    if ((l->object = malloc(size + 1)) == NULL)
        return -1;
    prng_fill(seed, l->object, size);
    for (uint32_t i = 0; i < n; i++)
        if ((l->shards[i] = malloc(l->shard_size + 1)) == NULL)
            return -1;

    for (uint64_t s = 0; s < l->stripes; s++) {
        uint64_t off = ec_shard_offset(&l->g, size, s);
        size_t block_len = ec_block_len(&l->g, size, s);
        uint8_t *blocks[EC_MAX_SHARDS];

        for (uint32_t i = 0; i < n; i++)
            blocks[i] = l->shards[i] + off;
        ec_split(l->codec, l->object + s * stripe_size, ec_stripe_len(&l->g, size, s), block_len, blocks);
        if (ec_encode(l->codec, block_len, (const uint8_t *const *)blocks, blocks + k) != 0)
            return -1;
    }
    return 0;
}

/* Rebuilds the shards not in `present_mask`, stripe by stripe; returns the first error. */
static int layout_reconstruct(layout_t *l, uint8_t *const *shards, uint32_t present_mask)
{
    uint32_t n = l->g.k + l->g.m;
    uint8_t present[EC_MAX_SHARDS];

    for (uint32_t i = 0; i < n; i++)
        present[i] = (present_mask >> i) & 1;
    for (uint64_t s = 0; s < l->stripes; s++) {
        uint64_t off = ec_shard_offset(&l->g, l->size, s);
        uint8_t *blocks[EC_MAX_SHARDS];
        int ret;

        for (uint32_t i = 0; i < n; i++)
            blocks[i] = shards[i] + off;
        if ((ret = ec_reconstruct(l->codec, ec_block_len(&l->g, l->size, s), blocks, present)) != 0)
            return ret;
    }
    return 0;
}

/* The object as a reader reassembles it from the data shards; 0 when it equals the original. */
static int layout_compare_object(const layout_t *l, uint8_t *const *shards, uint8_t *scratch)
{
    uint64_t pos = 0;

    for (uint64_t s = 0; s < l->stripes; s++) {
        uint64_t off = ec_shard_offset(&l->g, l->size, s);
        size_t block_len = ec_block_len(&l->g, l->size, s), left = ec_stripe_len(&l->g, l->size, s);

        for (uint32_t i = 0; i < l->g.k && left > 0; i++) {
            size_t n = left < block_len ? left : block_len;

            memcpy(scratch + pos, shards[i] + off, n);
            pos += n;
            left -= n;
        }
    }
    return pos == l->size && memcmp(scratch, l->object, l->size) == 0 ? 0 : -1;
}

/* Every loss pattern of up to m shards of one object: the lost shards come back byte for byte and
 * so does the object. Returns the number of patterns that failed. */
static int check_loss_patterns(uint32_t k, uint32_t m, uint64_t size, uint32_t stripe_size, uint64_t seed)
{
    uint32_t n = k + m, all = (1u << n) - 1;
    uint8_t *work[EC_MAX_SHARDS] = {0}, *scratch = NULL;
    int failures = 0;
    layout_t l;

    if (layout_encode(&l, k, m, stripe_size, size, seed) != 0 || (scratch = malloc(l.size + 1)) == NULL) {
        failures++;
        goto done;
    }
    for (uint32_t i = 0; i < n; i++) {
        if ((work[i] = malloc(l.shard_size + 1)) == NULL) {
            failures++;
            goto done;
        }
        memcpy(work[i], l.shards[i], l.shard_size);
    }
    for (uint32_t lost = 0; lost <= all; lost++) {
        if ((uint32_t)__builtin_popcount(lost) > m)
            continue;
        for (uint32_t i = 0; i < n; i++)
            if (lost & (1u << i))
                memset(work[i], 0xA5, l.shard_size);
        int bad = layout_reconstruct(&l, work, all & ~lost) != 0;
        for (uint32_t i = 0; i < n && !bad; i++)
            bad = memcmp(work[i], l.shards[i], l.shard_size) != 0;
        if (bad || layout_compare_object(&l, work, scratch) != 0) {
            fprintf(stderr, "  %u+%u size %llu stripe %u: loss pattern 0x%x not restored\n", k, m,
                    (unsigned long long)size, stripe_size, lost);
            failures++;
            for (uint32_t i = 0; i < n; i++) /* restore for the next pattern */
                memcpy(work[i], l.shards[i], l.shard_size);
        }
    }
done:
    for (uint32_t i = 0; i < n; i++)
        free(work[i]);
    free(scratch);
    layout_free(&l);
    return failures;
}

/* The object sizes and stripe sizes every standard geometry is checked at. */
static int check_all_loss_patterns(uint32_t k, uint32_t m)
{
    static const struct {
        uint64_t size;
        uint32_t stripe_size;
    } cases[] = {
        {0, EC_DEFAULT_STRIPE_SIZE},
        {1, EC_DEFAULT_STRIPE_SIZE},
        {4095, EC_DEFAULT_STRIPE_SIZE},
        {4096, EC_DEFAULT_STRIPE_SIZE},
        {MIB + 17, EC_DEFAULT_STRIPE_SIZE},
        /* small stripes: several stripes, a short last one, block lengths that k does not divide */
        {0, 1000},
        {1, 1000},
        {4095, 1000},
        {4096, 1000},
        {MIB + 17, 65537},
    };
    int failures = 0;

    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
        failures += check_loss_patterns(k, m, cases[c].size, cases[c].stripe_size, 1000 * k + m + c);
    return failures;
}

TEST(test_reconstruct_restores_bytes_when_2p1_loses_up_to_m)
{
    CHECK_EQ_INT(check_all_loss_patterns(2, 1), 0);
}

TEST(test_reconstruct_restores_bytes_when_4p2_loses_up_to_m)
{
    CHECK_EQ_INT(check_all_loss_patterns(4, 2), 0);
}

TEST(test_reconstruct_restores_bytes_when_8p4_loses_up_to_m)
{
    CHECK_EQ_INT(check_all_loss_patterns(8, 4), 0);
}

TEST(test_reconstruct_restores_bytes_when_12p4_loses_up_to_m)
{
    CHECK_EQ_INT(check_all_loss_patterns(12, 4), 0);
}

/* The extremes of the allowed range (1+1 mirroring, 1+15, 15+1) and everything between. */
TEST(test_reconstruct_restores_bytes_when_any_valid_geometry_loses_m)
{
    for (uint32_t k = 1; k < EC_MAX_SHARDS; k++) {
        for (uint32_t m = 1; k + m <= EC_MAX_SHARDS; m++) {
            uint32_t n = k + m, lost = 0;
            uint64_t state = k * 31 + m;
            layout_t l;

            CHECK_EQ_INT(layout_encode(&l, k, m, 3000, 10007, k * 100 + m), 0);
            /* m distinct random shards */
            while ((uint32_t)__builtin_popcount(lost) < m)
                lost |= 1u << (prng_next(&state) % n);
            for (uint32_t i = 0; i < n; i++)
                if (lost & (1u << i))
                    memset(l.shards[i], 0x5A, l.shard_size);
            int ret = layout_reconstruct(&l, l.shards, ((1u << n) - 1) & ~lost);
            uint8_t *scratch = malloc(l.size);
            int same = scratch != NULL && layout_compare_object(&l, l.shards, scratch) == 0;
            free(scratch);
            layout_free(&l);
            CHECK_EQ_INT(ret, 0);
            CHECK(same);
        }
    }
}

/* More loss patterns than the cache holds, visited twice: evicted entries are rebuilt right. */
TEST(test_reconstruct_restores_bytes_when_patterns_revisited_after_eviction)
{
    CHECK_EQ_INT(check_loss_patterns(8, 4, 30000, 10000, 21), 0);
    CHECK_EQ_INT(check_loss_patterns(8, 4, 30000, 10000, 22), 0);
}

static void *loss_patterns_thread(void *arg)
{
    int *failures = arg;

    *failures = check_loss_patterns(8, 4, 20011, 4096, 100 + (uint64_t)(*failures));
    return NULL;
}

/* Threads decoding at once, each with its own cache, all get exact bytes back. */
TEST(test_reconstruct_restores_bytes_when_threads_decode_concurrently)
{
    enum { NTHREADS = 4 };
    pthread_t threads[NTHREADS];
    int failures[NTHREADS];

    for (int i = 0; i < NTHREADS; i++) {
        failures[i] = i; /* the seed in, the failure count out */
        CHECK_EQ_INT(pthread_create(&threads[i], NULL, loss_patterns_thread, &failures[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < NTHREADS; i++)
        CHECK_EQ_INT(failures[i], 0);
}

/* Every pattern of m+1 losses, for each of the four standard geometries. */
TEST(test_reconstruct_fails_etoofew_when_more_than_m_lost)
{
    static const uint32_t geometries[][2] = {{2, 1}, {4, 2}, {8, 4}, {12, 4}};

    for (size_t g = 0; g < 4; g++) {
        uint32_t k = geometries[g][0], m = geometries[g][1], n = k + m;
        uint8_t buf[EC_MAX_SHARDS][64], before[EC_MAX_SHARDS][64], present[EC_MAX_SHARDS];
        uint8_t *shards[EC_MAX_SHARDS];
        const ec_codec_t *c;

        CHECK_EQ_INT(ec_codec_get(k, m, &c), 0);
        prng_fill(g, &buf[0][0], sizeof(buf));
        memcpy(before, buf, sizeof(buf));
        for (uint32_t i = 0; i < n; i++)
            shards[i] = buf[i];
        for (uint32_t lost = 0; lost < (1u << n); lost++) {
            if ((uint32_t)__builtin_popcount(lost) != m + 1)
                continue;
            for (uint32_t i = 0; i < n; i++)
                present[i] = !(lost & (1u << i));
            CHECK_EQ_INT(ec_reconstruct(c, 64, shards, present), EC_ETOOFEW);
        }
        /* a refused reconstruct writes nothing */
        CHECK(memcmp(before, buf, sizeof(buf)) == 0);
    }
}

/* A reader that lost a data block and fetched one parity passes the parity it skipped as NULL. */
TEST(test_reconstruct_skips_null_blocks_when_caller_does_not_need_them)
{
    layout_t l;
    uint8_t rebuilt[2000], *shards[6];
    uint8_t present[6] = {1, 0, 1, 1, 1, 0};

    memset(rebuilt, 0xA5, sizeof(rebuilt));
    CHECK_EQ_INT(layout_encode(&l, 4, 2, 8000, 8000, 7), 0);
    for (int i = 0; i < 6; i++)
        shards[i] = l.shards[i];
    shards[1] = rebuilt;
    shards[5] = NULL;
    int ret = ec_reconstruct(l.codec, 2000, shards, present);
    int same = memcmp(rebuilt, l.shards[1], 2000) == 0;
    layout_free(&l);
    CHECK_EQ_INT(ret, 0);
    CHECK(same);
}

TEST(test_reconstruct_rejects_null_block_when_marked_present)
{
    const ec_codec_t *c;
    uint8_t buf[6][32], *shards[6];
    uint8_t present[6] = {1, 1, 1, 1, 0, 0};

    CHECK_EQ_INT(ec_codec_get(4, 2, &c), 0);
    for (int i = 0; i < 6; i++)
        shards[i] = buf[i];
    shards[2] = NULL;
    CHECK_EQ_INT(ec_reconstruct(c, 32, shards, present), EC_EINVAL);
}

/* The generator is part of the on-disk format. Expected bytes were computed independently in
 * GF(2^8) with polynomial 0x11d: parity row p, column j of the Cauchy matrix is 1 / (p ^ j). */
TEST(test_encode_matches_cauchy_generator_when_4p2)
{
    const ec_codec_t *c;
    uint8_t data[4][1] = {{1}, {2}, {3}, {4}}, unit_data[4][1] = {{1}, {0}, {0}, {0}}, parity[2][1];
    const uint8_t *d[4] = {data[0], data[1], data[2], data[3]};
    const uint8_t *u[4] = {unit_data[0], unit_data[1], unit_data[2], unit_data[3]};
    uint8_t *p[2] = {parity[0], parity[1]};

    CHECK_EQ_INT(ec_codec_get(4, 2, &c), 0);
    CHECK_EQ_INT(ec_encode(c, 1, u, p), 0);
    CHECK_EQ_INT(parity[0][0], 0x47); /* 1 / 4 */
    CHECK_EQ_INT(parity[1][0], 0xa7); /* 1 / 5 */
    CHECK_EQ_INT(ec_encode(c, 1, d, p), 0);
    CHECK_EQ_INT(parity[0][0], 0x48);
    CHECK_EQ_INT(parity[1][0], 0x0f);
}

TEST(test_encode_accepts_zero_length_when_block_empty)
{
    const ec_codec_t *c;
    uint8_t *parity[2] = {NULL, NULL};
    const uint8_t *data[4] = {NULL, NULL, NULL, NULL};

    CHECK_EQ_INT(ec_codec_get(4, 2, &c), 0);
    CHECK_EQ_INT(ec_encode(c, 0, data, parity), 0);
}

TEST(test_codec_get_rejects_invalid_geometry)
{
    const ec_codec_t *c = NULL;

    CHECK_EQ_INT(ec_codec_get(0, 2, &c), EC_EINVAL);
    CHECK_EQ_INT(ec_codec_get(4, 0, &c), EC_EINVAL);
    CHECK_EQ_INT(ec_codec_get(12, 5, &c), EC_EINVAL);
    CHECK_EQ_INT(ec_codec_get(16, 1, &c), EC_EINVAL);
    CHECK_EQ_INT(ec_codec_get(UINT32_MAX, 1, &c), EC_EINVAL); /* k + m wraps to 0 */
    CHECK_EQ_INT(ec_codec_get(4, 2, NULL), EC_EINVAL);
    CHECK(c == NULL);
}

TEST(test_codec_get_returns_shared_codec_when_called_twice)
{
    const ec_codec_t *a, *b;

    CHECK_EQ_INT(ec_codec_get(6, 3, &a), 0);
    CHECK_EQ_INT(ec_codec_get(6, 3, &b), 0);
    CHECK(a == b);
    CHECK_EQ_INT(ec_codec_k(a), 6);
    CHECK_EQ_INT(ec_codec_m(a), 3);
}

static void *codec_get_thread(void *arg)
{
    const ec_codec_t **out = arg;

    if (ec_codec_get(10, 5, out) != 0)
        *out = NULL;
    return NULL;
}

/* Threads racing to build the same codec all get the one that was published. */
TEST(test_codec_get_returns_one_codec_when_threads_race)
{
    enum { NTHREADS = 8 };
    pthread_t threads[NTHREADS];
    const ec_codec_t *got[NTHREADS];

    for (int i = 0; i < NTHREADS; i++)
        CHECK_EQ_INT(pthread_create(&threads[i], NULL, codec_get_thread, &got[i]), 0);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < NTHREADS; i++) {
        CHECK(got[i] != NULL);
        CHECK(got[i] == got[0]);
    }
}

TEST(test_geometry_check_rejects_invalid_geometry)
{
    static const ec_geometry_t bad[] = {
        {0, 2, MIB},          {4, 0, MIB}, {1, 16, MIB},
        {16, 1, MIB},         {9, 8, MIB}, {UINT32_MAX, 1, MIB},
        {1, UINT32_MAX, MIB}, {4, 2, 0},   {4, 2, EC_MAX_STRIPE_SIZE + 1},
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(ec_geometry_check(&bad[i]), EC_EINVAL);
    CHECK_EQ_INT(ec_geometry_check(NULL), EC_EINVAL);
}

TEST(test_geometry_check_accepts_every_valid_geometry)
{
    for (uint32_t k = 1; k < EC_MAX_SHARDS; k++)
        for (uint32_t m = 1; k + m <= EC_MAX_SHARDS; m++) {
            ec_geometry_t g = {k, m, 1};

            CHECK_EQ_INT(ec_geometry_check(&g), 0);
            g.stripe_size = EC_MAX_STRIPE_SIZE;
            CHECK_EQ_INT(ec_geometry_check(&g), 0);
        }
}

TEST(test_geometry_is_empty_when_object_empty)
{
    ec_geometry_t g = {4, 2, MIB};

    CHECK_EQ_INT(ec_stripe_count(&g, 0), 0);
    CHECK_EQ_INT(ec_shard_size(&g, 0), 0);
    CHECK_EQ_INT(ec_stripe_len(&g, 0, 0), 0);
    CHECK_EQ_INT(ec_block_len(&g, 0, 0), 0);
    CHECK_EQ_INT(ec_shard_offset(&g, 0, 0), 0);
}

TEST(test_geometry_has_one_byte_blocks_when_object_one_byte)
{
    ec_geometry_t g = {12, 4, MIB};

    CHECK_EQ_INT(ec_stripe_count(&g, 1), 1);
    CHECK_EQ_INT(ec_stripe_len(&g, 1, 0), 1);
    CHECK_EQ_INT(ec_block_len(&g, 1, 0), 1);
    CHECK_EQ_INT(ec_shard_size(&g, 1), 1);
}

TEST(test_geometry_has_short_last_stripe_when_size_not_multiple)
{
    ec_geometry_t g = {4, 2, 1000};

    CHECK_EQ_INT(ec_stripe_count(&g, 2501), 3);
    CHECK_EQ_INT(ec_stripe_len(&g, 2501, 0), 1000);
    CHECK_EQ_INT(ec_stripe_len(&g, 2501, 1), 1000);
    CHECK_EQ_INT(ec_stripe_len(&g, 2501, 2), 501);
    CHECK_EQ_INT(ec_stripe_len(&g, 2501, 3), 0);
    CHECK_EQ_INT(ec_block_len(&g, 2501, 0), 250);
    CHECK_EQ_INT(ec_block_len(&g, 2501, 2), 126); /* ceil(501 / 4) */
    CHECK_EQ_INT(ec_shard_size(&g, 2501), 250 + 250 + 126);
    CHECK_EQ_INT(ec_shard_offset(&g, 2501, 2), 500);
    CHECK_EQ_INT(ec_shard_offset(&g, 2501, 3), 626); /* one past the last stripe: the shard size */
}

TEST(test_geometry_has_no_short_stripe_when_size_multiple)
{
    ec_geometry_t g = {4, 2, 4096};

    CHECK_EQ_INT(ec_stripe_count(&g, 4096), 1);
    CHECK_EQ_INT(ec_stripe_count(&g, 8192), 2);
    CHECK_EQ_INT(ec_stripe_len(&g, 8192, 1), 4096);
    CHECK_EQ_INT(ec_shard_size(&g, 8192), 2048);
}

TEST(test_block_len_rounds_up_when_k_does_not_divide_stripe)
{
    ec_geometry_t g = {12, 4, MIB};

    CHECK_EQ_INT(ec_block_len(&g, MIB, 0), 87382); /* ceil(1048576 / 12) */
    CHECK_EQ_INT(ec_shard_size(&g, MIB + 17), 87382 + 2);
    CHECK_EQ_INT(ec_shard_offset(&g, MIB + 17, 1), 87382);
}

/* A 5 TiB object and sizes near UINT64_MAX must not wrap. */
TEST(test_geometry_does_not_overflow_when_size_huge)
{
    ec_geometry_t g = {4, 2, MIB};
    uint64_t five_tib = 5ull << 40, max = UINT64_MAX;

    CHECK(ec_stripe_count(&g, five_tib) == 5ull << 20);
    CHECK(ec_shard_size(&g, five_tib) == five_tib / 4);
    CHECK(ec_stripe_count(&g, max) == max / MIB + 1);
    CHECK_EQ_INT(ec_stripe_len(&g, max, max / MIB), MIB - 1);
    g.k = 1;
    g.stripe_size = EC_MAX_STRIPE_SIZE;
    CHECK_EQ_INT(ec_block_len(&g, EC_MAX_STRIPE_SIZE, 0), EC_MAX_STRIPE_SIZE);
}

TEST(test_geometry_returns_zero_when_geometry_invalid)
{
    ec_geometry_t g = {0, 2, 0};

    CHECK_EQ_INT(ec_stripe_count(&g, 100), 0);
    CHECK_EQ_INT(ec_stripe_len(&g, 100, 0), 0);
    CHECK_EQ_INT(ec_block_len(&g, 100, 0), 0);
    CHECK_EQ_INT(ec_shard_size(&g, 100), 0);
    CHECK_EQ_INT(ec_shard_offset(&g, 100, 0), 0);
}

TEST(test_split_zero_pads_tail_when_stripe_short)
{
    const ec_codec_t *c;
    uint8_t src[10], blocks[4][3], *b[4] = {blocks[0], blocks[1], blocks[2], blocks[3]};

    CHECK_EQ_INT(ec_codec_get(4, 2, &c), 0);
    for (int i = 0; i < 10; i++)
        src[i] = (uint8_t)(i + 1);
    memset(blocks, 0xEE, sizeof(blocks));
    ec_split(c, src, sizeof(src), 3, b);
    CHECK(memcmp(blocks[0], "\1\2\3", 3) == 0);
    CHECK(memcmp(blocks[2], "\7\10\11", 3) == 0);
    CHECK(memcmp(blocks[3], "\12\0\0", 3) == 0);
}

TEST(test_checksum_detects_flip_when_any_bit_changes)
{
    uint8_t block[4096];

    prng_fill(42, block, sizeof(block));
    uint64_t sum = ec_block_checksum(block, sizeof(block));
    for (size_t bit = 0; bit < sizeof(block) * 8; bit++) {
        block[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        uint64_t flipped = ec_block_checksum(block, sizeof(block));
        block[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        CHECK(flipped != sum);
    }
    CHECK(ec_block_checksum(block, sizeof(block)) == sum);
}

/* The checksum is stored on disk: it must stay xxh3-64 with seed 0. */
TEST(test_checksum_matches_xxh3_when_block_empty)
{
    CHECK(ec_block_checksum("", 0) == 0x2D06800538D394C2ull);
}

int main(void)
{
    RUN(test_geometry_check_rejects_invalid_geometry);
    RUN(test_geometry_check_accepts_every_valid_geometry);
    RUN(test_geometry_is_empty_when_object_empty);
    RUN(test_geometry_has_one_byte_blocks_when_object_one_byte);
    RUN(test_geometry_has_short_last_stripe_when_size_not_multiple);
    RUN(test_geometry_has_no_short_stripe_when_size_multiple);
    RUN(test_block_len_rounds_up_when_k_does_not_divide_stripe);
    RUN(test_geometry_does_not_overflow_when_size_huge);
    RUN(test_geometry_returns_zero_when_geometry_invalid);
    RUN(test_split_zero_pads_tail_when_stripe_short);
    RUN(test_codec_get_rejects_invalid_geometry);
    RUN(test_codec_get_returns_shared_codec_when_called_twice);
    RUN(test_codec_get_returns_one_codec_when_threads_race);
    RUN(test_encode_matches_cauchy_generator_when_4p2);
    RUN(test_encode_accepts_zero_length_when_block_empty);
    RUN(test_reconstruct_restores_bytes_when_2p1_loses_up_to_m);
    RUN(test_reconstruct_restores_bytes_when_4p2_loses_up_to_m);
    RUN(test_reconstruct_restores_bytes_when_8p4_loses_up_to_m);
    RUN(test_reconstruct_restores_bytes_when_12p4_loses_up_to_m);
    RUN(test_reconstruct_restores_bytes_when_any_valid_geometry_loses_m);
    RUN(test_reconstruct_restores_bytes_when_patterns_revisited_after_eviction);
    RUN(test_reconstruct_restores_bytes_when_threads_decode_concurrently);
    RUN(test_reconstruct_fails_etoofew_when_more_than_m_lost);
    RUN(test_reconstruct_skips_null_blocks_when_caller_does_not_need_them);
    RUN(test_reconstruct_rejects_null_block_when_marked_present);
    RUN(test_checksum_detects_flip_when_any_bit_changes);
    RUN(test_checksum_matches_xxh3_when_block_empty);
    return unit_done();
}
