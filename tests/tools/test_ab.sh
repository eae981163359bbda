#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# crisp ab without a browser: `make` on a short synthetic clip (the folder,
# the key, ids only in the page, every version decodable and of the same
# size and length), its refusals; `serve` (the page, byte ranges, key.json
# never served, answers checked and stored, foreign hosts refused); `tally`
# on synthetic answers with known results (a method always preferred: share
# 1 and the Wilson interval [n/(n+z^2), 1]; equal methods 0.5; MOS and its
# t interval; duplicates counted once; answers of another test refused).
set -u
. "$(dirname "$0")/../common.sh"
: "${CRISP:?}"
need ffmpeg
need curl
need python3
M=$CRISP_SOURCE_ROOT/models
ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=320x240:rate=30 -t 2 -c:v libx264 -qp 0 \
    -pix_fmt yuv420p "$T/clip.mp4" || skip "ffmpeg cannot make the clip"

# expect CODE PATTERN command...: exit CODE; on failure one stderr line matching PATTERN
expect() {
    local code=$1 pat=$2
    shift 2
    "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    if [ "$rc" != "$code" ]; then
        bad "exit $rc (want $code): $* :: $(head -c 300 "$T/err")"
    elif [ "$code" != 0 ] && { [ "$(wc -l <"$T/err")" != 1 ] || ! grep -Eq -- "$pat" "$T/err"; }; then
        bad "want one stderr line /$pat/: $* :: $(cat "$T/err")"
    else
        ok "$* -> $rc $(head -c 140 "$T/err")"
    fi
}

# ---- make
D=$T/test1
expect 0 "" "$CRISP" ab make --video "$T/clip.mp4" --video "$T/clip.mp4" --model "$M/crisp-rt-s.crisp" \
    --unsharp --cas --original --acr --seconds 1 --start 0.5 --out "$D"
python3 - "$D" <<'PY' && ok "key, page and media agree" || bad "key, page and media disagree (above)"
import json, os, re, subprocess, sys
d = sys.argv[1]
key = json.load(open(f"{d}/key.json"))
page = open(f"{d}/site/index.html").read()
assert key["methods"] == ["received", "unsharp", "cas@0", "crisp-rt-s@int8", "original"] or \
       key["methods"] == ["received", "unsharp", "cas@0", "crisp-rt-s@fp32", "original"] or \
       key["methods"][:3] == ["received", "unsharp", "cas@0"], key["methods"]
assert len(key["clips"]) == 2
cfg = json.loads(re.search(r"const TEST = (\{.*?\});\n", page).group(1))
assert cfg["test"] == key["test"] and re.fullmatch(r"[0-9a-f]{16}", key["test"])
assert cfg["acr"] is True
files = sorted(os.listdir(f"{d}/site/media"))
ids = []
for c, kc in zip(cfg["clips"], key["clips"]):
    assert sorted(c["videos"]) == sorted(kc["videos"]), (c, kc)
    assert kc["frames"] == 30 and c["frames"] == 30, kc
    ids += c["videos"]
assert files == sorted(i + ".mp4" for i in ids), files
for name in key["methods"]:
    base = name.split("@")[0]
    assert not re.search(r"(?i)\b" + re.escape(base) + r"\b", page), f"{base} in the page"
for f in files:
    out = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v",
                          "-show_entries", "stream=width,height,nb_read_frames,pix_fmt",
                          "-of", "csv=p=0", f"{d}/site/media/{f}"], capture_output=True, text=True).stdout.strip()
    assert out == "320,240,yuv420p,30", (f, out)
print("methods", key["methods"], "videos", len(files))
PY
expect 2 "already holds a test" "$CRISP" ab make --video "$T/clip.mp4" --unsharp --out "$D"
expect 2 "nothing to compare" "$CRISP" ab make --video "$T/clip.mp4" --out "$T/x"
expect 2 "--video and --out" "$CRISP" ab make --unsharp --out "$T/x"
expect 2 "protocol must be vc or x2" "$CRISP" ab make --video "$T/clip.mp4" --unsharp --protocol blur --out "$T/x"
expect 2 "seconds must be" "$CRISP" ab make --video "$T/clip.mp4" --unsharp --seconds 0 --out "$T/x"
expect 1 "ask for" "$CRISP" ab make --video "$T/clip.mp4" --unsharp --seconds 3 --out "$T/x"
[ -z "$(ls -A "$T/x/site/media" 2>/dev/null)" ] && [ ! -e "$T/x/key.json" ] &&
    ok "a failed make leaves no videos and no key" || bad "a failed make left $(ls "$T/x/site/media")"
expect 1 "nope.mp4" "$CRISP" ab make --video "$T/nope.mp4" --unsharp --out "$T/y"
printf 'garbage' >"$T/bad.crisp"
expect 1 "bad.crisp" "$CRISP" ab make --video "$T/clip.mp4" --model "$T/bad.crisp" --out "$T/z"
expect 2 "unknown command" "$CRISP" ab frob

