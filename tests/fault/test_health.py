"""What the gateway says about its daemons and drives: one log line per daemon at start and on
every change, `yc-admin status` per node and per drive, and the missing drives named on the
lines of failures that lack them (503, iam_reload_failed). A daemon that is down is named
within 5 s; a daemon with another cluster secret, one that hangs, and drives swapped between
slots are each named for what they are, and swapped drives take no data.
"""
import glob
import json
import os
import re
import signal
import time

import pytest

import cluster as yc

NAMED_WITHIN = 5.0


def status(cl, *extra):
    return cl.gateway.admin("status", *extra)


def status_doc(cl):
    return json.loads(status(cl, "--json").stdout)


def node_state(doc, address):
    for n in doc["nodes"]:
        if n["node"] == address:
            return n
    raise AssertionError("node %s not in status: %s" % (address, [n["node"] for n in doc["nodes"]]))


def wait_until(what, fn, timeout):
    t0 = time.monotonic()
    while True:
        v = fn()
        if v:
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            pytest.fail("not within %.0f s: %s" % (timeout, what), pytrace=False)
        time.sleep(0.1)


def log_names(cl, pattern):
    return re.search(pattern, cl.gateway_log()) is not None


def test_start_logs_one_line_per_daemon(cluster):
    log = cluster.gateway_log()
    for d in cluster.daemons:
        lines = [l for l in log.splitlines() if "event=node_state node=%s " % d.address in l]
        assert len(lines) == 1, "expected one start line for %s: %s" % (d.address, lines)
        assert "state=reachable drives_ok=2/2" in lines[0], lines[0]
    # the lines come before the gateway says it started
    assert log.index("event=node_state") < log.index("event=started")


def test_down_daemon_is_named_in_log_and_status_within_5s(cluster, s3, bucket):
    victim = cluster.daemons[1]
    cluster.kill(1)
    took = wait_until(
        "the gateway's log and yc-admin status name %s as refused" % victim.address,
        lambda: log_names(cluster, r"event=node_state node=%s state=refused drives_ok=0/2" % re.escape(victim.address))
        and node_state(status_doc(cluster), victim.address)["state"] == "refused", NAMED_WITHIN)
    print("named after %.1f s" % took)
    doc = status_doc(cluster)
    n = node_state(doc, victim.address)
    assert [d["state"] for d in n["drives"]] == ["refused", "refused"] and "connection refused" in n["detail"], n
    assert doc["drivesOk"] == 4 and doc["sets"][0]["writable"] is True, doc
    table = status(cluster).stdout
    assert re.search(r"node %s\s+refused\s+0/2 drives ok" % re.escape(victim.address), table), table
    assert "reads and writes work" in table, table
    # and it says so when the daemon is back
    victim.start()
    wait_until("the gateway logs %s reachable again" % victim.address,
               lambda: len(re.findall(r"event=node_state node=%s state=reachable" % re.escape(victim.address),
                                      cluster.gateway_log())) == 2, NAMED_WITHIN)
    assert status_doc(cluster)["drivesOk"] == 6


def test_hung_daemon_is_named_timed_out(cluster, s3, bucket):
    victim = cluster.daemons[2]
    victim.proc.send_signal(signal.SIGSTOP)
    try:
        wait_until("the gateway names %s timed_out" % victim.address,
                   lambda: log_names(cluster, r"event=node_state node=%s state=timed_out" % re.escape(victim.address)),
                   NAMED_WITHIN + 2)  # the probe waits 2 s for an answer
        assert node_state(status_doc(cluster), victim.address)["state"] == "timed_out"
    finally:
        victim.proc.send_signal(signal.SIGCONT)


def test_daemon_with_another_secret_is_named_wrong_secret(cluster_factory):
    def other_secret(c):
        c.daemons[0].secret = "not-the-cluster-secret"

    cl = cluster_factory(before_start=other_secret)
    addr = cl.daemons[0].address
    assert log_names(cl, r"event=node_state node=%s state=wrong_secret drives_ok=0/2 detail=\".*YC_CLUSTER_SECRET"
                     % re.escape(addr)), cl.gateway_log()
    assert node_state(status_doc(cl), addr)["state"] == "wrong_secret"
    # the other two daemons carry the cluster
    s3 = cl.client()
    bucket = yc.unique_bucket_name()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x" * 300000)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x" * 300000


