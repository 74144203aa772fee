/* gw_console.c — serves the console's files (gw_console.h) from the table built into the binary. */
#include "gateway/gw_console.h"
#include <string.h>

/* Scripts and styles only from the console's own files (no inline script, no eval), calls only to
 * this origin, images only from the console or from blob: URLs it made of objects it previewed;
 * no frame may hold it, no form posts anywhere. */
#define CONSOLE_CSP                                                                                                    \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; "              \
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

void gw_console_serve(gw_ctx_t *ctx, h2o_iovec_t path)
{
    const gw_console_file_t *f;

    if (!h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("GET")) &&
        !h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("HEAD"))) {
        gw_add_header_str(ctx, "allow", "GET, HEAD");
        gw_fail(ctx, S3_ERR_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    int status = gw_console_resolve(path, gw_header(ctx, "if-none-match"), &f);
    if (status == 301) {
        gw_add_header_str(ctx, "location", GW_CONSOLE_PREFIX "/");
        ctx->status = 301;
        gw_respond(ctx);
        return;
    }
    if (f == NULL) {
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
    gw_add_header_str(ctx, "cross-origin-resource-policy", "same-origin");
    ctx->status = status;
    if (status == 200) {
        ctx->content_type = f->content_type;
        ctx->resp_body = h2o_iovec_init(f->data, f->len);
    }
    gw_respond(ctx);
}
