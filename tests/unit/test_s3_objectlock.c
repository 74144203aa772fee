/* test_s3_objectlock.c — Object Lock: the configuration, Retention and LegalHold documents, the
 * headers of a write, and the decisions on deleting and changing retention. */
#include <stdlib.h>
#include "tests/unit/unit.h"
#include "gateway/s3/objectlock.h"

#define IOV(s) h2o_iovec_init((s), strlen(s))
#define NONE   h2o_iovec_init(NULL, 0)
#define DAY    (86400LL * 1000000000LL)

static h2o_mem_pool_t pool;

static int iov_eq(h2o_iovec_t v, const char *s)
{
    return v.base != NULL && v.len == strlen(s) && memcmp(v.base, s, v.len) == 0;
}

static int has_field(const s3_error_detail_t *d, const char *name, const char *value)
{
    for (size_t i = 0; i < d->nfields; i++)
        if (strcmp(d->fields[i].name, name) == 0)
            return value == NULL || iov_eq(d->fields[i].value, value);
    return 0;
}

static int64_t at(const char *iso)
{
    int64_t ns;
    if (s3_xml_parse_iso8601(IOV(iso), &ns) != 0)
        abort();
    return ns;
}

static h2o_iovec_t config_written(const s3_objectlock_config_t *c)
{
    s3_xml_writer_t w;
    s3_xml_writer_init(&w, &pool);
    s3_objectlock_write_config(&w, c);
    return s3_xml_writer_result(&w);
}

static int config(const char *inner, s3_objectlock_config_t *c, s3_error_detail_t *why)
{
    static char buf[4096];
    snprintf(buf, sizeof(buf), "<ObjectLockConfiguration>%s</ObjectLockConfiguration>", inner);
    memset(why, 0, sizeof(*why));
    return s3_objectlock_parse_config(&pool, IOV(buf), c, why);
}

#define NOW at("2026-01-01T00:00:00Z")
static const char LOCKED[] = "Access Denied because object protected by object lock.";

/* ---- the bucket's configuration ---- */

/* PutObjectLockConfiguration's sample request. */
TEST(test_objectlock_config_aws_example_parses_and_serializes)
{
    static const char body[] = "<ObjectLockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
                               "  <ObjectLockEnabled>Enabled</ObjectLockEnabled>\n"
                               "  <Rule>\n"
                               "    <DefaultRetention>\n"
                               "      <Mode>COMPLIANCE</Mode>\n"
                               "      <Days>50</Days>\n"
                               "    </DefaultRetention>\n"
                               "  </Rule>\n"
                               "</ObjectLockConfiguration>";
    s3_objectlock_config_t c, again;
    CHECK_EQ_INT(s3_objectlock_parse_config(&pool, IOV(body), &c, NULL), 0);
    CHECK(c.mode == S3_LOCK_COMPLIANCE && c.days == 50 && c.years == 0);
    h2o_iovec_t doc = config_written(&c);
    CHECK(iov_eq(doc, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<ObjectLockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                      "<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode>"
                      "<Days>50</Days></DefaultRetention></Rule></ObjectLockConfiguration>"));
    CHECK_EQ_INT(s3_objectlock_parse_config(&pool, doc, &again, NULL), 0);
    CHECK(again.mode == c.mode && again.days == c.days && again.years == c.years);
}

