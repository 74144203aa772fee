"""POST Object with server-side encryption: the x-amz-server-side-encryption* fields of a form
(SSE-S3, SM4, aws:kms with a key id, SSE-C) and a bucket's default encryption encrypt the file as
PutObject's headers would; the object then reads back with a PUT's headers (HEAD names the
method, SSE-C reads need the key). The fields must be covered by the policy like any other. A
file sealed for the size the request's length gives it must end there: what cannot be sealed is
refused, never stored in plaintext."""
import base64
import glob
import hashlib
import http.client
import os

import botocore.exceptions
import pytest

import yc_raw
from test_post_object import BOUNDARY, absent, error, form_body, post, sign_v4
from test_sse import KEY_A, KEY_B, sse_bucket, sse_gateway  # noqa: F401 (fixtures)


def pattern(marker, size):
    unit = ("%s-%%08d|" % marker).encode()
    return b"".join(unit % i for i in range(size // len(unit) + 1))[:size]


def found_in_drives(data_dir, needle):
    for path in glob.glob(os.path.join(data_dir, "drive*", "**"), recursive=True):
        if os.path.isfile(path):
            with open(path, "rb") as f:
                if needle in f.read():
                    return path
    return None


def signed_form(gw, bucket, key, fields, extra_conditions=()):
    """A SigV4 form for key with fields, every field covered by the policy (eq conditions)."""
    conds = [{"bucket": bucket}, {"key": key}] + [{k: v} for k, v in fields.items()] + list(extra_conditions)
    out = {"key": key}
    out.update(fields)
    out.update(sign_v4(gw, conds))
    return out


def customer_fields(key):
    return {"x-amz-server-side-encryption-customer-algorithm": "AES256",
            "x-amz-server-side-encryption-customer-key": base64.b64encode(key).decode(),
            "x-amz-server-side-encryption-customer-key-MD5": base64.b64encode(hashlib.md5(key).digest()).decode()}


def client_error(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Code")


@pytest.mark.parametrize("method,size", [("AES256", 1024 * 1024 + 70000), ("SM4", 1024 * 1024), ("SM4", 5000),
                                         ("AES256", 0)])
def test_sse_field_encrypts_the_file(sse_gateway, sse_bucket, method, size):
    """Across stripes, inline and empty: the answer, HEAD and GET name the method, the bytes come
    back, and the drives never hold them in plaintext."""
    s3, bucket = sse_bucket
    data = pattern("FORM-%s-%d" % (method, size), size)
    r = post(sse_gateway, bucket, signed_form(sse_gateway, bucket, "enc", {"x-amz-server-side-encryption": method}),
             data)
    assert r.status == 204, r.body
    assert r.headers["x-amz-server-side-encryption"] == method
    head = s3.head_object(Bucket=bucket, Key="enc")
    assert head["ServerSideEncryption"] == method and head["ContentLength"] == size
    got = s3.get_object(Bucket=bucket, Key="enc")
    assert got["ServerSideEncryption"] == method and got["Body"].read() == data
    if size > 0 and method == "AES256":  # SSE-S3's ETag is the plaintext's MD5, as a PUT's
        assert got["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
    if size > 0:
        assert found_in_drives(sse_gateway.data_dir, ("FORM-%s-%d-00000001|" % (method, size)).encode()) is None


def test_kms_fields_encrypt_under_the_named_key(sse_gateway, sse_bucket):
    s3, bucket = sse_bucket
    fields = {"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": "yc/s3"}
    # conditions as a browser app writes them: starts-with an empty prefix
    form = {"key": "kms"}
    form.update(fields)
    form.update(sign_v4(sse_gateway, [{"bucket": bucket}, ["starts-with", "$key", "km"],
                                      ["starts-with", "$x-amz-server-side-encryption", ""],
                                      ["starts-with", "$x-amz-server-side-encryption-aws-kms-key-id", ""]]))
    r = post(sse_gateway, bucket, form, b"under a named key")
    assert r.status == 204, r.body
    assert r.headers["x-amz-server-side-encryption-aws-kms-key-id"] == "yc/s3"
    head = s3.head_object(Bucket=bucket, Key="kms")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == "yc/s3"
    assert s3.get_object(Bucket=bucket, Key="kms")["Body"].read() == b"under a named key"
    # a key the key service does not have
    form = signed_form(sse_gateway, bucket, "nokey", dict(fields, **{
        "x-amz-server-side-encryption-aws-kms-key-id": "no-such-key"}))
    assert error(post(sse_gateway, bucket, form))[:2] == (400, "KMS.NotFoundException")
    assert absent(s3, bucket, "nokey")


def test_sse_c_fields_need_the_key_to_read(sse_gateway, sse_bucket):
    s3, bucket = sse_bucket
    data = pattern("FORM-SSEC", 300 * 1024)
    r = post(sse_gateway, bucket, signed_form(sse_gateway, bucket, "ssec", customer_fields(KEY_A)), data)
    assert r.status == 204, r.body
    assert r.headers["x-amz-server-side-encryption-customer-algorithm"] == "AES256"
    with_key = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY_A}
    head = s3.head_object(Bucket=bucket, Key="ssec", **with_key)
    assert head["SSECustomerAlgorithm"] == "AES256"
    assert head["SSECustomerKeyMD5"] == base64.b64encode(hashlib.md5(KEY_A).digest()).decode()
    assert s3.get_object(Bucket=bucket, Key="ssec", **with_key)["Body"].read() == data
    assert client_error(lambda: s3.get_object(Bucket=bucket, Key="ssec")) == (400, "InvalidRequest")
    assert client_error(lambda: s3.head_object(Bucket=bucket, Key="ssec"))[0] == 400
    assert found_in_drives(sse_gateway.data_dir, b"FORM-SSEC-00000001|") is None
    # a key whose MD5 field does not match it
    bad = dict(customer_fields(KEY_A), **{"x-amz-server-side-encryption-customer-key-MD5":
                                          customer_fields(KEY_B)["x-amz-server-side-encryption-customer-key-MD5"]})
    assert error(post(sse_gateway, bucket, signed_form(sse_gateway, bucket, "badmd5", bad)))[:2] == (
        400, "InvalidArgument")
    assert absent(s3, bucket, "badmd5")


def test_encryption_field_not_in_the_policy_is_refused(sse_gateway, sse_bucket):
    s3, bucket = sse_bucket
    form = {"key": "extra", "x-amz-server-side-encryption": "AES256"}
    form.update(sign_v4(sse_gateway, [{"bucket": bucket}, {"key": "extra"}]))
    assert error(post(sse_gateway, bucket, form)) == (
        403, "AccessDenied", "Invalid according to Policy: Extra input fields: x-amz-server-side-encryption")
    form = {"key": "extra"}
    form.update(customer_fields(KEY_A))
    form.update(sign_v4(sse_gateway, [{"bucket": bucket}, {"key": "extra"},
                                      {"x-amz-server-side-encryption-customer-algorithm": "AES256"},
                                      ["starts-with", "$x-amz-server-side-encryption-customer-key", ""]]))
    status, code, msg = error(post(sse_gateway, bucket, form))
    assert (status, code) == (403, "AccessDenied")
    assert msg == "Invalid according to Policy: Extra input fields: x-amz-server-side-encryption-customer-key-MD5"
    assert absent(s3, bucket, "extra")


def test_bad_methods_get_the_put_errors(sse_gateway, sse_bucket):
    s3, bucket = sse_bucket
    for method, want in (("AES128", (400, "InvalidArgument")), ("aws:kms:dsse", (501, "NotImplemented"))):
        form = signed_form(sse_gateway, bucket, "bad", {"x-amz-server-side-encryption": method})
        assert error(post(sse_gateway, bucket, form))[:2] == want, method
    form = signed_form(sse_gateway, bucket, "bad", {"x-amz-server-side-encryption-context": "e30="})
    assert error(post(sse_gateway, bucket, form))[:2] == (501, "NotImplemented")
    assert absent(s3, bucket, "bad")


def test_bucket_default_encryption_applies_to_form_uploads(sse_gateway, sse_bucket):
    s3, bucket = sse_bucket
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    p = s3.generate_presigned_post(bucket, "default", ExpiresIn=300)
    data = pattern("FORM-DEFAULT", 200 * 1024)
    r = post(sse_gateway, bucket, p["fields"], data)
    assert r.status == 204, r.body
    assert r.headers["x-amz-server-side-encryption"] == "AES256"
    got = s3.get_object(Bucket=bucket, Key="default")
    assert got["ServerSideEncryption"] == "AES256" and got["Body"].read() == data
    assert found_in_drives(sse_gateway.data_dir, b"FORM-DEFAULT-00000001|") is None
    # the bucket's aws:kms default
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "yc/s3"}}]})
    p = s3.generate_presigned_post(bucket, "default-kms", ExpiresIn=300)
    assert post(sse_gateway, bucket, p["fields"], b"kms by default").status == 204
    head = s3.head_object(Bucket=bucket, Key="default-kms")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == "yc/s3"
    assert s3.get_object(Bucket=bucket, Key="default-kms")["Body"].read() == b"kms by default"


