#!/bin/bash
# remora-cgroups (issue #3): unit tests and real-cgroup tests on this host
# (hybrid v1 here), then the same tests on Debian's kernel booted under
# qemu with pure cgroup v2 and with pure v1 (scripts/cgroupv2-vm/run.sh), the
# systemd driver on a
# systemd-booted Debian under qemu (run-systemd.sh), the container-level tests
# driving the remora binary (integration-tests/tests/cgroups.rs). Needs root.
set -u
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive
pkgs=(busybox-static qemu-system-x86 cpio)
if ! dpkg -s "${pkgs[@]}" >/dev/null 2>&1; then
	apt-get -o DPkg::Lock::Timeout=600 install -y -q "${pkgs[@]}" >/dev/null 2>&1 ||
		{ apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null &&
			apt-get -o DPkg::Lock::Timeout=600 install -y -q "${pkgs[@]}" >/dev/null; } ||
		{ echo "apt-get install ${pkgs[*]} failed"; exit 1; }
fi
summary() { grep -E '^(test |test result)|panicked|^error'; }
rc=0
echo "--- host: cargo test -p remora-cgroups"
out=$(cargo test -p remora-cgroups -- --test-threads=2 2>&1) || {
	rc=1
	echo "$out" | tail -60
	echo "remora-cgroups host tests failed"
}
echo "$out" | summary
# The container-level tests need the remora binary (also inside the VM).
cargo build -p remora >/dev/null 2>&1 || { echo "cargo build -p remora failed"; rc=1; }
echo "--- pure cgroup v2 (qemu): scripts/cgroupv2-vm/run.sh"
scripts/cgroupv2-vm/run.sh || rc=1
echo "--- pure cgroup v1 (qemu): CGV2_LAYOUT=v1 scripts/cgroupv2-vm/run.sh"
CGV2_LAYOUT=v1 scripts/cgroupv2-vm/run.sh || rc=1
echo "--- systemd driver (qemu, debootstrap'ed Debian, systemd PID 1): scripts/cgroupv2-vm/run-systemd.sh"
scripts/cgroupv2-vm/run-systemd.sh || rc=1
if [ -x "$(scripts/remora-bin.sh debug)" ]; then
	echo "--- container level on this host (remora binary): integration-tests/tests/cgroups.rs"
	out=$(cargo test -p remora-integration-tests --test cgroups -- --test-threads=2 2>&1) || {
		rc=1
		echo "$out" | tail -80
		echo "cgroups integration tests failed"
	}
	echo "$out" | summary
fi
exit $rc
