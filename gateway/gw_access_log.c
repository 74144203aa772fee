/* gw_access_log.c — JSON access-log lines and their writer thread (design in gw_access_log.h).
 *
 * Two buffers: callers append to the active one under the mutex; the writer swaps it with the
 * idle one and writes the full one outside the mutex, so a caller waits at most for a memcpy
 * and a slow disk only fills the active buffer (then lines are dropped, counted).
 */
#include "gateway/gw_access_log.h"
#include "common/clock.h"
#include "common/utf8.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct gw_access_log {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* the writer: a buffer half full, a reopen, or the close */
    pthread_cond_t room; /* callers waiting for room: the writer swapped the buffers */
    char *path;          /* NULL: stderr */
    int fd;
    char *active, *idle; /* GW_ACCESS_BUFFER bytes each */
    size_t active_len;
    int stopping, reopen;
    atomic_uint_fast64_t dropped;
    pthread_t writer;
};

/* ---------------------------------------------------------------- formatting */

typedef struct {
    char *p;
    size_t len, cap;
    int full;
} line_t;

static void put(line_t *l, const char *s, size_t n)
{
    if (l->full || l->len + n > l->cap) {
        l->full = 1;
        return;
    }
    memcpy(l->p + l->len, s, n);
    l->len += n;
}

static void put_str(line_t *l, const char *s)
{
    put(l, s, strlen(s));
}

/* A JSON string of v (at most max bytes of it), or null when v.base is NULL. */
static void put_json(line_t *l, h2o_iovec_t v, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)v.base;
    size_t n = v.len < max ? v.len : max;

    if (v.base == NULL) {
        put_str(l, "null");
        return;
    }
    put_str(l, "\"");
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t run = 0;
        /* plain ASCII in one copy */
        while (i + run < n && p[i + run] >= 0x20 && p[i + run] < 0x7F && p[i + run] != '"' && p[i + run] != '\\')
            run++;
        if (run > 0) {
            put(l, (const char *)p + i, run);
            i += run;
            continue;
        }
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            put(l, esc, 2);
            i++;
        } else if (c < 0x20 || c == 0x7F) {
            const char *named = c == '\n'   ? "\\n"
                                : c == '\r' ? "\\r"
                                : c == '\t' ? "\\t"
                                : c == '\b' ? "\\b"
                                : c == '\f' ? "\\f"
                                            : NULL;
            if (named != NULL) {
                put_str(l, named);
            } else {
                char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                put(l, esc, 6);
            }
            i++;
        } else {
            size_t len = yc_utf8_seq(p + i, n - i, NULL);
            if (len == 0) {
                put_str(l, "\\ufffd");
                i++;
            } else {
                put(l, (const char *)p + i, len);
                i += len;
            }
        }
    }
    put_str(l, "\"");
}

static h2o_iovec_t iov_str(const char *s)
{
    return h2o_iovec_init(s, s != NULL ? strlen(s) : 0);
}

/* v in decimal, zero-padded to width digits. Numbers are written by hand: a line is formatted
 * per request, and snprintf's three calls cost more than the rest of the line. */
