/* gw_lock.c — quorum locks over drives (see gw_lock.h). */
#include "gateway/gw_lock.h"
#include "gateway/gw_object.h"
#include "common/clock.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    gw_lock_t *l;
    int results[];
} lock_op_t;

static void acquire_task(void *arg, size_t i)
{
    lock_op_t *op = arg;
    gw_lock_t *l = op->l;
    store_client_t *d = l->drives[i]->client;
    meta_bytes_t name = {l->name, l->name_len};

    if (l->granted[i]) { /* held from an earlier round: keep it */
        op->results[i] = 0;
        return;
    }
    op->results[i] = d == NULL ? STORE_EIO : store_client_lock_acquire(d, name, l->owner, l->lease_ns);
    l->granted[i] = op->results[i] == 0;
}

static void release_task(void *arg, size_t i)
{
    lock_op_t *op = arg;
    gw_lock_t *l = op->l;
    store_client_t *d = l->drives[i]->client;
    meta_bytes_t name = {l->name, l->name_len};

    if (!l->granted[i] || d == NULL)
        return;
    /* a release that fails leaves a grant that runs out with its lease: nothing else to do */
    store_client_lock_release(d, name, l->owner);
    l->granted[i] = 0;
}

static void run(gw_lock_t *l, yc_task_fn fn, lock_op_t *op)
{
    yc_lane_t *lanes[l->n];
    for (size_t i = 0; i < l->n; i++)
        lanes[i] = l->drives[i]->lane;
    yc_fanout_run(lanes, l->n, fn, op);
}

/* Tries until a majority granted or wait_ns ran out. */
static int acquire(gw_lock_t *l, int64_t wait_ns)
{
    lock_op_t *op = calloc(1, sizeof(*op) + l->n * sizeof(int));
    int64_t deadline = yc_mono_ns() + wait_ns, pause_us = 2000;
    size_t quorum = gw_quorum_majority(l->n);
    int ret = GW_EBUSY;

    if (op == NULL)
        return GW_ENOMEM;
    op->l = l;
    for (;;) {
        size_t granted = 0;
        run(l, acquire_task, op);
        for (size_t i = 0; i < l->n; i++)
            granted += l->granted[i];
        if (granted >= quorum) {
            ret = 0;
            break;
        }
        /* Give way: another owner holds (part of) it. Releasing what we got lets a rival that
         * also holds a minority finish, instead of both waiting for each other. */
        run(l, release_task, op);
        /* Drives too full to record a grant do not free up by waiting: the operation, which
         * writes records on them next, is answered as any write to full drives is. */
        if (gw_quorum_error(op->results, l->n, quorum) == GW_ENOSPC) {
            ret = GW_ENOSPC;
            break;
        }
        if (yc_mono_ns() + pause_us * 1000 > deadline)
            break;
        /* The owner stays the same across rounds: a drive whose release failed still holds our
         * grant, and the next round renews it instead of being refused by it. */
        uint8_t r[META_ID_LEN];
        yc_random_id(r);
        usleep((useconds_t)(pause_us / 2 + (pause_us / 2) * r[0] / 255));
        if (pause_us < 50000)
            pause_us *= 2;
    }
    free(op);
    return ret;
}

static int init(gw_lock_t *l, gw_drive_t **drives, size_t n, meta_bytes_t name)
{
    memset(l, 0, sizeof(*l));
    if (name.len > sizeof(l->name))
        return GW_EINVAL;
    if ((l->drives = malloc(n * sizeof(*l->drives))) == NULL || (l->granted = calloc(n, 1)) == NULL) {
        free(l->drives);
        l->drives = NULL;
        return GW_ENOMEM;
    }
    memcpy(l->drives, drives, n * sizeof(*drives));
    l->n = n;
    memcpy(l->name, name.base, name.len);
    l->name_len = name.len;
    l->lease_ns = GW_LOCK_LEASE_NS;
    yc_random_id(l->owner);
    return 0;
}

static void dispose(gw_lock_t *l)
{
    free(l->drives);
    free(l->granted);
    l->drives = NULL;
    l->granted = NULL;
}

int gw_lock_set(gw_set_t *s, meta_bytes_t name, int64_t wait_ns, gw_lock_t *out)
{
    int ret;
    if ((ret = init(out, s->drives, gw_set_width(s), name)) != 0)
        return ret;
    if ((ret = acquire(out, wait_ns)) != 0)
        dispose(out);
    return ret;
}

int gw_lock_cluster_lease(gw_cluster_t *c, meta_bytes_t name, int64_t wait_ns, int64_t lease_ns, gw_lock_t *out)
{
    gw_drive_t **drives = malloc(c->ndrives * sizeof(*drives));
    int ret;

    if (drives == NULL)
        return GW_ENOMEM;
    for (size_t i = 0; i < c->ndrives; i++)
        drives[i] = &c->drives[i];
    ret = init(out, drives, c->ndrives, name);
    free(drives);
    if (ret == 0) {
        out->lease_ns = lease_ns > 0 ? lease_ns : GW_LOCK_LEASE_NS;
        if ((ret = acquire(out, wait_ns)) != 0)
            dispose(out);
    }
    return ret;
}

int gw_lock_cluster(gw_cluster_t *c, meta_bytes_t name, int64_t wait_ns, gw_lock_t *out)
{
    return gw_lock_cluster_lease(c, name, wait_ns, GW_LOCK_LEASE_NS, out);
}

int gw_lock_renew(gw_lock_t *l)
{
    lock_op_t *op = calloc(1, sizeof(*op) + l->n * sizeof(int));
    size_t granted = 0;

    if (op == NULL)
        return GW_ENOMEM;
    op->l = l;
    /* asking again with the same owner extends a grant still ours; a drive that granted someone
     * else since refuses, and a majority of refusals means the name changed hands */
    memset(l->granted, 0, l->n);
    run(l, acquire_task, op);
    for (size_t i = 0; i < l->n; i++)
        granted += l->granted[i];
    free(op);
    return granted >= gw_quorum_majority(l->n) ? 0 : GW_EBUSY;
}

void gw_lock_release(gw_lock_t *l)
{
    lock_op_t *op = calloc(1, sizeof(*op) + l->n * sizeof(int));
    if (op != NULL) {
        op->l = l;
        run(l, release_task, op);
        free(op);
    }
    dispose(l);
}
