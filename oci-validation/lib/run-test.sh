#!/bin/bash
# Runs one validation program in isolation and records its result.
#  - its own work dir (cwd with runtimetest and rootfs-amd64.tar.gz, TMPDIR
#    for the bundles) and its own runtime state root: RUNTIME is a wrapper
#    that adds `--root WORKDIR/state`, so leftover containers can be listed;
#  - its own private mount namespace (mounts it leaks die with it);
#  - a timeout; afterwards cleanup.sh removes leftovers.
# Usage: run-test.sh NAME BINDIR OUTDIR RUNTIME TIMEOUT HIDE_CGROUP2 KEEPFILE
# Writes OUTDIR/tap/NAME.tap, OUTDIR/tap/NAME.stderr, OUTDIR/tap/NAME.cleanup
# and prints NAME<TAB>STATUS<TAB>PASSED<TAB>FAILED<TAB>SKIPPED<TAB>SECONDS<TAB>REASON
set -u
here=$(cd "$(dirname "$0")" && pwd)
name=$1 bindir=$2 outdir=$3 runtime=$4 timeout=$5 hide=$6 keep=$7
work=$outdir/work/$name
tap=$outdir/tap
rm -rf "$work"
mkdir -p "$work/tmp" "$work/state" "$tap"
cp "$bindir/runtimetest" "$bindir/rootfs-amd64.tar.gz" "$bindir/$name.t" "$work/"
printf '#!/bin/bash\nexec %q --root %q "$@"\n' "$runtime" "$work/state" >"$work/runtime"
chmod +x "$work/runtime"

start=${EPOCHREALTIME/./}
# timeout runs in its own process group, so an interrupt of the harness does
# not reach the test: forward it, wait, clean up, then stop.
interrupted=0
trap 'interrupted=1; kill -TERM $tpid 2>/dev/null' INT TERM
RUNTIME=$work/runtime TMPDIR=$work/tmp timeout -k 5 "$timeout" \
	unshare -m --propagation private -- \
	"$here/in-namespace.sh" "$work/mntns" "$hide" "$work" "$name.t" \
	</dev/null >"$tap/$name.tap" 2>"$tap/$name.stderr" &
tpid=$!
while :; do
	wait $tpid
	rc=$?
	kill -0 $tpid 2>/dev/null || break
done
trap '' INT TERM
tenths=$(( (${EPOCHREALTIME/./} - start) / 100000 ))
seconds=$((tenths / 10)).$((tenths % 10))
timedout=0
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then timedout=1; fi

"$here/cleanup.sh" "$work" "$keep" >"$tap/$name.cleanup" 2>&1
cleanup_rc=$?
rm -rf "$work" 2>/dev/null || {
	# Something is still mounted below the work dir: detach it.
	grep -o " ${work}[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l
	rm -rf "$work"
}
if [ $interrupted = 1 ]; then
	echo "interrupted: $name stopped and cleaned up" >&2
	exit 130
fi
result=$(awk -v exitcode="$rc" -v timedout=$timedout -f "$here/count-tap.awk" "$tap/$name.tap")
if [ $cleanup_rc -ne 0 ]; then
	echo "harness: cleanup failed, see $tap/$name.cleanup" >>"$tap/$name.stderr"
fi
printf '%s\t%s\t%s\t%s\n' "$name" "$(cut -f1-4 <<<"$result")" "$seconds" "$(cut -f5 <<<"$result")"
