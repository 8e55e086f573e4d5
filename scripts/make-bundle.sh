#!/bin/bash
# make-bundle.sh DIR [REMORA]: a small OCI bundle in DIR: rootfs/ from
# Debian's busybox-static (/bin/busybox plus one symlink per applet,
# minimal /etc/passwd and /etc/group) and config.json from `remora spec`,
# made non-interactive (process.terminal=false).
set -eu
dir=$1
remora=${2:-$("$(dirname "$0")/remora-bin.sh" release)}
[ -x /bin/busybox ] || { echo "make-bundle: /bin/busybox missing (apt-get install busybox-static)" >&2; exit 1; }
mkdir -p "$dir/rootfs"
root=$dir/rootfs
mkdir -p "$root"/{bin,etc,proc,sys,dev,tmp,root}
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
chmod 1777 "$root/tmp"
rm -f "$dir/config.json"
"$remora" spec -b "$dir"
sed -i 's/"terminal": true/"terminal": false/' "$dir/config.json"
