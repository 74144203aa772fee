/* gw_lifecycle.c — the lifecycle worker and the x-amz-expiration header (see gw_lifecycle.h).
 *
 * A pass over a bucket holds three things: the bucket's record as read at its start (namespace
 * and versioning state), its parsed rules (in a pool of the pass), and its lease. Between keys it
 * renews the lease once a third of it went by and writes the progress marker every
 * PROGRESS_EVERY keys or PROGRESS_NS; it stops when the lease is lost (someone took the bucket over: the work is
 * theirs now) or the worker is stopped.
 */
#include "gateway/gw_lifecycle.h"
#include "common/clock.h"
#include "common/log.h"
#include "gateway/gw_admit.h"
#include "gateway/gw_bucket_config.h"
#include "gateway/gw_bucket_record.h"
#include "gateway/gw_handlers.h"
#include "gateway/gw_lister.h"
#include "gateway/gw_lock.h"
#include "gateway/gw_object.h"
#include "gateway/gw_object_lock.h"
#include "gateway/gw_tagging.h"
#include "gateway/gw_replica.h"
#include "gateway/gw_upload.h"
#include "gateway/s3/lifecycle.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>

#define PROGRESS_EVERY 256                        /* keys between two writes of the progress marker, */
#define PROGRESS_NS    (2LL * 1000 * 1000 * 1000) /* or this long, whichever comes first */
#define ADMIT_KEY      "lifecycle"
#define CACHE_SLOTS    256
#define CACHE_TTL_NS   (2LL * 1000 * 1000 * 1000) /* as the bucket and access caches */

struct gw_lifecycle {
    gw_cluster_t *c;
    gw_lifecycle_config_t cfg;
    gw_admit_t *admit;
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    int stopping;
    pthread_t thread;
    int running;            /* the thread was started */
    int64_t next_action_ns; /* the rate cap: the earliest time of the next action */
    gw_lifecycle_stats_t st;
};

int gw_lifecycle_may_delete(const meta_object_t *rec)
{
    /* Object Lock: a retention in force or a legal hold keeps the version; no bypass for rules */
    return gw_object_lock_may_delete(rec, 0, yc_now_ns());
}

static void count(gw_lifecycle_t *lc, uint64_t *counter, uint64_t n)
{
    pthread_mutex_lock(&lc->mutex);
    *counter += n;
    pthread_mutex_unlock(&lc->mutex);
}

static int stopping(gw_lifecycle_t *lc)
{
    pthread_mutex_lock(&lc->mutex);
    int s = lc->stopping;
    pthread_mutex_unlock(&lc->mutex);
    return s;
}

/* ---------------------------------------------------------------- pacing */

/* Waits for the rate cap and a background slot: 0 with *t held (gw_lifecycle_leave), or -1
 * when the action is to be left for later (no slot, or stopping). */
static int pace(gw_lifecycle_t *lc, gw_admit_ticket_t *t)
{
    if (lc->cfg.rate > 0) {
        int64_t now = yc_mono_ns(), step = 1000000000LL / lc->cfg.rate;
        pthread_mutex_lock(&lc->mutex);
        int64_t at = lc->next_action_ns > now ? lc->next_action_ns : now;
        lc->next_action_ns = at + step;
        pthread_mutex_unlock(&lc->mutex);
        if (at > now) {
            struct timespec ts = {(time_t)((at - now) / 1000000000), (long)((at - now) % 1000000000)};
            nanosleep(&ts, NULL);
        }
    }
    if (stopping(lc))
        return -1;
    if (lc->admit != NULL && gw_admit_wait(lc->admit, t, GW_ADMIT_BACKGROUND, ADMIT_KEY, strlen(ADMIT_KEY)) != 0) {
        count(lc, &lc->st.deferred, 1);
        return -1;
    }
    return 0;
}

static void leave(gw_lifecycle_t *lc, gw_admit_ticket_t *t)
{
    if (lc->admit != NULL)
        gw_admit_leave(lc->admit, t);
}

/* ---------------------------------------------------------------- one bucket */

typedef struct {
    gw_lifecycle_t *lc;
    meta_bytes_t name;
    char ns[META_NS_MAX + 1];
    size_t ns_len;
    uint64_t incarnation;
    uint32_t versioning; /* 0 never, 1 Enabled, 2 Suspended */
    s3_lifecycle_config_t rules;
    gw_lock_t lease;
    int64_t renewed_ns;
    int lost; /* the lease went to another gateway */
} pass_t;

