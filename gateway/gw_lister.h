/* gw_lister.h — the merged, sorted view of one bucket's objects across every drive.
 *
 * Each drive keeps its objects' records sorted in S3 order (meta.h); a lister holds one cursor
 * per drive, each a batch of records read ahead from that drive, and merges them: all versions
 * of the smallest key are gathered from every cursor, and the version shown is the newest one
 * held by at least k drives — the same rule as a GET (gw_object.h), so LIST and GET agree.
 * Skipping past a common prefix is a seek on every cursor, not a walk through its keys, which
 * keeps delimiter listings of huge buckets fast.
 *
 * A lister opened for versions (ListObjectVersions) shows every version of each key instead:
 * each identity held by at least k drives, newest first, the null version once (the newest null
 * version held by k drives: a slot may hold a replaced one until its prune).
 *
 * Blocking (drive scans): use on a worker.
 */
#ifndef YC_GW_LISTER_H
#define YC_GW_LISTER_H
#include "gateway/gw_cluster.h"

typedef struct {
    char key[META_KEY_MAX];
    size_t key_len;
    int64_t mtime_ns;
    int64_t last_modified_ns; /* as S3 shows it (gw_origin.h); 0 when not read from a record */
    uint8_t vid[META_ID_LEN];
    uint64_t size;
    char etag[72];
    uint32_t flags; /* META_OBJ_DELETE_MARKER */
    int is_latest;  /* the version a GET without a version id shows */
    char owner[META_ACCESS_KEY_MAX + 1];
} gw_list_entry_t;

typedef struct gw_lister gw_lister_t;

/* Opens a lister on bucket positioned at the first key >= start. */
int gw_lister_open(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t start, gw_lister_t **out);
/* Same, for ListObjects: keys whose newest version is a delete marker are left out on the drives
 * (store_client_record_scan_live); one that drives disagree about is looked up and may still come
 * back as a marker entry. gw_lister_open's lister returns every deleted key as a marker entry:
 * what a walk that must meet them (DeleteBucket's emptiness check, the healer's) needs. */
int gw_lister_open_live(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t start, gw_lister_t **out);
/* Opens a lister that shows every version of each key (gw_lister_next_versions). */
int gw_lister_open_versions(gw_cluster_t *c, meta_bytes_t bucket, meta_bytes_t start, gw_lister_t **out);
/* Next visible key: 1 with *out filled, 0 at the end, negative on error (GW_EQUORUM, ...). */
int gw_lister_next(gw_lister_t *l, gw_list_entry_t *out);
/* Versions of the next key that has any (a lister opened for versions): 1 with (*out)[0 .. *n)
 * the key's versions newest first, (*out)[0] the latest, borrowed until the next call; 0 at the
 * end, negative on error. */
int gw_lister_next_versions(gw_lister_t *l, const gw_list_entry_t **out, size_t *n);
/* Moves every cursor to the first key >= key. */
int gw_lister_seek(gw_lister_t *l, meta_bytes_t key);
void gw_lister_free(gw_lister_t *l);

#endif
