"""A small yuncang cluster on one host for fault tests: yc-store daemons serving drives in
temporary directories and a yc-gateway over them (network transport), with helpers to kill -9
and restart either kind of process on the same port and directories.

Also the deterministic object content the fault tests write and verify: the bytes of an object
are a function of its key and a generation number, so a reader can tell exactly which write it
is looking at, and whether it is one that was ever attempted.

Used by conftest.py (pytest fixtures) and by chaos.py when it runs as a script, so nothing here
depends on pytest being the caller: failures raise ClusterError.
"""
import concurrent.futures
import ctypes
import ctypes.util
import hashlib
import importlib.util
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))


def _load_integration_helpers():
    """The integration suite's conftest has the boto3 client and port helpers; load it under a
    private name so that it does not clash with this folder's own conftest."""
    path = os.path.join(os.path.dirname(HERE), "integration", "conftest.py")
    spec = importlib.util.spec_from_file_location("yc_integration_conftest", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_it = _load_integration_helpers()
free_port = _it.free_port
random_keys = _it.random_keys
make_client = _it.make_client
BIN_DIR = _it.BIN_DIR
GATEWAY_BIN = _it.GATEWAY_BIN
ADMIN_BIN = _it.ADMIN_BIN
Gateway = _it.Gateway
STORE_BIN = os.path.join(BIN_DIR, "yc-store")

KiB = 1024
MiB = 1024 * KiB
READY_TIMEOUT = 20.0


class ClusterError(Exception):
    pass


def _die_with_parent():
    """Runs in the child before exec: it gets SIGKILL if the test process dies first."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


# PR_SET_PDEATHSIG fires when the thread that forked the child exits, not the process: every
# child is therefore forked by this one thread, which lives as long as the process does.
_spawner = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="yc-spawn")


def spawn(cmd, **kwargs):
    """subprocess.Popen(cmd, ...) forked by the spawner thread; the child dies with this process."""
    return _spawner.submit(subprocess.Popen, cmd, preexec_fn=_die_with_parent, **kwargs).result()


def unique_bucket_name(prefix="yc-fault"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


# ---- object content ----

def object_size(key, gen, lo=1 * KiB, hi=3 * MiB):
    """A size between lo and hi, log-uniform so that most objects are small, fixed by key and gen."""
    r = random.Random("%s#%d#size" % (key, gen))
    return min(hi, max(lo, int(lo * (hi / lo) ** r.random())))


def object_data(key, gen, size):
    """The bytes of generation gen of key: a SHA-256 chain, cheap and never repeating between keys."""
    seed = hashlib.sha256(("%s#%d" % (key, gen)).encode()).digest()
    blocks = []
    have = 0
    counter = 0
    while have < size:
        chunk = hashlib.sha256(seed + counter.to_bytes(8, "big")).digest() * 128  # 4 KiB
        blocks.append(chunk)
        have += len(chunk)
        counter += 1
    return b"".join(blocks)[:size]


def object_for(key, gen, lo=1 * KiB, hi=3 * MiB):
    return object_data(key, gen, object_size(key, gen, lo, hi))


# ---- processes ----

def _wait_listening(host, port, proc, deadline, what, log_tail):
    while True:
        if proc.poll() is not None:
            raise ClusterError("%s exited with status %s during startup; log tail:\n%s"
                               % (what, proc.returncode, log_tail()))
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise ClusterError("%s is not accepting connections on %s:%d after %.0f s; log tail:\n%s"
                               % (what, host, port, READY_TIMEOUT, log_tail()))
        time.sleep(0.05)


class StoreDaemon:
    """One yc-store process serving named drives; kill() and start() again keep port and dirs.

    netns: when set, the daemon runs inside that network namespace (`ip netns exec`), listening
    on host, which must then be an address of that namespace reachable from here.
    """

    def __init__(self, name, drives, log_path, secret, host="127.0.0.1", port=None, netns=None):
        self.name = name
        self.drives = dict(drives)  # drive name -> directory
        self.log_path = log_path
        self.secret = secret
        self.host = host
        self.port = port or free_port()
        self.netns = netns
        self.proc = None
        self.starts = 0
        self.crashes = []  # exit statuses of the times it died without being told to
        self.extra_args = []  # more yc-store options for the next start()
        self.extra_env = {}  # more environment for the next start() (fault shims)

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    def drive_specs(self):
        """The drives as the gateway names them: HOST:PORT/NAME, in a stable order."""
        return ["%s/%s" % (self.address, d) for d in sorted(self.drives)]

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        if not os.access(STORE_BIN, os.X_OK):
            raise ClusterError("store binary %s is missing: run `make all` first" % STORE_BIN)
        if self.running():
            raise ClusterError("%s is already running" % self.name)
        if self.proc is not None:
            self.crashes.append(self.proc.returncode)
            self.proc = None
        for d in self.drives.values():
            os.makedirs(d, exist_ok=True)
        cmd = [STORE_BIN, "--listen", self.address]
        for name in sorted(self.drives):
            cmd += ["--drive", "%s=%s" % (name, self.drives[name])]
        cmd += self.extra_args
        if self.netns:
            cmd = ["ip", "netns", "exec", self.netns] + cmd
        env = dict(os.environ, YC_CLUSTER_SECRET=self.secret, **self.extra_env)
        log = open(self.log_path, "ab")
        try:
            log.write(("---- start %d ----\n" % self.starts).encode())
            log.flush()
            self.proc = spawn(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()
        self.starts += 1
        _wait_listening(self.host, self.port, self.proc, time.monotonic() + READY_TIMEOUT, self.name, self.log_tail)
        return self

    def kill(self):
        """SIGKILL, and wait until the process is gone (its port is then free)."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGKILL)
            else:
                self.crashes.append(self.proc.returncode)
            self.proc.wait()
        self.proc = None

    def stop(self, timeout=15.0):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        return rc

    def restart(self):
        self.kill()
        return self.start()

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines=30):
        return "\n".join(self.log_text().splitlines()[-lines:])


