#!/bin/bash
# The whole test suite. Run as root on a fresh Debian 12 machine:
#   sudo ./scripts/test.sh
# Installs what the tests need, builds, and runs every step in scripts/ci.d/
# in order. Every step runs even when an earlier one fails; the exit status
# is non-zero when any step failed.
set -u
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
export DEBIAN_FRONTEND=noninteractive
# Fresh package lists once, so every step's apt-get install finds its packages.
apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null || echo "apt-get update failed; steps may fail to install"
failed=()
for step in scripts/ci.d/*.sh; do
	[ -x "$step" ] || continue
	echo "=== $(basename "$step") ==="
	start=$(date +%s)
	if "$step"; then
		echo "=== $(basename "$step"): PASS ($(( $(date +%s) - start ))s) ==="
	else
		echo "=== $(basename "$step"): FAIL ($(( $(date +%s) - start ))s) ==="
		failed+=("$(basename "$step")")
	fi
done
if [ ${#failed[@]} -ne 0 ]; then
	echo "FAILED steps: ${failed[*]}"
	exit 1
fi
echo "all steps passed"
