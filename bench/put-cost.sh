#!/usr/bin/env bash
# bench/put-cost.sh — what one PUT costs the gateway: CPU time, context switches and syncs.
#
#   bench/put-cost.sh DIR SIZE CONNECTIONS [KEYS]
#
# DIR holds a yc-gateway and a yc-bench (a bin/ folder). Starts the embedded default (6 drives in
# a fresh temporary folder, EC 4+2), fills KEYS keys (default 2000) of SIZE, then overwrites them
# for YC_COST_DURATION seconds (default 5) at CONNECTIONS while `perf stat` counts the gateway's
# task-clock, context switches, fdatasync, fsync and statfs calls; prints each per PUT. Unlike
# throughput, these hardly move when other processes share the cores, so two builds can be
# compared on a busy machine. Needs perf with the syscalls tracepoints (root).
# YC_COST_RECORD=FILE also records the gateway's call graphs (`perf record -g`) into FILE in the
# same run, and YC_COST_GROUPS=1 prints the drives' synced writes (group-commit batches) and records per PUT
# (yc_rocksdb_synced_*_total of /metrics, before and after the run). YC_COST_EVENTS adds perf events
# (comma-separated) to the count, e.g. uprobes on librocksdb's rocksdb_get_pinned made with `perf probe`.
set -euo pipefail

D=${1:?usage: bench/put-cost.sh DIR SIZE CONNECTIONS [KEYS]}
SIZE=${2:?size}
CONNS=${3:?connections}
KEYS=${4:-2000}
DURATION=${YC_COST_DURATION:-5}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/yc-cost.XXXXXX")
gw_pid=
cleanup() {
    if [ -n "$gw_pid" ] && kill -0 "$gw_pid" 2>/dev/null; then
        kill "$gw_pid" 2>/dev/null || true
        wait "$gw_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

YC_ROOT_USER=cost$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
YC_ROOT_PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export YC_ROOT_USER YC_ROOT_PASSWORD
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
status_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
status=()
[ -n "${YC_COST_GROUPS:-}" ] && status=(--status-listen "127.0.0.1:$status_port")
mkdir -p "$tmp/data"
"$D/yc-gateway" --listen "127.0.0.1:$port" --data "$tmp/data" "${status[@]}" >"$tmp/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
args=(--endpoint "127.0.0.1:$port" --size "$SIZE" --keys "$KEYS" --connections "$CONNS" --prefix put-)
"$D/yc-bench" "${args[@]}" --create-bucket --op fill --duration 120 >/dev/null 2>&1 || true
perf stat -x, -e task-clock,context-switches,syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync,syscalls:sys_enter_statfs${YC_COST_EVENTS:+,$YC_COST_EVENTS} \
    -p "$gw_pid" -o "$tmp/stat.txt" &
perf_pid=$!
rec_pid=
if [ -n "${YC_COST_RECORD:-}" ]; then
    perf record -q -g -p "$gw_pid" -o "$YC_COST_RECORD" >/dev/null 2>&1 &
    rec_pid=$!
fi
groups() { curl -s "http://127.0.0.1:$status_port/metrics" | awk '/^yc_rocksdb_synced_(writes|records)_total/ { split($1, n, "{"); s[n[1]] += $2 } END { printf "%d %d\n", s["yc_rocksdb_synced_writes_total"], s["yc_rocksdb_synced_records_total"] }'; }
[ -n "${YC_COST_GROUPS:-}" ] && before=$(groups)
out=$("$D/yc-bench" "${args[@]}" --op put --duration "$DURATION" 2>/dev/null || true)
kill -INT "$perf_pid" && wait "$perf_pid" || true
[ -n "$rec_pid" ] && { kill -INT "$rec_pid" && wait "$rec_pid" || true; }
[ -n "${YC_COST_GROUPS:-}" ] && after=$(groups)
ops=$(grep -o ' ops=[0-9]*' <<<"$out" | cut -d= -f2)
echo "$D $SIZE x$CONNS: $(grep -o 'ops_s=[0-9.]*' <<<"$out") $(grep -o ' p99_ms=[0-9.]*' <<<"$out") $(grep -o ' errors=[0-9]*' <<<"$out") $(grep -o 'slowdown=[0-9]*' <<<"$out") load=$(cut -d' ' -f1 /proc/loadavg)"
awk -F, -v ops="${ops:-0}" '/^[0-9]/ && ops > 0 { printf "  %s per PUT: %.3f\n", $3, $1 / ops }' "$tmp/stat.txt"
if [ -n "${YC_COST_GROUPS:-}" ]; then
    read -r b0 w0 <<<"$before"
    read -r b1 w1 <<<"$after"
    awk -v b=$((b1 - b0)) -v w=$((w1 - w0)) -v ops="${ops:-0}" 'BEGIN { if (ops > 0 && b > 0) printf "  synced writes per PUT: %.3f, records per PUT: %.3f, records per synced write: %.2f\n", b / ops, w / ops, w / b }'
fi