static s3_lifecycle_versioning_t lc_versioning(uint32_t v)
{
    return v == 1 ? S3_LC_VERSIONING_ENABLED : v == 2 ? S3_LC_VERSIONING_SUSPENDED : S3_LC_UNVERSIONED;
}

static const char *action_name(s3_lifecycle_action_t a)
{
    switch (a) {
    case S3_LC_ACTION_DELETE:
        return "delete";
    case S3_LC_ACTION_ADD_DELETE_MARKER:
        return "add_delete_marker";
    case S3_LC_ACTION_REMOVE_DELETE_MARKER:
        return "remove_delete_marker";
    case S3_LC_ACTION_ABORT_UPLOAD:
        return "abort_upload";
    default:
        return "none";
    }
}

/* Renews the lease when a third of it went by; 0 while it is held. */
static int keep_lease(pass_t *p)
{
    if (p->lost)
        return -1;
    if (yc_mono_ns() - p->renewed_ns < p->lc->cfg.lease_ns / 3)
        return 0;
    if (gw_lock_renew(&p->lease) != 0) {
        p->lost = 1;
        yc_log(YC_LOG_WARN, "event=lifecycle_lease_lost bucket=%.*s", (int)p->name.len, p->name.base);
        return -1;
    }
    p->renewed_ns = yc_mono_ns();
    return 0;
}

/* Is the version o resolved to still the one the listing showed? */
static int same_version(const meta_object_t *r, const gw_list_entry_t *e)
{
    return r->mtime_ns == e->mtime_ns && memcmp(r->vid, e->vid, META_ID_LEN) == 0 &&
           (r->flags & META_OBJ_DELETE_MARKER) == (e->flags & META_OBJ_DELETE_MARKER);
}

/* Carries out action a on version e of its key. */
static void act(pass_t *p, const gw_list_entry_t *e, s3_lifecycle_action_t a, const s3_lifecycle_rule_t *rule)
{
    gw_lifecycle_t *lc = p->lc;
    meta_bytes_t ns = {p->ns, p->ns_len}, key = {e->key, e->key_len};
    gw_admit_ticket_t t;
    gw_object_t *o = NULL;
    uint64_t *counter = NULL;
    int ret;

    if (pace(lc, &t) != 0)
        return;
    /* the newest version for an expiration (a PUT since the listing makes it another one), the
     * version itself for a removal */
    ret = gw_object_lookup(lc->c, ns, key, a == S3_LC_ACTION_ADD_DELETE_MARKER ? NULL : e->vid, &o);
    if (ret == GW_ENOENT) {
        ret = 0; /* gone meanwhile */
        goto done;
    }
    if (ret != 0)
        goto done;
    const meta_object_t *r = gw_object_record(o);
    if (!same_version(r, e))
        goto done;
    /* a marker on top of a versioned key removes nothing; anything else removes data */
    if ((a != S3_LC_ACTION_ADD_DELETE_MARKER || p->versioning == 2) && !gw_lifecycle_may_delete(r)) {
        counter = &lc->st.held;
        goto done;
    }
    if (a == S3_LC_ACTION_ADD_DELETE_MARKER) {
        meta_object_t marker;
        ret = gw_version_add_delete_marker(lc->c, ns, key, r->owner, p->versioning, &marker);
        counter = &lc->st.markers_added;
    } else {
        ret = gw_object_remove(lc->c, o);
        counter = a == S3_LC_ACTION_REMOVE_DELETE_MARKER ? &lc->st.markers_removed
                  : e->is_latest                         ? &lc->st.expired
                                                         : &lc->st.noncurrent_removed;
    }
    if (ret == 0)
        yc_log(YC_LOG_DEBUG, "event=lifecycle_action bucket=%.*s key=%.*s action=%s rule=%.*s", (int)p->name.len,
               p->name.base, (int)key.len, key.base, action_name(a), (int)rule->id.len, rule->id.base);
done:
    leave(lc, &t);
    if (o != NULL)
        gw_object_free(o);
    if (ret != 0) {
        count(lc, &lc->st.errors, 1);
        yc_log(YC_LOG_WARN, "event=lifecycle_action_failed bucket=%.*s key=%.*s action=%s err=%s", (int)p->name.len,
               p->name.base, (int)key.len, key.base, action_name(a), yc_errname(ret));
    } else if (counter != NULL) {
        count(lc, counter, 1);
    }
}

