"""Object and bucket basics as S3 answers them, where clients send what the common paths do not:
listing encodings and tokens, bucket-name edges, odd Expect values, SigV2 dates, and a body
shorter than the bytes sent. One test per behaviour, through boto3 or hand-made requests.
"""
import socket
import urllib.error
import urllib.request

import botocore
import pytest
from botocore.exceptions import ClientError

import yc_raw
from conftest import make_client, unique_bucket_name


def put_keys(s3, bucket, keys):
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=k.encode())


def error_of(call, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        call(*args, **kwargs)
    return e.value.response["ResponseMetadata"]["HTTPStatusCode"], e.value.response["Error"]["Code"]


def with_headers(client, operation, headers):
    """The client adds headers (before signing) to every call of operation."""
    client.meta.events.register("before-call.s3." + operation,
                                lambda **kw: kw["params"]["headers"].update(headers))
    return client


# ---------------------------------------------------------------- listing

ENCODED = ["foo+1/bar", "foo/bar/xyzzy", "quux ab/thud", "asdf+b"]


def test_list_v1_url_encoding_sends_space_as_percent_20(s3, bucket):
    put_keys(s3, bucket, ENCODED)
    r = s3.list_objects(Bucket=bucket, Delimiter="/", EncodingType="url")
    assert [o["Key"] for o in r["Contents"]] == ["asdf%2Bb"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["foo%2B1/", "foo/", "quux%20ab/"]


def test_list_v2_url_encoding_sends_space_as_percent_20(s3, bucket):
    put_keys(s3, bucket, ENCODED)
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="/", EncodingType="url")
    assert r["Delimiter"] == "/"
    assert [o["Key"] for o in r["Contents"]] == ["asdf%2Bb"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["foo%2B1/", "foo/", "quux%20ab/"]


def test_list_with_sdk_decoding_gives_keys_with_spaces_and_plus_back(s3, bucket):
    # boto3 asks for encoding-type=url on its own and decodes the answer
    put_keys(s3, bucket, ENCODED)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == sorted(ENCODED)
    r = s3.list_objects(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["foo+1/", "foo/", "quux ab/"]


def test_list_v1_echoes_prefix_unencoded_under_url_encoding(gateway, s3, bucket):
    put_keys(s3, bucket, ["a b/c"])
    r = yc_raw.request(gateway, "GET", "/" + bucket, "encoding-type=url&prefix=a%20b%2F")
    assert r.status == 200
    text = r.body.decode()
    assert "<Prefix>a b/</Prefix>" in text and "<Key>a%20b/c</Key>" in text
    # v2 encodes it, and boto3 decodes it there
    r = yc_raw.request(gateway, "GET", "/" + bucket, "encoding-type=url&list-type=2&prefix=a%20b%2F")
    assert "<Prefix>a%20b/</Prefix>" in r.body.decode()


def test_list_v1_with_newline_prefix_through_boto3(s3, bucket):
    put_keys(s3, bucket, ["foo/bar", "quux"])
    r = s3.list_objects(Bucket=bucket, Prefix="\x0a")
    assert r["Prefix"] == "\x0a" and "Contents" not in r


def test_list_v2_empty_continuation_token_lists_from_the_start(s3, bucket):
    keys = ["bar", "baz", "foo", "quxx"]
    put_keys(s3, bucket, keys)
    r = s3.list_objects_v2(Bucket=bucket, ContinuationToken="")
    assert r["ContinuationToken"] == ""
    assert r["IsTruncated"] is False
    assert [o["Key"] for o in r["Contents"]] == keys


def test_list_v2_continuation_token_with_start_after_is_echoed(s3, bucket):
    put_keys(s3, bucket, ["bar", "baz", "foo", "quxx"])
    token = s3.list_objects_v2(Bucket=bucket, StartAfter="bar", MaxKeys=1)["NextContinuationToken"]
    r = s3.list_objects_v2(Bucket=bucket, StartAfter="bar", ContinuationToken=token)
    assert r["ContinuationToken"] == token and r["StartAfter"] == "bar"
    assert [o["Key"] for o in r["Contents"]] == ["foo", "quxx"]


def test_list_versions_paged_after_common_prefixes(s3, bucket):
    # the merge shared by both listings: current keys and versions agree on the same bucket
    put_keys(s3, bucket, ["a/1", "a/2", "b", "c/1", "d"])
    v1 = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    vs = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [o["Key"] for o in v1["Contents"]] == [v["Key"] for v in vs["Versions"]] == ["b", "d"]
    assert [p["Prefix"] for p in v1["CommonPrefixes"]] == [p["Prefix"] for p in vs["CommonPrefixes"]] == ["a/", "c/"]


# ---------------------------------------------------------------- bucket names

@pytest.mark.parametrize("name", ["foo.-bar", "foo-.bar"])
def test_create_bucket_with_dash_next_to_dot_is_invalid(s3, name):
    assert error_of(s3.create_bucket, Bucket=name + "-" + unique_bucket_name("x")[-6:]) == (400, "InvalidBucketName")


# ---------------------------------------------------------------- Expect

@pytest.mark.parametrize("expect", ["", "200"])
def test_put_object_with_other_expect_value_succeeds(gateway, s3, bucket, expect):
    r = yc_raw.request(gateway, "PUT", "/%s/foo" % bucket, headers={"Expect": expect}, body=b"bar")
    assert r.status == 200
    assert s3.get_object(Bucket=bucket, Key="foo")["Body"].read() == b"bar"


def test_create_bucket_with_empty_expect_succeeds(gateway, s3):
    name = unique_bucket_name()
    with_headers(gateway.client(), "CreateBucket", {"Expect": ""}).create_bucket(Bucket=name)
    try:
        assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    finally:
        s3.delete_bucket(Bucket=name)


# ---------------------------------------------------------------- SigV2 dates and short bodies

def v2_client(gateway, **config):
    return make_client(gateway.endpoint, gateway.access_key, gateway.secret_key, signature_version="s3", **config)


def test_sigv2_date_before_1970_is_access_denied(gateway, bucket):
    client = with_headers(v2_client(gateway), "PutObject", {"x-amz-date": "Tue, 07 Jul 1950 21:53:04 GMT"})
    assert error_of(client.put_object, Bucket=bucket, Key="foo", Body=b"bar") == (403, "AccessDenied")


def test_sigv2_date_in_the_past_is_too_skewed(gateway, bucket):
    client = with_headers(v2_client(gateway), "PutObject", {"x-amz-date": "Tue, 07 Jul 2010 21:53:04 GMT"})
    assert error_of(client.put_object, Bucket=bucket, Key="foo", Body=b"bar") == (403, "RequestTimeTooSkewed")


def test_content_length_shorter_than_body_is_bad_digest_after_retries(gateway, bucket):
    # the SDK retries a BadDigest: each attempt must meet a clean connection, not the bytes the
    # previous one sent past its Content-Length
    client = with_headers(v2_client(gateway, retries={"max_attempts": 3, "mode": "legacy"}), "PutObject",
                          {"Content-Length": "2"})
    assert error_of(client.put_object, Bucket=bucket, Key="foo", Body=b"bar") == (400, "BadDigest")


def test_bad_digest_answer_closes_the_connection(gateway, bucket):
    req = yc_raw.sign(gateway, "PUT", "/%s/foo" % bucket, headers={"Content-MD5": yc_raw.md5_b64(b"bar")},
                      payload_hash=yc_raw.UNSIGNED_PAYLOAD)
    head = "PUT /%s/foo HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (bucket, gateway.port)
    for k, v in req.headers.items():
        head += "%s: %s\r\n" % (k, v.decode() if isinstance(v, bytes) else v)
    head += "Content-Length: 2\r\n\r\n"
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as s:
        s.sendall(head.encode() + b"bar")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break  # closed by the server after its answer
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 400 Bad Request"
    assert b"<Code>BadDigest</Code>" in rest
    assert b"connection: close" in rest.lower()
    assert rest.count(b"HTTP/1.1") == 0  # the stray byte was not served as a request


# ---------------------------------------------------------------- presigned lifetimes

def test_presigned_url_valid_past_a_week_is_refused_with_403(s3, bucket):
    s3.put_object(Bucket=bucket, Key="foo", Body=b"bar")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "foo"}, ExpiresIn=609901)
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(url, timeout=30)
    assert e.value.code == 403
    assert b"<Code>AuthorizationQueryParametersError</Code>" in e.value.read()
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "foo"}, ExpiresIn=604800)
    assert urllib.request.urlopen(url, timeout=30).read() == b"bar"


