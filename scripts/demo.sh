#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The README's main job, on two real clips a fresh Debian 12 machine gets
# from Debian packages (unpacked only, nothing installed):
#   cockatoo.mp4 (python3-imageio, BSD-2): 1280x720 hand-held webcam footage
#     that holds almost nothing above half resolution (its x2 scores 49 dB):
#     a call there loses little that can be restored;
#   vtest.avi (opencv-doc, Apache-2.0/BSD-3): a 768x576 street scene with
#     people, edges and signs - detail above half resolution, as a sharp
#     webcam's has; its first 150 frames (15 s at 10 fps).
# Each goes through a weak call (sent at half size, H.264 CRF 32, veryfast
# zerolatency), is received and upscaled by crispd, once untouched
# (--bypass), once sharpened by the shipped model and once by the classic
# unsharp mask (models/unsharp-mask.crisp); FFmpeg's `cas` filter is run on
# the received video beside them. Printed: PSNR-Y, SSIM-Y and flicker of
# each against the original; written: demo/compare.png (1:1 crops of one
# frame per clip: original | received | crisp | unsharp mask | cas),
# side-by-side videos and crispd's stats.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh
OUT=${OUT:-demo}
CAS=${CAS:-0} # FFmpeg cas strength (0..1; 0 is the filter's default)
mkdir -p "$OUT"
C=build/tools/crisp
MODEL=models/crisp-rt.crisp
[ -f "$MODEL" ] || MODEL=models/unsharp-mask.crisp

# unpack FILE (a path inside the package) of Debian package PKG to DEST
fetch() {
    local pkg=$1 file=$2 dest=$3 tmp
    [ -f "$dest" ] && return 0
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1) || {
        apt-get update -qq >/dev/null 2>&1 || true
        (cd "$tmp" && apt-get download "$pkg" >/dev/null)
    }
    dpkg-deb --fsys-tarfile "$tmp"/"$pkg"_*.deb | tar -x -C "$tmp" ".$file"
    cp "$tmp$file" "$dest"
    rm -rf "$tmp"
}
fetch python3-imageio /usr/lib/python3/dist-packages/imageio/resources/images/cockatoo.mp4 \
    "$OUT/cockatoo.mp4"
fetch opencv-doc /usr/share/doc/opencv-doc/examples/data/vtest.avi "$OUT/vtest.avi"

METHODS=(original received crisp unsharp cas)
# score REF TEST: "PSNR-Y .. dB, SSIM-Y .., flicker .." (Y channel, all frames, border crop 2)
score() { "$C" compare --video --crop 2 "$1" "$2" |
    sed -E 's/frames=([0-9]+) psnr_y=([0-9.]+) ssim_y=([0-9.]+) flicker=([0-9.]+)/\2 dB   \3   \4   (\1 frames)/'; }

