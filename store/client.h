/* client.h — how the gateway reaches a drive: one interface, two transports.
 *
 * A store_client_t stands for one drive. The local transport calls the drive engine (store.h)
 * in this process; the network transport talks to a yc-store daemon that serves the drive, over
 * HTTP/1.1 with pooled keep-alive connections and requests signed with the cluster secret
 * (the wire format is described at the top of client_net.c), over mutual TLS when the config
 * gives a context (store/tls.h). The operations, their arguments,
 * their return codes and their blocking behaviour are those of store.h, so that the code above
 * does not know which transport it uses: every call blocks (call it from a worker thread, never
 * an event loop) and a client is safe to use from many threads at once.
 *
 * Codes: 0, the STORE_ codes of store.h, -ENOMEM, and for the network transport two more:
 *   STORE_EUNREACHABLE  no connection could be made (refused, connect timeout, no route): the
 *                       request never reached the daemon, so nothing happened on the drive.
 *   STORE_EAUTH         the daemon refused the request's credentials (wrong cluster secret,
 *                       clock skew beyond the window, or a replayed signature).
 * Every other network failure (reset, timeout while waiting for the answer, a malformed answer)
 * is STORE_EIO: the request may or may not have been applied, exactly as when a local disk
 * fails half-way through.
 */
#ifndef YC_STORE_CLIENT_H
#define YC_STORE_CLIENT_H
#include <stddef.h>
#include <stdint.h>
#include "store/store.h"

typedef struct store_client store_client_t;
typedef struct store_client_writer store_client_writer_t;

/* Where a remote drive is and how to talk to it. Zero timeouts and pool size take defaults. */
typedef struct {
    const char *host;            /* name or address of the yc-store daemon */
    uint16_t port;               /* its port */
    const char *drive;           /* the drive's name on that daemon */
    const char *secret;          /* cluster secret (copied; never logged) */
    size_t secret_len;           /* 0: strlen(secret) */
    uint32_t connect_timeout_ms; /* default 2000 */
    uint32_t io_timeout_ms;      /* longest wait for one send or receive step; default 30000 */
    size_t pool_size;            /* idle keep-alive connections kept; default 16, with tls 128 */
    const struct store_tls *tls; /* internode TLS (store/tls.h; borrowed, outlives the client); NULL: cleartext */
} store_remote_config_t;

/* A client calling the drive engine in-process. The drive is borrowed: the caller closes it
 * after store_client_free. */
int store_client_local(store_drive_t *d, store_client_t **out);
/* A client for a drive served by a yc-store daemon. Resolves the host now; connects lazily,
 * so a daemon that is down does not make this fail. */
int store_client_remote(const store_remote_config_t *cfg, store_client_t **out);
/* Frees the client and closes its connections; no call may be in progress. */
void store_client_free(store_client_t *c);

/* A short name for logs and metrics: "local:<dir>" or "remote:<host>:<port>/<drive>". */
const char *store_client_name(const store_client_t *c);
/* 0 when the drive answers (remote: the daemon is up, the credentials are accepted and the
 * drive is served). Cheap: for health checks. */
int store_client_ping(store_client_t *c);
/* 1 with buf set to one line when the drive's last new connection failed for a reason of TLS (a
 * certificate refused, a daemon without TLS, a cleartext connection closed by a daemon with it),
 * until a call succeeds; 0 otherwise and for the local transport. */
int store_client_link_problem(store_client_t *c, char *buf, size_t len);

/* The drive's identity (store.h). With placement (NULL: only read) the drive is placed first
 * when it has no placement yet; a drive placed otherwise is not an error here: *out tells, and
 * the caller compares. The local transport answers STORE_EINVAL: a process reads the identity
 * of a drive it opened itself with store_identity_get. Passes through a fence. */
int store_client_identity(store_client_t *c, const store_identity_info_t *placement, store_identity_info_t *out);

/* Fences the client: from now on every call but identity and shard aborts fails with code
 * (e.g. STORE_EUNREACHABLE: as if the drive were down) without reaching the drive; 0 lifts the
 * fence. For a drive that must not be used, such as one whose identity is wrong. Safe to call
 * while other threads use the client. */
void store_client_fence(store_client_t *c, int code);
int store_client_fenced(const store_client_t *c);

/* ---- shard files (see store.h for the semantics of each) ---- */

/* Starts writing shard `index` of data_id. Remote: the daemon keeps the writer and drops it
 * (aborting the shard) after an idle time with no call. */
int store_client_shard_create(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index,
                              store_client_writer_t **out);
/* Appends one block (sent at once over the network; nothing is buffered on this side). */
int store_client_shard_append(store_client_writer_t *w, const void *block, size_t len);
/* Makes the shard durable and visible. Frees w in every case. */
int store_client_shard_commit(store_client_writer_t *w);
/* Drops the unfinished shard and frees w. */
void store_client_shard_abort(store_client_writer_t *w);
/* Reads exactly len bytes at off into buf, checksums verified by the drive (STORE_EBITROT). */
int store_client_shard_read(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t off,
                            size_t len, void *buf);
int store_client_shard_stat(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index, uint64_t *size);
int store_client_shard_delete(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index);
int store_client_shard_verify(store_client_t *c, const uint8_t data_id[META_ID_LEN], uint32_t index);

/* ---- object records ---- */

