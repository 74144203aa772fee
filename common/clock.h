/* clock.h — the two clocks: wall time for what is stored or compared across machines (record
 * times, leases, request dates) and monotonic time for intervals measured in one process
 * (timeouts, idle times, rate limits), which never jumps when the wall clock is set.
 *
 * Part of common/ (libcommon.a, prefix yc_): small helpers every library may use and that use
 * none of them. It has one public header per concern (log, pool, listen, server, clock, id,
 * bytes, errors, cli) rather than one for the folder, because its parts are independent.
 */
#ifndef YC_COMMON_CLOCK_H
#define YC_COMMON_CLOCK_H
#include <stdint.h>
#include <time.h>

/* Wall-clock nanoseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t yc_now_ns(void);
/* Monotonic nanoseconds from an arbitrary start (CLOCK_MONOTONIC): only differences mean something. */
int64_t yc_mono_ns(void);
/* The time ns from now on clock (CLOCK_REALTIME, or CLOCK_MONOTONIC for a condition variable set
 * to it), in the form a timed wait takes (pthread_cond_timedwait, pthread_rwlock_timedwrlock). */
void yc_deadline(clockid_t clock, int64_t ns, struct timespec *out);

#endif
