/* erasure_internal.h — the codec's layout, shared by the files of the erasure module only. */
#ifndef YC_ERASURE_INTERNAL_H
#define YC_ERASURE_INTERNAL_H
#include <stdint.h>

#include "erasure/erasure.h"

/* k + m <= 16 bounds k * m by 8 * 8; sizes the per-call decode matrices and tables. */
#define EC_MAX_KM 64
/* ISA-L expands each GF(2^8) coefficient into 32 bytes of lookup tables. */
#define EC_TABLE_BYTES 32

/* Immutable once published by ec_codec_get; read by any number of threads without locking. */
struct ec_codec {
    uint32_t k, m;
    /* (k+m) x k generator, row-major: identity on top, Cauchy rows below */
    uint8_t matrix[EC_MAX_SHARDS * EC_MAX_SHARDS];
    /* ec_init_tables of the m parity rows: m * k * 32 bytes; cache-line aligned so that no
     * SIMD load of a table straddles two lines */
    _Alignas(64) uint8_t encode_tables[EC_MAX_KM * EC_TABLE_BYTES];
};

/* m >= 1, k >= 1 and 2 <= k + m <= EC_MAX_SHARDS; each bounded first so k + m cannot wrap. */
static inline int ec_km_valid(uint32_t k, uint32_t m)
{
    return k >= 1 && m >= 1 && k < EC_MAX_SHARDS && m < EC_MAX_SHARDS && k + m <= EC_MAX_SHARDS;
}

#endif
