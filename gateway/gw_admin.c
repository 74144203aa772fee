/* gw_admin.c — the admin API, for the root user, or once it is split for the administrator whose
 * role the call belongs to (gw_roles.h, checked before routing here):
 *
 *   GET    /_admin/v1/info                 drives, sets and their state (JSON)
 *   GET    /_admin/v1/metadata             per local drive: RocksDB's own size figures, the records it
 *                                          holds and their bytes (one scan of the drive), the
 *                                          compactions run for deletes (JSON)
 *   GET    /_admin/v1/status               per node and per drive: reachable or why not (gw_health.h),
 *                                          identity, and whether each set can read and write (JSON)
 *   GET    /_admin/v1/users                access keys and their users, never secrets (JSON)
 *   PUT    /_admin/v1/users/<access-key>   body {"user": "...", "secretKey": "..."}
 *   DELETE /_admin/v1/users/<access-key>
 *   POST   /_admin/v1/heal[?rate=SIZE]     starts a full heal (unless one runs), rebuilding at most
 *                                           SIZE shard bytes a second when given (e.g. 50M)
 *   GET    /_admin/v1/kms/keys             the key service's keys (gw_kms.h); PUT .../<id> adds one,
 *                                          POST .../<id>/rotate makes a new version current
 *   GET    /_admin/v1/heal                 its progress (JSON)
 *   GET    /_admin/v1/metrics              the status port's /metrics text, signed like the rest, for
 *                                          the console (which may reach only its own origin)
 *   GET    /_admin/v1/roles, POST /_admin/v1/roles/init, GET /_admin/v1/lockouts,
 *   DELETE /_admin/v1/lockouts/<access-key>    the roles and key lockouts (gw_roles.h)
 *   GET    /_admin/v1/keys/secrets, POST /_admin/v1/keys/secrets/rotate
 *                                          the key sealing access keys' secrets (gw_admin_secrets.c)
 *
 * Requests are SigV4-signed like any S3 request; the path cannot clash with a bucket because
 * '_' is not allowed in bucket names. The body is JSON, parsed with jansson.
 */
#include "gateway/gw_admin_internal.h"
#include "gateway/gw_admin_body.h"
#include "gateway/gw_body.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_heal.h"
#include "gateway/gw_health.h"
#include "gateway/gw_iam.h"
#include "gateway/gw_metrics.h"
#include "gateway/gw_roles.h"
#include "gateway/gw_kms.h"
#include "common/log.h"
#include "common/cli.h"
#include "common/clock.h"
#include "common/metrics.h"
#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define USERS_PREFIX "/_admin/v1/users"

static void add_identity(void *arg, const gw_identity_t *id)
{
    json_t *o = json_object();
    json_object_set_new(o, "accessKey", json_string(id->access_key));
    json_object_set_new(o, "user", json_string(id->user));
    json_object_set_new(o, "disabled", json_boolean(id->disabled));
    json_array_append_new(arg, o);
}

static void list_users_work(gw_ctx_t *ctx)
{
    json_t *users = json_array();
    gw_iam_foreach(ctx->iam, add_identity, users);
    gw_admin_respond_json(ctx, json_pack("{s:o}", "users", users));
}

static void info_work(gw_ctx_t *ctx)
{
    gw_cluster_t *c = ctx->cluster;
    json_t *drives = json_array(), *sets = json_array();
    for (size_t i = 0; i < c->ndrives; i++)
        json_array_append_new(drives,
                              json_pack("{s:s, s:b, s:I}", "path", c->drives[i].path, "online",
                                        c->drives[i].client != NULL, "errors", (json_int_t)c->drives[i].errors));
    for (size_t s = 0; s < c->nsets; s++) {
        json_t *members = json_array();
        for (uint32_t i = 0; i < gw_set_width(&c->sets[s]); i++)
            json_array_append_new(members, json_string(c->sets[s].drives[i]->path));
        json_array_append_new(sets, json_pack("{s:i, s:i, s:i, s:o}", "index", (int)s, "k", (int)c->sets[s].k, "m",
                                              (int)c->sets[s].m, "drives", members));
    }
    gw_admin_respond_json(ctx, json_pack("{s:o, s:o}", "drives", drives, "sets", sets));
}

typedef struct {
    uint64_t records, bytes;
} record_count_t;

static int count_record(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    record_count_t *rc = arg;
    rc->records++;
    rc->bytes += klen + vlen;
    return 0;
}

