/* listen.h — listening sockets for h2o loops, shared by yc-gateway and yc-store.
 *
 * Each loop binds a listener of its own to the same address (SO_REUSEPORT), so the kernel
 * spreads connections over the loops and nothing is locked on the accept path; the same goes
 * for the loops of several processes that were told to share a port. (The gateway's
 * connections are timed by its HTTP layer, common/http.h: head, body, send and keep-alive
 * timeouts.)
 *
 * Part of common/ (libcommon.a, prefix yc_): small helpers every library may use and that use
 * none of them. It has one public header per concern (log, pool, listen, server, clock, id,
 * bytes, errors, cli) rather than one for the folder, because its parts are independent.
 */
#ifndef YC_COMMON_LISTEN_H
#define YC_COMMON_LISTEN_H
#include <h2o.h>
#include <stdint.h>

/* Accepting with a door: a server that must be able to turn connections away at once, cheaply
 * and with an answer, accepts through yc_listen_door_start. Each accepted descriptor is shown to
 * refuse() first, before anything is made for it; when refuse writes an answer into buf (its
 * length returned), the connection gets those bytes and is closed: what it already sent is read
 * and dropped first, so that the close sends a FIN behind the answer rather than a reset that
 * could destroy it; a request sent later meets the reset (HTTP allows a server to close after a
 * response; clients retry a 503 either way). Otherwise the connection is made an h2o socket of
 * the loop and handed to serve (which owns it). Out of descriptors, the listener rests
 * YC_LISTEN_PAUSE_MS rather than spin on a readiness it cannot take. */
#define YC_LISTEN_PAUSE_MS   100
#define YC_LISTEN_ANSWER_MAX 1024

/* After a few refusals in one readiness, the listener rests this long (listen.c says why). */
#define YC_LISTEN_REFUSE_PAUSE_MS 4

typedef struct {
    /* 0: serve the connection; n > 0: answer it with buf[0..n) and close it. fd is the new
     * connection's (for getpeername); cap is YC_LISTEN_ANSWER_MAX. */
    size_t (*refuse)(void *arg, int fd, char *buf, size_t cap);
    /* Serves an admitted connection (an h2o socket of the loop, TCP_NODELAY set). */
    void (*serve)(void *arg, h2o_socket_t *sock);
    void *arg;
} yc_listen_door_t;

typedef struct yc_listen_door_state yc_listen_door_state_t;

/* Accepts on fd (listening, non-blocking) from the calling loop's thread through door (copied).
 * NULL on -ENOMEM. */
yc_listen_door_state_t *yc_listen_door_start(h2o_loop_t *loop, int fd, const yc_listen_door_t *door);
/* How long the first byte waiting on fd (a connection accepted through a door) has been there,
 * in ns, from the kernel's receive stamp (doors stamp what their connections receive); -1 when
 * nothing waits or the stamp cannot be read. A connection that waited in the backlog brings a
 * request that waited as long: a server keeping a latency may refuse it rather than serve it late. */
int64_t yc_listen_pending_age_ns(int fd);

/* Stops accepting, closes the listening socket and frees d; on the loop's thread. */
void yc_listen_door_free(yc_listen_door_state_t *d);

/* Connections answered and closed by the door so far (any thread). */
uint64_t yc_listen_door_refused(const yc_listen_door_state_t *d);

/* 0 when no socket listens on host:port, else -EADDRINUSE (or another -errno). The listeners of
 * yc_listen_open share their port with SO_REUSEPORT, which would also let a second server of the
 * same user bind it silently and take part of the connections; a socket without SO_REUSEPORT
 * cannot bind a port anyone listens on, so it tells. Servers meant to share a port (processes of
 * one deployment, each with its own descriptor budget) opt out of the check by their settings
 * (server.h's share_port); the kernel still keeps a port of one user from another's. */
int yc_listen_check_free(const char *host, uint16_t port);

/* Opens a non-blocking IPv4 listening socket on host:port with SO_REUSEPORT; fd or -errno. */
int yc_listen_open(const char *host, uint16_t port);

/* Accepts on fd from the calling loop's thread (h2o sockets must be made on their loop's
 * thread), handing every connection to ctx with TCP_NODELAY. ctx is borrowed for good. */
h2o_socket_t *yc_listen_start(h2o_loop_t *loop, int fd, h2o_accept_ctx_t *ctx);

#endif
