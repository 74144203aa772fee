"""new_bucket_acls: buckets created without x-amz-object-ownership as S3 made them before April 2023
(ACLs on, no ownership controls, a public-access block with every setting off), on a gateway
started with --new-bucket-acls 1; the default gateway keeps S3's current defaults.
"""
import botocore
import botocore.exceptions
import pytest

from conftest import make_client, random_keys, unique_bucket_name, empty_and_delete_bucket

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"


def expect_error(code, status, fn, *args, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(*args, **kw)
    e = ei.value.response
    assert (e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]) == (code, status), e
    return e


@pytest.fixture(scope="module")
def legacy(gateway_factory):
    """A gateway whose new buckets start with ACLs on."""
    gw = gateway_factory()
    gw.extra_args = ["--new-bucket-acls", "1"]
    gw.restart()
    return gw


@pytest.fixture(scope="module")
def alice(legacy):
    ak, sk = random_keys()
    legacy.admin("user", "add", "alice-" + ak[-6:].lower(), ak, sk, "--create-buckets")
    return make_client(legacy.endpoint, ak, sk)


@pytest.fixture
def made(legacy):
    made = []
    yield made
    for c, name in made:
        empty_and_delete_bucket(c, name)


def test_new_bucket_has_acls_on_and_nothing_blocked(legacy, alice, made):
    name = unique_bucket_name("yc-legacy")
    alice.create_bucket(Bucket=name)
    made.append((alice, name))
    expect_error("OwnershipControlsNotFoundError", 404, alice.get_bucket_ownership_controls, Bucket=name)
    assert alice.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False}
    alice.put_bucket_acl(Bucket=name, ACL="public-read")
    anon = make_client(legacy.endpoint, "x", "x", signature_version=botocore.UNSIGNED)
    anon.list_objects_v2(Bucket=name)
    alice.put_object(Bucket=name, Key="k", Body=b"v", ACL="public-read")
    assert anon.get_object(Bucket=name, Key="k")["Body"].read() == b"v"


def test_create_with_a_public_canned_acl(legacy, alice, made):
    name = unique_bucket_name("yc-legacy")
    alice.create_bucket(Bucket=name, ACL="public-read-write")
    made.append((alice, name))
    grants = [(g["Grantee"].get("URI"), g["Permission"]) for g in alice.get_bucket_acl(Bucket=name)["Grants"]]
    assert (ALL_USERS, "READ") in grants and (ALL_USERS, "WRITE") in grants


def test_an_explicit_ownership_header_still_decides(legacy, alice, made):
    name = unique_bucket_name("yc-legacy")
    alice.create_bucket(Bucket=name, ObjectOwnership="BucketOwnerEnforced")
    made.append((alice, name))
    rules = alice.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    expect_error("AccessControlListNotSupported", 400, alice.put_bucket_acl, Bucket=name, ACL="public-read")
    assert all(alice.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"].values())


def test_default_gateway_keeps_s3_current_defaults(s3):
    name = unique_bucket_name("yc-default")
    expect_error("InvalidBucketAclWithObjectOwnership", 400, s3.create_bucket, Bucket=name, ACL="public-read")
    s3.create_bucket(Bucket=name)
    try:
        rules = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
        assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
        assert all(s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"].values())
    finally:
        empty_and_delete_bucket(s3, name)
