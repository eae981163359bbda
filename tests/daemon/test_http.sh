#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# crispd --http with real clients: curl on every endpoint and every refusal
# (a wrong Host, a foreign Origin, a cross-site fetch, a missing or wrong
# token, an oversized body, an unknown key, strength 7, a model that is not
# installed, a wrong method or type: 4xx with a message, and the stream
# untouched: same settings, same output hashes, frames still flowing);
# controls that change the output frames' hashes (strength 0 and bypass give
# the input, strength 1 and 2 differ); a model change; crisp ctl; start-up
# refusals (non-loopback without a token, bad address, port in use);
# promtool check metrics; a real Prometheus server scraping crispd every
# second and answering a PromQL query; and a bounded HTTP load (wrk, 10 s)
# during a paced 30 fps run that drops no frame. Under sanitizers the
# Prometheus and load parts are left out (CRISP_SANITIZE).
set -u
. "$(dirname "$0")/../common.sh"
. "$(dirname "$0")/http-common.sh"
SAN=${CRISP_SANITIZE:-none}
still_clip "$T/still.mp4" 60 || skip "ffmpeg cannot make the test clip"

# code EXPECTED DESC CURL-ARGS...: the HTTP status is EXPECTED; a refusal
# carries {"error": "..."}
code() {
    local want=$1 desc=$2
    shift 2
    local got
    got=$(curl -s -o "$T/body" -w '%{http_code}' "$@")
    if [ "$got" != "$want" ]; then
        bad "$desc: HTTP $got, expected $want ($(head -c 200 "$T/body"))"
    elif [ "$want" -ge 400 ] && ! grep -q '"error": "..*"' "$T/body"; then
        bad "$desc: HTTP $got without a message"
    else
        ok "$desc: HTTP $got $( [ "$want" -ge 400 ] && head -c 120 "$T/body")"
    fi
}

# settle: waits for 3 more output frames (a change applies at the next frame)
settle() {
    local n0 n
    n0=$(wc -l <"$T/h.txt")
    for _ in $(seq 100); do
        n=$(wc -l <"$T/h.txt")
        [ $((n - n0)) -ge 3 ] && return 0
        sleep 0.05
    done
    return 1
}
last_hash() { settle; tail -1 "$T/h.txt"; }

# ---- start-up refusals: one line, nonzero exit ----
refuse() { # DESC EXIT ARGS...
    local desc=$1 want=$2
    shift 2
    timeout 20 "$CRISPD" --input "$T/still.mp4" --output null: "$@" 2>"$T/r.err"
    local rc=$?
    if [ $rc = "$want" ] && [ "$(wc -l <"$T/r.err")" = 1 ]; then
        ok "$desc: exit $rc: $(cat "$T/r.err")"
    else
        bad "$desc: exit $rc (expected $want): $(head -3 "$T/r.err")"
    fi
}
refuse "non-loopback without a token" 2 --http 0.0.0.0:0
refuse "no port" 2 --http 127.0.0.1
refuse "bad address" 2 --http no.such.host.invalid:80
refuse "token file without --http" 2 --http-token-file /nonexistent
printf 'short\n' >"$T/short.tok"
chmod 600 "$T/short.tok"
refuse "short token" 2 --http 127.0.0.1:0 --http-token-file "$T/short.tok"
refuse "missing token file" 2 --http 127.0.0.1:0 --http-token-file "$T/none.tok"

# ---- a running crispd: every endpoint ----
if ! start_crispd main --input "$T/still.mp4" --output "hash:$T/h.txt" --realtime \
    --model "$M/crisp-rt-s.crisp" --size 320x240 --stats-json "$T/main.json"; then
    bad "crispd --http did not start: $(tail -3 "$T/main.err")"
    finish
    exit
fi
U=http://127.0.0.1:$PORT
ok "crispd serves on port $PORT"
refuse "port in use" 1 --http 127.0.0.1:$PORT

code 200 "GET /status" "$U/status"
for k in frames_in frames_out dropped_capture latency_ms infer_ms model strength bypass source \
    source_state sink uptime_s; do
    grep -q "\"$k\": " "$T/body" || bad "/status lacks $k"
done
grep -q '"model": "crisp-rt-s"' "$T/body" && grep -q '"source_state": "live"' "$T/body" &&
    ok "/status: model crisp-rt-s, source live" || bad "/status: $(cat "$T/body")"
code 200 "GET /metrics" "$U/metrics"
cp "$T/body" "$T/metrics.txt"
for m in crisp_frames_in_total crisp_frames_out_total 'crisp_frames_dropped_total{stage="inference"}' \
    crisp_frames_repeated_total crisp_frames_no_signal_total crisp_source_reopens_total \
    crisp_rtp_rejected_total 'crisp_reloads_total{result="ok"}' 'crisp_latency_seconds_bucket{le="+Inf"}' \
    crisp_inference_seconds_count 'crisp_model_info{name="crisp-rt-s"' crisp_strength crisp_bypass \
    crisp_output_frames_per_second 'crisp_source_state{state="live"} 1' process_cpu_seconds_total \
    process_resident_memory_bytes process_start_time_seconds; do
    grep -qF "$m" "$T/metrics.txt" || bad "/metrics lacks $m"
