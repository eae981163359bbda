#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# The student ladder's quality-versus-cost table and plot (models/README.md):
# `crisp eval` of every ladder model (f32 and int8), round 9's crisp-rt and
# the teacher on the four benchmark sets, protocols x2 and vc, into
# models/results/$PREFIX-<set>-<protocol>.json; then the markdown table on
# stdout and models/ladder.png (gnuplot, Debian's gnuplot-nox): PSNR-Y on
# Kodak24 vc and Set5 x2 against GMAC per 1280x720 frame.
# PREFIX (default ladder8: luma models fed 8-bit Y, the protocol since round
# 17; round 11's files, fed unrounded Y, are ladder-*) names the JSON files.
#   LADDER="models/crisp-rt-s.crisp models/crisp-rt.crisp ..." R9=path bash scripts/ladder-card.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${BENCH:-../shared/data/bench}
C=build/tools/crisp
read -r -a LADDER <<<"${LADDER:-models/crisp-rt-s.crisp models/crisp-rt.crisp models/crisp-rt-l.crisp}"
R9=${R9:-}
PREFIX=${PREFIX:-ladder8}
TEACHER=${TEACHER:-models/crisp-teacher.crisp}
ARGS=()
for m in "${LADDER[@]}"; do ARGS+=(--model "$m@fp32" --model "$m@int8"); done
[ -n "$R9" ] && ARGS+=(--model "$R9@fp32" --model "$R9@int8")
ARGS+=(--model "$TEACHER@fp32")
for set in Kodak24 Set5 Set14 BSD68; do
    for proto in x2 vc; do
        out=models/results/$PREFIX-$set-$proto.json
        [ -f "$out" ] && [ -z "${FORCE:-}" ] && continue
        "$C" eval --data "$BENCH/$set" --protocol "$proto" "${ARGS[@]}" --json "$out" >&2
    done
done
# GMAC and parameters of every row, from crisp info
declare -A GMAC PARAMS
for m in "${LADDER[@]}" $R9 "$TEACHER"; do
    stem=$(basename "$m" .crisp)
    GMAC[$stem]=$("$C" info "$m" | sed -n -E 's/^MACs\/frame: +([0-9.]+) G.*/\1/p')
    PARAMS[$stem]=$("$C" info "$m" | sed -n -E 's/^parameters: +([0-9]+).*/\1/p')
done
gm() { local s=${1%@*}; echo "${GMAC[$s]:-}"; }
pa() { local s=${1%@*}; echo "${PARAMS[$s]:-}"; }
rows=$(python3 -c "import json; print(' '.join(json.load(open('models/results/$PREFIX-Kodak24-x2.json'))['results']))")
echo "| model | GMAC/frame | parameters | x2 Kodak24 | x2 Set5 | x2 Set14 | x2 BSD68 | vc Kodak24 | vc Set5 | vc Set14 | vc BSD68 |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
: >/tmp/ladder-plot.dat
for r in $rows; do
    line="| $r | $(gm "$r") | $(pa "$r") |"
    for proto in x2 vc; do
        for set in Kodak24 Set5 Set14 BSD68; do
            v=$(python3 -c "import json; v=json.load(open('models/results/$PREFIX-$set-$proto.json'))['results']['$r']; print('%.3f / %.4f' % (v['psnr_y'], v['ssim_y']))")
            line="$line $v |"
        done
    done
    echo "$line"
    g=$(gm "$r")
    if [ -n "$g" ] && [ "${r#*@}" = fp32 ]; then # the plot: f32 rows, labelled by stem
        k=$(python3 -c "import json; print('%.3f' % json.load(open('models/results/$PREFIX-Kodak24-vc.json'))['results']['$r']['psnr_y'])")
        s=$(python3 -c "import json; print('%.3f' % json.load(open('models/results/$PREFIX-Set5-x2.json'))['results']['$r']['psnr_y'])")
        echo "$g $k $s \"${r%@*}\"" >>/tmp/ladder-plot.dat
    fi
done
get() { python3 -c "import json; print('%.3f' % json.load(open('models/results/$PREFIX-$1-$2.json'))['results']['$3']['psnr_y'])"; }
command -v gnuplot >/dev/null || { echo "gnuplot not found (apt-get install gnuplot-nox): no plot" >&2; exit 0; }
gnuplot <<EOF
set terminal pngcairo size 1100,450 font ",10" noenhanced
set output "models/ladder.png"
set multiplot layout 1,2 title "crisp student ladder: quality against cost (crisp eval, PSNR-Y, border crop 2)"
set logscale x
set xlabel "GMAC per 1280x720 frame"
set ylabel "PSNR-Y (dB)"
set key bottom right
set grid
set title "Kodak24, protocol vc"
plot "/tmp/ladder-plot.dat" using 1:2:4 with labels left offset 1,0 rotate by 20 font ",8" notitle, \
     "" using 1:2 with points pt 7 title "models", \
     $(get Kodak24 vc degraded) title "degraded" dt 2, $(get Kodak24 vc unsharp) title "unsharp" dt 3
set title "Set5, protocol x2"
plot "/tmp/ladder-plot.dat" using 1:3:4 with labels left offset 1,0 rotate by 20 font ",8" notitle, \
     "" using 1:3 with points pt 7 title "models", \
     $(get Set5 x2 degraded) title "degraded" dt 2, $(get Set5 x2 unsharp) title "unsharp" dt 3
unset multiplot
EOF
echo "wrote models/ladder.png" >&2
