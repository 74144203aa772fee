"""IAM for users with real clients: boto3's iam client and `aws iam` against the gateway's IAM
Query API, and boto3's s3 client for the grants those identity policies give.

The grant tests try to get in: for each kind of grant a request that passes and the nearest one
that must not (another prefix, another action, another user, anonymous, the key deleted or
disabled, the policy removed, a Deny over an Allow, the user leaving the group).
"""
import json
import os
import subprocess
import sys
import time
import uuid

import boto3
import botocore
import botocore.config
import botocore.exceptions
import pytest

from conftest import REGION, make_client, unique_bucket_name, empty_and_delete_bucket

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fault"))
import cluster as yc  # noqa: E402

IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"


def make_iam(endpoint, access_key, secret_key):
    return boto3.session.Session().client(
        "iam", endpoint_url=endpoint, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
        region_name=REGION, config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}))


def expect_error(code, status, fn, *args, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(*args, **kw)
    r = ei.value.response
    assert (r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]) == (code, status), r
    assert r["ResponseMetadata"]["RequestId"]
    return r


def uname(prefix="u"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


BUCKETS_POLICY = policy({"Effect": "Allow", "Action": ["s3:CreateBucket", "s3:ListAllMyBuckets"],
                         "Resource": "arn:aws:s3:::*"})


@pytest.fixture(scope="module")
def iam(gateway):
    return make_iam(gateway.endpoint, gateway.access_key, gateway.secret_key)


class User:
    def __init__(self, name, key, secret, s3):
        self.name, self.key, self.secret, self.s3 = name, key, secret, s3


@pytest.fixture
def new_user(gateway, iam):
    """Makes users with one access key each and an s3 client; removes them afterwards."""
    made = []

    def make(prefix="u", buckets=False):
        name = uname(prefix)
        iam.create_user(UserName=name)
        if buckets:  # a user needs an identity policy to list and make buckets of its own
            iam.put_user_policy(UserName=name, PolicyName="buckets", PolicyDocument=BUCKETS_POLICY)
        k = iam.create_access_key(UserName=name)["AccessKey"]
        u = User(name, k["AccessKeyId"], k["SecretAccessKey"],
                 make_client(gateway.endpoint, k["AccessKeyId"], k["SecretAccessKey"]))
        made.append(u)
        return u

    yield make
    for u in made:
        try:
            for g in iam.list_groups_for_user(UserName=u.name)["Groups"]:
                iam.remove_user_from_group(GroupName=g["GroupName"], UserName=u.name)
            for p in iam.list_user_policies(UserName=u.name)["PolicyNames"]:
                iam.delete_user_policy(UserName=u.name, PolicyName=p)
            for k in iam.list_access_keys(UserName=u.name)["AccessKeyMetadata"]:
                iam.delete_access_key(UserName=u.name, AccessKeyId=k["AccessKeyId"])
            iam.delete_user(UserName=u.name)
        except Exception:
            pass


# ---------------------------------------------------------------- users

def test_user_create_get_list_delete(iam):
    name = uname()
    u = iam.create_user(UserName=name)["User"]
    assert u["UserName"] == name and u["Path"] == "/"
    assert u["Arn"] == "arn:aws:iam::000000000000:user/%s" % name
    assert u["UserId"].startswith("AIDA") and len(u["UserId"]) == 21
    got = iam.get_user(UserName=name)["User"]
    assert got["UserId"] == u["UserId"] and got["CreateDate"] == u["CreateDate"]
    assert name in [x["UserName"] for x in iam.list_users()["Users"]]
    expect_error("EntityAlreadyExists", 409, iam.create_user, UserName=name)
    iam.delete_user(UserName=name)
    expect_error("NoSuchEntity", 404, iam.get_user, UserName=name)
    expect_error("NoSuchEntity", 404, iam.delete_user, UserName=name)
    assert name not in [x["UserName"] for x in iam.list_users()["Users"]]


def test_user_name_is_validated(iam):
    expect_error("ValidationError", 400, iam.create_user, UserName="bad/name")
    expect_error("ValidationError", 400, iam.create_user, UserName="x" * 65)


def user_names(iam, **kw):
    """Every user name ListUsers gives with kw, page by page."""
    return [u["UserName"] for page in iam.get_paginator("list_users").paginate(**kw) for u in page["Users"]]


def test_user_path_is_kept_in_get_list_and_arn(iam):
    name, path = uname(), "/yc-%s/b/" % uuid.uuid4().hex[:8]
    u = iam.create_user(UserName=name, Path=path)["User"]
    try:
        assert u["Path"] == path
        assert u["Arn"] == "arn:aws:iam::000000000000:user%s%s" % (path, name)
        got = iam.get_user(UserName=name)["User"]
        assert (got["Path"], got["Arn"]) == (path, u["Arn"])
        listed = [x for x in iam.list_users()["Users"] if x["UserName"] == name]
        assert [(x["Path"], x["Arn"]) for x in listed] == [(path, u["Arn"])]
        # a path must begin and end with '/', of printable ASCII
        for bad in ("a/", "/a", "/a b/", "/" + "x" * 511 + "/"):
            expect_error("ValidationError", 400, iam.create_user, UserName=uname(), Path=bad)
    finally:
        iam.delete_user(UserName=name)


def test_user_names_are_case_insensitive_and_keep_their_spelling(iam):
    name = "Bob-" + uuid.uuid4().hex[:8]
    u = iam.create_user(UserName=name)["User"]
    try:
        r = expect_error("EntityAlreadyExists", 409, iam.create_user, UserName=name.lower())
        assert r["Error"]["Message"]
        expect_error("EntityAlreadyExists", 409, iam.create_user, UserName=name.upper(), Path="/other/")
        # any case finds the user, named as it was created
        assert iam.get_user(UserName=name.upper())["User"] == u
        k = iam.create_access_key(UserName=name.lower())["AccessKey"]
        assert k["UserName"] == name
        assert [x["AccessKeyId"] for x in iam.list_access_keys(UserName=name.upper())["AccessKeyMetadata"]] == \
            [k["AccessKeyId"]]
        iam.delete_access_key(UserName=name.lower(), AccessKeyId=k["AccessKeyId"])
        doc = policy({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"})
        iam.put_user_policy(UserName=name.upper(), PolicyName="p", PolicyDocument=doc)
        assert iam.list_user_policies(UserName=name)["PolicyNames"] == ["p"]
        expect_error("DeleteConflict", 409, iam.delete_user, UserName=name.lower())
        iam.delete_user_policy(UserName=name.lower(), PolicyName="p")
        assert user_names(iam, PathPrefix="/").count(name) == 1
        iam.delete_user(UserName=name.lower())
        expect_error("NoSuchEntity", 404, iam.get_user, UserName=name)
    finally:
        try:
            iam.delete_user(UserName=name)
        except botocore.exceptions.ClientError:
            pass


def test_list_users_path_prefix_and_case_insensitive_order(iam):
    base = "/yc-%s/" % uuid.uuid4().hex[:8]
    tag = uuid.uuid4().hex[:6]
    made = [("aa-" + tag, base + "z/"), ("Ab-" + tag, base + "y/"), ("ac-" + tag, base), ("Ad-" + tag, base + "y/x/")]
    for n, p in reversed(made):
        iam.create_user(UserName=n, Path=p)
    try:
        assert user_names(iam, PathPrefix=base + "nothing") == []
        everyone = [n for n, _ in made]
        assert user_names(iam, PathPrefix=base) == everyone
        assert user_names(iam, PathPrefix=base, PaginationConfig={"PageSize": 1}) == everyone
        assert user_names(iam, PathPrefix=base + "y") == ["Ab-" + tag, "Ad-" + tag]
        assert user_names(iam, PathPrefix=base + "y/x/", PaginationConfig={"PageSize": 1}) == ["Ad-" + tag]
        assert user_names(iam, PathPrefix=base[:-1]) == everyone  # a prefix, not a folder
        expect_error("ValidationError", 400, iam.list_users, PathPrefix="no-slash")
    finally:
        for n, _ in made:
            iam.delete_user(UserName=n)


def test_update_user_renames_and_moves(iam):
    name, new, other = uname(), uname("z"), uname("o")
    expect_error("NoSuchEntity", 404, iam.update_user, UserName=name, NewUserName=new)
    u = iam.create_user(UserName=name, Path="/a/")["User"]
    iam.create_user(UserName=other)
    try:
        iam.update_user(UserName=name, NewPath="/a/b/")
        got = iam.get_user(UserName=name)["User"]
        assert (got["Path"], got["UserId"]) == ("/a/b/", u["UserId"])
        assert got["Arn"].endswith(":user/a/b/%s" % name)
        # the new name must be free, in any case
        expect_error("EntityAlreadyExists", 409, iam.update_user, UserName=name, NewUserName=other.upper())
        expect_error("ValidationError", 400, iam.update_user, UserName=name, NewUserName="bad/name")
        expect_error("ValidationError", 400, iam.update_user, UserName=name, NewPath="nope")
        iam.update_user(UserName=name, NewUserName=new)
        expect_error("NoSuchEntity", 404, iam.get_user, UserName=name)
        got = iam.get_user(UserName=new)["User"]
        assert (got["UserName"], got["UserId"], got["Path"], got["CreateDate"]) == \
            (new, u["UserId"], "/a/b/", u["CreateDate"])
        assert got["Arn"].endswith(":user/a/b/%s" % new)
        # a change of case only is a rename of the same user
        iam.update_user(UserName=new, NewUserName=new.upper())
        assert iam.get_user(UserName=new)["User"]["UserName"] == new.upper()
        new = new.upper()
    finally:
        for n in (name, new, other):
            try:
                iam.delete_user(UserName=n)
            except botocore.exceptions.ClientError:
                pass


def test_group_path_is_kept_listed_by_prefix_and_changed_by_update_group(iam, new_user):
    path, name, renamed = "/%s/" % uname("team"), uname("G"), uname("NG")
    g = iam.create_group(GroupName=name, Path=path)["Group"]
    assert (g["Path"], g["Arn"]) == (path, "arn:aws:iam::000000000000:group%s%s" % (path, name))
    assert iam.get_group(GroupName=name.lower())["Group"] == g
    assert [x["GroupName"] for x in iam.list_groups(PathPrefix=path)["Groups"]] == [name]
    assert iam.list_groups(PathPrefix=path + "x/")["Groups"] == []
    expect_error("ValidationError", 400, iam.create_group, GroupName=uname("G"), Path="no-slash")
    iam.update_group(GroupName=name, NewGroupName=renamed, NewPath=path + "new/")
    moved = iam.get_group(GroupName=renamed)["Group"]
    assert (moved["GroupId"], moved["Path"]) == (g["GroupId"], path + "new/")
    assert moved["Arn"].endswith(":group%snew/%s" % (path, renamed))
    expect_error("NoSuchEntity", 404, iam.get_group, GroupName=name)
    assert [x["GroupName"] for x in iam.list_groups(PathPrefix=path)["Groups"]] == [renamed]
    # members and policies follow a renamed group, and so does what its policy grants them
    u = new_user()
    iam.add_user_to_group(GroupName=renamed, UserName=u.name)
    iam.put_group_policy(GroupName=renamed, PolicyName="list", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}))
    assert u.s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    iam.update_group(GroupName=renamed, NewGroupName=name)
    renamed, name = name, renamed
    assert [x["UserName"] for x in iam.get_group(GroupName=renamed)["Users"]] == [u.name]
    assert iam.list_group_policies(GroupName=renamed)["PolicyNames"] == ["list"]
    expect_error("NoSuchEntity", 404, iam.get_group, GroupName=name)
    assert u.s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    iam.update_group(GroupName=renamed, NewPath="/")
    assert [(x["GroupName"], x["Path"]) for x in iam.list_groups_for_user(UserName=u.name)["Groups"]] == [(renamed, "/")]
    expect_error("NoSuchEntity", 404, iam.update_group, GroupName=uname("none"), NewPath="/")
    iam.remove_user_from_group(GroupName=renamed, UserName=u.name)
    iam.delete_group_policy(GroupName=renamed, PolicyName="list")
    iam.delete_group(GroupName=renamed)


def test_bucket_policy_names_a_user_by_its_arn_with_path(iam, new_user, s3, shared_bucket):
    u = new_user()
    iam.update_user(UserName=u.name, NewPath="/team/")
    arn = iam.get_user(UserName=u.name)["User"]["Arn"]
    assert arn.endswith(":user/team/%s" % u.name)
    with pytest.raises(botocore.exceptions.ClientError):
        u.s3.list_objects_v2(Bucket=shared_bucket)
    s3.put_bucket_policy(Bucket=shared_bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": arn}, "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::%s" % shared_bucket}]}))
    try:
        assert u.s3.list_objects_v2(Bucket=shared_bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    finally:
        s3.delete_bucket_policy(Bucket=shared_bucket)


def test_get_user_without_name_is_the_root_account(iam):
    u = iam.get_user()["User"]
    assert u["Arn"] == "arn:aws:iam::000000000000:root"


def test_list_users_pages_with_marker(iam):
    names = sorted(uname("page") for _ in range(3))
    for n in names:
        iam.create_user(UserName=n)
    try:
        seen, marker = [], None
        while True:
            kw = {"MaxItems": 1}
            if marker:
                kw["Marker"] = marker
            r = iam.list_users(**kw)
            assert len(r["Users"]) <= 1
            seen += [x["UserName"] for x in r["Users"]]
            if not r["IsTruncated"]:
                break
            marker = r["Marker"]
        assert [n for n in seen if n in names] == names
        assert seen == sorted(seen, key=str.lower)  # IAM's order ignores case
    finally:
        for n in names:
            iam.delete_user(UserName=n)


def test_delete_user_conflicts_while_it_has_keys_policies_or_groups(iam):
    name, group = uname(), uname("g")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    expect_error("DeleteConflict", 409, iam.delete_user, UserName=name)
    iam.delete_access_key(UserName=name, AccessKeyId=key)
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}))
    expect_error("DeleteConflict", 409, iam.delete_user, UserName=name)
    iam.delete_user_policy(UserName=name, PolicyName="p")
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=name)
    expect_error("DeleteConflict", 409, iam.delete_user, UserName=name)
    expect_error("DeleteConflict", 409, iam.delete_group, GroupName=group)
    iam.remove_user_from_group(GroupName=group, UserName=name)
    iam.delete_group(GroupName=group)
    iam.delete_user(UserName=name)


