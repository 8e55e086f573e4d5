#!/bin/bash
# exec, terminals/stdio, hooks and features (issue #5): the integration
# tests integration-tests/tests/{exec,terminal,hooks,features}.rs against
# the built remora (the debug build, or $REMORA_BIN), then a sweep that
# nothing is left on the host. Nothing is skipped: a failing test fails the
# step, and the failing tests are listed with their panic messages.
set -u
cd "$(dirname "$0")/../.."
pkgs=(busybox-static util-linux libc-bin)
dpkg -s "${pkgs[@]}" >/dev/null 2>&1 ||
	apt-get -o DPkg::Lock::Timeout=600 install -y -q "${pkgs[@]}" >/dev/null || exit 1
cargo build -p remora >/dev/null 2>&1 || { echo "cargo build -p remora failed"; exit 1; }
rc=0
summary=()
for t in exec terminal hooks features; do
	echo "--- integration-tests/tests/$t.rs"
	trc=0
	out=$(timeout 600 cargo test -p remora-integration-tests --test "$t" 2>&1) || trc=$?
	echo "$out" | grep -E '^(test |test result)|^error'
	if [ $trc -ne 0 ]; then
		rc=1
		[ $trc -eq 124 ] && echo "TIMEOUT after 600 s"
		# The failing tests' panic messages (without backtraces).
		echo "$out" | sed -n '/^failures:$/,/^failures:$/p' |
			grep -vE '^\s+[0-9]+: |^\s+at |^stack backtrace:|^note: ' | head -150
	fi
	summary+=("$t: $(echo "$out" | grep -E '^test result' | tail -1 || echo "no result (rc $trc)")")
done
echo "--- leftovers"
scripts/it-leftovers.sh || rc=1
echo "--- summary"
printf '%s\n' "${summary[@]}"
exit $rc
