"""Fixtures of the fault tests: a cluster of 3 yc-store daemons (2 drives each, temporary
directories, free loopback ports) and a yc-gateway over them, made fresh for every test because
the tests kill, damage and fill its parts. The processes and helpers live in cluster.py:
cluster.kill(i) sends SIGKILL to daemon i, cluster.restart(i) / daemons[i].start() bring it back
on the same port and directories and wait until it accepts connections.

When a test fails, the tail of every process's log is printed with the failure.
"""
import os
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster as yc  # noqa: E402


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def cluster_factory(request):
    """Makes clusters (keyword arguments of yc.Cluster); each is stopped and removed afterwards."""
    made = []

    def make(**kwargs):
        cl = yc.Cluster(**kwargs)
        made.append(cl)
        try:
            return cl.start()
        except yc.ClusterError as e:
            pytest.fail(str(e), pytrace=False)

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for cl in made:
        if failed:
            sys.stderr.write("\n---- logs of the cluster under %s ----\n%s\n" % (cl.root, cl.logs_tail()))
        cl.close(keep=None if failed else False)


@pytest.fixture
def cluster(cluster_factory):
    """3 daemons x 2 drives, EC 4+2: every daemon holds 2 shards of every object."""
    return cluster_factory()


@pytest.fixture
def s3(cluster):
    return cluster.client()


@pytest.fixture
def bucket(cluster, s3):
    name = yc.unique_bucket_name()
    s3.create_bucket(Bucket=name)
    return name


def wait_for(predicate, timeout, interval=0.1, what="condition"):
    """Polls predicate until it returns something true; fails the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() > deadline:
            pytest.fail("timed out after %.0f s waiting for %s" % (timeout, what), pytrace=False)
        time.sleep(interval)


def read_or_none(client, bucket, key):
    """The object's bytes, or None for NoSuchKey; any other error raises."""
    try:
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as e:
        if yc.error_code(e)[1] == "NoSuchKey":
            return None
        raise
