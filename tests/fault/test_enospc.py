"""A full drive: one of the six drives sits on an 8 MiB tmpfs; writing until it is full gives
clean answers (200 with the quorum of the other drives, or a 5xx S3 error; never a hung request
or a crashed process), damages nothing acknowledged, and the gateway keeps serving. The daemon
of the small drive keeps no free-space reserve (a byte), so the drive fills to the last page
and its RocksDB meets ENOSPC itself.

Needs root to mount the tmpfs; skips with the reason otherwise.
"""
import os
import subprocess
import time

import pytest

import cluster as yc

OBJECT = 1 * yc.MiB           # a quarter of it lands on each drive
MAX_PUTS = 90                 # the small drive takes about 30 shards of 256 KiB
AFTER_FULL = 15               # PUTs once the small drive has no room left


def mount_small(path):
    os.makedirs(path, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", path], capture_output=True, text=True)
    return res.returncode == 0, (res.stderr or res.stdout).strip()


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def test_puts_answer_cleanly_when_one_drive_is_full(cluster_factory):
    state = {}

    def before_start(cl):
        small = cl.daemons[2].drives["b"]
        ok, why = mount_small(small)
        if not ok:
            pytest.skip("cannot mount a tmpfs for the small drive (%s): %s" % ("not root" if os.geteuid() else "mount refused", why))
        state["small"] = small
        cl.daemons[2].extra_args = ["--drive-reserve", "1"]

    cl = None
    try:
        cl = cluster_factory(before_start=before_start)
        small = state["small"]
        s3 = cl.client(read_timeout=60)
        bucket = yc.unique_bucket_name()
        s3.create_bucket(Bucket=bucket)
        acked, outcomes, full_at = {}, {}, None
        for n in range(MAX_PUTS):
            key = "fill/%03d" % n
            body = yc.object_data(key, 0, OBJECT)
            t0 = time.monotonic()
            try:
                s3.put_object(Bucket=bucket, Key=key, Body=body)
                acked[key] = body
                outcome = "200"
            except Exception as e:
                status, code = yc.error_code(e)
                assert status is not None and 500 <= status < 600, \
                    "PUT %s with the small drive %s full: %s %s" % (key, "already" if full_at is not None else "not yet",
                                                                    status, code)
                outcome = "%s %s" % (status, code)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            assert time.monotonic() - t0 < 30, "PUT %s took %.1f s" % (key, time.monotonic() - t0)
            assert not cl.crashed(), "processes died: %s" % cl.crashed()
            if full_at is None and free_bytes(small) < OBJECT // 4 + 64 * yc.KiB:
                full_at = n
            if full_at is not None and n >= full_at + AFTER_FULL:
                break
        print("outcomes %s; small drive full after PUT %s; %d bytes free on it" % (outcomes, full_at, free_bytes(small)))
        assert full_at is not None, "the small drive never filled up (%d bytes free)" % free_bytes(small)
        assert not cl.crashed(), "processes died: %s" % cl.crashed()
        for key, body in acked.items():
            got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert got == body, "%s: %d bytes differing from the %d written" % (key, len(got), len(body))
        # still serving: small and large writes and reads, a listing
        for key, size in (("after/small", 1000), ("after/large", 2 * yc.MiB)):
            body = yc.object_data(key, 0, size)
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
        listed = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            listed.update(o["Key"] for o in page.get("Contents", []))
        assert set(acked) <= listed
        assert not cl.crashed(), "processes died: %s" % cl.crashed()
    finally:
        if cl is not None:
            cl.stop()
        if "small" in state:
            subprocess.run(["umount", state["small"]], capture_output=True)
