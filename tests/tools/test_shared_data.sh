#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# End to end on real benchmark photos from ../shared/data (skips when absent):
# degrade Kodak images by the blur protocol, sharpen with the unsharp-mask
# model through oneDNN, and check the classic baseline does what it should
# on blur: it raises PSNR-Y over the degraded input on every image.
set -u
: "${CRISP:?}" "${CRISP_SOURCE_ROOT:?}"
K=$CRISP_SOURCE_ROOT/../shared/data/bench/Kodak24
if [ ! -d "$K" ]; then
    echo "SKIP: $K not found (../shared/data is absent)"
    exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
M=$CRISP_SOURCE_ROOT/models/unsharp-mask.crisp
fails=0 n=0
psnr() { "$CRISP" compare --crop 2 "$1" "$2" | sed -E 's/^psnr_y=([0-9.]+) .*/\1/'; }
for img in "$K"/kodim0[1-4].png; do
    b=$(basename "$img" .png)
    "$CRISP" degrade --protocol blur "$img" "$T/$b-blur.png" || { fails=$((fails + 1)); continue; }
    "$CRISP" sharpen --model "$M" "$T/$b-blur.png" "$T/$b-sharp.png" || { fails=$((fails + 1)); continue; }
    d=$(psnr "$img" "$T/$b-blur.png")
    s=$(psnr "$img" "$T/$b-sharp.png")
    n=$((n + 1))
    if awk -v d="$d" -v s="$s" 'BEGIN { exit !(s > d) }'; then
        echo "ok: $b blur: degraded $d dB, unsharp $s dB"
    else
        echo "FAIL: $b blur: unsharp $s dB is not above degraded $d dB"; fails=$((fails + 1))
    fi
done
echo "$n images, $fails failed"
[ "$n" -gt 0 ] && [ "$fails" = 0 ]
