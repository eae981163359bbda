#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Soak (a benchmark, not a CI test): crispd at 1280x720, 30 fps pacing
# (--realtime), file -> null for MINUTES (default 10), sampling its resident
# memory every second. Reports RSS after warm-up (first minute) and at the
# end, the spread after warm-up, and crispd's drop counters.
#   bash bench/soak.sh [MINUTES] [extra crispd options, e.g. --bypass]
set -euo pipefail
cd "$(dirname "$0")/.."
MIN=${1:-10}
shift || true
bash scripts/build.sh
T=$(mktemp -d)
trap 'kill $PID 2>/dev/null; rm -rf "$T"' EXIT
SECS=$((MIN * 60 + 5))
echo "making a ${SECS}s 720p30 clip"
ffmpeg -v error -y -f lavfi -i testsrc2=size=1280x720:rate=30 -t "$SECS" -c:v libx264 -preset ultrafast \
    -pix_fmt yuv420p "$T/clip.mp4"
build/daemon/crispd --input "file:$T/clip.mp4" --output null: --realtime --stats-json "$T/s.json" "$@" &
PID=$!
echo "t_s,rss_kb" >"$T/rss.csv"
t=0
while kill -0 $PID 2>/dev/null; do
    rss=$(awk '/VmRSS/ { print $2 }' /proc/$PID/status 2>/dev/null || true)
    [ -n "$rss" ] && echo "$t,$rss" >>"$T/rss.csv"
    sleep 1
    t=$((t + 1))
done
wait $PID || true
mkdir -p bench/results
out=bench/results/soak-$(date +%Y%m%d-%H%M).csv
cp "$T/rss.csv" "$out"
awk -F, 'NR > 1 && $1 >= 60 { if (!n++) { first = $2; lo = $2; hi = $2 } if ($2 < lo) lo = $2; if ($2 > hi) hi = $2; last = $2 }
    END { printf "RSS after warm-up (60 s): %.1f MB, at the end: %.1f MB, spread after warm-up: %.2f MB (min %.1f, max %.1f)\n",
          first / 1024, last / 1024, (hi - lo) / 1024, lo / 1024, hi / 1024 }' "$T/rss.csv"
echo "crispd stats: $(cat "$T/s.json")"
echo "RSS samples: $out"
