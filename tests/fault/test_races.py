"""Races across two gateways over the same yc-store daemons: the second gateway's cache still
holds the bucket when the first deletes it, its Complete/Abort calls meet the first one's on the
same drives, two users create one bucket name at once. 100 rounds each under `make fault`
(tests/run-all.sh runs fewer); single-gateway versions are in tests/integration/test_races.py.
"""
import concurrent.futures
import json
import os
import random
import threading
import time

import boto3
import botocore.config
import botocore.exceptions

import cluster as yc

ROUNDS = int(os.environ.get("YC_FAULT_RACE_ROUNDS", "100"))


def code_of(exc):
    return exc.response["Error"]["Code"] if isinstance(exc, botocore.exceptions.ClientError) else type(exc).__name__


def second_gateway(cl):
    gw = yc.NetGateway(os.path.join(cl.root, "gateway2"), cl.access_key, cl.secret_key, cl.drives_list(),
                       cl.secret, cl.gateway_args)
    return gw.start()


def test_put_through_another_gateway_never_lands_in_a_deleted_bucket(cluster):
    gw2 = second_gateway(cluster)
    try:
        s3a, s3b = cluster.client(), gw2.client()
        deleted_rounds = 0
        for rnd in range(ROUNDS):
            name = yc.unique_bucket_name("yc-race")
            s3a.create_bucket(Bucket=name)
            s3b.head_bucket(Bucket=name)  # the second gateway now caches the bucket
            stop, results = threading.Event(), []

            def writer(i):
                # a PUT over the network takes a few ms and the deletion a few more: starting the
                # writers a little later on average makes both orders happen
                time.sleep(random.uniform(0, 0.04))
                n = 0
                while not stop.is_set():
                    key = "w%d-%d" % (i, n)
                    n += 1
                    data = yc.object_data(key, rnd, 1024)
                    try:
                        s3b.put_object(Bucket=name, Key=key, Body=data)
                        results.append((key, data))
                    except botocore.exceptions.ClientError as e:
                        if code_of(e) in ("NoSuchBucket", "OperationAborted"):
                            return
                        raise

            with concurrent.futures.ThreadPoolExecutor(3) as pool:
                futs = [pool.submit(writer, i) for i in range(3)]
                time.sleep(random.uniform(0, 0.012))
                try:
                    s3a.delete_bucket(Bucket=name)
                    deleted = True
                except botocore.exceptions.ClientError as e:
                    assert code_of(e) == "BucketNotEmpty", code_of(e)
                    deleted = False
                time.sleep(0.1)
                stop.set()
                for f in futs:
                    f.result()
            if deleted:
                deleted_rounds += 1
                assert results == [], "round %d: %d PUTs acknowledged into a deleted bucket" % (rnd, len(results))
                # the name starts empty again (asked of the gateway that deleted it: the other may
                # answer from its bucket cache for up to 2 s, as docs/architecture.md says)
                s3a.create_bucket(Bucket=name)
                assert s3a.list_objects_v2(Bucket=name).get("KeyCount", 0) == 0
                s3a.delete_bucket(Bucket=name)
            else:
                for key, data in results:
                    assert s3a.get_object(Bucket=name, Key=key)["Body"].read() == data
                    s3a.delete_object(Bucket=name, Key=key)
                s3a.delete_bucket(Bucket=name)
        assert deleted_rounds > 0, "no round deleted the bucket: the race was never tried"
        assert cluster.crashed() == []
    finally:
        gw2.stop()


def test_complete_and_abort_through_two_gateways(cluster, bucket):
    gw2 = second_gateway(cluster)
    try:
        s3a, s3b = cluster.client(), gw2.client()
        for rnd in range(ROUNDS):
            key = "mp-%d" % rnd
            data = yc.object_data(key, rnd, 300 * 1024)
            up = s3a.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
            etag = s3a.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=1, Body=data)["ETag"]
            barrier = threading.Barrier(2)

            def run(fn):
                barrier.wait()
                time.sleep(random.uniform(0, 0.004))
                try:
                    fn()
                    return None
                except botocore.exceptions.ClientError as e:
                    return code_of(e)

            with concurrent.futures.ThreadPoolExecutor(2) as pool:
                fc = pool.submit(run, lambda: s3a.complete_multipart_upload(
                    Bucket=bucket, Key=key, UploadId=up,
                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]}))
                fa = pool.submit(run, lambda: s3b.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=up))
                complete, abort = fc.result(), fa.result()
            assert (complete is None) != (abort is None), "round %d: complete %s, abort %s" % (rnd, complete, abort)
            if complete is None:
                assert abort == "NoSuchUpload"
                assert s3b.get_object(Bucket=bucket, Key=key)["Body"].read() == data
            else:
                assert complete == "NoSuchUpload"
        assert cluster.crashed() == []
    finally:
        gw2.stop()


