/* test_s3_cors.c — the CORSConfiguration document, its checks, and the answers to preflight and
 * actual cross-origin requests. */
#include <stdlib.h>
#include "tests/unit/unit.h"
#include "gateway/s3/cors.h"

#define IOV(s) h2o_iovec_init((s), strlen(s))
#define NONE   h2o_iovec_init(NULL, 0)

static h2o_mem_pool_t pool;

static int iov_eq(h2o_iovec_t v, const char *s)
{
    return v.base != NULL && v.len == strlen(s) && memcmp(v.base, s, v.len) == 0;
}

static int has_field(const s3_error_detail_t *d, const char *name, const char *value)
{
    for (size_t i = 0; i < d->nfields; i++)
        if (strcmp(d->fields[i].name, name) == 0)
            return iov_eq(d->fields[i].value, value);
    return 0;
}

static const char NOT_ALLOWED[] = "CORSResponse: This CORS request is not allowed. This is usually because the "
                                  "evalution of Origin, request method / Access-Control-Request-Method or "
                                  "Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

/* A configuration of the given rules' inner XML, parsed; aborts the test binary if it does not. */
static s3_cors_config_t *config(const char *rules)
{
    static char buf[1 << 16];
    s3_cors_config_t *c = h2o_mem_alloc_pool(&pool, sizeof(*c));
    snprintf(buf, sizeof(buf), "<CORSConfiguration>%s</CORSConfiguration>", rules);
    if (s3_cors_parse(&pool, IOV(buf), c, NULL) != 0) {
        fprintf(stderr, "configuration refused: %s\n", rules);
        abort();
    }
    return c;
}

static int parse_rules(const char *rules, s3_error_detail_t *why)
{
    static char buf[1 << 16];
    s3_cors_config_t c;
    snprintf(buf, sizeof(buf), "<CORSConfiguration>%s</CORSConfiguration>", rules);
    memset(why, 0, sizeof(*why));
    return s3_cors_parse(&pool, IOV(buf), &c, why);
}

static int preflight(const s3_cors_config_t *c, const char *origin, const char *method, const char *headers,
                     s3_cors_response_t *out, s3_error_detail_t *why)
{
    s3_cors_request_t req = {origin != NULL ? IOV(origin) : NONE, IOV("OPTIONS"), method != NULL ? IOV(method) : NONE,
                             headers != NULL ? IOV(headers) : NONE, 1};
    memset(why, 0, sizeof(*why));
    return s3_cors_preflight(&pool, c, &req, out, why);
}

static void actual(const s3_cors_config_t *c, const char *origin, const char *method, const char *request_method,
                   s3_cors_response_t *out)
{
    s3_cors_request_t req = {origin != NULL ? IOV(origin) : NONE, IOV(method),
                             request_method != NULL ? IOV(request_method) : NONE, NONE, 1};
    s3_cors_actual(&pool, c, &req, out);
}

/* ---- the document ---- */

/* The user guide's first example: two origins allowed to write, everyone to read. */
static const char GUIDE_EXAMPLE[] = "<CORSConfiguration>\n"
                                    " <CORSRule>\n"
                                    "   <AllowedOrigin>http://www.example1.com</AllowedOrigin>\n\n"
                                    "   <AllowedMethod>PUT</AllowedMethod>\n"
                                    "   <AllowedMethod>POST</AllowedMethod>\n"
                                    "   <AllowedMethod>DELETE</AllowedMethod>\n\n"
                                    "   <AllowedHeader>*</AllowedHeader>\n"
                                    " </CORSRule>\n"
                                    " <CORSRule>\n"
                                    "   <AllowedOrigin>http://www.example2.com</AllowedOrigin>\n\n"
                                    "   <AllowedMethod>PUT</AllowedMethod>\n"
                                    "   <AllowedMethod>POST</AllowedMethod>\n"
                                    "   <AllowedMethod>DELETE</AllowedMethod>\n\n"
                                    "   <AllowedHeader>*</AllowedHeader>\n"
                                    " </CORSRule>\n"
                                    " <CORSRule>\n"
                                    "   <AllowedOrigin>*</AllowedOrigin>\n"
                                    "   <AllowedMethod>GET</AllowedMethod>\n"
                                    " </CORSRule>\n"
                                    "</CORSConfiguration>";

