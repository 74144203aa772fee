"""Reads on a degraded erasure set: with EC 4+2 any two drives may be gone or damaged and every
object must still read back byte-exact; damage is reported (heal_needed) on the server's log.

Each test runs its own gateway because it destroys drives.
"""
import glob
import hashlib
import os
import shutil

import botocore.exceptions
import pytest
import urllib3
from botocore.exceptions import ClientError

from conftest import unique_bucket_name

KiB = 1024
MiB = 1024 * KiB
SHARD_HEADER = 32  # bytes before the first block of a shard file

SIZES = {
    "empty": 0,
    "tiny": 1,
    "inline": 100 * KiB,
    "at-threshold": 128 * KiB,
    "one-stripe": 1 * MiB,
    "stripes": 3 * MiB + 333,
    "many-stripes": 9 * MiB + 1,
}


def data_for(name, size):
    seed = hashlib.sha256(name.encode()).digest()
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest() * 64
        counter += 1
    return bytes(out[:size])


def drive_dirs(gw):
    return sorted(glob.glob(os.path.join(gw.data_dir, "drive*")))


def shard_files(drive):
    return sorted(glob.glob(os.path.join(drive, "shards", "??", "*")))


def fill(gw):
    c = gw.client()
    bucket = unique_bucket_name("yc-degraded")
    c.create_bucket(Bucket=bucket)
    objects = {}
    for name, size in SIZES.items():
        data = data_for(name, size)
        c.put_object(Bucket=bucket, Key="obj/" + name, Body=data)
        objects["obj/" + name] = data
    return bucket, objects


def check_all(gw, bucket, objects):
    c = gw.client()
    for key, data in objects.items():
        got = c.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert len(got) == len(data), key
        assert got == data, key
        if len(data) > 10:
            lo, hi = len(data) // 3, len(data) // 3 + len(data) // 2
            part = c.get_object(Bucket=bucket, Key=key, Range="bytes=%d-%d" % (lo, hi))["Body"].read()
            assert part == data[lo:hi + 1], key
    keys = [o["Key"] for o in c.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == sorted(objects)


@pytest.fixture
def degraded_gateway(gateway_factory):
    gw = gateway_factory()
    assert len(drive_dirs(gw)) == 6, "expected the embedded default of 6 drives: %s" % drive_dirs(gw)
    return gw


def test_get_when_two_drives_removed(degraded_gateway):
    gw = degraded_gateway
    bucket, objects = fill(gw)
    gw.stop()
    drives = drive_dirs(gw)
    for d in (drives[1], drives[4]):
        shutil.rmtree(d)
    gw.start()
    check_all(gw, bucket, objects)


def test_get_when_two_drives_renamed(degraded_gateway):
    gw = degraded_gateway
    bucket, objects = fill(gw)
    gw.stop()
    drives = drive_dirs(gw)
    for d in (drives[0], drives[5]):
        os.rename(d, d + ".away")
    gw.start()
    check_all(gw, bucket, objects)


def test_put_when_two_drives_removed(degraded_gateway):
    gw = degraded_gateway
    bucket, objects = fill(gw)
    gw.stop()
    drives = drive_dirs(gw)
    for d in (drives[2], drives[3]):
        shutil.rmtree(d)
    gw.start()
    c = gw.client()
    fresh = {"new/small": b"written degraded", "new/big": data_for("new/big", 2 * MiB + 5)}
    for k, v in fresh.items():
        c.put_object(Bucket=bucket, Key=k, Body=v)
    objects.update(fresh)
    check_all(gw, bucket, objects)


def flip_bytes(path):
    """Flips one byte in the first block and one in the last block of a shard file."""
    size = os.path.getsize(path)
    if size <= SHARD_HEADER + 16:
        return False
    with open(path, "r+b") as f:
        for off in (SHARD_HEADER + 5, size - 12):
            f.seek(off)
            b = f.read(1)
            f.seek(off)
            f.write(bytes([b[0] ^ 0x5A]))
    return True


def test_get_when_shards_of_two_drives_corrupted(degraded_gateway):
    gw = degraded_gateway
    bucket, objects = fill(gw)
    gw.stop()
    drives = drive_dirs(gw)
    flipped = 0
    for d in (drives[0], drives[3]):
        for f in shard_files(d):
            flipped += flip_bytes(f)
    assert flipped >= 2, "no shard files found under %s/drive*/shards" % gw.data_dir
    log_before = len(gw.stderr_text())
    gw.start()
    check_all(gw, bucket, objects)
    log = gw.stderr_text()[log_before:]
    assert "heal_needed" in log, "no heal_needed event on stderr after reading damaged shards:\n" + log[-3000:]


def test_get_when_shards_corrupted_while_running(degraded_gateway):
    gw = degraded_gateway
    bucket, objects = fill(gw)
    drives = drive_dirs(gw)
    for d in (drives[1], drives[2]):
        for f in shard_files(d):
            flip_bytes(f)
    log_before = len(gw.stderr_text())
    check_all(gw, bucket, objects)
    assert "heal_needed" in gw.stderr_text()[log_before:]


def test_get_when_three_drives_corrupted_never_returns_wrong_bytes(degraded_gateway):
    # Beyond m damaged shards the data cannot be rebuilt: the client must get an error (status or
    # a cut-off body), never a complete 200 with other bytes.
    gw = degraded_gateway
    bucket, objects = fill(gw)
    drives = drive_dirs(gw)
    for d in drives[:3]:
        for f in shard_files(d):
            flip_bytes(f)
    c = gw.client()
    for key in ("obj/stripes", "obj/many-stripes"):
        data = objects[key]
        try:
            body = c.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as e:
            assert e.response["ResponseMetadata"]["HTTPStatusCode"] >= 500, e.response["Error"]
            continue
        except (botocore.exceptions.IncompleteReadError, botocore.exceptions.ResponseStreamingError,
                urllib3.exceptions.HTTPError, ConnectionError):
            continue
        assert len(body) != len(data) or body == data, "%s: complete body with wrong bytes" % key
    assert gw.proc.poll() is None, "gateway died:\n" + gw.stderr_tail()
