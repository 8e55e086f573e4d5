#!/bin/bash
# The pure cgroup v2 test host: boots Debian's kernel under qemu with an
# initramfs (busybox-static, the cgroup test binaries and their shared
# libraries), cgroup2 mounted at /sys/fs/cgroup, runs the tests inside and
# reports a pass/fail table. Exits non-zero when anything failed.
#
#   sudo scripts/cgroupv2-vm/run.sh            # builds the tests first
#   CGV2_TESTS="path/to/bin ..." run.sh        # run these test binaries
#   CGV2_LAYOUT=v1 run.sh                      # pure cgroup v1 instead
#
# By default: remora-cgroups' tests and the container-level tests
# (integration-tests/tests/cgroups.rs) with the debug remora (or
# $REMORA_BIN) as /bin/remora in the guest; without that binary it fails.
# KVM when it works, else TCG.
. "$(dirname "$0")/lib.sh"

ensure_pkgs qemu-system-x86 busybox-static cpio
fetch_kernel

if [ -z "${CGV2_TESTS:-}" ]; then
	need_remora
	CGV2_TESTS="$(executables -p remora-cgroups) $(executables -p remora-integration-tests --test cgroups)"
else
	remora=${REMORA_BIN:-$(scripts/remora-bin.sh debug)}
fi
[ -n "$CGV2_TESTS" ] || { echo "no test binaries"; exit 1; }

stage=$CACHE/initramfs
# shellcheck disable=SC2086 # a list of paths
stage_guest "$stage" "$remora" $CGV2_TESTS
layout=${CGV2_LAYOUT:-v2}
echo "export REMORA_VM_LAYOUT=$layout" >>"$stage/env"
initrd=$CACHE/initrd.gz
pack "$stage" "$initrd"

if [ "$layout" = v1 ]; then
	boot "$initrd" "$CACHE/console-v1.log" "${CGV2_TIMEOUT:-540}" "rdinit=/init"
	report "$CACHE/console-v1.log.txt"
else
	boot "$initrd" "$CACHE/console.log" "${CGV2_TIMEOUT:-540}" "rdinit=/init cgroup_no_v1=all"
	report "$CACHE/console.log.txt"
fi
