"""Checksums and parts on every path: x-amz-checksum-* on PutObject and UploadPart (headers and
aws-chunked trailers, every algorithm), the upload's algorithm and type from CreateMultipartUpload
to CompleteMultipartUpload and ListParts, what GET and HEAD answer with x-amz-checksum-mode
(nothing for a range, the part's for ?partNumber=), and ?partNumber= itself.

boto3 from Debian (1.26) sends no checksum unless asked and knows neither CRC64NVME nor checksum
types, so those requests are signed by hand (yc_raw). Every wrong checksum must give 400 BadDigest
and leave what was stored as it was.
"""
import base64
import hashlib
import struct
import xml.etree.ElementTree as ET
import zlib

import pytest
from botocore.exceptions import ClientError

import yc_raw

KiB = 1024
MiB = 1024 * KiB
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
ALGS = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"]


# ---------------------------------------------------------------- checksums computed here

def _crc_table(poly, width):
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C_TABLE = _crc_table(0x82F63B78, 32)
_CRC64NVME_TABLE = _crc_table(0x9A6C9329AC4BC9B5, 64)


def _reflected_crc(table, mask, data):
    c = mask
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ mask


def crc32c(data):
    return _reflected_crc(_CRC32C_TABLE, 0xFFFFFFFF, data)


def crc64nvme(data):
    return _reflected_crc(_CRC64NVME_TABLE, 0xFFFFFFFFFFFFFFFF, data)


def digest(alg, data):
    """The binary checksum S3 puts (big-endian for CRCs) under alg."""
    if alg == "CRC32":
        return struct.pack(">I", zlib.crc32(data))
    if alg == "CRC32C":
        return struct.pack(">I", crc32c(data))
    if alg == "CRC64NVME":
        return struct.pack(">Q", crc64nvme(data))
    if alg == "SHA1":
        return hashlib.sha1(data).digest()
    return hashlib.sha256(data).digest()


def b64(alg, data):
    return base64.b64encode(digest(alg, data)).decode()


def composite(alg, parts):
    """S3's composite checksum of a multipart object: the checksum of the part checksums, -N."""
    joined = b"".join(digest(alg, p) for p in parts)
    return "%s-%d" % (base64.b64encode(digest(alg, joined)).decode(), len(parts))


# ---------------------------------------------------------------- small helpers

