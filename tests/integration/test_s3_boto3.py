"""S3 behaviour of yc-gateway seen through boto3 (and hand-made requests where boto3 cannot send
what is tested). One test per behaviour; every expectation is what Amazon S3 answers.
"""
import concurrent.futures
import subprocess
import datetime
import email.utils
import gzip
import hashlib
import io
import os
import time
import urllib.error
import urllib.parse
import urllib.request
import re

import boto3.s3.transfer
import botocore
import pytest
from botocore.exceptions import ClientError

import yc_raw
from conftest import ADMIN_BIN, empty_and_delete_bucket, make_client, random_keys, unique_bucket_name

KiB = 1024
MiB = 1024 * KiB


# ---------------------------------------------------------------- helpers

def md5_hex(data):
    return hashlib.md5(data).hexdigest()


def quoted_etag(data):
    return '"%s"' % md5_hex(data)


def client_error(call, *args, **kwargs):
    """Runs call, which must fail; returns (HTTP status, error code, whole response)."""
    with pytest.raises(ClientError) as ei:
        call(*args, **kwargs)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Code"), r


def assert_error(status, code, call, *args, **kwargs):
    got_status, got_code, r = client_error(call, *args, **kwargs)
    assert (got_status, got_code) == (status, code), r.get("Error")
    return r


def put(s3, bucket, key, data, **kw):
    return s3.put_object(Bucket=bucket, Key=key, Body=data, **kw)


def get_bytes(s3, bucket, key, **kw):
    r = s3.get_object(Bucket=bucket, Key=key, **kw)
    return r["Body"].read(), r


def headers_of(r):
    return r["ResponseMetadata"]["HTTPHeaders"]


def pattern(size, seed=0):
    """Deterministic bytes that differ at every offset of a stripe, cheaper than urandom."""
    block = hashlib.sha256(b"%d" % seed).digest() * 2048  # 64 KiB
    reps = size // len(block) + 1
    data = bytearray(block * reps)[:size]
    # make every 64 KiB block distinct so a misplaced block is caught
    for i in range(0, size, len(block)):
        data[i:i + 8] = (i // len(block)).to_bytes(8, "big")[: max(0, min(8, size - i))]
    return bytes(data)


def all_keys_v2(s3, bucket, **kw):
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, **kw):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


# ---------------------------------------------------------------- buckets

def test_list_buckets_when_bucket_created(s3, bucket):
    r = s3.list_buckets()
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    names = [b["Name"] for b in r["Buckets"]]
    assert bucket in names
    entry = r["Buckets"][names.index(bucket)]
    assert isinstance(entry["CreationDate"], datetime.datetime)
    assert abs((datetime.datetime.now(datetime.timezone.utc) - entry["CreationDate"]).total_seconds()) < 600
    assert r["Owner"]["ID"]


def test_list_buckets_when_sorted_by_name(s3, bucket_factory):
    made = [bucket_factory(prefix="yc-z"), bucket_factory(prefix="yc-a"), bucket_factory(prefix="yc-m")]
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert names == sorted(names)
    assert set(made) <= set(names)


@pytest.mark.parametrize("name", [
    "ab",                       # shorter than 3
    "a" * 64,                   # longer than 63
    "Upper-case",               # capitals
    "under_score",              # underscore
    "-leading-hyphen",
    "trailing-hyphen-",
    "192.168.10.20",            # formatted as an IP address
    "double..dots",
    ".leading-dot",
    "trailing-dot.",
    "xn--reserved-prefix",
    "sthree-reserved-prefix",
    "reserved-suffix-s3alias",
    "reserved-suffix--ol-s3",
])
def test_create_bucket_when_name_invalid(s3, name):
    assert_error(400, "InvalidBucketName", s3.create_bucket, Bucket=name)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


@pytest.mark.parametrize("length", [3, 63])
def test_create_bucket_when_name_at_length_limit(s3, length):
    name = "y" + os.urandom(1).hex() if length == 3 else unique_bucket_name().ljust(length, "x")
    assert len(name) == length
    s3.create_bucket(Bucket=name)
    try:
        assert s3.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    finally:
        s3.delete_bucket(Bucket=name)


def test_create_bucket_when_location_is_server_region(s3):
    # Amazon's own us-east-1 endpoint refuses an explicit "us-east-1"; self-hosted S3 servers
    # accept the constraint that names their own region, which is what SDK code written for any
    # region sends. The bucket then reports the implied (empty) us-east-1 location.
    name = unique_bucket_name()
    r = s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    try:
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert s3.get_bucket_location(Bucket=name).get("LocationConstraint") in (None, "")
    finally:
        s3.delete_bucket(Bucket=name)