STRIPE = 1024 * 1024  # the gateway's default stripe: a shorter file is whole in the first slot


def test_small_encrypted_file_may_be_followed_by_fields(sse_gateway, sse_bucket):
    """A file shorter than a stripe is sized by its end, whatever follows it: the named submit
    button of AWS's example form comes after the file, and is ignored."""
    s3, bucket = sse_bucket
    fields = signed_form(sse_gateway, bucket, "small", {"x-amz-server-side-encryption": "AES256"})
    data = pattern("FORM-SMALL-AFTER", STRIPE - 1)
    r = post(sse_gateway, bucket, fields, data, after=[("submit", "Upload to Amazon S3")])
    assert r.status == 204, r.body
    got = s3.get_object(Bucket=bucket, Key="small")
    assert got["ServerSideEncryption"] == "AES256" and got["Body"].read() == data


def test_large_encrypted_file_that_does_not_end_the_form_is_refused_not_stored(sse_gateway, sse_bucket):
    """A file of a stripe or more is sealed for the size the body's length gives it: followed by
    other parts (which S3 ignores) it ends before that size, and is refused, nothing stored; the
    same form unencrypted is stored."""
    s3, bucket = sse_bucket
    fields = signed_form(sse_gateway, bucket, "after", {"x-amz-server-side-encryption": "AES256"})
    data = pattern("FORM-LARGE-AFTER", STRIPE + 1000)
    r = post(sse_gateway, bucket, fields, data, after=[("submit", "Upload")])
    assert error(r)[:2] == (501, "NotImplemented")
    assert absent(s3, bucket, "after")
    # a body whose close delimiter has no CRLF after it: the file is 2 bytes longer than planned
    for size in (STRIPE, STRIPE + 1000):
        body = form_body(list(fields.items()), data[:size])
        assert body.endswith(b"--\r\n")
        r = yc_raw.anonymous(sse_gateway, "POST", "/" + bucket, body=body[:-2],
                             headers={"Content-Type": "multipart/form-data; boundary=" + BOUNDARY})
        assert error(r)[:2] == (501, "NotImplemented"), size
        assert absent(s3, bucket, "after")
    plain = signed_form(sse_gateway, bucket, "after", {})
    r = post(sse_gateway, bucket, plain, data, after=[("submit", "Upload")])
    assert r.status == 204, r.body


def post_chunked(gw, bucket, body):
    conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=60)
    try:
        conn.putrequest("POST", "/" + bucket)
        conn.putheader("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        try:
            for i in range(0, len(body), 65536):
                piece = body[i:i + 65536]
                conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
            conn.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered before the end of the body
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def test_encrypted_form_without_a_content_length(sse_gateway, sse_bucket):
    """Transfer-Encoding: chunked, no Content-Length: a file shorter than a stripe is sized by its
    end; a longer one has no size to be sealed for, 411 as S3 answers a POST without a length."""
    s3, bucket = sse_bucket
    fields = list(signed_form(sse_gateway, bucket, "chunked", {"x-amz-server-side-encryption": "AES256"}).items())
    status, reply = post_chunked(sse_gateway, bucket, form_body(fields, b"no length"))
    assert status == 204, reply
    assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == b"no length"
    s3.delete_object(Bucket=bucket, Key="chunked")
    status, reply = post_chunked(sse_gateway, bucket, form_body(fields, b"y" * (STRIPE + 1)))
    assert status == 411 and b"<Code>MissingContentLength</Code>" in reply, reply
    assert absent(s3, bucket, "chunked")
