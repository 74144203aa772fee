"""GETs read only the data shards their bytes lie in (issue 15, item 10).

The erasure code is systematic: with EC 4+2 and 1 MiB stripes a data shard's block is 256 KiB of
the object as it is. Past the budget of decoded stripes the GET streams share, a stream sends 256
KiB chunks, and each chunk must cost one shard read, not the whole stripe's four. Measured with
yc_drive_shard_read_bytes_total (every drive's shard bytes read) against the bytes the GETs
returned, with 64 GETs of 4 MiB at once; then GETs with a drive's data shards damaged, and with
that drive gone, must still return the right bytes (the stripes are rebuilt from parity).
"""
import glob
import os
import re
import shutil
import socket
import threading
import time
import urllib.parse

import pytest

import yc_raw
from conftest import Gateway, random_keys, unique_bucket_name

MiB = 1024 * 1024
SIZE = 4 * MiB
KEYS = 4
CONNS = 64
K = 4  # the embedded default: EC 4+2
SHARD_HEADER = 32  # bytes before a shard file's first block


def shard_bytes(gw):
    r = yc_raw.request(gw, "GET", "/_admin/v1/metrics")
    assert r.status == 200, r.body[:300]
    found = re.findall(rb'^yc_drive_shard_read_bytes_total\{[^}]*\} (\S+)$', r.body, re.M)
    assert len(found) == 6, "one series per drive expected:\n%s" % r.body.decode()[-2000:]
    return sum(float(v) for v in found)


def raw_get(gw, url, out, i, ready, go):
    """GET url on a socket of small buffers, sent before any answer is read: the gateway holds
    every stream at once, most of them past the stripe budget."""
    parts = urllib.parse.urlsplit(url)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        s.settimeout(60)
        s.connect(("127.0.0.1", gw.port))
        s.sendall(("GET %s?%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n"
                   % (parts.path, parts.query, gw.port)).encode())
        ready.release()
        go.wait(60)
        data = bytearray()
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
        out[i] = bytes(data)
    except OSError as e:
        out[i] = e
        ready.release()
    finally:
        s.close()


def get_at_once(gw, bucket, objects, conns=CONNS):
    """conns GETs over the keys, all sent before any is read (more than the 16 streams the stripe
    budget lets hold whole stripes); returns each answer's (key, status, body)."""
    c = gw.client()
    keys = sorted(objects)
    urls = [c.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": keys[i % len(keys)]})
            for i in range(conns)]
    out = [None] * conns
    ready, go = threading.Semaphore(0), threading.Event()
    threads = [threading.Thread(target=raw_get, args=(gw, u, out, i, ready, go)) for i, u in enumerate(urls)]
    for t in threads:
        t.start()
    for _ in threads:
        assert ready.acquire(timeout=60)
    time.sleep(0.5)  # every request taken and its stream started before a byte is read
    go.set()
    for t in threads:
        t.join(90)
    answers = []
    for i, raw in enumerate(out):
        assert isinstance(raw, bytes), raw
        head, _, body = raw.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        answers.append((keys[i % len(keys)], status, body))
    return answers


def check_answers(answers, objects):
    for key, status, body in answers:
        assert status == 200, (key, status, body[:300])
        assert len(body) == SIZE, (key, len(body))
        assert body == objects[key], key


@pytest.fixture
def filled(gateway_factory):
    gw = gateway_factory()
    c = gw.client()
    bucket = unique_bucket_name("yc-shards")
    c.create_bucket(Bucket=bucket)
    objects = {}
    for i in range(KEYS):
        data = os.urandom(SIZE)
        c.put_object(Bucket=bucket, Key="k%d" % i, Body=data)
        objects["k%d" % i] = data
    return gw, bucket, objects


def data_shard_files(drive):
    """The drive's shard files of data shards (named DATA_ID.INDEX)."""
    return [f for f in glob.glob(os.path.join(drive, "shards", "??", "*"))
            if re.search(r"\.(\d+)$", f) and int(f.rsplit(".", 1)[1]) < K]


