#!/usr/bin/env bash
# bench/hotkey.sh — a key's overwrite history must not slow its reads or listings (issue 19).
#
# Starts the embedded default (one yc-gateway over 6 drives in a temporary directory, EC 4+2) the
# way bench/run.sh does, writes 1,000 keys of 4 KiB once and measures, in the same run:
#   - fresh keys: 4 KiB GET at 64 connections (every body verified), ListObjectsV2 pages of 1,000
#     keys at 1 connection, and RocksDB's size figures of the drives (yc-admin metadata);
#   - the same after N overwrites of those keys at 64 connections (default 100,000);
#   - the same again after the server stayed idle (default 120 s).
# With YC_HOTKEY_VERSIONED=1 the bucket has versioning enabled: the overwrites give every key
# YC_HOTKEY_VERSIONS versions (default 100), then all but the newest of each key are deleted by
# version id (DeleteObjects through boto3) before the "after" figures are taken; the results say
# how long those requests took and the gateway's CPU per version deleted.
# The results go to bench/results/<date>-hotkey.md (-2, -3, ... after an earlier run of the day)
# with the ratios to the fresh figures. Run it when the machine is quiet (`uptime`): GET figures
# move with whatever else runs.
#
# Environment: YC_BENCH_DURATION (seconds per measured test, default 10), YC_BENCH_WARMUP (2),
# YC_HOTKEY_OVERWRITES (100000), YC_HOTKEY_IDLE (120 seconds), YC_HOTKEY_VERSIONED (0),
# YC_HOTKEY_VERSIONS (100), YC_HOTKEY_FRESH_SST (1: the gateway restarts after the fill and waits
# until the drives settled, so the fresh keys are read from SST files like the overwritten ones;
# 0: from the memtables), YC_BENCH_OUT
# (results file).
set -euo pipefail

cd "$(dirname "$0")/.."
. bench/lib.sh
BIN=${BIN:-bin}
DURATION=${YC_BENCH_DURATION:-10}
WARMUP=${YC_BENCH_WARMUP:-2}
OVERWRITES=${YC_HOTKEY_OVERWRITES:-100000}
IDLE=${YC_HOTKEY_IDLE:-120}
KEYS=1000
VERSIONED=${YC_HOTKEY_VERSIONED:-0}
FRESH_SST=${YC_HOTKEY_FRESH_SST:-1}
BUCKET=hot
OUT=${YC_BENCH_OUT:-$(bench_results_file -hotkey)}
if [ "$VERSIONED" = 1 ]; then
    BUCKET=hotv
    # the fill writes each key's first version, the overwrites the others, in key order
    OVERWRITES=$((KEYS * (${YC_HOTKEY_VERSIONS:-100} - 1)))
    OUT=${YC_BENCH_OUT:-$(bench_results_file -hotkey-versioned)}
fi

