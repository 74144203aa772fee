/* policy.c — parsing, validation and compilation of policy documents; the public-policy test.
 *
 * The document is read with libjansson (duplicate keys refused) and checked element by element
 * in a fixed order — Version, Id, Statement, then per statement Sid, Effect, Principal, Action,
 * Resource, Condition — so that a document with several faults always names the same one. Error
 * messages are S3's where S3 shows one for the fault ("Policy has invalid action", "Invalid
 * principal in policy", "Missing required field Principal", "Invalid Condition type : X", "Policy
 * has an invalid condition key", ...), else a plain sentence naming the element.
 *
 * Compilation (see policy_internal.h for the form): Action patterns are matched against the
 * action table once, here, so that evaluation is a bit test; "*" sets every bit, "s3:*" every
 * S3 action's. Identity policies may name IAM's actions ("iam:CreateUser", "iam:*"), which reach
 * the IAM API's (those it does not serve match nothing), and other services' actions, accepted
 * and matching nothing; a bucket policy may name S3 actions only. Principals become accounts, user ARNs
 * and canonical ids; service principals are accepted and match nothing (no AWS service calls
 * yuncang). Role ARNs are well-formed principals as well, and match nothing either.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/s3/policy_internal.h"

enum { RES_OBJECT, RES_BUCKET, RES_OTHER, RES_IAM };

static const struct {
    const char *name;
    uint8_t type;
} actions[S3_POLICY_ACTION__COUNT] = {
#define ACTION_ROW_(id, name, type) [S3_POLICY_ACTION_##id] = {name, RES_##type},
    S3_POLICY_ACTIONS(ACTION_ROW_)
#undef ACTION_ROW_
#define IAM_ACTION_ROW_(id, name) [S3_POLICY_ACTION_IAM_##id] = {name, RES_IAM},
        S3_POLICY_IAM_ACTIONS(IAM_ACTION_ROW_)
#undef IAM_ACTION_ROW_
};

static const struct {
    const char *name;
    uint8_t family, cmp, negated;
} operators[] = {
    {"StringEquals", POL_FAM_STRING, POL_CMP_EQ, 0},
    {"StringNotEquals", POL_FAM_STRING, POL_CMP_EQ, 1},
    {"StringEqualsIgnoreCase", POL_FAM_STRING, POL_CMP_EQ_ICASE, 0},
    {"StringNotEqualsIgnoreCase", POL_FAM_STRING, POL_CMP_EQ_ICASE, 1},
    {"StringLike", POL_FAM_STRING, POL_CMP_LIKE, 0},
    {"StringNotLike", POL_FAM_STRING, POL_CMP_LIKE, 1},
    {"NumericEquals", POL_FAM_NUMERIC, POL_CMP_EQ, 0},
    {"NumericNotEquals", POL_FAM_NUMERIC, POL_CMP_EQ, 1},
    {"NumericLessThan", POL_FAM_NUMERIC, POL_CMP_LT, 0},
    {"NumericLessThanEquals", POL_FAM_NUMERIC, POL_CMP_LE, 0},
    {"NumericGreaterThan", POL_FAM_NUMERIC, POL_CMP_GT, 0},
    {"NumericGreaterThanEquals", POL_FAM_NUMERIC, POL_CMP_GE, 0},
    {"DateEquals", POL_FAM_DATE, POL_CMP_EQ, 0},
    {"DateNotEquals", POL_FAM_DATE, POL_CMP_EQ, 1},
    {"DateLessThan", POL_FAM_DATE, POL_CMP_LT, 0},
    {"DateLessThanEquals", POL_FAM_DATE, POL_CMP_LE, 0},
    {"DateGreaterThan", POL_FAM_DATE, POL_CMP_GT, 0},
    {"DateGreaterThanEquals", POL_FAM_DATE, POL_CMP_GE, 0},
    {"Bool", POL_FAM_BOOL, POL_CMP_EQ, 0},
    {"BinaryEquals", POL_FAM_BINARY, POL_CMP_EQ, 0},
    {"IpAddress", POL_FAM_IP, POL_CMP_EQ, 0},
    {"NotIpAddress", POL_FAM_IP, POL_CMP_EQ, 1},
    {"ArnEquals", POL_FAM_ARN, POL_CMP_LIKE, 0}, /* IAM: ArnEquals and ArnLike behave the same */
    {"ArnLike", POL_FAM_ARN, POL_CMP_LIKE, 0},
    {"ArnNotEquals", POL_FAM_ARN, POL_CMP_LIKE, 1},
    {"ArnNotLike", POL_FAM_ARN, POL_CMP_LIKE, 1},
    {"Null", POL_FAM_NULL, POL_CMP_EQ, 0},
};

#define MALFORMED (-S3_ERR_MALFORMED_POLICY)
#define NOMEM     (-S3_ERR_INTERNAL_ERROR)

typedef struct {
    s3_policy_t *p;
    const s3_policy_options_t *opt;
    s3_policy_error_t *err;
    int vars; /* Version 2012-10-17: policy variables are substituted */
} parser_t;

static int fail(parser_t *ps, const char *what, h2o_iovec_t text, const char *after)
{
    pol_error(ps->err, what, text, after);
    return MALFORMED;
}

static int fail_msg(parser_t *ps, const char *what)
{
    return fail(ps, what, h2o_iovec_init(NULL, 0), NULL);
}

