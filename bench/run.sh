#!/usr/bin/env bash
# bench/run.sh — the standard benchmark matrix; `make bench` runs it after building everything.
#
# Starts the embedded default (one yc-gateway over 6 drives in a temporary directory, EC 4+2) on a
# free loopback port, then runs:
#   1. the erasure micro-benchmark (bin/ec_bench) and the SM4-CTR one (bin/sm4_bench);
#   2. 4 KiB objects at 64 connections: populate, PUT, GET (verified), a 70/30 GET/PUT mix;
#   3. 64 MiB objects: populate, PUT and GET (verified) at 4 and 8 connections (PUT also at 1), and at 4 connections
#      encrypted with SSE-S3 and with SM4 (server-side encryption);
#   4. references: the generator's own ceiling (signed requests with an unknown key, answered 403
#      without touching a drive) and, when wrk is installed, wrk on an anonymous GET (also a 403):
#      what the HTTP layer costs before any S3 work.
#   5. bench/versions.sh on a fresh gateway of its own (this one stopped first): listings and 4 KiB
#      PUT/GET with version history and delete markers, into bench/results/<date>-versions.md
#      (YC_BENCH_VERSIONS=0 skips it, YC_VERSIONS_SHORT=1 runs its quick check instead; 5-12 min).
# Results go to bench/results/<date>.md (and stdout); when a run of the same day already wrote that
# file, to <date>-2.md, -3, ...: a results file is never overwritten.
#
# Environment: YC_BENCH_DURATION (seconds per measured test, default 10), YC_BENCH_WARMUP (default
# 2), YC_BENCH_PERF=1 to profile the gateway with perf during each measured test (reports go to
# the results file), YC_BENCH_OUT to write somewhere else. The whole run takes about 3 minutes.
set -euo pipefail

cd "$(dirname "$0")/.."
. bench/lib.sh
BIN=${BIN:-bin}
DURATION=${YC_BENCH_DURATION:-10}
WARMUP=${YC_BENCH_WARMUP:-2}
PERF=${YC_BENCH_PERF:-0}
TRANSPORT=${YC_BENCH_TRANSPORT:-local} # network: the gateway reaches its 6 drives through 3 yc-store daemons
if [ "$TRANSPORT" = network ]; then
    OUT=${YC_BENCH_OUT:-$(bench_results_file -network)}
else
    OUT=${YC_BENCH_OUT:-$(bench_results_file "")}
fi

