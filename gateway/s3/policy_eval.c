/* policy_eval.c — evaluation of a compiled policy against a request, and the combiner of the
 * identity's policies, the bucket policy, ACLs and the owner's rights (rules in policy.h).
 *
 * A statement is tested cheapest first: the action (one bit), the principal (a few comparisons),
 * the resource (usually one memcmp), then the conditions. Typed request values (numbers, dates,
 * addresses) are parsed once per value and compared with every policy value of the condition.
 * Nothing here allocates: request values are read where the request keeps them, and the few
 * formatted ones (aws:CurrentTime) live in buffers on the stack.
 */
#include <string.h>
#include "gateway/s3/policy_internal.h"

static int same(h2o_iovec_t a, h2o_iovec_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.base, b.base, a.len) == 0);
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int same_icase(h2o_iovec_t a, h2o_iovec_t b)
{
    if (a.len != b.len)
        return 0;
    for (size_t i = 0; i < a.len; i++)
        if (lower((unsigned char)a.base[i]) != lower((unsigned char)b.base[i]))
            return 0;
    return 1;
}

static int has_action(const pol_statement_t *st, s3_policy_action_t a)
{
    return (unsigned)a < S3_POLICY_ACTION__COUNT && (st->actions[a / 64] >> (a % 64) & 1);
}

static int principal_matches(const pol_statement_t *st, const s3_policy_principal_t *who)
{
    int anonymous = who->type == S3_POLICY_ANONYMOUS;
    for (uint32_t i = 0; i < st->nprincipals; i++) {
        const pol_principal_t *e = &st->principals[i];
        switch (e->kind) {
        case POL_PRINCIPAL_ANY:
            return 1; /* "*" includes anonymous requests */
        case POL_PRINCIPAL_ACCOUNT:
            if (!anonymous && same(who->account, e->value))
                return 1;
            break;
        case POL_PRINCIPAL_ARN:
            if (who->type == S3_POLICY_USER && same(who->arn, e->value))
                return 1;
            break;
        case POL_PRINCIPAL_CANONICAL:
            if (!anonymous && same_icase(who->canonical_id, e->value))
                return 1;
            break;
        default: /* service principals: no AWS service calls yuncang */
            break;
        }
    }
    return 0;
}

static int resource_matches(const pol_statement_t *st, const s3_policy_request_t *req)
{
    for (uint32_t i = 0; i < st->nresources; i++)
        if (pol_pattern_match(&st->resources[i], req->resource, 0, req))
            return 1;
    return 0;
}

static int compare(int cmp, double a, double b)
{
    switch (cmp) {
    case POL_CMP_LT:
        return a < b;
    case POL_CMP_LE:
        return a <= b;
    case POL_CMP_GT:
        return a > b;
    case POL_CMP_GE:
        return a >= b;
    default:
        return a == b;
    }
}

static int compare_ms(int cmp, int64_t a, int64_t b)
{
    switch (cmp) {
    case POL_CMP_LT:
        return a < b;
    case POL_CMP_LE:
        return a <= b;
    case POL_CMP_GT:
        return a > b;
    case POL_CMP_GE:
        return a >= b;
    default:
        return a == b;
    }
}

/* An ARN's six parts: the first five end at a colon, the sixth keeps the rest. */
static int split_arn(h2o_iovec_t s, h2o_iovec_t parts[6])
{
    size_t start = 0;
    for (int k = 0; k < 5; k++) {
        const char *colon = memchr(s.base + start, ':', s.len - start);
        if (colon == NULL)
            return -1;
        parts[k] = h2o_iovec_init(s.base + start, (size_t)(colon - s.base) - start);
        start = (size_t)(colon - s.base) + 1;
    }
    parts[5] = h2o_iovec_init(s.base + start, s.len - start);
    return 0;
}

/* 1 when the request value r matches one of the condition's values (the operator taken
 * positively: negation is the caller's). */