static h2o_iovec_t jstr(const json_t *s)
{
    return h2o_iovec_init(json_string_value(s), json_string_length(s));
}

static h2o_iovec_t cstr(const char *s)
{
    return h2o_iovec_init(s, strlen(s));
}

static int is_lit(h2o_iovec_t s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.base, lit, n) == 0;
}

static int starts_with(h2o_iovec_t s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len >= n && memcmp(s.base, lit, n) == 0;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* A string, or a non-empty array of strings: their number, or 0 when v is neither. */
static size_t string_list(const json_t *v)
{
    if (json_is_string(v))
        return 1;
    if (!json_is_array(v) || json_array_size(v) == 0)
        return 0;
    for (size_t i = 0; i < json_array_size(v); i++)
        if (!json_is_string(json_array_get(v, i)))
            return 0;
    return json_array_size(v);
}

static const json_t *list_item(const json_t *v, size_t i)
{
    return json_is_array(v) ? json_array_get(v, i) : v;
}

static int all_digits(h2o_iovec_t s, size_t n)
{
    if (s.len != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s.base[i] < '0' || s.base[i] > '9')
            return 0;
    return 1;
}

/* ---- Principal */

/* A user or role name with its path: IAM's characters, no wildcard. */
static int iam_name_valid(h2o_iovec_t s)
{
    if (s.len == 0 || s.len > 512 || s.base[s.len - 1] == '/')
        return 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("+=,.@_-/", c)))
            return 0;
    }
    return 1;
}

static int compile_aws_principal(h2o_iovec_t v, pol_principal_t *out)
{
    static const char iam[] = "arn:aws:iam::";
    if (is_lit(v, "*")) {
        out->kind = POL_PRINCIPAL_ANY;
        return 0;
    }
    if (all_digits(v, 12)) {
        out->kind = POL_PRINCIPAL_ACCOUNT;
        out->value = v;
        return 0;
    }
    if (!starts_with(v, iam) || v.len < sizeof(iam) - 1 + 13 ||
        !all_digits(h2o_iovec_init(v.base + sizeof(iam) - 1, 12), 12) || v.base[sizeof(iam) - 1 + 12] != ':')
        return -1;
    h2o_iovec_t account = h2o_iovec_init(v.base + sizeof(iam) - 1, 12);
    h2o_iovec_t rest = h2o_iovec_init(v.base + sizeof(iam) - 1 + 13, v.len - (sizeof(iam) - 1 + 13));
    if (is_lit(rest, "root")) {
        out->kind = POL_PRINCIPAL_ACCOUNT;
        out->value = account;
        return 0;
    }
    if ((starts_with(rest, "user/") && iam_name_valid(h2o_iovec_init(rest.base + 5, rest.len - 5))) ||
        (starts_with(rest, "role/") && iam_name_valid(h2o_iovec_init(rest.base + 5, rest.len - 5)))) {
        out->kind = POL_PRINCIPAL_ARN;
        out->value = v;
        return 0;
    }
    return -1;
}

static int compile_principal_value(parser_t *ps, const char *type, h2o_iovec_t v, pol_principal_t *out)
{
    if (strcmp(type, "AWS") == 0)
        return compile_aws_principal(v, out);
    if (strcmp(type, "CanonicalUser") == 0) {
        if (v.len != 64)
            return -1;
        char *id = pol_alloc(ps->p, 65);
        if (id == NULL)
            return NOMEM;
        for (size_t i = 0; i < 64; i++) {
            char c = (char)lower((unsigned char)v.base[i]);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                return -1;
            id[i] = c;
        }
        out->kind = POL_PRINCIPAL_CANONICAL;
        out->value = h2o_iovec_init(id, 64);
        return 0;
    }
    if (strcmp(type, "Service") == 0) {
        if (v.len == 0)
            return -1;
        for (size_t i = 0; i < v.len; i++)
            if (!((v.base[i] >= 'a' && v.base[i] <= 'z') || (v.base[i] >= '0' && v.base[i] <= '9') ||
                  v.base[i] == '.' || v.base[i] == '-'))
                return -1;
        out->kind = POL_PRINCIPAL_SERVICE;
        out->value = v;
        return 0;
    }
    return -1;
}

static int compile_principals(parser_t *ps, const json_t *v, pol_statement_t *st)
{
    pol_principal_t *list;
    size_t n = 0, k = 0;
    const char *type;
    const json_t *vals;
    int ret;

    if (json_is_string(v)) {
        if (!is_lit(jstr(v), "*"))
            return fail_msg(ps, "Invalid principal in policy");
        if ((list = pol_alloc(ps->p, sizeof(*list))) == NULL)
            return NOMEM;
        list->kind = POL_PRINCIPAL_ANY;
        st->principals = list;
        st->nprincipals = 1;
        return 0;
    }
    if (!json_is_object(v) || json_object_size(v) == 0)
        return fail_msg(ps, "Invalid principal in policy");
    json_object_foreach((json_t *)v, type, vals)
    {
        size_t m = string_list(vals);
        if (m == 0)
            return fail_msg(ps, "Invalid principal in policy");
        n += m;
    }
    if ((list = pol_alloc(ps->p, n * sizeof(*list))) == NULL)
        return NOMEM;
    json_object_foreach((json_t *)v, type, vals)
    {
        for (size_t i = 0; i < string_list(vals); i++) {
            /* the strings stay in the JSON tree until the end of the parse: copy what is kept */
            h2o_iovec_t s = jstr(list_item(vals, i));
            char *copy = pol_alloc(ps->p, s.len + 1);
            if (copy == NULL)
                return NOMEM;
            memcpy(copy, s.base, s.len);
            if ((ret = compile_principal_value(ps, type, h2o_iovec_init(copy, s.len), &list[k])) == NOMEM)
                return NOMEM;
            if (ret != 0)
                return fail_msg(ps, "Invalid principal in policy");
            k++;
        }
    }
    st->principals = list;
    st->nprincipals = (uint32_t)k;
    return 0;
}

