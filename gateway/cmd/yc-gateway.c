/* yc-gateway — the S3 gateway. Defaults, then the config file, then the command line, then the
 * credentials from the environment; then it runs the server until SIGINT/SIGTERM.
 *
 * Every setting of the file is also an option (--name VALUE or --name=VALUE, dashes or
 * underscores): the command line is turned into file lines and goes through the same parser,
 * so both accept exactly the same names and values. --help prints them all with their defaults
 * (gw_config_usage). Exit status: 0 after a signal or --help, 2 for a wrong invocation or
 * setting with one line saying which, 1 when the server cannot start.
 */
#include "common/log.h"
#include "gateway/gw_server.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Applies --name VALUE as the file line "name: 'VALUE'" (single quotes: no escapes in YAML). */
static int apply_option(gw_config_t *cfg, const char *name, size_t nlen, const char *value, char *err, size_t errlen)
{
    char line[8192];
    size_t n = 0;

    if (nlen == 0 || nlen > 63 || strchr(value, '\n') != NULL) {
        snprintf(err, errlen, "bad option --%.*s", (int)nlen, name);
        return -1;
    }
    for (size_t i = 0; i < nlen; i++)
        line[n++] = name[i] == '-' ? '_' : name[i];
    line[n++] = ':';
    line[n++] = ' ';
    line[n++] = '\'';
    for (const char *p = value; *p != '\0'; p++) {
        if (n + 4 >= sizeof(line)) {
            snprintf(err, errlen, "--%.*s: the value is too long", (int)nlen, name);
            return -1;
        }
        if (*p == '\'')
            line[n++] = '\'';
        line[n++] = *p;
    }
    line[n++] = '\'';
    line[n++] = '\n';
    if (gw_config_parse(cfg, line, n, err, errlen) == 0)
        return 0;
    char msg[512];
    snprintf(msg, sizeof(msg), "%s", strncmp(err, "line 1: ", 8) == 0 ? err + 8 : err);
    if (strncmp(msg, "unknown setting", 15) == 0)
        snprintf(err, errlen, "unknown option '--%.*s' (yc-gateway --help lists the options)", (int)nlen, name);
    else
        snprintf(err, errlen, "--%.*s: %.400s", (int)nlen, name, msg);
    return -1;
}

int main(int argc, char **argv)
{
    gw_config_t cfg;
    gw_server_t *srv;
    char err[512];
    int ret;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            gw_config_usage(stdout);
            return 0;
        }
    }
    gw_config_defaults(&cfg);
    /* the file first, wherever it is given: the command line overrides it */
    for (int i = 1; i < argc; i++) {
        const char *file = NULL;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            file = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            file = argv[i] + 9;
        if (file != NULL && gw_config_load(&cfg, file, err, sizeof(err)) != 0) {
            fprintf(stderr, "yc-gateway: --config %s\n", err);
            return 2;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *eq, *value;
        size_t nlen;

        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "yc-gateway: unexpected argument '%s' (settings are --name VALUE)\n", a);
            return 2;
        }
        if (strcmp(a, "--verbose") == 0) {
            yc_log_level = YC_LOG_DEBUG;
            continue;
        }
        eq = strchr(a, '=');
        nlen = eq != NULL ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (eq != NULL) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            /* an unknown name is the news, not the missing value */
            gw_config_t scratch;
            gw_config_defaults(&scratch);
            if (apply_option(&scratch, a + 2, nlen, "", err, sizeof(err)) != 0 && strstr(err, "unknown option"))
                fprintf(stderr, "yc-gateway: %s\n", err);
            else
                fprintf(stderr, "yc-gateway: %s needs a value (yc-gateway --help)\n", a);
            gw_config_dispose(&scratch);
            return 2;
        }
        if (nlen == 6 && strncmp(a + 2, "config", 6) == 0)
            continue; /* loaded above */
        if (apply_option(&cfg, a + 2, nlen, value, err, sizeof(err)) != 0) {
            fprintf(stderr, "yc-gateway: %s\n", err);
            return 2;
        }
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
    if ((ret = gw_server_start(&cfg, &srv)) != 0) {
        /* A start can fail after background threads run (prober, IAM reload, healer): returning
         * from main would run the libraries' destructors (RocksDB's among them) under them. */
        fflush(NULL);
        _exit(1);
    }
    gw_server_wait(srv);
    gw_server_free(srv);
    gw_config_dispose(&cfg);
    return 0;
}