done
ok "/metrics names every counter, histogram and gauge of the issue"
if command -v promtool >/dev/null; then
    if promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1; then
        ok "promtool check metrics: clean"
    else
        bad "promtool check metrics: $(head -5 "$T/promtool.out")"
    fi
elif [ "$SAN" = none ]; then
    bad "promtool not installed (Debian's prometheus package)"
fi
code 200 "GET /" "$U/"
grep -q '<script src="/app.js"' "$T/body" || bad "the page does not load app.js"
curl -s -D "$T/hdr" -o /dev/null "$U/app.js"
grep -qi '^content-type: text/javascript' "$T/hdr" && grep -qi '^content-security-policy:' "$T/hdr" &&
    grep -qi "^x-frame-options: DENY" "$T/hdr" && ok "app.js: JavaScript, with CSP and X-Frame-Options" ||
    bad "app.js headers: $(cat "$T/hdr")"
code 200 "GET /style.css" "$U/style.css"
code 200 "GET /models" "$U/models"
grep -q '"crisp-rt"' "$T/body" && grep -q '"crisp-rt-s"' "$T/body" || bad "/models: $(cat "$T/body")"
for side in in out split; do
    code 200 "GET /preview.jpg?side=$side" "$U/preview.jpg?side=$side&at=0.3"
    [ "$(head -c 2 "$T/body" | od -An -tx1 | tr -d ' ')" = ffd8 ] || bad "preview $side is not a JPEG"
    ffmpeg -loglevel error -y -i "$T/body" -f rawvideo -pix_fmt gray "$T/$side.gray" &&
        [ "$(stat -c %s "$T/$side.gray")" = $((320 * 240)) ] || bad "preview $side does not decode to 320x240"
done
cmp -s "$T/in.gray" "$T/out.gray" && bad "input and output previews are the same picture" ||
    ok "previews: input and output differ (the model runs)"

# ---- refusals: 4xx with a message, the stream untouched ----
H0=$(last_hash)
S0=$(curl -s "$U/status" | grep -o '"strength": [0-9.]*, "bypass": [a-z]*')
code 421 "wrong Host" -H "Host: evil.example" "$U/status"
code 421 "DNS rebinding (Host of another name, POST)" -H "Host: attacker.example:$PORT" -d strength=0 "$U/control"
code 403 "foreign Origin" -H "Origin: http://evil.example" -d strength=0 "$U/control"
code 403 "cross-site fetch" -H "Sec-Fetch-Site: cross-site" -d strength=0 "$U/control"
code 200 "same-origin POST" -H "Origin: http://127.0.0.1:$PORT" -H "Sec-Fetch-Site: same-origin" -d strength=1 "$U/control"
head -c 5000 /dev/zero | tr '\0' 'a' >"$T/big"
code 413 "oversized body" --data-binary "@$T/big" "$U/control"
code 400 "unknown key" -d colour=red "$U/control"
code 400 "strength 7" -d strength=7 "$U/control"
code 400 "strength not a number" -d strength=lots "$U/control"
code 400 "bypass maybe" -d bypass=maybe "$U/control"
code 400 "model not installed" -d model=nonexistent "$U/control"
code 400 "model with a path" --data-urlencode model=../../etc/passwd "$U/control"
code 400 "empty body" -d '' "$U/control"
code 400 "bad JSON" -H 'Content-Type: application/json' -d '{"strength": 0.5' "$U/control"
code 400 "JSON strength as a string" -H 'Content-Type: application/json' -d '{"strength": "0"}' "$U/control"
code 415 "text/plain body" -H 'Content-Type: text/plain' -d strength=0 "$U/control"
code 405 "GET /control" "$U/control"
code 405 "PUT /status" -X PUT "$U/status"
code 404 "unknown path" "$U/etc/passwd"
code 400 "preview side" "$U/preview.jpg?side=left"
code 400 "preview at 2" "$U/preview.jpg?side=split&at=2"
S1=$(curl -s "$U/status" | grep -o '"strength": [0-9.]*, "bypass": [a-z]*')
H1=$(last_hash)
[ "$S0" = "$S1" ] && [ "$H0" = "$H1" ] && ok "after the refusals: settings ($S1) and output unchanged" ||
    bad "refusals changed the stream: $S0 -> $S1, $H0 -> $H1"
