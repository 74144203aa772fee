/* gw_listen.h — listening sockets for h2o loops, shared by yc-gateway and yc-store.
 *
 * Each loop binds a listener of its own to the same address (SO_REUSEPORT), so the kernel
 * spreads connections over the loops and nothing is locked on the accept path.
 */
#ifndef YC_GW_LISTEN_H
#define YC_GW_LISTEN_H
#include <h2o.h>
#include <stdint.h>

/* Opens a non-blocking IPv4 listening socket on host:port with SO_REUSEPORT; fd or -errno. */
int gw_listen_open(const char *host, uint16_t port);

/* Accepts on fd from the calling loop's thread (h2o sockets must be made on their loop's
 * thread), handing every connection to ctx with TCP_NODELAY. ctx is borrowed for good. */
h2o_socket_t *gw_listen_start(h2o_loop_t *loop, int fd, h2o_accept_ctx_t *ctx);

#endif
