#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The README's main job: real 720p webcam footage (cockatoo.mp4 from Debian's
# python3-imageio package, BSD-2), degraded as a low-bandwidth call (sent at
# 640x360, H.264 CRF 32), received and upscaled to 1280x720 by crispd, once
# untouched (--bypass) and once sharpened by the shipped model; then a
# side-by-side video, crispd's stats, and PSNR-Y and flicker of both against
# the clip.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
OUT=${OUT:-demo}
mkdir -p "$OUT"
SRC=$OUT/cockatoo.mp4
if [ ! -f "$SRC" ]; then
    # the package is only unpacked, not installed: no Python needed
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download python3-imageio >/dev/null 2>&1) || {
        apt-get update -qq >/dev/null 2>&1 || true
        (cd "$tmp" && apt-get download python3-imageio >/dev/null)
    }
    dpkg -x "$tmp"/python3-imageio_*.deb "$tmp/x"
    cp "$tmp/x/usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4" "$SRC"
    rm -rf "$tmp"
fi
MODEL=models/crisp-rt.crisp
[ -f "$MODEL" ] || MODEL=models/unsharp-mask.crisp
echo "== sender: 640x360, H.264 CRF 32 (a weak call)"
ffmpeg -v error -y -i "$SRC" -an -vf scale=640:360:flags=bicubic -c:v libx264 -preset veryfast \
    -crf 32 -pix_fmt yuv420p "$OUT/call-360p.mp4"
echo "== receiver: crispd upscales to 1280x720, untouched and sharpened with $MODEL"
build/daemon/crispd --input "file:$OUT/call-360p.mp4" --output "file:$OUT/received.mkv" --bypass
build/daemon/crispd --input "file:$OUT/call-360p.mp4" --output "file:$OUT/sharpened.mkv" \
    --model "$MODEL" --stats-json "$OUT/stats.json"
echo "crispd stats: $(cat "$OUT/stats.json")"
ffmpeg -v error -y -i "$OUT/received.mkv" -i "$OUT/sharpened.mkv" -lavfi hstack -c:v libx264 \
    -preset veryfast -crf 18 "$OUT/side-by-side.mkv"
# PSNR-Y, SSIM-Y and flicker (temporal-difference error, docs/evaluation.md)
# of each video against the original clip, all frames, border crop 2
score() { build/tools/crisp compare --video --crop 2 "$SRC" "$1" |
    sed -E 's/frames=([0-9]+) psnr_y=([0-9.]+) ssim_y=([0-9.]+) flicker=([0-9.]+)/PSNR-Y \2 dB, SSIM-Y \3, flicker \4 (\1 frames)/'; }
echo "against the original clip (crisp compare --video, Y channel, crop 2; flicker in 8-bit units, lower is steadier):"
echo "  received (bicubic upscale) $(score "$OUT/received.mkv")"
echo "  sharpened by crispd        $(score "$OUT/sharpened.mkv")"
echo "videos in $OUT/: side-by-side.mkv (left received, right sharpened), received.mkv, sharpened.mkv"
