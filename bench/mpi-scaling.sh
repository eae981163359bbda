#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Issue 24's measurement (docs/training.md): training samples per second of
# one rank with 2 threads against 2 ranks with 1 thread each (mpirun on this
# machine, shared memory), for the teacher (crisp-teacher from scratch, fresh
# patches from the sampler) and the student (crisp-rt distilled from the
# shipped teacher out of a patch bank, as scripts/train-models.sh does), the
# same global batch. The rate is the final progress line's, which leaves out
# the first step (oneDNN's kernel generation) and the bank's build. Each
# pair runs REPS times, alternating, on an idle machine.
#   bash bench/mpi-scaling.sh [DATA=../shared/data/train] [REPS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data/train}
REPS=${2:-2}
TR=build/trainer/crisp-train
[ -d "$DATA" ] || { echo "no training data at $DATA"; exit 1; }
"$TR" -h | grep -q "mpirun -np N" || { echo "crisp-train was built without MPI"; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPI=(mpirun -np 2 --bind-to none --mca btl self,vader --mca btl_vader_single_copy_mechanism none)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
C=(--data "$DATA" --batch 16 --patch 96 --progress 100000 --seed 1 --max-images 60)
TEACHER=(teacher --arch crisp-teacher --steps "${TEACHER_STEPS:-25}")
STUDENT=(distill --arch crisp-rt-m --teacher models/crisp-teacher.crisp --bank 512
    --teacher-ensemble 1 --steps "${STUDENT_STEPS:-400}")
rate() { # the last progress line's it/s times the batch
    awk '/^step/ { r = $3 } END { printf "%.2f", r * 16 }' "$1"
}
echo "$(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; global batch 16 of 96x96"
for job in teacher student; do
    [ $job = teacher ] && args=("${TEACHER[@]}") || args=("${STUDENT[@]}")
    for rep in $(seq "$REPS"); do
        env -u OMP_NUM_THREADS "$TR" "${args[@]}" "${C[@]}" --threads 2 --out "$T/a.crisp" 2>"$T/1.err"
        env -u OMP_NUM_THREADS "${MPI[@]}" "$TR" "${args[@]}" "${C[@]}" --threads 1 --out "$T/b.crisp" \
            >/dev/null 2>"$T/2.err"
        a=$(rate "$T/1.err") b=$(rate "$T/2.err")
        echo "$job rep $rep: 1 rank x 2 threads $a samples/s; 2 ranks x 1 thread $b samples/s;" \
            "ratio $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')"
    done
done
