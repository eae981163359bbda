#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Deployment: `meson install --destdir` into a temporary root; crispd runs
# from the installed tree with its installed default model and the example
# config; every unit passes `systemd-analyze verify`; each system unit
# scores no worse than 2.0 in `systemd-analyze security --offline`; and every
# system call crispd makes under load (720p, the real model, a model reload,
# an RTP sink) is allowed by the units' SystemCallFilter=, as systemd expands
# its groups.
set -u
: "${CRISPD:?}" "${MESON_BUILD:?}"
. "$(dirname "$0")/../common.sh"
need systemd-analyze
need ffmpeg "no ffmpeg CLI"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

D=$T/root
mkdir -m 700 "$T/xdg"
if meson install -C "$MESON_BUILD" --destdir "$D" --no-rebuild --quiet >"$T/install.log" 2>&1; then
    ok "meson install --destdir"
else
    cat "$T/install.log"
    bad "meson install failed"
    exit 1
fi
BIN=$(find "$D" -path '*/bin/crispd' | head -1)
UNITS=$(find "$D" -path '*/lib/systemd/system/*.service' | sort)
USER_UNIT=$(find "$D" -path '*/lib/systemd/user/crispd.service' | head -1)
PREFIX=${BIN%/bin/crispd}
PREFIX=${PREFIX#"$D"}
for f in bin/crisp bin/crispd share/crisp/models/crisp-rt.crisp lib/systemd/system/crispd.service \
    lib/systemd/system/crispd@.service lib/systemd/user/crispd.service \
    lib/modprobe.d/crisp-v4l2loopback.conf lib/modules-load.d/crisp-v4l2loopback.conf \
    share/doc/crisp/operations.md share/doc/crisp/desktop.md; do
    [ -e "$D$PREFIX/$f" ] || bad "not installed: $PREFIX/$f"
done
CONF=$(find "$D" -name crispd.conf.example | head -1)
[ -n "$CONF" ] || bad "example config not installed"
grep -q "exclusive_caps=1" "$D$PREFIX/lib/modprobe.d/crisp-v4l2loopback.conf" &&
    ok "modprobe.d snippet sets exclusive_caps=1" || bad "modprobe.d snippet"

# crispd from the installed tree: its own default model, the example config
ffmpeg -v error -y -f lavfi -i testsrc2=size=1280x720:rate=30 -frames:v 90 -c:v libx264 \
    -preset ultrafast -pix_fmt yuv420p "$T/clip.mp4"
if "$BIN" --config "$CONF" --input "file:$T/clip.mp4" --output null: --frames 20 -v \
    --stats-json "$T/s.json" >"$T/run.log" 2>&1 && grep -q '"frames_out": 20' "$T/s.json"; then
    ok "installed crispd runs the example config (input/output overridden) with its default model"
else
    bad "installed crispd: $(tail -3 "$T/run.log")"
fi
# LeakSanitizer cannot run under ptrace: off for the strace runs of a sanitizer build
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
if strace -f -e trace=openat -o "$T/open.log" "$BIN" --input "file:$T/clip.mp4" --output null: \
    --frames 2 >/dev/null 2>&1 && grep -Eq "$D$PREFIX/bin/../share/crisp/models/crisp-rt(-s|-l)?\.crisp\"" "$T/open.log"; then
    # --model auto takes the ladder's largest that fits this machine's budget
    ok "the default model is an installed one, found next to the binary"
else
    bad "the installed crispd did not open its installed model"
fi

# systemd-analyze verify: ExecStart points into the temporary root
for u in $UNITS $USER_UNIT; do
    name=$(basename "$u")
    scope=
    [ "$u" = "$USER_UNIT" ] && { scope=--user; name=user-$name; }
    mkdir -p "$T/units"
    sed "s|$PREFIX/bin/|$D$PREFIX/bin/|g" "$u" >"$T/units/${name#user-}"
    if out=$(XDG_RUNTIME_DIR=$T/xdg systemd-analyze $scope verify "$T/units/${name#user-}" 2>&1) && [ -z "$out" ]; then
        ok "systemd-analyze $scope verify $name"
    else
        bad "systemd-analyze verify $name: $out"
    fi
    if [ -z "$scope" ]; then
        score=$(systemd-analyze security --offline=true "$T/units/$name" 2>&1 |
            sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
        if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
            ok "systemd-analyze security $name: $score (at most 2.0)"
        else
            bad "systemd-analyze security $name: '$score'"
        fi
    fi
    rm -f "$T/units/${name#user-}"
done

# the syscall filter, against what crispd really calls under load
command -v strace >/dev/null || { echo "$checks checks, $fails failed (no strace: filter not checked)"; [ $fails = 0 ]; exit; }
expand() { # @group or syscall -> syscalls
    case $1 in
    @*) systemd-analyze syscall-filter "$1" 2>/dev/null | tail -n +2 | grep -v '^ *#' |
        while read -r x; do [ -n "$x" ] && expand "$x"; done ;;
    *) echo "$1" ;;
    esac
}
UNIT=$(echo "$UNITS" | grep '/crispd.service$')
allow=() deny=()
while IFS= read -r line; do
    v=${line#SystemCallFilter=}
    if [ "${v:0:1}" = "~" ]; then deny+=(${v:1}); else allow+=($v); fi
done < <(grep '^SystemCallFilter=' "$UNIT")
for g in "${allow[@]}"; do expand "$g"; done | sort -u >"$T/allow.txt"
for g in "${deny[@]}"; do expand "$g"; done | sort -u >"$T/deny.txt"
comm -23 "$T/allow.txt" "$T/deny.txt" >"$T/permitted.txt"
[ "$(wc -l <"$T/permitted.txt")" -gt 100 ] || bad "could not expand the filter ($(wc -l <"$T/permitted.txt") calls)"

# load: the real model at 720p paced in real time, a SIGHUP reload, the RTP sink
# and the control surface (--http): a status, metrics, a preview and a control
strace -f -qq -o "$T/strace.log" "$BIN" --input "file:$T/clip.mp4" --output rtp://127.0.0.1:47930 \
    --realtime --stats-json "$T/load.json" --http 127.0.0.1:0 -v >"$T/load.log" 2>&1 &
SPID=$!
PIDS+=($SPID)
HP=
for _ in $(seq 150); do # start-up under strace (and a sanitizer) takes a while
    HP=$(sed -n 's/.*http: serving on port \([0-9]*\).*/\1/p' "$T/load.log" | head -1)
    [ -n "$HP" ] && break
    sleep 0.1
done
if [ -n "$HP" ] && curl -sf -o /dev/null "http://127.0.0.1:$HP/status" &&
    curl -sf -o /dev/null "http://127.0.0.1:$HP/metrics" &&
    curl -sf -o /dev/null "http://127.0.0.1:$HP/preview.jpg?side=split" &&
    curl -sf -o /dev/null -d strength=0.9 "http://127.0.0.1:$HP/control"; then
    ok "the control surface answered under strace (its system calls are checked below)"
else
    bad "the control surface under strace: port '$HP': $(grep http "$T/load.log" | tail -2)"
fi
kill -HUP $SPID 2>/dev/null
wait $SPID
rc=$?
# live pacing: under strace's slowdown the capture stage may drop frames;
# every one of the 90 decoded frames must be accounted for, and some sent
decoded=$(python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(j["frames_in"] + j["dropped_capture"], j["frames_out"])' \
    "$T/load.json" 2>/dev/null)
if [ $rc = 0 ] && [ "${decoded% *}" = 90 ] && [ "${decoded#* }" -gt 0 ]; then
    ok "crispd under strace: 90 frames at 720p decoded, through the model to RTP, ${decoded#* } sent"
else
    bad "crispd under strace: exit $rc, frames '$decoded', $(tail -2 "$T/load.log")"
fi
sed -n 's/^[0-9]* *\([a-z_0-9]*\)(.*/\1/p' "$T/strace.log" | sort -u >"$T/used.txt"
missing=$(comm -23 "$T/used.txt" "$T/permitted.txt" | tr '\n' ' ')
if [ "$(wc -l <"$T/used.txt")" -gt 20 ] && [ -z "$missing" ]; then
    ok "all $(wc -l <"$T/used.txt") system calls crispd made are allowed by SystemCallFilter="
else
    bad "system calls outside the filter: '$missing' ($(wc -l <"$T/used.txt") used)"
fi

finish
