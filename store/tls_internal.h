/* tls_internal.h — what the network transport's connections (net_conn.c) use of the client TLS
 * context (tls_client.c).
 */
#ifndef YC_STORE_TLS_INTERNAL_H
#define YC_STORE_TLS_INTERNAL_H
#include <openssl/ssl.h>
#include <pthread.h>
#include <stddef.h>
#include "store/tls.h"

/* The session a daemon's connections resume (TLS 1.3 tickets, 1.2 sessions): one per daemon, the
 * newest the daemon gave, so that a new pooled connection costs no full handshake. */
typedef struct {
    pthread_mutex_t mutex;
    SSL_SESSION *session;
} store_tls_resume_t;

void store_tls_resume_init(store_tls_resume_t *r);
void store_tls_resume_dispose(store_tls_resume_t *r);

/* A client SSL on the connected socket fd, to reach host (an address or a name, checked against
 * the daemon's certificate), offering r's session and keeping the new ones in r (which must
 * outlive the SSL). NULL when out of memory. The handshake is the caller's (SSL_connect). */
SSL *store_tls_ssl_new(const store_tls_t *t, int fd, const char *host, store_tls_resume_t *r);

/* One line on why a handshake on ssl failed (err: SSL_get_error's answer, errno kept), from the
 * verify result or OpenSSL's error queue, which it clears. */
void store_tls_describe_failure(SSL *ssl, int err, int saved_errno, char *out, size_t len);

#endif
