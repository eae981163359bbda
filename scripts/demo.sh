#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The README's main job (until crispd lands): obtain a real photo from a
# Debian package, degrade it as a low-bandwidth video call ("vc"), sharpen it
# with the classic unsharp-mask model through the oneDNN engine, and compare.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
OUT=${OUT:-demo}
mkdir -p "$OUT"
if [ ! -f "$OUT/astronaut.png" ]; then
    # the package is only unpacked, not installed: no Python needed
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download python3-skimage >/dev/null 2>&1) || {
        apt-get update -qq >/dev/null 2>&1 || true
        (cd "$tmp" && apt-get download python3-skimage >/dev/null)
    }
    dpkg -x "$tmp"/python3-skimage_*.deb "$tmp/x"
    cp "$tmp/x/usr/lib/python3/dist-packages/skimage/data/astronaut.png" "$OUT/astronaut.png"
    rm -rf "$tmp"
fi
C=build/tools/crisp
M=models/unsharp-mask.crisp
$C info $M
echo
printf '%-10s %-10s %s\n' protocol image "Y metrics vs the original (crop 2)"
for p in x2 vc; do
    $C degrade --protocol $p "$OUT/astronaut.png" "$OUT/astronaut-$p.png"
    $C sharpen --model $M "$OUT/astronaut-$p.png" "$OUT/astronaut-$p-unsharp.png"
    printf '%-10s %-10s %s\n' $p degraded "$($C compare --crop 2 "$OUT/astronaut.png" "$OUT/astronaut-$p.png")"
    printf '%-10s %-10s %s\n' $p unsharp "$($C compare --crop 2 "$OUT/astronaut.png" "$OUT/astronaut-$p-unsharp.png")"
done
echo
echo "images in $OUT/: astronaut.png (original), astronaut-{x2,vc}.png (degraded),"
echo "astronaut-{x2,vc}-unsharp.png (sharpened)"