/* ---- Action */

static int action_name_valid(h2o_iovec_t s)
{
    if (s.len == 0)
        return 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '*' || c == '?' ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

static int compile_actions(parser_t *ps, const json_t *v, pol_statement_t *st)
{
    size_t n = string_list(v);
    if (n == 0)
        return fail_msg(ps, "Policy has invalid action");
    for (size_t i = 0; i < n; i++) {
        h2o_iovec_t a = jstr(list_item(v, i));
        if (is_lit(a, "*")) {
            for (size_t k = 0; k < S3_POLICY_ACTION__COUNT; k++)
                st->actions[k / 64] |= (uint64_t)1 << (k % 64);
            continue;
        }
        const char *colon = memchr(a.base, ':', a.len);
        if (colon == NULL || colon == a.base)
            return fail_msg(ps, "Policy has invalid action");
        h2o_iovec_t service = h2o_iovec_init(a.base, (size_t)(colon - a.base));
        h2o_iovec_t name = h2o_iovec_init(colon + 1, a.len - service.len - 1);
        for (size_t k = 0; k < service.len; k++) {
            char c = (char)lower((unsigned char)service.base[k]);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
                return fail_msg(ps, "Policy has invalid action");
        }
        if (!action_name_valid(name))
            return fail_msg(ps, "Policy has invalid action");
        int s3 = service.len == 2 && lower((unsigned char)service.base[0]) == 's' && service.base[1] == '3';
        int iam = service.len == 3 && lower((unsigned char)service.base[0]) == 'i' &&
                  lower((unsigned char)service.base[1]) == 'a' && lower((unsigned char)service.base[2]) == 'm';
        if (!s3) {
            /* another service's action: IAM policies may name them; IAM's own reach the IAM API's
             * actions, the others match no request here */
            if (ps->opt->kind == S3_POLICY_BUCKET)
                return fail_msg(ps, "Policy has invalid action");
            if (!iam)
                continue;
        }
        size_t first = s3 ? 0 : S3_POLICY_ACTION__IAM_FIRST,
               end = s3 ? S3_POLICY_ACTION__IAM_FIRST : S3_POLICY_ACTION__COUNT;
        pol_pattern_t pat;
        int ret = pol_pattern_compile(ps->p, name, 1, 0, &pat, ps->err), matched = 0;
        if (ret != 0)
            return ret == -2 ? NOMEM : MALFORMED;
        for (size_t k = first; k < end; k++) {
            if (pol_pattern_match(&pat, cstr(actions[k].name), 1, NULL)) {
                st->actions[k / 64] |= (uint64_t)1 << (k % 64);
                matched = 1;
            }
        }
        /* no S3 action of that name, or no action the wildcard can reach; IAM has many actions
         * beyond those served here (CreateRole, AttachUserPolicy, ...): they match nothing */
        if (!matched && s3)
            return fail_msg(ps, "Policy has invalid action");
    }
    return 0;
}

/* ---- Resource */

/* 1 when pattern (with '*' for any run and '?' for one character, as ARNs in policies have them)
 * matches all of text. */
static int glob_matches(h2o_iovec_t pattern, h2o_iovec_t text)
{
    size_t p = 0, t = 0, star = SIZE_MAX, mark = 0;
    while (t < text.len) {
        if (p < pattern.len && (pattern.base[p] == '?' || pattern.base[p] == text.base[t])) {
            p++;
            t++;
        } else if (p < pattern.len && pattern.base[p] == '*') {
            star = p++;
            mark = t;
        } else if (star != SIZE_MAX) {
            p = star + 1;
            t = ++mark;
        } else {
            return 0;
        }
    }
    while (p < pattern.len && pattern.base[p] == '*')
        p++;
    return p == pattern.len;
}

/* An ARN has at least six colon-separated parts ("arn:aws:s3:::bucket"). */
static int arn_shaped(h2o_iovec_t s)
{
    size_t colons = 0;
    for (size_t i = 0; i < s.len; i++)
        colons += s.base[i] == ':';
    return starts_with(s, "arn:") && colons >= 5;
}

static int compile_resources(parser_t *ps, const json_t *v, pol_statement_t *st, int *can_bucket, int *can_object)
{
    size_t n = string_list(v);
    pol_pattern_t *list;
    int ret;

    if (n == 0)
        return fail_msg(ps, "Policy has invalid resource");
    if ((list = pol_alloc(ps->p, n * sizeof(*list))) == NULL)
        return NOMEM;
    for (size_t i = 0; i < n; i++) {
        h2o_iovec_t r = jstr(list_item(v, i));
        if (ps->opt->kind == S3_POLICY_BUCKET) {
            /* the resource must lie in the policy's bucket: its name written out, then the end or
             * a '/' and the objects' part */
            size_t pre = sizeof(S3_POLICY_ARN_PREFIX) - 1;
            if (!starts_with(r, S3_POLICY_ARN_PREFIX))
                return fail_msg(ps, "Policy has invalid resource");
            if (ps->opt->bucket.len > 0) {
                /* the bucket part (up to the first '/') names the bucket, or is a pattern that
                 * matches its name (arn:aws:s3:::* or arn:aws:s3:::logs-?), as S3 accepts */
                const char *slash = memchr(r.base + pre, '/', r.len - pre);
                h2o_iovec_t seg =
                    h2o_iovec_init(r.base + pre, (slash != NULL ? (size_t)(slash - r.base) : r.len) - pre);
                int wild = memchr(seg.base, '*', seg.len) != NULL;
                if (!glob_matches(seg, ps->opt->bucket))
                    return fail_msg(ps, "Policy has invalid resource");
                *can_bucket |= slash == NULL;
                *can_object |= slash != NULL || wild;
            } else {
                int slash = memchr(r.base + pre, '/', r.len - pre) != NULL;
                int wild = memchr(r.base + pre, '*', r.len - pre) != NULL;
                if (r.len == pre)
                    return fail_msg(ps, "Policy has invalid resource");
                *can_bucket |= !slash;
                *can_object |= slash || wild;
            }
        } else if (!is_lit(r, "*") && !arn_shaped(r)) {
            return fail_msg(ps, "Policy has invalid resource");
        }
        if ((ret = pol_pattern_compile(ps->p, r, 1, ps->vars, &list[i], ps->err)) != 0)
            return ret == -2 ? NOMEM : MALFORMED;
    }
    st->resources = list;
    st->nresources = (uint32_t)n;
    return 0;
}

/* 1 when some action of the set can name a resource of the kinds the statement's resources can be. */
static int actions_fit_resources(const pol_statement_t *st, int can_bucket, int can_object)
{
    for (size_t k = 0; k < S3_POLICY_ACTION__COUNT; k++) {
        if (!(st->actions[k / 64] >> (k % 64) & 1))
            continue;
        if ((actions[k].type == RES_OBJECT && can_object) || (actions[k].type == RES_BUCKET && can_bucket))
            return 1;
    }
    return 0;
}

/* ---- Condition */

/* 1 when name is a condition key of a service other than aws and s3: "service:Name", the service
 * of lowercase letters, digits and '-', the name of printable characters. */
static int foreign_key(h2o_iovec_t name)
{
    const char *colon = memchr(name.base, ':', name.len);
    if (colon == NULL || colon == name.base || (size_t)(colon - name.base) + 1 == name.len)
        return 0;
    h2o_iovec_t service = h2o_iovec_init(name.base, (size_t)(colon - name.base));
    for (size_t i = 0; i < service.len; i++) {
        char c = (char)lower((unsigned char)service.base[i]);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return 0;
    }
    if ((service.len == 3 && lower((unsigned char)service.base[0]) == 'a' &&
         lower((unsigned char)service.base[1]) == 'w' && lower((unsigned char)service.base[2]) == 's') ||
        (service.len == 2 && lower((unsigned char)service.base[0]) == 's' && service.base[1] == '3'))
        return 0; /* aws: and s3: keys are known ones or misspelt */
    for (const char *c = colon + 1; c < name.base + name.len; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            return 0;
    return 1;
}

/* The operator's name: "[ForAnyValue:|ForAllValues:]Name[IfExists]". */
static int operator_lookup(const char *full, pol_cond_t *c)
{
    h2o_iovec_t s = cstr(full);
    if (starts_with(s, "ForAnyValue:")) {
        c->set = POL_SET_ANY;
        s.base += 12;
        s.len -= 12;
    } else if (starts_with(s, "ForAllValues:")) {
        c->set = POL_SET_ALL;
        s.base += 13;
        s.len -= 13;
    }
    if (s.len > 8 && memcmp(s.base + s.len - 8, "IfExists", 8) == 0) {
        c->if_exists = 1;
        s.len -= 8;
    }
    for (size_t i = 0; i < sizeof(operators) / sizeof(operators[0]); i++) {
        if (!is_lit(s, operators[i].name))
            continue;
        if (operators[i].family == POL_FAM_NULL && (c->if_exists || c->set != POL_SET_NONE))
            return -1; /* Null tests presence: neither IfExists nor a set qualifier makes sense */
        c->family = operators[i].family;
        c->cmp = operators[i].cmp;
        c->negated = operators[i].negated;
        return 0;
    }
    return -1;
}

/* The text of a condition value: strings as they are, JSON numbers and booleans as IAM reads them
 * (as strings). */
static int value_text(parser_t *ps, const json_t *v, h2o_iovec_t *out)
{
    char buf[64];
    int n;

    if (json_is_string(v)) {
        h2o_iovec_t s = jstr(v);
        char *copy = pol_alloc(ps->p, s.len + 1);
        if (copy == NULL)
            return NOMEM;
        memcpy(copy, s.base, s.len);
        *out = h2o_iovec_init(copy, s.len);
        return 0;
    }
    if (json_is_integer(v))
        n = snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v))
        n = snprintf(buf, sizeof(buf), "%.15g", json_real_value(v));
    else if (json_is_boolean(v))
        n = snprintf(buf, sizeof(buf), "%s", json_is_true(v) ? "true" : "false");
    else
        return MALFORMED;
    char *copy = pol_alloc(ps->p, (size_t)n + 1);
    if (copy == NULL)
        return NOMEM;
    memcpy(copy, buf, (size_t)n);
    *out = h2o_iovec_init(copy, (size_t)n);
    return 0;
}

