/* yc-store — serves the drives of one disk node to gateways.
 *
 *   YC_CLUSTER_SECRET=... yc-store --listen ADDR:PORT --drive NAME=DIR [--drive NAME=DIR ...]
 *
 * The cluster secret comes from the environment, never the command line, where any local user
 * could read it in the process list. Options are described once, in the table below, which
 * both the parser and --help read, so that the help cannot miss an option or its default.
 *
 * Exit status: 0 after SIGINT/SIGTERM (or --help); 2 for a wrong invocation (unknown option,
 * bad value, no drive, no secret), with one line saying which; 1 when the daemon cannot start
 * (a drive cannot be prepared, the port is taken), with one line naming the drive, its path
 * and the cause, or the address.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common/cli.h"
#include "common/errors.h"
#include "common/http.h"
#include "common/log.h"
#include "common/pool.h"
#include "store/server.h"

#define MAX_DRIVES 64

typedef struct {
    char host[64];
    store_server_config_t cfg;
    const char *names[MAX_DRIVES], *dirs[MAX_DRIVES];
    size_t workers;
} args_t;

typedef int (*option_fn)(args_t *a, char *value, char *err, size_t errlen);

typedef struct {
    const char *name;  /* without the dashes */
    const char *value; /* what the value looks like; NULL: a flag */
    const char *dflt;  /* the default, as shown by --help */
    const char *help;
    option_fn set;
} option_t;

