/* test_s3_lifecycle.c — the LifecycleConfiguration document, its checks, and what its rules do to
 * object versions and uploads. */
#include <stdlib.h>
#include "tests/unit/unit.h"
#include "common/bytes.h"
#include "gateway/s3/lifecycle.h"

#define IOV(s) h2o_iovec_init((s), strlen(s))
#define DAY    (86400LL * 1000000000LL)
#define HOUR   (3600LL * 1000000000LL)
#define MINUTE (60LL * 1000000000LL)

static h2o_mem_pool_t pool;

static int iov_eq(h2o_iovec_t v, const char *s)
{
    return v.base != NULL && v.len == strlen(s) && memcmp(v.base, s, v.len) == 0;
}

/* Nanoseconds of an ISO 8601 time. */
static int64_t at(const char *iso)
{
    int64_t ns;
    if (s3_xml_parse_iso8601(IOV(iso), &ns) != 0)
        abort();
    return ns;
}

static int parse(const char *rules, s3_lifecycle_config_t *c, s3_error_detail_t *why)
{
    static char buf[1 << 20];
    snprintf(buf, sizeof(buf), "<LifecycleConfiguration>%s</LifecycleConfiguration>", rules);
    memset(why, 0, sizeof(*why));
    return s3_lifecycle_parse(&pool, IOV(buf), c, why);
}

/* Parses rules that must be valid; aborts the binary otherwise. */
static s3_lifecycle_config_t *config(const char *rules)
{
    s3_lifecycle_config_t *c = h2o_mem_alloc_pool(&pool, sizeof(*c));
    s3_error_detail_t why;
    if (parse(rules, c, &why) != 0) {
        fprintf(stderr, "configuration refused (%s): %s\n", s3_error_info(why.err)->code, rules);
        abort();
    }
    return c;
}

/* Expects rules to be refused with err and message (NULL: the code's default). */
static int refused(const char *rules, s3_error_t err, const char *message)
{
    s3_lifecycle_config_t c;
    s3_error_detail_t why;
    int ret = parse(rules, &c, &why);
    if (ret != -(int)err || why.err != err || c.count != 0) {
        fprintf(stderr, "  got %s for %s\n", s3_error_info(why.err)->code, rules);
        return 0;
    }
    if (message == NULL ? why.message.base != NULL : !iov_eq(why.message, message)) {
        fprintf(stderr, "  message \"%.*s\" for %s\n", (int)why.message.len, why.message.base, rules);
        return 0;
    }
    return 1;
}

static h2o_iovec_t written(const s3_lifecycle_config_t *c)
{
    s3_xml_writer_t w;
    s3_xml_writer_init(&w, &pool);
    s3_lifecycle_write_xml(&w, c);
    return s3_xml_writer_result(&w);
}

#define DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
#define ROOT "<LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"

/* ---- the document ---- */

/* PutBucketLifecycleConfiguration's Example 1: a transition to GLACIER and an expiration. */
static const char API_EXAMPLE_1[] = "<LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
                                    "  <Rule>\n"
                                    "    <ID>id1</ID>\n"
                                    "    <Filter>\n"
                                    "       <Prefix>documents/</Prefix>\n"
                                    "    </Filter>\n"
                                    "    <Status>Enabled</Status>\n"
                                    "    <Transition>\n"
                                    "      <Days>30</Days>\n"
                                    "      <StorageClass>GLACIER</StorageClass>\n"
                                    "    </Transition>\n"
                                    "  </Rule>\n"
                                    "  <Rule>\n"
                                    "    <ID>id2</ID>\n"
                                    "    <Filter>\n"
                                    "       <Prefix>logs/</Prefix>\n"
                                    "    </Filter>\n"
                                    "    <Status>Enabled</Status>\n"
                                    "    <Expiration>\n"
                                    "      <Days>365</Days>\n"
                                    "    </Expiration>\n"
                                    "  </Rule>\n"
                                    "</LifecycleConfiguration>";

TEST(test_lifecycle_api_example_with_transition_is_not_implemented)
{
    s3_lifecycle_config_t c;
    s3_error_detail_t why;
    CHECK_EQ_INT(s3_lifecycle_parse(&pool, IOV(API_EXAMPLE_1), &c, &why), -S3_ERR_NOT_IMPLEMENTED);
    CHECK_EQ_INT(why.err, S3_ERR_NOT_IMPLEMENTED);
    CHECK_EQ_INT(s3_error_info(why.err)->status, 501);
    CHECK(iov_eq(why.message, "Transition and NoncurrentVersionTransition actions are not implemented: this server "
                              "keeps one storage class."));
    /* its expiration rule alone is accepted */
    s3_lifecycle_config_t *e =
        config("<Rule><ID>id2</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>"
               "<Expiration><Days>365</Days></Expiration></Rule>");
    CHECK(e->count == 1 && e->rules[0].scope == S3_LC_FILTER_PREFIX && iov_eq(e->rules[0].prefix, "logs/"));
    CHECK(e->rules[0].expire == S3_LC_EXPIRE_DAYS && e->rules[0].expire_days == 365);
    CHECK(iov_eq(written(e),
                 DECL ROOT "<Rule><ID>id2</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>"
                           "<Expiration><Days>365</Days></Expiration></Rule></LifecycleConfiguration>"));
}

/* The user guide's examples: a tag filter in an And, noncurrent versions kept by number,
 * expired delete markers, incomplete uploads, noncurrent delete markers by size, a size range. */
