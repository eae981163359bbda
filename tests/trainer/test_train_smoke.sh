#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# crisp-train smoke run on tiny images: teacher training lowers the loss,
# checkpoints resume, distillation (runnable teacher with feature loss, and
# --teacher-dir) runs, frame-pair models train, the outputs are valid
# models; bad usage exits 2.
set -u
: "${CRISP:?}" "${CRISP_TRAIN:?}" "${CRISP_SOURCE_ROOT:?}"
. "$(dirname "$0")/../common.sh"
mkdir "$T/data"
cp "$CRISP_SOURCE_ROOT"/tests/data/*.png "$T/data/"
COMMON=(--data "$T/data" --batch 4 --patch 32 --val-crop 64 --progress 0 --threads 2)

if "$CRISP_TRAIN" teacher "${COMMON[@]}" --arch tiny3 --steps 80 --lr 2e-3 --warmup 5 \
    --out "$T/t.crisp" --log "$T/t.csv" 2>"$T/t.err"; then ok "teacher run"; else bad "teacher run: $(tail -3 "$T/t.err")"; fi
# falls COLUMN CSV: at least 40 logged steps, and the mean of column COLUMN
# over the last 10 below 0.9 times its mean over the first 10
falls() {
    awk -F, -v c="$1" 'NR > 1 { l[NR - 1] = $c } END { n = NR - 1; if (n < 40) exit 1;
        for (i = 1; i <= 10; i++) { a += l[i]; b += l[n - i + 1] }
        printf "first %.5f last %.5f\n", a / 10, b / 10; exit !(b < a * 0.9) }' "$2"
}
# loss (column 4) falls
if falls 4 "$T/t.csv"; then
    ok "loss falls"
else
    bad "loss does not fall: $(head -3 "$T/t.csv"; tail -2 "$T/t.csv")"
fi
if "$CRISP" info "$T/t.crisp" >/dev/null; then ok "teacher model loads"; else bad "teacher model invalid"; fi
# mixed precision: trains (loss falls) where the CPU has bf16, else refused in one line
if "$CRISP_TRAIN" bench --arch tiny3 --batch 2 --patch 32 --steps 1 --precision bf16 >/dev/null 2>"$T/p.err"; then
    if "$CRISP_TRAIN" teacher "${COMMON[@]}" --arch crisp-rt --steps 80 --lr 2e-3 --warmup 5 --precision bf16 \
        --out "$T/p.crisp" --log "$T/p.csv" 2>"$T/p.err" && grep -q "precision bf16: [1-9][0-9]* convolutions in bf16" "$T/p.err" &&
        falls 4 "$T/p.csv" >/dev/null; then
        ok "--precision bf16: $(grep "precision bf16" "$T/p.err"); loss $(falls 4 "$T/p.csv")"
    else
        bad "--precision bf16: $(tail -2 "$T/p.err"); $(head -2 "$T/p.csv"; tail -1 "$T/p.csv")"
    fi
elif [ $? = 2 ] && [ "$(wc -l <"$T/p.err")" = 1 ] && grep -q "no AVX-512 BF16" "$T/p.err"; then
    ok "--precision bf16 refused on this CPU: $(cat "$T/p.err")"
else
    bad "--precision bf16 bench: $(cat "$T/p.err")"
fi

# several data workers prepare the same batches: the trained model is byte-identical
"$CRISP_TRAIN" teacher "${COMMON[@]}" --arch tiny3 --steps 12 --data-threads 1 --out "$T/w1.crisp" 2>"$T/w1.err"
"$CRISP_TRAIN" teacher "${COMMON[@]}" --arch tiny3 --steps 12 --data-threads 4 --out "$T/w4.crisp" 2>"$T/w4.err"
if [ -s "$T/w1.crisp" ] && cmp -s "$T/w1.crisp" "$T/w4.crisp"; then
    ok "--data-threads 4 trains the same model as 1"
else
    bad "--data-threads: models differ or missing: $(tail -1 "$T/w1.err"; tail -1 "$T/w4.err")"
fi

# checkpoint and resume continue the step count
"$CRISP_TRAIN" teacher "${COMMON[@]}" --arch crisp-rt --steps 20 --out "$T/r1.crisp" \
    --checkpoint "$T/ck" 2>"$T/r1.err"
"$CRISP_TRAIN" teacher "${COMMON[@]}" --arch crisp-rt --steps 40 --out "$T/r2.crisp" \
    --checkpoint "$T/ck" --resume 2>"$T/r2.err"
if grep -q "resumed from .* at step 20" "$T/r2.err" && grep -q "after 40 steps" "$T/r2.err"; then
    ok "resume continues at step 20"
else
    bad "resume: $(cat "$T/r2.err" | tail -4)"
fi

# --collapse: collapsible blocks train (validation PSNR-Y ends above the
# degraded input's: the model restores, as the plain run does), the written model is the
# plain network, a checkpoint resumes with its expanded tensors, and a
# checkpoint made without them is refused; --init factors a model exactly
if "$CRISP_TRAIN" teacher "${COMMON[@]}" --arch tiny3 --steps 80 --lr 2e-3 --warmup 5 --collapse 48 \
    --out "$T/c.crisp" --log "$T/c.csv" --checkpoint "$T/cck" 2>"$T/c.err" &&
    grep -q "collapsible blocks: expansion 48, identity branches" "$T/c.err" &&
    tail -1 "$T/c.err" | awk '{ v = $(NF - 3); d = $NF; sub(/\)/, "", d); exit !(v > d + 0.05) }' &&
    [ "$("$CRISP" info "$T/c.crisp" | sed -n '/^layers/,/^param/p')" = "$("$CRISP" info "$T/t.crisp" | sed -n '/^layers/,/^param/p')" ]; then
    ok "--collapse 48: $(tail -1 "$T/c.err" | sed 's/.*; //'), the same plain layers as without it"
else
    bad "--collapse: $(tail -3 "$T/c.err")"
fi
"$CRISP_TRAIN" teacher "${COMMON[@]}" --arch tiny3 --steps 90 --collapse 48 --out "$T/c2.crisp" \
    --checkpoint "$T/cck" --resume 2>"$T/c2.err"
grep -q "resumed from .* at step 80" "$T/c2.err" && grep -q "after 90 steps" "$T/c2.err" &&
    ok "--collapse resumes" || bad "--collapse resume: $(tail -3 "$T/c2.err")"
"$CRISP_TRAIN" teacher "${COMMON[@]}" --arch tiny3 --steps 90 --out "$T/c3.crisp" \
    --checkpoint "$T/cck" --resume 2>"$T/c3.err"
[ $? = 1 ] && grep -q "not a checkpoint of this architecture and options" "$T/c3.err" &&
    ok "a --collapse checkpoint is refused without --collapse" || bad "mixed resume: $(tail -2 "$T/c3.err")"
"$CRISP_TRAIN" teacher "${COMMON[@]}" --init "$T/r2.crisp" --steps 1 --lr 0 --warmup 0 --collapse 24 \
    --out "$T/ci.crisp" 2>"$T/ci.err"
a=$("$CRISP" eval --data "$T/data" --protocol x2 --model "$T/r2.crisp@fp32" 2>&1 | tail -1 | awk '{print $2}')
b=$("$CRISP" eval --data "$T/data" --protocol x2 --model "$T/ci.crisp@fp32" 2>&1 | tail -1 | awk '{print $2}')
[ -n "$a" ] && awk -v a="$a" -v b="$b" 'BEGIN { exit !(a - b < 1e-3 && b - a < 1e-3) }' &&
    ok "--init with --collapse factors the model ($a vs $b dB after a zero-lr step)" ||
    bad "--init --collapse: $a vs $b; $(tail -2 "$T/ci.err")"

# distillation from a runnable teacher, with every loss term and a feature adapter
if "$CRISP_TRAIN" distill "${COMMON[@]}" --arch crisp-rt --teacher "$T/r2.crisp" --steps 20 \
    --w-gt 1 --w-soft 0.5 --w-res 0.1 --w-ssim 0.1 --w-feat 0.1 --feat 2:2 --out "$T/s.crisp" \
    2>"$T/s.err"; then ok "distill with --teacher"; else bad "distill: $(tail -3 "$T/s.err")"; fi

# --bank: patches and teacher outputs made once; the soft loss falls, and two
# runs with the same seed give the same model (the bank and its batches are
# seeded); --bank with the feature loss needs --bank-augment 0 (checked below)
for i in 1 2; do
    "$CRISP_TRAIN" distill "${COMMON[@]}" --arch crisp-rt --teacher "$T/r2.crisp" --bank 24 \
        --profile half --steps 60 --lr 2e-3 --warmup 5 --w-gt 0 --w-soft 1 --out "$T/b$i.crisp" \
        --log "$T/b$i.csv" 2>"$T/b$i.err"
done
if grep -q "bank of 24 patches built" "$T/b1.err" && [ -s "$T/b1.crisp" ]; then
    ok "distill with --bank"
else
    bad "distill --bank: $(tail -3 "$T/b1.err")"
fi
if falls 7 "$T/b1.csv"; then # the soft-target loss
    ok "--bank: soft loss falls"
else
    bad "--bank: soft loss does not fall: $(head -3 "$T/b1.csv"; tail -2 "$T/b1.csv")"
fi
if cmp -s "$T/b1.crisp" "$T/b2.crisp"; then ok "--bank runs are reproducible"; else bad "--bank: two runs with one seed differ"; fi

# --teacher-ensemble 8: bank targets are the mean over the 8 flips/rotations,
# each turned back. The unsharp mask's Gaussian is symmetric under all of
# them, so with it as teacher the first step's soft loss must equal the plain
# run's (a wrong inverse orientation raises it by ~70% here)
for e in 1 8; do
    "$CRISP_TRAIN" distill "${COMMON[@]}" --arch crisp-rt --teacher "$CRISP_SOURCE_ROOT/models/unsharp-mask.crisp" \
        --bank 24 --profile half --steps 1 --w-gt 0 --w-soft 1 --teacher-ensemble $e \
        --out "$T/e$e.crisp" --log "$T/e$e.csv" 2>"$T/e$e.err"
done
s1=$(awk -F, 'NR == 2 { print $7 }' "$T/e1.csv")
s8=$(awk -F, 'NR == 2 { print $7 }' "$T/e8.csv")
if grep -q "8-way self-ensemble" "$T/e8.err" &&
    awk -v a="$s1" -v b="$s8" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d < 1e-4 * a) }'; then
    ok "--teacher-ensemble 8 with a symmetric teacher: same targets as one pass"
else
    bad "--teacher-ensemble: $(tail -1 "$T/e8.err"); $(sed -n 2p "$T/e1.csv") vs $(sed -n 2p "$T/e8.csv")"
fi

# --w-feat with --bank (--bank-augment 0): the bank keeps the teacher's
# features of each patch as drawn. The feature loss falls, and its first
# value is the same whether the soft targets are one pass or the 8-way
# ensemble (features from the pass on the patch as drawn, not the last,
# flipped one: taking them from the last changes this teacher's by 0.1%)
for e in 1 8; do
    "$CRISP_TRAIN" distill "${COMMON[@]}" --arch crisp-rt --teacher "$T/r2.crisp" --bank 24 \
        --bank-augment 0 --profile half --steps 60 --lr 2e-3 --warmup 5 --w-gt 0 --w-soft 0 \
        --w-feat 1 --feat 2:2 --teacher-ensemble $e --out "$T/f$e.crisp" --log "$T/f$e.csv" 2>"$T/f$e.err"
done
if grep -q "and features" "$T/f1.err" && falls 9 "$T/f1.csv"; then
    ok "--w-feat with --bank: feature loss falls"
else
    bad "--w-feat --bank: $(tail -1 "$T/f1.err"); $(head -3 "$T/f1.csv"; tail -2 "$T/f1.csv")"
fi
f1=$(awk -F, 'NR == 2 { print $9 }' "$T/f1.csv")
f8=$(awk -F, 'NR == 2 { print $9 }' "$T/f8.csv")
if awk -v a="$f1" -v b="$f8" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a > 0 && d < 1e-5 * a) }'; then
    ok "--w-feat with --teacher-ensemble 8: features of the patch as drawn"
else
    bad "--w-feat bank features: step-1 feature loss $f1 (one pass) vs $f8 (ensemble)"
fi

# --teacher-dir: outputs computed elsewhere, matched by name (here: the fixed degraded inputs)
"$CRISP_TRAIN" export-degraded --data "$T/data" --out "$T/deg" 2>/dev/null
n=$(ls "$T/deg" | wc -l)
if [ "$n" -ge 4 ]; then ok "export-degraded wrote $n images"; else bad "export-degraded wrote $n images"; fi
if "$CRISP_TRAIN" distill "${COMMON[@]}" --arch crisp-rt --teacher-dir "$T/deg" --steps 10 \
    --out "$T/d.crisp" 2>"$T/d.err"; then ok "distill with --teacher-dir"; else bad "teacher-dir: $(tail -3 "$T/d.err")"; fi

# int8: calibrate the shipped crisp-rt on the test images, then int8 output
# close to f32 (same pixels to within a few levels), and bad .q8 files refused
cp "$CRISP_SOURCE_ROOT/models/crisp-rt.crisp" "$T/rt.crisp"
# --first-conv f32 keeps the conv that reads the image in f32 (the default
# until round 12); the default quantizes it on the image's range [0, 1]
if "$CRISP_TRAIN" quantize --model "$T/rt.crisp" --data "$T/data" --first-conv f32 --out "$T/f.q8" \
    >"$T/qf.out" 2>"$T/qf.err" && grep -qx "f32 1" "$T/f.q8"; then
    ok "quantize --first-conv f32 keeps the first conv in f32"
else
    bad "quantize --first-conv f32: $(tail -2 "$T/qf.err")"
fi
if "$CRISP_TRAIN" quantize --model "$T/rt.crisp" --data "$T/data" >"$T/q.out" 2>"$T/q.err" &&
    grep -q "^crisp-q8 1" "$T/rt.crisp.q8" && grep -qx "in 1 0 1" "$T/rt.crisp.q8" &&
    ! grep -q "^f32" "$T/rt.crisp.q8" &&
    [ "$(grep -v '^in 1 ' "$T/rt.crisp.q8")" = "$(grep -v '^f32 1' "$T/f.q8")" ]; then
    ok "quantize wrote rt.crisp.q8 ($(grep -c '^in ' "$T/rt.crisp.q8") conv ranges, the first on [0, 1]; the others as with --first-conv f32)"
else
    bad "quantize: $(tail -2 "$T/q.err"); $(cat "$T/rt.crisp.q8")"
fi
"$CRISP" degrade --protocol vc "$CRISP_SOURCE_ROOT/tests/data/ref.png" "$T/vc.png"
"$CRISP" sharpen --model "$T/rt.crisp" --precision fp32 "$T/vc.png" "$T/f32.png" &&
    "$CRISP" sharpen --model "$T/rt.crisp" --precision int8 "$T/vc.png" "$T/i8.png" 2>"$T/i8.err"
if grep -q "no int8 convolutions" "$T/i8.err"; then
    ok "int8: this CPU has none; fell back to f32 with: $(cat "$T/i8.err")"
else
    psnr=$("$CRISP" compare "$T/f32.png" "$T/i8.png" | sed 's/psnr_y=\([0-9.]*\).*/\1/')
    if awk -v p="$psnr" 'BEGIN { exit !(p >= 40) }'; then
        ok "int8 output vs f32: PSNR-Y $psnr dB"
    else
        bad "int8 output vs f32: PSNR-Y '$psnr' dB"
    fi
