/* gw_config.c — defaults and the YAML configuration file (libyaml's event parser). */
#include "gateway/gw_config.h"
#include "common/cli.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define CONFIG_MAX_BYTES (64 * 1024)

struct gw_config_strings {
    gw_config_strings_t *next;
    char s[];
};

void gw_config_defaults(gw_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->listen_host = "127.0.0.1";
    cfg->listen_port = 9000;
    cfg->data_dir = "./var";
    cfg->ndrives = 6;
    cfg->k = 4;
    cfg->m = 2;
    cfg->stripe_size = 1024 * 1024;
    cfg->inline_max = 128 * 1024;
    cfg->region = "us-east-1";
    cfg->loops = 2;
    cfg->workers = 64;
    /* Reads run on few threads: each wakeup of an idle thread costs more than a cached
     * RocksDB read, and a busy thread finds the next job without sleeping. */
    cfg->read_workers = 4;
    cfg->lane_threads = 16;
    /* a DeleteObjects of 1,000 keys waits for 1,000 synced record writes: 32 at once fill the
     * drives' group commits without taking more than half of the default 64 workers */
    cfg->delete_concurrency = 32;
    cfg->max_inflight = 4096;
    /* a quarter: one tenant alone leaves room for three others (gw_admit.h) */
    cfg->max_inflight_per_key = 1024;
    cfg->queue_max = 4096;
    /* longer than a small request takes when admitted, far below an SDK's timeout */
    cfg->queue_deadline_ms = 100;
    /* an unloaded loop's iterations take well under a millisecond: 5 ms behind is a loop that
     * can no longer keep a small request's latency (gw_admit.h, the door) */
    cfg->shed_lag_ms = 5;
    cfg->shed_connections = 256;
    /* off: a burst of large GETs queues its first stripe reads for tens of milliseconds as a
     * matter of course (64 x 64 MiB at once must pass with no error), which the bound would shed;
     * 2000 suits small objects (docs/operations.md) */
    cfg->adaptive_delay_us = 0;
    cfg->adaptive_min = 8;
    cfg->max_object_size = 5ULL * 1024 * 1024 * 1024;
    cfg->presign_max_expires = 604800; /* S3's 7 days */
    /* a shard's record follows it within moments; an hour leaves any doubt far behind */
    cfg->orphan_grace = 3600;
    /* the HTTP layer's defaults (common/http.h); AWS answers a head over 16 KiB 431 too */
    cfg->max_head_bytes = 16 * 1024;
    cfg->max_headers = 100;
    cfg->head_timeout = 10;
    cfg->body_timeout = 30;
    cfg->send_timeout = 30;
    cfg->keepalive_timeout = 60;
    cfg->max_connections = 0;
    /* 0: each drive computes its reserve from its filesystem (STORE_RESERVE_AUTO in store.h) */
    cfg->drive_reserve = 0;
    cfg->access_log = "stderr";
    cfg->status_listen = NULL;
    cfg->tls_cert = cfg->tls_key = NULL;
    cfg->http2 = 1;
    cfg->lifecycle_day_seconds = 86400;
    cfg->iam_refresh = 5;
    /* rules are due at midnights; an hour finds what fell due soon enough, and a pass costs a listing */
    cfg->lifecycle_interval = 3600;
    cfg->lifecycle_lease = 60;
    cfg->lifecycle_rate = 100;
    /* ten wrong signatures in a minute is no client's typo; five minutes costs a guesser dearly
     * and a mistaken user little */
    cfg->lockout_failures = 10;
    cfg->lockout_window = 60;
    cfg->lockout_seconds = 300;
    cfg->audit_dir = cfg->audit_key_file = cfg->audit_key_env = NULL;
    cfg->audit_checkpoint_records = 1000;
    cfg->audit_checkpoint_ms = 10000;
    cfg->audit_rotate_bytes = 64ULL * 1024 * 1024;
    cfg->audit_rotate_seconds = 86400;
    cfg->audit_retain_days = 180; /* the graded-protection rules' six months */
    cfg->audit_queue = 65536;
    cfg->logging_interval = 300; /* S3 delivers within some minutes too */
}

void gw_config_dispose(gw_config_t *cfg)
{
    while (cfg->strings != NULL) {
        gw_config_strings_t *next = cfg->strings->next;
        free(cfg->strings);
        cfg->strings = next;
    }
}

