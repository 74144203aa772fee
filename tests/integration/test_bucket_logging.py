"""Server access logging (gateway/gw_bucket_logging.h): Put/GetBucketLogging with S3's errors, and log
objects delivered to the target bucket in S3's server access log format, read back with boto3 and parsed.

The gateway delivers every second (--logging-interval 1) so that a test waits about two seconds.
"""
import re
import time

import botocore.exceptions
import pytest

import yc_raw
from conftest import Gateway, empty_and_delete_bucket, make_client, random_keys, unique_bucket_name

# S3's documented fields, in order: owner bucket [time] ip requester request-id operation key "request-uri"
# status error bytes-sent object-size total-time turnaround "referer" "user-agent" version-id host-id
# signature-version cipher-suite auth-type host-header tls-version access-point-arn acl-required
LINE = re.compile(
    r'^(?P<owner>\S+) (?P<bucket>\S+) \[(?P<time>\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000)\] (?P<ip>\S+) '
    r'(?P<requester>\S+) (?P<request_id>\S+) (?P<operation>\S+) (?P<key>\S+) "(?P<uri>[^"]*)" (?P<status>\S+) '
    r'(?P<error>\S+) (?P<bytes_sent>\S+) (?P<object_size>\S+) (?P<total_time>\S+) (?P<turnaround>\S+) '
    r'"(?P<referer>[^"]*)" "(?P<user_agent>[^"]*)" (?P<version_id>\S+) (?P<host_id>\S+) (?P<sigver>\S+) '
    r'(?P<cipher>\S+) (?P<auth_type>\S+) (?P<host>\S+) (?P<tls>\S+) (?P<arn>\S+) (?P<acl_required>\S+)$')
KEY_NAME = re.compile(r"^(?P<prefix>.*)\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9A-F]{16}$")


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    ak, sk = random_keys()
    data = tmp_path_factory.mktemp("logging") / "data"
    data.mkdir()
    g = Gateway(str(data), ak, sk)
    g.extra_args = ["--logging-interval", "1"]
    try:
        yield g.start()
    finally:
        g.stop()


@pytest.fixture(scope="module")
def s3(gw):
    return gw.client()


@pytest.fixture
def buckets(s3):
    made = []

    def make(client=None):
        c = client or s3
        name = unique_bucket_name("yc-log")
        c.create_bucket(Bucket=name)
        made.append((c, name))
        return name

    yield make
    for c, name in made:
        empty_and_delete_bucket(c, name)


def error_of(fn, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(**kw)
    e = ei.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"], e


def enable(s3, bucket, target, prefix):
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": target, "TargetPrefix": prefix}})


def test_get_without_configuration_is_empty(s3, buckets):
    b = buckets()
    res = s3.get_bucket_logging(Bucket=b)
    assert res["ResponseMetadata"]["HTTPStatusCode"] == 200 and "LoggingEnabled" not in res


def test_put_get_and_turn_off(gw, s3, buckets):
    b, t = buckets(), buckets()
    enable(s3, b, t, "logs/")
    got = s3.get_bucket_logging(Bucket=b)["LoggingEnabled"]
    assert got == {"TargetBucket": t, "TargetPrefix": "logs/"}
    # an empty BucketLoggingStatus turns it off
    s3.put_bucket_logging(Bucket=b, BucketLoggingStatus={})
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=b)
    # and so does an empty LoggingEnabled (which this botocore will not send: by hand)
    enable(s3, b, t, "logs/")
    res = yc_raw.request(gw, "PUT", "/" + b, "logging", body=b"<BucketLoggingStatus><LoggingEnabled/></BucketLoggingStatus>")
    assert res.status == 200, res.body
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=b)


