/* test_common — the helpers of common/: log values from clients (nothing of theirs may end a line
 * or forge a field), hex, base64 and byte order (round trips and bad input), the clocks, random
 * ids, the error space (every code one value in its module's block, one name, one text), and the
 * measures load shedding stands on: a loop's lag and the listener's door. */
#include "common/bigbuf.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "common/errors.h"
#include "common/id.h"
#include "common/listen.h"
#include "common/log.h"
#include "common/server.h"
#include "common/utf8.h"
#include "tests/unit/unit.h"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

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

/* ---------------------------------------------------------------- hex */

TEST(test_hex_writes_lowercase_and_reads_either_case)
{
    const uint8_t in[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    uint8_t back[sizeof(in)];
    char hex[2 * sizeof(in) + 1];

    yc_hex(in, sizeof(in), hex);
    CHECK(strcmp(hex, "00017f80abff") == 0);
    CHECK_EQ_INT(yc_unhex(hex, sizeof(in), back), 0);
    CHECK(memcmp(back, in, sizeof(in)) == 0);
    CHECK_EQ_INT(yc_unhex("00017F80ABFF", sizeof(in), back), 0);
    CHECK(memcmp(back, in, sizeof(in)) == 0);
    CHECK_EQ_INT(yc_unhex_lower(hex, sizeof(in), back), 0);
    CHECK(memcmp(back, in, sizeof(in)) == 0);
    yc_hex(in, 0, hex);
    CHECK(hex[0] == '\0');
}

TEST(test_hex_refuses_bad_digits)
{
    uint8_t out[2];
    CHECK_EQ_INT(yc_unhex("0g", 1, out), -1);
    CHECK_EQ_INT(yc_unhex(" 1", 1, out), -1);
    CHECK_EQ_INT(yc_unhex("12\0"
                          "4",
                          2, out),
                 -1);
    CHECK_EQ_INT(yc_unhex_lower("aB", 1, out), -1); /* ids have one spelling */
    CHECK_EQ_INT(yc_unhex_lower("Ab", 1, out), -1);
    CHECK_EQ_INT(yc_hex_digit('f'), 15);
    CHECK_EQ_INT(yc_hex_digit('F'), 15);
    CHECK_EQ_INT(yc_hex_digit('/'), -1);
    CHECK_EQ_INT(yc_hex_digit(':'), -1);
    CHECK_EQ_INT(yc_hex_digit('G'), -1);
}

/* ---------------------------------------------------------------- base64 */

static int b64_is(const char *in, const char *expected)
{
    char out[64];
    uint8_t back[64];
    size_t n = yc_base64_encode((const uint8_t *)in, strlen(in), out), len;
    return n == strlen(expected) && n == YC_BASE64_LEN(strlen(in)) && strcmp(out, expected) == 0 &&
           yc_base64_decode(out, n, back, sizeof(back), &len) == 0 && len == strlen(in) && memcmp(back, in, len) == 0;
}

TEST(test_base64_known_values)
{
    /* RFC 4648, section 10 */
    CHECK(b64_is("", ""));
    CHECK(b64_is("f", "Zg=="));
    CHECK(b64_is("fo", "Zm8="));
    CHECK(b64_is("foo", "Zm9v"));
    CHECK(b64_is("foob", "Zm9vYg=="));
    CHECK(b64_is("fooba", "Zm9vYmE="));
    CHECK(b64_is("foobar", "Zm9vYmFy"));
}

TEST(test_base64_round_trips_every_byte_and_length)
{
    uint8_t in[300], back[300];
    char b64[YC_BASE64_LEN(300) + 1];
    size_t len;

    for (size_t i = 0; i < sizeof(in); i++)
        in[i] = (uint8_t)(i * 131 + 7);
    for (size_t n = 0; n <= sizeof(in); n++) {
        size_t m = yc_base64_encode(in, n, b64);
        CHECK(m == YC_BASE64_LEN(n) && b64[m] == '\0');
        CHECK_EQ_INT(yc_base64_decode(b64, m, back, n, &len), 0); /* exactly the room it needs */
        CHECK(len == n && memcmp(back, in, n) == 0);
    }
}

TEST(test_base64_refuses_what_is_not_strict_base64)
{
    uint8_t out[16];
    size_t len;
    CHECK_EQ_INT(yc_base64_decode("Zm9", 3, out, sizeof(out), &len), -1);      /* not a whole group */
    CHECK_EQ_INT(yc_base64_decode("Zg", 2, out, sizeof(out), &len), -1);       /* padding left out */
    CHECK_EQ_INT(yc_base64_decode("Zg==Zm8=", 8, out, sizeof(out), &len), -1); /* padding inside */
    CHECK_EQ_INT(yc_base64_decode("Z===", 4, out, sizeof(out), &len), -1);     /* three '=' */
    CHECK_EQ_INT(yc_base64_decode("Zm=v", 4, out, sizeof(out), &len), -1);     /* '=' then data */
    CHECK_EQ_INT(yc_base64_decode("Zh==", 4, out, sizeof(out), &len), -1);     /* bits under the padding */
    CHECK_EQ_INT(yc_base64_decode("Zm9=", 4, out, sizeof(out), &len), -1);     /* bits under the padding */
    CHECK_EQ_INT(yc_base64_decode("Zm9v\n", 5, out, sizeof(out), &len), -1);   /* whitespace */
    CHECK_EQ_INT(yc_base64_decode("Zm-v", 4, out, sizeof(out), &len), -1);     /* base64url is not base64 */
    CHECK_EQ_INT(yc_base64_decode("Zm9vYmFy", 8, out, 5, &len), -1);           /* does not fit */
    CHECK_EQ_INT(yc_base64_decode("Zm9vYmFy", 8, out, 6, &len), 0);
}

/* ---------------------------------------------------------------- byte order */

TEST(test_byte_order_puts_and_gets)
{
    uint8_t b[8];

    yc_put_le32(b, 0x01020304u);
    CHECK(b[0] == 4 && b[1] == 3 && b[2] == 2 && b[3] == 1);
    CHECK(yc_get_le32(b) == 0x01020304u);
    yc_put_le64(b, 0x0102030405060708ull);
    CHECK(b[0] == 8 && b[7] == 1);
    CHECK(yc_get_le64(b) == 0x0102030405060708ull);
    yc_put_be32(b, 0x01020304u);
    CHECK(b[0] == 1 && b[3] == 4);
    CHECK(yc_get_be32(b) == 0x01020304u);
    yc_put_be64(b, 0xfedcba9876543210ull);
    CHECK(b[0] == 0xfe && b[7] == 0x10);
    CHECK(yc_get_be64(b) == 0xfedcba9876543210ull);
    yc_put_le64(b, UINT64_MAX);
    CHECK(yc_get_le64(b) == UINT64_MAX && yc_get_le32(b + 4) == UINT32_MAX);
}

TEST(test_big_endian_sorts_as_the_numbers)
{
    uint8_t a[8], b[8];
    const uint64_t v[] = {0, 1, 255, 256, 65535, 1ull << 32, (1ull << 63) - 1, 1ull << 63, UINT64_MAX};
    for (size_t i = 0; i + 1 < sizeof(v) / sizeof(v[0]); i++) {
        yc_put_be64(a, v[i]);
        yc_put_be64(b, v[i + 1]);
        CHECK(memcmp(a, b, 8) < 0);
    }
}

/* ---------------------------------------------------------------- clocks and ids */

TEST(test_wall_clock_is_the_time_of_day)
{
    int64_t before = (int64_t)time(NULL), now = yc_now_ns() / 1000000000, after = (int64_t)time(NULL);
    CHECK(before <= now && now <= after);
}

TEST(test_monotonic_clock_moves_forward)
{
    int64_t a = yc_mono_ns();
    struct timespec pause = {0, 2000000};
    nanosleep(&pause, NULL);
    int64_t b = yc_mono_ns();
    CHECK(b - a >= 2000000);
    CHECK(b - a < 2000000000); /* and is not the wall clock counted from 1970 */
}

TEST(test_deadline_is_that_far_on_its_clock)
{
    struct timespec d;
    for (int i = 0; i < 100; i++) { /* across second boundaries of the nanoseconds */
        int64_t before = yc_mono_ns();
        yc_deadline(CLOCK_MONOTONIC, 999999999, &d);
        int64_t at = (int64_t)d.tv_sec * 1000000000 + d.tv_nsec;
        CHECK(d.tv_nsec >= 0 && d.tv_nsec < 1000000000);
        CHECK(at >= before + 999999999 && at <= yc_mono_ns() + 999999999);
    }
    int64_t now = yc_now_ns();
    yc_deadline(CLOCK_REALTIME, 5000000000, &d);
    int64_t at = (int64_t)d.tv_sec * 1000000000 + d.tv_nsec;
    CHECK(at >= now + 5000000000 && at < now + 6000000000);
}

TEST(test_random_ids_differ)
{
    uint8_t a[YC_ID_LEN], b[YC_ID_LEN], zero[YC_ID_LEN] = {0};
    yc_random_id(a);
    yc_random_id(b);
    CHECK(memcmp(a, b, YC_ID_LEN) != 0);
    CHECK(memcmp(a, zero, YC_ID_LEN) != 0);
}

/* ---------------------------------------------------------------- the error space */

/* The block a code's name says it belongs to: [hi - 99, hi]. */
static int block_of_name(const char *name, int *hi)
{
    static const struct {
        const char *prefix;
        int base;
    } blocks[] = {{"EC_", YC_ERR_EC}, {"META_", YC_ERR_META}, {"STORE_", YC_ERR_STORE}, {"GW_", YC_ERR_GW}};
    for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
        if (strncmp(name, blocks[i].prefix, strlen(blocks[i].prefix)) == 0) {
            *hi = blocks[i].base - 1;
            return 1;
        }
    }
    return 0;
}

