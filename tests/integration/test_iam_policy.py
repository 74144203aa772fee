"""IAM calls by users, as their identity policies allow: boto3's iam client and `aws iam` signed
with a user's own keys against the gateway's IAM Query API.

A user may do nothing in IAM until a policy of its own (or of a group it is in) allows the action
iam:<Action> on the resource IAM names for it: the user's ARN arn:aws:iam::<account>:user/<path>
<name> (its own when a key call names no user), the group's ARN, or for ListUsers the users'
path. An explicit Deny wins. Each test tries the call that must pass and the nearest one that must
not, and checks with the root keys that the refused call changed nothing.
"""
import json
import os
import subprocess
import uuid

import boto3
import botocore
import botocore.config
import botocore.exceptions
import pytest

from conftest import ADMIN_BIN, REGION, Gateway, random_keys

ACCOUNT = "000000000000"


def make_iam(endpoint, access_key, secret_key):
    return boto3.session.Session().client(
        "iam", endpoint_url=endpoint, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
        region_name=REGION, config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}))


def uname(prefix="u"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def arn(kind, name, path="/"):
    return "arn:aws:iam::%s:%s%s%s" % (ACCOUNT, kind, path, name)


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def denied(fn, **kw):
    """The call is refused with IAM's AccessDenied (403, IAM's error document); its message."""
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(**kw)
    r = ei.value.response
    assert (r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDenied", 403), r
    assert r["Error"]["Type"] == "Sender" and r["ResponseMetadata"]["RequestId"], r
    return r["Error"]["Message"]


@pytest.fixture(scope="module")
def root(gateway):
    return make_iam(gateway.endpoint, gateway.access_key, gateway.secret_key)


class User:
    def __init__(self, name, key, secret, iam):
        self.name, self.key, self.secret, self.iam = name, key, secret, iam


@pytest.fixture
def users(gateway, root):
    """Makes users with one access key each and their own iam client; removes every user, group
    and key made here (by the root keys) afterwards."""
    made_users, made_groups = [], []

    def make(prefix="u", policies=()):
        name = uname(prefix)
        root.create_user(UserName=name)
        made_users.append(name)
        k = root.create_access_key(UserName=name)["AccessKey"]
        for i, doc in enumerate(policies):
            root.put_user_policy(UserName=name, PolicyName="p%d" % i, PolicyDocument=doc)
        return User(name, k["AccessKeyId"], k["SecretAccessKey"],
                    make_iam(gateway.endpoint, k["AccessKeyId"], k["SecretAccessKey"]))

    make.users, make.groups = made_users, made_groups
    yield make
    for g in made_groups:
        try:
            for u in root.get_group(GroupName=g)["Users"]:
                root.remove_user_from_group(GroupName=g, UserName=u["UserName"])
            for p in root.list_group_policies(GroupName=g)["PolicyNames"]:
                root.delete_group_policy(GroupName=g, PolicyName=p)
            root.delete_group(GroupName=g)
        except botocore.exceptions.ClientError:
            pass
    for u in made_users:
        try:
            for g in root.list_groups_for_user(UserName=u)["Groups"]:
                root.remove_user_from_group(GroupName=g["GroupName"], UserName=u)
            for p in root.list_user_policies(UserName=u)["PolicyNames"]:
                root.delete_user_policy(UserName=u, PolicyName=p)
            for k in root.list_access_keys(UserName=u)["AccessKeyMetadata"]:
                root.delete_access_key(UserName=u, AccessKeyId=k["AccessKeyId"])
            root.delete_user(UserName=u)
        except botocore.exceptions.ClientError:
            pass


def user_names(root):
    return {u["UserName"] for u in root.list_users(MaxItems=1000)["Users"]}


def test_user_without_iam_policies_is_denied_every_call_and_changes_nothing(root, users):
    # s3:* reaches no IAM action: this user may do anything in S3 and nothing in IAM
    u = users("none", [policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})])
    other = users("other")
    group, victim = uname("g"), uname("v")
    before = user_names(root)
    msg = denied(u.iam.create_user, UserName=victim)
    assert msg == ("User: %s is not authorized to perform: iam:CreateUser on resource: %s because no "
                   "identity-based policy allows the iam:CreateUser action" % (arn("user", u.name), arn("user", victim)))
    denied(u.iam.list_users)
    denied(u.iam.get_user)
    denied(u.iam.delete_user, UserName=other.name)
    denied(u.iam.create_access_key)
    denied(u.iam.create_access_key, UserName=other.name)
    denied(u.iam.list_access_keys)
    denied(u.iam.delete_access_key, AccessKeyId=u.key)
    denied(u.iam.update_access_key, UserName=other.name, AccessKeyId=other.key, Status="Inactive")
    escalate = policy({"Effect": "Allow", "Action": "*", "Resource": "*"})
    msg = denied(u.iam.put_user_policy, UserName=u.name, PolicyName="mine", PolicyDocument=escalate)
    assert "iam:PutUserPolicy on resource: %s " % arn("user", u.name) in msg
    denied(u.iam.delete_user_policy, UserName=u.name, PolicyName="p0")
    denied(u.iam.create_group, GroupName=group)
    msg = denied(u.iam.list_groups)
    assert "on resource: arn:aws:iam::%s:group/ " % ACCOUNT in msg
    # nothing changed
    assert user_names(root) == before
    assert [k["AccessKeyId"] for k in root.list_access_keys(UserName=u.name)["AccessKeyMetadata"]] == [u.key]
    assert [k["Status"] for k in root.list_access_keys(UserName=other.name)["AccessKeyMetadata"]] == ["Active"]
    assert root.list_user_policies(UserName=u.name)["PolicyNames"] == ["p0"]
    assert group not in {g["GroupName"] for g in root.list_groups()["Groups"]}