/* Whether an enabled rule of the bucket filters on tags: only then are versions' tags read. */
static int rules_read_tags(const s3_lifecycle_config_t *cfg)
{
    for (size_t i = 0; i < cfg->count; i++)
        if (cfg->rules[i].enabled && cfg->rules[i].ntags > 0)
            return 1;
    return 0;
}

/* The tags of version e as the rules see them, read from its record (one lookup; the listing
 * carries no attributes): into *tags, borrowing from *obj (freed by the caller) and pool. NULL
 * for a version without tags, a delete marker, or one that cannot be read now (a Tag rule then
 * leaves it alone until a later pass). */
static const s3_tagset_t *object_tags(pass_t *p, const gw_list_entry_t *e, h2o_mem_pool_t *pool, gw_object_t **obj,
                                      s3_tagset_t *tags)
{
    meta_bytes_t ns = {p->ns, p->ns_len}, key = {e->key, e->key_len};

    if ((e->flags & META_OBJ_DELETE_MARKER) || gw_object_lookup(p->lc->c, ns, key, e->vid, obj) != 0)
        return NULL;
    if (gw_tagging_of(pool, gw_object_record(*obj), tags) != 0 || tags->count == 0)
        return NULL;
    return tags;
}

/* Applies the rules to the versions of one key, vers[0] its latest, newest first. */
static void work_key(pass_t *p, const gw_list_entry_t *vers, size_t n, int64_t now)
{
    int read_tags = rules_read_tags(&p->rules);

    /* a key of many versions may take longer than the lease at the rate cap: renew within it too */
    for (size_t i = 0; i < n && keep_lease(p) == 0; i++) {
        const gw_list_entry_t *e = &vers[i];
        h2o_mem_pool_t pool;
        gw_object_t *obj = NULL;
        s3_tagset_t tags;
        h2o_mem_init_pool(&pool);
        s3_lifecycle_version_t v = {
            .key = h2o_iovec_init(e->key, e->key_len),
            .size = e->size,
            .tags = read_tags ? object_tags(p, e, &pool, &obj, &tags) : NULL,
            .is_current = i == 0 && e->is_latest,
            .is_delete_marker = (e->flags & META_OBJ_DELETE_MARKER) != 0,
            .mtime_ns = e->mtime_ns,
            /* a version became noncurrent when the one after it was written */
            .noncurrent_since_ns = i > 0 ? vers[i - 1].mtime_ns : 0,
            .newer_noncurrent = i > 0 ? (uint32_t)(i - 1) : 0,
            .only_version = n == 1,
        };
        s3_lifecycle_decision_t d;
        s3_lifecycle_evaluate(&p->rules, &v, lc_versioning(p->versioning), now, &d);
        gw_object_free(obj);
        h2o_mem_clear_pool(&pool);
        if (d.due && d.action != S3_LC_ACTION_NONE)
            act(p, e, d.action, d.rule);
    }
    count(p->lc, &p->lc->st.scanned, n);
}

/* Writes (key) or removes (key.base NULL) the bucket's progress marker; best effort: a marker
 * that did not make it costs the next pass some keys done again, never a key skipped. */
static void save_progress(pass_t *p, h2o_iovec_t key)
{
    h2o_iovec_t name = {(char *)p->name.base, p->name.len};
    int ret = gw_conf_write(p->lc->c, name, p->incarnation, GW_CONF_LIFECYCLE_PROGRESS, key);
    if (ret != 0)
        yc_log(YC_LOG_WARN, "event=lifecycle_progress_failed bucket=%.*s err=%s", (int)p->name.len, p->name.base,
               yc_errname(ret));
}

