#!/bin/bash
# The runtime's integration tests: real containers from busybox bundles,
# checked from inside and from the host (lifecycle, sandbox, errors,
# security attacks); then a sweep that nothing of remora's is left on the
# host: no state under the tests' roots, no container process, no mount,
# no cgroup. Each file's failures are reported with it; a test that skips
# (SKIP line) is counted as skipped, never as passed (scripts/ci-lib.sh).
set -u
cd "$(dirname "$0")/../.."
# net_devices_rdt_mounts.rs makes veth pairs with ip(8).
if ! command -v ip >/dev/null 2>&1; then
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q iproute2 >/dev/null 2>&1 ||
		{ echo "apt-get install iproute2 failed"; exit 1; }
fi
# docgen/tests/sync.rs renders the man pages (man-db) and syntax-checks
# the completions (zsh -n, fish -n); check.rs watches `remora check`'s
# system calls (strace).
apt_install() {
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "$1" >/dev/null 2>&1 ||
		{ apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null 2>&1 &&
			DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q "$1" >/dev/null 2>&1; }
}
for p in man:man-db zsh:zsh fish:fish strace:strace; do
	command -v "${p%%:*}" >/dev/null 2>&1 || apt_install "${p#*:}" ||
		{ echo "apt-get install ${p#*:} failed"; exit 1; }
done
cargo build -p remora >/dev/null 2>&1 || { echo "cargo build -p remora failed"; exit 1; }
. scripts/ci-lib.sh
rc=0
echo "--- docgen/tests/sync.rs (man pages and completions in sync with the CLI)"
run_tests "docgen sync.rs" 600 -p remora-docgen --test sync || rc=1
run_it_files lifecycle sandbox errors security exe_protection process process_fields userns net_devices_rdt_mounts check || rc=1
finish $rc
