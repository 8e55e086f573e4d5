# Counts one test program's TAP output and decides its status.
# Usage: awk -v exitcode=N -v timedout=0|1 -f count-tap.awk PROGRAM.tap
# Prints: STATUS<TAB>PASSED<TAB>FAILED<TAB>SKIPPED<TAB>REASON
#  - "ok" passes, "not ok" fails, "# SKIP" (and "# TODO") lines are skipped;
#  - a program fails on any failed assertion, a non-zero exit, a timeout, a
#    plan line (some print two) that matches none of the assertions run, or, when it printed no
#    assertion at all, a YAML diagnostic with an "error:" key (the hook tests
#    report failure only that way); a silent exit 0 passes;
#  - such a failure without a "not ok" line counts as one failed assertion.
function directive(line) {
	return (toupper(line) ~ /#[ \t]*(SKIP|TODO)/)
}
BEGIN { passed = 0; failed = 0; skipped = 0; nplans = 0; inyaml = 0; reason = ""; yamlerr = "" }
/^  ---/ { inyaml = 1; next }
inyaml && /^  \.\.\./ { inyaml = 0; next }
inyaml {
	if (wanterr) { line = $0; sub(/^ +/, "", line); yamlerr = line; wanterr = 0 }
	if ($0 ~ /^  error: / && yamlerr == "") {
		line = $0; sub(/^  error: /, "", line)
		if (line ~ /^[|>][-+]?$/) wanterr = 1; else yamlerr = line
	}
	next
}
/^ok( |$)/ { if (directive($0)) skipped++; else passed++; next }
/^not ok( |$)/ {
	if (directive($0)) { skipped++; next }
	failed++
	if (reason == "") { line = $0; sub(/^not ok [0-9]* *-? */, "", line); reason = line }
	next
}
/^1\.\.[0-9]+/ { nplans++; plans[substr($0, 4) + 0] = 1; next }
END {
	status = "pass"
	extra = ""
	if (timedout) extra = "timed out"
	else if (exitcode != 0) extra = "exit status " exitcode
	else if (nplans > 0 && !((passed + failed + skipped) in plans)) extra = "no plan matches the " (passed + failed + skipped) " assertions run"
	else if (passed + failed + skipped == 0 && yamlerr != "") extra = yamlerr
	if (failed > 0 || extra != "") status = "fail"
	else if (passed == 0 && skipped > 0) status = "skip"
	if (extra != "" && failed == 0) failed = 1
	if (reason == "") reason = extra
	else if (extra != "") reason = reason " (" extra ")"
	if (reason == "" && yamlerr != "" && status == "fail") reason = yamlerr
	gsub(/\t/, " ", reason)
	printf "%s\t%d\t%d\t%d\t%s\n", status, passed, failed, skipped, reason
}
