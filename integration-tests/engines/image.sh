#!/bin/bash
# Build the local images every engine uses, from Debian's busybox-static
# (there is no registry here). Usage: image.sh OUTDIR
# Produces in OUTDIR:
#   rootfs/            busybox + one symlink per applet, /etc/passwd, /etc/group
#   rootfs.tar         that rootfs as a tarball (podman/docker import)
#   busybox-oci.tar    OCI image layout tarball, CMD /bin/sh (ctr images import)
#   pause-oci.tar      OCI image with catatonit as /pause -P (CRI sandbox image)
set -euo pipefail
out=$1
mkdir -p "$out"
cd "$out"
[ -f .done ] && exit 0

BUSYBOX=/bin/busybox
CATATONIT=$(readlink -f /usr/bin/catatonit)

rm -rf rootfs && mkdir -p rootfs/bin rootfs/etc rootfs/tmp rootfs/proc rootfs/sys \
	rootfs/dev rootfs/root rootfs/var/www rootfs/home/user
chmod 1777 rootfs/tmp
cp "$BUSYBOX" rootfs/bin/busybox
for applet in $("$BUSYBOX" --list); do
	[ "$applet" = busybox ] || ln -sf busybox "rootfs/bin/$applet"
done
cat >rootfs/etc/passwd <<'P'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat >rootfs/etc/group <<'G'
root:x:0:
user:x:1000:
nogroup:x:65534:
G
chown 1000:1000 rootfs/home/user
echo "hello from remora engines test" >rootfs/var/www/index.html
tar --numeric-owner -C rootfs -cf rootfs.tar .

# oci_image DIR TARBALL CONFIG-ARGS... : an OCI layout from rootfs content.
oci_image() {
	local dir=$1 tarball=$2 src=$3
	shift 3
	rm -rf "$dir" "$dir.bundle"
	umoci init --layout "$dir"
	umoci new --image "$dir:latest"
	umoci unpack --image "$dir:latest" "$dir.bundle"
	cp -a "$src"/. "$dir.bundle/rootfs/"
	umoci repack --image "$dir:latest" "$dir.bundle"
	umoci config --image "$dir:latest" "$@"
	umoci gc --layout "$dir"
	rm -rf "$dir.bundle"
	tar -C "$dir" -cf "$tarball" .
}

oci_image busybox-oci busybox-oci.tar rootfs --config.cmd /bin/sh

rm -rf pause-rootfs && mkdir -p pause-rootfs
cp "$CATATONIT" pause-rootfs/pause
oci_image pause-oci pause-oci.tar pause-rootfs --config.entrypoint /pause --config.cmd -P
touch .done
