/* gw_bucket_record.c — bucket records on the drives (see gw_bucket_record.h). */
#include "gateway/gw_bucket_record.h"
#include "gateway/gw_object.h"
#include "gateway/gw_replica.h"
#include <stdio.h>
#include <stdlib.h>

/* Of two states of one bucket record, is a the one written last? An undecodable state loses. */
static int newer(const void *a, size_t alen, const void *b, size_t blen)
{
    meta_bucket_t ra, rb;
    if (meta_bucket_decode(a, alen, &ra) != 0)
        return 0;
    if (meta_bucket_decode(b, blen, &rb) != 0)
        return 1;
    return ra.updated_ns > rb.updated_ns;
}

int gw_bucket_record_read(gw_cluster_t *c, meta_bytes_t name, void **raw, meta_bucket_t *out)
{
    meta_key_t key;
    size_t len;
    int ret;

    *raw = NULL;
    if (name.len > META_BUCKET_MAX || meta_key_bucket(name, &key) != 0)
        return GW_ENOENT;
    if ((ret = gw_replica_get_newest(c, &key, newer, raw, &len)) != 0)
        return ret;
    if (meta_bucket_decode(*raw, len, out) != 0) {
        free(*raw);
        *raw = NULL;
        return GW_EIO;
    }
    return 0;
}

int gw_bucket_record_write(gw_cluster_t *c, const meta_bucket_t *b)
{
    meta_buf_t buf = {0};
    meta_key_t key;
    int ret;

    if (meta_key_bucket(b->name, &key) != 0 || meta_bucket_encode(b, &buf) != 0)
        ret = GW_EINVAL;
    else
        ret = gw_replica_put(c, &key, buf.base, buf.len);
    meta_buf_dispose(&buf);
    return ret;
}

meta_bytes_t gw_bucket_lock_name(meta_bytes_t name, char *buf)
{
    int n = snprintf(buf, META_BUCKET_MAX + 8, "bucket/%.*s", (int)name.len, name.base);
    return (meta_bytes_t){buf, n < 0 ? 0 : (size_t)n};
}
