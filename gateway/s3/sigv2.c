/* sigv2.c — AWS Signature Version 2 (see sigv2.h). */
#include "gateway/s3/sigv2.h"
#include "gateway/s3/checksum.h"
#include "gateway/s3/cond.h"
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#define MAX_AMZ_HEADERS 64

/* The sub-resources S3 includes in the string to sign, sorted as S3 sorts them. */
static const char *const signed_subresources[] = {"acl",
                                                  "cors",
                                                  "delete",
                                                  "lifecycle",
                                                  "location",
                                                  "logging",
                                                  "notification",
                                                  "partNumber",
                                                  "policy",
                                                  "requestPayment",
                                                  "response-cache-control",
                                                  "response-content-disposition",
                                                  "response-content-encoding",
                                                  "response-content-language",
                                                  "response-content-type",
                                                  "response-expires",
                                                  "restore",
                                                  "tagging",
                                                  "torrent",
                                                  "uploadId",
                                                  "uploads",
                                                  "versionId",
                                                  "versioning",
                                                  "versions",
                                                  "website"};

static int iov_is(h2o_iovec_t v, const char *s)
{
    size_t n = strlen(s);
    return v.len == n && memcmp(v.base, s, n) == 0;
}

static h2o_iovec_t split(h2o_iovec_t *rest, char sep)
{
    const char *p = memchr(rest->base, sep, rest->len);
    h2o_iovec_t head;
    if (p == NULL) {
        head = *rest;
        *rest = h2o_iovec_init(rest->base + rest->len, 0);
    } else {
        head = h2o_iovec_init(rest->base, (size_t)(p - rest->base));
        *rest = h2o_iovec_init(p + 1, rest->len - head.len - 1);
    }
    return head;
}

/* Percent-decodes (and '+' to space, as the query of a presigned URL is form-encoded by some clients). */
static int decode(h2o_mem_pool_t *pool, h2o_iovec_t in, int plus_is_space, h2o_iovec_t *out)
{
    char *buf = h2o_mem_alloc_pool(pool, in.len + 1);
    size_t n = 0;
    for (size_t i = 0; i < in.len; i++) {
        if (in.base[i] == '%') {
            if (i + 2 >= in.len || yc_hex_digit(in.base[i + 1]) < 0 || yc_hex_digit(in.base[i + 2]) < 0)
                return -1;
            buf[n++] = (char)(yc_hex_digit(in.base[i + 1]) * 16 + yc_hex_digit(in.base[i + 2]));
            i += 2;
        } else {
            buf[n++] = plus_is_space && in.base[i] == '+' ? ' ' : in.base[i];
        }
    }
    buf[n] = '\0';
    *out = h2o_iovec_init(buf, n);
    return 0;
}

static h2o_iovec_t find_header(const s3_request_t *req, const char *name)
{
    for (size_t i = 0; i < req->num_headers; i++)
        if (iov_is(*req->headers[i].name, name))
            return req->headers[i].value;
    return h2o_iovec_init(NULL, 0);
}

static int parse_signature(h2o_iovec_t b64, uint8_t out[20])
{
    size_t len;
    if (s3_checksum_from_base64(b64, out, 20, &len) != 0 || len != 20)
        return -1;
    return 0;
}