static const char *keep_string(gw_config_t *cfg, const char *s, size_t len)
{
    gw_config_strings_t *str = malloc(sizeof(*str) + len + 1);
    if (str == NULL)
        return NULL;
    memcpy(str->s, s, len);
    str->s[len] = '\0';
    str->next = cfg->strings;
    cfg->strings = str;
    return str->s;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int gw_config_set_listen(gw_config_t *cfg, const char *value)
{
    const char *colon = strrchr(value, ':');
    char *end;
    if (colon == NULL || colon == value)
        return -1;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || port == 0 || port > 65535)
        return -1;
    const char *host = keep_string(cfg, value, (size_t)(colon - value));
    if (host == NULL)
        return -1;
    cfg->listen_host = host;
    cfg->listen_port = (uint16_t)port;
    return 0;
}

/* Every setting but listen and ec (parsed by hand below): its name in the file (on the command
 * line with dashes for underscores), where it goes, its kind and range, and its help line. */
typedef struct {
    const char *name;
    size_t offset;
    int kind; /* 0 string, 1 size_t, 2 uint32_t, 3 uint64_t */
    uint64_t min, max;
    const char *help; /* for --help */
    const char *arg;  /* what the value looks like, for --help; NULL: VALUE */
} config_field_t;

static const config_field_t config_fields[] = {
    {"data", offsetof(gw_config_t, data_dir), 0, 0, 0,
     "the gateway's folder: its drives (drive1..N) unless drives_list is given", "FOLDER"},
    {"region", offsetof(gw_config_t, region), 0, 0, 0, "the region SigV4 signatures must name", "NAME"},
    {"drives_list", offsetof(gw_config_t, drives_list), 0, 0, 0,
     "the drives by name, separated by spaces or commas: FOLDER (in this process) or HOST:PORT/NAME (a yc-store "
     "drive); instead of drives",
     "LIST"},
    {"cluster_secret", offsetof(gw_config_t, cluster_secret), 0, 0, 0,
     "signs requests to yc-store daemons (better: YC_CLUSTER_SECRET)", "SECRET"},
    {"root_user", offsetof(gw_config_t, root_user), 0, 0, 0, "root access key (better: YC_ROOT_USER)", "KEY"},
    {"root_password", offsetof(gw_config_t, root_password), 0, 0, 0, "root secret key (better: YC_ROOT_PASSWORD)",
     "KEY"},
    {"drives", offsetof(gw_config_t, ndrives), 1, 1, 4096, "drives in the data folder, a multiple of k+m"},
    {"stripe_size", offsetof(gw_config_t, stripe_size), 2, 4096, 256 * 1024 * 1024, "data bytes per stripe", "BYTES"},
    {"inline_max", offsetof(gw_config_t, inline_max), 1, 0, 1024 * 1024,
     "objects up to this size are stored inside their metadata records", "BYTES"},
    {"loops", offsetof(gw_config_t, loops), 1, 1, 256, "event-loop threads (one per core)"},
    {"workers", offsetof(gw_config_t, workers), 1, 1, 4096, "request worker threads for writes"},
    {"read_workers", offsetof(gw_config_t, read_workers), 1, 1, 4096, "worker threads for GET, HEAD and LIST"},
    {"lane_threads", offsetof(gw_config_t, lane_threads), 1, 1, 256, "threads per drive"},
    {"delete_concurrency", offsetof(gw_config_t, delete_concurrency), 1, 1, 256,
     "keys of one DeleteObjects deleted at once, on request workers (1: one after the other)"},
    {"max_inflight", offsetof(gw_config_t, max_inflight), 1, 1, 10000000,
     "requests in flight; past it requests wait in the queue (queue_max, queue_deadline_ms)"},
    {"max_inflight_per_key", offsetof(gw_config_t, max_inflight_per_key), 1, 1, 10000000,
     "requests of one access key in flight (anonymous callers count as one key); past it they wait"},
    {"queue_max", offsetof(gw_config_t, queue_max), 1, 0, 1000000,
     "requests waiting for a slot, all keys together; past it 503 SlowDown at once"},
    {"queue_deadline_ms", offsetof(gw_config_t, queue_deadline_ms), 3, 1, 60000,
     "a request waiting this long for a slot is answered 503 SlowDown", "MS"},
    {"shed_lag_ms", offsetof(gw_config_t, shed_lag_ms), 3, 0, 60000,
     "once an event loop is this far behind, a share of new requests is answered 503 SlowDown from their head, "
     "before authentication (15 in 16 at twice the lag; 0: never)",
     "MS"},
    {"shed_connections", offsetof(gw_config_t, shed_connections), 1, 1, 10000000,
     "connections per event loop kept while it sheds; past them a shed request's connection is closed and new "
     "connections are answered 503 SlowDown at accept"},
    {"adaptive_delay_us", offsetof(gw_config_t, adaptive_delay_us), 3, 0, 60000000,
     "mean wait of a read for a worker the adaptive in-flight bound allows: past it the bound is cut, and the "
     "requests it keeps out wait at most this long (0: max_inflight alone; 2000 suits small objects)",
     "MICROSECONDS"},
    {"adaptive_min", offsetof(gw_config_t, adaptive_min), 1, 1, 10000000,
     "the lowest value of the adaptive in-flight bound"},
    {"max_object_size", offsetof(gw_config_t, max_object_size), 3, 1, 5ULL << 40,
     "largest single PUT, part or copy source accepted (S3: 5G)", "BYTES"},
    {"presign_max_expires", offsetof(gw_config_t, presign_max_expires), 3, 1, 604800,
     "longest validity of a presigned URL: SigV4 X-Amz-Expires, and a SigV2 Expires counted from now", "SECONDS"},
    {"orphan_grace", offsetof(gw_config_t, orphan_grace), 3, 1, 1ULL << 32,
     "shard files without a record are removed once this old", "SECONDS"},
    {"max_head_bytes", offsetof(gw_config_t, max_head_bytes), 1, 1024, 1024 * 1024,
     "request line and headers; a larger head is answered 431", "BYTES"},
    {"max_headers", offsetof(gw_config_t, max_headers), 1, 1, 1000, "header fields; more are answered 431"},
    {"head_timeout", offsetof(gw_config_t, head_timeout), 3, 1, 3600,
     "a request's head must arrive within this (slowloris): else 408 and the connection closed", "SECONDS"},
    {"body_timeout", offsetof(gw_config_t, body_timeout), 3, 1, 3600,
     "a body that sends nothing for this long while the gateway waits is answered 400 RequestTimeout", "SECONDS"},
    {"send_timeout", offsetof(gw_config_t, send_timeout), 3, 1, 3600,
     "a client that takes no byte of an answer for this long is closed", "SECONDS"},
    {"keepalive_timeout", offsetof(gw_config_t, keepalive_timeout), 3, 1, 86400,
     "an idle connection is closed after this long between requests", "SECONDS"},
    {"max_connections", offsetof(gw_config_t, max_connections), 1, 0, 10000000,
     "connections per event loop; past it a new one is closed at once (0: from the open-file limit, raised "
     "to its hard limit at start)"},
    {"drive_reserve", offsetof(gw_config_t, drive_reserve), 3, 0, 1ULL << 50,
     "free space each local drive keeps; writes that need it answer 507 StorageFull (auto: 1% of the drive's "
     "filesystem, at least 256M, at most a quarter)",
     "SIZE|auto"},
    {"access_log", offsetof(gw_config_t, access_log), 0, 0, 0,
     "where the access log goes, one JSON line per request: stderr, off, or a file (appended to)", "stderr|off|FILE"},
    {"status_listen", offsetof(gw_config_t, status_listen), 0, 0, 0,
     "where /metrics, /health/live and /health/ready are served, without S3 authentication or admission "
     "control (not on the S3 port, whose paths they would shadow); unset: not served",
     "HOST:PORT"},
    {"tls_cert", offsetof(gw_config_t, tls_cert), 0, 0, 0,
     "PEM certificate chain (server's first) of the S3 port; with tls_key the port speaks only HTTPS (TLS 1.2, 1.3)",
     "FILE"},
    {"tls_key", offsetof(gw_config_t, tls_key), 0, 0, 0, "PEM private key of tls_cert", "FILE"},
    {"internode_tls_cert", offsetof(gw_config_t, internode_tls_cert), 0, 0, 0,
     "this gateway's certificate from the cluster CA (yc-admin cluster-ca issue); with internode_tls_key and "
     "internode_tls_ca every connection to a yc-store daemon is mutual TLS, the daemon's certificate checked "
     "against the CA and its address in drives_list",
     "FILE"},
    {"internode_tls_key", offsetof(gw_config_t, internode_tls_key), 0, 0, 0, "PEM private key of internode_tls_cert",
     "FILE"},
    {"internode_tls_ca", offsetof(gw_config_t, internode_tls_ca), 0, 0, 0,
     "the cluster CA's certificate (PEM; a bundle while the CA is rotated)", "FILE"},
    {"share_port", offsetof(gw_config_t, share_port), 2, 0, 1,
     "1: several gateway processes of one cluster serve the same listen port, the kernel spreading connections "
     "over them (SO_REUSEPORT; each process has its own open-file limit); only with every drive on a yc-store "
     "daemon, and each process needs its own status_listen, access_log file and audit_dir. 0: a listen port "
     "that another process listens on stops the start",
     "0|1"},
    {"http2", offsetof(gw_config_t, http2), 2, 0, 1,
     "1: offer HTTP/2 (ALPN h2) besides HTTP/1.1 on TLS; 0: HTTP/1.1 only", "0|1"},
    {"new_bucket_acls", offsetof(gw_config_t, new_bucket_acls), 2, 0, 1,
     "1: a bucket created without x-amz-object-ownership starts with ACLs enabled, no ownership controls and no "
     "public-access block, as S3's buckets made before April 2023 (what older clients and test suites expect); "
     "0: S3's default today, BucketOwnerEnforced (ACLs off) and every public-access block setting on",
     "0|1"},
    {"iam_refresh", offsetof(gw_config_t, iam_refresh), 3, 1, 3600,
     "users, keys and policies are read again from the drives this often: a change made through another "
     "gateway takes up to this long to apply here",
     "SECONDS"},
    {"lifecycle_day_seconds", offsetof(gw_config_t, lifecycle_day_seconds), 3, 1, 86400,
     "the length of a day for lifecycle rules (Days, NoncurrentDays, DaysAfterInitiation); less than 86400 "
     "only to watch rules fire in tests",
     "SECONDS"},
    {"lifecycle_interval", offsetof(gw_config_t, lifecycle_interval), 3, 1, 7 * 86400,
     "time between two passes of the lifecycle worker over the buckets", "SECONDS"},
    {"lifecycle_lease", offsetof(gw_config_t, lifecycle_lease), 3, 3, 86400,
     "how long a gateway keeps a bucket's lifecycle lease without renewing it: another gateway takes the bucket "
     "over this long after its holder died",
     "SECONDS"},
    {"lifecycle_rate", offsetof(gw_config_t, lifecycle_rate), 2, 0, 1000000,
     "lifecycle actions (deletions, delete markers, aborted uploads) a second at most; 0: no cap", "N"},
    {"lockout_failures", offsetof(gw_config_t, lockout_failures), 2, 0, 1000000,
     "requests with a wrong signature that lock their access key when they come within lockout_window; the "
     "gateway counts its own (0: keys are never locked)",
     "N"},
    {"lockout_window", offsetof(gw_config_t, lockout_window), 3, 1, 86400,
     "the time from a key's first wrong signature within which lockout_failures lock it", "SECONDS"},
    {"lockout_seconds", offsetof(gw_config_t, lockout_seconds), 3, 1, 30 * 86400,
     "how long a locked key is refused (403 AccessDenied, the right signature too); the security administrator "
     "may unlock it sooner",
     "SECONDS"},
    {"sse_master_key_file", offsetof(gw_config_t, sse_master_key_file), 0, 0, 0,
     "master keys of server-side encryption, one a line (64 hex digits), line N is key version N and the last "
     "one wraps new objects' keys (unset, and without sse_master_key_env: a key generated into the data folder)",
     "FILE"},
    {"sse_master_key_env", offsetof(gw_config_t, sse_master_key_env), 0, 0, 0,
     "instead of a file: the environment variable that holds the master key (64 hex digits, key version 1)", "NAME"},
    {"sse_c_plain_http", offsetof(gw_config_t, sse_c_plain_http), 2, 0, 1,
     "1: accept SSE-C keys over cleartext HTTP (a trusted network only); 0: HTTPS only, as S3", "0|1"},
    {"domains", offsetof(gw_config_t, domains), 0, 0, 0,
     "endpoint names, separated by spaces or commas: HOST is path-style, BUCKET.HOST virtual-host style; other "
     "Hosts are refused",
     "LIST"},
    {"audit_dir", offsetof(gw_config_t, audit_dir), 0, 0, 0,
     "the audit trail's folder: every request and admin action, chained with SM3 and sealed by HMAC-SM3 "
     "checkpoints (needs audit_key_file or audit_key_env); unset: no audit trail",
     "FOLDER"},
    {"audit_key_file", offsetof(gw_config_t, audit_key_file), 0, 0, 0,
     "file holding the audit key (16 to 256 bytes) that MACs the checkpoints; not the root credentials", "FILE"},
    {"audit_key_env", offsetof(gw_config_t, audit_key_env), 0, 0, 0,
     "instead: the environment variable that holds the audit key", "NAME"},
    {"audit_checkpoint_records", offsetof(gw_config_t, audit_checkpoint_records), 3, 1, 1000000,
     "a checkpoint after this many records", "N"},
    {"audit_checkpoint_ms", offsetof(gw_config_t, audit_checkpoint_ms), 3, 10, 3600000,
     "a checkpoint at most this long after the first record it seals", "MS"},
    {"audit_rotate_bytes", offsetof(gw_config_t, audit_rotate_bytes), 3, 4096, 1ULL << 40,
     "a new audit file once the current one reaches this size", "SIZE"},
    {"audit_rotate_seconds", offsetof(gw_config_t, audit_rotate_seconds), 3, 1, 366 * 86400,
     "a new audit file once the current one is this old", "SECONDS"},
    {"audit_retain_days", offsetof(gw_config_t, audit_retain_days), 3, 0, 100000,
     "closed audit files are removed once their last write is this old (0: never)", "DAYS"},
    {"audit_queue", offsetof(gw_config_t, audit_queue), 1, 16, 16777216,
     "request records waiting for the audit writer at most; past it they are dropped and counted (admin "
     "records never are)",
     "N"},
    {"logging_interval", offsetof(gw_config_t, logging_interval), 3, 1, 86400,
     "server access logging: seconds between two deliveries of log objects to target buckets", "SECONDS"},
    {"secrets_key_file", offsetof(gw_config_t, secrets_key_file), 0, 0, 0,
     "file of the keys that seal access keys' secrets in the drives (64 hex digits a line, the last current; "
     "default: FOLDER/secrets.keys, made by a gateway that owns its drives)",
     "FILE"},
    {"secrets_key_env", offsetof(gw_config_t, secrets_key_env), 0, 0, 0,
     "instead: the environment variable that holds those keys (separated by blanks or commas)", "NAME"},
};
#define NFIELDS (sizeof(config_fields) / sizeof(config_fields[0]))

