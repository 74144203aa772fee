/* gw_admin_ops.c — the admin API's calls for daily work (root only, like the rest of gw_admin.c):
 *
 *   GET    /_admin/v1/buckets                 every bucket: owner, versioning, lock, objects, bytes, quota
 *   GET    /_admin/v1/buckets/<name>          one of them
 *   GET    /_admin/v1/usage                   per bucket and per owner (user): objects, versions, bytes, quota
 *   GET    /_admin/v1/quota/bucket|user/<name>
 *   PUT    /_admin/v1/quota/bucket|user/<name>     body {"bytes": N} (N > 0)
 *   DELETE /_admin/v1/quota/bucket|user/<name>
 *   GET    /_admin/v1/config                  the running configuration, secrets masked
 *   GET    /_admin/v1/drives                  the drives' places, drains and their progress
 *   POST   /_admin/v1/drives/drain            body {"node": N, "drive": D, "spare": DIR}
 *   POST   /_admin/v1/drives/remove           body {"node": N, "drive": D}
 *
 * Usage figures here are counted on the spot (gw_usage_scan: exact, one listing per bucket); the
 * quota checks of writes use each gateway's kept count (gw_quota.h). Drain and remove are
 * described in docs/architecture.md ("Draining a drive").
 */
#include "gateway/gw_admin_internal.h"
#include "gateway/gw_admin_body.h"
#include "gateway/gw_body.h"
#include "gateway/gw_bucket_config.h"
#include "gateway/gw_bucket_record.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_iam.h"
#include "gateway/gw_quota.h"
#include "gateway/gw_replica.h"
#include "gateway/s3/names.h"
#include "common/clock.h"
#include "common/log.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX       "/_admin/v1/"
#define MAX_BUCKETS  100000
#define MASKED       "********"
#define DRAIN_PLACES 1024

static int starts(h2o_iovec_t path, const char *prefix, h2o_iovec_t *rest)
{
    size_t n = strlen(prefix);
    if (path.len < n || memcmp(path.base, prefix, n) != 0)
        return 0;
    *rest = h2o_iovec_init(path.base + n, path.len - n);
    return 1;
}

static int is_method(gw_ctx_t *ctx, const char *m)
{
    return h2o_memis(ctx->method.base, ctx->method.len, m, strlen(m));
}

/* ---------------------------------------------------------------- heal progress */

void gw_heal_progress_json(const gw_heal_status_t *st, json_t *doc)
{
    /* the rate over the walk so far (objects a second); the ETA assumes it holds */
    int64_t end = st->running ? yc_now_ns() : st->finished_ns;
    double secs = st->walk_started_ns != 0 && end > st->walk_started_ns ? (double)(end - st->walk_started_ns) / 1e9 : 0;
    double rate = secs > 0 ? (double)st->scanned / secs : 0;
    uint64_t left = st->total > st->scanned ? st->total - st->scanned : 0;

    json_object_set_new(doc, "total", json_integer((json_int_t)st->total));
    json_object_set_new(doc, "percent",
                        json_real(st->total > 0 ? 100.0 * (double)(st->total - left) / (double)st->total
                                  : st->running ? 0.0
                                                : 100.0));
    json_object_set_new(doc, "ratePerSecond", json_real(rate));
    json_object_set_new(doc, "rebuiltBytes", json_integer((json_int_t)st->rebuilt_bytes));
    json_object_set_new(doc, "rebuiltBytesPerSecond", json_real(secs > 0 ? (double)st->rebuilt_bytes / secs : 0));
    json_object_set_new(doc, "etaSeconds",
                        !st->running ? json_integer(0)
                        : rate > 0   ? json_integer((json_int_t)((double)left / rate + 0.5))
                                     : json_null());
}

/* ---------------------------------------------------------------- buckets and usage */

typedef struct {
    json_t *list; /* of {name, owner, incarnation, versioning, created, location} */
} bucket_scan_t;

static const char *versioning_name(uint32_t v)
{
    return v == 1 ? "Enabled" : v == 2 ? "Suspended" : "Off";
}

