/* gw_iam.c — the identity table: root from the configuration plus the replicated 'I' records of
 * access keys, users, groups, memberships and inline policies (see gw_iam.h). */
#include "gateway/gw_iam.h"
#include "gateway/gw_health.h"
#include "common/log.h"
#include "gateway/gw_object.h"
#include "gateway/gw_replica.h"
#include "gateway/gw_secret.h"
#include "common/clock.h"
#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <xxhash.h>

#define REFRESH_SECONDS  5
#define MAX_POLICIES_ONE 64 /* identity policies weighed for one request (IAM allows fewer in size) */

enum {
    KIND_USER = 'u',
    KIND_GROUP = 'g',
    KIND_MEMBER = 'm',
    KIND_MANAGED = 'P',
    KIND_USER_ATTACH = 'a',
    KIND_GROUP_ATTACH = 'b'
};

typedef struct {
    char user[GW_IAM_NAME_MAX + 1];
    char group[GW_IAM_NAME_MAX + 1];
} member_t;

typedef struct {
    char kind; /* gw_iam_policy_kind_t */
    char owner[GW_IAM_NAME_MAX + 1];
    char name[GW_IAM_POLICY_NAME_MAX + 1];
    char *text;
    size_t len;
    s3_policy_t *parsed; /* NULL when a stored text no longer parses: it then grants nothing */
} policy_t;

/* A managed policy (its public part, and its document). */
typedef struct {
    gw_iam_managed_t pub; /* attachments counted after the load */
    char *text;
    size_t len;
    s3_policy_t *parsed; /* NULL when a stored text no longer parses: it then grants nothing */
} managed_t;

/* A managed policy attached to a user (KIND_USER_ATTACH) or a group (KIND_GROUP_ATTACH). */
typedef struct {
    char kind;
    char owner[GW_IAM_NAME_MAX + 1];
    char policy[GW_IAM_POLICY_NAME_MAX + 1];
} attachment_t;

/* Everything the records say, rebuilt whole by each load and swapped in under the lock. */
typedef struct {
    gw_identity_t *ids; /* non-root identities */
    size_t nids, capids;
    gw_iam_entity_t *users; /* in name order */
    size_t nusers, capusers;
    gw_iam_entity_t *groups; /* in name order */
    size_t ngroups, capgroups;
    member_t *members;
    size_t nmembers, capmembers;
    policy_t *policies;
    size_t npolicies, cappolicies;
    managed_t *managed; /* in case-insensitive name order */
    size_t nmanaged, capmanaged;
    attachment_t *attachments;
    size_t nattachments, capattachments;
    gw_iam_seal_status_t seal; /* how the access keys' secrets are stored (the key list is not filled) */
} table_t;

struct gw_iam {
    gw_cluster_t *cluster;
    gw_secret_keys_t *keys; /* seal the secrets of the records this gateway writes (gw_secret.h) */
    int quiet;              /* after the first load: unreadable secrets are summed up, not named each time */
    size_t last_left_out;   /* secrets the last load could not open */
    gw_identity_t root;
    pthread_rwlock_t lock;
    table_t tab;
    pthread_mutex_t write_mutex; /* one change at a time per gateway: checks, then the write */
    pthread_t refresher;
    pthread_mutex_t stop_mutex;
    pthread_cond_t stop_cond;
    int stopping;
    uint32_t refresh_seconds;
};

