#!/bin/bash
# ci-coverage.sh: fails when a test target is run by no CI step, so that a
# new test file cannot compile and never run. Read from the commands (not
# the comments) of scripts/ci.d/*.sh and of the scripts they call
# (scripts/fuzz.sh, scripts/cgroupv2-vm/*.sh):
# - every file directly under <crate>/tests/ of each workspace crate must
#   be run by a `cargo test -p <crate>` (or ci-lib.sh's run_tests, or the
#   VM scripts' executables) without --test (all its targets) or with
#   `--test <name>` (a literal, or "$t" of a `for t in ...` list), or, for
#   integration-tests, be named to ci-lib.sh's run_it_files;
# - the unit tests of each crate with #[test]s in src/ by a `cargo test
#   -p <crate>` that is not limited to --test targets;
# - every fuzz/fuzz_targets/*.rs by scripts/fuzz.sh's target list, and
#   fuzz.sh, oci-validation/run.sh, integration-tests/engines/run.sh and
#   every scripts/cgroupv2-vm/run*.sh by a ci.d step.
# Prints what is missing; exit 1 if anything is.
set -u
cd "$(dirname "$0")/.."
missing=()

# The commands: comment lines and trailing comments dropped, continuation
# lines joined.
commands() {
	sed -e '/^[[:space:]]*#/d' -e 's/[[:space:]]#[^"'\'']*$//' "$@" |
		sed -e ':a' -e '/\\$/N; s/\\\n//; ta'
}
steps=$(commands scripts/ci.d/*.sh)
called=$(commands scripts/ci.d/*.sh scripts/fuzz.sh scripts/cgroupv2-vm/*.sh)

# `for t in a b c` lists of the scripts that run `--test "$t"`.
loop_tests() {
	local f
	for f in scripts/ci.d/*.sh scripts/cgroupv2-vm/*.sh; do
		commands "$f" | grep -qE -- '--test "?\$t"?' || continue
		commands "$f" | sed -n 's/^[[:space:]]*for t in \(.*\); do.*/\1/p'
	done | tr ' ' '\n'
}

# The files named to scripts/ci-lib.sh's run_it_files (integration-tests).
it_files() {
	echo "$steps" | sed -n 's/^[[:space:]]*run_it_files \([^|]*\).*/\1/p' | tr ' ' '\n' | grep .
}

# The cargo test / executables lines naming crate $1 (-p $1).
lines_for() {
	echo "$called" | grep -E '(cargo test|executables|run_tests) ' | grep -E -- "-p $1([^A-Za-z0-9_-]|\$)"
}

crates=$(sed -n 's/^members = \[\(.*\)\]/\1/p' Cargo.toml | tr -d '",')
for dir in $crates; do
	crate=$(sed -n 's/^name = "\(.*\)"/\1/p' "$dir/Cargo.toml" | head -1)
	lines=$(lines_for "$crate")
	# A run of every target: -p CRATE with no --test (nor --lib only).
	all=$(echo "$lines" | grep -vE -- '--test[ =]|--lib|--bins' || true)
	named=$( (echo "$lines" | grep -oE -- '--test [A-Za-z0-9_]+' | cut -d' ' -f2
		echo "$lines" | grep -qE -- '--test "?\$t"?' && loop_tests
		[ "$crate" = remora-integration-tests ] && it_files) | sort -u)
	for f in "$dir"/tests/*.rs; do
		[ -e "$f" ] || continue
		t=$(basename "$f" .rs)
		[ -n "$all" ] || echo "$named" | grep -qx "$t" || missing+=("$f (no step runs cargo test -p $crate --test $t)")
	done
	if grep -rqE '#\[(tokio::)?test\]' "$dir/src" 2>/dev/null; then
		unit=$(echo "$lines" | grep -vE -- '--test[ =]' || true)
		[ -n "$unit" ] || missing+=("$dir/src: unit tests (no step runs cargo test -p $crate for them)")
	fi
done

fuzz_list=$(commands scripts/fuzz.sh | sed -n 's/^for t in \(.*\); do.*/\1/p' | tr ' ' '\n')
for f in fuzz/fuzz_targets/*.rs; do
	t=$(basename "$f" .rs)
	echo "$fuzz_list" | grep -qx "$t" || missing+=("$f (not in scripts/fuzz.sh's targets)")
done
for s in scripts/fuzz.sh oci-validation/run.sh integration-tests/engines/run.sh scripts/cgroupv2-vm/run*.sh; do
	echo "$steps" | grep -qF "$s" || missing+=("$s (run by no scripts/ci.d step)")
done

if [ ${#missing[@]} -ne 0 ]; then
	echo "test targets no CI step runs:"
	printf '  %s\n' "${missing[@]}"
	exit 1
fi
echo "every test target is run by a CI step"
