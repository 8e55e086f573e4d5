#!/bin/bash
# Lists the cgroups that cleanup must leave alone because they existed
# before the run: directories named like a container ID (a UUID) anywhere,
# and every top-level directory of each hierarchy.
here=$(dirname "$0")
uuid='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
"$here/cgroup-mounts.sh" | while read -r mnt _; do
	find "$mnt" -regextype posix-extended -mindepth 1 -maxdepth 8 -type d -regex ".*/$uuid" -prune 2>/dev/null
	find "$mnt" -mindepth 1 -maxdepth 1 -type d 2>/dev/null
done