static void put_uint(line_t *l, uint64_t v, int width)
{
    char digits[24];
    int n = 0;

    do {
        digits[sizeof(digits) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 && n < (int)sizeof(digits));
    while (n < width && n < (int)sizeof(digits))
        digits[sizeof(digits) - 1 - n++] = '0';
    put(l, digits + sizeof(digits) - n, (size_t)n);
}

static void put_int(line_t *l, int64_t v, int width)
{
    if (v < 0) {
        put(l, "-", 1);
        put_uint(l, v == INT64_MIN ? (uint64_t)INT64_MAX + 1 : (uint64_t)-v, width);
    } else {
        put_uint(l, (uint64_t)v, width);
    }
}

size_t gw_access_log_format(const gw_access_entry_t *e, char *buf, size_t cap)
{
    line_t l = {buf, 0, cap, 0};
    struct tm tm;
    time_t secs = (time_t)(e->time_ns / 1000000000);
    int64_t dur = e->duration_ns < 0 ? 0 : e->duration_ns;

    gmtime_r(&secs, &tm);
    put_str(&l, "{\"time\":\"");
    put_int(&l, (int64_t)tm.tm_year + 1900, 4);
    put(&l, "-", 1);
    put_int(&l, tm.tm_mon + 1, 2);
    put(&l, "-", 1);
    put_int(&l, tm.tm_mday, 2);
    put(&l, "T", 1);
    put_int(&l, tm.tm_hour, 2);
    put(&l, ":", 1);
    put_int(&l, tm.tm_min, 2);
    put(&l, ":", 1);
    put_int(&l, tm.tm_sec, 2);
    put(&l, ".", 1);
    put_int(&l, e->time_ns % 1000000000 / 1000000, 3);
    put_str(&l, "Z\"");
    put_str(&l, ",\"request_id\":");
    put_json(&l, e->request_id, GW_ACCESS_SHORT_MAX);
    put_str(&l, ",\"access_key\":");
    put_json(&l, e->access_key, GW_ACCESS_SHORT_MAX);
    put_str(&l, ",\"client\":");
    put_json(&l, e->client, GW_ACCESS_SHORT_MAX);
    put_str(&l, ",\"operation\":");
    put_json(&l, iov_str(e->operation), 64);
    put_str(&l, ",\"bucket\":");
    put_json(&l, e->bucket, GW_ACCESS_BUCKET_MAX);
    put_str(&l, ",\"key\":");
    put_json(&l, e->key, GW_ACCESS_KEY_MAX);
    put_str(&l, ",\"status\":");
    put_int(&l, e->status, 0);
    put_str(&l, ",\"error\":");
    put_json(&l, iov_str(e->error_code), 64);
    put_str(&l, ",\"bytes_in\":");
    put_uint(&l, e->bytes_in, 0);
    put_str(&l, ",\"bytes_out\":");
    put_uint(&l, e->bytes_out, 0);
    put_str(&l, ",\"duration_ms\":");
    put_int(&l, dur / 1000000, 0);
    put(&l, ".", 1);
    put_int(&l, dur % 1000000, 6);
    put_str(&l, ",\"user_agent\":");
    put_json(&l, e->user_agent, GW_ACCESS_AGENT_MAX);
    put_str(&l, "}\n");
    return l.full ? 0 : l.len;
}

size_t gw_access_log_json(h2o_iovec_t v, size_t max, char *buf, size_t cap)
{
    line_t l = {buf, 0, cap, 0};
    put_json(&l, v, max);
    return l.full ? 0 : l.len;
}

/* ---------------------------------------------------------------- the writer */

static int open_target(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    return fd < 0 ? -errno : fd;
}

/* Writes all of buf; 0 or -errno. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes whole lines of buf in pieces of at most piece bytes where a line allows it: stderr is
 * shared with the logger, and a pipe writes at most PIPE_BUF bytes at once without interleaving
 * another writer's. 0 or -errno. */
static int write_lines(int fd, const char *buf, size_t len, size_t piece)
{
    while (len > 0) {
        size_t n = 0;
        for (;;) {
            const char *nl = memchr(buf + n, '\n', len - n);
            size_t end = nl != NULL ? (size_t)(nl - buf) + 1 : len;
            if (n > 0 && end > piece)
                break;
            n = end;
            if (n >= piece || n == len)
                break;
        }
        int ret = write_all(fd, buf, n);
        if (ret != 0)
            return ret;
        buf += n;
        len -= n;
    }
    return 0;
}

static size_t count_lines(const char *buf, size_t len)
{
    size_t n = 0;
    for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + len - p))) != NULL; p++)
        n++;
    return n;
}

static void *writer_main(void *arg)
{
    gw_access_log_t *log = arg;
    struct timespec deadline;

    pthread_mutex_lock(&log->lock);
    for (;;) {
        if (log->active_len < GW_ACCESS_BUFFER / 2 && !log->stopping && !log->reopen) {
            yc_deadline(CLOCK_MONOTONIC, (int64_t)GW_ACCESS_FLUSH_MS * 1000000, &deadline);
            pthread_cond_timedwait(&log->wake, &log->lock, &deadline);
        }
        int reopen = log->reopen, stopping = log->stopping;
        char *full = log->active;
        size_t len = log->active_len;
        log->reopen = 0;
        log->active = log->idle;
        log->idle = full;
        log->active_len = 0;
        pthread_cond_broadcast(&log->room);
        pthread_mutex_unlock(&log->lock);

        /* outside the lock: callers keep appending to the other buffer meanwhile */
        if (reopen && log->path != NULL) {
            int fd = open_target(log->path);
            if (fd >= 0) {
                close(log->fd);
                log->fd = fd;
            }
        }
        if (len > 0 && write_lines(log->fd, full, len, log->path != NULL ? GW_ACCESS_BUFFER : PIPE_BUF) != 0)
            atomic_fetch_add(&log->dropped, count_lines(full, len));

        pthread_mutex_lock(&log->lock);
        if (stopping && log->active_len == 0)
            break;
    }
    pthread_mutex_unlock(&log->lock);
    return NULL;
}