/* The user guide's second example, with MaxAgeSeconds and ExposeHeader. */
static const char GUIDE_EXAMPLE_2[] = "<CORSConfiguration>\n"
                                      " <CORSRule>\n"
                                      "   <AllowedOrigin>http://www.example.com</AllowedOrigin>\n"
                                      "   <AllowedMethod>PUT</AllowedMethod>\n"
                                      "   <AllowedMethod>POST</AllowedMethod>\n"
                                      "   <AllowedMethod>DELETE</AllowedMethod>\n"
                                      "   <AllowedHeader>*</AllowedHeader>\n"
                                      "  <MaxAgeSeconds>3000</MaxAgeSeconds>\n"
                                      "  <ExposeHeader>x-amz-server-side-encryption</ExposeHeader>\n"
                                      "  <ExposeHeader>x-amz-request-id</ExposeHeader>\n"
                                      "  <ExposeHeader>x-amz-id-2</ExposeHeader>\n"
                                      " </CORSRule>\n"
                                      "</CORSConfiguration>";

TEST(test_cors_aws_examples_parse_and_serialize)
{
    s3_cors_config_t c, again;
    s3_xml_writer_t w;
    CHECK_EQ_INT(s3_cors_parse(&pool, IOV(GUIDE_EXAMPLE), &c, NULL), 0);
    CHECK_EQ_INT(c.count, 3);
    CHECK_EQ_INT(c.rules[0].n_methods, 3);
    CHECK(iov_eq(c.rules[1].origins[0], "http://www.example2.com"));
    CHECK(c.rules[2].id.base == NULL && c.rules[2].max_age_seconds == -1 && c.rules[2].n_allowed_headers == 0);
    s3_xml_writer_init(&w, &pool);
    s3_cors_write_xml(&w, &c);
    CHECK(iov_eq(s3_xml_writer_result(&w),
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<CORSConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                 "<CORSRule><AllowedHeader>*</AllowedHeader><AllowedMethod>PUT</AllowedMethod>"
                 "<AllowedMethod>POST</AllowedMethod><AllowedMethod>DELETE</AllowedMethod>"
                 "<AllowedOrigin>http://www.example1.com</AllowedOrigin></CORSRule>"
                 "<CORSRule><AllowedHeader>*</AllowedHeader><AllowedMethod>PUT</AllowedMethod>"
                 "<AllowedMethod>POST</AllowedMethod><AllowedMethod>DELETE</AllowedMethod>"
                 "<AllowedOrigin>http://www.example2.com</AllowedOrigin></CORSRule>"
                 "<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>"
                 "</CORSConfiguration>"));
    CHECK_EQ_INT(s3_cors_parse(&pool, s3_xml_writer_result(&w), &again, NULL), 0);
    CHECK_EQ_INT(again.count, 3);

    CHECK_EQ_INT(s3_cors_parse(&pool, IOV(GUIDE_EXAMPLE_2), &c, NULL), 0);
    CHECK_EQ_INT(c.rules[0].max_age_seconds, 3000);
    CHECK_EQ_INT(c.rules[0].n_expose_headers, 3);
    s3_xml_writer_init(&w, &pool);
    s3_cors_write_xml(&w, &c);
    CHECK(
        iov_eq(s3_xml_writer_result(&w),
               "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<CORSConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
               "<CORSRule><AllowedHeader>*</AllowedHeader><AllowedMethod>PUT</AllowedMethod>"
               "<AllowedMethod>POST</AllowedMethod><AllowedMethod>DELETE</AllowedMethod>"
               "<AllowedOrigin>http://www.example.com</AllowedOrigin>"
               "<ExposeHeader>x-amz-server-side-encryption</ExposeHeader><ExposeHeader>x-amz-request-id</ExposeHeader>"
               "<ExposeHeader>x-amz-id-2</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>"
               "</CORSConfiguration>"));
}

