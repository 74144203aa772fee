"""The gateway killed with SIGKILL in the middle of a multipart upload: the upload lives in the
drives' records, not in the gateway, so a restarted gateway can complete it (bytes exact) or
abort it (then ListMultipartUploads no longer shows it)."""
import cluster as yc

PART = 5 * yc.MiB


def start_upload(s3, bucket, key, parts):
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    done = []
    for n, size in enumerate(parts, start=1):
        body = yc.object_data(key, n, size)
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=n, Body=body)["ETag"]
        done.append((n, etag, body))
    return upload_id, done


def kill_and_restart_gateway(cl):
    gw = cl.gateway
    gw.kill()
    gw.start()
    return cl.client()


def test_multipart_upload_completes_when_gateway_was_killed(cluster, s3, bucket):
    key = "mp/complete"
    upload_id, parts = start_upload(s3, bucket, key, [PART, PART])
    s3 = kill_and_restart_gateway(cluster)
    listed = [(u["Key"], u["UploadId"]) for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
    assert (key, upload_id) in listed
    got_parts = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id).get("Parts", [])
    assert [(p["PartNumber"], p["ETag"]) for p in got_parts] == [(n, e) for n, e, _ in parts]
    last = yc.object_data(key, 3, 1 * yc.MiB + 17)  # one more part through the new gateway
    etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=3, Body=last)["ETag"]
    parts.append((3, etag, last))
    s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": e} for n, e, _ in parts]})
    want = b"".join(b for _, _, b in parts)
    got = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert len(got) == len(want) and got == want
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_multipart_upload_aborts_when_gateway_was_killed(cluster, s3, bucket):
    key = "mp/abort"
    upload_id, _ = start_upload(s3, bucket, key, [PART, 1 * yc.MiB])
    s3 = kill_and_restart_gateway(cluster)
    s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    uploads = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [u for u in uploads if u["UploadId"] == upload_id] == []
    try:
        s3.list_parts(Bucket=bucket, Key=key, UploadId=upload_id)
        raise AssertionError("ListParts of an aborted upload succeeded")
    except Exception as e:
        assert yc.error_code(e)[1] == "NoSuchUpload", yc.error_code(e)
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    assert listed == []
