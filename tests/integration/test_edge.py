"""The request edge of the gateway: headers that change what an operation means are implemented or
refused with S3's error (and nothing is written), CreateBucket of an owned bucket,
response splitting through presigned overrides, the HTTP layer's timeouts (head, body, send,
keep-alive) that replaced h2o's whole-request timeout, admission control while a GET streams, and the access log. Every expectation is what Amazon S3 answers, or what
docs/s3-compat.md says the gateway refuses.
"""
import hashlib
import json
import http.client
import re
import socket
import time
import urllib.parse
import xml.etree.ElementTree as ET

import botocore.exceptions
import pytest

import yc_raw
from conftest import REGION, make_client, unique_bucket_name

KiB = 1024
MiB = 1024 * KiB


# ---------------------------------------------------------------- helpers

def error_of(call, *args, **kwargs):
    """Runs a boto3 call that must fail; returns (status, code, error dict, response metadata)."""
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        call(*args, **kwargs)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Code"), r["Error"], r


def assert_refused(status, code, call, *args, **kwargs):
    got = error_of(call, *args, **kwargs)
    assert (got[0], got[1]) == (status, code), got[2]
    return got[2]


def assert_absent(s3, bucket, key):
    got = error_of(s3.head_object, Bucket=bucket, Key=key)
    assert got[0] == 404, "the refused request wrote %s/%s" % (bucket, key)


def raw(gateway, method, bucket, key="", query="", headers=None, body=b""):
    path = "/" + bucket + ("/" + yc_raw.quote_key(key) if key else "")
    return yc_raw.request(gateway, method, path, query, headers=headers, body=body)


def header_element(r):
    """The <Header> element of a NotImplemented error document."""
    return ET.fromstring(r.body).findtext("Header")


# ---------------------------------------------------------------- item 2: conditional writes
# PutObject, CopyObject, CompleteMultipartUpload and DeleteObject honour theirs
# (test_conditional_writes.py, which also covers CreateMultipartUpload's, ignored as S3 does).

def test_copy_source_conditions_still_work(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="src", Body=b"src")["ETag"]
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"}, CopySourceIfMatch=etag)
    assert_refused(412, "PreconditionFailed", s3.copy_object, Bucket=bucket, Key="dst2",
                   CopySource={"Bucket": bucket, "Key": "src"}, CopySourceIfNoneMatch=etag)


# ---------------------------------------------------------------- item 3: headers that change meaning

@pytest.mark.parametrize("acl", ["private", "bucket-owner-full-control"])
def test_acl_that_changes_nothing_is_accepted(s3, bucket, acl):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", ACL=acl)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"


@pytest.mark.parametrize("acl", ["public-read", "public-read-write", "authenticated-read"])
def test_acl_that_grants_access_is_refused_while_acls_are_off(s3, bucket, acl):
    # a new bucket is BucketOwnerEnforced: ACLs are disabled (test_acl.py covers them enabled)
    assert_refused(400, "AccessControlListNotSupported", s3.put_object, Bucket=bucket, Key="k", Body=b"x", ACL=acl)
    assert_absent(s3, bucket, "k")


def test_acl_unknown_value_is_invalid_argument(gateway, s3, bucket):
    r = raw(gateway, "PUT", bucket, "k", headers={"x-amz-acl": "everyone-please"}, body=b"x")
    assert r.status == 400 and r.error()["Code"] == "InvalidArgument"
    assert r.error()["ArgumentName"] == "x-amz-acl"
    assert_absent(s3, bucket, "k")


def test_grants_on_put_are_refused_while_acls_are_off(s3, bucket):
    assert_refused(400, "AccessControlListNotSupported", s3.put_object, Bucket=bucket, Key="k", Body=b"x",
                   GrantRead='uri="http://acs.amazonaws.com/groups/global/AllUsers"')
    assert_absent(s3, bucket, "k")


