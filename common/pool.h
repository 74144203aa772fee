/* pool.h — worker threads for everything that blocks, and the way back to the event loop.
 *
 * An event loop never blocks: a handler packs its blocking work (disk, fsync, RocksDB, large
 * EC work) into a yc_job_t, submits it, and returns. A worker thread runs job->run; the job then
 * travels back through the submitting loop's h2o multithread queue and job->done runs on that
 * loop, where it may touch h2o objects again.
 *
 * Two kinds of pools exist: request workers (yc_pool_t, run whole requests' blocking parts and
 * may wait for fan-out) and per-drive I/O pools (yc_fanout), so that a request worker waiting
 * on drives can never starve the threads that serve those drives.
 *
 * Part of common/ (libcommon.a, prefix yc_): small helpers every library may use and that use
 * none of them. It has one public header per concern (log, pool, listen, server, clock, id,
 * bytes, errors, cli) rather than one for the folder, because its parts are independent.
 */
#ifndef YC_COMMON_POOL_H
#define YC_COMMON_POOL_H
#include <h2o.h>
#include <h2o/multithread.h>
#include <pthread.h>
#include <stddef.h>
#include "common/metrics.h"

typedef struct yc_pool yc_pool_t;
typedef struct yc_job yc_job_t;
typedef struct yc_loop yc_loop_t;

/* One per event-loop thread: its queue receives finished jobs. */
struct yc_loop {
    h2o_loop_t *loop;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t receiver;
};

struct yc_job {
    h2o_multithread_message_t super; /* first: the queue links jobs through it */
    void (*run)(yc_job_t *job);      /* on a worker thread */
    void (*done)(yc_job_t *job);     /* back on the submitting loop */
    yc_loop_t *loop;
    yc_job_t *next_queued;
};

/* Creates a pool of nthreads workers. */
int yc_pool_new(size_t nthreads, yc_pool_t **out);
/* Stops the workers after the queued jobs ran. */
void yc_pool_free(yc_pool_t *p);
/* Queues a job; job->done will run on job->loop (which must be set) once job->run returned.
 * When loop is NULL, done runs on the worker right after run. */
void yc_pool_submit(yc_pool_t *p, yc_job_t *job);
/* Jobs queued or running right now (for admission control and metrics). */
size_t yc_pool_depth(yc_pool_t *p);

/* Attaches a loop's queue; call on the loop's thread before submitting jobs from it. */
void yc_loop_init(yc_loop_t *l, h2o_loop_t *loop);
void yc_loop_dispose(yc_loop_t *l);

/* ---- fan-out: run one task per drive in parallel and wait for all of them ---- */

typedef struct yc_lane yc_lane_t; /* the threads that serve one drive */

int yc_lane_new(size_t nthreads, yc_lane_t **out);
void yc_lane_free(yc_lane_t *lane);

/* Times every fan-out task the lane runs from its submission to its end (the time a caller
 * waited for this drive) into series of histogram, in nanoseconds; NULL stops it. The histogram
 * must outlive the lane's tasks. */
void yc_lane_time(yc_lane_t *lane, yc_metric_t *histogram, size_t series);

/* Queues a job on a drive's lane without waiting for it (job->loop NULL: done, if any, runs on
 * the lane right after run). */
void yc_lane_submit(yc_lane_t *lane, yc_job_t *job);

typedef struct yc_fanout yc_fanout_t;
typedef void (*yc_task_fn)(void *arg, size_t i);

/* Runs fn(arg, i) for i in [0, n) on lanes[i] (a NULL lane runs on the caller), returning once
 * all of them have returned. Called from a request worker, never from an event loop. */
void yc_fanout_run(yc_lane_t *const *lanes, size_t n, yc_task_fn fn, void *arg);

#endif
