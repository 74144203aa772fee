"""Shard files that no record refers to — left by a writer killed between committing its shards
and writing the record — are collected when the gateway starts, once older than orphan_grace;
everything that is referenced stays and reads back."""
import glob
import os
import shutil
import time
import uuid

from conftest import empty_and_delete_bucket

KiB = 1024
MiB = 1024 * KiB


def shard_files(data_dir):
    return sorted(glob.glob(os.path.join(data_dir, "drive*", "shards", "??", "*")))


def plant_orphan(data_dir, template, age_seconds):
    """A committed shard file under a data id no record names, as a killed writer leaves it."""
    drive = template.split(os.sep + "shards" + os.sep)[0]
    data_id = uuid.uuid4().hex
    path = os.path.join(drive, "shards", data_id[:2], "%s.%s" % (data_id, template.rsplit(".", 1)[1]))
    shutil.copyfile(template, path)
    old = time.time() - age_seconds
    os.utime(path, (old, old))
    return path


def test_orphan_shards_collected_at_start_when_older_than_grace(gateway_factory):
    gw = gateway_factory()
    s3 = gw.client()
    s3.create_bucket(Bucket="orphans")
    body = os.urandom(3 * MiB + 5)  # large enough to be shard files, not inline
    s3.put_object(Bucket="orphans", Key="kept", Body=body)
    referenced = shard_files(gw.data_dir)
    assert len(referenced) == 6  # one shard per drive of the 4+2 set

    old = [plant_orphan(gw.data_dir, referenced[i], 7200) for i in range(3)]
    young = plant_orphan(gw.data_dir, referenced[3], 0)

    gw.stop()
    gw.extra_args = ["--orphan-grace", "3600"]
    gw.start()
    deadline = time.monotonic() + 20
    while any(os.path.exists(p) for p in old) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(os.path.exists(p) for p in old), "old orphans still there:\n" + gw.stderr_tail()
    assert os.path.exists(young), "a young shard (its record may be on its way) was removed"
    assert all(os.path.exists(p) for p in referenced), "a referenced shard was removed"
    assert "event=orphans_collected" in gw.stderr_text()
    s3 = gw.client()
    assert s3.get_object(Bucket="orphans", Key="kept")["Body"].read() == body
    empty_and_delete_bucket(s3, "orphans")
