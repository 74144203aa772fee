/* post_policy.c — parsing and checking the POST policy, and the form's signatures (see
 * post_policy.h). The JSON is parsed by jansson; the conditions are kept as jansson values and
 * read when checked (a policy has a handful of them and is checked once). */
#include "gateway/s3/post_policy.h"
#include "gateway/s3/sigv4.h"
#include "common/bytes.h"
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLICY_MAX (20 * 1024) /* decoded: the form's fields before the file are 20 KiB at most */

struct s3_post_policy {
    json_t *doc;
    json_t *conditions; /* borrowed from doc */
    int64_t expiration;
    int has_range;
    uint64_t min, max;
};

static void message(char *msg, const char *fmt, const char *a)
{
    snprintf(msg, S3_POST_MESSAGE_MAX, fmt, a);
}

/* "yyyy-mm-ddThh:mm:ss[.fff]Z" into Unix seconds; -1 when not that. */
static int parse_expiration(const char *s, int64_t *out)
{
    struct tm tm = {0};
    int n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec, &n) != 6 ||
        n != 19)
        return -1;
    const char *p = s + n;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (strcmp(p, "Z") != 0 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (int64_t)timegm(&tm);
    return 0;
}

static int is_op(const json_t *v, const char *op)
{
    return json_is_string(v) && strcasecmp(json_string_value(v), op) == 0;
}

/* A length bound: a non-negative JSON integer or a string of digits. */
static int length_value(const json_t *v, uint64_t *out)
{
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            return -1;
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 19)
        return -1;
    uint64_t n = 0;
    for (const char *p = json_string_value(v); *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        n = n * 10 + (uint64_t)(*p - '0');
    }
    *out = n;
    return 0;
}

/* Checks the shape of every condition once, so that the check never meets a malformed one. */
static int validate_conditions(s3_post_policy_t *p, char *msg)
{
    size_t i;
    json_t *c;

    json_array_foreach(p->conditions, i, c)
    {
        if (json_is_object(c)) {
            if (json_object_size(c) != 1) {
                message(msg, "Invalid Policy: Invalid Simple-Condition: %s",
                        "Simple-Conditions must have exactly one property specified.");
                return -1;
            }
            const char *k;
            json_t *v;
            json_object_foreach(c, k, v)
            {
                if (!json_is_string(v)) {
                    message(msg, "Invalid Policy: Invalid Simple-Condition: value of '%s' must be a string.", k);
                    return -1;
                }
            }
            continue;
        }
        if (!json_is_array(c) || json_array_size(c) == 0) {
            message(msg, "Invalid Policy: %s", "Invalid Condition: conditions must be objects or arrays.");
            return -1;
        }
        json_t *op = json_array_get(c, 0);
        if (is_op(op, "content-length-range")) {
            uint64_t lo, hi;
            if (json_array_size(c) != 3 || length_value(json_array_get(c, 1), &lo) != 0 ||
                length_value(json_array_get(c, 2), &hi) != 0 || lo > hi) {
                message(msg, "Invalid Policy: Invalid 'content-length-range' condition: %s",
                        "expected [\"content-length-range\", min, max] with 0 <= min <= max.");
                return -1;
            }
            p->has_range = 1;
            p->min = lo;
            p->max = hi;
            continue;
        }
        if (!is_op(op, "eq") && !is_op(op, "starts-with")) {
            message(msg, "Invalid Policy: Invalid Condition: unknown operation '%s'.",
                    json_is_string(op) ? json_string_value(op) : "?");
            return -1;
        }
        json_t *field = json_array_get(c, 1), *value = json_array_get(c, 2);
        if (json_array_size(c) != 3 || !json_is_string(field) || json_string_value(field)[0] != '$' ||
            !json_is_string(value)) {
            message(msg, "Invalid Policy: Invalid Condition: %s",
                    "expected [operation, \"$field\", \"value\"] with string values.");
            return -1;
        }
    }
    return 0;
}

