#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs a libFuzzer target (clang from Debian, with ASan and UBSan) for a
# time budget and merges the inputs that found new coverage into the
# committed corpus tests/fuzz/corpus/TARGET. Crashes land in
# tests/fuzz/crashes/ as reproducers; fix the bug, keep the file (the replay
# tests run every file in the corpus, so also copy it there).
#   bash scripts/fuzz.sh weights|config|model|sdp|control|json [SECONDS=600]
set -euo pipefail
cd "$(dirname "$0")/.."
T=${1:?target: weights, config, model, sdp, control or json}
SECS=${2:-600}
bash scripts/deps.sh clang libclang-rt-14-dev
case $T in
weights | model) SRC="lib/nn/model.c lib/nn/weights.c lib/nn/reference.c" ;;
config) SRC="" ;;
sdp) SRC="daemon/sdp.c" ;;
control) SRC="daemon/control.c" ;;
json) SRC="tools/json.c" ;;
*) echo "unknown target $T" >&2; exit 2 ;;
esac
OUT=build-fuzz
mkdir -p "$OUT" tests/fuzz/crashes "tests/fuzz/corpus/$T"
clang -std=c17 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Ilib/include -Wno-unknown-pragmas -o "$OUT/fuzz_$T" "tests/fuzz/fuzz_$T.c" $SRC \
    lib/core/error.c lib/core/log.c lib/core/util.c lib/core/config.c -lm -lpthread
NEW=$(mktemp -d)
trap 'rm -rf "$NEW"' EXIT
echo "fuzzing $T for $SECS s"
"$OUT/fuzz_$T" -max_total_time="$SECS" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="tests/fuzz/crashes/$T-" -print_final_stats=1 "$NEW" "tests/fuzz/corpus/$T" \
    2>&1 | tee "$OUT/fuzz_$T.log" | grep -E "^#[0-9]+ *(DONE|INITED)|ERROR|SUMMARY|stat::" || true
"$OUT/fuzz_$T" -merge=1 "tests/fuzz/corpus/$T" "$NEW" >/dev/null 2>&1 || true
echo "corpus: $(ls "tests/fuzz/corpus/$T" | wc -l) files; crashes: $(ls tests/fuzz/crashes | grep -c "^$T-" || true)"
