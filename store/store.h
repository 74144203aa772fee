/* store.h — one drive: shard files plus the drive's RocksDB of records.
 *
 * A drive is a directory:
 *   db/                 RocksDB (meta_db_t) with every record of what the drive holds
 *   shards/XX/<id>.<i>  shard i of the data identified by <id> (hex of a random data id; XX its
 *                       first byte); names come from ids, never from client strings
 *   tmp/                shard files being written; emptied when the drive opens
 *
 * A shard file is a 32-byte header (magic, format version, block length, data length,
 * header checksum) followed by blocks, each followed by its xxh3-64 checksum. Every block has
 * the header's block length but the last, which may be shorter.
 *
 * Durability: a shard is written to tmp/, fdatasync'ed, renamed into shards/ and the directory
 * fsync'ed; only then is the record written, with a synced RocksDB WAL. The record is the
 * commit point: a crash before it leaves the old state (and an orphan file at worst), after it
 * the new one. Replaced versions' shard files are deleted after their record is gone.
 *
 * A full drive must never take the process down, and RocksDB must not be the one to find out
 * that the drive is full (see meta_db.c). So a drive keeps a free-space reserve that writes do
 * not take (store_drive_set_reserve): below it new shard data is refused with STORE_ENOSPC,
 * below half of it records too, so that a PUT whose shards got in can still write its record
 * and RocksDB keeps room for its flushes and compactions. Deletes are always admitted: they
 * are how space comes back. A write that meets a real ENOSPC anyway (another program filled
 * the filesystem) fails with STORE_ENOSPC and leaves the previous state intact. Once RocksDB
 * failed a write, the drive takes no write until its database reopened, which is tried (at
 * most once a second) when a write or delete comes and the drive has room for records again.
 *
 * Every call blocks (disk, fsync, RocksDB): call it from a worker thread, never an event loop.
 * A drive handle is safe to use from many threads at once.
 */
#ifndef YC_STORE_H
#define YC_STORE_H
#include <stddef.h>
#include <stdint.h>
#include "meta/meta.h"

typedef struct store_drive store_drive_t;
typedef struct store_shard_writer store_shard_writer_t;

/* Errors: the store block of common/errors.h (with -errno such as -ENOMEM):
 *   STORE_ENOENT        no such record or shard
 *   STORE_EBITROT       a block's checksum does not match: the shard is damaged
 *   STORE_ENOSPC        the drive is full
 *   STORE_EIO           any other I/O or RocksDB failure
 *   STORE_ECORRUPT      a record or shard header cannot be decoded
 *   STORE_EINVAL        bad arguments (a block longer than the first, a read past the end)
 *   STORE_EUNREACHABLE  network transport: the daemon could not be reached, nothing was sent
 *   STORE_EAUTH         network transport: the daemon rejected the request's credentials
 *   STORE_ESTALE        a newer null version is already stored: this put was absorbed
 *   STORE_EBUSY         a namespace lock is held by another owner
 * and those of the drive's identity, below. */
enum { STORE_OK = 0 };
/* Functions return 0, a STORE_ code, or -ENOMEM; other errno values are reported as STORE_EIO
 * because the small ones collide with the codes above. */

/* Opens the drive at dir, creating its layout when create is set; removes leftover temp files. */
int store_drive_open(const char *dir, int create, store_drive_t **out);
void store_drive_close(store_drive_t *d);
/* The drive's RocksDB, for record reads and scans (borrowed, lives as long as the drive). */
meta_db_t *store_drive_db(store_drive_t *d);
const char *store_drive_path(const store_drive_t *d);

/* ---- free space ---- */

/* The reserve a drive keeps unless told otherwise: 1% of its filesystem, at least 256 MiB (what
 * RocksDB's memtables, a compaction and the blocks in flight on a drive's lanes take whatever
 * the disk size; the percentage grows with the metadata a large drive accumulates), but at most
 * a quarter of the filesystem, so that a small one stays usable. */
#define STORE_RESERVE_AUTO 0
/* Sets the bytes the drive keeps free (STORE_RESERVE_AUTO: the default above). Drives that
 * share a filesystem share its free space, each keeping the reserve against all of it. */
void store_drive_set_reserve(store_drive_t *d, uint64_t bytes);
/* The free bytes of the drive's filesystem (a fresh statvfs) and the reserve in effect. */
int store_drive_space(store_drive_t *d, uint64_t *free_bytes, uint64_t *reserve);

