"""The audit trail (gateway/gw_audit.h): a gateway records every request and admin action in SM3-chained
files sealed by HMAC-SM3 checkpoints, and `yc-admin audit verify` finds every kind of tampering: a changed,
removed, inserted or reordered record, a rewritten chain, a cut tail, a removed file.

One gateway runs twice over the same audit folder (so the chain crosses files and restarts), then each
test tampers with its own copy of the folder.
"""
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import ADMIN_BIN, GATEWAY_BIN, Gateway, random_keys, unique_bucket_name

AUDIT_KEY = b"audit-key-0123456789abcdef-not-root"


def run_verify(folder, key_file, env_key=None):
    env = {k: v for k, v in os.environ.items() if k != "YC_AUDIT_KEY"}
    args = [ADMIN_BIN, "audit", "verify", folder]
    if env_key is not None:
        env["YC_AUDIT_KEY"] = env_key
    elif key_file is not None:
        args += ["--audit-key-file", key_file]
    return subprocess.run(args, capture_output=True, text=True, timeout=30, env=env)


def read_records(folder):
    """[(file, line list)] in order."""
    out = []
    for name in sorted(n for n in os.listdir(folder) if n.startswith("audit-") and n.endswith(".log")):
        with open(os.path.join(folder, name), "rb") as f:
            out.append((name, f.read().split(b"\n")[:-1]))
    return out


def write_lines(folder, name, lines):
    with open(os.path.join(folder, name), "wb") as f:
        f.write(b"".join(l + b"\n" for l in lines))


def record_seq(line):
    return int(line.split(b" ", 1)[0])


@pytest.fixture(scope="module")
def trail(tmp_path_factory):
    """Runs a gateway with the audit trail twice; returns (pristine audit folder, key file, what was done)."""
    if not os.access(ADMIN_BIN, os.X_OK) or not os.access(GATEWAY_BIN, os.X_OK):
        pytest.skip("binaries not built")
    root = tmp_path_factory.mktemp("audit")
    key_file = str(root / "audit.key")
    with open(key_file, "wb") as f:
        f.write(AUDIT_KEY + b"\n")
    folder = str(root / "audit")
    ak, sk = random_keys()
    os.makedirs(str(root / "data"))
    gw = Gateway(str(root / "data"), ak, sk)
    gw.extra_args = ["--audit-dir", folder, "--audit-key-file", key_file, "--audit-checkpoint-records", "5",
                     "--audit-checkpoint-ms", "200", "--access-log", "off"]
    done = {"bucket": unique_bucket_name("yc-audit")}
    user_ak, user_sk = random_keys()
    done["user_ak"], done["user_sk"] = user_ak, user_sk
    try:
        gw.start()
        s3 = gw.client()
        s3.create_bucket(Bucket=done["bucket"])
        for i in range(12):
            s3.put_object(Bucket=done["bucket"], Key="k%d" % i, Body=b"x" * i)
        s3.get_object(Bucket=done["bucket"], Key="k3")["Body"].read()
        with pytest.raises(Exception):
            s3.get_object(Bucket=done["bucket"], Key="missing")
        gw.admin("user", "add", "auditee", user_ak, user_sk)
        gw.admin("group", "add", "auditors")
        assert gw.stop() == 0
        # a second run: a new file whose first record chains to the first file's last
        gw.start()
        s3 = gw.client()
        for i in range(6):
            s3.delete_object(Bucket=done["bucket"], Key="k%d" % i)
        gw.admin("user", "remove", user_ak)
        assert gw.stop() == 0
    finally:
        gw.kill()
    return folder, key_file, done


@pytest.fixture
def copy(trail, tmp_path):
    folder, key_file, _ = trail
    dst = str(tmp_path / "audit")
    shutil.copytree(folder, dst)
    return dst, key_file


def assert_fails_at(res, seq, words):
    assert res.returncode == 1, (res.stdout, res.stderr)
    assert "FAILED at record %d " % seq in res.stdout, res.stdout
    assert words in res.stdout, res.stdout


def test_intact_trail_verifies(trail):
    folder, key_file, done = trail
    res = run_verify(folder, key_file)
    assert res.returncode == 0, (res.stdout, res.stderr)
    assert res.stdout.startswith("audit verify: ok: 2 files, records 1 to "), res.stdout
    # the key can come from the environment as well
    assert run_verify(folder, None, env_key=AUDIT_KEY.decode()).returncode == 0


