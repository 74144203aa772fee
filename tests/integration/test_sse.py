"""Server-side encryption with boto3: SSE-S3 (AES256), SM4 (and OBS's header spelling) and SSE-C
on PUT, GET, ranged GET, HEAD and copy; the S3 errors of missing, wrong and malformed keys; the
drives' files never hold the plaintext; a changed byte that passes the shards' own checksums is
an error on GET, never wrong bytes, while the blocks it does not touch still read."""
import base64
import json
import ctypes
import glob
import hashlib
import os
import shutil
import struct
import tempfile
import zlib

import botocore.exceptions
import pytest

from conftest import Gateway, empty_and_delete_bucket, random_keys, unique_bucket_name

KiB = 1024
KEY_A = bytes(range(32))
KEY_B = bytes(range(1, 33))


@pytest.fixture(scope="module")
def sse_gateway():
    """A gateway whose master key comes from a file, and which takes SSE-C keys over loopback HTTP."""
    root = tempfile.mkdtemp(prefix="yc-sse-")
    data = os.path.join(root, "data")
    os.makedirs(data)
    key_file = os.path.join(root, "master.key")
    with open(key_file, "w") as f:
        f.write(os.urandom(32).hex() + "\n")
    ak, sk = random_keys()
    gw = Gateway(data, ak, sk)
    gw.extra_args = ["--sse-master-key-file", key_file, "--sse-c-plain-http", "1"]
    gw.start()
    yield gw
    gw.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def sse_bucket(sse_gateway):
    s3 = sse_gateway.client()
    name = unique_bucket_name("yc-sse")
    s3.create_bucket(Bucket=name)
    yield s3, name
    empty_and_delete_bucket(s3, name)


def with_headers(s3, event, headers):
    """Adds headers to every request of one operation (e.g. 'PutObject') of this client."""
    def add(request, **kwargs):
        for k, v in headers.items():
            request.headers[k] = v
    s3.meta.events.register("before-sign.s3.%s" % event, add)


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    r = e.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"].get("Code")


def ssec(key=KEY_A, prefix="SSECustomer"):
    return {prefix + "Algorithm": "AES256", prefix + "Key": key}


def pattern(marker, size):
    unit = ("%s-%%08d|" % marker).encode()
    out = b"".join(unit % i for i in range(size // len(unit) + 1))
    return out[:size]


@pytest.mark.parametrize("stripe", [40000, 3 * 1024 * KiB])
def test_long_objects_read_back_across_stripes_whatever_their_size(stripe):
    """A GET streams whole stripes and opens each sealed block (64 KiB and its tag) where it lies:
    blocks cross stripes, a stripe may hold less than one block (40,000 bytes) or more blocks than
    one write takes (3 MiB: 48). Every byte comes back, whole and in ranges that start mid-block."""
    root = tempfile.mkdtemp(prefix="yc-sse-stripes-")
    ak, sk = random_keys()
    gw = Gateway(os.path.join(root, "data"), ak, sk)
    os.makedirs(gw.data_dir)
    gw.extra_args = ["--stripe-size", str(stripe), "--inline-max", "4096"]
    gw.start()
    try:
        s3 = gw.client()
        s3.create_bucket(Bucket="stripes")
        body = os.urandom(4 * 1024 * KiB + 12345)
        for method in ["AES256", "SM4"]:
            s3.put_object(Bucket="stripes", Key=method, Body=body, ServerSideEncryption=method)
            got = s3.get_object(Bucket="stripes", Key=method)
            assert got["ServerSideEncryption"] == method
            assert got["Body"].read() == body
            for first, last in [(1, len(body) - 2), (65540, 3 * 1024 * KiB + 70000), (len(body) - 300000, len(body) - 1)]:
                r = s3.get_object(Bucket="stripes", Key=method, Range="bytes=%d-%d" % (first, last))
                assert r["Body"].read() == body[first:last + 1], (method, first, last)
    finally:
        gw.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("method", ["AES256", "SM4"])
def test_long_encrypted_put_checks_the_digests_of_its_plaintext(sse_bucket, method):
    """The plaintext's MD5 and checksums are taken beside the sealing (a long body's on another
    thread): a right Content-MD5 and CRC32 pass and are the plaintext's, a wrong one is refused."""
    s3, bucket = sse_bucket
    body = os.urandom(3 * 1024 * KiB + 999)
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    put = s3.put_object(Bucket=bucket, Key="d", Body=body, ServerSideEncryption=method, ContentMD5=md5,
                        ChecksumAlgorithm="CRC32")
    assert put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()
    assert put["ChecksumCRC32"] == base64.b64encode(struct.pack(">I", zlib.crc32(body))).decode()
    wrong = base64.b64encode(hashlib.md5(body + b"x").digest()).decode()
    assert error_of(lambda: s3.put_object(Bucket=bucket, Key="e", Body=body, ServerSideEncryption=method,
                                          ContentMD5=wrong)) == (400, "BadDigest")
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="e"))[0] == 404


