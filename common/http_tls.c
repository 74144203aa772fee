/* http_tls.c — TLS for the HTTP layer: the SSL_CTX (TLS 1.2 and 1.3, certificate chain and key
 * from files, ALPN) and what a connection asks after its handshake.
 *
 * Why h2o's TLS rather than driving OpenSSL ourselves. h2o 2.2.5's socket layer already runs a
 * server handshake on a non-blocking socket (h2o_socket_ssl_handshake), decrypts what it reads
 * into the socket's input buffer, encrypts what h2o_socket_write sends and sends close_notify on
 * close; its ALPN selection callback (h2o_ssl_register_alpn_protocols) picks the server's
 * preference among the client's offers. The HTTP/1.1 and HTTP/2 code then sees decrypted bytes
 * in the same buffer as on a cleartext socket. The price: h2o's reader reads the socket until
 * the kernel has nothing left and decrypts it all, so a TLS connection's reads are bounded by the
 * kernel's receive buffer rather than read_chunk_bytes; back-pressure is unchanged (nothing is
 * read while the app holds a body chunk). Driving OpenSSL through memory BIOs would bound reads
 * exactly but means our own record I/O, write queue and shutdown: more code to get wrong for a
 * bound the kernel already gives.
 *
 * One SSL_CTX per distinct certificate/key pair and process, shared by the servers (one per
 * event loop) that name the pair. SSL_CTX is safe to share between threads once set up, a
 * certificate is parsed once, and above all session tickets are encrypted with the context's
 * keys: with one context per loop, a client resuming its session would land (SO_REUSEPORT) on
 * another loop whose context cannot read its ticket, and do a full handshake each time. The
 * table of contexts is the one piece of process-wide state here: built by yc_http_server_new,
 * guarded by a mutex, each context freed with the last server that uses it.
 */
#include "common/http_internal.h"
#include <errno.h>
#include <openssl/err.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct tls_entry {
    struct tls_entry *next;
    char *cert_file, *key_file, *client_ca_file; /* client_ca_file: "" when none */
    int http2;
    size_t refs;
    SSL_CTX *ctx;
} tls_entry_t;

/* process-wide: the contexts made so far (see above) */
static pthread_mutex_t tls_lock = PTHREAD_MUTEX_INITIALIZER;
static tls_entry_t *tls_entries;

/* ALPN in the server's order of preference; h2o keeps the pointer, so the tables are static. */
static const h2o_iovec_t alpn_h2[] = {{H2O_STRLIT("h2")}, {H2O_STRLIT("http/1.1")}, {NULL, 0}};
static const h2o_iovec_t alpn_h1[] = {{H2O_STRLIT("http/1.1")}, {NULL, 0}};

/* Mutual TLS: only certificates signed by the CAs of ca_file are taken, and one is required. A
 * session id context is set because OpenSSL refuses to resume a session of a server that verifies
 * its clients without one (the handshake would fail, not merely go full). */
static int ctx_require_client_cert(SSL_CTX *ctx, const char *ca_file)
{
    static const unsigned char sid_ctx[] = "yc-mtls";

    if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
        return -EPROTO;
    SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(ca_file)); /* the context owns the list */
    if (SSL_CTX_get_client_CA_list(ctx) == NULL)
        return -EPROTO;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    if (SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1) != 1)
        return -EPROTO;
    return 0;
}

static int ctx_make(const char *cert_file, const char *key_file, const char *client_ca_file, int http2, SSL_CTX **out)
{
    SSL_CTX *ctx;
    int ret = -EPROTO;

    if (access(cert_file, R_OK) != 0 || access(key_file, R_OK) != 0 ||
        (client_ca_file[0] != '\0' && access(client_ca_file, R_OK) != 0))
        return -ENOENT;
    if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
        return -ENOMEM;
    /* TLS 1.0 and 1.1 are refused at the handshake; compression and renegotiation are off (CRIME,
     * renegotiation floods); the server's cipher order wins for TLS 1.2 */
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
        goto fail;
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
    if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!SHA1") != 1)
        goto fail;
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1)
        goto fail;
    if (client_ca_file[0] != '\0' && ctx_require_client_cert(ctx, client_ca_file) != 0)
        goto fail;
    h2o_ssl_register_alpn_protocols(ctx, http2 ? alpn_h2 : alpn_h1);
    *out = ctx;
    return 0;
fail:
    ERR_clear_error(); /* the thread's error queue would otherwise blame a later, unrelated call */
    SSL_CTX_free(ctx);
    return ret;
}

int yc_http_tls_ctx_get(const char *cert_file, const char *key_file, const char *client_ca_file, int http2,
                        SSL_CTX **out)
{
    tls_entry_t *e;
    int ret = 0;

    http2 = http2 != 0;
    if (client_ca_file == NULL)
        client_ca_file = "";
    pthread_mutex_lock(&tls_lock);
    for (e = tls_entries; e != NULL; e = e->next)
        if (e->http2 == http2 && strcmp(e->cert_file, cert_file) == 0 && strcmp(e->key_file, key_file) == 0 &&
            strcmp(e->client_ca_file, client_ca_file) == 0)
            break;
    if (e == NULL) {
        if ((e = calloc(1, sizeof(*e))) == NULL || (e->cert_file = strdup(cert_file)) == NULL ||
            (e->key_file = strdup(key_file)) == NULL || (e->client_ca_file = strdup(client_ca_file)) == NULL) {
            ret = -ENOMEM;
        } else {
            ret = ctx_make(cert_file, key_file, client_ca_file, http2, &e->ctx);
        }
        if (ret != 0) {
            if (e != NULL) {
                free(e->cert_file);
                free(e->key_file);
                free(e->client_ca_file);
                free(e);
            }
            pthread_mutex_unlock(&tls_lock);
            return ret;
        }
        e->http2 = http2;
        e->next = tls_entries;
        tls_entries = e;
    }
    e->refs++;
    *out = e->ctx;
    pthread_mutex_unlock(&tls_lock);
    return 0;
}

void yc_http_tls_ctx_put(SSL_CTX *ctx)
{
    tls_entry_t **p;

    if (ctx == NULL)
        return;
    pthread_mutex_lock(&tls_lock);
    for (p = &tls_entries; *p != NULL; p = &(*p)->next) {
        tls_entry_t *e = *p;
        if (e->ctx != ctx)
            continue;
        if (--e->refs == 0) {
            *p = e->next;
            SSL_CTX_free(e->ctx);
            free(e->cert_file);
            free(e->key_file);
            free(e->client_ca_file);
            free(e);
        }
        break;
    }
    pthread_mutex_unlock(&tls_lock);
}

int yc_http_tls_selected_h2(h2o_socket_t *sock)
{
    h2o_iovec_t proto = h2o_socket_ssl_get_selected_protocol(sock);
    return proto.len == 2 && memcmp(proto.base, "h2", 2) == 0;
}
