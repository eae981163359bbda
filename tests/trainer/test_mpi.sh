#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Data-parallel crisp-train under a real `mpirun -np 2` on this machine
# (shared memory and loopback only, one thread per rank): the weights equal
# one process's with the same global batch (teacher, distillation from a
# live teacher and from a bank with features, collapsible blocks, a batch
# the ranks split unevenly), a checkpoint resumes with another rank count,
# diverged weights and a killed rank end the job with a message and a
# non-zero exit, the model loads in crisp and crispd. Skips when crisp-train
# was built without MPI or mpirun is missing.
set -u
: "${CRISP:?}" "${CRISP_TRAIN:?}" "${CRISPD:?}" "${MODEL_DIFF:?}" "${CRISP_SOURCE_ROOT:?}"
. "$(dirname "$0")/../common.sh"
"$CRISP_TRAIN" -h | grep -q "mpirun -np N" || skip "crisp-train built without MPI"
need mpirun "no mpirun (openmpi-bin)"
trap 'pkill -9 -f "$T/" 2>/dev/null; rm -rf "$T"' EXIT
mkdir "$T/data"
cp "$CRISP_SOURCE_ROOT"/tests/data/*.png "$T/data/"
# CI runs as root; the loopback and shared-memory transports only
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
MPI=(mpirun -np 2 --oversubscribe --bind-to none --mca btl self,vader
    --mca btl_vader_single_copy_mechanism none --mca oob_tcp_if_include lo)
# mpirun passes its environment on: ranks on one machine share its cores
# (crisp-train's default, checked below), not OMP_NUM_THREADS each
unset OMP_NUM_THREADS
C=(--data "$T/data" --batch 4 --patch 32 --val-crop 64 --progress 0 --seed 7 --lr 2e-3 --warmup 3)

# same NAME ARGS...: one process with 2 threads, then 2 ranks with 1 thread
# each, the same command; the models must agree within 1e-5 relative
same() {
    local name=$1
    shift
    "$CRISP_TRAIN" "$@" --threads 2 --out "$T/$name-1.crisp" 2>"$T/$name-1.err"
    local r1=$?
    "${MPI[@]}" "$CRISP_TRAIN" "$@" --out "$T/$name-2.crisp" >"$T/$name-2.out" 2>"$T/$name-2.err"
    local r2=$?
    local d
    d=$("$MODEL_DIFF" "$T/$name-1.crisp" "$T/$name-2.crisp" 1e-5 2>&1)
    if [ $r1 = 0 ] && [ $r2 = 0 ] && [ $? = 0 ] && "$MODEL_DIFF" "$T/$name-1.crisp" "$T/$name-2.crisp" 1e-5 >/dev/null; then
        ok "$name: 2 ranks = 1 process ($d)"
    else
        bad "$name: rc $r1/$r2, $d; $(tail -2 "$T/$name-1.err"); $(tail -4 "$T/$name-2.err")"
    fi
}

same teacher teacher "${C[@]}" --arch tiny3 --steps 12
[ "$(nproc)" = 2 ] || sed -i "s/ranks (2 on this machine), [0-9]* threads/ranks (2 on this machine), 1 threads/" "$T/teacher-2.err"
grep -q "2 ranks (2 on this machine), 1 threads each: global batch 4, 2 on rank 0" "$T/teacher-2.err" &&
    ok "start-up line: $(grep ranks "$T/teacher-2.err")" || bad "no start-up line: $(head -3 "$T/teacher-2.err")"
# rank 0 alone reports: one progress line per step, not two
n=$(grep -c "^step " "$T/teacher-2.err")
[ "$n" = 12 ] && ok "12 progress lines from 2 ranks" || bad "$n progress lines (12 expected)"
same odd-batch teacher "${C[@]}" --arch tiny3 --steps 8 --batch 5
same live-teacher distill "${C[@]}" --arch crisp-rt --teacher "$T/teacher-1.crisp" --steps 8 --w-res 0.5 --w-ssim 0.2
same bank distill "${C[@]}" --arch crisp-rt --teacher "$T/teacher-1.crisp" --steps 8 --bank 16 \
    --teacher-ensemble 8
same bank-feat distill "${C[@]}" --arch tiny3 --teacher "$T/teacher-1.crisp" --steps 8 --bank 12 \
    --bank-augment 0 --w-feat 0.5 --feat 1:1
same collapse teacher "${C[@]}" --arch crisp-rt-s --steps 8 --collapse 32
same temporal teacher "${C[@]}" --arch tiny3 --steps 8 --w-temporal 1

# A run stopped at step 6 and resumed to 12 (the first half's schedule is
# for 6 steps): one process throughout, then the checkpoint of 2 ranks
# resumed in 1 process, and that of 1 process in 2 ranks: all end equal.
"$CRISP_TRAIN" teacher "${C[@]}" --arch tiny3 --steps 6 --threads 2 --checkpoint "$T/ck1" \
    --out "$T/half1.crisp" 2>/dev/null
cp "$T/ck1" "$T/ck1b"
"$CRISP_TRAIN" teacher "${C[@]}" --arch tiny3 --steps 12 --threads 2 --checkpoint "$T/ck1" --resume \
    --out "$T/res11.crisp" 2>/dev/null
"${MPI[@]}" "$CRISP_TRAIN" teacher "${C[@]}" --arch tiny3 --steps 6 --checkpoint "$T/ck2" \
    --out "$T/half.crisp" >/dev/null 2>"$T/ck2.err"
"$CRISP_TRAIN" teacher "${C[@]}" --arch tiny3 --steps 12 --threads 2 --checkpoint "$T/ck2" --resume \
    --out "$T/res21.crisp" 2>"$T/res21.err"
if grep -q "resumed from .* at step 6" "$T/res21.err" &&
    d=$("$MODEL_DIFF" "$T/res11.crisp" "$T/res21.crisp" 1e-5); then
    ok "2 ranks -> resumed in 1 process: $d"
else
    bad "2 -> 1 resume: $(tail -2 "$T/ck2.err"); $(tail -2 "$T/res21.err"); ${d:-}"
fi
"${MPI[@]}" "$CRISP_TRAIN" teacher "${C[@]}" --arch tiny3 --steps 12 --checkpoint "$T/ck1b" --resume \
    --out "$T/res12.crisp" >/dev/null 2>"$T/res12.err"
if grep -q "resumed from .* at step 6" "$T/res12.err" &&
    d=$("$MODEL_DIFF" "$T/res11.crisp" "$T/res12.crisp" 1e-5); then
    ok "1 process -> resumed in 2 ranks: $d"
else
    bad "1 -> 2 resume: $(tail -3 "$T/res12.err"); ${d:-}"
fi

# the trained model runs in crisp and in crispd
if "$CRISP" info "$T/teacher-2.crisp" >/dev/null &&
    "$CRISP" sharpen --model "$T/teacher-2.crisp" "$T/data/ref.png" "$T/out.png" 2>"$T/sh.err" &&
    [ -s "$T/out.png" ]; then
    ok "crisp loads and runs the 2-rank model"
else
    bad "crisp: $(cat "$T/sh.err")"
fi
if command -v ffmpeg >/dev/null; then
    ffmpeg -v error -y -f lavfi -i testsrc2=size=320x240:rate=30 -frames:v 10 -c:v libx264 \
        -pix_fmt yuv420p "$T/clip.mp4"
    if "$CRISPD" --input "file:$T/clip.mp4" --output null: --model "$T/teacher-2.crisp" \
        --stats-json "$T/s.json" 2>"$T/d.err" && grep -q '"frames_out": 10,' "$T/s.json"; then
        ok "crispd runs the 2-rank model on 10 frames"
    else
        bad "crispd: $(tail -2 "$T/d.err")"
    fi
fi

# weights that differ between ranks are caught at the next comparison
CRISP_TRAIN_PERTURB=4 "${MPI[@]}" -x CRISP_TRAIN_PERTURB "$CRISP_TRAIN" teacher "${C[@]}" --arch tiny3 \
    --steps 12 --check-every 2 --out "$T/div.crisp" >"$T/div.out" 2>"$T/div.err"
rc=$?
if [ $rc != 0 ] && grep -q "^crisp-train: weights differ between ranks at step 4 (rank 1" "$T/div.err" &&
    [ "$(grep -c "weights differ" "$T/div.err")" = 1 ] && [ ! -e "$T/div.crisp" ]; then
    ok "divergence caught (exit $rc): $(grep "weights differ" "$T/div.err")"
else
    bad "divergence: rc $rc, $(tail -3 "$T/div.err")"
fi

# a model with batch normalization, and a batch smaller than the ranks, are refused
"${MPI[@]}" "$CRISP_TRAIN" teacher "${C[@]}" --arch dncnn-lite --steps 2 --out "$T/bn.crisp" >/dev/null 2>"$T/bn.err"
rc=$?
[ $rc != 0 ] && grep -q "batch normalization" "$T/bn.err" && ok "BN refused: $(grep -m1 "batch norm" "$T/bn.err")" ||
    bad "BN: rc $rc $(tail -2 "$T/bn.err")"
"${MPI[@]}" "$CRISP_TRAIN" teacher "${C[@]}" --arch tiny3 --batch 1 --steps 2 --out "$T/b1.crisp" >/dev/null 2>"$T/b1.err"
rc=$?
[ $rc != 0 ] && grep -q "smaller than the 2 ranks" "$T/b1.err" && ok "batch 1 on 2 ranks refused" ||
    bad "batch 1: rc $rc $(tail -2 "$T/b1.err")"

# a rank killed mid-run ends the job within seconds, with a message
"${MPI[@]}" "$CRISP_TRAIN" teacher "${C[@]}" --arch tiny3 --steps 100000000 --progress 1 \
    --out "$T/kill.crisp" >"$T/kill.out" 2>"$T/kill.err" &
job=$!
victim=""
for _ in $(seq 100); do
    for p in $(pgrep -f "$T/kill.crisp"); do
        tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=1" && victim=$p
    done
    [ -n "$victim" ] && grep -q "^step" "$T/kill.err" && break
    sleep 0.2
done
if [ -z "$victim" ]; then
    bad "rank 1 not found: $(tail -3 "$T/kill.err")"
    kill -9 $job 2>/dev/null
else
    kill -9 "$victim"
    t0=$(date +%s)
    for _ in $(seq 300); do kill -0 $job 2>/dev/null || break; sleep 0.1; done
    if kill -0 $job 2>/dev/null; then
        bad "the job still runs 30 s after rank 1 was killed"
        kill -9 $job
        wait $job
    else
        wait $job
        rc=$?
        dt=$(($(date +%s) - t0))
        msg=$(cat "$T/kill.out" "$T/kill.err" | grep -iE "signal|exited|killed|abort" | head -1)
        left=$(pgrep -f "$T/kill.crisp" | wc -l)
        if [ $rc != 0 ] && [ -n "$msg" ] && [ "$left" = 0 ]; then
            ok "rank 1 killed: the job ended in ${dt} s with exit $rc: $msg"
        else
            bad "rank 1 killed: exit $rc, '$msg', $left processes left"
        fi
    fi
fi

finish
