/* test_gw_admit.c — admission control (gateway/gw_admit.h): bounds, fairness between keys,
 * classes, the queue's deadline and bound, cancellation, counters, and many threads at once. */
#include "gateway/gw_admit.h"
#include "gateway/gw_error.h"
#include "common/clock.h"
#include "unit.h"
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#define MS (1000LL * 1000)

/* ---------------------------------------------------------------- a fake clock and requests */

static int64_t fake_now;
static int64_t fake_clock(void)
{
    return fake_now;
}

/* One request as the tests see it: its ticket and how its wait ended. */
typedef struct {
    gw_admit_ticket_t t;
    const char *key;
    int woken;  /* the wake ran */
    int result; /* its result */
} req_t;

static void on_wake(void *arg, int result)
{
    req_t *r = arg;
    r->woken++;
    r->result = result;
}

static int enter(gw_admit_t *a, req_t *r, gw_admit_class_t cls, const char *key)
{
    r->key = key;
    r->woken = 0;
    r->result = 1;
    gw_admit_ticket_init(&r->t, on_wake, r);
    return gw_admit_enter(a, &r->t, cls, key, strlen(key));
}

static gw_admit_t *make(size_t max, size_t per_key, size_t queue, int64_t deadline_ms)
{
    gw_admit_config_t cfg;
    gw_admit_t *a = NULL;

    gw_admit_config_defaults(&cfg);
    cfg.max_inflight = max;
    cfg.max_inflight_per_key = per_key;
    cfg.queue_max = queue;
    cfg.queue_deadline_ns = deadline_ms * MS;
    cfg.background_max = max;
    cfg.now_ns = fake_clock;
    fake_now = 1000 * MS;
    if (gw_admit_new(&cfg, &a) != 0)
        return NULL;
    return a;
}

/* ---------------------------------------------------------------- bounds */

TEST(test_admit_global_bound_queues_then_sheds_at_once)
{
    gw_admit_t *a = make(4, 4, 2, 100);
    req_t r[8];
    gw_admit_stats_t st;

    CHECK(a != NULL);
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(enter(a, &r[i], GW_ADMIT_CLIENT, "AK1"), GW_ADMIT_OK);
    CHECK_EQ_INT(enter(a, &r[4], GW_ADMIT_CLIENT, "AK2"), GW_ADMIT_QUEUED);
    CHECK_EQ_INT(enter(a, &r[5], GW_ADMIT_CLIENT, "AK2"), GW_ADMIT_QUEUED);
    /* queue full, and AK3 would not wait less than the longest-waiting key minus one: shed */
    CHECK_EQ_INT(enter(a, &r[6], GW_ADMIT_CLIENT, "AK2"), GW_ESLOWDOWN);
    gw_admit_stats(a, &st);
    CHECK_EQ_INT(st.inflight, 4);
    CHECK_EQ_INT(st.queued, 2);
    CHECK_EQ_INT(st.shed[GW_ADMIT_SHED_QUEUE_FULL], 1);
    CHECK_EQ_INT(st.keys, 2);
    /* a freed slot goes to the oldest waiter, on the freeing thread */
    gw_admit_leave(a, &r[0].t);
    CHECK_EQ_INT(r[4].woken, 1);
    CHECK_EQ_INT(r[4].result, 0);
    CHECK_EQ_INT(r[5].woken, 0);
    for (int i = 1; i < 5; i++)
        gw_admit_leave(a, &r[i].t);
    CHECK_EQ_INT(r[5].woken, 1);
    gw_admit_leave(a, &r[5].t);
    gw_admit_stats(a, &st);
    CHECK_EQ_INT(st.inflight, 0);
    CHECK_EQ_INT(st.queued, 0);
    CHECK_EQ_INT(st.keys, 0);
    CHECK_EQ_INT(st.admitted[GW_ADMIT_CLIENT], 6);
    CHECK_EQ_INT(st.waited, 2);
    gw_admit_free(a);
}

TEST(test_admit_per_key_bound_lets_other_keys_in)
{
    gw_admit_t *a = make(8, 2, 16, 100);
    req_t r[6];

    CHECK(a != NULL);
    CHECK_EQ_INT(enter(a, &r[0], GW_ADMIT_CLIENT, "noisy"), GW_ADMIT_OK);
    CHECK_EQ_INT(enter(a, &r[1], GW_ADMIT_CLIENT, "noisy"), GW_ADMIT_OK);
    CHECK_EQ_INT(enter(a, &r[2], GW_ADMIT_CLIENT, "noisy"), GW_ADMIT_QUEUED);
    /* six slots are free: another key and the anonymous callers get in at once */
    CHECK_EQ_INT(enter(a, &r[3], GW_ADMIT_CLIENT, "quiet"), GW_ADMIT_OK);
    CHECK_EQ_INT(enter(a, &r[4], GW_ADMIT_CLIENT, ""), GW_ADMIT_OK);
    /* the waiter gets the slot its own key gives back, not before */
    gw_admit_leave(a, &r[3].t);
    CHECK_EQ_INT(r[2].woken, 0);
    gw_admit_leave(a, &r[0].t);
    CHECK_EQ_INT(r[2].woken, 1);
    CHECK_EQ_INT(r[2].result, 0);
    gw_admit_leave(a, &r[1].t);
    gw_admit_leave(a, &r[2].t);
    gw_admit_leave(a, &r[4].t);
    gw_admit_free(a);
}

TEST(test_admit_key_identity_is_bytes_and_class)
{
    gw_admit_t *a = make(8, 1, 8, 100);
    req_t r[4];
    gw_admit_stats_t st;

    CHECK(a != NULL);
    CHECK_EQ_INT(enter(a, &r[0], GW_ADMIT_CLIENT, "AKIA"), GW_ADMIT_OK);
    CHECK_EQ_INT(enter(a, &r[1], GW_ADMIT_CLIENT, "AKIB"), GW_ADMIT_OK);
    CHECK_EQ_INT(enter(a, &r[2], GW_ADMIT_BACKGROUND, "AKIA"), GW_ADMIT_OK);
    CHECK_EQ_INT(enter(a, &r[3], GW_ADMIT_CLIENT, "AKIA"), GW_ADMIT_QUEUED);
    gw_admit_stats(a, &st);
    CHECK_EQ_INT(st.keys, 3);
    CHECK_EQ_INT(gw_admit_cancel(a, &r[3].t), 1);
    for (int i = 0; i < 3; i++)
        gw_admit_leave(a, &r[i].t);
    gw_admit_free(a);
}

/* ---------------------------------------------------------------- fairness */

#define FAIR_TICKS 200

/* Runs FAIR_TICKS rounds: each round the noisy key offers noisy_rate requests, then the quiet
 * key quiet_rate (the worst order for the quiet one), 10 ms pass, and every request holding a
 * slot finishes (its leave hands the slot on). Counts what each key got in. */
