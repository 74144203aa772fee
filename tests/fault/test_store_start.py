"""yc-store at start: drives it prepares, and every way a start can fail — a missing folder whose
parent is missing, an unwritable folder (a file in its place, a read-only mount), a foreign
non-empty folder, a prepared drive with another cluster secret, a drive another daemon serves,
a port in use — each prints exactly one line naming the drive, its path and the cause (or the
address) and exits non-zero, without touching the drives it did not get to.
"""
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

import cluster as yc

SECRET = "start-test-" + secrets.token_hex(8)


@pytest.fixture
def root():
    d = tempfile.mkdtemp(prefix="yc-store-start-")
    yield d
    for m in reversed(mounted):  # read-only mounts made by a test
        subprocess.run(["umount", "-l", m], capture_output=True)
    mounted.clear()
    shutil.rmtree(d, ignore_errors=True)


mounted = []


def run_store(args, secret=SECRET, timeout=15):
    """Runs yc-store expecting it to stop by itself; (status, output lines)."""
    env = dict(os.environ, YC_CLUSTER_SECRET=secret) if secret is not None else {
        k: v for k, v in os.environ.items() if k != "YC_CLUSTER_SECRET"}
    res = subprocess.run([yc.STORE_BIN] + args, env=env, capture_output=True, text=True, timeout=timeout)
    lines = [l for l in (res.stdout + res.stderr).splitlines() if l.strip()]
    return res.returncode, lines


def expect_one_line(args, *needles, secret=SECRET, status=1):
    rc, lines = run_store(args, secret=secret)
    assert rc == status, "exit status %d, expected %d; output: %s" % (rc, status, lines)
    assert len(lines) == 1, "expected one line, got %d: %s" % (len(lines), lines)
    for n in needles:
        assert n in lines[0], "%r not in %r" % (n, lines[0])
    return lines[0]


def listen_args(port):
    return ["--listen", "127.0.0.1:%d" % port]


