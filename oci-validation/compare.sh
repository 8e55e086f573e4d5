#!/bin/bash
# Prints a markdown table comparing runs of run.sh: one column per results
# dir (named by the dir's last component, or LABEL=DIR), one row per test,
# then the totals (programs and assertions).
#   oci-validation/compare.sh remora=.out/remora runc=.out/runc crun=.out/crun
set -eu
[ $# -gt 0 ] || { sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
labels=() files=()
for arg in "$@"; do
	case $arg in
	*=*) labels+=("${arg%%=*}"); files+=("${arg#*=}/results.tsv") ;;
	*) labels+=("$(basename "$arg")"); files+=("$arg/results.tsv") ;;
	esac
done
awk -F'\t' -v labels="${labels[*]}" '
BEGIN { n = split(labels, L, " ") }
FNR == 1 { k++ }
{ seen[$1] = 1; st[k, $1] = $2; cnt[k, $1] = $3 "/" $4 "/" $5
  prog[k, $2]++; ap[k] += $3; af[k] += $4; as[k] += $5 }
END {
	printf "| test |"; for (i = 1; i <= n; i++) printf " %s |", L[i]; printf "\n"
	printf "|---|"; for (i = 1; i <= n; i++) printf "---|"; printf "\n"
	m = 0; for (t in seen) names[++m] = t
	for (i = 2; i <= m; i++) { v = names[i]; for (j = i - 1; j >= 1 && names[j] > v; j--) names[j + 1] = names[j]; names[j + 1] = v }
	for (r = 1; r <= m; r++) {
		t = names[r]; printf "| %s |", t
		for (i = 1; i <= n; i++) printf " %s |", ((i, t) in st) ? st[i, t] " " cnt[i, t] : "-"
		printf "\n"
	}
	printf "| **programs passed / failed / skipped** |"
	for (i = 1; i <= n; i++) printf " **%d / %d / %d** |", prog[i, "pass"], prog[i, "fail"], prog[i, "skip"]
	printf "\n| **assertions ok / failed / skipped** |"
	for (i = 1; i <= n; i++) printf " %d / %d / %d |", ap[i], af[i], as[i]
	printf "\n"
}' "${files[@]}"