static int run_fair(gw_admit_t *a, int noisy_rate, int quiet_rate, uint64_t *got_noisy, uint64_t *got_quiet,
                    uint64_t *off_quiet)
{
    size_t total = (size_t)FAIR_TICKS * (size_t)(noisy_rate + quiet_rate);
    req_t *r = calloc(total, sizeof(*r));
    size_t *holding = calloc(total, sizeof(*holding));
    size_t n = 0;

    if (r == NULL || holding == NULL) {
        free(r);
        free(holding);
        return -1;
    }
    *got_noisy = *got_quiet = *off_quiet = 0;
    for (int tick = 0; tick < FAIR_TICKS; tick++) {
        for (int i = 0; i < noisy_rate + quiet_rate; i++, n++) {
            int quiet = i >= noisy_rate;
            *off_quiet += quiet;
            if (enter(a, &r[n], GW_ADMIT_CLIENT, quiet ? "quiet" : "noisy") == GW_ADMIT_OK)
                r[n].woken = 1, r[n].result = 0;
        }
        fake_now += 10 * MS;
        /* the requests holding a slot now finish; their leaves admit the next ones, which
         * finish in the next round */
        size_t nholding = 0;
        for (size_t i = 0; i < n; i++)
            if (r[i].woken == 1 && r[i].result == 0)
                holding[nholding++] = i;
        for (size_t j = 0; j < nholding; j++) {
            req_t *h = &r[holding[j]];
            h->woken = 2; /* done */
            if (strcmp(h->key, "quiet") == 0)
                (*got_quiet)++;
            else
                (*got_noisy)++;
            gw_admit_leave(a, &h->t);
        }
    }
    /* drain: the last waiters are shed by their deadline */
    fake_now += 1000 * MS;
    gw_admit_expire(a);
    for (size_t i = 0; i < n; i++) {
        if (r[i].woken == 1 && r[i].result == 0)
            gw_admit_leave(a, &r[i].t);
    }
    free(r);
    free(holding);
    return 0;
}

TEST(test_admit_fair_between_keys_when_one_offers_ten_times_more)
{
    /* capacity 8 a round; quiet offers 8 (all of it), noisy 80: both are backlogged, so each
     * should get half; first come, first served would give quiet about one eleventh */
    gw_admit_t *a = make(8, 8, 64, 25);
    uint64_t noisy, quiet, offered;
    gw_admit_stats_t st;

    CHECK(a != NULL);
    CHECK_EQ_INT(run_fair(a, 80, 8, &noisy, &quiet, &offered), 0);
    gw_admit_stats(a, &st);
    fprintf(stderr,
            "  fairness: quiet got %llu of %llu offered, noisy %llu; shed full %llu pushed %llu deadline %llu\n",
            (unsigned long long)quiet, (unsigned long long)offered, (unsigned long long)noisy,
            (unsigned long long)st.shed[GW_ADMIT_SHED_QUEUE_FULL],
            (unsigned long long)st.shed[GW_ADMIT_SHED_PUSHED_OUT], (unsigned long long)st.shed[GW_ADMIT_SHED_DEADLINE]);
    CHECK(quiet + noisy >= (uint64_t)(FAIR_TICKS - 2) * 8); /* every slot was used */
    CHECK(quiet * 100 >= (quiet + noisy) * 45);             /* its half, give or take */
    CHECK(noisy * 100 >= (quiet + noisy) * 45);             /* and the noisy one keeps its half */
    CHECK_EQ_INT(st.queued, 0);
    CHECK_EQ_INT(st.inflight, 0);
    CHECK_EQ_INT(st.keys, 0);
    gw_admit_free(a);
}

TEST(test_admit_quiet_key_below_its_share_is_served_whole)
{
    /* quiet offers 2 a round, a quarter of the capacity: all of it gets in, whatever noisy does */
    gw_admit_t *a = make(8, 8, 64, 25);
    uint64_t noisy, quiet, offered;

    CHECK(a != NULL);
    CHECK_EQ_INT(run_fair(a, 20, 2, &noisy, &quiet, &offered), 0);
    fprintf(stderr, "  below its share: quiet got %llu of %llu offered, noisy %llu\n", (unsigned long long)quiet,
            (unsigned long long)offered, (unsigned long long)noisy);
    CHECK(quiet * 100 >= offered * 99);
    gw_admit_free(a);
}

TEST(test_admit_full_queue_makes_room_for_a_shorter_key)
{
    gw_admit_t *a = make(1, 1, 4, 100);
    req_t r[8];
    gw_admit_stats_t st;

    CHECK(a != NULL);
    CHECK_EQ_INT(enter(a, &r[0], GW_ADMIT_CLIENT, "noisy"), GW_ADMIT_OK);
    for (int i = 1; i <= 4; i++)
        CHECK_EQ_INT(enter(a, &r[i], GW_ADMIT_CLIENT, "noisy"), GW_ADMIT_QUEUED);
    CHECK_EQ_INT(enter(a, &r[5], GW_ADMIT_CLIENT, "noisy"), GW_ESLOWDOWN);
    /* the quiet key takes the place of noisy's newest waiter, which is answered at once */
    CHECK_EQ_INT(enter(a, &r[6], GW_ADMIT_CLIENT, "quiet"), GW_ADMIT_QUEUED);
    CHECK_EQ_INT(r[4].woken, 1);
    CHECK_EQ_INT(r[4].result, GW_ESLOWDOWN);
    CHECK_EQ_INT(r[3].woken, 0);
    gw_admit_stats(a, &st);
    CHECK_EQ_INT(st.shed[GW_ADMIT_SHED_PUSHED_OUT], 1);
    CHECK_EQ_INT(st.shed[GW_ADMIT_SHED_QUEUE_FULL], 1);
    CHECK_EQ_INT(st.queued, 4);
    /* and is served next, although noisy's waiters came first: noisy just had its turn */
    gw_admit_leave(a, &r[0].t);
    CHECK_EQ_INT(r[6].woken, 1);
    CHECK_EQ_INT(r[6].result, 0);
    CHECK_EQ_INT(r[1].woken, 0);
    gw_admit_leave(a, &r[6].t);
    CHECK_EQ_INT(r[1].woken, 1);
    gw_admit_leave(a, &r[1].t);
    CHECK_EQ_INT(r[2].woken, 1);
    gw_admit_leave(a, &r[2].t);
    gw_admit_leave(a, &r[3].t);
    gw_admit_stats(a, &st);
    CHECK_EQ_INT(st.keys, 0);
    gw_admit_free(a);
}

/* ---------------------------------------------------------------- classes */

TEST(test_admit_client_requests_go_before_background_work)
{
    gw_admit_t *a = make(1, 1, 8, 100);
    req_t hold, heal, get;

    CHECK(a != NULL);
    CHECK_EQ_INT(enter(a, &hold, GW_ADMIT_CLIENT, "AK"), GW_ADMIT_OK);
    CHECK_EQ_INT(enter(a, &heal, GW_ADMIT_BACKGROUND, "heal"), GW_ADMIT_QUEUED);
    CHECK_EQ_INT(enter(a, &get, GW_ADMIT_CLIENT, "AK2"), GW_ADMIT_QUEUED);
    gw_admit_leave(a, &hold.t);
    CHECK_EQ_INT(get.woken, 1);
    CHECK_EQ_INT(heal.woken, 0);
    gw_admit_leave(a, &get.t);
    CHECK_EQ_INT(heal.woken, 1);
    CHECK_EQ_INT(heal.result, 0);
    gw_admit_leave(a, &heal.t);
    gw_admit_free(a);
}

