/* test_s3_cond.c — HTTP dates, ETag lists and conditional request rules. */
#include "tests/unit/unit.h"
#include "gateway/s3/cond.h"

#define IOV(s) h2o_iovec_init((s), strlen(s))
#define NONE   h2o_iovec_init(NULL, 0)
#define SEC    1000000000LL

/* Sun, 06 Nov 1994 08:49:37 GMT */
#define T1994 784111777LL

static int64_t date(const char *s)
{
    int64_t ns = -1;
    if (s3_http_date_parse(IOV(s), &ns) != 0)
        return -1;
    return ns;
}

TEST(test_http_date_parses_imf_fixdate)
{
    CHECK_EQ_INT(date("Sun, 06 Nov 1994 08:49:37 GMT"), T1994 * SEC);
    CHECK_EQ_INT(date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
    CHECK_EQ_INT(date("  Sun, 06 Nov 1994 08:49:37 GMT "), T1994 * SEC);
}

TEST(test_http_date_parses_rfc850)
{
    CHECK_EQ_INT(date("Sunday, 06-Nov-94 08:49:37 GMT"), T1994 * SEC);
    CHECK_EQ_INT(date("Saturday, 01-Jan-00 00:00:00 GMT"), 946684800LL * SEC);
}

TEST(test_http_date_parses_asctime)
{
    CHECK_EQ_INT(date("Sun Nov  6 08:49:37 1994"), T1994 * SEC);
    CHECK_EQ_INT(date("Sun Nov 06 08:49:37 1994"), T1994 * SEC);
}

TEST(test_http_date_parses_leap_day)
{
    CHECK_EQ_INT(date("Thu, 29 Feb 2024 12:00:00 GMT"), 1709208000LL * SEC);
}

TEST(test_http_date_far_future_saturates)
{
    CHECK_EQ_INT(date("Fri, 31 Dec 9999 23:59:59 GMT"), INT64_MAX);
}

TEST(test_http_date_when_invalid_fails)
{
    const char *bad[] = {"",
                         "garbage",
                         "Sun, 06 Nov 1994 08:49:37",
                         "Sun, 06 Nov 1994 08:49:37 UTC",
                         "Sun, 6 Nov 1994 08:49:37 GMT",
                         "Sun, 06 Foo 1994 08:49:37 GMT",
                         "Sun, 31 Nov 1994 08:49:37 GMT",
                         "Sun, 29 Feb 1900 08:49:37 GMT",
                         "Sun, 06 Nov 1994 24:00:00 GMT",
                         "Sun, 06 Nov 1994 08:60:00 GMT",
                         "Sun, 06 Nov 1994 08:49:37 GMTx",
                         "Xyz, 06 Nov 1994 08:49:37 GMT",
                         "Sunday, 06-Nov-1994 08:49:37 GMT",
                         "Sun Nov 6 08:49:37 1994",
                         "1994-11-06T08:49:37Z"};
    int64_t ns;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(s3_http_date_parse(IOV(bad[i]), &ns), -S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(s3_http_date_parse(NONE, &ns), -S3_ERR_INVALID_ARGUMENT);
}

TEST(test_http_date_formats_imf_fixdate)
{
    char buf[S3_HTTP_DATE_LEN + 1];
    CHECK_EQ_INT(s3_http_date_format(T1994 * SEC + 999999999, buf), S3_HTTP_DATE_LEN);
    CHECK(strcmp(buf, "Sun, 06 Nov 1994 08:49:37 GMT") == 0);
    s3_http_date_format(0, buf);
    CHECK(strcmp(buf, "Thu, 01 Jan 1970 00:00:00 GMT") == 0);
    s3_http_date_format(-1, buf);
    CHECK(strcmp(buf, "Wed, 31 Dec 1969 23:59:59 GMT") == 0);
    s3_http_date_format(1255369830123000000LL, buf);
    CHECK(strcmp(buf, "Mon, 12 Oct 2009 17:50:30 GMT") == 0);
}

TEST(test_http_date_format_round_trips)
{
    char buf[S3_HTTP_DATE_LEN + 1];
    int64_t ns;
    for (int64_t s = -2000000000LL; s < 8000000000LL; s += 123456789LL) {
        s3_http_date_format(s * SEC, buf);
        CHECK_EQ_INT(s3_http_date_parse(IOV(buf), &ns), 0);
        CHECK_EQ_INT(ns, s * SEC);
    }
}

TEST(test_etag_list_matches_quoted_and_unquoted)
{
    CHECK(s3_etag_list_match(IOV("\"abc\""), IOV("\"abc\""), 0));
    CHECK(s3_etag_list_match(IOV("abc"), IOV("\"abc\""), 0));
    CHECK(s3_etag_list_match(IOV("\"abc\""), IOV("abc"), 0));
    CHECK(!s3_etag_list_match(IOV("\"abd\""), IOV("\"abc\""), 0));
    CHECK(!s3_etag_list_match(IOV("\"ab\""), IOV("\"abc\""), 0));
}

TEST(test_etag_list_matches_in_list)
{
    CHECK(s3_etag_list_match(IOV("\"x\", \"abc\""), IOV("\"abc\""), 0));
    CHECK(s3_etag_list_match(IOV("x,abc"), IOV("\"abc\""), 0));
    CHECK(s3_etag_list_match(IOV(" , \"x\" ,, \"abc\" , "), IOV("\"abc\""), 0));
    CHECK(!s3_etag_list_match(IOV("\"x\", \"y\""), IOV("\"abc\""), 0));
    /* a comma inside a quoted tag is part of the tag */
    CHECK(s3_etag_list_match(IOV("\"a,b\""), IOV("\"a,b\""), 0));
}

TEST(test_etag_list_star_matches_any)
{
    CHECK(s3_etag_list_match(IOV("*"), IOV("\"abc\""), 0));
    CHECK(s3_etag_list_match(IOV(" * "), IOV("\"abc\""), 1));
}

TEST(test_etag_list_weak_compares_only_when_weak)
{
    CHECK(!s3_etag_list_match(IOV("W/\"abc\""), IOV("\"abc\""), 0));
    CHECK(s3_etag_list_match(IOV("W/\"abc\""), IOV("\"abc\""), 1));
}

TEST(test_etag_list_when_unparsable_matches_nothing)
{
    CHECK(!s3_etag_list_match(IOV("\"abc"), IOV("\"abc\""), 0));
    CHECK(!s3_etag_list_match(IOV("\"abc\"x"), IOV("\"abc\""), 0));
    CHECK(!s3_etag_list_match(IOV(""), IOV("\"abc\""), 0));
    CHECK(!s3_etag_list_match(NONE, IOV("\"abc\""), 0));
}

static const char *const ETAG = "\"d41d8cd98f00b204e9800998ecf8427e\"";
#define MTIME (T1994 * SEC + 500000000) /* 08:49:37.5 */

static int read_check(const char *im, const char *inm, const char *ims, const char *ius)
{
    s3_cond_t c = {im ? IOV(im) : NONE, inm ? IOV(inm) : NONE, ims ? IOV(ims) : NONE, ius ? IOV(ius) : NONE};
    return s3_cond_check_read(&c, IOV(ETAG), MTIME);
}

static int copy_check(const char *im, const char *inm, const char *ims, const char *ius)
{
    s3_cond_t c = {im ? IOV(im) : NONE, inm ? IOV(inm) : NONE, ims ? IOV(ims) : NONE, ius ? IOV(ius) : NONE};
    return s3_cond_check_copy_source(&c, IOV(ETAG), MTIME);
}

#define AT      "Sun, 06 Nov 1994 08:49:37 GMT" /* the object's Last-Modified, to the second */
#define BEFORE  "Sun, 06 Nov 1994 08:49:36 GMT"
#define AFTER   "Sun, 06 Nov 1994 08:49:38 GMT"
#define NOMATCH "\"ffff\""

TEST(test_cond_read_without_headers_proceeds)
{
    CHECK_EQ_INT(read_check(NULL, NULL, NULL, NULL), 0);
}

TEST(test_cond_read_if_match)
{
    CHECK_EQ_INT(read_check(ETAG, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(read_check("*", NULL, NULL, NULL), 0);
    CHECK_EQ_INT(read_check(NOMATCH, NULL, NULL, NULL), -S3_ERR_PRECONDITION_FAILED);
}

TEST(test_cond_read_if_match_true_ignores_if_unmodified_since)
{
    CHECK_EQ_INT(read_check(ETAG, NULL, NULL, BEFORE), 0);
}

TEST(test_cond_read_if_unmodified_since)
{
    CHECK_EQ_INT(read_check(NULL, NULL, NULL, BEFORE), -S3_ERR_PRECONDITION_FAILED);
    CHECK_EQ_INT(read_check(NULL, NULL, NULL, AT), 0); /* same second: not modified after it */
    CHECK_EQ_INT(read_check(NULL, NULL, NULL, AFTER), 0);
    CHECK_EQ_INT(read_check(NULL, NULL, NULL, "not a date"), 0);
}

TEST(test_cond_read_if_none_match)
{
    CHECK_EQ_INT(read_check(NULL, ETAG, NULL, NULL), -S3_ERR_NOT_MODIFIED);
    CHECK_EQ_INT(read_check(NULL, "*", NULL, NULL), -S3_ERR_NOT_MODIFIED);
    CHECK_EQ_INT(read_check(NULL, NOMATCH, NULL, NULL), 0);
}

TEST(test_cond_read_if_none_match_miss_ignores_if_modified_since)
{
    CHECK_EQ_INT(read_check(NULL, NOMATCH, AFTER, NULL), 0);
}

TEST(test_cond_read_if_modified_since)
{
    CHECK_EQ_INT(read_check(NULL, NULL, AT, NULL), -S3_ERR_NOT_MODIFIED);
    CHECK_EQ_INT(read_check(NULL, NULL, AFTER, NULL), -S3_ERR_NOT_MODIFIED);
    CHECK_EQ_INT(read_check(NULL, NULL, BEFORE, NULL), 0);
    CHECK_EQ_INT(read_check(NULL, NULL, "Sun, 99 Nov 1994 08:49:37 GMT", NULL), 0);
}

TEST(test_cond_read_precondition_beats_not_modified)
{
    CHECK_EQ_INT(read_check(NOMATCH, ETAG, NULL, NULL), -S3_ERR_PRECONDITION_FAILED);
    CHECK_EQ_INT(read_check(NULL, NULL, AT, BEFORE), -S3_ERR_PRECONDITION_FAILED);
}

TEST(test_cond_read_if_match_and_if_none_match_miss_proceed)
{
    CHECK_EQ_INT(read_check(ETAG, NOMATCH, AT, BEFORE), 0);
}

TEST(test_cond_copy_source_gives_412_where_get_gives_304)
{
    CHECK_EQ_INT(copy_check(NULL, ETAG, NULL, NULL), -S3_ERR_PRECONDITION_FAILED);
    CHECK_EQ_INT(copy_check(NULL, NULL, AT, NULL), -S3_ERR_PRECONDITION_FAILED);
    CHECK_EQ_INT(copy_check(NOMATCH, NULL, NULL, NULL), -S3_ERR_PRECONDITION_FAILED);
    CHECK_EQ_INT(copy_check(NULL, NULL, NULL, BEFORE), -S3_ERR_PRECONDITION_FAILED);
}

TEST(test_cond_copy_source_if_match_true_and_unmodified_false_proceeds)
{
    CHECK_EQ_INT(copy_check(ETAG, NULL, NULL, BEFORE), 0);
}

TEST(test_cond_copy_source_none_match_false_and_modified_true_fails)
{
    CHECK_EQ_INT(copy_check(NULL, ETAG, BEFORE, NULL), -S3_ERR_PRECONDITION_FAILED);
    CHECK_EQ_INT(copy_check(NULL, NOMATCH, BEFORE, NULL), 0);
}

TEST(test_cond_write_if_none_match_star)
{
    CHECK_EQ_INT(s3_cond_check_write(NONE, IOV("*"), 0, NONE), 0);
    CHECK_EQ_INT(s3_cond_check_write(NONE, IOV("*"), 1, IOV(ETAG)), -S3_ERR_PRECONDITION_FAILED);
    CHECK_EQ_INT(s3_cond_check_write(NONE, IOV(ETAG), 1, IOV(ETAG)), -S3_ERR_NOT_IMPLEMENTED);
}

TEST(test_cond_write_if_match)
{
    CHECK_EQ_INT(s3_cond_check_write(IOV(ETAG), NONE, 1, IOV(ETAG)), 0);
    CHECK_EQ_INT(s3_cond_check_write(IOV(NOMATCH), NONE, 1, IOV(ETAG)), -S3_ERR_PRECONDITION_FAILED);
    CHECK_EQ_INT(s3_cond_check_write(IOV(ETAG), NONE, 0, NONE), -S3_ERR_NO_SUCH_KEY);
    CHECK_EQ_INT(s3_cond_check_write(NONE, NONE, 1, IOV(ETAG)), 0);
}

int main(void)
{
    RUN(test_http_date_parses_imf_fixdate);
    RUN(test_http_date_parses_rfc850);
    RUN(test_http_date_parses_asctime);
    RUN(test_http_date_parses_leap_day);
    RUN(test_http_date_far_future_saturates);
    RUN(test_http_date_when_invalid_fails);
    RUN(test_http_date_formats_imf_fixdate);
    RUN(test_http_date_format_round_trips);
    RUN(test_etag_list_matches_quoted_and_unquoted);
    RUN(test_etag_list_matches_in_list);
    RUN(test_etag_list_star_matches_any);
    RUN(test_etag_list_weak_compares_only_when_weak);
    RUN(test_etag_list_when_unparsable_matches_nothing);
    RUN(test_cond_read_without_headers_proceeds);
    RUN(test_cond_read_if_match);
    RUN(test_cond_read_if_match_true_ignores_if_unmodified_since);
    RUN(test_cond_read_if_unmodified_since);
    RUN(test_cond_read_if_none_match);
    RUN(test_cond_read_if_none_match_miss_ignores_if_modified_since);
    RUN(test_cond_read_if_modified_since);
    RUN(test_cond_read_precondition_beats_not_modified);
    RUN(test_cond_read_if_match_and_if_none_match_miss_proceed);
    RUN(test_cond_copy_source_gives_412_where_get_gives_304);
    RUN(test_cond_copy_source_if_match_true_and_unmodified_false_proceeds);
    RUN(test_cond_copy_source_none_match_false_and_modified_true_fails);
    RUN(test_cond_write_if_none_match_star);
    RUN(test_cond_write_if_match);
    return unit_done();
}
