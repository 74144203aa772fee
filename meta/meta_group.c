/* meta_group.c — group commit of one database's small writes, by a thread of its own.
 *
 * Why: a synced RocksDB write costs a WAL fsync, and RocksDB's own group commit needs the
 * writers to be in RocksDB at once, each on a thread of its own that then sleeps and wakes in
 * RocksDB's write queue. On a gateway whose drives are local that means a drive-lane thread per
 * record and drive, with several thread switches for each. Here a writer only queues its put or
 * delete (under one mutex, a few list links) and goes on, e.g. to queue the same record on the
 * next drive; the group's committer takes everything queued, writes it as one batch (one WAL
 * append, one fsync: meta_db_write) and wakes each writer of the batch. Writes queued while a
 * batch is being synced form the next batch, so the batches grow with the load by themselves.
 *
 * Under load a little more: when the last batch was large (GATHER_MIN writes or more) and the
 * committer finds fewer than half as many queued, it waits up to GATHER_NS for the queue to reach
 * the last batch's size before it writes, as long as writes keep coming. Why: with many writers
 * each queueing on several drives one after the other, a committer that just finished its sync
 * would otherwise take the first few writes of the next wave alone and sync them, and the rest a
 * sync later: more syncs (a WAL write and an fdatasync each, the largest CPU cost of a small PUT)
 * for the same writes. A lightly loaded group (last batch small) never waits, so a lone write is
 * not delayed.
 *
 * Durability and visibility are those of meta_db_write: a write is applied (visible to reads)
 * only together with its batch, after the WAL holding it is synced, and meta_group_wait returns
 * 0 only then. A batch that fails fails every write in it, none of which was applied. Writes of
 * one batch are applied in the order they were queued; a writer that must order two writes of
 * one key (a read-modify-write) holds its own lock from the read until meta_group_wait. */
#include "meta/meta.h"
#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* The gather under load (see the top): from a last batch of GATHER_MIN writes, wait at most
 * GATHER_NS for the queue to grow to that batch's size, as long as every GATHER_SLICE_NS brings
 * more. */
#define GATHER_MIN      8
#define GATHER_NS       (600 * 1000L)
#define GATHER_SLICE_NS (150 * 1000L)

struct meta_group {
    meta_db_t *db;
    pthread_mutex_t mu;
    pthread_cond_t work; /* something was queued, or stop; or the gathered queue is full enough */
    meta_pending_t *head, *tail;
    size_t queued; /* writes in head..tail */
    size_t want;   /* while gathering: the queue length that ends the wait early (else 0) */
    int stop;
    pthread_t thread;
    uint64_t batches, writes; /* since start, under mu */
};

/* The futex the waiters sleep on: the committer's wake after its last touch of a waiter may
 * reach a waiter that is already gone (its memory reused), where the kernel's wake is harmless
 * (every futex sleeper rechecks its word), whereas a condition variable signalled after unlocking
 * its mutex could be destroyed under the signal. */
