/* gw_replica.c — majority writes and reads of cluster-wide records. A write that misses its
 * majority because too many drives are full fails with GW_ENOSPC (gw_quorum_error), any other
 * miss with GW_EQUORUM. */
#include "gateway/gw_replica.h"
#include "gateway/gw_object.h"
#include <stdlib.h>
#include <string.h>

typedef struct {
    gw_cluster_t *c;
    const meta_key_t *key;
    const void *val;
    size_t len;
    int *results;
    void **vals;
    size_t *lens;
} replica_op_t;

static void put_task(void *arg, size_t i)
{
    replica_op_t *op = arg;
    store_client_t *d = op->c->drives[i].client;
    op->results[i] = d == NULL ? STORE_EIO : store_client_record_put(d, op->key, op->val, op->len);
}

static void delete_task(void *arg, size_t i)
{
    replica_op_t *op = arg;
    store_client_t *d = op->c->drives[i].client;
    op->results[i] = d == NULL ? STORE_EIO : store_client_record_delete(d, op->key);
    if (op->results[i] == STORE_ENOENT)
        op->results[i] = 0;
}

static void get_task(void *arg, size_t i)
{
    replica_op_t *op = arg;
    store_client_t *d = op->c->drives[i].client;
    op->results[i] = d == NULL ? STORE_EIO : store_client_record_get(d, op->key, &op->vals[i], &op->lens[i]);
}

/* get_task on every drive, for network drives: the requests all go out before any answer is
 * awaited (store_client_record_get_batch), so the round trips overlap on this thread with no
 * hand-off to the drives' lanes. */
static void get_batch(replica_op_t *op)
{
    size_t n = 0, idx[op->c->ndrives];
    store_batch_call_t calls[op->c->ndrives];

    for (size_t i = 0; i < op->c->ndrives; i++) {
        store_client_t *d = op->c->drives[i].client;
        op->vals[i] = NULL;
        op->lens[i] = 0;
        op->results[i] = STORE_EIO;
        if (d == NULL)
            continue;
        calls[n] = (store_batch_call_t){.client = d, .key = op->key};
        idx[n++] = i;
    }
    store_client_record_get_batch(calls, n);
    for (size_t j = 0; j < n; j++) {
        op->results[idx[j]] = calls[j].ret;
        op->vals[idx[j]] = calls[j].val;
        op->lens[idx[j]] = calls[j].vlen;
    }
}

static int run(gw_cluster_t *c, replica_op_t *op, yc_task_fn fn)
{
    gw_cluster_fanout(c, fn, op);
    return gw_quorum_write_result(op->results, c->ndrives, gw_cluster_quorum(c));
}

int gw_replica_put(gw_cluster_t *c, const meta_key_t *key, const void *val, size_t len)
{
    int results[c->ndrives];
    replica_op_t op = {c, key, val, len, results, NULL, NULL};
    return run(c, &op, put_task);
}

int gw_replica_delete(gw_cluster_t *c, const meta_key_t *key)
{
    int results[c->ndrives];
    replica_op_t op = {c, key, NULL, 0, results, NULL, NULL};
    return run(c, &op, delete_task);
}

int gw_replica_get(gw_cluster_t *c, const meta_key_t *key, void **val, size_t *len)
{
    return gw_replica_get_newest(c, key, NULL, val, len);
}

int gw_replica_get_newest(gw_cluster_t *c, const meta_key_t *key, gw_replica_newer_fn newer, void **val, size_t *len)
{
    int results[c->ndrives];
    void *vals[c->ndrives];
    size_t lens[c->ndrives], chosen = SIZE_MAX;
    replica_op_t op = {c, key, NULL, 0, results, vals, lens};

    memset(vals, 0, sizeof(vals));
    if (c->inline_reads)
        gw_cluster_fanout_reads(c, get_task, &op);
    else
        get_batch(&op);
    int ret =
        gw_quorum_newest(results, (const void *const *)vals, lens, c->ndrives, gw_cluster_quorum(c), newer, &chosen);
    for (size_t i = 0; i < c->ndrives; i++) {
        if (ret == 0 && i == chosen) {
            *val = vals[i];
            *len = lens[i];
        } else {
            free(vals[i]);
        }
    }
    return ret;
}

/* ---- scan: collect every drive's records, then merge by key counting holders ---- */

typedef struct {
    uint8_t *key, *val;
    size_t klen, vlen;
} entry_t;

typedef struct {
    entry_t *items;
    size_t n, cap;
    int result;
} drive_list_t;

typedef struct {
    gw_drive_t *const *drives;
    const meta_key_t *prefix;
    drive_list_t *lists;
} scan_op_t;

