#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The README's main job: real 720p webcam footage (cockatoo.mp4 from Debian's
# python3-imageio package, BSD-2), degraded as a low-bandwidth call (sent at
# 640x360, H.264 CRF 32), received and upscaled to 1280x720 by crispd, once
# untouched (--bypass) and once sharpened by the shipped model; then a
# side-by-side video, crispd's stats, and PSNR-Y of both against the clip.
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
psnr() { ffmpeg -i "$1" -i "$SRC" -lavfi "[0:v][1:v]psnr" -f null - 2>&1 | sed -n -E 's/.*PSNR y:([0-9.]+).*/\1/p' | tail -1; }
echo "PSNR-Y against the original clip (ffmpeg psnr filter, all frames):"
echo "  received (bicubic upscale) $(psnr "$OUT/received.mkv") dB"
echo "  sharpened by crispd        $(psnr "$OUT/sharpened.mkv") dB"
echo "videos in $OUT/: side-by-side.mkv (left received, right sharpened), received.mkv, sharpened.mkv"
