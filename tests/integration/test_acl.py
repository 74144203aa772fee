"""Canonical ids, ACLs and Object Ownership with real clients: boto3 for the calls and their errors,
the AWS CLI (s3api get-bucket-acl, put-object-acl), and an unsigned client for anonymous reads.

The grant tests try to get in: for each kind of grant, a request that passes and the nearest one
that must not (another user, another permission, anonymous, the grant removed, a Deny over the
grant, ownership or the public-access block switching ACLs off).
"""
import hashlib
import json
import os
import re
import subprocess

import botocore
import botocore.exceptions
import pytest

from conftest import make_client, random_keys, unique_bucket_name, empty_and_delete_bucket

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY = "http://acs.amazonaws.com/groups/s3/LogDelivery"
OPEN_PAB = {"BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False}


def error_of(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


def expect_error(code, status, fn, *args, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(*args, **kw)
    assert error_of(ei) == (code, status), ei.value.response
    assert ei.value.response["ResponseMetadata"]["RequestId"]
    return ei.value.response


class User:
    def __init__(self, name, client):
        self.name = name
        self.client = client
        self.id = None  # learnt from ListBuckets


@pytest.fixture(scope="module")
def users(gateway):
    """Two non-root users, bob and carol, each with a client and its canonical id."""
    made = []
    for role in ("bob", "carol"):
        ak, sk = random_keys()
        name = "%s-%s" % (role, ak[-6:].lower())
        gateway.admin("user", "add", name, ak, sk, "--create-buckets")
        u = User(name, make_client(gateway.endpoint, ak, sk))
        u.id = u.client.list_buckets()["Owner"]["ID"]
        made.append(u)
    return made


@pytest.fixture(scope="module")
def anon(gateway):
    return make_client(gateway.endpoint, "x", "x", signature_version=botocore.UNSIGNED)


@pytest.fixture(scope="module")
def root_id(s3):
    return s3.list_buckets()["Owner"]["ID"]


@pytest.fixture
def acl_bucket(s3):
    """A bucket with ACLs enabled (ObjectWriter) and no public-access block."""
    name = unique_bucket_name("yc-acl")
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=OPEN_PAB)
    yield name
    empty_and_delete_bucket(s3, name)


def grants_of(acl):
    """The grants as a set of (kind, who, permission)."""
    out = set()
    for g in acl["Grants"]:
        who = g["Grantee"]
        if who["Type"] == "CanonicalUser":
            out.add(("id", who["ID"], g["Permission"]))
        else:
            out.add(("uri", who["URI"], g["Permission"]))
    return out


# ---------------------------------------------------------------- canonical ids and owners

def test_canonical_ids_are_64_hex_stable_and_per_user(s3, users, root_id):
    bob, carol = users
    for i in (root_id, bob.id, carol.id):
        assert re.fullmatch(r"[0-9a-f]{64}", i), i
    assert len({root_id, bob.id, carol.id}) == 3
    assert s3.list_buckets()["Owner"]["ID"] == root_id  # the same on every call
    owner = bob.client.list_buckets()["Owner"]
    assert owner == {"ID": bob.id, "DisplayName": bob.name}


def test_owner_in_listings_uploads_and_parts(s3, bucket, root_id):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    v2 = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)
    assert v2["Contents"][0]["Owner"]["ID"] == root_id
    assert "Owner" not in s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert s3.list_objects(Bucket=bucket)["Contents"][0]["Owner"]["ID"] == root_id
    assert s3.list_object_versions(Bucket=bucket)["Versions"][0]["Owner"]["ID"] == root_id
    up = s3.create_multipart_upload(Bucket=bucket, Key="m")["UploadId"]
    u = s3.list_multipart_uploads(Bucket=bucket)["Uploads"][0]
    assert u["Initiator"]["ID"] == root_id and u["Owner"]["ID"] == root_id
    parts = s3.list_parts(Bucket=bucket, Key="m", UploadId=up)
    assert parts["Initiator"]["ID"] == root_id and parts["Owner"]["ID"] == root_id
    s3.abort_multipart_upload(Bucket=bucket, Key="m", UploadId=up)


def test_policy_canonical_user_principal_matches(s3, bucket, users):
    bob, carol = users
    s3.put_object(Bucket=bucket, Key="k", Body=b"secret")
    expect_error("AccessDenied", 403, bob.client.get_object, Bucket=bucket, Key="k")
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"CanonicalUser": bob.id}, "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::%s/*" % bucket}]}))
    assert bob.client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"secret"
    expect_error("AccessDenied", 403, carol.client.get_object, Bucket=bucket, Key="k")


