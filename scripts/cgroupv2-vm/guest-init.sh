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
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs tmpfs /dev/shm
# Modules: configfs + null_blk give the tests a block device (nullb0);
# overlay for container rootfs.
for m in /modules/configfs.ko /modules/null_blk.ko /modules/overlay.ko; do
	[ -e "$m" ] && insmod "$m" 2>/dev/null
done
ip link set lo up 2>/dev/null
hostname cgroupv2-vm
echo "REMORA-VM: kernel $(uname -r), cgroup root: $(stat -f -c %T /sys/fs/cgroup)"
echo "REMORA-VM: controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
export RUST_BACKTRACE=1 HOME=/root TMPDIR=/tmp
[ -f /env ] && . /env
cd /
for t in /tests/*; do
	name=$(basename "$t")
	echo "REMORA-VM: BEGIN $name"
	"$t" --test-threads=1 --color never 2>&1
	echo "REMORA-VM: END $name rc=$?"
done
echo "REMORA-VM: DONE"
sync
poweroff -f
