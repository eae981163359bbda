#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# crispd's status page in headless Chromium (tests/browser/page.mjs): a
# paced crispd --http on a clip of one picture repeated (so that each
# output hash names the settings it was made with), the page driven as a
# person would. Writes the screenshot to $SHOT_DIR (docs/img when
# scripts/screenshots.sh runs it), else to the scratch folder.
set -u
. "$(dirname "$0")/../common.sh"
. "$(dirname "$0")/../daemon/http-common.sh"
. "$(dirname "$0")/npm-setup.sh" page.mjs
# the picture: a talking-head frame when ../shared is there (the screenshot
# shows what crisp is for), else the test image
V=$CRISP_SOURCE_ROOT/../shared/data/video/talking-720p-a.mp4
PIC=$CRISP_SOURCE_ROOT/tests/data/ref.png
if [ -f "$V" ] && ffmpeg -loglevel error -y -ss 4 -i "$V" -frames:v 1 "$T/frame.png"; then
    PIC=$T/frame.png
fi
ffmpeg -loglevel error -y -loop 1 -i "$PIC" -t 90 -r 30 -vf scale=640:360,format=yuv420p \
    -c:v libx264 -qp 0 -preset ultrafast "$T/still.mp4" || skip "ffmpeg cannot make the clip"
if ! start_crispd page --input "$T/still.mp4" --output "hash:$T/h.txt" --realtime \
    --model "$M/crisp-rt-s.crisp" --size 640x360 --threads 1; then
    bad "crispd --http did not start: $(tail -3 "$T/page.err")"
    finish
    exit
fi
SHOT=${SHOT_DIR:-$T}/control-page.png
# the browser as a desktop user runs it: without CAP_SYS_NICE (as root,
# Chromium raises some of its threads to nice -8, above crispd's), and, on a
# 2-core test machine, below crispd's priority (nice 10): the check is that
# crispd's preview does not slow the frame path, not that two cores serve a
# browser and a paced stream without contention (docs/operations.md)
RUNB=(node)
command -v setpriv >/dev/null && RUNB=(setpriv --bounding-set=-sys_nice nice -n 10 node)
if timeout 240 "${RUNB[@]}" "$NPM_DIR/page.mjs" "http://127.0.0.1:$PORT/" "$T/h.txt" "$SHOT"; then
    ok "the page in Chromium"
else
    bad "the page in Chromium (above)"
fi
stop_crispd || bad "crispd exit $?: $(tail -2 "$T/page.err")"
finish
