/* gw_cluster.c — opening drives, forming erasure sets, placing objects.
 *
 * Identity: a drive sits at one place of the layout (its set and its slot in the set) and
 * records that place, with the cluster id, the first time a gateway sees it; from then on a
 * gateway uses a drive only where it belongs. A local drive is checked here, when it opens; a
 * remote one by the health prober (gw_health.c), which this starts once the sets are formed.
 */
#include "gateway/gw_cluster.h"
#include "gateway/gw_health.h"
#include "store/tls.h"
#include "common/log.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* Placement must never change for a deployment: the seed is part of the on-disk contract. */
#define PLACEMENT_SEED 0x79756e63616e67ULL /* "yuncang" */

/* Splits "host:port/name" into its parts; 0 when spec names a remote drive. */
static int parse_remote(const char *spec, char *host, size_t hostlen, uint16_t *port, const char **name)
{
    const char *slash = strchr(spec, '/'), *colon;
    if (slash == NULL || slash == spec || slash[1] == '\0')
        return -1;
    for (colon = slash; colon > spec && *colon != ':'; colon--)
        ;
    if (*colon != ':' || (size_t)(colon - spec) >= hostlen)
        return -1;
    char *end;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (end != slash || p == 0 || p > 65535)
        return -1;
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    *port = (uint16_t)p;
    *name = slash + 1;
    return 0;
}

static int open_drive(gw_drive_t *d, const char *spec, const char *secret, const store_tls_t *tls, uint64_t reserve)
{
    char host[256], why[512];
    uint16_t port;
    const char *name;
    int ret;

    if (parse_remote(spec, host, sizeof(host), &port, &name) == 0) {
        store_remote_config_t rc = {.host = host, .port = port, .drive = name, .secret = secret, .tls = tls};
        char node[300];
        snprintf(node, sizeof(node), "%s:%u", host, port);
        if ((d->node = strdup(node)) == NULL)
            return -ENOMEM;
        if (secret == NULL)
            return -EINVAL;
        if ((ret = store_client_remote(&rc, &d->client)) != 0)
            return ret;
        /* unused until the prober found it is the drive expected here */
        store_client_fence(d->client, STORE_EUNREACHABLE);
        rc.connect_timeout_ms = GW_HEALTH_CONNECT_MS;
        rc.io_timeout_ms = GW_HEALTH_IO_MS;
        rc.pool_size = 1;
        return store_client_remote(&rc, &d->probe);
    }
    if ((d->node = strdup("local")) == NULL)
        return -ENOMEM;
    /* A drive that cannot open stays offline; quorum decides whether that is fatal. A full
     * drive opens (read-only if need be) and serves reads. */
    if ((ret = store_identity_open(spec, secret, secret != NULL ? strlen(secret) : 0, &d->identity, why,
                                   sizeof(why))) != 0) {
        d->offline_reason = strdup(why);
        return 0;
    }
    if ((ret = store_drive_open(spec, 1, &d->local)) != 0 || (ret = store_client_local(d->local, &d->client)) != 0) {
        snprintf(why, sizeof(why), "cannot open the drive: %s", yc_strerror(ret));
        d->offline_reason = strdup(why);
        d->client = NULL;
        return 0;
    }
    store_drive_set_reserve(d->local, reserve);
    return 0;
}

/* Places every local drive, or finds it belongs elsewhere: then it is not used. */
static void place_local_drives(gw_cluster_t *c)
{
    for (size_t i = 0; i < c->ndrives; i++) {
        gw_drive_t *d = &c->drives[i];
        store_identity_info_t info;
        char why[GW_HEALTH_DETAIL_MAX];
        if (d->identity == NULL || d->client == NULL)
            continue;
        int ret = store_identity_place(d->identity, c->cluster_id, d->set_index, d->slot, &info);
        if (ret == 0)
            continue;
        if (ret != STORE_EIDENTITY ||
            !gw_health_identity_mismatch(&info, c->cluster_id, d->set_index, d->slot, why, sizeof(why)))
            snprintf(why, sizeof(why), "cannot record its placement: %s", yc_strerror(ret));
        d->offline_reason = strdup(why);
        store_client_free(d->client); /* nothing uses the cluster yet */
        d->client = NULL;
        store_drive_close(d->local);
        d->local = NULL;
    }
    for (size_t i = 0; i < c->ndrives; i++)
        if (c->drives[i].offline_reason != NULL)
            yc_log(YC_LOG_WARN, "event=drive_offline drive=%s reason=\"%s\"", c->drives[i].path,
                   c->drives[i].offline_reason);
}

