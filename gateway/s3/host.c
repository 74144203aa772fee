/* host.c — how the Host header addresses a request (see host.h). */
#include "gateway/s3/host.h"
#include <arpa/inet.h>
#include <string.h>

static int all_digits(const char *p, const char *end)
{
    for (; p < end; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return 1;
}

/* "[v6]" or "[v6]:port". */
static s3_host_style_t parse_ipv6_literal(h2o_iovec_t host)
{
    const char *close = memchr(host.base, ']', host.len), *end = host.base + host.len;
    char ip[64];
    struct in6_addr addr;

    if (close == NULL || close == host.base + 1 || (size_t)(close - host.base - 1) >= sizeof(ip))
        return S3_HOST_UNKNOWN;
    memcpy(ip, host.base + 1, (size_t)(close - host.base - 1));
    ip[close - host.base - 1] = '\0';
    if (inet_pton(AF_INET6, ip, &addr) != 1)
        return S3_HOST_UNKNOWN;
    if (close + 1 < end && (close[1] != ':' || !all_digits(close + 2, end)))
        return S3_HOST_UNKNOWN;
    return S3_HOST_PATH_STYLE;
}

s3_host_style_t s3_host_parse(h2o_iovec_t host, const h2o_iovec_t *domains, size_t ndomains,
                              char name[S3_HOST_NAME_MAX + 1], h2o_iovec_t *bucket)
{
    size_t best = 0;
    struct in_addr addr;

    if (host.base == NULL || host.len == 0)
        return S3_HOST_PATH_STYLE;
    if (host.base[0] == '[')
        return parse_ipv6_literal(host);
    const char *colon = memchr(host.base, ':', host.len);
    if (colon != NULL) {
        if (!all_digits(colon + 1, host.base + host.len))
            return S3_HOST_UNKNOWN;
        host.len = (size_t)(colon - host.base);
    }
    if (host.len > 0 && host.base[host.len - 1] == '.')
        host.len--;
    if (host.len == 0 || host.len > S3_HOST_NAME_MAX)
        return S3_HOST_UNKNOWN;
    for (size_t i = 0; i < host.len; i++) {
        char c = host.base[i];
        if (c == '\0')
            return S3_HOST_UNKNOWN;
        name[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
    name[host.len] = '\0';
    if (inet_pton(AF_INET, name, &addr) == 1)
        return S3_HOST_PATH_STYLE;
    for (size_t i = 0; i < ndomains; i++) {
        h2o_iovec_t d = domains[i];
        if (d.len == host.len && memcmp(name, d.base, d.len) == 0)
            return S3_HOST_PATH_STYLE;
        if (d.len > 0 && host.len > d.len + 1 && d.len > best && name[host.len - d.len - 1] == '.' &&
            memcmp(name + host.len - d.len, d.base, d.len) == 0)
            best = d.len;
    }
    if (best == 0)
        return S3_HOST_UNKNOWN;
    *bucket = h2o_iovec_init(name, host.len - best - 1);
    return S3_HOST_VIRTUAL;
}
