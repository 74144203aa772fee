/* test_gw_access_log — the JSON access log: every line parses as JSON (jansson, strict) whatever
 * the client sent — quotes, backslashes, control characters, bytes that are not UTF-8, keys
 * longer than the cut — with every field where it belongs; lines from many threads at once come
 * out whole and all of them; "off" logs nothing; a reopen follows a rotated file. */
#include "gateway/gw_access_log.h"
#include "tests/unit/unit.h"
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static h2o_iovec_t iov(const char *s)
{
    return h2o_iovec_init(s, strlen(s));
}

static gw_access_entry_t sample(void)
{
    gw_access_entry_t e = {
        .time_ns = 1796604222123456789LL, /* 2026-12-07T00:43:42.123Z */
        .request_id = iov("17F3A0C2D4E5B6A7"),
        .access_key = iov("AKIAEXAMPLE"),
        .client = iov("127.0.0.1:53122"),
        .operation = "PutObject",
        .bucket = iov("photos"),
        .key = iov("2026/a.jpg"),
        .status = 200,
        .bytes_in = 5242880,
        .bytes_out = 0,
        .duration_ns = 41207123,
        .user_agent = iov("aws-cli/2.9.19 Python/3.11"),
    };
    return e;
}

/* Formats e and parses the line strictly; NULL (and the reason printed) when it is not one JSON
 * object ending in a newline. */
static json_t *format_and_parse(const gw_access_entry_t *e)
{
    char line[GW_ACCESS_LINE_MAX];
    json_error_t err;
    size_t len = gw_access_log_format(e, line, sizeof(line));

    if (len == 0 || line[len - 1] != '\n' || memchr(line, '\n', len - 1) != NULL) {
        fprintf(stderr, "  not one line (len %zu)\n", len);
        return NULL;
    }
    json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (j == NULL)
        fprintf(stderr, "  invalid JSON: %s at %d: %.*s\n", err.text, err.position, (int)len, line);
    return j;
}

static int str_is(json_t *j, const char *name, const char *want, size_t want_len)
{
    json_t *v = json_object_get(j, name);
    if (!json_is_string(v) || json_string_length(v) != want_len || memcmp(json_string_value(v), want, want_len) != 0) {
        fprintf(stderr, "  %s: got %s\n", name, json_is_string(v) ? json_string_value(v) : "(not a string)");
        return 0;
    }
    return 1;
}
#define STR_IS(j, name, lit) str_is(j, name, lit, sizeof(lit) - 1)

TEST(test_access_line_has_every_field_when_plain)
{
    gw_access_entry_t e = sample();
    json_t *j = format_and_parse(&e);
    CHECK(j != NULL);
    CHECK(STR_IS(j, "time", "2026-12-07T00:43:42.123Z"));
    CHECK(STR_IS(j, "request_id", "17F3A0C2D4E5B6A7"));
    CHECK(STR_IS(j, "access_key", "AKIAEXAMPLE"));
    CHECK(STR_IS(j, "client", "127.0.0.1:53122"));
    CHECK(STR_IS(j, "operation", "PutObject"));
    CHECK(STR_IS(j, "bucket", "photos"));
    CHECK(STR_IS(j, "key", "2026/a.jpg"));
    CHECK(STR_IS(j, "user_agent", "aws-cli/2.9.19 Python/3.11"));
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "status")), 200);
    CHECK(json_is_null(json_object_get(j, "error")));
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "bytes_in")), 5242880);
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "bytes_out")), 0);
    CHECK(json_is_real(json_object_get(j, "duration_ms")));
    CHECK(json_real_value(json_object_get(j, "duration_ms")) > 41.207122 &&
          json_real_value(json_object_get(j, "duration_ms")) < 41.207124);
    CHECK_EQ_INT(json_object_size(j), 13);
    json_decref(j);
}

/* Numbers are written by hand: leading zeros of the time's and the duration's fractions kept,
 * integers in full up to their largest values. */
TEST(test_access_line_numbers_exact_when_padded_or_large)
{
    gw_access_entry_t e = {.time_ns = 1000000000LL * 86400 * 365 + 7000000, /* 1971-01-01, 7 ms */
                           .status = 404,
                           .bytes_in = UINT64_MAX,
                           .bytes_out = 10,
                           .duration_ns = 3000005};
    char line[GW_ACCESS_LINE_MAX];
    size_t len = gw_access_log_format(&e, line, sizeof(line));

    CHECK(len > 0);
    line[len - 1] = '\0';
    CHECK(strstr(line, "{\"time\":\"1971-01-01T00:00:00.007Z\",") == line);
    CHECK(strstr(line, ",\"status\":404,") != NULL);
    CHECK(strstr(line, ",\"bytes_in\":18446744073709551615,\"bytes_out\":10,") != NULL);
    CHECK(strstr(line, ",\"duration_ms\":3.000005,") != NULL);
}

