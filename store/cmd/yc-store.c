/* yc-store — serves the drives of one disk node to gateways.
 *
 *   YC_CLUSTER_SECRET=... yc-store --listen ADDR:PORT --drive NAME=DIR [--drive NAME=DIR ...]
 *                                  [--loops N] [--workers N] [--orphan-grace SECONDS]
 *                                  [--drive-reserve SIZE|auto]
 *
 * --drive-reserve is the free space each drive keeps (K/M/G suffixes; see store.h for "auto").
 *
 * The cluster secret comes from the environment, never the command line, where any local user
 * could read it in the process list.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "gateway/gw_log.h"
#include "gateway/gw_pool.h"
#include "store/server.h"

#define MAX_DRIVES 64

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

static int usage(void)
{
    fprintf(stderr, "usage: YC_CLUSTER_SECRET=... yc-store --listen ADDR:PORT --drive NAME=DIR [--drive NAME=DIR ...]"
                    " [--loops N] [--workers N] [--orphan-grace SECONDS] [--drive-reserve SIZE|auto]\n");
    return 2;
}

/* "auto" (0) or a byte count with an optional K, M or G suffix (powers of 1024). */
static int parse_reserve(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    uint64_t mult = 1;

    if (strcmp(s, "auto") == 0) {
        *out = 0;
        return 0;
    }
    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (*end == 'K' || *end == 'k')
        mult = 1ULL << 10, end++;
    else if (*end == 'M' || *end == 'm')
        mult = 1ULL << 20, end++;
    else if (*end == 'G' || *end == 'g')
        mult = 1ULL << 30, end++;
    if (errno != 0 || *end != '\0' || v > UINT64_MAX / mult)
        return -1;
    *out = v * mult;
    return 0;
}

int main(int argc, char **argv)
{
    static char host[64];
    const char *names[MAX_DRIVES], *dirs[MAX_DRIVES];
    store_server_config_t cfg = {.listen_host = "127.0.0.1", .listen_port = 7480};
    size_t workers = 32;
    gw_pool_t *pool;
    store_server_t *srv;
    int ret;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (val == NULL)
            return usage();
        i++;
        if (strcmp(arg, "--listen") == 0) {
            const char *colon = strrchr(val, ':');
            long port = colon != NULL ? strtol(colon + 1, NULL, 10) : 0;
            if (colon == NULL || (size_t)(colon - val) >= sizeof(host) || port <= 0 || port > 65535)
                return usage();
            memcpy(host, val, (size_t)(colon - val));
            host[colon - val] = '\0';
            cfg.listen_host = host;
            cfg.listen_port = (uint16_t)port;
        } else if (strcmp(arg, "--drive") == 0) {
            char *eq = strchr(val, '=');
            if (eq == NULL || cfg.ndrives == MAX_DRIVES)
                return usage();
            *eq = '\0'; /* argv is ours to cut */
            names[cfg.ndrives] = val;
            dirs[cfg.ndrives++] = eq + 1;
        } else if (strcmp(arg, "--loops") == 0) {
            cfg.loops = (size_t)strtoul(val, NULL, 10);
        } else if (strcmp(arg, "--workers") == 0) {
            workers = (size_t)strtoul(val, NULL, 10);
        } else if (strcmp(arg, "--orphan-grace") == 0) {
            cfg.orphan_grace_s = strtoull(val, NULL, 10);
        } else if (strcmp(arg, "--drive-reserve") == 0) {
            if (parse_reserve(val, &cfg.drive_reserve) != 0)
                return usage();
        } else {
            return usage();
        }
    }
    if (cfg.ndrives == 0 || workers == 0)
        return usage();
    if ((cfg.secret = getenv("YC_CLUSTER_SECRET")) == NULL || cfg.secret[0] == '\0') {
        gw_log(GW_LOG_ERROR, "event=no_cluster_secret hint=set_YC_CLUSTER_SECRET");
        return 1;
    }
    cfg.drive_names = names;
    cfg.drive_dirs = dirs;
    if ((ret = gw_pool_new(workers, &pool)) != 0) {
        gw_log(GW_LOG_ERROR, "event=pool_failed err=%d", ret);
        return 1;
    }
    cfg.pool = pool;
    if ((ret = store_server_start(&cfg, &srv)) != 0)
        return 1;

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!got_signal)
        pause();
    gw_log(GW_LOG_INFO, "event=stopping signal=%d", (int)got_signal);
    /* no new work, then the workers finish what they run before the drives close under them */
    store_server_stop(srv);
    gw_pool_free(pool);
    store_server_free(srv);
    return 0;
}