# ---- serve
"$CRISP" ab serve --listen 127.0.0.1:0 "$D" >"$T/serve.out" 2>"$T/serve.err" &
SP=$!
PORT=$(ab_serve_port "$T/serve.out")
if [ -z "$PORT" ]; then
    bad "crisp ab serve did not start: $(cat "$T/serve.err")"
else
    U=http://127.0.0.1:$PORT
    code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
    [ "$(code "$U/")" = 200 ] && cmp -s "$T/body" "$D/site/index.html" && ok "GET / is the page" || bad "GET /"
    ID=$(ls "$D/site/media" | head -1)
    [ "$(code -r 10-19 "$U/media/$ID")" = 206 ] && [ "$(wc -c <"$T/body")" = 10 ] &&
        cmp -s "$T/body" <(tail -c +11 "$D/site/media/$ID" | head -c 10) &&
        ok "a byte range of a video (206)" || bad "byte range"
    [ "$(code "$U/media/$ID")" = 200 ] && cmp -s "$T/body" "$D/site/media/$ID" && ok "a whole video" || bad "whole video"
    for p in /key.json /../key.json /media/../../key.json /media/xyz.mp4 /votes; do
        c=$(code --path-as-is "$U$p")
        [ "$c" = 404 ] || [ "$c" = 405 ] && ok "GET $p refused ($c)" || bad "GET $p gave $c"
    done
    [ "$(code -H 'Host: evil.example' "$U/")" = 421 ] && ok "a foreign Host refused (421)" || bad "Host check"
    [ "$(code -H 'Host: 127.0.0.1.evil.example' "$U/")" = 421 ] && ok "127.0.0.1.evil.example refused" || bad "Host prefix"
    TEST_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["test"])' "$D/key.json")
    post() { code -X POST -H 'Content-Type: application/json' --data-binary "$1" "$U/votes"; }
    [ "$(post '{"ab_votes":1,"test":"0000000000000000","rater":"00000000000000aa","pc":[]}')" = 409 ] &&
        ok "answers of another test refused (409)" || bad "foreign test id taken"
    [ "$(post 'not json')" = 400 ] && ok "garbage answers refused (400)" || bad "garbage taken"
    [ "$(code -X POST -H 'Content-Type: text/plain' --data 'x' "$U/votes")" = 415 ] && ok "text/plain refused (415)" || bad "415"
    head -c 300000 /dev/zero | tr '\0' ' ' >"$T/big"
    [ "$(code -X POST -H 'Content-Type: application/json' --data-binary @"$T/big" "$U/votes")" = 413 ] &&
        ok "answers over 256 KiB refused (413)" || bad "413"
    [ "$(post "{\"ab_votes\":1,\"test\":\"$TEST_ID\",\"rater\":\"00000000000000aa\",\"pc\":[]}")" = 200 ] &&
        [ -f "$D/votes/votes-00000000000000aa-1.json" ] && ok "answers stored in DIR/votes" || bad "answers not stored"
    kill -TERM "$SP"
    wait "$SP" && ok "serve stops on SIGTERM (exit 0)" || bad "serve exit $?"
fi
expect 2 "loopback" "$CRISP" ab serve --listen 0.0.0.0:0 "$D"
expect 1 "key.json" "$CRISP" ab serve "$T"

# ---- tally on synthetic answers: methods received, X (always preferred), E1, E2 (equal)
S=$T/syn
mkdir -p "$S"
python3 - "$S" <<'PY'
import json, sys
d = sys.argv[1]
ids = {"received": "aaaaaaaaaaa1", "X": "aaaaaaaaaaa2", "E1": "aaaaaaaaaaa3", "E2": "aaaaaaaaaaa4"}
key = {"crisp_ab": 1, "test": "0123456789abcdef", "methods": list(ids),
       "clips": [{"label": "Clip 1", "videos": {v: k for k, v in ids.items()}}]}
json.dump(key, open(f"{d}/key.json", "w"))
def rater(r, n):
    pc, acr = [], []
    for k in range(n):
        for a in ids:
            if a == "X":
                continue
            left = k % 2 == 0  # X on either side
            pc.append({"clip": 0, "left": ids["X"] if left else ids[a], "right": ids[a] if left else ids["X"],
                       "vote": "left" if left else "right"})
        # E1 against E2: one each way, and a tie every other round
        pc.append({"clip": 0, "left": ids["E1"], "right": ids["E2"], "vote": ["left", "right"][k % 2]})
    acr = [{"clip": 0, "video": ids["X"], "score": s} for s in (5, 4)]
    return {"ab_votes": 1, "test": key["test"], "rater": r, "pc": pc, "acr": acr}
json.dump(rater("00000000000000a1", 6), open(f"{d}/r1.json", "w"))
json.dump(rater("00000000000000a2", 4), open(f"{d}/r2.json", "w"))
json.dump(rater("00000000000000a2", 2), open(f"{d}/r2-partial.json", "w"))  # the same rater, fewer answers
other = rater("00000000000000a3", 1); other["test"] = "fedcba9876543210"
json.dump(other, open(f"{d}/other.json", "w"))
bad = rater("00000000000000a4", 1); bad["pc"][0]["left"] = "bbbbbbbbbbbb"
json.dump(bad, open(f"{d}/badid.json", "w"))
bad = rater("00000000000000a5", 1); bad["acr"][0]["score"] = 7
json.dump(bad, open(f"{d}/badscore.json", "w"))
open(f"{d}/trunc.json", "w").write(json.dumps(rater("00000000000000a6", 1))[:50])
PY
expect 0 "" "$CRISP" ab tally --json "$S/t.json" "$S" "$S/r1.json" "$S/r2.json" "$S/r2-partial.json"
cat "$T/out"
python3 - "$S/t.json" <<'PY' && ok "tally: known shares, Wilson intervals, ranking, MOS" || bad "tally results (above)"
import json, math, sys
t = json.load(open(sys.argv[1]))
z = 1.959963984540054
assert t["raters"] == 2 and t["pc_votes"] == 40 and t["acr_ratings"] == 4, t
pairs = {(p["a"], p["b"]): p for p in t["pairs"]}
for other in ("received", "E1", "E2"):
    p = pairs.get(("X", other)) or pairs.get((other, "X"))
    n = 10
    share_x = p["share_a"] if p["a"] == "X" else 1 - p["share_a"]
    assert p["votes"] == n and abs(share_x - 1) < 1e-9, p
    lo, hi = (p["ci95"] if p["a"] == "X" else [1 - p["ci95"][1], 1 - p["ci95"][0]])
    assert abs(lo - n / (n + z * z)) < 1e-6 and abs(hi - 1) < 1e-9, (lo, hi, n / (n + z * z))
e = pairs[("E1", "E2")]
assert e["votes"] == 10 and abs(e["share_a"] - 0.5) < 1e-9, e
# Wilson at p = 0.5, n = 10
h = z / (1 + z * z / 10) * math.sqrt(0.25 / 10 + z * z / 400)
assert abs(e["ci95"][0] - (0.5 - h)) < 1e-6 and abs(e["ci95"][1] - (0.5 + h)) < 1e-6, e
rank = t["ranking"]
assert rank[0]["method"] == "X" and rank[0]["score"] > 2 and rank[0]["ci95"][0] > 0, rank
s = {r["method"]: r["score"] for r in rank}
assert abs(s["E1"] - s["E2"]) < 1e-6 and abs(s["received"]) < 1e-12, s
m = t["mos"]
assert len(m) == 1 and m[0]["method"] == "X" and m[0]["n"] == 4 and abs(m[0]["mos"] - 4.5) < 1e-9, m
half = 3.182 * math.sqrt(1 / 3) / 2
assert abs(m[0]["ci95"][0] - (4.5 - half)) < 1e-3 and abs(m[0]["ci95"][1] - (4.5 + half)) < 1e-3, m
print("X share 1, lower bound", n / (n + z * z), "E1/E2 0.5, MOS", m[0])
PY
grep -q "duplicate" "$T/out" && ok "a rater's second file counted once" || bad "duplicates not reported"
# ties split: a vote of "same" counts half each way
python3 - "$S" <<'PY'
import json, sys
d = sys.argv[1]
k = json.load(open(f"{d}/key.json"))
json.dump({"ab_votes": 1, "test": k["test"], "rater": "00000000000000b1",
           "pc": [{"clip": 0, "left": "aaaaaaaaaaa1", "right": "aaaaaaaaaaa2", "vote": "same"}] * 4},
          open(f"{d}/ties.json", "w"))
PY
expect 0 "" "$CRISP" ab tally --json "$S/ties-t.json" "$S" "$S/ties.json"
python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["pairs"][0]; assert p["same"]==4 and abs(p["share_a"]-0.5)<1e-9, p' \
    "$S/ties-t.json" && ok "ties split: share 0.5" || bad "ties"
expect 1 "other.json: answers for test fedcba9876543210, not this test" "$CRISP" ab tally "$S" "$S/r1.json" "$S/other.json"
expect 1 "badid.json: pc\[0\]" "$CRISP" ab tally "$S" "$S/badid.json"
expect 1 "badscore.json: acr\[0\]" "$CRISP" ab tally "$S" "$S/badscore.json"
expect 1 "trunc.json: not valid JSON" "$CRISP" ab tally "$S" "$S/trunc.json"
expect 1 "no answers given" "$CRISP" ab tally "$S"
expect 1 "nope.json" "$CRISP" ab tally "$S" "$S/nope.json"
finish