def test_create_bucket_when_location_is_other_region(s3):
    name = unique_bucket_name()
    status, code, _ = client_error(s3.create_bucket, Bucket=name,
                                   CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert status == 400
    assert code in ("InvalidLocationConstraint", "IllegalLocationConstraintException")
    assert_error(404, "404", s3.head_bucket, Bucket=name)


def test_create_bucket_when_already_owned_in_us_east_1(s3, bucket):
    # S3 answers 200 there and changes nothing (409 BucketAlreadyOwnedByYou in other regions: test_edge.py)
    s3.put_object(Bucket=bucket, Key="kept", Body=b"still here")
    r = s3.create_bucket(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r["Location"] == "/" + bucket
    assert s3.get_object(Bucket=bucket, Key="kept")["Body"].read() == b"still here"


def test_create_bucket_when_body_malformed(gateway):
    name = unique_bucket_name()
    r = yc_raw.request(gateway, "PUT", "/" + name, body=b"<CreateBucketConfiguration><oops")
    assert r.status == 400
    assert r.error()["Code"] == "MalformedXML"


def test_head_bucket_when_exists(s3, bucket):
    r = s3.head_bucket(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert headers_of(r).get("x-amz-bucket-region") == "us-east-1"


def test_head_bucket_when_missing(s3):
    assert_error(404, "404", s3.head_bucket, Bucket=unique_bucket_name())


def test_delete_bucket_when_not_empty(s3, bucket):
    put(s3, bucket, "k", b"x")
    r = assert_error(409, "BucketNotEmpty", s3.delete_bucket, Bucket=bucket)
    assert r["Error"].get("BucketName") == bucket
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_delete_bucket_when_missing(s3):
    name = unique_bucket_name()
    r = assert_error(404, "NoSuchBucket", s3.delete_bucket, Bucket=name)
    assert r["Error"].get("BucketName") == name


def test_delete_bucket_when_empty(s3):
    name = unique_bucket_name()
    s3.create_bucket(Bucket=name)
    put(s3, name, "k", b"x")
    s3.delete_object(Bucket=name, Key="k")
    r = s3.delete_bucket(Bucket=name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_error(404, "404", s3.head_bucket, Bucket=name)
    assert name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert_error(404, "NoSuchBucket", s3.list_objects_v2, Bucket=name)


def test_delete_bucket_when_recreated_is_empty(s3):
    name = unique_bucket_name()
    s3.create_bucket(Bucket=name)
    put(s3, name, "k", b"x")
    s3.delete_object(Bucket=name, Key="k")
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    try:
        assert s3.list_objects_v2(Bucket=name)["KeyCount"] == 0
        assert_error(404, "NoSuchKey", s3.get_object, Bucket=name, Key="k")
    finally:
        s3.delete_bucket(Bucket=name)


def test_get_bucket_location_when_default(s3, bucket):
    r = s3.get_bucket_location(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r.get("LocationConstraint") in (None, "")


def test_get_bucket_location_when_missing(s3):
    assert_error(404, "NoSuchBucket", s3.get_bucket_location, Bucket=unique_bucket_name())


def test_get_bucket_versioning_when_never_configured(s3, bucket):
    r = s3.get_bucket_versioning(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Status" not in r and "MFADelete" not in r


def test_object_ops_when_bucket_missing(s3):
    name = unique_bucket_name()
    assert_error(404, "NoSuchBucket", s3.put_object, Bucket=name, Key="k", Body=b"x")
    assert_error(404, "NoSuchBucket", s3.get_object, Bucket=name, Key="k")
    assert_error(404, "NoSuchBucket", s3.list_objects, Bucket=name)


# ---------------------------------------------------------------- objects: bytes

SIZES = [0, 1, 4095, 4096, 128 * KiB - 1, 128 * KiB, 128 * KiB + 1, 1 * MiB + 17, 9 * MiB]


@pytest.mark.parametrize("size", SIZES)
def test_put_get_when_size_varies(s3, bucket, size):
    data = pattern(size, seed=size)
    r = put(s3, bucket, "obj", data)
    assert r["ETag"] == quoted_etag(data)
    body, g = get_bytes(s3, bucket, "obj")
    assert g["ContentLength"] == size
    assert len(body) == size
    assert body == data
    assert g["ETag"] == quoted_etag(data)


def test_head_object_when_stored(s3, bucket):
    data = pattern(300 * KiB, seed=7)
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(seconds=1)
    put(s3, bucket, "h", data)
    after = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=1)
    h = s3.head_object(Bucket=bucket, Key="h")
    assert h["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert h["ContentLength"] == len(data)
    assert h["ETag"] == quoted_etag(data)
    assert before <= h["LastModified"] <= after
    g = s3.get_object(Bucket=bucket, Key="h")
    g["Body"].read()
    assert g["LastModified"] == h["LastModified"]
    assert headers_of(h).get("accept-ranges") == "bytes"


def test_head_object_when_missing(s3, bucket):
    assert_error(404, "404", s3.head_object, Bucket=bucket, Key="nope")


def test_get_object_when_key_missing(s3, bucket):
    r = assert_error(404, "NoSuchKey", s3.get_object, Bucket=bucket, Key="no/such key")
    assert r["Error"].get("Key") == "no/such key"
    assert r["Error"].get("Message")


def test_put_object_when_overwritten(s3, bucket):
    put(s3, bucket, "k", b"first version, longer than the second")
    r = put(s3, bucket, "k", b"second")
    body, g = get_bytes(s3, bucket, "k")
    assert body == b"second"
    assert g["ETag"] == r["ETag"] == quoted_etag(b"second")


def test_put_object_when_overwritten_across_inline_threshold(s3, bucket):
    big = pattern(2 * MiB + 5, seed=3)
    put(s3, bucket, "k", big)
    put(s3, bucket, "k", b"tiny")
    assert get_bytes(s3, bucket, "k")[0] == b"tiny"
    put(s3, bucket, "k", big)
    assert get_bytes(s3, bucket, "k")[0] == big


def test_put_object_when_concurrent_writers_same_key(s3, bucket):
    # the last acknowledged write wins whole: a reader never sees a mix of two bodies
    bodies = [pattern(2 * MiB + i, seed=200 + i) for i in range(6)]
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        etags = list(pool.map(lambda b: put(s3, bucket, "contended", b)["ETag"], bodies))
    assert etags == [quoted_etag(b) for b in bodies]
    body, g = get_bytes(s3, bucket, "contended")
    assert body in bodies
    assert g["ETag"] == quoted_etag(body)
    assert all_keys_v2(s3, bucket) == ["contended"]


def test_get_object_when_many_readers_in_parallel(s3, bucket):
    data = pattern(5 * MiB + 99, seed=210)
    put(s3, bucket, "shared", data)

    def read(i):
        if i % 2:
            lo = i * 100000
            return get_bytes(s3, bucket, "shared", Range="bytes=%d-%d" % (lo, lo + 777777))[0] == data[lo:lo + 777778]
        return get_bytes(s3, bucket, "shared")[0] == data

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        assert all(pool.map(read, range(24)))


def test_delete_object_when_exists(s3, bucket):
    put(s3, bucket, "k", b"x")
    r = s3.delete_object(Bucket=bucket, Key="k")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_error(404, "NoSuchKey", s3.get_object, Bucket=bucket, Key="k")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_delete_object_when_repeated(s3, bucket):
    put(s3, bucket, "k", pattern(3 * MiB, seed=1))
    assert s3.delete_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.delete_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.delete_object(Bucket=bucket, Key="never-was")["ResponseMetadata"]["HTTPStatusCode"] == 204


# ---------------------------------------------------------------- objects: ranges

RANGE_DATA = pattern(1000, seed=11)


@pytest.fixture
def range_obj(s3, bucket):
    put(s3, bucket, "r", RANGE_DATA)
    return bucket


@pytest.mark.parametrize("spec,start,end", [
    ("bytes=10-19", 10, 19),
    ("bytes=0-0", 0, 0),
    ("bytes=999-999", 999, 999),
    ("bytes=5-", 5, 999),
    ("bytes=-10", 990, 999),
    ("bytes=990-5000", 990, 999),
    ("bytes=-5000", 0, 999),
])
def test_get_range_when_satisfiable(s3, range_obj, spec, start, end):
    body, g = get_bytes(s3, range_obj, "r", Range=spec)
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert body == RANGE_DATA[start:end + 1]
    assert g["ContentLength"] == end - start + 1
    assert g["ContentRange"] == "bytes %d-%d/1000" % (start, end)
    assert g["ETag"] == quoted_etag(RANGE_DATA)


@pytest.mark.parametrize("spec", ["bytes=1000-1100", "bytes=5000-"])
def test_get_range_when_unsatisfiable(s3, range_obj, spec):
    assert_error(416, "InvalidRange", s3.get_object, Bucket=range_obj, Key="r", Range=spec)


def test_get_range_when_malformed_is_ignored(s3, range_obj):
    body, g = get_bytes(s3, range_obj, "r", Range="bytes=abc")
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert body == RANGE_DATA


def test_head_range_when_satisfiable(s3, range_obj):
    h = s3.head_object(Bucket=range_obj, Key="r", Range="bytes=100-199")
    assert h["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert h["ContentLength"] == 100
    assert headers_of(h).get("content-range") == "bytes 100-199/1000"


@pytest.mark.parametrize("start,end", [
    (MiB - 5, MiB + 5),                  # across the first stripe boundary
    (3 * MiB, 3 * MiB),                  # first byte of a stripe
    (2 * MiB + 123, 5 * MiB + 77),       # several whole stripes
    (6 * MiB - 1000, 6 * MiB + 99),      # into the short last stripe
])
def test_get_range_when_object_spans_stripes(s3, bucket, start, end):
    data = pattern(6 * MiB + 100, seed=21)
    put(s3, bucket, "big", data)
    body, g = get_bytes(s3, bucket, "big", Range="bytes=%d-%d" % (start, end))
    assert g["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert body == data[start:end + 1]


# ---------------------------------------------------------------- objects: headers and metadata

def _expires():
    return datetime.datetime(2031, 3, 4, 5, 6, 7, tzinfo=datetime.timezone.utc)


def test_put_object_when_standard_headers_given(s3, bucket):
    data = gzip.compress(b"hello " * 100)
    put(s3, bucket, "h", data, ContentType="application/x-yc-test; charset=utf-8", ContentEncoding="gzip",
        ContentDisposition='attachment; filename="a b.txt"', ContentLanguage="zh-CN",
        CacheControl="max-age=3600, private", Expires=_expires())
    for r in (s3.head_object(Bucket=bucket, Key="h"), s3.get_object(Bucket=bucket, Key="h")):
        assert r["ContentType"] == "application/x-yc-test; charset=utf-8"
        assert r["ContentEncoding"] == "gzip"
        assert r["ContentDisposition"] == 'attachment; filename="a b.txt"'
        assert r["ContentLanguage"] == "zh-CN"
        assert r["CacheControl"] == "max-age=3600, private"
        assert email.utils.parsedate_to_datetime(headers_of(r)["expires"]) == _expires()
    assert get_bytes(s3, bucket, "h")[0] == data


def test_put_object_when_no_content_type(gateway, bucket):
    r = yc_raw.request(gateway, "PUT", "/%s/plain" % bucket, body=b"abc")
    assert r.status == 200
    h = yc_raw.request(gateway, "HEAD", "/%s/plain" % bucket)
    assert h.status == 200
    assert h.headers.get("content-type") in ("binary/octet-stream", "application/octet-stream")


def test_put_object_when_user_metadata_given(s3, bucket):
    meta = {"color": "blue", "multi-word-name": "Hello World", "n": "42"}
    put(s3, bucket, "m", b"x", Metadata=meta)
    h = s3.head_object(Bucket=bucket, Key="m")
    assert h["Metadata"] == meta
    g = s3.get_object(Bucket=bucket, Key="m")
    assert g["Metadata"] == meta


def test_put_object_when_metadata_name_mixed_case(s3, bucket):
    put(s3, bucket, "m", b"x", Metadata={"MixedCase": "Value Keeps Case"})
    assert s3.head_object(Bucket=bucket, Key="m")["Metadata"] == {"mixedcase": "Value Keeps Case"}


def test_put_object_when_metadata_too_large(s3, bucket):
    # user metadata is limited to 2 KB (names and values, UTF-8)
    assert_error(400, "MetadataTooLarge", put, s3, bucket, "m", b"x", Metadata={"big": "v" * 2100})


def test_get_object_when_response_overrides_given(s3, bucket):
    put(s3, bucket, "o", b"data", ContentType="text/plain", Metadata={"a": "b"})
    g = s3.get_object(Bucket=bucket, Key="o", ResponseContentType="image/png",
                      ResponseContentDisposition='inline; filename="x.png"', ResponseContentLanguage="fr",
                      ResponseCacheControl="no-store", ResponseContentEncoding="identity",
                      ResponseExpires=_expires())
    assert g["Body"].read() == b"data"
    assert g["ContentType"] == "image/png"
    assert g["ContentDisposition"] == 'inline; filename="x.png"'
    assert g["ContentLanguage"] == "fr"
    assert g["CacheControl"] == "no-store"
    assert g["ContentEncoding"] == "identity"
    assert email.utils.parsedate_to_datetime(headers_of(g)["expires"]) == _expires()
    # the stored value is unchanged
    assert s3.head_object(Bucket=bucket, Key="o")["ContentType"] == "text/plain"


def test_put_object_when_content_md5_correct(s3, bucket):
    data = b"checked body"
    r = put(s3, bucket, "c", data, ContentMD5=yc_raw.md5_b64(data))
    assert r["ETag"] == quoted_etag(data)


def test_put_object_when_content_md5_wrong(s3, bucket):
    assert_error(400, "BadDigest", put, s3, bucket, "c", b"checked body", ContentMD5=yc_raw.md5_b64(b"other"))
    assert_error(404, "NoSuchKey", s3.get_object, Bucket=bucket, Key="c")


def test_put_object_when_content_md5_malformed(s3, bucket):
    assert_error(400, "InvalidDigest", put, s3, bucket, "c", b"body", ContentMD5="not-base64-md5")


def test_put_object_when_checksum_sha256_correct(s3, bucket):
    data = pattern(200 * KiB, seed=5)
    r = put(s3, bucket, "c", data, ChecksumSHA256=yc_raw.sha256_b64(data))
    assert r["ETag"] == quoted_etag(data)
    assert get_bytes(s3, bucket, "c")[0] == data


def test_put_object_when_checksum_sha256_wrong(s3, bucket):
    data = pattern(200 * KiB, seed=5)
    assert_error(400, "BadDigest", put, s3, bucket, "c", data, ChecksumSHA256=yc_raw.sha256_b64(b"other"))
    assert_error(404, "NoSuchKey", s3.get_object, Bucket=bucket, Key="c")


def test_put_object_when_checksum_algorithm_crc32(s3, bucket):
    # botocore of this generation sends the CRC32 as a header over http (a trailer only over https)
    data = pattern(300 * KiB, seed=6)
    r = put(s3, bucket, "crc", data, ChecksumAlgorithm="CRC32")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r.get("ChecksumCRC32") == yc_raw.crc32_b64(data)
    assert get_bytes(s3, bucket, "crc")[0] == data


def test_put_object_when_checksum_crc32_wrong(s3, bucket):
    assert_error(400, "BadDigest", put, s3, bucket, "crc", b"some bytes", ChecksumCRC32=yc_raw.crc32_b64(b"other"))
    assert_error(404, "NoSuchKey", s3.get_object, Bucket=bucket, Key="crc")


def test_put_object_when_payload_hash_mismatch(gateway, bucket, s3):
    req = yc_raw.sign(gateway, "PUT", "/%s/h" % bucket, body=b"signed body")
    r = yc_raw.send(gateway, req, body=b"other body!")
    assert r.status == 400
    assert r.error()["Code"] == "XAmzContentSHA256Mismatch"
    assert_error(404, "NoSuchKey", s3.get_object, Bucket=bucket, Key="h")


# ---------------------------------------------------------------- objects: conditional requests

@pytest.fixture
def cond_obj(s3, bucket):
    put(s3, bucket, "c", b"conditional")
    h = s3.head_object(Bucket=bucket, Key="c")
    return bucket, h["ETag"], h["LastModified"]


def _cond_cases(etag, lm):
    day = datetime.timedelta(days=1)
    return {
        "if_match_same": ({"IfMatch": etag}, 200),
        "if_match_star": ({"IfMatch": "*"}, 200),
        "if_match_other": ({"IfMatch": '"0123456789abcdef0123456789abcdef"'}, 412),
        "if_none_match_same": ({"IfNoneMatch": etag}, 304),
        "if_none_match_star": ({"IfNoneMatch": "*"}, 304),
        "if_none_match_other": ({"IfNoneMatch": '"0123456789abcdef0123456789abcdef"'}, 200),
        "if_modified_since_last_modified": ({"IfModifiedSince": lm}, 304),
        "if_modified_since_before": ({"IfModifiedSince": lm - day}, 200),
        "if_unmodified_since_last_modified": ({"IfUnmodifiedSince": lm}, 200),
        "if_unmodified_since_before": ({"IfUnmodifiedSince": lm - day}, 412),
        # S3: If-Match true and If-Unmodified-Since false -> 200
        "if_match_true_unmodified_false": ({"IfMatch": etag, "IfUnmodifiedSince": lm - day}, 200),
        # S3: If-None-Match false and If-Modified-Since true -> 304
        "if_none_match_false_modified_true": ({"IfNoneMatch": etag, "IfModifiedSince": lm - day}, 304),
        # If-None-Match true takes precedence over a false If-Modified-Since
        "if_none_match_true_modified_false": ({"IfNoneMatch": '"0123456789abcdef0123456789abcdef"',
                                               "IfModifiedSince": lm}, 200),
    }


COND_NAMES = list(_cond_cases('"x"', datetime.datetime(2020, 1, 2)).keys())


@pytest.mark.parametrize("case", COND_NAMES)
def test_get_object_when_conditional(s3, cond_obj, case):
    bucket, etag, lm = cond_obj
    args, expected = _cond_cases(etag, lm)[case]
    if expected == 200:
        g = s3.get_object(Bucket=bucket, Key="c", **args)
        assert g["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert g["Body"].read() == b"conditional"
    elif expected == 304:
        status, code, r = client_error(s3.get_object, Bucket=bucket, Key="c", **args)
        assert status == 304
        assert headers_of(r).get("etag") == etag
    else:
        assert_error(412, "PreconditionFailed", s3.get_object, Bucket=bucket, Key="c", **args)


@pytest.mark.parametrize("case", COND_NAMES)
def test_head_object_when_conditional(s3, cond_obj, case):
    bucket, etag, lm = cond_obj
    args, expected = _cond_cases(etag, lm)[case]
    if expected == 200:
        assert s3.head_object(Bucket=bucket, Key="c", **args)["ResponseMetadata"]["HTTPStatusCode"] == 200
    else:
        assert_error(expected, str(expected), s3.head_object, Bucket=bucket, Key="c", **args)


# ---------------------------------------------------------------- objects: key names

KEYS = [
    "unicode/日本語/ключ/🎉",
    "with space/and more spaces  ",
    "plus+sign+",
    "percent%20literal%",
    "double//slash",
    "trailing/",
    "quote'\"<>&amp;",
    "tilde~!*()$,;=:@",
    "question?mark#hash",
    "a" * 1024,
    "é" * 512,  # 1024 bytes in UTF-8
]


@pytest.mark.parametrize("key", KEYS, ids=lambda k: k[:24])
def test_put_get_when_key_unusual(s3, bucket, key):
    data = ("body of " + key).encode()
    put(s3, bucket, key, data)
    assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(data)
    assert get_bytes(s3, bucket, key)[0] == data
    assert all_keys_v2(s3, bucket) == [key]
    assert s3.list_objects(Bucket=bucket)["Contents"][0]["Key"] == key
    assert s3.delete_object(Bucket=bucket, Key=key)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert all_keys_v2(s3, bucket) == []


@pytest.mark.parametrize("key", ["k" * 1025, "é" * 513], ids=["ascii1025", "utf8-1026"])
def test_put_object_when_key_too_long(s3, bucket, key):
    assert_error(400, "KeyTooLongError", put, s3, bucket, key, b"x")


# ---------------------------------------------------------------- CopyObject

def test_copy_object_when_same_bucket(s3, bucket):
    data = pattern(300 * KiB, seed=9)
    put(s3, bucket, "src", data, ContentType="text/x-src", Metadata={"m": "1"})
    r = s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert r["CopyObjectResult"]["ETag"] == quoted_etag(data)
    body, g = get_bytes(s3, bucket, "dst")
    assert body == data
    assert g["ContentType"] == "text/x-src"
    assert g["Metadata"] == {"m": "1"}
    assert get_bytes(s3, bucket, "src")[0] == data


def test_copy_object_when_cross_bucket(s3, bucket, bucket_factory):
    other = bucket_factory()
    data = pattern(5 * MiB + 3, seed=10)
    put(s3, bucket, "src key é", data)
    r = s3.copy_object(Bucket=other, Key="dst/ü", CopySource={"Bucket": bucket, "Key": "src key é"})
    assert r["CopyObjectResult"]["ETag"] == quoted_etag(data)
    assert get_bytes(s3, other, "dst/ü")[0] == data


def test_copy_object_when_directive_copy(s3, bucket):
    put(s3, bucket, "src", b"abc", ContentType="text/a", Metadata={"keep": "yes"}, CacheControl="no-cache")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"}, MetadataDirective="COPY",
                   ContentType="text/ignored", Metadata={"ignored": "1"})
    h = s3.head_object(Bucket=bucket, Key="dst")
    assert h["ContentType"] == "text/a"
    assert h["Metadata"] == {"keep": "yes"}
    assert h["CacheControl"] == "no-cache"


def test_copy_object_when_directive_replace(s3, bucket):
    put(s3, bucket, "src", b"abc", ContentType="text/a", Metadata={"old": "1"})
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"},
                   MetadataDirective="REPLACE", ContentType="text/b", Metadata={"new": "2"})
    h = s3.head_object(Bucket=bucket, Key="dst")
    assert h["ContentType"] == "text/b"
    assert h["Metadata"] == {"new": "2"}
    assert get_bytes(s3, bucket, "dst")[0] == b"abc"
    assert s3.head_object(Bucket=bucket, Key="src")["Metadata"] == {"old": "1"}


def test_copy_object_when_onto_itself_without_replace(s3, bucket):
    put(s3, bucket, "self", b"abc")
    assert_error(400, "InvalidRequest", s3.copy_object, Bucket=bucket, Key="self",
                 CopySource={"Bucket": bucket, "Key": "self"})


def test_copy_object_when_onto_itself_with_replace(s3, bucket):
    put(s3, bucket, "self", b"abc", Metadata={"v": "1"})
    s3.copy_object(Bucket=bucket, Key="self", CopySource={"Bucket": bucket, "Key": "self"},
                   MetadataDirective="REPLACE", Metadata={"v": "2"})
    h = s3.head_object(Bucket=bucket, Key="self")
    assert h["Metadata"] == {"v": "2"}
    assert get_bytes(s3, bucket, "self")[0] == b"abc"


def test_copy_object_when_source_if_match_fails(s3, bucket):
    put(s3, bucket, "src", b"abc")
    assert_error(412, "PreconditionFailed", s3.copy_object, Bucket=bucket, Key="dst",
                 CopySource={"Bucket": bucket, "Key": "src"}, CopySourceIfMatch='"00000000000000000000000000000000"')
    assert_error(404, "NoSuchKey", s3.get_object, Bucket=bucket, Key="dst")


def test_copy_object_when_source_if_none_match_fails(s3, bucket):
    r = put(s3, bucket, "src", b"abc")
    assert_error(412, "PreconditionFailed", s3.copy_object, Bucket=bucket, Key="dst",
                 CopySource={"Bucket": bucket, "Key": "src"}, CopySourceIfNoneMatch=r["ETag"])


def test_copy_object_when_source_if_match_holds(s3, bucket):
    r = put(s3, bucket, "src", b"abc")
    s3.copy_object(Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"}, CopySourceIfMatch=r["ETag"])
    assert get_bytes(s3, bucket, "dst")[0] == b"abc"


def test_copy_object_when_source_missing(s3, bucket):
    assert_error(404, "NoSuchKey", s3.copy_object, Bucket=bucket, Key="dst",
                 CopySource={"Bucket": bucket, "Key": "missing"})


# ---------------------------------------------------------------- DeleteObjects

def test_delete_objects_when_batch(s3, bucket):
    keys = ["d/%d" % i for i in range(6)]
    for k in keys:
        put(s3, bucket, k, k.encode())
    put(s3, bucket, "keep", b"k")
    asked = keys + ["missing-1", "missing/2"]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in asked]})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted(asked)
    assert not r.get("Errors")
    assert all_keys_v2(s3, bucket) == ["keep"]


def test_delete_objects_when_quiet(s3, bucket):
    for k in ("q1", "q2", "q3"):
        put(s3, bucket, k, b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in ("q1", "q2", "nope")],
                                                 "Quiet": True})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert not r.get("Deleted")
    assert not r.get("Errors")
    assert all_keys_v2(s3, bucket) == ["q3"]


def test_delete_objects_when_keys_unusual(s3, bucket):
    keys = ["a b", "日本", "x+y", "p%q", "<&>"]
    for k in keys:
        put(s3, bucket, k, b"x")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted(keys)
    assert all_keys_v2(s3, bucket) == []


def test_delete_objects_when_body_malformed(gateway, bucket):
    body = b"<Delete><Object><Key>a</Key></Object"
    r = yc_raw.request(gateway, "POST", "/" + bucket, "delete=", headers={"Content-MD5": yc_raw.md5_b64(body)},
                       body=body)
    assert r.status == 400
    assert r.error()["Code"] == "MalformedXML"


# ---------------------------------------------------------------- listing

LIST_KEYS = ["a/1", "a/2", "a/b/3", "a/b/4", "b/1", "c", "d", "e/f/g", "e/h"]


@pytest.fixture
def listed(s3, bucket):
    for k in LIST_KEYS:
        put(s3, bucket, k, k.encode())
    return bucket


def _contents(r):
    return [o["Key"] for o in r.get("Contents", [])]


def _prefixes(r):
    return [p["Prefix"] for p in r.get("CommonPrefixes", [])]


def test_list_objects_v2_when_no_arguments(s3, listed):
    r = s3.list_objects_v2(Bucket=listed)
    assert _contents(r) == LIST_KEYS
    assert r["KeyCount"] == len(LIST_KEYS)
    assert r["IsTruncated"] is False
    assert r["MaxKeys"] == 1000
    o = r["Contents"][0]
    assert o["Size"] == 3 and o["ETag"] == quoted_etag(b"a/1")
    assert o["StorageClass"] == "STANDARD"
    assert isinstance(o["LastModified"], datetime.datetime)


def test_list_objects_v2_when_prefix(s3, listed):
    r = s3.list_objects_v2(Bucket=listed, Prefix="a/")
    assert _contents(r) == ["a/1", "a/2", "a/b/3", "a/b/4"]
    assert r["KeyCount"] == 4
    assert r["Prefix"] == "a/"


def test_list_objects_v2_when_delimiter(s3, listed):
    r = s3.list_objects_v2(Bucket=listed, Delimiter="/")
    assert _contents(r) == ["c", "d"]
    assert _prefixes(r) == ["a/", "b/", "e/"]
    assert r["KeyCount"] == 5
    assert r["Delimiter"] == "/"


def test_list_objects_v2_when_prefix_and_delimiter(s3, listed):
    r = s3.list_objects_v2(Bucket=listed, Prefix="a/", Delimiter="/")
    assert _contents(r) == ["a/1", "a/2"]
    assert _prefixes(r) == ["a/b/"]
    assert r["KeyCount"] == 3


def test_list_objects_v2_when_prefix_matches_nothing(s3, listed):
    r = s3.list_objects_v2(Bucket=listed, Prefix="zzz")
    assert r["KeyCount"] == 0
    assert "Contents" not in r
    assert r["IsTruncated"] is False


def test_list_objects_v2_when_paged_by_max_keys(s3, listed):
    seen, token, pages = [], None, 0
    while True:
        kw = {"ContinuationToken": token} if token else {}
        r = s3.list_objects_v2(Bucket=listed, MaxKeys=2, **kw)
        pages += 1
        assert r["KeyCount"] == len(r.get("Contents", [])) <= 2
        seen += _contents(r)
        if not r["IsTruncated"]:
            assert "NextContinuationToken" not in r
            break
        assert r["NextContinuationToken"]
        token = r["NextContinuationToken"]
        assert pages < 20
    assert seen == LIST_KEYS
    assert pages == 5


def test_list_objects_v2_when_paged_with_delimiter(s3, listed):
    seen, token = [], None
    for _ in range(20):
        kw = {"ContinuationToken": token} if token else {}
        r = s3.list_objects_v2(Bucket=listed, MaxKeys=2, Delimiter="/", **kw)
        assert r["KeyCount"] == len(_contents(r)) + len(_prefixes(r)) <= 2
        seen += _contents(r) + _prefixes(r)
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
    assert sorted(seen) == ["a/", "b/", "c", "d", "e/"]
    assert len(seen) == 5


def test_list_objects_v2_when_start_after(s3, listed):
    r = s3.list_objects_v2(Bucket=listed, StartAfter="a/b/3")
    assert _contents(r) == LIST_KEYS[3:]
    assert r["StartAfter"] == "a/b/3"
    r = s3.list_objects_v2(Bucket=listed, StartAfter="b")  # not a key itself
    assert _contents(r) == ["b/1", "c", "d", "e/f/g", "e/h"]


def test_list_objects_v2_when_max_keys_zero(s3, listed):
    r = s3.list_objects_v2(Bucket=listed, MaxKeys=0)
    assert r["KeyCount"] == 0
    assert "Contents" not in r


def test_list_objects_v2_when_fetch_owner(s3, listed):
    r = s3.list_objects_v2(Bucket=listed, FetchOwner=True, MaxKeys=1)
    assert r["Contents"][0]["Owner"]["ID"]
    r = s3.list_objects_v2(Bucket=listed, MaxKeys=1)
    assert "Owner" not in r["Contents"][0]


def test_list_objects_v2_when_continuation_token_invalid(s3, listed):
    assert_error(400, "InvalidArgument", s3.list_objects_v2, Bucket=listed, ContinuationToken="!!not-a-token!!")


def test_list_objects_v1_when_prefix_and_delimiter(s3, listed):
    r = s3.list_objects(Bucket=listed, Prefix="e/", Delimiter="/")
    assert _contents(r) == ["e/h"]
    assert _prefixes(r) == ["e/f/"]
    assert r["IsTruncated"] is False


def test_list_objects_v1_when_paged_by_marker(s3, listed):
    seen, marker = [], ""
    for _ in range(20):
        r = s3.list_objects(Bucket=listed, MaxKeys=4, Marker=marker)
        assert r.get("Marker", "") == marker
        seen += _contents(r)
        if not r["IsTruncated"]:
            break
        marker = r.get("NextMarker") or r["Contents"][-1]["Key"]
    assert seen == LIST_KEYS


def test_list_objects_v1_when_truncated_with_delimiter(s3, listed):
    r = s3.list_objects(Bucket=listed, MaxKeys=2, Delimiter="/")
    assert r["IsTruncated"] is True
    assert _prefixes(r) == ["a/", "b/"]
    assert r["NextMarker"] == "b/"
    r = s3.list_objects(Bucket=listed, Marker=r["NextMarker"], Delimiter="/")
    assert _contents(r) == ["c", "d"]
    assert _prefixes(r) == ["e/"]


ENCODED_KEYS = sorted(["sp ace", "plus+", "pct%41", "uni/ñ/日本", "amp&lt;", "ctl\x01char", "tab\tkey", "new\nline"])


def test_list_objects_when_keys_need_url_encoding(s3, bucket):
    for k in ENCODED_KEYS:
        put(s3, bucket, k, b"x")
    assert all_keys_v2(s3, bucket) == ENCODED_KEYS
    assert _contents(s3.list_objects(Bucket=bucket)) == ENCODED_KEYS
    versions = s3.list_object_versions(Bucket=bucket)
    assert [v["Key"] for v in versions["Versions"]] == ENCODED_KEYS
    r = s3.list_objects_v2(Bucket=bucket, Prefix="uni/", Delimiter="/")
    assert _prefixes(r) == ["uni/ñ/"]


def test_list_objects_v2_when_encoding_type_url_raw(gateway, s3, bucket):
    put(s3, bucket, "a b/ü+", b"x")
    r = yc_raw.request(gateway, "GET", "/" + bucket, "encoding-type=url&list-type=2")
    assert r.status == 200
    text = r.body.decode()
    assert "<EncodingType>url</EncodingType>" in text
    keys = re.findall(r"<Key>([^<]*)</Key>", text)
    assert len(keys) == 1
    assert " " not in keys[0] and "ü" not in keys[0]
    assert urllib.parse.unquote_plus(keys[0]) == "a b/ü+"


def test_list_objects_when_encoding_type_invalid(gateway, bucket):
    r = yc_raw.request(gateway, "GET", "/" + bucket, "encoding-type=base64&list-type=2")
    assert r.status == 400
    assert r.error()["Code"] == "InvalidArgument"


def test_list_object_versions_when_unversioned(s3, listed):
    r = s3.list_object_versions(Bucket=listed)
    vs = r["Versions"]
    assert [v["Key"] for v in vs] == LIST_KEYS
    for v in vs:
        assert v["VersionId"] == "null"
        assert v["IsLatest"] is True
        assert v["ETag"] == quoted_etag(v["Key"].encode())
        assert v["Size"] == len(v["Key"])
    assert not r.get("DeleteMarkers")


def test_list_object_versions_when_prefix_and_delimiter(s3, listed):
    r = s3.list_object_versions(Bucket=listed, Prefix="a/", Delimiter="/")
    assert [v["Key"] for v in r["Versions"]] == ["a/1", "a/2"]
    assert _prefixes(r) == ["a/b/"]


BIG_COUNT = 2500


@pytest.fixture(scope="module")
def big_bucket(s3):
    """A bucket with BIG_COUNT small objects (created in parallel); the sorted key list."""
    name = unique_bucket_name("yc-big")
    s3.create_bucket(Bucket=name)
    keys = ["k%05d" % i for i in range(0, BIG_COUNT - 500)]
    keys += ["dir%02d/obj%03d" % (i % 25, i) for i in range(500)]

    def one(k):
        s3.put_object(Bucket=name, Key=k, Body=k.encode())

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(one, keys))
    yield name, sorted(keys)
    empty_and_delete_bucket(s3, name)


def test_list_objects_v2_paginator_when_many_keys(s3, big_bucket):
    name, ref = big_bucket
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=name))
    keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
    assert keys == ref
    assert [p["KeyCount"] for p in pages] == [1000, 1000, 500]