fi
qbad() { # pattern, then the .q8 contents
    local pat=$1
    shift
    printf "$@" >"$T/rt.crisp.q8"
    "$CRISP" sharpen --model "$T/rt.crisp" --precision int8 "$T/vc.png" "$T/x.png" 2>"$T/qb.err"
    local rc=$?
    if grep -q "no int8 convolutions" "$T/qb.err"; then
        ok "int8 not available here; .q8 check skipped"
    elif [ $rc = 1 ] && [ "$(wc -l <"$T/qb.err")" = 1 ] && grep -q -- "$pat" "$T/qb.err"; then
        ok "bad .q8: $(cat "$T/qb.err")"
    else
        bad "bad .q8 ($pat): exit $rc $(cat "$T/qb.err")"
    fi
}
qbad "not a crisp-q8 file" 'garbage\n'
qbad "version 2" 'crisp-q8 2\n'
qbad "calibrated for another model" "crisp-q8 1\nmodel_crc 12345678\nlayers 11\nin 1 0 1\nin 3 0 1\nin 5 0 1\nin 7 0 1\nin 9 0 1\n"
# a real calibration of another model of the same architecture is refused
# (before the fix every .q8 said 2144df1c: the CRC of any file that ends
# with its own CRC, so it bound nothing)
if "$CRISP_TRAIN" quantize --model "$T/r1.crisp" --data "$T/data" --max-images 2 >/dev/null 2>&1; then
    qbad "calibrated for another model file" "$(cat "$T/r1.crisp.q8")\n"