# clip NAME SOURCE WxH FRAMES: one clip through the call and the four receivers
clip() {
    local name=$1 src=$2 size=$3 frames=$4 w h d
    w=${size%x*} h=${size#*x}
    d=$OUT/$name
    # neither file says how its Y'CbCr maps to colour: tag what players assume
    # (BT.709 for HD, BT.601 below), so every version is shown alike
    local mx=smpte170m
    [ "$h" -gt 576 ] && mx=bt709
    local tag=(-colorspace $mx -color_primaries $mx -color_trc $mx -color_range tv)
    mkdir -p "$d"
    echo "== $name: the original, ${frames} frames at ${size}, sent at $((w / 2))x$((h / 2)), H.264 CRF 32"
    # the original as the receivers are scored against it (lossless)
    ffmpeg -v error -y -i "$src" -an -frames:v "$frames" -vf "scale=$w:$h" -c:v libx264 -qp 0 \
        -pix_fmt yuv420p "${tag[@]}" "$d/original.mkv"
    ffmpeg -v error -y -i "$d/original.mkv" -vf "scale=$((w / 2)):$((h / 2)):flags=bicubic" \
        -c:v libx264 -preset veryfast -tune zerolatency -crf 32 -pix_fmt yuv420p "${tag[@]}" "$d/call.mp4"
    echo "   receiver: crispd upscales to $size: untouched, sharpened by $MODEL, unsharp mask"
    build/daemon/crispd --input "file:$d/call.mp4" --output "file:$d/received.mkv" --size "$size" \
        --bypass
    build/daemon/crispd --input "file:$d/call.mp4" --output "file:$d/crisp.mkv" --size "$size" \
        --model "$MODEL" --stats-json "$d/stats.json"
    build/daemon/crispd --input "file:$d/call.mp4" --output "file:$d/unsharp.mkv" --size "$size" \
        --model models/unsharp-mask.crisp
    # FFmpeg's contrast-adaptive sharpening on the received video (kept lossless:
    # one lossy encode in its chain, as in crispd's outputs)
    ffmpeg -v error -y -i "$d/received.mkv" -vf "cas=strength=$CAS" -c:v libx264 -qp 0 \
        -pix_fmt yuv420p "$d/cas.mkv"
    echo "   crispd (crisp): $(cat "$d/stats.json")"
    echo "   against the original (crisp compare --video: Y channel, BT.601, border crop 2;"
    echo "   flicker in 8-bit units, lower is steadier):"
    printf '   %-34s %-9s %-9s %s\n' "" "PSNR-Y" "SSIM-Y" "flicker"
    printf '   %-34s %s\n' "received (crispd's bicubic upscale)" "$(score "$d/original.mkv" "$d/received.mkv")"
    printf '   %-34s %s\n' "crisp ($(basename "$MODEL" .crisp))" "$(score "$d/original.mkv" "$d/crisp.mkv")"
    printf '   %-34s %s\n' "unsharp mask (amount 0.8, sigma 1)" "$(score "$d/original.mkv" "$d/unsharp.mkv")"
    printf '   %-34s %s\n' "FFmpeg cas (strength $CAS)" "$(score "$d/original.mkv" "$d/cas.mkv")"
    ffmpeg -v error -y -i "$d/received.mkv" -i "$d/crisp.mkv" -lavfi hstack -c:v libx264 \
        -preset veryfast -crf 18 "$d/side-by-side.mkv"
}
clip cockatoo "$OUT/cockatoo.mp4" 1280x720 999999
clip vtest "$OUT/vtest.avi" 768x576 150

# compare.png: per clip one frame, a 1:1 crop of each version, labelled
# row CLIP FRAME CROP(w:h:x:y) -> $T/row-CLIP.png
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
row() {
    local name=$1 frame=$2 crop=$3 i=0 inputs=() filt=""
    for m in "${METHODS[@]}"; do
        ffmpeg -v error -y -i "$OUT/$name/$m.mkv" -vf "select=eq(n\\,$frame)" -frames:v 1 \
            "$T/$name-$m.png"
        inputs+=(-i "$T/$name-$m.png")
        local label=$m
        [ "$m" = crisp ] && label="crisp ($(basename "$MODEL" .crisp))"
        [ "$m" = cas ] && label="FFmpeg cas"
        [ "$m" = unsharp ] && label="unsharp mask"
        [ "$m" = original ] && label="original ($name, frame $frame)"
        filt+="[$i]crop=$crop,pad=iw+6:ih+26:0:26:white,drawtext=fontfile=$FONT:text='$label':x=4:y=5:fontsize=15:fontcolor=black[v$i];"
        i=$((i + 1))
    done
    ffmpeg -v error -y "${inputs[@]}" -filter_complex \
        "${filt}$(for k in $(seq 0 $((i - 1))); do printf '[v%d]' "$k"; done)hstack=inputs=$i" \
        -frames:v 1 "$T/row-$name.png"
}
row cockatoo 60 256:256:560:40
row vtest 100 256:256:330:40
ffmpeg -v error -y -i "$T/row-cockatoo.png" -i "$T/row-vtest.png" -filter_complex \
    "[0]pad=iw:ih+6:0:0:white[a];[a][1]vstack=inputs=2" -frames:v 1 "$OUT/compare.png"
echo "== written: $OUT/compare.png (1:1 crops: ${METHODS[*]}), per clip in $OUT/CLIP/:"
echo "   side-by-side.mkv (left received, right crisp), original/received/crisp/unsharp/cas.mkv, stats.json"
