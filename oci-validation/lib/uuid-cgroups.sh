#!/bin/bash
# Lists the cgroup directories named like a container ID (a UUID) that exist
# now, so cleanup.sh leaves them alone (they belong to someone else).
here=$(dirname "$0")
uuid='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
"$here/cgroup-mounts.sh" | while read -r mnt _; do
	find "$mnt" -regextype posix-extended -mindepth 1 -maxdepth 8 -type d -regex ".*/$uuid" -prune 2>/dev/null
done
