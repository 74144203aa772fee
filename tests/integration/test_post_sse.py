"""POST Object with server-side encryption: the x-amz-server-side-encryption* fields of a form
(SSE-S3, SM4, aws:kms with a key id, SSE-C) and a bucket's default encryption encrypt the file as
PutObject's headers would; the object then reads back with a PUT's headers (HEAD names the
method, SSE-C reads need the key). The fields must be covered by the policy like any other. Fields
may follow the file, whatever its size: its size, known at its end, is bound at commit."""
import base64
import glob
import hashlib
import http.client
import os

import botocore.exceptions
import pytest

from test_post_object import BOUNDARY, absent, error, form_body, post, sign_v4
from test_sse import KEY_A, KEY_B, sse_bucket, sse_gateway  # noqa: F401 (fixtures)


def pattern(marker, size):
    unit = ("%s-%%08d|" % marker).encode()
    return b"".join(unit % i for i in range(size // len(unit) + 1))[:size]


def shard_files(data_dir):
    return sum(len(files) for d in glob.glob(os.path.join(data_dir, "drive*", "shards"))
               for _, _, files in os.walk(d))


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
    """The named submit button of AWS's example form comes after the file, and is ignored."""
    s3, bucket = sse_bucket
    fields = signed_form(sse_gateway, bucket, "small", {"x-amz-server-side-encryption": "AES256"})
    data = pattern("FORM-SMALL-AFTER", STRIPE - 1)
    r = post(sse_gateway, bucket, fields, data, after=[("submit", "Upload to Amazon S3")])
    assert r.status == 204, r.body
    got = s3.get_object(Bucket=bucket, Key="small")
    assert got["ServerSideEncryption"] == "AES256" and got["Body"].read() == data


LARGE = 3 * STRIPE + 12345  # several stripes, and a last SSE block that is not whole


@pytest.mark.parametrize("method", ["AES256", "SM4", "SSE-C", "aws:kms"])
def test_large_encrypted_file_followed_by_fields(sse_gateway, sse_bucket, method):
    """A file of several stripes with fields after it (as a browser sends AWS's example form): its
    size comes only at its end, and it is stored encrypted and reads back whole, by ranges too."""
    s3, bucket = sse_bucket
    key = "after-" + method.replace(":", "-")
    sse = customer_fields(KEY_A) if method == "SSE-C" else {"x-amz-server-side-encryption": method}
    read = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY_A} if method == "SSE-C" else {}
    data = pattern("FORM-AFTER-" + method, LARGE)
    r = post(sse_gateway, bucket, signed_form(sse_gateway, bucket, key, sse), data,
             after=[("submit", "Upload to Amazon S3"), ("note", "x" * 3000)])
    assert r.status == 204, r.body
    got = s3.get_object(Bucket=bucket, Key=key, **read)
    assert got["ContentLength"] == LARGE
    assert got["Body"].read() == data
    part = s3.get_object(Bucket=bucket, Key=key, Range="bytes=%d-%d" % (STRIPE - 5, LARGE - 1), **read)
    assert part["Body"].read() == data[STRIPE - 5:]
    if method == "SSE-C":
        assert got["SSECustomerAlgorithm"] == "AES256"
        assert client_error(lambda: s3.get_object(Bucket=bucket, Key=key)) == (400, "InvalidRequest")
    else:
        assert got["ServerSideEncryption"] == method
    if method in ("AES256", "SM4"):  # SSE-C's and SSE-KMS's ETag is no MD5 of the plaintext, as S3's
        assert got["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()
    assert found_in_drives(sse_gateway.data_dir, ("FORM-AFTER-%s-00000001|" % method).encode()) is None


def test_large_encrypted_file_refused_is_not_stored(sse_gateway, sse_bucket):
    """A content-length-range the file exceeds or does not reach, a condition the form breaks, a
    checksum field the file does not match: nothing stored, no shard left on the drives."""
    s3, bucket = sse_bucket
    data = pattern("FORM-REFUSED", LARGE)
    shards_before = shard_files(sse_gateway.data_dir)
    fields = signed_form(sse_gateway, bucket, "refused", {"x-amz-server-side-encryption": "AES256"},
                         [["content-length-range", 0, 2 * STRIPE]])
    r = post(sse_gateway, bucket, fields, data, after=[("submit", "Upload")])
    assert error(r)[:2] == (400, "EntityTooLarge")
    assert absent(s3, bucket, "refused")
    fields = signed_form(sse_gateway, bucket, "refused", {"x-amz-server-side-encryption": "AES256"},
                         [["content-length-range", 4 * STRIPE, 5 * STRIPE]])
    r = post(sse_gateway, bucket, fields, data, after=[("submit", "Upload")])
    assert error(r)[:2] == (400, "EntityTooSmall")
    assert absent(s3, bucket, "refused")
    fields = signed_form(sse_gateway, bucket, "refused", {"x-amz-server-side-encryption": "SM4"})
    fields["x-amz-server-side-encryption"] = "AES256"  # not what the policy signed
    r = post(sse_gateway, bucket, fields, data, after=[("submit", "Upload")])
    assert error(r)[:2] == (403, "AccessDenied")
    assert absent(s3, bucket, "refused")
    # a checksum field the file does not match
    wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    fields = signed_form(sse_gateway, bucket, "refused", {"x-amz-server-side-encryption": "AES256",
                                                          "x-amz-checksum-sha256": wrong})
    r = post(sse_gateway, bucket, fields, data, after=[("submit", "Upload")])
    assert error(r)[:2] == (400, "BadDigest")
    assert absent(s3, bucket, "refused")
    assert shard_files(sse_gateway.data_dir) == shards_before  # the shards written were removed
    # an unencrypted form with the same shape is stored too
    r = post(sse_gateway, bucket, signed_form(sse_gateway, bucket, "plain", {}), data, after=[("submit", "Upload")])
    assert r.status == 204, r.body
    assert s3.get_object(Bucket=bucket, Key="plain")["Body"].read() == data


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
    """Transfer-Encoding: chunked, no Content-Length: the file is sized by its end, small or not,
    as an unencrypted one is."""
    s3, bucket = sse_bucket
    fields = list(signed_form(sse_gateway, bucket, "chunked", {"x-amz-server-side-encryption": "AES256"}).items())
    for data in (b"no length", pattern("FORM-CHUNKED", STRIPE + 1)):
        status, reply = post_chunked(sse_gateway, bucket, form_body(fields, data, after=[("submit", "Upload")]))
        assert status == 204, reply
        assert s3.get_object(Bucket=bucket, Key="chunked")["Body"].read() == data
