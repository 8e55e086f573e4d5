#!/bin/bash
# view-cgroup2.sh COMMAND...: run COMMAND in the cgroup2 view. Called
# through `unshare -m --propagation private`: in that private mount
# namespace the host's /sys/fs/cgroup (a tmpfs with the v1 hierarchies and
# the cgroup2 mount at unified/) is replaced by the cgroup2 hierarchy
# itself, which crun 1.8 needs (it refuses hybrid layouts). The host is
# not changed.
set -eu
umount -l /sys/fs/cgroup
mount -t cgroup2 cgroup2 /sys/fs/cgroup
exec "$@"
