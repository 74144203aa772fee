#!/usr/bin/env bash
# bench/hotkey.sh — a key's overwrite history must not slow its reads or listings (issue 19).
#
# Starts the embedded default (one yc-gateway over 6 drives in a temporary directory, EC 4+2) the
# way bench/run.sh does, writes 1,000 keys of 4 KiB once and measures, in the same run:
#   - fresh keys: 4 KiB GET at 64 connections (every body verified), ListObjectsV2 pages of 1,000
#     keys at 1 connection, and RocksDB's size figures of the drives (yc-admin metadata);
#   - the same after N overwrites of those keys at 64 connections (default 100,000);
#   - the same again after the server stayed idle (default 120 s).
# The results go to bench/results/<date>-hotkey.md with the ratios to the fresh figures. Run it
# when the machine is quiet (`uptime`): GET figures move with whatever else runs.
#
# Environment: YC_BENCH_DURATION (seconds per measured test, default 10), YC_BENCH_WARMUP (2),
# YC_HOTKEY_OVERWRITES (100000), YC_HOTKEY_IDLE (120 seconds), YC_BENCH_OUT (results file).
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
DURATION=${YC_BENCH_DURATION:-10}
WARMUP=${YC_BENCH_WARMUP:-2}
OVERWRITES=${YC_HOTKEY_OVERWRITES:-100000}
IDLE=${YC_HOTKEY_IDLE:-120}
KEYS=1000
OUT=${YC_BENCH_OUT:-bench/results/$(date +%F)-hotkey.md}

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
"$BIN/yc-gateway" --listen "$endpoint" --data "$tmp/data" >"$tmp/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 1 200); do
    kill -0 "$gw_pid" 2>/dev/null || { echo "hotkey.sh: yc-gateway exited:" >&2; cat "$tmp/gateway.log" >&2; exit 1; }
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done

value() { awk -v k="$1=" '{ for (i = 1; i <= NF; i++) if (index($i, k) == 1) { print substr($i, length(k) + 1); exit } }' <<<"$2"; }

ybench() { "$BIN/yc-bench" --endpoint "$endpoint" --bucket hot "$@"; }

# measure STAGE: GET and LIST figures of the stage into $tmp/STAGE.{get,list}
measure() {
    echo "== $1: GET 4 KiB, 64 connections" >&2
    ybench --op get --size 4k --keys $KEYS --connections 64 --duration "$DURATION" --warmup "$WARMUP" --verify \
        >"$tmp/$1.get"
    echo "== $1: ListObjectsV2 pages of 1,000, 1 connection" >&2
    ybench --op list --keys $KEYS --connections 1 --duration "$DURATION" --warmup "$WARMUP" >"$tmp/$1.list"
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

echo "== fill: $KEYS keys of 4 KiB" >&2
ybench --create-bucket --op fill --size 4k --keys $KEYS --connections 64 >/dev/null
measure fresh
sizes fresh
echo "== $OVERWRITES overwrites of the $KEYS keys, 64 connections" >&2
ybench --op put --random --size 4k --keys $KEYS --connections 64 --duration 0 --requests "$OVERWRITES" \
    >"$tmp/overwrite.put"
sizes after
measure after
echo "== idle for $IDLE s" >&2
sleep "$IDLE"
sizes idle
measure idle

row() { # STAGE LABEL
    local g l
    g=$(cat "$tmp/$1.get")
    l=$(cat "$tmp/$1.list")
    awk -v label="$2" -v go="$(value ops_s "$g")" -v gp="$(value p99_ms "$g")" -v ge="$(value errors "$g")" \
        -v lo="$(value ops_s "$l")" -v lp="$(value p99_ms "$l")" -v le="$(value errors "$l")" \
        -v fgo="$(value ops_s "$(cat "$tmp/fresh.get")")" -v fgp="$(value p99_ms "$(cat "$tmp/fresh.get")")" \
        -v flo="$(value ops_s "$(cat "$tmp/fresh.list")")" \
        'BEGIN { printf "| %s | %.0f/s (%.0f %%) | %.2f ms (%.2fx) | %.1f/s (%.0f %%) | %.1f ms | %d |\n",
                 label, go, 100 * go / fgo, gp, gp / fgp, lo, 100 * lo / flo, lp, ge + le }'
}

put_line=$(cat "$tmp/overwrite.put")
{
    echo "# Hot keys: reads and listings after overwrites ($(date +%F))"
    echo
    echo "bench/hotkey.sh on the embedded default (EC 4+2 over 6 drives, one process), build $(git rev-parse --short HEAD)."
    echo "$KEYS keys of 4 KiB written once, measured, then overwritten $OVERWRITES times at 64 connections"
    echo "($(value ops_s "$put_line") PUT/s, errors $(value errors "$put_line")), measured, left idle ${IDLE} s, measured."
    echo "Machine: $(nproc) cores, load before the run: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "| keys | 4 KiB GET, 64 conns (of fresh) | GET p99 (of fresh) | ListObjectsV2 pages of 1,000, 1 conn (of fresh) | list p99 | errors |"
    echo "|---|---|---|---|---|---|"
    row fresh "written once"
    row after "after $OVERWRITES overwrites"
    row idle "after ${IDLE} s idle"
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
