/* gw_audit.h — the audit trail: every request and every admin action as a record of an append-only
 * log whose records are chained with SM3, sealed by checkpoints MAC-ed with HMAC-SM3.
 *
 * A record is one line of a file audit-<first record number, 20 digits>.log in the audit folder:
 *
 *   SEQ TIME TYPE PREV BODY HASH\n
 *
 * SEQ is the record number (1, 2, ... across every file and every restart), TIME the wall clock
 * in nanoseconds when the record was chained, TYPE one of req (a request), admin (an admin API or
 * IAM call), start, stop, drop (request records lost to a full queue: how many), expire (files
 * removed by the retention), ckpt (a checkpoint); PREV the SM3 of the previous record in hex (64
 * zeros before record 1); BODY a JSON object without a newline; HASH the SM3 of the line up to the
 * space before it. Changing, inserting, removing or reordering a record breaks SEQ's run or the
 * chain of hashes at that record.
 *
 * Anyone can recompute a chain; a checkpoint is what they cannot forge. Every N records or T
 * seconds (audit_checkpoint_records, audit_checkpoint_seconds), at a rotation and at a clean stop,
 * the writer appends a ckpt record whose body carries
 *   {"reason":"interval","key_id":"<8 hex>","mac":"<64 hex>"}
 * where mac is HMAC-SM3 under the audit key of "yc-audit-ckpt SEQ TIME PREV reason" — PREV covers
 * every record before it. The audit key comes from a file or an environment variable that the
 * configuration names (audit_key_file, audit_key_env); it is not derived from, and not reachable
 * with, the root credentials, and is needed only by who verifies. After each checkpoint the
 * file is fsynced and its line is copied (write, fsync, rename) to audit.head, so that cutting the
 * log's tail back past its last checkpoint is found (the head names a checkpoint the files lack).
 *
 * Rotation: a file is closed (after a checkpoint) when it reaches audit_rotate_bytes or is
 * audit_rotate_seconds old, and at every start a new file is begun; the chain runs on through the
 * files, so a new file's first record carries the hash of the previous file's last. Retention:
 * closed files whose last write is older than audit_retain_days (>= 180 by default) are removed,
 * oldest first and never one out of the middle; an expire record names them and the first record
 * number kept, which is how the verifier tells retention from a removed file.
 *
 * The queue: callers (event loops, workers) format a record's body and queue it (a malloc and a
 * memcpy under a mutex); one writer thread numbers, hashes and writes them, so the event loop
 * never waits for the disk. The queue holds audit_queue records. When it is full a request record
 * is dropped and counted (gw_audit_dropped, a warning in the log, and a drop record in the chain
 * that says how many were lost); an admin record is never dropped: it is queued past the bound
 * (admin calls are few, root only, and behind admission control).
 */
#ifndef YC_GW_AUDIT_H
#define YC_GW_AUDIT_H
#include <h2o.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/gw_access_log.h"

typedef struct gw_audit gw_audit_t;

#define GW_AUDIT_KEY_MIN  16  /* bytes of an audit key at least */
#define GW_AUDIT_KEY_MAX  256 /* and at most */
#define GW_AUDIT_HASH_HEX 64  /* an SM3 in hex */
#define GW_AUDIT_LINE_MAX (GW_ACCESS_LINE_MAX + 1024)
#define GW_AUDIT_HEAD     "audit.head"

typedef struct {
    const char *dir;    /* the audit folder (created 0750) */
    const uint8_t *key; /* the audit key, copied */
    size_t key_len;
    uint64_t checkpoint_records; /* a checkpoint after this many records ... */
    uint64_t checkpoint_ms;      /* ... or this long after the first unsealed one */
    uint64_t rotate_bytes;       /* a new file past this size ... */
    uint64_t rotate_seconds;     /* ... or age */
    uint64_t retain_seconds;     /* closed files older than this are removed; 0: kept for ever */
    size_t queue_max;            /* request records waiting at most */
} gw_audit_options_t;

