#!/bin/bash
# After a run: removes the runtimes' default parent cgroups (top-level
# directories named remora, runc, crun or after the runtime binary) in every
# hierarchy when the run created them and they are empty now.
# Usage: remove-parents.sh RUNTIME_NAME SNAPSHOT_FILE
here=$(dirname "$0")
keep=$2
"$here/cgroup-mounts.sh" | while read -r mnt _; do
	for name in $(printf '%s\n' remora runc crun "$1" | sort -u); do
	dir=$mnt/$name
	[ -d "$dir" ] || continue
	grep -qxF "$dir" "$keep" && continue
	find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null
	[ -d "$dir" ] || echo "removed the empty parent cgroup $dir"
	done
done