class NetGateway(Gateway):
    """The integration suite's Gateway, started over remote drives (--drives-list) and extra options."""

    def __init__(self, data_dir, access_key, secret_key, drives_list, cluster_secret, extra_args=(), port=None):
        super().__init__(data_dir, access_key, secret_key, port=port)
        self.drives_list = drives_list
        self.cluster_secret = cluster_secret
        self.extra_args = list(extra_args)

    def start(self):
        if not os.access(GATEWAY_BIN, os.X_OK):
            raise ClusterError("gateway binary %s is missing: run `make all` first" % GATEWAY_BIN)
        os.makedirs(self.data_dir, exist_ok=True)
        # every gateway of a cluster seals access keys' secrets under one secrets key, derived here
        # from the cluster secret so that all of them, and their restarts, hold the same
        env = dict(os.environ, YC_ROOT_USER=self.access_key, YC_ROOT_PASSWORD=self.secret_key,
                   YC_CLUSTER_SECRET=self.cluster_secret,
                   YC_SECRETS_KEY=hashlib.sha256(("secrets key " + self.cluster_secret).encode()).hexdigest())
        secrets_key = [] if any(a.startswith("--secrets-key") for a in self.extra_args) else \
            ["--secrets-key-env", "YC_SECRETS_KEY"]
        cmd = [GATEWAY_BIN, "--listen", "127.0.0.1:%d" % self.port, "--data", self.data_dir,
               "--drives-list", ",".join(self.drives_list)] + secrets_key + _it.door_args(self.extra_args) + \
            self.extra_args
        log = open(self.log_path, "ab")
        try:
            self.proc = spawn(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()
        _wait_listening("127.0.0.1", self.port, self.proc, time.monotonic() + READY_TIMEOUT, "yc-gateway",
                        self.stderr_tail)
        return self


class Cluster:
    """nodes yc-store daemons with drives_per_node drives each, and one gateway over all of them.

    Drive order in the drives list is node-major (n0/a, n0/b, n1/a, ...); the gateway spreads set
    members round-robin over nodes, so with 3 nodes x 2 drives and EC 4+2 every node holds two
    shards of every object. The cluster's files live under root (a new temporary directory unless
    given); close() stops everything and removes it.
    """

    def __init__(self, nodes=3, drives_per_node=2, root=None, ec=None, gateway_args=(), before_start=None):
        self.own_root = root is None
        self.root = root or tempfile.mkdtemp(prefix="yc-fault-")
        self.secret = secrets.token_hex(24)
        self.access_key, self.secret_key = random_keys()
        self.daemons = []
        for i in range(nodes):
            drives = {chr(ord("a") + j): os.path.join(self.root, "node%d" % i, chr(ord("a") + j))
                      for j in range(drives_per_node)}
            self.daemons.append(StoreDaemon("store%d" % i, drives, os.path.join(self.root, "node%d.log" % i),
                                            self.secret))
        self.ec = ec
        self.gateway_args = list(gateway_args) + (["--ec", ec] if ec else [])
        self.gateway = None
        self.before_start = before_start

    def drives_list(self):
        return [spec for d in self.daemons for spec in d.drive_specs()]

    def drive_dirs(self):
        return [d.drives[n] for d in self.daemons for n in sorted(d.drives)]

    def start(self):
        for d in self.daemons:
            for path in d.drives.values():
                os.makedirs(path, exist_ok=True)
        if self.before_start:
            self.before_start(self)
        for d in self.daemons:
            if not d.running():
                d.start()
        self.gateway = NetGateway(os.path.join(self.root, "gateway"), self.access_key, self.secret_key,
                                  self.drives_list(), self.secret, self.gateway_args)
        self.gateway.start()
        return self

    def client(self, **config):
        return self.gateway.client(**config)

    def kill(self, i):
        self.daemons[i].kill()

    def restart(self, i):
        self.daemons[i].restart()

    def start_all(self):
        """Starts every daemon that is not running (and the gateway if it is down)."""
        for d in self.daemons:
            if not d.running():
                d.start()
        if self.gateway is not None and (self.gateway.proc is None or self.gateway.proc.poll() is not None):
            self.gateway.proc = None
            self.gateway.start()

    def stop(self):
        if self.gateway is not None:
            self.gateway.stop()
        for d in self.daemons:
            d.stop()

    def close(self, keep=False):
        """Stops everything; removes the files unless keep (or YC_FAULT_KEEP=1 and keep is None)."""
        self.stop()
        if keep or (keep is None and os.environ.get("YC_FAULT_KEEP") == "1"):
            return
        if self.own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def gateway_log(self):
        return self.gateway.stderr_text() if self.gateway else ""

    def crashed(self):
        """Names of the processes that died on their own (not killed by us), with their status."""
        out = []
        if self.gateway is not None and self.gateway.proc is not None and self.gateway.proc.poll() is not None:
            out.append("gateway (status %s)" % self.gateway.proc.returncode)
        for d in self.daemons:
            statuses = list(d.crashes)
            if d.proc is not None and d.proc.poll() is not None:
                statuses.append(d.proc.returncode)
            if statuses:
                out.append("%s (status %s)" % (d.name, ", ".join(map(str, statuses))))
        return out

    def logs_tail(self, lines=20):
        parts = ["== gateway\n" + (self.gateway.stderr_tail(lines) if self.gateway else "")]
        for d in self.daemons:
            parts.append("== %s\n%s" % (d.name, d.log_tail(lines)))
        return "\n".join(parts)


def error_code(exc):
    """(HTTP status, S3 error code) of a botocore ClientError; (None, class name) otherwise."""
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return (resp.get("ResponseMetadata", {}).get("HTTPStatusCode"), resp.get("Error", {}).get("Code"))
    return (None, type(exc).__name__)
