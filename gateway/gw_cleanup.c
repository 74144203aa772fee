/* gw_cleanup.c — the queue of failed writes to remove from the drives, and its thread.
 *
 * The queue is a list sorted by due time under one mutex; the thread sleeps on a condition until
 * the first entry is due (or a new one comes). A pass over an entry calls, for every slot still
 * to clean, the drive's take-back of exactly the write's record (store_object_takeback compares
 * modification time, version id, data and size under the key's lock: a newer write of the key,
 * even one begun meanwhile, is never touched) and only once that answered (done, or nothing
 * there) the deletion of the write's shard file on that drive: a record must never name deleted
 * shards. A slot whose drive did not answer stays for the next pass. The calls block (disk,
 * network): this thread is no event loop, and it serves one entry at a time, so a burst of
 * failures is cleaned at the pace of the drives, without competing with many threads for them.
 */
#include "gateway/gw_cleanup.h"
#include "common/clock.h"
#include "common/log.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIRST_RETRY_NS (250 * 1000 * 1000LL)
#define LAST_RETRY_NS  (16 * 1000 * 1000 * 1000LL)

typedef struct cleanup_item {
    struct cleanup_item *next;
    gw_set_t *set;
    meta_buf_t raw; /* the record, encoded: rec points into it */
    meta_object_t rec;
    int files; /* data_id names shard files */
    uint8_t data_id[META_ID_LEN];
    uint8_t record[16];  /* slots whose record may still be there */
    uint8_t pending[16]; /* slots not clean yet */
    unsigned tries;
    int64_t due_ns; /* monotonic */
} cleanup_item_t;

struct gw_cleanup {
    gw_cluster_t *cluster;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv, idle_cv;
    cleanup_item_t *head; /* by due time */
    size_t queued;
    int busy; /* the thread holds an entry out of the list */
    int stop;
    uint64_t results[GW_CLEANUP__RESULTS];
};

static void item_free(cleanup_item_t *it)
{
    meta_buf_dispose(&it->raw);
    free(it);
}

/* Under mu: inserts by due time (stable: equal times keep their order). */
static void insert_due(gw_cleanup_t *cl, cleanup_item_t *it)
{
    cleanup_item_t **p = &cl->head;
    while (*p != NULL && (*p)->due_ns <= it->due_ns)
        p = &(*p)->next;
    it->next = *p;
    *p = it;
}

/* One attempt on one slot: 1 clean, 0 to try again. */
static int clean_slot(cleanup_item_t *it, uint32_t slot)
{
    store_client_t *d = it->set->drives[slot]->client;
    int ret;

    if (d == NULL)
        return 0; /* a local drive that could not open: later */
    if (it->record[slot]) {
        ret = store_client_object_takeback(d, &it->rec);
        if (ret != 0 && ret != STORE_ENOENT)
            return 0;
        it->record[slot] = 0;
    }
    if (it->files) {
        uint32_t shard = 0, width = gw_set_width(it->set);
        for (uint32_t i = 0; i < width; i++)
            if (it->rec.distribution[i] == slot)
                shard = i;
        ret = store_client_shard_delete(d, it->data_id, shard);
        if (ret != 0 && ret != STORE_ENOENT)
            return 0;
    }
    return 1;
}

/* One pass over an entry, without the mutex: 1 when every slot is clean. */
static int clean_item(cleanup_item_t *it)
{
    uint32_t width = gw_set_width(it->set), left = 0;
    for (uint32_t slot = 0; slot < width; slot++) {
        if (it->pending[slot] && clean_slot(it, slot))
            it->pending[slot] = 0;
        left += it->pending[slot];
    }
    return left == 0;
}

static void *cleanup_main(void *arg)
{
    gw_cleanup_t *cl = arg;

    pthread_mutex_lock(&cl->mu);
    while (!cl->stop) {
        if (cl->head == NULL) {
            pthread_cond_broadcast(&cl->idle_cv);
            pthread_cond_wait(&cl->cv, &cl->mu);
            continue;
        }
        int64_t now = yc_mono_ns();
        if (cl->head->due_ns > now) {
            struct timespec ts;
            yc_deadline(CLOCK_MONOTONIC, cl->head->due_ns - now, &ts);
            pthread_cond_timedwait(&cl->cv, &cl->mu, &ts);
            continue;
        }
        cleanup_item_t *it = cl->head;
        cl->head = it->next;
        cl->busy = 1;
        pthread_mutex_unlock(&cl->mu);

        int clean = clean_item(it);
        int result = clean                            ? GW_CLEANUP_DONE
                     : ++it->tries < GW_CLEANUP_TRIES ? GW_CLEANUP_RETRIED
                                                      : GW_CLEANUP_ABANDONED;
        if (result == GW_CLEANUP_ABANDONED) {
            /* the healer looks at the key again; files no record names go with the orphans */
            yc_log(YC_LOG_WARN, "event=write_cleanup_abandoned key=%.*s tries=%u", (int)it->rec.key.len,
                   it->rec.key.base, it->tries);
            if (cl->cluster->repair.note != NULL && it->rec.key.len > 0) /* files alone: no key */
                cl->cluster->repair.note(cl->cluster->repair.arg, it->rec.bucket, it->rec.key);
        }

        pthread_mutex_lock(&cl->mu);
        cl->busy = 0;
        cl->results[result]++;
        if (result == GW_CLEANUP_RETRIED) {
            int64_t backoff = FIRST_RETRY_NS << (it->tries - 1);
            it->due_ns = yc_mono_ns() + (backoff < LAST_RETRY_NS ? backoff : LAST_RETRY_NS);
            insert_due(cl, it);
        } else {
            cl->queued--;
            pthread_mutex_unlock(&cl->mu);
            item_free(it);
            pthread_mutex_lock(&cl->mu);
        }
    }
    pthread_mutex_unlock(&cl->mu);
    return NULL;
}

