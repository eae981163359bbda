#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# crispd's RTP input against an attacker on 127.0.0.1 (docs/reliability.md):
# a flood of 2,000 garbage datagrams a second from another port beside a
# live ffmpeg sender (random bytes, then valid RTP headers of the stream's
# payload type) leaves 90% or more of the sender's frames, no reopen and no
# "no signal" frame; when the sender stops, "no signal" comes on time; valid RTP headers around random payloads with no real
# sender paint no picture (counted corrupt); an SDP port out of range and a
# port already in use are refused in one line naming the problem.
set -u
: "${CRISPD:?}" "${RTP_FLOOD:?}"
. "$(dirname "$0")/../common.sh"
need ffmpeg "no ffmpeg CLI"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT
PORT=$((20000 + (RANDOM % 20000) * 2))
sdp() { # PORT FILE
    printf 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=crisp test\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video %s RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\n' "$1" >"$2"
}
sdp $PORT "$T/in.sdp"
send() { # seconds
    ffmpeg -v error -re -f lavfi -i testsrc2=size=640x360:rate=30 -t "$1" -c:v libx264 \
        -preset ultrafast -tune zerolatency -g 30 -pix_fmt yuv420p -f rtp "rtp://127.0.0.1:$PORT"
}
num() { sed -n -E "s/.*\"$1\": ([0-9]+).*/\1/p" "$2"; }
crispd_bg() { # NAME: receives the SDP's stream into a hash sink
    "$CRISPD" --input "sdp:$T/in.sdp" --output "hash:$T/$1.txt" --bypass --size 640x360 \
        --fps 30 --no-signal 2 --stats-json "$T/$1.json" 2>"$T/$1.err" &
    CPID=$!
    PIDS+=($CPID)
}
stop_crispd() {
    kill -TERM $CPID
    wait $CPID
}

# a flood beside a live sender: 180 frames sent over 6 s, garbage for 4 s of them
for kind in random "rtp 96"; do
    name=flood-${kind% *}
    crispd_bg $name
    sleep 1
    send 6 &
    SPID=$!
    sleep 1
    "$RTP_FLOOD" $PORT 2000 4 $kind >"$T/$name.sent"
    wait $SPID
    sleep 0.3
    stop_crispd
    rc=$?
    j=$T/$name.json
    out=$(num frames_out "$j") rep=$(num frames_repeated "$j") ns=$(num frames_no_signal "$j")
    fresh=$((${out:-0} - ${rep:-0} - ${ns:-0}))
    reo=$(num source_reopens "$j") lost=$(num source_lost "$j") rej=$(num rtp_rejected "$j")
    cat "$j"
    msg="$kind flood of $(cat "$T/$name.sent") datagrams: $fresh of 180 frames out, no-signal $ns, reopens $reo, lost $lost, rejected $rej"
    if [ $rc = 0 ] && [ "$fresh" -ge 162 ] && [ "$fresh" -le 180 ] && [ "$ns" = 0 ] && [ "$reo" = 0 ] &&
        [ "$lost" = 0 ] && [ "${rej:-0}" -ge 7000 ]; then
        ok "$msg"
    else
        bad "$msg (rc $rc; $(tail -2 "$T/$name.err"))"
    fi
done

# valid RTP headers of the stream's payload type around random payloads, no
# sender: nothing is painted; what decodes is counted corrupt. The SDP
# carries a real encoder's parameter sets (as a WebRTC offer does), so
# random slices decode into pictures
sed 's|packetization-mode=1|packetization-mode=1; sprop-parameter-sets=Z0LAHtoCgL/lwEQAAAMABAAAAwDyPFi6gA==,aM4PyA==; profile-level-id=42C01E|' \
    "$T/in.sdp" >"$T/sprop.sdp"
cp "$T/in.sdp" "$T/plain.sdp"
cp "$T/sprop.sdp" "$T/in.sdp"
crispd_bg paint
sleep 1
"$RTP_FLOOD" $PORT 1000 5 rtp 96 >/dev/null
sleep 0.3
stop_crispd
rc=$?
j=$T/paint.json
fresh=$(($(num frames_out "$j") - $(num frames_repeated "$j") - $(num frames_no_signal "$j")))
if [ $rc = 0 ] && [ "$(num frames_in "$j")" = 0 ] && [ $fresh = 0 ] && [ "$(num frames_corrupt "$j")" -gt 0 ]; then
    ok "garbage behind valid RTP headers: no picture, $(num frames_corrupt "$j") corrupt"
else
    bad "garbage behind valid RTP headers: rc $rc $(cat "$j")"
fi
cp "$T/plain.sdp" "$T/in.sdp"

# a sender that stops: "no signal" replaces the repeats --no-signal (1 s)
# after its last frame, not a second later (its last picture used to come
# out of FFmpeg's parser only when a 1 s read deadline ran out)
"$CRISPD" --input "sdp:$T/in.sdp" --output null: --bypass --size 640x360 --fps 30 --no-signal 1 \
    --stats-json "$T/ns.json" 2>"$T/ns.err" &
CPID=$!
PIDS+=($CPID)
sleep 0.5
send 2
sleep 3
stop_crispd
rc=$?
rep=$(num frames_repeated "$T/ns.json") ns=$(num frames_no_signal "$T/ns.json")
if [ $rc = 0 ] && [ "${rep:-0}" -ge 20 ] && [ "${rep:-99}" -le 45 ] && [ "${ns:-0}" -ge 45 ]; then
    ok "sender gone: $rep repeats (1 s at 30 fps is 30), then $ns no-signal frames"
else
    bad "sender gone: rc $rc, $rep repeats, $ns no-signal frames (expected about 30, then about 60)"
fi

# SDP ports: out of range, and in use by another program
sdp 99999 "$T/bad.sdp"
timeout 10 "$CRISPD" --input "sdp:$T/bad.sdp" --output null: --bypass --frames 1 2>"$T/bad.err"
rc=$?
if [ $rc = 1 ] && [ "$(wc -l <"$T/bad.err")" = 1 ] && grep -q 'bad.sdp:6: video port "99999" out of range' "$T/bad.err"; then
    ok "SDP port 99999: $(cat "$T/bad.err")"
else
    bad "SDP port 99999: rc $rc $(cat "$T/bad.err")"
fi
crispd_bg holder
sleep 1
timeout 10 "$CRISPD" --input "sdp:$T/in.sdp" --output null: --bypass --frames 1 2>"$T/busy.err"
rc=$?
stop_crispd
if [ $rc = 1 ] && [ "$(wc -l <"$T/busy.err")" = 1 ] && grep -q "UDP port $PORT: Address already in use" "$T/busy.err"; then
    ok "SDP port in use: $(cat "$T/busy.err")"
else
    bad "SDP port in use: rc $rc $(cat "$T/busy.err")"
fi
finish