def test_list_objects_v2_paginator_when_page_size_small(s3, big_bucket):
    name, ref = big_bucket
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=name, PaginationConfig={"PageSize": 333}))
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == ref
    assert len(pages) == -(-BIG_COUNT // 333)


def test_list_objects_v1_paginator_when_many_keys(s3, big_bucket):
    name, ref = big_bucket
    pages = s3.get_paginator("list_objects").paginate(Bucket=name)
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == ref


def test_list_objects_v2_paginator_when_delimiter_many_keys(s3, big_bucket):
    name, ref = big_bucket
    keys, prefixes = [], []
    for p in s3.get_paginator("list_objects_v2").paginate(Bucket=name, Delimiter="/",
                                                          PaginationConfig={"PageSize": 700}):
        keys += [o["Key"] for o in p.get("Contents", [])]
        prefixes += [c["Prefix"] for c in p.get("CommonPrefixes", [])]
    assert keys == [k for k in ref if "/" not in k]
    assert prefixes == ["dir%02d/" % i for i in range(25)]


def test_list_object_versions_paginator_when_many_keys(s3, big_bucket):
    name, ref = big_bucket
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=name)
    vs = [v for p in pages for v in p.get("Versions", [])]
    assert [v["Key"] for v in vs] == ref
    assert {v["VersionId"] for v in vs} == {"null"}