@pytest.mark.parametrize("method", ["AES256", "SM4"])
def test_put_get_head_range_round_trip_and_name_the_method(sse_bucket, method):
    s3, bucket = sse_bucket
    body = os.urandom(300 * KiB + 7)  # five 64 KiB blocks and a short one, stored as shard files
    put = s3.put_object(Bucket=bucket, Key="k", Body=body, ServerSideEncryption=method)
    assert put["ServerSideEncryption"] == method
    assert put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest()  # S3: the plaintext's MD5
    got = s3.get_object(Bucket=bucket, Key="k")
    assert got["ServerSideEncryption"] == method
    assert got["ContentLength"] == len(body)
    assert got["Body"].read() == body
    head = s3.head_object(Bucket=bucket, Key="k")
    assert head["ServerSideEncryption"] == method and head["ContentLength"] == len(body)
    for first, last in [(0, 0), (65530, 65545), (70000, 200000), (len(body) - 10, len(body) - 1)]:
        r = s3.get_object(Bucket=bucket, Key="k", Range="bytes=%d-%d" % (first, last))
        assert r["Body"].read() == body[first:last + 1]
        assert r["ContentRange"] == "bytes %d-%d/%d" % (first, last, len(body))
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert listed["Size"] == len(body)  # the plaintext's size, not the stored one
    # a later attribute change (tags) keeps the object's keys
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    assert s3.get_object(Bucket=bucket, Key="k", Range="bytes=0-99")["Body"].read() == body[:100]


def test_small_and_empty_objects_round_trip(sse_bucket):
    s3, bucket = sse_bucket
    for size in (0, 1, 64 * KiB, 64 * KiB + 1):
        body = os.urandom(size)
        s3.put_object(Bucket=bucket, Key="s%d" % size, Body=body, ServerSideEncryption="SM4")
        got = s3.get_object(Bucket=bucket, Key="s%d" % size)
        assert got["Body"].read() == body and got["ServerSideEncryption"] == "SM4"


def test_obs_header_spelling_asks_for_sm4(sse_bucket):
    s3, bucket = sse_bucket
    with_headers(s3, "PutObject", {"x-obs-server-side-data-encryption": "SM4"})
    put = s3.put_object(Bucket=bucket, Key="obs", Body=b"sovereign bytes")
    assert put["ServerSideEncryption"] == "SM4"
    assert s3.head_object(Bucket=bucket, Key="obs")["ServerSideEncryption"] == "SM4"


def test_unknown_method_is_invalid_argument(sse_bucket):
    s3, bucket = sse_bucket
    assert error_of(lambda: s3.put_object(Bucket=bucket, Key="x", Body=b"x", ServerSideEncryption="AES128")) == (
        400, "InvalidArgument")