def pattern(size, seed=0):
    block = hashlib.sha256(b"checksums-%d" % seed).digest() * 64
    return (block * (size // len(block) + 1))[:size]


def header_name(alg):
    return "x-amz-checksum-" + alg.lower()


def raw(gateway, method, bucket, key, query="", headers=None, body=b""):
    return yc_raw.request(gateway, method, "/%s/%s" % (bucket, yc_raw.quote_key(key)), query, headers, body)


def raw_trailer(gateway, method, bucket, key, data, alg, value, query=""):
    """A body framed as aws-chunked with an unsigned payload and the checksum in a trailer."""
    name = header_name(alg)
    body = yc_raw.unsigned_trailer_body(data, 64 * KiB, name, value)
    headers = {"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": str(len(data)),
               "X-Amz-Trailer": name}
    req = yc_raw.sign(gateway, method, "/%s/%s" % (bucket, key), query, headers,
                      payload_hash=yc_raw.STREAMING_UNSIGNED_TRAILER)
    return yc_raw.send(gateway, req, body=body)


def error_of(r):
    return r.error()["Code"], r.error()["Message"]


def client_error(call, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        call(*args, **kwargs)
    return e.value.response


def get_status(s3, bucket, key, **kw):
    try:
        r = s3.get_object(Bucket=bucket, Key=key, **kw)
        r["Body"].read()
        return r["ResponseMetadata"]["HTTPStatusCode"]
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"]


def object_bytes(s3, bucket, key):
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def create_upload(gateway, bucket, key, alg=None, ctype=None):
    headers = {}
    if alg:
        headers["x-amz-checksum-algorithm"] = alg
    if ctype:
        headers["x-amz-checksum-type"] = ctype
    r = raw(gateway, "POST", bucket, key, "uploads=", headers)
    assert r.status == 200, r.body[:300]
    return r, ET.fromstring(r.body).find(NS + "UploadId").text


def upload_part(gateway, bucket, key, upload_id, number, data, alg=None, value=None, headers=None):
    h = dict(headers or {})
    if alg:
        h[header_name(alg)] = value if value is not None else b64(alg, data)
    return raw(gateway, "PUT", bucket, key, "partNumber=%d&uploadId=%s" % (number, upload_id), h, data)


def complete(gateway, bucket, key, upload_id, parts, headers=None):
    """parts: (number, etag, {alg: value}) tuples."""
    xml = ["<CompleteMultipartUpload>"]
    for number, etag, sums in parts:
        xml.append("<Part><PartNumber>%d</PartNumber><ETag>%s</ETag>" % (number, etag))
        for alg, value in sums.items():
            xml.append("<Checksum%s>%s</Checksum%s>" % (alg, value, alg))
        xml.append("</Part>")
    xml.append("</CompleteMultipartUpload>")
    return raw(gateway, "POST", bucket, key, "uploadId=" + upload_id, headers, "".join(xml).encode())


def list_parts(gateway, bucket, key, upload_id):
    r = raw(gateway, "GET", bucket, key, "uploadId=" + upload_id)
    assert r.status == 200, r.body[:300]
    return ET.fromstring(r.body)


def multipart_object(gateway, bucket, key, parts, alg=None, ctype=None):
    """Uploads parts with checksums of alg and completes; returns the Complete answer."""
    _, upload_id = create_upload(gateway, bucket, key, alg, ctype)
    listed = []
    for i, data in enumerate(parts, 1):
        r = upload_part(gateway, bucket, key, upload_id, i, data, alg)
        assert r.status == 200, r.body[:300]
        listed.append((i, r.headers["etag"], {alg: b64(alg, data)} if alg else {}))
    r = complete(gateway, bucket, key, upload_id, listed)
    assert r.status == 200, r.body[:300]
    return ET.fromstring(r.body)


# ---------------------------------------------------------------- item 1: GET/HEAD with checksum mode

def test_get_whole_object_with_checksum_mode_answers_stored_checksum(gateway, s3, bucket):
    data = pattern(300 * KiB, 1)
    s3.put_object(Bucket=bucket, Key="k", Body=data, ChecksumAlgorithm="CRC32")
    r = raw(gateway, "GET", bucket, "k", headers={"x-amz-checksum-mode": "ENABLED"})
    assert r.status == 200 and r.body == data
    assert r.headers["x-amz-checksum-crc32"] == b64("CRC32", data)
    assert r.headers["x-amz-checksum-type"] == "FULL_OBJECT"
    # boto3 validates it
    assert s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")["Body"].read() == data
    # without the mode, no checksum
    r = raw(gateway, "GET", bucket, "k")
    assert "x-amz-checksum-crc32" not in r.headers


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_ranged_answer_with_checksum_mode_carries_no_checksum(gateway, s3, bucket, method):
    data = pattern(300 * KiB, 2)
    s3.put_object(Bucket=bucket, Key="k", Body=data, ChecksumAlgorithm="CRC32")
    r = raw(gateway, method, bucket, "k", headers={"x-amz-checksum-mode": "ENABLED", "Range": "bytes=100-1099"})
    assert r.status == 206
    assert not [h for h in r.headers if h.startswith("x-amz-checksum-")], r.headers
    if method == "GET":
        assert r.body == data[100:1100]


def test_ranged_download_of_big_single_put_with_checksum_mode_validates(s3, bucket):
    # what `aws s3 cp` and download_file do with an object over 8 MiB: ranged GETs, here with the
    # checksum mode current SDKs send; a whole-object checksum on a range fails their validation
    data = pattern(20 * MiB + 123, 3)
    s3.put_object(Bucket=bucket, Key="big", Body=data, ChecksumAlgorithm="CRC32")
    got = bytearray()
    step = 8 * MiB
    for first in range(0, len(data), step):
        r = s3.get_object(Bucket=bucket, Key="big", Range="bytes=%d-%d" % (first, min(first + step, len(data)) - 1),
                          ChecksumMode="ENABLED")
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert "ChecksumCRC32" not in r
        got += r["Body"].read()
    assert bytes(got) == data


# ---------------------------------------------------------------- item 4: PutObject, every algorithm

@pytest.mark.parametrize("alg", ALGS)
def test_put_object_header_checksum_verified_stored_and_echoed(gateway, bucket, alg):
    # the checksums computed here, checked against their published values first
    assert crc64nvme(b"123456789") == 0xAE8B14860A799888 and crc32c(b"123456789") == 0xE3069283
    data = pattern(200 * KiB + 7, 4)
    r = raw(gateway, "PUT", bucket, "k", headers={header_name(alg): b64(alg, data)}, body=data)
    assert r.status == 200, r.body[:300]
    assert r.headers[header_name(alg)] == b64(alg, data)
    assert r.headers["x-amz-checksum-type"] == "FULL_OBJECT"
    r = raw(gateway, "HEAD", bucket, "k", headers={"x-amz-checksum-mode": "ENABLED"})
    assert r.headers[header_name(alg)] == b64(alg, data)


@pytest.mark.parametrize("alg", ALGS)
def test_put_object_header_checksum_wrong_is_bad_digest_and_changes_nothing(gateway, s3, bucket, alg):
    old = b"the object as it was"
    s3.put_object(Bucket=bucket, Key="k", Body=old)
    data = pattern(150 * KiB, 5)
    r = raw(gateway, "PUT", bucket, "k", headers={header_name(alg): b64(alg, data + b"!")}, body=data)
    assert r.status == 400
    code, message = error_of(r)
    assert code == "BadDigest"
    assert message == "The %s you specified did not match the calculated checksum." % alg
    assert r.error()["RequestId"]
    assert object_bytes(s3, bucket, "k") == old
    # and on a new key nothing appears
    r = raw(gateway, "PUT", bucket, "new", headers={header_name(alg): b64(alg, b"other")}, body=data)
    assert r.status == 400 and error_of(r)[0] == "BadDigest"
    assert get_status(s3, bucket, "new") == 404


@pytest.mark.parametrize("alg", ALGS)
def test_put_object_trailer_checksum_verified_and_stored(gateway, s3, bucket, alg):
    data = pattern(130 * KiB + 1, 6)
    r = raw_trailer(gateway, "PUT", bucket, "k", data, alg, b64(alg, data))
    assert r.status == 200, r.body[:300]
    assert r.headers[header_name(alg)] == b64(alg, data)
    assert r.headers["x-amz-checksum-type"] == "FULL_OBJECT"
    r = raw(gateway, "GET", bucket, "k", headers={"x-amz-checksum-mode": "ENABLED"})
    assert r.body == data and r.headers[header_name(alg)] == b64(alg, data)
    assert r.headers["x-amz-checksum-type"] == "FULL_OBJECT"


@pytest.mark.parametrize("alg", ALGS)
def test_put_object_trailer_checksum_wrong_is_bad_digest_and_changes_nothing(gateway, s3, bucket, alg):
    old = b"kept"
    s3.put_object(Bucket=bucket, Key="k", Body=old)
    data = pattern(130 * KiB + 1, 7)
    r = raw_trailer(gateway, "PUT", bucket, "k", data, alg, b64(alg, data[:-1]))
    assert r.status == 400
    assert error_of(r) == ("BadDigest", "The %s you specified did not match the calculated checksum." % alg)
    assert object_bytes(s3, bucket, "k") == old


def test_put_object_checksum_header_malformed_or_doubled_or_unknown(gateway, s3, bucket):
    data = b"payload"
    r = raw(gateway, "PUT", bucket, "k", headers={"x-amz-checksum-crc64nvme": "AAAA"}, body=data)
    assert error_of(r) == ("InvalidRequest", "Value for x-amz-checksum-crc64nvme header is invalid.")
    r = raw(gateway, "PUT", bucket, "k", body=data,
            headers={"x-amz-checksum-crc32": b64("CRC32", data), "x-amz-checksum-sha256": b64("SHA256", data)})
    assert r.status == 400 and error_of(r)[0] == "InvalidRequest"
    assert "Multiple checksum Types" in error_of(r)[1]
    r = raw(gateway, "PUT", bucket, "k", headers={"x-amz-checksum-xxhash64": "AAAAAAAAAAA="}, body=data)
    assert r.status == 400 and error_of(r)[0] == "InvalidRequest"
    r = raw(gateway, "PUT", bucket, "k", headers={"x-amz-sdk-checksum-algorithm": "CRC32"}, body=data)
    assert r.status == 400 and error_of(r)[0] == "InvalidRequest"
    assert get_status(s3, bucket, "k") == 404


# ---------------------------------------------------------------- item 4: multipart uploads

@pytest.mark.parametrize("alg,ctype", [("CRC32", None), ("CRC32C", "COMPOSITE"), ("SHA1", None),
                                       ("SHA256", "COMPOSITE"), ("CRC32", "FULL_OBJECT"),
                                       ("CRC64NVME", None), ("CRC32C", "FULL_OBJECT")])
def test_create_multipart_upload_echoes_algorithm_and_type(gateway, bucket, alg, ctype):
    r, upload_id = create_upload(gateway, bucket, "k", alg, ctype)
    want = ctype or ("FULL_OBJECT" if alg == "CRC64NVME" else "COMPOSITE")
    assert r.headers["x-amz-checksum-algorithm"] == alg
    assert r.headers["x-amz-checksum-type"] == want
    root = list_parts(gateway, bucket, "k", upload_id)
    assert root.find(NS + "ChecksumAlgorithm").text == alg
    assert root.find(NS + "ChecksumType").text == want
    # an upload without an algorithm answers none
    r, upload_id = create_upload(gateway, bucket, "plain")
    assert "x-amz-checksum-algorithm" not in r.headers and "x-amz-checksum-type" not in r.headers
    assert list_parts(gateway, bucket, "plain", upload_id).find(NS + "ChecksumAlgorithm") is None


@pytest.mark.parametrize("headers,message", [
    ({"x-amz-checksum-algorithm": "SHA256", "x-amz-checksum-type": "FULL_OBJECT"},
     "The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm."),
    ({"x-amz-checksum-algorithm": "CRC64NVME", "x-amz-checksum-type": "COMPOSITE"},
     "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm."),
    ({"x-amz-checksum-type": "COMPOSITE"},
     "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."),
    ({"x-amz-checksum-algorithm": "MD4"}, None),
    ({"x-amz-checksum-algorithm": "CRC32", "x-amz-checksum-type": "WHOLE"},
     "Value for x-amz-checksum-type header is invalid."),
])
def test_create_multipart_upload_refuses_bad_checksum_settings(gateway, s3, bucket, headers, message):
    r = raw(gateway, "POST", bucket, "k", "uploads=", headers)
    assert r.status == 400
    assert error_of(r)[0] == "InvalidRequest"
    if message:
        assert error_of(r)[1] == message
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


@pytest.mark.parametrize("alg", ALGS)
def test_upload_part_header_checksum_wrong_is_bad_digest_and_stores_nothing(gateway, bucket, alg):
    _, upload_id = create_upload(gateway, bucket, "k")
    data = pattern(64 * KiB, 8)
    r = upload_part(gateway, bucket, "k", upload_id, 1, data, alg, b64(alg, data + b"x"))
    assert r.status == 400
    assert error_of(r) == ("BadDigest", "The %s you specified did not match the calculated checksum." % alg)
    assert list_parts(gateway, bucket, "k", upload_id).findall(NS + "Part") == []
    # the right one is stored, echoed and listed
    r = upload_part(gateway, bucket, "k", upload_id, 1, data, alg)
    assert r.status == 200, r.body[:300]
    assert r.headers[header_name(alg)] == b64(alg, data)
    part = list_parts(gateway, bucket, "k", upload_id).find(NS + "Part")
    assert part.find(NS + "Checksum" + alg).text == b64(alg, data)


@pytest.mark.parametrize("alg", ALGS)
def test_upload_part_trailer_checksum_wrong_is_bad_digest_and_keeps_earlier_part(gateway, bucket, alg):
    _, upload_id = create_upload(gateway, bucket, "k", alg, "FULL_OBJECT" if alg == "CRC64NVME" else None)
    first = pattern(70 * KiB, 9)
    r = upload_part(gateway, bucket, "k", upload_id, 1, first, alg)
    assert r.status == 200, r.body[:300]
    etag = r.headers["etag"]
    second = pattern(70 * KiB, 10)
    r = raw_trailer(gateway, "PUT", bucket, "k", second, alg, b64(alg, first),
                    query="partNumber=1&uploadId=" + upload_id)
    assert r.status == 400
    assert error_of(r)[0] == "BadDigest"
    part = list_parts(gateway, bucket, "k", upload_id).find(NS + "Part")
    assert part.find(NS + "ETag").text == etag
    assert part.find(NS + "Checksum" + alg).text == b64(alg, first)
    r = raw_trailer(gateway, "PUT", bucket, "k", second, alg, b64(alg, second),
                    query="partNumber=1&uploadId=" + upload_id)
    assert r.status == 200, r.body[:300]
    assert r.headers[header_name(alg)] == b64(alg, second)


def test_upload_part_of_composite_upload_needs_its_algorithm(gateway, bucket):
    _, upload_id = create_upload(gateway, bucket, "k", "CRC32")
    data = pattern(10 * KiB, 11)
    r = upload_part(gateway, bucket, "k", upload_id, 1, data)
    assert error_of(r) == ("InvalidRequest",
                           "Checksum Type mismatch occurred, expected checksum Type: crc32, actual checksum Type: null")
    r = upload_part(gateway, bucket, "k", upload_id, 1, data, "SHA256")
    assert error_of(r) == ("InvalidRequest", "Checksum Type mismatch occurred, expected checksum Type: crc32, "
                                             "actual checksum Type: sha256")
    assert list_parts(gateway, bucket, "k", upload_id).findall(NS + "Part") == []


def test_upload_part_of_full_object_upload_without_checksum_gets_one(gateway, bucket):
    _, upload_id = create_upload(gateway, bucket, "k", "CRC32", "FULL_OBJECT")
    data = pattern(10 * KiB, 12)
    r = upload_part(gateway, bucket, "k", upload_id, 1, data)
    assert r.status == 200, r.body[:300]
    part = list_parts(gateway, bucket, "k", upload_id).find(NS + "Part")
    assert part.find(NS + "ChecksumCRC32").text == b64("CRC32", data)


@pytest.mark.parametrize("alg", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_complete_composite_checksum_answered_stored_and_served(gateway, s3, bucket, alg):
    parts = [pattern(5 * MiB, 13), pattern(5 * MiB, 14), pattern(1000, 15)]
    root = multipart_object(gateway, bucket, "k", parts, alg)
    want = composite(alg, parts)
    assert root.find(NS + "Checksum" + alg).text == want
    assert root.find(NS + "ChecksumType").text == "COMPOSITE"
    r = raw(gateway, "HEAD", bucket, "k", headers={"x-amz-checksum-mode": "ENABLED"})
    assert r.headers[header_name(alg)] == want
    assert r.headers["x-amz-checksum-type"] == "COMPOSITE"
    # a part answer carries that part's checksum
    r = raw(gateway, "GET", bucket, "k", "partNumber=2", headers={"x-amz-checksum-mode": "ENABLED"})
    assert r.status == 206 and r.body == parts[1]
    assert r.headers[header_name(alg)] == b64(alg, parts[1])


@pytest.mark.parametrize("alg", ["CRC32", "CRC32C", "CRC64NVME"])
def test_complete_full_object_checksum_is_crc_of_whole_object(gateway, s3, bucket, alg):
    parts = [pattern(5 * MiB + 3, 16), pattern(2 * MiB + 1, 17)]
    root = multipart_object(gateway, bucket, "k", parts, alg, "FULL_OBJECT")
    whole = b"".join(parts)
    assert root.find(NS + "Checksum" + alg).text == b64(alg, whole)
    assert root.find(NS + "ChecksumType").text == "FULL_OBJECT"
    r = raw(gateway, "GET", bucket, "k", headers={"x-amz-checksum-mode": "ENABLED"})
    assert r.body == whole
    assert r.headers[header_name(alg)] == b64(alg, whole)
    assert r.headers["x-amz-checksum-type"] == "FULL_OBJECT"


def test_complete_full_object_checksum_sent_by_client_is_verified(gateway, s3, bucket):
    parts = [pattern(5 * MiB, 18), pattern(3000, 19)]
    whole = b"".join(parts)
    _, upload_id = create_upload(gateway, bucket, "k", "CRC32", "FULL_OBJECT")
    listed = []
    for i, data in enumerate(parts, 1):
        r = upload_part(gateway, bucket, "k", upload_id, i, data, "CRC32")
        listed.append((i, r.headers["etag"], {"CRC32": b64("CRC32", data)}))
    r = complete(gateway, bucket, "k", upload_id, listed,
                 {"x-amz-checksum-crc32": b64("CRC32", whole + b"x"), "x-amz-checksum-type": "FULL_OBJECT"})
    assert r.status == 400
    assert error_of(r)[0] == "BadDigest"
    assert get_status(s3, bucket, "k") == 404
    r = complete(gateway, bucket, "k", upload_id, listed, {"x-amz-checksum-type": "COMPOSITE"})
    assert r.status == 400 and error_of(r)[0] == "BadDigest"
    # the upload is still there: the right value completes it
    r = complete(gateway, bucket, "k", upload_id, listed,
                 {"x-amz-checksum-crc32": b64("CRC32", whole), "x-amz-checksum-type": "FULL_OBJECT"})
    assert r.status == 200, r.body[:300]
    assert object_bytes(s3, bucket, "k") == whole


def test_complete_checks_listed_part_checksums(gateway, s3, bucket):
    parts = [pattern(5 * MiB, 20), pattern(10, 21)]
    _, upload_id = create_upload(gateway, bucket, "k", "SHA256")
    etags = []
    for i, data in enumerate(parts, 1):
        r = upload_part(gateway, bucket, "k", upload_id, i, data, "SHA256")
        etags.append(r.headers["etag"])
    wrong = [(1, etags[0], {"SHA256": b64("SHA256", parts[0])}), (2, etags[1], {"SHA256": b64("SHA256", b"no")})]
    r = complete(gateway, bucket, "k", upload_id, wrong)
    assert r.status == 400 and error_of(r)[0] == "InvalidPart"
    missing = [(1, etags[0], {"SHA256": b64("SHA256", parts[0])}), (2, etags[1], {})]
    r = complete(gateway, bucket, "k", upload_id, missing)
    assert error_of(r) == ("InvalidRequest", "The upload was created using a sha256 checksum. The complete request "
                                             "must include the checksum for each part. It was missing for part 2 in "
                                             "the request.")
    other = [(1, etags[0], {"SHA256": b64("SHA256", parts[0])}), (2, etags[1], {"CRC32": b64("CRC32", parts[1])})]
    r = complete(gateway, bucket, "k", upload_id, other)
    assert r.status == 400
    assert get_status(s3, bucket, "k") == 404
    right = [(i + 1, etags[i], {"SHA256": b64("SHA256", parts[i])}) for i in range(2)]
    r = complete(gateway, bucket, "k", upload_id, right)
    assert r.status == 200, r.body[:300]


def test_upload_part_copy_gets_the_upload_checksum(gateway, s3, bucket):
    src = pattern(6 * MiB, 22)
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    _, upload_id = create_upload(gateway, bucket, "k", "CRC32C")
    r = raw(gateway, "PUT", bucket, "k", "partNumber=1&uploadId=" + upload_id,
            {"x-amz-copy-source": "/%s/src" % bucket, "x-amz-copy-source-range": "bytes=0-5242879"})
    assert r.status == 200, r.body[:300]
    result = ET.fromstring(r.body)
    assert result.find(NS + "ChecksumCRC32C").text == b64("CRC32C", src[:5 * MiB])
    tail = pattern(100, 23)
    r2 = upload_part(gateway, bucket, "k", upload_id, 2, tail, "CRC32C")
    listed = [(1, result.find(NS + "ETag").text, {"CRC32C": b64("CRC32C", src[:5 * MiB])}),
              (2, r2.headers["etag"], {"CRC32C": b64("CRC32C", tail)})]
    r = complete(gateway, bucket, "k", upload_id, listed)
    assert r.status == 200, r.body[:300]
    assert ET.fromstring(r.body).find(NS + "ChecksumCRC32C").text == composite("CRC32C", [src[:5 * MiB], tail])


def test_boto3_multipart_with_checksum_algorithm_round_trips(s3, bucket):
    parts = [pattern(5 * MiB, 24), pattern(777, 25)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="k", ChecksumAlgorithm="SHA256")
    assert up["ChecksumAlgorithm"] == "SHA256"
    listed = []
    for i, data in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key="k", UploadId=up["UploadId"], PartNumber=i, Body=data,
                           ChecksumAlgorithm="SHA256")
        assert r["ChecksumSHA256"] == b64("SHA256", data)
        listed.append({"PartNumber": i, "ETag": r["ETag"], "ChecksumSHA256": r["ChecksumSHA256"]})
    lp = s3.list_parts(Bucket=bucket, Key="k", UploadId=up["UploadId"])
    assert [p["ChecksumSHA256"] for p in lp["Parts"]] == [b64("SHA256", p) for p in parts]
    r = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=up["UploadId"],
                                     MultipartUpload={"Parts": listed})
    assert r["ChecksumSHA256"] == composite("SHA256", parts)
    g = s3.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert g["ChecksumSHA256"] == composite("SHA256", parts)
    assert g["Body"].read() == b"".join(parts)
    g = s3.get_object(Bucket=bucket, Key="k", PartNumber=1, ChecksumMode="ENABLED")
    assert g["ChecksumSHA256"] == b64("SHA256", parts[0])
    assert g["Body"].read() == parts[0]


# ---------------------------------------------------------------- item 5: ?partNumber= on GET and HEAD

@pytest.fixture
def three_parts(gateway, bucket):
    parts = [pattern(5 * MiB, 30), pattern(5 * MiB + 17, 31), pattern(1234, 32)]
    root = multipart_object(gateway, bucket, "mp", parts)
    return parts, root.find(NS + "ETag").text


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_part_number_serves_that_part(gateway, bucket, three_parts, method):
    parts, etag = three_parts
    total = sum(len(p) for p in parts)
    off = 0
    for n, data in enumerate(parts, 1):
        r = raw(gateway, method, bucket, "mp", "partNumber=%d" % n)
        assert r.status == 206
        assert r.headers["content-range"] == "bytes %d-%d/%d" % (off, off + len(data) - 1, total)
        assert r.headers["content-length"] == str(len(data))
        assert r.headers["x-amz-mp-parts-count"] == "3"
        assert r.headers["etag"] == etag
        if method == "GET":
            assert r.body == data
        off += len(data)


def test_part_number_with_boto3(s3, bucket, three_parts):
    parts, etag = three_parts
    r = s3.get_object(Bucket=bucket, Key="mp", PartNumber=3)
    assert r["PartsCount"] == 3 and r["ContentLength"] == len(parts[2]) and r["ETag"] == etag
    assert r["Body"].read() == parts[2]
    h = s3.head_object(Bucket=bucket, Key="mp", PartNumber=2)
    assert h["PartsCount"] == 3 and h["ContentLength"] == len(parts[1])


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_part_number_past_last_part_is_416(gateway, bucket, three_parts, method):
    r = raw(gateway, method, bucket, "mp", "partNumber=4")
    assert r.status == 416
    if method == "GET":
        assert error_of(r) == ("InvalidPartNumber", "The requested partnumber is not satisfiable")


@pytest.mark.parametrize("value", ["0", "10001", "-1", "abc", "", "1.5"])
def test_part_number_malformed_is_invalid_argument(gateway, bucket, three_parts, value):
    r = raw(gateway, "GET", bucket, "mp", "partNumber=" + value)
    assert r.status == 400
    assert error_of(r) == ("InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive")


def test_part_number_with_range_is_invalid_request(gateway, bucket, three_parts):
    r = raw(gateway, "GET", bucket, "mp", "partNumber=1", {"Range": "bytes=0-10"})
    assert r.status == 400
    assert error_of(r) == ("InvalidRequest", "Cannot specify both Range header and partNumber query parameter")


def test_part_number_keeps_conditional_headers(gateway, bucket, three_parts):
    parts, etag = three_parts
    r = raw(gateway, "GET", bucket, "mp", "partNumber=2", {"If-Match": etag})
    assert r.status == 206 and r.body == parts[1]
    r = raw(gateway, "GET", bucket, "mp", "partNumber=1", {"If-None-Match": etag})
    assert r.status == 304
    r = raw(gateway, "GET", bucket, "mp", "partNumber=1", {"If-Match": '"0123"'})
    assert r.status == 412


def test_part_number_of_single_put_object(gateway, s3, bucket):
    data = pattern(100 * KiB, 33)
    s3.put_object(Bucket=bucket, Key="single", Body=data, ChecksumAlgorithm="CRC32")
    r = raw(gateway, "GET", bucket, "single", "partNumber=1", {"x-amz-checksum-mode": "ENABLED"})
    assert r.status == 206 and r.body == data
    assert r.headers["content-range"] == "bytes 0-%d/%d" % (len(data) - 1, len(data))
    assert "x-amz-mp-parts-count" not in r.headers
    assert r.headers["x-amz-checksum-crc32"] == b64("CRC32", data)
    r = raw(gateway, "GET", bucket, "single", "partNumber=2")
    assert r.status == 416 and error_of(r)[0] == "InvalidPartNumber"


def test_part_number_of_empty_object(gateway, s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    r = raw(gateway, "GET", bucket, "empty", "partNumber=1")
    assert r.status == 200 and r.body == b""
    assert "content-range" not in r.headers
    r = raw(gateway, "HEAD", bucket, "empty", "partNumber=2")
    assert r.status == 416
