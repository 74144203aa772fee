"""Object Lock (WORM) with real clients: boto3 for the calls and the refusals, the AWS CLI (s3api)
for put-object-retention and get-object-legal-hold, raw HTTP for what boto3 always adds
(Content-MD5).

Every path that deletes a version is tried against a locked version, and the test reads the
version's bytes back afterwards: a refusal that deleted anyway would fail there.
"""
import datetime
import json
import os
import subprocess
import time

import botocore.exceptions
import pytest

import yc_raw
from conftest import make_client, random_keys, unique_bucket_name

LOCKED = "Access Denied because object protected by object lock."


def error_of(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


def expect_error(code, status, fn, *args, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(*args, **kw)
    assert error_of(ei) == (code, status), ei.value.response
    return ei.value.response


def future(seconds):
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)


def body_of(s3, bucket, key, vid):
    return s3.get_object(Bucket=bucket, Key=key, VersionId=vid)["Body"].read()


@pytest.fixture
def lbucket(s3):
    """A bucket created with Object Lock (left to the sweep: its versions cannot all be removed)."""
    name = unique_bucket_name("yc-lock")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


@pytest.fixture(scope="module")
def bob(gateway):
    """A non-root user: (name, client)."""
    ak, sk = random_keys()
    name = "bob-%s" % ak[-6:].lower()
    gateway.admin("user", "add", name, ak, sk, "--create-buckets")
    return name, make_client(gateway.endpoint, ak, sk)


def grant(s3, bucket, user, actions):
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/%s" % user}, "Action": actions,
         "Resource": "arn:aws:s3:::%s/*" % bucket}]}))


def locked_put(s3, bucket, key, body, mode="GOVERNANCE", seconds=3600):
    return s3.put_object(Bucket=bucket, Key=key, Body=body, ObjectLockMode=mode,
                         ObjectLockRetainUntilDate=future(seconds))["VersionId"]


# ---------------------------------------------------------------- the bucket


def test_bucket_created_with_lock_is_versioned_and_cannot_be_suspended(s3, lbucket):
    assert s3.get_bucket_versioning(Bucket=lbucket)["Status"] == "Enabled"
    conf = s3.get_object_lock_configuration(Bucket=lbucket)["ObjectLockConfiguration"]
    assert conf == {"ObjectLockEnabled": "Enabled"}
    expect_error("InvalidBucketState", 409, s3.put_bucket_versioning, Bucket=lbucket,
                 VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=lbucket)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=lbucket, VersioningConfiguration={"Status": "Enabled"})  # no change: allowed


def test_lock_configuration_round_trip_and_errors(s3, gateway, lbucket):
    s3.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 2}}})
    conf = s3.get_object_lock_configuration(Bucket=lbucket)["ObjectLockConfiguration"]
    assert conf["Rule"]["DefaultRetention"] == {"Mode": "COMPLIANCE", "Years": 2}
    r = expect_error("InvalidArgument", 400, s3.put_object_lock_configuration, Bucket=lbucket,
                     ObjectLockConfiguration={"ObjectLockEnabled": "Enabled",
                                              "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 0}}})
    assert r["Error"]["ArgumentName"] == "Days"
    expect_error("InvalidArgument", 400, s3.put_object_lock_configuration, Bucket=lbucket,
                 ObjectLockConfiguration={"ObjectLockEnabled": "Enabled",
                                          "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Years": 101}}})
    expect_error("MalformedXML", 400, s3.put_object_lock_configuration, Bucket=lbucket,
                 ObjectLockConfiguration={"ObjectLockEnabled": "Enabled",
                                          "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1,
                                                                        "Years": 1}}})
    # a body without Content-MD5 or a checksum
    body = (b'<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            b'<ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>')
    r = yc_raw.request(gateway, "PUT", "/" + lbucket, "object-lock", body=body)
    assert r.status == 400 and r.error()["Code"] == "InvalidRequest"
    # the configuration as it was
    conf = s3.get_object_lock_configuration(Bucket=lbucket)["ObjectLockConfiguration"]
    assert conf["Rule"]["DefaultRetention"] == {"Mode": "COMPLIANCE", "Years": 2}


def test_lock_configuration_needs_versioning_enabled(s3, bucket):
    conf = {"ObjectLockEnabled": "Enabled"}
    expect_error("InvalidBucketState", 409, s3.put_object_lock_configuration, Bucket=bucket,
                 ObjectLockConfiguration=conf)
    expect_error("ObjectLockConfigurationNotFoundError", 404, s3.get_object_lock_configuration, Bucket=bucket)
    # S3 now lets a versioned bucket turn Object Lock on; then it can no longer be suspended
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=conf)
    assert s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"] == conf
    expect_error("InvalidBucketState", 409, s3.put_bucket_versioning, Bucket=bucket,
                 VersioningConfiguration={"Status": "Suspended"})
    vid = locked_put(s3, bucket, "k", b"kept")
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=bucket, Key="k", VersionId=vid)


