#!/bin/bash
# Adds to oci-validation/remora-baseline.txt every test that passed in each
# of the given runs (give two or more, so a flaky test does not enter it) and
# is not in expected-failures.txt. It never removes a test: a baseline test
# that fails is a regression to fix, not to drop (remove one only by hand,
# for a reason in remora or the suite, and say why in the commit):
#   oci-validation/update-baseline.sh .out/remora-1 .out/remora-2
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
{
	sed -n '/^#/p' "$here/remora-baseline.txt"
	{
		grep -v '^#' "$here/remora-baseline.txt"
		for d in "$@"; do awk -F'\t' '$2 == "pass" { print $1 }' "$d/results.tsv" | sort -u; done |
			sort | uniq -c | awk -v n=$# '$1 == n { print $2 }'
	} | sort -u |
		grep -vxF -f <(sed 's/#.*//' "$here/expected-failures.txt" | tr -s '[:space:]' '\n' | grep -v '^$')
} >"$here/remora-baseline.txt.new"
mv "$here/remora-baseline.txt.new" "$here/remora-baseline.txt"
grep -vc '^#' "$here/remora-baseline.txt" | sed 's/$/ tests in the baseline/'