TEST(test_cors_id_and_namespace_round_trip)
{
    s3_cors_config_t c;
    s3_xml_writer_t w;
    CHECK_EQ_INT(
        s3_cors_parse(&pool,
                      IOV("<CORSConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><CORSRule>"
                          "<MaxAgeSeconds>0</MaxAgeSeconds><ID>rule &amp; 1</ID><AllowedMethod>GET</AllowedMethod>"
                          "<AllowedOrigin></AllowedOrigin></CORSRule></CORSConfiguration>"),
                      &c, NULL),
        0);
    CHECK(iov_eq(c.rules[0].id, "rule & 1"));
    CHECK(iov_eq(c.rules[0].origins[0], "")); /* S3 accepts an empty origin */
    CHECK_EQ_INT(c.rules[0].max_age_seconds, 0);
    s3_xml_writer_init(&w, &pool);
    s3_cors_write_xml(&w, &c);
    CHECK(iov_eq(s3_xml_writer_result(&w),
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<CORSConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><CORSRule><ID>rule &amp; 1</ID>"
                 "<AllowedMethod>GET</AllowedMethod><AllowedOrigin></AllowedOrigin><MaxAgeSeconds>0</MaxAgeSeconds>"
                 "</CORSRule></CORSConfiguration>"));
}

TEST(test_cors_shape_faults_are_malformed_xml)
{
    static const char *const bad[] = {
        "",                                                        /* no rule */
        "<CORSRule/>",                                             /* empty rule */
        "<CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule>", /* no origin */
        "<CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule>",   /* no method */
        "<CORSRule><ID>a</ID><ID>b</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>",
        "<CORSRule><MaxAgeSeconds>1</MaxAgeSeconds><MaxAgeSeconds>2</MaxAgeSeconds><AllowedOrigin>*</AllowedOrigin>"
        "<AllowedMethod>GET</AllowedMethod></CORSRule>",
        "<CORSRule><MaxAgeSeconds>soon</MaxAgeSeconds><AllowedOrigin>*</AllowedOrigin>"
        "<AllowedMethod>GET</AllowedMethod></CORSRule>",
        "<CORSRule><MaxAgeSeconds>-1</MaxAgeSeconds><AllowedOrigin>*</AllowedOrigin>"
        "<AllowedMethod>GET</AllowedMethod></CORSRule>",
        "<CORSRule><MaxAgeSeconds>2147483648</MaxAgeSeconds><AllowedOrigin>*</AllowedOrigin>"
        "<AllowedMethod>GET</AllowedMethod></CORSRule>",
        "<CORSRule><AllowedOrigin><x/></AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        s3_error_detail_t why;
        CHECK_EQ_INT(parse_rules(bad[i], &why), -S3_ERR_MALFORMED_XML);
        CHECK_EQ_INT(why.err, S3_ERR_MALFORMED_XML);
    }
    s3_cors_config_t c;
    CHECK_EQ_INT(s3_cors_parse(&pool, IOV("<CORSRules><CORSRule/></CORSRules>"), &c, NULL), -S3_ERR_MALFORMED_XML);
    CHECK_EQ_INT(s3_cors_parse(&pool, IOV("<CORSConfiguration>"), &c, NULL), -S3_ERR_MALFORMED_XML);
}

TEST(test_cors_allows_100_rules_not_101)
{
    static char rules[1 << 15];
    size_t len = 0;
    s3_error_detail_t why;
    for (int i = 0; i < 100; i++)
        len +=
            (size_t)snprintf(rules + len, sizeof(rules) - len,
                             "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>");
    CHECK_EQ_INT(parse_rules(rules, &why), 0);
    snprintf(rules + len, sizeof(rules) - len,
             "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>");
    CHECK_EQ_INT(parse_rules(rules, &why), -S3_ERR_MALFORMED_XML);
}

TEST(test_cors_refuses_unsupported_methods)
{
    static const char *const bad[] = {"PATCH", "OPTIONS", "get", "MYMETHOD", "*", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char rule[256], message[256];
        s3_error_detail_t why;
        snprintf(rule, sizeof(rule),
                 "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
                 "<AllowedMethod>%s</AllowedMethod></CORSRule>",
                 bad[i]);
        snprintf(message, sizeof(message), "Found unsupported HTTP method in CORS config. Unsupported method is %s",
                 bad[i]);
        CHECK_EQ_INT(parse_rules(rule, &why), -S3_ERR_INVALID_REQUEST);
        CHECK(iov_eq(why.message, message));
    }
}

