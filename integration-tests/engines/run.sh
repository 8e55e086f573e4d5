#!/bin/bash
# Drive real container engines (podman, containerd/ctr, containerd's CRI
# plugin, Docker) with an OCI runtime binary, and report what their users see.
#
#   run.sh [--runtime PATH]... [--engine podman|containerd|cri|docker|all]...
#          [--only REGEX] [-v]
#
# podman-rootless: podman as a user made for the run (podman-rootless.sh).
# --runtime defaults to the repository's release build (scripts/remora-bin.sh); give it
# several times (e.g. remora and /usr/sbin/runc) to get one column each in the
# final table, so a failure can be told apart: the runtime's or the machine's.
# Every scenario prints PASS/FAIL/SKIP; every engine runs with private state
# in a temp dir, is stopped by PID, and is checked for leftovers afterwards.
# Exit status: 0 when no scenario failed for any runtime.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
runtimes=()
engines=()
export ONLY=${ONLY:-}
export VERBOSE=${VERBOSE:-}
while [ $# -gt 0 ]; do
	case $1 in
	--runtime) runtimes+=("$2"); shift 2 ;;
	--runtime=*) runtimes+=("${1#*=}"); shift ;;
	--engine) engines+=("$2"); shift 2 ;;
	--engine=*) engines+=("${1#*=}"); shift ;;
	--only) ONLY=$2; shift 2 ;;
	-v) VERBOSE=1; shift ;;
	-h | --help) sed -n '2,14p' "$0"; exit 0 ;;
	*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