TEST(test_every_code_has_one_value_in_its_block_and_one_name)
{
    int codes[512];
    unsigned n = 0;

    for (int code; yc_error_at(n, &code); n++) {
        CHECK(n < sizeof(codes) / sizeof(codes[0]));
        codes[n] = code;
    }
    CHECK(n >= 30); /* the four blocks' codes */
    for (unsigned i = 0; i < n; i++) {
        const char *name = yc_errname(codes[i]), *full = yc_strerror(codes[i]);
        int hi;
        /* a name of its module's block, and the code inside that block: never -errno */
        CHECK(block_of_name(name, &hi));
        CHECK(codes[i] <= hi && codes[i] > hi - YC_ERR_BLOCK);
        CHECK(codes[i] < YC_ERRNO_MIN && codes[i] >= YC_ERR_MIN);
        /* "NAME: text", with a text */
        CHECK(strncmp(full, name, strlen(name)) == 0 && strncmp(full + strlen(name), ": ", 2) == 0);
        CHECK(strlen(full) > strlen(name) + 4);
        for (unsigned j = 0; j < i; j++) {
            CHECK(codes[j] != codes[i]);
            CHECK(strcmp(yc_errname(codes[j]), name) != 0);
        }
    }
}

TEST(test_strerror_names_the_codes_the_issue_found)
{
    /* the values that used to collide: GW_EIO == STORE_ENOSPC == -3 */
    CHECK(GW_EIO != STORE_ENOSPC && GW_EIO != META_ENOSPC && STORE_ENOSPC != META_ENOSPC);
    CHECK(strcmp(yc_strerror(STORE_ENOSPC), "STORE_ENOSPC: no space left on the drive") == 0);
    CHECK(strcmp(yc_errname(GW_EIO), "GW_EIO") == 0);
    CHECK(strcmp(yc_errname(META_ECORRUPT), "META_ECORRUPT") == 0);
    CHECK(strcmp(yc_errname(GW_ENOSPC), "GW_ENOSPC") == 0);
}

