/* gw_iam.h — who may call, and what their identity policies say: the root user from the
 * configuration, and the users, access keys, groups, memberships and inline policies kept as 'I'
 * records on every drive (written with cluster quorum, read back by majority).
 *
 * Records (meta.h keys; the entity values are meta_config_t records whose document is given):
 *   'I' access_key                  an access key: its secret, user and Active/Inactive flag
 *   'I' 0x00 'u' user               a user: JSON {"v":1, "id": "AIDA...", "created": ns, "path": "/a/"}
 *                                   ("path" is optional: records without it, as older builds wrote
 *                                   them, are at path "/"; older builds ignore it)
 *   'I' 0x00 'g' group              a group: JSON {"v":1, "id": "AGPA...", "created": ns, "path": "/a/"}
 *                                   ("path" optional as for users)
 *   'I' 0x00 'm' user 0x00 group    the user belongs to the group (empty document)
 *   'I' 0x00 'p' user 0x00 policy   an inline policy of the user (the policy text)
 *   'I' 0x00 'q' group 0x00 policy  an inline policy of the group (the policy text)
 *   'I' 0x00 'P' policy             a managed policy: JSON {"v":1, "id": "ANPA...", "path": "/a/",
 *                                   "created": ns, "document": text, "description": text}
 *   'I' 0x00 'a' user 0x00 policy   the managed policy is attached to the user (empty document)
 *   'I' 0x00 'b' group 0x00 policy  the managed policy is attached to the group (empty document)
 * A user that has access keys but no 'u' record (made by older yc-admin versions) exists too,
 * with an id derived from its name; the gateway writes its record, with that id, when it starts
 * (and when a refresh finds one), so that the id is kept from then on like any user's.
 *
 * Ids: a user's (and a group's) id is drawn at random when it is made and kept in its record for
 * its life, through renames and moves: a user deleted and made again under the same name gets
 * another id. It is IAM's UserId, and aws:userid in policy conditions (gw_authz.h). Policies are replaced in place:
 * updated_ns orders the states a drive may hold and the newest wins (gw_replica_scan_newest).
 *
 * An access key's secret is stored sealed under the cluster's secrets key (gw_secret.h), the
 * record's key name bound in; records written before sealing hold it in cleartext and are read as
 * they are, and sealed when next written or by gw_iam_reseal. A key whose secret does not open is
 * left out of the table (it cannot sign) and counted in gw_iam_seal_status.
 *
 * Lookups happen on the event loop for every signed request, so they read an in-memory table;
 * the table is loaded from the drives when the gateway starts, reloaded after this gateway's
 * changes and every few seconds so that changes made through another gateway arrive. Checks such
 * as "the user exists" are made against that table: two gateways racing to create one name may
 * both succeed, and the record written last stays.
 *
 * User and group names are case-insensitive, as IAM's: "Bob" cannot be created beside "bob", and
 * every lookup by name finds the entity whatever the case given; the spelling given at creation
 * is the one kept and shown, and the one records are keyed by. Lists are in case-insensitive
 * name order, as IAM's.
 *
 * Errors of the calls that change records: 0, -ENOENT (no such user, group, key or policy),
 * -EEXIST (exists already), -ENOTEMPTY (the user or group still has keys, policies or members),
 * -E2BIG (a limit of IAM's: two access keys per user), -EINVAL (a name or value IAM refuses), or
 * a gateway error code (GW_EQUORUM, GW_ENOSPC) when the drives did not acknowledge.
 */
#ifndef YC_GW_IAM_H
#define YC_GW_IAM_H
#include <h2o.h>
#include "gateway/gw_cluster.h"
#include "gateway/gw_secret.h"
#include "gateway/s3/policy.h"

typedef struct gw_iam gw_iam_t;

#define GW_IAM_SECRET_MAX      128
#define GW_IAM_NAME_MAX        64 /* user and group names (IAM's limits: 64 and 128; one for both) */
#define GW_IAM_POLICY_NAME_MAX 128
#define GW_IAM_ID_LEN          21    /* "AIDA"/"AGPA" + 17 characters, as IAM's unique ids */
#define GW_IAM_POLICY_MAX      10240 /* bytes of one inline policy document */
#define GW_IAM_KEYS_PER_USER   2
#define GW_IAM_PATH_MAX        512 /* IAM's limit on a user's path */