def test_lock_operations_on_a_bucket_without_lock(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    r = expect_error("InvalidRequest", 400, s3.get_object_retention, Bucket=bucket, Key="k")
    assert r["Error"]["Message"] == "Bucket is missing Object Lock Configuration"
    expect_error("InvalidRequest", 400, s3.put_object_legal_hold, Bucket=bucket, Key="k",
                 LegalHold={"Status": "ON"})
    expect_error("InvalidRequest", 400, s3.put_object, Bucket=bucket, Key="k2", Body=b"x",
                 ObjectLockLegalHoldStatus="ON")
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=bucket, Key="k2")


# ---------------------------------------------------------------- retention at write


def test_put_with_retention_headers_shows_them_and_refuses_deletion(s3, lbucket):
    until = future(3600).replace(microsecond=0)
    vid = s3.put_object(Bucket=lbucket, Key="doc", Body=b"record", ObjectLockMode="GOVERNANCE",
                        ObjectLockRetainUntilDate=until, ObjectLockLegalHoldStatus="OFF")["VersionId"]
    h = s3.head_object(Bucket=lbucket, Key="doc")
    assert h["ObjectLockMode"] == "GOVERNANCE" and h["ObjectLockRetainUntilDate"] == until
    assert h["ObjectLockLegalHoldStatus"] == "OFF"
    g = s3.get_object(Bucket=lbucket, Key="doc", VersionId=vid)
    assert g["ObjectLockMode"] == "GOVERNANCE" and g["Body"].read() == b"record"
    r = s3.get_object_retention(Bucket=lbucket, Key="doc", VersionId=vid)["Retention"]
    assert r == {"Mode": "GOVERNANCE", "RetainUntilDate": until}
    err = expect_error("AccessDenied", 403, s3.delete_object, Bucket=lbucket, Key="doc", VersionId=vid)
    assert err["Error"]["Message"] == LOCKED
    assert body_of(s3, lbucket, "doc", vid) == b"record"


def test_header_errors_as_s3(s3, gateway, lbucket):
    r = expect_error("InvalidArgument", 400, s3.put_object, Bucket=lbucket, Key="k", Body=b"x",
                     ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=future(-60))
    assert r["Error"]["Message"] == "The retain until date must be in the future!"
    r = yc_raw.request(gateway, "PUT", "/%s/k" % lbucket, body=b"x", headers={
        "x-amz-object-lock-mode": "GOVERNANCE", "Content-MD5": yc_raw.md5_b64(b"x")})
    assert r.status == 400 and r.error()["Code"] == "InvalidArgument"
    r = yc_raw.request(gateway, "PUT", "/%s/k" % lbucket, body=b"x", headers={
        "x-amz-object-lock-legal-hold": "MAYBE", "Content-MD5": yc_raw.md5_b64(b"x")})
    assert r.status == 400 and r.error()["Code"] == "InvalidArgument"
    # lock parameters on a PUT need Content-MD5 or a checksum
    r = yc_raw.request(gateway, "PUT", "/%s/k" % lbucket, body=b"x", headers={"x-amz-object-lock-legal-hold": "ON"})
    assert r.status == 400 and r.error()["Code"] == "InvalidRequest"
    r = yc_raw.request(gateway, "PUT", "/%s/k" % lbucket, body=b"x", headers={
        "x-amz-object-lock-legal-hold": "ON", "Content-MD5": yc_raw.md5_b64(b"x")})
    assert r.status == 200
    expect_error("InvalidArgument", 400, s3.put_object_retention, Bucket=lbucket, Key="k",
                 Retention={"Mode": "GOVERNANCE", "RetainUntilDate": future(-5)})
    expect_error("NoSuchObjectLockConfiguration", 404, s3.get_object_retention, Bucket=lbucket, Key="k")


