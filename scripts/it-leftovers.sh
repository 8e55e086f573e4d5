#!/bin/bash
# it-leftovers.sh: what the integration tests (TestEnv: /tmp/remora-it-*,
# cgroups remora/it-* and cgroups.rs's remora-cgt/*; integration-tests/src/
# lib.rs CGROUP_PARENTS) left on the host: mounts, test dirs, cgroups,
# processes rooted in a test's rootfs. Prints them; exit 1 if any.
left=0
if grep -q 'remora-it-' /proc/self/mountinfo; then echo "mounts left:"; grep 'remora-it-' /proc/self/mountinfo; left=1; fi
if ls -d /tmp/remora-it-* 2>/dev/null; then echo "test dirs left"; left=1; fi
for d in /sys/fs/cgroup/*/remora/it-* /sys/fs/cgroup/*/remora/it-*/*/ /sys/fs/cgroup/remora/it-* \
	/sys/fs/cgroup/*/remora-cgt/*/ /sys/fs/cgroup/remora-cgt/*/ /sys/fs/cgroup/system.slice/remora-cgt-*.scope; do
	[ -e "$d" ] && { echo "cgroup left: $d"; left=1; }
done
# The default cgroupsPath's parent goes with the last container in it, and
# cgroups.rs's shared parent (/remora-cgt) with the last test using it.
for d in /sys/fs/cgroup/*/remora /sys/fs/cgroup/remora /sys/fs/cgroup/*/remora-cgt /sys/fs/cgroup/remora-cgt; do
	[ -d "$d" ] && { echo "cgroup parent left: $d"; left=1; }
done
for p in /proc/[0-9]*; do
	r=$(readlink "$p/root" 2>/dev/null) || continue
	case $r in /tmp/remora-it-*) echo "process left: ${p#/proc/} in $r"; left=1 ;; esac
done
[ $left -eq 0 ] && echo "nothing left"
exit $left