for b in yc-gateway yc-bench ec_bench; do
    [ -x "$BIN/$b" ] || { echo "run.sh: $BIN/$b is missing; run make all first" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/yc-bench.XXXXXX")
gw_pid=
store_pids=()
cleanup() {
    for p in "${store_pids[@]}"; do kill "$p" 2>/dev/null || true; done
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
gw_args=(--listen "$endpoint" --data "$tmp/data")
mkdir -p "$tmp/data"
if [ "$TRANSPORT" = network ]; then
    YC_CLUSTER_SECRET=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    export YC_CLUSTER_SECRET
    drives=
    for n in 1 2 3; do
        mkdir -p "$tmp/store$n"
        sport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        "$BIN/yc-store" --listen 127.0.0.1:$sport --drive a="$tmp/store$n/a" --drive b="$tmp/store$n/b" \
            >"$tmp/store$n.log" 2>&1 &
        store_pids+=($!)
        for _ in $(seq 1 100); do
            (exec 3<>"/dev/tcp/127.0.0.1/$sport") 2>/dev/null && break
            sleep 0.1
        done
        drives="$drives 127.0.0.1:$sport/a 127.0.0.1:$sport/b"
    done
    gw_args+=(--drives-list "${drives# }")
fi
"$BIN/yc-gateway" "${gw_args[@]}" >"$tmp/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 1 200); do # up to 20 s
    kill -0 "$gw_pid" 2>/dev/null || { echo "run.sh: yc-gateway exited:" >&2; cat "$tmp/gateway.log" >&2; exit 1; }
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "run.sh: yc-gateway is not listening" >&2; exit 1; }

rows=$tmp/rows.md     # the results table
perf_md=$tmp/perf.md  # profiles, with YC_BENCH_PERF=1
notes=$tmp/notes.md   # failures worth a line under the table
: >"$rows"
: >"$perf_md"
: >"$notes"

# value KEY LINE: the value of KEY in a key=value line
value() { awk -v k="$1=" '{ for (i = 1; i <= NF; i++) if (index($i, k) == 1) { print substr($i, length(k) + 1); exit } }' <<<"$2"; }

# bench LABEL TARGET -- yc-bench arguments. TARGET is "ops>=N", "mib>=N" or "-"; the 4 KiB targets also
# require p99 < 20 ms. Prints the key=value line and appends a row to the table.
bench() {
    local label=$1 target=$2 line met="" perf_pid="" status=0
    shift 3
    echo "== $label" >&2
    if ! kill -0 "$gw_pid" 2>/dev/null; then
        echo "| $label | not run: the gateway had exited | | | | | | | | | | | |" >>"$rows"
        return
    fi
    if [ "$PERF" = 1 ] && [ "$target" != "-" ] && command -v perf >/dev/null; then
        (sleep "$WARMUP" && exec perf record -q -g -p "$gw_pid" -o "$tmp/perf.data" -- sleep 5) >/dev/null 2>&1 &
        perf_pid=$!
    fi
    line=$("$BIN/yc-bench" --endpoint "$endpoint" --bucket bench "$@" 2>"$tmp/err") || status=$?
    [ -s "$tmp/err" ] && sed 's/^/   /' "$tmp/err" >&2
    echo "$line"
    if [ -n "$perf_pid" ]; then
        wait "$perf_pid" || true
        {
            echo "### $label"
            echo
            echo '```'
            perf report -i "$tmp/perf.data" --stdio --no-children -g none --sort dso,symbol 2>/dev/null |
                grep -E '^ +[0-9.]+%' | head -40 || echo "(no profile: perf record failed)"
            echo '```'
            echo
        } >>"$perf_md"
    fi
    if [ -z "$line" ]; then
        echo "| $label | failed to run (exit $status) | | | | | | | | | |" >>"$rows"
        return
    fi
    local ops mib p99 errors
    ops=$(value ops_s "$line")
    mib=$(value mib_s "$line")
    p99=$(value p99_ms "$line")
    errors=$(value errors "$line")
    case $target in
    ops\>=*) met=$(awk -v v="$ops" -v t="${target#ops>=}" -v p="$p99" 'BEGIN { print (v >= t && p < 20) ? "yes" : "no" }') ;;
    mib\>=*) met=$(awk -v v="$mib" -v t="${target#mib>=}" 'BEGIN { print (v >= t) ? "yes" : "no" }') ;;
    esac
    [ "$target" = "-" ] && target="" || target=${target/ops>=/≥ }
    target=${target/mib>=/≥ }
    [ -n "$target" ] && case $label in *4\ KiB*) target="$target ops/s, p99 < 20 ms" ;; *) target="$target MiB/s" ;; esac
    if [ "${errors:-0}" != 0 ]; then
        local detail
        detail=$(tr ' ' '\n' <<<"$line" | grep -E '^(status_[^2]|slowdown|neterr|timeouts|verify_fail|unfinished)' |
            grep -v '=0$' | tr '\n' ' ' || true)
        echo "- $label: $errors errors ($detail) $(tr '\n' ' ' <"$tmp/err")" >>"$notes"
    fi
    # rates below 100 ops/s (large objects) keep a decimal
    ops=$(awk -v v="$ops" 'BEGIN { printf (v < 100 ? "%.1f" : "%.0f"), v }')
    printf '| %s | %s | %s | %s | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f | %s | %s | %s |\n' "$label" "$(value conns "$line")" \
        "$(value threads "$line")" "$ops" "$mib" "$(value p50_ms "$line")" "$(value p90_ms "$line")" "$p99" \
        "$(value p999_ms "$line")" "$(value max_ms "$line")" "$errors" "$target" "$met" >>"$rows"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "== erasure micro-benchmark (bin/ec_bench)" >&2