def test_default_retention_applied(s3, lbucket):
    s3.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    before = datetime.datetime.now(datetime.timezone.utc)
    vid = s3.put_object(Bucket=lbucket, Key="d", Body=b"defaulted")["VersionId"]
    r = s3.get_object_retention(Bucket=lbucket, Key="d", VersionId=vid)["Retention"]
    assert r["Mode"] == "GOVERNANCE"
    delta = r["RetainUntilDate"] - before
    assert datetime.timedelta(hours=23, minutes=59) < delta < datetime.timedelta(days=1, minutes=1)
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=lbucket, Key="d", VersionId=vid)
    # explicit headers win over the default
    vid2 = locked_put(s3, lbucket, "d", b"explicit", mode="COMPLIANCE", seconds=7200)
    assert s3.get_object_retention(Bucket=lbucket, Key="d", VersionId=vid2)["Retention"]["Mode"] == "COMPLIANCE"
    assert body_of(s3, lbucket, "d", vid) == b"defaulted"


def test_copy_and_multipart_take_lock_headers(s3, lbucket):
    src = s3.put_object(Bucket=lbucket, Key="src", Body=b"source")["VersionId"]
    until = future(3600).replace(microsecond=0)
    c = s3.copy_object(Bucket=lbucket, Key="copy", CopySource={"Bucket": lbucket, "Key": "src", "VersionId": src},
                       ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)
    cvid = c["VersionId"]
    assert s3.get_object_retention(Bucket=lbucket, Key="copy", VersionId=cvid)["Retention"]["Mode"] == "COMPLIANCE"
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=lbucket, Key="copy", VersionId=cvid)
    # the source had no lock: it goes
    s3.delete_object(Bucket=lbucket, Key="src", VersionId=src)
    up = s3.create_multipart_upload(Bucket=lbucket, Key="mp", ObjectLockLegalHoldStatus="ON")
    part = s3.upload_part(Bucket=lbucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"m" * 1000)
    done = s3.complete_multipart_upload(Bucket=lbucket, Key="mp", UploadId=up["UploadId"], MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    mvid = done["VersionId"]
    assert s3.get_object_legal_hold(Bucket=lbucket, Key="mp", VersionId=mvid)["LegalHold"]["Status"] == "ON"
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=lbucket, Key="mp", VersionId=mvid)
    assert body_of(s3, lbucket, "mp", mvid) == b"m" * 1000
    assert body_of(s3, lbucket, "copy", cvid) == b"source"


def test_upload_part_of_a_locked_upload_needs_md5_or_checksum(gateway, s3, lbucket):
    """S3 asks an UploadPart the integrity header it asks a PutObject with lock parameters; boto3
    always adds Content-MD5, so the parts go as raw requests (a signed payload hash is not enough)."""
    def put_part(key, upload, number, body, headers=None):
        return yc_raw.request(gateway, "PUT", "/%s/%s" % (lbucket, key),
                              query="partNumber=%d&uploadId=%s" % (number, upload), body=body, headers=headers or {})

    locked = s3.create_multipart_upload(Bucket=lbucket, Key="mp", ObjectLockMode="GOVERNANCE",
                                        ObjectLockRetainUntilDate=future(3600))["UploadId"]
    r = put_part("mp", locked, 1, b"p" * 100)
    assert r.status == 400 and r.error()["Code"] == "InvalidRequest"
    assert r.error()["Message"] == ("Content-MD5 OR x-amz-checksum- HTTP header is required for Put Part requests "
                                    "with Object Lock parameters")
    assert put_part("mp", locked, 1, b"p" * 100, {"Content-MD5": yc_raw.md5_b64(b"p" * 100)}).status == 200
    assert put_part("mp", locked, 2, b"q" * 100, {"x-amz-checksum-crc32": yc_raw.crc32_b64(b"q" * 100)}).status == 200
    parts = s3.list_parts(Bucket=lbucket, Key="mp", UploadId=locked)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1, 2]
    # a legal hold alone is a lock parameter too
    held = s3.create_multipart_upload(Bucket=lbucket, Key="held", ObjectLockLegalHoldStatus="ON")["UploadId"]
    assert put_part("held", held, 1, b"h").status == 400
    # an upload whose object gets no lock takes parts without
    free = s3.create_multipart_upload(Bucket=lbucket, Key="free")["UploadId"]
    assert put_part("free", free, 1, b"f").status == 200
    # the bucket's default retention at CreateMultipartUpload counts as the object's lock
    s3.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    defaulted = s3.create_multipart_upload(Bucket=lbucket, Key="defaulted")["UploadId"]
    assert put_part("defaulted", defaulted, 1, b"d").status == 400
    assert put_part("defaulted", defaulted, 1, b"d", {"Content-MD5": yc_raw.md5_b64(b"d")}).status == 200
    # and so it does for a PutObject without lock headers
    r = yc_raw.request(gateway, "PUT", "/%s/plain" % lbucket, body=b"x")
    assert r.status == 400 and r.error()["Message"].endswith("for Put Object requests with Object Lock parameters")


