#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# crisp-train smoke run on tiny images: teacher training lowers the loss,
# checkpoints resume, distillation (runnable teacher with feature loss, and
# --teacher-dir) runs, the outputs are valid models; bad usage exits 2.
set -u
: "${CRISP:?}" "${CRISP_TRAIN:?}" "${CRISP_SOURCE_ROOT:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0 checks=0
ok() { checks=$((checks + 1)); echo "ok: $*"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }
mkdir "$T/data"
cp "$CRISP_SOURCE_ROOT"/tests/data/*.png "$T/data/"
COMMON=(--data "$T/data" --batch 4 --patch 32 --val-crop 64 --progress 0 --threads 2)

if "$CRISP_TRAIN" teacher "${COMMON[@]}" --arch tiny3 --steps 80 --lr 2e-3 --warmup 5 \
    --out "$T/t.crisp" --log "$T/t.csv" 2>"$T/t.err"; then ok "teacher run"; else bad "teacher run: $(tail -3 "$T/t.err")"; fi
# loss falls: mean of the last 10 logged steps below the mean of the first 10
if awk -F, 'NR > 1 { l[NR - 1] = $4 } END { n = NR - 1; if (n < 40) exit 1;
        for (i = 1; i <= 10; i++) { a += l[i]; b += l[n - i + 1] }
        printf "first %.5f last %.5f\n", a / 10, b / 10; exit !(b < a * 0.9) }' "$T/t.csv"; then
    ok "loss falls"
else
    bad "loss does not fall: $(head -3 "$T/t.csv"; tail -2 "$T/t.csv")"
fi
if "$CRISP" info "$T/t.crisp" >/dev/null; then ok "teacher model loads"; else bad "teacher model invalid"; fi

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

# distillation from a runnable teacher, with every loss term and a feature adapter
if "$CRISP_TRAIN" distill "${COMMON[@]}" --arch crisp-rt --teacher "$T/r2.crisp" --steps 20 \
    --w-gt 1 --w-soft 0.5 --w-res 0.1 --w-ssim 0.1 --w-feat 0.1 --feat 2:2 --out "$T/s.crisp" \
    2>"$T/s.err"; then ok "distill with --teacher"; else bad "distill: $(tail -3 "$T/s.err")"; fi

# --teacher-dir: outputs computed elsewhere, matched by name (here: the fixed degraded inputs)
"$CRISP_TRAIN" export-degraded --data "$T/data" --out "$T/deg" 2>/dev/null
n=$(ls "$T/deg" | wc -l)
if [ "$n" -ge 4 ]; then ok "export-degraded wrote $n images"; else bad "export-degraded wrote $n images"; fi
if "$CRISP_TRAIN" distill "${COMMON[@]}" --arch crisp-rt --teacher-dir "$T/deg" --steps 10 \
    --out "$T/d.crisp" 2>"$T/d.err"; then ok "distill with --teacher-dir"; else bad "teacher-dir: $(tail -3 "$T/d.err")"; fi

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
"$CRISP_TRAIN" teacher --data "$T/nodata" --arch tiny3 --steps 5 --out "$T/x.crisp" 2>"$T/u.err"
if [ $? = 1 ] && grep -q "nodata" "$T/u.err"; then ok "missing data folder"; else bad "missing data folder: $(cat "$T/u.err")"; fi

echo "$checks checks, $fails failed"
[ "$fails" = 0 ]
