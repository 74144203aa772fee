/* gw_metrics.c — the gateway's metric families (the list is gw_metrics.h) and the reading of the
 * cluster's state when they are rendered. */
#include "gateway/gw_metrics.h"
#include "gateway/gw_cleanup.h"
#include "gateway/gw_audit.h"
#include "common/metrics.h"
#include "gateway/gw_heal.h"
#include "gateway/gw_health.h"
#include "meta/meta.h"
#include "store/store.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_MS 1000000ULL
#define NS_PER_S  1000000000ULL

/* HTTP statuses the gateway answers, "other" last (yc_metrics_series maps anything else there). */
static const char *const status_names[] = {"200", "204", "206", "301", "304", "307", "400",  "403",
                                           "404", "405", "408", "409", "411", "412", "413",  "416",
                                           "431", "500", "501", "503", "505", "507", "other"};
#define NSTATUS (sizeof(status_names) / sizeof(status_names[0]))

static const char *const shed_names[GW_SHED__COUNT] = {
    [GW_SHED_INFLIGHT] = "inflight",       [GW_SHED_KEY] = "access_key",    [GW_SHED_QUEUE_FULL] = "queue_full",
    [GW_SHED_DEADLINE] = "queue_deadline", [GW_SHED_LOOP_LAG] = "loop_lag", [GW_SHED_ACCEPT] = "accept",
};

#define NSTATES (GW_HEALTH_OFFLINE + 1)

/* 0.5 ms ... 30 s: a small GET from the page cache to a 5 GiB upload's last byte */
static const uint64_t request_bounds[] = {
    NS_PER_MS / 2,  1 * NS_PER_MS,    5 * NS_PER_MS / 2, 5 * NS_PER_MS,   10 * NS_PER_MS,
    25 * NS_PER_MS, 50 * NS_PER_MS,   100 * NS_PER_MS,   250 * NS_PER_MS, 500 * NS_PER_MS,
    NS_PER_S,       5 * NS_PER_S / 2, 5 * NS_PER_S,      10 * NS_PER_S,   30 * NS_PER_S,
};
/* 0.1 ms ... 10 s: a cached RocksDB read to a drive that hangs */
static const uint64_t drive_bounds[] = {
    NS_PER_MS / 10,  NS_PER_MS / 4,   NS_PER_MS / 2,  1 * NS_PER_MS,    5 * NS_PER_MS / 2,
    5 * NS_PER_MS,   10 * NS_PER_MS,  25 * NS_PER_MS, 50 * NS_PER_MS,   100 * NS_PER_MS,
    250 * NS_PER_MS, 500 * NS_PER_MS, NS_PER_S,       5 * NS_PER_S / 2, 10 * NS_PER_S,
};
static const uint64_t wait_bounds[] = {
    NS_PER_MS / 10, NS_PER_MS / 2,   1 * NS_PER_MS,   5 * NS_PER_MS, 10 * NS_PER_MS,
    50 * NS_PER_MS, 100 * NS_PER_MS, 500 * NS_PER_MS, NS_PER_S,      5 * NS_PER_S,
};
/* the bound of issue 11 is 64 KiB: a bucket ends there */
static const uint64_t auth_body_bounds[] = {0, 1024, 4096, 16384, 65536, 262144, 1048576, 16777216};

#define NBOUNDS(a) (sizeof(a) / sizeof(a[0]))

