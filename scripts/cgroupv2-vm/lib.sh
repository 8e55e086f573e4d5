# Shared by run.sh, run-systemd.sh and run-lsm.sh (sourced first): strict
# mode with the failing line reported, the repository's root as the cwd
# (ROOT), the cache (CACHE: the kernel, the Debian root, the initramfs).
set -Eeuo pipefail
trap 'echo "${0##*/}: failed at line $LINENO: $BASH_COMMAND"' ERR
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
CACHE=${CGV2_CACHE:-$ROOT/.work/cgroupv2-vm}
mkdir -p "$CACHE"
export DEBIAN_FRONTEND=noninteractive

# need_remora: sets remora to the binary the container-level tests run
# ($REMORA_BIN, else the debug build); fails when it is not there, so a
# missing build never drops those tests silently.
need_remora() {
	remora=${REMORA_BIN:-$(scripts/remora-bin.sh debug)}
	[ -x "$remora" ] || {
		echo "no remora binary at $remora: cargo build -p remora (or set REMORA_BIN)"
		exit 1
	}
}

ensure_pkgs() {
	if ! dpkg -s "$@" >/dev/null 2>&1; then
		apt-get -o DPkg::Lock::Timeout=600 install -y -q "$@" >/dev/null 2>&1 ||
			{ apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null &&
				apt-get -o DPkg::Lock::Timeout=600 install -y -q "$@" >/dev/null; }
	fi
}

# Debian's current kernel package, extracted (not installed): sets
# vmlinuz and mods (the modules' kernel/ dir).
fetch_kernel() {
	local kpkg kdir kver
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
	kernel_pkg=$kpkg
}

# fetch_deb PKG: Debian's PKG extracted (not installed) into $CACHE/PKG
# (cached); prints that directory.
fetch_deb() {
	local dir=$CACHE/$1
	if [ ! -e "$dir/.extracted" ]; then
		rm -rf "$dir" && mkdir -p "$dir"
		(cd "$CACHE" && apt-get download "$1" >/dev/null 2>&1) || return 1
		dpkg -x "$CACHE/${1}"_*.deb "$dir" && rm -f "$CACHE/${1}"_*.deb && touch "$dir/.extracted"
	fi
	echo "$dir"
}

# stage_guest STAGE REMORA TESTS...: the busybox guest's root in STAGE:
# guest-init.sh as /init, the kernel modules the tests use, the remora
# binary (when it exists) and the test binaries, with their libraries.
# Needs fetch_kernel first (mods).
stage_guest() {
	local stage=$1 remora=$2 m t
	shift 2
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,sbin,proc,sys,dev,tmp,run,root,tests,modules,etc,lib,lib64}
	cp /bin/busybox "$stage/bin/busybox"
	cp "$ROOT/scripts/cgroupv2-vm/guest-init.sh" "$stage/init"
	chmod 755 "$stage/init"
	echo "root:x:0:0:root:/root:/bin/sh" >"$stage/etc/passwd"
	echo "root:x:0:" >"$stage/etc/group"
	for m in fs/configfs/configfs.ko drivers/block/null_blk/null_blk.ko fs/overlayfs/overlay.ko; do
		cp "$mods/$m" "$stage/modules/"
	done
	: >"$stage/env"
	if [ -x "$remora" ]; then
		cp "$remora" "$stage/bin/remora"
		copy_libs "$stage" "$remora"
		echo "export REMORA_BIN=/bin/remora" >"$stage/env"
	fi
	for t in "$@"; do
		cp "$t" "$stage/tests/$(basename "$t")"
		copy_libs "$stage" "$t"
	done
}

