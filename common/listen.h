/* listen.h — listening sockets for h2o loops, shared by yc-gateway and yc-store, and the
 * gateway's progress watchdog over the connections it accepts.
 *
 * Each loop binds a listener of its own to the same address (SO_REUSEPORT), so the kernel
 * spreads connections over the loops and nothing is locked on the accept path.
 *
 * Progress watchdog. h2o 2.2.5 bounds the time to read a whole request (and a keep-alive idle
 * spell) with one timer, http1.req_timeout: an upload slower than size/timeout is cut however
 * steadily it flows. The gateway sets that timer out of the way and watches progress instead:
 * every accepted socket is tracked on its loop, and once a second the loop reads the kernel's
 * counters of each one (TCP_INFO: bytes received, bytes the client acknowledged; the send queue).
 * A connection made progress when any of them changed: the client sent something, took some of
 * an answer, or we handed it more. A connection whose request our handler is working on (held by
 * a request of ours, and nothing queued for the client: a worker job, a GET waiting for its next
 * chunk) is busy, not stalled. A connection that made no progress for progress_timeout and is not
 * busy is shut down (shutdown(2), both ways): h2o then sees the end of the stream or a failed
 * write and tears the connection down through its own path — a socket of h2o is never closed
 * from outside. This bounds idle keep-alive connections the same way, and a reader that stopped
 * reading. A connection that stalled inside a request (bytes received since the last request of
 * ours ended, and nothing queued for the client, so h2o is only reading) is first answered 400
 * RequestTimeout, as S3 answers, written to the socket directly: h2o has nothing of its own to
 * write at that point.
 *
 * Everything here runs on the connection's loop thread: no lock.
 *
 * Part of common/ (libcommon.a, prefix yc_): small helpers every library may use and that use
 * none of them. It has one public header per concern (log, pool, listen, server, clock, id,
 * bytes, errors, cli) rather than one for the folder, because its parts are independent.
 */
#ifndef YC_COMMON_LISTEN_H
#define YC_COMMON_LISTEN_H
#include <h2o.h>
#include <stdint.h>

typedef struct yc_conn yc_conn_t;

/* Opens a non-blocking IPv4 listening socket on host:port with SO_REUSEPORT; fd or -errno. */
int yc_listen_open(const char *host, uint16_t port);

/* Accepts on fd from the calling loop's thread (h2o sockets must be made on their loop's
 * thread), handing every connection to ctx with TCP_NODELAY. ctx is borrowed for good. */
h2o_socket_t *yc_listen_start(h2o_loop_t *loop, int fd, h2o_accept_ctx_t *ctx);

/* What the progress watchdog does. */
typedef struct {
    uint64_t progress_timeout_ms;
    /* Fills out (cap bytes) with the whole HTTP response for a request cut off half-way (S3's
     * RequestTimeout) from client ("address:port") after bytes_in bytes, and returns its length;
     * 0 sends none. Called on the loop; may be NULL. */
    size_t (*stalled_request_response)(void *arg, const char *client, uint64_t bytes_in, char *out, size_t cap);
    void *arg;
} yc_listen_watch_t;

/* Same as yc_listen_start, and watches every accepted connection for progress: one stalled for
 * progress_timeout_ms (and not busy) is shut down, after a RequestTimeout answer when it stalled
 * inside a request. Call on the loop's thread; the watch (*opts is copied) lives as long as the
 * loop. */
h2o_socket_t *yc_listen_start_watched(h2o_loop_t *loop, int fd, h2o_accept_ctx_t *ctx, const yc_listen_watch_t *opts);

/* Marks the connection of a request as busy with a request of ours until the matching release,
 * and returns it (NULL when the connection is not watched). Loop thread only. */
yc_conn_t *yc_listen_conn_hold(h2o_conn_t *conn);

/* Ends a hold; the tracking record of a connection closed meanwhile is freed with the last hold.
 * NULL is ignored. Loop thread only. */
void yc_listen_conn_release(yc_conn_t *c);

#endif