# ---------------------------------------------------------------- ownership: ACLs disabled by default

def test_enforced_bucket_refuses_acls_but_takes_the_owner_ones(s3, bucket, root_id):
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert acl["Owner"]["ID"] == root_id
    assert grants_of(acl) == {("id", root_id, "FULL_CONTROL")}
    expect_error("AccessControlListNotSupported", 400, s3.put_bucket_acl, Bucket=bucket, ACL="public-read")
    expect_error("AccessControlListNotSupported", 400, s3.put_object, Bucket=bucket, Key="k", Body=b"x",
                 ACL="public-read")
    expect_error("AccessControlListNotSupported", 400, s3.put_object, Bucket=bucket, Key="k", Body=b"x",
                 GrantRead='uri="%s"' % ALL_USERS)
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=bucket, Key="k")  # nothing was stored
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="private")
    expect_error("AccessControlListNotSupported", 400, s3.put_object_acl, Bucket=bucket, Key="k",
                 ACL="public-read")
    s3.put_object_acl(Bucket=bucket, Key="k", ACL="bucket-owner-full-control")
    assert grants_of(s3.get_object_acl(Bucket=bucket, Key="k")) == {("id", root_id, "FULL_CONTROL")}


def test_ownership_settings_are_accepted_and_read_back(s3, bucket):
    for setting in ("ObjectWriter", "BucketOwnerPreferred", "BucketOwnerEnforced"):
        s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": setting}]})
        rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        assert rules == [{"ObjectOwnership": setting}]


def test_create_bucket_with_acls(s3, users):
    bob = users[0]
    name = unique_bucket_name("yc-acl")
    expect_error("InvalidBucketAclWithObjectOwnership", 400, s3.create_bucket, Bucket=name, ACL="public-read")
    expect_error("InvalidArgument", 400, s3.create_bucket, Bucket=name, ObjectOwnership="ObjectWriter",
                 GrantRead='id="not-an-id"')
    # a new bucket's public-access block is on: a public ACL is blocked
    expect_error("AccessDenied", 403, s3.create_bucket, Bucket=name, ObjectOwnership="ObjectWriter",
                 ACL="public-read")
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_bucket(Bucket=name)
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter", GrantRead='id="%s"' % bob.id)
    try:
        rules = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
        assert rules == [{"ObjectOwnership": "ObjectWriter"}]
        assert ("id", bob.id, "READ") in grants_of(s3.get_bucket_acl(Bucket=name))
        bob.client.list_objects_v2(Bucket=name)
        expect_error("AccessDenied", 403, users[1].client.list_objects_v2, Bucket=name)
    finally:
        empty_and_delete_bucket(s3, name)


# ---------------------------------------------------------------- canned ACLs read back

@pytest.mark.parametrize("canned", ["private", "public-read", "public-read-write", "authenticated-read",
                                    "bucket-owner-read", "bucket-owner-full-control"])
def test_each_canned_object_acl_reads_back(s3, acl_bucket, users, root_id, canned):
    bob = users[0]
    s3.put_bucket_acl(Bucket=acl_bucket, GrantWrite='id="%s"' % bob.id)
    # written by bob, so that the bucket-owner-* ACLs name someone else
    bob.client.put_object(Bucket=acl_bucket, Key="k", Body=b"x", ACL=canned)
    acl = s3.get_object_acl(Bucket=acl_bucket, Key="k")
    assert acl["Owner"]["ID"] == bob.id
    expected = {("id", bob.id, "FULL_CONTROL")}
    expected |= {
        "private": set(),
        "public-read": {("uri", ALL_USERS, "READ")},
        "public-read-write": {("uri", ALL_USERS, "READ"), ("uri", ALL_USERS, "WRITE")},
        "authenticated-read": {("uri", AUTH_USERS, "READ")},
        "bucket-owner-read": {("id", root_id, "READ")},
        "bucket-owner-full-control": {("id", root_id, "FULL_CONTROL")},
    }[canned]
    assert grants_of(acl) == expected