/* Compactions the drive ran for deleted records (compact.c): waits up to wait_ns for the count
 * to pass `after`, then returns it. For tests and the operator's figures. */
uint64_t store_drive_compactions(store_drive_t *d, uint64_t after, int64_t wait_ns);

/* ---- shard files ---- */

/* Starts writing shard `index` of data `data_id` into tmp/. */
int store_shard_create(store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index,
                       store_shard_writer_t **out);
/* Appends one block and its checksum. The first block fixes the block length; later blocks must
 * have it, except the last, which may be shorter. An empty block, or one that breaks that rule,
 * is refused with STORE_EINVAL and leaves the writer as it was. */
int store_shard_append(store_shard_writer_t *w, const void *block, size_t len);
/* Appends one block that arrives in pieces (streamed from the network), without holding it
 * whole: _begin with its length (checked against the rules above before any byte is written,
 * as is the free-space reserve), _write for each piece in order, _end once len bytes came (it
 * writes the block's checksum; STORE_EINVAL when fewer came). _cancel drops the block instead
 * and leaves the writer as it was before _begin, so the next block takes its place. The file is
 * the same as store_shard_append of the whole block would make. One block at a time. */
int store_shard_block_begin(store_shard_writer_t *w, size_t len);
int store_shard_block_write(store_shard_writer_t *w, const void *piece, size_t len);
int store_shard_block_end(store_shard_writer_t *w);
void store_shard_block_cancel(store_shard_writer_t *w);
/* Makes the shard durable and visible (fdatasync, rename, fsync dir). Frees w in every case. */
int store_shard_commit(store_shard_writer_t *w);
/* Drops an unfinished shard and frees w. */
void store_shard_abort(store_shard_writer_t *w);

/* Reads len bytes at off (shard data coordinates, checksums excluded) after verifying the
 * checksum of every block the range touches: STORE_EBITROT on a mismatch or a truncated file,
 * STORE_ECORRUPT on a bad header, STORE_EINVAL past the data length. On error buf holds garbage. */
int store_shard_read(store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t off, size_t len,
                     void *buf);
/* Data length of a committed shard. */
int store_shard_stat(store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t *size);
/* Data length and block length (0 for an empty shard) of a committed shard: a reader that reads
 * in pieces cuts them at block boundaries, so that each block is read and verified once. */
int store_shard_layout(store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t *size,
                       uint32_t *block_len);
int store_shard_delete(store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index);
/* Verifies every block of a shard (for the scrubber). */
int store_shard_verify(store_drive_t *d, const uint8_t data_id[META_ID_LEN], uint32_t index);

/* Deletes shard files that no record of the drive refers to and that are older than
 * min_age_ns (younger ones may belong to a write whose record is on its way); *removed counts
 * them. Scans every record: run it from a background thread (store_gc_start). Stops early
 * when *stop becomes non-zero (stop may be NULL). */
int store_drive_gc_orphans(store_drive_t *d, int64_t min_age_ns, const volatile int *stop, size_t *removed);

/* Runs store_drive_gc_orphans over drives in a thread of its own, calling report (may be
 * NULL; on that thread) after each drive. The drives must stay open until store_gc_stop. */
typedef struct store_gc store_gc_t;
typedef void (*store_gc_report_fn)(void *arg, const char *drive_path, size_t removed, int ret);
int store_gc_start(store_drive_t *const *drives, size_t n, int64_t min_age_ns, store_gc_report_fn report, void *arg,
                   store_gc_t **out);
/* Stops the collector (between two directories) and waits for it. */
void store_gc_stop(store_gc_t *gc);

/* ---- object records ---- */

/* Writes an object version record durably, beside any older null version of the key (which
 * store_object_prune removes once the write is acknowledged). Null versions are ordered by
 * modification time, the same on every drive: a null version older than the one stored is
 * absorbed (not written, its shard files deleted) and the call returns STORE_ESTALE, so that
 * the caller neither counts this drive as holding it nor prunes for it. */
int store_object_put(store_drive_t *d, const meta_object_t *r);
/* store_object_put in two steps, so that one thread can have a record queued on several drives
 * at once and their group commits overlap: _begin queues the write in the drive's group commit
 * (0, *out set) or returns its outcome at once (*out NULL: an error, or STORE_ESTALE); _end
 * waits for it to be durable and returns what store_object_put would have. Between the two the
 * key's lock is held: _end runs on the thread that called _begin, and r stays valid until then.
 * A thread with several begun must have begun them in the same drive order as every other. w
 * (may be NULL) joins the write to the caller's meta_waiter_t, to wait for several at once. */