def test_full_control_grant_to_the_owner_is_accepted(s3, buckets):
    """It changes nothing (the owner owns the log objects): accepted; any other grant is not built."""
    b = buckets()
    owner = s3.get_bucket_acl(Bucket=b)["Owner"]
    grant = {"Grantee": {"ID": owner["ID"], "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}
    s3.put_bucket_logging(Bucket=b, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": b, "TargetPrefix": "own/", "TargetGrants": [grant]}})
    assert s3.get_bucket_logging(Bucket=b)["LoggingEnabled"]["TargetPrefix"] == "own/"
    other = dict(grant, Grantee={"ID": "f" * 64, "Type": "CanonicalUser"})
    code, status, _ = error_of(s3.put_bucket_logging, Bucket=b, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": b, "TargetPrefix": "x/", "TargetGrants": [other]}})
    assert (code, status) == ("NotImplemented", 501)


def test_missing_target_bucket_is_refused(s3, buckets):
    b = buckets()
    code, status, e = error_of(s3.put_bucket_logging, Bucket=b, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": unique_bucket_name("yc-none"), "TargetPrefix": "x/"}})
    assert (code, status) == ("InvalidTargetBucketForLogging", 400)
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=b)


def test_target_bucket_of_another_owner_is_refused(gw, s3, buckets):
    ak, sk = random_keys()
    gw.admin("user", "add", "other-" + ak[-6:].lower(), ak, sk, "--create-buckets")
    other = make_client(gw.endpoint, ak, sk)
    theirs = buckets(other)
    b = buckets()
    code, status, e = error_of(s3.put_bucket_logging, Bucket=b, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": theirs, "TargetPrefix": "x/"}})
    assert (code, status) == ("InvalidTargetBucketForLogging", 400)
    assert "owner" in e["Error"]["Message"]


def test_malformed_document_is_refused(gw, buckets):
    b = buckets()
    for body in [b"<BucketLoggingStatus><LoggingEnabled>", b"<NotLogging/>",
                 b"<BucketLoggingStatus><LoggingEnabled><TargetPrefix>x</TargetPrefix></LoggingEnabled>"
                 b"</BucketLoggingStatus>"]:
        res = yc_raw.request(gw, "PUT", "/" + b, "logging", body=body)
        assert res.status == 400 and b"<Code>MalformedXML</Code>" in res.body, res.body


def test_target_grants_are_not_implemented(s3, buckets):
    b, t = buckets(), buckets()
    code, status, _ = error_of(s3.put_bucket_logging, Bucket=b, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": t, "TargetPrefix": "x/", "TargetGrants": [
            {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"},
             "Permission": "READ"}]}})
    assert (code, status) == ("NotImplemented", 501)
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=b)


def log_lines(s3, target, prefix, want, timeout=8.0):
    """Lines of the log objects under prefix once at least want of them are there."""
    deadline = time.monotonic() + timeout
    while True:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=target, Prefix=prefix).get("Contents", [])]
        lines = []
        for k in keys:
            body = s3.get_object(Bucket=target, Key=k)
            assert body["ContentType"] == "text/plain"
            lines += body["Body"].read().decode().splitlines()
        if len(lines) >= want or time.monotonic() > deadline:
            return keys, lines
        time.sleep(0.3)


def test_log_objects_are_delivered_in_s3_format(gw, s3, buckets):
    b, t, quiet = buckets(), buckets(), buckets()
    enable(s3, b, t, "access/")
    ids = {}
    r = s3.put_object(Bucket=b, Key="dir/a b.txt", Body=b"hello world")
    ids["put"] = r["ResponseMetadata"]["RequestId"]
    r = s3.get_object(Bucket=b, Key="dir/a b.txt")
    assert r["Body"].read() == b"hello world"
    ids["get"] = r["ResponseMetadata"]["RequestId"]
    code, status, e = error_of(s3.get_object, Bucket=b, Key="missing")
    ids["missing"] = e["ResponseMetadata"]["RequestId"]
    s3.list_objects_v2(Bucket=b)
    s3.put_object(Bucket=quiet, Key="not-logged", Body=b"x")  # a bucket without logging
    keys, lines = log_lines(s3, t, "access/", 4)
    assert keys and all(KEY_NAME.match(k).group("prefix") == "access/" for k in keys), keys
    parsed = [LINE.match(l) for l in lines]
    assert all(parsed), [l for l, p in zip(lines, parsed) if not p]
    by_id = {p.group("request_id"): p for p in parsed}
    assert all(p.group("bucket") == b for p in parsed)  # nothing of the quiet bucket, nor of the target
    put, get, missing = by_id[ids["put"]], by_id[ids["get"]], by_id[ids["missing"]]
    assert put.group("operation") == "REST.PUT.OBJECT" and put.group("key") == "dir/a%20b.txt"
    assert put.group("uri") == "PUT /%s/dir/a%%20b.txt HTTP/1.1" % b
    assert put.group("status") == "200" and put.group("error") == "-" and put.group("object_size") == "11"
    assert get.group("operation") == "REST.GET.OBJECT" and get.group("bytes_sent") == "11"
    assert missing.group("status") == "404" and missing.group("error") == "NoSuchKey"
    assert missing.group("object_size") == "-"
    assert "REST.GET.BUCKET" in {p.group("operation") for p in parsed}
    for p in parsed:
        assert p.group("owner") != "-" and p.group("ip") == "127.0.0.1"
        assert p.group("requester") == gw.access_key
        assert p.group("sigver") == "SigV4" and p.group("auth_type") == "AuthHeader"
        assert p.group("host") == "127.0.0.1:%d" % gw.port and p.group("tls") == "-"
        assert "Boto3" in p.group("user_agent") or "botocore" in p.group("user_agent")
        assert int(p.group("total_time")) >= 0
    assert time.strftime("/%Y:", time.gmtime()) in put.group("time")


def test_turning_logging_off_stops_delivery(gw, s3, buckets):
    b, t = buckets(), buckets()
    enable(s3, b, t, "")
    s3.put_object(Bucket=b, Key="one", Body=b"1")
    keys, lines = log_lines(s3, t, "", 1)
    assert len(lines) >= 1
    s3.put_bucket_logging(Bucket=b, BucketLoggingStatus={})
    s3.put_object(Bucket=b, Key="two", Body=b"2")
    time.sleep(2.2)
    _, later = log_lines(s3, t, "", 0, timeout=0)
    assert not any(" two " in l for l in later), later