else
    bad "quantize r1 failed"
fi
qbad "layers, but the model has" 'crisp-q8 1\nmodel_crc 0\nlayers 3\n'
qbad "bad range for layer 1" 'crisp-q8 1\nmodel_crc 0\nlayers 11\nin 1 0 -5\n'
qbad "no range for conv layer" 'crisp-q8 1\nmodel_crc 0\nlayers 11\nin 1 0 1\n'
qbad "f32 names layer 2, not a conv" 'crisp-q8 1\nmodel_crc 0\nlayers 11\nf32 2\n'
# without a .q8 the default is f32, and asking for int8 is an error
rm -f "$T/rt.crisp.q8"
"$CRISP" sharpen --model "$T/rt.crisp" "$T/vc.png" "$T/d.png" && cmp -s "$T/d.png" "$T/f32.png" &&
    ok "no .q8: the default runs f32" || bad "no .q8: default output differs from f32"

# --input-8bit: crisp-rt fed 8-bit Y scores otherwise on validation than fed
# unrounded Y (lr 0: the model is unchanged), the degraded crops alike
for b8 in 0 1; do
    "$CRISP_TRAIN" teacher "${COMMON[@]}" --init "$T/rt.crisp" --steps 1 --lr 0 --input-8bit $b8 \
        --out "$T/in8-$b8.crisp" --log "$T/in8-$b8.csv" 2>"$T/in8-$b8.err"