typedef struct {
    char access_key[META_ACCESS_KEY_MAX + 1];
    char secret_key[GW_IAM_SECRET_MAX + 1];
    char user[GW_IAM_NAME_MAX + 1];
    int is_root;
    int disabled;
    int64_t created_ns;
    int sealed_current; /* its record held the secret sealed under the current secrets key at the last load */
} gw_identity_t;

/* A user or a group. */
typedef struct {
    char name[GW_IAM_NAME_MAX + 1];
    char id[GW_IAM_ID_LEN + 1];
    int64_t created_ns;
    char path[GW_IAM_PATH_MAX + 1]; /* "/" or "/a/b/" */
    int recorded;                   /* 1: its 'u' or 'g' record holds it; 0: a user known by its access keys alone */
} gw_iam_entity_t;

/* Kinds of inline policy. */
typedef enum { GW_IAM_USER_POLICY = 'p', GW_IAM_GROUP_POLICY = 'q' } gw_iam_policy_kind_t;

/* Loads users from the drives (blocking; call before the loops start) and starts the refresher,
 * which loads them again every refresh_seconds (0: 5). Secrets are written in cleartext. */
int gw_iam_open(gw_cluster_t *c, const char *root_access_key, const char *root_secret, uint32_t refresh_seconds,
                gw_iam_t **out);
/* Same, sealing secrets under keys (taken: freed by gw_iam_close, or here on failure; with no key
 * held, secrets are written in cleartext). -ENOKEY, with an error logged and one line on stderr
 * naming the key ids, when the drives hold secrets sealed under a key that keys lack: a gateway
 * given the wrong key, or none, does not start. */
int gw_iam_open_sealed(gw_cluster_t *c, const char *root_access_key, const char *root_secret, uint32_t refresh_seconds,
                       gw_secret_keys_t *keys, gw_iam_t **out);
void gw_iam_close(gw_iam_t *iam);

/* Looks an access key up in memory; 0 and *out filled, or -ENOENT. Safe on any thread. */
int gw_iam_lookup(gw_iam_t *iam, h2o_iovec_t access_key, gw_identity_t *out);

/* Adds (or replaces) an access key of user on every drive with quorum, making the user first (its
 * record, with a new id) when there is none; a user that exists in another case keeps its
 * spelling. Blocking. */
int gw_iam_put(gw_iam_t *iam, const char *user, const char *access_key, const char *secret_key);
/* Removes an access key; -ENOENT when unknown. Blocking. */
int gw_iam_remove(gw_iam_t *iam, const char *access_key);
/* Removes every access key of user; returns how many were removed. Blocking. */
int gw_iam_remove_user(gw_iam_t *iam, const char *user);

#define GW_IAM_SEAL_IDS 8 /* key ids told apart in a status */

/* How the access keys' secrets are stored, as the last load found them. */
typedef struct {
    size_t cleartext;   /* written before sealing (or without a key): readable, not sealed */
    size_t unknown_key; /* sealed under a key this gateway does not hold: left out */
    size_t unreadable;  /* sealed, but not authentic or malformed: left out */
    struct {
        char id[2 * GW_SECRET_KEY_ID_LEN + 1];
        size_t records;
        int known; /* 1: held by this gateway */
    } by_key[GW_IAM_SEAL_IDS];
    size_t nby_key;
} gw_iam_seal_status_t;

/* The last load's figures. From memory. */
void gw_iam_seal_status(gw_iam_t *iam, gw_iam_seal_status_t *out);
/* The keys secrets are sealed under (borrowed for the table's lifetime). */
gw_secret_keys_t *gw_iam_secret_keys(gw_iam_t *iam);
/* Reads the secrets keys' source again, then writes every access key whose secret this gateway
 * can read with its secret sealed under the current key (those not sealed under it already, or
 * every one when all is set), and reloads. *resealed counts the records written. -ENOKEY when no
 * key is held, -EINVAL when the key source cannot be read (err says why), or a write's error
 * (GW_EQUORUM, ...): records written before it stay written, and a second run finishes. Blocking. */
int gw_iam_reseal(gw_iam_t *iam, int all, size_t *resealed, char *err, size_t errlen);

/* Calls fn for every non-root identity (from memory). */
void gw_iam_foreach(gw_iam_t *iam, void (*fn)(void *arg, const gw_identity_t *id), void *arg);

/* ---- users, groups, keys and policies (blocking calls, from the worker pool; errors above) */

