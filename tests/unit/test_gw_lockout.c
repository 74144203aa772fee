/* test_gw_lockout.c — access key lockout (gateway/gw_lockout.h): the count, its window, the
 * lock and its end, unlock, the good signature, one key against another, and threads. */
#include "gateway/gw_lockout.h"
#include "unit.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#define S (1000LL * 1000 * 1000)

static gw_lockout_t *make(uint32_t failures, int64_t window_s, int64_t lock_s)
{
    gw_lockout_config_t cfg = {failures, window_s * S, lock_s * S};
    gw_lockout_t *l = NULL;
    return gw_lockout_new(&cfg, &l) == 0 ? l : NULL;
}

static h2o_iovec_t key(const char *s)
{
    return h2o_iovec_init(s, strlen(s));
}

TEST(test_lockout_locks_at_n_failures_within_window)
{
    gw_lockout_t *l = make(3, 60, 300);
    CHECK(l != NULL);
    CHECK_EQ_INT(gw_lockout_fail(l, key("AK1"), 1 * S), GW_LOCKOUT_NONE);
    CHECK_EQ_INT(gw_lockout_fail(l, key("AK1"), 2 * S), GW_LOCKOUT_NONE);
    CHECK_EQ_INT(gw_lockout_check(l, key("AK1"), 2 * S, NULL), 0);
    CHECK_EQ_INT(gw_lockout_fail(l, key("AK1"), 3 * S), GW_LOCKOUT_LOCKED);
    CHECK_EQ_INT(gw_lockout_check(l, key("AK1"), 4 * S, NULL), 299 * S);
    gw_lockout_free(l);
}

TEST(test_lockout_window_restarts_after_it_ends)
{
    gw_lockout_t *l = make(3, 10, 300);
    CHECK(l != NULL);
    gw_lockout_fail(l, key("AK1"), 0);
    gw_lockout_fail(l, key("AK1"), 5 * S);
    /* the third comes after the window of the first: a new window, with one failure */
    CHECK_EQ_INT(gw_lockout_fail(l, key("AK1"), 11 * S), GW_LOCKOUT_NONE);
    CHECK_EQ_INT(gw_lockout_fail(l, key("AK1"), 12 * S), GW_LOCKOUT_NONE);
    CHECK_EQ_INT(gw_lockout_fail(l, key("AK1"), 13 * S), GW_LOCKOUT_LOCKED);
    gw_lockout_free(l);
}

TEST(test_lockout_ends_after_lock_time_once)
{
    gw_lockout_t *l = make(2, 60, 30);
    gw_lockout_event_t ev;
    CHECK(l != NULL);
    gw_lockout_fail(l, key("AK1"), 0);
    CHECK_EQ_INT(gw_lockout_fail(l, key("AK1"), 1 * S), GW_LOCKOUT_LOCKED);
    CHECK_EQ_INT(gw_lockout_check(l, key("AK1"), 30 * S, &ev), 1 * S);
    CHECK_EQ_INT(ev, GW_LOCKOUT_NONE);
    CHECK_EQ_INT(gw_lockout_check(l, key("AK1"), 31 * S, &ev), 0);
    CHECK_EQ_INT(ev, GW_LOCKOUT_EXPIRED);
    CHECK_EQ_INT(gw_lockout_check(l, key("AK1"), 32 * S, &ev), 0);
    CHECK_EQ_INT(ev, GW_LOCKOUT_NONE);
    /* and the count starts from nothing */
    CHECK_EQ_INT(gw_lockout_fail(l, key("AK1"), 33 * S), GW_LOCKOUT_NONE);
    gw_lockout_free(l);
}

TEST(test_lockout_failures_during_lock_do_not_extend_it)
{
    gw_lockout_t *l = make(2, 60, 30);
    CHECK(l != NULL);
    gw_lockout_fail(l, key("AK1"), 0);
    gw_lockout_fail(l, key("AK1"), 0);
    for (int i = 1; i < 10; i++)
        CHECK_EQ_INT(gw_lockout_fail(l, key("AK1"), i * S), GW_LOCKOUT_NONE);
    CHECK_EQ_INT(gw_lockout_check(l, key("AK1"), 29 * S, NULL), 1 * S);
    gw_lockout_free(l);
}

TEST(test_lockout_unlock_ends_lock)
{
    gw_lockout_t *l = make(1, 60, 300);
    CHECK(l != NULL);
    CHECK_EQ_INT(gw_lockout_unlock(l, key("AK1"), 0), -ENOENT);
    CHECK_EQ_INT(gw_lockout_fail(l, key("AK1"), 0), GW_LOCKOUT_LOCKED);
    CHECK_EQ_INT(gw_lockout_unlock(l, key("AK1"), 1 * S), 0);
    CHECK_EQ_INT(gw_lockout_check(l, key("AK1"), 1 * S, NULL), 0);
    CHECK_EQ_INT(gw_lockout_unlock(l, key("AK1"), 1 * S), -ENOENT);
    gw_lockout_free(l);
}