done
v0=$(awk -F, 'NR == 2 { print $11 }' "$T/in8-0.csv")
v1=$(awk -F, 'NR == 2 { print $11 }' "$T/in8-1.csv")
d0=$(grep -o 'degraded PSNR-Y [0-9.]*' "$T/in8-0.err")
d1=$(grep -o 'degraded PSNR-Y [0-9.]*' "$T/in8-1.err")
if [ -n "$v0" ] && [ -n "$v1" ] && [ "$v0" != "$v1" ] && [ -n "$d0" ] && [ "$d0" = "$d1" ]; then
    ok "--input-8bit: validation $v1 dB with 8-bit input, $v0 dB unrounded ($d0)"
else
    bad "--input-8bit: validation '$v0' / '$v1', '$d0' / '$d1': $(tail -1 "$T/in8-1.err")"
fi

# usage errors
expect2() {
    "$CRISP_TRAIN" "$@" >/dev/null 2>"$T/u.err"
    rc=$?
    if [ $rc = 2 ] && [ "$(wc -l <"$T/u.err")" = 1 ]; then ok "usage: $(cat "$T/u.err")"; else bad "exit $rc for: $*: $(cat "$T/u.err")"; fi
}
expect2 teacher --data "$T/data" --arch tiny3 --out "$T/x.crisp"
expect2 teacher --data "$T/data" --arch nosuch --steps 5 --out "$T/x.crisp"
expect2 distill --data "$T/data" --arch tiny3 --steps 5 --out "$T/x.crisp"
expect2 teacher --data "$T/data" --arch tiny3 --steps 5 --lr -1 --out "$T/x.crisp"
expect2 frobnicate
expect2 teacher --data "$T/data" --arch tiny3 --steps 5 --data-threads 17 --out "$T/x.crisp"
expect2 teacher --data "$T/data" --arch tiny3 --steps 5 --precision f16 --out "$T/x.crisp"
expect2 distill --data "$T/data" --arch crisp-rt --teacher "$T/r2.crisp" --bank 16 --w-feat 1 \
    --feat 2:2 --steps 5 --out "$T/x.crisp"
