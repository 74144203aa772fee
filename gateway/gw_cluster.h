/* gw_cluster.h — the drives a gateway reaches, grouped into erasure sets, and placement.
 *
 * Drives are numbered in configuration order and cut into erasure sets of k+m consecutive
 * drives. An object version lives entirely in one set: xxh3(seed, bucket "/" key) picks the
 * set, and its high bits rotate the shard order inside the set so that parity (the last m
 * shards) spreads evenly over the drives. distribution[i] is the slot in the set that holds
 * shard i; it is stored in every record so that a later change of rule cannot lose data.
 *
 * Quorum: a write is acknowledged when write_quorum drives made it durable (k, k+1 when k == m,
 * a majority when k < m: two disjoint groups of drives can never both accept a write); a version
 * is visible when at least k drives of its set hold the same record (fewer could not be decoded
 * anyway, and a failed write, which reached fewer than the quorum, stays invisible). The rules
 * themselves are gw_quorum.h.
 */
#ifndef YC_GW_CLUSTER_H
#define YC_GW_CLUSTER_H
#include <stddef.h>
#include <stdint.h>
#include "common/pool.h"
#include "gateway/gw_quorum.h"
#include "store/client.h"
#include "store/store.h"

typedef struct {
    char *path;             /* the drive's spec: a directory, or host:port/name of a yc-store drive */
    char *node;             /* failure domain: host:port, or "local" */
    store_drive_t *local;   /* the engine, for a drive in this process */
    store_client_t *client; /* how every call reaches it; NULL while a local drive cannot open */
    yc_lane_t *lane;        /* threads that run this drive's blocking calls */
    uint64_t errors;        /* I/O errors seen (metrics) */
    uint64_t shard_bytes;   /* shard bytes the object engine read from it (metrics; atomic adds) */
    /* identity (see store.h and gw_health.h) */
    uint32_t set_index, slot;   /* where the drive sits: the placement its identity must carry */
    store_identity_t *identity; /* a local drive's identity, held open (its lock) */
    char *offline_reason;       /* why a local drive is not used (NULL while it is) */
    store_client_t *probe;      /* a remote drive: a client with short timeouts, for the prober */
    /* a drive drained out of this place (gw_cluster_replace_local): still open, no longer used */
    char *retired_path;
    store_drive_t *retired_local;
    store_client_t *retired_client;
    store_identity_t *retired_identity;
} gw_drive_t;

typedef struct {
    uint32_t index;
    uint32_t k, m;
    gw_drive_t **drives; /* k+m slots */
    int inline_reads;    /* see gw_set_fanout_reads */
} gw_set_t;

/* Where the object engine reports a key that some drive of its set lacks or holds damaged (a write
 * that missed drives, a read that worked around a bad shard). The healer sets it when it starts;
 * the engine knows only this, so it depends on no healer. note must be cheap, never block on
 * drives, and be safe from any thread. */
typedef struct {
    void (*note)(void *arg, meta_bytes_t bucket, meta_bytes_t key);
    void *arg;
} gw_repair_sink_t;

typedef struct {
    gw_drive_t *drives;
    size_t ndrives;
    gw_set_t *sets;
    size_t nsets;
    uint64_t placement_seed;
    uint32_t stripe_size;             /* EC stripe data bytes */
    size_t inline_max;                /* objects up to this size keep their shards inside the records */
    int inline_reads;                 /* see gw_set_fanout_reads */
    struct gw_healer *healer;         /* the background healer (gw_heal.h); may be NULL */
    struct gw_cleanup *cleanup;       /* removes failed writes (gw_cleanup.h); may be NULL */
    gw_repair_sink_t repair;          /* keys to heal go here; note NULL: nowhere */
    uint8_t cluster_id[STORE_ID_LEN]; /* what every drive's placement carries (store_identity_cluster_id) */
    struct gw_health *health;         /* the drives' states as last seen (gw_health.h) */
    yc_lane_t *hash_lane;             /* hashes a body's stripe while its writer encodes and appends it */
    struct store_tls *internode_tls;  /* the remote drives' TLS context (NULL: cleartext); freed after them */
} gw_cluster_t;

typedef struct {
    const char *const *drive_specs; /* "DIR" (in this process) or "HOST:PORT/NAME" (a yc-store drive) */
    size_t ndrives;
    const char *cluster_secret; /* authenticates requests to yc-store daemons */
    uint32_t k, m;
    uint32_t stripe_size;
    size_t inline_max;
    size_t lane_threads;         /* threads per drive */
    uint32_t health_interval_ms; /* between two probes of a remote drive; 0: 1000 */
    uint64_t drive_reserve;      /* bytes each local drive keeps free (STORE_RESERVE_AUTO: its default) */
    /* mutual TLS to the daemons (store/tls.h): all three or none (cleartext) */
    const char *internode_tls_cert, *internode_tls_key, *internode_tls_ca;
} gw_cluster_config_t;

/* Opens (creating) every local drive, connects the remote ones lazily, and forms the sets:
 * drives are taken round-robin over their nodes before being cut into sets of k+m, so that a
 * set spreads over as many nodes as the layout allows (the node is the failure domain).
 * ndrives must be a multiple of k+m. Then every drive's identity is checked against its place
 * (a local one here, a remote one by the health prober, which this starts): a wrong or
 * swapped drive is not used, and logged. */
int gw_cluster_open(const gw_cluster_config_t *cfg, gw_cluster_t **out);
void gw_cluster_close(gw_cluster_t *c);

/* Drains local drive i out of its place: a fresh local drive at spare (a directory, created when
 * missing) takes its set and slot, so that every call from now on goes to the spare, and the
 * drive drained keeps its data but is no longer used (retired, still open for calls in flight).
 * The healer then rebuilds onto the spare what the place must hold. A local drive that could not
 * open is replaced the same way. secret and reserve as for gw_cluster_open. 0, or a negative code
 * with why filled: a remote drive (-ENOTSUP), a spare that belongs to another place or cluster,
 * one already retired. Blocking. */
int gw_cluster_replace_local(gw_cluster_t *c, size_t i, const char *spare, const char *secret, uint64_t reserve,
                             char *why, size_t whylen);
/* Closes the drive retired from place i (its lock and database released: it can be removed). */
void gw_cluster_forget_retired(gw_cluster_t *c, size_t i);

/* The set of an object and the shard distribution inside it (k+m entries). */
gw_set_t *gw_cluster_place(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t key, uint8_t distribution[16]);

static inline uint32_t gw_set_width(const gw_set_t *s)
{
    return s->k + s->m;
}
static inline uint32_t gw_set_write_quorum(const gw_set_t *s)
{
    return gw_quorum_write(s->k, s->m);
}
/* Quorum for records replicated on every drive of the cluster (buckets, users, configs). */
static inline size_t gw_cluster_quorum(const gw_cluster_t *c)
{
    return gw_quorum_majority(c->ndrives);
}

/* Runs fn(arg, i) for every drive i of the set in parallel on the drives' lanes. */
void gw_set_fanout(gw_set_t *s, yc_task_fn fn, void *arg);
/* Same over every drive of the cluster. */
void gw_cluster_fanout(gw_cluster_t *c, yc_task_fn fn, void *arg);

/* For small reads (records): with drives in this process, a RocksDB get or scan from its caches
 * costs microseconds, far less than waking a lane thread and waiting for it, so the calls run
 * one after the other on the calling worker; with remote drives they fan out. */
void gw_set_fanout_reads(gw_set_t *s, yc_task_fn fn, void *arg);
void gw_cluster_fanout_reads(gw_cluster_t *c, yc_task_fn fn, void *arg);

#endif
