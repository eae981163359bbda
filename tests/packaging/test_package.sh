#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The Debian packages, end to end: scripts/package.sh builds them twice
# (byte-identical), runs lintian, rebuilds a higher version and tests
# install, use, upgrade, remove and purge in a fresh Debian 12 root made by
# mmdebstrap. Needs root, ../shared beside the tree (as CI has it) and the
# Debian archive; skips with a message without them, so that a network
# hiccup does not fail CI.
set -u
: "${CRISP_SOURCE_ROOT:?}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (mmdebstrap's root mode, apt)"; exit 77; }
[ -d "$CRISP_SOURCE_ROOT/../shared" ] || { echo "SKIP: ../shared is absent"; exit 77; }
# mmdebstrap's root mode mounts /proc, /sys and /dev in the new root
m=$(mktemp -d)
if mount -t tmpfs crisp-test "$m" 2>/dev/null; then
    umount "$m"
    rmdir "$m"
else
    rmdir "$m"
    echo "SKIP: cannot mount here (an unprivileged container): no chroot test"
    exit 77
fi
archive_ok() {
    python3 - <<'PY'
import sys, urllib.request
try:
    urllib.request.urlopen("http://deb.debian.org/debian/dists/bookworm/Release", timeout=15).read(64)
except Exception as e:
    print(e); sys.exit(1)
PY
}
archive_ok || { echo "SKIP: the Debian archive (deb.debian.org) is not reachable"; exit 77; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
bash "$CRISP_SOURCE_ROOT/scripts/package.sh" >"$out" 2>&1
rc=$?
grep -E '^(ok|FAIL|==|reproducible|NOT|lintian|package test)' "$out"
if [ $rc = 0 ] && grep -q "^package test passed" "$out"; then
    echo "ok: packages built reproducibly, lintian clean, installed, upgraded, removed and purged"
    exit 0
fi
# a download that failed midway is the archive's hiccup, not ours
if grep -qE "Temporary failure resolving|Could not connect|Failed to fetch|Connection timed out" "$out"; then
    echo "SKIP: the archive failed during the test: $(grep -m1 -E 'Failed to fetch|Could not connect|Temporary failure' "$out")"
    exit 77
fi
tail -30 "$out"
echo "FAIL: scripts/package.sh exited $rc"
exit 1
