/* gw_origin.c — the origin attribute of completed multipart objects (see gw_origin.h). */
#include "gateway/gw_origin.h"
#include "common/bytes.h"
#include <string.h>

#define TIME_LEN 8

int gw_origin_put(meta_bytes_t attrs, const uint8_t upload_id[META_ID_LEN], int64_t initiated_ns, meta_buf_t *out)
{
    uint8_t value[META_ID_LEN + TIME_LEN];

    memcpy(value, upload_id, META_ID_LEN);
    yc_put_be64(value + META_ID_LEN, (uint64_t)initiated_ns);
    meta_bytes_t v = {(const char *)value, sizeof(value)};
    return meta_attr_put(attrs, META_ATTR_UPLOAD_ID, &v, out);
}

int gw_origin_get(const meta_object_t *rec, uint8_t upload_id[META_ID_LEN], int64_t *initiated_ns)
{
    meta_bytes_t v;
    int ret = meta_attr_get(rec->attrs, META_ATTR_UPLOAD_ID, &v);

    if (ret != 1)
        return ret == 0 ? 0 : -1;
    if (v.len != META_ID_LEN && v.len != META_ID_LEN + TIME_LEN)
        return -1;
    if (upload_id != NULL)
        memcpy(upload_id, v.base, META_ID_LEN);
    if (initiated_ns != NULL) /* a record written before the time was kept: none */
        *initiated_ns = v.len == META_ID_LEN ? 0 : (int64_t)yc_get_be64((const uint8_t *)v.base + META_ID_LEN);
    return 1;
}

int64_t gw_last_modified_ns(const meta_object_t *rec)
{
    int64_t initiated = 0;

    if ((rec->flags & META_OBJ_DELETE_MARKER) != 0 || gw_origin_get(rec, NULL, &initiated) != 1 || initiated <= 0)
        return rec->mtime_ns;
    return initiated;
}
