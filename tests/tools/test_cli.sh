#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# crisp exit codes and one-line messages: 0 success, 1 bad input, 2 bad usage.
set -u
: "${CRISP:?set CRISP to the crisp binary}" "${CRISP_SOURCE_ROOT:?}"
DATA=$CRISP_SOURCE_ROOT/tests/data
MODEL=$CRISP_SOURCE_ROOT/models/unsharp-mask.crisp
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0 checks=0

# expect CODE PATTERN -- command...: exit status CODE, stderr one line matching PATTERN
expect() {
    local code=$1 pat=$2
    shift 3
    checks=$((checks + 1))
    "$@" >"$T/out" 2>"$T/err"
    local rc=$? lines
    lines=$(wc -l <"$T/err")
    if [ "$rc" != "$code" ]; then
        echo "FAIL: exit $rc (want $code): $*"; cat "$T/err"; fails=$((fails + 1)); return
    fi
    if [ "$code" != 0 ]; then
        if [ "$lines" != 1 ] || ! grep -Eq -- "$pat" "$T/err"; then
            echo "FAIL: stderr should be one line matching /$pat/: $*"; cat "$T/err"
            fails=$((fails + 1)); return
        fi
    fi
    echo "ok: $* -> $rc $(head -c 160 "$T/err")"
}

# usage errors: 2
expect 2 'missing command' -- "$CRISP"
expect 2 'unknown command "frobnicate"' -- "$CRISP" frobnicate
expect 2 'model is required' -- "$CRISP" sharpen "$DATA/ref.png" "$T/o.png"
expect 2 'expected IN and OUT' -- "$CRISP" sharpen --model "$MODEL" "$DATA/ref.png"
expect 2 'strength must be' -- "$CRISP" sharpen --model "$MODEL" --strength 2.5 "$DATA/ref.png" "$T/o.png"
expect 2 'unknown option' -- "$CRISP" sharpen --bogus --model "$MODEL" "$DATA/ref.png" "$T/o.png"
expect 2 'unknown image extension' -- "$CRISP" sharpen --model "$MODEL" "$DATA/ref.png" "$T/o.tiff"
expect 2 'unknown protocol "x7"' -- "$CRISP" degrade --protocol x7 "$DATA/ref.png" "$T/o.png"
expect 2 'protocol is required' -- "$CRISP" degrade "$DATA/ref.png" "$T/o.png"
expect 2 'crop must be' -- "$CRISP" compare --crop -1 "$DATA/ref.png" "$DATA/ref.png"
expect 2 'expected one model' -- "$CRISP" info

# bad input: 1
expect 1 'nope.png: No such file or directory' -- "$CRISP" sharpen --model "$MODEL" "$T/nope.png" "$T/o.png"
echo "this is not an image" >"$T/text.png"
expect 1 'text.png: not a PNG, JPEG' -- "$CRISP" sharpen --model "$MODEL" "$T/text.png" "$T/o.png"
head -c 5000 "$DATA/ref.png" >"$T/trunc.png"
expect 1 'trunc.png: truncated PNG' -- "$CRISP" compare "$DATA/ref.png" "$T/trunc.png"
expect 1 'Is a directory' -- "$CRISP" compare "$DATA/ref.png" "$DATA"
expect 1 'sizes differ' -- "$CRISP" compare "$DATA/ref.png" "$DATA/odd.png"
expect 1 'divisible by 2' -- "$CRISP" degrade --protocol x2 "$DATA/odd.png" "$T/o.png"
expect 1 'divisible by 4' -- "$CRISP" degrade --protocol vc "$DATA/odd.png" "$T/o.png"
expect 1 'nomodel.crisp: No such file' -- "$CRISP" sharpen --model "$T/nomodel.crisp" "$DATA/ref.png" "$T/o.png"
cp "$DATA/ref.png" "$T/notmodel.crisp"
expect 1 'magic at offset 0' -- "$CRISP" info "$T/notmodel.crisp"
head -c 100 "$MODEL" >"$T/short.crisp"
expect 1 'file is 100 bytes, shorter than the 116-byte header' -- "$CRISP" info "$T/short.crisp"
size=$(stat -c %s "$MODEL")
head -c $((size - 10)) "$MODEL" >"$T/trunc.crisp"
expect 1 'data_size at offset 64 .*(truncated)' -- "$CRISP" sharpen --model "$T/trunc.crisp" "$DATA/ref.png" "$T/o.png"
cp "$MODEL" "$T/flip.crisp"
printf '\x55' | dd of="$T/flip.crisp" bs=1 seek=$((size - 40)) conv=notrunc status=none
expect 1 'checksum at offset' -- "$CRISP" sharpen --model "$T/flip.crisp" "$DATA/ref.png" "$T/o.png"
cp "$MODEL" "$T/v9.crisp"
printf '\x09' | dd of="$T/v9.crisp" bs=1 seek=8 conv=notrunc status=none
expect 1 'version at offset 8 is 9' -- "$CRISP" info "$T/v9.crisp"
expect 1 'o.png: No such file or directory' -- "$CRISP" sharpen --model "$MODEL" "$DATA/ref.png" "$T/nodir/o.png"

