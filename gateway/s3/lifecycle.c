/* lifecycle.c — the LifecycleConfiguration document, its checks, and the evaluation of its rules
 * against object versions and uploads (see lifecycle.h for the rules).
 *
 * Reading has three passes, because S3 answers a fault of shape anywhere before a fault of value
 * anywhere: every rule's shape is read first into a `given_t` (the values as written, integers
 * still signed and unchecked), then the counts and IDs, then each rule's values in order, then the
 * prefixes of a V1 configuration against each other, and the transitions last.
 *
 * Evaluation computes, for each enabled rule that applies to the version, when its action falls
 * due, and keeps the earliest; the kind of action follows from what the version is (current,
 * delete marker, noncurrent), never from a choice between rules.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "common/bytes.h"
#include "common/id.h"
#include "gateway/s3/cond.h"
#include "gateway/s3/lifecycle.h"

#define DAY_NS (86400LL * 1000000000LL)

/* One rule as its document gives it. */
typedef struct {
    s3_lifecycle_rule_t r;
    int has_rule_prefix; /* the rule's own Prefix */
    int has_filter;
    int has_gt, has_lt;
    int64_t gt, lt;
    int64_t expire_days, noncurrent_days, newer, abort_days;
    int has_newer;
    size_t transitions; /* Transition and NoncurrentVersionTransition elements */
    int has_transition, has_noncurrent_transition;
    int transition_date_off_midnight; /* a Transition's Date is not a midnight UTC */
    int transition_days_negative;     /* a Transition's Days or NoncurrentDays is below 0 */
} given_t;

/* ---- reading the shape ---- */

/* The single child called name of parent: 0 with *out NULL when absent, -1 when there are two or
 * when it is not a leaf. */
static int leaf(const s3_xml_node_t *parent, const char *name, const s3_xml_node_t **out)
{
    *out = NULL;
    size_t n = s3_xml_count(parent, name);
    if (n == 0)
        return 0;
    if (n > 1)
        return -1;
    *out = s3_xml_child(parent, name);
    return (*out)->has_children ? -1 : 0;
}

/* An xs:int child, required: -1 when absent, twice, not an integer or outside int32. */
static int int_child(const s3_xml_node_t *parent, const char *name, int64_t *out)
{
    const s3_xml_node_t *n;
    if (leaf(parent, name, &n) != 0 || n == NULL || s3_xml_parse_int64(n->text, out) != 0)
        return -1;
    return *out >= INT32_MIN && *out <= INT32_MAX ? 0 : -1;
}

/* A Tag of a filter: one Key, not empty; Value optional (the user guide lets a filter's tag leave
 * it out: then only objects whose tag has the empty value match). */
static int read_tag(const s3_xml_node_t *node, s3_tag_t *out)
{
    const s3_xml_node_t *k, *v;
    if (!node->has_children || leaf(node, "Key", &k) != 0 || leaf(node, "Value", &v) != 0 || k == NULL ||
        k->text.len == 0)
        return -1;
    out->key = k->text;
    out->value = v != NULL ? v->text : h2o_iovec_init("", 0);
    return 0;
}

/* The predicates Prefix, Tag (any number when many is set), ObjectSizeGreaterThan and
 * ObjectSizeLessThan directly under node; returns how many there are, or -1. */
static int read_predicates(h2o_mem_pool_t *pool, const s3_xml_node_t *node, given_t *g, int many)
{
    const s3_xml_node_t *p, *gt, *lt;
    size_t ntags = s3_xml_count(node, "Tag");
    int64_t v;

    if (leaf(node, "Prefix", &p) != 0 || leaf(node, "ObjectSizeGreaterThan", &gt) != 0 ||
        leaf(node, "ObjectSizeLessThan", &lt) != 0 || (!many && ntags > 1))
        return -1;
    if (p != NULL)
        g->r.prefix = p->text;
    if (gt != NULL) {
        if (s3_xml_parse_int64(gt->text, &v) != 0)
            return -1;
        g->has_gt = 1;
        g->gt = v;
    }
    if (lt != NULL) {
        if (s3_xml_parse_int64(lt->text, &v) != 0)
            return -1;
        g->has_lt = 1;
        g->lt = v;
    }
    if (ntags != 0) {
        g->r.tags = h2o_mem_alloc_pool(pool, ntags * sizeof(*g->r.tags));
        for (const s3_xml_node_t *c = node->first; c != NULL; c = c->next)
            if (s3_xml_is(c, "Tag") && read_tag(c, &g->r.tags[g->r.ntags++]) != 0)
                return -1;
    }
    return (p != NULL) + (gt != NULL) + (lt != NULL) + (int)ntags;
}

