/* gw_s3.h — the router: every request's way in, from the server's loops to the handler of one S3
 * operation or the admin API (design in gw_s3.c). The server knows this entry point and nothing
 * of the handlers behind it.
 */
#ifndef YC_GW_S3_H
#define YC_GW_S3_H
#include <h2o.h>
#include "gateway/gw_request.h"

/* Serves req on its loop: makes its context, parses path and query, authenticates, admits and
 * hands it to its operation's handler (or answers it). Returns 0: every request is taken. */
int gw_s3_serve(gw_env_t *env, h2o_req_t *req);

#endif
