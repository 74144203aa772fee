"""Internode security of the network transport (store/server_auth.c, store/net_mac.c):

- a request signed for a drive of one node, sent to another node whose drive has the same name,
  is refused 401 there and changes nothing;
- an answer altered on its way from a daemon to the gateway (a tiny proxy in between) is refused
  by the gateway: a forged record is never believed, a flipped byte of a shard never reaches a
  client, the GET reads around the daemon as around a failed drive;
- an old answer played back in place of a fresh one is refused too.
"""
import ctypes
import ctypes.util
import hashlib
import os
import secrets
import shutil
import socket
import struct
import sys
import tempfile
import threading
import time

import pytest

import cluster as yc
import storewire as wire



# ---------------------------------------------------------------- a request replayed on another node

@pytest.fixture
def two_nodes():
    root = tempfile.mkdtemp(prefix="yc-internode-")
    secret = secrets.token_hex(16)
    nodes = [yc.StoreDaemon("n%d" % i, {"a": os.path.join(root, "n%d" % i, "a")}, os.path.join(root, "n%d.log" % i),
                            secret) for i in range(2)]
    for n in nodes:
        n.extra_args = ["--loops", "1"]
        n.start()
    yield secret, nodes
    for n in nodes:
        n.kill()
    shutil.rmtree(root, ignore_errors=True)


def record_put_body(key, value):
    return len(key).to_bytes(4, "little") + key + value


def test_request_signed_for_one_node_is_refused_on_another(two_nodes):
    secret, (n0, n1) = two_nodes
    id0, id1 = wire.drive_id(n0.drives["a"]), wire.drive_id(n1.drives["a"])
    assert id0 != id1
    key = b"\x01internode-" + secrets.token_hex(4).encode()
    body = record_put_body(key, b"from-n0")
    # what a gateway sends to node 0's drive "a", captured on the wire
    h, sig = wire.head("POST", "/v1/a/records/put", len(body), hashlib.sha256(body).hexdigest(), secret, id0)
    captured = h + body

    # played to node 1, whose drive has the same name: refused from the head, 401
    with wire.connect(n1.host, n1.port) as s:
        s.sendall(captured)
        status, headers, raw = wire.read_raw(s)
    assert status == 401
    wire.check(secret, sig, status, headers, raw)  # the refusal is node 1's own, tagged
    # and nothing was written there
    status, _, _ = wire.call(n1.host, n1.port, secret, "POST", "/v1/a/records/get", key, bound=id1)
    assert status == 404
    # the same bytes are good for node 0, once
    for expect in (200, 401):
        with wire.connect(n0.host, n0.port) as s:
            s.sendall(captured)
            status, headers, raw = wire.read_raw(s)
        assert status == expect
    status, _, value = wire.call(n0.host, n0.port, secret, "POST", "/v1/a/records/get", key, bound=id0)
    assert status == 200 and value == b"from-n0"

    # unbound, a call that changes a drive is refused on every node
    unbound = record_put_body(key, b"unbound")
    status, _, _ = wire.call(n1.host, n1.port, secret, "POST", "/v1/a/records/put", unbound)
    assert status == 401
    # what is taken unbound changes nothing: ping, the identity read (how a gateway learns the id)
    assert wire.call(n1.host, n1.port, secret, "GET", "/v1/a/ping")[0] == 200
    status, _, text = wire.call(n1.host, n1.port, secret, "POST", "/v1/a/identity")
    assert status == 200 and ("drive_id: %s" % id1).encode() in text
    status, _, _ = wire.call(n1.host, n1.port, secret, "POST", "/v1/a/records/get", key, bound=id1)
    assert status == 404
    stats = dict(line.split() for line in
                 wire.call(n1.host, n1.port, secret, "GET", "/stats")[2].decode().splitlines())
    assert int(stats["wrong_drive"]) == 2


# ---------------------------------------------------------------- answers altered in flight

_xxh = ctypes.CDLL(ctypes.util.find_library("xxhash") or "libxxhash.so.0")
_xxh.XXH3_64bits.restype = ctypes.c_uint64
_xxh.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]


def forge_record(rec):
    """The record with its metadata marker rewritten and its date a day later, checksum made
    again (xxh3 is no MAC: anyone can), so that it decodes and looks like the newest version."""
    rec = bytearray(rec)
    pos = 2
    for _ in range(2):  # bucket, key
        pos += 4 + struct.unpack_from("<I", rec, pos)[0]
    pos += 16  # version id
    mtime = struct.unpack_from("<Q", rec, pos)[0]
    struct.pack_into("<Q", rec, pos, mtime + 86400 * 10**9)
    i = rec.find(b"genuine")
    if i >= 0:
        rec[i:i + 7] = b"forged!"
    body = bytes(rec[:-8])
    return body + struct.pack("<Q", _xxh.XXH3_64bits(body, len(body)))


RECORD_READS = ("/records/get", "/records/scan", "/objects/get")  # how a gateway reads object records