/* Splits an ARN value into its six parts (the last one keeps its colons); a colon inside a policy
 * variable does not split. */
static int compile_arn(parser_t *ps, h2o_iovec_t text, pol_value_t *out)
{
    pol_pattern_t *parts = pol_alloc(ps->p, 6 * sizeof(*parts));
    size_t start = 0, i = 0;
    int part = 0, ret;

    if (parts == NULL)
        return NOMEM;
    while (part < 5) {
        while (i < text.len && text.base[i] != ':') {
            if (ps->vars && text.base[i] == '$' && i + 1 < text.len && text.base[i + 1] == '{') {
                const char *close = memchr(text.base + i, '}', text.len - i);
                if (close != NULL)
                    i = (size_t)(close - text.base);
            }
            i++;
        }
        if (i >= text.len)
            return fail(ps, "Invalid ARN in Conditions: ", text, NULL);
        if ((ret = pol_pattern_compile(ps->p, h2o_iovec_init(text.base + start, i - start), 1, ps->vars, &parts[part++],
                                       ps->err)) != 0)
            return ret == -2 ? NOMEM : MALFORMED;
        start = ++i;
    }
    if ((ret = pol_pattern_compile(ps->p, h2o_iovec_init(text.base + start, text.len - start), 1, ps->vars, &parts[5],
                                   ps->err)) != 0)
        return ret == -2 ? NOMEM : MALFORMED;
    if (!pol_pattern_match(&parts[0], cstr("arn"), 0, NULL))
        return fail(ps, "Invalid ARN in Conditions: ", text, NULL);
    out->arn = parts;
    return 0;
}

