"""Network namespaces for the fault tests: a yc-store daemon in a namespace of its own, reached
from here over a veth pair whose two addresses exist only on that pair, so that its link can be
cut (a partition) or slowed (a token-bucket rate limit on both ends: a slow, congested node)
while the daemon runs. Needs root and `ip netns`; netns_unavailable() says why not.
"""
import os
import random
import re
import secrets
import shutil
import subprocess


def ip(*args, check=True):
    res = subprocess.run(["ip"] + list(args), capture_output=True, text=True, timeout=20)
    if check and res.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), res.stderr.strip()))
    return res


def tc(*args, check=True):
    res = subprocess.run(["tc"] + list(args), capture_output=True, text=True, timeout=20)
    if check and res.returncode != 0:
        raise RuntimeError("tc %s: %s" % (" ".join(args), res.stderr.strip()))
    return res


class Partition:
    """A namespace with one end of a veth pair; the other end stays here. /30 from 10.231.X.0."""

    def __init__(self, third=None):
        """third: the subnet's third byte (distinct for partitions that exist at once)."""
        tag = secrets.token_hex(3)
        self.ns = "ycf-" + tag
        self.host_if = "ycf%sh" % tag
        self.ns_if = "ycf%sn" % tag
        third = free_thirds(1)[0] if third is None else third
        self.host_addr = "10.231.%d.1" % third
        self.ns_addr = "10.231.%d.2" % third
        self.subnet = "10.231.%d.0/30" % third
        self.created = self.blackholed = False

    def create(self):
        ip("netns", "add", self.ns)
        self.created = True
        ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
        ip("link", "set", self.ns_if, "netns", self.ns)
        ip("addr", "add", self.host_addr + "/30", "dev", self.host_if)
        ip("link", "set", self.host_if, "up")
        ip("-n", self.ns, "addr", "add", self.ns_addr + "/30", "dev", self.ns_if)
        ip("-n", self.ns, "link", "set", self.ns_if, "up")
        ip("-n", self.ns, "link", "set", "lo", "up")
        # should the pair's own route ever go, packets for these addresses are dropped here
        # instead of following the default route off this host
        ip("route", "add", "blackhole", self.subnet, "metric", "4242")
        self.blackholed = True

    def cut(self):
        """Drops the namespace's end: packets sent to it vanish silently, as on a broken link."""
        ip("-n", self.ns, "link", "set", self.ns_if, "down")

    def restore(self):
        ip("-n", self.ns, "link", "set", self.ns_if, "up")

    def slow(self, kbit=4096):
        """Limits the link to kbit in each direction; packets over it queue for up to half a second,
        then drop (the kernel's netem is not everywhere; the token bucket is)."""
        for prefix, dev in ((["-n", self.ns], self.ns_if), ([], self.host_if)):
            tc(*prefix, "qdisc", "replace", "dev", dev, "root", "tbf", "rate", "%dkbit" % kbit, "burst", "32kbit",
               "latency", "500ms")

    def unslow(self):
        for prefix, dev in ((["-n", self.ns], self.ns_if), ([], self.host_if)):
            tc(*prefix, "qdisc", "del", "dev", dev, "root", check=False)

    def remove(self):
        if self.blackholed:
            ip("route", "del", "blackhole", self.subnet, "metric", "4242", check=False)
        ip("link", "del", self.host_if, check=False)
        if self.created:
            ip("netns", "del", self.ns, check=False)


def netns_unavailable():
    if os.geteuid() != 0:
        return "not root"
    if shutil.which("ip") is None:
        return "the ip command is not installed"
    probe = "ycf-probe-" + secrets.token_hex(3)
    res = ip("netns", "add", probe, check=False)
    if res.returncode != 0:
        return "ip netns add refused: %s" % res.stderr.strip()
    ip("netns", "del", probe, check=False)
    return None


def free_thirds(n):
    """n third bytes X whose 10.231.X.0/30 no route of this host names yet (another run's, or one
    left behind by a run that was killed), in random order."""
    routes = ip("route", "show", "table", "all").stdout + ip("-o", "addr").stdout
    used = {int(x) for x in re.findall(r"10\.231\.(\d+)\.", routes)}
    free = [x for x in range(256) if x not in used]
    random.shuffle(free)
    if len(free) < n:
        raise RuntimeError("no free 10.231.X.0/30 subnets left")
    return free[:n]


def daemon_partitions(n):
    """n namespaces with their veth pairs, made (on a failure the ones made are removed)."""
    parts = [Partition(third=x) for x in free_thirds(n)]
    try:
        for p in parts:
            p.create()
    except Exception:
        remove_all(parts)
        raise
    return parts


def move_daemons(cl, parts):
    """A Cluster's before_start: daemon i listens in parts[i] (no parts: nothing moves)."""
    for d, p in zip(cl.daemons, parts):
        d.host, d.netns = p.ns_addr, p.ns


def remove_all(parts):
    for p in parts:
        p.remove()
