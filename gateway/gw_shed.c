/* gw_shed.c — 503 SlowDown from the door, on the loop (see gw_shed.h). */
#include "gateway/gw_shed.h"
#include "common/clock.h"
#include "gateway/gw_access_log.h"
#include "gateway/gw_audit.h"
#include "gateway/gw_metrics.h"
#include "gateway/s3/error.h"
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* "address:port" of a peer into out (len 0 when unknown). */
static h2o_iovec_t format_peer(struct sockaddr *sa, socklen_t len, char *out, size_t cap)
{
    char host[NI_MAXHOST];

    if (sa == NULL || len == 0 || h2o_socket_getnumerichost(sa, len, host) == SIZE_MAX)
        return h2o_iovec_init(NULL, 0);
    int n = snprintf(out, cap, sa->sa_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, (int)h2o_socket_getport(sa));
    return n > 0 && (size_t)n < cap ? h2o_iovec_init(out, (size_t)n) : h2o_iovec_init(NULL, 0);
}

/* The access line and the counters of one shed answer. */
static void count(gw_env_t *env, gw_shed_reason_t reason, const char *id, h2o_iovec_t client, int64_t started_ns)
{
    int64_t duration = yc_now_ns() - started_ns;
    gw_access_log_t *log = __atomic_load_n(&env->access_log, __ATOMIC_ACQUIRE);
    gw_metrics_t *metrics = __atomic_load_n(&env->metrics, __ATOMIC_ACQUIRE);
    gw_audit_t *audit = __atomic_load_n(&env->audit, __ATOMIC_ACQUIRE);

    if (duration < 0)
        duration = 0;
    gw_metrics_shed(metrics, reason);
    gw_metrics_request_done(metrics, GW_OP_NONE, 503, 0, 0, duration);
    if (log == NULL && audit == NULL)
        return;
    gw_access_entry_t e = {.time_ns = yc_now_ns(),
                           .request_id = h2o_iovec_init(id, 16),
                           .client = client,
                           .status = 503,
                           .error_code = s3_error_info(S3_ERR_SLOW_DOWN)->code,
                           .duration_ns = duration};
    gw_access_log_write(log, &e);
    gw_audit_request(audit, &e, 0, h2o_iovec_init(NULL, 0));
}

void gw_shed_request(gw_env_t *env, yc_http_req_t *req, uint32_t retry_after_s, int close)
{
    int64_t started = yc_now_ns();
    char id[17], after[16], client[NI_MAXHOST + 16];
    h2o_mem_pool_t pool;
    h2o_iovec_t xml;
    yc_http_header_t h[4];
    size_t n = 0;

    gw_request_next_id(env, id);
    snprintf(after, sizeof(after), "%u", retry_after_s);
    h2o_mem_init_pool(&pool);
    s3_error_xml(&pool, S3_ERR_SLOW_DOWN, h2o_iovec_init(NULL, 0), req->path, h2o_iovec_init(id, 16),
                 h2o_iovec_init(NULL, 0), NULL, 0, &xml);
    h[n++] = (yc_http_header_t){h2o_iovec_init(H2O_STRLIT("x-amz-request-id")), h2o_iovec_init(id, 16)};
    h[n++] = (yc_http_header_t){h2o_iovec_init(H2O_STRLIT("retry-after")), h2o_iovec_init(after, strlen(after))};
    h[n++] =
        (yc_http_header_t){h2o_iovec_init(H2O_STRLIT("content-type")), h2o_iovec_init(H2O_STRLIT("application/xml"))};
    if (close)
        h[n++] = (yc_http_header_t){h2o_iovec_init(H2O_STRLIT("connection")), h2o_iovec_init(H2O_STRLIT("close"))};
    h2o_iovec_t peer = format_peer((struct sockaddr *)req->peer, req->peer_len, client, sizeof(client));
    /* the line and counters first: the send finishes the layer's request, address and all */
    count(env, GW_SHED_LOOP_LAG, id, peer, started);
    yc_http_send(req, 503, gw_reason(503), h, n, xml); /* the body is copied */
    h2o_mem_clear_pool(&pool);
}

size_t gw_shed_accept_answer(gw_env_t *env, int fd, uint32_t retry_after_s, char *buf, size_t cap)
{
    int64_t started = yc_now_ns();
    char id[17], date[H2O_TIMESTR_RFC1123_LEN + 1], client[NI_MAXHOST + 16];
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    h2o_mem_pool_t pool;
    h2o_iovec_t xml;
    struct tm tm;
    time_t now = time(NULL);

    gw_request_next_id(env, id);
    gmtime_r(&now, &tm);
    h2o_time2str_rfc1123(date, &tm);
    h2o_mem_init_pool(&pool);
    /* nothing of the request was read: the resource is the service's root */
    s3_error_xml(&pool, S3_ERR_SLOW_DOWN, h2o_iovec_init(NULL, 0), h2o_iovec_init(H2O_STRLIT("/")),
                 h2o_iovec_init(id, 16), h2o_iovec_init(NULL, 0), NULL, 0, &xml);
    int n = snprintf(buf, cap,
                     "HTTP/1.1 503 %s\r\nserver: yuncang\r\ndate: %s\r\nx-amz-request-id: %s\r\nretry-after: %u\r\n"
                     "content-type: application/xml\r\ncontent-length: %zu\r\nconnection: close\r\n\r\n%.*s",
                     gw_reason(503), date, id, retry_after_s, xml.len, (int)xml.len, xml.base);
    h2o_mem_clear_pool(&pool);
    if (n <= 0 || (size_t)n >= cap)
        return 0;
    if (getpeername(fd, (struct sockaddr *)&ss, &sslen) != 0)
        sslen = 0;
    count(env, GW_SHED_ACCEPT, id, format_peer((struct sockaddr *)&ss, sslen, client, sizeof(client)), started);
    return (size_t)n;
}