# success paths
expect 0 '' -- "$CRISP" sharpen --model "$MODEL" "$DATA/ref-x2.png" "$T/sharp.png"
expect 0 '' -- "$CRISP" sharpen --reference --model "$MODEL" "$DATA/ref-x2.png" "$T/sharp-ref.png"
expect 0 '' -- "$CRISP" sharpen --model "$MODEL" --strength 0 "$DATA/ref-x2.png" "$T/s0.png"
expect 0 '' -- "$CRISP" sharpen --model "$MODEL" "$DATA/odd.png" "$T/odd-sharp.jpg"
# strength 2 doubles the model's correction: the output's distance from the
# input grows by 20 log10(2) = 6.02 dB (less a little where 8 bits clip)
expect 0 '' -- "$CRISP" sharpen --model "$MODEL" --strength 2 "$DATA/ref-x2.png" "$T/s2.png"
checks=$((checks + 1))
p1=$("$CRISP" compare "$T/sharp.png" "$DATA/ref-x2.png" | sed -E 's/psnr_y=([0-9.]+).*/\1/')
p2=$("$CRISP" compare "$T/s2.png" "$DATA/ref-x2.png" | sed -E 's/psnr_y=([0-9.]+).*/\1/')
if awk -v a="$p1" -v b="$p2" 'BEGIN { d = a - b; exit !(d > 5.5 && d < 6.5) }'; then
    echo "ok: strength 2 doubles the correction (PSNR-Y to the input $p1 -> $p2 dB)"
else
    echo "FAIL: strength 2: PSNR-Y to the input $p1 -> $p2 dB, expected about 6 dB less"; fails=$((fails + 1))
fi
checks=$((checks + 1))
if cmp -s "$T/s0.png" "$DATA/ref-x2.png" || [ "$("$CRISP" compare "$T/s0.png" "$DATA/ref-x2.png")" = "psnr_y=100.0000 ssim_y=1.000000" ]; then
    echo "ok: strength 0 leaves the image unchanged"
else
    echo "FAIL: strength 0 changed the image"; fails=$((fails + 1))
fi
checks=$((checks + 1))
out=$("$CRISP" compare "$T/sharp-ref.png" "$T/sharp.png")
if [[ "$out" =~ ^psnr_y=([0-9.]+)\ ssim_y=([0-9.]+)$ ]] && awk -v p="${BASH_REMATCH[1]}" 'BEGIN { exit !(p > 60) }'; then
    echo "ok: oneDNN and reference sharpen agree ($out)"
else
    echo "FAIL: oneDNN vs reference: $out"; fails=$((fails + 1))
fi
checks=$((checks + 1))
out=$("$CRISP" compare --crop 2 "$DATA/ref.png" "$T/sharp.png")
base=$("$CRISP" compare --crop 2 "$DATA/ref.png" "$DATA/ref-x2.png")
echo "unsharp on x2: $out (degraded: $base)"
if [[ "$out" =~ ^psnr_y=[0-9.]+\ ssim_y=[0-9.]+$ ]] && [ "$out" != "$base" ]; then
    echo "ok: compare output format"
else
    echo "FAIL: compare output '$out'"; fails=$((fails + 1))
