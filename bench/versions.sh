#!/usr/bin/env bash
# bench/versions.sh — what version history costs listings and small PUT/GET (issue 12, "Compatibility
# and cost").
#
# Starts a fresh embedded default (one yc-gateway over 6 drives in a temporary directory, EC 4+2) the
# way bench/run.sh does, builds four buckets and measures them in the same run:
#   a. `plain`    (never versioned): 1,000 keys of 4 KiB — the baseline;
#   b. `versioned` (Enabled): the same 1,000 keys, each PUT 10 times (10 versions per key);
#   c. `markers`  (Enabled): 100,000 keys dm-0 .. dm-99999 of 16 bytes PUT then DELETEd (a delete
#      marker on top of each), beside 1,000 live keys live-0 .. live-999 of 4 KiB. "bucket" lists the
#      bucket's current objects (the first page walks past every marker to the 1,000 live keys, which
#      sort after them); "prefix" lists prefix dm- (100,000 markers, an empty page);
#   d. 4 KiB PUT (into buckets of their own) and GET (of a's and b's keys) at 64 connections and at 1,
#      unversioned against versioned.
# ListObjectsV2 pages of 1,000 run at 1 connection. Every figure is taken ROUNDS times (default 3),
# interleaved, so a ratio compares figures taken seconds apart on a shared machine; the results file
# gives each ratio's median and spread (min-max) over the rounds, with the gateway's CPU time per
# request (it moves much less than requests per second with what else the machine runs).
# Targets (issue 12): b and c within 2x of a (ms per page); versioned 4 KiB PUT/GET within 10 % of
# unversioned (ops/s).
#
# The two listings behind the markers are measured over YC_VERSIONS_SLOW_PAGES pages (default 2) each
# round instead of seconds: one page may take longer than a window.
# Environment: YC_BENCH_DURATION (seconds per measured test, default 5), YC_BENCH_WARMUP (1),
# YC_VERSIONS_ROUNDS (3), YC_VERSIONS_MARKERS (100000), YC_VERSIONS_SHORT=1 (a quick check: one round
# of 1 s, 2,000 markers, 3 versions per key; its figures mean nothing), YC_BENCH_PERF=1 (after the
# rounds, profile the gateway with perf while it serves each listing case; reports go to the results
# file), YC_VERSIONS_KEEP=DIR (keep the drives there, and the root keys in DIR.env), YC_BENCH_OUT (results file, default bench/results/<date>-versions.md, or -2, -3, ... when a run of the day wrote it; the short mode writes
# only to stdout unless it is set).
set -euo pipefail

cd "$(dirname "$0")/.."
. bench/lib.sh
BIN=${BIN:-bin}
DURATION=${YC_BENCH_DURATION:-5}
WARMUP=${YC_BENCH_WARMUP:-1}
ROUNDS=${YC_VERSIONS_ROUNDS:-3}
MARKERS=${YC_VERSIONS_MARKERS:-100000}
SLOW_PAGES=${YC_VERSIONS_SLOW_PAGES:-2}
VERSIONS=10
PERF=${YC_BENCH_PERF:-0}
KEYS=1000
SHORT=${YC_VERSIONS_SHORT:-0}
OUT=${YC_BENCH_OUT:-$(bench_results_file -versions)}
if [ "$SHORT" = 1 ]; then
    DURATION=1 WARMUP=0 ROUNDS=1 MARKERS=2000 VERSIONS=3 SLOW_PAGES=1
    OUT=${YC_BENCH_OUT:-}
fi

