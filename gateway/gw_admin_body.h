/* gw_admin_body.h — the JSON bodies the admin API reads (gw_admin.c, gw_admin_ops.c), parsed
 * apart from the calls so that one fuzz target (tests/fuzz/fuzz_admin_json.c) reaches them all:
 *
 *   PUT  /_admin/v1/users/<access-key>               {"user": NAME, "secretKey": 8..128 characters}
 *   PUT  /_admin/v1/quota/bucket|user/<name>         {"bytes": N > 0}
 *   POST /_admin/v1/drives/drain                     {"node": N, "drive": D, "spare": "/absolute"}
 *   POST /_admin/v1/drives/remove                    {"node": N, "drive": D}
 *
 * Each is one JSON object (duplicate names refused, NUL in strings refused) with the members
 * named, of the types named; other members are ignored, as before. Strings are borrowed from the
 * parsed document, which the caller releases with json_decref.
 */
#ifndef YC_GW_ADMIN_BODY_H
#define YC_GW_ADMIN_BODY_H
#include <h2o.h>
#include <jansson.h>
#include <stdint.h>

#define GW_ADMIN_SECRET_MIN 8
#define GW_ADMIN_SECRET_MAX 128

/* {"user", "secretKey"}: 0 with *doc, *user and *secret (8..128 bytes), or -EINVAL (*doc NULL). */
int gw_admin_body_user(h2o_iovec_t body, json_t **doc, const char **user, const char **secret);

/* {"bytes"}: 0 with *bytes > 0, or -EINVAL. */
int gw_admin_body_quota(h2o_iovec_t body, uint64_t *bytes);

/* {"node", "drive"} and, unless remove, "spare" (an absolute path; NULL when remove): 0 with *doc
 * and the strings, or -EINVAL (*doc NULL). */
int gw_admin_body_drive(h2o_iovec_t body, int remove, json_t **doc, const char **node, const char **drive,
                        const char **spare);

#endif
