/* gw_server.h — the gateway process: configuration, drives, worker pools, the healer, and the
 * event loops that hand every request to the router (gw_s3.h).
 *
 * Threads: `loops` event-loop threads share the listening port through SO_REUSEPORT; each runs
 * h2o and never blocks. A request is parsed and authenticated on its loop, then its blocking
 * part runs as a job on the worker pool, and the answer is sent back on the loop (common/pool.h;
 * the request's side is gw_request.h). Only the binary's main includes this header.
 */
#ifndef YC_GW_SERVER_H
#define YC_GW_SERVER_H
#include "gateway/gw_config.h"

typedef struct gw_server gw_server_t;

/* Opens the drives and starts the loops and workers; returns once the listener is bound. */
int gw_server_start(const gw_config_t *cfg, gw_server_t **out);
/* Blocks until SIGINT/SIGTERM, then stops. */
void gw_server_wait(gw_server_t *s);
void gw_server_free(gw_server_t *s);

#endif
