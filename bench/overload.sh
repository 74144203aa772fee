#!/usr/bin/env bash
# bench/overload.sh — the gateway under 10x and 100x the load it can serve (issue 11, item 7).
#
# Starts the embedded default (one yc-gateway over 6 drives in a temporary directory, EC 4+2) on a
# free loopback port, fills a key space of 4 KiB objects, then:
#   1. capacity: closed-loop verified 4 KiB GETs at 64 connections — the rate C the gateway serves;
#   2. unloaded: open loop at C/2 on 64 connections — the latency of a gateway with room to spare;
#   3. 10x: open loop at 10 C on YC_OVERLOAD_CONNS_10 connections (default 1000);
#   4. 100x: open loop at 100 C on YC_OVERLOAD_CONNS_100 connections (default 5000).
# For each: the admitted (2xx) requests' p50/p99 against the unloaded p99, the 503 answers and how
# fast they came (shed p50/p99), other errors, arrivals the generator could not send because every
# connection was busy (missed), and the gateway's RSS and peak RSS (VmHWM); after each, whether the
# gateway is still alive. Loopback only; the whole run takes about a minute and a half.
# Besides what the generator sees, the gateway's own time per answer (its access log's duration:
# from the head read to the answer handed to the socket) for admitted GETs and for 503s, and at the
# end its shed counters by reason (/metrics): the generator's latencies include the time a request
# waits in the kernel for the loop to read it, which on a machine shared with the generator is
# mostly the cores' queue.
#
# Results go to bench/results/<date>-overload.md, or -2, -3, ... after an earlier run of the day
# (YC_OVERLOAD_OUT to write elsewhere), with the machine's load before and after: two shared cores
# make every figure depend on what else runs.
# Environment: YC_OVERLOAD_DURATION (seconds per measured step, default 8), YC_OVERLOAD_WARMUP
# (default 2), YC_OVERLOAD_LABEL (what the build is, for the results' title), YC_OVERLOAD_GW_ARGS
# (extra yc-gateway arguments, e.g. "--max-inflight 256" or "--shed-lag-ms 0" for no door),
# YC_OVERLOAD_GEN_NICE (a nice value for the generator, default 0: with 10 it yields the cores to
# the gateway, a rough stand-in for clients on other machines), YC_OVERLOAD_PIN ("GW:GEN", the CPU
# lists given to taskset for the gateway and for the generator, for every step of the run; default
# "0:1" on a machine of two cores or more, "none" for no pinning: a generator sharing the gateway's
# cores takes CPU from it in proportion to the load it offers, so the steps would not measure the
# same gateway).
set -euo pipefail