TEST(test_admit_background_keeps_to_its_share)
{
    gw_admit_config_t cfg;
    gw_admit_t *a;
    req_t bg[3], c[3];
    gw_admit_stats_t st;

    gw_admit_config_defaults(&cfg);
    cfg.max_inflight = 4;
    cfg.max_inflight_per_key = 4;
    cfg.queue_max = 8;
    cfg.background_max = 1;
    cfg.now_ns = fake_clock;
    CHECK_EQ_INT(gw_admit_new(&cfg, &a), 0);
    CHECK_EQ_INT(enter(a, &bg[0], GW_ADMIT_BACKGROUND, "heal"), GW_ADMIT_OK);
    CHECK_EQ_INT(enter(a, &bg[1], GW_ADMIT_BACKGROUND, "scrub"), GW_ADMIT_QUEUED); /* slots free, share used */
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(enter(a, &c[i], GW_ADMIT_CLIENT, "AK"), GW_ADMIT_OK);
    gw_admit_stats(a, &st);
    CHECK_EQ_INT(st.inflight_class[GW_ADMIT_BACKGROUND], 1);
    CHECK_EQ_INT(st.inflight_class[GW_ADMIT_CLIENT], 3);
    gw_admit_leave(a, &bg[0].t);
    CHECK_EQ_INT(bg[1].woken, 1);
    gw_admit_leave(a, &bg[1].t);
    for (int i = 0; i < 3; i++)
        gw_admit_leave(a, &c[i].t);
    gw_admit_free(a);
}

/* ---------------------------------------------------------------- deadline, Retry-After */

TEST(test_admit_waiter_past_deadline_is_shed)
{
    gw_admit_t *a = make(1, 1, 8, 100);
    req_t hold, w;
    gw_admit_stats_t st;

    CHECK(a != NULL);
    CHECK_EQ_INT(enter(a, &hold, GW_ADMIT_CLIENT, "AK"), GW_ADMIT_OK);
    CHECK_EQ_INT(enter(a, &w, GW_ADMIT_CLIENT, "AK2"), GW_ADMIT_QUEUED);
    fake_now += 99 * MS;
    gw_admit_expire(a);
    CHECK_EQ_INT(w.woken, 0);
    fake_now += 1 * MS;
    gw_admit_expire(a);
    CHECK_EQ_INT(w.woken, 1);
    CHECK_EQ_INT(w.result, GW_ESLOWDOWN);
    gw_admit_stats(a, &st);
    CHECK_EQ_INT(st.shed[GW_ADMIT_SHED_DEADLINE], 1);
    CHECK_EQ_INT(st.queued, 0);
    /* the freed slot finds nobody: the shed waiter is not woken twice */
    gw_admit_leave(a, &hold.t);
    CHECK_EQ_INT(w.woken, 1);
    gw_admit_stats(a, &st);
    CHECK_EQ_INT(st.inflight, 0);
    CHECK_EQ_INT(st.keys, 0);
    gw_admit_free(a);
}

TEST(test_admit_deadline_is_noticed_by_any_call)
{
    gw_admit_t *a = make(1, 1, 8, 100);
    req_t hold, w, other;

    CHECK(a != NULL);
    CHECK_EQ_INT(enter(a, &hold, GW_ADMIT_CLIENT, "AK"), GW_ADMIT_OK);
    CHECK_EQ_INT(enter(a, &w, GW_ADMIT_CLIENT, "AK2"), GW_ADMIT_QUEUED);
    fake_now += 150 * MS;
    /* the next arrival sheds the late waiter and takes its place in the queue */
    CHECK_EQ_INT(enter(a, &other, GW_ADMIT_CLIENT, "AK3"), GW_ADMIT_QUEUED);
    CHECK_EQ_INT(w.woken, 1);
    CHECK_EQ_INT(w.result, GW_ESLOWDOWN);
    gw_admit_leave(a, &hold.t);
    CHECK_EQ_INT(other.woken, 1);
    CHECK_EQ_INT(other.result, 0);
    gw_admit_leave(a, &other.t);
    gw_admit_free(a);
}

TEST(test_admit_shed_answer_is_slowdown_with_retry_after)
{
    gw_admit_config_t cfg;
    gw_admit_t *a;
    req_t r[2];

    gw_admit_config_defaults(&cfg);
    CHECK_EQ_INT(cfg.retry_after_s, 1);
    CHECK_EQ_INT(cfg.queue_deadline_ns, 100 * MS);
    cfg.max_inflight = 1;
    cfg.queue_max = 0;
    cfg.retry_after_s = 3;
    CHECK_EQ_INT(gw_admit_new(&cfg, &a), 0);
    CHECK_EQ_INT(enter(a, &r[0], GW_ADMIT_CLIENT, "AK"), GW_ADMIT_OK);
    int ret = enter(a, &r[1], GW_ADMIT_CLIENT, "AK2");
    CHECK_EQ_INT(ret, GW_ESLOWDOWN);
    CHECK_EQ_INT(gw_admit_retry_after(a), 3);
    /* the error table answers the code as S3 does: 503 SlowDown */
    CHECK_EQ_INT(gw_error_s3(ret), S3_ERR_SLOW_DOWN);
    CHECK_EQ_INT(s3_error_info(S3_ERR_SLOW_DOWN)->status, 503);
    CHECK(strcmp(s3_error_info(S3_ERR_SLOW_DOWN)->code, "SlowDown") == 0);
    gw_admit_leave(a, &r[0].t);
    gw_admit_free(a);
}

/* ---------------------------------------------------------------- cancel, counters */

TEST(test_admit_cancelled_waiter_is_never_woken)
{
    gw_admit_t *a = make(1, 1, 8, 100);
    req_t hold, w, next;
    gw_admit_stats_t st;

    CHECK(a != NULL);
    CHECK_EQ_INT(enter(a, &hold, GW_ADMIT_CLIENT, "AK"), GW_ADMIT_OK);
    CHECK_EQ_INT(enter(a, &w, GW_ADMIT_CLIENT, "AK2"), GW_ADMIT_QUEUED);
    CHECK_EQ_INT(enter(a, &next, GW_ADMIT_CLIENT, "AK3"), GW_ADMIT_QUEUED);
    CHECK_EQ_INT(gw_admit_cancel(a, &w.t), 1);
    CHECK_EQ_INT(gw_admit_cancel(a, &w.t), 0);
    gw_admit_leave(a, &hold.t);
    CHECK_EQ_INT(w.woken, 0);
    CHECK_EQ_INT(next.woken, 1);
    /* woken already: cancel says so, and the receiver gives the slot back */
    CHECK_EQ_INT(gw_admit_cancel(a, &next.t), 0);
    gw_admit_leave(a, &next.t);
    gw_admit_stats(a, &st);
    CHECK_EQ_INT(st.cancelled, 1);
    CHECK_EQ_INT(st.inflight, 0);
    CHECK_EQ_INT(st.keys, 0);
    gw_admit_free(a);
}