static void metadata_work(gw_ctx_t *ctx)
{
    gw_cluster_t *c = ctx->env->cluster;
    json_t *drives = json_array();

    for (size_t i = 0; i < c->ndrives; i++) {
        store_drive_t *d = c->drives[i].local;
        meta_db_sizes_t sz;
        record_count_t rc = {0};
        meta_key_t all = {.len = 0};
        uint64_t level0 = 0;

        if (d == NULL || c->drives[i].client == NULL || meta_db_sizes(store_drive_db(d), &sz) != 0 ||
            store_record_scan(d, &all, NULL, 0, count_record, &rc) != 0) {
            json_array_append_new(drives, json_pack("{s:s, s:b}", "path", c->drives[i].path, "local", 0));
            continue;
        }
        json_t *o = json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "path", c->drives[i].path, "local",
                              1, "sstBytes", (json_int_t)sz.sst_bytes, "liveEstimateBytes", (json_int_t)sz.live_bytes,
                              "memtableBytes", (json_int_t)sz.memtable_bytes, "keysEstimate", (json_int_t)sz.keys,
                              "tombstones", (json_int_t)sz.tombstones, "records", (json_int_t)rc.records, "recordBytes",
                              (json_int_t)rc.bytes, "compactions", (json_int_t)store_drive_compactions(d, 0, 0));
        /* SST files in level 0: 0 once an idle drive settled into its last levels */
        meta_db_level0_files(store_drive_db(d), &level0);
        json_object_set_new(o, "level0Files", json_integer((json_int_t)level0));
        json_array_append_new(drives, o);
    }
    gw_admin_respond_json(ctx, json_pack("{s:o}", "drives", drives));
}

static json_t *hex_or_null(const uint8_t *p, size_t len, int present)
{
    char hex[2 * STORE_ID_LEN + 1];
    if (!present || len > STORE_ID_LEN)
        return json_null();
    for (size_t i = 0; i < len; i++)
        snprintf(hex + 2 * i, 3, "%02x", p[i]);
    return json_string(hex);
}

/* What the health prober last saw, per node and drive, and what it means for each set. */
static void status_work(gw_ctx_t *ctx)
{
    gw_cluster_t *c = ctx->cluster;
    gw_health_t *h = c->health;
    json_t *nodes = json_array(), *sets = json_array();
    size_t total_ok = 0;
    uint8_t *ok = calloc(c->ndrives, 1);

    if (ok == NULL) {
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        json_decref(nodes);
        json_decref(sets);
        return;
    }
    int64_t now = yc_mono_ns();
    for (size_t k = 0; k < gw_health_nnodes(h); k++) {
        gw_health_node_t n;
        size_t nd;
        const size_t *idx = gw_health_node_drives(h, k, &nd);
        json_t *drives = json_array();
        gw_health_node(h, k, &n);
        for (size_t j = 0; j < nd; j++) {
            gw_drive_t *d = &c->drives[idx[j]];
            gw_health_drive_t hd;
            const char *slash = strrchr(d->path, '/');
            gw_health_drive(h, idx[j], &hd);
            ok[idx[j]] = hd.state == GW_HEALTH_OK;
            total_ok += ok[idx[j]];
            json_array_append_new(drives, json_pack("{s:s, s:s, s:s, s:s, s:I, s:i, s:i, s:o}", "drive", d->path,
                                                    "name", d->probe != NULL && slash != NULL ? slash + 1 : d->path,
                                                    "state", gw_health_state_name(hd.state), "detail", hd.detail,
                                                    "forSeconds", (json_int_t)((now - hd.since_ns) / 1000000000), "set",
                                                    (int)d->set_index, "slot", (int)d->slot, "driveId",
                                                    hex_or_null(hd.identity.drive_id, STORE_ID_LEN, hd.has_identity)));
        }
        json_array_append_new(nodes,
                              json_pack("{s:s, s:s, s:s, s:I, s:i, s:i, s:o}", "node", n.name, "state",
                                        n.state == GW_HEALTH_OK ? "reachable" : gw_health_state_name(n.state), "detail",
                                        n.detail, "forSeconds", (json_int_t)((now - n.since_ns) / 1000000000),
                                        "drivesOk", (int)n.nok, "drivesTotal", (int)n.ndrives, "drives", drives));
    }
    for (size_t s = 0; s < c->nsets; s++) {
        gw_set_t *set = &c->sets[s];
        int up = 0;
        for (uint32_t i = 0; i < gw_set_width(set); i++)
            up += ok[set->drives[i] - c->drives];
        json_array_append_new(sets, json_pack("{s:i, s:i, s:i, s:i, s:i, s:b, s:b}", "index", (int)s, "k", (int)set->k,
                                              "m", (int)set->m, "drivesOk", up, "writeQuorum",
                                              (int)gw_set_write_quorum(set), "readable", up >= (int)set->k, "writable",
                                              up >= (int)gw_set_write_quorum(set)));
    }
    free(ok);
    gw_admin_respond_json(ctx, json_pack("{s:o, s:I, s:I, s:o, s:o}", "clusterId",
                                         hex_or_null(c->cluster_id, STORE_ID_LEN, 1), "drives", (json_int_t)c->ndrives,
                                         "drivesOk", (json_int_t)total_ok, "nodes", nodes, "sets", sets));
}