def read_with_retry(client, bucket, key, timeout=15.0):
    """GET that waits out the 503s of a gateway that has not yet seen a daemon come or go."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except botocore.exceptions.ClientError as e:
            if code_of(e) not in ("ServiceUnavailable", "SlowDown") or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_two_gateways_overwriting_one_key_converge_on_every_drive(cluster, bucket):
    """Both gateways overwrite the same keys at once (an inline object and one of shard files);
    every drive must end with the same newest record. With EC 4+2 over 3 daemons of 2 drives, a
    read with one daemon down meets exactly k = 4 drives, and answers only when all four hold the
    chosen version and none holds a newer one: reading with each daemon down in turn checks all
    six drives."""
    gw2 = second_gateway(cluster)
    try:
        clients = [cluster.client(), gw2.client()]
        keys = {"hot-inline": 1024, "hot-files": 300 * 1024}
        written = {k: set() for k in keys}

        def writer(i):
            s3 = clients[i % 2]
            for n in range(ROUNDS * 3):
                for key, size in keys.items():
                    data = yc.object_data("%s-%d-%d" % (key, i, n), n, size)
                    s3.put_object(Bucket=bucket, Key=key, Body=data)
                    written[key].add(data)

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            for f in [pool.submit(writer, i) for i in range(4)]:
                f.result()
        final = {k: read_with_retry(clients[0], bucket, k) for k in keys}
        for key in keys:
            assert final[key] in written[key]
            assert read_with_retry(clients[1], bucket, key) == final[key]
        time.sleep(1.0)  # the prunes run after the answers
        for i in range(len(cluster.daemons)):
            cluster.kill(i)
            try:
                for key in keys:
                    for s3 in clients:
                        assert read_with_retry(s3, bucket, key) == final[key], (cluster.daemons[i].name, key)
            finally:
                cluster.restart(i)
        # and the key lists once, through either gateway
        for s3 in clients:
            listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
            assert listed == sorted(keys)
    finally:
        gw2.stop()


BUCKET_RACE_ROUNDS = int(os.environ.get("YC_FAULT_BUCKET_RACE_ROUNDS", "100"))


def iam_user_with_s3(gw, name):
    """A user of the gateway's account allowed every S3 action, and its access key."""
    iam = boto3.session.Session().client(
        "iam", endpoint_url=gw.endpoint, aws_access_key_id=gw.access_key, aws_secret_access_key=gw.secret_key,
        region_name="us-east-1", config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"}))
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="s3", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def owner_id(client):
    return client.list_buckets()["Owner"]["ID"]


def test_create_bucket_of_one_name_through_two_gateways_has_one_winner(cluster):
    """Two users create the same bucket name at the same moment through two gateways, round after
    round: the namespace lock lets exactly one of them have it (200), the other gets 409
    BucketAlreadyExists, and the bucket belongs to the one answered 200 — on both gateways."""
    gw2 = second_gateway(cluster)
    try:
        tag = "%08x" % random.getrandbits(32)
        ka = iam_user_with_s3(cluster.gateway, "racer-a-" + tag)
        kb = iam_user_with_s3(cluster.gateway, "racer-b-" + tag)
        a = cluster.gateway.client(access_key=ka[0], secret_key=ka[1])
        b = gw2.client(access_key=kb[0], secret_key=kb[1])
        deadline = time.monotonic() + 15  # the second gateway reads the new users within its refresh
        while True:
            try:
                ids = {owner_id(a): "a", owner_id(b): "b"}
                break
            except botocore.exceptions.ClientError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        assert len(ids) == 2, ids
        root = cluster.client()
        wins = {"a": 0, "b": 0}
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            for rnd in range(BUCKET_RACE_ROUNDS):
                name = "race-%s-%d" % (tag, rnd)
                barrier = threading.Barrier(2)

                def create(client):
                    barrier.wait()
                    try:
                        client.create_bucket(Bucket=name)
                        return None
                    except botocore.exceptions.ClientError as e:
                        return code_of(e)

                ra, rb = pool.submit(create, a), pool.submit(create, b)
                answers = {"a": ra.result(), "b": rb.result()}
                winners = [who for who, err in answers.items() if err is None]
                assert len(winners) == 1, "round %d: %s" % (rnd, answers)
                loser = "b" if winners[0] == "a" else "a"
                assert answers[loser] == "BucketAlreadyExists", "round %d: %s" % (rnd, answers)
                wins[winners[0]] += 1
                for client in (root, gw2.client()):
                    owner = client.get_bucket_acl(Bucket=name)["Owner"]["ID"]
                    assert ids.get(owner) == winners[0], "round %d: owner %s, answers %s" % (rnd, owner, answers)
                root.delete_bucket(Bucket=name)
        print("%d rounds: %s" % (BUCKET_RACE_ROUNDS, wins))
        assert cluster.crashed() == []
    finally:
        gw2.stop()