static int work_objects(pass_t *p)
{
    h2o_iovec_t name = {(char *)p->name.base, p->name.len}, doc;
    char start[META_KEY_MAX] = "";
    size_t start_len = 0, done = 0;
    gw_conf_state_t state;
    gw_lister_t *l;
    void *raw = NULL;
    int ret;

    if (gw_conf_read(p->lc->c, name, p->incarnation, GW_CONF_LIFECYCLE_PROGRESS, &raw, &state, &doc) == 0 &&
        state == GW_CONF_SET && doc.len <= sizeof(start)) {
        memcpy(start, doc.base, doc.len);
        start_len = doc.len;
        yc_log(YC_LOG_INFO, "event=lifecycle_resume bucket=%.*s", (int)p->name.len, p->name.base);
    }
    free(raw);
    /* the marker's key is done again: its actions look each version up anew, so twice is harmless */
    if ((ret = gw_lister_open_versions(p->lc->c, (meta_bytes_t){p->ns, p->ns_len}, (meta_bytes_t){start, start_len},
                                       &l)) != 0)
        return ret;
    const gw_list_entry_t *vers;
    size_t n;
    int64_t saved_ns = yc_mono_ns();
    while (!p->lost && !stopping(p->lc) && keep_lease(p) == 0 && (ret = gw_lister_next_versions(l, &vers, &n)) == 1) {
        work_key(p, vers, n, yc_now_ns());
        /* a pass slowed by the rate cap saves often enough that a takeover redoes little */
        if (++done % PROGRESS_EVERY == 0 || yc_mono_ns() - saved_ns >= PROGRESS_NS) {
            save_progress(p, h2o_iovec_init(vers[0].key, vers[0].key_len));
            saved_ns = yc_mono_ns();
        }
    }
    gw_lister_free(l);
    if (ret < 0)
        return ret;
    return p->lost || stopping(p->lc) ? GW_EBUSY : 0;
}

/* ---- uploads */

typedef struct {
    char key[META_KEY_MAX];
    size_t key_len;
    uint8_t id[META_ID_LEN];
    int64_t initiated_ns;
} upload_t;

typedef struct {
    upload_t *v;
    size_t n, cap;
    int failed;
} uploads_t;

static int collect_upload(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    uploads_t *u = arg;
    meta_upload_t rec;
    if (meta_upload_decode(val, vlen, &rec) != 0 || rec.key.len > META_KEY_MAX)
        return 0;
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 16;
        upload_t *v = realloc(u->v, cap * sizeof(*v));
        if (v == NULL) {
            u->failed = 1;
            return -1;
        }
        u->v = v;
        u->cap = cap;
    }
    upload_t *e = &u->v[u->n++];
    memcpy(e->key, rec.key.base, rec.key.len);
    e->key_len = rec.key.len;
    memcpy(e->id, rec.upload_id, META_ID_LEN);
    e->initiated_ns = rec.initiated_ns;
    return 0;
}

static int work_uploads(pass_t *p)
{
    gw_lifecycle_t *lc = p->lc;
    uploads_t u = {0};
    meta_key_t prefix;
    int ret = 0;

    meta_key_bucket_uploads((meta_bytes_t){p->ns, p->ns_len}, &prefix);
    for (size_t s = 0; s < lc->c->nsets && ret == 0; s++) {
        gw_set_t *set = &lc->c->sets[s];
        ret = gw_set_scan(set, gw_set_read_quorum(set), &prefix, collect_upload, &u);
    }
    if (ret == 0 && u.failed)
        ret = GW_ENOMEM;
    count(lc, &lc->st.scanned, u.n);
    int64_t now = yc_now_ns();
    for (size_t i = 0; i < u.n && ret == 0 && keep_lease(p) == 0 && !stopping(lc); i++) {
        s3_lifecycle_decision_t d;
        h2o_iovec_t key = h2o_iovec_init(u.v[i].key, u.v[i].key_len);
        gw_admit_ticket_t t;
        s3_lifecycle_evaluate_upload(&p->rules, key, u.v[i].initiated_ns, now, &d);
        if (!d.due || pace(lc, &t) != 0)
            continue;
        int r = gw_upload_abort(lc->c, h2o_iovec_init(p->ns, p->ns_len), key, u.v[i].id);
        leave(lc, &t);
        if (r == 0) {
            count(lc, &lc->st.uploads_aborted, 1);
            yc_log(YC_LOG_DEBUG, "event=lifecycle_action bucket=%.*s key=%.*s action=abort_upload rule=%.*s",
                   (int)p->name.len, p->name.base, (int)key.len, key.base, (int)d.rule->id.len, d.rule->id.base);
        } else if (r != GW_ENOENT) { /* completed or aborted by its client meanwhile: fine */
            count(lc, &lc->st.errors, 1);
            yc_log(YC_LOG_WARN, "event=lifecycle_action_failed bucket=%.*s key=%.*s action=abort_upload err=%s",
                   (int)p->name.len, p->name.base, (int)key.len, key.base, yc_errname(r));
        }
    }
    free(u.v);
    return ret;
}

