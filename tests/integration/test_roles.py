"""Three-role administration and the key lockout, on a gateway of their own: the split of the
root keys (yc-admin roles init), every role refused every other role's operations on the admin
API, the IAM endpoint and buckets (one table), the administrators' users kept out of reach, and
access keys locked after wrong signatures (by count, for a time, unlocked by the security
administrator, one key not another)."""
import json
import os
import re
import subprocess
import time
import uuid

import boto3
import botocore.config
import botocore.exceptions
import pytest

import yc_raw
from conftest import ADMIN_BIN, REGION, Gateway, make_client, random_keys

LOCK_FAILURES = 3
LOCK_SECONDS = 3

ROLE_NAMES = {"system": "the system administrator", "security": "the security administrator",
              "audit": "the audit administrator"}
ALL = ("system", "security", "audit")


class Creds:
    def __init__(self, access_key, secret_key):
        self.access_key, self.secret_key = access_key, secret_key


_clients = {}  # boto3 clients cost tens of milliseconds each to make: one per service and key


def iam_client(gw, creds):
    k = ("iam", gw.endpoint, creds.access_key, creds.secret_key)
    if k not in _clients:
        _clients[k] = boto3.session.Session().client(
            "iam", endpoint_url=gw.endpoint, aws_access_key_id=creds.access_key,
            aws_secret_access_key=creds.secret_key, region_name=REGION,
            config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}))
    return _clients[k]


def s3_client(gw, creds):
    k = ("s3", gw.endpoint, creds.access_key, creds.secret_key)
    if k not in _clients:
        _clients[k] = make_client(gw.endpoint, creds.access_key, creds.secret_key)
    return _clients[k]


def admin_cli(gw, creds, *args):
    cmd = [ADMIN_BIN, "--endpoint", gw.endpoint, "--access-key", creds.access_key,
           "--secret-key", creds.secret_key] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


class Env:
    """The split gateway: its role keys, a tenant user with a bucket, a group."""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    if not os.access(ADMIN_BIN, os.X_OK):
        pytest.skip("yc-admin is not built")
    ak, sk = random_keys()
    data = tmp_path_factory.mktemp("roles") / "data"
    data.mkdir()
    gw = Gateway(str(data), ak, sk)
    gw.extra_args = ["--lockout-failures", str(LOCK_FAILURES), "--lockout-window", "60",
                     "--lockout-seconds", str(LOCK_SECONDS)]
    gw.start()
    e = Env()
    e.gw = gw
    e.root = Creds(ak, sk)
    # before the split the root keys may do everything, and the roles do not exist
    shown = json.loads(admin_cli(gw, e.root, "roles", "show").stdout)
    assert shown["state"] == "not_split" and not any(r["exists"] for r in shown["roles"])
    res = admin_cli(gw, e.root, "roles", "init")
    assert res.returncode == 0, res.stderr
    e.split_answer = json.loads(res.stdout)
    e.roles = {r["role"].split()[0]: Creds(r["accessKey"], r["secretKey"]) for r in e.split_answer["roles"]}
    # a tenant and a group, made by the system administrator
    iam = iam_client(gw, e.roles["system"])
    e.tenants = []
    for i in range(2):
        name = "tenant%d" % i
        iam.create_user(UserName=name)
        # a user lists and makes buckets only with an identity policy, which is the security
        # administrator's to write
        iam_client(gw, e.roles["security"]).put_user_policy(
            UserName=name, PolicyName="buckets", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:CreateBucket", "s3:ListAllMyBuckets"],
                 "Resource": "arn:aws:s3:::*"}]}))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        e.tenants.append(Creds(key["AccessKeyId"], key["SecretAccessKey"]))
    iam.create_group(GroupName="staff")
    e.tenant_s3 = make_client(gw.endpoint, e.tenants[0].access_key, e.tenants[0].secret_key)
    e.bucket = "tenant-%s" % uuid.uuid4().hex[:10]
    e.tenant_s3.create_bucket(Bucket=e.bucket)
    yield e
    gw.stop()


# ---------------------------------------------------------------- one outcome shape for every call


def raw(e, creds, method, path, body=b""):
    r = yc_raw.request(e.gw, method, path, body=body, access_key=creds.access_key, secret_key=creds.secret_key)
    if r.status < 300:
        return r.status, None, None
    err = r.error()
    assert err.get("RequestId"), r.body
    return r.status, err.get("Code"), err.get("Message")


