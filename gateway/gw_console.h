/* gw_console.h — the web console: static files built into the binary (gateway/console/, embedded
 * at build time by gateway/console/embed.py), served without authentication under /_console/ on
 * the S3 port.
 *
 * The path cannot name a bucket ('_' is not allowed in bucket names) and is taken only in path
 * style (a virtual-host request's path is a key of its bucket). The files hold no secret: the
 * console signs every S3, IAM and admin call itself in the browser (SigV4), so serving them opens
 * nothing; each answer carries a strict Content-Security-Policy, X-Frame-Options and an ETag. */
#ifndef YC_GW_CONSOLE_H
#define YC_GW_CONSOLE_H
#include "gateway/gw_request.h"

#define GW_CONSOLE_PREFIX "/_console"

/* One file of the console; the table and its bytes are static (built into the binary). */
typedef struct {
    const char *name;         /* the file's name under /_console/, e.g. "app.js" */
    const char *content_type; /* from its extension */
    const char *etag;         /* quoted: a digest of its bytes */
    const unsigned char *data;
    size_t len;
} gw_console_file_t;

/* 1 when path (without its query) is the console's: "/_console" or "/_console/...". */
int gw_console_is_path(h2o_iovec_t path);

/* What a GET of a console path answers: 200 with *out the file ("/_console/" is index.html),
 * 304 with *out when if_none_match (the header's value, or base NULL when absent) names its ETag,
 * 301 for "/_console" (the files name each other relatively), 404 for any other name. */
int gw_console_resolve(h2o_iovec_t path, h2o_iovec_t if_none_match, const gw_console_file_t **out);

/* Answers a console request on the loop (nothing blocks: the files are in memory) after
 * gw_console_resolve, with the console's headers; 405 MethodNotAllowed for other methods than
 * GET and HEAD, 404 NoSuchKey for a file that is not there. */
void gw_console_serve(gw_ctx_t *ctx, h2o_iovec_t path);

#endif