TEST(test_admit_wait_times_fill_the_histogram)
{
    gw_admit_t *a = make(1, 1, 8, 1000);
    req_t hold, w1, w2;
    gw_admit_stats_t st;

    CHECK(a != NULL);
    CHECK_EQ_INT(enter(a, &hold, GW_ADMIT_CLIENT, "AK"), GW_ADMIT_OK);
    CHECK_EQ_INT(enter(a, &w1, GW_ADMIT_CLIENT, "AK"), GW_ADMIT_QUEUED);
    CHECK_EQ_INT(enter(a, &w2, GW_ADMIT_CLIENT, "AK"), GW_ADMIT_QUEUED);
    fake_now += 3 * MS;
    gw_admit_leave(a, &hold.t); /* w1 waited 3 ms: the 5 ms bucket */
    fake_now += 40 * MS;
    gw_admit_leave(a, &w1.t); /* w2 waited 43 ms: the 50 ms bucket */
    gw_admit_leave(a, &w2.t);
    gw_admit_stats(a, &st);
    CHECK_EQ_INT(st.wait_hist[0], 1);
    CHECK_EQ_INT(gw_admit_wait_bounds_ns[6], 5 * MS);
    CHECK_EQ_INT(st.wait_hist[6], 1);
    CHECK_EQ_INT(gw_admit_wait_bounds_ns[9], 50 * MS);
    CHECK_EQ_INT(st.wait_hist[9], 1);
    CHECK_EQ_INT(st.wait_sum_ns, 46 * MS);
    CHECK_EQ_INT(st.waited, 2);
    gw_admit_free(a);
}

/* ---------------------------------------------------------------- a blocking waiter */

typedef struct {
    gw_admit_t *a;
    atomic_int state; /* 0 waiting, 1 admitted, 2 shed */
} bg_arg_t;

static void *bg_main(void *p)
{
    bg_arg_t *b = p;
    gw_admit_ticket_t t;
    int ret = gw_admit_wait(b->a, &t, GW_ADMIT_BACKGROUND, "heal", 4);
    if (ret == 0) {
        atomic_store(&b->state, 1);
        gw_admit_leave(b->a, &t);
    } else {
        atomic_store(&b->state, 2);
    }
    return NULL;
}

TEST(test_admit_blocking_wait_gets_the_freed_slot_or_its_deadline)
{
    gw_admit_config_t cfg;
    gw_admit_t *a;
    req_t hold;
    pthread_t th;
    bg_arg_t b;

    gw_admit_config_defaults(&cfg);
    cfg.max_inflight = 1;
    cfg.background_deadline_ns = 2000 * MS;
    CHECK_EQ_INT(gw_admit_new(&cfg, &a), 0);
    b.a = a;
    atomic_init(&b.state, 0);
    CHECK_EQ_INT(enter(a, &hold, GW_ADMIT_CLIENT, "AK"), GW_ADMIT_OK);
    CHECK_EQ_INT(pthread_create(&th, NULL, bg_main, &b), 0);
    struct timespec ms20 = {0, 20 * MS};
    nanosleep(&ms20, NULL);
    CHECK_EQ_INT(atomic_load(&b.state), 0);
    gw_admit_leave(a, &hold.t);
    pthread_join(th, NULL);
    CHECK_EQ_INT(atomic_load(&b.state), 1);

    /* nobody gives a slot back: the waiter's own timer sheds it at its deadline */
    gw_admit_free(a);
    cfg.background_deadline_ns = 30 * MS;
    CHECK_EQ_INT(gw_admit_new(&cfg, &a), 0);
    b.a = a;
    atomic_store(&b.state, 0);
    CHECK_EQ_INT(enter(a, &hold, GW_ADMIT_CLIENT, "AK"), GW_ADMIT_OK);
    int64_t t0 = yc_mono_ns();
    CHECK_EQ_INT(pthread_create(&th, NULL, bg_main, &b), 0);
    pthread_join(th, NULL);
    int64_t waited = yc_mono_ns() - t0;
    CHECK_EQ_INT(atomic_load(&b.state), 2);
    CHECK(waited >= 30 * MS && waited < 1000 * MS);
    gw_admit_leave(a, &hold.t);
    gw_admit_free(a);
}

/* ---------------------------------------------------------------- many threads */

#define HAMMER_THREADS 8
#define HAMMER_ITERS   20000

typedef struct {
    gw_admit_t *a;
    int id;
    uint64_t ok, waited_ok, shed;
    atomic_int flag; /* the wake: 1 + result sign */
    int result;
} hammer_t;

static void hammer_wake(void *arg, int result)
{
    hammer_t *h = arg;
    h->result = result;
    atomic_store_explicit(&h->flag, 1, memory_order_release);
}

static atomic_size_t hammer_max_seen;

static void *hammer_main(void *p)
{
    hammer_t *h = p;
    static const char *const keys[] = {"AK-A", "AK-B", "", "AK-D"};
    gw_admit_ticket_t t;

    for (int i = 0; i < HAMMER_ITERS; i++) {
        const char *key = keys[(h->id + i) % 4];
        gw_admit_class_t cls = i % 16 == 0 ? GW_ADMIT_BACKGROUND : GW_ADMIT_CLIENT;
        atomic_store(&h->flag, 0);
        gw_admit_ticket_init(&t, hammer_wake, h);
        int ret = gw_admit_enter(h->a, &t, cls, key, strlen(key));
        if (ret == GW_ADMIT_QUEUED) {
            while (!atomic_load_explicit(&h->flag, memory_order_acquire)) {
                gw_admit_expire(h->a);
                sched_yield();
            }
            ret = h->result;
            if (ret == 0)
                h->waited_ok++;
        }
        if (ret == 0) {
            gw_admit_stats_t st;
            if (i % 64 == 0) {
                gw_admit_stats(h->a, &st);
                size_t m = atomic_load(&hammer_max_seen);
                while (st.inflight > m && !atomic_compare_exchange_weak(&hammer_max_seen, &m, st.inflight))
                    ;
            }
            h->ok++;
            gw_admit_leave(h->a, &t);
        } else {
            h->shed++;
        }
    }
    return NULL;
}

static double hammer(gw_admit_t *a, int nthreads, hammer_t *hs, uint64_t *ok, uint64_t *shed)
{
    pthread_t th[HAMMER_THREADS];
    int64_t t0 = yc_mono_ns();

    for (int i = 0; i < nthreads; i++) {
        hs[i] = (hammer_t){.a = a, .id = i};
        atomic_init(&hs[i].flag, 0);
        pthread_create(&th[i], NULL, hammer_main, &hs[i]);
    }
    *ok = *shed = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        *ok += hs[i].ok;
        *shed += hs[i].shed;
    }
    return (double)(yc_mono_ns() - t0) / ((double)nthreads * HAMMER_ITERS);
}