static int parse_count(const char *value, unsigned long long min, unsigned long long max, unsigned long long *out)
{
    char *end;
    if (value[0] < '0' || value[0] > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(value, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int set_listen(args_t *a, char *value, char *err, size_t errlen)
{
    const char *colon = strrchr(value, ':');
    unsigned long long port;
    if (colon == NULL || colon == value || (size_t)(colon - value) >= sizeof(a->host) ||
        parse_count(colon + 1, 1, 65535, &port) != 0) {
        snprintf(err, errlen, "--listen: expects ADDRESS:PORT (an IPv4 address, a port 1-65535), not '%s'", value);
        return -1;
    }
    memcpy(a->host, value, (size_t)(colon - value));
    a->host[colon - value] = '\0';
    a->cfg.listen_host = a->host;
    a->cfg.listen_port = (uint16_t)port;
    return 0;
}

static int set_drive(args_t *a, char *value, char *err, size_t errlen)
{
    char *eq = strchr(value, '=');
    if (eq == NULL || eq == value || eq[1] == '\0') {
        snprintf(err, errlen, "--drive: expects NAME=FOLDER, not '%s'", value);
        return -1;
    }
    if (a->cfg.ndrives == MAX_DRIVES) {
        snprintf(err, errlen, "--drive: at most %d drives per daemon", MAX_DRIVES);
        return -1;
    }
    *eq = '\0'; /* argv is ours to cut */
    a->names[a->cfg.ndrives] = value;
    a->dirs[a->cfg.ndrives++] = eq + 1;
    return 0;
}

static int set_loops(args_t *a, char *value, char *err, size_t errlen)
{
    unsigned long long v;
    if (parse_count(value, 1, 256, &v) != 0) {
        snprintf(err, errlen, "--loops: expects a number from 1 to 256, not '%s'", value);
        return -1;
    }
    a->cfg.loops = (size_t)v;
    return 0;
}

static int set_workers(args_t *a, char *value, char *err, size_t errlen)
{
    unsigned long long v;
    if (parse_count(value, 1, 4096, &v) != 0) {
        snprintf(err, errlen, "--workers: expects a number from 1 to 4096, not '%s'", value);
        return -1;
    }
    a->workers = (size_t)v;
    return 0;
}

static int set_orphan_grace(args_t *a, char *value, char *err, size_t errlen)
{
    unsigned long long v;
    if (parse_count(value, 1, 1ULL << 32, &v) != 0) {
        snprintf(err, errlen, "--orphan-grace: expects seconds (1 or more), not '%s'", value);
        return -1;
    }
    a->cfg.orphan_grace_s = v;
    return 0;
}

/* "auto" (0) or a byte count with an optional K, M or G suffix (powers of 1024). */
static int parse_reserve(const char *s, uint64_t *out)
{
    if (strcmp(s, "auto") == 0) {
        *out = 0;
        return 0;
    }
    return yc_parse_size(s, UINT64_MAX, out);
}

static int set_drive_reserve(args_t *a, char *value, char *err, size_t errlen)
{
    if (parse_reserve(value, &a->cfg.drive_reserve) != 0) {
        snprintf(err, errlen, "--drive-reserve: expects auto or a size such as 512M or 2G, not '%s'", value);
        return -1;
    }
    return 0;
}

/* Seconds (min to a day) into milliseconds. */
static int set_seconds(const char *name, const char *value, unsigned min, uint32_t *out, char *err, size_t errlen)
{
    unsigned long long v;
    if (parse_count(value, min, 86400, &v) != 0) {
        snprintf(err, errlen, "--%s: expects seconds from %u to 86400, not '%s'", name, min, value);
        return -1;
    }
    *out = (uint32_t)(v * 1000);
    return 0;
}

static int set_head_timeout(args_t *a, char *value, char *err, size_t errlen)
{
    return set_seconds("head-timeout", value, 1, &a->cfg.head_timeout_ms, err, errlen);
}

static int set_body_timeout(args_t *a, char *value, char *err, size_t errlen)
{
    return set_seconds("body-timeout", value, 1, &a->cfg.body_timeout_ms, err, errlen);
}

static int set_send_timeout(args_t *a, char *value, char *err, size_t errlen)
{
    return set_seconds("send-timeout", value, 1, &a->cfg.send_timeout_ms, err, errlen);
}

static int set_keepalive_timeout(args_t *a, char *value, char *err, size_t errlen)
{
    /* a gateway keeps an idle connection 15 s: the daemon must not close it first */
    return set_seconds("keepalive-timeout", value, 16, &a->cfg.keepalive_ms, err, errlen);
}

static int set_max_connections(args_t *a, char *value, char *err, size_t errlen)
{
    unsigned long long v;
    if (parse_count(value, 16, 10000000, &v) != 0) {
        snprintf(err, errlen, "--max-connections: expects a number from 16 to 10000000, not '%s'", value);
        return -1;
    }
    a->cfg.max_connections = (size_t)v;
    return 0;
}

static int set_max_small_body(args_t *a, char *value, char *err, size_t errlen)
{
    uint64_t v;
    if (yc_parse_size(value, 64ULL * 1024 * 1024, &v) != 0 || v < 64 * 1024) {
        snprintf(err, errlen, "--max-small-body: expects a size from 64K to 64M, not '%s'", value);
        return -1;
    }
    a->cfg.small_body_max = (size_t)v;
    return 0;
}

static int set_stream_buffer(args_t *a, char *value, char *err, size_t errlen)
{
    uint64_t v;
    if (yc_parse_size(value, 64ULL * 1024 * 1024, &v) != 0 || v < 4096) {
        snprintf(err, errlen, "--stream-buffer: expects a size from 4K to 64M, not '%s'", value);
        return -1;
    }
    a->cfg.stream_buffer = (size_t)v;
    return 0;
}

static int set_tls_cert(args_t *a, char *value, char *err, size_t errlen)
{
    a->cfg.tls_cert = value;
    return 0;
}

static int set_tls_key(args_t *a, char *value, char *err, size_t errlen)
{
    a->cfg.tls_key = value;
    return 0;
}

static int set_tls_ca(args_t *a, char *value, char *err, size_t errlen)
{
    a->cfg.tls_ca = value;
    return 0;
}

static int set_verbose(args_t *a, char *value, char *err, size_t errlen)
{
    yc_log_level = YC_LOG_DEBUG;
    return 0;
}

static const option_t options[] = {
    {"listen", "ADDR:PORT", "127.0.0.1:9200", "IPv4 address and port to serve the gateways on", set_listen},
    {"drive", "NAME=FOLDER", "none, at least one is needed",
     "a drive to serve, named NAME in the gateways' drives_list (HOST:PORT/NAME); repeat for each drive. "
     "FOLDER is made when missing (its parent must exist) and must be empty, or a yuncang drive",
     set_drive},
    {"loops", "N", "one per core", "event-loop threads", set_loops},
    {"workers", "N", "32", "threads that run the drive calls (disk, fsync, RocksDB)", set_workers},
    {"orphan-grace", "SECONDS", "3600", "shard files that no record refers to are removed once this old",
     set_orphan_grace},
    {"drive-reserve", "SIZE|auto", "auto",
     "free space each drive keeps; writes that need it are refused (auto: 1% of the drive's filesystem, at "
     "least 256M, at most a quarter)",
     set_drive_reserve},
    {"head-timeout", "SECONDS", "10", "a request's head (request line and headers) must arrive within this",
     set_head_timeout},
    {"body-timeout", "SECONDS", "30",
     "a request body that moves no byte for this long is cut (a slow but moving one never is)", set_body_timeout},
    {"send-timeout", "SECONDS", "30", "an answer the gateway takes no byte of for this long is cut", set_send_timeout},
    {"keepalive-timeout", "SECONDS", "30",
     "idle keep-alive connections are closed after this (at least 16: gateways reuse theirs for 15)",
     set_keepalive_timeout},
    {"max-connections", "N", "from the fd limit", "connections each event loop holds at once; more are closed at once",
     set_max_connections},
    {"max-small-body", "SIZE", "8M", "largest body read whole (records, locks, identity); larger is refused (413)",
     set_max_small_body},
    {"stream-buffer", "SIZE", "256K",
     "each of the two buffers a shard write or read streams through (memory per such request: twice this)",
     set_stream_buffer},
    {"tls-cert", "FILE", "none: cleartext",
     "internode TLS: this node's certificate (PEM, from yc-admin cluster-ca issue); with --tls-key and --tls-ca every "
     "connection is TLS and must present a certificate of the cluster CA",
     set_tls_cert},
    {"tls-key", "FILE", "none", "internode TLS: the private key of --tls-cert (PEM)", set_tls_key},
    {"tls-ca", "FILE", "none", "internode TLS: the cluster CA's certificate (PEM; a bundle while the CA is rotated)",
     set_tls_ca},
    {"verbose", NULL, "off", "log debug lines too", set_verbose},
    {"help", NULL, NULL, "print this help and exit", NULL},
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static void print_help(FILE *out)
{
    fprintf(out, "usage: YC_CLUSTER_SECRET=... yc-store --drive NAME=FOLDER [--drive NAME=FOLDER ...] [OPTION ...]\n"
                 "\n"
                 "Serves the drives of this disk node to yuncang gateways.\n"
                 "\n"
                 "options (--name VALUE or --name=VALUE):\n");
    for (size_t i = 0; i < NOPTIONS; i++) {
        char left[64], dflt[96];
        snprintf(left, sizeof(left), "--%s%s%s", options[i].name, options[i].value ? " " : "",
                 options[i].value ? options[i].value : "");
        snprintf(dflt, sizeof(dflt), "[default: %s]", options[i].dflt != NULL ? options[i].dflt : "");
        yc_usage_line(out, 24, left, options[i].help, options[i].dflt != NULL ? dflt : NULL);
    }
    fprintf(out, "\nenvironment:\n");
    yc_usage_line(out, 24, "YC_CLUSTER_SECRET", "the cluster secret, the same on every daemon and gateway",
                  "[required]");
    fprintf(out, "\nexit status: 0 stopped by SIGINT or SIGTERM, 1 could not start (one line says why),\n"
                 "2 bad invocation (one line says which)\n");
}

/* 0, 1 for --help, -1 with err set. */
static int parse_args(int argc, char **argv, args_t *a, char *err, size_t errlen)
{
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i], *value = NULL, *eq;
        const option_t *opt = NULL;
        size_t nlen;

        if (strncmp(arg, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument '%s' (options start with --)", arg);
            return -1;
        }
        eq = strchr(arg, '=');
        nlen = eq != NULL ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        for (size_t k = 0; k < NOPTIONS; k++)
            if (strlen(options[k].name) == nlen && strncmp(options[k].name, arg + 2, nlen) == 0)
                opt = &options[k];
        if (opt == NULL) {
            snprintf(err, errlen, "unknown option '%.*s' (yc-store --help lists the options)", (int)(nlen + 2), arg);
            return -1;
        }
        if (opt->set == NULL)
            return 1; /* --help */
        if (opt->value != NULL) {
            if (eq != NULL)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else {
                snprintf(err, errlen, "--%s needs a value: --%s %s", opt->name, opt->name, opt->value);
                return -1;
            }
        } else if (eq != NULL) {
            snprintf(err, errlen, "--%s takes no value", opt->name);
            return -1;
        }
        if (opt->set(a, value, err, errlen) != 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static args_t a = {.cfg = {.listen_host = "127.0.0.1", .listen_port = 9200}, .workers = 32};
    char err[1024];
    yc_pool_t *pool;
    store_server_t *srv;
    int ret;

    if ((ret = parse_args(argc, argv, &a, err, sizeof(err))) != 0) {
        if (ret > 0) {
            print_help(stdout);
            return 0;
        }
        fprintf(stderr, "yc-store: %s\n", err);
        return 2;
    }
    if (a.cfg.ndrives == 0) {
        fprintf(stderr, "yc-store: no drive to serve: give --drive NAME=FOLDER (yc-store --help)\n");
        return 2;
    }
    if ((a.cfg.secret = getenv("YC_CLUSTER_SECRET")) == NULL || a.cfg.secret[0] == '\0') {
        fprintf(stderr, "yc-store: no cluster secret: set YC_CLUSTER_SECRET, the same on every daemon and gateway\n");
        return 2;
    }
    /* SIGINT and SIGTERM wait, blocked in every thread (each inherits this mask), for the sigwait
     * below: a flag set by a handler and checked before pause() loses a signal that lands between
     * the check and the pause, and the daemon then never stops. One sent while the drives open
     * is kept until then. */
    sigset_t stop_sigs;
    sigemptyset(&stop_sigs);
    sigaddset(&stop_sigs, SIGINT);
    sigaddset(&stop_sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL);
    uint64_t nofile = 0;
    yc_http_raise_nofile(&nofile); /* before any thread opens files: connections are bounded by it */
    a.cfg.drive_names = a.names;
    a.cfg.drive_dirs = a.dirs;
    if ((ret = yc_pool_new(a.workers, &pool)) != 0) {
        fprintf(stderr, "yc-store: cannot start %zu worker threads: %s\n", a.workers, yc_strerror(ret));
        return 1;
    }
    a.cfg.pool = pool;
    if ((ret = store_server_start(&a.cfg, &srv, err, sizeof(err))) != 0) {
        fprintf(stderr, "yc-store: %s\n", err);
        return 1;
    }

    int sig = 0;
    while (sigwait(&stop_sigs, &sig) != 0)
        ;
    yc_log(YC_LOG_INFO, "event=stopping signal=%d", sig);
    /* no new work, then the workers finish what they run before the drives close under them */
    store_server_stop(srv);
    yc_pool_free(pool);
    store_server_free(srv);
    return 0;
}
