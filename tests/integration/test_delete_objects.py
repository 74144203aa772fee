"""DeleteObjects deletes its keys concurrently (delete_concurrency request workers): the answer must
be the one the same request gets with its keys deleted one after the other, entry for entry and in
the request's order, and what is left in the bucket must be the same.

Two gateways, one with --delete-concurrency 1 and one with 32, get the same request of 500
versioned keys of five kinds (an older version by id, a key without version id, a delete marker by
id, a key's only version by id, a key never written), one key named twice, a version id of another
key and a malformed one; then an Object Lock bucket where one locked version is
among 60 deleted by id.
"""
import datetime
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import unique_bucket_name

KEYS = 500
LOCKED = "Access Denied because object protected by object lock."


@pytest.fixture(scope="module")
def gateways(gateway_factory):
    """{concurrency: gateway}"""
    made = {}
    for n in (1, 32):
        gw = gateway_factory()
        gw.extra_args = ["--delete-concurrency", str(n)]
        made[n] = gw.restart()
    return made


def key(i):
    return "obj/%04d" % i


def setup_versioned(s3):
    """A versioned bucket holding the five kinds of keys; returns (bucket, request, expected answer,
    expected versions left per key as kinds: 'v1', 'v2', 'marker')."""
    bucket = unique_bucket_name("yc-delobj")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

    def prepare(i):
        kind, k = i % 5, key(i)
        if kind == 4:
            return None  # never written
        v1 = s3.put_object(Bucket=bucket, Key=k, Body=b"1")["VersionId"]
        if kind == 0:
            s3.put_object(Bucket=bucket, Key=k, Body=b"22")
        if kind == 2:
            return s3.delete_object(Bucket=bucket, Key=k)["VersionId"]  # the marker's
        return v1

    with ThreadPoolExecutor(16) as ex:
        vids = list(ex.map(prepare, range(KEYS)))
    objects, expected, left = [], [], {}
    for i in range(KEYS):
        kind, k = i % 5, key(i)
        if kind in (0, 2, 3):
            objects.append({"Key": k, "VersionId": vids[i]})
            expected.append(("Deleted", k, vids[i], kind == 2))
        else:
            objects.append({"Key": k})
            expected.append(("Deleted", k, None, True))
        left[k] = {0: ["v2"], 1: ["marker", "v1"], 2: ["v1"], 3: [], 4: ["marker"]}[kind]
    # the same key twice: two markers, one after the other
    objects.append({"Key": key(1)})
    expected.append(("Deleted", key(1), None, True))
    left[key(1)] = ["marker", "marker", "v1"]
    # a version id that names no version of the key (another key's): nothing there, a success
    objects.append({"Key": key(3), "VersionId": vids[0]})
    expected.append(("Deleted", key(3), vids[0], False))
    objects.append({"Key": key(5), "VersionId": "not-a-version"})
    expected.append(("Error", key(5), "not-a-version", "NoSuchVersion"))
    return bucket, objects, expected, left


def answer_of(r):
    """The answer's entries in document order, as (kind, key, version id, delete marker or code);
    botocore gives Deleted and Errors apart, so the order is rebuilt from the request's."""
    out = []
    for d in r.get("Deleted", []):
        out.append(("Deleted", d["Key"], d.get("VersionId"), d.get("DeleteMarker", False)))
    for e in r.get("Errors", []):
        out.append(("Error", e["Key"], e.get("VersionId"), e["Code"]))
    return out


def versions_left(s3, bucket):
    """{key: kinds newest first}: 'v1' or 'v2' (told by their sizes, 1 and 2 bytes), 'marker'."""
    entries = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        entries += [(v["Key"], v["VersionId"], "v%d" % v["Size"]) for v in page.get("Versions", [])]
        entries += [(m["Key"], m["VersionId"], "marker") for m in page.get("DeleteMarkers", [])]
    left = {}
    # version ids sort newest first as text
    for k, _, kind in sorted(entries):
        left.setdefault(k, []).append(kind)
    return left


