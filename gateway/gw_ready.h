/* gw_ready.h — the answers of the health endpoints: is the process alive, can it take writes.
 *
 *   /health/live   200 {"status":"live"}: the process runs and its event loop answers. Nothing
 *                  else is checked: a restart is the cure only for a process that stopped.
 *   /health/ready  200 {"status":"ready",...} when every erasure set has its write quorum of
 *                  drives in state ok (gw_health.h, gw_quorum.h), else 503 {"status":"not_ready",...}
 *                  with each set's count, so that a load balancer sends writes elsewhere while a
 *                  set could not acknowledge them. Reads might still be served (they need k
 *                  drives), but a balancer cannot tell a read from a write by the health check.
 *
 * The body names each set: {"set":0,"drives":6,"ok":5,"write_quorum":4,"writable":true}, and the
 * drives that are not ok with their state: {"index":3,"drive":"host:9200/d1","state":"refused","set":0}
 * (drive null for a spec that is not UTF-8).
 */
#ifndef YC_GW_READY_H
#define YC_GW_READY_H
#include <stddef.h>
#include "gateway/gw_cluster.h"

/* The answer to /health/ready: returns the HTTP status (200 ready, 503 not) and a JSON body in
 * *body (malloc'd, caller frees; NULL when out of memory, then the status is 503 still).
 * Takes the health module's lock once per drive; no I/O: may run on an event loop. */
int gw_ready_answer(gw_cluster_t *c, char **body, size_t *len);

/* The answer to /health/live: 200 and its constant body (static, not to be freed). */
int gw_live_answer(const char **body, size_t *len);

/* The rule itself: a set with ok drives in state ok, of a k+m geometry, can take writes. */
int gw_ready_set_writable(uint32_t ok, uint32_t k, uint32_t m);

#endif
