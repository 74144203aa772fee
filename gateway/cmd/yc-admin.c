/* yc-admin — the admin CLI: signs admin API calls with the root keys and prints the answers.
 *
 *   yc-admin [--endpoint URL] [--access-key AK] [--secret-key SK] COMMAND
 *     user add NAME ACCESS_KEY SECRET_KEY | user remove ACCESS_KEY | user list | info | heal [status]
 *
 * Keys default to YC_ROOT_USER / YC_ROOT_PASSWORD, the endpoint to http://127.0.0.1:9000.
 */
#include "gateway/s3/sigv4.h"
#include <netdb.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void usage(void)
{
    fprintf(stderr, "usage: yc-admin [--endpoint URL] [--access-key AK] [--secret-key SK] COMMAND\n"
                    "  user add NAME ACCESS_KEY SECRET_KEY\n"
                    "  user remove ACCESS_KEY\n"
                    "  user list\n"
                    "  info\n"
                    "  heal            (rebuilds whatever any drive is missing; waits and shows progress)\n"
                    "  heal status\n");
}

static void hex(const uint8_t *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", in[i]);
}

/* Sends one signed request; prints the body; returns 0 on a 2xx answer. */
static int call_capture(const char *endpoint, const char *ak, const char *sk, const char *method, const char *path,
                        const char *body, char *out, size_t out_size);

static int call(const char *endpoint, const char *ak, const char *sk, const char *method, const char *path,
                const char *body)
{
    return call_capture(endpoint, ak, sk, method, path, body, NULL, 0);
}

/* Sends one signed request; prints the body (or copies it to out); returns 0 on a 2xx answer. */
static int call_capture(const char *endpoint, const char *ak, const char *sk, const char *method, const char *path,
                        const char *body, char *out, size_t out_size)
{
    char host[280], port[16] = "80", authority[280], date[17], payload_hash[65], auth[2048];
    const char *p = endpoint;
    size_t body_len = body ? strlen(body) : 0;
    uint8_t digest[32];

    if (strncmp(p, "http://", 7) == 0)
        p += 7;
    snprintf(authority, sizeof(authority), "%s", p);
    authority[strcspn(authority, "/")] = '\0';
    snprintf(host, sizeof(host), "%s", authority);
    char *colon = strrchr(host, ':');
    if (colon != NULL) {
        snprintf(port, sizeof(port), "%s", colon + 1);
        *colon = '\0';
    }
    SHA256((const unsigned char *)(body ? body : ""), body_len, digest);
    hex(digest, 32, payload_hash);
    s3_sigv4_format_time(time(NULL), date);

    h2o_iovec_t names[3] = {{H2O_STRLIT("host")}, {H2O_STRLIT("x-amz-content-sha256")}, {H2O_STRLIT("x-amz-date")}};
    h2o_header_t headers[3] = {{&names[0], NULL, {authority, strlen(authority)}},
                               {&names[1], NULL, {payload_hash, 64}},
                               {&names[2], NULL, {date, 16}}};
    s3_request_t req = {{(char *)method, strlen(method)}, {(char *)path, strlen(path)}, {"", 0}, headers, 3};
    if (s3_sigv4_sign(&req, h2o_iovec_init(payload_hash, 64), h2o_iovec_init(ak, strlen(ak)),
                      h2o_iovec_init(sk, strlen(sk)), h2o_iovec_init(H2O_STRLIT("us-east-1")), time(NULL), auth,
                      sizeof(auth), NULL) != 0) {
        fprintf(stderr, "yc-admin: cannot sign the request\n");
        return 1;
    }

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, port, &hints, &ai) != 0) {
        fprintf(stderr, "yc-admin: cannot resolve %s\n", host);
        return 1;
    }
    int fd = socket(ai->ai_family, ai->ai_socktype, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        fprintf(stderr, "yc-admin: cannot connect to %s\n", endpoint);
        freeaddrinfo(ai);
        return 1;
    }
    freeaddrinfo(ai);
    char head[4096];
    int n = snprintf(head, sizeof(head),
                     "%s %s HTTP/1.1\r\nHost: %s\r\nX-Amz-Date: %s\r\nX-Amz-Content-Sha256: %s\r\nAuthorization: %s\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     method, path, authority, date, payload_hash, auth, body_len);
    if (write(fd, head, (size_t)n) != n || (body_len && write(fd, body, body_len) != (ssize_t)body_len)) {
        fprintf(stderr, "yc-admin: write failed\n");
        close(fd);
        return 1;
    }
    size_t cap = 65536, len = 0;
    char *resp = malloc(cap + 1);
    ssize_t r;
    while (resp && (r = read(fd, resp + len, cap - len)) > 0) {
        len += (size_t)r;
        if (len == cap) {
            char *bigger = realloc(resp, 2 * cap + 1);
            if (bigger == NULL)
                break;
            resp = bigger;
            cap *= 2;
        }
    }
    close(fd);
    if (resp == NULL)
        return 1;
    resp[len] = '\0';
    int status = 0;
    sscanf(resp, "HTTP/1.%*d %d", &status);
    char *payload = strstr(resp, "\r\n\r\n");
    if (out != NULL && out_size > 0)
        snprintf(out, out_size, "%s", payload != NULL ? payload + 4 : "");
    else if (payload != NULL && payload[4] != '\0')
        printf("%s\n", payload + 4);
    free(resp);
    if (status < 200 || status > 299) {
        fprintf(stderr, "yc-admin: HTTP %d\n", status);
        return 1;
    }
    return 0;
}