TEST(test_access_line_nulls_when_values_unknown)
{
    gw_access_entry_t e = {.time_ns = 0, .status = 503, .error_code = "SlowDown", .duration_ns = -5};
    json_t *j = format_and_parse(&e);
    CHECK(j != NULL);
    CHECK(STR_IS(j, "time", "1970-01-01T00:00:00.000Z"));
    CHECK(json_is_null(json_object_get(j, "request_id")));
    CHECK(json_is_null(json_object_get(j, "access_key")));
    CHECK(json_is_null(json_object_get(j, "operation")));
    CHECK(json_is_null(json_object_get(j, "bucket")));
    CHECK(json_is_null(json_object_get(j, "key")));
    CHECK(json_is_null(json_object_get(j, "user_agent")));
    CHECK(STR_IS(j, "error", "SlowDown"));
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "status")), 503);
    CHECK(json_real_value(json_object_get(j, "duration_ms")) == 0.0);
    json_decref(j);
}

TEST(test_access_line_valid_json_when_key_is_hostile)
{
    /* quotes, backslashes, every control character, DEL, a valid 云, then bytes that are not UTF-8:
     * a lone continuation byte, a cut sequence, an overlong '/', an encoded surrogate, 0xFF */
    static const char hostile[] = "a\"b\\c\x01\x02\x1f\x7f\n\r\t\b\f/\xe4\xba\x91"
                                  "\x80 \xe4\xba \xc0\xaf \xed\xa0\x80 \xff"
                                  "\",\"status\":999}";
    static const char want[] = "a\"b\\c\x01\x02\x1f\x7f\n\r\t\b\f/\xe4\xba\x91"
                               "\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd "
                               "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd"
                               "\",\"status\":999}";
    gw_access_entry_t e = sample();

    e.key = h2o_iovec_init(hostile, sizeof(hostile) - 1);
    e.bucket = h2o_iovec_init("nul\0inside", 10);
    e.user_agent = iov("Mozilla/5.0 \"quoted\" \\ \x1b[31m");
    json_t *j = format_and_parse(&e);
    CHECK(j != NULL);
    CHECK(str_is(j, "key", want, sizeof(want) - 1));
    CHECK(str_is(j, "bucket", "nul\0inside", 10)); /* \u0000: jansson keeps it with its length */
    CHECK(STR_IS(j, "user_agent", "Mozilla/5.0 \"quoted\" \\ \x1b[31m"));
    CHECK_EQ_INT(json_integer_value(json_object_get(j, "status")), 200); /* the forged field did not land */
    json_decref(j);
}

TEST(test_access_line_cut_when_fields_exceed_bounds)
{
    /* a key of 8 KiB of control characters, each 6 bytes escaped: the worst case per byte */
    static char key[8192], agent[4096], bucket[1024], ak[1024];
    gw_access_entry_t e = sample();

    memset(key, 0x01, sizeof(key));
    memset(agent, 0xff, sizeof(agent));
    memset(bucket, '"', sizeof(bucket));
    memset(ak, 0x02, sizeof(ak));
    e.key = h2o_iovec_init(key, sizeof(key));
    e.user_agent = h2o_iovec_init(agent, sizeof(agent));
    e.bucket = h2o_iovec_init(bucket, sizeof(bucket));
    e.access_key = h2o_iovec_init(ak, sizeof(ak));
    e.client = h2o_iovec_init(ak, sizeof(ak));
    e.request_id = h2o_iovec_init(ak, sizeof(ak));
    json_t *j = format_and_parse(&e);
    CHECK(j != NULL);
    CHECK_EQ_INT(json_string_length(json_object_get(j, "key")), GW_ACCESS_KEY_MAX);
    CHECK_EQ_INT(json_string_length(json_object_get(j, "bucket")), GW_ACCESS_BUCKET_MAX);
    CHECK_EQ_INT(json_string_length(json_object_get(j, "user_agent")), GW_ACCESS_AGENT_MAX * 3); /* U+FFFD each */
    json_decref(j);
    /* too small a buffer: nothing, never a cut line */
    char small[64];
    CHECK_EQ_INT(gw_access_log_format(&e, small, sizeof(small)), 0);
}

typedef struct {
    gw_access_log_t *log;
    int thread;
} writer_arg_t;

#define THREADS 8
#define LINES   3000

