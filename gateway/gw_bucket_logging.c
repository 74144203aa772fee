/* gw_bucket_logging.c — Put/GetBucketLogging and the delivery of log objects (design in
 * gw_bucket_logging.h).
 *
 * A queued line is formatted whole but for its first field, the bucket owner, which is written
 * "-" and filled in at delivery from the bucket record the delivery reads anyway.
 */
#include "gateway/gw_bucket_logging.h"
#include "common/bytes.h"
#include "common/clock.h"
#include "common/id.h"
#include "common/log.h"
#include "gateway/gw_acl.h"
#include "gateway/gw_authz.h"
#include "gateway/gw_body.h"
#include "gateway/gw_bucket_config.h"
#include "gateway/gw_bucket_record.h"
#include "gateway/gw_checksums.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_object.h"
#include "gateway/s3/logging.h"
#include "gateway/s3/xml.h"
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 256 /* buckets whose configuration is remembered (a direct-mapped table) */

typedef struct line {
    struct line *next;
    size_t bucket_len, len;
    char data[]; /* bucket name, then the line */
} line_t;

typedef struct {
    char bucket[META_BUCKET_MAX + 1];
    int logs;           /* 0: known not to log */
    int64_t expires_ns; /* monotonic; 0: empty slot */
} cache_slot_t;

struct gw_bucket_logging {
    gw_cluster_t *cluster;
    int64_t interval_ns;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    line_t *head, *tail;
    size_t queued_bytes;
    int stopping;
    cache_slot_t cache[CACHE_SLOTS];
    atomic_uint_fast64_t dropped;
    pthread_t thread;
};

/* ---------------------------------------------------------------- operation names */