@pytest.mark.parametrize("canned", ["private", "public-read", "public-read-write", "authenticated-read",
                                    "log-delivery-write"])
def test_each_canned_bucket_acl_reads_back(s3, acl_bucket, root_id, canned):
    s3.put_bucket_acl(Bucket=acl_bucket, ACL=canned)
    acl = s3.get_bucket_acl(Bucket=acl_bucket)
    assert acl["Owner"]["ID"] == root_id
    expected = {("id", root_id, "FULL_CONTROL")} | {
        "private": set(),
        "public-read": {("uri", ALL_USERS, "READ")},
        "public-read-write": {("uri", ALL_USERS, "READ"), ("uri", ALL_USERS, "WRITE")},
        "authenticated-read": {("uri", AUTH_USERS, "READ")},
        "log-delivery-write": {("uri", LOG_DELIVERY, "WRITE"), ("uri", LOG_DELIVERY, "READ_ACP")},
    }[canned]
    assert grants_of(acl) == expected


# ---------------------------------------------------------------- errors

def test_acl_errors_as_s3_answers_them(s3, acl_bucket, users):
    bob = users[0]
    s3.put_object(Bucket=acl_bucket, Key="k", Body=b"x")
    r = expect_error("InvalidArgument", 400, s3.put_object_acl, Bucket=acl_bucket, Key="k", ACL="public-read",
                     GrantRead='id="%s"' % bob.id)
    assert "both" in r["Error"]["Message"].lower()
    expect_error("InvalidArgument", 400, s3.put_object_acl, Bucket=acl_bucket, Key="k", ACL="everyone-please")
    expect_error("InvalidArgument", 400, s3.put_object_acl, Bucket=acl_bucket, Key="k", GrantRead='id="abc"')
    expect_error("InvalidArgument", 400, s3.put_object_acl, Bucket=acl_bucket, Key="k",
                 GrantRead='id="%s"' % ("0" * 64))  # well-formed, but nobody's
    expect_error("InvalidArgument", 400, s3.put_object_acl, Bucket=acl_bucket, Key="k",
                 GrantRead='uri="http://example.com/everyone"')
    expect_error("UnresolvableGrantByEmailAddress", 400, s3.put_object_acl, Bucket=acl_bucket, Key="k",
                 GrantRead='emailAddress="bob@example.com"')
    expect_error("InvalidArgument", 400, s3.put_bucket_acl, Bucket=acl_bucket, ACL="everyone-please")
    expect_error("NoSuchKey", 404, s3.get_object_acl, Bucket=acl_bucket, Key="missing")
    expect_error("NoSuchKey", 404, s3.put_object_acl, Bucket=acl_bucket, Key="missing", ACL="private")


def test_access_control_policy_document(s3, acl_bucket, users, root_id):
    bob, carol = users
    s3.put_object(Bucket=acl_bucket, Key="k", Body=b"doc")
    policy = {"Owner": {"ID": root_id},
              "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": root_id}, "Permission": "FULL_CONTROL"},
                         {"Grantee": {"Type": "CanonicalUser", "ID": bob.id}, "Permission": "READ"}]}
    s3.put_object_acl(Bucket=acl_bucket, Key="k", AccessControlPolicy=policy)
    acl = s3.get_object_acl(Bucket=acl_bucket, Key="k")
    assert grants_of(acl) == {("id", root_id, "FULL_CONTROL"), ("id", bob.id, "READ")}
    names = {g["Grantee"].get("DisplayName") for g in acl["Grants"]}
    assert bob.name in names
    assert bob.client.get_object(Bucket=acl_bucket, Key="k")["Body"].read() == b"doc"
    expect_error("AccessDenied", 403, carol.client.get_object, Bucket=acl_bucket, Key="k")
    # READ is not READ_ACP
    expect_error("AccessDenied", 403, bob.client.get_object_acl, Bucket=acl_bucket, Key="k")
    # email grantee, another owner, a bad permission
    bad = dict(policy, Grants=[{"Grantee": {"Type": "AmazonCustomerByEmail", "EmailAddress": "a@b.c"},
                                "Permission": "READ"}])
    expect_error("UnresolvableGrantByEmailAddress", 400, s3.put_object_acl, Bucket=acl_bucket, Key="k",
                 AccessControlPolicy=bad)
    expect_error("AccessDenied", 403, s3.put_object_acl, Bucket=acl_bucket, Key="k",
                 AccessControlPolicy=dict(policy, Owner={"ID": bob.id}))


