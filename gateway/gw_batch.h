/* gw_batch.h — the items of one request (the keys of a DeleteObjects) worked on concurrently by
 * request workers.
 *
 * A request's work runs on one worker, and each of its record writes waits for its drives' synced
 * group commit: a thousand keys done one after the other wait a thousand times. gw_batch_run lends
 * the request up to `width` workers: the calling worker and up to width-1 helper jobs on the pool
 * take items one at a time from a shared counter. The caller works too and only waits for items
 * already taken, so a batch finishes even when no helper ever gets a worker (a pool full of
 * batches cannot deadlock); a helper that starts after the last item was taken leaves at once,
 * touching nothing of the request. The batch's own state is reference counted, since a helper
 * may start after the request has gone.
 *
 * A runner's context: the request's gw_ctx_t is the loop's and the pool's, so a runner works on
 * a copy (gw_batch_ctx_init) with its own memory pool and error fields, whose error the caller
 * reads back per item. Anything a runner allocates from its copy's pool is gone with the copy.
 */
#ifndef YC_GW_BATCH_H
#define YC_GW_BATCH_H
#include "gateway/gw_request.h"
#include <stddef.h>

/* Works item i on runner r (0: the calling worker; 1..width-1: helpers). Items of one runner run
 * one after the other. */
typedef void (*gw_batch_item_fn)(void *arg, size_t runner, size_t i);
/* Called once on a runner after its last item, if it worked any (to dispose of its state). */
typedef void (*gw_batch_done_fn)(void *arg, size_t runner);

/* Runs item(arg, r, i) for every i in [0, n) on up to width runners at once (width 0 or 1, or
 * n 1: all on the caller), returning once every item and every runner's done returned. Called
 * from a request worker, never from a loop. 0, or -ENOMEM (then nothing ran). */
int gw_batch_run(yc_pool_t *pool, size_t n, size_t width, gw_batch_item_fn item, gw_batch_done_fn done, void *arg);

/* One runner's copy of a request's context and request: ctx's fields with a memory pool of its
 * own and no error; the headers, query, body and identity are ctx's, borrowed. */
typedef struct {
    gw_ctx_t ctx;
    gw_req_t req;
} gw_batch_ctx_t;

void gw_batch_ctx_init(gw_batch_ctx_t *c, const gw_ctx_t *of);
/* Frees the copy's pool (what the runner allocated from it) and wipes its copy of the signing
 * state. */
void gw_batch_ctx_dispose(gw_batch_ctx_t *c);

#endif
