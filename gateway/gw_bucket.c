/* gw_bucket.c — bucket operations, bucket incarnations and the bucket-record cache.
 *
 * Incarnations. A bucket gets a random incarnation when it is created, and its objects and
 * uploads live in the namespace of that incarnation ("name:incarnation", meta_bucket_ns), not
 * under its name. A bucket deleted and created again therefore starts empty, and anything a
 * racing writer put into the old incarnation is unreachable; gw_sweep.c collects it.
 *
 * DeleteBucket against a PUT, without making PUTs lock. A deletion marks the bucket record
 * DELETING (quorum write), then checks that the namespace is empty, then deletes the record; a
 * PUT (any write that makes an object visible) commits its object, then re-reads the bucket
 * record from the drives (gw_bucket_confirm), and answers 200 only if the record is still there,
 * of the same incarnation and not being deleted. Both sides write, then read what the other
 * wrote; quorums overlap, so at least one of them sees the other: either the PUT sees the mark
 * (it waits for the deletion to end and answers 200 if the bucket survived, NoSuchBucket if not),
 * or the deletion's emptiness check sees the PUT's object (BucketNotEmpty). A PUT can never be
 * acknowledged into a bucket that is then deleted.
 * A deletion that dies half-way leaves its mark; a mark older than DELETE_LEASE_NS counts as
 * absent, and a live deletion gives up (and unmarks) if it ever takes longer than
 * DELETE_DEADLINE_NS, which leaves DELETE_LEASE_NS - DELETE_DEADLINE_NS for clock differences
 * between gateways (the bound docs/architecture.md states).
 *
 * CreateBucket and DeleteBucket of one name hold a cluster lock (gw_lock.h) so that two of them
 * cannot interleave, and so does the full heal when it re-replicates a bucket record.
 *
 * Cache. Every object request must know its bucket's owner and incarnation, and reading a
 * majority of drives for each 4 KiB GET would cost more than the GET, so records found are
 * cached for CACHE_TTL_NS. A bucket deleted through this gateway leaves the cache at once;
 * through another gateway it may be seen for up to the TTL (docs/architecture.md) — writes are
 * still safe, since gw_bucket_confirm never uses the cache.
 *
 * The confirm's own shortcut. When every drive of the cluster is local, no bucket record can
 * change but through this process's databases, and each counts the bucket-record writes it
 * applied (meta_db_bucket_epoch). The confirm keeps what its last read of a bucket found with the
 * drives' epochs taken before that read; a later confirm that finds every epoch unchanged knows
 * that no bucket-record write returned on any drive since, so the read would find the same, and
 * takes it without reading. A deletion's mark that was not yet in that read returned after the
 * epochs were taken, that is after this PUT's commit, so the deletion's emptiness check, made
 * after its marks, sees the PUT's object: the argument above holds unchanged. With a remote drive
 * (whose records other gateways write) the confirm always reads.
 */
#include "gateway/gw_acl.h"
#include "gateway/gw_bucket_config.h"
#include "gateway/gw_authz.h"
#include "gateway/gw_roles.h"
#include "gateway/gw_body.h"
#include "gateway/gw_bucket_record.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_lister.h"
#include "gateway/gw_lock.h"
#include "common/log.h"
#include "gateway/gw_object.h"
#include "gateway/gw_replica.h"
#include "gateway/gw_heal.h"
#include "gateway/s3/names.h"
#include "gateway/s3/objectlock.h"
#include "gateway/s3/xml.h"
#include "common/clock.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define CACHE_SLOTS        1024
#define CACHE_TTL_NS       (2LL * 1000 * 1000 * 1000)
#define DELETE_LEASE_NS    (30LL * 1000 * 1000 * 1000)
#define DELETE_DEADLINE_NS (10LL * 1000 * 1000 * 1000)
#define CONFIRM_POLL_US    20000
#define CONFIRM_SLOTS      256
#define CONFIRM_DRIVES_MAX 32

typedef struct {
    char name[META_BUCKET_MAX + 1];
    char owner[META_ACCESS_KEY_MAX + 1];
    int64_t created_ns;
    uint64_t incarnation;
    uint32_t state;
    int64_t state_ns;
    uint32_t versioning; /* meta_bucket_t's */
    int64_t expires_ns;  /* 0: empty slot */
} cache_entry_t;