static int read_filter(h2o_mem_pool_t *pool, const s3_xml_node_t *f, given_t *g)
{
    const s3_xml_node_t *and;
    int n;

    if (f->has_children == 0) {
        g->r.scope = S3_LC_FILTER_EMPTY;
        return 0;
    }
    if ((n = read_predicates(pool, f, g, 0)) < 0 || s3_xml_count(f, "And") > 1)
        return -1;
    and = s3_xml_child(f, "And");
    if (n + (and != NULL) > 1)
        return -1; /* "A Filter must have exactly one of ..." */
    if (and != NULL) {
        /* "a logical AND to two or more predicates": an And of one is refused as malformed */
        if (!and->has_children || read_predicates(pool, and, g, 1) < 2)
            return -1;
        g->r.scope = S3_LC_FILTER_AND;
    } else if (g->r.prefix.base != NULL) {
        g->r.scope = S3_LC_FILTER_PREFIX;
    } else if (g->r.ntags == 1) {
        g->r.scope = S3_LC_FILTER_TAG;
    } else if (g->has_gt) {
        g->r.scope = S3_LC_FILTER_SIZE_GT;
    } else if (g->has_lt) {
        g->r.scope = S3_LC_FILTER_SIZE_LT;
    } else {
        g->r.scope = S3_LC_FILTER_EMPTY; /* only unknown elements inside */
    }
    return 0;
}

static int read_expiration(const s3_xml_node_t *e, given_t *g)
{
    const s3_xml_node_t *days, *date, *marker;
    int64_t v;

    if (leaf(e, "Days", &days) != 0 || leaf(e, "Date", &date) != 0 ||
        leaf(e, "ExpiredObjectDeleteMarker", &marker) != 0)
        return -1;
    if ((days != NULL) + (date != NULL) + (marker != NULL) != 1)
        return -1;
    if (days != NULL) {
        if (int_child(e, "Days", &v) != 0)
            return -1;
        g->r.expire = S3_LC_EXPIRE_DAYS;
        g->expire_days = v;
    } else if (date != NULL) {
        if (s3_xml_parse_iso8601(date->text, &g->r.expire_date_ns) != 0)
            return -1; /* "Fri, 01 Jan 2016 00:00:00 GMT" was answered MalformedXML */
        g->r.expire = S3_LC_EXPIRE_DATE;
    } else {
        if (s3_xml_parse_bool(marker->text, &g->r.expired_delete_marker) != 0)
            return -1;
        g->r.expire = S3_LC_EXPIRE_MARKER;
    }
    return 0;
}

/* 1 when text is one of S3's transition storage classes (its schema's enumeration: another value
 * is a malformed document, not a class this server lacks). */
static int transition_class_known(h2o_iovec_t text)
{
    static const char *const known[] = {"GLACIER",      "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
                                        "DEEP_ARCHIVE", "GLACIER_IR",  NULL};
    for (const char *const *k = known; *k != NULL; k++)
        if (h2o_memis(text.base, text.len, *k, strlen(*k)))
            return 1;
    return 0;
}

/* The shape and values of the Transition and NoncurrentVersionTransition elements, read only to
 * be checked as S3 checks them (a bad one is its own error, not the NotImplemented every
 * transition gets): -1 when malformed. */
static int read_transitions(const s3_xml_node_t *node, given_t *g)
{
    for (const s3_xml_node_t *t = node->first; t != NULL; t = t->next) {
        int current = s3_xml_is(t, "Transition");
        if (!current && !s3_xml_is(t, "NoncurrentVersionTransition"))
            continue;
        const s3_xml_node_t *days, *date, *sc;
        int64_t v, when;
        if (leaf(t, current ? "Days" : "NoncurrentDays", &days) != 0 || leaf(t, "StorageClass", &sc) != 0 ||
            (current ? leaf(t, "Date", &date) : 0) != 0)
            return -1;
        if (!current)
            date = NULL;
        if (sc == NULL || !transition_class_known(sc->text) || (days != NULL) + (date != NULL) != 1)
            return -1;
        if (days != NULL) {
            if (int_child(t, current ? "Days" : "NoncurrentDays", &v) != 0)
                return -1;
            if (v < 0)
                g->transition_days_negative = 1;
        } else {
            if (s3_xml_parse_iso8601(date->text, &when) != 0)
                return -1;
            if (when % DAY_NS != 0)
                g->transition_date_off_midnight = 1;
        }
    }
    return 0;
}

