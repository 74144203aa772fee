/* fuzz_config — the gateway's YAML configuration parser on arbitrary documents. */
#include "gateway/gw_config.h"
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gw_config_t cfg;
    char err[256];
    gw_config_defaults(&cfg);
    if (gw_config_parse(&cfg, (const char *)data, size, err, sizeof(err)) == 0) {
        /* whatever parsed must be a configuration the checks can judge without crashing */
        gw_config_check(&cfg, err, sizeof(err));
        if (cfg.listen_host == NULL || cfg.data_dir == NULL || cfg.region == NULL)
            __builtin_trap();
    } else if (strlen(err) == 0) {
        __builtin_trap(); /* every failure says why */
    }
    gw_config_dispose(&cfg);
    return 0;
}