def test_sse_c_needs_the_key_on_every_read(sse_bucket):
    s3, bucket = sse_bucket
    body = os.urandom(200 * KiB)
    put = s3.put_object(Bucket=bucket, Key="c", Body=body, **ssec())
    assert put["SSECustomerAlgorithm"] == "AES256"
    assert put["SSECustomerKeyMD5"] == base64.b64encode(hashlib.md5(KEY_A).digest()).decode()
    assert put["ETag"] != '"%s"' % hashlib.md5(body).hexdigest()  # S3: no MD5 of the plaintext
    got = s3.get_object(Bucket=bucket, Key="c", **ssec())
    assert got["Body"].read() == body and got["SSECustomerAlgorithm"] == "AES256"
    r = s3.get_object(Bucket=bucket, Key="c", Range="bytes=100000-150000", **ssec())
    assert r["Body"].read() == body[100000:150001]
    assert s3.head_object(Bucket=bucket, Key="c", **ssec())["ContentLength"] == len(body)
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="c")) == (400, "InvalidRequest")
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="c"))[0] == 400
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="c", **ssec(KEY_B))) == (403, "AccessDenied")
    assert error_of(lambda: s3.head_object(Bucket=bucket, Key="c", **ssec(KEY_B)))[0] == 403


def test_sse_c_key_on_an_object_without_one_is_refused(sse_bucket):
    s3, bucket = sse_bucket
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    s3.put_object(Bucket=bucket, Key="s3", Body=b"x", ServerSideEncryption="AES256")
    for key in ("plain", "s3"):
        assert error_of(lambda: s3.get_object(Bucket=bucket, Key=key, **ssec())) == (400, "InvalidRequest")


def test_sse_c_malformed_headers_get_the_s3_errors(sse_gateway, sse_bucket):
    bucket = sse_bucket[1]
    b64 = base64.b64encode(KEY_A).decode()
    md5 = base64.b64encode(hashlib.md5(KEY_A).digest()).decode()
    wrong_md5 = base64.b64encode(hashlib.md5(KEY_B).digest()).decode()
    cases = [
        ({"x-amz-server-side-encryption-customer-algorithm": "AES256",
          "x-amz-server-side-encryption-customer-key": b64,
          "x-amz-server-side-encryption-customer-key-MD5": wrong_md5}, "InvalidArgument"),
        ({"x-amz-server-side-encryption-customer-algorithm": "AES256",
          "x-amz-server-side-encryption-customer-key": b64}, "InvalidArgument"),
        ({"x-amz-server-side-encryption-customer-algorithm": "AES256",
          "x-amz-server-side-encryption-customer-key-MD5": md5}, "InvalidArgument"),
        ({"x-amz-server-side-encryption-customer-key": b64,
          "x-amz-server-side-encryption-customer-key-MD5": md5}, "InvalidArgument"),
        ({"x-amz-server-side-encryption-customer-algorithm": "AES256",
          "x-amz-server-side-encryption-customer-key": base64.b64encode(KEY_A[:16]).decode(),
          "x-amz-server-side-encryption-customer-key-MD5": base64.b64encode(
              hashlib.md5(KEY_A[:16]).digest()).decode()}, "InvalidArgument"),
        ({"x-amz-server-side-encryption-customer-algorithm": "AES128",
          "x-amz-server-side-encryption-customer-key": b64,
          "x-amz-server-side-encryption-customer-key-MD5": md5}, "InvalidEncryptionAlgorithmError"),
        ({"x-amz-server-side-encryption-customer-algorithm": "AES256",
          "x-amz-server-side-encryption-customer-key": b64,
          "x-amz-server-side-encryption-customer-key-MD5": md5,
          "x-amz-server-side-encryption": "AES256"}, "InvalidArgument"),
    ]
    s3 = sse_gateway.client()
    current = {}

    def add(request, **kwargs):
        for k, v in current.items():
            request.headers[k] = v
    s3.meta.events.register("before-sign.s3.PutObject", add)
    for i, (headers, code) in enumerate(cases):
        current.clear()
        current.update(headers)
        assert error_of(lambda: s3.put_object(Bucket=bucket, Key="bad%d" % i, Body=b"x")) == (400, code), headers