/* Process-wide, like the EC tables: one cache per gateway process. */
static cache_entry_t cache[CACHE_SLOTS];
static pthread_mutex_t cache_mutex = PTHREAD_MUTEX_INITIALIZER;

static size_t slot_of(h2o_iovec_t name)
{
    return XXH3_64bits(name.base, name.len) % CACHE_SLOTS;
}

static int cache_get(h2o_iovec_t name, cache_entry_t *out)
{
    int found = 0;
    cache_entry_t *e = &cache[slot_of(name)];
    pthread_mutex_lock(&cache_mutex);
    if (e->expires_ns > yc_now_ns() && strlen(e->name) == name.len && memcmp(e->name, name.base, name.len) == 0) {
        *out = *e;
        found = 1;
    }
    pthread_mutex_unlock(&cache_mutex);
    return found;
}

static void cache_put(const cache_entry_t *entry)
{
    h2o_iovec_t name = h2o_iovec_init(entry->name, strlen(entry->name));
    pthread_mutex_lock(&cache_mutex);
    cache[slot_of(name)] = *entry;
    cache[slot_of(name)].expires_ns = yc_now_ns() + CACHE_TTL_NS;
    pthread_mutex_unlock(&cache_mutex);
}

void gw_bucket_cache_forget(h2o_iovec_t name)
{
    cache_entry_t *e = &cache[slot_of(name)];
    pthread_mutex_lock(&cache_mutex);
    if (strlen(e->name) == name.len && memcmp(e->name, name.base, name.len) == 0)
        e->expires_ns = 0;
    pthread_mutex_unlock(&cache_mutex);
}

static void entry_from_record(const meta_bucket_t *b, cache_entry_t *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->name, b->name.base, b->name.len);
    memcpy(out->owner, b->owner.base, b->owner.len < META_ACCESS_KEY_MAX ? b->owner.len : META_ACCESS_KEY_MAX);
    out->created_ns = b->created_ns;
    out->incarnation = b->incarnation;
    out->state = b->state;
    out->state_ns = b->state_ns;
    out->versioning = b->versioning;
}

/* Reads the bucket record (cache first). 0, GW_ENOENT, GW_EQUORUM or GW_EIO. */
static int bucket_get(gw_ctx_t *ctx, h2o_iovec_t name, cache_entry_t *out)
{
    meta_bucket_t b;
    void *raw;
    int ret;

    if (name.len > META_BUCKET_MAX)
        return GW_ENOENT;
    if (cache_get(name, out))
        return 0;
    if ((ret = gw_bucket_record_read(ctx->cluster, gw_mb(name), &raw, &b)) != 0)
        return ret;
    entry_from_record(&b, out);
    free(raw);
    cache_put(out);
    return 0;
}

static int owns(const gw_ctx_t *ctx, const cache_entry_t *b)
{
    return ctx->is_root || (strlen(b->owner) == ctx->user.len && memcmp(b->owner, ctx->user.base, ctx->user.len) == 0);
}

/* The namespace of entry's incarnation, in ctx's pool. */
static h2o_iovec_t ns_of(gw_ctx_t *ctx, const cache_entry_t *b)
{
    char *ns = h2o_mem_alloc_pool(&ctx->req->pool, META_NS_MAX + 1);
    size_t n = meta_bucket_ns((meta_bytes_t){b->name, strlen(b->name)}, b->incarnation, ns);
    return h2o_iovec_init(ns, n);
}

/* Finds bucket name and asks the evaluator whether ctx may perform action on it (key.base NULL)
 * or on its key; CORS headers added when cors is set. */
