#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# Runs inside the fresh Debian 12 root scripts/package.sh makes, with the
# packages in /tmp/debs/v1 (the build) and /tmp/debs/v2 (a higher version):
# install, use, upgrade, remove, purge. Ends with "chroot test: all passed".
set -u
export DEBIAN_FRONTEND=noninteractive
fails=0
ok() { echo "ok: $*"; }
bad() { fails=$((fails + 1)); echo "FAIL: $*"; }
D=/tmp/debs

echo "== install"
apt-get update -qq
if apt-get install -y -qq "$D"/v1/crisp_*.deb "$D"/v1/crisp-train_*.deb >/tmp/install.log 2>&1; then
    ok "installed $(dpkg-query -W -f='${Package} ${Version}, ' crisp crisp-train)"
else
    bad "install: $(tail -5 /tmp/install.log)"
fi
dpkg -L crisp crisp-train | sort -u >/tmp/shipped.txt
crispd --help >/dev/null 2>&1 && ok "crispd --help" || bad "crispd --help"
info=$(crisp info /usr/share/crisp/models/crisp-rt.crisp 2>&1) && ok "crisp info: $(echo "$info" | head -1)" ||
    bad "crisp info: $info"
crisp-train -h | grep -q "mpirun -np N" && ok "crisp-train built with MPI" || bad "crisp-train -h"
# crispd with the installed ladder on a real clip (model auto: timed, chosen)
if crispd --input file:$D/clip.mp4 --output null: --frames 10 --stats-json /tmp/s.json 2>/tmp/crispd.err &&
    grep -q '"frames_out": 10,' /tmp/s.json; then
    ok "crispd ran 10 frames: $(grep -m1 -o 'chose [^;]*' /tmp/crispd.err || grep -o '"model": "[^"]*"' /tmp/s.json)"
else
    bad "crispd on a clip: $(tail -3 /tmp/crispd.err)"
fi
for p in man8/crispd.8 man1/crisp.1 man1/crisp-train.1 man5/crispd.conf.5; do
    [ -s /usr/share/man/$p.gz ] && ok "man page $p" || bad "no man page $p"
done
# nothing enabled or started by the installation; the example is a conffile
st=$(systemctl is-enabled crispd.service 2>&1)
[ "$st" = disabled ] && ok "crispd.service is $st" || bad "crispd.service is '$st'"
if ls /etc/systemd/system/*/crispd* /etc/systemd/user/*/crispd* 2>/dev/null | grep -q .; then
    bad "unit symlinks: $(ls /etc/systemd/system/*/crispd* /etc/systemd/user/*/crispd* 2>/dev/null)"
else
    ok "no unit enabled (system or user)"
fi
dpkg-query -W -f='${Conffiles}\n' crisp | grep -q /etc/crisp/crispd.conf.example &&
    ok "/etc/crisp/crispd.conf.example is a conffile" || bad "conffile missing"
grep -q 'deb-systemd-invoke stop' /var/lib/dpkg/info/crisp.prerm 2>/dev/null &&
    ok "prerm stops running crispd units" || bad "crisp.prerm does not stop the units: $(cat /var/lib/dpkg/info/crisp.prerm 2>&1 | head -20)"
# the installed units, verified in this root
cp /lib/systemd/system/crispd@.service /tmp/crispd@kiosk.service 2>/dev/null
v=$(systemd-analyze verify /lib/systemd/system/crispd.service 2>&1; \
    systemd-analyze verify /lib/systemd/system/crispd@kiosk.service 2>&1; \
    mkdir -p /tmp/xdg && chmod 700 /tmp/xdg && \
    XDG_RUNTIME_DIR=/tmp/xdg systemd-analyze verify --user /usr/lib/systemd/user/crispd.service 2>&1)
if [ -z "$(echo "$v" | grep -v -e '^$' -e 'modprobe@v4l2loopback' )" ]; then
    ok "systemd-analyze verify: system, template instance and user units"
else
    bad "systemd-analyze verify: $v"
fi

echo "== upgrade"
echo "input = v4l2:/dev/video0" >/etc/crisp/crispd.conf # the operator's own file
if apt-get install -y -qq "$D"/v2/crisp_*.deb "$D"/v2/crisp-train_*.deb >/tmp/upgrade.log 2>&1 &&
    dpkg-query -W -f='${Version}' crisp | grep -q '+upgrade1$'; then
    ok "upgraded to $(dpkg-query -W -f='${Version}' crisp)"
else
    bad "upgrade: $(tail -5 /tmp/upgrade.log)"
fi
crisp info /usr/share/crisp/models/crisp-rt.crisp >/dev/null 2>&1 && ok "crisp runs after the upgrade" || bad "crisp after upgrade"

echo "== remove and purge"
apt-get remove -y -qq crisp crisp-train >/tmp/remove.log 2>&1 || bad "remove: $(tail -3 /tmp/remove.log)"
[ ! -e /usr/bin/crispd ] && [ -e /etc/crisp/crispd.conf.example ] &&
    ok "removed: programs gone, configuration kept" || bad "after remove"
# crisp-train has no configuration: remove left nothing of it to purge
apt-get purge -y -qq crisp >/tmp/purge.log 2>&1 || bad "purge: $(tail -3 /tmp/purge.log)"
left=""
while read -r f; do
    [ -d "$f" ] && continue
    { [ -e "$f" ] || [ -L "$f" ]; } && left="$left $f"
done </tmp/shipped.txt
for f in /usr/share/crisp /usr/share/doc/crisp /usr/share/doc/crisp-train /var/lib/systemd/deb-systemd-helper-enabled/crispd.service.dsh-also \
    /var/lib/systemd/deb-systemd-user-helper-enabled/crispd.service.dsh-also; do
    [ -e "$f" ] && left="$left $f"
done
[ -z "$left" ] && ok "purged: nothing the packages shipped or created is left" || bad "left after purge:$left"
[ -e /etc/crisp/crispd.conf ] && ok "the operator's /etc/crisp/crispd.conf is kept" ||
    bad "purge removed the operator's own file"
if dpkg-query -W crisp crisp-train 2>/dev/null | grep -q .; then
    bad "still known to dpkg: $(dpkg-query -W crisp crisp-train 2>&1)"
else
    ok "dpkg forgot crisp and crisp-train"
fi

[ $fails = 0 ] && echo "chroot test: all passed" || echo "chroot test: $fails failed"
