"""yc-store's request intake, spoken to in its own wire format (signed by hand here, so that the
format is checked apart from the C client): a request whose head is not signed right is
refused before its body is read; a shard block streams to the disk with the daemon's memory
flat; a body that is not the one signed is rolled back; a slow sender is not cut, a stalled one
is. The daemon's counters come from its GET /stats.
"""
import hashlib
import os
import secrets
import shutil
import tempfile
import time

import pytest

import cluster as yc
import storewire as wire

BOUND = {}  # the drive id requests are bound to, and the last request's signature
SECRET = "stream-test-" + secrets.token_hex(8)
MiB = 1024 * 1024
EMPTY_SHA = hashlib.sha256(b"").hexdigest()


@pytest.fixture
def daemon():
    root = tempfile.mkdtemp(prefix="yc-store-stream-")
    made = []

    def start(*extra):
        d = yc.StoreDaemon("s0", {"d1": os.path.join(root, "d1")}, os.path.join(root, "store.log"), SECRET)
        d.extra_args = ["--loops", "1"] + list(extra)
        made.append(d)
        d.start()
        BOUND["id"] = wire.drive_id(d.drives["d1"])
        return d

    yield start
    for d in made:
        d.kill()
    shutil.rmtree(root, ignore_errors=True)


def head(method, target, length, body_sha, secret=SECRET, extra=""):
    """A request head bound to the daemon's drive d1 (the daemon refuses most calls unbound); its
    signature is kept for checking the answer's tag."""
    h, sig = wire.head(method, target, length, body_sha, secret, BOUND.get("id"), extra)
    BOUND["sig"] = sig
    return h


def read_answer(sock, timeout=10):
    """(status, headers dict, payload) of one answer on sock: the tag of a daemon's answer is
    checked against the last head made and stripped; an answer of the HTTP layer has none."""
    status, headers, raw = wire.read_raw(sock, timeout)
    if "x-yc-answer-nonce" not in headers:
        return status, headers, raw
    return status, headers, wire.check(SECRET, BOUND["sig"], status, headers, raw)


def connect(d):
    return wire.connect(d.host, d.port)


def call(d, method, target, body=b"", secret=SECRET):
    with connect(d) as s:
        s.sendall(head(method, target, len(body), hashlib.sha256(body).hexdigest(), secret) + body)
        return read_answer(s)


def stats(d):
    status, _, body = call(d, "GET", "/stats")
    assert status == 200, body
    return {k: int(v) for k, v in (line.split() for line in body.decode().splitlines())}