# ---------------------------------------------------------------- multipart

PART = 5 * MiB


def multipart_etag(parts):
    return '"%s-%d"' % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest(), len(parts))


def upload_parts(s3, bucket, key, upload_id, parts):
    done = []
    for i, p in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=i, Body=p)
        assert r["ETag"] == quoted_etag(p)
        done.append({"PartNumber": i, "ETag": r["ETag"]})
    return done


def test_multipart_when_completed(s3, bucket):
    parts = [pattern(PART, seed=31), pattern(PART, seed=32), pattern(MiB + 3, seed=33)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", ContentType="video/x-test", Metadata={"m": "p"})
    uid = up["UploadId"]
    assert uid and up["Key"] == "mp" and up["Bucket"] == bucket
    done = upload_parts(s3, bucket, "mp", uid, parts)
    r = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={"Parts": done})
    assert r["ETag"] == multipart_etag(parts)
    assert r["Key"] == "mp"
    data = b"".join(parts)
    body, g = get_bytes(s3, bucket, "mp")
    assert body == data
    assert g["ETag"] == multipart_etag(parts)
    assert g["ContentType"] == "video/x-test"
    assert g["Metadata"] == {"m": "p"}
    assert s3.head_object(Bucket=bucket, Key="mp")["ContentLength"] == len(data)
    lo, hi = PART - 100, 2 * PART + 100
    assert get_bytes(s3, bucket, "mp", Range="bytes=%d-%d" % (lo, hi))[0] == data[lo:hi + 1]
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_multipart_when_single_small_part(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="one")["UploadId"]
    done = upload_parts(s3, bucket, "one", uid, [b"only part"])
    r = s3.complete_multipart_upload(Bucket=bucket, Key="one", UploadId=uid, MultipartUpload={"Parts": done})
    assert r["ETag"] == multipart_etag([b"only part"])
    assert get_bytes(s3, bucket, "one")[0] == b"only part"