TEST(test_objectlock_config_years_and_no_rule)
{
    s3_objectlock_config_t c;
    s3_error_detail_t why;
    CHECK_EQ_INT(config("<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Years>1</Years>"
                        "<Mode>GOVERNANCE</Mode></DefaultRetention></Rule>",
                        &c, &why),
                 0);
    CHECK(c.mode == S3_LOCK_GOVERNANCE && c.years == 1 && c.days == 0);
    CHECK(iov_eq(config_written(&c), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                     "<ObjectLockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                                     "<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>"
                                     "<Mode>GOVERNANCE</Mode><Years>1</Years></DefaultRetention></Rule>"
                                     "</ObjectLockConfiguration>"));
    /* without Rule: Object Lock on, no default retention */
    CHECK_EQ_INT(config("<ObjectLockEnabled>Enabled</ObjectLockEnabled>", &c, &why), 0);
    CHECK(c.mode == S3_LOCK_NONE);
    CHECK(iov_eq(config_written(&c), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                     "<ObjectLockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                                     "<ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>"));
}

TEST(test_objectlock_config_shape_faults_are_malformed_xml)
{
    static const char *const bad[] = {
        "",                                                /* no ObjectLockEnabled */
        "<ObjectLockEnabled>Disabled</ObjectLockEnabled>", /* the one value is Enabled */
        "<ObjectLockEnabled>enabled</ObjectLockEnabled>",
        "<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule/>",
        "<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention/></Rule>",
        "<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode>"
        "</DefaultRetention></Rule>", /* a mode without a period */
        "<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Days>1</Days></DefaultRetention></"
        "Rule>",
        "<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>1</Days>"
        "<Years>1</Years></DefaultRetention></Rule>",
        "<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>BAD-VALUE</Mode><Days>1</Days>"
        "</DefaultRetention></Rule>",
        "<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>governance</Mode><Days>1</Days>"
        "</DefaultRetention></Rule>",
        "<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>x</Days>"
        "</DefaultRetention></Rule>",
        "<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode>"
        "<Days>99999999999</Days></DefaultRetention></Rule>",
        "<ObjectLockEnabled>Enabled</ObjectLockEnabled><ObjectLockEnabled>Enabled</ObjectLockEnabled>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s3_objectlock_config_t c;
        s3_error_detail_t why;
        CHECK_EQ_INT(config(bad[i], &c, &why), -S3_ERR_MALFORMED_XML);
        CHECK(why.err == S3_ERR_MALFORMED_XML && c.mode == S3_LOCK_NONE);
    }
    s3_objectlock_config_t c;
    CHECK_EQ_INT(s3_objectlock_parse_config(&pool, IOV("<Retention/>"), &c, NULL), -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(s3_objectlock_parse_config(&pool, IOV(""), &c, NULL), -S3_ERR_MALFORMED_XML);
}

TEST(test_objectlock_config_period_must_be_positive_and_bounded)
{
    s3_objectlock_config_t c;
    s3_error_detail_t why;
    static const char *const non_positive[] = {"0", "-1"};
    for (size_t i = 0; i < 2; i++) {
        char inner[512];
        snprintf(inner, sizeof(inner),
                 "<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode>"
                 "<Days>%s</Days></DefaultRetention></Rule>",
                 non_positive[i]);
        CHECK_EQ_INT(config(inner, &c, &why), -S3_ERR_INVALID_ARGUMENT);
        CHECK(iov_eq(why.message, "Default retention period must be a positive integer value."));
        CHECK(has_field(&why, "ArgumentName", "Days") && has_field(&why, "ArgumentValue", non_positive[i]));
    }
    CHECK_EQ_INT(config("<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode>"
                        "<Years>0</Years></DefaultRetention></Rule>",
                        &c, &why),
                 -S3_ERR_INVALID_ARGUMENT);
    CHECK(has_field(&why, "ArgumentName", "Years"));
    CHECK_EQ_INT(config("<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode>"
                        "<Days>36500</Days></DefaultRetention></Rule>",
                        &c, &why),
                 0);
    CHECK_EQ_INT(config("<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode>"
                        "<Days>36501</Days></DefaultRetention></Rule>",
                        &c, &why),
                 -S3_ERR_INVALID_ARGUMENT);
    CHECK(iov_eq(why.message, "Default retention period too large."));
    CHECK_EQ_INT(config("<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode>"
                        "<Years>100</Years></DefaultRetention></Rule>",
                        &c, &why),
                 0);
    CHECK_EQ_INT(config("<ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode>"
                        "<Years>101</Years></DefaultRetention></Rule>",
                        &c, &why),
                 -S3_ERR_INVALID_ARGUMENT);
    CHECK(iov_eq(why.message, "Default retention period too large."));
}

TEST(test_objectlock_default_retention_from_creation)
{
    s3_objectlock_config_t days = {S3_LOCK_GOVERNANCE, 1, 0}, years = {S3_LOCK_COMPLIANCE, 0, 2}, none = {0, 0, 0};
    s3_retention_t r;
    int64_t created = at("2024-02-28T10:00:00Z");
    s3_objectlock_default_retention(&days, created, &r);
    CHECK(r.mode == S3_LOCK_GOVERNANCE && r.retain_until_ns == at("2024-02-29T10:00:00Z"));
    s3_objectlock_default_retention(&years, created, &r);
    CHECK(r.mode == S3_LOCK_COMPLIANCE && r.retain_until_ns == created + 730 * DAY);
    s3_objectlock_default_retention(&none, created, &r);
    CHECK(r.mode == S3_LOCK_NONE);
    s3_objectlock_default_retention(NULL, created, &r);
    CHECK(r.mode == S3_LOCK_NONE);
}

/* ---- retention and legal hold ---- */

/* PutObjectRetention's sample request, with a date ahead of the test's clock. */
TEST(test_objectlock_retention_aws_example_parses_and_serializes)
{
    s3_retention_t r;
    s3_xml_writer_t w;
    CHECK_EQ_INT(s3_objectlock_parse_retention(&pool,
                                               IOV("<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
                                                   "  <Mode>GOVERNANCE</Mode>\n"
                                                   "  <RetainUntilDate>2030-05-20T00:00:00Z</RetainUntilDate>\n"
                                                   "</Retention>"),
                                               NOW, &r, NULL),
                 0);
    CHECK(r.mode == S3_LOCK_GOVERNANCE && r.retain_until_ns == at("2030-05-20T00:00:00Z"));
    s3_xml_writer_init(&w, &pool);
    s3_objectlock_write_retention(&w, &r);
    h2o_iovec_t doc = s3_xml_writer_result(&w);
    CHECK(iov_eq(doc, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                      "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>GOVERNANCE</Mode>"
                      "<RetainUntilDate>2030-05-20T00:00:00.000Z</RetainUntilDate></Retention>"));
    s3_retention_t again;
    CHECK_EQ_INT(s3_objectlock_parse_retention(&pool, doc, NOW, &again, NULL), 0);
    CHECK(again.mode == r.mode && again.retain_until_ns == r.retain_until_ns);
}

TEST(test_objectlock_empty_retention_asks_removal)
{
    s3_retention_t r;
    CHECK_EQ_INT(s3_objectlock_parse_retention(&pool, IOV("<Retention/>"), NOW, &r, NULL), 0);
    CHECK(r.mode == S3_LOCK_NONE);
}

TEST(test_objectlock_retention_faults)
{
    static const char *const bad[] = {
        "<Retention><Mode>GOVERNANCE</Mode></Retention>",
        "<Retention><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate></Retention>",
        "<Retention><Mode>WORM</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate></Retention>",
        "<Retention><Mode>GOVERNANCE</Mode><RetainUntilDate>soon</RetainUntilDate></Retention>",
        "<Retention><Mode>GOVERNANCE</Mode><Mode>GOVERNANCE</Mode><RetainUntilDate>2030-01-01T00:00:00Z"
        "</RetainUntilDate></Retention>",
        "<LegalHold><Status>ON</Status></LegalHold>",
        "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s3_retention_t r;
        CHECK_EQ_INT(s3_objectlock_parse_retention(&pool, IOV(bad[i]), NOW, &r, NULL), -S3_ERR_MALFORMED_XML);
    }
    s3_retention_t r;
    s3_error_detail_t why;
    memset(&why, 0, sizeof(why));
    CHECK_EQ_INT(s3_objectlock_parse_retention(&pool,
                                               IOV("<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>"
                                                   "2025-12-31T23:59:59Z</RetainUntilDate></Retention>"),
                                               NOW, &r, &why),
                 -S3_ERR_INVALID_ARGUMENT);
    CHECK(iov_eq(why.message, "The retain until date must be in the future!"));
    CHECK(has_field(&why, "ArgumentName", "RetainUntilDate"));
    /* now itself is not the future */
    CHECK_EQ_INT(s3_objectlock_parse_retention(&pool,
                                               IOV("<Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>"
                                                   "2026-01-01T00:00:00Z</RetainUntilDate></Retention>"),
                                               NOW, &r, &why),
                 -S3_ERR_INVALID_ARGUMENT);
}

TEST(test_objectlock_legal_hold_parses_and_serializes)
{
    s3_legal_hold_t h;
    s3_xml_writer_t w;
    CHECK_EQ_INT(
        s3_objectlock_parse_legal_hold(
            &pool, IOV("<LegalHold xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>ON</Status></LegalHold>"),
            &h, NULL),
        0);
    CHECK(h == S3_LEGAL_HOLD_ON);
    s3_xml_writer_init(&w, &pool);
    s3_objectlock_write_legal_hold(&w, h);
    CHECK(iov_eq(s3_xml_writer_result(&w), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                           "<LegalHold xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>ON"
                                           "</Status></LegalHold>"));
    CHECK_EQ_INT(s3_objectlock_parse_legal_hold(&pool, IOV("<LegalHold><Status>OFF</Status></LegalHold>"), &h, NULL),
                 0);
    CHECK(h == S3_LEGAL_HOLD_OFF);
    static const char *const bad[] = {"<LegalHold/>", "<LegalHold><Status>on</Status></LegalHold>",
                                      "<LegalHold><Status>ON</Status><Status>ON</Status></LegalHold>",
                                      "<Hold><Status>ON</Status></Hold>"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(s3_objectlock_parse_legal_hold(&pool, IOV(bad[i]), &h, NULL), -S3_ERR_MALFORMED_XML);
}

/* ---- the headers ---- */

static int headers(const char *mode, const char *date, const char *hold, s3_retention_t *r, s3_legal_hold_t *h,
                   s3_error_detail_t *why)
{
    s3_objectlock_headers_t hd = {mode != NULL ? IOV(mode) : NONE, date != NULL ? IOV(date) : NONE,
                                  hold != NULL ? IOV(hold) : NONE};
    memset(why, 0, sizeof(*why));
    return s3_objectlock_parse_headers(&hd, NOW, r, h, why);
}

TEST(test_objectlock_headers_read_together)
{
    s3_retention_t r;
    s3_legal_hold_t h;
    s3_error_detail_t why;
    CHECK_EQ_INT(headers("COMPLIANCE", "2030-01-01T00:00:00.000Z", "ON", &r, &h, &why), 0);
    CHECK(r.mode == S3_LOCK_COMPLIANCE && r.retain_until_ns == at("2030-01-01T00:00:00Z") && h == S3_LEGAL_HOLD_ON);
    CHECK_EQ_INT(headers(NULL, NULL, "OFF", &r, &h, &why), 0);
    CHECK(r.mode == S3_LOCK_NONE && h == S3_LEGAL_HOLD_OFF);
    CHECK_EQ_INT(headers(NULL, NULL, NULL, &r, &h, &why), 0);
    CHECK(r.mode == S3_LOCK_NONE && h == S3_LEGAL_HOLD_UNSET);
}

TEST(test_objectlock_headers_mode_and_date_come_together)
{
    static const char both[] = "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied";
    s3_retention_t r;
    s3_legal_hold_t h;
    s3_error_detail_t why;
    CHECK_EQ_INT(headers("GOVERNANCE", NULL, NULL, &r, &h, &why), -S3_ERR_INVALID_ARGUMENT);
    CHECK(iov_eq(why.message, both) && has_field(&why, "ArgumentName", "x-amz-object-lock-retain-until-date"));
    CHECK_EQ_INT(headers(NULL, "2030-01-01T00:00:00Z", NULL, &r, &h, &why), -S3_ERR_INVALID_ARGUMENT);
    CHECK(iov_eq(why.message, both) && has_field(&why, "ArgumentName", "x-amz-object-lock-mode"));
}

TEST(test_objectlock_headers_bad_values)
{
    s3_retention_t r;
    s3_legal_hold_t h;
    s3_error_detail_t why;
    CHECK_EQ_INT(headers("WORM", "2030-01-01T00:00:00Z", NULL, &r, &h, &why), -S3_ERR_INVALID_ARGUMENT);
    CHECK(iov_eq(why.message, "Unknown wormMode directive."));
    CHECK(has_field(&why, "ArgumentName", "x-amz-object-lock-mode") && has_field(&why, "ArgumentValue", "WORM"));
    CHECK_EQ_INT(headers("GOVERNANCE", "abc", NULL, &r, &h, &why), -S3_ERR_INVALID_ARGUMENT);
    CHECK(iov_eq(why.message, "The retain until date must be provided in ISO 8601 format"));
    CHECK(has_field(&why, "ArgumentValue", "abc"));
    CHECK_EQ_INT(headers("GOVERNANCE", "2020-01-01T00:00:00Z", NULL, &r, &h, &why), -S3_ERR_INVALID_ARGUMENT);
    CHECK(iov_eq(why.message, "The retain until date must be in the future!"));
    CHECK(has_field(&why, "ArgumentName", "x-amz-object-lock-retain-until-date"));
    CHECK_EQ_INT(headers(NULL, NULL, "wrong", &r, &h, &why), -S3_ERR_INVALID_ARGUMENT);
    CHECK(iov_eq(why.message, "Legal Hold must be either of 'ON' or 'OFF'"));
    CHECK(has_field(&why, "ArgumentName", "x-amz-object-lock-legal-hold") && has_field(&why, "ArgumentValue", "wrong"));
    CHECK(r.mode == S3_LOCK_NONE && h == S3_LEGAL_HOLD_UNSET); /* nothing half-set on refusal */
}

TEST(test_objectlock_bypass_header)
{
    CHECK(s3_objectlock_bypass_requested(IOV("true")));
    CHECK(s3_objectlock_bypass_requested(IOV("True")));
    CHECK(!s3_objectlock_bypass_requested(IOV("false")));
    CHECK(!s3_objectlock_bypass_requested(IOV("yes")));
    CHECK(!s3_objectlock_bypass_requested(NONE));
}

/* ---- decisions ---- */

static s3_lock_state_t state(s3_lock_mode_t mode, const char *until, s3_legal_hold_t hold)
{
    s3_lock_state_t st = {{mode, until != NULL ? at(until) : 0}, hold};
    return st;
}

TEST(test_objectlock_unprotected_version_may_be_removed)
{
    s3_lock_state_t st = state(S3_LOCK_NONE, NULL, S3_LEGAL_HOLD_UNSET);
    CHECK_EQ_INT(s3_objectlock_check_remove(&st, NOW, 0, 0, NULL), 0);
    st = state(S3_LOCK_NONE, NULL, S3_LEGAL_HOLD_OFF);
    CHECK_EQ_INT(s3_objectlock_check_remove(&st, NOW, 0, 0, NULL), 0);
}

TEST(test_objectlock_compliance_in_force_refuses_everyone)
{
    s3_lock_state_t st = state(S3_LOCK_COMPLIANCE, "2027-01-01T00:00:00Z", S3_LEGAL_HOLD_UNSET);
    s3_error_detail_t why;
    memset(&why, 0, sizeof(why));
    CHECK_EQ_INT(s3_objectlock_check_remove(&st, NOW, 0, 0, &why), -S3_ERR_ACCESS_DENIED);
    CHECK(iov_eq(why.message, LOCKED));
    CHECK_EQ_INT(s3_objectlock_check_remove(&st, NOW, 1, 1, NULL), -S3_ERR_ACCESS_DENIED);
    /* once its date has passed, it protects nothing */
    CHECK_EQ_INT(s3_objectlock_check_remove(&st, at("2027-01-01T00:00:00Z"), 0, 0, NULL), 0);
}

TEST(test_objectlock_governance_gives_way_to_permitted_bypass)
{
    s3_lock_state_t st = state(S3_LOCK_GOVERNANCE, "2027-01-01T00:00:00Z", S3_LEGAL_HOLD_UNSET);
    CHECK_EQ_INT(s3_objectlock_check_remove(&st, NOW, 0, 0, NULL), -S3_ERR_ACCESS_DENIED);
    CHECK_EQ_INT(s3_objectlock_check_remove(&st, NOW, 0, 1, NULL), -S3_ERR_ACCESS_DENIED); /* permitted, not asked */
    CHECK_EQ_INT(s3_objectlock_check_remove(&st, NOW, 1, 0, NULL), -S3_ERR_ACCESS_DENIED); /* asked, not permitted */
    CHECK_EQ_INT(s3_objectlock_check_remove(&st, NOW, 1, 1, NULL), 0);
}

TEST(test_objectlock_legal_hold_refuses_even_with_bypass)
{
    s3_lock_state_t st = state(S3_LOCK_GOVERNANCE, "2027-01-01T00:00:00Z", S3_LEGAL_HOLD_ON);
    CHECK_EQ_INT(s3_objectlock_check_remove(&st, NOW, 1, 1, NULL), -S3_ERR_ACCESS_DENIED);
    /* a legal hold alone, or after the retention ran out, still protects */
    st = state(S3_LOCK_NONE, NULL, S3_LEGAL_HOLD_ON);
    CHECK_EQ_INT(s3_objectlock_check_remove(&st, NOW, 1, 1, NULL), -S3_ERR_ACCESS_DENIED);
    st = state(S3_LOCK_COMPLIANCE, "2020-01-01T00:00:00Z", S3_LEGAL_HOLD_ON);
    CHECK_EQ_INT(s3_objectlock_check_remove(&st, NOW, 0, 0, NULL), -S3_ERR_ACCESS_DENIED);
}

static int change(s3_lock_mode_t cur_mode, const char *cur_until, s3_lock_mode_t next_mode, const char *next_until,
                  int bypass, int may_bypass)
{
    s3_retention_t cur = {cur_mode, cur_until != NULL ? at(cur_until) : 0};
    s3_retention_t next = {next_mode, next_until != NULL ? at(next_until) : 0};
    return s3_objectlock_check_retention_change(&cur, &next, NOW, bypass, may_bypass, NULL);
}

TEST(test_objectlock_compliance_can_only_be_extended)
{
    const char *until = "2027-01-01T00:00:00Z";
    CHECK_EQ_INT(change(S3_LOCK_COMPLIANCE, until, S3_LOCK_COMPLIANCE, "2028-01-01T00:00:00Z", 0, 0), 0);
    CHECK_EQ_INT(change(S3_LOCK_COMPLIANCE, until, S3_LOCK_COMPLIANCE, until, 0, 0), 0);
    CHECK_EQ_INT(change(S3_LOCK_COMPLIANCE, until, S3_LOCK_COMPLIANCE, "2026-06-01T00:00:00Z", 1, 1),
                 -S3_ERR_ACCESS_DENIED);
    CHECK_EQ_INT(change(S3_LOCK_COMPLIANCE, until, S3_LOCK_GOVERNANCE, "2028-01-01T00:00:00Z", 1, 1),
                 -S3_ERR_ACCESS_DENIED);
    CHECK_EQ_INT(change(S3_LOCK_COMPLIANCE, until, S3_LOCK_NONE, NULL, 1, 1), -S3_ERR_ACCESS_DENIED);
}

TEST(test_objectlock_governance_shortened_only_with_bypass)
{
    const char *until = "2027-01-01T00:00:00Z";
    CHECK_EQ_INT(change(S3_LOCK_GOVERNANCE, until, S3_LOCK_GOVERNANCE, "2028-01-01T00:00:00Z", 0, 0), 0);
    CHECK_EQ_INT(change(S3_LOCK_GOVERNANCE, until, S3_LOCK_GOVERNANCE, "2026-06-01T00:00:00Z", 0, 0),
                 -S3_ERR_ACCESS_DENIED);
    CHECK_EQ_INT(change(S3_LOCK_GOVERNANCE, until, S3_LOCK_GOVERNANCE, "2026-06-01T00:00:00Z", 1, 0),
                 -S3_ERR_ACCESS_DENIED);
    CHECK_EQ_INT(change(S3_LOCK_GOVERNANCE, until, S3_LOCK_GOVERNANCE, "2026-06-01T00:00:00Z", 1, 1), 0);
    /* removal (an empty Retention) and a change of mode count as shortening */
    CHECK_EQ_INT(change(S3_LOCK_GOVERNANCE, until, S3_LOCK_NONE, NULL, 0, 0), -S3_ERR_ACCESS_DENIED);
    CHECK_EQ_INT(change(S3_LOCK_GOVERNANCE, until, S3_LOCK_NONE, NULL, 1, 1), 0);
    CHECK_EQ_INT(change(S3_LOCK_GOVERNANCE, until, S3_LOCK_COMPLIANCE, "2028-01-01T00:00:00Z", 0, 0),
                 -S3_ERR_ACCESS_DENIED);
    CHECK_EQ_INT(change(S3_LOCK_GOVERNANCE, until, S3_LOCK_COMPLIANCE, "2028-01-01T00:00:00Z", 1, 1), 0);
}

TEST(test_objectlock_expired_or_absent_retention_may_be_replaced)
{
    CHECK_EQ_INT(change(S3_LOCK_NONE, NULL, S3_LOCK_COMPLIANCE, "2028-01-01T00:00:00Z", 0, 0), 0);
    CHECK_EQ_INT(change(S3_LOCK_COMPLIANCE, "2025-01-01T00:00:00Z", S3_LOCK_GOVERNANCE, "2026-06-01T00:00:00Z", 0, 0),
                 0);
    CHECK_EQ_INT(change(S3_LOCK_COMPLIANCE, "2025-01-01T00:00:00Z", S3_LOCK_NONE, NULL, 0, 0), 0);
}

TEST(test_objectlock_mode_names)
{
    CHECK(strcmp(s3_lock_mode_name(S3_LOCK_GOVERNANCE), "GOVERNANCE") == 0);
    CHECK(strcmp(s3_lock_mode_name(S3_LOCK_COMPLIANCE), "COMPLIANCE") == 0);
    CHECK(strcmp(s3_lock_mode_name(S3_LOCK_NONE), "") == 0);
}

int main(void)
{
    h2o_mem_init_pool(&pool);
    RUN(test_objectlock_config_aws_example_parses_and_serializes);
    RUN(test_objectlock_config_years_and_no_rule);
    RUN(test_objectlock_config_shape_faults_are_malformed_xml);
    RUN(test_objectlock_config_period_must_be_positive_and_bounded);
    RUN(test_objectlock_default_retention_from_creation);
    RUN(test_objectlock_retention_aws_example_parses_and_serializes);
    RUN(test_objectlock_empty_retention_asks_removal);
    RUN(test_objectlock_retention_faults);
    RUN(test_objectlock_legal_hold_parses_and_serializes);
    RUN(test_objectlock_headers_read_together);
    RUN(test_objectlock_headers_mode_and_date_come_together);
    RUN(test_objectlock_headers_bad_values);
    RUN(test_objectlock_bypass_header);
    RUN(test_objectlock_unprotected_version_may_be_removed);
    RUN(test_objectlock_compliance_in_force_refuses_everyone);
    RUN(test_objectlock_governance_gives_way_to_permitted_bypass);
    RUN(test_objectlock_legal_hold_refuses_even_with_bypass);
    RUN(test_objectlock_compliance_can_only_be_extended);
    RUN(test_objectlock_governance_shortened_only_with_bypass);
    RUN(test_objectlock_expired_or_absent_retention_may_be_replaced);
    RUN(test_objectlock_mode_names);
    h2o_mem_clear_pool(&pool);
    return unit_done();
}
