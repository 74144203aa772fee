"""The launch-day edge wired into a running gateway (issue 11): /metrics, /health/live and
/health/ready on the status listener, the JSON access log, admission control with per-key limits
and 503 SlowDown + Retry-After, the body bytes read before authentication, slowloris connections
(idle ones: test_idle_connections.py). Real gateway processes, boto3, raw sockets and curl; the
Prometheus text is parsed with Debian's python3-prometheus-client.
"""
import json
import os
import shutil
import signal
import select
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request

import botocore.exceptions
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import GATEWAY_BIN, Gateway, free_port, make_client, random_keys


def start_gateway(root, name, *extra):
    ak, sk = random_keys()
    data = os.path.join(root, name)
    os.makedirs(data)
    gw = Gateway(data, ak, sk)
    gw.status_port = free_port()
    gw.access_log = os.path.join(root, name + ".access.log")
    gw.extra_args = ["--status-listen", "127.0.0.1:%d" % gw.status_port, "--access-log", gw.access_log] + list(extra)
    return gw.start()


@pytest.fixture(scope="module")
def root():
    d = tempfile.mkdtemp(prefix="yc-edge-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def gw(root):
    g = start_gateway(root, "main")
    yield g
    g.stop()


def status_get(gw, path):
    """(status, body) of a GET on the status listener."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (gw.status_port, path), timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def metrics(gw):
    """{(name, frozenset(labels)): value} of every sample of /metrics."""
    status, body = status_get(gw, "/metrics")
    assert status == 200
    out = {}
    for fam in text_string_to_metric_families(body.decode()):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def sample(m, name, **labels):
    return m.get((name, frozenset(labels.items())), 0.0)


def test_metrics_parse_and_move_with_requests(gw):
    s3 = gw.client()
    before = metrics(gw)
    assert ("yc_requests_inflight", frozenset()) in before
    s3.create_bucket(Bucket="metrics-b")
    for i in range(3):
        s3.put_object(Bucket="metrics-b", Key="k%d" % i, Body=b"x" * 1000)
    s3.get_object(Bucket="metrics-b", Key="k0")["Body"].read()
    with pytest.raises(botocore.exceptions.ClientError):
        s3.get_object(Bucket="metrics-b", Key="missing")
    after = metrics(gw)
    assert sample(after, "yc_requests_total", operation="PutObject", code="200") - \
        sample(before, "yc_requests_total", operation="PutObject", code="200") == 3
    assert sample(after, "yc_requests_total", operation="GetObject", code="200") - \
        sample(before, "yc_requests_total", operation="GetObject", code="200") == 1
    assert sample(after, "yc_requests_total", operation="GetObject", code="404") - \
        sample(before, "yc_requests_total", operation="GetObject", code="404") == 1
    assert sample(after, "yc_request_received_bytes_total", operation="PutObject") - \
        sample(before, "yc_request_received_bytes_total", operation="PutObject") == 3000
    assert sample(after, "yc_admission_wait_seconds_count") > sample(before, "yc_admission_wait_seconds_count")
    # the S3 port does not serve the status paths: there /metrics is a bucket name
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        s3.head_bucket(Bucket="metrics")
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_unauthenticated_1gib_put_reads_little_before_auth(gw):
    before = metrics(gw)
    sock = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
    now = time.gmtime()
    head = ("PUT /metrics-b/big HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: %d\r\n"
            "x-amz-date: %s\r\nx-amz-content-sha256: UNSIGNED-PAYLOAD\r\n"
            "Authorization: AWS4-HMAC-SHA256 Credential=AKIANOSUCHKEY000/%s/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=%s\r\n\r\n"
            % (gw.port, 1 << 30, time.strftime("%Y%m%dT%H%M%SZ", now), time.strftime("%Y%m%d", now), "0" * 64))
    sock.sendall(head.encode())
    sock.setblocking(False)
    chunk = b"\0" * 65536
    sent, answer, deadline = 0, b"", time.monotonic() + 10
    while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
        try:
            sent += sock.send(chunk)
        except (BlockingIOError, BrokenPipeError, ConnectionResetError):
            time.sleep(0.01)
        try:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        except BlockingIOError:
            pass
    sock.close()
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]
    after = metrics(gw)
    n = sample(after, "yc_body_read_before_auth_bytes_count") - sample(before, "yc_body_read_before_auth_bytes_count")
    total = sample(after, "yc_body_read_before_auth_bytes_sum") - sample(before, "yc_body_read_before_auth_bytes_sum")
    assert n >= 1
    assert total <= 64 * 1024, total
    assert not any(os.path.getsize(os.path.join(d, f)) > 1 << 20
                   for d, _, fs in os.walk(gw.data_dir) for f in fs if "big" in f)


def test_health_live_and_ready(gw):
    status, body = status_get(gw, "/health/live")
    assert status == 200 and json.loads(body)["status"] == "live"
    status, body = status_get(gw, "/health/ready")
    doc = json.loads(body)
    assert status == 200 and doc["status"] == "ready"
    assert doc["sets"][0]["ok"] == 6
    status, _ = status_get(gw, "/health/nope")
    assert status == 404


def test_ready_503_when_a_set_loses_its_write_quorum(root):
    g = start_gateway(root, "ready")
    try:
        assert status_get(g, "/health/ready")[0] == 200
        g.stop()
        # one drive gone: 5 of 6 ok, still the write quorum of 4+2
        os.rename(os.path.join(g.data_dir, "drive1"), os.path.join(g.data_dir, "gone1"))
        with open(os.path.join(g.data_dir, "drive1"), "w") as f:
            f.write("not a drive")
        g.start()
        status, body = status_get(g, "/health/ready")
        assert status == 200, body
        assert json.loads(body)["drives_not_ok"][0]["index"] == 0
        g.stop()
        # three gone: more than m, no write quorum
        for i in (2, 3):
            shutil.rmtree(os.path.join(g.data_dir, "drive%d" % i))
            with open(os.path.join(g.data_dir, "drive%d" % i), "w") as f:
                f.write("not a drive")
        g.start()
        status, body = status_get(g, "/health/ready")
        doc = json.loads(body)
        assert status == 503 and doc["status"] == "not_ready", body
        assert doc["sets"][0]["ok"] == 3 and doc["sets"][0]["writable"] is False
        assert status_get(g, "/health/live")[0] == 200
    finally:
        g.stop()


def test_access_log_lines_are_json_with_the_fields(gw):
    s3 = gw.client()
    s3.put_object(Bucket="metrics-b", Key='odd "key"\n\u00e9', Body=b"abc")
    time.sleep(0.5)  # the writer flushes within 200 ms
    lines = open(gw.access_log, encoding="utf-8").read().splitlines()
    docs = [json.loads(line) for line in lines]
    assert len(docs) >= 3
    fields = {"time", "request_id", "access_key", "client", "operation", "bucket", "key", "status", "error",
              "bytes_in", "bytes_out", "duration_ms", "user_agent"}
    for d in docs:
        assert fields <= set(d), d
    put = [d for d in docs if d["operation"] == "PutObject" and d["key"] == 'odd "key"\n\u00e9']
    assert put and put[-1]["status"] == 200 and put[-1]["bytes_in"] == 3
    assert put[-1]["access_key"] == gw.access_key and put[-1]["bucket"] == "metrics-b"
    assert put[-1]["client"].startswith("127.0.0.1:") and "Boto3" in put[-1]["user_agent"]
    missing = [d for d in docs if d["status"] == 404 and d["operation"] == "GetObject"]
    assert missing and missing[-1]["error"] == "NoSuchKey" and missing[-1]["key"] == "missing"


def test_access_log_reopened_on_sighup(gw):
    s3 = gw.client()
    rotated = gw.access_log + ".1"
    os.rename(gw.access_log, rotated)
    gw.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while not os.path.exists(gw.access_log) and time.monotonic() < deadline:
        s3.put_object(Bucket="metrics-b", Key="after-rotation", Body=b"r")
        time.sleep(0.3)
    # the reopen may come before the loop's first look: a line after it in any case
    s3.put_object(Bucket="metrics-b", Key="after-rotation", Body=b"r")
    time.sleep(0.5)
    docs = [json.loads(line) for line in open(gw.access_log, encoding="utf-8")]
    assert any(d["key"] == "after-rotation" for d in docs)
    assert gw.proc.poll() is None  # SIGHUP does not stop the gateway


def test_noisy_key_is_shed_while_quiet_key_is_served(root):
    # the door (loop lag) off: this test is about the slots and the queue, whose sheds it counts
    g = start_gateway(root, "admit", "--max-inflight-per-key", "1", "--queue-max", "1", "--queue-deadline-ms", "20",
                      "--shed-lag-ms", "0")
    try:
        noisy = g.client(max_pool_connections=64)
        noisy.create_bucket(Bucket="noisy")
        noisy.put_object(Bucket="noisy", Key="obj", Body=os.urandom(4 << 20))
        qak, qsk = random_keys()
        g.admin("user", "add", "quiet-user", qak, qsk, "--create-buckets")
        quiet = make_client(g.endpoint, qak, qsk)
        quiet.create_bucket(Bucket="quiet")
        quiet.put_object(Bucket="quiet", Key="q", Body=b"q" * 100)

        stop = threading.Event()
        shed, ok, retry_after = [0], [0], set()
        lock = threading.Lock()

        def hammer():
            while not stop.is_set():
                try:
                    noisy.get_object(Bucket="noisy", Key="obj")["Body"].read()
                    with lock:
                        ok[0] += 1
                except botocore.exceptions.ClientError as e:
                    r = e.response
                    assert r["Error"]["Code"] == "SlowDown", r
                    assert r["ResponseMetadata"]["HTTPStatusCode"] == 503
                    with lock:
                        shed[0] += 1
                        retry_after.add(r["ResponseMetadata"]["HTTPHeaders"].get("retry-after"))

        threads = [threading.Thread(target=hammer) for _ in range(24)]
        for t in threads:
            t.start()
        quiet_errors, quiet_ok = [], 0
        try:
            time.sleep(0.5)
            for _ in range(30):
                try:
                    assert quiet.get_object(Bucket="quiet", Key="q")["Body"].read() == b"q" * 100
                    quiet_ok += 1
                except botocore.exceptions.ClientError as e:
                    quiet_errors.append(e.response["Error"]["Code"])
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert shed[0] > 0 and ok[0] > 0, (shed, ok)
        assert retry_after == {"1"}
        assert quiet_ok == 30 and not quiet_errors, quiet_errors
        m = metrics(g)
        assert sum(v for (name, _), v in m.items() if name == "yc_requests_shed_total") >= shed[0]
        assert sample(m, "yc_requests_total", operation="GetObject", code="503") >= shed[0]
    finally:
        g.stop()


BENCH_BIN = os.path.join(os.path.dirname(GATEWAY_BIN), "yc-bench")


def bench(g, *args):
    """One run of the project's load generator against g: its key=value result line as a dict (it
    exits non-zero when a request failed, which a caller here may expect)."""
    out = subprocess.run([BENCH_BIN, "--endpoint", g.endpoint.split("//")[-1], "--access-key", g.access_key,
                          "--secret-key", g.secret_key] + list(args), capture_output=True, text=True, timeout=60)
    res = dict(f.split("=", 1) for f in out.stdout.split() if "=" in f)
    assert "ops" in res, (out.returncode, out.stdout, out.stderr)
    return res


def test_adaptive_bound_sheds_while_workers_queue_and_recovers(root):
    # one read worker, 1 MiB GETs at 32 connections: each GET holds the worker for a stripe read,
    # so the jobs behind it wait far longer than the 2 ms the bound allows; the door is off. How the bound grows back is test_gw_admit.c's (a fake clock): here, on shared cores,
    # only that the gateway serves again once the queue is gone.
    g = start_gateway(root, "adaptive", "--read-workers", "1", "--adaptive-delay-us", "2000", "--adaptive-min", "4",
                      "--shed-lag-ms", "0")
    try:
        common = ["--bucket", "adaptive", "--size", "1m", "--keys", "8", "--prefix", "a-"]
        assert bench(g, "--create-bucket", "--op", "fill", "--connections", "4", "--duration", "30",
                     *common)["errors"] == "0"
        cuts = sample(metrics(g), "yc_admission_limit_cuts_total")

        hot = bench(g, "--op", "get", "--verify", "--connections", "32", "--duration", "1", *common)
        m = metrics(g)
        assert sample(m, "yc_admission_limit_cuts_total") > cuts
        assert sample(m, "yc_admission_limit") < 32  # below the connections: some were kept out
        assert int(hot["shed"]) > 0 and int(hot["ops"]) > 0, hot  # shed, and the admitted ones verified
        assert int(hot["errors"]) == int(hot["shed"]), hot  # every failure was a 503 SlowDown
        assert sample(m, "yc_requests_shed_total", reason="queue_deadline") >= int(hot["shed"])

        calm = bench(g, "--op", "get", "--verify", "--connections", "1", "--duration", "0.5", *common)
        assert calm["errors"] == "0" and int(calm["ops"]) > 0, calm
    finally:
        g.stop()


def p99(latencies):
    s = sorted(latencies)
    return s[int(len(s) * 0.99) - 1]


def small_get_latencies(gw, n=200):
    """Latencies of n sequential small GETs on one keep-alive connection."""
    s3 = gw.client()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        s3.get_object(Bucket="metrics-b", Key="k0")["Body"].read()
        out.append(time.perf_counter() - t)
    return out


def slowloris(port, n, ready, stop):
    """In a process of its own: n connections each sending a request head a byte every two
    seconds, until stop is readable (the parent closed it). ready gets a byte once all are open."""
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"G")
        socks.append(s)
    os.write(ready, b"r")
    partial = b"ET /metrics-b/k0 HTTP/1.1\r\nHost: x\r\nX-Slow: "
    i = 0
    while not select.select([stop], [], [], 2.0)[0]:
        for s in socks:
            try:
                s.send(partial[i % len(partial):i % len(partial) + 1])
            except OSError:
                pass
        i += 1
    for s in socks:
        s.close()


def test_slowloris_does_not_raise_a_normal_clients_p99(gw):
    small_get_latencies(gw, 20)  # warm
    # the reference is measured before and after the slow connections, 400 requests each: a
    # p99 of a few hundred samples on a shared two-core machine moves by a millisecond alone
    before = small_get_latencies(gw, 400)
    # The slow connections live in another process: dripping 1,000 sends from a thread of this
    # one would hold Python's lock for tens of milliseconds every two seconds, and the measured
    # client would wait for it (a p99 raised by the test, not by the gateway).
    ready_r, ready_w = os.pipe()
    stop_r, stop_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no pytest, no exceptions out
        code = 1
        try:
            os.close(ready_r)
            os.close(stop_w)
            slowloris(gw.port, 1000, ready_w, stop_r)
            code = 0
        finally:
            os._exit(code)
    os.close(ready_w)
    os.close(stop_r)
    try:
        assert os.read(ready_r, 1) == b"r", "the slow connections could not be opened"
        time.sleep(0.5)
        # Noise from the machine's other work can only raise a p99: a round that stays within the
        # bound shows the slow connections do not raise it, while a gateway they did slow fails
        # every round. Up to three rounds, the slow connections open throughout.
        rounds = []
        for _ in range(3):
            rounds.append(p99(small_get_latencies(gw, 400)))
            if rounds[-1] <= max(2 * p99(before), p99(before) + 0.002):
                break
        loaded = min(rounds)
    finally:
        os.close(stop_w)
        _, status = os.waitpid(pid, 0)
        os.close(ready_r)
    assert os.waitstatus_to_exitcode(status) == 0
    time.sleep(0.5)
    base = p99(before + small_get_latencies(gw, 400))
    print("p99 without %.2f ms, with 1000 slowloris connections %s ms"
          % (base * 1e3, " / ".join("%.2f" % (r * 1e3) for r in rounds)))
    # 2x, with a floor of 2 ms for a loaded shared machine's noise on sub-millisecond figures
    assert loaded <= max(2 * base, base + 0.002), (base, loaded)