def test_malformed_acl_document(gateway, s3, acl_bucket):
    import yc_raw
    for body in (b"<AccessControlPolicy><Owner></Owner></AccessControlPolicy>",
                 b"<AccessControlPolicy><Owner><ID>zz</ID></Owner></AccessControlPolicy>",
                 b"not xml at all",
                 b"<AccessControlPolicy><Owner><ID>%s</ID></Owner><AccessControlList><Grant><Grantee><ID>%s</ID>"
                 b"</Grantee><Permission>EVERYTHING</Permission></Grant></AccessControlList></AccessControlPolicy>"
                 % (b"a" * 64, b"a" * 64)):
        r = yc_raw.request(gateway, "PUT", "/%s?acl" % acl_bucket, body=body)
        assert r.status == 400 and r.error()["Code"] == "MalformedACLError", (body, r.status)


# ---------------------------------------------------------------- grants in authorization

def test_bucket_grants_let_a_second_user_in_and_out(s3, acl_bucket, users, root_id):
    bob, carol = users
    s3.put_object(Bucket=acl_bucket, Key="k", Body=b"x")
    expect_error("AccessDenied", 403, bob.client.list_objects_v2, Bucket=acl_bucket)
    expect_error("AccessDenied", 403, bob.client.put_object, Bucket=acl_bucket, Key="b", Body=b"b")
    s3.put_bucket_acl(Bucket=acl_bucket, GrantRead='id="%s"' % bob.id, GrantFullControl='id="%s"' % root_id)
    assert [o["Key"] for o in bob.client.list_objects_v2(Bucket=acl_bucket)["Contents"]] == ["k"]
    expect_error("AccessDenied", 403, bob.client.put_object, Bucket=acl_bucket, Key="b", Body=b"b")  # READ only
    expect_error("AccessDenied", 403, carol.client.list_objects_v2, Bucket=acl_bucket)  # another user
    expect_error("AccessDenied", 403, bob.client.get_bucket_acl, Bucket=acl_bucket)  # not READ_ACP
    expect_error("AccessDenied", 403, bob.client.get_object, Bucket=acl_bucket, Key="k")  # the object's ACL
    s3.put_bucket_acl(Bucket=acl_bucket, GrantWrite='id="%s"' % bob.id, GrantReadACP='id="%s"' % bob.id)
    bob.client.put_object(Bucket=acl_bucket, Key="b", Body=b"b")
    assert bob.client.get_bucket_acl(Bucket=acl_bucket)["Owner"]["ID"] == root_id
    expect_error("AccessDenied", 403, bob.client.put_bucket_acl, Bucket=acl_bucket, ACL="private")  # no WRITE_ACP
    # ObjectWriter: bob owns what he wrote, and may read it and its ACL
    acl = bob.client.get_object_acl(Bucket=acl_bucket, Key="b")
    assert acl["Owner"]["ID"] == bob.id
    assert bob.client.get_object(Bucket=acl_bucket, Key="b")["Body"].read() == b"b"
    # the grant removed
    s3.put_bucket_acl(Bucket=acl_bucket, ACL="private")
    expect_error("AccessDenied", 403, bob.client.put_object, Bucket=acl_bucket, Key="c", Body=b"c")
    expect_error("AccessDenied", 403, bob.client.list_objects_v2, Bucket=acl_bucket)


