/* yc-gateway — the S3 gateway. Parses arguments and environment, then runs the server. */
#include "gateway/gw_log.h"
#include "gateway/gw_server.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    fprintf(stderr, "usage: yc-gateway [--listen ADDR:PORT] [--data DIR] [--drives N] [--ec K+M]\n"
                    "                  [--loops N] [--workers N] [--region NAME] [--verbose]\n"
                    "credentials: YC_ROOT_USER and YC_ROOT_PASSWORD (required)\n"
                    "defaults: --listen 127.0.0.1:9000 --data ./var --drives 6 --ec 4+2\n");
}

static int parse_listen(const char *arg, gw_config_t *cfg)
{
    static char host[64];
    const char *colon = strrchr(arg, ':');
    if (colon == NULL || (size_t)(colon - arg) >= sizeof(host))
        return -1;
    memcpy(host, arg, (size_t)(colon - arg));
    host[colon - arg] = '\0';
    long port = strtol(colon + 1, NULL, 10);
    if (port <= 0 || port > 65535)
        return -1;
    cfg->listen_host = host[0] ? host : "0.0.0.0";
    cfg->listen_port = (uint16_t)port;
    return 0;
}

int main(int argc, char **argv)
{
    gw_config_t cfg;
    gw_server_t *srv;

    gw_config_defaults(&cfg);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--listen") == 0 && v && parse_listen(v, &cfg) == 0)
            i++;
        else if (strcmp(a, "--data") == 0 && v)
            cfg.data_dir = argv[++i];
        else if (strcmp(a, "--drives") == 0 && v)
            cfg.ndrives = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--ec") == 0 && v && sscanf(v, "%u+%u", &cfg.k, &cfg.m) == 2)
            i++;
        else if (strcmp(a, "--loops") == 0 && v)
            cfg.loops = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--workers") == 0 && v)
            cfg.workers = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(a, "--region") == 0 && v)
            cfg.region = argv[++i];
        else if (strcmp(a, "--verbose") == 0)
            gw_log_level = GW_LOG_DEBUG;
        else {
            usage();
            return 2;
        }
    }
    cfg.root_user = getenv("YC_ROOT_USER");
    cfg.root_password = getenv("YC_ROOT_PASSWORD");
    if (cfg.root_user == NULL || cfg.root_password == NULL || strlen(cfg.root_user) < 3 ||
        strlen(cfg.root_password) < 8) {
        fprintf(stderr, "yc-gateway: set YC_ROOT_USER (3+ characters) and YC_ROOT_PASSWORD (8+ characters)\n");
        return 2;
    }
    if (cfg.loops == 0 || cfg.workers == 0 || cfg.ndrives == 0) {
        usage();
        return 2;
    }
    if (gw_server_start(&cfg, &srv) != 0)
        return 1;
    gw_server_wait(srv);
    gw_server_free(srv);
    return 0;
}
