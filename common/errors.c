/* errors.c — names and texts of the error space (see errors.h).
 *
 * The listed codes come from the one list in errors.h. -errno values are named after the C
 * library (strerrorname_np, strerrordesc_np); their "NAME: text" strings are built once, on first
 * use, into a table that then only is read, so that every answer lives forever without a lock.
 */
#include "common/errors.h"
#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    int code;
    const char *name;
    const char *full; /* "NAME: text" */
} entry_t;

#define YC_ERROR_ENTRY_(name, value, text) {name, #name, #name ": " text},
static const entry_t entries[] = {YC_ERRORS(YC_ERROR_ENTRY_)};
#undef YC_ERROR_ENTRY_

#define NENTRIES    (sizeof(entries) / sizeof(entries[0]))
#define ERRNO_SLOTS 256 /* Linux's errno values end well below */
#define ERRNO_FULL  96

static pthread_once_t errno_once = PTHREAD_ONCE_INIT;
static char errno_full[ERRNO_SLOTS][ERRNO_FULL];

static void errno_build(void)
{
    for (int e = 1; e < ERRNO_SLOTS; e++) {
        const char *name = strerrorname_np(e), *desc = strerrordesc_np(e);
        if (name != NULL)
            snprintf(errno_full[e], ERRNO_FULL, "%s: %s", name, desc != NULL ? desc : "");
    }
}

static const entry_t *find(int code)
{
    for (size_t i = 0; i < NENTRIES; i++)
        if (entries[i].code == code)
            return &entries[i];
    return NULL;
}

const char *yc_strerror(int code)
{
    const entry_t *e;

    if (code == 0)
        return "OK: success";
    if (code < 0 && code >= YC_ERRNO_MIN) {
        if (-code < ERRNO_SLOTS) {
            pthread_once(&errno_once, errno_build);
            if (errno_full[-code][0] != '\0')
                return errno_full[-code];
        }
        return "UNKNOWN: not an error code";
    }
    return (e = find(code)) != NULL ? e->full : "UNKNOWN: not an error code";
}

const char *yc_errname(int code)
{
    const entry_t *e;

    if (code == 0)
        return "OK";
    if (code < 0 && code >= YC_ERRNO_MIN) {
        const char *name = strerrorname_np(-code);
        return name != NULL ? name : "UNKNOWN";
    }
    return (e = find(code)) != NULL ? e->name : "UNKNOWN";
}

int yc_error_at(unsigned i, int *code)
{
    if (i >= NENTRIES)
        return 0;
    *code = entries[i].code;
    return 1;
}
