"""The command lines of yc-gateway and yc-admin (yc-store's are in tests/fault/test_store_start.py):
--help exits 0 and lists every option with its default, every option it lists is taken, and a
wrong option or value exits 2 with one line saying which. Also the gateway's own drives: a
folder that is not a drive, and drives swapped between slots, are named and not used.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import ADMIN_BIN, GATEWAY_BIN, REPO_ROOT, Gateway, random_keys, unique_bucket_name


def run(cmd, env_extra=None, drop=("YC_ROOT_USER", "YC_ROOT_PASSWORD", "YC_CLUSTER_SECRET")):
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(env_extra or {})
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=env)
    return res.returncode, res.stdout, [l for l in res.stderr.splitlines() if l.strip()]


def help_entries(text):
    """{'--name': 'its whole entry, wrapped lines joined'} of a --help text."""
    entries, last = {}, None
    for line in text.splitlines():
        m = re.match(r"^  (--[a-z0-9-]+)", line)
        if m:
            last = m.group(1)
            entries[last] = line.strip()
        elif last is not None and re.match(r"^ {10,}\S", line):
            entries[last] += " " + line.strip()
        else:
            last = None
    return entries


def conf_settings():
    names = set()
    for f in os.listdir(os.path.join(REPO_ROOT, "conf")):
        with open(os.path.join(REPO_ROOT, "conf", f)) as fh:
            names |= set(re.findall(r"^([a-z_]+):", fh.read(), re.M))
    return names


def test_gateway_help_lists_every_setting_with_its_default():
    rc, out, err = run([GATEWAY_BIN, "--help"])
    assert rc == 0 and not err, (rc, err)
    entries = help_entries(out)
    for name in conf_settings() | {"config", "listen", "ec", "verbose"}:
        assert "--" + name.replace("_", "-") in entries, "--%s missing from yc-gateway --help" % name
    for name, entry in entries.items():
        if name != "--help":
            assert "[default: " in entry, "no default for %s: %s" % (name, entry)
    assert "[default: 127.0.0.1:9000]" in entries["--listen"] and "[default: 4+2]" in entries["--ec"]


def test_gateway_takes_every_option_its_help_lists():
    _, out, _ = run([GATEWAY_BIN, "--help"])
    for name, entry in help_entries(out).items():
        if name in ("--help", "--config"):
            continue
        m = re.search(r"\[default: ([^\]]+)\]", entry)
        value = m.group(1) if m else "x"
        if value in ("none", "off"):
            value = {"--drives-list": "/tmp/d1,/tmp/d2"}.get(name, "some-value")
        args = [name] if name == "--verbose" else [name, value]
        rc, _, err = run([GATEWAY_BIN] + args)
        # without root keys every setting is taken, then the check of the whole refuses
        assert rc == 2 and len(err) == 1 and "root credentials missing" in err[0], (name, value, err)


@pytest.mark.parametrize("args,needle", [
    (["--frobnicate", "1"], "unknown option '--frobnicate'"),
    (["--listen"], "--listen needs a value"),
    (["--frobnicate"], "unknown option '--frobnicate'"),
    (["--ec", "9"], "--ec: "),
    (["--workers", "lots"], "--workers: "),
    (["stray"], "unexpected argument 'stray'"),
    (["--config", "/nonexistent/yuncang.yaml"], "/nonexistent/yuncang.yaml"),
])
def test_gateway_wrong_option_is_one_line_and_status_2(args, needle):
    rc, out, err = run([GATEWAY_BIN] + args, {"YC_ROOT_USER": "admin", "YC_ROOT_PASSWORD": "adminadmin"})
    assert rc == 2 and len(err) == 1 and needle in err[0], (rc, err)


def test_admin_help_lists_commands_and_options_with_defaults():
    rc, out, err = run([ADMIN_BIN, "--help"])
    assert rc == 0 and not err, (rc, err)
    for command in ("status", "info", "heal", "heal status", "user add", "user remove", "user list"):
        assert re.search(r"^  %s\b" % command, out, re.M), "command %s missing from yc-admin --help" % command
    entries = help_entries(out)
    for name in ("--endpoint", "--access-key", "--secret-key", "--json", "--help"):
        assert name in entries, name
        if name != "--help":
            assert "[default: " in entries[name], entries[name]


@pytest.mark.parametrize("args,needle", [
    (["--frobnicate", "status"], "unknown option '--frobnicate'"),
    (["--endpoint"], "--endpoint needs a value"),
    ([], "no command"),
    (["fly"], "unknown command 'fly'"),
    (["user", "add", "only-a-name"], "unknown command 'user'"),
])
def test_admin_wrong_invocation_is_one_line_and_status_2(args, needle):
    rc, out, err = run([ADMIN_BIN] + args, {"YC_ROOT_USER": "admin", "YC_ROOT_PASSWORD": "adminadmin"})
    assert rc == 2 and len(err) == 1 and needle in err[0], (rc, err)


def test_admin_without_gateway_says_so_and_status_1():
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc, out, err = run([ADMIN_BIN, "--endpoint", "http://127.0.0.1:%d" % port, "status"],
                       {"YC_ROOT_USER": "admin", "YC_ROOT_PASSWORD": "adminadmin"})
    assert rc == 1 and len(err) == 1 and "cannot connect" in err[0] and "Connection refused" in err[0], err


# ---------------------------------------------------------------- the gateway's own drives

@pytest.fixture
def local_gateway():
    root = tempfile.mkdtemp(prefix="yc-local-id-")
    ak, sk = random_keys()
    gw = Gateway(os.path.join(root, "data"), ak, sk)
    yield gw
    gw.stop()
    shutil.rmtree(root, ignore_errors=True)


def local_status(gw):
    doc = json.loads(gw.admin("status", "--json").stdout)
    (node,) = doc["nodes"]
    assert node["node"] == "local"
    return {os.path.basename(d["drive"]): d for d in node["drives"]}, doc


def test_local_folder_that_is_not_a_drive_is_named_and_not_used(local_gateway):
    gw = local_gateway
    os.makedirs(os.path.join(gw.data_dir, "drive5"))
    with open(os.path.join(gw.data_dir, "drive5", "notes.txt"), "w") as f:
        f.write("not a drive")
    gw.start()
    assert re.search(r"event=drive_offline drive=\S+/drive5 reason=\"not empty and not a yuncang drive \(it holds "
                     r"'notes.txt'\)", gw.stderr_text()), gw.stderr_tail()
    drives, doc = local_status(gw)
    assert drives["drive5"]["state"] == "offline" and "notes.txt" in drives["drive5"]["detail"], drives["drive5"]
    assert doc["drivesOk"] == 5
    assert os.listdir(os.path.join(gw.data_dir, "drive5")) == ["notes.txt"]
    s3 = gw.client()
    bucket = unique_bucket_name()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v" * 200000)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v" * 200000


def test_local_drives_swapped_are_named_and_not_used(local_gateway):
    gw = local_gateway
    gw.start()
    s3 = gw.client()
    bucket = unique_bucket_name()
    s3.create_bucket(Bucket=bucket)
    body = os.urandom(3 * 1024 * 1024)
    s3.put_object(Bucket=bucket, Key="k", Body=body)
    gw.stop()
    d3, d4, tmp = (os.path.join(gw.data_dir, n) for n in ("drive3", "drive4", "swap"))
    os.rename(d3, tmp)
    os.rename(d4, d3)
    os.rename(tmp, d4)
    gw.start()
    log = gw.stderr_text()
    for n in ("drive3", "drive4"):
        assert re.search(r"event=drive_offline drive=\S+/%s reason=\"the drive is set 0 slot \d+ of this cluster, "
                         r"expected here: set 0 slot \d+" % n, log), gw.stderr_tail()
    drives, doc = local_status(gw)
    assert drives["drive3"]["state"] == drives["drive4"]["state"] == "offline" and doc["drivesOk"] == 4
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == body
    gw.stop()
    os.rename(d3, tmp)
    os.rename(d4, d3)
    os.rename(tmp, d4)
    gw.start()
    drives, doc = local_status(gw)
    assert doc["drivesOk"] == 6, drives


# ---------------------------------------------------------------- the listening port

def test_gateway_on_a_port_another_listens_on_exits_and_says_so(gateway_factory, tmp_path):
    """Its listeners share their port (SO_REUSEPORT): without a check a second gateway, started by
    mistake on the first one's port, would bind beside it and answer part of its clients from
    other drives (with other keys: InvalidAccessKeyId on every other request)."""
    first = gateway_factory()
    ak, sk = random_keys()
    env = dict(os.environ, YC_ROOT_USER=ak, YC_ROOT_PASSWORD=sk)
    res = subprocess.run([GATEWAY_BIN, "--listen", "127.0.0.1:%d" % first.port, "--data", str(tmp_path / "data"),
                          "--shed-lag-ms", "0"], env=env, capture_output=True, text=True, timeout=30)
    assert res.returncode != 0
    assert "event=start_failed err=EADDRINUSE" in res.stderr, res.stderr[-2000:]
    s3 = first.client()
    for _ in range(8):  # every connection still reaches the first gateway
        s3.list_buckets()
