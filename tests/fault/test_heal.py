"""`yc-admin heal` (a full heal, waited for) restores what a drive missed or lost: proven by
taking away a different daemon afterwards, so that every read needs the healed shards."""
import glob
import os
import random

import pytest

import cluster as yc
from test_bitrot import flip_bytes

SIZES = [0, 1 * yc.KiB, 100 * yc.KiB, 129 * yc.KiB, 1 * yc.MiB, 3 * yc.MiB + 333]


def heal(cl):
    res = cl.gateway.admin("heal", check=False)
    out = res.stdout + res.stderr
    if res.returncode != 0 and out.lstrip().startswith("usage"):
        pytest.skip("yc-admin heal is not built yet (it prints usage)")
    assert res.returncode == 0, "yc-admin heal failed (%d): %s" % (res.returncode, out)
    return out


def put_objects(s3, bucket, prefix):
    objs = {}
    for n, size in enumerate(SIZES):
        key = "%s/%d" % (prefix, n)
        objs[key] = yc.object_data(key, 0, size)
        s3.put_object(Bucket=bucket, Key=key, Body=objs[key])
    return objs


def unreadable(s3, bucket, objs):
    bad = {}
    for key, body in objs.items():
        try:
            got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            if got != body:
                bad[key] = "wrong bytes"
        except Exception as e:
            bad[key] = "%s %s" % yc.error_code(e)
    return bad


def test_heal_restores_objects_when_daemon_missed_writes(cluster, s3, bucket):
    cluster.kill(2)
    objs = put_objects(s3, bucket, "missed")
    cluster.daemons[2].start()
    out = heal(cluster)
    cluster.kill(0)  # reads now need the shards healed onto daemon 2
    bad = unreadable(s3, bucket, objs)
    assert not bad, "not healed (heal said: %s): %s" % (out.strip()[-300:], bad)


def test_heal_restores_objects_when_drive_was_wiped(cluster, s3, bucket):
    objs = put_objects(s3, bucket, "wiped")
    d = cluster.daemons[1]
    d.kill()
    for path in d.drives.values():
        for sub in os.listdir(path):
            yc.shutil.rmtree(os.path.join(path, sub), ignore_errors=True)
    d.start()
    out = heal(cluster)
    cluster.kill(2)  # reads now need daemon 1's rebuilt drives
    bad = unreadable(s3, bucket, objs)
    assert not bad, "not healed (heal said: %s): %s" % (out.strip()[-300:], bad)


def test_heal_repairs_bitrot_when_shards_are_corrupted(cluster, s3, bucket):
    objs = put_objects(s3, bucket, "rot")
    rng = random.Random(11)
    for path in cluster.daemons[0].drives.values():
        for f in glob.glob(os.path.join(path, "shards", "??", "*")):
            flip_bytes(f, rng)
    out = heal(cluster)
    cluster.kill(1)  # reads now need daemon 0's repaired shards
    bad = unreadable(s3, bucket, objs)
    assert not bad, "not repaired (heal said: %s): %s" % (out.strip()[-300:], bad)


def test_heal_keeps_previous_version_when_overwrite_failed(cluster, s3, bucket):
    objs = put_objects(s3, bucket, "over")
    cluster.kill(1)
    cluster.kill(2)
    for n, size in enumerate(SIZES):  # fail without quorum: only daemon 0 takes them
        key = "over/%d" % n
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=yc.object_data(key, 1, size))
        except Exception:
            pass
    cluster.start_all()
    out = heal(cluster)
    cluster.kill(2)  # one daemon (m drives) down: the complete previous versions must read
    bad = unreadable(s3, bucket, objs)
    assert not bad, "previous versions not readable after heal (heal said: %s): %s" % (out.strip()[-300:], bad)
