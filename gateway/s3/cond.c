/* cond.c — HTTP dates, ETag lists and conditional request evaluation (see cond.h for the rules).
 *
 * Dates are parsed field by field and every field is range-checked before timegm() is asked for
 * the epoch seconds, so that timegm's normalisation ("Feb 31" becoming "Mar 3") never turns a
 * bad date into a valid one. Results beyond what int64 nanoseconds hold saturate, which keeps
 * comparisons right: a date in year 9999 is still later than every object.
 */
#include <string.h>
#include <time.h>
#include "gateway/s3/cond.h"

static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const day_names[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const day_names_long[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                              "Thursday", "Friday", "Saturday"};

typedef struct {
    const char *p, *end;
} cursor_t;

static int expect(cursor_t *c, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
        return -1;
    c->p += n;
    return 0;
}

/* Exactly n digits. */
static int digits(cursor_t *c, int n, int *out)
{
    int v = 0;
    if (c->end - c->p < n)
        return -1;
    for (int i = 0; i < n; i++) {
        if (c->p[i] < '0' || c->p[i] > '9')
            return -1;
        v = v * 10 + (c->p[i] - '0');
    }
    c->p += n;
    *out = v;
    return 0;
}

static int month(cursor_t *c, int *out)
{
    for (int i = 0; i < 12; i++)
        if (expect(c, month_names[i]) == 0) {
            *out = i;
            return 0;
        }
    return -1;
}

/* "hh:mm:ss" */
static int clock_time(cursor_t *c, struct tm *tm)
{
    if (digits(c, 2, &tm->tm_hour) != 0 || expect(c, ":") != 0 || digits(c, 2, &tm->tm_min) != 0 ||
        expect(c, ":") != 0 || digits(c, 2, &tm->tm_sec) != 0)
        return -1;
    return 0;
}

static int is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int tm_valid(const struct tm *tm, int year)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int dim = mdays[tm->tm_mon] + (tm->tm_mon == 1 && is_leap(year));
    /* a leap second (60) is allowed by the grammar; timegm carries it into the next minute */
    return tm->tm_mday >= 1 && tm->tm_mday <= dim && tm->tm_hour <= 23 && tm->tm_min <= 59 && tm->tm_sec <= 60;
}

int s3_http_date_parse(h2o_iovec_t v, int64_t *out_ns)
{
    cursor_t c = {v.base, v.base + v.len};
    struct tm tm;
    int year = 0, i;

    if (v.base == NULL)
        goto fail;
    memset(&tm, 0, sizeof(tm));
    /* trim OWS around the value */
    while (c.p < c.end && (*c.p == ' ' || *c.p == '\t'))
        c.p++;
    while (c.end > c.p && (c.end[-1] == ' ' || c.end[-1] == '\t'))
        c.end--;

    for (i = 0; i < 7; i++)
        if (expect(&c, day_names_long[i]) == 0)
            break;
    if (i < 7) {
        /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years below 70 are 20xx */
        if (expect(&c, ", ") != 0 || digits(&c, 2, &tm.tm_mday) != 0 || expect(&c, "-") != 0 ||
            month(&c, &tm.tm_mon) != 0 || expect(&c, "-") != 0 || digits(&c, 2, &year) != 0 || expect(&c, " ") != 0 ||
            clock_time(&c, &tm) != 0 || expect(&c, " GMT") != 0)
            goto fail;
        year += year < 70 ? 2000 : 1900;
    } else {
        for (i = 0; i < 7; i++)
            if (expect(&c, day_names[i]) == 0)
                break;
        if (i == 7)
            goto fail;
        if (expect(&c, ", ") == 0) {
            /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
            if (digits(&c, 2, &tm.tm_mday) != 0 || expect(&c, " ") != 0 || month(&c, &tm.tm_mon) != 0 ||
                expect(&c, " ") != 0 || digits(&c, 4, &year) != 0 || expect(&c, " ") != 0 || clock_time(&c, &tm) != 0 ||
                expect(&c, " GMT") != 0)
                goto fail;
        } else {
            /* asctime: "Sun Nov  6 08:49:37 1994" (day space-padded; two digits also taken) */
            if (expect(&c, " ") != 0 || month(&c, &tm.tm_mon) != 0 || expect(&c, " ") != 0)
                goto fail;
            if (expect(&c, " ") == 0) {
                if (digits(&c, 1, &tm.tm_mday) != 0)
                    goto fail;
            } else if (digits(&c, 2, &tm.tm_mday) != 0) {
                goto fail;
            }
            if (expect(&c, " ") != 0 || clock_time(&c, &tm) != 0 || expect(&c, " ") != 0 || digits(&c, 4, &year) != 0)
                goto fail;
        }
    }
    if (c.p != c.end || !tm_valid(&tm, year))
        goto fail;
    tm.tm_year = year - 1900;
    int64_t sec = (int64_t)timegm(&tm);
    if (sec > INT64_MAX / 1000000000)
        *out_ns = INT64_MAX;
    else if (sec < INT64_MIN / 1000000000)
        *out_ns = INT64_MIN;
    else
        *out_ns = sec * 1000000000;
    return 0;

fail:
    return -S3_ERR_INVALID_ARGUMENT;
}

