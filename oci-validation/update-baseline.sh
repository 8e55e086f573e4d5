#!/bin/bash
# Rewrites oci-validation/remora-baseline.txt from a run's results: every
# test that passed in every one of the given runs (give two or more, so a
# flaky test does not enter the baseline) and is not in expected-failures.txt:
#   oci-validation/update-baseline.sh .out/remora-1 .out/remora-2
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || { sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
{
	sed -n '/^#/p' "$here/remora-baseline.txt"
	for d in "$@"; do awk -F'\t' '$2 == "pass" { print $1 }' "$d/results.tsv" | sort -u; done |
		sort | uniq -c | awk -v n=$# '$1 == n { print $2 }' |
		grep -vxF -f <(sed 's/#.*//' "$here/expected-failures.txt" | tr -s '[:space:]' '\n' | grep -v '^$')
} >"$here/remora-baseline.txt.new"
mv "$here/remora-baseline.txt.new" "$here/remora-baseline.txt"
grep -vc '^#' "$here/remora-baseline.txt" | sed 's/$/ tests in the baseline/'