static int collect(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    drive_list_t *l = arg;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        entry_t *items = realloc(l->items, cap * sizeof(*items));
        if (items == NULL)
            return -1;
        l->items = items;
        l->cap = cap;
    }
    entry_t *e = &l->items[l->n];
    if ((e->key = malloc(klen + vlen + 1)) == NULL)
        return -1;
    memcpy(e->key, key, klen);
    e->val = e->key + klen;
    memcpy(e->val, val, vlen);
    e->klen = klen;
    e->vlen = vlen;
    l->n++;
    return 0;
}

static void scan_task(void *arg, size_t i)
{
    scan_op_t *op = arg;
    store_client_t *d = op->drives[i]->client;
    op->lists[i].result =
        d == NULL ? STORE_EIO : store_client_record_scan(d, op->prefix, NULL, 0, collect, &op->lists[i]);
}

static int key_cmp(const entry_t *a, const entry_t *b)
{
    size_t n = a->klen < b->klen ? a->klen : b->klen;
    int r = memcmp(a->key, b->key, n);
    return r != 0 ? r : (a->klen > b->klen) - (a->klen < b->klen);
}

/* Scans the drives in parallel and reports keys held by at least min_holders of them; with newer
 * set, the newest of the values the holders have (else the first drive's). */
static int scan_drives(gw_drive_t *const *drives, size_t nd, size_t min_holders, const meta_key_t *prefix,
                       gw_replica_newer_fn newer, gw_replica_cb cb, void *arg)
{
    size_t answered = 0, pos[nd];
    drive_list_t lists[nd];
    yc_lane_t **lanes = calloc(nd, sizeof(*lanes));
    scan_op_t op = {drives, prefix, lists};
    int ret = 0;

    if (lanes == NULL)
        return GW_ENOMEM;
    memset(lists, 0, sizeof(lists));
    memset(pos, 0, sizeof(pos));
    for (size_t i = 0; i < nd; i++)
        lanes[i] = drives[i]->lane;
    yc_fanout_run(lanes, nd, scan_task, &op);
    free(lanes);
    for (size_t i = 0; i < nd; i++)
        answered += lists[i].result == 0;
    if (answered < min_holders) {
        ret = GW_EQUORUM;
        goto done;
    }
    for (;;) {
        const entry_t *min = NULL;
        for (size_t i = 0; i < nd; i++)
            if (lists[i].result == 0 && pos[i] < lists[i].n &&
                (min == NULL || key_cmp(&lists[i].items[pos[i]], min) < 0))
                min = &lists[i].items[pos[i]];
        if (min == NULL)
            break;
        entry_t cur = *min;
        size_t holders = 0;
        for (size_t i = 0; i < nd; i++) {
            if (lists[i].result == 0 && pos[i] < lists[i].n && key_cmp(&lists[i].items[pos[i]], &cur) == 0) {
                const entry_t *e = &lists[i].items[pos[i]];
                if (newer != NULL && newer(e->val, e->vlen, cur.val, cur.vlen))
                    cur = *e;
                holders++;
                pos[i]++;
            }
        }
        if (holders >= min_holders && cb(arg, cur.key, cur.klen, cur.val, cur.vlen) != 0)
            break;
    }
done:
    for (size_t i = 0; i < nd; i++) {
        for (size_t j = 0; j < lists[i].n; j++)
            free(lists[i].items[j].key);
        free(lists[i].items);
    }
    return ret;
}

int gw_replica_scan(gw_cluster_t *c, const meta_key_t *prefix, gw_replica_cb cb, void *arg)
{
    gw_drive_t *drives[c->ndrives];
    for (size_t i = 0; i < c->ndrives; i++)
        drives[i] = &c->drives[i];
    return scan_drives(drives, c->ndrives, gw_cluster_quorum(c), prefix, NULL, cb, arg);
}

int gw_replica_scan_newest(gw_cluster_t *c, const meta_key_t *prefix, gw_replica_newer_fn newer, gw_replica_cb cb,
                           void *arg)
{
    gw_drive_t *drives[c->ndrives];
    for (size_t i = 0; i < c->ndrives; i++)
        drives[i] = &c->drives[i];
    return scan_drives(drives, c->ndrives, gw_cluster_quorum(c), prefix, newer, cb, arg);
}

int gw_set_scan(gw_set_t *s, size_t min_holders, const meta_key_t *prefix, gw_replica_cb cb, void *arg)
{
    return scan_drives(s->drives, gw_set_width(s), min_holders, prefix, NULL, cb, arg);
}
