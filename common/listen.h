/* listen.h — listening sockets for h2o loops, shared by yc-gateway and yc-store.
 *
 * Each loop binds a listener of its own to the same address (SO_REUSEPORT), so the kernel
 * spreads connections over the loops and nothing is locked on the accept path. (The gateway's
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

/* Opens a non-blocking IPv4 listening socket on host:port with SO_REUSEPORT; fd or -errno. */
int yc_listen_open(const char *host, uint16_t port);

/* Accepts on fd from the calling loop's thread (h2o sockets must be made on their loop's
 * thread), handing every connection to ctx with TCP_NODELAY. ctx is borrowed for good. */
h2o_socket_t *yc_listen_start(h2o_loop_t *loop, int fd, h2o_accept_ctx_t *ctx);

#endif