TEST(test_admit_many_threads_keep_the_books_straight)
{
    gw_admit_config_t cfg;
    gw_admit_t *a;
    hammer_t hs[HAMMER_THREADS];
    gw_admit_stats_t st;
    uint64_t ok, shed;

    /* uncontended cost of one enter + leave, for the record */
    gw_admit_config_defaults(&cfg);
    CHECK_EQ_INT(gw_admit_new(&cfg, &a), 0);
    double one = hammer(a, 1, hs, &ok, &shed);
    CHECK_EQ_INT(ok, HAMMER_ITERS);
    double many = hammer(a, HAMMER_THREADS, hs, &ok, &shed);
    CHECK_EQ_INT(ok, (uint64_t)HAMMER_THREADS * HAMMER_ITERS);
    gw_admit_free(a);

    /* few slots, a short queue: threads wait, get woken by others, and are shed */
    gw_admit_config_defaults(&cfg);
    cfg.max_inflight = 3;
    cfg.max_inflight_per_key = 2;
    cfg.queue_max = 3;
    cfg.background_max = 1;
    /* long enough that a loaded machine still hands freed slots to waiters before it passes */
    cfg.queue_deadline_ns = 50 * MS;
    CHECK_EQ_INT(gw_admit_new(&cfg, &a), 0);
    atomic_store(&hammer_max_seen, 0);
    double tight = hammer(a, HAMMER_THREADS, hs, &ok, &shed);
    gw_admit_stats(a, &st);
    uint64_t waited_ok = 0;
    for (int i = 0; i < HAMMER_THREADS; i++)
        waited_ok += hs[i].waited_ok;
    fprintf(stderr,
            "  enter+leave: %.0f ns alone, %.0f ns each with %d threads (2 cores), %.0f ns with 3 slots; "
            "admitted %llu (after a wait %llu), shed %llu (full %llu, pushed %llu, deadline %llu)\n",
            one, many, HAMMER_THREADS, tight, (unsigned long long)ok, (unsigned long long)waited_ok,
            (unsigned long long)shed, (unsigned long long)st.shed[GW_ADMIT_SHED_QUEUE_FULL],
            (unsigned long long)st.shed[GW_ADMIT_SHED_PUSHED_OUT], (unsigned long long)st.shed[GW_ADMIT_SHED_DEADLINE]);
    CHECK_EQ_INT(ok + shed, (uint64_t)HAMMER_THREADS * HAMMER_ITERS);
    CHECK_EQ_INT(st.admitted[0] + st.admitted[1], ok);
    CHECK_EQ_INT(st.waited, waited_ok);
    CHECK_EQ_INT(st.shed[0] + st.shed[1] + st.shed[2], shed);
    CHECK(waited_ok > 0);
    CHECK(atomic_load(&hammer_max_seen) <= 3);
    CHECK_EQ_INT(st.inflight, 0);
    CHECK_EQ_INT(st.queued, 0);
    CHECK_EQ_INT(st.keys, 0);
    gw_admit_free(a);
}

TEST(test_admit_takes_the_gateway_settings)
{
    gw_config_t gw;
    gw_admit_config_t cfg;

    gw_config_defaults(&gw);
    gw.max_inflight = 64;
    gw.max_inflight_per_key = 8;
    gw.queue_max = 32;
    gw.queue_deadline_ms = 250;
    gw_admit_config_from(&gw, &cfg);
    CHECK_EQ_INT(cfg.max_inflight, 64);
    CHECK_EQ_INT(cfg.max_inflight_per_key, 8);
    CHECK_EQ_INT(cfg.queue_max, 32);
    CHECK_EQ_INT(cfg.queue_deadline_ns, 250 * MS);
    CHECK_EQ_INT(cfg.background_max, 4);
    CHECK_EQ_INT(cfg.door_lag_ns, 5 * MS); /* the defaults */
    CHECK_EQ_INT(cfg.door_connections, 256);
    CHECK_EQ_INT(cfg.adaptive_delay_ns, 0); /* the gateway's default: off */
    CHECK_EQ_INT(cfg.adaptive_min, 8);
    gw.adaptive_delay_us = 2000;
    gw.adaptive_min = 16;
    gw_admit_config_from(&gw, &cfg);
    CHECK_EQ_INT(cfg.adaptive_delay_ns, 2 * MS);
    CHECK_EQ_INT(cfg.adaptive_min, 16);
    gw.max_inflight = 3;
    gw.shed_lag_ms = 12;
    gw.shed_connections = 40;
    gw_admit_config_from(&gw, &cfg);
    CHECK_EQ_INT(cfg.background_max, 1);
    CHECK_EQ_INT(cfg.door_lag_ns, 12 * MS);
    CHECK_EQ_INT(cfg.door_connections, 40);
}

/* ---------------------------------------------------------------- the adaptive bound */

static gw_admit_t *make_adaptive(size_t max, size_t lowest, int64_t delay_us)
{
    gw_admit_config_t cfg;
    gw_admit_t *a = NULL;

    gw_admit_config_defaults(&cfg);
    cfg.max_inflight = max;
    cfg.max_inflight_per_key = max;
    cfg.queue_max = 64;
    cfg.queue_deadline_ns = 100 * MS;
    cfg.background_max = max;
    cfg.adaptive_delay_ns = delay_us * 1000;
    cfg.adaptive_min = lowest;
    cfg.now_ns = fake_clock;
    fake_now = 1000 * MS;
    return gw_admit_new(&cfg, &a) == 0 ? a : NULL;
}

/* Ends the current window with n jobs that each waited wait_us for a worker. */
static void window_of_waits(gw_admit_t *a, int n, int64_t wait_us)
{
    fake_now += GW_ADMIT_WINDOW_NS;
    for (int i = 0; i < n; i++)
        gw_admit_observe(a, fake_now - wait_us * 1000, fake_now);
}

static size_t bound_of(gw_admit_t *a)
{
    gw_admit_stats_t st;
    gw_admit_stats(a, &st);
    return st.limit;
}