static int collect(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    bucket_scan_t *s = arg;
    meta_bucket_t b;
    if (meta_bucket_decode(val, vlen, &b) != 0 || b.state != META_BUCKET_ACTIVE)
        return 0;
    json_array_append_new(s->list,
                          json_pack("{s:s#, s:s#, s:I, s:s, s:I, s:s#}", "name", b.name.base, (int)b.name.len, "owner",
                                    b.owner.base, (int)b.owner.len, "incarnation", (json_int_t)b.incarnation,
                                    "versioning", versioning_name(b.versioning), "createdNs", (json_int_t)b.created_ns,
                                    "location", b.location.base, (int)b.location.len));
    return json_array_size(s->list) >= MAX_BUCKETS;
}

/* Adds what one bucket holds and its settings to its object o (from collect). 0 or a gateway code. */
static int describe(gw_ctx_t *ctx, json_t *o)
{
    const char *name = json_string_value(json_object_get(o, "name"));
    uint64_t inc = (uint64_t)json_integer_value(json_object_get(o, "incarnation")), quota = 0;
    char ns[META_NS_MAX + 1];
    gw_conf_state_t state;
    h2o_iovec_t doc;
    gw_usage_t u;
    void *raw;
    int ret;

    size_t n = meta_bucket_ns((meta_bytes_t){name, strlen(name)}, inc, ns);
    if ((ret = gw_usage_scan(ctx->cluster, (meta_bytes_t){ns, n}, &u)) != 0 ||
        (ret = gw_quota_bucket_get(ctx->cluster, (meta_bytes_t){name, strlen(name)}, inc, &quota)) != 0 ||
        (ret = gw_conf_read(ctx->cluster, h2o_iovec_init(name, strlen(name)), inc, GW_CONF_OBJECT_LOCK, &raw, &state,
                            &doc)) != 0)
        return ret;
    free(raw);
    json_object_set_new(o, "objectLock", json_boolean(state == GW_CONF_SET));
    json_object_set_new(o, "objects", json_integer((json_int_t)u.objects));
    json_object_set_new(o, "versions", json_integer((json_int_t)u.versions));
    json_object_set_new(o, "bytes", json_integer((json_int_t)u.bytes));
    json_object_set_new(o, "quotaBytes", json_integer((json_int_t)quota));
    json_object_del(o, "incarnation"); /* an internal name, not for operators */
    return 0;
}

static int scan_buckets(gw_ctx_t *ctx, json_t **out)
{
    bucket_scan_t s = {json_array()};
    meta_key_t prefix;
    int ret;

    meta_key_bucket((meta_bytes_t){"", 0}, &prefix);
    if ((ret = gw_replica_scan(ctx->cluster, &prefix, collect, &s)) != 0) {
        json_decref(s.list);
        return ret;
    }
    *out = s.list;
    return 0;
}