static int valid_name(h2o_iovec_t v, size_t max)
{
    if (v.len == 0 || v.len > max)
        return 0;
    for (size_t i = 0; i < v.len; i++) {
        char c = v.base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.' || c == '@' || c == '+' || c == '='))
            return 0;
    }
    return 1;
}

static void put_user_work(gw_ctx_t *ctx)
{
    h2o_iovec_t access_key = ctx->handler_state ? *(h2o_iovec_t *)ctx->handler_state : h2o_iovec_init(NULL, 0);
    json_t *doc;
    const char *user = NULL, *secret = NULL;
    char ak[META_ACCESS_KEY_MAX + 1];
    int ret;

    if (gw_body_prepare(ctx) != 0)
        return;
    if (gw_admin_body_user(ctx->body, &doc, &user, &secret) != 0 ||
        !valid_name(h2o_iovec_init(user, strlen(user)), GW_IAM_NAME_MAX)) {
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Expected {\"user\": name, \"secretKey\": 8..128 characters}");
        goto done;
    }
    memcpy(ak, access_key.base, access_key.len);
    ak[access_key.len] = '\0';
    if (gw_roles_reserved_user(h2o_iovec_init(user, strlen(user))) || gw_roles_reserved_key(ctx, access_key)) {
        gw_set_error(ctx, S3_ERR_ACCESS_DENIED, "The administrators' users and keys are reserved");
        goto done;
    }
    if ((ret = gw_iam_put(ctx->iam, user, ak, secret)) != 0) {
        if (ret == -EINVAL)
            gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "That access key cannot be used");
        else
            gw_set_store_error(ctx, ret);
        goto done;
    }
    yc_log(YC_LOG_INFO, "request_id=%s event=user_added user=%s access_key=%s", ctx->request_id, user, ak);
    gw_admin_respond_json(ctx, json_pack("{s:s, s:s}", "accessKey", ak, "user", user));
done:
    if (doc != NULL && secret != NULL)
        OPENSSL_cleanse((void *)secret, strlen(secret));
    json_decref(doc);
}

static void delete_user_work(gw_ctx_t *ctx)
{
    h2o_iovec_t access_key = *(h2o_iovec_t *)ctx->handler_state;
    char ak[META_ACCESS_KEY_MAX + 1];
    int ret;

    memcpy(ak, access_key.base, access_key.len);
    ak[access_key.len] = '\0';
    if (gw_roles_reserved_key(ctx, access_key)) {
        gw_set_error(ctx, S3_ERR_ACCESS_DENIED, "The administrators' users and keys are reserved");
        return;
    }
    if ((ret = gw_iam_remove(ctx->iam, ak)) != 0) {
        if (ret == -ENOENT)
            gw_set_error(ctx, S3_ERR_INVALID_ACCESS_KEY_ID, "No such access key");
        else
            gw_set_store_error(ctx, ret);
        return;
    }
    yc_log(YC_LOG_INFO, "request_id=%s event=user_removed access_key=%s", ctx->request_id, ak);
    ctx->status = 204;
}

/* A heal's ?rate=: shard bytes a second, a size with a K, M or G suffix (common/cli.h), 1 to 1T;
 * absent is 0 (no bound). 0, or -1 for a value that is not one. */
static int heal_rate(const gw_ctx_t *ctx, uint64_t *rate)
{
    h2o_iovec_t r = s3_query_get(&ctx->query, "rate");
    char text[32];

    *rate = 0;
    if (r.base == NULL)
        return 0;
    if (r.len == 0 || r.len >= sizeof(text))
        return -1;
    memcpy(text, r.base, r.len);
    text[r.len] = '\0';
    return yc_parse_size(text, 1ULL << 40, rate) == 0 && *rate > 0 ? 0 : -1;
}

static void heal_work(gw_ctx_t *ctx)
{
    gw_healer_t *h = ctx->env->healer;
    gw_heal_status_t st;
    if (h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("POST"))) {
        uint64_t rate;
        if (heal_rate(ctx, &rate) != 0) {
            gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "rate is a size a second, from 1 to 1T (e.g. 50M)");
            return;
        }
        gw_heal_start_full(h, rate);
    }
    gw_heal_status(h, &st);
    json_t *doc =
        json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "running", st.running, "scanned",
                  (json_int_t)st.scanned, "repaired", (json_int_t)st.repaired, "failed", (json_int_t)st.failed,
                  "queued", (json_int_t)st.queued, "deferred", (json_int_t)st.deferred, "startedNs",
                  (json_int_t)st.started_ns, "finishedNs", (json_int_t)st.finished_ns, "rate", (json_int_t)st.rate);
    gw_heal_progress_json(&st, doc);
    gw_admin_respond_json(ctx, doc);
}

