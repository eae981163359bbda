#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# crispd --reuse (lib/nn/reuse.c) as a receiver runs it: a call whose
# picture is mostly still (colour bars with a moving box, sent at 640x360,
# H.264 CRF 32, upscaled by crispd to 1280x720). With reuse the output
# frames are the same bytes as without (hash sink), for the ladder's int8
# model, in f32, in stripes and for a frame-pair model, while most tiles
# are copied (stats tiles_reused_share, 0 with --reuse 0); bad --reuse and
# --cpu-budget values are refused; --model auto with a tiny and a huge CPU
# budget says which rule chose (auto_rule).
set -u
: "${CRISPD:?}" "${CRISP:?}"
. "$(dirname "$0")/../common.sh"
need ffmpeg "no ffmpeg CLI"
need python3
M=$CRISP_SOURCE_ROOT/models
ffmpeg -v error -y -f lavfi -i smptebars=size=640x360:rate=30 -f lavfi -i testsrc=size=64x64:rate=30 \
    -filter_complex "[0][1]overlay=x='mod(t*90\,560)':y=140" -frames:v 45 -c:v libx264 -preset veryfast \
    -tune zerolatency -crf 32 -pix_fmt yuv420p "$T/call.mp4" || skip "ffmpeg cannot make the clip"
share() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["tiles_reused_share"], d["tiles"], d["reuse"], d["reuse_mode"])' "$1"; }
run() { # NAME REUSE options...: hash file $T/NAME-REUSE.txt, stats $T/NAME-REUSE.json
    local name=$1 r=$2
    shift 2
    "$CRISPD" --input "file:$T/call.mp4" --output "hash:$T/$name-$r.txt" --size 1280x720 --reuse "$r" \
        --stats-json "$T/$name-$r.json" "$@" 2>"$T/$name-$r.err"
}
"$CRISP" make-pair "$M/crisp-rt-s.crisp" "$T/pair.crisp" >/dev/null 2>&1 || bad "crisp make-pair"
for c in "int8:--model $M/crisp-rt.crisp" "f32:--model $M/crisp-rt-s.crisp --precision fp32" \
    "stripes:--model $M/crisp-rt.crisp --stripe-rows 96" "pair:--model $T/pair.crisp" \
    "border:--model $M/unsharp-mask.crisp"; do
    name=${c%%:*}
    # shellcheck disable=SC2086
    if run "$name" 0 ${c#*:} && run "$name" 1 ${c#*:}; then
        s0=$(share "$T/$name-0.json") s1=$(share "$T/$name-1.json")
        n=$(wc -l <"$T/$name-1.txt")
        if [ "$n" -ge 44 ] && cmp -s "$T/$name-0.txt" "$T/$name-1.txt"; then
            ok "$name: $n frames, the same bytes with and without reuse"
        else
            bad "$name: outputs differ ($n frames)"
        fi
        python3 -c 'import sys; a=sys.argv[1].split(); b=sys.argv[2].split(); sys.exit(not (float(a[0]) == 0 and a[2] == "False" and a[3] == "off" and float(b[0]) > 0.3 and b[2] == "True" and b[3] == sys.argv[3]))' "$s0" "$s1" "$([ "$name" = int8 ] && echo layers || echo windows)" &&
            ok "$name: tiles reused $s1 (share, tiles, reuse, mode); without: $s0" || bad "$name: tiles reused $s1, without $s0"
    else
        bad "$name: crispd failed: $(cat "$T/$name-0.err" "$T/$name-1.err" | tail -2)"
    fi
done
for bad_opt in "--reuse 2" "--reuse yes" "--cpu-budget 0" "--cpu-budget -1" "--cpu-budget x"; do
    # shellcheck disable=SC2086
    "$CRISPD" --input "file:$T/call.mp4" --output null: $bad_opt 2>"$T/e"
    rc=$?
    [ "$rc" = 2 ] && [ "$(wc -l <"$T/e")" = 1 ] && ok "$bad_opt refused: $(cat "$T/e")" || bad "$bad_opt: exit $rc $(cat "$T/e")"
done
printf 'reuse = maybe\n' >"$T/bad.conf"
"$CRISPD" --config "$T/bad.conf" --input "file:$T/call.mp4" --output null: 2>"$T/e"
[ $? = 2 ] && grep -q "reuse" "$T/e" && ok "config reuse = maybe refused" || bad "config: $(cat "$T/e")"
# --model auto's rules: no model fits 0.001 cores; every model fits 64 cores and 10 s;
# with --reuse 1 the rung kept reuses tiles (the rungs timed are built without)
"$CRISPD" --input "file:$T/call.mp4" --output null: --size 1280x720 --model "auto:$M" --cpu-budget 0.001 \
    --reuse 1 --frames 20 --stats-json "$T/auto1.json" 2>"$T/auto1.err"
"$CRISPD" --input "file:$T/call.mp4" --output null: --size 1280x720 --model "auto:$M" --cpu-budget 64 \
    --budget-ms 10000 --frames 5 --stats-json "$T/auto2.json" 2>"$T/auto2.err"
python3 - "$T/auto1.json" "$T/auto2.json" <<'PY' && ok "auto: tiny budget -> smallest (crisp-rt-xs, reusing tiles), huge -> fits (crisp-rt-l)" || bad "auto rules: $(grep -h 'model auto' "$T"/auto*.err)"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert a["auto_rule"] == "smallest" and a["model"] == "crisp-rt-xs", a
assert a["tiles"] > 0 and a["tiles_reused"] > 0, a
assert b["auto_rule"] == "fits" and b["model"] == "crisp-rt-l", b
PY
grep -q "cores" "$T/auto1.err" && ok "auto logs each model's CPU: $(grep -o 'crisp-rt-l[^,]*' "$T/auto1.err" | head -1)" || bad "no CPU in the auto log"
finish