int store_client_object_put(store_client_t *c, const meta_object_t *r);
int store_client_object_prune(store_client_t *c, const meta_object_t *keep);
/* store_client_object_put in two steps (store_object_put_begin/_end, same contract): a local
 * drive queues the write in its group commit and returns, so one thread can have a record
 * queued on every drive of a set at once; a transport without queueing does the whole put in
 * _begin (*out NULL, its outcome returned). */
/* store_object_prune_light on a local drive; -EAGAIN from a transport without it. */
int store_client_object_prune_light(store_client_t *c, const meta_object_t *keep);
int store_client_object_put_begin(store_client_t *c, const meta_object_t *r, meta_waiter_t *w, store_put_t **out);
int store_client_object_put_end(store_client_t *c, store_put_t *p);
/* store_object_put_wait and store_object_put_end_settled, for a p that _begin gave. */
int store_client_object_put_wait(store_client_t *c, store_put_t *p);
int store_client_object_put_end_settled(store_client_t *c, store_put_t *p, int *pruned);
/* Takes back exactly version r (a write that failed its quorum); see store.h. */
int store_client_object_takeback(store_client_t *c, const meta_object_t *r);
/* Gives the drive's record of version r r's attributes; see store.h. */
int store_client_object_update(store_client_t *c, const meta_object_t *r);
/* On success *raw holds the record bytes (caller disposes with meta_buf_dispose) and *out
 * points into them. */
int store_client_object_get(store_client_t *c, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid,
                            meta_buf_t *raw, meta_object_t *out);
int store_client_object_delete(store_client_t *c, meta_bytes_t bucket, meta_bytes_t key, const uint8_t *vid);

/* ---- calls to several drives at once ---- */

/* One drive's call of a batch. client, and key or rec, are the caller's, borrowed until the
 * batch returns; val and ret are the answer. */
typedef struct {
    store_client_t *client;
    const meta_key_t *key;    /* store_client_record_get_batch: the key read */
    const meta_object_t *rec; /* store_client_object_put_batch, _prune_batch: the record */
    void *val;                /* the value read, malloc'd (caller frees), when ret is 0 */
    size_t vlen;
    /* store_client_shard_append_batch: len bytes of block appended through writer (client is
     * set from it); the writer stays the caller's, as after store_client_shard_append */
    store_client_writer_t *writer;
    const void *block;
    /* store_client_shard_read_batch: len bytes at off of shard index of data_id into buf */
    const uint8_t *data_id;
    uint32_t index;
    uint64_t off;
    size_t len;
    void *buf;
    int ret; /* as the one-drive call's */
    void *pending;
} store_batch_call_t;

/* store_client_record_get on each drive of calls[0..n), or store_client_object_put: the requests
 * to network drives all go out before any answer is awaited, so their round trips overlap on
 * the calling thread with no thread per drive; local drives are called in turn. */
void store_client_record_get_batch(store_batch_call_t *calls, size_t n);
void store_client_object_put_batch(store_batch_call_t *calls, size_t n);
/* store_client_object_prune on each drive, the same way. */
void store_client_object_prune_batch(store_batch_call_t *calls, size_t n);
/* store_client_shard_read on each drive, the same way (a stripe's shards read at once). */
void store_client_shard_read_batch(store_batch_call_t *calls, size_t n);
/* store_client_shard_append on each writer, the same way (a stripe's blocks sent at once). */
void store_client_shard_append_batch(store_batch_call_t *calls, size_t n);

/* ---- raw records ---- */

int store_client_record_put(store_client_t *c, const meta_key_t *key, const void *val, size_t vlen);
/* *val is malloc'd (caller frees). */
int store_client_record_get(store_client_t *c, const meta_key_t *key, void **val, size_t *vlen);
int store_client_record_delete(store_client_t *c, const meta_key_t *key);
/* Scans records under prefix from seek (NULL: the start), at most limit callbacks (0: no
 * limit); cb as in meta_db_scan (0 continue, 1 stop, negative: abort, returned as is). Remote:
 * the records come in pages, so a scan is not a snapshot of the drive across pages. */
int store_client_record_scan(store_client_t *c, const meta_key_t *prefix, const meta_key_t *seek, size_t limit,
                             meta_scan_cb cb, void *arg);
/* Same, with each object key's null slot and newest version only (store_record_scan_newest). A
 * daemon that predates it is asked for the plain scan instead: the caller must accept more
 * records of a key than those two. */
int store_client_record_scan_newest(store_client_t *c, const meta_key_t *prefix, const meta_key_t *seek, size_t limit,
                                    meta_scan_cb cb, void *arg);
/* Same, leaving out keys topped by a delete marker, with skip notes (empty values) where it did
 * (store_record_scan_live). A daemon that predates it is asked for the newest scan, then the
 * plain one: the caller must accept markers and more records of a key, and no notes. */
int store_client_record_scan_live(store_client_t *c, const meta_key_t *prefix, const meta_key_t *seek, size_t limit,
                                  meta_scan_cb cb, void *arg);

/* ---- namespace locks (see store.h) ---- */

int store_client_lock_acquire(store_client_t *c, meta_bytes_t name, const uint8_t owner[META_ID_LEN], int64_t lease_ns);
int store_client_lock_release(store_client_t *c, meta_bytes_t name, const uint8_t owner[META_ID_LEN]);

#endif
