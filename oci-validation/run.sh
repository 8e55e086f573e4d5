#!/bin/bash
# Runs the OCI runtime-tools validation suite (58 TAP programs) against a
# runtime binary. Builds the suite from Debian's packages on first use
# (cached in oci-validation/.build), runs each program isolated with a
# timeout, cleans up after each, writes per-test TAP and prints a result
# table and the summary line `N passed, N failed, N skipped` (programs).
#
#   oci-validation/run.sh --runtime PATH [--out DIR] [--only a,b,...]
#       [--timeout SECONDS] [--budget SECONDS] [--hide-cgroup2]
#       [--check [--expected FILE] [--baseline FILE]]
#
#  --out DIR        results dir (default oci-validation/.out/<runtime name>):
#                   tap/<test>.tap|.stderr|.cleanup, results.tsv, summary.txt
#  --only LIST      run only these tests (comma-separated names)
#  --timeout S      per-test timeout (default 60)
#  --budget S       stop starting tests after S seconds; the rest fail as
#                   "not run" (default: none)
#  --hide-cgroup2   run each test in a mount namespace without the cgroup2
#                   mount (needed for crun on this hybrid-cgroup host)
#  --check          exit non-zero when a test fails that is not listed in the
#                   expectations file or a listed one passes
#  --expected FILE  expectations file (default oci-validation/expected-failures.txt)
#  --baseline FILE  bring-up mode of --check: only tests in FILE (known to
#                   pass) and listed expected failures are held to their result;
#                   other failures are reported as "not yet passing"
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runtime="" out="" only="" baseline="" timeout=60 budget=0 hide=0 check=0
expected=$here/expected-failures.txt
usage() { sed -n '/^#   oci/,/^#                   other failures/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--runtime) runtime=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--budget) budget=$2; shift 2 ;;
	--hide-cgroup2) hide=1; shift ;;
	--check) check=1; shift ;;
	--expected) expected=$2; shift 2 ;;
	--baseline) baseline=$2; shift 2 ;;
	-h | --help) usage ;;
	*) echo "run.sh: unknown argument $1" >&2; usage ;;
	esac
done
[ -n "$runtime" ] || usage
[ "$(id -u)" = 0 ] || { echo "run.sh: must run as root" >&2; exit 2; }
runtime=$(command -v "$runtime" || true)
if [ -z "$runtime" ] || [ ! -x "$runtime" ]; then
	echo "run.sh: runtime not found or not executable" >&2
	exit 2
fi
runtime=$(realpath "$runtime")
[ -n "$out" ] || out=$here/.out/$(basename "$runtime")
mkdir -p "$out"
out=$(realpath "$out")

build=$here/.build
"$here/lib/build.sh" "$build"
bindir=$build/bin

mapfile -t all < <(cd "$bindir" && ls -- *.t | sed 's/\.t$//' | sort)
if [ -n "$only" ]; then
	tests=()
	for t in ${only//,/ }; do
		[ -x "$bindir/$t.t" ] || { echo "run.sh: no test named $t" >&2; exit 2; }
		tests+=("$t")
	done
else
	tests=("${all[@]}")
fi

rm -rf "$out/tap" "$out/work"
mkdir -p "$out/tap"
keep=$out/pre-existing-cgroups
"$here/lib/snapshot-cgroups.sh" >"$keep"
results=$out/results.tsv
: >"$results"
echo "runtime: $runtime ($("$runtime" --version 2>/dev/null | head -n1))"
echo "tests: ${#tests[@]}, timeout ${timeout}s each, results in $out"
started=$SECONDS
interrupted=0
child=
trap 'interrupted=1; [ -n "$child" ] && kill -TERM $child 2>/dev/null' INT TERM
for t in "${tests[@]}"; do
	if [ "$budget" -gt 0 ] && [ $((SECONDS - started)) -ge "$budget" ]; then
		printf '%s\tfail\t0\t1\t0\t0.0\tnot run: time budget of %ss used up\n' "$t" "$budget" >>"$results"
	else
		# In the background so that an interrupt is forwarded at once; the
		# test is then stopped and cleaned up by run-test.sh.
		"$here/lib/run-test.sh" "$t" "$bindir" "$out" "$runtime" "$timeout" "$hide" "$keep" >>"$results" &
		child=$!
		while :; do
			rc=0
			wait $child || rc=$?
			kill -0 $child 2>/dev/null || break
		done
		[ "$rc" -eq 0 ] || interrupted=1
	fi
	if [ $interrupted = 1 ]; then
		echo "run.sh: interrupted during $t" >&2
		"$here/lib/remove-parents.sh" "$(basename "$runtime")" "$keep" >&2
		exit 130
	fi
	tail -n1 "$results" | awk -F'\t' '{ printf "%-40s %-4s %4d ok %3d failed %3d skipped %6ss  %s\n", $1, toupper($2), $3, $4, $5, $6, $7 }'
done
rmdir "$out/work" 2>/dev/null || true
"$here/lib/remove-parents.sh" "$(basename "$runtime")" "$keep"
"$here/lib/summary.sh" "$results" | tee "$out/summary.txt"
echo "total time: $((SECONDS - started))s"
status=0
if grep -q . "$out"/tap/*.cleanup 2>/dev/null; then
	echo "harness: leftovers were removed after: $(grep -l . "$out"/tap/*.cleanup | xargs -n1 basename | sed 's/\.cleanup$//' | tr '\n' ' ')"
fi
if grep -l 'cleanup failed' "$out"/tap/*.stderr >/dev/null 2>&1; then
	echo "harness: cleanup FAILED after: $(grep -l 'cleanup failed' "$out"/tap/*.stderr | xargs -n1 basename | tr '\n' ' ')" >&2
	status=1
fi
if [ $check = 1 ]; then
	"$here/lib/check.sh" "$results" "$expected" ${baseline:+"$baseline"} || status=1
fi
# Repeat the summary line last: it is the run's closing line.
tail -n1 "$out/summary.txt"
exit $status
