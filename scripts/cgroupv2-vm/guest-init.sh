#!/bin/busybox sh
# PID 1 of the cgroup v2 test VM: mount a pure cgroup v2 layout, run every
# test binary under /tests, print results on the serial console, power off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
# The initramfs root cannot be pivot_root'ed away (containers need that):
# copy it to a tmpfs and switch to it first.
if [ ! -e /.in-tmpfs ]; then
	mkdir -p /newroot
	mount -t tmpfs -o mode=0755 tmpfs /newroot
	for f in /*; do
		[ "$f" = /newroot ] || cp -a "$f" /newroot/
	done
	touch /newroot/.in-tmpfs
	exec switch_root /newroot /init
fi
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
[ -f /env ] && . /env
if [ "${REMORA_VM_LAYOUT:-v2}" = v1 ]; then
	# Pure cgroup v1: a tmpfs with one hierarchy per controller.
	mount -t tmpfs -o mode=0755 cgroup /sys/fs/cgroup
	for c in cpu cpuacct cpuset memory devices freezer blkio pids hugetlb net_cls net_prio perf_event rdma; do
		mkdir -p /sys/fs/cgroup/$c
		mount -t cgroup -o $c cgroup /sys/fs/cgroup/$c || rmdir /sys/fs/cgroup/$c
	done
else
	mount -t cgroup2 cgroup2 /sys/fs/cgroup
fi
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs tmpfs /dev/shm
# Modules: configfs + null_blk give the tests a block device (nullb0);
# overlay for container rootfs.
for m in /modules/configfs.ko /modules/null_blk.ko /modules/overlay.ko; do
	[ -e "$m" ] && insmod "$m" 2>/dev/null
done
ip link set lo up 2>/dev/null
# A VM's own setup, when its script staged one (run-lsm.sh: the LSM).
[ -f /setup.sh ] && . /setup.sh
hostname cgroupv2-vm
echo "REMORA-VM: kernel $(uname -r), cgroup root: $(stat -f -c %T /sys/fs/cgroup)"
echo "REMORA-VM: controllers: $(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null || ls /sys/fs/cgroup | tr '\n' ' ')"
export RUST_BACKTRACE=1 HOME=/root TMPDIR=/tmp
cd /
for t in /tests/*; do
	name=$(basename "$t")
	echo "REMORA-VM: BEGIN $name"
	# --show-output: the SKIP lines of passing tests reach the report.
	# shellcheck disable=SC2086 # flags for libtest
	"$t" --test-threads=1 --color never ${REMORA_VM_TEST_ARGS:---show-output} 2>&1
	echo "REMORA-VM: END $name rc=$?"
done
echo "REMORA-VM: DONE"
sync
poweroff -f
