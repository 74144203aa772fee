/* gw_log.h — the one logger: a level, then key=value fields, one line per event, to stderr.
 * Never pass a secret to it. The request id goes on every line about a request. */
#ifndef YC_GW_LOG_H
#define YC_GW_LOG_H

enum { GW_LOG_ERROR = 0, GW_LOG_WARN = 1, GW_LOG_INFO = 2, GW_LOG_DEBUG = 3 };

/* Set once at start-up (the only mutable global besides the config). */
extern int gw_log_level;

/* gw_log(GW_LOG_WARN, "event=shard_read_failed drive=%s err=%d", path, err); */
void gw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
