/* test_gw_batch.c — items of one request worked by several workers (gateway/gw_batch.h): every
 * item once, runners' done once each, items really overlap, and a pool with no free worker still
 * finishes the batch on the caller. */
#include "gateway/gw_batch.h"
#include "unit.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define ITEMS 500
#define WIDTH 8

typedef struct {
    atomic_int ran[ITEMS];
    atomic_int runner_items[WIDTH];
    atomic_int runner_done[WIDTH];
    atomic_int running, most_running;
    int sleep_us;
} state_t;

static void item(void *arg, size_t runner, size_t i)
{
    state_t *s = arg;
    int now = atomic_fetch_add(&s->running, 1) + 1;
    int most = atomic_load(&s->most_running);
    while (now > most && !atomic_compare_exchange_weak(&s->most_running, &most, now))
        ;
    atomic_fetch_add(&s->ran[i], 1);
    atomic_fetch_add(&s->runner_items[runner], 1);
    if (s->sleep_us > 0)
        usleep((useconds_t)s->sleep_us);
    atomic_fetch_sub(&s->running, 1);
}

static void done(void *arg, size_t runner)
{
    state_t *s = arg;
    atomic_fetch_add(&s->runner_done[runner], 1);
}

TEST(test_batch_runs_every_item_once_on_several_workers)
{
    yc_pool_t *pool = NULL;
    state_t *s = calloc(1, sizeof(*s));
    CHECK(s != NULL);
    CHECK_EQ_INT(yc_pool_new(WIDTH, &pool), 0);
    s->sleep_us = 200; /* long enough for the helpers to start while items are left */
    CHECK_EQ_INT(gw_batch_run(pool, ITEMS, WIDTH, item, done, s), 0);
    for (size_t i = 0; i < ITEMS; i++)
        CHECK_EQ_INT(atomic_load(&s->ran[i]), 1);
    int total = 0;
    for (size_t r = 0; r < WIDTH; r++) {
        /* done once on a runner that worked, never on one that did not */
        CHECK_EQ_INT(atomic_load(&s->runner_done[r]), atomic_load(&s->runner_items[r]) > 0 ? 1 : 0);
        total += atomic_load(&s->runner_items[r]);
    }
    CHECK_EQ_INT(total, ITEMS);
    CHECK_EQ_INT(atomic_load(&s->running), 0);
    CHECK(atomic_load(&s->most_running) > 1); /* items overlapped */
    CHECK(atomic_load(&s->most_running) <= WIDTH);
    yc_pool_free(pool);
    free(s);
}

TEST(test_batch_of_width_one_runs_in_order_on_the_caller)
{
    state_t *s = calloc(1, sizeof(*s));
    CHECK(s != NULL);
    /* no pool at all: width 1 never submits */
    CHECK_EQ_INT(gw_batch_run(NULL, ITEMS, 1, item, done, s), 0);
    CHECK_EQ_INT(atomic_load(&s->runner_items[0]), ITEMS);
    CHECK_EQ_INT(atomic_load(&s->runner_done[0]), 1);
    CHECK_EQ_INT(atomic_load(&s->most_running), 1);
    free(s);
}

/* A pool whose only worker is held: the helpers cannot start, and the caller works all items. */
static pthread_mutex_t hold_mutex = PTHREAD_MUTEX_INITIALIZER;
static void hold_run(yc_job_t *job)
{
    pthread_mutex_lock(&hold_mutex);
    pthread_mutex_unlock(&hold_mutex);
}

TEST(test_batch_finishes_on_the_caller_when_no_worker_is_free)
{
    yc_pool_t *pool = NULL;
    yc_job_t hold = {.run = hold_run};
    state_t *s = calloc(1, sizeof(*s));
    CHECK(s != NULL);
    CHECK_EQ_INT(yc_pool_new(1, &pool), 0);
    pthread_mutex_lock(&hold_mutex);
    yc_pool_submit(pool, &hold);
    CHECK_EQ_INT(gw_batch_run(pool, ITEMS, WIDTH, item, done, s), 0);
    CHECK_EQ_INT(atomic_load(&s->runner_items[0]), ITEMS);
    CHECK_EQ_INT(atomic_load(&s->runner_done[0]), 1);
    /* the helpers start once the worker is free, find nothing and leave */
    pthread_mutex_unlock(&hold_mutex);
    yc_pool_free(pool);
    for (size_t r = 1; r < WIDTH; r++)
        CHECK_EQ_INT(atomic_load(&s->runner_done[r]), 0);
    free(s);
}

int main(void)
{
    RUN(test_batch_runs_every_item_once_on_several_workers);
    RUN(test_batch_of_width_one_runs_in_order_on_the_caller);
    RUN(test_batch_finishes_on_the_caller_when_no_worker_is_free);
    return unit_done();
}
