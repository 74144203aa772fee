#!/usr/bin/env bash
# bench/heal.sh — what rebuilding a wiped drive costs clients, and how fast it goes: the embedded
# default (one yc-gateway over 6 drives in a temporary directory, EC 4+2).
#
#   bench/heal.sh [BIN_DIR]       (default: bin)
#
# Fills YC_HEAL_OBJECTS objects of YC_HEAL_SIZE (default 400 of 4m: 400 MiB of shards on every
# drive) and 1,000 keys of 4 KiB, then measures 4 KiB GETs (verified, YC_HEAL_CONNS connections,
# default 8, YC_HEAL_SECONDS seconds, default 8) three times: with nothing else running; while a
# full heal rebuilds a wiped drive with no bound; while it rebuilds it with `--rate YC_HEAL_RATE`
# (default 50M). Each heal starts on a freshly wiped drive3 (gateway stopped, folder emptied,
# started again). Prints one line per stage: the GET figures, p99 against the quiet stage, and
# the heal's shard bytes rebuilt, its seconds and MiB/s (from `yc-admin heal status`).
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${1:-bin}
OBJECTS=${YC_HEAL_OBJECTS:-400}
SIZE=${YC_HEAL_SIZE:-4m}
CONNS=${YC_HEAL_CONNS:-8}
SECONDS_GET=${YC_HEAL_SECONDS:-8}
RATE=${YC_HEAL_RATE:-50M}

. bench/lib.sh
bench_tmp yc-heal
bench_root_keys
port=$(bench_free_port)
endpoint=127.0.0.1:$port

start() { bench_gateway_start "$port" "$BIN/yc-gateway" --listen "$endpoint" --data "$tmp/data"; }
admin() { "$BIN/yc-admin" --endpoint "http://$endpoint" "$@"; }
value() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
gets() {
    "$BIN/yc-bench" --endpoint "$endpoint" --bucket heal --op get --size 4k --keys 1000 --prefix small- --verify \
        --connections "$CONNS" --duration "$SECONDS_GET" 2>/dev/null || true
}
wipe() {
    bench_gateway_stop
    rm -rf "$tmp/data/drive3" && mkdir -p "$tmp/data/drive3"
    start
}

mkdir -p "$tmp/data"
start
"$BIN/yc-bench" --endpoint "$endpoint" --bucket heal --create-bucket --op fill --size 4k --keys 1000 \
    --prefix small- --connections 8 --duration 120 >/dev/null 2>&1
"$BIN/yc-bench" --endpoint "$endpoint" --bucket heal --op fill --size "$SIZE" --keys "$OBJECTS" --prefix big- \
    --connections 4 --duration 600 >/dev/null 2>&1

echo "# bench/heal.sh: build $(git rev-parse --short HEAD 2>/dev/null || echo -), $OBJECTS objects of $SIZE," \
    "GET 4 KiB at $CONNS connections for $SECONDS_GET s, rate $RATE; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
quiet=$(gets)
base_p99=$(value p99_ms "$quiet")
echo "stage=quiet $quiet"

for stage in unbounded rated; do
    wipe
    args=(heal)
    [ "$stage" = unbounded ] || args+=(--rate "$RATE")
    admin "${args[@]}" >"$tmp/heal-$stage.log" 2>&1 &
    heal_pid=$!
    line=$(gets)
    wait "$heal_pid" || { echo "heal ($stage) failed:" && tail -3 "$tmp/heal-$stage.log"; exit 1; }
    status=$(admin --json heal status)
    read -r bytes secs < <(python3 -c '
import json, sys
d = json.loads(sys.argv[1])
print(d["rebuiltBytes"], (d["finishedNs"] - d["startedNs"]) / 1e9)' "$status")
    echo "stage=$stage $line p99_vs_quiet=$(awk -v a="$(value p99_ms "$line")" -v b="$base_p99" \
        'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') heal_rebuilt_mib=$((bytes / 1048576)) heal_s=$secs" \
        "heal_mib_per_s=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.1f", (s > 0 ? b / 1048576 / s : 0) }')"
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
