"""Bucket versioning with boto3: one test per behaviour of S3's contract (issue 12, first part).

Each test makes its own bucket. Versioned buckets cannot be emptied by the shared cleanup (it
removes current objects only), so their namespaces are left to the sweep of a deleted bucket.
"""
import botocore.exceptions
import pytest

from conftest import unique_bucket_name


def code(exc):
    return exc.value.response["Error"]["Code"]


def status(exc):
    return exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


def headers(exc):
    return exc.value.response["ResponseMetadata"]["HTTPHeaders"]


@pytest.fixture
def vbucket(s3):
    name = unique_bucket_name("yc-ver")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def test_bucket_versioning_state_when_enabled_then_suspended(s3, bucket):
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_bucket_versioning_refused_when_status_unknown(s3, bucket):
    body = b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>On</Status></VersioningConfiguration>'

    def replace_body(request, **kwargs):
        request.data = body
        request.headers["Content-Length"] = str(len(body))
        if "Content-MD5" in request.headers:
            del request.headers["Content-MD5"]

    s3.meta.events.register_first("before-sign.s3.PutBucketVersioning", replace_body)
    try:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        assert code(e) == "MalformedXML" and status(e) == 400
    finally:
        s3.meta.events.unregister("before-sign.s3.PutBucketVersioning", replace_body)
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)


def test_put_returns_new_version_ids_when_enabled(s3, vbucket):
    a = s3.put_object(Bucket=vbucket, Key="k", Body=b"one")["VersionId"]
    b = s3.put_object(Bucket=vbucket, Key="k", Body=b"two")["VersionId"]
    assert a != b and "null" not in (a, b)
    assert b < a  # ids sort newest first
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"two"
    got = s3.get_object(Bucket=vbucket, Key="k", VersionId=a)
    assert got["Body"].read() == b"one" and got["VersionId"] == a
    assert s3.head_object(Bucket=vbucket, Key="k", VersionId=b)["VersionId"] == b
    big = b"x" * (300 * 1024)  # shard files, not inline
    c = s3.put_object(Bucket=vbucket, Key="k", Body=big)["VersionId"]
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId=c)["Body"].read() == big
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId=a)["Body"].read() == b"one"


def test_get_refused_when_version_id_unknown_or_invalid(s3, vbucket):
    s3.put_object(Bucket=vbucket, Key="k", Body=b"one")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k", VersionId="f" * 32)
    assert code(e) == "NoSuchVersion" and status(e) == 404
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k", VersionId="not-a-version")
    assert code(e) == "InvalidArgument" and status(e) == 400


def test_delete_adds_marker_when_enabled(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"one")["VersionId"]
    d = s3.delete_object(Bucket=vbucket, Key="k")
    assert d["DeleteMarker"] is True and d["VersionId"] not in (v1, "null")
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k")
    assert status(e) == 404 and headers(e).get("x-amz-delete-marker") == "true"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.head_object(Bucket=vbucket, Key="k", VersionId=d["VersionId"])
    assert status(e) == 405
    # the older version is still there, by its id
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId=v1)["Body"].read() == b"one"
    assert "Contents" not in s3.list_objects_v2(Bucket=vbucket)


def test_delete_with_version_id_removes_it_when_given(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=vbucket, Key="k", Body=b"two")["VersionId"]
    r = s3.delete_object(Bucket=vbucket, Key="k", VersionId=v2)
    assert r["VersionId"] == v2 and "DeleteMarker" not in r
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"one"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k", VersionId=v2)
    assert code(e) == "NoSuchVersion"
    # removing the marker brings the object back
    m = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    r = s3.delete_object(Bucket=vbucket, Key="k", VersionId=m)
    assert r["DeleteMarker"] is True and r["VersionId"] == m
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId=v1)["VersionId"] == v1
    assert s3.get_object(Bucket=vbucket, Key="k")["Body"].read() == b"one"


def test_suspended_put_replaces_null_version_and_keeps_others(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"versioned")["VersionId"]
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.put_object(Bucket=vbucket, Key="k", Body=b"null-1")["VersionId"] == "null"
    assert s3.put_object(Bucket=vbucket, Key="k", Body=b"null-2")["VersionId"] == "null"
    got = s3.get_object(Bucket=vbucket, Key="k")
    assert got["Body"].read() == b"null-2" and got["VersionId"] == "null"
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId="null")["Body"].read() == b"null-2"
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId=v1)["Body"].read() == b"versioned"
    # a delete while suspended puts a null marker in the null version's place
    d = s3.delete_object(Bucket=vbucket, Key="k")
    assert d["DeleteMarker"] is True and d["VersionId"] == "null"
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId=v1)["Body"].read() == b"versioned"


def test_unversioned_bucket_shows_no_version_ids(s3, bucket):
    r = s3.put_object(Bucket=bucket, Key="k", Body=b"one")
    assert "VersionId" not in r
    got = s3.get_object(Bucket=bucket, Key="k", VersionId="null")
    assert got["Body"].read() == b"one" and "VersionId" not in got
    d = s3.delete_object(Bucket=bucket, Key="k")
    assert "DeleteMarker" not in d
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=bucket, Key="k")
    assert code(e) == "NoSuchKey" and "x-amz-delete-marker" not in headers(e)


def test_delete_objects_with_versions_and_markers(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="a", Body=b"a1")["VersionId"]
    v2 = s3.put_object(Bucket=vbucket, Key="a", Body=b"a2")["VersionId"]
    s3.put_object(Bucket=vbucket, Key="b", Body=b"b1")
    r = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "a", "VersionId": v2}, {"Key": "b"}]})
    deleted = {d["Key"]: d for d in r["Deleted"]}
    assert deleted["a"]["VersionId"] == v2 and "DeleteMarker" not in deleted["a"]
    assert deleted["b"]["DeleteMarker"] is True and deleted["b"]["DeleteMarkerVersionId"]
    assert s3.get_object(Bucket=vbucket, Key="a")["VersionId"] == v1
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=vbucket)["Contents"]] == ["a"]


def test_list_shows_newest_version_when_keys_have_many(s3, vbucket):
    for i in range(12):
        for key in ("m1", "m2", "m3"):
            s3.put_object(Bucket=vbucket, Key=key, Body=b"%s-%d" % (key.encode(), i))
    s3.delete_object(Bucket=vbucket, Key="m2")  # newest is a marker: not listed
    listed = s3.list_objects_v2(Bucket=vbucket)["Contents"]
    assert [o["Key"] for o in listed] == ["m1", "m3"]
    assert [o["Size"] for o in listed] == [len(b"m1-11"), len(b"m3-11")]
    page = s3.list_objects_v2(Bucket=vbucket, MaxKeys=1)
    assert [o["Key"] for o in page["Contents"]] == ["m1"]
    page = s3.list_objects_v2(Bucket=vbucket, ContinuationToken=page["NextContinuationToken"])
    assert [o["Key"] for o in page["Contents"]] == ["m3"]


def test_multipart_complete_creates_version_when_enabled(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="mp", Body=b"single")["VersionId"]
    up = s3.create_multipart_upload(Bucket=vbucket, Key="mp")["UploadId"]
    e = s3.upload_part(Bucket=vbucket, Key="mp", UploadId=up, PartNumber=1, Body=b"part one")["ETag"]
    done = s3.complete_multipart_upload(Bucket=vbucket, Key="mp", UploadId=up,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
    assert done["VersionId"] not in (v1, "null")
    assert s3.get_object(Bucket=vbucket, Key="mp")["Body"].read() == b"part one"
    assert s3.get_object(Bucket=vbucket, Key="mp", VersionId=v1)["Body"].read() == b"single"