TEST(test_lifecycle_user_guide_examples_parse_and_serialize)
{
    s3_lifecycle_config_t *c =
        config("<Rule>\n    <ID>Rule 1</ID>\n    <Filter>\n      <And>\n"
               "         <Prefix>projectA/</Prefix>\n         <Tag>\n"
               "            <Key>key1</Key>\n            <Value>value1</Value>\n"
               "         </Tag>\n      </And>\n    </Filter>\n    <Status>Enabled</Status>\n"
               "    <Expiration>\n      <Days>30</Days>\n    </Expiration>\n  </Rule>"
               "<Rule><ID>sample-rule</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>"
               "<NoncurrentVersionExpiration><NewerNoncurrentVersions>5</NewerNoncurrentVersions>"
               "<NoncurrentDays>30</NoncurrentDays></NoncurrentVersionExpiration></Rule>"
               "<Rule><ID>ExampleRule</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>"
               "<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>"
               "<NoncurrentVersionExpiration><NoncurrentDays>30</NoncurrentDays>"
               "</NoncurrentVersionExpiration></Rule>"
               "<Rule><ID>mpu-rule</ID><Filter><Prefix>SomeKeyPrefix/</Prefix></Filter>"
               "<Status>Enabled</Status><AbortIncompleteMultipartUpload>"
               "<DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>"
               "<Rule><ID>markers</ID><Filter><ObjectSizeLessThan>1</ObjectSizeLessThan></Filter>"
               "<Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>30"
               "</NoncurrentDays></NoncurrentVersionExpiration></Rule>"
               "<Rule><ID>range</ID><Filter><And><Prefix>PicturesPrefix/</Prefix>"
               "<ObjectSizeGreaterThan>500</ObjectSizeGreaterThan>"
               "<ObjectSizeLessThan>64000</ObjectSizeLessThan></And></Filter>"
               "<Status>Disabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>"
               "</Rule>");
    CHECK_EQ_INT(c->count, 6);
    CHECK(c->rules[0].scope == S3_LC_FILTER_AND && c->rules[0].ntags == 1 &&
          iov_eq(c->rules[0].tags[0].value, "value1"));
    CHECK(c->rules[1].newer_noncurrent == 5 && c->rules[1].noncurrent_days == 30 && iov_eq(c->rules[1].prefix, ""));
    CHECK(c->rules[2].expire == S3_LC_EXPIRE_MARKER && c->rules[2].expired_delete_marker == 1);
    CHECK(c->rules[3].has_abort && c->rules[3].abort_days == 7);
    CHECK(c->rules[4].scope == S3_LC_FILTER_SIZE_LT && c->rules[4].size_lt == 1);
    CHECK(c->rules[5].has_size_gt && c->rules[5].size_gt == 500 && c->rules[5].size_lt == 64000 &&
          !c->rules[5].enabled);
    CHECK(c->rules[5].expire_date_ns == at("2030-01-01T00:00:00Z"));
    h2o_iovec_t doc = written(c);
    CHECK(iov_eq(
        doc, DECL ROOT
        "<Rule><ID>Rule 1</ID><Filter><And><Prefix>projectA/</Prefix><Tag><Key>key1</Key><Value>value1</Value></Tag>"
        "</And></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule>"
        "<Rule><ID>sample-rule</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>"
        "<NoncurrentVersionExpiration><NoncurrentDays>30</NoncurrentDays><NewerNoncurrentVersions>5"
        "</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>"
        "<Rule><ID>ExampleRule</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration>"
        "<ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration><NoncurrentVersionExpiration>"
        "<NoncurrentDays>30</NoncurrentDays></NoncurrentVersionExpiration></Rule>"
        "<Rule><ID>mpu-rule</ID><Filter><Prefix>SomeKeyPrefix/</Prefix></Filter><Status>Enabled</Status>"
        "<AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation>"
        "</AbortIncompleteMultipartUpload></Rule>"
        "<Rule><ID>markers</ID><Filter><ObjectSizeLessThan>1</ObjectSizeLessThan></Filter><Status>Enabled</Status>"
        "<NoncurrentVersionExpiration><NoncurrentDays>30</NoncurrentDays></NoncurrentVersionExpiration></Rule>"
        "<Rule><ID>range</ID><Filter><And><Prefix>PicturesPrefix/</Prefix><ObjectSizeGreaterThan>500"
        "</ObjectSizeGreaterThan><ObjectSizeLessThan>64000</ObjectSizeLessThan></And></Filter><Status>Disabled</Status>"
        "<Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration></Rule></LifecycleConfiguration>"));
    /* and what is written reads back to what was written */
    s3_lifecycle_config_t again;
    CHECK_EQ_INT(s3_lifecycle_parse(&pool, doc, &again, NULL), 0);
    h2o_iovec_t doc2 = written(&again);
    CHECK(doc2.len == doc.len && memcmp(doc2.base, doc.base, doc.len) == 0);
}

TEST(test_lifecycle_v1_rule_prefix_and_empty_filter_round_trip)
{
    s3_lifecycle_config_t *c = config("<Rule><ID>old</ID><Prefix>projectdocs/</Prefix><Status>Enabled</Status>"
                                      "<Expiration><Days>3650</Days></Expiration></Rule>");
    CHECK(c->rules[0].scope == S3_LC_RULE_PREFIX && iov_eq(c->rules[0].prefix, "projectdocs/"));
    CHECK(iov_eq(written(c), DECL ROOT "<Rule><ID>old</ID><Prefix>projectdocs/</Prefix><Status>Enabled</Status>"
                                       "<Expiration><Days>3650</Days></Expiration></Rule></LifecycleConfiguration>"));
    c = config("<Rule><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>");
    CHECK(c->rules[0].scope == S3_LC_FILTER_EMPTY && c->rules[0].id.base == NULL);
    CHECK(iov_eq(written(c), DECL ROOT "<Rule><Filter></Filter><Status>Enabled</Status><Expiration><Days>1</Days>"
                                       "</Expiration></Rule></LifecycleConfiguration>"));
    c = config("<Rule><ID></ID><Filter><Tag><Key>k</Key></Tag></Filter><Status>Enabled</Status>"
               "<Expiration><Days>1</Days></Expiration></Rule>");
    CHECK(c->rules[0].id.base == NULL); /* an empty ID is no ID */
    CHECK(c->rules[0].scope == S3_LC_FILTER_TAG && iov_eq(c->rules[0].tags[0].value, ""));
}

