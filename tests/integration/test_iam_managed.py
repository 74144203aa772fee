"""Customer-managed IAM policies: made, read, listed, attached to users and groups, weighed as
inline policies are, and removed only when nothing holds them; with boto3's iam client and `aws iam`.
"""
import json
import os
import subprocess

import botocore
import botocore.config
import botocore.exceptions
import pytest

from conftest import REGION, make_client
from test_iam import make_iam, uname, policy as doc

ARN_PREFIX = "arn:aws:iam::000000000000:policy"


def error_of(fn, *args, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(*args, **kw)
    r = ei.value.response
    assert r["ResponseMetadata"]["RequestId"]
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


@pytest.fixture(scope="module")
def iam(gateway):
    return make_iam(gateway.endpoint, gateway.access_key, gateway.secret_key)


@pytest.fixture
def made(iam):
    """Users, groups and policies a test makes, removed afterwards whatever it left attached."""
    m = {"users": [], "groups": [], "policies": []}
    yield m
    for u in m["users"]:
        for p in iam.list_attached_user_policies(UserName=u)["AttachedPolicies"]:
            iam.detach_user_policy(UserName=u, PolicyArn=p["PolicyArn"])
        for g in iam.list_groups_for_user(UserName=u)["Groups"]:
            iam.remove_user_from_group(GroupName=g["GroupName"], UserName=u)
        for k in iam.list_access_keys(UserName=u)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=u, AccessKeyId=k["AccessKeyId"])
        iam.delete_user(UserName=u)
    for g in m["groups"]:
        for p in iam.list_attached_group_policies(GroupName=g)["AttachedPolicies"]:
            iam.detach_group_policy(GroupName=g, PolicyArn=p["PolicyArn"])
        iam.delete_group(GroupName=g)
    for arn in m["policies"]:
        try:
            iam.delete_policy(PolicyArn=arn)
        except botocore.exceptions.ClientError:
            pass


def new_policy(iam, made, statements, **kw):
    p = iam.create_policy(PolicyName=uname("pol"), PolicyDocument=doc(*statements), **kw)["Policy"]
    made["policies"].append(p["Arn"])
    return p


def new_user(gateway, iam, made):
    name = uname()
    iam.create_user(UserName=name)
    made["users"].append(name)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    return name, make_client(gateway.endpoint, k["AccessKeyId"], k["SecretAccessKey"])


def test_create_get_version_list_delete(iam, made):
    statement = {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}
    p = new_policy(iam, made, [statement], Path="/team/", Description="lists buckets")
    name = p["PolicyName"]
    assert p["Arn"] == "%s/team/%s" % (ARN_PREFIX, name)
    assert p["PolicyId"].startswith("ANPA") and len(p["PolicyId"]) == 21
    assert (p["DefaultVersionId"], p["AttachmentCount"], p["IsAttachable"]) == ("v1", 0, True)
    got = iam.get_policy(PolicyArn=p["Arn"])["Policy"]
    assert (got["PolicyName"], got["Description"], got["Path"]) == (name, "lists buckets", "/team/")
    v = iam.get_policy_version(PolicyArn=p["Arn"], VersionId="v1")["PolicyVersion"]
    assert v["Document"]["Statement"] == [statement] and v["IsDefaultVersion"]  # botocore decodes it
    assert error_of(iam.get_policy_version, PolicyArn=p["Arn"], VersionId="v2") == (404, "NoSuchEntity")
    assert [x["VersionId"] for x in iam.list_policy_versions(PolicyArn=p["Arn"])["Versions"]] == ["v1"]
    listed = iam.list_policies(Scope="Local", PathPrefix="/team/")["Policies"]
    assert name in [x["PolicyName"] for x in listed]
    assert name not in [x["PolicyName"] for x in iam.list_policies(Scope="AWS")["Policies"]]
    assert name not in [x["PolicyName"] for x in iam.list_policies(OnlyAttached=True)["Policies"]]
    # names are unique in any case; a wrong path or another account's ARN names nothing
    assert error_of(iam.create_policy, PolicyName=name.upper(), PolicyDocument=doc(statement)) == \
        (409, "EntityAlreadyExists")
    assert error_of(iam.get_policy, PolicyArn="%s/%s" % (ARN_PREFIX, name)) == (404, "NoSuchEntity")
    assert error_of(iam.get_policy, PolicyArn="arn:aws:iam::aws:policy/%s" % name) == (404, "NoSuchEntity")
    assert error_of(iam.create_policy, PolicyName=uname("bad"), PolicyDocument="{\"Statement\": 1}") == \
        (400, "MalformedPolicyDocument")
    iam.delete_policy(PolicyArn=p["Arn"])
    assert error_of(iam.get_policy, PolicyArn=p["Arn"]) == (404, "NoSuchEntity")