def test_multipart_when_part_uploaded_twice(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"old")
    r = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=1, Body=b"new!")
    parts = s3.list_parts(Bucket=bucket, Key="k", UploadId=uid)["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in parts] == [(1, 4, r["ETag"])]
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": r["ETag"]}]})
    assert get_bytes(s3, bucket, "k")[0] == b"new!"


def test_multipart_when_part_numbers_sparse(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    p1, p3 = pattern(PART, seed=41), b"tail"
    e1 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=2, Body=p1)["ETag"]
    e3 = s3.upload_part(Bucket=bucket, Key="k", UploadId=uid, PartNumber=7, Body=p3)["ETag"]
    r = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 2, "ETag": e1}, {"PartNumber": 7, "ETag": e3}]})
    assert r["ETag"] == multipart_etag([p1, p3])
    assert get_bytes(s3, bucket, "k")[0] == p1 + p3


def test_upload_part_copy_when_range_given(s3, bucket, bucket_factory):
    src_bucket = bucket_factory()
    src = pattern(12 * MiB + 7, seed=51)
    put(s3, src_bucket, "source", src)
    uid = s3.create_multipart_upload(Bucket=bucket, Key="copied")["UploadId"]
    ranges = [(0, PART - 1), (PART, 2 * PART - 1), (2 * PART, len(src) - 1)]
    done = []
    for i, (lo, hi) in enumerate(ranges, 1):
        r = s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId=uid, PartNumber=i,
                                CopySource={"Bucket": src_bucket, "Key": "source"},
                                CopySourceRange="bytes=%d-%d" % (lo, hi))
        assert r["CopyPartResult"]["ETag"] == quoted_etag(src[lo:hi + 1])
        done.append({"PartNumber": i, "ETag": r["CopyPartResult"]["ETag"]})
    r = s3.complete_multipart_upload(Bucket=bucket, Key="copied", UploadId=uid, MultipartUpload={"Parts": done})
    assert r["ETag"] == multipart_etag([src[lo:hi + 1] for lo, hi in ranges])
    assert get_bytes(s3, bucket, "copied")[0] == src