fi
checks=$((checks + 1))
if "$CRISP" info --json "$MODEL" | grep -q '"params": 50, "macs_1280x720": 45748164'; then
    echo "ok: info --json"
else
    echo "FAIL: info --json: $("$CRISP" info --json "$MODEL")"; fails=$((fails + 1))
fi
# the committed baseline model is exactly what the generator makes
checks=$((checks + 1))
"$CRISP" make-unsharp "$T/gen.crisp"
if cmp "$T/gen.crisp" "$MODEL"; then
    echo "ok: models/unsharp-mask.crisp matches crisp make-unsharp"
else
    echo "FAIL: models/unsharp-mask.crisp differs from crisp make-unsharp"; fails=$((fails + 1))
fi

# crisp make-pair: a ladder model becomes a pair model that sharpens a still
# exactly as the ladder model does (oneDNN and reference); other layouts
# and bad usage are refused in one line
expect 2 'make-pair: expected IN OUT' -- "$CRISP" make-pair "$MODEL"
expect 1 'a pair model is made from a residual luma model' -- "$CRISP" make-pair "$MODEL" "$T/p.crisp"
RTP=$CRISP_SOURCE_ROOT/models/crisp-rt.crisp
if [ -f "$RTP" ]; then
    checks=$((checks + 1))
    if "$CRISP" make-pair "$RTP" "$T/rtp.crisp" && "$CRISP" info "$T/rtp.crisp" | grep -q "luma-pair" &&
        "$CRISP" sharpen --model "$RTP" --reference "$DATA/ref.png" "$T/l.png" &&
        "$CRISP" sharpen --model "$T/rtp.crisp" --reference "$DATA/ref.png" "$T/p.png" &&
        "$CRISP" compare "$T/l.png" "$T/p.png" | grep -Eq 'psnr_y=(inf|[6-9][0-9]|[1-9][0-9][0-9])'; then
        echo "ok: make-pair: the pair model restores a still as crisp-rt does"
    else
        echo "FAIL: make-pair: $("$CRISP" compare "$T/l.png" "$T/p.png" 2>&1)"; fails=$((fails + 1))
    fi
fi

