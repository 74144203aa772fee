"""Full drives, filled again and again: all six drives of a set on one small tmpfs, PUT until the
gateway refuses, many times in a row, with small objects (stored inline in the records) and with
large ones (shard files). What must hold every time:

- the refusal is 507 StorageFull, never a dropped connection, a 500 or a 503 that SDKs retry;
- the process never dies (RocksDB used to abort on a full drive, and again at the restart);
- every acknowledged object reads back byte for byte, and reads (GET, LIST) go on while full;
- a restart while full comes up and serves reads;
- once objects are deleted, writes succeed again.

The embedded gateway runs the rounds of test_full_disk_embedded; test_full_disk_network does the
same over yc-store daemons (network transport). Rounds: YC_FULL_DISK_ROUNDS (default 20) for the
embedded gateway, YC_FULL_DISK_NET_ROUNDS (default 6) over the network; `make fault` runs those,
`make test` (tests/run-all.sh) 6 and 3 to stay inside the fault suite's time limit.

Request bodies stream from the socket into the shard files (nothing is buffered on the data
drive first), so a large object meets a full drive in the drive engine like a small one.

Needs root to mount the tmpfs; skips with the reason otherwise.
"""
import concurrent.futures
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

import cluster as yc

TMPFS_SIZE = "64m"
RESERVE = "8M"                       # shard data stops 8 MiB short of full, records 4 MiB short
SMALL = (16 * yc.KiB, 128 * yc.KiB)  # inline: up to the gateway's 128 KiB inline_max
LARGE = (1 * yc.MiB, 3 * yc.MiB)     # shard files
WRITERS = 4                          # concurrent PUTs while filling
KEEPERS = 4                          # objects written first and read back after every round
SPACE_BACK_TIMEOUT = 15.0            # space of deleted small records comes back with a flush


def rounds(var, default):
    return max(1, int(os.environ.get(var, default)))


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", path], capture_output=True,
                         text=True)
    if res.returncode != 0:
        pytest.skip("cannot mount a tmpfs (%s): %s" % ("not root" if os.geteuid() else "mount refused",
                                                        (res.stderr or res.stdout).strip()))