const char *gw_bucket_logging_operation(gw_op_t op)
{
    switch (op) {
    case GW_OP_LIST_BUCKETS:
        return "REST.GET.SERVICE";
    case GW_OP_CREATE_BUCKET:
        return "REST.PUT.BUCKET";
    case GW_OP_HEAD_BUCKET:
        return "REST.HEAD.BUCKET";
    case GW_OP_DELETE_BUCKET:
        return "REST.DELETE.BUCKET";
    case GW_OP_GET_BUCKET_LOCATION:
        return "REST.GET.LOCATION";
    case GW_OP_GET_BUCKET_VERSIONING:
        return "REST.GET.VERSIONING";
    case GW_OP_PUT_BUCKET_VERSIONING:
        return "REST.PUT.VERSIONING";
    case GW_OP_LIST_OBJECTS:
    case GW_OP_LIST_OBJECTS_V2:
        return "REST.GET.BUCKET";
    case GW_OP_LIST_OBJECT_VERSIONS:
        return "REST.GET.BUCKETVERSIONS";
    case GW_OP_LIST_MULTIPART_UPLOADS:
        return "REST.GET.UPLOADS";
    case GW_OP_DELETE_OBJECTS:
        return "REST.POST.MULTI_OBJECT_DELETE";
    case GW_OP_GET_OBJECT:
        return "REST.GET.OBJECT";
    case GW_OP_HEAD_OBJECT:
        return "REST.HEAD.OBJECT";
    case GW_OP_GET_OBJECT_ATTRIBUTES:
        return "REST.GET.OBJECT_ATTRIBUTES";
    case GW_OP_PUT_OBJECT:
        return "REST.PUT.OBJECT";
    case GW_OP_POST_OBJECT:
        return "REST.POST.OBJECT";
    case GW_OP_COPY_OBJECT:
        return "REST.COPY.OBJECT";
    case GW_OP_DELETE_OBJECT:
        return "REST.DELETE.OBJECT";
    case GW_OP_CREATE_MULTIPART_UPLOAD:
        return "REST.POST.UPLOADS";
    case GW_OP_UPLOAD_PART:
        return "REST.PUT.PART";
    case GW_OP_UPLOAD_PART_COPY:
        return "REST.COPY.PART";
    case GW_OP_COMPLETE_MULTIPART_UPLOAD:
        return "REST.POST.UPLOAD";
    case GW_OP_ABORT_MULTIPART_UPLOAD:
        return "REST.DELETE.UPLOAD";
    case GW_OP_LIST_PARTS:
        return "REST.GET.UPLOAD";
    case GW_OP_PUT_OBJECT_TAGGING:
        return "REST.PUT.OBJECT_TAGGING";
    case GW_OP_GET_OBJECT_TAGGING:
        return "REST.GET.OBJECT_TAGGING";
    case GW_OP_DELETE_OBJECT_TAGGING:
        return "REST.DELETE.OBJECT_TAGGING";
    case GW_OP_PUT_BUCKET_POLICY:
        return "REST.PUT.BUCKETPOLICY";
    case GW_OP_GET_BUCKET_POLICY:
        return "REST.GET.BUCKETPOLICY";
    case GW_OP_DELETE_BUCKET_POLICY:
        return "REST.DELETE.BUCKETPOLICY";
    case GW_OP_GET_BUCKET_POLICY_STATUS:
        return "REST.GET.BUCKETPOLICYSTATUS";
    case GW_OP_PUT_BUCKET_CORS:
        return "REST.PUT.CORS";
    case GW_OP_GET_BUCKET_CORS:
        return "REST.GET.CORS";
    case GW_OP_DELETE_BUCKET_CORS:
        return "REST.DELETE.CORS";
    case GW_OP_PUT_BUCKET_TAGGING:
        return "REST.PUT.BUCKET_TAGGING";
    case GW_OP_GET_BUCKET_TAGGING:
        return "REST.GET.BUCKET_TAGGING";
    case GW_OP_DELETE_BUCKET_TAGGING:
        return "REST.DELETE.BUCKET_TAGGING";
    case GW_OP_PUT_BUCKET_OWNERSHIP_CONTROLS:
        return "REST.PUT.OWNERSHIP_CONTROLS";
    case GW_OP_GET_BUCKET_OWNERSHIP_CONTROLS:
        return "REST.GET.OWNERSHIP_CONTROLS";
    case GW_OP_DELETE_BUCKET_OWNERSHIP_CONTROLS:
        return "REST.DELETE.OWNERSHIP_CONTROLS";
    case GW_OP_PUT_PUBLIC_ACCESS_BLOCK:
        return "REST.PUT.PUBLIC_ACCESS_BLOCK";
    case GW_OP_GET_PUBLIC_ACCESS_BLOCK:
        return "REST.GET.PUBLIC_ACCESS_BLOCK";
    case GW_OP_DELETE_PUBLIC_ACCESS_BLOCK:
        return "REST.DELETE.PUBLIC_ACCESS_BLOCK";
    case GW_OP_PUT_BUCKET_LIFECYCLE:
        return "REST.PUT.LIFECYCLE";
    case GW_OP_GET_BUCKET_LIFECYCLE:
        return "REST.GET.LIFECYCLE";
    case GW_OP_DELETE_BUCKET_LIFECYCLE:
        return "REST.DELETE.LIFECYCLE";
    case GW_OP_PUT_OBJECT_LOCK_CONFIGURATION:
        return "REST.PUT.OBJECT_LOCK_CONFIGURATION";
    case GW_OP_GET_OBJECT_LOCK_CONFIGURATION:
        return "REST.GET.OBJECT_LOCK_CONFIGURATION";
    case GW_OP_GET_BUCKET_ACL:
    case GW_OP_GET_OBJECT_ACL:
        return "REST.GET.ACL";
    case GW_OP_PUT_BUCKET_ACL:
    case GW_OP_PUT_OBJECT_ACL:
        return "REST.PUT.ACL";
    case GW_OP_PUT_OBJECT_RETENTION:
        return "REST.PUT.RETENTION";
    case GW_OP_GET_OBJECT_RETENTION:
        return "REST.GET.RETENTION";
    case GW_OP_PUT_OBJECT_LEGAL_HOLD:
        return "REST.PUT.LEGAL_HOLD";
    case GW_OP_GET_OBJECT_LEGAL_HOLD:
        return "REST.GET.LEGAL_HOLD";
    case GW_OP_PUT_BUCKET_LOGGING:
        return "REST.PUT.LOGGING_STATUS";
    case GW_OP_GET_BUCKET_LOGGING:
        return "REST.GET.LOGGING_STATUS";
    case GW_OP_CORS_PREFLIGHT:
        return "REST.OPTIONS.PREFLIGHT";
    default:
        return NULL;
    }
}