def test_create_bucket_acl_and_grants(s3):
    name = unique_bucket_name()
    assert_refused(400, "InvalidBucketAclWithObjectOwnership", s3.create_bucket, Bucket=name, ACL="public-read")
    assert_refused(400, "InvalidArgument", s3.create_bucket, Bucket=name, GrantFullControl='id="someone"')
    assert error_of(s3.head_bucket, Bucket=name)[0] == 404
    s3.create_bucket(Bucket=name, ACL="private")
    s3.delete_bucket(Bucket=name)


def test_create_bucket_object_ownership(s3):
    for setting in ("ObjectWriter", "BucketOwnerPreferred", "BucketOwnerEnforced"):
        name = unique_bucket_name()
        s3.create_bucket(Bucket=name, ObjectOwnership=setting)
        rules = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
        assert rules == [{"ObjectOwnership": setting}]
        s3.delete_bucket(Bucket=name)


def test_create_bucket_object_ownership_unknown_is_invalid_argument(gateway):
    name = unique_bucket_name()
    r = yc_raw.request(gateway, "PUT", "/" + name, headers={"x-amz-object-ownership": "Nobody"})
    assert r.status == 400 and r.error()["Code"] == "InvalidArgument"


@pytest.mark.parametrize("method", ["aws:kms:dsse"])
def test_server_side_encryption_is_refused_and_nothing_stored(gateway, s3, bucket, method):
    r = raw(gateway, "PUT", bucket, "k", headers={"x-amz-server-side-encryption": method}, body=b"secret")
    assert r.status == 501 and r.error()["Code"] == "NotImplemented"
    assert header_element(r) == "x-amz-server-side-encryption"
    assert_absent(s3, bucket, "k")


def test_server_side_encryption_through_boto3_is_refused(s3, bucket):
    assert_refused(501, "NotImplemented", s3.put_object, Bucket=bucket, Key="k", Body=b"x",
                   ServerSideEncryption="aws:kms:dsse")
    assert_refused(501, "NotImplemented", s3.create_multipart_upload, Bucket=bucket, Key="k",
                   ServerSideEncryption="aws:kms:dsse", SSEKMSKeyId="mine")
    assert_absent(s3, bucket, "k")


def test_server_side_encryption_unknown_method_is_invalid_argument(gateway, s3, bucket):
    r = raw(gateway, "PUT", bucket, "k", headers={"x-amz-server-side-encryption": "rot13"}, body=b"x")
    assert r.status == 400 and r.error()["Code"] == "InvalidArgument"
    assert r.error()["Message"] == "The encryption method specified is not supported"
    assert r.error()["ArgumentName"] == "x-amz-server-side-encryption"
    assert_absent(s3, bucket, "k")


