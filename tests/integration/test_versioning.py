"""Bucket versioning with boto3: one test per behaviour of S3's contract (issue 12, first part).

Each test makes its own bucket. Versioned buckets cannot be emptied by the shared cleanup (it
removes current objects only), so their namespaces are left to the sweep of a deleted bucket.
"""
import json
import os
import subprocess

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
    # the write of a null version answers no version id, as S3 (reads name it "null")
    assert "VersionId" not in s3.put_object(Bucket=vbucket, Key="k", Body=b"null-1")
    assert "VersionId" not in s3.put_object(Bucket=vbucket, Key="k", Body=b"null-2")
    got = s3.get_object(Bucket=vbucket, Key="k")
    assert got["Body"].read() == b"null-2" and got["VersionId"] == "null"
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId="null")["Body"].read() == b"null-2"
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId=v1)["Body"].read() == b"versioned"
    # a delete while suspended puts a null marker in the null version's place
    d = s3.delete_object(Bucket=vbucket, Key="k")
    assert d["DeleteMarker"] is True and d["VersionId"] == "null"
    assert s3.get_object(Bucket=vbucket, Key="k", VersionId=v1)["Body"].read() == b"versioned"


def test_writes_in_suspended_bucket_answer_no_version_id(gateway, s3, vbucket, tmp_path):
    enabled = s3.put_object(Bucket=vbucket, Key="src", Body=b"source")["VersionId"]
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Suspended"})
    copy = s3.copy_object(Bucket=vbucket, Key="copy", CopySource={"Bucket": vbucket, "Key": "src"})
    assert "VersionId" not in copy and copy["CopySourceVersionId"] == enabled
    up = s3.create_multipart_upload(Bucket=vbucket, Key="mp")["UploadId"]
    part = s3.upload_part(Bucket=vbucket, Key="mp", UploadId=up, PartNumber=1, Body=b"m" * 100)
    done = s3.complete_multipart_upload(Bucket=vbucket, Key="mp", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert "VersionId" not in done
    for key in ("copy", "mp"):
        assert s3.head_object(Bucket=vbucket, Key=key)["VersionId"] == "null"
    # the AWS CLI prints no VersionId for such a write
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "AWS_ACCESS_KEY_ID": gateway.access_key, "AWS_SECRET_ACCESS_KEY": gateway.secret_key,
           "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(["aws", "--endpoint-url", gateway.endpoint, "s3api", "put-object", "--bucket", vbucket,
                          "--key", "cli", "--output", "json"], env=env, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "VersionId" not in json.loads(out.stdout)
    # enabled again: every write names its version, and the listing shows that id
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Enabled"})
    vid = s3.copy_object(Bucket=vbucket, Key="copy", CopySource={"Bucket": vbucket, "Key": "src"})["VersionId"]
    listed = s3.list_object_versions(Bucket=vbucket, Prefix="copy")["Versions"]
    assert [(v["VersionId"], v["IsLatest"]) for v in listed] == [(vid, True), ("null", False)]


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


# ---------------------------------------------------------------- ListObjectVersions


def all_versions(s3, bucket, **kwargs):
    """Every page of ListObjectVersions: (entries in listing order, pages). An entry is
    (key, version id, is latest, is a delete marker); a page's entries are its Versions and
    DeleteMarkers merged back in listing order (keys ascending, then newest first)."""
    entries, pages, marker = [], [], {}
    while True:
        page = s3.list_object_versions(Bucket=bucket, **kwargs, **marker)
        pages.append(page)
        got = [(v["Key"], v["VersionId"], v["IsLatest"], False, v["LastModified"]) for v in page.get("Versions", [])]
        got += [(d["Key"], d["VersionId"], d["IsLatest"], True, d["LastModified"]) for d in page.get("DeleteMarkers", [])]
        # keys ascending; inside a key, newest first (ids sort newest first, "null" by its time)
        got.sort(key=lambda e: (e[0], -e[4].timestamp(), e[1]))
        entries += [e[:4] for e in got]
        if not page["IsTruncated"]:
            return entries, pages
        marker = {"KeyMarker": page["NextKeyMarker"]}
        if "NextVersionIdMarker" in page:
            marker["VersionIdMarker"] = page["NextVersionIdMarker"]