n429=$(curl -s -o /dev/null -w '%{http_code}\n' $(for _ in $(seq 400); do printf '%s ' "$U/metrics"; done) | grep -c 429)
[ "$n429" -gt 0 ] && ok "400 requests at once: $n429 refused with 429 (100/s, bursts of 200)" || bad "no 429 in a flood"
sleep 2.5 # the bucket refills

# ---- controls: the output frames follow ----
code 200 "strength 0" -d strength=0 "$U/control"
grep -q '"strength": 0.000' "$T/body" || bad "the answer is not the new status: $(cat "$T/body")"
Hs0=$(last_hash)
code 200 "strength 2 (JSON)" -H 'Content-Type: application/json' -d '{"strength": 2}' "$U/control"
Hs2=$(last_hash)
code 200 "strength 1, bypass on" -d strength=1 -d bypass=on "$U/control"
grep -q '"bypass": true' "$T/body" || bad "bypass not in the status"
Hb=$(last_hash)
code 200 "bypass off (JSON)" -H 'Content-Type: application/json' -d '{"bypass": false}' "$U/control"
Hs1=$(last_hash)
[ "$Hs1" = "$H0" ] && ok "strength 1 again gives the first output" || bad "strength 1: $Hs1 vs $H0"
[ "$Hs0" = "$Hb" ] && ok "strength 0 gives the input, as bypass does" || bad "strength 0 $Hs0, bypass $Hb"
[ "$Hs1" != "$Hb" ] && [ "$Hs2" != "$Hs1" ] && [ "$Hs2" != "$Hb" ] &&
    ok "strength 1, 2 and bypass give three different outputs" || bad "hashes: 1 $Hs1, 2 $Hs2, bypass $Hb"
code 200 "model crisp-rt" -d model=crisp-rt "$U/control"
grep -q '"model": "crisp-rt"' "$T/body" && grep -q '"reloads": 1' "$T/body" &&
    ok "model crisp-rt in use, counted as a reload" || bad "model change: $(cat "$T/body")"
Hm=$(last_hash)
[ "$Hm" != "$Hs1" ] && ok "crisp-rt's output differs from crisp-rt-s'" || bad "same output after the model change"
grep -q 'crisp_reloads_total{result="ok"} 1' <(curl -s "$U/metrics") || bad "/metrics: reloads not counted"

# ---- crisp ctl ----
if [ -n "${CRISP:-}" ]; then
    "$CRISP" ctl --http 127.0.0.1:$PORT strength 0.5 >"$T/ctl.out" 2>&1 &&
        grep -q '"strength": 0.500' "$T/ctl.out" && ok "crisp ctl strength 0.5" || bad "crisp ctl strength: $(cat "$T/ctl.out")"
    "$CRISP" ctl --http 127.0.0.1:$PORT set bypass on model crisp-rt-s >"$T/ctl.out" 2>&1 &&
        grep -q '"bypass": true' "$T/ctl.out" && grep -q '"model": "crisp-rt-s"' "$T/ctl.out" &&
        ok "crisp ctl set bypass on model crisp-rt-s" || bad "crisp ctl set: $(cat "$T/ctl.out")"
    CRISPD_HTTP=127.0.0.1:$PORT "$CRISP" ctl bypass off >/dev/null 2>&1 || bad "crisp ctl with CRISPD_HTTP"
    "$CRISP" ctl --http 127.0.0.1:$PORT status | grep -q '"bypass": false' && ok "crisp ctl status" || bad "crisp ctl status"
    "$CRISP" ctl --http 127.0.0.1:$PORT strength 7 2>"$T/ctl.err"
    rc=$?
    [ $rc = 1 ] && [ "$(wc -l <"$T/ctl.err")" = 1 ] && grep -q 'strength must be' "$T/ctl.err" &&
        ok "crisp ctl strength 7: exit 1: $(cat "$T/ctl.err")" || bad "crisp ctl strength 7: rc $rc $(cat "$T/ctl.err")"
    "$CRISP" ctl --http 127.0.0.1:1 status 2>"$T/ctl.err"
    [ $? = 1 ] && grep -q 'cannot reach crispd' "$T/ctl.err" && ok "crisp ctl, nobody there: $(cat "$T/ctl.err")" ||
        bad "crisp ctl nobody: $(cat "$T/ctl.err")"
fi

# ---- a real Prometheus ----
if [ "$SAN" = none ]; then
    if ! command -v prometheus >/dev/null; then
        bad "prometheus not installed (Debian's prometheus package)"
    else
        PP=$((20000 + RANDOM % 30000))
        cat >"$T/prom.yml" <<EOT
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: crispd
    static_configs:
      - targets: ['127.0.0.1:$PORT']