def test_upload_part_copy_when_range_unsatisfiable(s3, bucket):
    put(s3, bucket, "source", b"short")
    uid = s3.create_multipart_upload(Bucket=bucket, Key="copied")["UploadId"]
    status, code, r = client_error(s3.upload_part_copy, Bucket=bucket, Key="copied", UploadId=uid, PartNumber=1,
                                   CopySource={"Bucket": bucket, "Key": "source"}, CopySourceRange="bytes=10-20")
    assert (status, code) == (416, "InvalidRange"), r["Error"]


def test_list_parts_when_parts_uploaded(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="lp")["UploadId"]
    parts = [pattern(PART, seed=61), b"x" * 1000, b"y" * 10]
    done = upload_parts(s3, bucket, "lp", uid, parts)
    r = s3.list_parts(Bucket=bucket, Key="lp", UploadId=uid)
    assert [(p["PartNumber"], p["ETag"], p["Size"]) for p in r["Parts"]] == \
        [(d["PartNumber"], d["ETag"], len(p)) for d, p in zip(done, parts)]
    assert r["IsTruncated"] is False
    assert r["UploadId"] == uid and r["Key"] == "lp"
    page1 = s3.list_parts(Bucket=bucket, Key="lp", UploadId=uid, MaxParts=2)
    assert [p["PartNumber"] for p in page1["Parts"]] == [1, 2]
    assert page1["IsTruncated"] is True
    assert int(page1["NextPartNumberMarker"]) == 2
    page2 = s3.list_parts(Bucket=bucket, Key="lp", UploadId=uid, PartNumberMarker=2)
    assert [p["PartNumber"] for p in page2["Parts"]] == [3]
    assert page2["IsTruncated"] is False


def test_list_multipart_uploads_when_several(s3, bucket):
    u1 = s3.create_multipart_upload(Bucket=bucket, Key="up/a")["UploadId"]
    u2 = s3.create_multipart_upload(Bucket=bucket, Key="up/b")["UploadId"]
    u3 = s3.create_multipart_upload(Bucket=bucket, Key="other")["UploadId"]
    assert len({u1, u2, u3}) == 3
    r = s3.list_multipart_uploads(Bucket=bucket)
    assert sorted((u["Key"], u["UploadId"]) for u in r["Uploads"]) == \
        sorted([("up/a", u1), ("up/b", u2), ("other", u3)])
    assert [u["Key"] for u in r["Uploads"]] == ["other", "up/a", "up/b"]
    assert all(isinstance(u["Initiated"], datetime.datetime) for u in r["Uploads"])
    r = s3.list_multipart_uploads(Bucket=bucket, Prefix="up/")
    assert [u["Key"] for u in r["Uploads"]] == ["up/a", "up/b"]
    r = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [u["Key"] for u in r.get("Uploads", [])] == ["other"]
    assert _prefixes(r) == ["up/"]
    # an upload in progress is not an object
    assert all_keys_v2(s3, bucket) == []


def test_abort_multipart_when_uploaded_parts(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="ab")["UploadId"]
    upload_parts(s3, bucket, "ab", uid, [pattern(PART, seed=71)])
    r = s3.abort_multipart_upload(Bucket=bucket, Key="ab", UploadId=uid)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert_error(404, "NoSuchUpload", s3.list_parts, Bucket=bucket, Key="ab", UploadId=uid)
    assert_error(404, "NoSuchUpload", s3.upload_part, Bucket=bucket, Key="ab", UploadId=uid, PartNumber=2,
                 Body=b"x")
    assert_error(404, "NoSuchUpload", s3.complete_multipart_upload, Bucket=bucket, Key="ab", UploadId=uid,
                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": quoted_etag(b"x")}]})
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert_error(404, "NoSuchKey", s3.get_object, Bucket=bucket, Key="ab")


def test_complete_retried_after_success_answers_again(s3, bucket):
    """S3 answers a Complete sent again with the same list (a client whose first answer was lost)
    with the same result; another list, or an upload whose object was overwritten since, is
    NoSuchUpload."""
    parts = [pattern(PART, seed=81), b"tail"]
    uid = s3.create_multipart_upload(Bucket=bucket, Key="again")["UploadId"]
    done = upload_parts(s3, bucket, "again", uid, parts)
    first = s3.complete_multipart_upload(Bucket=bucket, Key="again", UploadId=uid, MultipartUpload={"Parts": done})
    second = s3.complete_multipart_upload(Bucket=bucket, Key="again", UploadId=uid, MultipartUpload={"Parts": done})
    assert second["ETag"] == first["ETag"] == multipart_etag(parts)
    assert (second["Bucket"], second["Key"]) == (bucket, "again")
    assert get_bytes(s3, bucket, "again")[0] == b"".join(parts)
    assert_error(404, "NoSuchUpload", s3.complete_multipart_upload, Bucket=bucket, Key="again", UploadId=uid,
                 MultipartUpload={"Parts": done[:1]})
    s3.put_object(Bucket=bucket, Key="again", Body=b"replaced")
    assert_error(404, "NoSuchUpload", s3.complete_multipart_upload, Bucket=bucket, Key="again", UploadId=uid,
                 MultipartUpload={"Parts": done})
    assert get_bytes(s3, bucket, "again")[0] == b"replaced"


def test_multipart_when_upload_id_unknown(s3, bucket):
    assert_error(404, "NoSuchUpload", s3.upload_part, Bucket=bucket, Key="k", UploadId="no-such-upload-id",
                 PartNumber=1, Body=b"x")


def test_complete_multipart_when_part_too_small(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="small")["UploadId"]
    done = upload_parts(s3, bucket, "small", uid, [b"a" * MiB, b"b" * MiB])
    assert_error(400, "EntityTooSmall", s3.complete_multipart_upload, Bucket=bucket, Key="small", UploadId=uid,
                 MultipartUpload={"Parts": done})
    assert_error(404, "NoSuchKey", s3.get_object, Bucket=bucket, Key="small")


def test_complete_multipart_when_etag_wrong(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="ip")["UploadId"]
    upload_parts(s3, bucket, "ip", uid, [b"part one"])
    assert_error(400, "InvalidPart", s3.complete_multipart_upload, Bucket=bucket, Key="ip", UploadId=uid,
                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": quoted_etag(b"something else")}]})


def test_complete_multipart_when_part_never_uploaded(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="ip")["UploadId"]
    done = upload_parts(s3, bucket, "ip", uid, [pattern(PART, seed=82)])
    assert_error(400, "InvalidPart", s3.complete_multipart_upload, Bucket=bucket, Key="ip", UploadId=uid,
                 MultipartUpload={"Parts": done + [{"PartNumber": 2, "ETag": quoted_etag(b"x")}]})


def test_complete_multipart_when_parts_out_of_order(s3, bucket):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="io")["UploadId"]
    done = upload_parts(s3, bucket, "io", uid, [pattern(PART, seed=81), b"last"])
    assert_error(400, "InvalidPartOrder", s3.complete_multipart_upload, Bucket=bucket, Key="io", UploadId=uid,
                 MultipartUpload={"Parts": list(reversed(done))})


@pytest.mark.parametrize("number", [0, 10001])
def test_upload_part_when_number_out_of_range(s3, bucket, number):
    uid = s3.create_multipart_upload(Bucket=bucket, Key="n")["UploadId"]
    assert_error(400, "InvalidArgument", s3.upload_part, Bucket=bucket, Key="n", UploadId=uid, PartNumber=number,
                 Body=b"x")


def test_upload_fileobj_when_multipart_threshold_crossed(s3, bucket):
    # Over plain http this botocore signs every part's payload (no aws-chunked); the aws-chunked
    # encodings are sent by hand in the tests further down.
    data = pattern(21 * MiB + 5, seed=91)
    cfg = boto3.s3.transfer.TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=4)
    s3.upload_fileobj(io.BytesIO(data), bucket, "tm", Config=cfg)
    h = s3.head_object(Bucket=bucket, Key="tm")
    assert h["ContentLength"] == len(data)
    assert h["ETag"].endswith('-3"')
    out = io.BytesIO()
    s3.download_fileobj(bucket, "tm", out, Config=cfg)
    assert out.getvalue() == data


