"""GetObjectAttributes through boto3 and the AWS CLI: ETag, Checksum, ObjectParts (paged with
max-parts and part-number-marker), StorageClass and ObjectSize, each only when asked for; version
ids and delete markers; the errors S3 gives for a missing or unknown attribute name.
"""
import base64
import json
import os
import subprocess
import zlib

import botocore.exceptions
import pytest

import yc_raw

MiB = 1024 * 1024
ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]


def error_of(fn, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(*args, **kwargs)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"], r


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def test_single_put_attributes(s3, bucket):
    body = b"hello attributes"
    put = s3.put_object(Bucket=bucket, Key="k", Body=body, ChecksumAlgorithm="CRC32")
    r = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=ALL)
    assert r["ETag"] == put["ETag"].strip('"')  # unquoted, as S3 writes it here
    assert r["ObjectSize"] == len(body)
    assert r["StorageClass"] == "STANDARD"
    assert r["Checksum"]["ChecksumCRC32"] == crc32_b64(body)
    assert "ObjectParts" not in r  # a single PUT has no parts to show
    head = s3.head_object(Bucket=bucket, Key="k")
    assert r["LastModified"] == head["LastModified"]


def test_only_the_attributes_asked_for(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"abc")
    r = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"])
    assert r["ObjectSize"] == 3
    for absent in ("ETag", "StorageClass", "Checksum", "ObjectParts"):
        assert absent not in r


def test_without_a_checksum_there_is_no_checksum_element(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"abc")
    r = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["Checksum", "ETag"])
    assert "Checksum" not in r and r["ETag"]


def multipart_object(s3, bucket, key, nparts, algorithm=None):
    kw = {"ChecksumAlgorithm": algorithm} if algorithm else {}
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **kw)["UploadId"]
    parts, datas = [], []
    for n in range(1, nparts + 1):
        data = os.urandom(5 * MiB if n < nparts else 1234 + n)
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=n, Body=data, **kw)
        p = {"PartNumber": n, "ETag": r["ETag"]}
        if algorithm:
            p["Checksum" + algorithm] = r["Checksum" + algorithm]
        parts.append(p)
        datas.append(data)
    done = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up, MultipartUpload={"Parts": parts})
    return done, datas


def test_multipart_parts_and_paging(s3, bucket):
    done, datas = multipart_object(s3, bucket, "mp", 3, "CRC32")
    r = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=ALL)
    assert r["ETag"] == done["ETag"].strip('"') and r["ETag"].endswith("-3")
    assert r["ObjectSize"] == sum(len(d) for d in datas)
    assert r["Checksum"]["ChecksumCRC32"].endswith("-3")  # composite, as CompleteMultipartUpload answered
    op = r["ObjectParts"]
    assert op["TotalPartsCount"] == 3 and op["IsTruncated"] is False
    assert [(p["PartNumber"], p["Size"]) for p in op["Parts"]] == [(i + 1, len(d)) for i, d in enumerate(datas)]
    assert [p["ChecksumCRC32"] for p in op["Parts"]] == [crc32_b64(d) for d in datas]
    # page through: two parts, then the rest from the marker
    page = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"], MaxParts=2)["ObjectParts"]
    assert [p["PartNumber"] for p in page["Parts"]] == [1, 2]
    assert page["IsTruncated"] is True and page["NextPartNumberMarker"] == 2 and page["MaxParts"] == 2
    page = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"], MaxParts=2,
                                    PartNumberMarker=2)["ObjectParts"]
    assert [p["PartNumber"] for p in page["Parts"]] == [3]
    assert page["IsTruncated"] is False and page["PartNumberMarker"] == 2


def test_versions_and_delete_markers(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"second")["VersionId"]
    r = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=["ObjectSize"])
    assert r["ObjectSize"] == 6 and r["VersionId"] == v2
    r = s3.get_object_attributes(Bucket=bucket, Key="k", VersionId=v1, ObjectAttributes=["ObjectSize"])
    assert r["ObjectSize"] == 3 and r["VersionId"] == v1
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    status, code, _, resp = error_of(s3.get_object_attributes, Bucket=bucket, Key="k", ObjectAttributes=["ETag"])
    assert (status, code) == (404, "NoSuchKey")
    assert resp["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    status, code, _, _ = error_of(s3.get_object_attributes, Bucket=bucket, Key="k", VersionId=marker,
                                  ObjectAttributes=["ETag"])
    assert (status, code) == (405, "MethodNotAllowed")


def test_errors(gateway, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"abc")
    assert error_of(s3.get_object_attributes, Bucket=bucket, Key="absent", ObjectAttributes=["ETag"])[:2] == \
        (404, "NoSuchKey")
    status, code, err, _ = error_of(s3.get_object_attributes, Bucket=bucket, Key="k", ObjectAttributes=["Size"])
    assert (status, code) == (400, "InvalidArgument") and err["Message"] == "Invalid attribute name specified."
    # the header is required
    r = yc_raw.request(gateway, "GET", "/%s/k" % bucket, "attributes")
    assert r.status == 400 and r.error()["Code"] == "InvalidArgument"
    assert "x-amz-object-attributes" in r.error()["Message"]
    assert r.error()["RequestId"]
    r = yc_raw.request(gateway, "GET", "/%s/k" % bucket, "attributes", headers={"x-amz-object-attributes": "ETag",
                                                                                 "x-amz-max-parts": "x"})
    assert r.status == 400 and r.error()["Code"] == "InvalidArgument"
    # the sub-resource on another method is not served as a plain object request
    r = yc_raw.request(gateway, "PUT", "/%s/k" % bucket, "attributes", body=b"overwrite?")
    assert r.status == 501
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"abc"


def test_aws_cli_get_object_attributes(gateway, s3, bucket, tmp_path):
    s3.put_object(Bucket=bucket, Key="cli", Body=b"x" * 100)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "AWS_ACCESS_KEY_ID": gateway.access_key, "AWS_SECRET_ACCESS_KEY": gateway.secret_key,
           "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(["aws", "--endpoint-url", gateway.endpoint, "--output", "json", "s3api",
                          "get-object-attributes", "--bucket", bucket, "--key", "cli", "--object-attributes",
                          "ObjectSize", "StorageClass", "ETag"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["ObjectSize"] == 100 and doc["StorageClass"] == "STANDARD" and len(doc["ETag"]) == 32
