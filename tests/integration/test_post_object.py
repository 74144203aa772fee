"""POST Object: browser form uploads (multipart/form-data to the bucket), with the policies and
signatures boto3's generate_presigned_post makes (SigV4, and SigV2 with signature_version "s3"),
policies signed here for the conditions boto3 does not write, and the form sent as a browser
sends it, over http.client. Every expectation is what Amazon S3 answers: the status, the error
code and message, and that nothing was stored when the upload was refused.
"""
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import socket
import time
import urllib.parse
import xml.etree.ElementTree as ET

import botocore.exceptions
import pytest

import yc_raw
from conftest import REGION

BOUNDARY = "----yc-form-7MA4YWxkTrZu0gW"


def form_body(fields, content, filename="photo.jpg", file_type="image/jpeg", after=()):
    """A multipart/form-data body as a browser writes it: the fields, the file, then any fields
    given in after (which S3 ignores)."""
    out = []
    for name, value in fields:
        out.append(b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                   % (BOUNDARY.encode(), name.encode(), value.encode() if isinstance(value, str) else value))
    out.append(b'--%s\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\nContent-Type: %s\r\n\r\n'
               % (BOUNDARY.encode(), filename.encode(), file_type.encode()))
    out.append(content)
    out.append(b"\r\n")
    for name, value in after:
        out.append(b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
                   % (BOUNDARY.encode(), name.encode(), value.encode()))
    out.append(b"--%s--\r\n" % BOUNDARY.encode())
    return b"".join(out)


def post(gateway, bucket, fields, content=b"hello", **kw):
    body = form_body(list(fields.items()) if isinstance(fields, dict) else fields, content, **kw)
    return yc_raw.anonymous(gateway, "POST", "/" + bucket, body=body,
                            headers={"Content-Type": "multipart/form-data; boundary=" + BOUNDARY})


def sign_v4(gateway, conditions, expires_in=300, expiration=None):
    """The fields of a SigV4 form for a policy of our own (boto3 writes only its own conditions)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    date = now.strftime("%Y%m%d")
    cred = "%s/%s/%s/s3/aws4_request" % (gateway.access_key, date, REGION)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    exp = expiration or (now + datetime.timedelta(seconds=expires_in)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    doc = {"expiration": exp, "conditions": conditions + [
        {"x-amz-algorithm": "AWS4-HMAC-SHA256"}, {"x-amz-credential": cred}, {"x-amz-date": amz_date}]}
    policy = base64.b64encode(json.dumps(doc).encode()).decode()
    key = yc_raw.signing_key(gateway.secret_key, date)
    sig = hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()
    return {"x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-credential": cred, "x-amz-date": amz_date,
            "policy": policy, "x-amz-signature": sig}


def signed_raw_policy(gateway, policy_b64):
    """SigV4 fields around a policy given as its base64 text (for malformed documents)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    date = now.strftime("%Y%m%d")
    key = yc_raw.signing_key(gateway.secret_key, date)
    return {"x-amz-algorithm": "AWS4-HMAC-SHA256",
            "x-amz-credential": "%s/%s/%s/s3/aws4_request" % (gateway.access_key, date, REGION),
            "x-amz-date": now.strftime("%Y%m%dT%H%M%SZ"), "policy": policy_b64,
            "x-amz-signature": hmac.new(key, policy_b64.encode(), hashlib.sha256).hexdigest()}


def absent(s3, bucket, key):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        s3.head_object(Bucket=bucket, Key=key)
    return ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def error(r):
    return r.status, r.error()["Code"], r.error()["Message"]


# ---------------------------------------------------------------- uploads that succeed

def test_presigned_post_sigv4_from_boto3(gateway, s3, bucket):
    p = s3.generate_presigned_post(bucket, "uploads/${filename}", ExpiresIn=300)
    assert set(p["fields"]) >= {"x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature", "policy"}
    data = os.urandom(3000)
    r = post(gateway, bucket, p["fields"], data, filename="cat.png")
    assert r.status == 204, r.body
    md5 = hashlib.md5(data).hexdigest()
    assert r.headers["etag"] == '"%s"' % md5
    assert r.headers["location"].endswith("/%s/uploads/cat.png" % bucket)
    got = s3.get_object(Bucket=bucket, Key="uploads/cat.png")
    assert got["Body"].read() == data
    assert got["ETag"] == '"%s"' % md5