static int64_t floor_seconds(int64_t ns)
{
    int64_t s = ns / 1000000000;
    return ns % 1000000000 < 0 ? s - 1 : s;
}

size_t s3_http_date_format(int64_t ns, char *buf)
{
    time_t t = (time_t)floor_seconds(ns);
    struct tm tm;
    gmtime_r(&t, &tm);
    /* written by hand: strftime's names depend on the locale, HTTP's do not. int64 nanoseconds
     * span the years 1677..2262, so every field has its fixed width. */
    static const char digit[] = "0123456789";
    char *p = buf;
    memcpy(p, day_names[tm.tm_wday], 3);
    p += 3;
    *p++ = ',';
    *p++ = ' ';
    *p++ = digit[tm.tm_mday / 10];
    *p++ = digit[tm.tm_mday % 10];
    *p++ = ' ';
    memcpy(p, month_names[tm.tm_mon], 3);
    p += 3;
    *p++ = ' ';
    int year = tm.tm_year + 1900;
    *p++ = digit[year / 1000 % 10];
    *p++ = digit[year / 100 % 10];
    *p++ = digit[year / 10 % 10];
    *p++ = digit[year % 10];
    *p++ = ' ';
    *p++ = digit[tm.tm_hour / 10];
    *p++ = digit[tm.tm_hour % 10];
    *p++ = ':';
    *p++ = digit[tm.tm_min / 10];
    *p++ = digit[tm.tm_min % 10];
    *p++ = ':';
    *p++ = digit[tm.tm_sec / 10];
    *p++ = digit[tm.tm_sec % 10];
    memcpy(p, " GMT", 4);
    p += 4;
    *p = '\0';
    return (size_t)(p - buf);
}

