#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# crisp bench smoke run (not a timing test: numbers are only checked to be
# present and positive): a few 720p frames through crispd, fast and paced.
set -u
: "${CRISP:?}" "${CRISPD:?}" "${CRISP_SOURCE_ROOT:?}"
command -v ffmpeg >/dev/null || { echo "SKIP: no ffmpeg CLI"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ffmpeg -v error -y -f lavfi -i testsrc2=size=1280x720:rate=30 -frames:v 20 -c:v libx264 -preset ultrafast \
    -pix_fmt yuv420p "$T/clip.mp4" || exit 1
fails=0
"$CRISP" bench --input "$T/clip.mp4" --frames 8 --threads 2 --crispd "$CRISPD" --json "$T/b.json" | tee "$T/out.txt" ||
    { echo "FAIL: crisp bench exit $?"; exit 1; }
python3 - "$T/b.json" <<'PY' || fails=1
import json, sys
j = json.load(open(sys.argv[1]))
need = {"fps": j["fps"], "latency_ms.p99": j["latency_ms"]["p99"], "cpu_s_per_frame": j["cpu_s_per_frame"],
        "peak_rss_mb": j["peak_rss_mb"], "gmacs_per_s": j["gmacs_per_s"], "peak_fraction": j["peak_fraction"],
        "paced.fps": j["paced"]["fps"], "stage_ms.infer.p50": j["stage_ms"]["infer"]["p50"]}
bad = [k for k, v in need.items() if not (isinstance(v, (int, float)) and v > 0)]
print("ok: bench JSON has", ", ".join(f"{k}={v:.4g}" for k, v in need.items()))
if bad:
    print("FAIL: not positive:", bad)
    sys.exit(1)
if not 0 < j["peak_fraction"] < 5:
    print("FAIL: peak_fraction", j["peak_fraction"])
    sys.exit(1)
PY
"$CRISP" bench --input "$T/nope.mp4" --crispd "$CRISPD" 2>"$T/err"
rc=$?
if [ $rc = 1 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q "nope.mp4" "$T/err"; then
    echo "ok: missing clip: $(cat "$T/err")"
else
    echo "FAIL: missing clip: exit $rc $(cat "$T/err")"; fails=1
fi
[ $fails = 0 ]
