/* test_s3_form.c — the multipart/form-data parser: fields, the stop at the file, the file's bytes
 * in every split, delimiters split between feeds, limits and malformed bodies. */
#include "unit.h"
#include "gateway/s3/form.h"
#include <stdlib.h>

typedef struct {
    char buf[8192];
    size_t len;
    int ends;
} sink_t;

static int on_file(void *arg, const uint8_t *data, size_t len)
{
    sink_t *s = arg;
    if (data == NULL) {
        s->ends++;
        return 0;
    }
    if (s->len + len > sizeof(s->buf))
        return -1;
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    return 0;
}

static const s3_form_limits_t LIMITS = {.max_fields = 8, .max_field_bytes = 2048};

#define BODY                                                                                                           \
    "--XyZ\r\n"                                                                                                        \
    "Content-Disposition: form-data; name=\"key\"\r\n\r\n"                                                             \
    "a/${filename}\r\n"                                                                                                \
    "--XyZ\r\n"                                                                                                        \
    "Content-Disposition: form-data; name=\"Policy\"\r\n\r\n"                                                          \
    "eyJ4Ijox\r\nfQ==\r\n"                                                                                             \
    "--XyZ\r\n"                                                                                                        \
    "Content-Disposition: form-data; name=\"file\"; filename=\"r\\\"e.txt\"\r\n"                                       \
    "Content-Type: text/plain\r\n\r\n"                                                                                 \
    "line1\r\n--XyNot a delimiter\r\r\n-\r\n--XyZZ is not either? no: it is\r\n"                                       \
    "--XyZ\r\n"                                                                                                        \
    "Content-Disposition: form-data; name=\"after\"\r\n\r\n"                                                           \
    "ignored\r\n"                                                                                                      \
    "--XyZ--\r\n"

/* Feeds body in pieces of `step` bytes (0: all at once), resuming after the stop at the file. */
static int feed_all(s3_form_t *f, const char *body, size_t len, size_t step, int *stops)
{
    size_t off = 0;
    *stops = 0;
    while (off < len) {
        size_t n = step == 0 || step > len - off ? len - off : step, used;
        int ret = s3_form_feed(f, (const uint8_t *)body + off, n, &used);
        if (ret < 0)
            return ret;
        if (ret == S3_FORM_FILE)
            (*stops)++;
        else if (used != n)
            return -1000;
        off += used;
    }
    return s3_form_finish(f);
}

TEST(test_form_boundary_from_content_type)
{
    h2o_iovec_t b;
    CHECK_EQ_INT(s3_form_boundary(h2o_iovec_init(H2O_STRLIT("multipart/form-data; boundary=abc")), &b), 0);
    CHECK(b.len == 3 && memcmp(b.base, "abc", 3) == 0);
    CHECK_EQ_INT(s3_form_boundary(h2o_iovec_init(H2O_STRLIT("Multipart/Form-Data;charset=x; boundary=\"a b:c\"")), &b),
                 0);
    CHECK(b.len == 5 && memcmp(b.base, "a b:c", 5) == 0);
    CHECK_EQ_INT(s3_form_boundary(h2o_iovec_init(H2O_STRLIT("multipart/form-data")), &b), S3_FORM_BAD_CONTENT_TYPE);
    CHECK_EQ_INT(s3_form_boundary(h2o_iovec_init(H2O_STRLIT("multipart/mixed; boundary=a")), &b),
                 S3_FORM_BAD_CONTENT_TYPE);
    CHECK_EQ_INT(s3_form_boundary(h2o_iovec_init(H2O_STRLIT("multipart/form-data; boundary=a\rb")), &b),
                 S3_FORM_BAD_CONTENT_TYPE);
    CHECK_EQ_INT(s3_form_boundary(h2o_iovec_init(H2O_STRLIT("multipart/form-data; boundary=\"\"")), &b),
                 S3_FORM_BAD_CONTENT_TYPE);
    /* a NUL is no boundary character (strchr would find the string's own terminator) */
    CHECK_EQ_INT(s3_form_boundary(h2o_iovec_init("multipart/form-data; boundary=a\0b", 33), &b),
                 S3_FORM_BAD_CONTENT_TYPE);
}

