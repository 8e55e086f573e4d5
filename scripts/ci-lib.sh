# Shared by the scripts/ci.d steps (sourced, from the repository's root).
#
# run_tests LABEL TIMEOUT CARGO-TEST-ARGS...
#   Runs `cargo test CARGO-TEST-ARGS` (they may hold "--" and libtest's own
#   flags; --show-output is added, so that what passing tests printed is
#   seen), prints each test's line, every SKIP line, the lines matching
#   $CI_SHOW (an extended regex, when set) and, on failure, the
#   failing tests' panic messages (or the build error). Appends to the
#   step's summary:
#     LABEL: P passed, S skipped, F failed, I ignored
#   where a test that printed "SKIP <test>: <why>" (<test> its name:
#   integration-tests' skip(), or the same line from a unit test) counts
#   as skipped and never as passed; "SKIP (part) <test>: ..." (a test that
#   checked only part of what it is about on this host) is counted apart
#   as partly skipped. Other SKIP lines (a check inside a test) are shown. Returns non-zero when a test failed, the run timed out or did
#   not build: each call reports its own file, whatever came before.
#
# run_it_files FILE...: run_tests for each integration-tests/tests/FILE.rs
#   (600 s each), each under its own heading; non-zero when any failed.
#
# finish RC: the leftover sweep (scripts/it-leftovers.sh; a leftover makes
#   RC 1), the summary, and exits with RC.
#
# print_summary: the summary lines of every run_tests call so far.
#
# need_packages PKG...: apt-get installs those dpkg does not have (an
#   `apt-get update` first when the install fails: a fresh machine's
#   lists); prints FAIL and returns non-zero if it cannot.
#
# build_remora: `cargo build -p remora` (the binary the tests run);
#   prints FAIL and the compiler's errors when it fails.
#
# check NAME COMMAND...: runs COMMAND, prints PASS/FAIL NAME; a failure
#   sets rc=1 (the step's own variable).

ci_summary=()

run_tests() {
	local label=$1 secs=$2 out st=0 a dashdash=0
	shift 2
	for a in "$@"; do [ "$a" = -- ] && dashdash=1; done
	if [ $dashdash -eq 1 ]; then set -- "$@" --show-output; else set -- "$@" -- --show-output; fi
	out=$(timeout "$secs" cargo test "$@" 2>&1) || st=$?
	echo "$out" | grep -E "^(test |test result)|^SKIP ${CI_SHOW:+|$CI_SHOW}"
	if [ $st -ne 0 ]; then
		[ $st -eq 124 ] && echo "TIMEOUT after $secs s"
		if echo "$out" | grep -q '^failures:$'; then
			echo "$out" | sed -n '/^failures:$/,/^failures:$/p' |
				grep -vE '^\s+[0-9]+: |^\s+at |^stack backtrace:|^note: ' | head -150
		else
			echo "$out" | grep -E -A12 '^error(\[|:)' | head -60
		fi
	fi
	local passed failed ignored skipped part
	sum() { echo "$out" | sed -n "s/^test result: .* \([0-9][0-9]*\) $1.*/\1/p" | awk '{s += $1} END {print s + 0}'; }
	passed=$(sum passed)
	failed=$(sum failed)
	ignored=$(sum ignored)
	skipped=$(echo "$out" | sed -n 's/^SKIP \([A-Za-z0-9_:]\{1,\}\):.*/\1/p' | sort -u | wc -l)
	part=$(echo "$out" | sed -n 's/^SKIP (part) \([^:]*\):.*/\1/p' | sort -u | wc -l)
	local line="$label: $((passed - skipped - part)) passed, $skipped skipped"
	[ "$part" -gt 0 ] && line+=", $part partly skipped"
	line+=", $failed failed, $ignored ignored"
	[ $st -ne 0 ] && line+=" (exit $st)"
	ci_summary+=("$line")
	return $st
}

print_summary() {
	echo "--- summary"
	printf '%s\n' "${ci_summary[@]}"
}

run_it_files() {
	local t st=0
	for t in "$@"; do
		echo "--- integration-tests/tests/$t.rs"
		run_tests "$t.rs" 600 -p remora-integration-tests --test "$t" || st=1
	done
	return $st
}

finish() {
	local rc=$1
	echo "--- leftovers"
	scripts/it-leftovers.sh || rc=1
	print_summary
	exit "$rc"
}

need_packages() {
	local p missing=()
	for p in "$@"; do
		dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q ' ok installed$' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=600 install -y -q "${missing[@]}" >/dev/null 2>&1 ||
		{ apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null &&
			apt-get -o DPkg::Lock::Timeout=600 install -y -q "${missing[@]}" >/dev/null; } ||
		{ echo "FAIL: apt-get install ${missing[*]}"; return 1; }
}

check() {
	if "${@:2}"; then echo "PASS: $1"; else echo "FAIL: $1"; rc=1; fi
}

build_remora() {
	local out
	out=$(cargo build -p remora 2>&1) && return 0
	echo "FAIL: cargo build -p remora"
	echo "$out" | grep -E -A12 '^error(\[|:)' | head -60
	return 1
}
