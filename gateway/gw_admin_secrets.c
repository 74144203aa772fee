/* gw_admin_secrets.c — the admin calls of the secrets key that seals access keys' secrets
 * (gw_secret.h), the security administrator's (the /_admin/v1/keys prefix, gw_roles.c):
 *
 *   GET  /_admin/v1/keys/secrets          where the keys come from, their ids (the last current),
 *                                         and how the records' secrets are stored: per key id,
 *                                         cleartext (written before sealing), unknown key, unreadable
 *   POST /_admin/v1/keys/secrets/rotate   reads the key source again (a key appended to the file
 *                                         becomes current) and re-seals every secret not sealed under
 *                                         the current key; answers the same document and "resealed"
 *
 * Neither answer holds a secret or a key: ids only.
 */
#include "gateway/gw_admin_internal.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_iam.h"
#include "common/log.h"
#include <errno.h>
#include <string.h>

#define SECRETS_PATH "/_admin/v1/keys/secrets"

static json_t *status_doc(gw_ctx_t *ctx)
{
    gw_secret_keys_t *k = gw_iam_secret_keys(ctx->iam);
    gw_iam_seal_status_t st;
    json_t *keys = json_array(), *by_key = json_array();
    size_t n = gw_secret_keys_count(k);

    for (size_t i = 0; i < n; i++) {
        char id[2 * GW_SECRET_KEY_ID_LEN + 1];
        if (gw_secret_keys_id_hex(k, i, id) == 0)
            json_array_append_new(keys, json_pack("{s:s, s:b}", "id", id, "current", i + 1 == n));
    }
    gw_iam_seal_status(ctx->iam, &st);
    for (size_t i = 0; i < st.nby_key; i++)
        json_array_append_new(by_key, json_pack("{s:s, s:I, s:b}", "id", st.by_key[i].id, "records",
                                                (json_int_t)st.by_key[i].records, "held", st.by_key[i].known));
    return json_pack("{s:s, s:b, s:o, s:{s:o, s:I, s:I, s:I}}", "source", gw_secret_keys_source(k), "sealing", n > 0,
                     "keys", keys, "records", "sealedByKey", by_key, "cleartext", (json_int_t)st.cleartext,
                     "unknownKey", (json_int_t)st.unknown_key, "unreadable", (json_int_t)st.unreadable);
}

static void status_work(gw_ctx_t *ctx)
{
    gw_admin_respond_json(ctx, status_doc(ctx));
}

static void rotate_work(gw_ctx_t *ctx)
{
    char err[256];
    size_t resealed = 0;
    int ret = gw_iam_reseal(ctx->iam, 0, &resealed, err, sizeof(err));

    if (ret == -ENOKEY || ret == -EINVAL) {
        gw_set_error(ctx, S3_ERR_INVALID_REQUEST, err);
        return;
    }
    if (ret != 0) {
        yc_log(YC_LOG_WARN, "request_id=%s event=secrets_reseal_failed resealed=%zu err=%s", ctx->request_id, resealed,
               yc_errname(ret));
        gw_set_store_error(ctx, ret);
        return;
    }
    yc_log(YC_LOG_INFO, "request_id=%s event=secrets_resealed resealed=%zu", ctx->request_id, resealed);
    json_t *doc = status_doc(ctx);
    if (doc != NULL)
        json_object_set_new(doc, "resealed", json_integer((json_int_t)resealed));
    gw_admin_respond_json(ctx, doc);
}

int gw_admin_secrets(gw_ctx_t *ctx, h2o_iovec_t path)
{
    int get = h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("GET"));
    int post = h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("POST"));

    if (h2o_memis(path.base, path.len, H2O_STRLIT(SECRETS_PATH))) {
        if (get)
            gw_dispatch(ctx, status_work);
        else
            gw_fail(ctx, S3_ERR_METHOD_NOT_ALLOWED, NULL);
        return 1;
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT(SECRETS_PATH "/rotate"))) {
        if (post)
            gw_dispatch(ctx, rotate_work);
        else
            gw_fail(ctx, S3_ERR_METHOD_NOT_ALLOWED, NULL);
        return 1;
    }
    return 0;
}