/* A size as the file would write it (4K, 1M, 5G), so that --help shows defaults one can paste. */
static void format_size(uint64_t v, char *buf, size_t cap)
{
    static const char units[] = "KMG";
    int u = -1;
    while (v >= 1024 && v % 1024 == 0 && u < 2) {
        v /= 1024;
        u++;
    }
    if (u < 0)
        snprintf(buf, cap, "%llu", (unsigned long long)v);
    else
        snprintf(buf, cap, "%llu%c", (unsigned long long)v, units[u]);
}

/* One option: its help wrapped beside a column of 28, the default kept whole. */
static void usage_line(FILE *out, const char *option, const char *help, const char *dflt)
{
    char tail[96];

    if (dflt != NULL)
        snprintf(tail, sizeof(tail), "[default: %s]", dflt);
    yc_usage_line(out, 28, option, help, dflt != NULL ? tail : NULL);
}

void gw_config_usage(FILE *out)
{
    gw_config_t d;
    char opt[64], dflt[64];

    gw_config_defaults(&d);
    fprintf(out, "usage: yc-gateway [--config FILE] [--SETTING VALUE ...]\n"
                 "\n"
                 "The S3 gateway. Settings come from the defaults, then the file, then the command line (--name\n"
                 "VALUE or --name=VALUE, dashes or underscores), then the environment. conf/yuncang.yaml shows them.\n"
                 "\n"
                 "options:\n");
    usage_line(out, "--config FILE", "a YAML file of settings (name: value)", "none");
    snprintf(dflt, sizeof(dflt), "%s:%u", d.listen_host, d.listen_port);
    usage_line(out, "--listen ADDR:PORT", "the IPv4 address and port to serve S3 on", dflt);
    snprintf(dflt, sizeof(dflt), "%u+%u", d.k, d.m);
    usage_line(out, "--ec K+M", "erasure coding: K data and M parity shards per set (K+M <= 16)", dflt);
    for (size_t i = 0; i < NFIELDS; i++) {
        const config_field_t *f = &config_fields[i];
        const char *p = (const char *)&d + f->offset;
        size_t n = (size_t)snprintf(opt, sizeof(opt), "--%s %s", f->name, f->arg != NULL ? f->arg : "N");
        for (size_t k = 2; k < n && opt[k] != ' '; k++)
            if (opt[k] == '_')
                opt[k] = '-';
        if (f->kind == 0) {
            const char *v;
            memcpy(&v, p, sizeof(v));
            snprintf(dflt, sizeof(dflt), "%s", v != NULL ? v : "none");
        } else {
            uint64_t v = 0;
            if (f->kind == 1) {
                size_t x;
                memcpy(&x, p, sizeof(x));
                v = x;
            } else if (f->kind == 2) {
                uint32_t x;
                memcpy(&x, p, sizeof(x));
                v = x;
            } else {
                memcpy(&v, p, sizeof(v));
            }
            if (f->arg != NULL && strcmp(f->arg, "BYTES") == 0)
                format_size(v, dflt, sizeof(dflt));
            else
                snprintf(dflt, sizeof(dflt), "%llu", (unsigned long long)v);
        }
        usage_line(out, opt, f->help != NULL ? f->help : "", dflt);
    }
    usage_line(out, "--verbose", "log debug lines too", "off");
    usage_line(out, "--help", "print this help and exit", NULL);
    fprintf(out, "\n"
                 "environment (over the file and the command line):\n"
                 "  YC_ROOT_USER, YC_ROOT_PASSWORD  the root keys (required: 3+ and 8+ characters)\n"
                 "  YC_CLUSTER_SECRET               the cluster secret, for drives served by yc-store daemons\n"
                 "\n"
                 "exit status: 0 stopped by SIGINT or SIGTERM, 1 could not start, 2 bad invocation or settings\n"
                 "(one line says which)\n");
}