/* A pass over the bucket whose record is b. */
static int work_bucket(gw_lifecycle_t *lc, const meta_bucket_t *b)
{
    h2o_iovec_t name = {(char *)b->name.base, b->name.len}, doc;
    char lease_name[META_LOCK_NAME_MAX];
    gw_lifecycle_stats_t before;
    gw_conf_state_t state;
    h2o_mem_pool_t pool;
    pass_t p = {.lc = lc, .name = b->name, .incarnation = b->incarnation, .versioning = b->versioning};
    void *raw = NULL;
    int ret;

    if ((ret = gw_conf_read(lc->c, name, b->incarnation, GW_CONF_LIFECYCLE, &raw, &state, &doc)) != 0 ||
        state != GW_CONF_SET) {
        free(raw);
        return ret;
    }
    h2o_mem_init_pool(&pool);
    if (s3_lifecycle_parse(&pool, doc, &p.rules, NULL) != 0) { /* stored only once checked: damaged */
        ret = GW_EIO;
        goto out;
    }
    p.rules.day_ns = lc->cfg.day_ns;
    int n = snprintf(lease_name, sizeof(lease_name), "lifecycle/%.*s", (int)b->name.len, b->name.base);
    if ((ret = gw_lock_cluster_lease(lc->c, (meta_bytes_t){lease_name, (size_t)n}, 0, lc->cfg.lease_ns, &p.lease)) !=
        0) {
        if (ret == GW_EBUSY)
            count(lc, &lc->st.lease_busy, 1);
        goto out;
    }
    p.renewed_ns = yc_mono_ns();
    p.ns_len = meta_bucket_ns(b->name, b->incarnation, p.ns);
    gw_lifecycle_stats(lc, &before);
    if ((ret = work_objects(&p)) == 0 && (ret = work_uploads(&p)) == 0 && keep_lease(&p) == 0) {
        save_progress(&p, h2o_iovec_init(NULL, 0)); /* finished: the next pass starts from the top */
        gw_lifecycle_stats_t after;
        gw_lifecycle_stats(lc, &after);
        count(lc, &lc->st.passes, 1);
        yc_log(YC_LOG_INFO,
               "event=lifecycle_pass bucket=%.*s scanned=%llu expired=%llu markers_added=%llu markers_removed=%llu "
               "noncurrent_removed=%llu uploads_aborted=%llu held=%llu deferred=%llu",
               (int)b->name.len, b->name.base, (unsigned long long)(after.scanned - before.scanned),
               (unsigned long long)(after.expired - before.expired),
               (unsigned long long)(after.markers_added - before.markers_added),
               (unsigned long long)(after.markers_removed - before.markers_removed),
               (unsigned long long)(after.noncurrent_removed - before.noncurrent_removed),
               (unsigned long long)(after.uploads_aborted - before.uploads_aborted),
               (unsigned long long)(after.held - before.held), (unsigned long long)(after.deferred - before.deferred));
    }
    gw_lock_release(&p.lease);
out:
    h2o_mem_clear_pool(&pool);
    free(raw);
    return ret;
}

/* ---------------------------------------------------------------- the worker */

typedef struct {
    void **raw;
    meta_bucket_t *b;
    size_t n, cap;
} buckets_t;

static int collect_bucket(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    buckets_t *bs = arg;
    if (bs->n == bs->cap) {
        size_t cap = bs->cap ? bs->cap * 2 : 16;
        void **raw = realloc(bs->raw, cap * sizeof(*raw));
        if (raw != NULL)
            bs->raw = raw;
        meta_bucket_t *b = realloc(bs->b, cap * sizeof(*b));
        if (b != NULL)
            bs->b = b;
        if (raw == NULL || b == NULL)
            return -1;
        bs->cap = cap;
    }
    void *copy = malloc(vlen);
    if (copy == NULL)
        return -1;
    memcpy(copy, val, vlen);
    /* a bucket being deleted is left alone: its namespace is about to go */
    if (meta_bucket_decode(copy, vlen, &bs->b[bs->n]) != 0 || bs->b[bs->n].state != META_BUCKET_ACTIVE) {
        free(copy);
        return 0;
    }
    bs->raw[bs->n++] = copy;
    return 0;
}

static void free_buckets(buckets_t *bs)
{
    for (size_t i = 0; i < bs->n; i++)
        free(bs->raw[i]);
    free(bs->raw);
    free(bs->b);
}

