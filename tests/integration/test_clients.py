"""The major S3 clients other than boto3, the AWS CLI and s3cmd, each a real run against a private
yc-gateway: rclone (copy, sync, check, listing, deletes of 1,000 small files and a 200 MiB
multipart file), restic (init, backup, check --read-data, restore, forget --prune) and minio-js
(tests/js/minio.test.mjs under node's test runner). Then the README's quick starts for boto3 and
the AWS SDK for JavaScript, read from the README at each run and run as written.

Each client runs in a clean environment: only PATH, a HOME of its own and the variables that
configure it. A machine's AWS_CA_BUNDLE, SSL_CERT_FILE or proxy variables would change what the
clients do (rclone and restic refuse a missing CA bundle), so none are passed on.
"""
import filecmp
import json
import os
import random
import re
import shutil
import subprocess

import pytest

from conftest import REPO_ROOT, empty_and_delete_bucket, unique_bucket_name

RCLONE = shutil.which("rclone")
RESTIC = shutil.which("restic")
NODE = shutil.which("node")
NPM = shutil.which("npm")
JS_DIR = os.path.join(REPO_ROOT, "tests", "js")
README = os.path.join(REPO_ROOT, "README.md")
MiB = 1024 * 1024
SMALL_FILES = 1000
BIG_SIZE = 200 * MiB


def need(binary, name):
    if binary is None:
        pytest.fail("%s is missing: make deps installs it" % name, pytrace=False)
    return binary


def clean_env(home, **extra):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8"}
    env.update(extra)
    return env


def run(cmd, env, timeout=300, cwd=None):
    """Runs a client; fails the test with its output when it exits non-zero."""
    res = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert res.returncode == 0, "%s exited %d:\n%s\n%s" % (" ".join(cmd), res.returncode, res.stdout[-3000:],
                                                             res.stderr[-3000:])
    return res


def write_random(path, size):
    """A file of size random bytes (os.urandom: fast enough for 200 MiB, incompressible)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 4 * MiB)
            f.write(os.urandom(n))
            left -= n


def same_trees(a, b):
    """Relative paths of the files that differ in name or bytes between two trees."""
    def files(root):
        out = set()
        for d, _, names in os.walk(root):
            out.update(os.path.relpath(os.path.join(d, n), root) for n in names)
        return out
    fa, fb = files(a), files(b)
    diff = sorted(fa ^ fb)
    diff += [p for p in sorted(fa & fb) if not filecmp.cmp(os.path.join(a, p), os.path.join(b, p), shallow=False)]
    return diff


@pytest.fixture(scope="module")
def gw(gateway_factory):
    return gateway_factory()


# ---------------------------------------------------------------- rclone

def rclone_env(gw, home):
    """rclone's remote "yc" from environment variables alone (no config file)."""
    return clean_env(home, RCLONE_CONFIG_YC_TYPE="s3", RCLONE_CONFIG_YC_PROVIDER="Other",
                     RCLONE_CONFIG_YC_ENDPOINT=gw.endpoint, RCLONE_CONFIG_YC_ACCESS_KEY_ID=gw.access_key,
                     RCLONE_CONFIG_YC_SECRET_ACCESS_KEY=gw.secret_key, RCLONE_CONFIG_YC_REGION="us-east-1",
                     RCLONE_CONFIG_YC_FORCE_PATH_STYLE="true", RCLONE_CONFIG="/dev/null")