struct gw_metrics {
    yc_metrics_t *reg;
    gw_cluster_t *cluster;
    gw_access_log_t *access_log;
    struct gw_audit *audit;
    gw_metrics_sample_fn sample;
    void *sample_arg;
    size_t nops;
    /* label values made here */
    const char **drive_names; /* every drive's spec, cluster order */
    const char **local_names; /* the local drives' specs */
    size_t *local_index;      /* their cluster indexes */
    size_t nlocal;
    char **set_names;
    const char *state_names[NSTATES];
    /* events */
    yc_metric_t *requests, *duration, *bytes_in, *bytes_out, *shed, *wait, *auth_body, *drive_duration, *drive_errors;
    /* read when rendered */
    yc_metric_t *inflight, *queued, *connections;
    yc_metric_t *limit, *delay, *limit_cuts;
    yc_metric_t *drive_shard_bytes;
    yc_metric_t *drive_up, *drive_state, *drive_io_errors, *set_ok, *set_quorum, *set_writable;
    yc_metric_t *heal_queue, *heal_noted, *heal_repaired, *heal_failed, *heal_running, *heal_scanned;
    yc_metric_t *cleanup_results, *cleanup_queue; /* failed writes removed from the drives (gw_cleanup.h) */
    yc_metric_t *free_bytes, *reserve_bytes, *db_keys, *db_sst, *db_live_sst, *db_memtable, *db_pending,
        *db_compactions, *db_flushes, *db_bg_errors, *db_write_stopped, *db_read_only;
    yc_metric_t *db_synced_writes, *db_synced_records; /* the group commit's batching */
    yc_metric_t *log_dropped;
    yc_metric_t *audit_dropped;
    gw_metrics_lifecycle_fn lc;
    void *lc_arg;
    yc_metric_t *lc_actions, *lc_scanned, *lc_passes, *lc_lease_busy, *lc_errors;
};

/* yc_lifecycle_actions_total's label values, indexed by gw_metrics_lc_action_t */
static const char *const lc_action_names[GW_LC__ACTIONS] = {
    "expire", "add_delete_marker", "remove_delete_marker", "remove_noncurrent", "abort_upload", "held", "deferred"};

void gw_metrics_free(gw_metrics_t *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; m->drive_duration != NULL && i < m->cluster->ndrives; i++)
        if (m->cluster->drives[i].lane != NULL)
            yc_lane_time(m->cluster->drives[i].lane, NULL, 0);
    yc_metrics_free(m->reg);
    free(m->drive_names);
    free(m->local_names);
    free(m->local_index);
    for (size_t i = 0; m->set_names != NULL && m->cluster != NULL && i < m->cluster->nsets; i++)
        free(m->set_names[i]);
    free(m->set_names);
    free(m);
}

/* Label value lists of the cluster: drives, local drives, sets. */
static int make_cluster_labels(gw_metrics_t *m, gw_cluster_t *c)
{
    m->drive_names = calloc(c->ndrives, sizeof(*m->drive_names));
    m->local_names = calloc(c->ndrives, sizeof(*m->local_names));
    m->local_index = calloc(c->ndrives, sizeof(*m->local_index));
    m->set_names = calloc(c->nsets, sizeof(*m->set_names));
    if (m->drive_names == NULL || m->local_names == NULL || m->local_index == NULL || m->set_names == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < c->ndrives; i++) {
        m->drive_names[i] = c->drives[i].path;
        /* a local drive that could not open is listed too: its figures stay 0 */
        if (c->drives[i].node != NULL && strcmp(c->drives[i].node, "local") == 0) {
            m->local_names[m->nlocal] = c->drives[i].path;
            m->local_index[m->nlocal++] = i;
        }
    }
    for (size_t s = 0; s < c->nsets; s++) {
        char buf[24];
        snprintf(buf, sizeof(buf), "%zu", s);
        if ((m->set_names[s] = strdup(buf)) == NULL)
            return -ENOMEM;
    }
    return 0;
}

#define TRY(call)                                                                                                      \
    do {                                                                                                               \
        if ((ret = (call)) != 0)                                                                                       \
            goto fail;                                                                                                 \
    } while (0)