# ---------------------------------------------------------------- anonymous reads of what is not there

@pytest.fixture
def unsigned(gateway):
    return make_client(gateway.endpoint, "x", "y", signature_version=botocore.UNSIGNED)


def acl_bucket(s3, acl):
    name = unique_bucket_name()
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    s3.delete_public_access_block(Bucket=name)
    s3.put_bucket_acl(Bucket=name, ACL=acl)
    return name


def test_anonymous_get_of_missing_key_is_404_when_the_bucket_is_public_read(s3, unsigned):
    name = acl_bucket(s3, "public-read")
    try:
        s3.put_object(Bucket=name, Key="foo", Body=b"bar", ACL="public-read")
        assert unsigned.get_object(Bucket=name, Key="foo")["Body"].read() == b"bar"
        s3.delete_object(Bucket=name, Key="foo")
        # the caller may list the bucket: it learns the key is not there
        assert error_of(unsigned.get_object, Bucket=name, Key="foo") == (404, "NoSuchKey")
    finally:
        s3.delete_bucket(Bucket=name)


def test_anonymous_get_of_missing_key_is_403_when_the_bucket_is_private(s3, unsigned):
    name = acl_bucket(s3, "private")
    try:
        assert error_of(unsigned.get_object, Bucket=name, Key="foo") == (403, "AccessDenied")
    finally:
        s3.delete_bucket(Bucket=name)