int gw_cluster_open(const gw_cluster_config_t *cfg, gw_cluster_t **out)
{
    uint32_t width = cfg->k + cfg->m;
    gw_cluster_t *c;
    size_t *order = NULL;
    int ret = -ENOMEM;

    if (width < 2 || width > 16 || cfg->m < 1 || cfg->ndrives == 0 || cfg->ndrives % width != 0)
        return -EINVAL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return -ENOMEM;
    c->placement_seed = PLACEMENT_SEED;
    c->stripe_size = cfg->stripe_size;
    c->inline_reads = 1;
    c->inline_max = cfg->inline_max;
    c->ndrives = cfg->ndrives;
    c->nsets = cfg->ndrives / width;
    /* as many hashing threads as a drive has I/O threads: one for each write a drive serves */
    if ((ret = yc_lane_new(cfg->lane_threads, &c->hash_lane)) != 0)
        goto fail;
    if (cfg->internode_tls_cert != NULL) {
        char why[512];
        if ((ret = store_tls_client_new(cfg->internode_tls_cert, cfg->internode_tls_key, cfg->internode_tls_ca,
                                        &c->internode_tls, why, sizeof(why))) != 0) {
            yc_log(YC_LOG_ERROR, "event=internode_tls_failed detail=\"%s\"", why);
            goto fail;
        }
    }
    ret = -ENOMEM;
    if ((c->drives = calloc(c->ndrives, sizeof(*c->drives))) == NULL ||
        (c->sets = calloc(c->nsets, sizeof(*c->sets))) == NULL || (order = calloc(c->ndrives, sizeof(*order))) == NULL)
        goto fail;
    for (size_t i = 0; i < c->ndrives; i++) {
        gw_drive_t *d = &c->drives[i];
        if ((d->path = strdup(cfg->drive_specs[i])) == NULL) {
            ret = -ENOMEM;
            goto fail;
        }
        if ((ret = yc_lane_new(cfg->lane_threads, &d->lane)) != 0 ||
            (ret = open_drive(d, cfg->drive_specs[i], cfg->cluster_secret, c->internode_tls, cfg->drive_reserve)) != 0)
            goto fail;
        if (d->local == NULL)
            c->inline_reads = 0; /* a remote drive: reads fan out so their round trips overlap */
    }
    /* round-robin over nodes: the k-th drive of every node, in order of the nodes' first appearance */
    size_t n = 0;
    for (size_t round = 0; n < c->ndrives; round++) {
        for (size_t i = 0; i < c->ndrives; i++) {
            size_t rank = 0;
            for (size_t j = 0; j < i; j++)
                rank += strcmp(c->drives[j].node, c->drives[i].node) == 0;
            if (rank == round)
                order[n++] = i;
        }
    }
    for (size_t s = 0; s < c->nsets; s++) {
        gw_set_t *set = &c->sets[s];
        set->index = (uint32_t)s;
        set->k = cfg->k;
        set->m = cfg->m;
        set->inline_reads = c->inline_reads;
        if ((set->drives = calloc(width, sizeof(*set->drives))) == NULL) {
            ret = -ENOMEM;
            goto fail;
        }
        for (uint32_t i = 0; i < width; i++) {
            set->drives[i] = &c->drives[order[s * width + i]];
            set->drives[i]->set_index = (uint32_t)s;
            set->drives[i]->slot = i;
        }
    }
    free(order);
    order = NULL;
    store_identity_cluster_id(cfg->cluster_secret, cfg->cluster_secret != NULL ? strlen(cfg->cluster_secret) : 0,
                              cfg->k, cfg->m, c->ndrives, c->cluster_id);
    place_local_drives(c);
    gw_health_config_t hc = {.interval_ms = cfg->health_interval_ms};
    if ((ret = gw_health_start(c, &hc, &c->health)) != 0)
        goto fail;
    *out = c;
    return 0;

fail:
    free(order);
    gw_cluster_close(c);
    return ret;
}

void gw_cluster_close(gw_cluster_t *c)
{
    if (c == NULL)
        return;
    gw_health_stop(c->health);
    if (c->hash_lane != NULL)
        yc_lane_free(c->hash_lane);
    for (size_t i = 0; c->drives != NULL && i < c->ndrives; i++) {
        yc_lane_free(c->drives[i].lane);
        if (c->drives[i].client != NULL)
            store_client_free(c->drives[i].client);
        if (c->drives[i].probe != NULL)
            store_client_free(c->drives[i].probe);
        if (c->drives[i].local != NULL)
            store_drive_close(c->drives[i].local);
        store_identity_close(c->drives[i].identity);
        gw_cluster_forget_retired(c, i);
        free(c->drives[i].offline_reason);
        free(c->drives[i].path);
        free(c->drives[i].node);
    }
    for (size_t s = 0; c->sets != NULL && s < c->nsets; s++)
        free(c->sets[s].drives);
    free(c->drives);
    free(c->sets);
    store_tls_free(c->internode_tls); /* after the clients that borrowed it */
    free(c);
}