def test_rclone_copy_sync_check_delete(gw, tmp_path):
    rclone = need(RCLONE, "rclone")
    s3 = gw.client()
    env = rclone_env(gw, tmp_path)
    rng = random.Random(17)
    src = tmp_path / "src"
    sizes = {}
    for i in range(SMALL_FILES):
        rel = "d%02d/f%04d.bin" % (i % 37, i)
        sizes[rel] = rng.randrange(0, 12 * 1024)
        write_random(str(src / rel), sizes[rel])
    write_random(str(src / "big.bin"), BIG_SIZE)
    sizes["big.bin"] = BIG_SIZE
    bucket = unique_bucket_name("yc-rclone")
    base = ["--transfers", "8", "--checkers", "8", "--retries", "1", "--low-level-retries", "1"]
    # 16 MiB parts: the 200 MiB file is a multipart upload of 13 parts
    up = base + ["--s3-upload-cutoff", "64Mi", "--s3-chunk-size", "16Mi"]
    try:
        run([rclone, "mkdir", "yc:" + bucket] + base, env)
        s3.head_bucket(Bucket=bucket)
        run([rclone, "copy", str(src), "yc:%s/tree" % bucket] + up, env)

        # what the server holds, as boto3 lists it: every name with its size; the big one in parts
        listed = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="tree/"):
            listed.update({o["Key"][len("tree/"):]: o["Size"] for o in page.get("Contents", [])})
        assert listed == sizes
        head = s3.head_object(Bucket=bucket, Key="tree/big.bin")
        assert head["ETag"].endswith('-13"'), head["ETag"]
        assert head["Metadata"].get("md5chksum"), head["Metadata"]  # rclone keeps the whole file's MD5

        res = run([rclone, "check", str(src), "yc:%s/tree" % bucket] + base, env)
        assert "0 differences found" in res.stderr and "%d matching files" % (SMALL_FILES + 1) in res.stderr, res.stderr
        res = run([rclone, "lsf", "-R", "--files-only", "yc:%s/tree" % bucket] + base, env)
        assert sorted(res.stdout.split()) == sorted(sizes)
        res = run([rclone, "size", "--json", "yc:%s/tree" % bucket] + base, env)
        assert '"count":%d' % (SMALL_FILES + 1) in res.stdout and '"bytes":%d' % sum(sizes.values()) in res.stdout

        # listing version 1 (markers) and small pages (continuation tokens) see the same
        for extra in (["--s3-list-version", "1", "--s3-list-chunk", "100"], ["--s3-list-chunk", "100"]):
            res = run([rclone, "size", "--json", "yc:%s/tree" % bucket] + base + extra, env)
            assert '"count":%d' % (SMALL_FILES + 1) in res.stdout, (extra, res.stdout)

        # a change check must see: one byte changed in a file of the same size
        victim = src / "d05" / "f0005.bin"
        data = bytearray(victim.read_bytes() or b"\0")
        data[0] ^= 1
        victim.write_bytes(bytes(data))
        res = subprocess.run([rclone, "check", str(src), "yc:%s/tree" % bucket] + base, env=env,
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 1 and "1 differences found" in res.stderr, res.stderr[-2000:]

        # sync: 20 files gone, 5 new, 1 changed; the remote follows exactly
        for i in range(100, 120):
            rel = "d%02d/f%04d.bin" % (i % 37, i)
            os.unlink(src / rel)
            del sizes[rel]
        for i in range(5):
            rel = "new/n%d.bin" % i
            sizes[rel] = 1000 + i
            write_random(str(src / rel), sizes[rel])
        sizes["d05/f0005.bin"] = len(data)
        run([rclone, "sync", str(src), "yc:%s/tree" % bucket] + up, env)
        res = run([rclone, "check", str(src), "yc:%s/tree" % bucket] + base, env)
        assert "0 differences found" in res.stderr and "%d matching files" % len(sizes) in res.stderr, res.stderr
        keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                for o in page.get("Contents", [])]
        assert sorted(keys) == sorted("tree/" + k for k in sizes)

        # download everything and compare byte for byte
        dst = tmp_path / "dst"
        run([rclone, "copy", "yc:%s/tree" % bucket, str(dst)] + base, env)
        assert same_trees(str(src), str(dst)) == []

        # server-side: a copy (CopyObject), a multipart copy of the big file (UploadPartCopy over
        # 64 MiB), a move (copy and delete), a new modification time (a copy onto itself, REPLACE)
        big = src / "big.bin"
        run([rclone, "copyto", "yc:%s/tree/big.bin" % bucket, "yc:%s/copy/big.bin" % bucket, "--s3-copy-cutoff",
             "64Mi"] + base, env)
        head = s3.head_object(Bucket=bucket, Key="copy/big.bin")
        assert head["ContentLength"] == BIG_SIZE and head["ETag"].endswith('-4"'), head
        run([rclone, "moveto", "yc:%s/tree/d00/f0000.bin" % bucket, "yc:%s/copy/moved.bin" % bucket] + base, env)
        run([rclone, "touch", "--timestamp", "2020-01-02T03:04:05", "yc:%s/copy/moved.bin" % bucket] + base, env)
        res = run([rclone, "lsjson", "yc:%s/copy" % bucket] + base, env)
        entries = {e["Name"]: e for e in json.loads(res.stdout)}
        assert entries["moved.bin"]["Size"] == sizes["d00/f0000.bin"], entries
        assert entries["moved.bin"]["ModTime"].startswith("2020-01-02T03:04:05"), entries
        res = subprocess.run([rclone, "cat", "yc:%s/copy/moved.bin" % bucket] + base, env=env, capture_output=True,
                             timeout=120)
        assert res.returncode == 0 and res.stdout == (src / "d00" / "f0000.bin").read_bytes(), res.stderr[-500:]
        res = run([rclone, "lsf", "yc:%s/tree/d00" % bucket] + base, env)
        assert "f0000.bin" not in res.stdout.split()
        run([rclone, "moveto", "yc:%s/copy/moved.bin" % bucket, "yc:%s/tree/d00/f0000.bin" % bucket] + base, env)
        # ranged reads of the copy, across a part boundary
        for offset, count in ((0, 1), (64 * MiB - 5, 10), (BIG_SIZE - 7, 7)):
            res = subprocess.run([rclone, "cat", "--offset", str(offset), "--count", str(count),
                                  "yc:%s/copy/big.bin" % bucket] + base, env=env, capture_output=True, timeout=120)
            with open(big, "rb") as f:
                f.seek(offset)
                assert res.returncode == 0 and res.stdout == f.read(count), (offset, res.stderr[-500:])
        run([rclone, "deletefile", "yc:%s/copy/big.bin" % bucket] + base, env)

        # deletes: a filtered delete, then purge of the bucket itself
        run([rclone, "delete", "yc:%s/tree/new" % bucket] + base, env)
        res = run([rclone, "lsf", "-R", "--files-only", "yc:%s/tree" % bucket] + base, env)
        assert len(res.stdout.split()) == len(sizes) - 5
        run([rclone, "purge", "yc:" + bucket] + base, env)
        assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    finally:
        empty_and_delete_bucket(s3, bucket)


