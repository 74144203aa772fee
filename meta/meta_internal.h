/* meta_internal.h — what the files of meta/ share: byte-order helpers of the key and record
 * codecs, and the C++ side of the RocksDB setup (meta_rocksdb.cc).
 * Keys are big-endian (so bytewise order is numeric order); record fields are little-endian. */
#ifndef YC_META_INTERNAL_H
#define YC_META_INTERNAL_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rocksdb_options_t;

/* Called on a RocksDB background thread when a background error stops the database; no_space
 * says whether the cause is a full drive. Must not call into RocksDB. */
typedef void (*meta_rocksdb_error_fn)(void *arg, int no_space);

/* Makes opts safe on a drive that can fill up (see meta_rocksdb.cc): RocksDB's info log goes to
 * log_path through a logger that drops what it cannot write, preallocation is off, and on_error
 * (may be NULL) hears of every background error, after which RocksDB stays stopped (no automatic
 * recovery). 0 or -ENOMEM. */
int meta_rocksdb_configure(struct rocksdb_options_t *opts, const char *log_path, meta_rocksdb_error_fn on_error,
                           void *arg);

#ifdef __cplusplus
}
#endif

static inline void meta_put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline void meta_put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline uint64_t meta_get_be64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static inline void meta_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline void meta_put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline uint32_t meta_get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t meta_get_le64(const uint8_t *p)
{
    return (uint64_t)meta_get_le32(p) | (uint64_t)meta_get_le32(p + 4) << 32;
}

#endif