def test_list_versions_pages_many_versions_of_one_key(s3, vbucket):
    ids = [s3.put_object(Bucket=vbucket, Key="hot", Body=b"v%d" % i)["VersionId"] for i in range(25)]
    entries, pages = all_versions(s3, vbucket, MaxKeys=7)
    assert [len(p.get("Versions", [])) for p in pages] == [7, 7, 7, 4]
    assert [e[1] for e in entries] == ids[::-1]  # every version, newest first
    assert [e[2] for e in entries] == [True] + [False] * 24
    first = pages[0]
    assert first["NextKeyMarker"] == "hot" and first["NextVersionIdMarker"] == ids[-7]
    assert first["MaxKeys"] == 7 and first["IsTruncated"] is True
    assert pages[1]["KeyMarker"] == "hot" and pages[1]["VersionIdMarker"] == ids[-7]
    v = pages[0]["Versions"][0]
    assert v["Size"] == 3 and v["ETag"].strip('"') and v["StorageClass"] == "STANDARD" and v["Owner"]["ID"]
    # ListObjectsV2 still shows the key once, with its newest bytes
    assert [(o["Key"], o["Size"]) for o in s3.list_objects_v2(Bucket=vbucket)["Contents"]] == [("hot", 3)]


def test_list_versions_pages_across_keys_with_markers(s3, vbucket):
    want = []
    for key in ("a", "b", "c"):
        ids = [s3.put_object(Bucket=vbucket, Key=key, Body=key.encode() * (i + 1))["VersionId"] for i in range(3)]
        want.append([(key, vid) for vid in ids[::-1]])
    marker = s3.delete_object(Bucket=vbucket, Key="b")["VersionId"]
    want[1].insert(0, ("b", marker))
    want = [e for group in want for e in group]
    for max_keys in (1, 2, 4, 10, 1000):
        entries, pages = all_versions(s3, vbucket, MaxKeys=max_keys)
        assert [(e[0], e[1]) for e in entries] == want, max_keys
        assert all(len(p.get("Versions", [])) + len(p.get("DeleteMarkers", [])) <= max_keys for p in pages)
        assert len(pages) == -(-len(want) // max_keys), max_keys
    entries, _ = all_versions(s3, vbucket)
    latest = {e[0]: (e[1], e[3]) for e in entries if e[2]}
    assert latest == {"a": (want[0][1], False), "b": (marker, True), "c": (want[7][1], False)}
    one = s3.list_object_versions(Bucket=vbucket)
    dm = one["DeleteMarkers"]
    assert len(dm) == 1 and dm[0]["Key"] == "b" and dm[0]["IsLatest"] is True and dm[0]["Owner"]["ID"]
    assert "Size" not in dm[0] and "ETag" not in dm[0]
    # key-marker alone: the keys after it
    page = s3.list_object_versions(Bucket=vbucket, KeyMarker="a")
    assert [v["Key"] for v in page["Versions"]] == ["b"] * 3 + ["c"] * 3
    # key-marker with a version-id-marker: that key's versions after it, then the keys after it
    page = s3.list_object_versions(Bucket=vbucket, KeyMarker="b", VersionIdMarker=marker)
    assert [(v["Key"], v["VersionId"]) for v in page["Versions"]] == want[4:]
    assert "DeleteMarkers" not in page
    page = s3.list_object_versions(Bucket=vbucket, KeyMarker="b", VersionIdMarker=want[6][1])
    assert [(v["Key"], v["VersionId"]) for v in page["Versions"]] == want[7:]


def test_list_versions_refused_when_version_id_marker_bad(s3, vbucket):
    s3.put_object(Bucket=vbucket, Key="k", Body=b"one")
    for kwargs, message in (({"KeyMarker": "k", "VersionIdMarker": "f" * 32}, "Invalid version id specified"),
                            ({"KeyMarker": "k", "VersionIdMarker": "nope"}, "Invalid version id specified"),
                            ({"VersionIdMarker": "null"}, "A version-id marker cannot be specified without a key marker.")):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            s3.list_object_versions(Bucket=vbucket, **kwargs)
        assert code(e) == "InvalidArgument" and status(e) == 400, kwargs
        assert e.value.response["Error"]["Message"] == message
        assert e.value.response["Error"]["ArgumentName"] == "version-id-marker"
        assert e.value.response["ResponseMetadata"]["RequestId"]


def test_list_versions_with_prefix_delimiter_and_url_encoding(s3, vbucket):
    for key in ("docs/a", "docs/a", "docs/sub/x", "docs/sub/y", "docs/z w", "other"):
        s3.put_object(Bucket=vbucket, Key=key, Body=b"x")
    page = s3.list_object_versions(Bucket=vbucket, Prefix="docs/", Delimiter="/")
    assert [v["Key"] for v in page["Versions"]] == ["docs/a", "docs/a", "docs/z w"]
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["docs/sub/"]
    assert page["Prefix"] == "docs/" and page["Delimiter"] == "/"
    # a common prefix counts once against max-keys, and paging resumes after it
    page = s3.list_object_versions(Bucket=vbucket, Prefix="docs/", Delimiter="/", MaxKeys=3)
    assert [v["Key"] for v in page["Versions"]] == ["docs/a", "docs/a"]
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["docs/sub/"]
    assert page["IsTruncated"] is True and page["NextKeyMarker"] == "docs/sub/" and "NextVersionIdMarker" not in page
    page = s3.list_object_versions(Bucket=vbucket, Prefix="docs/", Delimiter="/", KeyMarker=page["NextKeyMarker"])
    assert [v["Key"] for v in page["Versions"]] == ["docs/z w"] and "CommonPrefixes" not in page
    # encoding-type=url asked for by the caller: keys come encoded, and botocore leaves them so
    page = s3.list_object_versions(Bucket=vbucket, Prefix="docs/z", EncodingType="url")
    assert [v["Key"] for v in page["Versions"]] == ["docs/z%20w"] and page["EncodingType"] == "url"
    assert page["Prefix"] == "docs/z"


def test_list_versions_shows_null_version_once_when_suspended(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="k", Body=b"versioned")["VersionId"]
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Suspended"})
    for i in range(3):
        s3.put_object(Bucket=vbucket, Key="k", Body=b"null-%d" % i)
    page = s3.list_object_versions(Bucket=vbucket)
    assert [(v["VersionId"], v["IsLatest"], v["Size"]) for v in page["Versions"]] == [
        ("null", True, len(b"null-2")), (v1, False, len(b"versioned"))]
    s3.delete_object(Bucket=vbucket, Key="k")  # a null marker replaces the null version
    page = s3.list_object_versions(Bucket=vbucket)
    assert [(v["VersionId"], v["IsLatest"]) for v in page["Versions"]] == [(v1, False)]
    assert [(d["VersionId"], d["IsLatest"]) for d in page["DeleteMarkers"]] == [("null", True)]


def test_list_versions_shows_null_ids_when_never_versioned(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"one")
    s3.put_object(Bucket=bucket, Key="k", Body=b"two")
    page = s3.list_object_versions(Bucket=bucket)
    assert [(v["Key"], v["VersionId"], v["IsLatest"], v["Size"]) for v in page["Versions"]] == [("k", "null", True, 3)]


def test_list_versions_after_delete_objects_with_versions(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="a", Body=b"a1")["VersionId"]
    v2 = s3.put_object(Bucket=vbucket, Key="a", Body=b"a2")["VersionId"]
    b1 = s3.put_object(Bucket=vbucket, Key="b", Body=b"b1")["VersionId"]
    r = s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "a", "VersionId": v1}, {"Key": "b"}]})
    marker = {d["Key"]: d for d in r["Deleted"]}["b"]["DeleteMarkerVersionId"]
    page = s3.list_object_versions(Bucket=vbucket)
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in page["Versions"]] == [("a", v2, True), ("b", b1, False)]
    assert [(d["Key"], d["VersionId"], d["IsLatest"]) for d in page["DeleteMarkers"]] == [("b", marker, True)]
    # removing the marker by id makes b1 the latest again
    s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": "b", "VersionId": marker}]})
    page = s3.list_object_versions(Bucket=vbucket)
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in page["Versions"]] == [("a", v2, True), ("b", b1, True)]
    assert "DeleteMarkers" not in page


