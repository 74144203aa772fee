/* sigv4.c — AWS Signature Version 4 for S3: parsing, canonicalisation, verification and signing.
 *
 * The canonical request is built into a growable buffer (struct sbuf) and hashed; the string to
 * sign is "AWS4-HMAC-SHA256\n<timestamp>\n<scope>\n<hex sha256(canonical request)>" and the
 * signature is HMAC-SHA256 under the key derived from the secret, date, region and service. The
 * verifier and the signer share canonical_request(), so the two can never drift apart.
 *
 * Everything read from the request is pointer+length and checked before use. Parsing never needs
 * the secret; verification runs only after parsing succeeded.
 *
 * One concern in one file of about a thousand lines: the header and presigned forms, the
 * canonical request, the verifier, the signer and the aws-chunked seed all turn on the same
 * canonicalisation, and kept together they cannot come to disagree.
 */
#include "gateway/s3/sigv4.h"
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include "gateway/s3/checksum.h"

#define ALGORITHM        "AWS4-HMAC-SHA256"
#define EMPTY_SHA256_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_SECRET       512

/* ---- small helpers ---- */

static int iov_eq(h2o_iovec_t v, const char *s)
{
    size_t n = strlen(s);
    return v.len == n && memcmp(v.base, s, n) == 0;
}

static int iov_eq_nocase(h2o_iovec_t a, h2o_iovec_t b)
{
    return a.len == b.len && (a.len == 0 || strncasecmp(a.base, b.base, a.len) == 0);
}

static int iov_has_prefix(h2o_iovec_t v, const char *s)
{
    size_t n = strlen(s);
    return v.len >= n && memcmp(v.base, s, n) == 0;
}

static h2o_iovec_t iov_trim(h2o_iovec_t v)
{
    while (v.len > 0 && (v.base[0] == ' ' || v.base[0] == '\t')) {
        v.base++;
        v.len--;
    }
    while (v.len > 0 && (v.base[v.len - 1] == ' ' || v.base[v.len - 1] == '\t'))
        v.len--;
    return v;
}

/* Splits *rest at the first sep: returns the part before it and leaves *rest after it. When sep is
 * absent the whole of *rest is returned and *rest becomes empty. */
static h2o_iovec_t iov_split(h2o_iovec_t *rest, char sep)
{
    h2o_iovec_t head = *rest;
    const char *p = rest->len > 0 ? memchr(rest->base, sep, rest->len) : NULL;

    if (p == NULL) {
        if (rest->len > 0) /* an empty view may have a NULL base: no arithmetic on it */
            rest->base += rest->len;
        rest->len = 0;
        return head;
    }
    head.len = (size_t)(p - rest->base);
    rest->base += head.len + 1;
    rest->len -= head.len + 1;
    return head;
}

/* Finds the single header called name; returns 1 found, 0 absent, -1 when repeated. */
static int find_header(const s3_request_t *req, const char *name, h2o_iovec_t *out)
{
    h2o_iovec_t n = h2o_iovec_init(name, strlen(name));
    int found = 0;

    for (size_t i = 0; i < req->num_headers; i++) {
        if (req->headers[i].name != NULL && iov_eq_nocase(*req->headers[i].name, n)) {
            if (found)
                return -1;
            *out = req->headers[i].value;
            found = 1;
        }
    }
    return found;
}

static int is_unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
           ch == '_' || ch == '~';
}

/* ---- growable buffer; an allocation failure sticks and is reported once at the end ---- */

struct sbuf {
    char *base;
    size_t len, cap;
    int failed;
};

static int sbuf_reserve(struct sbuf *b, size_t more)
{
    if (b->failed)
        return -1;
    if (more > SIZE_MAX / 2 - b->len) {
        b->failed = 1;
        return -1;
    }
    if (b->len + more > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + more)
            cap *= 2;
        char *p = realloc(b->base, cap);
        if (p == NULL) {
            b->failed = 1;
            return -1;
        }
        b->base = p;
        b->cap = cap;
    }
    return 0;
}

static void sbuf_add(struct sbuf *b, const void *p, size_t n)
{
    if (n == 0 || sbuf_reserve(b, n) != 0)
        return;
    memcpy(b->base + b->len, p, n);
    b->len += n;
}

static void sbuf_addc(struct sbuf *b, char ch)
{
    sbuf_add(b, &ch, 1);
}

static void sbuf_adds(struct sbuf *b, const char *s)
{
    sbuf_add(b, s, strlen(s));
}

static void sbuf_addv(struct sbuf *b, h2o_iovec_t v)
{
    sbuf_add(b, v.base, v.len);
}

static void sbuf_free(struct sbuf *b)
{
    free(b->base);
    b->base = NULL;
    b->len = b->cap = 0;
}

/* Appends byte ch in the S3 URI encoding: unreserved kept, everything else %XX uppercase. */
static void sbuf_add_encoded(struct sbuf *b, unsigned char ch)
{
    static const char digits[] = "0123456789ABCDEF";
    if (is_unreserved(ch)) {
        sbuf_addc(b, (char)ch);
    } else {
        char e[3] = {'%', digits[ch >> 4], digits[ch & 15]};
        sbuf_add(b, e, 3);
    }
}

