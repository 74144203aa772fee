/* server.h — the server set-up yc-gateway and yc-store share: per event loop a thread of its own
 * with its queue of finished jobs (pool.h) and its own SO_REUSEPORT listener (listen.h), so that
 * the kernel spreads connections over the loops and no lock sits on the accept path. Each loop
 * serves its listener with h2o (one global configuration with a single handler on "/") or, when
 * the app gives on_loop, with whatever the app starts there (the HTTP layer of http.h).
 *
 * Everything of h2o that a loop owns is made on the loop's own thread: sockets take their
 * buffers from the creating thread's __thread allocator, and two loops reading into buffers from
 * one (the main thread's) would corrupt it.
 *
 * Part of common/ (libcommon.a, prefix yc_): small helpers every library may use and that use
 * none of them. It has one public header per concern (log, pool, listen, server, clock, id,
 * bytes, errors, cli) rather than one for the folder, because its parts are independent.
 */
#ifndef YC_COMMON_SERVER_H
#define YC_COMMON_SERVER_H
#include <h2o.h>
#include <stdint.h>
#include "common/listen.h"
#include "common/pool.h"

typedef struct yc_server yc_server_t;

typedef struct {
    const char *name;               /* the Server header */
    size_t max_request_entity_size; /* the largest request body h2o reads */
    uint64_t req_timeout_ms;        /* h2o's http1 timer: a whole request, and a keep-alive idle spell */
    /* Called on the request's loop for every request (h2o's on_req); returns 0 once it handled
     * or started the request. */
    int (*on_request)(void *arg, h2o_req_t *req);
    void *arg;
    /* Instead of h2o: called on each loop's thread once its loop and job queue are made, with the
     * loop's listening socket (the app serves it, e.g. yc_http_server_listen) and the loop's index;
     * non-zero stops that loop. */
    int (*on_loop)(void *arg, h2o_loop_t *loop, yc_loop_t *jobs, int listen_fd, size_t index);
    /* 1: the port may be one other processes listen on already (SO_REUSEPORT, the same user): the
     * kernel then spreads connections over their listeners and ours. 0: such a port is refused,
     * so that a second server cannot silently take part of the connections (listen.h). */
    int share_port;
} yc_server_config_t;

/* Makes the configuration (*cfg is copied); nothing listens or runs yet. 0 or -ENOMEM. */
int yc_server_new(const yc_server_config_t *cfg, yc_server_t **out);
/* Opens one listening socket on host:port per loop: 0 or -errno, -EADDRINUSE when another socket
 * listens there already and share_port is off, or when it does not share the port (no
 * SO_REUSEPORT, another user). The sockets opened so far are closed by yc_server_free. Loops are
 * not started yet: a start-up can still fail and go. */
int yc_server_listen(yc_server_t *s, const char *host, uint16_t port, size_t nloops);
/* Starts a thread per listening socket that runs its loop until the process ends. 0, or -EAGAIN
 * when a thread could not be started (those started run on). */
int yc_server_start(yc_server_t *s);
/* Loops started so far. */
size_t yc_server_started(const yc_server_t *s);
/* The job queue of the loop a request came in on: the loop a worker's job for it goes back to.
 * For requests of a yc_server_t only. */
yc_loop_t *yc_server_loop_of(h2o_req_t *req);
/* How long ready events wait on a loop of a yc_server_t, in ns: the smoothed length of its last
 * iterations (from its poll's return to the end of its callbacks); millisecond precision, reads
 * up to 1 ms long. jobs is the loop's queue as on_loop got it; any thread may ask (the basis of
 * load shedding: the loop itself asks when a request or a connection comes). */
int64_t yc_server_loop_lag_ns(yc_loop_t *jobs);
/* How long the iteration the loop of jobs runs has been running (since its poll returned), in ns,
 * millisecond precision. The loop's own thread only. A long one is a loop behind — or a thread
 * the scheduler paused: the caller tells them apart (e.g. by the work it saw in the iteration). */
int64_t yc_server_iteration_age_ns(yc_loop_t *jobs);
/* Makes every loop end after the events it is woken for next (it takes no more connections). */
void yc_server_stop(yc_server_t *s);
/* Frees s when no loop was started, closing its sockets. Loops that run are left to the exit that
 * follows: h2o has no way to stop a loop blocked in epoll from outside, and they use s. */
void yc_server_free(yc_server_t *s);

#endif