def boto(fn, *args, **kw):
    try:
        fn(*args, **kw)
        return 200, None, None
    except botocore.exceptions.ClientError as ex:
        r = ex.response
        return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"].get("Message", "")


POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*"}]})


def bucket_policy(bucket):
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/tenant1"},
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket}]})


def op_status(e, c):
    return raw(e, c, "GET", "/_admin/v1/status")


def op_heal(e, c):
    return raw(e, c, "POST", "/_admin/v1/heal")


def op_users_list(e, c):
    return raw(e, c, "GET", "/_admin/v1/users")


def op_user_add(e, c):
    body = json.dumps({"user": "u" + uuid.uuid4().hex[:8], "secretKey": "s" * 20}).encode()
    return raw(e, c, "PUT", "/_admin/v1/users/AK%s" % uuid.uuid4().hex[:12].upper(), body)


def op_lockouts(e, c):
    return raw(e, c, "GET", "/_admin/v1/lockouts")


def op_audit_read(e, c):
    return raw(e, c, "GET", "/_admin/v1/audit/verify")


def op_roles_show(e, c):
    return raw(e, c, "GET", "/_admin/v1/roles")


def op_iam_create_user(e, c):
    return boto(iam_client(e.gw, c).create_user, UserName="u" + uuid.uuid4().hex[:8])


def op_iam_list_users(e, c):
    return boto(iam_client(e.gw, c).list_users)


def op_iam_put_user_policy(e, c):
    return boto(iam_client(e.gw, c).put_user_policy, UserName="tenant1", PolicyName="read",
                PolicyDocument=POLICY)


def op_iam_enable_key(e, c):
    return boto(iam_client(e.gw, c).update_access_key, UserName="tenant1",
                AccessKeyId=e.tenants[1].access_key, Status="Active")


def op_iam_update_user(e, c):
    return boto(iam_client(e.gw, c).update_user, UserName="tenant1", NewPath="/")


def op_iam_create_group(e, c):
    return boto(iam_client(e.gw, c).create_group, GroupName="g" + uuid.uuid4().hex[:8])


def op_iam_put_group_policy(e, c):
    return boto(iam_client(e.gw, c).put_group_policy, GroupName="staff", PolicyName="read",
                PolicyDocument=POLICY)


def op_iam_attach_user_policy(e, c):
    arn = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    out = boto(iam_client(e.gw, c).attach_user_policy, UserName="tenant1", PolicyArn=arn)
    if out[0] == 200:  # the tenant's grants stay as the other tests expect them
        iam_client(e.gw, c).detach_user_policy(UserName="tenant1", PolicyArn=arn)
    return out


def op_iam_create_policy(e, c):
    return boto(iam_client(e.gw, c).create_policy, PolicyName="p" + uuid.uuid4().hex[:8], PolicyDocument=POLICY)


def op_delete_others_bucket(e, c):
    name = "victim-%s" % uuid.uuid4().hex[:10]
    e.tenant_s3.create_bucket(Bucket=name)
    return boto(s3_client(e.gw, c).delete_bucket, Bucket=name)


def op_put_others_bucket_policy(e, c):
    return boto(s3_client(e.gw, c).put_bucket_policy, Bucket=e.bucket,
                Policy=bucket_policy(e.bucket))


TABLE = [
    ("admin status", op_status, {"system"}),
    ("admin heal", op_heal, {"system"}),
    ("admin users list", op_users_list, {"system", "security"}),
    ("admin user add", op_user_add, {"system"}),
    ("admin lockouts", op_lockouts, {"security"}),
    ("admin audit trail", op_audit_read, {"audit"}),
    ("admin roles show", op_roles_show, {"system", "security", "audit"}),
    ("iam CreateUser", op_iam_create_user, {"system"}),
    ("iam ListUsers", op_iam_list_users, {"system", "security"}),
    ("iam PutUserPolicy", op_iam_put_user_policy, {"security"}),
    ("iam UpdateAccessKey", op_iam_enable_key, {"security"}),
    ("iam CreateGroup", op_iam_create_group, {"system"}),
    ("iam UpdateUser", op_iam_update_user, {"system"}),
    ("iam PutGroupPolicy", op_iam_put_group_policy, {"security"}),
    ("iam CreatePolicy", op_iam_create_policy, {"security"}),
    ("iam AttachUserPolicy", op_iam_attach_user_policy, {"security"}),
    ("s3 DeleteBucket of another", op_delete_others_bucket, {"system"}),
    ("s3 PutBucketPolicy of another", op_put_others_bucket_policy, {"security"}),
]


