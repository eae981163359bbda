#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# crisp ab end to end in headless Chromium (tests/browser/ab.mjs): a test
# made on two 1-second clips (received, unsharp, cas, crisp-rt-s, ACR on),
# served by crisp ab serve on loopback, taken by a scripted rater who
# always prefers crisp-rt-s; the tally of the answers the page posted back
# must give it a preference of 1 against every other method and rank it
# first. Writes a screenshot of a pair to $SHOT_DIR (docs/img when
# scripts/screenshots.sh runs it), else to the scratch folder.
set -u
. "$(dirname "$0")/../common.sh"
: "${CRISP:?}"
. "$(dirname "$0")/npm-setup.sh" ab.mjs
M=$CRISP_SOURCE_ROOT/models
V=$CRISP_SOURCE_ROOT/../shared/data/video/talking-720p-a.mp4
# clips: a talking head when ../shared is there, else FFmpeg's test pattern
if [ -f "$V" ]; then
    ffmpeg -loglevel error -y -ss 2 -i "$V" -t 1.2 -vf scale=640:360 -c:v libx264 -qp 0 "$T/a.mp4" &&
        ffmpeg -loglevel error -y -ss 6 -i "$V" -t 1.2 -vf crop=640:360:320:100 -c:v libx264 -qp 0 "$T/b.mp4"
else
    ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=640x360:rate=30 -t 1.2 -c:v libx264 -qp 0 "$T/a.mp4" &&
        ffmpeg -loglevel error -y -f lavfi -i smptehdbars=size=640x360:rate=30 -t 1.2 -c:v libx264 -qp 0 "$T/b.mp4"
fi || skip "ffmpeg cannot make the clips"
D=$T/test
if "$CRISP" ab make --video "$T/a.mp4" --video "$T/b.mp4" --model "$M/crisp-rt-s.crisp" --unsharp --cas \
    --acr --seconds 1 --threads 1 --out "$D" >"$T/make.out" 2>"$T/make.err"; then
    ok "crisp ab make"
else
    bad "crisp ab make: $(cat "$T/make.err")"
    finish
    exit
fi
X=$(python3 -c 'import json,sys; print([m for m in json.load(open(sys.argv[1]))["methods"] if m.startswith("crisp-rt-s")][0])' "$D/key.json")
"$CRISP" ab serve --listen 127.0.0.1:0 "$D" >"$T/serve.out" 2>"$T/serve.err" &
SP=$!
trap 'kill $SP 2>/dev/null; rm -rf "$T"' EXIT
PORT=$(ab_serve_port "$T/serve.out")
[ -n "$PORT" ] || { bad "crisp ab serve did not start: $(cat "$T/serve.err")"; finish; exit; }
SHOT=${SHOT_DIR:-$T}/ab-page.png
RUNB=(node)
command -v setpriv >/dev/null && RUNB=(setpriv --bounding-set=-sys_nice node)
if timeout 300 "${RUNB[@]}" "$NPM_DIR/ab.mjs" "http://127.0.0.1:$PORT/" "$D/key.json" "$X" \
    "$T/download.json" "$SHOT"; then
    ok "the rater's page in Chromium"
else
    bad "the rater's page in Chromium (above)"
fi
kill -TERM "$SP"
wait "$SP" || bad "crisp ab serve exit $?"
ls "$D"/votes/*.json >/dev/null 2>&1 && ok "answers stored: $(ls "$D/votes")" || bad "no answers in $D/votes"
if "$CRISP" ab tally --json "$T/tally.json" "$D" >"$T/tally.out" 2>"$T/tally.err"; then
    cat "$T/tally.out"
    python3 - "$T/tally.json" "$X" <<'PY' && ok "tally: $X preferred in every pair (share 1), ranked first, best MOS" || bad "tally (above)"
import json, sys
t, x = json.load(open(sys.argv[1])), sys.argv[2]
assert t["raters"] == 1 and t["pc_votes"] == 12, t
for p in t["pairs"]:
    if x in (p["a"], p["b"]):
        share = p["share_a"] if p["a"] == x else 1 - p["share_a"]
        assert share == 1 and p["votes"] == 2, p
    else:
        assert p["share_a"] == 0.5 and p["same"] == 2, p
assert t["ranking"][0]["method"] == x, t["ranking"]
mos = {m["method"]: m["mos"] for m in t["mos"]}
assert mos[x] == 5 and all(v == 2 for k, v in mos.items() if k != x), mos
PY
else
    bad "crisp ab tally: $(cat "$T/tally.err")"
fi
# the downloaded copy is the same rater's answers: counted once
cp "$T/download.json" "$D/votes/zz-download.json"
"$CRISP" ab tally "$D" >"$T/t2.out" 2>&1 && grep -q "1 rater, 12 pair votes" "$T/t2.out" &&
    ok "the downloaded copy and the posted one count once" || bad "download + post: $(head -2 "$T/t2.out")"
finish