/* Appends the canonical form of one raw (percent-encoded) component: every valid %XX is decoded,
 * then every byte re-encoded. keep_slash keeps a literal '/' (path separators); a '/' that arrived
 * as %2F stays encoded, which is how clients computed it. plus_is_space decodes '+' as a space, as a
 * form-encoded query does. A '%' not followed by two hex digits is taken literally. */
static void sbuf_add_canonical(struct sbuf *b, h2o_iovec_t raw, int keep_slash, int plus_is_space)
{
    for (size_t i = 0; i < raw.len; i++) {
        unsigned char ch = (unsigned char)raw.base[i];
        if (ch == '%' && i + 2 < raw.len && yc_hex_digit(raw.base[i + 1]) >= 0 && yc_hex_digit(raw.base[i + 2]) >= 0) {
            sbuf_add_encoded(b, (unsigned char)(yc_hex_digit(raw.base[i + 1]) << 4 | yc_hex_digit(raw.base[i + 2])));
            i += 2;
        } else if (ch == '/' && keep_slash) {
            sbuf_addc(b, '/');
        } else if (ch == '+' && plus_is_space) {
            sbuf_add_encoded(b, ' ');
        } else {
            sbuf_add_encoded(b, ch);
        }
    }
}

/* Percent-decodes raw into a pool copy (presigned parameter values). */
static int pool_decode(h2o_mem_pool_t *pool, h2o_iovec_t raw, h2o_iovec_t *out)
{
    char *dst = h2o_mem_alloc_pool(pool, raw.len + 1);
    size_t o = 0;

    if (dst == NULL)
        return S3_AUTH_NOMEM;
    for (size_t i = 0; i < raw.len; i++) {
        if (raw.base[i] == '%' && i + 2 < raw.len && yc_hex_digit(raw.base[i + 1]) >= 0 &&
            yc_hex_digit(raw.base[i + 2]) >= 0) {
            dst[o++] = (char)(yc_hex_digit(raw.base[i + 1]) << 4 | yc_hex_digit(raw.base[i + 2]));
            i += 2;
        } else if (raw.base[i] == '+') {
            dst[o++] = ' ';
        } else {
            dst[o++] = raw.base[i];
        }
    }
    dst[o] = '\0';
    *out = h2o_iovec_init(dst, o);
    return 0;
}

/* ---- time ---- */

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int64_t leaps_before(int64_t y)
{
    y--;
    return y / 4 - y / 100 + y / 400;
}

static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

/* Unix seconds of a UTC civil time; fields must be validated by the caller except the day. */
static int civil_to_unix(int64_t y, int mon, int d, int h, int mi, int s, int64_t *out)
{
    int64_t days;

    if (y < 1970 || y > 9999 || mon < 1 || mon > 12 || d < 1 || h > 23 || mi > 59 || s > 60)
        return S3_AUTH_MALFORMED;
    if (d > month_days[mon - 1] + (mon == 2 && is_leap(y)))
        return S3_AUTH_MALFORMED;
    days = 365 * (y - 1970) + leaps_before(y) - leaps_before(1970);
    for (int m = 1; m < mon; m++)
        days += month_days[m - 1] + (m == 2 && is_leap(y));
    days += d - 1;
    *out = days * 86400 + h * 3600 + mi * 60 + s;
    return 0;
}

static int parse_digits(const char *p, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

int s3_sigv4_parse_time(h2o_iovec_t s, int64_t *out)
{
    int y, mo, d, h, mi, se;

    if (s.len != 16 || s.base[8] != 'T' || s.base[15] != 'Z')
        return S3_AUTH_MALFORMED;
    if (parse_digits(s.base, 4, &y) || parse_digits(s.base + 4, 2, &mo) || parse_digits(s.base + 6, 2, &d) ||
        parse_digits(s.base + 9, 2, &h) || parse_digits(s.base + 11, 2, &mi) || parse_digits(s.base + 13, 2, &se))
        return S3_AUTH_MALFORMED;
    return civil_to_unix(y, mo, d, h, mi, se, out);
}

/* Parses the IMF-fixdate form of the Date header, "Fri, 24 May 2013 00:00:00 GMT". */
static int parse_http_date(h2o_iovec_t s, int64_t *out)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int y, d, h, mi, se, mo = 0;

    if (s.len != 29 || s.base[3] != ',' || s.base[4] != ' ' || s.base[7] != ' ' || s.base[11] != ' ' ||
        s.base[16] != ' ' || s.base[19] != ':' || s.base[22] != ':' || s.base[25] != ' ' ||
        memcmp(s.base + 26, "GMT", 3) != 0)
        return S3_AUTH_MALFORMED;
    for (int i = 0; i < 12; i++)
        if (memcmp(s.base + 8, months + 3 * i, 3) == 0)
            mo = i + 1;
    if (mo == 0 || parse_digits(s.base + 5, 2, &d) || parse_digits(s.base + 12, 4, &y) ||
        parse_digits(s.base + 17, 2, &h) || parse_digits(s.base + 20, 2, &mi) || parse_digits(s.base + 23, 2, &se))
        return S3_AUTH_MALFORMED;
    return civil_to_unix(y, mo, d, h, mi, se, out);
}

void s3_sigv4_format_time(int64_t t, char out[17])
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
        memcpy(out, "19700101T000000Z", 17);
        return;
    }
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* ---- crypto ---- */

static int hmac_sha256(const void *key, size_t key_len, const void *data, size_t len, uint8_t out[32])
{
    unsigned int n = 32;
    return HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n) != NULL && n == 32 ? 0 : S3_AUTH_NOMEM;
}

