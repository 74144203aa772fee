/* fuzz_admin_json.c — the admin API's JSON bodies (gateway/gw_admin_body.c): a user's key, a
 * quota, a drive drain or removal, on arbitrary bytes.
 *
 * Input: one selector byte (0 user, 1 quota, 2 drain, 3 remove), then the body. What parses must
 * give back what the API promises its handlers: a secret of 8..128 bytes, a quota above 0, an
 * absolute spare folder (none for a removal), NUL-free strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/gw_admin_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char *buf = malloc(size - 1 ? size - 1 : 1); /* its own size: a read past the body is caught */
    memcpy(buf, data + 1, size - 1);
    h2o_iovec_t body = h2o_iovec_init(buf, size - 1);
    json_t *doc = NULL;
    const char *a = NULL, *b = NULL, *c = NULL;
    uint64_t bytes = 0;

    switch (data[0] & 3) {
    case 0:
        if (gw_admin_body_user(body, &doc, &a, &b) == 0) {
            size_t n = strlen(b);
            if (doc == NULL || a == NULL || n < GW_ADMIN_SECRET_MIN || n > GW_ADMIN_SECRET_MAX)
                abort();
        } else if (doc != NULL) {
            abort();
        }
        break;
    case 1:
        if (gw_admin_body_quota(body, &bytes) == 0 && (bytes == 0 || bytes > (uint64_t)INT64_MAX))
            abort();
        break;
    default: {
        int remove = (data[0] & 3) == 3;
        if (gw_admin_body_drive(body, remove, &doc, &a, &b, &c) == 0) {
            if (doc == NULL || a == NULL || b == NULL || (remove ? c != NULL : c == NULL || c[0] != '/'))
                abort();
        } else if (doc != NULL) {
            abort();
        }
    }
    }
    json_decref(doc);
    free(buf);
    return 0;
}
