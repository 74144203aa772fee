#!/usr/bin/env bash
# Runs the integration tests against real yc-gateway processes: the pytest suite (boto3, raw
# SigV4 requests, degraded drives) and then the AWS CLI / s3cmd script. Each prints its own
# closing summary; the exit status is non-zero when either failed.
#
# Most test files only wait on their gateways, so they run two at a time (pytest-xdist, one file
# per worker); the files that measure time, latency or memory run afterwards, alone, so that no
# other test's load moves their figures. YC_TEST_WORKERS=1 runs everything in one process.
set -u
here=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-/usr/bin/python3}
export PYTHONDONTWRITEBYTECODE=1
workers=${YC_TEST_WORKERS:-2}
# the files that time what they test
timed="test_edge.py test_edge_wiring.py test_http_layer.py test_http_tls.py test_idle_connections.py
       test_intake.py test_overload.py"

if [ $# -gt 0 ] || [ "$workers" -le 1 ] || ! "$PY" -c 'import xdist' 2>/dev/null; then
    "$PY" -m pytest -p no:cacheprovider -q -rfE --durations=8 "$here/integration" "$@"
    py_rc=$?
else
    ignore=() timed_paths=()
    for f in $timed; do
        ignore+=("--ignore=$here/integration/$f")
        timed_paths+=("$here/integration/$f")
    done
    "$PY" -m pytest -p no:cacheprovider -q -rfE --durations=8 -n "$workers" --dist loadfile "${ignore[@]}" \
        "$here/integration"
    py_rc=$?
    "$PY" -m pytest -p no:cacheprovider -q -rfE --durations=8 "${timed_paths[@]}"
    [ $? -eq 0 ] || py_rc=1
fi

bash "$here/integration/test_cli.sh"
cli_rc=$?

[ $py_rc -eq 0 ] && [ $cli_rc -eq 0 ]