static int read_rule(h2o_mem_pool_t *pool, const s3_xml_node_t *node, given_t *g)
{
    const s3_xml_node_t *id, *status, *prefix, *filter, *e, *nc, *abort;

    memset(g, 0, sizeof(*g));
    if (leaf(node, "ID", &id) != 0 || leaf(node, "Status", &status) != 0 || leaf(node, "Prefix", &prefix) != 0)
        return -1;
    if (s3_xml_count(node, "Filter") > 1 || s3_xml_count(node, "Expiration") > 1 ||
        s3_xml_count(node, "NoncurrentVersionExpiration") > 1 ||
        s3_xml_count(node, "AbortIncompleteMultipartUpload") > 1)
        return -1;
    /* Status is an enumeration, compared as written: "enabled" does not validate */
    if (status == NULL)
        return -1;
    if (h2o_memis(status->text.base, status->text.len, H2O_STRLIT("Enabled")))
        g->r.enabled = 1;
    else if (!h2o_memis(status->text.base, status->text.len, H2O_STRLIT("Disabled")))
        return -1;
    if (id != NULL && id->text.len != 0)
        g->r.id = id->text;
    filter = s3_xml_child(node, "Filter");
    if (prefix == NULL && filter == NULL)
        return -1;
    if (prefix != NULL) {
        g->has_rule_prefix = 1;
        g->r.scope = S3_LC_RULE_PREFIX;
        g->r.prefix = prefix->text;
    }
    if (filter != NULL) {
        g->has_filter = 1;
        if (prefix != NULL)
            g->r.prefix = h2o_iovec_init(NULL, 0); /* the filter's own, if any, is read next */
        if (read_filter(pool, filter, g) != 0)
            return -1;
    }
    if ((e = s3_xml_child(node, "Expiration")) != NULL && read_expiration(e, g) != 0)
        return -1;
    if ((nc = s3_xml_child(node, "NoncurrentVersionExpiration")) != NULL) {
        const s3_xml_node_t *newer;
        if (int_child(nc, "NoncurrentDays", &g->noncurrent_days) != 0 ||
            leaf(nc, "NewerNoncurrentVersions", &newer) != 0)
            return -1;
        if (newer != NULL) {
            if (int_child(nc, "NewerNoncurrentVersions", &g->newer) != 0)
                return -1;
            g->has_newer = 1;
        }
        g->r.has_noncurrent = 1;
    }
    if ((abort = s3_xml_child(node, "AbortIncompleteMultipartUpload")) != NULL) {
        if (int_child(abort, "DaysAfterInitiation", &g->abort_days) != 0)
            return -1;
        g->r.has_abort = 1;
    }
    g->has_transition = s3_xml_count(node, "Transition") != 0;
    g->has_noncurrent_transition = s3_xml_count(node, "NoncurrentVersionTransition") != 0;
    g->transitions = s3_xml_count(node, "Transition") + s3_xml_count(node, "NoncurrentVersionTransition");
    return read_transitions(node, g);
}

/* ---- checking the values ---- */

static int uses_tags(const given_t *g)
{
    return g->r.ntags != 0;
}

static int uses_sizes(const given_t *g)
{
    return g->has_gt || g->has_lt;
}

