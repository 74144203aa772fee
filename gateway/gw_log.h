/* gw_log.h — the one logger: a level, then key=value fields, one line per event, to stderr.
 * Never pass a secret to it. The request id goes on every line about a request.
 *
 * Values that come from clients (bucket names, keys, access key ids) go through gw_log_value
 * first, so that no byte of theirs can end a line or forge a field: such a value is written bare
 * when it is made of plain characters only, else in double quotes with '"', '\' and control
 * characters escaped (\" \\ \n \r \t \u00XX) and bytes that are not UTF-8 as \xHH.
 */
#ifndef YC_GW_LOG_H
#define YC_GW_LOG_H
#include <stddef.h>

enum { GW_LOG_ERROR = 0, GW_LOG_WARN = 1, GW_LOG_INFO = 2, GW_LOG_DEBUG = 3 };

/* Longest line written; longer ones are cut. Room for a 1024-byte key escaped 4 bytes a byte. */
#define GW_LOG_LINE_MAX 8192

/* Set once at start-up (the only mutable global besides the config). */
extern int gw_log_level;

/* gw_log(GW_LOG_WARN, "event=shard_read_failed drive=%s err=%d", path, err); */
void gw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes value[0..len) as one field value into out (cap bytes, NUL-terminated): "-" when value
 * is NULL, bare when every byte is a letter, a digit or one of -._~/:@+, (and the value is not
 * "-"), else quoted and escaped. An escaped form longer than cap is cut and ends in `..."`.
 * Returns the length written. cap must be at least 8. */
size_t gw_log_value(char *out, size_t cap, const char *value, size_t len);

#endif