static void futex_wake_one(unsigned *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void futex_sleep(unsigned *word, unsigned seen)
{
    syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
}

static void finish_batch(meta_group_t *g, meta_pending_t *list, int result)
{
    meta_pending_t *rest = NULL, **tail = &rest;
    int solo = 0;

    /* Writers waiting alone sleep on the group's mutex: signalled under it, then marked done
     * (a writer that sees done without the mutex is past the signal). Joined and detached writes
     * need no mutex of the group: a joined writer is woken by its waiter, without the committer
     * holding a lock it would then wait for. */
    for (meta_pending_t *p = list; p != NULL && !solo; p = p->next)
        solo = !p->detached && p->waiter == NULL;
    if (solo)
        pthread_mutex_lock(&g->mu);
    for (meta_pending_t *p = list, *next; p != NULL; p = next) {
        next = p->next; /* p may be gone once its writer sees done */
        if (p->detached || p->waiter != NULL) {
            *tail = p;
            tail = &p->next;
            continue;
        }
        p->result = result;
        pthread_cond_signal(&p->cv);
        __atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
    }
    *tail = NULL;
    if (solo)
        pthread_mutex_unlock(&g->mu);
    for (meta_pending_t *p = rest, *next; p != NULL; p = next) {
        next = p->next;
        if (p->detached) {
            free(p); /* nobody waits for it */
            continue;
        }
        meta_waiter_t *w = p->waiter;
        p->result = result;
        __atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
        if (__atomic_sub_fetch(&w->left, 1, __ATOMIC_ACQ_REL) == 0)
            futex_wake_one(&w->left); /* w may be gone already: see futex_wake_one */
    }
}

/* Under load, waits (g->mu held) for the queue to reach last writes: in slices of GATHER_SLICE_NS,
 * while each slice brought more writes, GATHER_NS at most. A slice that brought nothing ends it:
 * the writers are not coming (e.g. they are all in the batch just synced, waiting for it). */
static void gather(meta_group_t *g, size_t last)
{
    struct timespec now, until;
    int64_t waited = 0;

    if (last < GATHER_MIN || g->queued * 2 >= last || g->stop)
        return;
    g->want = last;
    while (g->queued < last && !g->stop && waited < GATHER_NS) {
        size_t before = g->queued;
        clock_gettime(CLOCK_MONOTONIC, &now);
        until = now;
        until.tv_nsec += GATHER_SLICE_NS;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        if (pthread_cond_timedwait(&g->work, &g->mu, &until) != 0 && g->queued == before)
            break;
        waited += GATHER_SLICE_NS;
    }
    g->want = 0;
}

static void *committer(void *arg)
{
    meta_group_t *g = arg;
    meta_batch_t *batch = NULL;
    size_t last = 0; /* writes of the previous batch */

    pthread_mutex_lock(&g->mu);
    for (;;) {
        while (g->head == NULL && !g->stop)
            pthread_cond_wait(&g->work, &g->mu);
        if (g->head == NULL)
            break; /* stopping, and nothing left to write */
        gather(g, last);
        meta_pending_t *list = g->head;
        last = g->queued;
        g->head = g->tail = NULL;
        g->queued = 0;
        g->batches++;
        pthread_mutex_unlock(&g->mu);

        int ret = 0;
        if (batch == NULL && (batch = meta_batch_new()) == NULL)
            ret = META_ENOMEM;
        if (ret == 0) {
            for (meta_pending_t *p = list; p != NULL; p = p->next) {
                for (size_t i = 0; i < p->nops; i++) {
                    const meta_op_t *op = &p->ops[i];
                    if (op->is_delete)
                        meta_batch_delete(batch, op->key, op->klen);
                    else
                        meta_batch_put(batch, op->key, op->klen, op->val, op->vlen);
                }
                if (p->nops > 0)
                    continue;
                if (p->is_delete)
                    meta_batch_delete(batch, p->key, p->klen);
                else
                    meta_batch_put(batch, p->key, p->klen, p->val, p->vlen);
            }
            ret = meta_db_write(g->db, batch);
            meta_batch_free(batch); /* RocksDB's batch has no clear in the C API we rely on */
            batch = NULL;
        }
        finish_batch(g, list, ret);
        pthread_mutex_lock(&g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

int meta_group_start(meta_db_t *db, meta_group_t **out)
{
    meta_group_t *g;

    *out = NULL;
    if ((g = calloc(1, sizeof(*g))) == NULL)
        return META_ENOMEM;
    g->db = db;
    pthread_mutex_init(&g->mu, NULL);
    /* the gather's timed wait is on the monotonic clock: a wall clock step neither stalls nor rushes it */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->work, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&g->thread, NULL, committer, g) != 0) {
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->work);
        free(g);
        return META_ENOMEM;
    }
    *out = g;
    return 0;
}

void meta_group_stop(meta_group_t *g)
{
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = 1;
    pthread_cond_signal(&g->work);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL); /* the writes queued before stop are written first */
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->work);
    free(g);
}