def test_records_tell_requests_and_admin_actions(trail):
    folder, _, done = trail
    files = read_records(folder)
    assert len(files) == 2
    lines = [l for _, ls in files for l in ls]
    # numbers run on across the restart, and the second file begins where its name says
    assert [record_seq(l) for l in lines] == list(range(1, len(lines) + 1))
    assert int(files[1][0][6:26]) == record_seq(files[1][1][0])
    prev = "0" * 64
    for l in lines:
        seq, t, typ, p, rest = l.decode().split(" ", 4)
        body, h = rest.rsplit(" ", 1)
        assert p == prev and hashlib.new("sm3", l[: -65]).hexdigest() == h
        prev = h
    bodies = [(l.split(b" ")[2].decode(), json.loads(l.split(b" ", 4)[4].rsplit(b" ", 1)[0])) for l in lines]
    puts = [b for t, b in bodies if t == "req" and b.get("operation") == "PutObject"]
    assert {b["key"] for b in puts} == {"k%d" % i for i in range(12)} and all(b["bucket"] == done["bucket"] for b in puts)
    assert any(b.get("error") == "NoSuchKey" and b["status"] == 404 for t, b in bodies if t == "req")
    admin = [b["detail"] for t, b in bodies if t == "admin"]
    assert "PUT /_admin/v1/users/%s" % done["user_ak"] in admin
    assert "DELETE /_admin/v1/users/%s" % done["user_ak"] in admin
    assert "iam:CreateGroup GroupName=auditors" in admin
    types = [t for t, _ in bodies]
    assert types.count("start") == 2 and types.count("stop") == 2 and types[-1] == "ckpt"
    ckpts = [b for t, b in bodies if t == "ckpt"]
    assert {"count", "close"} <= {b["reason"] for b in ckpts}
    # the secret a user was given is never in the trail
    raw = b"".join(open(os.path.join(folder, n), "rb").read() for n in os.listdir(folder))
    assert done["user_sk"].encode() not in raw and AUDIT_KEY not in raw


def test_wrong_or_missing_key_is_refused(trail, tmp_path):
    folder, _, _ = trail
    other = tmp_path / "other.key"
    other.write_bytes(b"another-key-of-the-same-size-0123")
    res = run_verify(folder, str(other))
    assert res.returncode == 1 and "another key" in res.stdout, res.stdout
    res = run_verify(folder, None)
    assert res.returncode == 2 and "no audit key" in res.stderr


def middle_record(folder):
    """(file, index, line) of a request record in the middle of the first file."""
    name, lines = read_records(folder)[0]
    i = len(lines) // 2
    while lines[i].split(b" ")[2] != b"req":
        i += 1
    return name, lines, i


def test_changed_record_is_found(copy):
    folder, key_file = copy
    name, lines, i = middle_record(folder)
    lines[i] = lines[i].replace(b'"status":200', b'"status":403', 1)
    assert b'"status":403' in lines[i]
    write_lines(folder, name, lines)
    assert_fails_at(run_verify(folder, key_file), record_seq(lines[i]), "does not match its hash")


def test_changed_record_with_its_hash_recomputed_is_found(copy):
    folder, key_file = copy
    name, lines, i = middle_record(folder)
    head, rest = lines[i].rsplit(b" ", 1)
    head = head.replace(b'"status":200', b'"status":403', 1)
    lines[i] = head + b" " + hashlib.new("sm3", head).hexdigest().encode()
    write_lines(folder, name, lines)
    assert_fails_at(run_verify(folder, key_file), record_seq(lines[i]) + 1, "does not chain")


def test_rewritten_chain_is_found_by_the_checkpoint_mac(copy):
    """Whoever rewrites every hash after a change still cannot forge the next checkpoint's MAC."""
    folder, key_file = copy
    files = read_records(folder)
    name, lines, i = middle_record(folder)
    lines[i] = lines[i].replace(b'"status":200', b'"status":403', 1)
    prev = None
    first_ckpt_after = None
    for j in range(i, len(lines)):
        seq, t, typ, p, rest = lines[j].split(b" ", 4)
        body = rest.rsplit(b" ", 1)[0]
        if prev is not None:
            p = prev
        head = b" ".join([seq, t, typ, p, body])
        prev = hashlib.new("sm3", head).hexdigest().encode()
        lines[j] = head + b" " + prev
        if typ == b"ckpt" and first_ckpt_after is None:
            first_ckpt_after = int(seq)
    write_lines(folder, name, lines)
    assert first_ckpt_after is not None
    assert_fails_at(run_verify(folder, key_file), first_ckpt_after, "checkpoint MAC does not match")


def test_removed_record_is_found(copy):
    folder, key_file = copy
    name, lines, i = middle_record(folder)
    seq = record_seq(lines[i])
    del lines[i]
    write_lines(folder, name, lines)
    assert_fails_at(run_verify(folder, key_file), seq, "removed, inserted or reordered")


