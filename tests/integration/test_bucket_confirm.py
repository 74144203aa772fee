"""A PUT's bucket confirm with local drives (gateway/gw_bucket.c).

After its commit a PUT must learn whether its bucket is still there, of the same incarnation and
not being deleted. With every drive local the gateway takes its previous read again while no
drive's bucket records changed (each database counts the bucket-record writes it applied). These
tests hold that shortcut to what a read of the drives would have said: a bucket deleted and
created again is seen at once by the next PUT, and a PUT racing DeleteBucket is either refused or
makes the deletion fail, never acknowledged into a bucket that then disappears.
"""
import concurrent.futures
import threading

import botocore.exceptions

from conftest import unique_bucket_name

ROUNDS = 6
WRITERS = 6
PUTS_PER_WRITER = 4


def status_of(call):
    try:
        r = call()
        return r["ResponseMetadata"]["HTTPStatusCode"], None
    except botocore.exceptions.ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]


def test_put_after_bucket_deleted_and_created_again_lands_in_the_new_bucket(gateway):
    s3 = gateway.client()
    name = unique_bucket_name("confirm")
    s3.create_bucket(Bucket=name)
    # two PUTs: the second confirms from what the first one read, if nothing changed
    s3.put_object(Bucket=name, Key="a", Body=b"first")
    s3.put_object(Bucket=name, Key="a", Body=b"second")
    s3.delete_object(Bucket=name, Key="a")
    s3.delete_bucket(Bucket=name)
    status, code = status_of(lambda: s3.put_object(Bucket=name, Key="b", Body=b"gone"))
    assert (status, code) == (404, "NoSuchBucket")
    s3.create_bucket(Bucket=name)
    r = s3.put_object(Bucket=name, Key="c", Body=b"new incarnation")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.get_object(Bucket=name, Key="c")["Body"].read() == b"new incarnation"
    listed = s3.list_objects_v2(Bucket=name)
    assert [o["Key"] for o in listed.get("Contents", [])] == ["c"]
    s3.delete_object(Bucket=name, Key="c")
    s3.delete_bucket(Bucket=name)


def test_puts_racing_delete_bucket_are_refused_or_stop_the_deletion(gateway):
    s3 = gateway.client()
    clients = [gateway.client() for _ in range(WRITERS)]
    outcomes = set()
    for rnd in range(ROUNDS):
        name = unique_bucket_name("confirm-race")
        s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="warm", Body=b"x")  # the confirm's read is kept
        s3.delete_object(Bucket=name, Key="warm")
        start = threading.Barrier(WRITERS + 1)

        def writer(w):
            start.wait()
            out = []
            for i in range(PUTS_PER_WRITER):
                key = "k-%d-%d" % (w, i)
                body = b"%d/%d/%d" % (rnd, w, i)
                status, code = status_of(lambda: clients[w].put_object(Bucket=name, Key=key, Body=body))
                out.append((key, body, status, code))
            return out

        with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
            futures = [pool.submit(writer, w) for w in range(WRITERS)]
            start.wait()
            deleted = status_of(lambda: s3.delete_bucket(Bucket=name))
            puts = [x for f in futures for x in f.result(timeout=120)]

        acknowledged = [(k, b) for k, b, status, _ in puts if status == 200]
        for _, _, status, code in puts:
            assert status == 200 or code in ("NoSuchBucket", "OperationAborted"), (status, code)
        if deleted[0] == 204:
            # nothing acknowledged may vanish with the bucket
            assert acknowledged == []
            assert status_of(lambda: s3.head_bucket(Bucket=name))[0] == 404
            outcomes.add("deleted")
        else:
            assert deleted == (409, "BucketNotEmpty")
            for key, body in acknowledged:
                assert s3.get_object(Bucket=name, Key=key)["Body"].read() == body
            outcomes.add("kept")
            for key, _ in acknowledged:
                s3.delete_object(Bucket=name, Key=key)
            s3.delete_bucket(Bucket=name)
    assert outcomes  # every round ended one of the two ways