static int is_ows(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* The stored ETag without its quotes. */
static h2o_iovec_t etag_opaque(h2o_iovec_t etag)
{
    if (etag.len >= 2 && etag.base[0] == '"' && etag.base[etag.len - 1] == '"')
        return h2o_iovec_init(etag.base + 1, etag.len - 2);
    return etag;
}

int s3_etag_list_match(h2o_iovec_t list, h2o_iovec_t etag, int weak)
{
    cursor_t c = {list.base, list.base + list.len};
    h2o_iovec_t want = etag_opaque(etag);

    if (list.base == NULL)
        return 0;
    for (;;) {
        while (c.p < c.end && (is_ows(*c.p) || *c.p == ','))
            c.p++;
        if (c.p == c.end)
            return 0;
        h2o_iovec_t tag;
        int is_weak = 0;
        if (*c.p == '*') {
            c.p++;
            tag = h2o_iovec_init(NULL, 0);
        } else {
            if (c.end - c.p >= 2 && c.p[0] == 'W' && c.p[1] == '/') {
                is_weak = 1;
                c.p += 2;
            }
            if (c.p < c.end && *c.p == '"') {
                const char *close = memchr(c.p + 1, '"', (size_t)(c.end - c.p - 1));
                if (close == NULL)
                    return 0;
                tag = h2o_iovec_init(c.p + 1, (size_t)(close - c.p - 1));
                c.p = close + 1;
            } else {
                /* S3 also takes a bare tag, as SDK users often pass the ETag without quotes */
                const char *start = c.p;
                while (c.p < c.end && *c.p != ',' && !is_ows(*c.p) && *c.p != '"')
                    c.p++;
                if (c.p == start)
                    return 0;
                tag = h2o_iovec_init(start, (size_t)(c.p - start));
            }
        }
        while (c.p < c.end && is_ows(*c.p))
            c.p++;
        if (c.p < c.end && *c.p != ',')
            return 0; /* garbage after a tag: the list does not parse */
        if (tag.base == NULL)
            return 1; /* "*": any current object */
        if ((!is_weak || weak) && h2o_memis(tag.base, tag.len, want.base, want.len))
            return 1;
    }
}

/* Evaluates the four conditions; not_modified is what a "not modified" outcome answers. */
static int cond_check(const s3_cond_t *c, h2o_iovec_t etag, int64_t mtime_ns, int not_modified)
{
    int64_t mtime = floor_seconds(mtime_ns), date_ns;

    if (c->if_match.base != NULL) {
        if (!s3_etag_list_match(c->if_match, etag, 0))
            return -S3_ERR_PRECONDITION_FAILED;
    } else if (c->if_unmodified_since.base != NULL && s3_http_date_parse(c->if_unmodified_since, &date_ns) == 0) {
        if (mtime > floor_seconds(date_ns))
            return -S3_ERR_PRECONDITION_FAILED;
    }
    if (c->if_none_match.base != NULL) {
        if (s3_etag_list_match(c->if_none_match, etag, 1))
            return -not_modified;
    } else if (c->if_modified_since.base != NULL && s3_http_date_parse(c->if_modified_since, &date_ns) == 0) {
        if (mtime <= floor_seconds(date_ns))
            return -not_modified;
    }
    return 0;
}

int s3_cond_check_read(const s3_cond_t *c, h2o_iovec_t etag, int64_t mtime_ns)
{
    return cond_check(c, etag, mtime_ns, S3_ERR_NOT_MODIFIED);
}

int s3_cond_check_copy_source(const s3_cond_t *c, h2o_iovec_t etag, int64_t mtime_ns)
{
    return cond_check(c, etag, mtime_ns, S3_ERR_PRECONDITION_FAILED);
}

int s3_cond_check_write(h2o_iovec_t if_match, h2o_iovec_t if_none_match, int exists, h2o_iovec_t etag)
{
    if (if_match.base != NULL) {
        if (!exists)
            return -S3_ERR_NO_SUCH_KEY;
        if (!s3_etag_list_match(if_match, etag, 0))
            return -S3_ERR_PRECONDITION_FAILED;
    }
    if (if_none_match.base != NULL) {
        cursor_t c = {if_none_match.base, if_none_match.base + if_none_match.len};
        while (c.p < c.end && is_ows(*c.p))
            c.p++;
        while (c.end > c.p && is_ows(c.end[-1]))
            c.end--;
        /* S3 implements only the "*" form of If-None-Match on writes */
        if (c.end - c.p != 1 || *c.p != '*')
            return -S3_ERR_NOT_IMPLEMENTED;
        if (exists)
            return -S3_ERR_PRECONDITION_FAILED;
    }
    return 0;
}
