"""Idle keep-alive connections by the tens of thousands (issue 11): a gateway holds them, every
one still open and the ones that made a request still able to make another, while a normal
client's GETs keep their latency and the gateway's memory stays within a stated bound.

Two tests share one procedure: 50,000 connections, skipped with the reason when this machine's
limits (the hard RLIMIT_NOFILE of the test and of the gateway it starts, the kernel's file
tables) cannot give them; and as many as the hard limit allows, which runs everywhere. The
client side spreads its connections over several loopback source addresses (127.0.0.2, ...):
one address has only the ephemeral port range's worth of ports towards one listener.

Bound on memory: at most 4 KiB of gateway RSS per idle connection (what a connection record,
h2o's socket and its timers take; the input buffer is freed once a request is done) and the
whole gateway at most 256 MiB (issue 11's bound for any load).
"""
import errno
import gc
import os
import random
import resource
import shutil
import socket
import tempfile
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import Gateway, free_port, random_keys

TARGET = 50000
PER_CONN_MAX = 4096  # bytes of gateway RSS per idle connection
RSS_MAX_KIB = 256 * 1024
# descriptors the gateway keeps for itself: 256 plus 64 per drive (6 drives), and a margin for
# the kernel's uneven split of connections between the two loops' SO_REUSEPORT listeners
GATEWAY_RESERVE = 256 + 64 * 6 + 2000
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)  # Linux
WITH_REQUEST_EVERY = 10  # one connection in ten makes a request, then idles


