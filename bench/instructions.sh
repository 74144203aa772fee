#!/usr/bin/env bash
# bench/instructions.sh — instructions per request of one or more builds, counted by valgrind's
# callgrind: a count that does not depend on what else the machine is doing, so two builds can be
# compared on a busy machine where timings cannot.
#
#   bench/instructions.sh DIR [DIR ...]
#
# For each DIR (a bin/ folder with yc-gateway and yc-bench), starts the gateway under callgrind
# on the embedded default (6 drives in a fresh temporary folder, EC 4+2), fills 200 keys of 4 KiB,
# then counts the instructions of the whole process (every thread) over 1000 PUTs of 4 KiB and
# over 2000 GETs of 4 KiB (verified), at 8 connections, then over 4 PUTs of 64 MiB at one
# connection (YC_INSTR_BIG_PUTS, 0 leaves them out), and prints them per request. The counters
# are zeroed and dumped around each phase with callgrind_control, so start-up and filling do not
# count. Needs valgrind; takes a few minutes per build.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: bench/instructions.sh DIR [DIR ...]" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed" >&2; exit 1; }
PUTS=${YC_INSTR_PUTS:-1000}
GETS=${YC_INSTR_GETS:-2000}
BIG_PUTS=${YC_INSTR_BIG_PUTS:-4}

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
bench_tmp yc-instr
bench_root_keys

# total instructions of the newest dump in dir
dumped() { grep -h '^summary:' "$1"/callgrind.out.* 2>/dev/null | awk '{ s += $2 } END { print s + 0 }'; }

echo "| build | instructions per PUT 4 KiB | instructions per GET 4 KiB | instructions per PUT 64 MiB |"
echo "|---|---|---|---|"
for dir in "$@"; do
    port=$(bench_free_port)
    rm -rf "$tmp/data" "$tmp/out" && mkdir -p "$tmp/data" "$tmp/out"
    valgrind --tool=callgrind --callgrind-out-file="$tmp/out/callgrind.out.%p" --dump-instr=no \
        "$dir/yc-gateway" --listen "127.0.0.1:$port" --data "$tmp/data" >"$tmp/gateway.log" 2>&1 &
    gw_pid=$! # stopped by bench_cleanup if the script ends early
    for _ in $(seq 1 600); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.2
    done
    gen=("$dir/yc-bench" --endpoint "127.0.0.1:$port" --bucket instr-bench --size 4k --keys 200 --connections 8
        --duration 0 --timeout 120)
    "${gen[@]}" --create-bucket --op fill --prefix get- --requests 200 >/dev/null 2>&1
    callgrind_control -z "$gw_pid" >/dev/null
    "${gen[@]}" --op put --prefix put- --requests "$PUTS" >"$tmp/put.txt" 2>&1
    callgrind_control -d put "$gw_pid" >/dev/null
    put=$(dumped "$tmp/out")
    rm -f "$tmp"/out/callgrind.out.*
    callgrind_control -z "$gw_pid" >/dev/null
    "${gen[@]}" --op get --prefix get- --verify --requests "$GETS" >"$tmp/get.txt" 2>&1
    callgrind_control -d get "$gw_pid" >/dev/null
    get=$(dumped "$tmp/out")
    big=0
    : >"$tmp/big.txt"
    if [ "$BIG_PUTS" -gt 0 ]; then
        big_gen=("$dir/yc-bench" --endpoint "127.0.0.1:$port" --bucket instr-bench --size 64m --keys 4 --connections 1
            --duration 0 --timeout 600 --op put --prefix big-)
        "${big_gen[@]}" --requests 1 >/dev/null 2>&1 # the first one's buffers and threads
        rm -f "$tmp"/out/callgrind.out.*
        callgrind_control -z "$gw_pid" >/dev/null
        "${big_gen[@]}" --requests "$BIG_PUTS" >"$tmp/big.txt" 2>&1
        callgrind_control -d big "$gw_pid" >/dev/null
        big=$(dumped "$tmp/out")
    fi
    bench_gateway_stop
    for phase in put get big; do
        [ "$phase" != big ] || [ "$BIG_PUTS" -gt 0 ] || continue
        errors=$(tr ' ' '\n' <"$tmp/$phase.txt" | sed -n 's/^errors=//p')
        [ "${errors:-x}" = 0 ] || { echo "instructions.sh: $dir: the $phase phase failed: $(cat "$tmp/$phase.txt")" >&2; exit 1; }
    done
    echo "| $dir | $(awk -v s="$put" -v n="$PUTS" 'BEGIN { printf "%.0f", s / n }') | $(awk -v s="$get" -v n="$GETS" 'BEGIN { printf "%.0f", s / n }') | $(awk -v s="$big" -v n="$BIG_PUTS" 'BEGIN { if (n > 0) printf "%.0f", s / n; else printf "-" }') |"
done
