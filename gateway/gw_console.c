/* gw_console.c — serves the console's files (gw_console.h) from the table built into the binary. */
#include "gateway/gw_console.h"
#include "gateway/gw_console_internal.h"
#include <string.h>

/* Scripts and styles only from the console's own files (no inline script, no eval), calls only to
 * this origin, images only from the console or from blob: URLs it made of objects it previewed;
 * no frame may hold it, no form posts anywhere. */
#define CONSOLE_CSP                                                                                                    \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; "              \
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

int gw_console_is_path(h2o_iovec_t path)
{
    size_t n = sizeof(GW_CONSOLE_PREFIX) - 1;
    if (path.len < n || memcmp(path.base, GW_CONSOLE_PREFIX, n) != 0)
        return 0;
    return path.len == n || path.base[n] == '/';
}

static const gw_console_file_t *find_file(h2o_iovec_t name)
{
    if (name.len == 0)
        name = h2o_iovec_init(H2O_STRLIT("index.html"));
    for (size_t i = 0; i < gw_console_nfiles; i++)
        if (h2o_memis(name.base, name.len, gw_console_files[i].name, strlen(gw_console_files[i].name)))
            return &gw_console_files[i];
    return NULL;
}

/* If-None-Match names the ETag (a list, or the wildcard, as RFC 9110 allows). */
static int etag_matches(h2o_iovec_t header, const char *etag)
{
    size_t elen = strlen(etag);
    if (header.base == NULL)
        return 0;
    if (h2o_memis(header.base, header.len, H2O_STRLIT("*")))
        return 1;
    for (size_t i = 0; i + elen <= header.len; i++)
        if (memcmp(header.base + i, etag, elen) == 0)
            return 1;
    return 0;
}

void gw_console_serve(gw_ctx_t *ctx, h2o_iovec_t path)
{
    size_t n = sizeof(GW_CONSOLE_PREFIX) - 1;
    const gw_console_file_t *f;

    if (!h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("HEAD"))) {
        gw_add_header_str(ctx, "allow", "GET, HEAD");
        gw_fail(ctx, S3_ERR_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    if (path.len == n) { /* the files name each other relatively: the folder needs its slash */
        gw_add_header_str(ctx, "location", GW_CONSOLE_PREFIX "/");
        ctx->status = 301;
        gw_respond(ctx);
        return;
    }
    if ((f = find_file(h2o_iovec_init(path.base + n + 1, path.len - n - 1))) == NULL) {
        gw_fail(ctx, S3_ERR_NO_SUCH_KEY, "No such console file");
        return;
    }
    /* no-cache: the browser keeps the file but asks each time, so an upgraded gateway's console is
     * never mixed with an old one's files */
    gw_add_header_str(ctx, "cache-control", "no-cache");
    gw_add_header_str(ctx, "etag", f->etag);
    gw_add_header_str(ctx, "content-security-policy", CONSOLE_CSP);
    gw_add_header_str(ctx, "x-frame-options", "DENY");
    gw_add_header_str(ctx, "x-content-type-options", "nosniff");
    gw_add_header_str(ctx, "referrer-policy", "no-referrer");
    gw_add_header_str(ctx, "cross-origin-opener-policy", "same-origin");
    if (etag_matches(gw_header(ctx, "if-none-match"), f->etag)) {
        ctx->status = 304;
        gw_respond(ctx);
        return;
    }
    ctx->content_type = f->content_type;
    ctx->resp_body = h2o_iovec_init(f->data, f->len);
    gw_respond(ctx);
}