def test_bucket_owner_preferred_takes_objects_with_full_control(s3, acl_bucket, users, root_id):
    bob = users[0]
    s3.put_bucket_ownership_controls(Bucket=acl_bucket,
                                     OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    s3.put_bucket_acl(Bucket=acl_bucket, GrantWrite='id="%s"' % bob.id)
    bob.client.put_object(Bucket=acl_bucket, Key="mine", Body=b"1")
    bob.client.put_object(Bucket=acl_bucket, Key="theirs", Body=b"2", ACL="bucket-owner-full-control")
    assert bob.client.get_object_acl(Bucket=acl_bucket, Key="mine")["Owner"]["ID"] == bob.id
    assert s3.get_object_acl(Bucket=acl_bucket, Key="theirs")["Owner"]["ID"] == root_id
    expect_error("AccessDenied", 403, bob.client.get_object, Bucket=acl_bucket, Key="theirs")


def test_missing_key_is_404_only_for_who_may_list_the_bucket(s3, acl_bucket, anon, users):
    """A GET or HEAD of a key with no object: S3 answers 404 NoSuchKey to a caller who may list the
    bucket, 403 AccessDenied to one who may not (so that the key's absence is not learnt without
    listing rights)."""
    expect_error("AccessDenied", 403, anon.get_object, Bucket=acl_bucket, Key="nothing")
    expect_error("AccessDenied", 403, users[0].client.get_object, Bucket=acl_bucket, Key="nothing")
    s3.put_bucket_acl(Bucket=acl_bucket, ACL="public-read")
    expect_error("NoSuchKey", 404, anon.get_object, Bucket=acl_bucket, Key="nothing")
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        anon.head_object(Bucket=acl_bucket, Key="nothing")
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # an object that is there but not readable stays 403
    s3.put_object(Bucket=acl_bucket, Key="private", Body=b"p")
    expect_error("AccessDenied", 403, anon.get_object, Bucket=acl_bucket, Key="private")
    # an explicit Deny of s3:GetObject stays 403 whatever the listing rights
    s3.put_bucket_policy(Bucket=acl_bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % acl_bucket}]}))
    expect_error("AccessDenied", 403, anon.get_object, Bucket=acl_bucket, Key="nothing")
    s3.delete_bucket_policy(Bucket=acl_bucket)