def test_error_document_is_iams(gateway, iam):
    captured = {}

    def keep(http_response, **kw):
        captured["body"] = http_response.content.decode()

    iam.meta.events.register("after-call.iam.GetUser", keep)
    try:
        expect_error("NoSuchEntity", 404, iam.get_user, UserName=uname("absent"))
    finally:
        iam.meta.events.unregister("after-call.iam.GetUser", keep)
    body = captured["body"]
    assert '<ErrorResponse xmlns="%s">' % IAM_NS in body
    assert "<Type>Sender</Type>" in body and "<Code>NoSuchEntity</Code>" in body and "<RequestId>" in body


def test_answer_document_is_iams(iam):
    captured = {}

    def keep(http_response, **kw):
        captured["body"] = http_response.content.decode()

    iam.meta.events.register("after-call.iam.ListUsers", keep)
    try:
        r = iam.list_users()
    finally:
        iam.meta.events.unregister("after-call.iam.ListUsers", keep)
    assert '<ListUsersResponse xmlns="%s">' % IAM_NS in captured["body"]
    assert "<ResponseMetadata><RequestId>%s</RequestId>" % r["ResponseMetadata"]["RequestId"] in captured["body"]


# ---------------------------------------------------------------- who may call

def test_only_root_may_call_iam(gateway, new_user):
    u = new_user()
    other = make_iam(gateway.endpoint, u.key, u.secret)
    expect_error("AccessDenied", 403, other.list_users)
    expect_error("AccessDenied", 403, other.create_user, UserName=uname())