def test_rclone_versions(gw, tmp_path):
    """A versioned bucket through rclone: versioning switched on by its backend command, an
    overwritten and a deleted file, old versions listed with --s3-versions and read back."""
    rclone = need(RCLONE, "rclone")
    s3 = gw.client()
    env = rclone_env(gw, tmp_path)
    base = ["--retries", "1", "--low-level-retries", "1"]
    bucket = unique_bucket_name("yc-rclone-v")
    src = tmp_path / "src"
    src.mkdir()
    try:
        run([rclone, "mkdir", "yc:" + bucket] + base, env)
        res = run([rclone, "backend", "versioning", "yc:" + bucket, "Enabled"] + base, env)
        assert res.stdout.strip() == "Enabled", res.stdout
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        (src / "a.txt").write_bytes(b"first")
        (src / "b.txt").write_bytes(b"only")
        run([rclone, "copy", str(src), "yc:" + bucket] + base, env)
        (src / "a.txt").write_bytes(b"second!")
        run([rclone, "copy", str(src), "yc:" + bucket] + base, env)
        run([rclone, "deletefile", "yc:%s/b.txt" % bucket] + base, env)
        res = run([rclone, "lsf", "yc:" + bucket] + base, env)
        assert res.stdout.split() == ["a.txt"]
        res = run([rclone, "lsjson", "--s3-versions", "yc:" + bucket] + base, env)
        names = sorted(e["Name"] for e in json.loads(res.stdout))
        assert len(names) == 3 and "a.txt" in names, names  # a.txt, a-v<time>.txt, b-v<time>.txt
        old_a = [n for n in names if n.startswith("a-v")]
        assert len(old_a) == 1, names
        res = subprocess.run([rclone, "cat", "--s3-versions", "yc:%s/%s" % (bucket, old_a[0])] + base, env=env,
                             capture_output=True, timeout=60)
        assert res.returncode == 0 and res.stdout == b"first", res.stderr[-500:]
        versions = s3.list_object_versions(Bucket=bucket)
        assert len(versions.get("Versions", [])) == 3 and len(versions.get("DeleteMarkers", [])) == 1, versions
    finally:
        try:
            for v in s3.list_object_versions(Bucket=bucket).get("Versions", []) + \
                    s3.list_object_versions(Bucket=bucket).get("DeleteMarkers", []):
                s3.delete_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
        except Exception:
            pass
        empty_and_delete_bucket(s3, bucket)