int gw_metrics_new(const gw_metrics_config_t *cfg, gw_metrics_t **out)
{
    gw_metrics_t *m;
    int ret;

    if (cfg->op_names == NULL || cfg->nops == 0)
        return -EINVAL;
    if ((m = calloc(1, sizeof(*m))) == NULL)
        return -ENOMEM;
    m->cluster = cfg->cluster;
    m->access_log = cfg->access_log;
    m->audit = cfg->audit;
    m->sample = cfg->sample;
    m->sample_arg = cfg->sample_arg;
    m->nops = cfg->nops;
    for (int s = 0; s < NSTATES; s++)
        m->state_names[s] = gw_health_state_name((gw_health_state_t)s);
    TRY(yc_metrics_new(&m->reg));
    yc_metrics_t *r = m->reg;
    yc_metrics_label_t op = {"operation", cfg->op_names, cfg->nops}, code = {"code", status_names, NSTATUS};
    yc_metrics_label_t op_code[] = {op, code}, shed = {"reason", shed_names, GW_SHED__COUNT};

    TRY(yc_metrics_counter(r, "yc_requests_total", "Requests answered, by S3 operation and HTTP status.", op_code, 2,
                           &m->requests));
    TRY(yc_metrics_histogram(r, "yc_request_duration_seconds",
                             "Time from a request's first byte to the last byte of its answer.", &op, 1, request_bounds,
                             NBOUNDS(request_bounds), 9, &m->duration));
    TRY(yc_metrics_counter(r, "yc_request_received_bytes_total", "Request body bytes taken, by operation.", &op, 1,
                           &m->bytes_in));
    TRY(yc_metrics_counter(r, "yc_request_sent_bytes_total", "Response bytes sent, by operation.", &op, 1,
                           &m->bytes_out));
    TRY(yc_metrics_gauge(r, "yc_requests_inflight", "Requests admitted and not finished.", NULL, 0, &m->inflight));
    TRY(yc_metrics_gauge(r, "yc_requests_queued", "Requests waiting for admission.", NULL, 0, &m->queued));
    TRY(yc_metrics_gauge(r, "yc_client_connections", "Open client connections.", NULL, 0, &m->connections));
    TRY(yc_metrics_gauge(r, "yc_admission_limit", "Requests admission lets in flight now (the adaptive bound).", NULL,
                         0, &m->limit));
    TRY(yc_metrics_gauge(r, "yc_admission_delay_microseconds",
                         "The adaptive bound's last measure: the mean wait of a job for a worker, in microseconds.",
                         NULL, 0, &m->delay));
    TRY(yc_metrics_counter(r, "yc_admission_limit_cuts_total", "Times the adaptive in-flight bound was cut.", NULL, 0,
                           &m->limit_cuts));
    TRY(yc_metrics_counter(r, "yc_requests_shed_total",
                           "Requests answered 503 SlowDown by admission control, by cause.", &shed, 1, &m->shed));
    TRY(yc_metrics_histogram(r, "yc_admission_wait_seconds", "Time admitted requests waited for admission.", NULL, 0,
                             wait_bounds, NBOUNDS(wait_bounds), 9, &m->wait));
    TRY(yc_metrics_histogram(r, "yc_body_read_before_auth_bytes",
                             "Request body bytes read before the request was authenticated, per request.", NULL, 0,
                             auth_body_bounds, NBOUNDS(auth_body_bounds), 0, &m->auth_body));
    TRY(yc_metrics_counter(r, "yc_access_log_dropped_total",
                           "Access-log lines dropped: the destination could not keep up.", NULL, 0, &m->log_dropped));
    TRY(yc_metrics_counter(r, "yc_audit_records_dropped_total",
                           "Request records the audit trail dropped because its queue was full (admin records never "
                           "are; each loss is also a drop record in the chain).",
                           NULL, 0, &m->audit_dropped));
    m->lc = cfg->lc;
    m->lc_arg = cfg->lc_arg;
    if (m->lc != NULL) {
        yc_metrics_label_t action = {"action", lc_action_names, GW_LC__ACTIONS};
        TRY(yc_metrics_counter(r, "yc_lifecycle_actions_total",
                               "What lifecycle rules did (held: kept by Object Lock; deferred: left for a later pass).",
                               &action, 1, &m->lc_actions));
        TRY(yc_metrics_counter(r, "yc_lifecycle_scanned_total", "Versions and uploads the lifecycle worker looked at.",
                               NULL, 0, &m->lc_scanned));
        TRY(yc_metrics_counter(r, "yc_lifecycle_passes_total", "Lifecycle passes over a bucket finished.", NULL, 0,
                               &m->lc_passes));
        TRY(yc_metrics_counter(r, "yc_lifecycle_lease_busy_total",
                               "Lifecycle passes left to the gateway holding the bucket's lease.", NULL, 0,
                               &m->lc_lease_busy));
        TRY(yc_metrics_counter(r, "yc_lifecycle_errors_total", "Lifecycle reads or actions that failed.", NULL, 0,
                               &m->lc_errors));
    }

    gw_cluster_t *c = cfg->cluster;
    if (c != NULL && c->ndrives > 0) {
        TRY(make_cluster_labels(m, c));
        yc_metrics_label_t drive = {"drive", m->drive_names, c->ndrives},
                           set = {"set", (const char *const *)m->set_names, c->nsets};
        yc_metrics_label_t drive_state[] = {drive, {"state", m->state_names, NSTATES}};
        TRY(yc_metrics_histogram(r, "yc_drive_request_duration_seconds",
                                 "Time of calls to a drive, as the gateway waited.", &drive, 1, drive_bounds,
                                 NBOUNDS(drive_bounds), 9, &m->drive_duration));
        for (size_t i = 0; i < c->ndrives; i++)
            if (c->drives[i].lane != NULL)
                yc_lane_time(c->drives[i].lane, m->drive_duration, i);
        TRY(yc_metrics_counter(r, "yc_drive_request_errors_total", "Calls to a drive that failed or got no answer.",
                               &drive, 1, &m->drive_errors));
        TRY(yc_metrics_gauge(r, "yc_drive_up", "1 when the drive is reachable and the expected one (state ok).", &drive,
                             1, &m->drive_up));
        TRY(yc_metrics_gauge(r, "yc_drive_state", "1 for the drive's current state as the health prober sees it.",
                             drive_state, 2, &m->drive_state));
        TRY(yc_metrics_counter(r, "yc_drive_io_errors_total", "I/O errors the object engine met on the drive.", &drive,
                               1, &m->drive_io_errors));
        TRY(yc_metrics_counter(r, "yc_drive_shard_read_bytes_total",
                               "Shard bytes the object engine read from the drive (checksums excluded).", &drive, 1,
                               &m->drive_shard_bytes));
        TRY(yc_metrics_gauge(r, "yc_set_drives_ok", "Drives of the erasure set in state ok.", &set, 1, &m->set_ok));
        TRY(yc_metrics_gauge(r, "yc_set_write_quorum", "Drives of the erasure set a write needs.", &set, 1,
                             &m->set_quorum));
        TRY(yc_metrics_gauge(r, "yc_set_writable", "1 when the set has its write quorum of drives ok.", &set, 1,
                             &m->set_writable));
        TRY(yc_metrics_gauge(r, "yc_heal_queue", "Keys waiting for the background healer.", NULL, 0, &m->heal_queue));
        TRY(yc_metrics_counter(r, "yc_heal_noted_total", "Keys noted for healing.", NULL, 0, &m->heal_noted));
        TRY(yc_metrics_counter(r, "yc_heal_repaired_total", "Drives given back an object by the healer.", NULL, 0,
                               &m->heal_repaired));
        TRY(yc_metrics_counter(r, "yc_heal_failed_total", "Objects a heal could not finish.", NULL, 0,
                               &m->heal_failed));
        TRY(yc_metrics_gauge(r, "yc_heal_full_running", "1 while a full heal runs.", NULL, 0, &m->heal_running));
        TRY(yc_metrics_gauge(r, "yc_heal_full_scanned", "Objects checked by the current or last full heal.", NULL, 0,
                             &m->heal_scanned));
        static const char *const cleanup_names[GW_CLEANUP__RESULTS] = {"done", "retried", "abandoned", "dropped"};
        yc_metrics_label_t cleanup_result = {"result", cleanup_names, GW_CLEANUP__RESULTS};
        TRY(yc_metrics_counter(r, "yc_write_cleanup_total",
                               "Failed writes removed from the drives that took them, by outcome of each pass.",
                               &cleanup_result, 1, &m->cleanup_results));
        TRY(yc_metrics_gauge(r, "yc_write_cleanup_queue", "Failed writes waiting to be removed from drives.", NULL, 0,
                             &m->cleanup_queue));
    }
    if (m->nlocal > 0) {
        yc_metrics_label_t local = {"drive", m->local_names, m->nlocal};
        TRY(yc_metrics_gauge(r, "yc_drive_free_bytes", "Free bytes of a local drive's file system.", &local, 1,
                             &m->free_bytes));
        TRY(yc_metrics_gauge(r, "yc_drive_reserve_bytes",
                             "Bytes a local drive keeps free: writes needing them get 507.", &local, 1,
                             &m->reserve_bytes));
        TRY(yc_metrics_gauge(r, "yc_rocksdb_estimated_keys", "RocksDB's estimate of a local drive's records.", &local,
                             1, &m->db_keys));
        TRY(yc_metrics_gauge(r, "yc_rocksdb_sst_bytes", "Bytes of every SST file of a local drive's RocksDB.", &local,
                             1, &m->db_sst));
        TRY(yc_metrics_gauge(r, "yc_rocksdb_live_sst_bytes", "Bytes of the live SST files.", &local, 1,
                             &m->db_live_sst));
        TRY(yc_metrics_gauge(r, "yc_rocksdb_memtable_bytes", "Bytes of the memtables.", &local, 1, &m->db_memtable));
        TRY(yc_metrics_gauge(r, "yc_rocksdb_pending_compaction_bytes", "RocksDB's estimate of bytes left to compact.",
                             &local, 1, &m->db_pending));
        TRY(yc_metrics_gauge(r, "yc_rocksdb_running_compactions", "Compactions running.", &local, 1,
                             &m->db_compactions));
        TRY(yc_metrics_gauge(r, "yc_rocksdb_running_flushes", "Flushes running.", &local, 1, &m->db_flushes));
        TRY(yc_metrics_counter(r, "yc_rocksdb_background_errors_total",
                               "Background errors of RocksDB (each stops its writes until a reopen).", &local, 1,
                               &m->db_bg_errors));
        TRY(yc_metrics_gauge(r, "yc_rocksdb_write_stopped", "1 while the drive's RocksDB refuses writes.", &local, 1,
                             &m->db_write_stopped));
        TRY(yc_metrics_gauge(r, "yc_rocksdb_read_only", "1 when the drive's RocksDB is open read-only (it was full).",
                             &local, 1, &m->db_read_only));
        TRY(yc_metrics_counter(r, "yc_rocksdb_synced_writes_total",
                               "Synced writes (one WAL sync each; a group commit's batch is one).", &local, 1,
                               &m->db_synced_writes));
        TRY(yc_metrics_counter(r, "yc_rocksdb_synced_records_total", "Puts and deletes those synced writes held.",
                               &local, 1, &m->db_synced_records));
    }
    *out = m;
    return 0;

fail:
    gw_metrics_free(m);
    return ret;
}

