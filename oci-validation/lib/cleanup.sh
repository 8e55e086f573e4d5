#!/bin/bash
# Removes what one test left behind, so the next test starts clean:
#  1. containers in the test's private runtime root: `delete --force` each
#     one the runtime lists (the runtime's own teardown runs first);
#  2. processes still in the test's private mount namespace;
#  3. cgroups the suite creates (/cgrouptest and testdir/... in every v1
#     hierarchy and on the cgroup2 mount) and cgroups named after a
#     container ID (a UUID) that were not there before the run: their
#     processes are thawed and killed, then the directories are removed.
# Usage: cleanup.sh WORKDIR PRE_EXISTING_UUID_CGROUPS_FILE
# Prints one line per thing it had to remove (the caller logs it); exits 1
# when something could not be removed.
set -u
here=$(dirname "$0")
workdir=$1 keep=$2
uuid='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
status=0

# 1. Containers known to the runtime under the private --root.
if [ -d "$workdir/state" ] && [ -n "$(ls -A "$workdir/state" 2>/dev/null)" ]; then
	for id in $(timeout 10 "$workdir/runtime" list -q 2>/dev/null); do
		echo "leftover container $id: delete --force"
		timeout 20 "$workdir/runtime" delete --force "$id" >/dev/null 2>&1 ||
			echo "  delete --force $id failed"
	done
fi

# 2. Processes left in the test's mount namespace (e.g. a container that
# shares it), found by the namespace recorded when the test started.
if [ -s "$workdir/mntns" ]; then
	ns=$(cat "$workdir/mntns")
	for _ in 1 2 3; do
		pids=()
		for link in /proc/[0-9]*/ns/mnt; do
			[ "$(readlink "$link" 2>/dev/null)" = "$ns" ] || continue
			pid=${link#/proc/}
			pids+=("${pid%%/*}")
		done
		[ ${#pids[@]} -eq 0 ] && break
		for pid in "${pids[@]}"; do
			echo "leftover process in the test's mount namespace: $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)): SIGKILL"
		done
		kill -9 "${pids[@]}" 2>/dev/null
		sleep 0.2
	done
fi

# 3. Cgroups.
kill_cgroup() { # DIR: thaw, kill every process below DIR
	local d
	while read -r d; do
		[ -f "$d/freezer.state" ] && echo THAWED >"$d/freezer.state" 2>/dev/null
		[ -f "$d/cgroup.freeze" ] && echo 0 >"$d/cgroup.freeze" 2>/dev/null
		xargs -r kill -9 <"$d/cgroup.procs" 2>/dev/null
	done < <(find "$1" -type d 2>/dev/null)
}
remove_cgroup() { # DIR: rmdir depth-first, retrying while processes exit
	for _ in $(seq 1 25); do
		kill_cgroup "$1"
		find "$1" -depth -type d -exec rmdir {} \; 2>/dev/null
		[ -d "$1" ] || return 0
		sleep 0.2
	done
	echo "  could not remove cgroup $1"
	return 1
}
while read -r mnt _; do
	while read -r dir; do
		if echo "$dir" | grep -Eq "/$uuid\$" && grep -qxF "$dir" "$keep"; then
			continue
		fi
		echo "leftover cgroup $dir: removed"
		remove_cgroup "$dir" || status=1
	done < <(find "$mnt" -regextype posix-extended -mindepth 1 -maxdepth 8 -type d \
		\( -name cgrouptest -o -name testdir -o -regex ".*/$uuid" \) -prune 2>/dev/null)
done < <("$here/cgroup-mounts.sh")
exit $status