int gw_cleanup_start(gw_cluster_t *c, gw_cleanup_t **out)
{
    gw_cleanup_t *cl = calloc(1, sizeof(*cl));
    pthread_condattr_t ca;
    int ret;

    if (cl == NULL)
        return -ENOMEM;
    cl->cluster = c;
    pthread_mutex_init(&cl->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cl->cv, &ca);
    pthread_cond_init(&cl->idle_cv, &ca);
    pthread_condattr_destroy(&ca);
    if ((ret = pthread_create(&cl->thread, NULL, cleanup_main, cl)) != 0) {
        pthread_cond_destroy(&cl->cv);
        pthread_cond_destroy(&cl->idle_cv);
        pthread_mutex_destroy(&cl->mu);
        free(cl);
        return -ret;
    }
    c->cleanup = cl;
    *out = cl;
    return 0;
}

void gw_cleanup_stop(gw_cleanup_t *cl)
{
    if (cl == NULL)
        return;
    pthread_mutex_lock(&cl->mu);
    cl->stop = 1;
    pthread_cond_broadcast(&cl->cv);
    pthread_mutex_unlock(&cl->mu);
    pthread_join(cl->thread, NULL);
    __atomic_store_n(&cl->cluster->cleanup, NULL, __ATOMIC_RELEASE);
    while (cl->head != NULL) {
        cleanup_item_t *it = cl->head;
        cl->head = it->next;
        item_free(it);
    }
    pthread_cond_destroy(&cl->cv);
    pthread_cond_destroy(&cl->idle_cv);
    pthread_mutex_destroy(&cl->mu);
    free(cl);
}

void gw_cleanup_queue(gw_cleanup_t *cl, gw_set_t *set, const meta_object_t *rec, const uint8_t *data_id,
                      const uint8_t *record, const uint8_t *files)
{
    uint32_t width = gw_set_width(set), n = 0;
    cleanup_item_t *it;

    if (cl == NULL)
        return;
    if ((it = calloc(1, sizeof(*it))) == NULL)
        goto dropped;
    it->set = set;
    it->files = data_id != NULL;
    if (data_id != NULL)
        memcpy(it->data_id, data_id, META_ID_LEN);
    for (uint32_t slot = 0; slot < width; slot++) {
        it->record[slot] = record[slot] != 0;
        it->pending[slot] = it->record[slot] || (data_id != NULL && files != NULL && files[slot]);
        n += it->pending[slot];
    }
    if (n == 0) {
        free(it);
        return;
    }
    /* the copy is the encoded record decoded again: it owns every byte it points to */
    if (meta_object_encode(rec, &it->raw) != 0 || meta_object_decode(it->raw.base, it->raw.len, &it->rec) != 0) {
        item_free(it);
        goto dropped;
    }
    pthread_mutex_lock(&cl->mu);
    if (cl->queued >= GW_CLEANUP_QUEUE_MAX || cl->stop) {
        cl->results[GW_CLEANUP_DROPPED]++;
        pthread_mutex_unlock(&cl->mu);
        item_free(it);
        goto noted;
    }
    it->due_ns = yc_mono_ns();
    insert_due(cl, it);
    cl->queued++;
    pthread_cond_signal(&cl->cv);
    pthread_mutex_unlock(&cl->mu);
    return;

dropped:
    pthread_mutex_lock(&cl->mu);
    cl->results[GW_CLEANUP_DROPPED]++;
    pthread_mutex_unlock(&cl->mu);
noted:
    if (cl->cluster->repair.note != NULL && rec->key.len > 0)
        cl->cluster->repair.note(cl->cluster->repair.arg, rec->bucket, rec->key);
}

void gw_cleanup_counts(gw_cleanup_t *cl, uint64_t *results, uint64_t *queued)
{
    pthread_mutex_lock(&cl->mu);
    memcpy(results, cl->results, sizeof(cl->results));
    *queued = cl->queued;
    pthread_mutex_unlock(&cl->mu);
}

int gw_cleanup_idle(gw_cleanup_t *cl, int64_t wait_ns)
{
    struct timespec ts;
    int empty;

    yc_deadline(CLOCK_MONOTONIC, wait_ns, &ts);
    pthread_mutex_lock(&cl->mu);
    while (cl->queued > 0 && pthread_cond_timedwait(&cl->idle_cv, &cl->mu, &ts) == 0)
        ;
    empty = cl->queued == 0;
    pthread_mutex_unlock(&cl->mu);
    return empty;
}