EOT
        prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/tsdb" \
            --web.listen-address=127.0.0.1:$PP >"$T/prom.log" 2>&1 &
        PIDS+=($!)
        v=
        # 90 s at most: once, on a loaded machine, Prometheus took over 30 s to start
        for _ in $(seq 180); do
            v=$(curl -s "http://127.0.0.1:$PP/api/v1/query?query=crisp_frames_out_total" |
                sed -n 's/.*"value":\[[0-9.]*,"\([0-9]*\)"\].*/\1/p')
            [ -n "$v" ] && [ "$v" -gt 0 ] && break
            sleep 0.5
        done
        if [ -n "$v" ] && [ "$v" -gt 0 ]; then
            ok "Prometheus scraped crispd: crisp_frames_out_total = $v"
            r=$(curl -s "http://127.0.0.1:$PP/api/v1/query" --data-urlencode 'query=up{job="crispd"}')
            echo "$r" | grep -q '"value":\[[0-9.]*,"1"\]' && ok "up{job=\"crispd\"} = 1" || bad "up: $r"
            r=$(curl -s "http://127.0.0.1:$PP/api/v1/query" --data-urlencode \
                'query=histogram_quantile(0.99, crisp_latency_seconds_bucket)')
            echo "$r" | grep -q '"status":"success"' && ok "PromQL histogram_quantile over crisp_latency_seconds" || bad "$r"
        else
            bad "Prometheus did not scrape crispd in 90 s (ready: $(curl -s "http://127.0.0.1:$PP/-/ready")): $(grep -v 'level=info' "$T/prom.log" | tail -3) $(tail -1 "$T/prom.log")"
        fi
    fi
fi
stop_crispd
rc=$?
[ $rc = 0 ] && ok "crispd stopped cleanly with the surface on" || bad "crispd exit $rc: $(tail -3 "$T/main.err")"

# ---- a token ----
head -c 24 /dev/urandom | base64 >"$T/tok"
chmod 600 "$T/tok"
TOK=$(cat "$T/tok")
if start_crispd tok --input "$T/still.mp4" --output null: --realtime --model "$M/crisp-rt-s.crisp" \
    --size 320x240 --http-token-file "$T/tok"; then
    U=http://127.0.0.1:$PORT
    code 401 "no token" "$U/status"
    grep -qi 'www-authenticate' <(curl -s -D - -o /dev/null "$U/status") || bad "401 without WWW-Authenticate"
    code 401 "wrong token" -H "Authorization: Bearer ${TOK}x" "$U/status"
    code 401 "token as the user name" -u "$TOK:" "$U/status"
    code 200 "Bearer token" -H "Authorization: Bearer $TOK" "$U/metrics"
    code 200 "Basic auth, the token as password (browsers)" -u "viewer:$TOK" "$U/status"
    code 401 "page without a token" "$U/"
    if [ -n "${CRISP:-}" ]; then
        "$CRISP" ctl --http 127.0.0.1:$PORT --token-file "$T/tok" strength 0.25 | grep -q '"strength": 0.250' &&
            ok "crisp ctl --token-file" || bad "crisp ctl --token-file"
    fi
    stop_crispd || bad "crispd with a token: exit $?"
else
    bad "crispd with a token did not start: $(tail -2 "$T/tok.err")"
fi

# ---- a bounded HTTP load during a paced 30 fps run drops no frame ----
if [ "$SAN" = none ]; then
    if ! command -v wrk >/dev/null; then
        bad "wrk not installed (Debian's wrk package)"
    else
        ffmpeg -loglevel error -y -f lavfi -i testsrc2=size=640x360:rate=30 -t 14 -c:v libx264 \
            -preset ultrafast -pix_fmt yuv420p "$T/moving.mp4"
        if start_crispd load --input "$T/moving.mp4" --output null: --realtime --model "$M/crisp-rt-s.crisp" \
            --size 640x360 --threads 1 --stats-json "$T/load.json"; then
            wrk -t1 -c4 -d10s "http://127.0.0.1:$PORT/metrics" >"$T/wrk.out" 2>&1
            curl -s -o /dev/null "http://127.0.0.1:$PORT/preview.jpg"
            wait "$PID"
            req=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$T/wrk.out")
            d=$(($(json_num "$T/load.json" dropped_capture) + $(json_num "$T/load.json" dropped_infer) + $(json_num "$T/load.json" dropped_sink)))
            out=$(json_num "$T/load.json" frames_out)
            [ -n "$req" ] && [ "$req" -gt 100 ] && [ "$d" = 0 ] && [ "$out" -ge 400 ] &&
                ok "wrk: $req requests in 10 s (rate-limited to 100/s) during a paced run: $out frames, 0 dropped, p99 $(grep -o '"p99": [0-9.]*' "$T/load.json" | head -1)" ||
                bad "load: $req requests, $out frames, $d dropped: $(cat "$T/load.json")"
        else
            bad "crispd for the load did not start: $(tail -2 "$T/load.err")"
        fi
    fi
fi
finish
