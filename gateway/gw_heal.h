/* gw_heal.h — the healer: brings every drive of a set back to holding every visible object.
 *
 * Two ways in. Reads that had to work around a missing or damaged shard, and writes that
 * reached a quorum but not every drive, note the key: the object engine through the cluster's
 * repair sink (gw_cluster.h), which the healer sets when it starts, so that the engine does not
 * depend on the healer (the healer uses the engine to look up and heal); anything else through
 * gw_heal_note. A background thread heals noted keys, retrying those whose drives are
 * unreachable until they answer. A full heal (yc-admin heal) walks every bucket and every
 * visible object, which is what a wiped or replaced drive needs, and also re-replicates bucket
 * and user records to every drive.
 * Progress is counted for the admin API and the logs.
 */
#ifndef YC_GW_HEAL_H
#define YC_GW_HEAL_H
#include <stdint.h>
#include "gateway/gw_admit.h"
#include "gateway/gw_cluster.h"

typedef struct gw_healer gw_healer_t;

typedef struct {
    int running;                     /* a full heal is in progress */
    uint64_t scanned;                /* objects checked by the current or last full heal */
    uint64_t total;                  /* objects it walks: counted before the walk (0 until then) */
    int64_t walk_started_ns;         /* when the walk began, after the count (0 until then) */
    uint64_t repaired;               /* drives given back an object (all heals since start) */
    uint64_t failed;                 /* objects a heal could not finish (retried later when noted) */
    uint64_t queued;                 /* keys waiting for the background healer */
    uint64_t noted;                  /* gw_heal_note calls since start */
    uint64_t deferred;               /* heals put off because admission control gave no slot in time */
    uint64_t rebuilt_bytes;          /* shard bytes the current or last full heal gave drives back */
    uint64_t rate;                   /* its bound on rebuilt_bytes a second (0: none) */
    int64_t started_ns, finished_ns; /* of the current or last full heal */
} gw_heal_status_t;

/* Starts the background healer of c (and sets c->healer and c->repair). */
int gw_healer_start(gw_cluster_t *c, gw_healer_t **out);
void gw_healer_stop(gw_healer_t *h);

/* Makes every heal of a key take a slot of admission control's background class first (a NULL:
 * none), so that healing yields to client requests: a heal that gets no slot within the class's
 * deadline is put off (the key retried after a pause). a must outlive the healer. */
void gw_healer_set_admit(gw_healer_t *h, gw_admit_t *a);

/* Queues a key for the background healer; cheap, never blocks on drives (a full queue only
 * drops the note: a full heal finds the key anyway). Safe from any thread; h may be NULL. */
void gw_heal_note(gw_healer_t *h, meta_bytes_t bucket, meta_bytes_t key);

/* Asks the healer thread to sweep the dead namespace ns (gw_sweep.h) in a few seconds, once
 * writers racing the bucket's deletion are done; h may be NULL. */
void gw_heal_sweep_later(gw_healer_t *h, meta_bytes_t ns);

/* Starts a full heal in the background unless one is running. A full heal also sweeps every
 * dead namespace it finds. With rate > 0 the walk rebuilds at most rate shard bytes a second on
 * average (it pauses between objects once ahead), so that a wiped drive's rebuild leaves the
 * disks to client requests; 0 is no bound. A heal already running keeps its own. */
void gw_heal_start_full(gw_healer_t *h, uint64_t rate);
void gw_heal_status(gw_healer_t *h, gw_heal_status_t *out);

#endif
