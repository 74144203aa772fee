/* gw_admin_json.c — the admin API's JSON answers (gw_admin_internal.h). A file of its own, so that
 * the admin calls of gw_admin.c, gw_admin_ops.c, gw_roles.c and gw_kms.c share it without
 * depending on each other. */
#include "gateway/gw_admin_internal.h"
#include <stdlib.h>
#include <string.h>

void gw_admin_respond_json(gw_ctx_t *ctx, json_t *doc)
{
    char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (text == NULL) {
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        return;
    }
    ctx->resp_body = h2o_strdup(&ctx->req->pool, text, strlen(text));
    ctx->content_type = "application/json";
    free(text);
}
