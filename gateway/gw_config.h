/* gw_config.h — the gateway's configuration: defaults, a YAML file, and the command line on top.
 *
 * The file is one flat YAML mapping whose names are the long options without dashes
 * (conf/yuncang.yaml shows every one). Unknown names, wrong types and out-of-range values are
 * errors with the line number: a typo must not start a server with a default the admin did
 * not mean. This is the only mutable global state besides the EC tables: built once at start.
 */
#ifndef YC_GW_CONFIG_H
#define YC_GW_CONFIG_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct gw_config_strings gw_config_strings_t;

typedef struct {
    const char *listen_host;
    uint16_t listen_port;
    const char *data_dir; /* embedded default: drives are data_dir/drive1..N */
    size_t ndrives;
    const char *drives_list;    /* instead: drives by spec, separated by spaces or commas ("DIR" or
                                 * "HOST:PORT/NAME" of a yc-store drive); sets ndrives */
    const char *cluster_secret; /* authenticates requests to yc-store daemons */
    uint32_t k, m;
    uint32_t stripe_size;
    size_t inline_max;
    const char *root_user, *root_password;
    const char *region;
    size_t loops;                 /* event-loop threads */
    size_t workers;               /* request worker threads (writes: they wait on drives) */
    size_t read_workers;          /* worker threads for reads (GET, HEAD, LIST: they rarely wait) */
    size_t lane_threads;          /* threads per drive */
    size_t delete_concurrency;    /* keys of one DeleteObjects deleted at once (gw_batch.h) */
    size_t max_inflight;          /* requests holding a slot at once (gw_admit.h) */
    size_t max_inflight_per_key;  /* of those, requests of one access key (anonymous: one key) */
    size_t queue_max;             /* requests waiting for a slot; past it 503 SlowDown at once */
    uint64_t queue_deadline_ms;   /* a request waiting this long is answered 503 SlowDown */
    uint64_t shed_lag_ms;         /* a loop this far behind sheds at the door (gw_admit.h); 0: never */
    size_t shed_connections;      /* connections a shedding loop keeps; past them shed means closed */
    uint64_t adaptive_delay_us;   /* queueing the adaptive in-flight bound allows (gw_admit.h); 0: none */
    size_t adaptive_min;          /* the adaptive bound's lowest value */
    uint64_t max_object_size;     /* one PUT, part or copy source (S3: 5 GiB) */
    uint64_t presign_max_expires; /* seconds a presigned URL may stay valid (SigV4 X-Amz-Expires, SigV2 Expires
                                   * from now) */
    uint64_t orphan_grace;        /* seconds: shard files without a record are removed once this old */
    uint64_t iam_refresh;         /* seconds between two reloads of users, keys and policies */
    /* the HTTP layer's limits (common/http.h) */
    size_t max_head_bytes;        /* request line + headers; more is 431 */
    size_t max_headers;           /* header fields; more is 431 */
    uint64_t head_timeout;        /* seconds for a request's whole head (slowloris) */
    uint64_t body_timeout;        /* seconds without a body byte while the gateway waits for one */
    uint64_t send_timeout;        /* seconds without the client taking a byte of an answer */
    uint64_t keepalive_timeout;   /* seconds an idle connection is kept between requests */
    size_t max_connections;       /* per loop; 0: from the fd limit */
    const char *domains;          /* virtual-host endpoint domains, separated by spaces or commas;
                                   * NULL: localhost and the machine's host name */
    uint64_t drive_reserve;       /* bytes each local drive keeps free; 0: automatic (store.h) */
    const char *access_log;       /* "stderr", "off" or a file: one JSON line per request (gw_access_log.h) */
    const char *status_listen;    /* HOST:PORT of /metrics and the health checks; NULL: not served */
    const char *tls_cert;         /* PEM certificate chain of the S3 port; with tls_key: HTTPS only */
    const char *tls_key;          /* PEM private key of tls_cert */
    uint32_t http2;               /* 1: offer HTTP/2 by ALPN on TLS */
    uint32_t share_port;          /* 1: other gateways of the cluster may listen on listen's port too (every
                                   * drive remote); 0: a port in use stops the start */
    uint32_t new_bucket_acls;     /* 1: a bucket created without x-amz-object-ownership has ACLs on (no ownership
                                   * controls, no public-access block), as S3's buckets before April 2023; 0: S3's
                                   * default today, BucketOwnerEnforced with the public-access block all on */
    gw_config_strings_t *strings; /* strings parsed from a file, owned by the config */

    /* server-side encryption (gw_sse.h) */
    const char *sse_master_key_file; /* master keys, one a line (64 hex digits), the last current */
    const char *sse_master_key_env;  /* instead: the environment variable holding the master key */
    uint32_t sse_c_plain_http;       /* 1: SSE-C keys accepted over cleartext HTTP (a trusted network) */

    /* lifecycle rules (gw_lifecycle.h) */
    uint64_t lifecycle_day_seconds; /* the length of a lifecycle "day": 86400; tests scale it down */
    uint64_t lifecycle_interval;    /* seconds between the starts of two passes over the buckets */
    uint64_t lifecycle_lease;       /* seconds a gateway holds a bucket's lease without renewing it */
    uint32_t lifecycle_rate;        /* lifecycle actions a second at most (0: no cap) */

    /* access keys locked after bad signatures (gw_lockout.h) */
    uint32_t lockout_failures; /* bad signatures within lockout_window that lock a key; 0: never */
    uint64_t lockout_window;   /* seconds */
    uint64_t lockout_seconds;  /* how long a lock lasts */
    /* the audit trail (gw_audit.h) */
    const char *audit_dir;             /* its folder; NULL: no audit trail */
    const char *audit_key_file;        /* the audit key: a file ... */
    const char *audit_key_env;         /* ... or an environment variable */
    uint64_t audit_checkpoint_records; /* a checkpoint after this many records ... */
    uint64_t audit_checkpoint_ms;      /* ... or this long */
    uint64_t audit_rotate_bytes;       /* a new file past this size ... */
    uint64_t audit_rotate_seconds;     /* ... or age */
    uint64_t audit_retain_days;        /* closed files are kept this long */
    size_t audit_queue;                /* request records waiting for the writer at most */

    /* server access logging (gw_bucket_logging.h) */
    uint64_t logging_interval; /* seconds between deliveries of log objects */

    /* access keys' secrets sealed at rest (gw_secret.h) */
    const char *secrets_key_file; /* the cluster's secrets keys, one a line (64 hex digits), the last current */
    const char *secrets_key_env;  /* instead: the environment variable holding them */

    /* mutual TLS to the yc-store daemons (store/tls.h), all three or none */
    const char *internode_tls_cert; /* this gateway's certificate from the cluster CA (PEM) */
    const char *internode_tls_key;  /* its private key (PEM) */
    const char *internode_tls_ca;   /* the cluster CA's certificate (PEM): the daemons' only trust anchor */
} gw_config_t;

