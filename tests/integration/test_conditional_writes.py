"""Conditional writes and deletes: If-None-Match: * and If-Match on PutObject, CopyObject (its
destination) and CompleteMultipartUpload, If-Match (and x-amz-if-match-last-modified-time / -size) on DeleteObject,
with S3's answers (412 PreconditionFailed, 404 NoSuchKey for If-Match without an object, 501 for
an If-None-Match other than "*"), through boto3 and the AWS CLI; and the race that makes them
worth having: gateways over one cluster racing the same If-None-Match: * PUT give exactly one 200.

This machine's boto3 (botocore 1.29) predates the IfNoneMatch/IfMatch parameters, so the boto3
tests add the headers to the request before it is signed (an event hook, as botocore's own
customisations do); the AWS CLI's botocore has the parameters and is used as shipped.
"""
import base64
import concurrent.futures
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

import botocore.exceptions
import pytest

import yc_raw

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fault"))
import cluster as yc  # noqa: E402

RACE_ROUNDS = int(os.environ.get("YC_COND_RACE_ROUNDS", "100"))
RACERS_PER_GATEWAY = 3


def call(client, method, headers, **kwargs):
    """client.method(**kwargs) with extra request headers, signed as sent."""
    op = client.meta.method_to_api_mapping[method]

    def add(request, **kw):
        for k, v in headers.items():
            request.headers[k] = v

    event = "before-sign.s3.%s" % op
    uid = "yc-cond-%d" % threading.get_ident()
    client.meta.events.register(event, add, unique_id=uid)
    try:
        return getattr(client, method)(**kwargs)
    finally:
        client.meta.events.unregister(event, unique_id=uid)


def error_of(fn, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(*args, **kwargs)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]


def body_of(s3, bucket, key):
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


# ---------------------------------------------------------------- PutObject

def test_put_if_none_match_star_writes_a_new_key(s3, bucket):
    r = call(s3, "put_object", {"If-None-Match": "*"}, Bucket=bucket, Key="new", Body=b"first")
    assert r["ETag"] == '"%s"' % hashlib.md5(b"first").hexdigest()
    assert body_of(s3, bucket, "new") == b"first"


def test_put_if_none_match_star_refuses_an_existing_key(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"old")
    status, code, err = error_of(call, s3, "put_object", {"If-None-Match": "*"}, Bucket=bucket, Key="k", Body=b"new")
    assert (status, code) == (412, "PreconditionFailed")
    assert err["Condition"] == "If-None-Match"
    assert body_of(s3, bucket, "k") == b"old"


def test_put_if_none_match_star_after_a_delete(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"old")
    s3.delete_object(Bucket=bucket, Key="k")
    call(s3, "put_object", {"If-None-Match": "*"}, Bucket=bucket, Key="k", Body=b"again")
    assert body_of(s3, bucket, "k") == b"again"


def test_put_if_none_match_star_over_a_delete_marker(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="k", Body=b"old")
    s3.delete_object(Bucket=bucket, Key="k")  # the current version is a marker: no object
    r = call(s3, "put_object", {"If-None-Match": "*"}, Bucket=bucket, Key="k", Body=b"new")
    assert r["VersionId"] != "null"
    assert body_of(s3, bucket, "k") == b"new"
    status, code, _ = error_of(call, s3, "put_object", {"If-None-Match": "*"}, Bucket=bucket, Key="k", Body=b"x")
    assert (status, code) == (412, "PreconditionFailed")


def test_put_if_none_match_with_an_etag_is_not_implemented(gateway, s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"old")["ETag"]
    r = yc_raw.request(gateway, "PUT", "/%s/k" % bucket, headers={"If-None-Match": etag}, body=b"new")
    assert r.status == 501 and r.error()["Code"] == "NotImplemented"
    assert r.error()["Header"] == "if-none-match"
    assert body_of(s3, bucket, "k") == b"old"