static void buckets_work(gw_ctx_t *ctx)
{
    h2o_iovec_t one = *(h2o_iovec_t *)ctx->handler_state;
    json_t *list, *o, *found = NULL;
    size_t i;
    int ret;

    if ((ret = scan_buckets(ctx, &list)) != 0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    json_array_foreach(list, i, o)
    {
        if (one.len > 0 && !h2o_memis(one.base, one.len, json_string_value(json_object_get(o, "name")),
                                      strlen(json_string_value(json_object_get(o, "name")))))
            continue;
        if ((ret = describe(ctx, o)) != 0) {
            json_decref(list);
            gw_set_store_error(ctx, ret);
            return;
        }
        if (one.len > 0)
            found = json_incref(o);
    }
    if (one.len == 0) {
        gw_admin_respond_json(ctx, json_pack("{s:o}", "buckets", list));
        return;
    }
    json_decref(list);
    if (found == NULL) {
        gw_set_error(ctx, S3_ERR_NO_SUCH_BUCKET, NULL);
        gw_set_error_field(ctx, "BucketName", one);
        return;
    }
    gw_admin_respond_json(ctx, found);
}

static void usage_work(gw_ctx_t *ctx)
{
    json_t *list, *o, *users = json_object(), *out_users = json_array(), *u;
    const char *name;
    size_t i;
    int ret;

    if ((ret = scan_buckets(ctx, &list)) != 0) {
        json_decref(users);
        json_decref(out_users);
        gw_set_store_error(ctx, ret);
        return;
    }
    json_array_foreach(list, i, o)
    {
        if ((ret = describe(ctx, o)) != 0)
            goto fail;
        const char *owner = json_string_value(json_object_get(o, "owner"));
        if ((u = json_object_get(users, owner)) == NULL) {
            u = json_pack("{s:s, s:i, s:I, s:I, s:I}", "user", owner, "buckets", 0, "objects", (json_int_t)0,
                          "versions", (json_int_t)0, "bytes", (json_int_t)0);
            json_object_set_new(users, owner, u);
        }
        static const char *const sums[] = {"objects", "versions", "bytes"};
        for (size_t k = 0; k < 3; k++)
            json_object_set_new(u, sums[k],
                                json_integer(json_integer_value(json_object_get(u, sums[k])) +
                                             json_integer_value(json_object_get(o, sums[k]))));
        json_object_set_new(u, "buckets", json_integer(json_integer_value(json_object_get(u, "buckets")) + 1));
    }
    json_object_foreach(users, name, u)
    {
        uint64_t quota = 0;
        if ((ret = gw_quota_user_get(ctx->cluster, name, &quota)) != 0)
            goto fail;
        json_object_set_new(u, "quotaBytes", json_integer((json_int_t)quota));
        json_array_append(out_users, u);
    }
    json_decref(users);
    gw_admin_respond_json(ctx, json_pack("{s:o, s:o}", "buckets", list, "users", out_users));
    return;
fail:
    json_decref(list);
    json_decref(users);
    json_decref(out_users);
    gw_set_store_error(ctx, ret);
}

/* ---------------------------------------------------------------- quotas */

typedef struct {
    int user; /* else a bucket */
    char name[GW_IAM_NAME_MAX + 1];
} quota_target_t;

static void quota_work(gw_ctx_t *ctx)
{
    quota_target_t *t = ctx->handler_state;
    uint64_t bytes = 0, incarnation = 0;
    meta_bucket_t b;
    void *raw = NULL;
    int ret = 0;

    if (!t->user) {
        if ((ret = gw_bucket_record_read(ctx->cluster, (meta_bytes_t){t->name, strlen(t->name)}, &raw, &b)) != 0 ||
            b.state != META_BUCKET_ACTIVE) {
            free(raw);
            if (ret == 0 || ret == GW_ENOENT) {
                gw_set_error(ctx, S3_ERR_NO_SUCH_BUCKET, NULL);
                gw_set_error_field(ctx, "BucketName", h2o_iovec_init(t->name, strlen(t->name)));
            } else {
                gw_set_store_error(ctx, ret);
            }
            return;
        }
        incarnation = b.incarnation;
        free(raw);
    }
    if (is_method(ctx, "PUT")) {
        if (gw_body_prepare(ctx) != 0)
            return;
        if (gw_admin_body_quota(ctx->body, &bytes) != 0) {
            gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, "Expected {\"bytes\": a count of bytes above 0}");
            return;
        }
    }
    if (!is_method(ctx, "GET")) {
        ret = t->user ? gw_quota_user_set(ctx->cluster, t->name, bytes)
                      : gw_quota_bucket_set(ctx->cluster, (meta_bytes_t){t->name, strlen(t->name)}, incarnation, bytes);
        if (ret == 0)
            yc_log(YC_LOG_INFO, "request_id=%s event=quota_set %s=%s bytes=%llu", ctx->request_id,
                   t->user ? "user" : "bucket", t->name, (unsigned long long)bytes);
    } else {
        ret = t->user
                  ? gw_quota_user_get(ctx->cluster, t->name, &bytes)
                  : gw_quota_bucket_get(ctx->cluster, (meta_bytes_t){t->name, strlen(t->name)}, incarnation, &bytes);
    }
    if (ret != 0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    gw_admin_respond_json(ctx, json_pack("{s:s, s:s, s:I}", t->user ? "user" : "bucket", t->name, "kind",
                                         t->user ? "user" : "bucket", "quotaBytes", (json_int_t)bytes));
}

static int route_quota(gw_ctx_t *ctx, h2o_iovec_t rest)
{
    quota_target_t *t = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*t));
    h2o_iovec_t name;

    if (starts(rest, "user/", &name))
        t->user = 1;
    else if (starts(rest, "bucket/", &name))
        t->user = 0;
    else
        return 0;
    if (t->user ? !gw_iam_name_valid(name) : s3_bucket_name_validate(name) != 0) {
        gw_fail(ctx, S3_ERR_INVALID_ARGUMENT, t->user ? "Not a user name" : "Not a bucket name");
        return 1;
    }
    memcpy(t->name, name.base, name.len);
    t->name[name.len] = '\0';
    ctx->handler_state = t;
    if (!is_method(ctx, "GET") && !is_method(ctx, "PUT") && !is_method(ctx, "DELETE"))
        gw_fail(ctx, S3_ERR_METHOD_NOT_ALLOWED, NULL);
    else
        gw_dispatch(ctx, quota_work);
    return 1;
}

