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
build_remora || exit 1
echo "--- this host: integration-tests/tests/lsm.rs"
CI_SHOW='is (not )?enabled' check "lsm.rs on this host" run_tests lsm.rs 300 -p remora-integration-tests --test lsm
for lsm in apparmor selinux; do
	echo "--- qemu VM, Debian's kernel with $lsm: scripts/cgroupv2-vm/run-lsm.sh"
	check "lsm.rs and features.rs in the $lsm VM" env LSM_VMS=$lsm scripts/cgroupv2-vm/run-lsm.sh
done
echo "--- leftovers"
check "nothing left on this host" scripts/it-leftovers.sh
print_summary
exit $rc