def test_list_versions_with_aws_cli(gateway, vbucket, s3, tmp_path):
    ids = [s3.put_object(Bucket=vbucket, Key="cli", Body=b"%d" % i)["VersionId"] for i in range(3)]
    s3.delete_object(Bucket=vbucket, Key="cli")
    # a clean environment: nothing of this machine's AWS configuration
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "AWS_ACCESS_KEY_ID": gateway.access_key, "AWS_SECRET_ACCESS_KEY": gateway.secret_key,
           "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(["aws", "--endpoint-url", gateway.endpoint, "s3api", "list-object-versions",
                          "--bucket", vbucket, "--output", "json"], env=env, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [v["VersionId"] for v in doc["Versions"]] == ids[::-1]
    assert len(doc["DeleteMarkers"]) == 1 and doc["DeleteMarkers"][0]["IsLatest"] is True


# ---------------------------------------------------------------- versions of copy sources, markers by id


def test_copy_object_from_source_version(s3, vbucket):
    v1 = s3.put_object(Bucket=vbucket, Key="src", Body=b"first")["VersionId"]
    v2 = s3.put_object(Bucket=vbucket, Key="src", Body=b"second")["VersionId"]
    r = s3.copy_object(Bucket=vbucket, Key="dst", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v1})
    assert r["CopySourceVersionId"] == v1 and r["VersionId"] not in (v1, v2)
    assert s3.get_object(Bucket=vbucket, Key="dst")["Body"].read() == b"first"
    r = s3.copy_object(Bucket=vbucket, Key="dst2", CopySource={"Bucket": vbucket, "Key": "src"})
    assert r["CopySourceVersionId"] == v2
    assert s3.get_object(Bucket=vbucket, Key="dst2")["Body"].read() == b"second"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket=vbucket, Key="dst", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": "f" * 32})
    assert code(e) == "NoSuchVersion" and status(e) == 404
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket=vbucket, Key="dst", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": "bad"})
    assert code(e) == "InvalidArgument" and status(e) == 400
    m = s3.delete_object(Bucket=vbucket, Key="src")["VersionId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket=vbucket, Key="dst", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": m})
    assert code(e) == "InvalidRequest" and status(e) == 400
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.copy_object(Bucket=vbucket, Key="dst", CopySource={"Bucket": vbucket, "Key": "src"})
    assert code(e) == "NoSuchKey" and status(e) == 404
    # the older version still copies by its id while the newest is a marker
    s3.copy_object(Bucket=vbucket, Key="dst3", CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v2})
    assert s3.get_object(Bucket=vbucket, Key="dst3")["Body"].read() == b"second"


