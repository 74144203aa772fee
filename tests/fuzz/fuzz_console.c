/* fuzz_console.c — the console's path and If-None-Match on arbitrary bytes.
 *
 * The input is the path, then optionally a newline and the If-None-Match value. A file is served
 * only for its own name under the prefix (or the folder, index.html); the redirect only for the
 * bare prefix; everything else is not found.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gateway/gw_console.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    size_t hlen = nl ? size - plen - 1 : 0;
    /* copies keep both out of the fuzzer's buffer, so reads past them are caught */
    char *path = malloc(plen ? plen : 1), *inm = malloc(hlen ? hlen : 1);
    memcpy(path, data, plen);
    if (nl)
        memcpy(inm, nl + 1, hlen);
    const gw_console_file_t *f;
    size_t n = sizeof(GW_CONSOLE_PREFIX) - 1;

    int status =
        gw_console_resolve(h2o_iovec_init(path, plen), nl ? h2o_iovec_init(inm, hlen) : h2o_iovec_init(NULL, 0), &f);
    switch (status) {
    case 200:
    case 304: {
        if (f == NULL || plen <= n || memcmp(path, GW_CONSOLE_PREFIX "/", n + 1) != 0)
            abort();
        size_t name_len = plen - n - 1;
        if (name_len == 0 ? strcmp(f->name, "index.html") != 0
                          : name_len != strlen(f->name) || memcmp(path + n + 1, f->name, name_len) != 0)
            abort();
        if (status == 304 && !nl)
            abort();
        break;
    }
    case 301:
        if (f != NULL || plen != n || memcmp(path, GW_CONSOLE_PREFIX, n) != 0)
            abort();
        break;
    case 404:
        if (f != NULL)
            abort();
        break;
    default:
        abort();
    }
    free(path);
    free(inm);
    return 0;
}