for b in yc-gateway yc-bench; do
    [ -x "$BIN/$b" ] || { echo "versions.sh: $BIN/$b is missing; run make all first" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/yc-versions.XXXXXX")
gw_pid=
cleanup() {
    if [ -n "$gw_pid" ] && kill -0 "$gw_pid" 2>/dev/null; then
        kill "$gw_pid" 2>/dev/null || true
        wait "$gw_pid" 2>/dev/null || true
    fi
    # the drives, for a closer look (a profiler over a gateway started on them again)
    if [ -n "${YC_VERSIONS_KEEP:-}" ] && [ -d "$tmp/data" ] && [ ! -e "$YC_VERSIONS_KEEP" ]; then
        mv "$tmp/data" "$YC_VERSIONS_KEEP"
        printf 'YC_ROOT_USER=%s\nYC_ROOT_PASSWORD=%s\n' "$YC_ROOT_USER" "$YC_ROOT_PASSWORD" >"$YC_VERSIONS_KEEP.env"
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
mkdir -p "$tmp/data"
# the door is off: this measures what a request costs, not how the gateway sheds a busy machine's load
"$BIN/yc-gateway" --listen "$endpoint" --data "$tmp/data" --shed-lag-ms 0 >"$tmp/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 1 200); do
    kill -0 "$gw_pid" 2>/dev/null || { echo "versions.sh: yc-gateway exited:" >&2; cat "$tmp/gateway.log" >&2; exit 1; }
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
load_start=$(uptime)

value() { awk -v k="$1=" '{ for (i = 1; i <= NF; i++) if (index($i, k) == 1) { print substr($i, length(k) + 1); exit } }' <<<"$2"; }

ybench() { "$BIN/yc-bench" --endpoint "$endpoint" "$@"; }

# setup BUCKET ARGS...: one yc-bench run that builds a bucket's contents; any failed request stops the
# script (a figure over a half-built bucket would say nothing)
setup() {
    local what=$1 line
    shift
    echo "== setup: $what" >&2
    line=$(ybench "$@") || { echo "versions.sh: setup '$what' failed: $line" >&2; exit 1; }
    echo "$what: $line" >>"$tmp/setup.txt"
}

# py STEP: bucket configuration and checks through Debian's python3-boto3 in a clean environment
py() {
    env -i PATH=/usr/bin:/bin HOME="$tmp" YC_ENDPOINT="http://$endpoint" YC_ROOT_USER="$YC_ROOT_USER" \
        YC_ROOT_PASSWORD="$YC_ROOT_PASSWORD" YC_STEP="$1" YC_KEYS=$KEYS YC_VERSIONS=$VERSIONS YC_MARKERS="$MARKERS" \
        /usr/bin/python3 -c '
import os, boto3
from botocore.config import Config
s3 = boto3.client("s3", endpoint_url=os.environ["YC_ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id=os.environ["YC_ROOT_USER"],
                  aws_secret_access_key=os.environ["YC_ROOT_PASSWORD"],
                  config=Config(s3={"addressing_style": "path"}))
keys, versions, markers = (int(os.environ[k]) for k in ("YC_KEYS", "YC_VERSIONS", "YC_MARKERS"))
if os.environ["YC_STEP"] == "buckets":
    for b in ("plain", "versioned", "markers", "putplain", "putversioned"):
        s3.create_bucket(Bucket=b)
    for b in ("versioned", "markers", "putversioned"):
        s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
    assert "Status" not in s3.get_bucket_versioning(Bucket="plain")
    assert s3.get_bucket_versioning(Bucket="markers")["Status"] == "Enabled"
else:
    # what each listing case answers, and what the buckets hold
    def page(b, **kw):
        return s3.list_objects_v2(Bucket=b, MaxKeys=1000, **kw)
    p = page("plain")
    assert p["KeyCount"] == keys, p["KeyCount"]
    p = page("versioned")
    assert p["KeyCount"] == keys, p["KeyCount"]
    n = sum(len(v.get("Versions", [])) for v in s3.get_paginator("list_object_versions").paginate(Bucket="versioned"))
    assert n == keys * versions, n
    p = page("markers")
    assert p["KeyCount"] == keys and p["Contents"][0]["Key"] == "live-0", (p["KeyCount"], p.get("Contents", [{}])[0])
    p = page("markers", Prefix="dm-")
    assert p["KeyCount"] == 0 and not p["IsTruncated"], p
    v = s3.list_object_versions(Bucket="markers", Prefix="dm-", MaxKeys=1000)
    assert len(v.get("DeleteMarkers", [])) == 500 and len(v.get("Versions", [])) == 500, v
    print("checked: plain and versioned list 1000 keys, versioned holds %d versions, markers lists live-0.. first"
          " and nothing under dm-, whose versions listing alternates marker and version" % n)
'
}

# cpu_ticks: the gateway's user + system CPU time so far, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$gw_pid/stat"; }

# measure NAME ARGS...: one yc-bench run into $tmp/NAME, with the gateway's CPU microseconds per
# answered request (warm-up included in both) appended as cpu_us=
measure() {
    local name=$1 t0 t1 line status=0
    shift
    echo "== $name" >&2
    t0=$(cpu_ticks)
    line=$(ybench --duration "$DURATION" --warmup "$WARMUP" "$@" 2>"$tmp/err") || status=$?
    t1=$(cpu_ticks)
    [ -s "$tmp/err" ] && sed 's/^/   /' "$tmp/err" >&2
    [ -n "$line" ] || line="failed=1 exit=$status"
    awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v n="$(value answered "$line")" -v l="$line" \
        'BEGIN { printf "%s cpu_us=%.1f\n", l, t * 1e6 / hz / (n > 0 ? n : 1) }' >"$tmp/$name"
    echo "$name: $(cat "$tmp/$name")" >>"$tmp/raw.txt"
}

list_a=(--bucket plain --op list --connections 1 --timeout 300)
list_b=(--bucket versioned --op list --connections 1 --timeout 300)
list_c=(--bucket markers --op list --connections 1 --timeout 300)
list_p=(--bucket markers --op list --list-prefix dm- --connections 1 --timeout 300)
# a page behind the markers may take longer than a whole measured window: those two count pages, not
# seconds (the first page of each, unmeasured, warms the caches as the warm-up does for the others)
slow=(--duration 0 --warmup 0 --requests "$SLOW_PAGES")

py buckets
setup "plain: $KEYS keys of 4 KiB" --bucket plain --op fill --size 4k --keys $KEYS --prefix k- --connections 64 --duration 0
setup "versioned: $KEYS keys of 4 KiB" --bucket versioned --op fill --size 4k --keys $KEYS --prefix k- --connections 64 \
    --duration 0
setup "versioned: $((VERSIONS - 1)) more versions of each key" --bucket versioned --op put --sequential --size 4k \
    --keys $KEYS --prefix k- --connections 64 --duration 0 --requests $((KEYS * (VERSIONS - 1)))
setup "markers: $MARKERS keys of 16 bytes" --bucket markers --op fill --size 16 --keys "$MARKERS" --prefix dm- \
    --connections 64 --duration 0
setup "markers: the $MARKERS keys DELETEd" --bucket markers --op delete --keys "$MARKERS" --prefix dm- --connections 64 \
    --duration 0
setup "markers: $KEYS live keys of 4 KiB" --bucket markers --op fill --size 4k --keys $KEYS --prefix live- \
    --connections 64 --duration 0
for b in putplain putversioned; do
    setup "$b: $KEYS keys of 4 KiB" --bucket $b --op fill --size 4k --keys $KEYS --prefix p- --connections 64 --duration 0
done
checked=$(py check)
echo "$checked" >&2

for r in $(seq 1 "$ROUNDS"); do
    measure "$r.list.a" "${list_a[@]}"
    measure "$r.list.b" "${list_b[@]}"
    if [ "$r" = 1 ]; then
        ybench "${list_c[@]}" "${slow[@]}" --requests 1 >/dev/null
        ybench "${list_p[@]}" "${slow[@]}" --requests 1 >/dev/null
    fi
    measure "$r.list.c" "${list_c[@]}" "${slow[@]}"
    measure "$r.list.p" "${list_p[@]}" "${slow[@]}"
    for c in 64 1; do
        measure "$r.put.u.$c" --bucket putplain --op put --size 4k --keys $KEYS --prefix p- --connections $c
        measure "$r.put.v.$c" --bucket putversioned --op put --size 4k --keys $KEYS --prefix p- --connections $c
        measure "$r.get.u.$c" --bucket plain --op get --size 4k --keys $KEYS --prefix k- --connections $c --verify
        measure "$r.get.v.$c" --bucket versioned --op get --size 4k --keys $KEYS --prefix k- --connections $c --verify
    done
done
load_end=$(uptime)

# profiles of the listings, after the rounds so that they do not slow the figures
perf_md=$tmp/perf.md
: >"$perf_md"
if [ "$PERF" = 1 ] && command -v perf >/dev/null; then
    for case in a b c p get_u get_v; do
        case $case in
        a) args=("${list_a[@]}") ;;
        b) args=("${list_b[@]}") ;;
        c) args=("${list_c[@]}") ;;
        p) args=("${list_p[@]}") ;;
        get_u) args=(--bucket plain --op get --size 4k --keys "$KEYS" --prefix k- --connections 64 --verify) ;;
        get_v) args=(--bucket versioned --op get --size 4k --keys "$KEYS" --prefix k- --connections 64 --verify) ;;
        esac
        echo "== profile: list $case" >&2
        perf record -q -g -p "$gw_pid" -o "$tmp/perf.$case" -- sleep 8 >/dev/null 2>&1 &
        ppid=$!
        sleep 0.5
        ybench "${args[@]}" --duration 7 >"$tmp/perf.$case.line" 2>/dev/null || true
        wait "$ppid" || true
        {
            label="list $case"
            [ "${#case}" = 1 ] || label="GET 4 KiB, 64 conns, ${case#get_}"
            echo "### $label: $(value ops "$(cat "$tmp/perf.$case.line")") requests in 7 s"
            echo
            echo '```'
            perf report -i "$tmp/perf.$case" --stdio --no-children -g none --sort dso,symbol 2>/dev/null |
                grep -E '^ +[0-9.]+%' | sed -E 's/[[:space:]]+(-[[:space:]]+)*$//' >"$tmp/perf.$case.txt" || true
            [ -s "$tmp/perf.$case.txt" ] && head -30 "$tmp/perf.$case.txt" || echo "(no profile: perf record failed)"
            echo '```'
            echo
            echo "Inclusive (children) time, top entries:"
            echo
            echo '```'
            perf report -i "$tmp/perf.$case" --stdio --children -g none --sort symbol 2>/dev/null |
                grep -E '^ +[0-9.]+%' | sed -E 's/[[:space:]]+(-[[:space:]]+)*$//' >"$tmp/perf.$case.inc" || true
            head -40 "$tmp/perf.$case.inc"
            echo '```'
            echo
        } >>"$perf_md"
    done