static int apply(gw_config_t *cfg, const char *name, const char *value, char *err, size_t errlen, size_t line)
{
    if (strcmp(name, "listen") == 0) {
        if (gw_config_set_listen(cfg, value) != 0) {
            set_err(err, errlen, "line %zu: listen must be HOST:PORT", line);
            return -1;
        }
        return 0;
    }
    if (strcmp(name, "drive_reserve") == 0 && strcmp(value, "auto") == 0) {
        cfg->drive_reserve = 0;
        return 0;
    }
    if (strcmp(name, "ec") == 0) {
        unsigned k, m;
        char tail;
        if (sscanf(value, "%u+%u%c", &k, &m, &tail) != 2 || m < 1 || k < 1 || k + m > 16) {
            set_err(err, errlen, "line %zu: ec must be K+M with m >= 1 and k+m <= 16", line);
            return -1;
        }
        cfg->k = k;
        cfg->m = m;
        return 0;
    }
    for (size_t i = 0; i < NFIELDS; i++) {
        const config_field_t *f = &config_fields[i];
        if (strcmp(name, f->name) != 0)
            continue;
        char *p = (char *)cfg + f->offset;
        if (f->kind == 0) {
            const char *s = keep_string(cfg, value, strlen(value));
            if (s == NULL || *s == '\0') {
                set_err(err, errlen, "line %zu: %s must not be empty", line, name);
                return -1;
            }
            memcpy(p, &s, sizeof(s));
            return 0;
        }
        uint64_t v;
        if (yc_parse_size(value, f->max, &v) != 0 || v < f->min) {
            set_err(err, errlen, "line %zu: %s must be a number in %llu..%llu", line, name, (unsigned long long)f->min,
                    (unsigned long long)f->max);
            return -1;
        }
        if (f->kind == 1) {
            size_t x = (size_t)v;
            memcpy(p, &x, sizeof(x));
        } else if (f->kind == 2) {
            uint32_t x = (uint32_t)v;
            memcpy(p, &x, sizeof(x));
        } else {
            memcpy(p, &v, sizeof(v));
        }
        return 0;
    }
    set_err(err, errlen, "line %zu: unknown setting '%s'", line, name);
    return -1;
}