/* Reads drives' space and RocksDB's properties: on a read worker, like the status port's. */
static void metrics_work(gw_ctx_t *ctx)
{
    char *text = NULL;
    size_t len = 0;

    if (ctx->env->metrics == NULL || gw_metrics_render(ctx->env->metrics, &text, &len) != 0) {
        gw_set_error(ctx, S3_ERR_INTERNAL_ERROR, NULL);
        return;
    }
    ctx->resp_body = h2o_strdup(&ctx->req->pool, text, len);
    ctx->content_type = YC_METRICS_CONTENT_TYPE;
    free(text);
}

/* The gateway's counters: the request intake's and the HTTP layer's (summed over the loops). */
static void stats_work(gw_ctx_t *ctx)
{
    gw_env_t *env = ctx->env;
    yc_http_stats_t http = {0};

    if (env->http_stats != NULL)
        env->http_stats(env->http_stats_arg, &http);
    gw_admin_respond_json(ctx, json_pack("{s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I, s:I}}",
                                         "bodyBytesBeforeAuth", (json_int_t)atomic_load(&env->body_before_auth),
                                         "bodyBytesIn", (json_int_t)atomic_load(&env->body_bytes_in), "bytesOut",
                                         (json_int_t)atomic_load(&env->bytes_out), "refusedBeforeBody",
                                         (json_int_t)atomic_load(&env->refused_before_body), "inflight",
                                         (json_int_t)atomic_load(&env->inflight), "http", "connections",
                                         (json_int_t)http.connections, "inputBytes", (json_int_t)http.input_bytes,
                                         "accepted", (json_int_t)http.accepted, "refused", (json_int_t)http.refused,
                                         "requests", (json_int_t)http.requests, "layerErrors",
                                         (json_int_t)http.layer_errors));
}

void gw_admin(gw_ctx_t *ctx)
{
    gw_req_t *req = ctx->req;
    size_t path_len = req->input.query_at == SIZE_MAX ? req->input.path.len : req->input.query_at;
    h2o_iovec_t path = h2o_iovec_init(req->input.path.base, path_len);

    if (gw_roles_admin(ctx, path))
        return; /* the roles and the key lockouts (gw_roles.h) */
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/_admin/v1/info")) &&
        h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("GET"))) {
        gw_dispatch(ctx, info_work);
        return;
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/_admin/v1/stats")) &&
        h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("GET"))) {
        stats_work(ctx); /* counters only: nothing that blocks */
        gw_respond(ctx);
        return;
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/_admin/v1/metadata")) &&
        h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("GET"))) {
        gw_dispatch(ctx, metadata_work);
        return;
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/_admin/v1/status")) &&
        h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("GET"))) {
        gw_dispatch(ctx, status_work);
        return;
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/_admin/v1/metrics")) &&
        h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("GET"))) {
        gw_dispatch_read(ctx, metrics_work);
        return;
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT("/_admin/v1/heal"))) {
        gw_dispatch(ctx, heal_work);
        return;
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT(USERS_PREFIX)) &&
        h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("GET"))) {
        gw_dispatch(ctx, list_users_work);
        return;
    }
    if (path.len > sizeof(USERS_PREFIX) && memcmp(path.base, USERS_PREFIX "/", sizeof(USERS_PREFIX)) == 0) {
        h2o_iovec_t *ak = h2o_mem_alloc_pool(&req->pool, sizeof(*ak));
        *ak = h2o_iovec_init(path.base + sizeof(USERS_PREFIX), path.len - sizeof(USERS_PREFIX));
        if (!valid_name(*ak, META_ACCESS_KEY_MAX) || ak->len < 3) {
            gw_fail(ctx, S3_ERR_INVALID_ARGUMENT, "Access keys are 3..128 characters of [A-Za-z0-9-_.@+=]");
            return;
        }
        ctx->handler_state = ak;
        if (h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("PUT")))
            gw_dispatch(ctx, put_user_work);
        else if (h2o_memis(ctx->method.base, ctx->method.len, H2O_STRLIT("DELETE")))
            gw_dispatch(ctx, delete_user_work);
        else
            gw_fail(ctx, S3_ERR_METHOD_NOT_ALLOWED, NULL);
        return;
    }
    if (gw_kms_admin(ctx, path))
        return;
    if (gw_admin_secrets(ctx, path))
        return;
    if (gw_admin_more(ctx, path))
        return;
    gw_fail(ctx, S3_ERR_INVALID_REQUEST, "Unknown admin API call");
}
