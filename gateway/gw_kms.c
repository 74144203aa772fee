/* gw_kms.c — the key service's registry and its admin calls (design in gw_kms.h). */
#include "gateway/gw_kms.h"
#include "gateway/gw_admin_internal.h"
#include "gateway/gw_bucket_config.h"
#include "gateway/gw_handlers.h"
#include "common/clock.h"
#include "common/log.h"
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KEYS_PREFIX        "/_admin/v1/kms/keys"
#define RECORD_INCARNATION 1 /* the registry's record never changes incarnation */

/* Serializes this gateway's changes of the registry (a read-modify-write of one record); two
 * gateways changing keys in the same instant may lose one change, which the admin sees in the
 * answer's listing and repeats: keys change rarely, by one administrator. */
static pthread_mutex_t registry_mutex = PTHREAD_MUTEX_INITIALIZER;

int gw_kms_valid_id(h2o_iovec_t id)
{
    if (id.len == 0 || id.len > GW_KMS_KEY_ID_MAX)
        return 0;
    for (size_t i = 0; i < id.len; i++) {
        char c = id.base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '_' ||
              c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

void gw_kms_derive(const uint8_t master[32], h2o_iovec_t id, uint32_t version, uint8_t kek[32])
{
    uint8_t msg[8 + GW_KMS_KEY_ID_MAX + 4];
    size_t n = id.len > GW_KMS_KEY_ID_MAX ? GW_KMS_KEY_ID_MAX : id.len;

    memcpy(msg, "yc-kms\0\0", 8);
    memcpy(msg + 8, id.base, n);
    msg[8 + n] = (uint8_t)(version >> 24);
    msg[9 + n] = (uint8_t)(version >> 16);
    msg[10 + n] = (uint8_t)(version >> 8);
    msg[11 + n] = (uint8_t)version;
    HMAC(EVP_sha256(), master, 32, msg, 12 + n, kek, NULL);
}

/* The registry as stored (a new empty one when none is). Caller json_decref's *out. */
static int registry_read(gw_cluster_t *c, json_t **out)
{
    gw_conf_state_t state;
    h2o_iovec_t doc;
    void *raw = NULL;
    int ret = gw_conf_read(c, h2o_iovec_init(H2O_STRLIT(GW_KMS_RECORD)), RECORD_INCARNATION, GW_CONF_KMS_KEYS, &raw,
                           &state, &doc);
    if (ret != 0)
        return ret;
    *out = state == GW_CONF_SET ? json_loadb(doc.base, doc.len, 0, NULL) : json_pack("{s:[]}", "keys");
    free(raw);
    if (*out == NULL || !json_is_array(json_object_get(*out, "keys"))) {
        json_decref(*out);
        return GW_EIO;
    }
    return 0;
}

static int registry_write(gw_cluster_t *c, json_t *reg)
{
    char *text = json_dumps(reg, JSON_COMPACT);
    if (text == NULL)
        return GW_ENOMEM;
    int ret = gw_conf_write(c, h2o_iovec_init(H2O_STRLIT(GW_KMS_RECORD)), RECORD_INCARNATION, GW_CONF_KMS_KEYS,
                            h2o_iovec_init(text, strlen(text)));
    free(text);
    return ret;
}

static json_t *find_key(json_t *reg, h2o_iovec_t id)
{
    size_t i;
    json_t *k;
    json_array_foreach(json_object_get(reg, "keys"), i, k)
    {
        const char *name = json_string_value(json_object_get(k, "id"));
        if (name != NULL && h2o_memis(name, strlen(name), id.base, id.len))
            return k;
    }
    return NULL;
}

int gw_kms_current(gw_cluster_t *c, h2o_iovec_t id, uint32_t *version)
{
    json_t *reg, *k;
    int ret;

    if ((ret = registry_read(c, &reg)) != 0)
        return ret;
    if ((k = find_key(reg, id)) != NULL) {
        *version = (uint32_t)json_integer_value(json_object_get(k, "version"));
    } else if (h2o_memis(id.base, id.len, H2O_STRLIT(GW_KMS_DEFAULT_KEY))) {
        *version = 1; /* the default key exists from the start, at version 1 until rotated */
    } else {
        ret = GW_ENOENT;
    }
    json_decref(reg);
    return ret;
}

/* ---------------------------------------------------------------- admin API */

static void list_work(gw_ctx_t *ctx)
{
    json_t *reg;
    int ret = registry_read(ctx->cluster, &reg);
    if (ret != 0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    if (find_key(reg, h2o_iovec_init(H2O_STRLIT(GW_KMS_DEFAULT_KEY))) == NULL)
        json_array_insert_new(json_object_get(reg, "keys"), 0,
                              json_pack("{s:s, s:i, s:i}", "id", GW_KMS_DEFAULT_KEY, "version", 1, "created", 0));
    gw_admin_respond_json(ctx, reg);
}

/* Creates (rotate 0) or rotates the key named by ctx->handler_state. */
static void change(gw_ctx_t *ctx, int rotate)
{
    h2o_iovec_t id = *(h2o_iovec_t *)ctx->handler_state;
    json_t *reg = NULL, *k;
    int ret;

    pthread_mutex_lock(&registry_mutex);
    if ((ret = registry_read(ctx->cluster, &reg)) != 0) {
        gw_set_store_error(ctx, ret);
        goto done;
    }
    k = find_key(reg, id);
    if (k == NULL && rotate && h2o_memis(id.base, id.len, H2O_STRLIT(GW_KMS_DEFAULT_KEY))) {
        /* the default key is implicit until its first rotation writes it down */
        k = json_pack("{s:s%, s:i, s:I}", "id", id.base, id.len, "version", 1, "created", (json_int_t)0);
        json_array_append_new(json_object_get(reg, "keys"), k);
    }
    if (rotate && k == NULL) {
        gw_set_error(ctx, S3_ERR_KMS_NOT_FOUND, NULL);
        goto done;
    }
    if (!rotate && (k != NULL || h2o_memis(id.base, id.len, H2O_STRLIT(GW_KMS_DEFAULT_KEY)))) {
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "A key with this id exists already");
        goto done;
    }
    if (rotate) {
        json_int_t v = json_integer_value(json_object_get(k, "version"));
        json_object_set_new(k, "version", json_integer(v + 1));
    } else {
        k = json_pack("{s:s%, s:i, s:I}", "id", id.base, id.len, "version", 1, "created", (json_int_t)yc_now_ns());
        json_array_append_new(json_object_get(reg, "keys"), k);
    }
    if ((ret = registry_write(ctx->cluster, reg)) != 0) {
        gw_set_store_error(ctx, ret);
        goto done;
    }
    yc_log(YC_LOG_INFO, "request_id=%s event=%s key_id=%.*s version=%lld", ctx->request_id,
           rotate ? "kms_key_rotated" : "kms_key_added", (int)id.len, id.base,
           (long long)json_integer_value(json_object_get(k, "version")));
    gw_admin_respond_json(ctx, json_incref(k)); /* k stays the registry's */
done:
    pthread_mutex_unlock(&registry_mutex);
    json_decref(reg);
}

static void add_work(gw_ctx_t *ctx)
{
    change(ctx, 0);
}

static void rotate_work(gw_ctx_t *ctx)
{
    change(ctx, 1);
}

int gw_kms_admin(gw_ctx_t *ctx, h2o_iovec_t path)
{
    size_t n = sizeof(KEYS_PREFIX) - 1;
    int get = h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("GET"));
    int put = h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("PUT"));
    int post = h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("POST"));

    if (path.len < n || memcmp(path.base, KEYS_PREFIX, n) != 0 || (path.len > n && path.base[n] != '/'))
        return 0;
    if (path.len == n) {
        if (get)
            gw_dispatch_read(ctx, list_work);
        else
            gw_fail(ctx, S3_ERR_METHOD_NOT_ALLOWED, NULL);
        return 1;
    }
    h2o_iovec_t *id = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*id));
    *id = h2o_iovec_init(path.base + n + 1, path.len - n - 1);
    int rotate = id->len > 7 && memcmp(id->base + id->len - 7, "/rotate", 7) == 0;
    if (rotate)
        id->len -= 7;
    if (!gw_kms_valid_id(*id)) {
        gw_fail(ctx, S3_ERR_INVALID_ARGUMENT, "Key ids are 1..255 characters of [A-Za-z0-9/_.-]");
        return 1;
    }
    ctx->handler_state = id;
    if (rotate && post)
        gw_dispatch(ctx, rotate_work);
    else if (!rotate && put)
        gw_dispatch(ctx, add_work);
    else
        gw_fail(ctx, S3_ERR_METHOD_NOT_ALLOWED, NULL);
    return 1;
}