int gw_config_parse(gw_config_t *cfg, const char *text, size_t len, char *err, size_t errlen)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    char name[64], list[4096];
    size_t list_len = 0;
    int depth = 0, have_name = 0, ret = -1, done = 0, in_list = 0;

    if (len > CONFIG_MAX_BYTES) {
        set_err(err, errlen, "configuration larger than %d bytes", CONFIG_MAX_BYTES);
        return -1;
    }
    if (!yaml_parser_initialize(&parser)) {
        set_err(err, errlen, "out of memory");
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (!done) {
        if (!yaml_parser_parse(&parser, &ev)) {
            set_err(err, errlen, "line %zu: %s", parser.problem_mark.line + 1,
                    parser.problem ? parser.problem : "malformed YAML");
            goto out;
        }
        size_t line = ev.start_mark.line + 1;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_MAPPING_START_EVENT:
            if (++depth > 1) {
                set_err(err, errlen, "line %zu: settings are flat name: value pairs", line);
                goto bad_event;
            }
            break;
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        case YAML_SCALAR_EVENT:
            if (in_list) { /* an item of `domains: [a, b]`: the list becomes "a,b" */
                if (list_len + ev.data.scalar.length + 1 >= sizeof(list) ||
                    memchr(ev.data.scalar.value, 0, ev.data.scalar.length)) {
                    set_err(err, errlen, "line %zu: list of %s too long or not text", line, name);
                    goto bad_event;
                }
                if (list_len > 0)
                    list[list_len++] = ',';
                memcpy(list + list_len, ev.data.scalar.value, ev.data.scalar.length);
                list_len += ev.data.scalar.length;
                list[list_len] = '\0';
                break;
            }
            if (depth != 1) {
                set_err(err, errlen, "line %zu: the configuration must be a mapping", line);
                goto bad_event;
            }
            if (!have_name) {
                if (ev.data.scalar.length >= sizeof(name)) {
                    set_err(err, errlen, "line %zu: setting name too long", line);
                    goto bad_event;
                }
                memcpy(name, ev.data.scalar.value, ev.data.scalar.length);
                name[ev.data.scalar.length] = '\0';
                have_name = 1;
            } else {
                char value[4096];
                if (ev.data.scalar.length >= sizeof(value) || memchr(ev.data.scalar.value, 0, ev.data.scalar.length)) {
                    set_err(err, errlen, "line %zu: value of %s too long or not text", line, name);
                    goto bad_event;
                }
                memcpy(value, ev.data.scalar.value, ev.data.scalar.length);
                value[ev.data.scalar.length] = '\0';
                have_name = 0;
                if (apply(cfg, name, value, err, errlen, line) != 0)
                    goto bad_event;
            }
            break;
        case YAML_SEQUENCE_START_EVENT:
            /* the one list-valued setting; elsewhere a list is an error, as is a list in a list */
            if (have_name && !in_list && strcmp(name, "domains") == 0) {
                in_list = 1;
                list_len = 0;
                list[0] = '\0';
                break;
            }
            set_err(err, errlen, "line %zu: lists and aliases are not settings", line);
            goto bad_event;
        case YAML_SEQUENCE_END_EVENT:
            in_list = 0;
            have_name = 0;
            if (apply(cfg, name, list, err, errlen, line) != 0)
                goto bad_event;
            break;
        case YAML_ALIAS_EVENT:
            set_err(err, errlen, "line %zu: lists and aliases are not settings", line);
            goto bad_event;
        default:
            break;
        }
        yaml_event_delete(&ev);
        continue;
    bad_event:
        yaml_event_delete(&ev);
        goto out;
    }
    ret = 0;