"$BIN/ec_bench" >"$tmp/ec.txt"
ec42=$(awk -F'|' '/^\| 4\+2 \| 262144/ { gsub(/ /, "", $4); print $4; exit }' "$tmp/ec.txt")
echo "== SM4-CTR micro-benchmark (bin/sm4_bench)" >&2
"$BIN/sm4_bench" 64 3 >"$tmp/sm4.txt" 2>&1 || echo "(sm4_bench failed)" >>"$tmp/sm4.txt"

d=(--duration "$DURATION" --warmup "$WARMUP")
k4=(--size 4k --keys 5000)
bench "populate 4 KiB" - -- --create-bucket --op fill "${k4[@]}" --prefix get4k- --connections 64 --duration 60 >/dev/null
bench "PUT 4 KiB" "ops>=3000" -- --op put "${k4[@]}" --prefix put4k- --connections 64 "${d[@]}" >/dev/null
bench "GET 4 KiB" "ops>=20000" -- --op get "${k4[@]}" --prefix get4k- --connections 64 --verify "${d[@]}" >/dev/null
bench "GET 70 % / PUT 4 KiB" - -- --op mixed --get-percent 70 "${k4[@]}" --prefix get4k- --connections 64 --verify \
    --duration $(((DURATION + 1) / 2)) --warmup 1 >/dev/null
k64=(--size 64m --keys 8)
bench "populate 64 MiB" - -- --op fill "${k64[@]}" --prefix get64m- --connections 4 --duration 60 >/dev/null
bench "PUT 64 MiB" "mib>=400" -- --op put "${k64[@]}" --prefix put64m- --connections 4 "${d[@]}" >/dev/null
bench "GET 64 MiB" "mib>=800" -- --op get "${k64[@]}" --prefix get64m- --connections 4 --verify "${d[@]}" >/dev/null
bench "PUT 64 MiB, 8 conns" "mib>=400" -- --op put "${k64[@]}" --prefix put64m- --connections 8 "${d[@]}" >/dev/null
# one client uploading alone: its body, hashes and writes are one request's pipeline (issue 11)
bench "PUT 64 MiB, 1 conn" "mib>=400" -- --op put "${k64[@]}" --prefix put64m- --connections 1 "${d[@]}" >/dev/null
bench "GET 64 MiB, 8 conns" "mib>=800" -- --op get "${k64[@]}" --prefix get64m- --connections 8 --verify "${d[@]}" >/dev/null
# server-side encryption (gateway/gw_sse.h): the same 64 MiB PUT and GET encrypted with SSE-S3
# (AES-256-GCM) and SM4 (SM4-GCM); the targets are 0.8x the plaintext targets above
for sse in AES256 SM4; do
    bench "populate 64 MiB $sse" - -- --op fill "${k64[@]}" --prefix get64m-$sse- --sse $sse --connections 4 \
        --duration 60 >/dev/null
    bench "PUT 64 MiB $sse" "mib>=320" -- --op put "${k64[@]}" --prefix put64m-$sse- --sse $sse --connections 4 \
        "${d[@]}" >/dev/null
    bench "GET 64 MiB $sse" "mib>=640" -- --op get "${k64[@]}" --prefix get64m-$sse- --connections 4 --verify \
        "${d[@]}" >/dev/null
done

# References. The generator's ceiling: the unknown access key is answered 403 before any drive work.
echo "== references" >&2
ref=""
kill -0 "$gw_pid" 2>/dev/null && ref=$(YC_ROOT_USER=nosuchkey YC_ROOT_PASSWORD=nosuchsecret "$BIN/yc-bench" --endpoint "$endpoint" --bucket bench \
    --op get --size 4k --connections 64 --duration 5 2>/dev/null || true)
ref_gen_rate=$(awk -v n="$(value errors "$ref")" 'BEGIN { printf "%.0f", n / 5 }')
ref_wrk="not measured (wrk is not installed)"
if command -v wrk >/dev/null && kill -0 "$gw_pid" 2>/dev/null; then
    ref_wrk=$(wrk -t1 -c64 -d5s "http://$endpoint/bench/get4k-0" 2>/dev/null | awk '/Requests\/sec/ { printf "%.0f", $2 }' ||
        true)
    ref_wrk="$ref_wrk requests/s"
