#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# What crispd's file sink says about its frames: the source's colorimetry
# (a BT.709 HD clip stays BT.709; untagged clips as players take them:
# BT.601/SMPTE 170M below HD, BT.709 for HD), and the source's frame times
# (a variable-frame-rate clip keeps its gaps and its length).
set -u
: "${CRISPD:?}"
. "$(dirname "$0")/../common.sh"
need ffmpeg "no ffmpeg CLI"
need ffprobe "no ffprobe"
tags() { ffprobe -v error -select_streams v -show_entries stream=color_space,color_primaries,color_transfer,color_range -of csv=p=0 "$1"; }
clip() { # SIZE FILE [ffmpeg output options]
    local size=$1 f=$2
    shift 2
    ffmpeg -v error -y -f lavfi -i testsrc2=size=$size:rate=30 -frames:v 10 -c:v libx264 -preset ultrafast \
        -pix_fmt yuv420p "$@" "$f"
}
clip 1280x720 "$T/hd709.mp4" -colorspace bt709 -color_primaries bt709 -color_trc bt709 -color_range tv
clip 1280x720 "$T/hd.mp4"
clip 640x360 "$T/sd.mp4"
clip 640x360 "$T/sd709.mp4" -colorspace bt709 -color_primaries bt709 -color_trc bt709
check() { # INPUT EXPECTED: crispd (a model, upscaled to 720p) writes EXPECTED tags
    "$CRISPD" --input "file:$T/$1" --output "file:$T/out-$1.mkv" --size 1280x720 \
        --model "${CRISP_SOURCE_ROOT:-.}/models/unsharp-mask.crisp" 2>"$T/err"
    local got
    got=$(tags "$T/out-$1.mkv")
    if [ "$got" = "$2" ]; then ok "$1 -> $got"; else bad "$1 -> \"$got\", expected $2 ($(cat "$T/err"))"; fi
}
check hd709.mp4 "tv,bt709,bt709,bt709"
check hd.mp4 "tv,bt709,bt709,bt709"
check sd.mp4 "tv,smpte170m,smpte170m,smpte170m"
check sd709.mp4 "tv,bt709,bt709,bt709"

# variable frame rate: frames 0-19, 60-65 and 200-230 of a 30 fps clip
ffmpeg -v error -y -f lavfi -i testsrc2=size=320x180:rate=30:duration=8 \
    -vf "select='between(n\,0\,19)+between(n\,60\,65)+between(n\,200\,230)'" -fps_mode vfr \
    -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$T/vfr.mkv"
"$CRISPD" --input "file:$T/vfr.mkv" --output "file:$T/vfr-out.mkv" --bypass --size 320x180 2>"$T/err"
# times from each one's first frame (the output starts at 0), to the millisecond
times() {
    ffprobe -v error -select_streams v -show_entries frame=pts_time -of csv=p=0 "$1" |
        awk 'NR == 1 { t0 = $1 } { printf "%.3f\n", $1 - t0 }'
}
times "$T/vfr.mkv" >"$T/d-in"
times "$T/vfr-out.mkv" >"$T/d-out"
n=$(wc -l <"$T/d-in")
off=$(paste "$T/d-in" "$T/d-out" | awk '{ d = $1 - $2; if (d < 0) d = -d; if (d > 0.002 || NF != 2) n++ } END { print n + 0 }')
if [ "$n" -gt 50 ] && [ "$(wc -l <"$T/d-out")" = "$n" ] && [ "$off" = 0 ] &&
    awk 'NR > 1 && $1 - p > 1 { gap = 1 } { p = $1 } END { exit !gap }' "$T/d-out"; then
    ok "VFR: $n frames over $(tail -1 "$T/d-out") s with its gaps, every frame within 2 ms of its input time"
else
    bad "VFR: $(wc -l <"$T/d-out") frames, last at $(tail -1 "$T/d-out") s; input $n frames, last at $(tail -1 "$T/d-in") s; $off off ($(cat "$T/err"))"
fi
finish
