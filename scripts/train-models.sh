#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Trains every shipped model in sequence (the maintainers' job, never CI):
# the teacher (45 min on the "call" degradation mix, then 20 min fine-tuning
# on the "mixed" one), crisp-rt distilled from it, crisp-rt on ground truth
# alone with the same budget (the distillation ablation), and each preset of
# the reference reports with its own budget. Resumable: rerun it after an
# interruption and each run continues from its checkpoint; finished models
# are skipped. Budgets in minutes come from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/train}
RUNS=${RUNS:-train-runs}
T1_MIN=${TEACHER_MINUTES:-45}
T2_MIN=${TEACHER_FT_MINUTES:-20}
S_MIN=${STUDENT_MINUTES:-13}
S2_MIN=${STUDENT_MINUTES_2:-25}
P_MIN=${PRESET_MINUTES:-3}
TRAIN=${TRAIN:-build/trainer/crisp-train}
mkdir -p "$RUNS" models/logs
COMMON=(--data "$DATA" --batch 16 --patch 96 --progress 60 --threads "${THREADS:-2}" --seed 1)

run() { # name minutes command args...
    local name=$1 min=$2
    shift 2
    if [ -f "$RUNS/$name.crisp" ]; then
        echo "== $name: done already"
        return
    fi
    echo "== $name: $min min ($(date +%H:%M))"
    "$TRAIN" "$@" "${COMMON[@]}" --minutes "$min" --out "$RUNS/$name.crisp" \
        --log "models/logs/$name.csv" --checkpoint "$RUNS/$name.ckpt" --resume \
        >"$RUNS/$name.log" 2>&1
    tail -1 "$RUNS/$name.log"
}

run crisp-teacher-v1 "$T1_MIN" teacher --arch crisp-teacher --lr 5e-4 --profile call
run crisp-teacher "$T2_MIN" teacher --init "$RUNS/crisp-teacher-v1.crisp" --lr 2e-4 --warmup 50
# student layer 6 (third ReLU, 24 ch at half resolution) is matched to the
# teacher's layer 14 (output of its third residual block, 64 ch, same size)
run crisp-rt-distilled "$S_MIN" distill --arch crisp-rt --teacher "$RUNS/crisp-teacher.crisp" \
    --lr 1e-3 --w-gt 1 --w-soft 1 --w-feat 0.01 --feat 6:14
run crisp-rt-alone "$S_MIN" teacher --arch crisp-rt --lr 1e-3
# round 2 (a later session): both students continued for 25 more minutes
# from their round-1 models, seed 2, so the ablation stays equal in time
R2=(--batch 16 --patch 96 --progress 60 --threads "${THREADS:-2}" --seed 2 --lr 5e-4 --warmup 50)
if [ ! -f "$RUNS/crisp-rt-distilled-r2.crisp" ]; then
    "$TRAIN" distill --data "$DATA" --arch crisp-rt --init "$RUNS/crisp-rt-distilled.crisp" \
        --teacher "$RUNS/crisp-teacher.crisp" --w-gt 1 --w-soft 1 --w-feat 0.01 --feat 6:14 "${R2[@]}" \
        --minutes "$S2_MIN" --out "$RUNS/crisp-rt-distilled-r2.crisp" \
        --log models/logs/crisp-rt-distilled-r2.csv --checkpoint "$RUNS/r2d.ckpt" --resume
fi
if [ ! -f "$RUNS/crisp-rt-alone-r2.crisp" ]; then
    "$TRAIN" teacher --data "$DATA" --init "$RUNS/crisp-rt-alone.crisp" "${R2[@]}" \
        --minutes "$S2_MIN" --out "$RUNS/crisp-rt-alone-r2.crisp" \
        --log models/logs/crisp-rt-alone-r2.csv --checkpoint "$RUNS/r2a.ckpt" --resume
fi
# int8 calibration of the shipped students (MODEL.q8)
for m in crisp-rt-distilled-r2 crisp-rt-alone-r2; do
    "$TRAIN" quantize --model "$RUNS/$m.crisp" --data "$DATA" --max-images 24
done
for p in tiny3 dncnn-lite studentcnn4 resunet-small dncnn17; do
    run "$p" "$P_MIN" teacher --arch "$p" --lr 5e-4
done
echo "== all trained ($(date +%H:%M))"