class Proxy:
    """Between the gateway and one daemon: passes requests on, and alters the answers the mode
    names (one connection upstream per connection of the gateway, one exchange at a time)."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.mode = None
        self.tampered = 0
        self.saved = {}
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    @staticmethod
    def _read_message(s, buf):
        while b"\r\n\r\n" not in buf:
            got = s.recv(65536)
            if not got:
                return None, buf
            buf += got
        head, rest = buf.split(b"\r\n\r\n", 1)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v)
        while len(rest) < length:
            got = s.recv(max(65536, length - len(rest)))
            if not got:
                return None, b""
            rest += got
        return (head, rest[:length]), rest[length:]

    def _serve(self, c):
        up = socket.create_connection(self.upstream)
        cbuf, ubuf = b"", b""
        try:
            while True:
                req, cbuf = self._read_message(c, cbuf)
                if req is None:
                    return
                up.sendall(req[0] + b"\r\n\r\n" + req[1])
                ans, ubuf = self._read_message(up, ubuf)
                if ans is None:
                    return
                c.sendall(self._alter(req, ans))
        except OSError:
            pass
        finally:
            c.close()
            up.close()

    def _alter(self, req, ans):
        line = req[0].split(b"\r\n", 1)[0].decode()
        method, target = line.split()[0], line.split()[1]
        head, body = ans
        whole = head + b"\r\n\r\n" + body
        if not head.startswith(b"HTTP/1.1 200"):
            return whole
        tagged = b"x-yc-answer-nonce" in head.lower()
        payload, tag = (body[:-16], body[-16:]) if tagged else (body, b"")
        with self.lock:
            if self.mode == "shard" and method == "GET" and "/shards/" in target and "off=" in target and payload:
                payload = bytearray(payload)
                payload[len(payload) // 2] ^= 0x20
                self.tampered += 1
                return head + b"\r\n\r\n" + bytes(payload) + tag
            if self.mode == "record" and target.endswith("/records/get") and payload[:1] == b"\xb1":
                self.tampered += 1
                return head + b"\r\n\r\n" + forge_record(payload) + tag
            if self.mode in ("save", "replay") and target.endswith(RECORD_READS):
                ref = (target, req[1])
                if self.mode == "save":
                    self.saved[ref] = whole
                elif ref in self.saved:
                    self.tampered += 1
                    return self.saved[ref]
        return whole

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def proxied_cluster():
    """A cluster as conftest's (3 daemons x 2 drives, EC 4+2: every daemon holds two shards of
    every object), with the gateway reaching daemon 0 through a Proxy; one for the module, as
    each test uses buckets of its own and leaves the proxy passing everything on."""
    box = {}

    def before(cl):
        d0 = cl.daemons[0]
        box["proxy"] = Proxy((d0.host, d0.port))
        specs = cl.drives_list

        def drives_list():
            return [s.replace(d0.address, "127.0.0.1:%d" % box["proxy"].port) for s in specs()]
        cl.drives_list = drives_list

    cl = yc.Cluster(before_start=before)
    try:
        cl.start()
    except yc.ClusterError as e:
        cl.close()
        pytest.fail(str(e), pytrace=False)
    yield cl, box["proxy"]
    box["proxy"].close()
    cl.close()


@pytest.fixture
def proxied(proxied_cluster, request):
    cl, proxy = proxied_cluster
    proxy.mode = None
    proxy.tampered = 0
    yield cl, proxy
    proxy.mode = None
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        sys.stderr.write("\n---- logs of the cluster under %s ----\n%s\n" % (cl.root, cl.logs_tail()))


def refusals(cl):
    """The gateway's log lines of refused answers so far, in a fresh second: it logs at most 10
    a second per daemon, and the tests share one cluster."""
    time.sleep(1.1)
    return cl.gateway_log().count("event=answer_forged")


def wait_refused(cl, before):
    deadline = time.monotonic() + 5
    while cl.gateway_log().count("event=answer_forged") <= before and time.monotonic() < deadline:
        time.sleep(0.1)
    return cl.gateway_log().count("event=answer_forged") > before


def test_flipped_shard_bytes_never_reach_a_client(proxied):
    cl, proxy = proxied
    s3 = cl.client()
    bucket = yc.unique_bucket_name()
    s3.create_bucket(Bucket=bucket)
    objects = {"k%d" % i: os.urandom(600 * 1024 + i) for i in range(6)}  # above the inline size: shard files
    for k, v in objects.items():
        s3.put_object(Bucket=bucket, Key=k, Body=v)
    before = refusals(cl)
    proxy.mode = "shard"
    for k, v in objects.items():
        got = s3.get_object(Bucket=bucket, Key=k)["Body"].read()
        assert hashlib.sha256(got).hexdigest() == hashlib.sha256(v).hexdigest(), k
    proxy.mode = None
    assert proxy.tampered > 0  # node 0's shards were among those read, and altered
    assert wait_refused(cl, before)


def test_forged_record_is_never_believed(proxied):
    cl, proxy = proxied
    s3 = cl.client()
    bucket = yc.unique_bucket_name()
    s3.create_bucket(Bucket=bucket)
    for i in range(4):
        s3.put_object(Bucket=bucket, Key="r%d" % i, Body=b"small %d" % i, Metadata={"note": "genuine-%d" % i})
    before = refusals(cl)
    proxy.mode = "record"
    for i in range(4):
        h = s3.head_object(Bucket=bucket, Key="r%d" % i)
        assert h["Metadata"]["note"] == "genuine-%d" % i
        assert s3.get_object(Bucket=bucket, Key="r%d" % i)["Body"].read() == b"small %d" % i
    proxy.mode = None
    assert proxy.tampered > 0
    assert wait_refused(cl, before)


def test_old_answer_played_back_is_refused(proxied):
    cl, proxy = proxied
    s3 = cl.client()
    bucket = yc.unique_bucket_name()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"first", Metadata={"note": "genuine-1"})
    proxy.mode = "save"  # node 0's answers about version 1 are kept
    assert s3.head_object(Bucket=bucket, Key="k")["Metadata"]["note"] == "genuine-1"
    proxy.mode = None
    assert proxy.saved
    s3.put_object(Bucket=bucket, Key="k", Body=b"second", Metadata={"note": "genuine-2"})
    before = refusals(cl)
    proxy.mode = "replay"  # ... and given back in place of its fresh answers
    assert s3.head_object(Bucket=bucket, Key="k")["Metadata"]["note"] == "genuine-2"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"second"
    proxy.mode = None
    assert proxy.tampered > 0
    assert wait_refused(cl, before)