out:
    yaml_parser_delete(&parser);
    return ret;
}

int gw_config_load(gw_config_t *cfg, const char *path, char *err, size_t errlen)
{
    char buf[CONFIG_MAX_BYTES + 1];
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        set_err(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    if (n > CONFIG_MAX_BYTES) {
        set_err(err, errlen, "%s: larger than %d bytes", path, CONFIG_MAX_BYTES);
        return -1;
    }
    return gw_config_parse(cfg, buf, n, err, errlen);
}

size_t gw_config_split_drives(const char *list, char **out, size_t max)
{
    size_t n = 0;
    const char *p = list;
    while (p != NULL && *p != '\0') {
        p += strspn(p, " ,\t\n");
        size_t len = strcspn(p, " ,\t\n");
        if (len == 0)
            break;
        if (out != NULL && n < max && (out[n] = strndup(p, len)) == NULL)
            return n;
        n++;
        p += len;
    }
    return n;
}

int gw_config_split_hostport(const char *value, char *host, size_t cap, uint16_t *port)
{
    const char *colon = strrchr(value, ':');
    char *end;
    if (colon == NULL || (size_t)(colon - value) >= cap)
        return -1;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || p == 0 || p > 65535)
        return -1;
    memcpy(host, value, (size_t)(colon - value));
    host[colon - value] = '\0';
    *port = (uint16_t)p;
    return 0;
}

