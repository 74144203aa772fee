/* gw_sweep.c — removing dead namespaces (see gw_sweep.h).
 *
 * Each drive is swept on its own lane, in rounds: a scan collects up to SWEEP_BATCH keys of the
 * namespace, they are deleted, and the next round scans again from the start (what was deleted
 * is gone, so every round makes progress and no cursor has to survive deletes). Uploads take
 * their parts first ('P' records name their data and shard index), then the upload record.
 *
 * Finding dead namespaces walks the 'O' and 'U' keys of each drive one namespace at a time: it
 * reads the first key at or after a position, takes its namespace, and seeks past all of it
 * (ns 0x00 is the head of every key of ns; ns 0x01 sorts after all of them). The namespace
 * names its bucket and incarnation, and the bucket record says whether that is still alive.
 */
#include "gateway/gw_sweep.h"
#include "gateway/gw_bucket_config.h"
#include "gateway/gw_bucket_record.h"
#include "common/log.h"
#include "gateway/gw_object.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP_BATCH 256
#define NS_SEEN_MAX 4096

typedef struct {
    uint8_t keys[SWEEP_BATCH][META_ENCODED_KEY_MAX];
    size_t lens[SWEEP_BATCH];
    size_t n;
} batch_t;

static int collect_key(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    batch_t *b = arg;
    if (klen > META_ENCODED_KEY_MAX)
        return 0;
    memcpy(b->keys[b->n], key, klen);
    b->lens[b->n++] = klen;
    return b->n == SWEEP_BATCH ? 1 : 0;
}

/* Scans up to SWEEP_BATCH keys under prefix into b. */
static int scan_batch(store_client_t *d, const meta_key_t *prefix, batch_t *b)
{
    b->n = 0;
    return store_client_record_scan(d, prefix, NULL, SWEEP_BATCH, collect_key, b);
}

static int sweep_objects(store_client_t *d, meta_bytes_t ns, batch_t *b, size_t *removed)
{
    static const uint8_t null_vid[META_ID_LEN];
    meta_key_t prefix;
    int ret;

    if (meta_key_bucket_objects(ns, &prefix) != 0)
        return STORE_EINVAL;
    for (;;) {
        if ((ret = scan_batch(d, &prefix, b)) != 0 || b->n == 0)
            return ret;
        for (size_t i = 0; i < b->n; i++) {
            char key_buf[META_KEY_MAX];
            meta_bytes_t bucket, key;
            uint8_t vid[META_ID_LEN];
            if (meta_key_parse_object(b->keys[i], b->lens[i], &bucket, key_buf, &key, NULL, vid) != 0) {
                meta_key_t raw = {.len = b->lens[i]};
                memcpy(raw.buf, b->keys[i], b->lens[i]);
                ret = store_client_record_delete(d, &raw); /* not a record we could have written */
            } else {
                /* a null vid deletes every null version of the key, which is what is wanted */
                ret = store_client_object_delete(d, ns, key, memcmp(vid, null_vid, META_ID_LEN) ? vid : NULL);
            }
            if (ret != 0 && ret != STORE_ENOENT)
                return ret;
            *removed += ret == 0;
        }
    }
}

typedef struct {
    store_client_t *d;
    int err;
} parts_del_t;

static int delete_part(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    parts_del_t *pd = arg;
    meta_part_t p;
    meta_key_t k = {.len = klen};

    if (klen > sizeof(k.buf))
        return 0;
    memcpy(k.buf, key, klen);
    /* the record first: a part record must never outlive its shard's deletion attempt the other way round */
    if ((pd->err = store_client_record_delete(pd->d, &k)) != 0 && pd->err != STORE_ENOENT)
        return 1;
    pd->err = 0;
    if (meta_part_decode(val, vlen, &p) == 0)
        store_client_shard_delete(pd->d, p.data_id, p.shard_index);
    return 0;
}

static int sweep_uploads(store_client_t *d, meta_bytes_t ns, batch_t *b, size_t *removed)
{
    meta_key_t prefix, parts;
    int ret;

    if (meta_key_bucket_uploads(ns, &prefix) != 0)
        return STORE_EINVAL;
    for (;;) {
        if ((ret = scan_batch(d, &prefix, b)) != 0 || b->n == 0)
            return ret;
        for (size_t i = 0; i < b->n; i++) {
            uint8_t upload_id[META_ID_LEN];
            meta_key_t k = {.len = b->lens[i]};
            memcpy(k.buf, b->keys[i], b->lens[i]);
            if (meta_key_parse_object(b->keys[i], b->lens[i], NULL, NULL, NULL, NULL, upload_id) == 0) {
                parts_del_t pd = {d, 0};
                meta_key_parts(upload_id, &parts);
                if ((ret = store_client_record_scan(d, &parts, NULL, 0, delete_part, &pd)) != 0 || (ret = pd.err) != 0)
                    return ret;
            }
            if ((ret = store_client_record_delete(d, &k)) != 0 && ret != STORE_ENOENT)
                return ret;
            *removed += ret == 0;
        }
    }
}

typedef struct {
    gw_cluster_t *c;
    meta_bytes_t ns;
    size_t *removed;
    int *results;
} sweep_op_t;

static int parse_ns(const char *ns, size_t len, meta_bytes_t *name, uint64_t *incarnation);