/* ---------------------------------------------------------------- the cache */

static size_t slot_of(h2o_iovec_t bucket)
{
    uint32_t h = 2166136261u; /* FNV-1a: spreads names over the table */
    for (size_t i = 0; i < bucket.len; i++)
        h = (h ^ (uint8_t)bucket.base[i]) * 16777619u;
    return h % CACHE_SLOTS;
}

/* 1 when bucket is known (fresh) not to log; under the lock. */
static int known_silent(gw_bucket_logging_t *bl, h2o_iovec_t bucket, int64_t now)
{
    cache_slot_t *s = &bl->cache[slot_of(bucket)];
    return s->expires_ns > now && !s->logs && strlen(s->bucket) == bucket.len &&
           memcmp(s->bucket, bucket.base, bucket.len) == 0;
}

static void cache_put(gw_bucket_logging_t *bl, h2o_iovec_t bucket, int logs)
{
    if (bucket.len > META_BUCKET_MAX)
        return;
    pthread_mutex_lock(&bl->lock);
    cache_slot_t *s = &bl->cache[slot_of(bucket)];
    memcpy(s->bucket, bucket.base, bucket.len);
    s->bucket[bucket.len] = '\0';
    s->logs = logs;
    s->expires_ns = yc_mono_ns() + 2 * bl->interval_ns; /* refreshed at each delivery (refresh_cache) */
    pthread_mutex_unlock(&bl->lock);
}

void gw_bucket_logging_forget(gw_bucket_logging_t *bl, h2o_iovec_t bucket)
{
    if (bl == NULL)
        return;
    pthread_mutex_lock(&bl->lock);
    cache_slot_t *s = &bl->cache[slot_of(bucket)];
    if (strlen(s->bucket) == bucket.len && memcmp(s->bucket, bucket.base, bucket.len) == 0)
        s->expires_ns = 0;
    pthread_mutex_unlock(&bl->lock);
}

uint64_t gw_bucket_logging_dropped(gw_bucket_logging_t *bl)
{
    return bl != NULL ? atomic_load(&bl->dropped) : 0;
}

/* ---------------------------------------------------------------- noting requests */

static h2o_iovec_t header(const gw_req_t *r, const char *name)
{
    ssize_t i = h2o_find_header_by_str(&r->headers, name, strlen(name), -1);
    return i >= 0 ? r->headers.entries[i].value : h2o_iovec_init(NULL, 0);
}