# ---------------------------------------------------------------- auth

def test_request_when_secret_wrong(gateway, bucket):
    bad = gateway.client(secret_key="wrong-" + gateway.secret_key)
    assert_error(403, "SignatureDoesNotMatch", bad.list_buckets)
    assert_error(403, "SignatureDoesNotMatch", bad.put_object, Bucket=bucket, Key="k", Body=b"x")


def test_request_when_access_key_unknown(gateway):
    ak, sk = random_keys()
    assert_error(403, "InvalidAccessKeyId", gateway.client(access_key=ak, secret_key=sk).list_buckets)


@pytest.fixture
def anon(gateway):
    return make_client(gateway.endpoint, None, None, signature_version=botocore.UNSIGNED)


def test_request_when_anonymous(anon, s3, bucket):
    put(s3, bucket, "k", b"x")
    assert_error(403, "AccessDenied", anon.list_objects_v2, Bucket=bucket)
    assert_error(403, "AccessDenied", anon.get_object, Bucket=bucket, Key="k")
    assert_error(403, "AccessDenied", anon.put_object, Bucket=bucket, Key="k2", Body=b"x")
    assert_error(403, "AccessDenied", anon.delete_object, Bucket=bucket, Key="k")
    assert_error(403, "AccessDenied", anon.list_buckets)
    assert get_bytes(s3, bucket, "k")[0] == b"x"


def _urlopen(url, method="GET", data=None):
    req = urllib.request.Request(url, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_presigned_get_when_valid(s3, bucket):
    data = pattern(200 * KiB, seed=101)
    put(s3, bucket, "pre sign/ü", data)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "pre sign/ü"}, ExpiresIn=300)
    assert "X-Amz-Signature=" in url
    status, body = _urlopen(url)
    assert status == 200
    assert body == data


def test_presigned_put_when_valid(s3, bucket):
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "up"}, ExpiresIn=300)
    status, _ = _urlopen(url, method="PUT", data=b"presigned upload")
    assert status == 200
    assert get_bytes(s3, bucket, "up")[0] == b"presigned upload"


def test_presigned_get_when_expired(s3, bucket):
    put(s3, bucket, "k", b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=1)
    time.sleep(2.2)
    status, body = _urlopen(url)
    assert status == 403
    assert b"<Code>AccessDenied</Code>" in body


def test_presigned_get_when_signature_tampered(s3, bucket):
    put(s3, bucket, "k", b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=300)
    head, sig = url.rsplit("X-Amz-Signature=", 1)
    bad = head + "X-Amz-Signature=" + ("0" if sig[0] != "0" else "1") + sig[1:]
    status, body = _urlopen(bad)
    assert status == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in body


def test_presigned_get_when_key_changed(s3, bucket):
    put(s3, bucket, "k1", b"x")
    put(s3, bucket, "k2", b"y")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k1"}, ExpiresIn=300)
    status, body = _urlopen(url.replace("/k1?", "/k2?"))
    assert status == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in body


@pytest.mark.parametrize("minutes", [-20, 20])
def test_request_when_clock_skewed(gateway, bucket, minutes):
    r = yc_raw.request(gateway, "GET", "/" + bucket, "list-type=2", clock_offset=datetime.timedelta(minutes=minutes))
    assert r.status == 403
    assert r.error()["Code"] == "RequestTimeTooSkewed"


def test_request_when_clock_within_window(gateway, bucket):
    r = yc_raw.request(gateway, "GET", "/" + bucket, "list-type=2", clock_offset=datetime.timedelta(minutes=4))
    assert r.status == 200


@pytest.mark.parametrize("case", ["no_such_bucket", "no_such_key", "bad_signature", "anonymous", "bad_range"])
def test_error_response_when_request_fails(gateway, s3, bucket, case):
    put(s3, bucket, "k", b"0123456789")
    if case == "no_such_bucket":
        r, code = yc_raw.request(gateway, "GET", "/" + unique_bucket_name()), "NoSuchBucket"
    elif case == "no_such_key":
        r, code = yc_raw.request(gateway, "GET", "/%s/missing" % bucket), "NoSuchKey"
    elif case == "bad_signature":
        r, code = yc_raw.request(gateway, "GET", "/%s/k" % bucket, secret_key="x" * 40), "SignatureDoesNotMatch"
    elif case == "anonymous":
        r, code = yc_raw.anonymous(gateway, "GET", "/%s/k" % bucket), "AccessDenied"
    else:
        r, code = yc_raw.request(gateway, "GET", "/%s/k" % bucket, headers={"Range": "bytes=50-60"}), "InvalidRange"
    assert r.status >= 400
    assert r.headers.get("content-type", "").startswith(("application/xml", "text/xml"))
    err = r.error()
    assert err["Code"] == code
    assert err.get("Message")
    assert err.get("RequestId")
    assert r.headers.get("x-amz-request-id") == err["RequestId"]


def test_response_when_success_has_request_id(gateway, bucket):
    r = yc_raw.request(gateway, "HEAD", "/" + bucket)
    assert r.status == 200
    assert r.headers.get("x-amz-request-id")
    r2 = yc_raw.request(gateway, "HEAD", "/" + bucket)
    assert r2.headers.get("x-amz-request-id") != r.headers.get("x-amz-request-id")


# ---------------------------------------------------------------- aws-chunked uploads

def _put_signed_chunked(gateway, bucket, key, data, chunk, tamper=False):
    sizes = yc_raw.chunk_sizes(len(data), chunk)
    # Content-Length is sent but not signed here; test_put_object_when_content_length_signed covers that
    headers = {"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": str(len(data)),
               "Content-Type": "text/x-chunked"}
    req = yc_raw.sign(gateway, "PUT", "/%s/%s" % (bucket, yc_raw.quote_key(key)), headers=headers,
                      payload_hash=yc_raw.STREAMING_SIGNED)
    body = yc_raw.signed_chunked_body(data, chunk, req, gateway.secret_key)
    assert len(body) == yc_raw.signed_chunked_length(sizes)
    if tamper:
        i = body.index(b"\r\n", body.index(b"chunk-signature", 100)) + 10  # a data byte of the second chunk
        body = body[:i] + bytes([body[i] ^ 0xFF]) + body[i + 1:]
    return yc_raw.send(gateway, req, body=body)


def test_put_object_when_streaming_signed_chunks(gateway, s3, bucket):
    data = pattern(200 * KiB + 11, seed=111)
    r = _put_signed_chunked(gateway, bucket, "chunked", data, 64 * KiB)
    assert r.status == 200, r.body[:300]
    assert r.headers.get("etag") == quoted_etag(data)
    body, g = get_bytes(s3, bucket, "chunked")
    assert body == data
    assert g["ContentType"] == "text/x-chunked"
    assert g.get("ContentEncoding") in (None, "")  # aws-chunked is framing, not stored


def test_put_object_when_streaming_signed_chunks_large(gateway, s3, bucket):
    data = pattern(3 * MiB + 100, seed=112)
    r = _put_signed_chunked(gateway, bucket, "chunked-big", data, 1 * MiB)
    assert r.status == 200, r.body[:300]
    assert get_bytes(s3, bucket, "chunked-big")[0] == data


def test_put_object_when_streaming_chunk_signature_wrong(gateway, s3, bucket):
    data = pattern(200 * KiB, seed=113)
    r = _put_signed_chunked(gateway, bucket, "tampered", data, 64 * KiB, tamper=True)
    assert r.status == 403
    assert r.error()["Code"] == "SignatureDoesNotMatch"
    assert_error(404, "NoSuchKey", s3.get_object, Bucket=bucket, Key="tampered")


def _put_unsigned_trailer(gateway, bucket, key, data, crc):
    body = yc_raw.unsigned_trailer_body(data, 64 * KiB, "x-amz-checksum-crc32", crc)
    headers = {"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": str(len(data)),
               "X-Amz-Trailer": "x-amz-checksum-crc32"}
    req = yc_raw.sign(gateway, "PUT", "/%s/%s" % (bucket, key), headers=headers,
                      payload_hash=yc_raw.STREAMING_UNSIGNED_TRAILER)
    return yc_raw.send(gateway, req, body=body)


def test_put_object_when_unsigned_payload_with_crc32_trailer(gateway, s3, bucket):
    data = pattern(150 * KiB + 3, seed=121)
    r = _put_unsigned_trailer(gateway, bucket, "trailer", data, yc_raw.crc32_b64(data))
    assert r.status == 200, r.body[:300]
    assert r.headers.get("etag") == quoted_etag(data)
    assert get_bytes(s3, bucket, "trailer")[0] == data