static int check_rule(given_t *g, int v2, s3_error_detail_t *why)
{
    s3_lifecycle_rule_t *r = &g->r;

    if (v2 && g->has_rule_prefix)
        return s3_error_detail_set(why, S3_ERR_INVALID_REQUEST,
                                   "Base level prefix cannot be used in Lifecycle V2, prefixes are only supported in "
                                   "the Filter.");
    if (!v2 && g->has_filter)
        return s3_error_detail_set(why, S3_ERR_INVALID_REQUEST, "Filter element can only be used in Lifecycle V2.");
    if (g->has_gt && (g->gt < 0 || (uint64_t)g->gt > S3_LIFECYCLE_SIZE_MAX))
        return s3_error_detail_set(why, S3_ERR_INVALID_REQUEST,
                                   "'ObjectSizeGreaterThan' should be between 0 and 1099511627776000.");
    if (g->has_lt && (g->lt < 1 || (uint64_t)g->lt > S3_LIFECYCLE_SIZE_MAX))
        return s3_error_detail_set(why, S3_ERR_INVALID_REQUEST,
                                   "'ObjectSizeLessThan' should be between 1 and 1099511627776000.");
    if (g->has_gt && g->has_lt && g->gt >= g->lt)
        return s3_error_detail_set(why, S3_ERR_INVALID_REQUEST,
                                   "'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'.");
    for (size_t i = 1; i < r->ntags; i++)
        for (size_t j = 0; j < i; j++)
            if (h2o_memis(r->tags[i].key.base, r->tags[i].key.len, r->tags[j].key.base, r->tags[j].key.len))
                return s3_error_detail_set(why, S3_ERR_INVALID_REQUEST, "Duplicate Tag Keys are not allowed.");
    if (r->expire == S3_LC_EXPIRE_NONE && !r->has_noncurrent && !r->has_abort && g->transitions == 0)
        return s3_error_detail_set(why, S3_ERR_INVALID_REQUEST, "At least one action needs to be specified in a rule");
    if (r->expire == S3_LC_EXPIRE_DAYS && g->expire_days <= 0)
        return s3_error_detail_set(why, S3_ERR_INVALID_ARGUMENT,
                                   "'Days' for Expiration action must be a positive integer");
    if (r->expire == S3_LC_EXPIRE_DATE) {
        int64_t into = r->expire_date_ns % DAY_NS;
        if (into != 0)
            return s3_error_detail_set(why, S3_ERR_INVALID_ARGUMENT, "'Date' must be at midnight GMT");
    }
    if (g->transition_date_off_midnight)
        return s3_error_detail_set(why, S3_ERR_INVALID_ARGUMENT, "'Date' must be at midnight GMT");
    if (g->transition_days_negative)
        return s3_error_detail_set(why, S3_ERR_INVALID_ARGUMENT, "'Days' in Transition action must be nonnegative");
    if (r->has_noncurrent) {
        if (g->noncurrent_days <= 0)
            return s3_error_detail_set(why, S3_ERR_INVALID_ARGUMENT,
                                       "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive "
                                       "integer");
        if (g->has_newer && !v2)
            return s3_error_detail_set(why, S3_ERR_INVALID_REQUEST,
                                       "NewerNoncurrentVersions element can only be used in Lifecycle V2.");
        if (g->has_newer && g->newer <= 0)
            return s3_error_detail_set(why, S3_ERR_INVALID_ARGUMENT,
                                       "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a "
                                       "positive integer");
    }
    if (r->has_abort && g->abort_days <= 0)
        return s3_error_detail_set(why, S3_ERR_INVALID_ARGUMENT,
                                   "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive "
                                   "integer");
    if (r->expire == S3_LC_EXPIRE_MARKER && uses_tags(g))
        return s3_error_detail_set(why, S3_ERR_INVALID_REQUEST,
                                   "ExpiredObjectDeleteMarker cannot be specified with Tags.");
    if (r->expire == S3_LC_EXPIRE_MARKER && uses_sizes(g))
        return s3_error_detail_set(why, S3_ERR_INVALID_REQUEST,
                                   "ExpiredObjectDeleteMarker cannot be specified with Object Size.");
    if (r->has_abort && uses_tags(g))
        return s3_error_detail_set(why, S3_ERR_INVALID_REQUEST,
                                   "AbortIncompleteMultipartUpload cannot be specified with Tags.");
    if (r->has_abort && uses_sizes(g))
        return s3_error_detail_set(why, S3_ERR_INVALID_REQUEST,
                                   "AbortIncompleteMultipartUpload cannot be specified with Object Size.");
    /* the values are checked: keep them in their unsigned form */
    r->expire_days = r->expire == S3_LC_EXPIRE_DAYS ? (uint32_t)g->expire_days : 0;
    r->noncurrent_days = r->has_noncurrent ? (uint32_t)g->noncurrent_days : 0;
    r->newer_noncurrent = g->has_newer ? (uint32_t)g->newer : 0;
    r->abort_days = r->has_abort ? (uint32_t)g->abort_days : 0;
    r->has_size_gt = g->has_gt;
    r->has_size_lt = g->has_lt;
    r->size_gt = g->has_gt ? (uint64_t)g->gt : 0;
    r->size_lt = g->has_lt ? (uint64_t)g->lt : 0;
    return 0;
}