void gw_bucket_logging_note(gw_bucket_logging_t *bl, const gw_req_t *r, int64_t duration_ns)
{
    const gw_access_t *a = &r->access;
    char line[S3_LOGGING_LINE_MAX], ip[NI_MAXHOST];
    int64_t now = yc_mono_ns();

    if (bl == NULL || a->bucket.len == 0 || a->bucket.len > META_BUCKET_MAX || a->op == GW_OP_NONE)
        return;
    pthread_mutex_lock(&bl->lock);
    int silent = known_silent(bl, a->bucket, now), full = bl->queued_bytes >= GW_LOGGING_QUEUE_BYTES;
    pthread_mutex_unlock(&bl->lock);
    if (silent)
        return;
    if (full) {
        atomic_fetch_add(&bl->dropped, 1);
        return;
    }
    h2o_iovec_t auth = header(r, "authorization");
    size_t query_at = r->input.query_at;
    h2o_iovec_t query = query_at != SIZE_MAX
                            ? h2o_iovec_init(r->input.path.base + query_at + 1, r->input.path.len - query_at - 1)
                            : h2o_iovec_init("", 0);
    int by_query = memmem(query.base, query.len, "Signature=", 10) != NULL;
    const char *sigver = NULL, *auth_type = NULL;
    if (auth.base != NULL) {
        auth_type = "AuthHeader";
        sigver = auth.len >= 5 && memcmp(auth.base, "AWS4-", 5) == 0 ? "SigV4" : "SigV2";
    } else if (by_query && a->access_key.base != NULL) {
        auth_type = "QueryString";
        sigver = memmem(r->input.path.base, r->input.path.len, "X-Amz-Signature=", 16) != NULL ? "SigV4" : "SigV2";
    }
    ip[0] = '\0';
    if (r->peer_len > 0 && h2o_socket_getnumerichost((struct sockaddr *)&r->peer, r->peer_len, ip) == SIZE_MAX)
        ip[0] = '\0';
    /* the object's size is known from the bytes of a successful GET or PUT only */
    int ok = r->res_status >= 200 && r->res_status < 300;
    int is_get = ok && a->op == GW_OP_GET_OBJECT,
        is_put = ok && (a->op == GW_OP_PUT_OBJECT || a->op == GW_OP_UPLOAD_PART);
    s3_logging_line_t e = {
        .bucket = a->bucket,
        .time_ns = yc_now_ns(),
        .remote_ip = h2o_iovec_init(ip, strlen(ip)),
        .requester = a->access_key,
        .request_id = h2o_iovec_init(a->request_id, strlen(a->request_id)),
        .operation = gw_bucket_logging_operation(a->op),
        .key = a->key,
        .method = r->input.method,
        .uri = r->input.path,
        .status = r->res_status,
        .error_code = a->error != S3_OK ? s3_error_info(a->error)->code : NULL,
        .bytes_sent = r->bytes_out,
        .object_size = is_get   ? r->bytes_out
                       : is_put ? r->bytes_in
                                : 0,
        .total_ms = duration_ns / 1000000,
        .turnaround_ms = -1,
        .referer = header(r, "referer"),
        .user_agent = header(r, "user-agent"),
        .signature_version = sigver,
        .cipher_suite = r->secure ? "TLS" : NULL,
        .auth_type = auth_type,
        .host = r->input.authority,
        .tls_version = NULL,
    };
    size_t len = s3_logging_format_line(&e, line);
    line_t *l = malloc(sizeof(*l) + a->bucket.len + len);
    if (l == NULL) {
        atomic_fetch_add(&bl->dropped, 1);
        return;
    }
    l->next = NULL;
    l->bucket_len = a->bucket.len;
    l->len = len;
    memcpy(l->data, a->bucket.base, a->bucket.len);
    memcpy(l->data + a->bucket.len, line, len);
    pthread_mutex_lock(&bl->lock);
    if (bl->tail != NULL)
        bl->tail->next = l;
    else
        bl->head = l;
    bl->tail = l;
    bl->queued_bytes += len;
    pthread_mutex_unlock(&bl->lock);
}

/* ---------------------------------------------------------------- delivery */

/* The logging configuration of bucket and its owner; 0 with *logs set, else a GW_ error. */
static int resolve(gw_cluster_t *c, h2o_iovec_t bucket, int *logs, char *owner, size_t owner_cap, char *target,
                   char *prefix)
{
    meta_bucket_t b;
    gw_conf_state_t state;
    h2o_iovec_t doc;
    s3_logging_config_t cfg;
    void *raw = NULL, *craw = NULL;
    int ret;

    *logs = 0;
    if ((ret = gw_bucket_record_read(c, gw_mb(bucket), &raw, &b)) != 0)
        return ret == GW_ENOENT ? 0 : ret;
    snprintf(owner, owner_cap, "%.*s", (int)b.owner.len, b.owner.base);
    ret = gw_conf_read(c, bucket, b.incarnation, GW_CONF_LOGGING, &craw, &state, &doc);
    if (ret == 0 && state == GW_CONF_SET && s3_logging_decode(doc, &cfg) == 0 &&
        cfg.target_bucket.len <= META_BUCKET_MAX && cfg.target_prefix.len <= S3_LOGGING_PREFIX_MAX) {
        *logs = 1;
        memcpy(target, cfg.target_bucket.base, cfg.target_bucket.len);
        target[cfg.target_bucket.len] = '\0';
        memcpy(prefix, cfg.target_prefix.base, cfg.target_prefix.len);
        prefix[cfg.target_prefix.len] = '\0';
    }
    free(craw);
    free(raw);
    return ret;
}

