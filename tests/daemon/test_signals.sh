#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# crispd ends promptly (exit 0 within 3 s) on SIGTERM or SIGINT in every
# state of start-up and of a live source: opening a FIFO nobody writes,
# probing one that went quiet, listening on TCP, building a large model,
# stalled on an RTP stream with no sender, reopening a live source that is
# not there. SIGHUP reloads are queued, never dropped: two reloads while the
# stream is stalled both succeed, and the later one is the model that runs
# when frames come.
set -u
: "${CRISPD:?}" "${CRISP_SOURCE_ROOT:?}"
. "$(dirname "$0")/../common.sh"
need ffmpeg "no ffmpeg CLI"
M=$CRISP_SOURCE_ROOT/models
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT
PORT=$((20000 + (RANDOM % 20000) * 2))

stops() { # NAME SIGNAL DELAY CRISPD-ARGS...: the signal after DELAY s ends crispd within 3 s, exit 0
    local name=$1 sig=$2 delay=$3
    shift 3
    "$CRISPD" "$@" 2>"$T/$name.err" &
    local pid=$!
    PIDS+=($pid)
    sleep "$delay"
    if ! kill -0 $pid 2>/dev/null; then
        bad "$name: crispd had already exited: $(tail -1 "$T/$name.err")"
        return
    fi
    local t0
    t0=$(date +%s%N)
    kill -"$sig" $pid
    for _ in $(seq 60); do kill -0 $pid 2>/dev/null || break; sleep 0.05; done
    if kill -0 $pid 2>/dev/null; then
        kill -9 $pid
        wait $pid 2>/dev/null
        bad "$name: still running 3 s after SIG$sig"
        return
    fi
    wait $pid
    local rc=$? ms=$((($(date +%s%N) - t0) / 1000000))
    if [ $rc = 0 ]; then
        ok "$name: SIG$sig ended it in $ms ms"
    else
        bad "$name: SIG$sig gave exit $rc: $(tail -2 "$T/$name.err")"
    fi
}

mkfifo "$T/quiet" "$T/probe"
stops fifo-open TERM 1.5 --input "file:$T/quiet" --output null: --model "$M/crisp-rt-s.crisp"
exec 3<>"$T/probe" # a writer that sent a few bytes and then nothing
printf 'crisp' >&3
stops fifo-probe INT 1.5 --input "file:$T/probe" --output null: --model "$M/crisp-rt-s.crisp"
exec 3>&-
stops tcp-listen TERM 1.5 --input "tcp://127.0.0.1:$PORT?listen=1" --output null: --bypass
ffmpeg -v error -y -f lavfi -i testsrc2=size=1280x720:rate=30 -frames:v 30 -c:v libx264 \
    -preset ultrafast -pix_fmt yuv420p "$T/clip.mp4"
stops model-build TERM 1 --input "file:$T/clip.mp4" --output "file:$T/o.mkv" \
    --model "$M/crisp-teacher.crisp" --size 1280x720
[ -e "$T/o.mkv" ] && bad "model-build: the output was created before the model was built"
# a SIGTERM that lands while oneDNN's AVX-512 kernels run (the teacher's
# warm-up) corrupted the heap in 3-5 of 50 runs when any thread could take the
# signal; now only crispd's signal thread does: 20 stops at spread-out times
if [ "${CRISP_SANITIZE:-none}" = none ]; then
    aborted=0
    for i in $(seq 20); do
        "$CRISPD" --input "file:$T/clip.mp4" --output "file:$T/w$i.mkv" --model "$M/crisp-teacher.crisp" \
            --size 1280x720 2>"$T/w.err" &
        pid=$!
        PIDS+=($pid)
        sleep "$(awk -v i=$i 'BEGIN{printf "%.2f", 0.4 + i * 0.04}')"
        kill -TERM $pid
        wait $pid
        rc=$?
        [ $rc = 0 ] || { aborted=$((aborted + 1)); echo "stop $i: exit $rc: $(tail -1 "$T/w.err")"; }
    done
    [ $aborted = 0 ] && ok "20 SIGTERMs during the teacher's build and warm-up: exit 0 each" ||
        bad "$aborted of 20 SIGTERMs during the build and warm-up did not exit 0"
fi
printf 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=crisp\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video %s RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\n' \
    $PORT >"$T/in.sdp"
stops rtp-stalled TERM 3 --input "sdp:$T/in.sdp" --output null: --bypass --size 320x180
stops rtp-reopening INT 3 --input "rtp://127.0.0.1:$((PORT + 2))" --output null: --bypass --size 320x180

# SIGHUP during a stall: both reloads apply, in order; the later one runs
waitfor() { # FILE PATTERN COUNT: up to 60 s
    for _ in $(seq 600); do [ "$(grep -c "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0; sleep 0.1; done
    return 1
}
cp "$M/unsharp-mask.crisp" "$T/live.crisp"
"$CRISPD" --input "sdp:$T/in.sdp" --output null: --model "$T/live.crisp" --size 320x180 --fps 30 \
    --stats-json "$T/hup.json" 2>"$T/hup.err" &
pid=$!
PIDS+=($pid)
sleep 1
cp "$M/crisp-teacher.crisp" "$T/live.crisp"
kill -HUP $pid
waitfor "$T/hup.err" "SIGHUP: reloaded" 1
sleep 1
cp "$M/unsharp-mask.crisp" "$T/live.crisp"
kill -HUP $pid
waitfor "$T/hup.err" "SIGHUP: reloaded" 2
ffmpeg -v error -re -f lavfi -i testsrc2=size=320x180:rate=30 -t 2 -c:v libx264 -preset ultrafast \
    -tune zerolatency -g 30 -pix_fmt yuv420p -f rtp "rtp://127.0.0.1:$PORT"
sleep 0.3
kill -TERM $pid
wait $pid
rc=$?
p50=$(sed -n -E 's/.*"infer_ms": \{"p50": ([0-9]+)\..*/\1/p' "$T/hup.json")
reloads=$(sed -n -E 's/.*"reloads": ([0-9]+).*/\1/p' "$T/hup.json")
fresh=$(sed -n -E 's/.*"frames_in": ([0-9]+).*/\1/p' "$T/hup.json")
# the teacher takes about 400 ms a 320x180 frame (2-core Xeon, release
# build), the unsharp mask about 1 ms (25 under ThreadSanitizer)
if [ $rc = 0 ] && [ "$reloads" = 2 ] && ! grep -q "nothing to reload" "$T/hup.err" &&
    [ "${fresh:-0}" -ge 10 ] && [ "${p50:-999}" -lt 100 ]; then
    ok "two reloads while stalled: both applied, the later (unsharp mask, inference p50 ${p50} ms) runs"
else
    bad "reloads while stalled: rc $rc, reloads $reloads, frames $fresh, inference p50 $p50 ms: $(cat "$T/hup.err")"
fi
finish