/* Fills cfg with the defaults: 127.0.0.1:9000, ./var, EC 4+2 over 6 drives, 1 MiB stripes,
 * 128 KiB inline, 2 loops, 64 workers, 16 threads per drive. */
void gw_config_defaults(gw_config_t *cfg);

/* Applies the YAML document text[0..len) over cfg. Returns 0, or -1 with a message naming the
 * line in err. */
int gw_config_parse(gw_config_t *cfg, const char *text, size_t len, char *err, size_t errlen);

/* Reads and applies a YAML file. */
int gw_config_load(gw_config_t *cfg, const char *path, char *err, size_t errlen);

/* Parses "HOST:PORT" into listen_host/listen_port. */
int gw_config_set_listen(gw_config_t *cfg, const char *value);

/* Splits a drives_list into at most max malloc'd specs in out (out NULL: only counts); returns
 * the number of specs. */
size_t gw_config_split_drives(const char *list, char **out, size_t max);

/* Splits "HOST:PORT" (the host may be empty: every address) into host (cap bytes) and port.
 * 0, or -1 when it is not of that shape. */
int gw_config_split_hostport(const char *value, char *host, size_t cap, uint16_t *port);

/* Checks the combination (k+m, drives a multiple of k+m, credentials present, ...). */
int gw_config_check(const gw_config_t *cfg, char *err, size_t errlen);

/* Prints yc-gateway's --help: every option, the settings of the file included, with its
 * default (from gw_config_defaults). */
void gw_config_usage(FILE *out);

/* Frees the strings a parse made. */
void gw_config_dispose(gw_config_t *cfg);

#endif
