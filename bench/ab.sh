#!/usr/bin/env bash
# bench/ab.sh — two builds of the gateway compared in one run, as ratios.
#
#   bench/ab.sh DIR_A DIR_B [ROUNDS]
#
# DIR_A and DIR_B hold a yc-gateway each (a bin/ folder of two checkouts). Every round starts each
# build in turn on the embedded default (6 drives in a fresh temporary folder, EC 4+2), fills 5000
# keys of 4 KiB, then measures PUT 4 KiB and GET 4 KiB (verified) at 64 connections with the same
# load generator (DIR_B's yc-bench). The order of the two builds alternates from round to round,
# so that a drift of the machine (another process, the page cache, the disk's state) weighs on both
# alike; the table gives every round and the median, and the ratio B / A of the medians.
# YC_AB_DURATION (seconds per measured test, default 8). Prints Markdown on stdout.
set -euo pipefail

A=${1:?usage: bench/ab.sh DIR_A DIR_B [ROUNDS]}
B=${2:?usage: bench/ab.sh DIR_A DIR_B [ROUNDS]}
ROUNDS=${3:-3}
DURATION=${YC_AB_DURATION:-8}
GEN=$B/yc-bench
for b in "$A/yc-gateway" "$B/yc-gateway" "$GEN"; do
    [ -x "$b" ] || { echo "ab.sh: $b is missing" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/yc-ab.XXXXXX")
gw_pid=
cleanup() {
    if [ -n "$gw_pid" ] && kill -0 "$gw_pid" 2>/dev/null; then
        kill "$gw_pid" 2>/dev/null || true
        wait "$gw_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

value() { awk -v k="$1=" '{ for (i = 1; i <= NF; i++) if (index($i, k) == 1) { print substr($i, length(k) + 1); exit } }' <<<"$2"; }

YC_ROOT_USER=ab$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
YC_ROOT_PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export YC_ROOT_USER YC_ROOT_PASSWORD

# run_build DIR LABEL: one measurement of a build; appends "label put_ops put_p99 get_ops get_p99"
run_build() {
    local dir=$1 label=$2 port endpoint put get
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    endpoint=127.0.0.1:$port
    rm -rf "$tmp/data" && mkdir -p "$tmp/data"
    "$dir/yc-gateway" --listen "$endpoint" --data "$tmp/data" >"$tmp/$label.log" 2>&1 &
    gw_pid=$!
    for _ in $(seq 1 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    local k4=(--endpoint "$endpoint" --bucket ab-bench --size 4k --keys 5000 --connections 64)
    "$GEN" "${k4[@]}" --create-bucket --op fill --prefix get- --duration 60 >/dev/null 2>&1
    put=$("$GEN" "${k4[@]}" --op put --prefix put- --duration "$DURATION" --warmup 2 2>/dev/null)
    get=$("$GEN" "${k4[@]}" --op get --prefix get- --verify --duration "$DURATION" --warmup 2 2>/dev/null)
    kill "$gw_pid" && wait "$gw_pid" 2>/dev/null || true
    gw_pid=
    echo "$label $(value ops_s "$put") $(value p99_ms "$put") $(value errors "$put") $(value ops_s "$get") $(value p99_ms "$get") $(value errors "$get")" >>"$tmp/results"
}

: >"$tmp/results"
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) -eq 1 ]; then
        run_build "$A" A
        run_build "$B" B
    else
        run_build "$B" B
        run_build "$A" A
    fi
done

echo "| build | PUT 4 KiB ops/s (rounds) | median | p99 ms (median) | GET 4 KiB ops/s (rounds) | median | p99 ms (median) | errors |"
echo "|---|---|---|---|---|---|---|---|"
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for b in A B; do
    rows=$(grep "^$b " "$tmp/results")
    puts=$(awk '{ printf "%.0f ", $2 }' <<<"$rows")
    gets=$(awk '{ printf "%.0f ", $5 }' <<<"$rows")
    echo "| $b | $puts| $(awk '{ print $2 }' <<<"$rows" | median) | $(awk '{ print $3 }' <<<"$rows" | median) | $gets| $(awk '{ print $5 }' <<<"$rows" | median) | $(awk '{ print $6 }' <<<"$rows" | median) | $(awk '{ s += $4 + $7 } END { print s }' <<<"$rows") |"
done
pa=$(grep "^A " "$tmp/results" | awk '{ print $2 }' | median)
pb=$(grep "^B " "$tmp/results" | awk '{ print $2 }' | median)
ga=$(grep "^A " "$tmp/results" | awk '{ print $5 }' | median)
gb=$(grep "^B " "$tmp/results" | awk '{ print $5 }' | median)
echo
echo "B / A: PUT $(awk -v a="$pa" -v b="$pb" 'BEGIN { printf "%.2f", b / a }'), GET $(awk -v a="$ga" -v b="$gb" 'BEGIN { printf "%.2f", b / a }') (medians of $ROUNDS rounds, ${DURATION} s each; A = $A, B = $B; load $(cut -d' ' -f1-3 /proc/loadavg))"