def test_multipart_default_retention_counts_from_initiation(s3, lbucket):
    """S3 counts a default retention from the version's creation, which for a multipart upload is
    its initiation: a slow upload is not protected for longer than the period."""
    s3.put_object_lock_configuration(Bucket=lbucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    up = s3.create_multipart_upload(Bucket=lbucket, Key="slow")["UploadId"]
    initiated = [u for u in s3.list_multipart_uploads(Bucket=lbucket)["Uploads"] if u["UploadId"] == up][0]["Initiated"]
    time.sleep(3)
    part = s3.upload_part(Bucket=lbucket, Key="slow", UploadId=up, PartNumber=1, Body=b"s" * 10)
    vid = s3.complete_multipart_upload(Bucket=lbucket, Key="slow", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})["VersionId"]
    completed = datetime.datetime.now(datetime.timezone.utc)
    r = s3.get_object_retention(Bucket=lbucket, Key="slow", VersionId=vid)["Retention"]
    assert r["Mode"] == "GOVERNANCE"
    assert abs(r["RetainUntilDate"] - (initiated + datetime.timedelta(days=1))) < datetime.timedelta(seconds=1.5)
    assert r["RetainUntilDate"] < completed + datetime.timedelta(days=1) - datetime.timedelta(seconds=1.5)
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=lbucket, Key="slow", VersionId=vid)


# ---------------------------------------------------------------- changing retention


def test_retention_extended_never_shortened_without_bypass(s3, lbucket):
    vid = locked_put(s3, lbucket, "g", b"gov", seconds=3600)
    longer = future(7200).replace(microsecond=0)
    s3.put_object_retention(Bucket=lbucket, Key="g", VersionId=vid,
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": longer})
    assert s3.get_object_retention(Bucket=lbucket, Key="g", VersionId=vid)["Retention"]["RetainUntilDate"] == longer
    expect_error("AccessDenied", 403, s3.put_object_retention, Bucket=lbucket, Key="g", VersionId=vid,
                 Retention={"Mode": "GOVERNANCE", "RetainUntilDate": future(600)})
    # the owner may shorten GOVERNANCE with the bypass
    shorter = future(600).replace(microsecond=0)
    s3.put_object_retention(Bucket=lbucket, Key="g", VersionId=vid, BypassGovernanceRetention=True,
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": shorter})
    assert s3.get_object_retention(Bucket=lbucket, Key="g", VersionId=vid)["Retention"]["RetainUntilDate"] == shorter


def test_compliance_cannot_be_shortened_or_removed_even_by_root(s3, lbucket):
    vid = locked_put(s3, lbucket, "c", b"compliance", mode="COMPLIANCE", seconds=3600)
    s3.put_object_retention(Bucket=lbucket, Key="c", VersionId=vid,
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": future(7200)})
    for retention in ({"Mode": "COMPLIANCE", "RetainUntilDate": future(60)},
                      {"Mode": "GOVERNANCE", "RetainUntilDate": future(9000)}, {}):
        expect_error("AccessDenied", 403, s3.put_object_retention, Bucket=lbucket, Key="c", VersionId=vid,
                     BypassGovernanceRetention=True, Retention=retention)
    assert s3.get_object_retention(Bucket=lbucket, Key="c", VersionId=vid)["Retention"]["Mode"] == "COMPLIANCE"
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=lbucket, Key="c", VersionId=vid,
                 BypassGovernanceRetention=True)
    assert body_of(s3, lbucket, "c", vid) == b"compliance"


# ---------------------------------------------------------------- the governance bypass


def test_governance_bypass_needs_the_permission(s3, lbucket, bob):
    name, client = bob
    vid = locked_put(s3, lbucket, "b", b"bypass me")
    grant(s3, lbucket, name, ["s3:DeleteObjectVersion", "s3:GetObjectVersion"])
    expect_error("AccessDenied", 403, client.delete_object, Bucket=lbucket, Key="b", VersionId=vid,
                 BypassGovernanceRetention=True)
    assert body_of(client, lbucket, "b", vid) == b"bypass me"
    grant(s3, lbucket, name, ["s3:DeleteObjectVersion", "s3:GetObjectVersion", "s3:BypassGovernanceRetention"])
    expect_error("AccessDenied", 403, client.delete_object, Bucket=lbucket, Key="b", VersionId=vid)  # not asked
    client.delete_object(Bucket=lbucket, Key="b", VersionId=vid, BypassGovernanceRetention=True)
    expect_error("NoSuchVersion", 404, s3.get_object, Bucket=lbucket, Key="b", VersionId=vid)


def test_owner_bypass_denied_by_policy(s3, lbucket):
    vid = locked_put(s3, lbucket, "o", b"owner")
    s3.put_bucket_policy(Bucket=lbucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:BypassGovernanceRetention",
         "Resource": "arn:aws:s3:::%s/*" % lbucket}]}))
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=lbucket, Key="o", VersionId=vid,
                 BypassGovernanceRetention=True)
    assert body_of(s3, lbucket, "o", vid) == b"owner"
    s3.delete_bucket_policy(Bucket=lbucket)
    s3.delete_object(Bucket=lbucket, Key="o", VersionId=vid, BypassGovernanceRetention=True)


