#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs `crisp eval` on every benchmark set for protocols x2 and vc with every
# trained model, writes the JSON results to models/results/ and prints the
# markdown tables for models/README.md to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${BENCH:-../shared/data/bench}
RUNS=${RUNS:-models}
C=build/tools/crisp
mkdir -p models/results
MODELS=()
for m in crisp-teacher crisp-rt crisp-rt-alone tiny3 dncnn-lite studentcnn4 resunet-small dncnn17; do
    [ -f "$RUNS/$m.crisp" ] || continue
    if [ -f "$RUNS/$m.crisp.q8" ]; then # both precisions, side by side
        MODELS+=(--model "$RUNS/$m.crisp@fp32" --model "$RUNS/$m.crisp@int8")
    else
        MODELS+=(--model "$RUNS/$m.crisp@fp32")
    fi
done
# EXTRA: more model files (paths) to evaluate in f32, e.g. the equal-time
# teacher-vs-dncnn17 runs that are not shipped; one given with its own suffix
# (models/crisp-teacher.crisp@fp32+x8, docs/evaluation.md) is kept as is
for m in ${EXTRA:-}; do
    case $m in
    *@*) MODELS+=(--model "$m") ;;
    *) MODELS+=(--model "$m@fp32") ;;
    esac
done
for proto in x2 vc; do
    echo
    echo "### Protocol \`$proto\` (PSNR-Y dB / SSIM-Y, border crop 2)"
    echo
    header="| model |"
    sep="|---|"
    for set in Kodak24 Set5 Set14 BSD68; do
        header="$header $set |"
        sep="$sep---|"
    done
    echo "$header"
    echo "$sep"
    declare -A cells=()
    rows=()
    for set in Kodak24 Set5 Set14 BSD68; do
        json=models/results/$set-$proto.json
        $C eval --data "$BENCH/$set" --protocol "$proto" "${MODELS[@]}" --json "$json" >&2
        # one "name psnr ssim" line per row, in the JSON's order
        while read -r name psnr ssim; do
            [ -n "${cells[$name]+x}" ] || rows+=("$name")
            cells[$name]="${cells[$name]:-} $(printf '%.3f / %.4f' "$psnr" "$ssim") |"
        done < <(sed -e 's/.*"results": {//' -e 's/}}$//' "$json" | tr '}' '\n' |
                 sed -n -E 's/^[ ,]*"([^"]+)": \{"psnr_y": ([0-9.]+), "ssim_y": ([0-9.]+).*/\1 \2 \3/p')
    done
    for r in "${rows[@]}"; do
        echo "| $r |${cells[$r]}"
    done
    unset cells
done
