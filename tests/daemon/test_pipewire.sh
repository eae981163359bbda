#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# crispd as a PipeWire camera, against a real PipeWire daemon that this test
# starts with a minimal config (pipewire-test.conf) in a private
# XDG_RUNTIME_DIR: no D-Bus, no session manager. A real consumer node of ours
# (pw_consume.c) is linked to crispd's node with pw-link, as a session
# manager would; in --bypass every frame it receives must be one of the
# frames the hash: sink writes for the same clip, in each offered format
# (YUY2, I420, NV12). Consumers come and go on one crispd, and crispd is
# restarted. Everything started here is stopped by PID.
set -u
: "${CRISPD:?}" "${PW_CONSUME:?}"
HERE=$(cd "$(dirname "$0")" && pwd)
command -v ffmpeg >/dev/null || { echo "SKIP: no ffmpeg CLI"; exit 77; }
for b in pipewire pw-link pw-dump; do
    command -v $b >/dev/null || { echo "SKIP: $b not installed (apt-get install pipewire pipewire-bin)"; exit 77; }
done
T=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
fails=0 checks=0
ok() { checks=$((checks + 1)); echo "ok: $*"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }

export XDG_RUNTIME_DIR=$T/run PIPEWIRE_RUNTIME_DIR=$T/run
unset PIPEWIRE_REMOTE DBUS_SESSION_BUS_ADDRESS
mkdir -m 700 "$XDG_RUNTIME_DIR"
pipewire -c "$HERE/pipewire-test.conf" >"$T/pipewire.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
    [ -S "$XDG_RUNTIME_DIR/pipewire-0" ] && pw-dump >/dev/null 2>&1 && break
    sleep 0.1
done
if ! pw-dump >/dev/null 2>&1; then
    cat "$T/pipewire.log"
    echo "SKIP: the PipeWire daemon does not start here"
    exit 77
fi
echo "PipeWire daemon ($(pipewire --version | tail -1)) up in $XDG_RUNTIME_DIR"

W=640 H=360
ffmpeg -v error -y -f lavfi -i testsrc2=size=${W}x${H}:rate=30 -t 12 -c:v libx264 -preset ultrafast \
    -pix_fmt yuv420p "$T/clip.mkv" || { echo "cannot make a clip"; exit 1; }
"$CRISPD" --input "file:$T/clip.mkv" --output "hash:$T/all.txt" --bypass --size ${W}x${H} ||
    { echo "FAIL: hash sink"; exit 1; }
sort -u "$T/all.txt" >"$T/all.sorted"

CPID=
start_crispd() { # NAME
    "$CRISPD" --input "file:$T/clip.mkv" --bypass --size ${W}x${H} --output "pipewire:$1" -v \
        --stats-json "$T/stats-$1.json" >"$T/crispd-$1.log" 2>&1 &
    CPID=$!
    PIDS+=($CPID)
    for _ in $(seq 50); do
        pw-link -o 2>/dev/null | grep -q "^$1:" && return 0
        sleep 0.1
    done
    return 1
}

consume() { # NODE FORMAT TAG
    local node=$1 fmt=$2 tag=$3
    "$PW_CONSUME" --name "consumer-$tag" --format "$fmt" --size ${W}x${H} --frames 60 --timeout 15 \
        --out "$T/got-$tag.txt" >"$T/consume-$tag.log" 2>&1 &
    local pid=$!
    PIDS+=($pid)
    local in=
    for _ in $(seq 50); do
        in=$(pw-link -i 2>/dev/null | grep "^consumer-$tag:" | head -1)
        [ -n "$in" ] && break
        sleep 0.1
    done
    local out
    out=$(pw-link -o 2>/dev/null | grep "^$node:" | head -1)
    if [ -z "$in" ] || [ -z "$out" ] || ! pw-link "$out" "$in"; then
        bad "$tag: cannot link '$out' to '$in'"
        return
    fi
    wait $pid
    local rc=$?
    local n
    n=$(wc -l <"$T/got-$tag.txt")
    if [ $rc = 0 ] && [ "$n" -ge 60 ] && grep -q "^format ${fmt^^} ${W}x${H} 30/1 matrix bt601 range 16-235" "$T/consume-$tag.log"; then
        # (an untagged 640x360 clip: BT.601, limited range, as players take it)
        ok "$tag: $n frames of ${fmt^^} ${W}x${H} at 30/1, BT.601 limited range, arrived"
    else
        bad "$tag: rc $rc, $n frames; $(tr '\n' ' ' <"$T/consume-$tag.log")"
    fi
    local foreign
    foreign=$(sort -u "$T/got-$tag.txt" | comm -23 - "$T/all.sorted" | wc -l)
    local distinct
    distinct=$(sort -u "$T/got-$tag.txt" | wc -l)
    if [ "$foreign" = 0 ] && [ "$distinct" -ge 30 ]; then
        ok "$tag: every frame matches the hash: sink bit for bit ($distinct distinct frames)"
    else
        bad "$tag: $foreign frames not from the source, $distinct distinct"
    fi
}

# 1. one crispd, two consumers one after the other
if start_crispd crisp-a; then
    ok "crispd's node crisp-a appeared"
    node=$(pw-dump 2>/dev/null | python3 -c '
import json, sys
for o in json.load(sys.stdin):
    p = o.get("info", {}).get("props", {})
    if p.get("node.name") == "crisp-a":
        print(p.get("media.class"), p.get("media.role"), p.get("node.description"))')
    if [ "$node" = "Video/Source Camera crisp-a" ]; then
        ok "node properties: $node"
    else
        bad "node properties: '$node'"
    fi
    consume crisp-a yuy2 a-yuy2
    consume crisp-a i420 a-i420
    kill -INT $CPID
    wait $CPID
    rc=$?
    [ $rc = 0 ] && ok "crispd stopped cleanly" || { bad "crispd exit $rc"; cat "$T/crispd-crisp-a.log"; }
else
    bad "crispd's PipeWire node did not appear"
    cat "$T/crispd-crisp-a.log"
fi

# 2. crispd restarted: a new producer, the third format
if start_crispd crisp-a; then
    consume crisp-a nv12 b-nv12
    kill -TERM $CPID
    wait $CPID
    rc=$?
    [ $rc = 0 ] && ok "restarted crispd stopped cleanly" || bad "restarted crispd exit $rc"
else
    bad "restarted crispd's node did not appear"
fi

# 3. the daemon goes away under crispd: logged, crispd keeps running
if start_crispd crisp-c; then
    kill "${PIDS[0]}"
    wait "${PIDS[0]}" 2>/dev/null
    sleep 1
    if kill -0 $CPID 2>/dev/null; then
        ok "crispd survives the PipeWire daemon going away"
    else
        bad "crispd died with the PipeWire daemon"
    fi
    kill -TERM $CPID
    wait $CPID
    grep -q "pipewire crisp-c:.*retrying" "$T/crispd-crisp-c.log" && ok "the loss was logged" ||
        bad "no log line about the lost daemon"
fi

echo "$checks checks, $fails failed"
[ $fails = 0 ]