static void copy_str(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Grows an array of n elements of size sz to hold one more; 0 or -1. */
static int grow(void **arr, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, ncap * sz);
    if (p == NULL)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

static void table_dispose(table_t *t)
{
    if (t->ids != NULL)
        OPENSSL_cleanse(t->ids, t->nids * sizeof(*t->ids)); /* secrets do not linger in freed memory */
    free(t->ids);
    free(t->users);
    free(t->groups);
    free(t->members);
    for (size_t i = 0; i < t->npolicies; i++) {
        free(t->policies[i].text);
        s3_policy_free(t->policies[i].parsed);
    }
    free(t->policies);
    for (size_t i = 0; i < t->nmanaged; i++) {
        free(t->managed[i].text);
        s3_policy_free(t->managed[i].parsed);
    }
    free(t->managed);
    free(t->attachments);
    memset(t, 0, sizeof(*t));
}

/* Counts a sealed secret under its key id (the first GW_IAM_SEAL_IDS ids seen). */
static void count_sealed(gw_iam_seal_status_t *st, const char *hex, int readable)
{
    size_t i;
    for (i = 0; i < st->nby_key && strcmp(st->by_key[i].id, hex) != 0; i++)
        ;
    if (i == st->nby_key && i < GW_IAM_SEAL_IDS) {
        memcpy(st->by_key[i].id, hex, sizeof(st->by_key[i].id));
        st->nby_key++;
    }
    if (i < st->nby_key) {
        st->by_key[i].records++;
        st->by_key[i].known = readable || st->by_key[i].known;
    }
}

/* The secret of a key record into id->secret_key: opened when sealed, as stored when written
 * before sealing (cleartext). 0, or the reason it cannot be read (-ENOKEY, -EBADMSG, -EINVAL). */
static int read_secret(gw_iam_t *iam, table_t *t, const uint8_t *key, size_t klen, const meta_user_t *u,
                       gw_identity_t *id)
{
    char hex[2 * GW_SECRET_KEY_ID_LEN + 1];
    size_t len;
    int ret;

    if (!gw_secret_is_sealed(u->secret_key.base, u->secret_key.len)) {
        if (u->secret_key.len > GW_IAM_SECRET_MAX)
            return -EINVAL;
        copy_str(id->secret_key, sizeof(id->secret_key), u->secret_key.base, u->secret_key.len);
        t->seal.cleartext++;
        return 0;
    }
    if (gw_secret_sealed_key_hex(u->secret_key.base, u->secret_key.len, hex) != 0)
        return -EINVAL;
    ret = gw_secret_open(iam->keys, key, klen, u->secret_key.base, u->secret_key.len, id->secret_key,
                         sizeof(id->secret_key), &len);
    count_sealed(&t->seal, hex, ret == 0);
    if (ret == 0) {
        char current[2 * GW_SECRET_KEY_ID_LEN + 1];
        size_t n = gw_secret_keys_count(iam->keys);
        id->sealed_current =
            n > 0 && gw_secret_keys_id_hex(iam->keys, n - 1, current) == 0 && strcmp(current, hex) == 0;
    }
    if (ret == -ENOKEY)
        t->seal.unknown_key++;
    else if (ret != 0)
        t->seal.unreadable++;
    return ret;
}

static int add_key(gw_iam_t *iam, table_t *t, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    meta_user_t u;
    if (meta_user_decode(val, vlen, &u) != 0)
        return 0; /* a corrupt record is skipped: the other drives' copies decide */
    if (grow((void **)&t->ids, &t->capids, t->nids, sizeof(*t->ids)) != 0)
        return -1;
    gw_identity_t *id = &t->ids[t->nids];
    memset(id, 0, sizeof(*id));
    int ret = read_secret(iam, t, key, klen, &u, id);
    if (ret != 0) {
        /* a key whose secret cannot be read cannot sign: it is left out (and counted), never
         * given a secret it does not have */
        char ak[META_ACCESS_KEY_MAX + 1];
        copy_str(ak, sizeof(ak), u.access_key.base, u.access_key.len);
        yc_log(iam->quiet ? YC_LOG_DEBUG : YC_LOG_WARN,
               "event=access_key_secret_unreadable access_key=%s err=%s note=\"%s\"", ak,
               ret == -ENOKEY    ? "unknown_secrets_key"
               : ret == -EBADMSG ? "not_authentic"
                                 : "malformed",
               ret == -ENOKEY ? "sealed under a secrets key this gateway does not hold" : "the record was altered");
        OPENSSL_cleanse(id, sizeof(*id));
        return 0;
    }
    t->nids++;
    copy_str(id->access_key, sizeof(id->access_key), u.access_key.base, u.access_key.len);
    copy_str(id->user, sizeof(id->user), u.user.base, u.user.len);
    id->disabled = (u.flags & META_USER_DISABLED) != 0;
    id->created_ns = u.created_ns;
    return 0;
}

/* Reads a user's or group's document; 0, or -1 when it is not one this build knows. */
static int entity_from_doc(meta_bytes_t name, meta_bytes_t doc, gw_iam_entity_t *out)
{
    json_error_t jerr;
    json_t *js = json_loadb(doc.base, doc.len, 0, &jerr);
    const char *id = NULL, *path = NULL;
    json_int_t version = 0, created = 0;
    int ret = -1;

    if (js != NULL &&
        json_unpack(js, "{s:I, s:s, s:I, s?s}", "v", &version, "id", &id, "created", &created, "path", &path) == 0 &&
        version == 1 && strlen(id) == GW_IAM_ID_LEN && name.len <= GW_IAM_NAME_MAX) {
        memset(out, 0, sizeof(*out));
        copy_str(out->name, sizeof(out->name), name.base, name.len);
        memcpy(out->id, id, GW_IAM_ID_LEN + 1);
        out->created_ns = created;
        out->recorded = 1;
        /* records written before paths were kept have none: they are at "/" */
        if (path == NULL || !gw_iam_path_valid(h2o_iovec_init(path, strlen(path)), 0))
            path = "/";
        copy_str(out->path, sizeof(out->path), path, strlen(path));
        ret = 0;
    }
    json_decref(js);
    return ret;
}

/* Reads a managed policy's record into t; a record this build cannot read is skipped. */
static int add_managed(table_t *t, meta_bytes_t name, meta_bytes_t doc)
{
    json_error_t jerr;
    json_t *js = json_loadb(doc.base, doc.len, 0, &jerr);
    const char *id = NULL, *path = NULL, *text = NULL, *description = NULL;
    json_int_t version = 0, created = 0;
    size_t text_len = 0;
    int ret = 0;

    if (js == NULL || name.len == 0 || name.len > GW_IAM_POLICY_NAME_MAX ||
        json_unpack(js, "{s:I, s:s, s:s, s:I, s:s%, s?s}", "v", &version, "id", &id, "path", &path, "created", &created,
                    "document", &text, &text_len, "description", &description) != 0 ||
        version != 1 || strlen(id) != GW_IAM_ID_LEN || !gw_iam_path_valid(h2o_iovec_init(path, strlen(path)), 0))
        goto done;
    if (grow((void **)&t->managed, &t->capmanaged, t->nmanaged, sizeof(*t->managed)) != 0) {
        ret = -1;
        goto done;
    }
    managed_t *m = &t->managed[t->nmanaged];
    memset(m, 0, sizeof(*m));
    if ((m->text = malloc(text_len + 1)) == NULL) {
        ret = -1;
        goto done;
    }
    memcpy(m->text, text, text_len);
    m->text[text_len] = '\0';
    m->len = text_len;
    copy_str(m->pub.name, sizeof(m->pub.name), name.base, name.len);
    copy_str(m->pub.key, sizeof(m->pub.key), name.base, name.len);
    memcpy(m->pub.id, id, GW_IAM_ID_LEN + 1);
    copy_str(m->pub.path, sizeof(m->pub.path), path, strlen(path));
    if (description != NULL)
        copy_str(m->pub.description, sizeof(m->pub.description), description, strlen(description));
    m->pub.created_ns = created;
    s3_policy_options_t opt = {.kind = S3_POLICY_IDENTITY, .max_size = GW_IAM_POLICY_MAX};
    s3_policy_error_t err = {{0}};
    if (s3_policy_parse(h2o_iovec_init(m->text, m->len), &opt, &m->parsed, &err) != 0) {
        yc_log(YC_LOG_WARN, "event=stored_managed_policy_unreadable policy=%s", m->pub.name);
        m->parsed = NULL;
    }
    t->nmanaged++;
done:
    json_decref(js);
    return ret;
}

static int add_entity(table_t *t, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    char kind;
    meta_bytes_t name, member;
    meta_config_t rec;

    if (meta_key_parse_iam(key, klen, &kind, &name, &member) != 0 || meta_config_decode(val, vlen, &rec) != 0 ||
        rec.state != META_CONFIG_SET)
        return 0;             /* not one this build reads: skipped, as a corrupt record is */
    if (kind == KIND_MANAGED) /* named by a policy name, which may be longer than a user's */
        return member.base == NULL ? add_managed(t, name, rec.document) : 0;
    if (name.len > GW_IAM_NAME_MAX)
        return 0;
    switch (kind) {
    case KIND_USER_ATTACH:
    case KIND_GROUP_ATTACH:
        if (member.base == NULL || member.len == 0 || member.len > GW_IAM_POLICY_NAME_MAX)
            return 0;
        if (grow((void **)&t->attachments, &t->capattachments, t->nattachments, sizeof(*t->attachments)) != 0)
            return -1;
        t->attachments[t->nattachments].kind = kind;
        copy_str(t->attachments[t->nattachments].owner, sizeof(t->attachments[0].owner), name.base, name.len);
        copy_str(t->attachments[t->nattachments].policy, sizeof(t->attachments[0].policy), member.base, member.len);
        t->nattachments++;
        return 0;
    case KIND_USER:
    case KIND_GROUP: {
        gw_iam_entity_t e;
        if (member.base != NULL || entity_from_doc(name, rec.document, &e) != 0)
            return 0;
        gw_iam_entity_t **arr = kind == KIND_USER ? &t->users : &t->groups;
        size_t *n = kind == KIND_USER ? &t->nusers : &t->ngroups,
               *cap = kind == KIND_USER ? &t->capusers : &t->capgroups;
        if (grow((void **)arr, cap, *n, sizeof(**arr)) != 0)
            return -1;
        (*arr)[(*n)++] = e;
        return 0;
    }
    case KIND_MEMBER:
        if (member.base == NULL || member.len > GW_IAM_NAME_MAX)
            return 0;
        if (grow((void **)&t->members, &t->capmembers, t->nmembers, sizeof(*t->members)) != 0)
            return -1;
        copy_str(t->members[t->nmembers].user, sizeof(t->members[0].user), name.base, name.len);
        copy_str(t->members[t->nmembers].group, sizeof(t->members[0].group), member.base, member.len);
        t->nmembers++;
        return 0;
    case GW_IAM_USER_POLICY:
    case GW_IAM_GROUP_POLICY: {
        if (member.base == NULL || member.len > GW_IAM_POLICY_NAME_MAX)
            return 0;
        if (grow((void **)&t->policies, &t->cappolicies, t->npolicies, sizeof(*t->policies)) != 0)
            return -1;
        policy_t *p = &t->policies[t->npolicies];
        memset(p, 0, sizeof(*p));
        if ((p->text = malloc(rec.document.len + 1)) == NULL)
            return -1;
        memcpy(p->text, rec.document.base, rec.document.len);
        p->text[rec.document.len] = '\0';
        p->len = rec.document.len;
        p->kind = kind;
        copy_str(p->owner, sizeof(p->owner), name.base, name.len);
        copy_str(p->name, sizeof(p->name), member.base, member.len);
        s3_policy_options_t opt = {.kind = S3_POLICY_IDENTITY, .max_size = GW_IAM_POLICY_MAX};
        s3_policy_error_t err = {{0}};
        if (s3_policy_parse(h2o_iovec_init(p->text, p->len), &opt, &p->parsed, &err) != 0) {
            yc_log(YC_LOG_WARN, "event=stored_identity_policy_unreadable owner=%s policy=%s", p->owner, p->name);
            p->parsed = NULL;
        }
        t->npolicies++;
        return 0;
    }
    default:
        return 0;
    }
}

typedef struct {
    gw_iam_t *iam;
    table_t *t;
} load_t;

static int add_record(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    load_t *l = arg;
    if (klen >= 2 && key[1] == 0)
        return add_entity(l->t, key, klen, val, vlen);
    return add_key(l->iam, l->t, key, klen, val, vlen);
}

/* Entity records are replaced in place: the newest state wins. Access keys decode as no config
 * and keep the first copy, as they always did, except that a sealed copy wins over a cleartext
 * one: a drive that missed the re-seal of a record written before sealing must not bring the
 * cleartext back into the table (both hold the same secret). */
static int config_newer(const void *a, size_t alen, const void *b, size_t blen)
{
    meta_config_t ra, rb;
    meta_user_t ua, ub;
    if (meta_user_decode(a, alen, &ua) == 0 && meta_user_decode(b, blen, &ub) == 0)
        return gw_secret_is_sealed(ua.secret_key.base, ua.secret_key.len) &&
               !gw_secret_is_sealed(ub.secret_key.base, ub.secret_key.len);
    if (meta_config_decode(a, alen, &ra) != 0)
        return 0;
    if (meta_config_decode(b, blen, &rb) != 0)
        return 1;
    return ra.updated_ns > rb.updated_ns;
}

/* Names are case-insensitive (IAM's rule): they sort and are found that way. */
static int entity_cmp(const void *a, const void *b)
{
    return strcasecmp(((const gw_iam_entity_t *)a)->name, ((const gw_iam_entity_t *)b)->name);
}

static const gw_iam_entity_t *find_entity(const gw_iam_entity_t *arr, size_t n, const char *name)
{
    gw_iam_entity_t probe = {{0}};
    if (n == 0)
        return NULL; /* arr may then be NULL, which bsearch must not be given (C11 7.22.5) */
    copy_str(probe.name, sizeof(probe.name), name, strlen(name));
    return bsearch(&probe, arr, n, sizeof(*arr), entity_cmp);
}

static int managed_cmp(const void *a, const void *b)
{
    return strcasecmp(((const managed_t *)a)->pub.key, ((const managed_t *)b)->pub.key);
}

/* The managed policy of key, in any case; NULL when none. */
static managed_t *find_managed(const table_t *t, const char *key)
{
    for (size_t i = 0; i < t->nmanaged; i++)
        if (strcasecmp(t->managed[i].pub.key, key) == 0)
            return &t->managed[i];
    return NULL;
}

/* AWS's own managed policies that S3 users attach, as AWS publishes them (their S3 statements). */
static const struct {
    const char *name, *text;
} aws_policies[] = {
    {"AmazonS3FullAccess", "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:*\","
                           "\"s3-object-lambda:*\"],\"Resource\":\"*\"}]}"},
    {"AmazonS3ReadOnlyAccess",
     "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:Get*\","
     "\"s3:List*\",\"s3:Describe*\",\"s3-object-lambda:Get*\",\"s3-object-lambda:List*\"],"
     "\"Resource\":\"*\"}]}"},
};

static void derived_id(const char *prefix, const char *name, char out[GW_IAM_ID_LEN + 1]);

/* Adds AWS's own managed policies to t (every load: they are part of every table). */
static int add_aws_policies(table_t *t)
{
    for (size_t i = 0; i < sizeof(aws_policies) / sizeof(aws_policies[0]); i++) {
        if (grow((void **)&t->managed, &t->capmanaged, t->nmanaged, sizeof(*t->managed)) != 0)
            return -1;
        managed_t *m = &t->managed[t->nmanaged];
        memset(m, 0, sizeof(*m));
        m->len = strlen(aws_policies[i].text);
        if ((m->text = strdup(aws_policies[i].text)) == NULL)
            return -1;
        t->nmanaged++;
        copy_str(m->pub.name, sizeof(m->pub.name), aws_policies[i].name, strlen(aws_policies[i].name));
        snprintf(m->pub.key, sizeof(m->pub.key), GW_IAM_AWS_POLICY_PREFIX "%s", aws_policies[i].name);
        m->pub.aws = 1;
        derived_id("ANPA", m->pub.key, m->pub.id);
        strcpy(m->pub.path, "/");
        s3_policy_options_t opt = {.kind = S3_POLICY_IDENTITY, .max_size = GW_IAM_POLICY_MAX};
        s3_policy_error_t err = {{0}};
        if (s3_policy_parse(h2o_iovec_init(m->text, m->len), &opt, &m->parsed, &err) != 0)
            return -1;
    }
    return 0;
}

/* An id derived from a name: prefix ("AIDA", "ANPA") and 17 characters of its hash. */
static void derived_id(const char *prefix, const char *name, char out[GW_IAM_ID_LEN + 1])
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    XXH128_hash_t h = XXH3_128bits(name, strlen(name));
    memcpy(out, prefix, 4);
    for (int i = 0; i < 17; i++) {
        uint64_t w = i < 12 ? h.low64 >> (5 * i) : h.high64 >> (5 * (i - 12));
        out[4 + i] = digits[w & 31];
    }
    out[GW_IAM_ID_LEN] = '\0';
}

