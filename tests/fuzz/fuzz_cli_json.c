/* fuzz_cli_json — yc-admin's XML-to-JSON conversion of answers (gw_cli_json.h) on arbitrary bytes. */
#include "gateway/gw_cli_json.h"
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = gw_cli_xml_to_json((const char *)data, size);
    if (doc != NULL) {
        /* what converted has the root element as its one key, and prints */
        char *text = json_dumps(doc, JSON_COMPACT);
        if (json_object_size(doc) != 1 || text == NULL)
            __builtin_trap();
        free(text);
        json_decref(doc);
    }
    return 0;
}