@pytest.mark.parametrize("name,op,allowed", TABLE, ids=[t[0] for t in TABLE])
def test_each_role_only_its_own_work(env, name, op, allowed):
    for role in ALL:
        status, code, message = op(env, env.roles[role])
        if role in allowed:
            if op is op_audit_read:
                # the gate lets the audit administrator through to the audit API (built beside)
                assert status != 403, (role, code, message)
            else:
                assert status < 300, (role, status, code, message)
            continue
        assert (status, code) == (403, "AccessDenied"), (role, status, code, message)
        # the refusal names the caller's role and one that may do it
        assert ROLE_NAMES[role] in message, (role, message)
        assert any(ROLE_NAMES[r] in message for r in allowed), (role, message)


def test_split_retires_root_keys(env):
    assert env.split_answer["state"] == "split"
    assert sorted(env.roles) == sorted(ALL)
    keys = {c.access_key for c in env.roles.values()}
    assert len(keys) == 3 and env.root.access_key not in keys
    # the root keys serve nothing now: the admin API, the split again, the IAM endpoint, S3
    for method, path in (("GET", "/_admin/v1/status"), ("POST", "/_admin/v1/roles/init"),
                         ("GET", "/_admin/v1/users")):
        status, code, message = raw(env, env.root, method, path)
        assert (status, code) == (403, "AccessDenied") and "root keys were split" in message, (path, message)
    status, code, message = boto(iam_client(env.gw, env.root).list_users)
    assert (status, code) == (403, "AccessDenied") and "root keys were split" in message
    status, code, _ = boto(s3_client(env.gw, env.root).list_buckets)
    assert (status, code) == (403, "AccessDenied")
    # yc-admin as root fails; as the system administrator it works
    res = admin_cli(env.gw, env.root, "status")
    assert res.returncode == 1 and "AccessDenied" in res.stderr + res.stdout
    assert admin_cli(env.gw, env.roles["system"], "status").returncode == 0
    shown = json.loads(admin_cli(env.gw, env.roles["audit"], "roles", "show").stdout)
    assert shown["state"] == "split" and all(r["exists"] and r["keys"] == 1 for r in shown["roles"])
    # refusals are noted in the log with the roles
    text = env.gw.stderr_text()
    assert "event=roles_split" in text and "event=role_refused" in text
    assert re.search(r'event=role_refused .*caller_role="the root user"', text)


def test_root_works_before_split(gateway, admin_available):
    shown = json.loads(gateway.admin("roles", "show").stdout)
    assert shown["state"] == "not_split"
    assert gateway.admin("status").returncode == 0
    # the administrators' names are reserved for the split, root or not
    status, code, message = boto(iam_client(gateway, Creds(gateway.access_key, gateway.secret_key)).create_user,
                                 UserName="yc-audit-admin")
    assert (status, code) == (403, "AccessDenied") and "reserved" in message


def test_system_admin_sees_and_deletes_any_bucket_security_does_not(env):
    names = [b["Name"] for b in s3_client(env.gw, env.roles["system"]).list_buckets()["Buckets"]]
    assert env.bucket in names
    # the audit administrator's role holds no bucket, and no policy can be given to it
    assert boto(s3_client(env.gw, env.roles["audit"]).list_buckets)[:2] == (403, "AccessDenied")
    assert boto(s3_client(env.gw, env.roles["system"]).create_bucket, Bucket="sys-" + uuid.uuid4().hex[:8])[:2] == \
        (403, "AccessDenied")
    # the security administrator's policy on the tenant's bucket holds: tenant1 may read
    env.tenant_s3.put_object(Bucket=env.bucket, Key="k", Body=b"x")
    sec = s3_client(env.gw, env.roles["security"])
    sec.put_bucket_policy(Bucket=env.bucket, Policy=bucket_policy(env.bucket))
    t1 = s3_client(env.gw, env.tenants[1])
    assert t1.get_object(Bucket=env.bucket, Key="k")["Body"].read() == b"x"
    # but neither administrator reads the tenant's data
    for role in ("system", "security"):
        c = env.roles[role]
        status, code, _ = boto(s3_client(env.gw, c).get_object,
                               Bucket=env.bucket, Key="k")
        assert (status, code) == (403, "AccessDenied"), role


