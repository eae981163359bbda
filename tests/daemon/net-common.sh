# SPDX-License-Identifier: BSD-2-Clause
# Sourced by the network tests: checks for crispd and the ffmpeg CLI, a
# temporary folder, and a cleanup that stops every process listed in PIDS.
: "${CRISPD:?}"
command -v ffmpeg >/dev/null || { echo "SKIP: no ffmpeg CLI"; exit 77; }
T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
