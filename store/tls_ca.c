/* tls_ca.c — the cluster CA and the node certificates it signs (yc-admin cluster-ca).
 *
 * Keys are ECDSA P-256 made through OpenSSL 3's EVP API: every TLS 1.2/1.3 peer takes them, and a
 * signature costs a fraction of an RSA one on the handshakes of new pooled connections. Node
 * certificates carry serverAuth and clientAuth, since the same file serves a daemon's listener and
 * a gateway's connections; the subjectAltName holds the addresses a gateway dials (its
 * drives_list), which is what it checks. Files are created with O_EXCL and mode 0600: a key is
 * never replaced silently, nor readable by other users even for a moment.
 */
#include "store/tls.h"
#include "store/store_internal.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CA_DAYS      3650
#define NODE_DAYS    365
#define PATH_CAP     4096
#define SAN_CAP      4096
#define NODE_NAMEMAX 64

static int path_join(char *out, const char *dir, const char *name, const char *ext)
{
    int n = snprintf(out, PATH_CAP, "%s/%s%s", dir, name, ext);
    return n < 0 || n >= PATH_CAP ? -ENAMETOOLONG : 0;
}

static EVP_PKEY *key_make(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* Writes a PEM file that must not exist yet: O_EXCL, 0600, synced. */
static int write_pem(const char *path, EVP_PKEY *key, X509 *cert)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), ret = 0;
    FILE *f;

    if (fd < 0)
        return -errno;
    if ((f = fdopen(fd, "w")) == NULL) {
        ret = -errno;
        close(fd);
        unlink(path);
        return ret;
    }
    if (key != NULL && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1)
        ret = -EIO;
    if (cert != NULL && PEM_write_X509(f, cert) != 1)
        ret = -EIO;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        ret = ret != 0 ? ret : -errno;
    if (fclose(f) != 0 && ret == 0)
        ret = -errno;
    if (ret != 0)
        unlink(path);
    return ret;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
        return -EINVAL;
    ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok == 1 ? 0 : -ENOMEM;
}

/* A certificate for key with subject CN=cn, valid from an hour ago (clocks differ) for days,
 * with a random positive 127-bit serial; signed later. */
static X509 *cert_make(EVP_PKEY *key, const char *cn, uint32_t days)
{
    X509 *cert = X509_new();
    X509_NAME *name;
    unsigned char serial[16];
    BIGNUM *bn = NULL;

    if (cert == NULL || RAND_bytes(serial, sizeof(serial)) != 1)
        goto fail;
    serial[0] &= 0x7f;
    serial[0] |= 0x40; /* a fixed length, and never zero */
    if ((bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == NULL)
        goto fail;
    BN_free(bn);
    bn = NULL;
    if (X509_set_version(cert, 2) != 1 || X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(cert), (int)days, 0, NULL) == NULL || X509_set_pubkey(cert, key) != 1)
        goto fail;
    name = X509_get_subject_name(cert);
    if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"yuncang cluster", -1, -1, 0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) != 1)
        goto fail;
    return cert;
fail:
    BN_free(bn);
    X509_free(cert);
    return NULL;
}

/* The key, then its certificate; a key without its certificate is removed: made just now, half a
 * pair is none. 0 or -errno, with why filled. */