int s3_post_policy_parse(h2o_iovec_t b64, s3_post_policy_t **out, char *msg)
{
    s3_post_policy_t *p;
    char *clean = NULL;
    uint8_t *json = NULL;
    size_t clean_len = 0, json_len;
    json_error_t jerr;
    int ret = S3_POST_NOMEM;

    if ((p = calloc(1, sizeof(*p))) == NULL || (clean = malloc(b64.len + 1)) == NULL ||
        (json = malloc(b64.len + 1)) == NULL)
        goto fail;
    for (size_t i = 0; i < b64.len; i++)
        if (b64.base[i] != '\r' && b64.base[i] != '\n' && b64.base[i] != ' ' && b64.base[i] != '\t')
            clean[clean_len++] = b64.base[i];
    ret = S3_POST_INVALID_POLICY;
    if (yc_base64_decode(clean, clean_len, json, b64.len, &json_len) != 0 || json_len > POLICY_MAX) {
        message(msg, "Invalid Policy: %s", "Invalid Base64 encoding.");
        goto fail;
    }
    if ((p->doc = json_loadb((const char *)json, json_len, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
        !json_is_object(p->doc)) {
        message(msg, "Invalid Policy: %s", "Invalid JSON.");
        goto fail;
    }
    /* the names are case-sensitive ("Expiration" is no expiration) */
    json_t *exp = json_object_get(p->doc, "expiration");
    if (exp == NULL) {
        message(msg, "Invalid Policy: %s", "Policy missing expiration.");
        goto fail;
    }
    if (!json_is_string(exp) || parse_expiration(json_string_value(exp), &p->expiration) != 0) {
        message(msg, "Invalid Policy: Invalid 'expiration' value: '%.200s'",
                json_is_string(exp) ? json_string_value(exp) : "?");
        goto fail;
    }
    p->conditions = json_object_get(p->doc, "conditions");
    if (p->conditions == NULL || !json_is_array(p->conditions)) {
        message(msg, "Invalid Policy: %s", "Policy missing conditions.");
        goto fail;
    }
    if (validate_conditions(p, msg) != 0)
        goto fail;
    free(clean);
    free(json);
    *out = p;
    return 0;

fail:
    free(clean);
    free(json);
    s3_post_policy_free(p);
    return ret;
}

void s3_post_policy_free(s3_post_policy_t *p)
{
    if (p == NULL)
        return;
    json_decref(p->doc);
    free(p);
}

void s3_post_policy_length_range(const s3_post_policy_t *p, uint64_t *min, uint64_t *max)
{
    *min = p->has_range ? p->min : 0;
    *max = p->has_range ? p->max : UINT64_MAX;
}

/* The value of field name (without '$', any case) in the form; bucket and key are the request's. */
static int lookup(const s3_form_field_t *fields, size_t n, h2o_iovec_t bucket, h2o_iovec_t key, const char *name,
                  h2o_iovec_t *out)
{
    size_t len = strlen(name);
    if (strcasecmp(name, "bucket") == 0) {
        *out = bucket;
        return 0;
    }
    if (strcasecmp(name, "key") == 0) {
        *out = key;
        return key.base != NULL ? 0 : -1;
    }
    for (size_t i = 0; i < n; i++)
        if (fields[i].name.len == len && strncasecmp(fields[i].name.base, name, len) == 0) {
            *out = fields[i].value;
            return 0;
        }
    return -1;
}

static void condition_failed(char *msg, const char *op, const char *field, const char *value)
{
    snprintf(msg, S3_POST_MESSAGE_MAX,
             "Invalid according to Policy: Policy Condition failed: [\"%s\", \"%.100s\", \"%.200s\"]", op, field,
             value);
}

/* 1 when a condition of the policy names the field (any case). */
static int named(const s3_post_policy_t *p, h2o_iovec_t name)
{
    size_t i;
    json_t *c;

    json_array_foreach(p->conditions, i, c)
    {
        const char *f = NULL;
        if (json_is_object(c)) {
            json_t *v;
            json_object_foreach(c, f, v) break;
        } else if (!is_op(json_array_get(c, 0), "content-length-range")) {
            f = json_string_value(json_array_get(c, 1)) + 1;
        }
        if (f != NULL && strlen(f) == name.len && strncasecmp(f, name.base, name.len) == 0)
            return 1;
    }
    return 0;
}

static int exempt(h2o_iovec_t name)
{
    static const char *const own[] = {"policy", "x-amz-signature", "signature", "awsaccesskeyid", "file", NULL};
    for (const char *const *o = own; *o != NULL; o++)
        if (strlen(*o) == name.len && strncasecmp(*o, name.base, name.len) == 0)
            return 1;
    return name.len >= 9 && strncasecmp(name.base, "x-ignore-", 9) == 0;
}

int s3_post_policy_check(const s3_post_policy_t *p, int64_t now, const s3_form_field_t *fields, size_t nfields,
                         h2o_iovec_t bucket, h2o_iovec_t key, char *msg)
{
    size_t i;
    json_t *c;

    if (now > p->expiration) {
        message(msg, "%s", "Invalid according to Policy: Policy expired.");
        return S3_POST_EXPIRED;
    }
    json_array_foreach(p->conditions, i, c)
    {
        const char *field, *want, *op = "eq";
        h2o_iovec_t have;
        if (json_is_object(c)) {
            json_t *v = NULL;
            json_object_foreach(c, field, v) break;
            want = json_string_value(v);
        } else {
            if (is_op(json_array_get(c, 0), "content-length-range"))
                continue; /* checked against the file as it streams */
            op = is_op(json_array_get(c, 0), "eq") ? "eq" : "starts-with";
            field = json_string_value(json_array_get(c, 1)) + 1;
            want = json_string_value(json_array_get(c, 2));
        }
        size_t want_len = strlen(want);
        int present = lookup(fields, nfields, bucket, key, field, &have) == 0;
        /* ["starts-with", "$field", ""] allows any value, no field included: S3 takes a form
         * without it (a policy written for forms that may or may not carry the field) */
        int ok = present ? (op[0] == 'e' ? have.len == want_len && memcmp(have.base, want, want_len) == 0
                                         : have.len >= want_len && memcmp(have.base, want, want_len) == 0)
                         : op[0] == 's' && want_len == 0;
        if (!ok) {
            char shown[128];
            snprintf(shown, sizeof(shown), "$%s", field);
            condition_failed(msg, op, shown, want);
            return S3_POST_CONDITION_FAILED;
        }
    }
    /* every field the form sent (and the bucket) must be covered by a condition */
    char extra[S3_POST_MESSAGE_MAX];
    size_t extra_len = 0;
    if (!named(p, h2o_iovec_init(H2O_STRLIT("bucket"))))
        extra_len += (size_t)snprintf(extra, sizeof(extra), "bucket");
    for (i = 0; i < nfields; i++) {
        if (exempt(fields[i].name) || named(p, fields[i].name))
            continue;
        if (extra_len + fields[i].name.len + 3 < sizeof(extra) - 100)
            extra_len += (size_t)snprintf(extra + extra_len, sizeof(extra) - extra_len, "%s%.*s", extra_len ? ", " : "",
                                          (int)fields[i].name.len, fields[i].name.base);
    }
    if (extra_len > 0) {
        snprintf(msg, S3_POST_MESSAGE_MAX, "Invalid according to Policy: Extra input fields: %.400s", extra);
        return S3_POST_EXTRA_FIELDS;
    }
    return 0;
}

int s3_post_credential_parse(h2o_iovec_t cred, h2o_iovec_t *access_key, h2o_iovec_t *date, h2o_iovec_t *region)
{
    h2o_iovec_t part[5];
    const char *p = cred.base, *end = cred.base + cred.len;
    for (int i = 0; i < 5; i++) {
        const char *slash = i < 4 ? memchr(p, '/', (size_t)(end - p)) : end;
        if (slash == NULL || slash == p)
            return S3_POST_MALFORMED_CREDENTIAL;
        part[i] = h2o_iovec_init(p, (size_t)(slash - p));
        p = slash + (i < 4);
    }
    if (part[1].len != 8 || !h2o_memis(part[3].base, part[3].len, H2O_STRLIT("s3")) ||
        !h2o_memis(part[4].base, part[4].len, H2O_STRLIT("aws4_request")))
        return S3_POST_MALFORMED_CREDENTIAL;
    for (size_t i = 0; i < 8; i++)
        if (part[1].base[i] < '0' || part[1].base[i] > '9')
            return S3_POST_MALFORMED_CREDENTIAL;
    *access_key = part[0];
    *date = part[1];
    *region = part[2];
    return 0;
}

int s3_post_verify_sigv4(h2o_iovec_t policy, h2o_iovec_t secret, h2o_iovec_t date, h2o_iovec_t region, h2o_iovec_t sig)
{
    uint8_t key[32], mac[32], given[32];
    unsigned mac_len = 0;
    int ret = -1;

    if (sig.len != 64 || yc_unhex(sig.base, 32, given) != 0)
        return -1;
    if (s3_sigv4_signing_key(secret, date, region, h2o_iovec_init(H2O_STRLIT("s3")), key) == 0 &&
        HMAC(EVP_sha256(), key, sizeof(key), (const unsigned char *)policy.base, policy.len, mac, &mac_len) != NULL &&
        mac_len == 32)
        ret = CRYPTO_memcmp(mac, given, 32) == 0 ? 0 : -1;
    OPENSSL_cleanse(key, sizeof(key));
    return ret;
}

int s3_post_verify_sigv2(h2o_iovec_t policy, h2o_iovec_t secret, h2o_iovec_t sig)
{
    uint8_t mac[20], given[21];
    unsigned mac_len = 0;
    size_t given_len;

    if (yc_base64_decode(sig.base, sig.len, given, sizeof(given), &given_len) != 0 || given_len != 20)
        return -1;
    if (HMAC(EVP_sha1(), secret.base, (int)secret.len, (const unsigned char *)policy.base, policy.len, mac, &mac_len) ==
            NULL ||
        mac_len != 20)
        return -1;
    return CRYPTO_memcmp(mac, given, 20) == 0 ? 0 : -1;
}

h2o_iovec_t s3_post_key_substitute(h2o_mem_pool_t *pool, h2o_iovec_t key, h2o_iovec_t filename)
{
    static const char var[] = "${filename}";
    const size_t var_len = sizeof(var) - 1;
    size_t count = 0;

    for (size_t i = 0; i + var_len <= key.len; i++)
        if (memcmp(key.base + i, var, var_len) == 0)
            count++, i += var_len - 1;
    if (count == 0)
        return key;
    size_t len = key.len + count * filename.len - count * var_len;
    char *out = h2o_mem_alloc_pool(pool, len + 1), *o = out;
    for (size_t i = 0; i < key.len;) {
        if (i + var_len <= key.len && memcmp(key.base + i, var, var_len) == 0) {
            memcpy(o, filename.base, filename.len);
            o += filename.len;
            i += var_len;
        } else {
            *o++ = key.base[i++];
        }
    }
    *o = 0;
    return h2o_iovec_init(out, len);
}
