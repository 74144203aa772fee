"""ListObjects (v1, v2) over keys whose newest version is a delete marker (issue 12, "Compatibility
and cost"): the drives leave such keys out of a listing's scan and say where they did; these tests
check that what a listing shows is still what S3 shows, around deleted keys, across pages, in
suspended buckets, and when the drives of a set disagree about a marker.
"""
import glob
import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import unique_bucket_name


@pytest.fixture
def vbucket(s3):
    name = unique_bucket_name("yc-lm")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def list_v2(s3, bucket, **kw):
    keys, prefixes, pages = [], [], 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, **kw):
        keys += [o["Key"] for o in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        pages += 1
    return keys, prefixes, pages


def list_v1(s3, bucket, **kw):
    keys = []
    for page in s3.get_paginator("list_objects").paginate(Bucket=bucket, **kw):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def test_list_leaves_out_deleted_keys_across_pages(s3, vbucket):
    # 400 keys in runs: a drive's scan hands up 256 records at a time, so runs of deleted keys
    # span several of them; every third key stays, one is deleted and put again, one gets its
    # marker removed by version id (its version is current again)
    names = ["d/%04d" % i for i in range(400)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: s3.put_object(Bucket=vbucket, Key=k, Body=k.encode()), names))
    live = {k for i, k in enumerate(names) if i % 3 == 0 or 250 <= i < 260}
    gone = [k for k in names if k not in live]
    for i in range(0, len(gone), 1000):
        s3.delete_objects(Bucket=vbucket, Delete={"Objects": [{"Key": k} for k in gone[i:i + 1000]], "Quiet": True})
    s3.put_object(Bucket=vbucket, Key="d/0001", Body=b"again")
    marker = s3.delete_object(Bucket=vbucket, Key="d/0002")  # already deleted: a second marker
    s3.delete_object(Bucket=vbucket, Key="d/0002", VersionId=marker["VersionId"])
    first_marker = [v for v in s3.list_object_versions(Bucket=vbucket, Prefix="d/0002")["DeleteMarkers"]]
    assert len(first_marker) == 1 and first_marker[0]["IsLatest"]
    s3.delete_object(Bucket=vbucket, Key="d/0002", VersionId=first_marker[0]["VersionId"])
    live |= {"d/0001", "d/0002"}
    want = sorted(live)

    keys, _, pages = list_v2(s3, vbucket, PaginationConfig={"PageSize": 70})
    assert keys == want
    assert pages == (len(want) + 69) // 70
    assert list_v1(s3, vbucket, PaginationConfig={"PageSize": 1000}) == want
    # a start after a deleted key, and a prefix made only of deleted keys
    keys, _, _ = list_v2(s3, vbucket, StartAfter="d/0004")
    assert keys == [k for k in want if k > "d/0004"]
    page = s3.list_objects_v2(Bucket=vbucket, Prefix="d/039")
    assert [o["Key"] for o in page.get("Contents", [])] == [k for k in want if k.startswith("d/039")]
    page = s3.list_objects_v2(Bucket=vbucket, Prefix="d/0005")
    assert page["KeyCount"] == 0 and not page["IsTruncated"] and "Contents" not in page
    # versions listings still see every marker
    versions = s3.get_paginator("list_object_versions").paginate(Bucket=vbucket, Prefix="d/00")
    markers = sum(len(p.get("DeleteMarkers", [])) for p in versions)
    # d/0001's marker stays under its new version; d/0002 has none left
    assert markers == len([k for k in gone if k.startswith("d/00")]) - 1


def test_list_with_delimiter_skips_folders_of_deleted_keys(s3, vbucket):
    for k in ("a/1", "a/2", "b/1", "b/2", "c/1", "top"):
        s3.put_object(Bucket=vbucket, Key=k, Body=b"x")
    for k in ("a/1", "a/2", "c/1", "top"):
        s3.delete_object(Bucket=vbucket, Key=k)
    keys, prefixes, _ = list_v2(s3, vbucket, Delimiter="/")
    assert keys == [] and prefixes == ["b/"]
    s3.put_object(Bucket=vbucket, Key="c/2", Body=b"x")
    keys, prefixes, _ = list_v2(s3, vbucket, Delimiter="/", PaginationConfig={"PageSize": 1})
    assert keys == [] and prefixes == ["b/", "c/"]