fi

# ratio ROUND NUM DEN KEY: NUM's KEY over DEN's
ratio() { awk -v n="$(value "$4" "$(cat "$tmp/$1.$2")")" -v d="$(value "$4" "$(cat "$tmp/$1.$3")")" \
    'BEGIN { if (d > 0 && n > 0) printf "%.3f", n / d; else print "nan" }'; }

# stats V1 V2 ...: "median (min-max)"
stats() { tr ' ' '\n' <<<"$*" | grep -v '^$\|nan' | sort -g | awk '{ v[NR] = $1 } END {
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%.2f (%.2f-%.2f)", m, v[1], v[NR] }'; }

# row LABEL NUM DEN KEY TARGET(max|min:N): a ratio's row over the rounds
ratio_row() {
    local label=$1 num=$2 den=$3 key=$4 target=$5 vals="" cpus="" r med met
    for r in $(seq 1 "$ROUNDS"); do
        vals="$vals $(ratio "$r" "$num" "$den" "$key")"
        cpus="$cpus $(ratio "$r" "$num" "$den" cpu_us)"
    done
    med=$(stats $vals | cut -d' ' -f1)
    case $vals in *nan*) med=nan ;; esac
    case $target in
    max:*) met=$(awk -v m="$med" -v t="${target#max:}" 'BEGIN { print (m <= t) ? "yes" : "no" }') ;;
    min:*) met=$(awk -v m="$med" -v t="${target#min:}" 'BEGIN { print (m >= t) ? "yes" : "no" }') ;;
    esac
    [ "$med" = nan ] && met='not measured'
    echo "| $label | $(stats $vals) | ${vals# } | $(stats $cpus) | $([ "${target%%:*}" = max ] && echo "≤" || echo "≥") ${target#*:} | $met |"
}

