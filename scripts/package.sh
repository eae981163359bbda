#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Builds the Debian packages (crisp, crisp-train) from the working tree and
# checks them as an operator would meet them:
#   1. dpkg-buildpackage -us -uc -b, twice, in two directories: the .deb
#      files must be byte-identical (reproducible as Debian means it);
#   2. lintian: no error and no warning that debian/*.lintian-overrides
#      does not explain;
#   3. a rebuild with a higher version (the upgrade);
#   4. a fresh Debian 12 root made by mmdebstrap from this machine's package
#      archive: install (nothing enabled or started), crispd --help, crisp
#      info on an installed model, crispd on a clip with the installed
#      ladder, systemd-analyze verify on the installed units, upgrade,
#      remove, purge, and nothing the packages shipped or created is left.
# Output: build-deb/ (the packages, the logs). Needs root (mmdebstrap's
# root mode) and the archive; tests/packaging/test_package.sh skips without.
#   bash scripts/package.sh [--no-chroot]
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD
OUT=$SRC/build-deb
CHROOT=1
[ "${1:-}" = --no-chroot ] && CHROOT=0
bash scripts/deps.sh dpkg-dev debhelper lintian mmdebstrap scdoc
rm -rf "$OUT"
mkdir -p "$OUT"
W=$(mktemp -d /var/tmp/crisp-pkg.XXXXXX)
trap 'rm -rf "$W"' EXIT
VER=$(dpkg-parsechangelog -l debian/changelog -S Version)
step() { echo "== $*"; }

# the tree as git sees it (tracked and untracked, not ignored files)
copy_tree() { # DEST
    mkdir -p "$1"
    git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$1"
}
build() { # DIR LOG
    (cd "$1" && dpkg-buildpackage -us -uc -b) >"$2" 2>&1 || {
        tail -40 "$2"
        echo "package build failed (log $2)"
        exit 1
    }
}

step "building $VER twice (two directories)"
copy_tree "$W/a/crisp"
copy_tree "$W/b/crisp-tree"
build "$W/a/crisp" "$OUT/build-a.log"
build "$W/b/crisp-tree" "$OUT/build-b.log"
repro=1
for f in "$W"/a/*.deb; do
    g=$W/b/$(basename "$f")
    if cmp -s "$f" "$g"; then
        echo "reproducible: $(basename "$f") $(sha256sum <"$f" | cut -c1-16)"
    else
        repro=0
        echo "NOT reproducible: $(basename "$f")"
        command -v diffoscope >/dev/null && diffoscope "$f" "$g" | head -40
    fi
done
if [ $repro = 0 ]; then
    mkdir -p "$OUT/a" "$OUT/b"
    cp "$W"/a/*.deb "$OUT/a/"
    cp "$W"/b/*.deb "$OUT/b/"
    echo "the two builds differ (both kept in $OUT/a and $OUT/b)"
    exit 1
fi
cp "$W"/a/*.deb "$W"/a/*.changes "$W"/a/*.buildinfo "$OUT/"

step "lintian"
lintian --info --display-info --fail-on error,warning "$W"/a/*.changes | tee "$OUT/lintian.txt"
echo "lintian: no error, no unexplained warning"

step "rebuilding as $VER+upgrade1 (the upgrade)"
copy_tree "$W/c/crisp"
(cd "$W/c/crisp" && {
    printf 'crisp (%s+upgrade1) bookworm; urgency=medium\n\n  * Rebuild to test upgrades.\n\n -- %s  %s\n\n' \
        "$VER" "$(dpkg-parsechangelog -S Maintainer)" "$(date -R -d @"$(dpkg-parsechangelog -S Timestamp)")"
    cat debian/changelog
} >debian/changelog.new && mv debian/changelog.new debian/changelog)
build "$W/c/crisp" "$OUT/build-c.log"
mkdir -p "$OUT/upgrade"
cp "$W"/c/*.deb "$OUT/upgrade/"

[ $CHROOT = 1 ] || { echo "packages in $OUT (chroot test skipped)"; exit 0; }

step "a fresh Debian 12 root (mmdebstrap, this machine's archive)"
mkdir -p "$W/debs/v1" "$W/debs/v2"
cp "$W"/a/crisp_*.deb "$W"/a/crisp-train_*.deb "$W/debs/v1/"
cp "$W"/c/crisp_*.deb "$W"/c/crisp-train_*.deb "$W/debs/v2/"
# a 720p clip for crispd in the root (the ffmpeg CLI is one of scripts/deps.sh's packages)
ffmpeg -v error -y -f lavfi -i testsrc2=size=1280x720:rate=30 -frames:v 20 -c:v libx264 \
    -pix_fmt yuv420p "$W/debs/clip.mp4"
cp scripts/package-chroot-test.sh "$W/debs/test.sh"
# the host's own sources (deb822 or one-line), so the root sees the same archive
{ cat /etc/apt/sources.list.d/*.sources 2>/dev/null; grep -h '^deb ' /etc/apt/sources.list 2>/dev/null || true; } >"$W/sources"
mmdebstrap --mode=root --variant=apt --include=systemd,ca-certificates bookworm "$W/root" - \
    --customize-hook="copy-in $W/debs /tmp" \
    --customize-hook='chroot "$1" bash /tmp/debs/test.sh' <"$W/sources" 2>&1 |
    tee "$OUT/chroot.log" | grep -E '^(ok|FAIL|==)|E:' || true
grep -q "^chroot test: all passed" "$OUT/chroot.log" || { tail -30 "$OUT/chroot.log"; exit 1; }
echo "package test passed: packages in $OUT"
