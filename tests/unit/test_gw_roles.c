/* test_gw_roles.c — the administrator roles' tables (gateway/gw_roles.h): which role an admin
 * call, an IAM action and a reserved user name belong to. */
#include "gateway/gw_roles.h"
#include "unit.h"

static h2o_iovec_t s(const char *v)
{
    return h2o_iovec_init(v, strlen(v));
}

static unsigned admin(const char *method, const char *path)
{
    return gw_roles_admin_needs(s(method), s(path));
}

TEST(test_roles_admin_cluster_calls_are_system)
{
    CHECK_EQ_INT(admin("GET", "/_admin/v1/status"), GW_ROLE_SYSTEM);
    CHECK_EQ_INT(admin("POST", "/_admin/v1/heal"), GW_ROLE_SYSTEM);
    CHECK_EQ_INT(admin("PUT", "/_admin/v1/users/AK1"), GW_ROLE_SYSTEM);
    CHECK_EQ_INT(admin("DELETE", "/_admin/v1/users/AK1"), GW_ROLE_SYSTEM);
    /* a call nobody placed is the cluster's, never open to the other two */
    CHECK_EQ_INT(admin("POST", "/_admin/v1/decommission"), GW_ROLE_SYSTEM);
}

TEST(test_roles_admin_security_and_audit_prefixes)
{
    CHECK_EQ_INT(admin("GET", "/_admin/v1/lockouts"), GW_ROLE_SECURITY);
    CHECK_EQ_INT(admin("DELETE", "/_admin/v1/lockouts/AK1"), GW_ROLE_SECURITY);
    CHECK_EQ_INT(admin("PUT", "/_admin/v1/kms/keys/k1"), GW_ROLE_SECURITY);
    CHECK_EQ_INT(admin("GET", "/_admin/v1/audit"), GW_ROLE_AUDIT);
    CHECK_EQ_INT(admin("GET", "/_admin/v1/audit/key"), GW_ROLE_AUDIT);
    CHECK_EQ_INT(admin("POST", "/_admin/v1/audit/verify"), GW_ROLE_AUDIT);
    CHECK_EQ_INT(admin("GET", "/_admin/v1/audit-log/2026-12-07"), GW_ROLE_AUDIT);
    CHECK_EQ_INT(admin("GET", "/_admin/v1/access-logs"), GW_ROLE_AUDIT);
    CHECK_EQ_INT(admin("GET", "/_admin/v1/users"), GW_ROLE_SYSTEM | GW_ROLE_SECURITY);
    CHECK_EQ_INT(admin("GET", "/_admin/v1/users/AK1"), GW_ROLE_SYSTEM | GW_ROLE_SECURITY);
    /* a whole prefix is a path segment: /_admin/v1/usersx is not the users' */
    CHECK_EQ_INT(admin("GET", "/_admin/v1/usersx"), GW_ROLE_SYSTEM);
    CHECK_EQ_INT(admin("GET", "/_admin/v1/rolesx"), GW_ROLE_SYSTEM);
}

TEST(test_roles_admin_split_is_root_only)
{
    CHECK_EQ_INT(admin("POST", "/_admin/v1/roles/init"), GW_ROLE_ROOT);
    CHECK_EQ_INT(admin("GET", "/_admin/v1/roles"), GW_ROLE_SYSTEM | GW_ROLE_SECURITY | GW_ROLE_AUDIT);
    CHECK_EQ_INT(admin("DELETE", "/_admin/v1/roles"), GW_ROLE_SYSTEM);
}

TEST(test_roles_iam_actions)
{
    CHECK_EQ_INT(gw_roles_iam_needs(s("CreateUser")), GW_ROLE_SYSTEM);
    CHECK_EQ_INT(gw_roles_iam_needs(s("PutUserPolicy")), GW_ROLE_SECURITY);
    CHECK_EQ_INT(gw_roles_iam_needs(s("PutGroupPolicy")), GW_ROLE_SECURITY);
    CHECK_EQ_INT(gw_roles_iam_needs(s("UpdateAccessKey")), GW_ROLE_SECURITY);
    CHECK_EQ_INT(gw_roles_iam_needs(s("ListUsers")), GW_ROLE_SYSTEM | GW_ROLE_SECURITY);
    CHECK_EQ_INT(gw_roles_iam_needs(s("CreateUse")), 0);
    CHECK_EQ_INT(gw_roles_iam_needs(s("CreateUserX")), 0);
    CHECK_EQ_INT(gw_roles_iam_needs(s("")), 0);
}

TEST(test_roles_every_served_iam_action_is_some_roles)
{
    /* an IAM action the policy language knows (the IAM API's) that no role held would be
     * nobody's once split: UpdateGroup came late and must be the system administrator's */
    for (int a = S3_POLICY_ACTION__IAM_FIRST; a < S3_POLICY_ACTION__COUNT; a++) {
        unsigned roles = gw_roles_iam_needs(s(s3_policy_action_name((s3_policy_action_t)a)));
        if (roles == 0)
            fprintf(stderr, "  iam:%s is no role's\n", s3_policy_action_name((s3_policy_action_t)a));
        CHECK(roles != 0);
    }
    CHECK_EQ_INT(gw_roles_iam_needs(s("UpdateGroup")), GW_ROLE_SYSTEM);
}

TEST(test_roles_reserved_users)
{
    CHECK_EQ_INT(gw_roles_of_user(s("yc-system-admin")), GW_ROLE_SYSTEM);
    CHECK_EQ_INT(gw_roles_of_user(s("yc-security-admin")), GW_ROLE_SECURITY);
    CHECK_EQ_INT(gw_roles_of_user(s("yc-audit-admin")), GW_ROLE_AUDIT);
    CHECK_EQ_INT(gw_roles_of_user(s("yc-audit-admin2")), 0);
    CHECK_EQ_INT(gw_roles_of_user(s("yc-audit")), 0);
    CHECK(gw_roles_reserved_user(s("yc-system-admin")));
    CHECK(!gw_roles_reserved_user(s("alice")));
    CHECK(strcmp(gw_roles_name(GW_ROLE_SECURITY), "the security administrator") == 0);
}

int main(void)
{
    RUN(test_roles_admin_cluster_calls_are_system);
    RUN(test_roles_admin_security_and_audit_prefixes);
    RUN(test_roles_admin_split_is_root_only);
    RUN(test_roles_iam_actions);
    RUN(test_roles_every_served_iam_action_is_some_roles);
    RUN(test_roles_reserved_users);
    return unit_done();
}
