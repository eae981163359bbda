#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# crisp eval --video on synthetic clips made with the ffmpeg CLI: the JSON
# schema (every row has psnr_y, ssim_y and flicker; frames counted), known
# answers (a static clip under x2 has no flicker in any row: every frame is
# degraded and restored the same way), odd sizes cropped to the protocol's
# multiple as stills are, and bad input (an undecodable clip, --frames
# beyond the clip, a clip too small, a still-only protocol) refused with a
# one-line message; crisp compare --video on two clips. The real-clip smoke
# run is in test_shared_data.sh.
set -u
: "${CRISP:?}" "${CRISP_SOURCE_ROOT:?}"
. "$(dirname "$0")/../common.sh"
M=$CRISP_SOURCE_ROOT/models/crisp-rt.crisp
ff() { ffmpeg -v error -y "$@"; }
ff -f lavfi -i testsrc2=size=162x90:rate=25 -frames:v 10 -c:v libx264 -pix_fmt yuv420p "$T/moving.mp4"
ff -f lavfi -i testsrc2=size=160x96:rate=25 -frames:v 1 "$T/still.png"
ff -loop 1 -i "$T/still.png" -frames:v 6 -r 25 -c:v ffv1 -pix_fmt yuv420p "$T/static.mkv" # lossless: identical frames

# schema: vc on a moving clip of odd size (162x90 is scored as 160x88)
if "$CRISP" eval --video "$T/moving.mp4" --protocol vc --model "$M@fp32" --json "$T/m.json" \
    >"$T/m.out" 2>&1; then
    if python3 - "$T/m.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["protocol"] == "vc" and j["frames"] == 10 and j["crop"] == 2, j
assert (j["width"], j["height"]) == (160, 88), j
rows = j["results"]
assert list(rows) == ["degraded", "unsharp", "crisp-rt@fp32"], list(rows)
for name, r in rows.items():
    assert set(r) == {"psnr_y", "ssim_y", "flicker"}, (name, r)
    assert 10 < r["psnr_y"] < 100 and 0 < r["ssim_y"] <= 1 and 0 < r["flicker"] < 50, (name, r)
PY
    then ok "vc JSON: $(tr -d '\n' <"$T/m.json" | cut -c1-160)..."; else bad "vc JSON: $(cat "$T/m.json")"; fi
    grep -q "degraded input's is" "$T/m.out" && ok "table names the degraded input's flicker" ||
        bad "table: $(cat "$T/m.out")"
else
    bad "eval --video vc: $(cat "$T/m.out")"
fi

# known answer: a static clip under x2 is degraded the same way every frame,
# and a model restores identical frames identically: every row's flicker is 0
if "$CRISP" eval --video "$T/static.mkv" --protocol x2 --model "$M@fp32" --json "$T/s.json" \
    >"$T/s.out" 2>&1; then
    if python3 -c "
import json, sys
j = json.load(open('$T/s.json'))
assert j['frames'] == 6, j
assert all(r['flicker'] == 0 for r in j['results'].values()), j
"; then ok "static clip, x2: flicker 0 in every row"; else bad "static clip: $(cat "$T/s.json")"; fi
else
    bad "eval --video x2 static: $(cat "$T/s.out")"
fi

# --frames stops early; beyond the clip it is an error
"$CRISP" eval --video "$T/moving.mp4" --frames 4 --protocol x2 --json "$T/f.json" >/dev/null 2>&1 &&
    grep -q '"frames": 4' "$T/f.json" && ok "--frames 4" || bad "--frames 4: $(cat "$T/f.json")"
refuse() { # WHAT EXPECTED-RC PATTERN crisp-args...
    local what=$1 want=$2 pat=$3
    shift 3
    "$CRISP" "$@" >"$T/r.out" 2>"$T/r.err"
    local rc=$?
    if [ $rc = "$want" ] && [ "$(wc -l <"$T/r.err")" = 1 ] && grep -q -- "$pat" "$T/r.err"; then
        ok "$what: rc $rc, $(cat "$T/r.err")"
    else
        bad "$what: rc $rc (want $want), $(cat "$T/r.err")"
    fi
}
refuse "--frames beyond the clip" 1 "has 10 frames; --frames 50" \
    eval --video "$T/moving.mp4" --frames 50 --protocol x2
head -c 20000 /dev/urandom >"$T/garbage.mp4"
refuse "undecodable clip" 1 "garbage.mp4" eval --video "$T/garbage.mp4" --protocol vc
refuse "missing clip" 1 "nope.mp4" eval --video "$T/nope.mp4" --protocol vc
ff -f lavfi -i testsrc2=size=12x12:rate=25 -frames:v 3 -c:v libx264 -pix_fmt yuv420p "$T/tiny.mp4"
refuse "clip too small" 1 "divisible by 4 and at least 16" eval --video "$T/tiny.mp4" --protocol vc
refuse "blur on video" 2 "vc or x2" eval --video "$T/moving.mp4" --protocol blur
refuse "--data and --video" 2 "one of --data and --video" \
    eval --video "$T/moving.mp4" --data "$T" --protocol x2
refuse "--frames without --video" 2 "belongs to --video" eval --data "$T" --protocol x2 --frames 3
refuse "--frames 1" 2 "--frames must be" eval --video "$T/moving.mp4" --protocol x2 --frames 1
# crisp compare --video: a clip against itself is perfect; clips of different lengths are refused
out=$("$CRISP" compare --video --crop 2 "$T/moving.mp4" "$T/moving.mp4" 2>&1)
[ "$out" = "frames=10 psnr_y=100.0000 ssim_y=1.000000 flicker=0.0000" ] && ok "compare --video itself: $out" ||
    bad "compare --video itself: $out"
ff -i "$T/moving.mp4" -frames:v 6 -c:v libx264 -pix_fmt yuv420p "$T/short.mp4"
refuse "compare --video, different lengths" 1 "short.mp4 ends after 6 frames" \
    compare --video "$T/moving.mp4" "$T/short.mp4"
refuse "compare --video, different sizes" 1 "sizes differ" \
    compare --video "$T/moving.mp4" "$T/static.mkv"
finish