int s3_sigv2_parse(const s3_request_t *req, h2o_mem_pool_t *pool, s3_sigv2_t *out)
{
    h2o_iovec_t authz = find_header(req, "authorization");

    memset(out, 0, sizeof(*out));
    if (authz.base != NULL) {
        if (authz.len < 4 || memcmp(authz.base, "AWS ", 4) != 0)
            return 0;
        h2o_iovec_t rest = h2o_iovec_init(authz.base + 4, authz.len - 4);
        const char *colon = memchr(rest.base, ':', rest.len);
        if (colon == NULL || colon == rest.base || (size_t)(colon - rest.base) > S3_SIGV4_MAX_ACCESS_KEY)
            return S3_AUTH_MALFORMED;
        out->access_key = h2o_iovec_init(rest.base, (size_t)(colon - rest.base));
        if (parse_signature(h2o_iovec_init(colon + 1, rest.base + rest.len - (colon + 1)), out->signature) != 0)
            return S3_AUTH_MALFORMED;
        out->kind = S3_SIGV2_HEADER;
        return 0;
    }
    h2o_iovec_t ak = {NULL, 0}, sig = {NULL, 0}, expires = {NULL, 0};
    for (h2o_iovec_t rest = req->query; rest.len > 0;) {
        h2o_iovec_t pair = split(&rest, '&'), name = split(&pair, '=');
        if (iov_is(name, "AWSAccessKeyId"))
            ak = pair;
        else if (iov_is(name, "Signature"))
            sig = pair;
        else if (iov_is(name, "Expires"))
            expires = pair;
    }
    if (ak.base == NULL && sig.base == NULL)
        return 0;
    h2o_iovec_t sig_decoded;
    if (ak.base == NULL || sig.base == NULL || expires.base == NULL || ak.len == 0 ||
        ak.len > S3_SIGV4_MAX_ACCESS_KEY || decode(pool, ak, 0, &out->access_key) != 0 ||
        decode(pool, sig, 0, &sig_decoded) != 0 || parse_signature(sig_decoded, out->signature) != 0)
        return S3_AUTH_MALFORMED;
    if (expires.len == 0 || expires.len > 12)
        return S3_AUTH_MALFORMED;
    for (size_t i = 0; i < expires.len; i++) {
        if (expires.base[i] < '0' || expires.base[i] > '9')
            return S3_AUTH_MALFORMED;
        out->expires = out->expires * 10 + (expires.base[i] - '0');
    }
    out->kind = S3_SIGV2_PRESIGNED;
    return 0;
}

typedef struct {
    h2o_iovec_t name, value;
} pair_t;

static int pair_cmp(const void *a, const void *b)
{
    const pair_t *x = a, *y = b;
    size_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
    int r = memcmp(x->name.base, y->name.base, n);
    return r != 0 ? r : (x->name.len > y->name.len) - (x->name.len < y->name.len);
}

/* Appends to a pool-grown buffer. */
typedef struct {
    h2o_mem_pool_t *pool;
    char *buf;
    size_t len, cap;
} sbuf_t;

