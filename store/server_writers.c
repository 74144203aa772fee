/* server_writers.c — the yc-store daemon's open shard writers.
 *
 * Shard writers live in a table keyed by a random 128-bit token, bound to the drive, data id
 * and index they were created for. A writer is used by one worker at a time (busy flag); each
 * append carries a sequence number so that a resent append is answered from memory instead of
 * being appended twice (server_ops.c). A reaper thread aborts writers left idle (a gateway that
 * died mid-write) so that their temp files and descriptors do not pile up.
 */
#include "store/server_internal.h"
#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common/clock.h"
#include "common/log.h"

#define WRITERS_MAX 65536

/* ---------------------------------------------------------------- the table */

static size_t token_bucket(const uint8_t token[16])
{
    return ((size_t)token[0] | (size_t)token[1] << 8) & (STORE_WRITER_BUCKETS - 1);
}

static store_srv_writer_t **writer_find(store_writers_t *t, const uint8_t token[16])
{
    store_srv_writer_t **p = &t->buckets[token_bucket(token)];
    while (*p != NULL && CRYPTO_memcmp((*p)->token, token, 16) != 0)
        p = &(*p)->next;
    return p;
}

static int writer_matches(const store_srv_writer_t *w, const store_srv_job_t *j)
{
    return w->drive == j->drive && w->index == j->index && memcmp(w->data_id, j->data_id, META_ID_LEN) == 0;
}

int store_writer_add(store_writers_t *t, store_srv_writer_t *w)
{
    int ret = 0;
    pthread_mutex_lock(&t->mutex);
    if (t->count >= WRITERS_MAX) {
        ret = STORE_EIO;
    } else {
        size_t b = token_bucket(w->token);
        w->next = t->buckets[b];
        t->buckets[b] = w;
        t->count++;
    }
    pthread_mutex_unlock(&t->mutex);
    return ret;
}

store_srv_writer_t *store_writer_acquire(store_writers_t *t, const store_srv_job_t *j, int *err)
{
    store_srv_writer_t *w;
    pthread_mutex_lock(&t->mutex);
    w = *writer_find(t, j->token);
    if (w == NULL || !writer_matches(w, j)) {
        *err = STORE_ENOENT;
        w = NULL;
    } else if (w->busy) {
        *err = STORE_EIO;
        w = NULL;
    } else {
        w->busy = 1;
    }
    pthread_mutex_unlock(&t->mutex);
    return w;
}

void store_writer_release(store_writers_t *t, store_srv_writer_t *w)
{
    pthread_mutex_lock(&t->mutex);
    w->busy = 0;
    w->used_ns = yc_mono_ns();
    pthread_mutex_unlock(&t->mutex);
}

store_srv_writer_t *store_writer_take(store_writers_t *t, const store_srv_job_t *j, int *err)
{
    store_srv_writer_t **p, *w;
    pthread_mutex_lock(&t->mutex);
    p = writer_find(t, j->token);
    w = *p;
    if (w == NULL || !writer_matches(w, j)) {
        *err = STORE_ENOENT;
        w = NULL;
    } else if (w->busy) {
        *err = STORE_EIO;
        w = NULL;
    } else {
        *p = w->next;
        t->count--;
    }
    pthread_mutex_unlock(&t->mutex);
    return w;
}

void store_writer_remove(store_writers_t *t, store_srv_writer_t *w)
{
    store_srv_writer_t **p;
    pthread_mutex_lock(&t->mutex);
    for (p = &t->buckets[token_bucket(w->token)]; *p != NULL && *p != w; p = &(*p)->next)
        ;
    if (*p == w) {
        *p = w->next;
        t->count--;
    }
    pthread_mutex_unlock(&t->mutex);
}

static void *reaper_main(void *arg)
{
    store_writers_t *t = arg;

    pthread_mutex_lock(&t->reaper_mutex);
    while (!t->stopping) {
        struct timespec until;
        yc_deadline(CLOCK_REALTIME, 1000000000, &until);
        pthread_cond_timedwait(&t->reaper_cond, &t->reaper_mutex, &until);
        pthread_mutex_unlock(&t->reaper_mutex);

        store_srv_writer_t *idle = NULL;
        int64_t now = yc_mono_ns(), limit = (int64_t)t->idle_ms * 1000000;
        pthread_mutex_lock(&t->mutex);
        for (size_t b = 0; b < STORE_WRITER_BUCKETS; b++) {
            for (store_srv_writer_t **p = &t->buckets[b]; *p != NULL;) {
                store_srv_writer_t *w = *p;
                if (!w->busy && now - w->used_ns > limit) {
                    *p = w->next;
                    t->count--;
                    w->next = idle;
                    idle = w;
                } else {
                    p = &w->next;
                }
            }
        }
        pthread_mutex_unlock(&t->mutex);
        /* aborting unlinks a temp file: done outside the table's lock */
        while (idle != NULL) {
            store_srv_writer_t *w = idle;
            idle = w->next;
            yc_log(YC_LOG_WARN, "event=writer_expired drive=%s index=%u", w->drive->name, w->index);
            store_shard_abort(w->w);
            free(w);
        }
        pthread_mutex_lock(&t->reaper_mutex);
    }
    pthread_mutex_unlock(&t->reaper_mutex);
    return NULL;
}

/* ---------------------------------------------------------------- life cycle */

void store_writers_init(store_writers_t *t, uint32_t idle_ms)
{
    pthread_mutex_init(&t->mutex, NULL);
    pthread_mutex_init(&t->reaper_mutex, NULL);
    pthread_cond_init(&t->reaper_cond, NULL);
    t->idle_ms = idle_ms;
}

int store_writers_start_reaper(store_writers_t *t)
{
    if (pthread_create(&t->reaper, NULL, reaper_main, t) != 0)
        return -EAGAIN;
    t->reaper_started = 1;
    return 0;
}

void store_writers_dispose(store_writers_t *t)
{
    if (t->reaper_started) {
        pthread_mutex_lock(&t->reaper_mutex);
        t->stopping = 1;
        pthread_cond_signal(&t->reaper_cond);
        pthread_mutex_unlock(&t->reaper_mutex);
        pthread_join(t->reaper, NULL);
        t->reaper_started = 0;
    }
    for (size_t b = 0; b < STORE_WRITER_BUCKETS; b++) {
        while (t->buckets[b] != NULL) {
            store_srv_writer_t *w = t->buckets[b];
            t->buckets[b] = w->next;
            store_shard_abort(w->w);
            free(w);
        }
    }
}
