#!/bin/bash
# remora-cgroups: unit tests and real-cgroup tests on this host
# (hybrid v1 here), then the same tests on Debian's kernel booted under
# qemu with pure cgroup v2 and with pure v1 (scripts/cgroupv2-vm/run.sh), the
# systemd driver on a
# systemd-booted Debian under qemu (run-systemd.sh), the container-level tests
# driving the remora binary (integration-tests/tests/cgroups.rs), then the
# leftover sweep. Needs root.
set -u
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive
pkgs=(busybox-static qemu-system-x86 cpio)
. scripts/ci-lib.sh
need_packages "${pkgs[@]}" || exit 1
rc=0
echo "--- host: cargo test -p remora-cgroups"
run_tests "remora-cgroups (host)" 900 -p remora-cgroups -- --test-threads=2 || rc=1
# The container-level tests need the remora binary (also inside the VMs,
# whose scripts fail without it).
build_remora || rc=1
echo "--- pure cgroup v2 (qemu): scripts/cgroupv2-vm/run.sh"
scripts/cgroupv2-vm/run.sh || rc=1
echo "--- pure cgroup v1 (qemu): CGV2_LAYOUT=v1 scripts/cgroupv2-vm/run.sh"
CGV2_LAYOUT=v1 scripts/cgroupv2-vm/run.sh || rc=1
echo "--- systemd driver (qemu, debootstrap'ed Debian, systemd PID 1): scripts/cgroupv2-vm/run-systemd.sh"
scripts/cgroupv2-vm/run-systemd.sh || rc=1
echo "--- container level on this host (remora binary): integration-tests/tests/cgroups.rs"
run_tests "cgroups.rs (host)" 900 -p remora-integration-tests --test cgroups -- --test-threads=2 || rc=1
finish $rc
