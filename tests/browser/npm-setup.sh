# SPDX-License-Identifier: BSD-2-Clause
# Sourced by the browser tests (after tests/common.sh): Debian's chromium,
# node and npm, and playwright-core from npm (the version package-lock.json
# pins) installed once into $NPM_DIR in the build tree. Never downloads a
# browser. Sets NPM_DIR; copies the test scripts given as arguments there
# (node resolves their imports from that folder).
: "${NPM_DIR:?}" "${CRISP_SOURCE_ROOT:?}"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip "no $CHROMIUM (Debian's chromium package)"
need node "no node (Debian's nodejs)"
need npm "no npm (Debian's npm)"
export CHROMIUM PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
B=$CRISP_SOURCE_ROOT/tests/browser
mkdir -p "$NPM_DIR"
if ! cmp -s "$B/package-lock.json" "$NPM_DIR/package-lock.json" ||
    [ ! -f "$NPM_DIR/node_modules/playwright-core/package.json" ]; then
    cp "$B/package.json" "$B/package-lock.json" "$NPM_DIR/"
    if ! (cd "$NPM_DIR" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) >"$T/npm.log" 2>&1; then
        bad "npm ci (playwright-core) failed: $(tail -3 "$T/npm.log")"
        finish
        exit 1
    fi
fi
for f in "$@"; do cp "$B/$f" "$NPM_DIR/"; done
