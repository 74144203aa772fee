/* gw_s3.h — the router: every request's way in, from the server's loops to the handler of one S3
 * operation or the admin API (design in gw_s3.c). The server knows this entry point and nothing
 * of the handlers behind it.
 */
#ifndef YC_GW_S3_H
#define YC_GW_S3_H
#include <h2o.h>
#include "gateway/gw_request.h"

/* Serves a request whose head is in, on its loop (loop: that loop's job queue): makes its
 * context, parses path and query, authenticates, admits, reads the body it needs and hands it to
 * its operation's handler (or answers it). Every request is taken. */
void gw_s3_serve(gw_env_t *env, yc_loop_t *loop, yc_http_req_t *http);

#endif
