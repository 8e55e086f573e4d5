#!/bin/bash
# Prints the result table and totals for a results.tsv written by run.sh.
# The last line is `N passed, N failed, N skipped`, counting test programs.
# Usage: summary.sh RESULTS.tsv
set -eu
awk -F'\t' '
{ n++; st[$2]++; ap += $3; af += $4; as += $5
  rows = rows sprintf("%-40s %-6s %6d %6d %7d %7.1f\n", $1, $2, $3, $4, $5, $6)
  if ($2 == "fail") fails = fails sprintf("  %-38s %s\n", $1, $7) }
END {
	printf "\n%-40s %-6s %6s %6s %7s %7s\n%s", "test", "result", "ok", "failed", "skipped", "seconds", rows
	if (fails != "") printf "\nfailed programs and the first failure:\n%s", fails
	printf "\nassertions: %d passed, %d failed, %d skipped\n", ap, af, as
	printf "programs: %d run, %d passed, %d failed, %d skipped\n", n, st["pass"], st["fail"], st["skip"]
	printf "%d passed, %d failed, %d skipped\n", st["pass"], st["fail"], st["skip"]
}' "$1"
