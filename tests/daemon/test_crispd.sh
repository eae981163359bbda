#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# crispd end to end on a clip made here by the ffmpeg CLI: bypass output is
# the decoded source bit for bit (ffmpeg's own framemd5), a model run at 720p
# reports sane stats, stripes write the same frames as the whole frame, a
# frame-pair model sees the previous frame, the file sink writes every frame, SIGTERM stops it
# promptly, and bad input gets a one-line error and a nonzero exit.
set -u
: "${CRISPD:?}" "${CRISP:?}" "${CRISP_SOURCE_ROOT:?}"
. "$(dirname "$0")/../common.sh"
need ffmpeg "no ffmpeg CLI"
MODEL=$CRISP_SOURCE_ROOT/models/crisp-rt.crisp
[ -f "$MODEL" ] || MODEL=$CRISP_SOURCE_ROOT/models/unsharp-mask.crisp
ffmpeg -v error -y -f lavfi -i testsrc2=size=1280x720:rate=30 -frames:v 45 -c:v libx264 \
    -preset veryfast -pix_fmt yuv420p "$T/clip.mp4" || { echo "cannot make a clip"; exit 1; }

"$CRISPD" --input "file:$T/clip.mp4" --output "hash:$T/h.txt" --bypass --stats-json "$T/b.json"
ffmpeg -v error -i "$T/clip.mp4" -f framemd5 -pix_fmt yuv420p - | grep -v '^#' |
    awk -F, '{ gsub(/ /, "", $6); print $6 }' >"$T/ref.txt"
if [ "$(wc -l <"$T/ref.txt")" = 45 ] && cmp -s "$T/h.txt" "$T/ref.txt"; then
    ok "bypass: 45 frames identical to ffmpeg's framemd5"
else
    bad "bypass hashes differ from the decoded source ($(wc -l <"$T/h.txt") lines)"
fi

"$CRISPD" --input "file:$T/clip.mp4" --output null: --model "$MODEL" --frames 30 \
    --stats-json "$T/s.json"
rc=$?
if [ $rc = 0 ] && grep -q '"frames_out": 30,' "$T/s.json" &&
    grep -Eq '"fps_out": [1-9]' "$T/s.json" && grep -q '"latency_ms": {"p50"' "$T/s.json" &&
    grep -Eq '"infer_ms": \{"p50": [0-9.]*[1-9]' "$T/s.json"; then
    ok "720p with $(basename "$MODEL"): $(cat "$T/s.json")"
else
    bad "model run rc=$rc: $(cat "$T/s.json" 2>/dev/null)"
fi

# stripe execution writes the same frames as the whole frame (the engine's
# fused 8-bit path against its float path through the stripes)
"$CRISPD" --input "file:$T/clip.mp4" --output "hash:$T/whole.txt" --model "$MODEL" --frames 12 2>/dev/null
"$CRISPD" --input "file:$T/clip.mp4" --output "hash:$T/striped.txt" --model "$MODEL" --frames 12 \
    --stripe-rows 64 2>"$T/striped.err"
if [ "$(wc -l <"$T/whole.txt")" = 12 ] && cmp -s "$T/whole.txt" "$T/striped.txt" &&
    ! cmp -s <(head -12 "$T/ref.txt") "$T/whole.txt"; then
    ok "--stripe-rows 64: 12 frames identical to the whole frame's, and sharpened"
else
    bad "--stripe-rows 64: $(cat "$T/striped.err"); $(wc -l <"$T/whole.txt") vs $(wc -l <"$T/striped.txt") hashes"
fi

