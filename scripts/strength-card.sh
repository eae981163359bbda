#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# crisp-rt (int8) at strength 1, 1.5 and 2 (the model card's "Stronger
# settings"): `crisp eval` on Kodak24 (x2, vc) and `crisp eval --video` on
# the two webcam clips (x2, vc, 90 frames), JSON to
# models/results/strength-*.json; and models/strength.png, a 1:1 crop of a
# Kodak24 face (kodim15: an eye and face paint, x2 protocol), left to right: received (degraded),
# strength 1, 1.5, 2, original.
#   bash scripts/strength-card.sh        (BENCH=../shared/data/bench VIDEO=../shared/data/video)
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${BENCH:-../shared/data/bench}
VIDEO=${VIDEO:-../shared/data/video}
C=build/tools/crisp
M=models/crisp-rt.crisp@int8
mkdir -p models/results
for s in 1 1.5 2; do
    for p in x2 vc; do
        out=models/results/strength$s-Kodak24-$p.json
        [ -f "$out" ] || "$C" eval --data "$BENCH/Kodak24" --protocol $p --model $M --strength $s \
            --json "$out" >&2
        for clip in desk-webcam-512x480 office-portrait-720x1280; do
            out=models/results/strength$s-$clip-$p.json
            [ -f "$out" ] || "$C" eval --video "$VIDEO/$clip.mp4" --frames 90 --protocol $p --model $M \
                --strength $s --threads 1 --json "$out" >&2
        done
    done
done
# the picture: crops at 1:1, shown twice as large (nearest neighbour)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
IMG=$BENCH/Kodak24/kodim15.png
"$C" degrade --protocol x2 "$IMG" "$T/deg.png"
for s in 1 1.5 2; do
    "$C" sharpen --model models/crisp-rt.crisp --strength $s "$T/deg.png" "$T/s$s.png"
done
CROP=crop=160:160:400:80,scale=iw*2:ih*2:flags=neighbor,pad=iw+8:ih:0:0:white
ffmpeg -v error -y -i "$T/deg.png" -i "$T/s1.png" -i "$T/s1.5.png" -i "$T/s2.png" -i "$IMG" \
    -filter_complex "[0]$CROP[a];[1]$CROP[b];[2]$CROP[c];[3]$CROP[d];[4]crop=160:160:400:80,scale=iw*2:ih*2:flags=neighbor[e];[a][b][c][d][e]hstack=inputs=5" \
    -frames:v 1 models/strength.png
# the table (stdout): PSNR-Y dB, and flicker on video, of the received
# input and of crisp-rt at each strength
python3 - <<'PY'
import json
names = [("Kodak24", "Kodak24"), ("desk-webcam-512x480", "desk-webcam"),
         ("office-portrait-720x1280", "office-portrait")]
cols = [(n, short, p) for p in ("x2", "vc") for n, short in names]
print("| crisp-rt int8 | " + " | ".join(f"{short} `{p}`" for _, short, p in cols) + " |")
print("|---" * (len(cols) + 1) + "|")
def cell(r):
    return f"{r['psnr_y']:.3f}" + (f" / {r['flicker']:.4f}" if "flicker" in r else "")
rows = [("received (degraded)", "degraded", "1")] + [(f"strength {s}", "crisp-rt@int8", s) for s in ("1", "1.5", "2")]
for label, key, s in rows:
    out = []
    for n, _, p in cols:
        d = json.load(open(f"models/results/strength{s}-{n}-{p}.json"))
        out.append(cell(d["results"][key]))
    print(f"| {label} | " + " | ".join(out) + " |")
PY