# systemd_init STAGE: STAGE/remora/init, the systemd guests' PID 1: it
# moves the root to a tmpfs (containers need pivot_root, which the
# initramfs root refuses), then becomes systemd.
systemd_init() {
	cat >"$1/remora/init" <<'INIT'
#!/bin/sh
mkdir -p /newroot
mount -t tmpfs -o mode=0755 tmpfs /newroot
for f in /* /.[!.]*; do
	[ "$f" = /newroot ] || [ ! -e "$f" ] || cp -a "$f" /newroot/
done
exec /usr/sbin/switch_root /newroot /lib/systemd/systemd
INIT
	chmod 755 "$1/remora/init"
}

# boot_systemd STAGE BASE NAME DESCRIPTION AFTER: the systemd guests'
# test unit (/remora/run-tests.sh on the serial console, after the units
# AFTER), the initramfs (BASE, the Debian root, with STAGE over it), the
# boot and its report.
boot_systemd() {
	local stage=$1 base=$2 name=$3 initrd=$CACHE/initrd-$3.gz
	local units=$stage/etc/systemd/system
	cat >"$units/remora-tests.service" <<UNIT
[Unit]
Description=$4
Requires=dbus.service
After=$5

[Service]
Type=oneshot
ExecStart=/remora/run-tests.sh
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
UNIT
	ln -s ../remora-tests.service "$units/multi-user.target.wants/remora-tests.service"
	ln -s /dev/null "$units/serial-getty@ttyS0.service"
	ln -s /dev/null "$units/getty@tty1.service"
	{
		cat "$base"
		(cd "$stage" && find . | cpio -o -H newc 2>/dev/null | gzip -1)
	} >"$initrd"
	boot "$initrd" "$CACHE/console-$name.log" "${CGV2_TIMEOUT:-540}" \
		"rdinit=/remora/init systemd.unit=multi-user.target systemd.show_status=0"
	report "$CACHE/console-$name.log.txt"
}

# pack STAGE INITRD: the initramfs (newc cpio, gzip).
pack() {
	(cd "$1" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$2"
}

# copy_libs STAGE BINARY: the binary's shared libraries into STAGE (none
# for a static binary: ldd then fails and prints no path).
copy_libs() {
	{ ldd "$2" 2>/dev/null || true; } | { grep -o '/[^ ]*' || true; } | while read -r lib; do
		[ -e "$lib" ] || continue
		mkdir -p "$1$(dirname "$lib")"
		cp -L -n "$lib" "$1$lib"
	done
}

# executables CARGO-TEST-ARGS...: the test binaries cargo builds for them
# (artifacts built as tests; not the helper binaries they use).
executables() {
	cargo test "$@" --no-run --message-format=json 2>/dev/null | grep '"test":true' |
		grep -o '"executable":"[^"]*"' | cut -d'"' -f4 | sort -u | tr '\n' ' '
}

# boot INITRD LOG TIMEOUT [EXTRA-KERNEL-ARGS]: runs the VM to poweroff.
# KVM only where the CPU exposes vmx/svm and /dev/kvm answers; else TCG.
boot() {
	local accel=(-accel tcg) start
	if [ -w /dev/kvm ] && grep -qwE "vmx|svm" /proc/cpuinfo && timeout 10 qemu-system-x86_64 \
		-accel kvm -M none -display none -monitor none -serial none -S -daemonize \
		-pidfile "$CACHE/probe.pid" 2>/dev/null; then
		kill "$(cat "$CACHE/probe.pid")" 2>/dev/null || true
		accel=(-accel kvm -cpu host)
	fi
	echo "booting $kernel_pkg with ${accel[*]} (log: $2)"
	start=$(date +%s)
	timeout -k 10 "$3" qemu-system-x86_64 "${accel[@]}" -m 2048 -smp 2 -nographic -no-reboot \
		-kernel "$vmlinuz" -initrd "$1" \
		-append "console=ttyS0 panic=-1 quiet loglevel=3 systemd.unified_cgroup_hierarchy=1 ${4:-}" \
		</dev/null >"$2" 2>&1 || echo "qemu exited with $?"
	tr -d '\r' <"$2" >"$2.txt"
	echo "VM ran $(($(date +%s) - start))s"
}

# report LOG-TXT: the per-test table from libtest's lines; non-zero when a
# test failed, a binary exited non-zero, or the guest did not finish. A
# test that printed "SKIP <test>: <why>" (the guests run libtest with
# --show-output) is listed and counted as skipped, not passed.
report() {
	local log=$1 bin=? pass=0 fail=0 skips nskip line t bad_rc
	grep -E '^REMORA-VM: (kernel|controllers|systemd)' "$log" || true
	echo "| binary | test | result |"
	echo "|---|---|---|"
	while IFS= read -r line; do
		case "$line" in
		"REMORA-VM: BEGIN "*) bin=${line#REMORA-VM: BEGIN }; bin=${bin%-*} ;;
		"test "*" ... ok") t=${line#test }; echo "| $bin | ${t% ... ok} | pass |"; pass=$((pass + 1)) ;;
		"test "*" ... FAILED") t=${line#test }; echo "| $bin | ${t% ... FAILED} | FAIL |"; fail=$((fail + 1)) ;;
		esac
	done <"$log"
	bad_rc=$(grep -E '^REMORA-VM: END .* rc=[1-9]' "$log" || true)
	if ! grep -q '^REMORA-VM: DONE' "$log"; then
		echo "the VM did not finish; last lines:"
		tail -40 "$log"
		return 1
	fi
	skips=$(grep -E '^SKIP ' "$log" | sort -u || true)
	# Whole tests skipped: "SKIP <test name>: why" (a check inside a test
	# that is skipped is listed, not counted).
	nskip=$(echo -n "$skips" | grep -cE '^SKIP [A-Za-z0-9_:]+:' || true)
	[ -z "$skips" ] || { echo "SKIP lines:"; echo "$skips" | sed 's/^/  /'; }
	echo "VM: $((pass - nskip)) passed, $nskip skipped, $fail failed"
	if [ "$fail" -ne 0 ] || [ -n "$bad_rc" ] || [ "$pass" -eq 0 ]; then
		echo "$bad_rc"
		grep -B2 -A25 -E "^---- .* stdout ----" "$log" | head -150
		return 1
	fi
}
