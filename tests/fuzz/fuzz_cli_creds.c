/* fuzz_cli_creds — yc-admin's YAML config file parser (gw_cli_creds.h) on arbitrary documents. */
#include "gateway/gw_cli_creds.h"
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gw_cli_creds_t c;
    char err[256] = "";
    memset(&c, 0, sizeof(c));
    if (gw_cli_creds_parse_file((const char *)data, size, &c, err, sizeof(err)) == 0) {
        /* every value that parsed fits its field, terminated */
        if (strnlen(c.endpoint, sizeof(c.endpoint)) == sizeof(c.endpoint) ||
            strnlen(c.region, sizeof(c.region)) == sizeof(c.region) ||
            strnlen(c.access_key, sizeof(c.access_key)) == sizeof(c.access_key) ||
            strnlen(c.secret_key, sizeof(c.secret_key)) == sizeof(c.secret_key))
            __builtin_trap();
    } else if (strlen(err) == 0) {
        __builtin_trap(); /* every failure says why */
    }
    return 0;
}
