#!/usr/bin/env bash
# Runs the integration tests against real yc-gateway processes: the pytest suite (boto3, raw
# SigV4 requests, degraded drives) and then the AWS CLI / s3cmd script. Each prints its own
# closing summary; the exit status is non-zero when either failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-/usr/bin/python3}
export PYTHONDONTWRITEBYTECODE=1

"$PY" -m pytest -p no:cacheprovider -q -rfE --durations=8 "$here/integration" "$@"
py_rc=$?

bash "$here/integration/test_cli.sh"
cli_rc=$?

[ $py_rc -eq 0 ] && [ $cli_rc -eq 0 ]
