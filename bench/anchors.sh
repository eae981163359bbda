#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Side-by-side anchors in one run (ratios: machines are noisy), written to
# docs/benchmarks.md:
#   - crisp bench (crispd: decode -> crisp-rt -> null) on a real 720p clip;
#   - FFmpeg's cas and unsharp filters on the same clip (decode -> filter -> null);
#   - the same crisp-rt model (same layers, same weights) in PyTorch, CPU, same threads;
#   - a training step (batch 16 of 96x96 luma patches, L1, Adam) of crisp-teacher
#     and crisp-rt in PyTorch and in crisp-train.
# Not a test: run it on an otherwise idle machine.
#   bash bench/anchors.sh [CLIP] [THREADS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
CLIP=${1:-../shared/data/video/talking-720p-a.mp4}
TH=${2:-2}
[ -f "$CLIP" ] || { echo "no clip $CLIP (pass one)"; exit 1; }
bash scripts/deps.sh python3-torch
bash scripts/build.sh
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export OMP_NUM_THREADS=$TH
PY=/usr/bin/python3 # Debian's, where python3-torch lives
N=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$CLIP")
echo "clip $CLIP: $N frames; $TH threads"

build/tools/crisp bench --input "$CLIP" --frames "$N" --threads "$TH" --json "$T/crisp.json" | tee "$T/crisp.txt"
jq() { python3 -c "import json,sys; j=json.load(open('$1')); print($2)"; }
crisp_fps=$(jq "$T/crisp.json" "j['fps']")
crisp_p99=$(jq "$T/crisp.json" "j['paced']['latency_ms']['p99']")
crisp_cpu=$(jq "$T/crisp.json" "j['cpu_s_per_frame']")
crisp_rss=$(jq "$T/crisp.json" "j['peak_rss_mb']")
crisp_frac=$(jq "$T/crisp.json" "j['peak_fraction']")
crisp_gmacs=$(jq "$T/crisp.json" "j['gmacs_per_s']")
crisp_prec=$(jq "$T/crisp.json" "j['precision']")

ff() { # filter -> fps (decode + filter + null, one thread for filter graphs as crispd's capture)
    ffmpeg -hide_banner -nostats -benchmark -threads "$TH" -filter_threads "$TH" -i "$CLIP" -vf "$1" -f null - 2>"$T/ff.txt"
    local rt
    rt=$(sed -n 's/.*rtime=\([0-9.]*\)s.*/\1/p' "$T/ff.txt" | tail -1)
    python3 -c "print('%.1f' % ($N / $rt))"
}
dec_fps=$(ff null)
cas_fps=$(ff cas=strength=0.8)
uns_fps=$(ff unsharp=5:5:1.0)
echo "ffmpeg decode only $dec_fps fps, cas $cas_fps fps, unsharp $uns_fps fps"

torch_fps=$($PY bench/torch_anchor.py infer models/crisp-rt.crisp 1280 720 60 "$TH" | awk '{print $2}')
crisp_inf=$(jq "$T/crisp.json" "'%.1f' % (1000.0 / j['stage_ms']['infer']['p50'])")
echo "PyTorch crisp-rt inference $torch_fps fps; crisp inference alone $crisp_inf fps"

train_row() { # arch model-file
    local pt ct
    pt=$($PY bench/torch_anchor.py train "$2" 16 96 8 "$TH" | awk '{print $2}')
    ct=$(build/trainer/crisp-train bench --arch "$1" --batch 16 --patch 96 --steps 8 --threads "$TH" |
        sed -n 's/.* \([0-9.]*\) s\/step mean.*/\1/p')
    echo "| $1 | $ct | $pt | $(python3 -c "print('%.2f' % ($pt / $ct))") |"
}
t_teacher=$(train_row crisp-teacher models/crisp-teacher.crisp)
t_rt=$(train_row crisp-rt models/crisp-rt.crisp)
echo "$t_teacher"
echo "$t_rt"

cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
isa=$(grep -o -w -E 'amx_int8|avx512_vnni|avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')
ok() { python3 -c "print('yes' if $1 else 'no')"; }
cat >docs/benchmarks.md <<EOF
# Benchmarks

Measured by \`bash bench/anchors.sh\` in one run on $(date -u +%Y-%m-%d): $cpu
($(nproc) cores visible, $TH threads, ISA flags: $isa), oneDNN 2.6, FFmpeg 5.1,
PyTorch $($PY -c 'import torch; print(torch.__version__)') (Debian). Clip: \`$CLIP\`
($N frames, 1280×720). Model: \`models/crisp-rt.crisp\`, in crisp **$crisp_prec** (its default on this
CPU), in PyTorch f32. Numbers from different machines are not comparable;
the ratios within one run are the point, and even they move between runs
on a shared machine: run it twice.

## End to end (decode → sharpen → null)

| pipeline | fps |
|---|---|
| ffmpeg decode only | $dec_fps |
| ffmpeg \`cas=strength=0.8\` | $cas_fps |
| ffmpeg \`unsharp=5:5:1.0\` | $uns_fps |
| crispd + crisp-rt (\`crisp bench\`, as fast as possible) | $crisp_fps |

\`crisp bench\` details:

\`\`\`
$(cat "$T/crisp.txt")
\`\`\`

## Inference alone: the same model in PyTorch

| engine | crisp-rt at 1280×720, frames/s |
|---|---|
| crisp (oneDNN, inference stage p50 inside crispd) | $crisp_inf |
| PyTorch (same layers and weights, \`torch.no_grad\`) | $torch_fps |

## Training step (batch 16 of 96×96 luma patches, L1, Adam)

| model | crisp-train s/step | PyTorch s/step | PyTorch time / crisp-train time (above 1: crisp-train faster) |
|---|---|---|---|
$t_teacher
$t_rt

## Targets of issue 7

| target | measured | met? |
|---|---|---|
| ≥ 60 fps end to end at 1280×720 (int8) | $crisp_fps fps ($crisp_prec) | $(ok "$crisp_fps >= 60") |
| faster than ffmpeg \`cas\` in the same run | $crisp_fps vs $cas_fps fps | $(ok "$crisp_fps > $cas_fps") |
| capture-to-sink latency p99 < 33 ms at 30 fps pacing | $crisp_p99 ms | $(ok "$crisp_p99 < 33") |
| ≥ 3× PyTorch inference speed | $(python3 -c "print('%.2f' % ($crisp_inf / $torch_fps))")× | $(ok "$crisp_inf >= 3 * $torch_fps") |
| crisp-train at least as fast as PyTorch per step | see the table above | teacher: $(echo "$t_teacher" | awk -F'|' '{print ($4 >= $3) ? "yes" : "no"}'), crisp-rt: $(echo "$t_rt" | awk -F'|' '{print ($4 >= $3) ? "yes" : "no"}') |
| crispd peak RSS < 200 MB | $crisp_rss MB | $(ok "$crisp_rss < 200") |

CPU per frame: $crisp_cpu s; inference throughput $crisp_gmacs GMAC/s, a fraction
$crisp_frac of the best single 3×3 convolution layer measured in the same run.
EOF
echo "wrote docs/benchmarks.md"