typedef struct store_put store_put_t;
int store_object_put_begin(store_drive_t *d, const meta_object_t *r, meta_waiter_t *w, store_put_t **out);
int store_object_put_end(store_put_t *p);
/* Waits for a begun write to be durable and returns its outcome (what _end will return); the
 * key's lock stays held until _end, so the caller can judge the quorum before ending it. */
int store_object_put_wait(store_put_t *p);
/* _end for a write the caller acknowledged (its quorum is met): when every version it replaced
 * has no shard files, also queues their prune (store_object_prune_light's contract) from what the
 * put wrote, under the lock still held, with no read of the slot; *pruned is then 1 (also when
 * there was nothing to prune, or the prune failed: the next write of the key prunes), 0 when
 * the caller must still call store_object_prune. */
int store_object_put_end_settled(store_put_t *p, int *pruned);
/* Deletes the null versions of keep's key older than keep, then their shard files (but those
 * keep itself refers to). The second step of replacing a null version. */
int store_object_prune(store_drive_t *d, const meta_object_t *keep);
/* The same when every version it drops has no shard files (inline data, delete markers), queued
 * in the drive's group commit without waiting for it (a prune lost in a crash leaves an older
 * version readers ignore, and the next write of the key drops it); -EAGAIN, nothing done, when
 * one has files. A read and a queued write: cheap enough for the writer's own thread. */
int store_object_prune_light(store_drive_t *d, const meta_object_t *keep);
/* Removes exactly version r (same modification time, version id, data and size) from the drive,
 * leaving every other version as it was: the take-back of a write that failed its quorum. Its
 * shard files stay for the orphan collector. STORE_ENOENT when the drive does not hold it. */
int store_object_takeback(store_drive_t *d, const meta_object_t *r);
/* Gives this drive's record of version r (same identity as for takeback) r's attributes
 * (attrs, attrs_ns), every other field as the drive holds it (its shard, its inline bytes), when
 * r->attrs_ns is newer than the stored one; an older or equal change is already superseded
 * there and returns 0 unchanged. STORE_ENOENT when the drive does not hold the version: an
 * update never brings back a version deleted meanwhile. */
int store_object_update(store_drive_t *d, const meta_object_t *r);
/* Reads the newest version (vid NULL) or one version of a key. On success *raw holds the
 * record bytes (caller disposes with meta_buf_dispose) and *out points into them. */
int store_object_get(store_drive_t *d, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid, meta_buf_t *raw,
                     meta_object_t *out);
/* Deletes one version (vid NULL: every null version of the key) and then its shard files. */
int store_object_delete(store_drive_t *d, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid);

/* Writes a record as is (buckets, uploads, parts, users, configs). */
int store_record_put(store_drive_t *d, const meta_key_t *key, const void *val, size_t vlen);
/* Reads a record; *val is malloc'd (caller frees). */
int store_record_get(store_drive_t *d, const meta_key_t *key, void **val, size_t *vlen);
/* store_record_get from memory only (RocksDB's memtables and block cache), for an event loop:
 * -EAGAIN when the answer needs a read from the disk (or a reopen holds the database). */
int store_record_get_cached(store_drive_t *d, const meta_key_t *key, void **val, size_t *vlen);
int store_record_delete(store_drive_t *d, const meta_key_t *key);

/* Scans records under prefix from seek (NULL: the start), at most limit callbacks (0: no limit). */
int store_record_scan(store_drive_t *d, const meta_key_t *prefix, const meta_key_t *seek, size_t limit, meta_scan_cb cb,
                      void *arg);
/* Same, giving each object key's null slot and newest version only (meta_db_scan_newest): what
 * a lookup of the newest version and a listing of current objects need, at a cost that does not
 * grow with the key's older versions or the tombstones of deleted ones. */
int store_record_scan_newest(store_drive_t *d, const meta_key_t *prefix, const meta_key_t *seek, size_t limit,
                             meta_scan_cb cb, void *arg);
/* Same, leaving out the object keys whose newest record is a delete marker, with skip notes where
 * it did (meta_db_scan_live): a listing of current objects. Notes count toward limit. */
int store_record_scan_live(store_drive_t *d, const meta_key_t *prefix, const meta_key_t *seek, size_t limit,
                           meta_scan_cb cb, void *arg);

/* ---- namespace locks (this drive's share of a quorum lock; see lock.c) ---- */

