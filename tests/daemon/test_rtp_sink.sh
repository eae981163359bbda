#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# crispd's RTP sink on 127.0.0.1: it writes an SDP (--sdp-out) that a real
# ffmpeg receiver opens, and the receiver decodes crispd's H.264 at the
# expected size.
set -u
. "$(dirname "$0")/net-common.sh"
PORT=$((20001 + (RANDOM % 20000) * 2))
ffmpeg -v error -y -f lavfi -i testsrc2=size=640x360:rate=30 -frames:v 180 -c:v libx264 \
    -preset ultrafast -pix_fmt yuv420p "$T/clip.mp4"
"$CRISPD" --input "file:$T/clip.mp4" --output "rtp://127.0.0.1:$PORT" --sdp-out "$T/out.sdp" \
    --bypass --realtime --size 640x360 --stats-json "$T/s.json" 2>"$T/err" &
PIDS+=($!)
for i in $(seq 100); do [ -s "$T/out.sdp" ] && break; sleep 0.05; done
timeout 15 ffmpeg -v error -protocol_whitelist file,udp,rtp -i "$T/out.sdp" -t 4 \
    -f framemd5 "$T/recv.md5" 2>"$T/ffmpeg.err"
wait "${PIDS[0]}"
rc=$?
n=$(grep -vc '^#' "$T/recv.md5" 2>/dev/null || echo 0)
size=$(grep -m1 '^#dimensions' "$T/recv.md5" | tr -d ' ')
echo "crispd exit $rc, $(cat "$T/s.json"); receiver decoded $n frames, $size"
fails=0
[ $rc = 0 ] || { echo "FAIL: crispd exit $rc: $(cat "$T/err")"; fails=1; }
[ "$n" -ge 60 ] || { echo "FAIL: the receiver decoded $n frames (want >= 60 of the 120 sent in 4 s)"; fails=1; }
[ "$size" = "#dimensions0:640x360" ] || { echo "FAIL: received size '$size'"; fails=1; }
[ $fails = 0 ] && echo "1 passed, 0 failed"
exit $fails