/* ---------------------------------------------------------------- config */

static json_t *str_or_null(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static void config_work(gw_ctx_t *ctx)
{
    const gw_config_t *c = ctx->env->cfg;
    char listen[300];
    json_t *drives = json_array();

    snprintf(listen, sizeof(listen), "%s:%u", c->listen_host, c->listen_port);
    for (size_t i = 0; i < ctx->cluster->ndrives; i++)
        json_array_append_new(drives, json_string(ctx->cluster->drives[i].path));
    json_t *doc =
        json_pack("{s:s, s:o, s:o, s:o, s:i, s:i, s:I, s:I, s:o, s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                  "listen", listen, "data", str_or_null(c->data_dir), "drives", drives, "domains",
                  str_or_null(c->domains), "k", (int)c->k, "m", (int)c->m, "stripe_size", (json_int_t)c->stripe_size,
                  "inline_max", (json_int_t)c->inline_max, "root_user", str_or_null(c->root_user),
                  /* secrets are never shown, only whether they are set */
                  "root_password", c->root_password != NULL ? MASKED : "(not set)", "cluster_secret",
                  c->cluster_secret != NULL ? MASKED : "(not set)", "region", str_or_null(c->region), "loops",
                  (json_int_t)c->loops, "workers", (json_int_t)c->workers, "read_workers", (json_int_t)c->read_workers,
                  "lane_threads", (json_int_t)c->lane_threads, "max_inflight", (json_int_t)c->max_inflight,
                  "max_object_size", (json_int_t)c->max_object_size, "drive_reserve", (json_int_t)c->drive_reserve);
    if (doc != NULL) {
        json_object_set_new(doc, "access_log", str_or_null(c->access_log));
        json_object_set_new(doc, "status_listen", str_or_null(c->status_listen));
        json_object_set_new(doc, "tls_cert", str_or_null(c->tls_cert));
        json_object_set_new(doc, "tls_key", str_or_null(c->tls_key)); /* a path: the key stays in its file */
        json_object_set_new(doc, "internode_tls_cert", str_or_null(c->internode_tls_cert));
        json_object_set_new(doc, "internode_tls_key", str_or_null(c->internode_tls_key)); /* a path, as tls_key */
        json_object_set_new(doc, "internode_tls_ca", str_or_null(c->internode_tls_ca));
        json_object_set_new(doc, "http2", json_integer(c->http2));
        json_object_set_new(doc, "new_bucket_acls", json_integer(c->new_bucket_acls));
        json_object_set_new(doc, "queue_max", json_integer((json_int_t)c->queue_max));
        json_object_set_new(doc, "presign_max_expires", json_integer((json_int_t)c->presign_max_expires));
        json_object_set_new(doc, "orphan_grace", json_integer((json_int_t)c->orphan_grace));
        json_object_set_new(doc, "lifecycle_interval", json_integer((json_int_t)c->lifecycle_interval));
    }
    gw_admin_respond_json(ctx, doc);
}

/* ---------------------------------------------------------------- drives: drain and remove */

/* When each place's drain began (0: none); guarded by drain_mutex. Process state, like the
 * retired drive it describes (gw_cluster.h): a restart forgets both. */
static pthread_mutex_t drain_mutex = PTHREAD_MUTEX_INITIALIZER;
static int64_t drain_started_ns[DRAIN_PLACES];

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL && slash[1] != '\0' ? slash + 1 : path;
}

