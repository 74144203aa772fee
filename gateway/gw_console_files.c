/* gw_console_files.c — which console file a path names, and whether the client's copy is fresh
 * (gw_console.h). Pure: the fuzz target and the unit test call it without a server. */
#include "gateway/gw_console_internal.h"
#include <string.h>

int gw_console_is_path(h2o_iovec_t path)
{
    size_t n = sizeof(GW_CONSOLE_PREFIX) - 1;
    if (path.len < n || memcmp(path.base, GW_CONSOLE_PREFIX, n) != 0)
        return 0;
    return path.len == n || path.base[n] == '/';
}

/* If-None-Match names the ETag: one of a comma-separated list (weak or strong: RFC 9110 compares
 * them weakly for GET), or the wildcard. */
static int etag_listed(h2o_iovec_t header, const char *etag)
{
    size_t elen = strlen(etag), i = 0;

    while (i < header.len) {
        while (i < header.len && (header.base[i] == ' ' || header.base[i] == '\t' || header.base[i] == ','))
            i++;
        size_t start = i;
        while (i < header.len && header.base[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (header.base[end - 1] == ' ' || header.base[end - 1] == '\t'))
            end--;
        if (end - start >= 2 && memcmp(header.base + start, "W/", 2) == 0)
            start += 2;
        if ((end - start == 1 && header.base[start] == '*') ||
            (end - start == elen && memcmp(header.base + start, etag, elen) == 0))
            return 1;
    }
    return 0;
}

int gw_console_resolve(h2o_iovec_t path, h2o_iovec_t if_none_match, const gw_console_file_t **out)
{
    size_t n = sizeof(GW_CONSOLE_PREFIX) - 1;

    *out = NULL;
    if (!gw_console_is_path(path))
        return 404;
    if (path.len == n)
        return 301;
    h2o_iovec_t name = h2o_iovec_init(path.base + n + 1, path.len - n - 1);
    if (name.len == 0)
        name = h2o_iovec_init(H2O_STRLIT("index.html"));
    for (size_t i = 0; i < gw_console_nfiles; i++) {
        const gw_console_file_t *f = &gw_console_files[i];
        if (!h2o_memis(name.base, name.len, f->name, strlen(f->name)))
            continue;
        *out = f;
        return if_none_match.base != NULL && etag_listed(if_none_match, f->etag) ? 304 : 200;
    }
    return 404;
}
