#!/bin/bash
# The differential harness: integration-tests/tests/differential.rs
# runs every case under runc (Debian's 1.1.5, installed here) and under the
# built remora, and fails on any difference in what a user or an engine
# observes that docs/design.md does not list as deliberate; then a sweep that
# nothing is left on the host. Cases marked #[ignore] are known remora bugs
# and are listed in the output as ignored.
set -u
cd "$(dirname "$0")/../.."
pkgs=(busybox-static runc procps)
. scripts/ci-lib.sh
need_packages "${pkgs[@]}" || exit 1
build_remora || exit 1
rc=0
echo "--- integration-tests/tests/differential.rs (runc $(/usr/sbin/runc --version | head -1))"
out=$(timeout 1200 cargo test -p remora-integration-tests --test differential 2>&1) || rc=$?
echo "$out" | grep -E '^(test |test result)|^error'
if [ $rc -ne 0 ]; then
	[ $rc -eq 124 ] && echo "TIMEOUT after 1200 s"
	# The differences found: each failing case's panic message (the full
	# observations of both sides are in the test's own output).
	echo "$out" | awk '/^thread .* panicked at/ {p = 1} p && /^(stack backtrace:|note: |$)/ {p = 0} p' | head -400
	rc=1
fi
echo "--- leftovers"
scripts/it-leftovers.sh || rc=1
exit $rc