static void no_observer(void *arg, const void *data, size_t len)
{
}

/* Writes body as a new object key of bucket target (owned by the target's owner): 0 or a GW_ error. */
static int put_log_object(gw_cluster_t *c, const char *target, const char *key, const uint8_t *body, size_t size)
{
    meta_bucket_t tb;
    void *raw = NULL;
    char ns[META_NS_MAX + 1], etag[33];
    uint8_t dist[16];
    gw_data_t data;
    int ret;

    if ((ret = gw_bucket_record_read(c, (meta_bytes_t){target, strlen(target)}, &raw, &tb)) != 0)
        return ret;
    size_t nslen = meta_bucket_ns(tb.name, tb.incarnation, ns);
    meta_bytes_t mkey = {key, strlen(key)};
    gw_set_t *set = gw_cluster_place(c, (meta_bytes_t){ns, nslen}, mkey, dist);
    if ((ret = gw_data_write(c, set, dist, gw_source_memory(body), size, 1, no_observer, NULL, &data)) != 0) {
        free(raw);
        return ret;
    }
    yc_hex(data.md5, 16, etag);
    meta_buf_t parts = {0};
    meta_part_ref_t part = {.number = 1, .size = size};
    memcpy(part.data_id, data.data_id, META_ID_LEN);
    memcpy(part.etag, data.md5, 16);
    meta_parts_append(&parts, &part);
    meta_object_t r;
    memset(&r, 0, sizeof(r));
    r.bucket = (meta_bytes_t){ns, nslen};
    r.key = mkey;
    r.mtime_ns = yc_now_ns();
    if (tb.versioning == 1)
        gw_version_id_new(r.mtime_ns, r.vid);
    r.flags = data.is_inline ? META_OBJ_INLINE : 0;
    r.size = size;
    r.etag = (meta_bytes_t){etag, 32};
    r.content_type = (meta_bytes_t){"text/plain", 10};
    r.owner = tb.owner;
    r.ec_k = set->k;
    r.ec_m = set->m;
    r.stripe_size = c->stripe_size;
    memcpy(r.distribution, dist, 16);
    r.parts = (meta_bytes_t){(const char *)parts.base, parts.len};
    r.part_count = 1;
    ret = gw_object_commit(c, set, &r, &data);
    meta_buf_dispose(&parts);
    gw_data_dispose(&data);
    free(raw);
    return ret;
}

/* "PREFIX" + "YYYY-MM-DD-HH-MM-SS-" + 16 random upper-case hex digits, as S3 names log objects. */
static void object_key(const char *prefix, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    uint8_t id[YC_ID_LEN];
    time_t secs = (time_t)(yc_now_ns() / 1000000000);
    struct tm tm;
    char unique[17];

    gmtime_r(&secs, &tm);
    yc_random_id(id);
    for (int i = 0; i < 8; i++) {
        unique[2 * i] = hex[id[i] >> 4];
        unique[2 * i + 1] = hex[id[i] & 15];
    }
    unique[16] = '\0';
    snprintf(out, cap, "%s%04d-%02d-%02d-%02d-%02d-%02d-%s", prefix, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, unique);
}

/* Delivers the lines of one bucket (the list's first bucket_len bytes name it); returns the lines
 * not delivered (a failed write), to be tried once more. */
