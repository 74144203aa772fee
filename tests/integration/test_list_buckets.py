"""ListBuckets paging as the current S3 API reference has it: max-buckets, continuation-token,
prefix and bucket-region, with ContinuationToken, Prefix and each bucket's BucketRegion in the
answer. Through the AWS CLI (its botocore knows the parameters; this machine's boto3 does not)
and signed raw requests for the errors.
"""
import json
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

import yc_raw

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


@pytest.fixture(scope="module")
def own_gateway(gateway_factory):
    """A gateway of this file alone: the buckets it lists are exactly those made here."""
    gw = gateway_factory()
    s3 = gw.client()
    names = ["alpha-%02d" % i for i in range(7)] + ["beta-1", "beta-2"]
    for n in names:
        s3.create_bucket(Bucket=n)
    gw.names = sorted(names)
    return gw


def aws(gw, tmp_path, *args):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path),
           "AWS_ACCESS_KEY_ID": gw.access_key, "AWS_SECRET_ACCESS_KEY": gw.secret_key,
           "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(["aws", "--endpoint-url", gw.endpoint, "--output", "json", "s3api"] + list(args), env=env,
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0 and "Unknown options" in out.stderr:
        pytest.skip("this AWS CLI predates ListBuckets paging (2024): %s" % out.stderr.strip())
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def list_raw(gw, query=""):
    r = yc_raw.request(gw, "GET", "/", query)
    return r, (ET.fromstring(r.body) if r.status == 200 else None)


def test_all_buckets_without_paging(own_gateway):
    r, doc = list_raw(own_gateway)
    assert r.status == 200
    assert [b.findtext(NS + "Name") for b in doc.iter(NS + "Bucket")] == own_gateway.names
    assert doc.find(NS + "ContinuationToken") is None
    assert {b.findtext(NS + "BucketRegion") for b in doc.iter(NS + "Bucket")} == {"us-east-1"}


def test_pages_with_the_aws_cli(own_gateway, tmp_path):
    seen, token, pages = [], None, 0
    while True:
        args = ["list-buckets", "--max-buckets", "4", "--no-paginate"]
        if token:
            args += ["--continuation-token", token]
        doc = aws(own_gateway, tmp_path, *args)
        pages += 1
        assert len(doc["Buckets"]) <= 4
        seen += [b["Name"] for b in doc["Buckets"]]
        token = doc.get("ContinuationToken")
        if not token:
            break
    assert seen == own_gateway.names and pages == 3


def test_the_cli_paginator_follows_the_tokens(own_gateway, tmp_path):
    doc = aws(own_gateway, tmp_path, "list-buckets", "--page-size", "2")
    assert [b["Name"] for b in doc["Buckets"]] == own_gateway.names


def test_prefix_and_region(own_gateway, tmp_path):
    doc = aws(own_gateway, tmp_path, "list-buckets", "--prefix", "beta-", "--no-paginate")
    assert [b["Name"] for b in doc["Buckets"]] == ["beta-1", "beta-2"]
    assert doc["Prefix"] == "beta-"
    assert all(b["BucketRegion"] == "us-east-1" for b in doc["Buckets"])
    doc = aws(own_gateway, tmp_path, "list-buckets", "--bucket-region", "eu-west-1", "--no-paginate")
    assert doc.get("Buckets", []) == []
    doc = aws(own_gateway, tmp_path, "list-buckets", "--bucket-region", "us-east-1", "--prefix", "alpha-",
              "--max-buckets", "5", "--no-paginate")
    assert [b["Name"] for b in doc["Buckets"]] == own_gateway.names[:5] and doc["ContinuationToken"]


def test_last_full_page_has_no_token(own_gateway):
    r, doc = list_raw(own_gateway, "max-buckets=%d" % len(own_gateway.names))
    assert len(list(doc.iter(NS + "Bucket"))) == len(own_gateway.names)
    assert doc.find(NS + "ContinuationToken") is None


@pytest.mark.parametrize("value", ["0", "10001", "-1", "x", ""])
def test_bad_max_buckets(own_gateway, value):
    r, _ = list_raw(own_gateway, "max-buckets=" + value)
    assert r.status == 400 and r.error()["Code"] == "InvalidArgument", r.body
    assert r.error()["RequestId"]


def test_bad_continuation_token(own_gateway):
    r, _ = list_raw(own_gateway, "continuation-token=%21%21not-base64")
    assert r.status == 400 and r.error()["Code"] == "InvalidArgument"
