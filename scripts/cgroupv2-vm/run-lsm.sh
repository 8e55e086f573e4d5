#!/bin/bash
# AppArmor and SELinux where they exist: Debian's kernel booted under qemu
# (the busybox guest of run.sh, lib.sh), once with AppArmor as the major
# LSM and Debian's apparmor_parser in the guest (the tests load their
# profile), once with SELinux enforcing remora-test-policy.conf (built
# here by checkpolicy, loaded by the guest through selinuxfs). In each the
# LSM tests (integration-tests/tests/lsm.rs) and the features test run
# against the real LSM. Prints what the guest saw and a PASS/FAIL table
# per test; exits non-zero on any failure.
#
#   sudo scripts/cgroupv2-vm/run-lsm.sh            # both LSMs
#   LSM_VMS=apparmor scripts/cgroupv2-vm/run-lsm.sh
. "$(dirname "$0")/lib.sh"

ensure_pkgs qemu-system-x86 busybox-static cpio checkpolicy
fetch_kernel

need_remora
tests=$(executables -p remora-integration-tests --test lsm --test features)
[ -n "$tests" ] || { echo "no test binaries"; exit 1; }

rc=0
# shellcheck disable=SC2086 # lists
for lsm in ${LSM_VMS:-apparmor selinux}; do
	stage=$CACHE/initramfs-$lsm
	stage_guest "$stage" "$remora" $tests
	echo "export REMORA_VM_TEST_ARGS=--show-output" >>"$stage/env"
	case $lsm in
	apparmor)
		parser=$(fetch_deb apparmor)/sbin/apparmor_parser
		cp "$parser" "$stage/sbin/apparmor_parser"
		# Its own parser.conf (Debian's pins the features to a file the
		# package ships): the parser asks the running kernel.
		mkdir -p "$stage/etc/apparmor"
		echo "# remora's LSM VM: features from the kernel" >"$stage/etc/apparmor/parser.conf"
		copy_libs "$stage" "$parser"
		cat >"$stage/setup.sh" <<'SETUP'
mount -t securityfs securityfs /sys/kernel/security
echo "REMORA-VM: lsm: $(cat /sys/kernel/security/lsm), apparmor enabled: $(cat /sys/module/apparmor/parameters/enabled)"
SETUP
		args="apparmor=1 security=apparmor"
		;;
	selinux)
		checkpolicy -U allow -o "$stage/remora-test.policy" scripts/cgroupv2-vm/remora-test-policy.conf >/dev/null
		# selinuxfs takes the policy in a single write (dd, one block).
		cat >"$stage/setup.sh" <<'SETUP'
mount -t securityfs securityfs /sys/kernel/security
mount -t selinuxfs selinuxfs /sys/fs/selinux
dd if=/remora-test.policy of=/sys/fs/selinux/load bs=1M 2>/dev/null || echo "REMORA-VM: loading the policy failed"
echo 1 >/sys/fs/selinux/enforce
echo "REMORA-VM: lsm: $(cat /sys/kernel/security/lsm), selinux enforce: $(cat /sys/fs/selinux/enforce), policy version $(cat /sys/fs/selinux/policyvers), init: $(cat /proc/self/attr/current)"
SETUP
		# The v1 layout here (v2 in the AppArmor VM): remora's own tmpfs
		# at the container's /sys/fs/cgroup takes the mount label too.
		echo "export REMORA_VM_LAYOUT=v1" >>"$stage/env"
		args="security=selinux selinux=1 enforcing=0"
		;;
	*) echo "unknown LSM $lsm"; exit 1 ;;
	esac
	initrd=$CACHE/initrd-$lsm.gz
	pack "$stage" "$initrd"
	log=$CACHE/console-$lsm.log
	boot "$initrd" "$log" "${CGV2_TIMEOUT:-200}" "rdinit=/init $args"
	echo "--- $lsm: what the guest saw"
	grep -E '(REMORA-VM: lsm|^(AppArmor|SELinux) is|^stdout:|^stderr:|^host:|^inside:|^unknown profile:|^exec --|^writes:|^session keyring|^in a user)' "$log.txt" | sed 's/.*REMORA-VM:/REMORA-VM:/' || true
	if report "$log.txt"; then
		echo "PASS: $lsm VM"
	else
		echo "FAIL: $lsm VM"
		rc=1
	fi
done
exit $rc