expect2 teacher --data "$T/data" --arch crisp-rt --bank-augment 0 --steps 5 --out "$T/x.crisp"
expect2 teacher --data "$T/data" --arch tiny3 --steps 5 --profile nosuch --out "$T/x.crisp"
expect2 distill --data "$T/data" --arch crisp-rt --teacher "$T/r2.crisp" --teacher-ensemble 8 \
    --steps 5 --out "$T/x.crisp"
expect2 distill --data "$T/data" --arch crisp-rt --teacher "$T/r2.crisp" --bank 16 \
    --teacher-ensemble 4 --steps 5 --out "$T/x.crisp"
expect2 distill --data "$T/data" --arch crisp-rt --teacher "$T/r2.crisp" --bank 16 --w-temporal 1 \
    --steps 5 --out "$T/x.crisp"
expect2 teacher --data "$T/data" --arch tiny3 --steps 5 --w-temporal 1 --temporal-shift 9 --out "$T/x.crisp"
expect2 quantize --model "$T/rt.crisp" --data "$T/data" --first-conv int4
# an --out that cannot be written is found before training, with the reason
t0=$(date +%s)
"$CRISP_TRAIN" teacher --data "$T/data" --arch tiny3 --minutes 5 --out "$T/nodir/x.crisp" 2>"$T/o.err"
rc=$?
if [ $rc = 1 ] && [ $(($(date +%s) - t0)) -lt 60 ] && [ "$(wc -l <"$T/o.err")" = 1 ] &&
    grep -q 'nodir/x.crisp: cannot write the model there (No such file or directory)' "$T/o.err"; then
    ok "unwritable --out: $(cat "$T/o.err")"
