"""Lifecycle rules with two gateways over the same yc-store daemons: one gateway at a time works a
bucket (the lease in the metadata), the other is kept out while the holder lives, and takes the
bucket over once the holder was killed (SIGKILL) and its lease ran out, going on from the
holder's progress marker. Both gateways have a lifecycle day of 2 s, pass every second, hold a
lease of 4 s and do at most 5 actions a second, so a pass over 40 due objects lasts about 8 s.
"""
import os
import re
import time
import urllib.request

import cluster as yc
from conftest import wait_for

OBJECTS = 40


def gateway_args(status_port):
    return ["--lifecycle-day-seconds", "2", "--lifecycle-interval", "1", "--lifecycle-lease", "4",
            "--lifecycle-rate", "5", "--status-listen", "127.0.0.1:%d" % status_port]


def counters(port):
    """(expired, lease_busy) from the gateway's /metrics; None when it does not answer."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None

    def value(name):
        m = re.search(r"^%s (\d+)" % re.escape(name), text, re.M)
        return int(m.group(1)) if m else 0
    return value('yc_lifecycle_actions_total{action="expire"}'), value("yc_lifecycle_lease_busy_total")


def test_one_gateway_works_a_bucket_and_the_other_takes_over_when_it_dies(cluster_factory):
    ports = [yc.free_port(), yc.free_port()]
    cl = cluster_factory(gateway_args=gateway_args(ports[0]))
    gw2 = yc.NetGateway(os.path.join(cl.root, "gateway2"), cl.access_key, cl.secret_key, cl.drives_list(),
                        cl.secret, gateway_args(ports[1])).start()
    gateways = [cl.gateway, gw2]
    try:
        s3 = cl.client()
        bucket = yc.unique_bucket_name()
        s3.create_bucket(Bucket=bucket)
        for i in range(OBJECTS):
            s3.put_object(Bucket=bucket, Key="tmp/%03d" % i, Body=b"x")
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
            {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}]})

        # one of them starts working the bucket; the other is kept out meanwhile
        def working():
            c = [counters(p) for p in ports]
            return [i for i in (0, 1) if c[i] and c[i][0] >= 3] and c
        c = wait_for(working, 30, 0.2, "a gateway expiring objects")
        holder = 0 if c[0][0] >= 3 else 1
        other = 1 - holder
        wait_for(lambda: counters(ports[other])[1] >= 2, 15, 0.2, "the other gateway finding the lease taken")
        assert counters(ports[other])[0] == 0, "both gateways worked the bucket at once"

        # the holder dies in the middle of its pass (after 3 s of it: it saved its progress marker
        # on the way): the other takes over once the lease ran out
        wait_for(lambda: counters(ports[holder])[0] >= 15, 30, 0.2, "the holder's pass to be under way")
        gateways[holder].kill()
        s3 = gateways[other].client()
        left = len(s3.list_objects_v2(Bucket=bucket).get("Contents", []))
        assert 0 < left < OBJECTS, left
        killed_at = time.monotonic()
        wait_for(lambda: "Contents" not in s3.list_objects_v2(Bucket=bucket), 60, 0.5, "every object expired")
        assert time.monotonic() - killed_at >= 2  # not before the lease could run out
        took_over = counters(ports[other])[0]
        assert 0 < took_over <= left + 1
        log = gateways[other].stderr_text()
        assert "event=lifecycle_resume bucket=%s" % bucket in log
        assert "event=lifecycle_pass bucket=%s" % bucket in log
    finally:
        gw2.stop()