/* The signing key changes once a day per secret and region, yet deriving it costs four HMACs:
 * more than verifying the request itself. Each thread keeps the last few it derived. The
 * secrets held here are the ones the identity table holds anyway. */
#define SIGNING_KEY_CACHE 4

typedef struct {
    uint8_t secret[MAX_SECRET];
    size_t secret_len;
    char scope[8 + 1 + 64 + 1 + 16]; /* date/region/service */
    size_t scope_len;
    uint8_t key[32];
} signing_key_entry_t;

static __thread signing_key_entry_t signing_keys[SIGNING_KEY_CACHE];
static __thread unsigned signing_keys_next;

static int scope_of(h2o_iovec_t date, h2o_iovec_t region, h2o_iovec_t service, char *out, size_t *len)
{
    if (date.len + region.len + service.len + 2 > sizeof(signing_keys[0].scope))
        return -1;
    memcpy(out, date.base, date.len);
    out[date.len] = '/';
    memcpy(out + date.len + 1, region.base, region.len);
    out[date.len + 1 + region.len] = '/';
    memcpy(out + date.len + 2 + region.len, service.base, service.len);
    *len = date.len + region.len + service.len + 2;
    return 0;
}

int s3_sigv4_signing_key(h2o_iovec_t secret_key, h2o_iovec_t date, h2o_iovec_t region, h2o_iovec_t service,
                         uint8_t out[32])
{
    uint8_t k[MAX_SECRET + 4], a[32], b[32];
    char scope[sizeof(signing_keys[0].scope)];
    size_t scope_len = 0;
    int cacheable, ret = S3_AUTH_MALFORMED;

    if (secret_key.len > MAX_SECRET)
        goto fail;
    cacheable = scope_of(date, region, service, scope, &scope_len) == 0;
    for (unsigned i = 0; cacheable && i < SIGNING_KEY_CACHE; i++) {
        signing_key_entry_t *e = &signing_keys[i];
        if (e->secret_len == secret_key.len && e->scope_len == scope_len && e->scope_len > 0 &&
            memcmp(e->scope, scope, scope_len) == 0 && memcmp(e->secret, secret_key.base, secret_key.len) == 0) {
            memcpy(out, e->key, 32);
            return 0;
        }
    }
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret_key.base, secret_key.len);
    if ((ret = hmac_sha256(k, secret_key.len + 4, date.base, date.len, a)) != 0 ||
        (ret = hmac_sha256(a, 32, region.base, region.len, b)) != 0 ||
        (ret = hmac_sha256(b, 32, service.base, service.len, a)) != 0 ||
        (ret = hmac_sha256(a, 32, "aws4_request", 12, out)) != 0)
        goto fail;
    if (cacheable) {
        signing_key_entry_t *e = &signing_keys[signing_keys_next++ % SIGNING_KEY_CACHE];
        memcpy(e->secret, secret_key.base, secret_key.len);
        e->secret_len = secret_key.len;
        memcpy(e->scope, scope, scope_len);
        e->scope_len = scope_len;
        memcpy(e->key, out, 32);
    }
    ret = 0;
fail:
    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(a, sizeof(a));
    OPENSSL_cleanse(b, sizeof(b));
    return ret;
}

/* ---- canonical request ---- */

struct query_param {
    const char *name, *value;
    size_t name_len, value_len;
};

static int compare_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static int compare_params(const void *x, const void *y)
{
    const struct query_param *a = x, *b = y;
    int c = compare_bytes(a->name, a->name_len, b->name, b->name_len);
    return c != 0 ? c : compare_bytes(a->value, a->value_len, b->value, b->value_len);
}

/* Appends the canonical query string: each parameter decoded and re-encoded, sorted by encoded name
 * then value, joined with '&', "name=" for an empty value. */
static int add_canonical_query(struct sbuf *out, h2o_iovec_t query, int presigned)
{
    struct sbuf scratch = {0};
    struct query_param *params = NULL;
    size_t n = 0, max = 1, *offsets = NULL;
    int ret = S3_AUTH_NOMEM;

    for (size_t i = 0; i < query.len; i++)
        max += query.base[i] == '&';
    if ((params = calloc(max, sizeof(*params))) == NULL || (offsets = calloc(max * 4, sizeof(*offsets))) == NULL)
        goto fail;
    /* encode every parameter into scratch first: its buffer may move while it grows */
    for (h2o_iovec_t rest = query; rest.len > 0;) {
        h2o_iovec_t pair = iov_split(&rest, '&'), name;
        if (pair.len == 0)
            continue;
        name = iov_split(&pair, '=');
        if (presigned && iov_eq(name, "X-Amz-Signature"))
            continue;
        offsets[4 * n] = scratch.len;
        sbuf_add_canonical(&scratch, name, 0, 1);
        offsets[4 * n + 1] = scratch.len;
        offsets[4 * n + 2] = scratch.len;
        sbuf_add_canonical(&scratch, pair, 0, 1);
        offsets[4 * n + 3] = scratch.len;
        n++;
    }
    if (scratch.failed)
        goto fail;
    if (scratch.base == NULL) /* every parameter empty: nothing was allocated */
        scratch.base = calloc(1, 1);
    if (scratch.base == NULL)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        params[i].name = scratch.base + offsets[4 * i];
        params[i].name_len = offsets[4 * i + 1] - offsets[4 * i];
        params[i].value = scratch.base + offsets[4 * i + 2];
        params[i].value_len = offsets[4 * i + 3] - offsets[4 * i + 2];
    }
    qsort(params, n, sizeof(*params), compare_params);
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            sbuf_addc(out, '&');
        sbuf_add(out, params[i].name, params[i].name_len);
        sbuf_addc(out, '=');
        sbuf_add(out, params[i].value, params[i].value_len);
    }
    ret = out->failed ? S3_AUTH_NOMEM : 0;
