/* yc-gateway — the S3 gateway. Defaults, then the config file, then the command line, then the
 * credentials from the environment; then it runs the server until SIGINT/SIGTERM. */
#include "gateway/gw_log.h"
#include "gateway/gw_server.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    fprintf(stderr, "usage: yc-gateway [--config FILE] [--listen ADDR:PORT] [--data DIR] [--drives N] [--ec K+M]\n"
                    "                  [--loops N] [--workers N] [--region NAME] [--verbose]\n"
                    "credentials: YC_ROOT_USER and YC_ROOT_PASSWORD (or root_user/root_password in the file)\n"
                    "defaults: --listen 127.0.0.1:9000 --data ./var --drives 6 --ec 4+2 (see conf/yuncang.yaml)\n");
}

int main(int argc, char **argv)
{
    gw_config_t cfg;
    gw_server_t *srv;
    char err[256], line[512];
    int ret;

    gw_config_defaults(&cfg);
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && gw_config_load(&cfg, argv[i + 1], err, sizeof(err)) != 0) {
            fprintf(stderr, "yc-gateway: %s\n", err);
            return 2;
        }
    }
    /* every other option is a setting of the file, given on the command line */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--verbose") == 0) {
            gw_log_level = GW_LOG_DEBUG;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || i + 1 >= argc) {
            usage();
            return 2;
        }
        if (strcmp(a, "--config") != 0) {
            const char *name = strcmp(a, "--data") == 0 ? "data" : a + 2;
            char key[64];
            snprintf(key, sizeof(key), "%s", name);
            for (char *p = key; *p; p++)
                if (*p == '-')
                    *p = '_';
            snprintf(line, sizeof(line), "%s: \"%s\"\n", key, argv[i + 1]);
            if (strchr(argv[i + 1], '"') != NULL || gw_config_parse(&cfg, line, strlen(line), err, sizeof(err)) != 0) {
                fprintf(stderr, "yc-gateway: %s: %s\n", a, strchr(err, ':') ? strchr(err, ':') + 2 : err);
                return 2;
            }
        }
        i++;
    }
    if (getenv("YC_ROOT_USER") != NULL)
        cfg.root_user = getenv("YC_ROOT_USER");
    if (getenv("YC_ROOT_PASSWORD") != NULL)
        cfg.root_password = getenv("YC_ROOT_PASSWORD");
    if (getenv("YC_CLUSTER_SECRET") != NULL)
        cfg.cluster_secret = getenv("YC_CLUSTER_SECRET");
    if (gw_config_check(&cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "yc-gateway: %s\n", err);
        return 2;
    }
    if ((ret = gw_server_start(&cfg, &srv)) != 0)
        return 1;
    gw_server_wait(srv);
    gw_server_free(srv);
    gw_config_dispose(&cfg);
    return 0;
}