def test_attached_user_policy_grants_until_detached(gateway, iam, made):
    name, s3 = new_user(gateway, iam, made)
    p = new_policy(iam, made, [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}])
    assert error_of(s3.list_buckets) == (403, "AccessDenied")
    iam.attach_user_policy(UserName=name, PolicyArn=p["Arn"])
    iam.attach_user_policy(UserName=name, PolicyArn=p["Arn"])  # twice is no error
    assert iam.list_attached_user_policies(UserName=name)["AttachedPolicies"] == \
        [{"PolicyName": p["PolicyName"], "PolicyArn": p["Arn"]}]
    assert iam.get_policy(PolicyArn=p["Arn"])["Policy"]["AttachmentCount"] == 1
    assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    # held: neither the policy nor the user can go
    assert error_of(iam.delete_policy, PolicyArn=p["Arn"]) == (409, "DeleteConflict")
    assert error_of(iam.delete_user, UserName=name) == (409, "DeleteConflict")
    iam.detach_user_policy(UserName=name, PolicyArn=p["Arn"])
    assert error_of(iam.detach_user_policy, UserName=name, PolicyArn=p["Arn"]) == (404, "NoSuchEntity")
    assert error_of(s3.list_buckets) == (403, "AccessDenied")
    assert error_of(iam.attach_user_policy, UserName=uname("none"), PolicyArn=p["Arn"]) == (404, "NoSuchEntity")


def test_group_attachment_and_deny_in_a_managed_policy(gateway, iam, made):
    name, s3 = new_user(gateway, iam, made)
    g = uname("g")
    iam.create_group(GroupName=g)
    made["groups"].append(g)
    allow = new_policy(iam, made, [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}])
    deny = new_policy(iam, made, [{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}])
    iam.attach_group_policy(GroupName=g, PolicyArn=allow["Arn"])
    assert [x["PolicyArn"] for x in iam.list_attached_group_policies(GroupName=g)["AttachedPolicies"]] == \
        [allow["Arn"]]
    assert error_of(s3.list_buckets) == (403, "AccessDenied")  # not a member yet
    iam.add_user_to_group(GroupName=g, UserName=name)
    assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    # an explicit Deny attached to the user wins over the group's Allow
    iam.attach_user_policy(UserName=name, PolicyArn=deny["Arn"])
    assert error_of(s3.list_buckets) == (403, "AccessDenied")
    iam.detach_user_policy(UserName=name, PolicyArn=deny["Arn"])
    assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert error_of(iam.delete_group, GroupName=g) == (409, "DeleteConflict")
    only = [x["PolicyName"] for x in iam.list_policies(OnlyAttached=True)["Policies"]]
    assert allow["PolicyName"] in only and deny["PolicyName"] not in only


def test_aws_cli_managed_policies(gateway, iam, made, tmp_path):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "AWS_ACCESS_KEY_ID": gateway.access_key, "AWS_SECRET_ACCESS_KEY": gateway.secret_key,
           "AWS_DEFAULT_REGION": REGION}
    f = tmp_path / "p.json"
    f.write_text(doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}))
    name = uname("cli")
    out = subprocess.run(["aws", "--endpoint-url", gateway.endpoint, "iam", "create-policy", "--policy-name", name,
                          "--policy-document", "file://%s" % f, "--output", "json"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    arn = json.loads(out.stdout)["Policy"]["Arn"]
    made["policies"].append(arn)
    assert arn == "%s/%s" % (ARN_PREFIX, name)
    out = subprocess.run(["aws", "--endpoint-url", gateway.endpoint, "iam", "list-policies", "--scope", "Local",
                          "--output", "json"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0 and name in [p["PolicyName"] for p in json.loads(out.stdout)["Policies"]], out.stderr


def test_aws_managed_s3_policies(gateway, s3, iam, made):
    full, read = "arn:aws:iam::aws:policy/AmazonS3FullAccess", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    listed = {p["Arn"] for p in iam.list_policies(Scope="AWS")["Policies"]}
    assert {full, read} <= listed
    assert not {full, read} & {p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]}
    got = iam.get_policy(PolicyArn=read)["Policy"]
    assert (got["PolicyName"], got["Path"]) == ("AmazonS3ReadOnlyAccess", "/")
    assert error_of(iam.delete_policy, PolicyArn=full)[0] == 403
    assert error_of(iam.get_policy, PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicy") == (404, "NoSuchEntity")
    name, user_s3 = new_user(gateway, iam, made)
    assert error_of(iam.detach_user_policy, UserName=name, PolicyArn=read) == (404, "NoSuchEntity")
    iam.attach_user_policy(UserName=name, PolicyArn=read)
    assert iam.list_attached_user_policies(UserName=name)["AttachedPolicies"] == \
        [{"PolicyName": "AmazonS3ReadOnlyAccess", "PolicyArn": read}]
    bucket = uname("ro")
    s3.create_bucket(Bucket=bucket)
    try:
        s3.put_object(Bucket=bucket, Key="k", Body=b"v")
        # read-only: it lists and reads the account's buckets, and writes nothing
        assert user_s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert user_s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
        assert error_of(user_s3.put_object, Bucket=bucket, Key="k2", Body=b"x") == (403, "AccessDenied")
        assert error_of(user_s3.create_bucket, Bucket=uname("no")) == (403, "AccessDenied")
        iam.attach_user_policy(UserName=name, PolicyArn=full)
        user_s3.put_object(Bucket=bucket, Key="k2", Body=b"x")
        assert iam.get_policy(PolicyArn=full)["Policy"]["AttachmentCount"] >= 1
    finally:
        for k in ("k", "k2"):
            s3.delete_object(Bucket=bucket, Key=k)
        s3.delete_bucket(Bucket=bucket)
