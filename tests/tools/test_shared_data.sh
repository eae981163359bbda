#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# End to end on real benchmark photos from ../shared/data (skips when absent):
# degrade Kodak images by the blur protocol, sharpen with the unsharp-mask
# model through oneDNN, and check the classic baseline does what it should
# on blur: it raises PSNR-Y over the degraded input on every image. Then the
# shipped crisp-rt (f32 and int8) through `crisp eval` on Set5 x2: above both
# the degraded input and the unsharp mask (a guard against shipping a worse
# model; the full tables are models/README.md). Last, a short crisp eval
# --video smoke run on a real clip.
set -u
: "${CRISP:?}" "${CRISP_SOURCE_ROOT:?}"
K=$CRISP_SOURCE_ROOT/../shared/data/bench/Kodak24
if [ ! -d "$K" ]; then
    echo "SKIP: $K not found (../shared/data is absent)"
    exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
M=$CRISP_SOURCE_ROOT/models/unsharp-mask.crisp
fails=0 n=0
psnr() { "$CRISP" compare --crop 2 "$1" "$2" | sed -E 's/^psnr_y=([0-9.]+) .*/\1/'; }
for img in "$K"/kodim0[1-4].png; do
    b=$(basename "$img" .png)
    "$CRISP" degrade --protocol blur "$img" "$T/$b-blur.png" || { fails=$((fails + 1)); continue; }
    "$CRISP" sharpen --model "$M" "$T/$b-blur.png" "$T/$b-sharp.png" || { fails=$((fails + 1)); continue; }
    d=$(psnr "$img" "$T/$b-blur.png")
    s=$(psnr "$img" "$T/$b-sharp.png")
    n=$((n + 1))
    if awk -v d="$d" -v s="$s" 'BEGIN { exit !(s > d) }'; then
        echo "ok: $b blur: degraded $d dB, unsharp $s dB"
    else
        echo "FAIL: $b blur: unsharp $s dB is not above degraded $d dB"; fails=$((fails + 1))
    fi
done
S5=$CRISP_SOURCE_ROOT/../shared/data/bench/Set5
RT=$CRISP_SOURCE_ROOT/models/crisp-rt.crisp
if "$CRISP" eval --data "$S5" --protocol x2 --model "$RT@fp32" --model "$RT@int8" \
    --json "$T/set5.json" >"$T/eval.out" 2>&1; then
    get() { sed -n -E "s/.*\"$1\": \{\"psnr_y\": ([0-9.]+).*/\1/p" <(tr '}' '\n' <"$T/set5.json") | head -1; }
    deg=$(get degraded) uns=$(get unsharp)
    for row in crisp-rt@fp32 crisp-rt@int8; do
        v=$(get "$row")
        n=$((n + 1))
        if [ -n "$v" ] && awk -v v="$v" -v d="$deg" -v u="$uns" 'BEGIN { exit !(v > d && v > u) }'; then
            echo "ok: Set5 x2 $row $v dB (degraded $deg, unsharp $uns)"
        else
            echo "FAIL: Set5 x2 $row '$v' dB is not above degraded $deg and unsharp $uns"
            fails=$((fails + 1))
        fi
    done
else
    echo "FAIL: crisp eval on Set5: $(tail -2 "$T/eval.out")"
    fails=$((fails + 1))
fi
# the video protocol on a real clip: a short smoke run (numbers: models/README.md)
V=$CRISP_SOURCE_ROOT/../shared/data/video/talking-720p-b.mp4
n=$((n + 1))
if "$CRISP" eval --video "$V" --frames 4 --protocol vc --model "$RT" --json "$T/v.json" \
    >"$T/v.out" 2>&1 && python3 -c "
import json
j = json.load(open('$T/v.json'))
assert j['frames'] == 4 and (j['width'], j['height']) == (1280, 720), j
assert len(j['results']) == 3, j
for r in j['results'].values():
    assert 30 < r['psnr_y'] < 60 and 0 < r['flicker'] < 10, j
"; then
    echo "ok: eval --video on talking-720p-b: $(tail -3 "$T/v.out" | tr -s ' ' | tr '\n' ';')"
else
    echo "FAIL: eval --video on talking-720p-b: $(tail -3 "$T/v.out") $(cat "$T/v.json" 2>/dev/null)"
    fails=$((fails + 1))
fi
echo "$n checks, $fails failed"
[ "$n" -gt 0 ] && [ "$fails" = 0 ]
