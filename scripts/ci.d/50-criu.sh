#!/bin/bash
# Checkpoint and restore with CRIU (issue 16): integration-tests/tests/
# checkpoint.rs on this host (where Debian's CRIU 3.17 fails `criu check`:
# the error a user gets, a missing criu, bad input; the scenarios say they
# skip), then every scenario with remora in the qemu VM with Debian's
# kernel, where CRIU works, and podman's container checkpoint / restore
# with remora as its runtime (scripts/cgroupv2-vm/run-criu.sh; runc 1.1.5
# beside it with CRIU_VM_RUNC=1, not here: it doubles the VM's time). Needs root. Prints PASS/FAIL per check; exits non-zero on
# any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
export DEBIAN_FRONTEND=noninteractive
pkgs=(busybox-static qemu-system-x86 cpio criu iptables iproute2 podman conmon)
. scripts/ci-lib.sh
need_packages "${pkgs[@]}" || exit 1
rc=0
build_remora || exit 1
echo "--- this host: integration-tests/tests/checkpoint.rs ($(criu --version | head -1); criu check: $(criu check >/dev/null 2>&1 && echo passes || echo fails))"
CI_SHOW='^checkpoint on' check "checkpoint.rs on this host" run_tests checkpoint.rs 300 -p remora-integration-tests --test checkpoint
echo "--- qemu VM, Debian's kernel with CRIU: scripts/cgroupv2-vm/run-criu.sh"
check "checkpoint.rs in the CRIU VM" scripts/cgroupv2-vm/run-criu.sh
echo "--- leftovers"
check "nothing left on this host" scripts/it-leftovers.sh
print_summary
exit $rc
