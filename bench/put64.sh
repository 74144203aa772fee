#!/usr/bin/env bash
# bench/put64.sh — 64 MiB PUT throughput of one or more builds, A/B, on the embedded default (one
# yc-gateway over 6 drives in a temporary directory, EC 4+2), the same layout as bench/run.sh.
#
#   bench/put64.sh [BIN_DIR...]       (default: bin)
#
# For each round and each build: a fresh gateway on a free loopback port, one fill pass, then
# `yc-bench --op put --size 64m --keys 8` for YC_PUT64_DURATION seconds (default 8, warm-up 2) at
# each of YC_PUT64_CONNS (default "1 4 8"). Builds alternate within a round, so a change of the
# machine's load shows in both. Prints `uptime` before and after, and one raw yc-bench line per run
# prefixed with the round, the build and the connections. YC_PUT64_ROUNDS: rounds (default 3).
# YC_PUT64_NICE=-20 runs the gateway and the generator at that nice value (root only): on a
# machine shared with other work both builds then get most of the two cores, the same way; the
# kernel's writeback threads keep their own priority.
set -euo pipefail

cd "$(dirname "$0")/.."
ROUNDS=${YC_PUT64_ROUNDS:-3}
CONNS=${YC_PUT64_CONNS:-1 4 8}
DURATION=${YC_PUT64_DURATION:-8}
NICE=(nice -n "${YC_PUT64_NICE:-0}")
[ $# -gt 0 ] || set -- bin

. bench/lib.sh
bench_tmp yc-put64
bench_root_keys

run_build() { # ROUND BIN_DIR
    local round=$1 bin=$2 port endpoint c
    port=$(bench_free_port)
    endpoint=127.0.0.1:$port
    rm -rf "$tmp/data" && mkdir -p "$tmp/data"
    bench_gateway_start "$port" "${NICE[@]}" "$bin/yc-gateway" --listen "$endpoint" --data "$tmp/data"
    "$bin/yc-bench" --endpoint "$endpoint" --bucket bench --create-bucket --op fill --size 64m --keys 8 \
        --prefix put64m- --connections 4 --duration 60 >/dev/null 2>&1
    for c in $CONNS; do
        local t0 t1 line answered
        t0=$(bench_cpu_ticks)
        line=$("${NICE[@]}" "$bin/yc-bench" --endpoint "$endpoint" --bucket bench --op put --size 64m --keys 8 \
            --prefix put64m- --connections "$c" --duration "$DURATION" --warmup 2 2>/dev/null) || true
        kill -0 "$gw_pid" 2>/dev/null || { echo "round=$round build=$bin: the gateway exited" && tail -5 "$tmp/gateway.log"; exit 1; }
        t1=$(bench_cpu_ticks)
        answered=$(tr ' ' '\n' <<<"$line" | sed -n 's/^answered=//p')
        # the gateway's CPU time (user + system) per answered request, warm-up included
        echo "round=$round build=$bin $line gw_cpu_ms_per_req=$(awk -v t=$((t1 - t0)) -v n="${answered:-0}" \
            -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", (n > 0 ? t * 1000 / hz / n : 0) }')"
    done
    bench_gateway_stop
}

bench_rounds "$ROUNDS" run_build "$@"