/* The place whose drive (retired: whose drained drive) is named by node and drive (its path or
 * the last part of it); -1 when none. */
static ssize_t find_place(gw_cluster_t *c, const char *node, const char *drive, int retired)
{
    for (size_t i = 0; i < c->ndrives && i < DRAIN_PLACES; i++) {
        const char *path = retired ? c->drives[i].retired_path : c->drives[i].path;
        if (path == NULL || strcmp(c->drives[i].node, node) != 0)
            continue;
        if (strcmp(path, drive) == 0 || strcmp(base_name(path), drive) == 0)
            return (ssize_t)i;
    }
    return -1;
}

static const char *drain_state(const gw_heal_status_t *st, int64_t started)
{
    if (started == 0)
        return "none";
    if (st->running || st->started_ns < started)
        return "draining";
    return st->failed == 0 ? "drained" : "incomplete";
}

static void drives_work(gw_ctx_t *ctx)
{
    gw_cluster_t *c = ctx->cluster;
    gw_heal_status_t st;
    json_t *places = json_array(), *heal = json_object();

    gw_heal_status(ctx->env->healer, &st);
    pthread_mutex_lock(&drain_mutex);
    for (size_t i = 0; i < c->ndrives; i++) {
        gw_drive_t *d = &c->drives[i];
        int64_t started = i < DRAIN_PLACES ? drain_started_ns[i] : 0;
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:i, s:i, s:b}", "node", d->node, "drive", d->path, "name", base_name(d->path),
                      "set", (int)d->set_index, "slot", (int)d->slot, "online", d->client != NULL);
        if (d->retired_path != NULL) {
            json_object_set_new(o, "drained", json_string(d->retired_path));
            json_object_set_new(o, "drain", json_string(drain_state(&st, started)));
        }
        json_array_append_new(places, o);
    }
    pthread_mutex_unlock(&drain_mutex);
    json_object_set_new(heal, "running", json_boolean(st.running));
    json_object_set_new(heal, "scanned", json_integer((json_int_t)st.scanned));
    json_object_set_new(heal, "repaired", json_integer((json_int_t)st.repaired));
    json_object_set_new(heal, "failed", json_integer((json_int_t)st.failed));
    gw_heal_progress_json(&st, heal);
    gw_admin_respond_json(ctx, json_pack("{s:o, s:o}", "drives", places, "heal", heal));
}

