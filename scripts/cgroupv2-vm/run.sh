#!/bin/bash
# The pure cgroup v2 test host: boots Debian's kernel under qemu with an
# initramfs (busybox-static, the cgroup test binaries and their shared
# libraries), cgroup2 mounted at /sys/fs/cgroup, runs the tests inside and
# reports a pass/fail table. Exits non-zero when anything failed.
#
#   sudo scripts/cgroupv2-vm/run.sh            # builds the tests first
#   CGV2_TESTS="path/to/bin ..." run.sh        # run these test binaries
#
# By default: remora-cgroups' tests, and when target/debug/remora exists,
# the container-level tests (integration-tests/tests/cgroups.rs) with that
# binary as /bin/remora in the guest.
#
# Uses KVM when /dev/kvm works, else software emulation (TCG).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
CACHE=${CGV2_CACHE:-$ROOT/.work/cgroupv2-vm}
TIMEOUT=${CGV2_TIMEOUT:-540}
mkdir -p "$CACHE"
export DEBIAN_FRONTEND=noninteractive

pkgs=(qemu-system-x86 busybox-static cpio)
if ! dpkg -s "${pkgs[@]}" >/dev/null 2>&1; then
	apt-get -o DPkg::Lock::Timeout=600 install -y "${pkgs[@]}" >/dev/null
fi

# Debian's kernel, extracted (not installed).
kpkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
kdir=$CACHE/$kpkg
if ! ls "$kdir"/boot/vmlinuz-* >/dev/null 2>&1; then
	rm -rf "$kdir" && mkdir -p "$kdir"
	(cd "$CACHE" && apt-get download "$kpkg" >/dev/null 2>&1)
	dpkg -x "$CACHE/${kpkg}"_*.deb "$kdir"
	rm -f "$CACHE/${kpkg}"_*.deb
fi
vmlinuz=$(ls "$kdir"/boot/vmlinuz-* | head -1)
kver=${vmlinuz##*/vmlinuz-}
mods=$kdir/lib/modules/$kver/kernel

# The test binaries.
executables() {
	cargo test "$@" --no-run --message-format=json 2>/dev/null |
		grep -o '"executable":"[^"]*"' | cut -d'"' -f4 | sort -u | tr '\n' ' '
}
target=$(cargo metadata --format-version 1 --no-deps 2>/dev/null | grep -o '"target_directory":"[^"]*"' | cut -d'"' -f4)
remora=${REMORA_BIN:-$target/debug/remora}
if [ -z "${CGV2_TESTS:-}" ]; then
	CGV2_TESTS=$(executables -p remora-cgroups)
	if [ -x "$remora" ]; then
		CGV2_TESTS="$CGV2_TESTS $(executables -p remora-integration-tests --test cgroups)"
	fi
fi
[ -n "$CGV2_TESTS" ] || { echo "no test binaries"; exit 1; }

# The initramfs.
stage=$CACHE/initramfs
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,proc,sys,dev,tmp,run,root,tests,modules,etc,lib,lib64}
cp /bin/busybox "$stage/bin/busybox"
cp scripts/cgroupv2-vm/guest-init.sh "$stage/init"
chmod 755 "$stage/init"
echo "root:x:0:0:root:/root:/bin/sh" >"$stage/etc/passwd"
echo "root:x:0:" >"$stage/etc/group"
for m in fs/configfs/configfs.ko drivers/block/null_blk/null_blk.ko fs/overlayfs/overlay.ko; do
	cp "$mods/$m" "$stage/modules/"
done
copy_libs() {
	ldd "$1" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
		[ -e "$lib" ] || continue
		mkdir -p "$stage$(dirname "$lib")"
		cp -L -n "$lib" "$stage$lib"
	done
}
if [ -x "$remora" ]; then
	cp "$remora" "$stage/bin/remora"
	copy_libs "$remora"
	echo "export REMORA_BIN=/bin/remora" >"$stage/env"
else
	: >"$stage/env"
fi
for t in $CGV2_TESTS; do
	name=$(basename "$t")
	cp "$t" "$stage/tests/$name"
	copy_libs "$t"
done
for v in ${CGV2_ENV:-}; do echo "export $v" >>"$stage/env"; done
[ -n "${CGV2_EXTRA:-}" ] && cp -a $CGV2_EXTRA "$stage/"
initrd=$CACHE/initrd.gz
(cd "$stage" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$initrd"

accel=(-accel tcg)
if [ -w /dev/kvm ] && grep -qwE "vmx|svm" /proc/cpuinfo && timeout 10 qemu-system-x86_64 -accel kvm -M none -display none \
	-monitor none -serial none -S -daemonize -pidfile "$CACHE/probe.pid" 2>/dev/null; then
	kill "$(cat "$CACHE/probe.pid")" 2>/dev/null || true
	accel=(-accel kvm -cpu host)
fi
log=$CACHE/console.log
echo "booting $kpkg with ${accel[*]} (log: $log)"
start=$(date +%s)
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 "${accel[@]}" -m 2048 -smp 2 -nographic -no-reboot \
	-kernel "$vmlinuz" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 quiet loglevel=3 rdinit=/init systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all" \
	</dev/null >"$log" 2>&1 || echo "qemu exited with $?"
tr -d '\r' <"$log" >"$log.txt"
echo "VM ran $(( $(date +%s) - start ))s"

# Report: per test, ok / FAILED, from libtest's lines.
grep -E '^REMORA-VM: (kernel|controllers)' "$log.txt" || true
echo "| binary | test | result |"
echo "|---|---|---|"
bin=?
pass=0 fail=0
while IFS= read -r line; do
	case "$line" in
	"REMORA-VM: BEGIN "*) bin=${line#REMORA-VM: BEGIN }; bin=${bin%-*} ;;
	"test "*" ... ok") t=${line#test }; echo "| $bin | ${t% ... ok} | pass |"; pass=$((pass + 1)) ;;
	"test "*" ... FAILED") t=${line#test }; echo "| $bin | ${t% ... FAILED} | FAIL |"; fail=$((fail + 1)) ;;
	esac
done <"$log.txt"
bad_rc=$(grep -E '^REMORA-VM: END .* rc=[1-9]' "$log.txt" || true)
if ! grep -q '^REMORA-VM: DONE' "$log.txt"; then
	echo "the VM did not finish; last lines:"
	tail -40 "$log.txt"
	exit 1
fi
echo "cgroup v2 VM: $pass passed, $fail failed"
if [ "$fail" -ne 0 ] || [ -n "$bad_rc" ] || [ "$pass" -eq 0 ]; then
	echo "$bad_rc"
	grep -B2 -A25 -E "^---- .* stdout ----" "$log.txt" | head -150
	exit 1
fi