# ---------------------------------------------------------------- legal hold


def test_legal_hold_blocks_deletion_whatever_the_retention(s3, lbucket):
    vid = s3.put_object(Bucket=lbucket, Key="h", Body=b"held")["VersionId"]
    s3.put_object_legal_hold(Bucket=lbucket, Key="h", VersionId=vid, LegalHold={"Status": "ON"})
    assert s3.head_object(Bucket=lbucket, Key="h", VersionId=vid)["ObjectLockLegalHoldStatus"] == "ON"
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=lbucket, Key="h", VersionId=vid)
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=lbucket, Key="h", VersionId=vid,
                 BypassGovernanceRetention=True)
    assert body_of(s3, lbucket, "h", vid) == b"held"
    s3.put_object_legal_hold(Bucket=lbucket, Key="h", VersionId=vid, LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=lbucket, Key="h", VersionId=vid)
    expect_error("NoSuchVersion", 404, s3.get_object, Bucket=lbucket, Key="h", VersionId=vid)


def test_expired_retention_lets_the_version_go(s3, lbucket):
    vid = locked_put(s3, lbucket, "e", b"short", mode="COMPLIANCE", seconds=3)
    expect_error("AccessDenied", 403, s3.delete_object, Bucket=lbucket, Key="e", VersionId=vid)
    time.sleep(4)
    s3.delete_object(Bucket=lbucket, Key="e", VersionId=vid)
    expect_error("NoSuchVersion", 404, s3.get_object, Bucket=lbucket, Key="e", VersionId=vid)


# ---------------------------------------------------------------- every delete path


def test_delete_marker_still_created(s3, lbucket):
    vid = locked_put(s3, lbucket, "m", b"under a marker", mode="COMPLIANCE")
    r = s3.delete_object(Bucket=lbucket, Key="m")
    assert r["DeleteMarker"] is True and r["VersionId"] != vid
    expect_error("NoSuchKey", 404, s3.get_object, Bucket=lbucket, Key="m")
    assert body_of(s3, lbucket, "m", vid) == b"under a marker"
    # the marker itself is not protected
    s3.delete_object(Bucket=lbucket, Key="m", VersionId=r["VersionId"])
    assert s3.get_object(Bucket=lbucket, Key="m")["Body"].read() == b"under a marker"


def test_delete_objects_refuses_locked_versions_per_key(s3, lbucket):
    locked = locked_put(s3, lbucket, "x", b"locked x")
    free = s3.put_object(Bucket=lbucket, Key="y", Body=b"free y")["VersionId"]
    r = s3.delete_objects(Bucket=lbucket, Delete={"Objects": [{"Key": "x", "VersionId": locked},
                                                              {"Key": "y", "VersionId": free},
                                                              {"Key": "z"}]})
    # the refused entry names the version it refused, as S3
    assert [(e["Key"], e["VersionId"], e["Code"], e["Message"]) for e in r["Errors"]] == [
        ("x", locked, "AccessDenied", LOCKED)]
    assert sorted(d["Key"] for d in r["Deleted"]) == ["y", "z"]
    assert body_of(s3, lbucket, "x", locked) == b"locked x"
    expect_error("NoSuchVersion", 404, s3.get_object, Bucket=lbucket, Key="y", VersionId=free)
    # with the bypass, as the owner
    r = s3.delete_objects(Bucket=lbucket, BypassGovernanceRetention=True,
                          Delete={"Objects": [{"Key": "x", "VersionId": locked}]})
    assert "Errors" not in r and r["Deleted"][0]["VersionId"] == locked


