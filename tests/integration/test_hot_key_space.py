"""Issue 19 at a short scale: after a burst of overwrites (and, in a versioned bucket, of deletes of
old versions) the drives' RocksDB gives the space back while the server is idle. Within 2 minutes
of the last write it holds no more than 2x the live records' bytes, by RocksDB's own size
properties (SST files plus memtables, as `yc-admin metadata` reports them per drive), not by
`du`, which counts the WAL's preallocated space.
"""
import concurrent.futures
import json
import time

IDLE_LIMIT = 120.0  # seconds after the last write
KEYS = 100
OVERWRITES = 10  # per key
VERSIONED_KEYS = 40
VERSIONS = 10  # per key, all but the newest deleted


def sizes(gw):
    drives = json.loads(gw.admin("metadata").stdout)["drives"]
    total = lambda k: sum(d.get(k, 0) for d in drives)
    return {"held": total("sstBytes") + total("memtableBytes"), "records": total("recordBytes"),
            "tombstones": total("tombstones"), "compactions": total("compactions"), "drives": len(drives)}


def test_rocksdb_holds_at_most_twice_the_live_records_two_minutes_after_overwrites(gateway_factory, admin_available):
    gw = gateway_factory()
    s3 = gw.client(max_pool_connections=16)
    s3.create_bucket(Bucket="hot")
    s3.create_bucket(Bucket="hotv")
    s3.put_bucket_versioning(Bucket="hotv", VersioningConfiguration={"Status": "Enabled"})

    def put(args):
        bucket, key, n = args
        return s3.put_object(Bucket=bucket, Key=key, Body=(b"%s-%d-" % (key.encode(), n)) * 400)

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(put, [("hot", "k%03d" % i, n) for n in range(OVERWRITES) for i in range(KEYS)]))
        list(pool.map(put, [("hotv", "v%03d" % i, n) for n in range(VERSIONS) for i in range(VERSIONED_KEYS)]))
    old = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket="hotv"):
        old += [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", []) if not v["IsLatest"]]
    assert len(old) == VERSIONED_KEYS * (VERSIONS - 1)
    r = s3.delete_objects(Bucket="hotv", Delete={"Objects": old, "Quiet": True})
    assert not r.get("Errors")
    last_write = time.monotonic()

    after = sizes(gw)
    assert after["drives"] == 6 and after["records"] > 0
    while True:
        now = sizes(gw)
        waited = time.monotonic() - last_write
        if now["held"] <= 2 * now["records"] or waited > IDLE_LIMIT:
            break
        time.sleep(2.0)
    print("after the writes: held %d bytes for %d record bytes (%.2fx), %d tombstones; %.0f s later: %.2fx, "
          "%d tombstones, %d compactions"
          % (after["held"], after["records"], after["held"] / after["records"], after["tombstones"], waited,
             now["held"] / now["records"], now["tombstones"], now["compactions"]))
    assert now["held"] <= 2 * now["records"], (after, now, waited)
    # the live records are all there: every key reads its newest write
    assert s3.get_object(Bucket="hot", Key="k007")["Body"].read() == b"k007-%d-" % (OVERWRITES - 1) * 400
    assert s3.get_object(Bucket="hotv", Key="v007")["Body"].read() == b"v007-%d-" % (VERSIONS - 1) * 400
    assert s3.list_objects_v2(Bucket="hot")["KeyCount"] == KEYS
    assert s3.list_objects_v2(Bucket="hotv")["KeyCount"] == VERSIONED_KEYS


SETTLE_LIMIT = 30.0  # seconds: the drive engine settles a drive after 10 idle seconds


def test_idle_drives_flush_and_settle_into_one_level(gateway_factory, admin_available):
    """Keys written once and then only read end up in SST files below level 0 within seconds of
    the last write (memtables flushed, level 0 merged down): before, they stayed in the memtables
    until these filled, and every point read searched them."""
    gw = gateway_factory()
    s3 = gw.client(max_pool_connections=16)
    s3.create_bucket(Bucket="fresh")
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: s3.put_object(Bucket="fresh", Key="f%03d" % i, Body=b"x" * 4096), range(200)))
    last_write = time.monotonic()
    drives = json.loads(gw.admin("metadata").stdout)["drives"]
    assert all(d["memtableBytes"] > 65536 for d in drives), drives  # the records are in the memtables
    while True:
        drives = json.loads(gw.admin("metadata").stdout)["drives"]
        settled = all(d["memtableBytes"] < 65536 and d["level0Files"] == 0 and d["sstBytes"] > 0 for d in drives)
        if settled or time.monotonic() - last_write > SETTLE_LIMIT:
            break
        # reads do not count as activity: a drive that is only read settles too
        s3.get_object(Bucket="fresh", Key="f007")
        time.sleep(1.0)
    assert settled, drives
    assert s3.get_object(Bucket="fresh", Key="f123")["Body"].read() == b"x" * 4096
    assert s3.list_objects_v2(Bucket="fresh")["KeyCount"] == 200
