/* test_gw_iam.c — the identity table over three real drives in this process: a user known by its
 * access keys alone (as older yc-admin versions made them) gets its record at the next start with
 * the id it was shown; ids are kept through a restart and not reused by a new user of the same
 * name; a rename moves keys, inline policies, memberships and attached managed policies; managed
 * policies count among a user's identity policies and cannot go while attached. */
#include "gateway/gw_iam.h"
#include "gateway/gw_replica.h"
#include "tests/unit/unit.h"
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>

#define NDRIVES 3
#define IOV(s)  h2o_iovec_init((s), strlen(s))
#define ALLOW                                                                                                          \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:*\",\"Resource\":\"*\"}]}"

typedef struct {
    char root[64];
    char paths[NDRIVES][96];
    gw_cluster_t *c;
} cluster_t;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int cluster_open(cluster_t *t, int fresh)
{
    const char *specs[NDRIVES];
    char root[64] = "/tmp/yc-iam-test-XXXXXX";

    if (fresh) {
        if (mkdtemp(root) == NULL)
            return -1;
        memcpy(t->root, root, sizeof(root));
    }
    for (int i = 0; i < NDRIVES; i++) {
        snprintf(t->paths[i], sizeof(t->paths[i]), "%s/drive%d", t->root, i + 1);
        specs[i] = t->paths[i];
    }
    gw_cluster_config_t cfg = {.drive_specs = specs,
                               .ndrives = NDRIVES,
                               .k = 2,
                               .m = 1,
                               .stripe_size = 1 << 20,
                               .inline_max = 128 * 1024,
                               .lane_threads = 2,
                               .drive_reserve = 0};
    return gw_cluster_open(&cfg, &t->c);
}

