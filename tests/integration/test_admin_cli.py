"""yc-admin for daily work, the real binary against a real gateway: where it finds its keys (the
options, YC_*, AWS_*, a config file, in that order), --help and --json, the bucket figures
checked against what was written, quotas on buckets and users enforced by the gateway (403
QuotaExceeded), a drive drained onto a spare with progress and the data still readable once the
drained drive and two more are gone, and config show with its secrets masked.

yc-admin runs in an environment built from nothing (PATH only, and a HOME of its own), so that no
key or config file of the machine it runs on can make a test pass.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import botocore.exceptions
import pytest
import yc_raw

from conftest import ADMIN_BIN, Gateway, empty_and_delete_bucket, random_keys, unique_bucket_name

KiB = 1024


@pytest.fixture(scope="module")
def home():
    d = tempfile.mkdtemp(prefix="yc-admin-home-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def admin(home, *args, env=None, check=True):
    """Runs yc-admin with only PATH, HOME and env; returns (rc, stdout, stderr)."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home}
    base.update(env or {})
    res = subprocess.run([ADMIN_BIN] + list(args), capture_output=True, text=True, timeout=60, env=base)
    if check:
        assert res.returncode == 0, "yc-admin %s: %d %s %s" % (" ".join(args), res.returncode, res.stdout, res.stderr)
    return res.returncode, res.stdout, res.stderr


def root_env(gw):
    return {"YC_ROOT_USER": gw.access_key, "YC_ROOT_PASSWORD": gw.secret_key, "YC_ENDPOINT": gw.endpoint}


def admin_json(gw, home, *args):
    return json.loads(admin(home, "--json", *args, env=root_env(gw))[1])


def write_config(path, gw, mode=0o600, **override):
    values = {"endpoint": gw.endpoint, "access_key": gw.access_key, "secret_key": gw.secret_key}
    values.update(override)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("# yc-admin\n" + "".join('%s: "%s"\n' % kv for kv in values.items()))
    os.chmod(path, mode)


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r


# ---------------------------------------------------------------- help and credentials

def test_help_exits_0_and_lists_every_command(home):
    rc, out, err = admin(home, "--help")
    assert rc == 0 and err == ""
    for command in ("status", "info", "metadata", "heal", "heal status", "user add", "user list", "group add",
                    "policy put", "buckets list", "buckets info", "buckets usage", "quota set", "quota get",
                    "quota clear", "drive list", "drive drain", "drive remove", "config show"):
        assert re.search(r"^  %s\b" % command, out, re.M), command
    for option in ("--endpoint", "--access-key", "--secret-key", "--region", "--config", "--json"):
        assert re.search(r"^  %s\b" % option, out, re.M), option


@pytest.mark.parametrize("source", ["options", "yc-variables", "aws-variables", "config-option", "config-variable",
                                    "config-default"])
def test_credentials_from_each_source(gateway, home, source, tmp_path):
    gw = gateway
    args, env = [], {}
    if source == "options":
        args = ["--endpoint", gw.endpoint, "--access-key", gw.access_key, "--secret-key", gw.secret_key]
    elif source == "yc-variables":
        env = root_env(gw)
    elif source == "aws-variables":
        env = {"AWS_ACCESS_KEY_ID": gw.access_key, "AWS_SECRET_ACCESS_KEY": gw.secret_key,
               "AWS_ENDPOINT_URL": gw.endpoint, "AWS_REGION": "us-east-1"}
    elif source == "config-option":
        write_config(str(tmp_path / "a.yaml"), gw)
        args = ["--config", str(tmp_path / "a.yaml")]
    elif source == "config-variable":
        write_config(str(tmp_path / "b.yaml"), gw)
        env = {"YC_ADMIN_CONFIG": str(tmp_path / "b.yaml")}
    else:  # where `make run` writes it
        own_home = str(tmp_path)
        write_config(os.path.join(own_home, ".config", "yuncang", "admin.yaml"), gw)
        rc, out, err = admin(own_home, "--json", "config", "show")
        assert json.loads(out)["root_user"] == gw.access_key
        return
    rc, out, err = admin(home, *args, "--json", "config", "show", env=env)
    assert json.loads(out)["root_user"] == gw.access_key


