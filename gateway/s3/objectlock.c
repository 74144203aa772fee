/* objectlock.c — Object Lock's documents, headers and decisions (see objectlock.h for the
 * rules).
 *
 * The documents are small: each is read into an element tree, its shape checked (MalformedXML),
 * then its values. The decisions are pure functions of a version's lock state, the clock and
 * whether the governance bypass is both asked for and permitted: the handlers look those up and
 * act on the answer.
 */
#include <string.h>
#include "gateway/s3/objectlock.h"

#define DAY_NS (86400LL * 1000000000LL)

static const char LOCKED[] = "Access Denied because object protected by object lock.";

const char *s3_lock_mode_name(s3_lock_mode_t mode)
{
    switch (mode) {
    case S3_LOCK_GOVERNANCE:
        return "GOVERNANCE";
    case S3_LOCK_COMPLIANCE:
        return "COMPLIANCE";
    default:
        return "";
    }
}

/* The mode a value names, exactly as written; NONE for anything else. */
static s3_lock_mode_t mode_of(h2o_iovec_t v)
{
    if (h2o_memis(v.base, v.len, H2O_STRLIT("GOVERNANCE")))
        return S3_LOCK_GOVERNANCE;
    if (h2o_memis(v.base, v.len, H2O_STRLIT("COMPLIANCE")))
        return S3_LOCK_COMPLIANCE;
    return S3_LOCK_NONE;
}

/* The single leaf child called name: 0 with *out NULL when absent, -1 when twice or not a leaf. */
static int leaf(const s3_xml_node_t *parent, const char *name, const s3_xml_node_t **out)
{
    size_t n = s3_xml_count(parent, name);
    *out = NULL;
    if (n == 0)
        return 0;
    if (n > 1)
        return -1;
    *out = s3_xml_child(parent, name);
    return (*out)->has_children ? -1 : 0;
}

static int malformed(s3_error_detail_t *why)
{
    return s3_error_detail_set(why, S3_ERR_MALFORMED_XML, NULL);
}

/* InvalidArgument with ArgumentName and, when given, ArgumentValue. */
static int invalid_argument(s3_error_detail_t *why, const char *message, const char *name, h2o_iovec_t value)
{
    int ret = s3_error_detail_set(why, S3_ERR_INVALID_ARGUMENT, message);
    s3_error_detail_field(why, "ArgumentName", h2o_iovec_init(name, strlen(name)));
    if (value.base != NULL)
        s3_error_detail_field(why, "ArgumentValue", value);
    return ret;
}

/* ---- the bucket's configuration ---- */

/* A period of days or years, checked against its bound. */
static int read_period(const s3_xml_node_t *node, const char *name, int64_t max, uint32_t *out, s3_error_detail_t *why)
{
    int64_t v;
    if (s3_xml_parse_int64(node->text, &v) != 0 || v < INT32_MIN || v > INT32_MAX)
        return malformed(why); /* an xs:int */
    if (v <= 0)
        return invalid_argument(why, "Default retention period must be a positive integer value.", name, node->text);
    if (v > max)
        return invalid_argument(why, "Default retention period too large.", name, node->text);
    *out = (uint32_t)v;
    return 0;
}

int s3_objectlock_parse_config(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_objectlock_config_t *out,
                               s3_error_detail_t *why)
{
    s3_xml_node_t *root;
    const s3_xml_node_t *enabled, *rule, *dr, *mode, *days, *years;
    s3_objectlock_config_t cfg = {S3_LOCK_NONE, 0, 0};
    int ret;

    memset(out, 0, sizeof(*out));
    if (s3_xml_parse_tree(pool, body, S3_OBJECTLOCK_MAX_BODY, S3_OBJECTLOCK_MAX_NODE, &root) != 0 ||
        !s3_xml_is(root, "ObjectLockConfiguration"))
        return malformed(why);
    /* the one value ObjectLockEnabled has: Object Lock cannot be switched off once on */
    if (leaf(root, "ObjectLockEnabled", &enabled) != 0 || enabled == NULL ||
        !h2o_memis(enabled->text.base, enabled->text.len, H2O_STRLIT("Enabled")))
        return malformed(why);
    if (s3_xml_count(root, "Rule") > 1)
        return malformed(why);
    if ((rule = s3_xml_child(root, "Rule")) != NULL) {
        if (s3_xml_count(rule, "DefaultRetention") != 1)
            return malformed(why);
        dr = s3_xml_child(rule, "DefaultRetention");
        if (leaf(dr, "Mode", &mode) != 0 || leaf(dr, "Days", &days) != 0 || leaf(dr, "Years", &years) != 0)
            return malformed(why);
        if (mode == NULL || (cfg.mode = mode_of(mode->text)) == S3_LOCK_NONE || (days != NULL) == (years != NULL))
            return malformed(why);
        if (days != NULL && (ret = read_period(days, "Days", S3_OBJECTLOCK_MAX_DAYS, &cfg.days, why)) != 0)
            return ret;
        if (years != NULL && (ret = read_period(years, "Years", S3_OBJECTLOCK_MAX_YEARS, &cfg.years, why)) != 0)
            return ret;
    }
    *out = cfg;
    return 0;
}