/* ---------------------------------------------------------------- events */

/* Runs once per request: the three digits are made by hand, as snprintf cost more than the rest
 * of the request's metrics together. */
static size_t status_index(int status)
{
    if (status < 100 || status > 999)
        return NSTATUS - 1;
    char buf[4] = {(char)('0' + status / 100), (char)('0' + status / 10 % 10), (char)('0' + status % 10), '\0'};
    for (size_t i = 0; i + 1 < NSTATUS; i++)
        if (memcmp(status_names[i], buf, 4) == 0)
            return i;
    return NSTATUS - 1;
}

void gw_metrics_request_done(gw_metrics_t *m, int op, int status, uint64_t bytes_in, uint64_t bytes_out,
                             int64_t duration_ns)
{
    if (m == NULL)
        return;
    size_t o = op >= 0 && (size_t)op < m->nops ? (size_t)op : m->nops - 1;
    size_t idx[2] = {o, status_index(status)};
    yc_metrics_add(m->requests, yc_metrics_series(m->requests, idx, 2), 1);
    yc_metrics_observe(m->duration, o, duration_ns > 0 ? (uint64_t)duration_ns : 0);
    if (bytes_in > 0)
        yc_metrics_add(m->bytes_in, o, bytes_in);
    if (bytes_out > 0)
        yc_metrics_add(m->bytes_out, o, bytes_out);
}