/* 1 when name is a valid IAM user or group name (1..64 of [A-Za-z0-9+=,.@_-]), else 0. */
int gw_iam_name_valid(h2o_iovec_t name);
/* 1 when name is a valid policy name (1..128 of the same characters), else 0. */
int gw_iam_policy_name_valid(h2o_iovec_t name);

/* 1 when path is a valid IAM path: "/", or 1..512 characters between '!' and '~' that begin and
 * end with '/'. As a prefix (ListUsers' PathPrefix) it must only begin with '/'. */
int gw_iam_path_valid(h2o_iovec_t path, int prefix);

/* Creates a user at path "/". */
int gw_iam_user_create(gw_iam_t *iam, const char *name, gw_iam_entity_t *out);
/* Creates a user at path (NULL: "/"); -EINVAL for a name or path IAM refuses. */
int gw_iam_user_create_at(gw_iam_t *iam, const char *name, const char *path, gw_iam_entity_t *out);
/* Renames a user (new_name, or NULL to keep it) and moves it to new_path (NULL to keep it); its id,
 * creation time and path (unless moved) stay, and its access keys, inline policies and group
 * memberships follow it to the new name (their records are written under it, then the old ones
 * removed; a failure before the removals puts everything back). -ENOENT (no such user), -EEXIST
 * (new_name is another user's, in any case), -EINVAL, or a write's error. What else is keyed by
 * the name (buckets it owns, its canonical id, its quota) is the caller's to weigh. */
int gw_iam_user_update(gw_iam_t *iam, const char *name, const char *new_name, const char *new_path);
/* 0 with *out, or -ENOENT. From memory. */
int gw_iam_user_get(gw_iam_t *iam, const char *name, gw_iam_entity_t *out);
/* -ENOTEMPTY while the user has access keys, inline or attached policies or groups, as IAM's
 * DeleteConflict. */
int gw_iam_user_delete(gw_iam_t *iam, const char *name);
/* Calls fn for every user in name order (from memory). */
void gw_iam_users(gw_iam_t *iam, void (*fn)(void *arg, const gw_iam_entity_t *user), void *arg);

/* Makes a new access key for user (Active): a 20-character id starting AKIA and a 40-character
 * secret, written to *out. -E2BIG past GW_IAM_KEYS_PER_USER. */
int gw_iam_key_create(gw_iam_t *iam, const char *user, gw_identity_t *out);
/* Removes, enables or disables one of user's keys; -ENOENT when user has no such key. */
int gw_iam_key_delete(gw_iam_t *iam, const char *user, const char *access_key);
int gw_iam_key_set_disabled(gw_iam_t *iam, const char *user, const char *access_key, int disabled);
/* Calls fn for every key of user (from memory; secrets included: do not show them). */
void gw_iam_keys(gw_iam_t *iam, const char *user, void (*fn)(void *arg, const gw_identity_t *id), void *arg);

int gw_iam_group_create(gw_iam_t *iam, const char *name, gw_iam_entity_t *out);
/* Creates a group at path (NULL: "/"); -EINVAL for a name or path IAM refuses. */
int gw_iam_group_create_at(gw_iam_t *iam, const char *name, const char *path, gw_iam_entity_t *out);
/* Renames (new_name) and moves (new_path) a group, as gw_iam_user_update does a user: its members
 * and inline policies follow it. */
int gw_iam_group_update(gw_iam_t *iam, const char *name, const char *new_name, const char *new_path);
int gw_iam_group_get(gw_iam_t *iam, const char *name, gw_iam_entity_t *out);
/* -ENOTEMPTY while the group has members, inline or attached policies. */
int gw_iam_group_delete(gw_iam_t *iam, const char *name);
void gw_iam_groups(gw_iam_t *iam, void (*fn)(void *arg, const gw_iam_entity_t *group), void *arg);
/* Membership: -ENOENT when the user or the group does not exist (or, for remove, the user is not a
 * member). Adding a member twice is no error, as in IAM. */
int gw_iam_member_add(gw_iam_t *iam, const char *group, const char *user);
int gw_iam_member_remove(gw_iam_t *iam, const char *group, const char *user);
/* Calls fn for every group of user, or every member of group (from memory, in name order). */
void gw_iam_groups_of(gw_iam_t *iam, const char *user, void (*fn)(void *arg, const gw_iam_entity_t *group), void *arg);
void gw_iam_members_of(gw_iam_t *iam, const char *group, void (*fn)(void *arg, const gw_iam_entity_t *user), void *arg);