static int has_expiration(const given_t *g)
{
    return g->r.expire != S3_LC_EXPIRE_NONE;
}
static int has_noncurrent_expiration(const given_t *g)
{
    return g->r.has_noncurrent;
}
static int has_abort(const given_t *g)
{
    return g->r.has_abort;
}
static int has_transition(const given_t *g)
{
    return g->has_transition;
}
static int has_noncurrent_transition(const given_t *g)
{
    return g->has_noncurrent_transition;
}

/* In V1, two rules whose prefixes overlap (one begins the other) may not take the same kind of
 * action. Quadratic in the rules, which is a million comparisons at 1000 rules: done once per
 * PutBucketLifecycleConfiguration, on a worker. */
static int check_overlaps(h2o_mem_pool_t *pool, const given_t *g, size_t n, s3_error_detail_t *why)
{
    static const struct {
        const char *name;
        int (*takes)(const given_t *);
    } kinds[] = {{"Expiration", has_expiration},
                 {"Transition", has_transition},
                 {"NoncurrentVersionTransition", has_noncurrent_transition},
                 {"NoncurrentVersionExpiration", has_noncurrent_expiration},
                 {"AbortIncompleteMultipartUpload", has_abort}};

    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        for (size_t i = 0; i < n; i++) {
            if (!kinds[k].takes(&g[i]))
                continue;
            for (size_t j = 0; j < i; j++) {
                if (!kinds[k].takes(&g[j]))
                    continue;
                h2o_iovec_t a = g[i].r.prefix, b = g[j].r.prefix;
                if (a.len > b.len) { /* the shorter is named first */
                    h2o_iovec_t t = a;
                    a = b;
                    b = t;
                }
                if (a.len != 0 && memcmp(a.base, b.base, a.len) != 0)
                    continue;
                size_t len = strlen(kinds[k].name) + a.len + b.len + 80;
                char *m = h2o_mem_alloc_pool(pool, len);
                int w = snprintf(m, len, "Found overlapping prefixes '%.*s' and '%.*s' for same action type '%s'",
                                 (int)a.len, a.base, (int)b.len, b.base, kinds[k].name);
                return s3_error_detail_set_iov(why, S3_ERR_INVALID_REQUEST, h2o_iovec_init(m, (size_t)w));
            }
        }
    }
    return 0;
}

int s3_lifecycle_parse(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_lifecycle_config_t *out, s3_error_detail_t *why)
{
    s3_xml_node_t *root;
    given_t *g = NULL;
    size_t n, i = 0;
    int ret, v2;

    out->rules = NULL;
    out->count = 0;
    out->day_ns = 0;
    if (s3_xml_parse_tree(pool, body, S3_LIFECYCLE_MAX_BODY, S3_LIFECYCLE_MAX_NODE, &root) != 0 ||
        !s3_xml_is(root, "LifecycleConfiguration"))
        return s3_error_detail_set(why, S3_ERR_MALFORMED_XML, NULL);
    n = s3_xml_count(root, "Rule");
    if (n != 0) {
        g = h2o_mem_alloc_pool(pool, n * sizeof(*g));
        for (const s3_xml_node_t *c = root->first; c != NULL; c = c->next)
            if (s3_xml_is(c, "Rule") && read_rule(pool, c, &g[i++]) != 0)
                return s3_error_detail_set(why, S3_ERR_MALFORMED_XML, NULL);
    }
    if (n == 0)
        return s3_error_detail_set(why, S3_ERR_INVALID_REQUEST, "At least one lifecycle rule must be specified.");
    if (n > S3_LIFECYCLE_MAX_RULES)
        return s3_error_detail_set(why, S3_ERR_INVALID_REQUEST,
                                   "The number of lifecycle rules must not exceed the allowed limit of 1000 rules.");
    for (i = 0; i < n; i++) {
        if (g[i].r.id.base == NULL)
            continue;
        size_t units = s3_utf16_length(g[i].r.id);
        if (units == SIZE_MAX || units > S3_LIFECYCLE_ID_MAX)
            return s3_error_detail_set(why, S3_ERR_INVALID_ARGUMENT,
                                       "ID length should not exceed allowed limit of 255");
    }
    /* IDs are few and short; a quadratic scan stays below a million comparisons */
    for (i = 1; i < n; i++)
        for (size_t j = 0; j < i && g[i].r.id.base != NULL; j++)
            if (g[j].r.id.base != NULL && h2o_memis(g[i].r.id.base, g[i].r.id.len, g[j].r.id.base, g[j].r.id.len))
                return s3_error_detail_set(why, S3_ERR_INVALID_ARGUMENT,
                                           "Rule ID must be unique. Found same ID for more than one rule");
    v2 = g[0].has_filter;
    for (i = 0; i < n; i++)
        if ((ret = check_rule(&g[i], v2, why)) != 0)
            return ret;
    if (!v2 && (ret = check_overlaps(pool, g, n, why)) != 0)
        return ret;
    for (i = 0; i < n; i++)
        if (g[i].transitions != 0)
            return s3_error_detail_set(why, S3_ERR_NOT_IMPLEMENTED,
                                       "Transition and NoncurrentVersionTransition actions are not implemented: this "
                                       "server keeps one storage class.");
    out->rules = h2o_mem_alloc_pool(pool, n * sizeof(*out->rules));
    for (i = 0; i < n; i++)
        out->rules[i] = g[i].r;
    out->count = n;
    return 0;
}

