/* listen.c — SO_REUSEPORT listeners, accepting onto an h2o context, and the progress watchdog
 * of the gateway's connections (see common/listen.h). */
#include "common/listen.h"
#include "common/log.h"
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define WATCH_TICK_MS 1000

int yc_listen_open(const char *host, uint16_t port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd, one = 1;

    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
        return -EINVAL;
    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
        return -errno;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 4096) != 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

static h2o_socket_t *accept_one(h2o_socket_t *listener)
{
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    int one = 1;
    if (sock != NULL)
        setsockopt(h2o_socket_get_fd(sock), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return sock;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    h2o_socket_t *sock;

    if (err != NULL || (sock = accept_one(listener)) == NULL)
        return;
    h2o_accept(listener->data, sock);
}

h2o_socket_t *yc_listen_start(h2o_loop_t *loop, int fd, h2o_accept_ctx_t *ctx)
{
    h2o_socket_t *listener = h2o_evloop_socket_create(loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    listener->data = ctx;
    h2o_socket_read_start(listener, on_accept);
    return listener;
}

/* ---------------------------------------------------------------- progress watchdog */

typedef struct {
    h2o_loop_t *loop;
    h2o_accept_ctx_t *accept_ctx;
    yc_listen_watch_t opts;
    h2o_timeout_t tick;
    h2o_timeout_entry_t tick_entry;
    h2o_linklist_t conns; /* yc_conn_t.link, open connections only */
} watch_t;

/* What the kernel says about a connection's traffic. h2o 2.2.5's bytes_read and bytes_written
 * count the last read or write only, so they cannot tell progress from one equal read to the next. */
typedef struct {
    uint64_t received; /* bytes received from the client */
    uint64_t acked;    /* bytes the client acknowledged: what it has taken of our answers */
    int outq;          /* bytes written and not yet acknowledged */
} traffic_t;

struct yc_conn {
    h2o_linklist_t link;
    h2o_socket_t *sock; /* NULL once h2o closed it */
    traffic_t last;
    uint64_t last_progress_ms;
    unsigned holds;               /* requests of ours in progress on the connection */
    uint64_t received_at_release; /* bytes received when the last request of ours ended */
    int shut;                     /* shut down by the watchdog; h2o is closing it */
};

static void conn_free_if_unused(yc_conn_t *c)
{
    if (c->sock == NULL && c->holds == 0)
        free(c);
}

/* h2o's close callback of a watched socket: the record stays while a request still holds it. */
static void on_sock_close(void *data)
{
    yc_conn_t *c = data;
    h2o_linklist_unlink(&c->link);
    c->sock = NULL;
    conn_free_if_unused(c);
}

/* Reads the kernel's counters of sock; non-zero when they are unavailable. */
static int read_traffic(h2o_socket_t *sock, traffic_t *t)
{
    struct tcp_info info;
    socklen_t len = sizeof(info);
    int fd = h2o_socket_get_fd(sock);

    memset(&info, 0, sizeof(info));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(info.tcpi_bytes_received))
        return -1;
    t->received = info.tcpi_bytes_received;
    t->acked = info.tcpi_bytes_acked;
    if (ioctl(fd, SIOCOUTQ, &t->outq) != 0)
        t->outq = 0;
    return 0;
}

yc_conn_t *yc_listen_conn_hold(h2o_conn_t *conn)
{
    h2o_socket_t *sock = conn->callbacks->get_socket != NULL ? conn->callbacks->get_socket(conn) : NULL;
    if (sock == NULL || sock->on_close.cb != on_sock_close)
        return NULL;
    yc_conn_t *c = sock->on_close.data;
    c->holds++;
    return c;
}

void yc_listen_conn_release(yc_conn_t *c)
{
    traffic_t t;
    if (c == NULL)
        return;
    c->holds--;
    if (c->sock != NULL && read_traffic(c->sock, &t) == 0)
        c->received_at_release = t.received;
    conn_free_if_unused(c);
}

static void stall_shutdown(watch_t *w, yc_conn_t *c, uint64_t now)
{
    struct sockaddr_storage ss;
    char host[NI_MAXHOST], client[NI_MAXHOST + 16] = "-", answer[2048];
    socklen_t len = h2o_socket_getpeername(c->sock, (struct sockaddr *)&ss);
    int fd = h2o_socket_get_fd(c->sock), answered = 0;

    if (len != 0 && h2o_socket_getnumerichost((struct sockaddr *)&ss, len, host) != SIZE_MAX)
        snprintf(client, sizeof(client), ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host,
                 (int)h2o_socket_getport((struct sockaddr *)&ss));
    /* inside a request, h2o only reads (nothing queued for the client): the answer can go first */
    if (c->holds == 0 && c->last.outq == 0 && c->last.received > c->received_at_release &&
        w->opts.stalled_request_response != NULL) {
        size_t n = w->opts.stalled_request_response(w->opts.arg, client, c->last.received - c->received_at_release,
                                                    answer, sizeof(answer));
        answered = n > 0 && write(fd, answer, n) == (ssize_t)n;
    }
    yc_log(YC_LOG_INFO, "event=connection_stalled client=%s idle_ms=%llu bytes_in=%llu bytes_out=%llu answered=%d",
           client, (unsigned long long)(now - c->last_progress_ms), (unsigned long long)c->last.received,
           (unsigned long long)c->last.acked, answered);
    /* h2o notices at its next read (end of stream) or write (EPIPE) and closes through its path */
    shutdown(fd, SHUT_RDWR);
    c->shut = 1;
}

static void on_tick(h2o_timeout_entry_t *entry)
{
    watch_t *w = H2O_STRUCT_FROM_MEMBER(watch_t, tick_entry, entry);
    uint64_t now = h2o_now(w->loop);
    traffic_t t;

    for (h2o_linklist_t *node = w->conns.next; node != &w->conns; node = node->next) {
        yc_conn_t *c = H2O_STRUCT_FROM_MEMBER(yc_conn_t, link, node);
        if (c->shut)
            continue;
        if (read_traffic(c->sock, &t) != 0) {
            c->last_progress_ms = now; /* no counters, no judgement */
        } else if (t.received != c->last.received || t.acked != c->last.acked || t.outq != c->last.outq) {
            c->last = t;
            c->last_progress_ms = now;
        } else if (c->holds > 0 && t.outq == 0) {
            /* nothing waits for the client: our handler is working (job, or next GET chunk) */
            c->last_progress_ms = now;
        } else if (now - c->last_progress_ms >= w->opts.progress_timeout_ms) {
            stall_shutdown(w, c, now);
        }
    }
    h2o_timeout_link(w->loop, &w->tick, &w->tick_entry);
}

static void on_accept_watched(h2o_socket_t *listener, const char *err)
{
    watch_t *w = listener->data;
    h2o_socket_t *sock;
    yc_conn_t *c;

    if (err != NULL || (sock = accept_one(listener)) == NULL)
        return;
    /* h2o leaves on_close of an accepted socket to its owner; an unwatched connection still serves */
    if (sock->on_close.cb == NULL && (c = calloc(1, sizeof(*c))) != NULL) {
        c->sock = sock;
        c->last_progress_ms = h2o_now(w->loop);
        h2o_linklist_insert(&w->conns, &c->link);
        sock->on_close.cb = on_sock_close;
        sock->on_close.data = c;
    }
    h2o_accept(w->accept_ctx, sock);
}

h2o_socket_t *yc_listen_start_watched(h2o_loop_t *loop, int fd, h2o_accept_ctx_t *ctx, const yc_listen_watch_t *opts)
{
    watch_t *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return yc_listen_start(loop, fd, ctx);
    w->loop = loop;
    w->accept_ctx = ctx;
    w->opts = *opts;
    h2o_linklist_init_anchor(&w->conns);
    h2o_timeout_init(loop, &w->tick, WATCH_TICK_MS);
    w->tick_entry.cb = on_tick;
    h2o_timeout_link(loop, &w->tick, &w->tick_entry);

    h2o_socket_t *listener = h2o_evloop_socket_create(loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    listener->data = w;
    h2o_socket_read_start(listener, on_accept_watched);
    return listener;
}
