/* cli.c — sizes and help lines of command lines (see cli.h). */
#include "common/cli.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define USAGE_COLUMNS 100

int yc_parse_size(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t mult = 1;
    char *end;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end == 'K' || *end == 'k')
        mult = 1ULL << 10, end++;
    else if (*end == 'M' || *end == 'm')
        mult = 1ULL << 20, end++;
    else if (*end == 'G' || *end == 'g')
        mult = 1ULL << 30, end++;
    if (errno != 0 || *end != '\0' || v > max / mult)
        return -1;
    *out = v * mult;
    return 0;
}

void yc_usage_line(FILE *out, int left_width, const char *left, const char *text, const char *tail)
{
    size_t width = USAGE_COLUMNS - 2 - (size_t)left_width, col = 0;
    char buf[512];

    snprintf(buf, sizeof(buf), "%s", text);
    fprintf(out, "  %-*s", left_width, left);
    for (char *save, *w = strtok_r(buf, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
        if (col > 0 && col + 1 + strlen(w) > width) {
            fprintf(out, "\n  %-*s", left_width, "");
            col = 0;
        }
        fprintf(out, " %s", w);
        col += 1 + strlen(w);
    }
    if (tail != NULL) {
        if (col > 0 && col + 1 + strlen(tail) > width)
            fprintf(out, "\n  %-*s", left_width, "");
        fprintf(out, " %s", tail);
    }
    fputc('\n', out);
}