TEST(test_admit_adaptive_bound_cuts_from_the_slots_in_use_when_workers_queue)
{
    gw_admit_t *a = make_adaptive(1000, 4, 2000);
    req_t r[40];

    CHECK(a != NULL);
    CHECK_EQ_INT(bound_of(a), 1000); /* the ceiling at first */
    for (int i = 0; i < 32; i++)
        CHECK_EQ_INT(enter(a, &r[i], GW_ADMIT_CLIENT, "AK"), GW_ADMIT_OK);
    window_of_waits(a, 8, 1000); /* under the 2 ms: holds */
    CHECK_EQ_INT(bound_of(a), 1000);
    window_of_waits(a, 8, 8000); /* four times too long: from the 32 in use, halved at most */
    CHECK_EQ_INT(bound_of(a), 16);
    /* 32 in flight and a bound of 16: a new request waits, at most the bound's delay */
    CHECK_EQ_INT(enter(a, &r[32], GW_ADMIT_CLIENT, "AK2"), GW_ADMIT_QUEUED);
    fake_now += 2 * MS;
    gw_admit_expire(a);
    CHECK_EQ_INT(r[32].woken, 1);
    CHECK_EQ_INT(r[32].result, GW_ESLOWDOWN);
    /* waits of jobs handed over before the cut measure the old bound: they do not count */
    fake_now += GW_ADMIT_WINDOW_NS;
    for (int i = 0; i < 8; i++)
        gw_admit_observe(a, fake_now - 30 * MS, fake_now);
    CHECK_EQ_INT(bound_of(a), 16);
    /* waits of jobs handed over after the cut count: halved again and again, never below
     * adaptive_min */
    for (int i = 0; i < 6; i++)
        window_of_waits(a, 8, 9000);
    CHECK_EQ_INT(bound_of(a), 4);
    gw_admit_stats_t st;
    gw_admit_stats(a, &st);
    CHECK(st.limit_cuts >= 3);
    CHECK_EQ_INT(st.delay_ns, 9 * MS);
    for (int i = 0; i < 32; i++)
        gw_admit_leave(a, &r[i].t);
    gw_admit_free(a);
}

TEST(test_admit_adaptive_bound_grows_only_while_it_keeps_requests_out)
{
    gw_admit_t *a = make_adaptive(64, 4, 2000);
    req_t r[64], extra;
    size_t n = 0;

    CHECK(a != NULL);
    for (; n < 8; n++)
        CHECK_EQ_INT(enter(a, &r[n], GW_ADMIT_CLIENT, "AK"), GW_ADMIT_OK);
    window_of_waits(a, 8, 16000); /* from 8 in use, halved */
    CHECK_EQ_INT(bound_of(a), 4);
    /* short waits but nobody kept out: it holds */
    window_of_waits(a, 8, 100);
    CHECK_EQ_INT(bound_of(a), 4);
    /* a request kept out, short waits: it grows by one (a sixteenth of 4 is less) */
    CHECK_EQ_INT(enter(a, &r[n++], GW_ADMIT_CLIENT, "AK"), GW_ADMIT_QUEUED);
    window_of_waits(a, 8, 100);
    CHECK_EQ_INT(bound_of(a), 5);
    /* the waiter waited past the bound's delay (2 ms, not the queue's 100): shed */
    gw_admit_expire(a);
    CHECK_EQ_INT(r[8].woken, 1);
    CHECK_EQ_INT(r[8].result, GW_ESLOWDOWN);
    for (size_t i = 0; i < 8; i++)
        gw_admit_leave(a, &r[i].t);
    /* window after window, requests come until one is kept out (it goes away again) and the
     * slots are given back: the bound climbs */
    for (int w = 0; w < 60; w++) {
        n = 0;
        while (n < 64 && enter(a, &r[n], GW_ADMIT_CLIENT, "AK") == GW_ADMIT_OK)
            n++;
        if (n < 64 || enter(a, &extra, GW_ADMIT_CLIENT, "AK") == GW_ADMIT_QUEUED)
            CHECK_EQ_INT(gw_admit_cancel(a, n < 64 ? &r[n].t : &extra.t), 1);
        window_of_waits(a, 8, 100);
        for (size_t i = 0; i < n; i++)
            gw_admit_leave(a, &r[i].t);
    }
    CHECK_EQ_INT(bound_of(a), 64); /* up to the ceiling, never past it */
    /* between half the delay and the delay: it holds even when it keeps requests out */
    window_of_waits(a, 8, 1500);
    CHECK_EQ_INT(bound_of(a), 64);
    /* too few waits in a window: no decision, the window goes on */
    window_of_waits(a, 3, 90000);
    CHECK_EQ_INT(bound_of(a), 64);
    gw_admit_free(a);
}

TEST(test_admit_adaptive_bound_off_keeps_the_ceiling)
{
    gw_admit_t *a = make_adaptive(16, 4, 0);

    CHECK(a != NULL);
    window_of_waits(a, 64, 500000);
    CHECK_EQ_INT(bound_of(a), 16);
    gw_admit_free(a);
}

/* ---------------------------------------------------------------- the door */

static gw_admit_t *make_door(int64_t lag_ms, size_t connections)
{
    gw_admit_config_t cfg;
    gw_admit_t *a = NULL;

    gw_admit_config_defaults(&cfg);
    cfg.max_inflight = 4;
    cfg.max_inflight_per_key = 4;
    cfg.queue_max = 8;
    cfg.background_max = 2;
    cfg.door_lag_ns = lag_ms * MS;
    cfg.door_connections = connections;
    cfg.background_yield_ns = 250 * MS;
    cfg.now_ns = fake_clock;
    fake_now = 1000 * MS;
    return gw_admit_new(&cfg, &a) == 0 ? a : NULL;
}

TEST(test_admit_door_opens_below_its_lag_and_sheds_all_past_twice)
{
    gw_admit_t *a = make_door(5, 100);
    gw_admit_stats_t st;

    CHECK(a != NULL);
    /* whatever the draw: none shed up to the bound; from twice it, all but the floor's draws */
    const uint32_t floor_top = UINT32_MAX - (UINT32_MAX >> GW_ADMIT_DOOR_FLOOR_SHIFT);
    const uint32_t draws[4] = {0, 1000000000u, floor_top - 1, floor_top};
    for (int i = 0; i < 4; i++) {
        gw_admit_door_t past = i < 3 ? GW_ADMIT_DOOR_SHED : GW_ADMIT_DOOR_OPEN;
        CHECK_EQ_INT(gw_admit_door(a, 0, 10, draws[i]), GW_ADMIT_DOOR_OPEN);
        CHECK_EQ_INT(gw_admit_door(a, 5 * MS, 10, draws[i]), GW_ADMIT_DOOR_OPEN);
        CHECK_EQ_INT(gw_admit_door(a, 10 * MS, 10, draws[i]), past);
        CHECK_EQ_INT(gw_admit_door(a, 900 * MS, 10, draws[i]), past);
    }
    gw_admit_stats(a, &st);
    CHECK_EQ_INT(st.door_shed, 6);
    CHECK_EQ_INT(st.door_closed, 0);
    gw_admit_free(a);
}

TEST(test_admit_door_ramp_sheds_a_share_growing_with_the_lag)
{
    gw_admit_t *a = make_door(4, 100);
    uint32_t x = 2463534242u;
    size_t shed[3] = {0, 0, 0};
    const int64_t lag[3] = {5 * MS, 6 * MS, 7 * MS}; /* a quarter, half, three quarters of the way */

    CHECK(a != NULL);
    for (int i = 0; i < 40000; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        for (int j = 0; j < 3; j++)
            shed[j] += gw_admit_door(a, lag[j], 10, x) != GW_ADMIT_DOOR_OPEN;
    }
    /* a quarter, a half, three quarters of the ramp's top (15/16) */
    CHECK(shed[0] > 8400 && shed[0] < 10400);
    CHECK(shed[1] > 17750 && shed[1] < 19750);
    CHECK(shed[2] > 27100 && shed[2] < 29100);
    gw_admit_free(a);
}

