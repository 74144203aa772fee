#!/usr/bin/env bash
# bench/hotkey-instr.sh — instructions per GET and per listing page: fresh keys against the same
# keys after N overwrites (issue 19), counted by valgrind's callgrind in the gateway process. Unlike
# requests per second, an instruction count does not move with what else the machine runs, so it
# compares stages on a shared machine.
#
# The embedded default (one yc-gateway over 6 drives, EC 4+2) runs natively for the writes; for
# each measurement it is stopped and started again under callgrind on the same drives, with
# instrumentation off until a fixed number of GETs (4 KiB, 16 connections, every body verified)
# and then of ListObjectsV2 pages (1,000 keys, 1 connection) run; each is dumped on its own.
# Stages: "fresh" (1,000 keys written once), "after" (the same after N overwrites, the gateway
# stopped at once: what the compactor had not dropped yet is still there), "idle" (after the
# server then ran idle for YC_HOTKEY_IDLE seconds). Each restart replays the WAL into memtables,
# and "fresh" and "idle" are measured once the drives settled (memtables flushed, level 0 merged
# down, as the drive engine does after a few idle seconds), so both read the same kind of SST
# files: the comparison is of the history, not memtable vs SST. "after" is measured at once.
# With YC_HOTKEY_VERSIONED=1 the bucket is versioned, every key gets YC_HOTKEY_VERSIONS versions
# (default 100) and all but the newest are then deleted by version id, as in bench/hotkey.sh.
#
# Environment: YC_HOTKEY_OVERWRITES (100000), YC_HOTKEY_IDLE (120), YC_HOTKEY_VERSIONED (0),
# YC_HOTKEY_VERSIONS (100), YC_INSTR_GETS (2000), YC_INSTR_PAGES (20), YC_INSTR_KEEP (a directory
# to copy the callgrind dumps to, for callgrind_annotate). Prints one line per stage; background_per_*
# is the part of instr_per_* that flushes and compactions ran on their own threads.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
KEYS=1000
OVERWRITES=${YC_HOTKEY_OVERWRITES:-100000}
IDLE=${YC_HOTKEY_IDLE:-120}
VERSIONED=${YC_HOTKEY_VERSIONED:-0}
GETS=${YC_INSTR_GETS:-2000}
PAGES=${YC_INSTR_PAGES:-20}
BUCKET=hot
if [ "$VERSIONED" = 1 ]; then
    BUCKET=hotv
    OVERWRITES=$((KEYS * (${YC_HOTKEY_VERSIONS:-100} - 1)))
fi
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null ||
    { echo "hotkey-instr.sh: needs valgrind (callgrind)" >&2; exit 1; }

. "$(dirname "$0")/lib.sh"
bench_tmp yc-hotkey-instr
keep() { if [ -n "${YC_INSTR_KEEP:-}" ]; then mkdir -p "$YC_INSTR_KEEP" && cp "$tmp"/cg.out* "$YC_INSTR_KEEP"/ 2>/dev/null || true; fi; }
trap 'bench_gateway_stop; keep; rm -rf "$tmp"' EXIT

port=$(bench_free_port)
endpoint=127.0.0.1:$port
bench_root_keys
mkdir -p "$tmp/data"

# start_gw [valgrind options...]: the gateway over $tmp/data, natively or under valgrind
start_gw() {
    "$@" "$BIN/yc-gateway" --listen "$endpoint" --data "$tmp/data" --shed-lag-ms 0 >>"$tmp/gateway.log" 2>&1 &
    gw_pid=$!
    for _ in $(seq 1 1200); do
        kill -0 "$gw_pid" 2>/dev/null || { echo "hotkey-instr.sh: yc-gateway exited:" >&2; tail "$tmp/gateway.log" >&2; exit 1; }
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    echo "hotkey-instr.sh: yc-gateway did not start" >&2
    exit 1
}

ybench() { "$BIN/yc-bench" --endpoint "$endpoint" --bucket "$BUCKET" "$@"; }
value() { awk -v k="$1=" '{ for (i = 1; i <= NF; i++) if (index($i, k) == 1) { print substr($i, length(k) + 1); exit } }' <<<"$2"; }

# wait_settled: until every drive settled (memtables flushed, no SST file left in level 0: the
# drive engine does that once a drive stayed idle for a few seconds), at most 120 s; the keys are
# then read from the drives' last level, as an idle server reads them
wait_settled() {
    local i
    for i in $(seq 1 120); do
        "$BIN/yc-admin" --endpoint "http://$endpoint" metadata | python3 -c '
import json, sys
d = json.load(sys.stdin)["drives"]
sys.exit(0 if all(x.get("memtableBytes", 0) < 65536 and x.get("level0Files", 0) == 0 for x in d) else 1)' && return 0
        sleep 1
    done
    echo "wait_settled: the drives did not settle within 120 s" >&2
}