TEST(test_strerror_of_errno_zero_and_strangers)
{
    CHECK(strcmp(yc_errname(-ENOSPC), "ENOSPC") == 0);
    CHECK(strncmp(yc_strerror(-ENOSPC), "ENOSPC: ", 8) == 0);
    CHECK(strcmp(yc_errname(-ENOMEM), "ENOMEM") == 0);
    CHECK(strcmp(yc_strerror(0), "OK: success") == 0);
    CHECK(strcmp(yc_errname(0), "OK") == 0);
    CHECK(strcmp(yc_errname(-998), "UNKNOWN") == 0);  /* no errno that large */
    CHECK(strcmp(yc_errname(-1099), "UNKNOWN") == 0); /* the common block has no codes yet */
    CHECK(strcmp(yc_errname(-1450), "UNKNOWN") == 0); /* the s3 block is reserved */
    CHECK(strcmp(yc_errname(12), "UNKNOWN") == 0);    /* not negative */
    CHECK(strcmp(yc_strerror(-1000000), "UNKNOWN: not an error code") == 0);
}

/* ---------------------------------------------------------------- load: pools, listeners, loops */

typedef struct {
    int refuse_next; /* the next connection is answered at the door */
    int refused, served;
    int delay_ms;       /* how long the request waits in the backlog before the loop runs */
    int64_t pending_ns; /* yc_listen_pending_age_ns of the last connection the door saw */
} door_test_t;