fail:
    free(params);
    free(offsets);
    sbuf_free(&scratch);
    return ret;
}

/* Appends a header value trimmed, with inner runs of spaces collapsed to one. */
static void add_header_value(struct sbuf *out, h2o_iovec_t v)
{
    v = iov_trim(v);
    for (size_t i = 0; i < v.len; i++) {
        if (v.base[i] == ' ' && i > 0 && v.base[i - 1] == ' ')
            continue;
        sbuf_addc(out, v.base[i]);
    }
}

static int canonical_request(const s3_request_t *req, h2o_iovec_t signed_headers, h2o_iovec_t payload_hash,
                             int presigned, struct sbuf *out)
{
    int ret;

    sbuf_addv(out, req->method);
    sbuf_addc(out, '\n');
    if (req->path.len == 0)
        sbuf_addc(out, '/');
    sbuf_add_canonical(out, req->path, 1, 0);
    sbuf_addc(out, '\n');
    if ((ret = add_canonical_query(out, req->query, presigned)) != 0)
        return ret;
    sbuf_addc(out, '\n');
    for (h2o_iovec_t rest = signed_headers; rest.len > 0;) {
        h2o_iovec_t name = iov_split(&rest, ';');
        int first = 1;
        sbuf_addv(out, name);
        sbuf_addc(out, ':');
        for (size_t i = 0; i < req->num_headers; i++) {
            if (req->headers[i].name == NULL || !iov_eq_nocase(*req->headers[i].name, name))
                continue;
            if (!first)
                sbuf_addc(out, ',');
            add_header_value(out, req->headers[i].value);
            first = 0;
        }
        sbuf_addc(out, '\n');
    }
    sbuf_addc(out, '\n');
    sbuf_addv(out, signed_headers);
    sbuf_addc(out, '\n');
    sbuf_addv(out, payload_hash);
    return out->failed ? S3_AUTH_NOMEM : 0;
}

int s3_sigv4_canonical_request(const s3_request_t *req, h2o_iovec_t signed_headers, h2o_iovec_t payload_hash,
                               int presigned, h2o_mem_pool_t *pool, h2o_iovec_t *out)
{
    struct sbuf b = {0};
    int ret;

    if ((ret = canonical_request(req, signed_headers, payload_hash, presigned, &b)) != 0)
        goto fail;
    if ((out->base = h2o_mem_alloc_pool(pool, b.len + 1)) == NULL) {
        ret = S3_AUTH_NOMEM;
        goto fail;
    }
    if (b.len > 0)
        memcpy(out->base, b.base, b.len);
    out->base[b.len] = '\0';
    out->len = b.len;
fail:
    sbuf_free(&b);
    return ret;
}

/* Computes the request signature (lowercase hex) for the canonical request of req. */
static int request_signature(const s3_request_t *req, h2o_iovec_t signed_headers, h2o_iovec_t payload_hash,
                             int presigned, const uint8_t key[32], const char *timestamp, const char *scope,
                             char out_hex[65])
{
    struct sbuf canon = {0}, sts = {0};
    uint8_t digest[32], sig[32];
    char digest_hex[65];
    int ret;

    if ((ret = canonical_request(req, signed_headers, payload_hash, presigned, &canon)) != 0)
        goto fail;
    if (EVP_Digest(canon.base, canon.len, digest, NULL, EVP_sha256(), NULL) != 1) {
        ret = S3_AUTH_NOMEM;
        goto fail;
    }
    yc_hex(digest, 32, digest_hex);
    sbuf_adds(&sts, ALGORITHM "\n");
    sbuf_adds(&sts, timestamp);
    sbuf_addc(&sts, '\n');
    sbuf_adds(&sts, scope);
    sbuf_addc(&sts, '\n');
    sbuf_add(&sts, digest_hex, 64);
    if (sts.failed) {
        ret = S3_AUTH_NOMEM;
        goto fail;
    }
    if ((ret = hmac_sha256(key, 32, sts.base, sts.len, sig)) != 0)
        goto fail;
    yc_hex(sig, 32, out_hex);
fail:
    sbuf_free(&canon);
    sbuf_free(&sts);
    return ret;
}

/* ---- parsing ---- */

static int valid_header_name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
}

/* SignedHeaders: non-empty lowercase names separated by ';', "host" among them. */
static int check_signed_headers(h2o_iovec_t list)
{
    int has_host = 0;

    if (list.len == 0 || list.len > S3_SIGV4_MAX_SIGNED_HEADERS || list.base[list.len - 1] == ';')
        return S3_AUTH_MALFORMED;
    for (h2o_iovec_t rest = list; rest.len > 0;) {
        h2o_iovec_t name = iov_split(&rest, ';');
        if (name.len == 0)
            return S3_AUTH_MALFORMED;
        for (size_t i = 0; i < name.len; i++)
            if (!valid_header_name_char(name.base[i]))
                return S3_AUTH_MALFORMED;
        if (iov_eq(name, "host"))
            has_host = 1;
    }
    return has_host ? 0 : S3_AUTH_MALFORMED;
}