/* Opens the audit trail in opt->dir: continues the chain from the newest file's last record,
 * starts a new file with a start record, and starts the writer thread. 0 or -errno (-EBADMSG:
 * the newest file's last record does not parse, so the chain cannot be continued; -EBUSY: another
 * trail, of this process or another, has the folder open: each writer needs a folder of its own). */
int gw_audit_open(const gw_audit_options_t *opt, gw_audit_t **out);
/* Writes what is queued, a stop record and a final checkpoint, and closes. NULL: nothing. */
void gw_audit_close(gw_audit_t *a);

/* Queues the record of a request (admin set: an admin action, never dropped); detail says what
 * an admin action did ("PUT /_admin/v1/users/AK", "iam:CreateUser UserName=x"), {NULL,0}: none.
 * Any thread; never waits for the disk. NULL a: nothing. */
void gw_audit_request(gw_audit_t *a, const gw_access_entry_t *e, int admin, h2o_iovec_t detail);
/* Request records dropped because the queue was full, since open. */
uint64_t gw_audit_dropped(gw_audit_t *a);

/* Reads the audit key from file (its bytes, trailing whitespace dropped) or, when file is NULL,
 * from the environment variable env. 0, -ENOENT (neither names one), -EINVAL (shorter than
 * GW_AUDIT_KEY_MIN or longer than GW_AUDIT_KEY_MAX) or -errno. */
int gw_audit_key_load(const char *file, const char *env, uint8_t *key, size_t *len);

/* ---------------------------------------------------------------- the chain format */

/* Formats record seq into out (cap >= GW_AUDIT_LINE_MAX suffices), '\n' included, and its hash
 * into hash_hex (65 bytes, NUL-terminated). Returns the length, 0 when it does not fit. */
size_t gw_audit_record_format(uint64_t seq, int64_t time_ns, const char *type, const char *prev_hex, const char *body,
                              size_t body_len, char *out, size_t cap, char *hash_hex);
/* The MAC of a checkpoint (65 bytes of hex, NUL-terminated); 0 or -EIO. */
int gw_audit_checkpoint_mac(const uint8_t *key, size_t key_len, uint64_t seq, int64_t time_ns, const char *prev_hex,
                            const char *reason, char *mac_hex);
/* The key's id: the first 8 hex digits of its SM3 (9 bytes, NUL-terminated). */
void gw_audit_key_id(const uint8_t *key, size_t key_len, char *id);

/* One record read back. Pointers borrow the line. */
typedef struct {
    uint64_t seq;
    int64_t time_ns;
    h2o_iovec_t type, prev, body, hash;
} gw_audit_record_t;

/* Splits a line (without its '\n') into its fields; 0, or -EBADMSG when it is not a record. The
 * hash is not checked here. */
int gw_audit_record_parse(const char *line, size_t len, gw_audit_record_t *out);

/* ---------------------------------------------------------------- verification */

typedef struct {
    uint64_t files, records, checkpoints;
    uint64_t first_seq, last_seq, last_checkpoint; /* record numbers */
    uint64_t unsealed;                             /* records after the last checkpoint */
    uint64_t bad_seq;                              /* the record where the first fault is (0: none / not a record) */
    uint64_t bad_line;                             /* its line in bad_file */
    char bad_file[256];
    char message[512]; /* what is wrong; empty when all is well */
} gw_audit_report_t;

/* Checks the audit folder dir: every file in order, every record's number, chain and hash, every
 * checkpoint's MAC under key, the retention's expire records, that the last line is whole and that
 * the log still holds the checkpoint audit.head names. 0 when it is intact; -EBADMSG with the
 * first fault in report; -errno when the folder cannot be read. */
int gw_audit_verify(const char *dir, const uint8_t *key, size_t key_len, gw_audit_report_t *report);

#endif
