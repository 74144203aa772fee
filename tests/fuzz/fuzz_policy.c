/* fuzz_policy.c — the policy parser on arbitrary bytes, then the evaluator on what it accepts.
 *
 * The first byte picks the kind (even: a bucket policy of bucket "photos", odd: an identity
 * policy); the rest is the document. A refusal must be MalformedPolicy with a bounded message an
 * XML answer can carry. An accepted document must pass an independent check of the grammar's
 * structure, written here against jansson directly (so that the parser cannot accept what the
 * grammar forbids without this target noticing), must give back its text byte for byte, and must
 * evaluate to one of the three decisions — the same twice — for a few fixed requests.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/policy.h"

#define IOV(s) h2o_iovec_init((s), strlen(s))

static int in_list(const char *s, const char *const *list)
{
    for (; *list != NULL; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

/* A string or a non-empty array of strings. */
static int strings(const json_t *v)
{
    if (json_is_string(v))
        return 1;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return 0;
    for (size_t i = 0; i < json_array_size(v); i++)
        if (!json_is_string(json_array_get(v, i)))
            return 0;
    return 1;
}

static int scalar(const json_t *v)
{
    return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

/* 1 when pattern[0..n) ('*' any run, '?' one character) matches all of text; recursive, unlike
 * the parser's, so that the two check each other. */
static int glob(const char *pattern, size_t n, const char *text)
{
    if (n == 0)
        return *text == '\0';
    if (*pattern == '*') {
        while (n > 1 && pattern[1] == '*') /* a run of stars is one star */
            pattern++, n--;
        return glob(pattern + 1, n - 1, text) || (*text != '\0' && glob(pattern, n, text + 1));
    }
    return *text != '\0' && (*pattern == '?' || *pattern == *text) && glob(pattern + 1, n - 1, text + 1);
}

/* The bucket part of the ARN (up to the first '/') names the bucket or matches its name. */
static int resource_in_bucket(const char *r)
{
    static const char prefix[] = "arn:aws:s3:::";
    size_t n = sizeof(prefix) - 1;
    if (strncmp(r, prefix, n) != 0)
        return 0;
    const char *slash = strchr(r + n, '/');
    size_t len = slash != NULL ? (size_t)(slash - (r + n)) : strlen(r + n);
    return glob(r + n, len, "photos");
}

/* 1 when the statement has the structure the grammar requires. */
static int statement_ok(const json_t *st, int bucket)
{
    static const char *const fields[] = {"Sid",       "Effect",   "Principal",   "NotPrincipal", "Action",
                                         "NotAction", "Resource", "NotResource", "Condition",    NULL};
    const char *k;
    const json_t *v, *res;

    if (!json_is_object(st))
        return 0;
    json_object_foreach((json_t *)st, k, v) if (!in_list(k, fields)) return 0;
    if ((v = json_object_get(st, "Sid")) != NULL && !json_is_string(v))
        return 0;
    v = json_object_get(st, "Effect");
    if (!json_is_string(v) || (strcmp(json_string_value(v), "Allow") != 0 && strcmp(json_string_value(v), "Deny") != 0))
        return 0;
    int principals = (json_object_get(st, "Principal") != NULL) + (json_object_get(st, "NotPrincipal") != NULL);
    if (principals != (bucket ? 1 : 0))
        return 0;
    if ((json_object_get(st, "Action") != NULL) + (json_object_get(st, "NotAction") != NULL) != 1)
        return 0;
    if (!strings(json_object_get(st, "Action") ? json_object_get(st, "Action") : json_object_get(st, "NotAction")))
        return 0;
    if ((json_object_get(st, "Resource") != NULL) + (json_object_get(st, "NotResource") != NULL) != 1)
        return 0;
    res = json_object_get(st, "Resource") ? json_object_get(st, "Resource") : json_object_get(st, "NotResource");
    if (!strings(res))
        return 0;
    for (size_t i = 0; bucket && i < (json_is_array(res) ? json_array_size(res) : 1); i++)
        if (!resource_in_bucket(json_string_value(json_is_array(res) ? json_array_get(res, i) : res)))
            return 0;
    if ((v = json_object_get(st, "Condition")) != NULL) {
        const char *op, *key;
        const json_t *block, *vals;
        if (!json_is_object(v))
            return 0;
        json_object_foreach((json_t *)v, op, block)
        {
            if (!json_is_object(block))
                return 0;
            json_object_foreach((json_t *)block, key, vals)
            {
                if (json_is_array(vals)) {
                    if (json_array_size(vals) == 0)
                        return 0;
                    for (size_t i = 0; i < json_array_size(vals); i++)
                        if (!scalar(json_array_get(vals, i)))
                            return 0;
                } else if (!scalar(vals)) {
                    return 0;
                }
            }
        }
    }
    return 1;
}

/* 1 when the document has the structure the grammar requires. */
static int document_ok(const uint8_t *text, size_t len, int bucket)
{
    static const char *const fields[] = {"Version", "Id", "Statement", NULL};
    json_error_t jerr;
    json_t *root = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *k;
    json_t *v, *stmts;
    int ok = 0;

    if (root == NULL || !json_is_object(root) || len > S3_POLICY_MAX_SIZE)
        goto done;
    json_object_foreach(root, k, v) if (!in_list(k, fields)) goto done;
    if ((v = json_object_get(root, "Version")) != NULL &&
        (!json_is_string(v) ||
         (strcmp(json_string_value(v), "2012-10-17") != 0 && strcmp(json_string_value(v), "2008-10-17") != 0)))
        goto done;
    if ((v = json_object_get(root, "Id")) != NULL && !json_is_string(v))
        goto done;
    if ((stmts = json_object_get(root, "Statement")) == NULL)
        goto done;
    if (json_is_array(stmts)) {
        if (json_array_size(stmts) == 0)
            goto done;
        for (size_t i = 0; i < json_array_size(stmts); i++)
            if (!statement_ok(json_array_get(stmts, i), bucket))
                goto done;
    } else if (!statement_ok(stmts, bucket)) {
        goto done;
    }
    ok = 1;
done:
    json_decref(root);
    return ok;
}

static void check_request(const s3_policy_t *p, const s3_policy_request_t *r)
{
    s3_policy_decision_t d = s3_policy_evaluate(p, r);
    if (d != S3_POLICY_NOT_APPLICABLE && d != S3_POLICY_ALLOW && d != S3_POLICY_DENY)
        abort();
    if (s3_policy_evaluate(p, r) != d) /* evaluation has no state */
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int bucket = !(data[0] & 1);
    s3_policy_options_t opt = {.kind = bucket ? S3_POLICY_BUCKET : S3_POLICY_IDENTITY, .bucket = IOV("photos")};
    s3_policy_error_t err;
    s3_policy_t *p = NULL;
    h2o_iovec_t text = h2o_iovec_init((const char *)data + 1, size - 1);
    int ret = s3_policy_parse(text, &opt, &p, &err);

    if (ret != 0) {
        size_t n = strnlen(err.message, sizeof(err.message));
        if (ret != -S3_ERR_MALFORMED_POLICY || p != NULL || n == 0 || n == sizeof(err.message))
            abort();
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)err.message[i] < 0x20)
                abort();
        return 0;
    }
    if (!document_ok(data + 1, size - 1, bucket))
        abort(); /* accepted what the grammar forbids */
    h2o_iovec_t back = s3_policy_text(p);
    if (back.len != text.len || memcmp(back.base, text.base, text.len) != 0)
        abort();
    if (!bucket && s3_policy_is_public(p))
        abort();

    static const h2o_iovec_t ip[] = {{"192.0.2.1", 9}}, prefix[] = {{"home/alice/", 11}},
                             keys[] = {{"Owner", 5}, {"Cost", 4}}, tls[] = {{"false", 5}};
    s3_policy_value_t values[] = {{S3_POLICY_KEY_AWS_SOURCE_IP, {NULL, 0}, ip, 1},
                                  {S3_POLICY_KEY_S3_PREFIX, {NULL, 0}, prefix, 1},
                                  {S3_POLICY_KEY_S3_REQUEST_OBJECT_TAG_KEYS, {NULL, 0}, keys, 2},
                                  {S3_POLICY_KEY_AWS_SECURE_TRANSPORT, {NULL, 0}, tls, 1}};
    s3_policy_request_t anon = {.action = S3_POLICY_ACTION_GET_OBJECT,
                                .resource = IOV("arn:aws:s3:::photos/home/alice/a.jpg"),
                                .now_ns = 1717243200LL * 1000000000LL};
    s3_policy_request_t alice = {.principal = {S3_POLICY_USER, IOV("111122223333"),
                                               IOV("arn:aws:iam::111122223333:user/alice"),
                                               IOV("a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"),
                                               IOV("alice"), IOV("AIDAALICE")},
                                 .action = S3_POLICY_ACTION_LIST_BUCKET,
                                 .resource = IOV("arn:aws:s3:::photos"),
                                 .now_ns = 1717243200LL * 1000000000LL,
                                 .values = values,
                                 .nvalues = sizeof(values) / sizeof(values[0])};
    check_request(p, &anon);
    check_request(p, &alice);
    alice.action = S3_POLICY_ACTION_PUT_OBJECT;
    alice.resource = IOV("arn:aws:s3:::photos/home/alice/*?");
    check_request(p, &alice);
    /* an IAM call on the caller's own user, as the IAM API asks (${aws:username} resources) */
    alice.action = S3_POLICY_ACTION_IAM_CREATE_ACCESS_KEY;
    alice.resource = IOV("arn:aws:iam::111122223333:user/alice");
    check_request(p, &alice);
    alice.action = S3_POLICY_ACTION_PUT_OBJECT;
    alice.resource = IOV("arn:aws:s3:::photos/home/alice/*?");

    const s3_policy_t *ident[1] = {p};
    s3_policy_sources_t src = {.identity = bucket ? NULL : ident,
                               .nidentity = bucket ? 0 : 1,
                               .bucket = bucket ? p : NULL,
                               .owner_account = IOV("111122223333"),
                               .restrict_public_buckets = data[0] & 2};
    s3_policy_decision_t d = s3_policy_decide(&src, &alice, NULL);
    if (d != S3_POLICY_ALLOW && d != S3_POLICY_DENY)
        abort();
    if (s3_policy_decide(&src, &anon, NULL) != (bucket ? s3_policy_decide(&src, &anon, NULL) : S3_POLICY_DENY))
        abort(); /* anonymous requests have no identity policies: only a bucket policy can allow them */
    s3_policy_free(p);
    return 0;
}