/* Credential: <access key>/<yyyymmdd>/<region>/<service>/aws4_request, the service "s3" or "iam" (the
 * IAM Query API the gateway also answers, s3_auth_is_iam) */
static int parse_credential(h2o_iovec_t cred, s3_auth_t *out)
{
    h2o_iovec_t rest = cred, ak, date, region, service, term;
    int unused;

    ak = iov_split(&rest, '/');
    date = iov_split(&rest, '/');
    region = iov_split(&rest, '/');
    service = iov_split(&rest, '/');
    term = rest;
    if (ak.len == 0 || ak.len > S3_SIGV4_MAX_ACCESS_KEY || date.len != 8 || parse_digits(date.base, 8, &unused) ||
        region.len == 0 || region.len > S3_SIGV4_MAX_REGION || !(iov_eq(service, "s3") || iov_eq(service, "iam")) ||
        !iov_eq(term, "aws4_request"))
        return S3_AUTH_MALFORMED;
    for (size_t i = 0; i < ak.len; i++)
        if ((unsigned char)ak.base[i] <= ' ' || (unsigned char)ak.base[i] >= 0x7f)
            return S3_AUTH_MALFORMED;
    for (size_t i = 0; i < region.len; i++)
        if ((unsigned char)region.base[i] <= ' ' || (unsigned char)region.base[i] >= 0x7f)
            return S3_AUTH_MALFORMED;
    out->access_key = ak;
    memcpy(out->date, date.base, 8);
    out->date[8] = '\0';
    out->region = region;
    out->service = service;
    return 0;
}

int s3_auth_is_iam(const s3_auth_t *auth)
{
    return iov_eq(auth->service, "iam");
}

static int parse_signature(h2o_iovec_t sig, s3_auth_t *out)
{
    return sig.len == 64 && s3_checksum_from_hex(sig, out->signature, 32) == 0 ? 0 : S3_AUTH_MALFORMED;
}

static void set_timestamp(s3_auth_t *out, int64_t t)
{
    out->request_time = t;
    s3_sigv4_format_time(t, out->timestamp);
}