static void drain_work(gw_ctx_t *ctx)
{
    int remove = *(int *)ctx->handler_state;
    gw_cluster_t *c = ctx->cluster;
    const char *node = NULL, *drive = NULL, *spare = NULL;
    json_t *doc;
    gw_heal_status_t st;
    char why[512];
    ssize_t i;
    int ret;

    if (gw_body_prepare(ctx) != 0)
        return;
    if (gw_admin_body_drive(ctx->body, remove, &doc, &node, &drive, &spare) != 0) {
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT,
                     remove ? "Expected {\"node\": node, \"drive\": drive}"
                            : "Expected {\"node\": node, \"drive\": drive, \"spare\": an absolute directory}");
        goto done;
    }
    gw_heal_status(ctx->env->healer, &st);
    pthread_mutex_lock(&drain_mutex);
    if ((i = find_place(c, node, drive, remove)) < 0) {
        pthread_mutex_unlock(&drain_mutex);
        gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT,
                     remove ? "No drained drive of that name on that node" : "No drive of that name on that node");
        goto done;
    }
    if (remove) {
        const char *state = drain_state(&st, drain_started_ns[i]);
        if (strcmp(state, "drained") != 0) {
            pthread_mutex_unlock(&drain_mutex);
            snprintf(why, sizeof(why), "The drive's drain is %s: remove it once it is drained", state);
            gw_set_error(ctx, S3_ERR_INVALID_REQUEST, h2o_strdup(&ctx->req->pool, why, SIZE_MAX).base);
            goto done;
        }
        yc_log(YC_LOG_INFO, "request_id=%s event=drive_removed drive=%s", ctx->request_id, c->drives[i].retired_path);
        gw_cluster_forget_retired(c, (size_t)i);
        drain_started_ns[i] = 0;
        pthread_mutex_unlock(&drain_mutex);
        gw_admin_respond_json(ctx, json_pack("{s:s, s:s}", "removed", drive, "place", c->drives[i].path));
        goto done;
    }
    if (st.running) {
        /* the walk in progress may have passed keys already: the drain needs a walk of its own */
        pthread_mutex_unlock(&drain_mutex);
        gw_set_error(ctx, S3_ERR_OPERATION_ABORTED, "A heal is running: drain once it has finished");
        goto done;
    }
    why[0] = '\0';
    if ((ret = gw_cluster_replace_local(c, (size_t)i, spare, ctx->env->cfg->cluster_secret,
                                        ctx->env->cfg->drive_reserve, why, sizeof(why))) != 0) {
        pthread_mutex_unlock(&drain_mutex);
        /* the message is kept by pointer: it must live as long as the request */
        gw_set_error(ctx, ret == -ENOTSUP ? S3_ERR_NOT_IMPLEMENTED : S3_ERR_INVALID_REQUEST,
                     h2o_strdup(&ctx->req->pool, why, SIZE_MAX).base);
        goto done;
    }
    drain_started_ns[i] = yc_now_ns();
    pthread_mutex_unlock(&drain_mutex);
    yc_log(YC_LOG_INFO, "request_id=%s event=drive_draining drive=%s spare=%s", ctx->request_id,
           c->drives[i].retired_path, spare);
    gw_heal_start_full(ctx->env->healer, 0);
    gw_admin_respond_json(ctx,
                          json_pack("{s:s, s:s, s:s, s:i, s:i}", "draining", c->drives[i].retired_path, "spare", spare,
                                    "node", node, "set", (int)c->drives[i].set_index, "slot", (int)c->drives[i].slot));
done:
    json_decref(doc);
}

/* ---------------------------------------------------------------- routing */

int gw_admin_more(gw_ctx_t *ctx, h2o_iovec_t path)
{
    static int drain = 0, remove = 1;
    h2o_iovec_t rest, *one;

    if (h2o_memis(path.base, path.len, H2O_STRLIT(PREFIX "buckets")) ||
        (starts(path, PREFIX "buckets/", &rest) && rest.len > 0)) {
        if (!is_method(ctx, "GET")) {
            gw_fail(ctx, S3_ERR_METHOD_NOT_ALLOWED, NULL);
            return 1;
        }
        one = h2o_mem_alloc_pool(&ctx->req->pool, sizeof(*one));
        *one = path.len > sizeof(PREFIX "buckets") - 1 ? rest : h2o_iovec_init("", 0);
        ctx->handler_state = one;
        gw_dispatch_read(ctx, buckets_work);
        return 1;
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT(PREFIX "usage")) && is_method(ctx, "GET")) {
        gw_dispatch_read(ctx, usage_work);
        return 1;
    }
    if (starts(path, PREFIX "quota/", &rest))
        return route_quota(ctx, rest);
    if (h2o_memis(path.base, path.len, H2O_STRLIT(PREFIX "config")) && is_method(ctx, "GET")) {
        config_work(ctx); /* from memory: nothing that blocks */
        gw_respond(ctx);
        return 1;
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT(PREFIX "drives")) && is_method(ctx, "GET")) {
        gw_dispatch_read(ctx, drives_work);
        return 1;
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT(PREFIX "drives/drain")) && is_method(ctx, "POST")) {
        ctx->handler_state = &drain;
        gw_dispatch(ctx, drain_work);
        return 1;
    }
    if (h2o_memis(path.base, path.len, H2O_STRLIT(PREFIX "drives/remove")) && is_method(ctx, "POST")) {
        ctx->handler_state = &remove;
        gw_dispatch(ctx, drain_work);
        return 1;
    }
    return 0;
}