TEST(test_lifecycle_shape_faults_are_malformed_xml)
{
    static const char *const bad[] = {
        /* Status missing, twice, or not one of the two words as written */
        "<Rule><Filter/><Expiration><Days>1</Days></Expiration></Rule>",
        "<Rule><Filter/><Status>Enabled</Status><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>",
        "<Rule><Filter/><Status>enabled</Status><Expiration><Days>1</Days></Expiration></Rule>",
        /* neither Filter nor Prefix */
        "<Rule><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>",
        /* two predicates directly in a Filter, an And beside one, an And of one */
        "<Rule><Filter><Prefix>a</Prefix><ObjectSizeGreaterThan>1</ObjectSizeGreaterThan></Filter><Status>Enabled"
        "</Status><Expiration><Days>1</Days></Expiration></Rule>",
        "<Rule><Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status>"
        "<Expiration><Days>1</Days></Expiration></Rule>",
        "<Rule><Filter><Prefix>a</Prefix><And><Prefix>b</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter>"
        "<Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>",
        "<Rule><Filter><And><Prefix>b</Prefix></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days>"
        "</Expiration></Rule>",
        "<Rule><Filter><Tag><Key>a</Key><Value/></Tag><Tag><Key>b</Key><Value/></Tag></Filter><Status>Enabled</Status>"
        "<Expiration><Days>1</Days></Expiration></Rule>",
        /* a tag without key */
        "<Rule><Filter><Tag><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>1</Days>"
        "</Expiration></Rule>",
        /* Expiration of none or two forms, ExpiredObjectDeleteMarker with Days */
        "<Rule><Filter/><Status>Enabled</Status><Expiration/></Rule>",
        "<Rule><Filter/><Status>Enabled</Status><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date>"
        "</Expiration></Rule>",
        "<Rule><Filter/><Status>Enabled</Status><Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true"
        "</ExpiredObjectDeleteMarker></Expiration></Rule>",
        /* values of the wrong type */
        "<Rule><Filter/><Status>Enabled</Status><Expiration><Days>one</Days></Expiration></Rule>",
        "<Rule><Filter/><Status>Enabled</Status><Expiration><Days>2147483648</Days></Expiration></Rule>",
        "<Rule><Filter/><Status>Enabled</Status><Expiration><Date>Fri, 01 Jan 2016 00:00:00 GMT</Date></Expiration>"
        "</Rule>",
        "<Rule><Filter/><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>yes</ExpiredObjectDeleteMarker>"
        "</Expiration></Rule>",
        "<Rule><Filter><ObjectSizeGreaterThan>big</ObjectSizeGreaterThan></Filter><Status>Enabled</Status>"
        "<Expiration><Days>1</Days></Expiration></Rule>",
        /* a NoncurrentVersionExpiration or AbortIncompleteMultipartUpload without its days */
        "<Rule><Filter/><Status>Enabled</Status><NoncurrentVersionExpiration/></Rule>",
        "<Rule><Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NewerNoncurrentVersions>2"
        "</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>",
        "<Rule><Filter/><Status>Enabled</Status><AbortIncompleteMultipartUpload/></Rule>",
        /* an action twice */
        "<Rule><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration><Expiration><Days>2</Days>"
        "</Expiration></Rule>",
        /* ID twice */
        "<Rule><ID>a</ID><ID>b</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(refused(bad[i], S3_ERR_MALFORMED_XML, NULL));
    s3_lifecycle_config_t c;
    CHECK_EQ_INT(s3_lifecycle_parse(&pool, IOV("<LifeCycleConfiguration/>"), &c, NULL), -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(s3_lifecycle_parse(&pool, IOV("<LifecycleConfiguration><Rule>"), &c, NULL), -S3_ERR_MALFORMED_XML);
}

static char *rules_of_n(int n)
{
    size_t cap = (size_t)n * 120 + 1, len = 0;
    char *s = h2o_mem_alloc_pool(&pool, cap);
    s[0] = '\0';
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len,
                                "<Rule><Filter><Prefix>p%d/</Prefix></Filter><Status>Enabled</Status>"
                                "<Expiration><Days>1</Days></Expiration></Rule>",
                                i);
    return s;
}

TEST(test_lifecycle_rule_count_between_1_and_1000)
{
    s3_lifecycle_config_t c;
    s3_error_detail_t why;
    CHECK(refused("", S3_ERR_INVALID_REQUEST, "At least one lifecycle rule must be specified."));
    CHECK_EQ_INT(parse(rules_of_n(1000), &c, &why), 0);
    CHECK_EQ_INT(c.count, 1000);
    CHECK(refused(rules_of_n(1001), S3_ERR_INVALID_REQUEST,
                  "The number of lifecycle rules must not exceed the allowed limit of 1000 rules."));
}

TEST(test_lifecycle_ids_up_to_255_and_unique)
{
    char rule[1024], id[300];
    s3_lifecycle_config_t c;
    s3_error_detail_t why;
    memset(id, 'r', 255);
    id[255] = '\0';
    snprintf(rule, sizeof(rule),
             "<Rule><ID>%s</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days>"
             "</Expiration></Rule>",
             id);
    CHECK_EQ_INT(parse(rule, &c, &why), 0);
    id[255] = 'r';
    id[256] = '\0';
    snprintf(rule, sizeof(rule),
             "<Rule><ID>%s</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days>"
             "</Expiration></Rule>",
             id);
    CHECK(refused(rule, S3_ERR_INVALID_ARGUMENT, "ID length should not exceed allowed limit of 255"));
    CHECK(refused("<Rule><ID>same</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>"
                  "<Rule><ID>other</ID><Filter/><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>"
                  "<Rule><ID>same</ID><Filter/><Status>Disabled</Status><Expiration><Days>3</Days></Expiration></Rule>",
                  S3_ERR_INVALID_ARGUMENT, "Rule ID must be unique. Found same ID for more than one rule"));
}

TEST(test_lifecycle_v1_and_v2_rules_do_not_mix)
{
    CHECK(refused("<Rule><Prefix>a</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>"
                  "<Rule><Filter><Prefix>b</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days>"
                  "</Expiration></Rule>",
                  S3_ERR_INVALID_REQUEST, "Filter element can only be used in Lifecycle V2."));
    CHECK(refused("<Rule><Filter><Prefix>b</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days>"
                  "</Expiration></Rule>"
                  "<Rule><Prefix>a</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>",
                  S3_ERR_INVALID_REQUEST,
                  "Base level prefix cannot be used in Lifecycle V2, prefixes are only supported in the Filter."));
    CHECK(refused("<Rule><Prefix>a</Prefix><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>"
                  "</Rule>",
                  S3_ERR_INVALID_REQUEST,
                  "Base level prefix cannot be used in Lifecycle V2, prefixes are only supported in the Filter."));
    CHECK(refused("<Rule><Prefix>a</Prefix><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1"
                  "</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>"
                  "</Rule>",
                  S3_ERR_INVALID_REQUEST, "NewerNoncurrentVersions element can only be used in Lifecycle V2."));
}

TEST(test_lifecycle_size_predicates_are_bounded_and_ordered)
{
    CHECK(refused("<Rule><Filter><ObjectSizeLessThan>0</ObjectSizeLessThan></Filter><Status>Enabled</Status>"
                  "<Expiration><Days>1</Days></Expiration></Rule>",
                  S3_ERR_INVALID_REQUEST, "'ObjectSizeLessThan' should be between 1 and 1099511627776000."));
    CHECK(refused("<Rule><Filter><ObjectSizeGreaterThan>-1</ObjectSizeGreaterThan></Filter><Status>Enabled</Status>"
                  "<Expiration><Days>1</Days></Expiration></Rule>",
                  S3_ERR_INVALID_REQUEST, "'ObjectSizeGreaterThan' should be between 0 and 1099511627776000."));
    CHECK(refused("<Rule><Filter><ObjectSizeGreaterThan>1099511627776001</ObjectSizeGreaterThan></Filter>"
                  "<Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>",
                  S3_ERR_INVALID_REQUEST, "'ObjectSizeGreaterThan' should be between 0 and 1099511627776000."));
    CHECK(refused("<Rule><Filter><And><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>10"
                  "</ObjectSizeLessThan></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>"
                  "</Rule>",
                  S3_ERR_INVALID_REQUEST,
                  "'ObjectSizeLessThan' has to be a value greater than 'ObjectSizeGreaterThan'."));
    config("<Rule><Filter><ObjectSizeGreaterThan>0</ObjectSizeGreaterThan></Filter><Status>Enabled</Status>"
           "<Expiration><Days>1</Days></Expiration></Rule>");
}

TEST(test_lifecycle_duplicate_tag_keys_in_and)
{
    CHECK(refused("<Rule><Filter><And><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag>"
                  "</And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>",
                  S3_ERR_INVALID_REQUEST, "Duplicate Tag Keys are not allowed."));
    s3_lifecycle_config_t *c =
        config("<Rule><Filter><And><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag>"
               "</And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>");
    CHECK_EQ_INT(c->rules[0].ntags, 2);
}

TEST(test_lifecycle_rule_needs_an_action)
{
    CHECK(refused("<Rule><ID>idle</ID><Filter/><Status>Enabled</Status></Rule>", S3_ERR_INVALID_REQUEST,
                  "At least one action needs to be specified in a rule"));
}

TEST(test_lifecycle_day_counts_must_be_positive)
{
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule>",
                  S3_ERR_INVALID_ARGUMENT, "'Days' for Expiration action must be a positive integer"));
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><Expiration><Days>-1</Days></Expiration></Rule>",
                  S3_ERR_INVALID_ARGUMENT, "'Days' for Expiration action must be a positive integer"));
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>0"
                  "</NoncurrentDays></NoncurrentVersionExpiration></Rule>",
                  S3_ERR_INVALID_ARGUMENT,
                  "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"));
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1"
                  "</NoncurrentDays><NewerNoncurrentVersions>0</NewerNoncurrentVersions></NoncurrentVersionExpiration>"
                  "</Rule>",
                  S3_ERR_INVALID_ARGUMENT,
                  "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer"));
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>0"
                  "</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>",
                  S3_ERR_INVALID_ARGUMENT,
                  "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer"));
    /* S3 accepted 500 newer noncurrent versions, past the documented 100 */
    config("<Rule><Filter/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays>"
           "<NewerNoncurrentVersions>500</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>");
}