static line_t *deliver_bucket(gw_bucket_logging_t *bl, line_t *lines, int last_try)
{
    h2o_iovec_t bucket = h2o_iovec_init(lines->data, lines->bucket_len);
    char owner[256], target[META_BUCKET_MAX + 1], prefix[S3_LOGGING_PREFIX_MAX + 1], key[S3_LOGGING_PREFIX_MAX + 64];
    size_t total = 0, n = 0, owner_len;
    int logs = 0, ret;

    if ((ret = resolve(bl->cluster, bucket, &logs, owner, sizeof(owner), target, prefix)) == 0) {
        cache_put(bl, bucket, logs);
        if (!logs)
            goto drop;
    } else if (last_try) {
        goto fail;
    } else {
        return lines;
    }
    owner_len = strlen(owner);
    for (line_t *l = lines; l != NULL; l = l->next)
        total += owner_len + l->len; /* the owner replaces the line's "-" */
    uint8_t *body = malloc(total > 0 ? total : 1);
    if (body == NULL)
        goto fail;
    for (line_t *l = lines; l != NULL; l = l->next) {
        memcpy(body + n, owner, owner_len);
        memcpy(body + n + owner_len, l->data + l->bucket_len + 1, l->len - 1);
        n += owner_len + l->len - 1;
    }
    object_key(prefix, key, sizeof(key));
    ret = put_log_object(bl->cluster, target, key, body, n);
    free(body);
    if (ret == GW_ENOENT) /* the target is gone: nothing to deliver to */
        goto fail;
    if (ret != 0 && !last_try)
        return lines;
    if (ret != 0)
        goto fail;
drop:
    while (lines != NULL) {
        line_t *next = lines->next;
        free(lines);
        lines = next;
    }
    return NULL;

fail:
    yc_log(YC_LOG_WARN, "event=access_log_delivery_failed target=%s err=%d", logs ? target : "-", ret);
    while (lines != NULL) {
        line_t *next = lines->next;
        atomic_fetch_add(&bl->dropped, 1);
        free(lines);
        lines = next;
    }
    return NULL;
}

/* Splits the queue by bucket (order kept within each) and delivers each; lines that failed are
 * put back at the queue's head for one more try. */
static void deliver_all(gw_bucket_logging_t *bl, line_t *all, int last_try)
{
    line_t *retry = NULL;

    while (all != NULL) {
        line_t *mine = NULL, **mine_tail = &mine, *rest = NULL, **rest_tail = &rest;
        size_t blen = all->bucket_len;
        char name[META_BUCKET_MAX + 1];
        memcpy(name, all->data, blen);
        for (line_t *l = all, *next; l != NULL; l = next) {
            next = l->next;
            l->next = NULL;
            if (l->bucket_len == blen && memcmp(l->data, name, blen) == 0) {
                *mine_tail = l;
                mine_tail = &l->next;
            } else {
                *rest_tail = l;
                rest_tail = &l->next;
            }
        }
        line_t *left = deliver_bucket(bl, mine, last_try);
        if (left != NULL) {
            line_t *t = left;
            while (t->next != NULL)
                t = t->next;
            t->next = retry;
            retry = left;
        }
        all = rest;
    }
    if (retry != NULL) {
        pthread_mutex_lock(&bl->lock);
        line_t *t = retry;
        while (t->next != NULL)
            t = t->next;
        t->next = bl->head;
        bl->head = retry;
        if (bl->tail == NULL)
            bl->tail = t;
        pthread_mutex_unlock(&bl->lock);
    }
}

/* Reads again the configuration of the buckets the cache knows that would expire before the next
 * delivery: a bucket that does not log sends no line to be resolved by, and would otherwise have
 * its lines queued again for an interval whenever its entry ran out. */
static void refresh_cache(gw_bucket_logging_t *bl)
{
    char owner[256], target[META_BUCKET_MAX + 1], prefix[S3_LOGGING_PREFIX_MAX + 1], name[META_BUCKET_MAX + 1];

    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        int64_t soon = yc_mono_ns() + bl->interval_ns + bl->interval_ns / 2;
        pthread_mutex_lock(&bl->lock);
        int due = bl->cache[i].expires_ns != 0 && bl->cache[i].expires_ns < soon;
        memcpy(name, bl->cache[i].bucket, sizeof(name));
        pthread_mutex_unlock(&bl->lock);
        int logs = 0;
        if (due &&
            resolve(bl->cluster, h2o_iovec_init(name, strlen(name)), &logs, owner, sizeof(owner), target, prefix) == 0)
            cache_put(bl, h2o_iovec_init(name, strlen(name)), logs);
    }
}