def test_credentials_precedence_and_refusals(gateway, home, tmp_path):
    gw = gateway
    bad = {"AWS_ACCESS_KEY_ID": gw.access_key, "AWS_SECRET_ACCESS_KEY": "wrong-secret-0000",
           "AWS_ENDPOINT_URL": gw.endpoint}
    # the AWS pair is wrong: alone it fails, under the YC pair it is not used
    rc, out, err = admin(home, "config", "show", env=bad, check=False)
    assert rc == 1 and "SignatureDoesNotMatch" in err and len(err.strip().splitlines()) == 1, err
    admin(home, "config", "show", env=dict(bad, YC_ROOT_USER=gw.access_key, YC_ROOT_PASSWORD=gw.secret_key))
    # the option beats the variables; a file beats nothing given
    admin(home, "--secret-key", gw.secret_key, "--access-key", gw.access_key, "config", "show",
          env=dict(bad, YC_ROOT_USER="nobody", YC_ROOT_PASSWORD="nothing-at-all"))
    write_config(str(tmp_path / "c.yaml"), gw, secret_key="wrong-secret-1111")
    rc, _, err = admin(home, "--config", str(tmp_path / "c.yaml"), "config", "show", check=False)
    assert rc == 1 and "SignatureDoesNotMatch" in err
    admin(home, "--config", str(tmp_path / "c.yaml"), "config", "show", env=root_env(gw))
    # a key without its secret, a secret file others can read, an unknown name: status 2, one line
    rc, _, err = admin(home, "config", "show", env={"YC_ROOT_USER": gw.access_key}, check=False)
    assert rc == 2 and "YC_ROOT_USER is set without YC_ROOT_PASSWORD" in err
    write_config(str(tmp_path / "open.yaml"), gw, mode=0o644)
    rc, _, err = admin(home, "--config", str(tmp_path / "open.yaml"), "config", "show", check=False)
    assert rc == 2 and "readable by others" in err and len(err.strip().splitlines()) == 1
    write_config(str(tmp_path / "typo.yaml"), gw, secret="x")
    rc, _, err = admin(home, "--config", str(tmp_path / "typo.yaml"), "config", "show", check=False)
    assert rc == 2 and "unknown name 'secret'" in err
    rc, _, err = admin(home, "config", "show", check=False)
    assert rc == 2 and "no root keys" in err


def test_config_show_masks_secrets(gateway, home):
    rc, out, _ = admin(home, "config", "show", env=root_env(gateway))
    doc = admin_json(gateway, home, "config", "show")
    assert gateway.secret_key not in out and gateway.secret_key not in json.dumps(doc)
    assert doc["root_password"] == "********" and "********" in out
    assert doc["root_user"] == gateway.access_key and doc["k"] == 4 and doc["m"] == 2
    assert len(doc["drives"]) == 6 and doc["listen"].endswith(":%d" % gateway.port)


def test_json_parses_for_every_command_that_prints_data(gateway, home, bucket):
    env = root_env(gateway)
    group = "json-" + bucket[-8:]
    admin(home, "group", "add", group, env=env)
    try:
        for args in (["status"], ["info"], ["metadata"], ["heal", "status"], ["user", "list"], ["buckets", "list"],
                     ["buckets", "info", bucket], ["buckets", "usage"], ["quota", "get", "bucket", bucket],
                     ["quota", "get", "user", "root"], ["drive", "list"], ["config", "show"], ["group", "list"],
                     ["group", "show", group], ["policy", "list", "group", group]):
            json.loads(admin(home, "--json", *args, env=env)[1])
        # the IAM API's XML as JSON: a list is an array, even of one
        groups = admin_json(gateway, home, "group", "list")["ListGroupsResponse"]["ListGroupsResult"]["Groups"]
        assert group in [g["GroupName"] for g in groups["member"]]
        shown = admin_json(gateway, home, "group", "show", group)["GetGroupResponse"]["GetGroupResult"]
        assert shown["Group"]["GroupName"] == group
    finally:
        admin(home, "group", "remove", group, env=env)


# ---------------------------------------------------------------- buckets and usage