def test_overwrite_keeps_the_locked_version(s3, lbucket):
    vid = locked_put(s3, lbucket, "w", b"first", mode="COMPLIANCE")
    vid2 = s3.put_object(Bucket=lbucket, Key="w", Body=b"second")["VersionId"]
    assert vid2 != vid
    assert body_of(s3, lbucket, "w", vid) == b"first"
    assert s3.get_object(Bucket=lbucket, Key="w")["Body"].read() == b"second"


def test_delete_bucket_with_locked_versions_is_refused(s3, lbucket):
    vid = locked_put(s3, lbucket, "keep", b"bucket content", mode="COMPLIANCE")
    s3.delete_object(Bucket=lbucket, Key="keep")
    expect_error("BucketNotEmpty", 409, s3.delete_bucket, Bucket=lbucket)
    assert body_of(s3, lbucket, "keep", vid) == b"bucket content"


def test_marker_version_has_no_lock(s3, lbucket):
    s3.put_object(Bucket=lbucket, Key="dm", Body=b"x")
    marker = s3.delete_object(Bucket=lbucket, Key="dm")["VersionId"]
    expect_error("MethodNotAllowed", 405, s3.get_object_retention, Bucket=lbucket, Key="dm", VersionId=marker)
    expect_error("NoSuchKey", 404, s3.get_object_legal_hold, Bucket=lbucket, Key="dm")
    other = marker[:-1] + ("0" if marker[-1] != "0" else "1")
    expect_error("NoSuchVersion", 404, s3.get_object_retention, Bucket=lbucket, Key="dm", VersionId=other)


# ---------------------------------------------------------------- the AWS CLI


def test_retention_and_legal_hold_with_aws_cli(gateway, s3, lbucket, tmp_path):
    vid = s3.put_object(Bucket=lbucket, Key="cli", Body=b"cli bytes")["VersionId"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "AWS_ACCESS_KEY_ID": gateway.access_key, "AWS_SECRET_ACCESS_KEY": gateway.secret_key,
           "AWS_DEFAULT_REGION": "us-east-1"}
    base = ["aws", "--endpoint-url", gateway.endpoint, "s3api"]
    until = future(3600).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = subprocess.run(base + ["put-object-retention", "--bucket", lbucket, "--key", "cli", "--version-id", vid,
                                 "--retention", "Mode=GOVERNANCE,RetainUntilDate=%s" % until],
                         env=env, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    out = subprocess.run(base + ["put-object-legal-hold", "--bucket", lbucket, "--key", "cli",
                                 "--legal-hold", "Status=ON"], env=env, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    out = subprocess.run(base + ["get-object-legal-hold", "--bucket", lbucket, "--key", "cli", "--version-id", vid,
                                 "--output", "json"], env=env, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"LegalHold": {"Status": "ON"}}
    r = s3.get_object_retention(Bucket=lbucket, Key="cli", VersionId=vid)["Retention"]
    assert r["Mode"] == "GOVERNANCE" and r["RetainUntilDate"].strftime("%Y-%m-%dT%H:%M:%SZ") == until
    out = subprocess.run(base + ["delete-object", "--bucket", lbucket, "--key", "cli", "--version-id", vid,
                                 "--bypass-governance-retention"], env=env, capture_output=True, timeout=120)
    assert out.returncode != 0 and b"AccessDenied" in out.stderr  # the hold stands
    assert body_of(s3, lbucket, "cli", vid) == b"cli bytes"


def test_lock_headers_shown_only_with_the_read_permissions(s3, lbucket, bob):
    name, client = bob
    vid = s3.put_object(Bucket=lbucket, Key="s", Body=b"seen", ObjectLockMode="GOVERNANCE",
                        ObjectLockRetainUntilDate=future(3600), ObjectLockLegalHoldStatus="ON")["VersionId"]
    grant(s3, lbucket, name, ["s3:GetObject", "s3:GetObjectVersion"])
    h = client.head_object(Bucket=lbucket, Key="s")
    assert "ObjectLockMode" not in h and "ObjectLockLegalHoldStatus" not in h
    grant(s3, lbucket, name, ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectRetention"])
    h = client.head_object(Bucket=lbucket, Key="s", VersionId=vid)
    assert h["ObjectLockMode"] == "GOVERNANCE" and "ObjectLockLegalHoldStatus" not in h
    assert s3.head_object(Bucket=lbucket, Key="s")["ObjectLockLegalHoldStatus"] == "ON"  # the owner sees all