static void sweep_task(void *arg, size_t i)
{
    sweep_op_t *op = arg;
    store_client_t *d = op->c->drives[i].client;
    batch_t *b = malloc(sizeof(*b));
    int ret;

    if (d == NULL || b == NULL) {
        op->results[i] = d == NULL ? STORE_EIO : -ENOMEM;
        free(b);
        return;
    }
    meta_bytes_t name;
    uint64_t incarnation;
    if ((ret = sweep_objects(d, op->ns, b, &op->removed[i])) == 0)
        ret = sweep_uploads(d, op->ns, b, &op->removed[i]);
    /* the bucket configurations of that incarnation (policy, CORS, ...) go with it */
    if (ret == 0 && parse_ns(op->ns.base, op->ns.len, &name, &incarnation) == 0)
        ret = gw_conf_sweep_drive(d, name, incarnation, &op->removed[i]);
    op->results[i] = ret;
    free(b);
}

int gw_sweep_ns(gw_cluster_t *c, meta_bytes_t ns, size_t *removed)
{
    size_t *counts = calloc(c->ndrives, sizeof(*counts));
    int *results = calloc(c->ndrives, sizeof(*results)), ret = 0;

    *removed = 0;
    if (counts == NULL || results == NULL) {
        free(counts);
        free(results);
        return GW_ENOMEM;
    }
    sweep_op_t op = {c, ns, counts, results};
    gw_cluster_fanout(c, sweep_task, &op);
    for (size_t i = 0; i < c->ndrives; i++) {
        *removed += counts[i];
        if (results[i] != 0)
            ret = GW_EQUORUM;
    }
    free(counts);
    free(results);
    return ret;
}

/* ---------------------------------------------------------------- dead namespaces */

typedef struct {
    char ns[META_NS_MAX + 1];
    size_t len;
    int found;
} first_ns_t;

static int take_ns(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    first_ns_t *f = arg;
    const uint8_t *sep = klen > 1 ? memchr(key + 1, 0x00, klen - 1) : NULL;
    if (sep != NULL && (size_t)(sep - (key + 1)) <= META_NS_MAX) {
        f->len = (size_t)(sep - (key + 1));
        memcpy(f->ns, key + 1, f->len);
        f->ns[f->len] = '\0';
        f->found = 1;
    }
    return 1;
}

/* Splits "name:incarnation" (meta_bucket_ns); -1 when ns is not one. */
static int parse_ns(const char *ns, size_t len, meta_bytes_t *name, uint64_t *incarnation)
{
    const char *colon = memchr(ns, ':', len);
    uint64_t v = 0;
    if (colon == NULL || (size_t)(ns + len - colon - 1) != 16)
        return -1;
    for (const char *p = colon + 1; p < ns + len; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (uint64_t)d;
    }
    *name = (meta_bytes_t){ns, (size_t)(colon - ns)};
    *incarnation = v;
    return 0;
}

/* 1 when ns belongs to no live bucket incarnation, 0 when it does, negative when unknown. */
static int ns_dead(gw_cluster_t *c, const char *ns, size_t len)
{
    meta_bytes_t name;
    meta_bucket_t b;
    uint64_t incarnation;
    void *raw;
    int ret;

    if (parse_ns(ns, len, &name, &incarnation) != 0)
        return 1; /* not a namespace any gateway makes */
    ret = gw_bucket_record_read(c, name, &raw, &b);
    if (ret == GW_ENOENT)
        return 1;
    if (ret != 0)
        return ret;
    ret = b.incarnation != incarnation;
    free(raw);
    return ret;
}

int gw_sweep_dead(gw_cluster_t *c, size_t *swept)
{
    static const uint8_t tags[] = {'O', 'U'};
    char(*seen)[META_NS_MAX + 1] = calloc(NS_SEEN_MAX, sizeof(*seen));
    size_t nseen = 0;
    int ret = 0;

    *swept = 0;
    if (seen == NULL)
        return GW_ENOMEM;
    for (size_t i = 0; i < c->ndrives; i++) {
        store_client_t *d = c->drives[i].client;
        if (d == NULL)
            continue;
        for (size_t t = 0; t < sizeof(tags); t++) {
            meta_key_t prefix = {.buf = {tags[t]}, .len = 1}, seek = prefix;
            for (;;) {
                first_ns_t f = {.found = 0};
                if (store_client_record_scan(d, &prefix, &seek, 1, take_ns, &f) != 0 || !f.found)
                    break;
                int known = 0;
                for (size_t j = 0; j < nseen && !known; j++)
                    known = strcmp(seen[j], f.ns) == 0;
                if (!known) {
                    int dead = ns_dead(c, f.ns, f.len);
                    if (nseen < NS_SEEN_MAX)
                        memcpy(seen[nseen++], f.ns, f.len + 1);
                    if (dead == 1) {
                        size_t removed;
                        if (gw_sweep_ns(c, (meta_bytes_t){f.ns, f.len}, &removed) != 0)
                            ret = GW_EQUORUM;
                        yc_log(YC_LOG_INFO, "event=namespace_swept ns=%s records=%zu", f.ns, removed);
                        (*swept)++;
                    }
                }
                /* past every key of this namespace: tag ns 0x01 */
                seek.buf[0] = tags[t];
                memcpy(seek.buf + 1, f.ns, f.len);
                seek.buf[1 + f.len] = 0x01;
                seek.len = 2 + f.len;
            }
        }
    }
    free(seen);
    return ret;
}
