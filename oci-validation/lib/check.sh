#!/bin/bash
# Compares a run's results with the expectations file (lines
# `testname  # reason`; blank lines and lines starting with # are ignored).
# Fails when a test that is not listed fails, or a listed test passes (then
# remove it from the list). Only the tests that ran are compared.
# Usage: check.sh RESULTS.tsv EXPECTED-FAILURES.txt
set -eu
results=$1 expected=$2
[ -f "$expected" ] || { echo "check: no expectations file $expected" >&2; exit 1; }
declare -A listed=()
while read -r line; do
	line=${line%%#*}
	name=$(echo "$line" | tr -d '[:space:]')
	[ -n "$name" ] && listed[$name]=1
done <"$expected"
bad=0
while IFS=$'\t' read -r name status _ _ _ _ reason; do
	if [ "$status" = fail ] && [ -z "${listed[$name]:-}" ]; then
		echo "check: UNEXPECTED FAILURE $name: $reason"
		bad=$((bad + 1))
	elif [ "$status" = pass ] && [ -n "${listed[$name]:-}" ]; then
		echo "check: UNEXPECTED PASS $name: it is listed in $(basename "$expected"); remove it from the list"
		bad=$((bad + 1))
	elif [ "$status" = skip ] && [ -n "${listed[$name]:-}" ]; then
		echo "check: note: $name is listed as an expected failure but was skipped"
	fi
done <"$results"
if [ $bad -ne 0 ]; then
	echo "check: $bad test(s) differ from $(basename "$expected")"
	exit 1
fi
echo "check: results match $(basename "$expected")"
