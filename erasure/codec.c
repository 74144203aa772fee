/* codec.c — Reed-Solomon k+m over GF(2^8) on ISA-L, with encoding tables shared process-wide.
 *
 * Generator. The (k+m) x k matrix from gf_gen_cauchy1_matrix: identity on top, so the code is
 * systematic (data blocks are stored as they are and a healthy read needs no arithmetic), and a
 * Cauchy block below. Every square submatrix of a Cauchy matrix is invertible, so any k of the
 * k+m blocks recover the stripe, for every geometry allowed; a Vandermonde generator does not
 * guarantee that. The matrix is part of the on-disk format: changing it orphans every shard.
 *
 * Tables. ec_init_tables expands each coefficient into 32 bytes of nibble tables for the SIMD
 * multiply. The parity rows' tables depend only on (k, m), so they are built on the first
 * ec_codec_get for that pair and kept for the life of the process in `codecs`, global state
 * marked as such below: a slot is written once, under `codecs_lock`, and read without the lock
 * through an acquire load, so the hot path costs one load.
 *
 * Reconstruct. Choose k present blocks (data first, lowest index first), invert the k x k
 * submatrix of their generator rows, and give every lost block a decode row: a lost data block's
 * row is its row of the inverse; a lost parity block's row is its generator row times the
 * inverse, which is re-encoding the recovered data folded into the same pass. One ec_encode_data
 * call then reads the k survivors once and writes every lost block.
 *
 * Decode cache. Building decode tables costs about 0.3 us for 4+2 and 7 us for 12+4 (mostly
 * ec_init_tables), against about 50 us to decode a 1 MiB stripe of 12+4 and under 1 us for the
 * 16 KiB stripes of small inline objects, so without a cache a degraded read of small objects
 * would spend most of its time building tables. While a drive is down the same few loss patterns
 * recur on every stripe and every object, so each thread keeps the tables of its last few
 * patterns (the second piece of module state, per thread and marked below).
 */
#include "erasure/erasure.h"

#include <isa-l/erasure_code.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "erasure/erasure_internal.h"

/* ec_encode_data takes an int length; longer blocks are coded in chunks of this many bytes
 * (a multiple of 64 keeps every chunk on the SIMD path). */
#define EC_CHUNK_MAX ((size_t)1 << 30)

/* GLOBAL STATE: the process-wide codec cache indexed by [k][m]; see the block comment above. */
static pthread_mutex_t codecs_lock = PTHREAD_MUTEX_INITIALIZER;
static ec_codec_t *_Atomic codecs[EC_MAX_SHARDS][EC_MAX_SHARDS];

/* PER-THREAD STATE: decode tables of the last loss patterns this thread decoded, keyed by codec and by the masks
 * of survivors read and blocks rebuilt (which together fix the tables). Per thread, so the
 * decode path takes no lock and entries can be overwritten while nobody else reads them; the
 * key's destructor frees a thread's cache when the thread exits. About 17 KiB per thread that
 * ever reconstructs. */
#define EC_DECODE_CACHE_ENTRIES 8

typedef struct {
    const ec_codec_t *codec; /* NULL: empty or being rebuilt */
    uint32_t chosen, lost;
    _Alignas(64) uint8_t tables[EC_MAX_KM * EC_TABLE_BYTES];
} decode_entry_t;

typedef struct {
    uint32_t next; /* the next entry to evict */
    decode_entry_t entries[EC_DECODE_CACHE_ENTRIES];
} decode_cache_t;

static pthread_once_t decode_cache_once = PTHREAD_ONCE_INIT;
static pthread_key_t decode_cache_key;
static int decode_cache_ready;

static void decode_cache_init(void)
{
    decode_cache_ready = pthread_key_create(&decode_cache_key, free) == 0;
}

static ec_codec_t *codec_build(uint32_t k, uint32_t m)
{
    ec_codec_t *c = aligned_alloc(64, sizeof(*c));

    if (c == NULL)
        return NULL;
    memset(c, 0, sizeof(*c));
    c->k = k;
    c->m = m;
    gf_gen_cauchy1_matrix(c->matrix, (int)(k + m), (int)k);
    ec_init_tables((int)k, (int)m, c->matrix + k * k, c->encode_tables);
    return c;
}

