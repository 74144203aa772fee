"""Last-Modified of a completed multipart object: S3 shows the time its upload was initiated
(CreateMultipartUpload), not the time of Complete, in HEAD, GET, GetObjectAttributes and every
listing, while the version made by the later Complete is still the newest one."""
import datetime
import time

import pytest


def initiate(s3, bucket, key):
    """Starts an upload of key with one small part; (upload id, its Initiated time)."""
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=1, Body=key.encode() * 10)["ETag"]
    listed = [u for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"] if u["UploadId"] == up]
    return up, etag, listed[0]["Initiated"]


def complete(s3, bucket, key, up, etag):
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up,
                                        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]})


def near(a, b):
    return abs((a - b).total_seconds()) <= 1.0


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def written_between(when, before, after):
    """Last-Modified has whole seconds: a time taken within [before, after], truncated."""
    return before - datetime.timedelta(seconds=1) <= when <= after


def test_last_modified_is_the_initiation_time_everywhere(s3, bucket):
    up, etag, initiated = initiate(s3, bucket, "mp")
    time.sleep(2)
    complete(s3, bucket, "mp", up, etag)
    completed = now()
    assert (completed - initiated).total_seconds() >= 2.0

    shown = {
        "HEAD": s3.head_object(Bucket=bucket, Key="mp")["LastModified"],
        "GET": s3.get_object(Bucket=bucket, Key="mp")["LastModified"],
        "ListObjectsV2": s3.list_objects_v2(Bucket=bucket)["Contents"][0]["LastModified"],
        "ListObjects": s3.list_objects(Bucket=bucket)["Contents"][0]["LastModified"],
        "ListObjectVersions": s3.list_object_versions(Bucket=bucket)["Versions"][0]["LastModified"],
        "GetObjectAttributes": s3.get_object_attributes(Bucket=bucket, Key="mp",
                                                        ObjectAttributes=["ETag"])["LastModified"],
    }
    for where, when in shown.items():
        assert near(when, initiated), (where, when, initiated)
        assert (completed - when).total_seconds() >= 1.0, (where, when, completed)

    # conditions compare with the time shown: modified since a moment before the initiation
    before = (initiated - datetime.timedelta(seconds=5))
    assert s3.get_object(Bucket=bucket, Key="mp", IfModifiedSince=before)["ContentLength"] == 20
    with pytest.raises(Exception) as ei:
        s3.get_object(Bucket=bucket, Key="mp", IfUnmodifiedSince=before)
    assert ei.value.response["Error"]["Code"] == "PreconditionFailed"

    # a single PUT shows its own write time, and a copy of the multipart object the copy's time
    before = now()
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "mp"})
    after = now()
    for key in ("plain", "copy"):
        assert written_between(s3.head_object(Bucket=bucket, Key=key)["LastModified"], before, after), key


def test_the_later_complete_is_the_newest_version_whatever_its_initiation(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first_up, first_etag, _ = initiate(s3, bucket, "k")
    time.sleep(1.1)
    second_up, second_etag, _ = initiate(s3, bucket, "k")
    v_second = complete(s3, bucket, "k", second_up, second_etag)["VersionId"]
    v_first = complete(s3, bucket, "k", first_up, first_etag)["VersionId"]
    # the upload initiated first was completed last: it is the current version, shown older
    assert s3.head_object(Bucket=bucket, Key="k")["VersionId"] == v_first
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert [v["VersionId"] for v in versions] == [v_first, v_second]
    assert versions[0]["IsLatest"] and versions[0]["LastModified"] < versions[1]["LastModified"]