def test_unknown_key_and_bad_signature_are_refused(gateway):
    expect_error("InvalidClientTokenId", 403, make_iam(gateway.endpoint, "AKIANOSUCHKEY0000000", "x" * 40).list_users)
    expect_error("SignatureDoesNotMatch", 403, make_iam(gateway.endpoint, gateway.access_key, "wrong" * 8).list_users)


def test_actions_not_built_answer_not_implemented(iam):
    expect_error("NotImplemented", 501, iam.create_role, RoleName="r", AssumeRolePolicyDocument="{}")
    expect_error("NotImplemented", 501, iam.list_roles)


def signed_for_iam(gateway, method, path, body, secret=None):
    """A raw request signed with SigV4 for the service iam, as IAM clients sign (no
    x-amz-content-sha256 header); returns (status, body text)."""
    import urllib.error
    import urllib.request
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    req = AWSRequest(method=method, url=gateway.endpoint + path, data=body,
                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(Credentials(gateway.access_key, secret or gateway.secret_key), "iam", REGION).add_auth(req)
    prepared = req.prepare()
    r = urllib.request.Request(prepared.url, data=prepared.body, headers=dict(prepared.headers), method=method)
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_iam_signed_request_is_never_served_as_s3(gateway, s3, bucket):
    """The credential scope's service decides: a bucket path signed for iam gets IAM's answer."""
    status, text = signed_for_iam(gateway, "GET", "/" + bucket, b"")
    assert status == 400 and "<ErrorResponse" in text and "<Code>InvalidAction</Code>" in text, text
    status, text = signed_for_iam(gateway, "POST", "/", b"Action=ListUsers&Version=2010-05-08")
    assert status == 200 and "<ListUsersResponse" in text, text
    status, text = signed_for_iam(gateway, "POST", "/", b"Version=2010-05-08")
    assert status == 400 and "<Code>MissingAction</Code>" in text, text
    status, text = signed_for_iam(gateway, "POST", "/", b"Action=ListUsers&x=%zz")
    assert status == 400 and "<Code>MalformedQueryString</Code>" in text, text


def test_body_is_covered_by_the_signature(gateway):
    """The body hash is signed without being sent: a body changed after signing is refused."""
    import urllib.error
    import urllib.request
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    name = uname("swap")
    req = AWSRequest(method="POST", url=gateway.endpoint + "/", data=b"Action=GetUser&UserName=" + name.encode(),
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials(gateway.access_key, gateway.secret_key), "iam", REGION).add_auth(req)
    p = req.prepare()
    swapped = b"Action=CreateUser&UserName=" + name.encode()
    headers = dict(p.headers)
    headers["Content-Length"] = str(len(swapped))
    r = urllib.request.Request(p.url, data=swapped, headers=headers, method="POST")
    with pytest.raises(urllib.error.HTTPError) as ei:
        urllib.request.urlopen(r, timeout=30)
    assert ei.value.code == 403 and b"SignatureDoesNotMatch" in ei.value.read()
    iam = make_iam(gateway.endpoint, gateway.access_key, gateway.secret_key)
    expect_error("NoSuchEntity", 404, iam.get_user, UserName=name)


# ---------------------------------------------------------------- access keys

def test_access_keys_create_list_disable_delete(gateway, iam, new_user):
    u = new_user(buckets=True)
    assert u.key.startswith("AKIA") and len(u.key) == 20 and len(u.secret) == 40
    assert "Buckets" in u.s3.list_buckets()
    keys = iam.list_access_keys(UserName=u.name)["AccessKeyMetadata"]
    assert [(k["AccessKeyId"], k["Status"]) for k in keys] == [(u.key, "Active")]
    assert "SecretAccessKey" not in keys[0]

    iam.update_access_key(UserName=u.name, AccessKeyId=u.key, Status="Inactive")
    assert iam.list_access_keys(UserName=u.name)["AccessKeyMetadata"][0]["Status"] == "Inactive"
    expect_error("InvalidAccessKeyId", 403, u.s3.list_buckets)
    iam.update_access_key(UserName=u.name, AccessKeyId=u.key, Status="Active")
    assert "Buckets" in u.s3.list_buckets()
    expect_error("ValidationError", 400, iam.update_access_key, UserName=u.name, AccessKeyId=u.key, Status="Off")

    second = iam.create_access_key(UserName=u.name)["AccessKey"]
    expect_error("LimitExceeded", 409, iam.create_access_key, UserName=u.name)
    iam.delete_access_key(UserName=u.name, AccessKeyId=second["AccessKeyId"])

    iam.delete_access_key(UserName=u.name, AccessKeyId=u.key)
    expect_error("InvalidAccessKeyId", 403, u.s3.list_buckets)
    expect_error("NoSuchEntity", 404, iam.delete_access_key, UserName=u.name, AccessKeyId=u.key)
    expect_error("NoSuchEntity", 404, iam.create_access_key, UserName=uname("absent"))


def test_key_of_another_user_cannot_be_managed_through_this_one(iam, new_user):
    a, b = new_user(), new_user(buckets=True)
    expect_error("NoSuchEntity", 404, iam.delete_access_key, UserName=a.name, AccessKeyId=b.key)
    expect_error("NoSuchEntity", 404, iam.update_access_key, UserName=a.name, AccessKeyId=b.key, Status="Inactive")
    assert "Buckets" in b.s3.list_buckets()


# ---------------------------------------------------------------- inline policies

def test_user_policy_put_get_list_delete(iam, new_user):
    u = new_user()
    doc = policy({"Sid": "read", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"})
    iam.put_user_policy(UserName=u.name, PolicyName="read", PolicyDocument=doc)
    got = iam.get_user_policy(UserName=u.name, PolicyName="read")
    assert got["UserName"] == u.name and got["PolicyName"] == "read"
    assert got["PolicyDocument"] == json.loads(doc)  # botocore decodes IAM's URL-encoded document
    assert iam.list_user_policies(UserName=u.name)["PolicyNames"] == ["read"]
    iam.delete_user_policy(UserName=u.name, PolicyName="read")
    assert iam.list_user_policies(UserName=u.name)["PolicyNames"] == []
    expect_error("NoSuchEntity", 404, iam.get_user_policy, UserName=u.name, PolicyName="read")
    expect_error("NoSuchEntity", 404, iam.delete_user_policy, UserName=u.name, PolicyName="read")
    expect_error("NoSuchEntity", 404, iam.put_user_policy, UserName=uname("absent"), PolicyName="p", PolicyDocument=doc)


def test_malformed_identity_policies_are_refused(iam, new_user):
    u = new_user()
    for doc in ("{not json", policy({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}),
                policy({"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}),
                policy({"Effect": "Allow", "Action": "s3:NoSuchAction", "Resource": "*"})):
        expect_error("MalformedPolicyDocument", 400, iam.put_user_policy, UserName=u.name, PolicyName="p",
                     PolicyDocument=doc)
    # a Sid twice in one policy, as IAM refuses it
    twice = policy({"Sid": "same", "Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                   {"Sid": "same", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"})
    r = expect_error("MalformedPolicyDocument", 400, iam.put_user_policy, UserName=u.name, PolicyName="p",
                     PolicyDocument=twice)
    assert r["Error"]["Message"] == "Statement IDs (SID) in a single policy must be unique."
    assert iam.list_user_policies(UserName=u.name)["PolicyNames"] == []


# ---------------------------------------------------------------- groups

def test_groups_members_and_group_policies(iam, new_user):
    u = new_user()
    g = uname("g")
    grp = iam.create_group(GroupName=g)["Group"]
    assert grp["GroupName"] == g and grp["GroupId"].startswith("AGPA")
    assert grp["Arn"] == "arn:aws:iam::000000000000:group/%s" % g
    expect_error("EntityAlreadyExists", 409, iam.create_group, GroupName=g)
    assert g in [x["GroupName"] for x in iam.list_groups()["Groups"]]
    iam.add_user_to_group(GroupName=g, UserName=u.name)
    iam.add_user_to_group(GroupName=g, UserName=u.name)  # twice is no error, as in IAM
    got = iam.get_group(GroupName=g)
    assert got["Group"]["GroupId"] == grp["GroupId"] and [x["UserName"] for x in got["Users"]] == [u.name]
    assert [x["GroupName"] for x in iam.list_groups_for_user(UserName=u.name)["Groups"]] == [g]
    expect_error("NoSuchEntity", 404, iam.add_user_to_group, GroupName=g, UserName=uname("absent"))
    expect_error("NoSuchEntity", 404, iam.add_user_to_group, GroupName=uname("absent"), UserName=u.name)

    doc = policy({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"})
    iam.put_group_policy(GroupName=g, PolicyName="list", PolicyDocument=doc)
    assert iam.get_group_policy(GroupName=g, PolicyName="list")["PolicyDocument"] == json.loads(doc)
    assert iam.list_group_policies(GroupName=g)["PolicyNames"] == ["list"]
    iam.delete_group_policy(GroupName=g, PolicyName="list")
    expect_error("NoSuchEntity", 404, iam.get_group_policy, GroupName=g, PolicyName="list")

    iam.remove_user_from_group(GroupName=g, UserName=u.name)
    expect_error("NoSuchEntity", 404, iam.remove_user_from_group, GroupName=g, UserName=u.name)
    assert iam.list_groups_for_user(UserName=u.name)["Groups"] == []
    iam.delete_group(GroupName=g)
    expect_error("NoSuchEntity", 404, iam.get_group, GroupName=g)


# ---------------------------------------------------------------- grants

@pytest.fixture
def shared_bucket(s3):
    name = unique_bucket_name("iam")
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete_bucket(s3, name)


def anonymous(gateway):
    return boto3.session.Session().client(
        "s3", endpoint_url=gateway.endpoint, region_name=REGION,
        config=botocore.config.Config(signature_version=botocore.UNSIGNED, s3={"addressing_style": "path"},
                                      retries={"max_attempts": 1}))


def test_own_prefix_grant_with_username_variable(gateway, iam, s3, new_user, shared_bucket):
    alice, bob = new_user("alice"), new_user("bob")
    doc = policy({"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
                  "Resource": "arn:aws:s3:::%s/${aws:username}/*" % shared_bucket})
    for u in (alice, bob):
        iam.put_user_policy(UserName=u.name, PolicyName="own-prefix", PolicyDocument=doc)

    alice.s3.put_object(Bucket=shared_bucket, Key="%s/notes.txt" % alice.name, Body=b"mine")
    assert alice.s3.get_object(Bucket=shared_bucket, Key="%s/notes.txt" % alice.name)["Body"].read() == b"mine"
    # another prefix, another user's prefix, another action, another user, nobody
    expect_error("AccessDenied", 403, alice.s3.put_object, Bucket=shared_bucket, Key="shared/x", Body=b"x")
    expect_error("AccessDenied", 403, alice.s3.put_object, Bucket=shared_bucket, Key="%s/x" % bob.name, Body=b"x")
    expect_error("AccessDenied", 403, alice.s3.delete_object, Bucket=shared_bucket, Key="%s/notes.txt" % alice.name)
    expect_error("AccessDenied", 403, alice.s3.list_objects_v2, Bucket=shared_bucket)
    expect_error("AccessDenied", 403, bob.s3.get_object, Bucket=shared_bucket, Key="%s/notes.txt" % alice.name)
    expect_error("AccessDenied", 403, anonymous(gateway).get_object, Bucket=shared_bucket,
                 Key="%s/notes.txt" % alice.name)
    bob.s3.put_object(Bucket=shared_bucket, Key="%s/b" % bob.name, Body=b"b")

    # the grant removed: refused at once on this gateway
    iam.delete_user_policy(UserName=alice.name, PolicyName="own-prefix")
    expect_error("AccessDenied", 403, alice.s3.get_object, Bucket=shared_bucket, Key="%s/notes.txt" % alice.name)
    # the key disabled, then deleted, with the policy back
    iam.put_user_policy(UserName=alice.name, PolicyName="own-prefix", PolicyDocument=doc)
    assert alice.s3.get_object(Bucket=shared_bucket, Key="%s/notes.txt" % alice.name)["Body"].read() == b"mine"
    iam.update_access_key(UserName=alice.name, AccessKeyId=alice.key, Status="Inactive")
    expect_error("InvalidAccessKeyId", 403, alice.s3.get_object, Bucket=shared_bucket,
                 Key="%s/notes.txt" % alice.name)
    iam.delete_access_key(UserName=alice.name, AccessKeyId=alice.key)
    expect_error("InvalidAccessKeyId", 403, alice.s3.get_object, Bucket=shared_bucket,
                 Key="%s/notes.txt" % alice.name)


def test_explicit_deny_overrides_allow(iam, new_user, s3, shared_bucket):
    u = new_user()
    s3.put_object(Bucket=shared_bucket, Key="public/a", Body=b"a")
    s3.put_object(Bucket=shared_bucket, Key="secret/a", Body=b"s")
    iam.put_user_policy(UserName=u.name, PolicyName="all", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
    assert u.s3.get_object(Bucket=shared_bucket, Key="secret/a")["Body"].read() == b"s"
    iam.put_user_policy(UserName=u.name, PolicyName="no-secrets", PolicyDocument=policy(
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/secret/*" % shared_bucket}))
    expect_error("AccessDenied", 403, u.s3.get_object, Bucket=shared_bucket, Key="secret/a")
    assert u.s3.get_object(Bucket=shared_bucket, Key="public/a")["Body"].read() == b"a"
    iam.delete_user_policy(UserName=u.name, PolicyName="no-secrets")
    assert u.s3.get_object(Bucket=shared_bucket, Key="secret/a")["Body"].read() == b"s"


def test_identity_deny_of_list_all_my_buckets_refuses_list_buckets(iam, new_user):
    u = new_user(buckets=True)
    bucket = uname("mine")
    u.s3.create_bucket(Bucket=bucket)
    try:
        assert bucket in [b["Name"] for b in u.s3.list_buckets()["Buckets"]]
        # s3:ListAllMyBuckets acts on no bucket: its resource is "*", which arn:aws:s3:::* names
        iam.put_user_policy(UserName=u.name, PolicyName="no-listing", PolicyDocument=policy(
            {"Effect": "Deny", "Action": ["s3:ListAllMyBuckets"], "Resource": "arn:aws:s3:::*"}))
        expect_error("AccessDenied", 403, u.s3.list_buckets)
        # a Deny naming only a bucket does not cover it
        iam.put_user_policy(UserName=u.name, PolicyName="no-listing", PolicyDocument=policy(
            {"Effect": "Deny", "Action": ["s3:ListAllMyBuckets"], "Resource": "arn:aws:s3:::%s" % bucket}))
        assert bucket in [b["Name"] for b in u.s3.list_buckets()["Buckets"]]
        iam.delete_user_policy(UserName=u.name, PolicyName="no-listing")
        assert bucket in [b["Name"] for b in u.s3.list_buckets()["Buckets"]]
    finally:
        u.s3.delete_bucket(Bucket=bucket)


def test_identity_allow_or_bucket_policy_allow_and_identity_deny_wins(iam, new_user, s3, shared_bucket):
    u, other = new_user(), new_user()
    s3.put_object(Bucket=shared_bucket, Key="k", Body=b"v")
    expect_error("AccessDenied", 403, u.s3.get_object, Bucket=shared_bucket, Key="k")
    s3.put_bucket_policy(Bucket=shared_bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/%s" % u.name},
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % shared_bucket}]}))
    assert u.s3.get_object(Bucket=shared_bucket, Key="k")["Body"].read() == b"v"  # the bucket policy alone
    expect_error("AccessDenied", 403, other.s3.get_object, Bucket=shared_bucket, Key="k")
    iam.put_user_policy(UserName=u.name, PolicyName="deny", PolicyDocument=policy(
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}))
    expect_error("AccessDenied", 403, u.s3.get_object, Bucket=shared_bucket, Key="k")
    s3.delete_bucket_policy(Bucket=shared_bucket)


def test_identity_deny_binds_the_bucket_owner(iam, new_user):
    u = new_user(buckets=True)
    name = unique_bucket_name("own")
    u.s3.create_bucket(Bucket=name)
    try:
        u.s3.put_object(Bucket=name, Key="k", Body=b"v")
        iam.put_user_policy(UserName=u.name, PolicyName="ro", PolicyDocument=policy(
            {"Effect": "Deny", "Action": ["s3:PutObject", "s3:DeleteObject"], "Resource": "*"}))
        expect_error("AccessDenied", 403, u.s3.put_object, Bucket=name, Key="k2", Body=b"v")
        assert u.s3.get_object(Bucket=name, Key="k")["Body"].read() == b"v"  # the owner's rights stay
        iam.delete_user_policy(UserName=u.name, PolicyName="ro")
        u.s3.delete_object(Bucket=name, Key="k")
    finally:
        empty_and_delete_bucket(u.s3, name)


def test_group_policy_grant_goes_with_membership(iam, new_user, s3, shared_bucket):
    u, outsider = new_user(), new_user()
    g = uname("readers")
    iam.create_group(GroupName=g)
    try:
        iam.put_group_policy(GroupName=g, PolicyName="list", PolicyDocument=policy(
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::%s" % shared_bucket}))
        expect_error("AccessDenied", 403, u.s3.list_objects_v2, Bucket=shared_bucket)
        iam.add_user_to_group(GroupName=g, UserName=u.name)
        assert u.s3.list_objects_v2(Bucket=shared_bucket)["KeyCount"] == 0
        expect_error("AccessDenied", 403, outsider.s3.list_objects_v2, Bucket=shared_bucket)
        expect_error("AccessDenied", 403, u.s3.put_object, Bucket=shared_bucket, Key="x", Body=b"x")
        iam.remove_user_from_group(GroupName=g, UserName=u.name)
        expect_error("AccessDenied", 403, u.s3.list_objects_v2, Bucket=shared_bucket)
        iam.add_user_to_group(GroupName=g, UserName=u.name)
        assert u.s3.list_objects_v2(Bucket=shared_bucket)["KeyCount"] == 0
        iam.delete_group_policy(GroupName=g, PolicyName="list")
        expect_error("AccessDenied", 403, u.s3.list_objects_v2, Bucket=shared_bucket)
        iam.remove_user_from_group(GroupName=g, UserName=u.name)
    finally:
        iam.delete_group(GroupName=g)


# ---------------------------------------------------------------- the AWS CLI

def aws(gateway, tmp_path, *args):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "AWS_ACCESS_KEY_ID": gateway.access_key, "AWS_SECRET_ACCESS_KEY": gateway.secret_key,
           "AWS_DEFAULT_REGION": REGION}
    return subprocess.run(["aws", "--endpoint-url", gateway.endpoint, "--output", "json", "iam"] + list(args),
                          env=env, capture_output=True, text=True, timeout=120)


def test_aws_cli_iam(gateway, iam, tmp_path):
    name, g = uname("cli"), uname("clig")
    out = aws(gateway, tmp_path, "create-user", "--user-name", name)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["User"]["UserName"] == name
    out = aws(gateway, tmp_path, "create-access-key", "--user-name", name)
    assert out.returncode == 0, out.stderr
    key = json.loads(out.stdout)["AccessKey"]["AccessKeyId"]
    doc = policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}/*"})
    out = aws(gateway, tmp_path, "put-user-policy", "--user-name", name, "--policy-name", "p",
              "--policy-document", doc)
    assert out.returncode == 0, out.stderr
    out = aws(gateway, tmp_path, "get-user-policy", "--user-name", name, "--policy-name", "p")
    assert out.returncode == 0 and json.loads(out.stdout)["PolicyDocument"] == json.loads(doc), out.stderr
    out = aws(gateway, tmp_path, "create-group", "--group-name", g)
    assert out.returncode == 0, out.stderr
    out = aws(gateway, tmp_path, "add-user-to-group", "--group-name", g, "--user-name", name)
    assert out.returncode == 0, out.stderr
    out = aws(gateway, tmp_path, "delete-user", "--user-name", name)
    assert out.returncode != 0 and "DeleteConflict" in out.stderr, out.stderr
    out = aws(gateway, tmp_path, "create-role", "--role-name", "r", "--assume-role-policy-document", "{}")
    assert out.returncode != 0 and "NotImplemented" in out.stderr, out.stderr
    iam.remove_user_from_group(GroupName=g, UserName=name)
    iam.delete_group(GroupName=g)
    iam.delete_user_policy(UserName=name, PolicyName="p")
    iam.delete_access_key(UserName=name, AccessKeyId=key)
    out = aws(gateway, tmp_path, "delete-user", "--user-name", name)
    assert out.returncode == 0, out.stderr
    out = aws(gateway, tmp_path, "list-users")
    assert name not in [u["UserName"] for u in json.loads(out.stdout)["Users"]]


# ---------------------------------------------------------------- two gateways

@pytest.fixture(scope="module")
def two_gateways():
    """Three yc-store daemons (EC 4+2 over 6 drives) and two gateways over them."""
    cl = yc.Cluster()
    try:
        cl.start()
        # the second gateway reads users, keys and policies again every second (default 5)
        gw2 = yc.NetGateway(os.path.join(cl.root, "gateway2"), cl.access_key, cl.secret_key, cl.drives_list(),
                            cl.secret, cl.gateway_args + ["--iam-refresh", "1"]).start()
    except yc.ClusterError as e:
        cl.close()
        pytest.fail(str(e), pytrace=False)
    yield cl.gateway, gw2
    gw2.stop()
    cl.close()


def eventually(fn, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except (AssertionError, botocore.exceptions.ClientError, pytest.fail.Exception):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_second_gateway_sees_new_user_key_and_policy(two_gateways):
    gw1, gw2 = two_gateways
    iam1 = make_iam(gw1.endpoint, gw1.access_key, gw1.secret_key)
    iam2 = make_iam(gw2.endpoint, gw2.access_key, gw2.secret_key)
    root2 = gw2.client()
    bucket = unique_bucket_name("two")
    root2.create_bucket(Bucket=bucket)
    root2.put_object(Bucket=bucket, Key="k", Body=b"v")
    name = uname()
    iam1.create_user(UserName=name)
    iam1.put_user_policy(UserName=name, PolicyName="buckets", PolicyDocument=BUCKETS_POLICY)
    key = iam1.create_access_key(UserName=name)["AccessKey"]
    c2 = make_client(gw2.endpoint, key["AccessKeyId"], key["SecretAccessKey"])
    eventually(lambda: iam2.get_user(UserName=name))
    eventually(lambda: c2.list_buckets())
    expect_error("AccessDenied", 403, c2.get_object, Bucket=bucket, Key="k")
    iam1.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket}))
    assert eventually(lambda: c2.get_object(Bucket=bucket, Key="k"))["Body"].read() == b"v"
    iam1.delete_user_policy(UserName=name, PolicyName="read")

    def refused():
        expect_error("AccessDenied", 403, c2.get_object, Bucket=bucket, Key="k")
    eventually(refused)
    iam1.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"], Status="Inactive")

    def disabled():
        expect_error("InvalidAccessKeyId", 403, c2.list_buckets)
    eventually(disabled)
    root2.delete_object(Bucket=bucket, Key="k")
    root2.delete_bucket(Bucket=bucket)


# ---------------------------------------------------------------- yc-admin

def test_yc_admin_groups_and_policies(gateway, iam, new_user, s3, shared_bucket, tmp_path, admin_available):
    u = new_user()
    g = uname("adm")
    doc = tmp_path / "list.json"
    doc.write_text(policy({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::%s" % shared_bucket}))
    gateway.admin("group", "add", g)
    gateway.admin("group", "member", "add", g, u.name)
    gateway.admin("policy", "put", "group", g, "list", str(doc))
    assert "<member>list</member>" in gateway.admin("policy", "list", "group", g).stdout
    assert u.name in gateway.admin("group", "show", g).stdout
    assert u.s3.list_objects_v2(Bucket=shared_bucket)["KeyCount"] == 0
    res = gateway.admin("group", "remove", g, check=False)
    assert res.returncode == 1 and "DeleteConflict" in res.stdout
    gateway.admin("policy", "remove", "group", g, "list")
    expect_error("AccessDenied", 403, u.s3.list_objects_v2, Bucket=shared_bucket)
    gateway.admin("policy", "put", "user", u.name, "list", str(doc))
    assert iam.list_user_policies(UserName=u.name)["PolicyNames"] == ["list"]
    assert u.s3.list_objects_v2(Bucket=shared_bucket)["KeyCount"] == 0
    gateway.admin("user", "disable-key", u.name, u.key)
    expect_error("InvalidAccessKeyId", 403, u.s3.list_objects_v2, Bucket=shared_bucket)
    gateway.admin("user", "enable-key", u.name, u.key)
    assert u.s3.list_objects_v2(Bucket=shared_bucket)["KeyCount"] == 0
    res = gateway.admin("policy", "get", "user", uname("absent"), "list", check=False)
    assert res.returncode == 1 and "NoSuchEntity" in res.stdout
    gateway.admin("group", "member", "remove", g, u.name)
    gateway.admin("group", "remove", g)
    expect_error("NoSuchEntity", 404, iam.get_group, GroupName=g)
