/* gw_replica.h — records kept on every drive of the cluster: buckets, users, bucket configs.
 *
 * A write goes to every drive and succeeds with a majority (gw_cluster_quorum). A record exists
 * when a majority of the drives hold it: a write that reached only a minority is invisible,
 * and so is a record a majority has deleted, even while a drive that was down still holds it.
 * Since any two majorities meet, a read after an acknowledged write always sees it.
 * All calls block: run them on a worker.
 */
#ifndef YC_GW_REPLICA_H
#define YC_GW_REPLICA_H
#include "gateway/gw_cluster.h"

/* 0, or GW_EQUORUM (from gw_object.h) when fewer than a majority acknowledged. */
int gw_replica_put(gw_cluster_t *c, const meta_key_t *key, const void *val, size_t len);
int gw_replica_delete(gw_cluster_t *c, const meta_key_t *key);
/* 0 with *val malloc'd (caller frees), GW_ENOENT, or GW_EQUORUM. */
int gw_replica_get(gw_cluster_t *c, const meta_key_t *key, void **val, size_t *len);
/* Same for records replaced in place: of the values found, the one newer() ranks above every
 * other (newer(a, b) non-zero when a was written after b). A majority of answers always
 * includes the last acknowledged write, so that is what comes back (gw_quorum_newest). */
typedef gw_quorum_newer_fn gw_replica_newer_fn;
int gw_replica_get_newest(gw_cluster_t *c, const meta_key_t *key, gw_replica_newer_fn newer, void **val, size_t *len);

/* Calls cb for every record under prefix held by a majority, in key order. cb returns 0 to go on. */
typedef int (*gw_replica_cb)(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen);
int gw_replica_scan(gw_cluster_t *c, const meta_key_t *prefix, gw_replica_cb cb, void *arg);

/* Same for records replaced in place: each key's value is the newest the holders have (newer as
 * for gw_replica_get_newest). */
int gw_replica_scan_newest(gw_cluster_t *c, const meta_key_t *prefix, gw_replica_newer_fn newer, gw_replica_cb cb,
                           void *arg);

/* Same over the drives of one set, reporting records held by at least min_holders of them
 * (multipart uploads and parts live in their object's set only). */
int gw_set_scan(gw_set_t *s, size_t min_holders, const meta_key_t *prefix, gw_replica_cb cb, void *arg);

/* Holders that prove a set record exists: any read set this large meets every write quorum. */
static inline size_t gw_set_read_quorum(const gw_set_t *s)
{
    return gw_quorum_read(s->k, s->m);
}

#endif