def test_upload_part_copy_from_source_version(s3, vbucket):
    big = b"a" * (5 * 1024 * 1024)
    v1 = s3.put_object(Bucket=vbucket, Key="src", Body=big)["VersionId"]
    s3.put_object(Bucket=vbucket, Key="src", Body=b"newer")
    up = s3.create_multipart_upload(Bucket=vbucket, Key="mp")["UploadId"]
    r = s3.upload_part_copy(Bucket=vbucket, Key="mp", UploadId=up, PartNumber=1,
                            CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v1})
    assert r["CopySourceVersionId"] == v1
    r2 = s3.upload_part_copy(Bucket=vbucket, Key="mp", UploadId=up, PartNumber=2,
                             CopySource={"Bucket": vbucket, "Key": "src", "VersionId": v1}, CopySourceRange="bytes=0-9")
    s3.complete_multipart_upload(Bucket=vbucket, Key="mp", UploadId=up, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": r["CopyPartResult"]["ETag"]}, {"PartNumber": 2, "ETag": r2["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=vbucket, Key="mp")["Body"].read() == big + b"a" * 10
    up = s3.create_multipart_upload(Bucket=vbucket, Key="mp2")["UploadId"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.upload_part_copy(Bucket=vbucket, Key="mp2", UploadId=up, PartNumber=1,
                            CopySource={"Bucket": vbucket, "Key": "src", "VersionId": "e" * 32})
    assert code(e) == "NoSuchVersion" and status(e) == 404
    s3.abort_multipart_upload(Bucket=vbucket, Key="mp2", UploadId=up)


def test_get_and_head_of_delete_marker_by_id_not_allowed(s3, vbucket):
    s3.put_object(Bucket=vbucket, Key="k", Body=b"one")
    m = s3.delete_object(Bucket=vbucket, Key="k")["VersionId"]
    for call in (s3.get_object, s3.head_object):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call(Bucket=vbucket, Key="k", VersionId=m)
        h = headers(e)
        assert status(e) == 405 and h.get("x-amz-delete-marker") == "true"
        assert h.get("allow") == "DELETE" and h.get("x-amz-version-id") == m
    assert code(e) in ("405", "MethodNotAllowed")  # HEAD has no body to name the code
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.get_object(Bucket=vbucket, Key="k", VersionId=m)
    assert code(e) == "MethodNotAllowed"