# ---------------------------------------------------------------- restic

def restic_env(gw, home, bucket):
    return clean_env(home, RESTIC_REPOSITORY="s3:%s/%s/repo" % (gw.endpoint, bucket),
                     RESTIC_PASSWORD="yuncang restic test", AWS_ACCESS_KEY_ID=gw.access_key,
                     AWS_SECRET_ACCESS_KEY=gw.secret_key, RESTIC_CACHE_DIR=str(home / "cache"))


def test_restic_backup_check_restore_prune(gw, tmp_path):
    restic = need(RESTIC, "restic")
    s3 = gw.client()
    bucket = unique_bucket_name("yc-restic")
    env = restic_env(gw, tmp_path, bucket)
    opts = ["-o", "s3.bucket-lookup=path"]
    rng = random.Random(23)
    src = tmp_path / "data"
    for i, size in enumerate((24 * MiB + 3, 17 * MiB, 5 * MiB + 1)):
        write_random(str(src / "large" / ("l%d.bin" % i)), size)
    for i in range(300):
        write_random(str(src / "small" / ("s%02d" % (i % 13)) / ("f%03d.txt" % i)), rng.randrange(0, 9000))
    (src / "empty").mkdir()
    (src / "small" / "zero").write_bytes(b"")
    try:
        run([restic, "init"] + opts, env)  # makes the bucket
        s3.head_bucket(Bucket=bucket)
        res = run([restic, "backup", "--json", str(src)] + opts, env)
        assert '"message_type":"summary"' in res.stdout, res.stdout[-2000:]
        run([restic, "check", "--read-data"] + opts, env)

        dst = tmp_path / "restore1"
        run([restic, "restore", "latest", "--target", str(dst)] + opts, env)
        restored = os.path.join(str(dst), os.path.relpath(str(src), "/"))
        assert same_trees(str(src), restored) == []
        assert os.path.isdir(os.path.join(restored, "empty"))

        # a second snapshot of a changed tree; forget the first and prune what only it used
        os.unlink(src / "large" / "l1.bin")
        write_random(str(src / "large" / "l3.bin"), 5 * MiB)
        run([restic, "backup", str(src)] + opts, env)
        def data_bytes():
            return sum(o["Size"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                                         Prefix="repo/data/")
                       for o in page.get("Contents", []))
        before = data_bytes()
        # --max-unused 0: every pack the first snapshot alone used goes, or is repacked without it
        # (by default restic keeps up to 5 % unused, and whether a pack goes then depends on how
        # the random data fell into packs)
        run([restic, "forget", "--keep-last", "1", "--prune", "--max-unused", "0"] + opts, env)
        res = run([restic, "snapshots", "--json"] + opts, env)
        assert res.stdout.count('"short_id"') == 1, res.stdout
        after = data_bytes()
        assert 0 < after < before - 16 * MiB, (before, after)  # the 17 MiB file's data is gone
        run([restic, "check"] + opts, env)  # the restore below reads every byte that is left
        dst2 = tmp_path / "restore2"
        run([restic, "restore", "latest", "--target", str(dst2)] + opts, env)
        assert same_trees(str(src), os.path.join(str(dst2), os.path.relpath(str(src), "/"))) == []

        # a wrong password is refused by the repository, not by the server
        bad = dict(env, RESTIC_PASSWORD="not the password")
        res = subprocess.run([restic, "snapshots"] + opts, env=bad, capture_output=True, text=True, timeout=120)
        assert res.returncode != 0 and "wrong password" in res.stderr, res.stderr
    finally:
        empty_and_delete_bucket(s3, bucket)