else
    bad "unwritable --out: exit $rc after $(($(date +%s) - t0)) s: $(cat "$T/o.err")"
fi
# the temporal term is logged, and it falls when it is the only loss
if "$CRISP_TRAIN" teacher "${COMMON[@]}" --arch tiny3 --steps 60 --lr 2e-3 --warmup 5 --w-gt 0 \
    --w-temporal 1 --out "$T/tm.crisp" --log "$T/tm.csv" 2>"$T/tm.err" && falls 12 "$T/tm.csv" >/dev/null; then
    ok "--w-temporal alone: the temporal term falls ($(falls 12 "$T/tm.csv"))"
else
    bad "--w-temporal: $(tail -2 "$T/tm.err"); $(head -2 "$T/tm.csv")"
fi
# --temporal-flat (the ground truth's flatness) and --temporal-noise (how
# much the twins' inputs differ) weigh the term: less than the plain term on
# the same first batch and model, but not nothing
expect2 teacher --data "$T/data" --arch tiny3 --steps 5 --w-temporal 1 --temporal-flat 2 --out "$T/x.crisp"
expect2 teacher --data "$T/data" --arch tiny3 --steps 5 --w-temporal 1 --temporal-noise -1 --out "$T/x.crisp"
for v in plain "flat 0.02" "noise 0.05"; do
    set -- $v
    "$CRISP_TRAIN" teacher "${COMMON[@]}" --arch tiny3 --steps 2 --w-temporal 1 ${2:+--temporal-$1 $2} \
        --out "$T/t$1.crisp" --log "$T/t$1.csv" 2>"$T/t$1.err"
done
first_temporal() { awk -F, 'NR == 2 { print $12 }' "$1"; } # CSV: the first logged step's temporal term
plain=$(first_temporal "$T/tplain.csv")
for k in flat noise; do
    w=$(first_temporal "$T/t$k.csv")
    if awk -v a="$plain" -v b="$w" 'BEGIN { exit !(a > 0 && b > 0 && b < 0.9 * a) }'; then
        ok "--temporal-$k: first temporal term $w against $plain unweighted"
    else
        bad "--temporal-$k: '$w' against '$plain' ($(tail -1 "$T/t$k.err"))"
    fi
done
# --temporal-twin codec: the twin is the same picture with its own codec
# noise, so on clean input (the x2 profile) the term is exactly 0, and with
# the codec on most patches (half-h264) it is not
expect2 teacher --data "$T/data" --arch tiny3 --steps 5 --w-temporal 1 --temporal-twin roll --out "$T/x.crisp"
for pr in x2 half-h264; do
    "$CRISP_TRAIN" teacher "${COMMON[@]}" --arch tiny3 --steps 2 --w-temporal 1 --temporal-twin codec \
        --profile $pr --out "$T/c$pr.crisp" --log "$T/c$pr.csv" 2>"$T/c$pr.err"
