"""IAM users as AWS has them: what a user with no policy may not do (ListBuckets, CreateBucket),
its unique id (UserId, aws:userid), its path, and renaming it with what it holds.

Each test tries the nearest request that must fail beside the one that passes.
"""
import re
import uuid

import botocore
import botocore.config
import botocore.exceptions
import pytest

from conftest import make_client, random_keys, unique_bucket_name, empty_and_delete_bucket
from test_iam import make_iam, uname, policy

USER_ID = re.compile(r"^AIDA[A-Z0-9]{17}$")


def error_of(fn, *args, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(*args, **kw)
    r = ei.value.response
    assert r["ResponseMetadata"]["RequestId"]
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


@pytest.fixture(scope="module")
def iam(gateway):
    return make_iam(gateway.endpoint, gateway.access_key, gateway.secret_key)


class User:
    def __init__(self, name, key, secret, s3):
        self.name, self.key, self.secret, self.s3 = name, key, secret, s3


def remove_user(iam, name):
    """Removes a user and everything that hangs on it (IAM refuses to delete it otherwise)."""
    try:
        for g in iam.list_groups_for_user(UserName=name)["Groups"]:
            iam.remove_user_from_group(GroupName=g["GroupName"], UserName=name)
        for p in iam.list_user_policies(UserName=name)["PolicyNames"]:
            iam.delete_user_policy(UserName=name, PolicyName=p)
        for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
            iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
        iam.delete_user(UserName=name)
    except botocore.exceptions.ClientError:
        pass


@pytest.fixture
def new_user(gateway, iam):
    made = []

    def make(prefix="u", **create):
        name = uname(prefix)
        iam.create_user(UserName=name, **create)
        k = iam.create_access_key(UserName=name)["AccessKey"]
        u = User(name, k["AccessKeyId"], k["SecretAccessKey"],
                 make_client(gateway.endpoint, k["AccessKeyId"], k["SecretAccessKey"]))
        made.append(u)
        return u

    yield make
    for u in made:
        remove_user(iam, u.name)


def bucket_exists(s3, name):
    try:
        s3.head_bucket(Bucket=name)
        return True
    except botocore.exceptions.ClientError as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        return False


# ---------------------------------------------------------------- ListBuckets and CreateBucket need a policy

def test_user_without_policy_may_neither_list_nor_create_buckets(s3, new_user):
    u = new_user()
    assert error_of(u.s3.list_buckets) == (403, "AccessDenied")
    name = unique_bucket_name("nopol")
    assert error_of(u.s3.create_bucket, Bucket=name) == (403, "AccessDenied")
    assert not bucket_exists(s3, name)
    # root keeps both
    assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_list_all_my_buckets_allows_listing_only(s3, iam, new_user):
    u = new_user()
    iam.put_user_policy(UserName=u.name, PolicyName="list", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}))
    assert u.s3.list_buckets()["Buckets"] == []
    name = unique_bucket_name("listonly")
    assert error_of(u.s3.create_bucket, Bucket=name) == (403, "AccessDenied")
    assert not bucket_exists(s3, name)
    # a bucket policy cannot grant it: there is no bucket yet, and ListBuckets names none
    iam.delete_user_policy(UserName=u.name, PolicyName="list")
    assert error_of(u.s3.list_buckets) == (403, "AccessDenied")


def test_create_bucket_allowed_on_a_name_pattern_only(s3, iam, new_user):
    u = new_user()
    iam.put_user_policy(UserName=u.name, PolicyName="team", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:CreateBucket", "Resource": "arn:aws:s3:::team-*"},
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}))
    tag = uuid.uuid4().hex[:10]
    team, other = "team-" + tag, "other-" + tag
    try:
        u.s3.create_bucket(Bucket=team)
        assert error_of(u.s3.create_bucket, Bucket=other) == (403, "AccessDenied")
        assert not bucket_exists(s3, other)
        # the maker owns it: it lists it and writes into it without any other grant
        assert [b["Name"] for b in u.s3.list_buckets()["Buckets"]] == [team]
        u.s3.put_object(Bucket=team, Key="k", Body=b"v")
        # an Object Lock bucket needs the two actions its creation performs as well
        assert error_of(u.s3.create_bucket, Bucket="team-lock-" + tag, ObjectLockEnabledForBucket=True) == \
            (403, "AccessDenied")
        assert not bucket_exists(s3, "team-lock-" + tag)
        # an explicit Deny wins over the Allow
        iam.put_user_policy(UserName=u.name, PolicyName="no", PolicyDocument=policy(
            {"Effect": "Deny", "Action": "s3:CreateBucket", "Resource": "arn:aws:s3:::team-x*"}))
        assert error_of(u.s3.create_bucket, Bucket="team-x" + tag) == (403, "AccessDenied")
    finally:
        empty_and_delete_bucket(s3, team)