static int authorize(gw_ctx_t *ctx, h2o_iovec_t name, int evaluate, s3_policy_action_t action, h2o_iovec_t key,
                     int cors, h2o_iovec_t *ns, uint64_t *incarnation)
{
    cache_entry_t b;
    int ret = bucket_get(ctx, name, &b);
    if (ret == GW_ENOENT) {
        gw_set_error(ctx, S3_ERR_NO_SUCH_BUCKET, NULL);
        return -1;
    }
    if (ret != 0) {
        gw_set_store_error(ctx, ret);
        return -1;
    }
    gw_authz_bucket_t ab = {name, b.incarnation, h2o_iovec_init(b.owner, strlen(b.owner))};
    if (evaluate) {
        if (gw_authz_check(ctx, &ab, action, key, cors) != 0)
            return -1;
    } else if (cors) {
        const gw_bucket_access_t *a;
        if ((ret = gw_authz_access(ctx, name, b.incarnation, &a)) != 0) {
            gw_set_store_error(ctx, ret);
            return -1;
        }
        gw_cors_headers(ctx, a);
    }
    if (h2o_memis(name.base, name.len, ctx->bucket.base, ctx->bucket.len)) /* not a copy's source */
        ctx->bucket_owner = h2o_strdup(&ctx->req->pool, b.owner, strlen(b.owner));
    if (ns != NULL)
        *ns = ns_of(ctx, &b);
    if (incarnation != NULL)
        *incarnation = b.incarnation;
    return 0;
}

int gw_bucket_authorize_name(gw_ctx_t *ctx, h2o_iovec_t name, h2o_iovec_t key, int version, h2o_iovec_t *ns,
                             uint64_t *incarnation)
{
    return authorize(ctx, name, 1, version ? S3_POLICY_ACTION_GET_OBJECT_VERSION : S3_POLICY_ACTION_GET_OBJECT, key, 0,
                     ns, incarnation);
}

uint32_t gw_bucket_versioning(gw_ctx_t *ctx)
{
    cache_entry_t b;
    return bucket_get(ctx, ctx->bucket, &b) == 0 ? b.versioning : 0;
}

int gw_bucket_authorize(gw_ctx_t *ctx)
{
    s3_policy_action_t action;
    if (gw_authz_action_of(ctx, &action) != 0) {
        gw_set_error(ctx, S3_ERR_ACCESS_DENIED, NULL);
        return -1;
    }
    h2o_iovec_t key = ctx->key.len > 0 ? ctx->key : h2o_iovec_init(NULL, 0);
    /* DeleteObjects names its keys in the body: each is decided on its own */
    int evaluate = ctx->op != GW_OP_DELETE_OBJECTS;
    return authorize(ctx, ctx->bucket, evaluate, action, key, 1, &ctx->bucket_ns, &ctx->bucket_incarnation);
}

int gw_bucket_authorize_key(gw_ctx_t *ctx, int action, h2o_iovec_t key)
{
    return authorize(ctx, ctx->bucket, 1, (s3_policy_action_t)action, key, 0, NULL, NULL);
}

int gw_bucket_lookup(gw_ctx_t *ctx, h2o_iovec_t name, uint64_t *incarnation)
{
    cache_entry_t b;
    int ret = bucket_get(ctx, name, &b);
    if (ret == 0)
        *incarnation = b.incarnation;
    return ret;
}

/* What a confirm read of one bucket found, and the epochs of the drives taken before it. */
typedef struct {
    const gw_cluster_t *cluster;
    char name[META_BUCKET_MAX + 1];
    uint64_t incarnation;
    uint32_t state;
    int64_t state_ns;
    size_t ndrives;
    meta_db_t *dbs[CONFIRM_DRIVES_MAX];
    uint64_t epochs[CONFIRM_DRIVES_MAX];
} confirm_entry_t;

/* Process-wide like the cache above; an entry is only ever taken with the epochs it was read at. */
static confirm_entry_t confirm_cache[CONFIRM_SLOTS];
static pthread_mutex_t confirm_mutex = PTHREAD_MUTEX_INITIALIZER;

/* The databases and bucket epochs of every drive of c, into e; 0 when some drive is not local
 * (or not open), or there are too many. */
static int confirm_epochs(gw_cluster_t *c, confirm_entry_t *e)
{
    if (c->ndrives > CONFIRM_DRIVES_MAX)
        return 0;
    for (size_t i = 0; i < c->ndrives; i++) {
        /* the client first: a drive replaced in its place (gw_cluster_replace_local) has its new
         * engine published before its client, and its database draws a new epoch */
        if (__atomic_load_n(&c->drives[i].client, __ATOMIC_ACQUIRE) == NULL)
            return 0;
        store_drive_t *d = c->drives[i].local;
        if (d == NULL)
            return 0;
        e->dbs[i] = store_drive_db(d);
        e->epochs[i] = meta_db_bucket_epoch(e->dbs[i]);
    }
    e->ndrives = c->ndrives;
    return 1;
}