static void *delivery_main(void *arg)
{
    gw_bucket_logging_t *bl = arg;
    struct timespec deadline;
    int retried = 0;
    uint64_t told = 0; /* drops already said in the log */

    pthread_mutex_lock(&bl->lock);
    for (;;) {
        if (!bl->stopping) {
            yc_deadline(CLOCK_MONOTONIC, bl->interval_ns, &deadline);
            pthread_cond_timedwait(&bl->wake, &bl->lock, &deadline);
        }
        int stopping = bl->stopping;
        line_t *all = bl->head;
        bl->head = bl->tail = NULL;
        bl->queued_bytes = 0;
        pthread_mutex_unlock(&bl->lock);
        /* what failed once is tried again at the next delivery; a second failure drops it */
        deliver_all(bl, all, stopping || retried);
        if (!stopping)
            refresh_cache(bl);
        uint64_t dropped = atomic_load(&bl->dropped);
        if (dropped != told) { /* once per delivery at most */
            yc_log(YC_LOG_WARN, "event=server_access_log_dropped lines=%llu total=%llu",
                   (unsigned long long)(dropped - told), (unsigned long long)dropped);
            told = dropped;
        }
        pthread_mutex_lock(&bl->lock);
        retried = bl->head != NULL;
        if (stopping)
            break;
    }
    pthread_mutex_unlock(&bl->lock);
    return NULL;
}

int gw_bucket_logging_new(gw_cluster_t *c, uint64_t interval_s, gw_bucket_logging_t **out)
{
    gw_bucket_logging_t *bl = calloc(1, sizeof(*bl));
    pthread_condattr_t attr;
    int ret;

    *out = NULL;
    if (bl == NULL)
        return -ENOMEM;
    bl->cluster = c;
    bl->interval_ns = (int64_t)(interval_s > 0 ? interval_s : 1) * 1000000000;
    pthread_mutex_init(&bl->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&bl->wake, &attr);
    pthread_condattr_destroy(&attr);
    if ((ret = -pthread_create(&bl->thread, NULL, delivery_main, bl)) != 0) {
        pthread_cond_destroy(&bl->wake);
        pthread_mutex_destroy(&bl->lock);
        free(bl);
        return ret;
    }
    *out = bl;
    return 0;
}

void gw_bucket_logging_free(gw_bucket_logging_t *bl)
{
    if (bl == NULL)
        return;
    pthread_mutex_lock(&bl->lock);
    bl->stopping = 1;
    pthread_cond_signal(&bl->wake);
    pthread_mutex_unlock(&bl->lock);
    pthread_join(bl->thread, NULL);
    while (bl->head != NULL) {
        line_t *next = bl->head->next;
        free(bl->head);
        bl->head = next;
    }
    pthread_cond_destroy(&bl->wake);
    pthread_mutex_destroy(&bl->lock);
    free(bl);
}

/* ---------------------------------------------------------------- Put/GetBucketLogging */

/* 1 when every grant of cfg gives FULL_CONTROL to owner, who owns the log objects already. */
static int grants_change_nothing(const s3_logging_config_t *cfg, h2o_iovec_t owner)
{
    uint8_t id[S3_ACL_ID_LEN];
    char hex[2 * S3_ACL_ID_LEN + 1];

    gw_acl_canonical_id(owner, id);
    yc_hex(id, S3_ACL_ID_LEN, hex);
    for (size_t i = 0; i < cfg->ngrants; i++)
        if (!h2o_lcstris(cfg->grant_ids[i].base, cfg->grant_ids[i].len, hex, 2 * S3_ACL_ID_LEN))
            return 0;
    return 1;
}

