/* gw_quota.c — bucket usage counted from the drives, and quotas on buckets and users (gw_quota.h). */
#include "gateway/gw_quota.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "common/log.h"
#include "gateway/gw_bucket_config.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_iam.h"
#include "gateway/gw_lister.h"
#include "gateway/gw_replica.h"
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define USAGE_TTL_NS      (10 * 1000000000LL)
#define RECOUNT_MIN_NS    (1000000000LL) /* a refusal counts again when the figure is older */
#define QUOTA_TTL_NS      (2 * 1000000000LL)
#define CACHE_SLOTS       256
#define USERS_RECORD      "_users" /* '_' is never in a bucket name: this cannot be a bucket's */
#define USERS_INCARNATION 1

/* ---------------------------------------------------------------- usage */

int gw_usage_scan(gw_cluster_t *c, meta_bytes_t ns, gw_usage_t *out)
{
    gw_lister_t *l;
    const gw_list_entry_t *v;
    size_t n;
    int ret;

    memset(out, 0, sizeof(*out));
    if ((ret = gw_lister_open_versions(c, ns, (meta_bytes_t){"", 0}, &l)) != 0)
        return ret;
    while ((ret = gw_lister_next_versions(l, &v, &n)) == 1) {
        for (size_t i = 0; i < n; i++) {
            if (v[i].flags & META_OBJ_DELETE_MARKER)
                continue;
            out->versions++;
            out->bytes += v[i].size;
            out->objects += v[i].is_latest != 0;
        }
    }
    gw_lister_free(l);
    return ret < 0 ? ret : 0;
}

/* One gateway's counts and quotas, by name: a slot per hash, the newest entry wins a clash. */
typedef struct {
    char name[META_NS_MAX + 2];
    gw_usage_t usage;
    int64_t counted_ns; /* monotonic; 0: empty */
    int64_t stale_ns;   /* a delete since the count (0: none) */
} usage_entry_t;

typedef struct {
    char name[GW_IAM_NAME_MAX + META_NS_MAX + 4];
    uint64_t bytes;
    int64_t read_ns;
} quota_entry_t;

static pthread_mutex_t cache_mutex = PTHREAD_MUTEX_INITIALIZER;
static usage_entry_t usage_cache[CACHE_SLOTS]; /* per-process cache, rebuilt from the drives on demand */
static quota_entry_t quota_cache[CACHE_SLOTS];

static size_t slot(const char *p, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)p[i]) * 1099511628211ULL;
    return (size_t)(h % CACHE_SLOTS);
}

static usage_entry_t *usage_slot(meta_bytes_t ns)
{
    usage_entry_t *e = &usage_cache[slot(ns.base, ns.len)];
    return ns.len < sizeof(e->name) && strlen(e->name) == ns.len && memcmp(e->name, ns.base, ns.len) == 0 ? e : NULL;
}

int gw_usage_get(gw_cluster_t *c, meta_bytes_t ns, int refusing, gw_usage_t *out)
{
    int64_t now = yc_mono_ns();
    usage_entry_t *e;
    int ret;

    if (ns.len > META_NS_MAX)
        return GW_EINVAL;
    pthread_mutex_lock(&cache_mutex);
    if ((e = usage_slot(ns)) != NULL &&
        (refusing ? e->stale_ns == 0 && now - e->counted_ns < RECOUNT_MIN_NS
                  : now - e->counted_ns < USAGE_TTL_NS && (e->stale_ns == 0 || now - e->counted_ns < RECOUNT_MIN_NS))) {
        /* a delete not yet counted leaves the figure too high: it may let fewer writes through,
         * never more, and a refusal counts again */
        *out = e->usage;
        pthread_mutex_unlock(&cache_mutex);
        return 0;
    }
    pthread_mutex_unlock(&cache_mutex);
    if ((ret = gw_usage_scan(c, ns, out)) != 0)
        return ret;
    pthread_mutex_lock(&cache_mutex);
    e = &usage_cache[slot(ns.base, ns.len)];
    memcpy(e->name, ns.base, ns.len);
    e->name[ns.len] = '\0';
    e->usage = *out;
    e->counted_ns = now; /* from before the scan: writes during it are in it, or counted again later */
    e->stale_ns = 0;
    pthread_mutex_unlock(&cache_mutex);
    return 0;
}

void gw_usage_note_write(meta_bytes_t ns, uint64_t bytes)
{
    pthread_mutex_lock(&cache_mutex);
    usage_entry_t *e = usage_slot(ns);
    if (e != NULL) {
        e->usage.bytes += bytes;
        e->usage.versions++;
    }
    pthread_mutex_unlock(&cache_mutex);
}

void gw_usage_note_delete(meta_bytes_t ns)
{
    pthread_mutex_lock(&cache_mutex);
    usage_entry_t *e = usage_slot(ns);
    if (e != NULL && e->stale_ns == 0)
        e->stale_ns = yc_mono_ns();
    pthread_mutex_unlock(&cache_mutex);
}

