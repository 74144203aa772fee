"""Drives written by the previous code (drive layout 1: a key per null version) are read, listed
and written by this build: the drive engine moves their null versions into null slots at open.

The drives in fixtures/layout1.tar.gz were made by fixtures/make_layout1.py with the build before
the layout record; expect.json holds the MD5 of every object they hold.
"""
import hashlib
import json
import os
import tarfile

from conftest import Gateway

HERE = os.path.dirname(os.path.abspath(__file__))
ACCESS, SECRET = "YCLAYOUTONEFIXTURE", "layout-one-fixture-secret-0000000000"
BUCKET = "layout-one"


def open_fixture(tmp_path):
    with tarfile.open(os.path.join(HERE, "fixtures", "layout1.tar.gz")) as tar:
        tar.extractall(tmp_path)
    with open(tmp_path / "expect.json") as f:
        expect = json.load(f)
    gw = Gateway(str(tmp_path / "data"), ACCESS, SECRET)
    gw.start()
    return gw, expect


def list_all(s3):
    keys, token = [], None
    while True:
        kw = {"Bucket": BUCKET, "MaxKeys": 7}
        if token:
            kw["ContinuationToken"] = token
        page = s3.list_objects_v2(**kw)
        keys += [o["Key"] for o in page.get("Contents", [])]
        if not page.get("IsTruncated"):
            return keys
        token = page["NextContinuationToken"]


def test_layout1_drives_read_and_list_when_opened(tmp_path):
    gw, expect = open_fixture(tmp_path)
    try:
        s3 = gw.client()
        assert list_all(s3) == sorted(expect)
        for key, md5 in expect.items():
            body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            assert hashlib.md5(body).hexdigest() == md5, key
        assert s3.list_objects_v2(Bucket=BUCKET, Prefix="dir/", Delimiter="/")["CommonPrefixes"] == [
            {"Prefix": "dir/a/"}]
        # the upgraded drives take writes and deletes as any other
        s3.put_object(Bucket=BUCKET, Key="hot/0", Body=b"after the upgrade")
        assert s3.get_object(Bucket=BUCKET, Key="hot/0")["Body"].read() == b"after the upgrade"
        s3.delete_object(Bucket=BUCKET, Key="small/00")
        assert "small/00" not in list_all(s3)
        assert "event=internal_error" not in gw.stderr_text()
    finally:
        gw.stop()


def test_layout1_drives_keep_their_objects_when_reopened(tmp_path):
    gw, expect = open_fixture(tmp_path)
    gw.stop()
    gw.start()  # the second open finds the layout record: nothing moves again
    try:
        s3 = gw.client()
        assert list_all(s3) == sorted(expect)
        body = s3.get_object(Bucket=BUCKET, Key="big/one")["Body"].read()
        assert hashlib.md5(body).hexdigest() == expect["big/one"]
    finally:
        gw.stop()
