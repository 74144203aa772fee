#!/usr/bin/env bash
# bench/sse.sh — the cost of server-side encryption: 64 MiB PUT and GET in plaintext, SSE-S3
# (AES-256-GCM) and SM4 (SM4-GCM) against one gateway in the same run, the rows of bench/run.sh.
#
#   bench/sse.sh [DIR] [ROUNDS]
#
# DIR holds a yc-gateway and a yc-bench (default bin). Starts the embedded default (6 drives in a
# fresh temporary folder, EC 4+2), fills 8 keys of 64 MiB in each mode, then runs ROUNDS rounds
# (default 1) of PUT plaintext, AES256, SM4 and GET plaintext, AES256, SM4 at 4 connections (YC_SSE_CONNS),
# YC_SSE_DURATION seconds each (default 10, after 1 s of warm-up). Prints one line a row: the
# yc-bench line, the ratio to the plaintext row of the same round, and the gateway's CPU seconds
# per GiB answered (utime + stime of the process over the row, warm-up included, divided by the
# bytes of the requests answered), and the same for the client (yc-bench, which verifies GETs), the
# cores the gateway kept busy over the row (its CPU seconds over the row's seconds: well below 2
# with little else running means it waited on something), and the machine's direct reclaims and
# compaction stalls during the row. The CPU per GiB moves much less than throughput when other
# processes share the cores: compare the ratios of the same round, and the CPU per GiB across runs.
# YC_SSE_ROWS (e.g. "put:SM4 get:AES256") runs only the rows named (op:mode, mode none, AES256 or
# SM4; the ratio is then to the plaintext row only when that row ran first); YC_SSE_PERF=PREFIX
# records the gateway with perf during each row into PREFIX.<op>.<mode>.<round>; YC_SSE_STAT=1 adds
# the gateway's context switches, CPU migrations and page faults over the row (perf stat) per GiB.
#
# Before the rounds, the PUT rows' keys are written once in each mode (YC_SSE_PRIME=0: not), and a
# "# prime" line tells the gateway's CPU per GiB of that pass. Without it round 1's PUT rows write
# new keys while the later rounds replace them: round 1 then grows the page cache by the 8 keys'
# shards in each mode (96 MiB a key) and the later rounds reuse its pages. On a virtual machine
# whose memory the host backs only when the guest first touches it (and takes back when the guest
# frees it: free page reporting, a DAMON pageout of cold pages), that growth is paid where it lands,
# in the kernel's copy of the shards into fresh page-cache pages, at 5-10 s per GiB touched (2-3x a
# row's whole cost): whichever row ran out of pages the host still backed measured that, not its
# mode (the 2026-12-07 outliers of the encrypted PUT rows in round 1: bench/results/2026-12-07-sse-3round.md).
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${1:-bin}
ROUNDS=${2:-1}
DURATION=${YC_SSE_DURATION:-10}
CONNS=${YC_SSE_CONNS:-4} # the rows' connections (the fills use 4)

. bench/lib.sh
bench_tmp yc-sse-bench
port=$(bench_free_port)
endpoint=127.0.0.1:$port
bench_root_keys
mkdir -p "$tmp/data"
bench_gateway_start "$port" "$BIN/yc-gateway" --listen "$endpoint" --data "$tmp/data"

tck=$(getconf CLK_TCK)
cpu() { awk -v t="$tck" '{ print ($14 + $15) / t }' "/proc/$gw_pid/stat"; }
# the machine's direct reclaims and compaction stalls so far: a row that burns CPU for little work
# while they climb met memory pressure (any process's), not a fault of its own
stalls() { awk '/^allocstall_|^compact_stall / { n += $2 } END { print n + 0 }' /proc/vmstat; }
value() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k { print $2 }'; }
bench() { "$BIN/yc-bench" --endpoint "$endpoint" --bucket bench --size 64m --keys 8 --connections 4 "$@"; }

wanted() { [ -z "${YC_SSE_ROWS:-}" ] || [[ " $YC_SSE_ROWS " == *" $1 "* ]]; }
bench --create-bucket --op fill --prefix get- --duration 120 --keys "$(wanted get:none && echo 8 || echo 1)" >/dev/null || true
for sse in AES256 SM4; do
    wanted "get:$sse" || continue
    bench --op fill --prefix get-$sse- --sse $sse --duration 120 >/dev/null || true
