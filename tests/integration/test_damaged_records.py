"""A damaged record is an internal error, never "storage full" or "try again".

The records of a bucket live on every drive. Here the gateway is stopped, the bucket's record is
damaged on every drive (one byte of its value flipped, so its checksum no longer matches), and
the gateway started again: every request that needs the bucket must answer 500 InternalError,
as S3 does for a fault of its own, with the error named in the log (event=internal_error
err=GW_EIO), and change nothing. Before the error codes had one space each, this damage could
be read as another module's code, and was answered as a full disk.

The drives' RocksDB is opened through its C library (librocksdb, the one the server links)
while the gateway is stopped.

Each test runs its own gateway because it damages drives.
"""
import ctypes
import ctypes.util
import glob
import os

import pytest
from botocore.exceptions import ClientError

from conftest import unique_bucket_name


class RocksDB:
    """Just enough of RocksDB's C API to read and rewrite one record of a closed drive."""

    def __init__(self, path):
        name = ctypes.util.find_library("rocksdb") or "librocksdb.so"
        lib = self.lib = ctypes.CDLL(name)
        lib.rocksdb_options_create.restype = ctypes.c_void_p
        lib.rocksdb_open.restype = ctypes.c_void_p
        lib.rocksdb_open.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]
        lib.rocksdb_readoptions_create.restype = ctypes.c_void_p
        lib.rocksdb_writeoptions_create.restype = ctypes.c_void_p
        lib.rocksdb_writeoptions_set_sync.argtypes = [ctypes.c_void_p, ctypes.c_ubyte]
        lib.rocksdb_get.restype = ctypes.POINTER(ctypes.c_char)
        lib.rocksdb_get.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                    ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_char_p)]
        lib.rocksdb_put.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                    ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_char_p)]
        lib.rocksdb_free.argtypes = [ctypes.c_void_p]
        lib.rocksdb_close.argtypes = [ctypes.c_void_p]
        for f in ("rocksdb_options_destroy", "rocksdb_readoptions_destroy", "rocksdb_writeoptions_destroy"):
            getattr(lib, f).argtypes = [ctypes.c_void_p]
        self.opts = lib.rocksdb_options_create()
        err = ctypes.c_char_p()
        self.db = lib.rocksdb_open(self.opts, path.encode(), ctypes.byref(err))
        if err.value is not None:
            raise OSError("rocksdb_open %s: %s" % (path, err.value.decode()))
        self.ropts = lib.rocksdb_readoptions_create()
        self.wopts = lib.rocksdb_writeoptions_create()
        lib.rocksdb_writeoptions_set_sync(self.wopts, 1)

    def get(self, key):
        vlen = ctypes.c_size_t()
        err = ctypes.c_char_p()
        p = self.lib.rocksdb_get(self.db, self.ropts, key, len(key), ctypes.byref(vlen), ctypes.byref(err))
        if err.value is not None:
            raise OSError("rocksdb_get: %s" % err.value.decode())
        if not p:
            return None
        value = ctypes.string_at(p, vlen.value)
        self.lib.rocksdb_free(p)
        return value

    def put(self, key, value):
        err = ctypes.c_char_p()
        self.lib.rocksdb_put(self.db, self.wopts, key, len(key), value, len(value), ctypes.byref(err))
        if err.value is not None:
            raise OSError("rocksdb_put: %s" % err.value.decode())

    def close(self):
        self.lib.rocksdb_close(self.db)
        self.lib.rocksdb_readoptions_destroy(self.ropts)
        self.lib.rocksdb_writeoptions_destroy(self.wopts)
        self.lib.rocksdb_options_destroy(self.opts)


def damage_bucket_record(drive, bucket):
    """Flips one byte in the middle of the bucket's record on one drive (key: 'B' name)."""
    db = RocksDB(os.path.join(drive, "db"))
    try:
        key = b"B" + bucket.encode()
        value = db.get(key)
        assert value is not None, "no record of bucket %s on %s" % (bucket, drive)
        middle = len(value) // 2
        db.put(key, value[:middle] + bytes([value[middle] ^ 0x5A]) + value[middle + 1:])
        assert db.get(key) != value
    finally:
        db.close()


def error_of(call):
    try:
        call()
    except ClientError as e:
        return e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]
    return 200, None


@pytest.fixture
def damaged_bucket(gateway_factory):
    gw = gateway_factory()
    c = gw.client(retries={"max_attempts": 1})
    bucket = unique_bucket_name("yc-damaged")
    c.create_bucket(Bucket=bucket)
    c.put_object(Bucket=bucket, Key="kept", Body=b"written before the damage")
    gw.stop()
    drives = sorted(glob.glob(os.path.join(gw.data_dir, "drive*")))
    assert len(drives) == 6, drives
    for d in drives:
        damage_bucket_record(d, bucket)
    gw.start()
    return gw, c, bucket


def test_damaged_bucket_record_is_an_internal_error(damaged_bucket):
    gw, c, bucket = damaged_bucket
    calls = {
        "PutObject": lambda: c.put_object(Bucket=bucket, Key="new", Body=b"x" * 1000),
        "GetObject": lambda: c.get_object(Bucket=bucket, Key="kept"),
        "ListObjectsV2": lambda: c.list_objects_v2(Bucket=bucket),
        "CreateMultipartUpload": lambda: c.create_multipart_upload(Bucket=bucket, Key="mp"),
        "CreateBucket": lambda: c.create_bucket(Bucket=bucket),
    }
    for op, call in calls.items():
        assert error_of(call) == (500, "InternalError"), "%s on a bucket whose record is damaged" % op
    log = gw.stderr_text()
    assert "event=internal_error err=GW_EIO" in log, gw.stderr_tail()


def test_damaged_bucket_record_changes_nothing(damaged_bucket):
    gw, c, bucket = damaged_bucket
    assert error_of(lambda: c.put_object(Bucket=bucket, Key="new", Body=b"refused")) == (500, "InternalError")
    # the healer and the namespace sweep leave a bucket they cannot read alone: its objects stay
    names = [os.path.basename(p) for p in glob.glob(os.path.join(gw.data_dir, "drive*"))]
    assert len(names) == 6
    gw.stop()
    for d in sorted(glob.glob(os.path.join(gw.data_dir, "drive*"))):
        db = RocksDB(os.path.join(d, "db"))
        try:
            assert db.get(b"B" + bucket.encode()) is not None, "the damaged record of %s went from %s" % (bucket, d)
        finally:
            db.close()
    gw.start()
