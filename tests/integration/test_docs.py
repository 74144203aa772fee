"""Every documented command, run as written: the commands in the comments of
conf/one-host-3-stores.yaml, the sh blocks of docs/operations.md and of README.md.

The commands are read from those files at each run, never copied here, and pasted into shells
(persistent bash processes, one per host, as an operator's terminals): exports and sourced
files carry over from line to line as they would. Only what cannot be the same on a test
machine is rewritten, by rule, and nothing else:

  - ports: every documented port (9000 of a gateway, 9200..9203 of daemons) becomes a free one;
  - hosts: node1 .. node4 of the multi-node cluster become loopback addresses 127.0.0.11 ..
    127.0.0.14 (each "host" listens on its own address: the daemons keep one port, as on real
    hosts), and a daemon's 0.0.0.0 becomes its host's address;
  - absolute paths: /srv/ (a disk node's mounted disks) and /var/lib/ become folders under the
    test's temporary folder, one per host; relative paths stay relative to a temporary copy
    of the tree (bin/ links to the built binaries, conf/ is copied and rewritten by the same
    rules);
  - `make run` runs its last step, tests/run-gateway.sh (the build is done); `make test`, the
    caller of this test, is skipped;
  - servers (yc-store, yc-gateway, run-gateway.sh) start in the background whether or not the
    line ends with `&`, with their output in a log file, and the next line waits until they
    listen, as an operator waits for the prompt of the other terminal;
  - files the commands upload (picture.jpg) are made here; the disks the docs say are mounted
    (/srv/diskN) exist, empty but for a lost+found, as on a fresh file system.

Then the round trip on each cluster: write 20 MiB, kill a daemon (SIGKILL), read it back
identical, write again, restart the daemon with its documented command, heal with the
documented `yc-admin heal`, and kill another daemon to show that the healed drives serve.
A doc that changes and breaks fails here.
"""
import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import queue
import time

import ctypes
import ctypes.util

import pytest

from conftest import BIN_DIR, REPO_ROOT, make_client

README = os.path.join(REPO_ROOT, "README.md")
OPERATIONS = os.path.join(REPO_ROOT, "docs", "operations.md")
ONE_HOST_CONF = os.path.join(REPO_ROOT, "conf", "one-host-3-stores.yaml")
MiB = 1024 * 1024
SERVERS = ("yc-store", "yc-gateway", "run-gateway.sh")
READY_TIMEOUT = 30.0
STATUS_DEADLINE = 5.0  # a daemon that died is named by the gateway within this


# ---------------------------------------------------------------- extraction

def conf_commands(path):
    """The command lines in a config file's comments: comment lines indented by 3 or more
    spaces after the '#', a trailing backslash joining the next one."""
    out, pending = [], ""
    with open(path) as f:
        for line in f:
            m = re.match(r"^#\s{3,}(\S.*)$", line.rstrip("\n"))
            if not m:
                continue
            text = pending + m.group(1)
            if text.endswith("\\"):
                pending = text[:-1]
                continue
            pending = ""
            out.append(text)
    return out


def md_sections(path):
    """{heading of a '## ' section: [sh blocks, each a list of command lines]}, in order."""
    sections, current, block = {}, None, None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if block is not None:
                if line.startswith("```"):
                    sections[current].append(block)
                    block = None
                elif line.strip():
                    if block and block[-1].endswith("\\"):
                        block[-1] = block[-1][:-1] + line.strip()
                    else:
                        block.append(line)
                continue
            if line.startswith("## "):
                current = line[3:].strip()
                sections[current] = []
            elif line.strip() == "```sh" and current is not None:
                block = []
            elif line.strip() == "```sh":
                current = current or ""
                sections.setdefault(current, [])
                block = []
    return sections


def section(sections, prefix):
    names = [n for n in sections if n.startswith(prefix)]
    assert len(names) == 1, "the docs have no section '%s...' (sections: %s)" % (prefix, list(sections))
    return sections[names[0]]


def is_server(cmd):
    return cmd.startswith("make run") or re.search(r"(^|\s)(\S*/)?(yc-store|yc-gateway|run-gateway\.sh)(\s|$)", cmd)


# ---------------------------------------------------------------- machinery