def test_list_decides_null_slot_markers_by_time_when_suspended(s3, vbucket):
    put = lambda k: s3.put_object(Bucket=vbucket, Key=k, Body=k.encode())  # noqa: E731
    put("s1")  # a version, then (suspended) a null marker over it: deleted
    put("s2")  # a version kept under a null version (suspended PUT): live
    put("s3")  # a null marker (suspended), then a newer version (enabled again): live
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Suspended"})
    s3.delete_object(Bucket=vbucket, Key="s1")
    put("s2")
    put("s3")
    s3.delete_object(Bucket=vbucket, Key="s3")
    put("s4")  # a null version, then its null marker: deleted
    s3.delete_object(Bucket=vbucket, Key="s4")
    put("s5")  # a null version, live
    s3.put_bucket_versioning(Bucket=vbucket, VersioningConfiguration={"Status": "Enabled"})
    put("s3")
    keys, _, _ = list_v2(s3, vbucket)
    assert keys == ["s2", "s3", "s5"]
    for k in ("s1", "s4"):
        with pytest.raises(s3.exceptions.ClientError) as e:
            s3.head_object(Bucket=vbucket, Key=k)
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def drive_dirs(gw):
    return sorted(glob.glob(os.path.join(gw.data_dir, "drive*")))


def copy_drives(gw, dirs, to):
    for d in dirs:
        shutil.copytree(d, os.path.join(to, os.path.basename(d)), symlinks=True)


def restore_drives(gw, dirs, frm):
    for d in dirs:
        shutil.rmtree(d)
        shutil.copytree(os.path.join(frm, os.path.basename(d)), d, symlinks=True)


def test_list_follows_quorum_when_one_drive_disagrees_about_a_marker(gateway_factory, tmp_path):
    # "minority": its marker is on one drive only (the DELETE reached no quorum): the version under
    # it is current, as a GET says. "quorum": its marker is on five drives, one drive missed it
    # (a heal pending): deleted. Both against live neighbours.
    gw = gateway_factory()
    c = gw.client()
    bucket = unique_bucket_name("yc-lmq")
    c.create_bucket(Bucket=bucket)
    c.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for k in ("a-live", "minority", "quorum", "z-live"):
        c.put_object(Bucket=bucket, Key=k, Body=k.encode())
    gw.stop()
    drives = drive_dirs(gw)
    assert len(drives) == 6
    copy_drives(gw, drives, tmp_path / "before")
    gw.start()
    c.delete_object(Bucket=bucket, Key="minority")
    gw.stop()
    copy_drives(gw, drives[:1], tmp_path / "minority")  # drive 0 with the marker
    restore_drives(gw, drives[1:], tmp_path / "before")  # the others without it
    copy_drives(gw, drives[:1], tmp_path / "drive0")
    gw.start()
    c.delete_object(Bucket=bucket, Key="quorum")
    gw.stop()
    restore_drives(gw, drives[:1], tmp_path / "drive0")  # drive 0 without the quorum's marker
    gw.start()

    for prefix in ("", "minority", "quorum"):
        keys, _, _ = list_v2(c, bucket, Prefix=prefix)
        assert keys == [k for k in ("a-live", "minority", "z-live") if k.startswith(prefix)]
    assert list_v1(c, bucket) == ["a-live", "minority", "z-live"]
    assert c.get_object(Bucket=bucket, Key="minority")["Body"].read() == b"minority"
    with pytest.raises(c.exceptions.ClientError) as e:
        c.head_object(Bucket=bucket, Key="quorum")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_delete_bucket_refused_when_only_markers_are_current(s3, vbucket):
    # no current object, but a marker over a version: the bucket is not empty (ListObjects, which
    # leaves deleted keys out on the drives, must not be what DeleteBucket asks)
    s3.put_object(Bucket=vbucket, Key="gone", Body=b"x")
    s3.delete_object(Bucket=vbucket, Key="gone")
    assert s3.list_objects_v2(Bucket=vbucket)["KeyCount"] == 0
    with pytest.raises(s3.exceptions.ClientError) as e:
        s3.delete_bucket(Bucket=vbucket)
    assert e.value.response["Error"]["Code"] == "BucketNotEmpty"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