void gw_metrics_shed(gw_metrics_t *m, gw_shed_reason_t reason)
{
    if (m != NULL)
        yc_metrics_add(m->shed, (size_t)reason < GW_SHED__COUNT ? (size_t)reason : GW_SHED_INFLIGHT, 1);
}

void gw_metrics_admission_wait(gw_metrics_t *m, int64_t ns)
{
    if (m != NULL)
        yc_metrics_observe(m->wait, 0, ns > 0 ? (uint64_t)ns : 0);
}

void gw_metrics_body_before_auth(gw_metrics_t *m, uint64_t bytes)
{
    if (m != NULL)
        yc_metrics_observe(m->auth_body, 0, bytes);
}

void gw_metrics_drive_request(gw_metrics_t *m, size_t drive, int64_t ns, int failed)
{
    if (m == NULL || m->drive_duration == NULL)
        return;
    yc_metrics_observe(m->drive_duration, drive, ns > 0 ? (uint64_t)ns : 0);
    if (failed)
        yc_metrics_add(m->drive_errors, drive, 1);
}

/* ---------------------------------------------------------------- rendering */

static void read_health(gw_metrics_t *m, gw_cluster_t *c)
{
    gw_health_drive_t d;
    int *ok = calloc(c->ndrives, sizeof(*ok));

    for (size_t i = 0; i < c->ndrives; i++) {
        gw_health_state_t st = GW_HEALTH_UNKNOWN;
        if (c->health != NULL) {
            gw_health_drive(c->health, i, &d);
            st = d.state;
        }
        if ((unsigned)st >= NSTATES)
            st = GW_HEALTH_UNKNOWN;
        yc_metrics_set(m->drive_up, i, st == GW_HEALTH_OK);
        for (size_t s = 0; s < NSTATES; s++)
            yc_metrics_set(m->drive_state, yc_metrics_series(m->drive_state, (size_t[]){i, s}, 2), s == (size_t)st);
        yc_metrics_counter_set(m->drive_io_errors, i, __atomic_load_n(&c->drives[i].errors, __ATOMIC_RELAXED));
        yc_metrics_counter_set(m->drive_shard_bytes, i, __atomic_load_n(&c->drives[i].shard_bytes, __ATOMIC_RELAXED));
        if (ok != NULL)
            ok[i] = st == GW_HEALTH_OK;
    }
    for (size_t s = 0; s < c->nsets; s++) {
        gw_set_t *set = &c->sets[s];
        int64_t nok = 0;
        for (uint32_t j = 0; ok != NULL && j < gw_set_width(set); j++)
            nok += ok[set->drives[j] - c->drives];
        uint32_t quorum = gw_set_write_quorum(set);
        yc_metrics_set(m->set_ok, s, nok);
        yc_metrics_set(m->set_quorum, s, quorum);
        yc_metrics_set(m->set_writable, s, nok >= (int64_t)quorum);
    }
    free(ok);
}

