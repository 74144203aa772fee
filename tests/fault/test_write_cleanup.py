"""A PUT that fails its write quorum is removed from the drives that took it within seconds
(gateway/gw_cleanup.h), not at the next write of the key, and never at the cost of a newer write.

Two of the three daemons (four of the six drives) run with tests/fault/sync_fault.c preloaded:
while the test's trigger file exists, their RocksDB WAL syncs fail with EIO, as on a disk that
starts failing. A PUT of a large object then commits its shard files on all six drives and its
record on two only: it fails its quorum (503), the record writes of the four drives failed, and
their databases take no write until reopened. Removing the trigger heals the drives; what the
gateway must have done by then, on its own, is checked on the drives themselves: the shard files
under every drive's shards/, the records in every drive's RocksDB (build/tests/record_dump, the
daemons stopped).
"""
import hashlib
import json
import os
import re
import subprocess
import time
import urllib.request

import pytest

import cluster as yc
from conftest import wait_for

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_DIR = os.environ.get("YC_BUILD_DIR", os.path.join(REPO_ROOT, "build"))
DUMP_BIN = os.path.join(BUILD_DIR, "tests", "record_dump")
SHIM = os.path.join(BUILD_DIR, "tests", "sync_fault.so")
OBJECT = 1 * yc.MiB + 7  # shard files: above the 128 KiB kept inline in the records
CLEAN_WITHIN = 8.0       # seconds: the drives' reopen (once a second) and the cleanup's backoff


def sick_cluster(cluster_factory, tmp_path):
    """A cluster whose daemons 1 and 2 fail their WAL syncs while the returned trigger exists."""
    if not os.path.exists(SHIM):
        pytest.skip("%s is missing: run `make all` first" % SHIM)
    trigger = str(tmp_path / "sick")
    status = yc.free_port()

    def before_start(cl):
        for d in cl.daemons[1:]:
            d.extra_env = {"LD_PRELOAD": SHIM, "YC_SYNC_FAULT_PATH": ".log", "YC_SYNC_FAULT_TRIGGER": trigger}

    cl = cluster_factory(before_start=before_start, gateway_args=["--status-listen", "127.0.0.1:%d" % status])
    return cl, trigger, status


def shard_files(cl):
    """Every shard file of every drive, as (drive dir, path under shards/)."""
    out = set()
    for d in cl.daemons:
        for path in d.drives.values():
            top = os.path.join(path, "shards")
            for dirpath, _, names in os.walk(top):
                out.update((path, os.path.relpath(os.path.join(dirpath, n), top)) for n in names)
    return out


def metric(port, name):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    m = re.search(r"^%s (\d+)" % re.escape(name), text, re.M)
    return int(m.group(1)) if m else 0


def drive_records(cl, bucket, key):
    """{drive dir: [record, ...]} of bucket/key from every drive's RocksDB; stops the daemons."""
    for d in cl.daemons:
        d.stop()
    out = {}
    for d in cl.daemons:
        for path in d.drives.values():
            r = subprocess.run([DUMP_BIN, path, bucket, key], capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, (path, r.stderr)
            out[path] = json.loads(r.stdout)
    return out


def failed_put(s3, bucket, key, body):
    with pytest.raises(Exception) as ei:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    status, code = yc.error_code(ei.value)
    assert status == 503 and code == "ServiceUnavailable", "PUT with four drives failing: %s %s" % (status, code)


def test_failed_put_leaves_no_record_and_no_shard_file_within_seconds(cluster_factory, tmp_path):
    cl, trigger, status = sick_cluster(cluster_factory, tmp_path)
    s3 = cl.client()
    bucket = yc.unique_bucket_name()
    s3.create_bucket(Bucket=bucket)
    v1, v2 = yc.object_data("k", 1, OBJECT), yc.object_data("k", 2, OBJECT)
    s3.put_object(Bucket=bucket, Key="k", Body=v1)
    before = shard_files(cl)
    assert len(before) == 6

    open(trigger, "w").close()
    failed_put(s3, bucket, "k", v2)
    # the healthy drives may be clean already; the sick ones keep the shards while their record
    # cannot be taken back (a record must never name deleted shards)
    assert len(shard_files(cl) - before) >= 4, "the failed PUT committed no shard files: nothing to test"
    os.unlink(trigger)
    t0 = time.monotonic()
    wait_for(lambda: shard_files(cl) == before, CLEAN_WITHIN, what="the failed PUT's shard files to go")
    wait_for(lambda: metric(status, 'yc_write_cleanup_total{result="done"}') >= 1, CLEAN_WITHIN,
             what="the cleanup to be counted")
    print("shard files of the failed PUT gone after %.2f s; retried passes %d" %
          (time.monotonic() - t0, metric(status, 'yc_write_cleanup_total{result="retried"}')))
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == v1

    etag1, etag2 = hashlib.md5(v1).hexdigest(), hashlib.md5(v2).hexdigest()
    records = drive_records(cl, bucket, "k")
    assert all([r["etag"].strip('"') for r in recs] == [etag1] for recs in records.values()), \
        "records of the key on the drives (want only %s, not %s): %s" % (etag1, etag2, records)


def test_cleanup_racing_a_newer_put_keeps_the_newer_on_every_drive(cluster_factory, tmp_path):
    cl, trigger, status = sick_cluster(cluster_factory, tmp_path)
    s3 = cl.client()
    bucket = yc.unique_bucket_name()
    s3.create_bucket(Bucket=bucket)
    v1, v2, v3 = (yc.object_data("k", g, OBJECT) for g in (1, 2, 3))
    s3.put_object(Bucket=bucket, Key="k", Body=v1)

    open(trigger, "w").close()
    failed_put(s3, bucket, "k", v2)
    os.unlink(trigger)
    # at once, while the failed PUT is being cleaned: the drives that failed take writes again
    # once reopened (at most once a second), so the first tries may fail their quorum as well
    deadline = time.monotonic() + CLEAN_WITHIN
    while True:
        try:
            s3.put_object(Bucket=bucket, Key="k", Body=v3)
            break
        except Exception as e:
            assert yc.error_code(e)[0] == 503 and time.monotonic() < deadline, "PUT of the newer version: %s %s" \
                % yc.error_code(e)
            time.sleep(0.1)
    acked = shard_files(cl)
    wait_for(lambda: metric(status, "yc_write_cleanup_queue") == 0, CLEAN_WITHIN, what="the cleanup queue to empty")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == v3
    # v3's shards are on all six drives; v1's went with its prune, the failed ones with the cleanup
    left = shard_files(cl)
    assert len(left) == 6 and left <= acked, "shard files left: %s" % sorted(left)

    etag3 = hashlib.md5(v3).hexdigest()
    records = drive_records(cl, bucket, "k")
    assert all([r["etag"].strip('"') for r in recs] == [etag3] for recs in records.values()), \
        "records of the key on the drives (want only %s): %s" % (etag3, records)

