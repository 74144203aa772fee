/* log.c — timestamped key=value lines; a single write(2) per line so threads never interleave. */
#include "common/log.h"
#include "common/utf8.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int yc_log_level = YC_LOG_INFO;

void yc_log(int level, const char *fmt, ...)
{
    static const char *names[] = {"error", "warn", "info", "debug"};
    char line[YC_LOG_LINE_MAX];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    int n;

    if (level > yc_log_level)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = snprintf(line, sizeof(line), "time=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, names[level]);
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(line) - 2)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    (void)!write(2, line, (size_t)n);
}

static int is_plain(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("-._~/:@+,", c) != NULL); /* strchr finds the terminating NUL too */
}

size_t yc_log_value(char *out, size_t cap, const char *value, size_t len)
{
    const unsigned char *v = (const unsigned char *)value;
    size_t n = 0, i;

    if (value == NULL)
        return (size_t)snprintf(out, cap, "-");
    for (i = 0; i < len && is_plain(v[i]); i++)
        ;
    if (len > 0 && i == len && !(len == 1 && v[0] == '-') && len < cap) {
        memcpy(out, value, len);
        out[len] = '\0';
        return len;
    }
    out[n++] = '"';
    for (i = 0; i < len;) {
        char esc[8];
        size_t elen, seq = 0;
        if (v[i] == '"' || v[i] == '\\')
            elen = (size_t)snprintf(esc, sizeof(esc), "\\%c", v[i]);
        else if (v[i] == '\n')
            elen = (size_t)snprintf(esc, sizeof(esc), "\\n");
        else if (v[i] == '\r')
            elen = (size_t)snprintf(esc, sizeof(esc), "\\r");
        else if (v[i] == '\t')
            elen = (size_t)snprintf(esc, sizeof(esc), "\\t");
        else if (v[i] < 0x20 || v[i] == 0x7f)
            elen = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", v[i]);
        else if (v[i] < 0x80)
            esc[0] = (char)v[i], elen = 1;
        else if ((seq = yc_utf8_seq(v + i, len - i, NULL)) != 0)
            memcpy(esc, v + i, seq), elen = seq;
        else
            elen = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", v[i]);
        /* keep room for the closing quote, or for `..."` if this is not the last piece */
        if (n + elen + 1 + (i + (seq ? seq : 1) < len ? 3 : 0) >= cap) {
            memcpy(out + n, "...", 3);
            n += 3;
            break;
        }
        memcpy(out + n, esc, elen);
        n += elen;
        i += seq ? seq : 1;
    }
    out[n++] = '"';
    out[n] = '\0';
    return n;
}
