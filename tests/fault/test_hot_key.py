"""A hot key written through two gateways at once: every drive must end holding the same newest
record, read from each drive's own RocksDB (build/tests/record_dump, with the daemons stopped),
not inferred from what the gateways answer. Issue 19: the null version is one slot replaced in
place, and concurrent writers are ordered by (modification time, version id) on every drive.
"""
import concurrent.futures
import json
import os
import subprocess
import time

import cluster as yc

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_DIR = os.environ.get("YC_BUILD_DIR", os.path.join(REPO_ROOT, "build"))
DUMP_BIN = os.path.join(BUILD_DIR, "tests", "record_dump")
ROUNDS = int(os.environ.get("YC_FAULT_HOTKEY_ROUNDS", "15"))


def second_gateway(cl):
    gw = yc.NetGateway(os.path.join(cl.root, "gateway2"), cl.access_key, cl.secret_key, cl.drives_list(),
                       cl.secret, cl.gateway_args)
    return gw.start()


def drive_records(cl, bucket, key):
    """Every drive's records of bucket/key, {drive dir: [record, ...]}; the daemons must be down."""
    out = {}
    for d in cl.daemons:
        for name, path in sorted(d.drives.items()):
            r = subprocess.run([DUMP_BIN, path, bucket, key], capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, (path, r.stderr)
            out["%s/%s" % (d.name, name)] = json.loads(r.stdout)
    return out


def test_two_gateways_overwriting_one_key_leave_the_same_newest_record_on_every_drive(cluster, bucket):
    gw2 = second_gateway(cluster)
    try:
        clients = [cluster.client(), gw2.client()]
        keys = {"hot-inline": 2048, "hot-files": 200 * 1024}
        etags = {k: set() for k in keys}

        def writer(i):
            s3 = clients[i % 2]
            for n in range(ROUNDS):
                for key, size in keys.items():
                    r = s3.put_object(Bucket=bucket, Key=key, Body=yc.object_data("%s-%d-%d" % (key, i, n), n, size))
                    etags[key].add(r["ETag"].strip('"'))

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            for f in [pool.submit(writer, i) for i in range(4)]:
                f.result()
        got = {k: clients[0].head_object(Bucket=bucket, Key=k)["ETag"].strip('"') for k in keys}
        for key in keys:
            assert got[key] in etags[key]
            assert clients[1].head_object(Bucket=bucket, Key=key)["ETag"].strip('"') == got[key]
        time.sleep(1.0)  # the prunes run after the answers
    finally:
        gw2.stop()
    for i in range(len(cluster.daemons)):
        cluster.daemons[i].stop()
    try:
        for key in keys:
            held = drive_records(cluster, bucket, key)
            assert len(held) == 6
            newest = {}
            for drive, recs in held.items():
                assert recs, (key, drive, "holds no record")
                # unversioned: the null slot alone, pruned to the one version that won
                assert all(r["slot"] for r in recs), (key, drive, recs)
                assert len(recs) == 1, (key, drive, recs)
                newest[drive] = (recs[0]["mtime"], recs[0]["vid"], recs[0]["etag"], recs[0]["size"])
            assert len(set(newest.values())) == 1, (key, newest)
            assert next(iter(newest.values()))[2] == got[key]
    finally:
        for i in range(len(cluster.daemons)):
            cluster.daemons[i].start()