def test_sse_c_over_plain_http_is_refused_by_default(s3, bucket):
    assert error_of(lambda: s3.put_object(Bucket=bucket, Key="k", Body=b"x", **ssec())) == (400, "InvalidRequest")


def test_copy_decrypts_the_source_and_encrypts_the_copy_as_asked(sse_bucket):
    s3, bucket = sse_bucket
    body = os.urandom(150 * KiB)
    s3.put_object(Bucket=bucket, Key="src-c", Body=body, **ssec())
    src = {"Bucket": bucket, "Key": "src-c"}
    # the source's key is needed to read it
    assert error_of(lambda: s3.copy_object(Bucket=bucket, Key="d0", CopySource=src))[0] == 400
    r = s3.copy_object(Bucket=bucket, Key="d1", CopySource=src, ServerSideEncryption="AES256",
                       **ssec(prefix="CopySourceSSECustomer"))
    assert r["ServerSideEncryption"] == "AES256"
    got = s3.get_object(Bucket=bucket, Key="d1")
    assert got["Body"].read() == body and got["ServerSideEncryption"] == "AES256"
    s3.copy_object(Bucket=bucket, Key="d2", CopySource={"Bucket": bucket, "Key": "d1"}, ServerSideEncryption="SM4")
    assert s3.get_object(Bucket=bucket, Key="d2")["Body"].read() == body
    s3.copy_object(Bucket=bucket, Key="d3", CopySource={"Bucket": bucket, "Key": "d2"}, **ssec(KEY_B))
    assert s3.get_object(Bucket=bucket, Key="d3", **ssec(KEY_B))["Body"].read() == body
    s3.copy_object(Bucket=bucket, Key="d4", CopySource={"Bucket": bucket, "Key": "d2"})
    plain = s3.get_object(Bucket=bucket, Key="d4")
    assert plain["Body"].read() == body and "ServerSideEncryption" not in plain
    # re-encrypting an object in place is a copy onto itself that changes its encryption
    s3.copy_object(Bucket=bucket, Key="d4", CopySource={"Bucket": bucket, "Key": "d4"}, ServerSideEncryption="SM4")
    assert s3.head_object(Bucket=bucket, Key="d4")["ServerSideEncryption"] == "SM4"


@pytest.mark.parametrize("kind", ["AES256", "SM4", "SSE-C"])
def test_multipart_parts_are_encrypted_and_read_back_across_parts(sse_bucket, kind):
    s3, bucket = sse_bucket
    create = {"ServerSideEncryption": kind} if kind != "SSE-C" else ssec()
    read = ssec() if kind == "SSE-C" else {}
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp", **create)
    if kind != "SSE-C":
        assert up["ServerSideEncryption"] == kind
    uid = up["UploadId"]
    # two parts for each suite (its tag size decides where part 2's blocks lie); SSE-C shares
    # AES256's suite, so one part checks its keys
    bodies = [os.urandom(5 * 1024 * KiB), os.urandom(100 * KiB + 3)] if kind != "SSE-C" else [os.urandom(100 * KiB)]
    if kind == "SSE-C":  # each part needs the upload's key
        assert error_of(lambda: s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=b"x")) == (
            400, "InvalidRequest")
        assert error_of(lambda: s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=1, Body=b"x",
                                               **ssec(KEY_B)))[0] == 403
    etags = [s3.upload_part(Bucket=bucket, Key="mp", UploadId=uid, PartNumber=i + 1, Body=b, **read)["ETag"]
             for i, b in enumerate(bodies)]
    parts = s3.list_parts(Bucket=bucket, Key="mp", UploadId=uid)["Parts"]
    assert [p["Size"] for p in parts] == [len(b) for b in bodies]  # the plaintext's sizes
    done = s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]})
    if kind != "SSE-C":
        assert done["ServerSideEncryption"] == kind
    body = b"".join(bodies)
    got = s3.get_object(Bucket=bucket, Key="mp", **read)
    assert got["ContentLength"] == len(body) and got["Body"].read() == body
    edge = len(bodies[0])
    first = max(0, edge - 70000)
    r = s3.get_object(Bucket=bucket, Key="mp", Range="bytes=%d-%d" % (first, min(edge + 70000, len(body) - 1)),
                      **read)
    assert r["Body"].read() == body[first:edge + 70001]
    last = s3.get_object(Bucket=bucket, Key="mp", PartNumber=len(bodies), **read)
    assert last["Body"].read() == bodies[-1]
    if kind != "SSE-C":
        attrs = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts", "ObjectSize"])
        assert attrs["ObjectSize"] == len(body)
        assert [p["Size"] for p in attrs["ObjectParts"]["Parts"]] == [len(b) for b in bodies]
    else:
        assert error_of(lambda: s3.get_object(Bucket=bucket, Key="mp")) == (400, "InvalidRequest")


