"""Concurrent overwrites of a few keys, through the drives' group commits.

With local drives a PUT's worker queues its record on every drive of the set itself, holding each
drive's lock of the key until its batch is synced, and prunes the replaced version by a write it
does not wait for when that version has no files (docs/architecture.md, PUT). Many writers of the
same keys, with objects alternating between inline (4 KiB) and shard files (200 KiB), so that each
kind replaces the other: every PUT must be answered 200 with its body's ETag (no deadlock, no
refused write), and each key must then read back exactly one of the bodies written to it.
"""
import concurrent.futures
import hashlib

KEYS = ["hot-a", "hot-b", "hot-c"]
WRITERS = 12
PUTS_PER_WRITER = 20


def body_for(writer, i):
    size = 4096 if (writer + i) % 2 else 200 * 1024
    seed = hashlib.sha256(b"%d/%d" % (writer, i)).digest()
    return (seed * (size // len(seed) + 1))[:size]


def test_concurrent_overwrites_all_answered_and_read_back_a_written_body(gateway, bucket):
    written = {k: set() for k in KEYS}

    def writer(w):
        client = gateway.client()
        out = []
        for i in range(PUTS_PER_WRITER):
            key = KEYS[(w + i) % len(KEYS)]
            body = body_for(w, i)
            r = client.put_object(Bucket=bucket, Key=key, Body=body)
            out.append((key, body, r["ResponseMetadata"]["HTTPStatusCode"], r["ETag"].strip('"')))
        return out

    with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
        results = [x for part in pool.map(writer, range(WRITERS), timeout=300) for x in part]

    assert len(results) == WRITERS * PUTS_PER_WRITER
    for key, body, status, etag in results:
        assert status == 200
        assert etag == hashlib.md5(body).hexdigest()
        written[key].add(etag)

    s3 = gateway.client()
    for key in KEYS:
        got = s3.get_object(Bucket=bucket, Key=key)
        data = got["Body"].read()
        assert hashlib.md5(data).hexdigest() in written[key]
        assert got["ETag"].strip('"') == hashlib.md5(data).hexdigest()
    listed = s3.list_objects_v2(Bucket=bucket)
    assert sorted(o["Key"] for o in listed.get("Contents", [])) == KEYS
