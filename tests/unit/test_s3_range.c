/* test_s3_range.c — Range and x-amz-copy-source-range. */
#include "tests/unit/unit.h"
#include "gateway/s3/range.h"

#define IOV(s) h2o_iovec_init((s), strlen(s))
#define NONE   h2o_iovec_init(NULL, 0)

/* Expects a partial range first..last. */
#define CHECK_RANGE(hdr, size, f, l)                                                                                   \
    do {                                                                                                               \
        s3_range_t r_;                                                                                                 \
        CHECK_EQ_INT(s3_range_parse(IOV(hdr), (size), &r_), 0);                                                        \
        CHECK_EQ_INT(r_.partial, 1);                                                                                   \
        CHECK_EQ_INT(r_.first, (f));                                                                                   \
        CHECK_EQ_INT(r_.last, (l));                                                                                    \
    } while (0)

/* Expects the header to be ignored: the whole object. */
#define CHECK_WHOLE(hdr, size)                                                                                         \
    do {                                                                                                               \
        s3_range_t r_;                                                                                                 \
        CHECK_EQ_INT(s3_range_parse(IOV(hdr), (size), &r_), 0);                                                        \
        CHECK_EQ_INT(r_.partial, 0);                                                                                   \
    } while (0)

#define CHECK_UNSATISFIABLE(hdr, size)                                                                                 \
    do {                                                                                                               \
        s3_range_t r_;                                                                                                 \
        CHECK_EQ_INT(s3_range_parse(IOV(hdr), (size), &r_), -S3_ERR_INVALID_RANGE);                                    \
    } while (0)

TEST(test_range_first_last)
{
    CHECK_RANGE("bytes=0-0", 10, 0, 0);
    CHECK_RANGE("bytes=2-5", 10, 2, 5);
    CHECK_RANGE("bytes=0-9", 10, 0, 9);
}

TEST(test_range_last_clipped_to_size)
{
    CHECK_RANGE("bytes=5-100", 10, 5, 9);
    CHECK_RANGE("bytes=0-99999999999999999999999999", 10, 0, 9);
}

TEST(test_range_open_ended)
{
    CHECK_RANGE("bytes=3-", 10, 3, 9);
    CHECK_RANGE("bytes=9-", 10, 9, 9);
}

TEST(test_range_suffix)
{
    CHECK_RANGE("bytes=-3", 10, 7, 9);
    CHECK_RANGE("bytes=-10", 10, 0, 9);
    CHECK_RANGE("bytes=-500", 10, 0, 9);
    CHECK_RANGE("bytes=-99999999999999999999999999", 10, 0, 9);
}

TEST(test_range_unit_case_and_spaces)
{
    CHECK_RANGE("Bytes=1-2", 10, 1, 2);
    CHECK_RANGE("  bytes=1-2  ", 10, 1, 2);
}

TEST(test_range_large_object_offsets)
{
    CHECK_RANGE("bytes=5497558138880-", 5497558138881ull, 5497558138880ull, 5497558138880ull);
    CHECK_RANGE("bytes=18446744073709551614-18446744073709551615", UINT64_MAX, 18446744073709551614ull,
                18446744073709551614ull);
}

TEST(test_range_when_first_beyond_size_is_unsatisfiable)
{
    CHECK_UNSATISFIABLE("bytes=10-20", 10);
    CHECK_UNSATISFIABLE("bytes=10-", 10);
    CHECK_UNSATISFIABLE("bytes=99999999999999999999999-", 10);
}

TEST(test_range_when_suffix_zero_is_unsatisfiable)
{
    CHECK_UNSATISFIABLE("bytes=-0", 10);
}

TEST(test_range_when_object_empty_is_unsatisfiable)
{
    CHECK_UNSATISFIABLE("bytes=0-0", 0);
    CHECK_UNSATISFIABLE("bytes=0-", 0);
    CHECK_UNSATISFIABLE("bytes=-5", 0);
}

