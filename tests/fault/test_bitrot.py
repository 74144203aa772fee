"""Bitrot: bytes flipped inside shard files on two drives (m = 2) of a 3-daemon cluster; every GET
still returns the exact bytes (checksums catch the damage, parity rebuilds the blocks) and the
gateway logs event=heal_needed for the damaged shards."""
import glob
import os
import random

import cluster as yc

SHARD_HEADER = 32  # bytes before a shard file's first block
SIZES = [129 * yc.KiB, 1 * yc.MiB, 3 * yc.MiB + 333]  # above the inline threshold: shard files


def flip_bytes(path, rng, count=8):
    """Inverts count bytes of the file past its header."""
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        for _ in range(count):
            off = rng.randrange(SHARD_HEADER, size)
            f.seek(off)
            b = f.read(1)
            f.seek(off)
            f.write(bytes([b[0] ^ 0xFF]))
        f.flush()
        os.fsync(f.fileno())


def test_get_returns_exact_bytes_when_shards_on_two_drives_are_corrupted(cluster, s3, bucket):
    objs = {}
    for n, size in enumerate(SIZES):
        key = "rot/%d" % n
        objs[key] = yc.object_data(key, 0, size)
        s3.put_object(Bucket=bucket, Key=key, Body=objs[key])
    rng = random.Random(7)
    # one drive on each of two daemons: n0/a and n1/b
    damaged = [cluster.daemons[0].drives["a"], cluster.daemons[1].drives["b"]]
    flipped = 0
    for drive in damaged:
        files = glob.glob(os.path.join(drive, "shards", "??", "*"))
        assert len(files) == len(SIZES), "expected one shard file per object on %s: %s" % (drive, files)
        for path in files:
            flip_bytes(path, rng)
            flipped += 1
    assert flipped == 2 * len(SIZES)
    for attempt in range(2):  # the second read may meet repaired shards; both must be exact
        for key, body in objs.items():
            got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert got == body, "%s read %d: %d bytes differing from the %d written" % (key, attempt, len(got), len(body))
            lo, hi = len(body) // 3, len(body) // 3 + 300 * yc.KiB
            part = s3.get_object(Bucket=bucket, Key=key, Range="bytes=%d-%d" % (lo, hi))["Body"].read()
            assert part == body[lo:hi + 1], "%s range read %d" % (key, attempt)
    log = cluster.gateway_log()
    assert "event=heal_needed" in log, "no event=heal_needed in the gateway log:\n%s" % cluster.gateway.stderr_tail()
