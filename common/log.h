/* log.h — the one logger: a level, then key=value fields, one line per event, to stderr.
 * Never pass a secret to it. The request id goes on every line about a request.
 *
 * Values that come from clients (bucket names, keys, access key ids) go through yc_log_value
 * first, so that no byte of theirs can end a line or forge a field: such a value is written bare
 * when it is made of plain characters only, else in double quotes with '"', '\' and control
 * characters escaped (\" \\ \n \r \t \u00XX) and bytes that are not UTF-8 as \xHH.
 *
 * Part of common/ (libcommon.a, prefix yc_): small helpers every library may use and that use
 * none of them. It has one public header per concern (log, pool, listen, server, clock, id,
 * bytes, errors, cli) rather than one for the folder, because its parts are independent.
 */
#ifndef YC_COMMON_LOG_H
#define YC_COMMON_LOG_H
#include <stddef.h>

enum { YC_LOG_ERROR = 0, YC_LOG_WARN = 1, YC_LOG_INFO = 2, YC_LOG_DEBUG = 3 };

/* Longest line written; longer ones are cut. Room for a 1024-byte key escaped 4 bytes a byte. */
#define YC_LOG_LINE_MAX 8192

/* Set once at start-up (the only mutable global besides the config). */
extern int yc_log_level;

/* yc_log(YC_LOG_WARN, "event=shard_read_failed drive=%s err=%d", path, err); */
void yc_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes value[0..len) as one field value into out (cap bytes, NUL-terminated): "-" when value
 * is NULL, bare when every byte is a letter, a digit or one of -._~/:@+, (and the value is not
 * "-"), else quoted and escaped. An escaped form longer than cap is cut and ends in `..."`.
 * Returns the length written. cap must be at least 8. */
size_t yc_log_value(char *out, size_t cap, const char *value, size_t len);

#endif