static int compile_value(parser_t *ps, pol_cond_t *c, pol_value_t *v)
{
    int ret;
    switch (c->family) {
    case POL_FAM_STRING:
        if ((ret = pol_pattern_compile(ps->p, v->text, c->cmp == POL_CMP_LIKE, ps->vars, &v->pat, ps->err)) != 0)
            return ret == -2 ? NOMEM : MALFORMED;
        return 0;
    case POL_FAM_NUMERIC:
        return pol_number_parse(v->text, &v->num) == 0 ? 0 : fail(ps, "Invalid number in Conditions: ", v->text, NULL);
    case POL_FAM_DATE:
        return pol_date_parse(v->text, &v->ms) == 0 ? 0 : fail(ps, "Invalid date in Conditions: ", v->text, NULL);
    case POL_FAM_BOOL:
    case POL_FAM_NULL:
        return pol_bool_parse(v->text, &v->boolean) == 0 ? 0
                                                         : fail(ps, "Invalid boolean in Conditions: ", v->text, NULL);
    case POL_FAM_BINARY:
        if (!pol_base64_valid(v->text))
            return fail(ps, "Invalid base64 value in Conditions: ", v->text, NULL);
        return pol_pattern_compile(ps->p, v->text, 0, 0, &v->pat, ps->err) == 0 ? 0 : NOMEM;
    case POL_FAM_IP:
        return pol_cidr_parse(v->text, &v->cidr) == 0 ? 0
                                                      : fail(ps, "Invalid IP address in Conditions: ", v->text, NULL);
    default:
        return compile_arn(ps, v->text, v);
    }
}

static int compile_conditions(parser_t *ps, const json_t *v, pol_statement_t *st)
{
    const char *op, *key;
    const json_t *block, *vals;
    size_t n = 0, k = 0;
    pol_cond_t *list;
    int ret;

    if (!json_is_object(v))
        return fail_msg(ps, "Condition must be an object of condition operators");
    json_object_foreach((json_t *)v, op, block)
    {
        pol_cond_t probe = {0};
        if (operator_lookup(op, &probe) != 0)
            return fail(ps, "Invalid Condition type : ", cstr(op), NULL);
        if (!json_is_object(block))
            return fail(ps, "Condition operator must map condition keys to values: ", cstr(op), NULL);
        n += json_object_size(block);
    }
    if ((list = pol_alloc(ps->p, (n ? n : 1) * sizeof(*list))) == NULL)
        return NOMEM;
    json_object_foreach((json_t *)v, op, block)
    {
        json_object_foreach((json_t *)block, key, vals)
        {
            pol_cond_t *c = &list[k++];
            size_t nv;
            (void)operator_lookup(op, c);
            h2o_iovec_t name = cstr(key), tag;
            if (pol_key_lookup(name, &c->key, &tag) != 0) {
                /* an identity policy may name other services' keys (iam:PassedToService,
                 * ec2:Region): no request here has them, so they are absent from every one */
                if (ps->opt->kind != S3_POLICY_IDENTITY || !foreign_key(name))
                    return fail_msg(ps, "Policy has an invalid condition key");
                c->key = S3_POLICY_KEY__COUNT;
                tag = h2o_iovec_init(NULL, 0);
            }
            /* the tag name is kept: copy it out of the JSON tree */
            if (tag.len > 0) {
                char *copy = pol_alloc(ps->p, tag.len + 1);
                if (copy == NULL)
                    return NOMEM;
                memcpy(copy, tag.base, tag.len);
                tag.base = copy;
            }
            c->tag = tag;
            if (json_is_array(vals)) {
                nv = json_array_size(vals);
            } else {
                nv = 1;
            }
            if (nv == 0)
                return fail(ps, "Condition key has no value: ", name, NULL);
            pol_value_t *values = pol_alloc(ps->p, nv * sizeof(*values));
            if (values == NULL)
                return NOMEM;
            for (size_t i = 0; i < nv; i++) {
                const json_t *item = json_is_array(vals) ? json_array_get(vals, i) : vals;
                if ((ret = value_text(ps, item, &values[i].text)) == MALFORMED)
                    return fail(ps, "Condition values must be strings, numbers or booleans: ", name, NULL);
                if (ret != 0 || (ret = compile_value(ps, c, &values[i])) != 0)
                    return ret;
            }
            c->values = values;
            c->nvalues = (uint32_t)nv;
        }
    }
    st->conds = list;
    st->nconds = (uint32_t)k;
    return 0;
}