def test_buckets_list_info_usage_numbers(gateway, home, s3, bucket_factory):
    plain, versioned, locked = bucket_factory(), bucket_factory(), unique_bucket_name()
    s3.create_bucket(Bucket=locked, ObjectLockEnabledForBucket=True)
    try:
        sizes = [0, 1 * KiB, 200 * KiB]  # an empty object, an inline one, one in shard files
        for i, n in enumerate(sizes):
            s3.put_object(Bucket=plain, Key="k%d" % i, Body=b"x" * n)
        s3.put_object(Bucket=plain, Key="k1", Body=b"y" * (3 * KiB))  # replaces 1 KiB
        s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Enabled"})
        s3.put_object(Bucket=versioned, Key="v", Body=b"a" * 100)
        s3.put_object(Bucket=versioned, Key="v", Body=b"b" * 250)
        s3.put_object(Bucket=versioned, Key="gone", Body=b"c" * 50)
        s3.delete_object(Bucket=versioned, Key="gone")  # a delete marker: no bytes, not an object

        listed = {b["name"]: b for b in admin_json(gateway, home, "buckets", "list")["buckets"]}
        p, v, lk = listed[plain], listed[versioned], listed[locked]
        assert (p["objects"], p["versions"], p["bytes"]) == (3, 3, 0 + 3 * KiB + 200 * KiB)
        assert (v["objects"], v["versions"], v["bytes"]) == (1, 3, 400)
        assert (p["versioning"], v["versioning"], lk["versioning"]) == ("Off", "Enabled", "Enabled")
        assert (p["objectLock"], lk["objectLock"]) == (False, True)
        assert p["owner"] == "root" and lk["objects"] == 0 and lk["bytes"] == 0

        info = admin_json(gateway, home, "buckets", "info", versioned)
        assert info["name"] == versioned and info["bytes"] == 400 and info["objects"] == 1
        _, text, _ = admin(home, "buckets", "info", plain, env=root_env(gateway))
        assert re.search(r"^bytes:\s+%d\b" % (3 * KiB + 200 * KiB), text, re.M), text
        rc, _, err = admin(home, "buckets", "info", "no-such-bucket-here", env=root_env(gateway), check=False)
        assert rc == 1 and "NoSuchBucket" in err

        usage = admin_json(gateway, home, "buckets", "usage")
        per_bucket = {b["name"]: b for b in usage["buckets"]}
        assert per_bucket[plain]["bytes"] == 3 * KiB + 200 * KiB
        root = [u for u in usage["users"] if u["user"] == "root"][0]
        assert root["bytes"] == sum(b["bytes"] for b in usage["buckets"] if b["owner"] == "root")
        assert root["buckets"] == sum(1 for b in usage["buckets"] if b["owner"] == "root")
    finally:
        empty_and_delete_bucket(s3, locked)


# ---------------------------------------------------------------- quotas

def quota_refused(call):
    status, code, r = error_of(call)
    assert (status, code) == (403, "QuotaExceeded"), (status, code)
    assert r["ResponseMetadata"].get("RequestId") and "quota" in r["Error"]["Message"]


def test_bucket_quota_enforced(gateway, home, s3, bucket):
    env = root_env(gateway)
    _, out, _ = admin(home, "quota", "set", "bucket", bucket, "300Ki", env=env)
    assert "307200" in out
    assert admin_json(gateway, home, "quota", "get", "bucket", bucket)["quotaBytes"] == 300 * KiB
    s3.put_object(Bucket=bucket, Key="a", Body=b"a" * (200 * KiB))                          # under: 200
    quota_refused(lambda: s3.put_object(Bucket=bucket, Key="b", Body=b"b" * (101 * KiB)))  # 301 KiB > 300
    s3.put_object(Bucket=bucket, Key="b", Body=b"b" * (100 * KiB))                          # exactly 300
    quota_refused(lambda: s3.put_object(Bucket=bucket, Key="c", Body=b"c"))
    # a copy and a multipart upload are writes too
    quota_refused(lambda: s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "b"}))
    s3.delete_object(Bucket=bucket, Key="a")  # room again at once: the refusal counts afresh
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    parts = []
    for n in (1, 2):
        etag = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=n,
                              Body=b"m" * (5 * 1024 * KiB if n == 1 else KiB))["ETag"]
        parts.append({"PartNumber": n, "ETag": etag})
    quota_refused(lambda: s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up,
                                                       MultipartUpload={"Parts": parts}))
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=up)
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "b"})  # 200 KiB now
    usage = admin_json(gateway, home, "buckets", "info", bucket)
    assert usage["bytes"] == 200 * KiB and usage["quotaBytes"] == 300 * KiB
    admin(home, "quota", "clear", "bucket", bucket, env=env)
    assert admin_json(gateway, home, "quota", "get", "bucket", bucket)["quotaBytes"] == 0
    s3.put_object(Bucket=bucket, Key="c", Body=b"c" * (300 * KiB))  # no quota: anything goes
    rc, _, err = admin(home, "quota", "set", "bucket", bucket, "lots", env=env, check=False)
    assert rc == 2 and "not a size" in err


