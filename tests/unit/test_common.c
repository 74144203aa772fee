/* test_gw_log — values from clients written into log lines: nothing of theirs may end a line or
 * forge a field. */
#include "common/log.h"
#include "tests/unit/unit.h"

static int value_is(const char *in, size_t len, const char *expected)
{
    char out[256];
    size_t n = yc_log_value(out, sizeof(out), in, len);
    if (n != strlen(expected) || strcmp(out, expected) != 0) {
        fprintf(stderr, "  got [%s], expected [%s]\n", out, expected);
        return 0;
    }
    return 1;
}

#define IS(in, expected) value_is(in, sizeof(in) - 1, expected)

TEST(test_log_value_plain_is_bare)
{
    CHECK(IS("my-bucket", "my-bucket"));
    CHECK(IS("dir/file_1.txt", "dir/file_1.txt"));
    CHECK(IS("AKIA:x@y+z,~", "AKIA:x@y+z,~"));
}

TEST(test_log_value_absent_empty_and_dash)
{
    char out[16];
    CHECK_EQ_INT(yc_log_value(out, sizeof(out), NULL, 0), 1);
    CHECK(strcmp(out, "-") == 0);
    CHECK(IS("", "\"\""));
    CHECK(IS("-", "\"-\"")); /* a key named "-" is not an absent one */
}

TEST(test_log_value_quotes_spaces_equals_and_quotes)
{
    CHECK(IS("a b", "\"a b\""));
    CHECK(IS("k=v status=200", "\"k=v status=200\""));
    CHECK(IS("say \"hi\"\\", "\"say \\\"hi\\\"\\\\\""));
}

TEST(test_log_value_escapes_control_characters)
{
    CHECK(IS("a\nb\rc\td", "\"a\\nb\\rc\\td\""));
    CHECK(IS("a\x01\x7f", "\"a\\u0001\\u007f\""));
    char out[32];
    yc_log_value(out, sizeof(out), "x\0y", 3);
    CHECK(strcmp(out, "\"x\\u0000y\"") == 0);
}

TEST(test_log_value_keeps_utf8_and_escapes_other_bytes)
{
    CHECK(IS("\xe4\xba\x91\xe4\xbb\x93", "\"\xe4\xba\x91\xe4\xbb\x93\""));
    CHECK(IS("\xff\xe4\xba", "\"\\xff\\xe4\\xba\"")); /* invalid, and a truncated sequence */
    CHECK(IS("\xc0\xaf", "\"\\xc0\\xaf\""));          /* overlong '/' */
    CHECK(IS("\xed\xa0\x80", "\"\\xed\\xa0\\x80\"")); /* surrogate */
}

TEST(test_log_value_is_cut_to_the_buffer)
{
    char in[200], out[24];
    memset(in, ' ', sizeof(in));
    size_t n = yc_log_value(out, sizeof(out), in, sizeof(in));
    CHECK(n == strlen(out) && n < sizeof(out));
    CHECK(out[0] == '"' && strcmp(out + n - 4, "...\"") == 0);
    memset(in, 'a', sizeof(in));
    n = yc_log_value(out, sizeof(out), in, sizeof(in)); /* too long to stay bare */
    CHECK(n < sizeof(out) && out[0] == '"' && strcmp(out + n - 4, "...\"") == 0);
    memset(in, '\n', sizeof(in));
    n = yc_log_value(out, sizeof(out), in, sizeof(in));
    CHECK(n < sizeof(out) && strchr(out, '\n') == NULL && strcmp(out + n - 4, "...\"") == 0);
}

int main(void)
{
    RUN(test_log_value_plain_is_bare);
    RUN(test_log_value_absent_empty_and_dash);
    RUN(test_log_value_quotes_spaces_equals_and_quotes);
    RUN(test_log_value_escapes_control_characters);
    RUN(test_log_value_keeps_utf8_and_escapes_other_bytes);
    RUN(test_log_value_is_cut_to_the_buffer);
    return unit_done();
}