static int confirm_cache_get(const confirm_entry_t *now, h2o_iovec_t name, confirm_entry_t *out)
{
    const confirm_entry_t *e = &confirm_cache[slot_of(name) % CONFIRM_SLOTS];
    int found;

    pthread_mutex_lock(&confirm_mutex);
    found = e->cluster == now->cluster && e->ndrives == now->ndrives && strlen(e->name) == name.len &&
            memcmp(e->name, name.base, name.len) == 0 && memcmp(e->dbs, now->dbs, sizeof(e->dbs)) == 0 &&
            memcmp(e->epochs, now->epochs, sizeof(e->epochs)) == 0;
    if (found)
        *out = *e;
    pthread_mutex_unlock(&confirm_mutex);
    return found;
}

static void confirm_cache_put(const confirm_entry_t *e)
{
    h2o_iovec_t name = h2o_iovec_init(e->name, strlen(e->name));

    pthread_mutex_lock(&confirm_mutex);
    confirm_cache[slot_of(name) % CONFIRM_SLOTS] = *e;
    pthread_mutex_unlock(&confirm_mutex);
}

/* The bucket record's incarnation and state as a read of the drives would find them now: from
 * the confirm cache when no drive's bucket records changed since its read (see the top), else
 * read. 0, or gw_bucket_record_read's error. */
static int confirm_read(gw_ctx_t *ctx, uint64_t *incarnation, uint32_t *state, int64_t *state_ns)
{
    confirm_entry_t e;
    meta_bucket_t b;
    void *raw;
    int ret;

    memset(&e, 0, sizeof(e));
    e.cluster = ctx->cluster;
    int cacheable = ctx->bucket.len <= META_BUCKET_MAX && confirm_epochs(ctx->cluster, &e);
    if (cacheable && confirm_cache_get(&e, ctx->bucket, &e)) {
        *incarnation = e.incarnation;
        *state = e.state;
        *state_ns = e.state_ns;
        return 0;
    }
    if ((ret = gw_bucket_record_read(ctx->cluster, gw_mb(ctx->bucket), &raw, &b)) != 0)
        return ret;
    *incarnation = b.incarnation;
    *state = b.state;
    *state_ns = b.state_ns;
    free(raw);
    if (cacheable) {
        memcpy(e.name, ctx->bucket.base, ctx->bucket.len);
        e.name[ctx->bucket.len] = '\0';
        e.incarnation = *incarnation;
        e.state = *state;
        e.state_ns = *state_ns;
        confirm_cache_put(&e);
    }
    return 0;
}

int gw_bucket_confirm(gw_ctx_t *ctx)
{
    int64_t give_up = yc_mono_ns() + DELETE_LEASE_NS;
    uint64_t incarnation;
    uint32_t state;
    int64_t state_ns;
    int ret;

    for (;;) {
        if ((ret = confirm_read(ctx, &incarnation, &state, &state_ns)) != 0) {
            if (ret == GW_ENOENT) {
                gw_bucket_cache_forget(ctx->bucket);
                gw_set_error(ctx, S3_ERR_NO_SUCH_BUCKET, NULL);
                return GW_ENOENT;
            }
            gw_set_store_error(ctx, ret);
            return ret;
        }
        int deleting = state == META_BUCKET_DELETING && yc_now_ns() - state_ns < DELETE_LEASE_NS;
        if (incarnation != ctx->bucket_incarnation) {
            /* deleted and created again while this request ran: its write went to the old one */
            gw_bucket_cache_forget(ctx->bucket);
            gw_set_error(ctx, S3_ERR_OPERATION_ABORTED,
                         "The bucket was deleted and created again while this request ran; please try again.");
            return GW_ENOENT;
        }
        if (!deleting)
            return 0;
        /* a deletion is deciding whether the bucket is empty: its answer decides ours */
        if (yc_mono_ns() > give_up) {
            gw_set_store_error(ctx, GW_EQUORUM);
            return GW_EQUORUM;
        }
        usleep(CONFIRM_POLL_US);
    }
}

/* ---------------------------------------------------------------- ListBuckets */

