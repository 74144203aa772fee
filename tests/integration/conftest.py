"""Fixtures shared by the integration tests: a real yc-gateway process over temporary drives,
boto3 clients pointed at it, and a fresh bucket per test.

The gateway binary is bin/yc-gateway at the repository root (YC_BIN_DIR overrides the folder).
Every server gets random root keys, a free loopback port and its own data directory, and logs
stderr to a file so that tests can read it (startup failures, heal_needed events).
"""
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

import ctypes
import ctypes.util

import boto3
import botocore.config
import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN_DIR = os.environ.get("YC_BIN_DIR", os.path.join(REPO_ROOT, "bin"))
GATEWAY_BIN = os.path.join(BIN_DIR, "yc-gateway")


def door_args(extra_args):
    """The gateway's door (load shedding from a request's head when an event loop lags) is off in
    tests that do not ask for it: they make one attempt per request and run beside their clients
    on the same cores, where a lagging loop says more about the machine than about the gateway.
    test_overload.py turns it on and tests it."""
    return [] if "--shed-lag-ms" in extra_args else ["--shed-lag-ms", "0"]


def adaptive_args(extra_args):
    """The adaptive in-flight bound (admission's measure of the read workers' queue) is off in
    tests that do not ask for it, whatever the default, for the door's reason: beside their
    clients on shared cores, a worker's wait says more about the machine than about the gateway.
    test_edge_wiring.py turns it on and tests it."""
    return [] if "--adaptive-delay-us" in extra_args else ["--adaptive-delay-us", "0"]


def lockout_args(extra_args):
    """Access keys are locked after repeated wrong signatures (on by default); tests that send
    wrong signatures on purpose would lock their gateway's root key for the rest of the run,
    so the lockout is off unless a test asks for it. test_roles.py turns it on and tests it."""
    return [] if "--lockout-failures" in extra_args else ["--lockout-failures", "0"]
ADMIN_BIN = os.path.join(BIN_DIR, "yc-admin")
REGION = "us-east-1"
READY_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0


def _die_with_parent():
    """Runs in the child before exec: the gateway gets SIGKILL if the test process dies first."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


_ports_given = set()


def free_port():
    """A loopback port nobody listens on right now, and not given out before by this process: the
    kernel may hand a port it just freed to the next bind, so a cluster whose daemons are given
    their ports before any of them listens could otherwise get one port twice."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port


def random_keys():
    access = "YC" + secrets.token_hex(9).upper()
    secret = secrets.token_urlsafe(30)
    return access, secret


class Gateway:
    """One yc-gateway process over data_dir; stop() and start() again keep the data and the port."""

    def __init__(self, data_dir, access_key, secret_key, port=None):
        self.data_dir = data_dir
        self.access_key = access_key
        self.secret_key = secret_key
        self.port = port or free_port()
        self.log_path = os.path.join(os.path.dirname(data_dir), os.path.basename(data_dir) + ".stderr.log")
        self.proc = None
        self.extra_args = []  # more yc-gateway options for the next start()

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        if not os.access(GATEWAY_BIN, os.X_OK):
            pytest.fail("gateway binary %s is missing: run `make all` first" % GATEWAY_BIN, pytrace=False)
        env = dict(os.environ, YC_ROOT_USER=self.access_key, YC_ROOT_PASSWORD=self.secret_key)
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [GATEWAY_BIN, "--listen", "127.0.0.1:%d" % self.port, "--data", self.data_dir]
                + door_args(self.extra_args) + adaptive_args(self.extra_args) + lockout_args(self.extra_args)
                + self.extra_args,
                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log, preexec_fn=_die_with_parent)
        finally:
            log.close()
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                pytest.fail("gateway exited with status %s during startup; stderr tail:\n%s"
                            % (self.proc.returncode, self.stderr_tail()), pytrace=False)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail("gateway not accepting connections on port %d after %.0f s; stderr tail:\n%s"
                            % (self.port, READY_TIMEOUT, self.stderr_tail()), pytrace=False)
            time.sleep(0.05)

    def stop(self):
        """SIGTERM, then SIGKILL if the process is still there after STOP_TIMEOUT; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def stderr_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def stderr_tail(self, lines=40):
        return "\n".join(self.stderr_text().splitlines()[-lines:])

    def client(self, access_key=None, secret_key=None, **config):
        return make_client(self.endpoint, access_key or self.access_key, secret_key or self.secret_key, **config)

    def admin(self, *args, check=True):
        """Runs yc-admin against this gateway as root; returns the CompletedProcess."""
        cmd = [ADMIN_BIN, "--endpoint", self.endpoint, "--access-key", self.access_key,
               "--secret-key", self.secret_key] + list(args)
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if check and res.returncode != 0:
            raise AssertionError("yc-admin %s failed (%d): %s %s" % (" ".join(args), res.returncode,
                                                                     res.stdout, res.stderr))
        return res


def make_client(endpoint, access_key, secret_key, **config):
    """A boto3 S3 client: path-style, SigV4, us-east-1, one attempt so errors surface as they are."""
    cfg = dict(signature_version="s3v4", s3={"addressing_style": "path"}, region_name=REGION,
               retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=120,
               max_pool_connections=32)
    cfg.update(config)
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
        config=botocore.config.Config(**cfg))


@pytest.fixture(scope="session")
def gateway_factory():
    """Makes private gateways (own data dir, own port); all are stopped and removed at the end."""
    made = []
    root = tempfile.mkdtemp(prefix="yc-it-")

    def make():
        ak, sk = random_keys()
        data = os.path.join(root, "data%d" % len(made))
        os.makedirs(data)
        gw = Gateway(data, ak, sk)
        made.append(gw)
        return gw.start()

    yield make
    # all at once: each takes a moment to close its drives; the data goes next, so a gateway still
    # closing after a few seconds is killed rather than waited for
    live = [gw for gw in made if gw.proc is not None and gw.proc.poll() is None]
    for gw in live:
        gw.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 5.0
    for gw in live:
        try:
            gw.proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            gw.kill()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def gateway(gateway_factory):
    """The gateway most tests share."""
    return gateway_factory()


@pytest.fixture(scope="session")
def s3(gateway):
    return gateway.client()


def empty_and_delete_bucket(client, name):
    """Best-effort cleanup; a server bug here must not hide the result of the test itself."""
    try:
        for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=name):
            for u in page.get("Uploads", []):
                client.abort_multipart_upload(Bucket=name, Key=u["Key"], UploadId=u["UploadId"])
    except Exception:
        pass
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=name, Delete={"Objects": keys, "Quiet": True})
        client.delete_bucket(Bucket=name)
    except Exception:
        pass


def unique_bucket_name(prefix="yc-test"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


@pytest.fixture
def bucket(s3):
    """A new empty bucket for one test, emptied and deleted afterwards."""
    name = unique_bucket_name()
    s3.create_bucket(Bucket=name)
    yield name
    empty_and_delete_bucket(s3, name)


@pytest.fixture
def bucket_factory(s3):
    """Creates extra buckets on demand (with the root client or another one); all removed afterwards."""
    made = []

    def make(client=None, prefix="yc-test"):
        c = client or s3
        name = unique_bucket_name(prefix)
        c.create_bucket(Bucket=name)
        made.append((c, name))
        return name

    yield make
    for c, name in made:
        empty_and_delete_bucket(c, name)


@pytest.fixture(scope="session")
def admin_available():
    if not os.access(ADMIN_BIN, os.X_OK):
        pytest.skip("yc-admin binary %s is not built yet" % ADMIN_BIN)
    return True
