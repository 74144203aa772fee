/* server.h — the yc-store daemon: serves the drives of one disk node to gateways over the
 * network transport of client.h (wire format in client_net.c). The design is in server.c.
 */
#ifndef YC_STORE_SERVER_H
#define YC_STORE_SERVER_H
#include <stddef.h>
#include <stdint.h>
#include "common/pool.h"

typedef struct store_server store_server_t;

typedef struct {
    const char *listen_host; /* IPv4 address to bind */
    uint16_t listen_port;
    const char *const *drive_names; /* name on the wire of each drive: [A-Za-z0-9._-]{1,64} */
    const char *const *drive_dirs;  /* its folder (made when missing; its parent must exist) */
    size_t ndrives;
    const char *secret;      /* cluster secret (copied; never logged) */
    size_t secret_len;       /* 0: strlen(secret) */
    size_t loops;            /* event loops, one listener each (SO_REUSEPORT); 0: one per core */
    yc_pool_t *pool;         /* workers that run every drive call (borrowed; outlives the server) */
    uint32_t writer_idle_ms; /* a shard writer with no call for this long is aborted; default 120000 */
    uint32_t keepalive_ms;   /* idle keep-alive connections are closed after this; default 30000 */
    /* HTTP limits (0: the default). A transfer that moves is never cut, however slow. */
    uint32_t head_timeout_ms; /* a request's head must arrive within this; default 10000 */
    uint32_t body_timeout_ms; /* a body we wait for that moves no byte this long fails; default 30000 */
    uint32_t send_timeout_ms; /* an answer the client takes no byte of this long fails; default 30000 */
    size_t max_connections;   /* per loop; default: the fd limit shared out */
    size_t small_body_max;    /* bodies read whole (all but shard appends), larger: 413; default 8 MiB */
    size_t stream_buffer;     /* each of a streamed request's two buffers; default 256 KiB */
    uint64_t orphan_grace_s;  /* shard files without a record are removed once this old; 0: 3600 */
    uint64_t drive_reserve;   /* bytes each drive keeps free; 0: automatic (STORE_RESERVE_AUTO) */
    /* Internode TLS (store/tls.h), all three or none: every connection is then TLS with this
     * certificate chain and key (PEM), and must present a certificate signed by the cluster CA
     * (tls_ca, PEM; a bundle while the CA is rotated); others end in the handshake. */
    const char *tls_cert;
    const char *tls_key;
    const char *tls_ca;
} store_server_config_t;

/* Checks that the port is free, prepares and opens every drive (store_identity_open, then the
 * engine), binds the listeners and starts the loops; returns once requests are being served.
 * On failure why (may be NULL) gets one line naming the cause: the drive, its path and the OS
 * error, or the address and why it cannot be bound. Nothing is logged about the failure. */
int store_server_start(const store_server_config_t *cfg, store_server_t **out, char *why, size_t whylen);
/* From now on requests are answered 503 on their loop and nothing more reaches the pool, so
 * that the caller can then drain and free the pool. */
void store_server_stop(store_server_t *s);
/* Stops reaping writers, aborts the open ones and closes the drives. Call it after
 * store_server_stop and once the pool ran every job it had. The process exits right after:
 * h2o offers no way to stop a loop blocked in epoll from outside, so loops are left to it. */
void store_server_free(store_server_t *s);

#endif