done
[ ${#runtimes[@]} -gt 0 ] || runtimes=("${RUNTIME:-$("$repo/scripts/remora-bin.sh" release)}")
if [ ${#engines[@]} -eq 0 ] || [[ " ${engines[*]} " == *" all "* ]]; then
	engines=(podman podman-rootless containerd cri docker)
fi
if [ "$(id -u)" != 0 ]; then
	echo "run.sh must run as root" >&2
	exit 2
fi

base=$(mktemp -d /tmp/remora-engines.XXXXXX)
# user-namespaced containers (uid maps) must be able to reach their rootfs
chmod 755 "$base"
export ENGINES_CACHE=${ENGINES_CACHE:-$here/.cache}
mkdir -p "$ENGINES_CACHE"
echo "work dir: $base"
if ! "$here/image.sh" "$base/image" >"$base/image.log" 2>&1; then
	cat "$base/image.log"
	echo "FAIL: could not build the busybox images" >&2
	exit 1
fi
export IMAGES=$base/image

# Cgroup parents each engine is configured with (see the engine scripts).
declare -A cgroup_parents=(
	[podman]="libpod_parent"
	[podman-rootless]="libpod_parent"
	[containerd]="remora-ctr-test"
	[cri]="remora-cri-test"
	[docker]="remora-docker-test"
)

# leftovers ENGINE WORKDIR BEFORE AFTER: list what the engine left behind.
leftovers() {
	local engine=$1 work=$2 before=$3 after=$4 p root
	awk -v d="$work" 'index($5, d) == 1 { print "mount: " $5 }' /proc/self/mountinfo
	for p in /proc/[0-9]*; do
		if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$work"; then
			echo "process: ${p#/proc/} $(tr '\0' ' ' 2>/dev/null <"$p/cmdline" | head -c 200)"
		fi
	done
	for root in /sys/fs/cgroup/*/ /sys/fs/cgroup/unified/; do
		[ -d "$root${cgroup_parents[$engine]}" ] && echo "cgroup: $root${cgroup_parents[$engine]}"
	done
	diff "$before" "$after" | grep -E '^[<>]' | sed 's/^/host state changed: /'
	return 0
}

for rt in "${runtimes[@]}"; do
	rtname=$(basename "$rt")
	if [ ! -x "$rt" ]; then
		echo "runtime $rt is not an executable file" >&2
	fi
	results=$base/results.$rtname
	: >"$results"
	echo "=== runtime $rt ==="
	for engine in "${engines[@]}"; do
		work=$base/$rtname/$engine
		mkdir -p "$work"
		ENGINE=$engine RESULTS=$results RUNTIME=$rt WORK=$work bash -c \
			". '$here/lib.sh'; host_snapshot '$work.before'"
		start=$SECONDS
		# a hard stop for the engine script itself: its budget plus teardown
		ENGINE=$engine RESULTS=$results RUNTIME=$rt WORK=$work \
			timeout -k 10 "$(( ${ENGINE_BUDGET:-240} + 180 ))" bash "$here/$engine.sh"
		rc=$?
		ENGINE=$engine RESULTS=$results RUNTIME=$rt WORK=$work bash -c \
			". '$here/lib.sh'; host_snapshot '$work.after'"
		left=$(leftovers "$engine" "$work" "$work.before" "$work.after")
		if [ -n "$left" ]; then
			printf '%s\t%s\t%s\t%s\n' "$engine" "zz-leftovers" FAIL "$(echo "$left" | tr '\n' ';' | head -c 300)" >>"$results"
			echo "FAIL $engine leftovers:"
			echo "$left" | sed 's/^/    /'
		else
			printf '%s\t%s\t%s\t%s\n' "$engine" "zz-leftovers" PASS "" >>"$results"
			echo "PASS $engine left nothing behind"
		fi
		# whatever still runs from this engine (a hung runtime, a shim) goes now,
		# by PID, so the next engine starts clean
		for p in /proc/[0-9]*; do
			if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$work"; then
				kill -KILL "${p#/proc/}" 2>/dev/null
			fi
		done
		awk -v d="$work" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
			while read -r m; do umount -l "$m" 2>/dev/null; done
		if [ $rc -ne 0 ]; then
			printf '%s\t%s\t%s\t%s\n' "$engine" "zz-engine-script" FAIL "engine script exited $rc" >>"$results"
		fi
		echo "--- $engine with $rtname: $((SECONDS - start))s"
	done
done

# The table: one row per scenario, one column per runtime.
echo
echo "=== results ==="
python3 - "$base" "${runtimes[@]}" <<'PY'
import sys, os, collections
base, rts = sys.argv[1], [os.path.basename(r) for r in sys.argv[2:]]
rows = collections.OrderedDict()
for rt in rts:
    for line in open(os.path.join(base, "results." + rt)):
        parts = line.rstrip("\n").split("\t")
        eng, name, status = parts[0], parts[1], parts[2]
        note = parts[3] if len(parts) > 3 else ""
        rows.setdefault((eng, name), {})[rt] = (status, note)
w = max([len(e) + len(n) + 1 for e, n in rows] + [10])
print("| %-*s | %s |" % (w, "scenario", " | ".join("%-6s" % r for r in rts)))
print("|-%s-|%s|" % ("-" * w, "|".join("-" * (max(6, len(r)) + 2) for r in rts)))
counts = {rt: collections.Counter() for rt in rts}
for (eng, name), by in rows.items():
    cells = []
    for rt in rts:
        st = by.get(rt, ("-", ""))[0]
        counts[rt][st] += 1
        cells.append("%-*s" % (max(6, len(rt)), st))
    print("| %-*s | %s |" % (w, eng + "/" + name, " | ".join(cells)))
for rt in rts:
    c = counts[rt]
    print("%s: %d PASS, %d FAIL, %d SKIP" % (rt, c["PASS"], c["FAIL"], c["SKIP"]))
print()
for (eng, name), by in rows.items():
    for rt in rts:
        st, note = by.get(rt, ("-", ""))
        if st in ("FAIL", "SKIP") and note:
            print("%s %s/%s [%s]: %s" % (st, eng, name, rt, note))
PY
failed=$(cat "$base"/results.* | awk -F'\t' '$3 == "FAIL"' | wc -l)
if [ -z "${KEEP:-}" ]; then
	rm -rf "$base"
else
	echo "kept $base (logs in */logs)"
fi
[ "$failed" -eq 0 ]