static int value_matches(const pol_cond_t *c, h2o_iovec_t r, const s3_policy_request_t *req)
{
    switch (c->family) {
    case POL_FAM_STRING:
    case POL_FAM_BINARY:
        for (uint32_t i = 0; i < c->nvalues; i++)
            if (pol_pattern_match(&c->values[i].pat, r, c->cmp == POL_CMP_EQ_ICASE, req))
                return 1;
        return 0;
    case POL_FAM_NUMERIC: {
        double x;
        if (pol_number_parse(r, &x) != 0)
            return 0;
        for (uint32_t i = 0; i < c->nvalues; i++)
            if (compare(c->cmp, x, c->values[i].num))
                return 1;
        return 0;
    }
    case POL_FAM_DATE: {
        int64_t ms;
        if (pol_date_parse(r, &ms) != 0)
            return 0;
        for (uint32_t i = 0; i < c->nvalues; i++)
            if (compare_ms(c->cmp, ms, c->values[i].ms))
                return 1;
        return 0;
    }
    case POL_FAM_BOOL: {
        int b;
        if (pol_bool_parse(r, &b) != 0)
            return 0;
        for (uint32_t i = 0; i < c->nvalues; i++)
            if (b == c->values[i].boolean)
                return 1;
        return 0;
    }
    case POL_FAM_IP: {
        pol_cidr_t ip;
        if (pol_ip_parse(r, &ip) != 0)
            return 0;
        for (uint32_t i = 0; i < c->nvalues; i++)
            if (pol_cidr_contains(&c->values[i].cidr, &ip))
                return 1;
        return 0;
    }
    case POL_FAM_ARN: {
        h2o_iovec_t parts[6];
        if (split_arn(r, parts) != 0)
            return 0;
        for (uint32_t i = 0; i < c->nvalues; i++) {
            int k = 0;
            while (k < 6 && pol_pattern_match(&c->values[i].arn[k], parts[k], 0, req))
                k++;
            if (k == 6)
                return 1;
        }
        return 0;
    }
    default:
        return 0;
    }
}

static int condition_holds(const pol_cond_t *c, const s3_policy_request_t *req)
{
    pol_values_t vals;
    pol_request_values(req, c->key, c->tag, &vals);

    if (c->family == POL_FAM_NULL) { /* "true": the key is absent; "false": it is present */
        for (uint32_t i = 0; i < c->nvalues; i++)
            if (c->values[i].boolean == (vals.n == 0))
                return 1;
        return 0;
    }
    if (vals.n == 0) {
        if (c->if_exists || c->set == POL_SET_ALL)
            return 1;
        if (c->set == POL_SET_ANY)
            return 0;
        return c->negated; /* an absent key matches nothing, so "not equal" holds */
    }
    switch (c->set) {
    case POL_SET_ANY:
        for (size_t i = 0; i < vals.n; i++)
            if (value_matches(c, vals.v[i], req) != c->negated)
                return 1;
        return 0;
    case POL_SET_ALL:
        for (size_t i = 0; i < vals.n; i++)
            if (value_matches(c, vals.v[i], req) == c->negated)
                return 0;
        return 1;
    default: {
        int any = 0;
        for (size_t i = 0; i < vals.n && !any; i++)
            any = value_matches(c, vals.v[i], req);
        return c->negated ? !any : any;
    }
    }
}

static int statement_applies(const pol_statement_t *st, s3_policy_kind_t kind, const s3_policy_request_t *req)
{
    if (has_action(st, req->action) == st->not_action)
        return 0;
    if (kind == S3_POLICY_BUCKET && principal_matches(st, &req->principal) == st->not_principal)
        return 0;
    if (resource_matches(st, req) == st->not_resource)
        return 0;
    for (uint32_t i = 0; i < st->nconds; i++)
        if (!condition_holds(&st->conds[i], req))
            return 0;
    return 1;
}

static s3_policy_decision_t evaluate(const s3_policy_t *p, const s3_policy_request_t *req, h2o_iovec_t *sid)
{
    s3_policy_decision_t d = S3_POLICY_NOT_APPLICABLE;
    for (uint32_t i = 0; i < p->nstatements; i++) {
        const pol_statement_t *st = &p->statements[i];
        if (!statement_applies(st, p->kind, req))
            continue;
        if (!st->allow) { /* an explicit deny ends it */
            *sid = st->sid;
            return S3_POLICY_DENY;
        }
        if (d == S3_POLICY_NOT_APPLICABLE) {
            d = S3_POLICY_ALLOW;
            *sid = st->sid;
        }
    }
    return d;
}