TEST(test_admit_door_closes_connections_past_its_budget)
{
    gw_admit_t *a = make_door(5, 3);
    gw_admit_stats_t st;

    CHECK(a != NULL);
    CHECK_EQ_INT(gw_admit_door(a, 20 * MS, 3, 0), GW_ADMIT_DOOR_SHED);
    CHECK_EQ_INT(gw_admit_door(a, 20 * MS, 4, 0), GW_ADMIT_DOOR_CLOSE);
    /* at accept: a loop that does not shed takes every connection, one that sheds up to the budget */
    CHECK_EQ_INT(gw_admit_door_accept(a, 1 * MS, 1000, 0), GW_ADMIT_DOOR_OPEN);
    CHECK_EQ_INT(gw_admit_door_accept(a, 20 * MS, 2, 0), GW_ADMIT_DOOR_OPEN);
    CHECK_EQ_INT(gw_admit_door_accept(a, 20 * MS, 3, 0), GW_ADMIT_DOOR_CLOSE);
    gw_admit_stats(a, &st);
    CHECK_EQ_INT(st.door_shed, 2);
    CHECK_EQ_INT(st.door_closed, 1);
    CHECK_EQ_INT(st.door_accept, 1);
    gw_admit_free(a);
}

static gw_admit_t *make_budget(int64_t lag_ms, size_t slots)
{
    gw_admit_config_t cfg;
    gw_admit_t *a = NULL;

    gw_admit_config_defaults(&cfg);
    cfg.max_inflight = slots;
    cfg.max_inflight_per_key = slots;
    cfg.door_lag_ns = lag_ms * MS;
    cfg.now_ns = fake_clock;
    fake_now = 1000 * MS;
    return gw_admit_new(&cfg, &a) == 0 ? a : NULL;
}

/* A window of n requests admitted, each finding the loop lagging lag with conns open; the window
 * then ends (at a request when n > 0, else at a connection). Returns the budget. */
static size_t budget_window(gw_admit_t *a, gw_admit_budget_t *b, size_t n, int64_t lag, size_t conns)
{
    for (size_t i = 0; i < n; i++) {
        gw_admit_budget_update(a, b, lag, conns, 1);
        if (gw_admit_door_budget(a, b, 1) != GW_ADMIT_DOOR_OPEN)
            return 0; /* one connection always fits: the checks on the result then fail */
    }
    fake_now += GW_ADMIT_BUDGET_WINDOW_NS;
    return gw_admit_budget_update(a, b, lag, conns, n > 0);
}

TEST(test_admit_budget_holds_the_connections_answered_within_the_lag_and_closes_the_rest)
{
    gw_admit_t *a = make_budget(4, 1000);
    gw_admit_budget_t b;
    gw_admit_stats_t st;

    CHECK(a != NULL);
    gw_admit_budget_init(a, &b);
    CHECK_EQ_INT(b.budget, 1000);
    CHECK(!gw_admit_budget_cut(a, &b));
    /* no limit: any number of connections passes, at accept too */
    CHECK_EQ_INT(gw_admit_door_budget(a, &b, 5000), GW_ADMIT_DOOR_OPEN);
    CHECK_EQ_INT(gw_admit_door_budget_accept(a, &b, 5000, 1), GW_ADMIT_DOOR_OPEN);
    /* a few requests on a late loop (a handful of large uploads) are no overload of requests */
    CHECK_EQ_INT(budget_window(a, &b, GW_ADMIT_BUDGET_REQUESTS - 2, 50 * MS, 400), 1000);
    /* nor are connections alone, however late the loop */
    CHECK_EQ_INT(budget_window(a, &b, 0, 50 * MS, 400), 1000);
    /* 100 requests in 20 ms with a worst lag past half the door's (4 ms), window after window:
     * the loop answers 20 connections within 4 ms at that rate; a shorter streak is noise */
    for (int i = 1; i < GW_ADMIT_BUDGET_STREAK; i++)
        CHECK_EQ_INT(budget_window(a, &b, 100, 3 * MS, 400), 1000);
    CHECK_EQ_INT(budget_window(a, &b, 0, 0, 400), 1000);
    for (int i = 1; i < GW_ADMIT_BUDGET_STREAK; i++)
        CHECK_EQ_INT(budget_window(a, &b, 100, 3 * MS, 400), 1000);
    CHECK_EQ_INT(budget_window(a, &b, 100, 3 * MS, 400), 20);
    CHECK(gw_admit_budget_cut(a, &b));
    CHECK_EQ_INT(gw_admit_door_budget(a, &b, 20), GW_ADMIT_DOOR_OPEN);
    CHECK_EQ_INT(gw_admit_door_budget(a, &b, 21), GW_ADMIT_DOOR_CLOSE);
    CHECK_EQ_INT(gw_admit_door_budget_accept(a, &b, 19, 0), GW_ADMIT_DOOR_OPEN);
    CHECK_EQ_INT(gw_admit_door_budget_accept(a, &b, 20, 0), GW_ADMIT_DOOR_CLOSE);
    /* a connection whose request already waited past the lag in the backlog: refused, room or not */
    CHECK_EQ_INT(gw_admit_door_budget_accept(a, &b, 0, 1), GW_ADMIT_DOOR_CLOSE);
    /* still turning clients away: set by the rate again, growing an eighth at most */
    CHECK_EQ_INT(budget_window(a, &b, 200, 0, 400), 23);
    /* never above the connections the loop has, never below the floor */
    for (int i = 1; i < GW_ADMIT_BUDGET_STREAK; i++)
        budget_window(a, &b, 400, 3 * MS, 18);
    CHECK_EQ_INT(budget_window(a, &b, 400, 3 * MS, 18), 18);
    CHECK_EQ_INT(budget_window(a, &b, GW_ADMIT_BUDGET_REQUESTS, 3 * MS, 400), GW_ADMIT_BUDGET_MIN);
    gw_admit_stats(a, &st);
    CHECK_EQ_INT(st.door_shed, 1);
    CHECK_EQ_INT(st.door_closed, 1);
    CHECK_EQ_INT(st.door_accept, 2);
    gw_admit_free(a);
}

TEST(test_admit_budget_grows_back_once_nobody_is_turned_away)
{
    gw_admit_t *a = make_budget(4, 1000);
    gw_admit_budget_t b;

    CHECK(a != NULL);
    gw_admit_budget_init(a, &b);
    for (int i = 1; i < GW_ADMIT_BUDGET_STREAK; i++)
        budget_window(a, &b, 100, 10 * MS, 64);
    CHECK_EQ_INT(budget_window(a, &b, 100, 10 * MS, 64), 20);
    /* a window that turned nobody away: an eighth more (at least one) per window, back to the
     * ceiling; windows without requests grow it too (a gateway whose crowd left has nobody to
     * tell it) */
    CHECK_EQ_INT(budget_window(a, &b, 10, 0, 20), 23);
    int windows = 1;
    while (b.budget < 1000 && windows < 100) {
        budget_window(a, &b, 0, 0, 0);
        windows++;
    }
    CHECK_EQ_INT(b.budget, 1000);
    CHECK(windows < 40); /* under a second of 20 ms windows */
    CHECK(!gw_admit_budget_cut(a, &b));
    CHECK_EQ_INT(gw_admit_door_budget(a, &b, 100000), GW_ADMIT_DOOR_OPEN);
    gw_admit_free(a);
}