/* ---- Statement */

static const char *const statement_fields[] = {"Sid",       "Effect",   "Principal",   "NotPrincipal", "Action",
                                               "NotAction", "Resource", "NotResource", "Condition"};

static int compile_statement(parser_t *ps, const json_t *js, pol_statement_t *st)
{
    const char *field;
    const json_t *value, *v, *not_v;
    int ret, can_bucket = 0, can_object = 0;

    if (!json_is_object(js))
        return fail_msg(ps, "Statement must be an object or an array of objects");
    json_object_foreach((json_t *)js, field, value)
    {
        size_t i = 0;
        while (i < sizeof(statement_fields) / sizeof(statement_fields[0]) && strcmp(field, statement_fields[i]) != 0)
            i++;
        if (i == sizeof(statement_fields) / sizeof(statement_fields[0]))
            return fail(ps, "Unknown field ", cstr(field), NULL);
    }

    if ((v = json_object_get(js, "Sid")) != NULL) {
        if (!json_is_string(v))
            return fail_msg(ps, "Sid must be a string");
        if (json_string_length(v) > 0 && (ret = value_text(ps, v, &st->sid)) != 0)
            return ret;
    }

    if ((v = json_object_get(js, "Effect")) == NULL)
        return fail_msg(ps, "Missing required field Effect");
    if (!json_is_string(v) || !(is_lit(jstr(v), "Allow") || is_lit(jstr(v), "Deny")))
        return fail(ps, "Invalid effect: ", json_is_string(v) ? jstr(v) : cstr("not a string"), NULL);
    st->allow = is_lit(jstr(v), "Allow");

    v = json_object_get(js, "Principal");
    not_v = json_object_get(js, "NotPrincipal");
    if (ps->opt->kind == S3_POLICY_IDENTITY) {
        if (v != NULL || not_v != NULL)
            return fail_msg(ps, "Policy document should not specify a principal.");
    } else {
        if (v != NULL && not_v != NULL)
            return fail_msg(ps, "A statement may have Principal or NotPrincipal, not both");
        if (v == NULL && not_v == NULL)
            return fail_msg(ps, "Missing required field Principal");
        st->not_principal = not_v != NULL;
        if ((ret = compile_principals(ps, v != NULL ? v : not_v, st)) != 0)
            return ret;
    }

    v = json_object_get(js, "Action");
    not_v = json_object_get(js, "NotAction");
    if (v != NULL && not_v != NULL)
        return fail_msg(ps, "A statement may have Action or NotAction, not both");
    if (v == NULL && not_v == NULL)
        return fail_msg(ps, "Missing required field Action");
    st->not_action = not_v != NULL;
    if ((ret = compile_actions(ps, v != NULL ? v : not_v, st)) != 0)
        return ret;

    v = json_object_get(js, "Resource");
    not_v = json_object_get(js, "NotResource");
    if (v != NULL && not_v != NULL)
        return fail_msg(ps, "A statement may have Resource or NotResource, not both");
    if (v == NULL && not_v == NULL)
        return fail_msg(ps, "Missing required field Resource");
    st->not_resource = not_v != NULL;
    if ((ret = compile_resources(ps, v != NULL ? v : not_v, st, &can_bucket, &can_object)) != 0)
        return ret;
    if (ps->opt->kind == S3_POLICY_BUCKET && !st->not_action && !st->not_resource &&
        !actions_fit_resources(st, can_bucket, can_object))
        return fail_msg(ps, "Action does not apply to any resource(s) in statement");

    if ((v = json_object_get(js, "Condition")) != NULL && (ret = compile_conditions(ps, v, st)) != 0)
        return ret;
    return 0;
}

/* ---- public policies */

static int fixed_values(const pol_cond_t *c)
{
    for (uint32_t i = 0; i < c->nvalues; i++) {
        const pol_value_t *v = &c->values[i];
        if (c->family == POL_FAM_ARN) {
            for (int k = 0; k < 6; k++)
                if (!pol_pattern_is_fixed(&v->arn[k]))
                    return 0;
        } else if (!pol_pattern_is_fixed(&v->pat)) {
            return 0;
        }
    }
    return 1;
}