static size_t door_refuse(void *arg, int fd, char *buf, size_t cap)
{
    door_test_t *t = arg;
    t->pending_ns = yc_listen_pending_age_ns(fd);
    if (!t->refuse_next)
        return 0;
    t->refused++;
    return (size_t)snprintf(buf, cap, "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
}

static void door_serve(void *arg, h2o_socket_t *sock)
{
    door_test_t *t = arg;
    t->served++;
    h2o_socket_close(sock);
}

/* Connects to port, runs loop until the door saw the connection, and reads what came back. */
static ssize_t door_round(h2o_loop_t *loop, uint16_t port, door_test_t *t, char *buf, size_t cap)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    int c = socket(AF_INET, SOCK_STREAM, 0), seen = t->refused + t->served;
    ssize_t n;

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(c, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(c);
        return -1;
    }
    static const char req[] = "GET / HTTP/1.1\r\nhost: x\r\n\r\n";
    if (write(c, req, sizeof(req) - 1) != (ssize_t)sizeof(req) - 1) {
        close(c);
        return -1;
    }
    if (t->delay_ms > 0)
        usleep((useconds_t)t->delay_ms * 1000);
    for (int i = 0; i < 200 && t->refused + t->served == seen; i++)
        h2o_evloop_run(loop, 10);
    struct timeval tv = {.tv_sec = 2};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    n = read(c, buf, cap);
    close(c);
    return n;
}