TEST(test_admit_budget_off_with_the_door)
{
    gw_admit_t *a = make_budget(0, 1000);
    gw_admit_budget_t b;

    CHECK(a != NULL);
    gw_admit_budget_init(a, &b);
    CHECK_EQ_INT(budget_window(a, &b, 100, 60000 * MS, 900), 1000);
    CHECK_EQ_INT(gw_admit_door_budget(a, &b, 100000), GW_ADMIT_DOOR_OPEN);
    gw_admit_free(a);
}

TEST(test_admit_door_off_sheds_nothing)
{
    gw_admit_t *a = make_door(0, 1);

    CHECK(a != NULL);
    CHECK_EQ_INT(gw_admit_door(a, 60000 * MS, 100000, 0), GW_ADMIT_DOOR_OPEN);
    CHECK_EQ_INT(gw_admit_door_accept(a, 60000 * MS, 100000, 0), GW_ADMIT_DOOR_OPEN);
    gw_admit_free(a);
}

TEST(test_admit_background_yields_after_a_client_shed)
{
    gw_admit_t *a = make_door(5, 100);
    req_t heal, heal2, get;
    gw_admit_stats_t st;

    CHECK(a != NULL);
    CHECK_EQ_INT(enter(a, &heal, GW_ADMIT_BACKGROUND, "heal"), GW_ADMIT_OK); /* no shed yet */
    gw_admit_leave(a, &heal.t);
    CHECK_EQ_INT(gw_admit_door(a, 50 * MS, 10, 0), GW_ADMIT_DOOR_SHED);
    /* slots are free, yet background work waits while clients are being shed */
    CHECK_EQ_INT(enter(a, &heal2, GW_ADMIT_BACKGROUND, "heal"), GW_ADMIT_QUEUED);
    CHECK_EQ_INT(enter(a, &get, GW_ADMIT_CLIENT, "AK"), GW_ADMIT_OK);
    gw_admit_leave(a, &get.t);
    CHECK_EQ_INT(heal2.woken, 0);
    gw_admit_stats(a, &st);
    CHECK_EQ_INT(st.background_yields, 1);
    fake_now += 249 * MS;
    gw_admit_expire(a);
    CHECK_EQ_INT(heal2.woken, 0);
    fake_now += 1 * MS; /* background_yield_ns without a shed: background runs again */
    gw_admit_expire(a);
    CHECK_EQ_INT(heal2.woken, 1);
    CHECK_EQ_INT(heal2.result, 0);
    gw_admit_leave(a, &heal2.t);
    gw_admit_free(a);
}

TEST(test_admit_background_yields_after_a_queue_shed)
{
    gw_admit_t *a = make_door(5, 100);
    req_t c[4], late, heal;

    CHECK(a != NULL);
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(enter(a, &c[i], GW_ADMIT_CLIENT, "AK"), GW_ADMIT_OK);
    CHECK_EQ_INT(enter(a, &late, GW_ADMIT_CLIENT, "AK"), GW_ADMIT_QUEUED);
    fake_now += 200 * MS; /* past the client deadline (100 ms): shed from the queue */
    gw_admit_expire(a);
    CHECK_EQ_INT(late.woken, 1);
    CHECK_EQ_INT(late.result, GW_ESLOWDOWN);
    for (int i = 0; i < 4; i++)
        gw_admit_leave(a, &c[i].t);
    CHECK_EQ_INT(enter(a, &heal, GW_ADMIT_BACKGROUND, "heal"), GW_ADMIT_QUEUED);
    fake_now += 100 * MS;
    gw_admit_expire(a);
    CHECK_EQ_INT(heal.woken, 0);
    fake_now += 150 * MS;
    gw_admit_expire(a);
    CHECK_EQ_INT(heal.woken, 1);
    CHECK_EQ_INT(heal.result, 0);
    gw_admit_leave(a, &heal.t);
    gw_admit_free(a);
}

TEST(test_admit_refuses_a_config_without_slots)
{
    gw_admit_config_t cfg;
    gw_admit_t *a = NULL;

    gw_admit_config_defaults(&cfg);
    cfg.max_inflight = 0;
    CHECK_EQ_INT(gw_admit_new(&cfg, &a), -EINVAL);
    CHECK(a == NULL);
}

int main(void)
{
    RUN(test_admit_global_bound_queues_then_sheds_at_once);
    RUN(test_admit_per_key_bound_lets_other_keys_in);
    RUN(test_admit_key_identity_is_bytes_and_class);
    RUN(test_admit_fair_between_keys_when_one_offers_ten_times_more);
    RUN(test_admit_quiet_key_below_its_share_is_served_whole);
    RUN(test_admit_full_queue_makes_room_for_a_shorter_key);
    RUN(test_admit_client_requests_go_before_background_work);
    RUN(test_admit_background_keeps_to_its_share);
    RUN(test_admit_waiter_past_deadline_is_shed);
    RUN(test_admit_deadline_is_noticed_by_any_call);
    RUN(test_admit_shed_answer_is_slowdown_with_retry_after);
    RUN(test_admit_cancelled_waiter_is_never_woken);
    RUN(test_admit_wait_times_fill_the_histogram);
    RUN(test_admit_blocking_wait_gets_the_freed_slot_or_its_deadline);
    RUN(test_admit_many_threads_keep_the_books_straight);
    RUN(test_admit_takes_the_gateway_settings);
    RUN(test_admit_adaptive_bound_cuts_from_the_slots_in_use_when_workers_queue);
    RUN(test_admit_adaptive_bound_grows_only_while_it_keeps_requests_out);
    RUN(test_admit_adaptive_bound_off_keeps_the_ceiling);
    RUN(test_admit_door_opens_below_its_lag_and_sheds_all_past_twice);
    RUN(test_admit_door_ramp_sheds_a_share_growing_with_the_lag);
    RUN(test_admit_door_closes_connections_past_its_budget);
    RUN(test_admit_door_off_sheds_nothing);
    RUN(test_admit_budget_holds_the_connections_answered_within_the_lag_and_closes_the_rest);
    RUN(test_admit_budget_grows_back_once_nobody_is_turned_away);
    RUN(test_admit_budget_off_with_the_door);
    RUN(test_admit_background_yields_after_a_client_shed);
    RUN(test_admit_background_yields_after_a_queue_shed);
    RUN(test_admit_refuses_a_config_without_slots);
    return unit_done();
}
