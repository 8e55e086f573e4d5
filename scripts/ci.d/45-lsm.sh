#!/bin/bash
# AppArmor and SELinux: integration-tests/tests/lsm.rs
# on this host (neither LSM here: a profile or label is refused, naming
# the field), then in the qemu VM with Debian's kernel booted with
# AppArmor and with SELinux (scripts/cgroupv2-vm/run-lsm.sh), where the
# labels are applied and the features test sees them enabled. Needs root.
# Prints PASS/FAIL per check; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive
pkgs=(busybox-static qemu-system-x86 cpio checkpolicy)
. scripts/ci-lib.sh
need_packages "${pkgs[@]}" || exit 1
rc=0
cargo build -p remora >/dev/null 2>&1 || { echo "FAIL: cargo build -p remora"; exit 1; }
host_tests() {
	local out st
	out=$(timeout 300 cargo test -p remora-integration-tests --test lsm -- --show-output 2>&1)
	st=$?
	echo "$out" | grep -E '^(test |test result)|panicked|^error|is (not )?enabled'
	[ $st -eq 0 ] || echo "$out" | grep -A20 -- '---- ' | head -80
	return $st
}
echo "--- this host: integration-tests/tests/lsm.rs"
check "lsm.rs on this host" host_tests
for lsm in apparmor selinux; do
	echo "--- qemu VM, Debian's kernel with $lsm: scripts/cgroupv2-vm/run-lsm.sh"
	check "lsm.rs and features.rs in the $lsm VM" env LSM_VMS=$lsm scripts/cgroupv2-vm/run-lsm.sh
done
echo "--- leftovers"
check "nothing left on this host" scripts/it-leftovers.sh
exit $rc