def free_port_on(addresses):
    """A port nobody listens on at any of the addresses."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind((addresses[0], 0))
            port = s.getsockname()[1]
        ok = True
        for a in addresses[1:]:
            with socket.socket() as s:
                try:
                    s.bind((a, port))
                except OSError:
                    ok = False
                    break
        if ok:
            return port
    raise AssertionError("no free port on %s" % addresses)


def _die_with_parent():
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)


def rewrite(text, rules):
    for pattern, repl in rules:
        text = re.sub(pattern, repl, text, flags=re.M)
    return text


class Shell:
    """A bash an operator types into on one host. Foreground commands run to their end and give
    their status and output; servers start in the background (job control on, so that each
    server is a process group of its own) and are waited for until they listen."""

    def __init__(self, name, cwd, env, rules, logs):
        self.name = name
        self.cwd = cwd
        self.rules = rules
        self.logs = logs
        self.n = 0
        self.servers = {}  # documented command -> (pgid, log path, listen (host, port))
        self.proc = subprocess.Popen(["bash", "--noprofile", "--norc"], cwd=cwd, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                                     preexec_fn=_die_with_parent)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self._send("set -m\n")

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _send(self, text):
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    def _marker(self, tag, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError("[%s] `%s` did not finish in %.0f s" % (self.name, what, timeout))
            if line is None:
                raise AssertionError("[%s] the shell exited" % self.name)
            if line.startswith(tag):
                return line[len(tag):].strip()

    def run(self, cmd, timeout=180, check=True):
        """Runs a foreground command; (status, output)."""
        self.n += 1
        out = os.path.join(self.logs, "%s.%03d.out" % (self.name, self.n))
        line = rewrite(cmd, self.rules)
        tag = "__YC_RC_%d__" % self.n
        self._send("{ %s\n} >%s 2>&1 </dev/null; echo %s$?\n" % (line, out, tag))
        rc = int(self._marker(tag, timeout, line))
        with open(out, errors="replace") as f:
            text = f.read()
        if check:
            assert rc == 0, "[%s] `%s` exited %d:\n%s" % (self.name, line, rc, text[-3000:])
        return rc, text

    def start(self, cmd, listen):
        """Starts a server command in the background; waits until listen (host, port) accepts."""
        self.n += 1
        log = os.path.join(self.logs, "%s.%03d.log" % (self.name, self.n))
        line = rewrite(cmd, self.rules).rstrip()
        if line.endswith("&"):
            line = line[:-1].rstrip()
        if line.startswith("make run"):
            line = "tests/run-gateway.sh"
        tag = "__YC_PID_%d__" % self.n
        self._send("{ %s\n} >%s 2>&1 </dev/null & echo %s$!\n" % (line, log, tag))
        pid = int(self._marker(tag, 10, line))
        self.servers[cmd] = (pid, log, listen)
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                with socket.create_connection(listen, timeout=0.5):
                    return pid
            except OSError:
                pass
            if not alive(pid):
                raise AssertionError("[%s] `%s` exited during start-up:\n%s" % (self.name, line, tail(log)))
            if time.monotonic() > deadline:
                raise AssertionError("[%s] `%s` does not listen on %s:%d:\n%s" % (self.name, line, listen[0],
                                                                                    listen[1], tail(log)))
            time.sleep(0.05)

    def kill(self, cmd):
        pid, _, listen = self.servers[cmd]
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)

    def log_of(self, cmd):
        with open(self.servers[cmd][1], errors="replace") as f:
            return f.read()

    def close(self):
        for pid, _, _ in self.servers.values():
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        for pid, _, _ in self.servers.values():
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.kill()
        self.proc.wait()


def alive(pid):
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    try:
        # a zombie group leader: reaped by the shell once it notices
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:  # gone between the two looks
        return False


def tail(path, n=30):
    try:
        with open(path, errors="replace") as f:
            return "\n".join(f.read().splitlines()[-n:])
    except FileNotFoundError:
        return ""


class Tree:
    """A temporary copy of what the commands use: bin/ (a link to the built binaries), conf/
    and tests/run-gateway.sh rewritten by rules, a home without AWS configuration."""

    def __init__(self, root):
        self.root = root
        for sub in ("conf", "tests", "home", "logs"):
            os.makedirs(os.path.join(root, sub))
        os.symlink(BIN_DIR, os.path.join(root, "bin"))
        self.shells = []

    def copy(self, rules):
        """conf/ and tests/run-gateway.sh of the repository, rewritten by rules."""
        for name in os.listdir(os.path.join(REPO_ROOT, "conf")):
            with open(os.path.join(REPO_ROOT, "conf", name)) as f:
                text = f.read()
            with open(os.path.join(self.root, "conf", name), "w") as f:
                f.write(rewrite(text, rules))
        with open(os.path.join(REPO_ROOT, "tests", "run-gateway.sh")) as f:
            text = f.read()
        path = os.path.join(self.root, "tests", "run-gateway.sh")
        with open(path, "w") as f:
            f.write(rewrite(text, rules))
        os.chmod(path, 0o755)
        return self

    def env(self):
        """A fresh login's environment: no AWS variables or files of this machine."""
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.path.join(self.root, "home"),
                "LANG": "C.UTF-8", "TMPDIR": self.root}

    def shell(self, name, rules):
        sh = Shell(name, self.root, self.env(), rules, os.path.join(self.root, "logs"))
        self.shells.append(sh)
        return sh

    def close(self):
        for sh in self.shells:
            sh.close()