def test_put_if_match_overwrites_only_the_named_object(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["ETag"]
    etag2 = call(s3, "put_object", {"If-Match": etag}, Bucket=bucket, Key="k", Body=b"v2")["ETag"]
    assert body_of(s3, bucket, "k") == b"v2"
    # the old ETag no longer names the current object
    status, code, err = error_of(call, s3, "put_object", {"If-Match": etag}, Bucket=bucket, Key="k", Body=b"v3")
    assert (status, code) == (412, "PreconditionFailed") and err["Condition"] == "If-Match"
    assert body_of(s3, bucket, "k") == b"v2"
    # unquoted, as S3 accepts it
    call(s3, "put_object", {"If-Match": etag2.strip('"')}, Bucket=bucket, Key="k", Body=b"v3")
    assert body_of(s3, bucket, "k") == b"v3"


def test_put_if_match_without_an_object_is_no_such_key(s3, bucket):
    status, code, _ = error_of(call, s3, "put_object", {"If-Match": '"0123456789abcdef0123456789abcdef"'},
                               Bucket=bucket, Key="absent", Body=b"x")
    assert (status, code) == (404, "NoSuchKey")
    assert error_of(s3.head_object, Bucket=bucket, Key="absent")[0] == 404


def test_put_if_match_large_object_is_checked_after_the_body(s3, bucket):
    """A streamed (multi-stripe) body whose condition fails leaves the old object whole."""
    old = os.urandom(3 * 1024 * 1024 + 17)
    s3.put_object(Bucket=bucket, Key="big", Body=old)
    status, code, _ = error_of(call, s3, "put_object", {"If-None-Match": "*"}, Bucket=bucket, Key="big",
                               Body=os.urandom(5 * 1024 * 1024))
    assert (status, code) == (412, "PreconditionFailed")
    assert body_of(s3, bucket, "big") == old


# ---------------------------------------------------------------- CompleteMultipartUpload

def start_upload(s3, bucket, key, data):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=1, Body=data)["ETag"]
    return up, {"Parts": [{"PartNumber": 1, "ETag": etag}]}


def test_complete_if_none_match_refuses_an_existing_key_and_keeps_the_upload(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"old")
    up, parts = start_upload(s3, bucket, "k", b"new")
    status, code, err = error_of(call, s3, "complete_multipart_upload", {"If-None-Match": "*"},
                                 Bucket=bucket, Key="k", UploadId=up, MultipartUpload=parts)
    assert (status, code) == (412, "PreconditionFailed") and err["Condition"] == "If-None-Match"
    assert body_of(s3, bucket, "k") == b"old"
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=bucket, Key="k", UploadId=up)["Parts"]] == [1]
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=up, MultipartUpload=parts)
    assert body_of(s3, bucket, "k") == b"new"


def test_create_multipart_upload_ignores_conditions_and_complete_judges_them(s3, bucket):
    # S3 reads If-None-Match / If-Match at Complete only: CreateMultipartUpload begins the upload
    # whatever they say, and writes nothing
    s3.put_object(Bucket=bucket, Key="k", Body=b"old")
    up = call(s3, "create_multipart_upload", {"If-None-Match": "*"}, Bucket=bucket, Key="k")["UploadId"]
    call(s3, "create_multipart_upload", {"If-Match": '"0123456789abcdef0123456789abcdef"'}, Bucket=bucket, Key="other")
    assert sorted(u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]) == ["k", "other"]
    assert body_of(s3, bucket, "k") == b"old"
    etag = s3.upload_part(Bucket=bucket, Key="k", UploadId=up, PartNumber=1, Body=b"new")["ETag"]
    parts = {"Parts": [{"PartNumber": 1, "ETag": etag}]}
    status, code, _ = error_of(call, s3, "complete_multipart_upload", {"If-None-Match": "*"},
                               Bucket=bucket, Key="k", UploadId=up, MultipartUpload=parts)
    assert (status, code) == (412, "PreconditionFailed")
    assert body_of(s3, bucket, "k") == b"old"


def test_complete_if_none_match_on_a_new_key(s3, bucket):
    up, parts = start_upload(s3, bucket, "fresh", b"data")
    call(s3, "complete_multipart_upload", {"If-None-Match": "*"}, Bucket=bucket, Key="fresh", UploadId=up,
         MultipartUpload=parts)
    assert body_of(s3, bucket, "fresh") == b"data"