int gw_access_log_open(const char *target, gw_access_log_t **out)
{
    gw_access_log_t *log;
    pthread_condattr_t attr;
    int ret;

    *out = NULL;
    if (target == NULL || strcmp(target, "off") == 0)
        return 0;
    if ((log = calloc(1, sizeof(*log))) == NULL)
        return -ENOMEM;
    log->fd = -1;
    log->active = malloc(GW_ACCESS_BUFFER);
    log->idle = malloc(GW_ACCESS_BUFFER);
    if (log->active == NULL || log->idle == NULL) {
        ret = -ENOMEM;
        goto fail_alloc;
    }
    if (strcmp(target, "stderr") == 0) {
        log->fd = STDERR_FILENO;
    } else {
        if ((log->path = strdup(target)) == NULL) {
            ret = -ENOMEM;
            goto fail_alloc;
        }
        if ((log->fd = open_target(target)) < 0) {
            ret = log->fd;
            goto fail_alloc;
        }
    }
    pthread_mutex_init(&log->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&log->wake, &attr);
    pthread_cond_init(&log->room, &attr);
    pthread_condattr_destroy(&attr);
    if ((ret = -pthread_create(&log->writer, NULL, writer_main, log)) != 0) {
        pthread_cond_destroy(&log->wake);
        pthread_cond_destroy(&log->room);
        pthread_mutex_destroy(&log->lock);
        goto fail_alloc;
    }
    *out = log;
    return 0;

fail_alloc:
    if (log->path != NULL && log->fd >= 0)
        close(log->fd);
    free(log->path);
    free(log->active);
    free(log->idle);
    free(log);
    return ret;
}

void gw_access_log_close(gw_access_log_t *log)
{
    if (log == NULL)
        return;
    pthread_mutex_lock(&log->lock);
    log->stopping = 1;
    pthread_cond_signal(&log->wake);
    pthread_mutex_unlock(&log->lock);
    pthread_join(log->writer, NULL);
    if (log->path != NULL)
        close(log->fd);
    pthread_cond_destroy(&log->wake);
    pthread_cond_destroy(&log->room);
    pthread_mutex_destroy(&log->lock);
    free(log->path);
    free(log->active);
    free(log->idle);
    free(log);
}

void gw_access_log_write(gw_access_log_t *log, const gw_access_entry_t *e)
{
    char line[GW_ACCESS_LINE_MAX];
    size_t len;

    if (log == NULL)
        return;
    if ((len = gw_access_log_format(e, line, sizeof(line))) == 0) {
        atomic_fetch_add(&log->dropped, 1); /* never: the field cuts keep a line within the bound */
        return;
    }
    pthread_mutex_lock(&log->lock);
    if (log->active_len + len > GW_ACCESS_BUFFER) {
        /* a burst faster than the writer: wait for its next swap, a bounded time, then drop */
        struct timespec deadline;
        yc_deadline(CLOCK_MONOTONIC, (int64_t)GW_ACCESS_WAIT_MS * 1000000, &deadline);
        pthread_cond_signal(&log->wake);
        while (log->active_len + len > GW_ACCESS_BUFFER && !log->stopping &&
               pthread_cond_timedwait(&log->room, &log->lock, &deadline) == 0)
            ;
    }
    if (log->active_len + len > GW_ACCESS_BUFFER) {
        atomic_fetch_add(&log->dropped, 1);
    } else {
        memcpy(log->active + log->active_len, line, len);
        log->active_len += len;
        if (log->active_len >= GW_ACCESS_BUFFER / 2)
            pthread_cond_signal(&log->wake);
    }
    pthread_mutex_unlock(&log->lock);
}

void gw_access_log_reopen(gw_access_log_t *log)
{
    if (log == NULL)
        return;
    pthread_mutex_lock(&log->lock);
    log->reopen = 1;
    pthread_cond_signal(&log->wake);
    pthread_mutex_unlock(&log->lock);
}

uint64_t gw_access_log_dropped(gw_access_log_t *log)
{
    return log != NULL ? atomic_load(&log->dropped) : 0;
}