TEST(test_form_fields_file_and_trailing_parts_in_every_split)
{
    static const char file[] = "line1\r\n--XyNot a delimiter\r\r\n-\r\n--XyZZ is not either? no: it is";
    for (size_t step = 0; step <= sizeof(BODY); step++) {
        sink_t s = {0};
        s3_form_t *f;
        int stops;
        CHECK_EQ_INT(s3_form_new(h2o_iovec_init(H2O_STRLIT("XyZ")), &LIMITS, on_file, &s, &f), 0);
        int ret = feed_all(f, BODY, sizeof(BODY) - 1, step, &stops);
        /* "\r\n--XyZZ" is a delimiter followed by garbage: the body is malformed there */
        CHECK_EQ_INT(ret, S3_FORM_MALFORMED);
        s3_form_free(f);
        (void)file;
    }
}

#define GOOD                                                                                                           \
    "preamble\r\n--XyZ\r\n"                                                                                            \
    "Content-Disposition: form-data; name=\"key\"\r\n\r\n"                                                             \
    "a/${filename}\r\n"                                                                                                \
    "--XyZ  \r\n"                                                                                                      \
    "content-disposition: form-data; name=Policy\r\n\r\n"                                                              \
    "eyJ4Ijox\r\nfQ==\r\n"                                                                                             \
    "--XyZ\r\n"                                                                                                        \
    "Content-Disposition: form-data; name=\"file\"; filename=\"r\\\"e.txt\"\r\n"                                       \
    "Content-Type: text/plain\r\n\r\n"                                                                                 \
    "line1\r\n--XyNot a delimiter\r\r\n-\r\n--Xy\r\n--\r\n\r\n"                                                        \
    "--XyZ\r\n"                                                                                                        \
    "Content-Disposition: form-data; name=\"after\"\r\n\r\n"                                                           \
    "ignored\r\n"                                                                                                      \
    "--XyZ--\r\nepilogue"

TEST(test_form_good_body_in_every_split)
{
    static const char file[] = "line1\r\n--XyNot a delimiter\r\r\n-\r\n--Xy\r\n--\r\n";
    for (size_t step = 0; step <= sizeof(GOOD); step++) {
        sink_t s = {0};
        s3_form_t *f;
        size_t n;
        int stops;
        CHECK_EQ_INT(s3_form_new(h2o_iovec_init(H2O_STRLIT("XyZ")), &LIMITS, on_file, &s, &f), 0);
        int ret = feed_all(f, GOOD, sizeof(GOOD) - 1, step, &stops);
        if (ret != 0)
            fprintf(stderr, "  step %zu: %d\n", step, ret);
        CHECK_EQ_INT(ret, 0);
        CHECK_EQ_INT(stops, 1);
        CHECK_EQ_INT(s.ends, 1);
        CHECK_EQ_INT(s.len, sizeof(file) - 1);
        CHECK(memcmp(s.buf, file, s.len) == 0);
        CHECK_EQ_INT(s3_form_file_size(f), sizeof(file) - 1);
        const s3_form_field_t *fields = s3_form_fields(f, &n);
        CHECK_EQ_INT(n, 2);
        CHECK(fields[0].name.len == 3 && memcmp(fields[0].name.base, "key", 3) == 0);
        CHECK(fields[0].value.len == 13 && memcmp(fields[0].value.base, "a/${filename}", 13) == 0);
        h2o_iovec_t policy = s3_form_field(f, "policy");
        CHECK(policy.len == 14 && memcmp(policy.base, "eyJ4Ijox\r\nfQ==", 14) == 0);
        CHECK(s3_form_field(f, "after").base == NULL);
        CHECK(s3_form_has_file(f));
        h2o_iovec_t name = s3_form_file_name(f), type = s3_form_file_type(f);
        CHECK(name.len == 7 && memcmp(name.base, "r\"e.txt", 7) == 0);
        CHECK(type.len == 10 && memcmp(type.base, "text/plain", 10) == 0);
        s3_form_free(f);
    }
}

TEST(test_form_stops_before_file_bytes)
{
    sink_t s = {0};
    s3_form_t *f;
    size_t used;
    CHECK_EQ_INT(s3_form_new(h2o_iovec_init(H2O_STRLIT("XyZ")), &LIMITS, on_file, &s, &f), 0);
    CHECK_EQ_INT(s3_form_feed(f, (const uint8_t *)GOOD, sizeof(GOOD) - 1, &used), S3_FORM_FILE);
    CHECK_EQ_INT(s.len, 0);
    CHECK(memcmp(GOOD + used, "line1", 5) == 0);
    s3_form_free(f);
}

