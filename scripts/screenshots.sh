#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Remakes the screenshots in docs/img/ with the browser tests (Debian's
# chromium, headless): docs/img/control-page.png, crispd's status page, and
# docs/img/ab-page.png, crisp ab's rater page. (docs/img/compare.png is
# scripts/demo.sh's demo/compare.png.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
SHOT_DIR=$PWD/docs/img meson test -C build browser-page browser-ab --print-errorlogs
ls -l docs/img/control-page.png docs/img/ab-page.png
