/* test_store_tls.c — the cluster CA and node certificates (store/tls.h): what yc-admin
 * cluster-ca writes verifies against the CA, carries the addresses asked for, is 0600, and is never
 * overwritten; the client context takes the files and refuses a key of another certificate.
 */
#include <errno.h>
#include <ftw.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "store/tls.h"
#include "tests/unit/unit.h"

static char root[64];

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void path_of(char *out, size_t len, const char *dir, const char *file)
{
    snprintf(out, len, "%s/%s/%s", root, dir, file);
}

static X509 *read_cert(const char *dir, const char *file)
{
    char p[256];
    FILE *f;
    X509 *x;

    path_of(p, sizeof(p), dir, file);
    if ((f = fopen(p, "r")) == NULL)
        return NULL;
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return x;
}

static int mode_of(const char *dir, const char *file)
{
    char p[256];
    struct stat st;
    path_of(p, sizeof(p), dir, file);
    return stat(p, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

/* 1 when cert verifies against ca alone (the only trust anchor), for the purpose given. */
static int verifies(X509 *ca, X509 *cert, int purpose)
{
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = store != NULL && ctx != NULL && X509_STORE_add_cert(store, ca) == 1 &&
             X509_STORE_CTX_init(ctx, store, cert, NULL) == 1 && X509_STORE_CTX_set_purpose(ctx, purpose) == 1 &&
             X509_verify_cert(ctx) == 1;
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    return ok;
}

static char dir_a[128], dir_b[128];

static void make_dirs(void)
{
    snprintf(dir_a, sizeof(dir_a), "%s/a", root);
    snprintf(dir_b, sizeof(dir_b), "%s/b", root);
}

TEST(test_tls_ca_init_makes_a_self_signed_ca_in_private_files)
{
    char why[512];
    CHECK_EQ_INT(store_tls_ca_init(dir_a, why, sizeof(why)), 0);
    X509 *ca = read_cert("a", STORE_TLS_CA_CERT);
    CHECK(ca != NULL);
    CHECK_EQ_INT(X509_check_ca(ca), 1);
    CHECK(verifies(ca, ca, X509_PURPOSE_ANY));
    CHECK_EQ_INT(mode_of("a", STORE_TLS_CA_KEY), 0600);
    CHECK_EQ_INT(mode_of("a", STORE_TLS_CA_CERT), 0600);
    X509_free(ca);
}

TEST(test_tls_ca_init_never_overwrites_a_ca)
{
    char why[512], p[256];
    struct stat before, after;

    path_of(p, sizeof(p), "a", STORE_TLS_CA_KEY);
    CHECK_EQ_INT(stat(p, &before), 0);
    CHECK_EQ_INT(store_tls_ca_init(dir_a, why, sizeof(why)), -EEXIST);
    CHECK(strstr(why, "not replaced") != NULL);
    CHECK_EQ_INT(stat(p, &after), 0);
    CHECK(before.st_ino == after.st_ino && before.st_mtim.tv_nsec == after.st_mtim.tv_nsec);
}

TEST(test_tls_ca_issue_signs_a_node_certificate_with_its_addresses)
{
    const char *ips[] = {"127.0.0.1", "::1"}, *dns[] = {"store1.example"};
    store_tls_node_t n = {.name = "store1", .ips = ips, .nips = 2, .dns = dns, .ndns = 1};
    char why[512];

    CHECK_EQ_INT(store_tls_ca_issue(dir_a, &n, why, sizeof(why)), 0);
    X509 *ca = read_cert("a", STORE_TLS_CA_CERT), *cert = read_cert("a", "store1.crt");
    CHECK(ca != NULL && cert != NULL);
    /* a daemon's listener and a gateway's connections use the same certificate */
    CHECK(verifies(ca, cert, X509_PURPOSE_SSL_SERVER));
    CHECK(verifies(ca, cert, X509_PURPOSE_SSL_CLIENT));
    CHECK_EQ_INT(X509_check_ca(cert), 0);
    CHECK_EQ_INT(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
    CHECK_EQ_INT(X509_check_ip_asc(cert, "::1", 0), 1);
    CHECK_EQ_INT(X509_check_ip_asc(cert, "127.0.0.2", 0), 0);
    CHECK_EQ_INT(X509_check_host(cert, "store1.example", 0, 0, NULL), 1);
    CHECK_EQ_INT(X509_check_host(cert, "store2.example", 0, 0, NULL), 0);
    CHECK_EQ_INT(mode_of("a", "store1.key"), 0600);
    CHECK_EQ_INT(mode_of("a", "store1.crt"), 0600);
    X509_free(cert);
    X509_free(ca);
}

TEST(test_tls_ca_issue_names_the_node_when_no_address_is_given)
{
    store_tls_node_t byname = {.name = "gw.internal"}, byip = {.name = "10.1.2.3"};
    char why[512];

    CHECK_EQ_INT(store_tls_ca_issue(dir_a, &byname, why, sizeof(why)), 0);
    CHECK_EQ_INT(store_tls_ca_issue(dir_a, &byip, why, sizeof(why)), 0);
    X509 *c1 = read_cert("a", "gw.internal.crt"), *c2 = read_cert("a", "10.1.2.3.crt");
    CHECK(c1 != NULL && c2 != NULL);
    CHECK_EQ_INT(X509_check_host(c1, "gw.internal", 0, 0, NULL), 1);
    CHECK_EQ_INT(X509_check_ip_asc(c2, "10.1.2.3", 0), 1);
    X509_free(c1);
    X509_free(c2);
}

TEST(test_tls_ca_issue_refuses_bad_names_an_existing_node_and_a_missing_ca)
{
    const char *bad_ip[] = {"1.2.3"}, *bad_dns[] = {"a,DNS:evil"};
    store_tls_node_t n = {.name = "store1"};
    char why[512];

    CHECK_EQ_INT(store_tls_ca_issue(dir_a, &n, why, sizeof(why)), -EEXIST);
    n.name = "../x";
    CHECK_EQ_INT(store_tls_ca_issue(dir_a, &n, why, sizeof(why)), -EINVAL);
    n.name = "ca";
    CHECK_EQ_INT(store_tls_ca_issue(dir_a, &n, why, sizeof(why)), -EINVAL);
    n = (store_tls_node_t){.name = "n2", .ips = bad_ip, .nips = 1};
    CHECK_EQ_INT(store_tls_ca_issue(dir_a, &n, why, sizeof(why)), -EINVAL);
    n = (store_tls_node_t){.name = "n2", .dns = bad_dns, .ndns = 1};
    CHECK_EQ_INT(store_tls_ca_issue(dir_a, &n, why, sizeof(why)), -EINVAL);
    n = (store_tls_node_t){.name = "n2"};
    CHECK_EQ_INT(store_tls_ca_issue(dir_b, &n, why, sizeof(why)), -ENOENT); /* no CA there */
    CHECK(strstr(why, "cluster-ca init") != NULL);
}

TEST(test_tls_certificate_of_another_ca_does_not_verify)
{
    store_tls_node_t n = {.name = "intruder"};
    char why[512];

    CHECK_EQ_INT(store_tls_ca_init(dir_b, why, sizeof(why)), 0);
    CHECK_EQ_INT(store_tls_ca_issue(dir_b, &n, why, sizeof(why)), 0);
    X509 *ours = read_cert("a", STORE_TLS_CA_CERT), *theirs = read_cert("b", "intruder.crt");
    CHECK(ours != NULL && theirs != NULL);
    CHECK(!verifies(ours, theirs, X509_PURPOSE_SSL_CLIENT));
    X509_free(ours);
    X509_free(theirs);
}

TEST(test_tls_client_context_loads_issued_files_and_refuses_a_foreign_key)
{
    char crt[256], key[256], ca[256], other_key[256], why[512];
    store_tls_t *t = NULL;

    path_of(crt, sizeof(crt), "a", "store1.crt");
    path_of(key, sizeof(key), "a", "store1.key");
    path_of(ca, sizeof(ca), "a", STORE_TLS_CA_CERT);
    path_of(other_key, sizeof(other_key), "b", "intruder.key");
    CHECK_EQ_INT(store_tls_client_new(crt, key, ca, &t, why, sizeof(why)), 0);
    store_tls_free(t);
    CHECK_EQ_INT(store_tls_client_new(crt, other_key, ca, &t, why, sizeof(why)), -EPROTO);
    CHECK_EQ_INT(store_tls_client_new(crt, key, "/nonexistent/ca.crt", &t, why, sizeof(why)), -ENOENT);
}

int main(void)
{
    snprintf(root, sizeof(root), "/tmp/yc-test-tls-XXXXXX");
    if (mkdtemp(root) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    make_dirs();
    RUN(test_tls_ca_init_makes_a_self_signed_ca_in_private_files);
    RUN(test_tls_ca_init_never_overwrites_a_ca);
    RUN(test_tls_ca_issue_signs_a_node_certificate_with_its_addresses);
    RUN(test_tls_ca_issue_names_the_node_when_no_address_is_given);
    RUN(test_tls_ca_issue_refuses_bad_names_an_existing_node_and_a_missing_ca);
    RUN(test_tls_certificate_of_another_ca_does_not_verify);
    RUN(test_tls_client_context_loads_issued_files_and_refuses_a_foreign_key);
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return unit_done();
}