TEST(test_lifecycle_date_must_be_midnight_utc)
{
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:01Z</Date></Expiration>"
                  "</Rule>",
                  S3_ERR_INVALID_ARGUMENT, "'Date' must be at midnight GMT"));
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00+08:00</Date>"
                  "</Expiration></Rule>",
                  S3_ERR_INVALID_ARGUMENT, "'Date' must be at midnight GMT"));
    s3_lifecycle_config_t *c =
        config("<Rule><Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T08:00:00+08:00"
               "</Date></Expiration></Rule>");
    CHECK(c->rules[0].expire_date_ns == at("2030-01-01T00:00:00Z"));
    c = config("<Rule><Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01</Date></Expiration></Rule>");
    CHECK(c->rules[0].expire_date_ns == at("2030-01-01T00:00:00Z"));
}

TEST(test_lifecycle_marker_and_abort_refuse_tags_and_sizes)
{
    CHECK(refused("<Rule><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration>"
                  "<ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>",
                  S3_ERR_INVALID_REQUEST, "ExpiredObjectDeleteMarker cannot be specified with Tags."));
    CHECK(refused("<Rule><Filter><ObjectSizeGreaterThan>5</ObjectSizeGreaterThan></Filter><Status>Enabled</Status>"
                  "<Expiration><ExpiredObjectDeleteMarker>false</ExpiredObjectDeleteMarker></Expiration></Rule>",
                  S3_ERR_INVALID_REQUEST, "ExpiredObjectDeleteMarker cannot be specified with Object Size."));
    CHECK(refused("<Rule><Filter><And><Prefix>p</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter>"
                  "<Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation>"
                  "</AbortIncompleteMultipartUpload></Rule>",
                  S3_ERR_INVALID_REQUEST, "AbortIncompleteMultipartUpload cannot be specified with Tags."));
    CHECK(refused("<Rule><Filter><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter><Status>Enabled</Status>"
                  "<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation>"
                  "</AbortIncompleteMultipartUpload></Rule>",
                  S3_ERR_INVALID_REQUEST, "AbortIncompleteMultipartUpload cannot be specified with Object Size."));
}

TEST(test_lifecycle_v1_overlapping_prefixes_for_one_action)
{
    CHECK(refused("<Rule><Prefix>a</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>"
                  "<Rule><Prefix></Prefix><Status>Disabled</Status><Expiration><Days>9</Days></Expiration></Rule>",
                  S3_ERR_INVALID_REQUEST, "Found overlapping prefixes '' and 'a' for same action type 'Expiration'"));
    CHECK(refused("<Rule><Prefix>logs/2024</Prefix><Status>Enabled</Status><AbortIncompleteMultipartUpload>"
                  "<DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>"
                  "<Rule><Prefix>logs/</Prefix><Status>Enabled</Status><AbortIncompleteMultipartUpload>"
                  "<DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>",
                  S3_ERR_INVALID_REQUEST,
                  "Found overlapping prefixes 'logs/' and 'logs/2024' for same action type "
                  "'AbortIncompleteMultipartUpload'"));
    /* different actions, or prefixes that do not overlap: accepted; V2 filters may overlap */
    config("<Rule><Prefix>a</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>"
           "<Rule><Prefix>ab</Prefix><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1"
           "</NoncurrentDays></NoncurrentVersionExpiration></Rule>"
           "<Rule><Prefix>b</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>");
    config("<Rule><Filter><Prefix>a</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>"
           "</Rule><Rule><Filter><Prefix>ab</Prefix></Filter><Status>Enabled</Status><Expiration><Days>2</Days>"
           "</Expiration></Rule>");
}

TEST(test_lifecycle_first_fault_in_s3_order_answers)
{
    /* a fault of shape in the last rule answers before a fault of value in the first */
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule>"
                  "<Rule><Filter/><Expiration><Days>1</Days></Expiration></Rule>",
                  S3_ERR_MALFORMED_XML, NULL));
    /* IDs before the rules' values */
    CHECK(refused("<Rule><ID>x</ID><Filter/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule>"
                  "<Rule><ID>x</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>",
                  S3_ERR_INVALID_ARGUMENT, "Rule ID must be unique. Found same ID for more than one rule"));
    /* rules in order */
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration></Rule>"
                  "<Rule><Filter/><Status>Enabled</Status></Rule>",
                  S3_ERR_INVALID_ARGUMENT, "'Days' for Expiration action must be a positive integer"));
    /* a transition is refused only once everything else is right */
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><Transition><Days>30</Days><StorageClass>GLACIER"
                  "</StorageClass></Transition><Expiration><Days>0</Days></Expiration></Rule>",
                  S3_ERR_INVALID_ARGUMENT, "'Days' for Expiration action must be a positive integer"));
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><NoncurrentVersionTransition><NoncurrentDays>30"
                  "</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition></Rule>",
                  S3_ERR_NOT_IMPLEMENTED,
                  "Transition and NoncurrentVersionTransition actions are not implemented: this server keeps one "
                  "storage class."));
}