int gw_lifecycle_run_bucket(gw_lifecycle_t *lc, meta_bytes_t name)
{
    meta_bucket_t b;
    void *raw = NULL;
    int ret = gw_bucket_record_read(lc->c, name, &raw, &b);
    if (ret == 0 && b.state == META_BUCKET_ACTIVE)
        ret = work_bucket(lc, &b);
    free(raw);
    return ret == GW_ENOENT ? 0 : ret;
}

static void pass_all(gw_lifecycle_t *lc)
{
    buckets_t bs = {0};
    meta_key_t prefix;
    int ret;

    meta_key_bucket((meta_bytes_t){"", 0}, &prefix);
    if ((ret = gw_replica_scan(lc->c, &prefix, collect_bucket, &bs)) != 0) {
        count(lc, &lc->st.errors, 1);
        yc_log(YC_LOG_WARN, "event=lifecycle_scan_failed err=%s", yc_errname(ret));
    }
    for (size_t i = 0; i < bs.n && !stopping(lc); i++) {
        ret = work_bucket(lc, &bs.b[i]);
        if (ret != 0 && ret != GW_EBUSY) {
            count(lc, &lc->st.errors, 1);
            yc_log(YC_LOG_WARN, "event=lifecycle_pass_failed bucket=%.*s err=%s", (int)bs.b[i].name.len,
                   bs.b[i].name.base, yc_errname(ret));
        }
    }
    free_buckets(&bs);
}

static void *worker_main(void *arg)
{
    gw_lifecycle_t *lc = arg;
    for (;;) {
        int64_t started = yc_now_ns();
        pass_all(lc);
        pthread_mutex_lock(&lc->mutex);
        int64_t until = started + lc->cfg.interval_ns;
        struct timespec ts = {(time_t)(until / 1000000000), (long)(until % 1000000000)};
        while (!lc->stopping && yc_now_ns() < until)
            pthread_cond_timedwait(&lc->cond, &lc->mutex, &ts); /* the cond uses CLOCK_REALTIME */
        int s = lc->stopping;
        pthread_mutex_unlock(&lc->mutex);
        if (s)
            return NULL;
    }
}

int gw_lifecycle_new(gw_cluster_t *c, const gw_lifecycle_config_t *cfg, struct gw_admit *admit, gw_lifecycle_t **out)
{
    gw_lifecycle_t *lc = calloc(1, sizeof(*lc));
    if (lc == NULL)
        return -ENOMEM;
    lc->c = c;
    lc->cfg = *cfg;
    if (lc->cfg.lease_ns <= 0)
        lc->cfg.lease_ns = GW_LOCK_LEASE_NS;
    if (lc->cfg.interval_ns <= 0)
        lc->cfg.interval_ns = 3600LL * 1000000000;
    lc->admit = admit;
    pthread_mutex_init(&lc->mutex, NULL);
    pthread_cond_init(&lc->cond, NULL);
    *out = lc;
    return 0;
}

int gw_lifecycle_start(gw_lifecycle_t *lc)
{
    if (pthread_create(&lc->thread, NULL, worker_main, lc) != 0)
        return -EAGAIN;
    lc->running = 1;
    return 0;
}

void gw_lifecycle_free(gw_lifecycle_t *lc)
{
    if (lc == NULL)
        return;
    pthread_mutex_lock(&lc->mutex);
    lc->stopping = 1;
    pthread_cond_broadcast(&lc->cond);
    pthread_mutex_unlock(&lc->mutex);
    if (lc->running)
        pthread_join(lc->thread, NULL);
    pthread_mutex_destroy(&lc->mutex);
    pthread_cond_destroy(&lc->cond);
    free(lc);
}

void gw_lifecycle_stats(gw_lifecycle_t *lc, gw_lifecycle_stats_t *out)
{
    if (lc == NULL) {
        memset(out, 0, sizeof(*out));
        return;
    }
    pthread_mutex_lock(&lc->mutex);
    *out = lc->st;
    pthread_mutex_unlock(&lc->mutex);
}

/* ---------------------------------------------------------------- x-amz-expiration */

/* A bucket's parsed rules as this gateway last read them. One mutex for the table: a lookup is a
 * hash and a compare; the drives are read outside it. */
typedef struct {
    char name[META_BUCKET_MAX + 1];
    uint64_t incarnation;
    int64_t loaded_ns;
    int used, has_rules;
    h2o_mem_pool_t pool; /* the rules' memory */
    s3_lifecycle_config_t rules;
} cache_slot_t;

