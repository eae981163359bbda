#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Round 11 (tenth session, a 2-core AMD EPYC with AVX-512 BF16): the student
# ladder of models/README.md. Every run: the "half" degradation profile,
# batch 16 of 96x96 patches, mixed precision (bf16 convolutions), ONE thread
# per run so that two runs share the two cores side by side; checkpoints and
# --resume, logs in models/logs/. STAGE selects what runs:
#   STAGE=cmp     crisp-rt-m from scratch, plain against collapsible blocks
#                 (--collapse 128), same minutes, same bank, side by side
#   STAGE=ladder1 crisp-rt-m continued, and its twin on ground truth alone
#   STAGE=ladder2 crisp-rt-s and crisp-rt-l
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
ladder1)
    # collapsible blocks won the comparison (models/README.md, round 11): the
    # comparison's crisp-rt-m continues from its checkpoint to LADDER_MINUTES
    # in all (the learning rate restarts its cosine over the longer budget),
    # beside its ablation twin trained on ground truth alone for the same
    # minutes on the same bank
    M=${LADDER_MINUTES:-42}
    if [ ! -f "$RUNS/r11-rt-m.ckpt" ] && [ -f "$RUNS/r11-cmp-rt-m-collapse.ckpt" ]; then
        cp "$RUNS/r11-cmp-rt-m-collapse.ckpt" "$RUNS/r11-rt-m.ckpt"
        cp models/logs/r11-cmp-rt-m-collapse.csv models/logs/r11-rt-m.csv
    fi
    run r11-rt-m "${DISTILL[@]}" --arch crisp-rt-m --collapse 128 --lr 1e-3 --warmup 100 --seed 21 --minutes "$M" &
    run r11-rt-m-alone teacher --arch crisp-rt-m --bank 8192 --collapse 128 --lr 1e-3 --warmup 100 --seed 21 --minutes "$M" &
    wait
    ;;
ladder2)
    # the small and the large rungs: crisp-rt-s from scratch; crisp-rt-l
    # from the shipped round-9 crisp-rt (same architecture), factored into
    # collapsible blocks and distilled at a fine-tuning learning rate
    M=${LADDER2_MINUTES:-30}
    run r11-rt-s "${DISTILL[@]}" --arch crisp-rt-s --collapse 128 --lr 1e-3 --warmup 100 --seed 23 --minutes "$M" &
    run r11-rt-l "${DISTILL[@]}" --init models/crisp-rt.crisp --collapse 128 --lr 2e-4 --warmup 100 --seed 24 --minutes "$M" &
    wait
    ;;
*) echo "STAGE=cmp|ladder1|ladder2" >&2; exit 2 ;;
esac