TEST(test_form_fields_over_limits_refused)
{
    sink_t s = {0};
    s3_form_t *f;
    size_t used;
    s3_form_limits_t small = {.max_fields = 1, .max_field_bytes = 2048};
    CHECK_EQ_INT(s3_form_new(h2o_iovec_init(H2O_STRLIT("XyZ")), &small, on_file, &s, &f), 0);
    CHECK_EQ_INT(s3_form_feed(f, (const uint8_t *)GOOD, sizeof(GOOD) - 1, &used), S3_FORM_TOO_LARGE);
    CHECK_EQ_INT(s3_form_feed(f, (const uint8_t *)GOOD, 1, &used), S3_FORM_TOO_LARGE); /* final */
    s3_form_free(f);

    s3_form_limits_t tiny = {.max_fields = 8, .max_field_bytes = 60};
    CHECK_EQ_INT(s3_form_new(h2o_iovec_init(H2O_STRLIT("XyZ")), &tiny, on_file, &s, &f), 0);
    CHECK_EQ_INT(s3_form_feed(f, (const uint8_t *)GOOD, sizeof(GOOD) - 1, &used), S3_FORM_TOO_LARGE);
    s3_form_free(f);
}

TEST(test_form_malformed_bodies_refused)
{
    static const char *const bad[] = {
        "--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--",          /* no name */
        "--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--",                /* no disposition */
        "--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--XyZ--", /* not form-data */
        "--XyZ\r\nno colon here\r\n\r\nx\r\n--XyZ--",
        "--XyZ\r\n\r\nx\r\n--XyZ--", /* no headers */
        "--XyZx\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--XyZ--",
        "--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--XyZ--", /* open quote */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        sink_t s = {0};
        s3_form_t *f;
        int stops;
        CHECK_EQ_INT(s3_form_new(h2o_iovec_init(H2O_STRLIT("XyZ")), &LIMITS, on_file, &s, &f), 0);
        int ret = feed_all(f, bad[i], strlen(bad[i]), 0, &stops);
        if (ret != S3_FORM_MALFORMED)
            fprintf(stderr, "  body %zu: %d\n", i, ret);
        CHECK_EQ_INT(ret, S3_FORM_MALFORMED);
        s3_form_free(f);
    }
}

TEST(test_form_truncated_body_incomplete)
{
    sink_t s = {0};
    s3_form_t *f;
    int stops;
    CHECK_EQ_INT(s3_form_new(h2o_iovec_init(H2O_STRLIT("XyZ")), &LIMITS, on_file, &s, &f), 0);
    CHECK_EQ_INT(feed_all(f, GOOD, 300, 7, &stops), S3_FORM_INCOMPLETE);
    s3_form_free(f);
}

TEST(test_form_body_without_file_has_fields_only)
{
    static const char body[] = "--b\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nk\r\n--b--\r\n";
    sink_t s = {0};
    s3_form_t *f;
    int stops;
    CHECK_EQ_INT(s3_form_new(h2o_iovec_init(H2O_STRLIT("b")), &LIMITS, on_file, &s, &f), 0);
    CHECK_EQ_INT(feed_all(f, body, sizeof(body) - 1, 0, &stops), 0);
    CHECK_EQ_INT(stops, 0);
    CHECK(!s3_form_has_file(f));
    CHECK(s3_form_field(f, "key").len == 1);
    s3_form_free(f);
}

TEST(test_form_callback_stop_aborts)
{
    sink_t s = {0};
    s3_form_t *f;
    int stops;
    s.len = sizeof(s.buf); /* full: the first file byte is refused */
    CHECK_EQ_INT(s3_form_new(h2o_iovec_init(H2O_STRLIT("XyZ")), &LIMITS, on_file, &s, &f), 0);
    CHECK_EQ_INT(feed_all(f, GOOD, sizeof(GOOD) - 1, 0, &stops), S3_FORM_ABORTED);
    s3_form_free(f);
}

int main(void)
{
    RUN(test_form_boundary_from_content_type);
    RUN(test_form_fields_file_and_trailing_parts_in_every_split);
    RUN(test_form_good_body_in_every_split);
    RUN(test_form_stops_before_file_bytes);
    RUN(test_form_fields_over_limits_refused);
    RUN(test_form_malformed_bodies_refused);
    RUN(test_form_truncated_body_incomplete);
    RUN(test_form_body_without_file_has_fields_only);
    RUN(test_form_callback_stop_aborts);
    return unit_done();
}