def shard_count(path):
    return len(glob.glob(os.path.join(path, "shards", "??", "*")))


def test_swapped_drives_are_named_and_take_no_data(cluster, s3, bucket):
    body = yc.object_data("before", 0, 3 * yc.MiB)
    s3.put_object(Bucket=bucket, Key="before", Body=body)
    d = cluster.daemons[0]
    d.kill()
    a, b = d.drives["a"], d.drives["b"]
    d.drives = {"a": b, "b": a}  # the disks come back on each other's mount points
    d.start()
    wait_until("the gateway names %s's drives wrong_identity" % d.address,
               lambda: log_names(cluster, r"event=node_state node=%s state=wrong_identity drives_ok=0/2 problems=\"a: "
                                          r"wrong_identity: the drive is set 0 slot \d+ of this cluster, expected here"
                                 % re.escape(d.address)), NAMED_WITHIN)
    n = node_state(status_doc(cluster), d.address)
    assert [x["state"] for x in n["drives"]] == ["wrong_identity", "wrong_identity"], n
    assert "swapped" in status(cluster).stdout
    # the swapped drives are not used: new objects land on the other four drives only
    before = (shard_count(a), shard_count(b))
    during = {}
    for i in range(4):
        key = "during/%d" % i
        during[key] = yc.object_data(key, 0, 1 * yc.MiB + i)
        s3.put_object(Bucket=bucket, Key=key, Body=during[key])
    assert (shard_count(a), shard_count(b)) == before, "data was written to swapped drives"
    for key, data in during.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == data
    assert s3.get_object(Bucket=bucket, Key="before")["Body"].read() == body
    # put back where they belong, they are used again
    d.kill()
    d.drives = {"a": a, "b": b}
    d.start()
    wait_until("the gateway names %s reachable again" % d.address,
               lambda: node_state(status_doc(cluster), d.address)["drivesOk"] == 2, NAMED_WITHIN)
    assert log_names(cluster, r"event=node_state node=%s state=reachable drives_ok=2/2" % re.escape(d.address))


def test_unavailable_requests_name_the_missing_drives(cluster, s3, bucket):
    cluster.kill(1)
    cluster.kill(2)
    gone = [spec for d in cluster.daemons[1:] for spec in d.drive_specs()]
    wait_until("both daemons are named down", lambda: status_doc(cluster)["drivesOk"] == 2, NAMED_WITHIN)
    t0 = time.monotonic()
    failures = 0
    for i in range(15):
        try:
            s3.put_object(Bucket=bucket, Key="k%d" % i, Body=b"y" * 1000)
        except Exception as e:
            assert yc.error_code(e)[0] == 503, yc.error_code(e)
            failures += 1
    elapsed = time.monotonic() - t0
    assert failures == 15
    lines = [l for l in cluster.gateway_log().splitlines() if "event=unavailable" in l]
    assert lines, "no event=unavailable line for 15 refused PUTs"
    for spec in gone:
        assert "%s=refused" % spec in lines[0], lines[0]
    # one line a second at most, and every refusal is either logged or counted by the next line
    assert len(lines) <= int(elapsed) + 2, "%d lines in %.1f s" % (len(lines), elapsed)
    time.sleep(1.1)  # then one more refusal: its line counts the last ones not logged
    with pytest.raises(Exception):
        s3.put_object(Bucket=bucket, Key="last", Body=b"z")
    lines = [l for l in cluster.gateway_log().splitlines() if "event=unavailable" in l]
    counted = sum(int(re.search(r"not_logged_since_last=(\d+)", l).group(1)) for l in lines)
    assert len(lines) + counted >= failures + 1, (len(lines), counted)


def test_iam_reload_failure_names_the_missing_drives(cluster):
    cluster.kill(0)
    cluster.kill(2)
    gone = [spec for i in (0, 2) for spec in cluster.daemons[i].drive_specs()]
    wait_until("iam_reload_failed names the missing drives",
               lambda: any(all("%s=refused" % s in l for s in gone) for l in cluster.gateway_log().splitlines()
                           if "event=iam_reload_failed" in l), 12)  # users reload every 5 s