def test_deny_in_the_policy_beats_an_acl_grant(s3, acl_bucket, users):
    bob = users[0]
    s3.put_object(Bucket=acl_bucket, Key="k", Body=b"x", GrantRead='id="%s"' % bob.id)
    assert bob.client.get_object(Bucket=acl_bucket, Key="k")["Body"].read() == b"x"
    s3.put_bucket_policy(Bucket=acl_bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::000000000000:user/%s" % bob.name},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % acl_bucket}]}))
    expect_error("AccessDenied", 403, bob.client.get_object, Bucket=acl_bucket, Key="k")


def test_public_read_object_follows_ownership_and_public_access_block(s3, users, anon):
    name = unique_bucket_name("yc-acl")
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    try:
        s3.put_object(Bucket=name, Key="notice", Body=b"hello")
        # the new bucket's public-access block refuses a public ACL
        expect_error("AccessDenied", 403, s3.put_object_acl, Bucket=name, Key="notice", ACL="public-read")
        expect_error("AccessDenied", 403, s3.put_object, Bucket=name, Key="other", Body=b"x", ACL="public-read")
        expect_error("AccessDenied", 403, anon.get_object, Bucket=name, Key="notice")
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=OPEN_PAB)
        s3.put_object_acl(Bucket=name, Key="notice", ACL="public-read")
        assert anon.get_object(Bucket=name, Key="notice")["Body"].read() == b"hello"
        expect_error("AccessDenied", 403, anon.put_object, Bucket=name, Key="x", Body=b"x")  # READ only
        expect_error("AccessDenied", 403, anon.list_objects_v2, Bucket=name)  # the object's, not the bucket's
        # IgnorePublicAcls: the grant stays but counts for nothing
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=dict(OPEN_PAB, IgnorePublicAcls=True))
        expect_error("AccessDenied", 403, anon.get_object, Bucket=name, Key="notice")
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=OPEN_PAB)
        assert anon.get_object(Bucket=name, Key="notice")["Body"].read() == b"hello"
        # BucketOwnerEnforced switches ACLs off
        s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls={
            "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
        expect_error("AccessDenied", 403, anon.get_object, Bucket=name, Key="notice")
    finally:
        empty_and_delete_bucket(s3, name)


def test_authenticated_read_needs_a_signed_caller(s3, acl_bucket, users, anon):
    carol = users[1]
    s3.put_object(Bucket=acl_bucket, Key="k", Body=b"x", ACL="authenticated-read")
    assert carol.client.get_object(Bucket=acl_bucket, Key="k")["Body"].read() == b"x"
    expect_error("AccessDenied", 403, anon.get_object, Bucket=acl_bucket, Key="k")


def test_public_read_write_bucket_lets_anyone_write(s3, acl_bucket, anon):
    expect_error("AccessDenied", 403, anon.put_object, Bucket=acl_bucket, Key="a", Body=b"a")
    s3.put_bucket_acl(Bucket=acl_bucket, ACL="public-read-write")
    anon.put_object(Bucket=acl_bucket, Key="a", Body=b"a")
    assert [o["Key"] for o in anon.list_objects_v2(Bucket=acl_bucket)["Contents"]] == ["a"]


# ---------------------------------------------------------------- versions, copies, multipart

def test_object_acl_per_version(s3, acl_bucket, users):
    bob = users[0]
    s3.put_bucket_versioning(Bucket=acl_bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=acl_bucket, Key="k", Body=b"1")["VersionId"]
    v2 = s3.put_object(Bucket=acl_bucket, Key="k", Body=b"2")["VersionId"]
    r = s3.put_object_acl(Bucket=acl_bucket, Key="k", VersionId=v1, GrantRead='id="%s"' % bob.id)
    assert r["ResponseMetadata"]["HTTPHeaders"].get("x-amz-version-id") == v1
    assert ("id", bob.id, "READ") in grants_of(s3.get_object_acl(Bucket=acl_bucket, Key="k", VersionId=v1))
    assert ("id", bob.id, "READ") not in grants_of(s3.get_object_acl(Bucket=acl_bucket, Key="k", VersionId=v2))
    assert bob.client.get_object(Bucket=acl_bucket, Key="k", VersionId=v1)["Body"].read() == b"1"
    expect_error("AccessDenied", 403, bob.client.get_object, Bucket=acl_bucket, Key="k")  # the newest: v2
    expect_error("NoSuchVersion", 404, s3.get_object_acl, Bucket=acl_bucket, Key="k",
                 VersionId="0" * 31 + "1")


def test_copy_and_multipart_take_their_acl(s3, acl_bucket, anon):
    s3.put_object(Bucket=acl_bucket, Key="src", Body=b"src")
    s3.copy_object(Bucket=acl_bucket, Key="copy", CopySource={"Bucket": acl_bucket, "Key": "src"},
                   ACL="public-read")
    assert anon.get_object(Bucket=acl_bucket, Key="copy")["Body"].read() == b"src"
    expect_error("AccessDenied", 403, anon.get_object, Bucket=acl_bucket, Key="src")
    up = s3.create_multipart_upload(Bucket=acl_bucket, Key="mp", ACL="public-read")["UploadId"]
    etag = s3.upload_part(Bucket=acl_bucket, Key="mp", UploadId=up, PartNumber=1, Body=b"part")["ETag"]
    s3.complete_multipart_upload(Bucket=acl_bucket, Key="mp", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})
    assert ("uri", ALL_USERS, "READ") in grants_of(s3.get_object_acl(Bucket=acl_bucket, Key="mp"))
    assert anon.get_object(Bucket=acl_bucket, Key="mp")["Body"].read() == b"part"


# ---------------------------------------------------------------- the AWS CLI

