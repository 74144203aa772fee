#!/usr/bin/env bash
# Runs every unit test binary given, then prints one closing summary line over all of them.
set -u
passed=0 failed=0 broken=0
for t in "$@"; do
    out=$("$t" 2>&1); rc=$?
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
    echo "$(basename "$t"): ${line:-no summary (exit $rc)}"
    if [ $rc -ne 0 ] || [ -z "$line" ]; then printf '%s\n' "$out" | grep -vE '^[0-9]+ passed' | tail -n 40; fi
    if [ -n "$line" ]; then
        passed=$((passed + $(echo "$line" | cut -d' ' -f1)))
        failed=$((failed + $(echo "$line" | cut -d' ' -f3)))
    fi
    if [ $rc -ne 0 ] && { [ -z "$line" ] || [ "$(echo "$line" | cut -d' ' -f3)" = 0 ]; }; then broken=$((broken + 1)); fi
done
echo "unit: $passed passed, $((failed + broken)) failed"
[ $failed -eq 0 ] && [ $broken -eq 0 ]
