/* gw_shed.h — the answers of admission control's door (gw_admit.h): 503 SlowDown with
 * Retry-After, made on the loop from nothing but a request's head (or a connection just
 * accepted), without the request's context, authentication or a worker — shedding must cost far
 * less than serving, or a loop that sheds is as behind as one that does not.
 *
 * Each answer carries a request id and S3's error XML, is counted in the metrics
 * (yc_requests_shed_total{reason="loop_lag"|"accept"} and yc_requests_total) and has its line in
 * the access log, like every other answer.
 */
#ifndef YC_GW_SHED_H
#define YC_GW_SHED_H
#include <stddef.h>
#include "common/http.h"
#include "gateway/gw_request.h"

/* Answers req 503 SlowDown (Retry-After retry_after_s, x-amz-request-id, the XML with the path as
 * Resource), with "connection: close" when close is set. Finishes req. Loop thread. */
void gw_shed_request(gw_env_t *env, yc_http_req_t *req, uint32_t retry_after_s, int close);

/* Writes into buf (cap bytes) a whole HTTP/1.1 503 SlowDown response with Retry-After and
 * "connection: close" for the connection fd refused at accept, and counts it; its length, or 0
 * when it does not fit (the caller then serves the connection). */
size_t gw_shed_accept_answer(gw_env_t *env, int fd, uint32_t retry_after_s, char *buf, size_t cap);

#endif
