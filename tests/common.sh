# SPDX-License-Identifier: BSD-2-Clause
# Sourced by the shell tests (as tests/common.h is included by the C ones):
# a scratch folder $T removed on exit (a test with more to clean up sets its
# own EXIT trap, which must remove $T too), ok/bad counting the checks, skip
# (exit 77 with the reason, as meson expects) and finish (the summary line
# and the exit status).
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0 checks=0
ok() { checks=$((checks + 1)); echo "ok: $*"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }
skip() { echo "SKIP: $*"; exit 77; }
need() { command -v "$1" >/dev/null || skip "${2:-$1 not installed}"; } # CMD [WHY]
finish() { echo "$checks checks, $fails failed"; [ "$fails" = 0 ]; }
# the port `crisp ab serve` printed in FILE ("http://127.0.0.1:PORT/"), waiting
# up to 10 s for it; empty when it never came
ab_serve_port() {
    local p= _
    for _ in $(seq 100); do
        p=$(sed -nE 's|.*http://127.0.0.1:([0-9]+)/.*|\1|p' "$1")
        [ -n "$p" ] && break
        sleep 0.1
    done
    echo "$p"
}
