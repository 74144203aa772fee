/* gw_bucket_config.c — bucket configuration records on the drives (see gw_bucket_config.h). */
#include "gateway/gw_bucket_config.h"
#include "common/clock.h"
#include "gateway/gw_object.h"
#include "gateway/gw_replica.h"
#include <stdlib.h>
#include <string.h>

#define SWEEP_BATCH 64

static const char *const kind_names[GW_CONF__COUNT] = {
    [GW_CONF_POLICY] = "policy",
    [GW_CONF_CORS] = "cors",
    [GW_CONF_TAGGING] = "tagging",
    [GW_CONF_OWNERSHIP] = "ownership-controls",
    [GW_CONF_PUBLIC_ACCESS_BLOCK] = "public-access-block",
    [GW_CONF_LIFECYCLE] = "lifecycle",
    [GW_CONF_OBJECT_LOCK] = "object-lock",
    [GW_CONF_ACL] = "acl",
    [GW_CONF_LIFECYCLE_PROGRESS] = "lifecycle-progress",
    [GW_CONF_ENCRYPTION] = "encryption",
    [GW_CONF_KMS_KEYS] = "kms-keys",
    [GW_CONF_QUOTA] = "quota",
    [GW_CONF_LOGGING] = "logging",
};

const char *gw_conf_kind_name(gw_conf_kind_t kind)
{
    return (unsigned)kind < GW_CONF__COUNT ? kind_names[kind] : "";
}

static int conf_key(h2o_iovec_t bucket, gw_conf_kind_t kind, meta_key_t *out)
{
    const char *name = gw_conf_kind_name(kind);
    if (*name == '\0')
        return GW_EINVAL;
    return meta_key_config((meta_bytes_t){bucket.base, bucket.len}, (meta_bytes_t){name, strlen(name)}, out) == 0
               ? 0
               : GW_EINVAL;
}

/* Of two states of one configuration record, is a the one written last? An undecodable state
 * loses; of two written in the same nanosecond, the larger incarnation, then the removal, wins,
 * so that every reader picks the same one. */
static int newer(const void *a, size_t alen, const void *b, size_t blen)
{
    meta_config_t ra, rb;
    if (meta_config_decode(a, alen, &ra) != 0)
        return 0;
    if (meta_config_decode(b, blen, &rb) != 0)
        return 1;
    if (ra.updated_ns != rb.updated_ns)
        return ra.updated_ns > rb.updated_ns;
    if (ra.incarnation != rb.incarnation)
        return ra.incarnation > rb.incarnation;
    return ra.state > rb.state;
}

int gw_conf_read(gw_cluster_t *c, h2o_iovec_t bucket, uint64_t incarnation, gw_conf_kind_t kind, void **raw,
                 gw_conf_state_t *state, h2o_iovec_t *doc)
{
    meta_config_t rec;
    meta_key_t key;
    size_t len;
    int ret;

    *raw = NULL;
    *state = GW_CONF_NONE;
    *doc = h2o_iovec_init(NULL, 0);
    if ((ret = conf_key(bucket, kind, &key)) != 0)
        return ret;
    ret = gw_replica_get_newest(c, &key, newer, raw, &len);
    if (ret == GW_ENOENT)
        return 0;
    if (ret != 0)
        return ret;
    if (meta_config_decode(*raw, len, &rec) != 0) {
        free(*raw);
        *raw = NULL;
        return GW_EIO;
    }
    if (rec.incarnation != incarnation) {
        /* a bucket of this name before this one: its configuration is not ours */
        free(*raw);
        *raw = NULL;
        return 0;
    }
    if (rec.state == META_CONFIG_REMOVED) {
        free(*raw);
        *raw = NULL;
        *state = GW_CONF_REMOVED;
        return 0;
    }
    *state = GW_CONF_SET;
    *doc = h2o_iovec_init(rec.document.base, rec.document.len);
    return 0;
}

int gw_conf_write(gw_cluster_t *c, h2o_iovec_t bucket, uint64_t incarnation, gw_conf_kind_t kind, h2o_iovec_t doc)
{
    meta_config_t rec = {.incarnation = incarnation,
                         .state = doc.base != NULL ? META_CONFIG_SET : META_CONFIG_REMOVED,
                         .updated_ns = yc_now_ns(),
                         .document = {doc.base, doc.base != NULL ? doc.len : 0}};
    meta_buf_t buf = {0};
    meta_key_t key;
    int ret;

    if ((ret = conf_key(bucket, kind, &key)) != 0)
        return ret;
    if (meta_config_encode(&rec, &buf) != 0)
        ret = GW_EINVAL;
    else
        ret = gw_replica_put(c, &key, buf.base, buf.len);
    meta_buf_dispose(&buf);
    return ret;
}

/* ---------------------------------------------------------------- sweep */

typedef struct {
    uint64_t incarnation;
    meta_key_t keys[SWEEP_BATCH];
    size_t n;
} sweep_batch_t;

static int collect_config(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    sweep_batch_t *b = arg;
    meta_config_t rec;
    if (klen > sizeof(b->keys[0].buf) || meta_config_decode(val, vlen, &rec) != 0 || rec.incarnation != b->incarnation)
        return 0; /* another incarnation's (the live bucket's) stays */
    memcpy(b->keys[b->n].buf, key, klen);
    b->keys[b->n++].len = klen;
    return b->n == SWEEP_BATCH ? 1 : 0;
}

int gw_conf_sweep_drive(store_client_t *d, meta_bytes_t bucket, uint64_t incarnation, size_t *removed)
{
    sweep_batch_t *b = malloc(sizeof(*b));
    meta_key_t prefix;
    int ret = 0;

    if (b == NULL)
        return GW_ENOMEM;
    if (meta_key_config(bucket, (meta_bytes_t){"", 0}, &prefix) != 0) {
        free(b);
        return GW_EINVAL;
    }
    /* a bucket has a handful of kinds: one scan finds them all, and a full batch scans again */
    do {
        b->incarnation = incarnation;
        b->n = 0;
        if ((ret = store_client_record_scan(d, &prefix, NULL, 0, collect_config, b)) != 0)
            break;
        for (size_t i = 0; i < b->n; i++) {
            if ((ret = store_client_record_delete(d, &b->keys[i])) != 0 && ret != STORE_ENOENT)
                goto done;
            *removed += ret == 0;
            ret = 0;
        }
    } while (b->n == SWEEP_BATCH);
done:
    free(b);
    return ret;
}