def test_create_user_allowed_on_a_name_pattern_only(root, users):
    team = arn("user", "team-*")
    u = users("creator", [policy({"Effect": "Allow", "Action": ["iam:CreateUser", "iam:UpdateUser",
                                                                 "iam:DeleteUser"], "Resource": team})])
    made, other, moved = "team-" + uuid.uuid4().hex[:8], "other-" + uuid.uuid4().hex[:8], None
    users.users.extend([made, other])
    created = u.iam.create_user(UserName=made)["User"]
    assert created["Arn"] == arn("user", made)
    msg = denied(u.iam.create_user, UserName=other)
    assert "iam:CreateUser on resource: %s " % arn("user", other) in msg
    # the path is part of the ARN: user/ops/team-z is not user/team-*
    denied(u.iam.create_user, UserName="team-" + uuid.uuid4().hex[:8], Path="/ops/")
    names = user_names(root)
    assert made in names and other not in names
    # a rename needs the policy to allow the user it becomes as well
    denied(u.iam.update_user, UserName=made, NewUserName=other)
    moved = "team-" + uuid.uuid4().hex[:8]
    users.users.append(moved)
    u.iam.update_user(UserName=made, NewUserName=moved)
    assert root.get_user(UserName=moved)["User"]["UserId"] == created["UserId"]
    # a user outside the pattern cannot be deleted, one inside can
    denied(u.iam.delete_user, UserName=u.name)
    u.iam.delete_user(UserName=moved)
    assert moved not in user_names(root) and u.name in user_names(root)


