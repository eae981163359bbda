#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# crispd receiving H.264 over RTP on 127.0.0.1 from a real ffmpeg sender:
# at least 90% of the sent frames come out; when the sender goes away the
# sink keeps publishing (repeats, then "no signal"), garbage datagrams and
# truncated RTP packets do not
# hurt, and a new sender's picture comes back by itself.
set -u
. "$(dirname "$0")/net-common.sh"
PORT=$((20000 + (RANDOM % 20000) * 2))
cat >"$T/in.sdp" <<SDP
v=0
o=- 0 0 IN IP4 127.0.0.1
s=crisp test
c=IN IP4 127.0.0.1
t=0 0
m=video $PORT RTP/AVP 96
a=rtpmap:96 H264/90000
a=fmtp:96 packetization-mode=1
SDP
send() { # seconds
    ffmpeg -v error -re -f lavfi -i testsrc2=size=640x360:rate=30 -t "$1" -c:v libx264 \
        -preset ultrafast -tune zerolatency -g 10 -pix_fmt yuv420p -f rtp "rtp://127.0.0.1:$PORT"
}
timeout 60 "$CRISPD" --input "sdp:$T/in.sdp" --output "hash:$T/h.txt" --bypass --size 640x360 \
    --fps 30 --no-signal 1 --stats-json "$T/s.json" 2>"$T/err" &
CPID=$!
PIDS+=($CPID)
sleep 1
send 4                       # 120 frames
sleep 2.5                    # sender gone: repeats, then no signal, then reopen attempts
for i in $(seq 50); do head -c $((RANDOM % 1400 + 1)) /dev/urandom >/dev/udp/127.0.0.1/$PORT; done
send 3                       # 90 frames from a new sender
sleep 0.5
for i in $(seq 50); do head -c $((RANDOM % 1400 + 1)) /dev/urandom >/dev/udp/127.0.0.1/$PORT; done
# truncated RTP: valid headers (H.264, PT 96) cut inside a FU-A fragment or a
# NAL header, and a header alone
for i in $(seq 30); do
    printf '\x80\x60\x7f\x%02x\x00\x00\x10\x00\x12\x34\x56\x78\x7c' $i >/dev/udp/127.0.0.1/$PORT
    printf '\x80\xe0\x7f\x%02x\x00\x00\x10\x00\x12\x34\x56\x78' $i >/dev/udp/127.0.0.1/$PORT
    printf '\x80\x60\x7e\x%02x\x00\x00\x10\x00\x12\x34\x56\x78\x7c\x85\x88' $i >/dev/udp/127.0.0.1/$PORT
done
sleep 0.5
kill -TERM $CPID
wait $CPID
rc=$?
echo "crispd exit $rc: $(cat "$T/s.json" 2>/dev/null)"
fails=0
num() { sed -n -E "s/.*\"$1\": ([0-9]+).*/\1/p" "$T/s.json"; }
if [ $rc != 0 ] || [ ! -s "$T/s.json" ]; then
    echo "FAIL: crispd did not exit cleanly: $(tail -3 "$T/err")"; exit 1
fi
out=$(num frames_out) rep=$(num frames_repeated) ns=$(num frames_no_signal) reo=$(( $(num source_reopens) + $(num source_stalls) ))
fresh=$((out - rep - ns))
echo "fresh frames $fresh of 210 sent; repeated $rep, no-signal $ns, stalls and reopens $reo"
[ $fresh -ge 189 ] || { echo "FAIL: fewer than 90% of the sent frames came out"; fails=1; }
[ $fresh -le 210 ] || { echo "FAIL: more fresh frames than were sent"; fails=1; }
[ "$rep" -gt 0 ] && [ "$ns" -gt 0 ] || { echo "FAIL: the sink did not keep publishing while the sender was gone"; fails=1; }
[ "$reo" -ge 1 ] || { echo "FAIL: the stall was not noticed"; fails=1; }
[ $fails = 0 ] && echo "1 passed, 0 failed"
exit $fails