def umount(path):
    subprocess.run(["umount", "-l", path], capture_output=True)


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def space_report(path, top=12):
    """What takes the space under path: bytes per kind of file, and the largest files."""
    kinds, files = {}, []
    for dirpath, _, names in os.walk(path):
        for n in names:
            p = os.path.join(dirpath, n)
            rel = os.path.relpath(p, path)
            try:
                size = os.lstat(p).st_blocks * 512
            except OSError:
                continue
            parts = rel.split(os.sep)
            kind = "shard" if "shards" in parts else "tmp" if "tmp" in parts or ".tmp" in parts else \
                n.rsplit(".", 1)[-1] if "." in n else n.rstrip("0123456789-")
            kinds[kind] = kinds.get(kind, 0) + size
            files.append((size, rel))
    files.sort(reverse=True)
    return "by kind (KiB): %s; largest: %s" % (
        ", ".join("%s %d" % (k, v // 1024) for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])),
        ", ".join("%s %dK" % (n, sz // 1024) for sz, n in files[:top]))


class Filler:
    """Writes objects until the gateway refuses, keeping what it acknowledged."""

    def __init__(self, s3, bucket, alive):
        self.s3 = s3
        self.bucket = bucket
        self.alive = alive  # callable: the processes are all up
        self.acked = {}     # key -> bytes
        self.lock = threading.Lock()

    def put(self, key, size):
        body = yc.object_data(key, 0, size)
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        with self.lock:
            self.acked[key] = body

    def fill(self, prefix, sizes, limit=5000):
        """PUTs objects of sizes (lo, hi) from WRITERS threads until every thread was refused.
        Returns the number acknowledged; any refusal but 507 StorageFull fails the test."""
        stop = threading.Event()
        problems = []
        count = [0]
        seq = [0]

        def writer(w):
            rnd = random.Random("%s#%d" % (prefix, w))
            while not stop.is_set():
                with self.lock:
                    n = seq[0]
                    seq[0] += 1
                if n >= limit:
                    problems.append("%s: %d PUTs and never refused" % (prefix, limit))
                    stop.set()
                    return
                key = "%s/%06d" % (prefix, n)
                try:
                    self.put(key, rnd.randint(*sizes))
                    with self.lock:
                        count[0] += 1
                except Exception as e:
                    status, code = yc.error_code(e)
                    if (status, code) != (507, "StorageFull"):
                        problems.append("PUT %s: %s %s (%r)" % (key, status, code, e))
                        stop.set()
                    return  # this writer was refused: the drives are full for it

        with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
            list(pool.map(writer, range(WRITERS)))
        assert not problems, "%s; processes: %s" % ("; ".join(problems[:5]), self.alive())
        return count[0]

    def verify(self, keys=None):
        """GETs every acknowledged object (or those of keys) and compares the bytes."""
        keys = list(self.acked) if keys is None else keys

        def check(key):
            got = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            assert got == self.acked[key], "%s: %d bytes back, %d written" % (key, len(got), len(self.acked[key]))

        with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
            list(pool.map(check, keys))

    def listed(self):
        keys = set()
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            keys.update(o["Key"] for o in page.get("Contents", []))
        return keys

    def delete(self, keys):
        def rm(key):
            self.s3.delete_object(Bucket=self.bucket, Key=key)
            with self.lock:
                del self.acked[key]

        with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
            list(pool.map(rm, sorted(keys)))

    def write_again(self, prefix, size, timeout=SPACE_BACK_TIMEOUT):
        """After deletes: a PUT of size succeeds within timeout (refusals meanwhile must be 507)."""
        deadline = time.monotonic() + timeout
        attempt = 0
        while True:
            key = "%s/again-%d-%d" % (prefix, size, attempt)
            try:
                self.put(key, size)
                return key
            except Exception as e:
                status, code = yc.error_code(e)
                assert (status, code) == (507, "StorageFull"), "PUT %s after deletes: %s %s" % (key, status, code)
                if time.monotonic() > deadline:
                    pytest.fail("%s: writes still refused %.0f s after deleting (%d bytes free); %s"
                                % (prefix, timeout, self.free(), self.report()), pytrace=False)
            attempt += 1
            time.sleep(0.2)

    def free(self):
        return -1

    def report(self):
        return ""


def expect_storage_full(what, call):
    """call() must be refused with 507 StorageFull (the drives are full)."""
    try:
        call()
    except Exception as e:
        assert yc.error_code(e) == (507, "StorageFull"), "%s while full: %s %s" % ((what,) + yc.error_code(e))
        return
    pytest.fail("%s succeeded on full drives" % what, pytrace=False)


class Multipart:
    """An upload started while there was room, with one part; completed once a round freed space."""

    def __init__(self, filler, key):
        self.filler, self.key = filler, key
        s3, bucket = filler.s3, filler.bucket
        self.upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        self.body = yc.object_data(key, 0, 200 * yc.KiB)
        self.etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=self.upload_id, PartNumber=1,
                                   Body=self.body)["ETag"]

    def complete(self):
        s3, bucket = self.filler.s3, self.filler.bucket
        return s3.complete_multipart_upload(Bucket=bucket, Key=self.key, UploadId=self.upload_id,
                                            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": self.etag}]})


def check_every_write_refused(filler, upload, keepers, prefix):
    """While full, every kind of write answers 507 StorageFull: the records of a bucket, an upload,
    a part, a completed upload, and copies of a small and a large object. RocksDB gives space back
    on its own now and then (a flush, a compaction, a recycled log), so the drives are topped up
    with small objects right before each check: each one then meets drives that are full."""
    s3, bucket = filler.s3, filler.bucket
    checks = [("CreateBucket", lambda: s3.create_bucket(Bucket=yc.unique_bucket_name("yc-full"))),
              ("CreateMultipartUpload", lambda: s3.create_multipart_upload(Bucket=bucket, Key=prefix + "/mp")),
              ("UploadPart", lambda: s3.upload_part(Bucket=bucket, Key=upload.key, UploadId=upload.upload_id,
                                                    PartNumber=2, Body=upload.body)),
              ("CompleteMultipartUpload", upload.complete)]
    for src in keepers:
        checks.append(("CopyObject of %s" % src, lambda src=src: s3.copy_object(
            Bucket=bucket, Key=prefix + "/copy", CopySource={"Bucket": bucket, "Key": src})))
    for i, (what, call) in enumerate(checks):
        filler.fill("%s/top%d" % (prefix, i), SMALL)
        if what == "CreateBucket":
            # a bucket's records are a few hundred bytes, and a drive that refused a 16 KiB object
            # may still have that much above the floor: topped up with empty objects (records of
            # about that size) too, it has not
            filler.fill("%s/tiny%d" % (prefix, i), (0, 0))
        expect_storage_full(what, call)


def run_rounds(filler, nrounds, restart_at, restart, full_dir, crashed):
    """The rounds: odd ones large objects then small ones, even ones small only. After each: alive,
    everything reads back while full, a restart on some, then the round's objects go and writes
    work again."""
    filler.free = lambda: free_bytes(full_dir)
    filler.report = lambda: space_report(full_dir)
    keepers = []
    for i in range(KEEPERS):
        size = LARGE[0] if i % 2 == 0 else SMALL[1]
        key = "keep/%d" % i
        filler.put(key, size)
        keepers.append(key)
    upload = Multipart(filler, "multipart/object")
    summary = []
    for r in range(nrounds):
        prefix = "r%02d" % r
        before = set(filler.acked)
        large = filler.fill(prefix + "/large", LARGE) if r % 2 == 1 else 0
        small = filler.fill(prefix + "/small", SMALL)
        assert not crashed(), "round %d: processes died: %s" % (r, crashed())
        full_free = free_bytes(full_dir)
        mine = sorted(set(filler.acked) - before)
        # reads go on while full: every object, and a listing
        filler.verify()
        listed = filler.listed()
        assert set(filler.acked) <= listed, "round %d: acknowledged but not listed: %s" % (
            r, sorted(set(filler.acked) - listed)[:5])
        if r < 2:
            check_every_write_refused(filler, upload, keepers[:2], prefix)
        if r in restart_at:
            restart()
            assert not crashed(), "round %d: processes died at the restart: %s" % (r, crashed())
            filler.verify()
            # still full after the restart: a write is refused with 507 (or fits: then it is kept)
            try:
                filler.put(prefix + "/after-restart", LARGE[1])
            except Exception as e:
                assert yc.error_code(e) == (507, "StorageFull"), "PUT after a restart while full: %s %s" % (
                    yc.error_code(e))
        filler.delete(mine)
        again = [filler.write_again(prefix, LARGE[0]), filler.write_again(prefix, SMALL[0])]
        if r == 1:
            # the upload refused while full completes now, with the part it had
            upload.complete()
            filler.acked[upload.key] = upload.body
            keepers.append(upload.key)
        filler.verify(keepers + again)
        filler.delete(set(again) | {k for k in filler.acked if k.startswith(prefix + "/")})
        assert not crashed(), "round %d: processes died: %s" % (r, crashed())
        summary.append("r%d:%d+%d@%dK" % (r, large, small, full_free // 1024))
    filler.verify()
    print("rounds (large+small acknowledged @ free KiB when full): " + " ".join(summary))


def test_full_disk_embedded():
    """The embedded gateway (local transport) with its six drives on one small tmpfs."""
    root = tempfile.mkdtemp(prefix="yc-full-")
    mnt = os.path.join(root, "mnt")
    gw = None
    try:
        mount_tmpfs(mnt, TMPFS_SIZE)
        ak, sk = yc.random_keys()
        gw = yc.Gateway(os.path.join(mnt, "data"), ak, sk)
        gw.log_path = os.path.join(root, "gateway.log")  # outside the full drive
        gw.extra_args = ["--drive-reserve", RESERVE]
        os.makedirs(gw.data_dir)
        gw.start()
        s3 = gw.client(read_timeout=60)
        bucket = yc.unique_bucket_name()
        s3.create_bucket(Bucket=bucket)

        def crashed():
            return [] if gw.proc is not None and gw.proc.poll() is None else ["gateway (status %s)" % (
                gw.proc.returncode if gw.proc else "gone")]

        def restart():
            rc = gw.stop()
            assert rc == 0, "the gateway exited with %s when stopped while full; log:\n%s" % (rc, gw.stderr_tail())
            gw.start()

        n = rounds("YC_FULL_DISK_ROUNDS", 20)
        restart_at = {r for r in (1, 2, n - 3) if 0 <= r < n} or {n - 1}
        try:
            run_rounds(Filler(s3, bucket, crashed), n, restart_at, restart, mnt, crashed)
        except BaseException:
            print("---- gateway log tail ----\n" + gw.stderr_tail(60))
            raise
        assert "Assertion" not in gw.stderr_text()
    finally:
        if gw is not None:
            gw.stop()
        umount(mnt)
        shutil.rmtree(root, ignore_errors=True)


def test_full_disk_filled_to_the_last_byte():
    """No reserve to speak of (one byte): the drives fill to the last page, so RocksDB itself meets
    ENOSPC and the drives' databases stop; a restart at 0 bytes free opens them read-only. The
    process lives through it, everything acknowledged reads back, and once some space is freed
    from outside (a ballast file goes) the databases reopen, deletes go through and writes work.
    Two rounds."""
    root = tempfile.mkdtemp(prefix="yc-full-")
    mnt = os.path.join(root, "mnt")
    gw = None
    try:
        mount_tmpfs(mnt, TMPFS_SIZE)
        ak, sk = yc.random_keys()
        gw = yc.Gateway(os.path.join(mnt, "data"), ak, sk)
        gw.log_path = os.path.join(root, "gateway.log")
        gw.extra_args = ["--drive-reserve", "1"]
        os.makedirs(gw.data_dir)
        gw.start()
        s3 = gw.client(read_timeout=60)
        bucket = yc.unique_bucket_name()
        s3.create_bucket(Bucket=bucket)

        def crashed():
            return [] if gw.proc is not None and gw.proc.poll() is None else ["gateway"]

        filler = Filler(s3, bucket, crashed)
        upload = Multipart(filler, "multipart/last-byte")
        ballast = os.path.join(mnt, "ballast")
        try:
            for r in range(2):
                with open(ballast, "wb") as f:
                    f.write(b"\0" * (4 * yc.MiB))
                # large objects, then small ones down to the last page, where RocksDB meets ENOSPC
                # (mostly large: with no reserve a drive does not flush the WAL of deleted small
                # records by itself, only shard files give their space back at once)
                n = filler.fill("r%d/large" % r, LARGE)
                filler.fill("r%d/small" % r, SMALL)
                assert n > 0 and not crashed(), "round %d: %d acknowledged, processes: %s" % (r, n, crashed())
                restart_free = free_bytes(mnt)
                rc = gw.stop()
                assert rc == 0, "the gateway exited with %s; log:\n%s" % (rc, gw.stderr_tail())
                gw.start()
                filler.verify()
                # closing the databases may give a few pages back (obsolete log files; 40 KiB seen):
                # they are used up again, so that the drives are full for the refusals below
                filler.fill("r%d/topup" % r, SMALL)
                expect_storage_full("PutObject at %d bytes free" % free_bytes(mnt),
                                    lambda: filler.put("r%d/refused" % r, SMALL[0]))
                # the writes that take a namespace lock first: the drives cannot record a grant
                # either, and that is the same 507 at once, not a lock given up after 10 s (409)
                started = time.monotonic()
                expect_storage_full("CreateBucket at %d bytes free" % free_bytes(mnt),
                                    lambda: s3.create_bucket(Bucket=yc.unique_bucket_name("yc-full")))
                expect_storage_full("CompleteMultipartUpload at %d bytes free" % free_bytes(mnt), upload.complete)
                assert time.monotonic() - started < 5, "the lock was waited for: %.1f s" % (
                    time.monotonic() - started)
                os.unlink(ballast)
                time.sleep(1.1)  # a database is reopened at most once a second
                filler.delete([k for k in filler.acked if k.startswith("r%d/" % r)])
                filler.write_again("r%d" % r, LARGE[0])
                filler.delete([k for k in filler.acked if k.startswith("r%d/" % r)])
                print("round %d: %d bytes free at the restart, %d drives opened read-only so far" % (
                    r, restart_free, sum("read_only=1" in line for line in gw.stderr_text().splitlines())))
        except BaseException:
            print("---- gateway log tail ----\n" + gw.stderr_tail(60))
            raise
        assert "Assertion" not in gw.stderr_text()
    finally:
        if gw is not None:
            gw.stop()
        umount(mnt)
        shutil.rmtree(root, ignore_errors=True)


def test_full_disk_network(cluster_factory):
    """yc-store daemons (network transport): their six drives on one small tmpfs."""
    state = {}

    def before_start(cl):
        mnt = os.path.join(cl.root, "mnt")
        mount_tmpfs(mnt, TMPFS_SIZE)
        state["mnt"] = mnt
        for i, d in enumerate(cl.daemons):
            for name in d.drives:
                d.drives[name] = os.path.join(mnt, "node%d" % i, name)
                os.makedirs(d.drives[name], exist_ok=True)
            d.extra_args = ["--drive-reserve", RESERVE]

    cl = None
    try:
        cl = cluster_factory(before_start=before_start)
        s3 = cl.client(read_timeout=60)
        bucket = yc.unique_bucket_name()
        s3.create_bucket(Bucket=bucket)

        def restart():
            for i in range(len(cl.daemons)):
                rc = cl.daemons[i].stop()
                assert rc == 0, "%s exited with %s when stopped while full" % (cl.daemons[i].name, rc)
                cl.daemons[i].start()

        n = rounds("YC_FULL_DISK_NET_ROUNDS", 6)
        run_rounds(Filler(s3, bucket, cl.crashed), n, {1} if n >= 2 else {0}, restart, state["mnt"], cl.crashed)
        for d in cl.daemons:
            assert "Assertion" not in d.log_text(), d.log_tail()
    finally:
        if cl is not None:
            cl.stop()
        if "mnt" in state:
            umount(state["mnt"])
