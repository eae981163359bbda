#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Round 11 (tenth session, a 2-core AMD EPYC with AVX-512 BF16): the student
# ladder of models/README.md. Every run: the "half" degradation profile,
# batch 16 of 96x96 patches, mixed precision (bf16 convolutions), ONE thread
# per run so that two runs share the two cores side by side; checkpoints and
# --resume, logs in models/logs/. STAGE selects what runs:
#   STAGE=cmp     crisp-rt-m from scratch, plain against collapsible blocks
#                 (--collapse 128), same minutes, same bank, side by side
#   STAGE=ladder  the shipped candidates (see the calls below)
set -uo pipefail
cd "$(dirname "$0")/.."
TRAIN=${TRAIN:-build/trainer/crisp-train}
DATA=${DATA:-../shared/data/train}
RUNS=${RUNS:-train-runs}
TEACHER=${TEACHER:-models/crisp-teacher.crisp}
mkdir -p "$RUNS" models/logs
COMMON=(--data "$DATA" --batch 16 --patch 96 --progress 60 --threads 1 --profile half --precision bf16)
run() { # name command args...
    local name=$1
    shift
    if [ -f "$RUNS/$name.crisp" ]; then
        echo "== $name: done already"
        return
    fi
    echo "== $name ($(date +%H:%M))"
    "$TRAIN" "$@" "${COMMON[@]}" --out "$RUNS/$name.crisp" --log "models/logs/$name.csv" \
        --checkpoint "$RUNS/$name.ckpt" --resume >"$RUNS/$name.log" 2>&1
    tail -1 "$RUNS/$name.log"
}
DISTILL=(distill --teacher "$TEACHER" --bank 8192 --w-gt 1 --w-soft 1)
case ${STAGE:-} in
cmp)
    CMP=(--lr 1e-3 --warmup 100 --seed 21 --minutes "${CMP_MINUTES:-12}")
    run r11-cmp-rt-m-plain "${DISTILL[@]}" --arch crisp-rt-m "${CMP[@]}" &
    run r11-cmp-rt-m-collapse "${DISTILL[@]}" --arch crisp-rt-m "${CMP[@]}" --collapse 128 &
    wait
    ;;
ladder)
    echo "ladder: see the calls added after the comparison"
    ;;
*) echo "STAGE=cmp|ladder" >&2; exit 2 ;;
esac