# total instructions of the newest callgrind dump in $tmp
dumped_ir() {
    local f
    f=$(ls -t "$tmp"/cg.out* | head -1)
    awk '/^(summary|totals):/ { print $2; exit }' "$f"
}

# background_ir: instructions of the newest dump that RocksDB's flushes and compactions and the
# drive engine's compaction thread (range compactions, settles) ran, inclusive: the stage "after"
# counts a settle's one flush and compaction, which its requests did not run
background_ir() {
    local f
    f=$(ls -t "$tmp"/cg.out* | head -1)
    callgrind_annotate --inclusive=yes --threshold=100 "$f" 2>/dev/null | python3 -c '
import re, sys
bg = ("rocksdb::DBImpl::BGWorkFlush(", "rocksdb::DBImpl::BGWorkCompaction(", "rocksdb::DBImpl::BGWorkBottomCompaction(", ":compact_main ")
n = 0
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)", line)
    if m and any(b in m.group(2) for b in bg):
        n += int(m.group(1).replace(",", ""))
print(n)'
}

# measure STAGE: instructions per GET and per page, one line on stdout
measure() {
    local get list gir lir
    start_gw valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$tmp/cg.out.$1"
    # a restart replays the WAL into memtables: "fresh" and "idle" are measured once the drives
    # settled, "after" at once (with what the replay put back in the memtables)
    [ "$1" = after ] || wait_settled
    # warm the caches uninstrumented: the counts are of a steady state
    ybench --op get --size 4k --keys $KEYS --connections 16 --duration 0 --requests 500 >/dev/null
    ybench --op list --keys $KEYS --connections 1 --duration 0 --requests 3 >/dev/null
    callgrind_control -z "$gw_pid" >/dev/null 2>&1
    callgrind_control -i on "$gw_pid" >/dev/null 2>&1
    get=$(ybench --op get --size 4k --keys $KEYS --connections 16 --duration 0 --requests "$GETS" --verify)
    callgrind_control -d "$1-get" "$gw_pid" >/dev/null 2>&1
    gir=$(dumped_ir)
    gbg=$(background_ir)
    list=$(ybench --op list --keys $KEYS --connections 1 --duration 0 --requests "$PAGES")
    callgrind_control -d "$1-list" "$gw_pid" >/dev/null 2>&1
    lir=$(dumped_ir)
    lbg=$(background_ir)
    callgrind_control -i off "$gw_pid" >/dev/null 2>&1
    bench_gateway_stop
    echo "$1: gets=$(value ops "$get") get_errors=$(value errors "$get") verify_fail=$(value verify_fail "$get")" \
        "instr_per_get=$((gir / GETS)) background_per_get=$((gbg / GETS)) pages=$(value ops "$list")" \
        "list_errors=$(value errors "$list") instr_per_page=$((lir / PAGES)) background_per_page=$((lbg / PAGES))"
}

boto3() {
    env -i PATH=/usr/bin:/bin HOME="$tmp" YC_ENDPOINT="http://$endpoint" YC_BUCKET="$BUCKET" \
        YC_ROOT_USER="$YC_ROOT_USER" YC_ROOT_PASSWORD="$YC_ROOT_PASSWORD" YC_STEP="$1" /usr/bin/python3 -c '
import os, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=os.environ["YC_ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id=os.environ["YC_ROOT_USER"],
                  aws_secret_access_key=os.environ["YC_ROOT_PASSWORD"],
                  config=Config(s3={"addressing_style": "path"}))
b = os.environ["YC_BUCKET"]
if os.environ["YC_STEP"] == "enable":
    s3.create_bucket(Bucket=b)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
else:
    old = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=b):
        old += [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", []) if not v["IsLatest"]]
    for i in range(0, len(old), 1000):
        r = s3.delete_objects(Bucket=b, Delete={"Objects": old[i:i + 1000], "Quiet": True})
        assert not r.get("Errors"), r["Errors"][:3]
    print("deleted=%d" % len(old))
'
}

echo "# hotkey-instr: build $(git rev-parse --short HEAD), load $(cut -d' ' -f1-3 /proc/loadavg), versioned=$VERSIONED overwrites=$OVERWRITES gets=$GETS pages=$PAGES"
start_gw
if [ "$VERSIONED" = 1 ]; then
    boto3 enable
    ybench --op fill --size 4k --keys $KEYS --connections 64 >/dev/null
else
    ybench --create-bucket --op fill --size 4k --keys $KEYS --connections 64 >/dev/null
fi
bench_gateway_stop
measure fresh
start_gw
if [ "$VERSIONED" = 1 ]; then
    ybench --op put --sequential --size 4k --keys $KEYS --connections 64 --duration 0 --requests "$OVERWRITES" >/dev/null
    boto3 prune >&2
else
    ybench --op put --random --size 4k --keys $KEYS --connections 64 --duration 0 --requests "$OVERWRITES" >/dev/null
fi
bench_gateway_stop
measure after
start_gw
sleep "$IDLE"
bench_gateway_stop
measure idle
