#!/bin/bash
# Runs inside the test's private mount namespace (started by run-test.sh
# through `unshare -m --propagation private`). Records the namespace so the
# cleanup can find processes left in it, optionally hides the cgroup2 mount
# (crun on this hybrid host must not see it), then execs the test program.
# Usage: in-namespace.sh NSFILE HIDE_CGROUP2(0|1) WORKDIR PROGRAM
set -eu
here=$(dirname "$0")
nsfile=$1 hide=$2 workdir=$3 program=$4
readlink /proc/self/ns/mnt >"$nsfile"
if [ "$hide" = 1 ]; then
	"$here/cgroup-mounts.sh" | while read -r mnt fstype; do
		[ "$fstype" = cgroup2 ] || continue
		umount "$mnt" 2>/dev/null || umount -l "$mnt"
	done
fi
cd "$workdir"
exec "./$program"
