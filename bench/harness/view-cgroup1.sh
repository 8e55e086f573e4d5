#!/bin/bash
# view-cgroup1.sh COMMAND...: run COMMAND in the cgroup v1 view. Called
# through `unshare -m --propagation private`: in that private mount
# namespace the host's cgroup2 mount (/sys/fs/cgroup/unified, carrying only
# hugetlb here) is unmounted, so the host's hybrid layout reads as plain
# cgroup v1 (legacy), which crun 1.8 runs with its cgroup manager on (it
# refuses hybrid layouts). remora, runc and the engines use the same v1
# hierarchies as on the host. The host is not changed.
set -eu
umount -l /sys/fs/cgroup/unified
exec "$@"