# a frame-pair model reads the previous frame as it came in: a model that
# shows the previous frame's luma (tests/daemon/make_delay.c) on a grey clip
# coded losslessly (chroma constant) writes frame t-1 as frame t, and the
# first frame as itself; whole and in stripes
if [ -n "${MAKE_DELAY:-}" ] && "$MAKE_DELAY" "$T/delay.crisp" &&
    ffmpeg -v error -y -f lavfi -i testsrc2=size=320x180:rate=30 -vf hue=s=0 -frames:v 12 \
        -c:v libx264 -qp 0 -pix_fmt yuv420p "$T/grey.mp4"; then
    "$CRISPD" --input "file:$T/grey.mp4" --output "hash:$T/grey-in.txt" --bypass 2>/dev/null
    for rows in 0 64; do
        "$CRISPD" --input "file:$T/grey.mp4" --output "hash:$T/grey-$rows.txt" --model "$T/delay.crisp" \
            --precision fp32 --stripe-rows $rows 2>"$T/grey.err"
        if [ "$(wc -l <"$T/grey-$rows.txt")" = 12 ] && [ "$(sort -u "$T/grey-in.txt" | wc -l)" -gt 6 ] &&
            cmp -s <(head -1 "$T/grey-in.txt") <(head -1 "$T/grey-$rows.txt") &&
            cmp -s <(head -11 "$T/grey-in.txt") <(tail -11 "$T/grey-$rows.txt"); then
            ok "frame-pair model (stripe rows $rows): each frame shows the one before"
        else
            bad "frame-pair model (stripe rows $rows): $(cat "$T/grey.err")"
        fi
    done
else
    bad "cannot make the delay model or the grey clip"
fi

"$CRISPD" --input "file:$T/clip.mp4" --output "file:$T/out.mkv" --model "$MODEL"
n=$(ffprobe -v error -count_frames -select_streams v -show_entries stream=nb_read_frames,width,height -of csv=p=0 "$T/out.mkv")
if [ "$n" = "1280,720,45" ]; then ok "file sink: $n"; else bad "file sink wrote '$n'"; fi

# a different source size is scaled to --size
"$CRISPD" --input "file:$T/clip.mp4" --output "hash:$T/h2.txt" --bypass --size 640x360
if [ "$(wc -l <"$T/h2.txt")" = 45 ]; then ok "--size 640x360"; else bad "--size"; fi

# SIGTERM stops a live run within a second, with stats
ffmpeg -v error -y -f lavfi -i testsrc2=size=1280x720:rate=30 -frames:v 600 -c:v libx264 \
    -preset ultrafast -pix_fmt yuv420p "$T/long.mp4"
"$CRISPD" --input "file:$T/long.mp4" --output null: --bypass --realtime --stats-json "$T/l.json" &
pid=$!
sleep 1.5
t0=$(date +%s%N)
kill -TERM $pid
wait $pid
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if [ $rc = 0 ] && [ $ms -lt 1000 ] && grep -q frames_out "$T/l.json"; then
    ok "SIGTERM: stopped in $ms ms: $(cat "$T/l.json")"
else
    bad "SIGTERM: rc=$rc after $ms ms"
fi

