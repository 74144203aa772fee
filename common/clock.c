/* clock.c — wall and monotonic nanoseconds (see clock.h). */
#include "common/clock.h"

static int64_t read_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t yc_now_ns(void)
{
    return read_ns(CLOCK_REALTIME);
}

int64_t yc_mono_ns(void)
{
    return read_ns(CLOCK_MONOTONIC);
}

void yc_deadline(clockid_t clock, int64_t ns, struct timespec *out)
{
    int64_t at = read_ns(clock) + ns;
    out->tv_sec = (time_t)(at / 1000000000);
    out->tv_nsec = (long)(at % 1000000000);
}