/* ---------------------------------------------------------------- quotas */

static int quota_cached(const char *name, uint64_t *bytes)
{
    size_t len = strlen(name);
    int hit = 0;
    pthread_mutex_lock(&cache_mutex);
    quota_entry_t *e = &quota_cache[slot(name, len)];
    if (strcmp(e->name, name) == 0 && e->read_ns != 0 && yc_mono_ns() - e->read_ns < QUOTA_TTL_NS) {
        *bytes = e->bytes;
        hit = 1;
    }
    pthread_mutex_unlock(&cache_mutex);
    return hit;
}

static void quota_remember(const char *name, uint64_t bytes)
{
    size_t len = strlen(name);
    pthread_mutex_lock(&cache_mutex);
    quota_entry_t *e = &quota_cache[slot(name, len)];
    if (len < sizeof(e->name)) {
        memcpy(e->name, name, len + 1);
        e->bytes = bytes;
        e->read_ns = yc_mono_ns();
    }
    pthread_mutex_unlock(&cache_mutex);
}

int gw_quota_bucket_get(gw_cluster_t *c, meta_bytes_t bucket, uint64_t incarnation, uint64_t *bytes)
{
    char name[META_NS_MAX + 4];
    gw_conf_state_t state;
    h2o_iovec_t doc;
    void *raw;
    int ret;

    if (bucket.len > META_BUCKET_MAX)
        return GW_EINVAL;
    snprintf(name, sizeof(name), "b:%.*s:%llx", (int)bucket.len, bucket.base, (unsigned long long)incarnation);
    if (quota_cached(name, bytes))
        return 0;
    if ((ret = gw_conf_read(c, h2o_iovec_init(bucket.base, bucket.len), incarnation, GW_CONF_QUOTA, &raw, &state,
                            &doc)) != 0)
        return ret;
    /* a document that is not a decimal count of bytes sets no quota */
    if (state != GW_CONF_SET || yc_decimal_u64(doc.base, doc.len, bytes) != 0)
        *bytes = 0;
    free(raw);
    quota_remember(name, *bytes);
    return 0;
}

int gw_quota_bucket_set(gw_cluster_t *c, meta_bytes_t bucket, uint64_t incarnation, uint64_t bytes)
{
    char text[24], name[META_NS_MAX + 4];
    int n = snprintf(text, sizeof(text), "%llu", (unsigned long long)bytes), ret;

    if (bucket.len > META_BUCKET_MAX)
        return GW_EINVAL;
    ret = gw_conf_write(c, h2o_iovec_init(bucket.base, bucket.len), incarnation, GW_CONF_QUOTA,
                        bytes != 0 ? h2o_iovec_init(text, (size_t)n) : h2o_iovec_init(NULL, 0));
    snprintf(name, sizeof(name), "b:%.*s:%llx", (int)bucket.len, bucket.base, (unsigned long long)incarnation);
    if (ret == 0)
        quota_remember(name, bytes);
    return ret;
}

/* The users' quota document: a JSON object of name -> bytes (a new empty one when none). */
static int users_doc_read(gw_cluster_t *c, json_t **out)
{
    gw_conf_state_t state;
    h2o_iovec_t doc;
    void *raw;
    int ret =
        gw_conf_read(c, h2o_iovec_init(H2O_STRLIT(USERS_RECORD)), USERS_INCARNATION, GW_CONF_QUOTA, &raw, &state, &doc);
    if (ret != 0)
        return ret;
    *out = state == GW_CONF_SET ? json_loadb(doc.base, doc.len, 0, NULL) : NULL;
    free(raw);
    if (*out == NULL || !json_is_object(*out)) {
        json_decref(*out);
        *out = json_object();
    }
    return *out != NULL ? 0 : GW_ENOMEM;
}

int gw_quota_user_get(gw_cluster_t *c, const char *user, uint64_t *bytes)
{
    char name[GW_IAM_NAME_MAX + 4];
    json_t *doc;
    int ret;

    snprintf(name, sizeof(name), "u:%s", user);
    if (quota_cached(name, bytes))
        return 0;
    if ((ret = users_doc_read(c, &doc)) != 0)
        return ret;
    json_int_t v = json_integer_value(json_object_get(doc, user));
    *bytes = v > 0 ? (uint64_t)v : 0;
    json_decref(doc);
    quota_remember(name, *bytes);
    return 0;
}

