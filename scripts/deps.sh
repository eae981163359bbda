#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Installs the Debian 12 packages crisp needs, if any is missing. Root or sudo.
set -euo pipefail
PKGS=(gcc g++ pkgconf meson ninja-build libdnnl-dev libavcodec-dev libavfilter-dev libavformat-dev libavutil-dev
      libswscale-dev valgrind ffmpeg libpipewire-0.3-dev pipewire pipewire-bin python3
      systemd strace v4l-utils qemu-system-x86 linux-image-amd64 linux-headers-amd64
      v4l2loopback-dkms busybox-static cpio kmod libopenmpi-dev openmpi-bin
      libmicrohttpd-dev libcurl4-openssl-dev curl prometheus wrk chromium)
missing=()
for p in "${PKGS[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# the browser tests' driver (playwright-core, from npm at test time) needs node and npm:
# Debian's unless the machine has them already (e.g. NodeSource's node bundles npm)
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "installing: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