static void put(sbuf_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 512;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *nb = h2o_mem_alloc_pool(b->pool, cap);
        if (b->len > 0)
            memcpy(nb, b->buf, b->len);
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

static void put_iov(sbuf_t *b, h2o_iovec_t v)
{
    if (v.base != NULL)
        put(b, v.base, v.len);
}

int s3_sigv2_string_to_sign(const s3_request_t *req, const s3_sigv2_t *auth, h2o_mem_pool_t *pool, h2o_iovec_t *out)
{
    sbuf_t b = {pool, NULL, 0, 0};
    pair_t amz[MAX_AMZ_HEADERS] = {{{0}}}, sub[sizeof(signed_subresources) / sizeof(signed_subresources[0])] = {{{0}}};
    size_t namz = 0, nsub = 0;

    put_iov(&b, req->method);
    put(&b, "\n", 1);
    put_iov(&b, find_header(req, "content-md5"));
    put(&b, "\n", 1);
    put_iov(&b, find_header(req, "content-type"));
    put(&b, "\n", 1);
    if (auth->kind == S3_SIGV2_PRESIGNED) {
        char e[24];
        int n = snprintf(e, sizeof(e), "%lld", (long long)auth->expires);
        put(&b, e, (size_t)n);
    } else if (find_header(req, "x-amz-date").base == NULL) {
        put_iov(&b, find_header(req, "date"));
    }
    put(&b, "\n", 1);

    for (size_t i = 0; i < req->num_headers; i++) {
        h2o_iovec_t name = *req->headers[i].name;
        if (name.len <= 6 || memcmp(name.base, "x-amz-", 6) != 0)
            continue;
        size_t j;
        for (j = 0; j < namz && !(amz[j].name.len == name.len && memcmp(amz[j].name.base, name.base, name.len) == 0);
             j++)
            ;
        if (j == namz) {
            if (namz == MAX_AMZ_HEADERS)
                return S3_AUTH_MALFORMED;
            amz[namz++] = (pair_t){name, req->headers[i].value};
        } else {
            /* repeated header: values joined with ',' */
            amz[j].value = h2o_concat(pool, amz[j].value, h2o_iovec_init(H2O_STRLIT(",")), req->headers[i].value);
        }
    }
    qsort(amz, namz, sizeof(amz[0]), pair_cmp);
    for (size_t i = 0; i < namz; i++) {
        put_iov(&b, amz[i].name);
        put(&b, ":", 1);
        /* trim the value: clients sign it without surrounding spaces */
        h2o_iovec_t v = amz[i].value;
        while (v.len > 0 && (v.base[0] == ' ' || v.base[0] == '\t'))
            v.base++, v.len--;
        while (v.len > 0 && (v.base[v.len - 1] == ' ' || v.base[v.len - 1] == '\t'))
            v.len--;
        put_iov(&b, v);
        put(&b, "\n", 1);
    }

    if (auth->host_bucket.base != NULL) {
        /* virtual-host style: "/bucket" + "/key", or "/bucket/" for the bucket itself */
        put(&b, "/", 1);
        put_iov(&b, auth->host_bucket);
        put_iov(&b, req->path);
    } else {
        put_iov(&b, req->path);
        /* a bucket is signed as "/bucket/" whether or not the request path ends in a slash */
        if (req->path.len > 1 && memchr(req->path.base + 1, '/', req->path.len - 1) == NULL)
            put(&b, "/", 1);
    }
    for (h2o_iovec_t rest = req->query; rest.len > 0;) {
        h2o_iovec_t pair = split(&rest, '&'), raw_value = pair, name = split(&pair, '=');
        int has_value = raw_value.len > name.len;
        for (size_t i = 0; i < sizeof(signed_subresources) / sizeof(signed_subresources[0]); i++) {
            if (!iov_is(name, signed_subresources[i]) || nsub == sizeof(sub) / sizeof(sub[0]))
                continue;
            h2o_iovec_t value = {NULL, 0};
            if (has_value && decode(pool, pair, 0, &value) != 0)
                return S3_AUTH_MALFORMED;
            sub[nsub++] = (pair_t){name, has_value ? value : h2o_iovec_init(NULL, 0)};
        }
    }
    qsort(sub, nsub, sizeof(sub[0]), pair_cmp);
    for (size_t i = 0; i < nsub; i++) {
        put(&b, i == 0 ? "?" : "&", 1);
        put_iov(&b, sub[i].name);
        if (sub[i].value.base != NULL) {
            put(&b, "=", 1);
            put_iov(&b, sub[i].value);
        }
    }
    *out = h2o_iovec_init(b.buf, b.len);
    return 0;
}

int s3_sigv2_verify(const s3_request_t *req, const s3_sigv2_t *auth, h2o_iovec_t secret, int64_t now,
                    h2o_mem_pool_t *pool)
{
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    h2o_iovec_t sts;
    int ret;

    if (auth->kind == S3_SIGV2_PRESIGNED) {
        if (now > auth->expires)
            return S3_AUTH_EXPIRED;
        if (auth->max_lifetime > 0 && auth->expires - now > auth->max_lifetime)
            return S3_AUTH_EXPIRES_TOO_LATE;
    } else {
        h2o_iovec_t date = find_header(req, "x-amz-date");
        int64_t ns;
        if (date.base == NULL)
            date = find_header(req, "date");
        if (date.base == NULL)
            return S3_AUTH_MISSING_DATE;
        /* RFC 2822 clients (s3cmd among them) write the zone as +0000 where HTTP writes GMT */
        if (date.len > 6 && memcmp(date.base + date.len - 6, " +0000", 6) == 0)
            date = h2o_concat(pool, h2o_iovec_init(date.base, date.len - 6), h2o_iovec_init(H2O_STRLIT(" GMT")));
        /* a date before 1970 is no date S3 takes (AccessDenied), not a skewed one */
        if (s3_http_date_parse(date, &ns) != 0 || ns < 0)
            return S3_AUTH_MISSING_DATE;
        int64_t t = ns / 1000000000;
        if (now - t > S3_SIGV2_MAX_SKEW || t - now > S3_SIGV2_MAX_SKEW)
            return S3_AUTH_SKEWED;
    }
    if ((ret = s3_sigv2_string_to_sign(req, auth, pool, &sts)) != 0)
        return ret;
    if (HMAC(EVP_sha1(), secret.base, (int)secret.len, (const unsigned char *)sts.base, sts.len, mac, &mac_len) ==
            NULL ||
        mac_len != 20)
        return S3_AUTH_NOMEM;
    return CRYPTO_memcmp(mac, auth->signature, 20) == 0 ? 0 : S3_AUTH_SIGNATURE_MISMATCH;
}