/* Starts a full heal and follows it until it is done, a progress line a second. */
static int heal(const char *endpoint, const char *ak, const char *sk)
{
    char status[1024];
    if (call_capture(endpoint, ak, sk, "POST", "/_admin/v1/heal", NULL, status, sizeof(status)) != 0)
        return 1;
    for (int i = 0; i < 86400; i++) {
        if (call_capture(endpoint, ak, sk, "GET", "/_admin/v1/heal", NULL, status, sizeof(status)) != 0)
            return 1;
        printf("%s\n", status);
        fflush(stdout);
        if (strstr(status, "\"running\":false") != NULL)
            return strstr(status, "\"failed\":0") != NULL ? 0 : 1;
        sleep(1);
    }
    return 1;
}

int main(int argc, char **argv)
{
    const char *endpoint = "http://127.0.0.1:9000", *ak = getenv("YC_ROOT_USER"), *sk = getenv("YC_ROOT_PASSWORD");
    int i = 1;
    char path[512], body[1024];

    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--endpoint") == 0)
            endpoint = argv[i + 1];
        else if (strcmp(argv[i], "--access-key") == 0)
            ak = argv[i + 1];
        else if (strcmp(argv[i], "--secret-key") == 0)
            sk = argv[i + 1];
        else {
            usage();
            return 2;
        }
    }
    if (ak == NULL || sk == NULL || i >= argc) {
        usage();
        return 2;
    }
    argv += i;
    argc -= i;
    if (argc == 1 && strcmp(argv[0], "info") == 0)
        return call(endpoint, ak, sk, "GET", "/_admin/v1/info", NULL);
    if (argc == 2 && strcmp(argv[0], "heal") == 0 && strcmp(argv[1], "status") == 0)
        return call(endpoint, ak, sk, "GET", "/_admin/v1/heal", NULL);
    if (argc == 1 && strcmp(argv[0], "heal") == 0)
        return heal(endpoint, ak, sk);
    if (argc == 2 && strcmp(argv[0], "user") == 0 && strcmp(argv[1], "list") == 0)
        return call(endpoint, ak, sk, "GET", "/_admin/v1/users", NULL);
    if (argc == 5 && strcmp(argv[0], "user") == 0 && strcmp(argv[1], "add") == 0) {
        snprintf(path, sizeof(path), "/_admin/v1/users/%s", argv[3]);
        /* names and keys are limited to [A-Za-z0-9-_.@+=] by the server; a secret needs no JSON
         * escaping unless it holds a quote or a backslash, which we refuse here */
        if (strpbrk(argv[4], "\"\\") != NULL) {
            fprintf(stderr, "yc-admin: a secret key may not contain '\"' or '\\'\n");
            return 2;
        }
        snprintf(body, sizeof(body), "{\"user\":\"%s\",\"secretKey\":\"%s\"}", argv[2], argv[4]);
        return call(endpoint, ak, sk, "PUT", path, body);
    }
    if (argc == 3 && strcmp(argv[0], "user") == 0 && strcmp(argv[1], "remove") == 0) {
        snprintf(path, sizeof(path), "/_admin/v1/users/%s", argv[2]);
        return call(endpoint, ak, sk, "DELETE", path, NULL);
    }
    usage();
    return 2;
}
