/* gw_iam.c — the identity table: root from the configuration plus the replicated 'I' records. */
#include "gateway/gw_iam.h"
#include "gateway/gw_health.h"
#include "common/log.h"
#include "gateway/gw_object.h"
#include "gateway/gw_replica.h"
#include "common/clock.h"
#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REFRESH_SECONDS 5

struct gw_iam {
    gw_cluster_t *cluster;
    gw_identity_t root;
    pthread_rwlock_t lock;
    gw_identity_t *ids; /* non-root identities, replaced whole on refresh */
    size_t nids;
    pthread_t refresher;
    pthread_mutex_t stop_mutex;
    pthread_cond_t stop_cond;
    int stopping;
};

static void copy_str(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

typedef struct {
    gw_identity_t *ids;
    size_t n, cap;
} id_list_t;

static int add_record(void *arg, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    id_list_t *l = arg;
    meta_user_t u;
    if (meta_user_decode(val, vlen, &u) != 0)
        return 0; /* a corrupt record is skipped: the other drives' copies decide */
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        gw_identity_t *ids = realloc(l->ids, cap * sizeof(*ids));
        if (ids == NULL)
            return -1;
        l->ids = ids;
        l->cap = cap;
    }
    gw_identity_t *id = &l->ids[l->n++];
    memset(id, 0, sizeof(*id));
    copy_str(id->access_key, sizeof(id->access_key), u.access_key.base, u.access_key.len);
    copy_str(id->secret_key, sizeof(id->secret_key), u.secret_key.base, u.secret_key.len);
    copy_str(id->user, sizeof(id->user), u.user.base, u.user.len);
    id->disabled = (u.flags & META_USER_DISABLED) != 0;
    return 0;
}

static int reload(gw_iam_t *iam)
{
    meta_key_t prefix;
    id_list_t l = {0};
    int ret;

    meta_key_user((meta_bytes_t){"", 0}, &prefix);
    if ((ret = gw_replica_scan(iam->cluster, &prefix, add_record, &l)) != 0) {
        free(l.ids);
        return ret;
    }
    pthread_rwlock_wrlock(&iam->lock);
    gw_identity_t *old = iam->ids;
    size_t nold = iam->nids;
    iam->ids = l.ids;
    iam->nids = l.n;
    pthread_rwlock_unlock(&iam->lock);
    if (old != NULL)
        OPENSSL_cleanse(old, nold * sizeof(*old)); /* secrets do not linger in freed memory */
    free(old);
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

static void *refresher_main(void *arg)
{
    gw_iam_t *iam = arg;
    pthread_mutex_lock(&iam->stop_mutex);
    while (!iam->stopping) {
        struct timespec ts;
        yc_deadline(CLOCK_REALTIME, (int64_t)REFRESH_SECONDS * 1000000000, &ts);
        pthread_cond_timedwait(&iam->stop_cond, &iam->stop_mutex, &ts);
        if (iam->stopping)
            break;
        pthread_mutex_unlock(&iam->stop_mutex);
        int ret = reload(iam);
        if (ret != 0)
            log_load_failed("iam_reload_failed", iam, ret);
        pthread_mutex_lock(&iam->stop_mutex);
    }
    pthread_mutex_unlock(&iam->stop_mutex);
    return NULL;
}

int gw_iam_open(gw_cluster_t *c, const char *root_access_key, const char *root_secret, gw_iam_t **out)
{
    gw_iam_t *iam = calloc(1, sizeof(*iam));
    if (iam == NULL)
        return -ENOMEM;
    iam->cluster = c;
    copy_str(iam->root.access_key, sizeof(iam->root.access_key), root_access_key, strlen(root_access_key));
    copy_str(iam->root.secret_key, sizeof(iam->root.secret_key), root_secret, strlen(root_secret));
    copy_str(iam->root.user, sizeof(iam->root.user), "root", 4);
    iam->root.is_root = 1;
    pthread_rwlock_init(&iam->lock, NULL);
    pthread_mutex_init(&iam->stop_mutex, NULL);
    pthread_cond_init(&iam->stop_cond, NULL);
    int ret = reload(iam);
    if (ret != 0)
        log_load_failed("iam_load_failed", iam, ret);
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
    OPENSSL_cleanse(iam->ids, iam->nids * sizeof(*iam->ids));
    free(iam->ids);
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
    for (size_t i = 0; i < iam->nids; i++) {
        if (key_is(iam->ids[i].access_key, access_key)) {
            *out = iam->ids[i];
            ret = 0;
            break;
        }
    }
    pthread_rwlock_unlock(&iam->lock);
    return ret;
}

int gw_iam_put(gw_iam_t *iam, const char *user, const char *access_key, const char *secret_key)
{
    meta_user_t u = {.access_key = {access_key, strlen(access_key)},
                     .secret_key = {secret_key, strlen(secret_key)},
                     .user = {user, strlen(user)},
                     .created_ns = yc_now_ns()};
    meta_buf_t buf = {0};
    meta_key_t key;
    int ret;

    if (strlen(access_key) > META_ACCESS_KEY_MAX || strlen(secret_key) > GW_IAM_SECRET_MAX ||
        strlen(user) > GW_IAM_NAME_MAX || strcmp(access_key, iam->root.access_key) == 0)
        return -EINVAL;
    if ((ret = meta_key_user(u.access_key, &key)) != 0 || (ret = meta_user_encode(&u, &buf)) != 0)
        goto done;
    if ((ret = gw_replica_put(iam->cluster, &key, buf.base, buf.len)) == 0)
        ret = reload(iam);
done:
    if (buf.base != NULL)
        OPENSSL_cleanse(buf.base, buf.len);
    meta_buf_dispose(&buf);
    return ret;
}

int gw_iam_remove(gw_iam_t *iam, const char *access_key)
{
    meta_key_t key;
    gw_identity_t id;
    int ret;
    if (gw_iam_lookup(iam, (h2o_iovec_t){(char *)access_key, strlen(access_key)}, &id) != 0 || id.is_root)
        return -ENOENT;
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
    for (size_t i = 0; i < iam->nids && n < 64; i++)
        if (strcmp(iam->ids[i].user, user) == 0)
            strcpy(keys[n++], iam->ids[i].access_key);
    pthread_rwlock_unlock(&iam->lock);
    for (size_t i = 0; i < n; i++)
        if (gw_iam_remove(iam, keys[i]) == 0)
            removed++;
    return removed;
}

void gw_iam_foreach(gw_iam_t *iam, void (*fn)(void *arg, const gw_identity_t *id), void *arg)
{
    pthread_rwlock_rdlock(&iam->lock);
    for (size_t i = 0; i < iam->nids; i++)
        fn(arg, &iam->ids[i]);
    pthread_rwlock_unlock(&iam->lock);
}
