#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# crispd under an address-space limit (ulimit -v), from too little to load
# the model to enough for 4K: every run either works or ends with exit 1 and
# one line naming what could not be allocated — never an abort (a C++
# exception out of oneDNN), a crash (oneDNN's JIT without memory), OpenMP's
# own exit or an empty message. oneDNN is capped at AVX-512 VNNI where the
# CPU has more, the kernels that used to crash.
set -u
: "${CRISPD:?}" "${CRISP_SOURCE_ROOT:?}"
. "$(dirname "$0")/../common.sh"
need ffmpeg "no ffmpeg CLI"
# sanitizers reserve terabytes of shadow memory: no address-space limit there
grep -aq -e __asan_init -e __tsan_init "$CRISPD" && skip "crispd is built with a sanitizer"
ffmpeg -v error -y -f lavfi -i testsrc2=size=1280x720:rate=30 -frames:v 5 -c:v libx264 \
    -preset ultrafast -pix_fmt yuv420p "$T/clip.mp4"
outcomes=""
for kb in $(seq 260000 30000 620000); do
    for size in 1280x720 3840x2160; do
        (ulimit -v $kb; ONEDNN_MAX_CPU_ISA=AVX512_CORE_VNNI exec "$CRISPD" --input "file:$T/clip.mp4" \
            --output null: --model "$CRISP_SOURCE_ROOT/models/crisp-rt.crisp" --size $size \
            --frames 3) >"$T/out" 2>"$T/err"
        rc=$?
        lines=$(grep -c . "$T/err")
        what="ulimit -v $kb, $size: exit $rc"
        if [ $rc = 0 ]; then
            outcomes+="ok "
        elif [ $rc = 1 ] && [ "$lines" = 1 ] && grep -Eq '^crispd: .*(out of memory|cannot start .*too little memory)' "$T/err"; then
            outcomes+="refused "
        else
            bad "$what: $(head -c 300 "$T/err")"
            continue
        fi
        echo "$what $(cat "$T/err")"
    done
done
echo "$outcomes" | grep -q ok || bad "no run worked even at 620 MB"
echo "$outcomes" | grep -q refused || bad "no run was refused even at 260 MB"
[ $fails = 0 ] && ok "every run under a memory limit worked or was refused in one line"
finish