def test_put_object_when_crc32_trailer_wrong(gateway, s3, bucket):
    data = pattern(150 * KiB + 3, seed=122)
    r = _put_unsigned_trailer(gateway, bucket, "trailer-bad", data, yc_raw.crc32_b64(data + b"x"))
    assert r.status == 400
    assert r.error()["Code"] == "BadDigest"
    assert_error(404, "NoSuchKey", s3.get_object, Bucket=bucket, Key="trailer-bad")


def test_put_object_when_content_length_signed(gateway, s3, bucket):
    # SDKs (the AWS SDK for Java among them) list content-length in SignedHeaders
    body = b"length is signed"
    r = yc_raw.request(gateway, "PUT", "/%s/cl" % bucket, headers={"Content-Length": str(len(body))}, body=body)
    assert r.status == 200, r.body[:300]
    assert get_bytes(s3, bucket, "cl")[0] == body


def test_put_object_when_streaming_signed_with_content_length_signed(gateway, s3, bucket):
    data = pattern(100 * KiB, seed=114)
    sizes = yc_raw.chunk_sizes(len(data), 64 * KiB)
    headers = {"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": str(len(data)),
               "Content-Length": str(yc_raw.signed_chunked_length(sizes))}
    req = yc_raw.sign(gateway, "PUT", "/%s/signed-cl" % bucket, headers=headers, payload_hash=yc_raw.STREAMING_SIGNED)
    r = yc_raw.send(gateway, req, body=yc_raw.signed_chunked_body(data, 64 * KiB, req, gateway.secret_key))
    assert r.status == 200, r.body[:300]
    assert get_bytes(s3, bucket, "signed-cl")[0] == data


def test_put_object_when_unsigned_payload(gateway, s3, bucket):
    req = yc_raw.sign(gateway, "PUT", "/%s/unsigned" % bucket, body=b"unsigned body",
                      payload_hash=yc_raw.UNSIGNED_PAYLOAD)
    r = yc_raw.send(gateway, req)
    assert r.status == 200
    assert get_bytes(s3, bucket, "unsigned")[0] == b"unsigned body"


# ---------------------------------------------------------------- a second user

@pytest.fixture(scope="module")
def second_user(gateway, admin_available):
    ak, sk = random_keys()
    name = "user-" + ak[-6:].lower()
    gateway.admin("user", "add", name, ak, sk, "--create-buckets")
    yield name, gateway.client(access_key=ak, secret_key=sk), ak, sk
    gateway.admin("user", "remove", ak, check=False)


@pytest.fixture
def root_bucket_with_object(s3, bucket):
    put(s3, bucket, "secret", b"root data")
    return bucket


@pytest.mark.parametrize("op", ["list_v2", "list_v1", "get", "head_object", "put", "delete_object",
                                "delete_bucket", "copy_from", "multipart"])
def test_second_user_when_using_root_bucket(second_user, s3, root_bucket_with_object, op):
    other = second_user[1]
    b = root_bucket_with_object
    calls = {
        "list_v2": lambda: other.list_objects_v2(Bucket=b),
        "list_v1": lambda: other.list_objects(Bucket=b),
        "get": lambda: other.get_object(Bucket=b, Key="secret"),
        "head_object": lambda: other.head_object(Bucket=b, Key="secret"),
        "put": lambda: other.put_object(Bucket=b, Key="intruder", Body=b"x"),
        "delete_object": lambda: other.delete_object(Bucket=b, Key="secret"),
        "delete_bucket": lambda: other.delete_bucket(Bucket=b),
        "copy_from": lambda: other.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": b, "Key": "secret"}),
        "multipart": lambda: other.create_multipart_upload(Bucket=b, Key="mp"),
    }
    expected = ("403", 403) if op == "head_object" else ("AccessDenied", 403)
    status, code, r = client_error(calls[op])
    assert (code, status) == expected, r["Error"]
    assert get_bytes(s3, b, "secret")[0] == b"root data"
    assert all_keys_v2(s3, b) == ["secret"]


def test_second_user_when_copying_from_root_bucket(second_user, s3, root_bucket_with_object, bucket_factory):
    other = second_user[1]
    mine = bucket_factory(client=other)
    assert_error(403, "AccessDenied", other.copy_object, Bucket=mine, Key="stolen",
                 CopySource={"Bucket": root_bucket_with_object, "Key": "secret"})
    assert_error(404, "NoSuchKey", other.get_object, Bucket=mine, Key="stolen")


def test_second_user_when_listing_buckets(second_user, s3, bucket, bucket_factory):
    other = second_user[1]
    mine = bucket_factory(client=other)
    names = [b["Name"] for b in other.list_buckets()["Buckets"]]
    assert mine in names
    assert bucket not in names
    other.put_object(Bucket=mine, Key="own", Body=b"own data")
    assert get_bytes(other, mine, "own")[0] == b"own data"


def test_second_user_when_bucket_name_taken(second_user, bucket):
    other = second_user[1]
    assert_error(409, "BucketAlreadyExists", other.create_bucket, Bucket=bucket)


def test_second_user_when_head_root_bucket(second_user, bucket):
    other = second_user[1]
    assert_error(403, "403", other.head_bucket, Bucket=bucket)


def test_user_list_when_user_added(gateway, second_user):
    name = second_user[0]
    res = gateway.admin("user", "list")
    assert name in res.stdout


def test_user_remove_when_key_used_afterwards(gateway, admin_available):
    ak, sk = random_keys()
    gateway.admin("user", "add", "short-lived-" + ak[-4:].lower(), ak, sk, "--create-buckets")
    c = gateway.client(access_key=ak, secret_key=sk)
    assert c.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    gateway.admin("user", "remove", ak)
    assert_error(403, "InvalidAccessKeyId", c.list_buckets)


def test_admin_when_not_root(gateway, second_user):
    _, _, ak, sk = second_user
    res = subprocess.run([ADMIN_BIN, "--endpoint", gateway.endpoint, "--access-key", ak, "--secret-key", sk,
                          "user", "add", "evil", "EVILKEY0000000000", "evilsecret000000000000"],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode != 0
    assert_error(403, "InvalidAccessKeyId", gateway.client(access_key="EVILKEY0000000000",
                                                           secret_key="evilsecret000000000000").list_buckets)


# ---------------------------------------------------------------- persistence

def test_objects_when_gateway_restarted(gateway_factory):
    gw = gateway_factory()
    c = gw.client()
    name = unique_bucket_name()
    c.create_bucket(Bucket=name)
    objs = {"small": b"tiny", "inline": pattern(100 * KiB, seed=131), "striped": pattern(4 * MiB + 9, seed=132),
            "dir/ü nicode": b"unicode key"}
    for k, v in objs.items():
        put(c, name, k, v, Metadata={"k": "v"})
    mp_parts = [pattern(PART, seed=133), b"end"]
    uid = c.create_multipart_upload(Bucket=name, Key="multi")["UploadId"]
    done = upload_parts(c, name, "multi", uid, mp_parts)
    c.complete_multipart_upload(Bucket=name, Key="multi", UploadId=uid, MultipartUpload={"Parts": done})
    objs["multi"] = b"".join(mp_parts)
    pending = c.create_multipart_upload(Bucket=name, Key="pending")["UploadId"]
    c.upload_part(Bucket=name, Key="pending", UploadId=pending, PartNumber=1, Body=b"pending part")
    put(c, name, "deleted", b"gone")
    c.delete_object(Bucket=name, Key="deleted")

    gw.restart()
    c = gw.client()

    assert name in [b["Name"] for b in c.list_buckets()["Buckets"]]
    assert all_keys_v2(c, name) == sorted(objs)
    for k, v in objs.items():
        body, g = get_bytes(c, name, k)
        assert body == v, k
        if k != "multi":
            assert g["ETag"] == quoted_etag(v)
            assert g["Metadata"] == {"k": "v"}
    assert_error(404, "NoSuchKey", c.get_object, Bucket=name, Key="deleted")
    parts = c.list_parts(Bucket=name, Key="pending", UploadId=pending)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, len(b"pending part"))]
    put(c, name, "after", b"written after restart")
    assert get_bytes(c, name, "after")[0] == b"written after restart"


def test_gateway_when_sigterm_received(gateway_factory):
    gw = gateway_factory()
    c = gw.client()
    c.create_bucket(Bucket=unique_bucket_name())
    rc = gw.stop()
    assert rc == 0, "gateway exited with %r on SIGTERM; stderr tail:\n%s" % (rc, gw.stderr_tail())


def test_create_multipart_upload_when_metadata_too_large(s3, bucket):
    assert_error(400, "MetadataTooLarge", s3.create_multipart_upload, Bucket=bucket, Key="m",
                 Metadata={"big": "v" * 2100})
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