TEST(test_listen_door_answers_and_closes_or_serves)
{
    h2o_loop_t *loop = h2o_evloop_create();
    int fd = yc_listen_open("127.0.0.1", 0);
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    door_test_t t = {0};
    yc_listen_door_t door = {.refuse = door_refuse, .serve = door_serve, .arg = &t};
    char buf[256];

    CHECK(fd >= 0);
    CHECK_EQ_INT(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    yc_listen_door_state_t *d = yc_listen_door_start(loop, fd, &door);
    CHECK(d != NULL);
    t.refuse_next = 1;
    ssize_t n = door_round(loop, ntohs(sa.sin_port), &t, buf, sizeof(buf) - 1);
    CHECK_EQ_INT(t.refused, 1);
    CHECK_EQ_INT(t.served, 0);
    CHECK(n > 12 && memcmp(buf, "HTTP/1.1 503", 12) == 0); /* the answer, then the close */
    CHECK_EQ_INT(yc_listen_door_refused(d), 1);
    t.refuse_next = 0;
    n = door_round(loop, ntohs(sa.sin_port), &t, buf, sizeof(buf) - 1);
    CHECK_EQ_INT(t.served, 1);
    CHECK(n <= 0); /* served: door_serve closed it without a word */
    CHECK_EQ_INT(yc_listen_door_refused(d), 1);
    /* the door stamps what connections receive: how long a request waited in the backlog */
    CHECK(t.pending_ns >= 0 && t.pending_ns < 1000LL * 1000 * 1000);
    t.delay_ms = 50;
    n = door_round(loop, ntohs(sa.sin_port), &t, buf, sizeof(buf) - 1);
    CHECK_EQ_INT(t.served, 2);
    CHECK(t.pending_ns >= 45LL * 1000 * 1000 && t.pending_ns < 5000LL * 1000 * 1000);
    yc_listen_door_free(d);
    for (int i = 0; i < 3; i++)
        h2o_evloop_run(loop, 1); /* h2o frees closed sockets in its next run */
    h2o_evloop_destroy(loop);
}

TEST(test_listen_port_taken_by_another_listener_is_refused)
{
    int fd = yc_listen_open("127.0.0.1", 0);
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    yc_server_config_t cfg = {.name = "t"};
    yc_server_t *s;

    CHECK(fd >= 0);
    CHECK_EQ_INT(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    uint16_t port = ntohs(sa.sin_port);
    /* a second SO_REUSEPORT socket would bind beside it and take half the connections */
    CHECK_EQ_INT(yc_listen_check_free("127.0.0.1", port), -EADDRINUSE);
    CHECK_EQ_INT(yc_server_new(&cfg, &s), 0);
    CHECK_EQ_INT(yc_server_listen(s, "127.0.0.1", port, 2), -EADDRINUSE);
    yc_server_free(s);
    close(fd);
    CHECK_EQ_INT(yc_listen_check_free("127.0.0.1", port), 0);
    CHECK_EQ_INT(yc_listen_check_free("not an address", port), -EINVAL);
}

TEST(test_listen_port_shared_only_when_asked_and_only_with_reuseport)
{
    int fd = yc_listen_open("127.0.0.1", 0), plain;
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    yc_server_config_t cfg = {.name = "t", .share_port = 1};
    yc_server_t *s;

    CHECK(fd >= 0);
    CHECK_EQ_INT(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    /* another process's listeners, as a gateway of the same deployment opens them: joined */
    CHECK_EQ_INT(yc_server_new(&cfg, &s), 0);
    CHECK_EQ_INT(yc_server_listen(s, "127.0.0.1", ntohs(sa.sin_port), 2), 0);
    yc_server_free(s);
    close(fd);
    /* a listener without SO_REUSEPORT (another kind of server) keeps its port even then */
    CHECK((plain = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) >= 0);
    sa.sin_port = 0;
    CHECK_EQ_INT(bind(plain, (struct sockaddr *)&sa, sizeof(sa)), 0);
    CHECK_EQ_INT(listen(plain, 16), 0);
    CHECK_EQ_INT(getsockname(plain, (struct sockaddr *)&sa, &len), 0);
    CHECK_EQ_INT(yc_server_new(&cfg, &s), 0);
    CHECK_EQ_INT(yc_server_listen(s, "127.0.0.1", ntohs(sa.sin_port), 2), -EADDRINUSE);
    yc_server_free(s);
    close(plain);
}

/* A loop whose every iteration takes 20 ms: its timer re-arms itself and sleeps. */
static h2o_timeout_t busy_timeout;
static h2o_timeout_entry_t busy_entry;
static h2o_loop_t *busy_loop;
static yc_loop_t *_Atomic busy_jobs;

static void on_busy(h2o_timeout_entry_t *e)
{
    usleep(20 * 1000);
    h2o_timeout_link(busy_loop, &busy_timeout, &busy_entry);
}

static int busy_on_loop(void *arg, h2o_loop_t *loop, yc_loop_t *jobs, int fd, size_t index)
{
    busy_loop = loop;
    h2o_timeout_init(loop, &busy_timeout, 1);
    busy_entry.cb = on_busy;
    h2o_timeout_link(loop, &busy_timeout, &busy_entry);
    atomic_store(&busy_jobs, jobs);
    return 0;
}

TEST(test_server_loop_lag_follows_long_iterations)
{
    yc_server_config_t cfg = {.name = "t", .on_loop = busy_on_loop};
    yc_server_t *s;

    CHECK_EQ_INT(yc_server_new(&cfg, &s), 0);
    CHECK_EQ_INT(yc_server_listen(s, "127.0.0.1", 0, 1), 0);
    CHECK_EQ_INT(yc_server_start(s), 0);
    for (int i = 0; i < 1000 && atomic_load(&busy_jobs) == NULL; i++)
        usleep(1000);
    CHECK(atomic_load(&busy_jobs) != NULL);
    usleep(600 * 1000); /* ~30 iterations: the smoothed length is near 20 ms */
    int64_t lag = yc_server_loop_lag_ns(atomic_load(&busy_jobs));
    CHECK(lag >= 12LL * 1000 * 1000);
    yc_server_stop(s); /* the loop thread is left to the process's exit (server.h) */
}

/* Every code point at the edges of each length and of the surrogate block decodes to itself, and
 * every way a sequence can be wrong is refused at its first byte. */
TEST(test_utf8_seq_code_points_and_refusals)
{
    static const struct {
        const char *s;
        size_t len;
        uint32_t cp;
    } good[] = {{"\x00", 1, 0},
                {"\x7f", 1, 0x7f},
                {"\xc2\x80", 2, 0x80},
                {"\xdf\xbf", 2, 0x7ff},
                {"\xe0\xa0\x80", 3, 0x800},
                {"\xed\x9f\xbf", 3, 0xd7ff},
                {"\xee\x80\x80", 3, 0xe000},
                {"\xef\xbf\xbf", 3, 0xffff},
                {"\xf0\x90\x80\x80", 4, 0x10000},
                {"\xf4\x8f\xbf\xbf", 4, 0x10ffff},
                {"\xe4\xba\x91", 3, 0x4e91}};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint32_t cp = 0xffffffff;
        size_t n = good[i].len == 1 ? 1 : strlen(good[i].s);
        CHECK_EQ_INT(yc_utf8_seq((const unsigned char *)good[i].s, n, &cp), good[i].len);
        CHECK_EQ_INT(cp, good[i].cp);
    }
    static const char *const bad[] = {
        "\x80",             /* a continuation byte alone */
        "\xc0\x80",         /* overlong NUL */
        "\xc1\xbf",         /* overlong 0x7f */
        "\xe0\x9f\xbf",     /* overlong 0x7ff */
        "\xf0\x8f\xbf\xbf", /* overlong 0xffff */
        "\xed\xa0\x80",     /* U+D800, a surrogate */
        "\xed\xbf\xbf",     /* U+DFFF */
        "\xf4\x90\x80\x80", /* U+110000 */
        "\xf5\x80\x80\x80", /* a lead byte of nothing */
        "\xff",
        "\xe4\xba",     /* cut short */
        "\xe4\x41\x91", /* a continuation that is not one */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ_INT(yc_utf8_seq((const unsigned char *)bad[i], strlen(bad[i]), NULL), 0);
        CHECK(!yc_utf8_valid((const unsigned char *)bad[i], strlen(bad[i])));
    }
    /* the length bound is the caller's n, not a NUL */
    CHECK_EQ_INT(yc_utf8_seq((const unsigned char *)"\xe4\xba\x91", 2, NULL), 0);
    CHECK(yc_utf8_valid((const unsigned char *)"a\xe4\xba\x91"
                                               "b",
                        5));
    CHECK(!yc_utf8_valid((const unsigned char *)"a\xe4\xba\x91"
                                                "b",
                         3));
}

/* A large buffer given back is handed out again for the next request of its size class, aligned
 * and whole; small and huge ones are not kept; and what is kept stays within the bound. */
TEST(test_bigbuf_reuses_within_its_bound)
{
    size_t base = yc_bigbuf_kept();
    uint8_t *a = yc_bigbuf_alloc(1536 * 1024), *b;

    CHECK(a != NULL && ((uintptr_t)a & 63) == 0);
    memset(a, 0xa5, 1536 * 1024);
    yc_bigbuf_free(a);
    CHECK_EQ_INT(yc_bigbuf_kept(), base + (2u << 20));
    b = yc_bigbuf_alloc(2u << 20); /* the same class: the same buffer, with room for all of it */
    CHECK(b == a);
    CHECK_EQ_INT(yc_bigbuf_kept(), base);
    memset(b, 0x5a, 2u << 20);
    yc_bigbuf_free(b);

    void *small = yc_bigbuf_alloc(1000), *huge = yc_bigbuf_alloc(9u << 20);
    CHECK(small != NULL && huge != NULL);
    size_t before = yc_bigbuf_kept();
    yc_bigbuf_free(small);
    yc_bigbuf_free(huge);
    CHECK_EQ_INT(yc_bigbuf_kept(), before);
    yc_bigbuf_free(NULL);

    enum { N = 24 };
    void *many[N];
    for (int i = 0; i < N; i++)
        CHECK((many[i] = yc_bigbuf_alloc(4u << 20)) != NULL);
    for (int i = 0; i < N; i++)
        yc_bigbuf_free(many[i]);
    CHECK(yc_bigbuf_kept() <= YC_BIGBUF_KEPT_MAX);
    CHECK(yc_bigbuf_kept() > YC_BIGBUF_KEPT_MAX - (4u << 20));
}

int main(void)
{
    RUN(test_utf8_seq_code_points_and_refusals);
    RUN(test_log_value_plain_is_bare);
    RUN(test_log_value_absent_empty_and_dash);
    RUN(test_log_value_quotes_spaces_equals_and_quotes);
    RUN(test_log_value_escapes_control_characters);
    RUN(test_log_value_keeps_utf8_and_escapes_other_bytes);
    RUN(test_log_value_is_cut_to_the_buffer);
    RUN(test_hex_writes_lowercase_and_reads_either_case);
    RUN(test_hex_refuses_bad_digits);
    RUN(test_base64_known_values);
    RUN(test_base64_round_trips_every_byte_and_length);
    RUN(test_base64_refuses_what_is_not_strict_base64);
    RUN(test_byte_order_puts_and_gets);
    RUN(test_big_endian_sorts_as_the_numbers);
    RUN(test_wall_clock_is_the_time_of_day);
    RUN(test_monotonic_clock_moves_forward);
    RUN(test_deadline_is_that_far_on_its_clock);
    RUN(test_random_ids_differ);
    RUN(test_every_code_has_one_value_in_its_block_and_one_name);
    RUN(test_strerror_names_the_codes_the_issue_found);
    RUN(test_strerror_of_errno_zero_and_strangers);
    RUN(test_listen_door_answers_and_closes_or_serves);
    RUN(test_listen_port_taken_by_another_listener_is_refused);
    RUN(test_listen_port_shared_only_when_asked_and_only_with_reuseport);
    RUN(test_server_loop_lag_follows_long_iterations);
    RUN(test_bigbuf_reuses_within_its_bound);
    return unit_done();
}