static int parse_content_sha256(h2o_iovec_t v, s3_auth_t *out)
{
    static const struct {
        const char *name;
        s3_payload_mode_t mode;
    } modes[] = {
        {"UNSIGNED-PAYLOAD", S3_PAYLOAD_UNSIGNED},
        {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", S3_PAYLOAD_STREAMING_SIGNED},
        {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", S3_PAYLOAD_STREAMING_SIGNED_TRAILER},
        {"STREAMING-UNSIGNED-PAYLOAD-TRAILER", S3_PAYLOAD_STREAMING_UNSIGNED_TRAILER},
    };

    out->payload_hash = v;
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        if (iov_eq(v, modes[i].name)) {
            out->payload_mode = modes[i].mode;
            return 0;
        }
    }
    if (v.len == 64 && s3_checksum_from_hex(v, out->payload_sha256, 32) == 0) {
        out->payload_mode = S3_PAYLOAD_SHA256;
        return 0;
    }
    return S3_AUTH_BAD_CONTENT_SHA256;
}

static int parse_header_auth(const s3_request_t *req, h2o_iovec_t value, s3_auth_t *out)
{
    h2o_iovec_t rest, cred = {NULL, 0}, signed_headers = {NULL, 0}, sig = {NULL, 0}, date, sha;
    int64_t t;
    int ret, r;

    if (!iov_has_prefix(value, ALGORITHM " "))
        return iov_has_prefix(value, "AWS ") || !iov_has_prefix(value, ALGORITHM) ? S3_AUTH_UNSUPPORTED
                                                                                  : S3_AUTH_MALFORMED;
    rest = iov_trim(h2o_iovec_init(value.base + strlen(ALGORITHM), value.len - strlen(ALGORITHM)));
    if (rest.len == 0 || rest.base[rest.len - 1] == ',')
        return S3_AUTH_MALFORMED;
    while (1) {
        h2o_iovec_t item = iov_trim(iov_split(&rest, ',')), *slot;
        if (iov_has_prefix(item, "Credential="))
            slot = &cred;
        else if (iov_has_prefix(item, "SignedHeaders="))
            slot = &signed_headers;
        else if (iov_has_prefix(item, "Signature="))
            slot = &sig;
        else
            return S3_AUTH_MALFORMED;
        if (slot->base != NULL)
            return S3_AUTH_MALFORMED;
        const char *eq = memchr(item.base, '=', item.len);
        *slot = h2o_iovec_init(eq + 1, item.len - (size_t)(eq + 1 - item.base));
        if (rest.len == 0)
            break;
    }
    if (cred.base == NULL || signed_headers.base == NULL || sig.base == NULL)
        return S3_AUTH_MALFORMED;
    if ((ret = parse_credential(cred, out)) != 0 || (ret = check_signed_headers(signed_headers)) != 0 ||
        (ret = parse_signature(sig, out)) != 0)
        return ret;
    out->signed_headers = signed_headers;

    /* the request time: x-amz-date, else Date (ISO 8601 basic, or the HTTP form) */
    if ((r = find_header(req, "x-amz-date", &date)) < 0)
        return S3_AUTH_MALFORMED;
    if (r > 0) {
        if (s3_sigv4_parse_time(date, &t) != 0)
            return S3_AUTH_MISSING_DATE;
    } else {
        if ((r = find_header(req, "date", &date)) < 0)
            return S3_AUTH_MALFORMED;
        if (r == 0 || (s3_sigv4_parse_time(date, &t) != 0 && parse_http_date(date, &t) != 0))
            return S3_AUTH_MISSING_DATE;
    }
    set_timestamp(out, t);
    if (memcmp(out->date, out->timestamp, 8) != 0)
        return S3_AUTH_MALFORMED;

    if ((r = find_header(req, "x-amz-content-sha256", &sha)) < 0)
        return S3_AUTH_BAD_CONTENT_SHA256;
    if (r == 0 && s3_auth_is_iam(out)) {
        /* IAM clients sign the body's hash without sending it: the caller fills it in from the body */
        out->payload_mode = S3_PAYLOAD_SHA256;
        out->payload_hash = h2o_iovec_init(NULL, 0);
        out->kind = S3_AUTH_KIND_HEADER;
        return 0;
    }
    if (r == 0)
        return S3_AUTH_MISSING_CONTENT_SHA256;
    if ((ret = parse_content_sha256(sha, out)) != 0)
        return ret;
    /* an unsigned payload hash would let anyone swap the body of a captured request */
    if (!s3_auth_header_is_signed(out, h2o_iovec_init(H2O_STRLIT("x-amz-content-sha256"))))
        return S3_AUTH_MALFORMED;
    out->kind = S3_AUTH_KIND_HEADER;
    return 0;
}

enum { QP_ALGORITHM, QP_CREDENTIAL, QP_DATE, QP_EXPIRES, QP_SIGNED_HEADERS, QP_SIGNATURE, QP_COUNT };
static const char *const query_param_names[QP_COUNT] = {"X-Amz-Algorithm", "X-Amz-Credential",    "X-Amz-Date",
                                                        "X-Amz-Expires",   "X-Amz-SignedHeaders", "X-Amz-Signature"};

static int parse_presigned(h2o_iovec_t *raw, h2o_mem_pool_t *pool, s3_auth_t *out)
{
    h2o_iovec_t v[QP_COUNT];
    int64_t t, expires = 0;
    int ret;

    for (int i = 0; i < QP_COUNT; i++) {
        if (raw[i].base == NULL)
            return S3_AUTH_MALFORMED;
        if ((ret = pool_decode(pool, raw[i], &v[i])) != 0)
            return ret;
    }
    if (!iov_eq(v[QP_ALGORITHM], ALGORITHM))
        return S3_AUTH_MALFORMED;
    if ((ret = parse_credential(v[QP_CREDENTIAL], out)) != 0 ||
        (ret = check_signed_headers(v[QP_SIGNED_HEADERS])) != 0 || (ret = parse_signature(v[QP_SIGNATURE], out)) != 0)
        return ret;
    if (s3_auth_is_iam(out))
        return S3_AUTH_MALFORMED; /* no presigned IAM calls */
    out->signed_headers = v[QP_SIGNED_HEADERS];
    if (s3_sigv4_parse_time(v[QP_DATE], &t) != 0)
        return S3_AUTH_MALFORMED;
    set_timestamp(out, t);
    if (memcmp(out->date, out->timestamp, 8) != 0)
        return S3_AUTH_MALFORMED;
    h2o_iovec_t ev = v[QP_EXPIRES];
    int negative = ev.len > 1 && ev.base[0] == '-';
    if (negative)
        ev = h2o_iovec_init(ev.base + 1, ev.len - 1);
    if (ev.len == 0 || ev.len > 9)
        return S3_AUTH_MALFORMED;
    for (size_t i = 0; i < ev.len; i++) {
        char ch = ev.base[i];
        if (ch < '0' || ch > '9')
            return S3_AUTH_MALFORMED;
        expires = expires * 10 + (ch - '0');
    }
    if (negative)
        return S3_AUTH_EXPIRES_NEGATIVE;
    if (expires > S3_SIGV4_MAX_EXPIRES)
        return S3_AUTH_EXPIRES_TOO_LATE; /* a number, but past the week SigV4 allows */
    out->expires = expires;
    out->payload_mode = S3_PAYLOAD_UNSIGNED;
    out->payload_hash = h2o_iovec_init(H2O_STRLIT("UNSIGNED-PAYLOAD"));
    out->kind = S3_AUTH_KIND_PRESIGNED;
    return 0;
}

int s3_auth_parse(const s3_request_t *req, h2o_mem_pool_t *pool, s3_auth_t *out)
{
    h2o_iovec_t authz, token, raw[QP_COUNT];
    int has_authz, presigned = 0, sigv2 = 0, has_token = 0;

    memset(out, 0, sizeof(*out));
    memset(raw, 0, sizeof(raw));
    if ((has_authz = find_header(req, "authorization", &authz)) < 0)
        return S3_AUTH_MALFORMED;
    if (has_authz && iov_trim(authz).len == 0)
        has_authz = 0; /* an empty Authorization carries no credentials: an anonymous request */
    if (find_header(req, "x-amz-security-token", &token) != 0)
        has_token = 1;

    for (h2o_iovec_t rest = req->query; rest.len > 0;) {
        h2o_iovec_t pair = iov_split(&rest, '&'), name = iov_split(&pair, '=');
        if (iov_eq(name, "X-Amz-Security-Token"))
            has_token = 1;
        if (iov_eq(name, "AWSAccessKeyId") || iov_eq(name, "Signature"))
            sigv2 = 1;
        for (int i = 0; i < QP_COUNT; i++) {
            if (!iov_eq(name, query_param_names[i]))
                continue;
            if (raw[i].base != NULL)
                return S3_AUTH_MALFORMED;
            raw[i] = pair; /* base is never NULL here, so it marks the parameter present */
            if (i == QP_ALGORITHM || i == QP_CREDENTIAL || i == QP_SIGNATURE)
                presigned = 1;
        }
    }

    if (has_authz && presigned)
        return S3_AUTH_MULTIPLE;
    if (has_token)
        return S3_AUTH_UNSUPPORTED;
    if (has_authz)
        return parse_header_auth(req, authz, out);
    if (presigned)
        return parse_presigned(raw, pool, out);
    if (sigv2)
        return S3_AUTH_UNSUPPORTED;
    out->kind = S3_AUTH_KIND_NONE;
    return 0;
}

int s3_auth_header_is_signed(const s3_auth_t *auth, h2o_iovec_t name)
{
    for (h2o_iovec_t rest = auth->signed_headers; rest.len > 0;) {
        h2o_iovec_t n = iov_split(&rest, ';');
        if (n.len == name.len && memcmp(n.base, name.base, n.len) == 0)
            return 1;
    }
    return 0;
}

/* ---- verification ---- */

int s3_sigv4_check_time(const s3_auth_t *auth, int64_t now)
{
    switch (auth->kind) {
    case S3_AUTH_KIND_HEADER:
        if (now - auth->request_time > S3_SIGV4_MAX_SKEW || auth->request_time - now > S3_SIGV4_MAX_SKEW)
            return S3_AUTH_SKEWED;
        return 0;
    case S3_AUTH_KIND_PRESIGNED:
        /* a URL signed by a client whose clock runs a little ahead is still usable */
        if (auth->request_time - now > S3_SIGV4_MAX_SKEW)
            return S3_AUTH_NOT_YET_VALID;
        if (now > auth->request_time + auth->expires || auth->expires == 0) /* 0: expired when made */
            return S3_AUTH_EXPIRED;
        return 0;
    default:
        return S3_AUTH_MALFORMED;
    }
}

static int make_scope(const char *date, h2o_iovec_t region, h2o_iovec_t service, char *out, size_t out_size,
                      size_t *out_len)
{
    size_t n = 8 + 1 + region.len + 1 + service.len + strlen("/aws4_request");

    if (region.len > S3_SIGV4_MAX_REGION || n + 1 > out_size)
        return S3_AUTH_MALFORMED;
    memcpy(out, date, 8);
    out[8] = '/';
    memcpy(out + 9, region.base, region.len);
    out[9 + region.len] = '/';
    memcpy(out + 10 + region.len, service.base, service.len);
    memcpy(out + 10 + region.len + service.len, "/aws4_request", strlen("/aws4_request") + 1);
    *out_len = n;
    return 0;
}

int s3_sigv4_verify(const s3_request_t *req, const s3_auth_t *auth, h2o_iovec_t secret_key, int64_t now,
                    s3_sigv4_ctx_t *out_ctx)
{
    s3_sigv4_ctx_t ctx;
    uint8_t sig[32];
    int ret;

    memset(&ctx, 0, sizeof(ctx));
    if (auth->kind != S3_AUTH_KIND_HEADER && auth->kind != S3_AUTH_KIND_PRESIGNED) {
        ret = S3_AUTH_MALFORMED;
        goto fail;
    }
    if ((ret = s3_sigv4_check_time(auth, now)) != 0)
        goto fail;
    if (!s3_auth_header_is_signed(auth, h2o_iovec_init(H2O_STRLIT("host")))) {
        ret = S3_AUTH_MALFORMED;
        goto fail;
    }
    if ((ret = make_scope(auth->date, auth->region, auth->service, ctx.scope, sizeof(ctx.scope), &ctx.scope_len)) != 0)
        goto fail;
    memcpy(ctx.timestamp, auth->timestamp, sizeof(ctx.timestamp));
    if ((ret = s3_sigv4_signing_key(secret_key, h2o_iovec_init(auth->date, 8), auth->region, auth->service,
                                    ctx.signing_key)) != 0)
        goto fail;
    if ((ret = request_signature(req, auth->signed_headers, auth->payload_hash, auth->kind == S3_AUTH_KIND_PRESIGNED,
                                 ctx.signing_key, ctx.timestamp, ctx.scope, ctx.seed_signature)) != 0)
        goto fail;
    if (s3_checksum_from_hex(h2o_iovec_init(ctx.seed_signature, 64), sig, 32) != 0 ||
        CRYPTO_memcmp(sig, auth->signature, 32) != 0) {
        ret = S3_AUTH_SIGNATURE_MISMATCH;
        goto fail;
    }
    if (out_ctx != NULL)
        *out_ctx = ctx;
    OPENSSL_cleanse(&ctx, sizeof(ctx));
    return 0;

fail:
    OPENSSL_cleanse(&ctx, sizeof(ctx));
    return ret;
}

/* ---- signing (client side) ---- */

static int compare_names(const void *x, const void *y)
{
    const h2o_iovec_t *a = *(const h2o_iovec_t *const *)x, *b = *(const h2o_iovec_t *const *)y;
    return compare_bytes(a->base, a->len, b->base, b->len);
}

int s3_sigv4_sign(const s3_request_t *req, h2o_iovec_t payload_hash, h2o_iovec_t access_key, h2o_iovec_t secret_key,
                  h2o_iovec_t region, int64_t now, char *out, size_t out_size, s3_sigv4_ctx_t *out_ctx)
{
    return s3_sigv4_sign_service(req, payload_hash, access_key, secret_key, region, h2o_iovec_init(H2O_STRLIT("s3")),
                                 now, out, out_size, out_ctx);
}

int s3_sigv4_sign_service(const s3_request_t *req, h2o_iovec_t payload_hash, h2o_iovec_t access_key,
                          h2o_iovec_t secret_key, h2o_iovec_t region, h2o_iovec_t service, int64_t now, char *out,
                          size_t out_size, s3_sigv4_ctx_t *out_ctx)
{
    s3_sigv4_ctx_t ctx;
    const h2o_iovec_t **names = NULL;
    struct sbuf list = {0};
    size_t n = 0;
    int ret = S3_AUTH_NOMEM, written;

    memset(&ctx, 0, sizeof(ctx));
    if (req->num_headers == 0 || access_key.len == 0 || access_key.len > S3_SIGV4_MAX_ACCESS_KEY) {
        ret = S3_AUTH_MALFORMED;
        goto fail;
    }
    if ((names = calloc(req->num_headers, sizeof(*names))) == NULL)
        goto fail;
    for (size_t i = 0; i < req->num_headers; i++) {
        if (req->headers[i].name == NULL) {
            ret = S3_AUTH_MALFORMED;
            goto fail;
        }
        names[n++] = req->headers[i].name;
    }
    qsort(names, n, sizeof(*names), compare_names);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && compare_names(&names[i - 1], &names[i]) == 0)
            continue; /* a repeated header is signed once, its values joined */
        if (list.len > 0)
            sbuf_addc(&list, ';');
        sbuf_addv(&list, *names[i]);
    }
    if (list.failed)
        goto fail;
    if (check_signed_headers(h2o_iovec_init(list.base, list.len)) != 0) {
        ret = S3_AUTH_MALFORMED;
        goto fail;
    }
    s3_sigv4_format_time(now, ctx.timestamp);
    if (service.len == 0 || service.len > 16) {
        ret = S3_AUTH_MALFORMED;
        goto fail;
    }
    if ((ret = make_scope(ctx.timestamp, region, service, ctx.scope, sizeof(ctx.scope), &ctx.scope_len)) != 0 ||
        (ret = s3_sigv4_signing_key(secret_key, h2o_iovec_init(ctx.timestamp, 8), region, service, ctx.signing_key)) !=
            0 ||
        (ret = request_signature(req, h2o_iovec_init(list.base, list.len), payload_hash, 0, ctx.signing_key,
                                 ctx.timestamp, ctx.scope, ctx.seed_signature)) != 0)
        goto fail;
    written = snprintf(out, out_size, ALGORITHM " Credential=%.*s/%s,SignedHeaders=%.*s,Signature=%s",
                       (int)access_key.len, access_key.base, ctx.scope, (int)list.len, list.base, ctx.seed_signature);
    if (written < 0 || (size_t)written >= out_size) {
        ret = S3_AUTH_MALFORMED;
        goto fail;
    }
    if (out_ctx != NULL)
        *out_ctx = ctx;
    ret = 0;