/* Gets the shared codec for (k, m), building its tables on first use; thread-safe. The codec is
 * never freed. */
int ec_codec_get(uint32_t k, uint32_t m, const ec_codec_t **out)
{
    ec_codec_t *c;
    int ret;

    if (out == NULL || !ec_km_valid(k, m))
        return EC_EINVAL;
    c = atomic_load_explicit(&codecs[k][m], memory_order_acquire);
    if (c != NULL) {
        *out = c;
        return EC_OK;
    }

    pthread_mutex_lock(&codecs_lock);
    /* another thread may have built it while this one waited for the lock */
    c = atomic_load_explicit(&codecs[k][m], memory_order_relaxed);
    if (c == NULL) {
        if ((c = codec_build(k, m)) == NULL) {
            ret = EC_ENOMEM;
            goto fail;
        }
        /* release: a thread that sees the pointer also sees the finished tables */
        atomic_store_explicit(&codecs[k][m], c, memory_order_release);
    }
    pthread_mutex_unlock(&codecs_lock);
    *out = c;
    return EC_OK;

fail:
    pthread_mutex_unlock(&codecs_lock);
    return ret;
}

uint32_t ec_codec_k(const ec_codec_t *c)
{
    return c->k;
}

uint32_t ec_codec_m(const ec_codec_t *c)
{
    return c->m;
}

/* Computes dst[r] = sum_j coef[r][j] * src[j] over len bytes, splitting lengths ISA-L's int
 * cannot hold. ISA-L only reads src; its prototype is not const-qualified. */
static void code_rows(size_t len, uint32_t nsrc, uint32_t ndst, uint8_t *tables, uint8_t *const *src,
                      uint8_t *const *dst)
{
    uint8_t *s[EC_MAX_SHARDS], *d[EC_MAX_SHARDS];

    if (len <= EC_CHUNK_MAX) {
        ec_encode_data((int)len, (int)nsrc, (int)ndst, tables, (uint8_t **)src, (uint8_t **)dst);
        return;
    }
    for (size_t off = 0; off < len; off += EC_CHUNK_MAX) {
        size_t n = len - off < EC_CHUNK_MAX ? len - off : EC_CHUNK_MAX;

        for (uint32_t j = 0; j < nsrc; j++)
            s[j] = src[j] + off;
        for (uint32_t r = 0; r < ndst; r++)
            d[r] = dst[r] + off;
        ec_encode_data((int)n, (int)nsrc, (int)ndst, tables, s, d);
    }
}

/* Encodes one stripe: data[0..k-1] are input blocks of block_len bytes, parity[0..m-1] are
 * written. The shared tables are only read, so any number of threads may encode at once. */
int ec_encode(const ec_codec_t *c, size_t block_len, const uint8_t *const *data, uint8_t *const *parity)
{
    if (c == NULL || data == NULL || parity == NULL)
        return EC_EINVAL;
    if (block_len == 0)
        return EC_OK;
    code_rows(block_len, c->k, c->m, (uint8_t *)c->encode_tables, (uint8_t *const *)data, parity);
    return EC_OK;
}

/* Fills the decode tables that turn blocks chosen[0..k-1] into blocks lost[0..nlost-1]. */
static int decode_tables_build(const ec_codec_t *c, const uint32_t *chosen, const uint32_t *lost, uint32_t nlost,
                               uint8_t *tables)
{
    uint8_t sub[EC_MAX_SHARDS * EC_MAX_SHARDS], inv[EC_MAX_SHARDS * EC_MAX_SHARDS], rows[EC_MAX_KM];
    uint32_t k = c->k;

    for (uint32_t r = 0; r < k; r++)
        memcpy(sub + r * k, c->matrix + chosen[r] * k, k);
    /* cannot fail: every square submatrix of the Cauchy generator is invertible */
    if (gf_invert_matrix(sub, inv, (int)k) != 0)
        return EC_EINVAL;

    for (uint32_t l = 0; l < nlost; l++) {
        uint8_t *row = rows + l * k;
        const uint8_t *gen = c->matrix + lost[l] * k;

        if (lost[l] < k) {
            memcpy(row, inv + lost[l] * k, k);
            continue;
        }
        for (uint32_t j = 0; j < k; j++) {
            uint8_t acc = 0;

            for (uint32_t t = 0; t < k; t++)
                acc ^= gf_mul(gen[t], inv[t * k + j]);
            row[j] = acc;
        }
    }
    ec_init_tables((int)k, (int)nlost, rows, tables);
    return EC_OK;
}