static void cluster_close(cluster_t *t, int remove_all)
{
    gw_cluster_close(t->c);
    if (remove_all)
        nftw(t->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes an access key record the way yc-admin did before users had records: no 'u' record. */
static int put_bare_key(gw_cluster_t *c, const char *user, const char *ak, const char *sk)
{
    meta_user_t u = {.access_key = {ak, strlen(ak)}, .secret_key = {sk, strlen(sk)}, .user = {user, strlen(user)}};
    meta_buf_t buf = {0};
    meta_key_t key;
    int ret;
    if ((ret = meta_key_user(u.access_key, &key)) == 0 && (ret = meta_user_encode(&u, &buf)) == 0)
        ret = gw_replica_put(c, &key, buf.base, buf.len);
    meta_buf_dispose(&buf);
    return ret;
}

static void count_policies(void *arg, const s3_policy_t *const *policies, size_t n)
{
    *(size_t *)arg = n;
}

static size_t policies_of(gw_iam_t *iam, const char *user)
{
    size_t n = 99;
    gw_iam_with_policies(iam, IOV((char *)user), count_policies, &n);
    return n;
}

static void count_one(void *arg, const gw_identity_t *id)
{
    (*(size_t *)arg)++;
}

TEST(test_iam_user_of_bare_keys_is_recorded_with_its_id)
{
    cluster_t t;
    gw_iam_t *iam;
    gw_iam_entity_t before, after;

    CHECK_EQ_INT(cluster_open(&t, 1), 0);
    CHECK_EQ_INT(put_bare_key(t.c, "old-user", "AKOLDUSER0001", "old-user-secret"), 0);
    CHECK_EQ_INT(gw_iam_open(t.c, "ROOTKEY", "root-secret", 3600, &iam), 0);
    CHECK_EQ_INT(gw_iam_user_get(iam, "old-user", &before), 0);
    CHECK(strncmp(before.id, "AIDA", 4) == 0 && strlen(before.id) == GW_IAM_ID_LEN);
    CHECK_EQ_INT(before.recorded, 1); /* written when the table was opened */
    gw_iam_close(iam);
    cluster_close(&t, 0);

    /* the record stays after the key goes: the user and its id are kept */
    CHECK_EQ_INT(cluster_open(&t, 0), 0);
    CHECK_EQ_INT(gw_iam_open(t.c, "ROOTKEY", "root-secret", 3600, &iam), 0);
    CHECK_EQ_INT(gw_iam_remove(iam, "AKOLDUSER0001"), 0);
    CHECK_EQ_INT(gw_iam_user_get(iam, "OLD-USER", &after), 0);
    CHECK(strcmp(after.id, before.id) == 0);
    /* deleted and made again: another id */
    CHECK_EQ_INT(gw_iam_user_delete(iam, "old-user"), 0);
    CHECK_EQ_INT(gw_iam_user_create(iam, "old-user", &after), 0);
    CHECK(strcmp(after.id, before.id) != 0);
    gw_iam_close(iam);
    cluster_close(&t, 1);
}

TEST(test_iam_put_makes_the_user_and_keeps_its_spelling)
{
    cluster_t t;
    gw_iam_t *iam;
    gw_iam_entity_t e;
    gw_identity_t id;

    CHECK_EQ_INT(cluster_open(&t, 1), 0);
    CHECK_EQ_INT(gw_iam_open(t.c, "ROOTKEY", "root-secret", 3600, &iam), 0);
    CHECK_EQ_INT(gw_iam_put(iam, "Alice", "AKALICE0001", "alice-secret"), 0);
    CHECK_EQ_INT(gw_iam_user_get(iam, "alice", &e), 0);
    CHECK(e.recorded && strcmp(e.name, "Alice") == 0);
    /* another key given for "alice" belongs to the same user, under its kept spelling */
    CHECK_EQ_INT(gw_iam_put(iam, "alice", "AKALICE0002", "alice-secret-2"), 0);
    CHECK_EQ_INT(gw_iam_lookup(iam, IOV("AKALICE0002"), &id), 0);
    CHECK(strcmp(id.user, "Alice") == 0);
    CHECK_EQ_INT(gw_iam_put(iam, "bob", "ROOTKEY", "x-secret-x"), -EINVAL);
    CHECK_EQ_INT(gw_iam_user_get(iam, "bob", &e), -ENOENT); /* refused whole */
    gw_iam_close(iam);
    cluster_close(&t, 1);
}

TEST(test_iam_rename_moves_what_hangs_on_the_name)
{
    cluster_t t;
    gw_iam_t *iam;
    gw_iam_entity_t u, g;
    gw_identity_t key, id;
    gw_iam_managed_t m;
    s3_policy_error_t err;
    size_t n = 0;

    CHECK_EQ_INT(cluster_open(&t, 1), 0);
    CHECK_EQ_INT(gw_iam_open(t.c, "ROOTKEY", "root-secret", 3600, &iam), 0);
    CHECK_EQ_INT(gw_iam_user_create_at(iam, "carol", "/team/", &u), 0);
    CHECK_EQ_INT(gw_iam_key_create(iam, "carol", &key), 0);
    CHECK_EQ_INT(gw_iam_policy_put(iam, GW_IAM_USER_POLICY, "carol", "inline", IOV(ALLOW), &err), 0);
    CHECK_EQ_INT(gw_iam_group_create(iam, "staff", &g), 0);
    CHECK_EQ_INT(gw_iam_member_add(iam, "staff", "carol"), 0);
    CHECK_EQ_INT(gw_iam_policy_put(iam, GW_IAM_GROUP_POLICY, "staff", "group-inline", IOV(ALLOW), &err), 0);
    CHECK_EQ_INT(gw_iam_managed_create(iam, "shared", NULL, "d", IOV(ALLOW), &err, &m), 0);
    CHECK(strncmp(m.id, "ANPA", 4) == 0);
    CHECK_EQ_INT(gw_iam_attach(iam, GW_IAM_USER_POLICY, "carol", "SHARED", 1), 0);
    CHECK_EQ_INT(gw_iam_attach(iam, GW_IAM_GROUP_POLICY, "staff", "shared", 1), 0);
    CHECK_EQ_INT((int)policies_of(iam, "carol"), 4); /* inline, attached, the group's two */
    CHECK_EQ_INT(gw_iam_managed_delete(iam, "shared"), -ENOTEMPTY);
    CHECK_EQ_INT(gw_iam_user_delete(iam, "carol"), -ENOTEMPTY);

    CHECK_EQ_INT(gw_iam_user_update(iam, "carol", "dave", NULL), 0);
    CHECK_EQ_INT(gw_iam_user_get(iam, "carol", &g), -ENOENT);
    CHECK_EQ_INT(gw_iam_user_get(iam, "dave", &g), 0);
    CHECK(strcmp(g.id, u.id) == 0 && strcmp(g.path, "/team/") == 0 && g.created_ns == u.created_ns);
    CHECK_EQ_INT(gw_iam_lookup(iam, IOV(key.access_key), &id), 0);
    CHECK(strcmp(id.user, "dave") == 0);
    CHECK_EQ_INT((int)policies_of(iam, "dave"), 4);
    CHECK_EQ_INT((int)policies_of(iam, "carol"), 0);
    gw_iam_keys(iam, "carol", count_one, &n);
    CHECK_EQ_INT((int)n, 0);

    /* the group too: its members and policies follow */
    CHECK_EQ_INT(gw_iam_group_update(iam, "staff", "crew", NULL), 0);
    CHECK_EQ_INT((int)policies_of(iam, "dave"), 4);
    CHECK_EQ_INT(gw_iam_managed_get(iam, "shared", NULL, &m, NULL), 0);
    CHECK_EQ_INT((int)m.attachments, 2);

    /* a restart reads the same */
    gw_iam_close(iam);
    cluster_close(&t, 0);
    CHECK_EQ_INT(cluster_open(&t, 0), 0);
    CHECK_EQ_INT(gw_iam_open(t.c, "ROOTKEY", "root-secret", 3600, &iam), 0);
    CHECK_EQ_INT((int)policies_of(iam, "dave"), 4);
    CHECK_EQ_INT(gw_iam_attach(iam, GW_IAM_USER_POLICY, "dave", "shared", 0), 0);
    CHECK_EQ_INT(gw_iam_attach(iam, GW_IAM_USER_POLICY, "dave", "shared", 0), -ENOENT);
    CHECK_EQ_INT(gw_iam_attach(iam, GW_IAM_GROUP_POLICY, "crew", "shared", 0), 0);
    CHECK_EQ_INT(gw_iam_managed_delete(iam, "shared"), 0);
    CHECK_EQ_INT((int)policies_of(iam, "dave"), 2);
    gw_iam_close(iam);
    cluster_close(&t, 1);
}

int main(void)
{
    RUN(test_iam_user_of_bare_keys_is_recorded_with_its_id);
    RUN(test_iam_put_makes_the_user_and_keeps_its_spelling);
    RUN(test_iam_rename_moves_what_hangs_on_the_name);
    return unit_done();
}