TEST(test_cors_refuses_two_wildcards_in_origin_or_header)
{
    s3_error_detail_t why;
    CHECK_EQ_INT(parse_rules("<CORSRule><AllowedOrigin>*example*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
                             "</CORSRule>",
                             &why),
                 -S3_ERR_INVALID_REQUEST);
    CHECK(iov_eq(why.message, "AllowedOrigin \"*example*.com\" can not have more than one wildcard."));
    CHECK_EQ_INT(parse_rules("<CORSRule><AllowedOrigin>http://*.example.com</AllowedOrigin><AllowedMethod>GET"
                             "</AllowedMethod><AllowedHeader>x-*-*</AllowedHeader></CORSRule>",
                             &why),
                 -S3_ERR_INVALID_REQUEST);
    CHECK(iov_eq(why.message, "AllowedHeader \"x-*-*\" can not have more than one wildcard."));
    CHECK_EQ_INT(parse_rules("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
                             "<AllowedHeader>x-amz-*</AllowedHeader></CORSRule>",
                             &why),
                 0);
}

TEST(test_cors_refuses_wildcard_expose_header)
{
    s3_error_detail_t why;
    CHECK_EQ_INT(parse_rules("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
                             "<ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-amz-meta-*</ExposeHeader></CORSRule>",
                             &why),
                 -S3_ERR_INVALID_REQUEST);
    CHECK(iov_eq(
        why.message,
        "ExposeHeader \"x-amz-meta-*\" contains wildcard. We currently do not support wildcard for ExposeHeader."));
}

TEST(test_cors_id_up_to_255_characters)
{
    char rule[2048], id[600];
    s3_error_detail_t why;
    memset(id, 'i', 255);
    id[255] = '\0';
    snprintf(rule, sizeof(rule),
             "<CORSRule><ID>%s</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>", id);
    CHECK_EQ_INT(parse_rules(rule, &why), 0);
    id[255] = 'i';
    id[256] = '\0';
    snprintf(rule, sizeof(rule),
             "<CORSRule><ID>%s</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>", id);
    CHECK_EQ_INT(parse_rules(rule, &why), -S3_ERR_INVALID_ARGUMENT);
    CHECK(iov_eq(why.message, "ID length should not exceed allowed limit of 255"));
}

TEST(test_cors_first_fault_answers)
{
    s3_error_detail_t why;
    /* within a rule the methods are checked before the origins; across rules, the first rule first */
    CHECK_EQ_INT(
        parse_rules("<CORSRule><AllowedOrigin>**</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule>", &why),
        -S3_ERR_INVALID_REQUEST);
    CHECK(iov_eq(why.message, "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"));
    CHECK_EQ_INT(
        parse_rules("<CORSRule><AllowedOrigin>**</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
                    "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule>",
                    &why),
        -S3_ERR_INVALID_REQUEST);
    CHECK(iov_eq(why.message, "AllowedOrigin \"**\" can not have more than one wildcard."));
    /* a shape fault in a later rule answers before a value fault in an earlier one */
    CHECK_EQ_INT(parse_rules("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule>"
                             "<CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule>",
                             &why),
                 -S3_ERR_MALFORMED_XML);
}

/* ---- evaluation ---- */

TEST(test_cors_wildcard_match)
{
    CHECK(s3_cors_wildcard_match(IOV("*"), IOV("")));
    CHECK(s3_cors_wildcard_match(IOV("*"), IOV("anything")));
    CHECK(s3_cors_wildcard_match(IOV("a*"), IOV("a")));
    CHECK(s3_cors_wildcard_match(IOV("http://*.Example.com"), IOV("http://A.example.COM")));
    CHECK(!s3_cors_wildcard_match(IOV("http://*.example.com"), IOV("http://.example.co")));
    CHECK(!s3_cors_wildcard_match(IOV("ab*ba"), IOV("aba"))); /* the ends may not overlap */
    CHECK(s3_cors_wildcard_match(IOV(""), IOV("")));
    CHECK(!s3_cors_wildcard_match(IOV(""), IOV("x")));
}

