#!/bin/bash
# The exploit tests of integration-tests/tests/exe_protection.rs bite: run
# against this commit built WITHOUT the runtime binary's protection
# (REMORA_UNPROTECTED=bench-only, runtime/build.rs; debug, in
# target/unprotected), every variant must fail because its attack wrote
# the copy of the binary ("WROTE" in the attacker's report), except the
# one that non-dumpable alone stops (a container joining a created
# container's pid namespace without CAP_SYS_PTRACE: its open is refused).
# Prints PASS/FAIL; exits non-zero when the set of failing tests is not
# that, or a failure is not a write. Needs root. Run from anywhere.
set -u
cd "$(dirname "$0")/.." || exit 1
out=$(REMORA_UNPROTECTED=bench-only CARGO_TARGET_DIR=target/unprotected cargo build -p remora 2>&1) ||
	{ echo "FAIL: the unprotected build"; echo "$out" | tail -30; exit 1; }
bin=$(CARGO_TARGET_DIR=target/unprotected scripts/remora-bin.sh debug)
"$bin" --version | grep -q '^protection: OFF' || { echo "FAIL: $bin is not the unprotected build"; exit 1; }
out=$(REMORA_BIN=$bin REMORA_EXPECT_UNPROTECTED=1 timeout 600 \
	cargo test -p remora-integration-tests --test exe_protection 2>&1)
all=$(echo "$out" | sed -n 's/^test \([a-z_0-9]*\) \.\.\. .*/\1/p' | sort)
failed=$(echo "$out" | sed -n 's/^test \([a-z_0-9]*\) \.\.\. FAILED$/\1/p' | sort)
stopped_anyway=joining_a_created_containers_pid_ns_cannot_reach_the_runtime
want=$(echo "$all" | grep -vx "$stopped_anyway")
rc=0
if [ "$(echo "$all" | wc -l)" -lt 8 ] || ! echo "$all" | grep -qx "$stopped_anyway"; then
	echo "FAIL: the tests did not run:"; echo "$out" | tail -30; exit 1
fi
if [ "$failed" != "$want" ]; then
	echo "FAIL: without the protection these failed:"; echo "$failed" | sed 's/^/  /'
	echo "  expected:"; echo "$want" | sed 's/^/  /'
	rc=1
fi
for t in $failed; do
	# the test's panic message carries the attacker's report
	if echo "$out" | sed -n "/^---- $t stdout ----\$/,/^----/p" | grep -q 'WROTE'; then
		echo "PASS: $t fails without the protection: its attack wrote the copy"
	else
		echo "FAIL: $t failed without a write:"
		echo "$out" | sed -n "/^---- $t stdout ----\$/,/^----/p" | head -20
		rc=1
	fi
done
echo "$out" | grep -q "^test $stopped_anyway ... ok" &&
	echo "PASS: $stopped_anyway holds without the protection (non-dumpable refuses the open)"
exit $rc
