#!/bin/bash
# Fault injection: integration-tests/tests/faults.rs against the
# built remora (the debug build, or $REMORA_BIN). remora is SIGKILLed at
# every traced phase of create / the init / start / exec / run / delete
# (REMORA_FAULT_STOP, runtime/src/trace.rs) in five namespace set-ups and
# at random moments (FAULT_SEED=N replays one); after each, delete --force
# must leave nothing and the ID must be reusable. Also concurrent creates
# and deletes of one ID, racing commands, corrupt state.json, a state
# directory without a record, a full --root tmpfs. Prints the figures
# (kill points tried, ids wedged, leftovers), then the leftover sweep.
set -u
cd "$(dirname "$0")/../.."
pkgs=(busybox-static util-linux mount)
. scripts/ci-lib.sh
need_packages "${pkgs[@]}" || exit 1
build_remora || exit 1
rc=0
echo "--- integration-tests/tests/faults.rs"
out=$(timeout 600 cargo test -p remora-integration-tests --test faults -- --nocapture 2>&1) || rc=$?
echo "$out" | grep -E '^(test |test result)|^error|^fault suite|^concurrent|^racing|^  (wedged|leftover|hidden|unreached):'
if [ $rc -ne 0 ]; then
	[ $rc -eq 124 ] && echo "TIMEOUT after 600 s"
	echo "$out" | sed -n '/^failures:$/,/^failures:$/p' |
		grep -vE '^\s+[0-9]+: |^\s+at |^stack backtrace:|^note: ' | head -150
	rc=1
fi
echo "--- leftovers"
scripts/it-leftovers.sh || rc=1
exit $rc
