#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs inside the QEMU guest (tests/v4l2/test_qemu_v4l2.sh), chrooted into
# the host's root: vivid is /dev/video0 (a webcam), v4l2loopback /dev/video10.
# Three rounds: crispd captures from vivid at 320x180, sharpens (the unsharp
# mask model through the same oneDNN engine: crisp-rt takes seconds per
# frame under software emulation) and writes YUYV to the loopback; v4l2-ctl streams N frames from it
# and checks size, format and rate; crispd is stopped with SIGTERM and must
# leave the device usable for the next round. Prints ok/FAIL lines and a
# GUEST-SUMMARY line for the host.
CRISPD=$1 MODEL=$2
OUT=${OUT:?}
fails=0 checks=0
ok() { checks=$((checks + 1)); echo "ok: $*"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }
W=320 H=180
# frames read per round: the loopback repeats crispd's last frame at the set
# rate while the guest infers one frame in about 0.5 s (v4l2-ctl reads about
# 14 frames per inference), so 180 frames hold about 12 distinct pictures;
# 60 held only 4-5 and made the ">= 5 distinct" check fail by chance
N=180
echo "info: $(uname -r), $(nproc) CPUs, devices: $(ls /dev/video* | tr '\n' ' ')"
[ -e /dev/video0 ] && [ -e /dev/video10 ] || bad "vivid or v4l2loopback device missing"
v4l2-ctl -d /dev/video10 --info 2>&1 | grep -q "Driver name *: v4l2 loopback" &&
    ok "v4l2loopback at /dev/video10" ||
    bad "/dev/video10 is not v4l2loopback"

for round in 1 2 3; do
    "$CRISPD" --input v4l2:/dev/video0 --output v4l2loopback:/dev/video10 --size ${W}x${H} --fps 30 \
        --model "$MODEL" --threads 1 -v --stats-json "$OUT/stats-$round.json" \
        >"$OUT/crispd-$round.log" 2>&1 &
    pid=$!
    ready=
    for _ in $(seq 150); do # exclusive_caps: capture appears once crispd streams
        if v4l2-ctl -d /dev/video10 --info 2>/dev/null | grep -q "Video Capture"; then
            ready=1
            break
        fi
        kill -0 $pid 2>/dev/null || break
        sleep 0.2
    done
    if [ -z "$ready" ]; then
        bad "round $round: the loopback never became a capture device; $(tail -2 "$OUT/crispd-$round.log")"
        kill $pid 2>/dev/null
        wait $pid
        continue
    fi
    fmt=$(v4l2-ctl -d /dev/video10 --get-fmt-video 2>&1)
    if echo "$fmt" | grep -q "Width/Height *: $W/$H" && echo "$fmt" | grep -q "'YUYV'"; then
        ok "round $round: the loopback offers YUYV ${W}x${H}"
    else
        bad "round $round: loopback format: $(echo "$fmt" | tr '\n' ' ')"
    fi
    # vivid's sRGB YUYV is BT.601 limited range: crispd announces that, in
    # so many words (v4l2loopback 0.12 keeps the colorspace field sRGB)
    if echo "$fmt" | grep -q "Encoding *: ITU-R 601" && echo "$fmt" | grep -q "Quantization *: Limited Range" &&
        echo "$fmt" | grep -q "Transfer Function *: Rec. 709"; then
        ok "round $round: the loopback announces BT.601 encoding, limited range, Rec. 709 transfer"
    else
        bad "round $round: loopback format: $(echo "$fmt" | tr '\n' ' ')"
    fi
    sleep 2 # let the pipeline warm up under emulation
    t0=$(date +%s.%N)
    timeout 90 v4l2-ctl -d /dev/video10 --stream-mmap --stream-count=$N --stream-to="$OUT/frames-$round.yuv" \
        >"$OUT/reader-$round.log" 2>&1
    rrc=$?
    t1=$(date +%s.%N)
    size=$(stat -c %s "$OUT/frames-$round.yuv" 2>/dev/null || echo 0)
    fps=$(echo "$t0 $t1" | awk -v n=$N '{ printf "%.1f", n / ($2 - $1) }')
    if [ $rrc = 0 ] && [ "$size" = $((N * W * H * 2)) ]; then
        ok "round $round: $N frames of ${W}x${H} YUYV read back at $fps fps"
    else
        bad "round $round: reader exit $rrc, $size bytes; $(tail -2 "$OUT/reader-$round.log")"
    fi
    # the rate: crispd publishes at 30 fps; under software emulation on a
    # loaded 2-core host the guest reaches 9..25 fps. The check is for a
    # stream that flows (not stalled, not faster than set), not for speed.
    if awk -v f="$fps" 'BEGIN { exit !(f >= 5 && f <= 45) }'; then
        ok "round $round: rate $fps fps (30 set; between 5 and 45 under software emulation)"
    else
        bad "round $round: rate $fps fps"
    fi
    # frames are pictures, not a constant: vivid's pattern went through crispd
    distinct=$(split -b $((W * H * 2)) -d -a 3 "$OUT/frames-$round.yuv" "$OUT/f$round-" &&
        md5sum "$OUT"/f$round-* | cut -d' ' -f1 | sort -u | wc -l)
    rm -f "$OUT"/f$round-* "$OUT/frames-$round.yuv"
    [ "${distinct:-0}" -ge 5 ] && ok "round $round: $distinct distinct frames" ||
        bad "round $round: only ${distinct:-0} distinct frames"
    kill -TERM $pid
    wait $pid
    rc=$?
    [ $rc = 0 ] && ok "round $round: crispd stopped cleanly" || bad "round $round: crispd exit $rc"
    if grep -q '"frames_in": [1-9]' "$OUT/stats-$round.json" 2>/dev/null; then
        ok "round $round: $(sed 's/.*\("frames_in": [0-9]*\).*\("frames_out": [0-9]*\).*\("infer_ms": {[^}]*}\).*/\1, \2, \3/' "$OUT/stats-$round.json")"
    else
        bad "round $round: no frames captured from vivid"
    fi
