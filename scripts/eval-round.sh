#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# One training round's candidates, judged the way the model card judges:
# `crisp eval` on the four benchmark sets under x2 and vc (each model in f32
# and, where it has a .q8, int8), then `crisp eval --video` on every clip
# under vc and x2 in int8 (scripts/eval-video.sh, the first FRAMES frames).
# JSON to models/results/PREFIX-SET-PROTO.json and
# models/results/PREFIX-video-CLIP-PROTO.json; markdown tables on stdout.
#   FRAMES=90 bash scripts/eval-round.sh r14 train-runs/r14-a.crisp models/crisp-rt.crisp
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { echo "usage: $0 PREFIX MODEL.crisp..." >&2; exit 2; }
PREFIX=$1
shift
BENCH=${BENCH:-../shared/data/bench}
C=build/tools/crisp
[ -d "$BENCH" ] || { echo "$0: $BENCH is absent" >&2; exit 1; }
ARGS=() VIDEO=()
for m; do
    [ -f "$m" ] || { echo "$0: $m: no such model" >&2; exit 1; }
    ARGS+=(--model "$m@fp32")
    if [ -f "$m.q8" ]; then
        ARGS+=(--model "$m@int8")
        VIDEO+=("$m@int8")
    else
        VIDEO+=("$m@fp32")
    fi
done
mkdir -p models/results
for proto in x2 vc; do
    for set in Kodak24 Set5 Set14 BSD68; do
        out=models/results/$PREFIX-$set-$proto.json
        [ -f "$out" ] && [ -z "${FORCE:-}" ] && continue
        "$C" eval --data "$BENCH/$set" --protocol "$proto" "${ARGS[@]}" --json "$out" >&2
    done
done
echo "### Stills (PSNR-Y dB / SSIM-Y, border crop 2)"
echo
python3 - "$PREFIX" <<'PY'
import json, sys
prefix = sys.argv[1]
cols = [(p, s) for p in ("x2", "vc") for s in ("Kodak24", "Set5", "Set14", "BSD68")]
res = {c: json.load(open(f"models/results/{prefix}-{c[1]}-{c[0]}.json"))["results"] for c in cols}
print("| model | " + " | ".join(f"{p} {s}" for p, s in cols) + " |")
print("|---|" + "---|" * len(cols))
for r in res[cols[0]]:
    print(f"| {r} | " + " | ".join(f"{res[c][r]['psnr_y']:.3f} / {res[c][r]['ssim_y']:.4f}" for c in cols) + " |")
PY
MODELS="${VIDEO[*]}" FRAMES=${FRAMES:-90} PREFIX=$PREFIX-video bash scripts/eval-video.sh