/* Stores an inline policy of a user or a group, replacing one of that name. The text must parse
 * as an identity policy (s3_policy_parse): -EINVAL otherwise, with err->message saying why. */
int gw_iam_policy_put(gw_iam_t *iam, gw_iam_policy_kind_t kind, const char *owner, const char *name, h2o_iovec_t text,
                      s3_policy_error_t *err);
/* 0 with the text in memory from pool, or -ENOENT (no such owner or policy). From memory. */
int gw_iam_policy_get(gw_iam_t *iam, gw_iam_policy_kind_t kind, const char *owner, const char *name,
                      h2o_mem_pool_t *pool, h2o_iovec_t *text);
int gw_iam_policy_delete(gw_iam_t *iam, gw_iam_policy_kind_t kind, const char *owner, const char *name);
/* Calls fn with the name of every inline policy of owner, in name order (from memory). */
void gw_iam_policies(gw_iam_t *iam, gw_iam_policy_kind_t kind, const char *owner,
                     void (*fn)(void *arg, const char *name), void *arg);

/* ---- managed policies: one version each ("v1"), named by ARN arn:aws:iam::<account>:policy<path><name>;
 * names are unique in any case, as IAM's. Attached to users and groups, weighed as their inline
 * policies are. Functions taking a policy take its key (gw_iam_managed_t.key). */

#define GW_IAM_DESCRIPTION_MAX 1000

#define GW_IAM_AWS_POLICY_PREFIX "aws:" /* the key of AWS's own managed policies: "aws:" name */

typedef struct {
    char name[GW_IAM_POLICY_NAME_MAX + 1];
    /* what it is named by in the calls below: its name, or for one of AWS's own managed policies
     * (arn:aws:iam::aws:policy/<name>: AmazonS3FullAccess, AmazonS3ReadOnlyAccess, built in and
     * neither made nor removed) "aws:" name, which no policy name can be */
    char key[GW_IAM_POLICY_NAME_MAX + 1];
    int aws;
    char id[GW_IAM_ID_LEN + 1]; /* "ANPA" + 17 characters */
    char path[GW_IAM_PATH_MAX + 1];
    char description[GW_IAM_DESCRIPTION_MAX + 1];
    int64_t created_ns;
    size_t attachments; /* users and groups it is attached to */
} gw_iam_managed_t;

/* Creates a managed policy at path (NULL: "/"); the text must parse as an identity policy
 * (-EINVAL, err->message saying why; err->message "" for a bad name, path or description).
 * -EEXIST when a policy of that name exists, in any case. */
int gw_iam_managed_create(gw_iam_t *iam, const char *name, const char *path, const char *description, h2o_iovec_t text,
                          s3_policy_error_t *err, gw_iam_managed_t *out);
/* 0 with *out and (text not NULL) its document from pool, or -ENOENT. From memory. */
int gw_iam_managed_get(gw_iam_t *iam, const char *name, h2o_mem_pool_t *pool, gw_iam_managed_t *out, h2o_iovec_t *text);
/* -ENOENT, -ENOTEMPTY while it is attached (IAM's DeleteConflict), -EPERM for one of AWS's. */
int gw_iam_managed_delete(gw_iam_t *iam, const char *name);
/* Calls fn for every managed policy in name order (from memory). */
void gw_iam_managed_list(gw_iam_t *iam, void (*fn)(void *arg, const gw_iam_managed_t *p), void *arg);
/* Attaches (attach 1) or detaches the managed policy to the user (kind GW_IAM_USER_POLICY) or
 * group owner. -ENOENT when either does not exist, or on detach when it is not attached; attaching
 * twice is no error, as in IAM. */
int gw_iam_attach(gw_iam_t *iam, gw_iam_policy_kind_t kind, const char *owner, const char *policy, int attach);
/* Calls fn for every managed policy attached to the user or group owner, in name order. */
void gw_iam_attached(gw_iam_t *iam, gw_iam_policy_kind_t kind, const char *owner,
                     void (*fn)(void *arg, const gw_iam_managed_t *p), void *arg);

/* ---- authorization */

/* Calls fn with the parsed identity policies of user — its own inline and attached managed policies
 * and those of its groups — while the table cannot change (the array and policies are borrowed until fn returns).
 * n may be 0. Non-blocking: a read lock and no allocation beyond a bounded stack array. */
void gw_iam_with_policies(gw_iam_t *iam, h2o_iovec_t user,
                          void (*fn)(void *arg, const s3_policy_t *const *policies, size_t n), void *arg);

#endif