/* Built on first use and never freed: the process's one cache, like the access cache. */
static cache_slot_t cache[CACHE_SLOTS];
static pthread_mutex_t cache_mutex = PTHREAD_MUTEX_INITIALIZER;

static cache_slot_t *cache_slot(h2o_iovec_t bucket)
{
    return &cache[XXH3_64bits(bucket.base, bucket.len) % CACHE_SLOTS];
}

static int slot_is(const cache_slot_t *s, h2o_iovec_t bucket)
{
    return s->used && strlen(s->name) == bucket.len && memcmp(s->name, bucket.base, bucket.len) == 0;
}

void gw_lifecycle_forget(h2o_iovec_t bucket)
{
    pthread_mutex_lock(&cache_mutex);
    cache_slot_t *s = cache_slot(bucket);
    if (slot_is(s, bucket))
        s->loaded_ns = 0;
    pthread_mutex_unlock(&cache_mutex);
}

/* Reads and parses the bucket's rules into slot s (cache_mutex held by the caller, dropped while
 * the drives are read). 0 or the drives' error. */
static int cache_load(gw_ctx_t *ctx, cache_slot_t *s)
{
    gw_conf_state_t state;
    h2o_iovec_t doc;
    void *raw = NULL;

    pthread_mutex_unlock(&cache_mutex);
    int ret = gw_conf_read(ctx->cluster, ctx->bucket, ctx->bucket_incarnation, GW_CONF_LIFECYCLE, &raw, &state, &doc);
    pthread_mutex_lock(&cache_mutex);
    if (ret != 0) {
        free(raw);
        return ret;
    }
    if (s->used)
        h2o_mem_clear_pool(&s->pool);
    else
        h2o_mem_init_pool(&s->pool);
    s->used = 1;
    memcpy(s->name, ctx->bucket.base, ctx->bucket.len);
    s->name[ctx->bucket.len] = '\0';
    s->incarnation = ctx->bucket_incarnation;
    s->loaded_ns = yc_mono_ns();
    s->has_rules = state == GW_CONF_SET && s3_lifecycle_parse(&s->pool, doc, &s->rules, NULL) == 0;
    if (s->has_rules)
        s->rules.day_ns = (int64_t)ctx->env->cfg->lifecycle_day_seconds * 1000000000LL;
    free(raw);
    return 0;
}

void gw_lifecycle_expiration_header(gw_ctx_t *ctx, const meta_object_t *rec)
{
    s3_lifecycle_decision_t d = {0};
    h2o_iovec_t value = {NULL, 0};

    if ((rec->flags & META_OBJ_DELETE_MARKER) || ctx->bucket.len > META_BUCKET_MAX)
        return;
    pthread_mutex_lock(&cache_mutex);
    cache_slot_t *s = cache_slot(ctx->bucket);
    if ((!slot_is(s, ctx->bucket) || s->incarnation != ctx->bucket_incarnation ||
         yc_mono_ns() - s->loaded_ns > CACHE_TTL_NS) &&
        cache_load(ctx, s) != 0) {
        pthread_mutex_unlock(&cache_mutex); /* an answer without the header rather than a failed one */
        return;
    }
    /* the slot may have been taken by another bucket while the drives were read */
    if (slot_is(s, ctx->bucket) && s->incarnation == ctx->bucket_incarnation && s->has_rules) {
        /* Tag filters match the version's own tags, as the worker matches them (AWS answers by
         * the same test, so a rule on tags the object lacks gives no header) */
        s3_tagset_t tags;
        int tagged = gw_tagging_of(&ctx->req->pool, rec, &tags) == 0 && tags.count > 0;
        s3_lifecycle_version_t v = {.key = ctx->key,
                                    .size = rec->size,
                                    .tags = tagged ? &tags : NULL,
                                    .is_current = 1,
                                    .mtime_ns = rec->mtime_ns};
        s3_lifecycle_evaluate(&s->rules, &v, S3_LC_UNVERSIONED, yc_now_ns(), &d);
        if (d.rule != NULL && d.due_ns != INT64_MAX)
            value = s3_lifecycle_expiration_header(&ctx->req->pool, d.due_ns, d.rule->id);
    }
    pthread_mutex_unlock(&cache_mutex);
    if (value.base != NULL)
        gw_add_header(ctx, "x-amz-expiration", value.base, value.len);
}