@pytest.fixture(scope="module")
def root():
    d = tempfile.mkdtemp(prefix="yc-idle-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_connections_gauge(gw):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % gw.status_port, timeout=10) as r:
        for fam in text_string_to_metric_families(r.read().decode()):
            for s in fam.samples:
                if s.name == "yc_client_connections":
                    return s.value
    return 0


def p99(latencies):
    s = sorted(latencies)
    return s[int(len(s) * 0.99) - 1]


def get_latencies(s3, bucket, n=300):
    # the collector off while timing: with thousands of socket objects alive in this process, its
    # passes land in the figures of the gateway's latency
    out = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(n):
            t = time.perf_counter()
            s3.get_object(Bucket=bucket, Key="small")["Body"].read()
            out.append(time.perf_counter() - t)
    finally:
        gc.enable()
    return out


def ports_per_address():
    lo, hi = (int(x) for x in open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
    return hi - lo + 1


def limits_for(target):
    """None when this process and the gateway it starts can each hold target connections (the hard
    RLIMIT_NOFILE raised when allowed), else why not."""
    need = target + GATEWAY_RESERVE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
        except (ValueError, OSError):
            return ("the hard RLIMIT_NOFILE is %d and may not be raised here (no CAP_SYS_RESOURCE): %d idle "
                    "connections need %d descriptors in the gateway and as many in the client; the gateway "
                    "holds at most about %d here" % (hard, target, need, hard - GATEWAY_RESERVE))
    nr_open = int(open("/proc/sys/fs/nr_open").read())
    if nr_open < need:
        return "fs.nr_open is %d, below the %d descriptors %d connections need" % (nr_open, need, target)
    allocated, _, file_max = (int(x) for x in open("/proc/sys/fs/file-nr").read().split())
    if file_max - allocated < 2 * need:
        return "fs.file-max leaves %d free descriptors, %d connections need %d" % (
            file_max - allocated, target, 2 * need)
    return None


def connect_many(port, n):
    """n connections to the gateway, spread over loopback source addresses, every tenth after one
    request (an anonymous GET of the service, answered 403) whose answer was read whole."""
    per_addr = min(5000, int(ports_per_address() * 0.5))
    # a network of its own per run: ports of an earlier run's connections linger in TIME_WAIT
    net = random.randrange(100, 250)
    addr, on_addr = 0, 0
    socks, asked = [], []
    while len(socks) < n:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # the port is chosen at connect, per destination: bind's own search of a free port
        # grows with the ports in use and makes tens of thousands of connections take minutes
        s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        s.bind(("127.%d.%d.%d" % (net, addr // 250, 1 + addr % 250), 0))
        s.settimeout(10)
        try:
            s.connect(("127.0.0.1", port))
        except OSError as e:
            s.close()
            if e.errno != errno.EADDRNOTAVAIL or on_addr == 0:
                raise
            on_addr = per_addr  # this address's ports are taken (other processes): the next one
        else:
            socks.append(s)
            on_addr += 1
            if len(socks) % WITH_REQUEST_EVERY == 1:
                s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                asked.append(s)
        if on_addr >= per_addr:
            addr, on_addr = addr + 1, 0
    for s in asked:
        read_answer(s)
    return socks, asked


def read_answer(s):
    """Reads one HTTP answer with a Content-Length from s; its status."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        assert chunk, "the gateway closed a connection that had made a request"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = s.recv(65536)
        assert chunk
        body += chunk
    return int(head.split(b" ")[1])


def still_open(s):
    """1 when the gateway has neither closed s nor sent anything on it."""
    s.setblocking(False)  # a socket with a timeout would wait for readability first
    try:
        return s.recv(1) != b""
    except BlockingIOError:
        return True
    finally:
        s.settimeout(10)


def hold_idle(root, name, target):
    ak, sk = random_keys()
    data = os.path.join(root, name)
    os.makedirs(data)
    gw = Gateway(data, ak, sk)
    gw.status_port = free_port()
    gw.extra_args = ["--status-listen", "127.0.0.1:%d" % gw.status_port, "--head-timeout", "300",
                     "--keepalive-timeout", "300"]
    gw.start()
    socks = []
    try:
        s3 = gw.client()
        bucket = "idle-" + name
        s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket=bucket, Key="small", Body=b"x" * 1000)
        get_latencies(s3, bucket, 30)  # warm
        base = get_latencies(s3, bucket)
        before = rss_kib(gw.proc.pid)
        t = time.monotonic()
        socks, asked = connect_many(gw.port, target)
        opened_s = time.monotonic() - t
        time.sleep(1.0)
        held = open_connections_gauge(gw)
        loaded = get_latencies(s3, bucket)
        after = rss_kib(gw.proc.pid)
        per_conn = (after - before) * 1024 / target
        print("idle connections: %d opened in %.1f s (%d after a request), gauge %d, gateway RSS %d -> %d KiB "
              "(%.0f bytes each), small GET p99 %.2f ms alone, %.2f ms beside them"
              % (target, opened_s, len(asked), held, before, after, per_conn, p99(base) * 1e3, p99(loaded) * 1e3))
        assert held >= target
        closed = sum(1 for s in socks if not still_open(s))
        assert closed == 0, "%d of the idle connections were closed" % closed
        # a connection that made a request is still served (keep-alive), after all the others came
        for s in asked[:100]:
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert read_answer(s) == 403
        for s in socks:
            s.close()
        socks = []
        # the reference is measured before and after: a p99 of a few hundred samples on a
        # shared machine moves by itself
        base += get_latencies(s3, bucket)
        assert per_conn <= PER_CONN_MAX, per_conn
        assert after <= RSS_MAX_KIB, after
        # idle connections cost the others next to nothing: within 3x, with a floor of 5 ms for a
        # p99 of a few milliseconds (17,360 idle: 2.0-2.4 ms alone, 2.3-6.5 ms beside them)
        assert p99(loaded) <= max(3 * p99(base), p99(base) + 0.005), (p99(base), p99(loaded))
    finally:
        for s in socks:
            s.close()
        gw.stop()


def test_fifty_thousand_idle_connections_held(root):
    why = limits_for(TARGET)
    if why is not None:
        pytest.skip(why)
    hold_idle(root, "fifty", TARGET)


def test_idle_connections_up_to_the_fd_limit_held(root):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    target = min(TARGET, hard - GATEWAY_RESERVE)
    if target < 1000:
        pytest.skip("the hard RLIMIT_NOFILE is %d" % hard)
    try:
        hold_idle(root, "limit", target)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