done
c0=$(first_temporal "$T/cx2.csv")
c1=$(first_temporal "$T/chalf-h264.csv")
if awk -v a="$c0" -v b="$c1" 'BEGIN { exit !(a != "" && a + 0 == 0 && b > 0) }'; then
    ok "--temporal-twin codec: first temporal term $c0 on clean x2 patches, $c1 with H.264"
else
    bad "--temporal-twin codec: '$c0' (x2) and '$c1' (half-h264): $(tail -1 "$T/cx2.err") $(tail -1 "$T/chalf-h264.err")"
fi
# frame pairs: a pair model made from a ladder student (crisp make-pair)
# trains on the sampler's twin pairs (loss falls), is calibrated for int8 and
# restores stills (the image as its own previous frame); distillation is
# refused in one line
"$CRISP_TRAIN" teacher "${COMMON[@]}" --arch crisp-rt --steps 1 --out "$T/l.crisp" 2>/dev/null
if "$CRISP" make-pair "$T/l.crisp" "$T/pair0.crisp" &&
    "$CRISP_TRAIN" teacher "${COMMON[@]}" --init "$T/pair0.crisp" --steps 80 --lr 2e-3 --warmup 5 \
        --out "$T/pair.crisp" --log "$T/pair.csv" 2>"$T/pair.err" && falls 4 "$T/pair.csv" >/dev/null &&
    "$CRISP" info "$T/pair.crisp" | grep -q "luma-pair" &&
    "$CRISP_TRAIN" quantize --model "$T/pair.crisp" --data "$T/data" >/dev/null 2>&1 &&
    "$CRISP" eval --data "$T/data" --protocol x2 --model "$T/pair.crisp@int8" >"$T/pe.txt" 2>&1; then
    ok "frame-pair training: loss $(falls 4 "$T/pair.csv"); $(grep 'pair@int8' "$T/pe.txt")"
else
    bad "frame-pair training: $(tail -2 "$T/pair.err") $(cat "$T/pe.txt" 2>/dev/null)"
fi
expect2 distill --data "$T/data" --init "$T/pair0.crisp" --teacher "$T/l.crisp" --steps 5 --out "$T/x.crisp"
expect2 teacher --data "$T/data" --init "$T/pair0.crisp" --temporal-twin codec --w-temporal 1 --steps 5 --out "$T/x.crisp"
expect2 teacher --data "$T/data" --arch crisp-rt --steps 5 --first-conv-grid 1 --collapse 16 --out "$T/x.crisp"
expect2 teacher --data "$T/data" --arch crisp-rt --steps 5 --input-8bit 2 --out "$T/x.crisp"
# with --w-temporal each twin is also restored as the current frame: on
# clean x2 patches only moved twins differ, with H.264 codec twins too; the
# term is logged and the run ends with a valid model
for pr in x2 half-h264; do
    "$CRISP_TRAIN" teacher "${COMMON[@]}" --init "$T/pair.crisp" --steps 3 --w-temporal 1 \
        --profile $pr --out "$T/pt$pr.crisp" --log "$T/pt$pr.csv" 2>"$T/pt$pr.err"
done
p0=$(first_temporal "$T/ptx2.csv")
p1=$(first_temporal "$T/pthalf-h264.csv")
if awk -v a="$p0" -v b="$p1" 'BEGIN { exit !(a != "" && b > 0) }' && "$CRISP" info "$T/pthalf-h264.crisp" >/dev/null; then
    ok "frame pairs with --w-temporal: first term $p0 (x2), $p1 (half-h264)"
else
    bad "frame pairs with --w-temporal: '$p0' '$p1': $(tail -1 "$T/pthalf-h264.err")"
fi
"$CRISP_TRAIN" teacher --data "$T/nodata" --arch tiny3 --steps 5 --out "$T/x.crisp" 2>"$T/u.err"
if [ $? = 1 ] && grep -q "nodata" "$T/u.err"; then ok "missing data folder"; else bad "missing data folder: $(cat "$T/u.err")"; fi

finish
