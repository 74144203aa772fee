# bench/lib.sh — what the benchmark scripts share: a temporary folder removed at exit with the
# gateway they started, a free loopback port, fresh root keys, and starting a gateway and waiting
# until it accepts connections. Sourced (`. bench/lib.sh`), never run.

# Makes $tmp (a fresh folder named after NAME) and arranges that on exit the gateway in $gw_pid,
# if any, is stopped and $tmp removed.
bench_tmp() { # NAME
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    gw_pid=
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

bench_cleanup() {
    bench_gateway_stop
    rm -rf "$tmp"
}

# A loopback port no one listens on now.
bench_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Exports random root credentials for the gateways this script starts and its clients.
bench_root_keys() {
    YC_ROOT_USER=bench$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
    YC_ROOT_PASSWORD=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
    export YC_ROOT_USER YC_ROOT_PASSWORD
}

# Starts COMMAND... (a yc-gateway command line listening on 127.0.0.1:PORT) in the background with
# its output in $tmp/gateway.log, sets gw_pid, and waits up to 20 s until the port accepts.
bench_gateway_start() { # PORT COMMAND...
    local port=$1
    shift
    "$@" >"$tmp/gateway.log" 2>&1 &
    gw_pid=$!
    for _ in $(seq 1 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
}

bench_gateway_stop() {
    if [ -n "${gw_pid:-}" ] && kill -0 "$gw_pid" 2>/dev/null; then
        kill "$gw_pid" 2>/dev/null || true
        wait "$gw_pid" 2>/dev/null || true
    fi
    gw_pid=
}

# The gateway's (or PID's) user + system CPU time so far, in clock ticks (getconf CLK_TCK a second).
bench_cpu_ticks() { # [PID]
    awk '{ print $14 + $15 }' "/proc/${1:-$gw_pid}/stat"
}

# Runs FUNCTION ROUND BIN_DIR for ROUNDS rounds, every build in turn within a round (so that a change
# of the machine's load falls on all of them alike), between two lines of `uptime`.
bench_rounds() { # ROUNDS FUNCTION BIN_DIR...
    local rounds=$1 fn=$2 round bin
    shift 2
    echo "uptime before: $(uptime)"
    for round in $(seq 1 "$rounds"); do
        for bin in "$@"; do
            "$fn" "$round" "$bin"
        done
    done
    echo "uptime after: $(uptime)"
}

# A results file of today that does not exist yet: bench/results/<date>SUFFIX.md, or with -2, -3,
# ... added when a run of the same day already wrote one. A results file is a record: a later run
# never overwrites it.
bench_results_file() { # SUFFIX (e.g. "-versions"; "" for the plain day)
    local base n
    base=bench/results/$(date +%F)$1
    [ -e "$base.md" ] || { echo "$base.md"; return; }
    n=2
    while [ -e "$base-$n.md" ]; do n=$((n + 1)); done
    echo "$base-$n.md"
}
