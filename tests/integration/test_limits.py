"""Limits as S3 has them: a SigV4 credential scope must name the endpoint's region
(AuthorizationHeaderMalformed / AuthorizationQueryParametersError naming the expected one),
presigned URLs live at most 7 days in both signature versions (SigV2's absolute Expires included;
lower with presign_max_expires), one PUT or part is at most 5 GiB and so is a copy source
(max_object_size), refused from the head before any body byte is sent.
"""
import http.client
import time
import urllib.request
import urllib.error
import xml.etree.ElementTree as ET

import botocore.exceptions
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
import pytest

import yc_raw
from conftest import make_client

GiB = 1024 ** 3
MiB = 1024 ** 2


def error_of(fn, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(*args, **kwargs)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]


def fetch(url, method="GET", data=None):
    """(status, body) of a plain HTTP request (a presigned URL needs no SDK)."""
    req = urllib.request.Request(url, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def error_doc(body):
    root = ET.fromstring(body)
    return {c.tag: c.text or "" for c in root}


# ---------------------------------------------------------------- the region of a SigV4 scope

def signed_for_region(gateway, method, path, region):
    """A SigV4 header request whose credential scope names region."""
    req = AWSRequest(method=method, url=gateway.endpoint + path, data=b"")
    req.headers["X-Amz-Content-SHA256"] = yc_raw.EMPTY_SHA256
    yc_raw._S3PathSigner(Credentials(gateway.access_key, gateway.secret_key), "s3", region).add_auth(req)
    return yc_raw.send(gateway, req)


def test_header_signed_for_another_region(gateway, s3, bucket):
    r = signed_for_region(gateway, "GET", "/" + bucket, "eu-west-1")
    err = r.error()
    assert (r.status, err["Code"]) == (400, "AuthorizationHeaderMalformed")
    assert err["Message"] == ("The authorization header is malformed; the region 'eu-west-1' is wrong; "
                              "expecting 'us-east-1'")
    assert err["Region"] == "us-east-1" and err["RequestId"]
    assert signed_for_region(gateway, "GET", "/" + bucket, "us-east-1").status == 200
    # boto3 reads <Region> and signs again for it, as it does against S3: the SDK recovers
    other = make_client(gateway.endpoint, gateway.access_key, gateway.secret_key, region_name="eu-west-1")
    sent = []
    other.meta.events.register("before-send.s3", lambda request, **kw: sent.append(request.headers["Authorization"]))
    other.list_objects_v2(Bucket=bucket)
    assert len(sent) == 2 and b"/eu-west-1/" in sent[0] and b"/us-east-1/" in sent[1]


def test_presigned_for_another_region(gateway, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    other = make_client(gateway.endpoint, gateway.access_key, gateway.secret_key, region_name="ap-south-1")
    status, body = fetch(other.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}))
    doc = error_doc(body)
    assert status == 400 and doc["Code"] == "AuthorizationQueryParametersError"
    assert "the region 'ap-south-1' is wrong; expecting 'us-east-1'" in doc["Message"] and doc["Region"] == "us-east-1"
    # the right region works
    assert fetch(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})) == (200, b"v")


# ---------------------------------------------------------------- presigned lifetimes

def sigv2_client(gateway):
    return make_client(gateway.endpoint, gateway.access_key, gateway.secret_key, signature_version="s3")


def test_sigv2_presigned_url_capped_at_a_week(gateway, s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v2")
    c = sigv2_client(gateway)
    url = c.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=6 * 86400)
    assert fetch(url) == (200, b"v2")
    # a URL that expires in 2100, as anyone could make before the cap
    far = int(time.mktime((2100, 1, 1, 0, 0, 0, 0, 0, 0))) - int(time.time())
    for expires_in in (8 * 86400, far):
        url = c.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=expires_in)
        assert "Expires=" in url and "Signature=" in url  # SigV2 indeed
        status, body = fetch(url)
        assert status == 403 and error_doc(body)["Code"] == "AuthorizationQueryParametersError", body


def test_sigv4_presigned_url_over_a_week_is_refused(gateway, bucket):
    r = yc_raw.anonymous(gateway, "GET", "/%s/k" % bucket,
                         "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s%%2F20250101%%2Fus-east-1%%2Fs3%%2F"
                         "aws4_request&X-Amz-Date=20250101T000000Z&X-Amz-Expires=604801&X-Amz-SignedHeaders=host&"
                         "X-Amz-Signature=%s" % (gateway.access_key, "0" * 64))
    assert r.status == 403 and r.error()["Code"] == "AuthorizationQueryParametersError"
    assert r.error()["Message"] == ("X-Amz-Expires must be less than a week (in seconds); that is, the given "
                                    "X-Amz-Expires must be less than 604800 seconds")


@pytest.fixture(scope="module")
def short_presign_gateway(gateway_factory):
    gw = gateway_factory()
    gw.extra_args = ["--presign-max-expires", "60", "--max-object-size", "6M"]
    return gw.restart()


