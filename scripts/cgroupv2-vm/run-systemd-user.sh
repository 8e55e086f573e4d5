#!/bin/bash
# Rootless remora with --systemd-cgroup: the container's scope is asked of
# the user's own systemd (systemd --user, over its session bus). A Debian
# bookworm root (debootstrap minbase + systemd, dbus, dbus-user-session,
# libpam-systemd) booted under qemu with systemd as PID 1 on pure cgroup
# v2; a user (uid 1500) whose manager runs from boot (linger). A oneshot
# unit runs integration-tests/tests/cgroup_delegation.rs's systemd tests
# with REMORA_TEST_SYSTEMD_USER=1500, prints the results and powers off.
#
#   sudo scripts/cgroupv2-vm/run-systemd-user.sh
. "$(dirname "$0")/lib.sh"

ensure_pkgs qemu-system-x86 busybox-static cpio debootstrap
fetch_kernel

debroot=$CACHE/debroot-user
if [ ! -x "$debroot/lib/systemd/systemd" ] || [ ! -e "$debroot/usr/lib/systemd/user/dbus.socket" ]; then
	mirror=$(grep -hoE 'https?://[^ ]*/debian/?( |$)' /etc/apt/sources.list.d/*.sources \
		/etc/apt/sources.list 2>/dev/null | head -1 | tr -d ' ' || true)
	rm -rf "$debroot"
	debootstrap --variant=minbase \
		--include=systemd,systemd-sysv,dbus,procps,dbus-user-session,libpam-systemd \
		bookworm "$debroot" "${mirror:-http://deb.debian.org/debian}" >"$CACHE/debootstrap-user.log" 2>&1 ||
		{ tail -20 "$CACHE/debootstrap-user.log"; exit 1; }
	rm -rf "$debroot"/var/cache/apt/archives/*.deb
fi
base=$CACHE/debroot-user.cpio.gz
if [ ! -s "$base" ] || [ "$debroot" -nt "$base" ]; then
	(cd "$debroot" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$base"
fi

need_remora
tests=${CGV2_TESTS:-$(executables -p remora-integration-tests --test cgroup_delegation)}
uid=1500
stage=$CACHE/systemd-user-overlay
rm -rf "$stage"
mkdir -p "$stage"/{usr/bin,remora/tests,etc/systemd/system/multi-user.target.wants,var/lib/systemd/linger}
cp /bin/busybox "$stage/usr/bin/busybox"
cp "$remora" "$stage/usr/bin/remora"
for t in $tests; do
	cp "$t" "$stage/remora/tests/$(basename "$t")"
done
# The user, its manager started at boot (linger).
for f in passwd group shadow; do
	cp "$debroot/etc/$f" "$stage/etc/$f"
done
echo "rmruser:x:$uid:$uid::/nonexistent:/bin/sh" >>"$stage/etc/passwd"
echo "rmruser:x:$uid:" >>"$stage/etc/group"
echo "rmruser:*:19000:0:99999:7:::" >>"$stage/etc/shadow"
chmod 640 "$stage/etc/shadow"
: >"$stage/var/lib/systemd/linger/rmruser"
systemd_init "$stage"
cat >"$stage/remora/run-tests.sh" <<GUEST
#!/bin/sh
echo "REMORA-VM: kernel \$(uname -r), cgroup root: \$(stat -f -c %T /sys/fs/cgroup)"
echo "REMORA-VM: systemd: PID 1 is \$(cat /proc/1/comm), \$(systemctl --version | head -1)"
# The user's manager and its bus, up before the tests.
for i in \$(seq 120); do
	[ -S /run/user/$uid/bus ] && systemctl is-active -q user@$uid.service && break
	sleep 0.5
done
echo "REMORA-VM: user@$uid: \$(systemctl is-active user@$uid.service), bus: \$(ls /run/user/$uid/bus 2>&1)"
export RUST_BACKTRACE=1 TMPDIR=/tmp REMORA_BIN=/usr/bin/remora REMORA_TEST_SYSTEMD_USER=$uid
for t in /remora/tests/*; do
	name=\$(basename "\$t")
	echo "REMORA-VM: BEGIN \$name"
	"\$t" systemd --test-threads=1 --color never --nocapture 2>&1
	echo "REMORA-VM: END \$name rc=\$?"
done
echo "REMORA-VM: DONE"
systemctl poweroff --force --force
GUEST
chmod 755 "$stage/remora/run-tests.sh"
boot_systemd "$stage" "$base" systemd-user "remora rootless systemd tests" "dbus.service multi-user.target systemd-logind.service"