static void put_logging(gw_ctx_t *ctx)
{
    s3_logging_config_t cfg;
    meta_bucket_t tb;
    void *raw = NULL;
    int ret;

    if (gw_bucket_authorize(ctx) != 0 || gw_body_prepare(ctx) != 0 || gw_checksum_body_verify(ctx, 0) != 0)
        return;
    if ((ret = s3_logging_parse(&ctx->req->pool, ctx->body, &cfg)) != 0) {
        gw_set_error(ctx, s3_error_from_ret(ret),
                     ret == -S3_ERR_NOT_IMPLEMENTED
                         ? "TargetGrants other than FULL_CONTROL to a canonical user, and the PartitionedPrefix key "
                           "format, are not implemented by this server"
                         : NULL);
        return;
    }
    if (cfg.enabled) {
        ret = cfg.target_bucket.len <= META_BUCKET_MAX
                  ? gw_bucket_record_read(ctx->cluster, gw_mb(cfg.target_bucket), &raw, &tb)
                  : GW_ENOENT;
        if (ret == GW_ENOENT || (ret == 0 && tb.state != META_BUCKET_ACTIVE)) {
            free(raw);
            gw_set_error(ctx, S3_ERR_INVALID_TARGET_BUCKET_FOR_LOGGING, NULL);
            gw_set_error_field(ctx, "TargetBucket", cfg.target_bucket);
            return;
        }
        if (ret != 0) {
            gw_set_store_error(ctx, ret);
            return;
        }
        int same =
            tb.owner.len == ctx->bucket_owner.len && memcmp(tb.owner.base, ctx->bucket_owner.base, tb.owner.len) == 0;
        int idle_grants = grants_change_nothing(&cfg, h2o_iovec_init(tb.owner.base, tb.owner.len));
        free(raw);
        if (same && !idle_grants) {
            gw_set_error(ctx, S3_ERR_NOT_IMPLEMENTED,
                         "TargetGrants other than FULL_CONTROL to the target bucket's owner are not implemented by "
                         "this server");
            return;
        }
        if (!same) {
            gw_set_error(ctx, S3_ERR_INVALID_TARGET_BUCKET_FOR_LOGGING,
                         "The owner for the bucket to be logged and the target bucket must be the same.");
            gw_set_error_field(ctx, "TargetBucket", cfg.target_bucket);
            return;
        }
    }
    h2o_iovec_t doc = cfg.enabled ? s3_logging_encode(&ctx->req->pool, &cfg) : h2o_iovec_init(NULL, 0);
    if ((ret = gw_conf_write(ctx->cluster, ctx->bucket, ctx->bucket_incarnation, GW_CONF_LOGGING, doc)) != 0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    gw_bucket_logging_forget(ctx->env->bucket_logging, ctx->bucket);
    ctx->status = 200;
}

static void get_logging(gw_ctx_t *ctx)
{
    s3_logging_config_t cfg = {0};
    gw_conf_state_t state;
    s3_xml_writer_t w;
    h2o_iovec_t doc;
    void *raw = NULL;
    int ret;

    if (gw_bucket_authorize(ctx) != 0)
        return;
    ret = gw_conf_read(ctx->cluster, ctx->bucket, ctx->bucket_incarnation, GW_CONF_LOGGING, &raw, &state, &doc);
    if (ret != 0) {
        gw_set_store_error(ctx, ret);
        return;
    }
    if (state == GW_CONF_SET && s3_logging_decode(doc, &cfg) == 0) {
        cfg.target_bucket = h2o_strdup(&ctx->req->pool, cfg.target_bucket.base, cfg.target_bucket.len);
        cfg.target_prefix = h2o_strdup(&ctx->req->pool, cfg.target_prefix.base, cfg.target_prefix.len);
    } else {
        cfg.enabled = 0;
    }
    free(raw);
    s3_xml_writer_init(&w, &ctx->req->pool);
    s3_logging_write_xml(&w, &cfg);
    ctx->resp_body = s3_xml_writer_result(&w);
    ctx->content_type = "application/xml";
}

void gw_bucket_logging_op(gw_ctx_t *ctx)
{
    if (ctx->op == GW_OP_GET_BUCKET_LOGGING)
        gw_dispatch_read(ctx, get_logging);
    else
        gw_dispatch(ctx, put_logging);
}