/* Paging as S3's ListBuckets: max-buckets (1..10000) buckets per answer in name order, prefix,
 * bucket-region (every bucket is in the configured region, or in its LocationConstraint), and a
 * ContinuationToken when more follow: the base64 of the last name answered, opaque to clients;
 * the next page starts after it. Without max-buckets, every bucket is listed (as before). */
#define MAX_BUCKETS_LIMIT 10000
#define MSG_MAX_BUCKETS   "Argument max-buckets must be an integer between 1 and 10000"
#define MSG_BAD_TOKEN     "The continuation token provided is incorrect"

typedef struct {
    gw_ctx_t *ctx;
    s3_xml_writer_t *w;
    h2o_iovec_t prefix, region, after; /* after: the last name of the previous page ("" none) */
    uint32_t max, shown;
    char last[META_BUCKET_MAX + 1];
    size_t last_len;
    int truncated;
} list_buckets_t;

static h2o_iovec_t bucket_region(const gw_ctx_t *ctx, const meta_bucket_t *b)
{
    if (b->location.len > 0)
        return gw_iov(b->location);
    return h2o_iovec_init(ctx->env->cfg->region, strlen(ctx->env->cfg->region));
}

static int list_one(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    list_buckets_t *lb = arg;
    meta_bucket_t b;
    if (meta_bucket_decode(val, vlen, &b) != 0)
        return 0;
    if (!lb->ctx->is_root && !gw_roles_sees_all_buckets(lb->ctx) &&
        !(b.owner.len == lb->ctx->user.len && memcmp(b.owner.base, lb->ctx->user.base, b.owner.len) == 0))
        return 0;
    if (lb->prefix.len > 0 &&
        (b.name.len < lb->prefix.len || memcmp(b.name.base, lb->prefix.base, lb->prefix.len) != 0))
        return 0;
    if (lb->after.len > 0) { /* names come in order: skip up to and including the token's */
        size_t n = b.name.len < lb->after.len ? b.name.len : lb->after.len;
        int cmp = memcmp(b.name.base, lb->after.base, n);
        if (cmp < 0 || (cmp == 0 && b.name.len <= lb->after.len))
            return 0;
    }
    h2o_iovec_t region = bucket_region(lb->ctx, &b);
    if (lb->region.base != NULL && !h2o_memis(region.base, region.len, lb->region.base, lb->region.len))
        return 0;
    if (lb->shown == lb->max) {
        lb->truncated = 1; /* one more matches: the page ends with the last one shown */
        return 1;
    }
    s3_xml_open(lb->w, "Bucket");
    s3_xml_element(lb->w, "Name", gw_iov(b.name));
    s3_xml_element_time(lb->w, "CreationDate", b.created_ns);
    s3_xml_element(lb->w, "BucketRegion", region);
    s3_xml_close(lb->w, "Bucket");
    lb->shown++;
    lb->last_len = b.name.len < META_BUCKET_MAX ? b.name.len : META_BUCKET_MAX;
    memcpy(lb->last, b.name.base, lb->last_len);
    return 0;
}

/* Reads max-buckets and continuation-token into lb; sets the error and returns -1 when bad. */
static int list_buckets_params(gw_ctx_t *ctx, list_buckets_t *lb, char *after)
{
    h2o_iovec_t max = s3_query_get(&ctx->query, "max-buckets"), token = s3_query_get(&ctx->query, "continuation-token");
    uint64_t n = 0;

    lb->max = UINT32_MAX;
    if (max.base != NULL) {
        for (size_t i = 0; i < max.len && n <= MAX_BUCKETS_LIMIT; i++)
            n = max.base[i] >= '0' && max.base[i] <= '9' ? n * 10 + (uint64_t)(max.base[i] - '0') : UINT64_MAX;
        if (max.len == 0 || n < 1 || n > MAX_BUCKETS_LIMIT) {
            gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, MSG_MAX_BUCKETS);
            gw_set_error_field(ctx, "ArgumentName", h2o_iovec_init(H2O_STRLIT("max-buckets")));
            gw_set_error_field(ctx, "ArgumentValue", max);
            return -1;
        }
        lb->max = (uint32_t)n;
    }
    if (token.base != NULL) {
        size_t len = 0;
        if (token.len == 0 || token.len > 4 * ((META_BUCKET_MAX + 2) / 3) ||
            yc_base64_decode(token.base, token.len, (uint8_t *)after, META_BUCKET_MAX, &len) != 0 || len == 0) {
            gw_set_error(ctx, S3_ERR_INVALID_ARGUMENT, MSG_BAD_TOKEN);
            gw_set_error_field(ctx, "ArgumentName", h2o_iovec_init(H2O_STRLIT("continuation-token")));
            gw_set_error_field(ctx, "ArgumentValue", token);
            return -1;
        }
        lb->after = h2o_iovec_init(after, len);
    }
    lb->prefix = s3_query_get(&ctx->query, "prefix");
    lb->region = s3_query_get(&ctx->query, "bucket-region");
    return 0;
}

