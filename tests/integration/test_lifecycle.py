"""Lifecycle rules with real clients: the configuration calls and their errors (boto3, one AWS CLI
call), the x-amz-expiration header, and the background worker carrying the rules out on a
gateway whose lifecycle "day" is 2 seconds and which passes over its buckets every second — so
a rule of 1 day fires within a few seconds and the tests watch it happen: expiration by days and
by date, delete markers on versioned buckets, noncurrent versions with NewerNoncurrentVersions,
expired delete markers, incomplete multipart uploads, prefix and size filters, disabled rules.
"""
import datetime
import email.utils
import json
import os
import re
import subprocess
import tempfile
import time
import shutil
import urllib.request

import botocore.exceptions
import pytest

from conftest import Gateway, random_keys, unique_bucket_name, empty_and_delete_bucket, free_port

DAY = 2  # seconds: the scaled lifecycle day of the private gateway
WAIT = 25.0  # seconds a rule of 1 day may take to fire there (due, then the next pass)


def error_of(excinfo):
    e = excinfo.value.response
    return e["Error"]["Code"], e["ResponseMetadata"]["HTTPStatusCode"]


def expect_error(code, status, fn, *args, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(*args, **kw)
    assert error_of(ei) == (code, status), ei.value.response
    return ei.value.response


@pytest.fixture(scope="module")
def fast_gateway():
    """A gateway of its own whose lifecycle day lasts DAY seconds and whose worker passes every second."""
    root = tempfile.mkdtemp(prefix="yc-lc-")
    data = os.path.join(root, "data")
    os.makedirs(data)
    ak, sk = random_keys()
    gw = Gateway(data, ak, sk)
    gw.status_port = free_port()
    gw.extra_args = ["--lifecycle-day-seconds", str(DAY), "--lifecycle-interval", "1",
                     "--status-listen", "127.0.0.1:%d" % gw.status_port]
    gw.start()
    yield gw
    gw.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def fs3(fast_gateway):
    return fast_gateway.client()


@pytest.fixture
def fbucket(fs3):
    name = unique_bucket_name("yc-lc")
    fs3.create_bucket(Bucket=name)
    yield name
    fs3.delete_bucket_lifecycle(Bucket=name)
    empty_and_delete_bucket(fs3, name)


def put_rules(s3, bucket, *rules):
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": list(rules)})


def keys(s3, bucket):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def versions(s3, bucket):
    """(key, kind, is_latest) of every version, newest first per key; kind 'v' or 'marker'."""
    page = s3.list_object_versions(Bucket=bucket)
    out = [(v["Key"], "v", v["IsLatest"], v["VersionId"]) for v in page.get("Versions", [])]
    out += [(m["Key"], "marker", m["IsLatest"], m["VersionId"]) for m in page.get("DeleteMarkers", [])]
    return out


def wait_for(cond, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def metrics(gw):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % gw.status_port, timeout=10) as r:
        return r.read().decode()


def metric(text, name, labels=""):
    m = re.search(r"^%s%s (\d+)" % (re.escape(name), re.escape(labels)), text, re.M)
    return int(m.group(1)) if m else 0


# ---------------------------------------------------------------- the configuration calls


def test_configuration_stored_read_back_and_deleted(s3, bucket):
    expect_error("NoSuchLifecycleConfiguration", 404, s3.get_bucket_lifecycle_configuration, Bucket=bucket)
    put_rules(s3, bucket,
              {"ID": "expire-tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 7}},
              {"Status": "Disabled", "Filter": {"And": {"Prefix": "logs/", "ObjectSizeGreaterThan": 10}},
               "NoncurrentVersionExpiration": {"NoncurrentDays": 3, "NewerNoncurrentVersions": 2}},
              {"ID": "uploads", "Status": "Enabled", "Filter": {"Prefix": ""},
               "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}})
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rules[0] == {"ID": "expire-tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
                        "Expiration": {"Days": 7}}
    # a rule without an ID gets one as S3 makes them (48 characters)
    assert len(rules[1]["ID"]) == 48
    assert rules[1]["Status"] == "Disabled"
    assert rules[1]["Filter"] == {"And": {"Prefix": "logs/", "ObjectSizeGreaterThan": 10}}
    assert rules[1]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 3, "NewerNoncurrentVersions": 2}
    assert rules[2]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert s3.delete_bucket_lifecycle(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    expect_error("NoSuchLifecycleConfiguration", 404, s3.get_bucket_lifecycle_configuration, Bucket=bucket)


def test_configuration_errors_as_s3_gives_them(s3, bucket):
    put = s3.put_bucket_lifecycle_configuration
    r = expect_error("NotImplemented", 501, put, Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "cold", "Status": "Enabled", "Filter": {"Prefix": ""},
         "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]}]})
    assert "storage class" in r["Error"]["Message"]
    expect_error("NotImplemented", 501, put, Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "cold", "Status": "Enabled", "Filter": {"Prefix": ""},
         "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "GLACIER"}]}]})
    expect_error("InvalidArgument", 400, put, Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "same", "Status": "Enabled", "Filter": {"Prefix": "a"}, "Expiration": {"Days": 1}},
        {"ID": "same", "Status": "Enabled", "Filter": {"Prefix": "b"}, "Expiration": {"Days": 1}}]})
    r = expect_error("InvalidRequest", 400, put, Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "x", "Status": "Enabled", "Filter": {"Prefix": ""}}]})
    assert "action" in r["Error"]["Message"]
    r = expect_error("InvalidArgument", 400, put, Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "x", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 0}}]})
    assert "positive integer" in r["Error"]["Message"]
    r = expect_error("InvalidArgument", 400, put, Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "x", "Status": "Enabled", "Filter": {"Prefix": ""},
         "Expiration": {"Date": datetime.datetime(2030, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)}}]})
    assert "midnight" in r["Error"]["Message"]
    expect_error("InvalidRequest", 400, put, Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "x", "Status": "Enabled",
         "Filter": {"And": {"Prefix": "", "ObjectSizeGreaterThan": 100, "ObjectSizeLessThan": 10}},
         "Expiration": {"Days": 1}}]})
    # nothing of a refused configuration was stored
    expect_error("NoSuchLifecycleConfiguration", 404, s3.get_bucket_lifecycle_configuration, Bucket=bucket)


