/* gw_attrs.c — changes of a version's attribute set under its key's lock (gw_attrs.h). */
#include "gateway/gw_attrs.h"
#include "gateway/gw_lock.h"
#include "common/clock.h"
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

/* "attrs/" and 32 hex digits of a hash of namespace and key (a lock name must stay short): two
 * keys whose hashes collide share a lock, which only makes their changes wait for each other. */
static size_t lock_name(meta_bytes_t ns, meta_bytes_t key, char *out, size_t cap)
{
    XXH128_hash_t h = XXH3_128bits_withSeed(key.base, key.len, XXH3_64bits(ns.base, ns.len));
    return (size_t)snprintf(out, cap, "attrs/%016llx%016llx", (unsigned long long)h.high64,
                            (unsigned long long)h.low64);
}

int gw_attrs_lock(gw_cluster_t *c, meta_bytes_t ns, meta_bytes_t key, gw_lock_t *out)
{
    char name[64];
    uint8_t dist[16];
    gw_set_t *set = gw_cluster_place(c, ns, key, dist);
    size_t len = lock_name(ns, key, name, sizeof(name));
    return gw_lock_set(set, (meta_bytes_t){name, len}, GW_LOCK_WAIT_NS, out);
}

int gw_attrs_change(gw_cluster_t *c, meta_bytes_t ns, meta_bytes_t key, const uint8_t *vid, gw_attrs_edit_fn edit,
                    void *arg, uint8_t vid_out[META_ID_LEN])
{
    meta_buf_t attrs = {0};
    gw_object_t *o = NULL;
    gw_lock_t lock;
    int64_t stamp;
    int ret;

    if ((ret = gw_attrs_lock(c, ns, key, &lock)) != 0)
        return ret;
    if ((ret = gw_object_lookup(c, ns, key, vid, &o)) != 0)
        goto out;
    const meta_object_t *r = gw_object_record(o);
    if ((ret = edit(arg, r, &attrs)) != 0)
        goto out;
    /* newer than the set it replaces even when this gateway's clock is behind the last one's */
    stamp = yc_now_ns();
    if (stamp <= r->attrs_ns)
        stamp = r->attrs_ns + 1;
    if ((ret = gw_object_update(c, o, (meta_bytes_t){(const char *)attrs.base, attrs.len}, stamp)) != 0)
        goto out;
    if (vid_out != NULL)
        memcpy(vid_out, r->vid, META_ID_LEN);

out:
    gw_object_free(o);
    meta_buf_dispose(&attrs);
    gw_lock_release(&lock);
    return ret;
}