done
# the PUT rows' keys, once, so every round replaces objects as round 2 does (see the header)
if [ "${YC_SSE_PRIME:-1}" != 0 ]; then
    for sse in none AES256 SM4; do
        wanted "put:$sse" || continue
        c0=$(cpu)
        [ "$sse" = none ] && sse_args=() || sse_args=(--sse "$sse")
        bench --op fill --prefix "put-$sse-" "${sse_args[@]}" --duration 120 >/dev/null || true
        printf '# prime put %s gw_cpu_s_per_gib=%s\n' "$sse" "$(awk -v a="$c0" -v b="$(cpu)" 'BEGIN { printf "%.3f", (b - a) / 0.5 }')"
    done
fi
echo "# $(date -u +%FT%TZ) build $(git rev-parse --short HEAD 2>/dev/null || echo ?) load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
    for op in put get; do
        base=
        for sse in none AES256 SM4; do
            wanted "$op:$sse" || continue
            args=(--op "$op" --duration "$DURATION" --warmup 1)
            if [ "$op" = put ]; then
                args+=(--prefix "put-$sse-")
                [ "$sse" != none ] && args+=(--sse "$sse")
            else
                args+=(--verify)
                [ "$sse" = none ] && args+=(--prefix get-) || args+=(--prefix "get-$sse-")
            fi
            perf_pid=
            if [ -n "${YC_SSE_PERF:-}" ]; then
                perf record -q -g -F 999 -p "$gw_pid" -o "$YC_SSE_PERF.$op.$sse.$round" >/dev/null 2>&1 &
                perf_pid=$!
            fi
            stat_pid=
            if [ -n "${YC_SSE_STAT:-}" ]; then
                perf stat -x, -e context-switches,cpu-migrations,page-faults -p "$gw_pid" -o "$tmp/stat" >/dev/null 2>&1 &
                stat_pid=$!
            fi
            c0=$(cpu)
            v0=$(stalls)
            t0=$(date +%s.%N)
            line=$(/usr/bin/time -f '%U %S' -o "$tmp/client" "$BIN/yc-bench" --endpoint "$endpoint" --bucket bench \
                --size 64m --keys 8 --connections "$CONNS" "${args[@]}") || true # a row with errors still prints its line
            c1=$(cpu)
            t1=$(date +%s.%N)
            v1=$(stalls)
            if [ -n "$perf_pid" ]; then
                kill -INT "$perf_pid" && wait "$perf_pid" || true
            fi
            stat=
            if [ -n "$stat_pid" ]; then
                kill -INT "$stat_pid" && wait "$stat_pid" || true
                answered_=$(value answered "$line")
                stat=$(awk -F, -v n="${answered_:-0}" '$3 ~ /^[a-z-]+$/ && n > 0 { printf " %s_per_gib=%.0f", $3, $1 / (n / 16) }' "$tmp/stat")
            fi
            mib=$(value mib_s "$line")
            answered=$(value answered "$line")
            [ -z "$base" ] && base=$mib
            client=$(tail -n 1 "$tmp/client" | awk '{ print $1 + $2 }') # the last line: time notes a failed exit first
            printf '%s 64 MiB %s round=%s ratio=%s gw_cpu_s_per_gib=%s client_cpu_s_per_gib=%s gw_cores=%s mem_stalls=%s load=%s%s | %s\n' \
                "${op^^}" "$sse" "$round" \
                "$(awk -v a="$mib" -v b="$base" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')" \
                "$(awk -v a="$c0" -v b="$c1" -v n="$answered" 'BEGIN { printf "%.3f", (n > 0 ? (b - a) / (n / 16) : 0) }')" \
                "$(awk -v c="$client" -v n="$answered" 'BEGIN { printf "%.3f", (n > 0 ? c / (n / 16) : 0) }')" \
                "$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%.2f", (e > s ? (b - a) / (e - s) : 0) }')" \
                "$((v1 - v0))" \
                "$(cut -d' ' -f1 /proc/loadavg)" "$stat" "$line"
        done
    done
done