def test_server_side_encryption_on_get_is_not_supported_for_the_operation(gateway, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    r = raw(gateway, "GET", bucket, "k", headers={"x-amz-server-side-encryption": "AES256"})
    assert r.status == 400 and r.error()["Code"] == "InvalidArgument"
    assert r.error()["Message"] == "x-amz-server-side-encryption header is not supported for this operation."


@pytest.mark.parametrize("header", ["x-amz-server-side-encryption-context",
                                    "x-amz-server-side-encryption-bucket-key-enabled"])
def test_kms_headers_are_refused(gateway, s3, bucket, header):
    r = raw(gateway, "PUT", bucket, "k", headers={header: "x"}, body=b"x")
    assert r.status == 501 and header_element(r) == header
    assert_absent(s3, bucket, "k")


def test_customer_keys_over_plain_http_are_refused_on_put_get_and_copy(s3, bucket):
    # as S3: an SSE-C key travels over TLS only (sse_c_plain_http allows it on a trusted network;
    # test_sse.py covers SSE-C itself)
    key = b"k" * 32
    assert_refused(400, "InvalidRequest", s3.put_object, Bucket=bucket, Key="k", Body=b"x",
                   SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert_absent(s3, bucket, "k")
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert_refused(400, "InvalidRequest", s3.get_object, Bucket=bucket, Key="plain",
                   SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert_refused(400, "InvalidRequest", s3.copy_object, Bucket=bucket, Key="c",
                   CopySource={"Bucket": bucket, "Key": "plain"}, CopySourceSSECustomerAlgorithm="AES256",
                   CopySourceSSECustomerKey=key)
    assert_absent(s3, bucket, "c")


def test_storage_class_standard_is_accepted_and_not_returned(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x", StorageClass="STANDARD")
    head = s3.head_object(Bucket=bucket, Key="k")
    assert "x-amz-storage-class" not in head["ResponseMetadata"]["HTTPHeaders"]
    assert s3.list_objects_v2(Bucket=bucket)["Contents"][0]["StorageClass"] == "STANDARD"


@pytest.mark.parametrize("cls", ["GLACIER", "STANDARD_IA", "DEEP_ARCHIVE", "INTELLIGENT_TIERING"])
def test_storage_class_other_is_refused(s3, bucket, cls):
    err = assert_refused(501, "NotImplemented", s3.put_object, Bucket=bucket, Key="k", Body=b"x", StorageClass=cls)
    assert err["Header"] == "x-amz-storage-class"
    assert_absent(s3, bucket, "k")


def test_storage_class_unknown_is_invalid_storage_class(gateway, s3, bucket):
    r = raw(gateway, "PUT", bucket, "k", headers={"x-amz-storage-class": "CHEAPEST"}, body=b"x")
    assert r.status == 400 and r.error()["Code"] == "InvalidStorageClass"
    assert r.error()["StorageClassRequested"] == "CHEAPEST"
    assert_absent(s3, bucket, "k")


def test_object_lock_headers_need_a_lock_configuration(s3, bucket):
    until = "2099-01-01T00:00:00Z"
    err = assert_refused(400, "InvalidRequest", s3.put_object, Bucket=bucket, Key="k", Body=b"x",
                         ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until)
    assert err["Message"] == "Bucket is missing ObjectLockConfiguration"
    assert_refused(400, "InvalidRequest", s3.put_object, Bucket=bucket, Key="k", Body=b"x",
                   ObjectLockLegalHoldStatus="ON")
    assert_absent(s3, bucket, "k")


def test_website_redirect_is_refused(s3, bucket):
    err = assert_refused(501, "NotImplemented", s3.put_object, Bucket=bucket, Key="k", Body=b"x",
                         WebsiteRedirectLocation="/elsewhere")
    assert err["Header"] == "x-amz-website-redirect-location"
    assert_absent(s3, bucket, "k")


def test_request_payer_is_accepted_without_a_charge(s3, bucket):
    r = s3.put_object(Bucket=bucket, Key="k", Body=b"x", RequestPayer="requester")
    assert "x-amz-request-charged" not in r["ResponseMetadata"]["HTTPHeaders"]
    g = s3.get_object(Bucket=bucket, Key="k", RequestPayer="requester")
    assert g["Body"].read() == b"x"
    assert "x-amz-request-charged" not in g["ResponseMetadata"]["HTTPHeaders"]


def test_expected_bucket_owner_is_refused(s3, bucket):
    err = assert_refused(501, "NotImplemented", s3.put_object, Bucket=bucket, Key="k", Body=b"x",
                         ExpectedBucketOwner="111122223333")
    assert err["Header"] == "x-amz-expected-bucket-owner"
    assert_absent(s3, bucket, "k")
    assert_refused(501, "NotImplemented", s3.list_objects_v2, Bucket=bucket, ExpectedBucketOwner="111122223333")


def test_write_offset_is_refused(gateway, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"old")
    r = raw(gateway, "PUT", bucket, "k", headers={"x-amz-write-offset-bytes": "3"}, body=b"new")
    assert r.status == 501 and header_element(r) == "x-amz-write-offset-bytes"
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"old"


# ---------------------------------------------------------------- item 7: CreateBucket of an owned bucket

def test_create_owned_bucket_outside_us_east_1_is_409(gateway_factory):
    gw = gateway_factory()
    gw.extra_args = ["--region", "eu-west-1"]
    gw.restart()
    c = make_client(gw.endpoint, gw.access_key, gw.secret_key, region_name="eu-west-1")
    name = unique_bucket_name()
    conf = {"LocationConstraint": "eu-west-1"}
    c.create_bucket(Bucket=name, CreateBucketConfiguration=conf)
    assert_refused(409, "BucketAlreadyOwnedByYou", c.create_bucket, Bucket=name, CreateBucketConfiguration=conf)
    c.delete_bucket(Bucket=name)


def test_create_bucket_owned_by_another_user_is_409(gateway, s3, bucket, admin_available):
    ak, sk = "YCEDGE" + hashlib.sha1(bucket.encode()).hexdigest()[:10].upper(), "secret-" + bucket
    gateway.admin("user", "add", "edge-" + bucket[-6:], ak, sk, "--create-buckets")
    other = gateway.client(ak, sk)
    assert_refused(409, "BucketAlreadyExists", other.create_bucket, Bucket=bucket)


# POST Object (browser form uploads) is implemented: tests/integration/test_post_object.py


# ---------------------------------------------------------------- item 11: response splitting

OVERRIDES = {"ResponseContentType": "content-type", "ResponseContentDisposition": "content-disposition",
             "ResponseContentLanguage": "content-language", "ResponseExpires": "expires",
             "ResponseCacheControl": "cache-control", "ResponseContentEncoding": "content-encoding"}


def fetch(gateway, url, method="GET"):
    split = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=30)
    try:
        conn.request(method, split.path + "?" + split.query)
        resp = conn.getresponse()
        return yc_raw.Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


@pytest.mark.parametrize("param", sorted(OVERRIDES.values()))
def test_override_with_crlf_is_refused(gateway, s3, bucket, param):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    query = "response-%s=%s" % (param, urllib.parse.quote("text/plain\r\nSet-Cookie: evil=1", safe=""))
    r = raw(gateway, "GET", bucket, "k", query=query)
    assert r.status == 400 and r.error()["Code"] == "InvalidArgument"
    assert "set-cookie" not in r.headers
    assert r.error()["ArgumentName"] == "response-" + param


@pytest.mark.parametrize("param", sorted(p for p in OVERRIDES if p != "ResponseExpires"))
def test_presigned_override_with_crlf_is_refused(gateway, s3, bucket, param):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k",
                                                          param: "text/plain\r\nSet-Cookie: evil=1"})
    r = fetch(gateway, url)
    assert r.status == 400 and r.error()["Code"] == "InvalidArgument"
    assert "set-cookie" not in r.headers


def test_presigned_override_ending_the_headers_early_is_refused(gateway, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k",
                                                          "ResponseContentType": "text/html\r\n\r\n<script>1</script>"})
    r = fetch(gateway, url)
    assert r.status == 400 and b"<script>" not in r.body
    query = "response-content-type=" + urllib.parse.quote("text/html\r\n\r\n<script>1</script>", safe="")
    assert raw(gateway, "HEAD", bucket, "k", query=query).status == 400


