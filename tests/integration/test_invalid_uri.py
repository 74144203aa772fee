"""A key in the request's path whose bytes are no UTF-8 (an object key is a sequence of Unicode
characters, UTF-8 encoded): every operation that takes a key answers 400 InvalidURI "Couldn't
parse the specified URI." as S3 does, and nothing is
stored. A key of valid UTF-8 with the same look (U+00AE U+008A) is an ordinary key."""
import pytest

import yc_raw

BAD = "%AE%8A-"  # the bytes AE 8A: a lone continuation byte after a lead byte that wants one more


@pytest.mark.parametrize("method,query,body", [
    ("GET", "", b""), ("HEAD", "", b""), ("PUT", "", b"data"), ("DELETE", "", b""),
    ("GET", "tagging", b""), ("GET", "acl", b""), ("POST", "uploads", b""),
    ("GET", "attributes", b""), ("PUT", "retention", b"<Retention/>")],
    ids=lambda v: v if isinstance(v, str) else None)
def test_key_that_is_no_utf8_is_an_invalid_uri(gateway, s3, bucket, method, query, body):
    r = yc_raw.request(gateway, method, "/%s/%s" % (bucket, BAD), query, body=body)
    assert r.status == 400, r.body
    if method != "HEAD":
        e = r.error()
        assert (e["Code"], e["Message"]) == ("InvalidURI", "Couldn't parse the specified URI.")
        assert e["RequestId"]
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_key_of_valid_utf8_with_control_characters_is_stored(s3, bucket):
    key = "\xae\x8a-"
    s3.put_object(Bucket=bucket, Key=key, Body=b"kept")
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"kept"
