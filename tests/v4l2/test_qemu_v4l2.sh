#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# crispd against real V4L2 drivers in a real kernel: boots Debian's kernel
# (linux-image-amd64) under qemu-system-x86_64 with software emulation and a
# small busybox initramfs holding vivid.ko (a virtual webcam, shipped with
# the kernel), v4l2loopback.ko (built by v4l2loopback-dkms against that
# kernel's headers) and the 9p modules. The guest mounts this machine's root
# read-only over virtio-9p, chroots into it and runs guest.sh: crispd
# captures from vivid, sharpens, writes to v4l2loopback (exclusive_caps=1),
# v4l2-ctl reads frames back, three times with crispd stopped and started.
# The initramfs is cached in the build directory, keyed by its inputs.
set -u
: "${CRISPD:?}" "${CRISP_SOURCE_ROOT:?}" "${MESON_BUILD:?}"
need="qemu-system-x86_64 busybox cpio v4l2-ctl modinfo"
for b in $need; do
    command -v $b >/dev/null || PATH=$PATH:/sbin:/usr/sbin command -v $b >/dev/null ||
        { echo "SKIP: $b missing (apt-get install qemu-system-x86 linux-image-amd64 linux-headers-amd64 v4l2loopback-dkms busybox-static cpio v4l-utils kmod)"; exit 77; }
done
export PATH=$PATH:/sbin:/usr/sbin
# v4l2loopback-dkms builds the module when the kernel headers are there; if
# they came after it, build it now (root)
if command -v dkms >/dev/null && [ "$(id -u)" = 0 ]; then
    for d in /lib/modules/*; do
        v=$(basename "$d")
        [ -f "/boot/vmlinuz-$v" ] && [ -d "$d/build" ] && [ -z "$(find "$d" -name 'v4l2loopback.ko*' | head -1)" ] &&
            dkms autoinstall -k "$v" >/dev/null 2>&1
    done
fi
KVER=
for d in /lib/modules/*; do
    v=$(basename "$d")
    [ -f "/boot/vmlinuz-$v" ] && [ -n "$(find "$d" -name 'v4l2loopback.ko*' | head -1)" ] &&
        [ -n "$(find "$d" -name 'vivid.ko*' | head -1)" ] && KVER=$v
done
[ -n "$KVER" ] || { echo "SKIP: no kernel with vivid.ko and a built v4l2loopback.ko (apt-get install linux-image-amd64 linux-headers-amd64 v4l2loopback-dkms)"; exit 77; }
BUSYBOX=$(command -v busybox)
file -L "$BUSYBOX" 2>/dev/null | grep -q "dynamically" && [ -x /bin/busybox ] && BUSYBOX=/bin/busybox

T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

# modules in load order (dependencies first)
declare -A seen=()
order=()
add() {
    local m=${1//-/_}
    [ -n "${seen[$m]:-}" ] && return
    seen[$m]=1
    local dep
    for dep in $(modinfo -k "$KVER" -F depends "$1" 2>/dev/null | tr ',' ' '); do add "$dep"; done
    order+=("$1")
}
for m in virtio_pci 9pnet_virtio 9p vivid v4l2loopback; do add $m; done

CACHE=$MESON_BUILD/qemu-v4l2
key=$(
    echo "$KVER ${order[*]}"
    sha256sum "$CRISP_SOURCE_ROOT/tests/v4l2/guest-init" "$BUSYBOX"
    for m in "${order[@]}"; do sha256sum "$(modinfo -k "$KVER" -F filename "$m")"; done
)
key=$(echo "$key" | sha256sum | cut -c1-16)
INITRD=$CACHE/initramfs-$key.cpio.gz
if [ ! -f "$INITRD" ]; then
    rm -rf "$CACHE"
    mkdir -p "$CACHE" "$T/root/bin" "$T/root/modules" "$T/root/proc" "$T/root/sys" "$T/root/dev" "$T/root/host"
    cp "$BUSYBOX" "$T/root/bin/busybox"
    for m in "${order[@]}"; do
        f=$(modinfo -k "$KVER" -F filename "$m")
        case $f in
        *.ko.xz) xz -dc "$f" >"$T/root/modules/$m.ko" ;;
        *.ko.zst) zstd -qdc "$f" >"$T/root/modules/$m.ko" ;;
        *) cp "$f" "$T/root/modules/$m.ko" ;;
        esac
        echo "$m" >>"$T/root/modules/order"
    done
    cp "$CRISP_SOURCE_ROOT/tests/v4l2/guest-init" "$T/root/init"
    chmod +x "$T/root/init"
    (cd "$T/root" && find . | cpio -o -H newc --quiet | gzip -1) >"$INITRD.tmp" && mv "$INITRD.tmp" "$INITRD"
    echo "initramfs built: $INITRD ($(du -h "$INITRD" | cut -f1))"
else
    echo "initramfs from the cache: $INITRD"
fi

OUT=$T/out
mkdir -p "$OUT"
chmod 777 "$OUT"
# the guest runs guest.sh from the shared root with these arguments
echo "$CRISP_SOURCE_ROOT/tests/v4l2/guest.sh $CRISPD $CRISP_SOURCE_ROOT/models/unsharp-mask.crisp" >"$OUT/cmd"
start=$(date +%s)
timeout 600 qemu-system-x86_64 -machine pc -cpu max -smp 2 -m 2048 -display none -monitor none \
    -no-reboot -serial "file:$T/console.log" \
    -kernel "/boot/vmlinuz-$KVER" -initrd "$INITRD" \
    -append "console=ttyS0 panic=-1 loglevel=4 crisp.out=$OUT" \
    -fsdev local,id=hostfs,path=/,security_model=none,readonly=on,multidevs=remap \
    -device virtio-9p-pci,fsdev=hostfs,mount_tag=host \
    -fsdev local,id=outfs,path="$OUT",security_model=none \
    -device virtio-9p-pci,fsdev=outfs,mount_tag=out &
PIDS+=($!)
wait $!
rc=$?
echo "guest ran for $(($(date +%s) - start)) s (qemu exit $rc), kernel $KVER"
if ! grep -q "^GUEST-SUMMARY" "$T/console.log"; then
    echo "FAIL: the guest did not finish; its console:"
    tail -60 "$T/console.log"
    exit 1
fi
grep -E "^(ok|FAIL|GUEST|info)" "$T/console.log"
for f in "$OUT"/crispd-*.log; do
    [ -f "$f" ] && { echo "--- $(basename "$f")"; tail -5 "$f"; }
done
grep -q "^GUEST-SUMMARY .* 0 failed" "$T/console.log"
