"""A network partition: one yc-store daemon runs in its own network namespace, reached from the
gateway (root namespace) over a veth pair whose two addresses exist only on that pair. Cutting
the link leaves 4 of 6 drives reachable (that daemon holds m = 2 shards of every object), so
reads and writes go on; restoring it brings the daemon back into service.

Needs root and `ip netns`; skips with the reason otherwise. The namespace and the veth pair are
removed in every case.
"""
import os
import time

import pytest

import cluster as yc
from netns import Partition, netns_unavailable

# seconds one request may take while the link is down: the prober fences the daemon's drives
# within an interval and a probe timeout (gw_health.h), and calls waiting on them give up then
OP_LIMIT = 3.0
SIZES = [1 * yc.KiB, 200 * yc.KiB, 3 * yc.MiB]


def timed(fn):
    t0 = time.monotonic()
    out = fn()
    return out, time.monotonic() - t0


def test_reads_and_writes_continue_when_one_daemon_is_partitioned(cluster_factory):
    why = netns_unavailable()
    if why:
        pytest.skip("network namespaces are not available: %s" % why)
    part = Partition()
    cl = None
    try:
        part.create()

        def move_last_daemon(c):
            d = c.daemons[2]
            d.host, d.netns = part.ns_addr, part.ns

        cl = cluster_factory(before_start=move_last_daemon)
        assert cl.drives_list()[-1].startswith(part.ns_addr)
        s3 = cl.client(read_timeout=90)
        bucket = yc.unique_bucket_name()
        s3.create_bucket(Bucket=bucket)
        before = {}
        for n, size in enumerate(SIZES):
            key = "before/%d" % n
            before[key] = yc.object_data(key, 0, size)
            s3.put_object(Bucket=bucket, Key=key, Body=before[key])

        part.cut()
        slow = []
        during = {}
        for n, size in enumerate(SIZES):
            key = "during/%d" % n
            during[key] = yc.object_data(key, 0, size)
            _, dt = timed(lambda: s3.put_object(Bucket=bucket, Key=key, Body=during[key]))
            slow.append(("PUT " + key, round(dt, 2)))
        for key, body in list(before.items()) + list(during.items()):
            got, dt = timed(lambda: s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            slow.append(("GET " + key, round(dt, 2)))
            assert got == body, "%s read back wrong while partitioned" % key
        print("latencies while partitioned: %s" % slow)
        too_slow = [s for s in slow if s[1] > OP_LIMIT]
        assert not too_slow, "requests took longer than %.0f s while partitioned: %s" % (OP_LIMIT, too_slow)

        part.restore()
        # the partitioned daemon must serve again: take another daemon away, so that every read
        # and write needs it
        deadline = time.monotonic() + 30
        cl.kill(0)
        after = {}
        attempts = []
        while True:
            key = "after/0"
            after[key] = yc.object_data(key, 0, 1 * yc.MiB)
            t0 = time.monotonic()
            try:
                s3.put_object(Bucket=bucket, Key=key, Body=after[key])
                attempts.append(round(time.monotonic() - t0, 2))
                break
            except Exception as e:
                attempts.append(round(time.monotonic() - t0, 2))
                if time.monotonic() > deadline:
                    raise AssertionError("no write quorum 30 s after the link came back: %s %s" % yc.error_code(e))
                time.sleep(0.5)
        print("PUT attempts after the link came back: %s" % attempts)
        assert max(attempts) <= OP_LIMIT, "requests took longer than %.0f s after the link came back: %s" % (
            OP_LIMIT, attempts)
        for key, body in list(before.items()) + list(after.items()):
            assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body, key
        cl.daemons[0].start()
        for key, body in during.items():
            assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body, key
        assert not cl.crashed(), "processes died: %s" % cl.crashed()
    finally:
        if cl is not None:
            cl.stop()
        part.remove()
