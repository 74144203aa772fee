/* gw_cleanup.h — removing what a write that failed its quorum left on the drives.
 *
 * A write (PUT, copy, Complete, a delete marker) that missed its write quorum is answered with an
 * error, but the drives that took it hold its record and, for data in files, its shard files. The
 * object engine takes the record back at once where it can (gw_object_commit); everything else is
 * queued here: a thread of its own removes, drive by drive, exactly that write's record (its
 * modification time and version id, compared under the drive's key lock: never a newer write of
 * the key) and then its shard files (named by the write's random data id, which no other write
 * shares). Drives that do not answer are tried again with a backoff (0.25 s doubling to 16 s, 10
 * tries, about 64 s: longer than GW_FAILED_WRITE_AGE_NS, so that the healer, given the key then,
 * takes what is left for garbage); then, or when the queue is full, the key is left to the
 * healer (gw_object_collect) and the files to the orphan collector.
 */
#ifndef YC_GW_CLEANUP_H
#define YC_GW_CLEANUP_H
#include <stdint.h>
#include "gateway/gw_cluster.h"

typedef struct gw_cleanup gw_cleanup_t;

/* Outcomes counted (yc_write_cleanup_total{result}): every drive clean; a retry scheduled for drives
 * that did not answer; given up after the last retry; not queued because the queue was full. */
enum { GW_CLEANUP_DONE, GW_CLEANUP_RETRIED, GW_CLEANUP_ABANDONED, GW_CLEANUP_DROPPED, GW_CLEANUP__RESULTS };

#define GW_CLEANUP_QUEUE_MAX 4096 /* writes waiting; each holds one encoded record */
#define GW_CLEANUP_TRIES     10

/* Starts the cleanup thread over c's drives and sets c->cleanup. 0 or -errno. */
int gw_cleanup_start(gw_cluster_t *c, gw_cleanup_t **out);
/* Stops the thread (between two drives' calls) and frees what is queued: the healer and the orphan
 * collector get it later. Clears c->cleanup. cl may be NULL. */
void gw_cleanup_stop(gw_cleanup_t *cl);

/* Queues the removal of failed write rec from the drives of set: slot i is cleaned when record[i]
 * (its record may be there) or files[i] (it committed shard files of data_id, which is NULL for a
 * write without files) is set. For files alone, rec needs only its distribution (an empty key is
 * never given to the healer). rec and the arrays are copied; cheap, never blocks on drives. cl
 * may be NULL (nothing is done: the healer and the orphan collector remain). */
void gw_cleanup_queue(gw_cleanup_t *cl, gw_set_t *set, const meta_object_t *rec, const uint8_t *data_id,
                      const uint8_t *record, const uint8_t *files);

/* The outcomes counted so far (GW_CLEANUP__RESULTS entries) and the writes queued now. */
void gw_cleanup_counts(gw_cleanup_t *cl, uint64_t *results, uint64_t *queued);

/* Waits up to wait_ns until nothing is queued: 1 when empty. For tests. */
int gw_cleanup_idle(gw_cleanup_t *cl, int64_t wait_ns);

#endif
