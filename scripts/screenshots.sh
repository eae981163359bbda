#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Remakes the screenshots in docs/img/ with the browser tests (Debian's
# chromium, headless): docs/img/control-page.png, crispd's status page.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
SHOT_DIR=$PWD/docs/img meson test -C build browser-page --print-errorlogs
ls -l docs/img/control-page.png