/* 1 when the condition holds only for requests from known parties (see s3_policy_is_public). */
static int condition_narrows(const pol_cond_t *c)
{
    if (c->negated || c->if_exists || c->set == POL_SET_ALL)
        return 0; /* each holds for requests that lack the key */
    if (c->family == POL_FAM_IP) {
        if (c->key != S3_POLICY_KEY_AWS_SOURCE_IP)
            return 0;
        for (uint32_t i = 0; i < c->nvalues; i++)
            if (c->values[i].cidr.prefix < (c->values[i].cidr.family == 4 ? 8 : 32))
                return 0;
        return 1;
    }
    if (c->family != POL_FAM_STRING && c->family != POL_FAM_ARN)
        return 0;
    switch (c->key) {
    case S3_POLICY_KEY_AWS_USERID:
        for (uint32_t i = 0; i < c->nvalues; i++) {
            h2o_iovec_t t = c->values[i].text;
            if (t.len >= 2 && t.base[t.len - 2] == ':' && t.base[t.len - 1] == '*')
                return 0; /* "AROLEID:*": any session of a role */
        }
        /* fall through */
    case S3_POLICY_KEY_AWS_SOURCE_ARN:
    case S3_POLICY_KEY_AWS_SOURCE_VPC:
    case S3_POLICY_KEY_AWS_SOURCE_VPCE:
    case S3_POLICY_KEY_AWS_SOURCE_OWNER:
    case S3_POLICY_KEY_AWS_SOURCE_ACCOUNT:
    case S3_POLICY_KEY_AWS_SOURCE_ORG_ID:
    case S3_POLICY_KEY_AWS_PRINCIPAL_ACCOUNT:
    case S3_POLICY_KEY_AWS_PRINCIPAL_ARN:
    case S3_POLICY_KEY_AWS_PRINCIPAL_ORG_ID:
    case S3_POLICY_KEY_S3_X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID:
    case S3_POLICY_KEY_S3_DATA_ACCESS_POINT_ARN:
    case S3_POLICY_KEY_S3_DATA_ACCESS_POINT_ACCOUNT:
        return fixed_values(c);
    default:
        return 0;
    }
}

static int statement_public(const pol_statement_t *st)
{
    int everyone = st->not_principal; /* everyone but those named */
    if (!st->allow)
        return 0;
    for (uint32_t i = 0; i < st->nprincipals && !st->not_principal; i++)
        everyone |= st->principals[i].kind == POL_PRINCIPAL_ANY;
    if (!everyone)
        return 0;
    for (uint32_t i = 0; i < st->nconds; i++)
        if (condition_narrows(&st->conds[i]))
            return 0;
    return 1;
}

/* ---- the document */