/* 1 when drives_list names only drives of yc-store daemons (HOST:PORT/NAME), as gw_cluster reads a
 * spec: a colon before its first slash, a name after it. */
static int every_drive_remote(const gw_config_t *cfg)
{
    size_t n = cfg->drives_list != NULL ? gw_config_split_drives(cfg->drives_list, NULL, 0) : 0;
    char **specs = n > 0 ? calloc(n, sizeof(*specs)) : NULL;
    int remote = specs != NULL;

    if (specs == NULL)
        return 0;
    gw_config_split_drives(cfg->drives_list, specs, n);
    for (size_t i = 0; i < n; i++) {
        const char *slash = specs[i] != NULL ? strchr(specs[i], '/') : NULL;
        const char *colon = slash != NULL ? memchr(specs[i], ':', (size_t)(slash - specs[i])) : NULL;
        if (colon == NULL || colon == specs[i] || slash[1] == '\0')
            remote = 0;
        free(specs[i]);
    }
    free(specs);
    return remote;
}

int gw_config_check(const gw_config_t *cfg, char *err, size_t errlen)
{
    char host[256];
    uint16_t port;
    uint32_t width = cfg->k + cfg->m;
    size_t ndrives = cfg->drives_list != NULL ? gw_config_split_drives(cfg->drives_list, NULL, 0) : cfg->ndrives;

    if (cfg->root_user == NULL || cfg->root_password == NULL || strlen(cfg->root_user) < 3 ||
        strlen(cfg->root_password) < 8) {
        set_err(err, errlen, "root credentials missing: set YC_ROOT_USER (3+ characters) and YC_ROOT_PASSWORD (8+)");
        return -1;
    }
    if (cfg->m < 1 || width < 2 || width > 16 || ndrives == 0 || ndrives % width != 0) {
        set_err(err, errlen, "%zu drives cannot form erasure sets of %u+%u", ndrives, cfg->k, cfg->m);
        return -1;
    }
    if (cfg->drives_list != NULL && strchr(cfg->drives_list, ':') != NULL && cfg->cluster_secret == NULL) {
        set_err(err, errlen, "remote drives need a cluster secret: set YC_CLUSTER_SECRET");
        return -1;
    }
    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
        set_err(err, errlen, "tls_cert and tls_key go together: give both or neither");
        return -1;
    }
    int internode_tls =
        (cfg->internode_tls_cert != NULL) + (cfg->internode_tls_key != NULL) + (cfg->internode_tls_ca != NULL);
    if (internode_tls != 0 && internode_tls != 3) {
        set_err(err, errlen,
                "internode_tls_cert, internode_tls_key and internode_tls_ca go together: give all three "
                "or none");
        return -1;
    }
    if (cfg->internode_tls_cert != NULL && (cfg->drives_list == NULL || strchr(cfg->drives_list, ':') == NULL)) {
        set_err(err, errlen, "internode_tls_* is for drives on yc-store daemons (drives_list of HOST:PORT/NAME)");
        return -1;
    }
    if (cfg->audit_dir != NULL && (cfg->audit_key_file == NULL) == (cfg->audit_key_env == NULL)) {
        set_err(err, errlen, "audit_dir needs its key: give audit_key_file or audit_key_env (one of them)");
        return -1;
    }
    if (cfg->status_listen != NULL && gw_config_split_hostport(cfg->status_listen, host, sizeof(host), &port) != 0) {
        set_err(err, errlen, "status_listen must be HOST:PORT");
        return -1;
    }
    if (cfg->share_port && !every_drive_remote(cfg)) {
        set_err(err, errlen,
                "share_port needs every drive on a yc-store daemon (drives_list of HOST:PORT/NAME): a drive opened "
                "in this process (its RocksDB) cannot be opened by the other gateways on the port");
        return -1;
    }
    if (cfg->inline_max >= cfg->stripe_size) {
        set_err(err, errlen, "inline_max must be smaller than stripe_size");
        return -1;
    }
    return 0;
}