def test_inserted_record_is_found(copy):
    folder, key_file = copy
    name, lines, i = middle_record(folder)
    seq = record_seq(lines[i])
    lines.insert(i, lines[i - 1])  # a replayed copy of the record before
    write_lines(folder, name, lines)
    assert_fails_at(run_verify(folder, key_file), seq, "removed, inserted or reordered")


def test_forged_record_with_the_next_number_is_found(copy):
    """A record made up with the right number and a hash of its own, slipped in before the real one."""
    folder, key_file = copy
    name, lines, i = middle_record(folder)
    seq, t, typ, p, rest = lines[i].split(b" ", 4)
    head = b" ".join([seq, t, b"req", p, b'{"operation":"Forged"}'])
    lines.insert(i, head + b" " + hashlib.new("sm3", head).hexdigest().encode())
    write_lines(folder, name, lines)
    assert_fails_at(run_verify(folder, key_file), int(seq) + 1, "removed, inserted or reordered")


def test_reordered_records_are_found(copy):
    folder, key_file = copy
    name, lines, i = middle_record(folder)
    seq = record_seq(lines[i])
    lines[i], lines[i + 1] = lines[i + 1], lines[i]
    write_lines(folder, name, lines)
    assert_fails_at(run_verify(folder, key_file), seq, "removed, inserted or reordered")


def test_cut_line_at_the_tail_is_found(copy):
    folder, key_file = copy
    name, lines = read_records(folder)[-1]
    last = record_seq(lines[-1])
    with open(os.path.join(folder, name), "r+b") as f:
        f.truncate(os.path.getsize(os.path.join(folder, name)) - 40)
    res = run_verify(folder, key_file)
    assert_fails_at(res, last, "cut short (truncated tail)")


def test_whole_records_cut_from_the_tail_are_found(copy):
    folder, key_file = copy
    name, lines = read_records(folder)[-1]
    last = record_seq(lines[-1])
    write_lines(folder, name, lines[:-3])
    assert_fails_at(run_verify(folder, key_file), last - 2, "truncated tail")


def test_removed_oldest_file_is_found(copy):
    folder, key_file = copy
    files = read_records(folder)
    os.unlink(os.path.join(folder, files[0][0]))
    first = record_seq(files[1][1][0])
    res = run_verify(folder, key_file)
    assert_fails_at(res, first, "records 1 to %d are missing" % (first - 1))


def test_expired_files_are_removed_and_accounted_for(trail, tmp_path):
    """A closed file past the retention is removed at start, an expire record says so, and the trail still
    verifies; the same removal by hand does not (test_removed_oldest_file_is_found)."""
    folder, key_file, _ = trail
    work = str(tmp_path / "audit")
    shutil.copytree(folder, work)
    oldest = read_records(work)[0][0]
    old = os.path.getmtime(os.path.join(work, oldest)) - 200 * 86400
    os.utime(os.path.join(work, oldest), (old, old))
    ak, sk = random_keys()
    os.makedirs(str(tmp_path / "data"))
    gw = Gateway(str(tmp_path / "data"), ak, sk)
    gw.extra_args = ["--audit-dir", work, "--audit-key-file", key_file, "--access-log", "off"]
    try:
        gw.start()
        assert gw.stop() == 0
    finally:
        gw.kill()
    assert not os.path.exists(os.path.join(work, oldest))
    lines = [l for _, ls in read_records(work) for l in ls]
    expire = [json.loads(l.split(b" ", 4)[4].rsplit(b" ", 1)[0]) for l in lines if l.split(b" ")[2] == b"expire"]
    assert expire and expire[0]["removed"] == [oldest] and expire[0]["first_kept"] == record_seq(lines[0])
    res = run_verify(work, key_file)
    assert res.returncode == 0, res.stdout


def test_audit_dir_without_a_key_does_not_start(tmp_path):
    ak, sk = random_keys()
    env = dict(os.environ, YC_ROOT_USER=ak, YC_ROOT_PASSWORD=sk)
    res = subprocess.run([GATEWAY_BIN, "--listen", "127.0.0.1:1", "--data", str(tmp_path / "d"), "--audit-dir",
                          str(tmp_path / "a")], capture_output=True, text=True, timeout=30, env=env)
    assert res.returncode != 0 and "audit_key_file or audit_key_env" in res.stderr
    (tmp_path / "short.key").write_bytes(b"short")
    res = subprocess.run([GATEWAY_BIN, "--listen", "127.0.0.1:%d" % 1, "--data", str(tmp_path / "d"), "--audit-dir",
                          str(tmp_path / "a"), "--audit-key-file", str(tmp_path / "short.key")],
                         capture_output=True, text=True, timeout=30, env=env)
    assert res.returncode != 0 and "audit_key_failed" in res.stderr