# SIGHUP reloads the model without closing the sink; a broken file keeps the old one
cp "$MODEL" "$T/m.crisp"
# (each step waits for the one before to show: a sanitized build on a busy
# machine starts and reloads slowly)
waitfor() { # FILE PATTERN: up to 30 s
    for _ in $(seq 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}
# (a three-minute clip that cannot end during the test: the muxer writes its
# first cluster seconds after the start, and a TSan build on a busy 2-core
# machine had used up a 20 s clip before that)
ffmpeg -v error -y -f lavfi -i testsrc2=size=320x180:rate=30 -frames:v 5400 -c:v libx264 \
    -preset ultrafast -pix_fmt yuv420p "$T/hup.mp4"
"$CRISPD" --input "file:$T/hup.mp4" --output "file:$T/hup.mkv" --model "$T/m.crisp" --realtime \
    --stats-json "$T/hup.json" 2>"$T/hup.err" &
pid=$!
for _ in $(seq 900); do [ -s "$T/hup.mkv" ] && break; sleep 0.1; done # frames flow
sleep 0.5
head -c 100 "$MODEL" >"$T/m.crisp"
kill -HUP $pid
waitfor "$T/hup.err" "keeping the current model"
cp "$MODEL" "$T/m.crisp"
kill -HUP $pid
waitfor "$T/hup.err" "reloaded"
sleep 0.7
kill -TERM $pid
wait $pid
rc=$?
if [ $rc = 0 ] && grep -q "keeping the current model" "$T/hup.err" && grep -q "reloaded" "$T/hup.err" &&
    [ "$(ffprobe -v error -count_frames -select_streams v -show_entries stream=nb_read_frames -of csv=p=0 "$T/hup.mkv")" -gt 20 ]; then
    ok "SIGHUP: bad file refused, good file reloaded, one continuous output"
else
    bad "SIGHUP: rc=$rc $(cat "$T/hup.err")"
fi

# --model auto: a ladder of three models (the teacher as the large rung, the
# unsharp mask as the small one) timed at start; a generous latency budget
# takes the largest, an impossible one the smallest; live, a rung that falls
# behind (the teacher cannot keep 30 fps here) is stepped down without
# restarting. The CPU budget is set out of the way (tests/daemon/test_reuse.sh
# checks that rule); the stats say which rule chose.
mkdir -p "$T/ladder"
cp "$CRISP_SOURCE_ROOT/models/crisp-teacher.crisp" "$T/ladder/crisp-rt-l.crisp"
cp "$MODEL" "$T/ladder/crisp-rt.crisp"
cp "$CRISP_SOURCE_ROOT/models/unsharp-mask.crisp" "$T/ladder/crisp-rt-s.crisp"
"$CRISPD" --input "file:$T/clip.mp4" --output null: --model "auto:$T/ladder" --size 320x180 \
    --budget-ms 9000 --cpu-budget 1000 --frames 5 --stats-json "$T/a1.json" 2>"$T/a1.err"
"$CRISPD" --input "file:$T/clip.mp4" --output null: --model "auto:$T/ladder" --size 320x180 \
    --budget-ms 0.001 --cpu-budget 1000 --frames 5 --stats-json "$T/a2.json" 2>"$T/a2.err"
if grep -q '"model": "crisp-rt-l"' "$T/a1.json" && grep -q '"auto_rule": "fits"' "$T/a1.json" &&
    grep -q "budgets 9000.0 ms and 1000.00 cores: using crisp-rt-l (fits)" "$T/a1.err" &&
    grep -q '"model": "crisp-rt-s"' "$T/a2.json" && grep -q '"auto_rule": "smallest"' "$T/a2.json" &&
    grep -q "crisp-rt-s [0-9.]* ms [0-9.]* cores; budgets 0.0 ms and 1000.00 cores: using crisp-rt-s (smallest)" "$T/a2.err"; then
    ok "--model auto: $(cat "$T/a1.err" | tail -1) / $(tail -1 "$T/a2.err")"
else
    bad "--model auto: $(cat "$T/a1.err" "$T/a2.err" "$T/a1.json" "$T/a2.json")"
fi
"$CRISPD" --input "file:$T/long.mp4" --output null: --model "auto:$T/ladder" --size 320x180 \
    --budget-ms 9000 --cpu-budget 1000 --realtime --frames 240 --stats-json "$T/a3.json" 2>"$T/a3.err"
if grep -q "stepping down from crisp-rt-l to crisp-rt$" "$T/a3.err" && ! grep -q '"model": "crisp-rt-l"' "$T/a3.json" &&
    grep -q '"auto_rule": "step-down:latency"' "$T/a3.json"; then
    ok "--model auto steps down live: $(grep -o 'inference fell behind.*' "$T/a3.err" | head -1)"
else
    bad "--model auto step-down: $(cat "$T/a3.err") $(cat "$T/a3.json")"
fi

# config file: keys mirror the long options, the command line wins, errors name file:line
cat >"$T/c.conf" <<CONF
# crispd test configuration
[crispd]
input = file:$T/clip.mp4
output = "hash:$T/c1.txt"
bypass = true
size = 640x360
CONF
"$CRISPD" --config "$T/c.conf" && [ "$(wc -l <"$T/c1.txt")" = 45 ] && ok "config file run" || bad "config file run"
"$CRISPD" --config "$T/c.conf" --output "hash:$T/c2.txt" && [ -f "$T/c2.txt" ] && ok "command line wins over config" || bad "CLI override"
printf 'input = x\nbogus-key = 1\n' >"$T/bad1.conf"
printf 'strength = 7\n' >"$T/bad2.conf"
printf 'input x\n' >"$T/bad3.conf"

expect() { # code pattern args...
    local code=$1 pat=$2
    shift 2
    "$CRISPD" "$@" >/dev/null 2>"$T/err"
    local rc=$?
    if [ $rc = "$code" ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -Eq -- "$pat" "$T/err"; then
        ok "exit $rc: $(cat "$T/err")"
    else
        bad "exit $rc (want $code) for $*: $(cat "$T/err")"
    fi
}
expect 1 'nope.mp4: No such file' --input "file:$T/nope.mp4" --output null: --model "$MODEL"
expect 2 'unknown output "v4l3:x"' --input "file:$T/clip.mp4" --output v4l3:x
expect 1 'magic at offset 0' --input "file:$T/clip.mp4" --output null: --model "$T/clip.mp4"
"$CRISP" make-unsharp --rgb "$T/rgb.crisp"
expect 1 'works on RGB; crispd sharpens luma' --input "file:$T/clip.mp4" --output null: --model "$T/rgb.crisp"
expect 1 'cannot create .*nodir/x.mp4' --input "file:$T/clip.mp4" --output "file:$T/nodir/x.mp4" --bypass
expect 1 'input foo://bar' --input foo://bar --output null: --bypass
expect 2 'required' --output null:
expect 2 'strength' --input "file:$T/clip.mp4" --output null: --strength 3
if "$CRISPD" --input "file:$T/clip.mp4" --output null: --model "$MODEL" --strength 2 --frames 5 2>"$T/err"; then
    ok "--strength 2 runs"
else
    bad "--strength 2: $(cat "$T/err")"
fi
expect 2 'bad1.conf:2: bogus-key: unknown key' --config "$T/bad1.conf"
expect 2 'bad2.conf:1: strength: must be in 0..2' --config "$T/bad2.conf"
expect 2 'bad3.conf:1: expected "key = value"' --config "$T/bad3.conf"
expect 1 'config .*nope.conf: No such file' --config "$T/nope.conf"
# bad model files (docs/reliability.md)
head -c 5000 "$MODEL" >"$T/trunc.crisp"
expect 1 'trunc.crisp' --input "file:$T/clip.mp4" --output null: --model "$T/trunc.crisp"
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[8] = 7; open(sys.argv[2], "wb").write(b)' \
    "$MODEL" "$T/v7.crisp"
expect 1 'version' --input "file:$T/clip.mp4" --output null: --model "$T/v7.crisp"
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 0x40; open(sys.argv[2], "wb").write(b)' \
    "$MODEL" "$T/flip.crisp"
expect 1 'flip.crisp' --input "file:$T/clip.mp4" --output null: --model "$T/flip.crisp"
# sizes
expect 2 'size must be WxH, even' --input "file:$T/clip.mp4" --output null: --size 0x0
expect 2 'size must be WxH, even' --input "file:$T/clip.mp4" --output null: --size 641x360
expect 2 'size must be WxH, even' --input "file:$T/clip.mp4" --output null: --size 100000x100000
# config: an unknown section, a typo in a section header
printf '[crisp]\ninput = x\n' >"$T/bad4.conf"
printf '[crispd\ninput = x\n' >"$T/bad5.conf"
expect 2 'bad4.conf:2: input: in unknown section .crisp.' --config "$T/bad4.conf"
expect 2 'bad5.conf:1: malformed section header' --config "$T/bad5.conf"
# disk full on a file sink: the output is /dev/full behind an .mkv name
ln -s /dev/full "$T/full.mkv"
expect 1 'full.mkv: write failed \(No space left on device\)' --input "file:$T/clip.mp4" --output "file:$T/full.mkv" --bypass
# unknown pixel format for the camera sink
expect 2 'pixfmt must be yuyv or i420' --input "file:$T/clip.mp4" --output v4l2loopback:/dev/video9 --pixfmt rgb24
echo garbage >"$T/garbage.mp4"
expect 1 'garbage.mp4' --input "file:$T/garbage.mp4" --output null: --bypass

finish