# ---------------------------------------------------------------- minio-js

@pytest.fixture(scope="module")
def js_modules():
    need(NODE, "node")
    need(NPM, "npm")
    if not (os.path.isdir(os.path.join(JS_DIR, "node_modules", "minio"))
            and os.path.isdir(os.path.join(JS_DIR, "node_modules", "@aws-sdk", "client-s3"))):
        res = subprocess.run([NPM, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, capture_output=True, text=True,
                             timeout=600)
        if res.returncode != 0:
            pytest.fail("npm ci in tests/js failed:\n%s%s" % (res.stdout[-2000:], res.stderr[-2000:]), pytrace=False)
    return JS_DIR


def test_minio_js(js_modules, gw, tmp_path):
    bucket = unique_bucket_name("yc-minio")
    env = clean_env(tmp_path, YC_ENDPOINT=gw.endpoint, YC_ACCESS_KEY=gw.access_key, YC_SECRET_KEY=gw.secret_key,
                    YC_BUCKET=bucket)
    try:
        res = subprocess.run([NODE, "--test", "--test-reporter=tap", "minio.test.mjs"], cwd=js_modules, env=env,
                             capture_output=True, text=True, timeout=300)
    finally:
        empty_and_delete_bucket(gw.client(), bucket)
    assert res.returncode == 0, "node --test failed:\n%s\n%s\ngateway stderr:\n%s" % (
        res.stdout[-6000:], res.stderr[-3000:], gw.stderr_tail())
    assert "# fail 0" in res.stdout and "# pass 13" in res.stdout, res.stdout[-3000:]


# ---------------------------------------------------------------- the README's quick starts

def readme_quick_start(lang):
    """The README's code block in lang from its "Quick start" section, as written there."""
    with open(README) as f:
        text = f.read()
    m = re.search(r"^## Quick start.*?(?=^## )", text, re.S | re.M)
    assert m, "the README has no Quick start section"
    blocks = re.findall(r"^```%s\n(.*?)^```" % re.escape(lang), m.group(0), re.S | re.M)
    assert len(blocks) == 1, "the README's Quick start has %d %s blocks" % (len(blocks), lang)
    return blocks[0]


def at_gateway(code, gw):
    """The README's endpoint is make run's; the test's gateway listens elsewhere."""
    assert "http://127.0.0.1:9000" in code, code
    return code.replace("http://127.0.0.1:9000", gw.endpoint)


def test_readme_boto3_quick_start(gw, tmp_path):
    script = tmp_path / "quickstart.py"
    script.write_text(at_gateway(readme_quick_start("python"), gw))
    env = clean_env(tmp_path, AWS_ACCESS_KEY_ID=gw.access_key, AWS_SECRET_ACCESS_KEY=gw.secret_key)
    s3 = gw.client()
    try:
        res = run(["/usr/bin/python3", str(script)], env, timeout=120)
        assert res.stdout.strip() == "hello, yuncang"
        assert s3.get_object(Bucket="py-quickstart", Key="hello.txt")["Body"].read() == b"hello, yuncang"
    finally:
        empty_and_delete_bucket(s3, "py-quickstart")


def test_readme_js_sdk_quick_start(js_modules, gw, tmp_path):
    # a project of its own, with the SDK that tests/js installed
    os.symlink(os.path.join(js_modules, "node_modules"), tmp_path / "node_modules")
    script = tmp_path / "quickstart.mjs"
    script.write_text(at_gateway(readme_quick_start("js"), gw))
    env = clean_env(tmp_path, AWS_ACCESS_KEY_ID=gw.access_key, AWS_SECRET_ACCESS_KEY=gw.secret_key)
    s3 = gw.client()
    try:
        res = run([NODE, str(script)], env, timeout=120, cwd=str(tmp_path))
        assert res.stdout.strip() == "hello, yuncang"
        assert s3.get_object(Bucket="js-quickstart", Key="hello.txt")["Body"].read() == b"hello, yuncang"
    finally:
        empty_and_delete_bucket(s3, "js-quickstart")
