#!/usr/bin/env bash
# Runs the fault-injection tests (tests/fault): yc-store daemons and gateways killed, partitioned,
# filled and corrupted under load. Needs bin/ built; the tmpfs and network-namespace tests need
# root and skip with the reason otherwise. The whole run is bounded (YC_FAULT_TIMEOUT seconds,
# default 720) and ends with pytest's summary line; the exit status is non-zero on any failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-/usr/bin/python3}
export PYTHONDONTWRITEBYTECODE=1
limit=${YC_FAULT_TIMEOUT:-720}

timeout --signal=TERM --kill-after=15 "$limit" \
    "$PY" -m pytest -p no:cacheprovider -q -rfEs --durations=12 "$here/fault" "$@"
rc=$?
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    echo "fault tests: stopped after ${limit} s (time limit)"
fi
exit $rc