def aws(gateway, tmp_path, *args):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "AWS_ACCESS_KEY_ID": gateway.access_key, "AWS_SECRET_ACCESS_KEY": gateway.secret_key,
           "AWS_DEFAULT_REGION": "us-east-1"}
    return subprocess.run(["aws", "--endpoint-url", gateway.endpoint, "--output", "json"] + list(args), env=env,
                          capture_output=True, text=True, timeout=120)


def test_aws_cli_get_bucket_acl_and_put_object_acl(gateway, s3, acl_bucket, root_id, anon, tmp_path):
    out = aws(gateway, tmp_path, "s3api", "get-bucket-acl", "--bucket", acl_bucket)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["Owner"]["ID"] == root_id
    assert doc["Grants"] == [{"Grantee": {"DisplayName": "root", "ID": root_id, "Type": "CanonicalUser"},
                              "Permission": "FULL_CONTROL"}]
    s3.put_object(Bucket=acl_bucket, Key="cli", Body=b"cli")
    out = aws(gateway, tmp_path, "s3api", "put-object-acl", "--bucket", acl_bucket, "--key", "cli",
              "--acl", "public-read")
    assert out.returncode == 0, out.stderr
    assert anon.get_object(Bucket=acl_bucket, Key="cli")["Body"].read() == b"cli"
    out = aws(gateway, tmp_path, "s3api", "put-object-acl", "--bucket", acl_bucket, "--key", "cli",
              "--grant-read", 'emailAddress="someone@example.com"')
    assert out.returncode != 0 and "UnresolvableGrantByEmailAddress" in out.stderr


def test_deleted_ownership_controls_behave_as_object_writer(s3, bucket, users):
    bob = users[0]
    expect_error("AccessControlListNotSupported", 400, s3.put_object, Bucket=bucket, Key="k", Body=b"x",
                 GrantRead='id="%s"' % bob.id)
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", GrantRead='id="%s"' % bob.id)
    assert bob.client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


def test_copy_from_another_owners_bucket_takes_the_destination_owner(s3, acl_bucket, users, root_id, bucket_factory):
    bob = users[0]
    src = bucket_factory(client=bob.client)
    bob.client.put_object(Bucket=src, Key="s", Body=b"from bob")
    s3.put_bucket_ownership_controls(Bucket=acl_bucket,
                                     OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    s3.put_bucket_acl(Bucket=acl_bucket, GrantWrite='id="%s"' % bob.id)
    bob.client.copy_object(Bucket=acl_bucket, Key="c", CopySource={"Bucket": src, "Key": "s"},
                           ACL="bucket-owner-full-control")
    acl = s3.get_object_acl(Bucket=acl_bucket, Key="c")
    assert acl["Owner"]["ID"] == root_id  # the destination bucket's owner, not the source's
    assert grants_of(acl) == {("id", root_id, "FULL_CONTROL")}


# ---------------------------------------------------------------- conformance details

@pytest.fixture
def bob_bucket(users):
    """A bucket of bob's (not root: the owner's ACL rules below do not bind the root user) with ACLs
    on and no public-access block."""
    bob = users[0]
    name = unique_bucket_name("yc-acl-bob")
    bob.client.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    bob.client.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=OPEN_PAB)
    yield name
    bob.client.put_bucket_acl(Bucket=name, ACL="private")
    empty_and_delete_bucket(bob.client, name)


