/* listen.c — SO_REUSEPORT listeners and accepting onto an h2o context (see common/listen.h). */
#include "common/listen.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

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

int yc_listen_check_free(const char *host, uint16_t port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd, one = 1, ret = 0;

    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1)
        return -EINVAL;
    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return -errno;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)); /* a connection in TIME_WAIT owns nothing */
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
        ret = -errno;
    close(fd);
    return ret;
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

/* ---------------------------------------------------------------- accepting with a door */

#define DOOR_BATCH 64 /* connections accepted per readiness of the listener */
/* Refusing is bounded in rate: after DOOR_REFUSED_PER_ROUND refusals in one readiness the listener
 * rests YC_LISTEN_REFUSE_PAUSE_MS, the rest waiting in the backlog. A crowd being turned away
 * would otherwise take the loop's thread (and its core, which the workers serving the admitted
 * requests share) for accepts, writes and closes: 10,000 refusals a second measured, the loop's
 * admitted GETs falling to a few hundred. The clients in the backlog are answered later; once it
 * is full the kernel stops completing their handshakes, which slows them as well as an answer. */
#define DOOR_REFUSED_PER_ROUND 4

struct yc_listen_door_state {
    yc_listen_door_t door;
    h2o_loop_t *loop;
    h2o_socket_t *listener;
    int fd;
    h2o_timeout_t pause, refuse_pause;
    h2o_timeout_entry_t resume;
    atomic_uint_fast64_t refused;
};

static void door_on_accept(h2o_socket_t *listener, const char *err);

/* Writes the answer and closes; everything here is non-blocking and fits the socket's buffer. */
static void door_refuse(int fd, const char *answer, size_t len)
{
    char drop[4096];

    /* what came already (a request head, a bounded look at a body): closed unread, it resets */
    for (int i = 0; i < 4 && read(fd, drop, sizeof(drop)) > 0; i++)
        ;
    ssize_t sent = write(fd, answer, len);
    (void)sent; /* a client already gone has nothing to be told */
    shutdown(fd, SHUT_WR);
    close(fd);
}

static void door_on_accept(h2o_socket_t *listener, const char *err)
{
    yc_listen_door_state_t *d = listener->data;
    char answer[YC_LISTEN_ANSWER_MAX];
    int one = 1;

    if (err != NULL)
        return;
    for (int i = 0, refused = 0; i < DOOR_BATCH && refused < DOOR_REFUSED_PER_ROUND; i++) {
        int fd = accept4(d->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                h2o_socket_read_stop(d->listener);
                h2o_timeout_link(d->loop, &d->pause, &d->resume);
            }
            return;
        }
        size_t n = d->door.refuse != NULL ? d->door.refuse(d->door.arg, fd, answer, sizeof(answer)) : 0;
        if (n > 0) {
            door_refuse(fd, answer, n <= sizeof(answer) ? n : sizeof(answer));
            atomic_fetch_add(&d->refused, 1);
            if (++refused == DOOR_REFUSED_PER_ROUND) {
                h2o_socket_read_stop(d->listener);
                h2o_timeout_link(d->loop, &d->refuse_pause, &d->resume);
            }
            continue;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        d->door.serve(d->door.arg, h2o_evloop_socket_create(d->loop, fd, H2O_SOCKET_FLAG_IS_ACCEPTED_CONNECTION));
    }
}

static void door_on_resume(h2o_timeout_entry_t *e)
{
    yc_listen_door_state_t *d = H2O_STRUCT_FROM_MEMBER(yc_listen_door_state_t, resume, e);
    h2o_socket_read_start(d->listener, door_on_accept);
}

yc_listen_door_state_t *yc_listen_door_start(h2o_loop_t *loop, int fd, const yc_listen_door_t *door)
{
    yc_listen_door_state_t *d = calloc(1, sizeof(*d));

    if (d == NULL)
        return NULL;
    d->door = *door;
    d->loop = loop;
    d->fd = fd;
    h2o_timeout_init(loop, &d->pause, YC_LISTEN_PAUSE_MS);
    h2o_timeout_init(loop, &d->refuse_pause, YC_LISTEN_REFUSE_PAUSE_MS);
    d->resume.cb = door_on_resume;
    /* receive stamps, inherited by the accepted sockets: yc_listen_pending_age_ns reads them */
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
    d->listener = h2o_evloop_socket_create(loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    d->listener->data = d;
    h2o_socket_read_start(d->listener, door_on_accept);
    return d;
}

int64_t yc_listen_pending_age_ns(int fd)
{
    char byte, control[CMSG_SPACE(sizeof(struct timespec))];
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof(control)};
    struct timespec now;

    if (recvmsg(fd, &msg, MSG_PEEK | MSG_DONTWAIT) <= 0)
        return -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
            continue;
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(c), sizeof(ts));
        clock_gettime(CLOCK_REALTIME, &now); /* the stamp's clock */
        int64_t age = (int64_t)(now.tv_sec - ts.tv_sec) * 1000000000 + (now.tv_nsec - ts.tv_nsec);
        return age > 0 ? age : 0;
    }
    return -1;
}

void yc_listen_door_free(yc_listen_door_state_t *d)
{
    if (d == NULL)
        return;
    if (h2o_timeout_is_linked(&d->resume))
        h2o_timeout_unlink(&d->resume);
    h2o_timeout_dispose(d->loop, &d->pause);
    h2o_timeout_dispose(d->loop, &d->refuse_pause);
    h2o_socket_read_stop(d->listener);
    h2o_socket_close(d->listener); /* closes fd */
    free(d);
}

uint64_t yc_listen_door_refused(const yc_listen_door_state_t *d)
{
    return atomic_load(&((yc_listen_door_state_t *)d)->refused);
}