def test_no_one_may_change_the_administrators(env):
    sysc, secc = env.roles["system"], env.roles["security"]
    targets = [
        (secc, "update_access_key", dict(UserName="yc-system-admin", AccessKeyId=sysc.access_key, Status="Inactive")),
        (secc, "update_access_key", dict(AccessKeyId=secc.access_key, Status="Inactive")),
        (secc, "put_user_policy", dict(UserName="yc-audit-admin", PolicyName="p", PolicyDocument=POLICY)),
        (sysc, "delete_access_key", dict(UserName="yc-security-admin", AccessKeyId=secc.access_key)),
        (sysc, "delete_user", dict(UserName="yc-audit-admin")),
        (sysc, "create_access_key", dict(UserName="yc-audit-admin")),
        (sysc, "add_user_to_group", dict(GroupName="staff", UserName="yc-security-admin")),
        (sysc, "update_user", dict(UserName="yc-audit-admin", NewPath="/elsewhere/")),
        # names are case-insensitive: another spelling is the same administrator
        (sysc, "delete_access_key", dict(UserName="YC-Security-Admin", AccessKeyId=secc.access_key)),
        (secc, "put_user_policy", dict(UserName="YC-AUDIT-ADMIN", PolicyName="p", PolicyDocument=POLICY)),
    ]
    for creds, call, kw in targets:
        status, code, message = boto(getattr(iam_client(env.gw, creds), call), **kw)
        assert (status, code) == (403, "AccessDenied") and "reserved" in message, (call, kw, message)
    # nor through the admin API: removing or replacing an administrator's key
    status, code, _ = raw(env, sysc, "DELETE", "/_admin/v1/users/" + secc.access_key)
    assert (status, code) == (403, "AccessDenied")
    body = json.dumps({"user": "mallory", "secretKey": "m" * 20}).encode()
    status, code, _ = raw(env, sysc, "PUT", "/_admin/v1/users/" + env.roles["audit"].access_key, body)
    assert (status, code) == (403, "AccessDenied")
    # and every administrator still works
    for role in ALL:
        assert op_roles_show(env, env.roles[role])[0] == 200, role


def test_audit_admin_changes_nothing(env):
    aud = env.roles["audit"]
    calls = [lambda: raw(env, aud, "DELETE", "/_admin/v1/lockouts/" + env.tenants[0].access_key),
             lambda: raw(env, aud, "POST", "/_admin/v1/heal"),
             lambda: boto(iam_client(env.gw, aud).delete_user, UserName="tenant1"),
             lambda: boto(iam_client(env.gw, aud).delete_group_policy, GroupName="staff", PolicyName="read"),
             lambda: boto(s3_client(env.gw, aud).delete_bucket_policy,
                          Bucket=env.bucket)]
    for call in calls:
        status, code, message = call()
        assert (status, code) == (403, "AccessDenied") and "audit administrator" in message, message


# ---------------------------------------------------------------- lockout


def bad(env, creds):
    return s3_client(env.gw, Creds(creds.access_key, "wrong" + creds.secret_key[5:]))


def lock(env, creds):
    for i in range(LOCK_FAILURES):
        status, code, _ = boto(bad(env, creds).list_buckets)
        assert (status, code) == (403, "SignatureDoesNotMatch"), i


def good_list(env, creds):
    return boto(s3_client(env.gw, creds).list_buckets)