for b in yc-gateway yc-bench yc-admin; do
    [ -x "$BIN/$b" ] || { echo "hotkey.sh: $BIN/$b is missing; run make all first" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/yc-hotkey.XXXXXX")
gw_pid=
cleanup() {
    if [ -n "$gw_pid" ] && kill -0 "$gw_pid" 2>/dev/null; then
        kill "$gw_pid" 2>/dev/null || true
        wait "$gw_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
endpoint=127.0.0.1:$port
YC_ROOT_USER=bench$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
YC_ROOT_PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export YC_ROOT_USER YC_ROOT_PASSWORD
mkdir -p "$tmp/data"
start_gw() {
    # the door is off: this measures what a read costs, not how the gateway sheds a busy machine's load
    "$BIN/yc-gateway" --listen "$endpoint" --data "$tmp/data" --shed-lag-ms 0 >>"$tmp/gateway.log" 2>&1 &
    gw_pid=$!
    for _ in $(seq 1 600); do
        kill -0 "$gw_pid" 2>/dev/null || { echo "hotkey.sh: yc-gateway exited:" >&2; cat "$tmp/gateway.log" >&2; exit 1; }
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
}
start_gw

value() { awk -v k="$1=" '{ for (i = 1; i <= NF; i++) if (index($i, k) == 1) { print substr($i, length(k) + 1); exit } }' <<<"$2"; }

ybench() { "$BIN/yc-bench" --endpoint "$endpoint" --bucket "$BUCKET" "$@"; }

# boto3 STEP: versioning on (before the fill) or every version but the newest deleted (after the
# overwrites), through Debian's python3-boto3 in a clean environment
boto3() {
    env -i PATH=/usr/bin:/bin HOME="$tmp" YC_ENDPOINT="http://$endpoint" YC_BUCKET="$BUCKET" \
        YC_ROOT_USER="$YC_ROOT_USER" YC_ROOT_PASSWORD="$YC_ROOT_PASSWORD" YC_STEP="$1" /usr/bin/python3 -c '
import os, time, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=os.environ["YC_ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id=os.environ["YC_ROOT_USER"],
                  aws_secret_access_key=os.environ["YC_ROOT_PASSWORD"],
                  config=Config(s3={"addressing_style": "path"}, read_timeout=600))
b = os.environ["YC_BUCKET"]
if os.environ["YC_STEP"] == "enable":
    s3.create_bucket(Bucket=b)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
else:
    old, total = [], 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=b):
        total += len(page.get("Versions", []))
        old += [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", []) if not v["IsLatest"]]
    t, slowest = time.monotonic(), 0.0
    for i in range(0, len(old), 1000):
        t1 = time.monotonic()
        r = s3.delete_objects(Bucket=b, Delete={"Objects": old[i:i + 1000], "Quiet": True})
        assert not r.get("Errors"), r["Errors"][:3]
        slowest = max(slowest, time.monotonic() - t1)
    secs = time.monotonic() - t
    print("versions=%d deleted=%d delete_secs=%.1f requests=%d slowest_s=%.2f"
          % (total, len(old), secs, (len(old) + 999) // 1000, slowest))
'
}

# cpu_ticks: the gateway's user + system CPU time so far, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$gw_pid/stat"; }

# measure STAGE: GET and LIST figures of the stage into $tmp/STAGE.{get,list}, each line followed
# by the gateway's CPU time per request (cpu_us=): unlike requests per second, it hardly moves with
# what else the machine runs, so stages compare on a busy machine too
measure() {
    local t0 t1
    echo "== $1: GET 4 KiB, 64 connections" >&2
    t0=$(cpu_ticks)
    ybench --op get --size 4k --keys $KEYS --connections 64 --duration "$DURATION" --warmup "$WARMUP" --verify \
        >"$tmp/$1.get"
    t1=$(cpu_ticks)
    per_request "$t0" "$t1" "$tmp/$1.get"
    echo "== $1: ListObjectsV2 pages of 1,000, 1 connection" >&2
    t0=$(cpu_ticks)
    ybench --op list --keys $KEYS --connections 1 --duration "$DURATION" --warmup "$WARMUP" >"$tmp/$1.list"
    t1=$(cpu_ticks)
    per_request "$t0" "$t1" "$tmp/$1.list"
}

# per_request T0 T1 FILE: appends cpu_us= (gateway CPU microseconds per answered request, warm-up
# included in both the time and the count) to FILE's line
per_request() {
    local line ops
    line=$(cat "$3")
    ops=$(value answered "$line")
    awk -v t="$(($2 - $1))" -v hz="$(getconf CLK_TCK)" -v n="$ops" -v l="$line" \
        'BEGIN { printf "%s cpu_us=%.1f\n", l, t * 1e6 / hz / (n > 0 ? n : 1) }' >"$3"
}

# sizes STAGE: the drives' metadata figures, summed, into $tmp/STAGE.sizes (key=value)
sizes() {
    "$BIN/yc-admin" --endpoint "http://$endpoint" metadata | python3 -c '
import json, sys
d = json.load(sys.stdin)["drives"]
s = lambda k: sum(x.get(k, 0) for x in d)
held = s("sstBytes") + s("memtableBytes")
print("sst=%d memtable=%d live_estimate=%d records=%d record_bytes=%d tombstones=%d compactions=%d held_over_records=%.2f"
      % (s("sstBytes"), s("memtableBytes"), s("liveEstimateBytes"), s("records"), s("recordBytes"),
         s("tombstones"), s("compactions"), held / max(1, s("recordBytes"))))' >"$tmp/$1.sizes"
}

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

echo "== fill: $KEYS keys of 4 KiB" >&2
if [ "$VERSIONED" = 1 ]; then
    boto3 enable
fi
ybench --create-bucket --op fill --size 4k --keys $KEYS --connections 64 >/dev/null
if [ "$FRESH_SST" = 1 ]; then
    # a restart replays the WAL into SST files: the fresh keys are then read from SST files as
    # the overwritten ones are, and the stages differ by the history only, not memtable vs SST
    echo "== restart: the fresh keys into SST files" >&2
    kill "$gw_pid"
    wait "$gw_pid" 2>/dev/null || true
    start_gw
    # the restart replays the WAL into memtables (no flush at open): they are flushed, and level 0
    # merged down, once the drives have been idle for a few seconds
    wait_settled
fi
measure fresh
sizes fresh
echo "== $OVERWRITES overwrites of the $KEYS keys, 64 connections" >&2
if [ "$VERSIONED" = 1 ]; then
    ybench --op put --sequential --size 4k --keys $KEYS --connections 64 --duration 0 --requests "$OVERWRITES" \
        >"$tmp/overwrite.put"
    echo "== every version but the newest deleted" >&2
    t0=$(cpu_ticks)
    boto3 prune >"$tmp/prune"
    t1=$(cpu_ticks)
    # the gateway's CPU over the listing of the versions and their deletes, per version deleted
    awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v l="$(cat "$tmp/prune")" \
        'BEGIN { split(l, a, "deleted="); split(a[2], b, " "); printf "%s cpu_us_per_delete=%.0f\n", l, t * 1e6 / hz / (b[1] > 0 ? b[1] : 1) }' \
        >"$tmp/prune.new" && mv "$tmp/prune.new" "$tmp/prune"
else
    ybench --op put --random --size 4k --keys $KEYS --connections 64 --duration 0 --requests "$OVERWRITES" \
        >"$tmp/overwrite.put"
    echo "versions=- deleted=0" >"$tmp/prune"
fi
sizes after
measure after
echo "== idle for $IDLE s" >&2
sleep "$IDLE"
sizes idle
measure idle

row() { # STAGE LABEL
    local g l fg fl
    g=$(cat "$tmp/$1.get")
    l=$(cat "$tmp/$1.list")
    fg=$(cat "$tmp/fresh.get")
    fl=$(cat "$tmp/fresh.list")
    awk -v label="$2" -v go="$(value ops_s "$g")" -v gp="$(value p99_ms "$g")" -v ge="$(value errors "$g")" \
        -v lo="$(value ops_s "$l")" -v lp="$(value p99_ms "$l")" -v le="$(value errors "$l")" \
        -v gc="$(value cpu_us "$g")" -v lc="$(value cpu_us "$l")" \
        -v fgo="$(value ops_s "$fg")" -v fgp="$(value p99_ms "$fg")" -v fgc="$(value cpu_us "$fg")" \
        -v flo="$(value ops_s "$fl")" -v flc="$(value cpu_us "$fl")" \
        'BEGIN { printf "| %s | %.0f/s (%.0f %%) | %.2f ms (%.2fx) | %.0f us (%.2fx) | %.1f/s (%.0f %%) | %.1f ms | %.1f ms (%.2fx) | %d |\n",
                 label, go, 100 * go / fgo, gp, gp / fgp, gc, gc / fgc, lo, 100 * lo / flo, lp, lc / 1000, lc / flc, ge + le }'
}

put_line=$(cat "$tmp/overwrite.put")
{
    echo "# Hot keys: reads and listings after overwrites ($(date +%F))"
    echo
    echo "bench/hotkey.sh on the embedded default (EC 4+2 over 6 drives, one process), build $(git rev-parse --short HEAD)."
    echo "$KEYS keys of 4 KiB written once$([ "$FRESH_SST" = 1 ] && echo " (the gateway restarted: read from SST files)"), measured, then overwritten $OVERWRITES times at 64 connections"
    echo "($(value ops_s "$put_line") PUT/s, errors $(value errors "$put_line")), measured, left idle ${IDLE} s, measured."
    if [ "$VERSIONED" = 1 ]; then
        echo "Versioned bucket: sequential overwrites, so every key had $((OVERWRITES / KEYS + 1)) versions; then"
        prune=$(cat "$tmp/prune")
        echo "$(value deleted "$prune") of the $(value versions "$prune") versions (all but each key's newest) were deleted by version id"
        echo "in $(value requests "$prune") DeleteObjects requests of 1,000 (quiet), $(value delete_secs "$prune") s in all, the slowest $(value slowest_s "$prune") s"
        echo "(gateway CPU $(value cpu_us_per_delete "$prune") us per version deleted, the listing of the versions included)."
    fi
    echo "Machine: $(nproc) cores, load before the run: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "| keys | 4 KiB GET, 64 conns (of fresh) | GET p99 (of fresh) | gateway CPU per GET (of fresh) | ListObjectsV2 pages of 1,000, 1 conn (of fresh) | list p99 | gateway CPU per page (of fresh) | errors |"
    echo "|---|---|---|---|---|---|---|---|"
    row fresh "written once"
    row after "after $OVERWRITES overwrites"
    row idle "after ${IDLE} s idle"
    echo
    echo "Gateway CPU per request: user + system time of the gateway process (its drives included: one"
    echo "process) over the stage, divided by the requests it answered (warm-up included); background"
    echo "work such as compactions during the stage counts too."
    echo
    echo "RocksDB of the six drives (yc-admin metadata: RocksDB's own size properties; records and their"
    echo "bytes from a scan of every drive; held = SST + memtable bytes):"
    echo
    echo "| when | SST bytes | memtable bytes | RocksDB live estimate | records | record bytes | tombstones | compactions | held / record bytes |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for st in fresh after idle; do
        s=$(cat "$tmp/$st.sizes")
        echo "| $st | $(value sst "$s") | $(value memtable "$s") | $(value live_estimate "$s") | $(value records "$s") | $(value record_bytes "$s") | $(value tombstones "$s") | $(value compactions "$s") | $(value held_over_records "$s") |"
    done
    echo
    echo "Raw lines:"
    echo
    echo '```'
    for f in fresh.get fresh.list overwrite.put after.get after.list idle.get idle.list; do echo "$f: $(cat "$tmp/$f")"; done
    echo '```'
} >"$OUT.new"
if [ -f "$OUT" ] && grep -q '^<!-- analysis -->' "$OUT"; then
    sed -n '/^<!-- analysis -->/,$p' "$OUT" >>"$OUT.new"
fi
mv "$OUT.new" "$OUT"
cat "$OUT"