cd "$(dirname "$0")/.."
. bench/lib.sh
BIN=${BIN:-bin}
DURATION=${YC_OVERLOAD_DURATION:-8}
WARMUP=${YC_OVERLOAD_WARMUP:-2}
CONNS10=${YC_OVERLOAD_CONNS_10:-1000}
CONNS100=${YC_OVERLOAD_CONNS_100:-5000}
LABEL=${YC_OVERLOAD_LABEL:-}
GEN_NICE=${YC_OVERLOAD_GEN_NICE:-0}
OUT=${YC_OVERLOAD_OUT:-$(bench_results_file -overload)}
read -r -a extra_args <<<"${YC_OVERLOAD_GW_ARGS:-}"
PIN=${YC_OVERLOAD_PIN:-}
if [ -z "$PIN" ]; then
    PIN=none
    [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null && PIN=0:1
fi
gw_pin=() gen_pin=()
if [ "$PIN" != none ]; then
    gw_pin=(taskset -c "${PIN%%:*}")
    gen_pin=(taskset -c "${PIN#*:}")
fi

for b in yc-gateway yc-bench; do
    [ -x "$BIN/$b" ] || { echo "overload.sh: $BIN/$b is missing; run make all first" >&2; exit 1; }
done
# thousands of connections: both ends need descriptors (the hard limit is what we may take)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
need=$((CONNS100 + 512))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
    echo "overload.sh: $need descriptors needed, the limit is $(ulimit -n); lower YC_OVERLOAD_CONNS_100" >&2
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/yc-overload.XXXXXX")
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

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
status_port=$(free_port)
endpoint=127.0.0.1:$port
YC_ROOT_USER=bench$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
YC_ROOT_PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
export YC_ROOT_USER YC_ROOT_PASSWORD
mkdir -p "$tmp/data"
"${gw_pin[@]}" "$BIN/yc-gateway" --listen "$endpoint" --data "$tmp/data" --status-listen "127.0.0.1:$status_port" \
    "${extra_args[@]}" >"$tmp/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 1 200); do # up to 20 s
    kill -0 "$gw_pid" 2>/dev/null || { echo "overload.sh: yc-gateway exited:" >&2; cat "$tmp/gateway.log" >&2; exit 1; }
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done

# value KEY LINE: the value of KEY in a key=value line ("" when absent)
value() { awk -v k="$1=" '{ for (i = 1; i <= NF; i++) if (index($i, k) == 1) { print substr($i, length(k) + 1); exit } }' <<<"$2"; }
mem() { awk -v k="$1:" '$1 == k { printf "%.0f", $2 / 1024 }' "/proc/$gw_pid/status" 2>/dev/null || echo "-"; }
alive() { kill -0 "$gw_pid" 2>/dev/null && echo yes || echo NO; }

gen() { # gen -- yc-bench arguments; prints its key=value line
    "${gen_pin[@]}" nice -n "$GEN_NICE" "$BIN/yc-bench" --endpoint "$endpoint" --bucket overload --size 4k --keys 2000 --prefix o4k- \
        "$@" 2>>"$tmp/gen.err" || true
}

# The gateway's own durations (ms) of the access-log lines after line $1: "admitted p50 p99 shed p50 p99"
# ("-" when none). Admitted: GetObject 200; shed: 503 SlowDown.
# The gateway's CPU time so far (user + system, clock ticks): per step, the share of a core it got
# (on a shared machine, what it was given) and its CPU per answer (what it costs, whatever it got).
CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$gw_pid/stat" 2>/dev/null || echo 0; }
cpu_from=0 t_from=0
log_lines() { grep -c '^{' "$tmp/gateway.log" 2>/dev/null || echo 0; }
server_times() {
    grep '^{' "$tmp/gateway.log" | tail -n +"$(($1 + 1))" | awk '
        function dur(line) { match(line, /"duration_ms":[0-9.e+-]+/); return substr(line, RSTART + 14, RLENGTH - 14) + 0 }
        /"status":200/ && /"operation":"GetObject"/ { print "a", dur($0) }
        /"status":503/ { print "s", dur($0) }' | sort -k1,1 -k2,2n | awk '
        { v[$1, ++n[$1]] = $2 }
        function pct(c, p,   i) { if (n[c] == 0) return "-"; i = int(n[c] * p / 100); if (i < 1) i = 1; return sprintf("%.3f", v[c, i]) }
        END { print pct("a", 50), pct("a", 99), pct("s", 50), pct("s", 99) }'
}

rows=$tmp/rows.md
: >"$rows"
unloaded_p99=
# row LABEL RATE LINE [FROM]: one line of the table (FROM: the access-log lines before the step)
row() {
    local label=$1 rate=$2 line=$3 from=${4:-} secs ok shed missed offered errors other ratio sent sp50 sp99 st cpu
    if [ -z "$line" ]; then
        echo "| $label | $rate | no result (the generator failed) | | | | | | | | | | | | | $(alive) |" >>"$rows"
        return
    fi
    st="- - - -"
    [ -n "$from" ] && st=$(server_times "$from")
    read -r st_a50 st_a99 st_s50 st_s99 <<<"$st"
    secs=$(value secs "$line")
    ok=$(value ops "$line")
    shed=$(value shed "$line")
    shed=${shed:-0}
    missed=$(value missed "$line")
    offered=$(value offered "$line")
    errors=$(value errors "$line")
    other=$((errors - shed))
    sp50=$(value shed_p50_ms "$line")
    sp99=$(value shed_p99_ms "$line")
    # CPU share of the step's wall time (warm-up included) and CPU microseconds per answer (2xx + 503)
    cpu=$(awk -v t="$(cpu_ticks)" -v f="$cpu_from" -v hz="$CLK_TCK" -v t0="$t_from" -v t1="$(date +%s.%N)" \
        -v s="$secs" -v n="$((ok + shed))" 'BEGIN { c = (t - f) / hz; w = t1 - t0;
            if (w <= 0 || n <= 0) { print "- | -"; exit }
            printf "%.0f%% | %.0f", 100 * c / w, c * (s / w) / n * 1e6 }')
    sent=$(awk -v o="${offered:-}" -v m="${missed:-0}" -v s="$secs" 'BEGIN { if (o == "" || s <= 0) print "-"; else printf "%.0f", (o - m) / s }')
    ratio=$(awk -v p="$(value p99_ms "$line")" -v u="$unloaded_p99" 'BEGIN { if (u > 0 && p > 0) printf "%.1fx", p / u; else print "-" }')
    printf '| %s | %s | %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s MiB / %s MiB | %s | %s |\n' \
        "$label" "$rate" "$sent" "$(value conns "$line")" "$(awk -v o="$ok" -v s="$secs" 'BEGIN { print (s > 0 ? o / s : 0) }')" \
        "$(value p50_ms "$line")" "$(value p99_ms "$line")" "$ratio" \
        "$(awk -v n="$shed" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')" \
        "${sp50:--} / ${sp99:--}" "$st_a50 / $st_a99" "$st_s50 / $st_s99" \
        "$other" "${missed:--}${offered:+ of $offered}" "$(value max_ms "$line")" "$(mem VmRSS)" "$(mem VmHWM)" \
        "$(alive)" "$cpu" >>"$rows"
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
top_start=$(ps -eo pcpu,comm --sort=-pcpu | sed -n '2,6p' | awk '{ printf "%s %s%%, ", $2, $1 }')
echo "== populate" >&2
# a fill on a shared machine may itself be shed (503): fill again until every key is there
for attempt in 1 2 3 4 5; do
    fill_line=$(gen --create-bucket --op fill --connections 8 --duration 60)
    [ "$(value errors "$fill_line")" = 0 ] && break
    echo "populate: attempt $attempt had errors ($(value errors "$fill_line")); again" >&2
    sleep 1
done
d=(--duration "$DURATION" --warmup "$WARMUP")

echo "== capacity" >&2
from=$(log_lines) cpu_from=$(cpu_ticks) t_from=$(date +%s.%N)
cap_line=$(gen --op get --verify --connections 64 "${d[@]}")
echo "$cap_line" >&2
cap=$(value ops_s "$cap_line")
cap=${cap%.*}
[ -n "$cap" ] && [ "$cap" -gt 0 ] || { echo "overload.sh: no capacity measured" >&2; exit 1; }
row "capacity (closed loop)" "-" "$cap_line" "$from"

echo "== unloaded: $((cap / 2)) requests/s" >&2
from=$(log_lines) cpu_from=$(cpu_ticks) t_from=$(date +%s.%N)
line=$(gen --op get --verify --connections 64 --threads 1 --rate $((cap / 2)) "${d[@]}")
echo "$line" >&2
unloaded_p99=$(value p99_ms "$line")
row "unloaded (C/2)" $((cap / 2)) "$line" "$from"

echo "== 10x: $((cap * 10)) requests/s on $CONNS10 connections" >&2
from=$(log_lines) cpu_from=$(cpu_ticks) t_from=$(date +%s.%N)
line=$(gen --op get --verify --connections "$CONNS10" --threads 2 --rate $((cap * 10)) --timeout 10 "${d[@]}")
echo "$line" >&2
row "10x" $((cap * 10)) "$line" "$from"

echo "== 100x: $((cap * 100)) requests/s on $CONNS100 connections" >&2
from=$(log_lines) cpu_from=$(cpu_ticks) t_from=$(date +%s.%N)
line=$(gen --op get --verify --connections "$CONNS100" --threads 2 --rate $((cap * 100)) --timeout 10 "${d[@]}")
echo "$line" >&2
row "100x" $((cap * 100)) "$line" "$from"

echo "== after: a closed-loop run at 64 connections" >&2
from=$(log_lines) cpu_from=$(cpu_ticks) t_from=$(date +%s.%N)
line=$(gen --op get --verify --connections 64 --duration 3 --warmup 1)
row "after (closed loop)" "-" "$line" "$from"
shed_counts=$(curl -s "http://127.0.0.1:$status_port/metrics" 2>/dev/null | awk '/^yc_requests_shed_total/ { printf "%s%s", sep, $0; sep = ", " }')
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

survived="yes (running at the end)"
kill -0 "$gw_pid" 2>/dev/null || survived="NO: the gateway died"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain 2>/dev/null)" ] && commit="$commit (with uncommitted changes)"
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)

