"""Hand-made S3 requests for what boto3 does not send on its own: aws-chunked bodies (signed
chunks, unsigned payload with trailers), skewed clocks, payload hashes that do not match.

Headers are signed with botocore's SigV4Auth; the chunk signatures of
STREAMING-AWS4-HMAC-SHA256-PAYLOAD are computed here from the seed signature, as the SigV4
streaming specification describes.
"""
import base64
import contextlib
import datetime
import hashlib
import hmac
import http.client
import types
import unittest.mock
import urllib.parse
import xml.etree.ElementTree as ET
import zlib

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

REGION = "us-east-1"
SERVICE = "s3"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


class _S3PathSigner(botocore.auth.SigV4Auth):
    """SigV4 as S3 wants it: the path is signed as sent, without dot-segment or '//' folding."""

    def _normalize_url_path(self, path):
        return path


@contextlib.contextmanager
def _clock_offset(offset):
    if not offset:
        yield
        return

    class Skewed(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return datetime.datetime.utcnow() + offset

    with unittest.mock.patch.object(botocore.auth, "datetime", types.SimpleNamespace(datetime=Skewed)):
        yield


def quote_key(key):
    return urllib.parse.quote(key, safe="/~")


def sign(gateway, method, path, query="", headers=None, body=b"", payload_hash=None, clock_offset=None,
         access_key=None, secret_key=None):
    """Returns an AWSRequest with SigV4 headers for gateway; path is already URI-encoded.

    payload_hash is the x-amz-content-sha256 value to sign (default: the SHA-256 of body).
    """
    url = gateway.endpoint + path + ("?" + query if query else "")
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    req.headers["X-Amz-Content-SHA256"] = payload_hash or hashlib.sha256(body).hexdigest()
    creds = Credentials(access_key or gateway.access_key, secret_key or gateway.secret_key)
    with _clock_offset(clock_offset):
        _S3PathSigner(creds, SERVICE, REGION).add_auth(req)
    return req


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lowercase names
        self.body = body

    def error(self):
        """The fields of an S3 error document (Code, Message, RequestId, ...) as a dict."""
        root = ET.fromstring(self.body)
        assert root.tag == "Error", self.body[:300]
        return {child.tag: (child.text or "") for child in root}


def send(gateway, req, body=None):
    """Sends req (from sign) over a fresh connection; body overrides the signed body."""
    split = urllib.parse.urlsplit(req.url)
    target = split.path + ("?" + split.query if split.query else "")
    conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=120)
    try:
        data = req.body if body is None else body
        headers = {k: v for k, v in req.headers.items()}
        if "Content-Length" not in headers:
            headers["Content-Length"] = str(len(data or b""))
        conn.request(req.method, target, body=data, headers=headers)
        resp = conn.getresponse()
        payload = resp.read()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload)
    finally:
        conn.close()


def request(gateway, method, path, query="", headers=None, body=b"", **kw):
    return send(gateway, sign(gateway, method, path, query, headers, body, **kw))


def anonymous(gateway, method, path, query="", headers=None, body=b""):
    conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=60)
    try:
        conn.request(method, path + ("?" + query if query else ""), body=body, headers=headers or {})
        resp = conn.getresponse()
        payload = resp.read()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload)
    finally:
        conn.close()


def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_key, date):
    k = _hmac(("AWS4" + secret_key).encode("utf-8"), date)
    k = _hmac(k, REGION)
    k = _hmac(k, SERVICE)
    return _hmac(k, "aws4_request")


def seed_signature(req):
    auth = req.headers["Authorization"]
    return auth.rsplit("Signature=", 1)[1].strip()


def chunk_sizes(total, chunk):
    sizes = []
    while total > 0:
        sizes.append(min(chunk, total))
        total -= sizes[-1]
    return sizes


def signed_chunked_length(sizes):
    """Content-Length of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body with these chunk sizes."""
    n = 0
    for s in sizes + [0]:
        n += len("%x" % s) + len(";chunk-signature=") + 64 + 2 + s + 2
    return n


def signed_chunked_body(data, chunk, req, secret_key):
    """Encodes data as aws-chunked with a signature per chunk chained from req's seed signature."""
    amz_date = req.headers["X-Amz-Date"]
    scope = "%s/%s/%s/aws4_request" % (amz_date[:8], REGION, SERVICE)
    key = signing_key(secret_key, amz_date[:8])
    prev = seed_signature(req)
    out = []
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] + [b""]
    for piece in pieces:
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, EMPTY_SHA256,
                         hashlib.sha256(piece).hexdigest()])
        sig = hmac.new(key, sts.encode("utf-8"), hashlib.sha256).hexdigest()
        out.append(b"%x;chunk-signature=%s\r\n" % (len(piece), sig.encode()) + piece + b"\r\n")
        prev = sig
    return b"".join(out)


def unsigned_trailer_body(data, chunk, trailer_name, trailer_value):
    out = []
    for i in range(0, len(data), chunk):
        piece = data[i:i + chunk]
        out.append(b"%x\r\n" % len(piece) + piece + b"\r\n")
    out.append(b"0\r\n")
    out.append(("%s:%s\r\n" % (trailer_name, trailer_value)).encode())
    out.append(b"\r\n")
    return b"".join(out)


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def sha256_b64(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def md5_b64(data):
    return base64.b64encode(hashlib.md5(data).digest()).decode()
