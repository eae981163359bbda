#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# `crisp eval --video` on the clips of ../shared/data/video and the README's
# demo clip (demo/cockatoo.mp4, made by scripts/demo.sh), protocols vc and
# x2, the first FRAMES frames (150: 5 s at 30 fps) of each; JSON to
# models/results/video-<clip>-<protocol>.json, then the markdown tables of
# models/README.md (PSNR-Y dB / flicker) on stdout.
#   MODELS="models/crisp-rt.crisp@int8 ..." FRAMES=150 PREFIX=video bash scripts/eval-video.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VIDEO=${VIDEO:-../shared/data/video}
FRAMES=${FRAMES:-150}
PREFIX=${PREFIX:-video}
C=build/tools/crisp
read -r -a MS <<<"${MODELS:-models/crisp-rt.crisp@int8 models/crisp-rt.crisp@fp32 models/crisp-rt-alone.crisp@int8}"
ARGS=()
for m in "${MS[@]}"; do ARGS+=(--model "$m"); done
CLIPS=()
for c in "$VIDEO"/*.mp4 demo/cockatoo.mp4; do [ -f "$c" ] && CLIPS+=("$c"); done
mkdir -p models/results
for proto in vc x2; do
    for clip in "${CLIPS[@]}"; do
        name=$(basename "$clip" .mp4)
        out=models/results/$PREFIX-$name-$proto.json
        [ -f "$out" ] && [ -z "${FORCE:-}" ] && continue
        "$C" eval --video "$clip" --frames "$FRAMES" --protocol "$proto" "${ARGS[@]}" --json "$out" >&2
    done
done
for proto in vc x2; do
    echo
    echo "### Video, protocol \`$proto\` (first $FRAMES frames; PSNR-Y dB / flicker, border crop 2)"
    echo
    python3 - "$proto" "$PREFIX" "${CLIPS[@]}" <<'PY'
import json, os, sys
proto, prefix, clips = sys.argv[1], sys.argv[2], sys.argv[3:]
res = {}
for c in clips:
    name = os.path.basename(c)[:-4]
    res[name] = json.load(open(f"models/results/{prefix}-{name}-{proto}.json"))["results"]
rows = list(next(iter(res.values())))
print("| model | " + " | ".join(res) + " |")
print("|---|" + "---|" * len(res))
for r in rows:
    cells = []
    for name, rr in res.items():
        v = rr[r]
        more = v["flicker"] > rr["degraded"]["flicker"] and r != "degraded"
        cells.append(f"{v['psnr_y']:.3f} / {v['flicker']:.3f}{' ↑' if more else ''}")
    print(f"| {r} | " + " | ".join(cells) + " |")
PY
done