def test_bucket_quota_enforced_on_a_form_upload(gateway, home, s3, bucket):
    from test_post_object import post  # the browser form test's own request builder
    admin(home, "quota", "set", "bucket", bucket, "10K", env=root_env(gateway))
    p = s3.generate_presigned_post(bucket, "form/${filename}", ExpiresIn=300)
    r = post(gateway, bucket, p["fields"], b"f" * (11 * KiB), filename="big.bin")
    assert (r.status, r.error()["Code"]) == (403, "QuotaExceeded"), r.body
    r = post(gateway, bucket, p["fields"], b"f" * (10 * KiB), filename="fits.bin")
    assert r.status == 204, r.body
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["form/fits.bin"]


def test_user_quota_counts_every_bucket_the_user_owns(gateway, home, bucket_factory):
    env = root_env(gateway)
    ak, sk = random_keys()
    user = "quota-" + ak[-6:].lower()
    admin(home, "user", "add", user, ak, sk, "--create-buckets", env=env)
    c = gateway.client(ak, sk)
    b1, b2 = bucket_factory(c), bucket_factory(c)
    admin(home, "quota", "set", "user", user, "100K", env=env)
    c.put_object(Bucket=b1, Key="x", Body=b"x" * (60 * KiB))
    quota_refused(lambda: c.put_object(Bucket=b2, Key="y", Body=b"y" * (50 * KiB)))  # 110 KiB over two buckets
    c.put_object(Bucket=b2, Key="y", Body=b"y" * (40 * KiB))
    usage = admin_json(gateway, home, "buckets", "usage")
    mine = [u for u in usage["users"] if u["user"] == user][0]
    assert (mine["buckets"], mine["bytes"], mine["quotaBytes"]) == (2, 100 * KiB, 100 * KiB)
    c.delete_object(Bucket=b1, Key="x")
    c.put_object(Bucket=b2, Key="z", Body=b"z" * (60 * KiB))
    admin(home, "quota", "clear", "user", user, env=env)


# ---------------------------------------------------------------- drain

@pytest.fixture
def private_gateway():
    root = tempfile.mkdtemp(prefix="yc-drain-")
    ak, sk = random_keys()
    gw = Gateway(os.path.join(root, "data"), ak, sk)
    gw.root = root
    yield gw.start()
    gw.stop()
    shutil.rmtree(root, ignore_errors=True)


def test_drain_moves_a_drive_onto_a_spare(private_gateway, home):
    gw = private_gateway
    env = root_env(gw)
    s3 = gw.client()
    name = unique_bucket_name()
    s3.create_bucket(Bucket=name)
    bodies = {"k%d" % i: os.urandom(n) for i, n in enumerate([0, 100, 64 * KiB, 129 * KiB, 1536 * KiB] * 4)}
    for key, body in bodies.items():
        s3.put_object(Bucket=name, Key=key, Body=body)

    spare = os.path.join(gw.root, "spare3")
    drive3 = os.path.join(gw.data_dir, "drive3")
    rc, out, err = admin(home, "drive", "drain", "local", "drive3", spare, env=env)
    lines = out.splitlines()
    assert lines[0].startswith("draining %s into %s" % (drive3, spare)), out
    progress = [l for l in lines if l.startswith("drain: ")]
    assert progress and re.search(r"%d/%d objects \(100\.0 %%\).*objects/s, ETA \d+ s, repaired \d+, failed 0, "
                                  r"rebuilt [\d.]+ MiB \([\d.]+ MiB/s\)$" % (len(bodies), len(bodies)), progress[-1]), out
    assert lines[-1].startswith("drain drained"), out
    places = {d["slot"]: d for d in admin_json(gw, home, "drive", "list")["drives"]}
    assert places[2]["drive"] == spare and places[2]["drained"] == drive3 and places[2]["drain"] == "drained"
    heal = admin_json(gw, home, "heal", "status")
    assert heal["total"] == len(bodies) and heal["percent"] == 100.0 and heal["etaSeconds"] == 0
    rc, _, err = admin(home, "drive", "drain", "local", "drive4", os.path.join(gw.data_dir, "drive5"), env=env,
                       check=False)
    assert rc == 1 and "InvalidRequest" in err  # a drive of another place is no spare
    admin(home, "drive", "remove", "local", "drive3", env=env)

    # the drained drive gone, and two more replaced by empty folders: only four drives hold data,
    # the spare among them, so every read needs what the drain rebuilt there
    gw.stop()
    shutil.rmtree(drive3)
    drives = [os.path.join(gw.data_dir, "drive%d" % i) for i in (1, 2)] + [spare] + \
        [os.path.join(gw.root, "empty%d" % i) for i in (4, 5)] + [os.path.join(gw.data_dir, "drive6")]
    gw.extra_args = ["--drives-list", ",".join(drives)]
    gw.start()
    s3 = gw.client()
    for key, body in bodies.items():
        assert s3.get_object(Bucket=name, Key=key)["Body"].read() == body, key


