/* gw_bucket_config.h — a bucket's configuration documents on the drives: its policy, CORS rules,
 * tags, ownership controls, public-access block, lifecycle rules (and the lifecycle worker's
 * progress marker) and Object Lock configuration.
 *
 * Each (bucket, kind) is one record kept on every drive of the cluster beside the bucket record
 * ('C' bucket 0x00 kind, meta_config_t), written with the same majority quorum and read the same
 * way: the newest state (updated_ns) among a majority of answers, which includes the last
 * acknowledged write. Separate records rather than fields of the bucket record, because:
 * a document is up to 20 KB (a policy) or more (lifecycle) and the bucket record is read for
 * every request; each kind changes on its own, so two gateways writing two kinds cannot undo each
 * other's write, as read-modify-write of one record would; and the bucket record's own fields
 * (the deletion protocol, versioning) stay one small record with one writer each.
 *
 * Incarnations: each state names the incarnation it was written for. A bucket deleted and
 * created again has a new incarnation, so whatever the old one left reads as no configuration
 * (GW_CONF_NONE) and the new bucket starts with none; DeleteBucket's sweep removes the old
 * records (gw_sweep.c). A removal (DeleteBucketPolicy, ...) is written as a state of its own,
 * never a delete of the record, so that a drive that missed it cannot bring the old document
 * back: and for the kinds whose absence has a default (ownership controls, public-access block)
 * it tells "removed" (S3's NotFound errors) from "never set" (the default of a new bucket).
 *
 * Blocking: call on a worker.
 */
#ifndef YC_GW_BUCKET_CONFIG_H
#define YC_GW_BUCKET_CONFIG_H
#include <h2o.h>
#include "gateway/gw_cluster.h"

typedef enum {
    GW_CONF_POLICY = 0,
    GW_CONF_CORS,
    GW_CONF_TAGGING,
    GW_CONF_OWNERSHIP,
    GW_CONF_PUBLIC_ACCESS_BLOCK,
    GW_CONF_LIFECYCLE,
    GW_CONF_OBJECT_LOCK,
    GW_CONF_ACL,
    GW_CONF_LIFECYCLE_PROGRESS, /* where the lifecycle worker's pass over the bucket is (gw_lifecycle.h) */
    GW_CONF_ENCRYPTION,         /* default encryption (gateway/s3/sse_config.h's stored form) */
    GW_CONF_KMS_KEYS,           /* the key service's registry, under the name GW_KMS_RECORD (gw_kms.h) */
    GW_CONF_QUOTA,              /* bytes the bucket may hold (gw_quota.h) */
    GW_CONF_LOGGING,            /* server access logging: target bucket and prefix (gw_bucket_logging.h) */
    GW_CONF__COUNT
} gw_conf_kind_t;

typedef enum {
    GW_CONF_NONE = 0, /* never set in this incarnation of the bucket */
    GW_CONF_SET,
    GW_CONF_REMOVED, /* set, then removed */
} gw_conf_state_t;

/* The record name of a kind ("policy", "cors", ...). */
const char *gw_conf_kind_name(gw_conf_kind_t kind);

/* Reads the state of kind for incarnation of bucket. 0 with *state; for GW_CONF_SET *doc points
 * into *raw (caller frees *raw; NULL otherwise). GW_EQUORUM when a majority did not answer,
 * GW_EIO for a record that does not decode. */
int gw_conf_read(gw_cluster_t *c, h2o_iovec_t bucket, uint64_t incarnation, gw_conf_kind_t kind, void **raw,
                 gw_conf_state_t *state, h2o_iovec_t *doc);

/* Writes doc as kind of incarnation of bucket on every drive (doc.base NULL: the removal); 0 once a
 * majority acknowledged, else GW_EQUORUM or GW_ENOSPC. */
int gw_conf_write(gw_cluster_t *c, h2o_iovec_t bucket, uint64_t incarnation, gw_conf_kind_t kind, h2o_iovec_t doc);

/* Deletes, from one drive, the configuration records of bucket that belong to incarnation; for
 * the sweep of a dead namespace. *removed counts them. */
int gw_conf_sweep_drive(store_client_t *d, meta_bytes_t bucket, uint64_t incarnation, size_t *removed);

#endif