TEST(test_lockout_success_clears_count_not_lock)
{
    gw_lockout_t *l = make(3, 60, 300);
    CHECK(l != NULL);
    gw_lockout_fail(l, key("AK1"), 0);
    gw_lockout_fail(l, key("AK1"), 0);
    gw_lockout_succeed(l, key("AK1"));
    CHECK_EQ_INT(gw_lockout_fail(l, key("AK1"), 0), GW_LOCKOUT_NONE);
    CHECK_EQ_INT(gw_lockout_fail(l, key("AK1"), 0), GW_LOCKOUT_NONE);
    CHECK_EQ_INT(gw_lockout_fail(l, key("AK1"), 0), GW_LOCKOUT_LOCKED);
    gw_lockout_succeed(l, key("AK1"));
    CHECK(gw_lockout_check(l, key("AK1"), 1 * S, NULL) > 0);
    gw_lockout_free(l);
}

TEST(test_lockout_keys_are_independent)
{
    gw_lockout_t *l = make(2, 60, 300);
    CHECK(l != NULL);
    gw_lockout_fail(l, key("AK1"), 0);
    gw_lockout_fail(l, key("AK2"), 0);
    CHECK_EQ_INT(gw_lockout_check(l, key("AK1"), 0, NULL), 0);
    CHECK_EQ_INT(gw_lockout_fail(l, key("AK1"), 0), GW_LOCKOUT_LOCKED);
    CHECK_EQ_INT(gw_lockout_check(l, key("AK2"), 0, NULL), 0);
    CHECK_EQ_INT(gw_lockout_check(l, key("AK"), 0, NULL), 0);
    CHECK_EQ_INT(gw_lockout_check(l, key("AK10"), 0, NULL), 0);
    gw_lockout_free(l);
}

TEST(test_lockout_off_when_failures_zero)
{
    gw_lockout_t *l = make(0, 60, 300);
    CHECK(l != NULL);
    for (int i = 0; i < 100; i++)
        CHECK_EQ_INT(gw_lockout_fail(l, key("AK1"), 0), GW_LOCKOUT_NONE);
    CHECK_EQ_INT(gw_lockout_check(l, key("AK1"), 0, NULL), 0);
    gw_lockout_free(l);
}

static void count_locked(void *arg, const gw_lockout_entry_t *e)
{
    (*(int *)arg)++;
}

TEST(test_lockout_foreach_lists_locked_only)
{
    gw_lockout_t *l = make(2, 60, 300);
    int n = 0;
    CHECK(l != NULL);
    gw_lockout_fail(l, key("AK1"), 0);
    gw_lockout_fail(l, key("AK1"), 0);
    gw_lockout_fail(l, key("AK2"), 0);
    gw_lockout_foreach(l, 1 * S, count_locked, &n);
    CHECK_EQ_INT(n, 1);
    n = 0;
    gw_lockout_foreach(l, 301 * S, count_locked, &n);
    CHECK_EQ_INT(n, 0);
    gw_lockout_free(l);
}

TEST(test_lockout_ignores_overlong_keys)
{
    char big[GW_LOCKOUT_KEY_MAX + 2];
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    gw_lockout_t *l = make(1, 60, 300);
    CHECK(l != NULL);
    CHECK_EQ_INT(gw_lockout_fail(l, key(big), 0), GW_LOCKOUT_NONE);
    gw_lockout_free(l);
}

typedef struct {
    gw_lockout_t *l;
    int id;
    int locked;
} thread_arg_t;

static void *hammer(void *p)
{
    thread_arg_t *a = p;
    char k[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(k, sizeof(k), "K%d", i % 50);
        if (gw_lockout_fail(a->l, key(k), 0) == GW_LOCKOUT_LOCKED)
            a->locked++;
        gw_lockout_check(a->l, key(k), 0, NULL);
    }
    return NULL;
}

TEST(test_lockout_threads_lock_each_key_once)
{
    gw_lockout_t *l = make(10, 60, 300);
    pthread_t t[4];
    thread_arg_t a[4];
    int locked = 0;
    CHECK(l != NULL);
    for (int i = 0; i < 4; i++) {
        a[i] = (thread_arg_t){l, i, 0};
        pthread_create(&t[i], NULL, hammer, &a[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        locked += a[i].locked;
    }
    CHECK_EQ_INT(locked, 50);
    gw_lockout_free(l);
}

int main(void)
{
    RUN(test_lockout_locks_at_n_failures_within_window);
    RUN(test_lockout_window_restarts_after_it_ends);
    RUN(test_lockout_ends_after_lock_time_once);
    RUN(test_lockout_failures_during_lock_do_not_extend_it);
    RUN(test_lockout_unlock_ends_lock);
    RUN(test_lockout_success_clears_count_not_lock);
    RUN(test_lockout_keys_are_independent);
    RUN(test_lockout_off_when_failures_zero);
    RUN(test_lockout_foreach_lists_locked_only);
    RUN(test_lockout_ignores_overlong_keys);
    RUN(test_lockout_threads_lock_each_key_once);
    return unit_done();
}
