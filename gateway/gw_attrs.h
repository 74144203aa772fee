/* gw_attrs.h — changing the attributes of an object version after its write: its tags, its
 * object lock retention and legal hold, its ACL (the attribute sets of meta.h).
 *
 * A change is a read-modify-write of one version's attribute set, so two changes of one version
 * (tags from one client, a legal hold from another) must not interleave: each runs under a
 * namespace lock of the version's key on its set (gw_lock.h), looks the version up with quorum,
 * lets the caller build the new set from the record, and writes it on the drives that hold the
 * version (gw_object_update), stamped with a time newer than the set it replaces. Reads pick,
 * among the drives that agree on a version, the newest set; the healer brings the others up.
 * Object writes take no lock: a new version does not change an old one's attributes.
 *
 * Blocking: call from a request worker.
 */
#ifndef YC_GW_ATTRS_H
#define YC_GW_ATTRS_H
#include "gateway/gw_lock.h"
#include "gateway/gw_object.h"

/* Builds the new attribute set of rec into attrs (empty on entry) and returns 0, or returns a
 * nonzero value of the caller's (passed back by gw_attrs_change, nothing changed): a delete
 * marker, a retention that may not be shortened. */
typedef int (*gw_attrs_edit_fn)(void *arg, const meta_object_t *rec, meta_buf_t *attrs);

/* Changes the attributes of version vid (NULL: the newest) of key in namespace ns (the bucket's
 * incarnation, meta_bucket_ns). vid_out (may be NULL) receives the version changed (all zero:
 * the null version). Returns 0, edit's nonzero value, or GW_ENOENT (no such version, or deleted
 * meanwhile), GW_EQUORUM, GW_ENOSPC, GW_EBUSY (the key's lock stayed held), GW_ENOMEM. */
int gw_attrs_change(gw_cluster_t *c, meta_bytes_t ns, meta_bytes_t key, const uint8_t *vid, gw_attrs_edit_fn edit,
                    void *arg, uint8_t vid_out[META_ID_LEN]);

/* Takes the lock gw_attrs_change takes for key of namespace ns, for a caller that must not race a
 * change (the permanent delete of a version, checked against its lock). 0 with *out held
 * (gw_lock_release), or GW_EBUSY and the other gw_lock_set codes. */
int gw_attrs_lock(gw_cluster_t *c, meta_bytes_t ns, meta_bytes_t key, gw_lock_t *out);

#endif