@pytest.mark.parametrize("size", [0, 1, 128 * 1024, 128 * 1024 + 1, 1024 * 1024 - 1, 1024 * 1024,
                                  1024 * 1024 + 1, 3 * 1024 * 1024 + 77])
def test_file_sizes_across_inline_and_stripe_boundaries(gateway, s3, bucket, size):
    """The file's size is known only at its end: objects inline, one stripe, exactly a stripe and
    several stripes come back byte for byte with the PUT's ETag."""
    key = "f%d" % size
    p = s3.generate_presigned_post(bucket, key)
    # a file whose bytes look like delimiters: CRLF "--" and the boundary's first bytes
    chunk = b"\r\n--" + BOUNDARY.encode()[:-1] + b"\r\n-\r"
    data = (chunk + os.urandom(61)) * (size // (len(chunk) + 61) + 1)
    data = data[:size]
    r = post(gateway, bucket, p["fields"], data)
    assert r.status == 204, r.body
    got = s3.get_object(Bucket=bucket, Key=key)
    assert got["ContentLength"] == size
    assert got["Body"].read() == data
    assert got["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()


def test_presigned_post_sigv2_from_boto3(gateway, bucket):
    s3v2 = gateway.client(signature_version="s3")
    p = s3v2.generate_presigned_post(bucket, "v2.txt")
    assert set(p["fields"]) >= {"AWSAccessKeyId", "signature", "policy"}
    r = post(gateway, bucket, p["fields"], b"signed with v2")
    assert r.status == 204, r.body
    assert gateway.client().get_object(Bucket=bucket, Key="v2.txt")["Body"].read() == b"signed with v2"
    fields = dict(p["fields"], signature=base64.b64encode(b"x" * 20).decode())
    r = post(gateway, bucket, fields, b"forged")
    assert error(r)[:2] == (403, "SignatureDoesNotMatch")


def test_metadata_and_content_type_fields_are_stored(gateway, s3, bucket):
    fields = {"key": "meta.txt", "Content-Type": "text/plain", "x-amz-meta-owner": "alice",
              "Cache-Control": "max-age=60", "acl": "private", "x-ignore-me": "anything"}
    conds = [{"bucket": bucket}, {"key": "meta.txt"}, ["starts-with", "$Content-Type", "text/"],
             {"x-amz-meta-owner": "alice"}, ["eq", "$cache-control", "max-age=60"], {"acl": "private"}]
    fields.update(sign_v4(gateway, conds))
    # a field after the file is ignored (not stored, not checked against the policy)
    r = post(gateway, bucket, fields, b"text", after=[("x-amz-meta-late", "no")])
    assert r.status == 204, r.body
    h = s3.head_object(Bucket=bucket, Key="meta.txt")
    assert h["ContentType"] == "text/plain"
    assert h["Metadata"] == {"owner": "alice"}
    assert h["CacheControl"] == "max-age=60"


def test_success_action_status_201_200_and_others(gateway, s3, bucket):
    for status, want in (("201", 201), ("200", 200), ("404", 204), ("", 204)):
        key = "s%s" % (status or "none")
        p = s3.generate_presigned_post(bucket, key, Fields={"success_action_status": status},
                                       Conditions=[{"success_action_status": status}])
        r = post(gateway, bucket, p["fields"], b"x" + status.encode())
        assert r.status == want, (status, r.body)
        if want == 201:
            doc = ET.fromstring(r.body)
            assert doc.tag == "PostResponse"
            assert doc.find("Bucket").text == bucket
            assert doc.find("Key").text == key
            assert doc.find("ETag").text == '"%s"' % hashlib.md5(b"x201").hexdigest()
            assert doc.find("Location").text.endswith("/%s/%s" % (bucket, key))
        else:
            assert r.body == b""
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"x" + status.encode()


def test_success_action_redirect_is_303_with_bucket_key_etag(gateway, s3, bucket):
    target = "https://app.example.gov/done?from=form"
    p = s3.generate_presigned_post(bucket, "r/${filename}", Fields={"success_action_redirect": target},
                                   Conditions=[{"success_action_redirect": target}])
    r = post(gateway, bucket, p["fields"], b"redirected", filename="a b.txt")
    assert r.status == 303, r.body
    loc = urllib.parse.urlsplit(r.headers["location"])
    assert (loc.scheme, loc.netloc, loc.path) == ("https", "app.example.gov", "/done")
    q = urllib.parse.parse_qs(loc.query)
    assert q == {"from": ["form"], "bucket": [bucket], "key": ["r/a b.txt"],
                 "etag": ['"%s"' % hashlib.md5(b"redirected").hexdigest()]}
    assert s3.get_object(Bucket=bucket, Key="r/a b.txt")["Body"].read() == b"redirected"


# ---------------------------------------------------------------- the policy's conditions

def test_content_length_range(gateway, s3, bucket):
    p = s3.generate_presigned_post(bucket, "sized", Conditions=[["content-length-range", 10, 20]])
    assert post(gateway, bucket, p["fields"], b"x" * 15).status == 204
    r = post(gateway, bucket, p["fields"], b"x" * 21)
    assert error(r)[:2] == (400, "EntityTooLarge")
    assert s3.get_object(Bucket=bucket, Key="sized")["ContentLength"] == 15
    r = post(gateway, bucket, p["fields"], b"x" * 9)
    assert error(r)[:2] == (400, "EntityTooSmall")
    assert s3.get_object(Bucket=bucket, Key="sized")["ContentLength"] == 15


def test_eq_and_starts_with_violations_are_access_denied(gateway, s3, bucket):
    p = s3.generate_presigned_post(bucket, "fixed.txt")
    fields = dict(p["fields"], key="other.txt")
    status, code, msg = error(post(gateway, bucket, fields))
    assert (status, code) == (403, "AccessDenied")
    assert msg == 'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "fixed.txt"]'
    assert absent(s3, bucket, "other.txt")

    fields = {"key": "docs/a", "Content-Type": "image/png"}
    fields.update(sign_v4(gateway, [{"bucket": bucket}, ["starts-with", "$key", "docs/"],
                                    ["starts-with", "$Content-Type", "text/"]]))
    status, code, msg = error(post(gateway, bucket, fields))
    assert (status, code) == (403, "AccessDenied")
    assert msg == 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", "text/"]'
    # a condition on a field the form lacks fails too
    fields = {"key": "docs/a"}
    fields.update(sign_v4(gateway, [{"bucket": bucket}, ["starts-with", "$key", "docs/"],
                                    ["eq", "$x-amz-meta-foo", ""]]))
    assert error(post(gateway, bucket, fields))[:2] == (403, "AccessDenied")
    # the bucket is a condition like the others
    fields = {"key": "docs/a"}
    fields.update(sign_v4(gateway, [{"bucket": "another-bucket"}, ["starts-with", "$key", "docs/"]]))
    assert error(post(gateway, bucket, fields))[2].endswith('["eq", "$bucket", "another-bucket"]')
    assert absent(s3, bucket, "docs/a")


def test_starts_with_an_empty_prefix_allows_the_field_to_be_absent(gateway, s3, bucket):
    # ["starts-with", "$field", ""] is S3's "any value": a form without the field passes, one with
    # it passes whatever it holds; a non-empty prefix still needs the field
    conditions = [{"bucket": bucket}, ["starts-with", "$key", "docs/"],
                  ["starts-with", "$x-amz-server-side-encryption", ""], ["starts-with", "$x-amz-meta-note", ""]]
    fields = dict(sign_v4(gateway, conditions), key="docs/none")
    assert post(gateway, bucket, fields).status == 204
    fields = dict(sign_v4(gateway, conditions), key="docs/some", **{"x-amz-meta-note": "hi"})
    assert post(gateway, bucket, fields).status == 204
    assert s3.head_object(Bucket=bucket, Key="docs/some")["Metadata"] == {"note": "hi"}
    fields = dict(sign_v4(gateway, [{"bucket": bucket}, ["starts-with", "$key", "docs/"],
                                    ["starts-with", "$x-amz-meta-note", "h"]]), key="docs/other")
    assert error(post(gateway, bucket, fields))[:2] == (403, "AccessDenied")
    assert absent(s3, bucket, "docs/other")


def test_fields_not_in_the_policy_are_refused(gateway, s3, bucket):
    p = s3.generate_presigned_post(bucket, "k")
    fields = dict(p["fields"], **{"x-amz-meta-sneaky": "1"})
    status, code, msg = error(post(gateway, bucket, fields))
    assert (status, code, msg) == (403, "AccessDenied", "Invalid according to Policy: Extra input fields: x-amz-meta-sneaky")
    # a policy that does not name the bucket
    fields = {"key": "k"}
    fields.update(sign_v4(gateway, [{"key": "k"}]))
    assert error(post(gateway, bucket, fields)) == (403, "AccessDenied",
                                                     "Invalid according to Policy: Extra input fields: bucket")
    assert absent(s3, bucket, "k")


def test_condition_names_and_operators_are_case_insensitive(gateway, s3, bucket):
    fields = {"kEy": "ci.txt", "CONTENT-TYPE": "text/plain"}
    fields.update(sign_v4(gateway, [{"bUcKeT": bucket}, ["StArTs-WiTh", "$KeY", "ci"],
                                    ["EQ", "$content-type", "text/plain"]]))
    r = post(gateway, bucket, fields)
    assert r.status == 204, r.body
    assert s3.head_object(Bucket=bucket, Key="ci.txt")["ContentType"] == "text/plain"


def test_expired_policy(gateway, s3, bucket):
    fields = {"key": "late"}
    fields.update(sign_v4(gateway, [{"bucket": bucket}, {"key": "late"}], expiration="2020-01-01T00:00:00.000Z"))
    assert error(post(gateway, bucket, fields)) == (403, "AccessDenied",
                                                     "Invalid according to Policy: Policy expired.")
    assert absent(s3, bucket, "late")


@pytest.mark.parametrize("doc", [
    "not base64!",
    base64.b64encode(b"{not json").decode(),
    base64.b64encode(json.dumps({"conditions": []}).encode()).decode(),
    base64.b64encode(json.dumps({"expiration": "2030-12-31 00:00:00", "conditions": []}).encode()).decode(),
    base64.b64encode(json.dumps({"Expiration": "2030-12-31T00:00:00Z", "conditions": []}).encode()).decode(),
    base64.b64encode(json.dumps({"expiration": "2030-12-31T00:00:00Z", "CONDITIONS": []}).encode()).decode(),
    base64.b64encode(json.dumps({"expiration": "2030-12-31T00:00:00Z", "conditions": [{}]}).encode()).decode(),
    base64.b64encode(json.dumps({"expiration": "2030-12-31T00:00:00Z",
                                 "conditions": [["content-length-range", 0]]}).encode()).decode(),
    base64.b64encode(json.dumps({"expiration": "2030-12-31T00:00:00Z",
                                 "conditions": [["content-length-range", -1, 0]]}).encode()).decode(),
])
def test_invalid_policy_documents(gateway, s3, bucket, doc):
    fields = dict(signed_raw_policy(gateway, doc), key="bad")
    status, code, msg = error(post(gateway, bucket, fields))
    assert (status, code) == (400, "InvalidPolicyDocument")
    assert msg.startswith("Invalid Policy: ")
    assert absent(s3, bucket, "bad")


# ---------------------------------------------------------------- signatures and missing fields

def test_missing_fields_are_invalid_argument(gateway, s3, bucket):
    p = s3.generate_presigned_post(bucket, "k")
    for drop in ("key", "x-amz-signature", "x-amz-credential", "policy"):
        fields = {k: v for k, v in p["fields"].items() if k != drop}
        r = post(gateway, bucket, fields)
        status, code, msg = error(r)
        assert (status, code) == (400, "InvalidArgument"), drop
        assert msg == ("Bucket POST must contain a field named '%s'.  If it is specified, please check the "
                       "order of the fields." % drop)
        assert r.error()["ArgumentName"] == drop
    assert absent(s3, bucket, "k")


def test_bad_signature_and_unknown_key(gateway, s3, bucket):
    p = s3.generate_presigned_post(bucket, "k")
    fields = dict(p["fields"], **{"x-amz-signature": "0" * 64})
    assert error(post(gateway, bucket, fields))[:2] == (403, "SignatureDoesNotMatch")
    cred = p["fields"]["x-amz-credential"].replace(gateway.access_key, "YCNOBODY0000")
    fields = dict(p["fields"], **{"x-amz-credential": cred})
    assert error(post(gateway, bucket, fields))[:2] == (403, "InvalidAccessKeyId")
    assert absent(s3, bucket, "k")


def test_acl_field_is_the_objects_acl(gateway, s3, bucket):
    """The acl field is PutObject's x-amz-acl: under the default ownership (ACLs off) a public ACL
    is refused as on PUT; once the bucket turns ACLs on, it makes the object public."""
    p = s3.generate_presigned_post(bucket, "pub", Fields={"acl": "public-read"}, Conditions=[{"acl": "public-read"}])
    assert error(post(gateway, bucket, p["fields"]))[:2] == (400, "AccessControlListNotSupported")
    assert absent(s3, bucket, "pub")
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    s3.delete_public_access_block(Bucket=bucket)
    r = post(gateway, bucket, p["fields"], b"for everyone")
    assert r.status == 204, r.body
    got = yc_raw.anonymous(gateway, "GET", "/%s/pub" % bucket)
    assert (got.status, got.body) == (200, b"for everyone")
    p = s3.generate_presigned_post(bucket, "priv", Fields={"acl": "private"}, Conditions=[{"acl": "private"}])
    assert post(gateway, bucket, p["fields"]).status == 204
    assert yc_raw.anonymous(gateway, "GET", "/%s/priv" % bucket).status == 403


def test_tagging_field_tags_the_object(gateway, s3, bucket):
    tagging = ("<Tagging><TagSet><Tag><Key>team</Key><Value>a b+c=d</Value></Tag>"
               "<Tag><Key>0</Key><Value></Value></Tag></TagSet></Tagging>")
    p = s3.generate_presigned_post(bucket, "tagged", Fields={"tagging": tagging}, Conditions=[{"tagging": tagging}])
    r = post(gateway, bucket, p["fields"])
    assert r.status == 204, r.body
    tags = s3.get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"]
    assert sorted((t["Key"], t["Value"]) for t in tags) == [("0", ""), ("team", "a b+c=d")]
    assert s3.head_object(Bucket=bucket, Key="tagged")["ResponseMetadata"]["HTTPHeaders"]["x-amz-tagging-count"] == "2"
    for bad, code in (("<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>", "MalformedXML"),
                      ("<Tagging><TagSet><Tag><Key>aws:k</Key><Value>v</Value></Tag></TagSet></Tagging>", "InvalidTag")):
        p = s3.generate_presigned_post(bucket, "bad-tags", Fields={"tagging": bad}, Conditions=[{"tagging": bad}])
        assert error(post(gateway, bucket, p["fields"]))[:2] == (400, code)
    assert absent(s3, bucket, "bad-tags")


def test_object_lock_fields_set_the_retention(gateway, s3):
    name = "post-lockfields-%d" % os.getpid()
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    until = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fields = {"x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": until,
              "x-amz-object-lock-legal-hold": "ON"}
    p = s3.generate_presigned_post(name, "held", Fields=fields, Conditions=[{k: v} for k, v in fields.items()])
    r = post(gateway, name, p["fields"], b"kept")
    assert r.status == 204, r.body
    vid = s3.head_object(Bucket=name, Key="held")["VersionId"]
    retention = s3.get_object_retention(Bucket=name, Key="held", VersionId=vid)["Retention"]
    assert retention["Mode"] == "GOVERNANCE"
    assert retention["RetainUntilDate"].strftime("%Y-%m-%dT%H:%M:%SZ") == until
    assert s3.get_object_legal_hold(Bucket=name, Key="held", VersionId=vid)["LegalHold"]["Status"] == "ON"


def test_digest_fields_verify_the_file(gateway, s3, bucket):
    """Content-MD5 and x-amz-checksum-* fields are PutObject's headers: the file is verified against
    them (BadDigest, nothing stored), the checksum stored and returned with x-amz-checksum-mode."""
    data = b"form file with a digest"
    sha256 = base64.b64encode(hashlib.sha256(data).digest()).decode()
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    for name, value in (("x-amz-checksum-sha256", sha256), ("Content-MD5", md5)):
        p = s3.generate_presigned_post(bucket, "good", Fields={name: value}, Conditions=[{name: value}])
        r = post(gateway, bucket, p["fields"], data)
        assert r.status == 204, r.body
    head = s3.head_object(Bucket=bucket, Key="good", ChecksumMode="ENABLED")
    assert head["ContentLength"] == len(data)
    p = s3.generate_presigned_post(bucket, "sum", Fields={"x-amz-checksum-sha256": sha256},
                                   Conditions=[{"x-amz-checksum-sha256": sha256}])
    assert post(gateway, bucket, p["fields"], data).status == 204
    assert s3.head_object(Bucket=bucket, Key="sum", ChecksumMode="ENABLED")["ChecksumSHA256"] == sha256
    for name, value in (("x-amz-checksum-sha256", sha256), ("Content-MD5", md5)):
        p = s3.generate_presigned_post(bucket, "bad", Fields={name: value}, Conditions=[{name: value}])
        assert error(post(gateway, bucket, p["fields"], data + b"!"))[:2] == (400, "BadDigest")
    p = s3.generate_presigned_post(bucket, "bad", Fields={"x-amz-checksum-sha256": "sailorjerry"},
                                   Conditions=[{"x-amz-checksum-sha256": "sailorjerry"}])
    assert error(post(gateway, bucket, p["fields"], data))[0] == 400
    assert absent(s3, bucket, "bad")
    p = s3.generate_presigned_post(bucket, "tok", Fields={"x-amz-security-token": "t"},
                                   Conditions=[{"x-amz-security-token": "t"}])
    r = post(gateway, bucket, p["fields"], data)
    assert (r.status, r.error()["Code"], r.error()["Header"]) == (501, "NotImplemented", "x-amz-security-token")


def test_curl_form_upload_with_expect_100_continue(gateway, s3, bucket, tmp_path):
    """curl -F, as a script would send a form: curl asks for 100-continue before a large body."""
    import subprocess
    p = s3.generate_presigned_post(bucket, "curl/${filename}", Fields={"success_action_status": "201"},
                                   Conditions=[{"success_action_status": "201"}])
    data = os.urandom(3 * 1024 * 1024 + 5)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    args = ["curl", "-sS", "--noproxy", "*", "-o", "-", "-w", "\n%{http_code}", "-H", "Expect: 100-continue"]
    for k, v in p["fields"].items():
        args += ["--form-string", "%s=%s" % (k, v)]
    args += ["-F", "file=@%s" % path, "%s/%s" % (gateway.endpoint, bucket)]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    out = subprocess.run(args, capture_output=True, timeout=120, env=env)
    body, _, code = out.stdout.rpartition(b"\n")
    assert code == b"201", out
    doc = ET.fromstring(body)
    assert doc.find("Key").text == "curl/big.bin"
    assert doc.find("ETag").text == '"%s"' % hashlib.md5(data).hexdigest()
    assert s3.get_object(Bucket=bucket, Key="curl/big.bin")["Body"].read() == data


def test_virtual_host_and_chunked_transfer(gateway, s3, bucket):
    """A form posted to bucket.localhost (virtual-host style), its body sent with
    Transfer-Encoding: chunked (no Content-Length: the file's size comes from its delimiter)."""
    p = s3.generate_presigned_post(bucket, "vh.txt", Fields={"success_action_status": "201"},
                                   Conditions=[{"success_action_status": "201"}])
    body = form_body(list(p["fields"].items()), b"virtual host, chunked")
    conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=60)
    try:
        conn.putrequest("POST", "/", skip_host=True)
        conn.putheader("Host", "%s.localhost:%d" % (bucket, gateway.port))
        conn.putheader("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for i in range(0, len(body), 100):
            piece = body[i:i + 100]
            conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.send(b"0\r\n\r\n")
        resp = conn.getresponse()
        reply = resp.read()
    finally:
        conn.close()
    assert resp.status == 201, reply
    doc = ET.fromstring(reply)
    assert doc.find("Location").text == "http://%s.localhost:%d/vh.txt" % (bucket, gateway.port)
    assert s3.get_object(Bucket=bucket, Key="vh.txt")["Body"].read() == b"virtual host, chunked"


def test_anonymous_post_needs_the_bucket_policy(gateway, s3, bucket):
    r = post(gateway, bucket, {"key": "anon.txt"}, b"from anyone")
    assert error(r)[:2] == (403, "AccessDenied")
    assert absent(s3, bucket, "anon.txt")
    s3.delete_public_access_block(Bucket=bucket)  # new buckets block public policies, as on S3
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::%s/public/*" % bucket}]}))
    try:
        assert post(gateway, bucket, {"key": "public/anon.txt"}, b"from anyone").status == 204
        assert s3.get_object(Bucket=bucket, Key="public/anon.txt")["Body"].read() == b"from anyone"
        r = post(gateway, bucket, {"key": "private/anon.txt"}, b"from anyone")
        assert error(r)[:2] == (403, "AccessDenied")
        assert absent(s3, bucket, "private/anon.txt")
    finally:
        s3.delete_bucket_policy(Bucket=bucket)


# ---------------------------------------------------------------- the form itself

def test_form_without_file_and_malformed_forms(gateway, s3, bucket):
    body = b'--%s\r\nContent-Disposition: form-data; name="key"\r\n\r\nk\r\n--%s--\r\n' % (
        BOUNDARY.encode(), BOUNDARY.encode())
    r = yc_raw.anonymous(gateway, "POST", "/" + bucket, body=body,
                         headers={"Content-Type": "multipart/form-data; boundary=" + BOUNDARY})
    assert error(r) == (400, "IncorrectNumberOfFilesInPostRequest", "POST requires exactly one file upload per request.")
    body = b'--%s\r\nno header colon\r\n\r\nk\r\n--%s--\r\n' % (BOUNDARY.encode(), BOUNDARY.encode())
    r = yc_raw.anonymous(gateway, "POST", "/" + bucket, body=body,
                         headers={"Content-Type": "multipart/form-data; boundary=" + BOUNDARY})
    assert error(r)[:2] == (400, "MalformedPOSTRequest")
    r = yc_raw.anonymous(gateway, "POST", "/" + bucket, body=b"x",
                         headers={"Content-Type": "multipart/form-data"})
    assert error(r)[:2] == (400, "MalformedPOSTRequest")
    assert r.headers.get("x-amz-request-id")


def test_fields_before_the_file_are_limited(gateway, s3, bucket):
    p = s3.generate_presigned_post(bucket, "k")
    fields = list(p["fields"].items()) + [("x-ignore-pad", "p" * 21000)]
    r = post(gateway, bucket, fields)
    assert error(r) == (400, "MaxPostPreDataLengthExceededError",
                        "Your POST request fields preceding the upload file were too large.")
    assert absent(s3, bucket, "k")


def test_file_streams_and_a_too_large_one_is_refused_before_its_end(gateway, s3, bucket):
    """The file is not read whole before it is checked: with 2 MiB of a declared 64 MiB sent, the
    gateway has already answered EntityTooLarge for a policy that allows 1 MiB."""
    p = s3.generate_presigned_post(bucket, "big", Conditions=[["content-length-range", 0, 1024 * 1024]])
    head = form_body(list(p["fields"].items()), b"")[:-len(b"\r\n--%s--\r\n" % BOUNDARY.encode())]
    total = len(head) + 64 * 1024 * 1024
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=30)
    try:
        sock.sendall(("POST /%s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=%s\r\n"
                      "Content-Length: %d\r\n\r\n" % (bucket, BOUNDARY, total)).encode() + head)
        chunk = os.urandom(64 * 1024)
        for _ in range(32):
            sock.sendall(chunk)
        sock.settimeout(30)
        reply = b""
        while b"</Error>" not in reply:
            data = sock.recv(65536)
            if not data:
                break
            reply += data
    finally:
        sock.close()
    assert reply.startswith(b"HTTP/1.1 400"), reply[:200]
    assert b"<Code>EntityTooLarge</Code>" in reply
    assert absent(s3, bucket, "big")


def test_form_upload_to_a_bucket_with_object_lock_gets_its_default_retention(gateway, s3):
    name = "post-locked-%d" % os.getpid()
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    p = s3.generate_presigned_post(name, "worm/${filename}", ExpiresIn=300)
    r = post(gateway, name, p["fields"], b"kept", filename="record.txt")
    assert r.status == 204, r.body
    head = s3.head_object(Bucket=name, Key="worm/record.txt")
    vid = head["VersionId"]
    assert s3.get_object_retention(Bucket=name, Key="worm/record.txt", VersionId=vid)["Retention"]["Mode"] == "GOVERNANCE"
    with pytest.raises(botocore.exceptions.ClientError) as e:
        s3.delete_object(Bucket=name, Key="worm/record.txt", VersionId=vid)
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert s3.get_object(Bucket=name, Key="worm/record.txt", VersionId=vid)["Body"].read() == b"kept"