def test_configuration_with_aws_cli(gateway, s3, bucket, tmp_path):
    doc = {"Rules": [{"ID": "cli-rule", "Status": "Enabled", "Filter": {"Prefix": "cli/"},
                      "Expiration": {"Days": 30}}]}
    path = tmp_path / "lc.json"
    path.write_text(json.dumps(doc))
    # a clean environment: nothing of this machine's AWS configuration
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "AWS_ACCESS_KEY_ID": gateway.access_key, "AWS_SECRET_ACCESS_KEY": gateway.secret_key,
           "AWS_DEFAULT_REGION": "us-east-1"}
    base = ["aws", "--endpoint-url", gateway.endpoint, "s3api"]
    out = subprocess.run(base + ["put-bucket-lifecycle-configuration", "--bucket", bucket,
                                 "--lifecycle-configuration", "file://%s" % path],
                         env=env, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    out = subprocess.run(base + ["get-bucket-lifecycle-configuration", "--bucket", bucket, "--output", "json"],
                         env=env, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["Rules"] == doc["Rules"]
    s3.delete_bucket_lifecycle(Bucket=bucket)


# ---------------------------------------------------------------- x-amz-expiration


def parse_expiration(value):
    m = re.fullmatch(r'expiry-date="([^"]+)", rule-id="([^"]*)"', value)
    assert m, value
    return email.utils.parsedate_to_datetime(m.group(1)), m.group(2)


def test_expiration_header_on_put_head_and_get(s3, bucket):
    put_rules(s3, bucket, {"ID": "week in tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
                           "Expiration": {"Days": 7}})
    put = s3.put_object(Bucket=bucket, Key="tmp/a", Body=b"x")
    head = s3.head_object(Bucket=bucket, Key="tmp/a")
    get = s3.get_object(Bucket=bucket, Key="tmp/a")
    mtime = head["LastModified"]
    # S3's rule: midnight UTC of the day after mtime + 7 days
    day = (mtime + datetime.timedelta(days=7)).date() + datetime.timedelta(days=1)
    want = datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.timezone.utc)
    for r in (put, head, get):
        value = r["ResponseMetadata"]["HTTPHeaders"]["x-amz-expiration"]
        assert parse_expiration(value) == (want, "week in tmp")
        assert r["Expiration"] == value
    # no rule covers this key: no header
    s3.put_object(Bucket=bucket, Key="keep/a", Body=b"x")
    assert "x-amz-expiration" not in s3.head_object(Bucket=bucket, Key="keep/a")["ResponseMetadata"]["HTTPHeaders"]
    s3.delete_bucket_lifecycle(Bucket=bucket)
    # removed: this gateway's next answer knows
    assert "x-amz-expiration" not in s3.head_object(Bucket=bucket, Key="tmp/a")["ResponseMetadata"]["HTTPHeaders"]


def test_expiration_header_weighs_tag_filters(s3, bucket):
    put_rules(s3, bucket, {"ID": "tagged", "Status": "Enabled", "Filter": {"Tag": {"Key": "tmp", "Value": "1"}},
                           "Expiration": {"Days": 1}},
              {"ID": "both", "Status": "Enabled", "Expiration": {"Days": 3}, "Filter": {"And": {
                  "Prefix": "two/", "Tags": [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]}}})
    # the tag the rule names, among others: the rule's header, from PutObject on
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="other=z&tmp=1")
    assert parse_expiration(put["Expiration"])[1] == "tagged"
    assert parse_expiration(s3.head_object(Bucket=bucket, Key="k")["Expiration"])[1] == "tagged"
    # no tags, then tags given afterwards by PutObjectTagging
    assert "Expiration" not in s3.put_object(Bucket=bucket, Key="later", Body=b"x")
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="later")
    s3.put_object_tagging(Bucket=bucket, Key="later", Tagging={"TagSet": [{"Key": "tmp", "Value": "1"}]})
    assert parse_expiration(s3.get_object(Bucket=bucket, Key="later")["Expiration"])[1] == "tagged"
    # the tag with another value
    s3.put_object(Bucket=bucket, Key="other", Body=b"x", Tagging="tmp=2")
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="other")
    # And: every tag of the rule with its value, and the prefix
    s3.put_object(Bucket=bucket, Key="two/yes", Body=b"x", Tagging="a=1&b=2")
    s3.put_object(Bucket=bucket, Key="two/no", Body=b"x", Tagging="a=1&b=3")
    s3.put_object(Bucket=bucket, Key="elsewhere", Body=b"x", Tagging="a=1&b=2")
    assert parse_expiration(s3.head_object(Bucket=bucket, Key="two/yes")["Expiration"])[1] == "both"
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="two/no")
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="elsewhere")