def test_switching_to_enforced_is_refused_while_the_bucket_acl_grants_others(s3, acl_bucket, users, root_id):
    bob = users[0]
    s3.put_bucket_acl(Bucket=acl_bucket, GrantRead='id="%s"' % bob.id, GrantFullControl='id="%s"' % root_id)
    enforced = {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    e = expect_error("InvalidBucketAclWithObjectOwnership", 400, s3.put_bucket_ownership_controls,
                     Bucket=acl_bucket, OwnershipControls=enforced)
    assert "BucketOwnerEnforced" in e["Error"]["Message"]
    assert bob.client.list_objects_v2(Bucket=acl_bucket)["KeyCount"] == 0  # nothing changed
    s3.put_bucket_acl(Bucket=acl_bucket, ACL="bucket-owner-full-control")  # the owner's grant alone is fine
    s3.put_bucket_ownership_controls(Bucket=acl_bucket, OwnershipControls=enforced)
    expect_error("AccessDenied", 403, bob.client.list_objects_v2, Bucket=acl_bucket)


def test_canned_acls_list_group_grants_before_the_owner(s3, acl_bucket, root_id):
    s3.put_bucket_acl(Bucket=acl_bucket, ACL="public-read-write")
    grants = [(g["Grantee"].get("URI") or g["Grantee"]["ID"], g["Permission"])
              for g in s3.get_bucket_acl(Bucket=acl_bucket)["Grants"]]
    assert grants == [(ALL_USERS, "READ"), (ALL_USERS, "WRITE"), (root_id, "FULL_CONTROL")]


def test_a_grant_to_no_canonical_id_is_invalid_argument(s3, acl_bucket, root_id):
    doc = {"Owner": {"ID": root_id},
           "Grants": [{"Grantee": {"ID": "_foo", "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}]}
    e = expect_error("InvalidArgument", 400, s3.put_bucket_acl, Bucket=acl_bucket, AccessControlPolicy=doc)
    assert e["Error"]["Message"] == "Invalid id"


def test_missing_key_is_404_for_who_may_list_and_403_for_others(s3, acl_bucket, anon):
    expect_error("AccessDenied", 403, anon.get_object, Bucket=acl_bucket, Key="nothing")
    s3.put_bucket_acl(Bucket=acl_bucket, ACL="public-read")
    expect_error("NoSuchKey", 404, anon.get_object, Bucket=acl_bucket, Key="nothing")
    s3.put_object(Bucket=acl_bucket, Key="private", Body=b"x")
    expect_error("AccessDenied", 403, anon.get_object, Bucket=acl_bucket, Key="private")  # exists: its ACL


def test_bucket_owner_needs_a_grant_for_the_acl_of_another_writers_object(bob_bucket, users):
    bob, carol = users
    bob.client.put_bucket_acl(Bucket=bob_bucket, ACL="public-read-write")
    carol.client.put_object(Bucket=bob_bucket, Key="carols", Body=b"c")
    expect_error("AccessDenied", 403, bob.client.get_object_acl, Bucket=bob_bucket, Key="carols")
    expect_error("AccessDenied", 403, bob.client.put_object_acl, Bucket=bob_bucket, Key="carols", ACL="private")
    carol.client.put_object_acl(Bucket=bob_bucket, Key="carols", ACL="bucket-owner-read")  # READ, not READ_ACP
    expect_error("AccessDenied", 403, bob.client.get_object_acl, Bucket=bob_bucket, Key="carols")
    carol.client.put_object_acl(Bucket=bob_bucket, Key="carols", ACL="bucket-owner-full-control")
    assert bob.client.get_object_acl(Bucket=bob_bucket, Key="carols")["Owner"]["ID"] == carol.id
    bob.client.put_object(Bucket=bob_bucket, Key="bobs", Body=b"b")
    bob.client.get_object_acl(Bucket=bob_bucket, Key="bobs")  # his own object


def test_an_owner_acl_without_the_owners_grant_takes_its_writes(bob_bucket, users):
    bob = users[0]
    bob.client.put_object(Bucket=bob_bucket, Key="k", Body=b"v")
    owner = bob.client.get_bucket_acl(Bucket=bob_bucket)["Owner"]
    bob.client.put_bucket_acl(Bucket=bob_bucket, AccessControlPolicy={"Owner": owner, "Grants": []})
    expect_error("AccessDenied", 403, bob.client.put_object, Bucket=bob_bucket, Key="new", Body=b"n")
    assert bob.client.get_object(Bucket=bob_bucket, Key="k")["Body"].read() == b"v"  # the object's own ACL
    assert bob.client.get_bucket_acl(Bucket=bob_bucket)["Grants"] == []  # READ_ACP stays the owner's
    bob.client.put_bucket_acl(Bucket=bob_bucket, ACL="private")  # and WRITE_ACP
    bob.client.put_object(Bucket=bob_bucket, Key="new", Body=b"n")
