/* gw_admin_body.c — the admin API's JSON bodies (gw_admin_body.h), with jansson. */
#include "gateway/gw_admin_body.h"
#include <errno.h>
#include <string.h>

static json_t *load(h2o_iovec_t body)
{
    json_error_t jerr;
    return body.base != NULL ? json_loadb(body.base, body.len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
}

int gw_admin_body_user(h2o_iovec_t body, json_t **doc, const char **user, const char **secret)
{
    json_t *d = load(body);
    size_t n;

    *doc = NULL;
    if (d == NULL || json_unpack(d, "{s:s, s:s%}", "user", user, "secretKey", secret, &n) != 0 ||
        n < GW_ADMIN_SECRET_MIN || n > GW_ADMIN_SECRET_MAX) {
        json_decref(d);
        return -EINVAL;
    }
    *doc = d;
    return 0;
}

int gw_admin_body_quota(h2o_iovec_t body, uint64_t *bytes)
{
    json_t *d = load(body);
    json_int_t v = 0;
    int ret = d != NULL && json_unpack(d, "{s:I}", "bytes", &v) == 0 && v > 0 ? 0 : -EINVAL;

    json_decref(d);
    if (ret == 0)
        *bytes = (uint64_t)v;
    return ret;
}

int gw_admin_body_drive(h2o_iovec_t body, int remove, json_t **doc, const char **node, const char **drive,
                        const char **spare)
{
    json_t *d = load(body);

    *doc = NULL;
    *spare = NULL;
    if (d == NULL ||
        (remove ? json_unpack(d, "{s:s, s:s}", "node", node, "drive", drive)
                : json_unpack(d, "{s:s, s:s, s:s}", "node", node, "drive", drive, "spare", spare)) != 0 ||
        (*spare != NULL && (*spare)[0] != '/')) {
        json_decref(d);
        return -EINVAL;
    }
    *doc = d;
    return 0;
}
