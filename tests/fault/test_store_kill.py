"""Storage daemons killed with SIGKILL under a mixed PUT/GET load: nothing acknowledged is lost.

Four writer threads each do a bounded number of operations (new keys, overwrites, reads) with
objects of 1 KiB .. 3 MiB whose bytes derive from key and generation (chaos.Load), while a
killer thread SIGKILLs one daemon at a random moment and restarts it after a random pause, over
and over; at most one daemon is down at a time, so the set always has its write quorum.
"""
import random
import threading

import chaos
import cluster as yc

OPS_PER_THREAD = 150
THREADS = 4


def single_kills(cl, rng, log):
    """Kills one random daemon at a time, restarts it after 0.2 .. 1.5 s, waits 0.3 .. 1.5 s."""
    def run(stop):
        while not stop.wait(rng.uniform(0.3, 1.5)):
            i = rng.randrange(len(cl.daemons))
            cl.kill(i)
            log("%s killed %s" % (chaos.stamp(), cl.daemons[i].name))
            stop.wait(rng.uniform(0.2, 1.5))
            cl.daemons[i].start()
            log("%s restarted %s" % (chaos.stamp(), cl.daemons[i].name))
    return run


def test_acknowledged_puts_read_back_when_daemons_are_killed(cluster, bucket):
    seed = random.randrange(1 << 30)
    lines = []
    load = chaos.Load(cluster, bucket, threads=THREADS, seed=seed, log=lines.append)
    killer = single_kills(cluster, random.Random(seed), lines.append)
    load.run(ops_per_thread=OPS_PER_THREAD, chaos=killer)
    crashed = cluster.crashed()
    cluster.start_all()
    acked, verified, lost, bad_unacked = load.verify()
    print("seed %d; %d kills; counts %s; slowest request %.1f s" % (
        seed, sum(d.starts for d in cluster.daemons) - len(cluster.daemons), load.counts, load.max_latency))
    print("acknowledged %d, verified %d, lost %d" % (acked, verified, lost))
    print("\n".join(lines))
    wrong = [v for v in load.violations if "match no attempted" in v[2] or "read after" in v[2]]
    assert not crashed, "processes died on their own: %s" % crashed
    assert acked > 0 and sum(d.starts for d in cluster.daemons) > len(cluster.daemons), "the test did no kills"
    assert not wrong, "wrong bytes were read (seed %d): %s" % (seed, wrong[:10])
    assert bad_unacked == 0, "an object whose PUT failed reads back with wrong bytes (seed %d)" % seed
    assert lost == 0, "acknowledged objects lost (seed %d): %s" % (
        seed, [v for v in load.violations if v[2].startswith("final")][:10])
