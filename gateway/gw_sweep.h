/* gw_sweep.h — collecting what dead bucket incarnations left on the drives.
 *
 * Objects and uploads live in the namespace of their bucket's incarnation (meta.h). Once a
 * bucket is deleted its namespace is dead, and it is empty but for what a racing writer put
 * there while the deletion ran — writes that were never acknowledged (gw_bucket_confirm), or
 * records that never reached a quorum. A sweep removes every record of a namespace from every
 * drive, with the shard files they own: object versions (store_client_object_delete deletes
 * their shards), uploads with their parts, and the bucket configurations of that incarnation
 * (gw_bucket_config.h). Blocking: call from a background thread.
 */
#ifndef YC_GW_SWEEP_H
#define YC_GW_SWEEP_H
#include "gateway/gw_cluster.h"

/* Removes every object version and upload of namespace ns from every drive; *removed counts
 * the records deleted. 0 when every drive answered (a drive that did not is swept next time). */
int gw_sweep_ns(gw_cluster_t *c, meta_bytes_t ns, size_t *removed);

/* Finds the namespaces the drives hold whose bucket no longer has that incarnation (or no
 * longer exists) and sweeps them; *swept counts them. For the full heal. */
int gw_sweep_dead(gw_cluster_t *c, size_t *swept);

#endif
