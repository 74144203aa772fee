"""The AWS SDK for JavaScript v3 (tests/js, installed from npm by `make deps` or here with
`npm ci`) against a private yc-gateway: node's own test runner runs tests/js/*.test.mjs with the
SDK's defaults, which send a CRC32 with every upload and validate every download's checksum.
"""
import os
import shutil
import subprocess

import pytest

from conftest import REPO_ROOT, empty_and_delete_bucket, unique_bucket_name

JS_DIR = os.path.join(REPO_ROOT, "tests", "js")
NODE = shutil.which("node")
NPM = shutil.which("npm")


@pytest.fixture(scope="module")
def js_sdk():
    if NODE is None or NPM is None:
        pytest.fail("node and npm are needed for the JavaScript SDK tests (make deps installs them)", pytrace=False)
    if not os.path.isdir(os.path.join(JS_DIR, "node_modules", "@aws-sdk", "client-s3")):
        res = subprocess.run([NPM, "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, capture_output=True, text=True,
                             timeout=600)
        if res.returncode != 0:
            pytest.fail("npm ci in tests/js failed:\n%s%s" % (res.stdout[-2000:], res.stderr[-2000:]), pytrace=False)
    return JS_DIR


def test_js_sdk_defaults_round_trip(js_sdk, gateway_factory):
    gw = gateway_factory()
    s3 = gw.client()
    bucket = unique_bucket_name("yc-js")
    s3.create_bucket(Bucket=bucket)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(YC_ENDPOINT=gw.endpoint, YC_ACCESS_KEY=gw.access_key, YC_SECRET_KEY=gw.secret_key, YC_BUCKET=bucket)
    try:
        res = subprocess.run([NODE, "--test", "--test-reporter=tap", "checksums.test.mjs"], cwd=js_sdk, env=env,
                             capture_output=True, text=True, timeout=600)
    finally:
        empty_and_delete_bucket(s3, bucket)
    assert res.returncode == 0, "node --test failed:\n%s\n%s\ngateway stderr:\n%s" % (
        res.stdout[-6000:], res.stderr[-3000:], gw.stderr_tail())
    assert "# fail 0" in res.stdout and "# pass 7" in res.stdout, res.stdout[-3000:]
