/* gw_pool.c — request worker pool, per-drive lanes and fan-out.
 *
 * Both pools are the same thing underneath: a FIFO of jobs under one mutex and a set of
 * threads waiting on a condition variable. Jobs are intrusive (gw_job_t is embedded in the
 * caller's state), so submitting allocates nothing. Finished request jobs go back to their
 * loop through h2o_multithread_send_message, which wakes the loop via its eventfd/pipe.
 */
#include "gateway/gw_pool.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct gw_pool {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    gw_job_t *head, *tail;
    size_t depth; /* queued + running */
    int stopping;
    size_t nthreads;
    pthread_t *threads;
};

static void *pool_main(void *arg)
{
    gw_pool_t *p = arg;

    pthread_mutex_lock(&p->mutex);
    for (;;) {
        while (p->head == NULL && !p->stopping)
            pthread_cond_wait(&p->cond, &p->mutex);
        if (p->head == NULL)
            break;
        gw_job_t *job = p->head;
        if ((p->head = job->next_queued) == NULL)
            p->tail = NULL;
        pthread_mutex_unlock(&p->mutex);

        /* A fan-out task's memory is gone once its run() returns, and a request job's once its
         * loop has it: read what is needed before, touch nothing after. */
        gw_loop_t *loop = job->loop;
        void (*done)(gw_job_t *) = job->done;
        job->run(job);
        if (loop != NULL)
            h2o_multithread_send_message(&loop->receiver, &job->super);
        else if (done != NULL)
            done(job);

        pthread_mutex_lock(&p->mutex);
        p->depth--;
    }
    pthread_mutex_unlock(&p->mutex);
    return NULL;
}

int gw_pool_new(size_t nthreads, gw_pool_t **out)
{
    gw_pool_t *p = calloc(1, sizeof(*p));
    if (p == NULL || (p->threads = calloc(nthreads, sizeof(pthread_t))) == NULL) {
        free(p);
        return -ENOMEM;
    }
    pthread_mutex_init(&p->mutex, NULL);
    pthread_cond_init(&p->cond, NULL);
    for (p->nthreads = 0; p->nthreads < nthreads; p->nthreads++) {
        if (pthread_create(&p->threads[p->nthreads], NULL, pool_main, p) != 0) {
            gw_pool_free(p);
            return -EAGAIN;
        }
    }
    *out = p;
    return 0;
}

void gw_pool_free(gw_pool_t *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mutex);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mutex);
    for (size_t i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mutex);
    pthread_cond_destroy(&p->cond);
    free(p->threads);
    free(p);
}

void gw_pool_submit(gw_pool_t *p, gw_job_t *job)
{
    job->next_queued = NULL;
    pthread_mutex_lock(&p->mutex);
    if (p->tail != NULL)
        p->tail->next_queued = job;
    else
        p->head = job;
    p->tail = job;
    p->depth++;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->mutex);
}

size_t gw_pool_depth(gw_pool_t *p)
{
    pthread_mutex_lock(&p->mutex);
    size_t d = p->depth;
    pthread_mutex_unlock(&p->mutex);
    return d;
}

static void on_jobs_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    while (!h2o_linklist_is_empty(messages)) {
        gw_job_t *job = H2O_STRUCT_FROM_MEMBER(gw_job_t, super.link, messages->next);
        h2o_linklist_unlink(&job->super.link);
        job->done(job);
    }
}

void gw_loop_init(gw_loop_t *l, h2o_loop_t *loop)
{
    l->loop = loop;
    l->queue = h2o_multithread_create_queue(loop);
    h2o_multithread_register_receiver(l->queue, &l->receiver, on_jobs_done);
}

void gw_loop_dispose(gw_loop_t *l)
{
    h2o_multithread_unregister_receiver(l->queue, &l->receiver);
    h2o_multithread_destroy_queue(l->queue);
}

/* ---- lanes and fan-out ---- */

struct gw_lane {
    gw_pool_t *pool;
};

int gw_lane_new(size_t nthreads, gw_lane_t **out)
{
    gw_lane_t *lane = calloc(1, sizeof(*lane));
    int ret;
    if (lane == NULL)
        return -ENOMEM;
    if ((ret = gw_pool_new(nthreads, &lane->pool)) != 0) {
        free(lane);
        return ret;
    }
    *out = lane;
    return 0;
}

void gw_lane_free(gw_lane_t *lane)
{
    if (lane == NULL)
        return;
    gw_pool_free(lane->pool);
    free(lane);
}

void gw_lane_submit(gw_lane_t *lane, gw_job_t *job)
{
    gw_pool_submit(lane->pool, job);
}

typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    size_t pending;
    gw_task_fn fn;
    void *arg;
} fanout_t;

typedef struct {
    gw_job_t job;
    fanout_t *fanout;
    size_t index;
} fanout_task_t;

static void fanout_task_run(gw_job_t *job)
{
    fanout_task_t *t = (fanout_task_t *)job;
    fanout_t *f = t->fanout;
    f->fn(f->arg, t->index);
    pthread_mutex_lock(&f->mutex);
    if (--f->pending == 0)
        pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->mutex);
}

void gw_fanout_run(gw_lane_t *const *lanes, size_t n, gw_task_fn fn, void *arg)
{
    fanout_t f = {.pending = n, .fn = fn, .arg = arg};
    fanout_task_t tasks[n > 0 ? n : 1];
    ssize_t local = -1;

    pthread_mutex_init(&f.mutex, NULL);
    pthread_cond_init(&f.cond, NULL);
    for (size_t i = 0; i < n; i++) {
        tasks[i] = (fanout_task_t){.job = {.run = fanout_task_run}, .fanout = &f, .index = i};
        if (lanes[i] == NULL && local < 0)
            local = (ssize_t)i; /* keep one task for this thread: it would only wait otherwise */
        else if (lanes[i] == NULL)
            fanout_task_run(&tasks[i].job);
        else
            gw_pool_submit(lanes[i]->pool, &tasks[i].job);
    }
    if (local >= 0)
        fanout_task_run(&tasks[local].job);
    pthread_mutex_lock(&f.mutex);
    while (f.pending != 0)
        pthread_cond_wait(&f.cond, &f.mutex);
    pthread_mutex_unlock(&f.mutex);
    pthread_mutex_destroy(&f.mutex);
    pthread_cond_destroy(&f.cond);
}
