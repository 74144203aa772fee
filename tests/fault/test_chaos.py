"""A short run of chaos.py: random SIGKILLs and restarts of daemons (sometimes two at once)
under a mixed load; nothing acknowledged may be lost and no wrong or stale bytes ever read."""
import os

import chaos

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
