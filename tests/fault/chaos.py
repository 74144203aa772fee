#!/usr/bin/env python3
"""Chaos: a bounded mixed PUT/GET load on a 3-daemon cluster while daemons are killed with SIGKILL
and restarted at random, then a full verification pass.

Every writer thread owns its keys, so the writes of one key are sequential and a reader knows
exactly which generations of the key were ever attempted and which one was acknowledged last.
The rule checked, during the load and after it:
  - the bytes of a key are always those of one attempted generation (never anything else);
  - once a generation was acknowledged, no older generation and no NoSuchKey is ever seen again
    (a later generation whose PUT failed may be visible: its outcome was unknown to the client).
With every daemon back up, each acknowledged key must read back; a key whose PUT failed may be
absent. The last line printed is `acknowledged A, verified V, lost L` where A counts the keys
with an acknowledged PUT and V those whose final read satisfied the rule.

As a script it builds its own cluster in a temporary directory:
    chaos.py [--duration S] [--ops N] [--threads T] [--seed X] [--max-size BYTES]
and exits 1 when anything was lost or wrong bytes were ever read. The pytest suite runs a short
version through run_chaos() (test_chaos.py).
"""
import argparse
import concurrent.futures
import os
import random
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import cluster as yc  # noqa: E402
import netns  # noqa: E402


def stamp(t=None):
    """Wall-clock time to the millisecond, as the servers' logs print it (UTC)."""
    t = time.time() if t is None else t
    return time.strftime("%H:%M:%S", time.gmtime(t)) + ".%03d" % (int(t * 1000) % 1000)


class KeyState:
    __slots__ = ("attempts", "acked", "acked_at")

    def __init__(self):
        self.attempts = []   # generations attempted, in order
        self.acked = None    # the last acknowledged generation
        self.acked_at = None  # wall clock of that acknowledgement


class Load:
    """The mixed load and its bookkeeping. Each op is bounded by the client's timeouts."""

    def __init__(self, cl, bucket, threads=4, seed=None, get_share=0.35, overwrite_share=0.2,
                 min_size=1 * yc.KiB, max_size=3 * yc.MiB, log=print):
        self.cl = cl
        self.bucket = bucket
        self.threads = threads
        self.rng = random.Random(seed)
        self.seed = seed
        self.get_share = get_share
        self.overwrite_share = overwrite_share
        self.min_size = min_size
        self.max_size = max_size
        self.log = log
        self.keys = [dict() for _ in range(threads)]  # per thread: key -> KeyState
        self.lock = threading.Lock()
        self.counts = {}
        self.violations = []  # (when, key, what)
        self.max_latency = 0.0
        self.stop = threading.Event()
        self.ops_done = 0

    def count(self, what, n=1):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + n

    def violation(self, key, what):
        with self.lock:
            self.violations.append((stamp(), key, what))
        self.log("VIOLATION %s: %s" % (key, what))

    def data(self, key, gen):
        return yc.object_for(key, gen, self.min_size, self.max_size)

    def classify(self, key, st, body):
        """The attempted generation these bytes are, or None."""
        for gen in reversed(st.attempts):
            if yc.object_size(key, gen, self.min_size, self.max_size) == len(body) and self.data(key, gen) == body:
                return gen
        return None

    def check_read(self, key, st, body, phase):
        """Applies the rule to one read (body None: NoSuchKey); True when it holds."""
        if body is None:
            if st.acked is not None:
                self.violation(key, "%s: NoSuchKey after generation %d was acknowledged at %s"
                           % (phase, st.acked, stamp(st.acked_at)))
                return False
            return True
        gen = self.classify(key, st, body)
        if gen is None:
            self.violation(key, "%s: %d bytes that match no attempted generation (attempted %s)"
                           % (phase, len(body), st.attempts))
            return False
        if st.acked is not None and st.attempts.index(gen) < st.attempts.index(st.acked):
            self.violation(key, "%s: generation %d read after %d was acknowledged" % (phase, gen, st.acked))
            return False
        return True

    def get(self, client, key):
        """The body, None for NoSuchKey; raises on any other error."""
        try:
            return client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except Exception as e:
            if yc.error_code(e)[1] in ("NoSuchKey", "404"):
                return None
            raise

    def worker(self, t, client, rng, ops_budget):
        mine = self.keys[t]
        n = 0
        while not self.stop.is_set() and (ops_budget is None or n < ops_budget):
            n += 1
            r = rng.random()
            if mine and r < self.get_share:
                key = rng.choice(list(mine))
                st = mine[key]
                t0 = time.monotonic()
                try:
                    body = self.get(client, key)
                except Exception as e:
                    self.count("get_error %s" % (yc.error_code(e),))
                    continue
                finally:
                    self.note_latency(time.monotonic() - t0)
                self.count("get_ok")
                self.check_read(key, st, body, "load")
                continue
            if mine and r < self.get_share + self.overwrite_share:
                key = rng.choice(list(mine))
            else:
                key = "t%d/k%05d" % (t, len(mine))
                mine[key] = KeyState()
            st = mine[key]
            gen = len(st.attempts)
            body = self.data(key, gen)
            st.attempts.append(gen)
            t0 = time.monotonic()
            try:
                client.put_object(Bucket=self.bucket, Key=key, Body=body)
            except Exception as e:
                self.count("put_error %s" % (yc.error_code(e),))
                continue
            finally:
                self.note_latency(time.monotonic() - t0)
            st.acked = gen
            st.acked_at = time.time()
            self.count("put_ok")
        with self.lock:
            self.ops_done += n

    def note_latency(self, dt):
        with self.lock:
            if dt > self.max_latency:
                self.max_latency = dt

    def run(self, duration=None, ops_per_thread=None, chaos=None):
        """Runs the load until duration seconds passed or every thread did ops_per_thread ops;
        chaos(stop_event) runs on its own thread meanwhile."""
        clients = [self.cl.client(connect_timeout=5, read_timeout=60) for _ in range(self.threads)]
        rngs = [random.Random(self.rng.random()) for _ in range(self.threads)]
        monkey = None
        if chaos is not None:
            monkey = threading.Thread(target=chaos, args=(self.stop,), daemon=True)
            monkey.start()
        ths = [threading.Thread(target=self.worker, args=(t, clients[t], rngs[t], ops_per_thread), daemon=True)
               for t in range(self.threads)]
        for th in ths:
            th.start()
        if duration is not None:
            self.stop.wait(duration)
            self.stop.set()
        for th in ths:
            th.join()
        self.stop.set()
        if monkey is not None:
            monkey.join()

    def verify(self, parallel=4):
        """Reads every key once (all daemons up); returns (acknowledged, verified, lost, bad_unacked)."""
        client = self.cl.client(connect_timeout=5, read_timeout=60)
        items = [(k, st) for mine in self.keys for k, st in mine.items()]

        def one(item):
            key, st = item
            # a daemon whose partition was undone just now may still be marked down in the gateway
            # until its next probe: a 503 is retried for a while, since it is no loss; a read that
            # keeps failing, or any other error, is a violation
            deadline = time.monotonic() + 10
            while True:
                try:
                    body = self.get(client, key)
                    break
                except Exception as e:
                    if yc.error_code(e)[0] == 503 and time.monotonic() < deadline:
                        time.sleep(0.5)
                        continue
                    self.violation(key, "final: read failed with every daemon up: %s" % (yc.error_code(e),))
                    return key, st, False
            return key, st, self.check_read(key, st, body, "final")

        acked = verified = bad_unacked = 0
        with concurrent.futures.ThreadPoolExecutor(parallel) as ex:
            for key, st, ok in ex.map(one, items):
                if st.acked is not None:
                    acked += 1
                    verified += ok
                elif not ok:
                    bad_unacked += 1
        return acked, verified, acked - verified, bad_unacked