done

# bad input on real devices: a capture device as the sink, a missing device
timeout 150 "$CRISPD" --input v4l2:/dev/video0 --output v4l2loopback:/dev/video0 --bypass --frames 30 >"$OUT/bad1.log" 2>&1
rc=$?
[ $rc != 0 ] && [ "$(wc -l <"$OUT/bad1.log")" = 1 ] && ok "vivid as the sink: $(cat "$OUT/bad1.log")" ||
    bad "vivid as the sink: exit $rc, $(cat "$OUT/bad1.log")"
timeout 150 "$CRISPD" --input v4l2:/dev/video9 --output null: --bypass --frames 30 >"$OUT/bad2.log" 2>&1
rc=$?
[ $rc = 1 ] && [ "$(wc -l <"$OUT/bad2.log")" = 1 ] && ok "missing camera: $(cat "$OUT/bad2.log")" ||
    bad "missing camera: exit $rc, $(cat "$OUT/bad2.log")"
# a busy camera: a second crispd while the first streams from vivid (waits
# until the first has negotiated; every run here is bounded by timeout)
"$CRISPD" --input v4l2:/dev/video0 --output null: --bypass -v >"$OUT/first.log" 2>&1 &
first=$!
for _ in $(seq 100); do
    grep -q "input v4l2:/dev/video0: YUYV" "$OUT/first.log" && break
    sleep 0.2
done
timeout 150 "$CRISPD" --input v4l2:/dev/video0 --output null: --bypass --frames 30 >"$OUT/bad3.log" 2>&1
rc=$?
kill -TERM $first
wait $first
[ $rc = 1 ] && grep -q "busy" "$OUT/bad3.log" && ok "busy camera: $(cat "$OUT/bad3.log")" ||
    bad "busy camera: exit $rc, $(cat "$OUT/bad3.log")"

# permission denied: crispd as nobody (devtmpfs makes the nodes root-only)
timeout 150 setpriv --reuid=65534 --regid=65534 --clear-groups "$CRISPD" --input v4l2:/dev/video0 \
    --output null: --bypass --frames 30 >"$OUT/bad4.log" 2>&1
rc=$?
[ $rc = 1 ] && grep -q "permission denied" "$OUT/bad4.log" && [ "$(wc -l <"$OUT/bad4.log")" = 1 ] &&
    ok "no permission: $(cat "$OUT/bad4.log")" || bad "no permission: exit $rc, $(cat "$OUT/bad4.log")"
# a camera with none of our pixel formats: the loopback fed RGB24 by ffmpeg
ffmpeg -v error -re -f lavfi -i testsrc=size=${W}x${H}:rate=10 -pix_fmt rgb24 -f v4l2 /dev/video10 \
    >"$OUT/ffmpeg-rgb.log" 2>&1 &
fpid=$!
for _ in $(seq 50); do
    v4l2-ctl -d /dev/video10 --info 2>/dev/null | grep -q "Video Capture" && break
    sleep 0.2
done
timeout 150 "$CRISPD" --input v4l2:/dev/video10 --output null: --bypass --frames 30 >"$OUT/bad5.log" 2>&1
rc=$?
kill $fpid 2>/dev/null
wait $fpid 2>/dev/null
[ $rc = 1 ] && grep -q "offers none of YUYV, NV12, MJPEG" "$OUT/bad5.log" &&
    ok "unsupported pixel format: $(cat "$OUT/bad5.log")" ||
    bad "unsupported pixel format: exit $rc, $(cat "$OUT/bad5.log")"

echo "GUEST-SUMMARY $checks checks, $fails failed"