@pytest.fixture
def tree_factory():
    made = []

    def make():
        t = Tree(tempfile.mkdtemp(prefix="yc-docs-"))
        made.append(t)
        return t

    yield make
    for t in made:
        t.close()
        shutil.rmtree(t.root, ignore_errors=True)


def listen_of(cmd, tree, rules, default_port=None):
    """Where a server command listens: its --listen, its --config file's listen:, or
    run-gateway.sh's 127.0.0.1:9000 (after the rules)."""
    line = rewrite(cmd, rules)
    m = re.search(r"--listen[ =](\S+):(\d+)", line)
    if m is None:
        m2 = re.search(r"--config[ =](\S+)", line)
        if m2:
            with open(os.path.join(tree.root, m2.group(1))) as f:
                m = re.search(r"^listen:\s*(\S+):(\d+)", f.read(), re.M)
    if m is None and ("run-gateway.sh" in line or line.startswith("make run")):
        with open(os.path.join(tree.root, "tests", "run-gateway.sh")) as f:
            m = re.search(r"--listen (\S+):(\d+)", f.read())
    assert m is not None, "cannot tell where `%s` listens" % line
    host = m.group(1)
    return ("127.0.0.1" if host == "0.0.0.0" else host, int(m.group(2)))


def run_lines(sh, tree, lines, rules):
    """Pastes lines into sh: servers start in the background, the rest runs to its end."""
    for cmd in lines:
        if cmd.startswith("make test"):
            continue  # the caller of this very test
        if is_server(cmd):
            sh.start(cmd, listen_of(cmd, tree, rules))
        else:
            sh.run(cmd)