/* The calling thread's decode cache, created on first use; NULL when it cannot be had, in
 * which case the caller builds its tables on the stack. */
static decode_cache_t *decode_cache_get(void)
{
    decode_cache_t *cache;

    pthread_once(&decode_cache_once, decode_cache_init);
    if (!decode_cache_ready)
        return NULL;
    if ((cache = pthread_getspecific(decode_cache_key)) != NULL)
        return cache;
    if ((cache = aligned_alloc(64, sizeof(*cache))) == NULL)
        return NULL;
    memset(cache, 0, sizeof(*cache));
    if (pthread_setspecific(decode_cache_key, cache) != 0) {
        free(cache);
        return NULL;
    }
    return cache;
}

/* Rebuilds the lost blocks of one stripe in place; see erasure.h for the contract. */
int ec_reconstruct(const ec_codec_t *c, size_t block_len, uint8_t *const *shards, const uint8_t *present)
{
    _Alignas(64) uint8_t stack_tables[EC_MAX_KM * EC_TABLE_BYTES];
    uint8_t *src[EC_MAX_SHARDS], *dst[EC_MAX_SHARDS], *tables = NULL;
    uint32_t chosen[EC_MAX_SHARDS], lost[EC_MAX_SHARDS];
    uint32_t k, n, npresent = 0, nlost = 0, chosen_mask = 0, lost_mask = 0;
    decode_cache_t *cache;
    decode_entry_t *entry = NULL;
    int ret;

    if (c == NULL || shards == NULL || present == NULL)
        return EC_EINVAL;
    k = c->k;
    n = c->k + c->m;
    for (uint32_t i = 0; i < n; i++) {
        if (present[i]) {
            if (shards[i] == NULL)
                return EC_EINVAL;
            if (npresent < k) {
                chosen[npresent] = i;
                chosen_mask |= 1u << i;
            }
            npresent++;
        } else if (shards[i] != NULL) {
            lost[nlost++] = i;
            lost_mask |= 1u << i;
        }
    }
    if (npresent < k)
        return EC_ETOOFEW;
    if (nlost == 0 || block_len == 0)
        return EC_OK;

    if ((cache = decode_cache_get()) != NULL) {
        for (uint32_t e = 0; e < EC_DECODE_CACHE_ENTRIES && tables == NULL; e++) {
            decode_entry_t *d = &cache->entries[e];

            if (d->codec == c && d->chosen == chosen_mask && d->lost == lost_mask)
                tables = d->tables;
        }
        if (tables == NULL) {
            /* round-robin eviction: degraded reads repeat a handful of patterns, so recency
             * tracking would buy little */
            entry = &cache->entries[cache->next++ % EC_DECODE_CACHE_ENTRIES];
            entry->codec = NULL;
        }
    }
    if (tables == NULL) {
        tables = entry != NULL ? entry->tables : stack_tables;
        if ((ret = decode_tables_build(c, chosen, lost, nlost, tables)) != 0)
            return ret;
        if (entry != NULL) {
            entry->codec = c;
            entry->chosen = chosen_mask;
            entry->lost = lost_mask;
        }
    }

    for (uint32_t r = 0; r < k; r++)
        src[r] = shards[chosen[r]];
    for (uint32_t l = 0; l < nlost; l++)
        dst[l] = shards[lost[l]];
    code_rows(block_len, k, nlost, tables, src, dst);
    return EC_OK;
}