static void *writer(void *p)
{
    writer_arg_t *a = p;
    char key[64];
    /* long lines (past PIPE_BUF's 4 KiB in all) so that an interleaving would show */
    static char agent[400];
    memset(agent, 'x', sizeof(agent) - 1);
    for (int i = 0; i < LINES; i++) {
        gw_access_entry_t e = sample();
        snprintf(key, sizeof(key), "t%d/%d", a->thread, i);
        e.key = iov(key);
        e.user_agent = iov(agent);
        e.status = a->thread;
        gw_access_log_write(a->log, &e);
    }
    return NULL;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (f == NULL || fstat(fileno(f), &st) != 0) {
        if (f != NULL)
            fclose(f);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    *len = fread(buf, 1, (size_t)st.st_size, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

TEST(test_access_log_lines_whole_when_threads_write_at_once)
{
    char dir[] = "/tmp/yc-access-XXXXXX", path[64];
    gw_access_log_t *log;
    writer_arg_t args[THREADS];
    pthread_t t[THREADS];
    int next[THREADS] = {0};
    size_t len, lines = 0;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/access.log", dir);
    CHECK_EQ_INT(gw_access_log_open(path, &log), 0);
    CHECK(log != NULL);
    for (int i = 0; i < THREADS; i++) {
        args[i] = (writer_arg_t){log, i};
        CHECK_EQ_INT(pthread_create(&t[i], NULL, writer, &args[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    /* a burst the writer cannot follow within GW_ACCESS_WAIT_MS (a loaded machine) drops lines,
     * counted: every line is either in the file, whole, or counted (the writers are done: no
     * more drops but a failed write, which would show as missing lines) */
    uint64_t dropped = gw_access_log_dropped(log);
    gw_access_log_close(log);

    char *text = read_file(path, &len), *save = NULL;
    CHECK(text != NULL);
    for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        json_error_t err;
        json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, &err);
        if (j == NULL) {
            fprintf(stderr, "  line %zu: %s\n", lines + 1, err.text);
            free(text);
            CHECK(0);
        }
        int thread = (int)json_integer_value(json_object_get(j, "status")), i = -1;
        sscanf(json_string_value(json_object_get(j, "key")), "t%*d/%d", &i);
        json_decref(j);
        /* each thread's lines in its own order */
        if (thread < 0 || thread >= THREADS || i < next[thread]) {
            free(text);
            CHECK(0);
        }
        next[thread] = i + 1;
        lines++;
    }
    free(text);
    CHECK_EQ_INT(lines + dropped, THREADS * LINES);
    CHECK(dropped < THREADS * LINES / 2);
    unlink(path);
    rmdir(dir);
}

TEST(test_access_log_reopen_follows_rotation)
{
    char dir[] = "/tmp/yc-access-XXXXXX", path[64], rotated[64];
    gw_access_log_t *log;
    gw_access_entry_t e = sample();
    size_t len;

    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/access.log", dir);
    snprintf(rotated, sizeof(rotated), "%s/access.log.1", dir);
    CHECK_EQ_INT(gw_access_log_open(path, &log), 0);
    e.key = iov("before");
    gw_access_log_write(log, &e);
    usleep(3 * GW_ACCESS_FLUSH_MS * 1000); /* written by the flush interval, without a close */
    char *text = read_file(path, &len);
    CHECK(text != NULL && strstr(text, "\"key\":\"before\"") != NULL);
    free(text);
    CHECK_EQ_INT(rename(path, rotated), 0);
    gw_access_log_reopen(log);
    usleep(3 * GW_ACCESS_FLUSH_MS * 1000);
    e.key = iov("after");
    gw_access_log_write(log, &e);
    gw_access_log_close(log);
    text = read_file(path, &len);
    CHECK(text != NULL && strstr(text, "\"key\":\"after\"") != NULL && strstr(text, "before") == NULL);
    free(text);
    text = read_file(rotated, &len);
    CHECK(text != NULL && strstr(text, "after") == NULL);
    free(text);
    unlink(path);
    unlink(rotated);
    rmdir(dir);
}

TEST(test_access_log_off_logs_nothing)
{
    gw_access_log_t *log = (gw_access_log_t *)1;
    gw_access_entry_t e = sample();
    CHECK_EQ_INT(gw_access_log_open("off", &log), 0);
    CHECK(log == NULL);
    gw_access_log_write(log, &e); /* accepted, nothing done */
    gw_access_log_reopen(log);
    CHECK_EQ_INT(gw_access_log_dropped(log), 0);
    gw_access_log_close(log);
    CHECK_EQ_INT(gw_access_log_open("/nonexistent-dir/x/access.log", &log), -ENOENT);
}

int main(void)
{
    RUN(test_access_line_has_every_field_when_plain);
    RUN(test_access_line_nulls_when_values_unknown);
    RUN(test_access_line_numbers_exact_when_padded_or_large);
    RUN(test_access_line_valid_json_when_key_is_hostile);
    RUN(test_access_line_cut_when_fields_exceed_bounds);
    RUN(test_access_log_lines_whole_when_threads_write_at_once);
    RUN(test_access_log_reopen_follows_rotation);
    RUN(test_access_log_off_logs_nothing);
    return unit_done();
}