s3_policy_decision_t s3_policy_evaluate(const s3_policy_t *policy, const s3_policy_request_t *req)
{
    h2o_iovec_t sid;
    return evaluate(policy, req, &sid);
}

static s3_policy_decision_t answer(s3_policy_decision_t d, s3_policy_source_t source, h2o_iovec_t sid,
                                   s3_policy_reason_t *why)
{
    if (why != NULL) {
        why->source = source;
        why->sid = sid;
    }
    return d;
}

s3_policy_decision_t s3_policy_decide(const s3_policy_sources_t *src, const s3_policy_request_t *req,
                                      s3_policy_reason_t *why)
{
    const h2o_iovec_t none = {NULL, 0};
    h2o_iovec_t sid = none, identity_sid = none, bucket_sid = none;
    int anonymous = req->principal.type == S3_POLICY_ANONYMOUS, identity_allow = 0, bucket_allow = 0;
    s3_policy_source_t denied_by = S3_POLICY_BY_IMPLICIT_DENY;

    /* an explicit deny anywhere wins: look at every policy before any allow counts */
    for (size_t i = 0; i < src->nidentity && !anonymous && denied_by == S3_POLICY_BY_IMPLICIT_DENY; i++) {
        s3_policy_decision_t d = evaluate(src->identity[i], req, &sid);
        if (d == S3_POLICY_DENY) {
            denied_by = S3_POLICY_BY_IDENTITY;
        } else if (d == S3_POLICY_ALLOW && !identity_allow) {
            identity_allow = 1;
            identity_sid = sid;
        }
    }
    if (src->bucket != NULL && denied_by == S3_POLICY_BY_IMPLICIT_DENY) {
        s3_policy_decision_t d = evaluate(src->bucket, req, &sid);
        if (d == S3_POLICY_DENY) {
            denied_by = S3_POLICY_BY_BUCKET;
        } else if (d == S3_POLICY_ALLOW) {
            bucket_allow = 1;
            bucket_sid = sid;
        }
    }
    if (denied_by != S3_POLICY_BY_IMPLICIT_DENY) {
        /* the owner can always manage the bucket policy, so that no policy locks it out */
        if (src->is_owner &&
            (req->action == S3_POLICY_ACTION_GET_BUCKET_POLICY || req->action == S3_POLICY_ACTION_PUT_BUCKET_POLICY ||
             req->action == S3_POLICY_ACTION_DELETE_BUCKET_POLICY))
            return answer(S3_POLICY_ALLOW, S3_POLICY_BY_OWNER, none, why);
        return answer(S3_POLICY_DENY, denied_by, sid, why);
    }
    if (src->is_owner)
        return answer(S3_POLICY_ALLOW, S3_POLICY_BY_OWNER, none, why);

    int same_account = !anonymous && src->owner_account.len > 0 && same(req->principal.account, src->owner_account);
    if (bucket_allow && src->restrict_public_buckets && src->bucket->is_public && !same_account)
        bucket_allow = 0; /* RestrictPublicBuckets: a public policy serves the owner's account only */
    if (!anonymous && src->owner_account.len > 0 && !same_account) {
        /* another account: its own policies and the bucket must both allow */
        if (identity_allow && bucket_allow)
            return answer(S3_POLICY_ALLOW, S3_POLICY_BY_BUCKET, bucket_sid, why);
        if (identity_allow && src->acl_allows)
            return answer(S3_POLICY_ALLOW, S3_POLICY_BY_ACL, none, why);
        return answer(S3_POLICY_DENY, S3_POLICY_BY_IMPLICIT_DENY, none, why);
    }
    if (identity_allow)
        return answer(S3_POLICY_ALLOW, S3_POLICY_BY_IDENTITY, identity_sid, why);
    if (bucket_allow)
        return answer(S3_POLICY_ALLOW, S3_POLICY_BY_BUCKET, bucket_sid, why);
    if (src->acl_allows)
        return answer(S3_POLICY_ALLOW, S3_POLICY_BY_ACL, none, why);
    return answer(S3_POLICY_DENY, S3_POLICY_BY_IMPLICIT_DENY, none, why);
}