void s3_objectlock_write_config(s3_xml_writer_t *w, const s3_objectlock_config_t *cfg)
{
    s3_xml_declaration(w);
    s3_xml_open_root(w, "ObjectLockConfiguration");
    s3_xml_element_str(w, "ObjectLockEnabled", "Enabled");
    if (cfg->mode != S3_LOCK_NONE) {
        s3_xml_open(w, "Rule");
        s3_xml_open(w, "DefaultRetention");
        s3_xml_element_str(w, "Mode", s3_lock_mode_name(cfg->mode));
        if (cfg->days != 0)
            s3_xml_element_uint(w, "Days", cfg->days);
        else
            s3_xml_element_uint(w, "Years", cfg->years);
        s3_xml_close(w, "DefaultRetention");
        s3_xml_close(w, "Rule");
    }
    s3_xml_close(w, "ObjectLockConfiguration");
}

void s3_objectlock_default_retention(const s3_objectlock_config_t *cfg, int64_t created_ns, s3_retention_t *out)
{
    out->mode = S3_LOCK_NONE;
    out->retain_until_ns = 0;
    if (cfg == NULL || cfg->mode == S3_LOCK_NONE)
        return;
    /* at most 36500 days: well inside int64 nanoseconds from any time a clock shows */
    int64_t days = cfg->days != 0 ? (int64_t)cfg->days : 365 * (int64_t)cfg->years;
    out->mode = cfg->mode;
    out->retain_until_ns = created_ns > INT64_MAX - days * DAY_NS ? INT64_MAX : created_ns + days * DAY_NS;
}

/* ---- a version's retention and legal hold ---- */

int s3_objectlock_parse_retention(h2o_mem_pool_t *pool, h2o_iovec_t body, int64_t now_ns, s3_retention_t *out,
                                  s3_error_detail_t *why)
{
    s3_xml_node_t *root;
    const s3_xml_node_t *mode, *until;
    s3_retention_t r = {S3_LOCK_NONE, 0};

    memset(out, 0, sizeof(*out));
    if (s3_xml_parse_tree(pool, body, S3_OBJECTLOCK_MAX_BODY, S3_OBJECTLOCK_MAX_NODE, &root) != 0 ||
        !s3_xml_is(root, "Retention"))
        return malformed(why);
    if (leaf(root, "Mode", &mode) != 0 || leaf(root, "RetainUntilDate", &until) != 0 ||
        (mode == NULL) != (until == NULL))
        return malformed(why);
    if (mode != NULL) {
        if ((r.mode = mode_of(mode->text)) == S3_LOCK_NONE ||
            s3_xml_parse_iso8601(until->text, &r.retain_until_ns) != 0)
            return malformed(why);
        if (r.retain_until_ns <= now_ns)
            return invalid_argument(why, "The retain until date must be in the future!", "RetainUntilDate",
                                    until->text);
    }
    *out = r;
    return 0;
}

void s3_objectlock_write_retention(s3_xml_writer_t *w, const s3_retention_t *r)
{
    s3_xml_declaration(w);
    s3_xml_open_root(w, "Retention");
    s3_xml_element_str(w, "Mode", s3_lock_mode_name(r->mode));
    s3_xml_element_time(w, "RetainUntilDate", r->retain_until_ns);
    s3_xml_close(w, "Retention");
}

int s3_objectlock_parse_legal_hold(h2o_mem_pool_t *pool, h2o_iovec_t body, s3_legal_hold_t *out, s3_error_detail_t *why)
{
    s3_xml_node_t *root;
    const s3_xml_node_t *status;

    *out = S3_LEGAL_HOLD_UNSET;
    if (s3_xml_parse_tree(pool, body, S3_OBJECTLOCK_MAX_BODY, S3_OBJECTLOCK_MAX_NODE, &root) != 0 ||
        !s3_xml_is(root, "LegalHold") || leaf(root, "Status", &status) != 0 || status == NULL)
        return malformed(why);
    if (h2o_memis(status->text.base, status->text.len, H2O_STRLIT("ON")))
        *out = S3_LEGAL_HOLD_ON;
    else if (h2o_memis(status->text.base, status->text.len, H2O_STRLIT("OFF")))
        *out = S3_LEGAL_HOLD_OFF;
    else
        return malformed(why);
    return 0;
}