def chaos_monkey(cl, rng, min_up=0.5, max_up=2.5, min_down=0.3, max_down=2.0, double_share=0.15, log=print):
    """Returns a chaos(stop) function: kills a random daemon with SIGKILL, restarts it after a
    while; sometimes kills a second one meanwhile (then writes lose their quorum for a moment)."""
    def chaos(stop):
        while not stop.wait(rng.uniform(min_up, max_up)):
            victims = [rng.randrange(len(cl.daemons))]
            if rng.random() < double_share:
                victims.append(rng.choice([i for i in range(len(cl.daemons)) if i != victims[0]]))
            for i in victims:
                cl.kill(i)
                stop.wait(rng.uniform(0, min_down))
            log("chaos: %s killed %s" % (stamp(), ", ".join(cl.daemons[i].name for i in victims)))
            stop.wait(rng.uniform(min_down, max_down))
            for i in victims:
                try:
                    cl.daemons[i].start()
                except yc.ClusterError as e:
                    log("chaos: restarting %s failed: %s" % (cl.daemons[i].name, e))
            log("chaos: %s restarted %s" % (stamp(), ", ".join(cl.daemons[i].name for i in victims)))
    return chaos


def network_monkey(cl, parts, rng, min_up=0.5, max_up=2.5, min_down=0.3, max_down=3.0, log=print):
    """Returns a chaos(stop) function for a cluster whose daemon i runs behind parts[i] (netns.py):
    each time one of kill (SIGKILL, restart later), partition (link down, up later), slow link (a
    4 Mbit/s token bucket both ways, lifted later) or stall (SIGSTOP, SIGCONT later: a daemon that
    stops answering without closing its connections) strikes a random daemon; sometimes two
    daemons at once (writes then lose their quorum for a moment)."""
    def strike(i, what):
        d = cl.daemons[i]
        if what == "kill":
            cl.kill(i)
        elif what == "partition":
            parts[i].cut()
        elif what == "slow":
            parts[i].slow()
        elif d.proc is not None:
            d.proc.send_signal(signal.SIGSTOP)

    def undo(i, what):
        d = cl.daemons[i]
        if what == "kill":
            try:
                d.start()
            except yc.ClusterError as e:
                log("chaos: restarting %s failed: %s" % (d.name, e))
        elif what == "partition":
            parts[i].restore()
        elif what == "slow":
            parts[i].unslow()
        elif d.proc is not None:
            d.proc.send_signal(signal.SIGCONT)

    def chaos(stop):
        while not stop.wait(rng.uniform(min_up, max_up)):
            victims = [rng.randrange(len(cl.daemons))]
            if rng.random() < 0.15:
                victims.append(rng.choice([i for i in range(len(cl.daemons)) if i != victims[0]]))
            done = []
            for i in victims:
                what = rng.choice(("kill", "partition", "slow", "stall"))
                strike(i, what)
                done.append((i, what))
                log("chaos: %s %s %s" % (stamp(), what, cl.daemons[i].name))
            stop.wait(rng.uniform(min_down, max_down))
            for i, what in done:
                undo(i, what)
                log("chaos: %s undid %s of %s" % (stamp(), what, cl.daemons[i].name))
    return chaos


