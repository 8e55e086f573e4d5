#!/bin/bash
# The systemd cgroup driver's test host: a Debian bookworm root made by
# debootstrap (minbase + systemd + dbus + procps), booted as an initramfs under qemu
# with systemd as PID 1 on pure cgroup v2. A oneshot unit runs remora-cgroups'
# systemd test (transient scope over D-Bus) and the container-level one
# (remora --systemd-cgroup), prints the results on the serial
# console and powers off. Exits non-zero on failure.
#
#   sudo scripts/cgroupv2-vm/run-systemd.sh
. "$(dirname "$0")/lib.sh"

ensure_pkgs qemu-system-x86 busybox-static cpio debootstrap
fetch_kernel

# The Debian root (cached): the mirror of the host's own apt configuration.
debroot=$CACHE/debroot
if [ ! -x "$debroot/lib/systemd/systemd" ] || [ ! -x "$debroot/usr/bin/ps" ]; then
	mirror=$(grep -hoE 'https?://[^ ]*/debian/?( |$)' /etc/apt/sources.list.d/*.sources \
		/etc/apt/sources.list 2>/dev/null | head -1 | tr -d ' ' || true)
	rm -rf "$debroot"
	debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,procps bookworm "$debroot" \
		"${mirror:-http://deb.debian.org/debian}" >"$CACHE/debootstrap.log" 2>&1 ||
		{ tail -20 "$CACHE/debootstrap.log"; exit 1; }
	rm -rf "$debroot"/var/cache/apt/archives/*.deb
fi
base=$CACHE/debroot.cpio.gz
if [ ! -s "$base" ] || [ "$debroot" -nt "$base" ]; then
	(cd "$debroot" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$base"
fi

# The overlay: test binaries, busybox for the tests' shell, the test unit.
# The systemd tests only from the crate (the rest run in run.sh's VM from
# the root cgroup; here the runner sits in a non-delegated service leaf),
# and the container-level tests with remora (which must be built).
need_remora
if [ -z "${CGV2_TESTS:-}" ]; then
	CGV2_TESTS="$(executables -p remora-cgroups --test systemd) $(executables -p remora-integration-tests --test cgroups)"
fi
tests=$CGV2_TESTS
stage=$CACHE/systemd-overlay
rm -rf "$stage"
# /bin is a symlink to usr/bin in the merged-/usr root: never ship a ./bin.
mkdir -p "$stage"/{usr/bin,remora/tests,etc/systemd/system/multi-user.target.wants}
cp /bin/busybox "$stage/usr/bin/busybox"
for t in $tests; do
	cp "$t" "$stage/remora/tests/$(basename "$t")"
done
cp "$remora" "$stage/usr/bin/remora"
echo "export REMORA_BIN=/usr/bin/remora" >"$stage/remora/env"
systemd_init "$stage"
cat >"$stage/remora/run-tests.sh" <<'GUEST'
#!/bin/sh
echo "REMORA-VM: kernel $(uname -r), cgroup root: $(stat -f -c %T /sys/fs/cgroup)"
echo "REMORA-VM: systemd: PID 1 is $(cat /proc/1/comm), $(systemctl --version | head -1)"
export RUST_BACKTRACE=1 TMPDIR=/tmp
. /remora/env
for t in /remora/tests/*; do
	name=$(basename "$t")
	echo "REMORA-VM: BEGIN $name"
	# Only the systemd tests: the others already ran in run.sh's VM.
	"$t" systemd --test-threads=1 --color never --show-output 2>&1
	echo "REMORA-VM: END $name rc=$?"
done
echo "REMORA-VM: DONE"
systemctl poweroff --force --force
GUEST
chmod 755 "$stage/remora/run-tests.sh"
boot_systemd "$stage" "$base" systemd "remora cgroup tests" "dbus.service multi-user.target"