# fig NAME: one measured line as a table row
fig() {
    local r l
    for r in $(seq 1 "$ROUNDS"); do
        l=$(cat "$tmp/$r.$1")
        awk -v r="$r" -v n="$2" -v o="$(value ops_s "$l")" -v m="$(value mean_ms "$l")" -v p="$(value p99_ms "$l")" \
            -v c="$(value cpu_us "$l")" -v e="$(value errors "$l")" \
            'BEGIN { printf "| %s | %s | %.1f | %.2f | %.2f | %.0f | %s |\n", n, r, o, m, p, c, e }'
    done
}

{
    echo "# Version history: listings and 4 KiB PUT/GET ($(date +%F))"
    echo
    echo "bench/versions.sh on a fresh embedded default (EC 4+2 over 6 drives, one process, the shedding"
    echo "door off), build $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$([ -n "$(git status --porcelain 2>/dev/null)" ] && echo ' (with uncommitted changes)')."
    echo "$(nproc) cores$([ "$SHORT" = 1 ] && echo '; SHORT MODE: the figures mean nothing')."
    echo
    echo "- Load at the start: \`${load_start#*load average: }\`; at the end of the rounds: \`${load_end#*load average: }\` (uptime, 1/5/15 min)"
    echo "- $ROUNDS rounds, interleaved; each figure ${DURATION} s measured after ${WARMUP} s of warm-up. ListObjectsV2 pages"
    echo "  of up to 1,000 keys at 1 connection; 4 KiB PUT/GET with yc-bench (GET bodies verified byte-exact)."
    echo "- Cases: a = \`plain\` (never versioned), $KEYS keys; b = \`versioned\`, the same $KEYS keys with $VERSIONS"
    echo "  versions each; c-bucket = \`markers\` listed whole: $MARKERS delete markers (keys dm-*, each over one"
    echo "  16-byte version) sort before its $KEYS live keys (live-*), so the first page walks them all;"
    echo "  c-prefix = \`markers\` with prefix=dm-: the $MARKERS markers, an empty page."
    echo "- $checked."
    echo
    echo "Ratios over the rounds, median (min-max); the gateway's CPU time per request, same ratio:"
    echo
    echo "| ratio | median (spread) | per round | gateway CPU per request | target | met |"
    echo "|---|---|---|---|---|---|"
    ratio_row "b / a, ms per page" list.b list.a mean_ms max:2
    ratio_row "c-bucket / a, ms per page" list.c list.a mean_ms max:2
    ratio_row "c-prefix / a, ms per page" list.p list.a mean_ms max:2
    for c in 64 1; do
        ratio_row "versioned / unversioned PUT 4 KiB, $c conns, ops/s" put.v.$c put.u.$c ops_s min:0.9
        ratio_row "versioned / unversioned GET 4 KiB, $c conns, ops/s" get.v.$c get.u.$c ops_s min:0.9
        ratio_row "versioned / unversioned PUT 4 KiB, $c conns, p99" put.v.$c put.u.$c p99_ms max:1.1
        ratio_row "versioned / unversioned GET 4 KiB, $c conns, p99" get.v.$c get.u.$c p99_ms max:1.1
    done
    echo
    echo "Figures (ops/s is pages/s for the listings):"
    echo
    echo "| test | round | ops/s | mean ms | p99 ms | gateway CPU us per request | errors |"
    echo "|---|---|---|---|---|---|---|"
    fig list.a "list a: plain, $KEYS keys"
    fig list.b "list b: versioned, $KEYS keys x $VERSIONS versions"
    fig list.c "list c-bucket: $KEYS live keys after $MARKERS markers"
    fig list.p "list c-prefix: prefix dm-, $MARKERS markers"
    for c in 64 1; do
        fig put.u.$c "PUT 4 KiB unversioned, $c conns"
        fig put.v.$c "PUT 4 KiB versioned, $c conns"
        fig get.u.$c "GET 4 KiB unversioned, $c conns"
        fig get.v.$c "GET 4 KiB versioned, $c conns"
    done
    echo
    if [ -s "$perf_md" ]; then
        echo "## Gateway profiles (perf record -g of the whole process, background work included, 8 s each, after the rounds)"
        echo
        cat "$perf_md"
    fi
    echo "Setup and raw lines:"
    echo
    echo '```'
    cat "$tmp/setup.txt" "$tmp/raw.txt"
    echo '```'
} >"$tmp/out.md"
if [ -n "$OUT" ]; then
    if [ -f "$OUT" ] && grep -q '^<!-- analysis -->' "$OUT"; then
        sed -n '/^<!-- analysis -->/,$p' "$OUT" >>"$tmp/out.md"
    fi
    mkdir -p "$(dirname "$OUT")"
    cp "$tmp/out.md" "$OUT"
    echo "results: $OUT" >&2
fi
cat "$tmp/out.md"
