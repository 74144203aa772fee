/* gw_iam.h — who may call: the root user from the configuration and the users and access keys
 * kept as 'I' records on every drive (written with cluster quorum, read back by majority).
 *
 * Lookups happen on the event loop for every signed request, so they read an in-memory table;
 * the table is loaded from the drives when the gateway starts, updated by this gateway's admin
 * calls and reloaded from the drives every few seconds so that changes made through another
 * gateway arrive.
 */
#ifndef YC_GW_IAM_H
#define YC_GW_IAM_H
#include <h2o.h>
#include "gateway/gw_cluster.h"

typedef struct gw_iam gw_iam_t;

#define GW_IAM_SECRET_MAX 128
#define GW_IAM_NAME_MAX   64

typedef struct {
    char access_key[META_ACCESS_KEY_MAX + 1];
    char secret_key[GW_IAM_SECRET_MAX + 1];
    char user[GW_IAM_NAME_MAX + 1];
    int is_root;
    int disabled;
} gw_identity_t;

/* Loads users from the drives (blocking; call before the loops start) and starts the refresher. */
int gw_iam_open(gw_cluster_t *c, const char *root_access_key, const char *root_secret, gw_iam_t **out);
void gw_iam_close(gw_iam_t *iam);

/* Looks an access key up in memory; 0 and *out filled, or -ENOENT. Safe on any thread. */
int gw_iam_lookup(gw_iam_t *iam, h2o_iovec_t access_key, gw_identity_t *out);

/* Adds (or replaces) an access key of user on every drive with quorum. Blocking. */
int gw_iam_put(gw_iam_t *iam, const char *user, const char *access_key, const char *secret_key);
/* Removes an access key; -ENOENT when unknown. Blocking. */
int gw_iam_remove(gw_iam_t *iam, const char *access_key);
/* Removes every access key of user; returns how many were removed. Blocking. */
int gw_iam_remove_user(gw_iam_t *iam, const char *user);

/* Calls fn for every non-root identity (from memory). */
void gw_iam_foreach(gw_iam_t *iam, void (*fn)(void *arg, const gw_identity_t *id), void *arg);

#endif