int gw_quota_user_set(gw_cluster_t *c, const char *user, uint64_t bytes)
{
    static pthread_mutex_t write_mutex = PTHREAD_MUTEX_INITIALIZER; /* one read-modify-write at a time */
    char name[GW_IAM_NAME_MAX + 4];
    json_t *doc;
    char *text = NULL;
    int ret;

    if (bytes > (uint64_t)INT64_MAX)
        return GW_EINVAL;
    pthread_mutex_lock(&write_mutex);
    if ((ret = users_doc_read(c, &doc)) != 0)
        goto done;
    if (bytes != 0)
        json_object_set_new(doc, user, json_integer((json_int_t)bytes));
    else
        json_object_del(doc, user);
    if ((text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
        ret = GW_ENOMEM;
    else
        ret = gw_conf_write(c, h2o_iovec_init(H2O_STRLIT(USERS_RECORD)), USERS_INCARNATION, GW_CONF_QUOTA,
                            h2o_iovec_init(text, strlen(text)));
    json_decref(doc);
    free(text);
    snprintf(name, sizeof(name), "u:%s", user);
    if (ret == 0)
        quota_remember(name, bytes);
done:
    pthread_mutex_unlock(&write_mutex);
    return ret;
}

/* ---------------------------------------------------------------- a user's buckets */

typedef struct {
    gw_cluster_t *c;
    const char *user;
    int refusing;
    gw_usage_t sum;
    int ret;
} user_sum_t;

static int add_bucket(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    user_sum_t *s = arg;
    meta_bucket_t b;
    gw_usage_t u;
    char ns[META_NS_MAX + 1];

    if (meta_bucket_decode(val, vlen, &b) != 0 || b.state != META_BUCKET_ACTIVE || b.owner.len != strlen(s->user) ||
        memcmp(b.owner.base, s->user, b.owner.len) != 0)
        return 0;
    size_t n = meta_bucket_ns(b.name, b.incarnation, ns);
    if ((s->ret = gw_usage_get(s->c, (meta_bytes_t){ns, n}, s->refusing, &u)) != 0)
        return 1;
    s->sum.objects += u.objects;
    s->sum.versions += u.versions;
    s->sum.bytes += u.bytes;
    return 0;
}

int gw_usage_user(gw_cluster_t *c, const char *user, int refusing, gw_usage_t *out)
{
    user_sum_t s = {c, user, refusing, {0}, 0};
    meta_key_t prefix;
    int ret;

    meta_key_bucket((meta_bytes_t){"", 0}, &prefix);
    if ((ret = gw_replica_scan(c, &prefix, add_bucket, &s)) == 0)
        ret = s.ret;
    *out = s.sum;
    return ret;
}

/* ---------------------------------------------------------------- the check */

static int exceeds(uint64_t quota, uint64_t used, uint64_t adding)
{
    return quota != 0 && (used > quota || adding > quota - used);
}

static int refuse(gw_ctx_t *ctx, const char *whose, uint64_t quota, uint64_t used, uint64_t adding)
{
    char msg[256];
    snprintf(msg, sizeof(msg), "This write of %llu bytes would exceed the %s quota of %llu bytes (%llu bytes in use).",
             (unsigned long long)adding, whose, (unsigned long long)quota, (unsigned long long)used);
    gw_set_error(ctx, S3_ERR_QUOTA_EXCEEDED, h2o_strdup(&ctx->req->pool, msg, SIZE_MAX).base); /* kept by pointer */
    gw_set_error_field(ctx, "BucketName", ctx->bucket);
    yc_log(YC_LOG_INFO, "request_id=%s event=quota_exceeded quota=%s limit=%llu used=%llu adding=%llu", ctx->request_id,
           whose, (unsigned long long)quota, (unsigned long long)used, (unsigned long long)adding);
    return -1;
}

int gw_quota_check(gw_ctx_t *ctx, uint64_t adding)
{
    uint64_t bucket_quota = 0, user_quota = 0;
    char owner[GW_IAM_NAME_MAX + 1];
    gw_usage_t u;
    int ret;

    snprintf(owner, sizeof(owner), "%.*s", (int)ctx->bucket_owner.len, ctx->bucket_owner.base);
    if ((ret = gw_quota_bucket_get(ctx->cluster, gw_mb(ctx->bucket), ctx->bucket_incarnation, &bucket_quota)) != 0 ||
        (owner[0] != '\0' && (ret = gw_quota_user_get(ctx->cluster, owner, &user_quota)) != 0))
        goto unknown;
    /* each limit: the kept figure first, counted again before it refuses */
    for (int refusing = 0; bucket_quota != 0 && refusing < 2; refusing++) {
        if ((ret = gw_usage_get(ctx->cluster, gw_mb(ctx->bucket_ns), refusing, &u)) != 0)
            goto unknown;
        if (!exceeds(bucket_quota, u.bytes, adding))
            break;
        if (refusing)
            return refuse(ctx, "bucket's", bucket_quota, u.bytes, adding);
    }
    for (int refusing = 0; user_quota != 0 && refusing < 2; refusing++) {
        if ((ret = gw_usage_user(ctx->cluster, owner, refusing, &u)) != 0)
            goto unknown;
        if (!exceeds(user_quota, u.bytes, adding))
            break;
        if (refusing)
            return refuse(ctx, "bucket owner's", user_quota, u.bytes, adding);
    }
    return 0;
unknown:
    yc_log(YC_LOG_WARN, "request_id=%s event=quota_unknown err=%s", ctx->request_id, yc_errname(ret));
    return 0;
}
