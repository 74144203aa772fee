/* fuzz_upload_id.c — the uploadId query parameter (gateway/gw_upload.h's gw_upload_id_parse),
 * which names an upload's records on the drives.
 *
 * An id parses only from its one spelling: what parses formats back to exactly the bytes given
 * (32 lowercase hex digits).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/gw_upload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1), text[2 * META_ID_LEN + 1];
    uint8_t id[META_ID_LEN];
    memcpy(buf, data, size);
    if (gw_upload_id_parse(h2o_iovec_init(buf, size), id) == 0) {
        gw_upload_id_format(id, text);
        if (size != 2 * META_ID_LEN || memcmp(text, buf, size) != 0)
            abort();
    }
    free(buf);
    return 0;
}