void s3_objectlock_write_legal_hold(s3_xml_writer_t *w, s3_legal_hold_t hold)
{
    s3_xml_declaration(w);
    s3_xml_open_root(w, "LegalHold");
    s3_xml_element_str(w, "Status", hold == S3_LEGAL_HOLD_ON ? "ON" : "OFF");
    s3_xml_close(w, "LegalHold");
}

/* ---- the headers of a write ---- */

int s3_objectlock_parse_headers(const s3_objectlock_headers_t *h, int64_t now_ns, s3_retention_t *retention,
                                s3_legal_hold_t *hold, s3_error_detail_t *why)
{
    static const char BOTH[] = "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied";
    s3_retention_t r = {S3_LOCK_NONE, 0};
    s3_legal_hold_t l = S3_LEGAL_HOLD_UNSET;

    retention->mode = S3_LOCK_NONE;
    retention->retain_until_ns = 0;
    *hold = S3_LEGAL_HOLD_UNSET;
    if (h->mode.base != NULL && h->retain_until_date.base == NULL)
        return invalid_argument(why, BOTH, "x-amz-object-lock-retain-until-date", h2o_iovec_init(NULL, 0));
    if (h->mode.base == NULL && h->retain_until_date.base != NULL)
        return invalid_argument(why, BOTH, "x-amz-object-lock-mode", h2o_iovec_init(NULL, 0));
    if (h->mode.base != NULL) {
        if ((r.mode = mode_of(h->mode)) == S3_LOCK_NONE)
            return invalid_argument(why, "Unknown wormMode directive.", "x-amz-object-lock-mode", h->mode);
        if (s3_xml_parse_iso8601(h->retain_until_date, &r.retain_until_ns) != 0)
            return invalid_argument(why, "The retain until date must be provided in ISO 8601 format",
                                    "x-amz-object-lock-retain-until-date", h->retain_until_date);
        if (r.retain_until_ns <= now_ns)
            return invalid_argument(why, "The retain until date must be in the future!",
                                    "x-amz-object-lock-retain-until-date", h->retain_until_date);
    }
    if (h->legal_hold.base != NULL) {
        if (h2o_memis(h->legal_hold.base, h->legal_hold.len, H2O_STRLIT("ON")))
            l = S3_LEGAL_HOLD_ON;
        else if (h2o_memis(h->legal_hold.base, h->legal_hold.len, H2O_STRLIT("OFF")))
            l = S3_LEGAL_HOLD_OFF;
        else
            return invalid_argument(why, "Legal Hold must be either of 'ON' or 'OFF'", "x-amz-object-lock-legal-hold",
                                    h->legal_hold);
    }
    *retention = r;
    *hold = l;
    return 0;
}

int s3_objectlock_bypass_requested(h2o_iovec_t value)
{
    return value.base != NULL && h2o_lcstris(value.base, value.len, H2O_STRLIT("true"));
}

/* ---- decisions ---- */

static int retention_in_force(const s3_retention_t *r, int64_t now_ns)
{
    return r->mode != S3_LOCK_NONE && r->retain_until_ns > now_ns;
}

int s3_objectlock_check_remove(const s3_lock_state_t *st, int64_t now_ns, int bypass, int may_bypass,
                               s3_error_detail_t *why)
{
    /* a legal hold stands whatever the retention, and the bypass does not lift it */
    if (st->legal_hold == S3_LEGAL_HOLD_ON)
        return s3_error_detail_set(why, S3_ERR_ACCESS_DENIED, LOCKED);
    if (!retention_in_force(&st->retention, now_ns))
        return 0;
    if (st->retention.mode == S3_LOCK_GOVERNANCE && bypass && may_bypass)
        return 0;
    return s3_error_detail_set(why, S3_ERR_ACCESS_DENIED, LOCKED);
}

int s3_objectlock_check_retention_change(const s3_retention_t *cur, const s3_retention_t *next, int64_t now_ns,
                                         int bypass, int may_bypass, s3_error_detail_t *why)
{
    if (!retention_in_force(cur, now_ns))
        return 0;
    /* extending (or restating) in the same mode is open to anyone who may set retention */
    if (next->mode == cur->mode && next->retain_until_ns >= cur->retain_until_ns)
        return 0;
    /* shortening, removing, or changing the mode */
    if (cur->mode == S3_LOCK_GOVERNANCE && bypass && may_bypass)
        return 0;
    return s3_error_detail_set(why, S3_ERR_ACCESS_DENIED, LOCKED);
}
