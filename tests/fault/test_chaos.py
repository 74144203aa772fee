"""Short runs of chaos.py: random SIGKILLs and restarts of daemons (sometimes two at once) under
a mixed load, then the same over network namespaces with partitions, slow links and stalls too;
nothing acknowledged may be lost and no wrong or stale bytes ever read."""
import os

import pytest

import chaos
import netns

DURATION = float(os.environ.get("YC_CHAOS_SECONDS", "35"))


def test_nothing_acknowledged_is_lost_when_daemons_are_killed_at_random(cluster):
    lines = []
    res = chaos.run_chaos(cluster, duration=DURATION, threads=4, log=lines.append)
    print("\n".join(lines))
    print(res["summary"])
    assert not res["crashed"], "processes died on their own: %s" % res["crashed"]
    assert res["acknowledged"] > 0
    assert res["lost"] == 0 and not res["violations"], "seed %d: %s; violations: %s" % (
        res["seed"], res["summary"], res["violations"][:10])


NET_DURATION = float(os.environ.get("YC_CHAOS_NET_SECONDS", "20"))


def test_nothing_acknowledged_is_lost_under_network_chaos(cluster_factory):
    """Every daemon in a network namespace of its own; kills, partitions, slow links and stalled
    daemons at random under the same load (`chaos.py --network` runs the long version)."""
    why = netns.netns_unavailable()
    if why:
        pytest.skip("network namespaces are not available: %s" % why)
    parts = netns.daemon_partitions(3)
    cl = None
    try:
        cl = cluster_factory(before_start=lambda c: netns.move_daemons(c, parts))
        lines = []
        res = chaos.run_chaos(cl, duration=NET_DURATION, threads=4, log=lines.append, parts=parts)
        print("\n".join(lines))
        print(res["summary"])
        assert not res["crashed"], "processes died on their own: %s" % res["crashed"]
        assert any(" partition " in l for l in lines) or any(" slow " in l for l in lines), lines
        assert res["acknowledged"] > 0
        assert res["lost"] == 0 and not res["violations"], "seed %d: %s; violations: %s" % (
            res["seed"], res["summary"], res["violations"][:10])
    finally:
        if cl is not None:
            cl.stop()
        netns.remove_all(parts)