static void read_heal(gw_metrics_t *m, gw_cluster_t *c)
{
    gw_heal_status_t st;

    if (c->healer == NULL)
        return;
    gw_heal_status(c->healer, &st);
    yc_metrics_set(m->heal_queue, 0, (int64_t)st.queued);
    yc_metrics_counter_set(m->heal_noted, 0, st.noted);
    yc_metrics_counter_set(m->heal_repaired, 0, st.repaired);
    yc_metrics_counter_set(m->heal_failed, 0, st.failed);
    yc_metrics_set(m->heal_running, 0, st.running);
    yc_metrics_set(m->heal_scanned, 0, (int64_t)st.scanned);
}

static void read_cleanup(gw_metrics_t *m, gw_cluster_t *c)
{
    gw_cleanup_t *cl = __atomic_load_n(&c->cleanup, __ATOMIC_ACQUIRE);
    uint64_t results[GW_CLEANUP__RESULTS], queued;

    if (cl == NULL)
        return;
    gw_cleanup_counts(cl, results, &queued);
    for (size_t i = 0; i < GW_CLEANUP__RESULTS; i++)
        yc_metrics_counter_set(m->cleanup_results, i, results[i]);
    yc_metrics_set(m->cleanup_queue, 0, (int64_t)queued);
}