static void enqueue(meta_group_t *g, meta_pending_t *p)
{
    p->next = NULL;
    p->done = 0;
    p->result = 0;
    p->group = g;
    if (!p->detached && p->waiter == NULL)
        pthread_cond_init(&p->cv, NULL);
    pthread_mutex_lock(&g->mu);
    g->writes++;
    int idle = g->head == NULL; /* else the committer was woken, or will look again after its batch */
    if (g->tail != NULL)
        g->tail->next = p;
    else
        g->head = p;
    g->tail = p;
    g->queued++;
    int gathered = g->want != 0 && g->queued == g->want; /* a gathering committer's wait ends */
    pthread_mutex_unlock(&g->mu);
    /* after unlocking: the woken committer does not then wait for the mutex (g outlives this) */
    if (idle || gathered)
        pthread_cond_signal(&g->work);
}

void meta_group_put(meta_group_t *g, meta_pending_t *p, const void *key, size_t klen, const void *val, size_t vlen)
{
    *p = (meta_pending_t){.key = key, .klen = klen, .val = val, .vlen = vlen};
    enqueue(g, p);
}

void meta_waiter_init(meta_waiter_t *w)
{
    w->left = 0;
}

void meta_group_put_joined(meta_group_t *g, meta_pending_t *p, meta_waiter_t *w, const void *key, size_t klen,
                           const void *val, size_t vlen)
{
    *p = (meta_pending_t){.key = key, .klen = klen, .val = val, .vlen = vlen, .waiter = w};
    __atomic_add_fetch(&w->left, 1, __ATOMIC_ACQ_REL); /* before it is queued: its batch may end at once */
    enqueue(g, p);
}

void meta_group_write(meta_group_t *g, meta_pending_t *p, meta_waiter_t *w, const meta_op_t *ops, size_t n)
{
    *p = (meta_pending_t){.ops = ops, .nops = n, .waiter = w};
    if (w != NULL)
        __atomic_add_fetch(&w->left, 1, __ATOMIC_ACQ_REL); /* before it is queued: its batch may end at once */
    enqueue(g, p);
}

void meta_waiter_wait(meta_waiter_t *w)
{
    unsigned left;

    while ((left = __atomic_load_n(&w->left, __ATOMIC_ACQUIRE)) != 0)
        futex_sleep(&w->left, left);
}

void meta_group_delete(meta_group_t *g, meta_pending_t *p, const void *key, size_t klen)
{
    *p = (meta_pending_t){.key = key, .klen = klen, .is_delete = 1};
    enqueue(g, p);
}

int meta_group_put_detached(meta_group_t *g, const void *key, size_t klen, const void *val, size_t vlen)
{
    meta_pending_t *p = malloc(sizeof(*p) + klen + vlen);
    uint8_t *copy;

    if (p == NULL)
        return META_ENOMEM;
    copy = (uint8_t *)(p + 1);
    memcpy(copy, key, klen);
    memcpy(copy + klen, val, vlen);
    *p = (meta_pending_t){.key = copy, .klen = klen, .val = copy + klen, .vlen = vlen, .detached = 1};
    enqueue(g, p);
    return 0;
}

int meta_group_wait(meta_pending_t *p)
{
    meta_group_t *g = p->group;

    if (!__atomic_load_n(&p->done, __ATOMIC_ACQUIRE)) { /* a joined write is done once its waiter was */
        pthread_mutex_lock(&g->mu);
        while (!__atomic_load_n(&p->done, __ATOMIC_ACQUIRE))
            pthread_cond_wait(&p->cv, &g->mu);
        pthread_mutex_unlock(&g->mu);
    }
    if (p->waiter == NULL)
        pthread_cond_destroy(&p->cv);
    return p->result;
}

void meta_group_counts(meta_group_t *g, uint64_t *batches, uint64_t *writes)
{
    pthread_mutex_lock(&g->mu);
    *batches = g->batches;
    *writes = g->writes;
    pthread_mutex_unlock(&g->mu);
}