fi
gw_alive=0
gw_state="DIED during the run (see the log excerpt below)"
if kill -0 "$gw_pid" 2>/dev/null; then
    gw_alive=1
    gw_state="running, peak RSS $(awk '/VmHWM/ { printf "%.0f MiB", $2 / 1024 }' "/proc/$gw_pid/status")"
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain 2>/dev/null)" ] && commit="$commit (with uncommitted changes)"
mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
os=$(sed -n 's/^PRETTY_NAME="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' /etc/os-release 2>/dev/null || true)
started=$(grep -m1 'event=started' "$tmp/gateway.log" | sed 's/^time=[^ ]* level=[^ ]* //' || true)

mkdir -p "$(dirname "$OUT")"
{
    echo "# yuncang benchmark — $(date +%F)"
    echo
    echo "- Date: $(date -u +'%F %T UTC'); commit $commit"
    echo "- Machine: $cpu, $(nproc) cores, $mem, kernel $(uname -r), $os"
    echo "- Load average (1, 5, 15 min): $load_start at the start, $load_end at the end; above ~1.5 other work"
    echo "  shared the two cores and the figures are low"
    echo "- Binaries: \`$BIN/\` (yc-gateway built $(date -r "$BIN/yc-gateway" +'%F %T'))"
    if [ "$TRANSPORT" = network ]; then
        echo "- Gateway: over 3 \`yc-store\` daemons of 2 drives each on this host (network transport, loopback), $started"
    else
        echo "- Gateway: \`yc-gateway ${gw_args[*]/$tmp/<tmp>}\` (embedded default), $started"
    fi
    echo "- Generator: \`yc-bench\`, 1 thread, on the same machine; HTTP/1.1 keep-alive over loopback, SigV4"
    echo "  header auth, PUT bodies UNSIGNED-PAYLOAD, GET bodies verified byte-exact. ${DURATION} s measured after ${WARMUP} s"
    echo "  of warm-up; latency in ms from the first byte sent to the last byte received, successful requests only."
    echo "- Targets: 4 KiB GET ≥ 20,000 ops/s, 4 KiB durable PUT ≥ 3,000 ops/s, p99 < 20 ms at 64 connections;"
    echo "  64 MiB GET ≥ 800 MiB/s, 64 MiB PUT ≥ 400 MiB/s."
    echo
    echo "| test | conns | threads | ops/s | MiB/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors | target | met |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    cat "$rows"
    echo
    if [ -s "$notes" ]; then
        echo "Errors:"
        echo
        cat "$notes"
        echo
    fi
    echo "References:"
    echo
    echo "- Erasure encode, 4+2, 1 MiB stripes, one core: ${ec42:-?} GB/s (bin/ec_bench; full output below)."
    echo "- Generator ceiling (signed GETs with an unknown key, 403 before any drive work, 64 connections): $ref_gen_rate requests/s."
    echo "- wrk, anonymous GET (403 before any drive work), 1 thread, 64 connections: $ref_wrk."
    echo "- Gateway after the run: $gw_state."
    echo
    if [ "$gw_alive" = 0 ]; then
        echo '```'
        tail -20 "$tmp/gateway.log"
        echo '```'
        echo
    fi
    if [ -s "$perf_md" ]; then
        echo "## Gateway profiles (perf, 5 s per test, self time by library and symbol)"
        echo
        cat "$perf_md"
    fi
    echo "<details><summary>bin/sm4_bench output (SM4-CTR per path, one core)</summary>"
    echo
    cat "$tmp/sm4.txt"
    echo
    echo "</details>"
    echo
    echo "<details><summary>bin/ec_bench output</summary>"
    echo
    cat "$tmp/ec.txt"
    echo
    echo "</details>"
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
sed -n '/^| test/,/^$/p' "$OUT"
sed -n '/^References:/,/^- Gateway after/{/^$/d;p}' "$OUT"
echo "results: $OUT"

if [ "${YC_BENCH_VERSIONS:-1}" = 1 ] && [ "$TRANSPORT" = local ]; then
    cleanup # its own fresh gateway: this one must not hold the drives' cache or the cores
    bench/versions.sh >/dev/null
fi
