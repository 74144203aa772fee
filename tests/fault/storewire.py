"""yc-store's wire format spoken by hand (store/client_net.c), apart from the C client: a request's
signature, bound to a drive's id or not, and an answer's tag (store/net_mac.c), checked here with
Python's own HMAC and the cryptography package's Poly1305.
"""
import hashlib
import hmac
import os
import secrets
import socket
import time

try:  # python3-cryptography, which awscli (of `make deps`) depends on
    from cryptography.hazmat.primitives.poly1305 import Poly1305

    def poly1305(key, msg):
        return Poly1305.generate_tag(key, msg)
except ImportError:
    def poly1305(key, msg):
        """RFC 8439's Poly1305 in Python's integers: slow (seconds for a 64 MiB answer), exact."""
        r = int.from_bytes(key[:16], "little") & 0x0ffffffc0ffffffc0ffffffc0fffffff
        p, acc = (1 << 130) - 5, 0
        for i in range(0, len(msg), 16):
            acc = (acc + int.from_bytes(msg[i:i + 16] + b"\x01", "little")) * r % p
        return ((acc + int.from_bytes(key[16:], "little")) & ((1 << 128) - 1)).to_bytes(16, "little")

TAG_LEN = 16
MiB = 1024 * 1024


class WireError(Exception):
    pass


def drive_id(drive_dir):
    """The drive id a drive's identity file holds (a daemon must have prepared the folder)."""
    with open(os.path.join(drive_dir, "identity")) as f:
        for line in f:
            if line.startswith("drive_id:"):
                return line.split(":", 1)[1].strip()
    raise WireError("no drive_id in %s/identity" % drive_dir)


def sign(secret, method, target, date, nonce, body_sha, bound=None):
    parts = [method, target, date, nonce, body_sha] + ([bound] if bound else [])
    return hmac.new(secret.encode(), "\n".join(parts).encode(), hashlib.sha256).hexdigest()


def head(method, target, length, body_sha, secret, bound=None, extra="", date=None, nonce=None):
    """(request head bytes, its signature). bound: the drive id to bind it to, or None."""
    date = date or str(int(time.time()))
    nonce = nonce or secrets.token_hex(16)
    sig = sign(secret, method, target, date, nonce, body_sha, bound)
    drive = "x-yc-drive-id: %s\r\n" % bound if bound else ""
    text = ("%s %s HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\nx-yc-date: %s\r\nx-yc-nonce: %s\r\n"
            "x-yc-content-sha256: %s\r\nx-yc-signature: %s\r\n%s%s\r\n"
            % (method, target, length, date, nonce, body_sha, sig, drive, extra))
    return text.encode(), sig


def read_raw(sock, timeout=10):
    """(status, headers dict, body as sent, tag included) of one answer on sock."""
    sock.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        got = sock.recv(65536)
        if not got:
            raise ConnectionError("closed before an answer: %r" % buf)
        buf += got
    h, rest = buf.split(b"\r\n\r\n", 1)
    lines = h.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()
    length = int(headers.get("content-length", "0"))
    rest = bytearray(rest)  # appended in place: a bytes += would copy the whole answer each time
    while len(rest) < length:
        got = sock.recv(min(4 * MiB, length - len(rest)))
        if not got:
            raise ConnectionError("answer cut at %d of %d bytes" % (len(rest), length))
        rest += got
    return status, headers, bytes(rest)


def answer_tag(secret, req_sig, nonce_hex, status, code, payload):
    master = hmac.new(secret.encode(), b"yc-store answer key 1", hashlib.sha256).digest()
    key = hmac.new(master, req_sig.encode() + bytes.fromhex(nonce_hex), hashlib.sha256).digest()
    msg = (status.to_bytes(4, "little") + (code & 0xffffffff).to_bytes(4, "little") +
           len(payload).to_bytes(8, "little") + payload)
    return poly1305(key, msg)


def check(secret, req_sig, status, headers, raw):
    """The payload of an answer whose tag checks against req_sig; WireError otherwise."""
    nonce = headers.get("x-yc-answer-nonce")
    if nonce is None or len(raw) < TAG_LEN:
        raise WireError("answer without a tag: %d %r" % (status, headers))
    payload, tag = raw[:-TAG_LEN], raw[-TAG_LEN:]
    code = int(headers.get("x-yc-error", "0"))
    if not hmac.compare_digest(answer_tag(secret, req_sig, nonce, status, code, payload), tag):
        raise WireError("answer's tag does not check")
    return payload


def connect(host, port):
    s = socket.create_connection((host, port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def call(host, port, secret, method, target, body=b"", bound=None, nonce=None):
    """(status, headers, payload) of one request on a fresh connection, the answer's tag checked."""
    h, sig = head(method, target, len(body), hashlib.sha256(body).hexdigest(), secret, bound, nonce=nonce)
    with connect(host, port) as s:
        s.sendall(h + body)
        status, headers, raw = read_raw(s)
    return status, headers, check(secret, sig, status, headers, raw)