/* Grants the lock `name` (at most META_LOCK_NAME_MAX bytes) to owner for lease_ns, measured on
 * this drive's clock: when nobody holds it, when the holder's lease has run out, or when owner
 * holds it already (a renewal). STORE_EBUSY when another owner holds it. Durable (synced). */
int store_lock_acquire(store_drive_t *d, meta_bytes_t name, const uint8_t owner[META_ID_LEN], int64_t lease_ns);
/* Frees the lock if owner holds it; anything else is a success that changes nothing. */
int store_lock_release(store_drive_t *d, meta_bytes_t name, const uint8_t owner[META_ID_LEN]);
/* ---- drive identity (identity.c) ----
 *
 * A drive knows which drive it is, so that a gateway can tell a fresh drive from a wrong or
 * swapped one. The file `identity` at the top of the drive's directory holds, as text:
 *   format      the identity's format version (STORE_IDENTITY_FORMAT)
 *   drive_id    16 random bytes, made when the drive is first used
 *   verifier    HMAC-SHA256(cluster secret, "yuncang drive verifier 1 " hex(drive_id)): a daemon
 *               started with another secret finds out at start, before any gateway calls it
 *   cluster_id, set, slot
 *               where the gateways placed the drive (see store_identity_place)
 * Each field is written once, when it is first known, and never changed: the file is replaced
 * whole (temp file, fsync, rename, fsync of the directory) only to add a field. A drive is
 * opened by one process at a time: the open takes an exclusive lock on the directory.
 *
 * These calls block (disk): call them at start-up or from a worker, never an event loop.
 */
#define STORE_ID_LEN            16
#define STORE_IDENTITY_FORMAT   1
#define STORE_IDENTITY_TEXT_MAX 512 /* longest text form of an identity */

/* Errors of the identity (common/errors.h):
 *   STORE_EFOREIGN   the folder holds files that are not a yuncang drive's
 *   STORE_ESECRET    the drive was first served with another cluster secret
 *   STORE_EIDENTITY  the drive is placed elsewhere: another cluster, set or slot
 *   STORE_EINUSE     another process has the drive open */

typedef struct {
    uint32_t format;
    int has_drive_id;
    uint8_t drive_id[STORE_ID_LEN];
    int has_verifier;
    uint8_t verifier[32];
    int placed; /* cluster_id, set and slot are known */
    uint8_t cluster_id[STORE_ID_LEN];
    uint32_t set, slot;
} store_identity_info_t;

typedef struct store_identity store_identity_t;

/* Opens the identity of the drive at dir, preparing the drive on first use: the folder is made
 * when missing (its parent must exist), a folder holding anything but a yuncang drive (or an
 * empty lost+found) is refused with STORE_EFOREIGN, an unwritable one with the OS error, and a
 * new identity is written. secret (may be NULL) is the cluster secret: STORE_ESECRET when the
 * drive was prepared with another one; a drive prepared without one gets its verifier now.
 * On error, why gets one human sentence naming the cause (the OS error's text for OS errors);
 * the return is a STORE_ code, or STORE_EIO for an OS error. The lock is held until close. */
int store_identity_open(const char *dir, const void *secret, size_t secret_len, store_identity_t **out, char *why,
                        size_t whylen);
void store_identity_close(store_identity_t *id);
/* The identity as it stands. */
void store_identity_get(store_identity_t *id, store_identity_info_t *out);
/* Places the drive: records cluster_id, set and slot when the drive has no placement yet.
 * STORE_EIDENTITY when it is placed otherwise. *out (may be NULL) gets the identity after the
 * call either way. Safe to call from many threads. */
int store_identity_place(store_identity_t *id, const uint8_t cluster_id[STORE_ID_LEN], uint32_t set, uint32_t slot,
                         store_identity_info_t *out);
/* The cluster id every gateway of a cluster computes alike, without talking to each other:
 * HMAC-SHA256 of the layout (k, m, number of drives) under the cluster secret (secret may be
 * NULL: the embedded default). A drive of another cluster or layout differs. */
void store_identity_cluster_id(const void *secret, size_t secret_len, uint32_t k, uint32_t m, size_t ndrives,
                               uint8_t out[STORE_ID_LEN]);
/* The text form (the file's and the wire's): writes at most cap bytes, sets *len. */
int store_identity_encode(const store_identity_info_t *info, char *buf, size_t cap, size_t *len);
/* Parses a text form; fields may be missing (their has_ flags stay 0). STORE_ECORRUPT when it
 * is not an identity. */
int store_identity_decode(const char *text, size_t len, store_identity_info_t *out);

#endif
