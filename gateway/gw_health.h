/* gw_health.h — what the gateway sees of its drives, said once and kept up to date.
 *
 * A prober thread per yc-store daemon (node) asks each of its drives for its identity every
 * second, placing the drive on first contact (store_identity_place: cluster id, set, slot) and
 * checking it on every later one. The answer, or the way it failed, is the drive's state:
 *
 *   ok              the daemon answers, accepts our signature and the drive is the expected one
 *   refused         connection refused: nothing listens at the daemon's address
 *   timed_out       no connection, or no answer, within the probe's time
 *   unreachable     no route to the host, or its name does not resolve
 *   wrong_secret    the daemon refused our signature (another cluster secret, or clocks apart)
 *   wrong_identity  the drive belongs to another cluster, or to another set or slot (swapped)
 *   not_served      the daemon serves no drive of that name
 *   error           anything else (the detail says what)
 *   offline         a drive in this process that could not be opened (the detail says why)
 *
 * A daemon's line is logged once at start (gw_health_start returns after every daemon's first
 * probe) and again whenever a state of it changes: `event=node_state node=HOST:PORT
 * state=... drives_ok=N/M` with the cause. A drive that is not known to be the right one —
 * never answered yet, wrong identity, not served — is fenced (store_client_fence): calls fail
 * at once as if it were down, so that no data goes to a wrong drive and no answer of a wrong
 * drive counts. A drive whose daemon is silent — timed out, unreachable — is fenced too, so that
 * no request pays a connect or answer timeout to a node known down (a partition drops packets:
 * without the fence every call would wait its full timeout), and calls already waiting on it
 * give up within NET_FENCE_CHECK_MS (net_conn.c). A refused connection costs nothing, so a daemon
 * that is merely stopped is not fenced, and is used the moment it is back. A fence is lifted by
 * the probe that finds the drive right.
 */
#ifndef YC_GW_HEALTH_H
#define YC_GW_HEALTH_H
#include <stddef.h>
#include <stdint.h>
#include "gateway/gw_cluster.h"
#include "store/store.h"

typedef struct gw_health gw_health_t;

typedef enum {
    GW_HEALTH_UNKNOWN = 0,
    GW_HEALTH_OK,
    GW_HEALTH_REFUSED,
    GW_HEALTH_TIMEOUT,
    GW_HEALTH_UNREACHABLE,
    GW_HEALTH_WRONG_SECRET,
    GW_HEALTH_WRONG_IDENTITY,
    GW_HEALTH_NOT_SERVED,
    GW_HEALTH_ERROR,
    GW_HEALTH_OFFLINE,
} gw_health_state_t;

#define GW_HEALTH_DETAIL_MAX 256

/* One drive as last seen. */
typedef struct {
    gw_health_state_t state;
    char detail[GW_HEALTH_DETAIL_MAX]; /* why, when not ok */
    int64_t since_ns;                  /* monotonic time the state began */
    int has_identity;                  /* identity: as the drive last told it */
    store_identity_info_t identity;
} gw_health_drive_t;

/* One node (a yc-store daemon, or "local" for the drives in this process). */
typedef struct {
    const char *name;        /* HOST:PORT or "local" (lives as long as the health module) */
    gw_health_state_t state; /* ok here means reachable: the daemon answered */
    char detail[GW_HEALTH_DETAIL_MAX];
    int64_t since_ns;
    size_t ndrives, nok;
} gw_health_node_t;

/* Timeouts of the probe clients (gw_drive_t.probe): short, so that a daemon that is down is
 * named within a few seconds, and one that hangs does not hold its prober long. */
#define GW_HEALTH_CONNECT_MS 1000
#define GW_HEALTH_IO_MS      1500

typedef struct {
    uint32_t interval_ms; /* between two probes of a daemon; 0: 1000 */
} gw_health_config_t;

/* Starts probing the cluster's remote drives; returns after every daemon was probed once and
 * its line logged. Local drives are reported as they opened. */
int gw_health_start(gw_cluster_t *c, const gw_health_config_t *cfg, gw_health_t **out);
/* Stops the probers and waits for them. */
void gw_health_stop(gw_health_t *h);

const char *gw_health_state_name(gw_health_state_t s);

/* The state of drive i (cluster order). */
void gw_health_drive(gw_health_t *h, size_t i, gw_health_drive_t *out);
/* Nodes, in order of first appearance in the drives list; node k's drives by index. */
size_t gw_health_nnodes(const gw_health_t *h);
/* Local drive i was replaced in its place (gw_cluster_replace_local): it is ok now, with the
 * identity of the drive that took the place. (A local drive's state is otherwise set at start.) */
void gw_health_local_replaced(gw_health_t *h, size_t i);
void gw_health_node(gw_health_t *h, size_t k, gw_health_node_t *out);
/* The cluster indexes of node k's drives (borrowed) and their count. */
const size_t *gw_health_node_drives(const gw_health_t *h, size_t k, size_t *n);

/* Writes which drives are missing and why into buf ("HOST:PORT/NAME=state ...", "none" when
 * every drive is ok), cut with "..." to fit; returns how many drives are missing. For log
 * lines about failures that lack drives. h may be NULL (then "unknown"). */
size_t gw_health_missing(gw_health_t *h, char *buf, size_t cap);

/* Says in buf how identity `got` differs from the placement expected (cluster id, set, slot);
 * 0 when it does not differ, 1 when it does. */
int gw_health_identity_mismatch(const store_identity_info_t *got, const uint8_t cluster_id[STORE_ID_LEN], uint32_t set,
                                uint32_t slot, char *buf, size_t cap);

/* Logs that a request was refused for lack of drives, with the missing drives: at most one
 * line a second, which counts the refusals it did not log. h may be NULL. */
void gw_health_log_unavailable(gw_health_t *h, const char *request_id);

#endif