def test_upload_part_copy_decrypts_its_source_into_an_encrypted_upload(sse_bucket):
    s3, bucket = sse_bucket
    src = os.urandom(300 * KiB)
    s3.put_object(Bucket=bucket, Key="src", Body=src, **ssec(KEY_B))
    uid = s3.create_multipart_upload(Bucket=bucket, Key="pc", ServerSideEncryption="SM4")["UploadId"]
    copied = s3.upload_part_copy(Bucket=bucket, Key="pc", UploadId=uid, PartNumber=1,
                                 CopySource={"Bucket": bucket, "Key": "src"}, CopySourceRange="bytes=1000-200999",
                                 **ssec(KEY_B, prefix="CopySourceSSECustomer"))
    s3.complete_multipart_upload(Bucket=bucket, Key="pc", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": copied["CopyPartResult"]["ETag"]}]})
    got = s3.get_object(Bucket=bucket, Key="pc")
    assert got["ServerSideEncryption"] == "SM4" and got["Body"].read() == src[1000:201000]


def drive_files(data_dir):
    return [p for p in glob.glob(os.path.join(data_dir, "drive*", "**"), recursive=True) if os.path.isfile(p)]


def found_in_drives(data_dir, needle):
    for path in drive_files(data_dir):
        with open(path, "rb") as f:
            if needle in f.read():
                return path
    return None


def test_drives_never_hold_the_plaintext(sse_gateway, sse_bucket):
    s3, bucket = sse_bucket
    kinds = {"SSES3": {"ServerSideEncryption": "AES256"}, "SM4X": {"ServerSideEncryption": "SM4"}, "SSEC": ssec()}
    for marker, args in kinds.items():
        for size in (4 * KiB, 400 * KiB):  # inline in the records, and shard files
            body = pattern("YUNCANG-%s-%d" % (marker, size), size)
            s3.put_object(Bucket=bucket, Key="%s-%d" % (marker, size), Body=body, **args)
    s3.put_object(Bucket=bucket, Key="control", Body=pattern("YUNCANG-PLAIN", 4 * KiB))
    # the control shows the search sees what the drives hold (records' inline shards included)
    assert found_in_drives(sse_gateway.data_dir, b"YUNCANG-PLAIN-00000001|") is not None
    for marker in kinds:
        for size in (4 * KiB, 400 * KiB):
            needle = ("YUNCANG-%s-%d-00000001|" % (marker, size)).encode()
            assert found_in_drives(sse_gateway.data_dir, needle) is None, marker


def xxh3_64(data):
    lib = ctypes.CDLL("libxxhash.so.0")
    lib.XXH3_64bits.restype = ctypes.c_uint64
    lib.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    return lib.XXH3_64bits(data, len(data))


def shard_files(data_dir):
    return set(glob.glob(os.path.join(data_dir, "drive*", "shards", "??", "*")))


def tamper_first_block(path, at):
    """Flips a byte of a shard file's first block and rewrites the block's checksum, as someone
    with access to the drive could: the erasure layer's bitrot check passes (shard.c's format)."""
    with open(path, "r+b") as f:
        head = f.read(32)
        block_len = struct.unpack_from("<I", head, 8)[0]
        block = bytearray(f.read(block_len))
        block[at] ^= 0x01
        f.seek(32)
        f.write(bytes(block))
        f.write(struct.pack("<Q", xxh3_64(bytes(block))))


@pytest.mark.parametrize("method", ["AES256", "SM4"])
def test_changed_byte_that_passes_bitrot_checks_is_an_error_never_wrong_bytes(sse_gateway, sse_bucket, method):
    s3, bucket = sse_bucket
    body = os.urandom(200 * KiB)  # one stripe: each data shard holds a quarter of the stored bytes
    before = shard_files(sse_gateway.data_dir)
    s3.put_object(Bucket=bucket, Key="t", Body=body, ServerSideEncryption=method)
    new = sorted(shard_files(sse_gateway.data_dir) - before)
    assert len(new) == 6
    first = [p for p in new if p.endswith(".0")]
    assert len(first) == 1
    tamper_first_block(first[0], 100)  # inside the object's first 64 KiB block
    status, code = error_of(lambda: s3.get_object(Bucket=bucket, Key="t"))
    assert (status, code) == (500, "InternalError")
    assert error_of(lambda: s3.get_object(Bucket=bucket, Key="t", Range="bytes=0-10"))[0] == 500
    # a block the change did not touch still opens: only the blocks a range needs are read
    r = s3.get_object(Bucket=bucket, Key="t", Range="bytes=140000-150000")
    assert r["Body"].read() == body[140000:150001]


def encryption_rule(algorithm, key_id=None):
    apply = {"SSEAlgorithm": algorithm}
    if key_id is not None:
        apply["KMSMasterKeyID"] = key_id
    return {"Rules": [{"ApplyServerSideEncryptionByDefault": apply}]}


def test_bucket_default_encryption_applies_to_writes_without_headers(sse_bucket):
    s3, bucket = sse_bucket
    assert error_of(lambda: s3.get_bucket_encryption(Bucket=bucket)) == (
        404, "ServerSideEncryptionConfigurationNotFoundError")
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=encryption_rule("SM4"))
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "SM4"}
    body = pattern("YUNCANG-DEFAULT", 150 * KiB)
    assert s3.put_object(Bucket=bucket, Key="d", Body=body)["ServerSideEncryption"] == "SM4"
    got = s3.get_object(Bucket=bucket, Key="d")
    assert got["ServerSideEncryption"] == "SM4" and got["Body"].read() == body
    # a header still wins over the default
    assert s3.put_object(Bucket=bucket, Key="h", Body=b"x", ServerSideEncryption="AES256")[
        "ServerSideEncryption"] == "AES256"
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=encryption_rule("AES256"))
    s3.put_object(Bucket=bucket, Key="plain-src", Body=body, ServerSideEncryption="SM4")
    assert s3.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "plain-src"})[
        "ServerSideEncryption"] == "AES256"
    up = s3.create_multipart_upload(Bucket=bucket, Key="m")
    assert up["ServerSideEncryption"] == "AES256"
    e = s3.upload_part(Bucket=bucket, Key="m", UploadId=up["UploadId"], PartNumber=1, Body=body)["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=up["UploadId"],
                                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
    m = s3.get_object(Bucket=bucket, Key="m")
    assert m["ServerSideEncryption"] == "AES256" and m["Body"].read() == body
    s3.delete_bucket_encryption(Bucket=bucket)
    assert error_of(lambda: s3.get_bucket_encryption(Bucket=bucket))[0] == 404
    assert "ServerSideEncryption" not in s3.put_object(Bucket=bucket, Key="p", Body=b"x")


def test_bucket_encryption_documents_get_the_s3_errors(sse_bucket):
    s3, bucket = sse_bucket
    bad = [
        (encryption_rule("AES128"), (400, "MalformedXML")),
        (encryption_rule("AES256", key_id="my-key"), (400, "InvalidArgument")),
        ({"Rules": []}, (400, "MalformedXML")),
        (encryption_rule("aws:kms:dsse"), (501, "NotImplemented")),
    ]
    for doc, want in bad:
        assert error_of(lambda: s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=doc)) == \
            want, doc
    assert error_of(lambda: s3.get_bucket_encryption(Bucket=bucket))[0] == 404


