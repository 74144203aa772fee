/* tls_client.c — the TLS context of a gateway's connections to yc-store daemons.
 *
 * One SSL_CTX per gateway, shared by every remote drive's connections: the gateway's certificate
 * and key, and the cluster CA as the only trust anchor (the system's CAs are never loaded: a
 * certificate from a public CA must not pass for a daemon). Each connection checks the daemon's
 * certificate against the address or name the gateway dialled (an IP address against the
 * iPAddress entries of the subjectAltName, a name against the DNS ones).
 *
 * Resumption: a daemon hands out session tickets; the newest one per daemon is kept
 * (store_tls_resume_t, found from the SSL through ex_data) and offered by its next connection,
 * which then skips the certificate exchange and signatures. The ex_data index is made once per
 * process.
 */
#include "store/tls_internal.h"
#include "store/store_internal.h"
#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct store_tls {
    SSL_CTX *ctx;
};

/* made once per process (pthread_once): the SSL's slot for its store_tls_resume_t */
static pthread_once_t resume_once = PTHREAD_ONCE_INIT;
static int resume_index = -1;

static void resume_index_make(void)
{
    resume_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* A new session from the daemon: it replaces the one kept. 1: the reference is ours. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
    store_tls_resume_t *r = resume_index >= 0 ? SSL_get_ex_data(ssl, resume_index) : NULL;
    SSL_SESSION *old;

    if (r == NULL)
        return 0;
    pthread_mutex_lock(&r->mutex);
    old = r->session;
    r->session = sess;
    pthread_mutex_unlock(&r->mutex);
    SSL_SESSION_free(old);
    return 1;
}

int store_tls_client_new(const char *cert_file, const char *key_file, const char *ca_file, store_tls_t **out, char *why,
                         size_t whylen)
{
    const char *files[] = {cert_file, key_file, ca_file};
    store_tls_t *t;
    int ret = -EPROTO;

    for (size_t i = 0; i < 3; i++) {
        if (files[i] == NULL || access(files[i], R_OK) != 0) {
            store_set_why(why, whylen, "%s: %s", files[i] != NULL ? files[i] : "(none)",
                          files[i] != NULL ? strerror(errno) : "internode TLS needs a certificate, its key and the CA");
            return -ENOENT;
        }
    }
    pthread_once(&resume_once, resume_index_make);
    if (resume_index < 0 || (t = calloc(1, sizeof(*t))) == NULL)
        return -ENOMEM;
    if ((t->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
        free(t);
        return -ENOMEM;
    }
    if (SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(t->ctx, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!eNULL:!SHA1") != 1) {
        store_set_why(why, whylen, "cannot set up TLS (OpenSSL)");
        goto fail;
    }
    SSL_CTX_set_options(t->ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(t->ctx, SSL_MODE_RELEASE_BUFFERS); /* idle pooled connections hold no record buffers */
    /* a record's header and body in one read(2), and as many records as the socket holds: a shard
     * read is thousands of 16 KiB records, otherwise two system calls each */
    SSL_CTX_set_read_ahead(t->ctx, 1);
    if (SSL_CTX_use_certificate_chain_file(t->ctx, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(t->ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(t->ctx) != 1) {
        store_set_why(why, whylen, "%s, %s: not a PEM certificate and its private key", cert_file, key_file);
        goto fail;
    }
    if (SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL) != 1) {
        store_set_why(why, whylen, "%s: not a PEM CA certificate", ca_file);
        goto fail;
    }
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
    /* the client's cache is the per-daemon slot, not OpenSSL's internal one */
    SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(t->ctx, on_new_session);
    ERR_clear_error();
    *out = t;
    return 0;

fail:
    ERR_clear_error();
    store_tls_free(t);
    return ret;
}

void store_tls_free(store_tls_t *t)
{
    if (t == NULL)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}

void store_tls_resume_init(store_tls_resume_t *r)
{
    pthread_mutex_init(&r->mutex, NULL);
    r->session = NULL;
}

void store_tls_resume_dispose(store_tls_resume_t *r)
{
    SSL_SESSION_free(r->session);
    r->session = NULL;
    pthread_mutex_destroy(&r->mutex);
}

SSL *store_tls_ssl_new(const store_tls_t *t, int fd, const char *host, store_tls_resume_t *r)
{
    unsigned char addr[16];
    SSL *ssl = SSL_new(t->ctx);
    int is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1, ok;

    if (ssl == NULL)
        return NULL;
    /* the daemon's certificate must name what we dialled; SNI only for names (RFC 6066) */
    if (is_ip)
        ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1;
    else
        ok = SSL_set1_host(ssl, host) == 1 && SSL_set_tlsext_host_name(ssl, host) == 1;
    if (!ok || SSL_set_fd(ssl, fd) != 1 || SSL_set_ex_data(ssl, resume_index, r) != 1) {
        ERR_clear_error();
        SSL_free(ssl);
        return NULL;
    }
    pthread_mutex_lock(&r->mutex);
    if (r->session != NULL)
        SSL_set_session(ssl, r->session); /* a refused resumption is a full handshake */
    pthread_mutex_unlock(&r->mutex);
    return ssl;
}

void store_tls_describe_failure(SSL *ssl, int err, int saved_errno, char *out, size_t len)
{
    long verify = SSL_get_verify_result(ssl);
    unsigned long e = ERR_peek_last_error();

    if (verify != X509_V_OK) {
        snprintf(out, len,
                 "the daemon's certificate was refused: %s (is it signed by this cluster's CA, "
                 "for this address?)",
                 X509_verify_cert_error_string(verify));
    } else if (e != 0 && ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_WRONG_VERSION_NUMBER) {
        snprintf(out, len,
                 "the daemon does not speak TLS: turn its internode TLS on (--tls-cert, --tls-key, "
                 "--tls-ca), or this gateway's off");
    } else if (e != 0 && ERR_GET_LIB(e) == ERR_LIB_SSL &&
               (ERR_GET_REASON(e) == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED ||
                ERR_GET_REASON(e) == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE ||
                ERR_GET_REASON(e) == SSL_R_TLSV1_ALERT_UNKNOWN_CA ||
                ERR_GET_REASON(e) == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN)) {
        snprintf(out, len, "the daemon refused this gateway's certificate (signed by another CA?)");
    } else if (e != 0) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof(buf));
        snprintf(out, len, "TLS handshake failed: %s", buf);
    } else if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN) {
        snprintf(out, len, "the daemon closed the connection during the TLS handshake%s%s",
                 saved_errno != 0 ? ": " : "", saved_errno != 0 ? strerror(saved_errno) : "");
    } else {
        snprintf(out, len, "TLS handshake failed");
    }
    ERR_clear_error();
}