mkdir -p "$(dirname "$OUT")"
{
    echo "# Overload: 4 KiB GETs at 10x and 100x capacity — $(date +%F)${LABEL:+ ($LABEL)}"
    echo
    echo "Build $commit; yc-gateway embedded default (2 loops, EC 4+2 over 6 drives in a temporary directory)" \
        "${extra_args[*]:+with ${extra_args[*]}}; $(nproc) cores ($cpu), generator on the same machine" \
        "(bin/yc-bench, 1-2 threads). Load average (1/5/15 min) before: $load_start; after: $load_end." \
        "Busiest processes at the start: ${top_start%, }." \
        "$([ "$PIN" = none ] && echo "No pinning." || echo "Pinned for every step: gateway on CPU ${PIN%%:*}, generator on CPU ${PIN#*:} (taskset).")"
    echo
    echo "C = the closed-loop capacity at 64 connections. Open-loop steps start requests at the rate given" \
        "on idle connections; an arrival finding every connection busy is not sent (missed), so sent/s is what
reached the gateway (bounded by connections / latency, and by the generator's share of the cores). p50/p99 are of" \
        "the admitted (2xx, verified) requests, the ratio against the unloaded p99; shed = 503 answers per" \
        "second and their latency; other errors = neither 2xx nor 503 (network errors, timeouts included)."
    echo
    echo "Columns \"gateway ms\" are the gateway's own time per answer (access log: from the head read to the answer" \
        "handed to the socket), p50 / p99, for the admitted GETs and for the 503s. \"gateway CPU share\" is the" \
        "gateway's CPU time (user + system) over the step's wall time, warm-up included (100% = one core);" \
        "\"CPU µs per answer\" that CPU time, prorated to the measured seconds, over the answers (2xx and 503)."
    echo
    echo "| step | offered/s | sent/s | conns | admitted/s | p50 ms | p99 ms | p99 / unloaded | shed/s | shed p50 / p99 ms | gateway ms admitted | gateway ms shed | other errors | missed | max ms | RSS / peak | alive | gateway CPU share | CPU µs per answer |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    cat "$rows"
    echo
    echo "Gateway survived: $survived. Peak RSS $(mem VmHWM) MiB. Generator niceness: $GEN_NICE."
    echo
    echo "Shed by reason over the whole run (/metrics): ${shed_counts:-not read}."
    if [ -s "$tmp/gen.err" ]; then
        echo
        echo "Generator notes (first lines):"
        echo
        sort "$tmp/gen.err" | uniq -c | sort -rn | head -8 | sed 's/^/    /'
    fi
} >"$tmp/out.md"
if [ -f "$OUT" ] && grep -q '^<!-- analysis -->' "$OUT"; then
    sed -n '/^<!-- analysis -->/,$p' "$OUT" >>"$tmp/out.md.tail"
    { cat "$tmp/out.md"; echo; cat "$tmp/out.md.tail"; } >"$OUT"
else
    cp "$tmp/out.md" "$OUT"
fi
cat "$OUT"