def test_complete_if_match(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"old")["ETag"]
    up, parts = start_upload(s3, bucket, "k", b"new")
    status, code, _ = error_of(call, s3, "complete_multipart_upload", {"If-Match": '"00000000000000000000000000000000"'},
                               Bucket=bucket, Key="k", UploadId=up, MultipartUpload=parts)
    assert (status, code) == (412, "PreconditionFailed")
    assert body_of(s3, bucket, "k") == b"old"
    call(s3, "complete_multipart_upload", {"If-Match": etag}, Bucket=bucket, Key="k", UploadId=up,
         MultipartUpload=parts)
    assert body_of(s3, bucket, "k") == b"new"


# ---------------------------------------------------------------- CopyObject (the destination)

def test_copy_if_none_match_star_refuses_an_existing_destination(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"new")
    s3.put_object(Bucket=bucket, Key="dst", Body=b"old")
    status, code, err = error_of(call, s3, "copy_object", {"If-None-Match": "*"}, Bucket=bucket, Key="dst",
                                 CopySource={"Bucket": bucket, "Key": "src"})
    assert (status, code) == (412, "PreconditionFailed") and err["Condition"] == "If-None-Match"
    assert body_of(s3, bucket, "dst") == b"old"
    call(s3, "copy_object", {"If-None-Match": "*"}, Bucket=bucket, Key="fresh", CopySource={"Bucket": bucket, "Key": "src"})
    assert body_of(s3, bucket, "fresh") == b"new"