# ---------------------------------------------------------------- DeleteObjects integrity

DELETE_BODY = b"<Delete><Object><Key>gone</Key></Object></Delete>"


def test_delete_objects_without_md5_or_checksum_is_refused(gateway, s3, bucket):
    s3.put_object(Bucket=bucket, Key="gone", Body=b"x")
    r = yc_raw.request(gateway, "POST", "/" + bucket, "delete", body=DELETE_BODY)
    assert r.status == 400 and r.error()["Code"] == "InvalidRequest"
    assert s3.head_object(Bucket=bucket, Key="gone")["ContentLength"] == 1  # nothing deleted


def test_delete_objects_with_crc32_instead_of_md5(gateway, s3, bucket):
    s3.put_object(Bucket=bucket, Key="gone", Body=b"x")
    r = yc_raw.request(gateway, "POST", "/" + bucket, "delete", body=DELETE_BODY,
                       headers={"x-amz-checksum-crc32": yc_raw.crc32_b64(DELETE_BODY)})
    assert r.status == 200 and b"<Deleted><Key>gone</Key></Deleted>" in r.body
    assert error_of(s3.head_object, Bucket=bucket, Key="gone")[0] == 404


def test_delete_objects_with_wrong_md5_is_bad_digest(gateway, s3, bucket):
    s3.put_object(Bucket=bucket, Key="gone", Body=b"x")
    r = yc_raw.request(gateway, "POST", "/" + bucket, "delete", body=DELETE_BODY,
                       headers={"Content-MD5": yc_raw.md5_b64(b"other")})
    assert r.status == 400 and r.error()["Code"] == "BadDigest"
    assert s3.head_object(Bucket=bucket, Key="gone")["ContentLength"] == 1


