"""The bucket configuration calls and the bucket policy in authorization, with real clients:
boto3 for every call's round trip and errors, raw HTTP for what boto3 does not send (an OPTIONS
preflight, an anonymous request, a body without Content-MD5).

The policy tests try to get in: for each grant, a request that passes and the nearest one that
must not (another prefix, another action, another user, anonymous, a Deny over the Allow, the
grant removed).
"""
import base64
import hashlib
import json
import time
import xml.etree.ElementTree as ET

import botocore
import botocore.exceptions
import pytest

import yc_raw
from conftest import make_client, random_keys, unique_bucket_name, empty_and_delete_bucket


def error_of(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


def expect_error(code, status, fn, *args, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(*args, **kw)
    assert error_of(ei) == (code, status), ei.value.response
    return ei.value.response


@pytest.fixture(scope="module")
def users(gateway):
    """Two non-root users with keys of their own: (name, client) each."""
    made = []
    for role in ("bob", "carol"):
        ak, sk = random_keys()
        name = "%s-%s" % (role, ak[-6:].lower())
        gateway.admin("user", "add", name, ak, sk, "--create-buckets")
        made.append((name, make_client(gateway.endpoint, ak, sk)))
    return made


@pytest.fixture(scope="module")
def anon(gateway):
    return make_client(gateway.endpoint, "x", "x", signature_version=botocore.UNSIGNED)


def user_arn(name):
    return "arn:aws:iam::000000000000:user/%s" % name


def policy(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# ---------------------------------------------------------------- policy: round trip and errors

def test_policy_round_trip_status_and_delete(s3, bucket, users):
    bob = users[0][0]
    text = policy({"Sid": "ReadPub", "Effect": "Allow", "Principal": {"AWS": user_arn(bob)},
                   "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/pub/*" % bucket})
    expect_error("NoSuchBucketPolicy", 404, s3.get_bucket_policy, Bucket=bucket)
    expect_error("NoSuchBucketPolicy", 404, s3.get_bucket_policy_status, Bucket=bucket)
    r = s3.put_bucket_policy(Bucket=bucket, Policy=text)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == text
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    assert s3.delete_bucket_policy(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error("NoSuchBucketPolicy", 404, s3.get_bucket_policy, Bucket=bucket)
    s3.delete_bucket_policy(Bucket=bucket)  # nothing to remove: still 204


def test_policy_malformed_is_refused_with_a_message(s3, bucket):
    r = expect_error("MalformedPolicy", 400, s3.put_bucket_policy, Bucket=bucket, Policy="{not json")
    assert r["Error"]["Message"]
    other = policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::some-other-bucket/*"})
    r = expect_error("MalformedPolicy", 400, s3.put_bucket_policy, Bucket=bucket, Policy=other)
    assert "resource" in r["Error"]["Message"].lower()
    nobody = policy({"Effect": "Allow", "Principal": {"AWS": user_arn("no-such-user")}, "Action": "s3:GetObject",
                     "Resource": "arn:aws:s3:::%s/*" % bucket})
    r = expect_error("MalformedPolicy", 400, s3.put_bucket_policy, Bucket=bucket, Policy=nobody)
    assert "principal" in r["Error"]["Message"].lower()
    bad_condition = policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                            "Resource": "arn:aws:s3:::%s/*" % bucket,
                            "Condition": {"StringEqualsSometimes": {"aws:UserAgent": "x"}}})
    expect_error("MalformedPolicy", 400, s3.put_bucket_policy, Bucket=bucket, Policy=bad_condition)
    expect_error("NoSuchBucketPolicy", 404, s3.get_bucket_policy, Bucket=bucket)  # nothing was stored


def test_public_policy_is_blocked_until_the_public_access_block_is_removed(s3, bucket):
    public = policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                     "Resource": "arn:aws:s3:::%s/*" % bucket})
    expect_error("AccessDenied", 403, s3.put_bucket_policy, Bucket=bucket, Policy=public)
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=public)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True


def test_policy_calls_need_the_owner_or_a_grant(s3, bucket, users):
    bob_name, bob = users[0]
    expect_error("AccessDenied", 403, bob.get_bucket_policy, Bucket=bucket)
    expect_error("AccessDenied", 403, bob.put_bucket_policy, Bucket=bucket,
                 Policy=policy({"Effect": "Allow", "Principal": {"AWS": user_arn(bob_name)}, "Action": "s3:*",
                                "Resource": "arn:aws:s3:::%s/*" % bucket}))
    expect_error("AccessDenied", 403, bob.put_bucket_tagging, Bucket=bucket,
                 Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})


# ---------------------------------------------------------------- policy: tries to get in

def test_grant_to_a_user_on_a_prefix(s3, bucket, users, anon):
    (bob_name, bob), (carol_name, carol) = users
    s3.put_object(Bucket=bucket, Key="pub/a", Body=b"public a")
    s3.put_object(Bucket=bucket, Key="priv/b", Body=b"private b")
    expect_error("AccessDenied", 403, bob.get_object, Bucket=bucket, Key="pub/a")  # before the grant
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Sid": "BobReadsPub", "Effect": "Allow", "Principal": {"AWS": user_arn(bob_name)},
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/pub/*" % bucket}))
    assert bob.get_object(Bucket=bucket, Key="pub/a")["Body"].read() == b"public a"
    assert bob.head_object(Bucket=bucket, Key="pub/a")["ContentLength"] == 8
    expect_error("AccessDenied", 403, bob.get_object, Bucket=bucket, Key="priv/b")  # other prefix
    expect_error("AccessDenied", 403, bob.put_object, Bucket=bucket, Key="pub/c", Body=b"x")  # other action
    expect_error("AccessDenied", 403, bob.delete_object, Bucket=bucket, Key="pub/a")  # other action
    expect_error("AccessDenied", 403, bob.list_objects_v2, Bucket=bucket)  # other action
    expect_error("AccessDenied", 403, carol.get_object, Bucket=bucket, Key="pub/a")  # other user
    expect_error("AccessDenied", 403, anon.get_object, Bucket=bucket, Key="pub/a")  # anonymous
    # Deny overrides Allow
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": user_arn(bob_name)}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::%s/pub/*" % bucket},
        {"Effect": "Deny", "Principal": {"AWS": user_arn(bob_name)}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::%s/pub/a" % bucket}))
    expect_error("AccessDenied", 403, bob.get_object, Bucket=bucket, Key="pub/a")
    # grant removed
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": user_arn(bob_name)}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::%s/pub/*" % bucket}))
    assert bob.get_object(Bucket=bucket, Key="pub/a")["Body"].read() == b"public a"
    s3.delete_bucket_policy(Bucket=bucket)
    expect_error("AccessDenied", 403, bob.get_object, Bucket=bucket, Key="pub/a")


def test_grant_to_write_under_an_own_prefix_with_a_policy_variable(s3, bucket, users):
    (bob_name, bob), (carol_name, carol) = users
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": [user_arn(bob_name), user_arn(carol_name)]},
         "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::%s/home/${aws:username}/*" % bucket}))
    bob.put_object(Bucket=bucket, Key="home/%s/notes" % bob_name, Body=b"mine")
    assert bob.get_object(Bucket=bucket, Key="home/%s/notes" % bob_name)["Body"].read() == b"mine"
    expect_error("AccessDenied", 403, bob.put_object, Bucket=bucket, Key="home/%s/notes" % carol_name, Body=b"x")
    expect_error("AccessDenied", 403, carol.get_object, Bucket=bucket, Key="home/%s/notes" % bob_name)
    carol.put_object(Bucket=bucket, Key="home/%s/x" % carol_name, Body=b"hers")


def test_list_grant_with_a_prefix_condition(s3, bucket, users):
    bob_name, bob = users[0]
    s3.put_object(Bucket=bucket, Key="shared/one", Body=b"1")
    s3.put_object(Bucket=bucket, Key="secret/two", Body=b"2")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": user_arn(bob_name)}, "Action": "s3:ListBucket",
         "Resource": "arn:aws:s3:::%s" % bucket, "Condition": {"StringLike": {"s3:prefix": "shared/*"}}}))
    keys = [o["Key"] for o in bob.list_objects_v2(Bucket=bucket, Prefix="shared/")["Contents"]]
    assert keys == ["shared/one"]
    expect_error("AccessDenied", 403, bob.list_objects_v2, Bucket=bucket, Prefix="secret/")
    expect_error("AccessDenied", 403, bob.list_objects_v2, Bucket=bucket)  # no prefix: the key is absent


def test_anonymous_read_of_a_public_bucket(s3, bucket, anon, users):
    s3.put_object(Bucket=bucket, Key="notice.txt", Body=b"open to all")
    expect_error("AccessDenied", 403, anon.get_object, Bucket=bucket, Key="notice.txt")
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::%s/*" % bucket}))
    assert anon.get_object(Bucket=bucket, Key="notice.txt")["Body"].read() == b"open to all"
    assert users[1][1].get_object(Bucket=bucket, Key="notice.txt")["Body"].read() == b"open to all"
    expect_error("AccessDenied", 403, anon.put_object, Bucket=bucket, Key="graffiti", Body=b"x")
    expect_error("AccessDenied", 403, anon.list_objects_v2, Bucket=bucket)
    expect_error("AccessDenied", 403, anon.list_buckets)
    expect_error("AccessDenied", 403, anon.create_bucket, Bucket=unique_bucket_name())
    # RestrictPublicBuckets: the public policy no longer serves anyone outside the account
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"RestrictPublicBuckets": True})
    expect_error("AccessDenied", 403, anon.get_object, Bucket=bucket, Key="notice.txt")


def test_source_ip_condition(s3, bucket, anon):
    s3.put_object(Bucket=bucket, Key="lan.txt", Body=b"lan only")
    cond = lambda cidr: policy({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                "Resource": "arn:aws:s3:::%s/*" % bucket,
                                "Condition": {"IpAddress": {"aws:SourceIp": cidr}}})
    # narrowed to a network: not public, so the default public-access block lets it in
    s3.put_bucket_policy(Bucket=bucket, Policy=cond("127.0.0.0/8"))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    assert anon.get_object(Bucket=bucket, Key="lan.txt")["Body"].read() == b"lan only"
    s3.put_bucket_policy(Bucket=bucket, Policy=cond("10.0.0.0/8"))
    expect_error("AccessDenied", 403, anon.get_object, Bucket=bucket, Key="lan.txt")


def test_deny_binds_the_owner_but_not_on_the_policy_itself(s3, bucket):
    s3.put_object(Bucket=bucket, Key="keep", Body=b"k")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::%s/*" % bucket},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetBucketPolicy", "Resource": "arn:aws:s3:::%s" % bucket}))
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=bucket, Key="keep")
    assert s3.get_object(Bucket=bucket, Key="keep")["Body"].read() == b"k"
    s3.get_bucket_policy(Bucket=bucket)  # the owner can always read, change and delete the policy
    s3.delete_bucket_policy(Bucket=bucket)
    s3.delete_object(Bucket=bucket, Key="keep")


def test_delete_objects_is_decided_key_by_key(s3, bucket, users):
    bob_name, bob = users[0]
    for k in ("tmp/a", "keep/b"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": user_arn(bob_name)}, "Action": "s3:DeleteObject",
         "Resource": "arn:aws:s3:::%s/tmp/*" % bucket}))
    r = bob.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "tmp/a"}, {"Key": "keep/b"}]})
    assert [d["Key"] for d in r.get("Deleted", [])] == ["tmp/a"]
    assert [(e["Key"], e["Code"]) for e in r.get("Errors", [])] == [("keep/b", "AccessDenied")]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["keep/b"]


def test_copy_needs_read_on_the_source(s3, bucket_factory, users):
    bob_name, bob = users[0]
    src, dst = bucket_factory(), bucket_factory()
    s3.put_object(Bucket=src, Key="s", Body=b"source")
    s3.put_bucket_policy(Bucket=dst, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": user_arn(bob_name)}, "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::%s/*" % dst}))
    expect_error("AccessDenied", 403, bob.copy_object, Bucket=dst, Key="d", CopySource={"Bucket": src, "Key": "s"})
    s3.put_bucket_policy(Bucket=src, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": user_arn(bob_name)}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::%s/s" % src}))
    bob.copy_object(Bucket=dst, Key="d", CopySource={"Bucket": src, "Key": "s"})
    assert s3.get_object(Bucket=dst, Key="d")["Body"].read() == b"source"


def test_copy_of_a_source_version_needs_get_object_version(s3, bucket_factory, users):
    bob_name, bob = users[0]
    src, dst = bucket_factory(), bucket_factory()
    s3.put_bucket_versioning(Bucket=src, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=src, Key="s", Body=b"first")["VersionId"]
    s3.put_object(Bucket=src, Key="s", Body=b"second")
    s3.put_bucket_policy(Bucket=dst, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": user_arn(bob_name)}, "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::%s/*" % dst}))
    s3.put_bucket_policy(Bucket=src, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": user_arn(bob_name)}, "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::%s/s" % src}))
    bob.copy_object(Bucket=dst, Key="newest", CopySource={"Bucket": src, "Key": "s"})
    # naming a version is s3:GetObjectVersion, as on AWS
    expect_error("AccessDenied", 403, bob.copy_object, Bucket=dst, Key="d",
                 CopySource={"Bucket": src, "Key": "s", "VersionId": v1})
    s3.put_bucket_policy(Bucket=src, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": user_arn(bob_name)}, "Action": "s3:GetObjectVersion",
         "Resource": "arn:aws:s3:::%s/s" % src}))
    bob.copy_object(Bucket=dst, Key="d", CopySource={"Bucket": src, "Key": "s", "VersionId": v1})
    assert s3.get_object(Bucket=dst, Key="d")["Body"].read() == b"first"


# ---------------------------------------------------------------- public-access block, ownership

def test_public_access_block_defaults_round_trip_and_delete(s3, bucket):
    cfg = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert cfg == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                   "RestrictPublicBuckets": True}
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={"BlockPublicAcls": True,
                                                                             "BlockPublicPolicy": False})
    cfg = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert cfg == {"BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
                   "RestrictPublicBuckets": False}
    assert s3.delete_public_access_block(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error("NoSuchPublicAccessBlockConfiguration", 404, s3.get_public_access_block, Bucket=bucket)


def test_public_access_block_malformed(gateway, bucket):
    body = b"<PublicAccessBlockConfiguration><BlockPublicAcls>maybe</BlockPublicAcls></PublicAccessBlockConfiguration>"
    r = yc_raw.request(gateway, "PUT", "/" + bucket, "publicAccessBlock", body=body)
    assert r.status == 400 and r.error()["Code"] == "MalformedXML"


def test_ownership_controls_default_round_trip_and_delete(s3, bucket):
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "ObjectWriter"}]
    expect_error("MalformedXML", 400, s3.put_bucket_ownership_controls, Bucket=bucket,
                 OwnershipControls={"Rules": [{"ObjectOwnership": "Whoever"}]})
    assert s3.delete_bucket_ownership_controls(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error("OwnershipControlsNotFoundError", 404, s3.get_bucket_ownership_controls, Bucket=bucket)


# ---------------------------------------------------------------- tagging

def test_bucket_tagging_round_trip_errors_and_delete(s3, bucket):
    expect_error("NoSuchTagSet", 404, s3.get_bucket_tagging, Bucket=bucket)
    tags = [{"Key": "project", "Value": "城市"}, {"Key": "cost-center", "Value": "42"}]
    assert s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})["ResponseMetadata"]["HTTPStatusCode"] == 204
    got = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    assert sorted(got, key=lambda t: t["Key"]) == sorted(tags, key=lambda t: t["Key"])
    expect_error("InvalidTag", 400, s3.put_bucket_tagging, Bucket=bucket,
                 Tagging={"TagSet": [{"Key": "aws:reserved", "Value": "x"}]})
    expect_error("InvalidTag", 400, s3.put_bucket_tagging, Bucket=bucket,
                 Tagging={"TagSet": [{"Key": "k", "Value": "a"}, {"Key": "k", "Value": "b"}]})
    expect_error("BadRequest", 400, s3.put_bucket_tagging, Bucket=bucket,
                 Tagging={"TagSet": [{"Key": "k%d" % i, "Value": "v"} for i in range(51)]})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "k%d" % i, "Value": "v"} for i in range(50)]})
    assert len(s3.get_bucket_tagging(Bucket=bucket)["TagSet"]) == 50
    assert s3.delete_bucket_tagging(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error("NoSuchTagSet", 404, s3.get_bucket_tagging, Bucket=bucket)


def test_configuration_needs_content_md5_or_a_checksum(gateway, bucket):
    body = b"<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>"
    r = yc_raw.request(gateway, "PUT", "/" + bucket, "tagging", body=body)
    assert r.status == 400 and r.error()["Code"] == "InvalidRequest", r.body
    assert "Content-Md5" in r.error()["Message"]
    r = yc_raw.request(gateway, "PUT", "/" + bucket, "tagging", body=body,
                       headers={"Content-MD5": yc_raw.md5_b64(b"something else")})
    assert r.status == 400 and r.error()["Code"] == "BadDigest"
    r = yc_raw.request(gateway, "PUT", "/" + bucket, "tagging", body=body,
                       headers={"x-amz-checksum-crc32": yc_raw.crc32_b64(b"something else")})
    assert r.status == 400 and r.error()["Code"] == "BadDigest"
    r = yc_raw.request(gateway, "PUT", "/" + bucket, "tagging", body=body,
                       headers={"Content-MD5": yc_raw.md5_b64(body)})
    assert r.status == 204, r.body
    r = yc_raw.request(gateway, "PUT", "/" + bucket, "tagging", body=body,
                       headers={"x-amz-checksum-crc32": yc_raw.crc32_b64(body)})
    assert r.status == 204, r.body


def test_configurations_go_with_the_bucket(s3):
    name = unique_bucket_name()
    s3.create_bucket(Bucket=name)
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [{"AllowedOrigins": ["*"],
                                                                      "AllowedMethods": ["GET"]}]})
    s3.delete_public_access_block(Bucket=name)
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    try:
        expect_error("NoSuchTagSet", 404, s3.get_bucket_tagging, Bucket=name)
        expect_error("NoSuchCORSConfiguration", 404, s3.get_bucket_cors, Bucket=name)
        assert s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]["BlockPublicPolicy"]
    finally:
        empty_and_delete_bucket(s3, name)


def test_configuration_of_a_missing_bucket(s3):
    expect_error("NoSuchBucket", 404, s3.get_bucket_tagging, Bucket=unique_bucket_name())
    expect_error("NoSuchBucket", 404, s3.put_bucket_policy, Bucket=unique_bucket_name(), Policy="{}")


# ---------------------------------------------------------------- lifecycle, Object Lock

# lifecycle configurations and their rules: test_lifecycle.py


def test_object_lock_configuration_on_a_bucket_without_object_lock(s3, bucket):
    expect_error("ObjectLockConfigurationNotFoundError", 404, s3.get_object_lock_configuration, Bucket=bucket)
    expect_error("InvalidBucketState", 409, s3.put_object_lock_configuration, Bucket=bucket,
                 ObjectLockConfiguration={"ObjectLockEnabled": "Enabled", "Rule": {
                     "DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})


# ---------------------------------------------------------------- CORS

CORS = {"CORSRules": [{"ID": "app", "AllowedOrigins": ["https://app.example.gov"], "AllowedMethods": ["GET", "PUT"],
                       "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 600},
                      {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}]}


def test_cors_round_trip_errors_and_delete(s3, bucket):
    expect_error("NoSuchCORSConfiguration", 404, s3.get_bucket_cors, Bucket=bucket)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=CORS)
    rules = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert rules[0]["AllowedOrigins"] == ["https://app.example.gov"] and rules[0]["MaxAgeSeconds"] == 600
    assert rules[0]["ExposeHeaders"] == ["ETag"] and rules[1]["AllowedMethods"] == ["GET"]
    r = expect_error("InvalidRequest", 400, s3.put_bucket_cors, Bucket=bucket, CORSConfiguration={
        "CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}]})
    assert "PATCH" in r["Error"]["Message"]
    expect_error("MalformedXML", 400, s3.put_bucket_cors, Bucket=bucket, CORSConfiguration={
        "CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}] * 101})
    assert s3.delete_bucket_cors(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error("NoSuchCORSConfiguration", 404, s3.get_bucket_cors, Bucket=bucket)


def test_cors_preflight(gateway, s3, bucket):
    path = "/%s/photo.jpg" % bucket
    ask = {"Origin": "https://app.example.gov", "Access-Control-Request-Method": "PUT",
           "Access-Control-Request-Headers": "Content-Type, X-Amz-Date"}
    r = yc_raw.anonymous(gateway, "OPTIONS", path, headers=ask)
    assert r.status == 403 and r.error()["Code"] == "AccessForbidden"  # no configuration yet
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=CORS)
    r = yc_raw.anonymous(gateway, "OPTIONS", path, headers=ask)
    assert r.status == 200, r.body
    assert r.headers["access-control-allow-origin"] == "https://app.example.gov"
    assert r.headers["access-control-allow-methods"] == "GET, PUT"
    assert r.headers["access-control-allow-headers"] == "content-type, x-amz-date"
    assert r.headers["access-control-max-age"] == "600"
    assert r.headers["access-control-expose-headers"] == "ETag"
    assert "Origin" in r.headers["vary"]
    # the nearest ones that must not pass: another origin for PUT, a method no rule allows
    r = yc_raw.anonymous(gateway, "OPTIONS", path, headers=dict(ask, Origin="https://evil.example.com"))
    assert r.status == 403 and r.error()["Code"] == "AccessForbidden"
    r = yc_raw.anonymous(gateway, "OPTIONS", path, headers=dict(ask, **{"Access-Control-Request-Method": "DELETE"}))
    assert r.status == 403
    # any origin may GET (the second rule)
    r = yc_raw.anonymous(gateway, "OPTIONS", path, headers={"Origin": "https://other.example",
                                                            "Access-Control-Request-Method": "GET"})
    assert r.status == 200 and r.headers["access-control-allow-origin"] == "*"
    r = yc_raw.anonymous(gateway, "OPTIONS", path, headers={"Access-Control-Request-Method": "GET"})
    assert r.status == 400 and r.error()["Code"] == "BadRequest"  # no Origin
    r = yc_raw.anonymous(gateway, "OPTIONS", "/%s/x" % unique_bucket_name(), headers=ask)
    assert r.status == 403 and r.error()["Code"] == "AccessForbidden"


def test_cors_headers_on_actual_responses(gateway, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    r = yc_raw.request(gateway, "GET", "/%s/k" % bucket, headers={"Origin": "https://app.example.gov"})
    assert r.status == 200 and "access-control-allow-origin" not in r.headers  # no configuration
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=CORS)
    r = yc_raw.request(gateway, "GET", "/%s/k" % bucket, headers={"Origin": "https://app.example.gov"})
    assert r.status == 200 and r.body == b"v"
    assert r.headers["access-control-allow-origin"] == "https://app.example.gov"
    assert r.headers["access-control-allow-credentials"] == "true"
    assert r.headers["access-control-expose-headers"] == "ETag"
    assert "Origin" in r.headers["vary"]
    r = yc_raw.request(gateway, "GET", "/%s/k" % bucket)
    assert "access-control-allow-origin" not in r.headers and "vary" not in r.headers  # not cross-origin
    r = yc_raw.request(gateway, "DELETE", "/%s/k" % bucket, headers={"Origin": "https://evil.example.com"})
    assert r.status == 204 and "access-control-allow-origin" not in r.headers  # no rule allows it
    # an error response carries them too
    r = yc_raw.request(gateway, "GET", "/%s/missing" % bucket, headers={"Origin": "https://x.example"})
    assert r.status == 404 and r.headers["access-control-allow-origin"] == "*"


def test_unserved_sub_resource_of_a_configuration_never_reaches_the_bucket(gateway, s3, bucket):
    r = yc_raw.request(gateway, "DELETE", "/" + bucket, "policyStatus")
    assert r.status == 405
    s3.head_bucket(Bucket=bucket)  # still there
    r = yc_raw.request(gateway, "POST", "/" + bucket, "cors")
    assert r.status == 405


# ---------------------------------------------------------------- policy: conformance details

def test_policy_resource_may_be_a_pattern_matching_the_bucket(s3, bucket, users):
    name, client = users[0]
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    s3.delete_public_access_block(Bucket=bucket)
    st = {"Effect": "Allow", "Principal": {"AWS": user_arn(name)}, "Action": "s3:ListBucket",
          "Resource": ["arn:aws:s3:::*", "arn:aws:s3:::*/*"]}
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(st))
    assert client.list_objects_v2(Bucket=bucket)["KeyCount"] == 1
    st["Resource"] = ["arn:aws:s3:::%s-other*" % bucket]  # a pattern that cannot match this bucket
    e = expect_error("MalformedPolicy", 400, s3.put_bucket_policy, Bucket=bucket, Policy=policy(st))
    assert "invalid resource" in e["Error"]["Message"]
    st["Resource"] = ["arn:aws:s3:::%s?" % bucket[:-1]]
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(st))


def test_grant_header_condition_key(s3, bucket, users):
    (name, client), _ = users
    owner_id = s3.list_buckets()["Owner"]["ID"]
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    st = {"Effect": "Allow", "Principal": {"AWS": user_arn(name)}, "Action": "s3:PutObject",
          "Resource": "arn:aws:s3:::%s/*" % bucket,
          "Condition": {"StringEquals": {"s3:x-amz-grant-full-control": "id=" + owner_id}}}
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(st))
    expect_error("AccessDenied", 403, client.put_object, Bucket=bucket, Key="a", Body=b"a")
    client.put_object(Bucket=bucket, Key="a", Body=b"a", GrantFullControl="id=" + owner_id)
    grants = s3.get_object_acl(Bucket=bucket, Key="a")["Grants"]
    assert [(g["Grantee"]["ID"], g["Permission"]) for g in grants] == [(owner_id, "FULL_CONTROL")]
    expect_error("AccessDenied", 403, client.put_object, Bucket=bucket, Key="b", Body=b"b",
                 GrantFullControl="id=" + "0" * 64)


def test_existing_tag_condition_on_get_object_acl(s3, bucket, users):
    (name, client), _ = users
    for key, value in (("pub", "public"), ("priv", "private")):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x", Tagging="security=" + value)
    st = {"Effect": "Allow", "Principal": {"AWS": user_arn(name)}, "Action": "s3:GetObjectAcl",
          "Resource": "arn:aws:s3:::%s/*" % bucket,
          "Condition": {"StringEquals": {"s3:ExistingObjectTag/security": "public"}}}
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(st))
    client.get_object_acl(Bucket=bucket, Key="pub")
    expect_error("AccessDenied", 403, client.get_object_acl, Bucket=bucket, Key="priv")
    expect_error("AccessDenied", 403, client.get_object, Bucket=bucket, Key="pub")  # another action
