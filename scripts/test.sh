#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The README's test command: installs what is missing, builds, runs every
# test suite, and ends with "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }
bash scripts/build.sh || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
rm -f build/meson-logs/testlog.json
meson test -C build --print-errorlogs --num-processes 2 "$@"
rc=$?
log=build/meson-logs/testlog.json
count() { grep -o "\"result\": \"$1\"" "$log" 2>/dev/null | wc -l; }
passed=$(( $(count OK) + $(count EXPECTEDFAIL) ))
failed=$(( $(count FAIL) + $(count TIMEOUT) + $(count ERROR) + $(count UNEXPECTEDPASS) ))
skipped=$(count SKIP)
[ "$rc" != 0 ] && [ "$failed" = 0 ] && failed=1  # meson failed before running a test
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
