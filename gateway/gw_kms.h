/* gw_kms.h — the built-in key service behind aws:kms: named keys with versions.
 *
 * A key is a name and a current version. Its key material is never stored: version v of key name
 * is HMAC-SHA-256 of ("yc-kms" | name | v) under the current master key (gw_sse.h), so it is as
 * secret as the master key and needs no wrapping of its own. What the service stores is the
 * registry: which names exist and their current versions, one cluster-wide record (a bucket
 * configuration record under the name GW_KMS_RECORD, which no bucket can have: ':' is not allowed
 * in bucket names), JSON {"keys":[{"id":..,"version":..,"created":ns}]}.
 *
 * Rotation makes a new version current: objects written after it wrap their data keys under the
 * new version, older objects name the version (and master key version) they were wrapped with,
 * which stays derivable, so no data is rewritten and every object stays readable.
 * GW_KMS_DEFAULT_KEY ("yc/s3", like AWS's aws/s3) always exists: aws:kms without a key id uses it.
 *
 * Blocking (reads and writes the registry with quorum): call on a worker.
 */
#ifndef YC_GW_KMS_H
#define YC_GW_KMS_H
#include "gateway/gw_request.h"

#define GW_KMS_RECORD      ":kms"
#define GW_KMS_DEFAULT_KEY "yc/s3"
#define GW_KMS_KEY_ID_MAX  255

/* The current version of key id: 0 with *version, GW_ENOENT for a key the registry does not
 * hold, GW_EQUORUM / GW_EIO when it cannot be read. */
int gw_kms_current(gw_cluster_t *c, h2o_iovec_t id, uint32_t *version);

/* The key-encryption key of version of id under master (32 bytes). */
void gw_kms_derive(const uint8_t master[32], h2o_iovec_t id, uint32_t version, uint8_t kek[32]);

/* 1 when id is a valid key name (1..GW_KMS_KEY_ID_MAX of [A-Za-z0-9/_.-]), else 0. */
int gw_kms_valid_id(h2o_iovec_t id);

/* The admin API (gw_admin.c), root only:
 *   GET  /_admin/v1/kms/keys               the keys and their versions (JSON)
 *   PUT  /_admin/v1/kms/keys/<id>          creates a key at version 1 (409 when it exists)
 *   POST /_admin/v1/kms/keys/<id>/rotate   makes a new version current
 * Returns 1 when path was one of these (ctx answered or dispatched), else 0. */
int gw_kms_admin(gw_ctx_t *ctx, h2o_iovec_t path);

#endif