static void read_lifecycle(gw_metrics_t *m)
{
    gw_metrics_lifecycle_t st = {{0}};

    if (m->lc == NULL)
        return;
    m->lc(m->lc_arg, &st);
    for (size_t i = 0; i < GW_LC__ACTIONS; i++)
        yc_metrics_counter_set(m->lc_actions, i, st.actions[i]);
    yc_metrics_counter_set(m->lc_scanned, 0, st.scanned);
    yc_metrics_counter_set(m->lc_passes, 0, st.passes);
    yc_metrics_counter_set(m->lc_lease_busy, 0, st.lease_busy);
    yc_metrics_counter_set(m->lc_errors, 0, st.errors);
}

static void read_local_drives(gw_metrics_t *m, gw_cluster_t *c)
{
    for (size_t l = 0; l < m->nlocal; l++) {
        store_drive_t *d = c->drives[m->local_index[l]].local;
        uint64_t free_bytes, reserve;
        meta_db_stats_t st;

        if (d == NULL) /* offline: its figures stay 0, yc_drive_up says why */
            continue;
        if (store_drive_space(d, &free_bytes, &reserve) == 0) {
            yc_metrics_set(m->free_bytes, l, (int64_t)free_bytes);
            yc_metrics_set(m->reserve_bytes, l, (int64_t)reserve);
        }
        meta_db_stats(store_drive_db(d), &st); /* a property RocksDB lacks stays 0 */
        yc_metrics_set(m->db_keys, l, (int64_t)st.estimate_keys);
        yc_metrics_set(m->db_sst, l, (int64_t)st.sst_bytes);
        yc_metrics_set(m->db_live_sst, l, (int64_t)st.live_sst_bytes);
        yc_metrics_set(m->db_memtable, l, (int64_t)st.memtable_bytes);
        yc_metrics_set(m->db_pending, l, (int64_t)st.pending_compaction_bytes);
        yc_metrics_set(m->db_compactions, l, (int64_t)st.running_compactions);
        yc_metrics_set(m->db_flushes, l, (int64_t)st.running_flushes);
        yc_metrics_counter_set(m->db_bg_errors, l, st.background_errors);
        yc_metrics_counter_set(m->db_synced_writes, l, st.synced_writes);
        yc_metrics_counter_set(m->db_synced_records, l, st.synced_records);
        yc_metrics_set(m->db_write_stopped, l, st.write_error != 0);
        yc_metrics_set(m->db_read_only, l, st.read_only);
    }
}

int gw_metrics_render(gw_metrics_t *m, char **out, size_t *len)
{
    if (m->sample != NULL) {
        gw_metrics_gauges_t g = {0};
        m->sample(m->sample_arg, &g);
        yc_metrics_set(m->inflight, 0, g.inflight);
        yc_metrics_set(m->queued, 0, g.queued);
        yc_metrics_set(m->connections, 0, g.connections);
        yc_metrics_set(m->limit, 0, g.limit);
        yc_metrics_set(m->delay, 0, g.delay_ns / 1000);
        yc_metrics_counter_set(m->limit_cuts, 0, (uint64_t)g.limit_cuts);
    }
    yc_metrics_counter_set(m->log_dropped, 0, gw_access_log_dropped(m->access_log));
    yc_metrics_counter_set(m->audit_dropped, 0, gw_audit_dropped(m->audit));
    read_lifecycle(m);
    if (m->cluster != NULL && m->drive_up != NULL) {
        read_health(m, m->cluster);
        read_heal(m, m->cluster);
        read_cleanup(m, m->cluster);
        read_local_drives(m, m->cluster);
    }
    return yc_metrics_render(m->reg, out, len);
}
