/* http_req.c — what every protocol of the HTTP layer shares: the request calls of http.h, each
 * passed to the request's protocol table, and the server's small common parts (the Date value,
 * the open connection count). It calls no protocol's code, so that http.c (HTTP/1.1, which hands
 * connections over to HTTP/2) and http2.c both stand on it and not on each other.
 */
#include "common/http_internal.h"
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

const char *yc_http_date(yc_http_server_t *srv)
{
    static const char wday[][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char mon[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    struct tm tm;

    if (now != srv->date_sec && gmtime_r(&now, &tm) != NULL) {
        snprintf(srv->date, sizeof(srv->date), "%s, %02d %s %04d %02d:%02d:%02d GMT", wday[tm.tm_wday % 7], tm.tm_mday,
                 mon[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        srv->date_sec = now;
    }
    return srv->date;
}

void yc_http_conn_closed(yc_http_server_t *srv)
{
    srv->open--;
    atomic_fetch_sub(&srv->stat_connections, 1);
}

const h2o_iovec_t *yc_http_header(const yc_http_req_t *req, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < req->num_headers; i++)
        if (req->headers[i].name.len == len && memcmp(req->headers[i].name.base, name, len) == 0)
            return &req->headers[i].value;
    return NULL;
}

int yc_http_body_read(yc_http_req_t *req, yc_http_body_cb cb, void *arg)
{
    return req->proto->body_read(req, cb, arg);
}

int yc_http_body_buffered(const yc_http_req_t *req)
{
    return req->proto->body_buffered != NULL && req->proto->body_buffered(req);
}

void yc_http_continue(yc_http_req_t *req)
{
    req->proto->send_continue(req);
}

int yc_http_respond(yc_http_req_t *req, int status, const char *reason, const yc_http_header_t *headers, size_t n,
                    uint64_t content_length)
{
    return req->proto->respond(req, status, reason, headers, n, content_length);
}

int yc_http_write(yc_http_req_t *req, const h2o_iovec_t *bufs, size_t n, yc_http_write_cb cb, void *arg)
{
    return req->proto->write(req, bufs, n, cb, arg);
}

int yc_http_finish(yc_http_req_t *req)
{
    return req->proto->finish(req, h2o_iovec_init(NULL, 0));
}

int yc_http_send(yc_http_req_t *req, int status, const char *reason, const yc_http_header_t *headers, size_t n,
                 h2o_iovec_t body)
{
    int ret = req->proto->respond(req, status, reason, headers, n, body.len);
    if (ret != 0) {
        req->proto->finish(req, h2o_iovec_init(NULL, 0)); /* never started: the layer answers 500 */
        return ret;
    }
    char *copy = body.len > 0 ? h2o_mem_alloc_pool(req->pool, body.len) : NULL;
    if (copy != NULL)
        memcpy(copy, body.base, body.len);
    return req->proto->finish(req, h2o_iovec_init(copy, body.len));
}

int yc_http_req_alive(const yc_http_req_t *req)
{
    return req->proto->alive(req);
}

uint64_t yc_http_bytes_acked(h2o_socket_t *sock)
{
    struct tcp_info info;
    socklen_t len = sizeof(info);
    int fd = h2o_socket_get_fd(sock), outq = 0;

    memset(&info, 0, sizeof(info));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 &&
        len >= offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof(info.tcpi_bytes_acked))
        return info.tcpi_bytes_acked;
    /* older kernels: what is still queued shrinks as the client takes it */
    if (ioctl(fd, SIOCOUTQ, &outq) == 0)
        return UINT64_MAX - (uint64_t)outq;
    return 0;
}
