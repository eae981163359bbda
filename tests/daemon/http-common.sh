# SPDX-License-Identifier: BSD-2-Clause
# Sourced by the control-surface tests (after tests/common.sh): a still
# clip whose frames are all identical (so that every output frame's hash
# names the settings it was made with), and start_crispd, which runs crispd
# --http 127.0.0.1:0 in the background and sets PID and PORT (the port the
# kernel chose, from crispd's log). Stops every crispd it started on exit.
: "${CRISPD:?}" "${CRISP_SOURCE_ROOT:?}"
need ffmpeg "no ffmpeg CLI"
need curl "no curl (Debian's curl package)"
M=$CRISP_SOURCE_ROOT/models
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT

# still_clip FILE SECONDS: a lossless clip of one picture repeated, 30 fps
still_clip() {
    ffmpeg -loglevel error -y -loop 1 -i "$CRISP_SOURCE_ROOT/tests/data/ref.png" -t "$2" -r 30 \
        -vf scale=320:240,format=yuv420p -c:v libx264 -qp 0 -preset ultrafast "$1"
}

# start_crispd NAME ARGS...: crispd --http 127.0.0.1:0 -v ARGS in the background;
# sets PID and PORT, or returns 1 (NAME.err has why)
start_crispd() {
    local name=$1
    shift
    "$CRISPD" -v --http 127.0.0.1:0 "$@" 2>"$T/$name.err" &
    PID=$!
    PIDS+=("$PID")
    PORT=
    for _ in $(seq 600); do
        PORT=$(sed -n 's/.*http: serving on port \([0-9]*\).*/\1/p' "$T/$name.err" | head -1)
        [ -n "$PORT" ] && return 0
        kill -0 "$PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# stop_crispd: SIGTERM, wait; the exit status
stop_crispd() {
    kill -TERM "$PID" 2>/dev/null
    wait "$PID"
}

# json_num FILE KEY: a number (or true/false) from crispd's status JSON
json_num() { grep -o "\"$2\": [0-9.a-z]*" "$1" | head -1 | sed 's/.*: //'; }