int s3_policy_parse(h2o_iovec_t text, const s3_policy_options_t *opt, s3_policy_t **out, s3_policy_error_t *err)
{
    size_t max = opt->max_size ? opt->max_size : S3_POLICY_MAX_SIZE, i = 0;
    parser_t ps = {NULL, opt, err, 0};
    json_t *root = NULL;
    const json_t *v, *stmts;
    const char *field;
    json_error_t jerr;
    pol_statement_t *list;
    size_t n;
    int ret;

    *out = NULL;
    err->message[0] = '\0';
    if (text.len > max)
        return fail_msg(&ps, "Policy exceeds the maximum allowed document size.");
    while (i < text.len &&
           (text.base[i] == ' ' || text.base[i] == '\t' || text.base[i] == '\r' || text.base[i] == '\n'))
        i++;
    if (i == text.len || text.base[i] != '{')
        return fail_msg(&ps, "Policies must be valid JSON and the first byte must be '{'");
    if ((root = json_loadb(text.base, text.len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
        return fail_msg(&ps, "This policy contains invalid Json");
    if ((ps.p = calloc(1, sizeof(*ps.p))) == NULL) {
        ret = NOMEM;
        goto fail;
    }
    ps.p->kind = opt->kind;

    json_object_foreach(root, field, v)
    {
        if (strcmp(field, "Version") != 0 && strcmp(field, "Id") != 0 && strcmp(field, "Statement") != 0) {
            ret = fail(&ps, "Unknown field ", cstr(field), NULL);
            goto fail;
        }
    }
    if ((v = json_object_get(root, "Version")) != NULL) {
        if (!json_is_string(v) || !(is_lit(jstr(v), "2012-10-17") || is_lit(jstr(v), "2008-10-17"))) {
            ret = fail_msg(&ps, "The policy must contain a valid version string");
            goto fail;
        }
        ps.vars = is_lit(jstr(v), "2012-10-17");
    }
    if ((v = json_object_get(root, "Id")) != NULL && !json_is_string(v)) {
        ret = fail_msg(&ps, "Id must be a string");
        goto fail;
    }
    if ((stmts = json_object_get(root, "Statement")) == NULL) {
        ret = fail_msg(&ps, "Missing required field Statement");
        goto fail;
    }
    n = json_is_array(stmts) ? json_array_size(stmts) : 1;
    if (n == 0) {
        ret = fail_msg(&ps, "Statement must not be empty");
        goto fail;
    }
    if ((list = pol_alloc(ps.p, n * sizeof(*list))) == NULL) {
        ret = NOMEM;
        goto fail;
    }
    for (size_t k = 0; k < n; k++)
        if ((ret = compile_statement(&ps, json_is_array(stmts) ? json_array_get(stmts, k) : stmts, &list[k])) != 0)
            goto fail;
    ps.p->statements = list;
    ps.p->nstatements = (uint32_t)n;
    /* IAM takes a Sid once per policy (its policy grammar); quadratic over a document's statements,
     * which its size bounds */
    for (size_t k = 0; k < n && opt->kind == S3_POLICY_IDENTITY; k++) {
        for (size_t j = 0; j < k && list[k].sid.base != NULL; j++) {
            if (list[j].sid.base != NULL &&
                h2o_memis(list[j].sid.base, list[j].sid.len, list[k].sid.base, list[k].sid.len)) {
                ret = fail_msg(&ps, "Statement IDs (SID) in a single policy must be unique.");
                goto fail;
            }
        }
    }

    /* the principals exist: asked last, once the whole document is known to be well-formed */
    for (size_t k = 0; k < n && opt->principal_exists != NULL; k++) {
        for (uint32_t j = 0; j < list[k].nprincipals; j++) {
            if (list[k].principals[j].kind == POL_PRINCIPAL_ARN &&
                opt->principal_exists(opt->principal_exists_arg, list[k].principals[j].value) != 0) {
                ret = fail_msg(&ps, "Invalid principal in policy");
                goto fail;
            }
        }
    }
    for (size_t k = 0; k < n; k++)
        ps.p->is_public |= statement_public(&list[k]);

    char *copy = pol_alloc(ps.p, text.len + 1);
    if (copy == NULL) {
        ret = NOMEM;
        goto fail;
    }
    memcpy(copy, text.base, text.len);
    ps.p->text = h2o_iovec_init(copy, text.len);
    json_decref(root);
    *out = ps.p;
    return 0;

fail:
    if (ret == NOMEM)
        pol_error(err, "Out of memory while reading the policy", h2o_iovec_init(NULL, 0), NULL);
    json_decref(root);
    s3_policy_free(ps.p);
    return ret;
}

void s3_policy_free(s3_policy_t *policy)
{
    if (policy == NULL)
        return;
    pol_arena_free(policy);
    free(policy);
}

h2o_iovec_t s3_policy_text(const s3_policy_t *policy)
{
    return policy->text;
}

int s3_policy_is_public(const s3_policy_t *policy)
{
    return policy->is_public;
}

static int pattern_uses_key(const pol_pattern_t *pat, s3_policy_key_t key)
{
    for (uint32_t t = 0; t < pat->ntoks; t++)
        if (pat->toks[t].kind == POL_TOK_VAR && pat->toks[t].key == key)
            return 1;
    return 0;
}

int s3_policy_uses_key(const s3_policy_t *policy, s3_policy_key_t key)
{
    for (uint32_t i = 0; policy != NULL && i < policy->nstatements; i++) {
        const pol_statement_t *st = &policy->statements[i];
        for (uint32_t r = 0; r < st->nresources; r++)
            if (pattern_uses_key(&st->resources[r], key))
                return 1;
        for (uint32_t c = 0; c < st->nconds; c++) {
            if (st->conds[c].key == key)
                return 1;
            for (uint32_t v = 0; v < st->conds[c].nvalues; v++)
                if (pattern_uses_key(&st->conds[c].values[v].pat, key))
                    return 1;
        }
    }
    return 0;
}

int s3_policy_action_lookup(h2o_iovec_t name, s3_policy_action_t *out)
{
    size_t pre, first, end;
    if (name.len >= 3 && lower((unsigned char)name.base[0]) == 's' && name.base[1] == '3' && name.base[2] == ':') {
        pre = 3;
        first = 0;
        end = S3_POLICY_ACTION__IAM_FIRST;
    } else if (name.len >= 4 && lower((unsigned char)name.base[0]) == 'i' &&
               lower((unsigned char)name.base[1]) == 'a' && lower((unsigned char)name.base[2]) == 'm' &&
               name.base[3] == ':') {
        pre = 4;
        first = S3_POLICY_ACTION__IAM_FIRST;
        end = S3_POLICY_ACTION__COUNT;
    } else {
        return -S3_ERR_INVALID_ARGUMENT;
    }
    for (size_t k = first; k < end; k++) {
        size_t n = strlen(actions[k].name), i = 0;
        if (n != name.len - pre)
            continue;
        while (i < n && lower((unsigned char)actions[k].name[i]) == lower((unsigned char)name.base[pre + i]))
            i++;
        if (i == n) {
            *out = (s3_policy_action_t)k;
            return 0;
        }
    }
    return -S3_ERR_INVALID_ARGUMENT;
}

const char *s3_policy_action_name(s3_policy_action_t action)
{
    return (unsigned)action < S3_POLICY_ACTION__COUNT ? actions[action].name : "";
}

const char *s3_policy_action_service(s3_policy_action_t action)
{
    if ((unsigned)action >= S3_POLICY_ACTION__COUNT)
        return "";
    return (unsigned)action >= S3_POLICY_ACTION__IAM_FIRST ? "iam" : "s3";
}

int s3_policy_resource_arn(h2o_iovec_t bucket, h2o_iovec_t key, char *buf, size_t cap, h2o_iovec_t *out)
{
    size_t pre = sizeof(S3_POLICY_ARN_PREFIX) - 1, n = pre + bucket.len + (key.base != NULL ? 1 + key.len : 0);
    if (n >= cap)
        return -S3_ERR_INVALID_ARGUMENT;
    memcpy(buf, S3_POLICY_ARN_PREFIX, pre);
    memcpy(buf + pre, bucket.base, bucket.len);
    if (key.base != NULL) {
        buf[pre + bucket.len] = '/';
        memcpy(buf + pre + bucket.len + 1, key.base, key.len);
    }
    buf[n] = '\0';
    *out = h2o_iovec_init(buf, n);
    return 0;
}