TEST(test_lifecycle_transition_values_checked_before_not_implemented)
{
    /* a Date that is no midnight UTC (boto3 sends "20220927" as that many seconds after 1970) */
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><Transition><Date>1970-08-23T03:28:47Z</Date>"
                  "<StorageClass>GLACIER</StorageClass></Transition></Rule>",
                  S3_ERR_INVALID_ARGUMENT, "'Date' must be at midnight GMT"));
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><Transition><Days>-1</Days>"
                  "<StorageClass>GLACIER</StorageClass></Transition></Rule>",
                  S3_ERR_INVALID_ARGUMENT, "'Days' in Transition action must be nonnegative"));
    /* shape: no StorageClass, Days and Date together, a Date that is no date */
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><Transition><Days>1</Days></Transition></Rule>",
                  S3_ERR_MALFORMED_XML, NULL));
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><Transition><Days>1</Days><Date>2030-01-01T00:00:00Z"
                  "</Date><StorageClass>GLACIER</StorageClass></Transition></Rule>",
                  S3_ERR_MALFORMED_XML, NULL));
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><Transition><Date>20220927</Date>"
                  "<StorageClass>GLACIER</StorageClass></Transition></Rule>",
                  S3_ERR_MALFORMED_XML, NULL));
    /* a storage class outside S3's enumeration (STANDARD is no transition target either) */
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><Transition><Days>1</Days>"
                  "<StorageClass>FROZEN</StorageClass></Transition></Rule>",
                  S3_ERR_MALFORMED_XML, NULL));
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><NoncurrentVersionTransition><NoncurrentDays>1"
                  "</NoncurrentDays><StorageClass>STANDARD</StorageClass></NoncurrentVersionTransition></Rule>",
                  S3_ERR_MALFORMED_XML, NULL));
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><Transition><Days>1</Days>"
                  "<StorageClass>GLACIER_IR</StorageClass></Transition></Rule>",
                  S3_ERR_NOT_IMPLEMENTED,
                  "Transition and NoncurrentVersionTransition actions are not implemented: this server keeps one "
                  "storage class."));
    /* a well-formed one at midnight is still not implemented */
    CHECK(refused("<Rule><Filter/><Status>Enabled</Status><Transition><Date>2030-01-01T00:00:00Z</Date>"
                  "<StorageClass>GLACIER</StorageClass></Transition></Rule>",
                  S3_ERR_NOT_IMPLEMENTED,
                  "Transition and NoncurrentVersionTransition actions are not implemented: this server keeps one "
                  "storage class."));
}

TEST(test_lifecycle_assign_ids_as_s3_makes_them)
{
    s3_lifecycle_config_t *c =
        config("<Rule><ID>mine</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>"
               "<Rule><Filter/><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>"
               "<Rule><Filter/><Status>Enabled</Status><Expiration><Days>3</Days></Expiration></Rule>");
    s3_lifecycle_assign_ids(&pool, c);
    CHECK(iov_eq(c->rules[0].id, "mine"));
    for (int i = 1; i < 3; i++) {
        uint8_t uuid[40];
        size_t len;
        CHECK_EQ_INT(c->rules[i].id.len, S3_LIFECYCLE_ID_LEN);
        CHECK_EQ_INT(yc_base64_decode(c->rules[i].id.base, c->rules[i].id.len, uuid, sizeof(uuid), &len), 0);
        CHECK_EQ_INT(len, 36);
        CHECK(uuid[8] == '-' && uuid[13] == '-' && uuid[18] == '-' && uuid[23] == '-' && uuid[14] == '4');
        CHECK(uuid[19] == '8' || uuid[19] == '9' || uuid[19] == 'a' || uuid[19] == 'b');
    }
    CHECK(!iov_eq(c->rules[1].id, "") && memcmp(c->rules[1].id.base, c->rules[2].id.base, S3_LIFECYCLE_ID_LEN) != 0);
    /* and the configuration with its IDs still parses */
    s3_lifecycle_config_t again;
    CHECK_EQ_INT(s3_lifecycle_parse(&pool, written(c), &again, NULL), 0);
    CHECK(again.rules[2].id.len == S3_LIFECYCLE_ID_LEN &&
          memcmp(again.rules[2].id.base, c->rules[2].id.base, S3_LIFECYCLE_ID_LEN) == 0);
}

/* ---- when actions fall due ---- */

TEST(test_lifecycle_days_round_up_to_next_midnight)
{
    /* "created on 1/15/2014 at 10:30 AM UTC and you specify 3 days ... 1/19/2014 00:00 UTC" */
    CHECK(s3_lifecycle_due(at("2014-01-15T10:30:00Z"), 3) == at("2014-01-19T00:00:00Z"));
    /* created 00:05 UTC on January 2: one day old at 00:05 on the 3rd, expired at 00:00 on the 4th */
    CHECK(s3_lifecycle_due(at("2014-01-02T00:05:00Z"), 1) == at("2014-01-04T00:00:00Z"));
    /* a time at midnight is its own ceiling */
    CHECK(s3_lifecycle_due(at("2014-01-02T00:00:00Z"), 1) == at("2014-01-03T00:00:00Z"));
    CHECK(s3_lifecycle_due(at("2018-08-14T19:57:04Z"), 60) == at("2018-10-14T00:00:00Z"));
    CHECK(s3_lifecycle_due(-1, 0) == 0);
    CHECK(s3_lifecycle_due(INT64_MAX - 1, 1) == INT64_MAX);
    CHECK(s3_lifecycle_due(0, UINT32_MAX) == INT64_MAX);
}

TEST(test_lifecycle_scaled_days_round_up_to_multiples_of_the_day)
{
    const int64_t s = 1000000000LL;
    /* a day of 2 s: 1 day after t = 5.5 s is 7.5 s, rounded up to the next multiple of 2 s */
    CHECK(s3_lifecycle_due_scaled(5 * s + s / 2, 1, 2 * s) == 8 * s);
    CHECK(s3_lifecycle_due_scaled(6 * s, 1, 2 * s) == 8 * s); /* a "midnight" stays */
    CHECK(s3_lifecycle_due_scaled(6 * s, 0, 2 * s) == 6 * s);
    CHECK(s3_lifecycle_due_scaled(at("2014-01-15T10:30:00Z"), 3, 0) == at("2014-01-19T00:00:00Z")); /* 0: real days */
    CHECK(s3_lifecycle_due_scaled(INT64_MAX - 1, 1, 2 * s) == INT64_MAX);
    /* the configuration's day drives evaluation; a Date stays the instant it names */
    s3_lifecycle_config_t *c = config("<Rule><ID>d</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days>"
                                      "</Expiration></Rule>");
    c->day_ns = 2 * s;
    s3_lifecycle_version_t v = {IOV("k"), 1, NULL, 1, 0, 5 * s + s / 2, 0, 0, 0};
    s3_lifecycle_decision_t d;
    s3_lifecycle_evaluate(c, &v, S3_LC_UNVERSIONED, 8 * s - 1, &d);
    CHECK(d.action == S3_LC_ACTION_DELETE && !d.due && d.due_ns == 8 * s);
    s3_lifecycle_evaluate(c, &v, S3_LC_UNVERSIONED, 8 * s, &d);
    CHECK(d.due);
    c = config("<Rule><Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>"
               "</Rule>");
    c->day_ns = 2 * s;
    s3_lifecycle_evaluate(c, &v, S3_LC_UNVERSIONED, at("2029-12-31T23:59:59Z"), &d);
    CHECK(!d.due && d.due_ns == at("2030-01-01T00:00:00Z"));
}