def test_presigned_override_with_other_control_characters_is_refused(gateway, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    for bad in ("a\tb", "a\x00b", "a\x7fb", "a\nb"):
        url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k",
                                                              "ResponseContentDisposition": bad})
        assert fetch(gateway, url).status == 400, repr(bad)


def test_presigned_override_plain_value_still_applies(gateway, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={
        "Bucket": bucket, "Key": "k", "ResponseContentDisposition": 'attachment; filename="r\u00e9sum\u00e9.txt"'})
    r = fetch(gateway, url)
    assert r.status == 200 and r.body == b"x"
    assert r.headers["content-disposition"].encode("latin-1").decode("utf-8") == \
        'attachment; filename="r\u00e9sum\u00e9.txt"'


def test_stored_header_with_control_character_is_refused(gateway, s3, bucket):
    # h2o's HTTP/1 parser lets a tab through, and the value would come back on every GET; sent on
    # a presigned URL, where only the host is signed, so the signature has no say
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k"})
    split = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=30)
    try:
        conn.request("PUT", split.path + "?" + split.query, body=b"x", headers={"x-amz-meta-note": "a\tb"})
        resp = conn.getresponse()
        r = yc_raw.Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()
    assert r.status == 400 and r.error()["Code"] == "InvalidArgument"
    assert r.error()["ArgumentName"] == "x-amz-meta-note"
    assert_absent(s3, bucket, "k")


