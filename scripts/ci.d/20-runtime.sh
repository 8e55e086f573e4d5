#!/bin/bash
# The runtime's integration tests: real containers from busybox bundles,
# checked from inside and from the host (lifecycle, sandbox, errors,
# security attacks); then a sweep that nothing of remora's is left on the
# host: no state under the tests' roots, no container process, no mount,
# no cgroup. Each file's failures are reported with it; a test that skips
# (SKIP line) is counted as skipped, never as passed (scripts/ci-lib.sh).
set -u
cd "$(dirname "$0")/../.."
# net_devices_rdt_mounts.rs makes veth pairs with ip(8) (iproute2);
# docgen/tests/sync.rs renders the man pages (man-db) and syntax-checks
# the completions (zsh -n, fish -n); check.rs watches `remora check`'s
# system calls (strace).
. scripts/ci-lib.sh
need_packages busybox-static iproute2 man-db zsh fish strace || exit 1
build_remora || exit 1
rc=0
echo "--- docgen/tests/sync.rs (man pages and completions in sync with the CLI)"
run_tests "docgen sync.rs" 600 -p remora-docgen --test sync || rc=1
run_it_files lifecycle sandbox errors security exe_protection process process_fields userns net_devices_rdt_mounts check || rc=1
echo "--- exe_protection.rs against a build without the protection: the attacks must write"
check "exe_protection.rs bites" scripts/exe-protection-bites.sh
finish $rc