def test_lockout_after_bad_signatures_then_expires(env):
    victim, other = env.tenants
    assert good_list(env, victim)[0] == 200
    lock(env, victim)
    started = time.monotonic()
    # the right signature is refused during the lock, on S3 and on the IAM endpoint
    status, code, message = good_list(env, victim)
    assert (status, code) == (403, "AccessDenied") and "locked" in message, message
    status, code, message = boto(iam_client(env.gw, victim).list_users)
    assert (status, code) == (403, "AccessDenied") and "locked" in message, message
    # another key is not affected
    assert good_list(env, other)[0] == 200
    listed = json.loads(admin_cli(env.gw, env.roles["security"], "key", "lockouts").stdout)["locked"]
    assert [k["accessKey"] for k in listed] == [victim.access_key]
    # after T the key works again, and the lock and its end are logged
    time.sleep(max(0.0, LOCK_SECONDS + 0.2 - (time.monotonic() - started)))
    assert good_list(env, victim)[0] == 200
    text = env.gw.stderr_text()
    assert re.search(r"event=key_locked access_key=%s failures=%d" % (victim.access_key, LOCK_FAILURES), text)
    assert re.search(r"event=key_unlocked access_key=%s reason=expired" % victim.access_key, text)
    assert victim.secret_key not in text


def test_good_signature_clears_count(env):
    victim = env.tenants[1]
    for _ in range(2):
        for _ in range(LOCK_FAILURES - 1):
            assert boto(bad(env, victim).list_buckets)[1] == "SignatureDoesNotMatch"
        assert good_list(env, victim)[0] == 200
    assert good_list(env, victim)[0] == 200


def test_security_admin_unlocks_early(env):
    victim = env.tenants[0]
    lock(env, victim)
    assert good_list(env, victim)[1] == "AccessDenied"
    # not the system administrator's to do
    res = admin_cli(env.gw, env.roles["system"], "key", "unlock", victim.access_key)
    assert res.returncode == 1 and "security administrator" in res.stdout
    assert good_list(env, victim)[1] == "AccessDenied"
    res = admin_cli(env.gw, env.roles["security"], "key", "unlock", victim.access_key)
    assert res.returncode == 0, res.stdout + res.stderr
    assert good_list(env, victim)[0] == 200
    assert re.search(r"event=key_unlocked access_key=%s reason=admin by=yc-security-admin" % victim.access_key,
                     env.gw.stderr_text())
    # a key that is not locked: a clear error
    res = admin_cli(env.gw, env.roles["security"], "key", "unlock", victim.access_key)
    assert res.returncode == 1 and "not locked" in res.stdout


def test_unbuilt_iam_action_is_not_implemented_for_administrators(env):
    # an action no role holds because it is not built: 501, not a role refusal
    status, code, _ = boto(iam_client(env.gw, env.roles["security"]).create_role, RoleName="r",
                           AssumeRolePolicyDocument=POLICY)
    assert (status, code) == (501, "NotImplemented")


def test_iam_bad_signatures_lock_the_key_for_s3_too(env):
    victim = env.tenants[1]
    wrong = iam_client(env.gw, Creds(victim.access_key, "wrong" + victim.secret_key[5:]))
    for _ in range(LOCK_FAILURES):
        assert boto(wrong.list_users)[:2] == (403, "SignatureDoesNotMatch")
    status, code, message = good_list(env, victim)
    assert (status, code) == (403, "AccessDenied") and "locked" in message
    assert raw(env, env.roles["security"], "DELETE", "/_admin/v1/lockouts/" + victim.access_key)[0] == 204
    assert good_list(env, victim)[0] == 200


def test_administrator_keys_are_not_locked(env):
    # the system administrator signing wrongly with the security administrator's key id does not
    # shut the security administrator out
    sec = env.roles["security"]
    for _ in range(LOCK_FAILURES + 1):
        assert boto(bad(env, sec).list_buckets)[:2] == (403, "SignatureDoesNotMatch")
    assert good_list(env, sec)[0] == 200
    assert op_lockouts(env, sec)[0] == 200


def test_sigv2_bad_signatures_lock_the_key(env):
    victim = env.tenants[1]
    wrong = make_client(env.gw.endpoint, victim.access_key, "wrong" + victim.secret_key[5:], signature_version="s3")
    for _ in range(LOCK_FAILURES):
        assert boto(wrong.list_buckets)[:2] == (403, "SignatureDoesNotMatch")
    right = make_client(env.gw.endpoint, victim.access_key, victim.secret_key, signature_version="s3")
    status, code, message = boto(right.list_buckets)
    assert (status, code) == (403, "AccessDenied") and "locked" in message
    assert raw(env, env.roles["security"], "DELETE", "/_admin/v1/lockouts/" + victim.access_key)[0] == 204
    assert boto(right.list_buckets)[0] == 200
