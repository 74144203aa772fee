/* gw_pool.h — worker threads for everything that blocks, and the way back to the event loop.
 *
 * An event loop never blocks: a handler packs its blocking work (disk, fsync, RocksDB, large
 * EC work) into a gw_job_t, submits it, and returns. A worker thread runs job->run; the job then
 * travels back through the submitting loop's h2o multithread queue and job->done runs on that
 * loop, where it may touch h2o objects again.
 *
 * Two kinds of pools exist: request workers (gw_pool_t, run whole requests' blocking parts and
 * may wait for fan-out) and per-drive I/O pools (gw_fanout), so that a request worker waiting
 * on drives can never starve the threads that serve those drives.
 */
#ifndef YC_GW_POOL_H
#define YC_GW_POOL_H
#include <h2o.h>
#include <h2o/multithread.h>
#include <pthread.h>
#include <stddef.h>

typedef struct gw_pool gw_pool_t;
typedef struct gw_job gw_job_t;
typedef struct gw_loop gw_loop_t;

/* One per event-loop thread: its queue receives finished jobs. */
struct gw_loop {
    h2o_loop_t *loop;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t receiver;
};

struct gw_job {
    h2o_multithread_message_t super; /* first: the queue links jobs through it */
    void (*run)(gw_job_t *job);      /* on a worker thread */
    void (*done)(gw_job_t *job);     /* back on the submitting loop */
    gw_loop_t *loop;
    gw_job_t *next_queued;
};

/* Creates a pool of nthreads workers. */
int gw_pool_new(size_t nthreads, gw_pool_t **out);
/* Stops the workers after the queued jobs ran. */
void gw_pool_free(gw_pool_t *p);
/* Queues a job; job->done will run on job->loop (which must be set) once job->run returned.
 * When loop is NULL, done runs on the worker right after run. */
void gw_pool_submit(gw_pool_t *p, gw_job_t *job);
/* Jobs queued or running right now (for admission control and metrics). */
size_t gw_pool_depth(gw_pool_t *p);

/* Attaches a loop's queue; call on the loop's thread before submitting jobs from it. */
void gw_loop_init(gw_loop_t *l, h2o_loop_t *loop);
void gw_loop_dispose(gw_loop_t *l);

/* ---- fan-out: run one task per drive in parallel and wait for all of them ---- */

typedef struct gw_lane gw_lane_t; /* the threads that serve one drive */

int gw_lane_new(size_t nthreads, gw_lane_t **out);
void gw_lane_free(gw_lane_t *lane);

/* Queues a job on a drive's lane without waiting for it (job->loop NULL: done, if any, runs on
 * the lane right after run). */
void gw_lane_submit(gw_lane_t *lane, gw_job_t *job);

typedef struct gw_fanout gw_fanout_t;
typedef void (*gw_task_fn)(void *arg, size_t i);

/* Runs fn(arg, i) for i in [0, n) on lanes[i] (a NULL lane runs on the caller), returning once
 * all of them have returned. Called from a request worker, never from an event loop. */
void gw_fanout_run(gw_lane_t *const *lanes, size_t n, gw_task_fn fn, void *arg);

#endif