TEST(test_lifecycle_tags_match_needs_every_tag_and_none_is_no_match)
{
    s3_lifecycle_config_t *c = config("<Rule><ID>t</ID><Filter><And><Prefix></Prefix><Tag><Key>a</Key><Value>1</Value>"
                                      "</Tag><Tag><Key>b</Key><Value></Value></Tag></And></Filter><Status>Enabled"
                                      "</Status><Expiration><Days>1</Days></Expiration></Rule>"
                                      "<Rule><ID>p</ID><Filter><Prefix>x</Prefix></Filter><Status>Enabled</Status>"
                                      "<Expiration><Days>1</Days></Expiration></Rule>");
    s3_tag_t both[] = {{IOV("a"), IOV("1")}, {IOV("b"), IOV("")}}, only_a[] = {{IOV("a"), IOV("1")}};
    s3_tagset_t all = {both, 2}, partial = {only_a, 1};
    CHECK(s3_lifecycle_tags_match(&c->rules[0], &all));
    CHECK(!s3_lifecycle_tags_match(&c->rules[0], &partial));
    /* an object without tags (every object while objects carry none): a Tag rule matches nothing */
    CHECK(!s3_lifecycle_tags_match(&c->rules[0], NULL));
    /* a rule without Tags matches whatever the object's tags */
    CHECK(s3_lifecycle_tags_match(&c->rules[1], NULL) && s3_lifecycle_tags_match(&c->rules[1], &all));
}

static s3_lifecycle_version_t current(const char *key, uint64_t size, int64_t mtime)
{
    s3_lifecycle_version_t v = {IOV(key), size, NULL, 1, 0, mtime, 0, 0, 0};
    return v;
}

TEST(test_lifecycle_current_version_expires_by_days)
{
    s3_lifecycle_config_t *c = config("<Rule><ID>r</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>"
                                      "<Expiration><Days>3</Days></Expiration></Rule>");
    s3_lifecycle_version_t v = current("logs/a", 10, at("2014-01-15T10:30:00Z"));
    s3_lifecycle_decision_t d;
    s3_lifecycle_evaluate(c, &v, S3_LC_UNVERSIONED, at("2014-01-18T23:59:59Z"), &d);
    CHECK(d.action == S3_LC_ACTION_DELETE && !d.due && d.due_ns == at("2014-01-19T00:00:00Z"));
    CHECK(d.rule == &c->rules[0]);
    s3_lifecycle_evaluate(c, &v, S3_LC_UNVERSIONED, at("2014-01-19T00:00:00Z"), &d);
    CHECK(d.action == S3_LC_ACTION_DELETE && d.due);
    /* in a versioned bucket, and a suspended one, expiring puts a delete marker on top */
    s3_lifecycle_evaluate(c, &v, S3_LC_VERSIONING_ENABLED, at("2014-02-01T00:00:00Z"), &d);
    CHECK(d.action == S3_LC_ACTION_ADD_DELETE_MARKER && d.due);
    s3_lifecycle_evaluate(c, &v, S3_LC_VERSIONING_SUSPENDED, at("2014-02-01T00:00:00Z"), &d);
    CHECK(d.action == S3_LC_ACTION_ADD_DELETE_MARKER && d.due);
    /* another prefix: nothing */
    v.key = IOV("data/a");
    s3_lifecycle_evaluate(c, &v, S3_LC_UNVERSIONED, at("2020-01-01T00:00:00Z"), &d);
    CHECK(d.action == S3_LC_ACTION_NONE && !d.due && d.rule == NULL && d.due_ns == INT64_MAX);
}

TEST(test_lifecycle_date_applies_on_and_after_it)
{
    s3_lifecycle_config_t *c = config("<Rule><Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00Z"
                                      "</Date></Expiration></Rule>");
    s3_lifecycle_version_t old = current("a", 1, at("2000-01-01T00:00:00Z"));
    s3_lifecycle_version_t young = current("b", 1, at("2031-06-01T12:00:00Z"));
    s3_lifecycle_decision_t d;
    s3_lifecycle_evaluate(c, &old, S3_LC_UNVERSIONED, at("2029-12-31T23:59:59Z"), &d);
    CHECK(d.action == S3_LC_ACTION_DELETE && !d.due);
    s3_lifecycle_evaluate(c, &old, S3_LC_UNVERSIONED, at("2030-01-01T00:00:00Z"), &d);
    CHECK(d.due);
    /* a date in the past: objects created after it are due at once */
    s3_lifecycle_evaluate(c, &young, S3_LC_UNVERSIONED, at("2031-06-01T12:00:01Z"), &d);
    CHECK(d.due && d.due_ns == at("2030-01-01T00:00:00Z"));
}

TEST(test_lifecycle_disabled_rule_does_nothing)
{
    s3_lifecycle_config_t *c = config("<Rule><Filter/><Status>Disabled</Status><Expiration><Days>1</Days></Expiration>"
                                      "</Rule>");
    s3_lifecycle_version_t v = current("a", 1, 0);
    s3_lifecycle_decision_t d;
    s3_lifecycle_evaluate(c, &v, S3_LC_UNVERSIONED, at("2030-01-01T00:00:00Z"), &d);
    CHECK(d.action == S3_LC_ACTION_NONE && !d.due);
}

TEST(test_lifecycle_filters_by_tags_and_sizes)
{
    s3_lifecycle_config_t *c = config(
        "<Rule><ID>tagged</ID><Filter><And><Prefix>p/</Prefix><Tag><Key>env</Key><Value>tmp</Value></Tag>"
        "<Tag><Key>team</Key><Value>a</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days>"
        "</Expiration></Rule>"
        "<Rule><ID>sized</ID><Filter><And><Prefix>s/</Prefix><ObjectSizeGreaterThan>500</ObjectSizeGreaterThan>"
        "<ObjectSizeLessThan>1000</ObjectSizeLessThan></And></Filter><Status>Enabled</Status><Expiration><Days>1"
        "</Days></Expiration></Rule>");
    s3_tag_t both[] = {{IOV("env"), IOV("tmp")}, {IOV("team"), IOV("a")}, {IOV("extra"), IOV("x")}};
    s3_tag_t wrong_value[] = {{IOV("env"), IOV("TMP")}, {IOV("team"), IOV("a")}};
    s3_tag_t one[] = {{IOV("env"), IOV("tmp")}};
    s3_tagset_t all = {both, 3}, wrong = {wrong_value, 2}, partial = {one, 1};
    s3_lifecycle_version_t v = current("p/x", 1, 0);
    s3_lifecycle_decision_t d;
    int64_t later = at("2030-01-01T00:00:00Z");
    v.tags = &all; /* more tags on the object do not matter */
    s3_lifecycle_evaluate(c, &v, S3_LC_UNVERSIONED, later, &d);
    CHECK(d.due && iov_eq(d.rule->id, "tagged"));
    v.tags = &wrong; /* values compare exactly */
    s3_lifecycle_evaluate(c, &v, S3_LC_UNVERSIONED, later, &d);
    CHECK(!d.due);
    v.tags = &partial; /* every tag of the And is needed */
    s3_lifecycle_evaluate(c, &v, S3_LC_UNVERSIONED, later, &d);
    CHECK(!d.due);
    /* sizes are strict bounds */
    static const struct {
        uint64_t size;
        int due;
    } sizes[] = {{500, 0}, {501, 1}, {999, 1}, {1000, 0}};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        s3_lifecycle_version_t s = current("s/x", sizes[i].size, 0);
        s3_lifecycle_evaluate(c, &s, S3_LC_UNVERSIONED, later, &d);
        CHECK_EQ_INT(d.due, sizes[i].due);
    }
}