def run_chaos(cl, duration=40.0, ops_per_thread=None, threads=4, seed=None, max_size=3 * yc.MiB, log=print,
              parts=None):
    """Creates a bucket, runs the load with the chaos monkey (the network one when the daemons run
    behind parts), restarts everything, verifies. Returns a dict with the counts; the summary line
    is its "summary"."""
    seed = seed if seed is not None else random.randrange(1 << 30)
    log("chaos: seed %d, %d threads, %s" % (seed, threads,
                                            "%.0f s" % duration if duration else "%d ops/thread" % ops_per_thread))
    bucket = yc.unique_bucket_name("yc-chaos")
    cl.client().create_bucket(Bucket=bucket)
    load = Load(cl, bucket, threads=threads, seed=seed, max_size=max_size, log=log)
    t0 = time.monotonic()
    monkey = (network_monkey(cl, parts, random.Random(seed + 1), log=log) if parts
              else chaos_monkey(cl, random.Random(seed + 1), log=log))
    load.run(duration=duration, ops_per_thread=ops_per_thread, chaos=monkey)
    crashed = cl.crashed()
    cl.start_all()
    acked, verified, lost, bad_unacked = load.verify()
    elapsed = time.monotonic() - t0
    counts = dict(sorted(load.counts.items()))
    for what, n in counts.items():
        log("chaos: %-40s %d" % (what, n))
    log("chaos: ops %d in %.1f s, slowest request %.1f s, daemon starts %s, violations %d"
        % (load.ops_done, elapsed, load.max_latency, [d.starts for d in cl.daemons], len(load.violations)))
    summary = "acknowledged %d, verified %d, lost %d" % (acked, verified, lost)
    return dict(acknowledged=acked, verified=verified, lost=lost, bad_unacked=bad_unacked,
                violations=list(load.violations), counts=counts, crashed=crashed, summary=summary,
                max_latency=load.max_latency, seed=seed)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load (0: use --ops)")
    ap.add_argument("--ops", type=int, default=None, help="operations per thread instead of a duration")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--max-size", type=int, default=3 * yc.MiB)
    ap.add_argument("--keep", action="store_true", help="keep the cluster's files and logs when something failed")
    ap.add_argument("--network", action="store_true",
                    help="every daemon in a network namespace of its own; partitions, slow links and stalls too "
                         "(root and `ip netns`)")
    args = ap.parse_args(argv)
    duration = None if args.ops else args.duration
    parts = []
    if args.network:
        why = netns.netns_unavailable()
        if why:
            print("chaos: network namespaces are not available: %s" % why)
            return 2
    cl = res = None
    try:
        if args.network:
            parts = netns.daemon_partitions(3)
        cl = yc.Cluster(before_start=lambda c: netns.move_daemons(c, parts))
        cl.start()
        res = run_chaos(cl, duration=duration, ops_per_thread=args.ops, threads=args.threads, seed=args.seed,
                        max_size=args.max_size, parts=parts)
    finally:
        failed = res is None or res["lost"] or res["violations"] or res["crashed"]
        if cl is not None and args.keep and failed:
            cl.stop()
            print("kept: %s" % cl.root)
        elif cl is not None:
            cl.close()
        netns.remove_all(parts)  # after the daemons inside them stopped
    for v in res["violations"]:
        print("violation: %s %s: %s" % v)
    if res["crashed"]:
        print("crashed: %s" % ", ".join(res["crashed"]))
    print(res["summary"], flush=True)
    return 1 if res["lost"] or res["violations"] or res["crashed"] else 0


if __name__ == "__main__":
    sys.exit(main())