/* Finishes a loaded table: users that only have access keys exist too (made before users had
 * records), AWS's managed policies are added, the lists sorted and attachments counted. */
static int add_legacy_users(table_t *t)
{
    if (t->nusers > 0) /* qsort takes no NULL array, even empty */
        qsort(t->users, t->nusers, sizeof(*t->users), entity_cmp);
    size_t explicit_users = t->nusers;
    for (size_t i = 0; i < t->nids; i++) {
        const gw_identity_t *id = &t->ids[i];
        if (find_entity(t->users, explicit_users, id->user) != NULL)
            continue;
        int seen = 0;
        for (size_t j = explicit_users; j < t->nusers && !seen; j++)
            seen = strcmp(t->users[j].name, id->user) == 0;
        if (seen)
            continue;
        if (grow((void **)&t->users, &t->capusers, t->nusers, sizeof(*t->users)) != 0)
            return -1;
        gw_iam_entity_t *u = &t->users[t->nusers++];
        memset(u, 0, sizeof(*u));
        copy_str(u->name, sizeof(u->name), id->user, strlen(id->user));
        derived_id("AIDA", u->name, u->id); /* stable: the id such a user was always shown with */
        strcpy(u->path, "/");
        u->created_ns = id->created_ns;
    }
    if (t->nusers > 0) /* qsort takes no NULL array, even empty */
        qsort(t->users, t->nusers, sizeof(*t->users), entity_cmp);
    if (t->ngroups > 0) /* qsort takes no NULL array, even empty */
        qsort(t->groups, t->ngroups, sizeof(*t->groups), entity_cmp);
    if (add_aws_policies(t) != 0)
        return -1;
    qsort(t->managed, t->nmanaged, sizeof(*t->managed), managed_cmp);
    /* an attachment counts while its policy exists (records of a policy removed meanwhile do not) */
    for (size_t i = 0; i < t->nattachments; i++) {
        managed_t *m = find_managed(t, t->attachments[i].policy);
        if (m != NULL)
            m->pub.attachments++;
    }
    return 0;
}

/* Reads every record into t. */
static int load_table(gw_iam_t *iam, table_t *t)
{
    meta_key_t prefix;
    load_t l = {iam, t};
    int ret;

    meta_key_user((meta_bytes_t){"", 0}, &prefix);
    if ((ret = gw_replica_scan_newest(iam->cluster, &prefix, config_newer, add_record, &l)) != 0 ||
        (ret = add_legacy_users(t) != 0 ? GW_ENOMEM : 0) != 0) {
        table_dispose(t);
        return ret;
    }
    return 0;
}

static int reload(gw_iam_t *iam)
{
    table_t t = {0}, old;
    int ret;

    if ((ret = load_table(iam, &t)) != 0)
        return ret;
    if (t.seal.unknown_key > 0) {
        /* another gateway sealed with a key appended to the shared key file since this one read
         * it: read the file again, and the table once more if that brought a key */
        char err[256];
        size_t before = gw_secret_keys_count(iam->keys);
        if (gw_secret_keys_reload(iam->keys, err, sizeof(err)) == 0 && gw_secret_keys_count(iam->keys) != before) {
            table_dispose(&t);
            if ((ret = load_table(iam, &t)) != 0)
                return ret;
        }
    }
    size_t left_out = t.seal.unknown_key + t.seal.unreadable;
    if (iam->quiet && left_out != iam->last_left_out) /* named one by one at start and at debug level */
        yc_log(YC_LOG_WARN,
               "event=access_keys_left_out unknown_key=%zu unreadable=%zu note=\"access keys whose secret "
               "cannot be opened are refused; yc-admin secrets status\"",
               t.seal.unknown_key, t.seal.unreadable);
    iam->last_left_out = left_out;
    pthread_rwlock_wrlock(&iam->lock);
    old = iam->tab;
    iam->tab = t;
    pthread_rwlock_unlock(&iam->lock);
    table_dispose(&old);
    return 0;
}

/* Says which drives were missing: users live on every drive and need a majority. */
static void log_load_failed(const char *event, gw_iam_t *iam, int ret)
{
    char missing[1024];
    size_t n = gw_health_missing(iam->cluster->health, missing, sizeof(missing));
    yc_log(YC_LOG_WARN,
           "event=%s err=%s drives_missing=%zu of=%zu missing=\"%s\" note=\"users load once a majority of drives "
           "answers\"",
           event, yc_errname(ret), n, iam->cluster->ndrives, missing);
}

static void persist_key_only_users(gw_iam_t *iam);

/* 1 when the table holds a user known by its access keys alone. */
static int has_key_only_users(gw_iam_t *iam)
{
    int any = 0;
    pthread_rwlock_rdlock(&iam->lock);
    for (size_t i = 0; i < iam->tab.nusers && !any; i++)
        any = !iam->tab.users[i].recorded;
    pthread_rwlock_unlock(&iam->lock);
    return any;
}

static void *refresher_main(void *arg)
{
    gw_iam_t *iam = arg;
    pthread_mutex_lock(&iam->stop_mutex);
    while (!iam->stopping) {
        struct timespec ts;
        yc_deadline(CLOCK_REALTIME, (int64_t)iam->refresh_seconds * 1000000000, &ts);
        pthread_cond_timedwait(&iam->stop_cond, &iam->stop_mutex, &ts);
        if (iam->stopping)
            break;
        pthread_mutex_unlock(&iam->stop_mutex);
        int ret = reload(iam);
        if (ret != 0)
            log_load_failed("iam_reload_failed", iam, ret);
        else if (has_key_only_users(iam)) /* made by an older yc-admin, or missed at start */
            persist_key_only_users(iam);
        pthread_mutex_lock(&iam->stop_mutex);
    }
    pthread_mutex_unlock(&iam->stop_mutex);
    return NULL;
}

/* Refuses a start that can read none of the secrets sealed in the records: with the wrong key, or
 * none, every sealed key would be refused as unknown, and a gateway that then sealed new secrets
 * under its own key would split the cluster's records between two keys. Some records under a key
 * no longer held, beside others that open (a drive that missed a re-seal, an old key dropped too
 * soon), are logged one by one and left out instead: they do not make the key wrong. */
static int check_keys(gw_iam_t *iam)
{
    const gw_iam_seal_status_t *st = &iam->tab.seal;
    char ids[GW_IAM_SEAL_IDS * (2 * GW_SECRET_KEY_ID_LEN + 1) + 1] = "", held[256] = "";
    size_t n = 0, opened = 0;

    for (size_t i = 0; i < st->nby_key; i++)
        opened += st->by_key[i].known ? st->by_key[i].records : 0;
    if (st->unknown_key == 0 || opened > 0)
        return 0;
    for (size_t i = 0; i < st->nby_key; i++)
        if (!st->by_key[i].known)
            n += (size_t)snprintf(ids + n, sizeof(ids) - n, "%s%s", n > 0 ? "," : "", st->by_key[i].id);
    n = 0;
    for (size_t i = 0; i < gw_secret_keys_count(iam->keys) && n + 18 < sizeof(held); i++) {
        char hex[2 * GW_SECRET_KEY_ID_LEN + 1];
        if (gw_secret_keys_id_hex(iam->keys, i, hex) == 0)
            n += (size_t)snprintf(held + n, sizeof(held) - n, "%s%s", n > 0 ? "," : "", hex);
    }
    yc_log(YC_LOG_ERROR,
           "event=secrets_key_mismatch sealed_records=%zu key_ids=%s held=%s source=\"%s\" detail=\"access keys' "
           "secrets in the drives are sealed under secrets key id %s, which this gateway does not hold: give it the "
           "cluster's key file (secrets_key_file) or variable (secrets_key_env)\"",
           st->unknown_key, ids, held[0] ? held : "none", gw_secret_keys_source(iam->keys), ids);
    if (held[0] != '\0')
        fprintf(stderr,
                "yc-gateway: wrong secrets key: %zu access keys are sealed under secrets key id %s, and %s holds "
                "%s; give every gateway the cluster's secrets_key_file or secrets_key_env\n",
                st->unknown_key, ids, gw_secret_keys_source(iam->keys), held);
    else
        fprintf(stderr,
                "yc-gateway: no secrets key: %zu access keys are sealed under secrets key id %s, and no key is "
                "configured; give every gateway the cluster's secrets_key_file or secrets_key_env\n",
                st->unknown_key, ids);
    return -ENOKEY;
}

int gw_iam_open(gw_cluster_t *c, const char *root_access_key, const char *root_secret, uint32_t refresh_seconds,
                gw_iam_t **out)
{
    gw_secret_keys_t *none;
    int ret;
    if ((ret = gw_secret_keys_parse("", 0, &none)) != 0)
        return ret;
    return gw_iam_open_sealed(c, root_access_key, root_secret, refresh_seconds, none, out);
}