/* LocalStack's recording against S3: origin https://localhost:4200, methods GET and PUT. */
TEST(test_cors_preflight_match_answers_rule_headers)
{
    s3_cors_config_t *c = config("<CORSRule><AllowedOrigin>https://localhost:4200</AllowedOrigin>"
                                 "<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>"
                                 "<MaxAgeSeconds>3000</MaxAgeSeconds><AllowedHeader>*</AllowedHeader></CORSRule>");
    s3_cors_response_t r;
    s3_error_detail_t why;
    CHECK_EQ_INT(preflight(c, "https://localhost:4200", "PUT", NULL, &r, &why), 0);
    CHECK(r.matched && r.rule == &c->rules[0]);
    CHECK(iov_eq(r.allow_origin, "https://localhost:4200"));
    CHECK(iov_eq(r.allow_credentials, "true"));
    CHECK(iov_eq(r.allow_methods, "GET, PUT"));
    CHECK(r.allow_headers.base == NULL); /* none requested */
    CHECK(r.expose_headers.base == NULL);
    CHECK(iov_eq(r.max_age, "3000"));
    CHECK(iov_eq(r.vary, "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"));
}

TEST(test_cors_preflight_other_scheme_is_forbidden)
{
    s3_cors_config_t *c = config("<CORSRule><AllowedOrigin>https://localhost:4200</AllowedOrigin>"
                                 "<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod></CORSRule>");
    s3_cors_response_t r;
    s3_error_detail_t why;
    CHECK_EQ_INT(preflight(c, "http://localhost:4200", "PUT", NULL, &r, &why), -S3_ERR_ACCESS_FORBIDDEN);
    CHECK(!r.matched);
    CHECK_EQ_INT(why.err, S3_ERR_ACCESS_FORBIDDEN);
    CHECK(why.message.base == NULL); /* the code's own message, NOT_ALLOWED */
    CHECK(strcmp(s3_error_info(why.err)->message, NOT_ALLOWED) == 0);
    CHECK(has_field(&why, "Method", "PUT"));
    CHECK(has_field(&why, "ResourceType", "OBJECT"));
    /* a method the rule lacks */
    CHECK_EQ_INT(preflight(c, "https://localhost:4200", "DELETE", NULL, &r, &why), -S3_ERR_ACCESS_FORBIDDEN);
    CHECK(has_field(&why, "Method", "DELETE"));
    /* a trailing slash makes another origin */
    CHECK_EQ_INT(preflight(c, "https://localhost:4200/", "GET", NULL, &r, &why), -S3_ERR_ACCESS_FORBIDDEN);
}

TEST(test_cors_star_origin_answers_star_without_credentials)
{
    s3_cors_config_t *c = config("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
                                 "</CORSRule>");
    s3_cors_response_t r;
    s3_error_detail_t why;
    CHECK_EQ_INT(preflight(c, "http://random:1234", "GET", NULL, &r, &why), 0);
    CHECK(iov_eq(r.allow_origin, "*"));
    CHECK(r.allow_credentials.base == NULL);
    CHECK(iov_eq(r.allow_methods, "GET"));
    CHECK(r.max_age.base == NULL);
    actual(c, "http://random:1234", "GET", NULL, &r);
    CHECK(r.matched && iov_eq(r.allow_origin, "*") && r.allow_credentials.base == NULL);
}

TEST(test_cors_partial_wildcard_origin_is_echoed)
{
    s3_cors_config_t *c = config("<CORSRule><AllowedOrigin>http://*.origin.com</AllowedOrigin>"
                                 "<AllowedMethod>GET</AllowedMethod></CORSRule>");
    s3_cors_response_t r;
    s3_error_detail_t why;
    CHECK_EQ_INT(preflight(c, "http://test.origin.com", "GET", NULL, &r, &why), 0);
    CHECK(iov_eq(r.allow_origin, "http://test.origin.com"));
    CHECK(iov_eq(r.allow_credentials, "true"));
    CHECK_EQ_INT(preflight(c, "http://test.origin.com/", "GET", NULL, &r, &why), -S3_ERR_ACCESS_FORBIDDEN);
}

