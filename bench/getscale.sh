#!/usr/bin/env bash
# bench/getscale.sh — do GETs scale with connections (issue 15, item 10)? Throughput of 256 KiB and
# 4 MiB GETs at 1, 8 and 64 connections, on the embedded default (one yc-gateway over 6 drives in a
# temporary directory, EC 4+2), the same layout as bench/run.sh.
#
#   bench/getscale.sh [BIN_DIR...]       (default: bin)
#
# For each round and each build: a fresh gateway on a free loopback port, the objects written once
# (YC_GETSCALE_KEYS of each size, default 64), then `yc-bench --op get --verify` for
# YC_GETSCALE_DURATION seconds (default 6, warm-up 1) at each of YC_GETSCALE_CONNS (default "1 8 64")
# for each size, the connection counts in turn, so that a change of the machine's load falls on all
# of them alike. Prints `uptime` before and after, one raw yc-bench line per run prefixed with the
# round, the build, the size and the connections, with the gateway's CPU per GiB served; then, per
# build and size, the median MiB/s and gateway CPU per GiB at each connection count, with their
# ratios to 1 connection (the target: MiB/s >= 1x at 8 and 64). YC_GETSCALE_ROUNDS: rounds (default 3);
# YC_GETSCALE_SIZES: the object sizes (default "256k 4m").
set -euo pipefail

cd "$(dirname "$0")/.."
ROUNDS=${YC_GETSCALE_ROUNDS:-3}
CONNS=${YC_GETSCALE_CONNS:-1 8 64}
DURATION=${YC_GETSCALE_DURATION:-6}
KEYS=${YC_GETSCALE_KEYS:-64}
SIZES=${YC_GETSCALE_SIZES:-256k 4m}
[ $# -gt 0 ] || set -- bin

. bench/lib.sh
bench_tmp yc-getscale
bench_root_keys
lines=$tmp/lines

run_build() { # ROUND BIN_DIR
    local round=$1 bin=$2 port endpoint c s
    port=$(bench_free_port)
    endpoint=127.0.0.1:$port
    rm -rf "$tmp/data" && mkdir -p "$tmp/data"
    bench_gateway_start "$port" "$bin/yc-gateway" --listen "$endpoint" --data "$tmp/data" --shed-lag-ms 0
    for s in $SIZES; do
        "$bin/yc-bench" --endpoint "$endpoint" --bucket bench --create-bucket --op fill --size "$s" --keys "$KEYS" \
            --prefix "get$s-" --connections 8 --duration 120 >/dev/null 2>&1
    done
    for s in $SIZES; do
        for c in $CONNS; do
            local t0 t1 line mib
            t0=$(bench_cpu_ticks)
            line=$("$bin/yc-bench" --endpoint "$endpoint" --bucket bench --op get --size "$s" --keys "$KEYS" \
                --prefix "get$s-" --connections "$c" --duration "$DURATION" --warmup 1 --verify 2>/dev/null) || true
            kill -0 "$gw_pid" 2>/dev/null || { echo "round=$round build=$bin: the gateway exited" && tail -5 "$tmp/gateway.log"; exit 1; }
            t1=$(bench_cpu_ticks)
            mib=$(tr ' ' '\n' <<<"$line" | sed -n 's/^mib_s=//p')
            # the gateway's CPU seconds per GiB served in the measured part (warm-up included in both)
            echo "round=$round build=$bin size=$s $line gw_cpu_s_per_gib=$(awk -v t=$((t1 - t0)) -v m="${mib:-0}" \
                -v d="$DURATION" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (m > 0 ? t / hz / (m * (d + 1) / 1024) : 0) }')" |
                tee -a "$lines"
        done
    done
    bench_gateway_stop
}

bench_rounds "$ROUNDS" run_build "$@"

# table FIELD TITLE: per build and size, the median of FIELD at each connection count, and its
# ratio to 1 connection
table() {
    echo
    echo "| build | size | $(for c in $CONNS; do printf '%s at %s (of 1) | ' "$2" "$c"; done | sed 's/ | $//') |"
    echo "|---|---|$(for _ in $CONNS; do printf -- '---|'; done)"
    for bin in "${builds[@]}"; do
        for s in $SIZES; do
            awk -v bin="$bin" -v size="$s" -v conns="$CONNS" -v f="$1" '
                function field(name,   i) { for (i = 1; i <= NF; i++) if (index($i, name "=") == 1) return substr($i, length(name) + 2); return "" }
                field("build") == bin && field("size") == size { v[field("conns")] = v[field("conns")] " " field(f) }
                function median(list,   a, n, i, j, t) {
                    n = split(list, a, " ")
                    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
                    return n == 0 ? 0 : (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2)
                }
                END {
                    n = split(conns, cs, " ")
                    base = median(v[cs[1]])
                    printf "| %s | %s |", bin, size
                    for (i = 1; i <= n; i++) { m = median(v[cs[i]]); printf " %.2f (%.2fx) |", m, (base > 0 ? m / base : 0) }
                    printf "\n"
                }' "$lines"
        done
    done
}
builds=("$@")
table mib_s MiB/s
table gw_cpu_s_per_gib "gateway CPU s/GiB"