def busiest_data_drive(gw):
    drives = sorted(glob.glob(os.path.join(gw.data_dir, "drive*")))
    assert len(drives) == 6, drives
    return max(drives, key=lambda d: len(data_shard_files(d)))


def test_concurrent_4mib_gets_read_each_shard_byte_once(filled):
    gw, bucket, objects = filled
    before = shard_bytes(gw)
    answers = get_at_once(gw, bucket, objects)
    check_answers(answers, objects)
    ratio = (shard_bytes(gw) - before) / (CONNS * SIZE)
    # a stream past the stripe budget that decoded the stripe for each 256 KiB chunk read 4x
    assert 0.99 <= ratio <= 1.1, "shard bytes read per byte returned: %.2f" % ratio


def test_concurrent_gets_right_when_data_shards_damaged_then_their_drive_gone(filled):
    gw, bucket, objects = filled
    drive = busiest_data_drive(gw)
    files = data_shard_files(drive)
    assert files
    for f in files:  # a byte of every 64 KiB: every block's checksum fails
        size = os.path.getsize(f)
        with open(f, "r+b") as fh:
            for off in range(SHARD_HEADER + 7, size, 1 << 16):
                fh.seek(off)
                b = fh.read(1)
                fh.seek(off)
                fh.write(bytes([b[0] ^ 0xA5]))
    log_before = len(gw.stderr_text())
    before = shard_bytes(gw)
    check_answers(get_at_once(gw, bucket, objects, 32), objects)
    # stripes rebuilt from parity read more than the bytes returned; the damage goes to the healer
    assert shard_bytes(gw) - before > 32 * SIZE
    assert "heal_needed" in gw.stderr_text()[log_before:]
    gw.stop()
    shutil.rmtree(drive)
    gw.start()
    check_answers(get_at_once(gw, bucket, objects, 32), objects)


@pytest.fixture
def sse_gateway(tmp_path):
    """A gateway that encrypts (its master key from a file)."""
    data = tmp_path / "data"
    data.mkdir()
    key_file = tmp_path / "master.key"
    key_file.write_text(os.urandom(32).hex() + "\n")
    gw = Gateway(str(data), *random_keys())
    gw.extra_args = ["--sse-master-key-file", str(key_file)]
    yield gw.start()
    gw.kill()


def test_ranges_read_only_the_blocks_they_lie_in_plain_and_encrypted(sse_gateway):
    gw = sse_gateway
    c = gw.client()
    bucket = unique_bucket_name("yc-shards")
    c.create_bucket(Bucket=bucket)
    body = os.urandom(SIZE)
    c.put_object(Bucket=bucket, Key="plain", Body=body)
    c.put_object(Bucket=bucket, Key="sealed", Body=body, ServerSideEncryption="AES256")
    block = MiB // K  # a data shard's block of a full stripe

    def read(key, **kw):
        before = shard_bytes(gw)
        got = c.get_object(Bucket=bucket, Key=key, **kw)["Body"].read()
        return got, shard_bytes(gw) - before

    # bytes of the second data block of the second stripe: that block alone, not the stripe
    lo = MiB + block + 1000
    for key in ("plain", "sealed"):
        got, read_bytes = read(key, Range="bytes=%d-%d" % (lo, lo + 999))
        assert got == body[lo:lo + 1000], key
        assert read_bytes == block, (key, read_bytes)
    # a range across two blocks reads those two
    got, read_bytes = read("plain", Range="bytes=%d-%d" % (block - 10, block + 9))
    assert got == body[block - 10:block + 10] and read_bytes == 2 * block
    # whole objects: the data blocks once (an encrypted one stores a tag per 64 KiB block more)
    for key in ("plain", "sealed"):
        got, read_bytes = read(key)
        assert got == body, key
        assert SIZE <= read_bytes <= SIZE * 1.01, (key, read_bytes)
