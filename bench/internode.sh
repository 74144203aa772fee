#!/usr/bin/env bash
# bench/internode.sh — what the network transport's security costs: the same four rows (4 KiB PUT
# and GET at 64 connections, 64 MiB PUT and GET at 1 and 4 connections) against a gateway over
# 3 yc-store daemons of 2 drives each on this host, for each build given, rounds interleaved so
# that a change in the machine's load falls on every build alike; then the embedded transport of
# the last build, the reference the network transport is held to (issue 15: >= 0.8x).
#
#   bench/internode.sh LABEL=BINDIR[,tls] [LABEL=BINDIR[,tls]...]   e.g. before=old/bin after=bin
#
# ",tls": that build's gateway and daemons speak mutual TLS (a cluster CA and certificates made by
# its yc-admin cluster-ca), e.g. cleartext=bin mtls=bin,tls for what TLS costs.
#
# Environment: YC_BENCH_DURATION (seconds per row, default 5), YC_BENCH_ROUNDS (default 2),
# YC_BENCH_OUT (a file the markdown table is also written to).
set -euo pipefail

cd "$(dirname "$0")/.."
. bench/lib.sh
DURATION=${YC_BENCH_DURATION:-5}
ROUNDS=${YC_BENCH_ROUNDS:-2}
[ $# -ge 1 ] || { echo "usage: $0 LABEL=BINDIR..." >&2; exit 2; }

bench_tmp yc-internode
bench_root_keys
store_pids=()
stop_all() {
    bench_gateway_stop
    for p in "${store_pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
    store_pids=()
}
trap 'stop_all; rm -rf "$tmp"' EXIT

# tls_files BINDIR: a cluster CA and the certificates of the daemons (127.0.0.1) and the gateway,
# in $tmp/pki, once; sets store_tls and gateway_tls to the options that turn internode TLS on.
tls_files() {
    local pki=$tmp/pki
    if [ ! -f "$pki/ca.crt" ]; then
        "$1/yc-admin" cluster-ca init --dir "$pki" >/dev/null
        "$1/yc-admin" cluster-ca issue --dir "$pki" --node store --ip 127.0.0.1 >/dev/null
        "$1/yc-admin" cluster-ca issue --dir "$pki" --node gateway >/dev/null
    fi
    store_tls=(--tls-cert "$pki/store.crt" --tls-key "$pki/store.key" --tls-ca "$pki/ca.crt")
    gateway_tls=(--internode-tls-cert "$pki/gateway.crt" --internode-tls-key "$pki/gateway.key"
        --internode-tls-ca "$pki/ca.crt")
}

# start BINDIR network|embedded [tls]: a fresh cluster in $tmp/run, gateway on $port
start() {
    local bin=$1 transport=$2 drives=""
    store_tls=()
    gateway_tls=()
    [ "${3:-}" = tls ] && tls_files "$bin"
    rm -rf "$tmp/run"
    mkdir -p "$tmp/run/data"
    port=$(bench_free_port)
    if [ "$transport" = network ]; then
        YC_CLUSTER_SECRET=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
        export YC_CLUSTER_SECRET
        for n in 1 2 3; do
            local sport
            sport=$(bench_free_port)
            mkdir -p "$tmp/run/s$n"
            "$bin/yc-store" --listen 127.0.0.1:$sport --drive a="$tmp/run/s$n/a" --drive b="$tmp/run/s$n/b" \
                ${store_tls[@]+"${store_tls[@]}"} >"$tmp/run/store$n.log" 2>&1 &
            store_pids+=($!)
            for _ in $(seq 1 100); do
                (exec 3<>"/dev/tcp/127.0.0.1/$sport") 2>/dev/null && break
                sleep 0.1
            done
            drives="$drives 127.0.0.1:$sport/a 127.0.0.1:$sport/b"
        done
        bench_gateway_start "$port" "$bin/yc-gateway" --listen 127.0.0.1:$port --data "$tmp/run/data" \
            --drives-list "${drives# }" ${gateway_tls[@]+"${gateway_tls[@]}"}
    else
        bench_gateway_start "$port" "$bin/yc-gateway" --listen 127.0.0.1:$port --data "$tmp/run/data"
    fi
    sleep 1 # the health prober's first round places the drives
}

# The server side's CPU time (gateway and daemons, user + system) in clock ticks so far.
server_ticks() {
    local t=0 p
    for p in $gw_pid "${store_pids[@]}"; do
        t=$((t + $(bench_cpu_ticks "$p")))
    done
    echo $t
}

header=--markdown-header # the table's head comes with the first row
row() { # LABEL yc-bench args...: one markdown row, and one of the server's CPU per request in $cpu
    local label=$1
    shift
    local line t0 t1 ops
    t0=$(server_ticks)
    line=$("$BENCH" --endpoint 127.0.0.1:$port --bucket bench "$@" --label "$label" $header 2>/dev/null || true)
    t1=$(server_ticks)
    grep '^|' <<<"$line" || echo "| $label | failed |"
    header=--markdown
    # requests in the measured seconds and the warm-up second, at the measured rate (an estimate)
    ops=$(sed -n 's/.* ops_s=\([0-9.]*\).*/\1/p' <<<"$line" | head -1)
    awk -v l="$label" -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v o="${ops:-0}" -v d="$DURATION" \
        'BEGIN { n = o * (d + 1); v = "-"; if (n > 0) v = sprintf("%.3f", 1000 * t / hz / n); printf "| %s | %s |\n", l, v }' >>"$cpu"
}

measure() { # NAME BINDIR TRANSPORT [tls]
    local name=$1 bin=$2 transport=$3 d=(--duration "$DURATION" --warmup 1)
    BENCH=$bin/yc-bench
    start "$bin" "$transport" "${4:-}"
    # the key spaces the GETs read (few connections: a loaded machine sheds a fill of 64)
    "$BENCH" --endpoint 127.0.0.1:$port --bucket bench --create-bucket --op fill --size 4k --keys 2000 \
        --prefix g4k- --connections 8 --duration 120 >/dev/null 2>>"$tmp/fill.err" || true
    "$BENCH" --endpoint 127.0.0.1:$port --bucket bench --op fill --size 64m --keys 4 --prefix g64m- \
        --connections 2 --duration 120 >/dev/null 2>>"$tmp/fill.err" || true
    row "$name: PUT 4 KiB, 64 conns" --op put --size 4k --keys 2000 --prefix p4k- --connections 64 "${d[@]}"
    row "$name: GET 4 KiB, 64 conns" --op get --size 4k --keys 2000 --prefix g4k- --connections 64 --verify "${d[@]}"
    row "$name: PUT 64 MiB, 1 conn" --op put --size 64m --keys 4 --prefix p64m- --connections 1 "${d[@]}"
    row "$name: GET 64 MiB, 1 conn" --op get --size 64m --keys 4 --prefix g64m- --connections 1 --verify "${d[@]}"
    row "$name: PUT 64 MiB, 4 conns" --op put --size 64m --keys 4 --prefix p64m- --connections 4 "${d[@]}"
    row "$name: GET 64 MiB, 4 conns" --op get --size 64m --keys 4 --prefix g64m- --connections 4 --verify "${d[@]}"
    stop_all
}

out=$tmp/rows.md
cpu=$tmp/cpu.md
printf '| row | server CPU ms per request (gateway + daemons) |\n|---|---|\n' >"$cpu"
last_bin=
: >"$out"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for r in $(seq 1 "$ROUNDS"); do
    for spec in "$@"; do
        name=${spec%%=*}
        last_bin=${spec#*=}
        tls=
        [ "${last_bin%,tls}" != "$last_bin" ] && tls=tls
        last_bin=${last_bin%,tls}
        echo "== round $r: $name (network${tls:+, mutual TLS})" >&2
        measure "$name, network, round $r" "$last_bin" network $tls >>"$out"
        tail -6 "$out" >&2
    done
done
echo "== embedded ($last_bin)" >&2
measure "embedded (${spec%%=*})" "$last_bin" embedded >>"$out"
echo "load average at start: $load_start, at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out"
{
    echo
    cat "$cpu"
} >>"$out"
cat "$out"
[ -n "${YC_BENCH_OUT:-}" ] && cp "$out" "$YC_BENCH_OUT"
exit 0
