#!/usr/bin/env bash
# `make test`: unit tests, integration tests with real clients, fault tests; one closing line
# adding up what the three printed. Usage: tests/run-all.sh UNIT_TEST_BINARIES...
set -u
here=$(cd "$(dirname "$0")" && pwd)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0

"$here/run-unit.sh" "$@" 2>&1 | tee -a "$log"; [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
"$here/run-integration.sh" 2>&1 | tee -a "$log"; [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
# the full-disk fault test fills its drives 20 times (6 over the network) and the two-gateway races
# run 100 rounds each under `make fault`; here fewer rounds of each keep the suite inside its time limit
YC_FULL_DISK_ROUNDS=${YC_FULL_DISK_ROUNDS:-6} YC_FULL_DISK_NET_ROUNDS=${YC_FULL_DISK_NET_ROUNDS:-3} \
    YC_FAULT_RACE_ROUNDS=${YC_FAULT_RACE_ROUNDS:-20} YC_FAULT_BUCKET_RACE_ROUNDS=${YC_FAULT_BUCKET_RACE_ROUNDS:-30} \
    "$here/run-fault.sh" 2>&1 | tee -a "$log"; [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1

# the summaries: "unit: N passed, N failed", pytest's "N passed[, N failed][, N skipped] in Ts",
# "integration-cli: N passed, N failed"
passed=0 failed=0 skipped=0
while IFS= read -r line; do
    p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || true)
    f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || true)
    e=$(grep -oE '[0-9]+ errors?' <<<"$line" | grep -oE '[0-9]+' || true)
    s=$(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+' || true)
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0} + ${e:-0}))
    skipped=$((skipped + ${s:-0}))
done < <(grep -E '^(unit|integration-cli): [0-9]+ passed, [0-9]+ failed$|^=* ?[0-9]+ (passed|failed).* in [0-9.]+s' "$log" | sed 's/=//g')
[ $rc -eq 0 ] || [ $failed -gt 0 ] || failed=1 # a runner failed without saying how many: count it
echo "total: $passed passed, $failed failed, $skipped skipped"
exit $rc
