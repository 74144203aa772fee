/* pool.c — request worker pool, per-drive lanes and fan-out.
 *
 * Both pools are the same thing underneath: a FIFO of jobs under one mutex and a set of
 * threads waiting on a condition variable. Jobs are intrusive (yc_job_t is embedded in the
 * caller's state), so submitting allocates nothing. Finished request jobs go back to their
 * loop through h2o_multithread_send_message, which wakes the loop via its eventfd/pipe.
 *
 * The mutex is held for a few list links only, and a submitter wakes an idle thread after
 * releasing it: signalled under the mutex, the woken thread went back to sleep at once on the
 * mutex the submitter still held (a third of a 4 KiB PUT's thread switches at 64 connections),
 * and an event loop submitting a job waited for workers that were taking the mutex back after
 * each job only to count it done. The count of jobs is an atomic, kept without the mutex.
 */
#include "common/pool.h"
#include "common/clock.h"
#include "common/metrics.h"
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct yc_pool {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    yc_job_t *head, *tail;
    atomic_size_t depth; /* queued + running */
    size_t idle;         /* threads waiting on cond, under mutex */
    int stopping;
    size_t nthreads;
    pthread_t *threads;
};

static void *pool_main(void *arg)
{
    yc_pool_t *p = arg;

    for (;;) {
        pthread_mutex_lock(&p->mutex);
        while (p->head == NULL && !p->stopping) {
            p->idle++;
            pthread_cond_wait(&p->cond, &p->mutex);
            p->idle--;
        }
        if (p->head == NULL)
            break;
        yc_job_t *job = p->head;
        if ((p->head = job->next_queued) == NULL)
            p->tail = NULL;
        pthread_mutex_unlock(&p->mutex);

        /* A fan-out task's memory is gone once its run() returns, and a request job's once its
         * loop has it: read what is needed before, touch nothing after. */
        yc_loop_t *loop = job->loop;
        void (*done)(yc_job_t *) = job->done;
        job->run(job);
        if (loop != NULL)
            h2o_multithread_send_message(&loop->receiver, &job->super);
        else if (done != NULL)
            done(job);
        atomic_fetch_sub(&p->depth, 1);
    }
    pthread_mutex_unlock(&p->mutex);
    return NULL;
}

int yc_pool_new(size_t nthreads, yc_pool_t **out)
{
    yc_pool_t *p = calloc(1, sizeof(*p));
    if (p == NULL || (p->threads = calloc(nthreads, sizeof(pthread_t))) == NULL) {
        free(p);
        return -ENOMEM;
    }
    pthread_mutex_init(&p->mutex, NULL);
    pthread_cond_init(&p->cond, NULL);
    for (p->nthreads = 0; p->nthreads < nthreads; p->nthreads++) {
        if (pthread_create(&p->threads[p->nthreads], NULL, pool_main, p) != 0) {
            yc_pool_free(p);
            return -EAGAIN;
        }
    }
    *out = p;
    return 0;
}

void yc_pool_free(yc_pool_t *p)
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

void yc_pool_submit(yc_pool_t *p, yc_job_t *job)
{
    job->next_queued = NULL;
    atomic_fetch_add(&p->depth, 1);
    pthread_mutex_lock(&p->mutex);
    if (p->tail != NULL)
        p->tail->next_queued = job;
    else
        p->head = job;
    p->tail = job;
    /* A busy pool (no thread waiting) needs no wake: a thread looks at the queue after its job.
     * The pool outlives every submit, so the signal may follow the unlock. */
    int wake = p->idle > 0;
    pthread_mutex_unlock(&p->mutex);
    if (wake)
        pthread_cond_signal(&p->cond);
}

size_t yc_pool_depth(yc_pool_t *p)
{
    return atomic_load(&p->depth);
}