static int write_pair(const char *key_path, const char *cert_path, EVP_PKEY *key, X509 *cert, char *why, size_t whylen)
{
    int ret;

    if ((ret = write_pem(key_path, key, NULL)) != 0) {
        store_set_why(why, whylen, "%s: cannot write: %s", key_path, strerror(-ret));
        return ret;
    }
    if ((ret = write_pem(cert_path, NULL, cert)) != 0) {
        store_set_why(why, whylen, "%s: cannot write: %s", cert_path, strerror(-ret));
        unlink(key_path);
    }
    return ret;
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int store_tls_ca_init(const char *dir, char *why, size_t whylen)
{
    char key_path[PATH_CAP], cert_path[PATH_CAP];
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    int ret;

    if (path_join(key_path, dir, STORE_TLS_CA_KEY, "") != 0 || path_join(cert_path, dir, STORE_TLS_CA_CERT, "") != 0) {
        store_set_why(why, whylen, "%s: path too long", dir);
        return -ENAMETOOLONG;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        ret = -errno;
        store_set_why(why, whylen, "%s: cannot make the folder: %s", dir, strerror(-ret));
        return ret;
    }
    if (exists(key_path) || exists(cert_path)) {
        store_set_why(why, whylen,
                      "%s: a cluster CA is already there (%s, %s): not replaced; remove both to make another", dir,
                      STORE_TLS_CA_KEY, STORE_TLS_CA_CERT);
        return -EEXIST;
    }
    ret = -ENOMEM;
    if ((key = key_make()) == NULL || (cert = cert_make(key, "yuncang cluster CA", CA_DAYS)) == NULL ||
        X509_set_issuer_name(cert, X509_get_subject_name(cert)) != 1)
        goto fail;
    if ((ret = add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0")) != 0 ||
        (ret = add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign")) != 0 ||
        (ret = add_ext(cert, cert, NID_subject_key_identifier, "hash")) != 0)
        goto fail;
    ret = -EIO;
    if (X509_sign(cert, key, EVP_sha256()) <= 0)
        goto fail;
    ret = write_pair(key_path, cert_path, key, cert, why, whylen);
    goto out;
fail:
    store_set_why(why, whylen, "cannot make the CA's key and certificate (OpenSSL)");
out:
    ERR_clear_error();
    X509_free(cert);
    EVP_PKEY_free(key);
    return ret;
}

static int name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > NODE_NAMEMAX || strcmp(name, "ca") == 0 || name[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

static int is_ip(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* A DNS name of the SAN: letters, digits, '-', '.', a leading "*." at most; nothing that could
 * end the SAN value (a comma) or add another entry. */
static int dns_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '-' || (ch == '*' && i == 0 && s[1] == '.')))
            return 0;
    }
    return 1;
}

/* "IP:a,DNS:b,..." for the subjectAltName; 0 or -EINVAL naming the bad entry. */
static int san_make(const store_tls_node_t *node, char *out, char *why, size_t whylen)
{
    size_t len = 0;
    int n;

    out[0] = '\0';
    for (size_t i = 0; i < node->nips; i++) {
        if (!is_ip(node->ips[i])) {
            store_set_why(why, whylen, "--ip %s: not an IPv4 or IPv6 address", node->ips[i]);
            return -EINVAL;
        }
        n = snprintf(out + len, SAN_CAP - len, "%sIP:%s", len > 0 ? "," : "", node->ips[i]);
        if (n < 0 || (size_t)n >= SAN_CAP - len)
            return -EINVAL;
        len += (size_t)n;
    }
    for (size_t i = 0; i < node->ndns; i++) {
        if (!dns_ok(node->dns[i])) {
            store_set_why(why, whylen, "--dns %s: not a host name", node->dns[i]);
            return -EINVAL;
        }
        n = snprintf(out + len, SAN_CAP - len, "%sDNS:%s", len > 0 ? "," : "", node->dns[i]);
        if (n < 0 || (size_t)n >= SAN_CAP - len)
            return -EINVAL;
        len += (size_t)n;
    }
    if (len == 0) /* the node's name is how it is reached */
        snprintf(out, SAN_CAP, "%s:%s", is_ip(node->name) ? "IP" : "DNS", node->name);
    return 0;
}

/* Reads the CA's key and certificate, checking that they belong together. */
static int ca_load(const char *dir, EVP_PKEY **key, X509 **cert, char *why, size_t whylen)
{
    char key_path[PATH_CAP], cert_path[PATH_CAP];
    FILE *f;

    if (path_join(key_path, dir, STORE_TLS_CA_KEY, "") != 0 || path_join(cert_path, dir, STORE_TLS_CA_CERT, "") != 0)
        return -ENAMETOOLONG;
    if ((f = fopen(key_path, "re")) == NULL) {
        int ret = -errno;
        store_set_why(why, whylen, "%s: %s (make the CA first: yc-admin cluster-ca init --dir %s)", key_path,
                      strerror(-ret), dir);
        return ret;
    }
    *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if ((f = fopen(cert_path, "re")) == NULL) {
        int ret = -errno;
        store_set_why(why, whylen, "%s: %s", cert_path, strerror(-ret));
        return ret;
    }
    *cert = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (*key == NULL || *cert == NULL || X509_check_private_key(*cert, *key) != 1) {
        ERR_clear_error();
        store_set_why(why, whylen, "%s: the CA's key and certificate cannot be read, or do not match", dir);
        return -EPROTO;
    }
    return 0;
}

int store_tls_ca_issue(const char *dir, const store_tls_node_t *node, char *why, size_t whylen)
{
    char key_path[PATH_CAP], cert_path[PATH_CAP];
    char *san = NULL;
    EVP_PKEY *ca_key = NULL, *key = NULL;
    X509 *ca_cert = NULL, *cert = NULL;
    int ret;

    if (node->name == NULL || !name_ok(node->name)) {
        store_set_why(why, whylen, "--node %s: a node name is 1 to 64 of A-Z a-z 0-9 . _ - (not \"ca\")",
                      node->name != NULL ? node->name : "");
        return -EINVAL;
    }
    if (path_join(key_path, dir, node->name, ".key") != 0 || path_join(cert_path, dir, node->name, ".crt") != 0) {
        store_set_why(why, whylen, "%s: path too long", dir);
        return -ENAMETOOLONG;
    }
    if ((san = malloc(SAN_CAP)) == NULL)
        return -ENOMEM;
    if ((ret = san_make(node, san, why, whylen)) != 0)
        goto out;
    if ((ret = ca_load(dir, &ca_key, &ca_cert, why, whylen)) != 0)
        goto out;
    if (exists(key_path) || exists(cert_path)) {
        store_set_why(why, whylen,
                      "%s: node %s has a key or certificate already: not replaced; remove %s.key and %s.crt "
                      "to issue again",
                      dir, node->name, node->name, node->name);
        ret = -EEXIST;
        goto out;
    }
    ret = -ENOMEM;
    if ((key = key_make()) == NULL ||
        (cert = cert_make(key, node->name, node->days != 0 ? node->days : NODE_DAYS)) == NULL ||
        X509_set_issuer_name(cert, X509_get_subject_name(ca_cert)) != 1)
        goto fail;
    if ((ret = add_ext(cert, ca_cert, NID_basic_constraints, "critical,CA:FALSE")) != 0 ||
        (ret = add_ext(cert, ca_cert, NID_key_usage, "critical,digitalSignature")) != 0 ||
        (ret = add_ext(cert, ca_cert, NID_ext_key_usage, "serverAuth,clientAuth")) != 0 ||
        (ret = add_ext(cert, ca_cert, NID_subject_key_identifier, "hash")) != 0 ||
        (ret = add_ext(cert, ca_cert, NID_authority_key_identifier, "keyid")) != 0 ||
        (ret = add_ext(cert, ca_cert, NID_subject_alt_name, san)) != 0)
        goto fail;
    ret = -EIO;
    if (X509_sign(cert, ca_key, EVP_sha256()) <= 0)
        goto fail;
    ret = write_pair(key_path, cert_path, key, cert, why, whylen);
    goto out;
fail:
    store_set_why(why, whylen, "cannot make node %s's key and certificate (OpenSSL)", node->name);
out:
    ERR_clear_error();
    free(san);
    X509_free(cert);
    EVP_PKEY_free(key);
    X509_free(ca_cert);
    EVP_PKEY_free(ca_key);
    return ret;
}