TEST(test_lifecycle_earliest_rule_wins)
{
    s3_lifecycle_config_t *c =
        config("<Rule><ID>long</ID><Filter/><Status>Enabled</Status><Expiration><Days>30</Days>"
               "</Expiration></Rule>"
               "<Rule><ID>short</ID><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status>"
               "<Expiration><Days>2</Days></Expiration></Rule>"
               "<Rule><ID>same</ID><Filter><Prefix>tmp/x</Prefix></Filter><Status>Enabled</Status>"
               "<Expiration><Days>2</Days></Expiration></Rule>");
    s3_lifecycle_version_t v = current("tmp/x", 1, at("2024-03-01T12:00:00Z"));
    s3_lifecycle_decision_t d;
    s3_lifecycle_evaluate(c, &v, S3_LC_UNVERSIONED, 0, &d);
    /* "the shorter expiration policy is honored"; on a tie, the first listed */
    CHECK(iov_eq(d.rule->id, "short") && d.due_ns == at("2024-03-04T00:00:00Z"));
    v.key = IOV("other");
    s3_lifecycle_evaluate(c, &v, S3_LC_UNVERSIONED, 0, &d);
    CHECK(iov_eq(d.rule->id, "long"));
}

static s3_lifecycle_version_t noncurrent(const char *key, int64_t since, uint32_t newer)
{
    s3_lifecycle_version_t v = {IOV(key), 10, NULL, 0, 0, since - DAY, since, newer, 0};
    return v;
}

TEST(test_lifecycle_noncurrent_days_count_from_successor)
{
    s3_lifecycle_config_t *c = config("<Rule><Filter/><Status>Enabled</Status><NoncurrentVersionExpiration>"
                                      "<NoncurrentDays>5</NoncurrentDays></NoncurrentVersionExpiration></Rule>");
    /* photo.gif, deleted on 1/2/2014 at 11:30 AM UTC, goes on 1/8/2014 at 00:00 UTC */
    s3_lifecycle_version_t v = noncurrent("photo.gif", at("2014-01-02T11:30:00Z"), 0);
    s3_lifecycle_decision_t d;
    s3_lifecycle_evaluate(c, &v, S3_LC_VERSIONING_ENABLED, at("2014-01-07T23:00:00Z"), &d);
    CHECK(d.action == S3_LC_ACTION_DELETE && !d.due && d.due_ns == at("2014-01-08T00:00:00Z"));
    s3_lifecycle_evaluate(c, &v, S3_LC_VERSIONING_ENABLED, at("2014-01-08T00:00:00Z"), &d);
    CHECK(d.due);
    /* the rule leaves the current version alone, and Expiration leaves noncurrent ones alone */
    s3_lifecycle_version_t cur = current("photo.gif", 10, 0);
    s3_lifecycle_evaluate(c, &cur, S3_LC_VERSIONING_ENABLED, at("2030-01-01T00:00:00Z"), &d);
    CHECK(d.action == S3_LC_ACTION_NONE);
    c = config("<Rule><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>");
    s3_lifecycle_evaluate(c, &v, S3_LC_VERSIONING_ENABLED, at("2030-01-01T00:00:00Z"), &d);
    CHECK(d.action == S3_LC_ACTION_NONE);
}

TEST(test_lifecycle_newer_noncurrent_versions_are_kept)
{
    s3_lifecycle_config_t *c = config("<Rule><Filter/><Status>Enabled</Status><NoncurrentVersionExpiration>"
                                      "<NoncurrentDays>30</NoncurrentDays><NewerNoncurrentVersions>5"
                                      "</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>");
    s3_lifecycle_decision_t d;
    int64_t since = at("2020-01-01T00:00:00Z"), later = at("2021-01-01T00:00:00Z");
    /* the 5 newest noncurrent versions stay whatever their age */
    for (uint32_t newer = 0; newer < 5; newer++) {
        s3_lifecycle_version_t v = noncurrent("k", since, newer);
        s3_lifecycle_evaluate(c, &v, S3_LC_VERSIONING_ENABLED, later, &d);
        CHECK(d.action == S3_LC_ACTION_NONE && !d.due);
    }
    s3_lifecycle_version_t v = noncurrent("k", since, 5);
    s3_lifecycle_evaluate(c, &v, S3_LC_VERSIONING_ENABLED, later, &d);
    CHECK(d.action == S3_LC_ACTION_DELETE && d.due);
    /* both must be exceeded: old enough in number, not yet in days */
    s3_lifecycle_evaluate(c, &v, S3_LC_VERSIONING_ENABLED, since + 29 * DAY, &d);
    CHECK(!d.due);
}

TEST(test_lifecycle_expired_delete_marker_is_removed)
{
    s3_lifecycle_config_t *c = config("<Rule><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>"
                                      "<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker>"
                                      "</Expiration></Rule>");
    s3_lifecycle_version_t m = {IOV("logs/a"), 0, NULL, 1, 1, at("2024-05-01T15:00:00Z"), 0, 0, 1};
    s3_lifecycle_decision_t d;
    s3_lifecycle_evaluate(c, &m, S3_LC_VERSIONING_ENABLED, at("2024-05-01T23:00:00Z"), &d);
    CHECK(d.action == S3_LC_ACTION_REMOVE_DELETE_MARKER && !d.due && d.due_ns == at("2024-05-02T00:00:00Z"));
    s3_lifecycle_evaluate(c, &m, S3_LC_VERSIONING_ENABLED, at("2024-05-02T00:00:00Z"), &d);
    CHECK(d.due);
    /* not while versions remain beneath it */
    m.only_version = 0;
    s3_lifecycle_evaluate(c, &m, S3_LC_VERSIONING_ENABLED, at("2030-01-01T00:00:00Z"), &d);
    CHECK(d.action == S3_LC_ACTION_NONE);
    /* ExpiredObjectDeleteMarker false does nothing */
    c = config("<Rule><Filter/><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>false"
               "</ExpiredObjectDeleteMarker></Expiration></Rule>");
    m.only_version = 1;
    s3_lifecycle_evaluate(c, &m, S3_LC_VERSIONING_ENABLED, at("2030-01-01T00:00:00Z"), &d);
    CHECK(d.action == S3_LC_ACTION_NONE);
}

