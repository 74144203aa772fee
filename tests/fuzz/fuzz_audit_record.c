/* fuzz_audit_record.c — the audit trail's record parser on arbitrary bytes: the verifier reads
 * files that whoever tampered with them wrote, so no line may crash it or be read out of bounds.
 *
 * A line that parses must have its fields inside the line, a 64-digit hex PREV and HASH, a body
 * that starts with '{', and must be rebuilt byte for byte by the formatter from its fields (one
 * way to write a record, so one way to read it) whenever its hash is the SM3 of its content.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/gw_audit.h"

static int inside(h2o_iovec_t f, const char *line, size_t len)
{
    return f.base >= line && f.base + f.len <= line + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy the size of the input, so that reads past it are caught */
    char *line = malloc(size + 1);
    gw_audit_record_t r;

    memcpy(line, data, size);
    if (gw_audit_record_parse(line, size, &r) == 0) {
        if (!inside(r.type, line, size) || !inside(r.prev, line, size) || !inside(r.body, line, size) ||
            !inside(r.hash, line, size) || r.prev.len != 64 || r.hash.len != 64 || r.body.len == 0 ||
            r.body.base[0] != '{' || r.time_ns < 0)
            abort();
        char prev[65], type[17], hash[65];
        char *again = malloc(size + 2 + GW_AUDIT_LINE_MAX);
        memcpy(prev, r.prev.base, 64);
        prev[64] = '\0';
        memcpy(type, r.type.base, r.type.len);
        type[r.type.len] = '\0';
        size_t n = gw_audit_record_format(r.seq, r.time_ns, type, prev, r.body.base, r.body.len, again,
                                          size + 2 + GW_AUDIT_LINE_MAX, hash);
        /* the parser takes any hash; a line whose hash is right is the formatter's line exactly,
         * unless its numbers were written with leading zeros or its type holds a space */
        if (n > 0 && memcmp(hash, r.hash.base, 64) == 0 && memchr(type, ' ', strlen(type)) == NULL &&
            (n - 1 != size || memcmp(again, line, size) != 0) && line[0] != '0' && memmem(line, size, " 0", 2) == NULL)
            abort();
        free(again);
    }
    free(line);
    return 0;
}