/* s3-tests' test_cors_origin_response: patterns are anchored at both ends, '*' may be empty. */
TEST(test_cors_origin_patterns_as_s3_tests_expect)
{
    s3_cors_config_t *c =
        config("<CORSRule><AllowedOrigin>*suffix</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
               "<CORSRule><AllowedOrigin>start*end</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
               "<CORSRule><AllowedOrigin>prefix*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
               "<CORSRule><AllowedOrigin>*.put</AllowedOrigin><AllowedMethod>PUT</AllowedMethod></CORSRule>");
    static const char *const match[] = {"foo.suffix", "startend", "start1end", "start12end", "prefix", "prefix.suffix"};
    static const char *const no[] = {"foo.bar", "foo.suffix.get", "0start12end", "bla.prefix", "foo.put"};
    s3_cors_response_t r;
    s3_error_detail_t why;
    for (size_t i = 0; i < sizeof(match) / sizeof(match[0]); i++) {
        actual(c, match[i], "GET", NULL, &r);
        CHECK(r.matched && iov_eq(r.allow_origin, match[i]) && iov_eq(r.allow_methods, "GET"));
        CHECK_EQ_INT(preflight(c, match[i], "GET", NULL, &r, &why), 0);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        actual(c, no[i], "GET", NULL, &r);
        CHECK(!r.matched);
        CHECK_EQ_INT(preflight(c, no[i], "GET", NULL, &r, &why), -S3_ERR_ACCESS_FORBIDDEN);
    }
    CHECK_EQ_INT(preflight(c, "foo.put", "PUT", NULL, &r, &why), 0);
    CHECK(iov_eq(r.allow_methods, "PUT"));
}

TEST(test_cors_requested_headers_must_all_be_allowed)
{
    s3_cors_config_t *c = config("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PUT</AllowedMethod>"
                                 "<AllowedHeader>x-amz-expected-bucket-owner</AllowedHeader>"
                                 "<AllowedHeader>x-amz-server-side-encryption-customer-algorithm</AllowedHeader>"
                                 "<AllowedHeader>x-AMZ-server-SIDE-encryption</AllowedHeader></CORSRule>");
    s3_cors_response_t r;
    s3_error_detail_t why;
    /* names match without regard to case and come back lowercase, in the order asked */
    CHECK_EQ_INT(
        preflight(c, "https://a.b", "PUT", "x-AMZ-expected-BUCKET-owner, x-amz-server-side-encryption", &r, &why), 0);
    CHECK(iov_eq(r.allow_headers, "x-amz-expected-bucket-owner, x-amz-server-side-encryption"));
    CHECK_EQ_INT(
        preflight(c, "https://a.b", "PUT", "x-amz-expected-bucket-owner,x-amz-server-side-encryption", &r, &why), 0);
    CHECK(iov_eq(r.allow_headers, "x-amz-expected-bucket-owner, x-amz-server-side-encryption"));
    CHECK_EQ_INT(preflight(c, "https://a.b", "PUT", " , x-amz-expected-bucket-owner ,", &r, &why), 0);
    CHECK(iov_eq(r.allow_headers, "x-amz-expected-bucket-owner"));
    /* one name not allowed refuses the whole preflight */
    CHECK_EQ_INT(preflight(c, "https://a.b", "PUT", "x-amz-expected-bucket-owner, x-amz-request-payer", &r, &why),
                 -S3_ERR_ACCESS_FORBIDDEN);
    CHECK(!r.matched && r.allow_origin.base == NULL);
}

TEST(test_cors_star_header_allows_any_and_echoes_it)
{
    s3_cors_config_t *c = config("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
                                 "<AllowedHeader>*</AllowedHeader></CORSRule>");
    s3_cors_response_t r;
    s3_error_detail_t why;
    CHECK_EQ_INT(preflight(c, "o", "GET", "x-amz-request-payer", &r, &why), 0);
    CHECK(iov_eq(r.allow_headers, "x-amz-request-payer"));
    CHECK_EQ_INT(preflight(c, "o", "GET", "Content-Type,Authorization", &r, &why), 0);
    CHECK(iov_eq(r.allow_headers, "content-type, authorization"));
}