def rss_kib(d, field="VmRSS"):
    with open("/proc/%d/status" % d.proc.pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(field + " not found")


def files_under(d, sub):
    out = []
    for top, _, names in os.walk(os.path.join(d.drives["d1"], sub)):
        out += [os.path.join(top, n) for n in names]
    return out


def shard_target(data_id, index=0):
    return "/v1/d1/shards/%s/%d" % (data_id, index)


def create_writer(d, data_id):
    status, _, token = call(d, "POST", shard_target(data_id) + "/create")
    assert status == 200, token
    return token.decode()


def test_bad_signature_refused_before_the_body(daemon):
    d = daemon()
    data_id = secrets.token_hex(16)
    token = create_writer(d, data_id)
    target = shard_target(data_id) + "/append?w=%s&s=1" % token
    before = stats(d)
    # a 1 GiB block declared, none of it sent: the answer must come from the head alone
    with connect(d) as s:
        s.sendall(head("POST", target, 1 << 30, EMPTY_SHA, secret="not-the-secret"))
        t0 = time.monotonic()
        status, headers, _ = read_answer(s, timeout=5)
        took = time.monotonic() - t0
    assert status == 401 and headers.get("x-yc-error") is not None
    assert took < 2
    # the same with Expect: 100-continue: the 401 and never a 100
    with connect(d) as s:
        s.sendall(head("POST", target, 1 << 30, EMPTY_SHA, secret="wrong", extra="expect: 100-continue\r\n"))
        status, _, _ = read_answer(s, timeout=5)
    assert status == 401
    # and a sender that does not wait: it has the 401 while most of its body is still unsent
    with connect(d) as s:
        s.sendall(head("POST", target, 64 * MiB, EMPTY_SHA, secret="wrong") + b"x" * 65536)
        status, _, _ = read_answer(s, timeout=5)
    assert status == 401
    after = stats(d)
    assert after["auth_refused"] - before["auth_refused"] == 3
    assert after["refused_body_bytes"] == 0
    assert after["streamed_in_bytes"] == before["streamed_in_bytes"]
    # nothing reached the shard being written: commit gives an empty shard
    status, _, _ = call(d, "POST", shard_target(data_id) + "/commit?w=%s" % token)
    assert status == 200
    status, _, size = call(d, "GET", shard_target(data_id) + "/stat")
    assert status == 200 and int.from_bytes(size, "little") == 0


def test_large_block_streams_with_flat_memory(daemon):
    d = daemon("--stream-buffer", "256K")
    data_id = secrets.token_hex(16)
    token = create_writer(d, data_id)
    block = os.urandom(64 * MiB)  # the largest body the wire format allows, one block
    sha = hashlib.sha256(block).hexdigest()
    time.sleep(0.2)
    base = rss_kib(d)
    peak = base
    target = shard_target(data_id) + "/append?w=%s&s=1" % token
    with connect(d) as s:
        s.sendall(head("POST", target, len(block), sha))
        view = memoryview(block)
        for off in range(0, len(block), MiB):
            s.sendall(view[off:off + MiB])
            peak = max(peak, rss_kib(d))
        status, _, body = read_answer(s, timeout=60)
    assert status == 200, body
    # the daemon held two 256 KiB buffers, not the 64 MiB block
    assert peak - base < 16 * 1024, "RSS grew by %d KiB for a 64 MiB block" % (peak - base)
    st = stats(d)
    assert st["streamed_in_bytes"] == len(block)
    assert st["stream_buffer_bytes_max"] == 512 * 1024
    status, _, _ = call(d, "POST", shard_target(data_id) + "/commit?w=%s" % token)
    assert status == 200
    first_id = data_id
    # a shard of many blocks streams out in block-aligned pieces through the same two buffers
    data_id = secrets.token_hex(16)
    token = create_writer(d, data_id)
    data = os.urandom(16 * MiB)
    blk = 64 * 1024
    for i in range(len(data) // blk):
        piece = data[i * blk:(i + 1) * blk]
        status, _, body = call(d, "POST", shard_target(data_id) + "/append?w=%s&s=%d" % (token, i + 1), piece)
        assert status == 200, body
    assert call(d, "POST", shard_target(data_id) + "/commit?w=%s" % token)[0] == 200
    status, _, got = call(d, "GET", shard_target(data_id) + "?off=%d&len=%d" % (blk - 7, 15 * MiB + 11))
    assert status == 200 and got == data[blk - 7:blk - 7 + 15 * MiB + 11]
    st = stats(d)
    assert st["stream_buffer_bytes_max"] == 512 * 1024
    assert st["streamed_out_bytes"] == 15 * MiB + 11
    assert rss_kib(d) - base < 16 * 1024
    big_id = first_id
    # read back whole: one block, which is one piece (its checksum needs it whole)
    with connect(d) as s:
        s.sendall(head("GET", shard_target(big_id) + "?off=0&len=%d" % len(block), 0, EMPTY_SHA))
        status, _, got = read_answer(s, timeout=60)
    assert status == 200 and hashlib.sha256(got).hexdigest() == sha
    assert stats(d)["stream_buffer_bytes_max"] == 64 * MiB


def test_body_not_the_signed_one_is_rolled_back(daemon):
    d = daemon("--stream-buffer", "64K")
    data_id = secrets.token_hex(16)
    token = create_writer(d, data_id)
    good = os.urandom(1 * MiB)
    bad = bytearray(good)
    bad[-1] ^= 1  # the last byte only: found at the very end of the stream
    target = shard_target(data_id) + "/append?w=%s&s=1" % token
    with connect(d) as s:
        s.sendall(head("POST", target, len(good), hashlib.sha256(good).hexdigest()) + bytes(bad))
        status, headers, _ = read_answer(s)
    assert status == 401
    st = stats(d)
    assert st["body_hash_mismatch"] == 1 and st["shard_writes_rolled_back"] == 1
    # the writer is gone with its temp file: nothing can be committed, nothing is on disk
    status, _, _ = call(d, "POST", shard_target(data_id) + "/commit?w=%s" % token)
    assert status == 404
    assert files_under(d, "tmp") == [] and files_under(d, "shards") == []
    # a small body (a record) that is not the signed one is not written either
    key = b"\x01zz-test-key"
    body = len(key).to_bytes(4, "little") + key + b"value"
    with connect(d) as s:
        s.sendall(head("POST", "/v1/d1/records/put", len(body), hashlib.sha256(body[:-1] + b"X").hexdigest()) + body)
        status, _, _ = read_answer(s)
    assert status == 401
    status, _, _ = call(d, "POST", "/v1/d1/records/get", key)
    assert status == 404
    assert call(d, "POST", "/v1/d1/records/put", body)[0] == 200
    assert call(d, "POST", "/v1/d1/records/get", key)[2] == b"value"


def test_slow_sender_is_not_cut(daemon):
    d = daemon()
    data_id = secrets.token_hex(16)
    token = create_writer(d, data_id)
    block = os.urandom(2 * MiB)
    target = shard_target(data_id) + "/append?w=%s&s=1" % token
    with connect(d) as s:
        s.sendall(head("POST", target, len(block), hashlib.sha256(block).hexdigest()) + block[:MiB])
        time.sleep(12)  # longer than the 10 s h2o gave a whole request
        s.sendall(block[MiB:])
        status, _, body = read_answer(s, timeout=30)
    assert status == 200, body
    assert call(d, "POST", shard_target(data_id) + "/commit?w=%s" % token)[0] == 200
    assert call(d, "GET", shard_target(data_id) + "?off=0&len=%d" % len(block))[2] == block


def test_stalled_sender_is_cut_and_the_block_dropped(daemon):
    d = daemon("--body-timeout", "2")
    data_id = secrets.token_hex(16)
    token = create_writer(d, data_id)
    block = os.urandom(MiB)
    target = shard_target(data_id) + "/append?w=%s&s=1" % token
    with connect(d) as s:
        s.sendall(head("POST", target, len(block), hashlib.sha256(block).hexdigest()) + block[:1000])
        t0 = time.monotonic()
        try:
            status, _, _ = read_answer(s, timeout=10)
        except ConnectionError:
            status = None
        took = time.monotonic() - t0
    assert status in (408, None) and 1.5 < took < 8
    # the half block is gone and the writer as it was: the same seq goes through now
    with connect(d) as s:
        s.sendall(head("POST", target, len(block), hashlib.sha256(block).hexdigest()) + block)
        assert read_answer(s)[0] == 200
    assert call(d, "POST", shard_target(data_id) + "/commit?w=%s" % token)[0] == 200
    status, _, size = call(d, "GET", shard_target(data_id) + "/stat")
    assert int.from_bytes(size, "little") == len(block)
