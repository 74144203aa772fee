/* gw_console.h — the web console: static files built into the binary (gateway/console/, embedded
 * at build time), served without authentication under /_console/ on the S3 port.
 *
 * The path cannot name a bucket ('_' is not allowed in bucket names) and is taken only in path
 * style (a virtual-host request's path is a key of its bucket). The files hold no secret: the
 * console signs every S3 and admin call itself in the browser (SigV4), so serving them opens
 * nothing; each answer carries a strict Content-Security-Policy, X-Frame-Options and an ETag. */
#ifndef YC_GW_CONSOLE_H
#define YC_GW_CONSOLE_H
#include "gateway/gw_request.h"

#define GW_CONSOLE_PREFIX "/_console"

/* 1 when path (without its query) is the console's: "/_console" or "/_console/...". */
int gw_console_is_path(h2o_iovec_t path);

/* Answers a console request on the loop (nothing blocks: the files are in memory): GET or HEAD
 * of a file, 304 when If-None-Match names its ETag, a redirect from "/_console" to "/_console/",
 * 404 NoSuchKey for a file that is not there, 405 MethodNotAllowed for other methods. */
void gw_console_serve(gw_ctx_t *ctx, h2o_iovec_t path);

#endif