def test_presign_max_expires_is_configurable(short_presign_gateway):
    gw = short_presign_gateway
    s3 = gw.client()
    s3.create_bucket(Bucket="short")
    s3.put_object(Bucket="short", Key="k", Body=b"x")
    ok = s3.generate_presigned_url("get_object", Params={"Bucket": "short", "Key": "k"}, ExpiresIn=30)
    assert fetch(ok) == (200, b"x")
    status, body = fetch(s3.generate_presigned_url("get_object", Params={"Bucket": "short", "Key": "k"},
                                                   ExpiresIn=120))
    assert status == 403 and error_doc(body)["Code"] == "AuthorizationQueryParametersError"
    assert "60" in error_doc(body)["Message"]
    v2 = sigv2_client(gw)
    assert fetch(v2.generate_presigned_url("get_object", Params={"Bucket": "short", "Key": "k"}, ExpiresIn=30)) == \
        (200, b"x")
    status, body = fetch(v2.generate_presigned_url("get_object", Params={"Bucket": "short", "Key": "k"},
                                                   ExpiresIn=120))
    assert status == 403 and error_doc(body)["Code"] == "AuthorizationQueryParametersError"


# ---------------------------------------------------------------- sizes

def head_only(gateway, method, path, query, length):
    """Sends a signed head announcing length bytes (Expect: 100-continue) and no body; the answer."""
    req = yc_raw.sign(gateway, method, path, query, {"Expect": "100-continue", "Content-Length": str(length)},
                      payload_hash="UNSIGNED-PAYLOAD")
    conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=30)
    try:
        conn.putrequest(method, path + ("?" + query if query else ""), skip_accept_encoding=True)
        for k, v in req.headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_put_over_5_gib_is_refused_from_the_head(gateway, s3, bucket):
    status, body = head_only(gateway, "PUT", "/%s/huge" % bucket, "", 5 * GiB + 1)
    assert status == 400 and error_doc(body)["Code"] == "EntityTooLarge"
    assert error_of(s3.head_object, Bucket=bucket, Key="huge")[0] == 404


def test_part_over_5_gib_is_refused_from_the_head(gateway, s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    status, body = head_only(gateway, "PUT", "/%s/mp" % bucket, "partNumber=1&uploadId=" + up, 5 * GiB + 1)
    assert status == 400 and error_doc(body)["Code"] == "EntityTooLarge"
    assert s3.list_parts(Bucket=bucket, Key="mp", UploadId=up).get("Parts", []) == []
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=up)


def test_part_number_over_10000_is_refused(s3, bucket):
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    status, code, _ = error_of(s3.upload_part, Bucket=bucket, Key="mp", UploadId=up, PartNumber=10001, Body=b"x")
    assert (status, code) == (400, "InvalidArgument")
    s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=10000, Body=b"x")
    s3.abort_multipart_upload(Bucket=bucket, Key="mp", UploadId=up)


def test_copy_source_over_the_limit(short_presign_gateway):
    """max_object_size 6M here: a 7 MiB object (made of two parts) cannot be one copy."""
    s3 = short_presign_gateway.client()
    s3.create_bucket(Bucket="copies")
    up = s3.create_multipart_upload(Bucket="copies", Key="big")["UploadId"]
    parts = []
    for n, size in ((1, 5 * MiB), (2, 2 * MiB)):
        parts.append({"PartNumber": n, "ETag": s3.upload_part(Bucket="copies", Key="big", UploadId=up, PartNumber=n,
                                                              Body=b"b" * size)["ETag"]})
    s3.complete_multipart_upload(Bucket="copies", Key="big", UploadId=up, MultipartUpload={"Parts": parts})
    # one request over the limit: PUT
    status, code, _ = error_of(s3.put_object, Bucket="copies", Key="p", Body=b"x" * (6 * MiB + 1))
    assert (status, code) == (400, "EntityTooLarge")
    status, code, err = error_of(s3.copy_object, Bucket="copies", Key="c", CopySource={"Bucket": "copies", "Key": "big"})
    assert (status, code) == (400, "InvalidRequest")
    assert err["Message"] == ("The specified copy source is larger than the maximum allowable size for a copy "
                              "source: %d" % (6 * MiB))
    up = s3.create_multipart_upload(Bucket="copies", Key="c")["UploadId"]
    status, code, _ = error_of(s3.upload_part_copy, Bucket="copies", Key="c", UploadId=up, PartNumber=1,
                               CopySource={"Bucket": "copies", "Key": "big"})
    assert (status, code) == (400, "InvalidRequest")
    # a range within the limit copies
    r = s3.upload_part_copy(Bucket="copies", Key="c", UploadId=up, PartNumber=1,
                            CopySource={"Bucket": "copies", "Key": "big"}, CopySourceRange="bytes=0-%d" % (MiB - 1))
    assert r["CopyPartResult"]["ETag"]
    s3.abort_multipart_upload(Bucket="copies", Key="c", UploadId=up)
