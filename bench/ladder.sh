#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Issue 23's measurements in one run (ratios count; run on an idle machine),
# for docs/benchmarks.md: natively and with oneDNN capped at AVX2
# (ONEDNN_MAX_CPU_ISA=AVX2: what an AVX2 laptop gets),
#   - crisp bench --ladder (each installed ladder model, int8, file -> null),
#     whole frame and in stripes of STRIPES rows;
#   - crispd --model auto paced at 30 fps on the clip (drops, capture-to-sink
#     p99, CPU per frame, the model chosen);
#   - FFmpeg's cas filter on the same clip, the same threads.
#   bash bench/ladder.sh [CLIP] [THREADS=2] [STRIPES="32 64 128"]
set -euo pipefail
cd "$(dirname "$0")/.."
CLIP=${1:-../shared/data/video/talking-720p-a.mp4}
TH=${2:-2}
STRIPES=${3:-32 64 128}
[ -f "$CLIP" ] || { echo "no clip $CLIP (pass one)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
N=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$CLIP")
echo "clip $CLIP: $N frames; $TH threads; $(lscpu | sed -n 's/^Model name: *//p')"
for isa in native AVX2; do
    env=()
    [ "$isa" = AVX2 ] && env=(ONEDNN_MAX_CPU_ISA=AVX2)
    echo "== oneDNN ISA: $isa"
    for sr in 0 $STRIPES; do
        env "${env[@]}" build/tools/crisp bench --ladder --input "$CLIP" --frames "$N" --threads "$TH" \
            --stripe-rows "$sr" | sed "s/^/stripe-rows $sr: /"
    done
    env "${env[@]}" build/daemon/crispd --input "file:$CLIP" --output null: --model auto --realtime \
        --threads "$TH" --stats-json "$T/auto.json" 2>"$T/auto.err"
    echo "paced 30 fps, --model auto: $(tail -1 "$T/auto.err")"
    python3 -c "import json; j=json.load(open('$T/auto.json')); print('  in %d out %d dropped capture %d infer %d sink %d, latency p99 %.1f ms, infer p50/p99 %.1f/%.1f ms, model %s' % (j['frames_in'], j['frames_out'], j['dropped_capture'], j['dropped_infer'], j['dropped_sink'], j['latency_ms']['p99'], j['infer_ms']['p50'], j['infer_ms']['p99'], j['model']))"
    /usr/bin/time -f "%U %S" -o "$T/auto.time" env "${env[@]}" build/daemon/crispd --input "file:$CLIP" \
        --output null: --model auto --realtime --threads "$TH" 2>/dev/null
    python3 -c "u, s = map(float, open('$T/auto.time').read().split()); print('  CPU %.4f s per frame' % ((u + s) / $N))"
done
ffmpeg -hide_banner -nostats -benchmark -threads "$TH" -filter_threads "$TH" -i "$CLIP" -vf cas -f null - 2>"$T/ff.txt"
rt=$(sed -n 's/.*rtime=\([0-9.]*\)s.*/\1/p' "$T/ff.txt" | tail -1)
echo "ffmpeg cas: $(python3 -c "print('%.1f' % ($N / $rt))") fps (decode + filter)"
