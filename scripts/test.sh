#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The README's test command: installs what is missing, builds, runs every
# test suite, then runs them again built with AddressSanitizer +
# UndefinedBehaviorSanitizer (build-asan/) and the ring, pipeline and
# integration suites built with ThreadSanitizer (build-tsan/); ends with
# "N passed, N failed, N skipped" over all three runs.
#   bash scripts/test.sh              everything
#   SANITIZERS=0 bash scripts/test.sh the plain build only
#   bash scripts/test.sh TESTNAME...  only these tests (plain build)
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }
bash scripts/build.sh || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
SAN=${SANITIZERS:-1}
[ $# -gt 0 ] && SAN=0
passed=0 failed=0 skipped=0
count() { grep -o "\"result\": \"$2\"" "$1" 2>/dev/null | wc -l; }
run() { # BUILDDIR LABEL meson-test-args...
    local dir=$1 label=$2
    shift 2
    local log=$dir/meson-logs/testlog.json
    rm -f "$log"
    echo "== $label"
    meson test -C "$dir" --print-errorlogs --num-processes 2 "$@"
    local rc=$?
    local p=$(($(count "$log" OK) + $(count "$log" EXPECTEDFAIL)))
    local f=$(($(count "$log" FAIL) + $(count "$log" TIMEOUT) + $(count "$log" ERROR) + $(count "$log" UNEXPECTEDPASS)))
    [ "$rc" != 0 ] && [ "$f" = 0 ] && f=1 # meson failed before running a test
    passed=$((passed + p))
    failed=$((failed + f))
    skipped=$((skipped + $(count "$log" SKIP)))
    echo "== $label: $p passed, $f failed"
}
sanbuild() { # DIR SANITIZE
    local opts=(-Db_sanitize="$2" -Db_lundef=false -Dbuildtype=debugoptimized -Dwerror=false)
    local log
    log=$(mktemp)
    if [ -f "$1/build.ninja" ]; then
        meson setup --reconfigure "$1" "${opts[@]}" >"$log" 2>&1
    else
        meson setup "$1" "${opts[@]}" >"$log" 2>&1
    fi && ninja -C "$1" >>"$log" 2>&1
    local rc=$?
    [ $rc = 0 ] || { tail -40 "$log"; echo "== $1: build failed"; failed=$((failed + 1)); }
    rm -f "$log"
    return $rc
}

run build "plain build" "$@"

if [ "$SAN" = 1 ]; then
    # ASan + UBSan: every suite but valgrind (it does not mix with ASan), the
    # QEMU guest (software emulation is too slow for a sanitized crispd's frame
    # rate), mpi (Open MPI's own allocations would fill LeakSanitizer's report)
    # and package (it builds its own packages; nothing of it runs sanitized)
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=0
    export LSAN_OPTIONS=suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=$PWD/tests/sanitizers/ubsan.supp
    if sanbuild build-asan address,undefined; then
        run build-asan "ASan+UBSan build" --no-suite valgrind --no-suite qemu --no-suite mpi --no-suite package --no-suite browser --timeout-multiplier 3
    fi
    unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS
    # TSan: the ring, the pipeline and the integration suites. OpenMP's own
    # threads synchronise through futexes TSan cannot see, so oneDNN runs on
    # one thread here (crispd's threads and the rings are what is checked).
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/sanitizers/tsan.supp
    if sanbuild build-tsan thread; then
        OMP_NUM_THREADS=1 run build-tsan "TSan build" --suite stress --suite pipeline --suite integration \
            --no-suite qemu --timeout-multiplier 4
    fi
    unset TSAN_OPTIONS
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