def make_file(path, size, seed):
    data = b"".join(hashlib.sha256(("%s#%d" % (seed, i)).encode()).digest() for i in range((size + 31) // 32))
    with open(path, "wb") as f:
        f.write(data[:size])


def status_json(sh, endpoint):
    import json
    _, out = sh.run("bin/yc-admin --endpoint %s status --json" % endpoint)
    return json.loads(out)


def wait_named_down(sh, endpoint, node, gateway_log, deadline_s):
    """The gateway's log and yc-admin status name node as down within deadline_s."""
    t0 = time.monotonic()
    while True:
        doc = status_json(sh, endpoint)
        states = {n["node"]: n["state"] for n in doc["nodes"]}
        logged = re.search(r"event=node_state node=%s state=(refused|timed_out)" % re.escape(node), gateway_log())
        if states.get(node) in ("refused", "timed_out") and logged:
            return time.monotonic() - t0
        if time.monotonic() - t0 > deadline_s:
            raise AssertionError("after %.1f s the gateway still does not name %s as down: status says %s, "
                                 "log says %s" % (deadline_s, node, states.get(node), bool(logged)))
        time.sleep(0.2)


def wait_all_ok(sh, endpoint, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        doc = status_json(sh, endpoint)
        if doc["drivesOk"] == doc["drives"]:
            return doc
        if time.monotonic() > deadline:
            raise AssertionError("not every drive is ok after %d s: %s" % (timeout, doc))
        time.sleep(0.2)


def round_trip(sh, endpoint, daemons, victim, second_victim, heal_lines, gateway_log):
    """Write, kill a daemon, read back, write again, restart it, heal, and read what was
    written while it was down with another daemon killed: only the healed drives can serve it.
    daemons: {node address: (shell, documented command)}."""
    aws = "aws --endpoint-url %s" % endpoint
    sh.run("export AWS_ACCESS_KEY_ID=$YC_ROOT_USER AWS_SECRET_ACCESS_KEY=$YC_ROOT_PASSWORD")
    make_file(os.path.join(sh.cwd, "first.bin"), 20 * MiB, "first")
    make_file(os.path.join(sh.cwd, "second.bin"), 20 * MiB, "second")
    sh.run("%s s3 mb s3://docs-round-trip" % aws)
    sh.run("%s s3 cp first.bin s3://docs-round-trip/first.bin" % aws)

    node_sh, node_cmd = daemons[victim]
    node_sh.kill(node_cmd)
    took = wait_named_down(sh, endpoint, victim, gateway_log, STATUS_DEADLINE)
    print("%s named down after %.1f s" % (victim, took))
    sh.run("%s s3 cp s3://docs-round-trip/first.bin first.back" % aws)
    sh.run("cmp first.bin first.back")
    sh.run("%s s3 cp second.bin s3://docs-round-trip/second.bin" % aws)

    node_sh.start(node_cmd, node_sh.servers[node_cmd][2])
    wait_all_ok(sh, endpoint)
    for cmd in heal_lines:  # `yc-admin heal` exits 0 once the heal is done and failed nothing
        sh.run(cmd)

    other_sh, other_cmd = daemons[second_victim]
    other_sh.kill(other_cmd)
    sh.run("%s s3 cp s3://docs-round-trip/second.bin second.back" % aws)
    sh.run("cmp second.bin second.back")
    sh.run("%s s3 cp s3://docs-round-trip/first.bin first.back2" % aws)
    sh.run("cmp first.bin first.back2")


def heal_block(ops):
    blocks = section(ops, "Failures and healing")
    lines = [l for b in blocks for l in b if "yc-admin" in l and " heal" in l]
    assert any(re.search(r"\bheal\s*(#.*)?$", l) for l in lines), "no `yc-admin heal` in 'Failures and healing'"
    return lines


# ---------------------------------------------------------------- the tests

def test_one_host_three_stores_as_documented(tree_factory):
    commands = conf_commands(ONE_HOST_CONF)
    stores = [c for c in commands if "yc-store" in c]
    assert len(stores) == 3 and any("yc-gateway" in c for c in commands), commands
    ports = {p: free_port_on(["127.0.0.1"]) for p in ("9000", "9201", "9202", "9203")}
    rules = [(r"\b127\.0\.0\.1:%s\b" % p, "127.0.0.1:%d" % q) for p, q in ports.items()]
    tree = tree_factory().copy(rules)
    sh = tree.shell("host", rules)
    run_lines(sh, tree, commands, rules)

    endpoint = "http://127.0.0.1:%d" % ports["9000"]
    gateway = [c for c in commands if "yc-gateway" in c][0]
    doc = wait_all_ok(sh, endpoint)
    assert len(doc["nodes"]) == 3 and doc["drives"] == 6, doc
    # every drive was made by its daemon and has its identity, placed by the gateway
    for n in (1, 2, 3):
        for d in ("a", "b"):
            with open(os.path.join(tree.root, "var", "store%d" % n, d, "identity")) as f:
                text = f.read()
            assert "drive_id: " in text and "verifier: " in text and "slot: " in text, text
    daemons = {"127.0.0.1:%d" % ports[p]: (sh, c) for p, c in zip(("9201", "9202", "9203"), stores)}
    round_trip(sh, endpoint, daemons, "127.0.0.1:%d" % ports["9202"], "127.0.0.1:%d" % ports["9203"],
               heal_block(md_sections(OPERATIONS)), lambda: sh.log_of(gateway))


def test_multi_node_section_as_documented(tree_factory):
    ops = md_sections(OPERATIONS)
    blocks = section(ops, "Several hosts")
    node_blocks = [b for b in blocks if any("yc-store" in l for l in b)]
    gateway_blocks = [b for b in blocks if any("yc-gateway" in l for l in b)]
    assert len(node_blocks) == 1 and len(gateway_blocks) == 1, blocks
    with open(os.path.join(REPO_ROOT, "conf", "multi-node.yaml")) as f:
        nodes = sorted(set(re.findall(r"\b(node\d+):9200/", f.read())))
    assert len(nodes) >= 3, nodes
    addr = {n: "127.0.0.%d" % (10 + int(n[4:])) for n in nodes}
    port = free_port_on(list(addr.values()))
    gw_port = free_port_on(["127.0.0.1"])
    tree = tree_factory()
    gw_home = os.path.join(tree.root, "hosts", "gateway")
    # the gateway host's rules: the nodes' names and port, its own listen address and /var/lib
    gw_rules = [(r"\b(node\d+):9200\b", lambda m: "%s:%d" % (addr[m.group(1)], port)),
                (r"^listen:\s*0\.0\.0\.0:9000", "listen: 127.0.0.1:%d" % gw_port),
                (r"\b127\.0\.0\.1:9000\b", "127.0.0.1:%d" % gw_port),
                (r"(?<![\w.])/var/lib/", gw_home + "/var/lib/")]
    tree.copy(gw_rules)

    gw = tree.shell("gateway", gw_rules)
    daemons = {}
    for b in blocks:
        if b not in node_blocks:
            run_lines(gw, tree, b, gw_rules)
            continue
        for n in nodes:
            host_root = os.path.join(tree.root, "hosts", n)
            for k in range(1, 5):  # the disks the docs say are mounted: a fresh file system each
                os.makedirs(os.path.join(host_root, "srv", "disk%d" % k, "lost+found"))
            rules = [(r"\b0\.0\.0\.0:9200\b", "%s:%d" % (addr[n], port)), (r"(?<![\w.])/srv/", host_root + "/srv/")]
            sh = tree.shell(n, rules)
            run_lines(sh, tree, b, rules)
            store = [l for l in b if "yc-store" in l][0]
            daemons["%s:%d" % (addr[n], port)] = (sh, store)
    endpoint = "http://127.0.0.1:%d" % gw_port
    doc = wait_all_ok(gw, endpoint)
    assert len(doc["nodes"]) == len(nodes), doc
    gateway = [l for l in gateway_blocks[0] if "yc-gateway" in l][0]
    names = list(daemons)
    round_trip(gw, endpoint, daemons, names[1], names[2], heal_block(ops), lambda: gw.log_of(gateway))


def test_run_and_users_sections_as_documented(tree_factory):
    ops = md_sections(OPERATIONS)
    run_blocks = section(ops, "Run")
    users = section(ops, "Users")
    assert len(run_blocks) >= 2 and users, run_blocks
    # the blocks of "Run" are alternatives: each in a tree of its own
    for i, block in enumerate(run_blocks):
        port = free_port_on(["127.0.0.1"])
        rules = [(r"\b127\.0\.0\.1:9000\b", "127.0.0.1:%d" % port)]
        tree = tree_factory().copy(rules)
        sh = tree.shell("run%d" % i, rules)
        run_lines(sh, tree, block, rules)
        endpoint = "http://127.0.0.1:%d" % port
        if any(l.startswith("make run") for l in block):
            sh.run(". var/.root-keys")  # the keys make run printed
        wait_all_ok(sh, endpoint)
        if i == len(run_blocks) - 1:
            for b in users:
                run_lines(sh, tree, b, rules)
            _, out = sh.run("bin/yc-admin --endpoint %s user list" % endpoint)
            assert "AKALICE0001" not in out, out  # added, listed and removed by the section


def test_readme_commands_as_documented(tree_factory):
    sections = md_sections(README)
    blocks = [b for bs in sections.values() for b in bs]
    assert any(l.startswith("make run") for b in blocks for l in b), blocks
    port = free_port_on(["127.0.0.1"])
    rules = [(r"\b127\.0\.0\.1:9000\b", "127.0.0.1:%d" % port)]
    tree = tree_factory().copy(rules)
    make_file(os.path.join(tree.root, "picture.jpg"), 20 * MiB, "picture")
    sh = tree.shell("readme", rules)
    for b in blocks:
        run_lines(sh, tree, b, rules)
    endpoint = "http://127.0.0.1:%d" % port
    sh.run("aws --endpoint-url %s s3 cp s3://photos/picture.jpg picture.back" % endpoint)
    sh.run("cmp picture.jpg picture.back")
    # the user the README adds can sign requests
    added = [l for b in blocks for l in b if " user add " in l]
    assert added, "the README adds no user"
    _, ak, sk = added[0].split(" user add ")[1].split()[:3]
    make_client(endpoint, ak, sk).list_buckets()