def test_drain_replaces_a_drive_that_cannot_open(home):
    root = tempfile.mkdtemp(prefix="yc-drain-dead-")
    ak, sk = random_keys()
    gw = Gateway(os.path.join(root, "data"), ak, sk)
    try:
        os.makedirs(gw.data_dir)
        with open(os.path.join(gw.data_dir, "drive2"), "w") as f:
            f.write("a file where a drive should be\n")  # the drive cannot open: a dead disk
        gw.start()
        env = root_env(gw)
        assert json.loads(admin(home, "--json", "status", env=env)[1])["drivesOk"] == 5
        s3 = gw.client()
        name = unique_bucket_name()
        s3.create_bucket(Bucket=name)
        for i, n in enumerate([10, 200 * KiB, 1100 * KiB]):
            s3.put_object(Bucket=name, Key="d%d" % i, Body=os.urandom(n))
        spare = os.path.join(root, "spare2")
        _, out, _ = admin(home, "drive", "drain", "local", "drive2", spare, env=env)
        assert out.splitlines()[-1].startswith("drain drained"), out
        status = json.loads(admin(home, "--json", "status", env=env)[1])
        assert status["drivesOk"] == 6 and status["sets"][0]["drivesOk"] == 6, status
        # the two objects past the inline size have a shard file each on the spare now
        shard_files = [f for _, _, fs in os.walk(os.path.join(spare, "shards")) for f in fs]
        assert len(shard_files) == 2, shard_files
    finally:
        gw.stop()
        shutil.rmtree(root, ignore_errors=True)


def wipe(gw, drive):
    """Stops gw, empties one of its drive folders (a replaced disk) and starts it again."""
    gw.stop()
    path = os.path.join(gw.data_dir, drive)
    shutil.rmtree(path)
    os.makedirs(path)
    gw.start()


def test_heal_rate_bounds_the_rebuild(private_gateway, home):
    """`yc-admin heal --rate`: a wiped drive gets every shard back, no faster than the rate allows,
    and the progress counts the shard bytes rebuilt; a rate that is not a size is refused."""
    gw = private_gateway
    env = root_env(gw)
    s3 = gw.client()
    name = unique_bucket_name()
    s3.create_bucket(Bucket=name)
    bodies = {"h%d" % i: os.urandom(1024 * KiB) for i in range(12)}  # EC 4+2: a 256 KiB shard a drive
    for key, body in bodies.items():
        s3.put_object(Bucket=name, Key=key, Body=body)
    shard = 256 * KiB

    wipe(gw, "drive3")
    started = time.monotonic()
    _, out, _ = admin(home, "heal", "--rate", "1M", env=env)
    elapsed = time.monotonic() - started
    status = admin_json(gw, home, "heal", "status")
    assert status["repaired"] >= len(bodies) and status["failed"] == 0, status
    assert status["rebuiltBytes"] == len(bodies) * shard and status["rate"] == 1024 * KiB, status
    # 3 MiB at 1 MiB/s: the last shard may come at once, so at least the time of the others
    assert elapsed >= (len(bodies) - 1) * shard / (1024 * KiB) - 0.2, (elapsed, out)
    assert re.search(r"rebuilt 3\.0 MiB \([\d.]+ MiB/s\)$", out.splitlines()[-1]), out
    shard_files = [f for _, _, fs in os.walk(os.path.join(gw.data_dir, "drive3", "shards")) for f in fs]
    assert len(shard_files) == len(bodies), shard_files

    # without a rate the same rebuild is not held back
    wipe(gw, "drive3")
    admin(home, "heal", env=env)
    status = admin_json(gw, home, "heal", "status")
    assert status["rebuiltBytes"] == len(bodies) * shard and status["rate"] == 0, status
    for key, body in bodies.items():
        assert s3.get_object(Bucket=name, Key=key)["Body"].read() == body, key

    for bad in ("0", "fast", "-1M", "2T"):
        rc, _, err = admin(home, "heal", "--rate", bad, env=env, check=False)
        assert rc == 2 and "--rate" in err, (bad, rc, err)
        r = yc_raw.request(gw, "POST", "/_admin/v1/heal", query="rate=" + bad)
        assert r.status == 400 and b"<Code>InvalidArgument</Code>" in r.body, (bad, r.status, r.body)
    empty_and_delete_bucket(s3, name)
