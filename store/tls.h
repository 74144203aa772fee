/* tls.h — mutual TLS between gateways and yc-store daemons: the cluster CA and the node
 * certificates it signs (tls_ca.c, for yc-admin cluster-ca), and the context a gateway's
 * connections to the daemons use (tls_client.c). The daemon's side is common/http.h's TLS with
 * tls_client_ca_file set.
 *
 * Trust: one cluster CA, the only anchor on both sides. A daemon takes a connection only from a
 * certificate the CA signed; a gateway takes a daemon only when its certificate is signed by the CA
 * and names the address (or host name) the gateway dialled, so a certificate stolen from one node
 * does not let its holder stand in for another. The request HMAC and the answer tags stay on top
 * (client_net.c): TLS protects the link, the tags bind each answer to its request and drive.
 */
#ifndef YC_STORE_TLS_H
#define YC_STORE_TLS_H
#include <stddef.h>
#include <stdint.h>

typedef struct store_tls store_tls_t;

/* The files in a CA folder: the CA's key and certificate, and NAME.key / NAME.crt per node. */
#define STORE_TLS_CA_KEY  "ca.key"
#define STORE_TLS_CA_CERT "ca.crt"

/* A node certificate to issue. The names in the subjectAltName: ips (IPv4 or IPv6 text) and dns;
 * with neither, the node's name (as an IP address when it is one, else as a DNS name). */
typedef struct {
    const char *name; /* [A-Za-z0-9._-]{1,64}, not "ca": the files' and the certificate's name */
    const char *const *ips;
    size_t nips;
    const char *const *dns;
    size_t ndns;
    uint32_t days; /* validity; 0: 365 */
} store_tls_node_t;

/* Makes a cluster CA in dir (made 0700 when missing): an ECDSA P-256 key and a self-signed
 * certificate (CA:TRUE, keyCertSign, 10 years), both files 0600. Never overwrites: -EEXIST when
 * either file is already there. 0 or -errno; why (may be NULL) gets one line naming the cause. */
int store_tls_ca_init(const char *dir, char *why, size_t whylen);

/* Issues node's key (ECDSA P-256) and certificate signed by dir's CA (CA:FALSE,
 * digitalSignature, serverAuth and clientAuth: a gateway presents one as a daemon does),
 * written as dir/NAME.key and dir/NAME.crt, 0600. -EEXIST when either is there, -ENOENT without a
 * CA, -EINVAL for a bad name or address. */
int store_tls_ca_issue(const char *dir, const store_tls_node_t *node, char *why, size_t whylen);

/* The client context of a gateway's internode connections: its certificate chain and key (PEM),
 * and the cluster CA's certificate (PEM, a bundle while a CA is rotated) as the only trust
 * anchor. Checks that the files read and that key and certificate match. 0, -ENOENT (a file
 * cannot be read), -EPROTO (not usable), -ENOMEM; why as above. Shared by every remote client
 * (borrowed by them: freed after the last). */
int store_tls_client_new(const char *cert_file, const char *key_file, const char *ca_file, store_tls_t **out, char *why,
                         size_t whylen);
void store_tls_free(store_tls_t *t);

#endif
