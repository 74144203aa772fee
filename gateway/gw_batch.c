/* gw_batch.c — items of one request worked on by several request workers (see gw_batch.h). */
#include "gateway/gw_batch.h"
#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct batch batch_t;

/* A helper's job; the helpers' jobs are allocated with the batch. */
typedef struct {
    yc_job_t job; /* first: the pool hands this back */
    batch_t *batch;
    size_t runner;
} helper_t;

struct batch {
    pthread_mutex_t mutex;
    pthread_cond_t finished;
    size_t n, next; /* items, and the next one to take */
    size_t active;  /* runners that took an item and have not finished yet */
    size_t refs;    /* the caller and each helper job not yet run */
    gw_batch_item_fn item;
    gw_batch_done_fn done;
    void *arg;
    helper_t helpers[]; /* width - 1 */
};

static void batch_unref(batch_t *b)
{
    pthread_mutex_lock(&b->mutex);
    size_t left = --b->refs;
    pthread_mutex_unlock(&b->mutex);
    if (left == 0) {
        pthread_cond_destroy(&b->finished);
        pthread_mutex_destroy(&b->mutex);
        free(b);
    }
}

/* Takes items until none is left. b->arg is touched only by a runner that took an item, which
 * counts as active from that moment (under the lock that gave it the item) until its done
 * returned; the caller waits for every active runner, so a helper that finds nothing left
 * touches only b. */
static void work(batch_t *b, size_t runner)
{
    int took = 0;

    for (;;) {
        pthread_mutex_lock(&b->mutex);
        if (b->next >= b->n) {
            pthread_mutex_unlock(&b->mutex);
            break;
        }
        size_t i = b->next++;
        if (!took)
            b->active++;
        pthread_mutex_unlock(&b->mutex);
        took = 1;
        b->item(b->arg, runner, i);
    }
    if (!took)
        return;
    if (b->done != NULL)
        b->done(b->arg, runner);
    pthread_mutex_lock(&b->mutex);
    if (--b->active == 0)
        pthread_cond_broadcast(&b->finished);
    pthread_mutex_unlock(&b->mutex);
}

static void helper_run(yc_job_t *job)
{
    helper_t *h = (helper_t *)job;
    work(h->batch, h->runner);
}

static void helper_done(yc_job_t *job)
{
    batch_unref(((helper_t *)job)->batch);
}

int gw_batch_run(yc_pool_t *pool, size_t n, size_t width, gw_batch_item_fn item, gw_batch_done_fn done, void *arg)
{
    if (width > n)
        width = n;
    if (width <= 1) {
        for (size_t i = 0; i < n; i++)
            item(arg, 0, i);
        if (n > 0 && done != NULL)
            done(arg, 0);
        return 0;
    }
    batch_t *b = calloc(1, sizeof(*b) + (width - 1) * sizeof(helper_t));
    if (b == NULL)
        return -ENOMEM;
    pthread_mutex_init(&b->mutex, NULL);
    pthread_cond_init(&b->finished, NULL);
    b->n = n;
    b->item = item;
    b->done = done;
    b->arg = arg;
    b->refs = width; /* the caller's and each helper's */
    for (size_t r = 1; r < width; r++) {
        helper_t *h = &b->helpers[r - 1];
        h->batch = b;
        h->runner = r;
        h->job.run = helper_run;
        h->job.done = helper_done; /* loop NULL: right after run, on the helper's worker */
        yc_pool_submit(pool, &h->job);
    }
    work(b, 0);
    pthread_mutex_lock(&b->mutex);
    while (b->next < b->n || b->active > 0)
        pthread_cond_wait(&b->finished, &b->mutex);
    pthread_mutex_unlock(&b->mutex);
    batch_unref(b);
    return 0;
}

void gw_batch_ctx_init(gw_batch_ctx_t *c, const gw_ctx_t *of)
{
    c->req = *of->req;
    h2o_mem_init_pool(&c->req.pool);
    memset(&c->req.res_headers, 0, sizeof(c->req.res_headers)); /* headers a runner adds go nowhere */
    c->ctx = *of;
    c->ctx.req = &c->req;
    c->ctx.error = S3_OK;
    c->ctx.error_message = NULL;
    c->ctx.error_status = 0;
    c->ctx.nerror_fields = 0;
}

void gw_batch_ctx_dispose(gw_batch_ctx_t *c)
{
    h2o_mem_clear_pool(&c->req.pool);
    /* the copy holds the request's signing state, which gw_ctx_free wipes from the original */
    OPENSSL_cleanse(&c->ctx.sigv4, sizeof(c->ctx.sigv4));
}