def test_anonymous_get_with_response_overrides_is_invalid_request(s3, unsigned):
    name = acl_bucket(s3, "public-read")
    try:
        s3.put_object(Bucket=name, Key="foo", Body=b"bar", ACL="public-read")
        assert error_of(unsigned.get_object, Bucket=name, Key="foo", ResponseContentType="a/b") == \
            (400, "InvalidRequest")
        # signed, the same override is honoured; anonymous without one is served
        assert s3.get_object(Bucket=name, Key="foo", ResponseContentType="a/b")["ContentType"] == "a/b"
        assert unsigned.get_object(Bucket=name, Key="foo")["Body"].read() == b"bar"
    finally:
        s3.delete_object(Bucket=name, Key="foo")
        s3.delete_bucket(Bucket=name)


def presigned_url(gateway, path, expires):
    """A SigV4 query-signed GET URL with any X-Amz-Expires, 0 and negative ones included (the SDK's
    own presigner refuses those before sending)."""
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    req = AWSRequest(method="GET", url=gateway.endpoint + path)
    botocore.auth.S3SigV4QueryAuth(Credentials(gateway.access_key, gateway.secret_key), "s3", "us-east-1",
                                   expires=expires).add_auth(req)
    return req.url


@pytest.mark.parametrize("expires, code", [(0, "AccessDenied"), (-7, "AuthorizationQueryParametersError"),
                                           (-1000, "AuthorizationQueryParametersError")])
def test_presigned_url_expiring_now_or_in_the_past_is_403(gateway, s3, bucket, expires, code):
    s3.put_object(Bucket=bucket, Key="foo", Body=b"bar")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(presigned_url(gateway, "/%s/foo" % bucket, expires), timeout=30)
    assert e.value.code == 403
    assert ("<Code>%s</Code>" % code).encode() in e.value.read()
    assert urllib.request.urlopen(presigned_url(gateway, "/%s/foo" % bucket, 60), timeout=30).read() == b"bar"


# ---------------------------------------------------------------- Authorization oddities

def test_empty_authorization_is_an_anonymous_request(gateway, bucket):
    r = yc_raw.anonymous(gateway, "PUT", "/%s/foo" % bucket, headers={"Authorization": "", "Content-Length": "3"},
                         body=b"bar")
    assert r.status == 403 and r.error()["Code"] == "AccessDenied"
    r = yc_raw.anonymous(gateway, "PUT", "/" + unique_bucket_name(), headers={"Authorization": ""})
    assert r.status == 403 and r.error()["Code"] == "AccessDenied"


def test_sigv2_authorization_without_key_and_signature_is_invalid_argument(gateway, bucket):
    r = yc_raw.anonymous(gateway, "PUT", "/%s/foo" % bucket, headers={"Authorization": "AWS HAHAHA"}, body=b"")
    assert r.status == 400
    err = r.error()
    assert err["Code"] == "InvalidArgument" and err["ArgumentName"] == "Authorization"
    assert err["Message"] == "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature"


def test_unknown_authorization_scheme_is_unsupported(gateway, bucket):
    r = yc_raw.anonymous(gateway, "GET", "/" + bucket, headers={"Authorization": "Bearer abc"})
    assert r.status == 400
    err = r.error()
    assert (err["Code"], err["Message"], err["ArgumentValue"]) == ("InvalidArgument", "Unsupported Authorization Type",
                                                                   "Bearer abc")


# ---------------------------------------------------------------- request ids

def test_error_carries_request_id_and_host_id_in_headers_and_body(gateway, s3, bucket):
    r = yc_raw.request(gateway, "GET", "/%s/missing" % bucket)
    assert r.status == 404
    err = r.error()
    assert err["RequestId"] == r.headers["x-amz-request-id"]
    assert err["HostId"] == r.headers["x-amz-id-2"] and len(err["HostId"]) > 16
    # every answer has both; boto3 reports the second as HostId
    meta = s3.head_bucket(Bucket=bucket)["ResponseMetadata"]
    assert meta["RequestId"] and meta["HostId"] and meta["HostId"] != err["HostId"]
