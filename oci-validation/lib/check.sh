#!/bin/bash
# Compares a run's results with the expectations file (lines
# `testname  # reason`; blank lines and text after # are ignored).
# Fails when a listed test passes (then remove it from the list), and when a
# test that is not listed fails. A listed test whose reason starts with
# "flaky" (a race in the test itself) may pass or fail. A listed test that
# fails without its signature (`; match: REGEX` in its TAP or stderr) fails
# for another reason, which counts like an unexpected failure. Only the tests that ran are compared.
#
# With a baseline file (the tests remora is known to pass, one a line), a
# failing test that is neither listed nor in the baseline is reported as
# "not yet passing" (a remora bug, see docs/conformance.md) without failing
# the check, while a baseline test that fails is a regression and fails it.
# This is the bring-up mode of CI; without a baseline every failure outside
# the list fails the check.
# Usage: check.sh RESULTS.tsv EXPECTED-FAILURES.txt [BASELINE.txt]
set -eu
results=$1 expected=$2 baseline=${3:-}
names() { # FILE: the test names it lists
	sed 's/#.*//' "$1" | tr -s '[:space:]' '\n' | grep -v '^$' || true
}
[ -f "$expected" ] || { echo "check: no expectations file $expected" >&2; exit 1; }
declare -A listed=() base=() flaky=()
for n in $(names "$expected"); do listed[$n]=1; done
# A listed test whose reason starts with "flaky" may pass or fail.
while read -r n; do flaky[$n]=1; done < <(sed -n 's/^[[:space:]]*\([^#[:space:]]\+\)[[:space:]]*#[[:space:]]*flaky.*/\1/p' "$expected")
# A reason ending in "; match: REGEX" is the failure's signature.
declare -A signature=()
while IFS=$'\t' read -r n re; do signature[$n]=$re; done < <(
	sed -n 's/^[[:space:]]*\([^#[:space:]]\+\)[[:space:]]*#.*; match: \(.*\)$/\1\t\2/p' "$expected")
tapdir=$(dirname "$results")/tap
has_signature() { # NAME: its TAP or stderr shows the listed signature
	[ -z "${signature[$1]:-}" ] && return 0
	cat "$tapdir/$1.tap" "$tapdir/$1.stderr" 2>/dev/null | grep -Eqi -- "${signature[$1]}"
}
if [ -n "$baseline" ]; then
	[ -f "$baseline" ] || { echo "check: no baseline file $baseline" >&2; exit 1; }
	for n in $(names "$baseline"); do base[$n]=1; done
fi
bad=0 pending=0
while IFS=$'\t' read -r name status _ _ _ _ reason; do
	if [ "$status" = fail ] && [ -z "${listed[$name]:-}" ]; then
		if [ -n "$baseline" ] && [ -z "${base[$name]:-}" ]; then
			echo "check: not yet passing (remora): $name: $reason"
			pending=$((pending + 1))
		elif [ -n "$baseline" ]; then
			echo "check: REGRESSION $name (in $(basename "$baseline")): $reason"
			bad=$((bad + 1))
		else
			echo "check: UNEXPECTED FAILURE $name: $reason"
			bad=$((bad + 1))
		fi
	elif [ "$status" = fail ] && ! has_signature "$name"; then
		if [ -n "$baseline" ] && [ -z "${base[$name]:-}" ]; then
			echo "check: not yet failing for its listed reason (remora): $name: $reason"
			pending=$((pending + 1))
		else
			echo "check: FAILS FOR ANOTHER REASON $name: no /${signature[$name]}/ in its output: $reason"
			bad=$((bad + 1))
		fi
	elif [ "$status" = pass ] && [ -n "${flaky[$name]:-}" ]; then
		echo "check: note: $name passed this time (listed as a flaky test)"
	elif [ "$status" = pass ] && [ -n "${listed[$name]:-}" ]; then
		echo "check: UNEXPECTED PASS $name: it is listed in $(basename "$expected"); remove it from the list"
		bad=$((bad + 1))
	elif [ "$status" = pass ] && [ -n "$baseline" ] && [ -z "${base[$name]:-}" ]; then
		echo "check: newly passing: $name (add it to $(basename "$baseline"))"
	elif [ "$status" = skip ] && [ -n "${listed[$name]:-}" ]; then
		echo "check: note: $name is listed as an expected failure but was skipped"
	fi
done <"$results"
if [ $pending -ne 0 ]; then
	echo "check: $pending test(s) not yet passing for remora's own reasons (bring-up mode: reported, not failing)"
fi
if [ $bad -ne 0 ]; then
	echo "check: $bad test(s) differ from $(basename "$expected")${baseline:+ / $(basename "$baseline")}"
	exit 1
fi
echo "check: results match $(basename "$expected")${baseline:+ and $(basename "$baseline")}"