def mount(args, target):
    if os.geteuid() != 0:
        pytest.skip("mounting needs root")
    res = subprocess.run(["mount"] + args + [target], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip("mount %s refused: %s" % (" ".join(args), res.stderr.strip()))
    mounted.append(target)


def test_missing_folder_is_made_when_its_parent_exists(root):
    port = yc.free_port()
    path = os.path.join(root, "a")
    proc = subprocess.Popen([yc.STORE_BIN] + listen_args(port) + ["--drive", "a=" + path],
                            env=dict(os.environ, YC_CLUSTER_SECRET=SECRET), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, proc.stderr.read()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "yc-store did not listen"
                time.sleep(0.05)
        with open(os.path.join(path, "identity")) as f:
            text = f.read()
        assert text.startswith("yuncang drive identity\n") and "drive_id: " in text and "verifier: " in text, text
    finally:
        proc.terminate()
        proc.wait(15)


def test_stops_on_sigterm_sent_at_any_moment_of_its_start(root):
    """A SIGTERM that lands while the daemon starts, or just as it begins to wait for one, stops
    it: a handler's flag checked before pause() once lost such a signal and the daemon ran on."""
    for i in range(40):
        port = yc.free_port()
        proc = subprocess.Popen([yc.STORE_BIN] + listen_args(port) + ["--drive", "a=%s/d%d" % (root, i)],
                                env=dict(os.environ, YC_CLUSTER_SECRET=SECRET), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            if i % 2:  # half of them once it listens, the rest at whatever point it has reached
                deadline = time.monotonic() + 20
                while proc.poll() is None and time.monotonic() < deadline:
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                        break
                    except OSError:
                        time.sleep(0.002)
            else:
                time.sleep(0.003 * i)
            proc.terminate()
            rc = proc.wait(10)
            assert rc in (0, -signal.SIGTERM), "round %d: exit status %d" % (i, rc)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_missing_folder_whose_parent_is_missing(root):
    path = os.path.join(root, "store1", "a")
    expect_one_line(["--drive", "a=" + path], "drive a: %s: No such file or directory" % path)
    assert not os.path.exists(os.path.join(root, "store1"))


def test_file_where_the_folder_should_be(root):
    path = os.path.join(root, "a")
    with open(path, "w") as f:
        f.write("a file, not a folder")
    expect_one_line(["--drive", "a=" + path], "drive a: %s: Not a directory" % path)


def test_read_only_folder(root):
    path = os.path.join(root, "a")
    os.makedirs(path)
    mount(["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs"], path)
    expect_one_line(["--drive", "a=" + path], "drive a: %s: Read-only file system" % path)


def test_prepared_drive_mounted_read_only(root):
    good, bad = os.path.join(root, "good"), os.path.join(root, "a")
    port = yc.free_port()
    d = yc.StoreDaemon("s", {"a": bad}, os.path.join(root, "s.log"), SECRET, port=port)
    d.start()
    d.stop()
    mount(["--bind", "-o", "ro", bad], bad)
    subprocess.run(["mount", "-o", "remount,bind,ro", bad], capture_output=True)
    # the first drive is fine and must not be what the line is about
    expect_one_line(["--drive", "g=" + good, "--drive", "a=" + bad], "drive a: %s: Read-only file system" % bad)


def test_foreign_non_empty_folder(root):
    path = os.path.join(root, "photos")
    os.makedirs(path)
    with open(os.path.join(path, "holiday.jpg"), "w") as f:
        f.write("someone's photo")
    expect_one_line(["--drive", "a=" + path], "drive a: %s: not empty and not a yuncang drive" % path,
                    "holiday.jpg")
    assert os.listdir(path) == ["holiday.jpg"]


def test_wrong_cluster_secret_on_a_prepared_drive(root):
    path = os.path.join(root, "a")
    d = yc.StoreDaemon("s", {"a": path}, os.path.join(root, "s.log"), SECRET)
    d.start()
    d.stop()
    with open(os.path.join(path, "identity")) as f:
        before = f.read()
    expect_one_line(["--drive", "a=" + path], "drive a: %s: wrong cluster secret" % path, secret="not-the-secret")
    with open(os.path.join(path, "identity")) as f:
        assert f.read() == before
    # and with the right one it serves again
    d.start()
    d.stop()


def test_drive_served_by_another_daemon(root):
    path = os.path.join(root, "a")
    d = yc.StoreDaemon("s", {"a": path}, os.path.join(root, "s.log"), SECRET)
    d.start()
    try:
        expect_one_line(listen_args(yc.free_port()) + ["--drive", "b=" + path],
                        "drive b: %s: in use by another process" % path)
    finally:
        d.stop()


def test_same_folder_twice(root):
    path = os.path.join(root, "a")
    expect_one_line(["--drive", "a=" + path, "--drive", "b=" + path], "drive b: %s: the same folder as drive a" % path)


def test_port_in_use_by_another_program(root):
    path = os.path.join(root, "a")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        expect_one_line(listen_args(port) + ["--drive", "a=" + path],
                        "listen 127.0.0.1:%d: Address already in use" % port)
    assert not os.path.exists(path), "the drive was touched though the daemon could not start"


def test_port_in_use_by_another_yc_store(root):
    """A second daemon on the same port must not share it (SO_REUSEPORT would let it)."""
    port = yc.free_port()
    d = yc.StoreDaemon("s", {"a": os.path.join(root, "a")}, os.path.join(root, "s.log"), SECRET, port=port)
    d.start()
    try:
        other = os.path.join(root, "other")
        expect_one_line(listen_args(port) + ["--drive", "a=" + other],
                        "listen 127.0.0.1:%d: Address already in use" % port)
        assert not os.path.exists(other)
    finally:
        d.stop()


def test_no_cluster_secret(root):
    expect_one_line(["--drive", "a=" + os.path.join(root, "a")], "YC_CLUSTER_SECRET", secret=None, status=2)


def test_unknown_option_and_missing_value(root):
    expect_one_line(["--drive", "a=" + os.path.join(root, "a"), "--frobnicate", "3"], "unknown option '--frobnicate'",
                    status=2)
    expect_one_line(["--drive"], "--drive needs a value", status=2)
    expect_one_line(["--drive", "a=" + os.path.join(root, "a"), "--workers", "many"], "--workers", "'many'", status=2)
    assert not os.path.exists(os.path.join(root, "a"))


def test_help_lists_every_option_with_its_default(root):
    rc, lines = run_store(["--help"])
    assert rc == 0, lines
    text = "\n".join(lines)
    entries = {}
    for line in lines:
        if line.startswith("  --"):
            name = line.split()[0]
            entries[name] = line
        elif line.startswith("      ") and entries:
            entries[list(entries)[-1]] += " " + line.strip()
    for name in ("--listen", "--drive", "--loops", "--workers", "--orphan-grace", "--help"):
        assert name in entries, "%s missing from --help:\n%s" % (name, text)
    for name, entry in entries.items():
        if name != "--help":
            assert "[default:" in entry, "%s has no default in --help: %s" % (name, entry)
    assert "YC_CLUSTER_SECRET" in text
    # every option --help names is one the parser takes (a value only the option can judge)
    for name in entries:
        if name in ("--help",):
            continue
        value = {"--listen": "127.0.0.1:1", "--drive": "x=/nonexistent-parent/x"}.get(name, "1")
        rc, out = run_store([name, value] if name != "--verbose" else [name], secret=None)
        assert not any("unknown option" in l for l in out), (name, out)