static void list_buckets_work(gw_ctx_t *ctx)
{
    s3_xml_writer_t w;
    meta_key_t prefix;
    list_buckets_t lb = {ctx, &w};
    char after[META_BUCKET_MAX + 1];
    int ret;

    if (list_buckets_params(ctx, &lb, after) != 0 ||
        gw_authz_service_check(ctx, S3_POLICY_ACTION_LIST_ALL_MY_BUCKETS) != 0)
        return;
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "ListAllMyBucketsResult");
    gw_acl_write_owner(&w, "Owner", ctx->user);
    s3_xml_open(&w, "Buckets");
    meta_key_bucket((meta_bytes_t){"", 0}, &prefix);
    if ((ret = gw_replica_scan(ctx->cluster, &prefix, list_one, &lb)) != 0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    s3_xml_close(&w, "Buckets");
    if (lb.truncated) {
        char token[4 * ((META_BUCKET_MAX + 2) / 3) + 1];
        size_t n = yc_base64_encode((const uint8_t *)lb.last, lb.last_len, token);
        s3_xml_element(&w, "ContinuationToken", h2o_iovec_init(token, n));
    }
    if (lb.prefix.base != NULL)
        s3_xml_element(&w, "Prefix", lb.prefix);
    s3_xml_close(&w, "ListAllMyBucketsResult");
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
}

void gw_list_buckets(gw_ctx_t *ctx)
{
    if (ctx->access_key.base == NULL) { /* anonymous: there is no one whose buckets to list */
        gw_fail(ctx, S3_ERR_ACCESS_DENIED, NULL);
        return;
    }
    gw_dispatch_read(ctx, list_buckets_work);
}

/* ---------------------------------------------------------------- CreateBucket */

static uint64_t new_incarnation(void)
{
    uint8_t id[META_ID_LEN];
    uint64_t v = 0;
    do {
        yc_random_id(id);
        memcpy(&v, id, sizeof(v));
    } while (v == 0);
    return v;
}

/* CreateBucket, before the record b is written: with x-amz-bucket-object-lock-enabled: true,
 * versioning Enabled in b and the bucket's object-lock record written first, so that the bucket
 * is never seen without its lock (gw_object_lock.h). 0, or the error set and non-zero. */
static int create_with_object_lock(gw_ctx_t *ctx, meta_bucket_t *b)
{
    s3_objectlock_config_t none = {S3_LOCK_NONE, 0, 0};
    h2o_iovec_t v = gw_header(ctx, "x-amz-bucket-object-lock-enabled");
    s3_xml_writer_t w;
    int ret;

    if (v.base == NULL || !h2o_lcstris(v.base, v.len, H2O_STRLIT("true")))
        return 0;
    b->versioning = 1;
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_objectlock_write_config(&w, &none);
    /* a new incarnation: no gateway has a cached answer for it to forget */
    if ((ret = gw_conf_write(ctx->cluster, ctx->bucket, b->incarnation, GW_CONF_OBJECT_LOCK,
                             s3_xml_writer_result(&w))) != 0) {
        gw_set_store_error(ctx, ret);
        return -1;
    }
    return 0;
}

