"""Object tagging with real clients: Put/Get/DeleteObjectTagging (boto3 and the AWS CLI s3api),
tags given at write time (x-amz-tagging on PutObject and CreateMultipartUpload, the tagging
directive of CopyObject), x-amz-tagging-count on GET and HEAD, versions named by versionId, S3's
limits and errors, and the tag condition keys of bucket policies. Every expectation is what
Amazon S3 answers.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import time

import botocore.exceptions
import pytest

import yc_raw
from conftest import make_client, random_keys

TAGGING_XML = b"<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>"


def error_of(fn, *args, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(*args, **kw)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r


def expect(status, code, fn, *args, **kw):
    got = error_of(fn, *args, **kw)
    assert got[:2] == (status, code), got[2]
    return got[2]


def tagset(d):
    return [{"Key": k, "Value": v} for k, v in d.items()]


def tags_of(s3, bucket, key, **kw):
    return {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=key, **kw)["TagSet"]}


def count_header(s3, bucket, key, **kw):
    return s3.head_object(Bucket=bucket, Key=key, **kw)["ResponseMetadata"]["HTTPHeaders"].get("x-amz-tagging-count")


# ---------------------------------------------------------------- the three calls

def test_put_get_delete_round_trip_and_count(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    assert tags_of(s3, bucket, "k") == {}
    assert count_header(s3, bucket, "k") is None
    r = s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tagset({"z": "1", "a": "", "m": "x y"})})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    got = s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]
    assert got == tagset({"a": "", "m": "x y", "z": "1"})  # key order, as S3 gives them back
    assert count_header(s3, bucket, "k") == "3"
    assert s3.get_object(Bucket=bucket, Key="k")["TagCount"] == 3
    # a new set replaces the old one whole
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tagset({"only": "one"})})
    assert tags_of(s3, bucket, "k") == {"only": "one"}
    # the data and the object's other attributes are untouched
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"data"
    r = s3.delete_object_tagging(Bucket=bucket, Key="k")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert tags_of(s3, bucket, "k") == {}
    assert "TagCount" not in s3.get_object(Bucket=bucket, Key="k")
    # an empty TagSet removes the tags too
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tagset({"a": "b"})})
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": []})
    assert tags_of(s3, bucket, "k") == {}


def test_missing_key_and_version(s3, bucket):
    expect(404, "NoSuchKey", s3.get_object_tagging, Bucket=bucket, Key="nothing")
    expect(404, "NoSuchKey", s3.put_object_tagging, Bucket=bucket, Key="nothing",
           Tagging={"TagSet": tagset({"a": "b"})})
    expect(404, "NoSuchKey", s3.delete_object_tagging, Bucket=bucket, Key="nothing")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    expect(404, "NoSuchVersion", s3.get_object_tagging, Bucket=bucket, Key="k",
           VersionId="f" * 32)
    expect(404, "NoSuchBucket", s3.get_object_tagging, Bucket=bucket + "-none", Key="k")


def test_put_object_tagging_needs_content_md5_or_a_checksum(gateway, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    r = yc_raw.request(gateway, "PUT", "/%s/k" % bucket, "tagging", body=TAGGING_XML)
    assert r.status == 400 and r.error()["Code"] == "InvalidRequest", r.body
    assert "Content-Md5" in r.error()["Message"]
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    r = yc_raw.request(gateway, "PUT", "/%s/k" % bucket, "tagging", body=TAGGING_XML, headers={"Content-MD5": bad})
    assert r.status == 400 and r.error()["Code"] == "BadDigest", r.body
    assert tags_of(s3, bucket, "k") == {}
    good = base64.b64encode(hashlib.md5(TAGGING_XML).digest()).decode()
    r = yc_raw.request(gateway, "PUT", "/%s/k" % bucket, "tagging", body=TAGGING_XML, headers={"Content-MD5": good})
    assert r.status == 200, r.body
    assert tags_of(s3, bucket, "k") == {"a": "b"}


def test_malformed_document_and_other_methods(gateway, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    body = b"<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>"
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    r = yc_raw.request(gateway, "PUT", "/%s/k" % bucket, "tagging", body=body, headers={"Content-MD5": md5})
    assert r.status == 400 and r.error()["Code"] == "MalformedXML", r.body
    r = yc_raw.request(gateway, "POST", "/%s/k" % bucket, "tagging")
    assert r.status == 405 and r.error()["Code"] == "MethodNotAllowed", r.body


# ---------------------------------------------------------------- limits and bad tags

def test_limits_on_put_object_tagging(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    put = s3.put_object_tagging
    ten = {"k%d" % i: "v" for i in range(10)}
    put(Bucket=bucket, Key="k", Tagging={"TagSet": tagset(ten)})
    assert tags_of(s3, bucket, "k") == ten
    eleven = dict(ten, k10="v")
    r = expect(400, "BadRequest", put, Bucket=bucket, Key="k", Tagging={"TagSet": tagset(eleven)})
    assert r["Error"]["Message"] == "Object tags cannot be greater than 10"
    put(Bucket=bucket, Key="k", Tagging={"TagSet": tagset({"k" * 128: "v" * 256})})
    expect(400, "InvalidTag", put, Bucket=bucket, Key="k", Tagging={"TagSet": tagset({"k" * 129: "v"})})
    expect(400, "InvalidTag", put, Bucket=bucket, Key="k", Tagging={"TagSet": tagset({"k": "v" * 257})})
    # lengths count UTF-16 units: a letter outside the BMP (CJK extension B) counts 2
    put(Bucket=bucket, Key="k", Tagging={"TagSet": tagset({"\U00020000" * 64: "\u4e91" * 256})})
    assert tags_of(s3, bucket, "k") == {"\U00020000" * 64: "\u4e91" * 256}
    expect(400, "InvalidTag", put, Bucket=bucket, Key="k", Tagging={"TagSet": tagset({"\U00020000" * 65: "v"})})
    r = expect(400, "InvalidTag", put, Bucket=bucket, Key="k", Tagging={"TagSet": tagset({"a*b": "v"})})
    assert r["Error"]["Message"] == "The TagKey you have provided is invalid"
    r = expect(400, "InvalidTag", put, Bucket=bucket, Key="k", Tagging={"TagSet": tagset({"a": "v!"})})
    assert r["Error"]["Message"] == "The TagValue you have provided is invalid"
    r = expect(400, "InvalidTag", put, Bucket=bucket, Key="k",
               Tagging={"TagSet": [{"Key": "d", "Value": "1"}, {"Key": "d", "Value": "2"}]})
    assert r["Error"]["Message"] == "Cannot provide multiple Tags with the same key"
    r = expect(400, "InvalidTag", put, Bucket=bucket, Key="k", Tagging={"TagSet": tagset({"AWS:x": "v"})})
    assert r["Error"]["Message"] == "Your TagKey cannot be prefixed with aws:"
    # nothing refused changed the tags
    assert tags_of(s3, bucket, "k") == {"\U00020000" * 64: "\u4e91" * 256}


def test_header_on_put_object_and_its_errors(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="team=blue&note=a%20b+c&empty=")
    assert tags_of(s3, bucket, "k") == {"team": "blue", "note": "a b c", "empty": ""}
    assert count_header(s3, bucket, "k") == "3"
    r = expect(400, "InvalidArgument", s3.put_object, Bucket=bucket, Key="bad", Body=b"x", Tagging="a=%ZZ")
    assert "x-amz-tagging" in r["Error"]["Message"]
    expect(400, "InvalidArgument", s3.put_object, Bucket=bucket, Key="bad", Body=b"x", Tagging="a=1&a=2")
    r = expect(400, "BadRequest", s3.put_object, Bucket=bucket, Key="bad", Body=b"x",
               Tagging="&".join("k%d=v" % i for i in range(11)))
    assert r["Error"]["Message"] == "Object tags cannot be greater than 10"
    expect(400, "InvalidTag", s3.put_object, Bucket=bucket, Key="bad", Body=b"x", Tagging="aws:k=v")
    expect(400, "InvalidTag", s3.put_object, Bucket=bucket, Key="bad", Body=b"x", Tagging="k=" + "v" * 257)
    # a refused PUT writes nothing
    expect(404, "NoSuchKey", s3.get_object, Bucket=bucket, Key="bad")


# ---------------------------------------------------------------- copy and multipart

def test_copy_directives(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"src", Tagging="a=1&b=2")
    src = {"Bucket": bucket, "Key": "src"}
    s3.copy_object(Bucket=bucket, Key="copy-default", CopySource=src)
    assert tags_of(s3, bucket, "copy-default") == {"a": "1", "b": "2"}
    s3.copy_object(Bucket=bucket, Key="copy-copy", CopySource=src, TaggingDirective="COPY", Tagging="ignored=1")
    assert tags_of(s3, bucket, "copy-copy") == {"a": "1", "b": "2"}
    s3.copy_object(Bucket=bucket, Key="copy-replace", CopySource=src, TaggingDirective="REPLACE", Tagging="c=3")
    assert tags_of(s3, bucket, "copy-replace") == {"c": "3"}
    s3.copy_object(Bucket=bucket, Key="copy-none", CopySource=src, TaggingDirective="REPLACE")
    assert tags_of(s3, bucket, "copy-none") == {}
    assert s3.get_object(Bucket=bucket, Key="copy-replace")["Body"].read() == b"src"
    r = expect(400, "InvalidArgument", s3.copy_object, Bucket=bucket, Key="copy-bad", CopySource=src,
               TaggingDirective="MERGE")
    assert r["Error"]["Message"] == "Unknown tagging directive."
    expect(404, "NoSuchKey", s3.get_object, Bucket=bucket, Key="copy-bad")
    expect(400, "InvalidTag", s3.copy_object, Bucket=bucket, Key="copy-bad", CopySource=src,
           TaggingDirective="REPLACE", Tagging="aws:x=1")
    # the source's tags as they are now, not as they were written
    s3.put_object_tagging(Bucket=bucket, Key="src", Tagging={"TagSet": tagset({"later": "yes"})})
    s3.copy_object(Bucket=bucket, Key="copy-later", CopySource=src)
    assert tags_of(s3, bucket, "copy-later") == {"later": "yes"}


def test_multipart_upload_gives_its_tags_at_complete(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="stage=raw&n=1")
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"p" * 1000)
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert tags_of(s3, bucket, "mp") == {"stage": "raw", "n": "1"}
    assert count_header(s3, bucket, "mp") == "2"
    expect(400, "InvalidTag", s3.create_multipart_upload, Bucket=bucket, Key="mp2", Tagging="a*=1")
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    # an upload without tags makes an object without tags
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp3")
    part = s3.upload_part(Bucket=bucket, Key="mp3", UploadId=up["UploadId"], PartNumber=1, Body=b"q")
    s3.complete_multipart_upload(Bucket=bucket, Key="mp3", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert tags_of(s3, bucket, "mp3") == {}


# ---------------------------------------------------------------- versions

def test_versioned_bucket_with_version_ids_and_delete_markers(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one", Tagging="gen=1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"two", Tagging="gen=2")["VersionId"]
    assert tags_of(s3, bucket, "k") == {"gen": "2"}
    r = s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=v1)
    assert r["VersionId"] == v1 and r["TagSet"] == tagset({"gen": "1"})
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["VersionId"] == v2
    # a change of one version leaves the others as they were
    r = s3.put_object_tagging(Bucket=bucket, Key="k", VersionId=v1, Tagging={"TagSet": tagset({"gen": "one"})})
    assert r["VersionId"] == v1
    assert tags_of(s3, bucket, "k", VersionId=v1) == {"gen": "one"}
    assert tags_of(s3, bucket, "k", VersionId=v2) == {"gen": "2"}
    assert count_header(s3, bucket, "k", VersionId=v1) == "1"
    r = s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tagset({"newest": "y"})})
    assert r["VersionId"] == v2
    r = s3.delete_object_tagging(Bucket=bucket, Key="k", VersionId=v1)
    assert r["VersionId"] == v1
    assert tags_of(s3, bucket, "k", VersionId=v1) == {}
    assert tags_of(s3, bucket, "k", VersionId=v2) == {"newest": "y"}
    # a delete marker has no tags: 405 MethodNotAllowed, whether named or the newest
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    for kw in ({}, {"VersionId": marker}):
        r = expect(405, "MethodNotAllowed", s3.get_object_tagging, Bucket=bucket, Key="k", **kw)
        assert r["ResponseMetadata"]["HTTPHeaders"].get("x-amz-delete-marker") == "true"
        assert r["ResponseMetadata"]["HTTPHeaders"].get("x-amz-version-id") == marker
        expect(405, "MethodNotAllowed", s3.put_object_tagging, Bucket=bucket, Key="k",
               Tagging={"TagSet": tagset({"a": "b"})}, **kw)
        expect(405, "MethodNotAllowed", s3.delete_object_tagging, Bucket=bucket, Key="k", **kw)
    # the versions under the marker are still reachable by id
    assert tags_of(s3, bucket, "k", VersionId=v2) == {"newest": "y"}


def test_aws_cli_put_and_get_object_tagging(gateway, s3, bucket, tmp_path):
    s3.put_object(Bucket=bucket, Key="cli", Body=b"x")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=gateway.access_key, AWS_SECRET_ACCESS_KEY=gateway.secret_key,
               AWS_DEFAULT_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true", AWS_PAGER="",
               AWS_CONFIG_FILE=str(tmp_path / "config"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"))
    (tmp_path / "config").write_text("[default]\nregion = us-east-1\nmax_attempts = 1\ns3 =\n"
                                     "    addressing_style = path\n")
    (tmp_path / "credentials").write_text("")

    def aws(*args):
        return subprocess.run(["aws", "--endpoint-url", gateway.endpoint, "s3api"] + list(args), env=env,
                              capture_output=True, text=True, timeout=120)

    tagging = json.dumps({"TagSet": [{"Key": "from", "Value": "cli"}, {"Key": "n", "Value": "7"}]})
    r = aws("put-object-tagging", "--bucket", bucket, "--key", "cli", "--tagging", tagging)
    assert r.returncode == 0, r.stderr
    r = aws("get-object-tagging", "--bucket", bucket, "--key", "cli")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["TagSet"] == [{"Key": "from", "Value": "cli"}, {"Key": "n", "Value": "7"}]
    assert tags_of(s3, bucket, "cli") == {"from": "cli", "n": "7"}
    bad = json.dumps({"TagSet": [{"Key": "k%d" % i, "Value": "v"} for i in range(11)]})
    r = aws("put-object-tagging", "--bucket", bucket, "--key", "cli", "--tagging", bad)
    assert r.returncode != 0 and "BadRequest" in r.stderr and "cannot be greater than 10" in r.stderr
    r = aws("delete-object-tagging", "--bucket", bucket, "--key", "cli")
    assert r.returncode == 0, r.stderr
    assert tags_of(s3, bucket, "cli") == {}


def test_presigned_put_with_x_amz_tagging_in_its_query(gateway, s3, bucket):
    """boto3's SigV2 presigner (signature_version "s3", its default for presigned URLs) moves
    x-amz-tagging into the URL's query and signs it as a header: S3 takes it as the header, so the
    object gets the tags. (The SigV4 presigner signs it as a header the client must send.)"""
    import requests  # the HTTP client a presigned URL is typically used with

    v2 = make_client(gateway.endpoint, gateway.access_key, gateway.secret_key, signature_version="s3")
    url = v2.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "p", "Tagging": "a=1&b=two"},
                                    ExpiresIn=300)
    assert "x-amz-tagging=" in url
    r = requests.put(url, data=b"presigned")
    assert r.status_code == 200, r.text
    assert tags_of(s3, bucket, "p") == {"a": "1", "b": "two"}
    # a changed value in the query no longer matches the signature
    r = requests.put(url.replace("b%3Dtwo", "b%3Dthree"), data=b"presigned")
    assert r.status_code == 403 and "SignatureDoesNotMatch" in r.text
    assert tags_of(s3, bucket, "p") == {"a": "1", "b": "two"}


# ---------------------------------------------------------------- policies

@pytest.fixture(scope="module")
def bob(gateway):
    ak, sk = random_keys()
    name = "bob-%s" % ak[-6:].lower()
    gateway.admin("user", "add", name, ak, sk, "--create-buckets")
    return name, make_client(gateway.endpoint, ak, sk)


def set_policy(s3, bucket, *statements):
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def test_get_object_allowed_only_with_an_existing_object_tag(s3, bucket, bob):
    name, client = bob
    s3.put_object(Bucket=bucket, Key="open", Body=b"o", Tagging="visibility=public")
    s3.put_object(Bucket=bucket, Key="closed", Body=b"c", Tagging="visibility=private")
    s3.put_object(Bucket=bucket, Key="untagged", Body=b"u")
    set_policy(s3, bucket, {
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/%s" % name},
        "Action": ["s3:GetObject", "s3:GetObjectTagging"], "Resource": "arn:aws:s3:::%s/*" % bucket,
        "Condition": {"StringEquals": {"s3:ExistingObjectTag/visibility": "public"}}})
    assert client.get_object(Bucket=bucket, Key="open")["Body"].read() == b"o"
    assert client.head_object(Bucket=bucket, Key="open")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert client.get_object_tagging(Bucket=bucket, Key="open")["TagSet"] == tagset({"visibility": "public"})
    expect(403, "AccessDenied", client.get_object, Bucket=bucket, Key="closed")
    expect(403, "AccessDenied", client.get_object, Bucket=bucket, Key="untagged")
    expect(403, "AccessDenied", client.get_object_tagging, Bucket=bucket, Key="closed")
    # the decision follows the tags as they change, with no delay (the policy is unchanged)
    s3.put_object_tagging(Bucket=bucket, Key="closed", Tagging={"TagSet": tagset({"visibility": "public"})})
    assert client.get_object(Bucket=bucket, Key="closed")["Body"].read() == b"c"
    s3.delete_object_tagging(Bucket=bucket, Key="open")
    expect(403, "AccessDenied", client.get_object, Bucket=bucket, Key="open")
    # the grant names GetObjectTagging, not PutObjectTagging or DeleteObjectTagging
    expect(403, "AccessDenied", client.put_object_tagging, Bucket=bucket, Key="closed",
           Tagging={"TagSet": tagset({"visibility": "public"})})
    expect(403, "AccessDenied", client.delete_object_tagging, Bucket=bucket, Key="closed")


def test_existing_object_tag_on_the_object_acl_calls(s3, bucket, bob):
    name, client = bob
    s3.put_object(Bucket=bucket, Key="open", Body=b"o", Tagging="visibility=public")
    s3.put_object(Bucket=bucket, Key="closed", Body=b"c", Tagging="visibility=private")
    set_policy(s3, bucket, {
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/%s" % name},
        "Action": "s3:GetObjectAcl", "Resource": "arn:aws:s3:::%s/*" % bucket,
        "Condition": {"StringEquals": {"s3:ExistingObjectTag/visibility": "public"}}})
    assert client.get_object_acl(Bucket=bucket, Key="open")["Grants"]
    expect(403, "AccessDenied", client.get_object_acl, Bucket=bucket, Key="closed")
    expect(403, "AccessDenied", client.get_object, Bucket=bucket, Key="open")


def test_request_object_tag_keys_on_put(s3, bucket, bob):
    name, client = bob
    set_policy(s3, bucket, {
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/%s" % name},
        "Action": ["s3:PutObject", "s3:PutObjectTagging"], "Resource": "arn:aws:s3:::%s/*" % bucket,
        "Condition": {"StringEquals": {"s3:RequestObjectTag/team": "blue"},
                      "ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["team", "cost"]}}})
    client.put_object(Bucket=bucket, Key="ok", Body=b"x", Tagging="team=blue&cost=1")
    assert tags_of(s3, bucket, "ok") == {"team": "blue", "cost": "1"}
    expect(403, "AccessDenied", client.put_object, Bucket=bucket, Key="no", Body=b"x", Tagging="team=red")
    expect(403, "AccessDenied", client.put_object, Bucket=bucket, Key="no", Body=b"x")
    expect(403, "AccessDenied", client.put_object, Bucket=bucket, Key="no", Body=b"x", Tagging="team=blue&other=1")
    client.put_object_tagging(Bucket=bucket, Key="ok", Tagging={"TagSet": tagset({"team": "blue"})})
    assert tags_of(s3, bucket, "ok") == {"team": "blue"}
    expect(403, "AccessDenied", client.put_object_tagging, Bucket=bucket, Key="ok",
           Tagging={"TagSet": tagset({"team": "green"})})
    assert tags_of(s3, bucket, "ok") == {"team": "blue"}


def test_version_actions_of_the_tagging_calls(s3, bucket, bob):
    name, client = bob
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    vid = s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1")["VersionId"]
    set_policy(s3, bucket, {
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/%s" % name},
        "Action": ["s3:GetObjectTagging", "s3:PutObjectVersionTagging"],
        "Resource": "arn:aws:s3:::%s/*" % bucket})
    assert client.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == tagset({"a": "1"})
    expect(403, "AccessDenied", client.get_object_tagging, Bucket=bucket, Key="k", VersionId=vid)
    expect(403, "AccessDenied", client.put_object_tagging, Bucket=bucket, Key="k",
           Tagging={"TagSet": tagset({"a": "2"})})
    client.put_object_tagging(Bucket=bucket, Key="k", VersionId=vid, Tagging={"TagSet": tagset({"a": "2"})})
    assert tags_of(s3, bucket, "k") == {"a": "2"}
    expect(403, "AccessDenied", client.delete_object_tagging, Bucket=bucket, Key="k")


def test_tags_survive_a_restart(gateway_factory):
    gw = gateway_factory()
    s3 = gw.client()
    s3.create_bucket(Bucket="tags-restart")
    s3.put_object(Bucket="tags-restart", Key="k", Body=b"x", Tagging="kept=yes")
    s3.put_object_tagging(Bucket="tags-restart", Key="k", Tagging={"TagSet": tagset({"kept": "still"})})
    gw.restart()
    deadline = time.monotonic() + 20
    while True:
        try:
            assert tags_of(gw.client(), "tags-restart", "k") == {"kept": "still"}
            break
        except botocore.exceptions.ClientError as e:
            if e.response["ResponseMetadata"]["HTTPStatusCode"] != 503 or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


# ---------------------------------------------------------------- two gateways

def test_a_change_through_one_gateway_is_seen_through_another():
    """Two gateways over the same yc-store daemons: tags written, changed and removed through one
    are read through the other at once (tags live in the object's records on the drives, and no
    gateway caches them)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fault"))
    import cluster as yc

    cl, gw2 = yc.Cluster(nodes=3, drives_per_node=2), None
    try:
        cl.start()
        gw2 = yc.NetGateway(os.path.join(cl.root, "gateway2"), cl.access_key, cl.secret_key, cl.drives_list(),
                            cl.secret, cl.gateway_args).start()
        a, b = cl.client(), gw2.client()
        a.create_bucket(Bucket="two-gateways")
        a.put_object(Bucket="two-gateways", Key="k", Body=b"x" * 200000, Tagging="from=a")
        assert tags_of(b, "two-gateways", "k") == {"from": "a"}
        assert count_header(b, "two-gateways", "k") == "1"
        b.put_object_tagging(Bucket="two-gateways", Key="k", Tagging={"TagSet": tagset({"from": "b", "n": "2"})})
        assert tags_of(a, "two-gateways", "k") == {"from": "b", "n": "2"}
        assert a.get_object(Bucket="two-gateways", Key="k")["TagCount"] == 2
        a.delete_object_tagging(Bucket="two-gateways", Key="k")
        assert tags_of(b, "two-gateways", "k") == {}
        assert count_header(b, "two-gateways", "k") is None
    finally:
        if gw2 is not None:
            gw2.stop()
        cl.close()
