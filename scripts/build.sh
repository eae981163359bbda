#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Configures (warnings as errors) and builds crisp in ./build; prints the
# build log only when something fails.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ -f build/build.ninja ]; then
    meson setup --reconfigure build -Dwerror=true >"$log" 2>&1
else
    meson setup build -Dwerror=true >"$log" 2>&1
fi && ninja -C build >>"$log" 2>&1
rc=$?
[ $rc = 0 ] || { cat "$log" >&2; echo "build failed" >&2; }
exit $rc