TEST(test_cors_rule_without_allowed_header_allows_none)
{
    s3_cors_config_t *c = config("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
                                 "<ExposeHeader>x-amz-meta-header1</ExposeHeader></CORSRule>");
    s3_cors_response_t r;
    s3_error_detail_t why;
    CHECK_EQ_INT(preflight(c, "o", "GET", "x-amz-meta-header2", &r, &why), -S3_ERR_ACCESS_FORBIDDEN);
    CHECK_EQ_INT(preflight(c, "o", "GET", NULL, &r, &why), 0);
    CHECK(iov_eq(r.expose_headers, "x-amz-meta-header1"));
}

TEST(test_cors_first_matching_rule_decides)
{
    s3_cors_config_t *c =
        config("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
               "<CORSRule><AllowedOrigin>https://a.org</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
               "<ExposeHeader>ETag</ExposeHeader></CORSRule>");
    s3_cors_response_t r;
    s3_error_detail_t why;
    CHECK_EQ_INT(preflight(c, "https://a.org", "GET", NULL, &r, &why), 0);
    CHECK(r.rule == &c->rules[0] && iov_eq(r.allow_origin, "*") && r.expose_headers.base == NULL);
    /* a rule that does not match (method) is passed over for a later one */
    c = config("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>"
               "<CORSRule><AllowedOrigin>https://a.org</AllowedOrigin><AllowedMethod>PUT</AllowedMethod>"
               "<ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-amz-version-id</ExposeHeader></CORSRule>");
    CHECK_EQ_INT(preflight(c, "https://a.org", "PUT", NULL, &r, &why), 0);
    CHECK(r.rule == &c->rules[1] && iov_eq(r.expose_headers, "ETag, x-amz-version-id"));
}

TEST(test_cors_preflight_without_origin_is_bad_request)
{
    s3_cors_config_t *c =
        config("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>");
    s3_cors_response_t r;
    s3_error_detail_t why;
    CHECK_EQ_INT(preflight(c, NULL, "GET", NULL, &r, &why), -S3_ERR_BAD_REQUEST);
    CHECK(iov_eq(why.message, "Insufficient information. Origin request header needed."));
    CHECK_EQ_INT(preflight(NULL, NULL, NULL, NULL, &r, &why), -S3_ERR_BAD_REQUEST); /* before the configuration */
    CHECK_EQ_INT(preflight(c, "", "GET", NULL, &r, &why), -S3_ERR_BAD_REQUEST);
}

TEST(test_cors_preflight_without_configuration_is_not_enabled)
{
    s3_cors_response_t r;
    s3_error_detail_t why;
    CHECK_EQ_INT(preflight(NULL, "https://a.org", "PUT", NULL, &r, &why), -S3_ERR_ACCESS_FORBIDDEN);
    CHECK(iov_eq(why.message, "CORSResponse: CORS is not enabled for this bucket."));
    CHECK(has_field(&why, "Method", "PUT"));
    CHECK(has_field(&why, "ResourceType", "BUCKET"));
    /* with Origin alone S3 still answers so, naming OPTIONS */
    CHECK_EQ_INT(preflight(NULL, "https://a.org", NULL, NULL, &r, &why), -S3_ERR_ACCESS_FORBIDDEN);
    CHECK(has_field(&why, "Method", "OPTIONS"));
}

TEST(test_cors_preflight_without_request_method_is_bad_request)
{
    s3_cors_config_t *c =
        config("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>");
    s3_cors_response_t r;
    s3_error_detail_t why;
    CHECK_EQ_INT(preflight(c, "https://a.org", NULL, NULL, &r, &why), -S3_ERR_BAD_REQUEST);
    CHECK(iov_eq(why.message, "Invalid Access-Control-Request-Method: null"));
}