# image sizes: a PNG header claiming 100000x100000, one claiming 0x0, an odd 3x5
python3 - "$T" <<'PY'
import struct, sys, zlib
def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
for name, w, h in [('huge', 100000, 100000), ('zero', 0, 0), ('odd', 3, 5)]:
    raw = b''.join(b'\x00' + b'\x80' * (w * 3) for _ in range(h)) if w * h < 100 else b'\x00' * 10
    png = (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
           + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
    open(sys.argv[1] + '/' + name + '.png', 'wb').write(png)
PY
expect 1 'huge.png: cannot decode' -- "$CRISP" sharpen --model "$MODEL" "$T/huge.png" "$T/o.png"
expect 1 'zero.png: cannot decode' -- "$CRISP" sharpen --model "$MODEL" "$T/zero.png" "$T/o.png"
checks=$((checks + 1))
if "$CRISP" sharpen --model "$MODEL" "$T/odd.png" "$T/odd-out.png" && [ -s "$T/odd-out.png" ]; then
    echo "ok: an odd 3x5 image is sharpened"
else
    echo "FAIL: odd 3x5 image"; fails=$((fails + 1))
fi

# --self-ensemble: the unsharp mask's Gaussian is symmetric under every flip
# and rotation, so its 8-way mean must equal one plain run up to rounding (a wrong
# inverse orientation would turn the picture: ~20-30 dB); on a trained model the two differ a
# little. Checked on a 128x96 and an odd 45x29 image, luma and RGB models.
"$CRISP" make-unsharp --rgb "$T/rgb.crisp"
RT=$CRISP_SOURCE_ROOT/models/crisp-rt.crisp
for img in ref odd; do
    for m in "$MODEL" "$T/rgb.crisp"; do
        checks=$((checks + 1))
        "$CRISP" sharpen --model "$m" "$DATA/$img.png" "$T/e1.png" &&
            "$CRISP" sharpen --self-ensemble --model "$m" "$DATA/$img.png" "$T/e8.png" &&
            r=$("$CRISP" compare "$T/e1.png" "$T/e8.png")
        p=${r#psnr_y=}
        p=${p%% *}
        # equal up to a rare 1/255 rounding step of the float sums
        if awk -v p="$p" 'BEGIN { exit !(p > 70) }'; then
            echo "ok: self-ensemble of $(basename "$m") on $img equals one run ($r)"
        else
            echo "FAIL: self-ensemble of $(basename "$m") on $img: $r"; fails=$((fails + 1))
        fi
    done
    checks=$((checks + 1))
    "$CRISP" sharpen --precision fp32 --model "$RT" "$DATA/$img.png" "$T/e1.png" &&
        "$CRISP" sharpen --precision fp32 --self-ensemble --model "$RT" "$DATA/$img.png" "$T/e8.png" &&
        r=$("$CRISP" compare "$T/e1.png" "$T/e8.png")
    p=${r#psnr_y=}
    p=${p%% *}
    if awk -v p="$p" 'BEGIN { exit !(p > 35 && p < 100) }'; then
        echo "ok: self-ensemble of crisp-rt on $img: close to one run, not equal ($r)"
    else
        echo "FAIL: self-ensemble of crisp-rt on $img: $r"; fails=$((fails + 1))
    fi
done
checks=$((checks + 1))
mkdir -p "$T/set"
cp "$DATA/ref.png" "$T/set/"
if "$CRISP" eval --data "$T/set" --protocol x2 --model "$RT@fp32" --model "$RT@fp32+x8" \
    --json "$T/ens.json" >"$T/ens.out" 2>&1 && grep -q '"crisp-rt@fp32+x8": {"psnr_y"' "$T/ens.json"; then
    echo "ok: crisp eval names the self-ensemble row crisp-rt@fp32+x8"
else
    echo "FAIL: crisp eval with +x8: $(tail -2 "$T/ens.out")"; fails=$((fails + 1))
fi
# luma models are fed 8-bit Y (as crispd is) unless --float-luma: the JSON
# says which, and the two inputs give crisp-rt different scores
checks=$((checks + 1))
if "$CRISP" eval --data "$T/set" --protocol x2 --model "$RT@fp32" --json "$T/l8.json" >"$T/l8.out" 2>&1 &&
    "$CRISP" eval --data "$T/set" --protocol x2 --model "$RT@fp32" --float-luma --json "$T/lf.json" \
        >"$T/lf.out" 2>&1 &&
    python3 - "$T/l8.json" "$T/lf.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert a["luma_input"] == "8bit" and b["luma_input"] == "float", (a["luma_input"], b["luma_input"])
assert a["results"]["degraded"] == b["results"]["degraded"]
assert a["results"]["crisp-rt@fp32"]["psnr_y"] != b["results"]["crisp-rt@fp32"]["psnr_y"]
PY
then
    echo "ok: crisp eval feeds 8-bit Y by default, unrounded Y with --float-luma"
else
    echo "FAIL: crisp eval --float-luma: $(tail -2 "$T/l8.out" "$T/lf.out")"; fails=$((fails + 1))
fi
# --strength blends the model rows with their input as crispd does: at 0 a
# model row scores exactly as the degraded input, the unsharp row as before
checks=$((checks + 1))
if "$CRISP" eval --data "$T/set" --protocol x2 --model "$RT@fp32" --strength 0 --json "$T/s0.json" \
    >"$T/s0.out" 2>&1 &&
    python3 - "$T/s0.json" "$T/l8.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert a["strength"] == 0 and b["strength"] == 1, (a["strength"], b["strength"])
r = a["results"]
assert r["crisp-rt@fp32"] == r["degraded"], r
assert r["unsharp"] == b["results"]["unsharp"]
PY
then
    echo "ok: crisp eval --strength 0: the model row is the degraded input"
else
    echo "FAIL: crisp eval --strength 0: $(tail -2 "$T/s0.out")"; fails=$((fails + 1))
fi
expect 2 'strength' -- "$CRISP" eval --data "$T/set" --protocol x2 --model "$RT" --strength 2.5

echo "$checks checks, $fails failed"
[ "$fails" = 0 ]