def test_explicit_deny_of_a_group_policy_wins_over_iam_star(root, users):
    u = users("admin", [policy({"Effect": "Allow", "Action": "iam:*", "Resource": "*"})])
    group = uname("nodelete")
    users.groups.append(group)
    root.create_group(GroupName=group)
    victim = uname("victim")
    users.users.append(victim)
    u.iam.create_user(UserName=victim)
    root.put_group_policy(GroupName=group, PolicyName="deny", PolicyDocument=policy(
        {"Effect": "Deny", "Action": "iam:DeleteUser", "Resource": "*"}))
    # before joining the group the Allow holds; the user that may do iam:* may add itself
    u.iam.add_user_to_group(GroupName=group, UserName=u.name)
    msg = denied(u.iam.delete_user, UserName=victim)
    assert msg.endswith("with an explicit deny in an identity-based policy")
    assert u.iam.get_user(UserName=victim)["User"]["UserName"] == victim
    assert victim in user_names(root)
    # what the Deny does not name stays allowed
    u.iam.put_user_policy(UserName=victim, PolicyName="x", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
    u.iam.delete_user_policy(UserName=victim, PolicyName="x")
    # leaving the group lifts the Deny
    root.remove_user_from_group(GroupName=group, UserName=u.name)
    u.iam.delete_user(UserName=victim)
    assert victim not in user_names(root)


def test_list_users_allowed_by_policy_lists_within_its_path(root, users):
    lister = users("lister", [policy({"Effect": "Allow", "Action": "iam:ListUsers", "Resource": arn("user", "*")})])
    names = {x["UserName"] for x in lister.iam.list_users(MaxItems=1000)["Users"]}
    assert lister.name in names and names == user_names(root)
    denied(lister.iam.list_groups)
    denied(lister.iam.get_user, UserName=lister.name)
    ops_name = uname("ops")
    users.users.append(ops_name)
    root.create_user(UserName=ops_name, Path="/ops/")
    scoped = users("scoped", [policy({"Effect": "Allow", "Action": "iam:ListUsers",
                                      "Resource": arn("user", "*", "/ops/")})])
    listed = [x["UserName"] for x in scoped.iam.list_users(PathPrefix="/ops/")["Users"]]
    assert ops_name in listed and scoped.name not in listed
    msg = denied(scoped.iam.list_users)
    assert "on resource: arn:aws:iam::%s:user/ " % ACCOUNT in msg


def test_group_calls_are_checked_on_the_groups_arn_with_its_path(root, users):
    ops, top = uname("ops"), uname("top")
    users.groups.extend([ops, top])
    root.create_group(GroupName=ops, Path="/ops/")
    root.create_group(GroupName=top)
    u = users("grp", [policy({"Effect": "Allow", "Action": ["iam:GetGroup", "iam:AddUserToGroup", "iam:UpdateGroup"],
                              "Resource": arn("group", "*", "/ops/")})])
    assert u.iam.get_group(GroupName=ops)["Group"]["Arn"] == arn("group", ops, "/ops/")
    msg = denied(u.iam.get_group, GroupName=top)
    assert "iam:GetGroup on resource: %s " % arn("group", top) in msg
    u.iam.add_user_to_group(GroupName=ops, UserName=u.name)
    denied(u.iam.add_user_to_group, GroupName=top, UserName=u.name)
    # a move out of /ops/ needs the place it goes to allowed as well
    msg = denied(u.iam.update_group, GroupName=ops, NewPath="/elsewhere/")
    assert "on resource: %s " % arn("group", ops, "/elsewhere/") in msg
    u.iam.update_group(GroupName=ops, NewPath="/ops/deeper/")
    assert root.get_group(GroupName=ops)["Group"]["Path"] == "/ops/deeper/"
    assert [g["GroupName"] for g in root.list_groups_for_user(UserName=u.name)["Groups"]] == [ops]


def test_user_rotates_its_own_key_with_the_username_variable_but_not_anothers(gateway, root, users):
    own = policy({"Effect": "Allow", "Action": ["iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys",
                                                "iam:UpdateAccessKey"],
                  "Resource": "arn:aws:iam::%s:user/${aws:username}" % ACCOUNT})
    u = users("rotor", [own])
    other = users("bystander")
    new = u.iam.create_access_key()["AccessKey"]
    assert new["UserName"] == u.name and new["Status"] == "Active"
    fresh = make_iam(gateway.endpoint, new["AccessKeyId"], new["SecretAccessKey"])
    assert {k["AccessKeyId"] for k in fresh.list_access_keys()["AccessKeyMetadata"]} == {u.key, new["AccessKeyId"]}
    fresh.update_access_key(AccessKeyId=u.key, Status="Inactive")
    fresh.delete_access_key(AccessKeyId=u.key)
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        u.iam.list_access_keys()
    assert ei.value.response["Error"]["Code"] == "InvalidClientTokenId"
    # another user's keys are out of reach, by name or by key id
    msg = denied(fresh.create_access_key, UserName=other.name)
    assert "iam:CreateAccessKey on resource: %s " % arn("user", other.name) in msg
    denied(fresh.list_access_keys, UserName=other.name)
    denied(fresh.update_access_key, UserName=other.name, AccessKeyId=other.key, Status="Inactive")
    denied(fresh.delete_access_key, UserName=other.name, AccessKeyId=other.key)
    # naming no user is naming oneself: another's key id is not found among one's own
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fresh.delete_access_key(AccessKeyId=other.key)
    assert ei.value.response["Error"]["Code"] == "NoSuchEntity"
    keys = root.list_access_keys(UserName=other.name)["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in keys] == [(other.key, "Active")]
    # the bystander's key still signs: its IAM call is refused, not unknown
    denied(other.iam.list_users)


def test_reserved_administrator_users_stay_out_of_reach_of_any_policy(gateway, root, users):
    u = users("wide", [policy({"Effect": "Allow", "Action": "*", "Resource": "*"})])
    made = uname("ok")
    users.users.append(made)
    u.iam.create_user(UserName=made)
    msg = denied(u.iam.create_user, UserName="yc-audit-admin")
    assert "reserved" in msg
    denied(u.iam.create_access_key, UserName="YC-SYSTEM-ADMIN")
    assert "yc-audit-admin" not in user_names(root)
    # the root keys are reserved as well
    denied(u.iam.update_access_key, AccessKeyId=gateway.access_key, Status="Inactive")


def test_aws_cli_iam_with_a_users_keys(gateway, root, users, tmp_path):
    u = users("cli", [policy({"Effect": "Allow", "Action": "iam:CreateUser", "Resource": arn("user", "cli-ok-*")})])
    ok, refused = "cli-ok-" + uuid.uuid4().hex[:8], "cli-no-" + uuid.uuid4().hex[:8]
    users.users.extend([ok, refused])
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "AWS_ACCESS_KEY_ID": u.key, "AWS_SECRET_ACCESS_KEY": u.secret, "AWS_DEFAULT_REGION": REGION}

    def aws(*args):
        return subprocess.run(["aws", "--endpoint-url", gateway.endpoint, "--output", "json", "iam"] + list(args),
                              env=env, capture_output=True, text=True, timeout=120)

    out = aws("create-user", "--user-name", ok)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["User"]["Arn"] == arn("user", ok)
    out = aws("create-user", "--user-name", refused)
    assert out.returncode != 0 and "AccessDenied" in out.stderr, out.stderr
    names = user_names(root)
    assert ok in names and refused not in names


# ---------------------------------------------------------------- once the roles are split

@pytest.fixture(scope="module")
def split(tmp_path_factory):
    """A gateway of its own whose root keys were split into the three administrator roles."""
    if not os.access(ADMIN_BIN, os.X_OK):
        pytest.skip("yc-admin is not built")
    ak, sk = random_keys()
    data = tmp_path_factory.mktemp("iampol") / "data"
    data.mkdir()
    gw = Gateway(str(data), ak, sk).start()
    res = subprocess.run([ADMIN_BIN, "--endpoint", gw.endpoint, "--access-key", ak, "--secret-key", sk,
                          "roles", "init"], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    roles = {r["role"].split()[0]: r for r in json.loads(res.stdout)["roles"]}
    yield gw, {k: make_iam(gw.endpoint, r["accessKey"], r["secretKey"]) for k, r in roles.items()}
    gw.stop()


def test_after_the_split_a_policy_lets_a_user_look_after_its_own_keys_only(split):
    gw, admin = split
    name, other = uname("tenant"), uname("other")
    for n in (name, other):
        admin["system"].create_user(UserName=n)
    key = admin["system"].create_access_key(UserName=name)["AccessKey"]
    admin["security"].put_user_policy(UserName=name, PolicyName="all", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "*", "Resource": "*"}))
    u = make_iam(gw.endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    # its own keys and what it is: allowed by its policy, as before the split
    new = u.create_access_key()["AccessKey"]
    assert {k["AccessKeyId"] for k in u.list_access_keys()["AccessKeyMetadata"]} == {key["AccessKeyId"],
                                                                                   new["AccessKeyId"]}
    u.delete_access_key(AccessKeyId=new["AccessKeyId"])
    assert u.get_user()["User"]["UserName"] == name
    assert u.list_user_policies(UserName=name)["PolicyNames"] == ["all"]
    # an administrator's work is refused whatever the policy says, naming the role that does it
    assert "the system administrator" in denied(u.create_user, UserName=uname("x"))
    assert "the system administrator" in denied(u.create_access_key, UserName=other)
    assert "the security administrator" in denied(
        u.put_user_policy, UserName=name, PolicyName="more", PolicyDocument=policy(
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
    assert "the security administrator" in denied(u.delete_user_policy, UserName=name, PolicyName="all")
    denied(u.list_users)
    assert admin["system"].list_access_keys(UserName=other)["AccessKeyMetadata"] == []
    assert admin["security"].list_user_policies(UserName=name)["PolicyNames"] == ["all"]