# ---------------------------------------------------------------- item 10: progress, not whole-request time

PROGRESS_TIMEOUT = 3


@pytest.fixture(scope="module")
def slow_gateway(gateway_factory):
    """A gateway whose connections may go PROGRESS_TIMEOUT seconds without a byte: for the head of
    a request, for a body, for an answer taken, between requests."""
    gw = gateway_factory()
    t = str(PROGRESS_TIMEOUT)
    gw.extra_args = ["--head-timeout", t, "--body-timeout", t, "--send-timeout", t, "--keepalive-timeout", t]
    gw.restart()
    c = gw.client()
    c.create_bucket(Bucket="slow")
    return gw


def signed_head(gateway, method, path, body_len, payload_hash, extra=None):
    """The request line and headers of a signed request, as bytes."""
    headers = {"Content-Length": str(body_len)}
    headers.update(extra or {})
    req = yc_raw.sign(gateway, method, path, headers=headers, body=b"", payload_hash=payload_hash)
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1:%d" % gateway.port]
    lines += ["%s: %s" % (k, v) for k, v in req.headers.items() if k.lower() != "host"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_response(sock):
    """Reads one HTTP response (status, headers, body) from sock."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response headers: %r" % buf[:200])
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
    n = int(headers.get("content-length", "0"))
    while len(body) < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def test_slow_steady_upload_longer_than_ten_seconds_completes(slow_gateway):
    data = bytes(range(256)) * (15 * 1024)  # 3.75 MiB at 256 KiB/s: 15 s
    head = signed_head(slow_gateway, "PUT", "/slow/steady", len(data), hashlib.sha256(data).hexdigest())
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", slow_gateway.port), timeout=60) as s:
        s.sendall(head)
        piece = 16 * KiB
        for i in range(0, len(data), piece):
            s.sendall(data[i:i + piece])
            deadline = start + (i + piece) / (256.0 * KiB)
            time.sleep(max(0.0, deadline - time.monotonic()))
        status, _, body = read_response(s)
    assert time.monotonic() - start > 14
    assert status == 200, body
    got = slow_gateway.client().get_object(Bucket="slow", Key="steady")["Body"].read()
    assert hashlib.sha256(got).digest() == hashlib.sha256(data).digest()


def test_upload_that_stalls_half_way_is_closed_with_request_timeout(slow_gateway):
    data = b"s" * (1 * MiB)
    head = signed_head(slow_gateway, "PUT", "/slow/stalled", len(data), hashlib.sha256(data).hexdigest())
    with socket.create_connection(("127.0.0.1", slow_gateway.port), timeout=60) as s:
        s.sendall(head + data[:len(data) // 2])
        start = time.monotonic()
        status, headers, body = read_response(s)
        assert s.recv(1) == b""  # and closed
        waited = time.monotonic() - start
    assert PROGRESS_TIMEOUT - 0.5 < waited < PROGRESS_TIMEOUT + 2
    assert status == 400
    assert ET.fromstring(body).findtext("Code") == "RequestTimeout"
    request_id = headers.get("x-amz-request-id")
    assert request_id and ET.fromstring(body).findtext("RequestId") == request_id
    assert error_of(slow_gateway.client().head_object, Bucket="slow", Key="stalled")[0] == 404
    f = access_line(slow_gateway, request_id)
    assert (f["op"], f["status"], f["error"]) == ("PutObject", "400", "RequestTimeout")
    assert int(f["bytes_in"]) == len(data) // 2


def test_idle_keep_alive_connection_is_closed_after_the_timeout(slow_gateway):
    head = signed_head(slow_gateway, "GET", "/slow", 0, yc_raw.EMPTY_SHA256)
    with socket.create_connection(("127.0.0.1", slow_gateway.port), timeout=60) as s:
        s.sendall(head)
        status, headers, _ = read_response(s)
        assert status == 200 and headers.get("connection", "keep-alive") == "keep-alive"  # 1.1: implicit
        start = time.monotonic()
        assert s.recv(1) == b""
        waited = time.monotonic() - start
    assert PROGRESS_TIMEOUT - 0.5 < waited < PROGRESS_TIMEOUT + 2


def test_connection_that_sends_nothing_is_closed_after_the_timeout(slow_gateway):
    with socket.create_connection(("127.0.0.1", slow_gateway.port), timeout=60) as s:
        start = time.monotonic()
        assert s.recv(1) == b""
        waited = time.monotonic() - start
    assert PROGRESS_TIMEOUT - 0.5 < waited < PROGRESS_TIMEOUT + 2


def test_slow_reader_is_not_cut_while_bytes_flow(slow_gateway):
    data = hashlib.sha256(b"seed").digest() * (3 * MiB // 32)  # 3 MiB at ~256 KiB/s: 12 s
    slow_gateway.client().put_object(Bucket="slow", Key="big", Body=data)
    head = signed_head(slow_gateway, "GET", "/slow/big", 0, yc_raw.EMPTY_SHA256)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * KiB)  # before connect: small window
    s.settimeout(60)
    s.connect(("127.0.0.1", slow_gateway.port))
    try:
        s.sendall(head)
        got = b""
        start = time.monotonic()
        while b"\r\n\r\n" not in got:
            got += s.recv(4096)
        head_bytes, body = got.split(b"\r\n\r\n", 1)
        assert head_bytes.startswith(b"HTTP/1.1 200")
        while len(body) < len(data):
            chunk = s.recv(8 * KiB)
            assert chunk, "connection cut after %d of %d bytes (%.1f s)" % (len(body), len(data),
                                                                            time.monotonic() - start)
            body += chunk
            time.sleep(len(chunk) / (256.0 * KiB))
        assert time.monotonic() - start > 2 * PROGRESS_TIMEOUT
        assert body == data
    finally:
        s.close()


def test_reader_that_stops_reading_is_closed(slow_gateway):
    data = b"r" * (8 * MiB)
    slow_gateway.client().put_object(Bucket="slow", Key="unread", Body=data)
    head = signed_head(slow_gateway, "GET", "/slow/unread", 0, yc_raw.EMPTY_SHA256)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * KiB)
    s.settimeout(60)
    s.connect(("127.0.0.1", slow_gateway.port))
    try:
        s.sendall(head)
        s.recv(4096)
        time.sleep(PROGRESS_TIMEOUT + 2.5)  # read nothing more: the server must give up
        total, start = 0, time.monotonic()
        while True:
            try:
                chunk = s.recv(1 * MiB)
            except ConnectionResetError:
                break
            if not chunk:
                break
            total += len(chunk)
        assert total < len(data)
        assert time.monotonic() - start < 10
    finally:
        s.close()


# ---------------------------------------------------------------- admission while a GET streams

@pytest.fixture(scope="module")
def single_gateway(gateway_factory):
    """A gateway that admits one request at a time (max_inflight 1)."""
    gw = gateway_factory()
    gw.extra_args = ["--max-inflight", "1"]
    gw.restart()
    gw.client().create_bucket(Bucket="single")
    return gw


def start_unread_get(gateway, path):
    """Sends a GET on a connection with a small receive window and reads only the head; returns
    the socket and the body bytes that came with the head. A 503 SlowDown is tried again for a
    moment: the request before may still hold its place for the instant between the last byte
    of its answer and the end of its bookkeeping on its loop."""
    deadline = time.monotonic() + 5
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * KiB)  # before connect: small window
        s.settimeout(30)
        s.connect(("127.0.0.1", gateway.port))
        s.sendall(signed_head(gateway, "GET", path, 0, yc_raw.EMPTY_SHA256))
        got = b""
        while b"\r\n\r\n" not in got:
            got += s.recv(4096)
        head, body = got.split(b"\r\n\r\n", 1)
        if head.startswith(b"HTTP/1.1 503") and time.monotonic() < deadline:
            n = int(re.search(rb"content-length: *(\d+)", head, re.I).group(1))
            while len(body) < n:
                body += s.recv(4096)
            s.close()
            assert b"<Code>SlowDown</Code>" in body, body
            time.sleep(0.05)
            continue
        assert head.startswith(b"HTTP/1.1 200"), head[:200]
        return s, body


def admitted_within(gateway, seconds):
    """Sends ListObjects until one is admitted (not 503 SlowDown); True when that happened in time."""
    deadline = time.monotonic() + seconds
    while True:
        r = yc_raw.request(gateway, "GET", "/single")
        if r.status == 200:
            return True
        assert (r.status, r.error()["Code"]) == (503, "SlowDown")
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


def test_streamed_get_counts_in_flight_until_its_body_is_taken(single_gateway):
    # a body of several chunks streams from buffers of the request's own: while the client has
    # not taken it, the request holds its place, and gives it back once the last byte went
    data = hashlib.sha256(b"inflight").digest() * (12 * MiB // 32)
    single_gateway.client().put_object(Bucket="single", Key="big", Body=data)
    s, body = start_unread_get(single_gateway, "/single/big")
    try:
        time.sleep(0.5)
        r = yc_raw.request(single_gateway, "GET", "/single")
        assert (r.status, r.error()["Code"]) == (503, "SlowDown")
        while len(body) < len(data):
            chunk = s.recv(1 * MiB)
            assert chunk, "connection cut after %d of %d bytes" % (len(body), len(data))
            body += chunk
        assert body == data
    finally:
        s.close()
    assert admitted_within(single_gateway, 5)


def test_get_whose_client_left_mid_body_gives_back_its_place(single_gateway):
    # the client resets the connection while chunks are being read ahead: every time, the
    # request's place in flight comes back (a read still in flight gives it back when it ends)
    data = b"L" * (12 * MiB)
    single_gateway.client().put_object(Bucket="single", Key="left", Body=data)
    for _ in range(5):
        s, _ = start_unread_get(single_gateway, "/single/left")
        s.recv(64 * KiB)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()  # reset, mid-body
        assert admitted_within(single_gateway, 5)
    # and a body of one chunk, sent whole, still comes back right
    small = b"s" * (1 * MiB + 17)
    single_gateway.client().put_object(Bucket="single", Key="small", Body=small)
    assert single_gateway.client().get_object(Bucket="single", Key="small")["Body"].read() == small
    assert admitted_within(single_gateway, 5)


# ---------------------------------------------------------------- item 14: access log

def access_line(gateway, request_id, timeout=5.0):
    """The fields of the JSON access-log line of request_id (waiting for it a little), as strings
    the way the tests compare them: "-" for null, numbers as text."""
    deadline = time.monotonic() + timeout
    while True:
        for line in gateway.stderr_text().splitlines():
            if line.startswith("{") and '"request_id":"%s"' % request_id in line:
                d = json.loads(line)
                f = {k: ("-" if v is None else str(v)) for k, v in d.items()}
                f["op"] = f["operation"]
                return f
        if time.monotonic() > deadline:
            raise AssertionError("no access-log line for request %s" % request_id)
        time.sleep(0.1)


def test_access_log_line_for_a_put(gateway, s3, bucket):
    r = s3.put_object(Bucket=bucket, Key="dir/file.txt", Body=b"12345")
    f = access_line(gateway, r["ResponseMetadata"]["RequestId"])
    assert f["op"] == "PutObject"
    assert f["access_key"] == gateway.access_key
    assert f["bucket"] == bucket and f["key"] == "dir/file.txt"
    assert f["status"] == "200"
    assert f["bytes_in"] == "5"
    assert re.fullmatch(r"127\.0\.0\.1:\d+", f["client"])
    assert float(f["duration_ms"]) >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", f["time"])
    assert gateway.secret_key not in gateway.stderr_text()


def test_access_log_line_for_a_streamed_get_and_a_head(gateway, s3, bucket):
    data = b"g" * (5 * MiB)
    s3.put_object(Bucket=bucket, Key="big", Body=data)
    g = s3.get_object(Bucket=bucket, Key="big")
    assert g["Body"].read() == data
    f = access_line(gateway, g["ResponseMetadata"]["RequestId"])
    assert (f["op"], f["status"], f["bytes_out"]) == ("GetObject", "200", str(len(data)))
    h = s3.head_object(Bucket=bucket, Key="big")
    f = access_line(gateway, h["ResponseMetadata"]["RequestId"])
    assert (f["op"], f["status"], f["bytes_out"]) == ("HeadObject", "200", "0")


def test_access_log_line_for_errors_answered_on_the_loop(gateway, bucket):
    bad = make_client(gateway.endpoint, "NOSUCHKEY0000", "nosuchsecret")
    _, code, _, r = error_of(bad.list_objects_v2, Bucket=bucket)
    assert code == "InvalidAccessKeyId"
    f = access_line(gateway, r["ResponseMetadata"]["RequestId"])
    assert (f["op"], f["status"], f["access_key"], f["bucket"]) == ("ListObjectsV2", "403", "-", bucket)
    assert f["error"] == "InvalidAccessKeyId"
    r = yc_raw.anonymous(gateway, "PUT", "/" + bucket + "/k", body=b"x")
    f = access_line(gateway, r.headers["x-amz-request-id"])
    assert (f["op"], f["status"]) == ("PutObject", "403")


def test_access_log_line_for_a_client_that_went_away(gateway, s3, bucket):
    data = b"w" * (16 * MiB)
    s3.put_object(Bucket=bucket, Key="gone", Body=data)
    head = signed_head(gateway, "GET", "/%s/gone" % bucket, 0, yc_raw.EMPTY_SHA256)
    s = socket.create_connection(("127.0.0.1", gateway.port), timeout=30)
    s.sendall(head)
    got = b""
    while b"\r\n\r\n" not in got:
        got += s.recv(4096)
    request_id = re.search(rb"x-amz-request-id: ([0-9A-F]+)", got, re.I).group(1).decode()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()  # reset, mid-body
    f = access_line(gateway, request_id)
    assert (f["op"], f["status"]) == ("GetObject", "200")
    assert int(f["bytes_out"]) <= len(data)


def test_access_log_escapes_a_hostile_key(gateway, s3, bucket):
    key = 'a b"c\nd=1 status=999 key=evil\\ \u4e91\u4ed3\t\r'
    r = s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    f = access_line(gateway, r["ResponseMetadata"]["RequestId"])
    assert f["key"] == key
    assert f["status"] == "200"
    lines = [l for l in gateway.stderr_text().splitlines() if r["ResponseMetadata"]["RequestId"] in l]
    assert len(lines) == 1
    for line in gateway.stderr_text().splitlines():
        # a log line, or an access-log line that is one JSON object
        assert line.startswith("time=") or isinstance(json.loads(line), dict), \
            "a logged value broke a line: %r" % line[:120]


def test_access_log_is_written_without_verbose(gateway, s3, bucket):
    # the shared gateway runs without --verbose
    assert "--verbose" not in gateway.extra_args
    r = s3.list_objects_v2(Bucket=bucket)
    assert access_line(gateway, r["ResponseMetadata"]["RequestId"])["op"] == "ListObjectsV2"