def test_copy_if_match_names_the_destination_not_the_source(s3, bucket):
    src_etag = s3.put_object(Bucket=bucket, Key="src", Body=b"new")["ETag"]
    dst_etag = s3.put_object(Bucket=bucket, Key="dst", Body=b"old")["ETag"]
    status, code, _ = error_of(call, s3, "copy_object", {"If-Match": src_etag}, Bucket=bucket, Key="dst",
                               CopySource={"Bucket": bucket, "Key": "src"})
    assert (status, code) == (412, "PreconditionFailed")
    assert body_of(s3, bucket, "dst") == b"old"
    call(s3, "copy_object", {"If-Match": dst_etag}, Bucket=bucket, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert body_of(s3, bucket, "dst") == b"new"


def test_copy_if_match_without_a_destination_is_no_such_key(s3, bucket):
    s3.put_object(Bucket=bucket, Key="src", Body=b"new")
    status, code, _ = error_of(call, s3, "copy_object", {"If-Match": "*"}, Bucket=bucket, Key="none",
                               CopySource={"Bucket": bucket, "Key": "src"})
    assert (status, code) == (404, "NoSuchKey")
    assert error_of(s3.head_object, Bucket=bucket, Key="none")[0] == 404


# ---------------------------------------------------------------- DeleteObject

def test_delete_if_match(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v")["ETag"]
    status, code, err = error_of(call, s3, "delete_object", {"If-Match": '"00000000000000000000000000000000"'},
                                 Bucket=bucket, Key="k")
    assert (status, code) == (412, "PreconditionFailed") and err["Condition"] == "If-Match"
    assert body_of(s3, bucket, "k") == b"v"
    r = call(s3, "delete_object", {"If-Match": etag}, Bucket=bucket, Key="k")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert error_of(s3.head_object, Bucket=bucket, Key="k")[0] == 404
    # If-Match names an object: without one, NoSuchKey
    status, code, _ = error_of(call, s3, "delete_object", {"If-Match": etag}, Bucket=bucket, Key="k")
    assert (status, code) == (404, "NoSuchKey")


def test_delete_if_match_star_deletes_what_exists(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    call(s3, "delete_object", {"If-Match": "*"}, Bucket=bucket, Key="k")
    assert error_of(s3.head_object, Bucket=bucket, Key="k")[0] == 404
    assert error_of(call, s3, "delete_object", {"If-Match": "*"}, Bucket=bucket, Key="k")[:2] == (404, "NoSuchKey")


def test_delete_if_match_on_a_versioned_bucket_adds_a_marker(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v")["ETag"]
    assert error_of(call, s3, "delete_object", {"If-Match": '"0"'}, Bucket=bucket, Key="k")[:2] == \
        (412, "PreconditionFailed")
    r = call(s3, "delete_object", {"If-Match": etag}, Bucket=bucket, Key="k")
    assert r["DeleteMarker"] is True
    versions = s3.list_object_versions(Bucket=bucket, Prefix="k")
    assert len(versions["Versions"]) == 1 and len(versions["DeleteMarkers"]) == 1


def test_delete_if_match_size_and_last_modified_time(s3, bucket):
    s3.put_object(Bucket=bucket, Key="k", Body=b"12345")
    head = s3.head_object(Bucket=bucket, Key="k")
    lm = head["ResponseMetadata"]["HTTPHeaders"]["last-modified"]
    status, code, err = error_of(call, s3, "delete_object", {"x-amz-if-match-size": "4"}, Bucket=bucket, Key="k")
    assert (status, code) == (412, "PreconditionFailed")
    status, code, _ = error_of(call, s3, "delete_object",
                               {"x-amz-if-match-last-modified-time": "Sat, 01 Jan 2000 00:00:00 GMT"},
                               Bucket=bucket, Key="k")
    assert (status, code) == (412, "PreconditionFailed")
    assert body_of(s3, bucket, "k") == b"12345"
    status, code, err = error_of(call, s3, "delete_object", {"x-amz-if-match-size": "five"}, Bucket=bucket, Key="k")
    assert (status, code) == (400, "InvalidArgument") and err["ArgumentName"] == "x-amz-if-match-size"
    call(s3, "delete_object", {"x-amz-if-match-size": "5", "x-amz-if-match-last-modified-time": lm},
         Bucket=bucket, Key="k")
    assert error_of(s3.head_object, Bucket=bucket, Key="k")[0] == 404
    # without an object, a size or time condition has nothing to compare: 204 as S3 documents
    r = call(s3, "delete_object", {"x-amz-if-match-size": "5"}, Bucket=bucket, Key="k")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204


def delete_objects_raw(gateway, bucket, objects):
    """DeleteObjects with the given <Object> bodies (this boto3 lacks the condition elements)."""
    body = ("<Delete>%s</Delete>" % "".join("<Object>%s</Object>" % o for o in objects)).encode()
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    r = yc_raw.request(gateway, "POST", "/" + bucket, "delete", headers={"Content-MD5": md5}, body=body)
    assert r.status == 200, r.body
    root = ET.fromstring(r.body)
    out = {}
    for el in root:
        tag = el.tag.split("}")[-1]
        key = el.find("{*}Key").text
        out[key] = "Deleted" if tag == "Deleted" else el.find("{*}Code").text
    return out


def test_delete_objects_with_conditions(gateway, s3, bucket):
    etags = {k: s3.put_object(Bucket=bucket, Key=k, Body=k.encode() * 3)["ETag"] for k in ("a", "b", "c", "d", "e")}
    lm = s3.head_object(Bucket=bucket, Key="d")["LastModified"].strftime("%Y-%m-%dT%H:%M:%S.000Z")
    got = delete_objects_raw(gateway, bucket, [
        "<Key>a</Key><ETag>%s</ETag>" % etags["a"],
        "<Key>b</Key><ETag>\"00000000000000000000000000000000\"</ETag>",
        "<Key>c</Key><Size>4</Size>",
        "<Key>d</Key><Size>3</Size><LastModifiedTime>%s</LastModifiedTime>" % lm,
        "<Key>e</Key><LastModifiedTime>2001-01-01T00:00:00.000Z</LastModifiedTime>",
        "<Key>absent</Key><ETag>%s</ETag>" % etags["a"],
    ])
    assert got == {"a": "Deleted", "b": "PreconditionFailed", "c": "PreconditionFailed", "d": "Deleted",
                   "e": "PreconditionFailed", "absent": "NoSuchKey"}
    left = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
    assert left == ["b", "c", "e"]


# ---------------------------------------------------------------- the AWS CLI

def aws(gateway, tmp_path, *args):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "AWS_ACCESS_KEY_ID": gateway.access_key, "AWS_SECRET_ACCESS_KEY": gateway.secret_key,
           "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(["aws", "--endpoint-url", gateway.endpoint, "--output", "json"] + list(args), env=env,
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0 and "Unknown options" in out.stderr:
        pytest.skip("this AWS CLI predates conditional writes (2024): %s" % out.stderr.strip())
    return out


def test_aws_cli_put_object_if_none_match(gateway, s3, bucket, tmp_path):
    src = tmp_path / "body"
    src.write_bytes(b"from the cli")
    out = aws(gateway, tmp_path, "s3api", "put-object", "--bucket", bucket, "--key", "cli", "--body", str(src),
              "--if-none-match", "*")
    assert out.returncode == 0, out.stderr
    etag = json.loads(out.stdout)["ETag"]
    out = aws(gateway, tmp_path, "s3api", "put-object", "--bucket", bucket, "--key", "cli", "--body", str(src),
              "--if-none-match", "*")
    assert out.returncode != 0 and "PreconditionFailed" in out.stderr, out.stderr
    out = aws(gateway, tmp_path, "s3api", "delete-object", "--bucket", bucket, "--key", "cli", "--if-match",
              '"ffffffffffffffffffffffffffffffff"')
    assert out.returncode != 0 and "PreconditionFailed" in out.stderr, out.stderr
    out = aws(gateway, tmp_path, "s3api", "delete-object", "--bucket", bucket, "--key", "cli", "--if-match", etag)
    assert out.returncode == 0, out.stderr
    assert error_of(s3.head_object, Bucket=bucket, Key="cli")[0] == 404


# ---------------------------------------------------------------- the race across gateways

@pytest.fixture(scope="module")
def two_gateways():
    """Three yc-store daemons (EC 4+2 over 6 drives) and two gateways over them."""
    cl = yc.Cluster()
    try:
        cl.start()
        gw2 = yc.NetGateway(os.path.join(cl.root, "gateway2"), cl.access_key, cl.secret_key, cl.drives_list(),
                            cl.secret, cl.gateway_args).start()
    except yc.ClusterError as e:
        cl.close()
        pytest.fail(str(e), pytrace=False)
    yield cl.gateway, gw2
    gw2.stop()
    cl.close()


def test_if_none_match_race_across_two_gateways(two_gateways):
    gw1, gw2 = two_gateways
    admin = gw1.client()
    bucket = yc.unique_bucket_name("yc-cond")
    admin.create_bucket(Bucket=bucket)
    gw2.client().head_bucket(Bucket=bucket)
    clients = [gw.client() for gw in (gw1, gw2) for _ in range(RACERS_PER_GATEWAY)]
    outcomes = {"200": 0, "412": 0, "409": 0}
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(len(clients)) as pool:
        for rnd in range(RACE_ROUNDS):
            key = "race-%d" % rnd
            barrier = threading.Barrier(len(clients))

            def racer(i):
                body = b"%d:%d:" % (rnd, i) + b"x" * 2048
                barrier.wait()
                try:
                    call(clients[i], "put_object", {"If-None-Match": "*"}, Bucket=bucket, Key=key, Body=body)
                    return "200", body
                except botocore.exceptions.ClientError as e:
                    return str(e.response["ResponseMetadata"]["HTTPStatusCode"]), e.response["Error"]["Code"]

            results = list(pool.map(racer, range(len(clients))))
            winners = [body for status, body in results if status == "200"]
            losers = [(s, c) for s, c in results if s != "200"]
            assert len(winners) == 1, "round %d: %d PUTs answered 200: %s" % (
                rnd, len(winners), [s if s == "200" else (s, c) for s, c in results])
            assert all(x in (("412", "PreconditionFailed"), ("409", "ConditionalRequestConflict")) for x in losers), \
                "round %d: %s" % (rnd, losers)
            for s, _ in results:
                outcomes[s] += 1
            # every gateway reads the winner's bytes
            for c in (clients[0], clients[-1]):
                assert c.get_object(Bucket=bucket, Key=key)["Body"].read() == winners[0], "round %d" % rnd
    elapsed = time.monotonic() - started
    print("%d rounds in %.1f s: %s" % (RACE_ROUNDS, elapsed, outcomes))
    assert outcomes["200"] == RACE_ROUNDS