TEST(test_cors_actual_request_gets_headers_of_match)
{
    s3_cors_config_t *c = config("<CORSRule><AllowedOrigin>https://localhost:4200</AllowedOrigin>"
                                 "<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>"
                                 "<MaxAgeSeconds>3000</MaxAgeSeconds><ExposeHeader>ETag</ExposeHeader></CORSRule>");
    s3_cors_response_t r;
    actual(c, "https://localhost:4200", "GET", NULL, &r);
    CHECK(r.matched);
    CHECK(iov_eq(r.allow_origin, "https://localhost:4200") && iov_eq(r.allow_credentials, "true"));
    CHECK(iov_eq(r.allow_methods, "GET, PUT") && iov_eq(r.max_age, "3000") && iov_eq(r.expose_headers, "ETag"));
    CHECK(r.allow_headers.base == NULL && r.vary.base != NULL);
}

TEST(test_cors_actual_request_without_match_gets_nothing)
{
    s3_cors_config_t *c =
        config("<CORSRule><AllowedOrigin>https://a.org</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
               "</CORSRule>");
    s3_cors_response_t r;
    actual(c, "https://b.org", "GET", NULL, &r);
    CHECK(!r.matched && r.vary.base == NULL && r.allow_origin.base == NULL);
    actual(c, "https://a.org", "PUT", NULL, &r); /* a method not allowed: served without CORS headers */
    CHECK(!r.matched);
    actual(c, NULL, "GET", NULL, &r); /* no Origin: not a cross-origin request */
    CHECK(!r.matched);
    actual(NULL, "https://a.org", "GET", NULL, &r); /* no configuration */
    CHECK(!r.matched);
}

TEST(test_cors_actual_request_decides_by_request_method_header)
{
    s3_cors_config_t *c =
        config("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>");
    s3_cors_response_t r;
    /* S3 was recorded answering a GET carrying Access-Control-Request-Method: PUT without CORS headers */
    actual(c, "https://a.org", "GET", "PUT", &r);
    CHECK(!r.matched);
    actual(c, "https://a.org", "PUT", "GET", &r);
    CHECK(r.matched);
}

TEST(test_cors_actual_request_ignores_requested_headers)
{
    s3_cors_config_t *c =
        config("<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>");
    s3_cors_request_t req = {IOV("https://a.org"), IOV("GET"), NONE, IOV("x-amz-request-payer"), 1};
    s3_cors_response_t r;
    s3_cors_actual(&pool, c, &req, &r);
    CHECK(r.matched && r.allow_headers.base == NULL);
}

int main(void)
{
    h2o_mem_init_pool(&pool);
    RUN(test_cors_aws_examples_parse_and_serialize);
    RUN(test_cors_id_and_namespace_round_trip);
    RUN(test_cors_shape_faults_are_malformed_xml);
    RUN(test_cors_allows_100_rules_not_101);
    RUN(test_cors_refuses_unsupported_methods);
    RUN(test_cors_refuses_two_wildcards_in_origin_or_header);
    RUN(test_cors_refuses_wildcard_expose_header);
    RUN(test_cors_id_up_to_255_characters);
    RUN(test_cors_first_fault_answers);
    RUN(test_cors_wildcard_match);
    RUN(test_cors_preflight_match_answers_rule_headers);
    RUN(test_cors_preflight_other_scheme_is_forbidden);
    RUN(test_cors_star_origin_answers_star_without_credentials);
    RUN(test_cors_partial_wildcard_origin_is_echoed);
    RUN(test_cors_origin_patterns_as_s3_tests_expect);
    RUN(test_cors_requested_headers_must_all_be_allowed);
    RUN(test_cors_star_header_allows_any_and_echoes_it);
    RUN(test_cors_rule_without_allowed_header_allows_none);
    RUN(test_cors_first_matching_rule_decides);
    RUN(test_cors_preflight_without_origin_is_bad_request);
    RUN(test_cors_preflight_without_configuration_is_not_enabled);
    RUN(test_cors_preflight_without_request_method_is_bad_request);
    RUN(test_cors_actual_request_gets_headers_of_match);
    RUN(test_cors_actual_request_without_match_gets_nothing);
    RUN(test_cors_actual_request_decides_by_request_method_header);
    RUN(test_cors_actual_request_ignores_requested_headers);
    h2o_mem_clear_pool(&pool);
    return unit_done();
}
