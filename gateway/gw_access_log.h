/* gw_access_log.h — the access log: one JSON object per line per request, to a file or stderr.
 *
 *   {"time":"2026-12-07T00:23:42.123Z","request_id":"17F3A0C2D4E5B6A7","access_key":"AKIA...",
 *    "client":"127.0.0.1:53122","operation":"PutObject","bucket":"photos","key":"2026/a.jpg",
 *    "status":200,"error":null,"bytes_in":5242880,"bytes_out":0,"duration_ms":41.207,
 *    "user_agent":"aws-cli/2.9.19 ..."}
 *
 * Every line is valid JSON whatever the client sent: strings are escaped (\" \\ \n \r \t \b \f,
 * other control characters and DEL as \u00XX), bytes that are not UTF-8 become \ufffd, and
 * fields from clients are cut to a bound before escaping so a line has a bounded length
 * (GW_ACCESS_LINE_MAX). Unknown values are null. The time is when the request ended, UTC,
 * RFC 3339 with milliseconds; duration_ms has microsecond digits.
 *
 * Writing never blocks the caller on the disk: a line is copied into the log's buffer under a
 * mutex (a memcpy), and a writer thread of the log writes whole buffers of whole lines with one
 * write(2) each, at once when a buffer is half full, else within GW_ACCESS_FLUSH_MS. Lines are
 * therefore never interleaved, whichever threads write them (on stderr, which the logger shares,
 * writes end at line ends and stay within PIPE_BUF, what a pipe writes whole, unless one line is
 * longer). A burst that fills the buffer waits for the writer's next swap, at most
 * GW_ACCESS_WAIT_MS; when the destination stalls longer than that, lines are dropped and counted
 * (gw_access_log_dropped) rather than holding an event loop. A crash loses at most the lines of
 * the last flush interval.
 */
#ifndef YC_GW_ACCESS_LOG_H
#define YC_GW_ACCESS_LOG_H
#include <h2o.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gw_access_log gw_access_log_t;

#define GW_ACCESS_LINE_MAX   (24 * 1024)   /* longest line, escapes included (field cuts below keep within it) */
#define GW_ACCESS_BUFFER     (1024 * 1024) /* bytes of lines held before a write; twice that at most */
#define GW_ACCESS_FLUSH_MS   200           /* longest a line waits for its write */
#define GW_ACCESS_WAIT_MS    20            /* longest a caller waits for room in a full buffer */
#define GW_ACCESS_KEY_MAX    2048          /* bytes of a key logged; longer ones are cut */
#define GW_ACCESS_BUCKET_MAX 256
#define GW_ACCESS_AGENT_MAX  512
#define GW_ACCESS_SHORT_MAX  256 /* access key, client address, request id */

/* One request as the log tells it. Strings are borrowed for the call; {NULL, 0} is null. */
typedef struct {
    int64_t time_ns; /* wall clock at the end of the request (yc_now_ns) */
    h2o_iovec_t request_id;
    h2o_iovec_t access_key; /* the authenticated caller's access key id; null when anonymous */
    h2o_iovec_t client;     /* "address:port", "[v6]:port" */
    const char *operation;  /* gw_op_name(op); NULL: null */
    h2o_iovec_t bucket, key;
    int status;
    const char *error_code; /* the S3 error code answered ("NoSuchKey"); NULL: none */
    uint64_t bytes_in, bytes_out;
    int64_t duration_ns;
    h2o_iovec_t user_agent;
} gw_access_entry_t;

/* Opens the log named by the access_log setting: "stderr", "off" (then *out is NULL and every
 * call below accepts that NULL and does nothing) or a file path, opened for appending (created
 * 0640), and starts its writer thread. 0 or -errno. */
int gw_access_log_open(const char *target, gw_access_log_t **out);
/* Writes what is buffered, stops the writer thread, closes the file. */
void gw_access_log_close(gw_access_log_t *log);

/* Logs one request: formats it and queues the line. Any thread; never waits for the disk. */
void gw_access_log_write(gw_access_log_t *log, const gw_access_entry_t *e);
/* Asks the writer to reopen the file before its next write (after a log rotation: SIGHUP, from
 * the thread that handles signals, not from a signal handler). */
void gw_access_log_reopen(gw_access_log_t *log);
/* Lines dropped because the destination could not keep up, or a write failed, since open. */
uint64_t gw_access_log_dropped(gw_access_log_t *log);

/* Formats e as one line, '\n' included, into buf (cap >= GW_ACCESS_LINE_MAX always suffices);
 * returns its length, 0 when cap is too small. */
size_t gw_access_log_format(const gw_access_entry_t *e, char *buf, size_t cap);
/* Writes v (at most max bytes of it) as a JSON string, escaped as a line's fields are, into buf;
 * returns its length, 0 when cap is too small (6 * max + 2 always suffices). */
size_t gw_access_log_json(h2o_iovec_t v, size_t max, char *buf, size_t cap);

#endif