static void on_jobs_done(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    while (!h2o_linklist_is_empty(messages)) {
        yc_job_t *job = H2O_STRUCT_FROM_MEMBER(yc_job_t, super.link, messages->next);
        h2o_linklist_unlink(&job->super.link);
        job->done(job);
    }
}

void yc_loop_init(yc_loop_t *l, h2o_loop_t *loop)
{
    l->loop = loop;
    l->queue = h2o_multithread_create_queue(loop);
    h2o_multithread_register_receiver(l->queue, &l->receiver, on_jobs_done);
}

void yc_loop_dispose(yc_loop_t *l)
{
    h2o_multithread_unregister_receiver(l->queue, &l->receiver);
    h2o_multithread_destroy_queue(l->queue);
}

/* ---- lanes and fan-out ---- */

struct yc_lane {
    yc_pool_t *pool;
    _Atomic(yc_metric_t *) timer; /* fan-out tasks' times go here (series timer_series); NULL: nowhere */
    size_t timer_series;
};

int yc_lane_new(size_t nthreads, yc_lane_t **out)
{
    yc_lane_t *lane = calloc(1, sizeof(*lane));
    int ret;
    if (lane == NULL)
        return -ENOMEM;
    if ((ret = yc_pool_new(nthreads, &lane->pool)) != 0) {
        free(lane);
        return ret;
    }
    *out = lane;
    return 0;
}

void yc_lane_free(yc_lane_t *lane)
{
    if (lane == NULL)
        return;
    yc_pool_free(lane->pool);
    free(lane);
}

void yc_lane_time(yc_lane_t *lane, yc_metric_t *histogram, size_t series)
{
    lane->timer_series = series;
    atomic_store(&lane->timer, histogram);
}

void yc_lane_submit(yc_lane_t *lane, yc_job_t *job)
{
    yc_pool_submit(lane->pool, job);
}

typedef struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    size_t pending;
    yc_task_fn fn;
    void *arg;
} fanout_t;

typedef struct {
    yc_job_t job;
    fanout_t *fanout;
    size_t index;
    yc_lane_t *lane;      /* NULL: runs on the caller */
    int64_t submitted_ns; /* monotonic, when the lane is timed */
} fanout_task_t;

static void fanout_task_run(yc_job_t *job)
{
    fanout_task_t *t = (fanout_task_t *)job;
    fanout_t *f = t->fanout;
    f->fn(f->arg, t->index);
    if (t->lane != NULL) {
        /* the time the caller waited for this drive: its lane's queue and the call itself */
        yc_metric_t *timer = atomic_load(&t->lane->timer);
        if (timer != NULL)
            yc_metrics_observe(timer, t->lane->timer_series, (uint64_t)(yc_mono_ns() - t->submitted_ns));
    }
    pthread_mutex_lock(&f->mutex);
    if (--f->pending == 0)
        pthread_cond_signal(&f->cond);
    pthread_mutex_unlock(&f->mutex);
}

void yc_fanout_run(yc_lane_t *const *lanes, size_t n, yc_task_fn fn, void *arg)
{
    fanout_t f = {.pending = n, .fn = fn, .arg = arg};
    fanout_task_t tasks[n > 0 ? n : 1];
    ssize_t local = -1;

    pthread_mutex_init(&f.mutex, NULL);
    pthread_cond_init(&f.cond, NULL);
    for (size_t i = 0; i < n; i++) {
        tasks[i] = (fanout_task_t){.job = {.run = fanout_task_run}, .fanout = &f, .index = i, .lane = lanes[i]};
        if (lanes[i] != NULL && atomic_load(&lanes[i]->timer) != NULL)
            tasks[i].submitted_ns = yc_mono_ns();
        if (lanes[i] == NULL && local < 0)
            local = (ssize_t)i; /* keep one task for this thread: it would only wait otherwise */
        else if (lanes[i] == NULL)
            fanout_task_run(&tasks[i].job);
        else
            yc_pool_submit(lanes[i]->pool, &tasks[i].job);
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