fail:
    OPENSSL_cleanse(&ctx, sizeof(ctx));
    free(names);
    sbuf_free(&list);
    return ret;
}

/* ---- chunk and trailer signatures ---- */

static int chained_signature(const s3_sigv4_ctx_t *ctx, const char *algorithm, const char *prev, const char *middle_hex,
                             const uint8_t hash[32], char out[65])
{
    char buf[512], hash_hex[65];
    uint8_t sig[32];
    int n;

    yc_hex(hash, 32, hash_hex);
    n = snprintf(buf, sizeof(buf), "%s\n%s\n%.*s\n%.64s\n%s%s%s", algorithm, ctx->timestamp, (int)ctx->scope_len,
                 ctx->scope, prev, middle_hex, middle_hex[0] ? "\n" : "", hash_hex);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return S3_AUTH_MALFORMED;
    if (hmac_sha256(ctx->signing_key, 32, buf, (size_t)n, sig) != 0)
        return S3_AUTH_NOMEM;
    yc_hex(sig, 32, out);
    return 0;
}

int s3_sigv4_chunk_signature(const s3_sigv4_ctx_t *ctx, const char *prev, const uint8_t data_sha256[32], char out[65])
{
    return chained_signature(ctx, "AWS4-HMAC-SHA256-PAYLOAD", prev, EMPTY_SHA256_HEX, data_sha256, out);
}

int s3_sigv4_trailer_signature(const s3_sigv4_ctx_t *ctx, const char *prev, const uint8_t trailers_sha256[32],
                               char out[65])
{
    return chained_signature(ctx, "AWS4-HMAC-SHA256-TRAILER", prev, "", trailers_sha256, out);
}