def test_create_bucket_through_a_group_policy(s3, iam, new_user):
    u = new_user()
    g = uname("makers")
    iam.create_group(GroupName=g)
    iam.put_group_policy(GroupName=g, PolicyName="make", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:CreateBucket", "Resource": "arn:aws:s3:::*"}))
    name = unique_bucket_name("grp")
    try:
        assert error_of(u.s3.create_bucket, Bucket=name) == (403, "AccessDenied")
        iam.add_user_to_group(GroupName=g, UserName=u.name)
        u.s3.create_bucket(Bucket=name)
        assert bucket_exists(s3, name)
    finally:
        iam.remove_user_from_group(GroupName=g, UserName=u.name)
        iam.delete_group_policy(GroupName=g, PolicyName="make")
        iam.delete_group(GroupName=g)
        if bucket_exists(s3, name):
            empty_and_delete_bucket(s3, name)


def test_yc_admin_user_add_create_buckets(gateway, s3, iam, admin_available):
    ak, sk = random_keys()
    plain = "plain-" + ak[-6:].lower()
    gateway.admin("user", "add", plain, ak, sk)
    c = make_client(gateway.endpoint, ak, sk)
    assert error_of(c.list_buckets) == (403, "AccessDenied")
    ak2, sk2 = random_keys()
    maker = "maker-" + ak2[-6:].lower()
    gateway.admin("user", "add", maker, ak2, sk2, "--create-buckets")
    assert iam.list_user_policies(UserName=maker)["PolicyNames"] == ["yc-create-buckets"]
    res = gateway.admin("user", "list", "--create-buckets", check=False)
    assert res.returncode == 2 and "goes with user add" in res.stderr
    c2 = make_client(gateway.endpoint, ak2, sk2)
    name = unique_bucket_name("maker")
    c2.create_bucket(Bucket=name)
    try:
        assert [b["Name"] for b in c2.list_buckets()["Buckets"]] == [name]
    finally:
        empty_and_delete_bucket(c2, name)
        iam.delete_user_policy(UserName=maker, PolicyName="yc-create-buckets")
        gateway.admin("user", "remove", ak2)
        gateway.admin("user", "remove", ak)


# ---------------------------------------------------------------- unique ids (UserId, aws:userid)

def test_user_id_is_unique_kept_and_not_reused(gateway_factory):
    gw = gateway_factory()
    iam = make_iam(gw.endpoint, gw.access_key, gw.secret_key)
    name = uname("id")
    made = iam.create_user(UserName=name)["User"]
    assert USER_ID.match(made["UserId"]), made
    assert iam.get_user(UserName=name)["User"]["UserId"] == made["UserId"]
    assert [u["UserId"] for u in iam.list_users()["Users"] if u["UserName"] == name] == [made["UserId"]]
    other = iam.create_user(UserName=uname("id"))["User"]
    assert other["UserId"] != made["UserId"]
    # a user made by yc-admin gets one too
    ak, sk = random_keys()
    legacy = uname("adm")
    gw.admin("user", "add", legacy, ak, sk)
    legacy_id = iam.get_user(UserName=legacy)["User"]["UserId"]
    assert USER_ID.match(legacy_id)
    gw.restart()
    iam = make_iam(gw.endpoint, gw.access_key, gw.secret_key)
    assert iam.get_user(UserName=name)["User"]["UserId"] == made["UserId"]
    assert iam.get_user(UserName=legacy)["User"]["UserId"] == legacy_id
    # deleted and made again under the same name: another user, another id
    iam.delete_user(UserName=name)
    again = iam.create_user(UserName=name)["User"]
    assert USER_ID.match(again["UserId"]) and again["UserId"] != made["UserId"]
    # the user of yc-admin's key stays while its key goes, and keeps its id
    gw.admin("user", "remove", ak)
    assert iam.get_user(UserName=legacy)["User"]["UserId"] == legacy_id


def test_condition_on_aws_userid(s3, iam, new_user, bucket):
    u, other = new_user(), new_user()
    uid = iam.get_user(UserName=u.name)["User"]["UserId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket,
         "Condition": {"StringEquals": {"aws:userid": uid}}}))
    try:
        assert u.s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
        assert error_of(other.s3.get_object, Bucket=bucket, Key="k") == (403, "AccessDenied")
        # the name is not the id
        s3.put_bucket_policy(Bucket=bucket, Policy=policy(
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
             "Resource": "arn:aws:s3:::%s/*" % bucket, "Condition": {"StringEquals": {"aws:userid": u.name}}}))
        assert error_of(u.s3.get_object, Bucket=bucket, Key="k") == (403, "AccessDenied")
        # in an identity policy too, with the ${aws:userid} variable
        s3.delete_bucket_policy(Bucket=bucket)
        iam.put_user_policy(UserName=u.name, PolicyName="own-id", PolicyDocument=policy(
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::%s/${aws:userid}/*" % bucket}))
        u.s3.put_object(Bucket=bucket, Key="%s/x" % uid, Body=b"x")
        assert error_of(u.s3.put_object, Bucket=bucket, Key="%s/x" % u.name, Body=b"x") == (403, "AccessDenied")
    finally:
        s3.delete_bucket_policy(Bucket=bucket)


# ---------------------------------------------------------------- paths and renames

def test_path_in_arn_and_list_users_path_prefix(iam):
    team, name = "/%s/ops/" % uname("t"), uname("p")
    u = iam.create_user(UserName=name, Path=team)["User"]
    try:
        assert u["Arn"] == "arn:aws:iam::000000000000:user%s%s" % (team, name) and u["Path"] == team
        assert [x["UserName"] for x in iam.list_users(PathPrefix=team[:-4])["Users"]] == [name]
        assert iam.list_users(PathPrefix=team + "x/")["Users"] == []
        assert error_of(iam.create_user, UserName=name.upper()) == (409, "EntityAlreadyExists")
    finally:
        iam.delete_user(UserName=name)


def test_rename_carries_keys_policies_groups_and_quota(gateway, s3, iam, new_user, bucket, admin_available):
    u = new_user()
    g = uname("g")
    iam.create_group(GroupName=g)
    iam.add_user_to_group(GroupName=g, UserName=u.name)
    iam.put_group_policy(GroupName=g, PolicyName="read", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket}))
    iam.put_user_policy(UserName=u.name, PolicyName="list", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}))
    gateway.admin("quota", "set", "user", u.name, "1M")
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    before = iam.get_user(UserName=u.name)["User"]
    new = uname("renamed")
    try:
        iam.update_user(UserName=u.name, NewUserName=new)
        old, u.name = u.name, new
        got = iam.get_user(UserName=new)["User"]
        assert (got["UserId"], got["CreateDate"]) == (before["UserId"], before["CreateDate"])
        assert error_of(iam.get_user, UserName=old) == (404, "NoSuchEntity")
        # the same key signs as the new name, with the policies of the user and of its group
        assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName=new)["AccessKeyMetadata"]] == [u.key]
        assert iam.list_user_policies(UserName=new)["PolicyNames"] == ["list"]
        assert [x["GroupName"] for x in iam.list_groups_for_user(UserName=new)["Groups"]] == [g]
        assert u.s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert u.s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"
        assert "quota 1048576 bytes" in gateway.admin("quota", "get", "user", new).stdout
        assert "quota 1048576" not in gateway.admin("quota", "get", "user", old).stdout
        # nothing is left under the old name: a user made with it is a new, empty one
        iam.create_user(UserName=old)
        try:
            assert iam.get_user(UserName=old)["User"]["UserId"] != before["UserId"]
            assert iam.list_user_policies(UserName=old)["PolicyNames"] == []
            assert iam.list_access_keys(UserName=old)["AccessKeyMetadata"] == []
            assert iam.list_groups_for_user(UserName=old)["Groups"] == []
        finally:
            iam.delete_user(UserName=old)
    finally:
        gateway.admin("quota", "clear", "user", u.name)
        iam.remove_user_from_group(GroupName=g, UserName=u.name)
        iam.delete_group_policy(GroupName=g, PolicyName="read")
        iam.delete_group(GroupName=g)


def test_rename_of_a_bucket_owner_is_refused_whole(s3, iam, new_user):
    u = new_user()
    iam.put_user_policy(UserName=u.name, PolicyName="make", PolicyDocument=policy(
        {"Effect": "Allow", "Action": "s3:CreateBucket", "Resource": "arn:aws:s3:::*"}))
    name = unique_bucket_name("owned")
    u.s3.create_bucket(Bucket=name)
    try:
        with pytest.raises(botocore.exceptions.ClientError) as ei:
            iam.update_user(UserName=u.name, NewUserName=uname("r"))
        r = ei.value.response
        assert (r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]) == (501, "NotImplemented")
        assert "owns buckets" in r["Error"]["Message"]
        assert iam.get_user(UserName=u.name)["User"]["UserName"] == u.name
        u.s3.put_object(Bucket=name, Key="k", Body=b"v")  # still the owner
        # a move is no rename: it is done
        iam.update_user(UserName=u.name, NewPath="/moved/")
        assert iam.get_user(UserName=u.name)["User"]["Path"] == "/moved/"
    finally:
        empty_and_delete_bucket(s3, name)