TEST(test_lifecycle_days_rule_removes_old_expired_delete_marker)
{
    s3_lifecycle_config_t *c = config("<Rule><Filter/><Status>Enabled</Status><Expiration><Days>10</Days></Expiration>"
                                      "</Rule>");
    s3_lifecycle_version_t m = {IOV("a"), 0, NULL, 1, 1, at("2024-05-01T15:00:00Z"), 0, 0, 1};
    s3_lifecycle_decision_t d;
    s3_lifecycle_evaluate(c, &m, S3_LC_VERSIONING_ENABLED, at("2024-05-11T23:59:59Z"), &d);
    CHECK(d.action == S3_LC_ACTION_REMOVE_DELETE_MARKER && !d.due);
    CHECK(d.due_ns == at("2024-05-12T00:00:00Z"));
    /* a Date rule does not clean up delete markers */
    c = config("<Rule><Filter/><Status>Enabled</Status><Expiration><Date>2020-01-01</Date></Expiration></Rule>");
    s3_lifecycle_evaluate(c, &m, S3_LC_VERSIONING_ENABLED, at("2030-01-01T00:00:00Z"), &d);
    CHECK(d.action == S3_LC_ACTION_NONE);
}

TEST(test_lifecycle_delete_markers_have_no_size_or_tags)
{
    /* the user guide's rule for noncurrent delete markers: ObjectSizeLessThan 1 */
    s3_lifecycle_config_t *c = config("<Rule><Filter><ObjectSizeLessThan>1</ObjectSizeLessThan></Filter><Status>Enabled"
                                      "</Status><NoncurrentVersionExpiration><NoncurrentDays>30</NoncurrentDays>"
                                      "</NoncurrentVersionExpiration></Rule>"
                                      "<Rule><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled"
                                      "</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays>"
                                      "</NoncurrentVersionExpiration></Rule>");
    s3_tag_t t[] = {{IOV("k"), IOV("v")}};
    s3_tagset_t tags = {t, 1};
    s3_lifecycle_version_t m = {IOV("a"), 123, &tags, 0, 1, 0, at("2024-01-01T00:00:00Z"), 0, 0};
    s3_lifecycle_decision_t d;
    s3_lifecycle_evaluate(c, &m, S3_LC_VERSIONING_ENABLED, at("2030-01-01T00:00:00Z"), &d);
    CHECK(d.action == S3_LC_ACTION_DELETE && d.rule == &c->rules[0]);
    CHECK(d.due_ns == at("2024-01-31T00:00:00Z"));
    /* an object of that size and tags is seen with them */
    m.is_delete_marker = 0;
    s3_lifecycle_evaluate(c, &m, S3_LC_VERSIONING_ENABLED, at("2030-01-01T00:00:00Z"), &d);
    CHECK(d.rule == &c->rules[1]);
}

TEST(test_lifecycle_aborts_incomplete_uploads)
{
    s3_lifecycle_config_t *c = config("<Rule><ID>mpu</ID><Filter><Prefix>up/</Prefix></Filter><Status>Enabled</Status>"
                                      "<AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation>"
                                      "</AbortIncompleteMultipartUpload></Rule>"
                                      "<Rule><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>"
                                      "</Rule>");
    s3_lifecycle_decision_t d;
    int64_t init = at("2024-02-27T08:00:00Z");
    s3_lifecycle_evaluate_upload(c, IOV("up/big.iso"), init, at("2024-03-05T23:59:59Z"), &d);
    CHECK(d.action == S3_LC_ACTION_ABORT_UPLOAD && !d.due && d.due_ns == at("2024-03-06T00:00:00Z"));
    CHECK(iov_eq(d.rule->id, "mpu"));
    s3_lifecycle_evaluate_upload(c, IOV("up/big.iso"), init, at("2024-03-06T00:00:00Z"), &d);
    CHECK(d.due);
    s3_lifecycle_evaluate_upload(c, IOV("down/x"), init, at("2030-01-01T00:00:00Z"), &d);
    CHECK(d.action == S3_LC_ACTION_NONE && !d.due);
    s3_lifecycle_evaluate_upload(NULL, IOV("up/x"), init, at("2030-01-01T00:00:00Z"), &d);
    CHECK(d.action == S3_LC_ACTION_NONE);
}

TEST(test_lifecycle_expiration_header)
{
    /* HeadObject's sample: expiry-date="Fri, 21 Dec 2012 00:00:00 GMT", rule-id="Rule for testfile.txt" */
    CHECK(iov_eq(s3_lifecycle_expiration_header(&pool, at("2012-12-21T00:00:00Z"), IOV("Rule for testfile.txt")),
                 "expiry-date=\"Fri, 21 Dec 2012 00:00:00 GMT\", rule-id=\"Rule for testfile.txt\""));
    CHECK(iov_eq(s3_lifecycle_expiration_header(&pool, at("2012-12-21T00:00:00Z"), IOV("a\"b \xe4\xba\x91")),
                 "expiry-date=\"Fri, 21 Dec 2012 00:00:00 GMT\", rule-id=\"a%22b%20%E4%BA%91\""));
}

int main(void)
{
    h2o_mem_init_pool(&pool);
    RUN(test_lifecycle_api_example_with_transition_is_not_implemented);
    RUN(test_lifecycle_transition_values_checked_before_not_implemented);
    RUN(test_lifecycle_user_guide_examples_parse_and_serialize);
    RUN(test_lifecycle_v1_rule_prefix_and_empty_filter_round_trip);
    RUN(test_lifecycle_shape_faults_are_malformed_xml);
    RUN(test_lifecycle_rule_count_between_1_and_1000);
    RUN(test_lifecycle_ids_up_to_255_and_unique);
    RUN(test_lifecycle_v1_and_v2_rules_do_not_mix);
    RUN(test_lifecycle_size_predicates_are_bounded_and_ordered);
    RUN(test_lifecycle_duplicate_tag_keys_in_and);
    RUN(test_lifecycle_rule_needs_an_action);
    RUN(test_lifecycle_day_counts_must_be_positive);
    RUN(test_lifecycle_date_must_be_midnight_utc);
    RUN(test_lifecycle_marker_and_abort_refuse_tags_and_sizes);
    RUN(test_lifecycle_v1_overlapping_prefixes_for_one_action);
    RUN(test_lifecycle_first_fault_in_s3_order_answers);
    RUN(test_lifecycle_assign_ids_as_s3_makes_them);
    RUN(test_lifecycle_days_round_up_to_next_midnight);
    RUN(test_lifecycle_current_version_expires_by_days);
    RUN(test_lifecycle_date_applies_on_and_after_it);
    RUN(test_lifecycle_disabled_rule_does_nothing);
    RUN(test_lifecycle_filters_by_tags_and_sizes);
    RUN(test_lifecycle_earliest_rule_wins);
    RUN(test_lifecycle_noncurrent_days_count_from_successor);
    RUN(test_lifecycle_newer_noncurrent_versions_are_kept);
    RUN(test_lifecycle_expired_delete_marker_is_removed);
    RUN(test_lifecycle_days_rule_removes_old_expired_delete_marker);
    RUN(test_lifecycle_delete_markers_have_no_size_or_tags);
    RUN(test_lifecycle_aborts_incomplete_uploads);
    RUN(test_lifecycle_expiration_header);
    RUN(test_lifecycle_scaled_days_round_up_to_multiples_of_the_day);
    RUN(test_lifecycle_tags_match_needs_every_tag_and_none_is_no_match);
    h2o_mem_clear_pool(&pool);
    return unit_done();
}
