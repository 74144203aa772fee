#!/usr/bin/env bash
# bench/delete-batch.sh — how long one DeleteObjects of 1,000 keys takes (issue 19's versioned case
# deletes 99,000 versions this way), on the embedded default (one yc-gateway over 6 drives in a
# temporary directory, EC 4+2).
#
#   bench/delete-batch.sh [BIN_DIR...]       (default: bin)
#
# For each build and round: a fresh gateway, then through boto3 (Debian's python3-boto3, a clean
# environment) and for YC_DELBATCH_KEYS keys (default 1000) of 4 KiB:
#   - unversioned: the keys written, one DeleteObjects of all of them;
#   - versioned: every key written twice, one DeleteObjects of the 1,000 older versions by
#     version id, then one of the 1,000 keys without a version id (a delete marker each).
# Every answer is checked (each key Deleted, no Error). Prints one line per request: seconds, keys
# per second, and the gateway's CPU time (user + system) per key over the request, which moves
# less than the time with what else the machine runs. YC_DELBATCH_ROUNDS (default 2);
# YC_DELBATCH_ARGS: more yc-gateway options (e.g. "--delete-concurrency 1").
set -euo pipefail

cd "$(dirname "$0")/.."
ROUNDS=${YC_DELBATCH_ROUNDS:-2}
KEYS=${YC_DELBATCH_KEYS:-1000}
[ $# -gt 0 ] || set -- bin

. bench/lib.sh
bench_tmp yc-delbatch
bench_root_keys

run_build() { # ROUND BIN_DIR
    local round=$1 bin=$2 port
    port=$(bench_free_port)
    rm -rf "$tmp/data" && mkdir -p "$tmp/data"
    # shellcheck disable=SC2086
    bench_gateway_start "$port" "$bin/yc-gateway" --listen "127.0.0.1:$port" --data "$tmp/data" --access-log off \
        ${YC_DELBATCH_ARGS:-}
    env -i PATH=/usr/bin:/bin HOME="$tmp" YC_ENDPOINT="http://127.0.0.1:$port" YC_KEYS="$KEYS" YC_GW_PID="$gw_pid" \
        YC_ROOT_USER="$YC_ROOT_USER" YC_ROOT_PASSWORD="$YC_ROOT_PASSWORD" YC_LABEL="round=$round build=$bin" \
        /usr/bin/python3 -c '
import os, time, boto3
from concurrent.futures import ThreadPoolExecutor
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=os.environ["YC_ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id=os.environ["YC_ROOT_USER"], aws_secret_access_key=os.environ["YC_ROOT_PASSWORD"],
                  config=Config(s3={"addressing_style": "path"}, max_pool_connections=32,
                                retries={"max_attempts": 1}, read_timeout=600))
n, label, body = int(os.environ["YC_KEYS"]), os.environ["YC_LABEL"], b"x" * 4096
keys = ["k%05d" % i for i in range(n)]

def fill(bucket):
    with ThreadPoolExecutor(32) as ex:
        list(ex.map(lambda k: s3.put_object(Bucket=bucket, Key=k, Body=body), keys))

def cpu_ticks():
    with open("/proc/%s/stat" % os.environ["YC_GW_PID"]) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime

def timed(what, bucket, objects):
    c, t = cpu_ticks(), time.monotonic()
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": objects})
    secs, cpu = time.monotonic() - t, (cpu_ticks() - c) / os.sysconf("SC_CLK_TCK")
    assert not r.get("Errors") and len(r["Deleted"]) == len(objects), (r.get("Errors") or [])[:3]
    print("%s case=%s keys=%d secs=%.3f keys_s=%.0f gw_cpu_us_per_key=%.0f"
          % (label, what, len(objects), secs, len(objects) / secs, cpu * 1e6 / len(objects)), flush=True)

s3.create_bucket(Bucket="plain")
fill("plain")
timed("unversioned", "plain", [{"Key": k} for k in keys])
s3.create_bucket(Bucket="ver")
s3.put_bucket_versioning(Bucket="ver", VersioningConfiguration={"Status": "Enabled"})
fill("ver")
fill("ver")
old = []
for page in s3.get_paginator("list_object_versions").paginate(Bucket="ver"):
    old += [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", []) if not v["IsLatest"]]
timed("versions-by-id", "ver", old)
timed("delete-markers", "ver", [{"Key": k} for k in keys])
'
    bench_gateway_stop
}

bench_rounds "$ROUNDS" run_build "$@"