void s3_lifecycle_assign_ids(h2o_mem_pool_t *pool, s3_lifecycle_config_t *cfg)
{
    for (size_t i = 0; i < cfg->count; i++) {
        uint8_t u[YC_ID_LEN];
        char hex[2 * YC_ID_LEN + 1], uuid[37];
        if (cfg->rules[i].id.base != NULL)
            continue;
        yc_random_id(u);
        u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
        u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
        yc_hex(u, sizeof(u), hex);
        snprintf(uuid, sizeof(uuid), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
        char *id = h2o_mem_alloc_pool(pool, YC_BASE64_LEN(36) + 1);
        size_t len = yc_base64_encode((const uint8_t *)uuid, 36, id);
        cfg->rules[i].id = h2o_iovec_init(id, len);
    }
}

/* ---- writing ---- */

static void write_tag(s3_xml_writer_t *w, const s3_tag_t *t)
{
    s3_xml_open(w, "Tag");
    s3_xml_element(w, "Key", t->key);
    s3_xml_element(w, "Value", t->value);
    s3_xml_close(w, "Tag");
}

static void write_filter(s3_xml_writer_t *w, const s3_lifecycle_rule_t *r)
{
    s3_xml_open(w, "Filter");
    switch (r->scope) {
    case S3_LC_FILTER_PREFIX:
        s3_xml_element(w, "Prefix", r->prefix);
        break;
    case S3_LC_FILTER_TAG:
        write_tag(w, &r->tags[0]);
        break;
    case S3_LC_FILTER_SIZE_GT:
        s3_xml_element_uint(w, "ObjectSizeGreaterThan", r->size_gt);
        break;
    case S3_LC_FILTER_SIZE_LT:
        s3_xml_element_uint(w, "ObjectSizeLessThan", r->size_lt);
        break;
    case S3_LC_FILTER_AND:
        s3_xml_open(w, "And");
        if (r->prefix.base != NULL)
            s3_xml_element(w, "Prefix", r->prefix);
        for (size_t i = 0; i < r->ntags; i++)
            write_tag(w, &r->tags[i]);
        if (r->has_size_gt)
            s3_xml_element_uint(w, "ObjectSizeGreaterThan", r->size_gt);
        if (r->has_size_lt)
            s3_xml_element_uint(w, "ObjectSizeLessThan", r->size_lt);
        s3_xml_close(w, "And");
        break;
    default:
        break; /* the empty filter */
    }
    s3_xml_close(w, "Filter");
}

void s3_lifecycle_write_xml(s3_xml_writer_t *w, const s3_lifecycle_config_t *cfg)
{
    s3_xml_declaration(w);
    s3_xml_open_root(w, "LifecycleConfiguration");
    for (size_t i = 0; i < cfg->count; i++) {
        const s3_lifecycle_rule_t *r = &cfg->rules[i];
        s3_xml_open(w, "Rule");
        if (r->id.base != NULL)
            s3_xml_element(w, "ID", r->id);
        if (r->scope == S3_LC_RULE_PREFIX)
            s3_xml_element(w, "Prefix", r->prefix);
        else
            write_filter(w, r);
        s3_xml_element_str(w, "Status", r->enabled ? "Enabled" : "Disabled");
        if (r->expire != S3_LC_EXPIRE_NONE) {
            s3_xml_open(w, "Expiration");
            if (r->expire == S3_LC_EXPIRE_DAYS)
                s3_xml_element_uint(w, "Days", r->expire_days);
            else if (r->expire == S3_LC_EXPIRE_DATE)
                s3_xml_element_time(w, "Date", r->expire_date_ns);
            else
                s3_xml_element_bool(w, "ExpiredObjectDeleteMarker", r->expired_delete_marker);
            s3_xml_close(w, "Expiration");
        }
        if (r->has_noncurrent) {
            s3_xml_open(w, "NoncurrentVersionExpiration");
            s3_xml_element_uint(w, "NoncurrentDays", r->noncurrent_days);
            if (r->newer_noncurrent != 0)
                s3_xml_element_uint(w, "NewerNoncurrentVersions", r->newer_noncurrent);
            s3_xml_close(w, "NoncurrentVersionExpiration");
        }
        if (r->has_abort) {
            s3_xml_open(w, "AbortIncompleteMultipartUpload");
            s3_xml_element_uint(w, "DaysAfterInitiation", r->abort_days);
            s3_xml_close(w, "AbortIncompleteMultipartUpload");
        }
        s3_xml_close(w, "Rule");
    }
    s3_xml_close(w, "LifecycleConfiguration");
}

/* ---- evaluation ---- */

int64_t s3_lifecycle_due_scaled(int64_t time_ns, uint32_t days, int64_t day_ns)
{
    int64_t span, t, into;
    if (day_ns <= 0)
        day_ns = DAY_NS;
    if (days > INT64_MAX / day_ns)
        return INT64_MAX; /* some 292 years: past any clock */
    span = (int64_t)days * day_ns;
    if (time_ns > INT64_MAX - span)
        return INT64_MAX;
    t = time_ns + span;
    into = t % day_ns;
    if (into < 0)
        into += day_ns; /* before the epoch: the remainder of a floor division */
    if (into == 0)
        return t;
    if (t - into > INT64_MAX - day_ns)
        return INT64_MAX;
    return t - into + day_ns;
}

int64_t s3_lifecycle_due(int64_t time_ns, uint32_t days)
{
    return s3_lifecycle_due_scaled(time_ns, days, DAY_NS);
}

static int has_prefix(h2o_iovec_t key, h2o_iovec_t prefix)
{
    return prefix.base == NULL ||
           (key.len >= prefix.len && (prefix.len == 0 || memcmp(key.base, prefix.base, prefix.len) == 0));
}

int s3_lifecycle_tags_match(const s3_lifecycle_rule_t *r, const s3_tagset_t *tags)
{
    for (size_t i = 0; i < r->ntags; i++) {
        const s3_tag_t *t = s3_tagset_find(tags, r->tags[i].key);
        /* both key and value must match exactly; more tags on the object do not matter */
        if (t == NULL || !h2o_memis(t->value.base, t->value.len, r->tags[i].value.base, r->tags[i].value.len))
            return 0;
    }
    return 1;
}

/* Whether r's filter covers a version of key with the given size and tags. */
static int rule_applies(const s3_lifecycle_rule_t *r, h2o_iovec_t key, uint64_t size, const s3_tagset_t *tags)
{
    if (!has_prefix(key, r->prefix) || !s3_lifecycle_tags_match(r, tags))
        return 0;
    if (r->has_size_gt && !(size > r->size_gt))
        return 0;
    if (r->has_size_lt && !(size < r->size_lt))
        return 0;
    return 1;
}

/* Keeps the earlier of the current decision and (due, rule); the first listed wins a tie. */
static void consider(s3_lifecycle_decision_t *out, int64_t due, const s3_lifecycle_rule_t *r,
                     s3_lifecycle_action_t action)
{
    if (out->rule == NULL || due < out->due_ns) {
        out->due_ns = due;
        out->rule = r;
        out->action = action;
    }
}

void s3_lifecycle_evaluate(const s3_lifecycle_config_t *cfg, const s3_lifecycle_version_t *v,
                           s3_lifecycle_versioning_t versioning, int64_t now_ns, s3_lifecycle_decision_t *out)
{
    /* a delete marker has no data and no tags */
    uint64_t size = v->is_delete_marker ? 0 : v->size;
    const s3_tagset_t *tags = v->is_delete_marker ? NULL : v->tags;

    memset(out, 0, sizeof(*out));
    out->due_ns = INT64_MAX;
    for (size_t i = 0; cfg != NULL && i < cfg->count; i++) {
        const s3_lifecycle_rule_t *r = &cfg->rules[i];
        if (!r->enabled || !rule_applies(r, v->key, size, tags))
            continue;
        if (v->is_current && !v->is_delete_marker) {
            s3_lifecycle_action_t a =
                versioning == S3_LC_UNVERSIONED ? S3_LC_ACTION_DELETE : S3_LC_ACTION_ADD_DELETE_MARKER;
            if (r->expire == S3_LC_EXPIRE_DAYS)
                consider(out, s3_lifecycle_due_scaled(v->mtime_ns, r->expire_days, cfg->day_ns), r, a);
            else if (r->expire == S3_LC_EXPIRE_DATE)
                consider(out, r->expire_date_ns, r, a);
        } else if (v->is_current) {
            /* a current delete marker: removed only once it is alone ("expired") */
            if (!v->only_version)
                continue;
            if (r->expire == S3_LC_EXPIRE_MARKER && r->expired_delete_marker)
                consider(out, s3_lifecycle_due_scaled(v->mtime_ns, 0, cfg->day_ns), r,
                         S3_LC_ACTION_REMOVE_DELETE_MARKER);
            else if (r->expire == S3_LC_EXPIRE_DAYS)
                consider(out, s3_lifecycle_due_scaled(v->mtime_ns, r->expire_days, cfg->day_ns), r,
                         S3_LC_ACTION_REMOVE_DELETE_MARKER);
        } else if (r->has_noncurrent) {
            /* NewerNoncurrentVersions N keeps the N newest noncurrent versions whatever their age */
            if (r->newer_noncurrent != 0 && v->newer_noncurrent < r->newer_noncurrent)
                continue;
            consider(out, s3_lifecycle_due_scaled(v->noncurrent_since_ns, r->noncurrent_days, cfg->day_ns), r,
                     S3_LC_ACTION_DELETE);
        }
    }
    out->due = out->rule != NULL && out->due_ns <= now_ns;
}

void s3_lifecycle_evaluate_upload(const s3_lifecycle_config_t *cfg, h2o_iovec_t key, int64_t initiated_ns,
                                  int64_t now_ns, s3_lifecycle_decision_t *out)
{
    memset(out, 0, sizeof(*out));
    out->due_ns = INT64_MAX;
    for (size_t i = 0; cfg != NULL && i < cfg->count; i++) {
        const s3_lifecycle_rule_t *r = &cfg->rules[i];
        /* the checks keep tags and sizes away from rules that abort: the prefix decides */
        if (r->enabled && r->has_abort && rule_applies(r, key, 0, NULL))
            consider(out, s3_lifecycle_due_scaled(initiated_ns, r->abort_days, cfg->day_ns), r,
                     S3_LC_ACTION_ABORT_UPLOAD);
    }
    out->due = out->rule != NULL && out->due_ns <= now_ns;
}

/* 1 when a header value can carry id as it is. */
static int header_safe(h2o_iovec_t id)
{
    if (id.len != 0 && (id.base[0] == ' ' || id.base[id.len - 1] == ' '))
        return 0;
    for (size_t i = 0; i < id.len; i++) {
        unsigned char c = (unsigned char)id.base[i];
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
            return 0;
    }
    return 1;
}

h2o_iovec_t s3_lifecycle_expiration_header(h2o_mem_pool_t *pool, int64_t due_ns, h2o_iovec_t rule_id)
{
    static const char hex[] = "0123456789ABCDEF";
    char date[S3_HTTP_DATE_LEN + 1];
    size_t cap = sizeof(date) + 3 * rule_id.len + 32, n;
    char *p = h2o_mem_alloc_pool(pool, cap);

    s3_http_date_format(due_ns, date);
    n = (size_t)snprintf(p, cap, "expiry-date=\"%s\", rule-id=\"", date);
    if (header_safe(rule_id)) {
        memcpy(p + n, rule_id.base, rule_id.len);
        n += rule_id.len;
    } else {
        for (size_t i = 0; i < rule_id.len; i++) {
            unsigned char c = (unsigned char)rule_id.base[i];
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                c == '.' || c == '~') {
                p[n++] = (char)c;
            } else {
                p[n++] = '%';
                p[n++] = hex[c >> 4];
                p[n++] = hex[c & 15];
            }
        }
    }
    p[n++] = '"';
    p[n] = '\0';
    return h2o_iovec_init(p, n);
}