def test_expiration_header_only_for_current_version_expiration(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    old = s3.put_object(Bucket=bucket, Key="k", Body=b"old")["VersionId"]
    new = s3.put_object(Bucket=bucket, Key="k", Body=b"new")["VersionId"]
    # rules that never expire a current version give no header, on any version
    put_rules(s3, bucket, {"ID": "noncurrent", "Status": "Enabled", "Filter": {},
                           "NoncurrentVersionExpiration": {"NoncurrentDays": 1}},
              {"ID": "markers", "Status": "Enabled", "Filter": {"Prefix": ""},
               "Expiration": {"ExpiredObjectDeleteMarker": True}})
    for vid in (None, old, new):
        kw = {"VersionId": vid} if vid else {}
        assert "Expiration" not in s3.head_object(Bucket=bucket, Key="k", **kw)
    # an Expiration by days: the current version, asked without a version id, and the writes
    put_rules(s3, bucket, {"ID": "days", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 2}})
    assert parse_expiration(s3.head_object(Bucket=bucket, Key="k")["Expiration"])[1] == "days"
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="k", VersionId=new)
    assert "Expiration" not in s3.get_object(Bucket=bucket, Key="k", VersionId=old)
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1, Body=b"m")
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    assert parse_expiration(done["Expiration"])[1] == "days"
    copy = s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "k"})
    assert parse_expiration(copy["Expiration"])[1] == "days"