def test_bucket_policy_can_require_encryption(sse_bucket):
    s3, bucket = sse_bucket
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "RequireSM4", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::%s/*" % bucket,
        "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "SM4"}}}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    try:
        assert error_of(lambda: s3.put_object(Bucket=bucket, Key="no", Body=b"x")) == (403, "AccessDenied")
        assert error_of(lambda: s3.put_object(Bucket=bucket, Key="no", Body=b"x",
                                              ServerSideEncryption="AES256")) == (403, "AccessDenied")
        assert s3.put_object(Bucket=bucket, Key="yes", Body=b"x", ServerSideEncryption="SM4")[
            "ServerSideEncryption"] == "SM4"
    finally:
        s3.delete_bucket_policy(Bucket=bucket)


def test_kms_named_keys_encrypt_rotate_and_stay_readable(sse_gateway, sse_bucket):
    s3, bucket = sse_bucket
    body = os.urandom(100 * KiB)
    put = s3.put_object(Bucket=bucket, Key="default", Body=body, ServerSideEncryption="aws:kms")
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == "yc/s3"
    assert put["ETag"] != '"%s"' % hashlib.md5(body).hexdigest()  # S3: no MD5 of the plaintext
    assert error_of(lambda: s3.put_object(Bucket=bucket, Key="x", Body=b"x", ServerSideEncryption="aws:kms",
                                          SSEKMSKeyId="no-such-key")) == (400, "KMS.NotFoundException")
    sse_gateway.admin("kms", "key", "add", "app-key")
    assert sse_gateway.admin("kms", "key", "add", "app-key", check=False).returncode != 0  # exists
    old = s3.put_object(Bucket=bucket, Key="v1", Body=body, ServerSideEncryption="aws:kms", SSEKMSKeyId="app-key")
    assert old["SSEKMSKeyId"] == "app-key"
    sse_gateway.admin("kms", "key", "rotate", "app-key")
    keys = json.loads(sse_gateway.admin("kms", "key", "list").stdout)["keys"]
    assert {"yc/s3": 1, "app-key": 2}.items() <= {k["id"]: k["version"] for k in keys}.items()
    s3.put_object(Bucket=bucket, Key="v2", Body=body[::-1], ServerSideEncryption="aws:kms", SSEKMSKeyId="app-key")
    # the object wrapped under version 1 still opens after the rotation; the new one uses version 2
    for key, want in (("v1", body), ("v2", body[::-1]), ("default", body)):
        got = s3.get_object(Bucket=bucket, Key=key, Range="bytes=70000-99999")
        assert got["Body"].read() == want[70000:100000] and got["ServerSideEncryption"] == "aws:kms"
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=encryption_rule("aws:kms", "app-key"))
    d = s3.put_object(Bucket=bucket, Key="by-default", Body=b"abc")
    assert d["ServerSideEncryption"] == "aws:kms" and d["SSEKMSKeyId"] == "app-key"
    assert s3.head_object(Bucket=bucket, Key="by-default")["SSEKMSKeyId"] == "app-key"
    s3.delete_bucket_encryption(Bucket=bucket)


def test_kms_key_id_without_aws_kms_is_invalid_argument(sse_gateway, sse_bucket):
    bucket = sse_bucket[1]
    s3 = sse_gateway.client()
    with_headers(s3, "PutObject", {"x-amz-server-side-encryption-aws-kms-key-id": "yc/s3"})
    assert error_of(lambda: s3.put_object(Bucket=bucket, Key="x", Body=b"x")) == (400, "InvalidArgument")
    assert error_of(lambda: s3.put_object(Bucket=bucket, Key="x", Body=b"x", ServerSideEncryption="AES256")) == (
        400, "InvalidArgument")

