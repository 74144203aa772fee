/* gw_bucket_record.h — reading and writing bucket records, which every drive of the cluster keeps.
 *
 * A bucket record is replaced in place (a deletion marks it first, gw_bucket.c), so the drives
 * may hold different states of it for a moment: the state with the largest updated_ns is the
 * record. Reads take the newest state among a majority of answers, which always includes the
 * last acknowledged write. Blocking: call on a worker.
 */
#ifndef YC_GW_BUCKET_RECORD_H
#define YC_GW_BUCKET_RECORD_H
#include "gateway/gw_cluster.h"

/* The newest state of the record of bucket `name`: 0 with *out pointing into *raw (caller
 * frees *raw), GW_ENOENT, GW_EQUORUM, or GW_EIO for a record that does not decode. */
int gw_bucket_record_read(gw_cluster_t *c, meta_bytes_t name, void **raw, meta_bucket_t *out);
/* Writes b on every drive; 0 once a majority acknowledged. */
int gw_bucket_record_write(gw_cluster_t *c, const meta_bucket_t *b);

/* The cluster lock name ("bucket/<name>") that creations, deletions and heals of a bucket
 * record take (gw_lock.h); buf holds META_BUCKET_MAX + 8 bytes. */
meta_bytes_t gw_bucket_lock_name(meta_bytes_t name, char *buf);

#endif
