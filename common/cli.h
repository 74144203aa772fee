/* cli.h — what the settings and command lines of the binaries share: byte sizes written with a
 * K, M or G suffix, and help lines wrapped beside a column of option names.
 *
 * Part of common/ (libcommon.a, prefix yc_): small helpers every library may use and that use
 * none of them. It has one public header per concern (log, pool, listen, server, clock, id,
 * bytes, errors, cli) rather than one for the folder, because its parts are independent.
 */
#ifndef YC_COMMON_CLI_H
#define YC_COMMON_CLI_H
#include <stdint.h>
#include <stdio.h>

/* Parses a decimal size with an optional K, M or G suffix (either case; powers of 1024), at most
 * max: 0 with the bytes in *out, -1 for anything else (a sign, a space, another suffix, too large). */
int yc_parse_size(const char *s, uint64_t max, uint64_t *out);

/* Writes one help line to out: "  " left, padded to left_width, then text wrapped at 100 columns
 * under that column, then tail (may be NULL) kept whole on the last line. */
void yc_usage_line(FILE *out, int left_width, const char *left, const char *text, const char *tail);

#endif