static void create_bucket_work(gw_ctx_t *ctx)
{
    const gw_config_t *cfg = ctx->env->cfg;
    h2o_iovec_t location = h2o_iovec_init("", 0);
    char lname[META_BUCKET_MAX + 8];
    meta_bucket_t existing;
    gw_lock_t lock;
    void *raw = NULL;
    int ret;

    if (gw_authz_create_bucket_check(ctx, ctx->bucket) != 0)
        return;
    if (gw_body_prepare(ctx) != 0)
        return;
    if (ctx->body.len > 0) {
        s3_xml_create_bucket_t cb;
        if ((ret = s3_xml_parse_create_bucket(&ctx->req->pool, ctx->body, &cb)) != 0) {
            gw_set_error(ctx, s3_error_from_ret(ret), NULL);
            return;
        }
        if (cb.location_constraint.base != NULL)
            location = cb.location_constraint;
    }
    if (location.len > 0 && !h2o_memis(location.base, location.len, cfg->region, strlen(cfg->region))) {
        gw_set_error(ctx, S3_ERR_INVALID_LOCATION_CONSTRAINT, "The specified location-constraint is not valid");
        return;
    }
    if (gw_acl_bucket_check(ctx) != 0)
        return;
    if ((ret = gw_lock_cluster(ctx->cluster, gw_bucket_lock_name(gw_mb(ctx->bucket), lname), GW_LOCK_WAIT_NS, &lock)) !=
        0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    /* under the lock and from the drives: a cached answer could be another gateway's past */
    ret = gw_bucket_record_read(ctx->cluster, gw_mb(ctx->bucket), &raw, &existing);
    if (ret == 0) {
        cache_entry_t e;
        entry_from_record(&existing, &e);
        if (!owns(ctx, &e))
            gw_set_error(ctx, S3_ERR_BUCKET_ALREADY_EXISTS, NULL);
        else if (strcmp(cfg->region, "us-east-1") != 0)
            gw_set_error(ctx, S3_ERR_BUCKET_ALREADY_OWNED_BY_YOU, NULL);
        /* else: S3 answers 200 in us-east-1 to the owner creating it again, and changes nothing */
        goto done;
    }
    if (ret != GW_ENOENT) {
        gw_set_store_error(ctx, ret);
        goto done;
    }
    int64_t now = yc_now_ns();
    meta_bucket_t b = {.name = gw_mb(ctx->bucket),
                       .owner = gw_mb(ctx->user),
                       .location = gw_mb(location),
                       .created_ns = now,
                       .incarnation = new_incarnation(),
                       .state = META_BUCKET_ACTIVE,
                       .state_ns = now,
                       .updated_ns = now};
    if (create_with_object_lock(ctx, &b) != 0)
        goto done;
    if ((ret = gw_bucket_record_write(ctx->cluster, &b)) != 0) {
        gw_set_store_error(ctx, ret);
        goto done;
    }
    gw_bucket_cache_forget(ctx->bucket);
    gw_acl_bucket_created(ctx, b.incarnation);
done:
    if (ctx->error == S3_OK) {
        char loc[META_BUCKET_MAX + 2];
        snprintf(loc, sizeof(loc), "/%.*s", (int)ctx->bucket.len, ctx->bucket.base);
        gw_add_header_str(ctx, "location", loc);
    }
    free(raw);
    gw_lock_release(&lock);
}

void gw_create_bucket(gw_ctx_t *ctx)
{
    int ret;
    if (ctx->access_key.base == NULL) { /* a bucket needs an owner */
        gw_fail(ctx, S3_ERR_ACCESS_DENIED, NULL);
        return;
    }
    if ((ret = s3_bucket_name_validate(ctx->bucket)) != 0) {
        gw_fail(ctx, s3_error_from_ret(ret), NULL);
        return;
    }
    gw_dispatch(ctx, create_bucket_work);
}

/* ---------------------------------------------------------------- HeadBucket, location */

static void head_bucket_work(gw_ctx_t *ctx)
{
    const gw_config_t *cfg = ctx->env->cfg;
    if (gw_bucket_authorize(ctx) == 0)
        gw_add_header_str(ctx, "x-amz-bucket-region", cfg->region);
}

void gw_head_bucket(gw_ctx_t *ctx)
{
    gw_dispatch_read(ctx, head_bucket_work);
}

static void location_work(gw_ctx_t *ctx)
{
    const gw_config_t *cfg = ctx->env->cfg;
    s3_xml_writer_t w;
    if (gw_bucket_authorize(ctx) != 0)
        return;
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_xml_declaration(&w);
    s3_xml_open_root(&w, "LocationConstraint");
    /* S3 answers an empty constraint for us-east-1, the region whose name is implied */
    if (strcmp(cfg->region, "us-east-1") != 0)
        s3_xml_text(&w, h2o_iovec_init(cfg->region, strlen(cfg->region)));
    s3_xml_close(&w, "LocationConstraint");
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
}

void gw_get_bucket_location(gw_ctx_t *ctx)
{
    gw_dispatch_read(ctx, location_work);
}

/* ---------------------------------------------------------------- DeleteBucket */

/* 1 when the namespace holds a visible object, 0 when empty, negative on error. */
static int ns_has_objects(gw_cluster_t *c, h2o_iovec_t ns)
{
    gw_lister_t *l;
    gw_list_entry_t e;
    int ret;
    if ((ret = gw_lister_open(c, gw_mb(ns), (meta_bytes_t){"", 0}, &l)) != 0)
        return ret;
    ret = gw_lister_next(l, &e);
    gw_lister_free(l);
    return ret;
}

static void delete_bucket_work(gw_ctx_t *ctx)
{
    char lname[META_BUCKET_MAX + 8];
    meta_bucket_t b;
    meta_key_t key;
    gw_lock_t lock;
    void *raw = NULL;
    int ret;

    if (gw_bucket_authorize(ctx) != 0)
        return;
    if ((ret = gw_lock_cluster(ctx->cluster, gw_bucket_lock_name(gw_mb(ctx->bucket), lname), GW_LOCK_WAIT_NS, &lock)) !=
        0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    if ((ret = gw_bucket_record_read(ctx->cluster, gw_mb(ctx->bucket), &raw, &b)) != 0 ||
        b.incarnation != ctx->bucket_incarnation) {
        gw_bucket_cache_forget(ctx->bucket);
        if (ret == 0 || ret == GW_ENOENT)
            gw_set_error(ctx, S3_ERR_NO_SUCH_BUCKET, NULL);
        else
            gw_set_store_error(ctx, ret);
        goto done;
    }
    /* 1. the mark: from here on, a PUT that commits waits for our answer (gw_bucket_confirm) */
    int64_t started = yc_mono_ns();
    b.state = META_BUCKET_DELETING;
    b.state_ns = b.updated_ns = yc_now_ns();
    if ((ret = gw_bucket_record_write(ctx->cluster, &b)) != 0) {
        gw_set_store_error(ctx, ret);
        goto done;
    }
    /* 2. empty? every PUT acknowledged before the mark is visible to this listing */
    ret = ns_has_objects(ctx->cluster, ctx->bucket_ns);
    if (ret == 0 && yc_mono_ns() - started > DELETE_DEADLINE_NS)
        ret = GW_EQUORUM; /* too slow: a PUT may already count our mark as stale */
    if (ret != 0) {
        b.state = META_BUCKET_ACTIVE;
        b.state_ns = b.updated_ns = yc_now_ns();
        if (gw_bucket_record_write(ctx->cluster, &b) != 0)
            yc_log(YC_LOG_WARN, "request_id=%s event=bucket_unmark_failed bucket=%.*s", ctx->request_id,
                   (int)ctx->bucket.len, ctx->bucket.base); /* the mark runs out with its lease */
        if (ret == 1)
            gw_set_error(ctx, S3_ERR_BUCKET_NOT_EMPTY, NULL);
        else
            gw_set_store_error(ctx, ret);
        goto done;
    }
    /* 3. gone: what a racing writer leaves in the old namespace is collected later */
    meta_key_bucket(gw_mb(ctx->bucket), &key);
    if ((ret = gw_replica_delete(ctx->cluster, &key)) != 0) {
        gw_set_store_error(ctx, ret);
        goto done;
    }
    gw_bucket_cache_forget(ctx->bucket);
    gw_authz_forget(ctx->bucket);
    gw_heal_sweep_later(ctx->cluster->healer, gw_mb(ctx->bucket_ns));
    ctx->status = 204;
done:
    free(raw);
    gw_lock_release(&lock);
}

void gw_delete_bucket(gw_ctx_t *ctx)
{
    gw_dispatch(ctx, delete_bucket_work);
}