int gw_iam_open_sealed(gw_cluster_t *c, const char *root_access_key, const char *root_secret, uint32_t refresh_seconds,
                       gw_secret_keys_t *keys, gw_iam_t **out)
{
    gw_iam_t *iam = calloc(1, sizeof(*iam));
    if (iam == NULL) {
        gw_secret_keys_free(keys);
        return -ENOMEM;
    }
    iam->cluster = c;
    iam->keys = keys;
    iam->refresh_seconds = refresh_seconds != 0 ? refresh_seconds : REFRESH_SECONDS;
    copy_str(iam->root.access_key, sizeof(iam->root.access_key), root_access_key, strlen(root_access_key));
    copy_str(iam->root.secret_key, sizeof(iam->root.secret_key), root_secret, strlen(root_secret));
    copy_str(iam->root.user, sizeof(iam->root.user), "root", 4);
    iam->root.is_root = 1;
    pthread_rwlock_init(&iam->lock, NULL);
    pthread_mutex_init(&iam->write_mutex, NULL);
    pthread_mutex_init(&iam->stop_mutex, NULL);
    pthread_cond_init(&iam->stop_cond, NULL);
    int ret = reload(iam);
    if (ret != 0)
        log_load_failed("iam_load_failed", iam, ret);
    if (ret == 0 && (ret = check_keys(iam)) != 0) {
        table_dispose(&iam->tab);
        gw_secret_keys_free(iam->keys);
        OPENSSL_cleanse(&iam->root, sizeof(iam->root));
        free(iam);
        return ret;
    }
    iam->quiet = 1;
    if (ret == 0 && has_key_only_users(iam))
        persist_key_only_users(iam);
    if (gw_secret_keys_count(keys) == 0)
        yc_log(YC_LOG_WARN, "event=secrets_not_sealed note=\"no secrets key configured (secrets_key_file, "
                            "secrets_key_env): access keys' secrets are written to the drives in cleartext\"");
    pthread_create(&iam->refresher, NULL, refresher_main, iam);
    *out = iam;
    return 0;
}

void gw_iam_close(gw_iam_t *iam)
{
    if (iam == NULL)
        return;
    pthread_mutex_lock(&iam->stop_mutex);
    iam->stopping = 1;
    pthread_cond_signal(&iam->stop_cond);
    pthread_mutex_unlock(&iam->stop_mutex);
    pthread_join(iam->refresher, NULL);
    table_dispose(&iam->tab);
    gw_secret_keys_free(iam->keys);
    OPENSSL_cleanse(&iam->root, sizeof(iam->root));
    free(iam);
}

static int key_is(const char *stored, h2o_iovec_t key)
{
    return strlen(stored) == key.len && memcmp(stored, key.base, key.len) == 0;
}

int gw_iam_lookup(gw_iam_t *iam, h2o_iovec_t access_key, gw_identity_t *out)
{
    int ret = -ENOENT;
    if (key_is(iam->root.access_key, access_key)) {
        *out = iam->root;
        return 0;
    }
    pthread_rwlock_rdlock(&iam->lock);
    for (size_t i = 0; i < iam->tab.nids; i++) {
        if (key_is(iam->tab.ids[i].access_key, access_key)) {
            *out = iam->tab.ids[i];
            ret = 0;
            break;
        }
    }
    pthread_rwlock_unlock(&iam->lock);
    return ret;
}

/* Writes an access key's record with its secret sealed (when a key is held), without reloading. */
static int key_store(gw_iam_t *iam, const char *user, const char *access_key, const char *secret_key, uint32_t flags,
                     int64_t created_ns)
{
    uint8_t sealed[GW_SECRET_SEALED_LEN(GW_IAM_SECRET_MAX)];
    size_t slen = strlen(secret_key);
    meta_user_t u = {.access_key = {access_key, strlen(access_key)},
                     .secret_key = {secret_key, slen},
                     .user = {user, strlen(user)},
                     .flags = flags,
                     .created_ns = created_ns};
    meta_buf_t buf = {0};
    meta_key_t key;
    int ret;

    if (strlen(access_key) > META_ACCESS_KEY_MAX || slen > GW_IAM_SECRET_MAX || slen == 0 ||
        strlen(user) > GW_IAM_NAME_MAX || strcmp(access_key, iam->root.access_key) == 0)
        return -EINVAL;
    if ((ret = meta_key_user(u.access_key, &key)) != 0)
        goto done;
    if (gw_secret_keys_count(iam->keys) > 0) {
        /* the record's key name is bound in: the sealed secret opens for this access key only */
        if ((ret = gw_secret_seal(iam->keys, key.buf, key.len, secret_key, slen, sealed, sizeof(sealed), &slen)) != 0)
            goto done;
        u.secret_key = (meta_bytes_t){(const char *)sealed, slen};
    }
    if ((ret = meta_user_encode(&u, &buf)) != 0)
        goto done;
    ret = gw_replica_put(iam->cluster, &key, buf.base, buf.len);
done:
    if (buf.base != NULL)
        OPENSSL_cleanse(buf.base, buf.len);
    meta_buf_dispose(&buf);
    OPENSSL_cleanse(sealed, sizeof(sealed));
    return ret == -ENOKEY || ret == -ENOBUFS || ret == -EIO ? GW_EIO : ret;
}

static int key_write(gw_iam_t *iam, const char *user, const char *access_key, const char *secret_key, uint32_t flags,
                     int64_t created_ns)
{
    int ret = key_store(iam, user, access_key, secret_key, flags, created_ns);
    return ret == 0 ? reload(iam) : ret;
}

void gw_iam_seal_status(gw_iam_t *iam, gw_iam_seal_status_t *out)
{
    pthread_rwlock_rdlock(&iam->lock);
    *out = iam->tab.seal;
    pthread_rwlock_unlock(&iam->lock);
}

gw_secret_keys_t *gw_iam_secret_keys(gw_iam_t *iam)
{
    return iam->keys;
}

int gw_iam_reseal(gw_iam_t *iam, int all, size_t *resealed, char *err, size_t errlen)
{
    gw_identity_t *todo = NULL;
    size_t n = 0;
    int ret;

    *resealed = 0;
    err[0] = '\0';
    pthread_mutex_lock(&iam->write_mutex);
    if ((ret = gw_secret_keys_reload(iam->keys, err, errlen)) != 0)
        goto done;
    if (gw_secret_keys_count(iam->keys) == 0) {
        snprintf(err, errlen, "no secrets key configured: set secrets_key_file or secrets_key_env");
        ret = -ENOKEY;
        goto done;
    }
    /* a fresh load: which records are sealed under the key that is current now */
    if ((ret = reload(iam)) != 0)
        goto done;
    pthread_rwlock_rdlock(&iam->lock);
    if (iam->tab.nids > 0 && (todo = malloc(iam->tab.nids * sizeof(*todo))) != NULL)
        for (size_t i = 0; i < iam->tab.nids; i++)
            if (all || !iam->tab.ids[i].sealed_current)
                todo[n++] = iam->tab.ids[i];
    pthread_rwlock_unlock(&iam->lock);
    if (iam->tab.nids > 0 && todo == NULL) {
        ret = GW_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < n && ret == 0; i++)
        if ((ret = key_store(iam, todo[i].user, todo[i].access_key, todo[i].secret_key,
                             todo[i].disabled ? META_USER_DISABLED : 0, todo[i].created_ns)) == 0)
            (*resealed)++;
    int r = reload(iam);
    ret = ret != 0 ? ret : r;
done:
    if (todo != NULL)
        OPENSSL_cleanse(todo, n * sizeof(*todo));
    free(todo);
    pthread_mutex_unlock(&iam->write_mutex);
    return ret;
}

int gw_iam_remove(gw_iam_t *iam, const char *access_key)
{
    meta_key_t key;
    gw_identity_t id;
    int ret;
    if (gw_iam_lookup(iam, (h2o_iovec_t){(char *)access_key, strlen(access_key)}, &id) != 0 || id.is_root)
        return -ENOENT;
    OPENSSL_cleanse(id.secret_key, sizeof(id.secret_key));
    if ((ret = meta_key_user((meta_bytes_t){access_key, strlen(access_key)}, &key)) != 0)
        return ret;
    if ((ret = gw_replica_delete(iam->cluster, &key)) == 0)
        ret = reload(iam);
    return ret;
}

int gw_iam_remove_user(gw_iam_t *iam, const char *user)
{
    char keys[64][META_ACCESS_KEY_MAX + 1];
    size_t n = 0;
    int removed = 0;

    pthread_rwlock_rdlock(&iam->lock);
    for (size_t i = 0; i < iam->tab.nids && n < 64; i++)
        if (strcmp(iam->tab.ids[i].user, user) == 0)
            strcpy(keys[n++], iam->tab.ids[i].access_key);
    pthread_rwlock_unlock(&iam->lock);
    for (size_t i = 0; i < n; i++)
        if (gw_iam_remove(iam, keys[i]) == 0)
            removed++;
    return removed;
}

void gw_iam_foreach(gw_iam_t *iam, void (*fn)(void *arg, const gw_identity_t *id), void *arg)
{
    pthread_rwlock_rdlock(&iam->lock);
    for (size_t i = 0; i < iam->tab.nids; i++)
        fn(arg, &iam->tab.ids[i]);
    pthread_rwlock_unlock(&iam->lock);
}

/* ---------------------------------------------------------------- names */

