/* gw_lock.h — namespace locks on a quorum of drives, for the few operations that must not race.
 *
 * The design allows exactly these to lock: CompleteMultipartUpload, AbortMultipartUpload and the
 * swap of a part's record (against each other), CreateBucket / DeleteBucket (against each
 * other), and conditional writes and deletes of one key (against each other, gw_cond_write.h).
 * Reads and unconditional object PUTs never lock.
 *
 * A lock is granted on each drive by store_client_lock_acquire (store/lock.c) and held when a
 * majority of the drives it spans granted it: two majorities share a drive, and that drive
 * grants one owner at a time. A drive that refused or did not answer is released again, and the
 * attempt is retried after a short random pause until the caller's wait runs out. Each drive's
 * grant is a lease (GW_LOCK_LEASE_NS on the drive's own clock): a holder that dies frees the
 * name once it runs out; holders finish their work (a few record writes) far within it.
 *
 * All calls block: run them on a request worker.
 */
#ifndef YC_GW_LOCK_H
#define YC_GW_LOCK_H
#include "gateway/gw_cluster.h"

#define GW_LOCK_LEASE_NS (30LL * 1000 * 1000 * 1000)
#define GW_LOCK_WAIT_NS  (10LL * 1000 * 1000 * 1000) /* how long a caller waits by default */

typedef struct {
    gw_drive_t **drives; /* the drives the lock spans (owned) */
    uint8_t *granted;    /* per drive: it granted the lock and has not released it (owned) */
    size_t n;
    uint8_t owner[META_ID_LEN]; /* random per acquisition */
    char name[META_LOCK_NAME_MAX];
    size_t name_len;
    int64_t lease_ns; /* each drive's grant runs out this long after it was given or renewed */
} gw_lock_t;

/* Takes the lock `name` on the drives of set s, waiting up to wait_ns for it. 0 when held,
 * GW_EBUSY when another owner kept it (or too few drives answered) for the whole wait, GW_ENOSPC
 * at once when more drives are too full to grant it than a majority can spare. */
int gw_lock_set(gw_set_t *s, meta_bytes_t name, int64_t wait_ns, gw_lock_t *out);
/* Same on every drive of the cluster (names that no set owns: bucket names). */
int gw_lock_cluster(gw_cluster_t *c, meta_bytes_t name, int64_t wait_ns, gw_lock_t *out);
/* Same as gw_lock_cluster with a lease of lease_ns instead of GW_LOCK_LEASE_NS: for a holder
 * that keeps the name for long (a background worker's lease on a bucket) and renews it. */
int gw_lock_cluster_lease(gw_cluster_t *c, meta_bytes_t name, int64_t wait_ns, int64_t lease_ns, gw_lock_t *out);
/* Renews a held lock: every drive is asked again for the same owner, so each grant runs for a
 * new lease from now (and a drive that lost or never gave its grant may give it). 0 while a
 * majority grants it; GW_EBUSY when it no longer does (the lease ran out and someone took the
 * name over): the holder must stop, and still release l. */
int gw_lock_renew(gw_lock_t *l);
/* Releases a held lock (on every drive that granted it) and disposes of l. */
void gw_lock_release(gw_lock_t *l);

#endif