def test_transition_values_checked_before_not_implemented(s3, bucket):
    put = s3.put_bucket_lifecycle_configuration
    # boto3 sends a Date of "20220927" as that many seconds after 1970: no midnight
    r = expect_error("InvalidArgument", 400, put, Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "r", "Status": "Enabled", "Prefix": "t/", "Expiration": {"Date": "2030-09-27"},
         "Transitions": [{"Date": "20220927", "StorageClass": "GLACIER"}]}]})
    assert r["Error"]["Message"] == "'Date' must be at midnight GMT"
    r = expect_error("InvalidArgument", 400, put, Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "r", "Status": "Enabled", "Filter": {}, "Transitions": [{"Days": -1, "StorageClass": "GLACIER"}]}]})
    assert r["Error"]["Message"] == "'Days' in Transition action must be nonnegative"
    # a storage class outside S3's enumeration is a malformed document, not a class not built
    for rule in ({"Transitions": [{"Days": 30, "StorageClass": "FROZEN"}]},
                 {"NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "STANDARD"}]}):
        expect_error("MalformedXML", 400, put, Bucket=bucket, LifecycleConfiguration={"Rules": [
            dict({"ID": "r", "Status": "Enabled", "Filter": {}}, **rule)]})
    # a well-formed transition is still refused as not built, and nothing is stored
    expect_error("NotImplemented", 501, put, Bucket=bucket, LifecycleConfiguration={"Rules": [
        {"ID": "r", "Status": "Enabled", "Filter": {}, "Transitions": [{"Date": "2030-09-27", "StorageClass": "GLACIER"}]}]})
    expect_error("NoSuchLifecycleConfiguration", 404, s3.get_bucket_lifecycle_configuration, Bucket=bucket)


# ---------------------------------------------------------------- the worker


def test_expiration_days_removes_what_the_prefix_covers(fast_gateway, fs3, fbucket):
    put_rules(fs3, fbucket, {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
                             "Expiration": {"Days": 1}})
    r = fs3.put_object(Bucket=fbucket, Key="tmp/a", Body=b"short-lived")
    due, rule = parse_expiration(r["Expiration"])
    assert rule == "tmp"
    fs3.put_object(Bucket=fbucket, Key="tmp/b", Body=b"short-lived")
    fs3.put_object(Bucket=fbucket, Key="keep/a", Body=b"kept")
    before = metric(metrics(fast_gateway), "yc_lifecycle_actions_total", '{action="expire"}')
    assert wait_for(lambda: keys(fs3, fbucket) == ["keep/a"]), keys(fs3, fbucket)
    # not before it was due (the header said when)
    assert datetime.datetime.now(datetime.timezone.utc) >= due
    expect_error("NoSuchKey", 404, fs3.get_object, Bucket=fbucket, Key="tmp/a")
    assert fs3.get_object(Bucket=fbucket, Key="keep/a")["Body"].read() == b"kept"
    after = metrics(fast_gateway)
    assert metric(after, "yc_lifecycle_actions_total", '{action="expire"}') >= before + 2
    assert metric(after, "yc_lifecycle_passes_total") > 0
    assert "event=lifecycle_pass bucket=%s" % fbucket in fast_gateway.stderr_text()


def test_expiration_date_in_the_past_removes_at_the_next_pass(fs3, fbucket):
    fs3.put_object(Bucket=fbucket, Key="old/a", Body=b"x")
    fs3.put_object(Bucket=fbucket, Key="new/a", Body=b"x")
    put_rules(fs3, fbucket, {"ID": "date", "Status": "Enabled", "Filter": {"Prefix": "old/"},
                             "Expiration": {"Date": datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)}})
    assert wait_for(lambda: keys(fs3, fbucket) == ["new/a"]), keys(fs3, fbucket)


def test_versioned_expiration_adds_a_delete_marker(fs3, fbucket):
    fs3.put_bucket_versioning(Bucket=fbucket, VersioningConfiguration={"Status": "Enabled"})
    vid = fs3.put_object(Bucket=fbucket, Key="doc", Body=b"v1")["VersionId"]
    put_rules(fs3, fbucket, {"ID": "exp", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 1}})

    def marker_on_top():
        vs = versions(fs3, fbucket)
        return any(k == "doc" and kind == "marker" and latest for k, kind, latest, _ in vs) and vs
    vs = wait_for(marker_on_top)
    assert vs, versions(fs3, fbucket)
    # the data stays as a noncurrent version; the key reads as deleted
    assert ("doc", "v", False, vid) in vs
    expect_error("NoSuchKey", 404, fs3.get_object, Bucket=fbucket, Key="doc")
    assert fs3.get_object(Bucket=fbucket, Key="doc", VersionId=vid)["Body"].read() == b"v1"
    # one marker, not one per pass
    time.sleep(2 * DAY)
    assert sum(1 for v in versions(fs3, fbucket) if v[1] == "marker") == 1