int gw_cluster_replace_local(gw_cluster_t *c, size_t i, const char *spare, const char *secret, uint64_t reserve,
                             char *why, size_t whylen)
{
    gw_drive_t *d = &c->drives[i];
    store_identity_t *identity = NULL;
    store_drive_t *local = NULL;
    store_client_t *client = NULL;
    store_identity_info_t info;
    char *path = NULL;
    int ret;

    /* a local drive that could not open (a dead disk) is drained the same way: nothing is read
     * from it, everything is rebuilt from the other drives */
    if (d->probe != NULL) {
        snprintf(why, whylen, "%s is a yc-store drive: replace its disk on its node, then heal", d->path);
        return -ENOTSUP;
    }
    if (d->retired_path != NULL) {
        snprintf(why, whylen, "place of %s already holds a drained drive: remove it first", d->path);
        return -EBUSY;
    }
    if (strcmp(spare, d->path) == 0) {
        snprintf(why, whylen, "the spare is the drive itself");
        return -EINVAL;
    }
    if ((ret = store_identity_open(spare, secret, secret != NULL ? strlen(secret) : 0, &identity, why, whylen)) != 0)
        return ret;
    /* a spare must be fresh or already this place's: never a drive of another place or cluster */
    if ((ret = store_identity_place(identity, c->cluster_id, d->set_index, d->slot, &info)) != 0) {
        if (ret != STORE_EIDENTITY ||
            !gw_health_identity_mismatch(&info, c->cluster_id, d->set_index, d->slot, why, whylen))
            snprintf(why, whylen, "cannot record the spare's placement: %s", yc_strerror(ret));
        goto fail;
    }
    if ((ret = store_drive_open(spare, 1, &local)) != 0 || (ret = store_client_local(local, &client)) != 0) {
        snprintf(why, whylen, "cannot open the spare: %s", yc_strerror(ret));
        goto fail;
    }
    store_drive_set_reserve(local, reserve);
    if ((path = strdup(spare)) == NULL) {
        ret = -ENOMEM;
        goto fail;
    }
    /* The swap: callers read d->client for every call; the old client stays valid (retired) for
     * the calls that already hold it. */
    d->retired_path = d->path;
    d->retired_local = d->local;
    d->retired_client = d->client;
    d->retired_identity = d->identity;
    d->identity = identity;
    d->local = local;
    d->path = path;
    __atomic_store_n(&d->client, client, __ATOMIC_RELEASE);
    if (c->health != NULL)
        gw_health_local_replaced(c->health, i);
    return 0;

fail:
    if (client != NULL)
        store_client_free(client);
    if (local != NULL)
        store_drive_close(local);
    store_identity_close(identity);
    return ret != 0 ? ret : -EINVAL;
}

void gw_cluster_forget_retired(gw_cluster_t *c, size_t i)
{
    gw_drive_t *d = &c->drives[i];
    if (d->retired_client != NULL)
        store_client_free(d->retired_client);
    if (d->retired_local != NULL)
        store_drive_close(d->retired_local);
    store_identity_close(d->retired_identity);
    free(d->retired_path);
    d->retired_client = NULL;
    d->retired_local = NULL;
    d->retired_identity = NULL;
    d->retired_path = NULL;
}

gw_set_t *gw_cluster_place(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t key, uint8_t distribution[16])
{
    char name[META_NS_MAX + 1 + META_KEY_MAX];
    size_t blen = bucket.len < META_NS_MAX ? bucket.len : META_NS_MAX;
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

void gw_set_fanout(gw_set_t *s, yc_task_fn fn, void *arg)
{
    yc_lane_t *lanes[16];
    uint32_t width = gw_set_width(s);
    for (uint32_t i = 0; i < width; i++)
        lanes[i] = s->drives[i]->lane;
    yc_fanout_run(lanes, width, fn, arg);
}

void gw_cluster_fanout(gw_cluster_t *c, yc_task_fn fn, void *arg)
{
    yc_lane_t **lanes = malloc(c->ndrives * sizeof(*lanes));
    if (lanes == NULL) {
        /* out of memory: run the calls here, one after the other, rather than not at all */
        for (size_t i = 0; i < c->ndrives; i++)
            fn(arg, i);
        return;
    }
    for (size_t i = 0; i < c->ndrives; i++)
        lanes[i] = c->drives[i].lane;
    yc_fanout_run(lanes, c->ndrives, fn, arg);
    free(lanes);
}

void gw_set_fanout_reads(gw_set_t *s, yc_task_fn fn, void *arg)
{
    if (!s->inline_reads) {
        gw_set_fanout(s, fn, arg);
        return;
    }
    for (uint32_t i = 0; i < gw_set_width(s); i++)
        fn(arg, i);
}

void gw_cluster_fanout_reads(gw_cluster_t *c, yc_task_fn fn, void *arg)
{
    if (!c->inline_reads) {
        gw_cluster_fanout(c, fn, arg);
        return;
    }
    for (size_t i = 0; i < c->ndrives; i++)
        fn(arg, i);
}