static int name_valid(h2o_iovec_t v, size_t max)
{
    if (v.len == 0 || v.len > max)
        return 0;
    for (size_t i = 0; i < v.len; i++) {
        char c = v.base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '=' ||
              c == ',' || c == '.' || c == '@' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int gw_iam_name_valid(h2o_iovec_t name)
{
    return name_valid(name, GW_IAM_NAME_MAX);
}

int gw_iam_policy_name_valid(h2o_iovec_t name)
{
    return name_valid(name, GW_IAM_POLICY_NAME_MAX);
}

int gw_iam_path_valid(h2o_iovec_t path, int prefix)
{
    if (path.len == 0 || path.len > GW_IAM_PATH_MAX || path.base[0] != '/' ||
        (!prefix && path.base[path.len - 1] != '/'))
        return 0;
    for (size_t i = 0; i < path.len; i++)
        if ((unsigned char)path.base[i] < 0x21 || (unsigned char)path.base[i] > (prefix ? 0x7f : 0x7e))
            return 0;
    return 1;
}

/* ---------------------------------------------------------------- entity records */

static meta_bytes_t mb(const char *s)
{
    return s != NULL ? (meta_bytes_t){s, strlen(s)} : (meta_bytes_t){NULL, 0};
}

/* Writes an entity record without reloading. */
static int entity_store(gw_iam_t *iam, char kind, const char *name, const char *member, h2o_iovec_t doc)
{
    meta_config_t rec = {.incarnation = 1,
                         .state = META_CONFIG_SET,
                         .updated_ns = yc_now_ns(),
                         .document = {doc.base != NULL ? doc.base : "", doc.len}};
    meta_buf_t buf = {0};
    meta_key_t key;
    int ret;

    if ((ret = meta_key_iam(kind, mb(name), mb(member), &key)) != 0)
        return -EINVAL;
    if ((ret = meta_config_encode(&rec, &buf)) == 0)
        ret = gw_replica_put(iam->cluster, &key, buf.base, buf.len);
    meta_buf_dispose(&buf);
    return ret;
}

/* Removes an entity record without reloading. */
static int entity_erase(gw_iam_t *iam, char kind, const char *name, const char *member)
{
    meta_key_t key;
    if (meta_key_iam(kind, mb(name), mb(member), &key) != 0)
        return -EINVAL;
    return gw_replica_delete(iam->cluster, &key);
}

static int entity_put(gw_iam_t *iam, char kind, const char *name, const char *member, h2o_iovec_t doc)
{
    int ret = entity_store(iam, kind, name, member, doc);
    return ret == 0 ? reload(iam) : ret;
}

static int entity_delete(gw_iam_t *iam, char kind, const char *name, const char *member)
{
    int ret = entity_erase(iam, kind, name, member);
    return ret == 0 ? reload(iam) : ret;
}

static void random_chars(char *out, size_t n, const char *alphabet, size_t alen)
{
    unsigned char r[64];
    RAND_bytes(r, (int)n);
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[r[i] % alen];
    out[n] = '\0';
    OPENSSL_cleanse(r, sizeof(r));
}

/* The document of a user or group record. */
static char *entity_doc(char kind, const gw_iam_entity_t *e)
{
    json_t *js = json_pack("{s:i, s:s, s:I}", "v", 1, "id", e->id, "created", (json_int_t)e->created_ns);
    char *doc = NULL;
    if (js != NULL && json_object_set_new(js, "path", json_string(e->path)) != 0) {
        json_decref(js);
        return NULL;
    }
    if (js != NULL)
        doc = json_dumps(js, JSON_COMPACT);
    json_decref(js);
    return doc;
}

/* Makes a user or group (write_mutex held). */
static int entity_create_locked(gw_iam_t *iam, char kind, const char *name, const char *path, gw_iam_entity_t *out)
{
    static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    char id[GW_IAM_ID_LEN + 1];
    int ret;

    if (path == NULL)
        path = "/";
    if (!gw_iam_name_valid(h2o_iovec_init(name, strlen(name))) ||
        !gw_iam_path_valid(h2o_iovec_init(path, strlen(path)), 0))
        return -EINVAL;
    pthread_rwlock_rdlock(&iam->lock);
    int exists = kind == KIND_USER ? find_entity(iam->tab.users, iam->tab.nusers, name) != NULL
                                   : find_entity(iam->tab.groups, iam->tab.ngroups, name) != NULL;
    pthread_rwlock_unlock(&iam->lock);
    if (exists) {
        ret = -EEXIST;
        goto done;
    }
    memcpy(id, kind == KIND_USER ? "AIDA" : "AGPA", 4);
    random_chars(id + 4, 17, upper, 32);
    memset(out, 0, sizeof(*out));
    copy_str(out->name, sizeof(out->name), name, strlen(name));
    memcpy(out->id, id, sizeof(id));
    out->created_ns = yc_now_ns();
    copy_str(out->path, sizeof(out->path), path, strlen(path));
    out->recorded = 1;
    char *doc = entity_doc(kind, out);
    if (doc == NULL) {
        ret = GW_ENOMEM;
        goto done;
    }
    ret = entity_put(iam, kind, name, NULL, h2o_iovec_init(doc, strlen(doc)));
    free(doc);
done:
    return ret;
}

static int entity_create(gw_iam_t *iam, char kind, const char *name, const char *path, gw_iam_entity_t *out)
{
    pthread_mutex_lock(&iam->write_mutex);
    int ret = entity_create_locked(iam, kind, name, path, out);
    pthread_mutex_unlock(&iam->write_mutex);
    return ret;
}

/* Writes the record of user e as e says it, and reloads. */
static int user_record_write(gw_iam_t *iam, const gw_iam_entity_t *e)
{
    char *doc = entity_doc(KIND_USER, e);
    if (doc == NULL)
        return GW_ENOMEM;
    int ret = entity_put(iam, KIND_USER, e->name, NULL, h2o_iovec_init(doc, strlen(doc)));
    free(doc);
    return ret;
}

/* Gives every user known by its access keys alone a record holding the id it has been shown with
 * (derived from its name), so that the id is kept like any other user's from then on. */
static void persist_key_only_users(gw_iam_t *iam)
{
    pthread_mutex_lock(&iam->write_mutex);
    size_t todo = 0;
    pthread_rwlock_rdlock(&iam->lock);
    for (size_t i = 0; i < iam->tab.nusers; i++)
        todo += !iam->tab.users[i].recorded;
    pthread_rwlock_unlock(&iam->lock);
    /* one at a time from the table, which each write reloads; bounded by what was found */
    for (size_t n = 0; n < todo; n++) {
        gw_iam_entity_t e;
        int found = 0, ret;
        pthread_rwlock_rdlock(&iam->lock);
        for (size_t i = 0; i < iam->tab.nusers && !found; i++)
            if (!iam->tab.users[i].recorded) {
                e = iam->tab.users[i];
                found = 1;
            }
        pthread_rwlock_unlock(&iam->lock);
        if (!found)
            break;
        if ((ret = user_record_write(iam, &e)) != 0) {
            yc_log(YC_LOG_WARN, "event=iam_user_record_failed user=%s err=%s note=\"written at the next refresh\"",
                   e.name, yc_errname(ret));
            break;
        }
        yc_log(YC_LOG_INFO, "event=iam_user_recorded user=%s id=%s", e.name, e.id);
    }
    pthread_mutex_unlock(&iam->write_mutex);
}

int gw_iam_put(gw_iam_t *iam, const char *user, const char *access_key, const char *secret_key)
{
    gw_iam_entity_t e;
    int ret;

    if (strlen(access_key) > META_ACCESS_KEY_MAX || strcmp(access_key, iam->root.access_key) == 0 ||
        !gw_iam_name_valid(h2o_iovec_init(user, strlen(user))))
        return -EINVAL;
    pthread_mutex_lock(&iam->write_mutex);
    /* the key's user: the one of that name in any case, or a new one (with its own id) */
    if (gw_iam_user_get(iam, user, &e) == 0)
        ret = e.recorded ? 0 : user_record_write(iam, &e);
    else
        ret = entity_create_locked(iam, KIND_USER, user, NULL, &e);
    if (ret == 0)
        ret = key_write(iam, e.name, access_key, secret_key, 0, yc_now_ns());
    pthread_mutex_unlock(&iam->write_mutex);
    return ret;
}

static int entity_get(gw_iam_t *iam, char kind, const char *name, gw_iam_entity_t *out)
{
    pthread_rwlock_rdlock(&iam->lock);
    const gw_iam_entity_t *e = kind == KIND_USER ? find_entity(iam->tab.users, iam->tab.nusers, name)
                                                 : find_entity(iam->tab.groups, iam->tab.ngroups, name);
    if (e != NULL)
        *out = *e;
    pthread_rwlock_unlock(&iam->lock);
    return e != NULL ? 0 : -ENOENT;
}

/* Counts what still hangs on a user or group (table locked). */
static size_t dependents(const table_t *t, char kind, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; kind == KIND_USER && i < t->nids; i++)
        n += strcmp(t->ids[i].user, name) == 0;
    for (size_t i = 0; i < t->nmembers; i++)
        n += strcmp(kind == KIND_USER ? t->members[i].user : t->members[i].group, name) == 0;
    for (size_t i = 0; i < t->npolicies; i++)
        n += t->policies[i].kind == (kind == KIND_USER ? GW_IAM_USER_POLICY : GW_IAM_GROUP_POLICY) &&
             strcmp(t->policies[i].owner, name) == 0;
    for (size_t i = 0; i < t->nattachments; i++)
        n += t->attachments[i].kind == (kind == KIND_USER ? KIND_USER_ATTACH : KIND_GROUP_ATTACH) &&
             strcmp(t->attachments[i].owner, name) == 0 && find_managed(t, t->attachments[i].policy) != NULL;
    return n;
}

static int entity_remove(gw_iam_t *iam, char kind, const char *name)
{
    gw_iam_entity_t e;
    int ret;
    pthread_mutex_lock(&iam->write_mutex);
    if ((ret = entity_get(iam, kind, name, &e)) != 0)
        goto done;
    /* the records are keyed by the spelling kept, whatever the case asked with */
    pthread_rwlock_rdlock(&iam->lock);
    size_t n = dependents(&iam->tab, kind, e.name);
    pthread_rwlock_unlock(&iam->lock);
    ret = n > 0 ? -ENOTEMPTY : entity_delete(iam, kind, e.name, NULL);
done:
    pthread_mutex_unlock(&iam->write_mutex);
    return ret;
}

int gw_iam_user_create(gw_iam_t *iam, const char *name, gw_iam_entity_t *out)
{
    return entity_create(iam, KIND_USER, name, NULL, out);
}

int gw_iam_user_create_at(gw_iam_t *iam, const char *name, const char *path, gw_iam_entity_t *out)
{
    return entity_create(iam, KIND_USER, name, path, out);
}

/* What hangs on a user or group by its name, copied out of the table for a rename. */
typedef struct {
    gw_identity_t *keys; /* secrets included: cleansed by moved_dispose */
    size_t nkeys;
    policy_t *policies; /* text owned, parsed NULL */
    size_t npolicies;
    char (*groups)[GW_IAM_NAME_MAX + 1]; /* the groups of a user, or the members of a group */
    size_t ngroups;
    char (*attached)[GW_IAM_POLICY_NAME_MAX + 1]; /* its managed policies */
    size_t nattached;
} moved_t;

static void moved_dispose(moved_t *m)
{
    if (m->keys != NULL)
        OPENSSL_cleanse(m->keys, m->nkeys * sizeof(*m->keys));
    free(m->keys);
    for (size_t i = 0; i < m->npolicies; i++)
        free(m->policies[i].text);
    free(m->policies);
    free(m->groups);
    free(m->attached);
}

/* Copies what hangs on entity name (kind) out of the table. 0 or GW_ENOMEM. */
static int moved_collect(gw_iam_t *iam, char kind, const char *name, moved_t *m)
{
    const table_t *t = &iam->tab;
    char pkind = kind == KIND_USER ? GW_IAM_USER_POLICY : GW_IAM_GROUP_POLICY;
    int ret = 0;

    memset(m, 0, sizeof(*m));
    pthread_rwlock_rdlock(&iam->lock);
    m->keys = calloc(t->nids + 1, sizeof(*m->keys));
    m->policies = calloc(t->npolicies + 1, sizeof(*m->policies));
    m->groups = calloc(t->nmembers + 1, sizeof(*m->groups));
    m->attached = calloc(t->nattachments + 1, sizeof(*m->attached));
    if (m->keys == NULL || m->policies == NULL || m->groups == NULL || m->attached == NULL) {
        ret = GW_ENOMEM;
        goto done;
    }
    for (size_t i = 0; kind == KIND_USER && i < t->nids; i++)
        if (strcmp(t->ids[i].user, name) == 0)
            m->keys[m->nkeys++] = t->ids[i];
    for (size_t i = 0; i < t->npolicies; i++) {
        if (t->policies[i].kind != pkind || strcmp(t->policies[i].owner, name) != 0)
            continue;
        policy_t *p = &m->policies[m->npolicies];
        *p = t->policies[i];
        p->parsed = NULL;
        if ((p->text = malloc(p->len + 1)) == NULL) {
            ret = GW_ENOMEM;
            goto done;
        }
        memcpy(p->text, t->policies[i].text, p->len + 1);
        m->npolicies++;
    }
    for (size_t i = 0; i < t->nmembers; i++) {
        const char *self = kind == KIND_USER ? t->members[i].user : t->members[i].group,
                   *peer = kind == KIND_USER ? t->members[i].group : t->members[i].user;
        if (strcmp(self, name) == 0)
            memcpy(m->groups[m->ngroups++], peer, GW_IAM_NAME_MAX + 1);
    }
    for (size_t i = 0; i < t->nattachments; i++)
        if (t->attachments[i].kind == (kind == KIND_USER ? KIND_USER_ATTACH : KIND_GROUP_ATTACH) &&
            strcmp(t->attachments[i].owner, name) == 0)
            memcpy(m->attached[m->nattached++], t->attachments[i].policy, GW_IAM_POLICY_NAME_MAX + 1);
done:
    pthread_rwlock_unlock(&iam->lock);
    return ret;
}

/* Writes (or, undo set, removes) the records of m under the entity's name `name`; keys are
 * rewritten to name's user either way. Stops at the first failure (when not undoing). */
static int moved_write(gw_iam_t *iam, char kind, const char *name, const moved_t *m, int undo)
{
    char pkind = kind == KIND_USER ? GW_IAM_USER_POLICY : GW_IAM_GROUP_POLICY;
    int ret = 0, r;

    for (size_t i = 0; i < m->nkeys && (ret == 0 || undo); i++) {
        const gw_identity_t *k = &m->keys[i];
        r = key_store(iam, name, k->access_key, k->secret_key, k->disabled ? META_USER_DISABLED : 0, k->created_ns);
        ret = ret != 0 ? ret : r;
    }
    for (size_t i = 0; i < m->npolicies && (ret == 0 || undo); i++) {
        const policy_t *p = &m->policies[i];
        r = undo ? entity_erase(iam, pkind, name, p->name)
                 : entity_store(iam, pkind, name, p->name, h2o_iovec_init(p->text, p->len));
        ret = ret != 0 ? ret : r;
    }
    for (size_t i = 0; i < m->ngroups && (ret == 0 || undo); i++) {
        /* a membership is keyed user, then group */
        const char *user = kind == KIND_USER ? name : m->groups[i], *group = kind == KIND_USER ? m->groups[i] : name;
        r = undo ? entity_erase(iam, KIND_MEMBER, user, group)
                 : entity_store(iam, KIND_MEMBER, user, group, h2o_iovec_init("", 0));
        ret = ret != 0 ? ret : r;
    }
    char akind = kind == KIND_USER ? KIND_USER_ATTACH : KIND_GROUP_ATTACH;
    for (size_t i = 0; i < m->nattached && (ret == 0 || undo); i++) {
        r = undo ? entity_erase(iam, akind, name, m->attached[i])
                 : entity_store(iam, akind, name, m->attached[i], h2o_iovec_init("", 0));
        ret = ret != 0 ? ret : r;
    }
    return ret;
}

/* Renames entity e to new_name with its new record doc (write_mutex held): the new record, its
 * keys, policies and memberships are written under the new name first, then the old records are
 * removed. A failure before the removals puts back what was written (the keys to the old name):
 * the entity stays whole under its old name. A failure among the removals leaves old records
 * that name no entity any more (a policy or membership of a name that does not exist grants
 * nothing, and an entity made later under that name would find them: the removal is retried). */
static int entity_rename(gw_iam_t *iam, char kind, const gw_iam_entity_t *e, const char *new_name, h2o_iovec_t doc)
{
    char pkind = kind == KIND_USER ? GW_IAM_USER_POLICY : GW_IAM_GROUP_POLICY;
    moved_t m;
    int ret, r;

    if ((ret = moved_collect(iam, kind, e->name, &m)) != 0)
        goto done;
    if ((ret = entity_store(iam, kind, new_name, NULL, doc)) != 0)
        goto done;
    if ((ret = moved_write(iam, kind, new_name, &m, 0)) != 0) {
        moved_write(iam, kind, new_name, &m, 1);
        for (size_t i = 0; i < m.nkeys; i++) { /* back to their user */
            const gw_identity_t *k = &m.keys[i];
            key_store(iam, e->name, k->access_key, k->secret_key, k->disabled ? META_USER_DISABLED : 0, k->created_ns);
        }
        entity_erase(iam, kind, new_name, NULL);
        goto done;
    }
    /* the old records go; each removal is retried once, as a quorum may be missed for a moment */
    for (size_t i = 0; i < m.npolicies; i++)
        if ((r = entity_erase(iam, pkind, e->name, m.policies[i].name)) != 0 &&
            (r = entity_erase(iam, pkind, e->name, m.policies[i].name)) != 0)
            ret = ret != 0 ? ret : r;
    for (size_t i = 0; i < m.ngroups; i++) {
        const char *user = kind == KIND_USER ? e->name : m.groups[i],
                   *group = kind == KIND_USER ? m.groups[i] : e->name;
        if ((r = entity_erase(iam, KIND_MEMBER, user, group)) != 0 &&
            (r = entity_erase(iam, KIND_MEMBER, user, group)) != 0)
            ret = ret != 0 ? ret : r;
    }
    char akind = kind == KIND_USER ? KIND_USER_ATTACH : KIND_GROUP_ATTACH;
    for (size_t i = 0; i < m.nattached; i++)
        if ((r = entity_erase(iam, akind, e->name, m.attached[i])) != 0 &&
            (r = entity_erase(iam, akind, e->name, m.attached[i])) != 0)
            ret = ret != 0 ? ret : r;
    if ((r = entity_erase(iam, kind, e->name, NULL)) != 0 && (r = entity_erase(iam, kind, e->name, NULL)) != 0)
        ret = ret != 0 ? ret : r;
    if (ret != 0)
        yc_log(YC_LOG_WARN, "event=iam_rename_left_records name=%s new_name=%s err=%s", e->name, new_name,
               yc_errname(ret));
done:
    r = reload(iam);
    moved_dispose(&m);
    return ret != 0 ? ret : r;
}

/* Renames and moves a user or a group (gw_iam_user_update, gw_iam_group_update). */
static int entity_update(gw_iam_t *iam, char kind, const char *name, const char *new_name, const char *new_path)
{
    gw_iam_entity_t e, other;
    char *doc = NULL;
    int ret;

    if ((new_name != NULL && !gw_iam_name_valid(h2o_iovec_init(new_name, strlen(new_name)))) ||
        (new_path != NULL && !gw_iam_path_valid(h2o_iovec_init(new_path, strlen(new_path)), 0)))
        return -EINVAL;
    pthread_mutex_lock(&iam->write_mutex);
    if ((ret = entity_get(iam, kind, name, &e)) != 0)
        goto done;
    if (new_name != NULL && strcmp(new_name, e.name) == 0)
        new_name = NULL; /* the same spelling: nothing to move */
    /* another entity of that name in any case; a change of case of this one's is a rename */
    if (new_name != NULL && entity_get(iam, kind, new_name, &other) == 0 && strcmp(other.name, e.name) != 0) {
        ret = -EEXIST;
        goto done;
    }
    if (new_path != NULL)
        copy_str(e.path, sizeof(e.path), new_path, strlen(new_path));
    e.recorded = 1;
    if ((doc = entity_doc(kind, &e)) == NULL) {
        ret = GW_ENOMEM;
        goto done;
    }
    if (new_name != NULL) {
        ret = entity_rename(iam, kind, &e, new_name, h2o_iovec_init(doc, strlen(doc)));
        goto done;
    }
    ret = entity_put(iam, kind, e.name, NULL, h2o_iovec_init(doc, strlen(doc)));
done:
    free(doc);
    pthread_mutex_unlock(&iam->write_mutex);
    return ret;
}

int gw_iam_user_update(gw_iam_t *iam, const char *name, const char *new_name, const char *new_path)
{
    return entity_update(iam, KIND_USER, name, new_name, new_path);
}

int gw_iam_user_get(gw_iam_t *iam, const char *name, gw_iam_entity_t *out)
{
    return entity_get(iam, KIND_USER, name, out);
}

int gw_iam_user_delete(gw_iam_t *iam, const char *name)
{
    return entity_remove(iam, KIND_USER, name);
}

int gw_iam_group_create(gw_iam_t *iam, const char *name, gw_iam_entity_t *out)
{
    return entity_create(iam, KIND_GROUP, name, NULL, out);
}

int gw_iam_group_create_at(gw_iam_t *iam, const char *name, const char *path, gw_iam_entity_t *out)
{
    return entity_create(iam, KIND_GROUP, name, path, out);
}

int gw_iam_group_update(gw_iam_t *iam, const char *name, const char *new_name, const char *new_path)
{
    return entity_update(iam, KIND_GROUP, name, new_name, new_path);
}

int gw_iam_group_get(gw_iam_t *iam, const char *name, gw_iam_entity_t *out)
{
    return entity_get(iam, KIND_GROUP, name, out);
}

int gw_iam_group_delete(gw_iam_t *iam, const char *name)
{
    return entity_remove(iam, KIND_GROUP, name);
}

void gw_iam_users(gw_iam_t *iam, void (*fn)(void *arg, const gw_iam_entity_t *user), void *arg)
{
    pthread_rwlock_rdlock(&iam->lock);
    for (size_t i = 0; i < iam->tab.nusers; i++)
        fn(arg, &iam->tab.users[i]);
    pthread_rwlock_unlock(&iam->lock);
}

void gw_iam_groups(gw_iam_t *iam, void (*fn)(void *arg, const gw_iam_entity_t *group), void *arg)
{
    pthread_rwlock_rdlock(&iam->lock);
    for (size_t i = 0; i < iam->tab.ngroups; i++)
        fn(arg, &iam->tab.groups[i]);
    pthread_rwlock_unlock(&iam->lock);
}

/* ---------------------------------------------------------------- access keys */

/* Finds user's key (table locked); NULL when user has none of that id. */
static const gw_identity_t *find_key(const table_t *t, const char *user, const char *access_key)
{
    for (size_t i = 0; i < t->nids; i++)
        if (strcmp(t->ids[i].access_key, access_key) == 0 && strcmp(t->ids[i].user, user) == 0)
            return &t->ids[i];
    return NULL;
}

int gw_iam_key_create(gw_iam_t *iam, const char *user, gw_identity_t *out)
{
    static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    static const char secret_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    gw_iam_entity_t u;
    size_t nkeys = 0;
    int ret;

    pthread_mutex_lock(&iam->write_mutex);
    if ((ret = gw_iam_user_get(iam, user, &u)) != 0)
        goto done;
    user = u.name; /* the spelling kept, whatever the case asked with */
    pthread_rwlock_rdlock(&iam->lock);
    for (size_t i = 0; i < iam->tab.nids; i++)
        nkeys += strcmp(iam->tab.ids[i].user, user) == 0;
    pthread_rwlock_unlock(&iam->lock);
    if (nkeys >= GW_IAM_KEYS_PER_USER) {
        ret = -E2BIG;
        goto done;
    }
    memset(out, 0, sizeof(*out));
    memcpy(out->access_key, "AKIA", 4);
    random_chars(out->access_key + 4, 16, upper, 32);
    random_chars(out->secret_key, 40, secret_chars, 64);
    copy_str(out->user, sizeof(out->user), user, strlen(user));
    out->created_ns = yc_now_ns();
    ret = key_write(iam, user, out->access_key, out->secret_key, 0, out->created_ns);
done:
    pthread_mutex_unlock(&iam->write_mutex);
    return ret;
}

int gw_iam_key_delete(gw_iam_t *iam, const char *user, const char *access_key)
{
    int ret;
    pthread_mutex_lock(&iam->write_mutex);
    pthread_rwlock_rdlock(&iam->lock);
    int found = find_key(&iam->tab, user, access_key) != NULL;
    pthread_rwlock_unlock(&iam->lock);
    ret = found ? gw_iam_remove(iam, access_key) : -ENOENT;
    pthread_mutex_unlock(&iam->write_mutex);
    return ret;
}

int gw_iam_key_set_disabled(gw_iam_t *iam, const char *user, const char *access_key, int disabled)
{
    gw_identity_t id;
    int ret = -ENOENT;
    pthread_mutex_lock(&iam->write_mutex);
    pthread_rwlock_rdlock(&iam->lock);
    const gw_identity_t *k = find_key(&iam->tab, user, access_key);
    if (k != NULL)
        id = *k;
    pthread_rwlock_unlock(&iam->lock);
    if (k != NULL) {
        ret = key_write(iam, id.user, id.access_key, id.secret_key, disabled ? META_USER_DISABLED : 0, id.created_ns);
        OPENSSL_cleanse(&id, sizeof(id));
    }
    pthread_mutex_unlock(&iam->write_mutex);
    return ret;
}

void gw_iam_keys(gw_iam_t *iam, const char *user, void (*fn)(void *arg, const gw_identity_t *id), void *arg)
{
    pthread_rwlock_rdlock(&iam->lock);
    for (size_t i = 0; i < iam->tab.nids; i++)
        if (strcmp(iam->tab.ids[i].user, user) == 0)
            fn(arg, &iam->tab.ids[i]);
    pthread_rwlock_unlock(&iam->lock);
}

/* ---------------------------------------------------------------- groups */

static int is_member(const table_t *t, const char *group, const char *user)
{
    for (size_t i = 0; i < t->nmembers; i++)
        if (strcmp(t->members[i].group, group) == 0 && strcmp(t->members[i].user, user) == 0)
            return 1;
    return 0;
}

int gw_iam_member_add(gw_iam_t *iam, const char *group, const char *user)
{
    gw_iam_entity_t e;
    int ret;
    pthread_mutex_lock(&iam->write_mutex);
    gw_iam_entity_t u;
    /* keyed by the names' kept spellings, whatever the case asked with */
    if ((ret = gw_iam_group_get(iam, group, &e)) == 0 && (ret = gw_iam_user_get(iam, user, &u)) == 0)
        ret = entity_put(iam, KIND_MEMBER, u.name, e.name, h2o_iovec_init("", 0));
    pthread_mutex_unlock(&iam->write_mutex);
    return ret;
}

int gw_iam_member_remove(gw_iam_t *iam, const char *group, const char *user)
{
    gw_iam_entity_t e;
    int ret;
    pthread_mutex_lock(&iam->write_mutex);
    gw_iam_entity_t u;
    if ((ret = gw_iam_group_get(iam, group, &e)) == 0 && (ret = gw_iam_user_get(iam, user, &u)) == 0) {
        group = e.name;
        user = u.name;
        pthread_rwlock_rdlock(&iam->lock);
        int member = is_member(&iam->tab, group, user);
        pthread_rwlock_unlock(&iam->lock);
        ret = member ? entity_delete(iam, KIND_MEMBER, user, group) : -ENOENT;
    }
    pthread_mutex_unlock(&iam->write_mutex);
    return ret;
}

void gw_iam_groups_of(gw_iam_t *iam, const char *user, void (*fn)(void *arg, const gw_iam_entity_t *group), void *arg)
{
    pthread_rwlock_rdlock(&iam->lock);
    for (size_t i = 0; i < iam->tab.ngroups; i++)
        if (is_member(&iam->tab, iam->tab.groups[i].name, user))
            fn(arg, &iam->tab.groups[i]);
    pthread_rwlock_unlock(&iam->lock);
}

void gw_iam_members_of(gw_iam_t *iam, const char *group, void (*fn)(void *arg, const gw_iam_entity_t *user), void *arg)
{
    pthread_rwlock_rdlock(&iam->lock);
    for (size_t i = 0; i < iam->tab.nusers; i++)
        if (is_member(&iam->tab, group, iam->tab.users[i].name))
            fn(arg, &iam->tab.users[i]);
    pthread_rwlock_unlock(&iam->lock);
}

/* ---------------------------------------------------------------- inline policies */

static const policy_t *find_policy(const table_t *t, char kind, const char *owner, const char *name)
{
    for (size_t i = 0; i < t->npolicies; i++)
        if (t->policies[i].kind == kind && strcmp(t->policies[i].owner, owner) == 0 &&
            strcmp(t->policies[i].name, name) == 0)
            return &t->policies[i];
    return NULL;
}

/* Finds a policy's owner; *kept is its name as kept (policies are keyed by it), from e. */
static int owner_get(gw_iam_t *iam, gw_iam_policy_kind_t kind, const char *owner, gw_iam_entity_t *e, const char **kept)
{
    int ret = kind == GW_IAM_USER_POLICY ? gw_iam_user_get(iam, owner, e) : gw_iam_group_get(iam, owner, e);
    if (ret == 0)
        *kept = e->name;
    return ret;
}

int gw_iam_policy_put(gw_iam_t *iam, gw_iam_policy_kind_t kind, const char *owner, const char *name, h2o_iovec_t text,
                      s3_policy_error_t *err)
{
    s3_policy_options_t opt = {.kind = S3_POLICY_IDENTITY, .max_size = GW_IAM_POLICY_MAX};
    s3_policy_t *parsed = NULL;
    int ret;

    err->message[0] = '\0';
    if (!gw_iam_policy_name_valid(h2o_iovec_init(name, strlen(name))))
        return -EINVAL;
    if ((ret = s3_policy_parse(text, &opt, &parsed, err)) != 0)
        return ret == -S3_ERR_INTERNAL_ERROR ? GW_ENOMEM : -EINVAL;
    s3_policy_free(parsed);
    pthread_mutex_lock(&iam->write_mutex);
    gw_iam_entity_t e;
    if ((ret = owner_get(iam, kind, owner, &e, &owner)) == 0)
        ret = entity_put(iam, (char)kind, owner, name, text);
    pthread_mutex_unlock(&iam->write_mutex);
    return ret;
}

int gw_iam_policy_get(gw_iam_t *iam, gw_iam_policy_kind_t kind, const char *owner, const char *name,
                      h2o_mem_pool_t *pool, h2o_iovec_t *text)
{
    int ret;
    gw_iam_entity_t e;
    if ((ret = owner_get(iam, kind, owner, &e, &owner)) != 0)
        return ret;
    pthread_rwlock_rdlock(&iam->lock);
    const policy_t *p = find_policy(&iam->tab, (char)kind, owner, name);
    if (p != NULL)
        *text = h2o_strdup(pool, p->text, p->len);
    pthread_rwlock_unlock(&iam->lock);
    return p != NULL ? 0 : -ENOENT;
}

int gw_iam_policy_delete(gw_iam_t *iam, gw_iam_policy_kind_t kind, const char *owner, const char *name)
{
    int ret;
    pthread_mutex_lock(&iam->write_mutex);
    gw_iam_entity_t e;
    if ((ret = owner_get(iam, kind, owner, &e, &owner)) == 0) {
        pthread_rwlock_rdlock(&iam->lock);
        int found = find_policy(&iam->tab, (char)kind, owner, name) != NULL;
        pthread_rwlock_unlock(&iam->lock);
        ret = found ? entity_delete(iam, (char)kind, owner, name) : -ENOENT;
    }
    pthread_mutex_unlock(&iam->write_mutex);
    return ret;
}

void gw_iam_policies(gw_iam_t *iam, gw_iam_policy_kind_t kind, const char *owner,
                     void (*fn)(void *arg, const char *name), void *arg)
{
    pthread_rwlock_rdlock(&iam->lock);
    /* scan order is key order, which is name order within one owner */
    for (size_t i = 0; i < iam->tab.npolicies; i++)
        if (iam->tab.policies[i].kind == (char)kind && strcmp(iam->tab.policies[i].owner, owner) == 0)
            fn(arg, iam->tab.policies[i].name);
    pthread_rwlock_unlock(&iam->lock);
}

/* ---------------------------------------------------------------- managed policies */

int gw_iam_managed_create(gw_iam_t *iam, const char *name, const char *path, const char *description, h2o_iovec_t text,
                          s3_policy_error_t *err, gw_iam_managed_t *out)
{
    static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    s3_policy_options_t opt = {.kind = S3_POLICY_IDENTITY, .max_size = GW_IAM_POLICY_MAX};
    s3_policy_t *parsed = NULL;
    char *doc = NULL;
    int ret;

    err->message[0] = '\0';
    if (path == NULL)
        path = "/";
    if (description == NULL)
        description = "";
    if (!gw_iam_policy_name_valid(h2o_iovec_init(name, strlen(name))) ||
        !gw_iam_path_valid(h2o_iovec_init(path, strlen(path)), 0) || strlen(description) > GW_IAM_DESCRIPTION_MAX)
        return -EINVAL;
    if ((ret = s3_policy_parse(text, &opt, &parsed, err)) != 0)
        return ret == -S3_ERR_INTERNAL_ERROR ? GW_ENOMEM : -EINVAL;
    s3_policy_free(parsed);
    pthread_mutex_lock(&iam->write_mutex);
    pthread_rwlock_rdlock(&iam->lock);
    int exists = find_managed(&iam->tab, name) != NULL;
    pthread_rwlock_unlock(&iam->lock);
    if (exists) {
        ret = -EEXIST;
        goto done;
    }
    memset(out, 0, sizeof(*out));
    copy_str(out->name, sizeof(out->name), name, strlen(name));
    copy_str(out->key, sizeof(out->key), name, strlen(name));
    memcpy(out->id, "ANPA", 4);
    random_chars(out->id + 4, 17, upper, 32);
    copy_str(out->path, sizeof(out->path), path, strlen(path));
    copy_str(out->description, sizeof(out->description), description, strlen(description));
    out->created_ns = yc_now_ns();
    json_t *js =
        json_pack("{s:i, s:s, s:s, s:I, s:s%, s:s}", "v", 1, "id", out->id, "path", out->path, "created",
                  (json_int_t)out->created_ns, "document", text.base, text.len, "description", out->description);
    if (js != NULL)
        doc = json_dumps(js, JSON_COMPACT);
    json_decref(js);
    ret = doc != NULL ? entity_put(iam, KIND_MANAGED, name, NULL, h2o_iovec_init(doc, strlen(doc))) : GW_ENOMEM;
done:
    free(doc);
    pthread_mutex_unlock(&iam->write_mutex);
    return ret;
}

int gw_iam_managed_get(gw_iam_t *iam, const char *name, h2o_mem_pool_t *pool, gw_iam_managed_t *out, h2o_iovec_t *text)
{
    pthread_rwlock_rdlock(&iam->lock);
    const managed_t *m = find_managed(&iam->tab, name);
    if (m != NULL) {
        *out = m->pub;
        if (text != NULL)
            *text = h2o_strdup(pool, m->text, m->len);
    }
    pthread_rwlock_unlock(&iam->lock);
    return m != NULL ? 0 : -ENOENT;
}

int gw_iam_managed_delete(gw_iam_t *iam, const char *name)
{
    gw_iam_managed_t m;
    int ret;
    pthread_mutex_lock(&iam->write_mutex);
    if ((ret = gw_iam_managed_get(iam, name, NULL, &m, NULL)) == 0)
        ret = m.aws ? -EPERM : m.attachments > 0 ? -ENOTEMPTY : entity_delete(iam, KIND_MANAGED, m.name, NULL);
    pthread_mutex_unlock(&iam->write_mutex);
    return ret;
}

void gw_iam_managed_list(gw_iam_t *iam, void (*fn)(void *arg, const gw_iam_managed_t *p), void *arg)
{
    pthread_rwlock_rdlock(&iam->lock);
    for (size_t i = 0; i < iam->tab.nmanaged; i++)
        fn(arg, &iam->tab.managed[i].pub);
    pthread_rwlock_unlock(&iam->lock);
}

static int is_attached(const table_t *t, char akind, const char *owner, const char *policy)
{
    for (size_t i = 0; i < t->nattachments; i++)
        if (t->attachments[i].kind == akind && strcmp(t->attachments[i].owner, owner) == 0 &&
            strcmp(t->attachments[i].policy, policy) == 0)
            return 1;
    return 0;
}

int gw_iam_attach(gw_iam_t *iam, gw_iam_policy_kind_t kind, const char *owner, const char *policy, int attach)
{
    char akind = kind == GW_IAM_USER_POLICY ? KIND_USER_ATTACH : KIND_GROUP_ATTACH;
    gw_iam_entity_t e;
    gw_iam_managed_t m;
    int ret;

    pthread_mutex_lock(&iam->write_mutex);
    /* keyed by the names' kept spellings, whatever the case asked with */
    if ((ret = owner_get(iam, kind, owner, &e, &owner)) != 0 ||
        (ret = gw_iam_managed_get(iam, policy, NULL, &m, NULL)) != 0)
        goto done;
    pthread_rwlock_rdlock(&iam->lock);
    int attached = is_attached(&iam->tab, akind, e.name, m.key);
    pthread_rwlock_unlock(&iam->lock);
    if (attach)
        ret = attached ? 0 : entity_put(iam, akind, e.name, m.key, h2o_iovec_init("", 0));
    else
        ret = attached ? entity_delete(iam, akind, e.name, m.key) : -ENOENT;
done:
    pthread_mutex_unlock(&iam->write_mutex);
    return ret;
}

void gw_iam_attached(gw_iam_t *iam, gw_iam_policy_kind_t kind, const char *owner,
                     void (*fn)(void *arg, const gw_iam_managed_t *p), void *arg)
{
    char akind = kind == GW_IAM_USER_POLICY ? KIND_USER_ATTACH : KIND_GROUP_ATTACH;
    pthread_rwlock_rdlock(&iam->lock);
    for (size_t i = 0; i < iam->tab.nmanaged; i++)
        if (is_attached(&iam->tab, akind, owner, iam->tab.managed[i].pub.key))
            fn(arg, &iam->tab.managed[i].pub);
    pthread_rwlock_unlock(&iam->lock);
}

/* ---------------------------------------------------------------- authorization */

static int name_is(const char *s, h2o_iovec_t v)
{
    return strlen(s) == v.len && memcmp(s, v.base, v.len) == 0;
}

void gw_iam_with_policies(gw_iam_t *iam, h2o_iovec_t user,
                          void (*fn)(void *arg, const s3_policy_t *const *policies, size_t n), void *arg)
{
    const s3_policy_t *list[MAX_POLICIES_ONE];
    size_t n = 0;

    pthread_rwlock_rdlock(&iam->lock);
    const table_t *t = &iam->tab;
    for (size_t i = 0; i < t->npolicies && n < MAX_POLICIES_ONE; i++)
        if (t->policies[i].kind == GW_IAM_USER_POLICY && t->policies[i].parsed != NULL &&
            name_is(t->policies[i].owner, user))
            list[n++] = t->policies[i].parsed;
    for (size_t i = 0; i < t->nattachments && n < MAX_POLICIES_ONE; i++) {
        const managed_t *mp;
        if (t->attachments[i].kind == KIND_USER_ATTACH && name_is(t->attachments[i].owner, user) &&
            (mp = find_managed(t, t->attachments[i].policy)) != NULL && mp->parsed != NULL)
            list[n++] = mp->parsed;
    }
    for (size_t m = 0; m < t->nmembers; m++) {
        if (!name_is(t->members[m].user, user) || find_entity(t->groups, t->ngroups, t->members[m].group) == NULL)
            continue;
        for (size_t i = 0; i < t->npolicies && n < MAX_POLICIES_ONE; i++)
            if (t->policies[i].kind == GW_IAM_GROUP_POLICY && t->policies[i].parsed != NULL &&
                strcmp(t->policies[i].owner, t->members[m].group) == 0)
                list[n++] = t->policies[i].parsed;
        for (size_t i = 0; i < t->nattachments && n < MAX_POLICIES_ONE; i++) {
            const managed_t *mp;
            if (t->attachments[i].kind == KIND_GROUP_ATTACH &&
                strcmp(t->attachments[i].owner, t->members[m].group) == 0 &&
                (mp = find_managed(t, t->attachments[i].policy)) != NULL && mp->parsed != NULL)
                list[n++] = mp->parsed;
        }
    }
    fn(arg, list, n);
    pthread_rwlock_unlock(&iam->lock);
}