def test_noncurrent_expiration_keeps_newer_noncurrent_versions(fs3, fbucket):
    fs3.put_bucket_versioning(Bucket=fbucket, VersioningConfiguration={"Status": "Enabled"})
    ids = [fs3.put_object(Bucket=fbucket, Key="k", Body=b"%d" % i)["VersionId"] for i in range(4)]
    fs3.put_object(Bucket=fbucket, Key="other", Body=b"current only")
    put_rules(fs3, fbucket, {"ID": "nc", "Status": "Enabled", "Filter": {"Prefix": ""},
                             "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 1}})
    # the current version and the newest noncurrent one stay; the two older ones go
    want = [ids[3], ids[2]]
    assert wait_for(lambda: [v[3] for v in versions(fs3, fbucket) if v[0] == "k"] == want), versions(fs3, fbucket)
    assert fs3.get_object(Bucket=fbucket, Key="k")["Body"].read() == b"3"
    assert [v[0] for v in versions(fs3, fbucket) if v[0] == "other"] == ["other"]


def test_expired_object_delete_marker_is_removed(fs3, fbucket):
    fs3.put_bucket_versioning(Bucket=fbucket, VersioningConfiguration={"Status": "Enabled"})
    v = fs3.put_object(Bucket=fbucket, Key="gone", Body=b"x")["VersionId"]
    fs3.delete_object(Bucket=fbucket, Key="gone")  # a marker on top
    fs3.delete_object(Bucket=fbucket, Key="gone", VersionId=v)  # the marker is all that is left
    v2 = fs3.put_object(Bucket=fbucket, Key="stays", Body=b"x")["VersionId"]
    fs3.delete_object(Bucket=fbucket, Key="stays")  # a marker with a version beneath: not expired
    put_rules(fs3, fbucket, {"ID": "markers", "Status": "Enabled", "Filter": {"Prefix": ""},
                             "Expiration": {"ExpiredObjectDeleteMarker": True}})
    assert wait_for(lambda: not any(x[0] == "gone" for x in versions(fs3, fbucket))), versions(fs3, fbucket)
    vs = versions(fs3, fbucket)
    assert ("stays", "v", False, v2) in vs and any(x[0] == "stays" and x[1] == "marker" for x in vs)


def test_incomplete_multipart_upload_is_aborted(fs3, fbucket):
    up = fs3.create_multipart_upload(Bucket=fbucket, Key="big/part")["UploadId"]
    fs3.upload_part(Bucket=fbucket, Key="big/part", UploadId=up, PartNumber=1, Body=b"p" * 1024)
    keep = fs3.create_multipart_upload(Bucket=fbucket, Key="other/part")["UploadId"]
    put_rules(fs3, fbucket, {"ID": "abort", "Status": "Enabled", "Filter": {"Prefix": "big/"},
                             "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}})

    def uploads():
        return [u["UploadId"] for u in fs3.list_multipart_uploads(Bucket=fbucket).get("Uploads", [])]
    assert wait_for(lambda: uploads() == [keep]), uploads()
    expect_error("NoSuchUpload", 404, fs3.list_parts, Bucket=fbucket, Key="big/part", UploadId=up)
    fs3.abort_multipart_upload(Bucket=fbucket, Key="other/part", UploadId=keep)


def test_size_filters_choose_what_expires(fs3, fbucket):
    for name, size in (("small", 50), ("medium", 500), ("large", 5000)):
        fs3.put_object(Bucket=fbucket, Key="s/" + name, Body=b"x" * size)
    put_rules(fs3, fbucket, {"ID": "mid", "Status": "Enabled",
                             "Filter": {"And": {"Prefix": "s/", "ObjectSizeGreaterThan": 100,
                                                "ObjectSizeLessThan": 1000}},
                             "Expiration": {"Days": 1}})
    assert wait_for(lambda: keys(fs3, fbucket) == ["s/large", "s/small"]), keys(fs3, fbucket)
    put_rules(fs3, fbucket, {"ID": "big", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 1000},
                             "Expiration": {"Days": 1}})
    assert wait_for(lambda: keys(fs3, fbucket) == ["s/small"]), keys(fs3, fbucket)


def passes_after(gw, n):
    start = metric(metrics(gw), "yc_lifecycle_passes_total")
    return wait_for(lambda: metric(metrics(gw), "yc_lifecycle_passes_total") >= start + n)


def test_disabled_rule_does_nothing_and_tag_rule_takes_only_tagged_objects(fast_gateway, fs3, fbucket):
    fs3.put_object(Bucket=fbucket, Key="a", Body=b"x")
    fs3.put_object(Bucket=fbucket, Key="t/b", Body=b"x", Tagging="tmp=2")
    fs3.put_object(Bucket=fbucket, Key="t/c", Body=b"x", Tagging="tmp=1&other=z")
    put_rules(fs3, fbucket,
              {"ID": "off", "Status": "Disabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}},
              {"ID": "tagged", "Status": "Enabled", "Filter": {"Tag": {"Key": "tmp", "Value": "1"}},
               "Expiration": {"Days": 1}})
    time.sleep(3 * DAY)  # every object is due several days over, were a rule to apply
    assert passes_after(fast_gateway, 3)
    # only the object whose tags carry tmp=1 expired: no tags, or another value, keep it
    assert keys(fs3, fbucket) == ["a", "t/b"]
    assert "Expiration" not in fs3.put_object(Bucket=fbucket, Key="c", Body=b"x")