TEST(test_range_when_invalid_is_ignored)
{
    const char *bad[] = {"",          "bytes",      "bytes=",        "bytes=-",    "bytes=a-b",
                         "bytes=5-3", "items=0-5",  "bytes=0-1,3-4", "bytes=0-1,", "bytes = 0-1",
                         "bytes=1",   "bytes=1-2x", "bytes=+1-2",    "bytes=--1",  "bytes=0- 5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_WHOLE(bad[i], 10);
    /* an invalid header on an empty object is ignored too, not unsatisfiable */
    CHECK_WHOLE("bytes=5-3", 0);
}

TEST(test_range_absent_gives_whole_object)
{
    s3_range_t r;
    CHECK_EQ_INT(s3_range_parse(NONE, 10, &r), 0);
    CHECK_EQ_INT(r.partial, 0);
    CHECK_EQ_INT(r.first, 0);
    CHECK_EQ_INT(r.last, 9);
}

TEST(test_content_range_formats)
{
    char buf[64];
    s3_range_t r = {1, 2, 5};
    CHECK_EQ_INT(s3_range_content_range(&r, 10, 0, buf), 12);
    CHECK(strcmp(buf, "bytes 2-5/10") == 0);
    CHECK_EQ_INT(s3_range_content_range(&r, 10, 1, buf), 10);
    CHECK(strcmp(buf, "bytes */10") == 0);
}

TEST(test_copy_range_parses_first_last)
{
    s3_range_t r;
    CHECK_EQ_INT(s3_copy_range_parse(IOV("bytes=0-4"), &r), 0);
    CHECK_EQ_INT(r.partial, 1);
    CHECK_EQ_INT(r.first, 0);
    CHECK_EQ_INT(r.last, 4);
    CHECK_EQ_INT(s3_copy_range_check(&r, 5), 0);
    CHECK_EQ_INT(s3_copy_range_parse(IOV("bytes=7-7"), &r), 0);
    CHECK_EQ_INT(s3_copy_range_check(&r, 8), 0);
}

TEST(test_copy_range_when_syntax_wrong_fails)
{
    s3_range_t r;
    const char *bad[] = {"",          "bytes=5-",      "bytes=-5",
                         "bytes=5-3", "bytes=0-1,2-3", "bytes=a-b",
                         "0-4",       "bytes=0-4 x",   "bytes=0-99999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ_INT(s3_copy_range_parse(IOV(bad[i]), &r), -S3_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(s3_copy_range_parse(NONE, &r), -S3_ERR_INVALID_ARGUMENT);
}

TEST(test_copy_range_when_beyond_source_fails)
{
    s3_range_t r;
    CHECK_EQ_INT(s3_copy_range_parse(IOV("bytes=0-5"), &r), 0);
    CHECK_EQ_INT(s3_copy_range_check(&r, 5), -S3_ERR_INVALID_RANGE);
    CHECK_EQ_INT(s3_copy_range_check(&r, 0), -S3_ERR_INVALID_RANGE);
    CHECK_EQ_INT(s3_copy_range_check(&r, 6), 0);
}

int main(void)
{
    RUN(test_range_first_last);
    RUN(test_range_last_clipped_to_size);
    RUN(test_range_open_ended);
    RUN(test_range_suffix);
    RUN(test_range_unit_case_and_spaces);
    RUN(test_range_large_object_offsets);
    RUN(test_range_when_first_beyond_size_is_unsatisfiable);
    RUN(test_range_when_suffix_zero_is_unsatisfiable);
    RUN(test_range_when_object_empty_is_unsatisfiable);
    RUN(test_range_when_invalid_is_ignored);
    RUN(test_range_absent_gives_whole_object);
    RUN(test_content_range_formats);
    RUN(test_copy_range_parses_first_last);
    RUN(test_copy_range_when_syntax_wrong_fails);
    RUN(test_copy_range_when_beyond_source_fails);
    return unit_done();
}
