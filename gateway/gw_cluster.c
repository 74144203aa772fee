/* gw_cluster.c — opening drives, forming erasure sets, placing objects. */
#include "gateway/gw_cluster.h"
#include <alloca.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* Placement must never change for a deployment: the seed is part of the on-disk contract. */
#define PLACEMENT_SEED 0x79756e63616e67ULL /* "yuncang" */

int gw_cluster_open(const gw_cluster_config_t *cfg, gw_cluster_t **out)
{
    uint32_t width = cfg->k + cfg->m;
    gw_cluster_t *c;
    int ret = -ENOMEM;

    if (width < 2 || width > 16 || cfg->m < 1 || cfg->ndrives == 0 || cfg->ndrives % width != 0)
        return -EINVAL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return -ENOMEM;
    c->placement_seed = PLACEMENT_SEED;
    c->stripe_size = cfg->stripe_size;
    c->inline_reads = 1; /* every drive is local (the embedded transport) */
    c->inline_max = cfg->inline_max;
    c->ndrives = cfg->ndrives;
    c->nsets = cfg->ndrives / width;
    if ((c->drives = calloc(c->ndrives, sizeof(*c->drives))) == NULL ||
        (c->sets = calloc(c->nsets, sizeof(*c->sets))) == NULL)
        goto fail;
    for (size_t i = 0; i < c->ndrives; i++) {
        gw_drive_t *d = &c->drives[i];
        if ((d->path = strdup(cfg->drive_paths[i])) == NULL)
            goto fail;
        if ((ret = gw_lane_new(cfg->lane_threads, &d->lane)) != 0)
            goto fail;
        /* A drive that cannot open stays offline; quorum decides whether that is fatal. */
        if (store_drive_open(d->path, 1, &d->store) != 0)
            d->store = NULL;
    }
    for (size_t s = 0; s < c->nsets; s++) {
        gw_set_t *set = &c->sets[s];
        set->index = (uint32_t)s;
        set->k = cfg->k;
        set->m = cfg->m;
        set->inline_reads = c->inline_reads;
        if ((set->drives = calloc(width, sizeof(*set->drives))) == NULL)
            goto fail;
        for (uint32_t i = 0; i < width; i++)
            set->drives[i] = &c->drives[s * width + i];
    }
    *out = c;
    return 0;

fail:
    gw_cluster_close(c);
    return ret;
}

void gw_cluster_close(gw_cluster_t *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; c->drives != NULL && i < c->ndrives; i++) {
        gw_lane_free(c->drives[i].lane);
        if (c->drives[i].store != NULL)
            store_drive_close(c->drives[i].store);
        free(c->drives[i].path);
    }
    for (size_t s = 0; c->sets != NULL && s < c->nsets; s++)
        free(c->sets[s].drives);
    free(c->drives);
    free(c->sets);
    free(c);
}

gw_set_t *gw_cluster_place(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t key, uint8_t distribution[16])
{
    char name[META_BUCKET_MAX + 1 + META_KEY_MAX];
    size_t blen = bucket.len < META_BUCKET_MAX ? bucket.len : META_BUCKET_MAX;
    size_t klen = key.len < META_KEY_MAX ? key.len : META_KEY_MAX; /* callers validated; never overflow */
    memcpy(name, bucket.base, blen);
    name[blen] = '/';
    memcpy(name + blen + 1, key.base, klen);
    uint64_t h = XXH3_64bits_withSeed(name, blen + 1 + klen, c->placement_seed);

    gw_set_t *set = &c->sets[(h & 0xffffffff) % c->nsets];
    uint32_t width = gw_set_width(set), rotation = (uint32_t)((h >> 32) % width);
    memset(distribution, 0, 16);
    for (uint32_t i = 0; i < width; i++)
        distribution[i] = (uint8_t)((i + rotation) % width);
    return set;
}

void gw_set_fanout(gw_set_t *s, gw_task_fn fn, void *arg)
{
    gw_lane_t *lanes[16];
    uint32_t width = gw_set_width(s);
    for (uint32_t i = 0; i < width; i++)
        lanes[i] = s->drives[i]->lane;
    gw_fanout_run(lanes, width, fn, arg);
}

void gw_cluster_fanout(gw_cluster_t *c, gw_task_fn fn, void *arg)
{
    gw_lane_t **lanes = alloca(c->ndrives * sizeof(*lanes));
    for (size_t i = 0; i < c->ndrives; i++)
        lanes[i] = c->drives[i].lane;
    gw_fanout_run(lanes, c->ndrives, fn, arg);
}

void gw_set_fanout_reads(gw_set_t *s, gw_task_fn fn, void *arg)
{
    if (!s->inline_reads) {
        gw_set_fanout(s, fn, arg);
        return;
    }
    for (uint32_t i = 0; i < gw_set_width(s); i++)
        fn(arg, i);
}

void gw_cluster_fanout_reads(gw_cluster_t *c, gw_task_fn fn, void *arg)
{
    if (!c->inline_reads) {
        gw_cluster_fanout(c, fn, arg);
        return;
    }
    for (size_t i = 0; i < c->ndrives; i++)
        fn(arg, i);
}