@pytest.mark.parametrize("concurrency", [1, 32])
def test_delete_objects_of_500_versioned_keys(gateways, concurrency):
    s3 = gateways[concurrency].client()
    bucket, objects, expected, left = setup_versioned(s3)
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects})
    got = answer_of(r)
    # every entry answered once, Deleted entries in the request's order
    assert sorted(got, key=repr) == sorted(expected, key=repr), (set(got) - set(expected), set(expected) - set(got))
    assert [d["Key"] for d in r["Deleted"]] == [e[1] for e in expected if e[0] == "Deleted"]
    # each marker added is named by its id, and is the key's newest version now
    markers = [d for d in r["Deleted"] if "VersionId" not in d]
    assert all(d["DeleteMarker"] and len(d["DeleteMarkerVersionId"]) == 32 for d in markers)
    assert len({d["DeleteMarkerVersionId"] for d in markers}) == len(markers)
    twice = [d["DeleteMarkerVersionId"] for d in markers if d["Key"] == key(1)]
    assert len(twice) == 2
    newest = s3.list_object_versions(Bucket=bucket, Prefix=key(1))["DeleteMarkers"]
    assert [m["VersionId"] for m in newest if m["IsLatest"]] == [twice[1]]
    assert versions_left(s3, bucket) == {k: v for k, v in left.items() if v}


def test_delete_objects_quiet_answers_only_errors(gateways):
    s3 = gateways[32].client()
    bucket = unique_bucket_name("yc-delobj")
    s3.create_bucket(Bucket=bucket)
    keys = ["q/%03d" % i for i in range(200)]
    with ThreadPoolExecutor(16) as ex:
        list(ex.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=b"q"), keys))
    objects = [{"Key": k} for k in keys] + [{"Key": "q/000", "VersionId": "bad"}]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
    assert "Deleted" not in r
    assert [(e["Key"], e["Code"]) for e in r["Errors"]] == [("q/000", "NoSuchVersion")]
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


@pytest.mark.parametrize("concurrency", [1, 32])
def test_delete_objects_refuses_the_locked_version_among_many(gateways, concurrency):
    s3 = gateways[concurrency].client()
    bucket = unique_bucket_name("yc-delobj-lock")
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    until = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)

    def put(i):
        extra = {"ObjectLockMode": "GOVERNANCE", "ObjectLockRetainUntilDate": until} if i == 37 else {}
        return s3.put_object(Bucket=bucket, Key=key(i), Body=b"locked" if i == 37 else b"free", **extra)["VersionId"]

    with ThreadPoolExecutor(16) as ex:
        vids = list(ex.map(put, range(60)))
    held = s3.put_object(Bucket=bucket, Key=key(61), Body=b"held")["VersionId"]
    s3.put_object_legal_hold(Bucket=bucket, Key=key(61), VersionId=held, LegalHold={"Status": "ON"})
    objects = [{"Key": key(i), "VersionId": vids[i]} for i in range(60)] + [{"Key": key(61), "VersionId": held}]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects})
    assert [(e["Key"], e["VersionId"], e["Code"], e["Message"]) for e in r["Errors"]] == [
        (key(37), vids[37], "AccessDenied", LOCKED), (key(61), held, "AccessDenied", LOCKED)]
    assert [d["Key"] for d in r["Deleted"]] == [key(i) for i in range(60) if i != 37]
    # the refused versions are whole, the others gone
    assert s3.get_object(Bucket=bucket, Key=key(37), VersionId=vids[37])["Body"].read() == b"locked"
    assert s3.get_object(Bucket=bucket, Key=key(61), VersionId=held)["Body"].read() == b"held"
    listed = s3.list_object_versions(Bucket=bucket).get("Versions", [])
    assert sorted((v["Key"], v["VersionId"]) for v in listed) == [(key(37), vids[37]), (key(61), held)]
    s3.put_object_legal_hold(Bucket=bucket, Key=key(61), VersionId=held, LegalHold={"Status": "OFF"})
